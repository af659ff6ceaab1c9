"""The study's own words and reference figures: ``study.toml`` in the data folder.

The engine knows no region. What a study counts, where and when, how the sentence to cite words
it, the labels of the data's extra columns, and the figures an estimate is set against (another
study's estimates, a round number) are data: the ``study.toml`` beside the CSV files, validated
strictly (an unknown key gets "did you mean …?", every problem is listed with its key) and read
by :func:`dnamodel.data.load_data` into :class:`Study`. Every table title, figure label, HTML
page and citation reads them; an optional part left out is left out of the outputs too (no
``[comparisons]``: no "against" table and no dashed lines).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from dnamodel.data.printed import NEARLY_WIDTH
from dnamodel.errors import EXPECTED, Problem, did_you_mean, wrong_type

STUDY_FILE = "study.toml"
"""The study file's name in a data folder."""


class _Table(BaseModel):
    # strict: ``total = "919282"`` or ``marked = "no"`` is a mistake to name, not a value to convert
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Words = Annotated[str, Field(min_length=1, max_length=500)]


def first_day(date: str) -> str:
    """The first day a date written as YYYY, YYYY-MM or YYYY-MM-DD can mean, as YYYY-MM-DD.

    Examples
    --------
    >>> first_day("2022"), first_day("2022-07"), first_day("2022-07-15")
    ('2022-01-01', '2022-07-01', '2022-07-15')
    """
    return date + "-01-01"[len(date) - 4 :] if len(date) < 10 else date


def last_day(date: str) -> str:
    """The last day such a date can mean, for comparisons as text (any month's day 31 sorts after its last day).

    Examples
    --------
    >>> last_day("2022"), last_day("2022-06")
    ('2022-12-31', '2022-06-31')
    """
    return date + "-12-31"[len(date) - 4 :] if len(date) < 10 else date


def _date(text: str) -> str:
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        raise ValueError(f"must be a date as YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")
    parts = [int(part) for part in text.split("-")] + [1, 1]
    try:
        dt.date(*parts[:3])
    except ValueError:
        raise ValueError(f"is not a calendar date: {text!r}") from None
    return text


class StudyWords(_Table):
    """``[study]``: what is counted, where and when, in the words the outputs use."""

    region: Words
    """The region as a sentence names it: ``"the Northern Province"``."""
    place: Words
    """The region in a title or an axis label: ``"the North"``."""
    counted: Words
    """What the total counts, as a title starts: ``"DNA samples collected"``."""
    unit: Words
    """The unit of a count, on axes and in tables: ``"samples"``."""
    claim: Words
    """The sentence to cite, up to "an estimated N …": ``"police in … had collected DNA from"``."""
    persons: Words = "people"
    """What the estimate counts in the sentence: ``"people"`` ("an estimated 1,200,000 people")."""
    counting_note: Words | None = None
    """A clause the sentence ends with, such as ``"each sample is counted as one person"``."""
    start: str | None = None
    """When the period starts (YYYY, YYYY-MM or YYYY-MM-DD); titles then say "START to END"."""
    end: str | None = None
    """When it ends, for models without an estimand date (a dated model's date is its own)."""
    group: Words = "group"
    """What the data's groups of units are called (``areas.csv``'s rows of level ``group``): ``"district"``."""
    groups: Words | None = None
    """The same in the plural, where adding an "s" will not do (``"counties"``)."""
    application: Words | None = None
    """An application on top of the engine whose parts the outputs add (the bundled case study's is
    ``tibet2022``, and data holding its report's figures get it without naming it)."""

    @field_validator("start", "end")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        return None if value is None else _date(value)


class ComparisonFigure(_Table):
    """``[[comparisons.figures]]``: one figure the total is set against."""

    label: Words
    total: Annotated[float, Field(gt=0, lt=1e15, allow_inf_nan=False)]
    share: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    note: Words | None = None
    """What the figure rests on, shown beside its label (``"one county's rate"``)."""
    marked: bool = True
    """Drawn as a dashed line on the figures of the total (a round number may be left off)."""


class Comparisons(_Table):
    """``[comparisons]``: the figures the total is set against, and how the outputs name them."""

    title: Words
    """The heading of their table: ``"Against the report (Dirks 2022, Table 5)"``."""
    source: Words
    """Who gave them, as a label starts: ``"report"`` ("report, Estimate One")."""
    about: Words | None = None
    """A paragraph the HTML report prints before their table."""
    figures: Annotated[list[ComparisonFigure], Field(min_length=1)]


class Readings(_Table):
    """``[readings]``: how the study's printed words are read where a number alone does not say."""

    nearly: Annotated[float, Field(gt=0, le=0.5, allow_inf_nan=False)] = NEARLY_WIDTH
    """How far under its number "nearly X" ("almost X", "just under X") may lie, as a fraction of X:
    0.1 reads "nearly 20,000" as a value between 18,000 and 20,000. A dated spec's observation may
    give its own (``nearly``)."""


def _model_reference(text: str) -> str:
    if text.endswith(".toml"):
        if "\x00" in text:
            raise ValueError(f"is not a usable path: {text!r}")
        return text
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", text):
        raise ValueError(
            f"must be a shipped model's name (lowercase letters, digits, '-' or '_') or a spec file ending in .toml, "
            f"got {text!r}"
        )
    return text


ModelReference = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_model_reference)]
"""A model a study names: a shipped model's name (``dated``), or a spec file's path ending in ``.toml``,
relative to the data folder (``../models/dated.toml``)."""


class Models(_Table):
    """``[models]``: the models the commands fit when none is named, the data's own defaults."""

    default: ModelReference | None = None
    """The model of ``estimate``, ``report``, ``forecast-check`` and ``sweep --shipped`` when none is named."""
    compare: list[ModelReference] = Field(default_factory=list, max_length=100)
    """The models ``compare`` fits and stacks when none is named, the default first."""
    forecast_compare: ModelReference | None = None
    """The model whose forecasts ``forecast-check`` sets beside the default's at the same cut-offs."""


class _StudyFile(_Table):
    study: StudyWords
    columns: dict[str, Words] = Field(default_factory=dict)
    readings: Readings = Field(default_factory=Readings)
    models: Models = Field(default_factory=Models)
    comparisons: Comparisons | None = None


class Study(BaseModel):
    """A study's words and reference figures, validated (from ``study.toml``).

    Attributes
    ----------
    words : StudyWords
        What is counted, where and when, and how the sentence to cite words it.
    columns : dict of str to str
        A label for each column of ``units.csv`` beyond the built-in ones (and for any other
        numeric column that a figure's axis may show): ``{"han_share_2020": "Han share …"}``.
    comparisons : Comparisons or None
        The figures the total is set against; ``None`` when the study has none.
    readings : Readings
        How printed words are read (the width of "nearly X").
    models : Models
        The models the commands fit when none is named (``[models]``: ``default``, ``compare``,
        ``forecast_compare``), as the file writes them; :meth:`dnamodel.data.Dataset.model` finds them.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> study = load_data().study
    >>> [figure.label for figure in study.figures]
    ['Estimate One', 'one million', 'Estimate Two']
    """

    model_config = ConfigDict(frozen=True)

    words: StudyWords
    columns: dict[str, str] = Field(default_factory=dict)
    comparisons: Comparisons | None = None
    readings: Readings = Field(default_factory=Readings)
    models: Models = Field(default_factory=Models)

    @property
    def figures(self) -> tuple[ComparisonFigure, ...]:
        """The comparison figures, in the file's order (none when the study has none)."""
        return tuple(self.comparisons.figures) if self.comparisons is not None else ()

    @property
    def thresholds(self) -> tuple[float, ...]:
        """The totals a summary gives P(total > threshold) for: the comparison figures'."""
        return tuple(figure.total for figure in self.figures)

    def marks(self) -> list[tuple[float, str]]:
        """The comparison figures drawn as dashed lines: ``(total, label)``, label as "report, Estimate One"."""
        source = self.comparisons.source if self.comparisons is not None else ""
        return [(figure.total, f"{source}, {figure.label}") for figure in self.figures if figure.marked]

    def period(self, end: str | None = None) -> str:
        """The study's period in words ("2016 to July 2022"); ``end`` (a dated model's date) overrides its end.

        Examples
        --------
        >>> from dnamodel.data import load_data
        >>> study = load_data().study
        >>> study.period(), study.period("2020-06-30")
        ('2016 to July 2022', '2016 to 30 June 2020')
        """
        last = end or self.words.end
        parts = [month_year(d) for d in (self.words.start, last) if d]
        return " to ".join(parts)

    def title(self, end: str | None = None) -> str:
        """What the total counts, where and when: ``"DNA samples collected in the North, 2016 to July 2022"``."""
        period = self.period(end)
        return f"{_capital(self.words.counted)} in {self.words.place}" + (f", {period}" if period else "")

    @property
    def groups_word(self) -> str:
        """What the study calls its groups, in the plural: ``[study] groups``, else ``group`` with an "s".

        Examples
        --------
        >>> from dnamodel.data import load_data
        >>> load_data().study.groups_word
        'prefectures'
        """
        return self.words.groups or f"{self.words.group}s"

    def label(self, column: str) -> str:
        """The label of a column for an axis: its ``[columns]`` entry, else the column's name."""
        return self.columns.get(column, column)


NEUTRAL = Study(
    words=StudyWords(
        region="the region",
        place="the region",
        counted="counted",
        unit="people",
        claim="the sources had counted",
    )
)
"""Words for outputs drawn without a study (a figure called with no ``study``): no comparisons."""


def month_year(date: str) -> str:
    """A date as words: ``"2022-07"`` is ``"July 2022"``.

    Examples
    --------
    >>> month_year("2022-07"), month_year("2020"), month_year("2020-06-30")
    ('July 2022', '2020', '30 June 2020')
    """
    import calendar  # deferred: only when a date is worded

    parts = [int(p) for p in date.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{parts[2]} {month} {parts[0]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def parse_study(raw: bytes, file: str, problems: list[Problem]) -> Study | None:
    """Validate a study file's bytes; add every problem, with its key, to ``problems``.

    Returns
    -------
    Study or None
        ``None`` when the file has a problem.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(Problem(file, None, None, f"is not UTF-8 text (byte {error.start})"))
        return None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problems.append(Problem(file, getattr(error, "lineno", None), None, f"not valid TOML: {error}"))
        return None
    except RecursionError:
        problems.append(Problem(file, None, None, "not valid TOML: nested too deeply"))
        return None
    try:
        parsed = _StudyFile.model_validate(table)
    except ValidationError as error:
        for item in error.errors():
            key = ".".join(str(part) for part in item["loc"])
            problems.append(Problem(file, None, key or None, _message(item)))
        return None
    words = parsed.study
    if words.start is not None and words.end is not None and first_day(words.start) > last_day(words.end):
        problems.append(Problem(file, None, "study.start", f"{words.start} is after the period's end, {words.end}"))
        return None
    return Study(
        words=words,
        columns=dict(parsed.columns),
        comparisons=parsed.comparisons,
        readings=parsed.readings,
        models=parsed.models,
    )


_OWNERS: dict[str, Callable[[], Any]] = {
    "": lambda: _StudyFile,
    "study": lambda: StudyWords,
    "comparisons": lambda: Comparisons,
    "figures": lambda: ComparisonFigure,
    "readings": lambda: Readings,
    "models": lambda: Models,
}


def _message(item: Any) -> str:
    """Pydantic's error in the file's words: an unknown key gets the nearest known one."""
    if item["type"] == "extra_forbidden":
        loc = [part for part in item["loc"] if isinstance(part, str)]
        owner = _OWNERS.get(loc[-2] if len(loc) > 1 else "", lambda: _StudyFile)()
        return f"unknown key{did_you_mean(str(loc[-1]), owner.model_fields)}"
    if item["type"] == "missing":
        return "missing"
    if item["type"] in EXPECTED:
        return wrong_type(EXPECTED[item["type"]], item.get("input"))
    return str(item["msg"]).removeprefix("Value error, ")
