"""The dated model's twin in PyMC: the same density as the numba kernel, on the same free parameters.

:func:`build_dated_model` states the model of ``docs/model.md``, section 5, in PyMC, with the
unconstrained parameterisation of :mod:`dnamodel.inference.dated_kernel`: each value variable is
one block of :func:`dnamodel.inference.dated.layout_of` (the start dates are two value variables,
one for the groups whose start is "around" a date and one for the leads before or after one,
which together fill the ``start_raw`` block). So the two log densities can be compared point for
point (``tests/test_dated_pymc.py``), and :func:`sample_twin` gives PyMC's own NUTS as the
baseline nutpie is measured against (``benchmarks/bench_fit.py``) and a fallback sampler
(``fit_dated(..., sampler="pymc")``).

The twin holds no ``Deterministic``: everything derived from a draw (fractions, totals,
predictions) is computed afterwards by the kernel's functions over draws from the unconstrained
vector, as for nutpie's draws, so both samplers give the same ``InferenceData``.

PyMC and PyTensor are imported inside the functions: they take seconds to import, and nothing but
this twin needs them for the dated model.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.spec.dated import BOUND_CODE, KIND_CODE, START_CODE, DatedInputs

if TYPE_CHECKING:
    import pymc as pm

    from dnamodel.inference.dated_packing import Layout

COUNT, DATABASE, DATABASE_SHARE, COVERAGE = (KIND_CODE[k] for k in ("count", "database", "database_share", "coverage"))
POINT, LOWER, UPPER = (BOUND_CODE[b] for b in ("none", "lower", "upper"))
AROUND, BEFORE = START_CODE["around"], START_CODE["before"]

TWIN_BLOCKS = {
    "alpha": "alpha",
    "group_sd": "log_group_sd",
    "group_z": "group_z",
    "unit_sd": "log_unit_sd",
    "unit_z": "unit_z",
    "contrast": "contrast",
    "start_around": "start_raw",
    "start_lead": "start_raw",
    "log_pace": "log_pace",
    "typed_share": "logit_typed_share",
    "log_baseline": "log_baseline",
    "log_uplift": "log_uplift",
    "census_z": "census_z",
    "reported": "reported",
}
"""Each free variable of the twin, and the block of the unconstrained vector its value fills."""

EXPECTED = "expected"
"""The name of the tensor of the active observations' expected values μ_k in the twin's graph."""

STATS = {
    "diverging": "diverging",
    "depth": "depth",
    "n_steps": "tree_size",
    "step_size": "step_size",
    "energy": "energy",
    "logp": "model_logp",
    "mean_tree_accept": "mean_tree_accept",
    "maxdepth_reached": "reached_max_treedepth",
}
"""nutpie's names of the sampler statistics (:data:`dnamodel.inference.dated.STATS`), and PyMC's."""


def _f(value: float) -> np.float64:
    """A float64 constant, where PyTensor would make a float32 one.

    PyTensor makes a Python float that float32 holds exactly (1.5) a float32 constant, and computes
    log(1.5) in single precision, 1e-8 away from the kernel.
    """
    return np.float64(value)


def _scale(name: str, prior: Any) -> Any:
    """A scale parameter with its prior; PyMC samples it on the log scale, as the kernel does."""
    import pymc as pm  # deferred: start-up time

    if prior.dist == "halfnormal":
        return pm.HalfNormal(name, sigma=_f(prior.sigma))
    if prior.dist == "gamma":
        return pm.Gamma(name, alpha=_f(prior.alpha), beta=_f(prior.beta))
    return pm.LogNormal(name, mu=_f(prior.mu), sigma=_f(prior.sigma))


def build_dated_model(inputs: DatedInputs, active: np.ndarray | None = None) -> pm.Model:
    """The dated model in PyMC, on the numba kernel's unconstrained parameters.

    Parameters
    ----------
    inputs : DatedInputs
        From :func:`dnamodel.spec.dated.resolve_dated`.
    active : ndarray of bool over ``observation``, optional
        Which observations the likelihood includes (all by default); the others are left out.

    Returns
    -------
    pymc.Model
        Free variables in the order of the blocks of :func:`dnamodel.inference.dated.layout_of`
        (:data:`TWIN_BLOCKS`); a point value is log-normal (``obs``; a coverage logit-normal,
        ``coverage_obs``) around its expected value (the tensor named :data:`EXPECTED`), and the
        bounds are a ``Potential`` of log Φ, one term per bound.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.spec.dated import resolve_dated
    >>> model = build_dated_model(resolve_dated(load_model("dated"), load_data()))
    >>> [v.name for v in model.value_vars][:4]
    ['alpha', 'group_sd_log__', 'group_z', 'unit_sd_log__']
    """
    import pymc as pm  # deferred: start-up time
    import pytensor.tensor as pt

    priors = inputs.priors
    U, J, L = len(inputs.unit), len(inputs.group), len(inputs.uplift_name)
    K = len(inputs.observation)
    active = np.ones(K, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    around = np.flatnonzero(inputs.start_kind == AROUND)
    leading = np.flatnonzero(inputs.start_kind != AROUND)
    coords = {
        dims.GROUP: list(inputs.group),
        dims.UNIT: list(inputs.unit),
        "uplift": list(inputs.uplift_name),
        "around_group": [inputs.group[j] for j in around],
        "lead_group": [inputs.group[j] for j in leading],
    }
    with pm.Model(coords=coords) as model:
        # --- the free variables, in the kernel's order ---------------------------------------
        alpha = pm.Normal("alpha", mu=_f(priors["alpha"].mu), sigma=_f(priors["alpha"].sigma))
        group_effect = pt.zeros(J)
        if inputs.group_effects:
            group_sd = _scale("group_sd", priors["group_sd"])
            group_z = pm.Normal("group_z", 0.0, 1.0, dims=dims.GROUP)
            group_effect = group_sd * group_z
        unit_sd = _scale("unit_sd", priors["unit_sd"])
        unit_z = pm.Normal("unit_z", 0.0, 1.0, dims=dims.UNIT)
        contrast = pt.constant(0.0)  # no covariate term without a covariate
        if inputs.covariate_effect:
            contrast = pm.Normal("contrast", mu=_f(priors["contrast"].mu), sigma=_f(priors["contrast"].sigma))
        start = pt.as_tensor_variable(inputs.start_anchor)
        if around.size:
            start_around = pm.Normal("start_around", 0.0, 1.0, dims="around_group")
            shift = inputs.start_scale[around] * start_around
            start = pt.inc_subtensor(start[around], shift)
        if leading.size:
            # the lead before (or delay after) the anchor date: HalfNormal, sampled on the log scale
            start_lead = pm.HalfNormal("start_lead", sigma=inputs.start_scale[leading], dims="lead_group")
            sign = np.where(inputs.start_kind[leading] == BEFORE, -1.0, 1.0)
            start = pt.inc_subtensor(start[leading], sign * start_lead)
        pace = pt.exp(pm.Normal("log_pace", mu=inputs.pace_mu, sigma=inputs.pace_sd, dims=dims.GROUP))
        typed_share, baseline = pt.constant(1.0), pt.constant(0.0)
        if inputs.database:
            typed = priors["typed_share"]
            typed_share = pm.Beta("typed_share", alpha=_f(typed.alpha), beta=_f(typed.beta))
            prior = priors["baseline_per_resident"]
            baseline = pt.exp(pm.Normal("log_baseline", mu=_f(prior.mu), sigma=_f(prior.sigma)))
        population = pt.as_tensor_variable(inputs.population)
        if L:
            uplift = pt.exp(pm.Normal("log_uplift", mu=inputs.uplift_mu, sigma=inputs.uplift_sd, dims="uplift"))
            # units outside every uplift group take the appended 1
            factor = pt.concatenate([uplift, pt.ones(1)])[np.where(inputs.uplift >= 0, inputs.uplift, L)]
            population = population * factor
        if inputs.census_error > 0:
            census_z = pm.Normal("census_z", 0.0, 1.0, dims=dims.UNIT)
            population = population * pt.exp(_f(inputs.census_error) * census_z)
        reported = pt.constant(0.0)
        if inputs.reported_effect:
            reported = pm.Normal("reported", mu=_f(priors["reported"].mu), sigma=_f(priors["reported"].sigma))

        # --- each unit's fraction at saturation ------------------------------------------------
        eta = alpha + group_effect[inputs.unit_group] + inputs.offset + reported * inputs.reported
        if inputs.form == "linear":
            eta = eta + contrast * inputs.covariate
        eta = eta + unit_sd * unit_z
        if inputs.form == "composition":
            h = inputs.covariate
            fraction = (1 - h) * pm.math.sigmoid(eta) + h * pm.math.sigmoid(eta + contrast)
        else:
            fraction = pm.math.sigmoid(eta)

        # --- what each active observation expects -----------------------------------------------
        rows = np.flatnonzero(active)
        if rows.size == 0:
            return model
        kind, censor = inputs.kind[rows], inputs.censor[rows]
        y, s, base = inputs.value[rows], inputs.error[rows], inputs.base[rows]
        t2 = inputs.date[rows]
        increment = ~np.isnan(inputs.since[rows])
        t1 = np.where(increment, inputs.since[rows], t2)  # no NaN in the graph: its gradient would be NaN
        eps = _f(inputs.ramp_years)
        ramp2 = eps * pt.softplus((t2[:, None] - start[None, :]) / eps)  # (observation, group)
        ramp1 = eps * pt.softplus((t1[:, None] - start[None, :]) / eps)
        progress2 = -pt.expm1(-pace * ramp2)
        gain = pt.exp(-pace * ramp1) * -pt.expm1(-pace * (ramp2 - ramp1))  # F(t2) − F(t1), no cancellation
        gain = pt.where(increment[:, None], gain, progress2)
        member = np.zeros((rows.size, U))
        for i, k in enumerate(rows):
            member[i, list(inputs.members[k])] = 1.0
        # a count over a population base counts base people per unit, else the unit's population
        per_population = member * (base <= 0)[:, None]
        per_base = member * np.where(base > 0, base, 0.0)[:, None]
        people = per_population * population + per_base
        counted = (fraction * gain[:, inputs.unit_group] * people).sum(axis=1)
        mu = counted
        held_by = [inputs.population[list(members)].sum() for members in inputs.database_members] or [0.0]
        held = np.array(held_by)[inputs.database_index[rows]]  # each observation's database's residents
        database = np.flatnonzero(kind == DATABASE)
        if database.size:
            before = np.where(increment[database], 0.0, held[database])
            mu = pt.set_subtensor(mu[database], typed_share * counted[database] + baseline * before)
        share = np.flatnonzero(kind == DATABASE_SHARE)
        if share.size:
            in_database = np.zeros((share.size, U))
            for i, k in enumerate(rows[share]):
                in_database[i, list(inputs.database_members[inputs.database_index[k]])] = 1.0
            stock = (fraction * progress2[share][:, inputs.unit_group] * population * in_database).sum(axis=1)
            mu = pt.set_subtensor(mu[share], counted[share] / (baseline * held[share] + typed_share * stock))
        coverage = np.flatnonzero(kind == COVERAGE)
        if coverage.size:
            mu = pt.set_subtensor(mu[coverage], counted[coverage] / people[coverage].sum(axis=1))
        mu.name = EXPECTED  # not a model variable: found by name to check the kernel's expected values

        # --- the likelihood, as the kernel's observation_density ---------------------------------
        names = np.array(inputs.observation)[rows]
        logs = np.flatnonzero((censor == POINT) & (kind != COVERAGE))
        if logs.size:
            model.add_coord("point", names[logs])
            pm.LogNormal("obs", mu=pt.log(mu[logs]), sigma=s[logs], observed=y[logs], dims="point")
        logits = np.flatnonzero((censor == POINT) & (kind == COVERAGE))
        if logits.size:
            model.add_coord("coverage_point", names[logits])
            logit_mu = pt.log(mu[logits]) - pt.log1p(-mu[logits])
            pm.LogitNormal("coverage_obs", mu=logit_mu, sigma=s[logits], observed=y[logits], dims="coverage_point")
        bounds = np.flatnonzero(censor != POINT)
        if bounds.size:
            model.add_coord("bound", names[bounds])
            mu_b = mu[bounds]
            cov = kind[bounds] == COVERAGE
            linear_mu = pt.where(cov, pt.log(mu_b) - pt.log1p(-pt.where(cov, mu_b, 0.0)), pt.log(mu_b))
            yb = y[bounds]
            linear_y = np.where(cov, np.log(yb) - np.log1p(-np.where(cov, yb, 0.0)), np.log(yb))
            # P(the value falls on the bound's side): Φ((μ − y) / s) for "at least y", Φ((y − μ) / s) for "at most"
            sign = np.where(censor[bounds] == LOWER, 1.0, -1.0)
            z = sign * (linear_mu - linear_y) / s[bounds]
            pm.Potential("bounds", pm.logcdf(pm.Normal.dist(0.0, 1.0), z), dims="bound")
    return model


def value_positions(model: pm.Model, layout: Layout, inputs: DatedInputs) -> dict[str, np.ndarray]:
    """Where each of the twin's value variables sits in the kernel's unconstrained vector.

    Returns indices into the vector (a flat ``int`` array per value variable, in the model's order
    of value variables): the start dates' two variables split the ``start_raw`` block by group.
    """
    out = {}
    for rv in model.free_RVs:
        block = layout.blocks[TWIN_BLOCKS[rv.name]]
        positions = np.arange(block.start, block.stop)
        if rv.name == "start_around":
            positions = positions[inputs.start_kind == AROUND]
        elif rv.name == "start_lead":
            positions = positions[inputs.start_kind != AROUND]
        out[model.rvs_to_values[rv].name] = positions
    return out


def to_point(x: np.ndarray, model: pm.Model, layout: Layout, inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The twin's point (value variables by name) at the unconstrained vector ``x``."""
    positions = value_positions(model, layout, inputs)
    point = {}
    for rv in model.free_RVs:
        name = model.rvs_to_values[rv].name
        point[name] = x[positions[name]] if rv.ndim else x[positions[name][0]]
    return point


def sample_twin(
    inputs: DatedInputs,
    layout: Layout,
    active: np.ndarray | None = None,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    cores: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, float]]:
    """Sample the twin with PyMC's own NUTS (its defaults, C backend).

    Returns
    -------
    x : ndarray, shape (chain, draw, ndim)
        The draws as the kernel's unconstrained vector.
    stats : dict of ndarray, each (chain, draw)
        The sampler statistics under nutpie's names (:data:`STATS`).
    seconds : dict of float
        ``build`` (the model), ``compile`` (the rest of ``pm.sample``: compile, initialisation,
        collecting the trace) and ``sample`` (tuning and draws, all chains: PyMC's own
        ``sampling_time``).
    """
    import pymc as pm  # deferred: start-up time

    cores = cores if cores is not None else min(chains, os.cpu_count() or 1)  # as nutpie's
    start = time.perf_counter()
    model = build_dated_model(inputs, active)
    positions = value_positions(model, layout, inputs)
    seconds = {"build": time.perf_counter() - start}
    start = time.perf_counter()
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyMC's notes on the MultiTrace it returns
        trace = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            target_accept=target_accept,
            progressbar=progress,
            compute_convergence_checks=False,
            return_inferencedata=False,
        )
    seconds["sample"] = trace.report.t_sampling
    seconds["compile"] = time.perf_counter() - start - seconds["sample"]
    x = np.empty((chains, draws, layout.ndim))
    for name, where in positions.items():
        values = np.stack(trace.get_values(name, combine=False, squeeze=False))
        x[:, :, where] = values.reshape(chains, draws, -1)
    stats = {
        ours: np.stack(trace.get_sampler_stats(theirs, combine=False, squeeze=False)) for ours, theirs in STATS.items()
    }
    return x, stats, seconds
