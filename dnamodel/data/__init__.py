"""Bundled data → validated inputs: the first stage of every figure.

:func:`load_data` reads and validates a data folder's files (``bundled/``, the case study's, or a
folder the user names) into a :class:`Dataset`; :func:`export_data` writes the bundled files out
for editing. :mod:`dnamodel.data.schema` holds the CSV files' row models,
:mod:`dnamodel.data.study` the study's words and reference figures (``study.toml``),
:mod:`dnamodel.data.printed` figures as sources print them, and :func:`synthetic` writes a synthetic
programme of any size with a known truth (:mod:`dnamodel.data.synthetic`).
"""

from dnamodel.data.load import (
    FILES,
    Dataset,
    bundled_dir,
    example_path,
    examples,
    examples_dir,
    export_data,
    given_data,
    load_data,
)
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
from dnamodel.data.study import Study
from dnamodel.data.synthetic import Synthetic, synthetic

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
    "Study",
    "Synthetic",
    "Unit",
    "bundled_dir",
    "example_path",
    "examples",
    "examples_dir",
    "export_data",
    "given_data",
    "load_data",
    "synthetic",
]
