"""The first application, on top of the engine: police DNA collection in Tibet, and the report that estimated it.

:mod:`~dnamodel.casestudy.replicate` recomputes the report's Tables 4 and 5 exactly, and
:mod:`~dnamodel.casestudy.audit` every figure it derives; both need only the validated data.
:mod:`~dnamodel.casestudy.tibet2022` says whether data hold the report's figures and gives the case
study's part of the outputs (its audit in the HTML report, the report's figures on the forest plot),
which the interface passes to them (:mod:`dnamodel.applications`). The figures a total is set
against (the report's two estimates) are the data's, in the bundled ``study.toml``.
"""
