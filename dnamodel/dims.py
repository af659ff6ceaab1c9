"""Canonical dimension names, defined once and used by every labelled result.

New axes are appended last; the sample axis is explicit in every array kernel.
"""

DRAW = "draw"
"""A Monte Carlo draw, or a posterior draw within a chain."""

CHAIN = "chain"
"""An MCMC chain."""

UNIT = "unit"
"""A unit of the study (the bundled data's 77 county-level units); coordinates are the ids of ``units.csv``."""

GROUP = "group"
"""A group of units (the study's word for it is ``study.toml``'s ``group``: a prefecture, a district);
coordinates are the ids of ``areas.csv``'s rows of level ``group``."""

OBSERVATION = "observation"
"""An observation; coordinates are the ids of ``observations.csv``."""

SCENARIO = "scenario"
"""A point of a sensitivity sweep."""

QUANTILE = "quantile"
"""A probability at which a distribution's quantile is reported."""

INPUT = "input"
"""An uncertain input of a Monte Carlo model, for sensitivity indices."""

ROW = "row"
"""A within-county row of the hierarchical model (a table of one unit's villages); coordinates are observation ids."""
