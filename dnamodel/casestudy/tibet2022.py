"""Citizen Lab report No. 158 (Dirks 2022): its estimates, and whether data hold the report's figures.

The report estimates 919,282 to 1,206,962 samples collected in the Tibet Autonomous Region,
25.1% to 32.9% of the population (Table 5). The outputs read the figures a total is set against
from the data (the bundled ``study.toml``'s ``[comparisons]``, which holds these); the constants
here are the figures as printed, the rows ``total_low``, ``total_high``, ``share_low`` and
``share_high`` of ``report_figures.csv``, which :func:`dnamodel.casestudy.replicate.replicate`
recomputes from the data (a test checks that the three agree).

:func:`report_gap` says whether data hold the report's figures, so that the replication and the
audit run only on the case study's data; :func:`report_by_prefecture` gives the report's figures
for the two prefectures it estimates alone, which the forest plot marks.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnamodel.casestudy.replicate import INPUT_IDS, STEP_IDS, replicate
from dnamodel.data import Dataset

REPORT_LOW = 919_282
REPORT_HIGH = 1_206_962
REPORT_LOW_SHARE = 0.251
REPORT_HIGH_SHARE = 0.329
"""The report's Estimates One and Two and their shares (Table 5; ``total_low`` … ``share_high``
in ``report_figures.csv``)."""

REPORT_ESTIMATES = (REPORT_LOW, REPORT_HIGH)
"""The report's Estimates One and Two (Dirks 2022, Table 5), in samples collected."""

ONE_MILLION = 1_000_000
"""A round figure between the two estimates, which the outputs also set the total against."""

THRESHOLDS = (REPORT_LOW, ONE_MILLION, REPORT_HIGH)
"""The totals a fit's summary gives P(total > threshold) for, in this order."""

ESTIMATE_ONE = "Estimate One"
ESTIMATE_TWO = "Estimate Two"
ONE_MILLION_LABEL = "one million"
THRESHOLD_LABELS = (ESTIMATE_ONE, ONE_MILLION_LABEL, ESTIMATE_TWO)
"""How the outputs name each of :data:`THRESHOLDS`."""


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


@dataclass(frozen=True)
class GroupMarks:
    """The report's own figure for each prefecture it estimates alone, for the forest plot's rows.

    Attributes
    ----------
    values : dict of str to float
        Prefecture id → the report's figure (samples).
    caption : str
        What the marks are, for the figure's caption.
    label : str
        What each mark's figure is labelled with, before its value.
    """

    values: dict[str, float]
    caption: str
    label: str = "report"


REPORT_PREFECTURE_STEPS = {"lhasa": "lhasa_database_total", "nyingchi": "nyingchi_samples"}
"""The only prefectures the report estimates on their own, and the step of ``dnamodel replicate``
that gives each figure; it puts the other five together (``rest_samples_low`` / ``_high``)."""


def report_by_prefecture(data: Dataset) -> GroupMarks | None:
    """The report's figure for each prefecture it estimates alone; ``None`` when the data are not the case study.

    From :func:`~dnamodel.casestudy.replicate.replicate` on ``data``, which reproduces the report's figures:
    the marks :func:`dnamodel.plots.forest_plot` draws beside the model's prefecture totals.

    Parameters
    ----------
    data : Dataset
        The bundled data (:func:`dnamodel.load_data`), or another programme's.

    Returns
    -------
    GroupMarks or None
        ``values``, the report's figure by prefecture id, and a ``caption`` saying what they are;
        ``None`` for data that are not the case study's.

    Examples
    --------
    >>> import dnamodel
    >>> marks = report_by_prefecture(dnamodel.load_data())
    >>> sorted(marks.values) == ["lhasa", "nyingchi"]
    True
    >>> report_by_prefecture(dnamodel.load_data(dnamodel.example_path("quillmoor") / "data")) is None
    True
    """
    if report_gap(data) is not None:
        return None
    chain = replicate(data)
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
