"""The work of ``dnamodel compare``: fit models side by side, score them, stack those that share data.

:func:`compare` fits (or reads) each model, refits it without each observation in turn for its exact
leave-one-out log predictive densities, runs a dated model's forecasts, and stacks the models that
were scored on the same observations (``dnamodel.checks.compare``). The result is a
:class:`Comparison`, written as NetCDF and CSV with a figure by :func:`write_comparison`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dnamodel.checks.compare import Stacking, stack
from dnamodel.checks.dated import Forecast, SourceCheck
from dnamodel.checks.gates import diagnose
from dnamodel.checks.predictive import Check
from dnamodel.checks.rebuild import check_posterior
from dnamodel.checks.summary import round_significant
from dnamodel.data import Dataset, given_data
from dnamodel.data.study import STUDY_FILE, Study
from dnamodel.deprecation import keyword_only_since
from dnamodel.errors import UsageError, check_type, check_whole, python_value
from dnamodel.families import Capability, FitSettings, family_of, load_model, spec_of_fit
from dnamodel.families.base import spec_settings_blamed
from dnamodel.files import atomic_write_files, check_output_folder, make_folder, remove_folders
from dnamodel.outputs.io import netcdf_bytes, read_netcdf
from dnamodel.outputs.plots import figures_held
from dnamodel.outputs.sweep_plots import comparison_plot
from dnamodel.provenance import package_version
from dnamodel.spec.hierarchical import MAX_SEED
from dnamodel.workflows.estimate import COMPARISON_FILE

PROBABILITIES = (0.5, 0.9, 0.95)
BOOTSTRAP = 1000
"""Bayesian-bootstrap replicates of the stacking weights."""


def study_models(data: Dataset) -> list[str]:
    """The models the data's study names for a comparison (``study.toml``'s ``[models] compare``), for ``load_model``.

    Raises
    ------
    UsageError
        In one line, when the study names none: which specs to name, and how.

    Examples
    --------
    >>> import dnamodel
    >>> study_models(dnamodel.load_data())[:2]
    ['dated', 'dated_exchangeable']
    """
    listed = data.study.models.compare
    if not listed:
        folder = "DIR" if data.location == "bundled" else data.location
        raise UsageError(
            f"{data.path(STUDY_FILE)} names no models to compare ([models] compare): name the specs: "
            f"`dnamodel compare SPEC [SPEC ...] --data {folder}`"
        )
    return [data.model(reference) for reference in listed]


@dataclass
class ModelResult:
    """One model in the comparison."""

    name: str
    kind: str
    spec_hash: str
    total: np.ndarray  # posterior draws of the total
    intervals: dict[float, tuple[float, float]]
    median: float
    passed: bool
    loo: list[Check]
    forecasts: list[Forecast] = field(default_factory=list)
    sources: list[SourceCheck] = field(default_factory=list)
    """Leave-one-source-out where its family has it (else empty): stacking scores these when every model has them."""

    @property
    def observations(self) -> tuple[str, ...]:
        """The observations it was scored on."""
        return tuple(c.observation for c in self.loo)

    @property
    def lpd(self) -> np.ndarray:
        """Its exact leave-one-out log predictive densities, in the order of :attr:`observations`."""
        return np.array([c.lpd for c in self.loo], dtype=float)

    @property
    def source_groups(self) -> tuple[tuple[str, ...], ...]:
        """The observations of each source it was scored on by leave-one-source-out (empty without)."""
        return tuple(g.observations for g in self.sources)


@dataclass
class Comparison:
    """What ``dnamodel compare`` prints and writes."""

    models: list[ModelResult]
    stacking: Stacking | None
    stacked_family: tuple[str, ...]
    data_version: str
    seed: int
    timings: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        stacking = None
        if self.stacking is not None:
            s = self.stacking
            stacking = {
                "models": list(s.models),
                "weights": s.weights.tolist(),
                "weights_90": s.weight_interval().tolist(),
                "too_uncertain": s.too_uncertain,
                "too_uncertain_reasons": list(s.uncertain_reasons),
                "scored_on": s.scored_on,
                "scored": s.scored,
                "total_median": s.total_median,
                "total_90": list(s.total_interval),
                "elpd_loo": s.elpd.tolist(),
                "elpd_loo_se": s.elpd_se.tolist(),
                "elpd_diff": s.elpd_diff.tolist(),
                "elpd_diff_se": s.elpd_diff_se.tolist(),
            }
        return {
            "models": [
                {
                    "name": m.name,
                    "kind": m.kind,
                    "spec_hash": m.spec_hash,
                    "median": m.median,
                    "intervals": {str(p): list(v) for p, v in m.intervals.items()},
                    "passed_gates": m.passed,
                    "elpd_loo": float(m.lpd.sum()),
                    "elpd_loso": float(sum(g.lpd for g in m.sources)) if m.sources else None,
                    "leave_one_source_out": [
                        {
                            "source": g.source,
                            "observations": list(g.observations),
                            "lpd": g.lpd,
                            "total_without": g.total_median,
                        }
                        for g in m.sources
                    ],
                    "leave_one_out": [
                        {
                            "observation": c.observation,
                            "pit": c.pit,
                            "lpd": c.lpd,
                            "total_without": c.total_median,
                            "uninformative": c.uninformative,
                        }
                        for c in m.loo
                    ],
                    "forecasts": [
                        {
                            "data_to": f.data_to,
                            "checks": [
                                {"observation": c.observation, "pit": c.pit, "uninformative": c.uninformative}
                                for c in f.checks
                            ],
                        }
                        for f in m.forecasts
                    ],
                }
                for m in self.models
            ],
            "stacking": stacking,
            "stacked_family": list(self.stacked_family),
            "data_version": self.data_version,
            "seed": self.seed,
            "sentence": self.sentence(),
            "timings": self.timings,
        }

    def sentence(self) -> str:
        """One sentence on structural uncertainty, rounded as the citation is (two significant figures)."""
        medians = [m.median for m in self.models]
        count = lambda v: f"{round_significant(v):,.0f}"  # noqa: E731
        text = (
            f"Across the {len(self.models)} models the median ranges from {count(min(medians))} to "
            f"{count(max(medians))}"
        )
        if self.stacking is not None:
            s = self.stacking
            low, high = s.total_interval
            text += (
                f"; stacking the {len(s.models)} that share their data gives {count(s.total_median)} "
                f"(90%: {count(low)} to {count(high)})"
            )
            if s.too_uncertain:
                text += ", with weights too uncertain to lean on"
        return text + "."


def _fitted_result(spec: Any, data: Dataset, settings: FitSettings) -> ModelResult:
    """Fit ``spec``, refit it without each observation, and run its forecasts where its family has them."""
    family = family_of(spec)
    with spec_settings_blamed(spec, settings.draws, settings.chains):
        fit = family.fit(spec, data, settings)
    refits = family.refit_settings(fit.idata.attrs)
    loo = family.leave_one_out(fit, refits)
    sources = family.leave_one_source_out(fit, refits, loo) if family.supports(Capability.LEAVE_SOURCE_OUT) else []
    forecasts = family.forecast_checks(fit, refits) if family.supports(Capability.FORECAST_CHECKS) else []
    return _result(spec.name, family.kind, spec.hash, fit.idata, loo, forecasts, sources)


def _result(
    name: str,
    kind: str,
    spec_hash: str,
    idata: Any,
    loo: list[Check],
    forecasts: list[Forecast],
    sources: list[SourceCheck] | None = None,
) -> ModelResult:
    total = idata.posterior["total"].values.ravel()
    intervals = {}
    for p in PROBABILITIES:
        low, high = np.quantile(total, [(1 - p) / 2, (1 + p) / 2])
        intervals[p] = (float(low), float(high))
    return ModelResult(
        name,
        kind,
        spec_hash,
        total,
        intervals,
        float(np.median(total)),
        diagnose(idata).passed,
        loo,
        forecasts,
        list(sources or []),
    )


@keyword_only_since("data")
def compare(
    models: Sequence[str | Path] | None = None,
    *,
    data: Dataset | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int = 20220913,
    bootstrap: int = BOOTSTRAP,
    status: Callable[[str], None] | None = None,
) -> Comparison:
    """Fit each model, score it by exact leave-one-out, and stack those scored on the same observations.

    Parameters
    ----------
    models : sequence of str or Path, optional
        Names or paths of dated or hierarchical specs, or saved fits (``.nc``); by default the models the
        data's study names (``study.toml``'s ``[models] compare``, :func:`study_models`).
    data : Dataset, optional
        The data every model is fitted to; the bundled data by default.
    draws, tune, chains : int, optional
        Each main fit's settings (the spec's by default); refits use the estimate's refit settings.
    seed : int
        The seed of every fit, and (through a SeedSequence) of the bootstrap.
    bootstrap : int
        Bayesian-bootstrap replicates of the stacking weights.
    status : callable, optional
        Called with a line saying which model is fitted now (the command line shows it on a terminal).

    Returns
    -------
    Comparison
        Each model's total (draws, median, intervals), gates, leave-one-out checks and
        forecasts (``models``), and the stacking of those scored on the same observations
        (``stacking``, ``None`` when fewer than two are).

    Raises
    ------
    UsageError
        Before any fit, for a model that is not a dated or hierarchical spec, or when no model is named
        and the data's study names none.

    Examples
    --------
    The shipped example's dated model at reduced draws (one model: nothing to stack):

    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> result = compare([folder / "models" / "dated.toml"], data=dnamodel.load_data(folder / "data"),
    ...                  draws=200, tune=200, chains=2)
    >>> [m.name for m in result.models], len(result.models[0].loo), result.stacking is None
    (['quillmoor_dated'], 10, True)
    """
    data = given_data(data, "compare")
    names = _model_names(models, data)
    check_whole(seed, "compare: seed", 0, MAX_SEED)
    check_whole(bootstrap, "compare: bootstrap", 1)
    saved = {name: _read_fit(name, data) for name in names if name.endswith(".nc")}
    specs = {}
    for name in names:
        if name in saved:
            continue
        spec = load_model(name)
        family_of(spec).require(Capability.POSTERIOR, name)
        specs[name] = spec
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=seed, prior_draws=200)
    results, timings = [], {}
    for number, name in enumerate(names, start=1):
        if status is not None:
            what = "Reading" if name in saved else "Fitting and refitting"
            status(f"{what} {name} ({number} of {len(names)})")
        begin = time.perf_counter()
        results.append(saved[name] if name in saved else _fitted_result(specs[name], data, settings))
        timings[results[-1].name] = round(time.perf_counter() - begin, 1)
    return _compare(results, data.version, seed, bootstrap, timings)


def _model_names(models: Any, data: Dataset) -> list[str]:
    """The models to compare: the study's for ``None`` (:func:`study_models`), else each name or path as a string.

    Raises
    ------
    TypeError
        For a string given whole (a list of names is meant) or anything but a sequence of names and paths.
    ValueError
        For an empty sequence: ``None`` means the models the data's study names, ``[]`` none.
    """
    if models is None:
        return study_models(data)
    if isinstance(models, str | Path) or not isinstance(models, Sequence):
        raise TypeError(
            f"compare: models must be a list of names or paths, or None for the models the data name, got "
            f"{python_value(models)}"
        )
    for model in models:
        check_type(model, (str, Path), "compare: each model", "a model's name or path, or a fit's .nc path")
    if not models:
        raise ValueError("compare: models is empty; give at least one, or None for the models the data name")
    return [str(m) for m in models]


def _read_fit(path: str, data: Dataset) -> ModelResult:
    """A fit saved by ``dnamodel estimate``, with its leave-one-out results; it must be of ``data``.

    Raises
    ------
    UsageError
        If the file is not such a fit, lacks its leave-one-out densities, or was made from other
        data than ``data``: stacking scores every model on the same observations.
    """
    target = Path(path)
    if not target.is_file():
        raise UsageError(f"{path}: no such fit (a NetCDF file written by dnamodel estimate)")
    idata = read_netcdf(target)
    family = family_of(spec_of_fit(idata, path))
    check_posterior(idata, path)
    attrs = dict(idata.attrs)
    if attrs.get("data_version") != data.version:
        raise UsageError(
            f"{path} was fitted to data {attrs.get('data_version')}, not to {data.version}: models compared "
            "and stacked must share their data; refit it, or give the data it was fitted to with --data"
        )
    saved = family.saved_checks(idata)
    loo = list(saved.loo or ())
    if not loo or any(c.lpd is None for c in loo):
        raise UsageError(f"{path} has no leave-one-out densities; refit it with dnamodel estimate (without --no-loo)")
    forecasts = list(saved.forecasts or ())
    sources = list(saved.sources or ())
    return _result(str(attrs.get("model")), family.kind, str(attrs.get("spec_hash")), idata, loo, forecasts, sources)


def _compare(
    results: list[ModelResult], data_version: str, seed: int, bootstrap: int, timings: dict[str, float]
) -> Comparison:
    """Stack the largest family of models scored on the same observations (the first model's, on ties)."""
    families: dict[tuple[str, ...], list[ModelResult]] = {}
    for result in results:
        families.setdefault(result.observations, []).append(result)
    family = max(families.values(), key=len)
    stacking = None
    if len(family) > 1:
        # every observation of a source scored together, when every model was scored on the same sources
        grouped = all(m.sources for m in family) and len({m.source_groups for m in family}) == 1
        if grouped:
            lpd = np.array([[g.lpd for g in m.sources] for m in family], dtype=float).T
        else:
            lpd = np.stack([m.lpd for m in family], axis=1)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 14]))
        stacking = stack(
            tuple(m.name for m in family),
            lpd,
            [m.total for m in family],
            bootstrap=bootstrap,
            rng=rng,
            scored_on="sources" if grouped else "observations",
        )
    return Comparison(results, stacking, tuple(m.name for m in family), data_version, seed, timings)


def write_comparison(result: Comparison, out: str | Path, *, study: Study | None = None) -> list[Path]:
    """The comparison as NetCDF (model × draw totals, weights, bootstrap), CSV and a figure, all or none.

    ``study`` (``Dataset.study``) gives the figure's words and the comparison figures drawn dashed.
    The three are rendered in memory and written together (:func:`dnamodel.files.atomic_write_files`);
    a folder created for them is removed again if the write fails.
    """
    import xarray as xr  # deferred: start-up time

    folder = Path(out)
    check_output_folder(folder, "output folder")
    n = min(m.total.size for m in result.models)
    thin = {m.name: m.total[np.linspace(0, m.total.size - 1, n).round().astype(int)] for m in result.models}
    ds = xr.Dataset(
        {
            "total": (("model", "draw"), np.stack([thin[m.name] for m in result.models])),
            "median": (("model",), [m.median for m in result.models]),
            "elpd_loo": (("model",), [float(m.lpd.sum()) for m in result.models]),
            "passed_gates": (("model",), [m.passed for m in result.models]),
        },
        coords={"model": [m.name for m in result.models]},
        attrs={
            "data_version": result.data_version,
            "dnamodel_version": package_version(),
            "seed": result.seed,
            "comparison_json": json.dumps(result.as_dict()),
        },
    )
    if result.stacking is not None:
        s = result.stacking
        ds["weight"] = (("stacked",), s.weights)
        ds["weight_bootstrap"] = (("bootstrap", "stacked"), s.bootstrap)
        ds = ds.assign_coords(stacked=list(s.models))
    import csv  # deferred: only a comparison writes one
    import io  # deferred: with it

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["model", "kind", "median", "low_90", "high_90", "passed_gates", "elpd_loo", "weight"])
    weights = dict(zip(result.stacking.models, result.stacking.weights, strict=True)) if result.stacking else {}
    for m in result.models:
        low, high = m.intervals[0.9]
        weight = weights.get(m.name)
        # numbers as numbers: repr of a Python float (NumPy's repr is "np.float64(...)"); no weight, empty
        numbers = [repr(float(v)) for v in (m.median, low, high)]
        stacked = "" if weight is None else repr(float(weight))
        writer.writerow([m.name, m.kind, *numbers, str(bool(m.passed)), repr(float(m.lpd.sum())), stacked])
    created = make_folder(folder)
    try:
        with figures_held() as held:
            figure = comparison_plot(result, folder / "compare.png", study=study)
        contents: dict[str | Path, bytes] = {
            folder / COMPARISON_FILE: netcdf_bytes(ds),
            folder / "compare.csv": text.getvalue().encode("utf-8"),
            figure: held[figure],
        }
        return atomic_write_files(contents)
    except BaseException:
        remove_folders(created)
        raise
