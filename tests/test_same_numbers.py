"""The same seed gives the same numbers as before the model-family refactor (issue 19).

``tests/same_numbers.py`` computes the figures; ``tests/data/same_numbers.json`` holds them as the
code gave them before the refactor. Sampling is the same arithmetic, so the draws are the same;
figures derived from them may differ only by floating-point rounding, hence the relative tolerance
of 1e-9 (a figure printed to the unit or to four decimals is identical).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tests.same_numbers import SNAPSHOT, compute

RTOL = 1e-9


def _compare(expected: Any, actual: Any, where: str) -> list[str]:
    if isinstance(expected, dict):
        problems = [f"{where}: keys {sorted(set(expected) ^ set(actual))}"] if set(expected) != set(actual) else []
        for key in expected.keys() & actual.keys():
            problems += _compare(expected[key], actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return [f"{where}: length {len(actual)}, expected {len(expected)}"]
        pairs = enumerate(zip(expected, actual, strict=True))
        return [p for i, (e, a) in pairs for p in _compare(e, a, f"{where}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, int | float):
        if math.isnan(expected) and math.isnan(actual):
            return []
        close = math.isclose(expected, actual, rel_tol=RTOL, abs_tol=1e-12)
        return [] if close else [f"{where}: {actual!r}, expected {expected!r}"]
    return [] if expected == actual else [f"{where}: {actual!r}, expected {expected!r}"]


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    figures = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    # the data's hash is not a figure: issue 20 added a data row report_mc does not read (tests/same_numbers.py)
    figures["montecarlo"]["summary"]["provenance"].pop("data_version")
    return figures


def _normalised(figures: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(figures, sort_keys=True, default=float))


def test_dated_models_and_monte_carlo_give_the_same_numbers(snapshot: dict[str, Any]) -> None:
    actual = _normalised(compute(slow=False))
    expected = {key: snapshot[key] for key in actual}
    assert _compare(expected, actual, "figures") == []


@pytest.mark.slow
def test_the_hierarchical_model_gives_the_same_numbers(snapshot: dict[str, Any]) -> None:
    actual = _normalised(compute(slow=True))
    assert _compare(snapshot, actual, "figures") == []
