"""SBC's refits at several settings, interleaved data set by data set, in CPU seconds (issue 22: `.ci/run`).

The slow SBC test's first N data sets (``tests/test_dated_calibration.py``: seed 20220913, 200 data
sets drawn) are refitted one at a time on one core (``cores=1``), each at every setting in turn, so
that all the settings meet the same load. CPU seconds from ``time.process_time`` (every thread of
the process); the wall time is printed beside it, and the load average at the start and end. Each
refit is gated and extended as ``dated_sbc`` does (``refit``).

Settings, ``DRAWS/TUNE`` per chain (4 chains): ``500/500`` the SBC's (``SBC_DRAWS``, ``SBC_TUNE``),
``500/300`` (shorter tuning: cheaper, but the whole test then had a divergent fit, model card 5.10),
``1000/500`` and ``1000/300`` (first stages long enough that fewer refits are extended). Prints each
refit (extensions, divergences, its gates, the smallest and median bulk ESS of the ranked
quantities) and each setting's total and ratio to the first.

``python benchmarks/bench_sbc.py [N]`` (N data sets, 16 by default; about 20 CPU s a data set).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from dnamodel.checks.dated import _ranked, _seed, refit
from dnamodel.checks.dated import sbc_jobs as dated_sbc_jobs
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference.dated import draw_prior
from dnamodel.inference.dated_quantities import derive_draws, predictive_draws
from dnamodel.spec.dated import DatedInputs, resolve_dated

SEED, SIMULATIONS = 20220913, 200
SETTINGS = ((500, 500), (500, 300), (1000, 500), (1000, 300))


def sbc_jobs(inputs: DatedInputs, n: int) -> list[dict]:
    """The first ``n`` of the slow SBC test's refit jobs, drawn as ``dated_sbc`` draws them."""
    rng = np.random.default_rng(_seed(SEED, 5))
    truths = draw_prior(inputs, SIMULATIONS, rng)
    simulated = predictive_draws(derive_draws(truths, inputs)["expected"], inputs, rng)
    return dated_sbc_jobs(inputs, simulated, SEED)[:n]


def main() -> None:
    """Refit the first N data sets at every setting in turn; print each refit and the totals."""
    import arviz as az  # deferred: start-up time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    inputs = resolve_dated(load_model("dated"), load_data())
    jobs = sbc_jobs(inputs, n)
    # a first refit outside the timing: numba's functions over draws load or compile once
    refit(inputs, draws=20, tune=20, chains=4, cores=1, **jobs[0])
    print(f"load {os.getloadavg()}; {n} data sets, settings (draws/tune) {SETTINGS}", flush=True)
    cpu: dict[tuple[int, int], float] = dict.fromkeys(SETTINGS, 0.0)
    for i, job in enumerate(jobs):
        for draws, tune in SETTINGS:
            start, begin = time.process_time(), time.perf_counter()
            fit = refit(inputs, draws=draws, tune=tune, chains=4, cores=1, **job)
            seconds = time.process_time() - start
            cpu[draws, tune] += seconds
            ranked = _ranked(fit.quantities, fit.total, fit.joint_log_likelihood, inputs)
            ess = [float(az.ess(v.reshape(fit.chains, -1), method="bulk")) for v in ranked.values()]
            print(
                f"{i:3d} {draws:4d}/{tune:3d}  CPU {seconds:5.1f} s  wall {time.perf_counter() - begin:5.1f} s"
                f"  draws/chain {fit.x.shape[0] // fit.chains:4d}  extended {fit.extensions}  passed {fit.passed!s:5}"
                f"  divergences {fit.divergences}  R-hat {fit.rhat:.4f}  ESS bulk {fit.ess_bulk:4.0f}"
                f" tail {fit.ess_tail:4.0f}  ranked ESS min {min(ess):4.0f} median {np.median(ess):5.0f}",
                flush=True,
            )
    first = cpu[SETTINGS[0]]
    for (draws, tune), seconds in cpu.items():
        print(f"{draws}/{tune}: {seconds:.1f} CPU s over {n} data sets, {seconds / first:.2f}×", flush=True)
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
