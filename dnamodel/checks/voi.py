"""The value of information: how much each figure a researcher might find would narrow the total's interval.

A preposterior by simulation (``docs/model.md``, section 5.15). For a candidate observation
(:mod:`dnamodel.spec.voi`) and each of ``simulations`` simulated values: a draw θ_s of the posterior,
a value y from the candidate's predictive at θ_s with the candidate's own measurement error, the
posterior conditioned on y, and its 90% interval of the total. The expected width ratio is the mean,
over the simulated values, of that interval's width over the fit's; its Monte Carlo error is their
standard deviation over √simulations.

Two ways to condition:

- **importance sampling** (the default, seconds): the fit's draws reweighted by the candidate's
  likelihood p(y | θ_s), Pareto-smoothed (PSIS, Vehtari et al. 2024), with the Pareto k̂ of each
  simulated value's weights; above :data:`K_LIMIT` the reweighted interval is unreliable;
- **refits** (``refits=N``): the model refitted with the candidate appended as an observation row
  (the same compiled density, a new packed vector), for the first N simulated values, each refit's
  width over the fit's. A simulated value whose k̂ exceeds :data:`K_LIMIT` takes its
  refit's width instead of the reweighted one, when it has one; the refits' own mean ratio is
  reported beside the importance sampling's, which it validates.

κ, a parameter and no observation, is weighed directly: its draws by the likelihood of a
logit-normal measurement of κ. No observation kind measures κ, so a κ candidate has no refit.

References
----------
Vehtari, A., Simpson, D., Gelman, A., Yao, Y. and Gabry, J. (2024). Pareto smoothed importance
sampling. *Journal of Machine Learning Research* 25(72).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnamodel.checks.dated import refits
from dnamodel.inference.dated_packing import pack
from dnamodel.inference.dated_quantities import derive_draws
from dnamodel.spec.dated import DatedInputs
from dnamodel.spec.voi import Candidate, with_candidates

K_LIMIT = 0.7
"""Above this Pareto k̂, a simulated value's reweighted interval is not to be trusted (Vehtari et al. 2024)."""
LEVEL = 0.90
"""The interval whose width is narrowed: the equal-tailed 90% interval the citation quotes."""
IMPORTANCE, REFITS, BOTH, KAPPA_ONLY = (
    "importance sampling",
    "refits",
    "importance sampling, refits where k̂ > 0.7",
    "importance sampling (κ has no observation kind to refit)",
)


@dataclass(frozen=True)
class Narrowing:
    """One candidate's expected narrowing of the total's 90% interval.

    ``ratio`` is the expected width of the 90% interval given the candidate over the fit's, with its
    Monte Carlo error ``mcse``; ``log_sd_ratio`` the same of the log total's standard deviation (the
    review's measure). ``k_hat_max`` is the largest Pareto k̂ over the simulated values and
    ``high_k`` how many exceed :data:`K_LIMIT`; ``unreliable`` how many of those kept their reweighted
    width (no refit was run for them). ``refit_ratio`` and ``refit_mcse`` are the refits' own
    (None without refits), over ``refitted`` simulated values, and ``importance_at_refits`` the
    importance sampling's ratio at those same values.
    """

    candidate: Candidate
    ratio: float
    mcse: float
    log_sd_ratio: float
    method: str
    k_hat_max: float
    high_k: int
    unreliable: int
    simulations: int
    refit_ratio: float | None = None
    refit_mcse: float | None = None
    refitted: int = 0
    importance_at_refits: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            **self.candidate.as_dict(),
            "width_ratio": self.ratio,
            "width_ratio_mcse": self.mcse,
            "log_sd_ratio": self.log_sd_ratio,
            "method": self.method,
            "k_hat_max": self.k_hat_max,
            "high_k": self.high_k,
            "unreliable": self.unreliable,
            "simulations": self.simulations,
            "refits": {
                "count": self.refitted,
                "width_ratio": self.refit_ratio,
                "width_ratio_mcse": self.refit_mcse,
                "importance_width_ratio": self.importance_at_refits,
            },
        }


@dataclass(frozen=True)
class ValueOfInformation:
    """Every candidate's :class:`Narrowing`, best first, and the fit's own interval they are set against."""

    narrowings: tuple[Narrowing, ...]
    median: float
    low: float
    high: float
    simulations: int
    seed: int
    refit_settings: dict[str, int] = field(default_factory=dict)

    @property
    def width(self) -> float:
        """The fit's 90% interval width."""
        return self.high - self.low

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the fit's interval, the settings and the ranked candidates."""
        return {
            "total": {"median": self.median, "interval_90": [self.low, self.high], "width": self.width},
            "simulations": self.simulations,
            "seed": self.seed,
            "k_limit": K_LIMIT,
            "refit_settings": self.refit_settings or None,
            "candidates": [n.as_dict() for n in self.narrowings],
        }


def weighted_interval(sorted_values: np.ndarray, weights: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The equal-tailed interval of draws ``sorted_values`` (ascending) with normalised ``weights`` (their order).

    Examples
    --------
    >>> values = np.arange(1.0, 101.0)
    >>> weighted_interval(values, np.full(100, 0.01))
    (5.0, 95.0)
    """
    cumulative = np.cumsum(weights)
    tail = (1.0 - level) / 2.0
    low = sorted_values[min(int(np.searchsorted(cumulative, tail)), len(sorted_values) - 1)]
    high = sorted_values[min(int(np.searchsorted(cumulative, 1.0 - tail)), len(sorted_values) - 1)]
    return float(low), float(high)


def _width(values: np.ndarray) -> float:
    low, high = np.quantile(values, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(high - low)


def linear_predictions(
    x: np.ndarray, inputs: DatedInputs, candidates: Sequence[Candidate], kappa: np.ndarray
) -> np.ndarray:
    """Each candidate's expected value at each draw on its measurement's scale (draws, candidate).

    A count or a stock: the log of its expected value, by the compiled forward pass on the inputs
    with the candidates appended (inactive: the fit's own density); κ: its logit.
    """
    augmented = with_candidates(inputs, tuple(candidates))
    active = np.arange(len(augmented.observation)) < len(inputs.observation)
    expected = derive_draws(x, augmented, pack(augmented, active))["expected"]
    out = np.empty((x.shape[0], len(candidates)))
    for c, candidate in enumerate(candidates):
        if candidate.kind == "typed_share":
            out[:, c] = np.log(kappa) - np.log1p(-kappa)
        else:
            out[:, c] = np.log(expected[:, augmented.observation.index(candidate.name)])
    return out


def candidate_rng(seed: int, candidate: Candidate) -> np.random.Generator:
    """The generator of a candidate's simulated values, from the seed and its name.

    A candidate draws the same values whichever others are ranked beside it.
    """
    return np.random.default_rng([seed, 31, zlib.crc32(candidate.name.encode("utf-8"))])


def simulate(
    linear: np.ndarray, error: float, simulations: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated measured values (on the linear scale) from the posterior predictive, and the draws they came from."""
    drawn = rng.integers(0, len(linear), simulations)
    return linear[drawn] + error * rng.standard_normal(simulations), drawn


def importance_widths(
    linear: np.ndarray, values: np.ndarray, error: float, total: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each simulated value: the reweighted 90% width of ``total``, the reweighted sd of its log, and k̂.

    The weights are the candidate's normal likelihood on its linear scale, p(y | θ_s) ∝
    exp(−(y − m_s)² / 2σ²) (a constant in θ dropped), Pareto-smoothed by ArviZ's ``psislw``.
    """
    import arviz as az  # deferred: start-up time

    order = np.argsort(total)
    sorted_total = total[order]
    log_total = np.log(total)
    log_w = -0.5 * ((values[:, None] - linear[None, :]) / error) ** 2
    log_w -= log_w.max(axis=1, keepdims=True)  # PSIS fits the largest weights' tail: scaled to 1 at most
    with np.errstate(
        over="ignore"
    ):  # a tail of weights spanning hundreds of orders of magnitude: k̂ is large, as it should be
        smoothed, k_hat = az.psislw(log_w, reff=1.0)
    smoothed = np.asarray(smoothed)
    widths = np.empty(len(values))
    sds = np.empty(len(values))
    for m in range(len(values)):
        w = np.exp(smoothed[m] - smoothed[m].max())
        w /= w.sum()
        low, high = weighted_interval(sorted_total, w[order])
        widths[m] = high - low
        # sums, not `w @ log_total`: OpenBLAS spreads a dot of more than about 10,000 draws over threads, and
        # on a loaded machine each of these thousands of small calls waited milliseconds for them (benchmarks/README.md)
        mean = float((w * log_total).sum())
        sds[m] = math.sqrt(max(float((w * (log_total - mean) ** 2).sum()), 0.0))
    return widths, sds, np.asarray(k_hat, dtype=float).reshape(-1)


def _mean_and_error(values: np.ndarray) -> tuple[float, float]:
    n = len(values)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan


def dated_value_of_information(
    x: np.ndarray,
    total: np.ndarray,
    kappa: np.ndarray | None,
    inputs: DatedInputs,
    candidates: Sequence[Candidate],
    *,
    simulations: int = 200,
    seed: int,
    refit_values: int = 0,
    draws: int = 400,
    tune: int = 500,
    chains: int = 4,
    status: Callable[[str], None] | None = None,
    executor: Any = None,
) -> ValueOfInformation:
    """Rank candidate observations by the expected narrowing of the total's 90% interval.

    Parameters
    ----------
    x : ndarray
        The fit's unconstrained draws (draws, ndim), chains stacked.
    total : ndarray
        The total at each draw (draws,).
    kappa : ndarray or None
        The typed share κ at each draw (draws,), for κ candidates; None when the model has none.
    inputs : DatedInputs
    candidates : sequence of Candidate
    simulations : int
        Simulated values per candidate (the Monte Carlo error falls as 1/√simulations).
    seed : int
        The simulated values' seed (and the refits').
    refit_values : int
        Refit the model at this many of each candidate's simulated values (0: importance sampling only).
    draws, tune, chains : int
        Each refit's sampler settings.
    status : callable, optional
        Told what is being done, for a terminal's progress line.

    Returns
    -------
    ValueOfInformation
        Ranked best first (the smallest expected width ratio).
    """
    say = status or (lambda line: None)
    say("Predicting each candidate at the fit's draws")
    kappa_draws = kappa if kappa is not None else np.full(len(total), 0.5)
    linear = linear_predictions(x, inputs, candidates, kappa_draws)
    base_width = _width(total)
    base_sd = float(np.log(total).std())
    low, median, high = (float(v) for v in np.quantile(total, [0.05, 0.5, 0.95]))
    augmented = with_candidates(inputs, tuple(candidates))
    n_obs = len(inputs.observation)
    results = []
    for c, candidate in enumerate(candidates):
        say(f"Weighing the fit's draws by {candidate.name} ({c + 1} of {len(candidates)})")
        rng = candidate_rng(seed, candidate)
        values, _ = simulate(linear[:, c], candidate.error, simulations, rng)
        widths, sds, k_hat = importance_widths(linear[:, c], values, candidate.error, total)
        ratios = widths / base_width
        high_k = k_hat > K_LIMIT
        method = IMPORTANCE if candidate.kind != "typed_share" else KAPPA_ONLY
        refit_ratio = refit_mcse = importance_at = None
        refitted = 0
        replaced = np.zeros(simulations, bool)
        if refit_values and candidate.kind != "typed_share":
            chosen = np.arange(min(refit_values, simulations))
            # and every simulated value whose weights are unreliable, up to the same count again
            chosen = np.union1d(chosen, np.flatnonzero(high_k)[:refit_values])
            k = augmented.observation.index(candidate.name)
            jobs = []
            for m in chosen:
                active = np.arange(len(augmented.observation)) < n_obs
                active[k] = True
                value = augmented.value.copy()
                value[k] = math.exp(values[m])
                jobs.append({"active": active, "seed": seed, "value": value})
            say(f"Refitting with {candidate.name} at {len(jobs)} simulated values ({c + 1} of {len(candidates)})")
            refit_widths = np.array(
                [
                    _width(r.total)
                    for r in refits(augmented, jobs, draws=draws, tune=tune, chains=chains, executor=executor)
                ]
            )
            # against the fit's own width: a refit without the candidate would set every ratio against one
            # short run's width, whose Monte Carlo error (about 10% on the bundled data) all of them would share
            refit_r = refit_widths / base_width
            refitted = len(chosen)
            first = chosen < refit_values
            refit_ratio, refit_mcse = _mean_and_error(refit_r[first])
            importance_at = float(ratios[chosen[first]].mean())
            for m, r in zip(chosen, refit_r, strict=True):
                if high_k[m]:
                    ratios[m] = r
                    replaced[m] = True
            method = BOTH if replaced.any() else IMPORTANCE
        ratio, mcse = _mean_and_error(ratios)
        results.append(
            Narrowing(
                candidate,
                ratio,
                mcse,
                float(sds.mean() / base_sd),
                method,
                float(k_hat.max()),
                int(high_k.sum()),
                int((high_k & ~replaced).sum()),
                simulations,
                refit_ratio,
                refit_mcse,
                refitted,
                importance_at,
            )
        )
    ranked = tuple(sorted(results, key=lambda n: n.ratio))
    settings = {"draws": draws, "tune": tune, "chains": chains} if refit_values else {}
    return ValueOfInformation(ranked, median, low, high, simulations, seed, settings)
