"""Workflows: the stages run end to end, as the commands run them.

:mod:`~dnamodel.workflows.estimate` (``run_estimate``: fit, summarise, check, write) and
:mod:`~dnamodel.workflows.sweep` (``sweep``: a model refitted over a grid of spec values).
"""
