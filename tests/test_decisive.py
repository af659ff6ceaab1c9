"""Issue 20: what decides a figure, said beside it (candidates, judgement, κ, widths, the share after, the cache)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import dnamodel
from dnamodel.checks.decisive import DECISIVE, STRUCTURAL, Assumptions, Width, decisive_sentence, outcome, prior_widths
from dnamodel.data import load_data
from dnamodel.errors import DataError
from dnamodel.families import current_value, load_model, load_sweep, point_spec
from dnamodel.inference.dated import layout_of
from dnamodel.spec.dated import resolve_dated
from dnamodel.spec.sweep import coordinate, read_sweep, shipped_sweeps
from dnamodel.workflows.assumptions import (
    FIXED_PATH,
    FIXED_VALUES,
    POINTS_FOLDER,
    candidates,
    fixed_value,
    run_assumptions,
)

EXAMPLE = Path(dnamodel.example_path("quillmoor"))
CASE_WORDS = ("tibet", "thesis", "qamdo", "lhasa", "prefecture", "police")

DEFAULT = {"median": 100.0, "low": 80.0, "high": 130.0}


def _total(median, low, high):
    return {"median": median, "q05": low, "q95": high, "q25": median, "q75": median, "mean": median}


# --- the judgement --------------------------------------------------------------------------------


def test_a_candidate_is_decisive_when_the_median_or_an_end_moves_more_than_ten_percent():
    small = outcome("s", "a = 1", "a were one", _total(105, 84, 136), True, DEFAULT)
    by_end = outcome("s", "a = 2", "a were two", _total(104, 80, 150), True, DEFAULT)
    by_median = outcome("s", "a = 3", "a were three", _total(89, 80, 130), True, DEFAULT)
    assert not small.decisive
    assert by_end.decisive
    assert by_end.change_high == pytest.approx(150 / 130 - 1)
    assert by_median.decisive
    assert by_median.change_median == pytest.approx(-0.11)
    assert DECISIVE == 0.10


def test_the_robust_range_is_the_envelope_of_the_fit_and_the_decisive_candidates():
    found = (
        outcome("s", "a = 1", "a were one", _total(105, 70, 136), True, DEFAULT),  # decisive: low end −12.5%
        outcome("s", "a = 2", "a were two", _total(100, 60, 200), True, DEFAULT | {"low": 60, "high": 200}),  # not
    )
    a = Assumptions(default=DEFAULT, outcomes=found, chains=4, draws=100)
    assert [o.setting for o in a.decisive] == ["a = 1"]
    assert a.robust_range(82, 131) == (70, 136)


def test_the_sentence_names_each_decisive_assumption_with_its_effect_and_the_range():
    found = (outcome("s", "a = 1", "fewer had reached the store", _total(140_000, 95_000, 200_000), True, DEFAULT),)
    a = Assumptions(default=DEFAULT | {"median": 110_000, "low": 90_000, "high": 150_000}, outcomes=found)
    a = Assumptions(
        default={"median": 110_000, "low": 90_000, "high": 150_000},
        outcomes=(
            outcome("s", "a = 1", "fewer had reached the store", _total(140_000, 95_000, 200_000), True, a.default),
        ),
        chains=4,
        draws=100,
    )
    text = decisive_sentence(a, 88_000, 151_000, "records")
    assert "If fewer had reached the store, the median would be 140,000 records" in text
    assert "95,000 to 200,000" in text
    assert "median +27%" in text
    assert "high end +33%" in text
    assert "from 88,000 to 200,000 (the robust range)" in text
    quiet = Assumptions(default=a.default, outcomes=(), chains=4, draws=100)
    assert "the interval stands as it is" in decisive_sentence(quiet, 88_000, 151_000, "records")
    missing = Assumptions(not_computed="the 3 refits", command="dnamodel estimate x")
    assert decisive_sentence(missing, 1, 2, "records") == (
        "Not computed: the 3 refits. Run `dnamodel estimate x` to compute it."
    )


def test_one_sweeps_decisive_settings_are_one_clause_giving_their_span():
    default = {"median": 100_000, "low": 80_000, "high": 130_000}
    held = [
        outcome("held", "k = 0.5", "half had reached the store", _total(150_000, 120_000, 190_000), True, default),
        outcome("held", "k = 0.6", "three in five had", _total(130_000, 110_000, 160_000), True, default),
        outcome("held", "k = 1.0", "all had reached the store", _total(85_000, 70_000, 120_000), True, default),
        outcome("held", "k = 0.8", "four in five had", _total(102_000, 82_000, 131_000), True, default),  # not
    ]
    alone = outcome(STRUCTURAL, "c = 1", "the curve had been straight", _total(120_000, 90_000, 170_000), True, default)
    other = outcome(STRUCTURAL, "c = 2", "the curve had bent", _total(80_000, 60_000, 110_000), True, default)
    a = Assumptions(default=default, outcomes=(*held, alone, other), chains=4, draws=100)
    text = decisive_sentence(a, 80_000, 130_000, "records")
    assert text.count("he median would run from") == 1
    assert (
        "he median would run from 85,000 records if all had reached the store, to 150,000 if half had reached "
        "the store (90% intervals from 70,000 to 190,000; 3 decisive settings of one sweep, each in `--json`)"
    ) in text
    assert "three in five" not in text
    assert "four in five" not in text
    # structural alternatives share a name but are different assumptions: a clause each
    assert "if the curve had been straight, the median would be 120,000 records" in text
    assert "if the curve had bent, the median would be 80,000 records" in text
    assert "from 60,000 to 190,000 (the robust range)" in text


# --- the candidates, from the spec ------------------------------------------------------------------


def test_a_shipped_models_candidates_are_its_shipped_sweeps_one_setting_at_a_time():
    spec = load_model("dated")
    found, skipped = candidates(spec)
    expected = set()
    for name in shipped_sweeps("dated"):
        sweep = load_sweep(name)
        for path, values in sweep.grid.items():
            own = coordinate(current_value(spec, path))
            expected |= {(name, path, json.dumps(v, sort_keys=True)) for v in values if coordinate(v) != own}
    from_sweeps = {
        (c.name, path, json.dumps(value, sort_keys=True))
        for c in found
        if c.name != "structural"
        for path, value in c.overrides.items()
    }
    assert from_sweeps == expected
    assert all(len(c.overrides) == 1 for c in found)
    assert all(c.words and "=" not in c.words for c in found)  # each in words, from the sweep's [words]
    # the structural alternative "no offset of the reported units" is the selection sweep's own point: not twice
    assert sum(c.overrides == {"fraction.reported": False} for c in found) == 1
    # the schema's other campaign curves are tried, each once (a shipped sweep's point is not tried twice)
    for curve in ("logistic", "constant_after"):
        assert sum(c.overrides == {"campaign.curve": curve} for c in found) == 1
    assert not any(name == "campaign.curve" for name, _ in skipped)


def test_another_programmes_candidates_come_from_its_own_spec_in_its_own_words():
    spec = load_model(str(EXAMPLE / "models" / "dated.toml"))
    found, _ = candidates(spec)
    declared = [read_sweep(p) for p in spec.assumption_sweeps]
    assert {s.name for s in declared} <= {c.name for c in found}
    assert {"structural"} <= {c.name for c in found} or "reported" in spec.priors
    text = " ".join(c.words + c.setting for c in found).lower()
    assert not [w for w in CASE_WORDS if w in text]


def test_assumptions_sweeps_are_validated_against_the_spec_folder(tmp_path):
    text = (EXAMPLE / "models" / "dated.toml").read_text(encoding="utf-8")
    spec_file = tmp_path / "dated.toml"
    spec_file.write_text(text.replace('"../sweeps/dated_unreported.toml"', '"nowhere.toml"'), encoding="utf-8")
    with pytest.raises(DataError, match=r"assumptions.sweeps\[1\].*no sweep file 'nowhere.toml'"):
        load_model(str(spec_file))
    spec_file.write_text(text.replace("[assumptions]\n", "[assumptions]\nextra = 1\n"), encoding="utf-8")
    with pytest.raises(DataError, match="assumptions"):
        load_model(str(spec_file))


def test_a_sweeps_words_give_one_phrase_per_value(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        '[sweep]\nmodel = "dated"\ndescription = "d"\n[grid]\n"fraction.unreported_offset" = [0.0, -1.0]\n'
        '[words]\n"fraction.unreported_offset" = ["only one"]\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="one phrase per value: 2, not 1"):
        read_sweep(sweep)


def test_kappa_is_held_at_each_value_by_one_function():
    spec = load_model("dated")
    data = load_data()
    for value in FIXED_VALUES:
        ((path, prior),) = fixed_value(FIXED_PATH, value).items()
        point = point_spec(spec.path, spec.text, {path: prior})
        held = point.priors["typed_share"]
        assert (held.dist, held.value) == ("fixed", value)
        # held out of the sampled vector: one coordinate fewer than the spec with κ's prior
        assert layout_of(resolve_dated(point, data)).ndim == layout_of(resolve_dated(spec, data)).ndim - 1


# --- the last region-wide figure -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["bundled", "example"])
def test_the_last_regionwide_figure_is_the_last_that_counts_every_unit(where):
    if where == "bundled":
        spec, data = load_model("dated"), load_data()
    else:
        spec, data = load_model(str(EXAMPLE / "models" / "dated.toml")), load_data(EXAMPLE / "data")
    inputs = resolve_dated(spec, data)
    every = set(range(len(inputs.unit)))
    covering = [i for i, m in enumerate(inputs.members) if set(m) == every]
    assert covering  # both have a database over the whole region
    last = max(covering, key=lambda i: inputs.date[i])
    assert inputs.last_regionwide_date == inputs.date[last]
    assert inputs.last_regionwide_observation == inputs.observation[last]
    assert inputs.last_regionwide_label == inputs.date_label[last]
    later = [i for i in range(len(inputs.observation)) if inputs.date[i] > inputs.last_regionwide_date]
    assert all(set(inputs.members[i]) != every for i in later)


def test_a_spec_without_a_regionwide_figure_has_none():
    spec = load_model(str(EXAMPLE / "models" / "dated.toml"))
    point = point_spec(
        spec.path,
        spec.text,
        {"observations.database_stock.use+observations.database_added.use": False},
    )
    inputs = resolve_dated(point, load_data(EXAMPLE / "data"))
    assert math.isnan(inputs.last_regionwide_date)
    assert inputs.last_regionwide_label == inputs.last_regionwide_observation == ""


# --- widths -----------------------------------------------------------------------------------------


def test_a_row_is_mostly_prior_above_seventy_percent_of_the_priors_width():
    assert Width("x", 10.0, 7.1).mostly_prior
    assert not Width("x", 10.0, 7.0).mostly_prior


def test_widths_are_the_fits_own_prior_and_posterior_90_percent_widths():
    import arviz as az

    rng = np.random.default_rng(1)
    prior, post = rng.normal(0, 10, (1, 4000)), rng.normal(0, 1, (2, 2000))
    idata = az.from_dict(posterior={"total": post, "alpha": post * 9}, prior={"total": prior, "alpha": prior})
    rows = {w.quantity: w for w in prior_widths(idata, "group", ["alpha"])}
    width = lambda v: float(np.subtract(*np.quantile(v, [0.95, 0.05])))  # noqa: E731
    assert rows["total"].prior_width == width(prior)
    assert rows["total"].posterior_width == width(post)
    assert not rows["total"].mostly_prior
    assert rows["alpha"].mostly_prior


# --- the refits and their cache --------------------------------------------------------------------


def test_the_refits_are_said_missing_then_computed_then_read_from_the_cache(tmp_path):
    spec, data = load_model(str(EXAMPLE / "models" / "dated.toml")), load_data(EXAMPLE / "data")
    missing = run_assumptions(spec, data, tmp_path, compute=False, draws=40, tune=40)
    assert not missing.computed
    assert missing.command == f"dnamodel estimate {spec.path} --data {data.location} --out {tmp_path}"
    first = run_assumptions(spec, data, tmp_path, draws=40, tune=40)
    found, _ = candidates(spec)
    assert first.computed
    assert first.cached == 0
    assert [o.setting for o in first.outcomes] == [c.setting for c in found]
    assert [r.value for r in first.fixed] == list(FIXED_VALUES)
    points = len(list((tmp_path / POINTS_FOLDER).glob("*.json")))
    assert points == 1 + len(found) + len(FIXED_VALUES)
    again = run_assumptions(spec, data, tmp_path, compute=False, draws=40, tune=40)
    assert again.computed
    assert again.cached == points
    assert again.outcomes == first.outcomes
    assert again.fixed == first.fixed
    # κ held higher, fewer collected for the same database stock
    medians = [r.median for r in first.fixed]
    assert medians[-1] < medians[0]


def test_the_fit_is_the_default_and_the_base_and_its_draws_key_the_cache(tmp_path):
    from dnamodel.families import FitSettings, family_of
    from dnamodel.workflows.assumptions import draws_key

    spec, data = load_model(str(EXAMPLE / "models" / "dated.toml")), load_data(EXAMPLE / "data")
    family = family_of(spec)
    fit = family.fit(spec, data, FitSettings(draws=200, tune=200, chains=2))
    first = run_assumptions(spec, data, tmp_path, draws=40, tune=40, fit=fit)
    total = fit.idata.posterior["total"].values.ravel()
    assert first.default["median"] == float(np.quantile(total, 0.5))  # the fit's own, not a refit's
    assert (first.default["low"], first.default["high"]) == tuple(float(q) for q in np.quantile(total, [0.05, 0.95]))
    found, _ = candidates(spec)
    starts = {o.gates["start"] for o in first.outcomes}
    assert starts <= {"importance", "warm", "mapped"}
    assert "mapped" in starts  # the example's structural alternatives start from the fit too
    points = len(list((tmp_path / POINTS_FOLDER).glob("*.json")))
    assert points == len(found) + len(FIXED_VALUES)  # the default is the fit: nothing refitted or cached for it
    again = run_assumptions(spec, data, tmp_path, compute=False, draws=40, tune=40, fit=fit)
    assert (again.cached, again.outcomes, again.default) == (points, first.outcomes, first.default)
    other = family.fit(spec, data, FitSettings(draws=200, tune=200, chains=2, seed=spec.sampler.seed + 1))
    assert draws_key(other) != draws_key(fit)
    assert not run_assumptions(spec, data, tmp_path, compute=False, draws=40, tune=40, fit=other).computed


# --- the share after the last region-wide figure, and the figure's shading ------------------------


@pytest.fixture(scope="module")
def small_fit(small_dated_fit):
    """The session's small fit (``conftest.small_dated_fit``), shared with ``test_dated.py``."""
    from dnamodel.families.base import Fit

    return Fit(load_model("dated"), small_dated_fit.idata, small_dated_fit.inputs)


def test_the_share_after_the_last_regionwide_figure_is_of_the_fits_own_curve(small_fit):
    from dataclasses import replace

    from dnamodel.families.base import Fit
    from dnamodel.workflows.assumptions import share_after_last_regionwide

    inputs = small_fit.inputs
    share = share_after_last_regionwide(small_fit)
    assert share.label == inputs.last_regionwide_label
    assert 0 < share.low < share.median < share.high < 1
    earlier = replace(inputs, last_regionwide_date=inputs.last_regionwide_date - 1.0)
    assert share_after_last_regionwide(Fit(small_fit.spec, small_fit.idata, earlier)).median > share.median
    none = replace(inputs, last_regionwide_date=float("nan"))
    assert share_after_last_regionwide(Fit(small_fit.spec, small_fit.idata, none)) is None


def test_the_campaign_figure_shades_after_the_last_regionwide_figure(small_fit, tmp_path):
    from PIL import Image

    from dnamodel.outputs.dated import campaign_plot

    path = campaign_plot(small_fit.idata, small_fit.inputs, tmp_path / "campaign.png")
    with Image.open(path) as image:
        text = " ".join(str(v) for v in image.text.values())
    assert f"Shaded: after {small_fit.inputs.last_regionwide_label}" in text


def test_the_reports_first_section_quotes_what_decides_it():
    from types import SimpleNamespace

    from dnamodel.outputs.said import said_html
    from dnamodel.workflows.said import Said

    default = {"median": 100_000, "low": 80_000, "high": 130_000}
    found = (outcome("s", "a = 1", "fewer had reached the store", _total(140_000, 95_000, 200_000), True, default),)
    said = Said(
        assumptions=Assumptions(default=default, outcomes=found, chains=4, draws=100),
        widths=[Width("total", 10.0, 8.0)],
        persons="records",
    )
    interval = SimpleNamespace(low=82_000, high=131_000)
    summary = SimpleNamespace(sentence="Under the model …", total=SimpleNamespace(interval=lambda p: interval))
    html = said_html(said, summary)
    assert "If fewer had reached the store, the median would be 140,000 records" in html
    assert "The data say little about this total" in html  # the total's width is 80% of its prior's
    assert "mostly prior" in html


def test_a_spec_without_the_reported_offset_is_warned_when_the_unreported_hold_most():
    from dnamodel.families.base import Fit
    from dnamodel.inference.dated import fit_dated
    from dnamodel.workflows.assumptions import selection_warning

    spec, data = load_model("dated"), load_data()
    without = point_spec(spec.path, spec.text, {"fraction.reported": False})
    fitted = fit_dated(without, data, draws=100, tune=150, chains=2, seed=3, prior_draws=100)
    said = selection_warning(Fit(without, fitted.idata, fitted.inputs), data.study.words)
    assert said is not None
    assert data.study.words.counted.lower() in said
    assert "chosen, not sampled" in said
    # the same fit with the offset in its spec: nothing to warn of
    inputs = resolve_dated(spec, data)
    assert selection_warning(Fit(spec, fitted.idata, inputs), data.study.words) is None


def test_the_sentence_says_when_a_refit_failed_its_gates():
    default = {"median": 100.0, "low": 80.0, "high": 130.0}
    found = (
        outcome("s", "a = 1", "a were one", _total(150, 80, 130), False, default),
        outcome("s", "a = 2", "a were two", _total(101, 80, 130), True, default),
    )
    text = decisive_sentence(Assumptions(default=default, outcomes=found, chains=4, draws=2000), 80, 130, "records")
    assert text.endswith(
        "1 of the 2 refits did not pass the convergence gates at 4 × 2,000 draws: read their figures as indicative."
    )
