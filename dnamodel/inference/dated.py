"""The dated model: pack its inputs, sample them with nutpie, and derive everything else in NumPy.

Sampling needs only the log density and its gradient over the free parameters. These are compiled
once per machine (:mod:`dnamodel.inference.dated_kernel`, numba with an on-disk cache) and read
every number from one packed vector (:func:`pack`). Refits of any kind (leave-one-out, forecasts,
SBC, sweeps) change only that vector. Everything derived from the draws (fractions, totals by unit
and prefecture, campaign progress, expected observations, log densities, predictive draws, prior
draws) is computed afterwards in vectorised NumPy, with the draw axis first
(:func:`constrain`, :func:`expected`, :func:`log_likelihood`, :func:`log_prior`, :func:`draw_prior`).

The mathematics is ``docs/model.md``, section 5.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.data import Dataset, load_data
from dnamodel.errors import UsageError
from dnamodel.inference.dated_pymc import sample_twin
from dnamodel.inference.sampling import SAMPLERS, check_sampler_settings, fitted_packages, quiet_arviz, seeds
from dnamodel.provenance import fit_provenance
from dnamodel.spec.dated import DatedInputs, DatedSpec, resolve_dated

if TYPE_CHECKING:
    import arviz as az

GROUP = dims.PREFECTURE
UPLIFT = "uplift"
DATABASE = "database"

KIND = {"count": 0, "database": 1, "database_share": 2, "coverage": 3}
COUNT, DATABASE_KIND, DATABASE_SHARE, COVERAGE = 0, 1, 2, 3
POINT, LOWER, UPPER = 0, 1, 2
SCALE_KIND = {"halfnormal": 0, "gamma": 1, "lognormal": 2}

# the kernel's layout, mirrored here so that packing needs no numba (dated_kernel asserts they agree)
_HEADER_SLOTS = [
    "H_LEN",
    "H_NDIM",
    "H_U",
    "H_J",
    "H_K",
    "H_D",
    "H_L",
    "H_FORM",
    "H_CE",
    "H_EPS",
    "B_N",
    "B_X",
    "B_GROUP",
    "B_UPLIFT",
    "B_OFFSET",
    "B_REPORTED",
    "B_T0KIND",
    "B_T0ANCHOR",
    "B_T0SCALE",
    "B_RATE_MU",
    "B_RATE_SD",
    "B_PRIOR",
    "B_LAM_MU",
    "B_LAM_SD",
    "B_KIND",
    "B_CENSOR",
    "B_Y",
    "B_S",
    "B_T1",
    "B_T2",
    "B_DB",
    "B_BASE",
    "B_ACTIVE",
    "B_OPTR",
    "B_OIDX",
    "B_OW",
    "B_GPTR",
    "B_GIDX",
    "B_DPTR",
    "B_DIDX",
    "B_ND",
    "B_WHOLE",
    "B_DGPTR",
    "B_DGIDX",
    "B_DWHOLE",
    "P_ALPHA",
    "P_LSP",
    "P_W",
    "P_LSU",
    "P_Z",
    "P_THETA",
    "P_V",
    "P_RHO",
    "P_KAPPA",
    "P_LB",
    "P_LAM",
    "P_E",
    "P_DELTA",
    "HEADER",
]
SLOT = {name: i for i, name in enumerate(_HEADER_SLOTS)}
_PRIOR_SLOTS = [
    "ALPHA_MU",
    "ALPHA_SD",
    "THETA_MU",
    "THETA_SD",
    "SP_KIND",
    "SP_A",
    "SP_B",
    "SU_KIND",
    "SU_A",
    "SU_B",
    "KAPPA_A",
    "KAPPA_B",
    "LB_MU",
    "LB_SD",
    "DELTA_MU",
    "DELTA_SD",
]
PRIOR_SLOT = {name: i for i, name in enumerate(_PRIOR_SLOTS)}

BLOCKS = (
    ("alpha", "P_ALPHA"),
    ("log_group_sd", "P_LSP"),
    ("group_z", "P_W"),
    ("log_unit_sd", "P_LSU"),
    ("unit_z", "P_Z"),
    ("contrast", "P_THETA"),
    ("start_raw", "P_V"),
    ("log_pace", "P_RHO"),
    ("logit_typed_share", "P_KAPPA"),
    ("log_baseline", "P_LB"),
    ("log_uplift", "P_LAM"),
    ("census_z", "P_E"),
    ("reported", "P_DELTA"),
)
"""The blocks of the unconstrained vector, in order, and the header slot holding each one's index."""


@dataclass(frozen=True)
class Layout:
    """Where each block of free parameters sits in the unconstrained vector."""

    ndim: int
    blocks: dict[str, slice]

    def has(self, name: str) -> bool:
        """Whether the model has this block."""
        return self.blocks[name].stop > self.blocks[name].start


def layout_of(inputs: DatedInputs) -> Layout:
    """The unconstrained vector's blocks for these inputs."""
    U, J, L = len(inputs.unit), len(inputs.group), len(inputs.uplift_name)
    sizes = {
        "alpha": 1,
        "log_group_sd": 1 if inputs.group_effects else 0,
        "group_z": J if inputs.group_effects else 0,
        "log_unit_sd": 1,
        "unit_z": U,
        "contrast": 1,
        "start_raw": J,
        "log_pace": J,
        "logit_typed_share": 1 if inputs.database else 0,
        "log_baseline": 1 if inputs.database else 0,
        "log_uplift": L,
        "census_z": U if inputs.census_error > 0 else 0,
        "reported": 1 if inputs.reported_effect else 0,
    }
    blocks, start = {}, 0
    for name, _ in BLOCKS:
        blocks[name] = slice(start, start + sizes[name])
        start += sizes[name]
    return Layout(start, blocks)


def _scale_code(prior: Any) -> tuple[float, float, float]:
    if prior is None:
        return 0.0, 1.0, 0.0
    if prior.dist == "halfnormal":
        return 0.0, prior.sigma, 0.0
    if prior.dist == "gamma":
        return 1.0, prior.alpha, prior.beta
    return 2.0, prior.mu, prior.sigma


def pack(
    inputs: DatedInputs,
    active: np.ndarray | None = None,
    value: np.ndarray | None = None,
    censor: np.ndarray | None = None,
) -> np.ndarray:
    """The packed vector the compiled density reads.

    Parameters
    ----------
    inputs : DatedInputs
    active : ndarray of bool, optional
        Which observations the likelihood includes (all by default): leaving one out, or every
        one dated after a cutoff, changes this alone.
    value : ndarray of float, optional
        Observed values to use instead of ``inputs.value`` (simulated data sets for SBC).
    censor : ndarray of int, optional
        What each value says (point, lower or upper bound), instead of ``inputs.censor``: a
        simulated data set can fall on either side of a bound.
    """
    layout = layout_of(inputs)
    U, J, K, L = len(inputs.unit), len(inputs.group), len(inputs.observation), len(inputs.uplift_name)
    priors = inputs.priors
    prior = np.zeros(len(_PRIOR_SLOTS))
    prior[PRIOR_SLOT["ALPHA_MU"]], prior[PRIOR_SLOT["ALPHA_SD"]] = priors["alpha"].mu, priors["alpha"].sigma
    prior[PRIOR_SLOT["THETA_MU"]], prior[PRIOR_SLOT["THETA_SD"]] = priors["contrast"].mu, priors["contrast"].sigma
    sp = _scale_code(priors.get("group_sd"))
    su = _scale_code(priors["unit_sd"])
    prior[PRIOR_SLOT["SP_KIND"] : PRIOR_SLOT["SP_B"] + 1] = sp
    prior[PRIOR_SLOT["SU_KIND"] : PRIOR_SLOT["SU_B"] + 1] = su
    if "typed_share" in priors:
        prior[PRIOR_SLOT["KAPPA_A"]], prior[PRIOR_SLOT["KAPPA_B"]] = (
            priors["typed_share"].alpha,
            priors["typed_share"].beta,
        )
        baseline = priors["baseline_per_resident"]
        prior[PRIOR_SLOT["LB_MU"]], prior[PRIOR_SLOT["LB_SD"]] = baseline.mu, baseline.sigma
    else:
        prior[PRIOR_SLOT["KAPPA_A"]] = prior[PRIOR_SLOT["KAPPA_B"]] = prior[PRIOR_SLOT["LB_SD"]] = 1.0
    if "reported" in priors:
        prior[PRIOR_SLOT["DELTA_MU"]], prior[PRIOR_SLOT["DELTA_SD"]] = priors["reported"].mu, priors["reported"].sigma
    else:
        prior[PRIOR_SLOT["DELTA_SD"]] = 1.0

    active = np.ones(K, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    value = inputs.value if value is None else np.asarray(value, dtype=float)
    optr = np.zeros(K + 1)
    gptr = np.zeros(K + 1)
    oidx, gidx = [], []
    for k, members in enumerate(inputs.members):
        oidx.extend(members)
        optr[k + 1] = len(oidx)
        touched = {int(inputs.unit_group[u]) for u in members}
        if inputs.kind[k] == DATABASE_SHARE:
            touched |= {int(inputs.unit_group[u]) for u in inputs.database_members[inputs.database_index[k]]}
        gidx.extend(sorted(touched))
        gptr[k + 1] = len(gidx)
    dptr = np.zeros(len(inputs.database) + 1)
    didx: list[int] = []
    for d, members in enumerate(inputs.database_members):
        didx.extend(members)
        dptr[d + 1] = len(didx)
    population = inputs.population
    nd = np.array([population[list(m)].sum() for m in inputs.database_members])
    # sets that are whole groups take the kernel's sum over groups (a COVERAGE keeps its sum over units)
    group_sets = [set(np.flatnonzero(inputs.unit_group == j)) for j in range(J)]

    def whole(members: tuple[int, ...]) -> bool:
        chosen = set(members)
        return (
            bool(chosen)
            and chosen == set().union(*(g for g in group_sets if g & chosen))
            and all(g <= chosen for g in group_sets if g & chosen)
        )

    whole_obs = np.array(
        [whole(m) and inputs.base[k] == 0 and inputs.kind[k] != COVERAGE for k, m in enumerate(inputs.members)]
    )
    if inputs.kind.size:
        share = inputs.kind == DATABASE_SHARE
        whole_obs[share] = whole_obs[share] & False  # a share's numerator sums over its own units
    dgptr = np.zeros(len(inputs.database) + 1)
    dgidx: list[int] = []
    for d, members in enumerate(inputs.database_members):
        dgidx.extend(sorted({int(inputs.unit_group[u]) for u in members}))
        dgptr[d + 1] = len(dgidx)
    dwhole = np.array([whole(m) for m in inputs.database_members], dtype=float)
    blocks = {
        "B_N": population,
        "B_X": inputs.covariate,
        "B_GROUP": inputs.unit_group,
        "B_UPLIFT": inputs.uplift,
        "B_OFFSET": inputs.offset,
        "B_REPORTED": inputs.reported,
        "B_T0KIND": inputs.start_kind,
        "B_T0ANCHOR": inputs.start_anchor,
        "B_T0SCALE": inputs.start_scale,
        "B_RATE_MU": inputs.pace_mu,
        "B_RATE_SD": inputs.pace_sd,
        "B_PRIOR": prior,
        "B_LAM_MU": inputs.uplift_mu,
        "B_LAM_SD": inputs.uplift_sd,
        "B_KIND": inputs.kind,
        "B_CENSOR": inputs.censor if censor is None else censor,
        "B_Y": value,
        "B_S": inputs.error,
        "B_T1": inputs.since,
        "B_T2": inputs.date,
        "B_DB": inputs.database_index,
        "B_BASE": inputs.base,
        "B_ACTIVE": active.astype(float),
        "B_OPTR": optr,
        "B_OIDX": np.array(oidx, dtype=float),
        "B_OW": np.ones(len(oidx)),
        "B_GPTR": gptr,
        "B_GIDX": np.array(gidx, dtype=float),
        "B_DPTR": dptr,
        "B_DIDX": np.array(didx, dtype=float),
        "B_ND": nd,
        "B_WHOLE": whole_obs.astype(float),
        "B_DGPTR": dgptr,
        "B_DGIDX": np.array(dgidx, dtype=float),
        "B_DWHOLE": dwhole,
    }
    header = np.zeros(SLOT["HEADER"])
    header[SLOT["H_NDIM"]] = layout.ndim
    header[SLOT["H_U"]], header[SLOT["H_J"]], header[SLOT["H_K"]] = U, J, K
    header[SLOT["H_D"]], header[SLOT["H_L"]] = len(inputs.database), L
    header[SLOT["H_FORM"]] = 0 if inputs.form == "composition" else 1
    header[SLOT["H_CE"]] = inputs.census_error
    header[SLOT["H_EPS"]] = inputs.ramp_years
    for name, slot in BLOCKS:
        block = layout.blocks[name]
        header[SLOT[slot]] = block.start if block.stop > block.start else -1
    parts, offset = [header], len(header)
    for slot, array in blocks.items():
        header[SLOT[slot]] = offset
        array = np.asarray(array, dtype=float).ravel()
        parts.append(array)
        offset += len(array)
    packed = np.concatenate(parts)
    packed[SLOT["H_LEN"]] = len(packed)
    return packed


# --- the model's quantities, in NumPy, over draws ---------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    from scipy.special import expit  # deferred: start-up time

    return expit(x)


def constrain(x: np.ndarray, inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The model's named quantities from unconstrained draws ``x`` of shape (draws, ndim).

    Returns arrays with the draw axis first: scalars (draws,), per group (draws, group), per unit
    (draws, unit), per uplift group (draws, uplift).
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    layout = layout_of(inputs)
    b = layout.blocks
    n = x.shape[0]
    U, J = len(inputs.unit), len(inputs.group)
    out: dict[str, np.ndarray] = {}
    out["alpha"] = x[:, b["alpha"]][:, 0]
    out["contrast"] = x[:, b["contrast"]][:, 0]
    out["unit_sd"] = np.exp(x[:, b["log_unit_sd"]][:, 0])
    if layout.has("log_group_sd"):
        out["group_sd"] = np.exp(x[:, b["log_group_sd"]][:, 0])
        out["group_effect"] = out["group_sd"][:, None] * x[:, b["group_z"]]
    else:
        out["group_effect"] = np.zeros((n, J))
    out["reported"] = x[:, b["reported"]][:, 0] if layout.has("reported") else np.zeros(n)
    unit_z = x[:, b["unit_z"]]
    mean = out["alpha"][:, None] + out["group_effect"][:, inputs.unit_group] + inputs.offset
    mean = mean + out["reported"][:, None] * inputs.reported
    if inputs.form == "linear":
        mean = mean + out["contrast"][:, None] * inputs.covariate
    eta = mean + out["unit_sd"][:, None] * unit_z
    out["logit_fraction"] = eta
    if inputs.form == "composition":
        h = inputs.covariate
        out["fraction"] = (1 - h) * _sigmoid(eta) + h * _sigmoid(eta + out["contrast"][:, None])
    else:
        out["fraction"] = _sigmoid(eta)
    raw = x[:, b["start_raw"]]
    lead = np.exp(raw)
    out["start"] = np.where(
        inputs.start_kind == 0,
        inputs.start_anchor + inputs.start_scale * raw,
        np.where(inputs.start_kind == 1, inputs.start_anchor - lead, inputs.start_anchor + lead),
    )
    out["pace"] = np.exp(x[:, b["log_pace"]])
    if layout.has("logit_typed_share"):
        out["typed_share"] = _sigmoid(x[:, b["logit_typed_share"]][:, 0])
        out["baseline_per_resident"] = np.exp(x[:, b["log_baseline"]][:, 0])
    else:
        out["typed_share"] = np.ones(n)
        out["baseline_per_resident"] = np.zeros(n)
    out["uplift"] = np.exp(x[:, b["log_uplift"]]) if layout.has("log_uplift") else np.ones((n, 0))
    people = np.broadcast_to(inputs.population, (n, U)).copy()
    if layout.has("census_z"):
        people = people * np.exp(inputs.census_error * x[:, b["census_z"]])
    has = inputs.uplift >= 0
    if has.any():
        people[:, has] = people[:, has] * out["uplift"][:, inputs.uplift[has]]
    out["population"] = people
    return out


def progress(t: float | np.ndarray, start: np.ndarray, pace: np.ndarray, ramp: float) -> np.ndarray:
    """The campaign's progress F_j(t) = 1 − exp(−r_j · ε · softplus((t − t0_j) / ε)).

    Examples
    --------
    >>> f = progress(2020.0, np.array([[2018.0]]), np.array([[1.0]]), 0.25)
    >>> round(float(f[0, 0]), 4)  # two years in at pace 1: 1 − e⁻²
    0.8647
    """
    ramped = ramp * np.logaddexp(0.0, (t - start) / ramp)
    return -np.expm1(-pace * ramped)


def _gain(t1: float, t2: float, q: dict[str, np.ndarray], ramp: float) -> np.ndarray:
    """F(t2) − F(t1) per group, without cancellation (both near 1 late in a campaign)."""
    r1 = ramp * np.logaddexp(0.0, (t1 - q["start"]) / ramp)
    r2 = ramp * np.logaddexp(0.0, (t2 - q["start"]) / ramp)
    return np.exp(-q["pace"] * r1) * -np.expm1(-q["pace"] * (r2 - r1))


def collected(q: dict[str, np.ndarray], inputs: DatedInputs, t: float) -> np.ndarray:
    """C_u(t) for every unit, shape (draws, unit)."""
    f = progress(t, q["start"], q["pace"], inputs.ramp_years)
    return q["fraction"] * f[:, inputs.unit_group] * q["population"]


def database_stock(q: dict[str, np.ndarray], inputs: DatedInputs, d: int, t: float) -> np.ndarray:
    """D_d(t) = b·N_d + κ·Σ_{u in d} C_u(t), shape (draws,)."""
    members = list(inputs.database_members[d])
    held = collected(q, inputs, t)[:, members].sum(axis=1)
    return q["baseline_per_resident"] * inputs.population[members].sum() + q["typed_share"] * held


def expected(q: dict[str, np.ndarray], inputs: DatedInputs) -> np.ndarray:
    """What the model predicts for each observation (its μ_k), shape (draws, observation)."""
    n = q["alpha"].shape[0]
    out = np.empty((n, len(inputs.observation)))
    for k in range(len(inputs.observation)):
        members = list(inputs.members[k])
        t1, t2 = inputs.since[k], inputs.date[k]
        if math.isnan(t1):
            gain = progress(t2, q["start"], q["pace"], inputs.ramp_years)
        else:
            gain = _gain(t1, t2, q, inputs.ramp_years)
        people = inputs.base[k] if inputs.base[k] > 0 else q["population"][:, members]
        counted = (q["fraction"][:, members] * gain[:, inputs.unit_group[members]] * people).sum(axis=1)
        kind = inputs.kind[k]
        d = inputs.database_index[k]
        if kind == COUNT:
            out[:, k] = counted
        elif kind == DATABASE_KIND:
            held = inputs.population[list(inputs.database_members[d])].sum()
            out[:, k] = q["typed_share"] * counted + (q["baseline_per_resident"] * held if math.isnan(t1) else 0.0)
        elif kind == DATABASE_SHARE:
            out[:, k] = counted / database_stock(q, inputs, d, t2)
        else:
            base = inputs.base[k] * len(members) if inputs.base[k] > 0 else q["population"][:, members].sum(axis=1)
            out[:, k] = counted / base
    return out


def _linear(values: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Observations on the scale their error is stated on: logit for coverage, log otherwise."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(kind == COVERAGE, np.log(values) - np.log1p(-values), np.log(values))


def log_likelihood(mu: np.ndarray, inputs: DatedInputs, value: np.ndarray | None = None) -> np.ndarray:
    """The log likelihood of each observation given its μ, shape (draws, observation).

    A point value is log-normal (logit-normal for a coverage) around μ, with its Jacobian, so the
    density is of the value as printed; a bound contributes the probability that the value
    would fall on its side of it.
    """
    from scipy.special import log_ndtr  # deferred: start-up time

    value = inputs.value if value is None else np.asarray(value, dtype=float)
    kind = inputs.kind
    s = inputs.error
    lin_mu = _linear(mu, kind)
    lin_y = _linear(value, kind)
    with np.errstate(divide="ignore", invalid="ignore"):
        jacobian = np.where(kind == COVERAGE, -np.log(value) - np.log1p(-value), -np.log(value))
    z = (lin_y - lin_mu) / s
    point = -0.5 * z**2 - np.log(s) - 0.5 * np.log(2 * np.pi) + jacobian
    return np.where(inputs.censor == POINT, point, np.where(inputs.censor == LOWER, log_ndtr(-z), log_ndtr(z)))


def predictive_draws(mu: np.ndarray, inputs: DatedInputs, rng: np.random.Generator) -> np.ndarray:
    """A replicated value for each observation and draw: the quantity a bound speaks of, for a bound."""
    noise = inputs.error * rng.standard_normal(mu.shape)
    linear = _linear(mu, inputs.kind) + noise
    return np.where(inputs.kind == COVERAGE, _sigmoid(linear), np.exp(linear))


PRIOR_TERMS = (
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
    "effects",
)
"""The prior's terms, each a sum of log densities on the unconstrained scale (Jacobians included);
``effects`` holds the standard-normal group and unit effects and census errors."""


def log_prior(x: np.ndarray, inputs: DatedInputs) -> dict[str, np.ndarray]:
    """Each prior term's log density at draws ``x`` (draws, ndim), on the unconstrained scale."""
    from scipy import stats  # deferred: start-up time

    x = np.atleast_2d(np.asarray(x, dtype=float))
    layout = layout_of(inputs)
    b = layout.blocks
    p = inputs.priors
    out: dict[str, np.ndarray] = {}

    def normal(values: np.ndarray, mu: Any, sd: Any) -> np.ndarray:
        return stats.norm.logpdf(values, mu, sd)

    def scale(log_values: np.ndarray, prior: Any) -> np.ndarray:
        values = np.exp(log_values)
        if prior.dist == "halfnormal":
            return stats.halfnorm.logpdf(values, scale=prior.sigma) + log_values
        if prior.dist == "gamma":
            return stats.gamma.logpdf(values, prior.alpha, scale=1 / prior.beta) + log_values
        return stats.norm.logpdf(log_values, prior.mu, prior.sigma)

    zero = np.zeros(x.shape[0])
    out["alpha"] = normal(x[:, b["alpha"]][:, 0], p["alpha"].mu, p["alpha"].sigma)
    out["contrast"] = normal(x[:, b["contrast"]][:, 0], p["contrast"].mu, p["contrast"].sigma)
    out["unit_sd"] = scale(x[:, b["log_unit_sd"]][:, 0], p["unit_sd"])
    out["group_sd"] = scale(x[:, b["log_group_sd"]][:, 0], p["group_sd"]) if layout.has("log_group_sd") else zero
    out["reported"] = (
        normal(x[:, b["reported"]][:, 0], p["reported"].mu, p["reported"].sigma) if layout.has("reported") else zero
    )
    raw = x[:, b["start_raw"]]
    around = inputs.start_kind == 0
    start = np.where(
        around,
        stats.norm.logpdf(raw),
        stats.halfnorm.logpdf(np.exp(raw), scale=inputs.start_scale) + raw,
    )
    out["start"] = start.sum(axis=1)
    out["pace"] = normal(x[:, b["log_pace"]], inputs.pace_mu, inputs.pace_sd).sum(axis=1)
    if layout.has("logit_typed_share"):
        k = x[:, b["logit_typed_share"]][:, 0]
        share = _sigmoid(k)
        out["typed_share"] = stats.beta.logpdf(share, p["typed_share"].alpha, p["typed_share"].beta) + np.log(
            share * (1 - share)
        )
        baseline = p["baseline_per_resident"]
        out["baseline_per_resident"] = normal(x[:, b["log_baseline"]][:, 0], baseline.mu, baseline.sigma)
    else:
        out["typed_share"] = out["baseline_per_resident"] = zero
    out["uplift"] = normal(x[:, b["log_uplift"]], inputs.uplift_mu, inputs.uplift_sd).sum(axis=1)
    effects = stats.norm.logpdf(x[:, b["unit_z"]]).sum(axis=1)
    if layout.has("group_z"):
        effects = effects + stats.norm.logpdf(x[:, b["group_z"]]).sum(axis=1)
    if layout.has("census_z"):
        effects = effects + stats.norm.logpdf(x[:, b["census_z"]]).sum(axis=1)
    out["effects"] = effects
    return out


def draw_prior(inputs: DatedInputs, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of the unconstrained vector from the prior, shape (n, ndim)."""
    layout = layout_of(inputs)
    b = layout.blocks
    p = inputs.priors
    x = np.zeros((n, layout.ndim))

    def scale(prior: Any) -> np.ndarray:
        if prior.dist == "halfnormal":
            return np.log(np.abs(rng.normal(0.0, prior.sigma, n)))
        if prior.dist == "gamma":
            return np.log(rng.gamma(prior.alpha, 1.0 / prior.beta, n))
        return rng.normal(prior.mu, prior.sigma, n)

    x[:, b["alpha"]] = rng.normal(p["alpha"].mu, p["alpha"].sigma, (n, 1))
    if layout.has("log_group_sd"):
        x[:, b["log_group_sd"]] = scale(p["group_sd"])[:, None]
        x[:, b["group_z"]] = rng.standard_normal((n, len(inputs.group)))
    x[:, b["log_unit_sd"]] = scale(p["unit_sd"])[:, None]
    x[:, b["unit_z"]] = rng.standard_normal((n, len(inputs.unit)))
    x[:, b["contrast"]] = rng.normal(p["contrast"].mu, p["contrast"].sigma, (n, 1))
    J = len(inputs.group)
    lead = np.log(np.abs(rng.standard_normal((n, J)) * inputs.start_scale))
    x[:, b["start_raw"]] = np.where(inputs.start_kind == 0, rng.standard_normal((n, J)), lead)
    x[:, b["log_pace"]] = rng.normal(inputs.pace_mu, inputs.pace_sd, (n, J))
    if layout.has("logit_typed_share"):
        share = rng.beta(p["typed_share"].alpha, p["typed_share"].beta, n)
        x[:, b["logit_typed_share"]] = (np.log(share) - np.log1p(-share))[:, None]
        baseline = p["baseline_per_resident"]
        x[:, b["log_baseline"]] = rng.normal(baseline.mu, baseline.sigma, (n, 1))
    if layout.has("log_uplift"):
        x[:, b["log_uplift"]] = rng.normal(inputs.uplift_mu, inputs.uplift_sd, (n, len(inputs.uplift_name)))
    if layout.has("census_z"):
        x[:, b["census_z"]] = rng.standard_normal((n, len(inputs.unit)))
    if layout.has("reported"):
        x[:, b["reported"]] = rng.normal(p["reported"].mu, p["reported"].sigma, (n, 1))
    return x


def initial_point(inputs: DatedInputs) -> np.ndarray:
    """Where chains start, before nutpie's jitter: each prior's centre."""
    layout = layout_of(inputs)
    b = layout.blocks
    p = inputs.priors
    x = np.zeros(layout.ndim)
    x[b["alpha"]] = p["alpha"].mu
    x[b["contrast"]] = p["contrast"].mu
    x[b["log_pace"]] = inputs.pace_mu
    if layout.has("log_baseline"):
        x[b["log_baseline"]] = p["baseline_per_resident"].mu
        share = p["typed_share"].alpha / (p["typed_share"].alpha + p["typed_share"].beta)
        x[b["logit_typed_share"]] = math.log(share / (1 - share))
    if layout.has("log_uplift"):
        x[b["log_uplift"]] = inputs.uplift_mu
    if layout.has("reported"):
        x[b["reported"]] = p["reported"].mu
    return x


# --- sampling -------------------------------------------------------------------------------------


@dataclass
class Draws:
    """What a run of the sampler returns: unconstrained draws and sampler statistics."""

    x: np.ndarray  # (chain, draw, ndim)
    stats: dict[str, np.ndarray]  # each (chain, draw)
    seconds: float


def _compiled(packed: np.ndarray, inputs: DatedInputs, init: np.ndarray, jitter: float) -> Any:
    """Nutpie's compiled-model object around the numba density and the packed inputs."""
    import nutpie.compile_pymc  # deferred: start-up time

    from dnamodel.inference import dated_kernel  # deferred: loads numba and the compiled kernels (ARCHITECTURE.md)

    ndim = int(packed[SLOT["H_NDIM"]])

    def initial(seed: int) -> np.ndarray:
        return init + np.random.default_rng(seed).uniform(-jitter, jitter, ndim)

    return nutpie.compile_pymc.CompiledPyMCModel(
        _n_dim=ndim,
        dims={},
        _coords={},
        _shapes={"x": (ndim,)},
        compiled_logp_func=dated_kernel.logp_cfunc,
        compiled_expand_func=dated_kernel.store_cfunc,
        initial_point_func=initial,
        shared_data={},
        user_data=packed,
        n_expanded=ndim,
        shape_info=(["x"], [slice(0, ndim)], [(ndim,)]),
        logp_func=None,
        expand_func=None,
    )


STATS = ("diverging", "depth", "n_steps", "step_size", "energy", "logp", "mean_tree_accept", "maxdepth_reached")


def sample_packed(
    packed: np.ndarray,
    inputs: DatedInputs,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    cores: int | None = None,
    progress: bool = False,
) -> Draws:
    """Run nutpie on the packed inputs and return the draws as arrays (no InferenceData)."""
    import nutpie  # deferred: start-up time
    import pyarrow  # deferred: nutpie's own dependency, for its trace

    packed = np.ascontiguousarray(packed, dtype=np.float64)
    model = _compiled(packed, inputs, initial_point(inputs), 0.5)
    cores = cores if cores is not None else min(chains, os.cpu_count() or 1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        raw = nutpie.sample(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            target_accept=target_accept,
            save_warmup=False,
            progress_bar=progress,
            return_raw_trace=True,
        )
    seconds = time.perf_counter() - start
    draw_batches, stat_batches = raw.get_arrow_trace()
    ndim = int(packed[SLOT["H_NDIM"]])
    xs, stats = [], {name: [] for name in STATS}
    for draw_batch, stat_batch in zip(draw_batches, stat_batches, strict=True):
        tuning = pyarrow.array(stat_batch.column("tuning")).to_numpy(zero_copy_only=False)
        keep = ~tuning
        values = pyarrow.array(draw_batch.column("x")).flatten().to_numpy().reshape(-1, ndim)
        xs.append(values[keep])
        for name in STATS:
            stats[name].append(pyarrow.array(stat_batch.column(name)).to_numpy(zero_copy_only=False)[keep])
    return Draws(np.stack(xs), {name: np.stack(v) for name, v in stats.items()}, seconds)


# --- a fit as InferenceData ------------------------------------------------------------------------

SCALARS = ("alpha", "contrast", "group_sd", "unit_sd", "reported", "typed_share", "baseline_per_resident")
"""The model's scalar parameters, as the posterior names them (those the model has)."""


def scalars(q: dict[str, np.ndarray], inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The scalar parameters this model has (:data:`SCALARS`), from constrained draws ``q``."""
    out = {name: q[name] for name in SCALARS if name in q and (name != "group_sd" or inputs.group_effects)}
    if not inputs.reported_effect:
        out.pop("reported", None)
    if not inputs.database:
        out.pop("typed_share", None)
        out.pop("baseline_per_resident", None)
    return out


def totals(q: dict[str, np.ndarray], inputs: DatedInputs) -> dict[str, np.ndarray]:
    """The estimand from constrained draws ``q``, each array with the draw axis first.

    What each unit (``collected``) and prefecture (``prefecture_total``) has collected by the
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
        "prefecture_total": by_group,
        "total": total,
        "share": total / q["population"].sum(axis=1),
    }


def derived(x: np.ndarray, inputs: DatedInputs) -> dict[str, np.ndarray]:
    """Every quantity the posterior group holds, from draws ``x`` (n, ndim), with the draw axis first."""
    q = constrain(x, inputs)
    t = inputs.estimand_date
    sums = totals(q, inputs)
    out = scalars(q, inputs)
    if inputs.group_effects:
        out["group_effect"] = q["group_effect"]
    out |= {
        "start": q["start"],
        "pace": q["pace"],
        "progress": progress(t, q["start"], q["pace"], inputs.ramp_years),
        "uplift": q["uplift"],
        "fraction": q["fraction"],
        "collected": sums["collected"],
        "prefecture_total": sums["prefecture_total"],
        "total": sums["total"],
        "share": sums["share"],
        "expected": expected(q, inputs),
    }
    if inputs.database:
        out["database_stock"] = np.stack([database_stock(q, inputs, d, t) for d in range(len(inputs.database))], axis=1)
    return out


DIMS = {
    "group_effect": (GROUP,),
    "start": (GROUP,),
    "pace": (GROUP,),
    "progress": (GROUP,),
    "uplift": (UPLIFT,),
    "fraction": (dims.UNIT,),
    "collected": (dims.UNIT,),
    "prefecture_total": (GROUP,),
    "expected": (dims.OBSERVATION,),
    "database_stock": (DATABASE,),
    "obs": (dims.OBSERVATION,),
}
"""Each non-scalar variable's dims after (chain, draw)."""


def _coords(inputs: DatedInputs) -> dict[str, list[str]]:
    return {
        GROUP: list(inputs.group),
        UPLIFT: list(inputs.uplift_name),
        dims.UNIT: list(inputs.unit),
        dims.OBSERVATION: list(inputs.observation),
        DATABASE: list(inputs.database),
    }


def _dataset(values: dict[str, np.ndarray], chains: int, inputs: DatedInputs, scalars: bool = False) -> Any:
    """An xarray Dataset over (chain, draw, ...) from arrays whose first axis is chain × draw.

    Each variable's further dims are :data:`DIMS`' (none when ``scalars``).
    """
    import xarray as xr  # deferred: start-up time

    coords = _coords(inputs)
    out = {}
    for name, array in values.items():
        array = np.asarray(array)
        shaped = array.reshape(chains, array.shape[0] // chains, *array.shape[1:])  # -1 fails on size 0
        names = (dims.CHAIN, dims.DRAW, *(() if scalars else DIMS.get(name, ())))
        out[name] = xr.DataArray(shaped, dims=names, coords={d: coords[d] for d in names[2:]})
    return xr.Dataset(out)


@dataclass
class DatedFit:
    """A fitted dated model: the InferenceData and what it was fitted from."""

    idata: Any
    inputs: DatedInputs
    timings: dict[str, float] = field(default_factory=dict)


def to_inference_data(
    result: Draws,
    inputs: DatedInputs,
    *,
    seed: int,
    prior_draws: int,
    active: np.ndarray | None = None,
) -> az.InferenceData:
    """Posterior, sample stats, log densities, predictives, prior and data, as ArviZ groups."""
    import arviz as az  # deferred: start-up time
    import xarray as xr

    quiet_arviz()
    chains = result.x.shape[0]
    flat = result.x.reshape(-1, result.x.shape[-1])
    _, prior_seed, predictive_seed = seeds(seed)
    values = derived(flat, inputs)
    posterior = _dataset(values, chains, inputs)
    posterior["unconstrained"] = xr.DataArray(result.x, dims=(dims.CHAIN, dims.DRAW, "parameter"))
    stats = xr.Dataset({name: ((dims.CHAIN, dims.DRAW), v) for name, v in result.stats.items()})
    stats["diverging"] = stats["diverging"].astype(bool)
    stats["tree_depth"] = stats["depth"]
    stats["lp"] = stats["logp"]
    rng = np.random.default_rng(predictive_seed)
    predictive = _dataset({"obs": predictive_draws(values["expected"], inputs, rng)}, chains, inputs)
    log_lik = _dataset({"obs": log_likelihood(values["expected"], inputs)}, chains, inputs)
    terms = log_prior(flat, inputs)
    log_prior_ds = _dataset({name: terms[name] for name in PRIOR_TERMS}, chains, inputs, scalars=True)
    prior_x = draw_prior(inputs, prior_draws, np.random.default_rng(prior_seed))
    prior_values = derived(prior_x, inputs)
    prior = _dataset(prior_values, 1, inputs)
    prior_predictive = _dataset(
        {"obs": predictive_draws(prior_values["expected"], inputs, np.random.default_rng(prior_seed + 1))}, 1, inputs
    )
    coords = _coords(inputs)
    active = np.ones(len(inputs.observation), bool) if active is None else np.asarray(active, bool)
    observed = xr.Dataset(
        {
            "obs": xr.DataArray(
                inputs.value, dims=(dims.OBSERVATION,), coords={dims.OBSERVATION: coords[dims.OBSERVATION]}
            )
        }
    )
    obs_coord = {dims.OBSERVATION: coords[dims.OBSERVATION]}
    unit_coord = {dims.UNIT: coords[dims.UNIT]}
    constant = xr.Dataset(
        {
            "error": ((dims.OBSERVATION,), inputs.error),
            "date": ((dims.OBSERVATION,), inputs.date),
            "since": ((dims.OBSERVATION,), inputs.since),
            "censor": ((dims.OBSERVATION,), inputs.censor),
            "kind": ((dims.OBSERVATION,), inputs.kind),
            "base": ((dims.OBSERVATION,), inputs.base),
            "active": ((dims.OBSERVATION,), active),
            "population": ((dims.UNIT,), inputs.population),
            "covariate": ((dims.UNIT,), inputs.covariate_raw),
            "reported_unit": ((dims.UNIT,), inputs.reported),
            "unit_prefecture": ((dims.UNIT,), [inputs.group[g] for g in inputs.unit_group]),
        },
        coords=obs_coord | unit_coord,
    )
    idata = az.InferenceData(
        posterior=posterior,
        sample_stats=stats,
        log_likelihood=log_lik,
        log_prior=log_prior_ds,
        posterior_predictive=predictive,
        prior=prior,
        prior_predictive=prior_predictive,
        observed_data=observed,
        constant_data=constant,
    )
    return idata


def stored_per_draw(inputs: DatedInputs) -> int:
    """How many numbers a fit stores per draw of each chain (for the memory cap).

    The unconstrained draw, what is derived from it, its log densities and its predictive.
    """
    U, J, K = len(inputs.unit), len(inputs.group), len(inputs.observation)
    derived_size = len(SCALARS) + 5 * J + len(inputs.uplift_name) + 2 * U + 2 + K + len(inputs.database)
    return layout_of(inputs).ndim + derived_size + 2 * K + len(PRIOR_TERMS) + len(STATS)


def fit_dated(
    spec: DatedSpec,
    data: Dataset | None = None,
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    sampler: str = "nutpie",
    progress: bool = False,
    prior_draws: int = 2000,
    active: np.ndarray | None = None,
) -> DatedFit:
    """Fit a dated model; see :func:`dnamodel.fit`.

    ``sampler="nutpie"`` (the default) samples the numba kernel; ``"pymc"`` samples the model's
    PyMC twin (:mod:`dnamodel.inference.dated_pymc`) with PyMC's own NUTS, compiled in this
    process, and returns the same ``InferenceData``: its draws are mapped to the kernel's
    unconstrained vector and derived from there.

    ``active`` leaves observations out of the likelihood (leave-one-out, forecasts) without
    changing anything else: the same compiled density reads a different packed vector.
    """
    if sampler not in SAMPLERS:
        raise UsageError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
    data = data if data is not None else load_data()
    settings = spec.sampler
    draws = settings.draws if draws is None else draws
    tune = settings.tune if tune is None else tune
    chains = settings.chains if chains is None else chains
    seed = settings.seed if seed is None else seed
    inputs = resolve_dated(spec, data)
    check_sampler_settings(stored_per_draw(inputs), draws=draws, tune=tune, chains=chains, seed=seed)
    sampler_seed, _, _ = seeds(seed)
    start = time.perf_counter()
    if sampler == "nutpie":
        result = sample_packed(
            pack(inputs, active),
            inputs,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=sampler_seed,
            target_accept=settings.target_accept,
            progress=progress,
        )
        timings = {"sample": round(result.seconds, 3), "load": round(time.perf_counter() - start - result.seconds, 3)}
    else:
        x, stats, seconds = sample_twin(
            inputs,
            layout_of(inputs),
            active,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=sampler_seed,
            target_accept=settings.target_accept,
            progress=progress,
        )
        result = Draws(x, stats, seconds["sample"])
        # "load" is what precedes the first draw: for PyMC, building and compiling the twin
        timings = {"sample": round(seconds["sample"], 3), "load": round(seconds["build"] + seconds["compile"], 3)}
    start = time.perf_counter()
    idata = to_inference_data(result, inputs, seed=seed, prior_draws=prior_draws, active=active)
    timings["derive"] = round(time.perf_counter() - start, 3)
    idata.attrs.update(
        fit_provenance(
            spec,
            data,
            kind="dated",
            seed=seed,
            sampler=sampler,
            draws=draws,
            tune=tune,
            chains=chains,
            timings=timings,
            packages=fitted_packages(sampler, *(["pymc"] if sampler == "pymc" else [])),
            extra={"estimand_date": spec.estimand.date},
        )
    )
    return DatedFit(idata, inputs, timings)
