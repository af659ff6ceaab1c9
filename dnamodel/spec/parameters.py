"""The parameter registries: each Bayesian model's parameters, each described once.

One :class:`Parameter` per parameter says what the posterior calls it, how the model card writes
it, what it means (in one wording, with the study's words put in: :meth:`Parameter.meaning_in`), its
axis label, how the sampler's unconstrained coordinate maps to it (a transform with its inverse and
log-Jacobian), its prior (the spec key and the families admitted), its shape, when a model has it,
and what the checks do with it: whether the convergence gates apply to it, whether simulation-based
calibration ranks it, and whether its prior term is power-scaled. :data:`DATED` is the dated
model's registry (``docs/model.md``, section 5), :data:`HIERARCHICAL` the hierarchical model's
(section 4), and :data:`ESTIMAND` the quantities both estimate.

Every consumer reads the registry: the dated spec's prior keys and families
(:mod:`dnamodel.spec.dated`), the layout of the sampler's vector and its prior table
(:mod:`dnamodel.inference.dated_packing`), the posterior's variables, the gates, SBC and
power-scaling. Adding a parameter to the dated model is an entry here and its use in the two
implementations of the density (the compiled kernel and the PyMC twin); a parameter the density
only carries, with a prior from the spec, is an entry here alone (``tests/test_parameters.py``).

The numeric codes (:data:`TRANSFORMS`, :data:`PRIOR_KINDS`) are the compiled density's: the packed
vector gives each unconstrained coordinate a transform and a prior kind with two numbers, and the
kernel evaluates them in one loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dnamodel.data.study import NEUTRAL, Study

SCALAR, GROUP, UNIT, UPLIFT = "scalar", "group", "unit", "uplift"
"""Shapes: one value, one per group of units, per unit, per uplift group."""

# --- transforms: the sampler's coordinate x and the parameter's value v ----------------------------

IDENTITY, LOG, LOGIT, SHIFT, LEAD = 0, 1, 2, 3, 4
"""v = x; v = exp(x); v = σ(x); v = a + b·x (a start around a date: a the date, b its sd); v = a + b·exp(x)
(a start before or after the date a by a lead on the log scale: b = -1 or +1)."""
TRANSFORMS = {"identity": IDENTITY, "log": LOG, "logit": LOGIT, "shift": SHIFT, "lead": LEAD}

START_CODE = {"around": 0, "before": 1, "after": 2}
"""The kinds of start-date prior, as :class:`~dnamodel.spec.dated.DatedInputs` codes them."""


_FORWARD = {
    IDENTITY: lambda x, a, b: x,
    LOG: lambda x, a, b: np.exp(x),
    LOGIT: lambda x, a, b: 1.0 / (1.0 + np.exp(-x)),
    SHIFT: lambda x, a, b: a + b * x,
    LEAD: lambda x, a, b: a + b * np.exp(x),
}
_INVERSE = {
    IDENTITY: lambda v, a, b: v,
    LOG: lambda v, a, b: np.log(v),
    LOGIT: lambda v, a, b: np.log(v) - np.log1p(-v),
    SHIFT: lambda v, a, b: (v - a) / b,
    LEAD: lambda v, a, b: np.log((v - a) / b),
}
_LOG_JACOBIAN = {
    IDENTITY: lambda v, a, b: np.zeros_like(v),
    LOG: lambda v, a, b: np.log(v),
    LOGIT: lambda v, a, b: np.log(v * (1 - v)),
    SHIFT: lambda v, a, b: np.log(np.abs(b)) + np.zeros_like(v),
    LEAD: lambda v, a, b: np.log(np.abs(v - a)),
}


def _by_code(table: dict[int, Any], code: Any, v: Any, a: Any, b: Any) -> np.ndarray:
    """``table[code](v, a, b)``, elementwise along the last axis when ``code``, ``a``, ``b`` are per element."""
    v = np.asarray(v, dtype=float)
    code = np.asarray(code)
    if code.ndim == 0:
        return table[int(code)](v, a, b)
    a, b = np.broadcast_to(a, code.shape), np.broadcast_to(b, code.shape)
    out = np.empty(v.shape)
    for c in np.unique(code):
        mask = code == c
        out[..., mask] = table[int(c)](v[..., mask], a[mask], b[mask])
    return out


def to_value(code: Any, x: Any, a: Any = 0.0, b: Any = 0.0) -> np.ndarray:
    """The parameter's value from the sampler's coordinate ``x`` (NumPy; per element along the last axis).

    Examples
    --------
    >>> float(to_value(LOGIT, 0.0)), float(to_value(LEAD, 0.0, 2016.5, -1.0))
    (0.5, 2015.5)
    """
    return _by_code(_FORWARD, code, x, a, b)


def to_coordinate(code: Any, v: Any, a: Any = 0.0, b: Any = 0.0) -> np.ndarray:
    """The sampler's coordinate of the value ``v``: the inverse of :func:`to_value`.

    Examples
    --------
    >>> float(to_coordinate(LOGIT, 0.5)), float(to_coordinate(LEAD, 2015.5, 2016.5, -1.0))
    (0.0, 0.0)
    """
    return _by_code(_INVERSE, code, v, a, b)


def log_jacobian(code: Any, v: Any, a: Any = 0.0, b: Any = 0.0) -> np.ndarray:
    """The log-Jacobian log |dv/dx| at the value ``v``: what a density of ``v`` gains on the sampler's scale.

    Examples
    --------
    >>> float(log_jacobian(LOG, 2.0)) == float(np.log(2.0)), float(log_jacobian(SHIFT, 2018.0, 2018.0, 1.0))
    (True, 0.0)
    """
    return _by_code(_LOG_JACOBIAN, code, v, a, b)


def start_transforms(kind: Any, anchor: Any, scale: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each group's start transform ``(code, a, b)`` from its start prior (``START_CODE``, date, years).

    Around a date, the coordinate is standardised: t0 = date + sd·x. Before or after it, the
    coordinate is the lead's logarithm: t0 = date ∓ exp(x) (``docs/model.md``, section 5.4).
    """
    kind = np.asarray(kind)
    around = kind == START_CODE["around"]
    code = np.where(around, SHIFT, LEAD)
    sign = np.where(kind == START_CODE["before"], -1.0, 1.0)
    return code, np.asarray(anchor, dtype=float), np.where(around, np.asarray(scale, dtype=float), sign)


# --- priors: what the compiled density evaluates on each coordinate -------------------------------

NORMAL, STANDARD_NORMAL, HALFNORMAL, GAMMA, LOGNORMAL, BETA = range(6)
"""Prior kinds, each a log density of the coordinate, Jacobian included, with two numbers (a, b):
Normal(a, b) of x; Normal(0, 1) of x; HalfNormal(a) of exp(x); Gamma(a, rate b) of exp(x);
LogNormal(a, b) of exp(x), that is Normal(a, b) of x; Beta(a, b) of σ(x)."""
PRIOR_KINDS = {
    ("normal", "identity"): NORMAL,
    ("halfnormal", "log"): HALFNORMAL,
    ("gamma", "log"): GAMMA,
    ("lognormal", "log"): LOGNORMAL,
    ("beta", "logit"): BETA,
    ("around", "start"): STANDARD_NORMAL,
    ("before", "start"): HALFNORMAL,
    ("after", "start"): HALFNORMAL,
}
"""The kind of each prior family on each transform (a prior stated on the coordinate is on ``identity``)."""

PRIOR_NUMBERS = {
    "normal": ("mu", "sigma"),
    "halfnormal": ("sigma", None),
    "gamma": ("alpha", "beta"),
    "lognormal": ("mu", "sigma"),
    "beta": ("alpha", "beta"),
}
"""Which fields of a spec's prior are the kind's two numbers (a, b)."""


# --- the registry's entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One parameter of a model, described once for every consumer.

    Attributes
    ----------
    name : str
        As the posterior names it (a standard-normal effect that the posterior does not hold: its
        block's name).
    symbol : str
        As the model card writes it.
    meaning : str
        What it is, in one wording; ``{group}``, ``{groups}``, ``{covariate}``, ``{unit}`` and ``{persons}``
        stand for the study's words (:meth:`meaning_in`).
    without_covariate : str
        What it is in a model without a covariate term (a dated spec naming no covariate), where
        :attr:`meaning` names the covariate; empty when the same.
    units : str
        Its scale and units, for an axis: ``axis_in`` is ``meaning (units)``.
    block : str
        The block of the sampler's unconstrained vector that holds its coordinates (dated model).
    transform : str
        From coordinate to value: ``identity``, ``log``, ``logit``, or ``start`` (each group's
        :func:`start_transforms`).
    prior : str or None
        The spec key of its prior (``fraction.alpha``; ``campaign.start.GROUP`` and
        ``population.uplift.NAME.log_uplift`` for one per group); None for a standard normal the
        model fixes.
    families : tuple of str
        The prior families the spec admits, in the order their prior draws take random numbers.
    shape : str
        :data:`SCALAR`, :data:`GROUP`, :data:`UNIT` or :data:`UPLIFT`.
    when : str
        When a model has it: ``always``, ``databases`` (the spec names a database), ``census_error``
        (a census error above 0), or a parameter's name (the spec gives that parameter's prior).
    gated, sbc, power_scaled : bool
        Whether the convergence gates apply to it (a scalar), whether simulation-based calibration
        ranks it (each element), whether its prior term is power-scaled.
    term : str
        The term of the log prior its prior is summed in (``effects`` for the standard normals).
    prior_on_value : bool
        Whether the spec's prior is a density of the value (else of the coordinate: the log uplift).
    source : str
        Where its prior's numbers per element come from: ``spec`` (the one prior the spec gives),
        ``start``, ``pace``, ``uplift`` (the resolved inputs' arrays), or ``standard``.
    mixed : bool
        Whether its elements' priors may be of different families (each group's start prior).
    optional : bool
        Whether the spec may leave its prior out (the model then lacks it).
    slot : str or None
        The packed header's slot holding its block's position, for the density that reads it.
    vector, summed : int
        The position of its block in the unconstrained vector, and of its prior term in the
        compiled density's sum. Both fix floating-point order, so the sampler's draws: a new
        parameter takes the next free ones.
    posterior : bool
        Whether the posterior holds its value.
    """

    name: str
    symbol: str
    meaning: str
    units: str
    block: str = ""
    transform: str = "identity"
    prior: str | None = None
    families: tuple[str, ...] = ()
    shape: str = SCALAR
    when: str = "always"
    gated: bool = False
    sbc: bool = False
    power_scaled: bool = False
    term: str = ""
    prior_on_value: bool = True
    source: str = "spec"
    mixed: bool = False
    optional: bool = False
    slot: str | None = None
    vector: int = -1
    summed: int = -1
    posterior: bool = True
    without_covariate: str = ""

    def meaning_in(self, study: Study | None = None, covariate: str = "", *, covariate_term: bool = True) -> str:
        """:attr:`meaning` in a study's words; ``covariate`` is the covariate's column (its label is used).

        ``covariate_term`` False: the meaning in a model without a covariate term (:attr:`without_covariate`).

        Examples
        --------
        >>> alpha = find("alpha", DATED)
        >>> alpha.meaning_in(covariate_term=False)
        "logit fraction at saturation of an average unit's residents"
        """
        text = self.meaning if covariate_term or not self.without_covariate else self.without_covariate
        return words(text, study, covariate)

    def axis_in(self, study: Study | None = None, covariate: str = "", *, covariate_term: bool = True) -> str:
        """An axis label: the meaning and, in parentheses, the units."""
        meaning = self.meaning_in(study, covariate, covariate_term=covariate_term)
        return f"{meaning} ({words(self.units, study, covariate)})"

    @property
    def scalar(self) -> bool:
        """Whether it is one number per draw."""
        return self.shape == SCALAR


@dataclass(frozen=True)
class Quantity:
    """A quantity derived from the parameters that the checks and outputs name (the estimand)."""

    name: str
    symbol: str
    meaning: str
    units: str
    gated: bool = True
    sbc: bool = False

    def meaning_in(self, study: Study | None = None, covariate: str = "") -> str:
        """:attr:`meaning` in a study's words."""
        return words(self.meaning, study, covariate)

    def axis_in(self, study: Study | None = None, covariate: str = "") -> str:
        """An axis label: the meaning and, in parentheses, the units."""
        return f"{self.meaning_in(study, covariate)} ({words(self.units, study, covariate)})"


def words(text: str, study: Study | None = None, covariate: str = "") -> str:
    """``text`` with the study's words put in.

    Examples
    --------
    >>> words("spread between {groups}' logit fractions")
    "spread between groups' logit fractions"
    """
    study = study or NEUTRAL
    label = study.label(covariate) if covariate else "the covariate"
    return text.format(
        group=study.words.group,
        groups=study.groups_word,
        covariate=label,
        unit=study.words.unit,
        persons=study.words.persons,
    )


# --- the dated model (docs/model.md, section 5) ------------------------------------------------------

_SCALE = ("halfnormal", "gamma", "lognormal")
DATED: tuple[Parameter, ...] = (
    Parameter(
        "alpha",
        "α",
        "logit fraction at saturation of an average unit's residents outside the covariate's group",
        "logit scale",
        without_covariate="logit fraction at saturation of an average unit's residents",
        block="alpha",
        prior="fraction.alpha",
        families=("normal",),
        gated=True,
        sbc=True,
        power_scaled=True,
        term="alpha",
        slot="P_ALPHA",
        vector=0,
        summed=0,
    ),
    Parameter(
        "contrast",
        "θ",
        "log odds ratio of the covariate's group ({covariate}) against the others, or (linear form) the "
        "change in logit fraction per sd of the covariate",
        "logit scale",
        block="contrast",
        prior="fraction.contrast",
        families=("normal",),
        when="contrast",
        gated=True,
        sbc=True,
        power_scaled=True,
        term="contrast",
        optional=True,
        slot="P_THETA",
        vector=5,
        summed=1,
    ),
    Parameter(
        "group_sd",
        "σ_g",
        "spread between {groups}' logit fractions",
        "logit scale, sd",
        block="log_group_sd",
        transform="log",
        prior="fraction.group_sd",
        families=_SCALE,
        when="group_sd",
        gated=True,
        sbc=True,
        power_scaled=True,
        term="group_sd",
        optional=True,
        slot="P_LSP",
        vector=1,
        summed=3,
    ),
    Parameter(
        "unit_sd",
        "σ_u",
        "spread between the units of one {group}",
        "logit scale, sd",
        block="log_unit_sd",
        transform="log",
        prior="fraction.unit_sd",
        families=_SCALE,
        gated=True,
        sbc=True,
        power_scaled=True,
        term="unit_sd",
        slot="P_LSU",
        vector=3,
        summed=5,
    ),
    Parameter(
        "reported",
        "δ",
        "offset of the units a local report counts alone, which sources chose to publicise",
        "logit scale",
        block="reported",
        prior="fraction.reported",
        families=("normal",),
        when="reported",
        gated=True,
        sbc=True,
        power_scaled=True,
        term="reported",
        optional=True,
        slot="P_DELTA",
        vector=12,
        summed=2,
    ),
    Parameter(
        "start",
        "t0",
        "when each {group}'s campaign started",
        "decimal year",
        block="start_raw",
        transform="start",
        prior="campaign.start.GROUP",
        families=("before", "after", "around"),
        shape=GROUP,
        sbc=True,
        power_scaled=True,
        term="start",
        source="start",
        mixed=True,
        slot="P_V",
        vector=6,
        summed=7,
    ),
    Parameter(
        "pace",
        "r",
        "each {group}'s pace towards saturation",
        "per year",
        block="log_pace",
        transform="log",
        prior="campaign.pace",
        families=("lognormal",),
        shape=GROUP,
        sbc=True,
        power_scaled=True,
        term="pace",
        source="pace",
        slot="P_RHO",
        vector=7,
        summed=7,
    ),
    Parameter(
        "typed_share",
        "κ",
        "share of the collected {unit} typed into the database",
        "0 to 1",
        block="logit_typed_share",
        transform="logit",
        prior="databases.typed_share",
        families=("beta",),
        when="databases",
        gated=True,
        sbc=True,
        power_scaled=True,
        term="typed_share",
        slot="P_KAPPA",
        vector=8,
        summed=8,
    ),
    Parameter(
        "baseline_per_resident",
        "b",
        "profiles a database held before the campaign, per resident",
        "per person",
        block="log_baseline",
        transform="log",
        prior="databases.baseline_per_resident",
        families=("lognormal",),
        when="databases",
        gated=True,
        sbc=True,
        power_scaled=True,
        term="baseline_per_resident",
        slot="P_LB",
        vector=9,
        summed=9,
    ),
    Parameter(
        "uplift",
        "λ",
        "residents an uplift area's collection counts, over its census population "
        "(λ = exp(ℓ), the log uplift ℓ the spec's prior is on)",
        "ratio",
        block="log_uplift",
        transform="log",
        prior="population.uplift.NAME.log_uplift",
        families=("normal",),
        shape=UPLIFT,
        power_scaled=True,
        term="uplift",
        prior_on_value=False,
        source="uplift",
        slot="P_LAM",
        vector=10,
        summed=10,
    ),
    Parameter(
        "group_z",
        "w_j",
        "a {group}'s standardised effect: σ_g·w_j on the logit scale",
        "sd",
        block="group_z",
        shape=GROUP,
        when="group_sd",
        term="effects",
        source="standard",
        slot="P_W",
        vector=2,
        summed=4,
        posterior=False,
    ),
    Parameter(
        "unit_z",
        "z_u",
        "a unit's standardised deviation: σ_u·z_u on the logit scale",
        "sd",
        block="unit_z",
        shape=UNIT,
        term="effects",
        source="standard",
        slot="P_Z",
        vector=4,
        summed=6,
        posterior=False,
    ),
    Parameter(
        "census_z",
        "e_u",
        "a unit's census error: its population is its census count times exp(c·e_u)",
        "sd",
        block="census_z",
        shape=UNIT,
        when="census_error",
        term="effects",
        source="standard",
        slot="P_E",
        vector=11,
        summed=11,
        posterior=False,
    ),
)
"""The dated model's parameters, in the order the model card lists them (section 5.8)."""

# --- the hierarchical model (docs/model.md, section 4) -------------------------------------------------

_REAL, _POSITIVE = ("normal", "student_t"), ("halfnormal", "halfstudent_t", "exponential")
HIERARCHICAL: tuple[Parameter, ...] = (
    Parameter(
        "alpha",
        "α",
        "logit collection fraction of a unit at the covariate's average ({covariate})",
        "logit scale",
        prior="fraction.alpha",
        families=_REAL,
        gated=True,
        sbc=True,
        power_scaled=True,
        term="alpha",
    ),
    Parameter(
        "beta",
        "β",
        "change in logit fraction per standard deviation of the covariate ({covariate}; per stratum "
        "in the two-stratum variant)",
        "logit per sd",
        prior="fraction.beta",
        families=_REAL,
        when="beta",
        gated=True,
        sbc=True,
        power_scaled=True,
        term="beta",
    ),
    Parameter(
        "sigma",
        "σ",
        "spread of units' logit fractions beyond the covariate",
        "logit scale, sd",
        transform="log",
        prior="fraction.sigma",
        families=_POSITIVE,
        when="sigma",
        gated=True,
        sbc=True,
        power_scaled=True,
        term="sigma",
    ),
    Parameter(
        "log_uplift",
        "ℓ",
        "log of the uplift areas' resident base over their census population (temporary "
        "residents): their census base is multiplied by exp(ℓ)",
        "log scale",
        prior="population.log_uplift",
        families=_REAL,
        when="log_uplift",
        gated=True,
        power_scaled=True,
        term="log_uplift",
    ),
    Parameter(
        "tau",
        "τ",
        "spread of the within-county rows' logit fractions",
        "logit scale, sd",
        transform="log",
        prior="within_county.tau",
        families=_POSITIVE,
        when="tau",
        gated=True,
        power_scaled=True,
        term="tau",
    ),
    Parameter(
        "row_centre",
        "c_L",
        "the within-county rows' free centre",
        "logit scale",
        prior="within_county.centre_prior",
        families=_REAL,
        when="row_centre",
        gated=True,
        power_scaled=True,
        term="row_centre",
    ),
    Parameter(
        "pace",
        "p",
        "database growth after mid-2020, relative to January-June 2020 (integrated out)",
        "ratio",
        transform="log",
        prior="thesis.pace",
        families=("halfnormal", "exponential"),
        when="pace",
        term="pace",
        posterior=False,
    ),
)
"""The hierarchical model's top-level parameters (section 4.8); its unit-level effects are PyMC's."""

ESTIMAND: tuple[Quantity, ...] = (
    Quantity("total", "T", "{persons} counted by the estimand's date", "{persons}", sbc=True),
    Quantity("share", "T / population", "the total as a share of the population", "0 to 1"),
)
"""What both models estimate; the gates apply to both, and SBC ranks the total."""

# --- questions the consumers ask ---------------------------------------------------------------------


def present(parameter: Parameter, inputs: Any) -> bool:
    """Whether a model resolved to ``inputs`` (a dated model's) has the parameter."""
    if parameter.when == "always":
        return True
    if parameter.when == "databases":
        return bool(inputs.database)
    if parameter.when == "census_error":
        return inputs.census_error > 0
    return parameter.when in inputs.priors


def size(parameter: Parameter, inputs: Any) -> int:
    """How many coordinates it has in a dated model resolved to ``inputs`` (0 when absent)."""
    if not present(parameter, inputs):
        return 0
    by_shape = {SCALAR: 1, GROUP: len(inputs.group), UNIT: len(inputs.unit), UPLIFT: len(inputs.uplift_name)}
    return by_shape[parameter.shape]


def names(
    registry: tuple[Parameter, ...], *, gated: bool = False, sbc: bool = False, scalar: bool = False
) -> tuple[str, ...]:
    """The names of a model's parameters with the properties asked for, in the registry's order.

    Examples
    --------
    >>> names(HIERARCHICAL, sbc=True)
    ('alpha', 'beta', 'sigma')
    """
    return tuple(
        p.name
        for p in registry
        if (p.gated or not gated) and (p.sbc or not sbc) and (p.scalar or not scalar) and p.posterior
    )


def gated_names() -> tuple[str, ...]:
    """Every name the gates apply to, whatever the model: the hierarchical, the dated, the estimand.

    Examples
    --------
    >>> gated_names()[-2:]
    ('total', 'share')
    """
    found = [*names(HIERARCHICAL, gated=True), *names(DATED, gated=True), *(q.name for q in ESTIMAND if q.gated)]
    return tuple(dict.fromkeys(found))


def scalar_names() -> tuple[str, ...]:
    """Every parameter a figure of scalars may draw: the hierarchical model's, then the dated model's not named.

    Examples
    --------
    >>> scalar_names()[:7]
    ('alpha', 'beta', 'sigma', 'log_uplift', 'tau', 'row_centre', 'pace')
    """
    found = [p.name for p in HIERARCHICAL] + [p.name for p in DATED if p.scalar and p.posterior]
    return tuple(dict.fromkeys(found))


def prior_terms(registry: tuple[Parameter, ...]) -> tuple[str, ...]:
    """The terms of a model's log prior, in the registry's order (each once)."""
    return tuple(dict.fromkeys(p.term for p in registry if p.term))


def power_scaled_terms(registry: tuple[Parameter, ...]) -> tuple[str, ...]:
    """The prior terms power-scaling scales (the top-level priors; not ``effects``)."""
    return tuple(dict.fromkeys(p.term for p in registry if p.power_scaled))


def spec_priors(registry: tuple[Parameter, ...]) -> tuple[Parameter, ...]:
    """The parameters whose one prior the spec gives at a fixed key (``fraction.alpha``, ``campaign.pace``).

    The others have a prior per group or uplift group (``campaign.start.GROUP``), or none.
    """
    return tuple(p for p in registry if p.prior and not any(part.isupper() for part in p.prior.split(".")))


def find(name: str, registry: tuple[Parameter, ...] | None = None) -> Parameter | Quantity | None:
    """The entry named ``name``: in ``registry`` (else the dated, then the hierarchical), or the estimand's.

    Examples
    --------
    >>> find("contrast").symbol, find("total").symbol, find("sigma", HIERARCHICAL).symbol
    ('θ', 'T', 'σ')
    """
    entries: tuple[Parameter | Quantity, ...] = (
        *(registry if registry is not None else (*DATED, *HIERARCHICAL)),
        *ESTIMAND,
    )
    for entry in entries:
        if entry.name == name:
            return entry
    return None


# --- a dated parameter's prior and transform, element by element ------------------------------------


def prior_rows(parameter: Parameter, inputs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each coordinate's prior kind and its two numbers ``(kind, a, b)`` in a dated model.

    ``inputs`` are the resolved inputs: a spec's prior is read from ``inputs.priors``, a start,
    pace or uplift prior from the inputs' arrays, which refits change (power-scaling).
    """
    n = size(parameter, inputs)
    if n == 0:
        return np.zeros(0, int), np.zeros(0), np.zeros(0)
    if parameter.source == "standard":
        return np.full(n, STANDARD_NORMAL), np.zeros(n), np.zeros(n)
    if parameter.source == "start":
        around = inputs.start_kind == START_CODE["around"]
        # an around start's coordinate is standardised: its sd is kept as a (its draw never reads it)
        return np.where(around, STANDARD_NORMAL, HALFNORMAL), np.asarray(inputs.start_scale, float), np.zeros(n)
    if parameter.source == "pace":
        return np.full(n, LOGNORMAL), np.asarray(inputs.pace_mu, float), np.asarray(inputs.pace_sd, float)
    if parameter.source == "uplift":
        return np.full(n, NORMAL), np.asarray(inputs.uplift_mu, float), np.asarray(inputs.uplift_sd, float)
    prior = inputs.priors[parameter.name]
    scale = parameter.transform if parameter.prior_on_value else "identity"
    kind = PRIOR_KINDS[(prior.dist, scale)]
    first, second = PRIOR_NUMBERS[prior.dist]
    a = getattr(prior, first)
    b = getattr(prior, second) if second else 0.0
    return np.full(n, kind), np.full(n, float(a)), np.full(n, float(b))


def transform_rows(parameter: Parameter, inputs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each coordinate's transform and its two numbers ``(code, a, b)`` in a dated model."""
    n = size(parameter, inputs)
    if parameter.transform == "start" and n > 0:
        return start_transforms(inputs.start_kind, inputs.start_anchor, inputs.start_scale)
    return np.full(n, TRANSFORMS[parameter.transform]), np.zeros(n), np.zeros(n)


def drawn_kinds(parameter: Parameter, kinds: np.ndarray) -> tuple[int, ...]:
    """The prior kinds whose draws fill the parameter, in the order they take random numbers.

    One per parameter; a parameter whose elements each have their own family (``mixed``) draws
    every kind its families admit, whichever its elements have, so that its draws do not depend on them.
    """
    if parameter.mixed:
        return tuple(dict.fromkeys(PRIOR_KINDS[(family, parameter.transform)] for family in parameter.families))
    return tuple(dict.fromkeys(int(k) for k in kinds))
