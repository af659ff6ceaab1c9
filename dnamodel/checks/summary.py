"""From a fit to numbers people can cite: intervals, exceedances, groups, the sentence.

:func:`summarize_fit` computes the total's and the share's intervals (equal-tailed and HDI)
with their Monte Carlo standard errors, the probability that the total exceeds each figure the
study sets it against (``study.toml``'s ``[comparisons]``), the table by group, and
the citation sentence (:func:`citation`, in the study's words), rounded so that no quoted digit
is noise, or the reason it is withheld.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.checks.gates import Diagnostics, diagnose
from dnamodel.checks.rebuild import data_of_fit
from dnamodel.data.study import Study, month_year
from dnamodel.inference.sampling import quiet_arviz

if TYPE_CHECKING:
    import arviz as az

PROBABILITIES = (0.5, 0.9, 0.95)
SIGNIFICANT = 2
"""The citation quotes counts and shares to two significant figures, whatever the number of draws."""
MCSE_GATE = 0.5
"""The sentence is withheld unless the Monte Carlo error of every quoted figure is below this
fraction of its rounding step: the last quoted digit is then more than twice the Monte Carlo error
(a rerun moves a figure by at most one step in that digit, about 19 times in 20)."""
ROUNDING_STEPS = (1_000, 5_000, 10_000, 50_000, 100_000)
"""Steps the notebooks offer for rounding a Monte Carlo estimate by its error (not the citation's rule)."""


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
        """The interval of this probability and kind.

        Raises
        ------
        ValueError
            For a probability or kind the summary has none of, naming those it has.
        """
        found = next((i for i in self.intervals if i.prob == prob and i.kind == kind), None)
        if found is None:
            probs = ", ".join(str(p) for p in dict.fromkeys(i.prob for i in self.intervals))
            kinds = ", ".join(repr(k) for k in dict.fromkeys(i.kind for i in self.intervals))
            raise ValueError(f"no {kind!r} interval of probability {prob!r}: the summary has {probs}, of kinds {kinds}")
        return found


@dataclass(frozen=True)
class Exceedance:
    """P(total > threshold), with its MCSE from the effective sample size of the indicator.

    ``label``, ``share`` and ``note`` are the comparison figure's, from the study.
    """

    threshold: float
    probability: float
    mcse: float
    label: str = ""
    share: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class GroupRow:
    """One group's posterior total (a group of units: what the study calls a prefecture, a district)."""

    group: str
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
    groups: tuple[GroupRow, ...]
    diagnostics: Diagnostics
    sentence: str | None
    withheld: str | None
    provenance: dict[str, Any] = field(default_factory=dict)
    advice: str | None = None
    """What to do when the sentence is withheld: how many draws would pass the Monte Carlo gate, or the
    spec key and the model card's section for divergent transitions; ``None`` when it is not withheld."""
    study: Study | None = field(default=None, repr=False, compare=False)
    """The study's words and comparison figures, for the outputs drawn from this summary."""

    @property
    def cited(self) -> bool:
        """Whether every gate holds, the Monte Carlo gate on the quoted figures included: the sentence is given."""
        return self.sentence is not None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the comparison figures are ``exceedance``'s labelled rows."""
        out = asdict(self)
        out.pop("study")
        out["diagnostics"] = self.diagnostics.as_dict()
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


def summarize_fit(idata: az.InferenceData, data: Any = None, *, sampling_section: str | None = None) -> Summary:
    """Summarise a fit for citation.

    Parameters
    ----------
    idata : arviz.InferenceData
        From :func:`dnamodel.fit` (or read back from its NetCDF).
    data : Dataset, optional
        The data the fit was made from, for the groups' names and populations and the study's
        words and comparison figures; read again from the location the fit records by default.
    sampling_section : str, optional
        The model card's section on sampling the fit's kind of model (its family's), which the advice on
        divergent transitions cites.

    Returns
    -------
    Summary
        The total's and the share's posterior (median, mean, sd, equal-tailed and HDI intervals,
        MCSE), P(total > each comparison figure), each group's total, the gates, and the sentence
        to cite or the reason it is withheld.

    Raises
    ------
    UsageError
        If ``data`` (or the data found at the recorded location) is not the fit's data version.

    Examples
    --------
    The shipped example at reduced draws, too few for the gates, so no sentence to cite:

    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> summary = summarize_fit(idata)
    >>> interval = summary.total.interval(0.9)
    >>> bool(interval.low < summary.total.median < interval.high), summary.sentence, summary.withheld is not None
    (True, None, True)
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    data = data_of_fit(idata, data)
    study = data.study
    post = idata.posterior
    total = post["total"].values
    diagnostics = diagnose(idata)
    exceed = []
    for figure in study.figures:
        indicator = (total > figure.total).astype(float)
        p = float(indicator.mean())
        ess = float(az.ess(indicator)) if 0 < p < 1 else float(indicator.size)
        mcse = math.sqrt(p * (1 - p) / ess) if ess > 0 else math.nan
        exceed.append(Exceedance(figure.total, p, mcse, figure.label, figure.share, figure.note))
    groups = []
    by = post["group_total"]
    for pid in by[dims.GROUP].values:
        values = by.sel({dims.GROUP: pid}).values.ravel()
        area = data.areas[str(pid)]
        lo, med, hi = np.quantile(values, [0.05, 0.5, 0.95])
        groups.append(
            GroupRow(
                str(pid),
                area.name,
                area.population,
                float(med),
                float(lo),
                float(hi),
                float(med) / area.population,
            )
        )
    summary_total = _quantity("total", total)
    summary_share = _quantity("share", post["share"].values)
    attrs = dict(idata.attrs)
    withheld = advice = None
    noisy = _noisy_figures(summary_total, total)
    if not diagnostics.passed:
        withheld = (
            f"The fit failed its convergence gates ({'; '.join(diagnostics.failures)}), so no figure is fit to cite."
        )
        advice = gate_advice(diagnostics, attrs, sampling_section)
    elif noisy:
        withheld = (
            f"The Monte Carlo error of {', '.join(noisy)} is not below {MCSE_GATE:.0%} of its rounding step, so the "
            "rounded figure could change on a rerun."
        )
        advice = _draws_advice(max(noisy.values()), diagnostics.draws)
    sentence = None if withheld else citation(summary_total, summary_share, attrs, study)
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
            "estimand_date",
        )
        if k in attrs
    }
    if "draws" in provenance:
        provenance |= draw_rounds(attrs)
    return Summary(
        model=str(attrs.get("model", "")),
        total=summary_total,
        share=summary_share,
        exceedance=tuple(exceed),
        groups=tuple(groups),
        diagnostics=diagnostics,
        sentence=sentence,
        withheld=withheld,
        provenance=provenance,
        study=study,
        advice=advice,
    )


def draw_rounds(attrs: dict[str, Any]) -> dict[str, Any]:
    """How a fit's draws were reached, from its ``attrs``: ``draw_rounds`` and ``draws_adaptive``.

    ``draw_rounds`` lists the draws per chain at each stop decision of the main fit's adaptive
    rounds (:mod:`dnamodel.checks.adaptive`), the last its ``draws``; a fit of a fixed number of
    draws has one round.

    Examples
    --------
    >>> draw_rounds({"draws": 5500, "draw_rounds_json": "[1000, 5500]"})
    {'draw_rounds': [1000, 5500], 'draws_adaptive': True}
    >>> draw_rounds({"draws": 6000})
    {'draw_rounds': [6000], 'draws_adaptive': False}
    """
    import json

    if "draw_rounds_json" in attrs:
        return {"draw_rounds": [int(n) for n in json.loads(str(attrs["draw_rounds_json"]))], "draws_adaptive": True}
    return {"draw_rounds": [int(attrs["draws"])], "draws_adaptive": False}


def _interval_mcse(values: np.ndarray, prob: float) -> float:
    import arviz as az  # deferred: start-up time

    return max(float(az.mcse(values, method="quantile", prob=q)) for q in ((1 - prob) / 2, (1 + prob) / 2))


def _noisy_figures(total: Quantity, draws: np.ndarray) -> dict[str, float]:
    """The quoted figures whose Monte Carlo error is too large for their rounding (the MCSE gate).

    Each with the ratio of its Monte Carlo error to the most the gate allows (above 1).
    """
    interval = total.interval(0.9)
    figures = quoted_errors(draws, (total.median, interval.low, interval.high), total.mcse_median)
    return {name: mcse / allowed for name, (mcse, allowed) in figures.items() if not mcse < allowed}


def quoted_errors(
    draws: np.ndarray, values: tuple[float, float, float] | None = None, mcse_median: float | None = None
) -> dict[str, tuple[float, float]]:
    """Each figure the citation quotes of the total's ``draws`` (chain, draw): its MCSE and the gate's most.

    The most the gate allows is :data:`MCSE_GATE` times the figure's rounding step. The figures are
    the median, the 5% and the 95% quantile, as :func:`summarize_fit` computes them (``values`` and
    ``mcse_median`` when it has them). The main fit's adaptive rounds stop on it
    (:mod:`dnamodel.checks.adaptive`), so that a fit they stop is one whose sentence is not withheld.
    """
    import arviz as az  # deferred: start-up time

    flat = np.asarray(draws).ravel()
    if values is None:
        low, high = np.quantile(flat, [0.05, 0.95])
        values = (float(np.median(flat)), float(low), float(high))
    if mcse_median is None:
        mcse_median = float(np.ravel(az.mcse(np.asarray(draws), method="median"))[0])
    errors = (
        mcse_median,
        float(az.mcse(draws, method="quantile", prob=0.05)),
        float(az.mcse(draws, method="quantile", prob=0.95)),
    )
    names = ("the median", "the 5% quantile", "the 95% quantile")
    return {
        name: (mcse, MCSE_GATE * significant_step(value))
        for name, value, mcse in zip(names, values, errors, strict=True)
    }


def draws_to_pass(ratio: float, draws: int) -> int:
    """About how many draws per chain would bring a Monte Carlo error ``ratio`` times the gate's below it.

    The error falls as one over the square root of the effective sample size, which grows in proportion
    to the draws: ``draws × ratio²``, with a fifth more for the error's own noise, rounded up to 500.

    Examples
    --------
    >>> draws_to_pass(1.3, 1000)  # an error 1.3 times the gate's at 1,000 draws per chain
    2500
    """
    needed = draws * ratio**2 * 1.2
    return int(math.ceil(needed / 500) * 500)


def _draws_advice(ratio: float, draws: int) -> str:
    return (
        f"Draw more: about {draws_to_pass(ratio, draws):,} draws per chain (--draws, or the spec's [sampler] draws; "
        f"now {draws:,}) would bring it below, since the Monte Carlo error falls as one over the square root of "
        "the draws."
    )


def gate_advice(diagnostics: Diagnostics, attrs: dict[str, Any], sampling_section: str | None = None) -> str:
    """What to do about the convergence gates a fit failed, in one sentence per kind of failure.

    Divergent transitions: raise the spec's ``[sampler] target_accept`` (and where the model card says
    why its model is parameterised as it is); an R-hat or an ESS: more draws, or more tuning.

    Examples
    --------
    >>> from dnamodel.checks.gates import Diagnostics
    >>> d = Diagnostics(3, 1000, 4, 1.0, "alpha", 900.0, 900.0, (), ("3 divergent transitions (gate: 0)",))
    >>> advice = gate_advice(d, {"target_accept": 0.9}, "5.9")
    >>> "[sampler] target_accept from 0.9" in advice, "model card 5.9" in advice
    (True, True)
    """
    parts = []
    if diagnostics.divergences:
        accept = attrs.get("target_accept")
        now = f" from {accept}" if accept is not None else ""
        card = f"; model card {sampling_section} says why this model needs it" if sampling_section else ""
        parts.append(
            f"Divergent transitions: raise the spec's [sampler] target_accept{now} (to 0.95 or 0.99{card}), or "
            "look at the rank and pair plots for where the sampler struggles."
        )
    if any(failure.startswith(("R-hat", "ESS")) for failure in diagnostics.failures):
        parts.append(
            f"R-hat or ESS: draw more (--draws, or the spec's [sampler] draws; now {diagnostics.draws:,} per chain) "
            "or tune longer (--tune)."
        )
    return " ".join(parts)


def significant_step(value: float, digits: int = SIGNIFICANT) -> float:
    """The rounding step of ``value`` at ``digits`` significant figures.

    Examples
    --------
    >>> significant_step(1_150_000), significant_step(857_000), significant_step(0.306)
    (100000.0, 10000.0, 0.01)
    """
    if value == 0 or not math.isfinite(value):
        return 1.0
    return 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)


def round_significant(value: float, digits: int = SIGNIFICANT) -> float:
    """Round half up to ``digits`` significant figures.

    Examples
    --------
    >>> round_significant(1_150_000), round_significant(857_400), round_significant(0.3061)
    (1200000.0, 860000.0, 0.31)
    """
    step = significant_step(value, digits)
    return round(math.floor(value / step + 0.5) * step, 12)


def round_count(value: float, step: int = 10_000) -> int:
    """Round half up to a multiple of ``step``.

    Examples
    --------
    >>> round_count(1_114_999), round_count(1_115_000)
    (1110000, 1120000)
    """
    return int(math.floor(value / step + 0.5) * step)


def citation(total: Quantity, share: Quantity, attrs: dict[str, Any], study: Study) -> str:
    """The sentence a report author can quote, with everything a reader needs to check it.

    Worded from the study (``study.toml``): its ``claim``, ``persons`` and ``counting_note``, and
    the date of the estimand (a dated fit's) or the study's end. Counts and shares are rounded to
    two significant figures (:func:`round_significant`); the Monte Carlo error is a gate on the
    sentence (:func:`summarize_fit`), not its rounding step.
    """
    words = study.words
    ci = total.interval(0.9)
    si = share.interval(0.9)
    date = attrs.get("estimand_date") or words.end
    when = f" by {month_year(str(date))}" if date else ""
    note = f"; {words.counting_note}" if words.counting_note else ""
    count = lambda v: f"{round_significant(v):,.0f}"  # noqa: E731 - one format, used five times
    percent = lambda v: f"{round_significant(v * 100):g}%"  # noqa: E731
    return (
        f"Under the Bayesian model {attrs.get('model')} (spec {attrs.get('spec_hash')}) of dnamodel "
        f"{attrs.get('dnamodel_version')}, {words.claim} an estimated {count(total.median)} {words.persons}{when} "
        f"(posterior median; 90% equal-tailed credible interval {count(ci.low)} to {count(ci.high)}), or "
        f"{percent(share.median)} of the population ({percent(si.low)} to {percent(si.high)}){note}. "
        f"Data {attrs.get('data_version')}, seed {attrs.get('seed')}; figures rounded to two significant figures."
    )
