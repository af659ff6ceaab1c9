"""Stan against nutpie on our kernel, on the default model ``dated``: the same posterior, and ESS per second.

The sampler a statistician would pick for speed is Stan. ``benchmarks/dated.stan`` writes the dated
model in Stan: the same priors, transforms, observation kinds and likelihoods as
``dnamodel/inference/dated_kernel.py``, with the same free parameters in the same order on the same
unconstrained scale. Its data are made here from the resolved inputs
(``resolve_dated(load_model("dated"), load_data())``, :func:`stan_data`). It is compiled with pystan 3
(httpstan ships Stan 2.35, its compiler and headers; the C++ is built with the machine's g++, -O3).

1. **Same model.** At points of the unconstrained space, Stan's log density (``log_prob``, Jacobians
   included) and gradient must equal the kernel's ``logp_grad`` to rounding (both keep every constant),
   or the script stops.
2. **Same posterior.** The total's 5%, 50% and 95% quantiles and every scalar's mean, pooled over each
   sampler's runs, must agree within Monte Carlo error: z = (ours − Stan) / √(MCSE² + MCSE²), each
   MCSE from ``arviz.mcse`` and pooled over runs as √(Σ MCSE²) / runs. The script prints every z and
   stops if one exceeds 4 in size (about 1 in 16,000 for a z that is standard normal; 12 are tested).
3. **ESS per second**, bulk and tail, of the total and of the slowest scalar (smallest bulk ESS), each
   sampler in fresh processes (this script with ``--worker SAMPLER SEED``), alternating, at the spec's
   settings (4 chains × 4,000 draws after 1,500 tuning steps, target acceptance 0.99, 2 cores for
   either: httpstan runs chains in a pool of ``cpu_count`` processes, nutpie in as many threads). The
   libraries are imported before each worker's clock starts. Compile is ``stan.build`` (empty
   httpstan cache: the C++ compile; warm: found in the cache) or the kernel's load from numba's cache
   (empty ``NUMBA_CACHE_DIR``: numba compiles it) with nutpie's set-up. Sampling is the wall time of
   ``posterior.sample`` (pystan's parsing of Stan's output included; Stan's own per-chain times are
   printed beside it) or of ``nutpie.sample``. Both start from the same points: the priors' centres
   (``dnamodel.inference.dated.initial_point``) jittered by U(−0.5, 0.5), nutpie's start.

Run: ``make bench-stan`` (``.venv-bench``: pystan is no dependency of dnamodel; about 25 minutes).
``--seeds N`` sets the warm fits per sampler (default 3). Prints Markdown.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL = "dated"
ROOT = Path(__file__).resolve().parent.parent
STAN_FILE = Path(__file__).with_name("dated.stan")
SOURCES = ("dnamodel/inference/dated.py", "dnamodel/inference/dated_kernel.py", "benchmarks/dated.stan")
SCALARS = ("alpha", "contrast", "group_sd", "unit_sd", "reported", "typed_share", "baseline_per_resident", "share")
QUANTILES = (0.05, 0.5, 0.95)
MAX_Z = 4.0
"""The largest |z| between the two posteriors that the script accepts (see the module's docstring)."""
DENSITY_POINTS = 8
LOAD: list[float] = []
"""The 1-minute load average after each child process."""


# --- the model in Stan: data, initial values, draws ----------------------------------------------


def stan_data(inputs: Any) -> dict[str, Any]:
    """The data block of ``dated.stan`` from resolved dated inputs (:class:`dnamodel.spec.dated.DatedInputs`).

    Observations over whole groups, and databases over whole groups, are flagged as the kernel's
    ``pack`` flags them, so that Stan sums them over groups too.
    """
    from dnamodel.inference.dated import COVERAGE, DATABASE_SHARE, SLOT, pack

    packed = pack(inputs)

    def block(slot: str, size: int) -> np.ndarray:
        start = int(packed[SLOT[slot]])
        return packed[start : start + size]

    U, J, K, D = len(inputs.unit), len(inputs.group), len(inputs.observation), len(inputs.database)
    members = [list(m) for m in inputs.members]
    groups, group_start = [], [1]
    for k, m in enumerate(members):
        touched = {int(inputs.unit_group[u]) for u in m}
        if inputs.kind[k] == DATABASE_SHARE:
            touched |= {int(inputs.unit_group[u]) for u in inputs.database_members[inputs.database_index[k]]}
        groups += [j + 1 for j in sorted(touched)]
        group_start.append(len(groups) + 1)
    db_groups, db_group_start, db_members, db_start = [], [1], [], [1]
    for m in inputs.database_members:
        db_groups += [j + 1 for j in sorted({int(inputs.unit_group[u]) for u in m})]
        db_group_start.append(len(db_groups) + 1)
        db_members += [u + 1 for u in m]
        db_start.append(len(db_members) + 1)
    whole = block("B_WHOLE", K).astype(int)
    assert not (whole.astype(bool) & (inputs.kind == COVERAGE)).any()
    priors = inputs.priors

    def scale(name: str) -> tuple[int, float, float]:
        prior = priors.get(name)
        if prior is None:
            return 0, 1.0, 0.0
        if prior.dist == "halfnormal":
            return 0, prior.sigma, 0.0
        if prior.dist == "gamma":
            return 1, prior.alpha, prior.beta
        return 2, prior.mu, prior.sigma

    sp, su = scale("group_sd"), scale("unit_sd")
    has_database = bool(inputs.database)
    return {
        "U": U,
        "J": J,
        "K": K,
        "D": D,
        "L": len(inputs.uplift_name),
        "linear": int(inputs.form == "linear"),
        "census_error": inputs.census_error,
        "ramp": inputs.ramp_years,
        "estimand_date": inputs.estimand_date,
        "population": inputs.population,
        "covariate": inputs.covariate,
        "group": inputs.unit_group + 1,
        "uplift": inputs.uplift + 1,
        "logit_offset": inputs.offset,
        "reported_unit": inputs.reported,
        "start_kind": inputs.start_kind,
        "start_anchor": inputs.start_anchor,
        "start_scale": inputs.start_scale,
        "pace_mu": inputs.pace_mu,
        "pace_sd": inputs.pace_sd,
        "uplift_mu": inputs.uplift_mu,
        "uplift_sd": inputs.uplift_sd,
        "alpha_mu": priors["alpha"].mu,
        "alpha_sd": priors["alpha"].sigma,
        "contrast_mu": priors["contrast"].mu,
        "contrast_sd": priors["contrast"].sigma,
        "has_group": int(inputs.group_effects),
        "group_sd_kind": sp[0],
        "group_sd_a": sp[1],
        "group_sd_b": sp[2],
        "unit_sd_kind": su[0],
        "unit_sd_a": su[1],
        "unit_sd_b": su[2],
        "has_database": int(has_database),
        "typed_share_a": priors["typed_share"].alpha if has_database else 1.0,
        "typed_share_b": priors["typed_share"].beta if has_database else 1.0,
        "baseline_mu": priors["baseline_per_resident"].mu if has_database else 0.0,
        "baseline_sd": priors["baseline_per_resident"].sigma if has_database else 1.0,
        "has_reported": int(inputs.reported_effect),
        "reported_mu": priors["reported"].mu if inputs.reported_effect else 0.0,
        "reported_sd": priors["reported"].sigma if inputs.reported_effect else 1.0,
        "kind": inputs.kind,
        "censor": inputs.censor,
        "active": np.ones(K, dtype=int),
        "y": inputs.value,
        "error": inputs.error,
        "increment": (~np.isnan(inputs.since)).astype(int),
        "since": np.nan_to_num(inputs.since, nan=0.0),
        "date": inputs.date,
        "database": np.where(np.isin(inputs.kind, (1, 2)), inputs.database_index + 1, 0),
        "base": inputs.base,
        "member_start": np.cumsum([1] + [len(m) for m in members]),
        "M": sum(len(m) for m in members),
        "members": [u + 1 for m in members for u in m],
        "whole": whole,
        "group_start": group_start,
        "G": len(groups),
        "groups": groups,
        "db_start": db_start,
        "DM": len(db_members),
        "db_members": db_members,
        "db_whole": block("B_DWHOLE", D).astype(int),
        "db_group_start": db_group_start,
        "DG": len(db_groups),
        "db_groups": db_groups,
        "db_population": block("B_ND", D),
    }


def constrained(x: np.ndarray, inputs: Any) -> dict[str, Any]:
    """Stan's parameters (constrained) at the kernel's unconstrained point ``x``: a Stan ``init``."""
    from dnamodel.inference.dated import layout_of

    b = layout_of(inputs).blocks

    def part(name: str) -> list[float]:
        return [float(v) for v in x[b[name]]]

    return {
        "alpha": part("alpha")[0],
        "group_sd": [math.exp(v) for v in part("log_group_sd")],
        "group_z": part("group_z"),
        "unit_sd": math.exp(part("log_unit_sd")[0]),
        "unit_z": part("unit_z"),
        "contrast": part("contrast")[0],
        "start_raw": part("start_raw"),
        "log_pace": part("log_pace"),
        "typed_share": [1 / (1 + math.exp(-v)) for v in part("logit_typed_share")],
        "baseline_per_resident": [math.exp(v) for v in part("log_baseline")],
        "log_uplift": part("log_uplift"),
        "census_z": part("census_z"),
        "reported": part("reported"),
    }


def starts(inputs: Any, chains: int, seed: int) -> list[np.ndarray]:
    """Starting points as nutpie's for the dated model: the priors' centres, jittered by U(−0.5, 0.5), per chain."""
    from dnamodel.inference.dated import initial_point

    init = initial_point(inputs)
    rng = np.random.default_rng(seed)
    return [init + rng.uniform(-0.5, 0.5, init.size) for _ in range(chains)]


# --- what both workers report ------------------------------------------------------------------


def summary(draws: dict[str, np.ndarray]) -> dict[str, Any]:
    """ESS, R-hat, means and quantiles of each quantity with MCSE, from (chain, draw) arrays."""
    import arviz as az

    out: dict[str, Any] = {}
    for name, values in draws.items():
        values = np.asarray(values, dtype=float)
        row = {
            "ess_bulk": float(az.ess(values, method="bulk")),
            "ess_tail": float(az.ess(values, method="tail")),
            "rhat": float(az.rhat(values)),
            "mean": float(values.mean()),
            "mcse_mean": float(np.asarray(az.mcse(values, method="mean")).ravel()[0]),
        }
        if name == "total":
            for q in QUANTILES:
                row[f"q{q}"] = float(np.quantile(values, q))
                row[f"mcse_q{q}"] = float(az.mcse(values, method="quantile", prob=q))
        out[name] = row
    return out


def elapsed_stan(fit: Any) -> list[list[float]]:
    """Stan's own warm-up and sampling seconds per chain, read from its log messages."""
    times = []
    for output in fit.stan_outputs:
        found = []
        for line in output.splitlines():
            if b"Elapsed Time" in line or (b'"logger"' in line and b"seconds (" in line):
                text = json.loads(line)["values"][0]
                found += [float(word) for word in text.replace("info:", " ").split() if _is_number(word)]
        times.append(found[:2])
    return times


def gradient_stan(fit: Any) -> float:
    """One gradient evaluation's seconds as Stan times it when a chain starts (median over the chains)."""
    found = []
    for output in fit.stan_outputs:
        for line in output.splitlines():
            if b"Gradient evaluation took" in line:
                text = json.loads(line)["values"][0]
                found += [float(word) for word in text.replace("info:", " ").split() if _is_number(word)][:1]
    return statistics.median(found) if found else math.nan


def gradient_ours(packed: np.ndarray, x: np.ndarray) -> float:
    """Seconds per call of the kernel's ``logp_grad`` at ``x``, in a compiled loop: median of 7 repeats."""
    import numba

    from dnamodel.inference import dated_kernel

    @numba.njit
    def repeat(x: Any, packed: Any, grad: Any, n: int) -> float:
        total = 0.0
        for _ in range(n):
            total += dated_kernel.logp_grad(x, packed, grad)
        return total

    grad = np.zeros_like(x)
    repeat(x, packed, grad, 1)
    seconds = []
    for _ in range(7):
        begin = time.perf_counter()
        repeat(x, packed, grad, 20_000)
        seconds.append((time.perf_counter() - begin) / 20_000)
    return statistics.median(seconds)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def httpstan_cache() -> Path:
    """The folder of httpstan's cache (under ``XDG_CACHE_HOME``): compiled models and saved fits."""
    import httpstan.cache

    return httpstan.cache.cache_directory()


def worker(sampler: str, seed: int, check: bool) -> None:
    """One fit of ``MODEL`` at the spec's settings; print compile and sampling seconds and the summary as JSON."""
    import arviz as az  # noqa: F401  (imported before the clock starts, by either sampler)
    import numba  # noqa: F401
    import nutpie  # noqa: F401

    from dnamodel.data import load_data
    from dnamodel.families import load_model
    from dnamodel.inference.dated import fit_dated, layout_of, pack
    from dnamodel.inference.sampling import quiet_arviz, seeds
    from dnamodel.spec.dated import resolve_dated

    quiet_arviz()
    spec = load_model(MODEL)
    data = load_data()
    settings = spec.sampler
    inputs = resolve_dated(spec, data)
    result: dict[str, Any] = {"draws": settings.draws, "tune": settings.tune, "chains": settings.chains}
    result["target_accept"] = settings.target_accept
    if sampler == "nutpie":
        fit = fit_dated(spec, data, seed=seed, prior_draws=10)
        post, stats = fit.idata.posterior, fit.idata.sample_stats
        draws = {name: post[name].values for name in (*SCALARS, "total")}
        result |= {
            "compile": fit.timings["load"],
            "sampling": fit.timings["sample"],
            "divergences": int(stats["diverging"].sum()),
            "depth": float(stats["tree_depth"].mean()),
            "steps": float(stats["n_steps"].mean()),
            "gradient": gradient_ours(pack(inputs), np.ascontiguousarray(post["unconstrained"].values[0, -1])),
        }
    else:
        import stan

        sampler_seed = seeds(seed)[0] % 2**31  # Stan's seed is 32-bit; the same derivation as fit_dated's
        inits = [constrained(x, inputs) for x in starts(inputs, settings.chains, sampler_seed)]
        code = STAN_FILE.read_text(encoding="utf-8")
        program_data = stan_data(inputs)
        for saved in httpstan_cache().glob("models/*/*.jsonlines.gz"):  # fits are cached by seed: never reuse one
            saved.unlink()
        start = time.perf_counter()
        posterior = stan.build(code, data=program_data, random_seed=sampler_seed)
        built = time.perf_counter()
        fit = posterior.sample(
            num_chains=settings.chains,
            num_samples=settings.draws,
            num_warmup=settings.tune,
            delta=settings.target_accept,
            init=inits,
        )
        done = time.perf_counter()

        def chains(name: str) -> np.ndarray:
            return fit[name].reshape(-1).reshape(settings.draws, settings.chains).T

        draws = {name: chains(name) for name in (*SCALARS, "total")}
        result |= {
            "compile": built - start,
            "sampling": done - built,
            "stan_elapsed": elapsed_stan(fit),
            "gradient": gradient_stan(fit),
            "divergences": int(fit["divergent__"].sum()),
            "depth": float(fit["treedepth__"].mean()),
            "steps": float(fit["n_leapfrog__"].mean()),
        }
        if check:
            result["density"] = density_check(posterior, inputs, pack(inputs), layout_of(inputs).ndim)
    result["summary"] = summary(draws)
    print(json.dumps(result))


def density_check(posterior: Any, inputs: Any, packed: np.ndarray, ndim: int) -> dict[str, float]:
    """Stan's log density and gradient against the kernel's at points around the priors' centres.

    Returns the largest absolute difference of the log densities and the largest difference of a
    gradient's element relative to the gradient's largest element.
    """
    from dnamodel.inference import dated_kernel

    worst_logp, worst_grad = 0.0, 0.0
    for x in starts(inputs, DENSITY_POINTS, 1):
        grad = np.zeros(ndim)
        ours = dated_kernel.logp_grad(x, packed, grad)
        theirs = posterior.log_prob(list(x), adjust_transform=True)
        their_grad = np.asarray(posterior.grad_log_prob(list(x)))
        worst_logp = max(worst_logp, abs(ours - theirs))
        worst_grad = max(worst_grad, float(np.abs(grad - their_grad).max() / np.abs(grad).max()))
    return {"points": DENSITY_POINTS, "logp": worst_logp, "grad": worst_grad}


# --- processes ----------------------------------------------------------------------------------


def fit(sampler: str, seed: int, env: dict[str, str], check: bool = False) -> dict[str, Any]:
    """One fit in a fresh process (this script with ``--worker``); its JSON and wall time."""
    argv = [sys.executable, __file__, "--worker", sampler, str(seed), *(["--check"] if check else [])]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    LOAD.append(os.getloadavg()[0])
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"process": wall}


def cache_env(root: Path) -> dict[str, str]:
    """The environment with numba's and httpstan's caches (``XDG_CACHE_HOME``) under ``root``."""
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(root / "numba")
    env["XDG_CACHE_HOME"] = str(root / "xdg")
    env["MPLCONFIGDIR"] = str(root / "matplotlib")
    return env


# --- formatting ---------------------------------------------------------------------------------


def spread(values: Sequence[float], fmt: str) -> str:
    """Median and range."""
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def times(value: float) -> str:
    """A ratio: one decimal from 1 up, two below."""
    return f"{value:.1f}×" if value >= 1 else f"{value:.2f}×"


def ratio(ours: Sequence[float], theirs: Sequence[float]) -> str:
    """Ratio of the medians, and the range of the ratios run by run (same position, same run)."""
    middle = statistics.median(ours) / statistics.median(theirs)
    if len(ours) == 1:
        return times(middle)
    pairs = [a / b for a, b in zip(ours, theirs, strict=True)]
    return f"{times(middle)} ({times(min(pairs))[:-1]}–{times(max(pairs))})"


def header() -> str:
    """Date, machine, versions, commit and source hashes."""
    from importlib.metadata import version

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", *SOURCES], capture_output=True, text=True, cwd=ROOT)
    hashes = ", ".join(f"`{Path(p).name}` {hashlib.sha256((ROOT / p).read_bytes()).hexdigest()[:12]}" for p in SOURCES)
    packages = ", ".join(f"{name} {version(name)}" for name in ("nutpie", "numba", "pystan", "httpstan", "arviz"))
    gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} CPUs; Python {platform.python_version()}, {packages}; "
        f"{gxx}; commit {commit.stdout.strip()}{' (sources modified)' if dirty.stdout.strip() else ''}; {hashes}; "
        f"load average at start {' / '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )


# --- the comparison -----------------------------------------------------------------------------


def pooled(runs: list[dict[str, Any]], name: str, key: str) -> tuple[float, float]:
    """An estimate pooled over independent runs, and its MCSE: √(Σ MCSE²) / runs."""
    values = [r["summary"][name][key] for r in runs]
    errors = [r["summary"][name][f"mcse_{'mean' if key == 'mean' else key}"] for r in runs]
    return statistics.fmean(values), math.sqrt(sum(e * e for e in errors)) / len(runs)


def agreement(ours: list[dict[str, Any]], stan: list[dict[str, Any]]) -> float:
    """Print the table of the two posteriors side by side, with z-scores; return the largest |z|."""
    print("| quantity | nutpie on our kernel (MCSE) | Stan (MCSE) | z |")
    print("| --- | ---: | ---: | ---: |")
    worst = 0.0
    rows = [("total", f"q{q}", f"{q:.0%} quantile of `total`") for q in QUANTILES]
    rows += [(name, "mean", f"mean of `{name}`") for name in ("total", *SCALARS)]
    for name, key, label in rows:
        a, sa = pooled(ours, name, key)
        b, sb = pooled(stan, name, key)
        z = (a - b) / math.hypot(sa, sb)
        worst = max(worst, abs(z))
        fmt = "{:,.0f}" if name == "total" else "{:.4f}"
        print(f"| {label} | {fmt.format(a)} ({fmt.format(sa)}) | {fmt.format(b)} ({fmt.format(sb)}) | {z:+.2f} |")
    print()
    return worst


def slowest(run: dict[str, Any]) -> str:
    """The scalar with the smallest bulk ESS in a run."""
    return min(SCALARS, key=lambda name: run["summary"][name]["ess_bulk"])


def main() -> None:
    """Check the Stan model against the kernel, fit both ways, and print the tables."""
    import dnamodel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="warm fits per sampler")
    args = parser.parse_args()
    if not Path(dnamodel.__file__).resolve().is_relative_to(ROOT):
        sys.exit(f"dnamodel is imported from {dnamodel.__file__}, not from {ROOT}")
    from dnamodel.families import load_model

    began = time.perf_counter()
    print(header() + "\n")
    base_seed = load_model(MODEL).sampler.seed
    samplers = ("stan", "nutpie")
    with tempfile.TemporaryDirectory(prefix="bench-stan-") as scratch:
        envs = {s: cache_env(Path(scratch) / s) for s in samplers}
        first = {s: fit(s, base_seed, envs[s], check=s == "stan") for s in samplers}
        warm: dict[str, list[dict[str, Any]]] = {s: [] for s in samplers}
        for k in range(args.seeds):
            for s in samplers:
                warm[s].append(fit(s, base_seed + 1 + k, envs[s]))

    density = first["stan"]["density"]
    print(
        f"**Same model.** At {density['points']} points (the priors' centres jittered by U(−0.5, 0.5)), Stan's log "
        f"density differs from the kernel's by at most {density['logp']:.1e} and its gradient by at most "
        f"{density['grad']:.1e} of the gradient's largest element.\n"
    )
    if density["logp"] > 1e-6 or density["grad"] > 1e-6:
        sys.exit("Stan's model is not the kernel's: see the differences above")

    runs = {s: [first[s], *warm[s]] for s in samplers}
    r0 = first["nutpie"]
    print(
        f"**Same posterior.** {len(runs['nutpie'])} fits each (seeds {base_seed} to {base_seed + args.seeds}), "
        f"{r0['chains']} chains × {r0['draws']:,} draws after {r0['tune']:,} tuning steps, target acceptance "
        f"{r0['target_accept']}; estimates pooled over the fits, MCSE √(Σ MCSE²) / fits:\n"
    )
    worst = agreement(runs["nutpie"], runs["stan"])
    print(f"Largest |z|: {worst:.2f} (the script stops above {MAX_Z}).\n")

    print("**ESS per second.** Warm caches: median (range) over the warm fits; a ratio is of the medians, with the")
    print("range of the ratios fit by fit. Cold: the first fit of each, with empty caches.\n")
    print("| measured | nutpie on our kernel | Stan (pystan 3) | nutpie ÷ Stan |")
    print("| --- | ---: | ---: | ---: |")

    def col(s: str, key: str) -> list[float]:
        return [r[key] for r in warm[s]]

    def ess(s: str, name: str, kind: str, with_compile: bool, runs_: list[dict[str, Any]] | None = None) -> list[float]:
        chosen = warm[s] if runs_ is None else runs_
        return [
            r["summary"][name if name != "slowest" else slowest(r)][f"ess_{kind}"]
            / (r["sampling"] + (r["compile"] if with_compile else 0.0))
            for r in chosen
        ]

    def row(label: str, ours: list[float], theirs: list[float], fmt: str, quotient: bool = True) -> None:
        print(f"| {label} | {spread(ours, fmt)} | {spread(theirs, fmt)} | {ratio(ours, theirs) if quotient else ''} |")

    row("compile, warm, s", col("nutpie", "compile"), col("stan", "compile"), "{:.1f}")
    row("compile, empty caches, s", [first["nutpie"]["compile"]], [first["stan"]["compile"]], "{:.1f}")
    row("sampling (tuning and draws, all chains), s", col("nutpie", "sampling"), col("stan", "sampling"), "{:.1f}")
    for kind in ("bulk", "tail"):
        row(
            f"{kind} ESS of `total`",
            [r["summary"]["total"][f"ess_{kind}"] for r in warm["nutpie"]],
            [r["summary"]["total"][f"ess_{kind}"] for r in warm["stan"]],
            "{:,.0f}",
        )
    for kind in ("bulk", "tail"):
        row(
            f"**{kind} ESS/s of `total`, sampling**",
            ess("nutpie", "total", kind, False),
            ess("stan", "total", kind, False),
            "{:,.1f}",
        )
        row(
            f"**{kind} ESS/s of `total`, compile + sampling, warm**",
            ess("nutpie", "total", kind, True),
            ess("stan", "total", kind, True),
            "{:,.1f}",
        )
        row(
            f"{kind} ESS/s of `total`, compile + sampling, empty caches",
            ess("nutpie", "total", kind, True, [first["nutpie"]]),
            ess("stan", "total", kind, True, [first["stan"]]),
            "{:,.2f}",
        )
    names = {s: sorted({slowest(r) for r in warm[s]}) for s in samplers}
    print(f"| slowest scalar (smallest bulk ESS) | {', '.join(names['nutpie'])} | {', '.join(names['stan'])} | |")
    for kind in ("bulk", "tail"):
        row(
            f"{kind} ESS/s of the slowest scalar, sampling",
            ess("nutpie", "slowest", kind, False),
            ess("stan", "slowest", kind, False),
            "{:,.1f}",
        )
        row(
            f"{kind} ESS/s of the slowest scalar, compile + sampling, warm",
            ess("nutpie", "slowest", kind, True),
            ess("stan", "slowest", kind, True),
            "{:,.1f}",
        )
    row("mean tree depth", col("nutpie", "depth"), col("stan", "depth"), "{:.2f}")
    row(
        "one gradient, µs (ours: `logp_grad` in a compiled loop; Stan's: as it times one when a chain starts)",
        [r["gradient"] * 1e6 for r in warm["nutpie"]],
        [r["gradient"] * 1e6 for r in warm["stan"]],
        "{:.1f}",
    )
    row("leapfrog steps per draw", col("nutpie", "steps"), col("stan", "steps"), "{:.1f}")
    row("whole worker process (imports included), warm, s", col("nutpie", "process"), col("stan", "process"), "{:.1f}")
    rhat = {s: max(r["summary"][n]["rhat"] for r in runs[s] for n in (*SCALARS, "total")) for s in samplers}
    print(f"| largest R-hat of the scalars and `total` | {rhat['nutpie']:.4f} | {rhat['stan']:.4f} | |")
    divergences = {s: ", ".join(str(r["divergences"]) for r in runs[s]) for s in samplers}
    print(f"| divergences, each fit (cold first) | {divergences['nutpie']} | {divergences['stan']} | |\n")
    own = [sum(c[1] for c in r["stan_elapsed"]) + sum(c[0] for c in r["stan_elapsed"]) for r in warm["stan"]]
    per_step = [sum(c[1] for c in r["stan_elapsed"]) / (r["draws"] * r["chains"] * r["steps"]) for r in warm["stan"]]
    print(
        f"Stan's CPU time per leapfrog step in its sampling phase (its own seconds ÷ the steps of its draws): "
        f"{spread([v * 1e6 for v in per_step], '{:.1f}')} µs, against one gradient of our kernel: "
        f"{spread([r['gradient'] * 1e6 for r in warm['nutpie']], '{:.1f}')} µs.\n"
    )
    print(
        f"Stan's own time per chain (warm-up + sampling), summed over the {r0['chains']} chains: "
        f"{spread(own, '{:.1f}')} s of CPU, against {spread(col('stan', 'sampling'), '{:.1f}')} s of wall time "
        f"for `sample` on {os.cpu_count()} cores.\n"
    )
    print(
        f"Whole benchmark: {(time.perf_counter() - began) / 60:.1f} min. 1-minute load average after each of its "
        f"{len(LOAD)} child processes: {min(LOAD):.1f}–{max(LOAD):.1f} (median {statistics.median(LOAD):.1f}).\n"
        "Command: `make bench-stan` (that is, `.venv-bench/bin/python benchmarks/bench_stan.py`)."
    )
    if worst > MAX_Z:
        sys.exit(f"the posteriors differ: |z| = {worst:.2f} > {MAX_Z}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]), "--check" in sys.argv[4:])
    else:
        main()
