"""The ``voi`` command: which figure, if found, would narrow the total's interval most."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dnamodel.cli.common import EXIT_OK, default_model, load, print_json
from dnamodel.cli.fits import _load, _status_line
from dnamodel.cli.sweeps import refit_executor
from dnamodel.errors import UsageError
from dnamodel.families import Capability, family_of
from dnamodel.files import check_output_folder
from dnamodel.outputs.tables import render
from dnamodel.outputs.voi import voi_table
from dnamodel.workflows.voi import run_voi


def add_voi_parser(commands: Any, parents: list[argparse.ArgumentParser], positive: Any, tune: Any, seed: Any) -> None:
    """The ``voi`` subcommand's arguments."""
    parser = commands.add_parser(
        "voi",
        parents=parents,
        help="rank the figures that, if found, would narrow the total's interval most",
        description="For each candidate observation (the spec's [voi.NAME] tables, or by default a count over each "
        "group and over the region at the estimand's date, each database's stock then, and the typed share measured "
        "in one place or known), simulate its value from the fit's posterior predictive, condition on it and "
        "average the total's 90% interval width: ranked by the expected width as a share of today's, with its Monte "
        "Carlo error. Importance sampling of the fit's draws (seconds; Pareto k̂ per simulated value); --refits N "
        "refits the model with the candidate added at N simulated values, and where k̂ > 0.7. Weighs a saved fit "
        "(--from, or OUT/MODEL.nc when `dnamodel estimate` wrote it), else fits the model first.",
    )
    parser.add_argument("model", metavar="MODEL", nargs="?", default=None, help="a dated model's name or TOML path")
    parser.add_argument("--from", dest="source", metavar="FIT.nc", help="weigh this saved fit (default: OUT/MODEL.nc)")
    parser.add_argument("--out", default="results", metavar="DIR", help="where the figure goes (default results/)")
    parser.add_argument(
        "--simulations", type=positive, default=200, metavar="N", help="simulated values per candidate (default 200)"
    )
    parser.add_argument(
        "--refits", type=positive, default=0, metavar="N", help="also refit at N simulated values per candidate"
    )
    parser.add_argument("--draws", type=positive, metavar="N", help="draws per chain of each refit (default 400)")
    parser.add_argument("--tune", type=tune, metavar="N", help="tuning steps of each refit (default 500)")
    parser.add_argument("--chains", type=positive, metavar="N", help="chains of each refit (default: the fit's)")
    parser.add_argument("--seed", type=seed, metavar="S", help="the simulations' seed (default: the fit's)")
    workers = parser.add_mutually_exclusive_group()
    workers.add_argument(
        "--processes",
        type=positive,
        metavar="N",
        help="run the --refits in N local worker processes, as a sweep's points",
    )
    workers.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run the --refits on this dask.distributed scheduler"
    )


def _voi(args: argparse.Namespace, out: Any) -> int:
    data = load(args)
    check_output_folder(args.out, "--out")
    source = Path(args.source) if args.source else None
    spec: Any = None
    if source is None or args.model:
        spec = _load(args.model or default_model(data, "voi"), data, None if args.model else "default")
        family_of(spec).require(Capability.VALUE_OF_INFORMATION, spec.name)
    if source is None:
        saved = Path(args.out) / f"{spec.name}.nc"
        source = saved if saved.is_file() else None
    elif not source.is_file():
        raise UsageError(
            f"--from {source}: no such fit; make one with `dnamodel estimate` (it writes results/MODEL.nc)"
        )
    with _status_line(enabled=not args.json) as status, refit_executor(args) as executor:
        run = run_voi(
            spec,
            data,
            source=source,
            out=Path(args.out),
            simulations=args.simulations,
            refits=args.refits,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
            status=status,
            executor=executor,
        )
    result = run.result
    if args.json:
        print_json(result.as_dict() | {"fit": str(run.fit) if run.fit else None, "figure": str(run.figure)}, "voi")
        return EXIT_OK
    weighed = f"the fit {run.fit}" if run.fit else "a fit made now"
    lines: list[Any] = [voi_table(result, run.words["unit"])]
    best = result.narrowings[0]
    lines.append(
        f"Found, {best.candidate.words} would leave the 90% interval at {best.ratio:.2f} of its width today "
        f"(± {best.mcse:.2f}, Monte Carlo): the figure most worth looking for, of these."
    )
    unreliable = [n.candidate.name for n in result.narrowings if n.unreliable and n.candidate.kind != "typed_share"]
    if unreliable:
        lines.append(
            "Some simulated values of " + ", ".join(unreliable) + " weigh too few of the fit's draws (Pareto k̂ > 0.7): "
            "`--refits N` refits the model at them."
        )
    if any(n.unreliable and n.candidate.kind == "typed_share" for n in result.narrowings):
        lines.append(
            "κ's rows are reweighted only (no observation measures κ, so there is no refit): their simulated values "
            "with k̂ > 0.7 are not to be trusted, and their ratios are the less certain for it."
        )
    lines.append(f"Weighed {weighed}; the figure: {run.figure}.")
    render(out, *lines)
    return EXIT_OK
