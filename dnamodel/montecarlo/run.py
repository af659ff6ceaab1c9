"""Running a Monte Carlo model: every draw as labelled arrays, or a streamed summary.

:func:`monte_carlo` draws through the :class:`~dnamodel.montecarlo.engine.Engine` and adds the
xarray labels, once, at the edge. For QMC (``qmc=True``) the draws come in independent
randomised replicates of scrambled Sobol points, whose spread gives the Monte Carlo standard
error. :func:`stream_summary` streams any number of draws in chunks of bounded memory and returns the
mean and quantiles of ``total`` and ``share`` with their Monte Carlo standard errors (MCSE): one
chunk by the NumPy reference, more through the compiled kernels (:mod:`dnamodel.montecarlo.kernels`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.data import Dataset, given_data
from dnamodel.errors import DataError, Problem, UsageError, check_type, check_whole
from dnamodel.montecarlo.engine import BLOCK_DRAWS, DEFAULT_CHUNK, DEFAULT_SEED, NEGATIVE, Engine, UniformSource
from dnamodel.montecarlo.kernels import compiled
from dnamodel.provenance import provenance
from dnamodel.spec.hierarchical import MAX_SEED
from dnamodel.spec.montecarlo import ModelSpec

if TYPE_CHECKING:
    import xarray as xr

# SciPy and xarray are imported where they are used: `dnamodel replicate` and `audit` import this
# module through the package and need neither (they cost about 1.5 s of start-up together).

PROBABILITIES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The quantiles every summary reports."""

SUMMARISED = ("total", "share")
MAX_IN_MEMORY = 2**24
"""Most draws :func:`monte_carlo` returns as arrays, and the largest chunk :func:`stream_summary` holds."""
MAX_DRAWS = 10**9
"""Most draws :func:`stream_summary` streams: about three minutes for ``report_mc`` on two cores
(0.13 µs a draw, ``benchmarks/README.md``), where the MCSE of its median is about 8 samples. More
would run for hours to shave a few samples off the error; QMC (``qmc=True``) reaches the accuracy
of 10^8 to 10^9 plain draws with 2^20."""
QMC_REPLICATES = 16
SKETCH_BINS = 2**18


# --- every draw ----------------------------------------------------------------------------


def check_monte_carlo_spec(spec: Any, where: str) -> ModelSpec:
    """``spec`` as a Monte Carlo function takes it: a loaded Monte Carlo spec.

    Raises
    ------
    TypeError
        For anything else: a name or path (load it with :func:`dnamodel.load_model`), or a dated or
        hierarchical spec, which is fitted (:func:`dnamodel.fit`), not drawn.
    """
    expected = "a Monte Carlo spec: dnamodel.load_model(name or path); a dated or hierarchical one is fitted"
    check_type(spec, ModelSpec, f"{where}: spec", expected)
    checked: ModelSpec = spec
    return checked


def check_draws(draws: int, qmc: bool = False, chunk_size: int = DEFAULT_CHUNK) -> None:
    """Raise :class:`UsageError` unless ``draws`` and ``chunk_size`` can be run, before anything is drawn.

    Each is a whole number (:class:`TypeError` for anything else: a ``float`` or a string is not one).
    """
    check_whole(draws, "draws", -(2**63))
    check_whole(chunk_size, "chunk size", -(2**63))
    if draws <= 0:
        raise UsageError(f"draws must be a positive whole number, got {draws}")
    if draws > MAX_DRAWS:
        raise UsageError(
            f"draws must be at most {MAX_DRAWS:,} (about three minutes), got {draws:,}; "
            "for a smaller Monte Carlo error use --qmc"
        )
    if chunk_size <= 0:
        raise UsageError(f"chunk size must be a positive whole number, got {chunk_size}")
    if chunk_size > MAX_IN_MEMORY:
        raise UsageError(
            f"chunk size must be at most {MAX_IN_MEMORY:,} draws (held in memory at once), got {chunk_size:,}"
        )
    if qmc:
        per_replicate = draws // QMC_REPLICATES
        if draws % QMC_REPLICATES or per_replicate & (per_replicate - 1) or per_replicate < 2**6:
            raise UsageError(
                f"quasi-Monte Carlo needs draws = {QMC_REPLICATES} × a power of 2 (at least {QMC_REPLICATES * 2**6}), "
                f"got {draws}; for example {QMC_REPLICATES * 2**16}"
            )
        if chunk_size & (chunk_size - 1):
            raise UsageError(f"quasi-Monte Carlo needs a chunk size that is a power of 2, got {chunk_size}")


def check_seed(seed: Any, where: str) -> int:
    """A seed as the command line takes it: a whole number from 0 to 2^63 − 1."""
    return check_whole(seed, f"{where}: seed", 0, MAX_SEED)


def monte_carlo(
    spec: ModelSpec,
    draws: int = 100_000,
    seed: int = DEFAULT_SEED,
    *,
    qmc: bool = False,
    data: Dataset | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> xr.Dataset:
    """Draw a Monte Carlo model and return every draw.

    Parameters
    ----------
    spec : ModelSpec
        From :func:`dnamodel.load_model`.
    draws : int
        Number of draws, at most :data:`MAX_IN_MEMORY` (use :func:`stream_summary` for more).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same draws.
    qmc : bool
        Scrambled Sobol points in :data:`QMC_REPLICATES` independent replicates
        (``draws`` must be that many times a power of 2). The replicate of each draw
        is the coordinate ``replicate``.
    data : Dataset, optional
        The bundled data when omitted.
    chunk_size : int
        Draws generated at a time; does not change the draws.

    Returns
    -------
    xarray.Dataset
        Dimension ``draw``; variables ``total``, ``share``, every other quantity and
        every sampled input; ``attrs`` hold the provenance (spec text and hash, data
        version, seed, draws, sampler).

    Examples
    --------
    >>> from dnamodel.families import load_model
    >>> result = monte_carlo(load_model("report_uniform"), draws=1000, seed=1)
    >>> float(result["total"].min()) >= 919_282
    True
    """
    import xarray as xr  # deferred: start-up time

    spec = check_monte_carlo_spec(spec, "monte_carlo")
    check_draws(draws, qmc, chunk_size)
    check_seed(seed, "monte_carlo")
    if draws > MAX_IN_MEMORY:
        raise UsageError(f"{draws:,} draws would not fit in memory as arrays; use dnamodel.summarize (`dnamodel mc`)")
    data = given_data(data, "monte_carlo")
    engine = Engine.build(spec, data)
    parts = [engine.draws(u) for u in _uniform_stream(engine, draws, seed, qmc, chunk_size)]
    names = [*engine.random, *spec.quantities]
    variables = {name: ((dims.DRAW,), np.concatenate([part[name] for part in parts])) for name in names}
    coords = {dims.DRAW: np.arange(draws)}
    if qmc:
        coords["replicate"] = ((dims.DRAW,), np.repeat(np.arange(QMC_REPLICATES), draws // QMC_REPLICATES))
    result = xr.Dataset(variables, coords=coords)
    for name in engine.random:
        result[name].attrs["dist"] = engine.inputs[name].dist
        result[name].attrs["note"] = spec.inputs[name].note
    result.attrs.update(_provenance(spec, data, draws, seed, qmc, chunk_size))
    return result


def _uniform_stream(engine: Engine, draws: int, seed: int, qmc: bool, chunk_size: int) -> Iterator[np.ndarray]:
    """All uniforms for a run: one stream, or for QMC one scrambled sequence per replicate, in order."""
    if not qmc:
        yield from engine.uniforms(draws, seed, chunk_size=chunk_size)
        return
    for replicate_seed in _replicate_seeds(seed):
        yield from engine.uniforms(draws // QMC_REPLICATES, replicate_seed, qmc=True, chunk_size=chunk_size)


def _provenance(spec: ModelSpec, data: Dataset, draws: int, seed: int, qmc: bool, chunk_size: int) -> dict[str, Any]:
    return {
        **provenance(data),
        "model": spec.name,
        "spec": spec.text,
        "spec_hash": spec.hash,
        "seed": seed,
        "draws": draws,
        "sampler": f"scrambled Sobol, {QMC_REPLICATES} replicates" if qmc else "numpy PCG64, one stream per input",
        "chunk_size": chunk_size,
    }


# --- streaming summaries -------------------------------------------------------------------


@dataclass
class _Moments:
    """Count, mean and sum of squared deviations, merged chunk by chunk (Chan et al. 1979)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, values: np.ndarray) -> None:
        mean = float(values.mean())
        self.merge(values.size, mean, float(((values - mean) ** 2).sum()))

    def add_sums(self, n: int, shift: float, deviations: float, squares: float) -> None:
        """Add ``n`` values given Σ(v − shift) and Σ(v − shift)², with ``shift`` near their mean."""
        self.merge(n, shift + deviations / n, max(squares - deviations * deviations / n, 0.0))

    def merge(self, n: int, mean: float, m2: float) -> None:
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total  # not delta**2: that raises on overflow
        self.count = total

    @property
    def sd(self) -> float:
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0


class _Sketch:
    """A mergeable fixed-grid histogram for quantiles of a stream, exact outside its grid.

    The grid spans the first chunk's range widened by that range on each side, in
    :data:`SKETCH_BINS` bins; values beyond it are kept exactly. A quantile is read
    by linear interpolation within its bin, so its error is at most one bin width
    (``resolution``), which :func:`stream_summary` reports beside the MCSE. The counts are
    added by the compiled :func:`~dnamodel.montecarlo.kernels.accumulate`, through
    :meth:`_Collector.add`, as 16-bit counts (``recent``) that carry into 64-bit ones
    (``carried``) at 2^16: a stream scatters its increments over the bins, and a quarter of
    the memory keeps more of them in cache.
    """

    def __init__(self, first: np.ndarray):
        low, high = float(first.min()), float(first.max())
        spread = high - low or max(abs(low), 1.0) * 1e-9
        self.low, self.width = low - spread, 3 * spread / SKETCH_BINS
        self.recent = np.zeros(SKETCH_BINS, dtype=np.uint16)
        self.carried = np.zeros(SKETCH_BINS, dtype=np.int64)
        self.outside: list[np.ndarray] = []
        self.exact_min, self.exact_max = math.inf, -math.inf
        self._read: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def resolution(self) -> float:
        return self.width

    @property
    def counts(self) -> np.ndarray:
        """Values per bin."""
        return self.carried + self.recent

    def record(self, smallest: float, largest: float, outside: np.ndarray) -> None:
        """After the counts of a block were added: its extremes and its values off the grid (copied)."""
        self.exact_min, self.exact_max = min(self.exact_min, smallest), max(self.exact_max, largest)
        if outside.size:
            self.outside.append(outside.copy())
        self._read = None

    def _readout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted values below and above the grid, and the cumulative counts: once for every quantile."""
        if self._read is None:
            outside = np.sort(np.concatenate(self.outside)) if self.outside else np.empty(0)
            self._read = outside[outside < self.low], outside[outside >= self.low], np.cumsum(self.counts)
        return self._read

    def quantile(self, probability: float) -> float:
        """The value at rank ``probability × (n − 1)`` (as ``numpy.quantile``'s default), within one bin."""
        below, above, cumulative = self._readout()
        inside_total = int(cumulative[-1])
        n = inside_total + below.size + above.size
        rank = probability * (n - 1)
        if rank < below.size:
            return float(np.quantile(below, rank / max(below.size - 1, 1)))
        rank_inside = rank - below.size
        if rank_inside >= inside_total:
            index = min(int(rank_inside - inside_total), above.size - 1)
            return float(above[index])
        bin_index = int(np.searchsorted(cumulative, rank_inside, side="right"))
        before = cumulative[bin_index - 1] if bin_index else 0
        fraction = (rank_inside - before + 0.5) / (cumulative[bin_index] - before)
        value = self.low + (bin_index + min(fraction, 1.0)) * self.width
        return float(min(max(value, self.exact_min), self.exact_max))

    def fraction_above(self, threshold: float) -> float:
        """Share of values above ``threshold`` (within the bin holding it)."""
        outside = np.concatenate(self.outside) if self.outside else np.empty(0)
        counts = self.counts
        n = int(counts.sum()) + outside.size
        position = (threshold - self.low) / self.width
        first_above = int(np.clip(math.floor(position) + 1, 0, SKETCH_BINS))
        return (int(counts[first_above:].sum()) + int((outside > threshold).sum())) / n


@dataclass(frozen=True)
class Statistic:
    """An estimate with its Monte Carlo standard error."""

    value: float
    mcse: float


@dataclass(frozen=True)
class VariableSummary:
    """Mean, quantiles and exceedance probabilities of one output."""

    mean: Statistic
    quantiles: dict[float, Statistic]
    exceedance: dict[float, Statistic]
    resolution: float


@dataclass(frozen=True)
class MonteCarloSummary:
    """What :func:`stream_summary` returns: ``total`` and ``share``, with provenance."""

    variables: dict[str, VariableSummary]
    attrs: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""

        def stat(s: Statistic) -> dict[str, float]:
            return {"value": s.value, "mcse": s.mcse}

        return {
            "provenance": {k: v for k, v in self.attrs.items() if k != "spec"},
            "spec": self.attrs["spec"],
            "variables": {
                name: {
                    "mean": stat(v.mean),
                    "quantiles": {f"{p:g}": stat(s) for p, s in v.quantiles.items()},
                    "exceedance": {f"{t:.0f}": stat(s) for t, s in v.exceedance.items()},
                    "sketch_resolution": v.resolution,
                }
                for name, v in self.variables.items()
            },
        }


def stream_summary(
    spec: ModelSpec,
    draws: int = 1_000_000,
    seed: int = DEFAULT_SEED,
    *,
    qmc: bool = False,
    data: Dataset | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    thresholds: tuple[float, ...] = (),
) -> MonteCarloSummary:
    """Stream a Monte Carlo model and summarise ``total`` and ``share``, in bounded memory.

    Parameters
    ----------
    spec, draws, seed, qmc, data, chunk_size
        As for :func:`monte_carlo`; ``draws`` has no upper limit. Memory is set by
        ``chunk_size``, not by ``draws``: a run of one chunk holds every variable of it (about
        200 MB at the default 2**20 for the shipped models); a longer run keeps only the first
        chunk's ``total`` and ``share`` (16 MB) and draws the rest 2**14 at a time through the
        compiled kernels, whose import is most of its memory.
    thresholds : tuple of float
        Totals whose exceedance probability P(total > t) is reported.

    Returns
    -------
    MonteCarloSummary
        For each of ``total`` and ``share``: the mean and the quantiles at
        :data:`PROBABILITIES`, each with its MCSE. Pseudo-random runs: the mean's
        MCSE is sd/√n; a quantile's is half the distance between the order
        statistics at ranks n·p ± √(n·p·(1−p)). Quasi-random runs: the standard
        deviation of the replicate estimates over √replicates. Quantiles come from
        all draws when they fit in one chunk, else from a fixed-grid sketch whose bin
        width (``resolution``) is reported.

    Examples
    --------
    >>> from dnamodel.families import load_model
    >>> result = stream_summary(load_model("report_uniform"), draws=100_000, seed=1, thresholds=(1_000_000,))
    >>> total = result.variables["total"]
    >>> 919_282 < total.quantiles[0.5].value < 1_206_962, 0 < total.exceedance[1_000_000].value < 1
    (True, True)
    """
    spec = check_monte_carlo_spec(spec, "summarize")
    check_draws(draws, qmc, chunk_size)
    check_seed(seed, "summarize")
    data = given_data(data, "summarize")
    engine = Engine.build(spec, data)
    attrs = _provenance(spec, data, draws, seed, qmc, chunk_size)
    with np.errstate(over="ignore", invalid="ignore"):  # finite draws near 1e308 can overflow their moments
        variables = _summaries(engine, draws, seed, qmc, chunk_size, thresholds)
    _require_finite_summary(spec, variables)
    return MonteCarloSummary(variables, attrs)


def _summaries(
    engine: Engine, draws: int, seed: int, qmc: bool, chunk_size: int, thresholds: tuple[float, ...]
) -> dict[str, VariableSummary]:
    if qmc:
        per_replicate = draws // QMC_REPLICATES
        replicates = [_collect(engine, per_replicate, s, True, chunk_size) for s in _replicate_seeds(seed)]
        variables = {name: _pool([r[name] for r in replicates], thresholds, name) for name in SUMMARISED}
    else:
        collected = _collect(engine, draws, seed, False, chunk_size)
        variables = {name: collected[name].summary(thresholds if name == "total" else ()) for name in SUMMARISED}
    return variables


def _require_finite_summary(spec: ModelSpec, variables: dict[str, VariableSummary]) -> None:
    """Every draw is finite (the engine checks), but their mean or spread can still overflow."""
    for name, summary in variables.items():
        statistics = [summary.mean, *summary.quantiles.values(), *summary.exceedance.values()]
        if not all(math.isfinite(s.value) and math.isfinite(s.mcse) for s in statistics):
            message = "its draws are too large to summarise: their mean or spread is not a finite number"
            raise DataError([Problem(spec.path, None, f"quantities.{name}", message)])


def _replicate_seeds(seed: int) -> list[int]:
    """The seeds of the QMC replicates: one child of ``SeedSequence(seed)`` each, shared by every entry point."""
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in np.random.SeedSequence(seed).spawn(QMC_REPLICATES)]


@dataclass
class _Collector:
    """Moments and quantile source of one variable over a stream."""

    moments: _Moments = field(default_factory=_Moments)
    exact: np.ndarray | None = None
    sketch: _Sketch | None = None
    _sums: np.ndarray = field(default_factory=lambda: np.empty(4), repr=False)
    _outside: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @classmethod
    def start(cls, values: np.ndarray, *, only: bool) -> _Collector:
        """From the first chunk: all its values kept if no other follows, else the sketch's grid set by them."""
        if only:
            collector = cls(exact=values)
            collector.moments.add(values)
            return collector
        collector = cls(sketch=_Sketch(values))
        for start in range(0, values.size, BLOCK_DRAWS):  # in blocks, as later draws: in cache
            collector.add(values[start : start + BLOCK_DRAWS])
        return collector

    def add(self, values: np.ndarray) -> bool:
        """A block of the stream: moments, extremes and sketch counts in one compiled call.

        Returns whether every value was finite: a value that is not lands off the sketch's grid,
        where it is seen at no cost to the finite ones.
        """
        sketch = self._sketch()
        if self._outside.size < values.size:
            self._outside = np.empty(values.size)
        # The sums are taken about the mean so far (the first block's about its own mean), so that the
        # sum of squares does not cancel.
        shift = self.moments.mean if self.moments.count else float(values.mean())
        off = compiled().accumulate(
            values, shift, sketch.low, 1 / sketch.width, sketch.recent, sketch.carried, self._outside, self._sums
        )
        deviations, squares, smallest, largest = self._sums
        self.moments.add_sums(values.size, shift, deviations, squares)
        outside = self._outside[:off]
        if off and not np.isfinite(outside).all():
            return False
        sketch.record(smallest, largest, outside)
        return True

    def quantile(self, probability: float) -> float:
        if self.exact is not None:
            return float(np.quantile(self.exact, probability))
        return self._sketch().quantile(probability)

    def fraction_above(self, threshold: float) -> float:
        if self.exact is not None:
            return float((self.exact > threshold).mean())
        return self._sketch().fraction_above(threshold)

    def _sketch(self) -> _Sketch:
        if self.sketch is None:
            raise RuntimeError("summary of an empty stream")  # draws > 0 is checked up front
        return self.sketch

    def quantiles(self, probabilities: list[float]) -> list[float]:
        """Several quantiles at once: one sort of the exact values, or one pass of the sketch each."""
        if self.exact is not None:
            return [float(q) for q in np.quantile(self.exact, probabilities)]
        return [self._sketch().quantile(p) for p in probabilities]

    def summary(self, thresholds: tuple[float, ...]) -> VariableSummary:
        n = self.moments.count
        halves = [math.sqrt(p * (1 - p) / n) for p in PROBABILITIES]
        wanted = [
            value
            for p, half in zip(PROBABILITIES, halves, strict=True)
            for value in (p, max(p - half, 0.0), min(p + half, 1.0))
        ]
        found = iter(self.quantiles(wanted))
        quantiles = {}
        for p in PROBABILITIES:
            value, below, above = next(found), next(found), next(found)
            quantiles[p] = Statistic(value, (above - below) / 2)
        exceedance = {}
        for t in thresholds:
            share = self.fraction_above(t)
            exceedance[t] = Statistic(share, math.sqrt(share * (1 - share) / n))
        resolution = 0.0 if self.exact is not None else self.sketch.resolution if self.sketch else 0.0
        return VariableSummary(
            Statistic(self.moments.mean, self.moments.sd / math.sqrt(n)), quantiles, exceedance, resolution
        )


def _collect(engine: Engine, draws: int, seed: int, qmc: bool, chunk_size: int) -> dict[str, _Collector]:
    """``total`` and ``share`` of ``draws`` draws, collected.

    One chunk: drawn by the NumPy reference (``Engine.draws``), every value kept for exact
    quantiles. Numba's start-up (about half a second from its cache) would cost more than these
    draws. More: streamed through the compiled kernels. The first chunk is kept whole to set the
    sketch's grid; every later draw is summarised block by block as it is drawn, and never stored.
    Both ways give the same draws.
    """
    if draws <= chunk_size:
        (uniforms,) = engine.uniforms(draws, seed, qmc=qmc, chunk_size=chunk_size)
        drawn = engine.draws(uniforms)
        return {name: _Collector.start(drawn[name], only=True) for name in SUMMARISED}
    source = UniformSource(len(engine.random), seed, qmc=qmc)
    first = np.empty((chunk_size, len(SUMMARISED)), order="F")
    done = 0
    for block in engine.blocks(source, chunk_size, SUMMARISED):
        first[done : done + block.shape[0]] = block
        done += block.shape[0]
    for k, name in enumerate(SUMMARISED):
        if not np.isfinite(first[:, k]).all():
            _not_finite(engine.spec, name)
    collectors = {name: _Collector.start(first[:, k], only=False) for k, name in enumerate(SUMMARISED)}
    for block in engine.blocks(source, draws - chunk_size, SUMMARISED):
        for k, name in enumerate(SUMMARISED):
            if not collectors[name].add(block[:, k]):
                _not_finite(engine.spec, name)
    for name, collector in collectors.items():
        smallest = collector._sketch().exact_min  # every block's smallest value, the first chunk's included
        if smallest < 0:
            message = f"is negative in some draws (as low as {smallest:,.6g}): {NEGATIVE}"
            raise DataError([Problem(engine.spec.path, None, f"quantities.{name}", message)])
    return collectors


def _not_finite(spec: ModelSpec, name: str) -> None:
    """Raise the error for a streamed draw of ``total`` or ``share`` that is not finite.

    The reference path names the input or quantity at fault (``engine.require_finite``); the
    streamed one names the result, since the draws behind it are not kept.
    """
    message = "is not a finite number in some draws: a quantity divides by zero or overflows in the inputs' tails"
    raise DataError([Problem(spec.path, None, f"quantities.{name}", message)])


def _pool(replicates: list[_Collector], thresholds: tuple[float, ...], name: str) -> VariableSummary:
    """Randomised QMC: the mean of the replicate estimates, with their spread over √R as MCSE."""
    root = math.sqrt(len(replicates))

    def pooled(values: list[float]) -> Statistic:
        return Statistic(float(np.mean(values)), float(np.std(values, ddof=1)) / root)

    mean = pooled([r.moments.mean for r in replicates])
    quantiles = {p: pooled([r.quantile(p) for r in replicates]) for p in PROBABILITIES}
    exceedance = {t: pooled([r.fraction_above(t) for r in replicates]) for t in thresholds} if name == "total" else {}
    resolution = max((r.sketch.resolution if r.sketch else 0.0) for r in replicates)
    return VariableSummary(mean, quantiles, exceedance, resolution)
