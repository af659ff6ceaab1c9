"""Shared fixtures: the bundled data, loaded once, and an editable copy of it."""

import functools
import json
import shutil
from pathlib import Path

import pytest

from dnamodel.data import Dataset, bundled_dir, load_data


@pytest.fixture(scope="session")
def data() -> Dataset:
    return load_data()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A folder holding a copy of the bundled data files, for a test to edit."""
    target = tmp_path / "data"
    shutil.copytree(bundled_dir(), target)
    return target


@pytest.fixture(autouse=True)
def json_output_validated(monkeypatch):
    """Every ``--json`` output any test prints, validated against the command's shipped JSON Schema.

    Issue 25, item 3: a script reading ``dnamodel COMMAND --json`` can rely on the shape its
    ``schema`` names. The commands print through one function; each print is checked here, so
    every test that runs a command with ``--json`` checks its shape too (``test_json_schemas.py``
    runs each command once for it).
    """
    from jsonschema import Draft202012Validator

    from dnamodel.cli import common

    printed = common.print_json

    @functools.wraps(printed)
    def validated(payload, command):
        printed(payload, command)
        shaped = json.loads(json.dumps(common._finite({"schema": common.schema_id(command), **payload})))
        Draft202012Validator(common.json_schema(command)).validate(shaped)

    monkeypatch.setattr(common, "print_json", validated)
    for module in ("fits", "montecarlo", "study", "sweeps", "voi"):
        monkeypatch.setattr(f"dnamodel.cli.{module}.print_json", validated)
