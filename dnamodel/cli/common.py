"""What the commands share: exit codes, the data they read and the models it names, JSON and numbers as text."""

from __future__ import annotations

import argparse
import json
import math
import sys
from importlib import resources
from typing import Any

from dnamodel.data import Dataset, load_data
from dnamodel.data.study import STUDY_FILE
from dnamodel.errors import UsageError
from dnamodel.files import check_interrupted

EXIT_OK, EXIT_USAGE, EXIT_BAD_FIT, EXIT_INTERRUPTED = 0, 2, 3, 130
"""Exit status: success, a usage or data error, a fit that failed its gates, Ctrl-C."""
DEFAULT_MODEL_HELP = "default: the data's own, study.toml's [models] default"
"""What a command's help says of the model it fits when none is named: the data name it."""


def load(args: argparse.Namespace) -> Dataset:
    """The data a command reads: ``--data DIR``, or the bundled data."""
    return load_data(args.data)


def default_model(data: Dataset, command: str) -> str:
    """The model the data name for a command given none (``study.toml``'s ``[models] default``).

    Raises
    ------
    UsageError
        In one line, when the data name none: which spec to name, and how.
    """
    reference = data.study.models.default
    if reference is None:
        folder = "DIR" if data.location == "bundled" else data.location
        raise UsageError(
            f"{data.path(STUDY_FILE)} names no default model ([models] default): name a spec: "
            f"`dnamodel {command} SPEC --data {folder}`"
        )
    return data.model(reference)


def named_by_study(data: Dataset, key: str, reference: str) -> str:
    """Where an error about a model the study names says it was named: the file and its key."""
    return f"{data.path(STUDY_FILE)}, key 'models.{key}' ({reference!r})"


SCHEMAS = {
    "replicate": 1,
    "audit": 1,
    "mc": 1,
    "estimate": 5,
    "report": 1,
    "forecast-check": 2,
    "compare": 2,
    "sweep": 3,
    "data-check": 2,
    "voi": 1,
}
"""Each command's ``--json`` shape and its version: ``"schema": "dnamodel.<command>/<N>"`` in the output,
and the JSON Schema ``dnamodel/cli/schemas/<command>.json`` shipped with the package. A change of shape
raises N and is listed in ``CHANGELOG.md``."""


def schema_id(command: str) -> str:
    """The ``schema`` a command's ``--json`` output carries.

    Examples
    --------
    >>> schema_id("estimate")
    'dnamodel.estimate/5'
    """
    return f"dnamodel.{command}/{SCHEMAS[command]}"


def json_schema(command: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a command's ``--json`` output, as shipped with the package.

    Examples
    --------
    >>> json_schema("data-check")["properties"]["schema"]["const"]
    'dnamodel.data-check/2'
    """
    if command not in SCHEMAS:
        raise UsageError(f"no JSON output of {command!r}; commands with --json: {', '.join(SCHEMAS)}")
    text = resources.files("dnamodel.cli").joinpath("schemas", f"{command}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def print_json(payload: dict[str, Any], command: str) -> None:
    """Print standard JSON, its ``schema`` first (:func:`schema_id`).

    A number that is not finite (an R-hat of a constant) is written as null. Nothing is printed after
    Ctrl-C (:func:`dnamodel.files.check_interrupted`).
    """
    check_interrupted()
    shaped = _finite({"schema": schema_id(command), **payload})
    text = json.dumps(shaped, indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(text + "\n")


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by ``None``, in nested dicts and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def labelled(label: str, note: str | None) -> str:
    """A comparison figure's label, with its note in brackets."""
    return f"{label} ({note})" if note else label


def count_text(value: float) -> str:
    """A count as a table shows it: whole from 100, one decimal below."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def percent_text(value: float) -> str:
    """A share as a percentage to three decimals."""
    return f"{value * 100:.3f}%"


def provenance_line(record: dict[str, str]) -> str:
    """The line that says which dnamodel and which data made a result."""
    return f"dnamodel {record['dnamodel_version']}; data {record['data_location']} ({record['data_version']})."
