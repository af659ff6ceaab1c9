"""The value of information of a fit: which figure, if found, would narrow the total's interval most.

:func:`voi` is the public :func:`dnamodel.voi`: from a fit's ``InferenceData`` alone (its spec,
data and inputs rebuilt from its provenance, as every check of a fit is), its family ranks the
spec's candidate observations (``[voi.NAME]``, or the defaults of :mod:`dnamodel.spec.voi`) by the
expected narrowing of the total's 90% interval (:mod:`dnamodel.checks.voi`). :func:`run_voi` is the
command's: a saved fit if there is one, else a fit made now, and the figure beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnamodel.checks.voi import ValueOfInformation
from dnamodel.data import Dataset
from dnamodel.errors import UsageError, check_type, check_whole
from dnamodel.families import Capability, fit_of, spec_of_fit
from dnamodel.outputs.io import read_netcdf
from dnamodel.outputs.voi import voi_plot
from dnamodel.workflows.fit import fit as fit_model

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import arviz as az
    from distributed import Client

DEFAULT_SIMULATIONS = 200
"""Simulated values per candidate: a width ratio's Monte Carlo error of about 0.01 on the bundled data."""
MAX_SIMULATIONS = 100_000


def voi(
    idata: az.InferenceData,
    *,
    data: Dataset | None = None,
    simulations: int = DEFAULT_SIMULATIONS,
    refits: int = 0,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    status: Callable[[str], None] | None = None,
    executor: Executor | Client | None = None,
) -> ValueOfInformation:
    """Rank candidate observations by how much each, if found, would narrow the total's 90% interval.

    A preposterior by simulation (``docs/model.md``, section 5.15): for each candidate, values are
    simulated from the fit's posterior predictive with the candidate's measurement error, the fit's
    draws are reweighted by each value's likelihood (Pareto-smoothed importance sampling, with k̂),
    and the 90% widths are averaged. With ``refits=N`` the model is also refitted with the
    candidate appended as an observation at N simulated values (and at those whose k̂ exceeds 0.7),
    which validates the reweighting and replaces it where it is unreliable.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit from :func:`dnamodel.fit`, or read back with :func:`dnamodel.read_fit`.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.
    simulations : int
        Simulated values per candidate (default 200).
    refits : int
        Refits per candidate (default 0: importance sampling only).
    draws, tune, chains : int, optional
        Each refit's settings: by default the fit's, draws capped at 400 and tuning at 500.
    seed : int, optional
        The simulations' and refits' seed; by default the fit's.
    status : callable, optional
        Told what is being done (a terminal's progress line).
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where a dated model's refits run, as a sweep's points (:func:`dnamodel.sweep`): a process
        pool or a dask cluster's client; by default threads of this process. The numbers are the same.

    Returns
    -------
    ValueOfInformation
        ``narrowings`` best first, each with its expected width ratio, Monte Carlo error, method and
        largest k̂; ``as_dict()`` for JSON.

    Raises
    ------
    UsageError
        If ``idata`` is not a fit of dnamodel, its model has no candidates to weigh (a hierarchical
        model), or its data are not ``data``.
    DataError
        If the spec's ``[voi]`` tables name an unknown place or database.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=100)
    >>> ranked = dnamodel.voi(idata, simulations=50)
    >>> 0 < ranked.narrowings[0].ratio <= ranked.narrowings[-1].ratio
    True
    """
    check_whole(simulations, "voi: simulations", 2, MAX_SIMULATIONS)
    check_whole(refits, "voi: refits", 0, MAX_SIMULATIONS)
    family, fit, data = fit_of(idata, data)
    family.require(Capability.VALUE_OF_INFORMATION, fit.spec.name)
    settings = family.refit_settings(idata.attrs, draws, tune, chains)
    if seed is not None:
        check_type(seed, int, "voi: seed", "a whole number")
        settings = type(settings)(settings.draws, settings.tune, settings.chains, seed)
    settings = replace(settings, executor=executor)
    return family.value_of_information(fit, data, simulations, refits, settings, status)


@dataclass(frozen=True)
class VoiRun:
    """What ``dnamodel voi`` made: the ranking, the fit it weighed (``None``: one made now) and the figure."""

    result: ValueOfInformation
    fit: Path | None
    figure: Path
    words: dict[str, str]


def run_voi(
    spec: Any,
    data: Dataset,
    *,
    source: Path | None,
    out: Path,
    simulations: int,
    refits: int,
    draws: int | None,
    tune: int | None,
    chains: int | None,
    seed: int | None,
    status: Callable[[str], None] | None = None,
    executor: Executor | Client | None = None,
) -> VoiRun:
    """``dnamodel voi``: the fit at ``source`` (or, when that is ``None``, one made now at the spec's settings), ranked.

    The figure goes to ``out/NAME_voi.png``.
    """
    say = status or (lambda line: None)
    if source is not None:
        say(f"Reading {source}")
        idata = read_netcdf(source)
        fitted = spec_of_fit(idata, str(source))
        if spec is not None and fitted.text != spec.text:
            raise UsageError(f"{source} is a fit of another spec than {spec.name}'s; fit it with dnamodel estimate")
    else:
        say(f"Fitting {spec.name} (no saved fit: `dnamodel estimate` saves one for --from)")
        idata = fit_model(spec, data=data, prior_draws=100)
    result = voi(
        idata,
        data=data,
        simulations=simulations,
        refits=refits,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        status=status,
        executor=executor,
    )
    _, fit, fit_data = fit_of(idata, data)
    figure = out / f"{fit.spec.name}_voi.png"
    say(f"Drawing {figure}")
    voi_plot(result, figure, fit_data.study)
    words = {"unit": fit_data.study.words.unit, "counted": fit_data.study.words.counted}
    return VoiRun(result, source, figure, words)
