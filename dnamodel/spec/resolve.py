"""A hierarchical spec resolved against the data: the arrays the model is built from.

:func:`resolve_hierarchical` turns a :class:`~dnamodel.spec.hierarchical.HierarchicalSpec`, with
a :class:`~dnamodel.data.Dataset`, into the arrays :class:`ModelInputs` (over ``unit``,
``observation`` and ``row``) that :mod:`dnamodel.inference.model` builds the PyMC model from.
Every unknown id, and every observation that cannot be used as declared, is reported with the
spec file and key, all in one :class:`~dnamodel.errors.DataError`.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnamodel.data import Dataset
from dnamodel.errors import DataError, Problem, did_you_mean
from dnamodel.spec.expressions import ExpressionError, evaluate_expression
from dnamodel.spec.hierarchical import HierarchicalSpec, Prior


def _evaluate(expression: str, data: Dataset, key: str, report: Any) -> float | None:
    """The value of an expression over observation ids, or ``None`` after reporting."""
    tree = ast.parse(expression, mode="eval")  # parse_hierarchical has checked it (spec.expressions)
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
    missing = [n for n in names if n not in data.observations]
    for name in missing:
        report(key, f"no observation {name!r} in the data{did_you_mean(name, data.observations)}")
    if missing:
        return None
    try:
        return evaluate_expression(tree, {n: float(data.observations[n].value) for n in names})
    except ExpressionError as error:
        report(key, f"{error}, with the values in the data")
        return None


MAX_COUNT_RATIO = 10
"""An observed count may exceed the people it counts (census, times its base) by at most this
factor: census error and the resident uplift allow some excess, none allows ten times."""


@dataclass(frozen=True)
class ModelInputs:
    """Everything the PyMC model needs, as arrays over its canonical dims.

    Units are in the order of ``units.csv``. An observation's expected count is
    ``sum_u membership[k, u] · π_u · N_u · λ_u`` times its base ratio, where ``N_u`` is
    the unit's true population and ``λ_u`` the resident uplift (1 outside ``uplift``).

    Attributes
    ----------
    unit, group : tuple of str
        Unit ids, and group ids.
    unit_group : ndarray of int
        Index into ``group`` for each unit.
    population : ndarray of float
        2020 census population per unit.
    han_share : ndarray of float
        The covariate column's values (``[fraction] covariate``, the Han share by default).
    x : ndarray of float
        The covariate: the column standardised (``han_share``), the high-Han indicator
        (``two_stratum``) or zeros (``pooled``).
    uplift : ndarray of bool
        Units whose population base includes temporary residents.
    observation : tuple of str
    observed : ndarray of float
        The observed counts.
    error : ndarray of float
        Standard deviation of each observation's log reporting error.
    membership : ndarray of float, shape (observation, unit)
    base_low, base_high : ndarray of float
        Each observation's population base as a ratio to its unit's population; equal
        when the base is known, a uniform range when it is uncertain.
    row, row_observed, row_population, row_error, row_unit, row_centre
        The within-county rows (empty when the spec has none).
    thesis : bool
    stock, growth_scale, tolerance : float
        The thesis constraint ``total ≥ stock + pace · growth_scale`` with a soft edge of
        ``tolerance · stock`` (when the spec has a ``[thesis]`` that it uses).
    census_total : float
        The denominator of ``share``.
    census_error : float
    """

    variant: str
    unit: tuple[str, ...]
    group: tuple[str, ...]
    unit_group: np.ndarray
    population: np.ndarray
    han_share: np.ndarray
    x: np.ndarray
    uplift: np.ndarray
    observation: tuple[str, ...]
    observed: np.ndarray
    error: np.ndarray
    membership: np.ndarray
    base_low: np.ndarray
    base_high: np.ndarray
    row: tuple[str, ...]
    row_observed: np.ndarray
    row_population: np.ndarray
    row_error: float
    row_unit: int
    row_centre: str
    thesis: bool
    stock: float
    growth_scale: float
    tolerance: float
    census_total: float
    census_error: float
    x_mean: float
    x_scale: float
    priors: dict[str, Prior]
    sources: dict[str, str] = field(default_factory=dict)
    covariate_column: str = "han_share_2020"
    covariate_label: str = "han_share_2020"

    def covariate(self, han_share: np.ndarray) -> np.ndarray:
        """The covariate ``x`` at other Han shares (for the fitted curve)."""
        if self.variant == "han_share":
            return (np.asarray(han_share) - self.x_mean) / self.x_scale
        return np.zeros_like(np.asarray(han_share, dtype=float))


def resolve_hierarchical(spec: HierarchicalSpec, data: Dataset) -> ModelInputs:
    """Resolve a hierarchical spec's references against the data.

    Raises
    ------
    DataError
        Naming the spec file and key of every unknown unit, area or observation id, an
        observation over no units, a base range the wrong way round, or rows that would
        count samples twice.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> inputs = resolve_hierarchical(load_model("hierarchical_han"), load_data())
    >>> len(inputs.unit), len(inputs.observation), inputs.thesis
    (77, 4, True)
    """
    file = spec.path
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(file, None, key, message))

    units = tuple(data.units)
    index = {u: i for i, u in enumerate(units)}
    groups = data.groups
    region = data.region
    unit_group = np.array([groups.index(data.units[u].group) for u in units])
    population = np.array([float(data.units[u].population) for u in units])
    places = (*units, *groups, region)

    def expand(places_given: list[str], key: str) -> set[int]:
        chosen: set[int] = set()
        for place in places_given:
            if place in index:
                chosen.add(index[place])
            elif place in groups or place == region:
                chosen |= {i for i, u in enumerate(units) if place == region or data.units[u].group == place}
            else:
                report(key, f"unknown unit or area {place!r}{did_you_mean(place, places)}")
        return chosen

    variant = spec.fraction.variant
    column = spec.fraction.covariate
    han = np.zeros(len(units))
    if variant == "han_share":
        found = covariate_values(data, column, "fraction.covariate", report)
        han = found if found is not None else han
    elif column in data.numeric_columns() and all(data.units[u].number(column) is not None for u in units):
        han = np.array([float(data.units[u].number(column)) for u in units])  # for figures only
    if variant == "han_share":
        x_mean, x_scale = float(han.mean()), float(han.std()) or 1.0
        x = (han - x_mean) / x_scale
    elif variant == "two_stratum":
        high = expand(spec.fraction.high_han or [], "fraction.high_han")
        x = np.array([1.0 if i in high else 0.0 for i in range(len(units))])
        x_mean, x_scale = 0.0, 1.0
    else:
        x, x_mean, x_scale = np.zeros(len(units)), 0.0, 1.0
    uplift_units = expand(spec.population.uplift_areas, "population.uplift_areas")
    uplift = np.array([i in uplift_units for i in range(len(units))])

    names, observed, error, member, low, high_, sources = [], [], [], [], [], [], {}
    counted: dict[str, str] = {}
    for name, obs in spec.observations.items():
        key = f"observations.{name}"
        value = _evaluate(obs.samples, data, f"{key}.samples", report)
        chosen = expand(obs.units, f"{key}.units") - expand(obs.exclude, f"{key}.exclude")
        if not chosen and not any(p for p in obs.units if p not in places):
            report(f"{key}.units", "covers no unit")
        if value is not None and not value > 0:
            report(f"{key}.samples", f"must be a positive count; it is {value:g}")
        ratio = _base(obs.base, chosen, population, units, data, f"{key}.base", report)
        for oid in {n.id for n in ast.walk(ast.parse(obs.samples, mode="eval")) if isinstance(n, ast.Name)}:
            if data.observations.get(oid) is not None and data.observations[oid].kind.startswith("samples"):
                counted.setdefault(oid, key)
        if value is None or ratio is None or not chosen:
            continue
        people = float(population[sorted(chosen)].sum()) * ratio[1]
        if value > MAX_COUNT_RATIO * people:
            report(
                f"{key}.samples",
                f"is {value:,.0f}, more than {MAX_COUNT_RATIO} times the {people:,.0f} people it is a count of; "
                "no collection fraction gives it",
            )
            continue
        names.append(name)
        observed.append(value)
        error.append(obs.error)
        member.append([1.0 if i in chosen else 0.0 for i in range(len(units))])
        low.append(ratio[0])
        high_.append(ratio[1])
        sources[name] = obs.samples

    within = spec.within_county
    rows: list[str] = []
    row_observed: list[float] = []
    row_population: list[float] = []
    row_unit = -1
    if within is not None:
        if within.unit not in index:
            report("within_county.unit", f"unknown unit {within.unit!r}{did_you_mean(within.unit, units)}")
        else:
            row_unit = index[within.unit]
        for i, oid in enumerate(within.rows):
            key = f"within_county.rows[{i}]"
            row = data.observations.get(oid)
            if row is None:
                report(key, f"no observation {oid!r} in the data{did_you_mean(oid, data.observations)}")
                continue
            base = data.observations.get(row.base_ref or "")
            if base is None:
                report(key, f"{oid!r} has no population (base_ref) to divide by")
                continue
            if row.unit != within.unit:
                report(key, f"{oid!r} is in {row.unit!r}, not in {within.unit!r}")
            # The rows are parts of a total; with a county centre they inform the county's level,
            # so an observation counting that total as well would count the same samples twice.
            if within.centre == "county" and row.part_of in counted:
                report(
                    key,
                    f"{oid!r} is part of {row.part_of!r}, which {counted[row.part_of]} already counts; "
                    "with centre = 'county' remove that observation, or use centre = 'free'",
                )
            rows.append(oid)
            row_observed.append(float(row.value))
            row_population.append(float(base.value))

    thesis = spec.thesis
    stock = growth_scale = 0.0
    for which in ("stock", "added") if thesis is not None else ():
        oid = getattr(thesis, which)
        if oid not in data.observations:
            report(f"thesis.{which}", f"no observation {oid!r} in the data{did_you_mean(oid, data.observations)}")
    if thesis is not None and not problems:
        stock = float(data.observations[thesis.stock].value)
        growth_scale = float(data.observations[thesis.added].value) / thesis.added_years * thesis.years

    if problems:
        raise DataError(problems)
    return ModelInputs(
        variant=variant,
        unit=units,
        group=groups,
        unit_group=unit_group,
        population=population,
        han_share=han,
        x=x,
        uplift=uplift,
        observation=tuple(names),
        observed=np.array(observed),
        error=np.array(error),
        membership=np.array(member).reshape(len(names), len(units)),
        base_low=np.array(low),
        base_high=np.array(high_),
        row=tuple(rows),
        row_observed=np.array(row_observed),
        row_population=np.array(row_population),
        row_error=within.error if within is not None else 1.0,
        row_unit=row_unit,
        row_centre=within.centre if within is not None else "free",
        thesis=thesis is not None and thesis.use,
        stock=stock,
        growth_scale=growth_scale,
        tolerance=thesis.tolerance if thesis is not None else 1.0,
        census_total=float(population.sum()),
        census_error=spec.population.census_error,
        x_mean=x_mean,
        x_scale=x_scale,
        priors=dict(spec.priors),
        sources=sources,
        covariate_column=column,
        covariate_label=data.study.label(column),
    )


def covariate_values(data: Dataset, column: str, key: str, report: Any) -> np.ndarray | None:
    """A numeric column of ``units.csv`` as an array over the units; ``None`` after reporting why not.

    Any numeric column may be a covariate: a built-in one or the study's own (labelled in
    ``study.toml``). Every unit must have a value.
    """
    numeric = data.numeric_columns()
    if column not in numeric:
        report(key, f"{column!r} is not a numeric column of units.csv{did_you_mean(column, numeric)}")
        return None
    values = {u: unit.number(column) for u, unit in data.units.items()}
    missing = [u for u, v in values.items() if v is None]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        report(key, f"{column} is empty for {shown}")
        return None
    return np.array([float(v) for v in values.values()])


def _base(
    base: str | list[str],
    chosen: set[int],
    population: np.ndarray,
    units: tuple[str, ...],
    data: Dataset,
    key: str,
    report: Any,
) -> tuple[float, float] | None:
    """An observation's base as a (low, high) ratio to its unit's census population."""
    if base == "census":
        return 1.0, 1.0
    ids = [base] if isinstance(base, str) else list(base)
    if len(chosen) != 1:
        report(key, "a base other than 'census' needs an observation over exactly one unit")
        return None
    if len(ids) not in (1, 2):
        report(key, "give 'census', one population id, or two ids for a uniform range")
        return None
    values = []
    for oid in ids:
        row = data.observations.get(oid)
        if row is None:
            report(key, f"no observation {oid!r} in the data{did_you_mean(oid, data.observations)}")
            return None
        if row.kind not in ("population", "population_with_temporary"):
            report(key, f"{oid!r} is a {row.kind}, not a population")
            return None
        values.append(float(row.value) / float(population[next(iter(chosen))]))
    low, high = values[0], values[-1]
    if low > high:
        report(key, f"the range runs the wrong way: {ids[0]} is above {ids[-1]}")
        return None
    if not math.isfinite(low) or low <= 0:
        report(key, "the base must be positive")
        return None
    return low, high
