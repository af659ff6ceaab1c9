"""Summaries → figures: PNG files drawn with matplotlib's Agg canvas.

Figures are built on a :class:`matplotlib.figure.Figure` of their own, never
through ``pyplot``'s global state, rendered to memory and written with
:func:`dnamodel.files.atomic_write_bytes`, so a reader never sees half a file.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dnamodel.errors import UsageError
from dnamodel.files import atomic_write_bytes
from dnamodel.sensitivity import TornadoRow

REPORT_ESTIMATES = (919_282, 1_206_962)
"""The report's Estimates One and Two (Dirks 2022, Table 5), in samples collected."""

LOW_COLOUR = "#4c72b0"
HIGH_COLOUR = "#dd8452"
DPI = 150
CAPTION_WIDTH = 150  # characters a caption line holds at the figure's width and font size
DEFAULT_CAPTION = (
    "Each bar: the total with one input moved from its low value (blue) to its high value (orange), "
    "every other input at its median (the solid line). Dashed lines: the report's estimates."
)


def _value_text(value: float, label: str | None) -> str:
    return label if label is not None else f"{value:,.4g}"


def tornado_plot(
    rows: Sequence[TornadoRow],
    baseline: float,
    path: str | Path,
    *,
    title: str,
    report_estimates: Sequence[float] = REPORT_ESTIMATES,
    caption: str = DEFAULT_CAPTION,
) -> Path:
    r"""Draw a tornado plot of ``total`` and write it as a PNG file.

    Parameters
    ----------
    rows : sequence of TornadoRow
        From :func:`dnamodel.sensitivity.tornado`; drawn in the order given, the
        first at the top.
    baseline : float
        The total with every input at its median (samples collected), drawn as a
        solid line where the bars meet.
    path : str or Path
        The PNG file to create or replace; its folder must exist and its name must
        end in ``.png``.
    title : str
        The figure's title.
    report_estimates : sequence of float
        Totals drawn as dashed vertical lines (samples collected); the report's two
        estimates by default.
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
    >>> from dnamodel.sensitivity import tornado
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

    figure = Figure(figsize=(9, 2.2 + 0.55 * max(len(rows), 1)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
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
    lines += [(estimate, "report", {"color": "grey", "linestyle": "--"}) for estimate in report_estimates]
    for x, name, style in lines:
        axes.axvline(x, linewidth=1, **style)
        axes.text(
            x, 1.01, f"{name}\n{x:,.0f}", transform=axes.get_xaxis_transform(), ha="center", va="bottom", fontsize=7
        )
    axes.set_yticks(list(positions), [row.input for row in rows])
    axes.set_xlabel("samples collected")
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    axes.margins(x=0.3)  # room for the value labels at the bar ends
    axes.set_title(title, pad=26)
    figure.supxlabel(textwrap.fill(caption, CAPTION_WIDTH), x=0.01, ha="left", fontsize=7)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Title": title, "Description": caption})
    atomic_write_bytes(target, buffer.getvalue())
    return target


# --- the hierarchical model's figures --------------------------------------------------------------


def _figure(width: float = 8.0, height: float = 4.8) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: str | Path, title: str, caption: str) -> Path:
    """Caption the figure, render it and write the PNG atomically."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise UsageError(f"{target}: a figure is a PNG file; give a name ending in .png")
    figure.supxlabel(textwrap.fill(caption, CAPTION_WIDTH), x=0.01, ha="left", fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Title": title, "Description": caption})
    atomic_write_bytes(target, buffer.getvalue())
    return target


def _count_axis(axis: Any) -> None:
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))


def _mark_report(axes: Any, estimates: Sequence[float] = REPORT_ESTIMATES) -> None:
    # the two estimates sit close on a wide axis: the first is labelled to its left, the second to its right
    names = ("report, Estimate One", "report, Estimate Two")
    for x, name, align in zip(estimates, names, ("right", "left"), strict=True):
        axes.axvline(x, color="grey", linestyle="--", linewidth=1)
        axes.text(x, 1.01, f"{name}\n{x:,.0f}", transform=axes.get_xaxis_transform(), ha=align, va="bottom", fontsize=7)


def total_posterior_plot(idata: Any, summary: Any, path: str | Path) -> Path:
    """The posterior of the Tibet-wide total, its 90% and 95% intervals, and the report's estimates."""
    total = idata.posterior["total"].values.ravel()
    figure = _figure()
    axes = figure.add_subplot()
    axes.hist(total, bins=120, density=True, color=LOW_COLOUR, alpha=0.55)
    for prob, height, colour in ((0.95, 0.06, "#9db4d8"), (0.9, 0.12, LOW_COLOUR)):
        interval = summary.total.interval(prob)
        axes.plot([interval.low, interval.high], [0, 0], transform=axes.get_xaxis_transform(), linewidth=0)
        axes.axvspan(interval.low, interval.high, ymin=0, ymax=height, color=colour, alpha=0.9)
        axes.text(interval.high, height, f" {prob:.0%}", transform=axes.get_xaxis_transform(), fontsize=7, va="top")
    axes.axvline(summary.total.median, color="black", linewidth=1.2)
    axes.text(
        summary.total.median,
        0.95,
        f" median {summary.total.median:,.0f}",
        transform=axes.get_xaxis_transform(),
        fontsize=7,
    )
    _mark_report(axes)
    axes.set_xlabel("DNA samples collected, 2016 to July 2022 (samples)")
    axes.set_ylabel("posterior density (per sample)")
    _count_axis(axes.xaxis)
    axes.set_yticks([])
    title = f"Tibet-wide total: posterior of {summary.model}"
    axes.set_title(title, pad=26)
    i90, i95 = summary.total.interval(0.9), summary.total.interval(0.95)
    caption = (
        f"Histogram of {total.size:,} posterior draws of the total. Black line: median {summary.total.median:,.0f}. "
        f"Bands at the foot: 90% ({i90.low:,.0f} to {i90.high:,.0f}) and 95% ({i95.low:,.0f} to {i95.high:,.0f}) "
        "equal-tailed credible intervals. Dashed lines: the report's two point estimates (Table 5)."
    )
    return _save(figure, path, title, caption)


def fraction_plot(idata: Any, inputs: Any, path: str | Path) -> Path:
    """Each unit's collection fraction against its Han share, with observations and the fitted curve."""
    import numpy as np

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
    axes.set_xlabel("Han share of the unit's population, 2020 census (%)")
    axes.set_ylabel("share of the population whose DNA was collected (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=7, loc="upper right")
    title = "Collection fraction against Han share, by county-level unit"
    axes.set_title(title)
    caption = (
        "Dots: each of the 77 units' posterior median fraction with its 90% credible interval. Diamonds: each "
        "observation's count over its units' census population; an observation over several units sits at their "
        "population-weighted Han share. Line and band: the fitted centre of the fraction distribution, without the "
        "unit's own deviation. Lhasa's fractions count temporary residents in the numerator, so their diamonds "
        "exceed the census-based fraction."
    )
    return _save(figure, path, title, caption)


def prior_predictive_plot(idata: Any, check: Any, path: str | Path) -> Path:
    """The prior distribution of the total, on a log scale, without and with the thesis constraint."""
    import numpy as np

    total = idata.prior["total"].values.ravel()
    figure = _figure()
    axes = figure.add_subplot()
    bins = np.logspace(np.log10(max(total.min(), 1.0)), np.log10(total.max() * 1.01), 80)
    axes.hist(total, bins=bins, color=LOW_COLOUR, alpha=0.5, label="prior, forward draws (no thesis bound)")
    axes.set_xscale("log")
    for x, name in ((check.population, "2020 census population"), (631_460, "thesis: database, mid-2020")):
        axes.axvline(x, color="black", linestyle=":", linewidth=1)
        axes.text(x, 0.97, f" {name}\n {x:,.0f}", transform=axes.get_xaxis_transform(), fontsize=7, va="top")
    _mark_report(axes)
    lo, hi = check.constrained[0], check.constrained[-1]
    axes.axvspan(lo, hi, ymin=0, ymax=0.04, color=HIGH_COLOUR, label="98% range with the thesis bound")
    axes.set_xlabel("Tibet-wide total under the prior (samples, log scale)")
    axes.set_ylabel("prior draws per bin")
    _count_axis(axes.xaxis)
    axes.legend(fontsize=7, loc="upper left")
    title = "Prior predictive check: the total before seeing the data"
    axes.set_title(title, pad=26)
    caption = (
        f"Forward draws from the priors. Without the thesis bound the prior's 1-99% range is "
        f"{check.forward[0]:,.0f} to {check.forward[-1]:,.0f}; weighting each draw by the thesis factor gives "
        f"{lo:,.0f} to {hi:,.0f} (orange band). A plausible prior spans a few thousand samples to the whole population."
    )
    return _save(figure, path, title, caption)


# --- sweeps ----------------------------------------------------------------------------------------


def sweep_line_plot(result: Any, path: str | Path, *, title: str) -> Path:
    """A one-dimensional sweep: the total's median, 50% and 90% intervals at each grid value."""
    import numpy as np

    axis = next(iter(result["total_median"].dims))
    labels = [str(v) for v in result[axis].values]
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
    for y in REPORT_ESTIMATES:
        axes.axhline(y, color="grey", linestyle="--", linewidth=1)
        axes.text(x[-1], y, f" report {y:,.0f}", fontsize=7, va="bottom", ha="right")
    axes.set_xticks(x, labels, fontsize=8)
    axes.set_xlabel(f"{axis} (spec value)")
    axes.set_ylabel("Tibet-wide total (samples)")
    _count_axis(axes.yaxis)
    axes.legend(fontsize=7, loc="upper left")
    axes.set_title(title)
    caption = (
        f"Each point refits the model with {axis} set as on the axis, every other setting as in the spec, and the "
        "same seed. Line: the total's posterior median; bands: 50% and 90% equal-tailed intervals. Dashed: the "
        "report's two estimates."
    )
    return _save(figure, path, title, caption)


def sweep_tornado_plot(rows: Sequence[Any], reference: Any, path: str | Path, *, title: str) -> Path:
    """For each swept assumption, the total's median and 90% interval at its low and high setting.

    ``rows`` are :class:`dnamodel.sweep.TornadoRow`; ``reference`` is the default fit's
    ``(q05, median, q95)``, drawn as a band, or ``None``.
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
    _mark_report(axes)
    axes.set_yticks(positions, [textwrap.fill(row.label, 30) for row in rows], fontsize=8)
    axes.set_xlabel("Tibet-wide total (samples)")
    _count_axis(axes.xaxis)
    axes.margins(x=0.25)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_title(title, pad=26)
    caption = (
        "Each row is one swept assumption at its first (blue) and last (orange) setting, the label beside each bar: "
        "the bar is the total's 90% interval, the dot its median, every other setting as in the spec. Grey band: the "
        "default model's 90% interval. Dashed: the report's estimates."
    )
    return _save(figure, path, title, caption)
