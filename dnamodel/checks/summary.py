"""From a fit to numbers people can cite: intervals, exceedances, prefectures, the sentence.

:func:`summarize_fit` computes the total's and the share's intervals (equal-tailed and HDI)
with their Monte Carlo standard errors, the probability that the total exceeds each of the
report's estimates (:data:`dnamodel.casestudy.tibet2022.THRESHOLDS`), the prefecture table, and
the citation sentence (:func:`citation`), rounded so that no quoted digit is noise, or the
reason it is withheld.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.casestudy.tibet2022 import REPORT_HIGH, REPORT_HIGH_SHARE, REPORT_LOW, REPORT_LOW_SHARE, THRESHOLDS
from dnamodel.checks.gates import Diagnostics, diagnose
from dnamodel.data import load_data
from dnamodel.inference.sampling import quiet_arviz

if TYPE_CHECKING:
    import arviz as az

PROBABILITIES = (0.5, 0.9, 0.95)
ROUNDING_STEPS = (1_000, 5_000, 10_000, 50_000, 100_000)
"""Counts in the citation sentence are rounded to the finest of these steps that is at least twice
the largest Monte Carlo error of the figures quoted; shares to whole per cent."""


@dataclass(frozen=True)
class Interval:
    """A credible interval of one kind and probability."""

    prob: float
    kind: str  # "equal-tailed" or "HDI"
    low: float
    high: float


@dataclass(frozen=True)
class Quantity:
    """The posterior of a scalar: centre, spread, intervals and Monte Carlo errors."""

    name: str
    median: float
    mean: float
    sd: float
    mcse_mean: float
    mcse_median: float
    intervals: tuple[Interval, ...]

    def interval(self, prob: float, kind: str = "equal-tailed") -> Interval:
        """The interval of this probability and kind."""
        return next(i for i in self.intervals if i.prob == prob and i.kind == kind)


@dataclass(frozen=True)
class Exceedance:
    """P(total > threshold), with its MCSE from the effective sample size of the indicator."""

    threshold: float
    probability: float
    mcse: float


@dataclass(frozen=True)
class PrefectureRow:
    """One prefecture's posterior total."""

    prefecture: str
    name: str
    population: int
    median: float
    low: float
    high: float
    share_median: float


@dataclass(frozen=True)
class Summary:
    """What ``dnamodel estimate`` prints and writes."""

    model: str
    total: Quantity
    share: Quantity
    exceedance: tuple[Exceedance, ...]
    prefectures: tuple[PrefectureRow, ...]
    diagnostics: Diagnostics
    sentence: str | None
    withheld: str | None
    provenance: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["diagnostics"] = self.diagnostics.as_dict()
        out["report"] = {
            "total_low": REPORT_LOW,
            "total_high": REPORT_HIGH,
            "share_low": REPORT_LOW_SHARE,
            "share_high": REPORT_HIGH_SHARE,
        }
        return out


def _quantity(name: str, values: Any) -> Quantity:
    import arviz as az  # deferred: start-up time

    flat = np.asarray(values).ravel()
    intervals = []
    for prob in PROBABILITIES:
        lo, hi = np.quantile(flat, [(1 - prob) / 2, (1 + prob) / 2])
        intervals.append(Interval(prob, "equal-tailed", float(lo), float(hi)))
        h = az.hdi(flat, hdi_prob=prob)
        intervals.append(Interval(prob, "HDI", float(h[0]), float(h[1])))
    return Quantity(
        name=name,
        median=float(np.median(flat)),
        mean=float(flat.mean()),
        sd=float(flat.std(ddof=1)),
        mcse_mean=float(np.ravel(az.mcse(np.asarray(values), method="mean"))[0]),
        mcse_median=float(np.ravel(az.mcse(np.asarray(values), method="median"))[0]),
        intervals=tuple(intervals),
    )


def summarize_fit(idata: az.InferenceData, data: Any = None) -> Summary:
    """Summarise a fit for citation.

    Parameters
    ----------
    idata : arviz.InferenceData
        From :func:`dnamodel.fit` (or read back from its NetCDF).
    data : Dataset, optional
        For prefecture names and populations; defaults to the bundled data.
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    data = data if data is not None else load_data()
    post = idata.posterior
    total = post["total"].values
    diagnostics = diagnose(idata)
    exceed = []
    for threshold in THRESHOLDS:
        indicator = (total > threshold).astype(float)
        p = float(indicator.mean())
        ess = float(az.ess(indicator)) if 0 < p < 1 else float(indicator.size)
        exceed.append(Exceedance(threshold, p, math.sqrt(p * (1 - p) / ess) if ess > 0 else math.nan))
    prefectures = []
    by = post["prefecture_total"]
    for pid in by[dims.PREFECTURE].values:
        values = by.sel({dims.PREFECTURE: pid}).values.ravel()
        area = data.areas[str(pid)]
        lo, med, hi = np.quantile(values, [0.05, 0.5, 0.95])
        prefectures.append(
            PrefectureRow(
                str(pid),
                area.name,
                area.population_2020,
                float(med),
                float(lo),
                float(hi),
                float(med) / area.population_2020,
            )
        )
    summary_total = _quantity("total", total)
    summary_share = _quantity("share", post["share"].values)
    attrs = dict(idata.attrs)
    withheld = None
    mcse = max(summary_total.mcse_median, _interval_mcse(total, 0.9))
    step = next((s for s in ROUNDING_STEPS if s >= 2 * mcse), None)
    if not diagnostics.passed:
        withheld = (
            f"The fit failed its convergence gates ({'; '.join(diagnostics.failures)}), so no figure is fit to cite."
        )
    elif step is None:
        withheld = (
            f"The Monte Carlo error of the quoted figures ({mcse:,.0f}) is too large to round honestly; draw more."
        )
    sentence = None if withheld or step is None else citation(summary_total, summary_share, attrs, step)
    provenance = {
        k: attrs[k]
        for k in (
            "model",
            "spec_hash",
            "data_version",
            "dnamodel_version",
            "seed",
            "sampler",
            "draws",
            "tune",
            "chains",
        )
        if k in attrs
    }
    return Summary(
        model=str(attrs.get("model", "")),
        total=summary_total,
        share=summary_share,
        exceedance=tuple(exceed),
        prefectures=tuple(prefectures),
        diagnostics=diagnostics,
        sentence=sentence,
        withheld=withheld,
        provenance=provenance,
    )


def _interval_mcse(values: np.ndarray, prob: float) -> float:
    import arviz as az  # deferred: start-up time

    return max(float(az.mcse(values, method="quantile", prob=q)) for q in ((1 - prob) / 2, (1 + prob) / 2))


def round_count(value: float, step: int = 10_000) -> int:
    """Round half up to a multiple of ``step``.

    Examples
    --------
    >>> round_count(1_114_999), round_count(1_115_000)
    (1110000, 1120000)
    """
    return int(math.floor(value / step + 0.5) * step)


def citation(total: Quantity, share: Quantity, attrs: dict[str, Any], step: int) -> str:
    """The sentence a report author can quote, with everything a reader needs to check it.

    Counts are rounded to ``step``, which :func:`summarize_fit` chooses from the Monte
    Carlo error so that no quoted digit is noise.
    """
    ci = total.interval(0.9)
    si = share.interval(0.9)
    return (
        f"Police in the Tibet Autonomous Region collected an estimated {round_count(total.median, step):,} DNA samples "
        f"between 2016 and July 2022 (posterior median; 90% equal-tailed credible interval "
        f"{round_count(ci.low, step):,} to {round_count(ci.high, step):,}), or {share.median:.0%} of the population "
        f"({si.low:.0%} to {si.high:.0%}), according to the Bayesian hierarchical model {attrs.get('model')} "
        f"(spec {attrs.get('spec_hash')}) of dnamodel {attrs.get('dnamodel_version')}, "
        f"data {attrs.get('data_version')}, "
        f"seed {attrs.get('seed')}; counts rounded to the nearest {step:,}, shares to whole per cent."
    )
