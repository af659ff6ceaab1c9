"""The value of information as a person reads it: the ranked table and its figure.

:func:`voi_table` and :func:`voi_plot` show :class:`~dnamodel.checks.voi.ValueOfInformation`: each
candidate observation in the study's words, the expected width of the total's 90% interval if it
were found (as a share of today's), with its Monte Carlo error, how it was computed and the largest
Pareto k̂ of its reweighting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dnamodel.checks.voi import K_LIMIT, Narrowing, ValueOfInformation
from dnamodel.outputs import plots
from dnamodel.outputs.markup import escape, table
from dnamodel.outputs.plots import HIGH_COLOUR, LOW_COLOUR
from dnamodel.outputs.tables import Table


def k_text(narrowing: Narrowing) -> str:
    """The largest k̂, and how many simulated values exceed the limit (those left unreliable marked)."""
    text = f"{narrowing.k_hat_max:.2f}" if narrowing.k_hat_max < 10 else "> 10"
    if narrowing.high_k:
        text += f" ({narrowing.high_k} of {narrowing.simulations} > {K_LIMIT:g}"
        text += f", {narrowing.unreliable} not refitted)" if narrowing.unreliable else ", refitted)"
    return text


def ratio_text(narrowing: Narrowing) -> str:
    """The expected width ratio with its Monte Carlo error: ``0.42 ± 0.01``."""
    return f"{narrowing.ratio:.2f} ± {narrowing.mcse:.2f}"


def voi_table(result: ValueOfInformation, unit: str) -> Table:
    """The ranked table: best first."""
    rows = []
    for rank, n in enumerate(result.narrowings, 1):
        refit = "" if n.refit_ratio is None else f"{n.refit_ratio:.2f} ± {n.refit_mcse or 0:.2f} ({n.refitted})"
        rows.append([str(rank), n.candidate.name, n.candidate.words, ratio_text(n), refit, n.method, k_text(n)])
    title = (
        f"If it were found: the expected width of the total's 90% interval ({result.low:,.0f} to {result.high:,.0f} "
        f"{unit} today) as a share of today's, over {result.simulations} simulated values each"
    )
    return Table(
        title,
        ["#>", "candidate", "what it is", "width ratio>", "by refits>", "method", "k̂ max>"],
        rows,
    )


def voi_plot(result: ValueOfInformation, path: str | Path, study: Any) -> Path:
    """Each candidate's expected 90% width ratio with a ±2 MCSE bar, best at the top (a PNG file)."""
    target = plots._png_target(path)
    rows = list(result.narrowings)
    figure = plots._figure(9.0, 1.6 + 0.32 * len(rows))
    axes = figure.add_subplot()
    for y, n in enumerate(reversed(rows)):
        colour = HIGH_COLOUR if n.unreliable else LOW_COLOUR
        axes.errorbar(n.ratio, y, xerr=2 * n.mcse, fmt="o", color=colour, capsize=3, markersize=5)
        if n.refit_ratio is not None:
            axes.errorbar(n.refit_ratio, y - 0.25, xerr=2 * (n.refit_mcse or 0.0), fmt="s", color="#55a868",
                          capsize=2, markersize=4)  # fmt: skip
    axes.set_yticks(range(len(rows)), [n.candidate.words for n in reversed(rows)], fontsize=7)
    axes.axvline(1.0, color="#9a9a9a", linewidth=0.8)
    axes.set_xlim(0, max(1.05, *(n.ratio + 2 * n.mcse + 0.02 for n in rows)))
    axes.set_xlabel("expected width of the total's 90% interval, as a share of today's")
    title = plots.wrapped_title(f"{study.words.counted}: which figure, if found, would narrow the interval most")
    figure.suptitle(title)  # over the whole figure: the candidates' labels take the left of it
    caption = (
        f"Each candidate observation's expected 90% interval width of the total if it were found, over today's "
        f"({result.low:,.0f} to {result.high:,.0f} {study.words.unit}); bars ±2 Monte Carlo errors over "
        f"{result.simulations} simulated values. Circles: importance sampling of the fit's draws (orange where "
        f"some simulated values' Pareto k̂ exceeds {K_LIMIT:g} and was not refitted); squares: refits with the "
        "candidate as an observation."
    )
    return plots._save(figure, target, title, caption)


def voi_html(result: ValueOfInformation | None, figure: str, unit: str) -> list[str]:
    """The report's part: the ranked table and its figure, or why there is none (a family without it)."""
    heading = "<h3>Which figure to look for next</h3>"
    if result is None:
        return [heading, '<p class="note">Not computed: this kind of model has no value of information.</p>']
    rows = [
        [str(rank), n.candidate.words, ratio_text(n), n.method, k_text(n)]  # table() escapes each cell
        for rank, n in enumerate(result.narrowings, 1)
    ]
    return [
        heading,
        "<p>For each figure a researcher might find, the expected width of the total's 90% interval if it were "
        f"found, as a share of today's ({result.low:,.0f} to {result.high:,.0f} {escape(unit)}), with its Monte "
        f"Carlo error over {result.simulations} values simulated from the fit's predictive, each with the "
        "candidate's own measurement error: the fit's draws reweighted by each value (Pareto-smoothed importance "
        f"sampling; k̂ above {K_LIMIT:g} marks a value the reweighting cannot be trusted at, which "
        "<code>dnamodel voi --refits N</code> refits).</p>",
        table(["#", "candidate", "width ratio", "method", "k̂ max"], rows, numeric=(0, 2)),
        figure,
    ]
