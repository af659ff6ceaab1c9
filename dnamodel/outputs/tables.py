"""Summaries → text: tables and notes for a terminal or a pipe.

Commands describe what they print as :class:`Table` and :class:`Block` values;
:func:`render` draws them with rich on a terminal and as plain, aligned text
otherwise (piped, redirected, or ``NO_COLOR``-style consoles), so that output
meant for a person reads well and output meant for ``grep`` stays plain. JSON
output does not pass through here: it is built from each result's ``to_dict``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from dnamodel.files import check_interrupted

WRAP = 64
"""The widest a long left-aligned cell of a table that folds (``Table.wrap``) is printed in plain text."""


def value_text(value: float) -> str:
    """An observed or predicted value: a count to the unit, a share (below 1) to three decimals.

    Examples
    --------
    >>> value_text(16_436.2), value_text(0.7503)
    ('16,436', '0.750')
    """
    return f"{value:.3f}" if abs(value) < 1 else f"{value:,.0f}"


@dataclass(frozen=True)
class Table:
    """A titled table of text cells.

    Attributes
    ----------
    title : str
    columns : sequence of str
        Column headers. A header ending in ``">"`` is right-aligned (the ``">"`` is
        not shown).
    rows : sequence of sequence of str
    """

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    wrap: int | None = None
    """Printed plain, a left-aligned cell longer than this folds onto lines of its own (None: never;
    a table whose rows a reader greps or copies whole, as ``data check``'s readings, keeps them whole)."""


@dataclass(frozen=True)
class Block:
    """A heading with indented lines, for findings too long for a table row."""

    heading: str
    lines: Sequence[str] = field(default_factory=tuple)
    style: str = ""


def console(stream: TextIO | None = None) -> Console:
    """A console on ``stream`` (standard output by default) that knows whether it is a terminal."""
    return Console(file=stream, highlight=False, soft_wrap=False)


def render(out: Console, *items: Table | Block | str) -> None:
    """Print tables, blocks and paragraphs, styled on a terminal and plain elsewhere.

    Nothing is printed after Ctrl-C (:func:`dnamodel.files.check_interrupted`): it could be a partial result.
    """
    check_interrupted()
    for item in items:
        if isinstance(item, Table):
            _table(out, item)
        elif isinstance(item, Block):
            _block(out, item)
        else:
            out.print(Text(item)) if out.is_terminal else out.print(item, markup=False, crop=False, soft_wrap=True)


def _table(out: Console, table: Table) -> None:
    headers = [column.removesuffix(">") for column in table.columns]
    right = [column.endswith(">") for column in table.columns]
    if out.is_terminal:
        rich_table = RichTable(title=table.title, title_justify="left", title_style="bold")
        for header, is_right in zip(headers, right, strict=True):
            rich_table.add_column(header, justify="right" if is_right else "left", overflow="fold")
        for row in table.rows:
            rich_table.add_row(*row)
        out.print(rich_table)
        return
    # a left-aligned cell longer than table.wrap (a parameter's meaning) folds onto lines of its own below
    # the row's first, so that the numbers stay in one column and on the line a grep for the row finds
    limit = table.wrap
    wrapped = [
        [
            textwrap.wrap(cell, limit) or [""] if limit and not is_right and len(cell) > limit else [cell]
            for cell, is_right in zip(row, right, strict=True)
        ]
        for row in table.rows
    ]
    widths = [max([len(h), *(len(part) for row in wrapped for part in row[i])]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if is_right else cell.ljust(width)
            for cell, width, is_right in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(padded).rstrip()

    def lines(row: list[list[str]]) -> list[str]:
        depth = max(len(parts) for parts in row)
        return [line([parts[k] if k < len(parts) else "" for parts in row]) for k in range(depth)]

    body = [text for row in wrapped for text in lines(row)]
    text = [table.title, line(headers), line(["-" * w for w in widths]), *body]
    out.print("\n".join(text), markup=False, highlight=False, crop=False, soft_wrap=True)
    out.print("", markup=False)


def _block(out: Console, block: Block) -> None:
    if out.is_terminal:
        out.print(Text(block.heading, style=block.style or "bold"))
        for entry in block.lines:
            out.print(Text("    " + entry))
        out.print()
        return
    out.print(block.heading, markup=False, crop=False, soft_wrap=True)
    for entry in block.lines:
        out.print("    " + entry, markup=False, crop=False, soft_wrap=True)
    out.print("", markup=False)
