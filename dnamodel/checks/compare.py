"""Structural uncertainty: models side by side, and stacked where they share their data.

:func:`stacking_weights` finds the weights of the models' leave-one-out predictive distributions
that maximise the log score of their mixture (Yao, Vehtari, Simpson and Gelman 2018), from the exact
leave-one-out log predictive densities of every observation. :func:`bootstrap_weights` repeats it
under Bayesian-bootstrap weights of the observations (Rubin 1981), the weights' uncertainty with so
few observations. :func:`stacked_draws` mixes the models' posterior draws of a quantity in the
stacking proportions, and :func:`weighted_quantiles` reads quantiles off weighted draws.

Stacking needs every model scored on the same observations: models whose data differ are shown
beside the others but get no weight.

References
----------
.. [1] Yao, Y., Vehtari, A., Simpson, D. and Gelman, A. (2018). "Using stacking to average Bayesian
   predictive distributions". Bayesian Analysis 13(3), 917-1007.
.. [2] Rubin, D. B. (1981). "The Bayesian bootstrap". The Annals of Statistics 9(1), 130-134.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNCERTAIN = 0.5
"""Stacking weights are flagged too uncertain to lean on when some model's bootstrap 90% interval
of its weight is wider than this: the data cannot tell whether it should carry most of the mixture
or little of it."""
MIN_SCORED = 10
"""Stacking weights are flagged too uncertain to lean on when fewer than this many independent units
(sources, or observations where a model has no grouping) score the models: a Bayesian bootstrap of
so few can agree with itself and still be noise."""
SE_MULTIPLE = 2.0
"""Stacking weights are flagged too uncertain to lean on when the model with the largest weight leads
another by no more than this many standard errors of their elpd difference."""


def stacking_weights(lpd: np.ndarray, observation_weights: np.ndarray | None = None) -> np.ndarray:
    """The simplex weights maximising Σ_k v_k log Σ_m w_m exp(lpd[k, m]).

    Parameters
    ----------
    lpd : ndarray, shape (observation, model)
        Each observation's exact leave-one-out log predictive density under each model.
    observation_weights : ndarray, shape (observation,), optional
        v_k; all ones by default (the Bayesian bootstrap draws them from a Dirichlet).

    Returns
    -------
    ndarray, shape (model,)
        Non-negative weights summing to 1.

    Examples
    --------
    A model that predicts every observation better takes all the weight:

    >>> lpd = np.array([[-1.0, -3.0], [-2.0, -4.0], [-1.5, -2.5]])
    >>> stacking_weights(lpd).round(3)
    array([1., 0.])

    Two models that each predict half the data well share it:

    >>> lpd = np.array([[-1.0, -5.0], [-5.0, -1.0]])
    >>> stacking_weights(lpd).round(3)
    array([0.5, 0.5])
    """
    from scipy.optimize import minimize  # deferred: start-up time

    lpd = np.asarray(lpd, dtype=float)
    K, M = lpd.shape
    v = np.ones(K) if observation_weights is None else np.asarray(observation_weights, dtype=float)
    if M == 1:
        return np.ones(1)
    top = lpd.max(axis=1, keepdims=True)
    dens = np.exp(lpd - top)  # per observation, relative to its best model: no underflow

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        # softmax parameterisation with the last weight fixed by the others
        full = np.append(z, 0.0)
        w = np.exp(full - full.max())
        w /= w.sum()
        mix = dens @ w
        value = -float(v @ np.log(mix))
        grad_w = -(v / mix) @ dens  # d(-score)/dw
        grad_full = w * (grad_w - grad_w @ w)  # through the softmax
        return value, grad_full[:-1]

    best = None
    for start in (np.zeros(M - 1), *np.eye(M - 1) * 2.0):
        result = minimize(objective, start, jac=True, method="L-BFGS-B")
        if best is None or result.fun < best.fun:
            best = result
    full = np.append(best.x, 0.0)
    w = np.exp(full - full.max())
    w /= w.sum()
    w[w < 1e-9] = 0.0
    return w / w.sum()


def bootstrap_weights(lpd: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Stacking weights under ``draws`` Bayesian-bootstrap reweightings of the observations.

    Returns
    -------
    ndarray, shape (draws, model)
    """
    K = lpd.shape[0]
    return np.array([stacking_weights(lpd, K * rng.dirichlet(np.ones(K))) for _ in range(draws)])


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probabilities: tuple[float, ...]) -> np.ndarray:
    """Quantiles of weighted draws: the smallest value whose cumulative weight reaches each probability.

    Examples
    --------
    >>> weighted_quantiles(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 2.0]), (0.25, 0.5, 0.75))
    array([1., 2., 2.])
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(np.asarray(weights, dtype=float)[order])
    cumulative /= cumulative[-1]
    index = np.searchsorted(cumulative, np.asarray(probabilities) - 1e-12, side="left")
    return np.asarray(values)[order][np.minimum(index, len(values) - 1)]


def stacked_draws(draws: list[np.ndarray], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every model's draws, each weighted by its stacking weight over its number of draws.

    Returns
    -------
    values, weights : ndarray
        The pooled draws and each one's weight (summing to 1): the stacked distribution, exactly.
    """
    values = np.concatenate([np.ravel(d) for d in draws])
    each = np.concatenate([np.full(np.size(d), w / np.size(d)) for d, w in zip(draws, weights, strict=True)])
    return values, each


@dataclass(frozen=True)
class Stacking:
    """Stacking weights with their Bayesian-bootstrap uncertainty, and the stacked total."""

    models: tuple[str, ...]
    weights: np.ndarray
    bootstrap: np.ndarray
    total_median: float
    total_interval: tuple[float, float]
    elpd: np.ndarray
    elpd_se: np.ndarray
    elpd_diff: np.ndarray
    elpd_diff_se: np.ndarray
    """Each model's elpd minus the best's, and the standard error of that difference (0 for the best)."""
    scored_on: str = "observations"
    """What each row of the scores is: ``"sources"`` (every observation of a source together) or ``"observations"``."""
    scored: int = 0
    """How many units (sources or observations) score the models."""
    lead: np.ndarray | None = None
    """Each model's elpd behind the model with the largest weight, and its standard error, shape (model, 2)."""

    def weight_interval(self, prob: float = 0.9) -> np.ndarray:
        """Each model's equal-tailed bootstrap interval of its weight, shape (model, 2)."""
        return np.quantile(self.bootstrap, [(1 - prob) / 2, (1 + prob) / 2], axis=0).T

    @property
    def uncertain_reasons(self) -> tuple[str, ...]:
        """Why the weights are too uncertain to lean on, each in words; empty when they are not.

        Any of: fewer than :data:`MIN_SCORED` units score them; the model with the largest weight
        leads another by no more than :data:`SE_MULTIPLE` standard errors of their elpd difference;
        some model's bootstrap 90% interval of its weight is wider than :data:`UNCERTAIN`.
        """
        reasons = []
        if self.scored < MIN_SCORED:
            reasons.append(f"only {self.scored} {self.scored_on} score the models (fewer than {MIN_SCORED})")
        if self.lead is not None:
            top = int(np.argmax(self.weights))
            for m, (behind, se) in enumerate(self.lead):
                if m != top and behind <= SE_MULTIPLE * se:
                    reasons.append(
                        f"{self.models[top]} leads {self.models[m]} by {behind:.1f} ± {se:.1f} in elpd, "
                        f"within {SE_MULTIPLE:g} standard errors"
                    )
        interval = self.weight_interval()
        if ((interval[:, 1] - interval[:, 0]) > UNCERTAIN).any():
            reasons.append(f"some model's bootstrap 90% interval of its weight is wider than {UNCERTAIN:g}")
        return tuple(reasons)

    @property
    def too_uncertain(self) -> bool:
        """Whether the weights are too uncertain to lean on (:attr:`uncertain_reasons`)."""
        return bool(self.uncertain_reasons)


def stack(
    models: tuple[str, ...],
    lpd: np.ndarray,
    totals: list[np.ndarray],
    *,
    bootstrap: int,
    rng: np.random.Generator,
    scored_on: str = "observations",
) -> Stacking:
    """Stack models from their leave-one-out densities (unit × model) and their total's draws.

    A unit is an observation, or with ``scored_on="sources"`` every observation of one source together
    (leave-one-source-out's joint densities).
    """
    weights = stacking_weights(lpd)
    values, each = stacked_draws(totals, weights)
    low, median, high = weighted_quantiles(values, each, (0.05, 0.5, 0.95))
    K = lpd.shape[0]
    best = int(np.argmax(lpd.sum(axis=0)))
    differences = lpd - lpd[:, [best]]
    return Stacking(
        models=models,
        weights=weights,
        bootstrap=bootstrap_weights(lpd, bootstrap, rng),
        total_median=float(median),
        total_interval=(float(low), float(high)),
        elpd=lpd.sum(axis=0),
        elpd_se=np.sqrt(K * lpd.var(axis=0, ddof=1)) if K > 1 else np.zeros(lpd.shape[1]),
        elpd_diff=differences.sum(axis=0),
        elpd_diff_se=np.sqrt(K * differences.var(axis=0, ddof=1)) if K > 1 else np.zeros(lpd.shape[1]),
        scored_on=scored_on,
        scored=K,
        lead=np.array([_behind(lpd, int(np.argmax(weights)), m) for m in range(lpd.shape[1])]),
    )


def _behind(lpd: np.ndarray, top: int, m: int) -> tuple[float, float]:
    """Model ``m``'s elpd behind model ``top``'s, and the standard error of the difference."""
    difference = lpd[:, top] - lpd[:, m]
    K = len(difference)
    return float(difference.sum()), float(np.sqrt(K * difference.var(ddof=1))) if K > 1 else 0.0
