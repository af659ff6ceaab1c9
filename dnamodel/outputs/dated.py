"""The dated model's outputs (``docs/model.md``, section 5): its figures and its part of the HTML report.

:func:`campaign_plot` (the total counted by each date, and each database's stock) and
:func:`covariate_plot` (each unit's fraction at saturation against its covariate) are drawn in the
style of :mod:`dnamodel.outputs.plots`; :func:`database_stocks` are what its prior predictive plot
marks. :func:`report_model` is what :mod:`dnamodel.outputs.html` asks the dated family for: the data
and model sections (every figure at its own date, the databases, the campaigns by group), the words
the other sections use where the model differs from the hierarchical one (the estimand date, each
left-out observation's log predictive density, the forecasts), and those two figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel.checks import dated as dated_checks
from dnamodel.checks.summary import month_year
from dnamodel.inference.dated import DATABASE_KIND, collected, constrain, database_stock
from dnamodel.outputs import plots
from dnamodel.outputs.html import ReportModel
from dnamodel.outputs.markup import (
    BOUND_SIGN,
    Html,
    count_text,
    escape,
    model_card_link,
    place_names,
    posterior_text,
    range_text,
    referenced,
    source_lines,
    table,
    year_month,
)
from dnamodel.outputs.plots import HIGH_COLOUR, LOW_COLOUR
from dnamodel.outputs.tables import value_text
from dnamodel.spec import parameters
from dnamodel.spec.dated import DatedInputs, DatedSpec

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.checks.predictive import PriorCheck
    from dnamodel.data import Dataset


def report_model(
    spec: DatedSpec, inputs: DatedInputs, idata: az.InferenceData, data: Dataset, prior: PriorCheck, target: Path
) -> ReportModel:
    """What the report of a dated fit says of its model, and the figures it adds.

    Examples
    --------
    >>> report_model(spec, inputs, idata, data, prior, Path("report.html")).loo_lpd  # doctest: +SKIP
    True
    """
    study = data.study
    words = study.words
    group, groups = words.group, study.groups_word
    note = words.counting_note
    # what the model has decides what the report says: no covariate, database or uplift, no words of them
    covariate = inputs.covariate_label or inputs.covariate_name
    base = "its units' " + covariate + ", " if inputs.covariate_effect else ""
    within = "the total the database figures allow" if inputs.database else "what the other figures allow"
    uplift = " and the uplift of the areas whose collection counts more residents" if inputs.uplift_name else ""
    figures: list[tuple[str, Any]] = [("campaign", lambda path: campaign_plot(idata, inputs, path, study=study))]
    group_figures: list[str | Html] = [Html("<h3>The campaign over time</h3>"), "campaign"]
    if inputs.covariate_effect:
        figures.insert(0, ("covariate", lambda path: covariate_plot(idata, inputs, path)))
        group_figures.insert(0, "covariate")
    return ReportModel(
        data_section=data_section(spec, inputs, data),
        model_section=model_section(spec, inputs, idata, data, target),
        estimand_date=inputs.estimand_label,
        denominator=(
            f"Shares divide by the population the model infers: the census total, {count_text(inputs.census_total)}, "
            f"with its error{uplift}." + (f" {escape(note[:1].upper() + note[1:])}." if note else "")
        ),
        predicted="observation",
        loo_how="left out of the likelihood",
        loo_lpd=True,
        forecasts=True,
        prior_range=f"{range_text(prior.forward[0], prior.forward[-1])}. ",
        group_intro=(
            f"<p>Each {escape(group)}'s {escape(words.unit)} counted by {escape(month_year(inputs.estimand_label))} "
            "(posterior median and 90% equal-tailed interval) and its median share of the census population. A "
            f"{escape(group)} no figure counts is estimated from {escape(base)}the spread between {escape(groups)} "
            f"and units, and its campaign's start prior alone, within {within}; its interval is wide.</p>"
        ),
        group_count=f"{words.unit} counted, median",
        group_figures=tuple(group_figures),
        prior_terms="each on its parameter's own scale; the standard-normal group, unit and census effects are the "
        "model's structure and are not scaled",
        likelihood_terms="every observation" + (", the database figures among them" if inputs.database else ""),
        no_densities="the fit was saved without the log-prior and log-likelihood groups every dated fit has",
        no_densities_short="the fit was saved without its log densities",
        figures=tuple(figures),
        parameter_axes=plots.dated_parameter_axes(study, inputs.covariate_name, covariate_term=inputs.covariate_effect),
        stocks=tuple(database_stocks(inputs)),
    )


KIND_TEXT = {
    "count": "count",
    "database": "database stock",
    "database_share": "share of a database",
    "coverage": "coverage",
}


def data_section(spec: DatedSpec, inputs: DatedInputs, data: Dataset) -> str:
    """Section 2 of a dated fit's report: every figure at its date, the databases, the population, the forecasts."""
    rows = []
    for k, name in enumerate(inputs.observation):
        o = spec.observations[name]
        bound = dated_checks.BOUND_NAMES[int(inputs.censor[k])]
        if o.kind == "database" and spec.databases is not None and o.database is not None:
            over = f"database {o.database}: " + place_names(spec.databases.areas[o.database], data)
        else:
            over = place_names(o.units, data) + (f" except {place_names(o.exclude, data)}" if o.exclude else "")
        if inputs.base[k] > 0:
            base = f"population {count_text(inputs.base[k])} (<code>{escape(o.base)}</code>)"
        elif o.kind in ("count", "coverage"):
            base = "its units' census population"
        else:
            base = f"database <code>{escape(o.database)}</code>"
        scale = "logit" if o.kind == "coverage" else "log"
        date = inputs.date_label[k] if inputs.date_label else ""
        since = inputs.since_label[k] if inputs.since_label else ""
        bound_text = {"none": "", "lower": ", lower bound", "upper": ", upper bound"}[bound]
        read = inputs.reading[k] if inputs.reading else ""
        bound_text += {"under": ", a value a little under the figure printed", "range": ", a range"}.get(read, "")
        rows.append(
            [
                Html(f"<code>{escape(name)}</code><br>{escape(KIND_TEXT[o.kind])}{escape(bound_text)}"),
                BOUND_SIGN[bound] + value_text(inputs.value[k]),
                Html(f"{escape(since)} to<br>{escape(date)}" if since else escape(date)),
                Html(f"{escape(over)}<br>{base}"),
                f"{inputs.error[k]:.3g} ({scale})",
                Html(f"{source_lines(referenced([o.value], data), data)}<br><i>{escape(o.note)}</i>"),
            ]
        )
    parts = [
        "<p>Every figure the model is fitted to, each at its own date, with its source as the data give it "
        "(ids are rows of <code>observations.csv</code>). A figure with two dates is an increment: "
        "what was collected between them."
        + (" A bound (≥, ≤) says only on which side of it the true figure lies." if inputs.censor.any() else "")
        + (
            " A figure printed \u201cnearly X\u201d is fitted as a value a little under X, the midpoint of the range "
            "the study's or the spec's width gives, with that range's half-width added to its error."
            if "under" in inputs.reading
            else ""
        )
        + " The error is the sd of the figure's reporting error, on the log scale (logit for a coverage).</p>",
        "<h3>Observations</h3>",
        table(
            ["observation, kind, bound", "value", "date (since)", "over; base or database", "error (sd)", "sources"],
            rows,
            numeric=(1, 4),
        ),
    ]
    if spec.databases is not None:
        parts += [
            "<h3>Databases</h3>",
            "<p>A database's stock D(t) is the profiles it held before the campaign (b per resident) plus the "
            "typed share κ of everyone collected in its places by t. A database's stock, or the profiles added to "
            "it over a period, enters as an observation of this kind.</p>",
            table(
                ["database", "places", "population (2020)"],
                [
                    [
                        name,
                        place_names(members, data),
                        count_text(inputs.population[list(inputs.database_members[d])].sum()),
                    ]
                    for d, (name, members) in enumerate(spec.databases.areas.items())
                ],
                numeric=(2,),
            ),
        ]
    uplift = spec.population.uplift
    parts += [
        "<h3>Population</h3>",
        f"<p>The census population of all {len(inputs.unit)} units ({count_text(inputs.census_total)} people), "
        "each with "
        f"a log-normal census error of sd {spec.population.census_error:g}; "
        + (
            "; ".join(
                f"{escape(place_names(u.areas, data))}'s collection also counts residents the census omits (the "
                f"uplift <code>{escape(name)}</code>)"
                for name, u in uplift.items()
            )
            + ".</p>"
            if uplift
            else "no uplift for residents the census omits.</p>"
        ),
    ]
    if inputs.forecasts:
        parts += [
            "<h3>Forecast checks the spec names</h3>",
            table(
                ["fitted to the data published by", "predicts"],
                [[label, ", ".join(inputs.observation[k] for k in targets)] for label, _, targets in inputs.forecasts],
            ),
        ]
    return "".join(parts)


def _start_text(prior: Any) -> str:
    if prior.kind == "around":
        return f"around {prior.around}, normal sd {prior.sd_years:g} years"
    return f"{prior.kind} {getattr(prior, prior.kind)}, by a half-normal lead of scale {prior.scale_years:g} years"


def meaning(name: str, data: Dataset, inputs: DatedInputs) -> str:
    """What a parameter of the dated model is, in one line in the study's words: its registry entry's meaning."""
    entry = parameters.find(name, parameters.DATED)
    if entry is None:
        return ""
    if isinstance(entry, parameters.Parameter):  # without a covariate, no covariate's group to be outside of
        return entry.meaning_in(data.study, inputs.covariate_name, covariate_term=inputs.covariate_effect)
    return entry.meaning_in(data.study, inputs.covariate_name)


def model_section(spec: DatedSpec, inputs: DatedInputs, idata: az.InferenceData, data: Dataset, target: Path) -> str:
    """Section 3 of a dated fit's report: the model card in short, the priors beside their posteriors, the campaigns."""
    post = idata.posterior
    study = data.study
    group, unit = study.words.group, study.words.unit
    composition = inputs.form == "composition"
    if not inputs.covariate_effect:
        fraction = "π<sub>u</sub> = σ(η<sub>u</sub>), with no covariate term"
    elif composition:
        fraction = (
            "π<sub>u</sub> = (1 − h<sub>u</sub>)·σ(η<sub>u</sub>) + h<sub>u</sub>·σ(η<sub>u</sub> + θ), h<sub>u</sub> "
            f"the unit's <code>{escape(inputs.covariate_name)}</code>: the covariate's group is collected at odds "
            "e<sup>θ</sup> times the others'"
        )
    else:
        fraction = (
            f"π<sub>u</sub> = σ(η<sub>u</sub> + θ·x<sub>u</sub>), x<sub>u</sub> the unit's standardised "
            f"<code>{escape(inputs.covariate_name)}</code>"
        )
    # η as the model has it: the group level, the reported units' offset δ, the others' fixed offset
    terms, defined = ["α"], []
    if inputs.group_effects:
        terms.append("g<sub>j(u)</sub>")
        defined.append(f"g<sub>j</sub> = σ<sub>g</sub>·w<sub>j</sub> for its {escape(group)} j, w standard normal")
    if inputs.reported_effect:
        terms.append("δ·r<sub>u</sub>")
        defined.append("r<sub>u</sub> = 1 for a unit a local report counts alone")
    if spec.fraction.unreported_offset:
        terms.append("o<sub>u</sub>")
        defined.append(f"o<sub>u</sub> = {spec.fraction.unreported_offset:g} for the units no report counts alone")
    terms.append("σ<sub>u</sub>·z<sub>u</sub>")
    defined.append("z standard normal")
    uplift = " (times the uplift λ where the spec gives one)" if inputs.uplift_name else ""
    card = (
        "<p>The full model card, with every prior's reason and every observation's source, is "
        f"{model_card_link(target)} "
        "(section 5). In short:</p><ul class=maths>"
        f"<li>Each of the {len(inputs.unit)} units u has a fraction of its residents counted once its campaign "
        f"saturates: {fraction}; η<sub>u</sub> = {' + '.join(terms)}, {', '.join(defined)}.</li>"
        f"<li>Each {escape(group)}'s campaign starts at t0<sub>j</sub> and approaches saturation at pace "
        "r<sub>j</sub>: "
        "F<sub>j</sub>(t) = 1 − exp(−r<sub>j</sub>·ε·softplus((t − t0<sub>j</sub>)/ε)), "
        f"ε = {inputs.ramp_years:g} years.</li>"
        f"<li>What is counted by t ({escape(unit)}): C<sub>u</sub>(t) = π<sub>u</sub>·F<sub>j(u)</sub>(t)·"
        f"N<sub>u</sub>, with N<sub>u</sub> = P<sub>u</sub>·exp({spec.population.census_error:g}·e<sub>u</sub>) the "
        f"census count with error{uplift}. The estimand is C(T) = Σ<sub>u</sub> C<sub>u</sub>(T) "
        f"at T = {escape(month_year(inputs.estimand_label))}; the share divides it by Σ<sub>u</sub> N<sub>u</sub>.</li>"
        + (
            "<li>A database's stock: D<sub>d</sub>(t) = b·N<sub>d</sub> + κ·Σ<sub>u in d</sub> C<sub>u</sub>(t).</li>"
            if inputs.database
            else ""
        )
        + "<li>Each observation is log-normal (logit-normal for a coverage) about what the model predicts for it "
        "at its date (an increment: between its two dates), with its reporting error"
        + ("; a bound contributes the probability of its side" if inputs.censor.any() else "")
        + ".</li></ul>"
    )
    rows = []
    for name, prior in spec.priors.items():
        if name == "pace":
            posterior = f"by {group}, below"
        elif name in post and post[name].ndim == 2:
            posterior = posterior_text(post[name].values)
        else:
            posterior = "not in the fit"
        rows.append(
            [
                Html(f"<code>{escape(name)}</code>"),
                str(prior),  # a fixed value's text too
                meaning(name, data, inputs),
                posterior,
            ]
        )
    for ell, (name, group_uplift) in enumerate(spec.population.uplift.items()):
        log_uplift = group_uplift.log_uplift
        rows.append(
            [
                Html(f"<code>log_uplift[{escape(name)}]</code>"),
                f"Normal({log_uplift.get('mu', 0.0):g}, {log_uplift.get('sigma', 1.0):g})",
                meaning("uplift", data, inputs) + f" ({place_names(group_uplift.areas, data)})",
                posterior_text(np.log(post["uplift"].values[..., ell])),
            ]
        )
    campaign = []
    for j, group_id in enumerate(inputs.group):  # not `group`: the study's word for a group is used below
        start = spec.campaign.start.get(group_id, spec.campaign.start["default"])
        campaign.append(
            [
                data.place_name(group_id),
                _start_text(start),
                posterior_text(post["start"].values[..., j], year_month),
                posterior_text(post["pace"].values[..., j], lambda v: f"{v:.2f}"),
                posterior_text(post["progress"].values[..., j], lambda v: f"{v:.0%}"),
            ]
        )
    settings = [
        ["estimand date", spec.estimand.date],
        [
            "covariate, form",
            f"{inputs.covariate_name}, {inputs.form}" if inputs.covariate_effect else "none (no covariate term)",
        ],
        ["fixed logit offset of the units no report counts alone", f"{spec.fraction.unreported_offset:g}"],
        ["campaign ramp ε (years)", f"{inputs.ramp_years:g}"],
        ["census error (log sd)", f"{spec.population.census_error:g}"],
    ]
    return "".join(
        (
            f"<p><b>{escape(spec.name)}</b>: {escape(spec.header.description)}.</p>",
            card,
            "<h3>Priors</h3>",
            "<p>Each prior as the spec states it, beside its posterior median and 90% equal-tailed interval.</p>",
            table(["parameter", "prior", "what it is", "posterior median (90%)"], rows),
            f"<h3>The campaign, by {escape(group)}</h3>",
            f"<p>Each {escape(group)}'s start prior, and the posterior of its start, its pace "
            f"(prior {escape(str(spec.priors['pace']))} per year) and how far its campaign had come by "
            f"{escape(month_year(inputs.estimand_label))} (F<sub>j</sub>(T), 100% at saturation).</p>",
            table([group, "start prior", "start", "pace (per year)", "progress by the estimand date"], campaign),
            "<h3>Fixed by the spec</h3>",
            table(["setting", "value"], settings, numeric=(1,)),
        )
    )


# --- its figures ---------------------------------------------------------------------------------------


def database_stocks(inputs: Any) -> list[tuple[float, str]]:
    """A dated model's database stocks ``(value, label)`` (its database observations that are not increments).

    The prior predictive plot marks them.
    """
    return [
        (float(inputs.value[k]), f"{inputs.observation[k]}: database")
        for k in np.flatnonzero(inputs.kind == DATABASE_KIND)
        if np.isnan(inputs.since[k])
    ]


CURVE_DRAWS = 1000
"""Posterior draws the time curves are computed from (thinned evenly from the fit's)."""


def _dated_draws(idata: Any, inputs: Any) -> dict[str, np.ndarray]:
    """Constrained quantities of an even thinning of the posterior's unconstrained draws."""
    x = idata.posterior["unconstrained"].values
    flat = x.reshape(-1, x.shape[-1])
    step = max(1, flat.shape[0] // CURVE_DRAWS)
    return constrain(flat[::step], inputs)


def campaign_plot(idata: Any, inputs: Any, path: str | Path, *, study: Any = None) -> Path:
    """Cumulative collection over time: the total and each database's stock, with the dated figures.

    ``study`` (``Dataset.study``) gives the unit of the count on the axis; by default neutral words.
    """
    unit = (study or plots.NEUTRAL).words.unit
    q = _dated_draws(idata, inputs)
    first = min(float(inputs.start_anchor.min()) - 1.0, float(np.nanmin(inputs.date)) - 0.5)
    grid = np.linspace(first, inputs.estimand_date + 0.25, 120)
    total = np.stack([collected(q, inputs, t).sum(axis=1) for t in grid], axis=1)
    figure = plots._figure(9.0, 5.4)
    axes = figure.add_subplot()
    for band, alpha in ((0.9, 0.18), (0.5, 0.3)):
        lo, hi = np.quantile(total, [(1 - band) / 2, (1 + band) / 2], axis=0)
        axes.fill_between(grid, lo, hi, color=LOW_COLOUR, alpha=alpha, linewidth=0, label=f"{band:.0%} interval")
    axes.plot(grid, np.median(total, axis=0), color=LOW_COLOUR, linewidth=1.6, label=f"{unit} counted, C(t), median")
    for d, name in enumerate(inputs.database):
        stock = np.stack([database_stock(q, inputs, d, t) for t in grid], axis=1)
        axes.plot(grid, np.median(stock, axis=0), linestyle="--", linewidth=1.1, label=f"database {name}, D(t), median")
        for k in np.flatnonzero((inputs.kind == DATABASE_KIND) & (inputs.database_index == d)):
            if np.isnan(inputs.since[k]):
                axes.scatter(
                    [inputs.date[k]], [inputs.value[k]], marker="D", color=HIGH_COLOUR, edgecolor="black", zorder=5
                )
                axes.annotate(
                    inputs.observation[k],
                    (inputs.date[k], inputs.value[k]),
                    xytext=(5, -10),
                    textcoords="offset points",
                    fontsize=7,
                )
    axes.axvline(inputs.estimand_date, color="black", linestyle=":", linewidth=1)
    axes.text(inputs.estimand_date, 0.98, " estimand date", transform=axes.get_xaxis_transform(), fontsize=7, va="top")
    shade_after_last_regionwide(axes, inputs, grid[-1])
    axes.set_xlabel("year")
    axes.set_ylabel(f"cumulative count ({unit})")
    plots._count_axis(axes.yaxis)
    axes.legend(fontsize=7, loc="upper left")
    title = f"Collection over time under {idata.attrs.get('model', 'the model')}"
    axes.set_title(title)
    caption = (
        f"Solid line and bands: the posterior median and 50%/90% intervals of the {unit} counted by each date, the "
        "sum over units of fraction × campaign progress × population."
    )
    if inputs.database:  # the databases' curves and printed stocks are drawn only when the model has them
        caption += (
            " Dashed: each database's stock, profiles held before the campaign plus the typed share of what was "
            "collected."
        )
        if any(np.isnan(inputs.since[k]) for k in np.flatnonzero(inputs.kind == DATABASE_KIND)):
            caption += " Diamonds: the database stocks the sources print."
    if np.isfinite(getattr(inputs, "last_regionwide_date", float("nan"))):
        caption += (
            f" Shaded: after {inputs.last_regionwide_label}, the date of the last figure covering the whole region; "
            "there the curve is the model's assumption, not the data's."
        )
    return plots._save(figure, path, title, caption)


def shade_after_last_regionwide(axes: Any, inputs: Any, end: float) -> bool:
    """Shade the campaign figure after the last figure covering the whole region; whether there was one.

    After that date no datum speaks of the region as a whole: the curve there is the model's assumption.
    """
    when = getattr(inputs, "last_regionwide_date", float("nan"))
    if not np.isfinite(when) or when >= end:
        return False
    axes.axvspan(when, end, color="#999999", alpha=0.15, linewidth=0, label="after the last region-wide figure")
    axes.text(
        when,
        0.90,
        f" after {inputs.last_regionwide_label}: no region-wide figure",
        transform=axes.get_xaxis_transform(),
        fontsize=7,
        va="top",
    )
    return True


def covariate_plot(idata: Any, inputs: Any, path: str | Path) -> Path:
    """Each unit's fraction at saturation against its covariate, with the units a report counts marked."""
    fraction = idata.posterior["fraction"].values.reshape(-1, len(inputs.unit))
    lo, med, hi = np.quantile(fraction, [0.05, 0.5, 0.95], axis=0)
    x = inputs.covariate_raw * (100 if inputs.form == "composition" else 1)
    figure = plots._figure(8.5, 5.2)
    axes = figure.add_subplot()
    axes.errorbar(
        x,
        med * 100,
        yerr=[(med - lo) * 100, (hi - med) * 100],
        fmt="o",
        markersize=3,
        color=LOW_COLOUR,
        ecolor="#9db4d8",
        elinewidth=0.8,
        label="each unit: posterior median, 90% interval",
    )
    reported = inputs.reported > 0
    if reported.any():  # without the offset δ no unit is marked, and the legend names no marks
        axes.scatter(
            x[reported],
            med[reported] * 100,
            marker="D",
            s=45,
            color=HIGH_COLOUR,
            edgecolor="black",
            zorder=5,
            label="units a local report counts",
        )
    for i in np.flatnonzero(reported):
        axes.annotate(inputs.unit[i], (x[i], med[i] * 100), xytext=(5, 4), textcoords="offset points", fontsize=7)
    unit = " (%)" if inputs.form == "composition" else ""
    label = inputs.covariate_label or inputs.covariate_name
    axes.set_xlabel(f"{label}{unit}")
    axes.set_ylabel("share of residents counted once the campaign saturates (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=7, loc="upper right")
    title = f"Collection fraction at saturation against {label}, by unit"
    axes.set_title(plots.wrapped_title(title))
    caption = "Each unit's fraction π at saturation (posterior median and 90% interval) against its covariate."
    if inputs.form == "composition":
        caption += " The covariate is the share of residents collected at a different rate (odds ratio exp θ)."
    if reported.any():  # drawn only where the model has the offset δ (without it no unit is marked reported)
        caption += " Diamonds: the units a local report counts, which carry the reported-unit offset δ."
    return plots._save(figure, path, title, caption)
