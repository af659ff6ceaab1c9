"""A fit → one self-contained HTML report to read, check and cite from.

:func:`render_report` draws every figure of a :class:`ReportView` (a fit with its summary, its
checks and its sweeps, as :mod:`dnamodel.workflows.report` reads them from a saved fit) and writes
a single HTML file with the figures embedded as ``data:`` URIs. The page loads nothing: its
Content-Security-Policy forbids every fetch but inline styles and ``data:`` images, and it has no
scripts. It is written atomically.

The page is the same for every model family; what differs by kind of model comes from the family
as a :class:`ReportModel` (the data and model sections, the words the other sections use, its own
figures: :mod:`dnamodel.outputs.dated`, :mod:`dnamodel.outputs.hierarchical`). An
application on top of the engine (the bundled case study) adds its parts to a section and its marks
to the forest plot through a :class:`ReportExtension`, which the command line and
:func:`dnamodel.report` pass in; nothing here knows of it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dnamodel.checks.predictive import Check
from dnamodel.checks.summary import draw_rounds, month_year
from dnamodel.errors import UsageError
from dnamodel.files import atomic_write_text, make_folder
from dnamodel.outputs import plots
from dnamodel.outputs.check_plots import predictive_plot
from dnamodel.outputs.formats import rounds_text
from dnamodel.outputs.markup import (
    BOUND_SIGN,
    STYLE,
    Figure,
    Html,
    count_text,
    escape,
    figure_html,
    percent_text,
    png_figure,
    range_text,
    table,
    values_text,
)
from dnamodel.outputs.plots import GroupMarks
from dnamodel.outputs.said import said_html
from dnamodel.outputs.sweep import SweepSummary, of_model, reference_interval, table_rows, tornado_rows
from dnamodel.outputs.sweep_plots import sweep_tornado_plot
from dnamodel.outputs.tables import value_text
from dnamodel.outputs.voi import voi_html, voi_plot
from dnamodel.provenance import package_version
from dnamodel.spec import MODELS_DIR

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.checks.dated import Forecast
    from dnamodel.checks.powerscale import PowerScaling
    from dnamodel.checks.predictive import PriorCheck
    from dnamodel.checks.summary import Summary
    from dnamodel.data import Dataset

SECTIONS = (
    ("headline", "1. The estimate"),
    ("data", "2. The data"),
    ("model", "3. The model"),
    ("fit", "4. The fit"),
    ("groups", "5. By group"),
    ("sensitivity", "6. Sensitivity"),
    ("reproduce", "7. Reproduce"),
)
"""The report's sections, in order: ``(id, heading)``; "group" in a heading is the study's word for it."""


def headings(group: str) -> list[tuple[str, str]]:
    """The sections' ids and headings in the study's words: ``group`` is what it calls a group of units.

    Examples
    --------
    >>> headings("district")[4]
    ('groups', '5. By district')
    """
    return [(section_id, heading.replace("group", group)) for section_id, heading in SECTIONS]


CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""No fetch leaves the page: only inline styles and embedded images are allowed."""

VARIANT_TEXT = {
    "han_share": "x<sub>u</sub> is unit u's covariate, standardised over the units",
    "two_stratum": "x<sub>u</sub> is 1 in the high-Han areas and 0 elsewhere",
    "pooled": "no covariate and no spread: logit π<sub>u</sub> = α for every unit",
}


# --- what a report is made of ----------------------------------------------------------------------

Drawer = Callable[[Path], Path]
"""Draws one figure into the PNG file it is given and returns its path."""


@dataclass(frozen=True)
class ReportModel:
    """What a model family's report says of its own model: two sections, the words of the others, its figures.

    The family builds it (:meth:`dnamodel.families.base.ModelFamily.report_model`); HTML fields are
    already escaped.
    """

    data_section: str
    """Section 2: the data the model is fitted to (HTML)."""
    model_section: str
    """Section 3: the model card in short and the priors (HTML)."""
    estimand_date: str | None
    """When the total is counted ("by July 2022"), or ``None``."""
    denominator: str
    """What shares divide by (HTML)."""
    predicted: str
    """What the posterior predictive checks set against their intervals ("observation")."""
    loo_how: str
    """How an observation is left out of its refit."""
    loo_lpd: bool
    """Whether the leave-one-out table shows each observation's exact log predictive density."""
    forecasts: bool
    """Whether the model has forecast checks."""
    prior_range: str
    """The prior check's 1-99% range in words (HTML)."""
    group_intro: str
    """Section 5's first paragraph (HTML)."""
    group_count: str
    """Section 5's heading of the count column."""
    group_figures: tuple[str, ...]
    """What section 5 shows after the forest plot: figure ids, and headings as "
    ":class:`~dnamodel.outputs.markup.Html`."""
    prior_terms: str
    """Which prior terms power-scaling scales."""
    likelihood_terms: str
    """Which likelihood terms it scales."""
    no_densities: str
    """Why power-scaling is missing when the fit has no log densities (HTML)."""
    no_densities_short: str
    """The same, in a few words."""
    figures: tuple[tuple[str, Drawer], ...]
    """The model's own figures: ``(figure id, drawer)``."""
    parameter_axes: Mapping[str, str]
    """The parameter plot's axis label of each scalar parameter."""
    stocks: tuple[tuple[float, str], ...]
    """The database stocks the prior predictive plot marks."""
    prior_note: str = ""
    """What the parameter plot's prior draws leave out, as its caption says it (" (without the thesis bound)")."""


class ReportExtension(Protocol):
    """The hook of an application on top of the engine: its parts of a section, and its marks on figures.

    The bundled case study's (:mod:`dnamodel.casestudy.tibet2022`) adds the audit of the report it
    replicates to section 2, and the report's own figures by group to the forest plot.
    """

    def section_parts(self, section: str, data: Dataset) -> list[str]:
        """HTML to append to the section ``section`` (an id of :data:`SECTIONS`)."""
        ...

    def group_marks(self, data: Dataset) -> GroupMarks | None:
        """The figures to mark beside each group's total on the forest plot, or ``None``."""
        ...


@dataclass
class ReportView:
    """Everything a report shows of one fit, read and checked by the caller (:mod:`dnamodel.workflows.report`)."""

    idata: az.InferenceData
    data: Dataset
    summary: Summary
    model: ReportModel
    checks: list[Check]
    loo: list[Check] | None
    loo_draws: int | None
    forecasts: list[Forecast] | None
    prior: PriorCheck
    scaling: PowerScaling | None
    source: Path
    """The fit's NetCDF file, which the report names for reproduction."""
    sweeps: list[SweepSummary] = field(default_factory=list)
    missing_sweeps: list[str] = field(default_factory=list)
    sweeps_dir: str | Path | None = None
    said: Any = None
    """What decides the figure (:class:`dnamodel.workflows.said.Said`), said beside the sentence to cite."""
    sources: list[Any] | None = None
    """Leave-one-source-out (:class:`dnamodel.checks.dated.SourceCheck`), as saved; ``None`` when not run."""
    voi: Any = None
    """The value of information (:class:`dnamodel.checks.voi.ValueOfInformation`), or None for a family without it."""


@dataclass
class ReportResult:
    """What :func:`render_report` wrote and what it found."""

    path: Path
    summary: Any
    figures: list[str]
    sweeps: list[str]
    missing: list[str] = field(default_factory=list)


# --- the report ------------------------------------------------------------------------------------


def render_report(view: ReportView, out: str | Path, *, extensions: Sequence[ReportExtension] = ()) -> ReportResult:
    """Draw the HTML report of a fit and write it atomically.

    Parameters
    ----------
    view : ReportView
        The fit, its summary, its checks and its sweeps, and its family's :class:`ReportModel`.
    out : str or Path
        The HTML file to create or replace; its folder is created if needed.
    extensions : sequence of ReportExtension
        Applications' additions (the case study's audit and marks); none by default.

    Returns
    -------
    ReportResult
        The file written, the summary, the figures' ids, the sweeps shown and the parts
        missing (no leave-one-out, no power-scaling, no sweeps).

    Raises
    ------
    UsageError
        If ``out`` is not an HTML file name, or is a folder.

    Examples
    --------
    A fit takes a compile; :func:`dnamodel.report` draws one, and ``tests/test_report.py`` opens it in Chromium:

    >>> render_report(view, "results/report.html")  # doctest: +SKIP
    """
    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{target}: a report is an HTML file; give a name ending in .html")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name ending in .html")
    marks = next((m for e in extensions if (m := e.group_marks(view.data)) is not None), None)
    make_folder(target.parent, "the report's folder")
    with tempfile.TemporaryDirectory() as folder, plots.captions_beside():
        figures = _draw(view, Path(folder), marks)
    missing = []
    if view.loo is None:
        missing.append(f"leave-one-out{' and forecasts' if view.model.forecasts else ''} (fit made with --no-loo)")
    if view.scaling is None:
        missing.append(f"power-scaling ({view.model.no_densities_short})")
    if view.sweeps_dir is not None and not of_model(view.sweeps, view.idata.attrs.get("model")):
        missing.append(f"sweeps (none of this fit's spec and data in {view.sweeps_dir}; {_how_to_sweep(view)})")
    context = _Context(view, figures, target, tuple(extensions))
    atomic_write_text(target, _page(context))
    return ReportResult(target, view.summary, list(figures), [s.name for s in view.sweeps], missing)


def _draw(view: ReportView, folder: Path, marks: GroupMarks | None) -> dict[str, Figure]:
    idata, summary, model = view.idata, view.summary, view.model
    ahead = [check for forecast in view.forecasts or [] for check in forecast.checks]
    drawers: list[tuple[str, Drawer]] = [
        ("total", lambda p: plots.total_posterior_plot(idata, summary, p)),
        ("rank", lambda p: plots.rank_plot(idata, p)),
        (
            "parameters",
            lambda p: plots.parameter_plot(idata, p, axis_labels=model.parameter_axes, prior_note=model.prior_note),
        ),
        ("predictive", lambda p: predictive_plot(view.checks, view.loo or [], p, ahead)),
        (
            "prior",
            lambda p: plots.prior_predictive_plot(idata, view.prior, p, study=view.data.study, stocks=model.stocks),
        ),
        ("forest", lambda p: plots.forest_plot(idata, summary, p, marks=marks)),
        *model.figures,
    ]
    if view.voi is not None:
        drawers.append(("voi", lambda p: voi_plot(view.voi, p, view.data.study)))
    own = of_model(view.sweeps, idata.attrs.get("model"))
    if own:
        rows = [row for s in own for row in tornado_rows(s.result, label=s.title)]
        reference = next((r for s in own if (r := reference_interval(s.result)) is not None), None)
        drawers.append(
            (
                "tornado",
                lambda p: sweep_tornado_plot(
                    rows, reference, p, title="What the total depends on", study=view.data.study
                ),
            )
        )
    figures = {}
    for figure_id, draw in drawers:
        figures[figure_id] = png_figure(figure_id, draw(folder / f"{figure_id}.png"))
    return figures


@dataclass
class _Context:
    view: ReportView
    figures: dict[str, Figure]
    target: Path
    extensions: tuple[ReportExtension, ...]

    @property
    def model(self) -> ReportModel:
        """The family's part of the report."""
        return self.view.model

    def extended(self, section: str) -> list[str]:
        """The applications' parts of a section."""
        return [part for e in self.extensions for part in e.section_parts(section, self.view.data)]


def _page(c: _Context) -> str:
    v = c.view
    s = v.summary
    attrs = v.idata.attrs
    group = v.data.study.words.group
    nav = "".join(f'<li><a href="#{i}">{escape(h)}</a></li>' for i, h in headings(group))
    body = [
        _headline(c),
        _section("data", c.model.data_section, *c.extended("data")),
        _section("model", c.model.model_section, *c.extended("model")),
        _fit_section(c),
        _group_section(c),
        _sensitivity_section(c),
        _reproduce_section(c),
    ]
    meta = {
        "dnamodel-model": s.model,
        "dnamodel-spec-hash": attrs["spec_hash"],
        "dnamodel-data-version": attrs["data_version"],
        "dnamodel-seed": attrs["seed"],
        "dnamodel-version": attrs.get("dnamodel_version", ""),
        "dnamodel-figures": " ".join(c.figures),
    }
    metas = "".join(f'<meta name="{k}" content="{escape(v)}">' for k, v in meta.items())
    study = v.data.study
    end = attrs.get("estimand_date")
    short = f"{study.words.counted} in {study.words.place}" + (f", {study.period(end)}" if study.period(end) else "")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{metas}'
        f"<title>{escape(short[:1].upper() + short[1:])}: {escape(s.model)}</title><style>{STYLE}</style></head>"
        f"<body><header><h1>{escape(study.title(end).replace(study.words.place, study.words.region, 1))}</h1>"
        f'<p class="subtitle">A Bayesian estimate with credible intervals: model <code>{escape(s.model)}</code>, '
        f"spec {escape(attrs['spec_hash'])}, data {escape(attrs['data_version'])}, "
        f"dnamodel {escape(attrs.get('dnamodel_version'))}. "
        f"Drawn from <code>{escape(v.source)}</code>.</p>"
        f"<nav><ol>{nav}</ol></nav></header>" + "".join(body) + "</body></html>\n"
    )


def _section(section_id: str, *parts: str, group: str = "group") -> str:
    heading = dict(headings(group))[section_id]
    return f'<section id="{section_id}"><h2>{escape(heading)}</h2>{"".join(parts)}</section>'


def _fig(c: _Context, figure_id: str) -> str:
    return figure_html(c.figures[figure_id]) if figure_id in c.figures else ""


# --- 1. headline -----------------------------------------------------------------------------------


def _headline(c: _Context) -> str:
    s = c.view.summary
    t, sh = s.total, s.share
    i90, i95 = t.interval(0.9), t.interval(0.95)
    s90, s95 = sh.interval(0.9), sh.interval(0.95)
    study = c.view.data.study
    words = study.words
    date = c.model.estimand_date
    when = f" by {escape(month_year(date))}" if date else ""
    claim = words.claim[:1].upper() + words.claim[1:]
    what = f"{escape(claim)} an estimated <b>{count_text(t.median)}</b> {escape(words.persons)}{when}"
    lead = (
        f'<p class="headline">{what} '
        f"(posterior median), with a 90% credible interval of <b>{range_text(i90.low, i90.high)}</b> and a 95% "
        "interval of "
        f"{range_text(i95.low, i95.high)}: <b>{percent_text(sh.median)}</b> of the population (90%: "
        f"{percent_text(s90.low)} to "
        f"{percent_text(s90.high)}; 95%: {percent_text(s95.low)} to {percent_text(s95.high)}).</p>"
    )
    denominator = c.model.denominator
    if s.sentence:
        cite = f'<h3>To cite</h3><p class="cite">{escape(s.sentence)}</p>'
    else:
        advice = f" {escape(s.advice)}" if s.advice else ""
        cite = f'<h3>To cite</h3><p class="warning"><b>Nothing to cite.</b> {escape(s.withheld)}{advice}</p>'
    intervals = []
    for prob in (0.5, 0.9, 0.95):
        et, hdi = t.interval(prob), t.interval(prob, "HDI")
        set_, shdi = sh.interval(prob), sh.interval(prob, "HDI")
        intervals.append(
            [
                f"{prob:.0%}",
                range_text(et.low, et.high),
                f"{percent_text(set_.low)} to {percent_text(set_.high)}",
                range_text(hdi.low, hdi.high),
                f"{percent_text(shdi.low)} to {percent_text(shdi.high)}",
            ]
        )
    exceed = [
        [
            f"{e.label} ({e.note})" if e.note else e.label,
            f"{count_text(e.threshold)} ({e.share:.1%})" if e.share is not None else "",
            count_text(e.threshold),
            f"{e.probability:.3f}",
            f"{e.mcse:.3f}",
        ]
        for e in s.exceedance
    ]
    against: list[str] = []
    if study.comparisons is not None:
        comparisons = study.comparisons
        against = [
            f"<h3>{escape(comparisons.title)}</h3>",
            f"<p>{escape(comparisons.about)}</p>" if comparisons.about else "",
            table(
                ["figure", f"the {comparisons.source} prints", "total", "P(total above it)", "MCSE"],
                exceed,
                numeric=(2, 3, 4),
            ),
        ]
    return _section(
        "headline",
        lead,
        cite,
        said_html(c.view.said, s),
        "<h3>Intervals</h3>",
        table(
            ["credible interval", "total, equal-tailed", "share", "total, HDI", "share, HDI"],
            intervals,
            numeric=range(1, 5),
        ),
        f'<p class="note">Median {count_text(t.median)} (Monte Carlo error {count_text(t.mcse_median)}); mean '
        f"{count_text(t.mean)} "
        f"(MCSE {count_text(t.mcse_mean)}); sd {count_text(t.sd)}. {denominator}</p>",
        *against,
        _fig(c, "total"),
    )


# --- 2. data ---------------------------------------------------------------------------------------


# --- 3. model --------------------------------------------------------------------------------------


# --- 4. fit ----------------------------------------------------------------------------------------


def _check_row(check: Any, last: str, passed: bool | None = None) -> list[Any]:
    """A check's row: observed, predicted, interval, PIT, ``last``, and whether it passed (marks the row).

    It passes when the observation is consistent with its 90% interval (:attr:`Check.inside`), unless
    ``passed`` says otherwise. A bound's observed value carries ≥ or ≤.
    """
    return [
        check.observation,
        BOUND_SIGN[getattr(check, "bound", "none")] + value_text(check.observed),
        value_text(check.median),
        values_text(check.low, check.high),
        f"{check.pit:.2f}",
        last,
        check.inside if passed is None else passed,
    ]


def _held_out_last(check: Any) -> str:
    """A held-out or forecast check's last column: its refit's total, and what marks the row.

    "uninformative" for such a bound, "reweighted" when its posterior is the fit's draws reweighted
    (importance sampling), not a refit.
    """
    total = count_text(check.total_median or 0)
    notes = ["uninformative"] if check.uninformative else []
    if getattr(check, "refit_method", None) == "importance":
        notes.append("reweighted")
    return f"{total} ({', '.join(notes)})" if notes else total


def _reweighted_note(checks: Any) -> str:
    """What the table says of rows made by reweighting the fit's draws, escaped; empty for none."""
    count = sum(getattr(ch, "refit_method", None) == "importance" for ch in checks)
    if not count:
        return ""
    return escape(
        f" {'One row' if count == 1 else f'{count} rows'} marked reweighted {'is' if count == 1 else 'are'} the "
        "fit's own draws reweighted by Pareto-smoothed importance sampling instead of a refit, where the weights' "
        "Pareto k̂ and effective sample size allow (model card 5.10)."
    )


def _uninformative_note(count: int) -> str:
    """What the table says of its uninformative bounds (:attr:`Check.uninformative`), escaped; empty for none."""
    if not count:
        return ""
    share = f"{100 * Check.uninformative_share:g}%"
    which = "One bound is" if count == 1 else f"{count} bounds are"
    return escape(
        f" {which} uninformative: at least {share} of the predictive draws already satisfy "
        f"{'it' if count == 1 else 'them'}, so {'it' if count == 1 else 'they'} could not have failed, and "
        f"{'is' if count == 1 else 'are'} counted neither as a pass nor as a miss."
    )


def _fit_section(c: _Context) -> str:
    d = c.view.summary.diagnostics
    attrs = c.view.idata.attrs
    verdict = (
        "<p><b>Every gate passed</b>: "
        if d.passed
        else f'<p class="warning"><b>The fit failed its gates</b> ({escape("; ".join(d.failures))}), '
        "so nothing here is fit to cite: "
    )
    verdict += (
        f"{d.divergences} divergent transitions (gate: 0), largest R-hat {d.max_rhat:.4f} "
        f"({escape(d.max_rhat_variable)}; "
        f"gate: ≤ 1.01, checked on every variable), smallest bulk ESS {count_text(d.min_ess_bulk)} and tail ESS "
        f"{count_text(d.min_ess_tail)} (gate: ≥ 400).</p>"
    )
    gates = [
        [
            r.name,
            f"{r.rhat:.4f}",
            count_text(r.ess_bulk),
            count_text(r.ess_tail),
            "ok" if r.passed else "FAIL",
            r.passed,
        ]
        for r in d.rows
    ]
    checks = [
        _check_row(ch, "uninformative" if ch.uninformative else "inside" if ch.inside else "outside")
        for ch in c.view.checks
    ]
    counted = [ch for ch in c.view.checks if not ch.uninformative]
    inside = sum(ch.inside for ch in counted)
    idle = len(c.view.checks) - len(counted)
    parts = [
        f"<p>{d.chains} chains of {d.draws:,} draws{escape(rounds_text(draw_rounds(attrs)))} after "
        f"{escape(attrs.get('tune'))} tuning steps, sampler "
        f"{escape(attrs.get('sampler'))}, target acceptance {escape(attrs.get('target_accept'))}, "
        f"seed {escape(attrs['seed'])}.</p>",
        verdict,
        table(["quantity", "R-hat", "ESS bulk", "ESS tail", "gate"], gates, numeric=(1, 2, 3), fail_column=5),
        _fig(c, "rank"),
        _fig(c, "parameters"),
        "<h3>Posterior predictive checks</h3>",
        f"<p>Each {escape(c.model.predicted)} against its posterior "
        f"predictive distribution: {inside} of {len(counted)} are consistent with their 90% interval (a bound, "
        "≥ or "
        "≤, when its side of the interval allows it). The PIT is the share of predictive draws at or below the "
        "observation (a bound's is its mid-PIT); values near 0 or 1 mean the model cannot reproduce it."
        f"{_uninformative_note(idle)}</p>",
        table(
            ["observation", "observed", "predicted median", "90% interval", "PIT", ""],
            checks,
            numeric=(1, 2, 3, 4),
            fail_column=6,
        ),
    ]
    if c.view.loo is None:
        parts.append(
            f'<p class="warning">No leave-one-out check{" and no forecast" if c.model.forecasts else ""}: the fit '
            "was made "
            "with <code>--no-loo</code>.</p>"
        )
    else:
        loo_rows = [_check_row(ch, _held_out_last(ch)) for ch in c.view.loo]
        outside = [ch.observation for ch in c.view.loo if not ch.inside and not ch.uninformative]
        idle_loo = sum(ch.uninformative for ch in c.view.loo)
        verdict_loo = (
            f"{', '.join(outside)} {'falls' if len(outside) == 1 else 'fall'} outside the interval predicted without "
            "it: the other observations do not predict it, so the estimate leans on it. "
            if outside
            else "Every observation is predicted by the others. "
        )
        how = c.model.loo_how
        headers = ["left out", "observed", "predicted median", "90% interval", "PIT", "total without it"]
        if c.model.loo_lpd:  # the exact leave-one-out log predictive density of each, from its refit's draws
            loo_rows = [[*row[:6], f"{ch.lpd:.2f}", row[6]] for row, ch in zip(loo_rows, c.view.loo, strict=True)]
            headers.append("log predictive density")
        draws = c.view.loo_draws
        parts += [
            "<h3>Leave one observation out</h3>",
            f"<p>The model is refitted without each observation in turn ({how}), and predicts it from the others"
            f"{f' ({escape(draws)} draws per chain)' if draws else ''}. {escape(verdict_loo)}The column after the "
            "PIT shows "
            f"how the total moves without it.{_uninformative_note(idle_loo)}{_reweighted_note(c.view.loo)}</p>",
            table(headers, loo_rows, numeric=range(1, len(headers)), fail_column=len(headers)),
        ]
    parts += _sources_parts(c.view.sources)
    if c.view.forecasts is not None:
        parts += _forecast_parts(c)
    parts.append(_fig(c, "predictive"))
    pc = c.view.prior
    bounded = c.model.prior_range
    parts += [
        "<h3>Prior predictive check</h3>",
        f"<p>What the priors alone say about the total, before the counts: 1–99% range {bounded}"
        + (
            f"That is {escape(pc.span())}: from a small share to about all of it, as a weakly informative prior should."
            if pc.plausible
            else f"<b>That is {escape(pc.span())}, not from a small share of the population to about all of it: "
            "check the priors.</b>"
        )
        + "</p>",
        _fig(c, "prior"),
    ]
    return _section("fit", *parts)


def _sources_parts(sources: list[Any] | None) -> list[str]:
    """Leave one source out: each source of two or more observations refitted without all of them."""
    shared = [g for g in sources or [] if len(g.checks) > 1]
    if not shared:
        return []
    rows = [
        [*_check_row(ch, _held_out_last(ch))[:5], g.source, f"{g.lpd:.2f}", ch.pit_inside or ch.uninformative]
        for g in shared
        for ch in g.checks
    ]
    idle = sum(ch.uninformative for g in shared for ch in g.checks)
    return [
        "<h3>Leave one source out</h3>",
        "<p>Leave-one-out drops one figure but keeps its siblings from the same statement, which predict it. Here "
        "the figures that share a source (a data row's source and date, or one unverified source) are left out "
        "together, and each is predicted from the other sources; the log predictive density is of the source's "
        f"figures together. A row is marked when its PIT lies outside ({Check.pit_limits[0]:g}, "
        f"{Check.pit_limits[1]:g}). The other sources are one figure each: their rows are leave-one-out's."
        f"{_uninformative_note(idle)}</p>",
        table(
            ["left out", "observed", "predicted median", "90% interval", "PIT", "source", "log predictive density"],
            rows,
            numeric=(1, 2, 3, 4, 6),
            fail_column=7,
        ),
    ]


def _forecast_parts(c: _Context) -> list[str]:
    """The forecasts forward in time: refits on what was published by a date, and what they predicted."""
    parts = [
        "<h3>Forecasts forward in time</h3>",
        "<p>The spec's forecast checks (<code>dnamodel forecast-check</code>): each refits the model on the "
        "observations published by a date and predicts those that came later. A row is marked when its PIT lies "
        f"outside ({Check.pit_limits[0]:g}, {Check.pit_limits[1]:g}): the model, fitted to the past, "
        "did not see the later figure coming. The last column is the total that refit estimates.</p>",
    ]
    for forecast in c.view.forecasts or []:
        rows = [_check_row(ch, _held_out_last(ch), ch.pit_inside or ch.uninformative) for ch in forecast.checks]
        idle = sum(ch.uninformative for ch in forecast.checks)
        parts += [
            f"<h4>From the data published by {escape(forecast.data_to)} ({len(forecast.used)} observations)</h4>",
            f'<p class="note">Fitted to: {escape(", ".join(forecast.used))}.{_uninformative_note(idle)}</p>',
            table(
                ["predicted", "observed", "forecast median", "90% interval", "PIT", "total then"],
                rows,
                numeric=(1, 2, 3, 4, 5),
                fail_column=6,
            ),
        ]
    return parts


# --- 5. groups ------------------------------------------------------------------------------------


def _group_section(c: _Context) -> str:
    words = c.view.data.study.words
    group = words.group
    rows = [
        [
            p.name,
            count_text(p.population),
            count_text(p.median),
            range_text(p.low, p.high),
            percent_text(p.share_median),
        ]
        for p in c.view.summary.groups
    ]
    intro = c.model.group_intro
    figures = [_fig(c, "forest")] + [
        part if isinstance(part, Html) else _fig(c, part) for part in c.model.group_figures
    ]
    headers = [group, "population", c.model.group_count]
    return _section(
        "groups",
        intro,
        table([*headers, "90% interval", "share"], rows, numeric=(1, 2, 3, 4)),
        *figures,
        group=group,
    )


# --- 6. sensitivity --------------------------------------------------------------------------------


def _sensitivity_section(c: _Context) -> str:
    parts = ["<h3>Power-scaling</h3>"]
    if c.view.scaling is None:
        why = c.model.no_densities
        parts.append(f'<p class="warning">Not computed: {why}. <code>dnamodel report</code> fits with them.</p>')
    else:
        ps = c.view.scaling
        rows = [[r.quantity, f"{r.prior:.3f}", f"{r.likelihood:.3f}", r.diagnosis] for r in ps.rows]
        terms, thesis = c.model.prior_terms, c.model.likelihood_terms
        parts += [
            "<p>How much each quantity's posterior moves when the priors, or the likelihood, are raised to a power "
            f"near 1 (psens: cumulative Jensen-Shannon distance per unit log<sub>2</sub> of the power; flagged at "
            f"{ps.threshold:g}; Kallioinen et al. 2024), read from the fit's saved log densities without a refit. "
            "A high prior sensitivity with a low likelihood sensitivity means the data say little about it; both "
            "high means the prior and the data disagree.</p>",
            table(["quantity", "prior", "likelihood", "diagnosis"], rows, numeric=(1, 2)),
            f'<p class="note">Prior terms ({terms}): {escape(", ".join(ps.prior_terms))}. Likelihood terms '
            f"({thesis}): {escape(', '.join(ps.likelihood_terms))}.</p>",
        ]
        if len(ps.prior_terms) > 1:
            each = [[r.quantity, *[f"{r.by_prior[term]:.3f}" for term in ps.prior_terms]] for r in ps.rows]
            leaning = sorted(
                ((r.by_prior[term], r.quantity, term) for r in ps.rows for term in ps.prior_terms), reverse=True
            )
            parts += [
                "<h4>Each prior term alone</h4>",
                "<p>The same sensitivity with one prior term scaled and the others left as they are: which prior "
                "each quantity leans on. "
                + (
                    f"The total leans most on <code>{escape(_leaning_most(ps['total'].by_prior))}</code>. "
                    if "total" in ps.quantities
                    else ""
                )
                + f"The largest is {leaning[0][1]}'s on <code>{escape(leaning[0][2])}</code> "
                f"({leaning[0][0]:.3f}).</p>",
                table(["quantity", *ps.prior_terms], each, numeric=range(1, len(ps.prior_terms) + 1)),
            ]
    parts.append("<h3>Sweeps</h3>")
    own = of_model(c.view.sweeps, c.view.idata.attrs.get("model"))
    if c.view.sweeps_dir is None:
        parts.append("<p>Left out of this report (<code>--no-sweeps</code>).</p>")
    elif not c.view.sweeps:
        parts.append(
            f'<p class="warning">No sweep results of this fit\'s spec and data in <code>{escape(c.view.sweeps_dir)}'
            f"</code>: {escape(_how_to_sweep(c.view))}, and draw the report again.</p>"
        )
    else:
        parts.append(
            "<p>Each sweep of this fit's spec and data refits the model with one assumption changed, every other "
            "setting as in the spec and the same seed.</p>"
        )
        others = [s.name for s in c.view.sweeps if s not in own]
        if others:
            parts.append(
                f'<p class="note">{escape(", ".join(others))}: {"a sweep" if len(others) == 1 else "sweeps"} of '
                f"another model, spec, data or dnamodel than this fit's "
                f"{escape(c.view.idata.attrs.get('model'))}: listed below and marked stale, but left out of the "
                "chart, which sets each assumption against this fit's own interval.</p>"
            )
        if own:
            parts.append(_fig(c, "tornado"))
        for s in c.view.sweeps:
            paths = list(s.result["total_median"].dims)
            headers = [*paths, "median", "90% interval", "share"]
            if "passed" in s.result:
                headers += ["start", "divergences", "max R-hat", "min ESS", "gates"]
            stale = f' <span class="warning">Stale: {escape(s.stale)}.</span>' if s.stale else ""
            parts += [
                f"<h4>{escape(s.title)}</h4>",
                f'<p class="note"><code>{escape(s.path)}</code>, model {escape(s.result.attrs.get("model"))}, '
                f"{escape(s.result.attrs.get('draws'))} draws × {escape(s.result.attrs.get('chains'))} "
                f"chains.{stale}</p>",
                table(headers, table_rows(s.result), numeric=range(len(paths), len(headers))),
            ]
        if c.view.missing_sweeps:
            parts.append(f'<p class="note">Not run yet: {escape(", ".join(c.view.missing_sweeps))}.</p>')
    parts += voi_html(c.view.voi, _fig(c, "voi"), c.view.data.study.words.unit)
    return _section("sensitivity", *parts)


def _how_to_sweep(view: ReportView) -> str:
    """How to make the sweep results a report reads: the shipped model's `make sweeps`, or a sweep of one's own."""
    folder = view.sweeps_dir or "results/sweeps"
    if view.missing_sweeps:  # a shipped model, with shipped sweeps not yet run
        return "run `make sweeps` (or `dnamodel sweep --shipped`)"
    location = view.idata.attrs.get("data_location", "bundled")
    data = "" if location == "bundled" else f" --data {location}"
    return f"run `dnamodel sweep SWEEP.toml{data} --out {folder}/NAME.nc` (or `--set PATH=V1,V2` on the fit's spec)"


def _leaning_most(by_prior: dict[str, float]) -> str:
    """The prior term a quantity is most sensitive to."""
    return max(by_prior, key=lambda term: by_prior[term])


# --- 7. reproduce ----------------------------------------------------------------------------------


def _versions(attrs: dict[str, Any]) -> list[list[str]]:
    import matplotlib  # deferred: start-up time
    import xarray  # deferred: start-up time

    rows = [["dnamodel", str(attrs.get("dnamodel_version", "")), package_version()]]
    for name in ("pymc", "arviz", "nutpie", "numpy", "python"):
        rows.append([name, str(attrs.get(f"{name}_version", "not recorded")), _current_version(name)])
    rows += [["xarray", "", xarray.__version__], ["matplotlib", "", matplotlib.__version__]]
    return rows


def _current_version(name: str) -> str:
    if name == "python":
        return sys.version.split()[0]
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def default_commands(attrs: Mapping[str, Any], fit_path: Path, report_path: Path, *, loo: bool = True) -> list[str]:
    """The commands that remake a fit from scratch and draw its report; ``loo``: the fit has its leave-one-out checks.

    Examples
    --------
    >>> attrs = {"model": "dated", "spec_path": "x.toml", "seed": 1, "draws": 10, "tune": 10, "chains": 2}
    >>> default_commands(attrs, Path("results/x.nc"), Path("results/x.html"), loo=False)[0]
    'dnamodel estimate x.toml --seed 1 --draws 10 --tune 10 --chains 2 --no-loo --sensitivity --out results'
    """
    model = attrs.get("spec_path") or attrs.get("model")
    name = Path(str(model)).stem if str(model).endswith(".toml") else model
    shipped = MODELS_DIR / f"{name}.toml"
    target = name if shipped.is_file() and Path(str(model)).resolve() == shipped.resolve() else model
    flags = f"--seed {attrs['seed']} --draws {attrs['draws']} --tune {attrs.get('tune')} --chains {attrs['chains']}"
    no_loo = "" if loo else " --no-loo"
    location = str(attrs.get("data_location", "bundled"))
    data = "" if location == "bundled" else f" --data {location}"
    return [
        f"dnamodel estimate {target} {flags}{no_loo} --sensitivity{data} --out {fit_path.parent}",
        *(["make sweeps"] if not data else []),
        f"dnamodel report --from {fit_path}{data} --out {report_path}",
    ]


def _reproduce_section(c: _Context) -> str:
    attrs = c.view.idata.attrs
    commands = default_commands(attrs, c.view.source, c.target, loo=c.view.loo is not None)
    timings = json.loads(attrs.get("timings_json", "{}"))
    record = [
        ["model", str(attrs.get("model"))],
        ["spec file", str(attrs.get("spec_path"))],
        ["spec hash", str(attrs["spec_hash"])],
        ["data version", f"{attrs['data_version']} ({attrs.get('data_location', '')})"],
        ["seed", str(attrs["seed"])],
        [
            "sampler",
            f"{attrs.get('sampler')}: {attrs['chains']} chains × {attrs['draws']} draws, "
            f"{attrs.get('tune')} tuning, target acceptance {attrs.get('target_accept')}",
        ],
        ["fit", str(c.view.source)],
        ["fit timings (s)", ", ".join(f"{k} {v:.1f}" for k, v in timings.items()) or "not recorded"],
    ]
    return _section(
        "reproduce",
        "<p>The same seed, spec and data give the same numbers. From a clone of dnamodel:</p>",
        "<pre>" + escape("\n".join(commands)) + "</pre>",
        table(["", ""], record),
        "<h3>Versions</h3>",
        table(["package", "in the fit", "drawing this report"], _versions(attrs)),
        "<details><summary>The spec, as fitted</summary><pre>" + escape(attrs["spec"]) + "</pre></details>",
    )
