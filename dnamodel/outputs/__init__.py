"""Outputs: what a person reads, and the files that carry a result.

:mod:`~dnamodel.outputs.tables` (terminal tables), :mod:`~dnamodel.outputs.plots` (PNG figures),
:mod:`~dnamodel.outputs.io` (a fit's NetCDF, CSV and figures), :mod:`~dnamodel.outputs.sweep`
(a sweep's result presented) and :mod:`~dnamodel.outputs.html` (the self-contained HTML report).
"""
