"""The HTML report's small pieces: escaping, tables, embedded figures, and figures as text.

:mod:`dnamodel.outputs.html` lays out the page; each model family's sections
(:mod:`dnamodel.outputs.dated`, :mod:`dnamodel.outputs.hierarchical`) and an
application's (the case study's audit) are written with these, so that every table and number in
the report looks the same.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel.outputs.tables import value_text

if TYPE_CHECKING:
    from dnamodel.data import Dataset


@dataclass(frozen=True)
class Figure:
    """One embedded figure: its anchor id, PNG bytes, title and caption."""

    id: str
    png: bytes
    title: str
    caption: str


class Html(str):
    """Text that is already HTML and must not be escaped again."""


def escape(value: Any) -> str:
    """``value`` as text, escaped for HTML (quotes too).

    Examples
    --------
    >>> escape('<a href="x">')
    '&lt;a href=&quot;x&quot;&gt;'
    """
    return html.escape(str(value), quote=True)


def count_text(value: float) -> str:
    """A count as a table shows it: ``1,152,470``."""
    return f"{value:,.0f}"


def range_text(low: float, high: float) -> str:
    """Two counts as an interval: ``862,444 to 1,709,114``."""
    return f"{low:,.0f} to {high:,.0f}"


def percent_text(value: float) -> str:
    """A share as a percentage to one decimal: ``30.7%``."""
    return f"{value:.1%}"


def values_text(low: float, high: float) -> str:
    """Two values (counts or shares) as an interval, each as a person reads it."""
    return f"{value_text(low)} to {value_text(high)}"


BOUND_SIGN = {"lower": "≥ ", "upper": "≤ ", "none": ""}
"""What an observed value that is a bound carries before it."""

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
"""The report's one stylesheet, inline in its page (its Content-Security-Policy allows inline styles only)."""


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
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        shown = [v for i, v in enumerate(row) if i != fail_column]
        failed = fail_column is not None and not row[fail_column]
        cells = "".join(f"<td{' class=n' if i in numeric else ''}>{_cell(v)}</td>" for i, v in enumerate(shown))
        body.append(f"<tr{' class=fail' if failed else ''}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(value: Any) -> str:
    return value if isinstance(value, Html) else escape(value)


def figure_html(figure: Figure) -> str:
    """A ``<figure>`` with the PNG embedded as a data URI, its title and its caption."""
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="fig-{escape(figure.id)}" data-figure="{escape(figure.id)}">'
        f'<img src="data:image/png;base64,{data}" alt="{escape(figure.title)}">'
        f"<figcaption><b>{escape(figure.title)}</b>{escape(figure.caption)}</figcaption></figure>"
    )


def png_figure(figure_id: str, path: Path) -> Figure:
    """Read a PNG that :mod:`dnamodel.outputs.plots` wrote, with the title and caption it embedded."""
    from PIL import Image  # deferred: start-up time

    with Image.open(path) as image:
        text = dict(getattr(image, "text", {}))
    return Figure(figure_id, path.read_bytes(), text.get("Title", figure_id), text.get("Description", ""))


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def referenced(expressions: Sequence[str | Sequence[str]], data: Dataset) -> list[str]:
    """The data ids the expressions name, each once, in order."""
    ids: list[str] = []
    for expression in expressions:
        for text in [expression] if isinstance(expression, str) else expression:
            ids += [t for t in _IDENTIFIER.findall(text) if t in data.observations and t not in ids]
    return ids


def source_lines(ids: Sequence[str], data: Dataset) -> Html:
    """Each data row as the report cites it: its id, its figure as printed, its date and its source."""
    lines = []
    for oid in ids:
        o = data.observations[oid]
        when = o.date or o.source_date or "undated"
        shown = o.printed.text if o.printed is not None else f"{o.value}"
        lines.append(f"<code>{escape(oid)}</code> = {escape(shown)} ({escape(when)}): {escape(o.source)}")
    return Html("<br>".join(lines))


def place_names(ids: Sequence[str], data: Dataset) -> str:
    """Places by name, in the order given."""
    return ", ".join(data.place_name(p) for p in ids)


def year_month(year: float) -> str:
    """A decimal year as the month it falls in.

    Examples
    --------
    >>> year_month(2018.7917), year_month(2016.01)
    ('2018-10', '2016-01')
    """
    whole = int(np.floor(year))
    return f"{whole}-{min(int((year - whole) * 12) + 1, 12):02d}"


def posterior_text(values: Any, show: Callable[[float], str] = lambda v: f"{v:.3g}") -> str:
    """``median (low to high)``, the 90% equal-tailed interval, of draws."""
    lo, med, hi = np.quantile(np.asarray(values).ravel(), [0.05, 0.5, 0.95])
    return f"{show(med)} ({show(lo)} to {show(hi)})"


def model_card_link(target: Path) -> str:
    """A link from the report at ``target`` to the model card, ``docs/model.md``, where a clone has it."""
    card = Path(__file__).resolve().parents[2] / "docs" / "model.md"  # in a clone; not installed with the package
    if card.is_file():
        href = os.path.relpath(card, target.resolve().parent)
        return f'<a href="{escape(href)}">docs/model.md</a>'
    return "<code>docs/model.md</code>"
