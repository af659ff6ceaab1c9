"""What a user of the Monte Carlo engine feels: draws per second, peak memory, accuracy per draw.

Every figure is for ``dnamodel/models/report_mc.toml`` and is reported beside a baseline measured in the
same run:

1. ``summarize`` of 10**7 draws, against NumPy generating the same uniforms (one per random input
   per draw) in the same chunks: the random-number limit. The ratio is taken in each repeat (both
   timed in it) and given as the median with its range. The parts, against the same baseline, show
   where the time goes: the engine's uniforms (``UniformSource`` in blocks of 2**14 draws), then
   the compiled interpreter on them (``Engine.blocks``), the interpreter alone on a pre-generated
   block and cut to its inverse CDFs, the summary kernels alone (``_Collector.add``), and the
   summary's share (what ``summarize`` takes beyond uniforms then interpreter). The NumPy reference
   (``Engine.draws``) on the same draws shows what the interpreter replaces. ``summarize`` of 10**6
   draws (its default, one chunk, by the NumPy reference) per draw, against 10**7 per draw.
2. A per-draw Python loop of the same model (``random.Random``, plain arithmetic), against
   ``summarize`` of as many draws, and per draw against ``summarize`` of 10**7.
3. squigglepy, by distribution algebra (10**6 draws) and by its per-draw model function (10**4),
   against ``summarize`` of as many draws. squigglepy is no dependency of dnamodel: ``make
   bench-mc`` installs it in ``.venv-bench``; elsewhere these rows are skipped, with the reason.
4. Peak memory (RSS) and wall time of ``summarize`` of 10**8 draws in a child process, against a
   child that only imports dnamodel and loads the spec. Then what numba's compile costs a user:
   the first ``summarize`` of 2**21 draws (two chunks: through the compiled kernels) in a fresh
   process with an empty ``NUMBA_CACHE_DIR`` (cold: it compiles), against the same process again
   with the cache the first left (warm: it loads); the warm one, and ``dnamodel mc report_mc`` (one
   chunk: no numba), against the child that only loads the spec.
5. Quasi- against pseudo-random draws: the RMSE, over independent seeds, of the 5%, 50% and 95%
   quantiles of ``total`` against their exact values, and how many draws each needs for the same
   RMSE. The exact quantiles are computable because ``total`` is linear in the model's one
   continuous input: for each combination of the choices it is uniform on an interval.

The loop and squigglepy must give the engine's mean within four combined standard errors, and the
mean of the engine's MC quantile estimates at the largest size must be within four standard errors
of the exact quantiles: each comparison is of the same model, or the script stops.

Run: ``make bench-mc`` (about two minutes on 2 cores). Prints Markdown tables.
"""

import bisect
import hashlib
import importlib.util
import itertools
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize

from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.montecarlo import engine as engine_module
from dnamodel.montecarlo import kernels as kernels_module
from dnamodel.montecarlo import program as program_module
from dnamodel.montecarlo import run as run_module
from dnamodel.montecarlo.engine import BLOCK_DRAWS, DEFAULT_CHUNK, Engine, UniformSource
from dnamodel.montecarlo.kernels import CHOICE, CONSTANT, COPY, EMPIRICAL, TRIANGULAR, UNIFORM, compiled
from dnamodel.montecarlo.run import QMC_REPLICATES, SUMMARISED, _Collector, stream_summary

MODEL = "report_mc"
SEED = 20221116
THROUGHPUT_DRAWS = 10**7
ONE_CHUNK_DRAWS = 10**6
"""``summarize``'s default: fewer draws than one chunk, so its quantiles come from all of them."""
LOOP_DRAWS = 10**5
SQUIGGLE_DRAWS = 10**6
SQUIGGLE_FUNCTION_DRAWS = 10**4
MEMORY_DRAWS = 10**8
FIRST_CALL_DRAWS = 2**21
"""Two default chunks: the least ``summarize`` streams through the compiled kernels."""
FIRST_CALL_REPEATS = 3
"""Fresh numba caches, each used by one cold process then one warm one."""
TARGET = 1.5
"""Issue 12's goal for ``summarize(report_mc, 10**7)`` against the random-number limit."""
REPEATS = 5
"""Repeats of every in-process timing but squigglepy's (one run each: they take seconds)."""
AGREEMENT = 4.0
"""Standard errors within which two estimates of the same quantity must agree."""
ACCURACY_PROBABILITIES = (0.05, 0.5, 0.95)
ACCURACY_POWERS = (6, 8, 10, 12, 14, 16)
"""Draws per QMC replicate, as powers of 2: runs of 16 × 2**k draws, MC and QMC alike."""
ACCURACY_SEEDS = 40
"""Independent runs per method and size: the RMSE is then known to about ±11% (1/√(2·40))."""


# --- report_mc by hand ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInputs:
    """report_mc's inputs as plain Python numbers, from the engine's resolved spec."""

    point: dict[str, float]
    """Inputs known exactly."""
    choices: dict[str, tuple[list[float], list[float]]]
    """Each choice's values and weights."""
    rest_position: tuple[float, float]
    """The uniform input's low and high."""

    @classmethod
    def of(cls, engine: Engine) -> "ReportInputs":
        """Read the numbers from ``engine``; they are what the spec resolves to."""
        point, choices = {}, {}
        for name, spec_input in engine.inputs.items():
            if spec_input.dist == "point":
                point[name] = float(spec_input.params["value"])
            elif spec_input.dist == "choice":
                values = [float(v) for v in spec_input.params["values"]]
                weights = spec_input.params.get("weights") or [1 / len(values)] * len(values)
                choices[name] = (values, [float(w) for w in weights])
        uniform = engine.inputs["rest_position"].params
        return cls(point, choices, (float(uniform["low"]), float(uniform["high"])))


def report_total(
    c: dict[str, float],
    population: float,
    rest_position: float,
    zhagyab_later: float,
    zhagyab_base: float,
    lhasa_base: float,
    nyingchi_like_lhasa: float,
) -> float:
    """report_mc's ``[quantities]`` for one draw, written out by hand; ``c`` holds the point inputs."""
    lhorong_rate = c["lhorong_samples"] / c["lhorong_population"]
    zhagyab_rate = (c["zhagyab_samples"] + zhagyab_later) / zhagyab_base
    rest_rate = lhorong_rate + rest_position * (zhagyab_rate - lhorong_rate)
    lhasa_samples = c["qushui_samples"] / c["qushui_database_share"]
    lhasa_rate = lhasa_samples / lhasa_base
    nyingchi_rate = lhasa_rate if nyingchi_like_lhasa else rest_rate
    rest_population = population - c["lhasa_census"] - c["nyingchi_population"]
    return rest_population * rest_rate + lhasa_samples + c["nyingchi_population"] * nyingchi_rate


def python_loop(inputs: ReportInputs, draws: int, seed: int) -> tuple[float, float]:
    """Mean of ``total`` and its standard error from a per-draw loop in plain Python.

    Each draw takes one ``random()`` per random input, in the spec's column order, and maps it as
    the engine does: a choice by its cumulative weights, the uniform linearly.
    """
    rng = random.Random(seed)
    c = inputs.point
    low, high = inputs.rest_position
    edges = {name: list(itertools.accumulate(weights))[:-1] for name, (_, weights) in inputs.choices.items()}
    population, zhagyab_later, zhagyab_base, lhasa_base, nyingchi = (
        (inputs.choices[name][0], edges[name])
        for name in ("population", "zhagyab_later", "zhagyab_base", "lhasa_base", "nyingchi_like_lhasa")
    )
    totals = []
    for _ in range(draws):
        drawn_population = population[0][bisect.bisect_right(population[1], rng.random())]
        position = low + rng.random() * (high - low)
        later = zhagyab_later[0][bisect.bisect_right(zhagyab_later[1], rng.random())]
        base = zhagyab_base[0][bisect.bisect_right(zhagyab_base[1], rng.random())]
        lhasa = lhasa_base[0][bisect.bisect_right(lhasa_base[1], rng.random())]
        like_lhasa = nyingchi[0][bisect.bisect_right(nyingchi[1], rng.random())]
        total = report_total(c, drawn_population, position, later, base, lhasa, like_lhasa)
        totals.append(total)
        _share = total / drawn_population  # the engine computes share too
    return statistics.fmean(totals), statistics.stdev(totals) / math.sqrt(draws)


def exact_quantiles(inputs: ReportInputs, probabilities: tuple[float, ...]) -> dict[float, float]:
    """The exact quantiles of ``total``.

    ``total`` is linear in ``rest_position``, so given the choices it is uniform between its
    values at the uniform's two ends; its CDF is the weighted mean of those uniform CDFs.
    """
    names = list(inputs.choices)
    starts, widths, weights = [], [], []
    options = [list(zip(*inputs.choices[name], strict=True)) for name in names]
    for combination in itertools.product(*options):
        chosen = {name: value for name, (value, _) in zip(names, combination, strict=True)}
        ends = [report_total(inputs.point, rest_position=end, **chosen) for end in inputs.rest_position]
        starts.append(ends[0])
        widths.append(ends[1] - ends[0])
        weights.append(math.prod(weight for _, weight in combination))
    start, width, weight = np.array(starts), np.array(widths), np.array(weights)

    def cdf(t: float) -> float:
        return float(np.sum(weight * np.clip((t - start) / width, 0.0, 1.0)))

    low, high = float(start.min()), float((start + width).max())
    return {p: optimize.brentq(lambda t, p=p: cdf(t) - p, low, high, xtol=1e-6) for p in probabilities}


# --- report_mc in squigglepy ------------------------------------------------------------------


def squigglepy_models(inputs: ReportInputs) -> tuple[Any, Callable[[], float]]:
    """report_mc as a squigglepy distribution, and as a squigglepy per-draw model function.

    squigglepy samples every occurrence of a distribution in an expression independently
    (``x - x`` is not 0), and report_mc uses the rate outside Lhasa and Nyingchi twice when
    Nyingchi collects like the rest. The algebra therefore splits on that choice with
    ``sq.mixture``: within each branch every random input appears once, so the mixture has
    report_mc's distribution of ``total`` exactly. The choices are ``sq.discrete``. The function
    form is squigglepy's pattern for shared inputs (``~dist`` draws once, per call).
    """
    import squigglepy as sq

    c = inputs.point

    def choice(name: str) -> Any:
        values, weights = inputs.choices[name]
        return sq.discrete(dict(zip(values, weights, strict=True)))

    population, later, base, lhasa_base = (
        choice(n) for n in ("population", "zhagyab_later", "zhagyab_base", "lhasa_base")
    )
    position = sq.uniform(*inputs.rest_position)
    lhorong_rate = c["lhorong_samples"] / c["lhorong_population"]
    lhasa_samples = c["qushui_samples"] / c["qushui_database_share"]
    rest_rate = lhorong_rate + position * ((c["zhagyab_samples"] + later) / base - lhorong_rate)
    like_lhasa = (
        (population - c["lhasa_census"] - c["nyingchi_population"]) * rest_rate
        + lhasa_samples
        + c["nyingchi_population"] * lhasa_samples / lhasa_base
    )
    like_rest = (population - c["lhasa_census"]) * rest_rate + lhasa_samples
    values, weights = inputs.choices["nyingchi_like_lhasa"]
    branch_weights = [weights[values.index(1.0)], weights[values.index(0.0)]]
    algebra = sq.mixture([like_lhasa, like_rest], branch_weights)

    nyingchi = choice("nyingchi_like_lhasa")

    def per_draw() -> float:
        return report_total(c, ~population, ~position, ~later, ~base, ~lhasa_base, ~nyingchi)

    return algebra, per_draw


def squigglepy_sample(model: Any, draws: int, seed: int) -> np.ndarray:
    """``sq.sample`` with squigglepy's generator seeded, and without its progress bar."""
    import squigglepy as sq

    sq.set_seed(seed)
    return np.asarray(sq.sample(model, n=draws, verbose=False), dtype=float)


# --- measuring --------------------------------------------------------------------------------


def seconds(action: Callable[[], object]) -> float:
    """Wall time of one call of ``action``."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def interleaved(actions: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Wall times of each action, the actions taking turns so that load drifts alike on all."""
    timings: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            timings[name].append(seconds(action))
    return timings


def interleaved_medians(actions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each action, the actions taking turns so that load drifts alike on all."""
    return {name: statistics.median(values) for name, values in interleaved(actions, repeats).items()}


def spread(values: list[float]) -> str:
    """Median (lowest–highest), as a ratio."""
    return f"{statistics.median(values):.2f}× ({min(values):.2f}–{max(values):.2f}×)"


def command() -> str:
    """How this script was run, relative to the working directory where it can be."""
    executable = Path(sys.executable)
    with_dots = os.path.relpath(executable) if executable.is_relative_to(Path.cwd()) else str(executable)
    return " ".join([with_dots, *sys.argv])


LAUNCHER = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run([sys.executable, "-c", sys.argv[1]], check=True)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Runs one child and prints its wall time (s) and peak RSS (KiB, as Linux reports ``ru_maxrss``).

Linux carries a process's peak RSS across ``exec`` from the process that forked it, so a child of
this (large) benchmark would report at least the benchmark's own size. The launcher is small.
"""


def child(code: str, environment: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of a fresh ``python -c code``, started by :data:`LAUNCHER`."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, code], check=True, stdout=subprocess.PIPE, text=True, env=environment
    )
    elapsed, peak_kib = launched.stdout.split()
    return float(elapsed), int(peak_kib) * 1024 / 1e6


def check_agreement(what: str, mean: float, error: float, engine_mean: float, engine_error: float) -> None:
    """Stop unless ``mean`` is within :data:`AGREEMENT` combined standard errors of the engine's."""
    combined = math.hypot(error, engine_error)
    if abs(mean - engine_mean) > AGREEMENT * combined:
        raise AssertionError(
            f"{what}: mean {mean:,.0f} ± {error:,.0f} against the engine's {engine_mean:,.0f} ± {engine_error:,.0f}, "
            f"{abs(mean - engine_mean) / combined:.1f} standard errors apart: not the same model"
        )


def duration(value: float) -> str:
    """A time in the unit that reads best."""
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.2f} µs"


def log_log(sizes: list[int], rmse: list[float], target: float) -> float | None:
    """Draws at which ``rmse`` reaches ``target``, interpolated linearly on log-log axes.

    The segment used is the one at the most draws that brackets ``target``; None if none does.
    """
    for i in range(len(sizes) - 1, 0, -1):
        low, high = sorted((rmse[i - 1], rmse[i]))
        if low <= target <= high and rmse[i - 1] != rmse[i]:
            fraction = math.log(target / rmse[i - 1]) / math.log(rmse[i] / rmse[i - 1])
            return math.exp(math.log(sizes[i - 1]) + fraction * math.log(sizes[i] / sizes[i - 1]))
    return None


# --- the five measurements --------------------------------------------------------------------


Row = tuple[str, str, str, str, str]
"""measured, its figure, baseline, its figure, ratio."""


def throughput(engine: Engine, spec: Any, data: Any) -> tuple[list[Row], Any, float, list[float]]:
    """Rows for ``summarize`` of 10**7 draws and its parts against the NumPy RNG limit.

    Also returns the last summary, the median time of ``summarize`` and its per-repeat ratios.
    """
    dimension = len(engine.random)
    block = next(engine.uniforms(BLOCK_DRAWS, SEED))  # the engine's own layout of a block
    chunk = next(engine.uniforms(DEFAULT_CHUNK, SEED))
    blocks = THROUGHPUT_DRAWS // BLOCK_DRAWS  # the parts on pre-generated blocks: about 10**7 draws

    def sizes() -> list[int]:
        full, rest = divmod(THROUGHPUT_DRAWS, DEFAULT_CHUNK)
        return [DEFAULT_CHUNK] * full + ([rest] if rest else [])

    def numpy_rng() -> None:
        rng = np.random.default_rng(SEED)
        for size in sizes():
            rng.random((size, dimension))

    def engine_uniforms() -> None:
        source = UniformSource(dimension, SEED)
        buffer = np.empty((BLOCK_DRAWS, dimension), order="F")
        for start in range(0, THROUGHPUT_DRAWS, BLOCK_DRAWS):
            source.fill(buffer[: min(BLOCK_DRAWS, THROUGHPUT_DRAWS - start)])

    def engine_blocks() -> None:
        for _ in engine.blocks(UniformSource(dimension, SEED), THROUGHPUT_DRAWS, SUMMARISED):
            pass

    outputs = np.empty((BLOCK_DRAWS, len(SUMMARISED)), order="F")

    def interpreter() -> None:
        for _ in range(blocks):
            engine.interpret(block, SUMMARISED, outputs)

    # The program cut to its constants and inverse CDFs: what drawing the inputs alone costs.
    program = engine.program
    drawing = (CONSTANT, UNIFORM, TRIANGULAR, CHOICE, EMPIRICAL, COPY)
    inverse_code = np.ascontiguousarray(program.code[np.isin(program.code[:, 0], drawing)])
    # two rows copied out, as the whole program copies total and share
    random_rows = program.outputs(engine.random[: len(SUMMARISED)])
    flat_block, drawn = block.ravel(order="F"), np.empty(BLOCK_DRAWS * len(SUMMARISED))

    def inverse_cdfs() -> None:
        run_program = compiled().run_program
        for _ in range(blocks):
            run_program(inverse_code, program.numbers, flat_block, BLOCK_DRAWS, program.rows, random_rows, drawn)

    engine.interpret(block, SUMMARISED, outputs)
    collectors = {name: _Collector.start(outputs[:, k].copy(), only=False) for k, name in enumerate(SUMMARISED)}

    def summary_kernels() -> None:
        for _ in range(blocks):
            for k, name in enumerate(SUMMARISED):
                collectors[name].add(outputs[:, k])

    def reference_draws() -> None:
        drawn = None
        for size in sizes():
            drawn = engine.draws(chunk[:size])
        del drawn

    summaries = []
    timings = interleaved(
        {
            "rng": numpy_rng,
            "summarize": lambda: summaries.append(stream_summary(spec, THROUGHPUT_DRAWS, SEED, data=data)),
            "uniforms": engine_uniforms,
            "blocks": engine_blocks,
            "interpreter": interpreter,
            "inverse": inverse_cdfs,
            "summary kernels": summary_kernels,
            "reference": reference_draws,
            "one chunk": lambda: stream_summary(spec, ONE_CHUNK_DRAWS, SEED, data=data),
        },
        REPEATS,
    )
    medians = {name: statistics.median(values) for name, values in timings.items()}
    ratios = {name: [t / r for t, r in zip(values, timings["rng"], strict=True)] for name, values in timings.items()}
    ratios["summary"] = [
        (s - b) / r for s, b, r in zip(timings["summarize"], timings["blocks"], timings["rng"], strict=True)
    ]
    medians["summary"] = statistics.median(
        s - b for s, b in zip(timings["summarize"], timings["blocks"], strict=True)
    )  # within each repeat, as its ratio
    rng = medians["rng"]
    baseline = f"NumPy `default_rng().random`, {dimension} × 10^7 uniforms in 2^20-row chunks"
    parts = [
        (f"**`summarize(report_mc, 10**7)`** (target ≤ {TARGET}×)", "summarize"),
        ("`UniformSource.fill`, 10^7 draws in 2^14-draw blocks (the engine's sampling)", "uniforms"),
        ("`Engine.blocks`: uniforms then the compiled interpreter, 10^7 draws, no summary", "blocks"),
        ("`Engine.interpret` alone, 10^7 draws, on a pre-generated 2^14-draw block", "interpreter"),
        ("... of which the 6 inverse CDFs (the program cut to them)", "inverse"),
        ("summary kernels alone (`_Collector.add`), 10^7 draws of `total` and `share`", "summary kernels"),
        ("summary's share (`summarize` − `Engine.blocks`)", "summary"),
        ("`Engine.draws` (the NumPy reference) alone, 10^7 draws, on pre-generated chunks", "reference"),
    ]
    rows = [(name, duration(medians[key]), baseline, duration(rng), spread(ratios[key])) for name, key in parts]
    per_draw = medians["summarize"] / THROUGHPUT_DRAWS
    one_chunk = medians["one chunk"] / ONE_CHUNK_DRAWS
    rows.append(
        (
            "`summarize`, 10^6 draws (one chunk: exact quantiles, NumPy reference), per draw",
            duration(one_chunk),
            "`summarize` of 10^7, per draw",
            duration(per_draw),
            f"{one_chunk / per_draw:.1f}×",
        )
    )
    return rows, summaries[-1], medians["summarize"], ratios["summarize"]


def python_loop_rows(
    inputs: ReportInputs, spec: Any, data: Any, engine_per_draw: float, engine_mean: float, engine_error: float
) -> list[Row]:
    """Rows for the per-draw Python loop, after checking it gives the engine's mean."""
    results = []
    medians = interleaved_medians(
        {
            "loop": lambda: results.append(python_loop(inputs, LOOP_DRAWS, SEED)),
            "summarize": lambda: stream_summary(spec, LOOP_DRAWS, SEED, data=data),
        },
        REPEATS,
    )
    check_agreement("Python loop", *results[-1], engine_mean, engine_error)
    loop, engine = medians["loop"], medians["summarize"]
    per_draw = loop / LOOP_DRAWS
    return [
        (
            "Python loop, 10^5 draws",
            duration(loop),
            "`summarize`, 10^5 draws",
            duration(engine),
            f"{loop / engine:.0f}×",
        ),
        (
            "Python loop, per draw",
            duration(per_draw),
            "`summarize` of 10^7, per draw",
            duration(engine_per_draw),
            f"{per_draw / engine_per_draw:.0f}×",
        ),
    ]


def squigglepy_rows(inputs: ReportInputs, spec: Any, data: Any, engine_mean: float, engine_error: float) -> list[Row]:
    """Rows for squigglepy, or rows saying why they were skipped."""
    names = ("squigglepy, algebra and mixture, 10^6 draws", "squigglepy, per-draw model function, 10^4 draws")
    baselines = ("`summarize`, 10^6 draws", "`summarize`, 10^4 draws")
    if importlib.util.find_spec("squigglepy") is None:
        reason = f"skipped: squigglepy is not installed in {sys.prefix} (`make bench-mc` installs it in .venv-bench)"
        print(reason, file=sys.stderr)
        return [(name, reason, baseline, "", "") for name, baseline in zip(names, baselines, strict=True)]
    try:
        algebra, per_draw = squigglepy_models(inputs)
        squigglepy_sample(algebra, 1000, SEED)  # warm up: the first call pays one-off costs
        started = time.perf_counter()
        algebra_draws = squigglepy_sample(algebra, SQUIGGLE_DRAWS, SEED)
        algebra_time = time.perf_counter() - started
        started = time.perf_counter()
        function_draws = squigglepy_sample(per_draw, SQUIGGLE_FUNCTION_DRAWS, SEED + 1)
        function_time = time.perf_counter() - started
    except Exception as error:  # a third-party failure skips its rows; the rest of the benchmark stands
        traceback.print_exc()
        reason = f"skipped: squigglepy failed: {type(error).__name__}: {error}"
        return [(name, reason, baseline, "", "") for name, baseline in zip(names, baselines, strict=True)]
    rows = []
    for name, baseline, draws, elapsed, values in (
        (names[0], baselines[0], SQUIGGLE_DRAWS, algebra_time, algebra_draws),
        (names[1], baselines[1], SQUIGGLE_FUNCTION_DRAWS, function_time, function_draws),
    ):
        error = float(values.std(ddof=1)) / math.sqrt(values.size)
        check_agreement(name, float(values.mean()), error, engine_mean, engine_error)
        engine = statistics.median(
            seconds(lambda d=draws: stream_summary(spec, d, SEED, data=data)) for _ in range(REPEATS)
        )
        rows.append((name, duration(elapsed), baseline, duration(engine), f"{elapsed / engine:.0f}×"))
    return rows


def memory_rows() -> list[Row]:
    """Rows for peak RSS and wall time of 10**8 draws, each in a fresh process."""
    load = f"import dnamodel; spec = dnamodel.load_model({MODEL!r})"
    base_time, base_rss = child(load)
    run_time, run_rss = child(f"{load}; dnamodel.summarize(spec, {MEMORY_DRAWS})")
    baseline = "child that imports dnamodel and loads the spec"
    return [
        (
            "`summarize`, 10^8 draws, child: peak RSS",
            f"{run_rss:.0f} MB",
            baseline,
            f"{base_rss:.0f} MB",
            f"{run_rss / base_rss:.1f}×",
        ),
        (
            "`summarize`, 10^8 draws, child: wall time",
            duration(run_time),
            baseline,
            duration(base_time),
            f"{run_time / base_time:.1f}×",
        ),
    ]


def first_call_rows() -> list[Row]:
    """Rows for the first streamed ``summarize`` in a fresh process: numba's cache cold, then warm."""
    load = f"import dnamodel; spec = dnamodel.load_model({MODEL!r})"
    streamed = f"{load}; dnamodel.summarize(spec, {FIRST_CALL_DRAWS})"
    cold, warm, loads, commands = [], [], [], []
    for _ in range(FIRST_CALL_REPEATS):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            environment = {**os.environ, "NUMBA_CACHE_DIR": cache}
            cold.append(child(streamed, environment)[0])
            warm.append(child(streamed, environment)[0])
        loads.append(child(load)[0])
        commands.append(
            seconds(
                lambda: subprocess.run([sys.executable, "-m", "dnamodel", "mc", MODEL], check=True, capture_output=True)
            )
        )

    def cell(values: list[float]) -> str:
        return f"{duration(statistics.median(values))} ({duration(min(values))}–{duration(max(values))})"

    def ratio(top: list[float], bottom: list[float]) -> str:
        return spread([t / b for t, b in zip(top, bottom, strict=True)])

    first = "first `summarize(report_mc, 2**21)` in a fresh process (two chunks: compiled kernels)"
    return [
        (
            f"{first}, empty `NUMBA_CACHE_DIR` (cold: compiles)",
            cell(cold),
            "the same process again, the cache it left (warm: loads)",
            cell(warm),
            ratio(cold, warm),
        ),
        (
            f"{first}, warm cache",
            cell(warm),
            "child that imports dnamodel and loads the spec",
            cell(loads),
            ratio(warm, loads),
        ),
        (
            "`dnamodel mc report_mc` (10^6 draws, one chunk: NumPy reference, no numba)",
            cell(commands),
            "child that imports dnamodel and loads the spec",
            cell(loads),
            ratio(commands, loads),
        ),
    ]


@dataclass
class Accuracy:
    """RMSE against the exact value, per method, quantile and size; and time per run."""

    sizes: list[int]
    rmse: dict[tuple[str, float], list[float]]
    reported: dict[float, list[float]]
    """QMC's own MCSE (replicate spread), averaged over seeds."""
    seconds: dict[str, list[float]]


def accuracy(spec: Any, data: Any, exact: dict[float, float]) -> Accuracy:
    """Quantile RMSE of MC and QMC over :data:`ACCURACY_SEEDS` independent seeds at each size."""
    sizes = [QMC_REPLICATES * 2**k for k in ACCURACY_POWERS]
    result = Accuracy(sizes, {}, {p: [] for p in exact}, {"MC": [], "QMC": []})
    for method, qmc in (("MC", False), ("QMC", True)):
        for p in exact:
            result.rmse[method, p] = []
        for draws in sizes:
            errors: dict[float, list[float]] = {p: [] for p in exact}
            reported: dict[float, list[float]] = {p: [] for p in exact}
            timings = []
            for seed in range(SEED, SEED + ACCURACY_SEEDS):
                started = time.perf_counter()
                quantiles = stream_summary(spec, draws, seed, qmc=qmc, data=data).variables["total"].quantiles
                timings.append(time.perf_counter() - started)
                for p in exact:
                    errors[p].append(quantiles[p].value - exact[p])
                    reported[p].append(quantiles[p].mcse)
            for p in exact:
                result.rmse[method, p].append(math.sqrt(statistics.fmean(e * e for e in errors[p])))
                if not qmc and draws == sizes[-1]:
                    check_exact(p, exact[p], errors[p])
                if qmc:
                    result.reported[p].append(statistics.fmean(reported[p]))
            result.seconds[method].append(statistics.median(timings))
    return result


def check_exact(probability: float, value: float, errors: list[float]) -> None:
    """Stop unless pseudo-random estimates centre on the exact quantile, within their standard error.

    At the largest size the estimator's bias (of order one rank) is far below that error, so a
    miss means the hand-written model and the engine's differ.
    """
    error = statistics.stdev(errors) / math.sqrt(len(errors))
    if abs(statistics.fmean(errors)) > AGREEMENT * error:
        raise AssertionError(
            f"exact {probability:g} quantile {value:,.0f}: MC estimates are off by "
            f"{statistics.fmean(errors):,.0f} ± {error:,.0f} on average: not the same model"
        )


def power(draws: int) -> str:
    """16 × 2^k, as the sizes are written."""
    return f"16 × 2^{int(math.log2(draws // QMC_REPLICATES))}"


def print_accuracy(result: Accuracy, exact: dict[float, float]) -> None:
    """The RMSE table, then draws at equal accuracy."""
    header = [
        "draws",
        *(f"{m} RMSE q{p:g}" for p in exact for m in ("MC", "QMC")),
        "QMC MCSE q0.5",
        "MC run",
        "QMC run",
    ]
    print("| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 1))
    for i, draws in enumerate(result.sizes):
        cells = [f"{result.rmse[m, p][i]:,.0f}" for p in exact for m in ("MC", "QMC")]
        cells += [
            f"{result.reported[0.5][i]:,.0f}",
            duration(result.seconds["MC"][i]),
            duration(result.seconds["QMC"][i]),
        ]
        print(f"| {power(draws)} | " + " | ".join(cells) + " |")
    print()

    print(
        "| quantile | exact | MC RMSE, 2^20 draws | QMC draws for that RMSE | MC ÷ QMC draws "
        "| QMC RMSE, 2^20 draws | MC draws for that RMSE | MC ÷ QMC draws | MC slope | QMC MCSE ÷ RMSE, 2^20 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    largest = result.sizes[-1]
    logs = [math.log(n) for n in result.sizes]
    for p, value in exact.items():
        mc, qmc = result.rmse["MC", p], result.rmse["QMC", p]
        qmc_draws = log_log(result.sizes, qmc, mc[-1])
        interpolated = f"{qmc_draws:,.0f} | {largest / qmc_draws:.0f}×" if qmc_draws else "outside the sizes | –"
        # MC beyond its largest size: along its own fitted line (the theory's slope is −1/2)
        slope, intercept = np.polyfit(logs, [math.log(r) for r in mc], 1)
        mc_draws = math.exp((math.log(qmc[-1]) - intercept) / slope)
        exponent = math.floor(math.log10(mc_draws))
        print(
            f"| {p:g} | {value:,.0f} | {mc[-1]:,.0f} | {interpolated} | {qmc[-1]:,.0f} | "
            f"{mc_draws / 10**exponent:.1f} × 10^{exponent} | {mc_draws / largest:.0f}× | {slope:.2f} | "
            f"{result.reported[p][-1] / qmc[-1]:.2f} |"
        )


def print_table(rows: list[Row]) -> None:
    """A Markdown table in bench_startup.py's shape."""
    print("| measured | figure | baseline (same run) | figure | ratio |")
    print("| --- | ---: | --- | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def main() -> None:
    """Measure everything and print the Markdown tables."""
    started = time.perf_counter()
    files = [Path(module.__file__) for module in (engine_module, program_module, kernels_module, run_module)]
    sources = "; ".join(
        f"dnamodel/montecarlo/{f.name} sha256 {hashlib.sha256(f.read_bytes()).hexdigest()[:12]}" for f in files
    )
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs; "
        f"{sources}; {time.strftime('%Y-%m-%d %H:%M')}\n"
    )
    spec, data = load_model(MODEL), load_data()
    engine = Engine.build(spec, data)
    inputs = ReportInputs.of(engine)

    rows, summary, summarize_time, ratios = throughput(engine, spec, data)
    mean = summary.variables["total"].mean
    rows += python_loop_rows(inputs, spec, data, summarize_time / THROUGHPUT_DRAWS, mean.value, mean.mcse)
    rows += squigglepy_rows(inputs, spec, data, mean.value, mean.mcse)
    rows += memory_rows()
    rows += first_call_rows()
    print_table(rows)
    met = "met" if statistics.median(ratios) <= TARGET else "NOT met"
    print(
        f"**`summarize(report_mc, 10**7)` ÷ the NumPy RNG limit: {spread(ratios)}**, median (range) of "
        f"{REPEATS} interleaved repeats, each ratio timed within one repeat; target ≤ {TARGET}×: {met}. "
        f"Command: `{command()}`.\n"
    )

    exact = exact_quantiles(inputs, ACCURACY_PROBABILITIES)
    print_accuracy(accuracy(spec, data, exact), exact)
    print(f"\nWhole benchmark: {duration(time.perf_counter() - started)}")


if __name__ == "__main__":
    main()
