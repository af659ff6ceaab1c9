"""Citizen Lab report No. 158 (Dirks 2022): its estimates, as the outputs quote them.

The report estimates 919,282 to 1,206,962 samples collected in the Tibet Autonomous Region,
25.1% to 32.9% of the population (Table 5). Summaries of a fit give the probability that the
total exceeds each estimate and one million, the figures mark them, and the command line and the
HTML report label them. These are the figures as printed: the same numbers are the rows
``total_low``, ``total_high``, ``share_low`` and ``share_high`` of ``report_figures.csv``,
which :func:`dnamodel.casestudy.replicate.replicate` recomputes from the data.
"""

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
