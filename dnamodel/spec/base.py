"""What every kind of model spec shares: strict tables, one error listing every problem, identity.

A spec is a TOML file, found by path or by name in ``dnamodel/models/`` (:func:`find_model`) and
read by :func:`read_toml`. Its tables are pydantic models on :class:`_Strict` (unknown keys are
errors), validated by :func:`_validate`, which reports every problem with its dotted key and a
"did you mean …?" instead of stopping at the first. :class:`SpecIdentity` gives a spec its name
and the hash of its text, for provenance. :func:`dnamodel.families.load_model` gives a spec to the model
family its ``[model]`` table's ``kind`` names, which parses it (:mod:`dnamodel.spec.montecarlo`,
:mod:`dnamodel.spec.hierarchical`, :mod:`dnamodel.spec.dated`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from dnamodel.errors import EXPECTED, DataError, Problem, UsageError, did_you_mean, given, wrong_type
from dnamodel.files import read_input

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Where model names are looked up: ``dnamodel/models/``, shipped with the package."""


class _Strict(BaseModel):
    # strict: a number is never taken from a string or a boolean, nor a string from a number
    # (``sigma = "1.5"``, ``draws = true``): a value of the wrong type is a mistake to name, not to convert.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


MAX_NAME = 100
"""The longest model name: it names files (``NAME_prior_predictive.png``, and a hidden temporary file
beside each) whose names must stay within the 255 bytes a file system allows."""

NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""A model name is an id, as the data's ids are: it becomes part of the names of the files it writes."""

RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
"""Names Windows keeps for devices, with any extension: a fit copied there could not be opened."""


def _model_name(value: str) -> str:
    """A spec's ``[model] name``: an id, since outputs are named after it (``results/NAME.nc``)."""
    if not NAME.fullmatch(value) or len(value) > MAX_NAME:
        raise PydanticCustomError(
            "model_name",
            f"must be an id, lowercase letters, digits, '-' or '_' and starting with a letter or digit, at most "
            f"{MAX_NAME} characters (the output files are named after it), got {given(value)}",
        )
    if value in RESERVED_NAMES:
        raise PydanticCustomError("model_name", f"{value!r} names a device on Windows; choose another name")
    return value


ModelName = Annotated[str, AfterValidator(_model_name)]
"""The type of every spec kind's ``[model] name``."""


class SpecIdentity:
    """What every kind of spec answers to: its name and the hash of its text (for provenance)."""

    header: Any
    text: str

    @property
    def name(self) -> str:
        """The model's name."""
        return self.header.name

    @property
    def hash(self) -> str:
        """``sha256:`` and the first 16 hex digits of the hash of the spec's text."""
        return "sha256:" + hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def available_models() -> list[str]:
    """Names of the specs in ``dnamodel/models/``."""
    return sorted(path.stem for path in MODELS_DIR.glob("*.toml"))


def _validate(model: type[_Strict], table: Any, key: str, report: Any) -> Any:
    if not isinstance(table, dict):
        report(key, f"missing table [{key}]")
        return None
    try:
        return model.model_validate(table)
    except ValidationError as error:
        for where, message in _problems(model, error):
            report(".".join(str(part) for part in (key, *where)), message)
        return None


_TYPE_FORMS = {
    "float": "a number",
    "int": "a whole number",
    "str": "a string",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "dict": "a table",
    "Ref": 'a reference such as { observation = "id" }',
}
"""How a message names each form a union of types accepts (pydantic's tags for them are internal)."""


def _tag(part: Any) -> str | None:
    """The form a part of pydantic's error location stands for, if it is a union member's tag, not a key."""
    if not isinstance(part, str):
        return None
    name = part.split("[", 1)[0]
    if name in _TYPE_FORMS or part[:1].isupper() or "[" in part:
        return name
    return None


def _problems(model: type[_Strict], error: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """Each problem as (key path, message), in the spec's own keys.

    pydantic locates an error in a union (``low = float | Ref``) by the member's tag (``low.float``,
    ``low.Ref``) and reports every member that failed. A key here is the spec's key alone; when one
    member failed deeper (``low.Ref.observatio``, an unknown key of a reference), that is the one
    the user meant, and the others' complaints are dropped; when all failed at the key itself, one
    message names the forms it accepts.
    """
    entries = []
    for item in error.errors():
        tags = [t for t in (_tag(part) for part in item["loc"]) if t is not None]
        where = tuple(part for part in item["loc"] if _tag(part) is None)
        entries.append((where, tags, item))
    chosen = {where[:i] for where, tags, _ in entries if tags for i in range(1, len(where))}
    grouped: dict[tuple[Any, ...], list[tuple[list[str], Any]]] = {}
    for where, tags, item in entries:
        if tags and where in chosen:
            continue
        grouped.setdefault(where, []).append((tags, item))
    problems = []
    for where, items in grouped.items():
        if len(items) > 1 and all(tags for tags, _ in items):
            forms = list(dict.fromkeys(_TYPE_FORMS.get(tags[-1], tags[-1]) for tags, _ in items))
            problems.append((where, wrong_type(" or ".join(forms), items[0][1].get("input"))))
            continue
        for tags, item in items:
            if item["type"] == "extra_forbidden":
                owner = _strict_models().get(tags[-1], model) if tags else model
                name = str(where[-1])
                problems.append((where, f"unknown key{did_you_mean(name, owner.model_fields)}"))
            else:
                problems.append((where, _message(item)))
    return problems


def _message(item: Any) -> str:
    """The message for one of pydantic's problems, with the type given and expected where the type is wrong."""
    if item["type"] in EXPECTED:
        return wrong_type(EXPECTED[item["type"]], item.get("input"))
    if item["type"] == "literal_error":
        return f"{item['msg']}, got {given(item.get('input'))}"
    return str(item["msg"]).removeprefix("Value error, ")


@functools.cache
def _strict_models() -> dict[str, type[_Strict]]:
    """Every table model by class name (pydantic's tag for it in a union); first asked after all are defined."""
    found: dict[str, type[_Strict]] = {}
    pending = list(_Strict.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def find_model(path_or_name: str | Path) -> Path:
    """The spec file: ``path_or_name`` itself, or the shipped spec of that name.

    Raises
    ------
    UsageError
        If no such file or shipped model exists, with the nearest name.
    """
    path = Path(path_or_name)
    # os.path.lexists, not Path.exists: it is False, not an error, for a name too long for the
    # file system, and True for a symbolic link that loops (read_toml then says so).
    shipped = MODELS_DIR / f"{path_or_name}.toml"
    if not os.path.lexists(path) and path.suffix != ".toml" and os.path.exists(shipped):
        path = shipped
    if not os.path.lexists(path):
        if looks_like_path(path_or_name):  # a spec file of the user's own: its folder's specs, not the shipped names
            try:
                siblings = [p.name for p in path.parent.glob("*.toml")] if path.parent.is_dir() else []
            except OSError:  # a folder that cannot be listed: no suggestion
                siblings = []
            hint = did_you_mean(path.name, siblings)
            raise UsageError(f"no such spec file: {_shown(path_or_name)!r}{hint}")
        known = available_models()
        hint = did_you_mean(str(path_or_name), known)
        raise UsageError(f"no model file or model named {_shown(path_or_name)!r}{hint}; models: {', '.join(known)}")
    return path


def looks_like_path(path_or_name: str | Path) -> bool:
    """Whether a model or sweep is given as a file's path (``models/my.toml``), not a shipped name (``dated``).

    Examples
    --------
    >>> looks_like_path("dated"), looks_like_path("models/my.toml"), looks_like_path("my.toml")
    (False, True, True)
    """
    text = str(path_or_name)
    return text.endswith(".toml") or "/" in text or os.sep in text


MAX_SPEC_BYTES = 2**20
"""The largest spec file read (1 MiB; the shipped ones are under 10 KB)."""


def read_toml(path: Path) -> tuple[dict[str, Any], str, str]:
    """A spec file's parsed tables, its text (kept for provenance) and its name for errors.

    Raises
    ------
    DataError
        If the file cannot be read (a folder, a symbolic link that loops, larger than
        :data:`MAX_SPEC_BYTES`), is not UTF-8 text, or is not valid TOML, with the line.
    """
    file = str(path)
    content = read_input(path, file, max_bytes=MAX_SPEC_BYTES)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError([Problem(file, None, None, f"is not UTF-8 text (byte {error.start})")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DataError([Problem(file, getattr(error, "lineno", None), None, f"not valid TOML: {error}")]) from None
    except RecursionError:  # arrays or tables nested thousands deep
        raise DataError([Problem(file, None, None, "not valid TOML: nested too deeply")]) from None
    return raw, text, file


def _shown(name: str | Path, limit: int = 200) -> str:
    """A name as messages show it: cut to ``limit`` characters."""
    text = str(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"
