"""The ``sweep`` command: a model over a grid of spec values, or every shipped sweep of a model."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import sys
import tomllib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from dnamodel.cli.common import (
    EXIT_BAD_FIT,
    EXIT_OK,
    default_model,
    load,
    print_json,
)
from dnamodel.errors import UsageError, did_you_mean
from dnamodel.families import load_sweep
from dnamodel.files import make_folder
from dnamodel.outputs.sweep import reference_interval, table_rows, tornado_rows, write_plots
from dnamodel.outputs.sweep_plots import sweep_tornado_plot
from dnamodel.outputs.tables import Table, render
from dnamodel.spec import available_models
from dnamodel.spec.base import find_model, looks_like_path
from dnamodel.spec.sweep import parse_values, shipped_sweeps
from dnamodel.workflows.sweep import plan_sweep, sweep


def _sweep(args: argparse.Namespace, out: Any) -> int:
    data = load(args)
    model_of_shipped = None
    if args.shipped:
        if args.settings:
            raise UsageError("--shipped runs the shipped sweeps as they are; give no --set with it")
        model_of_shipped = args.target or default_model(data, "sweep --shipped")
        names = shipped_sweeps(model_of_shipped) if model_of_shipped in available_models() else []
        if not names:
            # the shipped sweeps are the bundled case study's: on other data, their models are not named
            models = sorted({load_sweep(n).model for n in shipped_sweeps()}) if data.location == "bundled" else []
            which = f"shipped sweeps are of {', '.join(models)}" if models else "the shipped sweeps are of other models"
            raise UsageError(
                f"no shipped sweep of {model_of_shipped!r}; {which}: run a sweep file or a model with --set "
                "(`dnamodel sweep SWEEP.toml --data DIR`)"
            )
        jobs = [load_sweep(name) for name in names]
        folder = Path(args.out or "results/sweeps")
        targets = [
            (job.model, job.grid, folder / f"{job.name}.nc", job.description, dict.fromkeys(job.grid, job.path))
            for job in jobs
        ]
    else:
        model, grid, name, title, origins = _sweep_target(args)
        targets = [(model, grid, Path(args.out or f"results/sweeps/{name}.nc"), title, origins)]
    # Every sweep is checked before the first runs, so that --shipped fails at once, not after hours.
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains, "seed": args.seed, "data": data}
    for model, grid, target, _, origins in targets:
        plan_sweep(model, grid, **settings, out=target, origins=origins)
    client = _client(args.scheduler) if args.scheduler else None
    payload = []
    tornado: list[Any] = []
    reference = None
    failed: list[str] = []
    for model, grid, target, title, origins in targets:
        make_folder(target.parent, "the sweep's folder")
        result = sweep(
            model,
            grid,
            **settings,
            out=target,
            client=client,
            processes=args.processes,
            threads=args.threads,
            warm=args.warm,
            importance=args.importance,
            progress=None if args.json else _progress(title),
            origins=origins,
            description=title,
        )
        if "passed" in result and not bool(result["passed"].all()):
            failed.append(f"{int((~result['passed']).sum())} of {result['passed'].size} points of {title}")
        plots = write_plots(result, target, title, data.study)
        tornado += tornado_rows(result, label=title)
        reference = reference or reference_interval(result)
        paths = [str(d) for d in result["total_median"].dims]
        if args.json:
            payload.append(
                {"sweep": title, "file": str(target), "plots": [str(p) for p in plots], "points": _sweep_points(result)}
            )
            continue
        hierarchical = "passed" in result
        headers = [*paths, "median>", "90%>", "share>"] + (
            ["start", "div>", "R-hat>", "ESS>", "gates"] if hierarchical else []
        )
        render(
            out,
            Table(f"{title} ({result.attrs['model']})", headers, table_rows(result)),
            f"Wrote {target} and {', '.join(str(p) for p in plots)}.",
            "",
        )
    if args.shipped and tornado:
        combined = sweep_tornado_plot(
            tornado,
            reference,
            Path(args.out or "results/sweeps") / f"tornado_{model_of_shipped}.png",
            title=f"What the total depends on ({model_of_shipped})",
            study=data.study,
        )
        if not args.json:
            render(out, f"Wrote the tornado chart of every shipped sweep to {combined}.")
    if args.json:
        print_json({"sweeps": payload}, "sweep")
    if not failed or args.allow_bad_fit:
        return EXIT_OK
    print(
        f"dnamodel: error: {'; '.join(failed)} failed their convergence gates (marked in the table); "
        "their figures are not to be cited",
        file=sys.stderr,
    )
    return EXIT_BAD_FIT


def _is_spec_file(target: str) -> bool:
    """Whether ``target`` is a model spec's file (a ``[model]`` table, no ``[sweep]``), not a sweep file."""
    path = Path(target)
    if not path.is_file():
        return False
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "model" in raw and "sweep" not in raw


def _sweep_target(args: argparse.Namespace) -> tuple[str, dict[str, list[Any]], str, str, dict[str, str]]:
    """A sweep file's or a model's grid with the --set values added: (model, grid, name, title, origins)."""
    if not args.target:
        raise UsageError("give a shipped sweep, a sweep file or a model (or --shipped)")
    job = None
    if not _is_spec_file(args.target):
        try:
            job = load_sweep(args.target)
        except UsageError:
            job = None
    if job is not None:
        model, grid, name, title = job.model, dict(job.grid), job.name, job.description
        origins = dict.fromkeys(grid, f"{job.path} [grid]")
    else:
        try:
            find_model(args.target)
        except UsageError as error:
            if looks_like_path(args.target):  # a file of the user's own: no shipped names to suggest
                raise UsageError(f"no sweep file or model spec {args.target!r}: {error}") from None
            known = [*shipped_sweeps(), *available_models()]
            raise UsageError(
                f"no shipped sweep, sweep file or model named {args.target!r}{did_you_mean(args.target, known)}; "
                f"shipped sweeps: {', '.join(shipped_sweeps())}; models: {', '.join(available_models())}"
            ) from None
        model, grid, name, title, origins = args.target, {}, Path(args.target).stem, f"Sweep of {args.target}", {}
    given: set[str] = set()
    for setting in args.settings:
        path, sep, values = (part.strip() for part in setting.partition("="))
        if not sep or not path:
            raise UsageError(f"--set {setting!r}: write PATH=V1,V2,...")
        if not values:
            raise UsageError(f"--set {setting!r}: no values after '='; write {path}=V1,V2,...")
        if path in given:
            raise UsageError(f"--set {path} is given twice; give all its values in one: --set {path}=V1,V2,...")
        if path in grid:
            raise UsageError(f"--set {path}: {origins[path]} already sets it; remove one")
        given.add(path)
        try:
            grid[path] = parse_values(values)
        except UsageError as error:
            raise UsageError(f"--set {setting!r}: {error}") from None
        origins[path] = "--set"
    if not grid:
        raise UsageError(f"{args.target} is a model: give the grid with --set PATH=V1,V2,...")
    return model, grid, name, title, origins


@contextlib.contextmanager
def refit_executor(args: argparse.Namespace) -> Iterator[Any]:
    """Where a command's refits run, from its ``--processes N`` or ``--scheduler ADDRESS``: None, threads here.

    A local process pool (spawned, as a sweep's) is shut down after the block; a dask client is closed.
    """
    if getattr(args, "scheduler", None):
        client = _client(args.scheduler)
        try:
            yield client
        finally:
            client.close()
    elif getattr(args, "processes", None) and args.processes > 1:
        with ProcessPoolExecutor(max_workers=args.processes, mp_context=get_context("spawn")) as pool:
            yield pool
    else:
        yield None


def _client(address: str) -> Any:
    """A dask.distributed client of the scheduler at ``address``, or a UsageError saying why not."""
    try:
        from distributed import Client  # deferred: an optional dependency, and start-up time
    except ImportError:
        raise UsageError("--scheduler needs dask.distributed: pip install 'dnamodel[dask]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise UsageError(f"--scheduler {address}: cannot connect ({error})") from None


def _sweep_points(result: Any) -> list[dict[str, Any]]:
    paths = list(result["total_median"].dims)
    points = []
    for index in itertools.product(*(range(result.sizes[p]) for p in paths)):
        point = result.isel(dict(zip(paths, index, strict=True)))
        record = {p: point[p].item() for p in paths}
        for name in point.data_vars:
            if point[name].ndim == 0:
                record[name] = point[name].item()
        points.append(record)
    return points


def _progress(title: str) -> Any:
    """A progress bar over points on standard error, on a terminal only (as ``estimate``'s status line)."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        return None
    from rich.console import Console  # deferred: only a sweep on a terminal draws a bar
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task(title, total=None)

    def update(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)
        if done == total:
            bar.stop()

    return update
