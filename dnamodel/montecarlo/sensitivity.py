"""Which uncertain inputs drive a Monte Carlo model's total: Sobol indices and a tornado.

Two views of the same question, for a spec's random inputs:

- :func:`sobol` is global: the share of the variance of ``total`` that each input
  accounts for alone (first-order index) and together with all its interactions
  (total-order index), estimated on scrambled Sobol points with Saltelli's (2010)
  estimators through ``scipy.stats.sobol_indices``, with bootstrap intervals.
- :func:`tornado` is local: ``total`` with one input moved to a low and a high value
  while every other input stays at its median.

Both work on the engine's uniform columns (every random input is the inverse CDF of
one uniform number, see :mod:`dnamodel.montecarlo.engine`), so the inputs are independent,
as Sobol indices require. :func:`uniform_sobol_indices` is the array kernel; it
takes any function of independent uniforms, and :func:`sobol` wraps it for a spec
and labels the result on the ``input`` dimension.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.data import Dataset, given_data
from dnamodel.errors import UsageError
from dnamodel.montecarlo.engine import DEFAULT_SEED, Engine, evaluate, inverse_cdf, require_finite
from dnamodel.montecarlo.run import MAX_IN_MEMORY, check_monte_carlo_spec, check_seed
from dnamodel.provenance import provenance
from dnamodel.spec.montecarlo import ModelSpec, Resolved

if TYPE_CHECKING:
    import xarray as xr

# SciPy's stats and xarray are imported in the functions that use them, so that importing dnamodel
# (for `replicate` or `audit`) does not pay for them.

DEFAULT_BASE_POINTS = 2**14
"""Base sample size ``n`` of :func:`sobol`: the model is evaluated ``n × (inputs + 2)`` times."""

MIN_BASE_POINTS = 2**6
CONFIDENCE_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 999
_BOOTSTRAP_BATCH_ELEMENTS = 2**22  # row counts per bootstrap batch: bounds the batch's memory at about 32 MB

INDEX_VARIABLES = ("first_order", "total_order")


# --- Sobol indices -------------------------------------------------------------------------


def uniform_sobol_indices(
    func: Callable[[np.ndarray], np.ndarray],
    dimension: int,
    *,
    n: int,
    rng: np.random.Generator,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, np.ndarray]:
    """First- and total-order Sobol indices of a function of independent uniforms.

    Parameters
    ----------
    func : callable
        Maps a ``(m, dimension)`` array of numbers in [0, 1) (one point per row) to
        the ``(m,)`` outputs; it must be finite everywhere.
    dimension : int
        Number of uniform inputs, at least 1.
    n : int
        Base sample size, a power of 2 of at least :data:`MIN_BASE_POINTS`;
        ``func`` is evaluated at ``n × (dimension + 2)`` points.
    rng : numpy.random.Generator
        The only source of randomness: it scrambles the Sobol points, then draws the
        bootstrap resamples.
    confidence_level : float
        Of the bootstrap intervals.
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    dict of str to ndarray, each shape (dimension,)
        ``first_order`` and ``total_order`` (fractions of the output's variance),
        their percentile bootstrap intervals ``first_order_low``,
        ``first_order_high``, ``total_order_low``, ``total_order_high``, and their
        bootstrap standard errors ``first_order_se``, ``total_order_se``.

    Raises
    ------
    UsageError
        If ``n`` is not a power of 2 of at least :data:`MIN_BASE_POINTS`, or ``func``
        is not finite at every point.

    Notes
    -----
    Saltelli's design: two independent ``(n, dimension)`` matrices A and B from the
    two halves of one scrambled Sobol sequence in ``2 × dimension`` dimensions, and
    for each input i the matrix A with its column i taken from B. The estimators are
    Saltelli et al. (2010), Table 2 (b) and (f), the default of
    ``scipy.stats.sobol_indices``, to which the function values are passed.

    The design is drawn here rather than inside SciPy so that the same function
    values feed a bootstrap driven by ``rng``: ``SobolResult.bootstrap`` draws from
    NumPy's global random state and its BCa jackknife re-evaluates the indices once
    per base point (about 40 s at ``n = 2**14``). The percentile bootstrap used
    instead resamples rows of (A, B, AB) as if they were independent; for Sobol
    points, which are more even than independent draws, its intervals are wider
    than the true error, so they err on the safe side.

    With no interactions first- and total-order indices are equal and sum to 1;
    estimates can stray slightly below 0 or above 1 by Monte Carlo error.

    References
    ----------
    .. [1] Sobol', I. M. (2001). "Global sensitivity indices for nonlinear
       mathematical models and their Monte Carlo estimates." Mathematics and
       Computers in Simulation, 55(1-3):271-280.
    .. [2] Saltelli, A., P. Annoni, I. Azzini, F. Campolongo, M. Ratto and
       S. Tarantola (2010). "Variance based sensitivity analysis of model output.
       Design and estimator for the total sensitivity index." Computer Physics
       Communications, 181(2):259-270.

    Examples
    --------
    A linear function of two uniforms; the second has twice the coefficient, so
    four times the variance share (indices 0.2 and 0.8):

    >>> indices = uniform_sobol_indices(
    ...     lambda u: u[:, 0] + 2 * u[:, 1], 2, n=2**10, rng=np.random.default_rng(1), n_resamples=99
    ... )
    >>> np.round(indices["first_order"], 1)
    array([0.2, 0.8])
    """
    from scipy import stats  # deferred: start-up time

    _check_base_points(n)
    if dimension < 1:
        raise UsageError("Sobol indices need at least one random input")
    # 64 bits as in scipy.stats.sobol_indices: a coordinate of exactly 0 (an infinite normal draw) is then negligible
    sobol_points = stats.qmc.Sobol(2 * dimension, scramble=True, bits=64, rng=rng).random(n)
    a_matrix, b_matrix = sobol_points[:, :dimension], sobol_points[:, dimension:]
    f_a, f_b = _evaluated(func, a_matrix), _evaluated(func, b_matrix)
    f_ab = np.empty((dimension, n))
    for column in range(dimension):
        ab_matrix = a_matrix.copy()
        ab_matrix[:, column] = b_matrix[:, column]
        f_ab[column] = _evaluated(func, ab_matrix)

    # sobol_indices squeezes its (outputs, inputs) result and then fails on the 0-d array that one output of one
    # input leaves (SciPy 1.17: "'numpy.float64' object does not support item assignment"), so a single input's
    # values go in as two identical outputs, of which the first is kept
    copies = 2 if dimension == 1 else 1
    result = stats.sobol_indices(
        func={
            "f_A": np.tile(f_a, (copies, 1)),
            "f_B": np.tile(f_b, (copies, 1)),
            "f_AB": np.tile(f_ab[:, np.newaxis], (1, copies, 1)),
        },
        n=n,
        method=_saltelli_2010,
    )
    # sobol_indices centres the values on their mean before estimating; the bootstrap resamples the same values
    centre = np.mean([f_a, f_b])
    bootstrap = stats.bootstrap(
        (np.arange(n),),
        _resampled_indices(f_a - centre, f_b - centre, f_ab - centre),
        n_resamples=n_resamples,
        batch=max(1, _BOOTSTRAP_BATCH_ELEMENTS // n),
        vectorized=True,
        confidence_level=confidence_level,
        method="percentile",
        rng=rng,
    )
    low, high = bootstrap.confidence_interval
    estimates = {"first_order": result.first_order, "total_order": result.total_order}
    arrays = {name: np.reshape(value, (copies, dimension))[0].astype(float) for name, value in estimates.items()}
    for row, name in enumerate(INDEX_VARIABLES):
        arrays[f"{name}_low"] = np.asarray(low[row], dtype=float)
        arrays[f"{name}_high"] = np.asarray(high[row], dtype=float)
        arrays[f"{name}_se"] = np.asarray(bootstrap.standard_error[row], dtype=float)
    return arrays


def check_sobol_size(spec: ModelSpec, n: int) -> None:
    """Raise :class:`UsageError` unless :func:`sobol` can run ``spec`` at base sample size ``n``.

    Checked before any work: the model has a random input, ``n`` is a power of 2 of at least
    :data:`MIN_BASE_POINTS`, and its ``n × (inputs + 2)`` evaluations fit in memory.
    """
    random_inputs = sum(declared.dist != "point" for declared in spec.inputs.values())
    if not random_inputs:
        raise UsageError(f"model {spec.name!r} has no random input, so there is no variance to attribute")
    _check_base_points(n)
    evaluations = n * (random_inputs + 2)
    if evaluations > MAX_IN_MEMORY:
        raise UsageError(
            f"n = {n:,} would take {evaluations:,} model evaluations, more than the {MAX_IN_MEMORY:,} held in memory"
        )


def _check_base_points(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < MIN_BASE_POINTS or n & (n - 1):
        raise UsageError(
            f"Sobol indices need a base sample size that is a power of 2 of at least {MIN_BASE_POINTS} "
            f"(the balance of Sobol points), got {n!r}; for example {DEFAULT_BASE_POINTS}"
        )


def _evaluated(func: Callable[[np.ndarray], np.ndarray], uniforms: np.ndarray) -> np.ndarray:
    values = np.asarray(func(uniforms), dtype=float)
    if values.shape != (uniforms.shape[0],):
        raise ValueError(f"func returned shape {values.shape} for {uniforms.shape[0]} points")  # a caller's bug
    if not np.isfinite(values).all():
        raise UsageError("the output is not finite at every point, so its variance cannot be split into indices")
    return values


def _saltelli_2010_core(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Saltelli et al. (2010) Table 2 (b) and (f), each shaped ``f_ab.shape[:-1]``; a constant output gives 0."""
    variance = np.var([f_a, f_b], axis=(0, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.mean(f_b * (f_ab - f_a), axis=-1) / variance
        total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=-1) / variance
    return _no_variance_no_share(first), _no_variance_no_share(total)


def _no_variance_no_share(indices: np.ndarray) -> np.ndarray:
    # as scipy.stats.sobol_indices: an output without variance has no share of it to give
    return np.nan_to_num(indices, nan=0.0, posinf=0.0, neginf=0.0)


def _saltelli_2010(f_A: np.ndarray, f_B: np.ndarray, f_AB: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The estimator in the form ``scipy.stats.sobol_indices`` calls (its parameter names are fixed)."""
    first, total = _saltelli_2010_core(f_A, f_B, f_AB)
    return first.T, total.T


def _resampled_indices(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> Callable[..., np.ndarray]:
    """A vectorised bootstrap statistic: row numbers ``(..., n)`` to indices ``(2, dimension, ...)``.

    Every mean in the estimator is a mean over rows of a per-row term, so a resample's
    means are its row counts times those terms: one matrix product per batch of
    resamples instead of gathering ``dimension + 2`` arrays for each. ``axis`` is
    there for ``scipy.stats.bootstrap``, which passes -1, the rows' axis.
    """
    n, dimension = f_a.size, f_ab.shape[0]
    per_row = np.column_stack([f_a + f_b, f_a**2 + f_b**2, (f_b * (f_ab - f_a)).T, ((f_a - f_ab) ** 2).T])

    def statistic(rows: np.ndarray, axis: int = -1) -> np.ndarray:
        batch = rows.reshape(-1, n)
        offsets = np.arange(batch.shape[0])[:, np.newaxis] * n
        counts = np.bincount((batch + offsets).ravel(), minlength=batch.size).reshape(batch.shape)
        means = counts @ per_row / n
        variance = means[:, 1] / 2 - (means[:, 0] / 2) ** 2  # of the 2n values of f_A and f_B together
        with np.errstate(divide="ignore", invalid="ignore"):
            first = means[:, 2 : 2 + dimension] / variance[:, np.newaxis]
            total = 0.5 * means[:, 2 + dimension :] / variance[:, np.newaxis]
        indices = np.stack([_no_variance_no_share(first).T, _no_variance_no_share(total).T])
        return indices.reshape(2, dimension, *rows.shape[:-1])

    return statistic


def sobol(
    spec: ModelSpec,
    *,
    n: int = DEFAULT_BASE_POINTS,
    seed: int | np.random.Generator = DEFAULT_SEED,
    data: Dataset | None = None,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
) -> xr.Dataset:
    """Sobol indices of a spec's ``total`` with respect to each of its random inputs.

    Parameters
    ----------
    spec : ModelSpec
        From :func:`dnamodel.load_model`.
    n : int
        Base sample size, a power of 2 of at least :data:`MIN_BASE_POINTS`; the
        model is evaluated ``n × (random inputs + 2)`` times, at most
        :data:`~dnamodel.montecarlo.run.MAX_IN_MEMORY` in all.
    seed : int or numpy.random.Generator
        Seed of ``numpy.random.default_rng``, or a generator; the only source of
        randomness. The same seed gives the same result.
    data : Dataset, optional
        The bundled data when omitted.
    confidence_level, n_resamples
        Of the percentile bootstrap intervals.

    Returns
    -------
    xarray.Dataset
        Dimension ``input`` (the random inputs, in spec order). Variables
        ``first_order`` and ``total_order`` (fractions of the variance of
        ``total``, dimensionless), ``first_order_low``/``_high`` and
        ``total_order_low``/``_high`` (bootstrap intervals), and
        ``first_order_se``/``total_order_se`` (bootstrap standard errors).
        ``attrs`` hold the provenance: spec text and hash, data version, seed
        (or, for a generator, its starting state as JSON), ``n``, evaluations and
        method.

    Raises
    ------
    UsageError
        If ``n`` is not an allowed size, the spec has no random input, or ``total``
        is not finite everywhere.

    See Also
    --------
    uniform_sobol_indices : the array kernel, with the method and references.
    tornado : a one-at-a-time view of the same inputs.

    Examples
    --------
    >>> from dnamodel.families import load_model
    >>> indices = sobol(load_model("report_uniform"), n=2**8, seed=1, n_resamples=99)
    >>> indices["input"].values.tolist()
    ['rest_rate']
    >>> round(float(indices["total_order"].sel(input="rest_rate")), 2)  # the only input: all the variance
    1.0
    """
    import xarray as xr  # deferred: start-up time

    spec = check_monte_carlo_spec(spec, "sobol")
    if not isinstance(seed, np.random.Generator):
        check_seed(seed, "sobol")
    data = given_data(data, "sobol")
    check_sobol_size(spec, n)
    engine = Engine.build(spec, data)
    evaluations = n * (len(engine.random) + 2)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    seed_record = (
        {"rng_state": json.dumps(rng.bit_generator.state)} if isinstance(seed, np.random.Generator) else {"seed": seed}
    )
    arrays = uniform_sobol_indices(
        lambda uniforms: engine.draws(uniforms)["total"],
        len(engine.random),
        n=n,
        rng=rng,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
    )
    result = xr.Dataset(
        {name: ((dims.INPUT,), values) for name, values in arrays.items()},
        coords={dims.INPUT: list(engine.random)},
    )
    result.attrs.update(
        {
            **provenance(data),
            "model": spec.name,
            "spec": spec.text,
            "spec_hash": spec.hash,
            **seed_record,
            "n": n,
            "evaluations": evaluations,
            "output": "total",
            "method": "Saltelli et al. (2010) estimators on scrambled Sobol points (scipy.stats.sobol_indices)",
            "interval": f"percentile bootstrap, {n_resamples} resamples",
            "confidence_level": confidence_level,
        }
    )
    return result


def sobol_to_dict(indices: xr.Dataset) -> dict[str, Any]:
    """The result of :func:`sobol` as plain JSON-ready data, inputs ranked by total-order index.

    Examples
    --------
    >>> from dnamodel.families import load_model
    >>> payload = sobol_to_dict(sobol(load_model("report_uniform"), n=2**8, seed=1, n_resamples=99))
    >>> [row["input"] for row in payload["indices"]]
    ['rest_rate']
    """
    ranked = sorted(range(indices.sizes[dims.INPUT]), key=lambda i: -float(indices["total_order"][i]))
    return {
        "provenance": {key: value for key, value in indices.attrs.items() if key != "spec"},
        "indices": [
            {"input": str(indices[dims.INPUT].values[i])}
            | {name: float(indices[name].values[i]) for name in indices.data_vars}
            for i in ranked
        ],
    }


# --- tornado -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TornadoRow:
    """``total`` with one input at its low and at its high value, the others at their medians.

    Attributes
    ----------
    input : str
        The input's name.
    low_value, high_value : float
        The input's low and high value, in its own units.
    total_at_low, total_at_high : float
        ``total`` (samples collected) with the input at those values.
    low_label, high_label : str or None
        For a choice, the alternatives' labels.
    """

    input: str
    low_value: float
    high_value: float
    total_at_low: float
    total_at_high: float
    low_label: str | None = None
    high_label: str | None = None

    @property
    def swing(self) -> float:
        """``|total_at_high − total_at_low|``, in samples collected."""
        return abs(self.total_at_high - self.total_at_low)


@dataclass(frozen=True)
class Tornado:
    """What :func:`tornado` returns.

    Attributes
    ----------
    rows : tuple of TornadoRow
        One per random input, largest swing first (ties in spec order).
    baseline : float
        ``total`` with every random input at its median.
    baseline_inputs : dict of str to float
        The value each random input takes in the baseline.
    low, high : float
        The probabilities whose quantiles are the low and high values.
    attrs : dict
        Provenance: package and data version, model, spec hash.
    """

    rows: tuple[TornadoRow, ...]
    baseline: float
    baseline_inputs: dict[str, float]
    low: float
    high: float
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The tornado as plain JSON-ready data."""
        return {
            "provenance": dict(self.attrs),
            "low_probability": self.low,
            "high_probability": self.high,
            "baseline": self.baseline,
            "baseline_inputs": dict(self.baseline_inputs),
            "rows": [
                {
                    "input": row.input,
                    "low_value": row.low_value,
                    "high_value": row.high_value,
                    "low_label": row.low_label,
                    "high_label": row.high_label,
                    "total_at_low": row.total_at_low,
                    "total_at_high": row.total_at_high,
                    "swing": row.swing,
                }
                for row in self.rows
            ],
        }


def tornado(spec: ModelSpec, *, data: Dataset | None = None, low: float = 0.05, high: float = 0.95) -> Tornado:
    """One-at-a-time sensitivity of ``total``: each random input at a low and a high value.

    Parameters
    ----------
    spec : ModelSpec
        From :func:`dnamodel.load_model`.
    data : Dataset, optional
        The bundled data when omitted.
    low, high : float
        Probabilities, ``0 < low < high < 1``. An input's low and high values are
        its quantiles at ``low`` and ``high`` (its inverse CDF there), except for a
        ``choice``, whose low and high values are its smallest and largest
        alternative whatever their weights: its alternatives are scenarios, not
        points of a scale.

    Returns
    -------
    Tornado
        ``rows``, largest swing first, and the ``baseline`` total with every
        random input at its median: the inverse CDF at 0.5, which for a choice is
        the alternative whose weight interval holds 0.5 (the second of two equally
        weighted alternatives). Point inputs keep their values throughout.

    Raises
    ------
    UsageError
        If ``low`` and ``high`` are not probabilities with ``low < high``.

    Examples
    --------
    >>> from dnamodel.families import load_model
    >>> result = tornado(load_model("report_uniform"))
    >>> row = result.rows[0]
    >>> row.input, round(row.low_value, 4), round(row.high_value, 4)
    ('rest_rate', 0.3288, 0.4332)
    >>> f"{result.baseline:,.0f}"
    '1,063,122'
    """
    spec = check_monte_carlo_spec(spec, "tornado")
    if not 0 < low < high < 1:
        raise UsageError(f"tornado needs probabilities 0 < low < high < 1, got low = {low}, high = {high}")
    data = given_data(data, "tornado")
    engine = Engine.build(spec, data)
    median = engine.draws(np.full((1, len(engine.random)), 0.5))
    baseline_inputs = {name: median[name] for name in engine.inputs}

    # rows 2k and 2k + 1 of one evaluation: input k at its low and at its high value, the rest at the median
    rows_needed = 2 * len(engine.random)
    inputs = {name: np.repeat(value, rows_needed) for name, value in baseline_inputs.items()}
    ends = {name: _ends(engine.inputs[name], low, high) for name in engine.random}
    for k, name in enumerate(engine.random):
        inputs[name][2 * k : 2 * k + 2] = ends[name][0]
    evaluated = evaluate(spec, inputs, size=rows_needed)
    require_finite(spec, inputs | evaluated)
    totals = evaluated["total"]
    rows = []
    for k, name in enumerate(engine.random):
        (low_value, high_value), (low_label, high_label) = ends[name]
        total_at_low, total_at_high = float(totals[2 * k]), float(totals[2 * k + 1])
        rows.append(TornadoRow(name, low_value, high_value, total_at_low, total_at_high, low_label, high_label))
    rows.sort(key=lambda row: -row.swing)  # stable: equal swings stay in spec order
    return Tornado(
        rows=tuple(rows),
        baseline=float(median["total"][0]),
        baseline_inputs={name: float(baseline_inputs[name][0]) for name in engine.random},
        low=low,
        high=high,
        attrs={**provenance(data), "model": spec.name, "spec_hash": spec.hash},
    )


def _ends(spec_input: Resolved, low: float, high: float) -> tuple[tuple[float, float], tuple[str | None, str | None]]:
    """An input's low and high value, and for a choice the labels of those alternatives."""
    if spec_input.dist == "choice":
        values = [float(v) for v in spec_input.params["values"]]
        smallest, largest = int(np.argmin(values)), int(np.argmax(values))
        labels = spec_input.labels or (None,) * len(values)
        return (values[smallest], values[largest]), (labels[smallest], labels[largest])
    if spec_input.dist == "empirical":
        # the engine draws an empirical input's values in file order; sorted, the same map is its inverse CDF
        spec_input = replace(spec_input, params={"values": sorted(spec_input.params["values"])})
    low_value, high_value = inverse_cdf(spec_input, np.array([low, high]))
    return (float(low_value), float(high_value)), (None, None)
