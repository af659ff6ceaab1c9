"""A dated fit's draws reweighted to another packed vector's posterior: Pareto-smoothed importance sampling.

Leaving observations out of the likelihood (leave-one-out, a source, a forecast's future) changes
only the packed vector the compiled density reads. The full fit's draws θ_s are then draws from a
proposal for the posterior without those observations: weights p_target(θ_s) / p_base(θ_s), both
the sampler's own log density on the same unconstrained coordinates (so the Jacobians cancel),
Pareto-smoothed (Vehtari et al. 2024), give that posterior without sampling it. Where the smoothed
weights' Pareto k̂ is above :func:`pareto_k_threshold` or their effective
sample size below the gate's 400, the weights cannot be trusted and
:func:`dnamodel.checks.dated.refit` samples the target exactly instead.

- :func:`log_density`: the sampler's target at each draw, by the compiled kernel's ``logp_grad``;
- :class:`Base` (:func:`base_from_fit`, :func:`base_from_draws`): the draws to reweight, their
  packed vector, and what every reweighting of them reuses;
- :func:`smoothed_log_weights`, :func:`importance_ess`, :func:`systematic_resample`: the arithmetic,
  on arrays, independent of the model.

The model card's leave-one-out section (``docs/model.md``) states the rule and its measured agreement
with exact refits.

References
----------
Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using leave-one-out
cross-validation and WAIC. Statistics and Computing 27, 1413–1432.

Vehtari, A., Simpson, D., Gelman, A., Yao, Y. and Gabry, J. (2024). Pareto smoothed importance
sampling. Journal of Machine Learning Research 25(72), 1–58.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dnamodel.checks.gates import rhat_columns
from dnamodel.inference.dated import pack
from dnamodel.inference.dated_quantities import compiled, derive_draws, named, totals
from dnamodel.inference.sampling import quiet_arviz
from dnamodel.spec.dated import DatedInputs


def pareto_k_threshold(n: int) -> float:
    """The Pareto k above which a PSIS estimate from ``n`` draws is unreliable.

    ``min(1 - 1 / log10(n), 0.7)`` (Vehtari et al. 2024): 0.7 from 2,154 draws on.

    Examples
    --------
    >>> round(pareto_k_threshold(1000), 3), pareto_k_threshold(4000)
    (0.667, 0.7)
    """
    return min(1.0 - 1.0 / math.log10(n), 0.7)


def log_density(x: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """The sampler's log density (prior, Jacobians and active likelihood) at each draw ``x`` (draws, ndim).

    The compiled kernel's ``logp_grad`` on the packed vector ``packed``, one draw at a time: the
    number the sampler reads (``sample_stats["lp"]`` of a fit), on the unconstrained coordinates.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.inference.dated import initial_point
    >>> from dnamodel.spec.dated import resolve_dated
    >>> inputs = resolve_dated(load_model("dated"), load_data())
    >>> x = initial_point(inputs)[None, :]
    >>> everything, one_out = pack(inputs), pack(inputs, np.arange(len(inputs.observation)) != 0)
    >>> bool(log_density(x, everything)[0] < log_density(x, one_out)[0])  # one likelihood term fewer
    True
    """
    kernel = compiled()
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(x, dtype=float)))
    packed = np.ascontiguousarray(packed, dtype=float)
    grad = np.empty(x.shape[1])
    return np.fromiter((kernel.logp_grad(row, packed, grad) for row in x), dtype=float, count=x.shape[0])


@dataclass(frozen=True)
class Base:
    """Draws to reweight, the packed vector they were drawn under, and what every reweighting reuses.

    Attributes
    ----------
    x : ndarray, shape (chain·draw, ndim)
        The unconstrained draws, chain-major (chain 0's draws first).
    chains : int
        How many chains ``x`` holds, each of ``len(x) // chains`` draws.
    packed : ndarray
        The packed vector the draws were sampled under (:func:`~dnamodel.inference.dated.pack`).
    active : ndarray of bool, shape (observation,)
        Which observations ``packed`` holds in the likelihood.
    log_density : ndarray, shape (chain·draw,)
        :func:`log_density` of ``x`` under ``packed``.
    derived : dict of str to ndarray
        :func:`~dnamodel.inference.dated_quantities.derive_draws` of ``x`` under ``packed``.
    quantities : dict of str to ndarray
        The named quantities (:func:`~dnamodel.inference.dated_quantities.named`) of ``derived``.
    total : ndarray, shape (chain·draw,)
        The estimand at each draw.
    relative_efficiency : ndarray, shape (1 + observation,)
        Of the total and of each observation's expected value: the smaller of the bulk and tail
        ESS over the number of draws, at most 1.
    rhat : ndarray, shape (1 + observation,)
        R-hat (rank-normalised, split, bulk or folded) of the same quantities.
    estimand_date : float
        The date ``total`` is taken at (decimal year): with ``packed``, what a job's inputs must share
        with the base's for the base's derived draws to be the job's (:func:`same_inputs`).
    """

    x: np.ndarray
    chains: int
    packed: np.ndarray
    active: np.ndarray
    log_density: np.ndarray
    derived: dict[str, np.ndarray]
    quantities: dict[str, np.ndarray]
    total: np.ndarray
    relative_efficiency: np.ndarray
    rhat: np.ndarray
    estimand_date: float = math.nan

    @property
    def draws(self) -> int:
        """How many draws the base holds, every chain's."""
        return int(self.x.shape[0])

    def columns(self, predicts: np.ndarray) -> np.ndarray:
        """Indices into :attr:`relative_efficiency` and :attr:`rhat` of the total and the observations ``predicts``."""
        return np.concatenate(([0], 1 + np.asarray(predicts, int)))


def base_from_draws(x: np.ndarray, chains: int, inputs: DatedInputs, active: np.ndarray | None = None) -> Base:
    """A :class:`Base` from unconstrained draws ``x`` (chain, draw, ndim) sampled with ``active`` observations.

    ``active`` (all, by default) is the likelihood the draws were sampled under.
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    x = np.asarray(x, dtype=float)
    flat = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    active = np.ones(len(inputs.observation), bool) if active is None else np.asarray(active, bool)
    packed = pack(inputs, active)
    derived = derive_draws(flat, inputs, packed)
    quantities = named(derived, inputs)
    total = totals(quantities, inputs)["total"]
    columns = np.column_stack([total, derived["expected"]]).reshape(chains, -1, 1 + len(inputs.observation))
    n = flat.shape[0]
    efficiency = np.array(
        [
            min(float(az.ess(columns[:, :, i], method="bulk")), float(az.ess(columns[:, :, i], method="tail"))) / n
            for i in range(columns.shape[2])
        ]
    )
    return Base(
        x=flat,
        chains=chains,
        packed=packed,
        active=active,
        log_density=log_density(flat, packed),
        derived=derived,
        quantities=quantities,
        total=total,
        relative_efficiency=np.minimum(np.nan_to_num(efficiency, nan=0.0), 1.0),
        rhat=np.asarray(rhat_columns(columns), dtype=float),
        estimand_date=float(inputs.estimand_date),
    )


def base_from_fit(idata: Any, inputs: DatedInputs) -> Base | None:
    """A :class:`Base` of a dated fit's posterior (``unconstrained`` draws), under the likelihood it was fitted with.

    ``None`` for a fit without unconstrained draws (one read back without its posterior).
    """
    if idata is None or "unconstrained" not in getattr(idata, "posterior", {}):
        return None
    x = idata.posterior["unconstrained"].values
    active = idata.constant_data["active"].values if "constant_data" in idata else None
    return base_from_draws(x, x.shape[0], inputs, active)


def smoothed_log_weights(log_ratio: np.ndarray, relative_efficiency: float) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, self-normalised log importance weights of ``log_ratio`` (draws,), and their k̂.

    ``arviz.psislw`` fits a generalised Pareto distribution to the largest ratios (a tail whose length
    depends on ``relative_efficiency``, the draws' ESS over their number) and replaces them by its
    quantiles. k̂ is its shape: the weights are reliable below
    :func:`pareto_k_threshold`. Equal ratios give equal weights and k̂ = −inf.

    Examples
    --------
    >>> log_w, k = smoothed_log_weights(np.zeros(1000), 1.0)
    >>> bool(np.allclose(np.exp(log_w), 1e-3)), k
    (True, -inf)
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    log_ratio = np.asarray(log_ratio, dtype=float)
    n = log_ratio.size
    if not np.all(np.isfinite(log_ratio)):
        return np.full(n, -math.log(n)), math.inf
    if np.ptp(log_ratio) == 0:
        return np.full(n, -math.log(n)), -math.inf
    # ArviZ's Pareto fit sums exp() of profile differences that underflow on a light tail: harmless
    with np.errstate(over="ignore"):
        smoothed, k = az.psislw(log_ratio - log_ratio.max(), reff=float(relative_efficiency))
    smoothed = np.asarray(smoothed, dtype=float)
    top = smoothed.max()
    return smoothed - (top + math.log(float(np.exp(smoothed - top).sum()))), float(k)


def importance_ess(log_weights: np.ndarray, relative_efficiency: float) -> float:
    """The effective sample size of self-normalised weights: ``relative_efficiency / Σ w̃²``.

    Examples
    --------
    >>> round(importance_ess(np.full(1000, -np.log(1000)), 0.5), 6)  # equal weights: the draws' own ESS
    500.0
    """
    weights = np.exp(np.asarray(log_weights, dtype=float))
    return float(relative_efficiency / float(weights @ weights))


def systematic_resample(log_weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``size`` draws resampled by normalised weights ``exp(log_weights)``, systematically.

    One uniform offset u, then the points (u + i) / size: each draw is taken ⌊size·w⌋ or ⌈size·w⌉
    times, the least variance of any unbiased resampling (Douc & Cappé 2005). The indices are sorted,
    so draws of one chain stay together.

    Examples
    --------
    >>> systematic_resample(np.log([0.5, 0.25, 0.25]), 4, np.random.default_rng(0)).tolist()
    [0, 0, 1, 2]
    """
    weights = np.exp(np.asarray(log_weights, dtype=float))
    cumulative = np.cumsum(weights / weights.sum())
    points = (rng.random() + np.arange(size)) / size
    return np.minimum(np.searchsorted(cumulative, points, side="right"), len(weights) - 1)


@dataclass(frozen=True)
class Reweighting:
    """The base's draws reweighted towards a target packed vector: the weights and whether to trust them.

    ``log_weights`` are Pareto-smoothed and normalised (they sum to 1 on the linear scale);
    ``limit`` is the k̂ above which they are not trusted; ``ess`` is their effective sample size
    for what the target predicts; ``rhat`` the base's largest R-hat over the same quantities.
    """

    log_weights: np.ndarray
    pareto_k: float
    ess: float
    limit: float
    rhat: float

    def trusted(self, min_ess: float, max_rhat: float) -> bool:
        """k̂ at most :attr:`limit`, ESS at least ``min_ess``, and the base's R-hat at most ``max_rhat``."""
        return self.pareto_k <= self.limit and self.ess >= min_ess and self.rhat <= max_rhat


def same_inputs(base: Base, inputs: DatedInputs) -> bool:
    """Whether ``inputs`` are the base's: they pack, with the base's active observations, as the base's did.

    And take the total at the same date. Only then may a job read the base's log likelihoods and derived
    draws (:func:`log_ratio`); a sweep's point (another prior, another datum) has inputs of its own.
    """
    if len(inputs.observation) != len(base.active) or inputs.estimand_date != base.estimand_date:
        return False  # an observation added or dropped (a sweep's point), or the total at another date
    return bool(np.array_equal(pack(inputs, base.active), base.packed))


def reads_base(
    base: Base,
    inputs: DatedInputs,
    active: np.ndarray,
    value: np.ndarray | None = None,
    censor: np.ndarray | None = None,
) -> bool:
    """Whether a job differs from the base only in which observations of no unverified source are active.

    And the base holds its derived draws (a sweep's base, sent to other processes, may not).
    """
    if value is not None or censor is not None or "log_likelihood" not in base.derived:
        return False
    if not same_inputs(base, inputs):
        return False
    grouped = np.asarray(inputs.unverified_group) >= 0
    if len(grouped) != len(active):  # a spec with no unverified source
        grouped = np.zeros(len(active), bool)
    return not np.any((np.asarray(active, bool) != base.active) & grouped)


def log_ratio(
    base: Base,
    inputs: DatedInputs,
    active: np.ndarray,
    value: np.ndarray | None = None,
    censor: np.ndarray | None = None,
) -> np.ndarray:
    """The log importance ratios at each of the base's draws, log p_target(θ_s) − log p_base(θ_s).

    The target is the posterior with the ``active`` observations (and ``value``, ``censor``, when
    given) in the likelihood. Where the job changes only which observations of no unverified source
    are active (:func:`reads_base`: its inputs are the base's), the difference is those observations'
    log likelihoods, added or removed (the density is the prior plus each active one's,
    ``docs/model.md`` section 5), read from the base's derived draws; otherwise (other values, or
    other inputs: a sweep's point) it is :func:`log_density` under the target's packed vector, minus
    the base's. A test checks the two agree.
    """
    active = np.asarray(active, bool)
    if reads_base(base, inputs, active, value, censor):
        changed = active != base.active
        sign = np.where(active[changed], 1.0, -1.0)
        return np.asarray(base.derived["log_likelihood"][:, changed] @ sign, dtype=float)
    return log_density(base.x, pack(inputs, active, value, censor)) - base.log_density


def reweight(
    base: Base,
    inputs: DatedInputs,
    active: np.ndarray,
    predicts: np.ndarray,
    value: np.ndarray | None = None,
    censor: np.ndarray | None = None,
) -> Reweighting:
    """The base's draws reweighted to the posterior with ``active`` observations, judged on what it predicts.

    What it predicts: the total and the expected value of each observation in ``predicts``.

    The relative efficiency PSIS sizes its tail by, and the one the ESS is scaled by, is the base's
    smallest over the total and the expected value of each observation in ``predicts``.
    """
    columns = base.columns(predicts)
    efficiency = float(np.min(base.relative_efficiency[columns]))
    log_weights, k = smoothed_log_weights(log_ratio(base, inputs, active, value, censor), max(efficiency, 1e-6))
    rhat = base.rhat[columns]
    return Reweighting(
        log_weights,
        k,
        importance_ess(log_weights, efficiency),
        pareto_k_threshold(base.draws),
        float(np.max(rhat)) if not np.all(np.isnan(rhat)) else math.inf,
    )
