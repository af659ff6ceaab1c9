"""The commands of a fitted model: ``estimate``, ``report``, ``forecast-check`` and ``compare``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dnamodel.applications import extensions_for
from dnamodel.checks.gates import MIN_ESS
from dnamodel.checks.predictive import Check
from dnamodel.cli.common import (
    EXIT_BAD_FIT,
    EXIT_OK,
    count_text,
    default_model,
    labelled,
    load,
    named_by_study,
    print_json,
)
from dnamodel.data import Dataset
from dnamodel.errors import UsageError
from dnamodel.families import Capability, family_of, load_model
from dnamodel.files import check_output_file, check_output_folder
from dnamodel.outputs.formats import group_table, headline_table, rounds_text
from dnamodel.outputs.pdf import pdf_printer
from dnamodel.outputs.said import fixed_table, said_lines, widths_table
from dnamodel.outputs.tables import Table, render, value_text
from dnamodel.workflows.compare import compare, write_comparison
from dnamodel.workflows.estimate import run_estimate, run_forecast_check
from dnamodel.workflows.report import draw_report, write_report_documents


def _estimate(args: argparse.Namespace, out: Any) -> int:
    data = load(args)
    result = _run_estimate(args, data, out=args.out, sensitivity=args.sensitivity)
    if args.json:
        print_json(result.as_dict(), "estimate")
    else:
        render(out, *_estimate_tables(result))
    return _gated(result.summary, args)


def _gated(summary: Any, args: argparse.Namespace) -> int:
    """The exit status of a fit: 3 when a gate withheld the sentence, saying why and what to do.

    A convergence gate, or the Monte Carlo error of a quoted figure; 0 with ``--allow-bad-fit``, or
    when the sentence is given.
    """
    if summary.cited or args.allow_bad_fit:
        return EXIT_OK
    reason = summary.withheld[:1].lower() + summary.withheld[1:]  # after a colon, mid-sentence
    print(f"dnamodel: error: no sentence to cite: {reason} {summary.advice or ''}".rstrip(), file=sys.stderr)
    return EXIT_BAD_FIT


def _fitted_spec(args: argparse.Namespace, data: Dataset) -> Any:
    """The spec of ``estimate`` and ``report``: of a model with a posterior, the one named or the data's default."""
    model = args.model or default_model(data, args.command)
    spec = _load(model, data, None if args.model else "default")
    family_of(spec).require(Capability.POSTERIOR, model)
    return spec


def _load(model: str, data: Dataset, key: str | None) -> Any:
    """A spec; one the data's study names (``key`` of its ``[models]``) is named with where it was named."""
    try:
        return load_model(model)
    except UsageError as error:
        if key is None:
            raise
        reference = data.study.models.default if key == "default" else data.study.models.forecast_compare
        raise UsageError(f"{named_by_study(data, key, str(reference))}: {error}") from None


def _run_estimate(args: argparse.Namespace, data: Dataset, *, out: str, sensitivity: bool) -> Any:
    spec = _fitted_spec(args, data)
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
            assumptions=getattr(args, "assumptions", "compute"),
            exact_refits=args.exact_refits,
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
    data = load(args)
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
            check_output_file(Path(args.results) / f"{_fitted_spec(args, data).name}_report.html", "the report")
        result = _run_estimate(args, data, out=args.results, sensitivity=True)
        fit_path = result.paths[0]
    target = Path(args.out) if args.out else fit_path.parent / f"{fit_path.stem}_report.html"
    # a saved fit without --data is drawn with the data it records (data_of_fit), not the bundled data
    fit_data = data if args.data or not args.source else None
    sweeps = None if args.no_sweeps else args.sweeps
    with _status_line(enabled=not args.json) as status:
        if status is not None:
            status(f"Drawing the report of {fit_path}")
        report = draw_report(fit_path, target, data=fit_data, sweeps_dir=sweeps, extensions=extensions_for)
        if status is not None and args.pdf:
            status("Printing the report as PDF")
        documents = write_report_documents(report, chromium=pdf_printer() if args.pdf else None)
    pdf = next((str(p) for p in documents if p.suffix == ".pdf"), None)
    s = report.summary
    if args.json:
        print_json(
            {
                "report": str(report.path),
                "fit": str(fit_path),
                "pdf": pdf,
                "tables": [str(p) for p in documents if p.suffix != ".pdf"],
                "figures": report.figures,
                "sweeps": report.sweeps,
                "missing": report.missing,
                "sentence": s.sentence,
                "withheld": s.withheld,
                "passed": s.diagnostics.passed,
            },
            "report",
        )
    else:
        withheld = "No sentence to cite: " + (s.withheld or "") + (f" {s.advice}" if s.advice else "")
        lines = [("To cite: " + s.sentence) if s.sentence else withheld, ""]
        lines.append(f"Wrote {report.path}: {len(report.figures)} figures, drawn from {fit_path}.")
        lines.append("Beside it: " + ", ".join(str(p) for p in documents) + ".")
        if report.missing:
            lines.append("Not in it: " + "; ".join(report.missing) + ".")
        render(out, *lines)
    return _gated(s, args)


def _estimate_tables(result: Any) -> list[Table | str]:
    s = result.summary
    study = s.study
    exceed = [
        [labelled(e.label, e.note), f"{e.threshold:,.0f}", f"{e.probability:.3f}", f"{e.mcse:.3f}"]
        for e in s.exceedance
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
            "uninformative" if c.uninformative else "" if c.inside else "outside",
        ]
        for c in result.checks
    ]
    items: list[Table | str] = [
        f"{s.model}: {result.description}",
        f"{d.chains} chains × {d.draws:,} draws{rounds_text(s.provenance)}, {s.provenance.get('sampler')}, "
        f"seed {s.provenance.get('seed')}.",
        "",
        headline_table(s),
    ]
    if study.comparisons is not None:
        items.append(Table(study.comparisons.title, ["", "total>", "P(total above it)>", "MCSE>"], exceed))
    items += [
        group_table(s),
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
                "Leave one observation out: the posterior without it (reweighted or refitted), then predict it",
                ["left out", "observed>", "predicted>", "90%>", "PIT>", "total without it>", "by", ""],
                [
                    [
                        c.observation + _bound_mark(c),
                        value_text(c.observed),
                        value_text(c.median),
                        f"{value_text(c.low)} to {value_text(c.high)}",
                        f"{c.pit:.2f}",
                        count_text(c.total_median or 0),
                        made_by(c),
                        "; ".join(m for m in (_verdict_text(c), refit_mark(c)) if m),
                    ]
                    for c in result.loo
                ],
            )
        )
        items.append(passes_line(result.loo, "left-out observations"))
        if any(made_by(c) for c in result.loo):
            items.append(MADE_BY_NOTE)
    items += _sources_items(getattr(result, "sources", []))
    forecasts = list(getattr(result, "forecasts", []))
    for forecast in forecasts:
        items.append(_forecast_table(forecast))
    if forecasts:
        items.append(passes_line([c for f in forecasts for c in f.checks], "forecasts"))
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
    said = getattr(result, "said", None)
    items += [t for t in (widths_table(said), fixed_table(said)) if t is not None]
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
        items.append(
            "≥ marks a lower bound, ≤ an upper bound; a bound's PIT is its mid-PIT, and a bound at least "
            f"{100 * Check.uninformative_share:g}% of whose draws satisfy it is uninformative (model card 5.10)."
        )
    items.append("")
    before, after, always = said_lines(said, s)
    items += before
    if s.sentence:
        items.append("To cite: " + s.sentence)
        items += after
        structural = getattr(result, "structural", None)
        if structural:
            items.append("And on how much it depends on the model: " + structural)
        elif getattr(result, "forecasts", None) is not None and result.forecasts:
            items.append(
                "How much the total depends on the model: run `dnamodel compare` on this model and its variants (it "
                "writes compare.nc into this folder, and estimate then adds its sentence here)."
            )
    else:
        items.append("No sentence to cite: " + (s.withheld or "") + (f" {s.advice}" if s.advice else ""))
    items += always
    items.append("")
    items.append("Wrote " + ", ".join(str(p) for p in result.paths) + ".")
    items.append("Time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()) + ".")
    return items


def _sources_items(sources: list[Any]) -> list[Table | str]:
    """Leave one source out: a row per observation of each source of two or more, and how many pass."""
    shared = [g for g in sources if len(g.checks) > 1]
    if not shared:
        return []
    rows = [
        [
            g.source if i == 0 else "",
            c.observation + _bound_mark(c),
            value_text(c.observed),
            value_text(c.median),
            f"{value_text(c.low)} to {value_text(c.high)}",
            f"{c.pit:.2f}",
            f"{g.lpd:.2f}" if i == 0 else "",
            count_text(g.total_median) if i == 0 else "",
            made_by(c) if i == 0 else "",
            "; ".join(m for m in (_verdict_text(c), refit_mark(c)) if m),
        ]
        for g in shared
        for i, c in enumerate(g.checks)
    ]
    alone = len(sources) - len(shared)
    return [
        Table(
            "Leave one source out: the posterior without every figure of a source, then predict them",
            ["source", "left out", "observed>", "predicted>", "90%>", "PIT>", "lpd>", "total without it>", "by", ""],
            rows,
        ),
        passes_line([c for g in shared for c in g.checks], "observations of shared sources")
        + f" The other {alone} source{'s are' if alone != 1 else ' is'} one observation each: "
        "leave-one-out's rows. lpd: the log predictive density of the source's figures together.",
    ]


def _verdict_text(check: Any) -> str:
    """The last column of a held-out or forecast check: uninformative, a miss, or nothing for a pass."""
    if check.uninformative:
        return f"uninformative ({100 * check.satisfied:.0f}% of draws satisfy it)"
    return "" if check.pit_inside else "PIT outside (0.05, 0.95)"


def passes_line(checks: list[Any], what: str) -> str:
    """How many checks pass, counting no uninformative bound: "6 of 9 left-out observations pass; …".

    Examples
    --------
    >>> from dnamodel.checks.predictive import Check
    >>> rows = [Check("a", 1.0, 1.0, 0.5, 2.0, 0.4), Check("b", 218.0, 9e4, 7e4, 1e5, 0.5, bound="lower")]
    >>> for part in passes_line(rows, "forecasts").split("; "):
    ...     print(part)
    1 of 1 forecasts pass (PIT inside (0.05, 0.95))
    1 more is a bound at least 99% of whose draws satisfy it: uninformative, not counted: b.
    """
    counted = [c for c in checks if not c.uninformative]
    idle = [c.observation for c in checks if c.uninformative]
    low, high = Check.pit_limits
    text = f"{sum(c.pit_inside for c in counted)} of {len(counted)} {what} pass (PIT inside ({low:g}, {high:g}))"
    if idle:
        share = f"{100 * Check.uninformative_share:g}%"
        text += (
            f"; {len(idle)} more {'is a bound' if len(idle) == 1 else 'are bounds'} at least {share} of whose draws "
            f"satisfy {'it' if len(idle) == 1 else 'them'}: uninformative, not counted: {', '.join(idle)}"
        )
    return text + "."


def _range(low: float, high: float) -> str:
    return f"{count_text(low)} to {count_text(high)}"


def _bound_mark(check: Any) -> str:
    return {"lower": " ≥", "upper": " ≤"}.get(getattr(check, "bound", "none"), "")


def _forecast_check(args: argparse.Namespace, out: Any) -> int:
    data = load(args)
    spec = _load(args.model or default_model(data, "forecast-check"), data, None if args.model else "default")
    comparison = None
    if not args.no_compare and args.compare:
        comparison = load_model(args.compare)
    elif not args.no_compare and data.study.models.forecast_compare is not None:
        comparison = _load(data.model(data.study.models.forecast_compare), data, "forecast_compare")
    with _status_line(enabled=not args.json) as status:
        result = run_forecast_check(spec, data, comparison=comparison, draws=args.draws, seed=args.seed, status=status)
    failed = [c.observation for f in result.forecasts for c in f.checks if c.verdict == "miss"]
    if args.json:
        print_json(result.as_dict() | {"failed": failed}, "forecast-check")
    else:
        items: list[Table | str] = [f"Forecasts of {spec.name}, each a refit on what was published by a date.", ""]
        for forecast in result.forecasts:
            items.append(_forecast_table(forecast))
        if comparison is not None:
            items.append(
                f"The same cutoffs for {comparison.name}, which has no time: it predicts its own later figures."
            )
            for forecast in result.comparison_forecasts:
                if not forecast.checks:
                    nothing = f"{comparison.name} has no observation after this date to predict"
                    items.append(f"  data to {forecast.data_to}: {nothing}.")
                    continue
                items.append(_forecast_table(forecast))
        elif not args.no_compare:
            items.append(
                "No comparison model: the data name none (study.toml's [models] forecast_compare); give one with "
                "--compare MODEL."
            )
        every = [c for f in result.forecasts for c in f.checks]
        count = sum(not c.uninformative for c in every)
        listed = ": " + ", ".join(failed) if failed else ""
        idle = len(every) - count
        uninformative = f" ({idle} uninformative bound{'s' if idle != 1 else ''} not counted)" if idle else ""
        items.append(
            f"{len(failed)} of {count} forecasts of {spec.name} have a PIT outside (0.05, 0.95){listed}{uninformative}."
        )
        items.append("Time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()) + ".")
        render(out, *items)
    return EXIT_BAD_FIT if failed else EXIT_OK


def _compare(args: argparse.Namespace, out: Any) -> int:
    data = load(args)
    check_output_folder(args.out, "--out")
    with _status_line(enabled=not args.json) as status:
        result = compare(
            args.models or None, data=data, draws=args.draws, tune=args.tune, seed=args.seed, status=status
        )
        if status is not None:
            status("Writing the comparison")
        paths = write_comparison(result, args.out, study=data.study)
    if args.json:
        print_json(result.as_dict() | {"files": [str(p) for p in paths]}, "compare")
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
        loo_out = sum(c.verdict == "miss" for c in m.loo)
        loo_counted = sum(not c.uninformative for c in m.loo)
        forecast_out = sum(c.verdict == "miss" for f in m.forecasts for c in f.checks)
        forecast_counted = sum(not c.uninformative for f in m.forecasts for c in f.checks)
        forecasts = f"{forecast_out} of {forecast_counted}" if m.forecasts else "-"
        rows.append(
            [
                m.name,
                count_text(m.median),
                _range(*m.intervals[0.5]),
                _range(*m.intervals[0.9]),
                _range(*m.intervals[0.95]),
                "ok" if m.passed else "FAIL",
                f"{m.lpd.sum():.1f}",
                f"{loo_out} of {loo_counted}",
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
            f"Stacked ({', '.join(s.models)}, scored on the same {s.scored} {s.scored_on}): median "
            f"{count_text(s.total_median)}, 90% {_range(*s.total_interval)}. elpd LOO against the best, ± its standard "
            f"error: {se}."
        )
        if s.too_uncertain:
            items.append(
                "Warning: the weights are too uncertain to lean on: "
                + "; ".join(s.uncertain_reasons)
                + ". Read the stacked total as one more model, not as the answer."
            )
    others = [m.name for m in result.models if m.name not in result.stacked_family]
    if others:
        items.append(f"Not stacked: {', '.join(others)}, scored on other observations (their elpd is not comparable).")
    items.extend(["", result.sentence(), "", "Wrote " + ", ".join(str(p) for p in paths) + "."])
    render(out, *items)
    return EXIT_OK


def refit_mark(check: Any) -> str:
    """What a check's row says of its refit: nothing when it passed its gates, else that it failed and how.

    Examples
    --------
    >>> from dnamodel.checks.predictive import Check
    >>> refit_mark(Check("a", 1.0, 1.0, 0.5, 1.5, 0.5, refit_rhat=1.03, refit_ess=180.0, refit_passed=False))
    'refit failed its gates (R-hat 1.030, ESS 180): do not rely on it'
    >>> refit_mark(Check("a", 1.0, 1.0, 0.5, 1.5, 0.5, refit_rhat=1.002, refit_ess=900.0, refit_passed=True))
    ''
    """
    if getattr(check, "refit_passed", None) is not False:
        return ""
    return f"refit failed its gates (R-hat {check.refit_rhat:.3f}, ESS {check.refit_ess:.0f}): do not rely on it"


MADE_BY_NOTE = (
    "by: IS, the fit's draws reweighted by Pareto-smoothed importance sampling (k̂ at most the limit, "
    "ESS ≥ 400); refit, sampled again (k̂ above the limit, or too few effective draws)."
)
"""What the "by" column of the held-out and forecast tables says."""


def made_by(check: Any) -> str:
    """How a held-out or forecast check's posterior was made: reweighted draws and their k̂, or a refit.

    Examples
    --------
    >>> from dnamodel.checks.predictive import Check
    >>> made_by(Check("a", 1.0, 1.0, 0.5, 1.5, 0.5, refit_method="importance", pareto_k=0.214))
    'IS k̂ 0.21'
    >>> made_by(Check("a", 1.0, 1.0, 0.5, 1.5, 0.5, refit_method="refit", pareto_k=0.93, importance_ess=800.0))
    'refit (k̂ 0.93)'
    >>> made_by(Check("a", 1.0, 1.0, 0.5, 1.5, 0.5, refit_method="refit", pareto_k=-0.2, importance_ess=164.0))
    'refit (k̂ <0, ESS 164)'
    >>> made_by(Check("a", 1.0, 1.0, 0.5, 1.5, 0.5, refit_method="refit"))
    'refit'
    """
    method, k = getattr(check, "refit_method", None), getattr(check, "pareto_k", None)
    if method is None:
        return ""
    shown = "" if k is None else ("<0" if k < 0 else f"{k:.2f}")
    if method == "importance":
        return f"IS k̂ {shown}" if shown else "IS"
    ess = getattr(check, "importance_ess", None)
    if shown and ess is not None and ess < MIN_ESS:  # k̂ may be small and the weights still too few
        shown += f", ESS {ess:.0f}"
    return f"refit (k̂ {shown})" if shown else "refit"


def _forecast_table(forecast: Any) -> Table:
    """One forecast check: what a refit on the past predicted for what came later."""
    return Table(
        f"Forecast from the data published by {forecast.data_to} ({len(forecast.used)} observations)",
        ["predicted", "observed>", "forecast>", "90%>", "PIT>", "total then>", "by", ""],
        [
            [
                c.observation + _bound_mark(c),
                value_text(c.observed),
                value_text(c.median),
                f"{value_text(c.low)} to {value_text(c.high)}",
                f"{c.pit:.2f}",
                count_text(c.total_median or 0),
                made_by(c),
                "; ".join(m for m in (_verdict_text(c), refit_mark(c)) if m),
            ]
            for c in forecast.checks
        ],
    )
