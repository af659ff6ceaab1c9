"""SBC's refits started from the prior (issue 22 item 1): the prior's map, never the truth.

The simulation-based calibration itself, with its power, is ``tests/test_dated_calibration.py``
(slow); these check the start it uses.
"""

import numpy as np
import pytest

from dnamodel.checks import dated as checks
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.spec.dated import resolve_dated


@pytest.fixture(scope="module")
def inputs():
    return resolve_dated(load_model("dated"), load_data())


def test_the_prior_warm_start_is_the_priors_map_and_the_same_for_the_same_seed(inputs):
    warm = checks.prior_warm(inputs, seed=4, tune=77)
    again = checks.prior_warm(inputs, seed=4, tune=77)
    prior = D.draw_prior(inputs, checks.SBC_WARM_DRAWS, np.random.default_rng(4))
    moving = prior.std(axis=0) > 0
    np.testing.assert_array_equal(warm.centre, again.centre)
    np.testing.assert_array_equal(warm.points, again.points)
    np.testing.assert_allclose(warm.centre, prior.mean(axis=0))
    np.testing.assert_allclose(warm.scale[moving], prior.std(axis=0)[moving])
    assert (warm.scale[~moving] == 1.0).all()  # a fixed coordinate keeps its own scale
    assert (warm.tune, warm.step, len(warm.points)) == (77, checks.SBC_WARM_STEP, D.WARM_POINTS)
    # the starting points are prior draws of that stream, so spread over the prior, not about one value
    assert all((prior == point).all(axis=1).any() for point in warm.points)


def test_no_chain_starts_at_a_truth(inputs):
    """The truths come from another stream: a chain started at its truth would hide a sampler that does not move."""
    seed = 20220913
    truths = D.draw_prior(inputs, 200, np.random.default_rng(checks._seed(seed, 5)))
    warm = checks.prior_warm(inputs, seed=checks._seed(seed, 8))
    distance = np.abs(warm.points[:, None, :] - truths[None, :, :]).max(axis=2)
    assert distance.min() > 0


@pytest.mark.parametrize("warm_tune", [30, None])
def test_sbc_says_how_its_refits_started(inputs, warm_tune):
    calibration = checks.dated_sbc(
        inputs, 2, seed=3, posterior_draws=9, draws=40, tune=40, chains=2, warm_tune=warm_tune
    )
    provenance = calibration.provenance
    assert provenance["start"] == ("cold" if warm_tune is None else "prior")
    assert provenance["tune"] == (40 if warm_tune is None else 30)
    assert calibration.ranks.shape == (2, len(calibration.quantities))
