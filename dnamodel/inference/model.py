"""The hierarchical model in PyMC: ``build_model`` and the numbers it reads.

:func:`build_model` turns :class:`~dnamodel.spec.resolve.ModelInputs` into a ``pymc.Model``
(``docs/model.md``, section 4). :func:`data_values` names every number the model reads and
:func:`structure` what fixes its graph, so that one compiled model serves any inputs of the same
structure. :func:`thesis_log_factor` is the model's thesis potential in NumPy, for reweighting
forward draws from the prior.

PyMC, PyTensor and SciPy are imported inside the functions: they take seconds to import, and
the commands that do not fit a model should not wait for them.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.spec.hierarchical import Prior
from dnamodel.spec.resolve import ModelInputs

if TYPE_CHECKING:
    import pymc as pm


def _prior(pm: Any, name: str, prior: Prior, d: dict[str, Any], **kwargs: Any) -> Any:
    """A named prior whose parameters are the shared variables ``NAME__PARAM`` in ``d``."""

    def value(field: str) -> Any:
        return d[f"{name}__{field}"]

    if prior.dist == "normal":
        return pm.Normal(name, mu=value("mu"), sigma=value("sigma"), **kwargs)
    if prior.dist == "student_t":
        return pm.StudentT(name, nu=value("nu"), mu=value("mu"), sigma=value("sigma"), **kwargs)
    if prior.dist == "halfnormal":
        return pm.HalfNormal(name, sigma=value("sigma"), **kwargs)
    if prior.dist == "halfstudent_t":
        return pm.HalfStudentT(name, nu=value("nu"), sigma=value("sigma"), **kwargs)
    if prior.dist == "exponential":
        return pm.Exponential(name, scale=value("scale"), **kwargs)
    raise AssertionError(prior.dist)  # the spec's validation admits no other family


CONSTANT_ARRAYS = ("population", "covariate", "uplift_mask", "membership", "base_low", "base_high", "row_population")
"""Arrays baked into the compiled graph rather than held in containers: as containers they made
nutpie's compile 42 s instead of 31 s. Their values are part of :func:`structure` instead, so a
change to them compiles a new model."""


def data_values(inputs: ModelInputs) -> dict[str, np.ndarray]:
    """Every number the model reads, by name: a ``pm.Data`` container's, or a baked array's.

    Two inputs with the same :func:`structure` differ only in the containers' values, so one
    compiled model serves both: ``sample(fitted, data=data_values(other))``.
    """
    values: dict[str, Any] = {
        "observed": inputs.observed,
        "error": inputs.error,
        "population": inputs.population,
        "covariate": inputs.x,
        "uplift_mask": inputs.uplift.astype(float),
        "membership": inputs.membership,
        "base_low": inputs.base_low,
        "base_high": inputs.base_high,
        "census_error": inputs.census_error,
        "census_total": inputs.census_total,
    }
    if inputs.row:
        values |= {
            "row_observed": inputs.row_observed,
            "row_population": inputs.row_population,
            "row_error": inputs.row_error,
        }
    if inputs.thesis:
        values |= {"stock": inputs.stock, "growth_scale": inputs.growth_scale, "tolerance": inputs.tolerance}
    for name, prior in inputs.priors.items():
        for param, value in prior.model_dump(exclude={"dist"}).items():
            values[f"{name}__{param}"] = value
    return {k: np.asarray(v, dtype=float) for k, v in values.items()}


def structure(inputs: ModelInputs) -> tuple[Any, ...]:
    """What fixes the model's graph: inputs that agree on it share one compiled model."""
    uncertain = tuple(bool(b) for b in inputs.base_high > inputs.base_low)
    values = data_values(inputs)
    baked = hashlib.sha256(b"".join(values[name].tobytes() for name in CONSTANT_ARRAYS if name in values)).hexdigest()
    return (
        baked,
        inputs.variant,
        inputs.unit,
        inputs.group,
        tuple(inputs.unit_group.tolist()),
        inputs.observation,
        inputs.row,
        inputs.row_centre,
        inputs.row_unit,
        inputs.thesis,
        inputs.census_error > 0,
        bool(inputs.uplift.any()),
        tuple(_directly_observed(inputs)),
        uncertain,
        tuple(sorted((name, prior.dist) for name, prior in inputs.priors.items())),
    )


def _pace_logcdf(pt: Any, prior: Prior, d: dict[str, Any], x: Any) -> Any:
    """The log-CDF of the pace's prior, written out.

    PyMC's HalfNormal logcdf underflows to -inf below x ≈ 1e-16, which would make totals far below
    the stock impossible rather than merely unlikely.
    """
    if prior.dist == "halfnormal":
        return pt.log(pt.erf(x / (d["pace__sigma"] * np.sqrt(2.0))))
    if prior.dist == "exponential":
        return pt.log(-pt.expm1(-x / d["pace__scale"]))
    raise AssertionError(prior.dist)  # the spec admits only these two for the pace


def build_model(inputs: ModelInputs) -> pm.Model:
    """The PyMC model of ``docs/model.md``, section 4.

    The observed counts, reporting errors, prior parameters and the other scalars are
    ``pm.Data`` containers (:func:`data_values`), so a compiled model can be refitted on other
    data, without one observation, or with other prior values, without compiling again. The
    arrays in :data:`CONSTANT_ARRAYS` are baked in, and a change to them is a change of
    :func:`structure`, which needs a new model.
    """
    import pymc as pm  # deferred: start-up time
    import pytensor.tensor as pt  # deferred: start-up time

    coords = {
        dims.UNIT: list(inputs.unit),
        dims.GROUP: list(inputs.group),
        dims.OBSERVATION: list(inputs.observation),
    }
    if inputs.row:
        coords[dims.ROW] = list(inputs.row)
    n = len(inputs.unit)
    with pm.Model(coords=coords) as model:
        d = {
            name: pt.as_tensor(value) if name in CONSTANT_ARRAYS else pm.Data(name, value)
            for name, value in data_values(inputs).items()
        }

        alpha = _prior(pm, "alpha", inputs.priors["alpha"], d)
        eta = alpha * pt.ones(n)
        if inputs.variant != "pooled":
            beta = _prior(pm, "beta", inputs.priors["beta"], d)
            sigma = _prior(pm, "sigma", inputs.priors["sigma"], d)
            mean = alpha + beta * d["covariate"]
            # Units observed on their own have their fraction pinned by the data: centred there,
            # non-centred for the rest, whose fractions come from the prior (Papaspiliopoulos,
            # Roberts and Sköld 2007; the usual mixed parameterisation).
            direct = _directly_observed(inputs)
            z = pm.Normal("z", 0.0, 1.0, shape=n - len(direct))
            eta = mean + sigma * _scatter(pt, z, n, direct)
            if direct:
                eta_direct = pm.Normal("logit_direct", mean[direct], sigma, shape=len(direct))
                eta = pt.set_subtensor(eta[direct], eta_direct)
        pi = pm.Deterministic("fraction", pm.math.invlogit(eta), dims=dims.UNIT)

        true_population = d["population"]
        if inputs.census_error > 0:
            census = pm.Normal("census_z", 0.0, 1.0, dims=dims.UNIT)
            true_population = d["population"] * pt.exp(d["census_error"] * census)
        lam = pt.ones(n)
        if inputs.uplift.any():
            log_uplift = _prior(pm, "log_uplift", inputs.priors["log_uplift"], d)
            lam = 1.0 + d["uplift_mask"] * pt.expm1(log_uplift)
            pm.Deterministic("uplift", pt.exp(log_uplift))
        collected = pm.Deterministic("collected", pi * true_population * lam, dims=dims.UNIT)
        total = pm.Deterministic("total", collected.sum())
        pm.Deterministic("share", total / d["census_total"])
        by_group = np.zeros((len(inputs.group), n))
        by_group[inputs.unit_group, np.arange(n)] = 1.0
        pm.Deterministic("group_total", pt.dot(by_group, collected), dims=dims.GROUP)

        ratio = d["base_low"]
        uncertain = np.flatnonzero(inputs.base_high > inputs.base_low)
        if uncertain.size:
            raw = pm.Uniform("base_u", 0.0, 1.0, shape=uncertain.size)
            low, high = d["base_low"][uncertain], d["base_high"][uncertain]
            ratio = pt.set_subtensor(ratio[uncertain], low + raw * (high - low))
        expected = pm.Deterministic("expected", pt.dot(d["membership"], collected) * ratio, dims=dims.OBSERVATION)
        pm.LogNormal("obs", mu=pt.log(expected), sigma=d["error"], observed=d["observed"], dims=dims.OBSERVATION)

        if inputs.row:
            tau = _prior(pm, "tau", inputs.priors["tau"], d)
            if inputs.row_centre == "free":
                centre = _prior(pm, "row_centre", inputs.priors["row_centre"], d)
            else:
                centre = eta[inputs.row_unit]
            # Centred: each row's count pins its own fraction to within a few per cent, and with data
            # that strong the non-centred form couples row_z to tau in a funnel (ESS fell to ~200).
            row_eta = pm.Normal("row_logit", centre, tau, dims=dims.ROW)
            row_fraction = pm.Deterministic("row_fraction", pm.math.invlogit(row_eta), dims=dims.ROW)
            pm.LogNormal(
                "row_obs",
                mu=pt.log(row_fraction * d["row_population"]),
                sigma=d["row_error"],
                observed=d["row_observed"],
                dims=dims.ROW,
            )

        if inputs.thesis:
            # P(stock + growth <= total), growth = pace * growth_scale, pace from its prior: pace is
            # integrated out through its CDF rather than sampled, because a latent pace sits against
            # a sharp wall at (total - stock) / growth_scale, which halved its ESS. The hard edge at
            # the stock is softened over `tolerance` of the stock (softplus), so the log-density
            # stays finite below the stock and the sampler can start there.
            width = d["tolerance"] * d["stock"]
            slack = width * pt.softplus((total - d["stock"]) / width)
            pm.Potential("thesis", _pace_logcdf(pt, inputs.priors["pace"], d, slack / d["growth_scale"]))
    return model


def _directly_observed(inputs: ModelInputs) -> list[int]:
    """Units that some observation covers alone."""
    single = inputs.membership.sum(axis=1) == 1
    return sorted({int(np.flatnonzero(row)[0]) for row in inputs.membership[single]})


def _scatter(pt: Any, z: Any, n: int, skip: list[int]) -> Any:
    """A length-``n`` vector with ``z`` in the positions not in ``skip`` and zeros there."""
    rest = [i for i in range(n) if i not in set(skip)]
    return pt.set_subtensor(pt.zeros(n)[rest], z)


DATA_DIMS = {
    "observed": (dims.OBSERVATION,),
    "error": (dims.OBSERVATION,),
    "base_low": (dims.OBSERVATION,),
    "base_high": (dims.OBSERVATION,),
    "population": (dims.UNIT,),
    "covariate": (dims.UNIT,),
    "uplift_mask": (dims.UNIT,),
    "membership": (dims.OBSERVATION, dims.UNIT),
    "row_observed": (dims.ROW,),
    "row_population": (dims.ROW,),
}
"""Dims of the data containers that have any; the rest are scalars."""


def thesis_log_factor(total: np.ndarray, inputs: Any) -> np.ndarray:
    """The thesis constraint's log-factor, as the model's ``thesis`` potential computes it.

    Used to reweight forward draws from the prior, which PyMC draws without potentials.
    """
    from scipy import special  # deferred: start-up time

    if not inputs.thesis:
        return np.zeros_like(total, dtype=float)
    width = inputs.tolerance * inputs.stock
    slack = width * np.logaddexp(0.0, (np.asarray(total, float) - inputs.stock) / width)
    x = slack / inputs.growth_scale
    pace = inputs.priors["pace"]
    with np.errstate(divide="ignore"):
        if pace.dist == "halfnormal":
            return np.log(special.erf(x / (pace.sigma * np.sqrt(2.0))))
        return np.log(-np.expm1(-x / pace.scale))
