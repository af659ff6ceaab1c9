"""Checks of a fit: its gates, its summary, its predictions, its sensitivity, its calibration.

:mod:`~dnamodel.checks.gates` (``diagnose``), :mod:`~dnamodel.checks.summary`
(``summarize_fit``, the citation), :mod:`~dnamodel.checks.predictive` (posterior predictive,
leave-one-out and prior checks), :mod:`~dnamodel.checks.powerscale` (power-scaling sensitivity)
and :mod:`~dnamodel.checks.calibration` (simulation-based calibration and parameter recovery).
"""
