"""Tables → text an author pastes: Markdown and LaTeX.

The :class:`~dnamodel.outputs.tables.Table` values a command prints, written as a GitHub-flavoured
Markdown pipe table or as a LaTeX ``table`` float (booktabs rules). Pure functions: a table in,
text out, nothing written. Every cell is the text the terminal shows, figures as printed
(``"1,206,962"``, ``"32.9%"``); only what the format reads as markup is escaped, so that a reader
sees the same figures in all three. A column whose header ends in ``">"`` is right-aligned, as on
the terminal.
"""

from __future__ import annotations

import unicodedata

from dnamodel.outputs.tables import Table

LATEX_PACKAGES = ("booktabs", "pifont")
"""What a LaTeX document needs for :func:`latex_table`: ``\\usepackage{booktabs,pifont}`` (the rules,
and the ✓ and ✗ marks). Letters outside ASCII and the symbols below pass through as UTF-8, which
LuaLaTeX and XeLaTeX take, and pdfLaTeX for accented Latin letters."""

_MARKDOWN_SPECIAL = set("\\|`*_[]<>~$&")
"""ASCII punctuation that Markdown (CommonMark, GitHub's tables, its maths) may read as markup; each
is escaped with a backslash, which CommonMark allows before any ASCII punctuation."""

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "`": r"\textasciigrave{}",
    "[": "{[}",  # a row starting with "[" would be read as the length argument of the "\\" before it
    "]": "{]}",
}
_LATEX_SYMBOLS = {
    "−": r"\textminus{}",
    "–": "--",
    "—": "---",
    "×": r"\texttimes{}",
    "÷": r"\textdiv{}",
    "±": r"\textpm{}",
    "µ": r"\textmu{}",
    "…": r"\dots{}",
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "≈": r"\ensuremath{\approx}",
    "→": r"\ensuremath{\rightarrow}",
    "✓": r"\ding{51}",
    "✗": r"\ding{55}",
    "\u00a0": "~",
}
"""The symbols dnamodel's tables print, as LaTeX writes them (the kernel's text symbols, or maths)."""


def _greek(char: str) -> str | None:
    r"""A Greek letter as LaTeX maths (``κ`` → ``\ensuremath{\kappa}``); ``None`` for any other character."""
    name = unicodedata.name(char, "")
    if not name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")) or " WITH " in name:
        return None
    letter = name.rsplit(" ", 1)[1].lower()
    letter = {"lamda": "lambda", "final": "varsigma"}.get(letter, letter)
    if name.startswith("GREEK CAPITAL LETTER "):
        letter = letter.capitalize()
        if letter not in {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}:
            return None  # the rest look like Latin capitals, and LaTeX has no command for them
    elif letter == "omicron":
        return None
    return rf"\ensuremath{{\{letter}}}"


def markdown_escape(text: str) -> str:
    r"""``text`` as Markdown shows it literally, on one line: markup characters escaped.

    Examples
    --------
    >>> markdown_escape("a|b_c *d*")
    'a\\|b\\_c \\*d\\*'
    """
    flat = " ".join(text.splitlines())
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in flat)


def latex_escape(text: str) -> str:
    r"""``text`` as LaTeX typesets it literally, on one line: special characters and symbols written out.

    Examples
    --------
    >>> latex_escape("32.9% of 3.66 million & more")
    '32.9\\% of 3.66 million \\& more'
    >>> latex_escape("94,588 ÷ 950,000 ✓")
    '94,588 \\textdiv{} 950,000 \\ding{51}'
    """
    flat = " ".join(text.splitlines())
    out = []
    for index, char in enumerate(flat):
        if char == "-" and flat[index + 1 : index + 2] == "-":
            out.append("-{}")  # "--" would be set as an en dash
        else:
            out.append(_LATEX_SPECIAL.get(char) or _LATEX_SYMBOLS.get(char) or _greek(char) or char)
    return "".join(out)


def _headers(table: Table) -> tuple[list[str], list[bool]]:
    return [c.removesuffix(">") for c in table.columns], [c.endswith(">") for c in table.columns]


def _check_rows(table: Table) -> None:
    for number, row in enumerate(table.rows, start=1):
        if len(row) != len(table.columns):
            raise ValueError(
                f"table {table.title!r}: row {number} has {len(row)} cells for {len(table.columns)} columns"
            )


def markdown_table(table: Table) -> str:
    """``table`` as a Markdown pipe table (GitHub-flavoured), its title in bold above it.

    Parameters
    ----------
    table : Table
        Title, columns (a header ending in ``">"`` is right-aligned) and rows of text cells, as a
        command prints them.

    Returns
    -------
    str
        The Markdown, ending in a newline: the title as a bold line (none for an empty title), a
        blank line, the header, the alignment row (``---`` or ``---:``) and one line per row. Each
        cell is escaped with :func:`markdown_escape`.

    Raises
    ------
    ValueError
        A row whose number of cells is not the number of columns.

    Examples
    --------
    >>> table = Table("Against the report", ["", "total>", "P(total above it)>"],
    ...               [["Estimate One", "919,282", "0.890"], ["Estimate Two", "1,206,962", "0.416"]])
    >>> print(markdown_table(table))
    **Against the report**
    <BLANKLINE>
    |  | total | P(total above it) |
    | --- | ---: | ---: |
    | Estimate One | 919,282 | 0.890 |
    | Estimate Two | 1,206,962 | 0.416 |
    <BLANKLINE>
    """
    _check_rows(table)
    headers, right = _headers(table)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    lines = [f"**{markdown_escape(table.title)}**", ""] if table.title else []
    lines.append(line([markdown_escape(h) for h in headers]))
    lines.append(line(["---:" if r else "---" for r in right]))
    lines.extend(line([markdown_escape(cell) for cell in row]) for row in table.rows)
    return "\n".join(lines) + "\n"


def latex_table(table: Table, *, label: str | None = None) -> str:
    r"""``table`` as a LaTeX ``table`` float: a booktabs ``tabular`` with the title as its caption.

    Parameters
    ----------
    table : Table
        Title, columns (a header ending in ``">"`` is right-aligned, ``r``; the others ``l``) and rows
        of text cells, as a command prints them.
    label : str, optional
        A ``\label`` for cross-references (``tab:estimate``, say); none by default.

    Returns
    -------
    str
        The LaTeX, ending in a newline. Each cell is escaped with :func:`latex_escape`. The document
        needs the packages of :data:`LATEX_PACKAGES`.

    Raises
    ------
    ValueError
        A row whose number of cells is not the number of columns.

    Examples
    --------
    >>> table = Table("Against the report", ["", "total>", "P(total above it)>"],
    ...               [["Estimate One", "919,282", "0.890"], ["Estimate Two", "1,206,962", "0.416"]])
    >>> print(latex_table(table, label="tab:report"))
    \begin{table}
      \centering
      \caption{Against the report}
      \label{tab:report}
      \begin{tabular}{lrr}
        \toprule
         & total & P(total above it) \\
        \midrule
        Estimate One & 919,282 & 0.890 \\
        Estimate Two & 1,206,962 & 0.416 \\
        \bottomrule
      \end{tabular}
    \end{table}
    <BLANKLINE>
    """
    _check_rows(table)
    headers, right = _headers(table)

    def line(cells: list[str]) -> str:
        return "    " + " & ".join(latex_escape(cell) for cell in cells) + r" \\"

    lines = [r"\begin{table}", r"  \centering"]
    if table.title:
        lines.append(rf"  \caption{{{latex_escape(table.title)}}}")
    if label:
        lines.append(rf"  \label{{{label}}}")
    lines += [
        rf"  \begin{{tabular}}{{{''.join('r' if r else 'l' for r in right)}}}",
        r"    \toprule",
        line(headers),
        r"    \midrule",
        *(line(list(row)) for row in table.rows),
        r"    \bottomrule",
        r"  \end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"
