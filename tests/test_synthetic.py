"""``dnamodel.synthetic``: a programme of any size, simulated from the dated model at a known truth.

The generator writes data that load and pass ``dnamodel data check``, and a spec that resolves
against them; the same seed writes the same bytes; its expected values and total are the dated
model's at the truth (computed by the inference stage's NumPy, which the generator, at the data
stage, may not import); its files name no place of the case study; and (slow) a fit of a small
programme passes its gates and covers its truth.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

import dnamodel
from dnamodel.cli import main
from dnamodel.data.synthetic import TRUTH
from dnamodel.errors import UsageError
from dnamodel.families import load_model
from dnamodel.inference.dated import COVERAGE, LOWER, UPPER, constrain, derive_draws, layout_of, totals
from dnamodel.spec.dated import resolve_dated

BUNDLED = Path(__file__).parent.parent / "dnamodel" / "data" / "bundled"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return dnamodel.synthetic(tmp_path_factory.mktemp("synthetic"), units=40, groups=4, observations=20, seed=3)


def test_its_data_load_and_pass_the_data_check(made, capsys):
    data = dnamodel.load_data(made.data)
    assert (len(data.units), len(data.groups), len(data.observations)) == (40, 4, 20)
    assert main(["data", "check", "--data", str(made.data)]) == 0
    assert "40 units in 4" in capsys.readouterr().out
    # the generic column names (issue 23), not the case study's prefecture and population_2020
    with open(made.data / "units.csv", newline="", encoding="utf-8") as f:
        assert next(csv.reader(f))[:4] == ["id", "group", "name", "population"]
    with open(made.data / "areas.csv", newline="", encoding="utf-8") as f:
        areas = list(csv.DictReader(f))
    assert {a["level"] for a in areas} == {"region", "group"}
    assert "population" in areas[0]
    assert data.study.models.default == "../models/dated.toml"  # a command without a model fits it


def test_its_spec_resolves_with_every_kind_of_figure(made):
    inputs = resolve_dated(load_model(made.spec), dnamodel.load_data(made.data))
    assert len(inputs.unit) == 40
    assert len(inputs.observation) == 20
    assert set(inputs.kind.tolist()) == {0, 1, 3}  # counts, the database, a coverage
    assert (inputs.censor == LOWER).sum() >= 1
    assert (inputs.censor == UPPER).sum() >= 1
    assert (~np.isnan(inputs.since)).sum() >= 2  # an increment of a unit, and the database's growth
    assert (inputs.kind == COVERAGE).sum() == 1
    assert inputs.reported.sum() == 12 + 2 + 1  # the units counted, bounded and covered (increments add none)


def test_without_the_reported_effect_the_spec_has_no_offset_and_the_truth_no_delta(tmp_path):
    made = dnamodel.synthetic(tmp_path, units=30, groups=3, observations=10, reported_effect=False, seed=5)
    inputs = resolve_dated(load_model(made.spec), dnamodel.load_data(made.data))
    assert not inputs.reported_effect
    assert "reported" not in made.truth["parameters"]
    with_it = dnamodel.synthetic(tmp_path / "with", units=30, groups=3, observations=10, seed=5)
    assert (with_it.data / "observations.csv").read_bytes() == (made.data / "observations.csv").read_bytes()


def test_the_same_seed_writes_the_same_bytes(tmp_path):
    first = dnamodel.synthetic(tmp_path / "a", units=30, groups=3, observations=10, seed=11)
    again = dnamodel.synthetic(tmp_path / "b", units=30, groups=3, observations=10, seed=11)
    other = dnamodel.synthetic(tmp_path / "c", units=30, groups=3, observations=10, seed=12)
    files = sorted(p.relative_to(first.folder) for p in first.folder.rglob("*") if p.is_file())
    assert len(files) == 6
    for name in files:
        assert (first.folder / name).read_bytes() == (again.folder / name).read_bytes(), name
    assert (first.data / "observations.csv").read_bytes() != (other.data / "observations.csv").read_bytes()


def test_the_truth_is_the_dated_models_at_its_parameters(made):
    inputs = resolve_dated(load_model(made.spec), dnamodel.load_data(made.data))
    truth = made.truth
    assert list(inputs.group) == truth["group"]["id"]
    assert list(inputs.unit) == truth["unit"]["id"]
    blocks = layout_of(inputs).blocks
    x = np.zeros(layout_of(inputs).ndim)
    x[blocks["alpha"]] = TRUTH["alpha"]
    x[blocks["log_group_sd"]] = math.log(TRUTH["group_sd"])
    x[blocks["group_z"]] = truth["group"]["group_z"]
    x[blocks["log_unit_sd"]] = math.log(TRUTH["unit_sd"])
    x[blocks["unit_z"]] = truth["unit"]["unit_z"]
    x[blocks["contrast"]] = TRUTH["contrast"]
    x[blocks["start_raw"]] = (np.array(truth["group"]["start"]) - inputs.start_anchor) / inputs.start_scale
    x[blocks["log_pace"]] = np.log(truth["group"]["pace"])
    x[blocks["logit_typed_share"]] = math.log(TRUTH["typed_share"] / (1 - TRUTH["typed_share"]))
    x[blocks["log_baseline"]] = math.log(TRUTH["baseline_per_resident"])
    x[blocks["census_z"]] = truth["unit"]["census_z"]
    x[blocks["reported"]] = TRUTH["reported"]
    q = constrain(x[None, :], inputs)
    np.testing.assert_allclose(q["fraction"][0], truth["unit"]["fraction"], rtol=1e-12)
    np.testing.assert_allclose(
        derive_draws(x[None, :], inputs)["expected"][0],
        [truth["expected"][name] for name in inputs.observation],
        rtol=1e-10,
    )
    assert totals(q, inputs)["total"][0] == pytest.approx(truth["total"], rel=1e-12)


def test_its_files_name_no_place_of_the_case_study(made):
    names = {"Tibet"}
    for file in ("units.csv", "areas.csv"):
        with (BUNDLED / file).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                names |= {row["id"], row["name"].split(" (")[0]}
    pattern = re.compile(
        r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?![A-Za-z0-9])",
        re.IGNORECASE,
    )
    texts = [path.read_text(encoding="utf-8") for path in made.folder.rglob("*") if path.is_file()]
    assert len(texts) == 6
    assert [match.group(0) for text in texts for match in pattern.finditer(text)] == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"units": 3, "groups": 2}, "at least 4 units"),
        ({"units": 10, "groups": 6}, "groups must be between 2 and units // 2 = 5"),
        ({"units": 10, "groups": 2, "observations": 7}, "at least 8 observations"),
        ({"units": 8, "groups": 2, "observations": 30}, "units to report"),
    ],
)
def test_sizes_it_cannot_make_are_refused(tmp_path, settings, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        dnamodel.synthetic(tmp_path, seed=1, **settings)
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_small_synthetic_fit_passes_its_gates_and_covers_its_truth(tmp_path):
    """About 15 s: 77 units at the spec's settings (4 × 2,000 draws after 1,000 tuning steps).

    Under a calibrated posterior each truth's posterior quantile is uniform, so each is required to
    lie inside the central 99.9% interval (a false alarm once in a thousand fits per quantity); the
    total's truth must also lie in its 90% interval, as ``benchmarks/bench_scale.py`` reports it.
    """
    made = dnamodel.synthetic(tmp_path, units=77, groups=7, seed=20240601)
    idata = dnamodel.fit(made.spec, data=dnamodel.load_data(made.data), prior_draws=100)
    gates = dnamodel.diagnose(idata)
    assert gates.passed, gates.failures
    posterior = idata.posterior
    quantiles = {
        name: float((posterior[name].values < value).mean())
        for name, value in [("total", made.truth["total"]), *made.truth["parameters"].items()]
    }
    assert {name: q for name, q in quantiles.items() if not 0.0005 < q < 0.9995} == {}
    assert 0.05 < quantiles["total"] < 0.95, quantiles["total"]
