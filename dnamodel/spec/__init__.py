"""Model specs: TOML files, validated strictly, then resolved against the data.

:func:`load_model` finds a spec by path or by name in ``dnamodel/models/`` and reads it into a
:class:`~dnamodel.spec.montecarlo.ModelSpec` or, when its ``[model]`` table says
``kind = "hierarchical"``, a :class:`~dnamodel.spec.hierarchical.HierarchicalSpec`.
:mod:`~dnamodel.spec.base` holds what both kinds share; :func:`~dnamodel.spec.montecarlo.resolve`
and :func:`~dnamodel.spec.resolve.resolve_hierarchical` put the data's numbers in;
:mod:`~dnamodel.spec.sweep` reads sweep files and changes a spec at dotted paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dnamodel.spec.base import MODELS_DIR, available_models, find_model, read_toml
from dnamodel.spec.dated import DatedSpec, parse_dated
from dnamodel.spec.hierarchical import HierarchicalSpec, parse_hierarchical
from dnamodel.spec.montecarlo import ModelSpec, parse_montecarlo

__all__ = ["MODELS_DIR", "DatedSpec", "HierarchicalSpec", "ModelSpec", "available_models", "load_model", "parse_model"]


def load_model(path_or_name: str | Path) -> ModelSpec | HierarchicalSpec | DatedSpec:
    """Read and validate a model spec.

    Parameters
    ----------
    path_or_name : str or Path
        A path to a TOML file, or the name of a spec in ``dnamodel/models/`` (``"report_mc"``).

    Returns
    -------
    ModelSpec, HierarchicalSpec or DatedSpec
        By its ``[model]`` table's ``kind``: none (Monte Carlo), ``"hierarchical"`` or ``"dated"``.

    Raises
    ------
    UsageError
        If no such file or model exists.
    DataError
        Listing every problem in the spec, each with the file and the key.

    Examples
    --------
    >>> spec = load_model("report_uniform")
    >>> spec.inputs["rest_rate"].dist
    'uniform'
    """
    raw, text, file = read_toml(find_model(path_or_name))
    return parse_model(raw, text, file)


def parse_model(raw: dict[str, Any], text: str, file: str) -> ModelSpec | HierarchicalSpec | DatedSpec:
    """Validate a parsed spec (``raw``, from TOML), of either kind.

    ``text`` is kept for provenance and hashed; ``file`` names the spec in errors. Sweeps use
    this to build a spec from a changed copy of another's ``raw``.
    """
    model_table = raw.get("model")
    if isinstance(model_table, dict) and model_table.get("kind") == "hierarchical":
        return parse_hierarchical(raw, text, file)
    if isinstance(model_table, dict) and model_table.get("kind") == "dated":
        return parse_dated(raw, text, file)
    return parse_montecarlo(raw, text, file)
