"""The dated model's checks: each observation against its predictive, left out, and forecast.

- :func:`dated_predictive_checks` sets each observation against the fit's posterior predictive;
- :func:`dated_leave_one_out` refits without each observation in turn and predicts it, with its exact
  leave-one-out log predictive density;
- :func:`dated_leave_one_source_out` refits without every observation of one source at once (the
  observations sharing a data row's source and date, or an unverified source) and predicts them;
- :func:`dated_forecasts` refits on what was published by a date and predicts what came later
  (the spec's ``[checks]`` table);
- :func:`dated_prior_check` says what the priors alone imply for the total.

A refit changes only which observations the packed inputs mark active, so it reuses the one
compiled density. A bound's PIT is its mid-PIT: the mean PIT over the values it allows, ``(F(L) + 1)
/ 2`` for "at least L" and ``F(U) / 2`` for "at most U", so it lies in (0.05, 0.95) when the model
gives the bound's side at least 10% of its mass.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dnamodel.checks.calibration import Calibration
from dnamodel.checks.gates import MAX_RHAT, MIN_ESS, rhat_columns
from dnamodel.checks.predictive import Check, PriorCheck
from dnamodel.checks.reweight import Base, Reweighting, reads_base, reweight, systematic_resample
from dnamodel.inference.dated import (
    LOWER,
    POINT,
    UPPER,
    WARM_TUNE,
    Warm,
    continue_chains,
    draw_prior,
    initial_point,
    layout_of,
    pack,
    sample_packed,
    warm_start,
)
from dnamodel.inference.dated_quantities import derive_draws, named, predictive_draws, totals
from dnamodel.provenance import package_version
from dnamodel.spec import parameters
from dnamodel.spec.dated import DatedInputs

BOUND_NAMES = {POINT: "none", LOWER: "lower", UPPER: "upper"}
PIT_LIMITS = Check.pit_limits
"""A check passes when its PIT lies strictly inside these."""


def pit(draws: np.ndarray, observed: float, censor: int) -> float:
    """The probability integral transform of an observation; the mid-PIT for a bound.

    Examples
    --------
    >>> draws = np.arange(100.0)
    >>> pit(draws, 25.0, POINT), pit(draws, 25.0, LOWER), pit(draws, 25.0, UPPER)
    (0.25, 0.625, 0.125)
    """
    below = float((draws < observed).mean())
    if censor == LOWER:
        return (below + 1.0) / 2.0
    if censor == UPPER:
        return below / 2.0
    return below


def _check(
    inputs: DatedInputs,
    k: int,
    draws: np.ndarray,
    total: float | None,
    lpd: float | None,
    fit: Refit | None = None,
) -> Check:
    lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
    censor = int(inputs.censor[k])
    gate: dict[str, Any] = {}
    if fit is not None:
        pareto_k = None if math.isnan(fit.pareto_k) else fit.pareto_k
        gate = {"refit_rhat": fit.rhat, "refit_ess": fit.ess, "refit_passed": fit.passed}
        ess = None if math.isnan(fit.importance_ess) else fit.importance_ess
        gate |= {"refit_method": fit.method, "pareto_k": pareto_k, "importance_ess": ess}
    return Check(
        inputs.observation[k],
        float(inputs.value[k]),
        float(med),
        float(lo),
        float(hi),
        pit(draws, float(inputs.value[k]), censor),
        total,
        BOUND_NAMES[censor],
        lpd,
        **gate,
    )


def passes(check: Check) -> bool:
    """Whether a check's PIT lies inside :data:`PIT_LIMITS` (:attr:`Check.pit_inside`)."""
    return check.pit_inside


def dated_predictive_checks(idata: Any, inputs: DatedInputs) -> list[Check]:
    """Every observation against the fit's posterior predictive distribution."""
    predictive = idata.posterior_predictive["obs"].values.reshape(-1, len(inputs.observation))
    return [_check(inputs, k, predictive[:, k], None, None) for k in range(len(inputs.observation))]


@dataclass(frozen=True)
class Refit:
    """A refit's draws, named, what it predicts for every observation and each one's log likelihood.

    ``log_likelihood`` is against the refit's own data (a simulated data set's, for SBC), every
    observation's, left out or not (an unverified source's member's given the source's other
    members); ``joint_log_likelihood`` is the log density of the whole data set at each draw (an
    unverified source's members counted once, as their mixture); ``total`` is the estimand at each draw.
    """

    quantities: dict[str, np.ndarray]
    expected: np.ndarray
    divergences: int
    x: np.ndarray
    chains: int
    log_likelihood: np.ndarray
    total: np.ndarray
    joint_log_likelihood: np.ndarray
    rhat: float = math.nan
    """The largest R-hat (rank-normalised, split, bulk or folded) over what the refit predicts: the total
    and the expected value of each observation it predicts (:func:`refit`'s ``predicts``)."""
    ess_bulk: float = math.nan
    """The smallest bulk ESS over the same quantities."""
    ess_tail: float = math.nan
    """The smallest tail ESS over the same quantities."""
    passed: bool = False
    """Whether R-hat ≤ 1.01 and both ESS ≥ 400 (:data:`~dnamodel.checks.gates.MAX_RHAT`, ``MIN_ESS``)."""
    extensions: int = 0
    """How many times the refit was extended (each adds ``chains`` chains of ``draws`` draws) before
    it passed or ran out of extensions (:data:`EXTENSIONS`)."""
    tune: int = 0
    """Tuning steps per chain of the refit's first round (a warm start's short tuning, or a cold one's)."""
    method: str = "refit"
    """How the draws were made: ``"refit"``, sampled; ``"importance"``, a base fit's draws reweighted to
    this posterior (Pareto-smoothed importance sampling) and resampled (:func:`refit`'s ``base``)."""
    pareto_k: float = math.nan
    """The Pareto k̂ of the base's importance weights towards this posterior (NaN without a base): the
    reason a refit given a base was sampled after all, when it is above the limit."""
    importance_ess: float = math.nan
    """The importance weights' effective sample size for what the refit predicts (NaN without a base)."""
    log_weights: np.ndarray | None = None
    """An importance refit's smoothed, normalised log weights over the base's draws (``weighted_x``)."""
    weighted_x: np.ndarray | None = None
    """An importance refit's base draws (draws, ndim), before resampling: what ``log_weights`` weigh."""
    weighted_log_likelihood: np.ndarray | None = None
    """An importance refit's log likelihood of every observation at ``weighted_x`` (draws, observation)."""

    @property
    def ess(self) -> float:
        """The smaller of the bulk and tail ESS."""
        return min(self.ess_bulk, self.ess_tail)

    def log_predictive_density(self, k: int) -> float:
        """Observation ``k``'s log predictive density, log E[p(y_k | θ)] over the refit's posterior.

        A sampled refit's log mean over its draws; an importance refit's log Σ_s w̃_s p(y_k | θ_s) over
        the base's draws (the PSIS-LOO estimate, Vehtari et al. 2017), not over its resampled ones.
        """
        if self.log_weights is None or self.weighted_log_likelihood is None:
            return _log_mean_exp(self.log_likelihood[:, k])
        return _log_sum_exp(self.log_weights + self.weighted_log_likelihood[:, k])

    def group_log_predictive_density(self, inputs: DatedInputs, members: Sequence[int]) -> float:
        """The ``members``' values' joint log predictive density (:func:`group_log_likelihood`).

        Weighed as :meth:`log_predictive_density` weighs one observation's.
        """
        if self.log_weights is None or self.weighted_x is None:
            return _log_mean_exp(group_log_likelihood(self.x, inputs, members))
        return _log_sum_exp(self.log_weights + group_log_likelihood(self.weighted_x, inputs, members))


EXTENSIONS = 2
"""How many times a refit that fails its gates is extended before it is marked as failed. Each
extension continues every chain from its last draw for as many draws as it has (doubling its
length: a slowly mixing quantity needs longer chains, not more of them), after
:data:`EXTENSION_TUNE` steps that re-tune the step size in the refit's own scales. A fixed schedule:
the same seed gives the same draws and the same stopping point on any machine."""
EXTENSION_TUNE = 50
"""Tuning steps of each extension's chains, which start from their own last draws."""


def gate(
    x: np.ndarray, chains: int, expected: np.ndarray, total: np.ndarray, predicts: np.ndarray
) -> tuple[float, float, float]:
    """R-hat (the largest), bulk and tail ESS (the smallest) of the total and each predicted expected value.

    ``x`` is only for its draw count; ``expected`` is (draws, observation), ``total`` (draws,), both
    with the chain axis first in the flattening (as :func:`refit` stores them).
    """
    import arviz as az  # deferred: start-up time

    columns = np.column_stack([total, expected[:, predicts]]).reshape(chains, -1, 1 + len(predicts))
    rhat = rhat_columns(columns)
    rhat_max = float(np.max(rhat)) if not np.all(np.isnan(rhat)) else math.inf
    bulk = min(float(az.ess(columns[:, :, i], method="bulk")) for i in range(columns.shape[2]))
    tail = min(float(az.ess(columns[:, :, i], method="tail")) for i in range(columns.shape[2]))
    return rhat_max, bulk, tail


def passes_gates(rhat: float, ess_bulk: float, ess_tail: float) -> bool:
    """R-hat ≤ 1.01 and ESS ≥ 400, bulk and tail (NaN fails)."""
    return rhat <= MAX_RHAT and ess_bulk >= MIN_ESS and ess_tail >= MIN_ESS


def joint_log_likelihood(derived: dict[str, np.ndarray], inputs: DatedInputs) -> np.ndarray:
    """The log density p(y | θ) of the whole data set at each draw, from :func:`derive_draws`'s output.

    An observation of no unverified source adds its own log likelihood; an unverified source adds its
    members' joint mixture once. Summing the members' conditional log likelihoods instead would
    not be the data's density, and SBC's rank of it would then not be uniform.
    """
    independent = np.asarray(inputs.unverified_group) < 0
    if len(independent) != derived["log_likelihood"].shape[1]:  # a spec with no unverified source
        independent = np.ones(derived["log_likelihood"].shape[1], bool)
    own = derived["log_likelihood"][:, independent].sum(axis=1)
    return own + derived["source_log_likelihood"].sum(axis=1)


def refit(
    inputs: DatedInputs,
    active: np.ndarray,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    value: np.ndarray | None = None,
    censor: np.ndarray | None = None,
    cores: int | None = None,
    warm: Warm | None = None,
    predicts: np.ndarray | None = None,
    extensions: int = EXTENSIONS,
    base: Base | None = None,
) -> Refit:
    """Sample with only the ``active`` observations in the likelihood (the same compiled density), gated.

    ``warm`` starts from a fit's adaptation (:func:`~dnamodel.inference.dated.warm_start`): its
    scales, step size and draws, after ``warm.tune`` tuning steps instead of ``tune``. The refit is
    gated on what it predicts: the total and the expected value of each observation in ``predicts``
    (indices; by default those not ``active``). A refit that fails (R-hat > 1.01, or bulk or tail
    ESS < 400) is extended, up to ``extensions`` times (:data:`EXTENSIONS`), and then returned with
    ``passed`` false: a caller marks it, never uses it silently.

    ``base`` (a fit's draws, :class:`~dnamodel.checks.reweight.Base`) tries importance sampling
    first: the base's draws reweighted to this posterior and Pareto-smoothed
    (:func:`~dnamodel.checks.reweight.reweight`). When k̂ is at most the limit, the weights' ESS for
    what the refit predicts at least 400 and the base's R-hat there at most 1.01, the refit is the
    base's draws resampled by the weights (:func:`importance_refit`); otherwise it is sampled as
    without a base (the same seed, the same draws) and records the k̂ that sent it there.

    ``cores`` spreads the chains over that many threads (default: one per chain, up to the
    machine's cores); the draws do not depend on it.
    """
    packed = pack(inputs, active, value, censor)
    predicts = np.flatnonzero(~np.asarray(active, bool)) if predicts is None else np.asarray(predicts, int)
    if base is not None:
        weights = reweight(base, inputs, active, predicts, value, censor)
        if weights.trusted(MIN_ESS, MAX_RHAT):
            return importance_refit(inputs, base, weights, active, seed=seed, value=value, censor=censor)
        sampled = refit(
            inputs, active, draws=draws, tune=tune, chains=chains, seed=seed, value=value, censor=censor,
            cores=cores, warm=warm, predicts=predicts, extensions=extensions,
        )  # fmt: skip
        return replace(sampled, pareto_k=weights.pareto_k, importance_ess=weights.ess)
    first_tune = tune if warm is None else warm.tune
    result = sample_packed(
        packed,
        inputs,
        draws=draws,
        tune=first_tune,
        chains=chains,
        seed=seed,
        target_accept=inputs.target_accept,
        cores=cores,
        warm=warm,
    )
    x, steps = result.x, result.stats["step_size"][:, -1]
    divergences, extended = int(result.stats["diverging"].sum()), 0
    while True:
        flat = x.reshape(-1, x.shape[-1])
        derived = derive_draws(flat, inputs, packed)
        q = named(derived, inputs)
        total = totals(q, inputs)["total"]
        rhat, bulk, tail = gate(flat, x.shape[0], derived["expected"], total, predicts)
        ok = passes_gates(rhat, bulk, tail)
        if ok or extended >= extensions:
            break
        extended += 1
        x, steps, more = extend_chains(packed, inputs, x, steps, seed=_seed(seed, 7, extended), cores=cores)
        divergences += more
    return Refit(
        q,
        derived["expected"],
        divergences,
        flat,
        x.shape[0],
        derived["log_likelihood"],
        total,
        joint_log_likelihood(derived, inputs),
        rhat,
        bulk,
        tail,
        ok,
        extended,
        first_tune,
    )


IMPORTANCE_SEED = 11
"""The word of an importance refit's resampling stream: ``SeedSequence([job seed, 11])``."""


def importance_refit(
    inputs: DatedInputs,
    base: Base,
    weights: Reweighting,
    active: np.ndarray,
    *,
    seed: int,
    value: np.ndarray | None = None,
    censor: np.ndarray | None = None,
) -> Refit:
    """A :class:`Refit` made of the base's draws resampled by importance ``weights`` (:func:`refit`'s ``base``).

    As many draws as the base holds, resampled systematically
    (:func:`~dnamodel.checks.reweight.systematic_resample`, seeded from ``seed``), so that whatever
    reads draws (quantiles, predictive draws) reads the reweighted posterior; the weights themselves
    are kept for the log predictive densities (:meth:`Refit.log_predictive_density`). Its gates are
    the weights': R-hat the base's over what it predicts, bulk and tail ESS the weights' ESS.

    What the draws imply is the base's, computed once, unless the job changes the data, leaves out
    a member of an unverified source (whose members' log likelihoods are conditional on the
    source's other active members) or has inputs of its own (a sweep's point): then it is derived
    again under the job's inputs and packed vector (:func:`~dnamodel.checks.reweight.reads_base`).
    """
    active = np.asarray(active, bool)
    if reads_base(base, inputs, active, value, censor):
        derived, q, total = base.derived, base.quantities, base.total
    else:
        derived = derive_draws(base.x, inputs, pack(inputs, active, value, censor))
        q = named(derived, inputs)
        total = totals(q, inputs)["total"]
    chosen = systematic_resample(weights.log_weights, base.draws, np.random.default_rng(_seed(seed, IMPORTANCE_SEED)))
    log_likelihood = derived["log_likelihood"]
    return Refit(
        {name: values[chosen] for name, values in q.items()},
        derived["expected"][chosen],
        0,
        base.x[chosen],
        base.chains,
        log_likelihood[chosen],
        total[chosen],
        joint_log_likelihood(derived, inputs)[chosen],
        weights.rhat,
        weights.ess,
        weights.ess,
        True,
        0,
        0,
        method="importance",
        pareto_k=weights.pareto_k,
        importance_ess=weights.ess,
        log_weights=weights.log_weights,
        weighted_x=base.x,
        weighted_log_likelihood=log_likelihood,
    )


def extend_chains(
    packed: np.ndarray,
    inputs: DatedInputs,
    x: np.ndarray,
    steps: np.ndarray,
    *,
    seed: int,
    cores: int | None,
    draws: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Every chain of ``x`` (chain, draw, ndim) continued from its last draw for as many draws again.

    Each chain is its own run of the sampler, started at its last draw with its last step size,
    in the coordinates of the refit's own posterior means and scales; after
    :data:`EXTENSION_TUNE` steps its draws follow the ones it had
    (:func:`~dnamodel.inference.dated.continue_chains`). ``draws`` continues each chain by that
    many instead. Returns the longer chains, their last step sizes and the new divergences.
    """
    chains, length = x.shape[0], x.shape[1]
    more = continue_chains(
        packed,
        inputs,
        x,
        steps,
        draws=length if draws is None else draws,
        tune=EXTENSION_TUNE,
        seeds=[_seed(seed, c) for c in range(chains)],
        cores=cores,
    )
    return np.concatenate((x, more.x), axis=1), more.stats["step_size"][:, -1], int(more.stats["diverging"].sum())


def _seed(seed: int, *words: int) -> int:
    return int(np.random.SeedSequence([seed, *words]).generate_state(1)[0])


def _refit_job(
    inputs: DatedInputs,
    job: dict[str, Any],
    draws: int,
    tune: int,
    chains: int,
    cores: int | None,
    warm: Warm | None,
) -> Refit:
    """One job of :func:`refits`: a top-level function, so that process pools and dask workers can run it."""
    return refit(inputs, draws=draws, tune=tune, chains=chains, cores=cores, **({"warm": warm} | job))


def refits(
    inputs: DatedInputs,
    jobs: Sequence[dict[str, Any]],
    *,
    draws: int,
    tune: int,
    chains: int,
    warm: Warm | None = None,
    executor: Any = None,
    base: Base | None = None,
) -> Iterator[Refit]:
    """:func:`refit` for each job (its ``active``, ``seed`` and optional ``value``, ``censor``), in order.

    Two or more refits run at once when there are cores: in threads of this process, one per
    core, each refit's chains on ``cores // threads`` of them. nutpie releases the GIL while it
    samples, and a refit's chains finish one by one, leaving cores idle that another refit's can
    use. Each refit's draws are its own whatever the threads, so the results equal a serial
    run's. At most two refits per thread wait to be read, which bounds the memory of a long SBC.

    ``warm`` (a fit's adaptation) starts every refit from it; a job may carry its own ``warm`` or
    ``predicts`` (:func:`refit`).

    ``executor`` runs the refits elsewhere, as a sweep's points run (:func:`dnamodel.sweep`): a
    ``concurrent.futures`` executor (a process pool: each worker loads the compiled density from
    numba's disk cache once) or a ``dask.distributed.Client``. Each refit's chains then share one
    core (a client's: its workers' threads); the numbers are the same as in this process.

    ``base`` (a fit's draws) tries importance sampling for every job first, in this process
    (:func:`refit`'s ``base``); only the jobs whose weights are not trusted are sampled, in threads or
    on the executor, with the numbers they would have without a base.
    """
    if base is not None:
        yield from _screened(inputs, jobs, base, draws=draws, tune=tune, chains=chains, warm=warm, executor=executor)
        return
    if executor is not None:
        yield from _on_executor(inputs, jobs, executor, draws=draws, tune=tune, chains=chains, warm=warm)
        return
    cpus = os.cpu_count() or 1
    threads = max(1, min(cpus, len(jobs)))
    cores = max(1, cpus // threads)

    def one(job: dict[str, Any]) -> Refit:
        return _refit_job(inputs, job, draws, tune, chains, cores, warm)

    if threads == 1:
        yield from map(one, jobs)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque[Future[Refit]] = deque()
        for job in jobs:
            pending.append(pool.submit(one, job))
            if len(pending) > 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _screened(
    inputs: DatedInputs,
    jobs: Sequence[dict[str, Any]],
    base: Base,
    *,
    draws: int,
    tune: int,
    chains: int,
    warm: Warm | None,
    executor: Any,
) -> Iterator[Refit]:
    """:func:`refits` with a base: each job reweighted first; the untrusted ones sampled together, then all in order."""
    weights = []
    for job in jobs:
        active = np.asarray(job["active"], bool)
        predicts = job.get("predicts")
        predicts = np.flatnonzero(~active) if predicts is None else np.asarray(predicts, int)
        weights.append(reweight(base, inputs, active, predicts, job.get("value"), job.get("censor")))
    untrusted = [job for job, w in zip(jobs, weights, strict=True) if not w.trusted(MIN_ESS, MAX_RHAT)]
    # sampled before any importance refit is built: those hold the base's draws, these the cores
    sampled = iter(list(refits(inputs, untrusted, draws=draws, tune=tune, chains=chains, warm=warm, executor=executor)))
    for job, w in zip(jobs, weights, strict=True):
        if w.trusted(MIN_ESS, MAX_RHAT):
            value, censor = job.get("value"), job.get("censor")
            yield importance_refit(inputs, base, w, job["active"], seed=job["seed"], value=value, censor=censor)
        else:
            yield replace(next(sampled), pareto_k=w.pareto_k, importance_ess=w.ess)


def _on_executor(
    inputs: DatedInputs,
    jobs: Sequence[dict[str, Any]],
    executor: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    warm: Warm | None,
) -> Iterator[Refit]:
    """:func:`refits` on a process pool or a dask client, in order, at most four refits per worker waiting."""
    dask = hasattr(executor, "nthreads")  # a dask.distributed.Client
    if dask:
        threads = list(executor.nthreads().values())
        workers, cores = max(1, len(threads)), max(1, min(threads, default=1))
        # Once to each worker, not with every refit. hash=False: a key of its own, so that releasing an
        # earlier scatter of the same inputs (another check's refits) cannot release these ("lost dependencies").
        inputs = executor.scatter(inputs, broadcast=True, hash=False)
    else:
        workers, cores = max(1, int(getattr(executor, "_max_workers", os.cpu_count() or 1))), 1

    def submit(job: dict[str, Any]) -> Any:
        arguments = (_refit_job, inputs, job, draws, tune, chains, cores, warm)
        return executor.submit(*arguments, pure=False) if dask else executor.submit(*arguments)

    pending: deque[Any] = deque()
    for job in jobs:
        pending.append(submit(job))
        if len(pending) > 4 * workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def dated_leave_one_out(
    inputs: DatedInputs,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    warm: Warm | None = None,
    executor: Any = None,
    base: Base | None = None,
) -> list[Check]:
    """Refit without each observation in turn; place it in its predictive distribution.

    Each check carries the refit's total (``total_median``), the leave-one-out log predictive
    density of the observation, log E[p(y_k | θ)] over the refit's posterior
    (:meth:`Refit.log_predictive_density`), the refit's gates (``refit_rhat``, ``refit_ess``,
    ``refit_passed``) and how it was made (``refit_method``, ``pareto_k``). ``base`` (the full fit's
    draws) reweights them first, where k̂ allows (PSIS-LOO); ``warm`` starts every sampled refit from
    the full fit's adaptation (:func:`refit`).
    """
    rng = np.random.default_rng(_seed(seed, 1))
    n = len(inputs.observation)
    jobs = [{"active": np.arange(n) != k, "seed": _seed(seed, 2, k)} for k in range(n)]
    fits = refits(inputs, jobs, draws=draws, tune=tune, chains=chains, warm=warm, executor=executor, base=base)
    checks = []
    for k, fit in enumerate(fits):
        predictive = predictive_draws(fit.expected, inputs, rng)[:, k]
        lpd = fit.log_predictive_density(k)
        total = float(np.median(fit.total))
        checks.append(_check(inputs, k, predictive, total, lpd, fit))
    return checks


@dataclass(frozen=True)
class SourceCheck:
    """A source left out: a refit without every observation it gave, and each of them predicted.

    ``lpd`` is the exact log predictive density of the source's figures together, log mean_s p(y_G | θ_s)
    over the refit's draws (an unverified source's members as their joint mixture): the score stacking
    uses. ``total_median`` is the refit's total.
    """

    source: str
    checks: tuple[Check, ...]
    lpd: float
    total_median: float

    @property
    def observations(self) -> tuple[str, ...]:
        """The observations the source gave, left out together."""
        return tuple(c.observation for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``source``, ``observations``, ``lpd``, ``total_median`` and each check's dict."""
        return {
            "source": self.source,
            "observations": list(self.observations),
            "lpd": self.lpd,
            "total_median": self.total_median,
            "checks": [c.as_dict() for c in self.checks],
        }


def source_members(inputs: DatedInputs) -> dict[str, tuple[int, ...]]:
    """Each source's observations (indices), in the order of their first observation (``inputs.source_group``).

    A spec resolved before sources were grouped (no ``source_group``) has each observation its own source.
    """
    groups = inputs.source_group or inputs.observation
    members: dict[str, list[int]] = {}
    for k, group in enumerate(groups):
        members.setdefault(group, []).append(k)
    return {group: tuple(ks) for group, ks in members.items()}


def group_log_likelihood(x: np.ndarray, inputs: DatedInputs, members: Sequence[int]) -> np.ndarray:
    """The log density of the ``members``' values together at each draw ``x``: p(y_G | θ).

    An unverified source's members count once, as their joint mixture; the others each their own
    log likelihood. ``members`` must hold every member of an unverified source it touches (a source's
    observations are grouped together, :func:`dnamodel.spec.dated.source_groups`).
    """
    chosen = np.zeros(len(inputs.observation), bool)
    chosen[list(members)] = True
    derived = derive_draws(x, inputs, pack(inputs, chosen))
    grouped = np.asarray(inputs.unverified_group) >= 0
    if len(grouped) != len(chosen):  # a spec with no unverified source
        grouped = np.zeros(len(chosen), bool)
    return derived["log_likelihood"][:, chosen & ~grouped].sum(axis=1) + derived["source_log_likelihood"].sum(axis=1)


def dated_leave_one_source_out(
    inputs: DatedInputs,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    loo: Sequence[Check] | None = None,
    warm: Warm | None = None,
    executor: Any = None,
    base: Base | None = None,
) -> list[SourceCheck]:
    """Refit without each source's observations together; predict each of them, and score them jointly.

    Leave-one-out drops one figure and keeps its siblings from the same statement, which predict it;
    leaving the source out drops them all. A source of one observation is a leave-one-out refit (the
    same active observations and seed): with ``loo`` (:func:`dated_leave_one_out`'s checks, in the
    observations' order) its check is reused, not refitted. ``warm`` starts every refit from the full
    fit's adaptation, and each is gated on the total and the source's observations (:func:`refit`);
    ``base`` (the full fit's draws) reweights them first, where k̂ allows.
    """
    groups = source_members(inputs)
    n = len(inputs.observation)
    reused = {g: ks for g, ks in groups.items() if len(ks) == 1 and loo is not None}
    jobs, refitted = [], []
    for g, ks in groups.items():
        if g in reused:
            continue
        active = np.ones(n, bool)
        active[list(ks)] = False
        # a single observation's refit is leave-one-out's (its seed); a group's has a seed of its own
        word = [2, ks[0]] if len(ks) == 1 else [7, ks[0]]
        jobs.append({"active": active, "seed": _seed(seed, *word)})
        refitted.append(g)
    made: dict[str, SourceCheck] = {}
    # each refit read as it comes: an importance refit holds as many draws as the full fit
    fits = refits(inputs, jobs, draws=draws, tune=tune, chains=chains, warm=warm, executor=executor, base=base)
    for g, fit in zip(refitted, fits, strict=True):
        ks = groups[g]
        rng = np.random.default_rng(_seed(seed, 8, ks[0]))
        predictive = predictive_draws(fit.expected, inputs, rng)
        total = float(np.median(fit.total))
        group_checks = tuple(_check(inputs, k, predictive[:, k], total, fit.log_predictive_density(k), fit) for k in ks)
        made[g] = SourceCheck(g, group_checks, fit.group_log_predictive_density(inputs, ks), total)
    out = []
    for g, ks in groups.items():
        if g in reused:
            check = list(loo or ())[ks[0]]
            out.append(SourceCheck(g, (check,), float(check.lpd or 0.0), float(check.total_median or 0.0)))
        else:
            out.append(made[g])
    return out


@dataclass(frozen=True)
class Forecast:
    """A forecast check: a refit on the observations dated up to ``data_to``, and what it predicted."""

    data_to: str
    used: tuple[str, ...]
    checks: tuple[Check, ...]


def dated_forecasts(
    inputs: DatedInputs,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    warm: Warm | None = None,
    executor: Any = None,
    base: Base | None = None,
) -> list[Forecast]:
    """Each forecast of the spec's ``[checks]`` table: refit on the past, predict what came later.

    Each refit is gated on the total and the observations it forecasts (:func:`refit`); ``base``
    (the full fit's draws) reweights them first, where k̂ allows; ``warm`` starts a sampled one from
    the full fit's adaptation.
    """
    rng = np.random.default_rng(_seed(seed, 3))
    jobs = [
        {"active": inputs.date <= cutoff, "seed": _seed(seed, 4, i), "predicts": np.asarray(targets, int)}
        for i, (_, cutoff, targets) in enumerate(inputs.forecasts)
    ]
    fits = refits(inputs, jobs, draws=draws, tune=tune, chains=chains, warm=warm, executor=executor, base=base)
    out = []
    for (label, _, targets), job, fit in zip(inputs.forecasts, jobs, fits, strict=True):
        active = job["active"]
        predictive = predictive_draws(fit.expected, inputs, rng)
        total = float(np.median(fit.total))
        checks = tuple(_check(inputs, k, predictive[:, k], total, fit.log_predictive_density(k), fit) for k in targets)
        used = tuple(name for name, on in zip(inputs.observation, active, strict=True) if on)
        out.append(Forecast(label, used, checks))
    return out


def _log_sum_exp(values: np.ndarray) -> float:
    top = float(np.max(values))
    if not math.isfinite(top):
        return top
    return top + math.log(float(np.sum(np.exp(values - top))))


def _log_mean_exp(values: np.ndarray) -> float:
    return _log_sum_exp(values) - math.log(np.size(values))


def dated_prior_check(idata: Any, inputs: DatedInputs) -> PriorCheck:
    """Quantiles (1, 5, 50, 95, 99%) of the total under the prior alone.

    The dated model has no separate constraint to weigh the prior by (the thesis is data), so the
    constrained quantiles are the forward ones.
    """
    total = idata.prior["total"].values.ravel()
    qs = (0.01, 0.05, 0.5, 0.95, 0.99)
    forward = tuple(float(v) for v in np.quantile(total, qs))
    return PriorCheck(qs, forward, forward, inputs.census_total)


# --- simulation-based calibration -----------------------------------------------------------------


def sbc_scalars() -> tuple[str, ...]:
    """The scalars SBC ranks, when the model has them: the total and the registry's SBC scalars."""
    estimand = tuple(q.name for q in parameters.ESTIMAND if q.sbc)
    return (*estimand, *(p.name for p in parameters.DATED if p.sbc and p.scalar))


SBC_SCALARS = sbc_scalars()
"""The scalars SBC ranks (the shipped registry's): the total and every scalar parameter the model has."""


def _ranked(
    q: dict[str, np.ndarray], total: np.ndarray, log_likelihood: np.ndarray, inputs: DatedInputs
) -> dict[str, np.ndarray]:
    """The quantities SBC ranks, each (draws,).

    The total and the scalars, each group's element of the registry's per-group SBC parameters
    (start, pace), and the joint log likelihood of the simulated data (:func:`joint_log_likelihood`).
    """
    out = {"total": total}
    registry = [p for p in parameters.DATED if p.sbc and parameters.present(p, inputs)]
    for parameter in registry:
        if parameter.scalar:
            out[parameter.name] = q[parameter.name]
    for j, group in enumerate(inputs.group):
        for parameter in registry:
            if parameter.shape == parameters.GROUP:
                out[f"{parameter.name}[{group}]"] = q[parameter.name][:, j]
    out["log_likelihood"] = log_likelihood
    return out


def sbc_jobs(inputs: DatedInputs, simulated: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """SBC's refit jobs, one per simulated data set (a row of ``simulated``).

    Every observation is active, a bound's side is the one its simulated value fell on, and each job's
    sampler seed comes from ``seed``: what :func:`dated_sbc` refits, and ``benchmarks/bench_sbc.py`` times.
    """
    jobs = []
    for i in range(len(simulated)):
        censor = inputs.censor.copy()
        bound = censor != POINT
        censor[bound] = np.where(simulated[i, bound] >= inputs.value[bound], LOWER, UPPER)
        value = np.where(bound, inputs.value, simulated[i])
        everything = np.ones(len(inputs.observation), bool)
        jobs.append({"active": everything, "seed": _seed(seed, 6, i), "value": value, "censor": censor})
    return jobs


SBC_DRAWS = 500
"""Draws per chain of an SBC refit before its gates (4 chains: 2,000, thinned to the 99 ranked)."""
SBC_TUNE = 500
"""Tuning steps of a cold SBC refit. 300 were tried (issue 22's CI time): 0.72× the CPU time, but one
of the slow test's 200 fits had a divergence, which the test forbids (model card 5.10,
``benchmarks/README.md``)."""
SBC_WARM_TUNE = WARM_TUNE
"""Tuning steps of an SBC refit started from the prior when asked (:func:`prior_warm`): a warm refit's 100,
against a cold refit's 500 (model card 5.10: measured, too few to keep every refit free of divergences)."""
SBC_WARM_STEP = 0.1
"""An SBC refit's first step size in the prior's coordinates: nutpie's own default (no fit to take one from)."""
SBC_WARM_DRAWS = 4000
"""Prior draws behind :func:`prior_warm`'s means, standard deviations and starting points."""


def prior_warm(inputs: DatedInputs, *, seed: int, tune: int = SBC_WARM_TUNE) -> Warm:
    """A :class:`~dnamodel.inference.dated.Warm` for refits of data simulated from the prior (SBC).

    The affine map is the prior's: the means and standard deviations of :data:`SBC_WARM_DRAWS`
    unconstrained prior draws (their own stream, ``seed``; a fixed coordinate keeps scale 1); the
    starting points are :data:`~dnamodel.inference.dated.WARM_POINTS` of the same draws, evenly
    spaced, independent of any simulation's truth; the first step is :data:`SBC_WARM_STEP`.
    """
    pilot = draw_prior(inputs, SBC_WARM_DRAWS, np.random.default_rng(seed))
    return warm_start(pilot[None], np.full((1, 1), SBC_WARM_STEP), tune=tune)


def dated_sbc(
    inputs: DatedInputs,
    simulations: int,
    *,
    seed: int,
    posterior_draws: int = 99,
    draws: int = SBC_DRAWS,
    tune: int = SBC_TUNE,
    chains: int = 4,
    probabilities: tuple[float, ...] = (0.5, 0.9),
    executor: Any = None,
    warm_tune: int | None = None,
) -> Calibration:
    """Simulation-based calibration of the dated model (Talts et al. 2018).

    Each simulation draws parameters from the prior, data from the model (a bound's data set says on
    which side of the bound its value fell), refits, and ranks the truth among ``posterior_draws``
    draws thinned evenly from the refit. Besides the scalars it ranks each group's start and pace and
    the log likelihood of the simulated data (Modrák et al. 2023), which is sensitive to errors in
    the joint posterior that no single parameter shows.

    Each refit starts cold, with ``tune`` tuning steps (:data:`SBC_TUNE`) from the model's initial
    point (the simulated data lie anywhere in the prior, far from the real data's fit). Given ``warm_tune`` (e.g.
    :data:`SBC_WARM_TUNE`), it starts from the prior instead (:func:`prior_warm`): the sampler's
    coordinates scaled by the prior's means and standard deviations, each chain at a prior draw of
    its own (never the truth: chains spread over the prior are what R-hat needs), then ``warm_tune``
    tuning steps. Not the default: at 100 steps, 4 of the 200 refits of the slow test's seed had
    divergences and 13 failed the gates after both extensions (model card 5.10). Either way each
    refit is gated on the total; one that fails is extended from its own draws (:func:`refit`). The
    provenance says how the refits started and counts those extended and those that still failed.

    Returns
    -------
    Calibration
        Ranks, coverage, ESS and divergences per simulation (``dnamodel.checks.calibration``).
    """
    import arviz as az  # deferred: start-up time

    rng = np.random.default_rng(_seed(seed, 5))
    truths = draw_prior(inputs, simulations, rng)
    true_draws = derive_draws(truths, inputs)
    q_true = named(true_draws, inputs)
    true_total = totals(q_true, inputs)["total"]
    simulated = predictive_draws(true_draws["expected"], inputs, rng)
    names: list[str] | None = None
    ranks, truth, covered, ess, divergences = [], [], [], [], []
    failed, extended = 0, 0
    start = time.perf_counter()
    jobs = sbc_jobs(inputs, simulated, seed)
    warm = None if warm_tune is None else prior_warm(inputs, seed=_seed(seed, 8), tune=warm_tune)
    fits = refits(inputs, jobs, draws=draws, tune=tune, chains=chains, warm=warm, executor=executor)
    for i, (job, fit) in enumerate(zip(jobs, fits, strict=True)):
        value, censor = job["value"], job["censor"]
        post = _ranked(fit.quantities, fit.total, fit.joint_log_likelihood, inputs)
        # the truth's log likelihood by the same function as the refit's: the joint one, mixtures once
        true_derived = derive_draws(truths[i : i + 1], inputs, pack(inputs, value=value, censor=censor))
        true_ll = joint_log_likelihood(true_derived, inputs)
        true = _ranked({k: v[i : i + 1] for k, v in q_true.items()}, true_total[i : i + 1], true_ll, inputs)
        names = list(post)
        thin = np.linspace(0, fit.x.shape[0] - 1, posterior_draws).round().astype(int)
        ranks.append([int((post[n][thin] < true[n][0]).sum()) for n in names])
        truth.append([float(true[n][0]) for n in names])
        row = []
        for n in names:
            lows = [np.quantile(post[n], (1 - p) / 2) for p in probabilities]
            highs = [np.quantile(post[n], (1 + p) / 2) for p in probabilities]
            row.append([lo <= true[n][0] <= hi for lo, hi in zip(lows, highs, strict=True)])
        covered.append(row)
        ess.append([float(az.ess(post[n].reshape(fit.chains, -1), method="bulk")) for n in names])
        divergences.append(fit.divergences)
        failed += not fit.passed
        extended += fit.extensions > 0
    return Calibration(
        quantities=tuple(names or ()),
        truth=np.array(truth),
        ranks=np.array(ranks),
        posterior_draws=posterior_draws,
        probabilities=probabilities,
        covered=np.array(covered),
        ess_bulk=np.array(ess),
        divergences=np.array(divergences),
        provenance={
            "seed": seed,
            "simulations": simulations,
            "draws": draws,
            "tune": tune if warm_tune is None else warm_tune,
            "start": "cold" if warm_tune is None else "prior",
            "chains": chains,
            "target_accept": inputs.target_accept,
            "seconds": round(time.perf_counter() - start, 1),
            "refits_extended": extended,
            "refits_failed": failed,
            "dnamodel_version": package_version(),
        },
    )


# --- what the data can see: contraction, and coverage at fixed truths ------------------------------


@dataclass(frozen=True)
class Contraction:
    """How far the data narrow one quantity's prior: its prior and posterior sd and 90% widths."""

    quantity: str
    prior_sd: float
    posterior_sd: float
    prior_width: float
    posterior_width: float

    @property
    def contraction(self) -> float:
        """1 − posterior variance / prior variance: 0 when the data say nothing, 1 when they pin it."""
        return 1.0 - (self.posterior_sd / self.prior_sd) ** 2 if self.prior_sd > 0 else float("nan")

    @property
    def width_ratio(self) -> float:
        """The posterior's 90% width over the prior's: 1 when the data say nothing."""
        return self.posterior_width / self.prior_width if self.prior_width > 0 else float("nan")


def _spread(values: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(values, [0.05, 0.95])
    return float(np.std(values)), float(high - low)


def dated_contraction(idata: Any, inputs: DatedInputs) -> list[Contraction]:
    """For each quantity SBC ranks (but the log likelihood), its prior-to-posterior contraction on the fit's data.

    SBC checks that the computation is calibrated: it passes for a quantity the data do not inform
    (its posterior is its prior, and a prior is calibrated against itself). The contraction says
    which quantities the data inform at all, from the fit's posterior and prior draws.
    """

    def quantities(group: Any) -> dict[str, np.ndarray]:
        q = {}
        for p in parameters.DATED:
            if p.sbc and parameters.present(p, inputs) and p.name in group:
                values = group[p.name].values
                q[p.name] = values.reshape(-1, *values.shape[2:])
        total = group["total"].values.ravel()
        ranked = _ranked(q, total, np.zeros_like(total), inputs)
        ranked.pop("log_likelihood")
        return ranked

    prior, posterior = quantities(idata.prior), quantities(idata.posterior)
    out = []
    for name, post in posterior.items():
        prior_sd, prior_width = _spread(prior[name])
        post_sd, post_width = _spread(post)
        out.append(Contraction(name, prior_sd, post_sd, prior_width, post_width))
    return out


@dataclass(frozen=True)
class Campaign:
    """A fixed "true" campaign: parameter values (registry names, on their own scale) set in every element.

    The others are at their priors' centres (:func:`~dnamodel.inference.dated.initial_point`).
    """

    name: str
    values: dict[str, float]
    words: str


CAMPAIGNS = (
    Campaign("central", {}, "every parameter at its prior's centre"),
    Campaign("slow", {"pace": 0.3}, "every group's campaign saturating at a pace of 0.3 a year"),
    Campaign("fast", {"pace": 3.0}, "every group's campaign saturating at a pace of 3 a year"),
    Campaign("kappa_half", {"typed_share": 0.5}, "half of the collected samples typed into the database"),
)
"""The shipped fixed truths: the priors' centres, a slow and a fast campaign, and κ = 0.5 (far in the
tail of κ's Beta(8, 2) prior)."""


FIXED_TRUTH_QUANTITIES = ("total", "typed_share")
"""The quantities the fixed-truth check reports, where the model has them."""


@dataclass(frozen=True)
class TruthRecovery:
    """One quantity of one fixed campaign, over its replicate data sets.

    ``quantile`` is the truth's quantile in each replicate's posterior (0.5 is centred; near 0 or 1, a
    miss), ``covered`` whether each 90% interval held it, ``median`` each posterior median.
    """

    campaign: str
    quantity: str
    truth: float
    quantile: np.ndarray
    covered: np.ndarray
    median: np.ndarray

    @property
    def coverage(self) -> float:
        """The share of replicates whose 90% interval holds the truth."""
        return float(self.covered.mean())

    @property
    def relative_error(self) -> float:
        """The median over replicates of (posterior median − truth) / truth."""
        return float(np.median((self.median - self.truth) / self.truth))

    @property
    def miss(self) -> float:
        """How far the 90% interval misses the truth: the mean posterior quantile beyond its ends (0 when held)."""
        beyond = np.maximum(0.0, 0.05 - self.quantile) + np.maximum(0.0, self.quantile - 0.95)
        return float(beyond.mean())


def campaign_truth(inputs: DatedInputs, campaign: Campaign) -> np.ndarray:
    """The unconstrained vector of a fixed campaign: the priors' centres with its values set."""
    x = initial_point(inputs)
    layout = layout_of(inputs)
    for name, value in campaign.values.items():
        parameter = parameters.find(name, parameters.DATED)
        if not isinstance(parameter, parameters.Parameter) or parameter.transform not in ("identity", "log", "logit"):
            raise ValueError(f"{name}: a fixed campaign sets parameters on an identity, log or logit scale only")
        block = layout.blocks[parameter.block]
        x[block] = parameters.to_coordinate(parameters.TRANSFORMS[parameter.transform], value)
    return x


def dated_fixed_truth(
    inputs: DatedInputs,
    campaigns: Sequence[Campaign] = CAMPAIGNS,
    *,
    replicates: int,
    seed: int,
    draws: int = 400,
    tune: int = 500,
    chains: int = 4,
) -> list[TruthRecovery]:
    """Data simulated from fixed "true" campaigns, each fitted with the spec's priors: how far they miss.

    SBC draws its truths from the prior, so it cannot see a prior that is wrong. Here each campaign
    is one set of parameter values; ``replicates`` data sets are simulated from it (a bound's data
    set says on which side of the bound its value fell, as SBC's), each refitted with the default
    priors, and each reported quantity's truth placed in each posterior.
    """
    rng = np.random.default_rng(_seed(seed, 9))
    jobs, truths = [], []
    for c, campaign in enumerate(campaigns):
        x = campaign_truth(inputs, campaign)[None, :]
        derived = derive_draws(x, inputs)
        q = named(derived, inputs)
        true = {"total": float(totals(q, inputs)["total"][0])}
        true |= {name: float(v[0]) for name, v in q.items() if name in FIXED_TRUTH_QUANTITIES and v.ndim == 1}
        truths.append(true)
        simulated = predictive_draws(np.repeat(derived["expected"], replicates, axis=0), inputs, rng)
        for r in range(replicates):
            censor = inputs.censor.copy()
            bound = censor != POINT
            censor[bound] = np.where(simulated[r, bound] >= inputs.value[bound], LOWER, UPPER)
            value = np.where(bound, inputs.value, simulated[r])
            active = np.ones(len(inputs.observation), bool)
            jobs.append({"active": active, "seed": _seed(seed, 10, c, r), "value": value, "censor": censor})
    fits = iter(refits(inputs, jobs, draws=draws, tune=tune, chains=chains))
    out = []
    for campaign, true in zip(campaigns, truths, strict=True):
        rows: dict[str, list[tuple[float, bool, float]]] = {name: [] for name in true}
        for _ in range(replicates):
            fit = next(fits)
            for name in true:
                post = fit.total if name == "total" else fit.quantities[name]
                low, high = np.quantile(post, [0.05, 0.95])
                t = true[name]
                rows[name].append((float((post < t).mean()), bool(low <= t <= high), float(np.median(post))))
        for name in (n for n in FIXED_TRUTH_QUANTITIES if n in true):
            quantile, covered, median = (np.array(v) for v in zip(*rows[name], strict=True))
            out.append(TruthRecovery(campaign.name, name, true[name], quantile, covered, median))
    return out
