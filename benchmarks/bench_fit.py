"""What a user of ``dnamodel estimate`` feels: the cold start, and nutpie's ESS per second against PyMC's NUTS.

Everything is measured in one run, on one machine, the default model ``hierarchical_han`` with
the sampler settings of its spec (draws, tune, chains, target_accept):

1. ``dnamodel estimate --json --no-loo`` as a fresh process, first with empty compile caches
   (``PYTENSOR_FLAGS=compiledir=`` and ``NUMBA_CACHE_DIR=`` pointing at new directories), then
   again with the caches that run left. The wall time is split with the ``timings`` the command
   prints (build, compile, sample, predictive, outputs) and the import time of PyMC, PyTensor,
   ArviZ, nutpie and numba, measured in a separate process with its own empty caches. One more
   warm run keeps the leave-one-out refits (the command's default).
2. The effective sample size of ``total`` (bulk and tail, ``arviz.ess``) per second of sampling,
   and per second of compile plus sampling, for nutpie against PyMC's default NUTS (C backend)
   as the baseline. Each run is a fresh process; the samplers alternate. The first run of each
   has empty caches and gives the cold compile; then one run per seed with warm caches.

Run: ``make bench-fit`` (about 12 minutes on 2 cores). Prints Markdown.
"""

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL = "hierarchical_han"
SEEDS = 3
"""Warm runs per sampler, seeds ``spec seed + 0, 1, 2``."""
EXIT_OK, EXIT_BAD_FIT = 0, 3
"""``dnamodel estimate``'s exit statuses for a fit that passed or failed its gates."""
IMPORT_PROBE = """
import json, time
import dnamodel.cli
start = time.perf_counter()
import arviz, pymc
middle = time.perf_counter()
import numba, nutpie, pytensor.link.numba.dispatch
print(json.dumps({"pymc": middle - start, "nutpie": time.perf_counter() - middle}))
"""
"""Imports beyond what ``dnamodel estimate`` has loaded when it starts the fit."""
SOURCES = (
    "dnamodel/inference/model.py",
    "dnamodel/inference/sampling.py",
    "dnamodel/workflows/estimate.py",
    f"dnamodel/models/{MODEL}.toml",
)
ROOT = Path(__file__).resolve().parent.parent
LOAD: list[float] = []
"""The 1-minute load average after each child process: other work on the machine slows every figure."""


# --- processes -------------------------------------------------------------------------------


def cache_env(root: Path) -> dict[str, str]:
    """The environment with PyTensor's and numba's compile caches under ``root``."""
    env = dict(os.environ)
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith("compiledir=")]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"compiledir={root / 'pytensor'}"])
    env["NUMBA_CACHE_DIR"] = str(root / "numba")
    return env


@dataclass(frozen=True)
class Run:
    """A finished child process: wall and CPU seconds (user + system, children included) and stdout."""

    wall: float
    cpu: float
    stdout: str
    returncode: int


def run(argv: Sequence[str], env: dict[str, str], allowed: Sequence[int] = (EXIT_OK,)) -> Run:
    """Run ``argv`` to completion; stop with its stderr if it exits with a status not in ``allowed``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LOAD.append(os.getloadavg()[0])
    if done.returncode not in allowed:
        sys.exit(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, done.stdout, done.returncode)


def estimate(env: dict[str, str], out: Path, *, loo: bool) -> tuple[Run, dict[str, float]]:
    """``dnamodel estimate --json`` in a fresh process: the run and the timings it printed."""
    argv = [sys.executable, "-m", "dnamodel", "estimate", MODEL, "--json", "--out", str(out)]
    done = run([*argv, *([] if loo else ["--no-loo"])], env, allowed=(EXIT_OK, EXIT_BAD_FIT))
    return done, json.loads(done.stdout)["timings"]


def imports(env: dict[str, str]) -> dict[str, float]:
    """Seconds to import PyMC and ArviZ, then nutpie and numba, in a fresh process."""
    return json.loads(run([sys.executable, "-c", IMPORT_PROBE], env).stdout)


def fit(sampler: str, seed: int, env: dict[str, str]) -> dict[str, Any]:
    """One fit of ``MODEL`` by ``sampler`` in a fresh process (this script with ``--worker``)."""
    done = run([sys.executable, __file__, "--worker", sampler, str(seed)], env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(sampler: str, seed: int) -> None:
    """Compile and sample once; print compile and sampling seconds, ESS, R-hat and divergences as JSON.

    nutpie: compile is ``compile_pymc_model``, sampling is ``nutpie.sample`` including its
    conversion to InferenceData. PyMC compiles inside ``pm.sample``: sampling is PyMC's own
    ``sampling_time`` (tune and draws, all chains), compile and set-up the rest of ``pm.sample``.
    Both import their libraries before the clock starts.
    """
    import arviz as az
    import numba  # noqa: F401  (imported before the clock starts, as PyMC is)
    import nutpie  # noqa: F401
    import pymc  # noqa: F401

    from dnamodel.data import load_data
    from dnamodel.inference.sampling import compile_model, quiet_arviz, sample
    from dnamodel.spec import load_model
    from dnamodel.spec.resolve import resolve_hierarchical

    quiet_arviz()
    spec = load_model(MODEL)
    settings = spec.sampler
    fitted = compile_model(resolve_hierarchical(spec, load_data()), sampler)
    idata = sample(
        fitted,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        seed=seed,
        target_accept=settings.target_accept,
    )
    if sampler == "nutpie":
        compile_seconds, sampling = fitted.timings.compile, fitted.timings.sample
    else:
        sampling = float(idata.posterior.attrs["sampling_time"])
        compile_seconds = fitted.timings.sample - sampling
    result = {
        "compile": compile_seconds,
        "sampling": sampling,
        "ess_bulk": float(az.ess(idata, var_names=["total"], method="bulk")["total"]),
        "ess_tail": float(az.ess(idata, var_names=["total"], method="tail")["total"]),
        "rhat": float(az.rhat(idata, var_names=["total"])["total"]),
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "draws": settings.draws,
        "tune": settings.tune,
        "chains": settings.chains,
    }
    print(json.dumps(result))


# --- formatting ------------------------------------------------------------------------------


def seconds(value: float) -> str:
    """Seconds to one decimal."""
    return f"{value:.1f} s"


def spread(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    """Median and range of ``values``."""
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def times(value: float) -> str:
    """A ratio: one decimal from 1 up, two below."""
    return f"{value:.1f}×" if value >= 1 else f"{value:.2f}×"


def ratio(numerators: Sequence[float], denominators: Sequence[float]) -> str:
    """Ratio of the medians, and the range of the pairwise ratios (same seed)."""
    middle = statistics.median(numerators) / statistics.median(denominators)
    if len(numerators) == 1:
        return times(middle)
    pairs = [n / d for n, d in zip(numerators, denominators, strict=True)]
    return f"{times(middle)} ({times(min(pairs))[:-1]}–{times(max(pairs))})"


def header() -> str:
    """Date, machine, versions, commit and source hashes: what the figures are of."""
    from importlib.metadata import version

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", *SOURCES], capture_output=True, text=True, cwd=ROOT)
    hashes = ", ".join(f"`{Path(p).name}` {hashlib.sha256((ROOT / p).read_bytes()).hexdigest()[:12]}" for p in SOURCES)
    memory = Path("/proc/meminfo").read_text().split()[1] if Path("/proc/meminfo").exists() else "0"
    packages = ", ".join(f"{name} {version(name)}" for name in ("pymc", "nutpie", "pytensor", "numba", "arviz"))
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} CPUs, {int(memory) / 2**20:.0f} GiB; "
        f"Python {platform.python_version()}, {packages}; commit {commit.stdout.strip()}"
        f"{' (sources modified)' if dirty.stdout.strip() else ''}; {hashes}; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )


# --- the two parts ---------------------------------------------------------------------------


def cold_start(scratch: Path) -> None:
    """Part 1: ``dnamodel estimate`` with empty caches, warm caches, and warm with leave-one-out."""
    probe_env = cache_env(scratch / "probe")
    imported = {"cold": imports(probe_env), "warm": imports(probe_env)}
    env = cache_env(scratch / "estimate")
    runs = {
        "cold": estimate(env, scratch / "out-cold", loo=False),
        "warm": estimate(env, scratch / "out-warm", loo=False),
    }
    loo_run, loo_timings = estimate(env, scratch / "out-loo", loo=True)

    stages = ("build", "compile", "sample", "predictive", "outputs")
    labels = {
        "import": "import PyMC, PyTensor, ArviZ (separate process)",
        "import_nutpie": "import nutpie, numba (separate process; inside `compile`)",
        "build": "model build (`pm.Model`)",
        "compile": "compile: nutpie's numba compile of logp and gradient, less its import",
        "sample": "sampling (nutpie, tune and draws, all chains)",
        "predictive": "prior and posterior predictive (PyTensor C functions)",
        "outputs": "outputs: NetCDF, CSV, 3 PNG figures",
        "other": "other work inside the fit (data checks, summaries, predictive checks)",
        "rest": "remainder: interpreter, dnamodel, data, replication, JSON",
    }
    parts: dict[str, dict[str, float]] = {}
    for name, (done, timings) in runs.items():
        imp = imported[name]
        part = {
            "import": imp["pymc"],
            "import_nutpie": imp["nutpie"],
            "build": timings["build"],
            "compile": timings["compile"] - imp["nutpie"],
            "sample": timings["sample"],
            "predictive": timings["predictive"],
            "outputs": timings["outputs"],
        }
        part["other"] = timings["total"] - sum(timings[s] for s in stages) - imp["pymc"]
        part["rest"] = done.wall - timings["total"]
        parts[name] = part

    cold, warm = runs["cold"][0], runs["warm"][0]
    print(f"### Cold start: `dnamodel estimate {MODEL} --json --no-loo`\n")
    print("| | empty caches (cold) | share | warm caches | share |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| **wall time** | **{seconds(cold.wall)}** | 100% | **{seconds(warm.wall)}** | 100% |")
    for key, label in labels.items():
        c, w = parts["cold"][key], parts["warm"][key]
        print(f"| {label} | {seconds(c)} | {c / cold.wall:.0%} | {seconds(w)} | {w / warm.wall:.0%} |")
    print(f"| CPU time, user + system | {seconds(cold.cpu)} | | {seconds(warm.cpu)} | |")
    gates = {name: "passed" if done.returncode == EXIT_OK else "FAILED" for name, (done, _) in runs.items()}
    print(f"| convergence gates | {gates['cold']} | | {gates['warm']} | |")
    print(
        f"\nWith the leave-one-out refits (the default), warm caches: wall {seconds(loo_run.wall)}, of which "
        f"leave-one-out {seconds(loo_timings['leave_one_out'])} and sampling the main fit "
        f"{seconds(loo_timings['sample'])}; CPU {seconds(loo_run.cpu)}; gates "
        f"{'passed' if loo_run.returncode == EXIT_OK else 'FAILED'}.\n"
    )


def ess_per_second(scratch: Path) -> None:
    """Part 2: ESS of ``total`` per second, nutpie against PyMC's NUTS, alternating, fresh processes."""
    from dnamodel.spec import load_model

    base_seed = load_model(MODEL).sampler.seed
    samplers = ("nutpie", "pymc")
    envs = {s: cache_env(scratch / f"ess-{s}") for s in samplers}
    first = {s: fit(s, base_seed, envs[s]) for s in samplers}
    warm: dict[str, list[dict[str, Any]]] = {s: [] for s in samplers}
    for k in range(SEEDS):
        for s in samplers:
            warm[s].append(fit(s, base_seed + k, envs[s]))

    def column(sampler: str, key: str) -> list[float]:
        return [r[key] for r in warm[sampler]]

    def per_second(sampler: str, ess: str, with_compile: bool) -> list[float]:
        return [r[ess] / (r["sampling"] + (r["compile"] if with_compile else 0.0)) for r in warm[sampler]]

    def cold(sampler: str) -> float:
        r = first[sampler]
        return r["ess_bulk"] / (r["compile"] + r["sampling"])

    r0 = first["nutpie"]
    print("### ESS of `total` per second: nutpie against PyMC's NUTS (baseline), same run\n")
    print(
        f"{r0['chains']} chains × ({r0['tune']} tune + {r0['draws']} draws), 2 cores each, `target_accept` from "
        f"the spec; {SEEDS} seeds ({base_seed}–{base_seed + SEEDS - 1}) with warm caches: median (range). "
        "Compile excludes the imports.\n"
    )
    print("| measured | nutpie | PyMC NUTS | nutpie ÷ PyMC |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        ("compile, empty caches (first run), s", [first["nutpie"]["compile"]], [first["pymc"]["compile"]], "{:.1f}"),
        ("compile (PyMC: and set-up), warm, s", column("nutpie", "compile"), column("pymc", "compile"), "{:.1f}"),
        ("sampling, s", column("nutpie", "sampling"), column("pymc", "sampling"), "{:.1f}"),
        ("bulk ESS of `total`", column("nutpie", "ess_bulk"), column("pymc", "ess_bulk"), "{:,.0f}"),
        ("tail ESS of `total`", column("nutpie", "ess_tail"), column("pymc", "ess_tail"), "{:,.0f}"),
        (
            "**bulk ESS/s, sampling**",
            per_second("nutpie", "ess_bulk", False),
            per_second("pymc", "ess_bulk", False),
            "{:,.0f}",
        ),
        (
            "tail ESS/s, sampling",
            per_second("nutpie", "ess_tail", False),
            per_second("pymc", "ess_tail", False),
            "{:,.0f}",
        ),
        (
            "bulk ESS/s, compile + sampling, warm caches",
            per_second("nutpie", "ess_bulk", True),
            per_second("pymc", "ess_bulk", True),
            "{:,.0f}",
        ),
        (
            "tail ESS/s, compile + sampling, warm caches",
            per_second("nutpie", "ess_tail", True),
            per_second("pymc", "ess_tail", True),
            "{:,.0f}",
        ),
        ("bulk ESS/s, compile + sampling, empty caches (first run)", [cold("nutpie")], [cold("pymc")], "{:,.0f}"),
        ("R-hat of `total`, largest", [max(column("nutpie", "rhat"))], [max(column("pymc", "rhat"))], "{:.3f}"),
    ]
    for label, nutpie_values, pymc_values, fmt in rows:
        quotient = "" if label.startswith("R-hat") else ratio(nutpie_values, pymc_values)
        print(f"| {label} | {spread(nutpie_values, fmt)} | {spread(pymc_values, fmt)} | {quotient} |")
    divergences = {s: ", ".join(str(int(r["divergences"])) for r in [first[s], *warm[s]]) for s in samplers}
    print(f"| divergences, each run (first run, then seeds) | {divergences['nutpie']} | {divergences['pymc']} | |")


def main() -> None:
    """Measure both parts and print them as Markdown."""
    import dnamodel

    if not Path(dnamodel.__file__).resolve().is_relative_to(ROOT):
        sys.exit(f"dnamodel is imported from {dnamodel.__file__}, not from {ROOT}: the hashes would not describe it")
    started = time.perf_counter()
    print(header() + "\n")
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as scratch:
        cold_start(Path(scratch))
        ess_per_second(Path(scratch))
    print(
        f"\nWhole benchmark: {(time.perf_counter() - started) / 60:.1f} min. 1-minute load average after each "
        f"of its {len(LOAD)} child processes: {min(LOAD):.1f}–{max(LOAD):.1f} (median {statistics.median(LOAD):.1f})."
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
