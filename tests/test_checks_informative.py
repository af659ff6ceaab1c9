"""Checks that could fail: uninformative bounds (issue 21, item 2 of its list)."""

from __future__ import annotations

import numpy as np
import pytest

from dnamodel.checks import dated as checks
from dnamodel.checks.predictive import UNINFORMATIVE, Check
from dnamodel.cli.fits import passes_line
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.spec.dated import resolve_dated


@pytest.fixture(scope="module")
def inputs(data):
    return resolve_dated(load_model("dated"), data)


@pytest.mark.parametrize("censor", [D.LOWER, D.UPPER])
@pytest.mark.parametrize("bound", [0.0, 0.3, 0.99, 1.2])
def test_the_share_satisfied_is_the_draws_on_the_bounds_side(censor, bound):
    draws = np.random.default_rng(3).uniform(0.0, 1.0, 4001)
    pit = checks.pit(draws, bound, censor)
    check = Check("b", bound, 0.5, 0.05, 0.95, pit, bound=checks.BOUND_NAMES[censor])
    side = draws >= bound if censor == D.LOWER else draws <= bound
    assert check.satisfied == pytest.approx(float(side.mean()), abs=1e-12)


def test_a_bound_every_draw_satisfies_is_uninformative_not_a_pass():
    draws = np.linspace(100.0, 200.0, 1000)
    idle = Check("idle", 50.0, 150.0, 105.0, 195.0, checks.pit(draws, 50.0, D.LOWER), bound="lower")
    assert idle.pit_inside
    assert idle.uninformative
    assert idle.verdict == "uninformative"
    # 2% of the draws below the bound: it could have failed, so it counts
    biting = Check("biting", 102.0, 150.0, 105.0, 195.0, checks.pit(draws, 102.0, D.LOWER), bound="lower")
    assert biting.satisfied < UNINFORMATIVE
    assert not biting.uninformative
    assert biting.verdict == "pass"
    value = Check("value", 150.0, 150.0, 105.0, 195.0, 0.5)
    assert value.satisfied is None
    assert not value.uninformative
    assert value.verdict == "pass"
    missed = Check("missed", 300.0, 150.0, 105.0, 195.0, 0.999)
    assert missed.verdict == "miss"
    line = passes_line([idle, biting, value, missed], "left-out observations")
    assert line.startswith("2 of 3 left-out observations pass")
    assert "uninformative, not counted: idle." in line
    payload = idle.as_dict()
    assert payload["uninformative"] is True
    assert payload["verdict"] == "uninformative"
    assert payload["satisfied"] == 1.0


def test_the_threshold_is_stated_on_the_check():
    assert Check.uninformative_share == UNINFORMATIVE == 0.99
