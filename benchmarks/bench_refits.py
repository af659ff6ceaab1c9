"""Warm-started, gated refits against today's cold, ungated ones, side by side in one run (issue 22 item 1).

The default model's leave-one-out and forecast refits (13), each way, timed as ``estimate`` runs them
(``refits``: in threads, one per core):

- ``cold, ungated``: 4 × 400 draws after 500 tuning steps from the prior's centre, never extended
  (the refits before issue 22);
- ``warm, gated``: 4 × 600 draws after 100 tuning steps from the full fit's adaptation, extended
  (each chain doubled, at most twice) until R-hat ≤ 1.01 and ESS ≥ 400 for what it predicts;
- ``cold, gated``: the cold refits with the same gates and extensions.

Prints, per way: wall time, tuning steps per chain, refits that failed (after any extension), the
extensions, and the worst R-hat and ESS over what the refits predict, with the machine's load.
``python benchmarks/bench_refits.py [FULL_DRAWS]`` (the full fit's draws per chain, 1,000 by default).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from dnamodel.checks.dated import _seed, refits
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference.dated import WARM_TUNE, pack, sample_packed, warm_start
from dnamodel.spec.dated import resolve_dated


def main() -> None:
    """Fit the default model once, then time its 13 refits each way."""
    full_draws = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    inputs = resolve_dated(load_model("dated"), load_data())
    full = sample_packed(
        pack(inputs), inputs, draws=full_draws, tune=1500, chains=4, seed=1, target_accept=inputs.target_accept
    )
    warm = warm_start(full.x, full.stats["step_size"])
    n = len(inputs.observation)

    def jobs(extensions: int) -> list[dict]:
        loo = [{"active": np.arange(n) != k, "seed": _seed(1, 2, k), "extensions": extensions} for k in range(n)]
        forecasts = [
            {"active": inputs.date <= cutoff, "seed": _seed(1, 4, i), "predicts": np.asarray(t, int)}
            | {"extensions": extensions}
            for i, (_, cutoff, t) in enumerate(inputs.forecasts)
        ]
        return loo + forecasts

    print(f"load {os.getloadavg()}; full fit 4 x {full_draws} after 1,500 tuning; {len(jobs(0))} refits")
    for label, start, draws, tune, extensions in (
        ("cold, ungated", None, 400, 500, 0),
        ("warm, gated", warm, 600, WARM_TUNE, 2),
        ("cold, gated", None, 400, 500, 2),
    ):
        begin = time.perf_counter()
        fits = list(refits(inputs, jobs(extensions), draws=draws, tune=500, chains=4, warm=start))
        seconds = time.perf_counter() - begin
        print(
            f"{label:14s} wall {seconds:6.1f} s  tune {tune:3d}  draws {draws}"
            f"  failed {sum(not f.passed for f in fits):2d}"
            f"  extensions {[f.extensions for f in fits]}  worst R-hat {max(f.rhat for f in fits):.3f}"
            f"  smallest ESS {min(f.ess for f in fits):.0f}  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
