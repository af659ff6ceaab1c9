"""What a check needs, rebuilt from a fit's provenance: its spec, its data and the model's inputs.

Functions that check a fit take the ``InferenceData`` alone, as ArviZ's do. A fit records its
spec's text and hash and its data's location and version (``attrs``): :func:`spec_of_fit`
parses the text back and checks it against the hash, :func:`data_of_fit` reads the data again
(or takes the data given) and checks the version, and :func:`inputs_of_fit` resolves the one
against the other, as the fit did.
"""

from __future__ import annotations

import tomllib
from typing import Any

from dnamodel.data import Dataset, load_data
from dnamodel.errors import UsageError
from dnamodel.spec import parse_model
from dnamodel.spec.dated import DatedInputs, DatedSpec, resolve_dated
from dnamodel.spec.hierarchical import HierarchicalSpec
from dnamodel.spec.resolve import ModelInputs, resolve_hierarchical


def spec_of_fit(idata: Any, source: str = "the fit") -> HierarchicalSpec | DatedSpec:
    """The spec a fit was made from (hierarchical or dated), rebuilt from its ``attrs`` and checked against its hash.

    Raises
    ------
    UsageError
        If the fit records no spec, its text is not valid TOML, or it does not hash to the recorded hash.
    """
    attrs = idata.attrs
    for key in ("spec", "spec_hash", "data_version", "seed", "draws", "chains"):
        if key not in attrs:
            raise UsageError(f"{source}: not a fit of dnamodel estimate (its attrs have no {key!r})")
    try:
        raw = tomllib.loads(attrs["spec"])
    except (tomllib.TOMLDecodeError, TypeError):
        raise UsageError(f"{source}: the spec it records is not valid TOML; the file was edited or damaged") from None
    spec = parse_model(raw, attrs["spec"], attrs.get("spec_path", source))
    if not isinstance(spec, HierarchicalSpec | DatedSpec):
        raise UsageError(f"{source}: a fit is of a dated or hierarchical spec; this is a Monte Carlo spec")
    if spec.hash != attrs["spec_hash"]:
        raise UsageError(f"{source}: its spec text hashes to {spec.hash}, not the recorded {attrs['spec_hash']}")
    return spec


def data_of_fit(idata: Any, data: Dataset | None = None, source: str = "the fit") -> Dataset:
    """The data a fit was made from: ``data``, or read again from the location the fit records.

    Raises
    ------
    UsageError
        If the data's version is not the one the fit records (other data, or the files changed since).
    DataError
        If the recorded folder no longer holds valid data.
    """
    attrs = idata.attrs
    if data is None:
        location = str(attrs.get("data_location", "bundled"))
        data = load_data() if location == "bundled" else load_data(location)
    recorded = attrs.get("data_version")
    if recorded is not None and recorded != data.version:
        raise UsageError(
            f"{source}: the fit was made from data {recorded}, but the data here is {data.version} "
            f"({data.location}); pass the fit's data, or refit"
        )
    return data


def inputs_of_fit(idata: Any, data: Dataset | None = None) -> DatedInputs | ModelInputs:
    """The model's inputs as the fit had them: its spec resolved against its data."""
    spec = spec_of_fit(idata)
    data = data_of_fit(idata, data)
    return resolve_dated(spec, data) if isinstance(spec, DatedSpec) else resolve_hierarchical(spec, data)
