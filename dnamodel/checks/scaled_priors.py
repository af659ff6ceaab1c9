"""The priors power-scaling scales, model by model, and refits with one of them raised to a power.

:mod:`dnamodel.checks.powerscale` reweights a fit's draws by its prior and likelihood terms; this
module says what those terms are. The hierarchical model's are its top-level priors
(:data:`TOP_LEVEL_PRIORS`), computed by PyMC on each parameter's own scale
(:func:`add_log_densities`). The dated model's are the power-scaled prior terms of its registry
(:data:`DATED_PRIOR_TERMS`, :func:`dnamodel.spec.parameters.power_scaled_terms`): a dated fit saves
each on the sampler's unconstrained scale, as its density has it, and :func:`dated_log_prior` takes
off each transform's log-Jacobian (:func:`dnamodel.spec.parameters.log_jacobian`). A prior raised to
a power is a prior of the same family (:func:`power_scaled_prior`), so the refits that check the
reweighting (:func:`hierarchical_scaled_refit`, :func:`dated_scaled_refit`) change numbers, not
models. :func:`hierarchical_log_densities` and :func:`dated_log_densities` give a fit with the log
densities power-scaling reads; the fit's model family chooses which.

The reasons for what is scaled are in :mod:`dnamodel.checks.powerscale`'s notes.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.checks.dated import refit
from dnamodel.errors import UsageError, did_you_mean
from dnamodel.inference.model import thesis_log_factor
from dnamodel.inference.sampling import Fitted, holding, quiet_arviz, sample
from dnamodel.spec import parameters
from dnamodel.spec.dated import DatedInputs, DatedSpec, parse_dated
from dnamodel.spec.hierarchical import Prior

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr

TOP_LEVEL_PRIORS = parameters.power_scaled_terms(parameters.HIERARCHICAL)
"""The hierarchical model's power-scaled priors, when the model has them (the registry's)."""

THESIS = "thesis"
"""The likelihood term of the thesis bound, in the ``log_likelihood`` group."""

DATED_PRIOR_TERMS = parameters.power_scaled_terms(parameters.DATED)
"""The dated model's power-scaled prior terms, those the model has: every term of
:data:`dnamodel.inference.dated.PRIOR_TERMS` but ``effects`` (the shipped registry's)."""


# --- a prior raised to a power ---------------------------------------------------------------------


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


def _check_prior(names: Sequence[str], prior: str) -> None:
    if prior not in names:
        raise UsageError(
            f"{prior!r} is not a top-level prior of this model (it has {', '.join(names)}){did_you_mean(prior, names)}"
        )


# --- the model's log densities -------------------------------------------------------------------


def _priors_in(fitted: Fitted) -> list[str]:
    names = {rv.name for rv in fitted.model.free_RVs}
    return [name for name in parameters.power_scaled_terms(parameters.HIERARCHICAL) if name in names]


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


def _transform(parameter: parameters.Parameter, idata: az.InferenceData) -> tuple[Any, Any, Any]:
    """The parameter's transform per element, ``(code, a, b)``: each group's start from the fit's spec."""
    if parameter.transform != "start":
        return parameters.TRANSFORMS[parameter.transform], 0.0, 0.0
    spec = _dated_spec(idata)
    groups = [str(g) for g in idata.posterior[parameter.name][dims.GROUP].values]
    starts = [spec.campaign.start.get(g, spec.campaign.start["default"]) for g in groups]
    return parameters.start_transforms(
        [parameters.START_CODE[s.kind] for s in starts], [s.anchor for s in starts], [s.scale for s in starts]
    )


def _log_jacobian(parameter: parameters.Parameter, idata: az.InferenceData) -> np.ndarray | float:
    """Σ log |d value / d coordinate| over the parameter's elements, at the posterior draws.

    0 for a prior stated on the sampler's coordinate.
    """
    if not parameter.prior_on_value:
        return 0.0
    code, a, b = _transform(parameter, idata)
    values = idata.posterior[parameter.name].transpose(dims.CHAIN, dims.DRAW, ...).values
    jacobian = parameters.log_jacobian(code, values, a, b)
    return jacobian.reshape(*values.shape[:2], -1).sum(axis=-1)


def dated_log_prior(idata: az.InferenceData) -> xr.Dataset:
    """A dated fit's power-scaled prior terms, each on its parameter's own scale.

    The fit's ``log_prior`` group holds each term on the sampler's unconstrained scale, Jacobian
    included, as the sampler's density has it (:func:`dnamodel.inference.dated.log_prior`). This
    takes off each transform's log-Jacobian, from the registry (:func:`dnamodel.spec.parameters.log_jacobian`)
    at the posterior's values: log σ for the spreads and for b, log κ(1 - κ) for the typed share,
    Σ log r_j for the paces, and for the starts log sd (around a date) or log |t0_j - date| (before
    or after it). α, θ, δ are sampled as they are, and the uplifts' prior is on their log, the
    sampler's coordinate. ``effects`` is left out (see :mod:`dnamodel.checks.powerscale`'s notes), and
    so is every term the model does not have.

    Parameters
    ----------
    idata : arviz.InferenceData
        A dated fit, with its ``posterior`` and ``log_prior`` groups and the spec text in ``attrs``
        (for the kind of each group's start prior).

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
    terms = {}
    for term in parameters.power_scaled_terms(parameters.DATED):
        # the model has it when the posterior holds a value of it (an empty uplift: no uplift group)
        members = [p for p in parameters.DATED if p.term == term and p.name in post and post[p.name].size > 0]
        if term not in saved or not members:
            continue
        jacobian = sum(_log_jacobian(p, idata) for p in members)
        values = saved[term].transpose(dims.CHAIN, dims.DRAW).values - jacobian
        terms[term] = xr.DataArray(values, dims=(dims.CHAIN, dims.DRAW), coords=saved[term].coords)
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


# --- refits with one prior scaled ------------------------------------------------------------------


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
    ``start`` scales every group's start prior (its sd or half-normal scale), ``pace`` and
    ``uplift`` every group's pace and every uplift group's.

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
    registry = [p for p in parameters.DATED if p.power_scaled and parameters.present(p, inputs)]
    _check_prior(list(dict.fromkeys(p.term for p in registry)), prior)
    root = math.sqrt(alpha)
    for parameter in (p for p in registry if p.term == prior):
        if parameter.source == "start":
            inputs = replace(inputs, start_scale=inputs.start_scale / root)
        elif parameter.source == "uplift":
            inputs = replace(inputs, uplift_sd=inputs.uplift_sd / root)
        elif parameter.source == "pace":  # LogNormal on the pace: its log's normal shifts as well as narrows
            inputs = replace(
                inputs,
                pace_mu=inputs.pace_mu + inputs.pace_sd**2 * (1.0 / alpha - 1.0),
                pace_sd=inputs.pace_sd / root,
            )
        else:
            scaled = power_scaled_prior(inputs.priors[parameter.name], alpha)
            inputs = replace(inputs, priors=inputs.priors | {parameter.name: scaled})
    return inputs


def dated_scaled_refit(
    inputs: DatedInputs, prior: str, alpha: float, *, draws: int, tune: int, chains: int, seed: int
) -> az.InferenceData:
    """Refit the dated model with one prior term raised to the power ``alpha``.

    The refit :func:`~dnamodel.checks.powerscale.reweighted_estimate` stands in for, through the same compiled density
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
    # the draws asked for, as asked: its MCSE is weighed beside the reweighted estimate's, not gated
    result = refit(scaled, active, draws=draws, tune=tune, chains=chains, seed=seed, extensions=0)
    q = result.quantities
    values = {p.name: q[p.name] for p in parameters.DATED if p.scalar and p.posterior and p.name in q}
    values["total"] = result.total
    posterior = {name: array.reshape(result.chains, -1) for name, array in values.items()}
    return az.from_dict(
        posterior=posterior,
        attrs={"power_scaled_prior": prior, "alpha": float(alpha), "seed": seed, "divergences": result.divergences},
    )
