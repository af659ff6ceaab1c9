"""Bundled data → validated inputs: the first stage of every figure.

:func:`load_data` reads and validates the four CSV files (``bundled/`` or a folder the user
names) into a :class:`Dataset`; :func:`export_data` writes the bundled files out for editing.
:mod:`dnamodel.data.schema` holds the row models, :mod:`dnamodel.data.printed` figures as
the report prints them.
"""

from dnamodel.data.load import FILES, Dataset, bundled_dir, export_data, load_data
from dnamodel.data.schema import (
    COUNT_KINDS,
    KINDS,
    POPULATION_KINDS,
    SAMPLE_KINDS,
    SHARE_KINDS,
    Area,
    Observation,
    ReportFigure,
    Unit,
)

__all__ = [
    "COUNT_KINDS",
    "FILES",
    "KINDS",
    "POPULATION_KINDS",
    "SAMPLE_KINDS",
    "SHARE_KINDS",
    "Area",
    "Dataset",
    "Observation",
    "ReportFigure",
    "Unit",
    "bundled_dir",
    "export_data",
    "load_data",
]
