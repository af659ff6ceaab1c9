"""The hierarchical model's outputs (``docs/model.md``, section 4): its figure and its part of the HTML report.

:func:`fraction_plot` (each unit's collection fraction against its covariate, in the style of
:mod:`dnamodel.outputs.plots`) and :func:`thesis_stocks` (what its prior predictive plot marks).
:func:`report_model` is what :mod:`dnamodel.outputs.html` asks the hierarchical family for: the
data and model sections, the words the other sections use where the model differs from the dated
one (its thesis bound, its within-county rows, its leave-one-out by an uninformative error), and
that figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel.outputs import plots
from dnamodel.outputs.html import VARIANT_TEXT, ReportModel
from dnamodel.outputs.markup import (
    Html,
    count_text,
    escape,
    model_card_link,
    percent_text,
    range_text,
    referenced,
    source_lines,
    table,
)
from dnamodel.outputs.plots import HIGH_COLOUR, LOW_COLOUR
from dnamodel.spec import parameters
from dnamodel.spec.hierarchical import HierarchicalSpec, prior_text
from dnamodel.spec.resolve import ModelInputs

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.checks.predictive import PriorCheck
    from dnamodel.data import Dataset


def report_model(
    spec: HierarchicalSpec, inputs: ModelInputs, idata: az.InferenceData, data: Dataset, prior: PriorCheck, target: Path
) -> ReportModel:
    """What the report of a hierarchical fit says of its model, and the figure it adds.

    Examples
    --------
    A fit takes a compile; ``tests/test_report.py`` draws the hierarchical report:

    >>> report_model(spec, inputs, idata, data, prior, Path("report.html")).loo_lpd  # doctest: +SKIP
    False
    """
    words = data.study.words
    thesis = spec.thesis is not None and spec.thesis.use  # its words only where the model has the bound
    forward = range_text(prior.forward[0], prior.forward[-1])
    return ReportModel(
        data_section=data_section(spec, inputs, data),
        model_section=model_section(spec, inputs, idata, data, target),
        estimand_date=words.end,
        denominator=f"Shares divide by the census total, {count_text(inputs.census_total)}.",
        predicted="observation and within-county row",
        loo_how="its reporting error made uninformative",
        loo_lpd=False,
        forecasts=False,
        prior_range=(
            f"{forward} without the thesis bound, {range_text(prior.constrained[0], prior.constrained[-1])} with it. "
            if thesis
            else f"{forward}. "
        ),
        group_intro=(
            f"<p>Each {escape(words.group)}'s collected total (posterior median and 90% equal-tailed interval) and its "
            f"median share of the census population. A {escape(words.group)} without an observation is estimated from "
            "the covariate's relation and the spread between units alone, so its interval is wide.</p>"
        ),
        group_count=f"{words.unit}, median",
        group_figures=("fraction",),
        prior_terms="the top-level priors",
        likelihood_terms="the thesis bound too" if thesis else "every count",
        no_densities="the fit was made without <code>--sensitivity</code>, so it has no log-prior and log-likelihood "
        "groups",
        no_densities_short="fit made without --sensitivity",
        figures=(("fraction", lambda path: fraction_plot(idata, inputs, path)),),
        parameter_axes=plots.hierarchical_parameter_axes(idata, data.study, inputs.covariate_column),
        stocks=tuple(thesis_stocks(inputs)),
        prior_note=" (without the thesis bound)" if thesis else "",
    )


def data_section(spec: HierarchicalSpec, inputs: ModelInputs, data: Dataset) -> str:
    """Section 2 of a hierarchical fit's report: its counts, within-county rows, thesis bound and population."""
    rows = []
    for k, name in enumerate(inputs.observation):
        o = spec.observations[name]
        places = ", ".join(data.place_name(u) for u in o.units)
        if o.exclude:
            places += " except " + ", ".join(data.place_name(u) for u in o.exclude)
        base = (
            "census population"
            if o.base == "census"
            else "uniform between "
            + " and ".join(
                f"{data.observations[b].value:,}" for b in (o.base if isinstance(o.base, list) else [o.base])
            )
        )
        use = f"log-normal reporting error, sd {o.error:g} on the log scale; base: {base}. {o.note}"
        rows.append(
            [
                name,
                count_text(inputs.observed[k]),
                Html(f"<code>{escape(o.samples)}</code>"),
                places,
                source_lines(referenced([o.samples, o.base], data), data),
                use,
            ]
        )
    parts = [
        "<p>Every count the model is fitted to, with its source as the data give it (ids are rows of "
        "<code>observations.csv</code>).</p>",
        "<h3>Observations</h3>",
        table(
            ["observation", "count", "as the spec derives it", "over", "sources", "how the model uses it"],
            rows,
            numeric=(1,),
        ),
    ]
    wc = spec.within_county
    if wc is not None:
        wrows = []
        for r, oid in enumerate(wc.rows):
            row = data.observations[oid]
            wrows.append(
                [
                    row.subarea or oid,
                    count_text(inputs.row_observed[r]),
                    count_text(inputs.row_population[r]),
                    percent_text(inputs.row_observed[r] / inputs.row_population[r]),
                    source_lines([oid], data),
                ]
            )
        parts += [
            f"<h3>Within-county rows ({escape(data.place_name(wc.unit))})</h3>",
            f"<p>They inform the within-county spread τ only (centre: {escape(wc.centre)}), with a log-normal error "
            "of sd "
            f"{wc.error:g}. Their samples make up {escape(data.place_name(wc.unit))}'s total above, so with a free "
            "centre "
            "they are not counted twice.</p>",
            table(["row", "samples", "population", "fraction", "source"], wrows, numeric=(1, 2, 3)),
        ]
    th = spec.thesis
    if th is not None:
        parts += [
            "<h3>The database bound (thesis)</h3>",
            f"<p>{'Used' if th.use else '<b>Not used</b> in this spec'}: the total is at least the database stock "
            f"plus {th.years:g} years of growth at a pace relative to its recorded increment "
            f"(soft edge {th.tolerance:.0%}).</p>",
            table(
                ["figure", "source"],
                [
                    [count_text(float(data.observations[i].value)), source_lines([i], data)]
                    for i in (th.stock, th.added)
                ],
                numeric=(0,),
            ),
        ]
    parts += [
        "<h3>Population</h3>",
        f"<p>The census population of all {len(inputs.unit)} units ({count_text(inputs.census_total)} people), each "
        "with a "
        f"log-normal census error of sd {spec.population.census_error:g}; "
        + (
            f"{escape(', '.join(data.place_name(a) for a in spec.population.uplift_areas))}'s base is scaled up for "
            "temporary residents (the uplift λ).</p>"
            if spec.population.uplift_areas
            else "no uplift for temporary residents.</p>"
        ),
    ]
    return "".join(parts)


def meaning(name: str, data: Dataset, inputs: ModelInputs) -> str:
    """What a top-level parameter of the hierarchical model is, in one line in the study's words (its registry's)."""
    entry = parameters.find(name, parameters.HIERARCHICAL)
    return entry.meaning_in(data.study, inputs.covariate_column) if entry is not None else ""


def model_section(
    spec: HierarchicalSpec, inputs: ModelInputs, idata: az.InferenceData, data: Dataset, target: Path
) -> str:
    """Section 3 of a hierarchical fit's report: the model card in short, each prior beside its posterior."""
    post = idata.posterior
    variant = spec.fraction.variant
    eta = "α" if variant == "pooled" else "α + β·x<sub>u</sub> + σ·z<sub>u</sub>"
    card = (
        "<p>The full model card, with every prior's reason and every observation's source, is "
        f"{model_card_link(target)} "
        "(section 4). In short:</p><ul class=maths>"
        f"<li>Each of the {len(inputs.unit)} units u has a collection fraction π<sub>u</sub>, "
        f"logit π<sub>u</sub> = {eta}, z<sub>u</sub> ~ N(0, 1); {VARIANT_TEXT[variant]}.</li>"
        "<li>Its resident base is N<sub>u</sub> λ<sub>u</sub>: the census count P<sub>u</sub> with error, "
        f"N<sub>u</sub> = P<sub>u</sub>·exp({spec.population.census_error:g}·e<sub>u</sub>), and λ<sub>u</sub> the "
        "uplift for temporary residents where the spec gives one.</li>"
        "<li>Collected: C<sub>u</sub> = π<sub>u</sub> N<sub>u</sub> λ<sub>u</sub>; the total T = Σ<sub>u</sub> "
        "C<sub>u</sub>; the share T / Σ<sub>u</sub> P<sub>u</sub>.</li>"
        "<li>Each observed count y<sub>k</sub> ~ LogNormal(log E<sub>k</sub>, s<sub>k</sub>), E<sub>k</sub> the "
        "collected count over its units (times its base ratio), s<sub>k</sub> its reporting error.</li>"
        + (
            "<li>The thesis: T ≥ stock + pace·growth, with the pace integrated out through its CDF.</li>"
            if spec.thesis is not None and spec.thesis.use
            else ""
        )
        + "</ul>"
    )
    rows = []
    for name, prior in spec.priors.items():
        if name in post and post[name].ndim == 2:
            values = post[name].values.ravel()
            lo, med, hi = np.quantile(values, [0.05, 0.5, 0.95])
            posterior = f"{med:.3g} ({lo:.3g} to {hi:.3g})"
        else:
            posterior = "integrated out" if name == "pace" else "not in the fit"
        rows.append([Html(f"<code>{escape(name)}</code>"), prior_text(prior), meaning(name, data, inputs), posterior])
    settings = [
        ["census error (log sd)", f"{spec.population.census_error:g}"],
        *[[f"reporting error of {n} (log sd)", f"{o.error:g}"] for n, o in spec.observations.items()],
    ]
    return "".join(
        (
            f"<p><b>{escape(spec.name)}</b>: {escape(spec.header.description)}.</p>",
            card,
            "<h3>Priors</h3>",
            table(["parameter", "prior", "what it is", "posterior median (90%)"], rows),
            "<h3>Fixed by the spec</h3>",
            table(["setting", "value"], settings, numeric=(1,)),
        )
    )


# --- its figure ----------------------------------------------------------------------------------------


def thesis_stocks(inputs: Any) -> list[tuple[float, str]]:
    """A hierarchical model's thesis stock ``(value, label)``, when it has the thesis bound."""
    return [(float(inputs.stock), "thesis: database")] if inputs.thesis else []


def fraction_plot(idata: Any, inputs: Any, path: str | Path) -> Path:
    """Each unit's collection fraction against its covariate, with observations and the fitted curve."""
    post = idata.posterior
    fraction = post["fraction"].values.reshape(-1, len(inputs.unit))
    lo, med, hi = np.quantile(fraction, [0.05, 0.5, 0.95], axis=0)
    han = inputs.han_share
    figure = plots._figure(8.5, 5.2)
    axes = figure.add_subplot()
    axes.errorbar(
        han * 100,
        med * 100,
        yerr=[(med - lo) * 100, (hi - med) * 100],
        fmt="o",
        markersize=3,
        color=LOW_COLOUR,
        ecolor="#9db4d8",
        elinewidth=0.8,
        label="each unit: posterior median, 90% interval",
    )
    grid = np.linspace(0, max(han.max() * 1.02, 0.01), 200)
    alpha = post["alpha"].values.reshape(-1, 1)
    eta = np.broadcast_to(alpha, (alpha.shape[0], grid.size))
    if "beta" in post:
        eta = alpha + post["beta"].values.reshape(-1, 1) * inputs.covariate(grid)[None, :]
    curve = 1 / (1 + np.exp(-eta))
    c_lo, c_med, c_hi = np.quantile(curve, [0.05, 0.5, 0.95], axis=0)
    if inputs.variant == "han_share":
        axes.plot(grid * 100, c_med * 100, color="black", linewidth=1.2, label="fitted centre, logistic(α + β·x)")
        axes.fill_between(grid * 100, c_lo * 100, c_hi * 100, color="grey", alpha=0.2, label="its 90% interval")
    # observed fractions: each observation's count over its units' census population (×uplift)
    for k, name in enumerate(inputs.observation):
        member = inputs.membership[k] > 0
        base = inputs.population[member].sum()
        share = (inputs.han_share * inputs.population)[member].sum() / inputs.population[member].sum()
        axes.scatter(
            [share * 100],
            [inputs.observed[k] / base * 100],
            marker="D",
            s=40,
            color=HIGH_COLOUR,
            edgecolor="black",
            zorder=5,
            label="observed count ÷ census population" if k == 0 else None,
        )
        axes.annotate(
            name, (share * 100, inputs.observed[k] / base * 100), xytext=(5, 4), textcoords="offset points", fontsize=7
        )
    axes.set_xlabel(f"{inputs.covariate_label} (%)")
    axes.set_ylabel("share of the population counted (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=7, loc="upper right")
    title = f"Collection fraction against {inputs.covariate_label}, by unit"
    axes.set_title(plots.wrapped_title(title))
    caption = (
        f"Dots: each of the {len(inputs.unit)} units' posterior median fraction with its 90% credible interval. "
        "Diamonds: each observation's count over its units' census population; an observation over several units "
        "sits at their population-weighted covariate. Line and band: the fitted centre of the fraction distribution, "
        "without the unit's own deviation. Where the spec uplifts a population for temporary residents, the count "
        "includes them, so its diamond exceeds the census-based fraction."
    )
    return plots._save(figure, path, title, caption)
