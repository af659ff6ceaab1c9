"""The work of ``dnamodel estimate``: fit, summarise, check, write; and of ``dnamodel forecast-check``.

:func:`run_estimate` asks the spec's model family to fit it, summarises the fit for citation, runs
the checks the family supports (predictive, leave-one-out, forecasts, prior; power-scaling when
asked), saves them with the fit, writes the NetCDF, CSV, the tables authors paste (Markdown and LaTeX) and the
figures, all or none, and returns it all as an
:class:`EstimateResult`: one pipeline for every family. :func:`run_forecast_check` runs a model's
forecasts and a comparison model's at the same cutoffs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from dnamodel.checks.dated import Forecast, SourceCheck
from dnamodel.checks.predictive import Check, PriorCheck
from dnamodel.checks.summary import Summary, round_significant
from dnamodel.data import Dataset
from dnamodel.errors import UsageError
from dnamodel.families import Capability, Family, Fit, FitSettings, RefitSettings, SavedChecks, family_of
from dnamodel.families.base import spec_settings_blamed
from dnamodel.files import check_output_folder
from dnamodel.outputs import plots
from dnamodel.outputs.formats import summary_documents
from dnamodel.outputs.io import Drawer, render_outputs, write_outputs
from dnamodel.provenance import package_version
from dnamodel.workflows.said import MODES, Said, what_decides


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
    forecasts: list[Forecast] = field(default_factory=list)
    structural: str | None = None
    """The sentence on structural uncertainty, from a comparison saved in the output folder."""
    said: Said | None = None
    """What decides the figure, said beside it (:mod:`dnamodel.workflows.said`)."""
    sources: list[SourceCheck] = field(default_factory=list)
    """Leave-one-source-out: each source's observations refitted without all of them (empty when not run)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            **(self.said.as_dict(self.summary) if self.said is not None else Said().as_dict(self.summary)),
            "structural_uncertainty": self.structural,
            "forecasts": [
                {
                    "data_to": f.data_to,
                    "used": list(f.used),
                    "checks": [c.as_dict() for c in f.checks],
                }
                for f in self.forecasts
            ],
            "power_scaling": None if self.power_scaling is None else self.power_scaling.to_dict(),
            "summary": self.summary.as_dict(),
            "posterior_predictive": [c.as_dict() for c in self.checks],
            "leave_one_out": [c.as_dict() for c in self.loo],
            "leave_one_source_out": [g.as_dict() for g in self.sources],
            "prior_check": asdict(self.prior) | {"plausible": self.prior.plausible},
            "files": [str(p) for p in self.paths],
            "timings": self.timings,
        }


def run_estimate(
    spec: Any,
    data: Dataset,
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
    status: Callable[[str], None] | None = None,
    assumptions: str = "compute",
    exact_refits: bool = False,
) -> EstimateResult:
    """Fit, summarise, check and write: the work of ``dnamodel estimate``, the same for every model family.

    The spec's family fits it and runs the checks it supports: the posterior predictive checks, the
    leave-one-out refits and, where it has them, the forecasts (their refits capped at the family's
    draws and tuning), the prior check and, with ``sensitivity``, power-scaling. The checks are saved
    in the fit's ``attrs`` (:func:`dnamodel.families.base.write_saved_checks`), so a report drawn from
    the file refits nothing. ``progress`` draws the sampler's own progress bar; ``status``, if given,
    is called with a line saying what runs next (the command line shows it on a terminal, as a spinner).
    ``assumptions`` (``"compute"``, ``"cached"`` or ``"off"``) says whether the refits that find the
    assumptions deciding the figure are run, only read from ``out``'s cache, or skipped
    (:func:`dnamodel.workflows.said.what_decides`). ``exact_refits`` samples every leave-one-out,
    source and forecast refit of a dated model, instead of reweighting the fit's draws where k̂ allows
    (``RefitSettings.importance``), and every refit of the decisive assumptions, instead of
    reweighting the default's (``run_assumptions``' ``importance``).

    Raises
    ------
    UsageError
        Before the fit, if ``out`` cannot be a folder to write in, the spec is not of a model with a
        posterior, or the sampler settings cannot run.
    """
    check_output_folder(out, "output folder")
    if assumptions not in MODES:  # before the fit, not after it
        raise UsageError(f"assumptions must be one of {', '.join(MODES)}, not {assumptions!r}")
    structural = structural_sentence(out, data, spec.name)  # read before the fit: a damaged file fails now
    family = family_of(spec)
    family.require(Capability.POSTERIOR, spec.name)
    say = status or _silent
    start = time.perf_counter()
    say(f"Sampling {spec.name} ({_plan(spec, draws, tune, chains)})")
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler, progress=progress)
    with spec_settings_blamed(spec, draws, chains):
        fit = family.fit(spec, data, settings)
    timings = dict(fit.timings)
    say("Summarising and checking the fit")
    begin = time.perf_counter()
    summary = family.summarize(fit, data)
    timings["summary"] = round(time.perf_counter() - begin, 3)
    plain, say = say, _with_estimate(say, summary, "checking it")
    begin = time.perf_counter()
    checks = family.predictive_checks(fit)
    timings["predictive_checks"] = round(time.perf_counter() - begin, 3)
    refits = replace(family.refit_settings(fit.idata.attrs), importance=not exact_refits)
    loo_checks: list[Check] = []
    sources: list[SourceCheck] = []
    forecasts: list[Forecast] = []
    if loo and family.supports(Capability.LEAVE_ONE_OUT):
        say(f"Leave-one-out: {len(fit.inputs.observation)} refits")
        begin = time.perf_counter()
        loo_checks = family.leave_one_out(fit, refits)
        timings["leave_one_out"] = round(time.perf_counter() - begin, 3)
        if family.supports(Capability.LEAVE_SOURCE_OUT):
            say("Leave one source out: a refit without each source of two or more observations")
            begin = time.perf_counter()
            sources = family.leave_one_source_out(fit, refits, loo_checks)
            timings["leave_one_source_out"] = round(time.perf_counter() - begin, 3)
        if family.supports(Capability.FORECAST_CHECKS):
            say("Forecasts: refits on what was published by each date")
            begin = time.perf_counter()
            forecasts = family.forecast_checks(fit, refits)
            timings["forecasts"] = round(time.perf_counter() - begin, 3)
        family.save_checks(
            fit,
            SavedChecks(
                loo=tuple(loo_checks),
                loo_draws=refits.draws,
                forecasts=tuple(forecasts) if family.supports(Capability.FORECAST_CHECKS) else None,
                sources=tuple(sources) if family.supports(Capability.LEAVE_SOURCE_OUT) else None,
            ),
        )
    begin = time.perf_counter()
    prior = family.prior_check(fit)
    timings["prior_check"] = round(time.perf_counter() - begin, 3)
    if structural is not None:
        family.save_checks(fit, SavedChecks(structural=structural))
    scaling = None
    if sensitivity:
        say("Power-scaling sensitivity")
        begin = time.perf_counter()
        fit.idata = family.with_log_densities(fit)  # saved with the fit, so psens can be rerun from the file
        scaling = family.power_scaling(fit, None)
        timings["power_scaling"] = round(time.perf_counter() - begin, 3)
    figures, tables = _figures(family, fit, summary, prior), summary_documents(summary)
    # The files do not depend on what decides the figure: rendered in a thread once at most one of its
    # refits is left (a core idle till it ends; benchmarks/README.md), then written, all or none, after.
    core_free, stop = threading.Event(), threading.Event()
    drawing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dnamodel-outputs")
    try:
        rendering = drawing.submit(_render_from, core_free, fit.idata, summary, out, figures, tables, stop)
        said = what_decides(
            family,
            fit,
            data,
            summary,
            out,
            assumptions=assumptions,
            scaling=scaling,
            status=say,
            importance=not exact_refits,
            one_left=core_free.set,
        )
        core_free.set()
        if said.assumptions is not None:
            timings["assumptions"] = said.assumptions.seconds
        writing = "the NetCDF, CSV, tables and figures"
        if summary.sentence is None:  # no figure to show: the line as it was
            plain(f"Writing {writing}")
        else:
            _with_estimate(plain, summary, "writing it")(writing)
        begin = time.perf_counter()
        paths = write_outputs(fit.idata, summary, out, figures, tables=tables, rendered=rendering.result())
    except BaseException:
        stop.set()  # a failure or Ctrl-C does not wait for the rest of the figures
        core_free.set()
        raise
    finally:
        drawing.shutdown(wait=True)
    timings["outputs"] = round(time.perf_counter() - begin, 3)
    timings["total"] = round(time.perf_counter() - start, 3)
    return EstimateResult(
        summary,
        checks,
        loo_checks,
        prior,
        paths,
        timings,
        spec.header.description,
        scaling,
        forecasts,
        structural,
        said,
        sources,
    )


def _render_from(core_free: threading.Event, *args: Any) -> dict[str | Path, bytes]:
    """:func:`~dnamodel.outputs.io.render_outputs` once ``core_free`` is set (not at all if its stop is by then)."""
    core_free.wait()
    return render_outputs(*args)


def _figures(family: Family, fit: Fit, summary: Summary, prior: PriorCheck) -> list[tuple[str, Drawer]]:
    """The figures ``estimate`` writes: the total's posterior, the family's own, and the prior predictive."""
    idata, study = fit.idata, summary.study
    stocks = family.stocks(fit)
    return [
        ("total", lambda path: plots.total_posterior_plot(idata, summary, path)),
        *family.figures(fit, study),
        ("prior_predictive", lambda path: plots.prior_predictive_plot(idata, prior, path, study=study, stocks=stocks)),
    ]


def _with_estimate(say: Callable[[str], None], summary: Summary, doing: str) -> Callable[[str], None]:
    """The status callback with the estimate before each line, once the fit is summarised.

    A reader watching the checks and the refits run sees the figure from then on: "Estimate 1,100,000
    (90%: 800,000 to 1,700,000); checking it: Leave-one-out: 12 refits". Rounded as the sentence is;
    a fit whose gates withhold the sentence has no figure to show, and the lines are as they were.
    """
    if summary.sentence is None:
        return lambda line: say(line[:1].upper() + line[1:])
    interval = summary.total.interval(0.9)
    figure = (
        f"Estimate {round_significant(summary.total.median):,.0f} "
        f"(90%: {round_significant(interval.low):,.0f} to {round_significant(interval.high):,.0f})"
    )
    return lambda line: say(f"{figure}; {doing}: {line}")


def _silent(line: str) -> None:
    """The status callback when nobody watches."""


def _plan(spec: Any, draws: int | None, tune: int | None, chains: int | None) -> str:
    """The sampler's settings as a status line says them: "4 × 4,000 draws, 1,500 tuning"."""
    chains = spec.sampler.chains if chains is None else chains
    tune = spec.sampler.tune if tune is None else tune
    if draws is None and getattr(spec.sampler, "adaptive", False):
        cap = spec.sampler.draws
        return f"{chains} chains, {tune:,} tuning, then draws in rounds until the gates pass (at most {cap:,})"
    draws = spec.sampler.draws if draws is None else draws
    return f"{chains} × {draws:,} draws, {tune:,} tuning"


COMPARISON_FILE = "compare.nc"
"""Where ``dnamodel compare`` writes its comparison, in its output folder (``estimate`` reads it there)."""


def structural_sentence(folder: str | Path, data: Dataset, model: str) -> str | None:
    """The sentence of a comparison saved in ``folder``, if it is of this data and dnamodel and has ``model``."""
    target = Path(folder) / COMPARISON_FILE
    if not target.is_file():
        return None
    import xarray as xr  # deferred, and only when there is a comparison: a refused spec is refused at once

    try:
        with xr.open_dataset(target, engine="h5netcdf") as ds:
            attrs = dict(ds.attrs)
            models = [str(m) for m in ds["model"].values]
    except (OSError, ValueError, KeyError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(
            f"{target}: not a readable comparison ({reason}); remove it, or rerun dnamodel compare"
        ) from None
    if attrs.get("data_version") != data.version or attrs.get("dnamodel_version") != package_version():
        return None
    if model not in models:
        return None
    return json.loads(attrs["comparison_json"])["sentence"]


@dataclass
class ForecastComparison:
    """``dnamodel forecast-check``: a model's forecasts beside a comparison model's at the same cutoffs."""

    model: str
    forecasts: list[Forecast]
    comparison: str | None
    comparison_forecasts: list[Forecast]
    timings: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "model": self.model,
            "forecasts": [
                {
                    "data_to": f.data_to,
                    "used": list(f.used),
                    "checks": [c.as_dict() for c in f.checks],
                }
                for f in self.forecasts
            ],
            "comparison": self.comparison,
            "comparison_forecasts": [
                {"data_to": f.data_to, "used": list(f.used), "checks": [c.as_dict() for c in f.checks]}
                for f in self.comparison_forecasts
            ],
            "timings": self.timings,
        }


def run_forecast_check(
    spec: Any,
    data: Dataset,
    *,
    comparison: Any = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    status: Callable[[str], None] | None = None,
) -> ForecastComparison:
    """A model's forecasts forward in time, and a comparison model's at the same cutoffs.

    ``spec``'s family must have forecast checks (the dated model's ``[[checks.forecast]]``), and
    ``comparison``'s forecasts at given cutoffs (the hierarchical model's). No main fit is needed:
    each forecast is a refit on the past. ``status``, if given, is called with a line saying what
    runs next.

    Raises
    ------
    UsageError
        If either model's family lacks what it is asked for.
    """
    family = family_of(spec)
    family.require(Capability.FORECAST_CHECKS, spec.name)
    if comparison is not None:
        family_of(comparison).require(Capability.FORECASTS_AT, f"--compare {comparison.name}")
    inputs = family.resolve(spec, data)
    settings = spec.sampler
    refit = RefitSettings(
        draws=draws or family.refit_draws,
        tune=tune or family.refit_tune or settings.tune,
        chains=chains or settings.chains,
        seed=settings.seed if seed is None else seed,
    )
    say = status or _silent
    timings: dict[str, float] = {}
    begin = time.perf_counter()
    count = len(inputs.forecasts)
    say(f"Forecasts of {spec.name}: {count} refit{'s' if count != 1 else ''} on what was published by a date")
    forecasts = family.forecast_checks(Fit(spec, None, inputs), refit)
    timings["forecasts"] = round(time.perf_counter() - begin, 3)
    other: list[Forecast] = []
    if comparison is not None:
        begin = time.perf_counter()
        cutoffs = [(label, cutoff) for label, cutoff, _ in inputs.forecasts]
        at = RefitSettings(refit.draws, refit.tune, refit.chains, comparison.sampler.seed)
        say(f"The same cutoffs for {comparison.name}")
        other = family_of(comparison).forecasts_at(comparison, data, cutoffs, at)
        timings["comparison"] = round(time.perf_counter() - begin, 3)
    return ForecastComparison(spec.name, forecasts, getattr(comparison, "name", None), other, timings)
