"""From a fitted hierarchical model to numbers people can cite.

:func:`diagnose` applies the convergence gates; :func:`summarize_fit` computes the
total's intervals (equal-tailed and HDI), exceedance probabilities with their Monte
Carlo standard errors, the prefecture table and the citation sentence;
:func:`predictive_checks` and :func:`leave_one_out` set every observation against its
predictive distribution; :func:`prior_check` shows what the priors alone say about the
total. :func:`write_outputs` writes the NetCDF, CSV and figures atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.casestudy.tibet2022 import REPORT_HIGH, REPORT_HIGH_SHARE, REPORT_LOW, REPORT_LOW_SHARE, THRESHOLDS
from dnamodel.files import atomic_write_text
from dnamodel.inference.model import thesis_log_factor
from dnamodel.inference.sampling import GATED, MAX_DIVERGENCES, MAX_RHAT, MIN_ESS, quiet_arviz

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.inference.sampling import Fitted

PROBABILITIES = (0.5, 0.9, 0.95)
ROUNDING_STEPS = (1_000, 5_000, 10_000, 50_000, 100_000)
"""Counts in the citation sentence are rounded to the finest of these steps that is at least twice
the largest Monte Carlo error of the figures quoted; shares to whole per cent."""
LOO_DRAWS = 1000
"""Draws per chain of each leave-one-out refit (at most the main fit's)."""
LOO_ERROR = 1e3
"""The log-scale reporting error that makes an observation uninformative in a refit."""


# --- diagnostics -------------------------------------------------------------------------------


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
    import arviz as az

    quiet_arviz()
    post = idata.posterior
    divergences = int(idata.sample_stats["diverging"].sum())
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


# --- the summary -------------------------------------------------------------------------------


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
    import arviz as az

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
    import arviz as az

    from dnamodel.data import load_data

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
    import arviz as az

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


# --- predictive checks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One observation against a predictive distribution."""

    observation: str
    observed: float
    median: float
    low: float
    high: float
    pit: float
    total_median: float | None = None

    @property
    def inside(self) -> bool:
        """Whether the observation falls inside the 90% predictive interval."""
        return self.low <= self.observed <= self.high


def _check(name: str, observed: float, draws: np.ndarray, total_median: float | None = None) -> Check:
    lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
    return Check(name, observed, float(med), float(lo), float(hi), float((draws <= observed).mean()), total_median)


def predictive_checks(idata: az.InferenceData) -> list[Check]:
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


def leave_one_out(fitted: Fitted, *, draws: int, tune: int, chains: int, seed: int) -> list[Check]:
    """Refit without each observation and place it in its predictive distribution.

    An observation is left out by making its reporting error huge (``LOO_ERROR`` on the
    log scale), which flattens its likelihood without recompiling the model. Its
    predictive distribution is then the refit's expected count times a reporting error
    of the observation's own scale.
    """
    from dnamodel.inference.sampling import sample

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
        checks.append(_check(name, float(inputs.observed[k]), predictive, total))
    return checks


# --- the prior -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorCheck:
    """What the prior alone says about the total: quantiles without and with the thesis bound."""

    quantiles: tuple[float, ...]
    forward: tuple[float, ...]
    constrained: tuple[float, ...]
    population: float

    @property
    def plausible(self) -> bool:
        """Whether the prior's 1–99% range spans a few thousand to the whole population, no more."""
        return self.forward[0] >= 1_000 and self.forward[-1] <= 1.5 * self.population


def prior_check(idata: az.InferenceData, inputs: Any) -> PriorCheck:
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


# --- outputs -------------------------------------------------------------------------------------


def summary_csv(summary: Summary) -> str:
    """The summary as a long CSV: one row per quantity, statistic and interval."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["quantity", "statistic", "kind", "probability", "value"])
    for q in (summary.total, summary.share):
        for stat in ("median", "mean", "sd", "mcse_mean", "mcse_median"):
            writer.writerow([q.name, stat, "", "", repr(getattr(q, stat))])
        for i in q.intervals:
            writer.writerow([q.name, "low", i.kind, i.prob, repr(i.low)])
            writer.writerow([q.name, "high", i.kind, i.prob, repr(i.high)])
    for e in summary.exceedance:
        writer.writerow(["total", f"P(total > {e.threshold:.0f})", "", "", repr(e.probability)])
        writer.writerow(["total", f"mcse P(total > {e.threshold:.0f})", "", "", repr(e.mcse)])
    for p in summary.prefectures:
        writer.writerow([f"prefecture_total[{p.prefecture}]", "median", "", "", repr(p.median)])
        writer.writerow([f"prefecture_total[{p.prefecture}]", "low", "equal-tailed", 0.9, repr(p.low)])
        writer.writerow([f"prefecture_total[{p.prefecture}]", "high", "equal-tailed", 0.9, repr(p.high)])
    for key, value in summary.provenance.items():
        writer.writerow(["provenance", key, "", "", value])
    return out.getvalue()


def write_netcdf(idata: az.InferenceData, path: str | Path) -> Path:
    """Write the InferenceData to NetCDF atomically (temporary file, then rename)."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        idata.to_netcdf(temporary, engine="h5netcdf")
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_netcdf(path: str | Path) -> az.InferenceData:
    """Read a saved fit back."""
    import arviz as az

    quiet_arviz()
    return az.from_netcdf(path, engine="h5netcdf")


def write_outputs(idata: az.InferenceData, summary: Summary, out: str | Path, inputs: Any) -> list[Path]:
    """Write the NetCDF, the CSV summary and the figures into ``out``; return the paths."""
    from dnamodel import plots

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    stem = summary.model or "fit"
    paths = [write_netcdf(idata, folder / f"{stem}.nc")]
    csv_path = folder / f"{stem}_summary.csv"
    atomic_write_text(csv_path, summary_csv(summary))
    paths.append(csv_path)
    paths.append(plots.total_posterior_plot(idata, summary, folder / f"{stem}_total.png"))
    paths.append(plots.fraction_plot(idata, inputs, folder / f"{stem}_fraction_han.png"))
    paths.append(
        plots.prior_predictive_plot(idata, prior_check(idata, inputs), folder / f"{stem}_prior_predictive.png")
    )
    return paths


@dataclass
class EstimateResult:
    """Everything ``dnamodel estimate`` prints and writes."""

    summary: Summary
    checks: list[Check]
    loo: list[Check]
    prior: PriorCheck
    paths: list[Path]
    timings: dict[str, float]
    description: str
    power_scaling: Any = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "power_scaling": None if self.power_scaling is None else self.power_scaling.to_dict(),
            "summary": self.summary.as_dict(),
            "posterior_predictive": [asdict(c) | {"inside_90": c.inside} for c in self.checks],
            "leave_one_out": [asdict(c) | {"inside_90": c.inside} for c in self.loo],
            "prior_check": asdict(self.prior) | {"plausible": self.prior.plausible},
            "files": [str(p) for p in self.paths],
            "timings": self.timings,
        }


def run_estimate(
    spec: Any,
    data: Any,
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    sampler: str = "nutpie",
    out: str | Path = "results",
    loo: bool = True,
    progress: bool = False,
    sensitivity: bool = False,
) -> EstimateResult:
    """Fit, summarise, check and write: the work of ``dnamodel estimate``."""
    import time

    from dnamodel.inference.sampling import fit_model

    start = time.perf_counter()
    idata, fitted = fit_model(
        spec, data, draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler, progress=progress
    )
    summary = summarize_fit(idata, data)
    checks = predictive_checks(idata)
    timings = dict(fitted.timings.as_dict())
    loo_checks: list[Check] = []
    if loo:
        begin = time.perf_counter()
        a = idata.attrs
        # A held-out observation's 90% predictive interval needs far fewer draws than the citation:
        # LOO_DRAWS per chain keep the four refits to about a quarter of the main fit's sampling.
        draws_loo = min(a["draws"], LOO_DRAWS)
        loo_checks = leave_one_out(fitted, draws=draws_loo, tune=a["tune"], chains=a["chains"], seed=a["seed"])
        timings["leave_one_out"] = time.perf_counter() - begin
        # saved with the fit, so a report drawn from the file shows them without refitting
        idata.attrs["leave_one_out_json"] = json.dumps([asdict(c) for c in loo_checks])
        idata.attrs["leave_one_out_draws"] = draws_loo
    prior = prior_check(idata, fitted.inputs)
    scaling = None
    if sensitivity:
        from dnamodel.powerscale import add_log_densities, power_scaling

        begin = time.perf_counter()
        idata = add_log_densities(idata, fitted)  # saved with the fit, so psens can be rerun from the file
        scaling = power_scaling(idata, fitted)
        timings["power_scaling"] = time.perf_counter() - begin
    begin = time.perf_counter()
    paths = write_outputs(idata, summary, out, fitted.inputs)
    timings["outputs"] = time.perf_counter() - begin
    timings["total"] = time.perf_counter() - start
    return EstimateResult(summary, checks, loo_checks, prior, paths, timings, spec.header.description, scaling)
