"""The dated model's spec: its TOML schema, and its resolution against the data.

A dated spec says ``kind = "dated"`` in its ``[model]`` table. It models each unit's cumulative
collection over time, and fits every observation at its own date (``docs/model.md``, section 5).
Its tables:

``[estimand]``
    The date the total refers to: ``C(date) = Σ_u C_u(date)``.
``[fraction]``
    The covariate (a numeric column of ``units.csv``; optional) and its ``form``: ``"composition"``
    (the covariate is the share of a second group, collected at odds ``exp(θ)`` times the first's) or
    ``"linear"`` (θ is a slope on the logit scale per standard deviation); the priors of α, θ (with a
    covariate only), the group and unit spreads, the offset of reported units, and a fixed offset of
    the others. Without a covariate the model has no covariate term: no θ, no form.
``[campaign]``
    The curve's family (``curve``: ``"saturating"``, the default; ``"logistic"``; or
    ``"constant_after"``, saturating until ``constant_from`` and at that date's rate after it, by
    default the date of the last region-wide figure), the ramp, the prior of each group's pace,
    and each group's start prior (a ``default`` and overrides by group id): ``{around = DATE,
    sd_years = S}``, ``{before = DATE, scale_years = S}`` or ``{after = DATE, scale_years = S}``.
``[population]``
    The census error, and uplift groups: areas (less any ``exclude``) whose collection also counts
    residents the census omits, each with the prior of its log uplift.
``[databases]``
    Named databases, each over a list of places, with the priors of the typed share κ and of the
    baseline profiles per resident b, shared by all of them. Any scalar parameter's prior may be
    ``{dist = "fixed", value = V}``: the parameter is then not sampled but held at V.
``[observations.NAME]``
    Each observation: its ``kind`` (``count``, ``database``, ``database_share``, ``coverage``),
    its ``value`` (an expression over observation ids), its ``date`` and, for an increment,
    ``since``; whether it is a ``bound``; its places, base, database and error; and ``use``
    (default true): ``use = false`` leaves the observation out of the model, as if the spec did
    not have it, so that a sweep can switch a source off (``observations.thesis_stock.use``). A
    ``database_share``'s ``numerator`` is ``"profiles"`` (the default: the places' typed profiles
    κ·C over the database, profiles over profiles) or ``"samples"`` (their samples C over it).
``[unverified.NAME]``
    A source whose figures may be wrong together: its ``observations``, the prior probability
    ``wrong`` that they are, and their log-scale ``error_if_wrong`` if so. Their likelihood is
    (1 − w)·Π p(y_k | μ_k, s_k) + w·Π p(y_k | μ_k, error_if_wrong).
``[sampler]``
    Draws, tuning steps, chains, seed and target acceptance. ``draws = "auto"`` (with an optional
    cap ``max_draws``, default 12,000 per chain) draws in rounds until the gates pass
    (:class:`DatedSamplerSpec`, :mod:`dnamodel.checks.adaptive`).
``[voi.NAME]``
    Candidate observations for ``dnamodel voi`` (:mod:`dnamodel.spec.voi`, which validates them).

Dates default to the data's: an observation's ``date`` is its rows' ``date``, and a
``samples_added`` row's ``period_start`` is its ``since``. A printed "at least", "over" or "more
than" makes a lower bound; "at most", "up to" or "less than" an upper bound; a
``samples_reported`` row (a count over an unstated period) a lower bound; a printed range ("2
million to 3 million") is fitted as the row's value, with an error at least wide enough for the
range to be its 90% reporting interval; "nearly X" ("almost", "just under") as a value a little
under X: the range from X·(1 − w) to X, with w the observation's ``nearly`` or the study's
(``study.toml``'s ``[readings] nearly``), fitted at its midpoint with its half-width added to the
reporting error (``dnamodel/data/bundled/README.md``). Every error names the file and the key.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field, StrictBool, model_validator

from dnamodel.data import Dataset
from dnamodel.data.study import STUDY_FILE, first_day, last_day
from dnamodel.errors import DataError, Problem, did_you_mean
from dnamodel.spec import parameters
from dnamodel.spec.base import ModelName, SpecIdentity, _Strict, _validate
from dnamodel.spec.hierarchical import (
    PRIOR_TABLES,
    Location,
    LogError,
    NormalPrior,
    Prior,
    SamplerSpec,
    Years,
    _check_expression,
)
from dnamodel.spec.parameters import START_CODE, Parameter
from dnamodel.spec.resolve import _evaluate, covariate_values

TABLES = (
    "model",
    "estimand",
    "fraction",
    "campaign",
    "population",
    "databases",
    "observations",
    "unverified",
    "checks",
    "sampler",
    "assumptions",
    "voi",
)
CURVES = ("saturating", "logistic", "constant_after")
NUMERATORS = ("profiles", "samples")
FORMS = ("composition", "linear")
OBSERVATION_KINDS = ("count", "database", "database_share", "coverage")
BOUNDS = ("none", "lower", "upper")

DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def decimal_year(text: str) -> float:
    """A date as a decimal year: the middle of the year, month or day it names.

    Examples
    --------
    >>> decimal_year("2020")
    2020.5
    >>> round(decimal_year("2016-10"), 4)
    2016.7917
    >>> round(decimal_year("2020-06-30"), 4)  # the middle of day 182 of a leap year: (182 - 0.5) / 366
    2020.4959
    """
    if not DATE.fullmatch(text):
        raise ValueError(f"not a date as YYYY, YYYY-MM or YYYY-MM-DD: {text!r}")
    parts = [int(part) for part in text.split("-")]
    if len(parts) == 1:
        return parts[0] + 0.5
    if len(parts) == 2:
        dt.date(parts[0], parts[1], 1)
        return parts[0] + (parts[1] - 0.5) / 12
    day = dt.date(*parts)
    days = (dt.date(parts[0] + 1, 1, 1) - dt.date(parts[0], 1, 1)).days
    return parts[0] + (day.timetuple().tm_yday - 0.5) / days


def _date(value: Any) -> str:
    text = str(value)
    try:
        decimal_year(text)
    except ValueError:
        raise ValueError(f"must be a calendar date as YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}") from None
    return text


Date = Annotated[str, AfterValidator(_date)]

# --- the tables ----------------------------------------------------------------------------------


class DatedHeader(_Strict):
    """The ``[model]`` table."""

    name: ModelName
    kind: Literal["dated"]
    description: str


class EstimandSpec(_Strict):
    """``[estimand]``: the date of the total."""

    date: Date


class DatedFractionSpec(_Strict):
    """``[fraction]``: how a unit's fraction at saturation is built (a covariate term only with a covariate).

    Its priors (α, θ with a covariate only, the spreads, δ) are keys the parameter registry names
    (:func:`dnamodel.spec.parameters.spec_priors`), validated by :func:`parse_dated`.
    """

    covariate: str | None = None
    form: Literal["composition", "linear"] | None = None
    unreported_offset: Location = 0.0


class StartSpec(_Strict):
    """A group's start prior: around a date, or before or after one by a half-normal lead."""

    around: Date | None = None
    sd_years: Years | None = None
    before: Date | None = None
    after: Date | None = None
    scale_years: Years | None = None

    @model_validator(mode="after")
    def _check(self) -> StartSpec:
        given = [name for name in ("around", "before", "after") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of around, before, after")
        if given[0] == "around" and (self.sd_years is None or self.scale_years is not None):
            raise ValueError("'around' takes sd_years (and no scale_years)")
        if given[0] != "around" and (self.scale_years is None or self.sd_years is not None):
            raise ValueError(f"'{given[0]}' takes scale_years (and no sd_years)")
        return self

    @property
    def kind(self) -> str:
        """``around``, ``before`` or ``after``."""
        return next(name for name in ("around", "before", "after") if getattr(self, name) is not None)

    @property
    def anchor(self) -> float:
        """The date, as a decimal year."""
        return decimal_year(getattr(self, self.kind))

    @property
    def scale(self) -> float:
        """The prior's scale in years."""
        return float(self.sd_years if self.kind == "around" else self.scale_years)


class CampaignSpec(_Strict):
    """``[campaign]``: the curve's family and ramp, each group's start prior (the pace's prior: the registry's key)."""

    curve: Literal["saturating", "logistic", "constant_after"] = "saturating"
    constant_from: Date | None = None
    ramp_years: Annotated[float, Field(gt=0, le=2, allow_inf_nan=False)] = 0.25
    start: dict[str, StartSpec]

    @model_validator(mode="after")
    def _check(self) -> CampaignSpec:
        if self.constant_from is not None and self.curve != "constant_after":
            message = "constant_from is where a constant_after curve turns linear; give curve = 'constant_after'"
            raise ValueError(message)
        return self


class UpliftSpec(_Strict):
    """``[population.uplift.NAME]``: places whose collection counts more residents than the census."""

    areas: list[str]
    exclude: list[str] = Field(default_factory=list)
    log_uplift: dict[str, Any]


class DatedPopulationSpec(_Strict):
    """``[population]``: census error and uplift groups."""

    census_error: Annotated[float, Field(ge=0, le=0.5, allow_inf_nan=False)]
    uplift: dict[str, UpliftSpec] = Field(default_factory=dict)


class DatabasesSpec(_Strict):
    """``[databases]``: named databases; the priors they share (κ, b) are the registry's keys."""

    areas: dict[str, list[str]]


class DatedObservationSpec(_Strict):
    """``[observations.NAME]``: one observed figure and what the model predicts for it."""

    kind: Literal["count", "database", "database_share", "coverage"]
    value: str
    date: Date | None = None
    since: Date | None = None
    bound: Literal["none", "lower", "upper"] | None = None
    units: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    base: str | None = None
    database: str | None = None
    numerator: Literal["profiles", "samples"] | None = None
    error: LogError
    nearly: Annotated[float, Field(gt=0, le=0.5, allow_inf_nan=False)] | None = None
    """For a figure printed "nearly X": how far under X it may lie, as a fraction of X (the study's
    ``[readings] nearly`` by default)."""
    note: str = ""
    use: StrictBool = True  # strict: a string such as "no" is an error, not a silent False


class UnverifiedSpec(_Strict):
    """``[unverified.NAME]``: a source's figures that may be wrong together, and how wrong."""

    observations: Annotated[list[str], Field(min_length=1)]
    wrong: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
    error_if_wrong: LogError


class FixedPrior(_Strict):
    """``{dist = "fixed", value = V}``: the parameter is held at V, not sampled."""

    dist: Literal["fixed"]
    value: Annotated[float, Field(allow_inf_nan=False)]

    def __str__(self) -> str:
        return f"fixed at {self.value:g}"


class ForecastSpec(_Strict):
    """One forecast check: refit on the observations dated up to ``data_to``, predict ``predict``."""

    data_to: Date
    predict: list[str]


class ChecksSpec(_Strict):
    """``[checks]``: the forecasts forward in time that ``estimate`` and ``forecast-check`` run."""

    forecast: list[ForecastSpec] = Field(default_factory=list)


MAX_DRAWS = 12_000
"""The cap of ``draws = "auto"`` per chain when the spec gives no ``max_draws``."""


class DatedSamplerSpec(SamplerSpec):
    """A dated spec's ``[sampler]``: as every spec's, and ``draws = "auto"``, the main fit's adaptive draws.

    With ``draws = "auto"`` the main fit draws in rounds until its gates pass
    (:mod:`dnamodel.checks.adaptive`), up to ``max_draws`` per chain (default :data:`MAX_DRAWS`);
    ``adaptive`` is then true, and ``draws`` holds the cap, for what draws a fixed number of the
    spec (a sweep's points, the memory check). ``max_draws`` without ``draws = "auto"`` is an error.
    """

    max_draws: Annotated[int, Field(ge=10)] | None = None
    adaptive: StrictBool = False

    @model_validator(mode="before")
    @classmethod
    def _auto(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "adaptive" in data:
            raise ValueError('no key "adaptive": draws = "auto" asks for draws in rounds until the gates pass')
        if data.get("draws") == "auto":
            cap = data.get("max_draws", MAX_DRAWS)
            return {**data, "draws": cap, "max_draws": cap, "adaptive": True}
        if "max_draws" in data and not isinstance(data.get("draws", 0), str):  # a string draws: its own error
            raise ValueError('max_draws caps draws = "auto"; with a fixed number of draws, leave it out')
        return data


@dataclass(frozen=True)
class DatedSpec(SpecIdentity):
    """A validated dated spec, before resolution against the data."""

    header: DatedHeader
    estimand: EstimandSpec
    fraction: DatedFractionSpec
    campaign: CampaignSpec
    population: DatedPopulationSpec
    databases: DatabasesSpec | None
    observations: dict[str, DatedObservationSpec]
    checks: ChecksSpec
    sampler: DatedSamplerSpec
    priors: dict[str, Prior | FixedPrior]
    path: str
    text: str
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    unverified: dict[str, UnverifiedSpec] = field(default_factory=dict)
    assumption_sweeps: tuple[str, ...] = ()
    """``[assumptions] sweeps``: the sweep files (paths, resolved against the spec's folder) whose
    settings ``estimate`` refits to find the assumptions that decide the total
    (:mod:`dnamodel.workflows.assumptions`)."""


FIXED_DOMAIN = {"identity": (-math.inf, math.inf), "log": (0.0, math.inf), "logit": (0.0, 1.0)}
"""The interval a fixed value must fall in, by the parameter's transform: open, but a share may be 1 (κ = 1:
every collected sample typed)."""


class AssumptionsSpec(_Strict):
    """``[assumptions]``: the sweeps of assumptions no datum tests, as paths relative to the spec."""

    sweeps: list[str]


DATED_PRIOR_TABLES: dict[str, type[_Strict]] = dict(PRIOR_TABLES)
"""The dated spec's prior tables: the hierarchical spec's (a value held fixed is ``FixedPrior``, apart)."""


def prior_families() -> dict[str, dict[str, type[_Strict]]]:
    """The prior families each parameter whose prior the spec gives admits (the registry's), by name."""
    return {p.name: {f: DATED_PRIOR_TABLES[f] for f in p.families} for p in parameters.spec_priors(parameters.DATED)}


PRIOR_FAMILIES = prior_families()
"""The prior families each parameter admits: those the compiled density implements (the shipped registry's)."""


def parse_dated(raw: dict[str, Any], text: str, file: str) -> DatedSpec:
    """Validate the tables of a dated spec (``raw`` is the parsed TOML).

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
    prior_keys: dict[str, dict[str, Parameter]] = {}
    for parameter in parameters.spec_priors(parameters.DATED):
        table_name, key = str(parameter.prior).split(".")  # spec_priors: each has a prior key
        prior_keys.setdefault(table_name, {})[key] = parameter

    def settings(model: type[_Strict], name: str) -> Any:
        """A table validated without the prior keys the registry gives it (they are checked below)."""
        table, own = raw.get(name), prior_keys.get(name, {})

        def here(key: str, message: str) -> None:
            if message.startswith("unknown key"):  # the registry's keys are known too
                message = f"unknown key{did_you_mean(key.rsplit('.', 1)[-1], [*model.model_fields, *own])}"
            report(key, message)

        kept = {k: v for k, v in table.items() if k not in own} if isinstance(table, dict) else table
        return _validate(model, kept, name, here)

    header = _validate(DatedHeader, raw.get("model"), "model", report)
    estimand = _validate(EstimandSpec, raw.get("estimand"), "estimand", report)
    fraction = settings(DatedFractionSpec, "fraction")
    campaign = settings(CampaignSpec, "campaign")
    population = _validate(DatedPopulationSpec, raw.get("population"), "population", report)
    databases = None
    if "databases" in raw:
        databases = settings(DatabasesSpec, "databases")
    sampler = _validate(DatedSamplerSpec, raw.get("sampler", {}), "sampler", report)
    checks = _validate(ChecksSpec, raw.get("checks", {}), "checks", report)
    observations: dict[str, DatedObservationSpec] = {}
    tables = raw.get("observations")
    if not isinstance(tables, dict) or not tables:
        report("observations", "missing: at least one [observations.NAME] table")
        tables = {}
    for name, table in tables.items():
        parsed = _validate(DatedObservationSpec, table, f"observations.{name}", report)
        if parsed is not None:
            observations[name] = parsed

    unverified: dict[str, UnverifiedSpec] = {}
    groups_raw = raw.get("unverified", {})
    if not isinstance(groups_raw, dict):
        report("unverified", "must be tables [unverified.NAME]")
        groups_raw = {}
    for name, table in groups_raw.items():
        parsed_group = _validate(UnverifiedSpec, table, f"unverified.{name}", report)
        if parsed_group is not None:
            unverified[name] = parsed_group
    grouped: dict[str, str] = {}
    for name, group in unverified.items():
        for member in group.observations:
            if member not in observations:
                report(
                    f"unverified.{name}.observations",
                    f"no observation {member!r} in the spec{did_you_mean(member, observations)}",
                )
            elif member in grouped:
                report(f"unverified.{name}.observations", f"{member!r} is already in [unverified.{grouped[member]}]")
            else:
                grouped[member] = name

    priors: dict[str, Prior | FixedPrior] = {}
    by_name = {p.name: p for p in parameters.spec_priors(parameters.DATED)}

    def prior(name: str, table: Any, key: str) -> None:
        families = prior_families()[name]
        dist = table.get("dist") if isinstance(table, dict) else None
        if dist == "fixed":
            parameter = by_name[name]
            fixed = _validate(FixedPrior, table, key, report)
            if fixed is None:
                return
            low, high = FIXED_DOMAIN.get(parameter.transform, (math.nan, math.nan))
            if not parameter.scalar:
                report(f"{key}.dist", f"{name} has one value per {parameter.shape}: it cannot be fixed")
            elif not (low < fixed.value < high or (parameter.transform == "logit" and fixed.value == 1.0)):
                closed = "]" if parameter.transform == "logit" else ")"
                report(f"{key}.value", f"{fixed.value:g} is outside {name}'s range ({low:g}, {high:g}{closed}")
            else:
                priors[name] = fixed
            return
        if dist not in families:
            allowed = ", ".join([*families, "fixed"])
            report(f"{key}.dist", f"unknown prior family {dist!r}{did_you_mean(str(dist), families)}; use {allowed}")
            return
        parsed = _validate(families[dist], table, key, report)
        if parsed is not None:
            priors[name] = parsed

    for name, table in (("fraction", fraction), ("campaign", campaign), ("databases", databases)):
        if table is None:  # missing or invalid: said above (an absent [databases] has no priors)
            continue
        for key, parameter in prior_keys.get(name, {}).items():
            if name == "fraction" and key == "contrast" and fraction.covariate is None:
                continue  # no covariate, no covariate term: said below if its prior is given
            if key in raw[name]:
                prior(parameter.name, raw[name][key], f"{name}.{key}")
            elif not parameter.optional or (key == "contrast" and fraction.covariate is not None):
                report(f"{name}.{key}", f"missing: the prior of {parameter.name}")
    if fraction is not None:
        if fraction.covariate is not None:  # a covariate term: its form and the prior of its contrast θ
            if fraction.form is None:
                report("fraction.form", "missing: how the covariate enters, 'composition' or 'linear'")
        else:
            for name in ("contrast", "form"):
                if name in raw["fraction"]:
                    report(
                        f"fraction.{name}",
                        "the spec names no covariate, so the model has no covariate term: remove it, or name a "
                        "covariate (a numeric column of units.csv)",
                    )
    if campaign is not None and "default" not in campaign.start:
        report("campaign.start", "missing: a default start prior ([campaign.start] default = {...})")
    if population is not None:
        for name, uplift in population.uplift.items():
            key = f"population.uplift.{name}.log_uplift"
            if not isinstance(uplift.log_uplift, dict) or uplift.log_uplift.get("dist") != "normal":
                report(f"{key}.dist", "the log uplift's prior must be normal")
            else:
                _validate(NormalPrior, uplift.log_uplift, key, report)
    for name, obs in observations.items():
        key = f"observations.{name}"
        _check_expression(obs.value, f"{key}.value", report)
        if obs.kind in ("database", "database_share") and obs.database is None:
            report(f"{key}.database", f"a {obs.kind} observation names its database")
        if obs.kind in ("count", "coverage", "database_share") and not obs.units:
            report(f"{key}.units", f"a {obs.kind} observation names the places it counts")
        if obs.kind == "database" and obs.units:
            report(f"{key}.units", "a database observation covers its database's places; remove units")
        if obs.kind in ("database_share", "coverage") and obs.since is not None:
            report(f"{key}.since", f"a {obs.kind} is a share at one date, not an increment; remove since")
        if obs.base is not None and obs.kind not in ("count", "coverage"):
            report(f"{key}.base", "only a count or a coverage observation has a population base")
        if obs.numerator is not None and obs.kind != "database_share":
            report(f"{key}.numerator", "only a database_share observation has a numerator; remove it")
    for i, forecast in enumerate(checks.forecast if checks is not None else []):
        key = f"checks.forecast[{i}]"
        for name in forecast.predict:
            if name not in observations:
                report(f"{key}.predict", f"no observation {name!r} in the spec{did_you_mean(name, observations)}")
    assumption_sweeps: list[str] = []
    if "assumptions" in raw:
        assumptions = _validate(AssumptionsSpec, raw["assumptions"], "assumptions", report)
        for i, declared in enumerate(assumptions.sweeps if assumptions is not None else []):
            found = Path(file).parent / declared
            if not declared.strip() or not found.is_file():
                report(f"assumptions.sweeps[{i}]", f"no sweep file {declared!r} beside the spec ({found})")
            else:
                assumption_sweeps.append(str(found))
    if problems or None in (header, estimand, fraction, campaign, population, sampler, checks):
        raise DataError(problems)
    return DatedSpec(
        header,
        estimand,
        fraction,
        campaign,
        population,
        databases,
        observations,
        checks,
        sampler,
        priors,
        file,
        text,
        raw,
        unverified,
        tuple(assumption_sweeps),
    )


# --- resolution -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatedInputs:
    """Everything the dated model needs, as arrays over its canonical dims.

    Units are in the order of ``units.csv`` and groups in the order of ``areas.csv``. Dates are
    decimal years. An observation's ``since`` is NaN unless it is an increment; its ``base`` is 0
    unless it counts a population other than its unit's census population.

    Attributes
    ----------
    unit, group : tuple of str
        Unit ids; group ids (``areas.csv``'s rows of level ``group``).
    unit_group : ndarray of int
    population : ndarray of float
        Census population of each unit.
    covariate : ndarray of float
        The covariate as the model uses it: a share (composition) or standardised (linear); zeros
        without one.
    covariate_raw : ndarray of float
        The covariate as the data give it.
    uplift : ndarray of int
        Index into ``uplift_name`` of each unit's uplift group, or -1.
    reported : ndarray of float
        1 for units some count observation names alone, else 0: they get the offset δ.
    offset : ndarray of float
        The fixed offset of the other units (``fraction.unreported_offset``).
    start_kind, start_anchor, start_scale, pace_mu, pace_sd : ndarray
        Each group's start prior and the log pace's normal prior.
    observation : tuple of str
    kind, censor : ndarray of int
        Observation kinds and bounds, as the kernel's codes (``count`` 0, ``database`` 1,
        ``database_share`` 2, ``coverage`` 3; ``none`` 0, ``lower`` 1, ``upper`` 2).
    value, error, date, since, base : ndarray of float
    database_index : ndarray of int
        Each observation's database (for its kinds), else 0.
    members : tuple of tuple of int
        The units each observation counts (for a database observation, its database's units).
    database : tuple of str
    database_members : tuple of tuple of int
    estimand_date : float
    date_label, since_label : tuple of str
        Each observation's date and ``since`` as the spec or the data write them (``""`` for no
        ``since``), for people to read.
    """

    name: str
    unit: tuple[str, ...]
    group: tuple[str, ...]
    unit_group: np.ndarray
    population: np.ndarray
    covariate: np.ndarray
    covariate_raw: np.ndarray
    covariate_name: str
    form: str
    uplift: np.ndarray
    uplift_name: tuple[str, ...]
    uplift_mu: np.ndarray
    uplift_sd: np.ndarray
    reported: np.ndarray
    offset: np.ndarray
    start_kind: np.ndarray
    start_anchor: np.ndarray
    start_scale: np.ndarray
    pace_mu: np.ndarray
    pace_sd: np.ndarray
    observation: tuple[str, ...]
    kind: np.ndarray
    censor: np.ndarray
    value: np.ndarray
    error: np.ndarray
    date: np.ndarray
    since: np.ndarray
    base: np.ndarray
    database_index: np.ndarray
    members: tuple[tuple[int, ...], ...]
    database: tuple[str, ...]
    database_members: tuple[tuple[int, ...], ...]
    census_error: float
    ramp_years: float
    estimand_date: float
    estimand_label: str
    census_total: float
    priors: dict[str, Prior]
    group_effects: bool
    reported_effect: bool
    target_accept: float
    forecasts: tuple[tuple[str, float, tuple[int, ...]], ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    date_label: tuple[str, ...] = ()
    since_label: tuple[str, ...] = ()
    covariate_label: str = ""
    """The covariate's label for axes (``study.toml``'s ``[columns]``, else the column's name)."""
    curve: str = "saturating"
    """The campaign curve's family (``CURVES``)."""
    constant_from: float = math.nan
    """Where a ``constant_after`` curve turns linear (decimal year); NaN for the other families."""
    constant_from_label: str = ""
    typed_numerator: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """1 for a ``database_share`` whose numerator is typed profiles κ·C, else 0 (per observation)."""
    unverified_name: tuple[str, ...] = ()
    unverified_wrong: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unverified_error: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unverified_group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    """Each observation's unverified source (index into ``unverified_name``), or -1."""
    reading: tuple[str, ...] = ()
    """How each observation's printed figure is read beyond a value or a bound: ``"under"`` ("nearly X", fitted
    a little under X), ``"range"`` (a range, fitted as a value), or ``""``."""
    covariate_effect: bool = True
    """Whether the model has a covariate term (θ): a spec without a covariate has none (``form`` is then
    ``"none"`` and ``covariate`` all zeros)."""
    last_regionwide_date: float = float("nan")
    """The date (decimal year) of the last active observation covering every unit (a database over
    the whole region, or a count over it); NaN when there is none. After it, no datum speaks of the
    region as a whole: the campaign's shape there is the model's assumption."""
    last_regionwide_label: str = ""
    """That observation's date as the spec or the data write it (``""`` when none)."""
    last_regionwide_observation: str = ""
    """That observation's id (``""`` when none)."""
    source_group: tuple[str, ...] = ()
    """Each observation's source, named by the observations that share it (:func:`source_groups`): what
    leave-one-source-out leaves out together."""


KIND_CODE = {"count": 0, "database": 1, "database_share": 2, "coverage": 3}
BOUND_CODE = {"none": 0, "lower": 1, "upper": 2}


def resolve_dated(spec: DatedSpec, data: Dataset) -> DatedInputs:
    """Resolve a dated spec's references against the data.

    Raises
    ------
    DataError
        Naming the spec file and key of every unknown place, group, database or observation id, a
        covariate that is not a numeric column or not a share where the form needs one, a date
        missing or out of order, a bound the printed figure contradicts, a value out of range, an
        estimand date before every observation or outside the study's period, or a forecast's
        cut-off before every observation (a refit on no data).

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> inputs = resolve_dated(load_model("dated"), load_data())
    >>> len(inputs.unit), len(inputs.group), len(inputs.observation)
    (77, 7, 10)
    """
    file = spec.path
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(file, None, key, message))

    units = tuple(data.units)
    index = {u: i for i, u in enumerate(units)}
    groups = data.groups
    regions = (data.region,)
    unit_group = np.array([groups.index(data.units[u].group) for u in units])
    population = np.array([float(data.units[u].population) for u in units])
    places = (*units, *groups, *regions)

    def expand(given: list[str], key: str) -> set[int]:
        chosen: set[int] = set()
        for place in given:
            if place in index:
                chosen.add(index[place])
            elif place in groups:
                chosen |= {i for i, u in enumerate(units) if data.units[u].group == place}
            elif place in regions:
                chosen |= set(range(len(units)))
            else:
                report(key, f"unknown unit or area {place!r}{did_you_mean(place, places)}")
        return chosen

    # the covariate, if the spec names one (without one the model has no covariate term)
    fraction = spec.fraction
    raw_covariate = np.zeros(len(units))
    covariate = raw_covariate
    if fraction.covariate is not None:
        found = covariate_values(data, fraction.covariate, "fraction.covariate", report)
        if found is not None:
            raw_covariate = found
        if fraction.form == "composition":
            covariate = raw_covariate
            if ((raw_covariate < 0) | (raw_covariate > 1)).any():
                report(
                    "fraction.form", f"the composition form needs a share between 0 and 1; {fraction.covariate} is not"
                )
        else:
            scale = float(raw_covariate.std()) or 1.0
            covariate = (raw_covariate - raw_covariate.mean()) / scale

    # the campaign's groups
    campaign = spec.campaign
    for name in campaign.start:
        if name != "default" and name not in groups:
            report(f"campaign.start.{name}", f"unknown group{did_you_mean(name, groups)}")
    starts = [campaign.start.get(g, campaign.start.get("default")) for g in groups]
    pace = spec.priors.get("pace")

    # uplift groups
    uplift = np.full(len(units), -1)
    uplift_names, uplift_mu, uplift_sd = [], [], []
    for ell, (name, group) in enumerate(spec.population.uplift.items()):
        chosen = expand(group.areas, f"population.uplift.{name}.areas")
        chosen -= expand(group.exclude, f"population.uplift.{name}.exclude")
        for i in chosen:
            if uplift[i] >= 0:
                report(f"population.uplift.{name}.areas", f"{units[i]!r} is already in another uplift group")
            uplift[i] = ell
        uplift_names.append(name)
        uplift_mu.append(float(group.log_uplift.get("mu", 0.0)))
        uplift_sd.append(float(group.log_uplift.get("sigma", 1.0)))

    # databases
    database_names: list[str] = []
    database_members: list[tuple[int, ...]] = []
    if spec.databases is not None:
        for name, where in spec.databases.areas.items():
            database_names.append(name)
            database_members.append(tuple(sorted(expand(where, f"databases.areas.{name}"))))

    # observations
    names: list[str] = []
    kinds, censors, values, errors, dates, sinces, bases, dbs = [], [], [], [], [], [], [], []
    date_labels: list[str] = []
    since_labels: list[str] = []
    readings: list[str] = []
    members: list[tuple[int, ...]] = []
    reported = np.zeros(len(units))
    sources: dict[str, str] = {}
    notes: dict[str, str] = {}
    typed_numerator: list[float] = []
    row_sources: list[set[tuple[str, str]]] = []
    for name, obs in spec.observations.items():
        if not obs.use:
            continue  # left out: it names no data, marks no unit as reported, and is not fitted
        key = f"observations.{name}"
        value = _evaluate(obs.value, data, f"{key}.value", report)
        ids = sorted({n.id for n in ast.walk(ast.parse(obs.value, mode="eval")) if isinstance(n, ast.Name)})
        rows = [data.observations[i] for i in ids if i in data.observations]
        date = obs.date or _shared(rows, "date", f"{key}.date", report)
        since = obs.since
        if since is None and rows and all(r.kind == "samples_added" for r in rows):
            since = _shared(rows, "period_start", f"{key}.since", report)
        printed_bound = _bound_of(rows)
        bound = obs.bound or ("none" if printed_bound in ("range", "under") else printed_bound)
        allowed = ("none", obs.bound, "under") if obs.bound == "upper" else ("none", obs.bound)
        if obs.bound is not None and obs.bound != "none" and printed_bound not in allowed:
            said = {"range": "a range", "under": "nearly"}.get(printed_bound, f"{printed_bound} bound")
            report(f"{key}.bound", f"the printed figure says {said}, not {obs.bound}")
        if obs.nearly is not None and printed_bound != "under":
            report(f"{key}.nearly", "only a figure printed 'nearly', 'almost' or 'just under' has a width to read")
        error = obs.error
        if printed_bound == "range" and bound == "none":
            # a range is fitted as a value (the row's, within it) whose 90% reporting interval covers it
            needed = _range_error(rows, obs.kind)
            if needed is not None and obs.error < needed[0] - 1e-12:
                scale = "logit" if obs.kind == "coverage" else "log"
                report(
                    f"{key}.error",
                    f"{obs.error:g} is too small for the printed range {needed[1]!r}: the range is the value's 90% "
                    f"interval only with an error of at least {math.ceil(needed[0] * 1000) / 1000:g} ({scale} scale)",
                )
        if rows and all(r.kind == "samples_reported" for r in rows) and bound == "none":
            report(f"{key}.bound", "a count over an unstated period is a bound: give bound = 'lower'")
        if date is None:
            continue
        t2 = decimal_year(date)
        t1 = decimal_year(since) if since else math.nan
        if since and not t1 < t2:
            report(f"{key}.since", f"{since} is not before the date {date}")
        chosen: set[int] = set()
        d = 0
        if obs.kind == "database":
            if obs.database not in database_names:
                report(f"{key}.database", f"unknown database{did_you_mean(str(obs.database), database_names)}")
            else:
                d = database_names.index(obs.database)
                chosen = set(database_members[d])
        else:
            chosen = expand(obs.units, f"{key}.units") - expand(obs.exclude, f"{key}.exclude")
            if not chosen:
                report(f"{key}.units", "covers no unit")
            if obs.kind == "database_share":
                if obs.database not in database_names:
                    report(f"{key}.database", f"unknown database{did_you_mean(str(obs.database), database_names)}")
                else:
                    d = database_names.index(obs.database)
                    if not chosen <= set(database_members[d]):
                        report(f"{key}.units", f"counts places outside the database {obs.database!r}")
        base = 0.0
        if obs.base is not None:
            row = data.observations.get(obs.base)
            if row is None:
                report(
                    f"{key}.base", f"no observation {obs.base!r} in the data{did_you_mean(obs.base, data.observations)}"
                )
            elif row.kind not in ("population", "population_with_temporary"):
                report(f"{key}.base", f"{obs.base!r} is a {row.kind}, not a population")
            elif len(chosen) != 1:
                report(f"{key}.base", "a population base needs an observation over exactly one unit")
            else:
                base = float(row.value)
        if value is not None:
            if obs.kind in ("database_share", "coverage") and not 0 < value < 1:
                report(f"{key}.value", f"a share must be between 0 and 1; it is {value:g}")
            elif obs.kind in ("count", "database") and not value > 0:
                report(f"{key}.value", f"must be a positive count; it is {value:g}")
            elif not math.isfinite(value):
                report(f"{key}.value", "is not a finite number")
        if value is None or not chosen:
            continue
        if printed_bound == "under" and bound == "none" and value > 0 and (obs.kind != "coverage" or value < 1):
            # "nearly X": a value a little under X, the range X·(1 − w) to X as its 90% interval (model card 5.7)
            width = obs.nearly if obs.nearly is not None else data.study.readings.nearly
            value, half_width = nearly_reading(value, width, logit=obs.kind == "coverage")
            error = math.hypot(error, half_width)
        if obs.kind in ("count", "coverage") and len(chosen) == 1 and not obs.exclude:
            reported[next(iter(chosen))] = 1.0
        names.append(name)
        row_sources.append({(str(r.source), str(r.source_date or "")) for r in rows})
        kinds.append(KIND_CODE[obs.kind])
        censors.append(BOUND_CODE[bound])
        values.append(value)
        errors.append(error)
        dates.append(t2)
        sinces.append(t1)
        date_labels.append(date)
        since_labels.append(since or "")
        readings.append(printed_bound if printed_bound in ("under", "range") and bound == "none" else "")
        bases.append(base)
        dbs.append(d)
        members.append(tuple(sorted(chosen)))
        sources[name] = obs.value
        notes[name] = obs.note
        typed_numerator.append(1.0 if obs.kind == "database_share" and obs.numerator != "samples" else 0.0)

    # the last region-wide figure: an active database over every unit, or a count over every unit
    everyone = tuple(range(len(units)))
    regionwide = [
        k for k, m in enumerate(members) if m == everyone and kinds[k] in (KIND_CODE["count"], KIND_CODE["database"])
    ]
    last = max(regionwide, key=lambda k: (dates[k], -k)) if regionwide else -1
    constant_from, constant_label = math.nan, ""
    if campaign.curve == "constant_after":
        if campaign.constant_from is not None:
            constant_from, constant_label = decimal_year(campaign.constant_from), campaign.constant_from
        elif last >= 0:
            constant_from, constant_label = dates[last], date_labels[last]
        else:
            report("campaign.constant_from", "no active figure covers every unit: give the date the curve turns linear")

    # sources that may be wrong together
    unverified_names: list[str] = []
    unverified_group = np.full(len(names), -1)
    wrong, error_if_wrong = [], []
    for source_name, source in spec.unverified.items():
        chosen_rows = [names.index(m) for m in source.observations if m in names]  # a left-out member drops out
        if not chosen_rows:
            continue
        for k in chosen_rows:
            unverified_group[k] = len(unverified_names)
        unverified_names.append(source_name)
        wrong.append(source.wrong)
        error_if_wrong.append(source.error_if_wrong)

    # The total's date and the forecasts' cut-offs must each have observations to stand on.
    first = int(np.argmin(dates)) if dates else None
    if first is not None:
        earliest = f"the first, {names[first]!r}, is dated {date_labels[first]}"
        if decimal_year(spec.estimand.date) < dates[first]:
            report(
                "estimand.date",
                f"{spec.estimand.date} is before every observation the model is fitted to ({earliest}): the total "
                "would be the campaign curves run backwards to a date no figure describes",
            )
    words = data.study.words
    start, end = words.start, words.end
    if (start is not None and last_day(spec.estimand.date) < first_day(start)) or (
        end is not None and first_day(spec.estimand.date) > last_day(end)
    ):
        period = f"{start or '…'} to {end or '…'}"
        where = f"{data.path(STUDY_FILE)}, [study] start and end"
        report("estimand.date", f"{spec.estimand.date} is outside the study's period, {period} ({where})")
    forecasts = []
    for i, forecast in enumerate(spec.checks.forecast):
        cutoff = decimal_year(forecast.data_to)
        if first is not None and not any(d <= cutoff for d in dates):
            report(
                f"checks.forecast[{i}].data_to",
                f"{forecast.data_to} is before every observation the model is fitted to ({earliest}): the refit "
                "would have no data",
            )
        targets = tuple(names.index(n) for n in forecast.predict if n in names)
        for k in targets:
            if not dates[k] > cutoff:
                report(
                    f"checks.forecast[{i}].predict",
                    f"{names[k]!r} is dated {dates[k]:.2f}, not after {forecast.data_to}",
                )
        forecasts.append((forecast.data_to, cutoff, targets))

    if problems:
        raise DataError(problems)
    return DatedInputs(
        name=spec.name,
        unit=units,
        group=groups,
        unit_group=unit_group,
        population=population,
        covariate=covariate,
        covariate_raw=raw_covariate,
        covariate_name=fraction.covariate or "",
        covariate_label=data.study.label(fraction.covariate) if fraction.covariate else "",
        form=fraction.form or "none",
        covariate_effect=fraction.covariate is not None,
        uplift=uplift,
        uplift_name=tuple(uplift_names),
        uplift_mu=np.array(uplift_mu),
        uplift_sd=np.array(uplift_sd),
        reported=reported if "reported" in spec.priors else np.zeros(len(units)),
        offset=np.where(reported > 0, 0.0, fraction.unreported_offset),
        start_kind=np.array([START_CODE[s.kind] for s in starts]),
        start_anchor=np.array([s.anchor for s in starts]),
        start_scale=np.array([s.scale for s in starts]),
        pace_mu=np.full(len(groups), pace.mu if pace is not None else 0.0),
        pace_sd=np.full(len(groups), pace.sigma if pace is not None else 1.0),
        observation=tuple(names),
        kind=np.array(kinds, dtype=int),
        censor=np.array(censors, dtype=int),
        value=np.array(values, dtype=float),
        error=np.array(errors, dtype=float),
        date=np.array(dates, dtype=float),
        since=np.array(sinces, dtype=float),
        base=np.array(bases, dtype=float),
        database_index=np.array(dbs, dtype=int),
        members=tuple(members),
        database=tuple(database_names),
        database_members=tuple(database_members),
        census_error=spec.population.census_error,
        ramp_years=campaign.ramp_years,
        estimand_date=decimal_year(spec.estimand.date),
        estimand_label=spec.estimand.date,
        census_total=float(population.sum()),
        priors=dict(spec.priors),
        group_effects="group_sd" in spec.priors,
        reported_effect="reported" in spec.priors,
        target_accept=spec.sampler.target_accept,
        forecasts=tuple(forecasts),
        sources=sources,
        notes=notes,
        date_label=tuple(date_labels),
        since_label=tuple(since_labels),
        curve=campaign.curve,
        constant_from=constant_from,
        constant_from_label=constant_label,
        last_regionwide_date=dates[last] if last >= 0 else math.nan,
        last_regionwide_label=date_labels[last] if last >= 0 else "",
        last_regionwide_observation=names[last] if last >= 0 else "",
        typed_numerator=np.array(typed_numerator, dtype=float),
        unverified_name=tuple(unverified_names),
        unverified_wrong=np.array(wrong, dtype=float),
        unverified_error=np.array(error_if_wrong, dtype=float),
        unverified_group=unverified_group,
        reading=tuple(readings),
        source_group=source_groups(names, row_sources, unverified_group),
    )


def source_groups(
    names: Sequence[str], row_sources: Sequence[set[tuple[str, str]]], unverified_group: np.ndarray
) -> tuple[str, ...]:
    """Each observation's source, named by the observations that share it (``"a + b"``), in their order.

    Two observations share a source when a data row of one and a data row of the other have the
    same ``source`` and ``source_date`` (one statement of one source, whatever it was read as), or
    when they are members of one ``[unverified.NAME]`` source; the relation is joined transitively.

    Examples
    --------
    >>> same = {("Report, p. 3", "2021-01")}
    >>> source_groups(["a", "b", "c"], [same, same, {("Thesis", "2020")}], np.array([-1, -1, -1]))
    ('a + b', 'a + b', 'c')
    >>> source_groups(["a", "b", "c"], [{("x", "")}, {("y", "")}, {("z", "")}], np.array([-1, 0, 0]))
    ('a', 'b + c', 'b + c')
    """
    parent = list(range(len(names)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first: dict[tuple[str, ...], int] = {}
    for k, keys in enumerate(row_sources):
        for key in sorted(keys):
            parent[root(k)] = root(first.setdefault(("row", *key), k))
    for k, g in enumerate(unverified_group):
        if g >= 0:
            parent[root(k)] = root(first.setdefault(("unverified", str(g)), k))
    members: dict[int, list[str]] = {}
    for k, name in enumerate(names):
        members.setdefault(root(k), []).append(name)
    return tuple(" + ".join(members[root(k)]) for k in range(len(names)))


def _shared(rows: list[Any], attribute: str, key: str, report: Any) -> str | None:
    """The one value of ``attribute`` the rows share; reported when they lack it or disagree."""
    found = sorted({getattr(r, attribute) for r in rows if getattr(r, attribute)})
    if not found:
        report(key, f"the data give no {attribute.replace('_', ' ')} for it; give {key.rsplit('.', 1)[1]} here")
        return None
    if len(found) > 1:
        report(key, f"its rows have different dates ({', '.join(found)}); give {key.rsplit('.', 1)[1]} here")
        return None
    return found[0].split("/")[0]


def _bound_of(rows: list[Any]) -> str:
    """What the printed figures say (:attr:`~dnamodel.data.printed.Printed.bound`).

    ``lower`` ("at least", "over", "more than"), ``upper`` ("at most", "up to", "less than"),
    ``under`` ("nearly", "almost", "just under": a value a little under the number), ``range`` (a
    range, fitted as a value), else ``none``; a ``samples_reported`` row (a count over an unstated
    period) is ``lower``.
    """
    for row in rows:
        if row.kind == "samples_reported":
            return "lower"
        bound = row.printed.bound if row.printed is not None else "none"
        if bound != "none":
            return bound
    return "none"


Z90 = 1.6448536269514722
"""The standard normal's 95% quantile: a 90% interval is ±Z90 standard deviations."""


def nearly_reading(value: float, width: float, *, logit: bool = False) -> tuple[float, float]:
    """A figure printed "nearly ``value``" as the value fitted and the error its width adds.

    The range ``value·(1 − width)`` to ``value`` is read as a 90% interval, on the log scale (the
    logit scale for a coverage).

    Returns
    -------
    tuple of float
        The range's midpoint on that scale (its geometric midpoint for a count), and its half-width in
        standard deviations of a 90% interval, ``log(1 / (1 − width)) / (2 × Z90)`` for a count.

    Examples
    --------
    >>> centre, extra = nearly_reading(20_000, 0.1)
    >>> round(centre), round(extra, 4)
    (18974, 0.032)
    """
    low = value * (1 - width)
    if logit:
        a, b = math.log(low / (1 - low)), math.log(value / (1 - value))
        return 1 / (1 + math.exp(-(a + b) / 2)), (b - a) / (2 * Z90)
    return math.sqrt(low * value), math.log(value / low) / (2 * Z90)


def _range_error(rows: list[Any], kind: str) -> tuple[float, str] | None:
    """The smallest error that makes a printed range the value's 90% reporting interval, and the range's text.

    On the log scale for a count (the logit scale for a coverage): log(high / low) / (2 × Z90).
    """
    for row in rows:
        printed = row.printed
        if printed is None or printed.high is None:
            continue
        low, high = float(printed.value), float(printed.high)
        if kind == "coverage":
            if not 0 < low < high < 1:
                return None
            span = math.log(high / (1 - high)) - math.log(low / (1 - low))
        else:
            if not 0 < low < high:
                return None
            span = math.log(high / low)
        return span / (2 * Z90), printed.text
    return None
