"""The model families: one owner per kind of model, and the one place that tells the kinds apart.

:data:`FAMILIES` lists them, explicitly (no registration at import): Monte Carlo
(:mod:`~dnamodel.families.montecarlo`), hierarchical (:mod:`~dnamodel.families.hierarchical`) and
dated (:mod:`~dnamodel.families.dated`), each implementing :class:`~dnamodel.families.base.ModelFamily`.
Everything after this stage asks a spec's or a fit's family what it can do:

- :func:`load_model` and :func:`parse_model`: a spec by the family its ``[model]`` table's ``kind`` names;
- :func:`family_of`: a spec's family; :func:`family_named`: a kind's;
- :func:`fit_of`: a saved fit's family and the fit rebuilt from its provenance (its spec text
  checked against its hash, its data against its version, its inputs resolved again);
- :func:`known_paths`, :func:`current_value` and :func:`point_spec`: what a sweep may set in a spec,
  the spec's own value there, and the spec at a point.

A fourth kind of model is a new module here, implementing the protocol, and its line in
:data:`FAMILIES` (``ARCHITECTURE.md``, "Model families").
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dnamodel.checks.rebuild import check_posterior, data_of_fit
from dnamodel.data import Dataset
from dnamodel.errors import UsageError, check_type, did_you_mean, python_value
from dnamodel.families.base import Capability, Family, Fit, FitSettings, ModelFamily, RefitSettings, SavedChecks
from dnamodel.families.dated import DatedFamily
from dnamodel.families.hierarchical import HierarchicalFamily
from dnamodel.families.montecarlo import MonteCarloFamily
from dnamodel.spec import DatedSpec, HierarchicalSpec, ModelSpec
from dnamodel.spec.base import find_model, read_toml
from dnamodel.spec.sweep import SweepFile, changed_raw, read_sweep
from dnamodel.spec.sweep import current_value as _current_value
from dnamodel.spec.sweep import known_paths as _known_paths

__all__ = [
    "FAMILIES",
    "Capability",
    "Family",
    "Fit",
    "FitSettings",
    "ModelFamily",
    "RefitSettings",
    "SavedChecks",
    "current_value",
    "family_named",
    "family_of",
    "fit_of",
    "known_paths",
    "load_model",
    "load_sweep",
    "parse_model",
    "point_spec",
    "spec_of_fit",
]

FAMILIES: tuple[Family, ...] = (MonteCarloFamily(), HierarchicalFamily(), DatedFamily())
"""Every model family, by the ``kind`` its specs declare. A new kind of model adds its family here."""

DEFAULT_KIND = "monte_carlo"
"""The kind of a spec whose ``[model]`` table names none."""


def family_named(kind: str) -> Family:
    """The family of the specs that declare ``kind = KIND``.

    Raises
    ------
    UsageError
        For a kind no family has, with the nearest.

    Examples
    --------
    >>> family_named("dated").noun
    'a dated model'
    """
    for family in FAMILIES:
        if family.kind == kind:
            return family
    kinds = [f.kind for f in FAMILIES]
    raise UsageError(f"no model family of kind {kind!r}{did_you_mean(str(kind), kinds)}; kinds: {', '.join(kinds)}")


def family_of(spec: Any) -> Family:
    """The family of a loaded spec: the one whose spec class it is.

    Raises
    ------
    TypeError
        If ``spec`` is no family's spec.

    Examples
    --------
    >>> family_of(load_model("hierarchical_han")).kind
    'hierarchical'
    """
    for family in FAMILIES:
        if isinstance(spec, family.spec_class):
            return family
    raise TypeError(f"not a model spec: {type(spec).__name__} (load one with dnamodel.load_model)")


def parse_model(raw: dict[str, Any], text: str, file: str) -> Any:
    """Validate a parsed spec (``raw``, from TOML) by the family its ``[model]`` table's ``kind`` names.

    ``text`` is kept for provenance and hashed; ``file`` names the spec in errors. A kind no family
    has is left to the Monte Carlo parser, whose schema names the kinds it allows.

    Examples
    --------
    >>> raw = tomllib.loads((Path(find_model("dated"))).read_text(encoding="utf-8"))
    >>> parse_model(raw, "text", "dated.toml").name
    'dated'
    """
    return _family_declared(raw).parse(raw, text, file)


def _family_declared(raw: Mapping[str, Any]) -> Family:
    """The family a spec's tables declare (``[model] kind``); for a kind no family has, the Monte Carlo one.

    Its schema then refuses the kind, naming those it allows.
    """
    model = raw.get("model")
    kind = model.get("kind", DEFAULT_KIND) if isinstance(model, Mapping) else DEFAULT_KIND
    return next((f for f in FAMILIES if f.kind == kind), family_named(DEFAULT_KIND))


def load_model(path_or_name: str | Path) -> ModelSpec | HierarchicalSpec | DatedSpec:
    """Read and validate a model spec, of whichever kind its ``[model]`` table declares.

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
    check_type(path_or_name, (str, Path), "load_model: path_or_name", "a model's name or a TOML file's path")
    raw, text, file = read_toml(find_model(path_or_name))
    spec: ModelSpec | HierarchicalSpec | DatedSpec = parse_model(raw, text, file)
    return spec


def spec_of_fit(idata: Any, source: str = "the fit") -> Any:
    """The spec a fit was made from, rebuilt from its ``attrs`` and checked against its hash.

    Raises
    ------
    TypeError
        If ``idata`` is not an ``InferenceData``.
    UsageError
        If the fit records no spec, its text is not valid TOML, it is not a fitted model's spec, or
        it does not hash to the recorded hash.
    """
    if not (hasattr(idata, "attrs") and hasattr(idata, "groups")):
        raise TypeError(f"{source} must be an arviz.InferenceData (a fit from dnamodel.fit), got {python_value(idata)}")
    attrs = idata.attrs
    for key in ("spec", "spec_hash", "data_version", "seed", "draws", "chains"):
        if key not in attrs:
            raise UsageError(f"{source}: not a fit of dnamodel estimate (its attrs have no {key!r})")
    try:
        raw = tomllib.loads(attrs["spec"])
    except (tomllib.TOMLDecodeError, TypeError):
        raise UsageError(f"{source}: the spec it records is not valid TOML; the file was edited or damaged") from None
    spec = parse_model(raw, attrs["spec"], attrs.get("spec_path", source))
    family = family_of(spec)
    if not family.supports(Capability.POSTERIOR):
        raise UsageError(f"{source}: a fit is of a dated or hierarchical spec; this is {family.noun}'s")
    if spec.hash != attrs["spec_hash"]:
        raise UsageError(f"{source}: its spec text hashes to {spec.hash}, not the recorded {attrs['spec_hash']}")
    return spec


def fit_of(idata: Any, data: Dataset | None = None, source: str = "the fit") -> tuple[Family, Fit, Dataset]:
    """A saved fit's family, the fit rebuilt from its provenance, and its data: what every check of a fit starts from.

    Raises
    ------
    UsageError
        If ``idata`` is not a dnamodel fit (:func:`spec_of_fit`), its posterior total is not finite
        (:func:`~dnamodel.checks.rebuild.check_posterior`), or its data are not ``data``.
    """
    spec = spec_of_fit(idata, source)
    check_posterior(idata, source)
    data = data_of_fit(idata, data, source)
    family = family_of(spec)
    return family, family.rebuild(idata, spec, data), data


def known_paths(spec: Any) -> list[str]:
    """Every dotted path a sweep may set in ``spec``: its own keys, and the optional keys its family's schema allows.

    Examples
    --------
    >>> paths = known_paths(load_model("hierarchical_han"))
    >>> "fraction.beta.sigma" in paths, "population.census_error" in paths
    (True, True)
    >>> paths = known_paths(load_model("dated"))
    >>> "fraction.unreported_offset" in paths, "observations.thesis_stock.use" in paths
    (True, True)
    """
    optional, _ = family_of(spec).sweep_paths(spec.raw)
    return _known_paths(spec.raw, optional)


def current_value(spec: Any, key: str) -> Any:
    """A spec's own value at a sweep's grid key, an optional table its family lets it leave out being ``False``.

    Examples
    --------
    >>> spec = load_model("dated")
    >>> current_value(spec, "fraction.unreported_offset"), current_value(spec, "observations.thesis_stock.use")
    (0.0, True)
    """
    _, tables = family_of(spec).sweep_paths(spec.raw)
    return _current_value(spec, key, tables)


def point_spec(spec_path: str, spec_text: str, overrides: Mapping[str, Any]) -> Any:
    """The spec with a sweep point's ``overrides`` applied; its text records them, so its hash differs.

    Examples
    --------
    >>> spec = load_model("dated")
    >>> point = point_spec(spec.path, spec.text, {"fraction.unreported_offset": -1.0})
    >>> point.fraction.unreported_offset, point.hash != spec.hash
    (-1.0, True)
    """
    family = _family_declared(tomllib.loads(spec_text))
    optional, tables = family.sweep_paths(tomllib.loads(spec_text))
    raw, text = changed_raw(spec_text, overrides, optional, tables)
    return parse_model(raw, text, spec_path)


def _grid_paths(model: str) -> tuple[dict[str, Any], list[str], tuple[str, ...]]:
    """A sweep's model: its spec's tables, the paths a sweep may set in it, the tables it may leave out."""
    spec = load_model(model)
    optional, tables = family_of(spec).sweep_paths(spec.raw)
    return dict(spec.raw), _known_paths(spec.raw, optional), tables


def load_sweep(name_or_path: str | Path) -> SweepFile:
    """Read and check a sweep file, its grid against its model.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped sweep's name (:func:`dnamodel.shipped_sweeps`), or the path of a sweep file.

    Returns
    -------
    SweepFile
        Its ``name``, ``model``, ``description`` and ``grid``: each spec path with the values it
        takes, ready for :func:`dnamodel.sweep` (``sweep(job.model, job.grid, ...)``).

    Raises
    ------
    UsageError
        No such file or sweep.
    DataError
        A missing or unknown table or key, a model that does not load, a grid path its spec does not
        have or a value it cannot take, each naming the sweep file and its key.

    Examples
    --------
    >>> load_sweep("dated_typed_share").grid
    {'databases.typed_share.alpha': [4.0, 8.0, 18.0]}
    """
    check_type(name_or_path, (str, Path), "load_sweep: name_or_path", "a shipped sweep's name or a sweep file's path")
    return read_sweep(name_or_path, _grid_paths)
