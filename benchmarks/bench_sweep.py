"""A 20-point sweep against 20 independent fits of the same 20 specs, in one run.

The default model (``dated``): the sweep varies the prior scale of the Han contrast θ,
``fraction.contrast.sigma``, over 20 values (0.2 to 3, geometric). The dated model's density is
compiled once per machine (numba's disk cache), so a sweep point costs a new packed vector and its
sampling. Measured, each at the spec's sampler settings (4 chains x 2,500 draws after 1,000 tuning
steps) and seed:

- the sweep in this process, one point at a time (``threads=1``; each point's chains on both cores);
- the sweep in two threads of this process (``threads=2``, the default on 2 cores; each point's
  chains on one core);
- the sweep on a dask ``LocalCluster`` of 2 worker processes of one thread each, cluster start-up
  included (each worker loads the compiled density from the disk cache once);
- the baseline: 20 ``dnamodel estimate SPEC.toml --no-loo --json`` runs, each a fresh process, as a
  user without sweeps would run them (each writes its NetCDF, CSV and figures);
- and 20 ``fit_dated`` calls in this process (no process start, no outputs), whose sampling time
  summed is what sampling alone costs, one point at a time.

Every way must give every point's posterior median of the total exactly (same seed, same draws), or
the script stops. Each way is timed in wall and CPU seconds (this process's threads and the child
processes it waited for); the two sweeps in this process run again at the end, in the other order,
because the machine is shared and its load drifts. ``--hierarchical`` runs the comparison model's
benchmark instead (the old one: a sweep compiles once, each independent ``fit`` compiles).

Every sweep in that comparison is cold (``warm=False``): each point re-tunes from scratch, as before
issue 22. ``--target`` measures issue 22's target instead: a sweep whose points start from the spec's
own fit (the default, ``warm=True``) against the same sweep cold and against ``--points`` fresh
``dnamodel estimate SPEC --no-loo`` processes, in one run; the warm sweep runs again at the end. The
cold sweep and the processes must give every point's median exactly; the warm sweep's must agree
with them within 4 Monte Carlo standard errors (each from its point's ESS of the total).

Run: ``make bench-sweep`` (about 35 minutes on 2 cores; ``--points`` and ``--draws`` for a quick
look), or ``python benchmarks/bench_sweep.py --target --points 10`` (about 10 minutes). Prints Markdown.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from dnamodel.families import load_model
from dnamodel.workflows.sweep import sweep

PATH = "fraction.contrast.sigma"
ROOT = Path(__file__).resolve().parent.parent


def _values(points: int) -> list[float]:
    return [round(float(v), 4) for v in np.geomspace(0.2, 3.0, points)]


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


class Clock:
    """Wall time and CPU time (this process's threads, and children it has waited for) of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu() - self.cpu


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def dated(points: int, draws: int | None, tune: int | None) -> None:
    """The dated model's benchmark: three ways of sweeping against two ways of fitting one by one."""
    import distributed

    from dnamodel.families import point_spec
    from dnamodel.inference.dated import fit_dated

    spec = load_model("dated")
    values = _values(points)
    grid = {PATH: values}
    settings = {"draws": draws, "tune": tune}
    shown_draws = draws or spec.sampler.draws
    shown_tune = tune or spec.sampler.tune
    rows: list[tuple[str, Clock, str]] = []
    medians: dict[str, list[float]] = {}
    started = time.perf_counter()
    load_at_start = _load()

    def record(label: str, clock: Clock, found: list[float]) -> None:
        rows.append((label, clock, _load()))
        medians[label] = found
        print(f"{label}: {clock.wall:.1f} s wall, {clock.cpu:.1f} s CPU, load {rows[-1][2]}", file=sys.stderr)

    serial_label = "`sweep`, one point at a time (`threads=1`; each point's chains on 2 cores)"
    threads_label = "`sweep`, 2 threads of one process (`threads=2`, the default here; 1 core each)"
    with Clock() as clock:
        serial = sweep(spec, grid, threads=1, warm=False, **settings)
    record(serial_label, clock, serial["total_median"].values.tolist())

    with Clock() as clock:
        threaded = sweep(spec, grid, threads=2, warm=False, **settings)
    record(threads_label, clock, threaded["total_median"].values.tolist())

    with (
        Clock() as clock,
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = sweep(spec, grid, client=client, warm=False, **settings)
    record(
        "`sweep` on a dask `LocalCluster` of 2 single-thread workers (its start-up included)",
        clock,
        remote["total_median"].values.tolist(),
    )

    # the baseline: a user without sweeps edits the spec and runs estimate, 20 times
    process_seconds, process_medians = [], []
    with tempfile.TemporaryDirectory() as folder, Clock() as clock:
        for i, value in enumerate(values):
            spec_file = Path(folder) / f"dated_{i}.toml"
            spec_file.write_text(_with_contrast_sigma(spec.text, value), encoding="utf-8")
            command = [sys.executable, "-m", "dnamodel", "estimate", str(spec_file), "--no-loo", "--json"]
            command += ["--out", str(Path(folder) / f"out_{i}")]
            command += [a for k, v in settings.items() if v is not None for a in (f"--{k}", str(v))]
            begin = time.perf_counter()
            run = subprocess.run(command, capture_output=True, text=True, check=False)
            process_seconds.append(time.perf_counter() - begin)
            if run.returncode not in (0, 3):
                raise SystemExit(f"estimate failed ({run.returncode}): {run.stderr[-2000:]}")
            process_medians.append(json.loads(run.stdout)["summary"]["total"]["median"])
    estimate_label = f"baseline: {points} × `dnamodel estimate SPEC --no-loo`, each a fresh process"
    record(estimate_label, clock, process_medians)

    fit_seconds, sample_seconds, fit_medians = [], [], []
    with Clock() as clock:
        for value in values:
            point = point_spec(spec.path, _with_contrast_sigma(spec.text, value), {})
            begin = time.perf_counter()
            fit = fit_dated(point, draws=draws, tune=tune)
            fit_seconds.append(time.perf_counter() - begin)
            sample_seconds.append(fit.timings["sample"])
            fit_medians.append(float(np.median(fit.idata.posterior["total"].values)))
    fit_label = f"{points} × `fit_dated` in this process"
    record(fit_label, clock, fit_medians)

    # again, in the other order: the machine is shared, and its load drifts over half an hour
    with Clock() as clock:
        again = sweep(spec, grid, threads=2, warm=False, **settings)
    record(threads_label + ", again", clock, again["total_median"].values.tolist())
    with Clock() as clock:
        again = sweep(spec, grid, threads=1, warm=False, **settings)
    record(serial_label + ", again", clock, again["total_median"].values.tolist())

    reference = medians[serial_label]
    for name, found in medians.items():
        if found != reference:
            worst = max(abs(a - b) for a, b in zip(found, reference, strict=True))
            raise SystemExit(f"{name}: medians differ from the serial sweep's by up to {worst:,.1f}")

    baseline = next(clock for label, clock, _ in rows if label == estimate_label)
    in_process = next(clock for label, clock, _ in rows if label == fit_label)
    print(
        f"# Sweep benchmark, dated model ({time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs)\n"
    )
    print(
        f"{points} points of `{PATH}` ({values[0]} to {values[-1]}), {spec.sampler.chains} chains × {shown_draws:,} "
        f"draws after {shown_tune:,}, seed {spec.sampler.seed}. Load average (1, 5, 15 min) at start: "
        f"{load_at_start}.\n"
    )
    print(
        "| measured | wall s | per point s | baseline ÷ this, wall | baseline ÷ this, CPU | `fit_dated` ÷ this, "
        "wall | CPU s | load after |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, clock, load in rows:
        print(
            f"| {label} | {clock.wall:.1f} | {clock.wall / points:.2f} | {baseline.wall / clock.wall:.2f}× "
            f"| {baseline.cpu / clock.cpu:.2f}× | {in_process.wall / clock.wall:.2f}× | {clock.cpu:.1f} | {load} |"
        )
    floor = sum(sample_seconds)
    print(
        f"| sampling alone, summed over the {points} `fit_dated` calls | {floor:.1f} | {floor / points:.2f} "
        f"| {baseline.wall / floor:.2f}× | | {in_process.wall / floor:.2f}× | | |"
    )
    print(
        f"\nEvery way gave every point's median of the total exactly. Points that passed their gates: "
        f"{int(serial['passed'].sum())} of {points}. Median `estimate` process: "
        f"{float(np.median(process_seconds)):.1f} s; median `fit_dated`: {float(np.median(fit_seconds)):.1f} s, "
        f"of which sampling {float(np.median(sample_seconds)):.1f} s. "
        f"Whole benchmark: {(time.perf_counter() - started) / 60:.1f} min."
    )


def _with_contrast_sigma(text: str, value: float) -> str:
    """The dated spec's text with θ's prior scale set, as a user would edit it."""
    old = 'contrast = { dist = "normal", mu = 0.0, sigma = 1.5 }'
    if old not in text:
        raise SystemExit("the dated spec's contrast prior is not where this benchmark edits it")
    return text.replace(old, f'contrast = {{ dist = "normal", mu = 0.0, sigma = {value} }}')


def hierarchical(points: int) -> None:
    """The comparison model's benchmark: one compile for the sweep against one per independent fit."""
    from dnamodel.checks.summary import summarize_fit
    from dnamodel.inference import sampling
    from dnamodel.inference.sampling import fit_hierarchical, quiet_arviz
    from dnamodel.spec.hierarchical import parse_hierarchical

    path = "fraction.beta.sigma"
    values = _values(points)
    quiet_arviz()
    spec = load_model("hierarchical_han")
    sampling._COMPILED.clear()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        swept = sweep(spec, {path: values}, out=Path(folder) / "bench.nc", processes=1)
        sweep_seconds = time.perf_counter() - start

    fit_seconds, medians, mcses = [], [], []
    for value in values:
        raw = copy.deepcopy(spec.raw)
        raw["fraction"]["beta"]["sigma"] = value
        point = parse_hierarchical(raw, spec.text + f"\n# {path} = {value}", spec.path)
        sampling._COMPILED.clear()  # an independent fit: nothing compiled before it
        start = time.perf_counter()
        idata, _ = fit_hierarchical(point)
        fit_seconds.append(time.perf_counter() - start)
        summary = summarize_fit(idata)
        medians.append(summary.total.median)
        mcses.append(summary.total.mcse_median)

    for value, median, mcse, swept_median in zip(values, medians, mcses, swept["total_median"].values, strict=True):
        if abs(median - swept_median) > 4 * math.sqrt(2) * mcse:
            raise SystemExit(f"{path}={value}: sweep {swept_median:,.0f} against fit {median:,.0f} (MCSE {mcse:,.0f})")

    total_fits = sum(fit_seconds)
    print(f"# Sweep benchmark, hierarchical_han ({time.strftime('%Y-%m-%d %H:%M')}, {platform.python_version()})\n")
    print("| measured | seconds | baseline (same run) | seconds | speed-up |")
    print("| --- | ---: | --- | ---: | ---: |")
    print(
        f"| `sweep`, {points} points of `{path}` | {sweep_seconds:.1f} | {points} independent `fit` calls "
        f"| {total_fits:.1f} | {total_fits / sweep_seconds:.1f}× |"
    )
    worst = max(abs(m - s) / c for m, s, c in zip(medians, swept["total_median"].values, mcses, strict=True))
    print(f"\nLargest difference of a point's median between sweep and fit: {worst:.2f} MCSE of the median.")


def _estimates(spec, values, settings, folder) -> tuple[list[float], list[float]]:
    """Fresh ``dnamodel estimate SPEC --no-loo --json`` processes, one per value: their medians and seconds."""
    medians, seconds = [], []
    for i, value in enumerate(values):
        spec_file = Path(folder) / f"dated_{i}.toml"
        spec_file.write_text(_with_contrast_sigma(spec.text, value), encoding="utf-8")
        # no refits of the decisive assumptions: a fit, its gates and its outputs, as issue 22's baseline
        command = [sys.executable, "-m", "dnamodel", "estimate", str(spec_file), "--no-loo", "--assumptions", "off"]
        command += ["--json", "--out", str(Path(folder) / f"out_{i}")]
        command += [a for k, v in settings.items() if v is not None for a in (f"--{k}", str(v))]
        begin = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - begin)
        if run.returncode not in (0, 3):
            raise SystemExit(f"estimate failed ({run.returncode}): {run.stderr[-2000:]}")
        medians.append(json.loads(run.stdout)["summary"]["total"]["median"])
    return medians, seconds


def _mcse_median(result) -> np.ndarray:
    """Each point's MCSE of the total's median, from its ESS of the total and a normal's density by its 90% width."""
    sd = (result["total_q95"].values - result["total_q05"].values) / (2 * 1.645)
    return np.sqrt(0.25 / result["min_ess"].values) * sd * math.sqrt(2 * math.pi)


def target(points: int, draws: int | None, tune: int | None) -> None:
    """Issue 22's target: a warm-started sweep against the cold one and against fresh `estimate` processes."""
    spec = load_model("dated")
    values = _values(points)
    grid = {PATH: values}
    settings = {"draws": draws, "tune": tune}
    rows: list[tuple[str, Clock, str, float]] = []
    load_at_start = _load()
    started = time.perf_counter()

    def timed(label: str, run) -> Any:
        with Clock() as clock:
            found = run()
        rows.append((label, clock, _load(), 0.0))
        print(f"{label}: {clock.wall:.1f} s wall, {clock.cpu:.1f} s CPU, load {rows[-1][2]}", file=sys.stderr)
        return found

    warm_label = "`sweep`, warm-started from the spec's own fit (the default; 2 threads)"
    warm = timed(warm_label, lambda: sweep(spec, grid, **settings))
    cold = timed(
        "`sweep`, every point cold (`warm=False`; 2 threads), as before",
        lambda: sweep(spec, grid, warm=False, **settings),
    )
    with tempfile.TemporaryDirectory() as folder:
        baseline_label = f"baseline: {points} × `dnamodel estimate SPEC --no-loo --assumptions off`, fresh processes"
        medians, seconds = timed(baseline_label, lambda: _estimates(spec, values, settings, folder))
    again = timed(warm_label + ", again", lambda: sweep(spec, grid, **settings))
    if again["total_median"].values.tolist() != warm["total_median"].values.tolist():
        raise SystemExit("the warm sweep's medians differ between its two runs")
    if cold["total_median"].values.tolist() != medians:
        raise SystemExit("the cold sweep's medians differ from the estimate processes'")
    error = np.abs(warm["total_median"].values - cold["total_median"].values)
    allowed = np.hypot(_mcse_median(warm), _mcse_median(cold))
    if (error > 4 * allowed).any():
        raise SystemExit(f"warm and cold medians differ by up to {float((error / allowed).max()):.1f} MCSE")
    steps_warm = int((warm["tune"].values + warm["draws"].values).sum()) * spec.sampler.chains
    steps_cold = int((cold["tune"].values + cold["draws"].values).sum()) * spec.sampler.chains
    tune_warm = int(warm["tune"].values.sum()) * spec.sampler.chains
    tune_cold = int(cold["tune"].values.sum()) * spec.sampler.chains
    baseline = next(clock for label, clock, _, _ in rows if label == baseline_label)
    print(
        f"# Sweep target, dated model ({time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs)\n"
    )
    print(
        f"{points} points of `{PATH}` ({values[0]} to {values[-1]}), {spec.sampler.chains} chains, "
        f"cold points {draws or spec.sampler.draws:,} draws after {tune or spec.sampler.tune:,}; seed "
        f"{spec.sampler.seed}. Load average (1, 5, 15 min) at start: {load_at_start}.\n"
    )
    print("| measured | wall s | per point s | baseline ÷ this, wall | baseline ÷ this, CPU | CPU s | load after |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, clock, load, _ in rows:
        print(
            f"| {label} | {clock.wall:.1f} | {clock.wall / points:.2f} | {baseline.wall / clock.wall:.2f}× "
            f"| {baseline.cpu / clock.cpu:.2f}× | {clock.cpu:.1f} | {load} |"
        )
    starts = warm["start"].values.tolist()
    print(
        f"\nWarm sweep: points {', '.join(f'{s}' for s in starts)}; extensions "
        f"{int(warm['extensions'].values.sum())}; passed their gates {int(warm['passed'].sum())} of {points} "
        f"(cold: {int(cold['passed'].sum())}). Tuning steps {tune_warm:,} against {tune_cold:,} cold; "
        f"all steps {steps_warm:,} against {steps_cold:,}. Largest difference of a median, warm against "
        f"cold: {float((error / allowed).max()):.2f} MCSE of the difference. The cold sweep gave every "
        f"`estimate` process's median exactly. Median `estimate` process: {float(np.median(seconds)):.1f} s. "
        f"Whole benchmark: {(time.perf_counter() - started) / 60:.1f} min."
    )


def main() -> None:
    """Parse the options and run one benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--draws", type=int, help="draws per chain (default: the spec's)")
    parser.add_argument("--tune", type=int, help="tuning steps per chain (default: the spec's)")
    parser.add_argument("--hierarchical", action="store_true", help="the comparison model's benchmark instead")
    parser.add_argument(
        "--target", action="store_true", help="issue 22's target: warm sweep against cold and `estimate` processes"
    )
    args = parser.parse_args()
    if args.target:
        target(args.points, args.draws, args.tune)
    elif args.hierarchical:
        hierarchical(args.points)
    else:
        dated(args.points, args.draws, args.tune)


if __name__ == "__main__":
    main()
