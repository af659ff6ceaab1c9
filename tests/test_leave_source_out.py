"""Leave one source out, and stacking on its scores (issue 21)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from dnamodel.checks import dated as checks
from dnamodel.checks.compare import MIN_SCORED, stack
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference.dated import draw_prior
from dnamodel.inference.dated_quantities import derive_draws
from dnamodel.spec.dated import resolve_dated

SETTINGS = {"draws": 60, "tune": 60, "chains": 2, "seed": 11}


@pytest.fixture(scope="module")
def inputs(data):
    return resolve_dated(load_model("dated"), data)


def _shared(inputs):
    return sorted({g for g in inputs.source_group if " + " in g})


def test_observations_of_one_statement_or_one_unverified_source_leave_together(inputs):
    # read from the data's source and source_date, and the spec's [unverified.thesis]
    assert _shared(inputs) == [
        "qushui + lhasa_database_share",
        "qushui_2022 + gyaidar_2022",
        "thesis_stock + thesis_added",
    ]
    assert len(checks.source_members(inputs)) == 7


def test_the_grouping_is_the_datas(data_copy):
    """Give Lhasa's database share a source date of its own: it becomes a source of its own."""
    path = data_copy / "observations.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    for row in rows:
        if row["id"] == "qushui_lhasa_database_share":
            row["source_date"] = "2021-02"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    moved = resolve_dated(load_model("dated"), load_data(data_copy))
    assert _shared(moved) == ["qushui_2022 + gyaidar_2022", "thesis_stock + thesis_added"]


def test_a_groups_log_likelihood_is_the_joint_density_of_its_figures(inputs):
    x = draw_prior(inputs, 50, np.random.default_rng(5))
    derived = derive_draws(x, inputs)
    everything = range(len(inputs.observation))
    # the whole data set: the joint density SBC ranks, an unverified source's mixture counted once
    np.testing.assert_allclose(
        checks.group_log_likelihood(x, inputs, everything), checks.joint_log_likelihood(derived, inputs), rtol=1e-12
    )
    # a group of independent figures: the sum of their own log likelihoods
    ks = [inputs.observation.index(n) for n in ("qushui", "lhasa_database_share")]
    np.testing.assert_allclose(
        checks.group_log_likelihood(x, inputs, ks), derived["log_likelihood"][:, ks].sum(axis=1), rtol=1e-12
    )
    # the unverified pair: the mixture over both, not the sum of each given the other
    pair = [inputs.observation.index(n) for n in ("thesis_stock", "thesis_added")]
    assert not np.allclose(checks.group_log_likelihood(x, inputs, pair), derived["log_likelihood"][:, pair].sum(axis=1))


@pytest.fixture(scope="module")
def alone(inputs):
    """Leave one source out on its own, without leave-one-out's checks to reuse: every source refitted."""
    return checks.dated_leave_one_source_out(inputs, **SETTINGS)


def test_leave_one_source_out_reuses_leave_one_outs_refits_for_a_single_figure(inputs, alone):
    loo = checks.dated_leave_one_out(inputs, **SETTINGS)
    grouped = checks.dated_leave_one_source_out(inputs, **SETTINGS, loo=loo)
    assert [g.source for g in grouped] == [g.source for g in alone] == list(checks.source_members(inputs))
    for with_loo, without in zip(grouped, alone, strict=True):
        assert with_loo.observations == without.observations
        if len(with_loo.checks) == 1:
            k = inputs.observation.index(with_loo.source)
            assert with_loo.checks == (loo[k],)
            assert with_loo.lpd == loo[k].lpd
            # the same refit (its active figures and seed): the same total; only the predictive draws differ
            assert without.total_median == loo[k].total_median
        else:
            assert with_loo == without
            assert np.isfinite(with_loo.lpd)
    assert checks.dated_leave_one_source_out(inputs, **SETTINGS, loo=loo) == grouped  # same seed, same numbers


def test_a_source_left_out_is_predicted_without_its_siblings(alone):
    """Lhasa's share without Qushui's count beside it: the refit knows neither, so its total moves further."""
    groups = {g.source: g for g in alone}
    qushui = groups["qushui + lhasa_database_share"]
    assert qushui.observations == ("qushui", "lhasa_database_share")
    assert all(c.total_median == qushui.total_median for c in qushui.checks)


def test_the_issues_stacking_is_flagged_too_uncertain():
    """Weight 1.00 (1.00 to 1.00) from a log-score difference of 0.2 ± 0.1 on four observations."""
    lpd = np.array([[-1.0, -1.0], [-1.0, -1.1], [-1.0, -1.0], [-1.0, -1.1]])
    totals = [np.linspace(1.0, 2.0, 100), np.linspace(1.5, 2.5, 100)]
    s = stack(("a", "b"), lpd, totals, bootstrap=200, rng=np.random.default_rng(1))
    assert s.weights[0] == pytest.approx(1.0, abs=1e-3)
    low, high = s.weight_interval()[0]
    assert high - low < 0.5  # the bootstrap alone would not have said so
    assert s.too_uncertain
    reasons = " ".join(s.uncertain_reasons)
    assert f"only 4 observations score the models (fewer than {MIN_SCORED})" in reasons
    assert "a leads b by 0.2 ± 0.1 in elpd, within 2 standard errors" in reasons


def test_weights_with_many_sources_and_a_clear_lead_are_not_flagged():
    rng = np.random.default_rng(2)
    y = rng.standard_normal(60)
    from scipy import stats

    lpd = np.column_stack([stats.norm.logpdf(y, 0, 1), stats.norm.logpdf(y, 1.5, 1)])
    s = stack(("truth", "off"), lpd, [y, y + 1], bootstrap=200, rng=rng, scored_on="sources")
    assert s.weights[0] > 0.9
    assert s.uncertain_reasons == ()
    assert s.scored == 60
    assert s.scored_on == "sources"
