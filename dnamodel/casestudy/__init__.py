"""The first application: police DNA collection in Tibet, and the report that estimated it.

:mod:`~dnamodel.casestudy.tibet2022` holds the report's own estimates (Dirks 2022, Table 5),
which the summaries, plots and command line set beside every total;
:mod:`~dnamodel.casestudy.replicate` recomputes the report's Tables 4 and 5 exactly, and
:mod:`~dnamodel.casestudy.audit` every figure it derives. Both need only the validated data.
"""
