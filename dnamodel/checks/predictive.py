"""Every observation against its predictive distribution, and the prior against the data.

:func:`hierarchical_predictive_checks` sets each observation (and each within-county row) against its
posterior predictive 90% interval; :func:`hierarchical_leave_one_out` refits without each observation and
predicts it; :func:`hierarchical_prior_check` shows what the priors alone say about the total, without and
with the thesis bound.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dnamodel import dims
from dnamodel.inference.model import thesis_log_factor
from dnamodel.inference.sampling import Fitted, sample
from dnamodel.spec.dated import decimal_year

if TYPE_CHECKING:
    import arviz as az

LOO_DRAWS = 1000
"""Draws per chain of each leave-one-out refit (at most the main fit's)."""
LOO_ERROR = 1e3
"""The log-scale reporting error that makes an observation uninformative in a refit."""


PIT_LIMITS = (0.05, 0.95)
"""A check passes when its PIT lies strictly inside these (:attr:`Check.pit_inside`)."""
UNINFORMATIVE = 0.99
"""A bound is uninformative, neither a pass nor a miss, when at least this share of its predictive
draws already lies on its side (:attr:`Check.uninformative`): it could not have failed."""


@dataclass(frozen=True)
class Check:
    """One observation against a predictive distribution."""

    pit_limits: ClassVar[tuple[float, float]] = PIT_LIMITS
    """The PITs a held-out or forecast check may take and pass: strictly between these."""
    uninformative_share: ClassVar[float] = UNINFORMATIVE
    """The share of predictive draws on a bound's side from which it is uninformative."""

    observation: str
    observed: float
    median: float
    low: float
    high: float
    pit: float
    total_median: float | None = None
    bound: str = "none"
    """``none`` for a value; ``lower`` or ``upper`` when the observation is a bound."""
    lpd: float | None = None
    """The log predictive density of the observation (exact leave-one-out, or a forecast's)."""
    refit_rhat: float | None = None
    """A refit's check: the refit's largest R-hat over what it predicts (this observation's expected
    value and the total); ``None`` for a check of the fit itself."""
    refit_ess: float | None = None
    """A refit's check: the refit's smallest ESS (bulk or tail) over what it predicts."""
    refit_passed: bool | None = None
    """A refit's check: whether the refit passed the gates (R-hat ≤ 1.01, ESS ≥ 400 bulk and tail),
    after any extension; a check whose refit failed is marked, never silently used."""
    refit_method: str | None = None
    """A refit's check: how its posterior was made, ``"importance"`` (the fit's draws reweighted,
    Pareto-smoothed, and resampled) or ``"refit"`` (sampled); ``None`` for a check of the fit itself."""
    pareto_k: float | None = None
    """A refit's check: the Pareto k̂ of the fit's importance weights towards the refit's posterior (the
    weights are trusted at most at ``min(1 − 1/log10 S, 0.7)`` for S draws); ``None`` when no
    reweighting was tried (exact refits asked for)."""
    importance_ess: float | None = None
    """A refit's check: the importance weights' effective sample size for what the refit predicts
    (trusted from 400); ``None`` when no reweighting was tried."""

    @property
    def inside(self) -> bool:
        """Whether the observation is consistent with the 90% predictive interval.

        A value must fall inside it; a lower bound must lie below its top, an upper bound above
        its bottom.
        """
        if self.bound == "lower":
            return self.observed <= self.high
        if self.bound == "upper":
            return self.observed >= self.low
        return self.low <= self.observed <= self.high

    @property
    def pit_inside(self) -> bool:
        """Whether the PIT lies strictly inside :attr:`pit_limits`: a held-out or forecast figure predicted."""
        return self.pit_limits[0] < self.pit < self.pit_limits[1]

    @property
    def satisfied(self) -> float | None:
        """For a bound, the share of its predictive draws on its side; ``None`` for a value.

        Read off the mid-PIT, which the share fixes: ``(F(L) + 1) / 2`` for "at least L" gives
        ``1 − F(L) = 2 − 2·PIT``, ``F(U) / 2`` for "at most U" gives ``2·PIT``.

        Examples
        --------
        >>> Check("a", 218.0, 9e4, 7e4, 1e5, 0.5, bound="lower").satisfied
        1.0
        >>> round(Check("b", 2e3, 1e4, 200.0, 4e4, 0.59, bound="lower").satisfied, 2)
        0.82
        """
        if self.bound == "lower":
            return min(1.0, max(0.0, 2.0 - 2.0 * self.pit))
        if self.bound == "upper":
            return min(1.0, max(0.0, 2.0 * self.pit))
        return None

    @property
    def uninformative(self) -> bool:
        """Whether the check is a bound that at least :data:`UNINFORMATIVE` of its draws already satisfy.

        Such a bound tests nothing: whatever the model, it would have passed. It is reported as
        uninformative, and counted neither as a pass nor as a miss.
        """
        satisfied = self.satisfied
        return satisfied is not None and satisfied >= self.uninformative_share

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the fields, and ``inside_90``, ``satisfied``, ``uninformative`` and ``verdict``."""
        return asdict(self) | {
            "inside_90": self.inside,
            "satisfied": self.satisfied,
            "uninformative": self.uninformative,
            "verdict": self.verdict,
        }

    @property
    def verdict(self) -> str:
        """``"uninformative"`` (:attr:`uninformative`), ``"pass"`` (PIT inside :attr:`pit_limits`) or ``"miss"``."""
        if self.uninformative:
            return "uninformative"
        return "pass" if self.pit_inside else "miss"


def _check(name: str, observed: float, draws: np.ndarray, total_median: float | None = None) -> Check:
    lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
    return Check(name, observed, float(med), float(lo), float(hi), float((draws <= observed).mean()), total_median)


def hierarchical_predictive_checks(idata: az.InferenceData) -> list[Check]:
    """Every observation (and within-county row) against its posterior predictive 90% interval."""
    checks = []
    for var in ("obs", "row_obs"):
        if var not in idata.posterior_predictive:
            continue
        pred = idata.posterior_predictive[var]
        dim = pred.dims[-1]
        for name in pred[dim].values:
            draws = pred.sel({dim: name}).values.ravel()
            checks.append(_check(str(name), float(idata.observed_data[var].sel({dim: name})), draws))
    return checks


def hierarchical_leave_one_out(fitted: Fitted, *, draws: int, tune: int, chains: int, seed: int) -> list[Check]:
    """Refit without each observation and place it in its predictive distribution.

    An observation is left out by making its reporting error huge (``LOO_ERROR`` on the
    log scale), which flattens its likelihood without recompiling the model. Its
    predictive distribution is then the refit's expected count times a reporting error
    of the observation's own scale. Each check carries the exact leave-one-out log predictive
    density of the observation, log mean_s p(y_k | θ_s) over the refit's draws (the log-normal
    density of the printed count).
    """
    inputs = fitted.inputs
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    checks = []
    for k, name in enumerate(inputs.observation):
        error = inputs.error.copy()
        error[k] = LOO_ERROR
        idata = sample(fitted, draws=draws, tune=tune, chains=chains, seed=seed + k + 1, error=error)
        expected = idata.posterior["expected"].sel({dims.OBSERVATION: name}).values.ravel()
        predictive = expected * np.exp(inputs.error[k] * rng.standard_normal(expected.size))
        total = float(np.median(idata.posterior["total"].values))
        y, s = float(inputs.observed[k]), float(inputs.error[k])
        log_density = -0.5 * ((np.log(y) - np.log(expected)) / s) ** 2 - np.log(s * y * np.sqrt(2 * np.pi))
        top = float(log_density.max())
        lpd = top + float(np.log(np.mean(np.exp(log_density - top))))
        check = _check(name, y, predictive, total)
        checks.append(Check(**{**check.__dict__, "lpd": lpd}))
    return checks


def observation_dates(inputs: Any, data: Any) -> dict[str, float]:
    """Each observation's date as a decimal year: the latest date among the data rows it is made of."""
    dates = {}
    for name, expression in inputs.sources.items():
        ids = {n.id for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Name)}
        found = [decimal_year(str(data.observations[i].date)) for i in ids if data.observations[i].date]
        dates[name] = max(found) if found else float("nan")
    return dates


def hierarchical_forecasts(
    fitted: Fitted,
    data: Any,
    cutoffs: list[tuple[str, float]],
    *,
    thesis_date: float,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
) -> list[tuple[str, tuple[str, ...], list[Check]]]:
    """The hierarchical model's forecasts, for comparison with the dated model's.

    For each cutoff, refit on the observations dated up to it and predict the model's own
    observations dated after it (the model has no time, so a later figure is predicted as if it
    were the same fraction). Returns (cutoff, observations used, checks) for each cutoff.

    The within-county rows are dated 2016 and stay in; the thesis bound, dated ``thesis_date``, is
    switched off for cutoffs before it.
    """
    inputs = fitted.inputs
    dates = observation_dates(inputs, data)

    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    out: list[tuple[str, tuple[str, ...], list[Check]]] = []
    for i, (label, cutoff) in enumerate(cutoffs):
        later = [k for k, name in enumerate(inputs.observation) if dates[name] > cutoff]
        used = tuple(name for name in inputs.observation if dates[name] <= cutoff)
        if not later:
            out.append((label, used, []))
            continue
        error = inputs.error.copy()
        error[later] = LOO_ERROR
        values: dict[str, Any] = {"error": error}
        if inputs.thesis and cutoff < thesis_date:
            values["tolerance"] = 1e6  # the bound's edge spread over far more than any total: off
        idata = sample(fitted, draws=draws, tune=tune, chains=chains, seed=seed + 100 + i, data=values)
        total = float(np.median(idata.posterior["total"].values))
        checks = []
        for k in later:
            name = inputs.observation[k]
            expected = idata.posterior["expected"].sel({dims.OBSERVATION: name}).values.ravel()
            predictive = expected * np.exp(inputs.error[k] * rng.standard_normal(expected.size))
            checks.append(_check(name, float(inputs.observed[k]), predictive, total))
        out.append((label, used, checks))
    return out


# --- the prior -------------------------------------------------------------------------------


PLAUSIBLE_LOW = 1e-4
"""The smallest 1% quantile of the prior total a plausible prior has, as a share of the population."""


@dataclass(frozen=True)
class PriorCheck:
    """What the prior alone says about the total: quantiles without and with the thesis bound."""

    quantiles: tuple[float, ...]
    forward: tuple[float, ...]
    constrained: tuple[float, ...]
    population: float

    @property
    def plausible(self) -> bool:
        """Whether the prior's 1–99% range reaches from a small share of the population to about all of it, no more.

        Its 1% quantile at least one in ten thousand of the population (not a prior with its mass at no
        collection), its 99% quantile at most 1.5 times the population (a prior of no more than everyone,
        with the census error's room): measured against the population, whatever its size.
        """
        return self.forward[0] >= PLAUSIBLE_LOW * self.population and self.forward[-1] <= 1.5 * self.population

    def span(self) -> str:
        """The prior's 1–99% range as shares of the population, in words: "3.2% to 88% of the population".

        Examples
        --------
        >>> PriorCheck((0.01, 0.99), (117_326.0, 3_210_366.0), (117_326.0, 3_210_366.0), 3_648_100.0).span()
        '3.2% to 88% of the population (3,648,100)'
        """
        low, high = (100 * v / self.population for v in (self.forward[0], self.forward[-1]))
        return f"{low:.2g}% to {high:.2g}% of the population ({self.population:,.0f})"


def hierarchical_prior_check(idata: az.InferenceData, inputs: Any) -> PriorCheck:
    """Quantiles (1, 5, 50, 95, 99%) of the prior total, without and with the thesis constraint.

    The constrained quantiles weight each forward draw by the thesis factor (importance
    weights, exact because the factor is the potential).
    """
    total = idata.prior["total"].values.ravel()
    qs = (0.01, 0.05, 0.5, 0.95, 0.99)
    weights = np.exp(thesis_log_factor(total, inputs))
    order = np.argsort(total)
    cdf = np.cumsum(weights[order]) / weights.sum()
    constrained = tuple(float(total[order][min(np.searchsorted(cdf, q), total.size - 1)]) for q in qs)
    return PriorCheck(qs, tuple(float(v) for v in np.quantile(total, qs)), constrained, inputs.census_total)
