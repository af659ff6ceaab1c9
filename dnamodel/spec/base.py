"""What every kind of model spec shares: strict tables, one error listing every problem, identity.

A spec is a TOML file, found by path or by name in ``dnamodel/models/`` (:func:`find_model`) and
read by :func:`read_toml`. Its tables are pydantic models on :class:`_Strict` (unknown keys are
errors), validated by :func:`_validate`, which reports every problem with its dotted key and a
"did you mean …?" instead of stopping at the first. :class:`SpecIdentity` gives a spec its name
and the hash of its text, for provenance. :func:`dnamodel.spec.load_model` dispatches on the
``[model]`` table's ``kind`` to :mod:`dnamodel.spec.montecarlo` or
:mod:`dnamodel.spec.hierarchical`.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from dnamodel.errors import DataError, Problem, UsageError, did_you_mean

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Where model names are looked up: ``dnamodel/models/``, shipped with the package."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
        for item in error.errors():
            where = ".".join(str(part) for part in (key, *item["loc"]))
            if item["type"] == "extra_forbidden":
                name = str(item["loc"][-1])
                report(where, f"unknown key{did_you_mean(name, model.model_fields)}")
            else:
                report(where, item["msg"].removeprefix("Value error, "))
        return None


def find_model(path_or_name: str | Path) -> Path:
    """The spec file: ``path_or_name`` itself, or the shipped spec of that name.

    Raises
    ------
    UsageError
        If no such file or shipped model exists, with the nearest name.
    """
    path = Path(path_or_name)
    if not path.exists() and path.suffix != ".toml" and (MODELS_DIR / f"{path_or_name}.toml").exists():
        path = MODELS_DIR / f"{path_or_name}.toml"
    if not path.exists():
        known = available_models()
        hint = did_you_mean(str(path_or_name), known)
        raise UsageError(f"no model file or model named {str(path_or_name)!r}{hint}; models: {', '.join(known)}")
    return path


def read_toml(path: Path) -> tuple[dict[str, Any], str, str]:
    """A spec file's parsed tables, its text (kept for provenance) and its name for errors.

    Raises
    ------
    DataError
        If the file is not valid TOML, with the line.
    """
    text = path.read_text(encoding="utf-8")
    file = str(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DataError([Problem(file, getattr(error, "lineno", None), None, f"not valid TOML: {error}")]) from None
    return raw, text, file
