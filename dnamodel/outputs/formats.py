"""Tables → text an author pastes: Markdown and LaTeX.

The :class:`~dnamodel.outputs.tables.Table` values a command prints, written as a GitHub-flavoured
Markdown pipe table or as a LaTeX ``table`` float (booktabs rules). Pure functions: a table in,
text out, nothing written. Every cell is the text the terminal shows, figures as printed
(``"1,206,962"``, ``"32.9%"``); only what the format reads as markup is escaped, so that a reader
sees the same figures in all three. A column whose header ends in ``">"`` is right-aligned, as on
the terminal.

:func:`summary_documents` is what ``dnamodel estimate`` and ``dnamodel report`` write with them: a
fit's headline table, its group table and its citation, as one Markdown and one LaTeX file.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from dnamodel.checks.summary import Summary
from dnamodel.data.study import NEUTRAL
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


# --- a fit's summary, as authors paste it --------------------------------------------------------------

PROBABILITIES = (0.5, 0.9, 0.95)
"""The intervals of the headline table, as ``dnamodel estimate`` prints them."""


def count_text(value: float) -> str:
    """A count as the tables show it: whole from 100, one decimal below.

    Examples
    --------
    >>> count_text(1152470.4), count_text(12.34)
    ('1,152,470', '12.3')
    """
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def percent_text(value: float) -> str:
    """A share as a percentage to three decimals.

    Examples
    --------
    >>> percent_text(0.30666)
    '30.666%'
    """
    return f"{value * 100:.3f}%"


def headline_table(summary: Summary) -> Table:
    """The total and its share: median, mean and the 50/90/95% equal-tailed and HDI intervals.

    The table ``dnamodel estimate`` prints first, titled with the study's words.
    """
    total, share = summary.total, summary.share
    rows = [
        ["median", count_text(total.median), percent_text(share.median), "", ""],
        ["mean", count_text(total.mean), percent_text(share.mean), f"MCSE {count_text(total.mcse_mean)}", ""],
    ]
    for prob in PROBABILITIES:
        et, hdi = total.interval(prob), total.interval(prob, "HDI")
        set_, shdi = share.interval(prob), share.interval(prob, "HDI")
        rows.append(
            [
                f"{prob:.0%} interval",
                f"{count_text(et.low)} to {count_text(et.high)}",
                f"{percent_text(set_.low)} to {percent_text(set_.high)}",
                f"{count_text(hdi.low)} to {count_text(hdi.high)}",
                f"{percent_text(shdi.low)} to {percent_text(shdi.high)}",
            ]
        )
    study = summary.study or NEUTRAL
    title = study.title(summary.provenance.get("estimand_date"))
    return Table(title, ["", "total>", "share>", "HDI total>", "HDI share>"], rows)


def group_table(summary: Summary) -> Table:
    """Each group's total (posterior median and 90% interval) and share, titled with the study's group word."""
    study = summary.study or NEUTRAL
    rows = [
        [
            g.name,
            f"{g.population:,}",
            count_text(g.median),
            f"{count_text(g.low)} to {count_text(g.high)}",
            percent_text(g.share_median),
        ]
        for g in summary.groups
    ]
    return Table(
        f"By {study.words.group} (posterior median, 90% interval)",
        ["", "population>", "total>", "90%>", "share>"],
        rows,
    )


def citation_text(summary: Summary) -> str:
    """The sentence to cite, or why it is withheld, as ``dnamodel estimate`` prints it."""
    if summary.sentence:
        return "To cite: " + summary.sentence
    return "No sentence to cite: " + (summary.withheld or "") + (f" {summary.advice}" if summary.advice else "")


def summary_documents(summary: Summary) -> dict[str, str]:
    """A fit's headline table, its group table and its citation, as a Markdown and a LaTeX document.

    Returns
    -------
    dict of str to str
        ``{"tables.md": ..., "tables.tex": ...}``: :func:`markdown_table` and :func:`latex_table` of
        :func:`headline_table` and :func:`group_table`, and the citation (:func:`citation_text`) as a
        quoted paragraph. ``dnamodel estimate`` writes them beside its CSV, ``dnamodel report``
        beside its page.
    """
    model = summary.model or "fit"
    tables = [headline_table(summary), group_table(summary)]
    citation = citation_text(summary)
    markdown = "\n".join(markdown_table(t) for t in tables) + "\n> " + markdown_escape(citation) + "\n"
    labels = [f"tab:{model}-total", f"tab:{model}-groups"]
    latex = "\n".join(latex_table(t, label=label) for t, label in zip(tables, labels, strict=True))
    latex += "\n\\begin{quote}\n" + latex_escape(citation) + "\n\\end{quote}\n"
    return {"tables.md": markdown, "tables.tex": latex}


def rounds_text(provenance: Mapping[str, Any]) -> str:
    """How the main fit's draws were reached, for after "4 chains × 5,500 draws"; empty for a fixed number.

    A spec's ``draws = "auto"`` draws in rounds until the gates pass or the cap
    (:mod:`dnamodel.checks.adaptive`); the summary's provenance lists the rounds' draws per chain.

    Examples
    --------
    >>> rounds_text({"draw_rounds": [1000, 5500], "draws_adaptive": True})
    ' (adaptive: 2 rounds, 1,000 then 5,500 per chain)'
    >>> rounds_text({"draw_rounds": [1000], "draws_adaptive": True})
    ' (adaptive: 1 round)'
    >>> rounds_text({"draw_rounds": [6000], "draws_adaptive": False})
    ''
    """
    rounds = [int(n) for n in provenance.get("draw_rounds") or []]
    if not provenance.get("draws_adaptive") or not rounds:
        return ""
    if len(rounds) == 1:
        return " (adaptive: 1 round)"
    return f" (adaptive: {len(rounds)} rounds, {' then '.join(f'{n:,}' for n in rounds)} per chain)"
