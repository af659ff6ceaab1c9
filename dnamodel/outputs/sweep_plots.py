"""The figures of sensitivity and of structure: a Monte Carlo tornado, a sweep's line and tornado, the models compared.

Drawn in the style of :mod:`dnamodel.outputs.plots` (its figure, axes, captions and atomic writes):
:func:`tornado_plot` (one input at a time, :func:`dnamodel.tornado`), :func:`sweep_line_plot` and
:func:`sweep_tornado_plot` (a sweep's result, :func:`dnamodel.sweep`) and :func:`comparison_plot`
(:func:`dnamodel.compare`).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel.data.study import NEUTRAL, Study
from dnamodel.errors import UsageError
from dnamodel.montecarlo.sensitivity import TornadoRow
from dnamodel.outputs import plots
from dnamodel.outputs.plots import CAPTION_WIDTH, HIGH_COLOUR, LOW_COLOUR

if TYPE_CHECKING:
    import xarray as xr


@dataclass(frozen=True)
class SweepRow:
    """One swept assumption at its first and last setting: ``(q05, median, q95)`` of the total."""

    label: str
    low_label: str
    high_label: str
    low: tuple[float, float, float]
    high: tuple[float, float, float]


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
    >>> from dnamodel.families import load_model
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

    figure = plots._figure(9, 2.2 + 0.55 * max(len(rows), 1))
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
    lines: list[tuple[float, str, dict[str, Any]]] = [(baseline, "baseline", {"color": "black", "linestyle": "-"})]
    study = study or NEUTRAL
    source = study.comparisons.source if study.comparisons is not None else ""
    lines += [(estimate, source, {"color": "grey", "linestyle": "--"}) for estimate, _ in study.marks()]
    axes.margins(x=0.3)  # room for the value labels at the bar ends
    for x, _, style in lines:
        axes.axvline(x, linewidth=1, **style)
    pad = plots._label_lines(axes, [(x, f"{name}\n{x:,.0f}") for x, name, _ in lines])
    axes.set_yticks(list(positions), [row.input for row in rows])
    axes.set_xlabel(f"{study.words.counted} ({study.words.unit})")
    plots._count_axis(axes.xaxis)
    axes.set_title(title, pad=pad)
    figure.supxlabel(textwrap.fill(caption, CAPTION_WIDTH), x=0.01, ha="left", fontsize=7)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Title": title, "Description": caption})
    return plots.write_png(target, buffer.getvalue())


def comparison_plot(result: Any, path: str | Path, *, study: Study | None = None) -> Path:
    """Each model's total as a row (median, 50% and 90% intervals), the stacked total and the comparison figures."""
    models = list(result.models)
    rows = [(m.name, m.median, m.intervals[0.5], m.intervals[0.9]) for m in models]
    if result.stacking is not None:
        s = result.stacking
        rows.append((f"stacked ({', '.join(f'{w:.2f}' for w in s.weights)})", s.total_median, None, s.total_interval))
    figure = plots._figure(8.5, 1.2 + 0.45 * len(rows))
    axes = figure.add_subplot()
    for i, (name, median, fifty, ninety) in enumerate(rows):
        y = len(rows) - 1 - i
        colour = HIGH_COLOUR if name.startswith("stacked") else LOW_COLOUR
        axes.plot(ninety, (y, y), color=colour, linewidth=1.2)
        if fifty is not None:
            axes.plot(fifty, (y, y), color=colour, linewidth=4)
        axes.plot([median], [y], "o", color="black", markersize=4)
    axes.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)], fontsize=7)
    pad = plots._mark_comparisons(axes, study)
    plots._count_axis(axes.xaxis)
    axes.set_xlabel(f"total ({(study or NEUTRAL).words.unit})")
    title = "The total under each model, and stacked"
    axes.set_title(title, pad=pad)
    caption = (
        "Each row: a model's posterior median (dot), 50% (thick) and 90% (thin) equal-tailed intervals. The "
        "stacked row mixes the models that share their data in the proportions given (stacking of their exact "
        "leave-one-out predictive densities)." + plots._compared(study)
    )
    return plots._save(figure, path, title, caption)


# --- sweeps ----------------------------------------------------------------------------------------


def sweep_line_plot(result: xr.Dataset, path: str | Path, *, title: str, study: Study | None = None) -> Path:
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
    labels = [str(v) for v in result[axis].values]
    x = np.arange(len(labels))
    figure = plots._figure()
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
    plots._count_axis(axes.yaxis)
    axes.legend(fontsize=7, loc="upper left")
    axes.set_title(title)
    caption = (
        f"Each point refits the model with {axis} set as on the axis, every other setting as in the spec, and the "
        "same seed. Line: the total's posterior median; bands: 50% and 90% equal-tailed intervals."
        + plots._compared(study, "Dashed")
    )
    return plots._save(figure, path, title, caption)


def sweep_tornado_plot(
    rows: Sequence[SweepRow],
    reference: tuple[float, float, float] | None,
    path: str | Path,
    *,
    title: str,
    study: Study | None = None,
) -> Path:
    """For each swept assumption, the total's median and 90% interval at its low and high setting.

    ``rows`` are :class:`SweepRow` (:func:`dnamodel.outputs.sweep.tornado_rows`); ``reference`` is the default fit's
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
    figure = plots._figure(10, 2.2 + 0.75 * max(len(rows), 1))
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
    axes.margins(x=0.25)
    pad = plots._mark_comparisons(axes, study)
    axes.set_yticks(positions, [textwrap.fill(row.label, 30) for row in rows], fontsize=8)
    axes.set_xlabel(f"total for {(study or NEUTRAL).words.place} ({(study or NEUTRAL).words.unit})")
    plots._count_axis(axes.xaxis)
    if reference is not None:  # the legend names only the default model's interval: without it, nothing to name
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_title(title, pad=pad)
    caption = (
        "Each row is one swept assumption at its first (blue) and last (orange) setting, the label beside each bar: "
        "the bar is the total's 90% interval, the dot its median, every other setting as in the spec. Grey band: the "
        "default model's 90% interval." + plots._compared(study, "Dashed")
    )
    return plots._save(figure, path, title, caption)
