"""Deriving a fit of the default model ``dated`` from its draws: what ``fit_dated`` times as ``derive``.

One process samples the default model at its spec's settings (4 chains × 4,000 draws after 1,500
tuning steps, seed 20220913) with nutpie, then times, on those draws:

1. ``to_inference_data``: every posterior quantity, the log likelihood and log prior terms, both
   predictives and 2,000 prior draws with their quantities, as ArviZ groups (``fit_dated``'s ``derive``);
2. its numeric core alone, every posterior quantity, each observation's log likelihood and each
   prior term over the 16,000 draws: since issue 19 one pass of the compiled kernel's functions over
   draws (``derive_draws``, then ``derived`` names them), before it three NumPy passes (``derived``,
   ``log_likelihood`` of its expected values, ``log_prior``);
3. the compiled log density and its gradient at every draw, in a compiled loop: the kernel's own
   speed, which the sampler's depends on;

each the median of ``--repeats`` runs (default 5) after one untimed call (a first call loads compiled
code from numba's cache). The baselines are timed in the same run: the sampling itself (tuning and
draws, all chains), and the log density and its gradient at every draw called from Python (one call
per draw, as a consumer over draws would without the functions over draws).

Run: ``.venv/bin/python benchmarks/bench_derive.py`` (about a minute on an idle machine). The same
script at a commit before issue 19 measures the NumPy copies. Prints Markdown.
"""

import argparse
import hashlib
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODEL = "dated"


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls, after one untimed call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Sample once, time deriving the fit against the baselines, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from dnamodel import load_model  # the public name: found at a commit before issue 19 too
    from dnamodel.data import load_data
    from dnamodel.inference import dated as D
    from dnamodel.inference import dated_kernel
    from dnamodel.inference.sampling import seeds
    from dnamodel.spec.dated import resolve_dated

    spec = load_model(MODEL)
    settings = spec.sampler
    inputs = resolve_dated(spec, load_data())
    packed = D.pack(inputs)
    sampler_seed, _, _ = seeds(settings.seed)
    result = D.sample_packed(
        packed,
        inputs,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        seed=sampler_seed,
        target_accept=settings.target_accept,
    )
    flat = result.x.reshape(-1, result.x.shape[-1])
    grad = np.zeros(flat.shape[1])

    def density() -> None:
        for x in flat:
            dated_kernel.logp_grad(x, packed, grad)

    def core() -> None:
        if hasattr(D, "derive_draws"):  # one compiled pass (issue 19)
            D.derived(flat, inputs, D.derive_draws(flat, inputs))
            return
        values = D.derived(flat, inputs)  # three NumPy passes (before)
        D.log_likelihood(values["expected"], inputs)
        D.log_prior(flat, inputs)

    import numba

    @numba.njit
    def every_draw(x: np.ndarray, packed: np.ndarray, grad: np.ndarray) -> float:
        total = 0.0
        for i in range(x.shape[0]):
            total += dated_kernel.logp_grad(x[i], packed, grad)
        return total

    rows = [
        (
            "`to_inference_data` (fit_dated's `derive`)",
            median_seconds(
                lambda: D.to_inference_data(result, inputs, seed=settings.seed, prior_draws=2000), args.repeats
            ),
        ),
        ("its core: quantities, log likelihoods, prior terms", median_seconds(core, args.repeats)),
        ("`logp_grad` at every draw, compiled loop", median_seconds(lambda: every_draw(flat, packed, grad), 5)),
    ]
    baseline = median_seconds(density, args.repeats)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    sources = ["dnamodel/inference/dated.py", "dnamodel/inference/dated_kernel.py"]
    hashes = "; ".join(
        f"{name} sha256 {hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:12]}" for name in sources
    )
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs, commit "
        f"{commit.stdout.strip()}; {hashes}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{flat.shape[0]:,} draws ({result.x.shape[0]} chains), {flat.shape[1]} free parameters\n")
    print("| measured | median | baseline (same run) | figure | ratio |")
    print("| --- | ---: | --- | ---: | ---: |")
    for label, seconds in rows:
        print(
            f"| {label} | {seconds * 1000:,.1f} ms | sampling (tuning and draws) | {result.seconds:.2f} s "
            f"| {seconds / result.seconds:.3f}× |"
        )
        print(
            f"| {label} | {seconds * 1000:,.1f} ms | the compiled log density and gradient at every draw "
            f"| {baseline * 1000:,.1f} ms | {seconds / baseline:.2f}× |"
        )


if __name__ == "__main__":
    main()
