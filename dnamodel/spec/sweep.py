"""Sweeps as specs: sweep files, and a model spec changed at dotted paths.

A sweep file (``dnamodel/models/sweeps/NAME.toml``) names a model, a description and a grid of
dotted spec paths with their values; :func:`read_sweep` reads and checks it
(:func:`dnamodel.load_sweep` also checks its grid against its model). A path addresses the spec's
TOML (``fraction.beta.sigma``, ``thesis.use``, ``observations.NAME.samples``,
``inputs.rest_position.high``, ``fraction.reported.sigma``, ``campaign.start.default.around``,
...): :func:`known_paths` lists every path a spec has or its schema allows, :func:`set_path` sets
one (an unknown path gets "did you mean …?"; a table takes a whole table, or ``false`` to leave it
out), :func:`linked` splits a grid key that sets several paths together (``a.use+b.use``), and
:func:`changed_raw` is the spec's tables with a point's values set, recorded in its text so that its
hash differs. :func:`current_value` is a spec's own value at a path, its schema's default included.
What differs by kind of spec (the optional keys of its schema, the tables it may leave out) is its
model family's (:meth:`dnamodel.families.base.Family.sweep_paths`).
:func:`dnamodel.workflows.sweep.sweep` runs the grid.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnamodel.errors import DataError, Problem, UsageError, check_type, did_you_mean, wrong_type
from dnamodel.spec.base import MODELS_DIR, _shown, available_models, read_toml

GridPaths = Callable[[str], tuple[dict[str, Any], list[str], tuple[str, ...]]]
"""A model's spec tables, the paths a sweep may set in it, and the tables it may leave out."""

# --- paths ---------------------------------------------------------------------------------------

LINK = "+"
"""Joins paths that one grid axis sets together: ``"a.use+b.use" = [true, false]`` sets both."""


def known_paths(raw: Mapping[str, Any], optional: Sequence[str] = ()) -> list[str]:
    """Every dotted path a sweep may set: the spec's own keys, and ``optional`` keys its schema allows.

    A model family gives its schema's optional keys (:meth:`dnamodel.families.base.Family.sweep_paths`);
    :func:`dnamodel.families.known_paths` is this for a loaded spec.

    Examples
    --------
    >>> known_paths({"fraction": {"beta": {"sigma": 1.0}}}, ["population.census_error"])
    ['fraction.beta.sigma', 'population.census_error']
    """
    paths: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        else:
            paths.append(prefix)

    walk(raw, "")
    for path in optional:
        if path not in paths:
            paths.append(path)
    return paths


def linked(key: str) -> list[str]:
    """The paths a grid key sets: one, or several joined by ``+``.

    Examples
    --------
    >>> linked("observations.thesis_stock.use+observations.thesis_added.use")
    ['observations.thesis_stock.use', 'observations.thesis_added.use']
    """
    return [part.strip() for part in key.split(LINK)]


def check_path(key: str, known: Sequence[str]) -> None:
    """Raise for a grid key naming a path the spec does not have (each path of a linked key).

    A table (``fraction.reported``) is a valid path: a point may give it a whole table, or
    ``false`` to leave it out; :func:`set_path` says so when a point gives it anything else.

    Raises
    ------
    UsageError
        With the nearest known path.
    """
    for path in linked(key):
        if path not in known and not any(p.startswith(path + ".") for p in known):
            raise UsageError(f"unknown spec path {path!r}{did_you_mean(path, known)}")


def set_path(
    raw: dict[str, Any], path: str, value: Any, known: Sequence[str], optional_tables: Sequence[str] = ()
) -> None:
    """Set ``raw``'s value at a dotted ``path`` (in place).

    A table is replaced by a table (a dict), and ``false`` leaves it out: a table the spec has, or
    one of ``optional_tables``, which its model family lets a spec leave out (a dated spec's
    ``fraction.reported = false`` fits no offset for the reported units). Paths linked by ``+`` are
    each set to ``value``.

    Raises
    ------
    UsageError
        For a path the spec does not have, with the nearest known path; for a table given
        anything but a table or ``false``.
    """
    if LINK in path:
        for part in linked(path):
            set_path(raw, part, value, known, optional_tables)
        return
    parts = path.split(".")
    node: Any = raw
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, Mapping) else None
    current = node.get(parts[-1]) if isinstance(node, Mapping) else None
    optional = path in optional_tables
    if value is False and (isinstance(current, Mapping) or optional):
        if isinstance(node, dict):
            node.pop(parts[-1], None)
        return
    if path not in known:
        prefix = [p for p in known if p.startswith(path + ".")]
        if prefix and not isinstance(value, Mapping):
            raise UsageError(
                f"{path!r} is a table; set one of its keys, e.g. {prefix[0]!r}, "
                "or give a whole table, or false to leave it out"
            )
        if not prefix:
            raise UsageError(f"unknown spec path {path!r}{did_you_mean(path, known)}")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def current_value(spec: Any, key: str, optional_tables: Sequence[str] = ()) -> Any:
    """A spec's own value at a grid key: from its TOML, else its schema's default; ``None`` if neither.

    One of ``optional_tables`` that the spec leaves out is ``False`` (how a sweep says "left out").
    For a linked key, the value all its paths share (``None`` if they differ).

    Examples
    --------
    >>> from dnamodel.families import load_model
    >>> spec = load_model("dated")
    >>> current_value(spec, "fraction.unreported_offset"), current_value(spec, "observations.thesis_stock.use")
    (0.0, True)
    >>> current_value(spec, "fraction.nowhere", ["fraction.nowhere"])
    False
    """
    values = [_value_at(spec, path, optional_tables) for path in linked(key)]
    return values[0] if all(v == values[0] for v in values) else None


def _value_at(spec: Any, path: str, optional_tables: Sequence[str]) -> Any:
    node: Any = spec.raw
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if node is not None:
        return node
    if path in optional_tables:
        return False
    node = spec
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else getattr(node, part, None)
        if node is None:
            return None
    return node.model_dump() if hasattr(node, "model_dump") else node


def parse_values(text: str) -> list[Any]:
    """The values of one ``--set path=v1,v2,...``: JSON where it parses, else strings.

    Commas inside brackets or quotes do not split, so a list value can be given.

    Examples
    --------
    >>> parse_values('0.5,1,true,han_share,["east"],[]')
    [0.5, 1, True, 'han_share', ['east'], []]
    """
    items, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        current += char
    items.append(current)
    values = []
    for item in (i.strip() for i in items):
        if not item:
            raise UsageError(f"empty value in {text!r}")
        try:
            values.append(json.loads(item))
        except json.JSONDecodeError:
            values.append(item)
    twice = repeated(values)
    if twice is not None:
        raise UsageError(f"the value {json.dumps(twice)} is given twice: a point is run once")
    return values


def repeated(values: Sequence[Any]) -> Any:
    """The first value given twice in one axis of a grid (``0`` and ``0.0`` are one number), or ``None``.

    Examples
    --------
    >>> repeated([0, -0.5, 0.0]), repeated([True, 1]), repeated(["a", "b"])
    (0.0, None, None)
    """
    seen = set()
    for value in values:
        if isinstance(value, bool):
            key: Any = ("bool", value)
        elif isinstance(value, int | float):
            key = ("number", float(value))
        else:
            key = ("other", json.dumps(value, sort_keys=True, default=str))
        if key in seen:
            return value
        seen.add(key)
    return None


# --- the grid's size ------------------------------------------------------------------------------

MAX_POINTS = 1_000
"""The most points a sweep's grid may have. A point of the default dated model takes about 11 s at
its spec's settings on two cores (``benchmarks/README.md``: 20 points in 222 s), so 1,000 points are
about three hours there, and a Monte Carlo point about 0.5 s; the trial's grid of 120,000 points
would have run for two weeks. A larger study is several sweeps, each checked and resumable."""


def grid_points(grid: Mapping[str, Any]) -> int:
    """How many points a grid has: the product of its axes' lengths (an axis that is not a list counts 1).

    Examples
    --------
    >>> grid_points({"a": [1, 2, 3], "b+c": [True, False]})
    6
    """
    return math.prod(len(values) if isinstance(values, list | tuple) else 1 for values in grid.values())


def check_grid_size(grid: Mapping[str, Any], where: str | None = None) -> None:
    """Refuse a grid of more than :data:`MAX_POINTS` points, before any point is checked or run.

    ``where`` (``"--set"``, a sweep file) starts the message.

    Raises
    ------
    UsageError
        Giving the grid's size, each axis's length, and the cap.

    Examples
    --------
    >>> check_grid_size({"fraction.unreported_offset": [0.0, -0.5, -1.0]})
    """
    count = grid_points(grid)
    if count > MAX_POINTS:
        axes = " × ".join(f"{len(v) if isinstance(v, list | tuple) else 1:,}" for v in grid.values())
        raise UsageError(
            f"{where + ': ' if where else ''}{count:,} points ({axes}), more than the {MAX_POINTS:,} a sweep may have "
            "(a dated point takes about 11 s, so 1,000 take about three hours); split it into smaller sweeps"
        )


# --- shipped sweeps ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepFile:
    """A sweep declared in ``dnamodel/models/sweeps/NAME.toml``: ``[sweep]`` model and description, ``[grid]``."""

    name: str
    model: str
    description: str
    grid: dict[str, list[Any]]
    path: str
    words: dict[str, list[str]] = field(default_factory=dict)
    """Optional ``[words]``: for a grid path, what each of its values means, in words a reader who is
    not a statistician understands, as a clause after "If" ("fewer of the samples had reached the
    database"); ``estimate``'s sentence on the decisive assumptions quotes them."""


def sweeps_dir() -> Path:
    """Where shipped sweeps live: ``dnamodel/models/sweeps/``."""
    return MODELS_DIR / "sweeps"


def shipped_sweeps(model: str | None = None) -> list[str]:
    """Names of the shipped sweeps (``dnamodel/models/sweeps/``); with ``model``, only those of that model.

    Each names a model, a description and a grid of spec paths with the values each takes
    (:func:`read_sweep`); :func:`dnamodel.sweep` runs one.

    Parameters
    ----------
    model : str, optional
        A shipped model's name, e.g. ``"dated"``; by default every shipped sweep.

    Returns
    -------
    list of str
        The sweeps' names, sorted, each one :func:`read_sweep` reads.

    Raises
    ------
    TypeError
        If ``model`` is not a string.
    UsageError
        If ``model`` is not a shipped model's name (a model without sweeps gives ``[]``).

    Examples
    --------
    >>> "thesis" in shipped_sweeps("hierarchical_han"), "han_scale" in shipped_sweeps("dated")
    (True, False)
    """
    names = sorted(p.stem for p in sweeps_dir().glob("*.toml"))
    if model is None:
        return names
    check_type(model, str, "shipped_sweeps: model", "a shipped model's name, such as 'dated'")
    models = available_models()
    if model not in models:
        raise UsageError(f"no shipped model named {model!r}{did_you_mean(model, models)}; models: {', '.join(models)}")
    return [n for n in names if read_sweep(n).model == model]


def read_sweep(name_or_path: str | Path, paths: GridPaths | None = None) -> SweepFile:
    """Read and check a sweep file.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped sweep's name (:func:`shipped_sweeps`), or the path of a sweep file.
    paths : callable, optional
        Given the sweep's model (a shipped name or a spec path), its spec's tables, the paths a sweep
        may set in it and the tables it may leave out: with it, every grid path and value is checked
        against the model (the model families provide it: ``dnamodel.load_sweep`` passes it).

    Returns
    -------
    SweepFile
        Its ``name``, ``model``, ``description`` and ``grid``: each spec path with the values it
        takes, ready for :func:`dnamodel.sweep` (``sweep(job.model, job.grid, ...)``).

    Raises
    ------
    UsageError
        No such file or sweep.
    DataError
        A missing or unknown table or key, naming the file.

    Examples
    --------
    >>> read_sweep("thesis").grid
    {'thesis.use': [True, False]}
    """
    path = Path(name_or_path)
    shipped = sweeps_dir() / f"{name_or_path}.toml"
    if not os.path.lexists(path) and os.path.exists(shipped):  # os.path: a too-long name is False, not an error
        path = shipped
    if not os.path.lexists(path):
        raise UsageError(
            f"no sweep file or shipped sweep {_shown(name_or_path)!r}"
            f"{did_you_mean(str(name_or_path), shipped_sweeps())}; shipped: {', '.join(shipped_sweeps())}"
        )
    raw, _, file = read_toml(path)
    problems = [
        Problem(file, None, k, f"unknown table{did_you_mean(k, ('sweep', 'grid', 'words'))}")
        for k in raw
        if k not in ("sweep", "grid", "words")
    ]
    table: dict[str, Any] = raw["sweep"] if isinstance(raw.get("sweep"), dict) else {}
    if "sweep" in raw and not isinstance(raw["sweep"], dict):
        problems.append(Problem(file, None, "sweep", wrong_type("a table", raw["sweep"])))
    for key in table:
        if key not in ("model", "description"):
            problems.append(
                Problem(file, None, f"sweep.{key}", f"unknown key{did_you_mean(key, ('model', 'description'))}")
            )
    for key in ("model", "description"):
        if key not in table:
            problems.append(Problem(file, None, f"sweep.{key}", "missing: a string"))
        elif not isinstance(table[key], str):
            problems.append(Problem(file, None, f"sweep.{key}", wrong_type("a string", table[key])))
    grid = raw.get("grid")
    if not isinstance(grid, dict) or not grid:
        problems.append(Problem(file, None, "grid", "missing: at least one path and its list of values"))
        grid = {}
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            problems.append(Problem(file, None, f"grid.{json.dumps(key)}", "must be a non-empty list of values"))
        elif repeated(values) is not None:
            message = f"the value {json.dumps(repeated(values), default=str)} is given twice: a point is run once"
            problems.append(Problem(file, None, f"grid.{json.dumps(key)}", message))
    try:
        check_grid_size(grid)
    except UsageError as error:
        problems.append(Problem(file, None, "grid", str(error)))
    words = raw.get("words", {})
    if not isinstance(words, dict):
        problems.append(Problem(file, None, "words", wrong_type("a table", words)))
        words = {}
    for key, phrases in words.items():
        if key not in grid:
            problems.append(
                Problem(file, None, f"words.{json.dumps(key)}", f"not a path of [grid]{did_you_mean(key, list(grid))}")
            )
        elif not (isinstance(phrases, list) and all(isinstance(p, str) and p.strip() for p in phrases)):
            problems.append(Problem(file, None, f"words.{json.dumps(key)}", "must be a list of non-empty strings"))
        elif isinstance(grid[key], list) and len(phrases) != len(grid[key]):
            problems.append(
                Problem(
                    file,
                    None,
                    f"words.{json.dumps(key)}",
                    f"give one phrase per value: {len(grid[key])}, not {len(phrases)}",
                )
            )
    if problems:
        raise DataError(problems)
    model = table["model"]
    beside = path.parent / model  # a model's path is read relative to the sweep file, as an include is
    if model.endswith(".toml") and not Path(model).is_absolute() and os.path.exists(beside):
        model = str(beside)
    if paths is not None:
        _check_grid_paths(file, model, grid, paths)
    return SweepFile(path.stem, model, table["description"], dict(grid), file, dict(words))


def _check_grid_paths(file: str, model: str, grid: Mapping[str, list[Any]], paths: GridPaths) -> None:
    """The sweep's model exists, and each grid path is one its spec has and each value one it can be set to.

    Every problem names the sweep file and its key (a value the spec's schema refuses is found
    when the sweep checks its points, and blamed on the sweep file then).

    Raises
    ------
    DataError
        Naming the sweep file and ``sweep.model`` or ``grid."PATH"``.
    """
    try:
        raw, known, optional_tables = paths(model)
    except (UsageError, DataError) as error:
        raise DataError([Problem(file, None, "sweep.model", str(error))]) from None
    problems = []
    for key, values in grid.items():
        try:
            check_path(key, known)
            for value in values:
                set_path(copy.deepcopy(raw), key, value, known, optional_tables)
        except UsageError as error:
            problems.append(Problem(file, None, f"grid.{json.dumps(key)}", str(error)))
    if problems:
        raise DataError(problems)


# --- points --------------------------------------------------------------------------------------


def changed_raw(
    spec_text: str, overrides: Mapping[str, Any], optional: Sequence[str] = (), optional_tables: Sequence[str] = ()
) -> tuple[dict[str, Any], str]:
    r"""A spec's tables with ``overrides`` applied, and its text recording them (so that its hash differs).

    A key may link several paths with ``+``; each is set to the key's value. ``optional`` and
    ``optional_tables`` are its model family's (:func:`known_paths`, :func:`set_path`);
    :func:`dnamodel.families.point_spec` parses the result as a spec.

    Examples
    --------
    >>> raw, text = changed_raw("[a]\nb = 1\n", {"a.b": 2})
    >>> raw, text.splitlines()[-1]
    ({'a': {'b': 2}}, '# sweep: a.b = 2')
    """
    raw = tomllib.loads(spec_text)
    known = known_paths(raw, optional)
    changed = copy.deepcopy(raw)
    for path, value in overrides.items():
        set_path(changed, path, value, known, optional_tables)
    note = "".join(f"\n# sweep: {path} = {json.dumps(value)}" for path, value in overrides.items())
    return changed, spec_text + note


def coordinate(value: Any) -> Any:
    """A grid value as an xarray coordinate: numbers and strings as they are, anything else as JSON."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return value
    return json.dumps(value, sort_keys=True)
