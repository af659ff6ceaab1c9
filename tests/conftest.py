"""Shared fixtures: the bundled data, loaded once, and an editable copy of it."""

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
