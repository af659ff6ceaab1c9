"""The hierarchical model: spec validation, the model on the bundled data, gates, outputs, CLI."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from dnamodel.checks.gates import diagnose
from dnamodel.checks.predictive import LOO_ERROR, hierarchical_predictive_checks, hierarchical_prior_check
from dnamodel.checks.summary import round_count, round_significant, summarize_fit
from dnamodel.cli import main
from dnamodel.errors import DataError
from dnamodel.families import load_model
from dnamodel.inference.model import thesis_log_factor
from dnamodel.inference.sampling import fit_hierarchical, quiet_arviz, sample
from dnamodel.outputs.io import read_netcdf, write_netcdf
from dnamodel.spec import MODELS_DIR, available_models
from dnamodel.spec.hierarchical import HierarchicalSpec
from dnamodel.spec.resolve import resolve_hierarchical

quiet_arviz()
HIERARCHICAL = [name for name in available_models() if name.startswith("hierarchical_")]


@pytest.fixture(scope="module")
def default_fit():
    """The default model at its default settings: what `make run` fits."""
    return fit_hierarchical(load_model("hierarchical_han"))


@pytest.fixture(scope="module")
def inputs(data):
    return resolve_hierarchical(load_model("hierarchical_han"), data)


# --- the spec ------------------------------------------------------------------------------------


def test_shipped_hierarchical_models():
    assert HIERARCHICAL == ["hierarchical_han", "hierarchical_pooled", "hierarchical_two_stratum"]
    variants = {name: load_model(name).fraction.variant for name in HIERARCHICAL}
    assert variants == {
        "hierarchical_han": "han_share",
        "hierarchical_pooled": "pooled",
        "hierarchical_two_stratum": "two_stratum",
    }


@pytest.mark.parametrize("name", ["hierarchical_pooled", "hierarchical_two_stratum"])
def test_variants_share_everything_but_the_fraction(name):
    # The variants differ from the default model only in how the fraction depends on Han share, so
    # that comparing them compares that choice alone.
    default = tomllib.loads((MODELS_DIR / "hierarchical_han.toml").read_text(encoding="utf-8"))
    variant = tomllib.loads((MODELS_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    for table in ("population", "observations", "within_county", "thesis", "sampler"):
        assert variant[table] == default[table], table


def test_resolved_observations_are_the_bundled_figures(inputs):
    assert inputs.observation == ("lhorong", "zhagyab", "qushui", "lhasa_rest")
    assert inputs.observed[:3].tolist() == [17_194, 25_055, 40_200]
    # 40,200 / 0.425 − 40,200, exactly
    assert inputs.observed[3] == pytest.approx(40_200 / 0.425 - 40_200, rel=1e-15)
    assert inputs.membership.sum(axis=1).tolist() == [1, 1, 1, 10]  # Lhasa has 11 units, less Qushui
    zhagyab = inputs.observation.index("zhagyab")
    assert inputs.base_low[zhagyab] == 50_294 / 57_065
    assert inputs.base_high[zhagyab] == 1.0
    assert len(inputs.row) == 9
    assert inputs.row_observed.sum() == 17_194 - 758  # Table 3's located rows
    assert inputs.stock == 631_460
    assert inputs.growth_scale == 134_306 / 0.5 * 2
    assert inputs.census_total == 3_648_100


def test_uplift_prior_is_centred_between_its_two_sources():
    prior = load_model("hierarchical_han").priors["log_uplift"]
    lhasa = math.log(950_000 / 867_891)
    qushui = math.log(40_200 / 0.75 / 41_851)
    assert prior.mu == pytest.approx((lhasa + qushui) / 2, abs=0.005)
    assert abs(lhasa - prior.mu) <= prior.sigma
    assert abs(qushui - prior.mu) <= prior.sigma


def _spec_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (MODELS_DIR / "hierarchical_han.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


BAD_SPECS = [
    (
        'alpha = { dist = "normal", mu = -1.0, sigma = 1.5 }',
        'alpha = { dist = "gamma", mu = -1.0, sigma = 1.5 }',
        "fraction.alpha.dist",
        "unknown prior family 'gamma'",
    ),
    (
        'sigma = { dist = "halfnormal", sigma = 1.0 }',
        'sigma = { dist = "halfnormal", sigma = -1.0 }',
        "fraction.sigma.sigma",
        "greater than 0",
    ),
    (
        'sigma = { dist = "halfnormal", sigma = 1.0 }',
        'sigma = { dist = "normal", sigma = 1.0 }',
        "fraction.sigma.dist",
        "use halfnormal, halfstudent_t, exponential",
    ),
    ('units = ["zhagyab"]', 'units = ["zhagyb"]', "observations.zhagyab.units", "did you mean 'zhagyab'"),
    (
        'samples = "qushui_samples_2021"',
        'samples = "qushui_samples_2031"',
        "observations.qushui.samples",
        "no observation",
    ),
    ("census_error = 0.03", "census_eror = 0.03", "population.census_eror", "did you mean 'census_error'"),
    ("[thesis]", "[thesys]", "thesys", "unknown table"),
    ('centre = "free"', 'centre = "county"', "within_county.rows[0]", "would count"),
    (
        'error = 0.10\nnote = "A January',
        'error = -0.10\nnote = "A January',
        "observations.qushui.error",
        "greater than 0",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "message"), BAD_SPECS)
def test_bad_spec_gets_one_clear_error(tmp_path, data, old, new, key, message):
    if key == "within_county.rows[0]":
        # with the rows centred on Lhorong's own fraction, they and the Lhorong total count the same samples
        message = "already counts"
        path = _spec_with(tmp_path, old, new)
        path.write_text(path.read_text().replace('centre_prior = { dist = "normal", mu = -1.0, sigma = 1.5 }\n', ""))
    else:
        path = _spec_with(tmp_path, old, new)
    with pytest.raises(DataError) as caught:
        resolve_hierarchical(load_model(path), data)
    problems = caught.value.problems
    assert any(p.file == str(path) and p.field == key and message in p.message for p in problems), problems


def test_bad_spec_exits_2_without_traceback(tmp_path, capsys):
    path = _spec_with(tmp_path, 'units = ["zhagyab"]', 'units = ["zhagyb"]')
    assert main(["estimate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "observations.zhagyab.units" in err
    assert "Traceback" not in err


def test_commands_refuse_the_other_kind_of_model(capsys):
    assert main(["estimate", "report_mc"]) == 2
    assert "dnamodel mc report_mc" in capsys.readouterr().err
    assert main(["mc", "hierarchical_han"]) == 2
    assert "dnamodel estimate hierarchical_han" in capsys.readouterr().err


# --- the fit -------------------------------------------------------------------------------------


def test_default_fit_has_every_group_and_its_provenance(default_fit):
    idata, _ = default_fit
    for group in ("posterior", "sample_stats", "posterior_predictive", "prior", "prior_predictive"):
        assert group in idata.groups()
    assert {"observed_data", "constant_data"} <= set(idata.groups())
    post = idata.posterior
    assert (post.sizes["chain"], post.sizes["draw"]) == (4, 2500)
    assert post["fraction"].sizes["unit"] == 77
    assert post["group_total"].sizes["group"] == 7
    # total is the sum of the units, and of the prefectures; share divides by the census total
    np.testing.assert_allclose(post["total"], post["collected"].sum("unit"), rtol=1e-12)
    np.testing.assert_allclose(post["total"], post["group_total"].sum("group"), rtol=1e-12)
    np.testing.assert_allclose(post["share"], post["total"] / 3_648_100, rtol=1e-12)
    spec = load_model("hierarchical_han")
    assert idata.attrs["spec_hash"] == spec.hash
    assert idata.attrs["spec"] == spec.text
    assert idata.attrs["seed"] == 20220913
    assert idata.attrs["data_version"].startswith("sha256:")
    assert idata.attrs["dnamodel_version"]


def test_shipped_default_passes_every_gate(default_fit):
    d = diagnose(default_fit[0])
    assert d.passed, d.failures
    assert d.divergences == 0
    assert d.max_rhat <= 1.01
    assert {r.name for r in d.rows} == {"alpha", "beta", "sigma", "log_uplift", "tau", "row_centre", "total", "share"}
    assert min(d.min_ess_bulk, d.min_ess_tail) >= 400


@pytest.mark.slow  # each variant compiles its own graph: about 20-35 s apiece (issue 12's 4-minute `make test`)
@pytest.mark.parametrize("name", ["hierarchical_pooled", "hierarchical_two_stratum"])
def test_each_variant_runs_and_passes_its_gates(name):
    idata, _ = fit_hierarchical(load_model(name))
    d = diagnose(idata)
    assert d.passed, d.failures
    names = {r.name for r in d.rows}
    assert ("beta" in names) == (name != "hierarchical_pooled")
    assert idata.attrs["model"] == name


def test_thesis_off_removes_the_bound(tmp_path, data):
    path = _spec_with(tmp_path, "use = true", "use = false")
    from dnamodel.inference.model import build_model

    model = build_model(resolve_hierarchical(load_model(path), data))
    assert not model.potentials
    assert "stock" not in {v.name for v in model.potentials}


def test_numpy_thesis_factor_matches_the_model_potential(default_fit):
    # The prior check and SBC reweight forward prior draws by the potential computed in NumPy; it
    # must be the potential the sampler sees, at totals far below, near and above the stock.
    _, fitted = default_fit
    model = fitted.model
    both = model.compile_fn([model.potentials[0], model["total"]], inputs=model.value_vars, on_unused_input="ignore")
    rng = np.random.default_rng(1)
    start = model.initial_point()
    totals = []
    for scale in (0.5, 1.0, 2.0, 3.0):
        for _ in range(5):
            point = {name: value + scale * rng.standard_normal(np.shape(value)) for name, value in start.items()}
            potential, total = both(point)
            totals.append(float(total))
            expected = float(thesis_log_factor(np.array(float(total)), fitted.inputs))
            assert float(potential) == pytest.approx(expected, rel=1e-7)
    assert min(totals) < 631_460 < max(totals)


def test_same_seed_same_numbers(default_fit):
    _, fitted = default_fit
    a = sample(fitted, draws=100, tune=100, chains=2, seed=7)
    b = sample(fitted, draws=100, tune=100, chains=2, seed=7)
    c = sample(fitted, draws=100, tune=100, chains=2, seed=8)
    np.testing.assert_array_equal(a.posterior["total"], b.posterior["total"])
    assert not np.array_equal(a.posterior["total"], c.posterior["total"])


def test_data_update_refits_without_recompiling(default_fit):
    # Leaving Qushui out (a flat likelihood for it) must lower Lhasa's estimate: Qushui's 96% is
    # far above what the rest of Lhasa's database implies.
    idata, fitted = default_fit
    error = fitted.inputs.error.copy()
    k = fitted.inputs.observation.index("qushui")
    error[k] = LOO_ERROR
    refit = sample(fitted, draws=500, tune=500, chains=2, seed=3, error=error)
    lhasa = {"group": "lhasa"}
    assert float(refit.posterior["group_total"].sel(lhasa).median()) < float(
        idata.posterior["group_total"].sel(lhasa).median()
    )


def test_prior_puts_the_total_on_a_plausible_scale(default_fit):
    idata, fitted = default_fit
    check = hierarchical_prior_check(idata, fitted.inputs)
    assert check.plausible, check
    assert check.forward[0] >= 1_000
    assert check.forward[-1] <= 1.5 * 3_648_100
    # the thesis bound raises the prior's lower tail above the mid-2020 stock, less the soft edge
    assert check.constrained[0] > 631_460 * 0.95


# --- summaries and outputs -----------------------------------------------------------------------


def test_summary_intervals_and_exceedance(default_fit, data):
    idata, _ = default_fit
    s = summarize_fit(idata, data)
    total = idata.posterior["total"].values.ravel()
    assert s.total.median == float(np.median(total))
    for prob in (0.5, 0.9, 0.95):
        et = s.total.interval(prob)
        assert (et.low, et.high) == tuple(np.quantile(total, [(1 - prob) / 2, (1 + prob) / 2]))
        hdi = s.total.interval(prob, "HDI")
        inside = ((total >= hdi.low) & (total <= hdi.high)).mean()
        assert inside == pytest.approx(prob, abs=1 / total.size + 1e-9)
        assert hdi.high - hdi.low <= et.high - et.low
    for e in s.exceedance:
        assert e.probability == (total > e.threshold).mean()
        assert 0 <= e.mcse < 0.05
    assert [p.group for p in s.groups] == [
        "lhasa",
        "shigatse",
        "qamdo",
        "nyingchi",
        "shannan",
        "nagqu",
        "ngari",
    ]


def test_citation_names_the_model_interval_and_rounding(default_fit, data):
    idata, _ = default_fit
    s = summarize_fit(idata, data)
    assert s.sentence is not None, s.withheld
    for part in (
        "hierarchical_han",
        idata.attrs["spec_hash"],
        "90% equal-tailed credible interval",
        "rounded to two significant figures",
    ):
        assert part in s.sentence
    assert f"{round_significant(s.total.median):,.0f}" in s.sentence


def test_round_count_is_half_up():
    assert round_count(1_005_000, 10_000) == 1_010_000
    assert round_count(1_004_999, 10_000) == 1_000_000
    assert round_count(1_025_000, 50_000) == 1_050_000


def test_bad_fit_withholds_the_sentence(default_fit, data):
    _, fitted = default_fit
    short = sample(fitted, draws=15, tune=15, chains=2, seed=1)
    short.attrs.update(model="hierarchical_han")
    s = summarize_fit(short, data)
    assert not s.diagnostics.passed
    assert s.sentence is None
    assert "gates" in s.withheld


def test_predictive_checks_cover_every_observation(default_fit):
    idata, _ = default_fit
    checks = hierarchical_predictive_checks(idata)
    assert [c.observation for c in checks][:4] == ["lhorong", "zhagyab", "qushui", "lhasa_rest"]
    assert len(checks) == 4 + 9
    assert all(0 <= c.pit <= 1 for c in checks)


def test_provenance_round_trips_through_netcdf(default_fit, tmp_path):
    idata, _ = default_fit
    path = write_netcdf(idata, tmp_path / "fit.nc")
    back = read_netcdf(path)
    for key in ("spec", "spec_hash", "data_version", "dnamodel_version", "seed", "sampler", "model"):
        assert back.attrs[key] == idata.attrs[key], key
    np.testing.assert_array_equal(back.posterior["total"], idata.posterior["total"])
    assert set(back.groups()) == set(idata.groups())
    assert not list(tmp_path.glob(".*.tmp"))  # nothing half-written left behind


def test_estimate_cli_json_and_files(tmp_path, capsys):
    out = tmp_path / "results"
    args = ["estimate", "hierarchical_han", "--json", "--out", str(out), "--draws", "400", "--tune", "400"]
    code = main([*args, "--chains", "2"])
    payload = json.loads(capsys.readouterr().out)
    summary = payload["summary"]
    assert code == (0 if summary["diagnostics"]["passed"] else 3)
    assert summary["model"] == "hierarchical_han"
    assert {e["threshold"] for e in summary["exceedance"]} == {919_282, 1_000_000, 1_206_962}
    # the comparison figures are the study's (study.toml), labelled; no replication is rerun
    assert [e["label"] for e in summary["exceedance"]] == ["Estimate One", "one million", "Estimate Two"]
    assert "report" not in payload
    assert [c["observation"] for c in payload["leave_one_out"]] == ["lhorong", "zhagyab", "qushui", "lhasa_rest"]
    assert {Path(p).name for p in payload["files"]} == {
        "hierarchical_han.nc",
        "hierarchical_han_summary.csv",
        "hierarchical_han_total.png",
        "hierarchical_han_fraction_han.png",
        "hierarchical_han_prior_predictive.png",
        "hierarchical_han_tables.md",
        "hierarchical_han_tables.tex",
    }
    for p in payload["files"]:
        assert Path(p).stat().st_size > 0
    assert (out / "hierarchical_han_total.png").read_bytes()[:4] == b"\x89PNG"
    assert set(payload["timings"]) >= {"build", "compile", "sample", "predictive", "leave_one_out", "outputs"}


def test_estimate_cli_fails_a_bad_fit_unless_allowed(tmp_path, capsys):
    args = ["estimate", "--out", str(tmp_path), "--draws", "15", "--tune", "15", "--chains", "2", "--no-loo"]
    assert main(args) == 3
    captured = capsys.readouterr()
    assert "No sentence to cite" in captured.out
    assert "convergence gates" in captured.err
    assert main([*args, "--allow-bad-fit"]) == 0


def test_hierarchical_spec_type():
    assert isinstance(load_model("hierarchical_han"), HierarchicalSpec)


def test_a_spec_changing_only_values_reuses_the_compiled_model(default_fit, data):
    # Zhagyab's later 7,952 counted, and a tighter prior on β: values only, so the default's
    # compiled model serves, and the predictive checks must use the new values, not the old.
    import copy

    from dnamodel.spec.hierarchical import parse_hierarchical

    _, fitted = default_fit
    spec = load_model("hierarchical_han")
    raw = copy.deepcopy(spec.raw)
    raw["fraction"]["beta"]["sigma"] = 0.25
    raw["observations"]["zhagyab"]["samples"] = "zhagyab_samples_2017 + zhagyab_samples_added_2018"
    changed = parse_hierarchical(raw, spec.text + "\n# changed", spec.path)
    idata, refitted = fit_hierarchical(changed, data, draws=1000)
    assert refitted.compiled is fitted.compiled
    assert refitted.timings.compile == 0
    zhagyab = {"observation": "zhagyab"}
    assert float(idata.observed_data["obs"].sel(zhagyab)) == 25_055 + 7_952
    predicted = idata.posterior_predictive["obs"].sel(zhagyab).values.ravel()
    assert 0.1 < (predicted <= 33_007).mean() < 0.9
    assert float(idata.constant_data["beta__sigma"]) == 0.25
    assert idata.prior["beta"].std() < 0.3
