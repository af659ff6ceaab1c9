"""The dated model's packed vector: its layout, :func:`pack`, and the prior's draws and centre.

Everything the compiled density reads is one float64 vector: a header of sizes, switches and the
offsets of the blocks that follow, then the data, the transform of every unconstrained coordinate
and the prior table (one row per coordinate: its prior kind, two numbers and the term it is summed
in). The layout below is the one source of the slots' positions: :mod:`dnamodel.inference.dated_kernel`
imports them (numba freezes them into its compiled code, which :data:`LAYOUT_KEY` checks), and this
module needs no numba. The transforms and the prior table come from the parameter registry
(:data:`dnamodel.spec.parameters.DATED`), so that a parameter added there is packed, drawn from its
prior and started at its prior's centre with no edit here.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dnamodel.spec import parameters
from dnamodel.spec.dated import BOUND_CODE, KIND_CODE, DatedInputs
from dnamodel.spec.parameters import (
    BETA,
    GAMMA,
    HALFNORMAL,
    LOGNORMAL,
    NORMAL,
    STANDARD_NORMAL,
    TRANSFORMS,
)

# --- the layout ------------------------------------------------------------------------------------
# Header slots hold a key, sizes and switches, the offsets of the data blocks, and the position of
# each parameter block the density reads in the unconstrained vector (-1 when the model lacks it).
HEADER_SLOTS = (
    "H_KEY",
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
    "H_CURVE",
    "H_NTRANSFORM",
    "H_NPRIOR",
    "H_NTERMS",
    "B_N",
    "B_X",
    "B_GROUP",
    "B_UPLIFT",
    "B_OFFSET",
    "B_REPORTED",
    "B_TRANSFORM",
    "B_PRIOR",
    "B_KIND",
    "B_LIKELIHOOD",
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
    "H_WIDTH",
    "H_TC",
    "H_NU",
    "B_TYPED",
    "B_UGROUP",
    "B_UWRONG",
    "B_UERROR",
    "H_AFFINE",
)
SLOT = {name: i for i, name in enumerate(HEADER_SLOTS)}
HEADER = len(HEADER_SLOTS)
(
    H_KEY,
    H_LEN,
    H_NDIM,
    H_U,
    H_J,
    H_K,
    H_D,
    H_L,
    H_FORM,
    H_CE,
    H_EPS,
    H_CURVE,
    H_NTRANSFORM,
    H_NPRIOR,
    H_NTERMS,
    B_N,
    B_X,
    B_GROUP,
    B_UPLIFT,
    B_OFFSET,
    B_REPORTED,
    B_TRANSFORM,
    B_PRIOR,
    B_KIND,
    B_LIKELIHOOD,
    B_CENSOR,
    B_Y,
    B_S,
    B_T1,
    B_T2,
    B_DB,
    B_BASE,
    B_ACTIVE,
    B_OPTR,
    B_OIDX,
    B_OW,
    B_GPTR,
    B_GIDX,
    B_DPTR,
    B_DIDX,
    B_ND,
    B_WHOLE,
    B_DGPTR,
    B_DGIDX,
    B_DWHOLE,
    P_ALPHA,
    P_LSP,
    P_W,
    P_LSU,
    P_Z,
    P_THETA,
    P_V,
    P_RHO,
    P_KAPPA,
    P_LB,
    P_LAM,
    P_E,
    P_DELTA,
    H_WIDTH,
    H_TC,
    H_NU,
    B_TYPED,
    B_UGROUP,
    B_UWRONG,
    B_UERROR,
    H_AFFINE,
) = range(HEADER)

TRANSFORM_COLUMNS = 5
"""A row of the transform table: the first coordinate, how many, their code, a, b
(:func:`dnamodel.spec.parameters.to_value`)."""
PRIOR_COLUMNS = 6
"""A row of the prior table: the first coordinate, how many, their prior kind, a, b, and the term they
are summed in. Coordinates in a row follow one another in the vector and in the density's sum: the
kernel's loop over them reads the row once (the 77 units' effects are one row)."""

COMPOSITION, LINEAR = 0, 1
"""The fraction's form (``docs/model.md``, section 5.3)."""
COUNT, DATABASE_KIND, DATABASE_SHARE, COVERAGE = (
    KIND_CODE[k] for k in ("count", "database", "database_share", "coverage")
)
"""Observation kinds (section 5.7)."""
POINT, LOWER, UPPER = (BOUND_CODE[b] for b in ("none", "lower", "upper"))
"""What an observed value says: the value itself, or a lower or an upper bound."""
LOG_NORMAL_ERROR, LOGIT_NORMAL_ERROR = 0, 1
"""Likelihood codes: a value log-normal about its expected value, or logit-normal (a coverage)."""
SATURATING, LOGISTIC, CONSTANT_AFTER = 0, 1, 2
"""Campaign-curve families (section 5.4), each of τ = ε·softplus((t − t0)/ε): saturating,
F = 1 − exp(−r·τ); logistic, F = (σ(r·τ − L) − σ(−L)) / (1 − σ(−L)) with L = ln 19; constant after
a date t_c, saturating until t_c and F(t_c) + F′(t_c)·(t − t_c) after it."""
CURVE_CODE = {"saturating": SATURATING, "logistic": LOGISTIC, "constant_after": CONSTANT_AFTER}

_CODES = {
    "slots": HEADER_SLOTS,
    "columns": (TRANSFORM_COLUMNS, PRIOR_COLUMNS),
    "transforms": sorted(TRANSFORMS.items()),
    "priors": [NORMAL, STANDARD_NORMAL, HALFNORMAL, GAMMA, LOGNORMAL, BETA],
    "forms": (COMPOSITION, LINEAR),
    "kinds": (COUNT, DATABASE_KIND, DATABASE_SHARE, COVERAGE),
    "bounds": (POINT, LOWER, UPPER),
    "likelihoods": (LOG_NORMAL_ERROR, LOGIT_NORMAL_ERROR),
    "curves": (SATURATING, LOGISTIC, CONSTANT_AFTER),
}
LAYOUT_KEY = float(int(hashlib.sha256(json.dumps(_CODES).encode()).hexdigest()[:12], 16))
"""A fingerprint of the layout and every code the compiled density reads, written at the head of each
packed vector. numba freezes these constants into its on-disk cache, which it renews only when the
kernel's own file changes: :func:`dnamodel.inference.dated_quantities.compiled` compares the kernel's
frozen key (``dated_kernel.layout_key()``) with this one before any compiled code runs."""


# --- the unconstrained vector -------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where each block of parameters sits in the unconstrained vector.

    The sampler's vector has ``ndim`` coordinates; a parameter the spec fixes has its block after
    them, up to ``width``: its value is held there in the kernel's array of values, not sampled.
    """

    ndim: int
    blocks: dict[str, slice]
    width: int = -1

    def __post_init__(self) -> None:
        if self.width < 0:
            object.__setattr__(self, "width", self.ndim)

    def has(self, name: str) -> bool:
        """Whether the model has this block."""
        return self.blocks[name].stop > self.blocks[name].start


def in_vector_order() -> list[parameters.Parameter]:
    """The dated model's parameters in the order of their blocks in the unconstrained vector."""
    return sorted(parameters.DATED, key=lambda p: p.vector)


def layout_of(inputs: DatedInputs) -> Layout:
    """The unconstrained vector's blocks for these inputs (an absent block is empty; a fixed one after the sampled)."""
    blocks, start = {}, 0
    held = [p for p in in_vector_order() if parameters.fixed(p, inputs)]
    for parameter in in_vector_order():
        if parameter not in held:
            n = parameters.size(parameter, inputs)
            blocks[parameter.block] = slice(start, start + n)
            start += n
    ndim = start
    for parameter in held:
        n = parameters.size(parameter, inputs)
        blocks[parameter.block] = slice(start, start + n)
        start += n
    return Layout(ndim, blocks, start)


def _runs(rows: Sequence[tuple[float, ...]]) -> np.ndarray:
    """Rows ``(coordinate, *same)`` in order, as runs ``(first, count, *same)`` of consecutive coordinates."""
    runs: list[list[float]] = []
    for i, *same in rows:
        if runs and runs[-1][0] + runs[-1][1] == i and runs[-1][2:] == same:
            runs[-1][1] += 1
        else:
            runs.append([i, 1, *same])
    return np.array(runs, dtype=float)


def _tables(inputs: DatedInputs, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """The transform table (in the vector's order) and the prior table (in the density's summing order), as runs."""
    transforms, priors = [], []
    terms = parameters.prior_terms(parameters.DATED)
    for position, parameter in enumerate(parameters.DATED):
        block = layout.blocks[parameter.block]
        code, ta, tb = parameters.transform_rows(parameter, inputs)
        kind, a, b = parameters.prior_rows(parameter, inputs)
        term = terms.index(parameter.term)
        for element, i in enumerate(range(block.start, block.stop)):
            transforms.append((i, float(code[element]), float(ta[element]), float(tb[element])))
            if parameters.fixed(parameter, inputs):
                continue  # held at its value: no prior term
            order = (parameter.summed, element, position)
            priors.append((order, (i, float(kind[element]), float(a[element]), float(b[element]), float(term))))
    transforms.sort()
    return _runs(transforms), _runs([row for _, row in sorted(priors, key=lambda r: r[0])])


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

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.spec.dated import resolve_dated
    >>> packed = pack(resolve_dated(load_model("dated"), load_data()))
    >>> packed[H_KEY] == LAYOUT_KEY, int(packed[H_NDIM])
    (np.True_, 184)
    """
    layout = layout_of(inputs)
    U, J, K = len(inputs.unit), len(inputs.group), len(inputs.observation)
    active = np.ones(K, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    value = inputs.value if value is None else np.asarray(value, dtype=float)
    optr = np.zeros(K + 1)
    gptr = np.zeros(K + 1)
    oidx: list[int] = []
    gidx: list[int] = []
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

    grouped = inputs.unverified_group if len(inputs.unverified_group) == K else np.full(K, -1)
    typed = inputs.typed_numerator if len(inputs.typed_numerator) == K else np.zeros(K)
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
    transform, prior = _tables(inputs, layout)
    blocks = {
        "B_N": population,
        "B_X": inputs.covariate,
        "B_GROUP": inputs.unit_group,
        "B_UPLIFT": inputs.uplift,
        "B_OFFSET": inputs.offset,
        "B_REPORTED": inputs.reported,
        "B_TRANSFORM": transform,
        "B_PRIOR": prior,
        "B_KIND": inputs.kind,
        "B_LIKELIHOOD": likelihoods(inputs),
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
        "B_TYPED": typed,
        "B_UGROUP": grouped,
        "B_UWRONG": inputs.unverified_wrong,
        "B_UERROR": inputs.unverified_error,
    }
    header = np.zeros(HEADER)
    header[H_KEY] = LAYOUT_KEY
    header[H_NDIM] = layout.ndim
    header[H_WIDTH] = layout.width
    header[H_TC] = inputs.constant_from
    header[H_NU] = len(inputs.unverified_name)
    header[H_U], header[H_J], header[H_K] = U, J, K
    header[H_D], header[H_L] = len(inputs.database), len(inputs.uplift_name)
    header[H_FORM] = COMPOSITION if inputs.form == "composition" else LINEAR
    header[H_CE] = inputs.census_error
    header[H_EPS] = inputs.ramp_years
    header[H_CURVE] = campaign_curve(inputs)
    header[H_NTRANSFORM] = len(transform)
    header[H_NPRIOR] = len(prior)
    header[H_NTERMS] = len(parameters.prior_terms(parameters.DATED))
    for parameter in parameters.DATED:
        if parameter.slot is not None:
            block = layout.blocks[parameter.block]
            header[SLOT[parameter.slot]] = block.start if block.stop > block.start else -1
    parts, offset = [header], len(header)
    for slot, array in blocks.items():
        header[SLOT[slot]] = offset
        array = np.asarray(array, dtype=float).ravel()
        parts.append(array)
        offset += len(array)
    packed = np.concatenate(parts)
    packed[H_LEN] = len(packed)
    return packed


def precondition(packed: np.ndarray, centre: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The packed vector with an affine change of the sampler's coordinates appended: x = centre + scale ⊙ y.

    The compiled density then takes y (:func:`~dnamodel.inference.dated_kernel.logp_cfunc` maps it
    to x and scales the gradient by ``scale``) and stores x: a sampler whose mass matrix starts at
    the identity starts, in y, where a fit with posterior means ``centre`` and standard deviations
    ``scale`` ended its adaptation. Nothing else in the vector changes, so every function over
    draws reads it as the vector it was made from.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.spec.dated import resolve_dated
    >>> packed = pack(resolve_dated(load_model("dated"), load_data()))
    >>> n = int(packed[H_NDIM])
    >>> warm = precondition(packed, np.zeros(n), np.ones(n))
    >>> int(warm[H_AFFINE]) == len(packed), int(warm[H_LEN]) == len(packed) + 2 * n
    (True, True)
    """
    n = int(packed[H_NDIM])
    centre, scale = np.asarray(centre, dtype=float), np.asarray(scale, dtype=float)
    if centre.shape != (n,) or scale.shape != (n,) or not np.all(scale > 0):
        raise ValueError(f"an affine preconditioner needs {n} centres and {n} positive scales")
    base = packed[: int(packed[H_LEN])] if packed[H_AFFINE] == 0 else packed[: int(packed[H_AFFINE])]
    out = np.concatenate((base, centre, scale))
    out[H_AFFINE] = len(base)
    out[H_LEN] = len(out)
    return out


def likelihoods(inputs: DatedInputs) -> np.ndarray:
    """Each observation's likelihood code: a coverage, a share of its base, is logit-normal (section 5.7)."""
    return np.where(inputs.kind == COVERAGE, LOGIT_NORMAL_ERROR, LOG_NORMAL_ERROR)


def campaign_curve(inputs: DatedInputs) -> int:
    """The family of the campaign curve, as the kernel codes it (section 5.4)."""
    return CURVE_CODE[inputs.curve]


# --- the prior, on the unconstrained scale ------------------------------------------------------------


def _draw(kind: int, rng: np.random.Generator, shape: tuple[int, int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Draws of coordinates whose prior is of this kind, shape (draws, elements)."""
    if kind == STANDARD_NORMAL:
        return rng.standard_normal(shape)
    if kind in (NORMAL, LOGNORMAL):  # a log-normal value's coordinate is its log
        return rng.normal(a, b, shape)
    if kind == HALFNORMAL:
        return np.log(np.abs(rng.standard_normal(shape) * a))
    if kind == GAMMA:
        return np.log(rng.gamma(a, 1.0 / b, shape))
    share = rng.beta(a, b, shape)  # BETA, on the logit
    return np.log(share) - np.log1p(-share)


def draw_prior(inputs: DatedInputs, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of the unconstrained vector from the prior, shape (n, ndim).

    Parameter by parameter in the vector's order, each from its prior table's rows: the order in
    which the draws take random numbers is the vector's.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.spec.dated import resolve_dated
    >>> draw_prior(resolve_dated(load_model("dated"), load_data()), 5, np.random.default_rng(1)).shape
    (5, 184)
    """
    layout = layout_of(inputs)
    x = np.zeros((n, layout.ndim))
    for parameter in in_vector_order():
        block = layout.blocks[parameter.block]
        if block.stop == block.start or parameters.fixed(parameter, inputs):
            continue
        kind, a, b = parameters.prior_rows(parameter, inputs)
        for drawn in parameters.drawn_kinds(parameter, kind):
            values = _draw(drawn, rng, (n, block.stop - block.start), a, b)
            x[:, block][:, kind == drawn] = values[:, kind == drawn]
    return x


def _centre(kind: int, a: float, b: float) -> float:
    """Where a chain starts on a coordinate with this prior: its location, or 0 (a scale of 1, a lead of 1)."""
    if kind in (NORMAL, LOGNORMAL):
        return a
    if kind == BETA:
        share = a / (a + b)
        return math.log(share / (1 - share))
    return 0.0


def initial_point(inputs: DatedInputs) -> np.ndarray:
    """Where chains start, before nutpie's jitter: each prior's centre.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.spec.dated import resolve_dated
    >>> float(initial_point(resolve_dated(load_model("dated"), load_data()))[0])  # α's prior mean
    -0.5
    """
    layout = layout_of(inputs)
    x = np.zeros(layout.ndim)
    for parameter in in_vector_order():
        block = layout.blocks[parameter.block]
        if parameters.fixed(parameter, inputs):
            continue
        kind, a, b = parameters.prior_rows(parameter, inputs)
        for element, i in enumerate(range(block.start, block.stop)):
            x[i] = _centre(int(kind[element]), float(a[element]), float(b[element]))
    return x


BLOCKS = tuple((p.block, p.slot) for p in in_vector_order())
"""The blocks of the unconstrained vector, in order, and the header slot holding each one's index."""
