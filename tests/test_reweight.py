"""A fit's draws reweighted to a posterior with observations left out (PSIS, issue 22).

The arithmetic is checked against analytic truth (a conjugate normal model, whose leave-one-out
posterior is known exactly), with tolerances from the importance-sampling standard errors; the
dated model's side (the sampler's own log density, the ratios' shortcut, the refit made of
resampled draws) against the compiled kernel.
"""

import math

import numpy as np
import pytest
from scipy import stats

from dnamodel.checks import dated as checks
from dnamodel.checks.reweight import (
    base_from_draws,
    importance_ess,
    log_density,
    log_ratio,
    pareto_k_threshold,
    reweight,
    smoothed_log_weights,
    systematic_resample,
)
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.spec.dated import resolve_dated

Z = 4.0
"""Standard errors a Monte Carlo estimate may lie from its truth: a false alarm once in 15,000 runs."""


def _conjugate(seed: int, n: int = 20, draws: int = 8000):
    """Normal data with known noise and a normal prior on the mean: draws from the exact posterior."""
    rng = np.random.default_rng(seed)
    prior_sd, noise = 2.0, 1.0
    y = rng.normal(0.7, noise, n)

    def posterior(values):
        precision = 1 / prior_sd**2 + len(values) / noise**2
        return values.sum() / noise**2 / precision, math.sqrt(1 / precision)

    mean, sd = posterior(y)
    theta = rng.normal(mean, sd, draws)
    return y, noise, theta, posterior


def _weighted(theta, log_w):
    """A self-normalised weighted mean and its standard error (Vehtari et al. 2024, eq. 3)."""
    w = np.exp(log_w)
    mean = float(w @ theta)
    return mean, math.sqrt(float(w**2 @ (theta - mean) ** 2)), float(w @ (theta - mean) ** 2)


@pytest.mark.parametrize("left_out", [0, 7, 19])
def test_reweighted_draws_give_the_analytic_leave_one_out_posterior(left_out):
    y, noise, theta, posterior = _conjugate(seed=3)
    truth_mean, truth_sd = posterior(np.delete(y, left_out))
    log_w, k = smoothed_log_weights(-stats.norm.logpdf(y[left_out], theta, noise), 1.0)
    assert k <= pareto_k_threshold(theta.size)
    assert np.isclose(np.exp(log_w).sum(), 1.0)
    mean, se, variance = _weighted(theta, log_w)
    assert abs(mean - truth_mean) < Z * se
    # the variance's standard error, by the delta method on (θ − m)²
    se_var = math.sqrt(float(np.exp(log_w) ** 2 @ ((theta - mean) ** 2 - variance) ** 2))
    assert abs(variance - truth_sd**2) < Z * se_var
    # resampled draws read the same posterior; resampling adds at most a multinomial draw's variance
    chosen = systematic_resample(log_w, theta.size, np.random.default_rng(1))
    resampled = theta[chosen]
    assert abs(resampled.mean() - truth_mean) < Z * math.hypot(se, math.sqrt(variance / theta.size))


def test_the_leave_one_out_density_is_the_weighted_likelihood():
    """PSIS-LOO's lpd, log Σ w̃ p(y | θ), against the exact predictive density N(y; m, s² + σ²)."""
    y, noise, theta, posterior = _conjugate(seed=4)
    mean, sd = posterior(y[1:])
    log_lik = stats.norm.logpdf(y[0], theta, noise)
    log_w, _ = smoothed_log_weights(-log_lik, 1.0)
    w = np.exp(log_w)
    density = float(w @ np.exp(log_lik))
    se = math.sqrt(float(w**2 @ (np.exp(log_lik) - density) ** 2))
    exact = stats.norm.pdf(y[0], mean, math.hypot(sd, noise))
    assert abs(density - exact) < Z * se


def test_k_hat_is_large_when_the_weights_are_degenerate():
    """Draws from N(0, 0.3²) weighted to N(0, 1): the ratios' tail has shape 1 − 0.3² ≈ 0.91."""
    theta = np.random.default_rng(5).normal(0.0, 0.3, 8000)
    log_ratio_ = stats.norm.logpdf(theta) - stats.norm.logpdf(theta, 0.0, 0.3)
    _log_w, k = smoothed_log_weights(log_ratio_, 1.0)
    assert k > pareto_k_threshold(theta.size)
    # and an observation far out in the tail: most weight on a handful of draws
    y, noise, theta, _ = _conjugate(seed=6)
    _, k_far = smoothed_log_weights(-stats.norm.logpdf(y[0] + 40.0, theta, noise), 1.0)
    assert k_far > pareto_k_threshold(theta.size)


def test_equal_weights_have_the_draws_own_ess_and_no_tail():
    log_w, k = smoothed_log_weights(np.full(500, 3.0), 0.4)
    assert k == -math.inf
    assert importance_ess(log_w, 0.4) == pytest.approx(200.0)


def test_systematic_resampling_takes_each_draw_floor_or_ceiling_of_its_share():
    rng = np.random.default_rng(7)
    w = rng.dirichlet(np.full(300, 0.3))
    size = 1000
    chosen = systematic_resample(np.log(w), size, np.random.default_rng(8))
    counts = np.bincount(chosen, minlength=300)
    assert counts.sum() == size
    assert np.all(counts >= np.floor(size * w) - 1e-9)
    assert np.all(counts <= np.ceil(size * w) + 1e-9)
    assert np.all(np.diff(chosen) >= 0)  # sorted: a chain's draws stay together


def test_systematic_resampling_preserves_weighted_means_within_their_standard_error():
    rng = np.random.default_rng(9)
    values = rng.normal(size=5000)
    log_w = -0.5 * (values - 1.0) ** 2
    log_w -= np.log(np.exp(log_w).sum())
    mean, _, variance = _weighted(values, log_w)
    chosen = systematic_resample(log_w, values.size, np.random.default_rng(10))
    assert abs(values[chosen].mean() - mean) < Z * math.sqrt(variance / values.size)


def test_the_same_seed_gives_the_same_resampling():
    log_w = np.log(np.random.default_rng(11).dirichlet(np.ones(100)))
    first = systematic_resample(log_w, 100, np.random.default_rng(12))
    np.testing.assert_array_equal(first, systematic_resample(log_w, 100, np.random.default_rng(12)))


# --- the dated model ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs():
    return resolve_dated(load_model("dated"), load_data())


@pytest.fixture(scope="module")
def fitted(inputs, short_dated_sample):
    """A short full fit (the session's, ``conftest.short_dated_sample``) and its :class:`Base`."""
    result = short_dated_sample
    return result, base_from_draws(result.x, result.x.shape[0], inputs)


def test_log_density_is_the_samplers_own(fitted):
    result, base = fitted
    np.testing.assert_allclose(base.log_density, result.stats["logp"].ravel(), rtol=0, atol=1e-9)


def test_the_ratios_shortcut_is_the_log_density_difference(inputs, fitted):
    """Leaving out observations of no unverified source: their log likelihoods, as the kernel's density says."""
    _, base = fitted
    n = len(inputs.observation)
    grouped = np.asarray(inputs.unverified_group) >= 0
    plain = int(np.flatnonzero(~grouped)[0])
    cutoff = inputs.forecasts[0][1]
    for active in (np.arange(n) != plain, inputs.date <= cutoff):
        exact = log_density(base.x, D.pack(inputs, active)) - base.log_density
        np.testing.assert_allclose(log_ratio(base, inputs, active), exact, rtol=1e-9, atol=1e-8)


def test_an_importance_refit_is_the_bases_draws_resampled(inputs, fitted):
    _, base = fitted
    n = len(inputs.observation)
    k = int(np.flatnonzero(np.asarray(inputs.unverified_group) < 0)[0])
    active = np.arange(n) != k
    weights = reweight(base, inputs, active, np.array([k]))
    fit = checks.importance_refit(inputs, base, weights, active, seed=21)
    assert fit.method == "importance"
    assert fit.x.shape == base.x.shape
    assert fit.chains == base.chains
    assert fit.pareto_k == weights.pareto_k
    assert fit.ess_bulk == weights.ess
    # every row is one of the base's draws, with what the base's derived draws say of it
    rows = {tuple(row): i for i, row in enumerate(base.x)}
    index = np.array([rows[tuple(row)] for row in fit.x])
    np.testing.assert_array_equal(fit.total, base.total[index])
    np.testing.assert_array_equal(fit.expected, base.derived["expected"][index])
    # its lpd weighs the base's draws, not the resampled ones
    expected_lpd = float(np.log(np.exp(weights.log_weights) @ np.exp(base.derived["log_likelihood"][:, k])))
    assert fit.log_predictive_density(k) == pytest.approx(expected_lpd, rel=1e-12)
    again = checks.importance_refit(inputs, base, weights, active, seed=21)
    np.testing.assert_array_equal(again.x, fit.x)


def test_a_refit_whose_weights_are_not_trusted_is_sampled_as_without_a_base(inputs, fitted):
    """400 draws cannot carry an importance ESS of 400: every job falls through to the same sampled refit."""
    _, base = fitted
    n = len(inputs.observation)
    active = np.arange(n) != 0
    settings = {"draws": 100, "tune": 100, "chains": 2, "seed": 13, "extensions": 0}
    with_base = checks.refit(inputs, active, base=base, **settings)
    without = checks.refit(inputs, active, **settings)
    assert with_base.method == "refit"
    assert math.isfinite(with_base.pareto_k)
    assert math.isnan(without.pareto_k)
    np.testing.assert_array_equal(with_base.x, without.x)
    assert with_base.log_predictive_density(0) == without.log_predictive_density(0)


# --- agreement with exact refits on the bundled model (slow) ----------------------------------------


def _lpd_and_se(log_lik: np.ndarray, log_weights: np.ndarray | None, chains: int) -> tuple[float, float]:
    """log E[p(y | θ)] and its standard error by the delta method: SE(mean) / mean.

    Over weighted draws, the self-normalised estimate's SE (Vehtari et al. 2024, eq. 3); over a
    sampled refit's draws, the mean's MCSE from the chains (ArviZ).
    """
    import arviz as az

    density = np.exp(log_lik - log_lik.max())
    if log_weights is None:
        mean = float(density.mean())
        # a constant density (a bound every draw satisfies) has no Monte Carlo error: ArviZ gives NaN
        se = float(np.nan_to_num(np.squeeze(az.mcse(density.reshape(chains, -1), method="mean")), nan=0.0))
    else:
        w = np.exp(log_weights)
        mean = float(w @ density)
        se = math.sqrt(float(w**2 @ (density - mean) ** 2))
    return float(log_lik.max() + math.log(mean)), se / mean


def _pit_se(pit: float, ess: float) -> float:
    """A PIT's binomial-type standard error from ``ess`` effective draws (at least that of one draw in ``ess``)."""
    p = min(max(pit, 1 / ess), 1 - 1 / ess)
    return math.sqrt(p * (1 - p) / ess)


@pytest.mark.slow
def test_every_check_by_importance_sampling_agrees_with_its_exact_refit(dated_estimate):
    """Each row of `estimate`'s checks against the same row refitted exactly (``importance=False``).

    A row sampled because k̂ or the ESS failed is the exact refit itself: the same numbers. A row made
    by importance sampling agrees with an exact refit within Monte Carlo error: the PIT within Z
    standard errors of a proportion from both ESS, the lpd within Z of both delta-method errors.
    """
    from dataclasses import replace

    from dnamodel.families import fit_of
    from dnamodel.inference.dated import warm_from
    from dnamodel.workflows.checkfit import read_fit

    idata = read_fit(dated_estimate.paths[0])
    family, fit, _ = fit_of(idata)
    exact = replace(family.refit_settings(idata.attrs), importance=False)
    estimated = [
        *dated_estimate.loo,
        *(c for g in dated_estimate.sources if len(g.checks) > 1 for c in g.checks),
        *(c for f in dated_estimate.forecasts for c in f.checks),
    ]
    loo = family.leave_one_out(fit, exact)
    sources = family.leave_one_source_out(fit, exact, loo)
    refitted = [
        *loo,
        *(c for g in sources if len(g.checks) > 1 for c in g.checks),
        *(c for f in family.forecast_checks(fit, exact) for c in f.checks),
    ]
    assert [c.observation for c in estimated] == [c.observation for c in refitted]
    assert {c.refit_method for c in refitted} == {"refit"}
    sampled = [(a, b) for a, b in zip(estimated, refitted, strict=True) if a.refit_method == "refit"]
    for by_estimate, by_refit in sampled:
        assert (by_estimate.pit, by_estimate.lpd, by_estimate.median) == (by_refit.pit, by_refit.lpd, by_refit.median)
    # each row made by importance sampling against an exact refit of its own, at the Refit level
    inputs, base = fit.inputs, fit.compiled.base()
    warm = warm_from(idata)
    n = len(inputs.observation)
    members = checks.source_members(inputs)
    cutoffs = {label: cutoff for label, cutoff, _ in inputs.forecasts}
    rows = [(c, np.arange(n) != inputs.observation.index(c.observation)) for c in dated_estimate.loo]
    for g in (g for g in dated_estimate.sources if len(g.checks) > 1):
        rows += [(c, ~np.isin(np.arange(n), members[g.source])) for c in g.checks]
    rows += [(c, inputs.date <= cutoffs[f.data_to]) for f in dated_estimate.forecasts for c in f.checks]
    worst_pit, worst_lpd = 0.0, 0.0
    for check, active in (row for row in rows if row[0].refit_method == "importance"):
        k = inputs.observation.index(check.observation)
        weighted = checks.refit(inputs, active, **exact.sampling(), warm=warm, base=base, predicts=np.array([k]))
        sampled_fit = checks.refit(inputs, active, **exact.sampling(), warm=warm, predicts=np.array([k]))
        assert weighted.method == "importance"
        assert sampled_fit.passed
        rng = np.random.default_rng(17)
        censor = int(inputs.censor[k])
        pits = [
            checks.pit(D.predictive_draws(f.expected, inputs, rng)[:, k], float(inputs.value[k]), censor)
            for f in (weighted, sampled_fit)
        ]
        se_pit = math.hypot(_pit_se(pits[0], weighted.importance_ess), _pit_se(pits[1], sampled_fit.ess))
        lpd_w, se_w = _lpd_and_se(weighted.weighted_log_likelihood[:, k], weighted.log_weights, base.chains)
        lpd_s, se_s = _lpd_and_se(sampled_fit.log_likelihood[:, k], None, sampled_fit.chains)
        assert lpd_w == pytest.approx(weighted.log_predictive_density(k), abs=1e-9)
        se_lpd = math.hypot(se_w, se_s)
        assert abs(pits[0] - pits[1]) <= Z * se_pit
        assert abs(lpd_w - lpd_s) <= Z * max(se_lpd, 1e-12)
        worst_pit = max(worst_pit, abs(pits[0] - pits[1]) / se_pit)
        worst_lpd = max(worst_lpd, abs(lpd_w - lpd_s) / max(se_lpd, 1e-12))
        print(
            f"{check.observation}: ΔPIT {pits[0] - pits[1]:+.4f} (SE {se_pit:.4f}), "
            f"Δlpd {lpd_w - lpd_s:+.4g} (SE {se_lpd:.3g})"
        )
    print(f"largest |ΔPIT| {worst_pit:.2f} SE, |Δlpd| {worst_lpd:.2f} SE; {len(sampled)} rows sampled, identical")
