"""What says which dnamodel this is: CITATION.cff, CHANGELOG.md and `dnamodel --version` agree.

CITATION.cff is validated against the Citation File Format 1.2.0 schema, vendored as
``tests/data/cff-1.2.0.schema.json`` (the copy cffconvert 2.0.0 validates with). cffconvert itself
would pin jsonschema below 4, older than what nbformat and the notebooks' stack install here; the
schema and jsonschema do the same check without it.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

import dnamodel
from dnamodel.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).parent / "data" / "cff-1.2.0.schema.json"
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
"""Keep a Changelog's kinds of change, in its order."""


def citation() -> dict:
    # CFF's own advice: YAML dates are compared as the strings they were written as
    return json.loads(json.dumps(yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8")), default=str))


def cff_errors(document: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_citation_cff_is_valid_cff_1_2_0():
    document = citation()
    assert document["cff-version"] == "1.2.0"
    assert cff_errors(document) == []


def test_the_schema_check_can_fail():
    document = citation()
    del document["authors"]
    document["version"] = ["not", "a", "version"]
    document["references"][0]["type"] = "tweet"
    errors = cff_errors(document)
    assert any("'authors' is a required property" in e for e in errors)
    assert any(e.startswith("version:") for e in errors)
    assert any(e.startswith("references/0/type:") for e in errors)


def test_citation_cff_cites_this_version():
    assert citation()["version"] == dnamodel.__version__


def test_dnamodel_version_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"dnamodel {dnamodel.__version__}\n"


def changelog() -> list[tuple[str, str | None, list[str]]]:
    """(version, date, the kinds of change) of each ``## [VERSION] - DATE`` section, in file order."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    releases = []
    for block in re.split(r"^(?=## )", text, flags=re.MULTILINE)[1:]:
        heading = block.splitlines()[0]
        match = re.fullmatch(r"## \[(Unreleased|\d+\.\d+\.\d+)\](?: - (\d{4}-\d{2}-\d{2}))?", heading)
        assert match, f"not a Keep a Changelog heading: {heading!r}"
        kinds = re.findall(r"^### (.+)$", block, flags=re.MULTILINE)
        releases.append((match[1], match[2], kinds))
    return releases


def test_changelog_keeps_a_changelog():
    releases = changelog()
    assert releases[0][0] == "Unreleased"
    assert releases[0][1] is None
    versions = [tuple(map(int, v.split("."))) for v, _, _ in releases[1:]]
    assert versions == sorted(versions, reverse=True), "newest version first"
    dates = [datetime.date.fromisoformat(d) for _, d, _ in releases[1:]]  # every release is dated
    assert dates == sorted(dates, reverse=True)
    for version, _, kinds in releases:
        assert kinds, f"{version}: no changes listed"
        assert all(k in SECTIONS for k in kinds), f"{version}: {kinds}"
        assert kinds == sorted(kinds, key=SECTIONS.index), f"{version}: kinds out of order"


def test_changelog_lists_this_version_and_the_json_change_of_0_1_0():
    releases = {version: kinds for version, _, kinds in changelog()}
    assert dnamodel.__version__ in releases
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    removed = text.split("## [0.1.0]")[1].split("### Removed")[1].split("###")[0]
    assert "`dnamodel estimate --json` no longer carries the `report` key" in removed
