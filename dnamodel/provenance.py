"""Where a result came from: package version, data version and data location.

Every result dnamodel returns or writes carries this record (in ``attrs`` for
xarray and ArviZ objects, under ``"provenance"`` in JSON), so that a reader can
tell which code and which data produced a figure.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

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
