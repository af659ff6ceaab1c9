"""How much the posterior moves when the priors or the likelihood are power-scaled.

Power-scaling (Kallioinen et al. 2024) raises one component of the posterior to a power
``alpha`` near 1, ``p(θ)^alpha p(y | θ)`` or ``p(θ) p(y | θ)^alpha``, and measures how far
each marginal posterior moves, by Pareto-smoothed importance sampling (PSIS) of the
existing draws: no refit. ArviZ's ``psens`` gives the sensitivity (the derivative of the
cumulative Jensen-Shannon distance with respect to ``log2(alpha)`` at ``alpha = 1``);
:func:`sensitivity_table` reports it for the quantities people cite and diagnoses each as
priorsense does. :func:`reweighted_estimate` is the same reweighting at a finite ``alpha``
for one named prior, and :func:`hierarchical_scaled_refit` is the refit it stands in for, used to
check it (``tests/test_powerscale.py``).

A fit of either kind is read from its ``log_prior`` and ``log_likelihood`` groups alone
(:func:`hierarchical_log_densities`, :func:`dated_log_densities`; the public
:func:`dnamodel.power_scaling` asks the fit's model family for them). A hierarchical fit gains them with
:func:`add_log_densities`; a dated fit has them from :func:`dnamodel.inference.dated.fit_dated`, and
:func:`dated_log_prior` takes its prior terms back to each parameter's own scale. Each quantity's
sensitivity is reported to all the scaled priors together (the diagnosis), to each prior term alone,
and to the likelihood.

Which terms are scaled in the hierarchical model (the model card is ``docs/model.md``, section 4):

- Prior: the top-level priors only (:data:`TOP_LEVEL_PRIORS`). The unit-level ``z``,
  ``logit_direct``, ``census_z`` and ``row_logit`` are the hierarchical structure, not
  priors chosen by the analyst, and scaling them would change what the hyperparameters
  mean; Kallioinen et al. (2024) recommend scaling the top-level priors of hierarchical
  models for this reason. ``base_u`` is Uniform(0, 1), whose log-density is 0 on its
  support, so scaling it changes nothing and it is left out.
- Likelihood: every observed variable (``obs``, ``row_obs``) and the ``thesis`` potential.
  The potential is the likelihood of the thesis's database count given the total, with the
  pace integrated out (section 4.6): data, not a prior, so it is scaled with the rest.

And in the dated model (section 5; :data:`DATED_PRIOR_TERMS`):

- Prior: every prior the spec states (α, θ, the two spreads, δ, each prefecture's start and pace,
  κ, b, the uplifts), not ``effects``, the standard-normal group, unit and census effects, for the
  same reason as ``z`` above. Each term is on its parameter's own scale, as the spec states it: the
  fit saves them on the sampler's unconstrained scale, and :func:`dated_log_prior` takes off the
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
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.checks.dated import refit
from dnamodel.errors import UsageError, did_you_mean
from dnamodel.inference.dated import SCALARS, collected
from dnamodel.inference.model import thesis_log_factor
from dnamodel.inference.sampling import Fitted, holding, quiet_arviz, sample
from dnamodel.spec.dated import DatedInputs, DatedSpec, parse_dated
from dnamodel.spec.hierarchical import Prior

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr

TOP_LEVEL_PRIORS = ("alpha", "beta", "sigma", "log_uplift", "tau", "row_centre")
"""The priors that are power-scaled, when the model has them (see the module's notes)."""

THESIS = "thesis"
"""The likelihood term of the thesis bound, in the ``log_likelihood`` group."""

QUANTITIES = ("alpha", "beta", "sigma", "total")
"""The quantities :func:`dnamodel.power_scaling` reports by default for a hierarchical fit."""

DATED_PRIOR_TERMS = (
    "alpha",
    "contrast",
    "group_sd",
    "unit_sd",
    "reported",
    "start",
    "pace",
    "typed_share",
    "baseline_per_resident",
    "uplift",
)
"""The dated model's power-scaled prior terms, those the model has: every term of
:data:`dnamodel.inference.dated.PRIOR_TERMS` but ``effects`` (see the module's notes)."""

DATED_QUANTITIES = (*SCALARS, "total")
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


def pareto_k_threshold(n: int) -> float:
    """The Pareto k above which a PSIS estimate from ``n`` draws is unreliable.

    ``min(1 - 1 / log10(n), 0.7)`` (Vehtari et al. 2024): 0.7 from 2,154 draws on.

    Examples
    --------
    >>> round(pareto_k_threshold(1000), 3), pareto_k_threshold(4000)
    (0.667, 0.7)
    """
    return min(1.0 - 1.0 / math.log10(n), 0.7)


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


def _check_alpha(alpha: float) -> None:
    if not (alpha > 0 and math.isfinite(alpha)):
        raise UsageError(f"alpha must be positive and finite; it is {alpha!r}")


def power_scaled_prior(prior: Prior, alpha: float) -> Prior:
    """The prior whose density is ``prior``'s raised to the power ``alpha``, renormalised.

    Normal(μ, s) and HalfNormal(s) become the same family with scale ``s / sqrt(alpha)``;
    Exponential(scale) becomes Exponential(scale / alpha); Gamma(a, b) becomes
    Gamma(alpha (a - 1) + 1, alpha b) and Beta(a, b) Beta(alpha (a - 1) + 1, alpha (b - 1) + 1);
    LogNormal(μ, s), as a density of the parameter itself, becomes LogNormal(μ + s² (1 / alpha - 1),
    s / sqrt(alpha)).

    Raises
    ------
    UsageError
        For a Student-t prior: its power is not a Student-t, so no value of its parameters
        gives the power-scaled prior, and a refit would need another model. For a Gamma or Beta
        whose power has no density (a shape below 1 raised far enough).

    Examples
    --------
    >>> from dnamodel.spec.hierarchical import GammaPrior, NormalPrior
    >>> power_scaled_prior(NormalPrior(dist="normal", mu=0.0, sigma=1.0), 4.0)
    NormalPrior(dist='normal', mu=0.0, sigma=0.5)
    >>> power_scaled_prior(GammaPrior(dist="gamma", alpha=3.0, beta=2.0), 2.0)
    GammaPrior(dist='gamma', alpha=5.0, beta=4.0)
    """
    _check_alpha(alpha)
    if prior.dist in ("normal", "halfnormal"):
        return prior.model_copy(update={"sigma": prior.sigma / math.sqrt(alpha)})
    if prior.dist == "exponential":
        return prior.model_copy(update={"scale": prior.scale / alpha})
    if prior.dist == "lognormal":
        mu = prior.mu + prior.sigma**2 * (1.0 / alpha - 1.0)
        return prior.model_copy(update={"mu": mu, "sigma": prior.sigma / math.sqrt(alpha)})
    if prior.dist in ("gamma", "beta"):
        shape = alpha * (prior.alpha - 1.0) + 1.0
        second = alpha * prior.beta if prior.dist == "gamma" else alpha * (prior.beta - 1.0) + 1.0
        if shape <= 0 or second <= 0:
            raise UsageError(f"{prior_label(prior)} raised to the power {alpha:g} has no density")
        return prior.model_copy(update={"alpha": shape, "beta": second})
    raise UsageError(f"a {prior.dist} prior raised to a power is no longer {prior.dist}; refit needs another model")


def prior_label(prior: Prior) -> str:
    """A prior as ``family(parameters)``, for messages."""
    return f"{prior.dist}({', '.join(f'{v:g}' for v in prior.model_dump(exclude={'dist'}).values())})"


# --- the model's log densities -------------------------------------------------------------------


def _priors_in(fitted: Fitted) -> list[str]:
    names = {rv.name for rv in fitted.model.free_RVs}
    return [name for name in TOP_LEVEL_PRIORS if name in names]


def _model_values(fitted: Fitted) -> Any:
    """The shared model, holding the data values of ``fitted`` while in the block."""
    return holding(fitted)


def _log_densities(idata: az.InferenceData, fitted: Fitted) -> tuple[xr.Dataset, xr.Dataset]:
    """The ``log_likelihood`` and ``log_prior`` datasets at the posterior draws of ``idata``."""
    import pymc as pm  # deferred: start-up time
    import xarray as xr  # deferred: start-up time

    quiet_arviz()
    observed = [rv.name for rv in fitted.model.observed_RVs]
    with _model_values(fitted) as model:
        log_likelihood = pm.compute_log_likelihood(
            idata, var_names=observed, model=model, extend_inferencedata=False, progressbar=False
        )
        # PyMC evaluates the untransformed variables: densities without the Jacobian, as power-scaling needs.
        log_prior = pm.compute_log_prior(
            idata, var_names=_priors_in(fitted), model=model, extend_inferencedata=False, progressbar=False
        )
    if fitted.inputs.thesis:
        total = idata.posterior["total"]
        log_likelihood[THESIS] = xr.DataArray(thesis_log_factor(total.values, fitted.inputs), coords=total.coords)
    for dataset in (log_likelihood, log_prior):
        dataset.attrs.pop("created_at", None)  # same draws, same file
    return log_likelihood, log_prior


def add_log_densities(idata: az.InferenceData, fitted: Fitted) -> az.InferenceData:
    """Add the ``log_likelihood`` and ``log_prior`` groups that power-scaling reads.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit of ``fitted``'s model, with its ``posterior`` group.
    fitted : Fitted
        The model, with the data values the fit used (a rebound model's own values apply).

    Returns
    -------
    arviz.InferenceData
        ``idata`` itself, with groups added or replaced, as ``pm.compute_log_likelihood`` does:

        - ``log_likelihood``: ``obs`` over ``observation`` and ``row_obs`` over ``row`` (each
          the pointwise log density of an observed count), and ``thesis``, the thesis bound's
          log-factor (``docs/model.md``, section 4.6), all over ``(chain, draw)``.
        - ``log_prior``: each top-level prior's log density (:data:`TOP_LEVEL_PRIORS`, those the
          model has), on the parameter's own scale, without the Jacobian of the sampler's
          transform. The unit-level variables are left out: see the module's notes.

    Examples
    --------
    A fit takes a compile; ``tests/test_powerscale.py`` runs this:

    >>> idata, fitted = fit_hierarchical(load_model("hierarchical_han"), draws=1000)  # doctest: +SKIP
    >>> sorted(add_log_densities(idata, fitted).log_prior.data_vars)  # doctest: +SKIP
    ['alpha', 'beta', 'log_uplift', 'row_centre', 'sigma', 'tau']
    """
    log_likelihood, log_prior = _log_densities(idata, fitted)
    for group in ("log_likelihood", "log_prior"):
        if group in idata.groups():
            del idata[group]
    idata.add_groups(log_likelihood=log_likelihood, log_prior=log_prior)
    return idata


# --- the dated model's log prior, on each parameter's own scale ----------------------------------


def _dated_spec(idata: az.InferenceData) -> DatedSpec:
    text = idata.attrs.get("spec")
    if not isinstance(text, str):
        raise UsageError("the fit records no spec text in its attrs, so its start priors are unknown")
    return parse_dated(tomllib.loads(text), text, str(idata.attrs.get("spec_path", "the fit's spec")))


def _start_log_jacobian(idata: az.InferenceData) -> np.ndarray:
    """The log-Jacobian of the starts' transform, Σ_j log |d t0_j / d raw_j|, at the posterior draws."""
    spec = _dated_spec(idata)
    start = idata.posterior["start"].transpose(dims.CHAIN, dims.DRAW, dims.PREFECTURE)
    out = np.zeros(start.shape[:2])
    for j, group in enumerate(start[dims.PREFECTURE].values):
        prior = spec.campaign.start.get(str(group), spec.campaign.start["default"])
        if prior.kind == "around":  # start = anchor + scale · raw
            out += math.log(prior.scale)
        else:  # start = anchor ∓ exp(raw)
            out += np.log(np.abs(start.values[:, :, j] - prior.anchor))
    return out


def dated_log_prior(idata: az.InferenceData) -> xr.Dataset:
    """A dated fit's power-scaled prior terms, each on its parameter's own scale.

    The fit's ``log_prior`` group holds each term on the sampler's unconstrained scale, Jacobian
    included, as the sampler's density has it (:func:`dnamodel.inference.dated.log_prior`). This
    takes off each transform's log-Jacobian, computed from the posterior's constrained values: log σ
    for the spreads and for b, log κ(1 - κ) for the typed share, Σ log r_j for the paces, and for a
    start prior ``before`` or ``after`` a date, Σ log |t0_j - date|. α, θ, δ and the log uplifts are
    sampled as they are. ``effects`` is left out (see the module's notes), and so is every term the
    model does not have.

    Parameters
    ----------
    idata : arviz.InferenceData
        A dated fit, with its ``posterior`` and ``log_prior`` groups and the spec text in ``attrs``
        (for the kind of each prefecture's start prior).

    Returns
    -------
    xarray.Dataset
        One variable per term of :data:`DATED_PRIOR_TERMS` the model has, over ``(chain, draw)``.

    Examples
    --------
    A fit takes a minute; ``tests/test_powerscale.py`` checks this against SciPy's densities:

    >>> names = dated_log_prior(fit_dated(load_model("dated")).idata).data_vars  # doctest: +SKIP
    >>> list(names)[:4]  # doctest: +SKIP
    ['alpha', 'contrast', 'group_sd', 'unit_sd']
    """
    import xarray as xr  # deferred: start-up time

    post, saved = idata.posterior, idata.log_prior

    def log_jacobian(name: str) -> np.ndarray | float:
        if name in ("group_sd", "unit_sd", "baseline_per_resident"):  # sampled as its log
            return np.log(post[name].values)
        if name == "typed_share":  # sampled as its logit
            return np.log(post[name] * (1 - post[name])).values
        if name == "pace":  # each prefecture's, sampled as its log
            return np.log(post[name]).sum(dims.PREFECTURE).values
        if name == "start":
            return _start_log_jacobian(idata)
        return 0.0  # alpha, contrast, reported and the log uplifts are sampled as they are

    terms = {}
    for name in DATED_PRIOR_TERMS:
        has = name in post and post[name].size > 0  # the model has it (an empty uplift: no uplift group)
        if name not in saved or not has:
            continue
        values = saved[name].transpose(dims.CHAIN, dims.DRAW).values - log_jacobian(name)
        terms[name] = xr.DataArray(values, dims=(dims.CHAIN, dims.DRAW), coords=saved[name].coords)
    return xr.Dataset(terms)


def dated_log_densities(idata: az.InferenceData) -> az.InferenceData:
    """A dated fit's posterior with the log densities power-scaling reads: its prior terms on their own scale.

    Raises
    ------
    UsageError
        If the fit lacks its ``log_prior`` or ``log_likelihood`` group (it was not saved whole).
    """
    import arviz as az  # deferred: start-up time

    groups = idata.groups()
    if "log_prior" not in groups or "log_likelihood" not in groups:
        raise UsageError("the dated fit has no log_prior and log_likelihood groups; it was not saved whole")
    return az.InferenceData(
        posterior=idata.posterior,
        log_likelihood=idata.log_likelihood,
        log_prior=dated_log_prior(idata),
        attrs=dict(idata.attrs),
    )


def hierarchical_log_densities(idata: az.InferenceData, fitted: Fitted | None) -> az.InferenceData:
    """A hierarchical fit with the log densities power-scaling reads: its own groups, or computed from ``fitted``.

    Raises
    ------
    UsageError
        If the fit has no log-density groups and no compiled model is given.
    """
    import arviz as az  # deferred: start-up time

    groups = idata.groups()
    if "log_likelihood" in groups and "log_prior" in groups:
        return idata
    if fitted is None:
        raise UsageError(
            "the fit has no log_prior and log_likelihood groups: pass its compiled model, or save it with "
            "`dnamodel estimate --sensitivity`"
        )
    log_likelihood, log_prior = _log_densities(idata, fitted)
    return az.InferenceData(
        posterior=idata.posterior, log_likelihood=log_likelihood, log_prior=log_prior, attrs=dict(idata.attrs)
    )


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


def _check_prior(names: Sequence[str], prior: str) -> None:
    if prior not in names:
        raise UsageError(
            f"{prior!r} is not a top-level prior of this model (it has {', '.join(names)}){did_you_mean(prior, names)}"
        )


def reweighted_estimate(idata: az.InferenceData, prior: str, alpha: float, var: str) -> ScaledEstimate:
    """The posterior mean of ``var`` with the prior ``prior`` raised to the power ``alpha``.

    Importance sampling from the fit (:func:`power_scaled_mean`): no refit, and what psens
    does at ``alpha = 1 ± 0.01``, here at a finite power. :func:`hierarchical_scaled_refit` and
    :func:`dated_scaled_refit` are the refits it stands in for.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with its ``log_prior`` group on each parameter's own scale, as
        :func:`hierarchical_log_densities` and :func:`dated_log_densities` give it.
    prior : str
        A prior term of ``log_prior`` (:data:`TOP_LEVEL_PRIORS`, :data:`DATED_PRIOR_TERMS`), e.g. ``"beta"``.
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


def scaled_prior_values(fitted: Fitted, prior: str, alpha: float) -> dict[str, float]:
    """The data-container values that raise ``prior`` to the power ``alpha``.

    Examples
    --------
    >>> scaled_prior_values(fitted, "beta", 2.0)  # doctest: +SKIP
    {'beta__mu': 0.0, 'beta__sigma': 0.7071067811865475}
    """
    _check_prior(_priors_in(fitted), prior)
    scaled = power_scaled_prior(fitted.inputs.priors[prior], alpha)
    return {f"{prior}__{param}": float(value) for param, value in scaled.model_dump(exclude={"dist"}).items()}


def hierarchical_scaled_refit(
    fitted: Fitted,
    prior: str,
    alpha: float,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float = 0.9,
) -> az.InferenceData:
    """Refit with the prior ``prior`` raised to the power ``alpha``, without recompiling.

    The power of a Normal, HalfNormal or Exponential prior is the same family with another
    scale (:func:`power_scaled_prior`), so the refit only changes the prior's data
    containers (``beta__sigma``, …) through :func:`dnamodel.inference.sampling.sample`.

    Parameters
    ----------
    fitted : Fitted
        The compiled model (a rebound model's own values apply first).
    prior : str
        A top-level prior (:data:`TOP_LEVEL_PRIORS`).
    alpha : float
        The power.
    draws, tune, chains, seed : int
        Sampler settings.
    target_accept : float
        NUTS's target acceptance rate.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` and ``sample_stats``; ``attrs`` name the prior, the power and the
        container values used.

    Examples
    --------
    >>> refit = hierarchical_scaled_refit(fitted, "beta", 2.0, draws=500, tune=500, chains=4, seed=1)  # doctest: +SKIP
    >>> refit.attrs["beta__sigma"]  # doctest: +SKIP
    0.7071067811865475
    """
    values = scaled_prior_values(fitted, prior, alpha)
    idata = sample(fitted, draws=draws, tune=tune, chains=chains, seed=seed, target_accept=target_accept, data=values)
    idata.attrs.update({"power_scaled_prior": prior, "alpha": float(alpha), "seed": seed, **values})
    return idata


def scaled_dated_inputs(inputs: DatedInputs, prior: str, alpha: float) -> DatedInputs:
    """The dated model's inputs with one prior term raised to the power ``alpha``, on its own scale.

    Each prior of the dated model raised to a power is a prior of the same family
    (:func:`power_scaled_prior`), and the compiled density reads every prior's parameters from the
    packed vector (:func:`dnamodel.inference.dated.pack`): the refit changes numbers, not the model.
    ``start`` scales every prefecture's start prior (its sd or half-normal scale), ``pace`` and
    ``uplift`` every prefecture's pace and every uplift group's.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.spec.dated import resolve_dated
    >>> inputs = resolve_dated(load_model("dated"), load_data())
    >>> scaled_dated_inputs(inputs, "unit_sd", 2.0).priors["unit_sd"]
    GammaPrior(dist='gamma', alpha=5.0, beta=4.0)
    """
    _check_alpha(alpha)
    names = [name for name in DATED_PRIOR_TERMS if name in inputs.priors or name in ("start", "pace", "uplift")]
    _check_prior(names, prior)
    root = math.sqrt(alpha)
    if prior == "start":
        return replace(inputs, start_scale=inputs.start_scale / root)
    if prior == "uplift":
        return replace(inputs, uplift_sd=inputs.uplift_sd / root)
    if prior == "pace":  # LogNormal on the pace: its log's normal shifts as well as narrows
        return replace(
            inputs,
            pace_mu=inputs.pace_mu + inputs.pace_sd**2 * (1.0 / alpha - 1.0),
            pace_sd=inputs.pace_sd / root,
        )
    return replace(inputs, priors=inputs.priors | {prior: power_scaled_prior(inputs.priors[prior], alpha)})


def dated_scaled_refit(
    inputs: DatedInputs, prior: str, alpha: float, *, draws: int, tune: int, chains: int, seed: int
) -> az.InferenceData:
    """Refit the dated model with one prior term raised to the power ``alpha``.

    The refit :func:`reweighted_estimate` stands in for, through the same compiled density
    (:func:`scaled_dated_inputs`).

    Returns
    -------
    arviz.InferenceData
        ``posterior``: every scalar parameter the model has and the total, over ``(chain, draw)``;
        ``attrs`` name the prior, the power, the seed and the divergences.

    Examples
    --------
    >>> refit = dated_scaled_refit(inputs, "unit_sd", 2.0, draws=1000, tune=1000, chains=4, seed=1)  # doctest: +SKIP
    >>> refit.attrs["divergences"]  # doctest: +SKIP
    0
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    scaled = scaled_dated_inputs(inputs, prior, alpha)
    active = np.ones(len(inputs.observation), bool)
    result = refit(scaled, active, draws=draws, tune=tune, chains=chains, seed=seed)
    q = result.quantities
    values = {name: q[name] for name in SCALARS if name in q}
    values["total"] = collected(q, scaled, scaled.estimand_date).sum(axis=1)
    posterior = {name: array.reshape(result.chains, -1) for name, array in values.items()}
    return az.from_dict(
        posterior=posterior,
        attrs={"power_scaled_prior": prior, "alpha": float(alpha), "seed": seed, "divergences": result.divergences},
    )
