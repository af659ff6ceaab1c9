"""The dated model's checks: each observation against its predictive, left out, and forecast.

- :func:`predictive_checks` sets each observation against the fit's posterior predictive;
- :func:`leave_one_out` refits without each observation in turn and predicts it, with its exact
  leave-one-out log predictive density;
- :func:`forecast_checks` refits on what was published by a date and predicts what came later
  (the spec's ``[checks]`` table);
- :func:`prior_check` says what the priors alone imply for the total.

A refit changes only which observations the packed inputs mark active, so it reuses the one
compiled density. A bound's PIT is its mid-PIT: the mean PIT over the values it allows, ``(F(L) + 1)
/ 2`` for "at least L" and ``F(U) / 2`` for "at most U", so it lies in (0.05, 0.95) when the model
gives the bound's side at least 10% of its mass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dnamodel.checks.predictive import Check, PriorCheck
from dnamodel.inference.dated import (
    LOWER,
    POINT,
    UPPER,
    collected,
    constrain,
    expected,
    log_likelihood,
    pack,
    replicate,
    sample_packed,
)
from dnamodel.spec.dated import DatedInputs

BOUND_NAMES = {POINT: "none", LOWER: "lower", UPPER: "upper"}
PIT_LIMITS = (0.05, 0.95)
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


def _check(inputs: DatedInputs, k: int, draws: np.ndarray, total: float | None, lpd: float | None) -> Check:
    lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
    censor = int(inputs.censor[k])
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
    )


def passes(check: Check) -> bool:
    """Whether a check's PIT lies inside :data:`PIT_LIMITS`."""
    return PIT_LIMITS[0] < check.pit < PIT_LIMITS[1]


def predictive_checks(idata: object, inputs: DatedInputs) -> list[Check]:
    """Every observation against the fit's posterior predictive distribution."""
    predictive = idata.posterior_predictive["obs"].values.reshape(-1, len(inputs.observation))
    return [_check(inputs, k, predictive[:, k], None, None) for k in range(len(inputs.observation))]


@dataclass(frozen=True)
class Refit:
    """A refit's draws, constrained, and what it predicts for every observation."""

    quantities: dict[str, np.ndarray]
    expected: np.ndarray
    divergences: int


def refit(
    inputs: DatedInputs,
    active: np.ndarray,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    value: np.ndarray | None = None,
) -> Refit:
    """Sample with only the ``active`` observations in the likelihood (the same compiled density)."""
    result = sample_packed(
        pack(inputs, active, value),
        inputs,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        target_accept=inputs.target_accept,
    )
    flat = result.x.reshape(-1, result.x.shape[-1])
    q = constrain(flat, inputs)
    return Refit(q, expected(q, inputs), int(result.stats["diverging"].sum()))


def _seed(seed: int, *words: int) -> int:
    return int(np.random.SeedSequence([seed, *words]).generate_state(1)[0])


def leave_one_out(inputs: DatedInputs, *, draws: int, tune: int, chains: int, seed: int) -> list[Check]:
    """Refit without each observation in turn; place it in its predictive distribution.

    Each check carries the refit's total (``total_median``) and the exact leave-one-out log
    predictive density of the observation, log mean_s p(y_k | θ_s), over the refit's draws θ_s.
    """
    rng = np.random.default_rng(_seed(seed, 1))
    checks = []
    for k in range(len(inputs.observation)):
        active = np.ones(len(inputs.observation), bool)
        active[k] = False
        fit = refit(inputs, active, draws=draws, tune=tune, chains=chains, seed=_seed(seed, 2, k))
        predictive = replicate(fit.expected, inputs, rng)[:, k]
        lpd = _log_mean_exp(log_likelihood(fit.expected, inputs)[:, k])
        total = float(np.median(collected(fit.quantities, inputs, inputs.estimand_date).sum(axis=1)))
        checks.append(_check(inputs, k, predictive, total, lpd))
    return checks


@dataclass(frozen=True)
class Forecast:
    """A forecast check: a refit on the observations dated up to ``data_to``, and what it predicted."""

    data_to: str
    used: tuple[str, ...]
    checks: tuple[Check, ...]


def forecast_checks(inputs: DatedInputs, *, draws: int, tune: int, chains: int, seed: int) -> list[Forecast]:
    """Each forecast of the spec's ``[checks]`` table: refit on the past, predict what came later."""
    rng = np.random.default_rng(_seed(seed, 3))
    out = []
    for i, (label, cutoff, targets) in enumerate(inputs.forecasts):
        active = inputs.date <= cutoff
        fit = refit(inputs, active, draws=draws, tune=tune, chains=chains, seed=_seed(seed, 4, i))
        predictive = replicate(fit.expected, inputs, rng)
        ll = log_likelihood(fit.expected, inputs)
        total = float(np.median(collected(fit.quantities, inputs, inputs.estimand_date).sum(axis=1)))
        checks = tuple(_check(inputs, k, predictive[:, k], total, _log_mean_exp(ll[:, k])) for k in targets)
        used = tuple(name for name, on in zip(inputs.observation, active, strict=True) if on)
        out.append(Forecast(label, used, checks))
    return out


def _log_mean_exp(values: np.ndarray) -> float:
    top = float(np.max(values))
    if not math.isfinite(top):
        return top
    return top + math.log(float(np.mean(np.exp(values - top))))


def prior_check(idata: object, inputs: DatedInputs) -> PriorCheck:
    """Quantiles (1, 5, 50, 95, 99%) of the total under the prior alone.

    The dated model has no separate constraint to weigh the prior by (the thesis is data), so the
    constrained quantiles are the forward ones.
    """
    total = idata.prior["total"].values.ravel()
    qs = (0.01, 0.05, 0.5, 0.95, 0.99)
    forward = tuple(float(v) for v in np.quantile(total, qs))
    return PriorCheck(qs, forward, forward, inputs.census_total)
