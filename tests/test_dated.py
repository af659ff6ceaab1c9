"""The dated model's spec, its resolution, a small fit and its checks (fast)."""

import math
import tomllib

import numpy as np
import pytest

from dnamodel.checks import dated as checks
from dnamodel.checks.summary import citation, round_significant, significant_step, summarize_fit
from dnamodel.data import load_data
from dnamodel.errors import DataError
from dnamodel.families import load_model, parse_model
from dnamodel.inference import dated as D
from dnamodel.inference.dated_quantities import derive_draws
from dnamodel.spec.base import MODELS_DIR
from dnamodel.spec.dated import DatedSpec, decimal_year, resolve_dated

SPEC = MODELS_DIR / "dated.toml"


@pytest.fixture(scope="module")
def data():
    return load_data()


@pytest.fixture(scope="module")
def inputs(data):
    return resolve_dated(load_model("dated"), data)


def edited(**changes):
    """The shipped spec's tables with ``changes`` applied at dotted paths, parsed (and the raw dict)."""
    raw = tomllib.loads(SPEC.read_text(encoding="utf-8"))
    for path, value in changes.items():
        keys = path.split("__")
        table = raw
        for key in keys[:-1]:
            table = table[key]
        if value is None:
            table.pop(keys[-1])
        else:
            table[keys[-1]] = value
    return parse_model(raw, "edited", "edited.toml")


def problems(error: DataError) -> str:
    return str(error)


# --- the spec -------------------------------------------------------------------------------------


def test_shipped_spec_parses_as_a_dated_spec():
    spec = load_model("dated")
    assert isinstance(spec, DatedSpec)
    assert spec.estimand.date == "2022-07"
    assert set(spec.priors) == {
        "alpha",
        "contrast",
        "unit_sd",
        "group_sd",
        "reported",
        "pace",
        "typed_share",
        "baseline_per_resident",
    }


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"estimand__date": "2022-13"}, "estimand.date", "calendar date"),
        ({"fraction__form": "logistic"}, "fraction.form", "composition"),
        ({"fraction__alpha": {"dist": "norml", "mu": 0, "sigma": 1}}, "fraction.alpha.dist", "did you mean 'normal'"),
        ({"fraction__unit_sd": {"dist": "normal", "mu": 0, "sigma": 1}}, "fraction.unit_sd.dist", "halfnormal"),
        ({"campaign__start__default": {"around": "2018-10"}}, "campaign.start.default", "sd_years"),
        (
            {"campaign__start__qamdo": {"before": "2016-06", "after": "2016-01", "scale_years": 1}},
            "qamdo",
            "exactly one",
        ),
        ({"observations__zhagyab__date": "2017-02-30"}, "observations.zhagyab.date", "date"),
        ({"observations__thesis_stock__units": ["tibet"]}, "observations.thesis_stock.units", "remove units"),
        ({"observations__qushui_coverage__since": "2020-01"}, "observations.qushui_coverage.since", "not an increment"),
        ({"observations__lhorong__colour": "red"}, "observations.lhorong.colour", "unknown key"),
        (
            {"checks__forecast": [{"data_to": "2017-02", "predict": ["zhagyb"]}]},
            "checks.forecast[0].predict",
            "zhagyab",
        ),
        ({"sampler__target_accept": 1.0}, "sampler.target_accept", "less than 1"),
        ({"campaign__curve": "logistc"}, "campaign.curve", "logistic"),
        ({"campaign__constant_from": "2020-06"}, "campaign", "constant_after"),
        ({"databases__typed_share": {"dist": "fixed", "value": 1.5}}, "databases.typed_share.value", "range"),
        ({"databases__typed_share": {"dist": "fixed"}}, "databases.typed_share.value", "Field required"),
        ({"campaign__pace": {"dist": "fixed", "value": 1.0}}, "campaign.pace.dist", "one value per group"),
        ({"fraction__alpha": {"dist": "fixd", "value": 1.0}}, "fraction.alpha.dist", "fixed"),
        ({"observations__zhagyab__numerator": "profiles"}, "observations.zhagyab.numerator", "only a database_share"),
        ({"observations__lhasa_database_share__numerator": "typed"}, "numerator", "profiles"),
        (
            {"unverified": {"thesis": {"observations": ["thesis_stok"], "wrong": 0.2, "error_if_wrong": 1.0}}},
            "unverified.thesis.observations",
            "thesis_stock",
        ),
        (
            {"unverified": {"thesis": {"observations": ["thesis_stock"], "wrong": 1.0, "error_if_wrong": 1.0}}},
            "unverified.thesis.wrong",
            "less than 1",
        ),
        (
            {
                "unverified": {
                    "a": {"observations": ["thesis_stock"], "wrong": 0.2, "error_if_wrong": 1.0},
                    "b": {"observations": ["thesis_stock"], "wrong": 0.2, "error_if_wrong": 1.0},
                }
            },
            "unverified.b.observations",
            "already in",
        ),
    ],
)
def test_bad_specs_name_the_key(change, key, words):
    with pytest.raises(DataError) as error:
        edited(**change)
    assert key in problems(error.value)
    assert words in problems(error.value)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"campaign__start__qamdoo": {"before": "2016-06", "scale_years": 0.5}}, "campaign.start.qamdoo", "qamdo"),
        ({"fraction__covariate": "han_shar_2020"}, "fraction.covariate", "han_share_2020"),
        ({"observations__zhagyab__units": ["zhagyb"]}, "observations.zhagyab.units", "zhagyab"),
        (
            {"observations__zhagyab__value": "zhagyab_samples_2071"},
            "observations.zhagyab.value",
            "zhagyab_samples_2017",
        ),
        ({"observations__zhagyab__since": "2019-01"}, "observations.zhagyab.since", "not before"),
        (
            {"observations__lhasa_database_share__database": "lhsa"},
            "observations.lhasa_database_share.database",
            "lhasa",
        ),
        ({"observations__qushui_2022__since": None}, "observations.qushui_2022", None),
        ({"observations__qushui_2022__bound": "none"}, "observations.qushui_2022.bound", "lower"),
        ({"observations__qushui_2022__bound": "upper"}, "observations.qushui_2022.bound", "lower bound"),
        ({"observations__lhorong__base": "lhorong_samples_2016"}, "observations.lhorong.base", "not a population"),
        ({"observations__zhagyab__value": "zhagyab_samples_2017 - 30000"}, "observations.zhagyab.value", "positive"),
    ],
)
def test_specs_wrong_against_the_data_name_the_key(data, change, key, words):
    spec = edited(**change)
    if words is None:  # dropping `since` makes a "reported" count a bound on the cumulative total: still valid
        resolve_dated(spec, data)
        return
    with pytest.raises(DataError) as error:
        resolve_dated(spec, data)
    assert key in problems(error.value)
    assert words in problems(error.value)


def test_the_new_keys_resolve_to_the_inputs_the_density_reads(data):
    """Curve family, its date, fixed values, the share's numerator and unverified sources (issue 20)."""
    plain = resolve_dated(edited(), data)
    # the last figure over every unit: the thesis's database over Tibet, mid-2020
    assert plain.last_regionwide_label == "2020-06-30"
    assert plain.last_regionwide_observation in ("thesis_stock", "thesis_added")
    assert plain.curve == "saturating"
    assert math.isnan(plain.constant_from)
    share = plain.observation.index("lhasa_database_share")
    assert plain.typed_numerator[share] == (0.0 if plain.typed_numerator.sum() == 0 else 1.0)
    after = resolve_dated(edited(campaign__curve="constant_after"), data)
    assert after.constant_from == plain.last_regionwide_date
    assert after.constant_from_label == "2020-06-30"
    chosen = resolve_dated(edited(campaign__curve="constant_after", campaign__constant_from="2021-01"), data)
    assert chosen.constant_from == decimal_year("2021-01")
    samples = resolve_dated(edited(observations__lhasa_database_share__numerator="samples"), data)
    profiles = resolve_dated(edited(observations__lhasa_database_share__numerator="profiles"), data)
    assert samples.typed_numerator[share] == 0.0
    assert profiles.typed_numerator[share] == 1.0
    assert profiles.typed_numerator.sum() == 1.0  # only the share has a numerator
    group = {"thesis": {"observations": ["thesis_stock", "thesis_added"], "wrong": 0.2, "error_if_wrong": 1.0}}
    doubted = resolve_dated(edited(unverified=group), data)
    members = [doubted.observation.index(n) for n in ("thesis_stock", "thesis_added")]
    assert doubted.unverified_name == ("thesis",)
    assert list(doubted.unverified_group[members]) == [0, 0]
    assert (np.delete(doubted.unverified_group, members) == -1).all()
    assert doubted.unverified_wrong.tolist() == [0.2]
    assert doubted.unverified_error.tolist() == [1.0]
    # a member left out of the model drops out of its group; a group with no member left is none
    gone = edited(unverified=group, observations__thesis_stock__use=False, observations__thesis_added__use=False)
    assert resolve_dated(gone, data).unverified_name == ()
    fixed = resolve_dated(edited(databases__typed_share={"dist": "fixed", "value": 0.7}), data)
    assert str(fixed.priors["typed_share"]) == "fixed at 0.7"
    layout, plain_layout = D.layout_of(fixed), D.layout_of(plain)
    assert layout.ndim == plain_layout.ndim - 1  # κ left the sampled vector ...
    assert layout.blocks["logit_typed_share"].start == layout.ndim  # ... and is held after it
    # Qushui taken out of Lhasa's uplift group into its own; and back (the old reading)
    qushui, lhunzhub = plain.unit.index("qushui"), plain.unit.index("lhunzhub")
    assert plain.uplift_name[plain.uplift[qushui]] == "qushui"
    assert plain.uplift_name[plain.uplift[lhunzhub]] == "lhasa"
    old = resolve_dated(edited(population__uplift__qushui=None, population__uplift__lhasa__exclude=None), data)
    assert old.uplift_name[old.uplift[qushui]] == "lhasa"
    alone = resolve_dated(edited(population__uplift__qushui=None), data)
    assert alone.uplift[qushui] == -1


def test_decimal_years_are_the_middle_of_what_a_date_names():
    assert decimal_year("2016") == 2016.5
    assert decimal_year("2016-01") == pytest.approx(2016 + 0.5 / 12)
    assert decimal_year("2020-01-01") == pytest.approx(2020 + 0.5 / 366)  # 2020 is a leap year
    with pytest.raises(ValueError, match="YYYY"):
        decimal_year("Jan 2020")


# --- resolution -----------------------------------------------------------------------------------


def test_observations_take_their_dates_and_bounds_from_the_data(inputs):
    at = {name: k for k, name in enumerate(inputs.observation)}
    assert inputs.date[at["zhagyab"]] == pytest.approx(decimal_year("2017-02"))
    # a samples_added row's period_start is its increment's start
    assert inputs.since[at["zhagyab_added"]] == pytest.approx(decimal_year("2017-02"))
    assert inputs.since[at["thesis_added"]] == pytest.approx(decimal_year("2020-01-01"))
    assert math.isnan(inputs.since[at["zhagyab"]])
    # a count over an unstated period is a lower bound
    assert inputs.censor[at["qushui_2022"]] == D.LOWER
    assert inputs.censor[at["qushui"]] == D.POINT
    # Lhorong counts its located samples against its villages' population
    assert inputs.value[at["lhorong"]] == 17194 - 758
    assert inputs.base[at["lhorong"]] == 41689
    # the units a report counts alone carry the offset δ: Lhünzhub's event report names it alone
    reported = sorted(u for u, r in zip(inputs.unit, inputs.reported, strict=True) if r)
    assert reported == ["lhorong", "lhunzhub", "qushui", "zhagyab"]
    # an event report is a lower bound since its place's previous figure, or cumulative when it has none
    assert inputs.censor[at["zhagyab_added"]] == D.LOWER
    assert inputs.since[at["qushui_2022"]] == pytest.approx(decimal_year("2021-01"))
    assert math.isnan(inputs.since[at["lhunzhub_2022"]])
    assert math.isnan(inputs.since[at["gyaidar_2022"]])
    assert "qushui_coverage" not in at  # the same statement as Qushui's count: left out


def test_the_databases_cover_their_areas(inputs, data):
    lhasa = {u for u in data.units if data.units[u].group == "lhasa"}
    assert {inputs.unit[i] for i in inputs.database_members[inputs.database.index("lhasa")]} == lhasa
    assert len(inputs.database_members[inputs.database.index("tibet")]) == 77


# --- the model's quantities -----------------------------------------------------------------------


def test_progress_is_zero_before_the_start_and_saturates():
    start, pace = np.array([[2018.0]]), np.array([[2.0]])
    assert D.progress(2015.0, start, pace, 0.25)[0, 0] < 1e-4
    assert D.progress(2030.0, start, pace, 0.25)[0, 0] == pytest.approx(1.0)
    # monotone in time
    grid = [D.progress(t, start, pace, 0.25)[0, 0] for t in np.linspace(2016, 2024, 50)]
    assert np.all(np.diff(grid) > 0)


def test_increments_equal_differences_of_cumulative_counts(inputs):
    x = D.draw_prior(inputs, 50, np.random.default_rng(3))
    q = D.constrain(x, inputs)
    k = inputs.observation.index("zhagyab_added")
    z = inputs.unit.index("zhagyab")
    difference = D.collected(q, inputs, inputs.date[k])[:, z] - D.collected(q, inputs, inputs.since[k])[:, z]
    np.testing.assert_allclose(derive_draws(x, inputs)["expected"][:, k], difference, rtol=1e-9)


def test_a_bound_contributes_the_probability_of_its_side(inputs):
    k = inputs.observation.index("qushui_2022")
    mu = np.full((1, len(inputs.observation)), 0.5)
    mu[0, k] = inputs.value[k] * math.exp(0.1)  # one error-sd above the bound: log Φ(1)
    from scipy.stats import norm

    ll = D.log_likelihood(mu, inputs)
    assert ll[0, k] == pytest.approx(norm.logcdf(0.1 / inputs.error[k]))


def test_mid_pit_of_bounds():
    draws = np.linspace(0, 1, 1001)
    assert checks.pit(draws, 0.3, D.POINT) == pytest.approx(0.3, abs=1e-3)
    assert checks.pit(draws, 0.3, D.LOWER) == pytest.approx(0.65, abs=1e-3)
    assert checks.pit(draws, 0.3, D.UPPER) == pytest.approx(0.15, abs=1e-3)


# --- the citation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rounded", "step"),
    [(1_150_000, 1_200_000, 100_000), (857_412, 860_000, 10_000), (0.3061, 0.31, 0.01), (99_500, 100_000, 1_000)],
)
def test_two_significant_figures(value, rounded, step):
    assert round_significant(value) == pytest.approx(rounded)
    assert significant_step(value) == pytest.approx(step)


# --- a small fit ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_fit(small_dated_fit):
    """The session's small fit (``conftest.small_dated_fit``), shared with ``test_decisive.py``."""
    return small_dated_fit


def test_a_fit_has_every_group_and_its_provenance(small_fit):
    idata = small_fit.idata
    for group in ("posterior", "sample_stats", "log_likelihood", "log_prior", "posterior_predictive", "prior"):
        assert group in idata.groups()
    post = idata.posterior
    assert post["total"].shape == (2, 150)
    assert post["fraction"].dims == ("chain", "draw", "unit")
    assert post["group_total"].sizes["group"] == 7
    # the total is the sum of the units' counts, and of the prefectures'
    np.testing.assert_allclose(post["collected"].sum("unit"), post["total"], rtol=1e-12)
    np.testing.assert_allclose(post["group_total"].sum("group"), post["total"], rtol=1e-12)
    attrs = idata.attrs
    assert attrs["model"] == "dated"
    assert attrs["spec_hash"].startswith("sha256:")
    assert attrs["seed"] == 11
    assert attrs["data_version"].startswith("sha256:")
    assert attrs["estimand_date"] == "2022-07"


def test_same_seed_same_numbers(small_fit, data):
    again = D.fit_dated(load_model("dated"), data, draws=150, tune=250, chains=2, seed=11, prior_draws=300)
    np.testing.assert_array_equal(again.idata.posterior["total"], small_fit.idata.posterior["total"])


def test_the_log_densities_saved_equal_the_kernels(small_fit):
    """What psens and leave-one-out read is the density the sampler saw, draw for draw."""
    from dnamodel.inference import dated_kernel

    idata, inputs = small_fit.idata, small_fit.inputs
    x = idata.posterior["unconstrained"].values.reshape(-1, idata.posterior.sizes["parameter"])[:20]
    # every variable of the group, as power-scaling sums them: the observations' terms and, for an
    # unverified source, what its members' terms (each given the others) leave out of its joint term
    assert list(idata.log_likelihood.data_vars) == ["obs", "unverified_thesis"]
    saved = idata.log_likelihood["obs"].values.reshape(-1, len(inputs.observation))[:20].sum(axis=1) + sum(
        idata.log_prior[name].values.ravel()[:20] for name in D.PRIOR_TERMS
    )
    saved += idata.log_likelihood["unverified_thesis"].values.ravel()[:20]
    packed, grad = D.pack(inputs), np.zeros(x.shape[1])
    np.testing.assert_allclose([dated_kernel.logp_grad(xi, packed, grad) for xi in x], saved, rtol=1e-11)


def test_summary_of_a_dated_fit(small_fit, data):
    s = summarize_fit(small_fit.idata, data)
    assert s.model == "dated"
    assert s.total.interval(0.9).low < s.total.median < s.total.interval(0.9).high
    sentence = citation(s.total, s.share, small_fit.idata.attrs, data.study)
    assert "Under the Bayesian model dated" in sentence
    assert "by July 2022" in sentence
    assert f"{round_significant(s.total.median):,.0f}" in sentence


def test_refits_leave_out_exactly_what_they_are_told(small_fit):
    inputs = small_fit.inputs
    with_all = D.pack(inputs)
    k = inputs.observation.index("qushui")
    active = np.ones(len(inputs.observation), bool)
    active[k] = False
    without = D.pack(inputs, active)
    differs = ~((with_all == without) | (np.isnan(with_all) & np.isnan(without)))
    assert differs.sum() == 1  # one flag in the packed vector, nothing else


def test_refits_in_threads_give_the_serial_runs_numbers(inputs, monkeypatch):
    # Leave-one-out's 11 refits run two at a time on this machine's two cores; each refit's draws are
    # its own, so the checks (PIT, log predictive density, the refit's total) equal a serial run's.
    settings = {"draws": 60, "tune": 60, "chains": 2, "seed": 11}
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    serial = checks.dated_leave_one_out(inputs, **settings)
    monkeypatch.setattr("os.cpu_count", lambda: 3)  # three threads, one core each
    threaded = checks.dated_leave_one_out(inputs, **settings)
    assert threaded == serial


def test_forecast_refits_see_only_the_past(inputs):
    for label, cutoff, targets in inputs.forecasts:
        active = inputs.date <= cutoff
        assert not active[list(targets)].any(), label


def _estimate_args(out):
    return ["estimate", "--out", str(out), "--draws", "100", "--tune", "100", "--chains", "2", "--allow-bad-fit"]


def test_estimate_says_what_it_does_on_a_terminal(tmp_path, capsys, monkeypatch):
    from dnamodel.cli import main

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")  # each line whole, as a terminal that wide shows it
    assert main(_estimate_args(tmp_path)) == 0
    err = capsys.readouterr().err
    for stage in ("Sampling dated (2 × 100 draws, 100 tuning)", "Leave-one-out: ", "Forecasts: ", "Writing the NetCDF"):
        assert stage in err, err[-2000:]


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_estimate_adds_nothing_when_piped_or_json(tmp_path, capsys, monkeypatch, json_flag):
    from dnamodel.cli import main

    if json_flag:  # a terminal, but --json: standard error stays empty
        monkeypatch.setattr("sys.stdout.isatty", lambda: True)
        monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main([*_estimate_args(tmp_path), "--no-loo", *json_flag]) == 0
    assert capsys.readouterr().err == ""


# --- figures printed "nearly X" (issue 23) -------------------------------------------------------------


EXAMPLE = MODELS_DIR.parent / "examples" / "quillmoor"


def _example_with(tmp_path, printed: str, readings: str = ""):
    """The example's data with Greyvale's "about 13,000" printed otherwise, and its spec's tables."""
    folder = tmp_path / "data"
    folder.mkdir()
    for path in (EXAMPLE / "data").iterdir():
        text = path.read_text(encoding="utf-8")
        if path.name == "observations.csv":
            text = text.replace('"about 13,000"', f'"{printed}"')
        if path.name == "study.toml" and readings:
            text = text.replace("[columns]", f"[readings]\n{readings}\n\n[columns]")
        (folder / path.name).write_text(text, encoding="utf-8")
    raw = tomllib.loads((EXAMPLE / "models" / "dated.toml").read_text(encoding="utf-8"))
    raw.pop("assumptions")  # its sweeps are paths beside the spec's file, which this parsed copy has not
    return load_data(folder), raw


def _greyvale(spec_raw, data):
    inputs = resolve_dated(parse_model(spec_raw, "spec", "dated.toml"), data)
    k = inputs.observation.index("greyvale")
    return inputs.value[k], inputs.error[k], int(inputs.censor[k])


def test_nearly_is_a_value_a_little_under_not_a_bound(tmp_path):
    data, raw = _example_with(tmp_path, "nearly 13,000")
    value, error, censor = _greyvale(raw, data)
    half_width = math.log(1 / 0.9) / (2 * 1.6448536269514722)  # the default width, 10%, as a 90% interval
    assert censor == 0  # fitted as a value, not censored
    assert value == pytest.approx(13_000 * math.sqrt(0.9))
    assert 13_000 * 0.9 < value < 13_000
    assert error == pytest.approx(math.hypot(0.15, half_width))


def test_the_width_of_nearly_comes_from_the_study_or_the_spec(tmp_path):
    data, raw = _example_with(tmp_path, "almost 13,000", readings="nearly = 0.2")
    assert data.study.readings.nearly == 0.2
    value, _, _ = _greyvale(raw, data)
    assert value == pytest.approx(13_000 * math.sqrt(0.8))
    raw["observations"]["greyvale"]["nearly"] = 0.05  # the spec's own, for this figure, wins
    value, error, _ = _greyvale(raw, data)
    assert value == pytest.approx(13_000 * math.sqrt(0.95))
    assert error == pytest.approx(math.hypot(0.15, math.log(1 / 0.95) / (2 * 1.6448536269514722)))


def test_nearly_as_a_pure_bound_is_the_specs_choice(tmp_path):
    data, raw = _example_with(tmp_path, "just under 13,000")
    raw["observations"]["greyvale"]["bound"] = "upper"
    value, error, censor = _greyvale(raw, data)
    assert (value, error, censor) == (13_000, 0.15, 2)
    raw["observations"]["greyvale"]["bound"] = "lower"
    with pytest.raises(DataError, match=r"observations\.greyvale\.bound.*says nearly, not lower"):
        _greyvale(raw, data)


def test_a_width_for_a_figure_not_printed_nearly_is_refused(tmp_path):
    data, raw = _example_with(tmp_path, "about 13,000")
    raw["observations"]["greyvale"]["nearly"] = 0.1
    with pytest.raises(DataError, match=r"observations\.greyvale\.nearly.*only a figure printed 'nearly'"):
        _greyvale(raw, data)


@pytest.mark.parametrize("width", ["0.1", "0", "0.6", "true"])
def test_a_studys_width_of_nearly_is_checked(tmp_path, width):
    if width == "0.1":
        data, _ = _example_with(tmp_path, "nearly 13,000", readings=f"nearly = {width}")
        assert data.study.readings.nearly == 0.1
        return
    with pytest.raises(DataError, match=r"study\.toml.*readings\.nearly"):
        _example_with(tmp_path, "nearly 13,000", readings=f"nearly = {width}")


# --- a spec without a covariate (issue 23) ---------------------------------------------------------------


def test_a_spec_without_a_covariate_fits_no_covariate_term():
    spec = edited(fraction__covariate=None, fraction__form=None, fraction__contrast=None)
    assert spec.fraction.covariate is None
    assert "contrast" not in spec.priors
    inputs = resolve_dated(spec, load_data())
    assert (inputs.covariate_effect, inputs.form, inputs.covariate_name) == (False, "none", "")
    assert not inputs.covariate.any()


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"fraction__covariate": None, "fraction__form": None}, "fraction.contrast", "names no covariate"),
        ({"fraction__covariate": None, "fraction__contrast": None}, "fraction.form", "names no covariate"),
        ({"fraction__form": None}, "fraction.form", "missing: how the covariate enters"),
        ({"fraction__contrast": None}, "fraction.contrast", "missing: the prior of contrast"),
    ],
)
def test_a_covariate_term_needs_a_covariate_and_a_covariate_its_term(change, key, words):
    with pytest.raises(DataError) as error:
        edited(**change)
    assert key in problems(error.value)
    assert words in problems(error.value)
