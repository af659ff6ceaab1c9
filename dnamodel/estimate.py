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
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnamodel.checks.predictive import LOO_DRAWS, Check, PriorCheck, leave_one_out, predictive_checks, prior_check
from dnamodel.checks.summary import Summary, summarize_fit
from dnamodel.files import atomic_write_text
from dnamodel.inference.sampling import quiet_arviz

if TYPE_CHECKING:
    import arviz as az


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
        from dnamodel.checks.powerscale import add_log_densities, power_scaling

        begin = time.perf_counter()
        idata = add_log_densities(idata, fitted)  # saved with the fit, so psens can be rerun from the file
        scaling = power_scaling(idata, fitted)
        timings["power_scaling"] = time.perf_counter() - begin
    begin = time.perf_counter()
    paths = write_outputs(idata, summary, out, fitted.inputs)
    timings["outputs"] = time.perf_counter() - begin
    timings["total"] = time.perf_counter() - start
    return EstimateResult(summary, checks, loo_checks, prior, paths, timings, spec.header.description, scaling)
