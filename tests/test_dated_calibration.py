"""The dated model calibrated by simulation, and its default fit checked (slow; run by CI).

Simulation-based calibration (Talts et al. 2018) of the default spec: 200 data sets drawn from the
prior, each refitted. Every fit must be free of divergences, and the ranks of the total, every
scalar, each prefecture's campaign start and pace, and the log likelihood must be uniform.
"""

import numpy as np
import pytest
from scipy import stats

from dnamodel.checks import dated as checks
from dnamodel.checks.calibration import uniformity_pvalue
from dnamodel.checks.gates import diagnose
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.outputs.io import read_netcdf
from dnamodel.spec.dated import resolve_dated

pytestmark = pytest.mark.slow

SIMULATIONS = 200
BINS = 10  # 200 ranks over 10 bins: 20 expected a bin, enough for the chi-square approximation
FAMILY = 0.01
"""The chance that some test of this module fails on a correct model: split evenly over its tests."""


@pytest.fixture(scope="module")
def calibration():
    inputs = resolve_dated(load_model("dated"), load_data())
    return checks.dated_sbc(inputs, SIMULATIONS, seed=20220913)


def test_no_simulated_data_set_gives_a_divergent_fit(calibration):
    assert calibration.divergences.tolist() == [0] * SIMULATIONS


def test_ranks_are_uniform(calibration):
    # Bonferroni: each of the Q quantities' tests at FAMILY / (2 Q), half the family for the ranks
    threshold = FAMILY / 2 / len(calibration.quantities)
    pvalues = calibration.uniformity(BINS)
    failing = {q: p for q, p in pvalues.items() if p < threshold}
    assert failing == {}, f"threshold {threshold:.2g}"


def test_intervals_cover_at_their_level(calibration):
    """Each quantity's 50% and 90% intervals cover the truth at rates a binomial test accepts."""
    tests = len(calibration.quantities) * len(calibration.probabilities)
    threshold = FAMILY / 2 / tests
    failing = {}
    for q, rates in calibration.coverage().items():
        for prob, rate in rates.items():
            hits = round(rate * SIMULATIONS)
            p = stats.binomtest(hits, SIMULATIONS, prob).pvalue
            if p < threshold:
                failing[(q, prob)] = rate
    assert failing == {}


def test_ranks_are_among_enough_effective_draws(calibration):
    """A rank among L thinned draws is uniform only if the draws are not much more numerous than the ESS."""
    assert float(np.median(calibration.ess_bulk)) >= calibration.posterior_draws


def test_uniformity_test_has_power_here():
    """Ranks from a posterior 40% too narrow, as a sampler stuck in part of it gives, fail at this size."""
    rng = np.random.default_rng(5)
    truth = rng.standard_normal(SIMULATIONS)
    draws = 0.6 * rng.standard_normal((SIMULATIONS, 99))
    ranks = (draws < truth[:, None]).sum(axis=1)
    assert uniformity_pvalue(ranks, 99, BINS) < FAMILY / 2 / 23  # 23 quantities are ranked


def test_the_default_fit_passes_its_gates_and_leave_one_out_has_no_pit_at_zero_or_one(dated_estimate):
    """The default fit and its leave-one-out as `estimate` makes them (the session's, ``conftest.dated_estimate``)."""
    d = diagnose(read_netcdf(dated_estimate.paths[0]))
    assert d.passed, d.failures
    loo = dated_estimate.loo
    assert len(loo) == len(resolve_dated(load_model("dated"), load_data()).observation)
    # each refit gated and 4 x 600 predictive draws: a PIT of 0 or 1 would mean no draw on one side of the observation
    assert all(c.refit_passed for c in loo), [(c.observation, c.refit_passed) for c in loo]
    assert all(0 < c.pit < 1 for c in loo), [(c.observation, c.pit) for c in loo]
