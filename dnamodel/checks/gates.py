"""The convergence gates a fit must pass before any figure of it is cited.

:func:`diagnose` (or :func:`diagnose_posterior`, from a posterior alone) checks zero divergences,
R-hat ≤ :data:`MAX_RHAT` on every posterior variable (element by element), and bulk and tail ESS ≥
:data:`MIN_ESS` on every gated scalar (:data:`GATED`), and returns a :class:`Diagnostics` that says
which gate failed and by how much.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.errors import UsageError, python_value
from dnamodel.inference.sampling import quiet_arviz
from dnamodel.spec import parameters

if TYPE_CHECKING:
    import arviz as az

MAX_DIVERGENCES = 0
MAX_RHAT = 1.01
MIN_ESS = 400
GATED = parameters.gated_names()
"""The scalars the gates apply to, when the model has them: every model's, from the registries
(:func:`dnamodel.spec.parameters.gated_names`; the shipped ones, for figures)."""


@dataclass(frozen=True)
class GateRow:
    """One gated quantity's diagnostics."""

    name: str
    rhat: float
    ess_bulk: float
    ess_tail: float
    passed: bool


@dataclass(frozen=True)
class Diagnostics:
    """The gates of a fit: zero divergences, R-hat ≤ 1.01, bulk and tail ESS ≥ 400.

    R-hat is checked on every posterior variable, element by element; ESS on every
    scalar parameter and on ``total``.
    """

    divergences: int
    draws: int
    chains: int
    max_rhat: float
    max_rhat_variable: str
    min_ess_bulk: float
    min_ess_tail: float
    rows: tuple[GateRow, ...]
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether every gate holds."""
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["passed"] = self.passed
        return out


def diagnose(idata: az.InferenceData) -> Diagnostics:
    """Apply the gates to a fit.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit, with groups ``posterior`` and ``sample_stats`` (``diverging``).

    Returns
    -------
    Diagnostics
        Divergences, the largest R-hat, the smallest bulk and tail ESS, a row per gated
        variable, and ``failures`` (empty when ``passed``).

    Examples
    --------
    A fit whose chains disagree fails the R-hat gate:

    >>> import arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bad = az.from_dict(posterior={"total": rng.normal(size=(4, 500)) + np.arange(4)[:, None]},
    ...                    sample_stats={"diverging": np.zeros((4, 500), bool)})
    >>> d = diagnose(bad)
    >>> d.passed, d.failures[0].startswith("R-hat")
    (False, True)
    """
    if not (hasattr(idata, "groups") and hasattr(idata, "attrs")):
        raise TypeError(f"diagnose: idata must be an arviz.InferenceData (a fit), got {python_value(idata)}")
    groups = idata.groups()
    if "posterior" not in groups or "sample_stats" not in groups or "diverging" not in idata.sample_stats:
        raise UsageError(
            "diagnose: the InferenceData needs a posterior and sample_stats with 'diverging', as a fit of "
            f"dnamodel.fit has; it has the groups {', '.join(groups) or 'none'}"
        )
    post = idata.posterior
    if dims.CHAIN not in post.dims or dims.DRAW not in post.dims:
        raise UsageError(f"diagnose: the posterior has no chain and draw dimensions (its dims: {', '.join(post.dims)})")
    return diagnose_posterior(post, int(idata.sample_stats["diverging"].sum()))


def diagnose_posterior(post: Any, divergences: int) -> Diagnostics:
    """:func:`diagnose` on a posterior ``xarray.Dataset`` over (chain, draw, ...) and a divergence count.

    A sweep's point (:mod:`dnamodel.workflows.sweep`) passes only the variables it summarises and
    the free parameters, without building an ``InferenceData``.
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    rhat = {}
    for name, variable in post.data_vars.items():
        values = variable.transpose(dims.CHAIN, dims.DRAW, ...).values
        columns = values.reshape(values.shape[0], values.shape[1], -1)
        if columns.size and np.all(columns == columns[:1, :1, :]):
            continue  # a value the spec holds fixed (``dist = "fixed"``): not sampled, nothing to diagnose
        rhat[name] = rhat_columns(columns)
    worst_name, worst = "", 0.0
    for name, values in rhat.items():
        if values.size and np.all(np.isnan(values)):
            continue
        value = float(np.nanmax(values)) if values.size else 1.0
        if value > worst:
            worst_name, worst = name, value
    gated = [name for name in parameters.gated_names() if name in rhat and post[name].ndim == 2]
    bulk = az.ess(post[gated], method="bulk")
    tail = az.ess(post[gated], method="tail")
    rows, failures = [], []
    if divergences > MAX_DIVERGENCES:
        failures.append(f"{divergences} divergent transitions (gate: {MAX_DIVERGENCES})")
    if worst > MAX_RHAT:
        failures.append(f"R-hat {worst:.3f} for {worst_name} (gate: ≤ {MAX_RHAT})")
    for name in gated:
        r, b, t = float(rhat[name][0]), float(bulk[name]), float(tail[name])
        ok = r <= MAX_RHAT and b >= MIN_ESS and t >= MIN_ESS
        rows.append(GateRow(name, r, b, t, ok))
        if b < MIN_ESS or t < MIN_ESS:
            failures.append(f"ESS {min(b, t):.0f} for {name} (gate: ≥ {MIN_ESS} bulk and tail)")
    return Diagnostics(
        divergences=divergences,
        draws=int(post.sizes[dims.DRAW]),
        chains=int(post.sizes[dims.CHAIN]),
        max_rhat=worst,
        max_rhat_variable=worst_name,
        min_ess_bulk=min((r.ess_bulk for r in rows), default=math.nan),
        min_ess_tail=min((r.ess_tail for r in rows), default=math.nan),
        rows=tuple(rows),
        failures=tuple(failures),
    )


def rhat_columns(values: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat of each column of draws ``values`` (chain, draw, column).

    The larger of the bulk and the folded (tail) R-hat, as ``arviz.rhat`` computes it (method
    ``"rank"``), for all columns at once: ArviZ loops over a variable's elements in Python, which
    cost about a second for the dated model's 183 free parameters, a tenth of a sweep point.
    ``tests/test_sweep.py`` checks it against ArviZ. NaN where ArviZ gives NaN: fewer than 2
    chains or 4 draws, or a column holding a NaN.

    References
    ----------
    Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). Rank-normalization,
    folding, and localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis
    16(2), 667-718.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mixed = rng.normal(size=(4, 500, 2))
    >>> mixed[:, :, 1] += np.arange(4)[:, None]  # column 1: the chains disagree
    >>> rhat = rhat_columns(mixed)
    >>> bool(rhat[0] < 1.01), bool(rhat[1] > 1.5)
    (True, True)
    """
    from scipy.special import ndtri  # deferred: start-up time

    x = np.asarray(values, dtype=float)
    chains, draws, columns = x.shape
    if chains < 2 or draws < 4:
        return np.full(columns, np.nan)
    half = draws // 2
    split = np.concatenate((x[:, :half], x[:, -half:]), axis=0)  # each chain's halves as two chains
    flat = split.reshape(-1, columns)

    def z_scale(a: np.ndarray) -> np.ndarray:
        rank = average_ranks(a.T).T
        return ndtri((rank - 3 / 8) / (a.shape[0] + 1 / 4)).reshape(split.shape)  # Blom's offset

    def rhat(z: np.ndarray) -> np.ndarray:
        n = z.shape[1]
        within = z.var(axis=1, ddof=1).mean(axis=0)
        between = n * z.mean(axis=1).var(axis=0, ddof=1)
        return np.sqrt((between / within + n - 1) / n)

    with np.errstate(divide="ignore", invalid="ignore"):  # a constant column: NaN, as ArviZ gives
        bulk = rhat(z_scale(flat))
        tail = rhat(z_scale(np.abs(flat - np.median(flat, axis=0))))
    out = np.maximum(bulk, tail)
    out[np.isnan(flat).any(axis=0)] = np.nan
    return out


def average_ranks(rows: np.ndarray) -> np.ndarray:
    """Ranks (from 1) within each row, ties sharing their average: ``scipy.stats.rankdata(method="average")``.

    Sorting along contiguous rows, and spreading tied ranks with cumulative maxima and minima, takes a
    fraction of SciPy's time on many columns of a few thousand draws.

    Examples
    --------
    >>> average_ranks(np.array([[3.0, 1.0, 3.0, 2.0]]))
    array([[3.5, 1. , 3.5, 2. ]])
    """
    a = np.ascontiguousarray(rows, dtype=float)
    n = a.shape[1]
    order = np.argsort(a, axis=1)  # the order among ties does not change their average
    ordered = np.take_along_axis(a, order, axis=1)
    changes = ordered[:, 1:] != ordered[:, :-1]
    ranks = np.empty_like(a)
    # a row without ties (continuous draws: almost every row) ranks by its order alone
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, n + 1.0), a.shape), axis=1)
    tied = np.flatnonzero(~changes.all(axis=1))
    if len(tied):
        ranks[tied] = _tied_ranks(order[tied], changes[tied], n)
    return ranks


def _tied_ranks(order: np.ndarray, changes: np.ndarray, n: int) -> np.ndarray:
    """:func:`average_ranks` of rows with ties, from their sorting ``order`` and where sorted values change."""
    position = np.broadcast_to(np.arange(n), order.shape)
    starts = np.concatenate((np.ones((order.shape[0], 1), bool), changes), axis=1)
    ends = np.concatenate((changes, np.ones((order.shape[0], 1), bool)), axis=1)
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, position, n - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(order.shape)
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, axis=1)
    return ranks
