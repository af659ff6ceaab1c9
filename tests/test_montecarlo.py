"""The Monte Carlo engine against closed forms, with tolerances derived from the number of draws."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from dnamodel import dims
from dnamodel.errors import DataError, UsageError
from dnamodel.families import load_model
from dnamodel.montecarlo.engine import Engine, inverse_cdf
from dnamodel.montecarlo.run import PROBABILITIES, QMC_REPLICATES, monte_carlo, stream_summary
from dnamodel.spec.montecarlo import Resolved

LOW, HIGH = 919_282, 1_206_962  # report_uniform's total is uniform on [LOW, HIGH] (docs/model.md, section 3)
Z = 4.0  # checks at 4 standard errors: a correct engine fails one with probability 6e-5


@pytest.fixture(scope="module")
def uniform_spec():
    return load_model("report_uniform")


@pytest.fixture(scope="module")
def mc_spec():
    return load_model("report_mc")


# --- inverse CDFs against scipy ------------------------------------------------------------

U = np.array([1e-9, 0.01, 0.2, 0.5, 0.77, 0.99, 1 - 1e-9])


@pytest.mark.parametrize(
    ("dist", "params", "reference"),
    [
        ("uniform", {"low": 2.0, "high": 5.0}, stats.uniform(2, 3)),
        ("triangular", {"low": 1.0, "mode": 2.0, "high": 5.0}, stats.triang(0.25, loc=1, scale=4)),
        ("pert", {"low": 0.0, "mode": 3.0, "high": 10.0, "shape": 4.0}, stats.beta(2.2, 3.8, scale=10)),
        ("normal", {"mean": 3.0, "sd": 2.0}, stats.norm(3, 2)),
        ("normal", {"mean": 3.0, "sd": 2.0, "lower": 0.0, "upper": 4.0}, stats.truncnorm(-1.5, 0.5, 3, 2)),
        ("lognormal", {"median": 5.0, "sigma": 0.5}, stats.lognorm(0.5, scale=5)),
        ("beta", {"alpha": 2.0, "beta": 5.0}, stats.beta(2, 5)),
    ],
)
def test_inverse_cdf_matches_scipy(dist, params, reference):
    got = inverse_cdf(Resolved("x", dist, "number", params), U)
    np.testing.assert_allclose(got, reference.ppf(U), rtol=1e-9, atol=1e-12)


def test_truncated_lognormal_stays_inside_its_bounds():
    got = inverse_cdf(
        Resolved("x", "lognormal", "number", {"median": 5.0, "sigma": 1.0, "lower": 2.0, "upper": 9.0}), U
    )
    reference = stats.lognorm(1.0, scale=5)
    expected = reference.ppf(reference.cdf(2.0) + U * (reference.cdf(9.0) - reference.cdf(2.0)))
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got.min() >= 2.0
    assert got.max() <= 9.0


def test_choice_and_empirical_take_values_in_proportion():
    u = (np.arange(1000) + 0.5) / 1000
    choice = inverse_cdf(
        Resolved("x", "choice", "number", {"values": [10.0, 20.0, 30.0], "weights": [0.2, 0.5, 0.3]}), u
    )
    assert [int((choice == v).sum()) for v in (10, 20, 30)] == [200, 500, 300]
    empirical = inverse_cdf(Resolved("x", "empirical", "number", {"values": [1.0, 2.0, 4.0, 8.0]}), u)
    assert [int((empirical == v).sum()) for v in (1, 2, 4, 8)] == [250, 250, 250, 250]


# --- report_uniform: a closed form ---------------------------------------------------------


def test_report_uniform_total_spans_the_reports_two_estimates(uniform_spec):
    engine = Engine.build(uniform_spec)
    ends = engine.draws(np.array([[0.0], [1.0]]))["total"]
    np.testing.assert_allclose(ends, [LOW, HIGH], rtol=0, atol=1e-6)


@pytest.mark.parametrize("chunk_size", [2**20, 2**16], ids=["all-in-one-chunk", "streamed-sketch"])
def test_report_uniform_quantiles_match_the_closed_form(uniform_spec, chunk_size):
    draws = 2**20
    total = stream_summary(uniform_spec, draws, seed=11, chunk_size=chunk_size).variables["total"]
    width = HIGH - LOW
    for p in PROBABILITIES:
        standard_error = math.sqrt(p * (1 - p) / draws) * width  # of a sample quantile of a uniform
        estimate = total.quantiles[p]
        assert abs(estimate.value - (LOW + p * width)) < Z * standard_error + total.resolution
        # The reported MCSE estimates that standard error.
        assert 0.75 < estimate.mcse / standard_error < 1.33
    mean_error = width / math.sqrt(12 * draws)
    assert abs(total.mean.value - (LOW + HIGH) / 2) < Z * mean_error
    assert total.mean.mcse == pytest.approx(mean_error, rel=0.01)


def test_report_uniform_share_is_total_over_366_million(uniform_spec):
    result = monte_carlo(uniform_spec, draws=1000, seed=3)
    np.testing.assert_allclose(result["share"], result["total"] / 3_660_000, rtol=1e-15)


# --- report_mc: its exact mean by enumeration ------------------------------------------------


def exact_mean_report_mc(data) -> Fraction:
    """E[total] of report_mc: every choice equally likely, rest_position uniform (total is linear in it)."""
    obs = {oid: o.exact for oid, o in data.observations.items()}
    populations = [Fraction(data.areas["tibet"].population), obs["tibet_population_2021"]]
    later = [Fraction(0), obs["zhagyab_samples_added_2018"]]
    zhagyab_bases = [obs["zhagyab_population_findings"], obs["zhagyab_population_table4"]]
    lhasa_bases = [obs["lhasa_population"], obs["lhasa_population_with_temporary"]]
    lhasa_census, nyingchi = Fraction(data.areas["lhasa"].population), obs["nyingchi_population"]
    lhorong_rate = obs["lhorong_samples_2016"] / obs["lhorong_population_table4"]
    lhasa_samples = obs["qushui_samples_2021"] / obs["qushui_lhasa_database_share"]
    totals = []
    for population, extra, zhagyab_base, lhasa_base, like_lhasa in itertools.product(
        populations, later, zhagyab_bases, lhasa_bases, (True, False)
    ):
        zhagyab_rate = (obs["zhagyab_samples_2017"] + extra) / zhagyab_base
        rest_rate = lhorong_rate + Fraction(1, 2) * (zhagyab_rate - lhorong_rate)
        nyingchi_rate = lhasa_samples / lhasa_base if like_lhasa else rest_rate
        rest_population = population - lhasa_census - nyingchi
        totals.append(rest_population * rest_rate + lhasa_samples + nyingchi * nyingchi_rate)
    return sum(totals, Fraction(0)) / len(totals)


def test_report_mc_mean_pseudo_random(mc_spec, data):
    total = stream_summary(mc_spec, 2**20, seed=5, data=data).variables["total"]
    exact = float(exact_mean_report_mc(data))
    assert abs(total.mean.value - exact) < Z * total.mean.mcse


def test_report_mc_mean_quasi_random_is_nearly_exact(mc_spec, data):
    # Every 1-D projection of 2^k scrambled Sobol points is balanced, and the total is multilinear in
    # independent inputs that switch at u = 1/2, so QMC integrates the mean to within about 1e-8 of it,
    # where pseudo-random draws at the same count have an MCSE of 1e-3 of it. The replicates then agree
    # more closely than their true error: for such a quantity the reported MCSE is a lower bound
    # (docs/model.md, section 3).
    draws = QMC_REPLICATES * 2**10
    qmc = stream_summary(mc_spec, draws, seed=5, data=data, qmc=True).variables["total"]
    pseudo = stream_summary(mc_spec, draws, seed=5, data=data).variables["total"]
    exact = float(exact_mean_report_mc(data))
    assert abs(qmc.mean.value - exact) < 1e-7 * exact
    assert pseudo.mean.mcse > 1e-3 * exact


def test_report_mc_never_falls_below_the_reports_low_estimate(mc_spec, data):
    # Every alternative raises the total: the census-boundary split leaves more people outside Lhasa and
    # Nyingchi than the report's 2.48 million, and each base and count choice raises a rate.
    engine = Engine.build(mc_spec, data)
    corners = np.array(list(itertools.product((0.0, 0.999), repeat=len(engine.random))))
    assert engine.draws(corners)["total"].min() > LOW


# --- determinism and the dataset ---------------------------------------------------------------


def test_same_seed_same_draws_whatever_the_chunk_size(mc_spec):
    whole = monte_carlo(mc_spec, draws=10_000, seed=42, chunk_size=10_000)
    chunked = monte_carlo(mc_spec, draws=10_000, seed=42, chunk_size=999)
    for name in whole.data_vars:
        np.testing.assert_array_equal(whole[name].values, chunked[name].values)
    other = monte_carlo(mc_spec, draws=10_000, seed=43)
    assert not np.array_equal(whole["total"].values, other["total"].values)


def test_quasi_random_draws_do_not_depend_on_the_chunk_size(mc_spec):
    draws = QMC_REPLICATES * 2**10
    whole = monte_carlo(mc_spec, draws=draws, seed=7, qmc=True, chunk_size=2**10)
    chunked = monte_carlo(mc_spec, draws=draws, seed=7, qmc=True, chunk_size=2**7)
    np.testing.assert_array_equal(whole["total"].values, chunked["total"].values)
    assert set(np.unique(whole["replicate"].values)) == set(range(QMC_REPLICATES))


def test_streamed_summary_does_not_depend_on_the_chunk_size(mc_spec):
    one = stream_summary(mc_spec, 2**18, seed=9, chunk_size=2**18).variables["total"]
    many = stream_summary(mc_spec, 2**18, seed=9, chunk_size=2**13).variables["total"]
    assert many.mean.value == pytest.approx(one.mean.value, rel=1e-12)
    for p in PROBABILITIES:
        assert abs(many.quantiles[p].value - one.quantiles[p].value) <= many.resolution


def test_dataset_shape_and_provenance(mc_spec):
    result = monte_carlo(mc_spec, draws=500, seed=1)
    assert result["total"].dims == (dims.DRAW,)
    assert result.sizes[dims.DRAW] == 500
    random_inputs = {
        "population",
        "rest_position",
        "zhagyab_later",
        "zhagyab_base",
        "lhasa_base",
        "nyingchi_like_lhasa",
    }
    assert random_inputs | {"total", "share", "rest_rate"} <= set(result.data_vars)
    attrs = result.attrs
    assert (attrs["seed"], attrs["draws"], attrs["model"]) == (1, 500, "report_mc")
    assert attrs["spec_hash"] == mc_spec.hash
    assert attrs["spec"] == mc_spec.text
    assert attrs["data_version"].startswith("sha256:")
    assert result["lhasa_base"].attrs["dist"] == "choice"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"draws": 0}, "draws must be a positive whole number"),
        ({"draws": 2**25}, "would not fit in memory"),
        ({"draws": 1000, "qmc": True}, "quasi-Monte Carlo needs draws = 16 × a power of 2"),
        ({"draws": 16 * 2**10, "qmc": True, "chunk_size": 1000}, "chunk size that is a power of 2"),
    ],
)
def test_bad_draws(mc_spec, kwargs, words):
    with pytest.raises(UsageError, match=words):
        monte_carlo(mc_spec, **kwargs)


@pytest.mark.slow
def test_streamed_quantiles_at_2_to_the_26_draws(uniform_spec):
    """Slow: 67 million draws streamed in 64 chunks through the sketch, against the closed form."""
    draws = 2**26
    total = stream_summary(uniform_spec, draws, seed=2026, chunk_size=2**20).variables["total"]
    width = HIGH - LOW
    assert total.resolution < width / 10_000
    for p in PROBABILITIES:
        standard_error = math.sqrt(p * (1 - p) / draws) * width
        assert abs(total.quantiles[p].value - (LOW + p * width)) < Z * standard_error + total.resolution


def test_a_streamed_total_that_is_not_finite_is_an_error(tmp_path):
    """Beyond one chunk the compiled kernels stream the draws; a total that overflows in the tails is
    still an error naming it, never a summary of inf (the median check cannot see a tail)."""
    spec_file = tmp_path / "overflow.toml"
    spec_file.write_text(
        '[model]\nname = "overflow"\ndescription = "overflows near rate = 0.2"\n\n'
        '[inputs.rate]\ndist = "uniform"\nkind = "share"\nlow = 0.1\nhigh = 0.9\n\n'
        '[inputs.population]\ndist = "point"\nkind = "count"\nvalue = 1000\n\n'
        '[quantities]\ntotal = "population * 1e304 / (rate - 0.2)"\nshare = "total / population"\n',
        encoding="utf-8",
    )
    spec = load_model(spec_file)
    with pytest.raises(DataError, match=r"quantities\.total"):
        stream_summary(spec, 2**16, chunk_size=2**12)
