"""The public API's checks of a fit take the InferenceData alone and rebuild the rest from its provenance.

Run on the shipped example (not the case study) at reduced draws, so that they are fast; the
hierarchical path, which compiles a PyMC model (about 30 s), is the slow test at the end.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

import dnamodel
from dnamodel.errors import UsageError

FOLDER = dnamodel.example_path("quillmoor")
REFITS = {name: {"draws": 100, "tune": 100} for name in ("leave_one_out", "forecast_checks")}


@pytest.fixture(scope="module")
def data():
    return dnamodel.load_data(FOLDER / "data")


@pytest.fixture(scope="module")
def idata(data):
    return dnamodel.fit(FOLDER / "models" / "dated.toml", data=data, draws=150, tune=150, chains=2, prior_draws=150)


def test_a_fit_read_back_gives_the_checks_of_the_fit_in_memory(idata, tmp_path):
    path = dnamodel.write_fit(idata, tmp_path / "fit.nc")
    back = dnamodel.read_fit(path)
    assert dnamodel.predictive_checks(back) == dnamodel.predictive_checks(idata)
    quantities = [r.quantity for r in dnamodel.power_scaling(idata).rows]
    assert [r.quantity for r in dnamodel.power_scaling(back).rows] == quantities


def test_checks_refuse_other_data_than_the_fits(idata, tmp_path):
    other = tmp_path / "data"
    shutil.copytree(FOLDER / "data", other)
    units = other / "units.csv"  # another covariate value: other data, still valid
    units.write_text(units.read_text(encoding="utf-8").replace(",0.62\n", ",0.61\n"), encoding="utf-8")
    with pytest.raises(UsageError, match="the fit was made from data"):
        dnamodel.predictive_checks(idata, data=dnamodel.load_data(other))


def test_checks_refuse_what_is_not_a_fit():
    import arviz as az
    import numpy as np

    with pytest.raises(UsageError, match="not a fit of dnamodel estimate"):
        dnamodel.leave_one_out(az.from_dict(posterior={"x": np.zeros((2, 10))}))
    with pytest.raises(UsageError, match="no such fit"):
        dnamodel.read_fit("no-such-fit.nc")


def test_leave_one_out_returns_the_saved_checks_unless_asked_to_refit(idata):
    fresh = dnamodel.leave_one_out(idata, draws=100, tune=100)
    assert len(fresh) == 10
    saved = idata.copy()
    row = {"observation": "x", "observed": 1, "median": 1, "low": 0, "high": 2, "pit": 0.5}
    saved.attrs["leave_one_out_json"] = json.dumps([row])
    assert [c.observation for c in dnamodel.leave_one_out(saved)] == ["x"]
    assert dnamodel.leave_one_out(saved, refit=True, draws=100, tune=100) == fresh  # the fit's seed: the same refits


def test_the_report_of_a_fit_in_memory_is_written_with_its_fit_and_in_the_studys_words(idata, tmp_path):
    result = dnamodel.report(idata, tmp_path / "out" / "quillmoor.html")
    html = result.path.read_text(encoding="utf-8")
    assert (tmp_path / "out" / "quillmoor.nc").is_file()
    assert "Quillmoor" in html
    assert not re.search(r"(?<![A-Za-z])Tibet(?![A-Za-z])", html)
    with pytest.raises(UsageError, match=r"give a name ending in \.html"):
        dnamodel.report(idata, tmp_path / "report.txt")


def test_forecast_checks_are_a_dated_fits(idata):
    (forecast,) = dnamodel.forecast_checks(idata, draws=100, tune=100)
    assert forecast.data_to == "2021-12"
    assert "mossgate" not in forecast.used


@pytest.mark.slow
def test_the_checks_of_a_hierarchical_fit_rebuild_its_compiled_model():
    """About a minute: one compile, a fit and four leave-one-out refits at reduced draws."""
    fit = dnamodel.fit("hierarchical_han", draws=300, tune=300, chains=2, prior_draws=200)
    checks = dnamodel.predictive_checks(fit)
    left_out = [c.observation for c in dnamodel.leave_one_out(fit, draws=200, tune=200)]
    assert len(left_out) == 4  # its four county figures; the predictive checks add Table 3's rows
    assert set(left_out) < {c.observation for c in checks}
    assert "total" in [row.quantity for row in dnamodel.power_scaling(fit).rows]
    with pytest.raises(UsageError, match="is a hierarchical model, which has no forecast checks: it has no time"):
        dnamodel.forecast_checks(fit)


def test_refitted_from_the_saved_fit_the_checks_are_estimates_own(data, tmp_path):
    """The fit's provenance is enough: leave-one-out and forecasts rebuilt from the file equal estimate's."""
    from dnamodel.workflows.estimate import run_estimate

    spec = dnamodel.load_model(FOLDER / "models" / "dated.toml")
    result = run_estimate(spec, data, draws=150, tune=150, chains=2, out=tmp_path)
    back = dnamodel.read_fit(tmp_path / "quillmoor_dated.nc")
    assert dnamodel.leave_one_out(back) == result.loo  # as saved
    assert dnamodel.leave_one_out(back, refit=True) == result.loo
    assert dnamodel.forecast_checks(back, refit=True) == result.forecasts
    assert dnamodel.predictive_checks(back) == result.checks


def test_a_prior_scaled_by_reweighting_agrees_with_its_refit(idata):
    """scaled_estimate stands in for scaled_refit: the two agree within their Monte Carlo errors."""
    import arviz as az
    import numpy as np

    estimate = dnamodel.scaled_estimate(idata, "typed_share", 2.0)
    refit = dnamodel.scaled_refit(idata, "typed_share", 2.0)
    assert refit.attrs["seed"] == idata.attrs["seed"] + 1  # not the fit's draws again
    assert refit.posterior.sizes == idata.posterior[["total"]].sizes
    mean = float(refit.posterior["total"].mean())
    mcse = float(az.mcse(refit, var_names=["total"], method="mean")["total"])
    assert estimate.reliable
    assert abs(estimate.mean - mean) < 4 * np.hypot(estimate.mcse, mcse)
    unscaled = float(idata.posterior["total"].mean())
    assert estimate.mean != unscaled  # a power of 2 moves the posterior
    with pytest.raises(UsageError, match="not a top-level prior"):
        dnamodel.scaled_estimate(idata, "no_such_prior", 2.0)


def test_the_prior_check_and_the_pit_limits_of_a_fit(idata):
    check = dnamodel.prior_check(idata)
    assert list(check.forward) == sorted(check.forward)
    assert check.constrained == check.forward  # a dated model's thesis is data, not a constraint on the prior
    assert check.population > 0
    for c in dnamodel.predictive_checks(idata):
        assert c.pit_inside == (c.pit_limits[0] < c.pit < c.pit_limits[1])
    without_prior = idata.copy()
    del without_prior.prior
    with pytest.raises(UsageError, match="no prior draws"):
        dnamodel.prior_check(without_prior)


# --- renamed names, kept one release -----------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), sorted(dnamodel.DEPRECATED.items()))
def test_an_old_name_warns_and_does_what_the_new_one_does(idata, old, new):
    with pytest.warns(DeprecationWarning, match=rf"dnamodel\.{old} is deprecated .* use dnamodel\.{new}"):
        before = getattr(dnamodel, old)(idata, **REFITS.get(new, {}))
    after = getattr(dnamodel, new)(idata, **REFITS.get(new, {}))
    if new == "power_scaling":
        before, after = before.rows, after.rows
    if new == "summarize":
        before, after = before.as_dict(), after.as_dict()
    assert before == after
    assert old not in dnamodel.__all__


def test_data_given_by_position_still_works_with_a_warning(idata, data):
    with pytest.warns(DeprecationWarning, match=r"dnamodel\.predictive_checks: give data= by keyword"):
        by_position = dnamodel.predictive_checks(idata, data)
    assert by_position == dnamodel.predictive_checks(idata, data=data)
    with pytest.warns(DeprecationWarning, match=r"give var=, data= by keyword"):
        estimate = dnamodel.scaled_estimate(idata, "typed_share", 2.0, "total", data)
    assert estimate == dnamodel.scaled_estimate(idata, "typed_share", 2.0, var="total", data=data)
    with pytest.raises(TypeError, match="multiple values for data"):
        dnamodel.predictive_checks(idata, data, data=data)
    with pytest.raises(TypeError, match="positional arguments"):
        dnamodel.predictive_checks(idata, data, data)
    with pytest.warns(DeprecationWarning, match=r"dnamodel\.replicate: give data= by keyword"):
        assert dnamodel.replicate(dnamodel.load_data()).all_match
