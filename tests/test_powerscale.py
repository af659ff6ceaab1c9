"""Power-scaling sensitivity: the kernels against analytic truth, the default model's psens table,
and the importance-weighted estimate against an actual refit with the prior scaled."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy import stats

from dnamodel.checks.powerscale import (
    NO_FLAG,
    PRIOR_DATA_CONFLICT,
    QUANTITIES,
    STRONG_PRIOR,
    THRESHOLD,
    TOP_LEVEL_PRIORS,
    add_log_densities,
    diagnosis,
    pareto_k_threshold,
    power_scaled_mean,
    power_scaled_prior,
    power_scaling,
    refit_scaled,
    scaled_estimate,
    scaled_prior_values,
    sensitivity_table,
)
from dnamodel.errors import UsageError
from dnamodel.inference.sampling import compiled_for, fit_model, quiet_arviz
from dnamodel.spec import load_model
from dnamodel.spec.hierarchical import ExponentialPrior, HalfNormalPrior, NormalPrior, StudentTPrior, parse_hierarchical
from dnamodel.spec.resolve import resolve_hierarchical

quiet_arviz()
DIAGNOSES = {PRIOR_DATA_CONFLICT, STRONG_PRIOR, NO_FLAG}
DRAWS, TUNE, CHAINS, SEED = 1000, 1000, 4, 20220913


@pytest.fixture(scope="module")
def scaled_fit():
    """The default model at reduced draws, with its log densities."""
    idata, fitted = fit_model("hierarchical_han", draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED, prior_draws=100)
    return add_log_densities(idata, fitted), fitted


# --- array kernels against analytic truth --------------------------------------------------------

# A conjugate normal: prior N(0, 1), one observation 2 with sd 1, posterior N(1, 1/2). With the
# prior raised to alpha the posterior is N(2 / (1 + alpha), 1 / (1 + alpha)).
POSTERIOR_MEAN, POSTERIOR_SD = 1.0, math.sqrt(0.5)


def _scaled_truth(alpha: float) -> float:
    return 2.0 / (1.0 + alpha)


def _ar1_draws(rng: np.random.Generator, shape: tuple[int, ...], rho: float) -> np.ndarray:
    """Chains from the posterior with lag-1 autocorrelation rho, as MCMC draws have."""
    innovations = rng.standard_normal(shape)
    draws = np.empty(shape)
    draws[..., 0] = innovations[..., 0]
    for t in range(1, shape[-1]):
        draws[..., t] = rho * draws[..., t - 1] + math.sqrt(1 - rho**2) * innovations[..., t]
    return POSTERIOR_MEAN + POSTERIOR_SD * draws


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_power_scaled_mean_recovers_the_conjugate_answer(alpha):
    theta = _ar1_draws(np.random.default_rng(1), (4, 1000), rho=0.6)
    mean, mcse, ess, k = power_scaled_mean(theta, stats.norm.logpdf(theta), alpha)
    assert k < pareto_k_threshold(theta.size)
    assert abs(mean - _scaled_truth(alpha)) <= 4 * mcse
    assert 0 < ess < theta.size  # autocorrelated and weighted: fewer effective draws than draws


def test_power_scaled_mean_mcse_is_calibrated_on_autocorrelated_chains():
    # Over independent replications, the estimate falls within 2 MCSE of the truth in 95.45% of
    # them. rho = 0.6 makes an MCSE that ignored autocorrelation too small by sqrt(0.4 / 1.6) = 1/2,
    # and its coverage about 68%: far outside the tolerance, so the test can tell.
    replications, alpha = 300, 0.5
    theta = _ar1_draws(np.random.default_rng(2), (replications, 4, 500), rho=0.6)
    covered = 0
    for draws in theta:
        mean, mcse, _, k = power_scaled_mean(draws, stats.norm.logpdf(draws), alpha)
        assert k < pareto_k_threshold(draws.size)
        covered += abs(mean - _scaled_truth(alpha)) <= 2 * mcse
    nominal = stats.norm.cdf(2) - stats.norm.cdf(-2)
    binomial_sd = math.sqrt(nominal * (1 - nominal) / replications)
    assert abs(covered / replications - nominal) <= 4 * binomial_sd


def test_power_one_is_the_plain_mean():
    theta = np.random.default_rng(3).normal(size=(2, 300))
    mean, mcse, _, k = power_scaled_mean(theta, stats.norm.logpdf(theta), 1.0)
    assert mean == pytest.approx(theta.mean(), rel=1e-12)
    assert mcse > 0
    assert k == -math.inf


def test_power_scaled_mean_refuses_mismatched_draws():
    with pytest.raises(ValueError, match=r"\(chain, draw\)"):
        power_scaled_mean(np.zeros((4, 10)), np.zeros(40), 2.0)
    with pytest.raises(ValueError, match="positive"):
        power_scaled_mean(np.zeros((4, 10)), np.zeros((4, 10)), 0.0)


@pytest.mark.parametrize(
    ("prior", "scipy_dist"),
    [
        (NormalPrior(dist="normal", mu=-1.0, sigma=1.5), lambda p: stats.norm(p.mu, p.sigma)),
        (HalfNormalPrior(dist="halfnormal", sigma=1.0), lambda p: stats.halfnorm(scale=p.sigma)),
        (ExponentialPrior(dist="exponential", scale=2.0), lambda p: stats.expon(scale=p.scale)),
    ],
)
@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_power_scaled_prior_is_the_prior_to_the_power(prior, scipy_dist, alpha):
    # p_alpha(x) ∝ p(x)^alpha: the log ratio is one constant at every x.
    x = np.linspace(0.1, 3.0, 7)
    log_ratio = scipy_dist(power_scaled_prior(prior, alpha)).logpdf(x) - alpha * scipy_dist(prior).logpdf(x)
    np.testing.assert_allclose(log_ratio, log_ratio[0], rtol=0, atol=1e-12)


def test_a_student_t_prior_has_no_power_in_its_family():
    with pytest.raises(UsageError, match="no longer student_t"):
        power_scaled_prior(StudentTPrior(dist="student_t", nu=3.0, sigma=1.0), 2.0)


@pytest.mark.parametrize(
    ("prior", "likelihood", "expected"),
    [
        (0.10, 0.10, PRIOR_DATA_CONFLICT),
        (THRESHOLD, THRESHOLD, PRIOR_DATA_CONFLICT),  # priorsense: both at or above
        (0.10, 0.01, STRONG_PRIOR),
        (THRESHOLD, 0.01, NO_FLAG),  # priorsense: prior strictly above
        (0.01, 0.10, NO_FLAG),  # likelihood-dominated: the expected case
        (0.01, 0.01, NO_FLAG),
    ],
)
def test_diagnosis_follows_priorsense(prior, likelihood, expected):
    assert diagnosis(prior, likelihood) == expected


def _conjugate_idata(prior_sd: float, y: float, y_sd: float, seed: int):
    import arviz as az

    precision = 1 / prior_sd**2 + 1 / y_sd**2
    theta = np.random.default_rng(seed).normal(y / y_sd**2 / precision, 1 / math.sqrt(precision), size=(4, 1000))
    idata = az.from_dict(posterior={"theta": theta}, log_likelihood={"y": stats.norm.logpdf(y, theta, y_sd)})
    idata.add_groups(log_prior={"theta": stats.norm.logpdf(theta, 0, prior_sd)})
    return idata


@pytest.mark.parametrize(
    ("prior_sd", "y", "y_sd", "expected"),
    [
        (1.0, 3.0, 1.0, PRIOR_DATA_CONFLICT),  # the data three prior sds out
        (1.0, 0.0, 10.0, STRONG_PRIOR),  # the data far weaker than the prior
        (10.0, 1.0, 0.5, NO_FLAG),  # the data far stronger than the prior
    ],
)
def test_sensitivity_table_tells_the_three_regimes_apart(prior_sd, y, y_sd, expected):
    table = sensitivity_table(_conjugate_idata(prior_sd, y, y_sd, seed=4), ["theta"])
    assert table["theta"].diagnosis == expected
    assert table.prior_terms == ("theta",)
    assert table.likelihood_terms == ("y",)


# --- the default model -----------------------------------------------------------------------------


def test_log_density_groups(scaled_fit):
    idata, _ = scaled_fit
    assert set(idata.log_likelihood.data_vars) == {"obs", "row_obs", "thesis"}
    assert idata.log_likelihood["obs"].dims == ("chain", "draw", "observation")
    assert idata.log_likelihood["row_obs"].dims == ("chain", "draw", "row")
    assert idata.log_likelihood["thesis"].dims == ("chain", "draw")
    assert tuple(idata.log_prior.data_vars) == TOP_LEVEL_PRIORS  # the default model has all of them
    for group in (idata.log_likelihood, idata.log_prior):
        for name, values in group.data_vars.items():
            assert np.isfinite(values).all(), name


def _scipy_prior(prior):
    if prior.dist == "normal":
        return stats.norm(prior.mu, prior.sigma)
    assert prior.dist == "halfnormal", prior.dist  # the default spec's other family
    return stats.halfnorm(scale=prior.sigma)


def test_log_densities_are_the_spec_densities_at_the_draws(scaled_fit):
    # On each parameter's own scale, without the Jacobian of the sampler's log transform.
    idata, fitted = scaled_fit
    post = idata.posterior
    for name in TOP_LEVEL_PRIORS:
        expected = _scipy_prior(fitted.inputs.priors[name]).logpdf(post[name].values)
        np.testing.assert_allclose(idata.log_prior[name].values, expected, rtol=1e-10, err_msg=name)
    observed = fitted.inputs.observed[None, None, :]
    error = fitted.inputs.error[None, None, :]
    expected = stats.lognorm.logpdf(observed, s=error, scale=post["expected"].values)
    np.testing.assert_allclose(idata.log_likelihood["obs"].values, expected, rtol=1e-10)


def test_psens_table_of_the_default_model(scaled_fit):
    idata, fitted = scaled_fit
    table = power_scaling(idata, fitted)
    assert table.quantities == QUANTITIES
    for row in table.rows:
        assert 0 <= row.prior <= 1, row
        assert 0 <= row.likelihood <= 1, row
        assert row.diagnosis in DIAGNOSES
        assert row.diagnosis == diagnosis(row.prior, row.likelihood)
    assert table.prior_terms == TOP_LEVEL_PRIORS
    assert table.likelihood_terms == ("obs", "row_obs", "thesis")
    assert table.provenance["spec_hash"] == idata.attrs["spec_hash"]
    assert {row.quantity for row in table.flagged} <= set(QUANTITIES)
    assert table.to_dict()["rows"][0]["quantity"] == "alpha"


def test_power_scaling_leaves_a_fit_without_groups_unchanged(scaled_fit):
    import arviz as az

    idata, fitted = scaled_fit
    bare = az.InferenceData(posterior=idata.posterior, attrs=dict(idata.attrs))
    table = power_scaling(bare, fitted, ["beta"])
    assert "log_prior" not in bare.groups()
    assert table["beta"] == power_scaling(idata, fitted, ["beta"])["beta"]


def test_a_rebound_model_scores_the_draws_with_its_own_prior(scaled_fit, data):
    # The compiled model is shared: a spec that changes only beta's prior scale reuses it, and the
    # log prior must use the new scale, then leave the shared model as it was.
    import arviz as az

    idata, fitted = scaled_fit
    spec = load_model("hierarchical_han")
    raw = copy.deepcopy(spec.raw)
    raw["fraction"]["beta"]["sigma"] = 0.5
    changed = parse_hierarchical(raw, spec.text + "\n# beta sigma 0.5", spec.path)
    rebound = compiled_for(resolve_hierarchical(changed, data))
    assert rebound.model is fitted.model
    scored = add_log_densities(az.InferenceData(posterior=idata.posterior), rebound)
    beta = idata.posterior["beta"].values
    np.testing.assert_allclose(scored.log_prior["beta"].values, stats.norm(0.0, 0.5).logpdf(beta), rtol=1e-10)
    assert float(fitted.model["beta__sigma"].get_value()) == 1.0


def test_scaled_prior_values_are_the_containers_to_change(scaled_fit):
    _, fitted = scaled_fit
    assert scaled_prior_values(fitted, "beta", 2.0) == {"beta__mu": 0.0, "beta__sigma": pytest.approx(2**-0.5)}
    assert scaled_prior_values(fitted, "sigma", 4.0) == {"sigma__sigma": 0.5}


def test_only_top_level_priors_can_be_scaled(scaled_fit):
    idata, fitted = scaled_fit
    with pytest.raises(UsageError, match="did you mean 'beta'"):
        scaled_estimate(idata, fitted, "betta", 2.0, "total")
    with pytest.raises(UsageError, match="not a top-level prior"):
        scaled_prior_values(fitted, "z", 2.0)
    with pytest.raises(UsageError, match="not a scalar"):
        scaled_estimate(idata, fitted, "beta", 2.0, "fraction")
    with pytest.raises(UsageError, match="positive"):
        scaled_estimate(idata, fitted, "beta", -1.0, "total")


# --- importance weights against a refit ------------------------------------------------------------


@pytest.fixture(scope="module", params=[0.5, 2.0], ids=["alpha=0.5", "alpha=2"])
def beta_refit(request, scaled_fit):
    """The default model refitted with beta's prior raised to the power alpha."""
    _, fitted = scaled_fit
    alpha = request.param
    seed = int(np.random.default_rng([SEED, int(alpha * 10)]).integers(2**31))
    return alpha, refit_scaled(fitted, "beta", alpha, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("quantity", ["beta", "total"])
def test_importance_weights_agree_with_a_refit(scaled_fit, beta_refit, quantity):
    # Both estimates carry Monte Carlo error only, independent of each other (separate fits), so
    # their difference has sd sqrt(mcse_is² + mcse_refit²); 4 of those bound it but for 6e-5 of runs.
    import arviz as az

    idata, fitted = scaled_fit
    alpha, refit = beta_refit
    assert int(refit.sample_stats["diverging"].sum()) == 0
    estimate = scaled_estimate(idata, fitted, "beta", alpha, quantity)
    assert estimate.reliable, estimate
    refit_mean = float(refit.posterior[quantity].mean())
    refit_mcse = float(az.mcse(refit, var_names=[quantity], method="mean")[quantity])
    tolerance = 4 * math.hypot(estimate.mcse, refit_mcse)
    assert abs(estimate.mean - refit_mean) <= tolerance
    if quantity == "beta":
        # The check can see what it checks: the prior moves beta's mean by more than the tolerance.
        assert abs(refit_mean - float(idata.posterior["beta"].mean())) > tolerance


def test_an_array_quantity_gives_a_row_per_element():
    import arviz as az

    rng = np.random.default_rng(5)
    theta = rng.normal(1.5, math.sqrt(0.5), size=(4, 1000, 2))
    idata = az.from_dict(
        posterior={"theta": theta},
        log_likelihood={"y": stats.norm.logpdf(3.0, theta, 1.0)},
        coords={"unit": ["lhorong", "zhagyab"]},
        dims={"theta": ["unit"], "y": ["unit"]},
    )
    idata.add_groups(log_prior={"theta": stats.norm.logpdf(theta)})
    table = sensitivity_table(idata, ["theta"])
    assert table.quantities == ("theta[lhorong]", "theta[zhagyab]")
