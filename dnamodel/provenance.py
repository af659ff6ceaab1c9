"""Where a result came from: package version, data version and data location; and a fit's record.

Every result dnamodel returns or writes carries :func:`provenance` (in ``attrs`` for xarray and
ArviZ objects, under ``"provenance"`` in JSON), so that a reader can tell which code and which data
produced a figure. A fit carries more, set in one place for every model family (:func:`fit_provenance`):
its spec as text with its hash, its kind, its seed and sampler settings, and the versions of the
numerical stack it ran on, so that a saved fit is enough to reproduce it.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # provenance is foundation: it reads a Dataset's attributes, never imports the data stage
    from dnamodel.data import Dataset


def package_version() -> str:
    """The installed version of dnamodel (``"0+unknown"`` when run from an uninstalled tree)."""
    try:
        return version("dnamodel")
    except PackageNotFoundError:
        return "0+unknown"


def provenance(data: Dataset) -> dict[str, str]:
    """The provenance record of a result computed from ``data``.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> sorted(provenance(load_data()))
    ['data_location', 'data_version', 'dnamodel_version']
    """
    return {
        "dnamodel_version": package_version(),
        "data_version": data.version,
        "data_location": data.location,
    }


class _Header(Protocol):
    @property
    def description(self) -> str:
        """What the model is, in a line."""
        ...


class _Sampler(Protocol):
    @property
    def target_accept(self) -> float:
        """NUTS's target acceptance rate."""
        ...


class FittedSpec(Protocol):
    """What a fit's record reads of its spec (a hierarchical or a dated spec has all of it)."""

    @property
    def name(self) -> str:
        """The model's name."""
        ...

    @property
    def path(self) -> str:
        """The spec's file."""
        ...

    @property
    def hash(self) -> str:
        """The hash of its text."""
        ...

    @property
    def text(self) -> str:
        """Its text, as written."""
        ...

    @property
    def header(self) -> _Header:
        """Its ``[model]`` table."""
        ...

    @property
    def sampler(self) -> _Sampler:
        """Its ``[sampler]`` table."""
        ...


def fit_provenance(
    spec: FittedSpec,
    data: Dataset,
    *,
    kind: str,
    seed: int,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
    timings: Mapping[str, float],
    packages: Iterable[str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The record every fit carries in its ``attrs``, whatever its family: the one place it is written.

    ``kind`` is the model family's (``"dated"``, ``"hierarchical"``); ``packages`` are the
    distributions whose versions the fit records (``arviz``, ``numpy``, the sampler's), and Python's
    is always recorded; ``extra`` adds a family's own keys (a dated fit's ``estimand_date``).
    ``dnamodel.checks.rebuild`` and the families read it back.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.spec.dated import parse_dated
    >>> from dnamodel.spec.base import find_model, read_toml
    >>> spec = parse_dated(*read_toml(find_model("dated")))
    >>> record = fit_provenance(spec, load_data(), kind="dated", seed=1, sampler="nutpie", draws=10, tune=10,
    ...                         chains=2, timings={"sample": 1.0}, packages=["numpy"])
    >>> record["model_kind"], record["spec_hash"] == spec.hash, "numpy_version" in record, "python_version" in record
    ('dated', True, True, True)
    """
    record: dict[str, Any] = {
        **provenance(data),
        "model": spec.name,
        "model_kind": kind,
        "spec_path": spec.path,
        "spec_hash": spec.hash,
        "spec": spec.text,
        "seed": seed,
        "sampler": sampler,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "target_accept": spec.sampler.target_accept,
        "description": spec.header.description,
        **(extra or {}),
        "timings_json": json.dumps(dict(timings)),
        "python_version": platform.python_version(),
    }
    for package in packages:
        record[f"{package}_version"] = version(package)
    return record
