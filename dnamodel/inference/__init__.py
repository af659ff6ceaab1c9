"""Inference: the hierarchical model built in PyMC, compiled once, and sampled.

:mod:`~dnamodel.inference.model` declares the model (``build_model``);
:mod:`~dnamodel.inference.sampling` compiles and samples it (``compile_model``, ``sample``,
``fit``). Declaring, building and sampling are separate steps.
"""
