"""What decides a number, said beside it: the decisive assumptions, the robust range, κ, and how much the data say.

The citation sentence's interval is the model's, given its assumptions. Some of those no datum
tests; :mod:`dnamodel.workflows.assumptions` refits the model at each alternative the model itself
declares (its sweeps) or its structure admits, and this module judges the refits:

- a candidate is **decisive** when it moves the median or an end of the 90% interval by more than
  :data:`DECISIVE` (10%) against the default refitted at the same settings (common random numbers:
  the difference is the assumption's, not the draws');
- the **robust range** is the envelope of the 90% intervals of the fit and the decisive candidates;
- :func:`decisive_sentence` says both in words a reader who is not a statistician understands;
- :func:`prior_widths` sets each quantity's posterior 90% width against its prior's (the fit's own
  prior draws): a row above :data:`MOSTLY_PRIOR` is one the data barely narrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnamodel.checks.summary import round_significant

DECISIVE = 0.10
"""A candidate that moves the median or an end of the 90% interval by more than this share is decisive."""
STRUCTURAL = "structural"
"""The name of a candidate that is not a sweep's setting but an alternative the spec's schema admits."""
MOSTLY_PRIOR = 0.70
"""A posterior 90% width above this share of the prior's marks a row "mostly prior"."""


def _count(value: float) -> str:

    return f"{round_significant(value):,.0f}"


def _percent(change: float) -> str:
    return f"{change * 100:+.0f}%"


@dataclass(frozen=True)
class Outcome:
    """One candidate assumption refitted: its total, and how far it moves the default's."""

    name: str
    """Where the candidate comes from: a sweep's name, or ``structural``."""
    setting: str
    """The spec path and value, as a sweep writes it: ``databases.typed_share.alpha = 4.0``."""
    words: str
    """What it means, as a clause after "If": ``fewer of the samples had reached the database``."""
    median: float
    low: float
    high: float
    change_median: float
    change_low: float
    change_high: float
    passed: bool
    """Whether the refit passed its convergence gates."""
    gates: dict[str, Any] = field(default_factory=dict)
    """How the refit was made and what its gates measured (:func:`refit_gates`): ``start``, ``tune``,
    ``draws``, ``extensions``, ``max_rhat``, ``min_ess``, ``divergences``."""

    @property
    def largest(self) -> float:
        """The largest of the three relative changes, in absolute value."""
        return max(abs(self.change_median), abs(self.change_low), abs(self.change_high))

    @property
    def decisive(self) -> bool:
        """It moves the median or an end of the 90% interval by more than :data:`DECISIVE`."""
        return self.largest > DECISIVE

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "setting": self.setting,
            "words": self.words,
            "median": self.median,
            "interval_90": [self.low, self.high],
            "change": {"median": self.change_median, "low": self.change_low, "high": self.change_high},
            "passed": self.passed,
            "gates": self.gates or None,
        }


@dataclass(frozen=True)
class FixedRow:
    """The total with one parameter held at a value (the κ table's row)."""

    value: float
    median: float
    low: float
    high: float
    passed: bool
    gates: dict[str, Any] = field(default_factory=dict)
    """As :attr:`Outcome.gates`."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "value": self.value,
            "median": self.median,
            "interval_90": [self.low, self.high],
            "passed": self.passed,
            "gates": self.gates or None,
        }


@dataclass(frozen=True)
class Assumptions:
    """The refits of the assumptions no datum tests, or what was not computed and the command that computes it."""

    default: dict[str, float] = field(default_factory=dict)
    """The default spec refitted at the same settings: ``median``, ``low``, ``high``, ``passed``."""
    outcomes: tuple[Outcome, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    """Candidates not tried, each with the reason."""
    fixed_parameter: str | None = None
    """The parameter of the table of the total by its value (``typed_share``), or None (no database)."""
    fixed: tuple[FixedRow, ...] = ()
    draws: int = 0
    tune: int = 0
    chains: int = 0
    cached: int = 0
    """How many of the refits were read from the cache."""
    seconds: float = 0.0
    not_computed: str | None = None
    """What was not computed, when the refits were not run (``--assumptions cached`` and no cache)."""
    command: str | None = None
    """The command that computes them."""

    @property
    def computed(self) -> bool:
        """Whether the refits are here."""
        return self.not_computed is None

    @property
    def decisive(self) -> list[Outcome]:
        """The decisive candidates, largest change first."""
        return sorted((o for o in self.outcomes if o.decisive), key=lambda o: -o.largest)

    def robust_range(self, low: float, high: float) -> tuple[float, float]:
        """The envelope of the 90% interval ``low``–``high`` (the fit's) and the decisive candidates'."""
        found = self.decisive
        return min([low, *(o.low for o in found)]), max([high, *(o.high for o in found)])

    def as_dict(self, low: float, high: float) -> dict[str, Any]:
        """A JSON-ready dict: ``decisive_assumptions``, ``robust_range``, the κ table and how they were computed."""
        robust = list(self.robust_range(low, high)) if self.computed else None
        return {
            "decisive_assumptions": [o.as_dict() for o in self.decisive] if self.computed else None,
            "robust_range": robust,
            "assumptions": {
                "computed": self.computed,
                "not_computed": self.not_computed,
                "command": self.command,
                "candidates": [o.as_dict() | {"decisive": o.decisive} for o in self.outcomes],
                "skipped": [{"name": n, "reason": r} for n, r in self.skipped],
                "default": self.default or None,
                "threshold": DECISIVE,
                "draws": self.draws,
                "tune": self.tune,
                "chains": self.chains,
                "cached": self.cached,
                "seconds": self.seconds,
            },
            "total_by_fixed": (
                None
                if self.fixed_parameter is None or not self.computed
                else {"parameter": self.fixed_parameter, "rows": [r.as_dict() for r in self.fixed]}
            ),
        }


GATE_KEYS = ("start", "tune", "draws", "extensions", "max_rhat", "min_ess", "divergences", "pareto_k", "importance_ess")
"""What a refit's :attr:`Outcome.gates` hold, read from its sweep point."""


def refit_gates(point: dict[str, Any]) -> dict[str, Any]:
    """A refit's gates and how it was made, from its sweep point (:data:`GATE_KEYS` it has)."""
    return {key: point[key] for key in GATE_KEYS if key in point}


def outcome(
    name: str,
    setting: str,
    words: str,
    total: dict[str, float],
    passed: bool,
    default: dict[str, float],
    gates: dict[str, Any] | None = None,
) -> Outcome:
    """A candidate's refit (a sweep point's ``total``) against the default's at the same settings."""

    def change(key: str, base: str) -> float:
        return total[key] / default[base] - 1 if default[base] else math.nan

    return Outcome(
        name,
        setting,
        words,
        total["median"],
        total["q05"],
        total["q95"],
        change("median", "median"),
        change("q05", "low"),
        change("q95", "high"),
        passed,
        gates or {},
    )


def decisive_sentence(assumptions: Assumptions, low: float, high: float, persons: str) -> str:
    """The second sentence: what decides the figure, each with its effect, and the robust range.

    ``low`` and ``high`` are the cited 90% interval; ``persons`` the study's noun for what is counted.
    """
    if not assumptions.computed:
        return f"Not computed: {assumptions.not_computed}. Run `{assumptions.command}` to compute it."
    tried = len(assumptions.outcomes)
    unconverged = [o for o in assumptions.outcomes if not o.passed]
    # refits made with their gates kept (warm-started or cold, each at its own draws) say where those are
    at = (
        " (each refit's draws and gates are in `--json`)"
        if any(o.gates for o in unconverged)
        else f" at {assumptions.chains} × {assumptions.draws:,} draws"
    )
    caveat = (
        f" {len(unconverged)} of the {tried} refits did not pass the convergence gates{at}: read their figures "
        "as indicative."
        if unconverged
        else ""
    )
    found = assumptions.decisive
    if not found:
        return (
            f"No assumption the model declares or its structure admits ({tried} tried) moves the median "
            f"or an end of the 90% interval by more than {DECISIVE:.0%}: the interval stands as it is.{caveat}"
        )
    clauses = [_clause(group, persons) for group in _by_sweep(found)]
    lo, hi = assumptions.robust_range(low, high)
    first = clauses[0][0].upper() + clauses[0][1:]
    listed = "; ".join([first, *clauses[1:]])
    return (
        f"This figure rests on assumptions no datum tests. {listed}. Across these and the default, the 90% "
        f"intervals run from {_count(lo)} to {_count(hi)} (the robust range).{caveat}"
    )


def _by_sweep(found: list[Outcome]) -> list[list[Outcome]]:
    """The decisive candidates in groups, largest change first: one sweep's settings together.

    A sweep's settings are values of one assumption (a typed share held at 0.5, 0.6, ...): the
    sentence gives their span in one clause rather than one clause each. Each structural
    alternative is a group of its own.
    """
    groups: dict[str, list[Outcome]] = {}
    for i, o in enumerate(found):
        groups.setdefault(f"structural {i}" if o.name == STRUCTURAL else o.name, []).append(o)
    return list(groups.values())


def _clause(group: list[Outcome], persons: str) -> str:
    """One clause of the sentence: a candidate and its effect, or one sweep's decisive settings' span."""
    if len(group) == 1:
        o = group[0]
        return (
            f"if {o.words}, the median would be {_count(o.median)} {persons} (90%: {_count(o.low)} to "
            f"{_count(o.high)}; {_moved(o)})"
        )
    lowest = min(group, key=lambda o: o.median)
    highest = max(group, key=lambda o: o.median)
    return (
        f"the median would run from {_count(lowest.median)} {persons} if {lowest.words}, to "
        f"{_count(highest.median)} if {highest.words} (90% intervals from {_count(min(o.low for o in group))} "
        f"to {_count(max(o.high for o in group))}; {len(group)} decisive settings of one sweep, each in `--json`)"
    )


def _moved(o: Outcome) -> str:
    """Which figure the candidate moves most, and by how much."""
    parts = [("median", o.change_median), ("low end", o.change_low), ("high end", o.change_high)]
    shown = [f"{label} {_percent(c)}" for label, c in parts if abs(c) > DECISIVE]
    return ", ".join(shown)


# --- how much the data say ------------------------------------------------------------------------


@dataclass(frozen=True)
class Width:
    """A quantity's posterior 90% width against its prior's."""

    quantity: str
    prior_width: float
    posterior_width: float

    @property
    def ratio(self) -> float:
        """Posterior width ÷ prior width."""
        return self.posterior_width / self.prior_width if self.prior_width > 0 else math.nan

    @property
    def mostly_prior(self) -> bool:
        """The posterior is more than :data:`MOSTLY_PRIOR` of the prior's width: the data barely narrow it."""
        return bool(self.ratio > MOSTLY_PRIOR)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "quantity": self.quantity,
            "prior_width": self.prior_width,
            "posterior_width": self.posterior_width,
            "ratio": self.ratio,
            "mostly_prior": self.mostly_prior,
        }


def _width(values: Any) -> float:
    lo, hi = np.quantile(np.asarray(values, dtype=float).ravel(), [0.05, 0.95])
    return float(hi - lo)


def prior_widths(idata: Any, group_dim: str, scalars: Sequence[str]) -> list[Width]:
    """The total, each of ``scalars`` and each group's total: posterior 90% width against the prior's.

    Both from the fit: its posterior and its prior draws (``idata.prior``); a quantity the prior group
    lacks is left out. Groups are ``group_total`` over ``group_dim``, named ``total: GROUP``.
    """
    post, prior = idata.posterior, getattr(idata, "prior", None)
    if prior is None:
        return []
    rows = []
    for name in ("total", *scalars):
        if name in post and name in prior and post[name].ndim == 2:
            rows.append(Width(name, _width(prior[name].values), _width(post[name].values)))
    if "group_total" in post and "group_total" in prior:
        for group in post["group_total"][group_dim].values:
            where = {group_dim: group}
            rows.append(
                Width(
                    f"total: {group}",
                    _width(prior["group_total"].sel(where).values),
                    _width(post["group_total"].sel(where).values),
                )
            )
    return rows


def data_sentence(widths: Sequence[Width], power_scaling: Any = None) -> str | None:
    """A sentence when the total is mostly prior by width, or "strong prior / weak likelihood" by power-scaling."""
    total = next((w for w in widths if w.quantity == "total"), None)
    by_width = total is not None and total.mostly_prior
    by_scaling = False
    if power_scaling is not None:
        row = next((r for r in power_scaling.rows if r.quantity == "total"), None)
        by_scaling = row is not None and "weak likelihood" in str(row.diagnosis)
    if not (by_width or by_scaling):
        return None
    reasons = []
    if total is not None and by_width:
        reasons.append(
            f"its 90% interval is {total.ratio:.0%} as wide as the model's assumptions alone make it, so the data "
            "narrow it little"
        )
    if by_scaling:
        reasons.append(
            "it moves when the priors are made stronger or weaker, and little when the data are (power-scaling: "
            "strong prior / weak likelihood)"
        )
    return "The data say little about this total: " + "; ".join(reasons) + "."
