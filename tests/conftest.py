"""Shared fixtures: the bundled data, loaded once, an editable copy of it, and fits several modules share.

A fit that two test modules need at the same settings is computed once a session here (issue 22:
`make test` in 4 minutes): the default dated model's `estimate` with every check and the decisive
assumptions (the slow tests of the default fit and its reweighted checks; the report's tests draw
reduced fits of their own), a small dated fit (the engine's tests and the decisive assumptions'), and
a short sample of the dated density (the reweighting's and the warm refits' tests).
"""

import functools
import json
import shutil
from pathlib import Path

import pytest

from dnamodel.data import Dataset, bundled_dir, load_data


@pytest.fixture(scope="session")
def data() -> Dataset:
    return load_data()


@pytest.fixture(scope="session")
def dated_estimate(tmp_path_factory):
    """`dnamodel report`'s work on the default dated model at its spec's settings, done once a session.

    Leave-one-out, leave one source out, forecasts, power-scaling and the decisive assumptions, all
    gated, written to a folder of its own; tests read it and write their changes elsewhere. The
    data are loaded here, not taken from ``data``, which a module may override at its own scope.
    """
    from dnamodel.families import load_model
    from dnamodel.workflows.estimate import run_estimate

    folder = tmp_path_factory.mktemp("dated_estimate")
    return run_estimate(load_model("dated"), load_data(), out=folder, sensitivity=True)


@pytest.fixture(scope="session")
def small_dated_fit():
    """The default dated model at reduced draws (2 × 150 after 250 tuning steps, seed 11): wiring, not statistics."""
    from dnamodel.families import load_model
    from dnamodel.inference.dated import fit_dated

    return fit_dated(load_model("dated"), load_data(), draws=150, tune=250, chains=2, seed=11, prior_draws=300)


@pytest.fixture(scope="session")
def short_dated_sample():
    """The default dated model's packed density sampled short (2 × 200 after 300 tuning steps, seed 5).

    The full fit the refits of ``test_reweight.py`` (as a base to reweight) and ``test_warm_refits.py``
    (as an adaptation to start from) are set against: wiring and exactness, not statistics.
    """
    from dnamodel.families import load_model
    from dnamodel.inference import dated as D
    from dnamodel.spec.dated import resolve_dated

    inputs = resolve_dated(load_model("dated"), load_data())
    return D.sample_packed(
        D.pack(inputs), inputs, draws=200, tune=300, chains=2, seed=5, target_accept=inputs.target_accept
    )


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
