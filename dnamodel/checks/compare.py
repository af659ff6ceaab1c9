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

    def weight_interval(self, prob: float = 0.9) -> np.ndarray:
        """Each model's equal-tailed bootstrap interval of its weight, shape (model, 2)."""
        return np.quantile(self.bootstrap, [(1 - prob) / 2, (1 + prob) / 2], axis=0).T

    @property
    def too_uncertain(self) -> bool:
        """Whether some weight's bootstrap 90% interval is wider than :data:`UNCERTAIN`."""
        interval = self.weight_interval()
        return bool(((interval[:, 1] - interval[:, 0]) > UNCERTAIN).any())


def stack(
    models: tuple[str, ...],
    lpd: np.ndarray,
    totals: list[np.ndarray],
    *,
    bootstrap: int,
    rng: np.random.Generator,
) -> Stacking:
    """Stack models from their leave-one-out densities (observation × model) and their total's draws."""
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
    )
