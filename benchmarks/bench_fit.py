"""What a user of ``dnamodel estimate`` feels, on the default model ``dated``: four figures, one run.

1. ``dnamodel estimate --json`` (leave-one-out and forecast refits included) as a fresh process
   with warm caches: its wall time, in seconds (target ≤ 15 s), and as a ratio to two baselines
   timed in the same run: ``python -c "import dnamodel"`` in a fresh process, and the main fit's
   sampling alone (the ``sample`` the command prints).
2. The same with cold caches: ``NUMBA_CACHE_DIR``, PyTensor's ``compiledir``, ``MPLCONFIGDIR``
   and ``XDG_CACHE_HOME`` each a new empty directory (target ≤ 30 s). Python's bytecode is not
   cleared: pip compiles it at install.
3. ESS per second of ``total`` (bulk and tail, ``arviz.ess``), the time being compile plus sampling:
   nutpie on the numba kernel against PyMC's default NUTS on the model's PyMC twin (baseline), the
   same draws, tuning, chains, seed and ``target_accept`` (the spec's). Each fit is a fresh process
   (this script with ``--worker SAMPLER SEED``) that imports the libraries before its clock starts;
   the clock then covers loading the kernel (nutpie) or building and compiling the twin (PyMC), and
   sampling. The samplers alternate; the first fit of each has empty caches, the rest warm (target
   ≥ 3× warm).
4. Where the time of one warm ``estimate`` goes (this script with ``--profile``): the imports, the
   kernel's load, the main fit's sampling, deriving the InferenceData, the refits, summaries and
   checks, the figures, the NetCDF. Timers around the package's own functions, in one fresh process.

Run: ``make bench-fit`` (about 45 minutes on 2 cores, most of it PyMC's sampling); ``--seeds N`` sets
the warm fits per sampler in part 3 (default 3) and ``--runs N`` the runs per case in parts 1-2
(default 3). Prints Markdown.
"""

import argparse
import contextlib
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

MODEL = "dated"
"""The default model (the bundled ``study.toml``'s ``[models] default``; ``main`` checks they agree)."""
EXIT_OK, EXIT_BAD_FIT = 0, 3
"""``dnamodel estimate``'s exit statuses for a fit that passed or failed its gates."""
SOURCES = (
    "dnamodel/inference/dated.py",
    "dnamodel/inference/dated_packing.py",
    "dnamodel/inference/dated_kernel.py",
    "dnamodel/inference/dated_quantities.py",
    "dnamodel/inference/dated_pymc.py",
    "dnamodel/checks/dated.py",
    "dnamodel/workflows/estimate.py",
    f"dnamodel/models/{MODEL}.toml",
)
ROOT = Path(__file__).resolve().parent.parent
ESTIMATE = [sys.executable, "-m", "dnamodel", "estimate", "--json", "--out"]
IMPORT = [sys.executable, "-c", "import dnamodel"]
LOAD: list[float] = []
"""The 1-minute load average after each child process: other work on the machine slows every figure."""


# --- processes -------------------------------------------------------------------------------


def cache_env(root: Path) -> dict[str, str]:
    """The environment with every cache a fit writes (numba, PyTensor, matplotlib, XDG) under ``root``."""
    env = dict(os.environ)
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith("compiledir=")]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"compiledir={root / 'pytensor'}"])
    env["NUMBA_CACHE_DIR"] = str(root / "numba")
    env["MPLCONFIGDIR"] = str(root / "matplotlib")
    env["XDG_CACHE_HOME"] = str(root / "xdg")
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


def estimate(env: dict[str, str], out: Path) -> tuple[Run, dict[str, float]]:
    """``dnamodel estimate --json`` (the default model, every check) in a fresh process, and its timings."""
    done = run([*ESTIMATE, str(out)], env, allowed=(EXIT_OK, EXIT_BAD_FIT))
    return done, json.loads(done.stdout)["timings"]


def fit(sampler: str, seed: int, env: dict[str, str]) -> dict[str, Any]:
    """One fit of ``MODEL`` by ``sampler`` in a fresh process (this script with ``--worker``)."""
    done = run([sys.executable, __file__, "--worker", sampler, str(seed)], env)
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"process": done.wall}


def worker(sampler: str, seed: int) -> None:
    """Fit once; print the compile and sampling seconds, ESS and R-hat of ``total``, divergences as JSON.

    The libraries both samplers use are imported before the clock starts. ``compile`` is what
    ``fit_dated`` times as ``load``: importing the numba kernel (from numba's cache, or compiling
    it) and wrapping it for nutpie; or building the PyMC twin and the part of ``pm.sample`` before
    and after its sampling (PyTensor's compile, initialisation). ``sampling`` is tuning and draws,
    all chains: nutpie's ``sample``, or PyMC's own ``sampling_time``.
    """
    import arviz as az
    import numba  # noqa: F401  (imported before the clock starts, as PyMC is)
    import nutpie.compile_pymc  # noqa: F401
    import pymc  # noqa: F401

    from dnamodel.families import load_model
    from dnamodel.inference.dated import fit_dated
    from dnamodel.inference.sampling import quiet_arviz

    quiet_arviz()
    spec = load_model(MODEL)
    settings = spec.sampler
    result = fit_dated(spec, seed=seed, sampler=sampler, prior_draws=100)
    idata, timings = result.idata, result.timings
    print(
        json.dumps(
            {
                "compile": timings["load"],
                "sampling": timings["sample"],
                "ess_bulk": float(az.ess(idata, var_names=["total"], method="bulk")["total"]),
                "ess_tail": float(az.ess(idata, var_names=["total"], method="tail")["total"]),
                "rhat": float(az.rhat(idata, var_names=["total"])["total"]),
                "divergences": int(idata.sample_stats["diverging"].sum()),
                "draws": settings.draws,
                "tune": settings.tune,
                "chains": settings.chains,
                "target_accept": settings.target_accept,
            }
        )
    )


@contextlib.contextmanager
def timed(into: dict[str, float], key: str) -> Iterator[None]:
    """Add the seconds the block takes to ``into[key]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        into[key] = into.get(key, 0.0) + time.perf_counter() - start


def wrap(owner: Any, name: str, into: dict[str, float], key: str) -> None:
    """Replace ``owner.name`` by itself with its seconds added to ``into[key]`` (this process only)."""
    inner = getattr(owner, name)

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        with timed(into, key):
            return inner(*args, **kwargs)

    setattr(owner, name, timed_call)


def profile(out: str) -> None:
    """Part 4's process: time the imports, then ``dnamodel estimate --json`` run through ``cli.main``.

    The libraries the command imports on first use are imported first, each timed, so that no
    stage below carries an import. Then the package's own functions are timed where they are
    called; ``estimate``'s printed timings give the sampling, deriving and refits.
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with timed(seconds, "import dnamodel (the command line's own imports)"):
        import dnamodel.cli as cli
    with timed(seconds, "import numba"):
        import numba  # noqa: F401
    with timed(seconds, "import nutpie (with ArviZ, xarray, matplotlib, which it imports)"):
        import nutpie.compile_pymc  # noqa: F401
    with timed(seconds, "import SciPy, pyarrow, netCDF4 and the rest"):
        import matplotlib.pyplot  # noqa: F401
        import pyarrow  # noqa: F401
        import scipy.special
        import scipy.stats  # noqa: F401
        import xarray  # noqa: F401

        with contextlib.suppress(ImportError):  # whichever engine xarray writes NetCDF with
            import netCDF4  # noqa: F401
        with contextlib.suppress(ImportError):
            import h5netcdf  # noqa: F401
    with timed(seconds, "kernel load (numba's cache: the log density and both callbacks)"):
        from dnamodel.inference import dated_kernel  # noqa: F401
    imported = time.perf_counter() - started

    from dnamodel.families import dated as dated_family
    from dnamodel.outputs import dated as dated_outputs
    from dnamodel.outputs import io, plots

    stages: dict[str, float] = {}
    for name in ("total_posterior_plot", "prior_predictive_plot"):
        wrap(plots, name, stages, "figures")
    for name in ("campaign_plot", "covariate_plot"):
        wrap(dated_outputs, name, stages, "figures")
    wrap(io, "write_netcdf", stages, "netcdf")
    wrap(dated_family, "summarize_fit", stages, "summary")
    wrap(dated_family, "dated_predictive_checks", stages, "checks")
    wrap(dated_family, "dated_prior_check", stages, "checks")
    printed = StringIO()
    with contextlib.redirect_stdout(printed):
        status = cli.main(["estimate", "--json", "--out", out])
    if status not in (EXIT_OK, EXIT_BAD_FIT):
        sys.exit(f"dnamodel estimate exited with {status}")
    timings = json.loads(printed.getvalue())["timings"]
    main = time.perf_counter() - started
    print(json.dumps({"imports": seconds, "imported": imported, "stages": stages, "timings": timings, "main": main}))


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
    """Ratio of the medians, and the range of the pairwise ratios (same run, same position)."""
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


# --- the four parts --------------------------------------------------------------------------


def estimates(scratch: Path, runs: int) -> None:
    """Parts 1 and 2: ``estimate`` warm and cold, each against ``import dnamodel`` and its own sampling."""
    warm_env = cache_env(scratch / "warm")
    estimate(warm_env, scratch / "out")  # fills the warm caches; not counted
    imports: list[float] = []
    results: dict[str, list[tuple[Run, dict[str, float]]]] = {"warm": [], "cold": []}
    for k in range(runs):  # interleaved, so that a change in the machine's load touches all three
        imports.append(run(IMPORT, warm_env).wall)
        results["warm"].append(estimate(warm_env, scratch / "out"))
        results["cold"].append(estimate(cache_env(scratch / f"cold-{k}"), scratch / "out"))
    wall = {name: [r.wall for r, _ in done] for name, done in results.items()}
    sample = {name: [t["sample"] for _, t in done] for name, done in results.items()}

    def row(label: str, warm: str, cold: str, target: str = "") -> None:
        print(f"| {label} | {warm} | {cold} | {target} |")

    print("### 1-2. `python -m dnamodel estimate --json --out DIR`: every check, a fresh process each\n")
    print(
        f"Leave-one-out and forecast refits included. {runs} runs of each, interleaved: median (range); a ratio "
        "is of the medians, with the range of the ratios within a round. Cold: `NUMBA_CACHE_DIR`, PyTensor's "
        "`compiledir`, `MPLCONFIGDIR` and `XDG_CACHE_HOME` new and empty for each run.\n"
    )
    row("measured", "warm caches", "cold caches", "target")
    row("---", "---:", "---:", "---")
    row("**wall time, s**", *(f"**{spread(wall[n], '{:.1f}')}**" for n in results), "≤ 15 s warm, ≤ 30 s cold")
    row('baseline: `python -c "import dnamodel"`, s', spread(imports, "{:.2f}"), "(the same runs)")
    row("**estimate ÷ import dnamodel**", *(f"**{ratio(wall[n], imports)}**" for n in results))
    row("baseline: the main fit's sampling alone (`sample`), s", *(spread(sample[n], "{:.1f}") for n in results))
    row("**estimate ÷ its sampling**", *(f"**{ratio(wall[n], sample[n])}**" for n in results))
    for key in ("load", "sample", "derive", "leave_one_out", "forecasts", "outputs", "total"):
        row(f"`{key}` (as printed), s", *(spread([t[key] for _, t in results[n]], "{:.1f}") for n in results))
    row("CPU time, user + system, s", *(spread([r.cpu for r, _ in results[n]], "{:.1f}") for n in results))
    row(
        "runs whose fit passed its gates",
        *(f"{sum(r.returncode == EXIT_OK for r, _ in results[n])} of {runs}" for n in results),
    )
    print()


def ess_per_second(scratch: Path, n_seeds: int) -> None:
    """Part 3: ESS of ``total`` per second of compile plus sampling, nutpie against PyMC, fresh processes."""
    from dnamodel.families import load_model

    base_seed = load_model(MODEL).sampler.seed
    samplers = ("nutpie", "pymc")
    envs = {s: cache_env(scratch / f"ess-{s}") for s in samplers}
    first = {s: fit(s, base_seed, envs[s]) for s in samplers}
    warm: dict[str, list[dict[str, Any]]] = {s: [] for s in samplers}
    for k in range(n_seeds):
        for s in samplers:
            warm[s].append(fit(s, base_seed + k, envs[s]))

    def column(sampler: str, key: str) -> list[float]:
        return [r[key] for r in warm[sampler]]

    def per_second(runs: list[dict[str, Any]], ess: str, with_compile: bool) -> list[float]:
        return [r[ess] / (r["sampling"] + (r["compile"] if with_compile else 0.0)) for r in runs]

    r0 = first["nutpie"]
    print("### 3. ESS of `total` per second: nutpie on the numba kernel against PyMC's NUTS on the twin\n")
    print(
        f"Commands: `python benchmarks/bench_fit.py --worker nutpie SEED` and `--worker pymc SEED`, fresh "
        f"processes, alternating. {r0['chains']} chains × ({r0['tune']} tune + {r0['draws']} draws), "
        f"`target_accept` {r0['target_accept']}, both samplers on {min(r0['chains'], os.cpu_count() or 1)} cores; "
        f"the first fit of each with empty caches (seed {base_seed}), then {n_seeds} seeds "
        f"({base_seed}–{base_seed + n_seeds - 1}) with warm caches: median (range). The time is compile "
        "plus sampling, after the libraries' imports.\n"
    )
    print("| measured | nutpie, kernel | PyMC NUTS, twin | nutpie ÷ PyMC |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        (
            "compile (kernel load; PyMC: build, compile, set-up), warm, s",
            column("nutpie", "compile"),
            column("pymc", "compile"),
            "{:.1f}",
        ),
        ("compile, empty caches (first run), s", [first["nutpie"]["compile"]], [first["pymc"]["compile"]], "{:.1f}"),
        ("sampling, s", column("nutpie", "sampling"), column("pymc", "sampling"), "{:.1f}"),
        ("bulk ESS of `total`", column("nutpie", "ess_bulk"), column("pymc", "ess_bulk"), "{:,.0f}"),
        ("tail ESS of `total`", column("nutpie", "ess_tail"), column("pymc", "ess_tail"), "{:,.0f}"),
        (
            "**bulk ESS/s, compile + sampling, warm caches**",
            per_second(warm["nutpie"], "ess_bulk", True),
            per_second(warm["pymc"], "ess_bulk", True),
            "{:,.1f}",
        ),
        (
            "tail ESS/s, compile + sampling, warm caches",
            per_second(warm["nutpie"], "ess_tail", True),
            per_second(warm["pymc"], "ess_tail", True),
            "{:,.1f}",
        ),
        (
            "bulk ESS/s, compile + sampling, empty caches (first run)",
            per_second([first["nutpie"]], "ess_bulk", True),
            per_second([first["pymc"]], "ess_bulk", True),
            "{:,.1f}",
        ),
        (
            "bulk ESS/s, sampling alone, warm",
            per_second(warm["nutpie"], "ess_bulk", False),
            per_second(warm["pymc"], "ess_bulk", False),
            "{:,.1f}",
        ),
        (
            "whole worker process (imports included), warm, s",
            column("nutpie", "process"),
            column("pymc", "process"),
            "{:.1f}",
        ),
        ("R-hat of `total`, largest", [max(column("nutpie", "rhat"))], [max(column("pymc", "rhat"))], "{:.3f}"),
    ]
    for label, nutpie_values, pymc_values, fmt in rows:
        quotient = "" if label.startswith("R-hat") else ratio(nutpie_values, pymc_values)
        print(f"| {label} | {spread(nutpie_values, fmt)} | {spread(pymc_values, fmt)} | {quotient} |")
    divergences = {s: ", ".join(str(int(r["divergences"])) for r in [first[s], *warm[s]]) for s in samplers}
    print(f"| divergences, each run (first run, then seeds) | {divergences['nutpie']} | {divergences['pymc']} | |\n")


def profiled(scratch: Path) -> None:
    """Part 4: where one warm ``estimate`` spends its time, by timers in one fresh process."""
    env = cache_env(scratch / "warm")
    done = run([sys.executable, __file__, "--profile", str(scratch / "out-profile")], env)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    timings, stages = found["timings"], found["stages"]
    rows: list[tuple[str, float]] = [(label, value) for label, value in found["imports"].items()]
    rows += [
        ("nutpie's set-up and reading its trace, main fit (`load`; the kernel imported above)", timings["load"]),
        ("sampling the main fit (nutpie; `sample`)", timings["sample"]),
        (
            "deriving the InferenceData (`derive`: quantities, predictive, log densities, prior draws)",
            timings["derive"],
        ),
        ("summary: gates (R-hat, ESS), intervals, citation", stages.get("summary", 0.0)),
        ("posterior predictive and prior checks", stages.get("checks", 0.0)),
        ("leave-one-out refits (`leave_one_out`)", timings["leave_one_out"]),
        ("forecast refits (`forecasts`)", timings["forecasts"]),
        ("figures (4 PNG)", stages.get("figures", 0.0)),
        ("NetCDF", stages.get("netcdf", 0.0)),
        (
            "rest of outputs (CSV, the prior check for its figure)",
            timings["outputs"] - stages.get("figures", 0.0) - stages.get("netcdf", 0.0),
        ),
    ]
    accounted = sum(value for _, value in rows)
    rows.append(("rest inside the process (data, spec, JSON, ...)", found["main"] - accounted))
    rows.append(("interpreter start and exit (process wall − in-process time)", done.wall - found["main"]))
    print("### 4. Where one warm `estimate` spends its time\n")
    print(
        "Command: `python benchmarks/bench_fit.py --profile DIR` (warm caches): imports first, each timed, then "
        "`dnamodel estimate --json --out DIR` through `cli.main` with timers around the package's functions.\n"
    )
    print("| stage | seconds | share |")
    print("| --- | ---: | ---: |")
    for label, value in rows:
        print(f"| {label} | {value:.2f} | {value / done.wall:.0%} |")
    print(f"| **process wall time** | **{done.wall:.2f}** | 100% |\n")


def main() -> None:
    """Measure the four parts and print them as Markdown."""
    import dnamodel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="warm fits per sampler in part 3")
    parser.add_argument("--runs", type=int, default=3, help="runs of estimate per case in parts 1 and 2")
    parser.add_argument("--parts", default="1234", help="which parts to run (1 and 2 run together)")
    args = parser.parse_args()
    if not Path(dnamodel.__file__).resolve().is_relative_to(ROOT):
        sys.exit(f"dnamodel is imported from {dnamodel.__file__}, not from {ROOT}: the hashes would not describe it")
    default = dnamodel.load_data().study.models.default  # the bundled study.toml's [models] default
    if default != MODEL:
        sys.exit(f"the default model is {default!r}, not {MODEL!r}: update MODEL and SOURCES")
    started = time.perf_counter()
    print(header() + "\n")
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as scratch:
        if "1" in args.parts or "2" in args.parts:
            estimates(Path(scratch), args.runs)
        if "4" in args.parts:
            if not (Path(scratch) / "warm").exists():
                estimate(cache_env(Path(scratch) / "warm"), Path(scratch) / "out")  # fills the warm caches
            profiled(Path(scratch))
        if "3" in args.parts:
            ess_per_second(Path(scratch), args.seeds)
    print(
        f"Whole benchmark: {(time.perf_counter() - started) / 60:.1f} min. 1-minute load average after each "
        f"of its {len(LOAD)} child processes: {min(LOAD):.1f}–{max(LOAD):.1f} (median {statistics.median(LOAD):.1f})."
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1:2] == ["--profile"]:
        profile(sys.argv[2])
    else:
        main()
