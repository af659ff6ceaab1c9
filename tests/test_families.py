"""The model families: one per kind, each implementing what it declares and refusing the rest clearly."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

import dnamodel
from dnamodel.checks.dated import Forecast
from dnamodel.checks.predictive import Check
from dnamodel.errors import UsageError
from dnamodel.families import FAMILIES, Capability, family_named, family_of, load_model, parse_model
from dnamodel.families.base import Family, SavedChecks, read_saved_checks, write_saved_checks
from dnamodel.spec import available_models

METHODS = {
    Capability.POSTERIOR: ("fit", "rebuild", "summarize"),
    Capability.PREDICTIVE_CHECKS: ("predictive_checks",),
    Capability.LEAVE_ONE_OUT: ("leave_one_out",),
    Capability.LEAVE_SOURCE_OUT: ("leave_one_source_out",),
    Capability.FORECAST_CHECKS: ("forecast_checks",),
    Capability.FORECASTS_AT: ("forecasts_at",),
    Capability.PRIOR_CHECK: ("prior_check",),
    Capability.POWER_SCALING: ("with_log_densities", "power_scaling", "scaled_estimate"),
    Capability.SCALED_REFIT: ("scaled_refit",),
    Capability.SBC: ("sbc",),
    Capability.FIXED_TRUTH: ("contraction", "fixed_truth"),
    Capability.REPORT: ("report_model",),
    Capability.SWEEP: ("sweep_point", "check_point"),
    Capability.DRAWS: ("fit",),
    Capability.VALUE_OF_INFORMATION: ("value_of_information",),
}
"""The methods a family must implement for each capability it declares."""


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.kind)
def test_a_family_implements_each_capability_it_declares(family):
    missing = [
        f"{capability.value}: {name}"
        for capability in family.capabilities
        for name in METHODS.get(capability, ())
        if getattr(type(family), name) is getattr(Family, name)
    ]
    assert missing == []


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.kind)
def test_a_family_refuses_what_it_does_not_declare_naming_the_model_and_its_kind(family):
    lacking = [c for c in Capability if c not in family.capabilities]
    assert lacking  # no family does everything
    for capability in lacking:
        with pytest.raises(UsageError, match=rf"^the_model is {family.noun}, which has no "):
            family.require(capability, "the_model")


def test_every_shipped_spec_belongs_to_the_family_its_kind_names():
    for name in available_models():
        spec = load_model(name)
        declared = spec.raw.get("model", {}).get("kind", "monte_carlo")
        assert family_of(spec).kind == declared, name
        assert isinstance(spec, family_named(declared).spec_class)


def test_a_kind_no_family_has_is_refused_with_the_kinds_there_are():
    with pytest.raises(UsageError, match="no model family of kind 'datd'; did you mean 'dated'"):
        family_named("datd")
    with pytest.raises(dnamodel.DataError, match=r"model\.kind"):
        parse_model({"model": {"name": "x", "kind": "datd", "description": "d"}}, "", "x.toml")
    with pytest.raises(TypeError, match="not a model spec"):
        family_of("dated")


def test_the_saved_checks_round_trip_through_a_fits_attrs():
    idata = az.from_dict(posterior={"total": np.zeros((1, 2))})
    loo = (Check("a", 1.0, 1.1, 0.5, 1.5, 0.4, total_median=10.0, bound="lower", lpd=-1.5),)
    forecasts = (Forecast("2020-06", ("a", "b"), (Check("c", 2.0, 2.0, 1.0, 3.0, 0.5, lpd=-0.5),)),)
    write_saved_checks(idata, SavedChecks(loo=loo, loo_draws=400, forecasts=forecasts, structural="a sentence."))
    assert read_saved_checks(idata) == SavedChecks(loo, 400, forecasts, "a sentence.")
    assert read_saved_checks(az.from_dict(posterior={"total": np.zeros((1, 2))})) == SavedChecks()


def test_a_monte_carlo_model_is_refused_by_the_checks_of_a_fit_with_what_to_use():
    with pytest.raises(UsageError, match=r"report_mc is a Monte Carlo model, which has no posterior: .*dnamodel mc"):
        dnamodel.fit("report_mc")
    with pytest.raises(UsageError, match="dated is a dated model, which has no draws"):
        dnamodel.summarize("dated")
