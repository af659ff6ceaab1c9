"""The case study is an application on top, chosen for the data: named by study.toml, or found by its figures."""

from __future__ import annotations

import shutil

import pytest

import dnamodel
from dnamodel.applications import extensions_for
from dnamodel.casestudy.tibet2022 import CASE_STUDY
from dnamodel.errors import DataError

EXAMPLE = dnamodel.example_path("quillmoor") / "data"


def _with_application(tmp_path, name):
    folder = tmp_path / "data"
    shutil.copytree(EXAMPLE, folder)
    study = folder / "study.toml"
    text = study.read_text(encoding="utf-8")
    study.write_text(text.replace("[study]\n", f'[study]\napplication = "{name}"\n', 1), encoding="utf-8")
    return dnamodel.load_data(folder)


def test_the_case_study_extends_its_own_data_and_nothing_else():
    assert extensions_for(dnamodel.load_data()) == [CASE_STUDY]
    assert extensions_for(dnamodel.load_data(EXAMPLE)) == []


def test_a_study_may_name_the_application_and_a_name_there_is_not_is_refused(tmp_path):
    named = _with_application(tmp_path / "a", "tibet2022")
    assert extensions_for(named) == [CASE_STUDY]
    # on data without the report's figures its audit's place says why it is skipped, and nothing is marked
    (note,) = CASE_STUDY.section_parts("data", named)
    assert "are skipped" in note
    assert CASE_STUDY.group_marks(named) is None
    with pytest.raises(DataError, match=r"study\.toml.*study\.application.*unknown application 'tibet2O22'"):
        extensions_for(_with_application(tmp_path / "b", "tibet2O22"))
