"""The report's own estimate (Tables 4 and 5), recomputed step by step, exactly.

Each step is one binary operation on bundled observations or on earlier steps.
It is computed in exact rational arithmetic and then cut to the precision the
report prints it at. The report cuts by **truncation toward zero** at every
step: 94,588 / 950,000 = 9.9566% is printed as 9.9%, not 10.0%, and later steps
use the cut figure (Nyingchi's 23,654 is 238,936 × 9.9%, truncated). Following
the same rule reproduces every printed figure to the unit. Each step also says
what conventional rounding would have printed, and the chain is carried a
second time without any intermediate cutting, to show what the truncation did
to the totals. See ``docs/model.md`` (section "The report's estimator").

References
----------
.. [1] Emile Dirks, "Mass DNA Collection in the Tibet Autonomous Region from
   2016–2022", Citizen Lab Research Report No. 158, University of Toronto,
   September 2022. Tables 4 and 5 and the thesis paragraph.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dnamodel.data import Dataset, Observation, given_data
from dnamodel.data.printed import Printed, format_exact, format_like, round_half_up, rounding_rule, truncate
from dnamodel.deprecation import keyword_only_since
from dnamodel.errors import DataError, Problem
from dnamodel.provenance import provenance

_OPS: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": operator.add,
    "−": operator.sub,
    "×": operator.mul,
    "÷": operator.truediv,
}

CONVENTION = (
    "Every step is computed exactly and then truncated toward zero to the precision the report "
    "prints it at; later steps use the truncated figure, as the report does."
)


@dataclass(frozen=True)
class _Spec:
    id: str
    section: str
    label: str
    left: str
    op: str
    right: str


# The report's chain. Operands are observation ids (observations.csv) or earlier steps;
# each step id is the id of the printed figure in report_figures.csv.
CHAIN: tuple[_Spec, ...] = (
    _Spec("lhorong_rate", "Table 4: collection rates", "Lhorong's rate",
          "lhorong_samples_2016", "÷", "lhorong_population_table4"),
    _Spec("zhagyab_rate", "Table 4: collection rates", "Zhagyab's rate",
          "zhagyab_samples_2017", "÷", "zhagyab_population_table4"),
    _Spec("qushui_population_with_temporary", "Table 4: collection rates",
          "Qushui's permanent and temporary residents", "qushui_samples_2021", "÷", "qushui_coverage_2021"),
    _Spec("lhasa_database_total", "Table 4: collection rates", "Lhasa's database, Jan 2021",
          "qushui_samples_2021", "÷", "qushui_lhasa_database_share"),
    _Spec("lhasa_database_remainder", "Table 4: collection rates", "Lhasa's database outside Qushui",
          "lhasa_database_total", "−", "qushui_samples_2021"),
    _Spec("lhasa_rate", "Table 4: collection rates", "Lhasa's rate",
          "lhasa_database_total", "÷", "lhasa_population_with_temporary"),
    _Spec("nyingchi_samples", "Table 5: the two estimates", "Nyingchi, at Lhasa's rate",
          "nyingchi_population", "×", "lhasa_rate"),
    _Spec("lhasa_nyingchi_population", "Table 5: the two estimates", "Population of Lhasa and Nyingchi",
          "lhasa_population_with_temporary", "+", "nyingchi_population"),
    _Spec("rest_population", "Table 5: the two estimates", "Population outside Lhasa and Nyingchi",
          "tibet_population_2021", "−", "lhasa_nyingchi_population"),
    _Spec("rest_samples_low", "Table 5: the two estimates", "Outside Lhasa and Nyingchi, Estimate One",
          "rest_population", "×", "lhorong_rate"),
    _Spec("rest_samples_high", "Table 5: the two estimates", "Outside Lhasa and Nyingchi, Estimate Two",
          "rest_population", "×", "zhagyab_rate"),
    _Spec("lhasa_nyingchi_samples", "Table 5: the two estimates", "Lhasa and Nyingchi",
          "lhasa_database_total", "+", "nyingchi_samples"),
    _Spec("total_low", "Table 5: the two estimates", "Tibet total, Estimate One",
          "rest_samples_low", "+", "lhasa_nyingchi_samples"),
    _Spec("total_high", "Table 5: the two estimates", "Tibet total, Estimate Two",
          "rest_samples_high", "+", "lhasa_nyingchi_samples"),
    _Spec("share_low", "Table 5: the two estimates", "Share of population, Estimate One",
          "total_low", "÷", "tibet_population_2021"),
    _Spec("share_high", "Table 5: the two estimates", "Share of population, Estimate Two",
          "total_high", "÷", "tibet_population_2021"),
    _Spec("thesis_share_2020", "Against the 2020 police thesis", "Thesis database, share of population",
          "tibet_database_2020", "÷", "tibet_population_2021"),
    _Spec("thesis_added_share_2020h1", "Against the 2020 police thesis", "Added Jan–Jun 2020, share",
          "tibet_database_added_2020h1", "÷", "tibet_population_2021"),
    _Spec("growth_low", "Against the 2020 police thesis", "Growth Jun 2020–Jul 2022, Estimate One",
          "total_low", "−", "tibet_database_2020"),
    _Spec("growth_low_share", "Against the 2020 police thesis", "Growth share, Estimate One",
          "growth_low", "÷", "tibet_population_2021"),
    _Spec("growth_high", "Against the 2020 police thesis", "Growth Jun 2020–Jul 2022, Estimate Two",
          "total_high", "−", "tibet_database_2020"),
    _Spec("growth_high_share", "Against the 2020 police thesis", "Growth share, Estimate Two",
          "growth_high", "÷", "tibet_population_2021"),
)  # fmt: skip

STEP_IDS = tuple(spec.id for spec in CHAIN)
INPUT_IDS = tuple(dict.fromkeys(name for spec in CHAIN for name in (spec.left, spec.right) if name not in STEP_IDS))


@dataclass(frozen=True)
class Step:
    """One step of the report's chain, recomputed.

    Attributes
    ----------
    id, section, label : str
        The printed figure's id in ``report_figures.csv``, the part of the report
        it belongs to, and a short name.
    formula : str
        The operation on ids of observations and earlier steps.
    arithmetic : str
        The same operation on the numbers used, as the report used them.
    exact : Fraction
        The operation's exact result.
    value : Fraction
        ``exact`` truncated to the printed precision: the report's figure.
    unrounded : Fraction
        The same step carried from exact predecessors, with no cutting anywhere.
    printed : Printed
        The figure the report prints.
    where : str
        Where in the report it is printed.
    """

    id: str
    section: str
    label: str
    formula: str
    arithmetic: str
    exact: Fraction
    value: Fraction
    unrounded: Fraction
    printed: Printed
    where: str

    @property
    def matches(self) -> bool:
        """Whether the recomputed figure equals the printed one exactly."""
        return self.value == self.printed.value

    @property
    def rounding(self) -> str:
        """How the printed figure follows from the exact result (``"disagrees"`` if it does not)."""
        return rounding_rule(self.exact, self.printed) or "disagrees"

    @property
    def conventional(self) -> Fraction:
        """What rounding half up to the printed precision would have printed."""
        return round_half_up(self.exact, self.printed.step)

    @property
    def note(self) -> str:
        """The rounding the report made, in words."""
        if self.exact == self.value:
            return "exact"
        if self.conventional != self.value:
            return f"truncated; rounding would print {format_like(self.conventional, self.printed)}"
        return "truncated (rounding prints the same)"

    def shown(self) -> str:
        """The recomputed figure, printed the way the report prints it."""
        return format_like(self.value, self.printed)

    @property
    def exact_text(self) -> str:
        """The exact result, in the style of the printed figure but to more digits (``'9.9566%'``)."""
        return format_exact(self.exact, self.printed.style)


@dataclass(frozen=True)
class Replication:
    """The report's estimate recomputed: its inputs, its steps, and where the result came from."""

    inputs: tuple[Observation, ...]
    steps: tuple[Step, ...]
    provenance: dict[str, str]

    @property
    def convention(self) -> str:
        """The rounding convention that reproduces the report: :data:`CONVENTION`."""
        return CONVENTION

    def step(self, step_id: str) -> Step:
        """The step with this id."""
        return next(step for step in self.steps if step.id == step_id)

    @property
    def population(self) -> Fraction:
        """The population the report divides by (its 3.66 million, ``tibet_population_2021``)."""
        return next(obs for obs in self.inputs if obs.id == "tibet_population_2021").exact

    @property
    def all_match(self) -> bool:
        """Whether every recomputed figure equals the printed one."""
        return all(step.matches for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """The replication as plain JSON-ready data."""
        return {
            "provenance": self.provenance,
            "convention": CONVENTION,
            "all_match": self.all_match,
            "inputs": [
                {
                    "id": obs.id,
                    "unit": obs.unit,
                    "kind": obs.kind,
                    "value": _number(obs.exact),
                    "printed": obs.printed.text if obs.printed else None,
                    "source": obs.source,
                }
                for obs in self.inputs
            ],
            "steps": [
                {
                    "id": step.id,
                    "section": step.section,
                    "label": step.label,
                    "formula": step.formula,
                    "arithmetic": step.arithmetic,
                    "exact": _number(step.exact),
                    "exact_fraction": f"{step.exact.numerator}/{step.exact.denominator}",
                    "value": _number(step.value),
                    "shown": step.shown(),
                    "printed": step.printed.text,
                    "matches": step.matches,
                    "rounding": step.rounding,
                    "note": step.note,
                    "unrounded": _number(step.unrounded),
                    "where": step.where,
                }
                for step in self.steps
            ],
        }


@keyword_only_since("data")
def replicate(*, data: Dataset | None = None) -> Replication:
    """Recompute the report's estimate (Tables 4 and 5 and the thesis comparison).

    Parameters
    ----------
    data : Dataset, optional
        Validated inputs; the bundled data when omitted. Edited data flows through
        the whole chain; the printed figures it is compared with stay the report's.

    Returns
    -------
    Replication
        Every step with its arithmetic, the report's figure and whether they agree.

    Raises
    ------
    DataError
        If the data lacks an observation or printed figure the chain needs.

    Examples
    --------
    >>> result = replicate()
    >>> result.step("total_low").shown(), result.step("share_high").shown()
    ('919,282', '32.9%')
    >>> result.step("lhasa_rate").note
    'truncated; rounding would print 10.0%'
    """
    data = given_data(data, "replicate")
    data.require(observation_ids=INPUT_IDS, figure_ids=STEP_IDS)
    reported: dict[str, Fraction] = {oid: data.observations[oid].exact for oid in INPUT_IDS}
    unrounded = dict(reported)
    shown: dict[str, str] = {oid: _show_observation(data.observations[oid]) for oid in INPUT_IDS}

    steps = []
    for spec in CHAIN:
        figure = data.report_figures[spec.id]
        operate = _OPS[spec.op]
        if spec.op == "÷" and (reported[spec.right] == 0 or unrounded[spec.right] == 0):
            file = "observations.csv" if spec.right in INPUT_IDS else "report_figures.csv"
            raise DataError([Problem(data.path(file), None, spec.right, f"is 0, and step {spec.id!r} divides by it")])
        exact = operate(reported[spec.left], reported[spec.right])
        value = truncate(exact, figure.printed.step)
        step = Step(
            id=spec.id,
            section=spec.section,
            label=spec.label,
            formula=f"{spec.left} {spec.op} {spec.right}",
            arithmetic=f"{shown[spec.left]} {spec.op} {shown[spec.right]}",
            exact=exact,
            value=value,
            unrounded=operate(unrounded[spec.left], unrounded[spec.right]),
            printed=figure.printed,
            where=figure.where,
        )
        reported[spec.id], unrounded[spec.id], shown[spec.id] = value, step.unrounded, step.shown()
        steps.append(step)
    inputs = tuple(data.observations[oid] for oid in INPUT_IDS)
    return Replication(inputs, tuple(steps), provenance(data))


def _show_observation(obs: Observation) -> str:
    """An input as the arithmetic shows it: shares as percentages, counts with separators."""
    if obs.printed is not None and obs.printed.value == obs.exact:
        return format_like(obs.exact, obs.printed).removeprefix("roughly ")
    return format_exact(obs.exact, "percent" if obs.kind.endswith("_share") else "count")


def _number(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else float(value)
