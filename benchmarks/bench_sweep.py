"""A 20-point sweep against 20 independent fits of the same 20 specs, in one run.

The sweep varies the prior scale of the Han-share effect, ``fraction.beta.sigma``, over 20
values: a change of values only, so :func:`dnamodel.sweep` compiles the model once and
each further point costs sampling. The baseline is what a user without sweeps would do: one
:func:`dnamodel.fit` per spec, each in a fresh state (the compiled-model cache emptied first),
so each compiles, samples, and draws the prior and posterior predictive. Both use the spec's
sampler settings (4 chains x 2,500 draws after 1,000 tuning steps) and the same seed, and must
agree on every point's posterior median of the total to within 4 Monte Carlo standard errors,
or the script stops.

Run: ``make bench-sweep`` (about 10 minutes on 2 cores). Prints Markdown.
"""

import copy
import math
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from dnamodel.checks.summary import summarize_fit
from dnamodel.inference import sampling
from dnamodel.inference.sampling import fit, quiet_arviz
from dnamodel.spec import load_model
from dnamodel.spec.hierarchical import parse_hierarchical
from dnamodel.workflows.sweep import sweep

POINTS = 20
PATH = "fraction.beta.sigma"
VALUES = [round(float(v), 4) for v in np.geomspace(0.2, 3.0, POINTS)]


def main() -> None:
    """Time both ways and print the table."""
    quiet_arviz()
    spec = load_model("hierarchical_han")
    sampling._COMPILED.clear()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        swept = sweep(spec, {PATH: VALUES}, out=Path(folder) / "bench.nc", processes=1)
        sweep_seconds = time.perf_counter() - start

    fit_seconds, medians, mcses = [], [], []
    for value in VALUES:
        raw = copy.deepcopy(spec.raw)
        raw["fraction"]["beta"]["sigma"] = value
        point = parse_hierarchical(raw, spec.text + f"\n# {PATH} = {value}", spec.path)
        sampling._COMPILED.clear()  # an independent fit: nothing compiled before it
        start = time.perf_counter()
        idata = fit(point)
        fit_seconds.append(time.perf_counter() - start)
        summary = summarize_fit(idata)
        medians.append(summary.total.median)
        mcses.append(summary.total.mcse_median)

    # Same seed and same compiled graph: the sweep's medians should match the fits' to MC error.
    for value, median, mcse, swept_median in zip(VALUES, medians, mcses, swept["total_median"].values, strict=True):
        if abs(median - swept_median) > 4 * math.sqrt(2) * mcse:
            raise SystemExit(f"{PATH}={value}: sweep {swept_median:,.0f} against fit {median:,.0f} (MCSE {mcse:,.0f})")

    total_fits = sum(fit_seconds)
    print(f"# Sweep benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {platform.python_version()}, 2 cores)\n")
    print("| measured | seconds | baseline (same run) | seconds | speed-up |")
    print("| --- | ---: | --- | ---: | ---: |")
    print(
        f"| `sweep`, {POINTS} points of `{PATH}` | {sweep_seconds:.1f} | {POINTS} independent `fit` calls "
        f"| {total_fits:.1f} | {total_fits / sweep_seconds:.1f}× |"
    )
    print(
        f"| per point, sweep | {sweep_seconds / POINTS:.2f} | per `fit`, median | {float(np.median(fit_seconds)):.2f} "
        f"| {float(np.median(fit_seconds)) / (sweep_seconds / POINTS):.1f}× |"
    )
    worst = max(abs(m - s) / c for m, s, c in zip(medians, swept["total_median"].values, mcses, strict=True))
    print(f"\nLargest difference of a point's median between sweep and fit: {worst:.2f} MCSE of the median.")
    print(f"Every point passed its gates in the sweep: {bool(swept['passed'].all())}.")


if __name__ == "__main__":
    main()
