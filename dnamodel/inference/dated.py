"""The dated model: sample its packed inputs with nutpie, and a fit as ``InferenceData``.

Sampling needs only the log density and its gradient over the free parameters. These are compiled
once per machine (:mod:`dnamodel.inference.dated_kernel`, numba with an on-disk cache) and read
every number from one packed vector (:mod:`dnamodel.inference.dated_packing`). Refits of any kind
(leave-one-out, forecasts, SBC, sweeps) change only that vector. Everything derived from the draws
(fractions, totals by unit and group, campaign progress, expected observations, log
densities, predictive draws, prior draws) comes from the same kernel's functions over draws
(:mod:`dnamodel.inference.dated_quantities`), with the draw axis first.

The names this module re-exports from those two are the ones other modules import from here.
The mathematics is ``docs/model.md``, section 5.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.data import Dataset, load_data
from dnamodel.errors import UsageError
from dnamodel.inference.dated_packing import (
    BLOCKS,
    COUNT,
    COVERAGE,
    DATABASE_KIND,
    DATABASE_SHARE,
    LOWER,
    POINT,
    SLOT,
    UPPER,
    Layout,
    draw_prior,
    initial_point,
    layout_of,
    pack,
    precondition,
)
from dnamodel.inference.dated_pymc import sample_twin
from dnamodel.inference.dated_quantities import (
    DATABASE,
    DIMS,
    GROUP,
    UPLIFT,
    collected,
    constrain,
    database_stock,
    derive_draws,
    derived,
    dims_of,
    kernel,
    log_likelihood,
    log_prior,
    predictive_draws,
    progress,
    scalars,
    totals,
)
from dnamodel.inference.sampling import SAMPLERS, check_sampler_settings, fitted_packages, quiet_arviz, seeds
from dnamodel.provenance import fit_provenance
from dnamodel.spec import parameters
from dnamodel.spec.dated import DatedInputs, DatedSpec, resolve_dated

if TYPE_CHECKING:
    import arviz as az

__all__ = [
    "BLOCKS",
    "COUNT",
    "COVERAGE",
    "DATABASE",
    "DATABASE_KIND",
    "DATABASE_SHARE",
    "DIMS",
    "GROUP",
    "LOWER",
    "POINT",
    "PRIOR_TERMS",
    "SCALARS",
    "SLOT",
    "STATS",
    "UPLIFT",
    "UPPER",
    "WARM_TUNE",
    "DatedFit",
    "Draws",
    "Layout",
    "Warm",
    "collected",
    "constrain",
    "continue_chains",
    "database_stock",
    "derived",
    "draw_prior",
    "fit_dated",
    "initial_point",
    "layout_of",
    "log_likelihood",
    "log_prior",
    "pack",
    "posterior_dataset",
    "precondition",
    "predictive_draws",
    "progress",
    "sample_packed",
    "scalars",
    "stored_per_draw",
    "to_inference_data",
    "totals",
    "warm_from",
    "warm_start",
]

SCALARS = parameters.names(parameters.DATED, scalar=True)
"""The model's scalar parameters, as the posterior names them (those the model has), from the registry."""

PRIOR_TERMS = parameters.prior_terms(parameters.DATED)
"""The prior's terms, each a sum of log densities on the unconstrained scale (Jacobians included);
``effects`` holds the standard-normal group and unit effects and census errors."""

# --- sampling -------------------------------------------------------------------------------------


@dataclass
class Draws:
    """What a run of the sampler returns: unconstrained draws and sampler statistics."""

    x: np.ndarray  # (chain, draw, ndim)
    stats: dict[str, np.ndarray]  # each (chain, draw)
    seconds: float
    rounds: tuple[int, ...] = ()
    """Draws per chain at each round's stop decision, when the draws were continued in rounds
    (:func:`continue_chains`; empty for one run of the sampler)."""


@dataclass(frozen=True)
class Warm:
    """A fit's adaptation, for refits to start from (:func:`warm_start`).

    ``centre`` and ``scale`` (each ndim) are the fit's posterior means and standard deviations of
    the unconstrained coordinates: a refit samples y with x = centre + scale ⊙ y
    (:func:`~dnamodel.inference.dated_packing.precondition`), where nutpie's initial identity mass
    matrix is about the fit's adapted one. ``step`` is the fit's adapted step size (in those
    coordinates, about the same); ``points`` (n, ndim) are draws of the fit, evenly spaced, from
    which each chain starts; ``tune`` the tuning steps a refit takes from there.
    """

    centre: np.ndarray
    scale: np.ndarray
    step: float
    points: np.ndarray
    tune: int = 100


WARM_TUNE = 100
"""Tuning steps of a refit warm-started from a fit (:func:`warm_start`), against a cold refit's 500:
enough for the step size and the diagonal mass matrix to settle from the fit's (``benchmarks/README.md``)."""
WARM_POINTS = 64
"""How many of a fit's draws a :class:`Warm` keeps as starting points."""


def warm_from(idata: Any, tune: int = WARM_TUNE) -> Warm | None:
    """A :class:`Warm` from a dated fit's ``InferenceData`` (its unconstrained draws, step sizes); ``None`` without."""
    if idata is None or "unconstrained" not in getattr(idata, "posterior", {}) or "sample_stats" not in idata:
        return None
    return warm_start(idata.posterior["unconstrained"].values, idata.sample_stats["step_size"].values, tune=tune)


def warm_start(x: np.ndarray, step_size: np.ndarray, *, tune: int = WARM_TUNE, points: int = WARM_POINTS) -> Warm:
    """A :class:`Warm` from a fit's unconstrained draws ``x`` (chain, draw, ndim) and its step sizes (chain, draw).

    Deterministic: the starting points are draws at evenly spaced positions of the flattened draws.
    """
    flat = np.asarray(x, dtype=float).reshape(-1, np.shape(x)[-1])
    scale = flat.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # a coordinate that never moved (one draw) keeps its own scale
    chosen = np.linspace(0, len(flat) - 1, min(points, len(flat))).round().astype(int)
    step = float(np.median(np.asarray(step_size, dtype=float)[:, -1]))
    return Warm(flat.mean(axis=0), scale, step, flat[chosen].copy(), tune)


def _compiled(
    packed: np.ndarray, inputs: DatedInputs, init: np.ndarray, jitter: float, warm: Warm | None = None
) -> Any:
    """Nutpie's compiled-model object around the numba density and the packed inputs.

    With ``warm``, the packed vector carries its affine map and each chain starts at one of its
    points (chosen by the chain's seed), in the sampler's coordinates y, without jitter.
    """
    import nutpie.compile_pymc  # deferred: start-up time

    dated_kernel = kernel()  # the density only: the functions over draws may still be compiling
    ndim = int(packed[SLOT["H_NDIM"]])

    def initial(seed: int) -> np.ndarray:
        if warm is not None:
            point = warm.points[np.random.default_rng(seed).integers(len(warm.points))]
            return np.asarray((point - warm.centre) / warm.scale)
        return init + np.random.default_rng(seed).uniform(-jitter, jitter, ndim)

    return nutpie.compile_pymc.CompiledPyMCModel(
        _n_dim=ndim,
        dims={},
        _coords={},
        _shapes={"x": (ndim,)},
        compiled_logp_func=dated_kernel.logp_cfunc,
        compiled_expand_func=dated_kernel.store_cfunc,
        initial_point_func=initial,
        shared_data={},
        user_data=packed,
        n_expanded=ndim,
        shape_info=(["x"], [slice(0, ndim)], [(ndim,)]),
        logp_func=None,
        expand_func=None,
    )


STATS = ("diverging", "depth", "n_steps", "step_size", "energy", "logp", "mean_tree_accept", "maxdepth_reached")


def sample_packed(
    packed: np.ndarray,
    inputs: DatedInputs,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    cores: int | None = None,
    progress: bool = False,
    warm: Warm | None = None,
) -> Draws:
    """Run nutpie on the packed inputs and return the draws as arrays (no InferenceData).

    ``warm`` starts from a fit's adaptation (:class:`Warm`): the affine map, its step size and its
    points; ``tune`` is then the (short) tuning that follows. The draws returned are x, as without it.
    """
    import nutpie  # deferred: start-up time
    import pyarrow  # deferred: nutpie's own dependency, for its trace

    packed = np.ascontiguousarray(packed, dtype=np.float64)
    settings: dict[str, Any] = {}
    if warm is not None:
        packed = precondition(packed, warm.centre, warm.scale)
        settings["initial_step"] = warm.step
    model = _compiled(packed, inputs, initial_point(inputs), 0.5, warm)
    cores = cores if cores is not None else min(chains, os.cpu_count() or 1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        raw = nutpie.sample(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            target_accept=target_accept,
            save_warmup=False,
            progress_bar=progress,
            return_raw_trace=True,
            **settings,
        )
    seconds = time.perf_counter() - start
    draw_batches, stat_batches = raw.get_arrow_trace()
    ndim = int(packed[SLOT["H_NDIM"]])
    xs: list[np.ndarray] = []
    stats: dict[str, list[np.ndarray]] = {name: [] for name in STATS}
    for draw_batch, stat_batch in zip(draw_batches, stat_batches, strict=True):
        tuning = pyarrow.array(stat_batch.column("tuning")).to_numpy(zero_copy_only=False)
        keep = ~tuning
        values = pyarrow.array(draw_batch.column("x")).flatten().to_numpy().reshape(-1, ndim)
        xs.append(values[keep])
        for name in STATS:
            stats[name].append(pyarrow.array(stat_batch.column(name)).to_numpy(zero_copy_only=False)[keep])
    return Draws(np.stack(xs), {name: np.stack(v) for name, v in stats.items()}, seconds)


def continue_chains(
    packed: np.ndarray,
    inputs: DatedInputs,
    x: np.ndarray,
    steps: np.ndarray,
    *,
    draws: int,
    tune: int,
    seeds: Sequence[int],
    cores: int | None = None,
) -> Draws:
    """Every chain of ``x`` (chain, draw, ndim) continued from its last draw for ``draws`` more draws.

    Each chain is its own run of the sampler (seeded by its entry of ``seeds``), started at its
    last draw with its last step size (``steps``, one per chain), in the coordinates of the draws'
    own means and scales (:func:`warm_start`); after ``tune`` steps that re-tune the step size and
    mass matrix there, its draws follow the ones it had. Returns only the new draws and their
    statistics, chain by chain; ``seconds`` is the wall time of the runs. The chains run in
    threads, at most ``cores`` at once; the draws do not depend on it.
    """
    chains = x.shape[0]
    own = warm_start(x, np.asarray(steps, dtype=float)[:, None], tune=tune)

    def one(c: int) -> Draws:
        start = Warm(own.centre, own.scale, float(steps[c]), x[c, -1:], tune)
        return sample_packed(
            packed,
            inputs,
            draws=draws,
            tune=tune,
            chains=1,
            seed=int(seeds[c]),
            target_accept=inputs.target_accept,
            cores=1,
            warm=start,
        )

    workers = max(1, min(chains, cores if cores is not None else (os.cpu_count() or 1)))
    begin = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(one, range(chains)))
    seconds = time.perf_counter() - begin
    return Draws(
        np.concatenate([run.x for run in runs]),
        {name: np.concatenate([run.stats[name] for run in runs]) for name in STATS},
        seconds,
    )


# --- a fit as InferenceData ------------------------------------------------------------------------


def _coords(inputs: DatedInputs) -> dict[str, list[str]]:
    return {
        GROUP: list(inputs.group),
        UPLIFT: list(inputs.uplift_name),
        dims.UNIT: list(inputs.unit),
        dims.OBSERVATION: list(inputs.observation),
        DATABASE: list(inputs.database),
    }


def _dataset(values: dict[str, np.ndarray], chains: int, inputs: DatedInputs, scalars: bool = False) -> Any:
    """An xarray Dataset over (chain, draw, ...) from arrays whose first axis is chain × draw.

    Each variable's further dims are :func:`~dnamodel.inference.dated_quantities.dims_of`'s (none when ``scalars``).
    """
    import xarray as xr  # deferred: start-up time

    coords = _coords(inputs)
    out = {}
    for name, array in values.items():
        array = np.asarray(array)
        shaped = array.reshape(chains, array.shape[0] // chains, *array.shape[1:])  # -1 fails on size 0
        names = (dims.CHAIN, dims.DRAW, *(() if scalars else dims_of(name)))
        out[name] = xr.DataArray(shaped, dims=names, coords={d: coords[d] for d in names[2:]})
    return xr.Dataset(out)


def _posterior(x: np.ndarray, inputs: DatedInputs) -> tuple[Any, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The posterior group of draws ``x`` (chain, draw, ndim), and the arrays it was derived from."""
    import xarray as xr  # deferred: start-up time

    flat = x.reshape(-1, x.shape[-1])
    draws = derive_draws(flat, inputs)
    values = derived(flat, inputs, draws)
    posterior = _dataset(values, x.shape[0], inputs)
    posterior["unconstrained"] = xr.DataArray(x, dims=(dims.CHAIN, dims.DRAW, "parameter"))
    return posterior, draws, values


def posterior_dataset(x: np.ndarray, inputs: DatedInputs) -> Any:
    """The posterior group a fit of draws ``x`` (chain, draw, ndim) has, as :func:`to_inference_data` builds it.

    What the gates read (:func:`~dnamodel.checks.gates.diagnose_posterior`), without the rest of
    the ``InferenceData``: the main fit's adaptive rounds gate their draws with it.
    """
    return _posterior(x, inputs)[0]


@dataclass
class DatedFit:
    """A fitted dated model: the InferenceData and what it was fitted from."""

    idata: Any
    inputs: DatedInputs
    timings: dict[str, float] = field(default_factory=dict)


def to_inference_data(
    result: Draws,
    inputs: DatedInputs,
    *,
    seed: int,
    prior_draws: int,
    active: np.ndarray | None = None,
) -> az.InferenceData:
    """Posterior, sample stats, log densities, predictives, prior and data, as ArviZ groups."""
    import arviz as az  # deferred: start-up time
    import xarray as xr

    quiet_arviz()
    chains = result.x.shape[0]
    _, prior_seed, predictive_seed = seeds(seed)
    posterior, draws, values = _posterior(result.x, inputs)
    stats = xr.Dataset({name: ((dims.CHAIN, dims.DRAW), v) for name, v in result.stats.items()})
    stats["diverging"] = stats["diverging"].astype(bool)
    stats["tree_depth"] = stats["depth"]
    stats["lp"] = stats["logp"]
    rng = np.random.default_rng(predictive_seed)
    predictive = _dataset({"obs": predictive_draws(values["expected"], inputs, rng)}, chains, inputs)
    log_lik = _dataset({"obs": draws["log_likelihood"]}, chains, inputs)
    if inputs.unverified_name:
        # a member of an unverified source holds its value's log likelihood given the source's other
        # members (what leaving it out scores); what those leave out of the source's joint term is kept
        # beside them, so that the group still sums to the density the sampler saw (power-scaling reads it)
        members = [np.flatnonzero(inputs.unverified_group == g) for g in range(len(inputs.unverified_name))]
        rest = {
            f"unverified_{name}": draws["source_log_likelihood"][:, g]
            - draws["log_likelihood"][:, members[g]].sum(axis=1)
            for g, name in enumerate(inputs.unverified_name)
        }
        log_lik = log_lik.merge(_dataset(rest, chains, inputs, scalars=True))
    terms = dict(zip(parameters.prior_terms(parameters.DATED), draws["log_prior"].T, strict=True))
    log_prior_ds = _dataset(terms, chains, inputs, scalars=True)
    prior_x = draw_prior(inputs, prior_draws, np.random.default_rng(prior_seed))
    prior_values = derived(prior_x, inputs)
    prior = _dataset(prior_values, 1, inputs)
    prior_predictive = _dataset(
        {"obs": predictive_draws(prior_values["expected"], inputs, np.random.default_rng(prior_seed + 1))}, 1, inputs
    )
    coords = _coords(inputs)
    active = np.ones(len(inputs.observation), bool) if active is None else np.asarray(active, bool)
    observed = xr.Dataset(
        {
            "obs": xr.DataArray(
                inputs.value, dims=(dims.OBSERVATION,), coords={dims.OBSERVATION: coords[dims.OBSERVATION]}
            )
        }
    )
    obs_coord = {dims.OBSERVATION: coords[dims.OBSERVATION]}
    unit_coord = {dims.UNIT: coords[dims.UNIT]}
    constant = xr.Dataset(
        {
            "error": ((dims.OBSERVATION,), inputs.error),
            "date": ((dims.OBSERVATION,), inputs.date),
            "since": ((dims.OBSERVATION,), inputs.since),
            "censor": ((dims.OBSERVATION,), inputs.censor),
            "kind": ((dims.OBSERVATION,), inputs.kind),
            "base": ((dims.OBSERVATION,), inputs.base),
            "active": ((dims.OBSERVATION,), active),
            "population": ((dims.UNIT,), inputs.population),
            "covariate": ((dims.UNIT,), inputs.covariate_raw),
            "reported_unit": ((dims.UNIT,), inputs.reported),
            "unit_group": ((dims.UNIT,), [inputs.group[g] for g in inputs.unit_group]),
        },
        coords=obs_coord | unit_coord,
    )
    idata = az.InferenceData(
        posterior=posterior,
        sample_stats=stats,
        log_likelihood=log_lik,
        log_prior=log_prior_ds,
        posterior_predictive=predictive,
        prior=prior,
        prior_predictive=prior_predictive,
        observed_data=observed,
        constant_data=constant,
    )
    return idata


def stored_per_draw(inputs: DatedInputs) -> int:
    """How many numbers a fit stores per draw of each chain (for the memory cap).

    The unconstrained draw, what is derived from it, its log densities and its predictive.
    """
    U, J, K = len(inputs.unit), len(inputs.group), len(inputs.observation)
    registry = parameters.DATED
    held = sum(parameters.size(p, inputs) for p in registry if p.posterior)  # scalars, start, pace, uplift
    derived_size = held + 3 * J + 2 * U + 2 + K + len(inputs.database)
    return layout_of(inputs).ndim + derived_size + 2 * K + len(parameters.prior_terms(parameters.DATED)) + len(STATS)


def fit_dated(
    spec: DatedSpec,
    data: Dataset | None = None,
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    sampler: str = "nutpie",
    progress: bool = False,
    prior_draws: int = 2000,
    active: np.ndarray | None = None,
    adapt: Callable[[Draws, np.ndarray, DatedInputs, int], Draws] | None = None,
    max_draws: int | None = None,
) -> DatedFit:
    """Fit a dated model; see :func:`dnamodel.fit`.

    ``sampler="nutpie"`` (the default) samples the numba kernel; ``"pymc"`` samples the model's
    PyMC twin (:mod:`dnamodel.inference.dated_pymc`) with PyMC's own NUTS, compiled in this
    process, and returns the same ``InferenceData``: its draws are mapped to the kernel's
    unconstrained vector and derived from there.

    ``active`` leaves observations out of the likelihood (leave-one-out, forecasts) without
    changing anything else: the same compiled density reads a different packed vector.

    ``adapt``, with nutpie, is given the first run's draws, the packed vector, the inputs and the
    sampler's seed, and returns the draws continued in rounds (:class:`Draws`' ``rounds``): the
    main fit's adaptive draws (:mod:`dnamodel.checks.adaptive`). ``draws`` is then the first
    round's; the fit records the rounds (``draw_rounds_json``) and the time their gates took
    (``timings["rounds"]``). ``max_draws``, the most draws per chain ``adapt`` may reach, is
    checked against the memory cap before sampling, as ``draws`` is.
    """
    if sampler not in SAMPLERS:
        raise UsageError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
    data = data if data is not None else load_data()
    settings = spec.sampler
    draws = settings.draws if draws is None else draws
    tune = settings.tune if tune is None else tune
    chains = settings.chains if chains is None else chains
    seed = settings.seed if seed is None else seed
    inputs = resolve_dated(spec, data)
    most = max(draws, max_draws or 0)
    check_sampler_settings(stored_per_draw(inputs), draws=most, tune=tune, chains=chains, seed=seed)
    sampler_seed, _, _ = seeds(seed)
    start = time.perf_counter()
    if sampler == "nutpie":
        packed = pack(inputs, active)
        result = sample_packed(
            packed,
            inputs,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=sampler_seed,
            target_accept=settings.target_accept,
            progress=progress,
        )
        timings = {"sample": round(result.seconds, 3), "load": round(time.perf_counter() - start - result.seconds, 3)}
        if adapt is not None:
            begin, first = time.perf_counter(), result.seconds
            result = adapt(result, packed, inputs, sampler_seed)
            timings["sample"] = round(result.seconds, 3)
            timings["rounds"] = round(time.perf_counter() - begin - (result.seconds - first), 3)
    else:
        x, stats, seconds = sample_twin(
            inputs,
            layout_of(inputs),
            active,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=sampler_seed,
            target_accept=settings.target_accept,
            progress=progress,
        )
        result = Draws(x, stats, seconds["sample"])
        # "load" is what precedes the first draw: for PyMC, building and compiling the twin
        timings = {"sample": round(seconds["sample"], 3), "load": round(seconds["build"] + seconds["compile"], 3)}
    start = time.perf_counter()
    idata = to_inference_data(result, inputs, seed=seed, prior_draws=prior_draws, active=active)
    timings["derive"] = round(time.perf_counter() - start, 3)
    idata.attrs.update(
        fit_provenance(
            spec,
            data,
            kind="dated",
            seed=seed,
            sampler=sampler,
            draws=int(result.x.shape[1]),
            tune=tune,
            chains=chains,
            timings=timings,
            packages=fitted_packages(sampler, *(["pymc"] if sampler == "pymc" else [])),
            extra={"estimand_date": spec.estimand.date}
            | ({"draw_rounds_json": json.dumps(list(result.rounds))} if result.rounds else {}),
        )
    )
    return DatedFit(idata, inputs, timings)
