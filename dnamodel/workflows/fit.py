"""``fit`` and ``summarize``, of any model through its family: the public :func:`dnamodel.fit` and ``summarize``.

:func:`fit` asks a spec's model family to fit it (a hierarchical model compiles a PyMC model; a
dated one samples a numba density, or its PyMC twin); :func:`summarize` summarises a fit for
citation, or streams a Monte Carlo model and summarises its draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from dnamodel.data import Dataset, given_data
from dnamodel.deprecation import keyword_only_since
from dnamodel.errors import UsageError, check_type
from dnamodel.families import Capability, FitSettings, family_of, fit_of, load_model
from dnamodel.families.base import spec_settings_blamed
from dnamodel.montecarlo.engine import DEFAULT_CHUNK, DEFAULT_SEED
from dnamodel.montecarlo.run import MonteCarloSummary, stream_summary
from dnamodel.spec import DatedSpec, HierarchicalSpec, ModelSpec

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.checks.summary import Summary

MONTE_CARLO_DRAWS = 1_000_000
"""Draws of a Monte Carlo model's summary when none are given."""


@keyword_only_since("data")
def fit(
    spec: HierarchicalSpec | DatedSpec | str | Path,
    *,
    data: Dataset | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    sampler: str = "nutpie",
    progress: bool = False,
    prior_draws: int = 2000,
) -> az.InferenceData:
    """Fit a Bayesian model (dated or hierarchical) and return everything a reviewer needs in one object.

    Parameters
    ----------
    spec : HierarchicalSpec, DatedSpec, str or Path
        A spec, or a name or path for :func:`dnamodel.load_model`.
    data : Dataset, optional
        Defaults to the bundled data.
    draws, tune, chains, seed : int, optional
        Draws and tuning steps per chain, chains, and the seed; default to the spec's ``[sampler]``.
    sampler : {"nutpie", "pymc"}
        nutpie's NUTS (default), or PyMC's own. For a dated spec, nutpie samples the numba kernel
        and PyMC the model's PyMC twin (:mod:`dnamodel.inference.dated_pymc`).
    progress : bool
        Show progress bars while sampling.
    prior_draws : int
        Draws from the prior and prior predictive.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior`` (with the total ``total`` and its population share ``share``),
        ``sample_stats``, ``posterior_predictive``, ``prior``, ``prior_predictive``,
        ``observed_data`` and ``constant_data`` (a dated fit also ``log_likelihood`` and
        ``log_prior``); ``attrs`` carry provenance (spec, spec hash, its kind, data version, seed,
        sampler, package versions) and the timings.

    Raises
    ------
    TypeError
        For a ``spec`` or ``data`` of the wrong type, or settings that are not whole numbers.
    UsageError
        For a Monte Carlo spec, an unknown sampler, or settings out of their bounds (those of
        ``dnamodel estimate``).
    DataError
        For draws × chains from the spec's ``[sampler]`` beyond this machine's memory, naming its key.

    Examples
    --------
    >>> idata = fit("dated", draws=100, tune=100, chains=2, prior_draws=100)
    >>> idata.posterior["total"].shape, idata.attrs["model_kind"], idata.attrs["sampler"]
    ((2, 100), 'dated', 'nutpie')
    """
    loaded = fitted_spec(spec, "fit")
    data = given_data(data, "fit")
    settings = FitSettings(draws, tune, chains, seed, sampler, progress, prior_draws)
    with spec_settings_blamed(loaded, draws, chains):
        return family_of(loaded).fit(loaded, data, settings).idata


def fitted_spec(spec: Any, where: str) -> Any:
    """``spec`` as a function that fits takes it: a dated or hierarchical spec, or its name or path, loaded.

    Raises
    ------
    TypeError
        For anything but a spec, a name or a path.
    UsageError
        For a model that is drawn, not fitted (a Monte Carlo spec), or no such model.
    """
    check_type(
        spec, (str, Path, DatedSpec, HierarchicalSpec, ModelSpec), f"{where}: spec", "a spec, or a model's name or path"
    )
    loaded = load_model(spec) if isinstance(spec, str | Path) else spec
    family_of(loaded).require(Capability.POSTERIOR, loaded.name)
    return loaded


@overload
def summarize(
    model: az.InferenceData,
    draws: None = None,
    seed: None = None,
    *,
    data: Dataset | None = None,
    qmc: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    thresholds: tuple[float, ...] = (),
) -> Summary: ...


@overload
def summarize(
    model: ModelSpec | str | Path,
    draws: int | None = None,
    seed: int | None = None,
    *,
    data: Dataset | None = None,
    qmc: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    thresholds: tuple[float, ...] = (),
) -> MonteCarloSummary: ...


def summarize(
    model: az.InferenceData | ModelSpec | str | Path,
    draws: int | None = None,
    seed: int | None = None,
    *,
    data: Dataset | None = None,
    qmc: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    thresholds: tuple[float, ...] = (),
) -> Summary | MonteCarloSummary:
    """The summary of a model's total, with its Monte Carlo errors: of a fit, or of a Monte Carlo model.

    A fit (an ``InferenceData``) is summarised from its draws, for citation: the total and share with
    equal-tailed and HDI intervals, P(total > each figure the study compares it with), each group's
    total, the gates, and the sentence to cite or why it is withheld. A Monte Carlo model is drawn
    and summarised as it streams, in bounded memory (:func:`dnamodel.montecarlo.run.stream_summary`).

    Parameters
    ----------
    model : arviz.InferenceData, ModelSpec, str or Path
        A fit (from :func:`dnamodel.fit` or :func:`dnamodel.read_fit`), or a Monte Carlo spec or its
        name or path.
    draws, seed : int, optional
        A Monte Carlo model's draws (default 10^6) and seed; not for a fit, whose draws are its own.
    data : Dataset, optional
        A fit's data (by default read again from where it records); a Monte Carlo model's (by
        default the bundled data).
    qmc, chunk_size, thresholds
        A Monte Carlo model's: scrambled Sobol points, draws held at once, totals to give
        P(total > threshold) for (:func:`dnamodel.montecarlo.run.stream_summary`).

    Returns
    -------
    Summary or MonteCarloSummary
        A fit's :class:`~dnamodel.checks.summary.Summary`, or a Monte Carlo model's
        :class:`~dnamodel.montecarlo.run.MonteCarloSummary`.

    Raises
    ------
    UsageError
        If a fit is given Monte Carlo settings, or a spec's model is fitted, not drawn; if a fit is
        not dnamodel's, its spec text no longer matches its hash, its data are not ``data``, or its
        posterior total is not finite (the checks ``dnamodel report --from`` makes).
    TypeError
        If ``model`` is neither a fit nor a spec, name or path.

    Examples
    --------
    >>> summary = summarize("report_uniform", 100_000, seed=1)
    >>> round(summary.variables["total"].quantiles[0.5].value, -3)
    1063000.0
    """
    if hasattr(model, "groups") and hasattr(model, "attrs"):  # an InferenceData, even one without a posterior
        given = [n for n, v in (("draws", draws), ("seed", seed), ("thresholds", thresholds)) if v]
        if given or qmc or chunk_size != DEFAULT_CHUNK:
            raise UsageError(
                f"a fit is summarised from its own draws: {', '.join(given) or 'qmc, chunk_size'} "
                "are a Monte Carlo model's settings"
            )
        family, rebuilt, recorded = fit_of(model, data)
        return family.summarize(rebuilt, recorded)
    check_type(
        model, (str, Path, ModelSpec, DatedSpec, HierarchicalSpec), "summarize: model", "a fit, or a Monte Carlo spec"
    )
    spec: Any = load_model(model) if isinstance(model, str | Path) else model
    family_of(spec).require(Capability.DRAWS, spec.name)
    return stream_summary(
        spec,
        MONTE_CARLO_DRAWS if draws is None else draws,
        DEFAULT_SEED if seed is None else seed,
        qmc=qmc,
        data=data,
        chunk_size=chunk_size,
        thresholds=thresholds,
    )
