"""Bundled data → validated inputs.

dnamodel reads a data folder: the bundled case study's, shipped in ``dnamodel/data/bundled/``
and described in that folder's ``README.md``, or one a user names. Its files (the CSV files'
columns are the row models of :mod:`dnamodel.data.schema`):

``units.csv``
    The units the region is made of, each in a group, with its population and any numeric
    columns of the study's own (a covariate).
``areas.csv``
    The region and its groups of units (``group`` rows), with their populations.
``observations.csv``
    Every figure the sources print about a place: counts, population bases, shares, each
    with its source.
``study.toml``
    The study's words (what is counted, where, when, the sentence to cite), the labels of
    its own columns, and the figures an estimate is set against (:mod:`dnamodel.data.study`).
``report_figures.csv`` (optional)
    Figures a report derives itself, which the case study's ``replicate`` and ``audit``
    recompute.

:func:`load_data` validates all of them and raises one :class:`DataError` that
lists every problem with its file, row and field. :func:`export_data` writes the
bundled files out for a user to edit; :func:`load_data` reads them back.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dnamodel.data.schema import (
    COUNT_KINDS,
    EXTRA_FIELD,
    POPULATION_KINDS,
    RENAMED_COLUMNS,
    SAMPLE_KINDS,
    SHARE_KINDS,
    Area,
    Observation,
    ReportFigure,
    Unit,
    _Row,
    extra_number,
)
from dnamodel.data.study import STUDY_FILE, Study, first_day, last_day, parse_study
from dnamodel.errors import DataError, Problem, UsageError, check_type, did_you_mean
from dnamodel.files import atomic_write_files, make_folder, read_input, remove_folders

FILES = ("units.csv", "areas.csv", "observations.csv", STUDY_FILE, "report_figures.csv")
"""The data files, in the order they are read and hashed."""

OPTIONAL_FILES = frozenset({"report_figures.csv"})
"""Data files a folder may leave out: without them, what needs them (the case study) is skipped."""


# --- the validated data set ---------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The validated inputs.

    Attributes
    ----------
    units : dict of str to Unit
        The units, keyed by id, in file order.
    areas : dict of str to Area
        The region (:attr:`region`) and its groups of units, keyed by id.
    observations : dict of str to Observation
        Keyed by id, in file order.
    report_figures : dict of str to ReportFigure
        Keyed by id, in file order; empty when the folder has no ``report_figures.csv``.
    location : str
        ``"bundled"`` or the folder the files were read from.
    version : str
        ``"sha256:"`` and the first 16 hex digits of the hash of the files' bytes, in the
        order of :data:`FILES`: the data version results carry.
    study : Study
        The study's words, column labels and comparison figures (``study.toml``).
    """

    units: dict[str, Unit]
    areas: dict[str, Area]
    observations: dict[str, Observation]
    report_figures: dict[str, ReportFigure]
    location: str
    version: str
    study: Study

    @property
    def region(self) -> str:
        """The id of the region, the ``areas.csv`` row of level ``region``: a spec's word for all units."""
        return next(aid for aid, area in self.areas.items() if area.level == "region")

    @property
    def groups(self) -> tuple[str, ...]:
        """The ids of the groups of units (``areas.csv``'s ``group`` rows), in file order."""
        return tuple(aid for aid, area in self.areas.items() if area.level == "group")

    def numeric_columns(self) -> list[str]:
        """The columns of ``units.csv`` that hold numbers: the built-in ones the file has, and the study's own."""
        first = next(iter(self.units.values()))
        builtin = [name for name, info in Unit.model_fields.items() if name != EXTRA_FIELD and _numeric(info)]
        present = [name for name in builtin if any(getattr(unit, name) is not None for unit in self.units.values())]
        return present + list(first.extra)

    def path(self, name: str) -> str:
        """The path of one of the data files, as error messages name it."""
        return name if self.location == "bundled" else str(Path(self.location) / name)

    def model(self, reference: str) -> str:
        """A model the study names (``study.toml``'s ``[models]``) as ``load_model`` takes it.

        A shipped model's name is itself; a spec file's path (ending in ``.toml``) is relative to
        the data folder, so that a study's folder can travel with its specs beside it.

        Examples
        --------
        >>> load_data().model("dated")
        'dated'
        >>> Path(load_data("some/data").model("../models/dated.toml")).as_posix()  # doctest: +SKIP
        'some/data/../models/dated.toml'
        """
        if not reference.endswith(".toml"):
            return reference
        folder = bundled_dir() if self.location == "bundled" else Path(self.location)
        return str(folder / reference)

    def require(self, observation_ids: tuple[str, ...] = (), figure_ids: tuple[str, ...] = ()) -> None:
        """Raise :class:`DataError` naming every id a computation needs but the data lacks."""
        problems = [
            Problem(self.path("observations.csv"), None, "id", f"no row with id {oid!r}, which is needed here")
            for oid in observation_ids
            if oid not in self.observations
        ] + [
            Problem(self.path("report_figures.csv"), None, "id", f"no row with id {fid!r}, which is needed here")
            for fid in figure_ids
            if fid not in self.report_figures
        ]
        if problems:
            raise DataError(problems)

    def census_population(self, place: str) -> int | None:
        """The population of a unit, a group or the region (``population``); ``None`` if unknown."""
        if place in self.units:
            return self.units[place].population
        if place in self.areas:
            return self.areas[place].population
        return None

    def place_name(self, place: str) -> str:
        """English name of a unit, a group or the region."""
        if place in self.units:
            return self.units[place].name
        return self.areas[place].name if place in self.areas else place


def bundled_dir() -> Path:
    """The folder of the bundled data files inside the installed package."""
    return Path(str(resources.files("dnamodel.data") / "bundled"))


def given_data(data: Any, where: str) -> Dataset:
    """``data`` as a function of the public API takes it: a :class:`Dataset`, or ``None`` for the bundled data.

    Raises
    ------
    TypeError
        For anything else (a folder's path is read with :func:`load_data` first), naming ``where``.

    Examples
    --------
    >>> given_data("mydata", "replicate")
    Traceback (most recent call last):
    ...
    TypeError: replicate: data must be a Dataset (dnamodel.load_data(folder)) or None, got the str 'mydata'
    """
    if data is None:
        return load_data()
    check_type(data, Dataset, f"{where}: data", "a Dataset (dnamodel.load_data(folder)) or None")
    return data


def load_data(path: str | Path | None = None) -> Dataset:
    """Read and validate the data files.

    Parameters
    ----------
    path : str or Path, optional
        A folder holding ``units.csv``, ``areas.csv``, ``observations.csv``,
        ``study.toml`` and optionally ``report_figures.csv`` (as :func:`export_data`
        writes them). The bundled files when omitted.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Listing every problem found, each with its file, row and field.

    Examples
    --------
    >>> data = load_data()
    >>> len(data.units), data.region == next(iter(data.areas))
    (77, True)
    >>> data.study.words.unit
    'samples'
    """
    folder = bundled_dir() if path is None else Path(path)
    location = "bundled" if path is None else str(path)

    def shown(name: str) -> str:
        return name if path is None else str(Path(path) / name)

    if path is not None and not os.path.isdir(folder):  # os.path: a name too long is "no such folder", not an error
        raise DataError([Problem(str(path), None, None, "no such folder")])

    problems: list[Problem] = []
    raw: dict[str, bytes] = {}
    for name in FILES:
        if name in OPTIONAL_FILES and not os.path.lexists(folder / name):
            continue
        try:
            raw[name] = read_input(folder / name, shown(name))
        except DataError as error:
            problems.extend(error.problems)
    if problems:
        raise DataError(problems)

    study = parse_study(raw[STUDY_FILE], shown(STUDY_FILE), problems)
    # A study that failed is reported once: the units' own columns are then taken as they are.
    labelled = None if study is None else set(study.columns)
    tables = {
        "units.csv": _read_rows(shown("units.csv"), raw["units.csv"], Unit, problems, labelled),
        "areas.csv": _read_rows(shown("areas.csv"), raw["areas.csv"], Area, problems),
        "observations.csv": _read_rows(shown("observations.csv"), raw["observations.csv"], Observation, problems),
        "report_figures.csv": (
            _read_rows(shown("report_figures.csv"), raw["report_figures.csv"], ReportFigure, problems)
            if "report_figures.csv" in raw
            else _Parsed([], True, set())
        ),
    }
    keyed = {name: _by_id(shown(name), parsed.rows, problems) for name, parsed in tables.items()}
    units, areas = keyed["units.csv"], keyed["areas.csv"]
    observations, figures = keyed["observations.csv"], keyed["report_figures.csv"]
    lines = {name: {row.id: line for line, row in parsed.rows} for name, parsed in tables.items()}

    # A row that did not parse is reported once: checks that need all of a file (sums) or a
    # row that failed (references to it) are left out rather than reported as a second problem.
    places_complete = tables["units.csv"].complete and tables["areas.csv"].complete
    if places_complete:
        _check_places(shown, units, areas, lines, problems)
    unparsed = tables["observations.csv"].failed_ids | (set() if places_complete else {"*"})
    _check_observations(
        shown("observations.csv"), observations, units, areas, lines["observations.csv"], unparsed, problems
    )
    period_end = (None, None) if study is None else (study.words.end, shown(STUDY_FILE))
    _check_dates(shown("observations.csv"), observations, lines["observations.csv"], period_end, problems)
    if problems or study is None:
        raise DataError(sorted(problems, key=lambda p: (FILES.index(Path(p.file).name), p.row or 0)))

    digest = hashlib.sha256()
    for name in FILES:
        if name in raw:
            digest.update(name.encode() + b"\0" + raw[name] + b"\0")
    return Dataset(units, areas, observations, figures, location, "sha256:" + digest.hexdigest()[:16], study)


def export_data(directory: str | Path, *, overwrite: bool = False, example: str | None = None) -> list[Path]:
    """Write the bundled data files (and their README), or an example programme, to ``directory`` for editing.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    overwrite : bool
        Replace files that are already there; otherwise refuse, so that edits are
        never lost.
    example : str, optional
        The name of an example programme shipped with dnamodel (:func:`examples`): its
        whole folder is written, ``data/`` (for ``--data``), ``models/``, ``sweeps/`` and
        its README, instead of the bundled data.

    Returns
    -------
    list of Path
        The files written: all of them, or none (:func:`dnamodel.files.atomic_write_files`).

    Raises
    ------
    UsageError
        If a file is already there and ``overwrite`` is false, the folder cannot
        be made, a file cannot be written (no space left, permission denied), or there
        is no such example. Nothing is then written, and no folder is left created.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = export_data(folder, example="quillmoor")
    ...     sorted(str(p.relative_to(folder)) for p in written)[:3]
    ['README.md', 'data/areas.csv', 'data/observations.csv']
    """
    target = Path(directory)
    if example is not None:
        known = examples()
        if example not in known:
            raise UsageError(f"no example {example!r}{did_you_mean(example, known)}; examples: {', '.join(known)}")
        source = examples_dir() / example
        names = tuple(
            str(path.relative_to(source)) for path in sorted(source.rglob("*")) if path.is_file() and _shipped(path)
        )
    else:
        source = bundled_dir()
        names = tuple(name for name in (*FILES, "README.md") if (source / name).is_file())
    existing = [name for name in names if os.path.lexists(target / name)]
    if existing and not overwrite:
        raise UsageError(f"{target} already holds {', '.join(existing)}; pass --force to replace them")
    created: list[Path] = []
    try:
        for folder in dict.fromkeys((target / name).parent for name in names):
            created += make_folder(folder, "folder")
        # all or none: a full disk or a refused write leaves neither files nor folders of ours behind
        return atomic_write_files({target / name: (source / name).read_bytes() for name in names})
    except BaseException:
        remove_folders(created)
        raise


def examples_dir() -> Path:
    """The folder of the example programmes inside the installed package (``dnamodel/examples/``)."""
    return Path(str(resources.files("dnamodel") / "examples"))


def examples() -> list[str]:
    """The names of the example programmes shipped with dnamodel.

    Returns
    -------
    list of str
        Sorted; each is a folder of :func:`example_path`, and ``export_data(DIR, example=NAME)``
        copies it.

    Examples
    --------
    >>> examples()
    ['maravel', 'quillmoor']
    """
    folder = examples_dir()
    return sorted(p.name for p in folder.iterdir() if (p / "data").is_dir()) if folder.is_dir() else []


def example_path(name: str) -> Path:
    """The folder of an example programme shipped with dnamodel, inside the installed package.

    It holds ``README.md``, ``data/`` (a data folder for ``--data``), ``models/`` (its specs)
    and ``sweeps/``. Read it in place, or copy it with ``export_data(DIR, example=name)``.

    Parameters
    ----------
    name : str
        One of :func:`examples`.

    Returns
    -------
    pathlib.Path
        The example's folder.

    Raises
    ------
    UsageError
        If no example has that name (with "did you mean …?").

    Examples
    --------
    >>> folder = example_path("quillmoor")
    >>> sorted(p.name for p in (folder / "data").iterdir() if p.suffix in (".csv", ".toml"))
    ['areas.csv', 'observations.csv', 'study.toml', 'units.csv']
    """
    known = examples()
    if name not in known:
        raise UsageError(f"no example {name!r}{did_you_mean(name, known)}; examples: {', '.join(known)}")
    return examples_dir() / name


def _shipped(path: Path) -> bool:
    """Whether a file of an example folder is one of its own (not a cache or an editor's file)."""
    return path.suffix in (".csv", ".toml", ".md") and not any(part.startswith(".") for part in path.parts)


# --- reading and checking ----------------------------------------------------------------


@dataclass
class _Parsed:
    """One file's rows that parsed, as ``(line, row)`` pairs, and what did not."""

    rows: list[tuple[int, Any]]
    complete: bool  # every row parsed (so sums over the file mean something)
    failed_ids: set[str]  # ids of rows that did not parse, so references to them are not also reported


def _read_rows(
    file: str, raw: bytes, model: type[_Row], problems: list[Problem], labelled: set[str] | None = None
) -> _Parsed:
    """Parse one CSV file, adding every problem found to ``problems``.

    A model with an ``extra`` field (:class:`Unit`) takes columns of the study's own, each labelled
    in ``study.toml`` (``labelled``; ``None`` takes any), holding numbers; the other models take
    only their own columns. A column the model's field has a default for may be left out.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(Problem(file, None, None, f"is not UTF-8 text (byte {error.start})"))
        return _Parsed([], False, set())
    if not text.strip():
        problems.append(Problem(file, None, None, "is empty: it needs a header and at least one row"))
        return _Parsed([], False, set())
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        problems.append(Problem(file, reader.line_num or 1, None, f"cannot be read as CSV: {error}"))
        return _Parsed([], False, set())
    seen: dict[str, int] = {}
    duplicated = []
    for position, column in enumerate(header, start=1):
        if column in seen:
            where = f"columns {seen[column]} and {position}"
            duplicated.append(
                Problem(file, 1, column, f"is in the header twice ({where}): which one holds the values?")
            )
        else:
            seen[column] = position
    if duplicated:  # csv would keep the last one's values without a word
        problems.extend(duplicated)
        return _Parsed([], False, set())
    fields = model.model_fields
    expected = [name for name in fields if name != EXTRA_FIELD]
    takes_extra = EXTRA_FIELD in fields
    own = [c for c in header if c not in expected and takes_extra and (labelled is None or c in labelled)]
    hint = " (a column of the study's own holds numbers and needs a label in study.toml's [columns])"
    # a column dnamodel renamed is named with its new name, once, not as an unknown one and a missing one
    renamed = {old: new for old, new in RENAMED_COLUMNS.get(Path(file).name, {}).items() if old in header}
    header_problems = (
        [
            Problem(
                file,
                1,
                old,
                f"renamed to {new!r} after dnamodel 0.1.0: rename the column in the header (its values stay)",
            )
            for old, new in renamed.items()
            if new not in header
        ]
        + [
            Problem(file, 1, column, "missing column")
            for column in expected
            if column not in header and fields[column].is_required() and column not in renamed.values()
        ]
        + [
            Problem(file, 1, column, f"unknown column{did_you_mean(column, expected)}{hint if takes_extra else ''}")
            for column in header
            if column not in expected
            and column not in own
            and not (column in renamed and renamed[column] not in header)
        ]
    )
    if header_problems:
        problems.extend(header_problems)
        return _Parsed([], False, set())

    parsed = _Parsed([], True, set())
    records = iter(reader)
    end = reader.line_num  # the last line of the last record read: the next record starts after it
    while True:
        try:
            record = next(records, None)
        except csv.Error as error:
            # The reader cannot go on past a line it cannot split (a field over csv's limit of
            # 131,072 characters): the file is left out of the checks across rows, whose rows
            # after this line would otherwise look missing.
            problems.append(Problem(file, end + 1, None, f"cannot be read as CSV: {error}"))
            return _Parsed([], False, set())
        if record is None:
            break
        # A row is named by the line it starts on: a quoted field may run over several lines, and a
        # quote left open runs on to the next quote, perhaps dozens of lines later.
        line, end = end + 1, reader.line_num
        if None in record or any(value is None for value in record.values()):
            fewer_or_more = "more" if None in record else "fewer"
            message = f"has {fewer_or_more} fields than the header's {len(header)}"
            if end > line:
                message += f'; it runs on to row {end}: is a quote (") opened on row {line} left unclosed?'
            problems.append(Problem(file, line, None, message))
        else:
            extra: dict[str, Any] = {}
            failed = False
            for column in own:
                try:
                    extra[column] = extra_number(record.pop(column))
                except ValueError as error:  # pydantic's custom error is a ValueError
                    problems.append(Problem(file, line, column, str(error)))
                    failed = True
            try:
                row = model.model_validate(record | ({EXTRA_FIELD: extra} if takes_extra else {}))
                if not failed:
                    parsed.rows.append((line, row))
                    continue
            except ValidationError as error:
                for item in error.errors():
                    field = str(item["loc"][0]) if item["loc"] else None
                    problems.append(Problem(file, line, field, item["msg"]))
        parsed.complete = False
        parsed.failed_ids.add(str(record.get("id") or "").strip())
    if parsed.complete and not parsed.rows:
        problems.append(Problem(file, None, None, "has a header but no rows"))
        parsed.complete = False
    return parsed


def _by_id(file: str, rows: list[tuple[int, Any]], problems: list[Problem]) -> dict[str, Any]:
    keyed: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    for line, row in rows:
        if row.id in keyed:
            problems.append(Problem(file, line, "id", f"duplicate id {row.id!r} (first on row {first_line[row.id]})"))
        else:
            keyed[row.id], first_line[row.id] = row, line
    return keyed


def _check_places(
    shown: Callable[[str], str],
    units: dict[str, Unit],
    areas: dict[str, Area],
    lines: dict[str, dict[str, int]],
    problems: list[Problem],
) -> None:
    """Units belong to known groups and add up to them; groups add up to the region."""
    units_file, areas_file = shown("units.csv"), shown("areas.csv")
    prefectures = {aid: area for aid, area in areas.items() if area.level == "group"}
    regions = [aid for aid, area in areas.items() if area.level == "region"]
    if areas and len(regions) != 1:
        problems.append(Problem(areas_file, None, "level", f"needs exactly one region row, found {len(regions)}"))
    for uid in set(units) & set(areas):
        problems.append(Problem(units_file, lines["units.csv"][uid], "id", f"{uid!r} is also an id in areas.csv"))
    for name, rows in (("units.csv", units), ("areas.csv", areas)):
        for rid, row in rows.items():
            if row.population == 0:
                problems.append(Problem(shown(name), lines[name][rid], "population", "must be more than 0"))
    for rid in regions:
        if areas[rid].parent is not None:
            message = "the region is part of no other area; leave it empty"
            problems.append(Problem(areas_file, lines["areas.csv"][rid], "parent", message))
    members: dict[str, list[int]] = {}
    for unit in units.values():
        members.setdefault(unit.group, []).append(unit.population)
    for uid, unit in units.items():
        if unit.folded_into == uid:
            problems.append(Problem(units_file, lines["units.csv"][uid], "folded_into", "names the unit itself"))
        if unit.group not in prefectures:
            hint = did_you_mean(unit.group, prefectures)
            message = f"unknown group {unit.group!r}{hint} (a row of areas.csv of level group)"
            problems.append(Problem(units_file, lines["units.csv"][uid], "group", message))
        if unit.folded_into is not None and unit.folded_into not in units:
            problems.append(
                Problem(units_file, lines["units.csv"][uid], "folded_into", f"unknown unit {unit.folded_into!r}")
            )
    for loop in _loops({uid: unit.folded_into for uid, unit in units.items()}):
        message = "folded_into references go round in a loop: " + " → ".join([*loop, loop[0]])
        problems.append(Problem(units_file, lines["units.csv"][loop[0]], "folded_into", message))
    for aid, area in prefectures.items():
        if area.parent not in regions:
            problems.append(Problem(areas_file, lines["areas.csv"][aid], "parent", f"unknown region {area.parent!r}"))
        populations = members.get(aid, [])
        if populations and sum(populations) != area.population:
            problems.append(
                Problem(
                    areas_file,
                    lines["areas.csv"][aid],
                    "population",
                    f"{area.population:,} but its {len(populations)} units in units.csv sum to {sum(populations):,}",
                )
            )
    total = sum(area.population for area in prefectures.values())
    for rid in regions:
        if prefectures and total != areas[rid].population:
            problems.append(
                Problem(
                    areas_file,
                    lines["areas.csv"][rid],
                    "population",
                    f"{areas[rid].population:,} but its groups sum to {total:,}",
                )
            )


def _check_observations(
    file: str,
    observations: dict[str, Observation],
    units: dict[str, Unit],
    areas: dict[str, Area],
    lines: dict[str, int],
    unparsed: set[str],
    problems: list[Problem],
) -> None:
    """Values fit their kinds, references resolve, and no count exceeds its population base.

    ``unparsed`` holds the ids of observation rows that failed to parse, and ``"*"`` if a
    census file did; references to those are not checked.
    """
    places = {**units, **areas}

    def report(oid: str, field: str, message: str) -> None:
        problems.append(Problem(file, lines[oid], field, message))

    # The largest population known for each place, from its whole-place rows: one pass, so that
    # the check of each sample count against it costs the same however many rows there are.
    largest: dict[str, Any] = {}
    for obs in observations.values():
        if obs.kind in POPULATION_KINDS and not obs.subarea:
            largest[obs.unit] = max(largest.get(obs.unit, obs.value), obs.value)

    for oid, obs in observations.items():
        if obs.date is not None and obs.period_start is not None and first_day(obs.period_start) > last_day(obs.date):
            report(oid, "period_start", f"{obs.period_start} is after the row's date, {obs.date}")
        if obs.part_of == oid:
            report(oid, "part_of", "a row cannot be part of itself")
        if obs.unit not in places and "*" not in unparsed:
            report(oid, "unit", f"unknown unit {obs.unit!r}{did_you_mean(obs.unit, places)}")
        if obs.kind in COUNT_KINDS and (obs.value != obs.value.to_integral_value() or obs.value < 0):
            report(oid, "value", f"must be a whole number ≥ 0 for kind {obs.kind!r}, got '{obs.value}'")
        elif obs.kind in POPULATION_KINDS and obs.value == 0:
            report(oid, "value", f"a population of 0 cannot be a base, for kind {obs.kind!r}")
        printed = obs.printed
        if printed is not None and printed.high is not None and not printed.value <= obs.exact <= printed.high:
            report(
                oid,
                "value",
                f"{obs.value} lies outside the printed range {printed.text!r}; write the figure to use, such as the "
                "range's geometric midpoint",
            )
        if obs.kind in SHARE_KINDS and not 0 <= obs.value <= 1:
            hint = ""
            if 1 < obs.value <= 100:
                hint = f" (a percentage? write {obs.value}% as {obs.value / 100})"
            elif obs.value < 0:
                hint = " (a share cannot be negative)"
            report(oid, "value", f"must be a share between 0 and 1 for kind {obs.kind!r}{hint}, got '{obs.value}'")

        for field, allowed in _reference_rules(obs.kind).items():
            target_id = getattr(obs, field)
            if target_id is None:
                continue
            if not allowed:
                report(oid, field, f"a row of kind {obs.kind!r} takes no {field}")
            elif target_id in unparsed:
                continue
            elif target_id not in observations:
                report(oid, field, f"no observation with id {target_id!r}{did_you_mean(target_id, observations)}")
            elif observations[target_id].kind not in allowed:
                report(
                    oid,
                    field,
                    f"{target_id!r} is of kind {observations[target_id].kind!r}; "
                    f"expected one of: {', '.join(sorted(allowed))}",
                )

    for oid, obs in observations.items():
        numerator = obs if obs.kind in COUNT_KINDS else observations.get(obs.samples_ref or "")
        base = observations.get(obs.base_ref or "")
        already_reported = numerator is not obs and numerator is not None and numerator.base_ref == obs.base_ref
        if (
            numerator is not None
            and base is not None
            and not already_reported
            and base.kind in COUNT_KINDS
            and numerator.value >= 0
            and numerator.value > base.value
        ):
            field = "value" if numerator is obs else "samples_ref"
            report(
                oid,
                field,
                f"{numerator.value:,} {numerator.kind.replace('_', ' ')} exceed their base "
                f"{base.id!r} ({base.value:,})",
            )
        if (
            obs.kind in SHARE_KINDS - {"han_share"}
            and obs.value == 0
            and numerator is not None
            and numerator is not obs
            and numerator.value > 0
        ):
            report(oid, "value", f"a share of 0 cannot be made of {numerator.value:,} samples ({numerator.id!r})")
        if obs.kind in SAMPLE_KINDS and not obs.subarea and obs.unit in places:
            base = max(places[obs.unit].population, largest.get(obs.unit, 0))
            if obs.value > base:
                report(
                    oid,
                    "value",
                    f"{obs.value:,} samples exceed the largest population known for {obs.unit!r} ({base:,})",
                )
    _check_part_of_loops(observations, report)


def _check_dates(
    file: str,
    observations: dict[str, Observation],
    lines: dict[str, int],
    period_end: tuple[str | None, str | None],
    problems: list[Problem],
) -> None:
    """No row is dated after today, and none after the study's period (``study.toml``'s ``end``).

    A figure dated in the future is a typing error (2202 for 2022); one after the period the study
    declares would be fitted as if inside it, so both are refused, each with its fix. A source may
    be published after the period (the report on it usually is), but not after today.
    """
    today = dt.date.today().isoformat()
    end, study_file = period_end
    for oid, obs in observations.items():
        for field in ("date", "period_start"):
            value = getattr(obs, field)
            if value is None:
                continue
            if first_day(value) > today:
                message = f"{value} is in the future (today is {today}): a figure reports what has happened"
                problems.append(Problem(file, lines[oid], field, message))
            elif end is not None and first_day(value) > last_day(end):
                message = (
                    f"{value} is after the study's period, which ends {end} ({study_file}, [study] end): "
                    "correct the date, or extend the period"
                )
                problems.append(Problem(file, lines[oid], field, message))
        for part in (obs.source_date or "").split("/"):
            if part and first_day(part) > today:
                message = f"{part} is in the future (today is {today}): a source cannot be published later than now"
                problems.append(Problem(file, lines[oid], "source_date", message))


def _check_part_of_loops(observations: dict[str, Observation], report: Callable[[str, str, str], None]) -> None:
    """Report each loop of ``part_of`` references (a → b → a) once, at its first row; in one pass."""
    links = {oid: obs.part_of for oid, obs in observations.items()}
    for loop in _loops(links):
        report(loop[0], "part_of", "part_of references go round in a loop: " + " → ".join([*loop, loop[0]]))


def _loops(links: dict[str, str | None]) -> list[list[str]]:
    """Each loop of references among ``links`` (id → the id it names), once, from its first id in order.

    A reference to itself is not a loop here (the callers say so on their own); one pass, however
    long the chains.

    Examples
    --------
    >>> _loops({"a": "b", "b": "c", "c": "a", "d": "a", "e": None})
    [['a', 'b', 'c']]
    """
    position = {key: i for i, key in enumerate(links)}
    state: dict[str, int] = {}  # 1: on the chain being followed, 2: done
    loops = []
    for start in links:
        chain: list[str] = []
        key: str | None = start
        while key is not None and key in links and key not in state:
            state[key] = 1
            chain.append(key)
            key = links[key]
        if key is not None and state.get(key) == 1 and links[key] != key:
            loop = chain[chain.index(key) :]
            first = loop.index(min(loop, key=position.__getitem__))
            loops.append(loop[first:] + loop[:first])
        for visited in chain:
            state[visited] = 2
    return loops


def _numeric(info: Any) -> bool:
    """Whether a row model's field holds numbers."""
    text = str(info.annotation)
    return any(word in text for word in ("int", "float", "Decimal"))


def _reference_rules(kind: str) -> dict[str, frozenset[str]]:
    """Which kinds each reference column of a row of ``kind`` may point at (empty: none)."""
    none: frozenset[str] = frozenset()
    if kind == "coverage_share":
        return {"samples_ref": SAMPLE_KINDS, "base_ref": POPULATION_KINDS, "part_of": none}
    if kind in ("database_share", "growth_share"):
        return {"samples_ref": SAMPLE_KINDS, "base_ref": SAMPLE_KINDS, "part_of": none}
    if kind in SAMPLE_KINDS:
        return {"samples_ref": none, "base_ref": POPULATION_KINDS, "part_of": frozenset({kind})}
    if kind == "registered_residents":
        return {"samples_ref": none, "base_ref": POPULATION_KINDS, "part_of": none}
    if kind in POPULATION_KINDS:
        return {"samples_ref": none, "base_ref": none, "part_of": frozenset({kind})}
    return {"samples_ref": none, "base_ref": none, "part_of": none}
