"""The main fit's adaptive draws: its chains continued in rounds until the gates pass (issue 22).

A dated spec's ``[sampler] draws = "auto"`` asks for them (``max_draws`` caps them; ``--draws N``
or ``draws = N`` fixes the number instead). The fit first draws :data:`FIRST` per chain after the
spec's tuning; then, while a gate fails that more draws can pass (R-hat, bulk or tail ESS, or the
Monte Carlo error of a figure the citation quotes: :func:`~dnamodel.checks.summary.quoted_errors`),
every chain is continued from its last draw (:func:`~dnamodel.inference.dated.continue_chains`,
the refits' extensions' machinery) to the next stopping point. Divergent transitions stop the rounds:
more draws do not remove them.

Deterministic: a round stops only at a point of a fixed schedule, :data:`FIRST` and then multiples of
:data:`STEP` up to the cap; which point comes next is read from the draws alone (what each failing
gate projects it needs, :func:`next_draws`), and every round's seeds from the fit's seed. The same
seed gives the same draws and the same stopping point on any machine, whatever its cores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dnamodel.checks.gates import MAX_DIVERGENCES, MIN_ESS, Diagnostics, diagnose_posterior
from dnamodel.checks.summary import quoted_errors
from dnamodel.inference.dated import Draws, continue_chains, posterior_dataset
from dnamodel.spec.dated import DatedInputs

FIRST = 1_000
"""Draws per chain of the first round (fewer when the cap is lower)."""
STEP = 500
"""Every later round stops at a multiple of this many draws per chain."""
MARGIN = 1.1
"""A round projected from a failing gate draws this much more than the projection: the projection
is itself a Monte Carlo estimate, and a round that falls just short costs a round more."""
ROUND_TUNE = 300
"""Tuning steps of each continued chain before its draws follow its earlier ones. A refit's extension
takes 50 (:data:`~dnamodel.checks.dated.EXTENSION_TUNE`); continuing the default model's fit from
1,000 draws per chain with 50, one chain of four came out with half its step size and three times
the leapfrog steps per draw (254 against 81), and the round took 1.6 times as long as with 300, after
which every chain took about 63 steps per draw, fewer than in the first round (``benchmarks/README.md``)."""


@dataclass(frozen=True)
class Verdict:
    """The gates of one round's draws: what failed, and how many draws per chain each failure projects."""

    draws: int
    failures: tuple[str, ...]
    needed: int
    """Draws per chain the failing gates project they need (``draws`` when none fails)."""
    fixable: bool
    """Whether more draws can pass what failed (not when there are divergent transitions)."""

    @property
    def passed(self) -> bool:
        """Whether every gate holds, the Monte Carlo gate on the quoted figures included."""
        return not self.failures


def verdict(x: np.ndarray, divergences: int, inputs: DatedInputs) -> Verdict:
    """The convergence gates and the citation's Monte Carlo gate on draws ``x`` (chain, draw, ndim).

    The same gates, on the same posterior, as :func:`~dnamodel.checks.summary.summarize_fit` applies to
    the finished fit. Each failing gate projects the draws it needs: an ESS short of
    :data:`~dnamodel.checks.gates.MIN_ESS` by its ratio, a Monte Carlo error above the gate's by its
    ratio squared (both grow or fall in proportion to the draws), an R-hat by doubling the draws.
    The Monte Carlo gate on the quoted figures costs milliseconds, the R-hat of every posterior
    variable about a second: while the first fails (and there are no divergences) the second is not
    computed, since the round cannot stop anyway.
    """
    post = posterior_dataset(x, inputs)
    draws = x.shape[1]
    figures = quoted_errors(post["total"].values)
    noisy = {name: mcse / allowed for name, (mcse, allowed) in figures.items() if not mcse < allowed}
    quoted = tuple(f"MCSE of {name} {ratio:.2f}× the gate's" for name, ratio in noisy.items())
    needed = float(draws)
    if noisy:
        needed = max(needed, draws * max(noisy.values()) ** 2)
        if divergences <= MAX_DIVERGENCES:
            return Verdict(draws, quoted, math.ceil(needed), True)
    diagnostics = diagnose_posterior(post, divergences)
    ess = _smallest_ess(diagnostics)
    if ess < MIN_ESS:
        needed = max(needed, draws * MIN_ESS / max(ess, 1.0))
    if any(f.startswith("R-hat") for f in diagnostics.failures):
        needed = max(needed, 2.0 * draws)
    return Verdict(draws, diagnostics.failures + quoted, math.ceil(needed), diagnostics.divergences <= MAX_DIVERGENCES)


def _smallest_ess(diagnostics: Diagnostics) -> float:
    values = [min(row.ess_bulk, row.ess_tail) for row in diagnostics.rows]
    return min(values, default=math.inf)


def next_draws(current: int, needed: int, cap: int) -> int:
    """The schedule's next stopping point after ``current`` draws per chain, for ``needed``.

    The first multiple of :data:`STEP` past ``current`` and at least ``needed`` × :data:`MARGIN`,
    at most ``cap``.

    Examples
    --------
    >>> next_draws(1000, 1000, 8000), next_draws(1000, 4300, 8000), next_draws(4500, 30000, 8000)
    (1500, 5000, 8000)
    """
    wanted = max(current + 1, math.ceil(needed * MARGIN))
    return min(cap, math.ceil(wanted / STEP) * STEP)


def first_draws(cap: int) -> int:
    """Draws per chain of the first round under a cap of ``cap``.

    Examples
    --------
    >>> first_draws(8000), first_draws(600)
    (1000, 600)
    """
    return min(FIRST, cap)


def _seeds(seed: int, round_: int, chains: int) -> list[int]:
    state = np.random.SeedSequence([seed, 11, round_]).generate_state(chains)
    return [int(s) for s in state]


def draw_until_gated(
    first: Draws, packed: np.ndarray, inputs: DatedInputs, seed: int, *, cap: int, cores: int | None = None
) -> Draws:
    """Continue ``first`` (the fit's first round) in rounds until its gates pass or it reaches ``cap`` per chain.

    ``fit_dated``'s ``adapt``: ``packed`` is the fit's packed vector, ``seed`` the sampler's. Returns
    every round's draws and statistics, chain by chain, the sampling time of all rounds and the draws
    per chain at each round's stop decision (``rounds``).
    """
    x, stats, seconds = first.x, dict(first.stats), first.seconds
    rounds = [x.shape[1]]
    while True:
        seen = verdict(x, int(stats["diverging"].sum()), inputs)
        if seen.passed or not seen.fixable or x.shape[1] >= cap:
            break
        target = next_draws(x.shape[1], seen.needed, cap)
        more = continue_chains(
            packed,
            inputs,
            x,
            stats["step_size"][:, -1],
            draws=target - x.shape[1],
            tune=ROUND_TUNE,
            seeds=_seeds(seed, len(rounds), x.shape[0]),
            cores=cores,
        )
        seconds += more.seconds
        x = np.concatenate((x, more.x), axis=1)
        stats = {name: np.concatenate((stats[name], more.stats[name]), axis=1) for name in stats}
        rounds.append(x.shape[1])
    return Draws(x, stats, seconds, tuple(rounds))
