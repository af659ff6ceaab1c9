"""The compiled kernels against the NumPy reference: the same draws bit for bit, the same summary sums.

The interpreter (``Engine.interpret``) must give what ``Engine.draws`` gives, the NumPy reference
checked against closed forms in ``test_montecarlo.py``: every distribution, every operator, signed
zeros and NaN included, compared as bit patterns. The summary kernel must count, sum and set aside
exactly what a direct NumPy computation does. And the compile must be cached on disk, so that a
second process loads it instead of compiling again.
"""

import math
import os
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from dnamodel.families import load_model
from dnamodel.montecarlo import kernels
from dnamodel.montecarlo.engine import Engine
from dnamodel.montecarlo.kernels import BLOCK, CONSTANT, OPCODES, compiled
from dnamodel.montecarlo.program import compile_program
from dnamodel.montecarlo.run import QMC_REPLICATES, _Collector, monte_carlo, stream_summary
from dnamodel.spec.montecarlo import parse_montecarlo, resolve

EVERYTHING = """
[model]
name = "everything"
description = "every distribution and every operator the interpreter knows"

[inputs.flat]
dist = "uniform"
low = -2.0
high = 3.5

[inputs.peak]
dist = "triangular"
low = 1.0
mode = 2.0
high = 5.0

[inputs.expert]
dist = "pert"
low = 0.0
mode = 3.0
high = 10.0

[inputs.bell]
dist = "normal"
mean = 3.0
sd = 2.0
lower = 0.0

[inputs.skewed]
dist = "lognormal"
median = 5.0
sigma = 0.5
upper = 20.0

[inputs.fraction]
dist = "beta"
alpha = 2.0
beta = 5.0

[inputs.three_way]
dist = "choice"
values = [10.0, 20.0, 30.0]
weights = [0.2, 0.5, 0.3]

[inputs.either]
dist = "choice"
values = [0.0, 1.0]

[inputs.resampled]
dist = "empirical"
values = [4.0, 1.0, 8.0, 2.0]

[inputs.known]
dist = "point"
value = 7.0

[quantities]
folded = "known * 2 - 1 / known"
linear = "flat * peak + folded - expert / 3"
negated = "-linear + +bell"
picked = "where(either, skewed, fraction)"
constant_pick = "where(known - 7, flat, peak)"
low_end = "minimum(three_way, resampled * 4)"
high_end = "maximum(negated, flat)"
nan = "(flat - flat) / (flat - flat)"
nan_minimum = "minimum(nan, flat)"
nan_maximum = "maximum(flat, nan)"
zero = "flat * 0"
signed_minimum = "minimum(zero, -0.0)"
signed_maximum = "maximum(-0.0 * flat * flat, 0.0)"
total = "linear + picked + low_end + high_end + constant_pick"
share = "total / known"
"""


@pytest.fixture(scope="module")
def everything(data):
    """The engine on a spec that reaches every opcode, NaN included on purpose.

    Built directly rather than through ``Engine.build``, whose check refuses a quantity that divides
    by zero at the inputs' medians: here the NaN is the point, to show both paths propagate it alike.
    """
    raw = tomllib.loads(EVERYTHING)
    spec = parse_montecarlo(raw, EVERYTHING, "everything.toml")
    return Engine(spec, resolve(spec, data))


def uniforms(dimension: int, rows: int, seed: int) -> np.ndarray:
    """Uniforms with the edges in: 0, the choices' cumulative weights exactly, and the largest below 1."""
    matrix = np.random.default_rng(seed).random((rows, dimension))
    edges = [0.0, 0.2, 0.5, 0.7, 1 - 2**-53, 0.25, 0.75]
    rows_with_edges = min(rows, len(edges))
    matrix[:rows_with_edges] = np.array(edges[:rows_with_edges])[:, None]
    return matrix


def same_bits(got: np.ndarray, expected: np.ndarray) -> bool:
    """Equal as IEEE bit patterns: −0.0 differs from 0.0, and NaN equals NaN."""
    expected = np.broadcast_to(np.asarray(expected, dtype=float), got.shape)
    return bool(
        np.array_equal(np.ascontiguousarray(got).view(np.uint64), np.ascontiguousarray(expected).view(np.uint64))
    )


@pytest.mark.parametrize("rows", [1, BLOCK - 1, 3 * BLOCK + 17])
def test_interpreter_gives_the_reference_draws_bit_for_bit(everything, rows):
    matrix = uniforms(len(everything.random), rows, seed=rows)
    with np.errstate(invalid="ignore"):  # the spec's `nan` is 0/0 on purpose
        reference = everything.draws(matrix)
    names = (*everything.random, *everything.spec.quantities)
    got = everything.interpret(matrix, names)
    differing = [name for name, column in zip(names, got.T, strict=True) if not same_bits(column, reference[name])]
    assert differing == []
    assert np.isnan(got[:, names.index("nan")]).all()
    assert np.signbit(got[:, names.index("signed_minimum")]).all()  # numpy.minimum(0.0, -0.0) is -0.0
    assert not np.signbit(got[:, names.index("signed_maximum")]).any()


@pytest.mark.parametrize("model", ["report_mc", "report_uniform"])
def test_shipped_models_interpreted_bit_for_bit(data, model):
    engine = Engine.build(load_model(model), data)
    matrix = uniforms(len(engine.random), 5000, seed=3)
    reference = engine.draws(matrix)
    got = engine.interpret(np.asfortranarray(matrix), ("total", "share"))
    assert same_bits(got[:, 0], reference["total"])
    assert same_bits(got[:, 1], reference["share"])


def test_constant_terms_fold_and_rows_are_reused(everything):
    program = compile_program(everything.spec, everything.inputs, everything.random)
    assert program.values["folded"] == 7.0 * 2 - 1 / 7.0
    assert program.values["constant_pick"] == program.values["peak"]  # where(0, …) picks at compile time
    # one row per random input, per quantity and per distinct constant; temporaries are reused
    constants = int((program.code[:, 0] == CONSTANT).sum())
    assert program.rows < len(everything.random) + len(everything.spec.quantities) + constants + 6
    assert [getattr(kernels, name) for name in OPCODES] == list(range(len(OPCODES)))


def test_accumulate_matches_numpy():
    rng = np.random.default_rng(8)
    values = rng.normal(0.0, 1.0, 10_001)
    values[[5, 77, 900]] = [np.nan, 40.0, -40.0]  # NaN and two values off the grid
    low, width, bins = -5.0, 10.0 / 2**12, 2**12
    counts, carried = np.zeros(bins, dtype=np.uint16), np.zeros(bins, dtype=np.int64)
    counts[3] = 2  # counts are added to
    outside, sums = np.empty(values.size), np.empty(4)
    shift = 0.25
    off = compiled().accumulate(values, shift, low, 1 / width, counts, carried, outside, sums)

    position = (values - low) * (1 / width)
    inside = (position >= 0) & (position < bins)
    expected = np.bincount(position[inside].astype(np.intp), minlength=bins)
    expected[3] += 2
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(outside[:off], values[~inside])  # in order, NaN included
    finite = values[~np.isnan(values)]
    assert (sums[2], sums[3]) == (finite.min(), finite.max())  # a NaN is skipped, not propagated
    assert np.isnan(sums[0])  # …but it does reach the sums, as it reaches NumPy's mean

    values = values[~np.isnan(values)]
    compiled().accumulate(values, shift, low, 1 / width, counts, carried, outside, sums)
    assert sums[0] == pytest.approx(math.fsum(values - shift), rel=1e-12)
    assert sums[1] == pytest.approx(math.fsum((values - shift) ** 2), rel=1e-12)


def test_dnamodel_and_a_one_chunk_run_do_not_import_numba():
    # Numba's start-up costs about half a second; `replicate`, `audit` and `dnamodel mc` at its
    # default 10^6 draws (one chunk, drawn by the NumPy reference) do without it.
    code = (
        "import sys, dnamodel; spec = dnamodel.load_model('report_mc'); dnamodel.summarize(spec, 10_000); "
        "assert 'numba' not in sys.modules, 'numba imported'"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert completed.returncode == 0, completed.stderr


def test_the_compile_is_cached_on_disk(tmp_path):
    """A second process loads both kernels from numba's cache instead of compiling them (about 4 s)."""
    code = (
        "from dnamodel.montecarlo.kernels import compiled; k = compiled(); "
        "print(*(sum(getattr(f.stats, s).values()) for f in (k.run_program, k.accumulate) "
        "for s in ('cache_hits', 'cache_misses')))"
    )
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
        for _ in range(2)
    ]
    first, second = ([int(word) for word in run.stdout.split()] for run in runs)
    assert first == [0, 1, 0, 1]  # (hits, misses) of each kernel: compiled, then written to the cache
    assert second == [1, 0, 1, 0]  # loaded


def test_16_bit_counts_carry_at_2_to_the_16():
    values = np.full(3 * 65536 + 5, 0.5)  # all in one bin: it passes 2^16 three times
    collector = _Collector.start(np.linspace(0.0, 1.0, 1000), only=False)
    collector.add(values)
    sketch = collector.sketch
    peak = int(np.argmax(sketch.counts))
    assert int(sketch.counts[peak]) == values.size
    assert int(sketch.carried[peak]) == 3 * 65536
    assert int(sketch.counts.sum()) == 1000 + values.size
    assert sketch.quantile(0.9) == pytest.approx(0.5, abs=sketch.resolution)


def test_quasi_random_streamed_summary_matches_one_chunk(data):
    # QMC through the compiled kernels (replicates of 2^12 draws in chunks of 2^10) against the same
    # points by the NumPy reference (each replicate one chunk): the same draws, so the same means,
    # and quantiles apart by at most a bin of the sketch plus the gap between the two order
    # statistics that the exact quantile interpolates between (averaged, as the replicates are).
    spec = load_model("report_mc")
    per_replicate = 2**12
    draws = QMC_REPLICATES * per_replicate
    streamed = stream_summary(spec, draws, seed=4, qmc=True, chunk_size=2**10, data=data).variables["total"]
    whole = stream_summary(spec, draws, seed=4, qmc=True, chunk_size=per_replicate, data=data).variables["total"]
    assert streamed.mean.value == pytest.approx(whole.mean.value, rel=1e-12)
    # (the replicates' means agree to about 1e-10, so their spread, the MCSE, is rounding: not compared)
    totals = np.sort(monte_carlo(spec, draws, seed=4, qmc=True, data=data)["total"].values.reshape(QMC_REPLICATES, -1))
    for p, estimate in whole.quantiles.items():
        rank = int(p * (per_replicate - 1))
        gap = float(np.mean(totals[:, rank + 1] - totals[:, rank]))
        assert abs(streamed.quantiles[p].value - estimate.value) <= streamed.resolution + gap
