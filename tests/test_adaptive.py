"""The main fit's adaptive draws (issue 22): a spec's ``draws = "auto"``, rounds on a fixed schedule.

The Quillmoor example's dated spec, made adaptive with a low cap, keeps the fits to seconds. The
rounds must continue the same chains (the first round's draws are a fixed fit's of that length,
draw for draw), stop only at the schedule's points, give the same draws and stopping point for the
same seed, and stop before the cap only when the gates the citation applies pass.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil

import numpy as np
import pytest

import dnamodel
from dnamodel.checks.adaptive import FIRST, STEP, draw_until_gated, next_draws
from dnamodel.checks.summary import summarize_fit
from dnamodel.errors import DataError
from dnamodel.families import load_model
from dnamodel.inference.dated import Draws, fit_dated, pack
from dnamodel.spec.dated import resolve_dated

EXAMPLE = dnamodel.example_path("quillmoor")
FIXED = "draws = 1500\ntune = 1000"


def adaptive_spec(folder, cap: int, tune: int = 500, extra: str = "") -> object:
    text = (EXAMPLE / "models" / "dated.toml").read_text(encoding="utf-8")
    assert FIXED in text
    shutil.copytree(EXAMPLE / "sweeps", folder / "sweeps", dirs_exist_ok=True)  # the spec names them
    (folder / "models").mkdir(exist_ok=True)
    path = folder / "models" / "adaptive.toml"
    path.write_text(text.replace(FIXED, f'draws = "auto"\nmax_draws = {cap}\ntune = {tune}{extra}'), encoding="utf-8")
    return load_model(path)


@pytest.fixture(scope="module")
def data():
    return dnamodel.load_data(EXAMPLE / "data")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, data):
    spec = adaptive_spec(tmp_path_factory.mktemp("adaptive"), cap=4000)
    first = dnamodel.fit(spec, data=data, prior_draws=100)
    again = dnamodel.fit(spec, data=data, prior_draws=100)
    return spec, first, again


def test_a_spec_asks_for_adaptive_draws_with_auto_and_caps_them(tmp_path):
    spec = adaptive_spec(tmp_path, cap=3000)
    assert spec.sampler.adaptive
    assert spec.sampler.draws == 3000
    assert spec.sampler.max_draws == 3000
    fixed = load_model(EXAMPLE / "models" / "dated.toml")
    assert not fixed.sampler.adaptive
    assert fixed.sampler.draws == 1500
    bundled = load_model("dated")
    assert bundled.sampler.adaptive


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("draws = 1500", "draws = 1500\nmax_draws = 3000", 'max_draws caps draws = "auto"'),
        ("draws = 1500", 'draws = "auto"\nadaptive = true', 'no key "adaptive"'),
    ],
)
def test_a_spec_that_misuses_the_adaptive_keys_is_refused_naming_the_table(tmp_path, old, new, words):
    text = (EXAMPLE / "models" / "dated.toml").read_text(encoding="utf-8").replace(old, new, 1)
    shutil.copytree(EXAMPLE / "sweeps", tmp_path / "sweeps")
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="sampler") as error:
        load_model(path)
    assert words in str(error.value)


def test_the_schedule_stops_only_at_its_points():
    for current in (FIRST, 1500, 4000):
        for needed in (0, current, current + 1, 3 * current, 10**6):
            point = next_draws(current, needed, 9000)
            assert point > current or current >= 9000
            assert point == 9000 or point % STEP == 0
            assert point == 9000 or point >= math.ceil(needed * 1.1)


def test_the_same_seed_gives_the_same_draws_and_rounds(fitted):
    _, first, again = fitted
    assert first.attrs["draw_rounds_json"] == again.attrs["draw_rounds_json"]
    np.testing.assert_array_equal(first.posterior["unconstrained"].values, again.posterior["unconstrained"].values)


def test_the_rounds_lie_on_the_schedule_and_end_at_the_fits_draws(fitted):
    spec, idata, _ = fitted
    rounds = json.loads(idata.attrs["draw_rounds_json"])
    assert rounds[0] == FIRST
    assert all(later > earlier for earlier, later in itertools.pairwise(rounds))
    assert all(n % STEP == 0 or n == spec.sampler.draws for n in rounds[1:])
    assert rounds[-1] == idata.posterior.sizes["draw"] == idata.attrs["draws"] <= spec.sampler.draws
    assert idata.sample_stats["diverging"].shape == (4, rounds[-1])


def test_a_fit_stopped_before_the_cap_passes_every_gate_the_citation_applies(fitted, data):
    spec, idata, _ = fitted
    summary = summarize_fit(idata, data)
    assert summary.provenance["draw_rounds"] == json.loads(idata.attrs["draw_rounds_json"])
    assert summary.provenance["draws_adaptive"] is True
    assert idata.attrs["draws"] < spec.sampler.draws  # this spec's gates pass before its cap
    assert summary.cited, summary.withheld


def test_the_rounds_continue_the_first_rounds_chains(fitted, data):
    spec, idata, _ = fitted
    fixed = fit_dated(spec, data, draws=FIRST, prior_draws=100)
    np.testing.assert_array_equal(
        idata.posterior["unconstrained"].values[:, :FIRST], fixed.idata.posterior["unconstrained"].values
    )
    assert "draw_rounds_json" not in fixed.idata.attrs


def test_draws_given_fix_the_number(tmp_path, data):
    spec = adaptive_spec(tmp_path, cap=3000)
    idata = dnamodel.fit(spec, data=data, draws=200, tune=200, prior_draws=50)
    assert idata.posterior.sizes["draw"] == 200
    assert "draw_rounds_json" not in idata.attrs
    assert summarize_fit(idata, data).provenance["draws_adaptive"] is False


def test_divergent_transitions_stop_the_rounds(fitted, data):
    spec, idata, _ = fitted
    inputs = resolve_dated(spec, data)
    x = idata.posterior["unconstrained"].values[:, :FIRST]
    diverging = np.zeros(x.shape[:2])
    diverging[0, 0] = 1  # one divergence: no number of draws removes it
    stats = {"step_size": idata.sample_stats["step_size"].values[:, :FIRST], "diverging": diverging}
    out = draw_until_gated(Draws(x, stats, 1.0), pack(inputs), inputs, 1, cap=4000)
    assert out.rounds == (FIRST,)
    assert out.x.shape[1] == FIRST
