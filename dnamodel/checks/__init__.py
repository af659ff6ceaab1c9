"""Checks of a fit: its gates, its summary, its predictions, its sensitivity, its calibration.

:mod:`~dnamodel.checks.gates` (``diagnose``), :mod:`~dnamodel.checks.summary`
(``summarize_fit``, the citation), :mod:`~dnamodel.checks.rebuild` (a fit's data, read again and
checked), and each kind's checks: :mod:`~dnamodel.checks.predictive` (``Check`` and ``PriorCheck``;
the hierarchical model's posterior predictive, leave-one-out, forecast and prior checks),
:mod:`~dnamodel.checks.calibration` (its simulation-based calibration and parameter recovery) and
:mod:`~dnamodel.checks.dated` (the dated model's checks and calibration);
:mod:`~dnamodel.checks.powerscale` (power-scaling sensitivity) and :mod:`~dnamodel.checks.compare`
(stacking). A fit's family chooses among them (:mod:`dnamodel.families`).
"""
