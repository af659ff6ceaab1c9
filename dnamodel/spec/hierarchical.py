"""The hierarchical model's spec: its TOML schema, priors included.

A hierarchical spec says ``kind = "hierarchical"`` in its ``[model]`` table. Its other
tables are, in order of the model card (``docs/model.md``, section 4):

``[fraction]``
    How each unit's collection fraction depends on its covariate (a numeric column of
    ``units.csv``, ``covariate``, the Han share by default): the ``variant`` (``"han_share"``: the
    covariate, standardised; ``"two_stratum"``: the areas in ``high_han`` against the rest; or
    ``"pooled"``) and the priors of α, β, σ.
``[population]``
    The census error, and the uplift from census to resident population where it applies.
``[observations.NAME]``
    Each observation: which samples (an expression over observation ids), over which
    units, on which population base, with what reporting error.
``[within_county]``
    Rows that inform how much collection varies inside one unit (a table of its villages).
``[thesis]`` (optional)
    A database count as a lower bound on the total (the bundled specs: the 2020 police thesis).
``[sampler]``
    Draws, tuning steps, chains and seed.

:func:`dnamodel.load_model` reads such a file into a :class:`HierarchicalSpec`
(:func:`parse_hierarchical` validates its tables); every error names the file and the key.
:func:`dnamodel.spec.resolve.resolve_hierarchical` then resolves it against the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field

from dnamodel.errors import DataError, Problem, did_you_mean
from dnamodel.spec.base import ModelName, SpecIdentity, _Strict, _validate  # shared with Monte Carlo specs
from dnamodel.spec.expressions import ExpressionError, parse_expression

VARIANTS = ("han_share", "two_stratum", "pooled")
"""How a unit's fraction depends on its covariate."""

TABLES = ("model", "fraction", "population", "observations", "within_county", "thesis", "sampler")


# --- priors ------------------------------------------------------------------------------------

MAX_SEED = 2**63 - 1
"""Largest seed: a seed is stored with a fit as a 64-bit integer."""

MAX_TUNE = 1_000_000
"""Most tuning steps per chain: far beyond any fit's need (a fit tunes 1,000 to 1,500), and below what
the samplers' integers hold."""

PRIOR_LIMIT = 50.0
"""Largest size of a prior's location and scale. The priors are on logits and logs, where 50 is
already beyond any belief (e^50 ≈ 5 × 10^21), and a draw seven scales out from a location of
that size, 400, still has a finite exponential; ``sigma = 1e308`` would overflow the sampler."""

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Location = Annotated[float, Field(ge=-PRIOR_LIMIT, le=PRIOR_LIMIT, allow_inf_nan=False)]
Scale = Annotated[float, Field(gt=0, le=PRIOR_LIMIT, allow_inf_nan=False)]
LogError = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]
"""A reporting error: the standard deviation of a log count. 10 is a factor of e^10 ≈ 22,000 either way."""
Years = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]


class _Prior(_Strict):
    """A prior family's table; ``str(prior)`` writes it as the model card does (:func:`prior_text`)."""

    def __str__(self) -> str:
        return prior_text(self)  # type: ignore[arg-type]


class NormalPrior(_Prior):
    """``normal(mu, sigma)`` on the real line."""

    dist: Literal["normal"]
    mu: Location = 0.0
    sigma: Scale


class StudentTPrior(_Prior):
    """``student_t(nu, mu, sigma)`` on the real line: a normal with heavier tails."""

    dist: Literal["student_t"]
    nu: Positive
    mu: Location = 0.0
    sigma: Scale


class HalfNormalPrior(_Prior):
    """``halfnormal(sigma)`` on the positive half-line."""

    dist: Literal["halfnormal"]
    sigma: Scale


class HalfStudentTPrior(_Prior):
    """``halfstudent_t(nu, sigma)`` on the positive half-line."""

    dist: Literal["halfstudent_t"]
    nu: Positive
    sigma: Scale


class ExponentialPrior(_Prior):
    """``exponential(scale)`` on the positive half-line; ``scale`` is the mean."""

    dist: Literal["exponential"]
    scale: Scale


class GammaPrior(_Prior):
    """``gamma(alpha, beta)`` on the positive half-line: shape ``alpha``, rate ``beta`` (mean alpha/beta)."""

    dist: Literal["gamma"]
    alpha: Scale
    beta: Scale


class LogNormalPrior(_Prior):
    """``lognormal(mu, sigma)``: the log of the parameter is ``normal(mu, sigma)``."""

    dist: Literal["lognormal"]
    mu: Location = 0.0
    sigma: Scale


class BetaPrior(_Prior):
    """``beta(alpha, beta)`` on the unit interval."""

    dist: Literal["beta"]
    alpha: Scale
    beta: Scale


PRIOR_TABLES: dict[str, type[_Strict]] = {
    "normal": NormalPrior,
    "student_t": StudentTPrior,
    "halfnormal": HalfNormalPrior,
    "halfstudent_t": HalfStudentTPrior,
    "exponential": ExponentialPrior,
    "gamma": GammaPrior,
    "lognormal": LogNormalPrior,
    "beta": BetaPrior,
}
"""Each prior family's table, by its ``dist``; a model's registry says which it admits for each parameter."""
REAL_PRIORS = {"normal": NormalPrior, "student_t": StudentTPrior}
POSITIVE_PRIORS = {"halfnormal": HalfNormalPrior, "halfstudent_t": HalfStudentTPrior, "exponential": ExponentialPrior}
PACE_PRIORS = {"halfnormal": HalfNormalPrior, "exponential": ExponentialPrior}
Prior = (
    NormalPrior
    | StudentTPrior
    | HalfNormalPrior
    | HalfStudentTPrior
    | ExponentialPrior
    | GammaPrior
    | LogNormalPrior
    | BetaPrior
)


def prior_text(prior: Prior) -> str:
    """The prior as the model card writes it.

    Examples
    --------
    >>> prior_text(NormalPrior(dist="normal", mu=-1.0, sigma=1.5))
    'Normal(-1, 1.5)'
    >>> str(NormalPrior(dist="normal", mu=-1.0, sigma=1.5))
    'Normal(-1, 1.5)'
    """
    p = prior.model_dump(exclude={"dist"})
    name = {
        "normal": "Normal",
        "student_t": "StudentT",
        "halfnormal": "HalfNormal",
        "halfstudent_t": "HalfStudentT",
        "exponential": "Exponential(scale)",
        "gamma": "Gamma",
        "lognormal": "LogNormal",
        "beta": "Beta",
    }[prior.dist]
    return f"{name}({', '.join(f'{v:g}' for v in p.values())})"


# --- the tables ---------------------------------------------------------------------------------


class HierarchicalHeader(_Strict):
    """The ``[model]`` table of a hierarchical spec."""

    name: ModelName
    kind: Literal["hierarchical"]
    description: str


class FractionSpec(_Strict):
    """``[fraction]``: ``logit π_u = α + β·x_u + σ·z_u`` and its variants.

    ``covariate`` names the numeric column of ``units.csv`` the ``han_share`` variant standardises;
    ``high_han`` lists the areas the ``two_stratum`` variant sets apart (required by it).
    """

    variant: Literal["han_share", "two_stratum", "pooled"]
    covariate: str = "han_share_2020"
    high_han: list[str] | None = None
    alpha: dict[str, Any]
    beta: dict[str, Any] | None = None
    sigma: dict[str, Any] | None = None


class PopulationSpec(_Strict):
    """``[population]``: census error and the resident uplift."""

    census_error: Annotated[float, Field(ge=0, le=0.5, allow_inf_nan=False)]
    uplift_areas: list[str] = Field(default_factory=list)
    log_uplift: dict[str, Any] | None = None


class ObservationSpec(_Strict):
    """``[observations.NAME]``: one observed count and how the model relates it to fractions."""

    samples: str
    units: list[str]
    exclude: list[str] = Field(default_factory=list)
    base: str | list[str] = "census"
    error: LogError
    note: str = ""


class WithinCountySpec(_Strict):
    """``[within_county]``: rows inside one unit that inform within-county variation τ."""

    unit: str
    rows: list[str]
    centre: Literal["free", "county"] = "free"
    error: LogError
    tau: dict[str, Any]
    centre_prior: dict[str, Any] | None = None
    note: str = ""


class ThesisSpec(_Strict):
    """``[thesis]``: a database count as a lower bound on the total (optional)."""

    use: bool
    stock: str
    added: str
    added_years: Years
    years: Years
    pace: dict[str, Any]
    tolerance: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class SamplerSpec(_Strict):
    """``[sampler]``: default sampling settings, which callers may override."""

    draws: Annotated[int, Field(ge=10)] = 1000
    tune: Annotated[int, Field(ge=10, le=MAX_TUNE)] = 1000
    chains: Annotated[int, Field(ge=1, le=64)] = 4
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 20220913
    target_accept: Annotated[float, Field(gt=0.5, lt=1)] = 0.9


@dataclass(frozen=True)
class HierarchicalSpec(SpecIdentity):
    """A validated hierarchical spec, before resolution against the data.

    Attributes
    ----------
    header, fraction, population, observations, within_county, thesis, sampler
        The validated tables; ``within_county`` and ``thesis`` may be ``None``.
    priors : dict of str to Prior
        Every prior of the spec keyed by its parameter (``alpha``, ``beta``, ``sigma``,
        ``log_uplift``, ``tau``, ``row_centre``, ``pace``).
    path, text : str
        The file, and its text for provenance.
    """

    header: HierarchicalHeader
    fraction: FractionSpec
    population: PopulationSpec
    observations: dict[str, ObservationSpec]
    within_county: WithinCountySpec | None
    thesis: ThesisSpec | None
    sampler: SamplerSpec
    priors: dict[str, Prior]
    path: str
    text: str
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


def parse_hierarchical(raw: dict[str, Any], text: str, file: str) -> HierarchicalSpec:
    """Validate the tables of a hierarchical spec (``raw`` is the parsed TOML).

    Raises
    ------
    DataError
        Listing every problem, each naming the file and the dotted key.
    """
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(file, None, key, message))

    for key in raw:
        if key not in TABLES:
            report(key, f"unknown table{did_you_mean(key, TABLES)}")
    header = _validate(HierarchicalHeader, raw.get("model"), "model", report)
    fraction = _validate(FractionSpec, raw.get("fraction"), "fraction", report)
    population = _validate(PopulationSpec, raw.get("population"), "population", report)
    thesis = _validate(ThesisSpec, raw["thesis"], "thesis", report) if "thesis" in raw else None
    sampler = _validate(SamplerSpec, raw.get("sampler", {}), "sampler", report)
    within = None
    if "within_county" in raw:
        within = _validate(WithinCountySpec, raw["within_county"], "within_county", report)
    observations: dict[str, ObservationSpec] = {}
    tables = raw.get("observations")
    if not isinstance(tables, dict) or not tables:
        report("observations", "missing: at least one [observations.NAME] table")
        tables = {}
    for name, table in tables.items():
        parsed = _validate(ObservationSpec, table, f"observations.{name}", report)
        if parsed is not None:
            observations[name] = parsed

    priors: dict[str, Prior] = {}

    def prior(name: str, table: Any, key: str, families: dict[str, type[_Strict]]) -> None:
        if table is None:
            report(key, f"missing: the prior of {name}")
            return
        dist = table.get("dist")
        if dist not in families:
            allowed = ", ".join(families)
            report(f"{key}.dist", f"unknown prior family {dist!r}{did_you_mean(str(dist), families)}; use {allowed}")
            return
        parsed = _validate(families[dist], table, key, report)
        if parsed is not None:
            priors[name] = parsed

    if fraction is not None:
        if fraction.variant == "two_stratum" and not fraction.high_han:
            report("fraction.high_han", "missing: the two-stratum variant names the areas it sets apart")
        prior("alpha", fraction.alpha, "fraction.alpha", REAL_PRIORS)
        if fraction.variant == "pooled":
            for unused in ("beta", "sigma"):
                if getattr(fraction, unused) is not None:
                    report(f"fraction.{unused}", "the pooled variant has no such parameter; remove it")
        else:
            prior("beta", fraction.beta, "fraction.beta", REAL_PRIORS)
            prior("sigma", fraction.sigma, "fraction.sigma", POSITIVE_PRIORS)
    # With no uplift areas the uplift's prior is kept but unused, so that a sweep can switch the
    # uplift off by emptying the list alone.
    if population is not None and population.uplift_areas:
        prior("log_uplift", population.log_uplift, "population.log_uplift", REAL_PRIORS)
    if within is not None:
        prior("tau", within.tau, "within_county.tau", POSITIVE_PRIORS)
        if within.centre == "free":
            prior("row_centre", within.centre_prior, "within_county.centre_prior", REAL_PRIORS)
        elif within.centre_prior is not None:
            report("within_county.centre_prior", "only a free centre has a prior; remove it or set centre = 'free'")
    if thesis is not None:
        # The pace is integrated out through its CDF, which PyMC has in closed form for these two.
        prior("pace", thesis.pace, "thesis.pace", PACE_PRIORS)
    for name, obs in observations.items():
        _check_expression(obs.samples, f"observations.{name}.samples", report)

    if problems or None in (header, fraction, population, sampler) or ("thesis" in raw and thesis is None):
        raise DataError(problems)
    return HierarchicalSpec(
        header, fraction, population, observations, within, thesis, sampler, priors, file, text, raw
    )


def _check_expression(expression: str, key: str, report: Any) -> None:
    try:
        parse_expression(expression, unary=False, allowed="observation ids, numbers and + - * /")
    except ExpressionError as error:
        report(key, str(error))
