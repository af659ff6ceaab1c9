"""Model specs: TOML files, validated strictly, then resolved against the data.

A spec is found by path or by name in ``dnamodel/models/`` (:func:`~dnamodel.spec.base.find_model`)
and read by :func:`~dnamodel.spec.base.read_toml`; each kind of spec has its own module, which
parses its tables and resolves it against the data: :mod:`~dnamodel.spec.montecarlo`
(:func:`~dnamodel.spec.montecarlo.parse_montecarlo`, :func:`~dnamodel.spec.montecarlo.resolve`),
:mod:`~dnamodel.spec.hierarchical` with :mod:`~dnamodel.spec.resolve`, and
:mod:`~dnamodel.spec.dated`. :mod:`~dnamodel.spec.base` holds what they share;
:mod:`~dnamodel.spec.sweep` reads sweep files and changes a spec at dotted paths. Which parser reads a
spec is its model family's choice, by the ``[model]`` table's ``kind``:
:func:`dnamodel.families.load_model` (the public :func:`dnamodel.load_model`).
"""

from __future__ import annotations

from dnamodel.spec.base import MODELS_DIR, available_models, find_model, read_toml
from dnamodel.spec.dated import DatedSpec
from dnamodel.spec.hierarchical import HierarchicalSpec
from dnamodel.spec.montecarlo import ModelSpec

__all__ = ["MODELS_DIR", "DatedSpec", "HierarchicalSpec", "ModelSpec", "available_models", "find_model", "read_toml"]
