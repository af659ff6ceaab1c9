"""The checks of a fit, from the ``InferenceData`` alone, as ArviZ's functions take it.

A fit records its spec's text and hash and its data's location and version (``idata.attrs``):
each function here rebuilds what it needs from them through the fit's model family
(:func:`dnamodel.families.fit_of`: the spec, the data, the model's inputs) and asks the family for
the check, which refuses one it does not support with a message saying why. These are the public
:func:`dnamodel.predictive_checks`, :func:`dnamodel.leave_one_out`, :func:`dnamodel.leave_one_source_out`,
:func:`dnamodel.forecast_checks`,
:func:`dnamodel.prior_check`, :func:`dnamodel.power_scaling`, :func:`dnamodel.scaled_estimate`,
:func:`dnamodel.scaled_refit`, :func:`dnamodel.sbc`, :func:`dnamodel.contraction`,
:func:`dnamodel.fixed_truth`, :func:`dnamodel.read_fit` and
:func:`dnamodel.write_fit`. Every one takes the data as the keyword ``data=``.

The examples fit the shipped example programme at reduced draws, so that they run in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dnamodel.checks.calibration import Calibration
from dnamodel.checks.dated import CAMPAIGNS, Campaign, Contraction, Forecast, SourceCheck, TruthRecovery
from dnamodel.checks.powerscale import PowerScaling, ScaledEstimate
from dnamodel.checks.predictive import Check, PriorCheck
from dnamodel.checks.rebuild import check_posterior
from dnamodel.data import Dataset, given_data
from dnamodel.deprecation import keyword_only_since
from dnamodel.errors import UsageError, check_type, check_whole
from dnamodel.families import Capability, RefitSettings, family_of, fit_of, load_model, spec_of_fit
from dnamodel.outputs.io import read_netcdf, write_netcdf
from dnamodel.spec import DatedSpec, HierarchicalSpec, ModelSpec

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import arviz as az
    from distributed import Client


def read_fit(path: str | Path) -> az.InferenceData:
    """Read a fit saved by :func:`write_fit` or ``dnamodel estimate`` (``results/MODEL.nc``).

    Parameters
    ----------
    path : str or Path
        The fit's NetCDF file.

    Returns
    -------
    arviz.InferenceData
        The fit, with its provenance in ``attrs`` (spec text and hash, data location and
        version, seed, draws, chains) and, if it was made with them, its saved checks.

    Raises
    ------
    UsageError
        If there is no such file, it is not a NetCDF file, or it is not a fit of dnamodel (a plain
        NetCDF, another program's ``InferenceData``), its spec text does not hash to its recorded
        hash, or its posterior total is not finite: what ``dnamodel report --from`` refuses.
    TypeError
        If ``path`` is not a path.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> data = dnamodel.load_data(folder / "data")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=data, draws=200, tune=200, chains=2,
    ...                      prior_draws=200)
    >>> path = dnamodel.write_fit(idata, "quillmoor_dated.nc")
    >>> dnamodel.read_fit(path).attrs["spec_hash"] == idata.attrs["spec_hash"]
    True
    """
    check_type(path, (str, Path), "read_fit: path", "a fit's path")
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"{source}: no such fit; make one with dnamodel.fit and dnamodel.write_fit")
    idata = read_netcdf(source)
    spec_of_fit(idata, str(source))
    check_posterior(idata, str(source))
    return idata


def write_fit(idata: az.InferenceData, path: str | Path) -> Path:
    """Write a fit to NetCDF atomically (a temporary file, then a rename), provenance and all.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`.
    path : str or Path
        The file to create or replace; its folder must exist.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If ``idata`` is not an ``InferenceData`` or ``path`` not a path.
    UsageError
        If ``idata`` is not a fit of dnamodel (its provenance is missing or does not verify, or its
        posterior total is not finite), the folder does not exist, ``path`` is a folder, or the
        operating system refuses the write.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> write_fit(idata, "fit.nc").name
    'fit.nc'
    """
    check_type(path, (str, Path), "write_fit: path", "a file's path")
    spec_of_fit(idata, "write_fit: idata")
    check_posterior(idata, "write_fit: idata")
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name ending in .nc")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent}: no such folder to write the fit in")
    return write_netcdf(idata, target)


@keyword_only_since("data")
def prior_check(idata: az.InferenceData, *, data: Dataset | None = None) -> PriorCheck:
    """Prior predictive check: quantiles of the total under the priors alone, against the population.

    The fit's ``prior`` group holds draws of the parameters from their priors, pushed forward to
    the total; nothing in them has seen an observation.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit` (with prior draws), or read back with :func:`read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.

    Returns
    -------
    PriorCheck
        ``quantiles`` (1, 5, 50, 95 and 99%), the total at each without (``forward``) and with
        (``constrained``) a hierarchical model's thesis constraint (a dated model's are the same),
        the census ``population``, and ``plausible``: the 1% quantile at least one in ten thousand
        of the population and the 99% at most 1.5 times the population.

    Raises
    ------
    UsageError
        If ``idata`` is not a dnamodel fit, or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=200)
    >>> check = dnamodel.prior_check(idata)
    >>> check.quantiles, check.forward[0] < check.forward[-1]
    ((0.01, 0.05, 0.5, 0.95, 0.99), True)
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.PRIOR_CHECK, fit.spec.name)
    if "prior" not in idata.groups():
        raise UsageError("the fit has no prior draws: fit it with prior_draws above 0")
    return family.prior_check(fit)


@keyword_only_since("data")
def predictive_checks(idata: az.InferenceData, *, data: Dataset | None = None) -> list[Check]:
    """Posterior predictive checks: each observation against its 90% predictive interval.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`, or read back with :func:`read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records
        (its version must be the fit's).

    Returns
    -------
    list of Check
        One per observation: observed value, predictive median, 90% interval and PIT (a bound's
        PIT is its mid-PIT); ``Check.inside`` says whether it is consistent with the interval.

    Raises
    ------
    UsageError
        If ``idata`` is not a dnamodel fit, or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=200)
    >>> checks = dnamodel.predictive_checks(idata)
    >>> [c.observation for c in checks][:3]
    ['fernhollow', 'fernhollow_added', 'greyvale']
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.PREDICTIVE_CHECKS, fit.spec.name)
    return family.predictive_checks(fit)


@keyword_only_since("data")
def leave_one_out(
    idata: az.InferenceData,
    *,
    data: Dataset | None = None,
    refit: bool = False,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    executor: Executor | Client | None = None,
    exact: bool = False,
) -> list[Check]:
    """Leave-one-out: each observation against the posterior without it (reweighted, or refitted).

    A fit made by ``dnamodel estimate`` carries its leave-one-out checks (``attrs``); they are
    returned as saved unless ``refit`` is true. Otherwise every observation is left out in turn
    and the model refitted (a dated fit changes only its packed vector; a hierarchical one its
    data, on the compiled model rebuilt from the fit's provenance), with the fit's seed.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`, or read back with :func:`read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.
    refit : bool
        Refit even when the fit carries saved checks.
    draws, tune, chains : int, optional
        Sampler settings of each refit: by default those ``dnamodel estimate`` uses, the fit's
        with draws capped at 400 per chain and tuning at 500 for a dated model, draws capped at
        1,000 for a hierarchical one.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where a dated model's refits run, as a sweep's points (:func:`dnamodel.sweep`): a process
        pool or a dask cluster's client; by default threads of this process. The numbers are the same.
    exact : bool
        A dated fit: sample every refit. By default the fit's draws are reweighted first (Pareto-smoothed
        importance sampling) and only the refits whose weights' k̂ or ESS fail are sampled
        (:func:`dnamodel.checks.dated.refit`'s ``base``).

    Returns
    -------
    list of Check
        One per observation, with ``lpd``, its leave-one-out log predictive density, and how its
        posterior was made (``refit_method``, ``pareto_k``).

    Raises
    ------
    UsageError
        If ``idata`` is not a dnamodel fit, or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=200)
    >>> checks = dnamodel.leave_one_out(idata, draws=100, tune=100)
    >>> len(checks), all(c.lpd is not None for c in checks)
    (10, True)
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.LEAVE_ONE_OUT, fit.spec.name)
    saved = None if refit else family.saved_checks(idata).loo
    if saved is not None:
        return list(saved)
    return family.leave_one_out(
        fit, replace(family.refit_settings(idata.attrs, draws, tune, chains), executor=executor, importance=not exact)
    )


def leave_one_source_out(
    idata: az.InferenceData,
    *,
    data: Dataset | None = None,
    refit: bool = False,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    executor: Executor | Client | None = None,
    exact: bool = False,
) -> list[SourceCheck]:
    """Leave one source out: every observation of a source against a refit without all of them.

    Leave-one-out drops one figure and keeps its siblings from the same statement, which predict it.
    Here observations that share a source leave together: those whose data rows have the same
    ``source`` and ``source_date`` (joined transitively), and the members of one ``[unverified.NAME]``
    source. The grouping is the data's, so another programme's data group their own. A fit made by
    ``dnamodel estimate`` carries these checks (``attrs``); they are returned as saved unless
    ``refit`` is true. A source of one observation is its leave-one-out refit.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`, or read back with :func:`read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.
    refit : bool
        Refit even when the fit carries saved checks.
    draws, tune, chains : int, optional
        Sampler settings of each refit, as :func:`leave_one_out`'s.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where a dated model's refits run, as a sweep's points (:func:`dnamodel.sweep`): a process
        pool or a dask cluster's client; by default threads of this process. The numbers are the same.
    exact : bool
        A dated fit: sample every refit. By default the fit's draws are reweighted first (Pareto-smoothed
        importance sampling) and only the refits whose weights' k̂ or ESS fail are sampled
        (:func:`dnamodel.checks.dated.refit`'s ``base``).

    Returns
    -------
    list of SourceCheck
        One per source: its name (its observations joined by ``" + "``), a ``Check`` per observation,
        ``lpd``, the exact log predictive density of its observations together, and the refit's total.

    Raises
    ------
    UsageError
        If ``idata`` is not a fit of a family with this check (the dated model's), or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=200)
    >>> [g.source for g in dnamodel.leave_one_source_out(idata, draws=100, tune=100) if len(g.checks) > 1]
    ['larkspur + larkspur_coverage', 'database_stock + database_added']
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.LEAVE_SOURCE_OUT, fit.spec.name)
    saved_checks = family.saved_checks(idata)
    if not refit and saved_checks.sources is not None:
        return list(saved_checks.sources)
    settings = replace(family.refit_settings(idata.attrs, draws, tune, chains), executor=executor, importance=not exact)
    # the saved leave-one-out's refits are these settings' only at estimate's own (no setting given)
    default = draws is None and tune is None and chains is None and saved_checks.loo_draws == settings.draws
    loo = saved_checks.loo if default and not refit else None
    return family.leave_one_source_out(fit, settings, loo)


@keyword_only_since("data")
def forecast_checks(
    idata: az.InferenceData,
    *,
    data: Dataset | None = None,
    refit: bool = False,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    executor: Executor | Client | None = None,
    exact: bool = False,
) -> list[Forecast]:
    """A dated fit's forecast checks: refit on what was published by each date, predict what came later.

    The dates are the spec's ``[[checks.forecast]]``. A fit made by ``dnamodel estimate`` carries
    them (``attrs``), returned as saved unless ``refit`` is true. The hierarchical models have no
    time; their forecasts, for comparison, are ``dnamodel forecast-check``'s.

    Parameters
    ----------
    idata : arviz.InferenceData
        A dated fit from :func:`dnamodel.fit`, or read back with :func:`read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.
    refit : bool
        Refit even when the fit carries saved forecasts.
    draws, tune, chains : int, optional
        Sampler settings of each refit: by default the fit's, draws capped at 400, tuning at 500.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where a dated model's refits run, as a sweep's points (:func:`dnamodel.sweep`): a process
        pool or a dask cluster's client; by default threads of this process. The numbers are the same.
    exact : bool
        A dated fit: sample every refit. By default the fit's draws are reweighted first (Pareto-smoothed
        importance sampling) and only the refits whose weights' k̂ or ESS fail are sampled
        (:func:`dnamodel.checks.dated.refit`'s ``base``).

    Returns
    -------
    list of Forecast
        One per date: ``data_to``, the observations ``used``, and a ``Check`` per later one.

    Raises
    ------
    UsageError
        If ``idata`` is not a dated fit of dnamodel, or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=200)
    >>> [(f.data_to, [c.observation for c in f.checks]) for f in dnamodel.forecast_checks(idata, draws=100, tune=100)]
    [('2021-12', ['larkspur', 'larkspur_coverage', 'mossgate', 'kestrel_point'])]
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.FORECAST_CHECKS, f"the fit of {fit.spec.name}")
    saved = None if refit else family.saved_checks(idata).forecasts
    if saved is not None:
        return list(saved)
    return family.forecast_checks(
        fit, replace(family.refit_settings(idata.attrs, draws, tune, chains), executor=executor, importance=not exact)
    )


@keyword_only_since("data", "var_names")
def power_scaling(
    idata: az.InferenceData, *, data: Dataset | None = None, var_names: Sequence[str] | None = None
) -> PowerScaling:
    """Power-scaling sensitivity of a fit to its priors and its likelihood (Kallioinen et al. 2024).

    No refit: ``arviz.psens`` reweights the posterior draws by the fit's log densities. A dated
    fit always saves them; a hierarchical fit saved without them (``estimate`` without
    ``--sensitivity``) has them computed on its compiled model, rebuilt from its provenance.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`, or read back with :func:`read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.
    var_names : sequence of str, optional
        The posterior quantities to report; by default the model's top-level parameters and the total.

    Returns
    -------
    PowerScaling
        A row per quantity with its prior and likelihood sensitivity and a diagnosis;
        ``flagged`` lists the prior-sensitive ones.

    Raises
    ------
    UsageError
        If ``idata`` is not a dnamodel fit, or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=200)
    >>> "total" in [row.quantity for row in dnamodel.power_scaling(idata).rows]
    True
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.POWER_SCALING, fit.spec.name)
    return family.power_scaling(fit, var_names)


@keyword_only_since("var", "data")
def scaled_estimate(
    idata: az.InferenceData, prior: str, alpha: float, *, var: str = "total", data: Dataset | None = None
) -> ScaledEstimate:
    """A posterior mean with one prior raised to a finite power, by reweighting the fit's draws.

    :func:`power_scaling` says *whether* a quantity is sensitive to a prior; this says *by how much*, in
    the quantity's units. Pareto-smoothed importance sampling from the fit's saved log prior
    (no refit): a power below 1 weakens (widens) the prior, above 1 strengthens it.
    :func:`scaled_refit` is the refit it stands in for.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`, or read back with :func:`read_fit`.
    prior : str
        A prior term of the model, as :func:`power_scaling` names them (its ``prior_terms``), e.g.
        ``"typed_share"``.
    alpha : float
        The power, above 0.
    var : str
        A scalar posterior quantity; by default the total.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.

    Returns
    -------
    ScaledEstimate
        ``mean`` and its ``mcse``, the weights' ``pareto_k`` and ``k_threshold``; check
        ``reliable`` before using the mean (Vehtari et al. 2024).

    Raises
    ------
    UsageError
        If ``prior`` is not a prior term of the model, ``alpha`` is not positive, or ``var`` is
        not a scalar quantity of the posterior.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=100)
    >>> estimate = dnamodel.scaled_estimate(idata, "typed_share", 2.0)
    >>> estimate.quantity, estimate.prior, estimate.alpha, estimate.mean > 0
    ('total', 'typed_share', 2.0, True)
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.POWER_SCALING, fit.spec.name)
    return family.scaled_estimate(fit, prior, alpha, var)


@keyword_only_since("data")
def scaled_refit(
    idata: az.InferenceData,
    prior: str,
    alpha: float,
    *,
    data: Dataset | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
) -> az.InferenceData:
    """Refit a fit's model with one prior raised to a power: the check of :func:`scaled_estimate`.

    Every prior the models state, raised to a power, is a prior of the same family (Beta(8, 2)
    squared is Beta(15, 3)), so the refit changes only the prior's parameters and reuses the
    compiled model. Where it and the reweighted estimate disagree by many Monte Carlo errors,
    trust the refit: importance weights extrapolate.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`, or read back with :func:`read_fit`.
    prior : str
        A prior term of the model, as :func:`scaled_estimate` takes it.
    alpha : float
        The power, above 0.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.
    draws, tune, chains : int, optional
        Sampler settings; by default the fit's own.
    seed : int, optional
        By default the fit's seed plus 1, so that the refit's draws are not the fit's.

    Returns
    -------
    arviz.InferenceData
        ``posterior``: the model's scalar parameters and the total over ``(chain, draw)``;
        ``attrs`` name the prior, the power and the seed.

    Raises
    ------
    UsageError
        As :func:`scaled_estimate`.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> refit = dnamodel.scaled_refit(idata, "typed_share", 2.0)
    >>> refit.posterior.sizes["draw"], "total" in refit.posterior
    (100, True)
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.SCALED_REFIT, fit.spec.name)
    attrs = idata.attrs
    settings = RefitSettings(
        draws=draws if draws is not None else int(attrs["draws"]),
        tune=tune if tune is not None else int(attrs["tune"]),
        chains=chains if chains is not None else int(attrs["chains"]),
        seed=seed if seed is not None else int(attrs["seed"]) + 1,
    )
    return family.scaled_refit(fit, prior, alpha, settings)


@keyword_only_since("data")
def sbc(
    model: az.InferenceData | HierarchicalSpec | DatedSpec | str | Path,
    *,
    data: Dataset | None = None,
    simulations: int,
    draws: int = 500,
    tune: int = 500,
    chains: int = 4,
    seed: int = 20220913,
    executor: Executor | Client | None = None,
) -> Calibration:
    """Simulation-based calibration (Talts et al. 2018) of a model, or of the model of a fit.

    Draws ``simulations`` parameter sets from the prior and a data set from each, refits, and
    ranks each truth among the refit's thinned draws: uniform ranks if the inference is exact.

    Parameters
    ----------
    model : arviz.InferenceData, spec, str or Path
        A fit (its spec and data are rebuilt from its provenance), a spec, or a spec's name or path.
    data : Dataset, optional
        For a spec, the data (default: the bundled data); for a fit, the data it was made from.
    simulations : int
        Simulated data sets, and so refits; a meaningful calibration needs 100 or more.
    draws, tune, chains : int
        Sampler settings of each refit.
    seed : int
        Seeds the prior draws and every refit; the same seed gives the same ranks.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where a dated model's refits run, as a sweep's points (:func:`dnamodel.sweep`): a process
        pool or a dask cluster's client; by default threads of this process. The numbers are the same.

    Returns
    -------
    Calibration
        Ranks, truths, interval coverage, ESS and divergences per simulation;
        ``uniformity_pvalue`` tests the ranks.

    Raises
    ------
    UsageError
        If ``model`` is a Monte Carlo spec, or a fit's data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> calibration = dnamodel.sbc(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                            simulations=2, draws=100, tune=100, chains=2, seed=1)
    >>> calibration.ranks.shape[0], "total" in calibration.quantities
    (2, True)
    """
    check_whole(simulations, "sbc: simulations", 1)
    settings = RefitSettings(draws=draws, tune=tune, chains=chains, seed=seed, executor=executor)
    if hasattr(model, "groups") and hasattr(model, "attrs"):  # an InferenceData
        family, fit, _ = fit_of(model, data)
        spec, inputs = fit.spec, fit.inputs
    else:
        check_type(
            model,
            (str, Path, DatedSpec, HierarchicalSpec, ModelSpec),
            "sbc: model",
            "a fit, a spec, or a model's name or path",
        )
        spec = load_model(model) if isinstance(model, str | Path) else model
        family = family_of(spec)
        family.require(Capability.SBC, spec.name)
        inputs = family.resolve(spec, given_data(data, "sbc"))
    family.require(Capability.SBC, spec.name)
    return family.sbc(inputs, simulations, settings)


def contraction(idata: az.InferenceData, *, data: Dataset | None = None) -> list[Contraction]:
    """How far the fit's data narrow each quantity SBC ranks: prior-to-posterior contraction.

    SBC (:func:`sbc`) checks the computation: it passes for a quantity the data do not inform, whose
    posterior is its prior. Beside its rank uniformity, this says which quantities the data inform at
    all, from the fit's own prior and posterior draws: 1 − posterior variance / prior variance, and the
    ratio of the 90% widths.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit` (with its prior draws), or read back with :func:`read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.

    Returns
    -------
    list of Contraction
        One per quantity (the total, each scalar, each group's start and pace): ``prior_sd``,
        ``posterior_sd``, their 90% widths, ``contraction`` and ``width_ratio``.

    Raises
    ------
    UsageError
        If ``idata`` is not a fit of a family with this check (the dated model's), or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=200)
    >>> rows = {row.quantity: row for row in dnamodel.contraction(idata)}
    >>> rows["total"].contraction > 0.5, rows["total"].width_ratio < 0.5
    (True, True)
    """
    family, fit, _ = fit_of(idata, data)
    family.require(Capability.FIXED_TRUTH, fit.spec.name)
    return family.contraction(fit)


def fixed_truth(
    model: DatedSpec | str | Path,
    *,
    data: Dataset | None = None,
    replicates: int,
    campaigns: Sequence[Campaign] | None = None,
    draws: int = 400,
    tune: int = 500,
    chains: int = 4,
    seed: int = 20220913,
) -> list[TruthRecovery]:
    """Coverage at fixed "true" campaigns: data simulated from each, fitted with the spec's priors.

    SBC draws its truths from the prior, so a prior that is wrong cannot show in it. Each campaign
    here is one named set of parameter values (by default ``CAMPAIGNS``: the priors' centres, a slow
    campaign, a fast one, κ = 0.5); ``replicates`` data sets are simulated from each and refitted with
    the spec's own priors, and the truth of the total and of κ placed in each posterior.

    Parameters
    ----------
    model : spec, str or Path
        A dated spec, or its name or path.
    data : Dataset, optional
        The data whose structure (places, dates, kinds, bounds) the simulations keep; the bundled data
        by default.
    replicates : int
        Data sets simulated from each campaign, and so refits.
    campaigns : sequence of Campaign, optional
        The fixed truths (:data:`dnamodel.checks.dated.CAMPAIGNS` by default).
    draws, tune, chains : int
        Sampler settings of each refit.
    seed : int
        Seeds the simulated data and every refit; the same seed gives the same numbers.

    Returns
    -------
    list of TruthRecovery
        Per campaign and quantity: the ``truth``, its ``quantile`` in each posterior, whether each 90%
        interval ``covered`` it, each posterior ``median``; ``coverage``, ``miss`` and
        ``relative_error`` summarise them.

    Raises
    ------
    UsageError
        If ``model`` is not of a family with this check (the dated model's).

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> rows = dnamodel.fixed_truth(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                             replicates=1, draws=100, tune=100, chains=2, seed=1)
    >>> sorted({row.campaign for row in rows}), sorted({row.quantity for row in rows})
    (['central', 'fast', 'kappa_half', 'slow'], ['total', 'typed_share'])
    """
    check_whole(replicates, "fixed_truth: replicates", 1)
    check_type(model, (str, Path, DatedSpec), "fixed_truth: model", "a dated spec, or a model's name or path")
    spec = load_model(model) if isinstance(model, str | Path) else model
    family = family_of(spec)
    family.require(Capability.FIXED_TRUTH, spec.name)
    inputs = family.resolve(spec, given_data(data, "fixed_truth"))
    chosen = CAMPAIGNS if campaigns is None else tuple(campaigns)
    return family.fixed_truth(
        inputs, chosen, replicates, RefitSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    )
