"""The hierarchical model's family (``docs/model.md``, section 4): a PyMC model, compiled once and refitted.

Its spec is :class:`~dnamodel.spec.hierarchical.HierarchicalSpec` (``kind = "hierarchical"``),
resolved by :func:`~dnamodel.spec.resolve.resolve_hierarchical`; it is fitted by
:func:`~dnamodel.inference.sampling.fit_hierarchical`, which keeps the compiled model, and a refit
changes only the model's data containers (:func:`~dnamodel.inference.sampling.compiled_for` finds the
compiled model of a fit read back from its file). Its checks are :mod:`dnamodel.checks.predictive`'s
and :mod:`dnamodel.checks.calibration`'s. It has no time, so no forecasts of its own; at a dated
model's cutoffs it predicts its own later observations as if they were the same fraction
(``dnamodel forecast-check``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dnamodel import dims
from dnamodel.checks.calibration import Calibration, hierarchical_sbc
from dnamodel.checks.dated import Forecast
from dnamodel.checks.gates import diagnose
from dnamodel.checks.powerscale import (
    PowerScaling,
    ScaledEstimate,
    reported_quantities,
    reweighted_estimate,
    sensitivity_table,
)
from dnamodel.checks.predictive import (
    LOO_DRAWS,
    Check,
    PriorCheck,
    hierarchical_forecasts,
    hierarchical_leave_one_out,
    hierarchical_predictive_checks,
    hierarchical_prior_check,
)
from dnamodel.checks.scaled_priors import add_log_densities, hierarchical_log_densities, hierarchical_scaled_refit
from dnamodel.checks.summary import Summary, summarize_fit
from dnamodel.families.base import (
    Capability,
    Family,
    Fit,
    FitSettings,
    RefitSettings,
    SweepSettings,
    point_total,
)
from dnamodel.inference.sampling import (
    Fitted,
    check_sampler_settings,
    compiled_for,
    fit_hierarchical,
    quiet_arviz,
    sample,
    scalars_per_draw,
    seeds,
)
from dnamodel.outputs import hierarchical as presented
from dnamodel.outputs import plots
from dnamodel.outputs.html import ReportModel
from dnamodel.spec import parameters
from dnamodel.spec.dated import decimal_year
from dnamodel.spec.hierarchical import (
    HierarchicalSpec,
    ObservationSpec,
    PopulationSpec,
    SamplerSpec,
    ThesisSpec,
    parse_hierarchical,
)
from dnamodel.spec.resolve import ModelInputs, resolve_hierarchical

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.data import Dataset
    from dnamodel.data.study import Study


class HierarchicalFamily(Family):
    """The hierarchical model: a collection fraction per unit, its spread, and the thesis bound."""

    kind: ClassVar[str] = "hierarchical"
    noun: ClassVar[str] = "a hierarchical model"
    spec_class: ClassVar[type] = HierarchicalSpec
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.POSTERIOR,
            Capability.PREDICTIVE_CHECKS,
            Capability.LEAVE_ONE_OUT,
            Capability.FORECASTS_AT,
            Capability.PRIOR_CHECK,
            Capability.POWER_SCALING,
            Capability.SCALED_REFIT,
            Capability.SBC,
            Capability.REPORT,
            Capability.SWEEP,
        }
    )
    hints: ClassVar[Mapping[Capability, str]] = {
        Capability.FORECAST_CHECKS: "it has no time; its forecasts at a dated model's cutoffs are "
        "`dnamodel forecast-check`'s",
        Capability.DRAWS: "fit it with `dnamodel estimate {what}` (dnamodel.fit from Python)",
        Capability.LEAVE_SOURCE_OUT: "its observations are leave-one-out's (dnamodel.leave_one_out)",
        Capability.SWEEP_THREADS: "its points run in processes (one compiled model each)",
    }
    refit_draws: ClassVar[int] = LOO_DRAWS
    sampling_section: ClassVar[str] = "4.9"
    """The model card's section on how this model is fitted (cited when a fit diverges)."""
    refit_tune: ClassVar[int | None] = None

    # --- the spec

    def parse(self, raw: dict[str, Any], text: str, file: str) -> HierarchicalSpec:
        """:func:`~dnamodel.spec.hierarchical.parse_hierarchical`."""
        return parse_hierarchical(raw, text, file)

    def sweep_paths(self, raw: Mapping[str, Any]) -> tuple[list[str], tuple[str, ...]]:
        """The population, thesis, sampler and observation keys a spec may leave out; no optional table."""
        extra = [f"population.{k}" for k in PopulationSpec.model_fields]
        extra += [f"thesis.{k}" for k in ThesisSpec.model_fields]
        extra += [f"sampler.{k}" for k in SamplerSpec.model_fields]
        for name in raw.get("observations", {}):
            extra += [f"observations.{name}.{k}" for k in ObservationSpec.model_fields]
        return extra, ()

    def resolve(self, spec: HierarchicalSpec, data: Dataset) -> ModelInputs:
        """:func:`~dnamodel.spec.resolve.resolve_hierarchical`."""
        return resolve_hierarchical(spec, data)

    # --- the fit

    def fit(self, spec: HierarchicalSpec, data: Dataset, settings: FitSettings) -> Fit:
        """:func:`~dnamodel.inference.sampling.fit_hierarchical`, keeping the compiled model for refits."""
        idata, fitted = fit_hierarchical(spec, data, **settings.sampling())
        asked = spec.sampler.draws if settings.draws is None else settings.draws
        if idata.posterior.sizes["draw"] < asked:  # nutpie returns the draws it has on Ctrl-C
            raise KeyboardInterrupt
        return Fit(spec, idata, fitted.inputs, fitted.timings.as_dict(), fitted)

    def rebuild(self, idata: Any, spec: HierarchicalSpec, data: Dataset) -> Fit:
        """A saved fit with its inputs resolved again; its compiled model is found when a refit needs it."""
        return Fit(spec, idata, resolve_hierarchical(spec, data))

    def compiled(self, fit: Fit) -> Fitted:
        """The fit's compiled model: its own, or this process's of its structure (compiled once)."""
        return fit.compiled if fit.compiled is not None else compiled_for(fit.inputs)

    def summarize(self, fit: Fit, data: Dataset) -> Summary:
        """:func:`~dnamodel.checks.summary.summarize_fit`."""
        return summarize_fit(fit.idata, data, sampling_section=self.sampling_section)

    # --- its checks

    def predictive_checks(self, fit: Fit) -> list[Check]:
        """Each count and within-county row against its posterior predictive."""
        return hierarchical_predictive_checks(fit.idata)

    def leave_one_out(self, fit: Fit, refit: RefitSettings) -> list[Check]:
        """Refits with each count's reporting error made uninformative (no recompile)."""
        return hierarchical_leave_one_out(self.compiled(fit), **refit.sampling())

    def forecasts_at(
        self, spec: HierarchicalSpec, data: Dataset, cutoffs: Sequence[tuple[str, float]], refit: RefitSettings
    ) -> list[Forecast]:
        """Refits on its observations dated up to each cutoff; the thesis bound only from its own date."""
        fitted = compiled_for(resolve_hierarchical(spec, data))
        thesis = data.observations.get(spec.thesis.stock) if spec.thesis is not None else None
        thesis_date = decimal_year(str(thesis.date)) if thesis is not None and thesis.date else math.inf
        settings = refit.sampling()
        seed = settings.pop("seed")
        found = hierarchical_forecasts(fitted, data, list(cutoffs), thesis_date=thesis_date, seed=seed, **settings)
        return [Forecast(label, used, tuple(checks)) for label, used, checks in found]

    def prior_check(self, fit: Fit) -> PriorCheck:
        """The prior total, without and with the thesis bound."""
        return hierarchical_prior_check(fit.idata, fit.inputs)

    def with_log_densities(self, fit: Fit) -> az.InferenceData:
        """The fit with its log-likelihood and top-level log-prior groups, saved with it for ``--sensitivity``."""
        return add_log_densities(fit.idata, self.compiled(fit))

    def _log_densities(self, fit: Fit) -> az.InferenceData:
        groups = fit.idata.groups()
        saved = "log_prior" in groups and "log_likelihood" in groups
        return hierarchical_log_densities(fit.idata, None if saved else self.compiled(fit))

    def power_scaling(self, fit: Fit, var_names: Sequence[str] | None) -> PowerScaling:
        """Power-scaling of α, β, σ and the total (by default) to the top-level priors and the likelihood."""
        post = fit.idata.posterior
        names = var_names or [
            n for n in reported_quantities(parameters.HIERARCHICAL) if n in post and post[n].ndim == 2
        ]
        return sensitivity_table(self._log_densities(fit), names)

    def scaled_estimate(self, fit: Fit, prior: str, alpha: float, var: str) -> ScaledEstimate:
        """:func:`~dnamodel.checks.powerscale.reweighted_estimate` on the fit's top-level log priors."""
        return reweighted_estimate(self._log_densities(fit), prior, alpha, var)

    def scaled_refit(self, fit: Fit, prior: str, alpha: float, refit: RefitSettings) -> az.InferenceData:
        """The compiled model refitted with the prior's data containers scaled."""
        return hierarchical_scaled_refit(self.compiled(fit), prior, alpha, **refit.sampling())

    def sbc(self, inputs: ModelInputs, simulations: int, refit: RefitSettings) -> Calibration:
        """:func:`~dnamodel.checks.calibration.hierarchical_sbc` on the compiled model."""
        return hierarchical_sbc(compiled_for(inputs), simulations, **refit.sampling())

    # --- what a person reads

    def figures(self, fit: Fit, study: Study | None = None) -> list[tuple[str, Any]]:
        """Each unit's fraction against its Han share (``_fraction_han.png``)."""
        return [("fraction_han", lambda path: presented.fraction_plot(fit.idata, fit.inputs, path))]

    def parameter_axes(self, fit: Fit, study: Study) -> Mapping[str, str]:
        """Its registry's axis labels in the study's words; β a difference of strata in the two-stratum variant."""
        return plots.hierarchical_parameter_axes(fit.idata, study, fit.inputs.covariate_column)

    def report_model(self, fit: Fit, data: Dataset, prior: PriorCheck, target: Path) -> ReportModel:
        """:func:`dnamodel.outputs.hierarchical.report_model`."""
        return presented.report_model(fit.spec, fit.inputs, fit.idata, data, prior, target)

    def stocks(self, fit: Fit) -> list[tuple[float, str]]:
        """The thesis's database stock, which the prior predictive plot marks."""
        return presented.thesis_stocks(fit.inputs)

    # --- sweeps

    def sweep_point(self, spec: HierarchicalSpec, data: Dataset, settings: SweepSettings) -> dict[str, Any]:
        """A point on a compiled model of its structure (one compile per structure per worker)."""
        quiet_arviz()
        fitted = compiled_for(resolve_hierarchical(spec, data), settings.sampler)
        idata = sample(
            fitted,
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            seed=seeds(settings.seed)[0],  # as a fit seeds its sampler: a point at the spec's values is its fit
            target_accept=spec.sampler.target_accept,
            cores=settings.cores,
        )
        post = idata.posterior
        d = diagnose(idata)
        by_group = post["group_total"].median((dims.CHAIN, dims.DRAW))
        return {
            "total": point_total(post["total"].values.ravel()),
            "share_median": float(np.median(post["share"].values)),
            "group_median": {
                str(k): float(v) for k, v in zip(by_group[dims.GROUP].values, by_group.values, strict=True)
            },
            "divergences": d.divergences,
            "max_rhat": d.max_rhat,
            "min_ess": min(d.min_ess_bulk, d.min_ess_tail),
            "passed": d.passed,
            "spec_hash": spec.hash,
        }

    def check_point(self, spec: HierarchicalSpec, data: Dataset, settings: SweepSettings) -> None:
        """The point's inputs resolve, and its draws fit in memory."""
        check_sampler_settings(
            scalars_per_draw(resolve_hierarchical(spec, data)),
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            seed=settings.seed,
        )
