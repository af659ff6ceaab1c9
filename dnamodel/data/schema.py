"""The data files' rows: pydantic models of their columns, and the parsers of their fields.

Each CSV file of :mod:`dnamodel.data.load` has one row model here (:class:`Unit`,
:class:`Area`, :class:`Observation`, :class:`ReportFigure`), strict (``extra="forbid"``)
and frozen. Each field is parsed by a validator that says what is wrong in words a user
can act on: a share written as a percentage, a count with decimals, a date that is not
in the calendar, an unknown kind with the nearest known one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from dnamodel.data.printed import Printed, parse_printed
from dnamodel.errors import did_you_mean

KINDS: dict[str, str] = {
    "samples_cumulative": "what the study counts (its unit: samples, records), collected in the area up to `date`",
    "samples_added": "what the study counts, added between `period_start` and `date`",
    "samples_reported": "what the study counts, as a source reports collecting it over a period it does not state",
    "population": "resident (permanent) population",
    "population_with_temporary": "permanent plus temporary residents",
    "registered_residents": "residents registered in a police information system",
    "han_population": "Han residents",
    "tibetan_population": "Tibetan residents",
    "other_minority_population": "residents of other minorities",
    "coverage_share": "share of a population base covered by samples: samples_ref over base_ref",
    "database_share": "share of a larger database made up of samples_ref",
    "growth_share": "samples added over the database total: samples_ref over base_ref",
    "han_share": "Han share of the population",
}
"""Every kind of observation, with what its value counts."""


SAMPLE_KINDS = frozenset({"samples_cumulative", "samples_added", "samples_reported"})


POPULATION_KINDS = frozenset({"population", "population_with_temporary"})


SHARE_KINDS = frozenset({"coverage_share", "database_share", "growth_share", "han_share"})


COUNT_KINDS = frozenset(KINDS) - SHARE_KINDS


ORIGINS = {
    "source": "a primary source, quoted by the report",
    "report": "the report's own arithmetic or estimate",
    "census": "an official census count, quoted by the report",
}


# --- field types -------------------------------------------------------------------------


def _fail(kind: str, message: str, value: Any) -> PydanticCustomError:
    # Formatted here and passed without context: pydantic then leaves braces in the value alone.
    return PydanticCustomError(kind, f"{message}, got {value!r}")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("empty", "must not be empty", value)
    return value.strip()


def _slug(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", text):
        raise _fail("slug", "must be lowercase letters, digits, '-' or '_'", value)
    return text


NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
"""How a number is written in the data files: ASCII digits, an optional sign and decimal point.

No thousands separators (``40,200``, ``40_200``, ``40 200``), no exponent (``4.02e4``), no
digits of other scripts (fullwidth ``４０２００``, Arabic-Indic ``٤٠٢٠٠``), no ``NaN`` or
``Infinity``: one way to write each number, so that what a reviewer reads is what is computed.
"""

NUMBER_LIMIT = 10**15
"""Numbers in the data files are smaller than this in size: every count is exact as a float."""


def _decimal(value: Any, kind: str, message: str) -> Decimal:
    """Parse a number written as :data:`NUMBER` allows, or fail with ``message`` and the rule."""
    text = _text(value)
    if not NUMBER.fullmatch(text):
        rule = "written with the digits 0-9, an optional sign and decimal point, no separators or exponent"
        raise _fail(kind, f"{message}, {rule} (40200, 0.425)", value)
    number = Decimal(text)
    if abs(number) >= NUMBER_LIMIT:
        raise _fail(kind, f"{message} smaller than 10^15", value)
    return number


def _count(value: Any) -> int:
    number = _decimal(value, "count", "must be a whole number")
    if number != number.to_integral_value():
        raise _fail("count", "must be a whole number", value)
    if number < 0:
        raise _fail("count", "must not be negative", value)
    return int(number)


def _share(value: Any) -> Decimal:
    number = _decimal(value, "share", "must be a share between 0 and 1")
    if not 0 <= number <= 1:
        hint = f" (a percentage? write {number}% as {number / 100})" if 1 < number <= 100 else ""
        hint = " (a share cannot be negative)" if number < 0 else hint
        raise _fail("share", "must be a share between 0 and 1" + hint, value)
    return number


def _number(value: Any) -> Decimal:
    return _decimal(value, "number", "must be a number")


_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def _partial_date(value: Any) -> str:
    text = _text(value)
    if not _DATE.fullmatch(text):
        raise _fail("date", "must be a date as YYYY, YYYY-MM or YYYY-MM-DD", value)
    parts = [int(part) for part in text.split("-")] + [1, 1]
    try:
        dt.date(*parts[:3])
    except ValueError:
        raise _fail("date", "is not a calendar date", value) from None
    return text


def _date_or_range(value: Any) -> str:
    return "/".join(_partial_date(part) for part in _text(value).split("/", 1))


def _printed(value: Any) -> Printed:
    text = _text(value)
    try:
        return parse_printed(text)
    except ValueError:
        raise _fail(
            "printed", "must be a figure as printed, such as '32.3%', '1.18 million' or '94,588'", value
        ) from None


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse_optional(value: Any) -> Any:
        return None if value is None or (isinstance(value, str) and not value.strip()) else parse(value)

    return parse_optional


def _one_of(choices: Mapping[str, str] | tuple[str, ...]) -> Callable[[Any], str]:
    def parse_choice(value: Any) -> str:
        text = _text(value)
        if text not in choices:
            listed = ", ".join(sorted(choices))
            raise PydanticCustomError(
                "choice", f"unknown value {text!r}{did_you_mean(text, choices)}; expected one of: {listed}"
            )
        return text

    return parse_choice


Text = Annotated[str, BeforeValidator(_text)]


OptionalText = Annotated[str, BeforeValidator(lambda v: (v or "").strip())]


Slug = Annotated[str, BeforeValidator(_slug)]


OptionalSlug = Annotated[str | None, BeforeValidator(_optional(_slug))]


Count = Annotated[int, BeforeValidator(_count)]


OptionalCount = Annotated[int | None, BeforeValidator(_optional(_count))]


Share = Annotated[Decimal, BeforeValidator(_share)]


OptionalShare = Annotated[Decimal | None, BeforeValidator(_optional(_share))]


Number = Annotated[Decimal, BeforeValidator(_number)]


OptionalDate = Annotated[str | None, BeforeValidator(_optional(_partial_date))]


OptionalDateRange = Annotated[str | None, BeforeValidator(_optional(_date_or_range))]


OptionalPrinted = Annotated[Printed | None, BeforeValidator(_optional(_printed))]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


# --- row models ----------------------------------------------------------------------------


class Unit(_Row):
    """A unit of the study region (a county-level unit of the 2020 census, in the bundled data).

    ``id``, ``group``, ``name`` and ``population`` are required; the other built-in columns may be
    left out of the file. Any other column holds numbers (or is empty) and needs
    a label in ``study.toml``'s ``[columns]``: it is in :attr:`extra`, and a dated spec may name
    it as its covariate.
    """

    id: Slug
    code: Annotated[str | None, BeforeValidator(_optional(lambda v: _code(v)))] = None
    level: Annotated[str | None, BeforeValidator(_optional(_one_of(("county", "zone"))))] = None
    group: Slug
    """The id of its group of units in ``areas.csv`` (what the study calls a group: ``study.toml``'s ``group``)."""
    name: Text
    name_zh: OptionalText = ""
    population: Count
    """Its resident population (the bundled data: the 2020 census)."""
    han_share_2020: OptionalShare = None
    population_2010: OptionalCount = None
    han_share_2010: OptionalShare = None
    folded_into: OptionalSlug = None
    extra: dict[str, Decimal | None] = Field(default_factory=dict)
    """The study's own numeric columns, by name (``None`` where a cell is empty)."""

    def number(self, column: str) -> Decimal | int | None:
        """The value of a numeric column, built-in or the study's own; ``None`` if empty."""
        if column in self.extra:
            return self.extra[column]
        return getattr(self, column)


class Area(_Row):
    """The region or one of its groups of units, with its population.

    ``id``, ``level`` (``region`` or ``group``), ``parent``, ``name`` and ``population`` are
    required; the others may be left out of the file.
    """

    id: Slug
    code: Annotated[str | None, BeforeValidator(_optional(lambda v: _code(v)))] = None
    level: Annotated[str, BeforeValidator(_level)]
    parent: OptionalSlug
    name: Text
    name_zh: OptionalText = ""
    population: Count
    han_share_2020: OptionalShare = None
    han_population_2020: OptionalCount = None
    tibetan_population_2020: OptionalCount = None
    other_minority_population_2020: OptionalCount = None


class Observation(_Row):
    """One figure the report prints about a place, with its source."""

    id: Slug
    unit: Slug
    subarea: OptionalText
    kind: Annotated[str, BeforeValidator(_one_of(KINDS))]
    value: Number
    printed: OptionalPrinted
    date: OptionalDate
    period_start: OptionalDate
    samples_ref: OptionalSlug
    base_ref: OptionalSlug
    part_of: OptionalSlug
    origin: Annotated[str, BeforeValidator(_one_of(ORIGINS))]
    source: Text
    source_date: OptionalDateRange
    note: OptionalText

    @property
    def exact(self) -> Fraction:
        """The value as an exact fraction."""
        return Fraction(self.value)


class ReportFigure(_Row):
    """A figure the report derives itself, as printed, with where it is printed."""

    id: Slug
    printed: Annotated[Printed, BeforeValidator(_printed)]
    where: Text
    statement: Text


def _level(value: Any) -> str:
    if isinstance(value, str) and value.strip() in RENAMED_LEVELS:
        old = value.strip()
        new = RENAMED_LEVELS[old]
        raise PydanticCustomError("choice", f"{old!r} is now {new!r} (renamed after dnamodel 0.1.0): write {new} here")
    return _one_of(("region", "group"))(value)


RENAMED_COLUMNS: dict[str, dict[str, str]] = {
    "units.csv": {"prefecture": "group", "population_2020": "population"},
    "areas.csv": {"population_2020": "population"},
}
"""The columns renamed to generic names after dnamodel 0.1.0 (issue 23), by file: old name → new name."""

RENAMED_LEVELS = {"prefecture": "group"}
"""The ``level`` values of ``areas.csv`` renamed after dnamodel 0.1.0: old → new."""


def _code(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text):
        raise _fail("code", "must be an administrative code: letters, digits, '.', '-' or '_'", value)
    return text


def extra_number(value: Any) -> Decimal | None:
    """A cell of a column of the study's own: a number as :data:`NUMBER` allows, or empty."""
    return _optional(_number)(value)


EXTRA_FIELD = "extra"
"""The row field that holds a file's columns of the study's own (not a column itself)."""
