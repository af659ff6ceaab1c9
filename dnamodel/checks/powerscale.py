"""How much the posterior moves when the priors or the likelihood are power-scaled.

Power-scaling (Kallioinen et al. 2024) raises one component of the posterior to a power
``alpha`` near 1, ``p(θ)^alpha p(y | θ)`` or ``p(θ) p(y | θ)^alpha``, and measures how far
each marginal posterior moves, by Pareto-smoothed importance sampling (PSIS) of the
existing draws: no refit. ArviZ's ``psens`` gives the sensitivity (the derivative of the
cumulative Jensen-Shannon distance with respect to ``log2(alpha)`` at ``alpha = 1``);
:func:`sensitivity_table` reports it for the quantities people cite and diagnoses each as
priorsense does. :func:`reweighted_estimate` is the same reweighting at a finite ``alpha``
for one named prior, and the refits it stands in for check it (``tests/test_powerscale.py``).

This module is the method; what each model's prior terms are, the priors raised to a power and the
refits are :mod:`dnamodel.checks.scaled_priors`'s. A fit of either kind is read from its
``log_prior`` and ``log_likelihood`` groups alone (``hierarchical_log_densities``,
``dated_log_densities`` there; the public :func:`dnamodel.power_scaling` asks the fit's model family
for them). A hierarchical fit gains them with ``add_log_densities``; a dated fit has them from
:func:`dnamodel.inference.dated.fit_dated`, and ``dated_log_prior`` takes its prior terms back to
each parameter's own scale. Each quantity's sensitivity is reported to all the scaled priors
together (the diagnosis), to each prior term alone, and to the likelihood.

Which terms are scaled in the hierarchical model (the model card is ``docs/model.md``, section 4):

- Prior: the top-level priors only (``scaled_priors.TOP_LEVEL_PRIORS``, the registry's). The unit-level ``z``,
  ``logit_direct``, ``census_z`` and ``row_logit`` are the hierarchical structure, not
  priors chosen by the analyst, and scaling them would change what the hyperparameters
  mean; Kallioinen et al. (2024) recommend scaling the top-level priors of hierarchical
  models for this reason. ``base_u`` is Uniform(0, 1), whose log-density is 0 on its
  support, so scaling it changes nothing and it is left out.
- Likelihood: every observed variable (``obs``, ``row_obs``) and the ``thesis`` potential.
  The potential is the likelihood of the thesis's database count given the total, with the
  pace integrated out (section 4.6): data, not a prior, so it is scaled with the rest.

And in the dated model (section 5; ``scaled_priors.DATED_PRIOR_TERMS``, the registry's power-scaled terms):

- Prior: every prior the spec states (α, θ, the two spreads, δ, each group's start and pace,
  κ, b, the uplifts), not ``effects``, the standard-normal group, unit and census effects, for the
  same reason as ``z`` above. Each term is on its parameter's own scale, as the spec states it: the
  fit saves them on the sampler's unconstrained scale, and ``dated_log_prior`` takes off the
  Jacobian of its transform (a prior raised to a power is a statement about the parameter, not about
  its logarithm; priorsense's ``lprior`` is the same).
- Likelihood: ``obs``, every observation, the thesis's database figures among them.

:func:`reweighted_estimate`'s weighted mean and :func:`power_scaled_mean`, its array kernel,
take ``values`` and ``log_density`` over ``(chain, draw)``.

References
----------
.. [1] Kallioinen, N., Paananen, T., Bürkner, P.-C. and Vehtari, A. (2024). Detecting and
   diagnosing prior and likelihood sensitivity with power-scaling. *Statistics and
   Computing* 34, 57. https://doi.org/10.1007/s11222-023-10366-5
.. [2] Vehtari, A., Simpson, D., Gelman, A., Yao, Y. and Gabry, J. (2024). Pareto smoothed
   importance sampling. *Journal of Machine Learning Research* 25(72), 1-58.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel.checks.reweight import pareto_k_threshold
from dnamodel.checks.scaled_priors import _check_alpha, _check_prior
from dnamodel.errors import UsageError, did_you_mean
from dnamodel.inference.sampling import quiet_arviz
from dnamodel.spec import parameters

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr


def reported_quantities(registry: tuple[parameters.Parameter, ...]) -> tuple[str, ...]:
    """What power-scaling reports by default: the model's scalars that SBC ranks too, and the total.

    Read from the registry when called, so a parameter added there is reported (:data:`QUANTITIES` and
    :data:`DATED_QUANTITIES` are the shipped registries').
    """
    return (*parameters.names(registry, sbc=True, scalar=True), "total")


QUANTITIES = reported_quantities(parameters.HIERARCHICAL)
"""The quantities :func:`dnamodel.power_scaling` reports by default for a hierarchical fit: α, β, σ and the total."""

DATED_QUANTITIES = reported_quantities(parameters.DATED)
"""The quantities :func:`dnamodel.power_scaling` reports by default for a dated fit: every scalar it has, and the
total."""

THRESHOLD = 0.05
"""Sensitivity at or above which a component is called influential (priorsense's default)."""

DELTA = 0.01
"""psens perturbs ``alpha`` to ``1 / (1 + DELTA)`` and ``1 + DELTA`` (priorsense's 0.99 and 1.01)."""

PRIOR_DATA_CONFLICT = "prior-data conflict"
STRONG_PRIOR = "strong prior / weak likelihood"
NO_FLAG = "-"
"""The diagnoses, in priorsense's words; ``NO_FLAG`` covers both the expected case (likelihood
sensitivity only) and neither component mattering, which priorsense does not tell apart."""


# --- array kernels -----------------------------------------------------------------------------


def diagnosis(prior: float, likelihood: float, threshold: float = THRESHOLD) -> str:
    """The diagnosis of one quantity from its prior and likelihood sensitivities.

    The rules are priorsense's ``powerscale_sensitivity`` (and ArviZ-stats' ``psense_summary``):
    both sensitivities at or above ``threshold`` suggest prior-data conflict; prior sensitivity
    above it with likelihood sensitivity below suggests a strong prior or weak likelihood.
    Anything else, including the expected case of likelihood sensitivity alone, is not flagged.

    Parameters
    ----------
    prior, likelihood : float
        Power-scaling sensitivities (psens, cumulative Jensen-Shannon distance).
    threshold : float
        The sensitivity that counts as influential.

    Returns
    -------
    str
        :data:`PRIOR_DATA_CONFLICT`, :data:`STRONG_PRIOR` or :data:`NO_FLAG`.

    References
    ----------
    Kallioinen et al. (2024); priorsense's ``powerscale_sensitivity``.

    Examples
    --------
    >>> diagnosis(0.12, 0.09), diagnosis(0.12, 0.01), diagnosis(0.01, 0.09)
    ('prior-data conflict', 'strong prior / weak likelihood', '-')
    """
    if prior >= threshold and likelihood >= threshold:
        return PRIOR_DATA_CONFLICT
    if prior > threshold > likelihood:
        return STRONG_PRIOR
    return NO_FLAG


def power_scaled_mean(values: np.ndarray, log_density: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    """The posterior mean of ``values`` with one density term raised to the power ``alpha``.

    The draws are reweighted by ``p^(alpha - 1)``, Pareto-smoothed (``arviz.psislw``) and
    self-normalised. The Monte Carlo standard error is the delta-method one of a
    self-normalised estimate: the MCSE of the mean of ``n·w·(x - mean)``, which ArviZ
    computes over the chains, so it accounts for the draws' autocorrelation.

    Parameters
    ----------
    values : ndarray, shape (chain, draw)
        Draws of a scalar quantity.
    log_density : ndarray, shape (chain, draw)
        The log of the density term that is scaled (a log prior or a log likelihood), at the
        same draws, without any change-of-variables Jacobian.
    alpha : float
        The power, positive. 1 returns the plain posterior mean.

    Returns
    -------
    mean, mcse : float
        The power-scaled posterior mean and its Monte Carlo standard error, in the units of
        ``values``.
    ess : float
        The effective sample size of the weighted estimate, ``weighted variance / mcse²``.
    pareto_k : float
        The Pareto shape of the weights' tail; the estimate is reliable below
        :func:`pareto_k_threshold`. ``-inf`` when the weights are all equal.

    References
    ----------
    Kallioinen et al. (2024); Vehtari et al. (2024).

    Examples
    --------
    A N(0, 1) prior and one observation 2 with unit noise give the posterior N(1, 1/2)
    (mean, variance); squaring the prior gives N(2/3, 1/3):

    >>> import numpy as np
    >>> from scipy import stats
    >>> theta = np.random.default_rng(1).normal(1.0, np.sqrt(0.5), size=(4, 2000))
    >>> mean, mcse, ess, k = power_scaled_mean(theta, stats.norm.logpdf(theta), 2.0)
    >>> bool(abs(mean - 2 / 3) < 4 * mcse), bool(k < pareto_k_threshold(theta.size))
    (True, True)
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    values = np.asarray(values, dtype=float)
    log_density = np.asarray(log_density, dtype=float)
    if values.ndim != 2 or values.shape != log_density.shape:
        raise ValueError(
            f"values and log_density must both be (chain, draw) arrays; they are {values.shape} and {log_density.shape}"
        )
    if not (alpha > 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be positive and finite; it is {alpha!r}")
    n = values.size
    log_ratio = (alpha - 1.0) * log_density
    if np.ptp(log_ratio) == 0:  # alpha = 1 or a flat term: the plain mean, with no tail to fit
        weights = np.full(n, 1.0 / n)
        pareto_k = -math.inf
    else:
        # PSIS sizes its tail by the ratios' relative efficiency (Vehtari et al. 2024).
        ratio = np.exp(log_ratio - log_ratio.max())
        relative_efficiency = float(np.squeeze(az.ess(ratio, method="mean"))) / n
        # ArviZ's Pareto fit sums exp() of profile differences whose weights underflow to 0 on a
        # light tail (k < 0): its overflow warning changes nothing.
        with np.errstate(over="ignore"):
            smoothed, k = az.psislw(log_ratio.ravel(), reff=relative_efficiency)
        weights = np.exp(smoothed)
        pareto_k = float(k)
    flat = values.ravel()
    mean = float(weights @ flat)
    influence = (n * weights * (flat - mean)).reshape(values.shape)
    mcse = float(np.squeeze(az.mcse(influence, method="mean")))
    variance = float(weights @ (flat - mean) ** 2)
    return mean, mcse, variance / mcse**2 if mcse > 0 else math.nan, pareto_k


# --- sensitivity ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sensitivity:
    """One quantity's power-scaling sensitivity to the prior and to the likelihood.

    ``prior`` scales every prior term together (and decides the diagnosis); ``by_prior`` scales
    each term alone, which says which prior the quantity leans on.
    """

    quantity: str
    prior: float
    likelihood: float
    diagnosis: str
    by_prior: dict[str, float] = field(default_factory=dict)


PROVENANCE_KEYS = ("model", "spec_hash", "seed", "sampler", "draws", "tune", "chains", "data_version")


@dataclass(frozen=True)
class PowerScaling:
    """The psens table of a fit: one :class:`Sensitivity` per quantity (element, for arrays).

    Attributes
    ----------
    rows : tuple of Sensitivity
    threshold, delta : float
        The flagging threshold and psens's perturbation of ``alpha``.
    prior_terms, likelihood_terms : tuple of str
        The variables of the ``log_prior`` and ``log_likelihood`` groups that were scaled.
    provenance : dict
        The fit's model, spec hash, seed, sampler settings and data version, as its ``attrs`` have them.
    """

    rows: tuple[Sensitivity, ...]
    threshold: float
    delta: float
    prior_terms: tuple[str, ...]
    likelihood_terms: tuple[str, ...]
    provenance: dict[str, Any]

    def __getitem__(self, quantity: str) -> Sensitivity:
        for row in self.rows:
            if row.quantity == quantity:
                return row
        raise KeyError(f"{quantity!r}{did_you_mean(quantity, [r.quantity for r in self.rows])}")

    @property
    def quantities(self) -> tuple[str, ...]:
        """The rows' names, in order."""
        return tuple(row.quantity for row in self.rows)

    @property
    def flagged(self) -> tuple[Sensitivity, ...]:
        """The rows diagnosed as prior-sensitive: prior-data conflict or strong prior / weak likelihood."""
        return tuple(row for row in self.rows if row.diagnosis != NO_FLAG)

    def to_dict(self) -> dict[str, Any]:
        """The table as plain data, for JSON."""
        return {
            "rows": [asdict(row) for row in self.rows],
            "threshold": self.threshold,
            "delta": self.delta,
            "prior_terms": list(self.prior_terms),
            "likelihood_terms": list(self.likelihood_terms),
            "provenance": dict(self.provenance),
        }


def _labelled(values: xr.DataArray) -> Iterator[tuple[str, float]]:
    """Each element of a psens result, named ``var`` or ``var[coord, …]``."""
    if values.ndim == 0:
        yield str(values.name), float(values)
        return
    stacked = values.stack(element=values.dims)
    for i in range(stacked.sizes["element"]):
        label = ", ".join(str(part) for part in np.atleast_1d(stacked["element"].values[i]))
        yield f"{values.name}[{label}]", float(stacked.values[i])


def sensitivity_table(
    idata: az.InferenceData,
    var_names: Sequence[str] = QUANTITIES,
    *,
    threshold: float = THRESHOLD,
    delta: float = DELTA,
    prior_var_names: Sequence[str] | None = None,
    likelihood_var_names: Sequence[str] | None = None,
) -> PowerScaling:
    """Prior and likelihood power-scaling sensitivity (``arviz.psens``) with a diagnosis each.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``posterior``, ``log_prior`` and ``log_likelihood`` groups, over ``(chain, draw)``.
    var_names : sequence of str
        Posterior variables to report; an array variable gives a row per element.
    threshold : float
        Sensitivity at or above which a component is influential (:func:`diagnosis`).
    delta : float
        psens's perturbation: ``alpha`` in ``1 / (1 + delta)`` and ``1 + delta``.
    prior_var_names, likelihood_var_names : sequence of str, optional
        The terms to scale together; all of each group by default.

    Returns
    -------
    PowerScaling
        Sensitivities are cumulative Jensen-Shannon distances per unit ``log2(alpha)``:
        0 when the marginal does not move. Each row's ``by_prior`` scales each prior term alone.

    References
    ----------
    Kallioinen et al. (2024).

    Examples
    --------
    A N(0, 1) prior against one N(θ, 1) observation at 3: the posterior N(1.5, 0.5) moves
    with either component, the mark of prior-data conflict:

    >>> import arviz as az, numpy as np
    >>> from scipy import stats
    >>> theta = np.random.default_rng(2).normal(1.5, np.sqrt(0.5), size=(4, 1000))
    >>> idata = az.from_dict(posterior={"theta": theta},
    ...                      log_likelihood={"y": stats.norm.logpdf(3.0, theta, 1.0)})
    >>> idata.add_groups(log_prior={"theta": stats.norm.logpdf(theta)})
    >>> sensitivity_table(idata, ["theta"])["theta"].diagnosis
    'prior-data conflict'
    """
    import arviz as az  # deferred: start-up time
    import xarray as xr  # deferred: start-up time

    quiet_arviz()
    names = list(var_names)
    missing = [name for name in names if name not in idata.posterior]
    if missing:
        hint = did_you_mean(missing[0], list(idata.posterior.data_vars))
        raise UsageError(f"the posterior has no {', '.join(missing)}{hint}")
    prior_terms = tuple(prior_var_names or idata.log_prior.data_vars)
    likelihood_terms = tuple(likelihood_var_names or idata.log_likelihood.data_vars)

    def psens(component: str, terms: Sequence[str]) -> xr.Dataset:
        result = az.psens(idata, component=component, component_var_names=list(terms), var_names=names, delta=delta)
        # psens returns a bare DataArray when asked for one variable
        return result.to_dataset(name=names[0]) if isinstance(result, xr.DataArray) else result

    prior_all, likelihood_all = psens("prior", prior_terms), psens("likelihood", likelihood_terms)
    each = {term: psens("prior", [term]) for term in prior_terms} if len(prior_terms) > 1 else {}
    rows = []
    for name in names:
        prior = dict(_labelled(prior_all[name]))
        likelihood = dict(_labelled(likelihood_all[name]))
        alone = {term: dict(_labelled(result[name])) for term, result in each.items()}
        for label, value in prior.items():
            by_prior = {term: values[label] for term, values in alone.items()} or {prior_terms[0]: value}
            rows.append(
                Sensitivity(label, value, likelihood[label], diagnosis(value, likelihood[label], threshold), by_prior)
            )
    provenance = {key: idata.attrs[key] for key in PROVENANCE_KEYS if key in idata.attrs}
    return PowerScaling(tuple(rows), threshold, delta, prior_terms, likelihood_terms, provenance)


# --- one prior, scaled by a finite power ---------------------------------------------------------


@dataclass(frozen=True)
class ScaledEstimate:
    """A posterior mean under one prior raised to a power, estimated by PSIS from one fit.

    Attributes
    ----------
    quantity, prior : str
        The posterior quantity, and the prior that is scaled.
    alpha : float
        The power.
    mean, mcse : float
        The estimate and its Monte Carlo standard error, in the quantity's units.
    ess : float
        Effective sample size of the weighted estimate.
    pareto_k, k_threshold : float
        The weights' Pareto shape, and the value above which the estimate is unreliable.
    """

    quantity: str
    prior: str
    alpha: float
    mean: float
    mcse: float
    ess: float
    pareto_k: float
    k_threshold: float

    @property
    def reliable(self) -> bool:
        """Whether Pareto k is below its threshold (Vehtari et al. 2024)."""
        return self.pareto_k < self.k_threshold


def reweighted_estimate(idata: az.InferenceData, prior: str, alpha: float, var: str) -> ScaledEstimate:
    """The posterior mean of ``var`` with the prior ``prior`` raised to the power ``alpha``.

    Importance sampling from the fit (:func:`power_scaled_mean`): no refit, and what psens
    does at ``alpha = 1 ± 0.01``, here at a finite power.
    :func:`~dnamodel.checks.scaled_priors.hierarchical_scaled_refit` and
    :func:`~dnamodel.checks.scaled_priors.dated_scaled_refit` are the refits it stands in for.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with its ``log_prior`` group on each parameter's own scale, as
        :func:`~dnamodel.checks.scaled_priors.hierarchical_log_densities` and
        :func:`~dnamodel.checks.scaled_priors.dated_log_densities` give it.
    prior : str
        A prior term of ``log_prior`` (``scaled_priors.TOP_LEVEL_PRIORS``, ``DATED_PRIOR_TERMS``), e.g. ``"beta"``.
    alpha : float
        The power: below 1 weakens the prior, above 1 strengthens it.
    var : str
        A scalar posterior quantity, e.g. ``"beta"`` or ``"total"``.

    Returns
    -------
    ScaledEstimate
        Check ``reliable`` (Pareto k) before using ``mean``.

    References
    ----------
    Kallioinen et al. (2024); Vehtari et al. (2024).

    Examples
    --------
    >>> prepared = hierarchical_log_densities(idata, fitted)  # doctest: +SKIP
    >>> estimate = reweighted_estimate(prepared, "beta", 2.0, "total")  # doctest: +SKIP
    >>> estimate.reliable  # doctest: +SKIP
    True
    """
    _check_prior(list(idata.log_prior.data_vars), prior)
    _check_alpha(alpha)
    if var not in idata.posterior or idata.posterior[var].ndim != 2:
        raise UsageError(f"{var!r} is not a scalar quantity of the posterior")
    values = idata.posterior[var].transpose("chain", "draw").values
    log_density = idata.log_prior[prior].transpose("chain", "draw").values
    mean, mcse, ess, pareto_k = power_scaled_mean(values, log_density, alpha)
    return ScaledEstimate(var, prior, float(alpha), mean, mcse, ess, pareto_k, pareto_k_threshold(values.size))
