"""Summaries → figures: PNG files drawn with matplotlib's Agg canvas.

Figures are built on a :class:`matplotlib.figure.Figure` of their own, never
through ``pyplot``'s global state, rendered to memory and written with
:func:`dnamodel.files.atomic_write_bytes`, so a reader never sees half a file.
Each PNG carries its title and caption as metadata (``Title``, ``Description``).

- Monte Carlo: :func:`tornado_plot`.
- A fit: :func:`total_posterior_plot`, :func:`prior_predictive_plot`; the hierarchical
  model's :func:`fraction_plot`, the dated model's :func:`campaign_plot` and
  :func:`covariate_plot`; for the report also :func:`rank_plot`, :func:`parameter_plot`
  and :func:`forest_plot`, drawn by ArviZ into axes made here (``ax=``), and
  :func:`predictive_plot`.
- Sweeps: :func:`sweep_line_plot`, :func:`sweep_tornado_plot`.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.casestudy.tibet2022 import GroupMarks
from dnamodel.checks.gates import GATED
from dnamodel.checks.powerscale import is_dated
from dnamodel.data.study import NEUTRAL, Study
from dnamodel.errors import UsageError
from dnamodel.files import atomic_write_bytes
from dnamodel.inference.dated import DATABASE_KIND, collected, constrain, database_stock
from dnamodel.inference.sampling import quiet_arviz
from dnamodel.montecarlo.sensitivity import TornadoRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib and ArviZ are imported in the functions that draw: the command line imports this module
# at start-up, and `dnamodel replicate` or `mc` without --tornado should not wait for them.

LOW_COLOUR = "#4c72b0"
HIGH_COLOUR = "#dd8452"
DPI = 150
CAPTION_WIDTH = 150  # characters a caption line holds at the figure's width and font size
DEFAULT_CAPTION = (
    "Each bar: the total with one input moved from its low value (blue) to its high value (orange), "
    "every other input at its median (the solid line). Dashed lines: the figures the study sets the total against."
)


def _value_text(value: float, label: str | None) -> str:
    return label if label is not None else f"{value:,.4g}"


def tornado_plot(
    rows: Sequence[TornadoRow],
    baseline: float,
    path: str | Path,
    *,
    title: str,
    study: Study | None = None,
    caption: str = DEFAULT_CAPTION,
) -> Path:
    r"""Draw a tornado plot of ``total`` and write it as a PNG file.

    Parameters
    ----------
    rows : sequence of TornadoRow
        From :func:`dnamodel.montecarlo.sensitivity.tornado`; drawn in the order given, the
        first at the top.
    baseline : float
        The total with every input at its median (in the study's unit), drawn as a
        solid line where the bars meet.
    path : str or Path
        The PNG file to create or replace; its folder must exist and its name must
        end in ``.png``.
    title : str
        The figure's title.
    study : Study, optional
        The study (``Dataset.study``): its comparison figures are drawn as dashed vertical
        lines and its unit labels the axis. None: no lines, neutral words.
    caption : str
        A note under the axis, saying what a bar is.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png``, the folder does not exist, or the
        path is a folder.

    Examples
    --------
    >>> import tempfile
    >>> from dnamodel.montecarlo.sensitivity import tornado
    >>> from dnamodel.spec import load_model
    >>> result = tornado(load_model("report_uniform"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = tornado_plot(result.rows, result.baseline, Path(folder) / "t.png", title="report_uniform")
    ...     written.read_bytes()[:4]
    b'\x89PNG'
    """
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise UsageError(f"{target}: a tornado plot is a PNG file; give a name ending in .png")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name ending in .png")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent}: no such folder")

    figure = _figure(9, 2.2 + 0.55 * max(len(rows), 1))
    axes = figure.add_subplot()
    positions = range(len(rows) - 1, -1, -1)  # the largest swing at the top
    for position, row in zip(positions, rows, strict=True):
        ends = [
            (row.total_at_low, _value_text(row.low_value, row.low_label), LOW_COLOUR),
            (row.total_at_high, _value_text(row.high_value, row.high_label), HIGH_COLOUR),
        ]
        for total, _, colour in ends:
            axes.barh(position, total - baseline, left=baseline, height=0.6, color=colour)
        # the smaller total's value goes left of the bar, the larger's right of it, so the two never overlap
        (left_total, left_text, _), (right_total, right_text, _) = sorted(ends, key=lambda end: end[0])
        for total, text, offset, align in ((left_total, left_text, -4, "right"), (right_total, right_text, 4, "left")):
            x = min(total, baseline) if align == "right" else max(total, baseline)
            axes.annotate(
                text, (x, position), xytext=(offset, 0), textcoords="offset points", ha=align, va="center", fontsize=7
            )
    # lines are labelled where they meet the top of the plot: a legend would cover bars or the caption
    lines = [(baseline, "baseline", {"color": "black", "linestyle": "-"})]
    study = study or NEUTRAL
    source = study.comparisons.source if study.comparisons is not None else ""
    lines += [(estimate, source, {"color": "grey", "linestyle": "--"}) for estimate, _ in study.marks()]
    for x, name, style in lines:
        axes.axvline(x, linewidth=1, **style)
        axes.text(
            x, 1.01, f"{name}\n{x:,.0f}", transform=axes.get_xaxis_transform(), ha="center", va="bottom", fontsize=7
        )
    axes.set_yticks(list(positions), [row.input for row in rows])
    axes.set_xlabel(f"{study.words.counted} ({study.words.unit})")
    _count_axis(axes.xaxis)
    axes.margins(x=0.3)  # room for the value labels at the bar ends
    axes.set_title(title, pad=26)
    figure.supxlabel(textwrap.fill(caption, CAPTION_WIDTH), x=0.01, ha="left", fontsize=7)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Title": title, "Description": caption})
    atomic_write_bytes(target, buffer.getvalue())
    return target


# --- the hierarchical model's figures --------------------------------------------------------------


def _figure(width: float = 8.0, height: float = 4.8) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # deferred: start-up time
    from matplotlib.figure import Figure  # deferred: start-up time

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


_CAPTION_DRAWN = contextvars.ContextVar("caption_drawn", default=True)


@contextlib.contextmanager
def captions_beside() -> Iterator[None]:
    """Within this block, figures keep their caption in the PNG's metadata but do not draw it.

    For a page that prints each caption beside its figure (the HTML report), so a reader does
    not read it twice. Title and caption stay in the file's ``Title`` and ``Description``.

    Examples
    --------
    >>> with captions_beside():
    ...     _CAPTION_DRAWN.get()
    False
    >>> _CAPTION_DRAWN.get()
    True
    """
    token = _CAPTION_DRAWN.set(False)
    try:
        yield
    finally:
        _CAPTION_DRAWN.reset(token)


def _save(figure: Figure, path: str | Path, title: str, caption: str) -> Path:
    """Caption the figure, render it and write the PNG atomically."""
    target = _png_target(path)
    if _CAPTION_DRAWN.get():
        # a caption line holds CAPTION_WIDTH characters up to 8.5 inches wide, proportionally more beyond
        width = max(CAPTION_WIDTH, int(CAPTION_WIDTH * figure.get_figwidth() / 8.5))
        figure.supxlabel(textwrap.fill(caption, width), x=0.01, ha="left", fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Title": title, "Description": caption})
    atomic_write_bytes(target, buffer.getvalue())
    return target


def _count_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter  # deferred: start-up time

    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))


def _mark_comparisons(axes: Any, study: Study | None) -> None:
    """The study's marked comparison figures as dashed vertical lines, each labelled above the plot."""
    marks = (study or NEUTRAL).marks()
    # neighbouring figures sit close on a wide axis: labels alternate to the left and to the right of their line
    for i, (x, name) in enumerate(marks):
        align = "center" if len(marks) == 1 else ("right", "left")[i % 2]
        axes.axvline(x, color="grey", linestyle="--", linewidth=1)
        axes.text(x, 1.01, f"{name}\n{x:,.0f}", transform=axes.get_xaxis_transform(), ha=align, va="bottom", fontsize=7)


def _compared(study: Study | None, what: str = "Dashed lines") -> str:
    """The caption's sentence on the dashed lines, or nothing when the study marks no figure."""
    study = study or NEUTRAL
    marks = study.marks()
    if not marks:
        return ""
    names = " and ".join(label for _, label in marks)
    return f" {what}: {names}."


def _words(summary: Any) -> Study:
    return getattr(summary, "study", None) or NEUTRAL


def total_posterior_plot(idata: Any, summary: Any, path: str | Path) -> Path:
    """The posterior of the region's total, its 90% and 95% intervals, and the study's comparison figures.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit (:func:`dnamodel.fit`).
    summary : Summary
        Its summary (:func:`dnamodel.summarize_fit`), which gives the intervals and the study's words.
    path : str or Path
        The PNG file to create or replace; its folder must exist.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> total_posterior_plot(idata, dnamodel.summarize_fit(idata), "total.png").name
    'total.png'
    """
    from arviz import kde  # deferred: start-up time

    total = idata.posterior["total"].values.ravel()
    figure = _figure()
    axes = figure.add_subplot()
    axes.hist(total, bins=70, density=True, color=LOW_COLOUR, alpha=0.4, label="posterior draws (histogram)")
    grid, density = kde(total)
    axes.plot(grid, density, color=LOW_COLOUR, linewidth=1.5, label="posterior density (kernel estimate)")
    # the two intervals as stacked bars at the foot, 95% below 90%, each labelled at its right end
    for prob, (bottom, top), colour in ((0.95, (0.0, 0.045), "#5a5a5a"), (0.9, (0.05, 0.095), LOW_COLOUR)):
        interval = summary.total.interval(prob)
        axes.axvspan(interval.low, interval.high, ymin=bottom, ymax=top, color=colour, alpha=0.85)
        axes.text(
            interval.high,
            (bottom + top) / 2,
            f" {prob:.0%}: {interval.low:,.0f} to {interval.high:,.0f}",
            transform=axes.get_xaxis_transform(),
            fontsize=7,
            va="center",
        )
    axes.set_ylim(bottom=-0.12 * density.max())  # room for the interval bars below the density
    axes.legend(fontsize=7, loc="upper right")
    axes.axvline(summary.total.median, color="black", linewidth=1.2)
    axes.text(
        summary.total.median,
        0.95,
        f" median {summary.total.median:,.0f}",
        transform=axes.get_xaxis_transform(),
        fontsize=7,
    )
    study = _words(summary)
    _mark_comparisons(axes, study)
    axes.set_xlabel(f"{study.title(idata.attrs.get('estimand_date'))} ({study.words.unit})")
    axes.set_ylabel("posterior density")
    _count_axis(axes.xaxis)
    axes.set_yticks([])
    title = f"Total for {study.words.place}: posterior of {summary.model}"
    axes.set_title(title, pad=26)
    i90, i95 = summary.total.interval(0.9), summary.total.interval(0.95)
    caption = (
        f"Histogram and kernel density of {total.size:,} posterior draws of the total. Black line: median "
        f"{summary.total.median:,.0f}. Bars at the foot: the 90% (blue, {i90.low:,.0f} to {i90.high:,.0f}) and 95% "
        f"(grey, {i95.low:,.0f} to {i95.high:,.0f}) equal-tailed credible intervals." + _compared(study)
    )
    return _save(figure, path, title, caption)


def fraction_plot(idata: Any, inputs: Any, path: str | Path) -> Path:
    """Each unit's collection fraction against its covariate, with observations and the fitted curve."""
    post = idata.posterior
    fraction = post["fraction"].values.reshape(-1, len(inputs.unit))
    lo, med, hi = np.quantile(fraction, [0.05, 0.5, 0.95], axis=0)
    han = inputs.han_share
    figure = _figure(8.5, 5.2)
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
    axes.set_title(title)
    caption = (
        f"Dots: each of the {len(inputs.unit)} units' posterior median fraction with its 90% credible interval. "
        "Diamonds: each observation's count over its units' census population; an observation over several units "
        "sits at their population-weighted covariate. Line and band: the fitted centre of the fraction distribution, "
        "without the unit's own deviation. Where the spec uplifts a population for temporary residents, the count "
        "includes them, so its diamond exceeds the census-based fraction."
    )
    return _save(figure, path, title, caption)


def prior_predictive_plot(
    idata: Any, check: Any, path: str | Path, *, study: Study | None = None, stocks: Sequence[tuple[float, str]] = ()
) -> Path:
    """The prior distribution of the total, on a log scale, without and with the thesis constraint.

    ``stocks`` are database figures the data print, ``(value, label)``, drawn as dotted lines
    beside the census population; the study's comparison figures are dashed lines.
    """
    study = study or NEUTRAL
    total = idata.prior["total"].values.ravel()
    figure = _figure()
    axes = figure.add_subplot()
    bins = np.logspace(np.log10(max(total.min(), 1.0)), np.log10(total.max() * 1.01), 80)
    bounded = check.constrained != check.forward
    label = "prior, forward draws (no thesis bound)" if bounded else "prior, forward draws"
    axes.hist(total, bins=bins, color=LOW_COLOUR, alpha=0.5, label=label)
    axes.set_xscale("log")
    for x, name in ((check.population, "census population"), *stocks):
        axes.axvline(x, color="black", linestyle=":", linewidth=1)
        # along the line, so the labels clear the report's estimates labelled above the plot
        axes.text(
            x,
            0.5,
            f"{name} {x:,.0f} ",
            transform=axes.get_xaxis_transform(),
            fontsize=7,
            rotation=90,
            ha="right",
            va="center",
        )
    _mark_comparisons(axes, study)
    lo, hi = check.constrained[0], check.constrained[-1]
    if bounded:
        axes.axvspan(lo, hi, ymin=0, ymax=0.04, color=HIGH_COLOUR, label="98% range with the thesis bound")
    axes.set_xlabel(f"total for {study.words.place} under the prior ({study.words.unit}, log scale)")
    axes.set_ylabel("prior draws per bin")
    _count_axis(axes.xaxis)
    axes.legend(fontsize=7, loc="upper left")
    title = "Prior predictive check: the total before seeing the data"
    axes.set_title(title, pad=26)
    caption = (
        f"Forward draws from the priors. Without the thesis bound the prior's 1-99% range is "
        f"{check.forward[0]:,.0f} to {check.forward[-1]:,.0f}; weighting each draw by the thesis factor gives "
        f"{lo:,.0f} to {hi:,.0f} (orange band). A plausible prior spans a few thousand to the whole population."
        if bounded
        else f"Forward draws from the priors: the prior's 1-99% range of the total is {check.forward[0]:,.0f} to "
        f"{check.forward[-1]:,.0f}. A plausible prior spans a few thousand people to the whole population."
    )
    return _save(figure, path, title, caption)


def stocks(inputs: Any) -> list[tuple[float, str]]:
    """The database stocks a model is fitted to or bounded by, ``(value, label)``, for the prior predictive plot.

    A dated model's database observations that are not increments; a hierarchical model's thesis stock.
    """
    if hasattr(inputs, "database_index"):
        return [
            (float(inputs.value[k]), f"{inputs.observation[k]}: database")
            for k in np.flatnonzero(inputs.kind == DATABASE_KIND)
            if np.isnan(inputs.since[k])
        ]
    return [(float(inputs.stock), "thesis: database")] if getattr(inputs, "thesis", False) else []


# --- the dated model ---------------------------------------------------------------------------------

CURVE_DRAWS = 1000
"""Posterior draws the time curves are computed from (thinned evenly from the fit's)."""


def _dated_draws(idata: Any, inputs: Any) -> dict[str, np.ndarray]:
    """Constrained quantities of an even thinning of the posterior's unconstrained draws."""
    x = idata.posterior["unconstrained"].values
    flat = x.reshape(-1, x.shape[-1])
    step = max(1, flat.shape[0] // CURVE_DRAWS)
    return constrain(flat[::step], inputs)


def campaign_plot(idata: Any, inputs: Any, path: str | Path) -> Path:
    """Cumulative collection over time: the total and each database's stock, with the dated figures."""
    q = _dated_draws(idata, inputs)
    first = min(float(inputs.start_anchor.min()) - 1.0, float(np.nanmin(inputs.date)) - 0.5)
    grid = np.linspace(first, inputs.estimand_date + 0.25, 120)
    total = np.stack([collected(q, inputs, t).sum(axis=1) for t in grid], axis=1)
    figure = _figure(9.0, 5.4)
    axes = figure.add_subplot()
    for band, alpha in ((0.9, 0.18), (0.5, 0.3)):
        lo, hi = np.quantile(total, [(1 - band) / 2, (1 + band) / 2], axis=0)
        axes.fill_between(grid, lo, hi, color=LOW_COLOUR, alpha=alpha, linewidth=0, label=f"{band:.0%} interval")
    axes.plot(grid, np.median(total, axis=0), color=LOW_COLOUR, linewidth=1.6, label="people counted, C(t), median")
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
    axes.set_xlabel("year")
    axes.set_ylabel("cumulative count (people)")
    _count_axis(axes.yaxis)
    axes.legend(fontsize=7, loc="upper left")
    title = f"Collection over time under {idata.attrs.get('model', 'the model')}"
    axes.set_title(title)
    caption = (
        "Solid line and bands: the posterior median and 50%/90% intervals of everyone sampled by each date, the sum "
        "over units of fraction × campaign progress × population. Dashed: each database's stock, profiles held before "
        "the campaign plus the typed share of what was collected. Diamonds: the database stocks the sources print."
    )
    return _save(figure, path, title, caption)


def covariate_plot(idata: Any, inputs: Any, path: str | Path) -> Path:
    """Each unit's fraction at saturation against its covariate, with the units a report counts marked."""
    fraction = idata.posterior["fraction"].values.reshape(-1, len(inputs.unit))
    lo, med, hi = np.quantile(fraction, [0.05, 0.5, 0.95], axis=0)
    x = inputs.covariate_raw * (100 if inputs.form == "composition" else 1)
    figure = _figure(8.5, 5.2)
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
    axes.set_title(title)
    caption = (
        "Each unit's fraction π at saturation (posterior median and 90% interval) against its covariate. In the "
        "composition form the covariate is the share of residents collected at a different rate (odds ratio exp θ). "
        "Diamonds: the units a local report counts, which carry the reported-unit offset δ."
    )
    return _save(figure, path, title, caption)


def comparison_plot(result: Any, path: str | Path, *, study: Study | None = None) -> Path:
    """Each model's total as a row (median, 50% and 90% intervals), the stacked total and the comparison figures."""
    models = list(result.models)
    rows = [(m.name, m.median, m.intervals[0.5], m.intervals[0.9]) for m in models]
    if result.stacking is not None:
        s = result.stacking
        rows.append((f"stacked ({', '.join(f'{w:.2f}' for w in s.weights)})", s.total_median, None, s.total_interval))
    figure = _figure(8.5, 1.2 + 0.45 * len(rows))
    axes = figure.add_subplot()
    for i, (name, median, fifty, ninety) in enumerate(rows):
        y = len(rows) - 1 - i
        colour = HIGH_COLOUR if name.startswith("stacked") else LOW_COLOUR
        axes.plot(ninety, (y, y), color=colour, linewidth=1.2)
        if fifty is not None:
            axes.plot(fifty, (y, y), color=colour, linewidth=4)
        axes.plot([median], [y], "o", color="black", markersize=4)
    axes.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)], fontsize=7)
    _mark_comparisons(axes, study)
    _count_axis(axes.xaxis)
    axes.set_xlabel(f"total ({(study or NEUTRAL).words.unit})")
    title = "The total under each model, and stacked"
    axes.set_title(title, pad=26)
    caption = (
        "Each row: a model's posterior median (dot), 50% (thick) and 90% (thin) equal-tailed intervals. The "
        "stacked row mixes the models that share their data in the proportions given (stacking of their exact "
        "leave-one-out predictive densities)." + _compared(study)
    )
    return _save(figure, path, title, caption)


# --- sweeps ----------------------------------------------------------------------------------------


def grid_labels(values: Any) -> list[str]:
    """A sweep grid's values as labels: a whole table (its JSON) by the keys whose values differ across the grid.

    Examples
    --------
    >>> grid_labels(['{"units": ["a"], "error": 0.1}', '{"units": ["b"], "error": 0.1, "since": "2021"}'])
    ['units=["a"]', 'since=2021 units=["b"]']
    >>> grid_labels([0.5, 1.0])
    ['0.5', '1.0']
    """
    import json

    texts = [str(v) for v in values]
    try:
        tables = [json.loads(t) for t in texts]
    except ValueError:
        return texts
    if not all(isinstance(t, dict) for t in tables):
        return texts
    keys = sorted({k for t in tables for k in t})
    differing = [k for k in keys if len({json.dumps(t.get(k), ensure_ascii=False) for t in tables}) > 1]

    def shown(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return [" ".join(f"{k}={shown(t[k])}" for k in differing if k in t) or "(as the others)" for t in tables]


def sweep_line_plot(result: Any, path: str | Path, *, title: str, study: Study | None = None) -> Path:
    """A one-dimensional sweep: the total's median, 50% and 90% intervals at each grid value.

    Points that failed a convergence gate are crossed in red.

    Parameters
    ----------
    result : xarray.Dataset
        A sweep's result (:func:`dnamodel.sweep`) over one path.
    path : str or Path
        The PNG file to create or replace; its folder must exist.
    title : str
        The figure's title (a sweep's description, say).
    study : Study, optional
        The study's words and comparison figures (``Dataset.study``); by default neutral words.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> result = dnamodel.sweep(str(folder / "models" / "dated.toml"), {"fraction.unreported_offset": [-1.0, 0.0]},
    ...                         data=dnamodel.load_data(folder / "data"), draws=100, tune=100, chains=2)
    >>> sweep_line_plot(result, "offset.png", title="The offset of the reported units").name
    'offset.png'
    """
    axis = next(iter(result["total_median"].dims))
    labels = grid_labels(result[axis].values)
    x = np.arange(len(labels))
    figure = _figure()
    axes = figure.add_subplot()
    axes.fill_between(x, result["total_q05"], result["total_q95"], color="#9db4d8", alpha=0.6, label="90% interval")
    axes.fill_between(x, result["total_q25"], result["total_q75"], color=LOW_COLOUR, alpha=0.6, label="50% interval")
    axes.plot(x, result["total_median"], "o-", color="black", label="posterior median")
    if "passed" in result:
        failed = ~result["passed"].values.astype(bool)
        if failed.any():
            axes.plot(
                x[failed], result["total_median"].values[failed], "x", color="red", markersize=10, label="failed a gate"
            )
    words = study or NEUTRAL
    for y, name in words.marks():
        axes.axhline(y, color="grey", linestyle="--", linewidth=1)
        axes.text(x[-1], y, f" {name} {y:,.0f}", fontsize=7, va="bottom", ha="right")
    axes.set_xticks(x, labels, fontsize=8)
    axes.set_xlabel(f"{axis} (spec value)")
    axes.set_ylabel(f"total for {words.words.place} ({words.words.unit})")
    _count_axis(axes.yaxis)
    axes.legend(fontsize=7, loc="upper left")
    axes.set_title(title)
    caption = (
        f"Each point refits the model with {axis} set as on the axis, every other setting as in the spec, and the "
        "same seed. Line: the total's posterior median; bands: 50% and 90% equal-tailed intervals."
        + _compared(study, "Dashed")
    )
    return _save(figure, path, title, caption)


def sweep_tornado_plot(
    rows: Sequence[Any], reference: Any, path: str | Path, *, title: str, study: Study | None = None
) -> Path:
    """For each swept assumption, the total's median and 90% interval at its low and high setting.

    ``rows`` are :class:`dnamodel.outputs.sweep.TornadoRow`; ``reference`` is the default fit's
    ``(q05, median, q95)``, drawn as a band, or ``None``.

    Parameters
    ----------
    rows : sequence of TornadoRow
        One bar each: :func:`dnamodel.plots.tornado_rows` of one sweep or several.
    reference : tuple of float, or None
        The default fit's total ``(q05, median, q95)`` (:func:`dnamodel.plots.reference_interval`).
    path : str or Path
        The PNG file to create or replace; its folder must exist.
    title : str
        The figure's title.
    study : Study, optional
        The study's words and comparison figures (``Dataset.study``); by default neutral words.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> result = dnamodel.sweep(str(folder / "models" / "dated.toml"), {"fraction.unreported_offset": [-1.0, 0.0]},
    ...                         data=dnamodel.load_data(folder / "data"), draws=100, tune=100, chains=2)
    >>> from dnamodel.outputs.sweep import reference_interval, tornado_rows
    >>> sweep_tornado_plot(tornado_rows(result), reference_interval(result), "tornado.png", title="Quillmoor").name
    'tornado.png'
    """
    figure = _figure(10, 2.2 + 0.75 * max(len(rows), 1))
    axes = figure.add_subplot()
    positions = list(range(len(rows) - 1, -1, -1))
    if reference is not None:
        axes.axvspan(reference[0], reference[2], color="grey", alpha=0.18, label="default model, 90% interval")
        axes.axvline(reference[1], color="black", linewidth=1, label="default model, median")
    for position, row in zip(positions, rows, strict=True):
        for offset, (interval, setting, colour) in zip(
            (0.15, -0.15), ((row.low, row.low_label, LOW_COLOUR), (row.high, row.high_label, HIGH_COLOUR)), strict=True
        ):
            axes.plot([interval[0], interval[2]], [position + offset] * 2, color=colour, linewidth=3)
            axes.plot([interval[1]], [position + offset], "o", color="black", markersize=4)
            axes.annotate(
                setting if len(setting) <= 28 else setting[:27] + "…",
                (interval[2], position + offset),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize=7,
                va="center",
            )
    _mark_comparisons(axes, study)
    axes.set_yticks(positions, [textwrap.fill(row.label, 30) for row in rows], fontsize=8)
    axes.set_xlabel(f"total for {(study or NEUTRAL).words.place} ({(study or NEUTRAL).words.unit})")
    _count_axis(axes.xaxis)
    axes.margins(x=0.25)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_title(title, pad=26)
    caption = (
        "Each row is one swept assumption at its first (blue) and last (orange) setting, the label beside each bar: "
        "the bar is the total's 90% interval, the dot its median, every other setting as in the spec. Grey band: the "
        "default model's 90% interval." + _compared(study, "Dashed")
    )
    return _save(figure, path, title, caption)


# --- the report's diagnostic and check figures ----------------------------------------------------

PRIOR_COLOUR = "#9a9a9a"
LOO_COLOUR = "#c44e52"

PARAMETERS = (
    "alpha",
    "beta",
    "sigma",
    "log_uplift",
    "tau",
    "row_centre",
    "pace",
    "contrast",
    "group_sd",
    "unit_sd",
    "reported",
    "typed_share",
    "baseline_per_resident",
)
"""The scalar parameters, those a fit has, in the order the model card lists them: the hierarchical
model's (section 4.8), then the dated model's not already named (section 5; its α is the
hierarchical one's name with another meaning, and its pace is one per prefecture, not a scalar)."""

_SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "sigma": "σ",
    "log_uplift": "ℓ",
    "tau": "τ",
    "row_centre": "c_L",
    "pace": "p",
    "contrast": "θ",
    "group_sd": "σ_g",
    "unit_sd": "σ_u",
    "reported": "δ",
    "typed_share": "κ",
    "baseline_per_resident": "b",
    "total": "T",
    "share": "T / population",
}

_PARAMETER_AXES = {
    "alpha": "logit fraction at average Han share (logit scale)",
    "beta": "change in logit fraction per sd of Han share (logit per sd)",
    "sigma": "spread between units beyond Han share (logit scale, sd)",
    "log_uplift": "log of the uplift areas' resident uplift: their census base is multiplied by exp(ℓ) (log scale)",
    "tau": "spread between the within-county rows (logit scale, sd)",
    "row_centre": "centre of the within-county rows (logit scale)",
    "pace": "database growth against Jan–Jun 2020 (ratio)",
}

_DATED_PARAMETER_AXES = {
    "alpha": "logit fraction at saturation of an average unit's residents outside the covariate's group (logit)",
    "contrast": "θ: log odds ratio of the covariate's group (composition form), or logit per sd (linear form)",
    "group_sd": "spread between prefectures' logit fractions (logit scale, sd)",
    "unit_sd": "spread between units of one prefecture (logit scale, sd)",
    "reported": "offset of the units a local report counts (logit scale)",
    "typed_share": "share of collected samples typed into the database (0 to 1)",
    "baseline_per_resident": "profiles held before the campaign, per resident (per person)",
}


def _png_target(path: str | Path) -> Path:
    """The path, checked before any drawing: a ``.png`` name in a folder that exists."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise UsageError(f"{target}: a figure is a PNG file; give a name ending in .png")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name ending in .png")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent}: no such folder")
    return target


def _arviz() -> Any:
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    return az


@contextlib.contextmanager
def _arviz_on_new_matplotlib() -> Iterator[None]:
    # ArviZ 0.23's plot_posterior and plot_kde hand matplotlib's normalize_kwargs an alias dict,
    # deprecated in matplotlib 3.11; it is ArviZ's call to change, and nothing here passes aliases.
    from matplotlib import MatplotlibDeprecationWarning  # deferred: start-up time

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Passing a dict or None as alias_mapping",
            category=MatplotlibDeprecationWarning,
            module=r"arviz(\..*)?$",
        )
        yield


def _scalars(group: Any, names: Sequence[str]) -> list[str]:
    """The names that ``group`` holds as one value per draw (dims ``chain``, ``draw`` only)."""
    return [name for name in names if name in group and group[name].ndim == 2]


def _grid(figure: Figure, panels: int, columns: int) -> list[Any]:
    """``panels`` axes in rows of ``columns``; the grid's unused cells are left empty."""
    rows = -(-panels // columns)
    return [figure.add_subplot(rows, columns, k + 1) for k in range(panels)]


def rank_plot(idata: Any, path: str | Path) -> Path:
    r"""Rank plots of the gated scalars, one panel each, to show whether the chains agree.

    Each panel pools a quantity's draws from every chain, ranks them, and draws one
    histogram of ranks per chain (:func:`arviz.plot_rank`). Chains that sample the same
    distribution have uniform ranks.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with a ``posterior`` group over ``chain`` and ``draw``; every name of
        :data:`dnamodel.checks.gates.GATED` it holds as a scalar per draw is drawn (``total``
        always is).
    path : str or Path
        The PNG file to create or replace; its folder must exist.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png`` or its folder does not exist.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter and P.-C. Bürkner,
       "Rank-normalization, folding, and localization: an improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 667–718, 2021.

    Examples
    --------
    >>> import tempfile, arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"alpha": rng.normal(size=(4, 200)), "total": rng.lognormal(13, 0.2, (4, 200))})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     rank_plot(idata, Path(folder) / "rank.png").read_bytes()[:4]
    b'\x89PNG'
    """
    target = _png_target(path)
    az = _arviz()
    post = idata.posterior
    names = _scalars(post, tuple(dict.fromkeys((*GATED, "total"))))
    if not names:
        raise UsageError("the posterior holds none of the gated scalars; nothing to rank")
    rhat = az.rhat(post[names])
    columns = min(4, len(names))
    rows = -(-len(names) // columns)
    figure = _figure(max(8.0, 2.6 * columns), 0.6 + 2.4 * rows)
    axes = _grid(figure, len(names), columns)
    az.plot_rank(post, var_names=names, ax=axes, ref_line=True, labels=True, show=False)
    for axis, name in zip(axes, names, strict=True):
        axis.set_title(f"{_SYMBOLS.get(name, name)} ({name}), R-hat {float(rhat[name]):.3f}", fontsize=8)
        axis.set_xlabel("rank among all draws (all chains)", fontsize=7)
        _count_axis(axis.xaxis)
        axis.set_ylabel("chain", fontsize=7)
        bases = list(axis.get_yticks())
        if len(bases) > 1:  # ArviZ puts each chain's number at the foot of its bars; centre it on them
            step = bases[1] - bases[0]
            axis.set_yticks([base + step / 4 for base in bases], [str(k) for k in range(len(bases))])
        axis.tick_params(labelsize=7)
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    title = "Rank plots: do the chains agree?"
    figure.suptitle(title)
    caption = (
        f"Each panel ranks the {chains * draws:,} draws of one quantity from all {chains} chains together, then "
        "stacks one histogram of ranks per chain (chain 0 at the foot); the dashed line is a chain's mean count per "
        "bin. If every chain samples the same distribution, each chain's ranks are uniform: its bars stay flat about "
        "the dashed line. A chain that sits high or low, or mixes slowly, shows as a slope or a hump. R-hat is "
        "ArviZ's rank-normalised split R-hat (gate: at most 1.01)."
    )
    return _save(figure, target, title, caption)


def _parameter_axis(idata: Any, name: str) -> str:
    if is_dated(idata):
        return _DATED_PARAMETER_AXES.get(name, f"{name} (model units)")
    if (
        name == "beta"
        and "constant_data" in idata
        and "covariate" in idata.constant_data
        and set(np.unique(idata.constant_data["covariate"].values)) <= {0.0, 1.0}
    ):
        return "difference in logit fraction, high-Han stratum against the rest (logit scale)"
    return _PARAMETER_AXES.get(name, f"{name} (model units)")


def parameter_plot(idata: Any, path: str | Path) -> Path:
    r"""Each scalar parameter's posterior (:func:`arviz.plot_posterior`) over its prior, in grey.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with a ``posterior`` group; each of :data:`PARAMETERS` it holds as a
        scalar per draw gets a panel. Where the ``prior`` group holds the same name,
        its draws are drawn behind, so the reader sees what the data taught.
    path : str or Path
        The PNG file to create or replace; its folder must exist.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png``, its folder does not exist, or the
        posterior holds none of the parameters.

    Examples
    --------
    >>> import tempfile, arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"alpha": rng.normal(-1, 0.3, (2, 200))},
    ...                      prior={"alpha": rng.normal(-1, 1.5, (1, 400))})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     parameter_plot(idata, Path(folder) / "parameters.png").read_bytes()[:4]
    b'\x89PNG'
    """
    target = _png_target(path)
    az = _arviz()
    names = _scalars(idata.posterior, PARAMETERS)
    if not names:
        raise UsageError(f"the posterior holds none of the parameters {', '.join(PARAMETERS)}; nothing to draw")
    prior = idata.prior if "prior" in idata else None
    with_prior = _scalars(prior, names) if prior is not None else []
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    figure = _figure(max(8.0, 3.3 * columns), 0.8 + 2.5 * rows)
    axes = _grid(figure, len(names), columns)
    # ArviZ draws the density; the median and HDI go in the panel's title, not over the curve
    with _arviz_on_new_matplotlib():
        az.plot_posterior(
            idata,
            var_names=names,
            ax=axes,
            hdi_prob="hide",
            point_estimate=None,
            textsize=7,
            color=LOW_COLOUR,
            fill_alpha=0.25,
            show=False,
        )
    for k, (axis, name) in enumerate(zip(axes, names, strict=True)):
        values = idata.posterior[name].values.ravel()
        if name in with_prior:
            grid, density = az.kde(prior[name].values.ravel())
            axis.fill_between(grid, density, color=PRIOR_COLOUR, alpha=0.3, linewidth=0, zorder=0)
            axis.plot(grid, density, color=PRIOR_COLOUR, linewidth=0.8, zorder=0)
        low, high = az.hdi(values, hdi_prob=0.9)
        median = float(np.median(values))
        axis.plot([low, high], [0, 0], color="black", linewidth=3, solid_capstyle="butt", clip_on=False, zorder=3)
        axis.axvline(median, color=LOW_COLOUR, linewidth=1, linestyle="-")
        axis.set_title(
            f"{_SYMBOLS.get(name, name)} ({name})\nmedian {median:.2f}, 90% HDI {low:.2f} to {high:.2f}", fontsize=8
        )
        axis.set_xlabel(textwrap.fill(_parameter_axis(idata, name), 44), fontsize=7)
        axis.set_ylim(bottom=0)
        if k % columns == 0:
            axis.set_ylabel("density (per parameter unit)", fontsize=7)
    title = "What the data taught: each parameter's posterior over its prior"
    figure.suptitle(title)
    draws = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    caption = (
        f"Blue: the posterior density of each scalar parameter ({draws:,} draws, chains pooled); blue line: its "
        "median; black bar at the foot: its 90% highest-density interval (HDI), both printed over the panel. "
    )
    if with_prior:
        missing = [name for name in names if name not in with_prior]
        caption += (
            "Grey: the prior, from forward draws of the priors as specified (without the thesis bound). Where blue is "
            "narrower than grey or sits elsewhere, the data moved the parameter; where the two match, the prior "
            "alone sets it."
        )
        if missing:
            caption += f" No prior draws were saved for {', '.join(missing)}."
    else:
        caption += "The fit holds no prior draws, so no prior is drawn."
    return _save(figure, target, title, caption)


def forest_plot(idata: Any, summary: Any, path: str | Path, *, marks: GroupMarks | None = None) -> Path:
    """Each group's (prefecture's) posterior total (:func:`arviz.plot_forest`), with figures of a group's own marked.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit whose posterior holds ``prefecture_total`` over ``prefecture`` (ids as
        in ``areas.csv``).
    summary : Summary
        From :func:`dnamodel.checks.summary.summarize_fit`; its ``prefectures`` name the rows.
    path : str or Path
        The PNG file to create or replace; its folder must exist.
    marks : GroupMarks, optional
        A figure for some groups (drawn as a diamond on their rows) and what they are, for the
        caption: the case study's :func:`~dnamodel.casestudy.tibet2022.report_by_prefecture`.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png`` or its folder does not exist.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> forest_plot(idata, dnamodel.summarize_fit(idata), "forest.png").name
    'forest.png'
    """
    target = _png_target(path)
    az = _arviz()
    names = {row.prefecture: row.name for row in summary.prefectures}
    by_prefecture = idata.posterior["prefecture_total"]
    ids = [str(pid) for pid in by_prefecture[dims.PREFECTURE].values]
    labeller = az.labels.mix_labellers((az.labels.MapLabeller, az.labels.NoVarLabeller))(
        coord_map={dims.PREFECTURE: {pid: names.get(pid, pid) for pid in ids}}
    )
    figure = _figure(8.5, 1.6 + 0.5 * len(ids))
    axes = figure.add_subplot()
    az.plot_forest(
        idata,
        var_names=["prefecture_total"],
        combined=True,
        hdi_prob=0.9,
        quartiles=True,
        colors=LOW_COLOUR,
        labeller=labeller,
        textsize=8,
        linewidth=2,
        markersize=7,
        ax=axes,
        show=False,
    )
    axes.spines["top"].set_visible(False)
    # each row's label as ArviZ placed it, to put the report's figure and the share on the right row
    rows = {tick.get_text(): y for tick, y in zip(axes.get_yticklabels(), axes.get_yticks(), strict=True)}
    for row in summary.prefectures:
        y = rows.get(row.name)
        if y is not None:
            axes.annotate(
                f"{row.median:,.0f}  ({row.share_median:.0%})",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
    axes.annotate(
        "median (% of the\npopulation)",
        (1.0, 1.0),
        xycoords="axes fraction",
        xytext=(6, 2),
        textcoords="offset points",
        va="bottom",
        fontsize=7,
        color="#555555",
    )
    marked = []
    for pid, value in (marks.values if marks is not None else {}).items():
        y = rows.get(names.get(pid, pid))
        if y is None:
            continue
        axes.plot([value], [y], marker="D", markersize=5, color=HIGH_COLOUR, markeredgecolor="black", zorder=5)
        axes.annotate(
            f"{marks.label} {value:,.0f}",
            (value, y),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
        marked.append(names.get(pid, pid).split(" (")[0])
    study = _words(summary)
    axes.set_xlabel(f"{study.title(idata.attrs.get('estimand_date'))} ({study.words.unit})", fontsize=9)
    axes.tick_params(axis="y", labelsize=8)
    axes.tick_params(axis="x", labelsize=8)
    _count_axis(axes.xaxis)
    axes.set_xlim(left=0)
    title = f"The total by {study.words.group}" + (f": posterior of {summary.model}" if summary.model else "")
    axes.set_title(title, fontsize=11)
    caption = (
        f"Each row: a {study.words.group}'s posterior total, chains pooled. Open circle: median; thick line: 50% "
        "equal-tailed interval (the quartiles); thin line: 90% highest-density interval (HDI). "
    )
    if marked and marks is not None:
        caption += marks.caption
    return _save(figure, target, title, caption)


FORECAST_COLOUR = "#55a868"


def _interval_row(axes: Any, y: float, row: Any, colour: str, name: str) -> None:
    """One predictive interval: its 90% line, its median, and its PIT at the right edge."""
    axes.plot([row.low, row.high], [y, y], color=colour, linewidth=3, solid_capstyle="butt")
    axes.plot([row.median], [y], "o", color=colour, markerfacecolor="white", markersize=5, zorder=4)
    axes.annotate(
        f"{name} {row.pit:.2f}",
        (1.0, y),
        xycoords=("axes fraction", "data"),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        fontsize=7,
        color=colour,
    )


OBSERVED_MARKER = {"none": "|", "lower": ">", "upper": "<"}
"""The observed value's marker: a tick for a value, an arrowhead pointing the way a bound allows."""


def _predictive_panel(
    axes: Any, checks: Sequence[Any], left_out: dict[str, Any], ahead: dict[str, Any], shares: bool
) -> None:
    """Rows of predictive intervals, the first check at the top: counts on a log axis, shares on 0 to 1."""
    from matplotlib.ticker import LogLocator, NullFormatter, PercentFormatter  # deferred: start-up time

    extra = [int(c.observation in left_out) + int(c.observation in ahead) for c in checks]
    heights = [1.0 + 0.4 * n for n in extra]
    positions = [sum(heights[k + 1 :]) + heights[k] / 2 for k in range(len(checks))]
    for y, check, n in zip(positions, checks, extra, strict=True):
        rows = [(check, LOW_COLOUR, "PIT")]
        if check.observation in left_out:
            rows.append((left_out[check.observation], LOO_COLOUR, "LOO PIT"))
        if check.observation in ahead:
            rows.append((ahead[check.observation], FORECAST_COLOUR, "forecast PIT"))
        for offset, (row, colour, name) in zip(np.linspace(0.2 * n, -0.2 * n, len(rows)), rows, strict=True):
            _interval_row(axes, y + offset, row, colour, name)
        # a vertical tick (or arrowhead), so the median circle under it stays visible; it spans every line of its row
        marker = OBSERVED_MARKER.get(getattr(check, "bound", "none"), "|")
        size = 11 + 5 * n if marker == "|" else 8
        axes.plot([check.observed], [y], marker, color="black", markersize=size, markeredgewidth=2, zorder=5)
    if shares:
        axes.set_xlim(0, 1)
        axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    else:
        axes.set_xscale("log")
        axes.xaxis.set_major_locator(LogLocator(base=10))
        axes.xaxis.set_minor_formatter(NullFormatter())
        _count_axis(axes.xaxis)
    axes.set_yticks(positions, [check.observation for check in checks], fontsize=8)
    axes.set_ylim(0, sum(heights))
    axes.grid(axis="x", which="major", color="#e5e5e5", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.set_xlabel("share (coverage or share of a database)" if shares else "count (log scale)")


def predictive_plot(checks: Sequence[Any], loo: Sequence[Any], path: str | Path, forecasts: Sequence[Any] = ()) -> Path:
    r"""Every observation against its posterior predictive, leave-one-out and forecast 90% intervals.

    :func:`arviz.plot_ppc` overlays the predictive density of many exchangeable
    observations. These are a handful of distinct scalars (a few counts, shares and database
    stocks, and for the hierarchical model its within-county rows), each on its own
    scale, so each gets a row of its own: counts on a shared log axis, shares (values below 1)
    on a panel of their own from 0 to 1, drawn with matplotlib.

    Parameters
    ----------
    checks : sequence of Check
        From :func:`dnamodel.checks.predictive.predictive_checks` or
        :func:`dnamodel.checks.dated.predictive_checks`: one row each, drawn in the order
        given, the first at the top. A check whose ``bound`` is ``lower`` or ``upper`` marks its
        observed value with an arrowhead pointing the way the bound allows.
    loo : sequence of Check
        Leave-one-out checks, or empty if none were run; each is drawn under the posterior
        predictive row of the same ``observation``.
    path : str or Path
        The PNG file to create or replace; its folder must exist.
    forecasts : sequence of Check
        Forecast checks (:func:`dnamodel.checks.dated.forecast_checks`, each forecast's
        ``checks``), drawn under the row of the observation they predict.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png``, its folder does not exist, or
        ``checks`` is empty.

    Examples
    --------
    >>> import tempfile
    >>> from dnamodel.checks.predictive import Check
    >>> checks = [Check("east", 17_194, 17_200, 15_300, 19_400, 0.49), Check("share", 0.75, 0.77, 0.6, 0.9, 0.4)]
    >>> loo = [Check("east", 17_194, 20_400, 1_080, 50_000, 0.44, 1_127_000)]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     predictive_plot(checks, loo, Path(folder) / "checks.png").read_bytes()[:4]
    b'\x89PNG'
    """
    from matplotlib.lines import Line2D  # deferred: start-up time

    target = _png_target(path)
    if not checks:
        raise UsageError("no predictive checks to draw")
    left_out = {check.observation: check for check in loo}
    ahead = {check.observation: check for check in forecasts}
    shares = [check for check in checks if check.observed < 1]
    counts = [check for check in checks if check.observed >= 1]
    panels = [(rows, rows is shares) for rows in (counts, shares) if rows]

    def height(rows: Sequence[Any]) -> float:
        return sum(1.0 + 0.4 * (int(c.observation in left_out) + int(c.observation in ahead)) for c in rows)

    figure = _figure(9.0, 1.9 + 0.6 * len(panels) + 0.3 * sum(height(rows) for rows, _ in panels))
    grid = figure.add_gridspec(len(panels), 1, height_ratios=[height(rows) + 1.2 for rows, _ in panels])
    axes = [figure.add_subplot(grid[k]) for k in range(len(panels))]
    for axis, (rows, is_share) in zip(axes, panels, strict=True):
        _predictive_panel(axis, rows, left_out, ahead, is_share)
    handles = [
        Line2D([], [], color=LOW_COLOUR, linewidth=3, label="posterior predictive, 90% interval"),
        Line2D([], [], marker="o", color="grey", markerfacecolor="white", linestyle="", label="predictive median"),
        Line2D([], [], marker="|", color="black", markersize=9, markeredgewidth=2, linestyle="", label="observed"),
    ]
    if left_out:
        handles.insert(1, Line2D([], [], color=LOO_COLOUR, linewidth=3, label="left out, refit's 90% interval"))
    if ahead:
        handles.insert(-2, Line2D([], [], color=FORECAST_COLOUR, linewidth=3, label="forecast, 90% interval"))
    bounds = any(getattr(check, "bound", "none") != "none" for check in checks)
    if bounds:
        handles.append(
            Line2D([], [], marker=">", color="black", markersize=6, linestyle="", label="observed bound (≥ or ≤)")
        )
    axes[0].legend(
        handles=handles,
        fontsize=7,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=min(len(handles), 3),
        frameon=False,
    )
    title = "Predictive checks: each observation against what the model predicts for it"
    axes[0].set_title(title, pad=34 if len(handles) > 3 else 22)
    caption = (
        "Each row is one observation (for the hierarchical model, also each within-county row): blue, "
        "the posterior predictive distribution of the fit to all the data (line: 90% equal-tailed interval; circle: "
        "median); black tick: the value observed. PIT is the share of predictive draws at or below the observed "
        "value: near 0.5, the observation sits mid-distribution; near 0 or 1, in a tail. The posterior predictive "
        "check is lenient, because each observation helped fit the model that predicts it. "
    )
    if shares:
        caption += "Shares (a coverage, a share of a database) have a panel of their own, from 0 to 100%. "
    if bounds:
        caption += (
            "An arrowhead marks a bound: the value is at least (▶) or at most (◀) the one observed; its interval is "
            "of the quantity the bound speaks of, and its PIT is the mid-PIT, the mean PIT over the values it allows. "
        )
    if left_out:
        caption += (
            "Red, just below: the leave-one-out predictive, from a refit without that observation. An observation "
            "outside its red interval (LOO PIT near 0 or 1) is one the rest of the data would not have predicted: "
            "it alone drives part of the estimate, or it conflicts with the others. "
        )
    else:
        caption += "No leave-one-out refits were given, so only the posterior predictive is drawn. "
    if ahead:
        caption += (
            "Green, below: the forecast from a refit on only what was published before the observation's date. A "
            "forecast PIT near 0 or 1 means the model, fitted to the past, did not see the later figure coming."
        )
    return _save(figure, target, title, caption.strip())
