"""Citizen Lab report No. 158 (Dirks 2022) on top of the engine: its figures in the data, and its part of the outputs.

The report estimates 919,282 to 1,206,962 samples collected in the Tibet Autonomous Region,
25.1% to 32.9% of the population (Table 5). The engine reads the figures a total is set against
from the data (the bundled ``study.toml``'s ``[comparisons]``), and the report's own figures are
rows of ``report_figures.csv``, which :func:`dnamodel.casestudy.replicate.replicate` recomputes.

:func:`report_gap` says whether data hold the report's figures, so that the replication and the
audit run only on the case study's data; :func:`report_by_prefecture` gives the report's figures
for the two prefectures it estimates alone, which the forest plot marks. :data:`CASE_STUDY` is the
case study's extension of the outputs (:class:`dnamodel.outputs.html.ReportExtension`): the audit in
the HTML report's data section, and those marks on its forest plot. The interface passes it in
(:func:`dnamodel.applications.extensions_for`); no engine module imports this one.
"""

from __future__ import annotations

from dnamodel.casestudy.audit import audit
from dnamodel.casestudy.replicate import INPUT_IDS, STEP_IDS, replicate
from dnamodel.data import Dataset, load_data
from dnamodel.deprecation import keyword_only_since
from dnamodel.outputs.markup import escape, table
from dnamodel.outputs.plots import GroupMarks

NAME = "tibet2022"
"""The case study's name, as a data folder's ``study.toml`` may give it (``[study] application``)."""


def report_gap(data: Dataset) -> str | None:
    """Why ``data`` do not hold the report's figures (the first id its replication needs), or ``None``.

    The replication and the audit are the case study: the commands and outputs that are not the
    case study's own (``estimate``, ``mc``, ``report``, ``sweep``) run them only when the data hold
    the report's figures, and otherwise skip them with :func:`skipped`'s line.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> report_gap(load_data()) is None
    True
    """
    missing = [oid for oid in INPUT_IDS if oid not in data.observations]
    missing += [fid for fid in STEP_IDS if fid not in data.report_figures]
    if not missing:
        return None
    needed = len(INPUT_IDS) + len(STEP_IDS)
    if len(missing) == needed:
        return "the data do not hold the report's figures"
    shown = ", ".join(missing[:3]) + (" and more" if len(missing) > 3 else "")
    return f"the data lack {len(missing)} of the {needed} figures the replication needs ({shown})"


def report_absent(data: Dataset) -> bool:
    """Whether ``data`` hold none of the figures the replication needs (another programme's data).

    Data holding some but not all of them are the case study's with rows missing: ``replicate``
    and ``audit`` then fail naming the first missing id, rather than being skipped.
    """
    return not any(oid in data.observations for oid in INPUT_IDS) and not any(
        fid in data.report_figures for fid in STEP_IDS
    )


def skipped(reason: str) -> str:
    """The one line that says the case study's replication and audit are skipped, and why."""
    return f"The replication and audit of {REPORT} are skipped: {reason}."


REPORT = "Citizen Lab report No. 158 (Dirks 2022)"
"""The report the case study replicates and audits, as the outputs name it."""


REPORT_PREFECTURE_STEPS = {"lhasa": "lhasa_database_total", "nyingchi": "nyingchi_samples"}
"""The only prefectures the report estimates on their own, and the step of ``dnamodel replicate``
that gives each figure; it puts the other five together (``rest_samples_low`` / ``_high``)."""


@keyword_only_since("data")
def report_by_prefecture(*, data: Dataset | None = None) -> GroupMarks | None:
    """The report's figure for each prefecture it estimates alone; ``None`` when the data are not the case study.

    From :func:`~dnamodel.casestudy.replicate.replicate` on ``data``, which reproduces the report's figures:
    the marks :func:`dnamodel.plots.forest_plot` draws beside the model's prefecture totals.

    Parameters
    ----------
    data : Dataset, optional
        The bundled data (the default), or another programme's.

    Returns
    -------
    GroupMarks or None
        ``values``, the report's figure by prefecture id, and a ``caption`` saying what they are;
        ``None`` for data that are not the case study's.

    Examples
    --------
    >>> import dnamodel
    >>> marks = report_by_prefecture()
    >>> sorted(marks.values) == ["lhasa", "nyingchi"]
    True
    >>> report_by_prefecture(data=dnamodel.load_data(dnamodel.example_path("quillmoor") / "data")) is None
    True
    """
    data = data if data is not None else load_data()
    if report_gap(data) is not None:
        return None
    chain = replicate(data=data)
    values = {pid: float(chain.step(step).value) for pid, step in REPORT_PREFECTURE_STEPS.items() if pid in data.areas}
    low, high = float(chain.step("rest_samples_low").value), float(chain.step("rest_samples_high").value)
    names = " and ".join(data.place_name(pid).split(" (")[0] for pid in values)
    caption = (
        f"Orange diamonds: the report's own figures for {names}, the only prefectures it estimates on their own "
        "(Lhasa's is its database count of January 2021, Nyingchi's Lhasa's rate times Nyingchi's population). The "
        f"report puts the other five together ({low:,.0f} in Estimate One, {high:,.0f} in Estimate Two), so their "
        "rows carry no mark."
    )
    return GroupMarks(values, caption)


class CaseStudyReport:
    """The case study's part of the outputs: the report's audit in the data section, its figures by prefecture.

    A :class:`dnamodel.outputs.html.ReportExtension`. On data without the report's figures (a copy of
    the bundled data with rows removed, whose ``study.toml`` still names the case study), the audit's
    place says in one line why it is skipped, and nothing is marked.
    """

    name = NAME

    def section_parts(self, section: str, data: Dataset) -> list[str]:
        """The audit of the report's figures, after the data section's own parts.

        Examples
        --------
        >>> from dnamodel.data import load_data
        >>> parts = CASE_STUDY.section_parts("data", load_data())
        >>> parts[0], CASE_STUDY.section_parts("model", load_data())
        ("<h3>Audit of the report's figures</h3>", [])
        """
        if section != "data":
            return []
        gap = report_gap(data)
        if gap is not None:
            return [f'<p class="note">{escape(skipped(gap))}</p>']
        result = audit(data=data)
        counts = result.counts()
        disagreements = [[f.id, f.where, f.quantity, f.printed, f.recomputed, f.cause] for f in result.disagreements()]
        notes = [
            [f.id, f.where, f.quantity, f.printed, f.recomputed, f.cause] for f in result.findings if f.status == "note"
        ]
        return [
            "<h3>Audit of the report's figures</h3>",
            f"<p><code>dnamodel audit</code> recomputes every figure the report derives: {counts['agrees']} agree with "
            f"their inputs, <b>{counts['disagrees']} disagree</b>, and {counts['note']} are notes on method or basis. "
            "The model uses the sources' figures, not the report's derived ones.</p>",
            table(["id", "where", "quantity", "printed", "recomputed", "likely cause"], disagreements),
            f"<details><summary>The {len(notes)} notes</summary>"
            + table(["id", "where", "quantity", "printed", "recomputed", "note"], notes)
            + "</details>",
        ]

    def group_marks(self, data: Dataset) -> GroupMarks | None:
        """The report's own figures for Lhasa and Nyingchi (:func:`report_by_prefecture`)."""
        return report_by_prefecture(data=data)


CASE_STUDY = CaseStudyReport()
"""The case study's extension of the outputs."""
