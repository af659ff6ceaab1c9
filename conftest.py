"""pytest's settings for the whole checkout: doctests run in a temporary folder.

Some of the public API's examples write files (a fit's NetCDF, an HTML report); run from the
checkout, they would land in it.
"""

from __future__ import annotations

import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(autouse=True)
def _doctests_write_in_a_temporary_folder(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> None:
    if isinstance(request.node, DoctestItem):
        monkeypatch.chdir(tmp_path)
