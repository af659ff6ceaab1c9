"""The ``dnamodel`` command.

Subcommands:

``replicate``
    The report's estimate, step by step, beside its printed figures.
``audit``
    Where the report disagrees with itself and with the 2020 census.
``mc MODEL``
    A Monte Carlo model's total and share, with Monte Carlo standard errors;
    ``--sensitivity`` ranks its inputs (Sobol indices and a tornado), and
    ``--tornado PATH`` draws the tornado as a PNG file.
``estimate [MODEL]``
    Fit a Bayesian model (a dated or hierarchical one; by default the model the data's
    ``study.toml`` names, ``[models] default``) and print the total with its credible intervals, the
    diagnostics, the predictive checks and a sentence to cite; write the fit (NetCDF), a CSV
    summary and figures to ``--out``; ``--sensitivity`` adds power-scaling sensitivity.
``report [MODEL] [--from FIT.nc] [--out FILE]``
    One self-contained HTML report of a fit (made now, or read from ``--from``): the
    estimate to cite, the data (and an application's part, such as the case study's audit), the
    model, the diagnostics and checks, the groups, sensitivity, and how to reproduce it.
``sweep TARGET [--set PATH=V1,V2,...]``
    Refit a model over a grid of spec values (a shipped sweep in ``dnamodel/models/sweeps/`` or
    a model with ``--set``), resumably and in parallel; ``--shipped [MODEL]`` runs every shipped
    sweep of a model (the data's default model's unless named) and draws one tornado chart of them all.
``voi [MODEL] [--from FIT.nc]``
    Rank candidate observations (the spec's ``[voi.NAME]``, or defaults) by how much each, if
    found, would narrow the total's 90% interval: importance sampling of a fit's draws, ``--refits
    N`` to refit with the candidate added.
``data export DIR`` / ``data check``
    Write the bundled data for editing; validate data and summarise it.

Every command that reads data takes ``--data DIR``. Output is a rich table on a
terminal, plain text when piped, and JSON with ``--json``. Exit status: 0 on
success, 2 for usage and data errors (one message, no traceback), 3 when a fit fails
its convergence gates (unless ``--allow-bad-fit``), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dnamodel.casestudy.audit import CATEGORIES
from dnamodel.cli.common import DEFAULT_MODEL_HELP, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from dnamodel.cli.fits import _compare, _estimate, _forecast_check, _report
from dnamodel.cli.montecarlo import _mc
from dnamodel.cli.study import _audit, _check, _replicate
from dnamodel.cli.sweeps import _sweep
from dnamodel.cli.voi import _voi, add_voi_parser
from dnamodel.data import export_data
from dnamodel.errors import DataError, UsageError
from dnamodel.files import INTERRUPTED, check_interrupted, check_output_file, check_output_folder, os_error
from dnamodel.montecarlo.engine import DEFAULT_CHUNK, DEFAULT_SEED
from dnamodel.montecarlo.run import QMC_REPLICATES, check_draws
from dnamodel.montecarlo.sensitivity import DEFAULT_BASE_POINTS
from dnamodel.outputs.pdf import pdf_printer
from dnamodel.outputs.tables import console, render
from dnamodel.provenance import package_version
from dnamodel.spec.hierarchical import MAX_SEED, MAX_TUNE


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised as :class:`UsageError` so they share one exit path."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dnamodel`` command."""
    parser = _Parser(
        prog="dnamodel",
        description="Uncertainty for a hidden total from scattered local reports (the bundled case study: DNA "
        "samples police collected, 2016-2022; `--data DIR` for your own programme).",
    )
    parser.add_argument("--version", action="version", version=f"dnamodel {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    data_option = _Parser(add_help=False)
    data_option.add_argument(
        "--data", metavar="DIR", help="read the data files from DIR (as `data export` writes them)"
    )
    json_option = _Parser(add_help=False)
    json_option.add_argument("--json", action="store_true", help="print one JSON object instead of tables")

    commands.add_parser(
        "replicate",
        parents=[data_option, json_option],
        help="recompute the report's estimate step by step",
        description="Recompute Tables 4 and 5 of Citizen Lab report No. 158 and the thesis comparison, "
        "exactly, showing each step's arithmetic and the rounding the report made.",
    )
    audit_parser = commands.add_parser(
        "audit",
        parents=[data_option, json_option],
        help="list where the report disagrees with itself and with the census",
        description="Recompute every derived figure of the report from its own inputs and set its quoted "
        "figures against the 2020 census. Lists disagreements and method notes; --all lists every check.",
    )
    audit_parser.add_argument("--all", action="store_true", help="also list the checks that agree")
    audit_parser.add_argument("--category", choices=CATEGORIES, action="append", help="only this category")

    mc_parser = commands.add_parser(
        "mc",
        parents=[data_option, json_option],
        help="run a Monte Carlo model and summarise its total",
        description="Draw a Monte Carlo model (a name in models/ or a TOML file) and print the total's mean, "
        "median and 5/25/75/95% quantiles and its share of the population, each with its Monte Carlo "
        "standard error, beside the figures the study sets it against (study.toml).",
    )
    mc_parser.add_argument("model", metavar="MODEL", help="a model name (report_uniform, report_mc) or a TOML path")
    mc_parser.add_argument("--draws", type=_positive_int, default=1_000_000, help="number of draws (default 1,000,000)")
    mc_parser.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    mc_parser.add_argument(
        "--qmc",
        action="store_true",
        help=f"scrambled Sobol points in {QMC_REPLICATES} replicates "
        "(draws = 16 × 2^k; k ≥ 10 is where it beats plain draws)",
    )
    mc_parser.add_argument(
        "--chunk-size", type=_positive_int, default=DEFAULT_CHUNK, help="draws held in memory at once (default 2^20)"
    )
    mc_parser.add_argument(
        "--sensitivity",
        action="store_true",
        help="also rank the inputs: Sobol indices of the total with bootstrap intervals, and a tornado table",
    )
    mc_parser.add_argument(
        "--sensitivity-draws",
        type=_positive_int,
        default=DEFAULT_BASE_POINTS,
        metavar="N",
        help="with --sensitivity: the Sobol base sample size, a power of 2 (default 2^14); "
        "the model runs N × (inputs + 2) times",
    )
    mc_parser.add_argument("--tornado", metavar="PATH", help="write a tornado plot of the total to PATH (a .png file)")

    fit_option = _Parser(add_help=False)
    fit_option.add_argument(
        "model", metavar="MODEL", nargs="?", default=None, help=f"a model name or TOML path ({DEFAULT_MODEL_HELP})"
    )
    fit_option.add_argument("--draws", type=_positive_int, help="draws per chain (default: the spec's)")
    fit_option.add_argument("--tune", type=_tune, help="tuning steps per chain (default: the spec's)")
    fit_option.add_argument("--chains", type=_positive_int, help="chains (default: the spec's)")
    fit_option.add_argument("--seed", type=_seed, help="random seed (default: the spec's)")
    fit_option.add_argument("--sampler", choices=("nutpie", "pymc"), help="NUTS implementation (default nutpie)")
    fit_option.add_argument(
        "--no-loo", dest="loo", action="store_false", help="skip the leave-one-observation-out refits"
    )
    fit_option.add_argument(
        "--exact-refits",
        action="store_true",
        help="sample every leave-one-out, source and forecast refit and every refit of the decisive assumptions (a "
        "dated model); by default the fit's draws (the default's, for the assumptions) are reweighted "
        "(Pareto-smoothed importance sampling) and only where k̂ or the ESS fail is it refitted",
    )
    fit_option.add_argument(
        "--allow-bad-fit",
        action="store_true",
        help="exit 0 even when the fit fails a convergence gate (the citation sentence is still withheld)",
    )

    estimate_parser = commands.add_parser(
        "estimate",
        parents=[fit_option, data_option, json_option],
        help="fit a Bayesian model (dated or hierarchical) and print a citable interval",
        description="Fit a dated or hierarchical model (the data's default, study.toml's [models] default, when "
        "none is named) and print the region's total (median, mean, 50/90/95% "
        "equal-tailed and HDI intervals), its share of the population, P(total > each figure the study sets it "
        "against), the table by group, the diagnostics, the predictive checks, and a sentence to cite. Writes "
        "the InferenceData (NetCDF), a CSV summary and PNG figures to --out.",
    )
    estimate_parser.add_argument("--out", default="results", metavar="DIR", help="output folder (default results/)")
    estimate_parser.add_argument(
        "--sensitivity",
        action="store_true",
        help="also report power-scaling sensitivity (arviz.psens) of the total and the scalar parameters to the "
        "priors (together and each alone) and the likelihood",
    )
    estimate_parser.add_argument(
        "--assumptions",
        choices=("compute", "cached", "off"),
        default="compute",
        help="the refits that find the assumptions deciding the total, and the total by the typed share: "
        "compute them (default; cached in --out), read them only from --out's cache (say what is missing "
        "and the command that computes it), or skip them",
    )

    forecast_parser = commands.add_parser(
        "forecast-check",
        parents=[data_option, json_option],
        help="forecast forward in time: refit on what was published by a date, predict what came later",
        description="For each forecast in the dated model's [checks] table, refit on the observations dated up to "
        "its date and place each later observation in the refit's predictive distribution (PIT; a bound's is its "
        "mid-PIT). The same cutoffs are run on a comparison model (--compare, or the data's study.toml's [models] "
        "forecast_compare), which predicts its own later observations where it can. Exits 3 when a PIT of the "
        "dated model lies outside (0.05, 0.95).",
    )
    forecast_parser.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        default=None,
        help=f"a dated model's name or TOML path ({DEFAULT_MODEL_HELP})",
    )
    comparison = forecast_parser.add_mutually_exclusive_group()
    comparison.add_argument(
        "--compare",
        default=None,
        metavar="MODEL",
        help="a hierarchical model to compare (default: the data's study.toml's [models] forecast_compare, if any)",
    )
    comparison.add_argument("--no-compare", action="store_true", help="run the dated model's forecasts only")
    forecast_parser.add_argument("--draws", type=_positive_int, metavar="N", help="draws per chain of each refit")
    forecast_parser.add_argument("--seed", type=_seed, metavar="S", help="the refits' seed (default: the spec's)")

    compare_parser = commands.add_parser(
        "compare",
        parents=[data_option, json_option],
        help="fit models side by side, score them by exact leave-one-out, and stack those that share their data",
        description="Fit each model (the models the data's study.toml lists, [models] compare, by default; or saved "
        "fits given as FIT.nc), refit it without each observation for its exact leave-one-out log predictive "
        "densities, run the dated models' forecasts, and stack the models scored on the same observations (Yao et "
        "al. 2018), with the weights' Bayesian-bootstrap uncertainty. Prints each model's total beside the others "
        "and the stacked total; writes compare.nc, compare.csv and compare.png to --out.",
    )
    compare_parser.add_argument("models", metavar="MODEL", nargs="*", help="spec names or paths, or saved fits (.nc)")
    compare_parser.add_argument("--draws", type=_positive_int, metavar="N", help="draws per chain of each main fit")
    compare_parser.add_argument("--tune", type=_tune, metavar="N", help="tuning steps of each main fit")
    compare_parser.add_argument("--seed", type=_seed, default=20220913, metavar="S", help="the fits' seed")
    compare_parser.add_argument("--out", default="results", metavar="DIR", help="output folder (default results/)")

    report_parser = commands.add_parser(
        "report",
        parents=[fit_option, data_option, json_option],
        help="write a self-contained HTML report of a fit",
        description="Fit a model (as `estimate --sensitivity` does, writing the fit to --results) and "
        "draw one self-contained HTML file: the estimate and a sentence to cite beside the study's comparison "
        "figures, the data, the model and its priors, the diagnostics and predictive checks, the groups, "
        "power-scaling and the sweeps of the fit's model, and how to reproduce it. With --from, draw it from a saved "
        "fit instead: fit once, draw many times.",
    )
    report_parser.add_argument("--from", dest="source", metavar="FIT.nc", help="draw from this saved fit; no fitting")
    report_parser.add_argument("--out", metavar="FILE", help="the HTML file (default results/MODEL_report.html)")
    report_parser.add_argument(
        "--results", default="results", metavar="DIR", help="where a new fit is written (default results/)"
    )
    report_parser.add_argument(
        "--pdf",
        action="store_true",
        help="also print the page as PDF beside it (needs Playwright and a Chromium; says how to install them)",
    )
    sweeps = report_parser.add_mutually_exclusive_group()
    sweeps.add_argument(
        "--sweeps",
        default="results/sweeps",
        metavar="DIR",
        help="a folder of sweep results (`dnamodel sweep ... --out DIR/NAME.nc`); those of the fit's spec and data "
        "are shown (default results/sweeps/)",
    )
    sweeps.add_argument("--no-sweeps", action="store_true", help="leave the sweeps out of the report")

    sweep_parser = commands.add_parser(
        "sweep",
        parents=[data_option, json_option],
        help="refit a model over a grid of spec values",
        description="Run a model at every point of a grid of spec values and print the total per point. "
        "TARGET is a shipped sweep (models/sweeps/NAME.toml), a sweep file, or a model with --set. Finished points "
        "are kept in OUT.points/ and a rerun skips them. The dataset is saved as NetCDF with a tornado chart (and "
        "a line plot for one path) beside it.",
    )
    sweep_parser.add_argument(
        "target",
        metavar="TARGET",
        nargs="?",
        help="a shipped sweep, a sweep file or a model; with --shipped, the model whose shipped sweeps run (default: "
        "the data's study.toml's [models] default)",
    )
    sweep_parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="a spec path and its values, e.g. fraction.beta.sigma=0.5,1,2 (repeat for more axes)",
    )
    sweep_parser.add_argument("--out", metavar="FILE", help="the NetCDF file (default results/sweeps/NAME.nc)")
    sweep_parser.add_argument("--draws", type=_positive_int, help="draws per chain (default: the spec's)")
    sweep_parser.add_argument("--tune", type=_tune, help="tuning steps per chain (default: the spec's)")
    sweep_parser.add_argument("--chains", type=_positive_int, help="chains (default: the spec's)")
    sweep_parser.add_argument("--seed", type=_seed, help="random seed, the same for every point (default: the spec's)")
    workers = sweep_parser.add_mutually_exclusive_group()
    workers.add_argument(
        "--processes",
        type=_positive_int,
        help="local worker processes (a hierarchical model's default: cores / 2; a dated model's: threads)",
    )
    workers.add_argument(
        "--threads", type=_positive_int, help="a dated model's points at once, in threads (default: one per core)"
    )
    sweep_parser.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run the points on this dask.distributed scheduler"
    )
    sweep_parser.add_argument(
        "--cold",
        dest="warm",
        action="store_false",
        help="fit every point from scratch at --draws and --tune (default: a dated model's points of the spec's "
        "structure start from the spec's own fit, gated and extended)",
    )
    sweep_parser.add_argument(
        "--exact-refits",
        dest="importance",
        action="store_false",
        help="sample every point (default: a dated model's point whose parameters are the spec's is first the "
        "spec's fit's draws reweighted by Pareto-smoothed importance sampling, sampled only where k̂ or the ESS fail)",
    )
    sweep_parser.add_argument(
        "--shipped",
        action="store_true",
        help="run every shipped sweep of the model TARGET (the data's default model if none) and draw one tornado "
        "chart of them",
    )
    sweep_parser.add_argument(
        "--allow-bad-fit",
        action="store_true",
        help="exit 0 even when points fail a convergence gate (the table marks them)",
    )

    add_voi_parser(commands, [data_option, json_option], _positive_int, _tune, _seed)

    data_parser = commands.add_parser("data", help="export or check the data files")
    data_commands = data_parser.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    export_parser = data_commands.add_parser(
        "export",
        help="write the bundled data files to DIR for editing",
        description="Write units.csv, areas.csv, observations.csv, study.toml, report_figures.csv and their "
        "README to DIR. Edit them, then pass --data DIR to any command.",
    )
    export_parser.add_argument("directory", metavar="DIR")
    export_parser.add_argument("--force", action="store_true", help="replace files already in DIR")
    export_parser.add_argument(
        "--example",
        metavar="NAME",
        help="write an example programme instead (its data/, models/ and sweeps/): quillmoor, an invented province",
    )
    check_parser = data_commands.add_parser(
        "check",
        parents=[data_option, json_option],
        help="validate the data files and summarise them",
        description="Validate the data files (bundled, or --data DIR) and the models study.toml names, and list "
        "what they hold; --verbose (and --json) shows how each printed figure is read.",
    )
    check_parser.add_argument(
        "--verbose", action="store_true", help="show how each printed figure is read: a value, a bound, a range"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dnamodel`` command; return its exit status.

    One handler for every command: a usage or data error, or an operating system's refusal to read
    or write (no space, permission denied, a missing folder), is one line on stderr and exit 2;
    Ctrl-C is one line and exit 130, with nothing written or printed after it (:func:`_on_ctrl_c`).
    """
    out = console()
    INTERRUPTED.clear()
    with _ctrl_c_handled():
        try:
            status = _run(argv, out)
            check_interrupted()  # a command that finished on a sampler's partial draws ends as interrupted
            return status
        except KeyboardInterrupt:
            return _interrupted()
        except (DataError, UsageError) as error:
            if INTERRUPTED.is_set():
                return _interrupted()
            print(f"dnamodel: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except OSError as error:
            if INTERRUPTED.is_set():
                return _interrupted()
            print(f"dnamodel: error: {os_error(error)}", file=sys.stderr)
            return EXIT_USAGE
        except Exception:
            if INTERRUPTED.is_set():  # what failed, failed on what the interrupt cut short
                return _interrupted()
            raise


def _run(argv: Sequence[str] | None, out: Any) -> int:
    args = build_parser().parse_args(argv)
    check_arguments(args)
    if args.command == "replicate":
        _replicate(args, out)
    elif args.command == "audit":
        _audit(args, out)
    elif args.command == "mc":
        _mc(args, out)
    elif args.command == "estimate":
        return _estimate(args, out)
    elif args.command == "report":
        return _report(args, out)
    elif args.command == "forecast-check":
        return _forecast_check(args, out)
    elif args.command == "compare":
        return _compare(args, out)
    elif args.command == "sweep":
        return _sweep(args, out)
    elif args.command == "voi":
        return _voi(args, out)
    elif args.data_command == "export":
        written = export_data(args.directory, overwrite=args.force, example=args.example)
        shown = ", ".join(str(p.relative_to(args.directory)) for p in written)
        render(out, f"Wrote {len(written)} files to {args.directory}: {shown}.")
        if args.example:
            folder = Path(args.directory)
            render(
                out,
                f"Run for example: dnamodel estimate {folder / 'models' / 'dated.toml'} --data {folder / 'data'}",
            )
        else:
            render(out, f"Edit them, then run for example: dnamodel replicate --data {args.directory}")
    else:
        _check(args, out)
    return EXIT_OK


def _interrupted() -> int:
    print("dnamodel: interrupted (Ctrl-C); no partial result was written", file=sys.stderr)
    return EXIT_INTERRUPTED


def _on_ctrl_c(signum: int, frame: Any) -> None:
    """SIGINT: remember it (:data:`dnamodel.files.INTERRUPTED`), then interrupt as Python does.

    A sampler that catches the interrupt and returns the draws it has (nutpie) would otherwise let a
    command go on with a partial fit; with the flag set, no file is written and nothing printed after it.
    """
    INTERRUPTED.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def _ctrl_c_handled() -> Iterator[None]:
    """Within this block, Ctrl-C goes through :func:`_on_ctrl_c` (in the main thread; elsewhere as it was)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        INTERRUPTED.clear()  # the command is over: a caller in this process (a test, a notebook) writes again


def check_arguments(args: argparse.Namespace) -> None:
    """Check every argument that can be checked before any work, so that a bad one fails at once.

    Output paths must be writable (nothing is created), a scheduler address must look like one,
    Monte Carlo draws and chunks must be within their caps. What needs the spec or the data
    (``--draws × --chains`` against memory, a Sobol size against the model's inputs, every
    expression on the data) is checked as soon as those are read, still before any fit or draw.

    Raises
    ------
    UsageError
        Naming the argument.
    """
    command = args.command
    if command == "mc":
        check_draws(args.draws, args.qmc, args.chunk_size)
        if args.tornado:
            if Path(args.tornado).suffix.lower() != ".png":
                raise UsageError(f"--tornado {args.tornado}: a tornado plot is a PNG file; give a name ending in .png")
            if not os.path.isdir(Path(args.tornado).parent):  # figures go into a folder that exists
                raise UsageError(f"--tornado {args.tornado}: {Path(args.tornado).parent}: no such folder")
            check_output_file(args.tornado, "--tornado")
    elif command == "estimate":
        check_output_folder(args.out, "--out")
    elif command == "report":
        if args.pdf:
            pdf_printer()  # Playwright and a Chromium, before any fit
        if args.out:
            if Path(args.out).suffix.lower() not in (".html", ".htm"):
                raise UsageError(f"--out {args.out}: a report is an HTML file; give a name ending in .html")
            check_output_file(args.out, "--out")
        if args.source:
            if not os.path.isfile(args.source):
                raise UsageError(
                    f"--from {args.source}: no such fit; make one with `dnamodel estimate` (it writes results/MODEL.nc)"
                )
        else:
            check_output_folder(args.results, "--results")
    elif command == "sweep" and args.out:
        if args.shipped:
            check_output_folder(args.out, "--out")
        else:
            check_output_file(args.out, "--out")
    if command in ("sweep", "voi") and args.scheduler and not SCHEDULER_ADDRESS.fullmatch(args.scheduler):
        raise UsageError(
            f"--scheduler {args.scheduler!r}: not a scheduler address; give PROTOCOL://HOST:PORT, "
            "such as tcp://127.0.0.1:8786"
        )


SCHEDULER_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx|inproc)://[^\s/:]+(:\d{1,5})?")
"""What ``--scheduler`` takes: a dask.distributed address, ``PROTOCOL://HOST:PORT``."""


def _seed(text: str) -> int:
    """A seed from the command line: a whole number from 0 to 2^63 − 1 (stored with results as 64 bits)."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_SEED:,} (2^63 − 1), got {value}")
    return value


def _tune(text: str) -> int:
    """Tuning steps per chain: a whole number from 1 to :data:`~dnamodel.spec.hierarchical.MAX_TUNE`."""
    value = _positive_int(text)
    if value > MAX_TUNE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TUNE:,} tuning steps per chain, got {value:,}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
