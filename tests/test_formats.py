"""Markdown and LaTeX renderings of a table: the columns, the escaping, and the same figures.

The Markdown is read back by a CommonMark parser with GitHub's tables (markdown-it-py), so each cell
is checked as a reader sees it, not as the source spells it. No TeX is installed here, so the LaTeX
is read back by undoing exactly the escapes its writer may produce, and its structure is checked
line by line.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import dnamodel
from dnamodel.cli import main
from dnamodel.data.printed import format_exact
from dnamodel.outputs.formats import LATEX_PACKAGES, latex_escape, latex_table, markdown_escape, markdown_table
from dnamodel.outputs.tables import Table, console, render

HOSTILE = [
    "a | b",
    "under_score and *stars* and `ticks`",
    r"back\slash",
    "<b>not bold</b> & [not a link](x)",
    "$5 ~ 50% # {braces} ^caret",
    "--flag",
    "[sampler] first",
    "κ ≥ 0.5 × 2 − 1 ✓ ✗ … ÷ ± δ Σ",
    "Lhünzhub, Nêdong",  # letters outside ASCII pass through
]


@pytest.fixture(scope="module")
def replication_table(data) -> Table:
    """The report's Tables 4 and 5 as `dnamodel replicate` prints them: arithmetic, ×, ÷, %, ✓."""
    result = dnamodel.replicate(data=data)
    rows = [
        [
            step.label,
            step.arithmetic,
            format_exact(step.exact, step.printed.style),
            step.shown(),
            step.printed.text,
            "✓" if step.matches else "✗",
            step.note,
        ]
        for step in result.steps
    ]
    return Table("Tables 4 and 5", ["Step", "Arithmetic", "Exact>", "dnamodel>", "Report>", "=", "Rounding"], rows)


def hostile_table() -> Table:
    return Table("Escaping: 100% | _all_ of it", ["text", "n>"], [[cell, f"{i:,}"] for i, cell in enumerate(HOSTILE)])


# --- Markdown ------------------------------------------------------------------------------------------


class _Cells(HTMLParser):
    """The text of every header and data cell of an HTML table, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.align: list[str | None] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
            if tag == "th":
                self.align.append(dict(attrs).get("style"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_markdown(text: str) -> tuple[str, _Cells]:
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<table>") == 1, html
    cells = _Cells()
    cells.feed(html)
    return html, cells


@pytest.mark.parametrize("which", ["replication", "hostile"])
def test_markdown_cells_read_back_as_the_table_prints_them(which, request):
    table = request.getfixturevalue("replication_table") if which == "replication" else hostile_table()
    html, cells = read_markdown(markdown_table(table))
    headers = [c.removesuffix(">") for c in table.columns]
    assert cells.rows[0] == headers
    assert cells.rows[1:] == [list(row) for row in table.rows]
    assert cells.align == ["text-align:right" if c.endswith(">") else None for c in table.columns]
    title = html.split("<table>")[0]
    assert re.sub(r"<[^>]+>", "", title).strip() == table.title.replace("&", "&amp;")


def test_markdown_escapes_markup_and_nothing_else():
    assert markdown_escape("a | b") == r"a \| b"
    assert markdown_escape("*x* _y_ `z` [l](u) <t> ~s~ $m$ &amp; \\") == (
        r"\*x\* \_y\_ \`z\` \[l\](u) \<t\> \~s\~ \$m\$ \&amp; \\"
    )
    assert markdown_escape("1,206,962 (32.9%) κ ≥ 0.5") == "1,206,962 (32.9%) κ ≥ 0.5"
    assert markdown_escape("two\nlines") == "two lines"


def test_markdown_of_a_table_without_title_or_rows():
    text = markdown_table(Table("", ["a", "b>"], []))
    assert text == "| a | b |\n| --- | ---: |\n"


def test_a_row_of_the_wrong_length_is_refused():
    table = Table("t", ["a", "b"], [["1", "2"], ["3"]])
    with pytest.raises(ValueError, match="row 2 has 1 cells for 2 columns"):
        markdown_table(table)
    with pytest.raises(ValueError, match="row 2 has 1 cells for 2 columns"):
        latex_table(table)


# --- LaTeX ----------------------------------------------------------------------------------------------

_UNESCAPE = {
    r"\textbackslash{}": "\\",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\textasciigrave{}": "`",
    r"\textless{}": "<",
    r"\textgreater{}": ">",
    r"\textbar{}": "|",
    r"\textminus{}": "−",
    r"\texttimes{}": "×",
    r"\textdiv{}": "÷",
    r"\textpm{}": "±",
    r"\textmu{}": "µ",
    r"\dots{}": "…",
    r"\ensuremath{\geq}": "≥",
    r"\ensuremath{\leq}": "≤",
    r"\ensuremath{\approx}": "≈",
    r"\ensuremath{\rightarrow}": "→",
    r"\ding{51}": "✓",
    r"\ding{55}": "✗",
    r"\ensuremath{\kappa}": "κ",
    r"\ensuremath{\delta}": "δ",
    r"\ensuremath{\Sigma}": "Σ",
    "{[}": "[",
    "{]}": "]",
    "-{}": "-",
    "---": "—",
    "--": "–",
}
_TOKEN = re.compile("|".join(re.escape(k) for k in sorted(_UNESCAPE, key=len, reverse=True)) + r"|\\([&%$#_{}])")


def unlatex(text: str) -> str:
    """Undo :func:`latex_escape` for the characters these tests use; fail on any other command."""
    leftover = _TOKEN.sub("", text)
    # nothing LaTeX reads as markup, and none of the symbols it must spell out, is left bare
    assert not set(leftover) & set("\\&%$#_{}~^<>|[]`×÷−–—±µ…≥≤≈→✓✗κδΣ"), f"not escaped: {text!r}"
    assert "--" not in leftover, text
    return _TOKEN.sub(lambda m: m[1] if m[1] else _UNESCAPE[m[0]], text)


def latex_rows(text: str) -> tuple[str, list[list[str]], str]:
    """The column spec, the rows between \\toprule and \\bottomrule (header first), and the caption."""
    lines = text.splitlines()
    spec = re.fullmatch(r"  \\begin\{tabular\}\{([lr]*)\}", lines[lines.index(r"    \toprule") - 1])[1]
    body = lines[lines.index(r"    \toprule") + 1 : lines.index(r"    \bottomrule")]
    assert body[1] == r"    \midrule"
    rows = []
    for line in [body[0], *body[2:]]:
        assert line.startswith("    "), line
        assert line.endswith(r" \\"), line
        # a cell's own & is escaped (\&); only bare ones separate cells
        rows.append([unlatex(cell.strip()) for cell in re.split(r"(?<!\\)&", line[4:-3])])
    caption = re.search(r"\\caption\{(.*)\}", text)
    return spec, rows, unlatex(caption[1]) if caption else ""


@pytest.mark.parametrize("which", ["replication", "hostile"])
def test_latex_cells_read_back_as_the_table_prints_them(which, request):
    table = request.getfixturevalue("replication_table") if which == "replication" else hostile_table()
    text = latex_table(table, label="tab:t")
    spec, rows, caption = latex_rows(text)
    assert spec == "".join("r" if c.endswith(">") else "l" for c in table.columns)
    assert rows[0] == [c.removesuffix(">") for c in table.columns]
    assert rows[1:] == [[cell.strip() for cell in row] for row in table.rows]
    assert caption == table.title
    assert text.startswith("\\begin{table}\n")
    assert text.endswith("\\end{table}\n")
    assert r"\label{tab:t}" in text
    assert text.count("{") == text.count("}")


def test_latex_escapes_every_special_character():
    assert latex_escape(r"& % $ # _ { } ~ ^ \ < > |") == (
        r"\& \% \$ \# \_ \{ \} \textasciitilde{} \textasciicircum{} \textbackslash{} \textless{} \textgreater{} "
        r"\textbar{}"
    )
    assert latex_escape("[a] --x") == "{[}a{]} -{}-x"
    assert latex_escape("κ ≥ 1 − ✓") == r"\ensuremath{\kappa} \ensuremath{\geq} 1 \textminus{} \ding{51}"
    assert latex_escape("Nêdong ο") == "Nêdong ο"  # Latin letters and omicron pass through
    assert LATEX_PACKAGES == ("booktabs", "pifont")


def test_latex_without_title_or_label_has_no_caption():
    text = latex_table(Table("", ["a"], [["1"]]))
    assert r"\caption" not in text
    assert r"\label" not in text


# --- the same figures as the terminal ---------------------------------------------------------------


def test_every_format_carries_the_figures_the_terminal_prints(replication_table):
    stream = io.StringIO()
    render(console(stream), replication_table)
    plain = stream.getvalue().splitlines()[3:]  # after the title, the header and its rule
    markdown = markdown_table(replication_table).splitlines()[4:]  # after the title, a blank, header, alignment
    _, latex, _ = latex_rows(latex_table(replication_table))
    figures = re.compile(r"\d[\d,]*(?:\.\d+)?%?(?: million)?")
    rows = list(replication_table.rows)
    assert len(plain) >= len(rows) == len(markdown) == len(latex) - 1
    for row, printed, in_markdown, in_latex in zip(rows, plain, markdown, latex[1:], strict=False):
        in_table = figures.findall(" ".join(row))
        assert in_table, row
        assert figures.findall(printed) == in_table
        assert figures.findall(in_markdown) == in_table
        assert figures.findall(" ".join(in_latex)) == in_table


# --- what estimate and report write (issue 25, item 2) --------------------------------------------------

QUILLMOOR = Path(dnamodel.example_path("quillmoor"))


@pytest.fixture(scope="module")
def estimated(tmp_path_factory):
    """`dnamodel estimate` of the example's dated model at reduced draws: its output folder."""
    out = tmp_path_factory.mktemp("estimate")
    argv = ["estimate", str(QUILLMOOR / "models" / "dated.toml"), "--data", str(QUILLMOOR / "data")]
    argv += ["--out", str(out), "--draws", "200", "--tune", "200", "--chains", "2", "--no-loo", "--allow-bad-fit"]
    assert main(argv) == 0
    return out


def csv_figures(path: Path) -> dict[tuple[str, str, str, str], float]:
    """The summary CSV's numbers by (quantity, statistic, kind, probability)."""
    with path.open(encoding="utf-8") as handle:
        return {
            (row["quantity"], row["statistic"], row["kind"], row["probability"]): float(row["value"])
            for row in csv.DictReader(handle)
            if row["quantity"] != "provenance"
        }


def expected_rows(figures: dict, groups: list[tuple[str, str]]) -> tuple[list[list[str]], list[list[str]]]:
    """The headline and group tables' rows, made from the CSV's figures alone, as the tables print them."""
    count = lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}"  # noqa: E731
    share = lambda v: f"{v * 100:.3f}%"  # noqa: E731
    t = lambda stat, kind="", p="": figures[("total", stat, kind, p)]  # noqa: E731
    s = lambda stat, kind="", p="": figures[("share", stat, kind, p)]  # noqa: E731
    headline = [
        ["median", count(t("median")), share(s("median")), "", ""],
        ["mean", count(t("mean")), share(s("mean")), f"MCSE {count(t('mcse_mean'))}", ""],
    ]
    for p in ("0.5", "0.9", "0.95"):
        headline.append(
            [
                f"{float(p):.0%} interval",
                f"{count(t('low', 'equal-tailed', p))} to {count(t('high', 'equal-tailed', p))}",
                f"{share(s('low', 'equal-tailed', p))} to {share(s('high', 'equal-tailed', p))}",
                f"{count(t('low', 'HDI', p))} to {count(t('high', 'HDI', p))}",
                f"{share(s('low', 'HDI', p))} to {share(s('high', 'HDI', p))}",
            ]
        )
    group_rows = []
    for group, name in groups:
        q = f"group_total[{group}]"
        median, low, high = (figures[(q, "median", "", "")], figures[(q, "low", "equal-tailed", "0.9")],
                             figures[(q, "high", "equal-tailed", "0.9")])  # fmt: skip
        group_rows.append([name, count(median), f"{count(low)} to {count(high)}"])
    return headline, group_rows


def test_estimate_writes_markdown_and_latex_with_the_csvs_figures(estimated):
    model = "quillmoor_dated"
    figures = csv_figures(estimated / f"{model}_summary.csv")
    data = dnamodel.load_data(QUILLMOOR / "data")
    groups = [(g, data.areas[g].name) for g in data.groups]
    headline, group_rows = expected_rows(figures, groups)

    markdown = (estimated / f"{model}_tables.md").read_text(encoding="utf-8")
    tables = re.split(r"\n(?=\*\*)", markdown.split("\n> ")[0])  # each table starts with its bold title
    assert len(tables) == 2
    _, first = read_markdown(tables[0])
    assert first.rows[0] == ["", "total", "share", "HDI total", "HDI share"]
    assert first.rows[1:] == headline
    _, second = read_markdown(tables[1])
    assert second.rows[0] == ["", "population", "total", "90%", "share"]
    assert [[r[0], r[2], r[3]] for r in second.rows[1:]] == [[n.replace("\\", ""), m, i] for n, m, i in group_rows]
    summary = dnamodel.summarize(dnamodel.read_fit(estimated / f"{model}.nc"), data=data)
    withheld = f"No sentence to cite: {summary.withheld}" + (f" {summary.advice}" if summary.advice else "")
    assert markdown.rstrip().endswith("> " + markdown_escape(withheld))  # the reason, then what to do

    latex = (estimated / f"{model}_tables.tex").read_text(encoding="utf-8")
    first_table, second_table = latex.split("\\end{table}\n")[:2]
    spec, rows, caption = latex_rows(first_table + "\\end{table}\n")
    assert spec == "lrrrr"
    assert rows[1:] == headline
    assert caption == summary.study.title(summary.provenance.get("estimand_date"))
    _, rows, caption = latex_rows(second_table + "\\end{table}\n")
    assert [[r[0], r[2], r[3]] for r in rows[1:]] == group_rows
    assert caption.startswith("By district")
    assert r"\label{tab:quillmoor_dated-total}" in latex
    assert unlatex(latex.split("\\begin{quote}\n")[1].split("\n\\end{quote}")[0]).startswith("No sentence to cite: ")


def test_report_writes_the_same_tables_beside_its_page(estimated, capsys):
    """`report --from` a fit writes the tables estimate wrote beside its CSV, beside the HTML page."""
    model = "quillmoor_dated"
    figures = csv_figures(estimated / f"{model}_summary.csv")
    headline, _ = expected_rows(figures, [])
    argv = ["report", "--from", str(estimated / f"{model}.nc"), "--data", str(QUILLMOOR / "data"), "--no-sweeps"]
    assert main([*argv, "--out", str(estimated / "report.html"), "--allow-bad-fit"]) == 0
    out = capsys.readouterr().out
    assert f"{estimated / 'report_tables.md'}" in out
    beside = (estimated / "report_tables.md").read_text(encoding="utf-8")
    assert beside == (estimated / f"{model}_tables.md").read_text(encoding="utf-8")
    for row in headline:
        assert " | ".join(markdown_escape(c) for c in row) in beside
