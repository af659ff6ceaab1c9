"""Warm-started, gated refits (issue 22 item 1, issue 21 item 3).

A refit starts from the full fit's adaptation (an affine map of the sampler's coordinates in the
packed vector, the fit's step size and draws), is gated on what it predicts, and is extended on a
fixed schedule or marked as failed.
"""

import ctypes

import numpy as np
import pytest

from dnamodel.checks import dated as checks
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.inference.dated_quantities import compiled
from dnamodel.spec.dated import resolve_dated


@pytest.fixture(scope="module")
def inputs():
    return resolve_dated(load_model("dated"), load_data())


@pytest.fixture(scope="module")
def fit(short_dated_sample):
    """A short full fit (the session's, ``conftest.short_dated_sample``) and its adaptation for refits."""
    result = short_dated_sample
    return result, D.warm_start(result.x, result.stats["step_size"])


def _density(packed, x):
    """The compiled C callback nutpie calls: (log density, gradient) at the sampler's point ``x``."""
    kernel = compiled()
    packed = np.ascontiguousarray(packed)
    x = np.ascontiguousarray(x, dtype=float)
    grad = np.zeros_like(x)
    logp = np.zeros(1)

    def pointer(a):
        return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))

    status = kernel.logp_cfunc.ctypes(len(x), pointer(x), pointer(grad), pointer(logp), packed.ctypes.data)
    assert status == 0
    return float(logp[0]), grad


def test_the_affine_map_gives_the_same_density_and_the_chain_rule_gradient(inputs, fit):
    _, warm = fit
    packed = D.pack(inputs)
    y = np.random.default_rng(3).normal(size=len(warm.centre))
    x = warm.centre + warm.scale * y
    plain_logp, plain_grad = _density(packed, x)
    mapped_logp, mapped_grad = _density(D.precondition(packed, warm.centre, warm.scale), y)
    assert mapped_logp == plain_logp  # the same x, the same arithmetic
    np.testing.assert_array_equal(mapped_grad, plain_grad * warm.scale)


def test_a_preconditioned_vector_reads_as_its_own_everywhere_else(inputs, fit):
    _, warm = fit
    packed = D.pack(inputs)
    again = D.precondition(D.precondition(packed, warm.centre, warm.scale), warm.centre, 2 * warm.scale)
    assert len(again) == len(packed) + 2 * len(warm.centre)  # a second map replaces the first
    np.testing.assert_array_equal(again[D.SLOT["H_AFFINE"] + 1 : len(packed)], packed[D.SLOT["H_AFFINE"] + 1 :])
    with pytest.raises(ValueError, match="positive scales"):
        D.precondition(packed, warm.centre, 0 * warm.scale)


def test_a_warm_refit_stores_draws_on_the_models_scale(inputs, fit):
    # the draws a warm refit returns are x, not the sampler's y: their means sit at the fit's
    result, warm = fit
    everything = np.ones(len(inputs.observation), bool)
    again = checks.refit(inputs, everything, draws=300, tune=500, chains=2, seed=8, warm=warm, extensions=0)
    flat = result.x.reshape(-1, result.x.shape[-1])
    se = np.sqrt(flat.var(axis=0) / 100 + again.x.var(axis=0) / 100)  # ESS of 100 each: a generous floor
    assert np.all(np.abs(again.x.mean(axis=0) - flat.mean(axis=0)) < 5 * se)
    assert again.tune == D.WARM_TUNE


def test_a_refit_that_fails_its_gates_is_extended_then_marked(inputs, fit):
    # 40 draws per chain cannot give ESS 400: each extension doubles every chain, then it is marked
    _, warm = fit
    active = np.arange(len(inputs.observation)) != 0
    short = checks.refit(inputs, active, draws=40, tune=500, chains=2, seed=9, warm=warm, extensions=2)
    assert short.extensions == 2
    assert not short.passed
    assert short.x.shape[0] == 2 * 160
    assert short.chains == 2
    assert short.ess < 400
    unextended = checks.refit(inputs, active, draws=40, tune=500, chains=2, seed=9, warm=warm, extensions=0)
    assert unextended.extensions == 0
    assert unextended.x.shape[0] == 2 * 40
    np.testing.assert_array_equal(short.x.reshape(2, 160, -1)[:, :40], unextended.x.reshape(2, 40, -1))


def test_the_same_seed_gives_the_same_refit_and_stopping_point(inputs, fit):
    _, warm = fit
    active = np.arange(len(inputs.observation)) != 3
    one = checks.refit(inputs, active, draws=60, tune=500, chains=2, seed=4, warm=warm, extensions=1)
    two = checks.refit(inputs, active, draws=60, tune=500, chains=2, seed=4, warm=warm, extensions=1, cores=1)
    np.testing.assert_array_equal(one.x, two.x)
    assert (one.extensions, one.rhat, one.ess_bulk, one.ess_tail) == (
        two.extensions,
        two.rhat,
        two.ess_bulk,
        two.ess_tail,
    )


def test_a_gated_refit_passes_only_inside_the_gates():
    assert checks.passes_gates(1.005, 450.0, 401.0)
    assert not checks.passes_gates(1.011, 4000.0, 4000.0)
    assert not checks.passes_gates(1.0, 399.0, 4000.0)
    assert not checks.passes_gates(float("nan"), 4000.0, 4000.0)


def test_forecast_checks_carry_their_refits_gates(inputs, fit):
    _, warm = fit
    forecasts = checks.dated_forecasts(inputs, draws=30, tune=60, chains=2, seed=2, warm=warm)
    rows = [c for f in forecasts for c in f.checks]
    assert rows
    assert all(c.refit_rhat is not None and c.refit_ess is not None for c in rows)
    assert all(c.refit_passed == checks.passes_gates(c.refit_rhat, c.refit_ess, c.refit_ess) for c in rows)


@pytest.mark.slow
def test_warm_refits_give_cold_refits_pits_within_monte_carlo_error(inputs):
    """Leave-one-out from the full fit's adaptation and from scratch: the same PITs within Monte Carlo error.

    Each PIT is a proportion of predictive draws; its Monte Carlo standard error is at most
    sqrt(p (1 - p) / ESS) with the refit's smallest ESS over what it predicts. The difference of two
    independent ones lies within 4.5 of their combined errors for all of them, but with probability
    below 1e-4 if they agree.
    """
    full = D.sample_packed(
        D.pack(inputs), inputs, draws=1000, tune=1500, chains=4, seed=1, target_accept=inputs.target_accept
    )
    warm = D.warm_start(full.x, full.stats["step_size"])
    settings = {"draws": 600, "tune": 500, "chains": 4, "seed": 20221}
    hot = checks.dated_leave_one_out(inputs, **settings, warm=warm)
    cold = checks.dated_leave_one_out(inputs, **settings)
    for w, c in zip(hot, cold, strict=True):
        assert w.refit_passed, w
        assert c.refit_passed, c
        p = (w.pit + c.pit) / 2
        # the predictive adds its own noise to each draw: its ESS is at least the expected value's
        error = np.sqrt(max(p * (1 - p), 0.01) * (1 / w.refit_ess + 1 / c.refit_ess))
        assert abs(w.pit - c.pit) < 4.5 * error, (w.observation, w.pit, c.pit, error)
