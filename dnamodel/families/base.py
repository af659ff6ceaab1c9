"""What a model family is: the protocol every kind of model implements, and what the kinds share.

A model family (Monte Carlo, hierarchical, dated) owns everything that differs by kind of model:
its spec class and how a spec's tables are parsed, resolving a spec against the data, fitting (a
Monte Carlo model's run), the checks it supports, declared as data (as CausalPy's checks declare
the designs they apply to), and the one writer and one reader of everything a fit saves in its
``attrs``. The stages before it (``spec``, ``inference``, ``checks``, ``outputs``) hold each kind's
code side by side (``checks/dated.py`` beside ``checks/predictive.py``); the family chooses among
them, and the stages after it (``workflows``, the command line, the public API) ask the family what
it can do instead of testing a spec's type.

- :class:`Capability`: what a family may support; :class:`ModelFamily` declares its set and
  :meth:`ModelFamily.require` refuses the rest with one clear message.
- :class:`FitSettings`, :class:`RefitSettings`: a fit's and a refit's sampler settings.
- :class:`Fit`: a fit in one shape whatever the family (its ``InferenceData``, the model's inputs,
  where its time went, and what refits reuse).
- :class:`SavedChecks` with :func:`write_saved_checks` and :func:`read_saved_checks`: the checks a
  fit carries in its ``attrs`` (leave-one-out, forecasts, the comparison's sentence), written and
  read here and nowhere else. The provenance beside them is written by
  :func:`dnamodel.provenance.fit_provenance`, the one place for every family.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from dnamodel.checks.dated import Campaign, Contraction, Forecast, SourceCheck, TruthRecovery
from dnamodel.checks.predictive import Check
from dnamodel.errors import DataError, Problem, UsageError, check_whole
from dnamodel.inference.sampling import MAX_CHAINS, MemoryCapError
from dnamodel.spec.hierarchical import MAX_SEED, MAX_TUNE

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.checks.calibration import Calibration
    from dnamodel.checks.powerscale import PowerScaling, ScaledEstimate
    from dnamodel.checks.predictive import PriorCheck
    from dnamodel.checks.summary import Summary
    from dnamodel.checks.voi import ValueOfInformation
    from dnamodel.data import Dataset
    from dnamodel.data.study import Study
    from dnamodel.outputs.html import ReportModel


class Capability(StrEnum):
    """What a model family may support; each is a public function or command that needs it."""

    DRAWS = "draws"
    """Monte Carlo draws of its inputs: ``monte_carlo``, ``sobol``, ``tornado``, ``dnamodel mc``."""
    POSTERIOR = "posterior"
    """A posterior fitted to the data: ``fit``, ``diagnose``, ``dnamodel estimate``, ``compare``."""
    PREDICTIVE_CHECKS = "predictive_checks"
    LEAVE_ONE_OUT = "leave_one_out"
    LEAVE_SOURCE_OUT = "leave_one_source_out"
    """Refits without every observation of one source at once (``leave_one_source_out``)."""
    FORECAST_CHECKS = "forecast_checks"
    """Refits on what was published by each date of the spec's ``[checks]``, predicting what came later."""
    FORECASTS_AT = "forecasts_at"
    """Refits at cutoffs another model names, predicting its own later observations (a comparison model)."""
    PRIOR_CHECK = "prior_check"
    POWER_SCALING = "power_scaling"
    """``power_scaling`` and ``scaled_estimate``: the fit's log densities reweighted, no refit."""
    SCALED_REFIT = "scaled_refit"
    SBC = "sbc"
    FIXED_TRUTH = "fixed_truth"
    """What the data can see: ``contraction`` (prior to posterior, on the fit's data) and ``fixed_truth``
    (coverage of data simulated from fixed campaigns, fitted with the spec's priors)."""
    REPORT = "report"
    SWEEP = "sweep"
    SWEEP_THREADS = "sweep_threads"
    """A sweep's points in threads of one process: one compiled density that releases the GIL."""
    VALUE_OF_INFORMATION = "value_of_information"
    """``voi`` and ``dnamodel voi``: which figure, if found, would narrow the total's interval most."""


@dataclass(frozen=True)
class FitSettings:
    """A fit's sampler settings; ``None`` takes the spec's ``[sampler]`` value."""

    draws: int | None = None
    tune: int | None = None
    chains: int | None = None
    seed: int | None = None
    sampler: str = "nutpie"
    progress: bool = False
    prior_draws: int = 2000

    def sampling(self) -> dict[str, Any]:
        """As keyword arguments of a family's fitting function."""
        return asdict(self)


@dataclass(frozen=True)
class RefitSettings:
    """Each refit's settings (leave-one-out, forecasts): draws and tuning per chain, chains, seed."""

    draws: int
    tune: int
    chains: int
    seed: int
    executor: Any = field(default=None, compare=False, repr=False)
    """Where a dated model's refits run (:func:`dnamodel.checks.dated.refits`' ``executor``): None, threads
    of this process; a ``concurrent.futures`` executor or a ``dask.distributed.Client``."""
    importance: bool = True
    """Whether a dated model's leave-one-out, source and forecast checks first reweight the fit's draws
    (Pareto-smoothed importance sampling, :mod:`dnamodel.checks.reweight`) and sample only where k̂ says
    the weights cannot be trusted; false samples every refit (``dnamodel estimate --exact-refits``)."""

    def __post_init__(self) -> None:
        """Bounded as the command line bounds them: a refit's settings come from Python too."""
        check_whole(self.draws, "draws", 1)
        check_whole(self.tune, "tune", 1, MAX_TUNE)
        check_whole(self.chains, "chains", 1, MAX_CHAINS)
        check_whole(self.seed, "seed", 0, MAX_SEED)

    def sampling(self) -> dict[str, int]:
        """As keyword arguments of a check's refits (the executor apart: a dated family passes it itself)."""
        return {"draws": self.draws, "tune": self.tune, "chains": self.chains, "seed": self.seed}


@contextlib.contextmanager
def spec_settings_blamed(spec: Any, draws: int | None, chains: int | None) -> Iterator[None]:
    """Within this block, draws × chains beyond the memory cap is the spec's error where the spec gave them.

    A caller that left ``draws`` or ``chains`` to the spec's ``[sampler]`` table gets a
    :class:`~dnamodel.errors.DataError` naming the spec file and its key, as every other spec error does.
    """
    try:
        yield
    except MemoryCapError as error:
        if draws is not None and chains is not None:
            raise
        key = "sampler.draws" if draws is None else "sampler.chains"
        flag = key.removeprefix("sampler.")
        raise DataError([Problem(str(spec.path), None, key, f"{error} (lower it, or give --{flag})")]) from None


@dataclass
class Fit:
    """A fit, in one shape whatever its family.

    Attributes
    ----------
    spec : object
        The spec it was fitted from (a ``HierarchicalSpec``, a ``DatedSpec``, ...).
    idata : arviz.InferenceData
        The fit, with its provenance in ``attrs`` (a Monte Carlo run: its ``xarray.Dataset`` of draws).
    inputs : object
        The model's inputs, its spec resolved against the data (``ModelInputs``, ``DatedInputs``).
    timings : dict of str to float
        Where the fit's time went, in seconds.
    compiled : object, optional
        What refits reuse, where the family has it: a hierarchical fit's compiled model; a dated fit's
        draws as its checks' importance-sampling base (built when first asked). A fit read back from a
        file has none, and the family compiles (or finds in its cache) what it needs.
    """

    spec: Any
    idata: Any
    inputs: Any
    timings: dict[str, float] = field(default_factory=dict)
    compiled: Any = None


@dataclass(frozen=True)
class SweepSettings:
    """What every point of one sweep shares (:func:`dnamodel.workflows.sweep.sweep`)."""

    spec_path: str
    spec_text: str
    data_location: str | None
    draws: int
    tune: int
    chains: int
    seed: int
    sampler: str
    cores: int | None = None
    warm: bool = False
    """Whether a point whose model has the spec's structure starts from the spec's own fit (``base``)."""
    base: Any = None
    """The spec's own fit's adaptation, when ``warm`` (a family's :meth:`Family.sweep_base`); not in a point's key."""
    importance: bool = False
    """With ``warm``: whether a point whose parameters are exactly the base's first reweights the base's
    draws (Pareto-smoothed importance sampling) and is sampled only where k̂ or the weights' ESS say no."""
    base_key: str | None = None
    """What the base is when it is not the spec's own cold refit (a hash of the fit's draws,
    :meth:`Family.fit_base`); in a point's key, so that a point cached against another fit is not read."""
    mapped: bool = False
    """With ``warm``: whether a point of another structure (a curve, a term left out or added) starts from the
    base's adaptation mapped onto its parameters, instead of cold (the decisive assumptions' refits)."""


SWEEP_PROBABILITIES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_NAMES = ("q05", "q25", "median", "q75", "q95")
"""The total's quantiles a sweep's point records, and their names."""


def point_total(total: np.ndarray) -> dict[str, float]:
    """A sweep point's total: its quantiles (:data:`QUANTILE_NAMES`) and its mean."""
    quantiles = np.quantile(total, SWEEP_PROBABILITIES).tolist()
    return dict(zip(QUANTILE_NAMES, quantiles, strict=True)) | {"mean": float(total.mean())}


# --- what a fit saves ------------------------------------------------------------------------------

LOO_KEY = "leave_one_out_json"
LOO_DRAWS_KEY = "leave_one_out_draws"
FORECASTS_KEY = "forecasts_json"
STRUCTURAL_KEY = "structural_uncertainty"
SOURCES_KEY = "leave_one_source_out_json"


@dataclass(frozen=True)
class SavedChecks:
    """The checks a fit carries in its ``attrs``, so that a report or a comparison drawn from its file refits nothing.

    ``None`` where the check was not run (``--no-loo``, or a family without forecasts).
    """

    loo: tuple[Check, ...] | None = None
    loo_draws: int | None = None
    """Draws per chain of each leave-one-out refit."""
    forecasts: tuple[Forecast, ...] | None = None
    structural: str | None = None
    """The sentence on structural uncertainty, from a comparison saved beside the fit."""
    sources: tuple[SourceCheck, ...] | None = None
    """Leave-one-source-out: each source's refit without it (a family with ``LEAVE_SOURCE_OUT``)."""


def write_saved_checks(idata: az.InferenceData, saved: SavedChecks) -> None:
    """Write ``saved`` into ``idata.attrs``: the one writer of a fit's saved checks (:func:`read_saved_checks` reads).

    Examples
    --------
    >>> import arviz as az
    >>> idata = az.InferenceData(attrs={})
    >>> check = Check("a", 1.0, 1.0, 0.5, 1.5, 0.5, lpd=-1.0)
    >>> write_saved_checks(idata, SavedChecks(loo=(check,), loo_draws=100))
    >>> read_saved_checks(idata).loo == (check,), read_saved_checks(idata).forecasts
    (True, None)
    """
    attrs = idata.attrs
    if saved.loo is not None:
        attrs[LOO_KEY] = json.dumps([asdict(c) for c in saved.loo])
        if saved.loo_draws is not None:
            attrs[LOO_DRAWS_KEY] = saved.loo_draws
    if saved.forecasts is not None:
        attrs[FORECASTS_KEY] = json.dumps(
            [
                {"data_to": f.data_to, "used": list(f.used), "checks": [asdict(c) for c in f.checks]}
                for f in saved.forecasts
            ]
        )
    if saved.structural is not None:
        attrs[STRUCTURAL_KEY] = saved.structural
    if saved.sources is not None:
        attrs[SOURCES_KEY] = json.dumps(
            [
                {
                    "source": g.source,
                    "lpd": g.lpd,
                    "total_median": g.total_median,
                    "checks": [asdict(c) for c in g.checks],
                }
                for g in saved.sources
            ]
        )


def read_saved_checks(idata: az.InferenceData) -> SavedChecks:
    """The checks saved in a fit's ``attrs`` by :func:`write_saved_checks` (or by an older dnamodel: the same keys)."""
    attrs = idata.attrs
    loo_text, forecasts_text = attrs.get(LOO_KEY), attrs.get(FORECASTS_KEY)
    loo = tuple(Check(**row) for row in json.loads(loo_text)) if loo_text else None
    forecasts = (
        tuple(
            Forecast(f["data_to"], tuple(f["used"]), tuple(Check(**row) for row in f["checks"]))
            for f in json.loads(forecasts_text)
        )
        if forecasts_text
        else None
    )
    draws = attrs.get(LOO_DRAWS_KEY)
    structural = attrs.get(STRUCTURAL_KEY)
    sources_text = attrs.get(SOURCES_KEY)
    sources = (
        tuple(
            SourceCheck(g["source"], tuple(Check(**row) for row in g["checks"]), g["lpd"], g["total_median"])
            for g in json.loads(sources_text)
        )
        if sources_text
        else None
    )
    return SavedChecks(
        loo, None if draws is None else int(draws), forecasts, None if structural is None else str(structural), sources
    )


# --- the protocol --------------------------------------------------------------------------------


class ModelFamily(Protocol):
    """What a model family provides: the kind's spec, inputs, fit, checks, saved checks and report parts.

    A method of a capability the family does not declare in :attr:`capabilities` is never called:
    callers ask :meth:`require` first, which raises a :class:`~dnamodel.errors.UsageError` saying why.
    :class:`Family` gives every family :meth:`require`, :meth:`supports`, :meth:`refit_settings` and
    the saved checks' writer and reader.
    """

    kind: ClassVar[str]
    """The ``[model]`` table's ``kind`` its specs declare (a Monte Carlo spec declares none: ``monte_carlo``)."""
    noun: ClassVar[str]
    """How a message names one of its models: ``"a dated model"``."""
    spec_class: ClassVar[type]
    """The class of its specs; a spec's family is the one whose class it is."""
    capabilities: ClassVar[frozenset[Capability]]
    """What it supports; every other capability is refused by :meth:`require`."""

    def require(self, capability: Capability, what: str | None = None) -> None:
        """Raise a ``UsageError`` naming the model ``what`` unless the family has ``capability``."""
        ...

    def supports(self, capability: Capability) -> bool:
        """Whether the family has ``capability``."""
        ...

    def refit_settings(
        self, attrs: Mapping[str, Any], draws: int | None = None, tune: int | None = None, chains: int | None = None
    ) -> RefitSettings:
        """Each leave-one-out or forecast refit's settings, from a fit's ``attrs`` (capped)."""
        ...

    def parse(self, raw: dict[str, Any], text: str, file: str) -> Any:
        """Its spec from a TOML file's tables (``text`` kept for provenance, ``file`` named in errors)."""
        ...

    def sweep_paths(self, raw: Mapping[str, Any]) -> tuple[list[str], tuple[str, ...]]:
        """The optional keys of its schema a sweep may set, and the tables a spec may leave out."""
        ...

    def resolve(self, spec: Any, data: Dataset) -> Any:
        """Its spec resolved against the data: the model's inputs."""
        ...

    def fit(self, spec: Any, data: Dataset, settings: FitSettings) -> Fit:
        """Fit its model (a Monte Carlo model: draw it), with its provenance in the fit's ``attrs``."""
        ...

    def rebuild(self, idata: Any, spec: Any, data: Dataset) -> Fit:
        """A saved fit (read back) with its spec and data: its inputs resolved again."""
        ...

    def summarize(self, fit: Fit, data: Dataset) -> Summary:
        """The fit's summary for citation."""
        ...

    def predictive_checks(self, fit: Fit) -> list[Check]:
        """Each observation against its posterior predictive 90% interval."""
        ...

    def leave_one_out(self, fit: Fit, refit: RefitSettings) -> list[Check]:
        """Each observation against a refit without it, with its exact log predictive density."""
        ...

    def leave_one_source_out(self, fit: Fit, refit: RefitSettings, loo: Sequence[Check] | None) -> list[SourceCheck]:
        """Each source's observations against a refit without all of them (``loo``'s refits reused for one)."""
        ...

    def forecast_checks(self, fit: Fit, refit: RefitSettings) -> list[Forecast]:
        """The spec's forecasts: refits on the past, each predicting what came later."""
        ...

    def forecasts_at(
        self, spec: Any, data: Dataset, cutoffs: Sequence[tuple[str, float]], refit: RefitSettings
    ) -> list[Forecast]:
        """Refits of ``spec`` at another model's cutoffs (decimal years), each predicting its own later observations."""
        ...

    def prior_check(self, fit: Fit) -> PriorCheck:
        """What the priors alone say about the total."""
        ...

    def with_log_densities(self, fit: Fit) -> Any:
        """The fit with the log-density groups power-scaling reads saved in it, for ``--sensitivity``."""
        ...

    def power_scaling(self, fit: Fit, var_names: Sequence[str] | None) -> PowerScaling:
        """Power-scaling sensitivity of the fit to its priors and its likelihood."""
        ...

    def scaled_estimate(self, fit: Fit, prior: str, alpha: float, var: str) -> ScaledEstimate:
        """A posterior mean with one prior raised to a power, by reweighting the fit's draws."""
        ...

    def scaled_refit(self, fit: Fit, prior: str, alpha: float, refit: RefitSettings) -> Any:
        """A refit with one prior raised to a power."""
        ...

    def sbc(self, inputs: Any, simulations: int, refit: RefitSettings) -> Calibration:
        """Simulation-based calibration of its model on these inputs."""
        ...

    def contraction(self, fit: Fit) -> list[Contraction]:
        """Each SBC-ranked quantity's prior-to-posterior contraction on the fit's data."""
        ...

    def fixed_truth(
        self, inputs: Any, campaigns: Sequence[Campaign], replicates: int, refit: RefitSettings
    ) -> list[TruthRecovery]:
        """Data simulated from fixed campaigns, fitted with the spec's priors: how far the intervals miss."""
        ...

    def value_of_information(
        self, fit: Fit, data: Dataset, simulations: int, refit_values: int, refit: RefitSettings, status: Any = None
    ) -> ValueOfInformation:
        """The expected narrowing of the total's 90% interval by each candidate observation."""
        ...

    def save_checks(self, fit: Fit, saved: SavedChecks) -> None:
        """Save checks in the fit's ``attrs``: the one writer."""
        ...

    def saved_checks(self, idata: Any) -> SavedChecks:
        """The checks a fit carries: the one reader."""
        ...

    def figures(self, fit: Fit, study: Study | None = None) -> list[tuple[str, Any]]:
        """Its own figures of a fit for ``dnamodel estimate``, ``(file suffix, drawer)``, in the study's words."""
        ...

    def stocks(self, fit: Fit) -> list[tuple[float, str]]:
        """The database stocks the prior predictive plot marks: ``(value, label)``."""
        ...

    def parameter_axes(self, fit: Fit, study: Study) -> Mapping[str, str]:
        """The parameter plot's axis label of each scalar parameter, in the study's words (its registry's)."""
        ...

    def report_model(self, fit: Fit, data: Dataset, prior: PriorCheck, target: Any) -> ReportModel:
        """What the HTML report at ``target`` says of its model, and the figures it adds."""
        ...

    def sweep_point(self, spec: Any, data: Dataset, settings: SweepSettings) -> dict[str, Any]:
        """One point of a sweep: the total's quantiles and what the point's gates say, as plain data."""
        ...

    def check_point(self, spec: Any, data: Dataset, settings: SweepSettings) -> None:
        """Raise before any point runs if this point's spec cannot run (its inputs, its memory)."""
        ...


class Family:
    """What the families share: capabilities declared as data, and the refusal of the rest.

    A family subclasses this, sets the class attributes, and implements the methods of its
    capabilities; the rest raise through :meth:`require` with the family's :attr:`hints`.
    """

    kind: ClassVar[str]
    noun: ClassVar[str]
    spec_class: ClassVar[type]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    hints: ClassVar[Mapping[Capability, str]] = {}
    """For a capability the family lacks, what to do instead (appended to the refusal; ``{what}`` is the model)."""
    refit_draws: ClassVar[int] = 0
    sampling_section: ClassVar[str | None] = None
    """The model card's section on how the family's models are sampled, cited when a fit diverges."""
    refit_tune: ClassVar[int | None] = None

    def supports(self, capability: Capability) -> bool:
        """Whether the family has ``capability``.

        Examples
        --------
        >>> from dnamodel.families import family_named
        >>> family_named("dated").supports(Capability.FORECAST_CHECKS)
        True
        >>> family_named("hierarchical").supports(Capability.FORECAST_CHECKS)
        False
        """
        return capability in self.capabilities

    def require(self, capability: Capability, what: str | None = None) -> None:
        """Raise unless the family has ``capability``; ``what`` names the model in the message.

        Raises
        ------
        UsageError
            Saying which kind of model it is, what it lacks, and what to use instead.

        Examples
        --------
        >>> from dnamodel.families import family_named
        >>> family_named("hierarchical").require(Capability.FORECAST_CHECKS, "hierarchical_han")
        Traceback (most recent call last):
        ...
        dnamodel.errors.UsageError: hierarchical_han is a hierarchical model, which has no forecast checks: ...
        """
        if capability in self.capabilities:
            return
        subject = what or "the model"
        hint = self.hints.get(capability, "").format(what=subject)
        label = capability.value.replace("_", " ")
        raise UsageError(f"{subject} is {self.noun}, which has no {label}" + (f": {hint}" if hint else ""))

    def refit_settings(
        self, attrs: Mapping[str, Any], draws: int | None = None, tune: int | None = None, chains: int | None = None
    ) -> RefitSettings:
        """Each refit's settings as ``dnamodel estimate`` chooses them: the fit's, with draws (and tuning) capped.

        Examples
        --------
        >>> from dnamodel.families import family_named
        >>> family_named("dated").refit_settings({"draws": 4000, "tune": 1500, "chains": 4, "seed": 1})
        RefitSettings(draws=600, tune=500, chains=4, seed=1, importance=True)
        """
        fit_tune = int(attrs.get("tune", self.refit_tune or 0))
        capped_tune = fit_tune if self.refit_tune is None else min(fit_tune, self.refit_tune)
        return RefitSettings(
            draws=draws if draws is not None else min(int(attrs["draws"]), self.refit_draws),
            tune=tune if tune is not None else capped_tune,
            chains=chains if chains is not None else int(attrs["chains"]),
            seed=int(attrs["seed"]),
        )

    def _lacks(self, capability: Capability) -> UsageError:
        """The error of a method whose capability the family lacks, for a caller that did not ask :meth:`require`."""
        try:
            self.require(capability)
        except UsageError as error:
            return error
        return UsageError(f"{self.noun} declares {capability.value} but does not implement it")

    # What a family without a capability answers (each family overrides those it has).

    def parse(self, raw: dict[str, Any], text: str, file: str) -> Any:
        """Its spec from a TOML file's tables."""
        raise NotImplementedError(f"{type(self).__name__} parses no spec")

    def resolve(self, spec: Any, data: Dataset) -> Any:
        """Its spec resolved against the data."""
        raise NotImplementedError(f"{type(self).__name__} resolves no spec")

    def fit(self, spec: Any, data: Dataset, settings: FitSettings) -> Fit:
        """Fit its model."""
        raise self._lacks(Capability.POSTERIOR)

    def rebuild(self, idata: Any, spec: Any, data: Dataset) -> Fit:
        """A saved fit with its inputs resolved again."""
        raise self._lacks(Capability.POSTERIOR)

    def summarize(self, fit: Fit, data: Dataset) -> Summary:
        """The fit's summary for citation."""
        raise self._lacks(Capability.POSTERIOR)

    def predictive_checks(self, fit: Fit) -> list[Check]:
        """Each observation against its posterior predictive 90% interval."""
        raise self._lacks(Capability.PREDICTIVE_CHECKS)

    def leave_one_out(self, fit: Fit, refit: RefitSettings) -> list[Check]:
        """Each observation against a refit without it."""
        raise self._lacks(Capability.LEAVE_ONE_OUT)

    def leave_one_source_out(self, fit: Fit, refit: RefitSettings, loo: Sequence[Check] | None) -> list[SourceCheck]:
        """Each source's observations against a refit without all of them."""
        raise self._lacks(Capability.LEAVE_SOURCE_OUT)

    def forecast_checks(self, fit: Fit, refit: RefitSettings) -> list[Forecast]:
        """The spec's forecasts."""
        raise self._lacks(Capability.FORECAST_CHECKS)

    def forecasts_at(
        self, spec: Any, data: Dataset, cutoffs: Sequence[tuple[str, float]], refit: RefitSettings
    ) -> list[Forecast]:
        """Refits at another model's cutoffs."""
        raise self._lacks(Capability.FORECASTS_AT)

    def prior_check(self, fit: Fit) -> PriorCheck:
        """What the priors alone say about the total."""
        raise self._lacks(Capability.PRIOR_CHECK)

    def with_log_densities(self, fit: Fit) -> Any:
        """The fit with the log-density groups power-scaling reads."""
        raise self._lacks(Capability.POWER_SCALING)

    def power_scaling(self, fit: Fit, var_names: Sequence[str] | None) -> PowerScaling:
        """Power-scaling sensitivity of the fit."""
        raise self._lacks(Capability.POWER_SCALING)

    def scaled_estimate(self, fit: Fit, prior: str, alpha: float, var: str) -> ScaledEstimate:
        """A posterior mean with one prior raised to a power."""
        raise self._lacks(Capability.POWER_SCALING)

    def scaled_refit(self, fit: Fit, prior: str, alpha: float, refit: RefitSettings) -> Any:
        """A refit with one prior raised to a power."""
        raise self._lacks(Capability.SCALED_REFIT)

    def sbc(self, inputs: Any, simulations: int, refit: RefitSettings) -> Calibration:
        """Simulation-based calibration of its model."""
        raise self._lacks(Capability.SBC)

    def contraction(self, fit: Fit) -> list[Contraction]:
        """Each SBC-ranked quantity's prior-to-posterior contraction."""
        raise self._lacks(Capability.FIXED_TRUTH)

    def fixed_truth(
        self, inputs: Any, campaigns: Sequence[Campaign], replicates: int, refit: RefitSettings
    ) -> list[TruthRecovery]:
        """Coverage at fixed campaigns."""
        raise self._lacks(Capability.FIXED_TRUTH)

    def value_of_information(
        self, fit: Fit, data: Dataset, simulations: int, refit_values: int, refit: RefitSettings, status: Any = None
    ) -> ValueOfInformation:
        """The expected narrowing of the total's interval by each candidate observation."""
        raise self._lacks(Capability.VALUE_OF_INFORMATION)

    def figures(self, fit: Fit, study: Study | None = None) -> list[tuple[str, Any]]:
        """Its own figures of a fit: none."""
        return []

    def stocks(self, fit: Fit) -> list[tuple[float, str]]:
        """The database stocks the prior predictive plot marks: none."""
        return []

    def parameter_axes(self, fit: Fit, study: Study) -> Mapping[str, str]:
        """The parameter plot's axis labels: none (each in model units)."""
        return {}

    def report_model(self, fit: Fit, data: Dataset, prior: PriorCheck, target: Any) -> ReportModel:
        """What the HTML report says of its model."""
        raise self._lacks(Capability.REPORT)

    def sweep_defaults(self) -> tuple[int, int]:
        """A sweep point's draws and seed when the sweep gives none and the spec has no ``[sampler]``."""
        raise NotImplementedError(f"{type(self).__name__} has its spec's sampler settings")

    def sweep_point(self, spec: Any, data: Dataset, settings: SweepSettings) -> dict[str, Any]:
        """One point of a sweep."""
        raise self._lacks(Capability.SWEEP)

    def sweep_base(self, spec: Any, data: Dataset, settings: SweepSettings) -> tuple[dict[str, Any], Any] | None:
        """The spec's own point, fitted cold, and what the other points start from (``settings.base``).

        None for a family whose points all start cold.
        """
        return None

    def fit_base(self, fit: Fit, gates: Any, settings: SweepSettings) -> tuple[dict[str, Any], Any] | None:
        """A fit as the base a sweep's points start from, as :meth:`sweep_base` gives it from a cold refit.

        None for a family whose points do not start from a fit: its base is then refitted.
        """
        return None

    def check_point(self, spec: Any, data: Dataset, settings: SweepSettings) -> None:
        """Raise before any point runs if this point's spec cannot run."""
        raise self._lacks(Capability.SWEEP)

    def save_checks(self, fit: Fit, saved: SavedChecks) -> None:
        """Save checks in the fit's ``attrs`` (:func:`write_saved_checks`)."""
        write_saved_checks(fit.idata, saved)

    def saved_checks(self, idata: Any) -> SavedChecks:
        """The checks a fit carries (:func:`read_saved_checks`)."""
        return read_saved_checks(idata)

    def sweep_paths(self, raw: Mapping[str, Any]) -> tuple[list[str], tuple[str, ...]]:
        """Paths a sweep may set that a spec may leave out (its schema's optional keys), and optional tables."""
        return [], ()


def _conforms(family: Family) -> ModelFamily:
    """Every :class:`Family` is a :class:`ModelFamily` (mypy checks this function)."""
    return family
