"""Sweep points and decisive-assumption refits by importance sampling of the spec's own fit (issue 22)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnamodel.checks.dated import refit
from dnamodel.checks.reweight import log_density, log_ratio, pareto_k_threshold, same_inputs
from dnamodel.families import load_model, point_spec
from dnamodel.families.base import SweepSettings
from dnamodel.families.dated import DatedFamily, same_parameters, warm_for
from dnamodel.inference.sampling import seeds
from dnamodel.spec.dated import resolve_dated
from dnamodel.workflows import sweep as sweeps
from dnamodel.workflows.assumptions import FIXED_PATH, fixed_value

# 4 × 500 draws: the base's ESS of the total clears the importance gate's 400 (bulk and tail, over S draws)
BASE = {"draws": 500, "tune": 300, "chains": 4}
TYPED_SHARE = {"dist": "beta", "alpha": 9.0, "beta": 2.0}  # the spec's is Beta(8, 2)


def _settings(data, *, importance: bool = True, **sampler) -> SweepSettings:
    spec = load_model("dated")
    s = BASE | sampler
    return SweepSettings(
        spec.path, spec.text, data.location, s["draws"], s["tune"], s["chains"], spec.sampler.seed, "nutpie",
        warm=True, importance=importance,
    )  # fmt: skip


def _point(data, overrides):
    spec = load_model("dated")
    point = point_spec(spec.path, spec.text, overrides)
    return point, resolve_dated(point, data)


@pytest.fixture(scope="module")
def swept_base(data):
    """The default spec's own point and :class:`SweepBase` at :data:`BASE`, with its draws to reweight."""
    settings = _settings(data)
    spec = load_model("dated")
    return DatedFamily().sweep_base(spec, data, settings)


def test_a_points_own_prior_is_read_by_the_log_ratio_not_the_bases(data, swept_base):
    # a point's inputs are its own: the ratio is the density under them over the base's, never the
    # base's log likelihoods (which would give equal weights to every other prior)
    _, base = swept_base
    _, inputs = _point(data, {FIXED_PATH: TYPED_SHARE})
    assert not same_inputs(base.draws, inputs)
    from dnamodel.inference.dated import pack

    active = np.ones(len(inputs.observation), bool)
    expected = log_density(base.draws.x, pack(inputs)) - base.draws.log_density
    ratio = log_ratio(base.draws, inputs, active)
    np.testing.assert_allclose(ratio, expected, rtol=0, atol=1e-9)
    assert np.ptp(ratio) > 0.1  # another prior on κ: the weights are not equal


def test_a_point_holding_a_block_fixed_is_not_reweighted(data, swept_base):
    _, base = swept_base
    _, held = _point(data, fixed_value(FIXED_PATH, 0.9))
    assert warm_for(base, held) is not None  # a warm start, with κ's coordinate left out
    assert not same_parameters(base, held)  # but a point mass: no reweighting
    _, prior = _point(data, {FIXED_PATH: TYPED_SHARE})
    assert same_parameters(base, prior)
    _, logistic = _point(data, {"campaign.curve": "logistic"})
    assert not same_parameters(base, logistic)


def test_a_point_says_how_it_was_made_and_the_same_seed_gives_the_same_point(data, swept_base):
    _, base = swept_base
    settings = _settings(data)
    from dataclasses import replace

    settings = replace(settings, base=base)
    family = DatedFamily()
    held_spec, _ = _point(data, fixed_value(FIXED_PATH, 0.9))
    held = family.sweep_point(held_spec, data, settings)
    assert held["start"] == "warm"
    assert "pareto_k" not in held  # never tried
    prior_spec, _ = _point(data, {FIXED_PATH: TYPED_SHARE})
    first = family.sweep_point(prior_spec, data, settings)
    assert first["start"] == "importance", first
    assert first["pareto_k"] <= pareto_k_threshold(len(base.draws.x))
    assert first["importance_ess"] >= 400
    assert first["min_ess"] == first["importance_ess"]
    assert first["tune"] == 0
    assert first["draws"] == len(base.draws.x) // base.draws.chains  # the base's, extended until its gates passed
    assert family.sweep_point(prior_spec, data, settings) == first
    # without reweighting the same point is the warm refit, with its own draws
    exact = family.sweep_point(prior_spec, data, replace(settings, importance=False))
    assert exact["start"] == "warm"
    assert "pareto_k" not in exact
    assert exact["total"]["median"] != first["total"]["median"]


def test_a_sweep_keeps_reweighted_and_refitted_points_apart_in_its_key(data):
    settings = _settings(data)
    keys = {
        sweeps._point_key(s, data.version, {FIXED_PATH: TYPED_SHARE})
        for s in (settings, _settings(data, importance=False))
    }
    assert len(keys) == 2


@pytest.mark.slow
def test_importance_points_agree_with_warm_refits_within_monte_carlo_error(data):
    """Each reweighted point's median and 5%/95% quantiles against a warm refit of the same point.

    The refit's MCSE is arviz's (``method="quantile"``, from its draws); the importance side's is a
    quantile's, sqrt(p (1 - p) / ESS) over the density there, with the weights' ESS and the
    resampling's own variance (at most a multinomial draw's, p (1 - p) / S for S resampled draws)
    added. Each difference lies within 4 of their combined standard errors.
    """
    import arviz as az

    settings = _settings(data, draws=2000, tune=1000)
    spec = load_model("dated")
    _, base = DatedFamily().sweep_base(spec, data, settings)
    # the shipped sweeps' settings that reweight on the bundled data (k̂ 0.29, 0.41, −0.94 at 4 × 2,000)
    points = [
        {FIXED_PATH: {"dist": "beta", "alpha": 4.0, "beta": 2.0}},
        {"databases.baseline_per_resident.mu": -5.8091},
        {"unverified.thesis.wrong": 0.5},
    ]
    compared, moved = 0, 0.0
    for overrides in points:
        _, inputs = _point(data, overrides)
        assert same_parameters(base, inputs)
        warm = warm_for(base, inputs)
        common = {"draws": 600, "tune": 100, "chains": 4, "seed": seeds(settings.seed)[0], "warm": warm}
        active = np.ones(len(inputs.observation), bool)
        weighted = refit(inputs, active, **common, predicts=np.zeros(0, int), base=base.draws)
        if weighted.method != "importance":  # k̂ or the ESS said no: nothing to compare
            continue
        sampled = refit(inputs, active, **common, predicts=np.zeros(0, int))
        assert sampled.passed
        compared += 1
        total = weighted.total
        s = total.size
        for p in (0.05, 0.5, 0.95):
            delta = 0.02
            low, high = np.quantile(total, [p - delta, p + delta])
            density = 2 * delta / (high - low)
            se_weighted = math.sqrt(p * (1 - p) * (1 / weighted.importance_ess + 1 / s)) / density
            se_sampled = float(az.mcse(sampled.total.reshape(sampled.chains, -1), method="quantile", prob=p))
            a, b = float(np.quantile(total, p)), float(np.quantile(sampled.total, p))
            assert abs(a - b) <= 4 * math.hypot(se_weighted, se_sampled), (overrides, p, a, b)
            # the base's own quantile, unweighted, against the same bound: what the weights had to move
            unweighted = float(np.quantile(base.draws.total, p))
            moved = max(moved, abs(unweighted - b) / math.hypot(se_weighted, se_sampled))
    assert compared >= 2
    assert moved > 4  # equal weights would have failed: the comparison can tell


@pytest.mark.slow
def test_reweighted_points_are_the_same_in_a_process_pool_and_on_a_dask_cluster(data):
    """The base's draws travel with each point's settings: a process pool and dask give the serial numbers."""
    grid = {"databases.typed_share.alpha": [9.0, 4.0]}
    serial = sweeps.sweep("dated", grid, data=data, threads=1, **BASE)
    assert "importance" in set(serial["start"].values.ravel())
    runs = [sweeps.sweep("dated", grid, data=data, processes=2, **BASE)]
    distributed = pytest.importorskip("distributed")
    import dask

    with (
        # the base's draws travel with each point (about 12 MB once the base at 4 × 500 has been extended
        # to pass its gates): dask warns of a graph above 10 MB, and a warning here is an error
        dask.config.set({"distributed.admin.large-graph-warning-threshold": "64MB"}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        runs.append(sweeps.sweep("dated", grid, data=data, client=client, **BASE))
    for other in runs:
        np.testing.assert_array_equal(other["start"], serial["start"])
        for name in ("total_median", "total_q05", "total_q95", "share_median", "pareto_k", "importance_ess"):
            np.testing.assert_array_equal(other[name], serial[name])
