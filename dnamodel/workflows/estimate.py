"""The work of ``dnamodel estimate``: fit, summarise, check, write.

:func:`run_estimate` fits a hierarchical or a dated spec, summarises the fit for citation, runs the
predictive, leave-one-out (and for a dated spec, forecast) and prior checks (and, when asked,
power-scaling sensitivity), writes the NetCDF, CSV and figures, and returns it all as an
:class:`EstimateResult`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dnamodel.checks import dated as dated_checks
from dnamodel.checks.powerscale import add_log_densities, power_scaling
from dnamodel.checks.predictive import (
    LOO_DRAWS,
    Check,
    PriorCheck,
    forecast_checks,
    leave_one_out,
    predictive_checks,
    prior_check,
)
from dnamodel.checks.summary import Summary, summarize_fit
from dnamodel.files import check_output_folder
from dnamodel.inference.dated import fit_dated
from dnamodel.inference.sampling import compiled_for, fit_model
from dnamodel.outputs.io import write_outputs
from dnamodel.provenance import package_version
from dnamodel.spec.dated import DatedSpec, decimal_year, resolve_dated
from dnamodel.spec.resolve import resolve_hierarchical

REFIT_DRAWS = 400
"""Draws per chain of each leave-one-out and forecast refit of the dated model: enough for a PIT
to ±0.02 and a 90% predictive interval, a tenth of the citation's draws."""
REFIT_TUNE = 500


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
    forecasts: list[Any] = field(default_factory=list)
    structural: str | None = None
    """The sentence on structural uncertainty, from a comparison saved in the output folder."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "structural_uncertainty": self.structural,
            "forecasts": [
                {
                    "data_to": f.data_to,
                    "used": list(f.used),
                    "checks": [asdict(c) | {"inside_90": c.inside} for c in f.checks],
                }
                for f in self.forecasts
            ],
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
    """Fit, summarise, check and write: the work of ``dnamodel estimate``.

    Raises
    ------
    UsageError
        Before the fit, if ``out`` cannot be a folder to write in, or the sampler settings cannot run.
    """
    check_output_folder(out, "output folder")
    if isinstance(spec, DatedSpec):
        return _run_dated(
            spec,
            data,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            sampler=sampler,
            out=out,
            loo=loo,
            progress=progress,
            sensitivity=sensitivity,
        )
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
        begin = time.perf_counter()
        idata = add_log_densities(idata, fitted)  # saved with the fit, so psens can be rerun from the file
        scaling = power_scaling(idata, fitted)
        timings["power_scaling"] = time.perf_counter() - begin
    begin = time.perf_counter()
    paths = write_outputs(idata, summary, out, fitted.inputs)
    timings["outputs"] = time.perf_counter() - begin
    timings["total"] = time.perf_counter() - start
    return EstimateResult(summary, checks, loo_checks, prior, paths, timings, spec.header.description, scaling)


def _run_dated(
    spec: DatedSpec,
    data: Any,
    *,
    draws: int | None,
    tune: int | None,
    chains: int | None,
    seed: int | None,
    sampler: str,
    out: str | Path,
    loo: bool,
    progress: bool,
    sensitivity: bool = False,
) -> EstimateResult:
    """``run_estimate`` for a dated spec: fit, summarise, refit for leave-one-out and forecasts, write.

    Power-scaling reads the fit's own log-density groups, which every dated fit saves: no refit.
    ``sampler`` chooses the main fit's; the refits sample the numba kernel with nutpie either way.
    """
    start = time.perf_counter()
    fit = fit_dated(spec, data, draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler, progress=progress)
    idata, inputs = fit.idata, fit.inputs
    timings = dict(fit.timings)
    summary = summarize_fit(idata, data)
    checks = dated_checks.predictive_checks(idata, inputs)
    a = idata.attrs
    refits = {"draws": min(a["draws"], REFIT_DRAWS), "tune": min(a["tune"], REFIT_TUNE), "chains": a["chains"]}
    loo_checks: list[Check] = []
    forecasts: list[dated_checks.Forecast] = []
    if loo:
        begin = time.perf_counter()
        loo_checks = dated_checks.leave_one_out(inputs, seed=a["seed"], **refits)
        timings["leave_one_out"] = round(time.perf_counter() - begin, 3)
        idata.attrs["leave_one_out_json"] = json.dumps([asdict(c) for c in loo_checks])
        idata.attrs["leave_one_out_draws"] = refits["draws"]
        begin = time.perf_counter()
        forecasts = dated_checks.forecast_checks(inputs, seed=a["seed"], **refits)
        timings["forecasts"] = round(time.perf_counter() - begin, 3)
        idata.attrs["forecasts_json"] = json.dumps(
            [{"data_to": f.data_to, "used": list(f.used), "checks": [asdict(c) for c in f.checks]} for f in forecasts]
        )
    prior = dated_checks.prior_check(idata, inputs)
    structural = structural_sentence(out, data, spec.name)
    if structural is not None:
        idata.attrs["structural_uncertainty"] = structural
    scaling = None
    if sensitivity:
        begin = time.perf_counter()
        scaling = power_scaling(idata)
        timings["power_scaling"] = round(time.perf_counter() - begin, 3)
    begin = time.perf_counter()
    paths = write_outputs(idata, summary, out, inputs)
    timings["outputs"] = round(time.perf_counter() - begin, 3)
    timings["total"] = round(time.perf_counter() - start, 3)
    return EstimateResult(
        summary, checks, loo_checks, prior, paths, timings, spec.header.description, scaling, forecasts, structural
    )


COMPARISON_FILE = "compare.nc"
"""Where ``dnamodel compare`` writes its comparison, in its output folder (``estimate`` reads it there)."""


def structural_sentence(folder: str | Path, data: Any, model: str) -> str | None:
    """The sentence of a comparison saved in ``folder``, if it is of this data and dnamodel and has ``model``."""
    import xarray as xr  # deferred: start-up time

    target = Path(folder) / COMPARISON_FILE
    if not target.is_file():
        return None
    with xr.open_dataset(target, engine="h5netcdf") as ds:
        attrs = dict(ds.attrs)
        models = [str(m) for m in ds["model"].values]
    if attrs.get("data_version") != data.version or attrs.get("dnamodel_version") != package_version():
        return None
    if model not in models:
        return None
    return json.loads(attrs["comparison_json"])["sentence"]


@dataclass
class ForecastComparison:
    """``dnamodel forecast-check``: a dated model's forecasts beside a comparison model's."""

    model: str
    forecasts: list[Any]
    comparison: str | None
    comparison_forecasts: list[tuple[str, tuple[str, ...], list[Check]]]
    timings: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "model": self.model,
            "forecasts": [
                {
                    "data_to": f.data_to,
                    "used": list(f.used),
                    "checks": [asdict(c) | {"inside_90": c.inside} for c in f.checks],
                }
                for f in self.forecasts
            ],
            "comparison": self.comparison,
            "comparison_forecasts": [
                {"data_to": label, "used": list(used), "checks": [asdict(c) for c in checks]}
                for label, used, checks in self.comparison_forecasts
            ],
            "timings": self.timings,
        }


def run_forecast_check(
    spec: DatedSpec,
    data: Any,
    *,
    comparison: Any = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
) -> ForecastComparison:
    """The dated spec's forecasts forward in time; the comparison hierarchical spec's at the same cutoffs."""
    inputs = resolve_dated(spec, data)
    settings = spec.sampler
    seed = settings.seed if seed is None else seed
    refits = {
        "draws": draws or REFIT_DRAWS,
        "tune": tune or REFIT_TUNE,
        "chains": chains or settings.chains,
    }
    timings: dict[str, float] = {}
    begin = time.perf_counter()
    forecasts = dated_checks.forecast_checks(inputs, seed=seed, **refits)
    timings["forecasts"] = round(time.perf_counter() - begin, 3)
    other: list[tuple[str, tuple[str, ...], list[Check]]] = []
    if comparison is not None:
        begin = time.perf_counter()
        fitted = compiled_for(resolve_hierarchical(comparison, data))
        thesis = data.observations.get(comparison.thesis.stock)
        thesis_date = decimal_year(str(thesis.date)) if thesis is not None and thesis.date else math.inf
        other = forecast_checks(
            fitted,
            data,
            [(label, cutoff) for label, cutoff, _ in inputs.forecasts],
            thesis_date=thesis_date,
            seed=comparison.sampler.seed,
            **refits,
        )
        timings["comparison"] = round(time.perf_counter() - begin, 3)
    return ForecastComparison(spec.name, forecasts, getattr(comparison, "name", None), other, timings)
