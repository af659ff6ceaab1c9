"""The dated model's checks: each observation against its predictive, left out, and forecast.

- :func:`dated_predictive_checks` sets each observation against the fit's posterior predictive;
- :func:`dated_leave_one_out` refits without each observation in turn and predicts it, with its exact
  leave-one-out log predictive density;
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
from dataclasses import dataclass
from typing import Any

import numpy as np

from dnamodel.checks.calibration import Calibration
from dnamodel.checks.gates import MAX_RHAT, MIN_ESS, rhat_columns
from dnamodel.checks.predictive import Check, PriorCheck
from dnamodel.inference.dated import LOWER, POINT, UPPER, Warm, draw_prior, pack, sample_packed, warm_start
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
    gate = {} if fit is None else {"refit_rhat": fit.rhat, "refit_ess": fit.ess, "refit_passed": fit.passed}
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

    @property
    def ess(self) -> float:
        """The smaller of the bulk and tail ESS."""
        return min(self.ess_bulk, self.ess_tail)


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
) -> Refit:
    """Sample with only the ``active`` observations in the likelihood (the same compiled density), gated.

    ``warm`` starts from a fit's adaptation (:func:`~dnamodel.inference.dated.warm_start`): its
    scales, step size and draws, after ``warm.tune`` tuning steps instead of ``tune``. The refit is
    gated on what it predicts: the total and the expected value of each observation in ``predicts``
    (indices; by default those not ``active``). A refit that fails (R-hat > 1.01, or bulk or tail
    ESS < 400) is extended, up to ``extensions`` times (:data:`EXTENSIONS`), and then returned with
    ``passed`` false: a caller marks it, never uses it silently.

    ``cores`` spreads the chains over that many threads (default: one per chain, up to the
    machine's cores); the draws do not depend on it.
    """
    packed = pack(inputs, active, value, censor)
    predicts = np.flatnonzero(~np.asarray(active, bool)) if predicts is None else np.asarray(predicts, int)
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
        x, steps, more = _extend(packed, inputs, x, steps, seed=_seed(seed, 7, extended), cores=cores)
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


def _extend(
    packed: np.ndarray, inputs: DatedInputs, x: np.ndarray, steps: np.ndarray, *, seed: int, cores: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Every chain of ``x`` (chain, draw, ndim) continued from its last draw for as many draws again.

    Each chain is its own run of the sampler, started at its last draw with its last step size,
    in the coordinates of the refit's own posterior means and scales; after
    :data:`EXTENSION_TUNE` steps its draws follow the ones it had. Returns the longer chains,
    their last step sizes and the new divergences.
    """
    chains, length = x.shape[0], x.shape[1]
    own = warm_start(x, np.repeat(steps[:, None], 1, axis=1), tune=EXTENSION_TUNE)

    def one(c: int) -> Any:
        start = Warm(own.centre, own.scale, float(steps[c]), x[c, -1:], EXTENSION_TUNE)
        return sample_packed(
            packed,
            inputs,
            draws=length,
            tune=EXTENSION_TUNE,
            chains=1,
            seed=_seed(seed, c),
            target_accept=inputs.target_accept,
            cores=1,
            warm=start,
        )

    workers = max(1, min(chains, cores if cores is not None else (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(one, range(chains)))
    longer = np.stack([np.concatenate((x[c], run.x[0])) for c, run in enumerate(runs)])
    last = np.array([run.stats["step_size"][0, -1] for run in runs])
    return longer, last, sum(int(run.stats["diverging"].sum()) for run in runs)


def _seed(seed: int, *words: int) -> int:
    return int(np.random.SeedSequence([seed, *words]).generate_state(1)[0])


def refits(
    inputs: DatedInputs,
    jobs: Sequence[dict[str, Any]],
    *,
    draws: int,
    tune: int,
    chains: int,
    warm: Warm | None = None,
) -> Iterator[Refit]:
    """:func:`refit` for each job (its ``active``, ``seed`` and optional ``value``, ``censor``), in order.

    Two or more refits run at once when there are cores: in threads of this process, one per
    core, each refit's chains on ``cores // threads`` of them. nutpie releases the GIL while it
    samples, and a refit's chains finish one by one, leaving cores idle that another refit's can
    use. Each refit's draws are its own whatever the threads, so the results equal a serial
    run's. At most two refits per thread wait to be read, which bounds the memory of a long SBC.

    ``warm`` (a fit's adaptation) starts every refit from it; a job may carry its own ``warm`` or
    ``predicts`` (:func:`refit`).
    """
    cpus = os.cpu_count() or 1
    threads = max(1, min(cpus, len(jobs)))
    cores = max(1, cpus // threads)

    def one(job: dict[str, Any]) -> Refit:
        return refit(inputs, draws=draws, tune=tune, chains=chains, cores=cores, **({"warm": warm} | job))

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


def dated_leave_one_out(
    inputs: DatedInputs, *, draws: int, tune: int, chains: int, seed: int, warm: Warm | None = None
) -> list[Check]:
    """Refit without each observation in turn; place it in its predictive distribution.

    Each check carries the refit's total (``total_median``), the exact leave-one-out log
    predictive density of the observation, log mean_s p(y_k | θ_s), over the refit's draws θ_s,
    and the refit's gates (``refit_rhat``, ``refit_ess``, ``refit_passed``). ``warm`` starts every
    refit from the full fit's adaptation (:func:`refit`).
    """
    rng = np.random.default_rng(_seed(seed, 1))
    n = len(inputs.observation)
    jobs = [{"active": np.arange(n) != k, "seed": _seed(seed, 2, k)} for k in range(n)]
    fits = refits(inputs, jobs, draws=draws, tune=tune, chains=chains, warm=warm)
    checks = []
    for k, fit in enumerate(fits):
        predictive = predictive_draws(fit.expected, inputs, rng)[:, k]
        lpd = _log_mean_exp(fit.log_likelihood[:, k])
        total = float(np.median(fit.total))
        checks.append(_check(inputs, k, predictive, total, lpd, fit))
    return checks


@dataclass(frozen=True)
class Forecast:
    """A forecast check: a refit on the observations dated up to ``data_to``, and what it predicted."""

    data_to: str
    used: tuple[str, ...]
    checks: tuple[Check, ...]


def dated_forecasts(
    inputs: DatedInputs, *, draws: int, tune: int, chains: int, seed: int, warm: Warm | None = None
) -> list[Forecast]:
    """Each forecast of the spec's ``[checks]`` table: refit on the past, predict what came later.

    Each refit is gated on the total and the observations it forecasts (:func:`refit`); ``warm``
    starts it from the full fit's adaptation.
    """
    rng = np.random.default_rng(_seed(seed, 3))
    jobs = [
        {"active": inputs.date <= cutoff, "seed": _seed(seed, 4, i), "predicts": np.asarray(targets, int)}
        for i, (_, cutoff, targets) in enumerate(inputs.forecasts)
    ]
    fits = refits(inputs, jobs, draws=draws, tune=tune, chains=chains, warm=warm)
    out = []
    for (label, _, targets), job, fit in zip(inputs.forecasts, jobs, fits, strict=True):
        active = job["active"]
        predictive = predictive_draws(fit.expected, inputs, rng)
        total = float(np.median(fit.total))
        ll = fit.log_likelihood
        checks = tuple(_check(inputs, k, predictive[:, k], total, _log_mean_exp(ll[:, k]), fit) for k in targets)
        used = tuple(name for name, on in zip(inputs.observation, active, strict=True) if on)
        out.append(Forecast(label, used, checks))
    return out


def _log_mean_exp(values: np.ndarray) -> float:
    top = float(np.max(values))
    if not math.isfinite(top):
        return top
    return top + math.log(float(np.mean(np.exp(values - top))))


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


def dated_sbc(
    inputs: DatedInputs,
    simulations: int,
    *,
    seed: int,
    posterior_draws: int = 99,
    draws: int = 500,
    tune: int = 500,
    chains: int = 4,
    probabilities: tuple[float, ...] = (0.5, 0.9),
) -> Calibration:
    """Simulation-based calibration of the dated model (Talts et al. 2018).

    Each simulation draws parameters from the prior, data from the model (a bound's data set says on
    which side of the bound its value fell), refits, and ranks the truth among ``posterior_draws``
    draws thinned evenly from the refit. Besides the scalars it ranks each group's start and pace and
    the log likelihood of the simulated data (Modrák et al. 2023), which is sensitive to errors in
    the joint posterior that no single parameter shows.

    Each refit starts cold (the simulated data lie anywhere in the prior, far from any fit's
    adaptation) and is gated on the total; one that fails is extended from its own draws
    (:func:`refit`). The provenance counts the refits extended and those that still failed.

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
    jobs = []
    for i in range(simulations):
        censor = inputs.censor.copy()
        bound = censor != POINT
        censor[bound] = np.where(simulated[i, bound] >= inputs.value[bound], LOWER, UPPER)
        value = np.where(bound, inputs.value, simulated[i])
        everything = np.ones(len(inputs.observation), bool)
        jobs.append({"active": everything, "seed": _seed(seed, 6, i), "value": value, "censor": censor})
    fits = refits(inputs, jobs, draws=draws, tune=tune, chains=chains)
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
            "tune": tune,
            "chains": chains,
            "target_accept": inputs.target_accept,
            "seconds": round(time.perf_counter() - start, 1),
            "refits_extended": extended,
            "refits_failed": failed,
            "dnamodel_version": package_version(),
        },
    )
