"""What draws of the dated model imply, computed by the compiled kernel's own forward pass.

Every quantity a fit reports (each parameter's value, fractions, populations, campaign progress,
what each unit and database holds at a date, each observation's expected value and log
likelihood, each prior term, replicated data) comes from the functions over draws of
:mod:`dnamodel.inference.dated_kernel`, which share their arithmetic with the log density the
sampler reads: the model is written once in numba and once in PyMC (the twin), and nowhere else.
This module puts names on the arrays, with the draw axis first, by the parameter registry
(:data:`dnamodel.spec.parameters.DATED`).

The mathematics is ``docs/model.md``, section 5.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnamodel import dims
from dnamodel.inference import dated_compile
from dnamodel.inference.dated_packing import LAYOUT_KEY, SATURATING, campaign_curve, layout_of, likelihoods, pack
from dnamodel.spec import parameters
from dnamodel.spec.dated import DatedInputs

GROUP = dims.GROUP
UPLIFT = "uplift"
DATABASE = "database"
SHAPE_DIMS = {parameters.GROUP: (GROUP,), parameters.UNIT: (dims.UNIT,), parameters.UPLIFT: (UPLIFT,)}


def kernel() -> Any:
    """The compiled kernel module, checked to read the packed vector as :func:`pack` writes it: the sampler's.

    numba's on-disk cache is renewed when the kernel's own file changes, not when the layout it
    imports does; a kernel compiled against another layout must not run. When the cache lacks the
    functions over draws, a child process compiles them meanwhile (:mod:`~dnamodel.inference.dated_compile`);
    :func:`compiled` waits for it.
    """
    from dnamodel.inference import dated_kernel  # deferred: loads numba and the compiled kernels (ARCHITECTURE.md)

    if dated_kernel.layout_key() != LAYOUT_KEY:
        raise RuntimeError(
            "the dated model's compiled kernel in numba's cache was built for another layout of the packed vector: "
            f"delete its cache ({dated_kernel.__file__}'s entries under __pycache__ or NUMBA_CACHE_DIR) and rerun"
        )
    dated_compile.start(dated_kernel)
    return dated_kernel


def compiled() -> Any:
    """The kernel module (:func:`kernel`), once the functions over draws are in numba's cache: theirs."""
    module = kernel()
    dated_compile.wait()
    return module


def derive_draws(x: np.ndarray, inputs: DatedInputs, packed: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Everything the kernel's forward pass computes at draws ``x`` (draws, ndim), the draw axis first.

    ``value`` (every coordinate's value), ``group_effect``, ``logit_fraction``, ``fraction``,
    ``population``, ``expected`` and ``log_likelihood`` (every observation, left out or not),
    ``log_prior`` (draws, term) in :func:`~dnamodel.spec.parameters.prior_terms`'s order, and at the
    estimand's date ``progress`` (draws, group) and ``database_stock`` (draws, database), and
    ``source_log_likelihood`` (draws, source): each unverified source's joint log likelihood over its
    active members (a member's ``log_likelihood`` is its value's given the source's other members).
    ``packed`` gives other observed values (a simulated data set); by default ``pack(inputs)``.
    """
    kernel = compiled()
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(x, dtype=float)))
    packed = pack(inputs) if packed is None else packed
    n = x.shape[0]
    U, J, K, D = len(inputs.unit), len(inputs.group), len(inputs.observation), len(inputs.database)
    out = {
        "value": np.empty((n, layout_of(inputs).width)),
        "group_effect": np.zeros((n, J)),
        "logit_fraction": np.empty((n, U)),
        "fraction": np.empty((n, U)),
        "population": np.empty((n, U)),
        "expected": np.empty((n, K)),
        "log_likelihood": np.empty((n, K)),
        "log_prior": np.zeros((n, len(parameters.prior_terms(parameters.DATED)))),
        "progress": np.empty((n, J)),
        "database_stock": np.empty((n, D)),
        "source_log_likelihood": np.zeros((n, len(inputs.unverified_name))),
    }
    kernel.derive(x, packed, inputs.estimand_date, *out.values())
    return out


def named(draws: dict[str, np.ndarray], inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The model's named quantities from :func:`derive_draws`: each parameter the posterior holds, by its registry name.

    Scalars (draws,), per group (draws, group), per unit (draws, unit), per uplift group (draws,
    uplift); and ``group_effect`` (with a group level), ``logit_fraction``, ``fraction``, ``population``.
    """
    layout = layout_of(inputs)
    out: dict[str, np.ndarray] = {}
    for parameter in parameters.DATED:
        if parameter.posterior and parameters.present(parameter, inputs):
            values = draws["value"][:, layout.blocks[parameter.block]]
            out[parameter.name] = values[:, 0] if parameter.scalar else values
    if inputs.group_effects:
        out["group_effect"] = draws["group_effect"]
    for name in ("logit_fraction", "fraction", "population"):
        out[name] = draws[name]
    return out


def constrain(x: np.ndarray, inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The model's named quantities from unconstrained draws ``x`` of shape (draws, ndim) (:func:`named`)."""
    return named(derive_draws(x, inputs), inputs)


def progress(
    t: float | np.ndarray,
    start: np.ndarray,
    pace: np.ndarray,
    ramp: float,
    family: int = SATURATING,
    constant_from: float = float("nan"),
) -> np.ndarray:
    """The campaign's progress F_j(t), for starts and paces of shape (draws, group).

    Examples
    --------
    >>> f = progress(2020.0, np.array([[2018.0]]), np.array([[1.0]]), 0.25)
    >>> round(float(f[0, 0]), 4)  # two years in at pace 1: 1 − e⁻²
    0.8647
    """
    start = np.ascontiguousarray(start, dtype=float)
    out = np.empty(start.shape)
    pace = np.ascontiguousarray(pace, dtype=float)
    compiled().progress_at(family, ramp, float(constant_from), float(t), start, pace, out)
    return out


def _arrays(q: dict[str, np.ndarray], inputs: DatedInputs) -> tuple[Any, ...]:
    """What every draw's collection at a date needs, as the compiled functions take it."""
    return (
        campaign_curve(inputs),
        inputs.ramp_years,
        float(inputs.constant_from),
        np.ascontiguousarray(q["fraction"], dtype=float),
        np.ascontiguousarray(q["start"], dtype=float),
        np.ascontiguousarray(q["pace"], dtype=float),
        np.ascontiguousarray(q["population"], dtype=float),
        np.ascontiguousarray(inputs.unit_group, dtype=np.int64),
    )


def collected(q: dict[str, np.ndarray], inputs: DatedInputs, t: float) -> np.ndarray:
    """C_u(t) for every unit, shape (draws, unit), from named quantities ``q``."""
    family, eps, tc, fraction, start, pace, population, unit_group = _arrays(q, inputs)
    out = np.empty(fraction.shape)
    compiled().collected_at(family, eps, tc, float(t), fraction, start, pace, population, unit_group, out)
    return out


def database_stock(q: dict[str, np.ndarray], inputs: DatedInputs, d: int, t: float) -> np.ndarray:
    """D_d(t) = b·N_d + κ·Σ_{u in d} C_u(t), shape (draws,), from named quantities ``q``."""
    family, eps, tc, fraction, start, pace, population, unit_group = _arrays(q, inputs)
    members = np.array(inputs.database_members[d], dtype=np.int64)
    residents = float(inputs.population[list(members)].sum())
    out = np.empty(fraction.shape[0])
    kappa = np.ascontiguousarray(q["typed_share"], dtype=float)
    baseline = np.ascontiguousarray(q["baseline_per_resident"], dtype=float)
    kernel = compiled()
    kernel.stock_at(family, eps, tc, float(t), fraction, start, pace, population, unit_group, members, residents, kappa,
                    baseline, out)  # fmt: skip
    return out


def log_likelihood(
    mu: np.ndarray, inputs: DatedInputs, value: np.ndarray | None = None, censor: np.ndarray | None = None
) -> np.ndarray:
    """The log likelihood of each observation given its μ, shape (draws, observation).

    A point value is log-normal (logit-normal for a coverage) around μ, with its Jacobian, so the
    density is of the value as printed; a bound contributes the probability that the value
    would fall on its side of it. ``value`` and ``censor`` replace the observed data (a simulated
    data set).
    """
    mu = np.ascontiguousarray(np.atleast_2d(mu), dtype=float)
    out = np.empty(mu.shape)
    compiled().log_likelihoods(mu, pack(inputs, value=value, censor=censor), out)
    return out


def predictive_draws(mu: np.ndarray, inputs: DatedInputs, rng: np.random.Generator) -> np.ndarray:
    """A replicated value for each observation and draw: the quantity a bound speaks of, for a bound."""
    mu = np.ascontiguousarray(mu, dtype=float)
    z = rng.standard_normal(mu.shape)
    out = np.empty(mu.shape)
    codes = np.ascontiguousarray(likelihoods(inputs), dtype=np.int64)
    compiled().replicates(mu, codes, np.ascontiguousarray(inputs.error, dtype=float), z, out)
    if len(inputs.unverified_name):
        # an unverified source's figures are wrong together with probability w, then with its wider error
        wrong = rng.random((mu.shape[0], len(inputs.unverified_name))) < inputs.unverified_wrong
        for k in np.flatnonzero(inputs.unverified_group >= 0):
            g = inputs.unverified_group[k]
            error = np.where(wrong[:, g], inputs.unverified_error[g], inputs.error[k])
            wide = np.empty((mu.shape[0], 1))
            compiled().replicates(mu[:, k : k + 1], codes[k : k + 1], np.array([1.0]), z[:, k : k + 1] * error[:, None],
                                  wide)  # fmt: skip
            out[:, k] = wide[:, 0]
    return out


def log_prior(x: np.ndarray, inputs: DatedInputs) -> dict[str, np.ndarray]:
    """Each prior term's log density at draws ``x`` (draws, ndim), on the unconstrained scale, Jacobians included."""
    terms = derive_draws(x, inputs)["log_prior"]
    return {name: terms[:, i] for i, name in enumerate(parameters.prior_terms(parameters.DATED))}


def scalars(q: dict[str, np.ndarray], inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The scalar parameters this model has that the posterior holds, from named quantities ``q``."""
    return {
        p.name: q[p.name]
        for p in parameters.DATED
        if p.scalar and p.posterior and parameters.present(p, inputs) and p.name in q
    }


def totals(q: dict[str, np.ndarray], inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The estimand from named quantities ``q``, each array with the draw axis first.

    What each unit (``collected``) and group (``group_total``) has collected by the
    estimand's date, the ``total``, and the total as a ``share`` of the population.
    :func:`derived` and a sweep's point (:mod:`dnamodel.workflows.sweep`) both take their totals from
    here, so that a point at a spec's own values gives its fit's numbers exactly.
    """
    collected_now = collected(q, inputs, inputs.estimand_date)
    total = collected_now.sum(axis=1)
    by_group = np.zeros((collected_now.shape[0], len(inputs.group)))
    np.add.at(by_group.T, inputs.unit_group, collected_now.T)
    return {
        "collected": collected_now,
        "group_total": by_group,
        "total": total,
        "share": total / q["population"].sum(axis=1),
    }


def derived(x: np.ndarray, inputs: DatedInputs, draws: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Every quantity the posterior group holds, from draws ``x`` (n, ndim), with the draw axis first.

    ``draws`` is :func:`derive_draws` at ``x``, when the caller has it.
    """
    draws = derive_draws(x, inputs) if draws is None else draws
    q = named(draws, inputs)
    sums = totals(q, inputs)
    out = scalars(q, inputs)
    if inputs.group_effects:
        out["group_effect"] = q["group_effect"]
    arrays = [p for p in parameters.DATED if p.posterior and not p.scalar and p.name in q]
    out |= {p.name: q[p.name] for p in arrays if p.shape == parameters.GROUP}
    out["progress"] = draws["progress"]
    out |= {p.name: q[p.name] for p in arrays if p.shape != parameters.GROUP}
    out |= {
        "fraction": q["fraction"],
        "collected": sums["collected"],
        "group_total": sums["group_total"],
        "total": sums["total"],
        "share": sums["share"],
        "expected": draws["expected"],
    }
    if inputs.database:
        out["database_stock"] = draws["database_stock"]
    return out


def dims_of(name: str) -> tuple[str, ...]:
    """A posterior variable's dims after (chain, draw): a parameter's by its shape, a derived one's by :data:`DIMS`."""
    parameter = parameters.find(name, parameters.DATED)
    if isinstance(parameter, parameters.Parameter) and parameter.shape in SHAPE_DIMS:
        return SHAPE_DIMS[parameter.shape]
    return DIMS.get(name, ())


DIMS = {
    "group_effect": (GROUP,),
    "progress": (GROUP,),
    "fraction": (dims.UNIT,),
    "collected": (dims.UNIT,),
    "group_total": (GROUP,),
    "expected": (dims.OBSERVATION,),
    "database_stock": (DATABASE,),
    "obs": (dims.OBSERVATION,),
}
"""Each derived non-scalar variable's dims after (chain, draw); a parameter's follow its shape (:func:`dims_of`)."""
