"""The convergence gates a fit must pass before any figure of it is cited.

:func:`diagnose` (or :func:`diagnose_posterior`, from a posterior alone) checks zero divergences,
R-hat ≤ :data:`MAX_RHAT` on every posterior variable (element by element), and bulk and tail ESS ≥
:data:`MIN_ESS` on every gated scalar (:data:`GATED`), and returns a :class:`Diagnostics` that says
which gate failed and by how much.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.inference.sampling import quiet_arviz

if TYPE_CHECKING:
    import arviz as az

MAX_DIVERGENCES = 0
MAX_RHAT = 1.01
MIN_ESS = 400
GATED = (
    "alpha",
    "beta",
    "sigma",
    "log_uplift",
    "tau",
    "row_centre",
    "contrast",
    "group_sd",
    "unit_sd",
    "reported",
    "typed_share",
    "baseline_per_resident",
    "total",
    "share",
)
"""The scalars the gates apply to, when the model has them."""


@dataclass(frozen=True)
class GateRow:
    """One gated quantity's diagnostics."""

    name: str
    rhat: float
    ess_bulk: float
    ess_tail: float
    passed: bool


@dataclass(frozen=True)
class Diagnostics:
    """The gates of a fit: zero divergences, R-hat ≤ 1.01, bulk and tail ESS ≥ 400.

    R-hat is checked on every posterior variable, element by element; ESS on every
    scalar parameter and on ``total``.
    """

    divergences: int
    draws: int
    chains: int
    max_rhat: float
    max_rhat_variable: str
    min_ess_bulk: float
    min_ess_tail: float
    rows: tuple[GateRow, ...]
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether every gate holds."""
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["passed"] = self.passed
        return out


def diagnose(idata: az.InferenceData) -> Diagnostics:
    """Apply the gates to a fit.

    Examples
    --------
    A fit whose chains disagree fails the R-hat gate:

    >>> import arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bad = az.from_dict(posterior={"total": rng.normal(size=(4, 500)) + np.arange(4)[:, None]},
    ...                    sample_stats={"diverging": np.zeros((4, 500), bool)})
    >>> d = diagnose(bad)
    >>> d.passed, d.failures[0].startswith("R-hat")
    (False, True)
    """
    return diagnose_posterior(idata.posterior, int(idata.sample_stats["diverging"].sum()))


def diagnose_posterior(post: Any, divergences: int) -> Diagnostics:
    """:func:`diagnose` on a posterior ``xarray.Dataset`` over (chain, draw, ...) and a divergence count.

    A sweep's point (:mod:`dnamodel.workflows.sweep`) passes only the variables it summarises and
    the free parameters, without building an ``InferenceData``.
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    rhat = az.rhat(post)
    worst_name, worst = "", 0.0
    for name in rhat.data_vars:
        value = float(np.nanmax(rhat[name].values)) if rhat[name].size else 1.0
        if value > worst:
            worst_name, worst = name, value
    gated = [name for name in GATED if name in post and post[name].ndim == 2]
    bulk = az.ess(post[gated], method="bulk")
    tail = az.ess(post[gated], method="tail")
    rows, failures = [], []
    if divergences > MAX_DIVERGENCES:
        failures.append(f"{divergences} divergent transitions (gate: {MAX_DIVERGENCES})")
    if worst > MAX_RHAT:
        failures.append(f"R-hat {worst:.3f} for {worst_name} (gate: ≤ {MAX_RHAT})")
    for name in gated:
        r, b, t = float(rhat[name]), float(bulk[name]), float(tail[name])
        ok = r <= MAX_RHAT and b >= MIN_ESS and t >= MIN_ESS
        rows.append(GateRow(name, r, b, t, ok))
        if b < MIN_ESS or t < MIN_ESS:
            failures.append(f"ESS {min(b, t):.0f} for {name} (gate: ≥ {MIN_ESS} bulk and tail)")
    return Diagnostics(
        divergences=divergences,
        draws=int(post.sizes[dims.DRAW]),
        chains=int(post.sizes[dims.CHAIN]),
        max_rhat=worst,
        max_rhat_variable=worst_name,
        min_ess_bulk=min((r.ess_bulk for r in rows), default=math.nan),
        min_ess_tail=min((r.ess_tail for r in rows), default=math.nan),
        rows=tuple(rows),
        failures=tuple(failures),
    )
