"""pytest's settings for the whole checkout: doctests run in a temporary folder; xdist's workers share fits.

Some of the public API's examples write files (a fit's NetCDF, an HTML report); run from the
checkout, they would land in it.

``make test`` runs the suite on every core (``-n auto``, pytest-xdist) with ``--dist loadgroup``:
each group of tests runs whole on one worker, in order. A test's group is its file, so a module's
fixtures are built once and its tests keep their order, unless it uses one of the session fits that
several files share (``tests/conftest.py``): then it is in that fit's group, wherever its file is, and
the fit is computed once. The longest groups start first (``START_FIRST``, then those holding a slow
test): the dated SBC alone takes about 8 minutes of CI, and started last it would leave the other
worker idle. Without ``-n`` (``-n 0``) none of this happens: one process runs the suite as collected.
"""

from __future__ import annotations

import pytest
from _pytest.doctest import DoctestItem

SHARED_FITS = ("dated_estimate", "small_dated_fit", "short_dated_sample")
"""The session fixtures of ``tests/conftest.py`` that fit a model and that tests of several files use."""

START_FIRST = ("tests/test_dated_calibration.py", "tests/test_report.py", "tests/test_dated_pymc.py")
"""The longest groups, started first so that none is left to run alone at the end (benchmarks/README.md).

The dated SBC (about 8 minutes of CI), then the fast suite's two longest files (90 and 68 s of a
one-process run); after them the groups holding a selected slow test, then the rest as collected.
"""


@pytest.fixture(autouse=True)
def _doctests_write_in_a_temporary_folder(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> None:
    if isinstance(request.node, DoctestItem):
        monkeypatch.chdir(tmp_path)


def xdist_group(item: pytest.Item) -> str:
    """The group ``item`` runs in under ``--dist loadgroup``: the shared fits it uses, or else its file."""
    shared = [name for name in SHARED_FITS if name in getattr(item, "fixturenames", ())]
    return "+".join(shared) if shared else item.nodeid.split("::")[0]


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    """On an xdist worker, put each test in its group (before xdist reads them), then order the groups."""
    if not hasattr(config, "workerinput"):  # one process (-n 0): the suite as it is
        return (yield)
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
    result = yield  # the other hooks: -m deselects, xdist carries the groups to its scheduler
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        groups.setdefault(item.get_closest_marker("xdist_group").args[0], []).append(item)

    def rank(group: str) -> tuple[int, int]:
        if group in START_FIRST:
            return 0, START_FIRST.index(group)
        return (1 if any(item.get_closest_marker("slow") for item in groups[group]) else 2), 0

    items[:] = [item for group in sorted(groups, key=rank) for item in groups[group]]  # a stable sort
    return result
