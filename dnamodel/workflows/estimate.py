"""The work of ``dnamodel estimate``: fit, summarise, check, write.

:func:`run_estimate` fits a hierarchical spec, summarises the fit for citation, runs the
predictive, leave-one-out and prior checks (and, when asked, power-scaling sensitivity),
writes the NetCDF, CSV and figures, and returns it all as an :class:`EstimateResult`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dnamodel.checks.powerscale import add_log_densities, power_scaling
from dnamodel.checks.predictive import LOO_DRAWS, Check, PriorCheck, leave_one_out, predictive_checks, prior_check
from dnamodel.checks.summary import Summary, summarize_fit
from dnamodel.files import check_output_folder
from dnamodel.inference.sampling import fit_model
from dnamodel.outputs.io import write_outputs


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
    """Fit, summarise, check and write: the work of ``dnamodel estimate``.

    Raises
    ------
    UsageError
        Before the fit, if ``out`` cannot be a folder to write in, or the sampler settings cannot run.
    """
    check_output_folder(out, "output folder")
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
