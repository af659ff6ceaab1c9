"""Workflows: the stages run end to end, as the commands and the public API run them.

Each asks a spec's or a fit's model family what it can do: :mod:`~dnamodel.workflows.fit` (``fit``,
``summarize``), :mod:`~dnamodel.workflows.estimate` (``run_estimate``: fit, summarise, check, write),
:mod:`~dnamodel.workflows.checkfit` (the checks of a fit), :mod:`~dnamodel.workflows.report` (the HTML
report of a saved fit), :mod:`~dnamodel.workflows.compare` (models side by side) and
:mod:`~dnamodel.workflows.sweep` (a model refitted over a grid of spec values).
"""
