"""The ``mc`` command: a Monte Carlo model's total and share with their Monte Carlo errors, Sobol indices, tornado."""

from __future__ import annotations

import argparse
from typing import Any, cast

from dnamodel.cli.common import (
    count_text,
    labelled,
    load,
    percent_text,
    print_json,
    provenance_line,
)
from dnamodel.errors import UsageError
from dnamodel.families import Capability, family_of, load_model
from dnamodel.montecarlo.sensitivity import (
    Tornado,
    check_sobol_size,
    sobol,
    sobol_to_dict,
    tornado,
)
from dnamodel.outputs.sweep_plots import tornado_plot
from dnamodel.outputs.tables import Table, render
from dnamodel.spec.montecarlo import ModelSpec
from dnamodel.workflows.fit import summarize


def _mc(args: argparse.Namespace, out: Any) -> None:
    data = load(args)
    loaded = load_model(args.model)
    family_of(loaded).require(Capability.DRAWS, args.model)
    spec = cast(ModelSpec, loaded)  # a family that draws: a Monte Carlo spec
    if args.sensitivity:
        try:
            check_sobol_size(spec, args.sensitivity_draws)
        except UsageError as error:
            raise UsageError(f"--sensitivity-draws {args.sensitivity_draws:,}: {error}") from None
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
        print_json(payload, "mc")
        return
    rows = [
        [
            "mean",
            count_text(total.mean.value),
            count_text(total.mean.mcse),
            percent_text(share.mean.value),
            percent_text(share.mean.mcse),
        ]
    ]
    for p in total.quantiles:
        label = "median" if p == 0.5 else f"{p:.0%} quantile"
        t, sh = total.quantiles[p], share.quantiles[p]
        rows.append([label, count_text(t.value), count_text(t.mcse), percent_text(sh.value), percent_text(sh.mcse)])
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
                        labelled(c["label"], c["note"]),
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
    render(out, f"Spec {spec.path} ({spec.hash}); " + provenance_line(summary.attrs))


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
            count_text(row.total_at_low),
            row.high_label or f"{row.high_value:,.4g}",
            count_text(row.total_at_high),
            count_text(row.swing),
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
        f"Baseline, every input at its median: {count_text(one_at_a_time.baseline)} {unit}.",
    ]


def _index(value: float) -> str:
    return f"{round(value, 3) + 0.0:.3f}"  # + 0.0 turns the -0.0 of a tiny negative estimate into 0.0


def _interval(low: float, high: float) -> str:
    return f"{_index(low)} to {_index(high)}"
