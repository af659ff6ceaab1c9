"""Inference: the Bayesian models built, compiled once and sampled, each kind side by side, and what their draws imply.

The hierarchical model: :mod:`~dnamodel.inference.model` declares it in PyMC (``build_model``) and
:mod:`~dnamodel.inference.sampling` compiles and samples it (``compile_model``, ``sample``,
``fit_hierarchical``). The dated model: :mod:`~dnamodel.inference.dated_packing` packs its inputs
into the one vector its compiled density reads (:mod:`~dnamodel.inference.dated_kernel`, numba),
whose functions over draws :mod:`~dnamodel.inference.dated_quantities` names;
:mod:`~dnamodel.inference.dated` samples it with nutpie (``fit_dated``), and
:mod:`~dnamodel.inference.dated_pymc` is its PyMC twin. Declaring, building and sampling are
separate steps; which model a spec is fitted with is its family's choice (:mod:`dnamodel.families`).
"""
