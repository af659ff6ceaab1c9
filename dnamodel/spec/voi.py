"""Candidate observations for the value of information: the spec's ``[voi.NAME]`` tables, or defaults.

A candidate is a figure a researcher could look for: a count of what was collected in some places
by a date, a database's stock at a date, or the typed share κ measured in one place. Each is
resolved against the data into one observation row appended to a dated model's resolved inputs
(:func:`with_candidates`), so that the compiled density and its forward pass read it as they read
every other observation (``docs/model.md``, section 5.15). With no ``[voi]`` table, the candidates
are generated from the spec and the data (:func:`default_candidates`): a count over each group and
over the region at the estimand's date, each database's stock at that date, κ measured in one place
and κ known.

``[voi.NAME]`` keys: ``kind`` (``"count"``, ``"database"`` or ``"typed_share"``), ``places`` (a
count's units, groups or the region), ``database`` (a database candidate's), ``date`` (default: the
estimand's), ``error`` (the candidate's own measurement error: log scale for a count or a stock,
logit scale for κ; defaults :data:`DEFAULT_ERROR`), ``words`` (what it is, in the study's words).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from dnamodel.data import Dataset
from dnamodel.errors import DataError, Problem, did_you_mean
from dnamodel.spec.base import _Strict, _validate
from dnamodel.spec.dated import BOUND_CODE, KIND_CODE, Date, DatedInputs, DatedSpec, decimal_year
from dnamodel.spec.hierarchical import LogError

CANDIDATE_KINDS = ("count", "database", "typed_share")
DEFAULT_ERROR = {"count": 0.10, "database": 0.05, "typed_share": 0.25}
"""A candidate's measurement error when its table gives none: a count's and a stock's on the log scale
(the spec's own counts and the thesis's stock are read at 0.10 and 0.05), κ's on the logit scale
(0.25 is about ±0.04 on κ near 0.8: κ from one place's samples and profiles)."""
KNOWN_ERROR = 0.02
"""The logit-scale error of the default candidate "κ known": close to exact, wide enough for the draws to weigh."""


class CandidateSpec(_Strict):
    """``[voi.NAME]``: a figure that might be found, and how precisely it would be measured."""

    kind: Literal["count", "database", "typed_share"]
    places: list[str] = Field(default_factory=list)
    database: str | None = None
    date: Date | None = None
    error: LogError | None = None
    words: str = ""


@dataclass(frozen=True)
class Candidate:
    """A candidate resolved against the data: the observation row it would be, and what it is in words.

    ``members`` are the units a count covers (a database's, for a stock); ``database`` the index of
    a stock's database (0 otherwise); ``date`` a decimal year; ``error`` the candidate's measurement
    error on its own scale (log for a count or stock, logit for κ).
    """

    name: str
    kind: str
    words: str
    members: tuple[int, ...]
    database: int
    date: float
    date_label: str
    error: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the kind, the date, the error and the words)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "words": self.words,
            "date": self.date_label,
            "error": self.error,
            "units": len(self.members),
        }


def parse_candidates(raw: Any, file: str) -> dict[str, CandidateSpec]:
    """Validate the spec's ``[voi.NAME]`` tables (``raw`` is the parsed ``voi`` table, or None).

    Raises
    ------
    DataError
        Listing every problem, each naming the file and the dotted key (``voi.NAME.KEY``).
    """
    if raw is None:
        return {}
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(file, None, key, message))

    if not isinstance(raw, dict):
        raise DataError([Problem(file, None, "voi", "must be tables [voi.NAME]")])
    out: dict[str, CandidateSpec] = {}
    for name, table in raw.items():
        parsed = _validate(CandidateSpec, table, f"voi.{name}", report)
        if parsed is None:
            continue
        key = f"voi.{name}"
        if parsed.kind == "count" and not parsed.places:
            report(f"{key}.places", "a count needs the places it covers: units, groups or the region")
        if parsed.kind != "count" and parsed.places:
            report(f"{key}.places", f"a {parsed.kind} candidate takes no places (a count does)")
        if parsed.kind == "database" and parsed.database is None:
            report(f"{key}.database", "a database candidate needs the database it counts")
        if parsed.kind != "database" and parsed.database is not None:
            report(f"{key}.database", f"a {parsed.kind} candidate takes no database (a database candidate does)")
        out[name] = parsed
    if problems:
        raise DataError(problems)
    return out


def _candidate_words(kind: str, where: str, date: str, unit: str) -> str:
    if kind == "count":
        return f"{unit} collected in {where} by {date}"
    if kind == "database":
        return f"profiles in {where} by {date}"
    return where


def default_candidates(spec: DatedSpec, data: Dataset) -> dict[str, CandidateSpec]:
    """The candidates when a spec declares none: the figures whose absence the review names.

    A count over each group and over the region at the estimand's date; each database's stock at that
    date; κ measured in one place (:data:`DEFAULT_ERROR`) and κ known (:data:`KNOWN_ERROR`).
    """
    out: dict[str, CandidateSpec] = {}
    for group in data.groups:
        out[f"{group}_count"] = CandidateSpec(kind="count", places=[group])
    out[f"{data.region}_count"] = CandidateSpec(kind="count", places=[data.region])
    if spec.databases is not None:
        for database in spec.databases.areas:
            out[f"{database}_database"] = CandidateSpec(kind="database", database=database)
        fixed = "typed_share" in spec.priors and getattr(spec.priors["typed_share"], "dist", "") == "fixed"
        if not fixed:
            out["typed_share_measured"] = CandidateSpec(kind="typed_share")
            out["typed_share_known"] = CandidateSpec(kind="typed_share", error=KNOWN_ERROR)
    return out


def resolve_candidates(spec: DatedSpec, data: Dataset, inputs: DatedInputs) -> tuple[Candidate, ...]:
    """The spec's candidates (or :func:`default_candidates`) resolved against the data and the inputs.

    Raises
    ------
    DataError
        Naming the spec file and ``voi.NAME.KEY`` of an unknown place or database, a date that is
        not a date, or κ asked of a model that has no databases or holds κ fixed.
    """
    declared = parse_candidates(spec.raw.get("voi"), spec.path)
    tables = declared or default_candidates(spec, data)
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(spec.path, None, key, message))

    units = inputs.unit
    index = {u: i for i, u in enumerate(units)}
    places = (*units, *data.groups, data.region)
    unit_word = data.study.words.unit
    out = []
    for name, table in tables.items():
        key = f"voi.{name}"
        date_label = table.date or inputs.estimand_label
        date = decimal_year(date_label)
        error = table.error if table.error is not None else DEFAULT_ERROR[table.kind]
        members: set[int] = set()
        database = 0
        where = ""
        if table.kind == "count":
            for place in table.places:
                if place in index:
                    members.add(index[place])
                elif place in data.groups:
                    members |= {i for i, u in enumerate(units) if data.units[u].group == place}
                elif place == data.region:
                    members |= set(range(len(units)))
                else:
                    report(f"{key}.places", f"unknown unit or area {place!r}{did_you_mean(place, places)}")
            where = " and ".join(data.place_name(p) for p in table.places if p in places)
        elif table.kind == "database":
            if table.database not in inputs.database:
                known = inputs.database or ("(the spec has no [databases])",)
                report(
                    f"{key}.database", f"unknown database {table.database!r}{did_you_mean(str(table.database), known)}"
                )
                continue
            database = inputs.database.index(table.database)
            members = set(inputs.database_members[database])
            areas = spec.databases.areas[table.database] if spec.databases is not None else []
            where = "the database of " + " and ".join(data.place_name(p) for p in areas if p in places)
        else:
            kappa = spec.priors.get("typed_share")
            if not inputs.database or kappa is None or getattr(kappa, "dist", "") == "fixed":
                report(
                    f"{key}.kind",
                    "κ (the typed share) is not a parameter of this model: it has no databases or holds κ fixed",
                )
                continue
            where = "the typed share κ known" if error <= KNOWN_ERROR else "the typed share κ measured in one place"
        words = table.words or _candidate_words(table.kind, where, date_label, unit_word)
        out.append(Candidate(name, table.kind, words, tuple(sorted(members)), database, date, date_label, error))
    if problems:
        raise DataError(problems)
    if not out:
        raise DataError([Problem(spec.path, None, "voi", "no candidate observation: declare one as [voi.NAME]")])
    return tuple(out)


def with_candidates(inputs: DatedInputs, candidates: tuple[Candidate, ...]) -> DatedInputs:
    """The inputs with each count or stock candidate appended as an observation row (value 1, a placeholder).

    The appended rows are the spec's own kinds, read by the compiled density as every other row is:
    a count over the candidate's units, cumulative to its date, or a database's stock. Nothing else
    changes (no unit becomes "reported", no forecast moves), so a packed vector with the rows
    inactive is the fit's own density. κ candidates add no row: κ is a parameter, weighed directly.
    """
    rows = [c for c in candidates if c.kind in ("count", "database")]
    if not rows:
        return inputs
    n = len(rows)

    def more(array: np.ndarray, values: list[float] | np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(array), np.asarray(values, dtype=np.asarray(array).dtype)])

    return dataclasses.replace(
        inputs,
        observation=(*inputs.observation, *(c.name for c in rows)),
        kind=more(inputs.kind, [KIND_CODE[c.kind] for c in rows]),
        censor=more(inputs.censor, [BOUND_CODE["none"]] * n),
        value=more(inputs.value, [1.0] * n),
        error=more(inputs.error, [c.error for c in rows]),
        date=more(inputs.date, [c.date for c in rows]),
        since=more(inputs.since, [math.nan] * n),
        base=more(inputs.base, [0.0] * n),
        database_index=more(inputs.database_index, [c.database for c in rows]),
        members=(*inputs.members, *(c.members for c in rows)),
        date_label=(*inputs.date_label, *(c.date_label for c in rows)),
        since_label=(*inputs.since_label, *([""] * n)),
        typed_numerator=more(inputs.typed_numerator, [0.0] * n)
        if len(inputs.typed_numerator) == len(inputs.observation)
        else inputs.typed_numerator,
        unverified_group=more(inputs.unverified_group, [-1] * n)
        if len(inputs.unverified_group) == len(inputs.observation)
        else inputs.unverified_group,
        reading=(*inputs.reading, *([""] * n)) if len(inputs.reading) == len(inputs.observation) else inputs.reading,
        sources={**inputs.sources, **{c.name: c.words for c in rows}},
        notes={**inputs.notes, **{c.name: c.words for c in rows}},
    )
