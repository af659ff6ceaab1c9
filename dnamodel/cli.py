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
    Fit a Bayesian model (the dated model, ``dated``, by default; a hierarchical one such as
    ``hierarchical_han`` for comparison) and print the total with its credible intervals, the
    diagnostics, the predictive checks and a sentence to cite; write the fit (NetCDF), a CSV
    summary and figures to ``--out``; ``--sensitivity`` adds power-scaling sensitivity.
``report [MODEL] [--from FIT.nc] [--out FILE]``
    One self-contained HTML report of a fit (made now, or read from ``--from``): the
    estimate to cite, the data and audit, the model, the diagnostics and checks, the
    prefectures, sensitivity, and how to reproduce it.
``sweep TARGET [--set PATH=V1,V2,...]``
    Refit a model over a grid of spec values (a shipped sweep in ``dnamodel/models/sweeps/`` or
    a model with ``--set``), resumably and in parallel; ``--shipped [MODEL]`` runs every shipped
    sweep of a model (the default model's unless named) and draws one tornado chart of them all.
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
import itertools
import json
import math
import os
import re
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from dnamodel.casestudy.audit import CATEGORIES, Audit, audit
from dnamodel.casestudy.replicate import CONVENTION, Replication, replicate
from dnamodel.casestudy.tibet2022 import REPORT, report_absent, report_gap, skipped
from dnamodel.data import Dataset, export_data, load_data
from dnamodel.data.printed import format_count, format_exact
from dnamodel.errors import DataError, UsageError, did_you_mean
from dnamodel.files import check_output_file, check_output_folder
from dnamodel.montecarlo.engine import DEFAULT_CHUNK, DEFAULT_SEED
from dnamodel.montecarlo.run import QMC_REPLICATES, check_draws, summarize
from dnamodel.montecarlo.sensitivity import (
    DEFAULT_BASE_POINTS,
    Tornado,
    check_sobol_size,
    sobol,
    sobol_to_dict,
    tornado,
)
from dnamodel.outputs.html import render_report
from dnamodel.outputs.plots import sweep_tornado_plot, tornado_plot
from dnamodel.outputs.sweep import reference_interval, table_rows, tornado_rows, write_plots
from dnamodel.outputs.tables import Block, Table, console, render, value_text
from dnamodel.provenance import package_version
from dnamodel.spec import DatedSpec, HierarchicalSpec, available_models, load_model
from dnamodel.spec.base import find_model
from dnamodel.spec.hierarchical import MAX_SEED
from dnamodel.spec.montecarlo import ModelSpec
from dnamodel.spec.sweep import load_sweep, parse_values, shipped_sweeps
from dnamodel.workflows.compare import compare, write_comparison
from dnamodel.workflows.estimate import run_estimate, run_forecast_check
from dnamodel.workflows.sweep import plan_sweep, sweep

EXIT_OK, EXIT_USAGE, EXIT_BAD_FIT, EXIT_INTERRUPTED = 0, 2, 3, 130
DEFAULT_MODEL = "dated"


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

    data_option = argparse.ArgumentParser(add_help=False)
    data_option.add_argument(
        "--data", metavar="DIR", help="read the data files from DIR (as `data export` writes them)"
    )
    json_option = argparse.ArgumentParser(add_help=False)
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

    fit_option = argparse.ArgumentParser(add_help=False)
    fit_option.add_argument(
        "model", metavar="MODEL", nargs="?", default=None, help=f"a model name or TOML path ({DEFAULT_MODEL})"
    )
    fit_option.add_argument("--draws", type=_positive_int, help="draws per chain (default: the spec's)")
    fit_option.add_argument("--tune", type=_positive_int, help="tuning steps per chain (default: the spec's)")
    fit_option.add_argument("--chains", type=_positive_int, help="chains (default: the spec's)")
    fit_option.add_argument("--seed", type=_seed, help="random seed (default: the spec's)")
    fit_option.add_argument("--sampler", choices=("nutpie", "pymc"), help="NUTS implementation (default nutpie)")
    fit_option.add_argument(
        "--no-loo", dest="loo", action="store_false", help="skip the leave-one-observation-out refits"
    )
    fit_option.add_argument(
        "--allow-bad-fit",
        action="store_true",
        help="exit 0 even when the fit fails a convergence gate (the citation sentence is still withheld)",
    )

    estimate_parser = commands.add_parser(
        "estimate",
        parents=[fit_option, data_option, json_option],
        help="fit the Bayesian hierarchical model and print a citable interval",
        description="Fit a dated or hierarchical model and print the region's total (median, mean, 50/90/95% "
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

    forecast_parser = commands.add_parser(
        "forecast-check",
        parents=[data_option, json_option],
        help="forecast forward in time: refit on what was published by a date, predict what came later",
        description="For each forecast in the dated model's [checks] table, refit on the observations dated up to "
        "its date and place each later observation in the refit's predictive distribution (PIT; a bound's is its "
        "mid-PIT). The same cutoffs are run on a comparison model (hierarchical_han by default), which predicts its "
        "own later observations where it can. Exits 3 when a PIT of the dated model lies outside (0.05, 0.95).",
    )
    forecast_parser.add_argument(
        "model", metavar="MODEL", nargs="?", default=None, help=f"a dated model's name or TOML path ({DEFAULT_MODEL})"
    )
    forecast_parser.add_argument(
        "--compare",
        default="hierarchical_han",
        metavar="MODEL",
        help="a hierarchical model to compare (default hierarchical_han)",
    )
    forecast_parser.add_argument("--no-compare", action="store_true", help="run the dated model's forecasts only")
    forecast_parser.add_argument("--draws", type=_positive_int, metavar="N", help="draws per chain of each refit")
    forecast_parser.add_argument("--seed", type=int, metavar="S", help="the refits' seed (default: the spec's)")

    compare_parser = commands.add_parser(
        "compare",
        parents=[data_option, json_option],
        help="fit models side by side, score them by exact leave-one-out, and stack those that share their data",
        description="Fit each model (every shipped dated and hierarchical spec by default, or saved fits given as "
        "FIT.nc), refit it without each observation for its exact leave-one-out log predictive densities, run the "
        "dated models' forecasts, and stack the models scored on the same observations (Yao et al. 2018), with "
        "the weights' Bayesian-bootstrap uncertainty. Prints each model's total beside the others and the "
        "stacked total; writes compare.nc, compare.csv and compare.png to --out.",
    )
    compare_parser.add_argument("models", metavar="MODEL", nargs="*", help="spec names or paths, or saved fits (.nc)")
    compare_parser.add_argument("--draws", type=_positive_int, metavar="N", help="draws per chain of each main fit")
    compare_parser.add_argument("--tune", type=_positive_int, metavar="N", help="tuning steps of each main fit")
    compare_parser.add_argument("--seed", type=int, default=20220913, metavar="S", help="the fits' seed")
    compare_parser.add_argument("--out", default="results", metavar="DIR", help="output folder (default results/)")

    report_parser = commands.add_parser(
        "report",
        parents=[fit_option, data_option, json_option],
        help="write a self-contained HTML report of a fit",
        description="Fit a model (as `estimate --sensitivity` does, writing the fit to --results) and "
        "draw one self-contained HTML file: the estimate and a sentence to cite beside the report's figures, the "
        "data and the audit, the model and its priors, the diagnostics and predictive checks, the prefectures, "
        "power-scaling and the shipped sweeps, and how to reproduce it. With --from, draw it from a saved fit "
        "instead: fit once, draw many times.",
    )
    report_parser.add_argument("--from", dest="source", metavar="FIT.nc", help="draw from this saved fit; no fitting")
    report_parser.add_argument("--out", metavar="FILE", help="the HTML file (default results/MODEL_report.html)")
    report_parser.add_argument(
        "--results", default="results", metavar="DIR", help="where a new fit is written (default results/)"
    )
    report_parser.add_argument(
        "--sweeps",
        default="results/sweeps",
        metavar="DIR",
        help="the shipped sweeps' results, as `make sweeps` writes them (default results/sweeps/)",
    )
    report_parser.add_argument("--no-sweeps", action="store_true", help="leave the sweeps out of the report")

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
        help=f"a shipped sweep, a sweep file or a model; with --shipped, the model whose sweeps run ({DEFAULT_MODEL})",
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
    sweep_parser.add_argument("--tune", type=_positive_int, help="tuning steps per chain (default: the spec's)")
    sweep_parser.add_argument("--chains", type=_positive_int, help="chains (default: the spec's)")
    sweep_parser.add_argument("--seed", type=_seed, help="random seed, the same for every point (default: the spec's)")
    sweep_parser.add_argument(
        "--processes",
        type=_positive_int,
        help="local worker processes (a hierarchical model's default: cores / 2; a dated model's: threads)",
    )
    sweep_parser.add_argument(
        "--threads", type=_positive_int, help="a dated model's points at once, in threads (default: one per core)"
    )
    sweep_parser.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run the points on this dask.distributed scheduler"
    )
    sweep_parser.add_argument(
        "--shipped",
        action="store_true",
        help=f"run every shipped sweep of the model TARGET ({DEFAULT_MODEL} if none; hierarchical_han for the "
        "comparison model's) and draw one tornado chart of them",
    )
    sweep_parser.add_argument(
        "--allow-bad-fit",
        action="store_true",
        help="exit 0 even when points fail a convergence gate (the table marks them)",
    )

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
    data_commands.add_parser(
        "check",
        parents=[data_option, json_option],
        help="validate the data files and summarise them",
        description="Validate the data files (bundled, or --data DIR) and list what they hold.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dnamodel`` command; return its exit status."""
    out = console()
    try:
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
    except (DataError, UsageError) as error:
        print(f"dnamodel: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dnamodel: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


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
    elif command == "sweep":
        if args.out:
            if args.shipped:
                check_output_folder(args.out, "--out")
            else:
                check_output_file(args.out, "--out")
        if args.scheduler and not SCHEDULER_ADDRESS.fullmatch(args.scheduler):
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


def _load(args: argparse.Namespace) -> Dataset:
    return load_data(args.data)


def _print_json(payload: dict[str, Any]) -> None:
    """Print standard JSON: a number that is not finite (an R-hat of a constant) is written as null."""
    text = json.dumps(_finite(payload), indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(text + "\n")


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by ``None``, in nested dicts and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _case_study(args: argparse.Namespace, out: Any) -> Dataset | None:
    """The data, unless they hold none of the report's figures: then ``None``, having said so in one line.

    Data with some of the report's figures but not all are the case study's with rows missing, and
    the replication fails on them naming the first missing id (exit 2).
    """
    data = _load(args)
    gap = report_gap(data)
    if gap is None or not report_absent(data):
        return data
    if args.json:
        _print_json({"skipped": skipped(gap)})
    else:
        render(out, skipped(gap))
    return None


def _replicate(args: argparse.Namespace, out: Any) -> None:
    data = _case_study(args, out)
    if data is None:
        return
    result = replicate(data)
    if args.json:
        _print_json(result.to_dict())
        return
    where = "the bundled data" if data.location == "bundled" else f"the data in {data.location}"
    render(out, f"{REPORT}, Tables 4 and 5, recomputed from {where}.", "")
    sections = dict.fromkeys(step.section for step in result.steps)
    for section in sections:
        rows = [
            [
                step.label,
                step.arithmetic,
                format_exact(step.exact, step.printed.style),
                step.shown(),
                step.printed.text,
                "✓" if step.matches else "✗",
                step.note,
            ]
            for step in result.steps
            if step.section == section
        ]
        render(out, Table(section, ["Step", "Arithmetic", "Exact>", "dnamodel>", "Report>", "=", "Rounding"], rows))
    render(out, *_replicate_summary(result))


def _replicate_summary(result: Replication) -> list[str]:
    low, high = result.step("total_low"), result.step("total_high")
    population = result.population
    matched = sum(step.matches for step in result.steps)
    verdict = (
        f"All {matched} figures equal the report's to the last printed digit."
        if result.all_match
        else f"{len(result.steps) - matched} of {len(result.steps)} figures differ from the report's (marked ✗)."
    )
    return [
        verdict,
        f"Convention: {CONVENTION}",
        (
            f"Carried without any intermediate truncation, the totals would be {format_count(round(low.unrounded))} "
            f"({_percent(low.unrounded / population)}) and {format_count(round(high.unrounded))} "
            f"({_percent(high.unrounded / population)}), against the report's {low.shown()} and {high.shown()}."
        ),
        _provenance_line(result.provenance),
    ]


def _audit(args: argparse.Namespace, out: Any) -> None:
    data = _case_study(args, out)
    if data is None:
        return
    result = audit(data)
    if args.json:
        _print_json(result.to_dict())
        return
    shown = [
        f
        for f in result.findings
        if (args.all or f.status != "agrees") and (not args.category or f.category in args.category)
    ]
    counts = result.counts()
    render(
        out,
        f"Audit of Citizen Lab report No. 158: {len(result.findings)} checks, {counts['agrees']} agree, "
        f"{counts['disagrees']} disagree, {counts['note']} notes."
        + ("" if args.all else " (--all lists every check.)"),
        "",
    )
    for number, finding in enumerate(shown, start=1):
        mark = {"disagrees": "DISAGREES", "note": "NOTE", "agrees": "agrees"}[finding.status]
        lines = [
            f"where: {finding.where}",
            f"printed: {finding.printed}    recomputed: {finding.recomputed or '–'}",
            f"arithmetic: {finding.arithmetic}",
        ]
        if finding.rule:
            lines.append(f"rounding: {finding.rule}")
        if finding.cause:
            lines.append(("likely cause: " if finding.status == "disagrees" else "why it matters: ") + finding.cause)
        style = {"disagrees": "bold red", "note": "bold yellow", "agrees": "bold green"}[finding.status]
        render(out, Block(f"{number}. [{mark}] {finding.category}: {finding.quantity}  ({finding.id})", lines, style))
    render(out, _conventions_line(result), _provenance_line(result.provenance))


def _conventions_line(result: Audit) -> str:
    rules = result.conventions()
    only_truncated, only_rounded = rules.get("truncated", []), rules.get("rounded", [])
    return (
        f"Rounding: of the inexact figures that agree, {len(only_truncated)} follow only by truncation and "
        f"{len(only_rounded)} only by rounding ({', '.join(i.split(':', 1)[1] for i in only_rounded) or 'none'}); "
        "the report truncates as a rule."
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _mc(args: argparse.Namespace, out: Any) -> None:
    data = _load(args)
    spec = load_model(args.model)
    if not isinstance(spec, ModelSpec):
        raise UsageError(f"{args.model} is a hierarchical model; run it with: dnamodel estimate {args.model}")
    if args.sensitivity:
        check_sobol_size(spec, args.sensitivity_draws)
    study = data.study
    thresholds = study.thresholds
    summary = summarize(
        spec, args.draws, args.seed, qmc=args.qmc, data=data, chunk_size=args.chunk_size, thresholds=thresholds
    )
    indices = sobol(spec, n=args.sensitivity_draws, seed=args.seed, data=data) if args.sensitivity else None
    one_at_a_time = tornado(spec, data=data) if args.sensitivity or args.tornado else None
    if args.tornado and one_at_a_time is not None:
        _tornado_plot(args.tornado, spec.name, one_at_a_time, study)
    total, share = summary.variables["total"], summary.variables["share"]
    comparisons = [
        {
            "label": f.label,
            "total": f.total,
            "share": f.share,
            "note": f.note,
            "probability": total.exceedance[f.total].value,
            "mcse": total.exceedance[f.total].mcse,
        }
        for f in study.figures
    ]
    if args.json:
        payload = summary.to_dict() | {"comparisons": comparisons}
        if indices is not None and one_at_a_time is not None:
            payload["sensitivity"] = {"sobol": sobol_to_dict(indices), "tornado": one_at_a_time.to_dict()}
        _print_json(payload)
        return
    rows = [["mean", _count(total.mean.value), _count(total.mean.mcse), _pct(share.mean.value), _pct(share.mean.mcse)]]
    for p in total.quantiles:
        label = "median" if p == 0.5 else f"{p:.0%} quantile"
        t, sh = total.quantiles[p], share.quantiles[p]
        rows.append([label, _count(t.value), _count(t.mcse), _pct(sh.value), _pct(sh.mcse)])
    sampler = summary.attrs["sampler"]
    items: list[Table | str] = [
        f"{spec.name}: {spec.header.description}",
        f"{args.draws:,} draws, seed {args.seed}, {sampler}.",
        "",
        Table(study.title(), ["", "total>", "MCSE>", "share>", "MCSE>"], rows),
    ]
    if study.comparisons is not None:
        items.append(
            Table(
                study.comparisons.title,
                ["", "total>", "share>", "P(total above it)>", "MCSE>"],
                [
                    [
                        _labelled(c["label"], c["note"]),
                        f"{c['total']:,.0f}",
                        "" if c["share"] is None else f"{c['share']:.1%}",
                        f"{c['probability']:.4f}",
                        f"{c['mcse']:.4f}",
                    ]
                    for c in comparisons
                ],
            )
        )
    render(out, *items)
    if total.resolution:
        render(out, f"Quantiles streamed through a sketch of bin width {total.resolution:,.1f} {study.words.unit}.")
    if indices is not None and one_at_a_time is not None:
        render(out, "", *_sensitivity_tables(indices, one_at_a_time, study.words.unit))
    if args.tornado:
        render(out, f"Wrote the tornado plot to {args.tornado}.")
    render(out, f"Spec {spec.path} ({spec.hash}); " + _provenance_line(summary.attrs))


def _tornado_plot(path: str, model: str, one_at_a_time: Tornado, study: Any) -> None:
    marked = study.marks()
    tornado_plot(
        one_at_a_time.rows,
        one_at_a_time.baseline,
        path,
        title=f"{model}: the total, one input at a time",
        study=study,
        caption=f"Each bar: the total with one input moved from its {one_at_a_time.low:.0%} quantile (blue) to its "
        f"{one_at_a_time.high:.0%} quantile (orange), or for a choice from its smallest to its largest alternative, "
        "every other input at its median (solid line)."
        + (f" Dashed lines: {', '.join(label for _, label in marked)}." if marked else ""),
    )


def _labelled(label: str, note: str | None) -> str:
    return f"{label} ({note})" if note else label


def _sensitivity_tables(indices: Any, one_at_a_time: Tornado, unit: str) -> list[Table | str]:
    ranked = sobol_to_dict(indices)["indices"]
    attrs = indices.attrs
    sobol_rows = [
        [
            row["input"],
            _index(row["total_order"]),
            _interval(row["total_order_low"], row["total_order_high"]),
            _index(row["first_order"]),
            _interval(row["first_order_low"], row["first_order_high"]),
        ]
        for row in ranked
    ]
    level = f"{attrs['confidence_level']:.0%}"
    tornado_table = [
        [
            row.input,
            row.low_label or f"{row.low_value:,.4g}",
            _count(row.total_at_low),
            row.high_label or f"{row.high_value:,.4g}",
            _count(row.total_at_high),
            _count(row.swing),
        ]
        for row in one_at_a_time.rows
    ]
    return [
        Table(
            "Sensitivity of the total: Sobol indices, inputs ranked by total-order index",
            ["Input", "total-order>", f"{level} interval>", "first-order>", f"{level} interval>"],
            sobol_rows,
        ),
        f"Share of the total's variance each input accounts for with all its interactions (total-order) and alone "
        f"(first-order); n = {attrs['n']:,} ({attrs['evaluations']:,} model runs), seed {attrs.get('seed', '–')}, "
        f"{attrs['method']}; intervals: {attrs['interval']}.",
        "",
        Table(
            f"Tornado: the total with one input at its {one_at_a_time.low:.0%} and {one_at_a_time.high:.0%} quantiles "
            "(a choice: its smallest and largest alternative), the others at their medians",
            ["Input", "low value", "total>", "high value", "total>", "swing>"],
            tornado_table,
        ),
        f"Baseline, every input at its median: {_count(one_at_a_time.baseline)} {unit}.",
    ]


def _index(value: float) -> str:
    return f"{round(value, 3) + 0.0:.3f}"  # + 0.0 turns the -0.0 of a tiny negative estimate into 0.0


def _interval(low: float, high: float) -> str:
    return f"{_index(low)} to {_index(high)}"


def _count(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def _pct(value: float) -> str:
    return f"{value * 100:.3f}%"


def _prob(statistic: Any) -> list[str]:
    return [f"{statistic.value:.4f}", f"{statistic.mcse:.4f}"]


def _check(args: argparse.Namespace, out: Any) -> None:
    data = _load(args)
    region = data.areas[data.region]
    study = data.study
    summary = {
        "location": data.location,
        "data_version": data.version,
        "region": data.region,
        "units": len(data.units),
        "prefectures": len(data.groups),
        "region_population_2020": region.population_2020,
        "observations": len(data.observations),
        "report_figures": len(data.report_figures),
        "study": study.title(),
        "comparisons": [f.label for f in study.figures],
        "columns": data.numeric_columns(),
        "case_study": report_gap(data) is None,
    }
    if args.json:
        _print_json({"valid": True, **summary})
        return
    kinds: dict[str, int] = {}
    for obs in data.observations.values():
        kinds[obs.kind] = kinds.get(obs.kind, 0) + 1
    group = study.words.group
    figures = f"; {summary['report_figures']} figures of the report's own" if data.report_figures else ""
    compared = ", ".join(summary["comparisons"]) or "none"
    render(
        out,
        f"{'The bundled data' if data.location == 'bundled' else f'The data in {data.location}'} are valid "
        f"({data.version}): {study.title()}.",
        f"{summary['units']} units in {summary['prefectures']} {group}s of {region.name} ({data.region}), "
        f"{format_count(region.population_2020)} people; {summary['observations']} observations{figures}.",
        f"Numeric columns of units.csv (covariates): {', '.join(summary['columns'])}. Compared with: {compared}.",
        "",
        Table("Observations by kind", ["Kind", "Rows>"], [[k, str(n)] for k, n in sorted(kinds.items())]),
    )


def _percent(value: Fraction) -> str:
    return f"{float(value) * 100:.2f}%"


def _provenance_line(record: dict[str, str]) -> str:
    return f"dnamodel {record['dnamodel_version']}; data {record['data_location']} ({record['data_version']})."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def _estimate(args: argparse.Namespace, out: Any) -> int:
    data = _load(args)
    result = _run_estimate(args, data, out=args.out, sensitivity=args.sensitivity)
    if args.json:
        _print_json(result.as_dict())
    else:
        render(out, *_estimate_tables(result))
    if result.summary.diagnostics.passed or args.allow_bad_fit:
        return EXIT_OK
    print("dnamodel: error: the fit failed its convergence gates; see the diagnostics above", file=sys.stderr)
    return EXIT_BAD_FIT


def _hierarchical_spec(args: argparse.Namespace) -> HierarchicalSpec:
    model = args.model or DEFAULT_MODEL
    spec = load_model(model)
    if isinstance(spec, ModelSpec):
        raise UsageError(f"{model} is a Monte Carlo model; run it with: dnamodel mc {model}")
    return spec


def _run_estimate(args: argparse.Namespace, data: Dataset, *, out: str, sensitivity: bool) -> Any:
    spec = _hierarchical_spec(args)
    with _status_line(enabled=not args.json) as status:
        return run_estimate(
            spec,
            data,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
            sampler=args.sampler or "nutpie",
            out=out,
            loo=args.loo,
            sensitivity=sensitivity,
            status=status,
        )


@contextlib.contextmanager
def _status_line(*, enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """A spinner on standard error saying what a long command does now, with its elapsed time.

    Only on a terminal: when either stream is piped, or with ``--json``, nothing extra is written.
    """
    if not (enabled and sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console  # deferred: only a command on a terminal draws it

    console = Console(stderr=True)
    begin = time.perf_counter()
    with console.status("Starting") as spinner:

        def say(line: str) -> None:
            spinner.update(f"{line} … [dim](from {time.perf_counter() - begin:.0f} s)[/dim]")

        yield say


def _report(args: argparse.Namespace, out: Any) -> int:
    data = _load(args)
    if args.source:
        fitting = [
            f"--{name}" for name in ("draws", "tune", "chains", "seed", "sampler") if getattr(args, name) is not None
        ]
        if args.model or fitting or not args.loo:
            given = ", ".join(([args.model] if args.model else []) + fitting + ([] if args.loo else ["--no-loo"]))
            raise UsageError(f"--from draws a saved fit as it is; {given} would need a new fit (drop --from)")
        fit_path = Path(args.source)
    else:
        if not args.out:  # the report goes beside the fit: its name is known before the fit
            check_output_file(Path(args.results) / f"{_hierarchical_spec(args).name}_report.html", "the report")
        result = _run_estimate(args, data, out=args.results, sensitivity=True)
        fit_path = result.paths[0]
    target = Path(args.out) if args.out else fit_path.parent / f"{fit_path.stem}_report.html"
    # a saved fit without --data is drawn with the data it records (data_of_fit), not the bundled data
    given = data if args.data or not args.source else None
    report = render_report(fit_path, target, data=given, sweeps_dir=None if args.no_sweeps else args.sweeps)
    s = report.summary
    if args.json:
        _print_json(
            {
                "report": str(report.path),
                "fit": str(fit_path),
                "figures": report.figures,
                "sweeps": report.sweeps,
                "missing": report.missing,
                "sentence": s.sentence,
                "withheld": s.withheld,
                "passed": s.diagnostics.passed,
            }
        )
    else:
        lines = [("To cite: " + s.sentence) if s.sentence else ("No sentence to cite: " + (s.withheld or "")), ""]
        lines.append(f"Wrote {report.path}: {len(report.figures)} figures, drawn from {fit_path}.")
        if report.missing:
            lines.append("Not in it: " + "; ".join(report.missing) + ".")
        render(out, *lines)
    if s.diagnostics.passed or args.allow_bad_fit:
        return EXIT_OK
    print("dnamodel: error: the fit failed its convergence gates; the report says which", file=sys.stderr)
    return EXIT_BAD_FIT


def _estimate_tables(result: Any) -> list[Table | str]:
    s = result.summary
    study = s.study
    total, share = s.total, s.share
    rows = [
        ["median", _count(total.median), _pct(share.median), "", ""],
        ["mean", _count(total.mean), _pct(share.mean), f"MCSE {_count(total.mcse_mean)}", ""],
    ]
    for prob in (0.5, 0.9, 0.95):
        et, hdi = total.interval(prob), total.interval(prob, "HDI")
        set_, shdi = share.interval(prob), share.interval(prob, "HDI")
        rows.append(
            [
                f"{prob:.0%} interval",
                _range(et.low, et.high),
                f"{_pct(set_.low)} to {_pct(set_.high)}",
                _range(hdi.low, hdi.high),
                f"{_pct(shdi.low)} to {_pct(shdi.high)}",
            ]
        )
    exceed = [
        [_labelled(e.label, e.note), f"{e.threshold:,.0f}", f"{e.probability:.3f}", f"{e.mcse:.3f}"]
        for e in s.exceedance
    ]
    prefectures = [
        [p.name, f"{p.population:,}", _count(p.median), _range(p.low, p.high), _pct(p.share_median)]
        for p in s.prefectures
    ]
    d = s.diagnostics
    gates = [
        [r.name, f"{r.rhat:.4f}", f"{r.ess_bulk:,.0f}", f"{r.ess_tail:,.0f}", "ok" if r.passed else "FAIL"]
        for r in d.rows
    ]
    checks = [
        [
            c.observation + _bound_mark(c),
            value_text(c.observed),
            value_text(c.median),
            f"{value_text(c.low)} to {value_text(c.high)}",
            f"{c.pit:.2f}",
            "" if c.inside else "outside",
        ]
        for c in result.checks
    ]
    title = study.title(s.provenance.get("estimand_date"))
    items: list[Table | str] = [
        f"{s.model}: {result.description}",
        f"{d.chains} chains × {d.draws:,} draws, {s.provenance.get('sampler')}, seed {s.provenance.get('seed')}.",
        "",
        Table(title, ["", "total>", "share>", "HDI total>", "HDI share>"], rows),
    ]
    if study.comparisons is not None:
        items.append(Table(study.comparisons.title, ["", "total>", "P(total above it)>", "MCSE>"], exceed))
    items += [
        Table(
            f"By {study.words.group} (posterior median, 90% interval)",
            ["", "population>", "total>", "90%>", "share>"],
            prefectures,
        ),
        Table(
            f"Diagnostics: {d.divergences} divergences, max R-hat {d.max_rhat:.4f} ({d.max_rhat_variable})",
            ["", "R-hat>", "ESS bulk>", "ESS tail>", "gate"],
            gates,
        ),
        Table("Posterior predictive checks (90% intervals)", ["", "observed>", "median>", "90%>", "PIT>", ""], checks),
    ]
    if result.loo:
        items.append(
            Table(
                "Leave one observation out: refit without it, then predict it",
                ["left out", "observed>", "predicted>", "90%>", "PIT>", "total without it>"],
                [
                    [
                        c.observation + _bound_mark(c),
                        value_text(c.observed),
                        value_text(c.median),
                        f"{value_text(c.low)} to {value_text(c.high)}",
                        f"{c.pit:.2f}",
                        _count(c.total_median or 0),
                    ]
                    for c in result.loo
                ],
            )
        )
    for forecast in getattr(result, "forecasts", []):
        items.append(_forecast_table(forecast))
    if result.power_scaling is not None:
        ps = result.power_scaling
        items.append(
            Table(
                f"Power-scaling sensitivity (psens, CJS distance; flagged at {ps.threshold})",
                ["", "prior>", "likelihood>", "diagnosis"],
                [[r.quantity, f"{r.prior:.3f}", f"{r.likelihood:.3f}", r.diagnosis] for r in ps.rows],
            )
        )
        if len(ps.prior_terms) > 1:
            items.append(
                Table(
                    "Prior sensitivity to each prior term alone (psens)",
                    ["", *[f"{term.replace('_per_resident', '')}>" for term in ps.prior_terms]],
                    [[r.quantity, *[f"{r.by_prior[term]:.3f}" for term in ps.prior_terms]] for r in ps.rows],
                )
            )
    pc = result.prior
    bounded = (
        ""
        if pc.constrained == pc.forward
        else f" ({_range(pc.constrained[0], pc.constrained[-1])} with the thesis bound)"
    )
    items.append(
        "Prior check: the prior alone puts the total's 1-99% range at "
        f"{_range(pc.forward[0], pc.forward[-1])}{bounded}."
    )
    if any(c.bound != "none" for c in result.checks):
        items.append("≥ marks a lower bound, ≤ an upper bound; a bound's PIT is its mid-PIT (model card 5.9).")
    items.append("")
    if s.sentence:
        items.append("To cite: " + s.sentence)
        structural = getattr(result, "structural", None)
        if structural:
            items.append("And on how much it depends on the model: " + structural)
        elif getattr(result, "forecasts", None) is not None and result.forecasts:
            items.append(
                "How much the total depends on the model: run `dnamodel compare` on this model and its variants (it "
                "writes compare.nc into this folder, and estimate then adds its sentence here)."
            )
    else:
        items.append("No sentence to cite: " + (s.withheld or ""))
    items.append("")
    items.append("Wrote " + ", ".join(str(p) for p in result.paths) + ".")
    items.append("Time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()) + ".")
    return items


def _range(low: float, high: float) -> str:
    return f"{_count(low)} to {_count(high)}"


def _bound_mark(check: Any) -> str:
    return {"lower": " ≥", "upper": " ≤"}.get(getattr(check, "bound", "none"), "")


def _forecast_check(args: argparse.Namespace, out: Any) -> int:
    data = _load(args)
    name = args.model or DEFAULT_MODEL
    spec = load_model(name)
    if not isinstance(spec, DatedSpec):
        raise UsageError(f"{name} is not a dated model; forecast-check refits a dated model on the past")
    comparison = None
    if not args.no_compare:
        comparison = load_model(args.compare)
        if not isinstance(comparison, HierarchicalSpec):
            raise UsageError(f"--compare {args.compare}: give a hierarchical model (kind = 'hierarchical')")
    result = run_forecast_check(spec, data, comparison=comparison, draws=args.draws, seed=args.seed)
    failed = [c.observation for f in result.forecasts for c in f.checks if not 0.05 < c.pit < 0.95]
    if args.json:
        _print_json(result.as_dict() | {"failed": failed})
    else:
        items: list[Table | str] = [f"Forecasts of {spec.name}, each a refit on what was published by a date.", ""]
        for forecast in result.forecasts:
            items.append(_forecast_table(forecast))
        if comparison is not None:
            items.append(
                f"The same cutoffs for {comparison.name}, which has no time: it predicts its own later figures."
            )
            for label, used, checks in result.comparison_forecasts:
                if not checks:
                    items.append(f"  data to {label}: {comparison.name} has no observation after this date to predict.")
                    continue
                items.append(_forecast_table(_Forecast(label, used, tuple(checks))))
        count = sum(len(f.checks) for f in result.forecasts)
        listed = ": " + ", ".join(failed) if failed else ""
        items.append(f"{len(failed)} of {count} forecasts of {spec.name} have a PIT outside (0.05, 0.95){listed}.")
        items.append("Time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()) + ".")
        render(out, *items)
    return EXIT_BAD_FIT if failed else EXIT_OK


def _compare(args: argparse.Namespace, out: Any) -> int:
    data = _load(args)
    check_output_folder(args.out, "--out")
    result = compare(args.models or None, data, draws=args.draws, tune=args.tune, seed=args.seed)
    paths = write_comparison(result, args.out, study=data.study)
    if args.json:
        _print_json(result.as_dict() | {"files": [str(p) for p in paths]})
        return EXIT_OK
    weights = {}
    if result.stacking is not None:
        s = result.stacking
        weights = {
            name: f"{w:.2f} ({lo:.2f} to {hi:.2f})"
            for name, w, (lo, hi) in zip(s.models, s.weights, s.weight_interval(), strict=True)
        }
    rows = []
    for m in result.models:
        loo_out = sum(not 0.05 < c.pit < 0.95 for c in m.loo)
        forecast_out = sum(not 0.05 < c.pit < 0.95 for f in m.forecasts for c in f.checks)
        forecasts = f"{forecast_out} of {sum(len(f.checks) for f in m.forecasts)}" if m.forecasts else "-"
        rows.append(
            [
                m.name,
                _count(m.median),
                _range(*m.intervals[0.5]),
                _range(*m.intervals[0.9]),
                _range(*m.intervals[0.95]),
                "ok" if m.passed else "FAIL",
                f"{m.lpd.sum():.1f}",
                f"{loo_out} of {len(m.loo)}",
                forecasts,
                weights.get(m.name, ""),
            ]
        )
    items: list[Table | str] = [
        Table(
            "The total under each model",
            [
                "",
                "median>",
                "50%>",
                "90%>",
                "95%>",
                "gates",
                "elpd LOO>",
                "LOO PIT out",
                "forecasts out",
                "weight (90%)",
            ],
            rows,
        )
    ]
    if result.stacking is not None:
        s = result.stacking
        se = ", ".join(
            f"{n} {d:+.1f} ± {d_se:.1f}" for n, d, d_se in zip(s.models, s.elpd_diff, s.elpd_diff_se, strict=True)
        )
        items.append(
            f"Stacked ({', '.join(s.models)}, scored on the same {len(result.models[0].loo)} observations): median "
            f"{_count(s.total_median)}, 90% {_range(*s.total_interval)}. elpd LOO against the best, ± its standard "
            f"error: {se}."
        )
        if s.too_uncertain:
            items.append(
                "The weights are too uncertain to lean on: some model's bootstrap 90% interval of its weight is wider "
                "than 0.5. With this few observations, read the stacked total as one more model, not as the answer."
            )
    others = [m.name for m in result.models if m.name not in result.stacked_family]
    if others:
        items.append(f"Not stacked: {', '.join(others)}, scored on other observations (their elpd is not comparable).")
    items.extend(["", result.sentence(), "", "Wrote " + ", ".join(str(p) for p in paths) + "."])
    render(out, *items)
    return EXIT_OK


@dataclass(frozen=True)
class _Forecast:
    data_to: str
    used: tuple[str, ...]
    checks: tuple[Any, ...]


def _forecast_table(forecast: Any) -> Table:
    """One forecast check: what a refit on the past predicted for what came later."""
    return Table(
        f"Forecast from the data published by {forecast.data_to} ({len(forecast.used)} observations)",
        ["predicted", "observed>", "forecast>", "90%>", "PIT>", "total then>", ""],
        [
            [
                c.observation + _bound_mark(c),
                value_text(c.observed),
                value_text(c.median),
                f"{value_text(c.low)} to {value_text(c.high)}",
                f"{c.pit:.2f}",
                _count(c.total_median or 0),
                "" if 0.05 < c.pit < 0.95 else "PIT outside (0.05, 0.95)",
            ]
            for c in forecast.checks
        ],
    )


def _sweep(args: argparse.Namespace, out: Any) -> int:
    data = _load(args)
    model_of_shipped = None
    if args.shipped:
        if args.settings:
            raise UsageError("--shipped runs the shipped sweeps as they are; give no --set with it")
        model_of_shipped = args.target or DEFAULT_MODEL
        names = shipped_sweeps(model_of_shipped)
        if not names:
            models = sorted({load_sweep(n).model for n in shipped_sweeps()})
            raise UsageError(f"no shipped sweep of {model_of_shipped!r}; shipped sweeps are of {', '.join(models)}")
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
        target.parent.mkdir(parents=True, exist_ok=True)
        result = sweep(
            model,
            grid,
            **settings,
            out=target,
            client=client,
            processes=args.processes,
            threads=args.threads,
            progress=None if args.json else _progress(out, title),
            origins=origins,
        )
        if "passed" in result and not bool(result["passed"].all()):
            failed.append(f"{int((~result['passed']).sum())} of {result['passed'].size} points of {title}")
        plots = write_plots(result, target, title, data.study)
        tornado += tornado_rows(result, label=title)
        reference = reference or reference_interval(result)
        paths = list(result["total_median"].dims)
        if args.json:
            payload.append(
                {"sweep": title, "file": str(target), "plots": [str(p) for p in plots], "points": _sweep_points(result)}
            )
            continue
        hierarchical = "passed" in result
        headers = [*paths, "median>", "90%>", "share>"] + (["div>", "R-hat>", "ESS>", "gates"] if hierarchical else [])
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
        _print_json({"sweeps": payload})
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
        except UsageError:
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


def _progress(out: Any, title: str) -> Any:
    """A progress callback drawing a bar over points on a terminal, and nothing when piped."""
    if not sys.stdout.isatty():
        return None
    from rich.progress import Progress  # deferred: only a sweep on a terminal draws a bar

    bar = Progress(console=out, transient=True)
    task = bar.add_task(title, total=None)

    def update(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)
        if done == total:
            bar.stop()

    return update
