"""The dated model as the programme grows: synthetic programmes of 77, 300, 1,000 and 3,000 units.

For each size, ``dnamodel.synthetic(folder, units=U, groups=G, seed=SEED)`` writes a data folder, a dated
spec and the truth (its observations, by default, ``max(12, U // 10)``: counts of single units,
increments, a coverage, bounds, the region's database). Each size is fitted twice: with the offset δ
of reported units in the spec, as the shipped model has it, and without (``reported_effect=False``:
the synthetic reporting units are a random sample, so δ is 0 in truth and both specs are the model
the data come from). Then, in a fresh process (this script with ``--worker FOLDER``), with the
libraries imported before the clock starts:

1. **Fit**: ``load_data``, ``dnamodel.fit`` of the spec at its own settings (4 chains × 2,000 draws
   after 1,000 tuning steps, target acceptance 0.95, on 2 cores) and ``dnamodel.diagnose``: the wall
   time of the three, split by the fit's own timings (``load``: resolve, pack and nutpie's set-up;
   ``sample``; ``derive``: the InferenceData), and the gates.
2. **The truth**: whether the true total lies in the fit's 90% interval, and how many of the scalar
   parameters' truths lie in theirs.
3. **The gradient**: ``dated_kernel.logp_grad`` on the packed vector at a posterior draw, called in a
   compiled loop (no Python between calls): median of 7 repeats, per call and per unit. Its ratio to
   the smallest programme's per-unit time, in the same run, is 1 for a cost linear in the units.

The sizes run one after another, smallest first, and then again in reverse order, so that a change in
the machine's load touches both ends: each figure is the median of the two (the range beside it).

Run: ``make bench-scale`` (about 10 minutes). ``--sizes 77,300`` picks sizes, ``--rounds N`` the
rounds (default 2). Prints Markdown.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = {77: 7, 300: 12, 1000: 20, 3000: 30}
"""Units, and the groups they fall in (77 in 7, as the bundled case study's; 3,000 in 30, a country's)."""
SEED = 20240601
GOAL_SECONDS = 60.0
SOURCES = ("dnamodel/inference/dated.py", "dnamodel/inference/dated_kernel.py", "dnamodel/data/synthetic.py")
LOAD: list[float] = []


def worker(folder: str) -> None:
    """Fit one synthetic programme; print the timings, gates, truth coverage and gradient cost as JSON."""
    import arviz as az  # noqa: F401  (imported before the clock starts)
    import numpy as np
    import nutpie  # noqa: F401

    import dnamodel
    from dnamodel.families import load_model
    from dnamodel.inference.dated import pack
    from dnamodel.spec.dated import resolve_dated

    root = Path(folder)
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    data = dnamodel.load_data(root / "data")
    loaded = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    idata = dnamodel.fit(root / "models" / "dated.toml", data=data)
    after = resource.getrusage(resource.RUSAGE_SELF)
    fitted = time.perf_counter()
    gates = dnamodel.diagnose(idata)
    done = time.perf_counter()
    timings = json.loads(idata.attrs["timings_json"])

    post, stats = idata.posterior, idata.sample_stats
    covered = {}
    for name, value in [("total", truth["total"]), *truth["parameters"].items()]:
        low, high = np.quantile(post[name].values, [0.05, 0.95])
        covered[name] = {"truth": value, "low": float(low), "high": float(high), "inside": bool(low <= value <= high)}

    # the gradient's cost, in a compiled loop at a posterior draw
    inputs = resolve_dated(load_model(root / "models" / "dated.toml"), data)
    gradient = gradient_seconds(pack(inputs), np.ascontiguousarray(post["unconstrained"].values[0, -1]))
    depth = stats["tree_depth"].values
    print(
        json.dumps(
            {
                "units": len(inputs.unit),
                "groups": len(inputs.group),
                "observations": len(inputs.observation),
                "ndim": int(post["unconstrained"].shape[-1]),
                "wall": done - started,
                "load_data": loaded - started,
                "fit": fitted - loaded,
                "diagnose": done - fitted,
                "fit_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                "timings": timings,
                "gradient": gradient,
                "depth_mean": float(depth.mean()),
                "depth_max": int(depth.max()),
                "at_max_depth": float(stats["maxdepth_reached"].values.mean()),
                "steps": float(stats["n_steps"].values.mean()),
                "divergences": gates.divergences,
                "max_rhat": gates.max_rhat,
                "max_rhat_variable": gates.max_rhat_variable,
                "min_ess_bulk": gates.min_ess_bulk,
                "min_ess_tail": gates.min_ess_tail,
                "total_ess_bulk": next(r.ess_bulk for r in gates.rows if r.name == "total"),
                "passed": gates.passed,
                "failures": list(gates.failures),
                "covered": covered,
                "draws": int(post.sizes["draw"]),
                "chains": int(post.sizes["chain"]),
                "target_accept": float(idata.attrs["target_accept"]),
                "tune": int(idata.attrs["tune"]),
            }
        )
    )


def gradient_seconds(packed: Any, x: Any) -> float:
    """Seconds per call of ``dated_kernel.logp_grad`` at ``x``: a compiled loop, median of 7 repeats."""
    import numba
    import numpy as np

    from dnamodel.inference import dated_kernel

    @numba.njit
    def repeat(x: Any, packed: Any, grad: Any, n: int) -> float:
        total = 0.0
        for _ in range(n):
            total += dated_kernel.logp_grad(x, packed, grad)
        return total

    grad = np.zeros_like(x)
    repeat(x, packed, grad, 1)
    calls = max(20, int(2e7 / packed.size))
    seconds = []
    for _ in range(7):
        begin = time.perf_counter()
        repeat(x, packed, grad, calls)
        seconds.append((time.perf_counter() - begin) / calls)
    return statistics.median(seconds)


def gradient_worker(folder: str) -> None:
    """The gradient alone, at the priors' centres jittered by U(−0.5, 0.5): resolve, pack and time it."""
    import numpy as np

    import dnamodel
    from dnamodel.families import load_model
    from dnamodel.inference.dated import initial_point, pack
    from dnamodel.spec.dated import resolve_dated

    root = Path(folder)
    started = time.perf_counter()
    data = dnamodel.load_data(root / "data")
    loaded = time.perf_counter()
    inputs = resolve_dated(load_model(root / "models" / "dated.toml"), data)
    resolved = time.perf_counter()
    packed = pack(inputs)
    packed_at = time.perf_counter()
    x = initial_point(inputs)
    x = x + np.random.default_rng(1).uniform(-0.5, 0.5, x.size)
    result = {
        "units": len(inputs.unit),
        "observations": len(inputs.observation),
        "ndim": int(x.size),
        "load_data": loaded - started,
        "resolve": resolved - loaded,
        "pack": packed_at - resolved,
        "gradient": gradient_seconds(packed, x),
    }
    print(json.dumps(result))


def fit(folder: Path, mode: str = "--worker") -> dict[str, Any]:
    """One worker process (``--worker``: a fit; ``--gradient``: the gradient alone); its JSON and wall time."""
    argv = [sys.executable, __file__, mode, str(folder)]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    LOAD.append(os.getloadavg()[0])
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"process": wall}


def header() -> str:
    """Date, machine, versions, commit and source hashes."""
    from importlib.metadata import version

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", *SOURCES], capture_output=True, text=True, cwd=ROOT)
    hashes = ", ".join(f"`{Path(p).name}` {hashlib.sha256((ROOT / p).read_bytes()).hexdigest()[:12]}" for p in SOURCES)
    packages = ", ".join(f"{name} {version(name)}" for name in ("nutpie", "numba", "numpy", "arviz"))
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} CPUs; Python {platform.python_version()}, {packages}; "
        f"commit {commit.stdout.strip()}{' (sources modified)' if dirty.stdout.strip() else ''}; {hashes}; "
        f"load average at start {' / '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )


def middle(values: list[float], fmt: str) -> str:
    """Median, and the range when there is more than one value."""
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def report(results: dict[int, list[dict[str, Any]]]) -> None:
    """The table: one column per size."""
    sizes = sorted(results)
    smallest = sizes[0]
    base_gradient = [r["gradient"] / r["units"] for r in results[smallest]]
    base_wall = [r["wall"] for r in results[smallest]]

    def row(label: str, values: dict[int, str]) -> None:
        print(f"| {label} | " + " | ".join(values[s] for s in sizes) + " |")

    def each(key: Any, fmt: str) -> dict[int, str]:
        return {s: middle([key(r) for r in results[s]], fmt) for s in sizes}

    first = results[smallest][0]
    print(
        f"Each programme fitted at its spec's settings: {first['chains']} chains × {first['draws']:,} draws after "
        f"{first['tune']:,} tuning steps, target acceptance {first['target_accept']}; {len(results[smallest])} "
        "rounds: median (range).\n"
    )
    row("units", {s: f"**{s:,}**" for s in sizes})
    row("---", {s: "---:" for s in sizes})
    row("groups, observations", {s: f"{results[s][0]['groups']}, {results[s][0]['observations']}" for s in sizes})
    row("free parameters", {s: f"{results[s][0]['ndim']:,}" for s in sizes})
    row(
        f"**wall time: `load_data`, `fit`, `diagnose`, s** (goal ≤ {GOAL_SECONDS:.0f} s at 3,000)",
        each(lambda r: r["wall"], "{:.1f}"),
    )
    row("… `fit`'s `load` (resolve, pack, nutpie's set-up), s", each(lambda r: r["timings"]["load"], "{:.2f}"))
    row("… `fit`'s `sample`, s", each(lambda r: r["timings"]["sample"], "{:.1f}"))
    row("… `fit`'s `derive` (the InferenceData), s", each(lambda r: r["timings"]["derive"], "{:.2f}"))
    row("… `diagnose`, s", each(lambda r: r["diagnose"], "{:.2f}"))
    row("… `load_data`, s", each(lambda r: r["load_data"], "{:.2f}"))
    row(
        "CPU time of `fit`, all threads, s (÷ 2 cores: its wall time on an idle machine, at best)",
        each(lambda r: r["fit_cpu"], "{:.1f}"),
    )
    row("whole process (imports included), s", each(lambda r: r["process"], "{:.1f}"))
    row(
        f"wall time ÷ {smallest} units' (same round)",
        {s: middle([r["wall"] / b for r, b in zip(results[s], base_wall, strict=True)], "{:.1f}×") for s in sizes},
    )
    row(f"units ÷ {smallest}", {s: f"{s / smallest:.1f}×" for s in sizes})
    row("**gradient (`logp_grad`), µs per call**", each(lambda r: r["gradient"] * 1e6, "{:,.1f}"))
    row("gradient, ns per unit", each(lambda r: r["gradient"] / r["units"] * 1e9, "{:.1f}"))
    row(
        f"**gradient per unit ÷ {smallest} units'** (1 = linear)",
        {
            s: middle(
                [r["gradient"] / r["units"] / b for r, b in zip(results[s], base_gradient, strict=True)], "{:.2f}×"
            )
            for s in sizes
        },
    )
    row("leapfrog steps per draw", each(lambda r: r["steps"], "{:.1f}"))
    row(
        "tree depth: mean, largest",
        {s: f"{results[s][0]['depth_mean']:.2f}, {results[s][0]['depth_max']}" for s in sizes},
    )
    row("divergences", {s: ", ".join(str(r["divergences"]) for r in results[s]) for s in sizes})
    row(
        "largest R-hat (variable)",
        {s: f"{results[s][0]['max_rhat']:.4f} ({results[s][0]['max_rhat_variable']})" for s in sizes},
    )
    row(
        "smallest bulk, tail ESS of a gated scalar",
        {s: f"{results[s][0]['min_ess_bulk']:,.0f}, {results[s][0]['min_ess_tail']:,.0f}" for s in sizes},
    )
    row(
        "draws, all chains, the ESS gate needs at this ESS per draw",
        each(lambda r: r["draws"] * r["chains"] * 400 / min(r["min_ess_bulk"], r["min_ess_tail"]), "{:,.0f}"),
    )
    row("**gates**", {s: ", ".join("passed" if r["passed"] else "failed" for r in results[s]) for s in sizes})
    row(
        "**true total in the 90% interval**",
        {s: ", ".join("yes" if r["covered"]["total"]["inside"] else "no" for r in results[s]) for s in sizes},
    )
    row(
        "true total; 90% interval",
        {
            s: f"{results[s][0]['covered']['total']['truth']:,.0f}; {results[s][0]['covered']['total']['low']:,.0f} to "
            f"{results[s][0]['covered']['total']['high']:,.0f}"
            for s in sizes
        },
    )

    def scalars_inside(r: dict[str, Any]) -> str:
        inside = [v["inside"] for k, v in r["covered"].items() if k != "total"]
        return f"{sum(inside)} of {len(inside)}"

    row("scalar truths in their 90% intervals", {s: ", ".join(scalars_inside(r) for r in results[s]) for s in sizes})
    print()
    for s in sizes:  # the same seed gives the same draws in every round: each failure once
        for failures in dict.fromkeys("; ".join(r["failures"]) for r in results[s] if r["failures"]):
            print(f"- {s:,} units: {failures}")
    print()


def gradient_report(results: dict[int, list[dict[str, Any]]]) -> None:
    """The gradient alone, at sizes up to ten times the goal's: whether its cost is linear in the units."""
    sizes = sorted(results)
    base = statistics.median(r["gradient"] / r["units"] for r in results[sizes[0]])
    print("### The gradient alone, and what comes before sampling\n")
    print(
        "Each programme (δ in the spec; groups of about 100 units beyond 3,000) resolved, packed and its gradient "
        f"timed at the priors' centres jittered by U(−0.5, 0.5), in a fresh process; {len(results[sizes[0]])} "
        "processes each: median.\n"
    )
    columns = ["units", "observations", "free parameters", "`load_data`, s", "`resolve_dated`, s", "`pack`, s"]
    columns += ["gradient, µs", "ns per unit", "per unit ÷ smallest's"]
    print("| " + " | ".join(columns) + " |")
    print("|" + " ---: |" * len(columns))
    for s in sizes:
        runs = results[s]
        med = {key: statistics.median(r[key] for r in runs) for key in ("load_data", "resolve", "pack", "gradient")}
        per_unit = statistics.median(r["gradient"] / r["units"] for r in runs)
        cells = [f"{s:,}", f"{runs[0]['observations']:,}", f"{runs[0]['ndim']:,}", f"{med['load_data']:.2f}"]
        cells += [f"{med['resolve']:.3f}", f"{med['pack']:.3f}", f"{med['gradient'] * 1e6:,.1f}"]
        cells += [f"{per_unit * 1e9:.1f}", f"{per_unit / base:.2f}×"]
        print("| " + " | ".join(cells) + " |")
    print()


def main() -> None:
    """Generate each programme, fit it in fresh processes, and print the table."""
    import dnamodel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="units, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the sizes (alternating order)")
    parser.add_argument("--variants", default="with,without", help="δ in the spec: with, without, or both")
    parser.add_argument(
        "--gradient-sizes", default="77,300,1000,3000,10000,30000", help="units for the gradient alone (no fit)"
    )
    args = parser.parse_args()
    if not Path(dnamodel.__file__).resolve().is_relative_to(ROOT):
        sys.exit(f"dnamodel is imported from {dnamodel.__file__}, not from {ROOT}")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    began = time.perf_counter()
    print(header() + "\n")
    variants = args.variants.split(",")
    cases = [(v, s) for v in variants for s in sizes]
    results: dict[tuple[str, int], list[dict[str, Any]]] = {case: [] for case in cases}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        folders = {}
        for v, s in cases:
            folders[v, s] = Path(scratch) / f"{v}-{s}"
            groups = SIZES.get(s, max(2, round(s**0.5 / 2)))
            dnamodel.synthetic(folders[v, s], units=s, groups=groups, reported_effect=v == "with", seed=SEED)
        fit(folders[cases[0]])  # numba's cache and the imports warm: not counted
        for k in range(args.rounds):
            for case in cases if k % 2 == 0 else reversed(cases):
                results[case].append(fit(folders[case]))
        gradients = {}
        for s in sorted(int(u) for u in args.gradient_sizes.split(",") if u):
            folder = Path(scratch) / f"gradient-{s}"
            dnamodel.synthetic(folder, units=s, groups=SIZES.get(s, max(2, s // 100)), seed=SEED)
            gradients[s] = [fit(folder, "--gradient") for _ in range(args.rounds)]
    for v in variants:
        print(f"### δ (the offset of reported units) {'in' if v == 'with' else 'not in'} the spec\n")
        report({s: results[v, s] for s in sizes})
    if gradients:
        gradient_report(gradients)
    print(
        f"Whole benchmark: {(time.perf_counter() - began) / 60:.1f} min. 1-minute load average after each of its "
        f"{len(LOAD)} child processes: {min(LOAD):.1f}–{max(LOAD):.1f} (median {statistics.median(LOAD):.1f}). "
        "Command: `make bench-scale` (that is, `.venv/bin/python benchmarks/bench_scale.py`)."
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2])
    elif sys.argv[1:2] == ["--gradient"]:
        gradient_worker(sys.argv[2])
    else:
        main()
