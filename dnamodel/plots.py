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
