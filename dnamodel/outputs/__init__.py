"""Outputs: what a person reads, and the files that carry a result.

:mod:`~dnamodel.outputs.tables` (terminal tables), :mod:`~dnamodel.outputs.plots` (the figures'
style, and a fit's figures), :mod:`~dnamodel.outputs.check_plots` and
:mod:`~dnamodel.outputs.sweep_plots` (the checks', the sweeps' and the comparison's figures),
:mod:`~dnamodel.outputs.io` (a fit's NetCDF, CSV and figures), :mod:`~dnamodel.outputs.sweep` (a
sweep's result presented), :mod:`~dnamodel.outputs.html` and :mod:`~dnamodel.outputs.markup` (the
self-contained HTML report, and the hooks by which a model family and an application add to it), and
each kind's own: :mod:`~dnamodel.outputs.dated`, :mod:`~dnamodel.outputs.hierarchical`.
"""
