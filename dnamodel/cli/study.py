"""The commands of the data and the case study: ``replicate``, ``audit``, ``data check``."""

from __future__ import annotations

import argparse
from fractions import Fraction
from typing import Any

from dnamodel.casestudy.audit import Audit, audit
from dnamodel.casestudy.replicate import CONVENTION, Replication, replicate
from dnamodel.casestudy.tibet2022 import REPORT, report_absent, report_gap, skipped
from dnamodel.cli.common import (
    load,
    print_json,
    provenance_line,
)
from dnamodel.data import Dataset
from dnamodel.data.printed import format_count, format_exact, reading
from dnamodel.data.study import STUDY_FILE
from dnamodel.errors import DataError, Problem, UsageError
from dnamodel.outputs.tables import Block, Table, render
from dnamodel.spec.base import find_model


def _case_study(args: argparse.Namespace, out: Any) -> Dataset | None:
    """The data, unless they hold none of the report's figures: then ``None``, having said so in one line.

    Data with some of the report's figures but not all are the case study's with rows missing, and
    the replication fails on them naming the first missing id (exit 2).
    """
    data = load(args)
    gap = report_gap(data)
    if gap is None or not report_absent(data):
        return data
    if args.json:
        print_json({"skipped": skipped(gap)}, args.command)
    else:
        render(out, skipped(gap))
    return None


def _replicate(args: argparse.Namespace, out: Any) -> None:
    data = _case_study(args, out)
    if data is None:
        return
    result = replicate(data=data)
    if args.json:
        print_json(result.to_dict(), "replicate")
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
        provenance_line(result.provenance),
    ]


def _audit(args: argparse.Namespace, out: Any) -> None:
    data = _case_study(args, out)
    if data is None:
        return
    result = audit(data=data)
    if args.json:
        print_json(result.to_dict(), "audit")
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
    render(out, _conventions_line(result), provenance_line(result.provenance))


def _conventions_line(result: Audit) -> str:
    rules = result.conventions()
    only_truncated, only_rounded = rules.get("truncated", []), rules.get("rounded", [])
    return (
        f"Rounding: of the inexact figures that agree, {len(only_truncated)} follow only by truncation and "
        f"{len(only_rounded)} only by rounding ({', '.join(i.split(':', 1)[1] for i in only_rounded) or 'none'}); "
        "the report truncates as a rule."
    )


def _check(args: argparse.Namespace, out: Any) -> None:
    data = load(args)
    _check_models(data)
    region = data.areas[data.region]
    study = data.study
    study_figures = [f.label for f in study.figures]
    columns = data.numeric_columns()
    readings = _readings(data)
    models = study.models
    summary = {
        "location": data.location,
        "data_version": data.version,
        "region": data.region,
        "units": len(data.units),
        "groups": len(data.groups),
        "region_population": region.population,
        "observations": len(data.observations),
        "report_figures": len(data.report_figures),
        "study": study.title(),
        "comparisons": study_figures,
        "columns": columns,
        "models": {
            "default": models.default,
            "compare": list(models.compare),
            "forecast_compare": models.forecast_compare,
        },
        "readings": readings,
        "case_study": report_gap(data) is None,
    }
    if args.json:
        print_json({"valid": True, **summary}, "data-check")
        return
    kinds: dict[str, int] = {}
    for obs in data.observations.values():
        kinds[obs.kind] = kinds.get(obs.kind, 0) + 1
    figures = f"; {summary['report_figures']} figures of the report's own" if data.report_figures else ""
    compared = ", ".join(study_figures) or "none"
    named = [
        f"{key} {value}"
        for key, value in (("default", models.default), ("forecast_compare", models.forecast_compare))
        if value
    ]
    named += [f"compare {', '.join(models.compare)}"] if models.compare else []
    lines: list[Table | str] = [
        f"{'The bundled data' if data.location == 'bundled' else f'The data in {data.location}'} are valid "
        f"({data.version}): {study.title()}.",
        f"{summary['units']} units in {summary['groups']} {study.groups_word} of {_named(region.name, data.region)}, "
        f"{format_count(region.population)} residents; {summary['observations']} observations{figures}.",
        f"Covariates (numeric columns of units.csv other than population): "
        f"{', '.join(c for c in columns if c != 'population') or 'none'}. Compared with: {compared}.",
        "Models the data name ([models]): "
        + ("; ".join(named) if named else "none; a command then needs a spec named")
        + ".",
        "",
        Table("Observations by kind", ["Kind", "Rows>"], [[k, str(n)] for k, n in sorted(kinds.items())]),
    ]
    if args.verbose:
        lines.append(
            Table(
                f"How each printed figure is read (a dated spec's observation may set its own width of nearly; "
                f"the study's is {study.readings.nearly:g})",
                ["id", "printed", "read as"],
                [[r["id"], r["printed"], r["reading"]] for r in readings],
            )
        )
    else:
        lines.append(f"{len(readings)} printed figures: --verbose shows how each is read.")
    render(out, *lines)


def _readings(data: Dataset) -> list[dict[str, Any]]:
    """How each row's printed figure is read (:func:`dnamodel.data.printed.reading`), in the data's words."""
    found = []
    for oid, obs in data.observations.items():
        if obs.printed is None:
            continue
        read = reading(obs.printed, data.study.readings.nearly)
        text = read.text
        if obs.kind == "samples_reported" and read.meaning != "lower":
            text = "a lower bound, whatever its words: a count over a period the source does not state"
        found.append(
            {
                "id": oid,
                "printed": obs.printed.text,
                "qualifier": obs.printed.qualifier,
                "meaning": "lower" if obs.kind == "samples_reported" else read.meaning,
                "low": None if read.low is None else float(read.low),
                "high": None if read.high is None else float(read.high),
                "reading": text,
            }
        )
    return found


def _check_models(data: Dataset) -> None:
    """Every model the study names (``[models]``) is a shipped model or a spec file: one error naming each key."""
    models = data.study.models
    named = [("default", models.default), ("forecast_compare", models.forecast_compare)]
    named += [(f"compare[{i}]", reference) for i, reference in enumerate(models.compare)]
    problems = []
    for key, reference in named:
        if reference is None:
            continue
        try:
            find_model(data.model(reference))
        except UsageError as error:
            problems.append(Problem(data.path(STUDY_FILE), None, f"models.{key}", str(error)))
    if problems:
        raise DataError(problems)


def _percent(value: Fraction) -> str:
    return f"{float(value) * 100:.2f}%"


def _named(name: str, key: str) -> str:
    """A region's name with its id, in one bracket: "Maravel (an invented republic; id maravel)"."""
    if name.endswith(")") and "(" in name:
        return f"{name[:-1]}; id {key})"
    return f"{name} (id {key})"
