"""Sensitivity sweeps: re-run a model over a grid of spec values, resumably, in parallel.

:func:`sweep` takes a spec and a grid ``{"dotted.path": [values, ...]}`` whose paths
address the spec's TOML (``fraction.beta.sigma``, ``thesis.use``,
``observations.NAME.samples``, ``inputs.rest_position.high``, ``fraction.reported.sigma``,
``observations.thesis_stock.use+observations.thesis_added.use``, ...; see
:mod:`dnamodel.spec.sweep`), runs the model at every point of the grid and returns an
``xarray.Dataset`` with one dimension per grid key (:mod:`dnamodel.outputs.sweep` presents it).

Speed. A dated model's density is compiled once per machine and reads every number from one
packed vector, so any point, even one that changes the model's structure (the covariate's form,
no group level, an observation left out), costs a new :func:`~dnamodel.inference.dated.pack` and
its sampling; a point derives only the numbers the dataset holds, with no prior draws, predictives
or ``InferenceData``. A hierarchical model's points that change only values share its structure,
and so one compiled model (:func:`dnamodel.inference.sampling.compiled_for`); each other structure
compiles once. Every point uses the same seed as a fit of its spec (common random numbers), so
differences between points are differences of the assumption, not of the draws, and a point at
the spec's own values has its fit's posterior.

Resumable. Each finished point is written atomically as a small JSON file in
``<out>.points/``, named by a hash of everything that determines it (dnamodel's version,
spec text, data version, overrides, draws, tuning, chains, seed, sampler). Running the same sweep again
reads those and runs only the rest; an interrupted sweep loses nothing finished.

Parallel. A dated model's points run in threads of this process, one per core (or per point if
fewer), each point's chains on ``cpu_count // threads`` cores: nutpie releases the GIL while it
samples. A hierarchical model's run in a local process pool with ``cpu_count // 2`` workers of
two cores each (one worker, in this process, on a two-core machine). ``client=`` (a
``dask.distributed.Client``) runs either on a cluster instead; each worker loads the dated
density from numba's disk cache once. A Monte Carlo model's point takes a fraction of a second
and always runs in this process.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.data import Dataset, given_data, load_data
from dnamodel.errors import DataError, Problem, UsageError, check_type, check_whole, python_value
from dnamodel.families import Capability, Family, current_value, family_of, known_paths, load_model, point_spec
from dnamodel.families.base import QUANTILE_NAMES, SweepSettings, spec_settings_blamed
from dnamodel.files import atomic_write_text, check_output_file, check_output_folder, make_folder
from dnamodel.montecarlo.run import check_draws, check_seed
from dnamodel.outputs.io import write_netcdf
from dnamodel.outputs.sweep import OWN_VALUES
from dnamodel.provenance import package_version, provenance
from dnamodel.spec import DatedSpec, HierarchicalSpec, ModelSpec
from dnamodel.spec.sweep import check_grid_size, check_path, coordinate

if TYPE_CHECKING:
    import xarray as xr
    from distributed import Client

POINT_FORMAT = 4
"""Version of the point files' layout; a change makes old point files stale (2: gates, ``start``, tuning, draws;
3: ``start = "importance"``, ``pareto_k``, ``importance_ess``, and ``importance`` in the key; 4: cold points
extended until their gates pass)."""


# --- points ----------------------------------------------------------------------------------------


Settings = SweepSettings
"""What every point of one sweep shares (:class:`dnamodel.families.base.SweepSettings`)."""


def _point_key(settings: Settings, data_version: str, overrides: Mapping[str, Any]) -> str:
    record = {
        "format": POINT_FORMAT,
        "dnamodel": package_version(),
        "spec": settings.spec_text,
        "data": data_version,
        "overrides": overrides,
        "draws": settings.draws,
        "tune": settings.tune,
        "chains": settings.chains,
        "seed": settings.seed,
        "sampler": settings.sampler,
        "warm": settings.warm,
        "importance": settings.importance,
        **({"mapped": True} if settings.mapped else {}),
        **({"base": settings.base_key} if settings.base_key is not None else {}),
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:20]


def run_point(settings: Settings, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Run one point of a sweep and return its summary as plain data: its spec's family runs it.

    A top-level function, so that process pools and dask workers can run it; each worker
    keeps its own compiled models (:func:`dnamodel.inference.sampling.compiled_for`).
    """
    data = load_data(None if settings.data_location in (None, "bundled") else settings.data_location)
    spec = point_spec(settings.spec_path, settings.spec_text, overrides)
    return family_of(spec).sweep_point(spec, data, settings)


def run_base(settings: Settings) -> tuple[dict[str, Any], Any] | None:
    """The spec's own point, fitted cold, and what the sweep's other points start from (its family's ``sweep_base``)."""
    data = load_data(None if settings.data_location in (None, "bundled") else settings.data_location)
    spec = point_spec(settings.spec_path, settings.spec_text, {})
    return family_of(spec).sweep_base(spec, data, settings)


def at_own_values(spec: Any, overrides: Mapping[str, Any]) -> bool:
    """Whether every override sets its path to the spec's own value (the point is the spec itself)."""
    with contextlib.suppress(KeyError, TypeError, ValueError, UsageError):
        return all(coordinate(current_value(spec, path)) == coordinate(value) for path, value in overrides.items())
    return False


def start_from_base(
    spec: Any,
    settings: Settings,
    family: Family,
    points: Sequence[Mapping[str, Any]],
    todo: list[int],
    finish: Callable[[int, dict[str, Any]], None],
) -> tuple[Settings, list[int]]:
    """Fit the spec at its own values (cold, in this process, on every core) for the other points to start from.

    Returns the settings carrying the base (:attr:`SweepSettings.base`) and the points still to run: a
    point at the spec's own values is the base itself and is finished here. Without ``settings.warm``,
    points to run, or a family that warm-starts, nothing runs.
    """
    if not settings.warm or not todo:
        return settings, todo
    found = run_base(replace(settings, cores=None)) if family.supports(Capability.SWEEP_THREADS) else None
    if found is None:
        return settings, todo
    result, base = found
    rest = []
    for i in todo:
        if at_own_values(spec, points[i]):
            finish(i, result)
        else:
            rest.append(i)
    return replace(settings, base=base), rest


def run_points(
    settings: Settings,
    points: Sequence[Mapping[str, Any]],
    todo: Sequence[int],
    finish: Callable[[int, dict[str, Any]], None],
    *,
    threadable: bool,
    sampled: bool,
    client: Client | None = None,
    processes: int | None = None,
    threads: int | None = None,
) -> None:
    """Run the points ``todo`` (indices into ``points``) on an executor, calling ``finish(i, result)`` for each.

    A dask ``client``; else ``processes`` local worker processes (a hierarchical model's default
    ``cpu_count // 2``); else ``threads`` of this process (a dated model's default: one per core, or
    per point if fewer); else in turn. Each point's numbers are its own whatever runs it.
    """
    cpus = os.cpu_count() or 1
    workers = processes if processes is not None else 1 if threadable else max(1, cpus // 2)
    # A dated point at a time leaves a core idle while its last chains finish; on two cores, two points
    # in threads with one core each took 0.63 of the serial time (benchmarks/README.md).
    in_threads = threads if threads is not None else max(1, min(cpus, len(todo))) if threadable and workers <= 1 else 1
    if client is not None and sampled:
        if threadable:  # each point's chains on its worker's threads; the draws do not depend on it
            settings = replace(settings, cores=max(1, min(client.nthreads().values(), default=1)))
        futures: dict[Any, int] = {client.submit(run_point, settings, points[i], pure=False): i for i in todo}
        from distributed import as_completed as dask_completed  # deferred: an optional dependency, and start-up time

        for future in dask_completed(futures):
            finish(futures[future], future.result())
    elif workers > 1 and sampled and len(todo) > 1:
        pooled = replace(settings, cores=max(1, cpus // workers))
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as processes_pool:
            futures = {processes_pool.submit(run_point, pooled, points[i]): i for i in todo}
            for future in as_completed(futures):
                finish(futures[future], future.result())
    elif in_threads > 1 and len(todo) > 1:
        threaded = replace(settings, cores=max(1, cpus // in_threads))
        with ThreadPoolExecutor(max_workers=in_threads) as threads_pool:
            futures = {threads_pool.submit(run_point, threaded, points[i]): i for i in todo}
            for future in as_completed(futures):
                finish(futures[future], future.result())
    else:
        for i in todo:
            finish(i, run_point(settings, points[i]))


# --- the sweep -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPlan:
    """A sweep checked and laid out, before any point runs (:func:`plan_sweep`)."""

    spec: Any
    data: Dataset
    settings: Settings
    family: Family
    paths: list[str]
    axes: list[list[Any]]
    points: list[dict[str, Any]]


def plan_sweep(
    spec: ModelSpec | HierarchicalSpec | DatedSpec | str | Path,
    grid: Mapping[str, Sequence[Any]],
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    data: Dataset | None = None,
    out: str | Path | None = None,
    threads: int | None = None,
    sampler: str = "nutpie",
    origins: Mapping[str, str] | None = None,
    warm: bool = True,
    importance: bool = True,
) -> SweepPlan:
    """Check a sweep completely, without running it: what :func:`sweep` does first.

    Every path of the grid must be one the spec has; every point's spec must validate and
    resolve against the data (and a Monte Carlo point's quantities evaluate, a Bayesian point's
    sampler settings fit in memory); ``out`` and its points folder must be writable. A caller
    with several sweeps to run (``dnamodel sweep --shipped``) checks them all first. The
    parameters are :func:`sweep`'s.

    Raises
    ------
    UsageError, DataError
        Naming the path, the value and where it was given (``origins``), or the spec key.
    """
    check_type(
        spec, (str, Path, ModelSpec, HierarchicalSpec, DatedSpec), "sweep: spec", "a spec, or a model's name or path"
    )
    if not isinstance(grid, Mapping):
        raise TypeError(f"sweep: grid must be a mapping of spec paths to lists of values, got {python_value(grid)}")
    if threads is not None:
        check_whole(threads, "sweep: threads", 1)
    loaded = load_model(spec) if isinstance(spec, str | Path) else spec
    data = given_data(data, "sweep")
    if not grid:
        raise UsageError("the grid is empty: give at least one path and its values")
    known = known_paths(loaded)
    for path, values in grid.items():
        check_type(path, str, "sweep: each path of the grid", "a dotted spec path such as 'fraction.beta.sigma'")
        check_path(path, known)  # an unknown path fails with "did you mean", before any value is tried
        if isinstance(values, str | bytes) or not isinstance(values, Iterable) or not list(values):
            raise UsageError(f"{path}: give a non-empty list of values")
    # numpy's scalars (from np.linspace, say) as the Python numbers a spec holds
    grid = {path: [v.item() if isinstance(v, np.generic) else v for v in values] for path, values in grid.items()}
    from_set = bool(origins) and set((origins or {}).values()) == {"--set"}
    check_grid_size(grid, "--set" if from_set else "the grid")
    family = family_of(loaded)
    family.require(Capability.SWEEP, loaded.name)
    sampled = family.supports(Capability.POSTERIOR)
    if family.supports(Capability.SWEEP_THREADS) and sampler != "nutpie":
        raise UsageError(f"{loaded.name} is {family.noun}, whose sweeps sample with nutpie only, not {sampler!r}")
    if threads is not None and threads > 1 and not family.supports(Capability.SWEEP_THREADS):
        raise UsageError(
            f"threads run the points of a model with one compiled density; {loaded.name} is {family.noun}: "
            "use processes"
        )
    if sampled:
        bayesian: Any = loaded  # a spec whose family fits a posterior has a [sampler] table
        settings = Settings(
            loaded.path,
            loaded.text,
            data.location,
            bayesian.sampler.draws if draws is None else draws,
            bayesian.sampler.tune if tune is None else tune,
            bayesian.sampler.chains if chains is None else chains,
            bayesian.sampler.seed if seed is None else seed,
            sampler,
            warm=bool(warm),
            importance=bool(warm) and bool(importance),
        )
    else:
        default_draws, default_seed = family.sweep_defaults()
        settings = Settings(
            loaded.path,
            loaded.text,
            data.location,
            default_draws if draws is None else draws,
            0,
            0,
            default_seed if seed is None else seed,
            "monte_carlo",
        )
    paths = list(grid)
    axes = [list(grid[p]) for p in paths]
    points = [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*axes)]
    # Every point, and where the results go, is checked before any runs: a bad value or path
    # fails now, not an hour in.
    if out is not None:
        check_output_file(out, "the sweep's output file")
        check_output_folder(f"{out}.points", "the folder of finished points")
    if not sampled:
        check_draws(settings.draws)
        check_seed(settings.seed, "sweep")
    with spec_settings_blamed(loaded, draws, chains):
        for overrides in points:
            try:
                candidate = point_spec(settings.spec_path, settings.spec_text, overrides)
                family.check_point(candidate, data, settings)
            except DataError as error:
                raise DataError(_blamed(error.problems, loaded.path, overrides, origins or {})) from None
    return SweepPlan(loaded, data, settings, family, paths, axes, points)


def sweep(
    spec: ModelSpec | HierarchicalSpec | DatedSpec | str | Path,
    grid: Mapping[str, Sequence[Any]],
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    data: Dataset | None = None,
    out: str | Path | None = None,
    client: Client | None = None,
    processes: int | None = None,
    threads: int | None = None,
    sampler: str = "nutpie",
    progress: Callable[[int, int], None] | None = None,
    origins: Mapping[str, str] | None = None,
    description: str | None = None,
    warm: bool = True,
    importance: bool = True,
) -> xr.Dataset:
    """Run a model at every point of a grid of spec values.

    Parameters
    ----------
    spec : str, Path, ModelSpec, HierarchicalSpec or DatedSpec
        The model: a name in ``dnamodel/models/``, a TOML path, or a loaded spec.
    grid : mapping of str to sequence
        Dotted spec paths and the values each takes. An unknown path gets "did you
        mean …?". A table takes a whole table, or ``false`` to leave it out
        (``fraction.reported``); a key joining paths with ``+`` sets each of them to its
        values together. The sweep runs the Cartesian product.
    draws, tune, chains, seed : int, optional
        A Bayesian model's defaults are its ``[sampler]`` table; a Monte Carlo model
        draws :data:`dnamodel.families.montecarlo.SWEEP_DRAWS` per point.
    data : Dataset, optional
        Defaults to the bundled data.
    out : str or Path, optional
        The NetCDF file to write the result to (atomically). Finished points are kept in
        ``<out>.points/``; without ``out`` nothing is written and nothing resumes.
    client : dask.distributed.Client, optional
        Run the points on this cluster.
    processes : int, optional
        Local worker processes (default for a hierarchical model ``cpu_count // 2``; 1 runs
        in this process). A dated model's points run in threads unless this is above 1.
    threads : int, optional
        A dated model's points at once in threads of this process (default: one per core, or
        per point if fewer): its density is compiled once and nutpie releases the GIL while it
        samples. Each point's chains then share ``cpu_count // threads`` cores; the draws are
        the same however the points are spread.
    sampler : {"nutpie", "pymc"}
        A dated model samples with nutpie only.
    progress : callable, optional
        Called as ``progress(done, total)`` after each point.
    origins : mapping of str to str, optional
        Where each grid path's values were given (``"--set"``, a sweep file), for errors: a
        value the spec cannot take is blamed there, not on the spec file.
    description : str, optional
        What the sweep varies, in words (a sweep file's ``description``): kept in the result's
        ``attrs``, where a report takes its title from.
    warm : bool
        A dated model's points start from the spec's own fit (fitted first, cold, at ``draws`` and
        ``tune``; a point at the spec's own values is that fit): each point whose model has the
        spec's structure draws ``min(draws, 600)`` per chain after 100 tuning steps and is gated on
        the total (R-hat ≤ 1.01, bulk and tail ESS ≥ 400), extended at most twice when it fails; a
        point of another structure (a curve family, a term left out or added) is a cold fit. False:
        every point is a cold fit at ``draws`` and ``tune``, as before. A cold point is gated on every
        free parameter and extended, at most twice, when it fails.
    importance : bool
        With ``warm``: a dated point whose unconstrained vector is exactly the spec's (no block held
        fixed, added or resized; the same curve and form) is first the spec's fit's draws reweighted
        to its posterior by Pareto-smoothed importance sampling and resampled, kept where k̂ ≤
        min(1 − 1/log10 S, 0.7) for S draws and the weights' ESS on the total ≥ 400; otherwise it is
        the warm refit above. False: no reweighting (``dnamodel sweep --exact-refits``).

    Returns
    -------
    xarray.Dataset
        One dimension per grid key (named by it). Variables: ``total_median``,
        ``total_mean``, ``total_q05`` … ``total_q95``, ``share_median``,
        ``group_median`` (also over ``group``) and, for a hierarchical or dated
        model, ``divergences``, ``max_rhat``, ``min_ess`` and ``passed``; for a Monte Carlo
        model ``mcse_median`` and ``sobol_total_order`` (also over ``input``). A hierarchical or
        dated point also has ``start`` (``"base"``: the spec's own fit, ``"importance"``: its draws
        reweighted, ``"warm"``: started from it, ``"cold"``: fitted from scratch), ``tune`` (tuning
        steps per chain), ``draws`` (draws per chain, extensions included), ``extensions``, and
        ``pareto_k`` and ``importance_ess`` (NaN where no reweighting was tried; k̂ −inf for equal
        weights is NaN too). ``attrs`` carry provenance and the grid.

    Examples
    --------
    The shipped example's dated model at reduced draws, at two settings of one prior:

    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> result = dnamodel.sweep(str(folder / "models" / "dated.toml"), {"fraction.unreported_offset": [-1.0, 0.0]},
    ...                         data=dnamodel.load_data(folder / "data"), draws=100, tune=100, chains=2)
    >>> result["total_median"].dims, result["total_median"].shape
    (('fraction.unreported_offset',), (2,))
    """
    if processes is not None:
        check_whole(processes, "sweep: processes", 1)
        if threads is not None:
            raise UsageError("sweep: give threads or processes, not both (threads for a dated model's points)")
    plan = plan_sweep(
        spec,
        grid,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        data=data,
        out=out,
        threads=threads,
        sampler=sampler,
        origins=origins,
        warm=warm,
        importance=importance,
    )
    loaded, data, settings, family = plan.spec, plan.data, plan.settings, plan.family
    paths, axes, points = plan.paths, plan.axes, plan.points
    threadable = family.supports(Capability.SWEEP_THREADS)
    sampled = family.supports(Capability.POSTERIOR)

    store = Path(f"{out}.points") if out is not None else None
    if store is not None:
        make_folder(store, "the folder of finished points")
    keys = [_point_key(settings, data.version, p) for p in points]
    results: dict[int, dict[str, Any]] = {}
    for i, key in enumerate(keys):
        if store is not None and (store / f"{key}.json").is_file():
            # a point file damaged by hand is left out: the point runs again and replaces it
            with contextlib.suppress(OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
                results[i] = json.loads((store / f"{key}.json").read_text(encoding="utf-8"))["result"]
    todo = [i for i in range(len(points)) if i not in results]
    done = len(results)
    if progress:
        progress(done, len(points))

    def finish(i: int, result: dict[str, Any]) -> None:
        nonlocal done
        results[i] = result
        if store is not None:
            record = {"format": POINT_FORMAT, "overrides": points[i], "key": keys[i], "result": result}
            atomic_write_text(store / f"{keys[i]}.json", json.dumps(record, indent=1))
        done += 1
        if progress:
            progress(done, len(points))

    settings, todo = start_from_base(loaded, settings, family, points, todo, finish)
    run_points(
        settings,
        points,
        todo,
        finish,
        threadable=threadable,
        sampled=sampled,
        client=client,
        processes=processes,
        threads=threads,
    )

    result = _dataset(paths, axes, points, results, sampled, data, settings)
    own = {path: current_value(loaded, path) for path in paths}
    result.attrs.update(
        {
            **provenance(data),
            "model": loaded.name,
            "spec": loaded.text,
            "spec_hash": loaded.hash,
            "grid": json.dumps({p: list(grid[p]) for p in paths}),
            "seed": settings.seed,
            "draws": settings.draws,
            "tune": settings.tune,
            "chains": settings.chains,
            "sampler": settings.sampler,
            "warm": int(settings.warm),
            "importance": int(settings.importance),
            "kind": family.kind,
            **({"description": description} if description else {}),
            OWN_VALUES: json.dumps({path: coordinate(value) for path, value in own.items() if value is not None}),
        }
    )
    if out is not None:
        write_sweep(result, out)
    return result


def _blamed(
    problems: Sequence[Problem], spec_file: str, overrides: Mapping[str, Any], origins: Mapping[str, str]
) -> list[Problem]:
    """A point's problems, each blamed where its value was given: a grid value's on the grid."""

    def given(path: str) -> str:
        return f"{origins.get(path, 'the grid:')} {path}={json.dumps(overrides[path])}"

    point = ", ".join(f"{path}={json.dumps(value)}" for path, value in overrides.items())
    blamed = []
    for problem in problems:
        field = problem.field or ""
        paths = [p for p in overrides if problem.file == spec_file and (field == p or field.startswith(p + "."))]
        if paths:
            blamed.append(Problem(given(paths[0]), None, problem.field, problem.message))
        else:
            blamed.append(replace(problem, message=f"{problem.message} (at the sweep's point {point})"))
    return blamed


def _dataset(
    paths: list[str],
    axes: list[list[Any]],
    points: list[dict[str, Any]],
    results: dict[int, dict[str, Any]],
    sampled: bool,
    data: Any,
    settings: Settings,
) -> Any:
    import xarray as xr  # deferred: start-up time

    shape = tuple(len(a) for a in axes)
    coords = {p: [coordinate(v) for v in a] for p, a in zip(paths, axes, strict=True)}

    def grid_array(get: Callable[[dict[str, Any]], Any], dtype: Any = float) -> np.ndarray:
        flat = np.array([get(results[i]) for i in range(len(points))], dtype=dtype)
        return flat.reshape(shape)

    variables: dict[str, Any] = {}
    for name in (*QUANTILE_NAMES, "mean"):
        variables[f"total_{name}"] = (paths, grid_array(lambda r, n=name: r["total"][n]))  # type: ignore[misc]
    variables["share_median"] = (paths, grid_array(lambda r: r["share_median"]))
    groups = list(data.groups)
    if sampled:
        values = np.array([[results[i]["group_median"][p] for p in groups] for i in range(len(points))])
        variables["group_median"] = ([*paths, dims.GROUP], values.reshape(*shape, len(groups)))
        variables["divergences"] = (paths, grid_array(lambda r: r["divergences"], int))
        variables["max_rhat"] = (paths, grid_array(lambda r: r["max_rhat"]))
        variables["min_ess"] = (paths, grid_array(lambda r: r["min_ess"]))
        variables["passed"] = (paths, grid_array(lambda r: r["passed"], bool))
        # a hierarchical point is always fitted cold at the sweep's settings
        variables["start"] = (paths, grid_array(lambda r: r.get("start", "cold"), str))
        variables["tune"] = (paths, grid_array(lambda r: r.get("tune", settings.tune), int))
        variables["draws"] = (paths, grid_array(lambda r: r.get("draws", settings.draws), int))
        variables["extensions"] = (paths, grid_array(lambda r: r.get("extensions", 0), int))
        for name in ("pareto_k", "importance_ess"):  # tried only for a point of the base's parameters
            variables[name] = (paths, grid_array(lambda r, n=name: _number(r.get(n))))  # type: ignore[misc]
        coords[dims.GROUP] = groups
    else:
        variables["mcse_median"] = (paths, grid_array(lambda r: r["mcse_median"]))
        inputs = sorted({k for r in results.values() for k in r["sobol_total_order"]})
        values = np.array(
            [[results[i]["sobol_total_order"].get(k, math.nan) for k in inputs] for i in range(len(points))]
        )
        variables["sobol_total_order"] = ([*paths, dims.INPUT], values.reshape(*shape, len(inputs)))
        coords[dims.INPUT] = inputs
    return xr.Dataset(variables, coords=coords)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def write_sweep(result: Any, path: str | Path) -> Path:
    """Write a sweep's dataset to NetCDF atomically."""
    return write_netcdf(result, path)
