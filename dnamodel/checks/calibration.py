"""Is the hierarchical model's inference calibrated? Checks by simulation.

:func:`simulate_from_prior` draws parameters and data from the model's prior, thesis
bound included; :func:`hierarchical_sbc` refits the compiled model on each simulated data set and
ranks the truth among the posterior draws (simulation-based calibration);
:func:`uniformity_pvalue` tests those ranks for uniformity; :func:`recovery` fits a
synthetic region whose fractions are known and sets the posterior against them.

Every random number comes from an explicit seed, through ``numpy.random.SeedSequence``;
no global state is read or set.

References
----------
.. [1] Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018).
   "Validating Bayesian inference algorithms with simulation-based calibration".
   arXiv:1804.06788.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.errors import UsageError
from dnamodel.inference.model import thesis_log_factor
from dnamodel.inference.sampling import Fitted, compile_model, holding, quiet_arviz, sample
from dnamodel.provenance import package_version
from dnamodel.spec import parameters
from dnamodel.spec.resolve import ModelInputs

if TYPE_CHECKING:
    import xarray as xr

QUANTITIES = (
    *(q.name for q in parameters.ESTIMAND if q.sbc),
    *parameters.names(parameters.HIERARCHICAL, sbc=True, scalar=True),
)
"""The scalars calibration checks, when the model has them (the pooled variant has no β, σ): the total
and the registry's SBC scalars."""

PROBABILITIES = (0.5, 0.9)
"""The central credible intervals whose coverage :func:`hierarchical_sbc` records."""

PRIOR_BATCH = 1000
"""Forward draws per call of ``pm.sample_prior_predictive``. Fixed, so that the first ``n``
accepted draws do not depend on ``n``: a run of 3 simulations repeats the start of a run of 100."""


def _simulated() -> tuple[str, ...]:
    """What a simulation keeps: the registry's SBC scalars (read when called), the estimand, the fractions and data."""
    return (
        *parameters.names(parameters.HIERARCHICAL, sbc=True, scalar=True),
        "total",
        "share",
        "fraction",
        "obs",
        "row_obs",
    )


def _prior_predictive(fitted: Fitted, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Forward draws from the model, without its potentials, as arrays with draws first."""
    import pymc as pm  # deferred: start-up time

    # a rebound model simulates with its own values, as it samples with them
    with holding(fitted), warnings.catch_warnings():
        # The thesis potential is applied afterwards, by rejection; that is the point of the caller.
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        return pm.sample_prior_predictive(draws=draws, random_seed=seed, return_inferencedata=False)


def simulate_from_prior(fitted: Fitted, n: int, *, seed: int) -> xr.Dataset:
    """Draw parameters and data from the model's prior, thesis bound included.

    ``pm.sample_prior_predictive`` ignores the model's ``thesis`` potential, so its forward
    draws come from the prior without the bound. Each is kept with probability
    ``exp(thesis_log_factor(total))``: the potential is a log-CDF, at most 0, so this
    rejection step is exact and the kept draws come from the prior the posterior is built on.

    Parameters
    ----------
    fitted : Fitted
        From :func:`dnamodel.inference.sampling.compile_model` (or ``rebind``): its model, inputs and data values.
    n : int
        Draws to keep, at least 1.
    seed : int
        Seeds both the forward draws and the acceptance step. The first ``k`` of ``n``
        draws are the draws of ``simulate_from_prior(fitted, k, seed=seed)``.

    Returns
    -------
    xarray.Dataset
        Over ``draw`` (``n``): the true ``alpha``, ``beta``, ``sigma`` (when the variant has
        them), ``total`` (samples) and ``share`` (of the census population), ``fraction``
        over ``unit``, and the simulated data ``obs`` over ``observation`` (counts) and
        ``row_obs`` over ``row`` (counts; when the spec has rows). ``attrs`` hold the seed,
        the forward draws proposed and the acceptance rate.

    Examples
    --------
    The PyMC sampler needs no nutpie compile, so this runs in seconds:

    >>> from dnamodel.inference.sampling import compile_model
    >>> from dnamodel.data import load_data
    >>> from dnamodel.spec.resolve import resolve_hierarchical
    >>> from dnamodel.families import load_model
    >>> inputs = resolve_hierarchical(load_model("hierarchical_han"), load_data())
    >>> prior = simulate_from_prior(compile_model(inputs, "pymc"), 5, seed=1)
    >>> prior.sizes["draw"], prior["obs"].dims
    (5, ('draw', 'observation'))
    >>> bool((prior["total"] > 0.5 * inputs.stock).all())  # the thesis bound holds, softly
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UsageError(f"n must be a positive whole number of draws; it is {n!r}")
    import xarray as xr  # deferred: start-up time

    inputs = fitted.inputs
    batches = np.random.SeedSequence(seed)
    kept: list[dict[str, np.ndarray]] = []
    accepted = proposed = 0
    while accepted < n:
        forward_seed, accept_seed = batches.spawn(1)[0].spawn(2)
        draws = _prior_predictive(fitted, PRIOR_BATCH, int(forward_seed.generate_state(1)[0]))
        log_u = np.log(np.random.default_rng(accept_seed).uniform(size=PRIOR_BATCH))
        keep = np.flatnonzero(log_u < thesis_log_factor(draws["total"], inputs))[: n - accepted]
        proposed += int(keep[-1]) + 1 if accepted + keep.size == n else PRIOR_BATCH
        accepted += keep.size
        kept.append({name: draws[name][keep] for name in _simulated() if name in draws})
    arrays = {name: np.concatenate([batch[name] for batch in kept]) for name in kept[0]}
    variable_dims = {
        "fraction": (dims.DRAW, dims.UNIT),
        "obs": (dims.DRAW, dims.OBSERVATION),
        "row_obs": (dims.DRAW, dims.ROW),
    }
    coords = {dims.DRAW: np.arange(n), dims.UNIT: list(inputs.unit), dims.OBSERVATION: list(inputs.observation)}
    if "row_obs" in arrays:
        coords[dims.ROW] = list(inputs.row)
    return xr.Dataset(
        {name: (variable_dims.get(name, (dims.DRAW,)), values) for name, values in arrays.items()},
        coords=coords,
        attrs={"seed": seed, "proposed": proposed, "acceptance_rate": n / proposed},
    )


# --- simulation-based calibration ---------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """The result of :func:`hierarchical_sbc`: where each truth fell in its posterior, fit by fit.

    Arrays have the simulation axis first and the quantity axis next, in the order of
    ``quantities``.

    Attributes
    ----------
    quantities : tuple of str
        The scalars ranked, from ``total``, ``alpha``, ``beta``, ``sigma``.
    truth : ndarray of float, shape (simulation, quantity)
        The values the data were simulated from.
    ranks : ndarray of int, shape (simulation, quantity)
        How many of the ``posterior_draws`` thinned draws lie below the truth, 0 to
        ``posterior_draws``; uniform on those ``posterior_draws + 1`` values if the
        inference is calibrated.
    posterior_draws : int
        L, the thinned draws each rank is taken among.
    probabilities : tuple of float
        The central intervals whose coverage is recorded.
    covered : ndarray of bool, shape (simulation, quantity, probability)
        Whether the equal-tailed interval of that probability, from all (unthinned)
        draws, contains the truth.
    ess_bulk : ndarray of float, shape (simulation, quantity)
        Each fit's bulk effective sample size, to compare with ``posterior_draws``: ranks
        among draws much more numerous than the ESS are not uniform even for exact inference.
    divergences : ndarray of int, shape (simulation,)
        Divergent transitions in each fit.
    provenance : dict
        Seed, sampler settings, prior acceptance and package version.
    """

    quantities: tuple[str, ...]
    truth: np.ndarray
    ranks: np.ndarray
    posterior_draws: int
    probabilities: tuple[float, ...]
    covered: np.ndarray
    ess_bulk: np.ndarray
    divergences: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def simulations(self) -> int:
        """The number of simulated data sets."""
        return int(self.ranks.shape[0])

    def coverage(self) -> dict[str, dict[float, float]]:
        """The share of fits whose interval covered the truth, by quantity and probability."""
        rates = self.covered.mean(axis=0)
        return {
            q: {p: float(rates[i, j]) for j, p in enumerate(self.probabilities)} for i, q in enumerate(self.quantities)
        }

    def uniformity(self, bins: int) -> dict[str, float]:
        """:func:`uniformity_pvalue` of each quantity's ranks."""
        return {
            q: uniformity_pvalue(self.ranks[:, i], self.posterior_draws, bins) for i, q in enumerate(self.quantities)
        }


def hierarchical_sbc(
    fitted: Fitted,
    n_sims: int,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    thin: int = 10,
    target_accept: float = 0.9,
) -> Calibration:
    """Simulation-based calibration of the compiled model (Talts et al. 2018).

    Draws ``n_sims`` parameter sets and data sets from the prior with
    :func:`simulate_from_prior`, refits the compiled model on each data set with
    :func:`dnamodel.inference.sampling.sample` (new data, no new compile), keeps every ``thin``-th
    draw of each chain, and ranks each true value among the kept draws. If the sampler
    draws from the exact posterior, every rank is uniform on ``0 … L``, and every
    central ``p`` interval covers the truth in a share ``p`` of the fits.

    Parameters
    ----------
    fitted : Fitted
        From :func:`dnamodel.inference.sampling.compile_model`.
    n_sims : int
        Simulated data sets, and so fits.
    draws, tune, chains : int
        Sampler settings of each fit (draws and tuning steps per chain).
    seed : int
        Seeds the prior draws and every fit. The same seed gives the same ranks, and the
        first ``k`` fits of a run are those of a run with ``n_sims = k``.
    thin : int
        Keep every ``thin``-th draw of each chain, so that the ``L = chains ·
        ceil(draws / thin)`` kept draws are roughly independent: L should not exceed the
        effective sample size, which the result records.
    target_accept : float
        The sampler's target acceptance rate.

    Returns
    -------
    Calibration
        Ranks, interval coverage, ESS and divergences of every fit.

    References
    ----------
    .. [1] Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018).
       "Validating Bayesian inference algorithms with simulation-based calibration".
       arXiv:1804.06788.

    Examples
    --------
    A useful check takes minutes (about 1.5 s a fit on two cores), so this is not run here;
    ``tests/test_calibration.py`` runs it:

    >>> calibration = hierarchical_sbc(fitted, 100, draws=250, tune=400, chains=4, seed=20220913)  # doctest: +SKIP
    >>> calibration.ranks.shape, calibration.posterior_draws  # doctest: +SKIP
    ((100, 4), 100)
    >>> pvalues = calibration.uniformity(bins=10)  # doctest: +SKIP
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    if not 1 <= thin <= draws:
        raise UsageError(f"thin must be between 1 and draws ({draws}); it is {thin}")
    if n_sims < 1:
        raise UsageError(f"n_sims must be at least 1; it is {n_sims}")
    prior_seed, fit_seeds = np.random.SeedSequence(seed).spawn(2)
    start = time.perf_counter()
    prior = simulate_from_prior(fitted, n_sims, seed=int(prior_seed.generate_state(1)[0]))
    quantities = tuple(q for q in QUANTITIES if q in prior)
    truth = np.column_stack([prior[q].values for q in quantities])
    kept = chains * len(range(0, draws, thin))
    ranks = np.empty((n_sims, len(quantities)), dtype=int)
    covered = np.empty((n_sims, len(quantities), len(PROBABILITIES)), dtype=bool)
    ess_bulk = np.empty((n_sims, len(quantities)))
    divergences = np.empty(n_sims, dtype=int)
    tails = np.array([[(1 - p) / 2, (1 + p) / 2] for p in PROBABILITIES])
    for i, fit_seed in enumerate(fit_seeds.spawn(n_sims)):
        idata = sample(
            fitted,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=int(fit_seed.generate_state(1)[0]),
            target_accept=target_accept,
            observed=prior["obs"].values[i],
            row_observed=prior["row_obs"].values[i] if "row_obs" in prior else None,
        )
        divergences[i] = int(idata.sample_stats["diverging"].sum())
        for j, q in enumerate(quantities):
            values = idata.posterior[q].values  # (chain, draw)
            ranks[i, j] = int((values[:, ::thin] < truth[i, j]).sum())
            low, high = np.quantile(values, tails).T
            covered[i, j] = (low <= truth[i, j]) & (truth[i, j] <= high)
            ess_bulk[i, j] = float(az.ess(values, method="bulk"))
    return Calibration(
        quantities=quantities,
        truth=truth,
        ranks=ranks,
        posterior_draws=kept,
        probabilities=PROBABILITIES,
        covered=covered,
        ess_bulk=ess_bulk,
        divergences=divergences,
        provenance={
            "seed": seed,
            "n_sims": n_sims,
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "thin": thin,
            "target_accept": target_accept,
            "sampler": fitted.sampler,
            "prior_acceptance_rate": prior.attrs["acceptance_rate"],
            "seconds": time.perf_counter() - start,
            "dnamodel_version": package_version(),
        },
    )


def uniformity_pvalue(ranks: np.ndarray, L: int, bins: int) -> float:
    """Chi-square test that ranks are uniform on ``0 … L``.

    The ``L + 1`` possible ranks are grouped into ``bins`` consecutive bins; when ``bins``
    does not divide ``L + 1`` the bins differ in size by one rank, and each bin's expected
    count is in proportion to the ranks it holds, so the test stays exact in expectation.

    Parameters
    ----------
    ranks : array_like of int
        Ranks, each between 0 and ``L``.
    L : int
        The number of posterior draws each rank was taken among.
    bins : int
        Between 2 and ``L + 1``. The chi-square approximation wants at least about five
        expected ranks a bin.

    Returns
    -------
    float
        The p-value, on ``bins - 1`` degrees of freedom.

    References
    ----------
    .. [1] Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018).
       "Validating Bayesian inference algorithms with simulation-based calibration".
       arXiv:1804.06788, section 4.1.

    Examples
    --------
    Ranks spread evenly pass; ranks piled at both ends, as from too narrow a posterior, fail:

    >>> import numpy as np
    >>> uniformity_pvalue(np.arange(100), L=99, bins=10)
    1.0
    >>> piled = np.r_[np.zeros(40, int), np.full(40, 99), np.arange(20) * 5]
    >>> uniformity_pvalue(piled, L=99, bins=10) < 1e-10
    True
    """
    from scipy import stats  # deferred: start-up time

    ranks = np.asarray(ranks)
    if not 2 <= bins <= L + 1:
        raise UsageError(f"bins must be between 2 and L + 1 ({L + 1}); it is {bins}")
    if ranks.size == 0 or ranks.min() < 0 or ranks.max() > L:
        raise UsageError(f"ranks must lie between 0 and L ({L})")
    which = np.arange(L + 1) * bins // (L + 1)  # the bin of each possible rank
    observed = np.bincount(which[ranks], minlength=bins)
    expected = np.bincount(which, minlength=bins) / (L + 1) * ranks.size
    return float(stats.chisquare(observed, expected).pvalue)


def rank_test_power(
    simulations: int,
    threshold: float,
    *,
    scale: float = 1.0,
    bias: float = 0.0,
    L: int = 99,
    bins: int = 10,
    replicates: int = 400,
    seed: int = 20220913,
) -> float:
    """The power of :func:`uniformity_pvalue` at ``threshold`` against a posterior wrong by a known amount.

    Each replicate simulates ``simulations`` ranks of a truth among ``L`` draws of a normal
    posterior whose sd is ``scale`` times the right one and whose centre is off by ``bias`` of
    its sd, and tests them; the power is the share of replicates that fail. It says how many
    simulated data sets SBC needs to see an error of a given size.

    Examples
    --------
    >>> rank_test_power(200, 0.0002, scale=0.6, replicates=50) > 0.9
    True
    """
    rng = np.random.default_rng(seed)
    failed = 0
    for _ in range(replicates):
        truth = rng.standard_normal(simulations)  # the truth about the right posterior's centre, 0
        draws = bias + scale * rng.standard_normal((simulations, L))
        ranks = (draws < truth[:, None]).sum(axis=1)
        failed += uniformity_pvalue(ranks, L, bins) < threshold
    return failed / replicates


# --- parameter recovery --------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticRegion:
    """Model inputs whose truth is known: every unit observed once, around a known fraction.

    Attributes
    ----------
    inputs : ModelInputs
        The real region's units, populations and covariate, with one synthetic observation
        per unit (``observation`` = ``unit``), no census error, no uplift, no within-county
        rows and no thesis bound.
    truth : dict of str to float
        ``alpha``, ``beta``, ``sigma`` and ``total`` (samples).
    fraction : ndarray of float, shape (unit,)
        The true collection fraction of each unit.
    """

    inputs: ModelInputs
    truth: dict[str, float]
    fraction: np.ndarray


def synthetic_region(
    inputs: ModelInputs,
    *,
    alpha: float = -0.8,
    beta: float = -0.9,
    sigma: float = 0.5,
    error: float = 0.1,
    seed: int,
) -> SyntheticRegion:
    """A region with known fractions, observed unit by unit: the inputs' units, populations and covariate.

    Draws ``z_u ~ Normal(0, 1)`` for each unit, sets ``logit π_u = α + β·x_u + σ·z_u``
    and the true total ``Σ π_u N_u`` (``N_u`` the census population), and observes each
    unit's count with a lognormal error of scale ``error``, as the model assumes.

    Parameters
    ----------
    inputs : ModelInputs
        Supplies the units, populations, covariate ``x`` and priors; its variant must
        have β and σ.
    alpha, beta, sigma : float
        The true intercept, slope (logit per unit of ``x``) and spread (logit).
    error : float
        Standard deviation of each observation's log reporting error.
    seed : int
        Seeds ``z`` and the reporting errors.

    Returns
    -------
    SyntheticRegion

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.spec.resolve import resolve_hierarchical
    >>> from dnamodel.families import load_model
    >>> inputs = resolve_hierarchical(load_model("hierarchical_han"), load_data())
    >>> region = synthetic_region(inputs, seed=1)
    >>> region.inputs.membership.shape, region.inputs.thesis
    ((77, 77), False)
    >>> bool(np.isclose(region.truth["total"], (region.fraction * inputs.population).sum()))
    True
    """
    if inputs.variant == "pooled":
        raise UsageError("recovery needs β and σ; the pooled variant has neither")
    n = len(inputs.unit)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    z = rng.standard_normal(n)
    fraction = 1.0 / (1.0 + np.exp(-(alpha + beta * inputs.x + sigma * z)))
    collected = fraction * inputs.population
    observed = collected * np.exp(error * rng.standard_normal(n))
    synthetic = dataclasses.replace(
        inputs,
        uplift=np.zeros(n, dtype=bool),
        census_error=0.0,
        observation=inputs.unit,
        observed=observed,
        error=np.full(n, float(error)),
        membership=np.eye(n),
        base_low=np.ones(n),
        base_high=np.ones(n),
        row=(),
        row_observed=np.zeros(0),
        row_population=np.zeros(0),
        # The thesis bound is a fact about the real region, not about this one.
        thesis=False,
        sources={},
    )
    truth = {"alpha": float(alpha), "beta": float(beta), "sigma": float(sigma), "total": float(collected.sum())}
    return SyntheticRegion(synthetic, truth, fraction)


@dataclass(frozen=True)
class Recovery:
    """The result of :func:`recovery`: the posterior of a synthetic region against its truth.

    Attributes
    ----------
    region : SyntheticRegion
        The inputs fitted and the truth they were made from.
    posterior : dict of str to ndarray
        Draws (chains pooled) of ``alpha``, ``beta``, ``sigma`` and ``total``.
    fraction : ndarray of float, shape (draw, unit)
        Draws of each unit's fraction.
    divergences : int
    provenance : dict
        Seed, sampler settings and package version.
    """

    region: SyntheticRegion
    posterior: dict[str, np.ndarray]
    fraction: np.ndarray
    divergences: int
    provenance: dict[str, Any] = field(default_factory=dict)

    def interval(self, name: str, prob: float) -> tuple[float, float]:
        """The central (equal-tailed) interval of probability ``prob`` of a scalar."""
        low, high = np.quantile(self.posterior[name], [(1 - prob) / 2, (1 + prob) / 2])
        return float(low), float(high)

    def covers(self, name: str, prob: float) -> bool:
        """Whether that interval contains the truth."""
        low, high = self.interval(name, prob)
        return low <= self.region.truth[name] <= high

    def fraction_covered(self, prob: float) -> np.ndarray:
        """Whether each unit's central interval of probability ``prob`` contains its true fraction."""
        low, high = np.quantile(self.fraction, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        return (low <= self.region.fraction) & (self.region.fraction <= high)


def recovery(
    inputs: ModelInputs,
    *,
    alpha: float = -0.8,
    beta: float = -0.9,
    sigma: float = 0.5,
    error: float = 0.1,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float = 0.9,
) -> Recovery:
    """Fit a synthetic region with known fractions and return the posterior against the truth.

    Makes the data with :func:`synthetic_region`, compiles the model for it (the
    observations differ in number from the real ones, so this is a new compile, not a
    refit) and samples it with nutpie.

    Parameters
    ----------
    inputs : ModelInputs
        The real inputs the synthetic region borrows units, populations, covariate and priors from.
    alpha, beta, sigma, error : float
        The truth, and the reporting error; see :func:`synthetic_region`.
    draws, tune, chains : int
        Sampler settings (per chain).
    seed : int
        Seeds the synthetic data and the sampler.
    target_accept : float
        The sampler's target acceptance rate.

    Returns
    -------
    Recovery

    Examples
    --------
    A compile and a fit take about half a minute, so this is not run here;
    ``tests/test_calibration.py`` runs it:

    >>> result = recovery(inputs, draws=2000, tune=1000, chains=4, seed=20220913)  # doctest: +SKIP
    >>> result.region.truth["alpha"], result.covers("alpha", 0.9)  # doctest: +SKIP
    (-0.8, True)
    """
    data_seed, sampler_seed = np.random.SeedSequence(seed).spawn(2)
    region = synthetic_region(
        inputs, alpha=alpha, beta=beta, sigma=sigma, error=error, seed=int(data_seed.generate_state(1)[0])
    )
    fitted = compile_model(region.inputs)
    idata = sample(
        fitted,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=int(sampler_seed.generate_state(1)[0]),
        target_accept=target_accept,
    )
    post = idata.posterior
    fraction = post["fraction"].values.reshape(-1, len(inputs.unit))
    return Recovery(
        region=region,
        posterior={name: post[name].values.ravel() for name in region.truth},
        fraction=fraction,
        divergences=int(idata.sample_stats["diverging"].sum()),
        provenance={
            "seed": seed,
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "target_accept": target_accept,
            "dnamodel_version": package_version(),
        },
    )
