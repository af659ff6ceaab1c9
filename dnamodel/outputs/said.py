"""What decides the figure, as ``estimate`` prints it: the κ table, the widths table and the sentences."""

from __future__ import annotations

from typing import Any

from dnamodel.checks.decisive import MOSTLY_PRIOR
from dnamodel.checks.summary import round_significant
from dnamodel.outputs.markup import escape, table
from dnamodel.outputs.tables import WRAP, Table, value_text


def _count(value: float) -> str:

    return f"{round_significant(value, 3):,.0f}"


def _width(value: float) -> str:
    """A 90% width: a count to the unit, a width on a logit or log scale to three significant figures.

    >>> _width(866_936.4), _width(4.637), _width(0.3716)
    ('866,936', '4.64', '0.372')
    """
    return value_text(value) if abs(value) >= 1000 else f"{value:.3g}"


def fixed_table(said: Any) -> Table | None:
    """The total with the typed share held at each value, or None (no database, or not computed)."""
    a = said.assumptions if said is not None else None
    if a is None or not a.computed or not a.fixed:
        return None
    rows = [
        [
            f"{r.value:.1f}",
            _count(r.median),
            f"{_count(r.low)} to {_count(r.high)}",
            *_gate_cells(r.gates, a.chains),
            "" if r.passed else "gates failed",
        ]
        for r in a.fixed
    ]
    symbol = said.fixed_symbol
    return Table(
        f"The total if the {said.fixed_words} ({symbol}) were known (refits with {symbol} held at each value; "
        "R-hat and ESS of the total)",
        [symbol, "median>", "90%>", "start", "draws>", "R-hat>", "ESS>", ""],
        rows,
    )


def _gate_cells(gates: dict[str, Any], chains: int) -> list[str]:
    """A refit's start (warm, cold), its chains × draws, R-hat and ESS; blank where a cached refit lacks them."""
    if not gates:
        return ["", "", "", ""]
    return [
        str(gates.get("start", "")),
        f"{chains} × {int(gates['draws']):,}" if "draws" in gates else "",
        f"{float(gates['max_rhat']):.3f}" if "max_rhat" in gates else "",
        f"{float(gates['min_ess']):,.0f}" if "min_ess" in gates else "",
    ]


def widths_table(said: Any) -> Table | None:
    """Each quantity's posterior 90% width against its prior's, "mostly prior" above the threshold."""
    if said is None or not said.widths:
        return None
    rows = [
        [
            said.labels.get(w.quantity, w.quantity),
            _width(w.prior_width),
            _width(w.posterior_width),
            f"{w.ratio:.2f}",
            "mostly prior" if w.mostly_prior else "",
        ]
        for w in said.widths
    ]
    return Table(
        f'How much the data say: posterior 90% width against the prior\'s ("mostly prior" above {MOSTLY_PRIOR:.0%})',
        ["", "prior>", "posterior>", "ratio>", ""],
        rows,
        wrap=WRAP,
    )


def said_lines(said: Any, summary: Any) -> tuple[list[str], list[str], list[str]]:
    """The lines before the sentence to cite (selection), after it (what decides it, the data), and after those.

    The last: the share collected after the last region-wide figure, said with or without a sentence.
    """
    if said is None:
        return [], [], []
    before = [f"Selection: {said.selection}"] if said.selection else []
    after = []
    decisive = said.decisive_sentence(summary)
    if decisive:
        after.append("What decides it: " + decisive)
    data = said.data_sentence()
    if data:
        after.append(data)
    share = said.share_after_sentence()
    return before, after, [share] if share else []


def said_html(said: Any, summary: Any) -> str:
    """The report's first section's part: selection, what decides the figure, the data, the share after, the tables."""
    if said is None:
        return ""
    before, after, always = said_lines(said, summary)
    if summary.sentence is None:  # as the terminal: nothing said beside a sentence that is withheld
        after = []
    parts = [f'<p class="warning">{escape(line)}</p>' for line in before]
    if after or always:
        parts.append("<h3>What decides it</h3>")
        parts += [f'<p class="cite">{escape(line.removeprefix("What decides it: "))}</p>' for line in after]
        parts += [f"<p>{escape(line)}</p>" for line in always]
    for made in (fixed_table(said), widths_table(said)):
        if made is not None:
            parts.append(f"<h3>{escape(made.title)}</h3>")
            parts.append(
                table(
                    [h.rstrip(">") for h in made.columns],
                    made.rows,
                    numeric=[i for i, h in enumerate(made.columns) if h.endswith(">")],
                )
            )
    return "".join(parts)
