"""Each observation against its predictive distribution, in one figure: fitted, left out, and forecast.

:func:`predictive_plot`, drawn in the style of :mod:`dnamodel.outputs.plots`: a row per observation
with its posterior predictive interval (:func:`dnamodel.predictive_checks`), its interval from the
refit without it (:func:`dnamodel.leave_one_out`) and, where a forecast predicted it, the forecast's
(:func:`dnamodel.forecast_checks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dnamodel.errors import UsageError
from dnamodel.outputs import plots
from dnamodel.outputs.plots import LOO_COLOUR, LOW_COLOUR

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
        plots._count_axis(axes.xaxis)
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
        From :func:`dnamodel.predictive_checks` (its family's
        :func:`~dnamodel.checks.predictive.hierarchical_predictive_checks` or
        :func:`~dnamodel.checks.dated.dated_predictive_checks`): one row each, drawn in the order
        given, the first at the top. A check whose ``bound`` is ``lower`` or ``upper`` marks its
        observed value with an arrowhead pointing the way the bound allows.
    loo : sequence of Check
        Leave-one-out checks, or empty if none were run; each is drawn under the posterior
        predictive row of the same ``observation``.
    path : str or Path
        The PNG file to create or replace; its folder must exist.
    forecasts : sequence of Check
        Forecast checks (:func:`dnamodel.forecast_checks`, each forecast's
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

    target = plots._png_target(path)
    if not checks:
        raise UsageError("no predictive checks to draw")
    left_out = {check.observation: check for check in loo}
    ahead = {check.observation: check for check in forecasts}
    shares = [check for check in checks if check.observed < 1]
    counts = [check for check in checks if check.observed >= 1]
    panels = [(rows, rows is shares) for rows in (counts, shares) if rows]

    def height(rows: Sequence[Any]) -> float:
        return sum(1.0 + 0.4 * (int(c.observation in left_out) + int(c.observation in ahead)) for c in rows)

    figure = plots._figure(9.0, 1.9 + 0.6 * len(panels) + 0.3 * sum(height(rows) for rows, _ in panels))
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
    return plots._save(figure, target, title, caption.strip())
