"""The dated model's family (``docs/model.md``, section 5): each figure at its date, one compiled density.

Its spec is :class:`~dnamodel.spec.dated.DatedSpec` (``kind = "dated"``), resolved by
:func:`~dnamodel.spec.dated.resolve_dated`; it is fitted by :func:`~dnamodel.inference.dated.fit_dated`
(nutpie on the numba kernel, or PyMC on its twin), and every refit (leave-one-out, forecasts, SBC, a
sweep's point, a scaled prior) is a new packed vector for the one density compiled per machine, so a
refit needs the model's inputs and nothing compiled. Its checks are :mod:`dnamodel.checks.dated`'s;
its log prior is taken to each parameter's own scale for power-scaling
(:func:`~dnamodel.checks.scaled_priors.dated_log_densities`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dnamodel import dims
from dnamodel.checks.adaptive import draw_until_gated, first_draws
from dnamodel.checks.calibration import Calibration
from dnamodel.checks.dated import (
    EXTENSIONS,
    Campaign,
    Contraction,
    Forecast,
    SourceCheck,
    TruthRecovery,
    dated_contraction,
    dated_fixed_truth,
    dated_forecasts,
    dated_leave_one_out,
    dated_leave_one_source_out,
    dated_predictive_checks,
    dated_prior_check,
    dated_sbc,
    extend_chains,
    refit,
)
from dnamodel.checks.gates import MAX_DIVERGENCES, Diagnostics, diagnose_posterior
from dnamodel.checks.powerscale import (
    PowerScaling,
    ScaledEstimate,
    reported_quantities,
    reweighted_estimate,
    sensitivity_table,
)
from dnamodel.checks.predictive import Check, PriorCheck
from dnamodel.checks.reweight import Base, base_from_draws, base_from_fit
from dnamodel.checks.scaled_priors import dated_log_densities, dated_scaled_refit
from dnamodel.checks.summary import Summary, summarize_fit
from dnamodel.checks.voi import ValueOfInformation, dated_value_of_information
from dnamodel.families.base import (
    Capability,
    Family,
    Fit,
    FitSettings,
    RefitSettings,
    SweepSettings,
    point_total,
)
from dnamodel.inference.dated import (
    Draws,
    Layout,
    Warm,
    constrain,
    draw_prior,
    fit_dated,
    initial_point,
    layout_of,
    pack,
    sample_packed,
    scalars,
    stored_per_draw,
    totals,
    warm_from,
    warm_start,
)
from dnamodel.inference.dated_packing import campaign_curve
from dnamodel.inference.sampling import check_sampler_settings, seeds
from dnamodel.outputs import dated as presented
from dnamodel.outputs import plots
from dnamodel.outputs.html import ReportModel
from dnamodel.spec import parameters
from dnamodel.spec.dated import (
    CampaignSpec,
    DatedFractionSpec,
    DatedInputs,
    DatedObservationSpec,
    DatedPopulationSpec,
    DatedSpec,
    StartSpec,
    parse_dated,
    resolve_dated,
)
from dnamodel.spec.hierarchical import SamplerSpec
from dnamodel.spec.voi import parse_candidates, resolve_candidates

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.data import Dataset
    from dnamodel.data.study import Study


class DrawsToReweight:
    """A dated fit's draws as its checks' importance-sampling base (:class:`~dnamodel.checks.reweight.Base`).

    Built the first time a check asks (:meth:`base`), then shared by leave-one-out, the sources and
    the forecasts; a :class:`~dnamodel.families.base.Fit`'s ``compiled``, what its refits reuse.
    """

    def __init__(self, idata: Any, inputs: DatedInputs) -> None:
        self._idata, self._inputs = idata, inputs
        self._base: Base | None = None
        self._built = False

    def base(self) -> Base | None:
        """The base (``None`` for a fit without unconstrained draws), built once."""
        if not self._built:
            self._base = base_from_fit(self._idata, self._inputs)
            self._built = True
        return self._base


def _base(fit: Fit, refit: RefitSettings) -> Base | None:
    """What a fit's checks reweight first: nothing when exact refits are asked for (``refit.importance`` false)."""
    if not refit.importance:
        return None
    if isinstance(fit.compiled, DrawsToReweight):
        return fit.compiled.base()
    return base_from_fit(fit.idata, fit.inputs)


REFIT_DRAWS = 600
"""Draws per chain of each leave-one-out and forecast refit's first round: most refits pass their gates
(ESS ≥ 400 for what they predict) with them; the rest are extended (:func:`~dnamodel.checks.dated.refit`)."""
REFIT_TUNE = 500


def optional_tables() -> tuple[str, ...]:
    """Tables a dated spec may leave out: the priors the registry calls optional, by their spec key.

    Without ``fraction.group_sd`` the model has no group level, without ``fraction.reported`` no offset of
    the reported units. Read from the registry when called, so a parameter added there is one too.
    """
    return tuple(str(p.prior) for p in parameters.spec_priors(parameters.DATED) if p.optional)


class DatedFamily(Family):
    """The dated model: each unit's fraction at saturation, its group's campaign over time, the databases."""

    kind: ClassVar[str] = "dated"
    noun: ClassVar[str] = "a dated model"
    spec_class: ClassVar[type] = DatedSpec
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.POSTERIOR,
            Capability.PREDICTIVE_CHECKS,
            Capability.LEAVE_ONE_OUT,
            Capability.LEAVE_SOURCE_OUT,
            Capability.FORECAST_CHECKS,
            Capability.PRIOR_CHECK,
            Capability.POWER_SCALING,
            Capability.SCALED_REFIT,
            Capability.SBC,
            Capability.FIXED_TRUTH,
            Capability.REPORT,
            Capability.SWEEP,
            Capability.SWEEP_THREADS,
            Capability.VALUE_OF_INFORMATION,
        }
    )
    hints: ClassVar[Mapping[Capability, str]] = {
        Capability.DRAWS: "fit it with `dnamodel estimate {what}` (dnamodel.fit from Python)",
        Capability.FORECASTS_AT: "its forecasts are its spec's own ([[checks.forecast]])",
    }
    refit_draws: ClassVar[int] = REFIT_DRAWS
    sampling_section: ClassVar[str] = "5.9"
    """The model card's section on how this model is sampled, and why (cited when a fit diverges)."""
    refit_tune: ClassVar[int | None] = REFIT_TUNE

    # --- the spec

    def parse(self, raw: dict[str, Any], text: str, file: str) -> DatedSpec:
        """:func:`~dnamodel.spec.dated.parse_dated`, and the ``[voi]`` tables (:mod:`dnamodel.spec.voi`)."""
        spec = parse_dated(raw, text, file)
        parse_candidates(raw.get("voi"), file)
        return spec

    def sweep_paths(self, raw: Mapping[str, Any]) -> tuple[list[str], tuple[str, ...]]:
        """Keys a spec may leave to their defaults, and the tables it may leave out (:func:`optional_tables`).

        The registry's optional priors, and the fraction, campaign, each start, population, sampler and
        each observation keys; a prior the spec gives is a path of its own tables.
        """
        tables = optional_tables()
        extra = [*tables, *(f"fraction.{k}" for k in DatedFractionSpec.model_fields)]
        extra += [f"campaign.{k}" for k in CampaignSpec.model_fields]
        start = raw.get("campaign", {}).get("start", {}) if isinstance(raw.get("campaign"), Mapping) else {}
        for name in start:
            extra += [f"campaign.start.{name}.{k}" for k in StartSpec.model_fields]
        extra += [f"population.{k}" for k in DatedPopulationSpec.model_fields]
        extra += [f"sampler.{k}" for k in SamplerSpec.model_fields]
        for name in raw.get("observations", {}):
            extra += [f"observations.{name}.{k}" for k in DatedObservationSpec.model_fields]
        return extra, tables

    def resolve(self, spec: DatedSpec, data: Dataset) -> DatedInputs:
        """:func:`~dnamodel.spec.dated.resolve_dated`."""
        return resolve_dated(spec, data)

    # --- the fit

    def fit(self, spec: DatedSpec, data: Dataset, settings: FitSettings) -> Fit:
        """:func:`~dnamodel.inference.dated.fit_dated`; refits need only its inputs.

        A spec's ``draws = "auto"`` draws in rounds until the gates pass, with nutpie, unless the
        settings fix the draws (:func:`~dnamodel.checks.adaptive.draw_until_gated`); PyMC's sampler
        draws the cap.
        """
        adaptive = settings.draws is None and spec.sampler.adaptive and settings.sampler == "nutpie"
        if adaptive:
            cap = spec.sampler.draws
            asked = first_draws(cap)
            sampling = settings.sampling() | {"draws": asked}
            adapt = functools.partial(draw_until_gated, cap=cap)
            fitted = fit_dated(spec, data, **sampling, adapt=adapt, max_draws=cap)
        else:
            fitted = fit_dated(spec, data, **settings.sampling())
            asked = spec.sampler.draws if settings.draws is None else settings.draws
        if fitted.idata.posterior.sizes["draw"] < asked:  # nutpie returns the draws it has on Ctrl-C
            raise KeyboardInterrupt
        return Fit(
            spec, fitted.idata, fitted.inputs, dict(fitted.timings), DrawsToReweight(fitted.idata, fitted.inputs)
        )

    def rebuild(self, idata: Any, spec: DatedSpec, data: Dataset) -> Fit:
        """A saved fit with its inputs resolved again."""
        inputs = resolve_dated(spec, data)
        return Fit(spec, idata, inputs, compiled=DrawsToReweight(idata, inputs))

    def summarize(self, fit: Fit, data: Dataset) -> Summary:
        """:func:`~dnamodel.checks.summary.summarize_fit`."""
        return summarize_fit(fit.idata, data, sampling_section=self.sampling_section)

    # --- its checks

    def predictive_checks(self, fit: Fit) -> list[Check]:
        """Each observation against its posterior predictive; a bound's PIT is its mid-PIT."""
        return dated_predictive_checks(fit.idata, fit.inputs)

    def leave_one_out(self, fit: Fit, refit: RefitSettings) -> list[Check]:
        """Each observation left out of the likelihood (a new packed vector each).

        The fit's draws reweighted where k̂ allows (unless ``refit.importance`` is false), else a refit
        warm from the fit.
        """
        return dated_leave_one_out(
            fit.inputs, **refit.sampling(), warm=warm_from(fit.idata), executor=refit.executor, base=_base(fit, refit)
        )

    def leave_one_source_out(self, fit: Fit, refit: RefitSettings, loo: Sequence[Check] | None) -> list[SourceCheck]:
        """Every observation of one source left out at once (a new packed vector each), as :meth:`leave_one_out`."""
        return dated_leave_one_source_out(
            fit.inputs,
            **refit.sampling(),
            loo=loo,
            warm=warm_from(fit.idata),
            executor=refit.executor,
            base=_base(fit, refit),
        )

    def forecast_checks(self, fit: Fit, refit: RefitSettings) -> list[Forecast]:
        """The spec's ``[[checks.forecast]]``: what was published by each date, as :meth:`leave_one_out` (a fit's)."""
        return dated_forecasts(
            fit.inputs, **refit.sampling(), warm=warm_from(fit.idata), executor=refit.executor, base=_base(fit, refit)
        )

    def prior_check(self, fit: Fit) -> PriorCheck:
        """The prior total (the thesis is data here: no separate bound to weigh it by)."""
        return dated_prior_check(fit.idata, fit.inputs)

    def with_log_densities(self, fit: Fit) -> az.InferenceData:
        """The fit itself: every dated fit saves its log densities."""
        idata: az.InferenceData = fit.idata
        return idata

    def power_scaling(self, fit: Fit, var_names: Sequence[str] | None) -> PowerScaling:
        """Power-scaling of every scalar and the total (by default), each prior on its own scale, the likelihood.

        The scalars are the registry's when called (:func:`~dnamodel.checks.powerscale.reported_quantities`).
        """
        post = fit.idata.posterior
        names = var_names or [n for n in reported_quantities(parameters.DATED) if n in post and post[n].ndim == 2]
        return sensitivity_table(dated_log_densities(fit.idata), names)

    def scaled_estimate(self, fit: Fit, prior: str, alpha: float, var: str) -> ScaledEstimate:
        """:func:`~dnamodel.checks.powerscale.reweighted_estimate` on the prior terms on their own scale."""
        return reweighted_estimate(dated_log_densities(fit.idata), prior, alpha, var)

    def scaled_refit(self, fit: Fit, prior: str, alpha: float, refit: RefitSettings) -> az.InferenceData:
        """:func:`~dnamodel.checks.scaled_priors.dated_scaled_refit`: the same density, the prior's numbers changed."""
        return dated_scaled_refit(fit.inputs, prior, alpha, **refit.sampling())

    def sbc(self, inputs: DatedInputs, simulations: int, refit: RefitSettings) -> Calibration:
        """:func:`~dnamodel.checks.dated.dated_sbc`."""
        return dated_sbc(
            inputs,
            simulations,
            seed=refit.seed,
            draws=refit.draws,
            tune=refit.tune,
            chains=refit.chains,
            executor=refit.executor,
        )

    def contraction(self, fit: Fit) -> list[Contraction]:
        """:func:`~dnamodel.checks.dated.dated_contraction`, from the fit's prior and posterior draws."""
        return dated_contraction(fit.idata, fit.inputs)

    def fixed_truth(
        self, inputs: DatedInputs, campaigns: Sequence[Campaign], replicates: int, refit: RefitSettings
    ) -> list[TruthRecovery]:
        """:func:`~dnamodel.checks.dated.dated_fixed_truth`."""
        return dated_fixed_truth(
            inputs,
            campaigns,
            replicates=replicates,
            seed=refit.seed,
            draws=refit.draws,
            tune=refit.tune,
            chains=refit.chains,
        )

    def value_of_information(
        self, fit: Fit, data: Dataset, simulations: int, refit_values: int, refit: RefitSettings, status: Any = None
    ) -> ValueOfInformation:
        """:func:`~dnamodel.checks.voi.dated_value_of_information` on the fit's draws, its spec's candidates."""
        candidates = resolve_candidates(fit.spec, data, fit.inputs)
        posterior = fit.idata.posterior
        x = posterior["unconstrained"].values
        kappa = posterior["typed_share"].values.ravel() if "typed_share" in posterior else None
        return dated_value_of_information(
            x.reshape(-1, x.shape[-1]),
            posterior["total"].values.ravel(),
            kappa,
            fit.inputs,
            candidates,
            simulations=simulations,
            seed=refit.seed,
            refit_values=refit_values,
            draws=refit.draws,
            tune=refit.tune,
            chains=refit.chains,
            status=status,
            executor=refit.executor,
        )

    # --- what a person reads

    def figures(self, fit: Fit, study: Study | None = None) -> list[tuple[str, Any]]:
        """The campaign over time (``_campaign.png``); each unit's fraction by its covariate (``_fraction.png``)."""
        figures = [("campaign", lambda path: presented.campaign_plot(fit.idata, fit.inputs, path, study=study))]
        if fit.inputs.covariate_effect:  # a spec without a covariate has nothing to set the fractions against
            figures.append(("fraction", lambda path: presented.covariate_plot(fit.idata, fit.inputs, path)))
        return figures

    def stocks(self, fit: Fit) -> list[tuple[float, str]]:
        """The database stocks it is fitted to, which the prior predictive plot marks."""
        return presented.database_stocks(fit.inputs)

    def parameter_axes(self, fit: Fit, study: Study) -> Mapping[str, str]:
        """Its registry's axis labels, in the study's words (:func:`dnamodel.outputs.plots.dated_parameter_axes`)."""
        return plots.dated_parameter_axes(study, fit.inputs.covariate_name, covariate_term=fit.inputs.covariate_effect)

    def report_model(self, fit: Fit, data: Dataset, prior: PriorCheck, target: Path) -> ReportModel:
        """:func:`dnamodel.outputs.dated.report_model`."""
        return presented.report_model(fit.spec, fit.inputs, fit.idata, data, prior, target)

    # --- sweeps

    def sweep_point(self, spec: DatedSpec, data: Dataset, settings: SweepSettings) -> dict[str, Any]:
        """A new packed vector for the one compiled density, and only the sweep's numbers.

        With ``settings.base`` (the spec's own fit, :meth:`sweep_base`), a point whose parameters are
        exactly the base's (the same curve and form, every block the base's, none held fixed that the
        base samples) and ``settings.importance`` is first the base's draws reweighted to the point's
        posterior (Pareto-smoothed importance sampling, :func:`~dnamodel.checks.dated.refit`'s
        ``base``), kept where k̂ is at most the limit and the weights' ESS on the total at least 400.
        Otherwise a point whose parameters are the base's, some perhaps held at fixed values
        (:func:`warm_for`: a point mass cannot be reweighted), starts from the base's adaptation:
        :data:`WARM_POINT_DRAWS` draws per chain after :data:`~dnamodel.inference.dated.WARM_TUNE`
        tuning steps, gated on the total (R-hat ≤ 1.01, bulk and tail ESS ≥ 400) and extended when it
        fails. With ``settings.mapped`` (the decisive assumptions'), a point of another structure starts
        from the base's adaptation mapped onto its parameters (:func:`mapped_for`) and is then the same
        gated refit. Any other point is a cold fit (:func:`_cold_point`). ``start`` in the result says
        which (``"importance"``, ``"warm"``, ``"mapped"``, ``"cold"``), and ``pareto_k`` and ``importance_ess`` what the
        reweighting found when it was tried.
        """
        inputs = resolve_dated(spec, data)
        base: SweepBase | None = settings.base
        warm = warm_for(base, inputs) if settings.warm and base is not None else None
        start = "warm"
        if warm is None and base is not None and settings.warm and settings.mapped:
            warm, start = mapped_for(base, inputs, seed=settings.seed), MAPPED
        if warm is None or base is None:
            return _cold_point(spec, inputs, settings)[0]
        draws_base = base.draws if settings.importance and same_parameters(base, inputs) else None
        fit = refit(
            inputs,
            np.ones(len(inputs.observation), bool),
            draws=min(settings.draws, WARM_POINT_DRAWS),
            tune=warm.tune,
            chains=settings.chains,
            seed=seeds(settings.seed)[0],
            cores=settings.cores,
            warm=warm,
            predicts=np.zeros(0, int),
            base=draws_base,
        )
        sums = totals(fit.quantities, inputs)
        result = _point_result(
            spec,
            inputs,
            sums,
            divergences=fit.divergences,
            rhat=fit.rhat,
            ess=fit.ess,
            passed=fit.passed,
            start="importance" if fit.method == "importance" else start,
            tune=fit.tune,
            draws=fit.x.shape[0] // fit.chains,
            extensions=fit.extensions,
        )
        if draws_base is not None:
            result |= {"pareto_k": _finite(fit.pareto_k), "importance_ess": _finite(fit.importance_ess)}
        return result

    def sweep_base(self, spec: DatedSpec, data: Dataset, settings: SweepSettings) -> tuple[dict[str, Any], Any]:
        """The spec's own point, a cold fit at the sweep's settings, and its adaptation and draws (:class:`SweepBase`).

        The draws (:class:`~dnamodel.checks.reweight.Base`, what every reweighting reuses) are built
        once here, and only when ``settings.importance``; without their derived draws, which a point
        (inputs of its own) derives again, so that a point sent to a process or a cluster carries the
        draws, their log density and their ESS (about 12 MB at 4 × 2,000), not everything they imply.
        """
        inputs = resolve_dated(spec, data)
        result, draws = _cold_point(spec, inputs, settings)
        result["start"] = "base"
        reweightable = None
        if settings.importance:  # without its derived draws (30 of 43 MB pickled): a point has inputs of its own
            reweightable = replace(base_from_draws(draws.x, draws.x.shape[0], inputs), derived={}, quantities={})
        return result, SweepBase.of(inputs, warm_start(draws.x, draws.stats["step_size"]), reweightable)

    def fit_base(
        self, fit: Fit, gates: Diagnostics | None, settings: SweepSettings
    ) -> tuple[dict[str, Any], SweepBase] | None:
        """The fit itself as the base a sweep's points start from: its point and its :class:`SweepBase`.

        What :meth:`sweep_base` gives from a cold refit of the spec, taken from a fit ``estimate`` has
        just made (its adaptation, its draws to reweight, its total): no refit. ``gates`` are the fit's
        (its summary's); without them they are computed. ``start`` in the point is ``"fit"``. None for a
        fit without unconstrained draws (one read back without them).
        """
        idata, inputs = fit.idata, fit.inputs
        warm = warm_from(idata)
        if warm is None or inputs is None:
            return None
        post = idata.posterior
        divergences = int(idata.sample_stats["diverging"].values.sum())
        if gates is None:
            gates = diagnose_posterior(post, divergences)
        sums = {
            "total": post["total"].values.ravel(),
            "share": post["share"].values.ravel(),
            "group_total": post["group_total"].values.reshape(-1, len(inputs.group)),
        }
        result = _point_result(
            fit.spec,
            inputs,
            sums,
            divergences=gates.divergences,
            rhat=gates.max_rhat,
            ess=min(gates.min_ess_bulk, gates.min_ess_tail),
            passed=gates.passed,
            start="fit",
            tune=int(idata.attrs.get("tune", 0)),
            draws=int(post.sizes["draw"]),
            extensions=0,
        )
        reweightable = None
        if settings.importance:
            drawn = fit.compiled.base() if isinstance(fit.compiled, DrawsToReweight) else base_from_fit(idata, inputs)
            # without its derived draws, as sweep_base's: a point has inputs of its own
            reweightable = None if drawn is None else replace(drawn, derived={}, quantities={})
        return result, SweepBase.of(inputs, warm, reweightable)

    def check_point(self, spec: DatedSpec, data: Dataset, settings: SweepSettings) -> None:
        """The point's inputs resolve, and its draws fit in memory."""
        check_sampler_settings(
            stored_per_draw(resolve_dated(spec, data)),
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            seed=settings.seed,
        )


WARM_POINT_DRAWS = REFIT_DRAWS
"""Draws per chain of a sweep's point warm-started from the spec's own fit (before any extension)."""


@dataclass(frozen=True)
class SweepBase:
    """What a sweep's points start from: the spec's own fit's adaptation and what fixes its parameters' meaning.

    ``draws``: the fit's draws to reweight (:class:`~dnamodel.checks.reweight.Base`), when the sweep
    reweights (``SweepSettings.importance``); a point run in another process or on a cluster is sent
    them with its settings.
    """

    warm: Warm
    layout: Layout
    curve: int
    form: str | None
    draws: Base | None = None
    names: Mapping[str, tuple[str, ...]] | None = None
    """Each sampled block's elements by name (:func:`element_names`), for a point of another structure to
    take what it shares (:func:`mapped_for`); None: blocks are matched by name and size alone."""

    @classmethod
    def of(cls, inputs: DatedInputs, warm: Warm, draws: Base | None) -> SweepBase:
        """The base of a fit of ``inputs``: its adaptation ``warm``, its ``draws`` to reweight, what its inputs fix."""
        return cls(warm, layout_of(inputs), campaign_curve(inputs), inputs.form, draws, element_names(inputs))


def same_parameters(base: SweepBase, inputs: DatedInputs) -> bool:
    """Whether a point's unconstrained vector is the base's: the same curve and form, every block where the base has it.

    Then the base's draws are draws on the point's coordinates and can be reweighted to its posterior;
    a block the base samples and the point holds at a value (a point mass), or one added, dropped or
    resized, cannot.
    """
    return campaign_curve(inputs) == base.curve and inputs.form == base.form and layout_of(inputs) == base.layout


def _finite(value: float) -> float | None:
    """A number for JSON: None for NaN or ±inf (k̂ of equal weights is −inf)."""
    return float(value) if np.isfinite(value) else None


def warm_for(base: SweepBase, inputs: DatedInputs) -> Warm | None:
    """The base's adaptation in a point's coordinates, or None when the point's model has another structure.

    The same structure: the same campaign curve and covariate form, and each block the point samples
    sampled by the base with as many elements. A block the point holds at a fixed value (model card
    5.8) is left out of the base's centre, scales and points (the rest keep theirs); a block added,
    dropped or resized (a term left out, an offset added, a unit more) makes it a cold fit.
    """
    if campaign_curve(inputs) != base.curve or inputs.form != base.form:
        return None
    layout = layout_of(inputs)
    index = np.full(layout.ndim, -1)
    for name, where in layout.blocks.items():
        size = where.stop - where.start
        theirs = base.layout.blocks.get(name, slice(0, 0))
        sampled = theirs.stop - theirs.start if theirs.start < base.layout.ndim else 0
        if where.start >= layout.ndim and size:  # held at a fixed value: left out of the warm start
            continue
        if size != sampled:
            return None
        index[where] = np.arange(theirs.start, theirs.stop)
    if (index < 0).any():
        return None
    w = base.warm
    return Warm(w.centre[index], w.scale[index], w.step, w.points[:, index], w.tune)


MAPPED = "mapped"
"""The ``start`` of a point of another structure started from the base's adaptation, mapped (:func:`mapped_for`)."""
MAPPED_SEED = 13
"""The word of a mapped start's prior draws: ``SeedSequence([seed, 13])``."""
PRIOR_POINTS = 256
"""Prior draws from which a mapped start takes the scale of a coordinate the base lacks (and its starting points)."""


def element_names(inputs: DatedInputs) -> dict[str, tuple[str, ...]]:
    """Each sampled block's elements by name: a scalar's one, a group's, a unit's or an uplift's names.

    What lets a point of another structure take the base's adaptation for each element it shares
    (:func:`mapped_for`), wherever its blocks sit in its vector.
    """
    layout = layout_of(inputs)
    by_shape = {
        parameters.SCALAR: ("",),
        parameters.GROUP: tuple(inputs.group),
        parameters.UNIT: tuple(inputs.unit),
        parameters.UPLIFT: tuple(inputs.uplift_name),
    }
    names = {}
    for parameter in parameters.DATED:
        block = layout.blocks[parameter.block]
        if block.start < layout.ndim and block.stop > block.start:
            names[parameter.block] = by_shape[parameter.shape]
    return names


def mapped_for(base: SweepBase, inputs: DatedInputs, *, seed: int, tune: int | None = None) -> Warm:
    """The base's adaptation mapped onto a point of another structure (a curve, a term left out or added).

    Each element the point samples that the base samples too (the same block and element name: a
    scalar, a group's, a unit's, an uplift's) takes the base's centre, scale and starting points; an
    element the base lacks takes its centre from the prior's (:func:`~dnamodel.inference.dated.initial_point`,
    where a cold fit starts), its scale and starting points from :data:`PRIOR_POINTS` prior draws
    (seeded from ``seed``). The step size is the base's; ``tune`` the tuning steps that follow (by
    default the base's, as a warm start's: :data:`~dnamodel.inference.dated.WARM_TUNE`). The
    refit is then gated and extended as a warm one is: what the mapping gets wrong, tuning and the
    gates see.
    """
    layout = layout_of(inputs)
    ndim, w = layout.ndim, base.warm
    theirs = base.names or {}
    ours = element_names(inputs)
    index = np.full(ndim, -1)
    for name, where in layout.blocks.items():
        if where.start >= ndim or where.stop == where.start:
            continue
        found = base.layout.blocks.get(name, slice(0, 0))
        if found.start >= base.layout.ndim or found.stop == found.start:
            continue  # the base lacks it, or holds it at a value
        if name in theirs:
            position = {element: found.start + i for i, element in enumerate(theirs[name])}
            index[where] = [position.get(element, -1) for element in ours[name]]
        elif found.stop - found.start == where.stop - where.start:
            index[where] = np.arange(found.start, found.stop)
    shared = index >= 0
    rng = np.random.default_rng(np.random.SeedSequence([seed, MAPPED_SEED]))
    prior = draw_prior(inputs, PRIOR_POINTS, rng)
    spread = prior.std(axis=0)
    centre = np.where(shared, w.centre[np.maximum(index, 0)], initial_point(inputs))
    scale = np.where(shared, w.scale[np.maximum(index, 0)], np.where(spread > 0, spread, 1.0))
    count = len(w.points)
    points = np.where(shared, w.points[:, np.maximum(index, 0)], prior[np.arange(count) % PRIOR_POINTS])
    return Warm(centre, scale, w.step, points, w.tune if tune is None else tune)


COLD_SEED = 12
"""The word of a cold point's extensions' seeds: ``SeedSequence([sampler seed, 12, extension])``."""


def _cold_point(spec: DatedSpec, inputs: DatedInputs, settings: SweepSettings) -> tuple[dict[str, Any], Draws]:
    """A point fitted as :func:`~dnamodel.inference.dated.fit_dated` samples, with the same seed, gated and extended.

    So a point at the spec's own values has its fit's draws; but no prior draws, predictives or
    ``InferenceData``. The gates are :func:`~dnamodel.checks.gates.diagnose_posterior`'s on the free
    parameters (every element of the unconstrained vector), the gated scalars, the total, the share and
    the groups' totals: a fit's :func:`~dnamodel.checks.gates.diagnose` also takes R-hat of every derived
    vector (each unit's fraction and collection, each observation's expectation), functions of the same draws.
    A point that fails them with no more divergences than the gate allows is extended as a warm refit is
    (every chain continued for as many draws again, :func:`~dnamodel.checks.dated.extend_chains`), at most
    :data:`~dnamodel.checks.dated.EXTENSIONS` times, and then kept with ``passed`` false: a point that
    passes at once has the numbers it had before its refits were extended.
    """
    packed = pack(inputs)
    sampler_seed = seeds(settings.seed)[0]  # as fit_dated seeds its sampler: a point at the spec's values is its fit
    result = sample_packed(
        packed,
        inputs,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        seed=sampler_seed,
        target_accept=spec.sampler.target_accept,
        cores=settings.cores,
    )
    x, steps = result.x, result.stats["step_size"][:, -1]
    divergences, extended = int(result.stats["diverging"].sum()), 0
    while True:
        sums, d = _diagnosed(x, inputs, divergences)
        if d.passed or d.divergences > MAX_DIVERGENCES or extended >= EXTENSIONS:
            break
        extended += 1
        word = int(np.random.SeedSequence([sampler_seed, COLD_SEED, extended]).generate_state(1)[0])
        x, steps, more = extend_chains(packed, inputs, x, steps, seed=word, cores=settings.cores)
        divergences += more
    point = _point_result(
        spec,
        inputs,
        sums,
        divergences=d.divergences,
        rhat=d.max_rhat,
        ess=min(d.min_ess_bulk, d.min_ess_tail),
        passed=d.passed,
        start="cold",
        tune=settings.tune,
        draws=x.shape[1],
        extensions=extended,
    )
    stats = result.stats if not extended else {"step_size": steps[:, None]}  # what a warm start reads
    return point, Draws(x, stats, result.seconds)


def _diagnosed(x: np.ndarray, inputs: DatedInputs, divergences: int) -> tuple[dict[str, np.ndarray], Diagnostics]:
    """The totals of draws ``x`` (chain, draw, ndim) and :func:`~dnamodel.checks.gates.diagnose_posterior`'s gates."""
    import xarray as xr  # deferred: start-up time

    chains = x.shape[0]
    q = constrain(x.reshape(-1, x.shape[-1]), inputs)
    sums = totals(q, inputs)
    total, share, by_group = sums["total"], sums["share"], sums["group_total"]
    by_chain = scalars(q, inputs) | {"total": total, "share": share}
    variables: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
        name: ((dims.CHAIN, dims.DRAW), v.reshape(chains, -1)) for name, v in by_chain.items()
    }
    variables["group_total"] = (
        (dims.CHAIN, dims.DRAW, dims.GROUP),
        by_group.reshape(chains, -1, by_group.shape[1]),
    )
    variables["unconstrained"] = ((dims.CHAIN, dims.DRAW, "parameter"), x)
    return sums, diagnose_posterior(xr.Dataset(variables), divergences)


def _point_result(
    spec: DatedSpec,
    inputs: DatedInputs,
    sums: dict[str, np.ndarray],
    *,
    divergences: int,
    rhat: float,
    ess: float,
    passed: bool,
    start: str,
    tune: int,
    draws: int,
    extensions: int,
) -> dict[str, Any]:
    """A sweep point's numbers, as plain data: the total, the share, each group's median, the gates."""
    by_group = sums["group_total"]
    return {
        "total": point_total(sums["total"]),
        "share_median": float(np.median(sums["share"])),
        "group_median": {group: float(v) for group, v in zip(inputs.group, np.median(by_group, axis=0), strict=True)},
        "divergences": int(divergences),
        "max_rhat": float(rhat),
        "min_ess": float(ess),
        "passed": bool(passed),
        "start": start,
        "tune": int(tune),
        "draws": int(draws),
        "extensions": int(extensions),
        "spec_hash": spec.hash,
    }
