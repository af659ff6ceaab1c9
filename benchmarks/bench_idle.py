"""Where a warm ``dnamodel estimate`` leaves a core idle, and this checkout against another side by side (issue 22).

Usage: ``python benchmarks/bench_idle.py [--runs N] [--baseline SRC] [--trace]``.

Each run is a fresh process, ``dnamodel estimate --json --out NEW`` (a new folder: the decisive
assumptions' refits are computed, as on a fresh clone's ``make run``), with a warm numba cache. The
process's CPU time (``/proc/PID/stat``, user + system) is read every ``STEP`` seconds: a step in which
it used less than ``ONE_CORE`` cores is a step with a core idle (on a 2-core machine).

- With ``--baseline SRC`` (another checkout's source tree: ``git archive COMMIT | tar -x -C SRC``, run
  by this interpreter with ``PYTHONPATH=SRC``; one untimed run first fills its numba cache), the two
  alternate, the order flipped each round, and every run's outputs are compared with the first's:
  the JSON without its timings and paths, the CSV, the tables, the figures byte for byte, and the
  NetCDF's groups (values, not the file's bytes).
- With ``--trace``, one run of this checkout in this process, each status line stamped with its time,
  and the CPU read in a thread: the timeline of idle steps by the phase they fall in.

The table gives each run's wall and CPU time, its seconds with a core idle, and ``--json``'s timings.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STEP = 0.5
ONE_CORE = 1.5
"""Cores used in a step below which one core counts as idle (2 would be both, 1 one)."""
TICK = os.sysconf("SC_CLK_TCK")
PARTS = ("load", "sample", "rounds", "summary", "leave_one_out", "leave_one_source_out", "forecasts", "prior_check")
PARTS += ("assumptions", "outputs", "total")
VOLATILE = {"timings", "files", "seconds"}


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU seconds of a process (``/proc/PID/stat``'s fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def watch(pid: int | str, stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    """Append ``(time, CPU seconds)`` every ``STEP`` seconds until ``stop`` or the process ends."""
    while not stop.is_set():
        try:
            samples.append((time.perf_counter(), cpu_seconds(pid)))
        except (OSError, IndexError, ValueError):
            return
        stop.wait(STEP)


def idle_steps(samples: list[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """``(start, end, cores used)`` of each step in which fewer than ``ONE_CORE`` cores worked."""
    steps = []
    for (t0, c0), (t1, c1) in itertools.pairwise(samples):
        if t1 > t0 and (c1 - c0) / (t1 - t0) < ONE_CORE:
            steps.append((t0, t1, (c1 - c0) / (t1 - t0)))
    return steps


def run(kind: str, scratch: Path, baseline: str | None) -> dict[str, Any]:
    """One ``estimate`` process: wall, CPU, seconds with a core idle, timings and its output folder."""
    out = Path(tempfile.mkdtemp(dir=scratch, prefix=f"{kind}-"))
    env = dict(os.environ)
    if kind == "baseline":
        env["PYTHONPATH"] = str(baseline)
    command = [sys.executable, "-m", "dnamodel", "estimate", "--json", "--out", str(out)]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        cwd = baseline if kind == "baseline" else ROOT  # the folder first on sys.path: its dnamodel is imported
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr, text=True, cwd=cwd)
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(process.pid, stop, samples))
        watcher.start()
        code = process.wait()
        wall = time.perf_counter() - start
        stop.set()
        watcher.join()
        stdout.seek(0)
        stderr.seek(0)
        if code not in (0, 3):
            sys.exit(f"{kind}: exit {code}\n{stderr.read()[-2000:]}")
        result = json.load(stdout)
    idle = idle_steps(samples)
    return {
        "kind": kind,
        "wall": wall,
        "cpu": samples[-1][1] if samples else float("nan"),
        "idle": sum(t1 - t0 for t0, t1, _ in idle),
        "timings": result["timings"],
        "result": result,
        "out": out,
        "load": (load, os.getloadavg()[0]),
    }


def stable(value: Any) -> Any:
    """The JSON without what differs from run to run (timings, seconds, paths)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def differences(first: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """What of ``other``'s outputs differs from ``first``'s: the JSON, each file, the NetCDF's groups."""
    import arviz as az

    found = []
    if stable(first["result"]) != stable(other["result"]):
        found.append("the JSON")
    names = sorted(p.name for p in first["out"].iterdir() if p.is_file())
    if names != sorted(p.name for p in other["out"].iterdir() if p.is_file()):
        found.append(f"the files: {names}")
        return found
    for name in names:
        a, b = first["out"] / name, other["out"] / name
        if name.endswith(".nc"):
            left, right = az.from_netcdf(a, engine="h5netcdf"), az.from_netcdf(b, engine="h5netcdf")
            for group in left.groups():
                if not left[group].equals(right[group]):
                    found.append(f"{name}: {group}")
        elif a.read_bytes() != b.read_bytes():
            found.append(name)
    return found


def spread(values: list[float]) -> str:
    """Median (lowest–highest)."""
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def side_by_side(runs: int, baseline: str | None) -> None:
    """Alternate this checkout and the baseline, print the table and the outputs' differences."""
    kinds = ["this"] + (["baseline"] if baseline else [])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC; commit {commit.stdout.strip()}; {os.cpu_count()} CPUs; "
        f"load average at start {os.getloadavg()[0]:.2f}; baseline {baseline or 'none'}"
    )
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        if baseline:
            run("baseline", scratch, baseline)  # untimed: fills the baseline's numba cache
        for round_ in range(runs):
            for kind in kinds if round_ % 2 == 0 else kinds[::-1]:
                r = run(kind, scratch, baseline)
                results[kind].append(r)
                print(
                    f"  {time.strftime('%H:%M:%S')} {kind}: wall {r['wall']:.1f} s, idle {r['idle']:.1f} s, "
                    f"load {r['load'][0]:.2f} → {r['load'][1]:.2f}",
                    flush=True,
                )
        print()
        print("| measured | " + " | ".join(kinds) + " |")
        print("| --- | " + " | ".join("---:" for _ in kinds) + " |")
        rows = [
            ("**wall time, s**", lambda r: r["wall"]),
            ("CPU time, user + system, s", lambda r: r["cpu"]),
            (f"seconds with a core idle (< {ONE_CORE} cores in a {STEP} s step)", lambda r: r["idle"]),
        ]
        rows += [(f"`{part}`, s", lambda r, p=part: r["timings"].get(p)) for part in PARTS]
        for label, get in rows:
            values = {k: [v for v in (get(r) for r in results[k]) if v is not None] for k in kinds}
            cells = [spread(values[k] or [float("nan")]) for k in kinds]
            print(f"| {label} | " + " | ".join(cells) + " |")
        if baseline:
            pairs = zip(results["this"], results["baseline"], strict=True)
            ratios = [a["wall"] / b["wall"] for a, b in pairs]
            print(f"| **wall, this ÷ baseline** | {spread(ratios)} | |")
        everything = [r for k in kinds for r in results[k]]
        found = {i: differences(everything[0], r) for i, r in enumerate(everything[1:], 1)}
        print()
        if any(found.values()):
            for i, what in found.items():
                if what:
                    print(f"run {i} ({everything[i]['kind']}) differs from run 0 in: {', '.join(what)}")
        else:
            print(f"Outputs of all {len(everything)} runs identical (JSON without timings, files, NetCDF groups).")


@contextlib.contextmanager
def stamped(lines: list[tuple[float, str]]) -> Iterator[Any]:
    """The command line's status callback, recording each line with its time instead of drawing a spinner."""
    yield lambda line: lines.append((time.perf_counter(), line))


def trace() -> None:
    """One estimate in this process: its status lines and the steps with a core idle, on one timeline."""
    start = time.perf_counter()
    import dnamodel.cli.fits as fits
    from dnamodel.cli import main

    imported = time.perf_counter()
    lines: list[tuple[float, str]] = [(start, "imports"), (imported, "the command (reading data and spec)")]
    fits._status_line = lambda *, enabled: stamped(lines)  # type: ignore[assignment]
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=("self", stop, samples), daemon=True)
    watcher.start()
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(open(os.devnull, "w")):
        main(["estimate", "--json", "--out", out])
    end = time.perf_counter()
    stop.set()
    watcher.join()
    lines.append((end, "end"))
    print(f"{time.strftime('%Y-%m-%d %H:%M')} UTC; load average {os.getloadavg()[0]:.2f}; total {end - start:.1f} s")
    idle = idle_steps(samples)
    for (t, line), (t_next, _) in itertools.pairwise(lines):
        inside = [(a, b, c) for a, b, c in idle if t <= (a + b) / 2 < t_next]
        seconds = sum(b - a for a, b, _ in inside)
        print(f"t = {t - start:5.1f}–{t_next - start:5.1f} s: {seconds:4.1f} s with a core idle: {line}")
        for a, b, c in inside:
            print(f"      {a - start:5.1f}–{b - start:5.1f} s: {c:.2f} cores")


def main(argv: list[str]) -> None:
    """Parse the arguments and run."""
    runs, baseline, tracing = 2, None, False
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--runs":
            runs = int(args.pop(0))
        elif flag == "--baseline":
            baseline = str(Path(args.pop(0)).resolve())
        elif flag == "--trace":
            tracing = True
        else:
            sys.exit(__doc__)
    if tracing:
        trace()
    else:
        side_by_side(runs, baseline)


if __name__ == "__main__":
    main(sys.argv[1:])
