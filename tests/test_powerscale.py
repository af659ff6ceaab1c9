"""Power-scaling sensitivity: the kernels against analytic truth, the psens tables of the dated
and the hierarchical model, and the importance-weighted estimate against an actual refit with the
prior scaled (both models)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from scipy import stats

from dnamodel.checks.powerscale import (
    DATED_QUANTITIES,
    NO_FLAG,
    PRIOR_DATA_CONFLICT,
    QUANTITIES,
    STRONG_PRIOR,
    THRESHOLD,
    diagnosis,
    pareto_k_threshold,
    power_scaled_mean,
    sensitivity_table,
)
from dnamodel.checks.scaled_priors import (
    DATED_PRIOR_TERMS,
    TOP_LEVEL_PRIORS,
    add_log_densities,
    dated_log_prior,
    dated_scaled_refit,
    hierarchical_scaled_refit,
    power_scaled_prior,
    scaled_dated_inputs,
    scaled_prior_values,
)
from dnamodel.errors import UsageError
from dnamodel.families import Fit, family_named, load_model
from dnamodel.inference import dated as D
from dnamodel.inference.dated_packing import PRIOR_COLUMNS, TRANSFORM_COLUMNS
from dnamodel.inference.sampling import compiled_for, fit_hierarchical, quiet_arviz
from dnamodel.outputs.io import read_netcdf, write_netcdf
from dnamodel.spec.hierarchical import (
    BetaPrior,
    ExponentialPrior,
    GammaPrior,
    HalfNormalPrior,
    LogNormalPrior,
    NormalPrior,
    StudentTPrior,
    parse_hierarchical,
)
from dnamodel.spec.resolve import resolve_hierarchical

HIERARCHICAL, DATED = family_named("hierarchical"), family_named("dated")


def _fit(idata, fitted=None):
    """A fit as its family takes it; the spec is not needed here."""
    return Fit(None, idata, None if fitted is None else fitted.inputs, compiled=fitted)


quiet_arviz()
DIAGNOSES = {PRIOR_DATA_CONFLICT, STRONG_PRIOR, NO_FLAG}
DRAWS, TUNE, CHAINS, SEED = 1000, 1000, 4, 20220913


@pytest.fixture(scope="module")
def scaled_fit():
    """The default model at reduced draws, with its log densities."""
    idata, fitted = fit_hierarchical(
        load_model("hierarchical_han"), draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED, prior_draws=100
    )
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
        (GammaPrior(dist="gamma", alpha=3.0, beta=2.0), lambda p: stats.gamma(p.alpha, scale=1 / p.beta)),
        (BetaPrior(dist="beta", alpha=8.0, beta=2.0), lambda p: stats.beta(p.alpha, p.beta)),
        (LogNormalPrior(dist="lognormal", mu=-1.0, sigma=0.75), lambda p: stats.lognorm(p.sigma, scale=np.exp(p.mu))),
    ],
)
@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_power_scaled_prior_is_the_prior_to_the_power(prior, scipy_dist, alpha):
    # p_alpha(x) ∝ p(x)^alpha: the log ratio is one constant at every x.
    x = np.linspace(0.1, 0.9, 7)  # inside every support, the Beta's included
    log_ratio = scipy_dist(power_scaled_prior(prior, alpha)).logpdf(x) - alpha * scipy_dist(prior).logpdf(x)
    np.testing.assert_allclose(log_ratio, log_ratio[0], rtol=0, atol=1e-12)


def test_a_student_t_prior_has_no_power_in_its_family():
    with pytest.raises(UsageError, match="no longer student_t"):
        power_scaled_prior(StudentTPrior(dist="student_t", nu=3.0, sigma=1.0), 2.0)


def test_a_power_without_a_density_is_refused():
    # Gamma(0.5, 1) squared: x^(-1) e^(-2x), not integrable at 0
    with pytest.raises(UsageError, match="has no density"):
        power_scaled_prior(GammaPrior(dist="gamma", alpha=0.5, beta=1.0), 2.0)


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
    table = HIERARCHICAL.power_scaling(_fit(idata, fitted), None)
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
    table = HIERARCHICAL.power_scaling(_fit(bare, fitted), ["beta"])
    assert "log_prior" not in bare.groups()
    assert table["beta"] == HIERARCHICAL.power_scaling(_fit(idata, fitted), ["beta"])["beta"]


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
        HIERARCHICAL.scaled_estimate(_fit(idata, fitted), "betta", 2.0, "total")
    with pytest.raises(UsageError, match="not a top-level prior"):
        scaled_prior_values(fitted, "z", 2.0)
    with pytest.raises(UsageError, match="not a scalar"):
        HIERARCHICAL.scaled_estimate(_fit(idata, fitted), "beta", 2.0, "fraction")
    with pytest.raises(UsageError, match="positive"):
        HIERARCHICAL.scaled_estimate(_fit(idata, fitted), "beta", -1.0, "total")


# --- the dated model -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dated_small(data):
    """A small dated fit: its log densities come with it, and nothing needs compiling but once per machine."""
    return D.fit_dated(load_model("dated"), data, draws=300, tune=300, chains=2, seed=7, prior_draws=100)


def test_dated_log_prior_is_each_prior_on_its_own_scale(dated_small):
    # The saved terms are on the sampler's scale, Jacobians included; these are the spec's densities
    # of the parameters themselves, as power-scaling needs them.
    idata, inputs = dated_small.idata, dated_small.inputs
    post, p = idata.posterior, inputs.priors
    natural = dated_log_prior(idata)
    assert tuple(natural.data_vars) == DATED_PRIOR_TERMS  # the default spec has every term
    start = post["start"].values
    around = inputs.start_kind == 0
    start_density = np.where(
        around,
        stats.norm.logpdf(start, inputs.start_anchor, inputs.start_scale),
        stats.halfnorm.logpdf(np.abs(start - inputs.start_anchor), scale=inputs.start_scale),
    ).sum(axis=-1)
    expected = {
        "alpha": stats.norm(p["alpha"].mu, p["alpha"].sigma).logpdf(post["alpha"].values),
        "contrast": stats.norm(p["contrast"].mu, p["contrast"].sigma).logpdf(post["contrast"].values),
        "group_sd": stats.gamma(p["group_sd"].alpha, scale=1 / p["group_sd"].beta).logpdf(post["group_sd"].values),
        "unit_sd": stats.gamma(p["unit_sd"].alpha, scale=1 / p["unit_sd"].beta).logpdf(post["unit_sd"].values),
        "reported": stats.norm(p["reported"].mu, p["reported"].sigma).logpdf(post["reported"].values),
        "start": start_density,
        "pace": stats.lognorm(p["pace"].sigma, scale=np.exp(p["pace"].mu)).logpdf(post["pace"].values).sum(-1),
        "typed_share": stats.beta(p["typed_share"].alpha, p["typed_share"].beta).logpdf(post["typed_share"].values),
        "baseline_per_resident": stats.lognorm(
            p["baseline_per_resident"].sigma, scale=np.exp(p["baseline_per_resident"].mu)
        ).logpdf(post["baseline_per_resident"].values),
        "uplift": stats.norm(inputs.uplift_mu, inputs.uplift_sd).logpdf(np.log(post["uplift"].values)).sum(-1),
    }
    assert around.any()  # both kinds of start prior are checked
    assert not around.all()
    for name, values in expected.items():
        np.testing.assert_allclose(natural[name].values, values, rtol=1e-10, atol=1e-9, err_msg=name)


def test_psens_table_of_a_dated_fit_from_its_groups_alone(dated_small, tmp_path):
    idata = dated_small.idata
    table = DATED.power_scaling(_fit(idata), None)  # no compiled model, no refit
    assert table.quantities == DATED_QUANTITIES
    assert table.prior_terms == DATED_PRIOR_TERMS
    assert table.likelihood_terms == ("obs",)
    for row in table.rows:
        assert 0 <= row.prior <= 1, row
        assert 0 <= row.likelihood <= 1, row
        assert row.diagnosis == diagnosis(row.prior, row.likelihood)
        assert set(row.by_prior) == set(DATED_PRIOR_TERMS)
        assert all(0 <= value <= 1 for value in row.by_prior.values()), row
    assert table.provenance["spec_hash"] == idata.attrs["spec_hash"]
    payload = json.loads(json.dumps(table.to_dict()))
    assert payload["rows"][-1]["quantity"] == "total"
    assert set(payload["rows"][-1]["by_prior"]) == set(DATED_PRIOR_TERMS)
    # read back from the file, it is the same table
    again = DATED.power_scaling(_fit(read_netcdf(write_netcdf(idata, tmp_path / "dated.nc"))), None)
    for first, second in zip(table.rows, again.rows, strict=True):
        assert (second.quantity, second.diagnosis) == (first.quantity, first.diagnosis)
        assert (second.prior, second.likelihood) == pytest.approx((first.prior, first.likelihood), rel=1e-9)
        assert second.by_prior == pytest.approx(first.by_prior, rel=1e-9)


def test_scaled_estimate_of_a_dated_fit_needs_no_compiled_model(dated_small):
    idata = dated_small.idata
    estimate = DATED.scaled_estimate(_fit(idata), "unit_sd", 1.0, "total")
    assert estimate.mean == pytest.approx(float(idata.posterior["total"].mean()), rel=1e-12)
    with pytest.raises(UsageError, match="did you mean 'unit_sd'"):
        DATED.scaled_estimate(_fit(idata), "unit_sdd", 2.0, "total")
    with pytest.raises(UsageError, match="not a top-level prior"):
        DATED.scaled_estimate(_fit(idata), "effects", 2.0, "total")


@pytest.mark.parametrize("prior", DATED_PRIOR_TERMS)
def test_a_dated_prior_scaled_changes_only_prior_numbers_of_the_packed_vector(dated_small, prior):
    inputs = dated_small.inputs
    before, after = D.pack(inputs), D.pack(scaled_dated_inputs(inputs, prior, 2.0))
    assert before.shape == after.shape
    changed = np.flatnonzero(~((before == after) | (np.isnan(before) & np.isnan(after))))  # an increment's NaN `since`
    assert changed.size > 0, prior
    # the prior table's numbers a and b (columns 3 and 4 of each row), and for a start around a date
    # the sd its standardised coordinate is scaled by (column 4, b, of the transform table)
    prior_table = int(before[D.SLOT["B_PRIOR"]])
    rows = int(before[D.SLOT["H_NPRIOR"]])
    allowed = {prior_table + PRIOR_COLUMNS * r + c for r in range(rows) for c in (3, 4)}
    if prior == "start":
        transform = int(before[D.SLOT["B_TRANSFORM"]])
        allowed |= {transform + TRANSFORM_COLUMNS * r + 4 for r in range(int(before[D.SLOT["H_NTRANSFORM"]]))}
    assert set(changed) <= allowed, prior


# --- importance weights against a refit ------------------------------------------------------------


@pytest.fixture(scope="module", params=[0.5, 2.0], ids=["alpha=0.5", "alpha=2"])
def beta_refit(request, scaled_fit):
    """The default model refitted with beta's prior raised to the power alpha."""
    _, fitted = scaled_fit
    alpha = request.param
    seed = int(np.random.default_rng([SEED, int(alpha * 10)]).integers(2**31))
    return alpha, hierarchical_scaled_refit(fitted, "beta", alpha, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("quantity", ["beta", "total"])
def test_importance_weights_agree_with_a_refit(scaled_fit, beta_refit, quantity):
    # Both estimates carry Monte Carlo error only, independent of each other (separate fits), so
    # their difference has sd sqrt(mcse_is² + mcse_refit²); 4 of those bound it but for 6e-5 of runs.
    import arviz as az

    idata, fitted = scaled_fit
    alpha, refit = beta_refit
    assert int(refit.sample_stats["diverging"].sum()) == 0
    estimate = HIERARCHICAL.scaled_estimate(_fit(idata, fitted), "beta", alpha, quantity)
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


@pytest.fixture(scope="module")
def dated_fit(data):
    """The dated model at reduced draws: the base the importance weights start from."""
    return D.fit_dated(load_model("dated"), data, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED, prior_draws=100)


@pytest.fixture(scope="module", params=[0.5, 2.0], ids=["alpha=0.5", "alpha=2"])
def unit_sd_refit(request, dated_fit):
    """The dated model refitted with the unit spread's Gamma prior raised to the power alpha."""
    alpha = request.param
    seed = int(np.random.default_rng([SEED, 7, int(alpha * 10)]).integers(2**31))
    refit = dated_scaled_refit(dated_fit.inputs, "unit_sd", alpha, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=seed)
    return alpha, refit


@pytest.mark.slow
@pytest.mark.parametrize("quantity", ["unit_sd", "total"])
def test_dated_importance_weights_agree_with_a_refit(dated_fit, unit_sd_refit, quantity):
    # As for the hierarchical model. The prior is scaled on the spread's own scale in both: a
    # reweighting by the saved terms, Jacobian and all, would scale the prior of log σ instead and
    # miss the refit's mean of σ.
    import arviz as az

    idata = dated_fit.idata
    alpha, refit = unit_sd_refit
    assert refit.attrs["divergences"] == 0
    estimate = DATED.scaled_estimate(_fit(idata), "unit_sd", alpha, quantity)
    assert estimate.reliable, estimate
    refit_mean = float(refit.posterior[quantity].mean())
    refit_mcse = float(az.mcse(refit, var_names=[quantity], method="mean")[quantity])
    tolerance = 4 * math.hypot(estimate.mcse, refit_mcse)
    assert abs(estimate.mean - refit_mean) <= tolerance
    if quantity == "unit_sd":
        assert abs(refit_mean - float(idata.posterior["unit_sd"].mean())) > tolerance
