"""Inference: the Bayesian models built, compiled once, and sampled; a model of each kind side by side.

The hierarchical model: :mod:`~dnamodel.inference.model` declares it in PyMC (``build_model``) and
:mod:`~dnamodel.inference.sampling` compiles and samples it (``compile_model``, ``sample``,
``fit_hierarchical``). The dated model: :mod:`~dnamodel.inference.dated` packs its inputs, samples
its numba density (:mod:`~dnamodel.inference.dated_kernel`) and derives the rest (``fit_dated``), with
its PyMC twin in :mod:`~dnamodel.inference.dated_pymc`. Declaring, building and sampling are separate
steps; which model a spec is fitted with is its family's choice (:mod:`dnamodel.families`).
"""
