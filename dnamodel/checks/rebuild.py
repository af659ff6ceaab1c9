"""The data a fit was made from, rebuilt from its provenance and checked against it.

Functions that check a fit take the ``InferenceData`` alone, as ArviZ's do. A fit records its
data's location and version (``attrs``): :func:`data_of_fit` reads the data again (or takes the
data given) and checks the version. Its spec, and the model's inputs, are its model family's to
rebuild (:func:`dnamodel.families.fit_of`), which parses the spec text the fit records and checks
it against its hash.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnamodel.data import Dataset, given_data, load_data
from dnamodel.errors import UsageError


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
    if data is not None:
        data = given_data(data, source)
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


def check_posterior(idata: Any, source: str = "the fit") -> None:
    """Refuse a fit with no posterior total, or one whose total is not a finite number in every draw.

    A posterior of NaN or infinity (a damaged file, a hand edit, a sampler that failed) would be
    summarised into a table of NaN and drawn as empty figures; it is refused instead, naming the fit.

    Raises
    ------
    UsageError
        Naming ``source`` and how many draws are not finite.
    """
    posterior = getattr(idata, "posterior", None)
    if posterior is None or "total" not in posterior:
        raise UsageError(f"{source}: not a fit of dnamodel estimate (it has no posterior total)")
    total = np.asarray(posterior["total"].values, dtype=float)
    if total.size == 0:
        raise UsageError(f"{source}: its posterior has no draws")
    bad = int((~np.isfinite(total)).sum())
    if bad:
        raise UsageError(
            f"{source}: {bad:,} of its {total.size:,} posterior draws of the total are not finite numbers "
            "(NaN or infinity); the file is damaged or the fit failed: refit it"
        )
