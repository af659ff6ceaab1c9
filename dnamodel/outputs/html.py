"""A saved fit → one self-contained HTML report to read, check and cite from.

:func:`render_report` reads a fit's NetCDF (as ``dnamodel estimate`` writes it), recomputes
every summary from it, draws every figure, and writes a single HTML file with the figures
embedded as ``data:`` URIs. The page loads nothing: its Content-Security-Policy forbids every
fetch but inline styles and ``data:`` images, and it has no scripts. It is written atomically.

A fit of either Bayesian kind draws: the dated model (``docs/model.md``, section 5) or a
hierarchical one (section 4). Everything the report shows comes from the saved fit and the data it
names: the spec text, its hash, the seed and the sampler settings are in the fit's ``attrs``;
leave-one-out results (and a dated fit's forecasts) are saved there by ``run_estimate``
(``leave_one_out_json``, ``forecasts_json``); power-scaling reads the fit's ``log_prior`` and
``log_likelihood`` groups (every dated fit has them; a hierarchical fit with ``dnamodel estimate
--sensitivity``). The shipped sweeps' results (``make sweeps``) are read from their own NetCDF
files when they exist.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from dnamodel.casestudy.audit import audit
from dnamodel.casestudy.tibet2022 import report_by_prefecture, report_gap, skipped
from dnamodel.checks import dated as dated_checks
from dnamodel.checks.powerscale import power_scaling
from dnamodel.checks.predictive import Check, predictive_checks, prior_check
from dnamodel.checks.rebuild import data_of_fit, spec_of_fit
from dnamodel.checks.summary import month_year, summarize_fit
from dnamodel.errors import UsageError
from dnamodel.files import atomic_write_text
from dnamodel.outputs import plots
from dnamodel.outputs.io import read_netcdf
from dnamodel.outputs.sweep import reference_interval, table_rows, tornado_rows
from dnamodel.outputs.tables import value_text
from dnamodel.provenance import package_version
from dnamodel.spec import MODELS_DIR
from dnamodel.spec.dated import DatedInputs, DatedSpec, resolve_dated
from dnamodel.spec.hierarchical import prior_text
from dnamodel.spec.resolve import resolve_hierarchical
from dnamodel.spec.sweep import load_sweep, shipped_sweeps

SECTIONS = (
    ("headline", "1. The estimate"),
    ("data", "2. The data"),
    ("model", "3. The model"),
    ("fit", "4. The fit"),
    ("prefectures", "5. By prefecture"),
    ("sensitivity", "6. Sensitivity"),
    ("reproduce", "7. Reproduce"),
)
"""The report's sections, in order: ``(id, heading)``."""

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""No fetch leaves the page: only inline styles and embedded images are allowed."""

PARAMETER_MEANING = {
    "alpha": "logit collection fraction of a unit of average Han share",
    "beta": "change in logit fraction per standard deviation of Han share (per stratum, two-stratum variant)",
    "sigma": "spread of units' logit fractions beyond Han share",
    "log_uplift": "log of the uplift areas' resident base over their census population (temporary residents)",
    "tau": "spread of the within-county rows' logit fractions",
    "row_centre": "the within-county rows' free centre on the logit scale",
    "pace": "database growth after mid-2020, relative to January-June 2020 (integrated out)",
}
"""What each top-level parameter of the hierarchical model is, in one line (``docs/model.md`` section 4.8
gives the reasons)."""

DATED_PARAMETER_MEANING = {
    "alpha": "logit fraction at saturation of an average unit's residents outside the covariate's group",
    "contrast": "log odds ratio of the covariate's group against the others (composition form), or the change in "
    "logit fraction per sd of the covariate (linear form)",
    "group_sd": "spread between prefectures' logit fractions",
    "unit_sd": "spread between the units of one prefecture",
    "reported": "offset of the units a local report counts alone, which sources chose to publicise",
    "pace": "each prefecture's pace towards saturation, per year",
    "start": "when each prefecture's campaign started",
    "typed_share": "share of the collected samples typed into the database",
    "baseline_per_resident": "profiles a database held before the campaign, per resident",
    "log_uplift": "log of the residents an uplift area's collection counts over its census population",
}
"""What each prior of the dated model is about, in one line (``docs/model.md`` section 5 gives the reasons)."""

VARIANT_TEXT = {
    "han_share": "x<sub>u</sub> is unit u's covariate, standardised over the units",
    "two_stratum": "x<sub>u</sub> is 1 in the high-Han areas and 0 elsewhere",
    "pooled": "no covariate and no spread: logit π<sub>u</sub> = α for every unit",
}

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
       max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 4em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { border-top: 2px solid #4c72b0; padding-top: 0.6em; margin-top: 2.2em; }
h3 { margin-top: 1.6em; }
nav ol { columns: 2; padding-left: 1.2em; }
.subtitle { color: #555; margin-top: 0; }
.headline { font-size: 1.25em; background: #f3f6fb; border-left: 5px solid #4c72b0; padding: 0.8em 1em; }
.cite { background: #fffbe6; border: 1px solid #e6d28a; padding: 0.8em 1em; font-family: Georgia, serif; }
.warning { background: #fdecea; border: 1px solid #e0a39b; padding: 0.8em 1em; }
.note { color: #555; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f5f5f7; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.fail td { background: #fdecea; }
figure { margin: 1.2em 0 2em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.4em; }
figcaption b { display: block; }
pre { background: #f5f5f7; padding: 0.8em; white-space: pre-wrap; font-size: 0.85em; }
code { font-size: 0.92em; }
.maths { font-family: "Cambria Math", "STIX Two Math", Georgia, serif; font-size: 1.05em; }
details { margin: 0.6em 0; }
summary { cursor: pointer; color: #4c72b0; }
@media print { nav, details > summary { display: none; } body { max-width: none; } }
"""


# --- what a report is made of ----------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One embedded figure: its anchor id, PNG bytes, title and caption."""

    id: str
    png: bytes
    title: str
    caption: str


@dataclass(frozen=True)
class SweepSummary:
    """One shipped sweep read back from its NetCDF file."""

    name: str
    title: str
    path: Path
    result: Any
    stale: str | None


@dataclass
class ReportResult:
    """What :func:`render_report` wrote and what it found."""

    path: Path
    summary: Any
    figures: list[str]
    sweeps: list[str]
    missing: list[str] = field(default_factory=list)


# --- small HTML helpers ----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _range(low: float, high: float) -> str:
    return f"{low:,.0f} to {high:,.0f}"


def _pct(value: float) -> str:
    return f"{value:.1%}"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    fail_column: int | None = None,
) -> str:
    """An HTML table; ``numeric`` columns are right-aligned.

    With ``fail_column``, each row carries one more value at that index, not shown: where it
    is false, the row is marked as failed.

    Examples
    --------
    >>> page = table(["check", "value"], [["a", "1", True], ["b", "2", False]], numeric=(1,), fail_column=2)
    >>> page.split("<tbody>")[1]
    '<tr><td>a</td><td class=n>1</td></tr><tr class=fail><td>b</td><td class=n>2</td></tr></tbody></table>'
    """
    numeric = set(numeric)
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        shown = [v for i, v in enumerate(row) if i != fail_column]
        failed = fail_column is not None and not row[fail_column]
        cells = "".join(f"<td{' class=n' if i in numeric else ''}>{_cell(v)}</td>" for i, v in enumerate(shown))
        body.append(f"<tr{' class=fail' if failed else ''}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Html(str):
    """Text that is already HTML and must not be escaped again."""


def _cell(value: Any) -> str:
    return value if isinstance(value, Html) else _e(value)


def figure_html(figure: Figure) -> str:
    """A ``<figure>`` with the PNG embedded as a data URI, its title and its caption."""
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="fig-{_e(figure.id)}" data-figure="{_e(figure.id)}">'
        f'<img src="data:image/png;base64,{data}" alt="{_e(figure.title)}">'
        f"<figcaption><b>{_e(figure.title)}</b>{_e(figure.caption)}</figcaption></figure>"
    )


def _png_figure(figure_id: str, path: Path) -> Figure:
    """Read a PNG that :mod:`dnamodel.outputs.plots` wrote, with the title and caption it embedded."""
    from PIL import Image  # deferred: start-up time

    with Image.open(path) as image:
        text = dict(getattr(image, "text", {}))
    return Figure(figure_id, path.read_bytes(), text.get("Title", figure_id), text.get("Description", ""))


# --- reading a saved fit ---------------------------------------------------------------------------


def loo_of_fit(idata: Any) -> list[Any] | None:
    """The leave-one-out checks saved with a fit, or ``None`` when none were run."""
    text = idata.attrs.get("leave_one_out_json")
    if not text:
        return None
    return [Check(**row) for row in json.loads(text)]


def forecasts_of_fit(idata: Any) -> list[dated_checks.Forecast] | None:
    """The forecast checks saved with a dated fit, or ``None`` when none were run."""
    text = idata.attrs.get("forecasts_json")
    if not text:
        return None
    return [
        dated_checks.Forecast(f["data_to"], tuple(f["used"]), tuple(Check(**row) for row in f["checks"]))
        for f in json.loads(text)
    ]


def read_sweeps(folder: str | Path, attrs: dict[str, Any]) -> tuple[list[SweepSummary], list[str]]:
    """The shipped sweeps' results in ``folder`` (``make sweeps`` writes them), and those missing.

    Only the sweeps shipped for the fit's model are read (the dated model's and the hierarchical
    comparison model's share the folder). A sweep is marked stale when its result sweeps another
    model than the fit's, when its data version differs from the fit's, or when it was run by
    another dnamodel version.
    """
    import xarray as xr  # deferred: start-up time

    found, missing = [], []
    for name in shipped_sweeps(attrs.get("model")):
        path = Path(folder) / f"{name}.nc"
        if not path.is_file():
            missing.append(name)
            continue
        result = xr.load_dataset(path, engine="h5netcdf")
        stale = None
        if result.attrs.get("model") != attrs.get("model"):
            stale = f"a sweep of {result.attrs.get('model')}, not of the fit's {attrs.get('model')}"
        elif result.attrs.get("data_version") != attrs.get("data_version"):
            stale = f"data {result.attrs.get('data_version')}, the fit's is {attrs.get('data_version')}"
        elif str(result.attrs.get("dnamodel_version")) != str(attrs.get("dnamodel_version")):
            stale = (
                f"run by dnamodel {result.attrs.get('dnamodel_version')}, the fit by {attrs.get('dnamodel_version')}"
            )
        found.append(SweepSummary(name, load_sweep(name).description, path, result, stale))
    return found, missing


# --- the report ------------------------------------------------------------------------------------


def render_report(
    fit_path: str | Path,
    out: str | Path,
    *,
    data: Any = None,
    sweeps_dir: str | Path | None = "results/sweeps",
) -> ReportResult:
    """Draw the HTML report of a saved fit and write it atomically.

    Parameters
    ----------
    fit_path : str or Path
        A fit's NetCDF, as ``dnamodel estimate`` writes it (``results/MODEL.nc``).
    out : str or Path
        The HTML file to create or replace; its folder is created if needed.
    data : Dataset, optional
        The data the fit was made from; by default, read again from the location the fit
        records. Its version must be the fit's.
    sweeps_dir : str or Path, optional
        Where the shipped sweeps' NetCDF files are (``make sweeps``); ``None`` leaves the
        sweep section out.

    Returns
    -------
    ReportResult
        The file written, the summary, the figures' ids, the sweeps shown and the parts
        missing (no leave-one-out, no power-scaling, no sweeps).

    Raises
    ------
    UsageError
        If the file is not a fit of a dated or hierarchical spec, its spec text does not hash to
        the recorded hash, or its data version is not ``data``'s.

    Examples
    --------
    A fit takes a compile; ``tests/test_report.py`` renders one and opens it in Chromium:

    >>> render_report("results/dated.nc", "results/report.html")  # doctest: +SKIP
    """
    source = Path(fit_path)
    if not source.is_file():
        raise UsageError(f"{source}: no such fit; make one with `dnamodel estimate` (it writes results/MODEL.nc)")
    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{target}: a report is an HTML file; give a name ending in .html")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name ending in .html")
    try:
        idata = read_netcdf(source)
    except (OSError, ValueError) as error:
        raise UsageError(f"{source}: not a readable NetCDF fit ({error})") from None
    spec = spec_of_fit(idata, str(source))
    data = data_of_fit(idata, data, str(source))
    dated = isinstance(spec, DatedSpec)
    summary = summarize_fit(idata, data)
    loo = loo_of_fit(idata)
    forecasts = None
    if dated:
        inputs = resolve_dated(spec, data)
        checks = dated_checks.predictive_checks(idata, inputs)
        prior = dated_checks.prior_check(idata, inputs)
        forecasts = forecasts_of_fit(idata)
    else:
        inputs = resolve_hierarchical(spec, data)
        checks = predictive_checks(idata)
        prior = prior_check(idata, inputs)
    scaling = None
    if "log_prior" in idata.groups() and "log_likelihood" in idata.groups():
        scaling = power_scaling(idata)  # from the saved groups: no refit
    sweeps, missing_sweeps = read_sweeps(sweeps_dir, idata.attrs) if sweeps_dir is not None else ([], [])

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, plots.captions_beside():
        marks = report_by_prefecture(data)  # the case study's figures by prefecture; None for other data
        figures = _draw(idata, summary, inputs, checks, loo, forecasts, prior, sweeps, Path(folder), marks)
    missing = []
    if loo is None:
        missing.append(f"leave-one-out{' and forecasts' if dated else ''} (fit made with --no-loo)")
    if scaling is None:
        why = "the fit was saved without its log densities" if dated else "fit made without --sensitivity"
        missing.append(f"power-scaling ({why})")
    if sweeps_dir is not None and not sweeps:
        missing.append(f"shipped sweeps (none in {sweeps_dir}; run `make sweeps`)")
    context = _Context(
        idata,
        spec,
        inputs,
        data,
        summary,
        checks,
        loo,
        prior,
        scaling,
        sweeps,
        missing_sweeps,
        figures,
        source,
        target,
        sweeps_dir,
        forecasts,
    )
    atomic_write_text(target, _page(context))
    return ReportResult(target, summary, list(figures), [s.name for s in sweeps], missing)


def _of_fit_model(sweeps: Sequence[SweepSummary], attrs: dict[str, Any]) -> list[SweepSummary]:
    """The sweeps of the fit's own model: only they are set beside its interval in the tornado chart."""
    return [s for s in sweeps if s.result.attrs.get("model") == attrs.get("model")]


def _draw(
    idata: Any,
    summary: Any,
    inputs: Any,
    checks: Any,
    loo: Any,
    forecasts: Any,
    prior: Any,
    sweeps: Any,
    folder: Path,
    marks: Any = None,
) -> dict[str, Figure]:
    ahead = [check for forecast in forecasts or [] for check in forecast.checks]
    stocks = plots.stocks(inputs)
    drawers: list[tuple[str, Callable[[Path], Path]]] = [
        ("total", lambda p: plots.total_posterior_plot(idata, summary, p)),
        ("rank", lambda p: plots.rank_plot(idata, p)),
        ("parameters", lambda p: plots.parameter_plot(idata, p)),
        ("predictive", lambda p: plots.predictive_plot(checks, loo or [], p, ahead)),
        ("prior", lambda p: plots.prior_predictive_plot(idata, prior, p, study=summary.study, stocks=stocks)),
        ("forest", lambda p: plots.forest_plot(idata, summary, p, marks=marks)),
    ]
    if isinstance(inputs, DatedInputs):
        drawers += [
            ("covariate", lambda p: plots.covariate_plot(idata, inputs, p)),
            ("campaign", lambda p: plots.campaign_plot(idata, inputs, p)),
        ]
    else:
        drawers.append(("fraction", lambda p: plots.fraction_plot(idata, inputs, p)))
    own = _of_fit_model(sweeps, idata.attrs)
    if own:
        rows = [row for s in own for row in tornado_rows(s.result, label=s.title)]
        reference = next((r for s in own if (r := reference_interval(s.result)) is not None), None)
        drawers.append(
            (
                "tornado",
                lambda p: plots.sweep_tornado_plot(
                    rows, reference, p, title="What the total depends on", study=summary.study
                ),
            )
        )
    figures = {}
    for figure_id, draw in drawers:
        figures[figure_id] = _png_figure(figure_id, draw(folder / f"{figure_id}.png"))
    return figures


@dataclass
class _Context:
    idata: Any
    spec: Any
    inputs: Any
    data: Any
    summary: Any
    checks: list[Any]
    loo: list[Any] | None
    prior: Any
    scaling: Any
    sweeps: list[SweepSummary]
    missing_sweeps: list[str]
    figures: dict[str, Figure]
    source: Path
    target: Path
    sweeps_dir: str | Path | None
    forecasts: list[Any] | None = None

    @property
    def dated(self) -> bool:
        """Whether the fit is of the dated model."""
        return isinstance(self.spec, DatedSpec)


def _page(c: _Context) -> str:
    s = c.summary
    attrs = c.idata.attrs
    group = s.study.words.group
    nav = "".join(f'<li><a href="#{i}">{_e(h.replace("prefecture", group))}</a></li>' for i, h in SECTIONS)
    body = [
        _headline(c),
        _dated_data_section(c) if c.dated else _data_section(c),
        _dated_model_section(c) if c.dated else _model_section(c),
        _fit_section(c),
        _prefecture_section(c),
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
    metas = "".join(f'<meta name="{k}" content="{_e(v)}">' for k, v in meta.items())
    study = s.study
    end = attrs.get("estimand_date")
    short = f"{study.words.counted} in {study.words.place}" + (f", {study.period(end)}" if study.period(end) else "")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{metas}'
        f"<title>{_e(short[:1].upper() + short[1:])}: {_e(s.model)}</title><style>{STYLE}</style></head>"
        f"<body><header><h1>{_e(study.title(end).replace(study.words.place, study.words.region, 1))}</h1>"
        f'<p class="subtitle">A Bayesian estimate with credible intervals: model <code>{_e(s.model)}</code>, '
        f"spec {_e(attrs['spec_hash'])}, data {_e(attrs['data_version'])}, "
        f"dnamodel {_e(attrs.get('dnamodel_version'))}. "
        f"Drawn from <code>{_e(c.source)}</code>.</p>"
        f"<nav><ol>{nav}</ol></nav></header>" + "".join(body) + "</body></html>\n"
    )


def _section(section_id: str, *parts: str, group: str = "prefecture") -> str:
    heading = dict(SECTIONS)[section_id].replace("prefecture", group)
    return f'<section id="{section_id}"><h2>{_e(heading)}</h2>{"".join(parts)}</section>'


def _fig(c: _Context, figure_id: str) -> str:
    return figure_html(c.figures[figure_id]) if figure_id in c.figures else ""


# --- 1. headline -----------------------------------------------------------------------------------


def _headline(c: _Context) -> str:
    s = c.summary
    t, sh = s.total, s.share
    i90, i95 = t.interval(0.9), t.interval(0.95)
    s90, s95 = sh.interval(0.9), sh.interval(0.95)
    study = s.study
    words = study.words
    date = c.inputs.estimand_label if c.dated else words.end
    when = f" by {_e(month_year(date))}" if date else ""
    claim = words.claim[:1].upper() + words.claim[1:]
    what = f"{_e(claim)} an estimated <b>{_count(t.median)}</b> {_e(words.persons)}{when}"
    lead = (
        f'<p class="headline">{what} '
        f"(posterior median), with a 90% credible interval of <b>{_range(i90.low, i90.high)}</b> and a 95% interval of "
        f"{_range(i95.low, i95.high)}: <b>{_pct(sh.median)}</b> of the population (90%: {_pct(s90.low)} to "
        f"{_pct(s90.high)}; 95%: {_pct(s95.low)} to {_pct(s95.high)}).</p>"
    )
    denominator = (
        "Shares divide by the population the model infers: the 2020 census total, "
        f"{_count(c.inputs.census_total)}, with its error and the uplift of the areas whose collection counts more "
        "residents."
        + (f" {_e(words.counting_note[:1].upper() + words.counting_note[1:])}." if words.counting_note else "")
        if c.dated
        else f"Shares divide by the 2020 census total, {_count(c.inputs.census_total)}."
    )
    if s.sentence:
        cite = f'<h3>To cite</h3><p class="cite">{_e(s.sentence)}</p>'
    else:
        cite = f'<h3>To cite</h3><p class="warning"><b>Nothing to cite.</b> {_e(s.withheld)}</p>'
    intervals = []
    for prob in (0.5, 0.9, 0.95):
        et, hdi = t.interval(prob), t.interval(prob, "HDI")
        set_, shdi = sh.interval(prob), sh.interval(prob, "HDI")
        intervals.append(
            [
                f"{prob:.0%}",
                _range(et.low, et.high),
                f"{_pct(set_.low)} to {_pct(set_.high)}",
                _range(hdi.low, hdi.high),
                f"{_pct(shdi.low)} to {_pct(shdi.high)}",
            ]
        )
    exceed = [
        [
            f"{e.label} ({e.note})" if e.note else e.label,
            f"{_count(e.threshold)} ({e.share:.1%})" if e.share is not None else "",
            _count(e.threshold),
            f"{e.probability:.3f}",
            f"{e.mcse:.3f}",
        ]
        for e in s.exceedance
    ]
    against: list[str] = []
    if study.comparisons is not None:
        comparisons = study.comparisons
        against = [
            f"<h3>{_e(comparisons.title)}</h3>",
            f"<p>{_e(comparisons.about)}</p>" if comparisons.about else "",
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
        "<h3>Intervals</h3>",
        table(
            ["credible interval", "total, equal-tailed", "share", "total, HDI", "share, HDI"],
            intervals,
            numeric=range(1, 5),
        ),
        f'<p class="note">Median {_count(t.median)} (Monte Carlo error {_count(t.mcse_median)}); mean {_count(t.mean)} '
        f"(MCSE {_count(t.mcse_mean)}); sd {_count(t.sd)}. {denominator}</p>",
        *against,
        _fig(c, "total"),
    )


# --- 2. data ---------------------------------------------------------------------------------------


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _referenced(expressions: Sequence[str | Sequence[str]], data: Any) -> list[str]:
    """The data ids the expressions name, each once, in order."""
    ids: list[str] = []
    for expression in expressions:
        for text in [expression] if isinstance(expression, str) else expression:
            ids += [t for t in _IDENTIFIER.findall(text) if t in data.observations and t not in ids]
    return ids


def _source_lines(ids: Sequence[str], data: Any) -> Html:
    lines = []
    for oid in ids:
        o = data.observations[oid]
        when = o.date or o.source_date or "undated"
        shown = o.printed.text if o.printed is not None else f"{o.value}"
        lines.append(f"<code>{_e(oid)}</code> = {_e(shown)} ({_e(when)}): {_e(o.source)}")
    return Html("<br>".join(lines))


def _data_section(c: _Context) -> str:
    spec, inputs, data = c.spec, c.inputs, c.data
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
                _count(inputs.observed[k]),
                Html(f"<code>{_e(o.samples)}</code>"),
                places,
                _source_lines(_referenced([o.samples, o.base], data), data),
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
            o = data.observations[oid]
            wrows.append(
                [
                    o.subarea or oid,
                    _count(inputs.row_observed[r]),
                    _count(inputs.row_population[r]),
                    _pct(inputs.row_observed[r] / inputs.row_population[r]),
                    _source_lines([oid], data),
                ]
            )
        parts += [
            f"<h3>Within-county rows ({_e(data.place_name(wc.unit))})</h3>",
            f"<p>They inform the within-county spread τ only (centre: {_e(wc.centre)}), with a log-normal error of sd "
            f"{wc.error:g}. Their samples make up {_e(data.place_name(wc.unit))}'s total above, so with a free centre "
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
                [[_count(data.observations[i].value), _source_lines([i], data)] for i in (th.stock, th.added)],
                numeric=(0,),
            ),
        ]
    parts += [
        "<h3>Population</h3>",
        f"<p>The census population of all {len(inputs.unit)} units ({_count(inputs.census_total)} people), each with a "
        f"log-normal census error of sd {spec.population.census_error:g}; "
        + (
            f"{_e(', '.join(data.place_name(a) for a in spec.population.uplift_areas))}'s base is scaled up for "
            "temporary residents (the uplift λ).</p>"
            if spec.population.uplift_areas
            else "no uplift for temporary residents.</p>"
        ),
    ]
    return _section("data", *parts, *_audit_parts(c))


def _audit_parts(c: _Context) -> list[str]:
    gap = report_gap(c.data)
    if gap is not None:
        return [f'<p class="note">{_e(skipped(gap))}</p>']
    result = audit(c.data)
    counts = result.counts()
    disagreements = [[f.id, f.where, f.quantity, f.printed, f.recomputed, f.cause] for f in result.disagreements()]
    notes = [
        [f.id, f.where, f.quantity, f.printed, f.recomputed, f.cause] for f in result.findings if f.status == "note"
    ]
    return [
        "<h3>Audit of the report's figures</h3>",
        f"<p><code>dnamodel audit</code> recomputes every figure the report derives: {counts['agrees']} agree with "
        f"their inputs, <b>{counts['disagrees']} disagree</b>, and {counts['note']} are notes on method or basis. "
        "The model uses the sources' figures, not the report's derived ones.</p>",
        table(["id", "where", "quantity", "printed", "recomputed", "likely cause"], disagreements),
        f"<details><summary>The {len(notes)} notes</summary>"
        + table(["id", "where", "quantity", "printed", "recomputed", "note"], notes)
        + "</details>",
    ]


KIND_TEXT = {
    "count": "count",
    "database": "database stock",
    "database_share": "share of a database",
    "coverage": "coverage",
}
BOUND_SIGN = {"lower": "≥ ", "upper": "≤ ", "none": ""}


def _values(low: float, high: float) -> str:
    return f"{value_text(low)} to {value_text(high)}"


def _places(places: Sequence[str], data: Any) -> str:
    return ", ".join(data.place_name(p) for p in places)


def _dated_data_section(c: _Context) -> str:
    spec, inputs, data = c.spec, c.inputs, c.data
    rows = []
    for k, name in enumerate(inputs.observation):
        o = spec.observations[name]
        bound = dated_checks.BOUND_NAMES[int(inputs.censor[k])]
        if o.kind == "database":
            over = f"database {o.database}: " + _places(spec.databases.areas[o.database], data)
        else:
            over = _places(o.units, data) + (f" except {_places(o.exclude, data)}" if o.exclude else "")
        if inputs.base[k] > 0:
            base = f"population {_count(inputs.base[k])} (<code>{_e(o.base)}</code>)"
        elif o.kind in ("count", "coverage"):
            base = "its units' census population"
        else:
            base = f"database <code>{_e(o.database)}</code>"
        scale = "logit" if o.kind == "coverage" else "log"
        date = inputs.date_label[k] if inputs.date_label else ""
        since = inputs.since_label[k] if inputs.since_label else ""
        bound_text = {"none": "", "lower": ", lower bound", "upper": ", upper bound"}[bound]
        rows.append(
            [
                Html(f"<code>{_e(name)}</code><br>{_e(KIND_TEXT[o.kind])}{_e(bound_text)}"),
                BOUND_SIGN[bound] + value_text(inputs.value[k]),
                Html(f"{_e(since)} to<br>{_e(date)}" if since else _e(date)),
                Html(f"{_e(over)}<br>{base}"),
                f"{inputs.error[k]:g} ({scale})",
                Html(f"{_source_lines(_referenced([o.value], data), data)}<br><i>{_e(o.note)}</i>"),
            ]
        )
    parts = [
        "<p>Every figure the model is fitted to, each at its own date, with its source as the data give it "
        "(ids are rows of <code>observations.csv</code>). A figure with two dates is an increment: "
        "what was collected between them. A bound (≥, ≤) says only on which side of it the true figure lies. The "
        "error is the sd of the figure's reporting error, on the log scale (logit for a coverage).</p>",
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
                    [name, _places(places, data), _count(inputs.population[list(inputs.database_members[d])].sum())]
                    for d, (name, places) in enumerate(spec.databases.areas.items())
                ],
                numeric=(2,),
            ),
        ]
    uplift = spec.population.uplift
    parts += [
        "<h3>Population</h3>",
        f"<p>The census population of all {len(inputs.unit)} units ({_count(inputs.census_total)} people), each with "
        f"a log-normal census error of sd {spec.population.census_error:g}; "
        + (
            "; ".join(
                f"{_e(_places(u.areas, data))}'s collection also counts residents the census omits (the "
                f"uplift <code>{_e(name)}</code>)"
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
    return _section("data", *parts, *_audit_parts(c))


# --- 3. model --------------------------------------------------------------------------------------


def _model_card_link(c: _Context) -> str:
    card = Path(__file__).resolve().parents[2] / "docs" / "model.md"  # in a clone; not installed with the package
    if card.is_file():
        href = os.path.relpath(card, c.target.resolve().parent)
        return f'<a href="{_e(href)}">docs/model.md</a>'
    return "<code>docs/model.md</code>"


def _model_section(c: _Context) -> str:
    spec, post = c.spec, c.idata.posterior
    variant = spec.fraction.variant
    eta = "α" if variant == "pooled" else "α + β·x<sub>u</sub> + σ·z<sub>u</sub>"
    card = (
        f"<p>The full model card, with every prior's reason and every observation's source, is {_model_card_link(c)} "
        "(section 4). In short:</p><ul class=maths>"
        f"<li>Each of the {len(c.inputs.unit)} units u has a collection fraction π<sub>u</sub>, "
        f"logit π<sub>u</sub> = {eta}, z<sub>u</sub> ~ N(0, 1); {VARIANT_TEXT[variant]}.</li>"
        "<li>Its resident base is N<sub>u</sub> λ<sub>u</sub>: the census count P<sub>u</sub> with error, "
        f"N<sub>u</sub> = P<sub>u</sub>·exp({c.spec.population.census_error:g}·e<sub>u</sub>), and λ<sub>u</sub> the "
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
        rows.append([Html(f"<code>{_e(name)}</code>"), prior_text(prior), PARAMETER_MEANING.get(name, ""), posterior])
    settings = [
        ["census error (log sd)", f"{spec.population.census_error:g}"],
        *[[f"reporting error of {n} (log sd)", f"{o.error:g}"] for n, o in spec.observations.items()],
    ]
    return _section(
        "model",
        f"<p><b>{_e(spec.name)}</b>: {_e(spec.header.description)}.</p>",
        card,
        "<h3>Priors</h3>",
        table(["parameter", "prior", "what it is", "posterior median (90%)"], rows),
        "<h3>Fixed by the spec</h3>",
        table(["setting", "value"], settings, numeric=(1,)),
    )


def _year_month(year: float) -> str:
    """A decimal year as the month it falls in.

    Examples
    --------
    >>> _year_month(2018.7917), _year_month(2016.01)
    ('2018-10', '2016-01')
    """
    whole = int(np.floor(year))
    return f"{whole}-{min(int((year - whole) * 12) + 1, 12):02d}"


def _posterior_text(values: Any, show: Callable[[float], str] = lambda v: f"{v:.3g}") -> str:
    """``median (low to high)``, the 90% equal-tailed interval, of draws."""
    lo, med, hi = np.quantile(np.asarray(values).ravel(), [0.05, 0.5, 0.95])
    return f"{show(med)} ({show(lo)} to {show(hi)})"


def _start_text(prior: Any) -> str:
    if prior.kind == "around":
        return f"around {prior.around}, normal sd {prior.sd_years:g} years"
    return f"{prior.kind} {getattr(prior, prior.kind)}, by a half-normal lead of scale {prior.scale_years:g} years"


def _dated_model_section(c: _Context) -> str:
    spec, inputs, post = c.spec, c.inputs, c.idata.posterior
    group = c.summary.study.words.group
    composition = inputs.form == "composition"
    fraction = (
        "π<sub>u</sub> = (1 − h<sub>u</sub>)·σ(η<sub>u</sub>) + h<sub>u</sub>·σ(η<sub>u</sub> + θ), h<sub>u</sub> "
        f"the unit's <code>{_e(inputs.covariate_name)}</code>: the covariate's group is collected at odds "
        "e<sup>θ</sup> times the others'"
        if composition
        else f"π<sub>u</sub> = σ(η<sub>u</sub> + θ·x<sub>u</sub>), x<sub>u</sub> the unit's standardised "
        f"<code>{_e(inputs.covariate_name)}</code>"
    )
    card = (
        f"<p>The full model card, with every prior's reason and every observation's source, is {_model_card_link(c)} "
        "(section 5). In short:</p><ul class=maths>"
        f"<li>Each of the {len(inputs.unit)} units u has a fraction of its residents counted once its campaign "
        f"saturates: {fraction}; η<sub>u</sub> = α + g<sub>j(u)</sub> + δ·r<sub>u</sub> + σ<sub>u</sub>·z<sub>u</sub>, "
        f"g<sub>j</sub> = σ<sub>g</sub>·w<sub>j</sub> for its {_e(group)} j, "
        "r<sub>u</sub> = 1 for a unit a local report counts alone, z and w standard normal.</li>"
        f"<li>Each {_e(group)}'s campaign starts at t0<sub>j</sub> and approaches saturation at pace r<sub>j</sub>: "
        "F<sub>j</sub>(t) = 1 − exp(−r<sub>j</sub>·ε·softplus((t − t0<sub>j</sub>)/ε)), "
        f"ε = {inputs.ramp_years:g} years.</li>"
        "<li>People sampled by t: C<sub>u</sub>(t) = π<sub>u</sub>·F<sub>j(u)</sub>(t)·N<sub>u</sub>, with "
        f"N<sub>u</sub> = P<sub>u</sub>·exp({spec.population.census_error:g}·e<sub>u</sub>) the census count with "
        "error (times the uplift λ where the spec gives one). The estimand is C(T) = Σ<sub>u</sub> C<sub>u</sub>(T) "
        f"at T = {_e(month_year(inputs.estimand_label))}; the share divides it by Σ<sub>u</sub> N<sub>u</sub>.</li>"
        + (
            "<li>A database's stock: D<sub>d</sub>(t) = b·N<sub>d</sub> + κ·Σ<sub>u in d</sub> C<sub>u</sub>(t).</li>"
            if inputs.database
            else ""
        )
        + "<li>Each observation is log-normal (logit-normal for a coverage) about what the model predicts for it "
        "at its date (an increment: between its two dates), with its reporting error; a bound contributes the "
        "probability of its side.</li></ul>"
    )
    rows = []
    for name, prior in spec.priors.items():
        if name == "pace":
            posterior = f"by {group}, below"
        elif name in post and post[name].ndim == 2:
            posterior = _posterior_text(post[name].values)
        else:
            posterior = "not in the fit"
        rows.append(
            [
                Html(f"<code>{_e(name)}</code>"),
                prior_text(prior),
                DATED_PARAMETER_MEANING.get(name, "").replace("prefecture", group),
                posterior,
            ]
        )
    for ell, (name, uplift) in enumerate(spec.population.uplift.items()):
        rows.append(
            [
                Html(f"<code>log_uplift[{_e(name)}]</code>"),
                f"Normal({uplift.log_uplift.get('mu', 0.0):g}, {uplift.log_uplift.get('sigma', 1.0):g})",
                DATED_PARAMETER_MEANING["log_uplift"] + f" ({_places(uplift.areas, c.data)})",
                _posterior_text(np.log(post["uplift"].values[..., ell])),
            ]
        )
    campaign = []
    for j, group in enumerate(inputs.group):
        start = spec.campaign.start.get(group, spec.campaign.start["default"])
        campaign.append(
            [
                c.data.place_name(group),
                _start_text(start),
                _posterior_text(post["start"].values[..., j], _year_month),
                _posterior_text(post["pace"].values[..., j], lambda v: f"{v:.2f}"),
                _posterior_text(post["progress"].values[..., j], lambda v: f"{v:.0%}"),
            ]
        )
    settings = [
        ["estimand date", spec.estimand.date],
        ["covariate, form", f"{inputs.covariate_name}, {inputs.form}"],
        ["fixed logit offset of the units no report counts alone", f"{spec.fraction.unreported_offset:g}"],
        ["campaign ramp ε (years)", f"{inputs.ramp_years:g}"],
        ["census error (log sd)", f"{spec.population.census_error:g}"],
    ]
    return _section(
        "model",
        f"<p><b>{_e(spec.name)}</b>: {_e(spec.header.description)}.</p>",
        card,
        "<h3>Priors</h3>",
        "<p>Each prior as the spec states it, beside its posterior median and 90% equal-tailed interval.</p>",
        table(["parameter", "prior", "what it is", "posterior median (90%)"], rows),
        f"<h3>The campaign, by {_e(group)}</h3>",
        f"<p>Each {_e(group)}'s start prior, and the posterior of its start, its pace "
        f"(prior {_e(prior_text(spec.priors['pace']))} per year) and how far its campaign had come by "
        f"{_e(month_year(inputs.estimand_label))} (F<sub>j</sub>(T), 100% at saturation).</p>",
        table([group, "start prior", "start", "pace (per year)", "progress by the estimand date"], campaign),
        "<h3>Fixed by the spec</h3>",
        table(["setting", "value"], settings, numeric=(1,)),
    )


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
        _values(check.low, check.high),
        f"{check.pit:.2f}",
        last,
        check.inside if passed is None else passed,
    ]


def _fit_section(c: _Context) -> str:
    d = c.summary.diagnostics
    attrs = c.idata.attrs
    verdict = (
        "<p><b>Every gate passed</b>: "
        if d.passed
        else f'<p class="warning"><b>The fit failed its gates</b> ({_e("; ".join(d.failures))}), '
        "so nothing here is fit to cite: "
    )
    verdict += (
        f"{d.divergences} divergent transitions (gate: 0), largest R-hat {d.max_rhat:.4f} ({_e(d.max_rhat_variable)}; "
        f"gate: ≤ 1.01, checked on every variable), smallest bulk ESS {_count(d.min_ess_bulk)} and tail ESS "
        f"{_count(d.min_ess_tail)} (gate: ≥ 400).</p>"
    )
    gates = [
        [r.name, f"{r.rhat:.4f}", _count(r.ess_bulk), _count(r.ess_tail), "ok" if r.passed else "FAIL", r.passed]
        for r in d.rows
    ]
    checks = [_check_row(ch, "inside" if ch.inside else "outside") for ch in c.checks]
    inside = sum(ch.inside for ch in c.checks)
    parts = [
        f"<p>{d.chains} chains of {d.draws:,} draws after {_e(attrs.get('tune'))} tuning steps, sampler "
        f"{_e(attrs.get('sampler'))}, target acceptance {_e(attrs.get('target_accept'))}, "
        f"seed {_e(attrs['seed'])}.</p>",
        verdict,
        table(["quantity", "R-hat", "ESS bulk", "ESS tail", "gate"], gates, numeric=(1, 2, 3), fail_column=5),
        _fig(c, "rank"),
        _fig(c, "parameters"),
        "<h3>Posterior predictive checks</h3>",
        f"<p>Each {'observation' if c.dated else 'observation and within-county row'} against its posterior "
        f"predictive distribution: {inside} of {len(c.checks)} are consistent with their 90% interval (a bound, ≥ or "
        "≤, when its side of the interval allows it). The PIT is the share of predictive draws at or below the "
        "observation (a bound's is its mid-PIT); values near 0 or 1 mean the model cannot reproduce it.</p>",
        table(
            ["observation", "observed", "predicted median", "90% interval", "PIT", ""],
            checks,
            numeric=(1, 2, 3, 4),
            fail_column=6,
        ),
    ]
    if c.loo is None:
        parts.append(
            f'<p class="warning">No leave-one-out check{" and no forecast" if c.dated else ""}: the fit was made '
            "with <code>--no-loo</code>.</p>"
        )
    else:
        loo_rows = [_check_row(ch, _count(ch.total_median or 0)) for ch in c.loo]
        outside = [ch.observation for ch in c.loo if not ch.inside]
        verdict_loo = (
            f"{', '.join(outside)} {'falls' if len(outside) == 1 else 'fall'} outside the interval predicted without "
            "it: the other observations do not predict it, so the estimate leans on it. "
            if outside
            else "Every observation is predicted by the others. "
        )
        how = "left out of the likelihood" if c.dated else "its reporting error made uninformative"
        headers = ["left out", "observed", "predicted median", "90% interval", "PIT", "total without it"]
        if c.dated:  # the exact leave-one-out log predictive density of each, from its refit's draws
            loo_rows = [[*row[:6], f"{ch.lpd:.2f}", row[6]] for row, ch in zip(loo_rows, c.loo, strict=True)]
            headers.append("log predictive density")
        draws = c.idata.attrs.get("leave_one_out_draws")
        parts += [
            "<h3>Leave one observation out</h3>",
            f"<p>The model is refitted without each observation in turn ({how}), and predicts it from the others"
            f"{f' ({_e(draws)} draws per chain)' if draws else ''}. {_e(verdict_loo)}The column after the PIT shows "
            "how the total moves without it.</p>",
            table(headers, loo_rows, numeric=range(1, len(headers)), fail_column=len(headers)),
        ]
    if c.forecasts is not None:
        parts += _forecast_parts(c)
    parts.append(_fig(c, "predictive"))
    pc = c.prior
    bounded = (
        f"{_range(pc.forward[0], pc.forward[-1])}; the thesis is data here, not a separate bound, so there is "
        "nothing else to weigh the prior by. "
        if c.dated
        else f"{_range(pc.forward[0], pc.forward[-1])} without the thesis bound, "
        f"{_range(pc.constrained[0], pc.constrained[-1])} with it. "
    )
    parts += [
        "<h3>Prior predictive check</h3>",
        f"<p>What the priors alone say about the total, before the counts: 1–99% range {bounded}"
        + (
            "That spans a few thousand samples to the whole population, as a weakly informative prior should."
            if pc.plausible
            else "<b>That is outside a few thousand to the whole population: check the priors.</b>"
        )
        + "</p>",
        _fig(c, "prior"),
    ]
    return _section("fit", *parts)


def _forecast_parts(c: _Context) -> list[str]:
    """The forecasts forward in time: refits on what was published by a date, and what they predicted."""
    parts = [
        "<h3>Forecasts forward in time</h3>",
        "<p>The spec's forecast checks (<code>dnamodel forecast-check</code>): each refits the model on the "
        "observations published by a date and predicts those that came later. A row is marked when its PIT lies "
        f"outside ({dated_checks.PIT_LIMITS[0]:g}, {dated_checks.PIT_LIMITS[1]:g}): the model, fitted to the past, "
        "did not see the later figure coming. The last column is the total that refit estimates.</p>",
    ]
    for forecast in c.forecasts or []:
        rows = [_check_row(ch, _count(ch.total_median or 0), dated_checks.passes(ch)) for ch in forecast.checks]
        parts += [
            f"<h4>From the data published by {_e(forecast.data_to)} ({len(forecast.used)} observations)</h4>",
            f'<p class="note">Fitted to: {_e(", ".join(forecast.used))}.</p>',
            table(
                ["predicted", "observed", "forecast median", "90% interval", "PIT", "total then"],
                rows,
                numeric=(1, 2, 3, 4, 5),
                fail_column=6,
            ),
        ]
    return parts


# --- 5. prefectures --------------------------------------------------------------------------------


def _prefecture_section(c: _Context) -> str:
    words = c.summary.study.words
    group, unit = words.group, words.unit
    rows = [
        [p.name, _count(p.population), _count(p.median), _range(p.low, p.high), _pct(p.share_median)]
        for p in c.summary.prefectures
    ]
    if c.dated:
        intro = (
            f"<p>Each {_e(group)}'s people counted by {_e(month_year(c.inputs.estimand_label))} (posterior median and "
            f"90% equal-tailed interval) and its median share of the census population. A {_e(group)} no figure "
            f"counts is estimated from its units' {_e(c.inputs.covariate_label or c.inputs.covariate_name)}, the "
            f"spread between {_e(group)}s and units, and its campaign's start prior alone, within the total the "
            "database figures allow; its interval is wide.</p>"
        )
        figures = [_fig(c, "forest"), _fig(c, "covariate"), "<h3>The campaign over time</h3>", _fig(c, "campaign")]
    else:
        intro = (
            f"<p>Each {_e(group)}'s collected total (posterior median and 90% equal-tailed interval) and its median "
            f"share of the census population. A {_e(group)} without an observation is estimated from the covariate's "
            "relation and the spread between units alone, so its interval is wide.</p>"
        )
        figures = [_fig(c, "forest"), _fig(c, "fraction")]
    headers = [group, "population", "people counted, median" if c.dated else f"{unit}, median"]
    return _section(
        "prefectures",
        intro,
        table([*headers, "90% interval", "share"], rows, numeric=(1, 2, 3, 4)),
        *figures,
        group=group,
    )


# --- 6. sensitivity --------------------------------------------------------------------------------


def _sensitivity_section(c: _Context) -> str:
    parts = ["<h3>Power-scaling</h3>"]
    if c.scaling is None:
        why = (
            "the fit was saved without the log-prior and log-likelihood groups every dated fit has"
            if c.dated
            else "the fit was made without <code>--sensitivity</code>, so it has no log-prior and log-likelihood groups"
        )
        parts.append(f'<p class="warning">Not computed: {why}. <code>dnamodel report</code> fits with them.</p>')
    else:
        ps = c.scaling
        rows = [[r.quantity, f"{r.prior:.3f}", f"{r.likelihood:.3f}", r.diagnosis] for r in ps.rows]
        terms = (
            "each on its parameter's own scale; the standard-normal group, unit and census effects are the model's "
            "structure and are not scaled"
            if c.dated
            else "the top-level priors"
        )
        thesis = "every observation, the thesis's database figures among them" if c.dated else "the thesis bound too"
        parts += [
            "<p>How much each quantity's posterior moves when the priors, or the likelihood, are raised to a power "
            f"near 1 (psens: cumulative Jensen-Shannon distance per unit log<sub>2</sub> of the power; flagged at "
            f"{ps.threshold:g}; Kallioinen et al. 2024), read from the fit's saved log densities without a refit. "
            "A high prior sensitivity with a low likelihood sensitivity means the data say little about it; both "
            "high means the prior and the data disagree.</p>",
            table(["quantity", "prior", "likelihood", "diagnosis"], rows, numeric=(1, 2)),
            f'<p class="note">Prior terms ({terms}): {_e(", ".join(ps.prior_terms))}. Likelihood terms '
            f"({thesis}): {_e(', '.join(ps.likelihood_terms))}.</p>",
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
                    f"The total leans most on <code>{_e(max(ps['total'].by_prior, key=ps['total'].by_prior.get))}"
                    "</code>. "
                    if "total" in ps.quantities
                    else ""
                )
                + f"The largest is {leaning[0][1]}'s on <code>{_e(leaning[0][2])}</code> ({leaning[0][0]:.3f}).</p>",
                table(["quantity", *ps.prior_terms], each, numeric=range(1, len(ps.prior_terms) + 1)),
            ]
    parts.append("<h3>The shipped sweeps</h3>")
    if c.sweeps_dir is None:
        parts.append("<p>Left out of this report (<code>--no-sweeps</code>).</p>")
    elif not c.sweeps:
        parts.append(
            f'<p class="warning">No sweep results in <code>{_e(c.sweeps_dir)}</code>: run <code>make sweeps</code> '
            "(or <code>dnamodel sweep --shipped</code>) and draw the report again.</p>"
        )
    else:
        parts.append(
            "<p>Each shipped sweep in <code>models/sweeps/</code> refits the model with one assumption changed, "
            "every other setting as in the spec and the same seed.</p>"
        )
        others = [s.name for s in c.sweeps if s not in _of_fit_model(c.sweeps, c.idata.attrs)]
        if others:
            parts.append(
                f'<p class="note">{_e(", ".join(others))} {"sweeps" if len(others) == 1 else "sweep"} another model '
                f"than this fit's {_e(c.idata.attrs.get('model'))}: listed below and marked stale, but left out of the "
                "chart, which sets each assumption against this fit's own interval.</p>"
            )
        parts.append(_fig(c, "tornado"))
        for s in c.sweeps:
            paths = list(s.result["total_median"].dims)
            headers = [*paths, "median", "90% interval", "share"]
            if "passed" in s.result:
                headers += ["divergences", "max R-hat", "min ESS", "gates"]
            stale = f' <span class="warning">Stale: {_e(s.stale)}.</span>' if s.stale else ""
            parts += [
                f"<h4>{_e(s.title)}</h4>",
                f'<p class="note"><code>{_e(s.path)}</code>, model {_e(s.result.attrs.get("model"))}, '
                f"{_e(s.result.attrs.get('draws'))} draws × {_e(s.result.attrs.get('chains'))} chains.{stale}</p>",
                table(headers, table_rows(s.result), numeric=range(len(paths), len(headers))),
            ]
        if c.missing_sweeps:
            parts.append(f'<p class="note">Not run yet: {_e(", ".join(c.missing_sweeps))}.</p>')
    return _section("sensitivity", *parts)


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


def default_commands(attrs: dict[str, Any], fit_path: Path, report_path: Path) -> list[str]:
    """The commands that remake a fit from scratch and draw its report."""
    model = attrs.get("spec_path") or attrs.get("model")
    name = Path(str(model)).stem if str(model).endswith(".toml") else model
    shipped = MODELS_DIR / f"{name}.toml"
    target = name if shipped.is_file() and Path(str(model)).resolve() == shipped.resolve() else model
    flags = f"--seed {attrs['seed']} --draws {attrs['draws']} --tune {attrs.get('tune')} --chains {attrs['chains']}"
    loo = "" if attrs.get("leave_one_out_json") else " --no-loo"
    location = str(attrs.get("data_location", "bundled"))
    data = "" if location == "bundled" else f" --data {location}"
    return [
        f"dnamodel estimate {target} {flags}{loo} --sensitivity{data} --out {fit_path.parent}",
        *(["make sweeps"] if not data else []),
        f"dnamodel report --from {fit_path}{data} --out {report_path}",
    ]


def _reproduce_section(c: _Context) -> str:
    attrs = c.idata.attrs
    commands = default_commands(attrs, c.source, c.target)
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
        ["fit", str(c.source)],
        ["fit timings (s)", ", ".join(f"{k} {v:.1f}" for k, v in timings.items()) or "not recorded"],
    ]
    return _section(
        "reproduce",
        "<p>The same seed, spec and data give the same numbers. From a clone of dnamodel:</p>",
        "<pre>" + _e("\n".join(commands)) + "</pre>",
        table(["", ""], record),
        "<h3>Versions</h3>",
        table(["package", "in the fit", "drawing this report"], _versions(attrs)),
        "<details><summary>The spec, as fitted</summary><pre>" + _e(attrs["spec"]) + "</pre></details>",
    )
