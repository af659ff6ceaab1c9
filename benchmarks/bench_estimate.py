"""``dnamodel estimate`` with every check, adaptive draws against a fixed number, fresh processes (issue 22).

Usage: ``python benchmarks/bench_estimate.py [--runs N] [--baseline SRC] [--assumptions DIR]``.

Each round runs, one after another in fresh processes (warm compile caches), ``dnamodel estimate
--json --out DIR --assumptions cached``:

- ``adaptive``: this checkout at its spec's settings (the bundled ``draws = "auto"``);
- ``fixed``: this checkout with ``--draws 6000`` (the bundled spec's fixed number before adaptive draws);
- ``baseline`` (with ``--baseline SRC``): another checkout's source tree (``git archive COMMIT | tar -x
  -C SRC``), run by this interpreter with ``PYTHONPATH=SRC``; its first run compiles its own numba
  cache, so one untimed run of it comes first.

``--assumptions DIR`` copies DIR's cached decisive-assumption refits into each output folder first
(they are read, not computed: ``--assumptions cached``). The table gives each part's median (range)
from ``--json``'s ``timings``, the process's wall and CPU time, the draws per chain and the rounds,
and the ratios the issue sets targets for: wall ÷ the main fit's sampling (≤ 2.5×), wall (≤ 15 s).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PARTS = (
    "load",
    "sample",
    "rounds",
    "derive",
    "summary",
    "predictive_checks",
    "leave_one_out",
    "leave_one_source_out",
    "forecasts",
    "prior_check",
    "assumptions",
    "outputs",
    "total",
)


def run(kind: str, scratch: Path, baseline: str | None, assumptions: str | None) -> dict[str, Any]:
    """One ``estimate`` process of ``kind``; its timings, wall and CPU time, draws and rounds."""
    out = Path(tempfile.mkdtemp(dir=scratch, prefix=f"{kind}-"))
    if assumptions:
        shutil.copytree(assumptions, out, dirs_exist_ok=True)
    command = [sys.executable, "-m", "dnamodel", "estimate", "--json", "--out", str(out), "--assumptions", "cached"]
    env = dict(os.environ)
    if kind == "fixed":
        command += ["--draws", "6000"]
    if kind == "baseline":
        env["PYTHONPATH"] = str(baseline)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=baseline if kind == "baseline" else ROOT
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 3):
        sys.exit(f"{kind}: exit {done.returncode}\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    provenance = result["summary"]["provenance"]
    return {
        "kind": kind,
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "timings": result["timings"],
        "draws": provenance["draws"],
        "rounds": provenance.get("draw_rounds", [provenance["draws"]]),
        "cited": result["summary"]["sentence"] is not None,
        "passed": all(row["passed"] for row in result["summary"]["diagnostics"]["rows"])
        and not result["summary"]["diagnostics"]["failures"],
        "load": os.getloadavg()[0],
    }


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """Median (lowest–highest)."""
    if not values:
        return "—"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main(argv: list[str]) -> None:
    """Run the rounds and print the table."""
    runs, baseline, assumptions = 2, None, None
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--runs":
            runs = int(args.pop(0))
        elif flag == "--baseline":
            baseline = str(Path(args.pop(0)).resolve())
        elif flag == "--assumptions":
            assumptions = str(Path(args.pop(0)).resolve())
        else:
            sys.exit(__doc__)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    kinds = ["adaptive", "fixed"] + (["baseline"] if baseline else [])
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC; commit {commit.stdout.strip()}; {os.cpu_count()} CPUs; "
        f"load average at start {os.getloadavg()[0]:.2f}; baseline {baseline or 'none'}"
    )
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as scratch:
        if baseline:
            run("baseline", Path(scratch), baseline, assumptions)  # untimed: fills the baseline's numba cache
        for _ in range(runs):
            for kind in kinds:
                results[kind].append(run(kind, Path(scratch), baseline, assumptions))
    print()
    print("| measured | " + " | ".join(kinds) + " |")
    print("| --- | " + " | ".join("---:" for _ in kinds) + " |")
    rows = [("**wall time, s**", lambda r: r["wall"]), ("CPU time, user + system, s", lambda r: r["cpu"])]
    rows += [(f"`{part}` (as printed), s", lambda r, p=part: r["timings"].get(p)) for part in PARTS]
    for label, get in rows:
        cells = []
        for kind in kinds:
            values = [get(r) for r in results[kind] if get(r) is not None]
            cells.append(spread(values))
        if any(c != "—" for c in cells):
            print(f"| {label} | " + " | ".join(cells) + " |")
    print(
        "| **wall ÷ the main fit's sampling** (target ≤ 2.5×) | "
        + " | ".join(spread([r["wall"] / r["timings"]["sample"] for r in results[k]], "{:.2f}×") for k in kinds)
        + " |"
    )
    print(
        "| draws per chain (rounds) | "
        + " | ".join(
            ", ".join(f"{r['draws']:,} ({' → '.join(f'{n:,}' for n in r['rounds'])})" for r in results[k])
            for k in kinds
        )
        + " |"
    )
    print(
        "| gates passed, sentence given | "
        + " | ".join(
            f"{sum(r['passed'] for r in results[k])} of {runs}, {sum(r['cited'] for r in results[k])} of {runs}"
            for k in kinds
        )
        + " |"
    )
    print(
        "| 1-minute load average after each run | "
        + " | ".join(spread([r["load"] for r in results[k]]) for k in kinds)
        + " |"
    )
    for kind in kinds:
        walls = [r["wall"] for r in results[kind]]
        print(f"\n{kind}: wall {', '.join(f'{w:.1f}' for w in walls)} s")
    if baseline:
        pairs = [a["wall"] / b["wall"] for a, b in zip(results["adaptive"], results["baseline"], strict=True)]
        print(f"adaptive ÷ baseline, wall, per round: {', '.join(f'{p:.2f}×' for p in pairs)}")
    pairs = [
        a["timings"]["sample"] / f["timings"]["sample"]
        for a, f in zip(results["adaptive"], results["fixed"], strict=True)
    ]
    print(f"adaptive ÷ fixed 6,000, sampling, per round: {', '.join(f'{p:.2f}×' for p in pairs)}")


if __name__ == "__main__":
    main(sys.argv[1:])
