"""Where the report disagrees with itself and with the 2020 census.

Every derived figure the report prints is recomputed from the report's own
inputs, and every population or ethnic figure it quotes is set against the 2020
census. A printed figure *agrees* when it equals its recomputation exactly, or
after rounding or truncating to the digits printed. Where it does not, the
audit searches the report's own figures for the arithmetic that does give it,
which usually names the likely cause (a population taken from the wrong row of
a table, a total from another tally). Each finding carries its arithmetic, so a
reader can redo it by hand.

Findings fall in five categories:

``arithmetic``
    a printed ratio, difference or product against its inputs;
``sum``
    a printed total against its parts, or two totals of one quantity;
``sources``
    the report's counts of its own sources;
``census``
    a quoted population or ethnic figure against the 2020 census;
``method``
    not an arithmetic error but a choice a reader should know about, with the
    figure it moves (status ``note``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any, Literal

from dnamodel.casestudy.replicate import Replication, replicate
from dnamodel.data import POPULATION_KINDS, SAMPLE_KINDS, SHARE_KINDS, Dataset, Observation, given_data
from dnamodel.data.printed import (
    Printed,
    format_count,
    format_exact,
    format_like,
    parse_printed,
    rounding_rule,
    truncate,
)
from dnamodel.deprecation import keyword_only_since
from dnamodel.provenance import provenance

Status = Literal["agrees", "disagrees", "note"]
CATEGORIES = ("arithmetic", "sum", "sources", "census", "method")
ONE = Fraction(1)  # the step of a whole count, for truncate()


@dataclass(frozen=True)
class Finding:
    """One check of one printed figure.

    Attributes
    ----------
    id : str
        Stable id: the category and the id of the figure checked.
    category : str
        One of :data:`CATEGORIES`.
    where : str
        Where the figure is printed (or which rows of the bundled data hold it).
    quantity : str
        What the figure is.
    printed : str
        The figure as the report prints it.
    recomputed : str
        What the report's own inputs (or the census) give.
    arithmetic : str
        The recomputation, step by step, with every number.
    status : {"agrees", "disagrees", "note"}
        ``note`` marks method findings and figures on another basis than the census.
    rule : str
        For agreeing figures, how the printed digits follow (``"exact"``,
        ``"truncated"``, ``"rounded"``, ``"rounded or truncated"``); else ``""``.
    cause : str
        For disagreements and notes, the likely cause, found by recomputation.
    """

    id: str
    category: str
    where: str
    quantity: str
    printed: str
    recomputed: str
    arithmetic: str
    status: Status
    rule: str
    cause: str


@dataclass(frozen=True)
class Audit:
    """All checks, in report order within each category."""

    findings: tuple[Finding, ...]
    provenance: dict[str, str]

    def disagreements(self) -> tuple[Finding, ...]:
        """The findings whose printed figure does not follow from its inputs."""
        return tuple(f for f in self.findings if f.status == "disagrees")

    def finding(self, finding_id: str) -> Finding:
        """The finding with this id."""
        return next(f for f in self.findings if f.id == finding_id)

    def counts(self) -> dict[str, int]:
        """Number of findings by status."""
        return {status: sum(f.status == status for f in self.findings) for status in ("agrees", "disagrees", "note")}

    def conventions(self) -> dict[str, list[str]]:
        """Ids of the agreeing inexact figures, by how their printed digits follow: the report's rounding habits."""
        rules: dict[str, list[str]] = {}
        for f in self.findings:
            if f.status == "agrees" and f.rule in ("truncated", "rounded", "rounded or truncated"):
                rules.setdefault(f.rule, []).append(f.id)
        return rules

    def to_dict(self) -> dict[str, Any]:
        """The audit as plain JSON-ready data."""
        return {
            "provenance": self.provenance,
            "counts": self.counts(),
            "conventions": self.conventions(),
            "findings": [asdict(f) for f in self.findings],
        }


@keyword_only_since("data")
def audit(*, data: Dataset | None = None) -> Audit:
    """Recompute every derived figure in the report and set its quoted figures against the census.

    Parameters
    ----------
    data : Dataset, optional
        Validated inputs; the bundled data when omitted.

    Returns
    -------
    Audit
        Every check with its arithmetic; :meth:`Audit.disagreements` lists the
        ones that fail.

    Examples
    --------
    >>> result = audit()
    >>> dalong = result.finding("arithmetic:lhorong_dalong_share")
    >>> dalong.printed, dalong.recomputed
    ('9.1%', '8.0643%')
    """
    data = given_data(data, "audit")
    chain = replicate(data=data)
    checks = itertools.chain(
        _share_checks(data),
        _chain_checks(chain),
        _figure_checks(data),
        _sum_checks(data),
        _source_checks(data),
        _census_checks(data, chain),
        _method_notes(data, chain),
    )
    order = {category: rank for rank, category in enumerate(CATEGORIES)}
    findings = sorted(checks, key=lambda f: order[f.category])
    return Audit(tuple(findings), provenance(data))


# --- arithmetic ----------------------------------------------------------------------------


def _share_checks(data: Dataset) -> Iterator[Finding]:
    """Every share row whose numerator and base are both in the data, against their ratio."""
    observations = data.observations
    for obs in observations.values():
        if obs.kind not in SHARE_KINDS or obs.samples_ref is None or obs.base_ref is None:
            continue
        numerator, base = observations[obs.samples_ref], observations[obs.base_ref]
        if base.exact == 0:
            continue  # population bases are positive by validation; a zero database total says nothing
        printed = _printed_of(obs)
        yield _ratio_finding(
            f"arithmetic:{obs.id}",
            _where(obs),
            _quantity(data, obs),
            printed,
            [numerator.exact],
            [base.exact],
            lambda obs=obs, numerator=numerator, base=base, printed=printed: _explain_share(
                data, obs, numerator, base, printed
            ),
        )


def _explain_share(data: Dataset, obs: Observation, numerator: Observation, base: Observation, printed: Printed) -> str:
    """Search the same unit's figures for a numerator or base that gives the printed share."""
    same_unit = [other for other in data.observations.values() if other.unit == obs.unit]
    matches = []
    for other in same_unit:
        is_other_base = other.kind in POPULATION_KINDS and other.id != base.id and other.exact > 0
        if is_other_base and rounding_rule(numerator.exact / other.exact, printed):
            matches.append(
                f"{format_count(numerator.exact)} ÷ {format_count(other.exact)} "
                f"(the figure for {_label(other)}) gives {printed.text}"
            )
        is_other_count = other.kind in SAMPLE_KINDS and other.id != numerator.id
        if is_other_count and rounding_rule(other.exact / base.exact, printed):
            matches.append(
                f"{format_count(other.exact)} (the figure for {_label(other)}) ÷ {format_count(base.exact)} "
                f"gives {printed.text}; it differs from {format_count(numerator.exact)} by "
                f"{format_count(numerator.exact - other.exact)}"
            )
    low, high = printed.value - printed.step / 2, printed.value + printed.step / 2
    implied = (
        f"the printed share implies a base between {format_count(round(numerator.exact / high))} "
        f"and {format_count(round(numerator.exact / low))}"
    )
    if matches:
        return "Another row's figure gives it: " + "; ".join(matches) + f". In all, {implied}."
    return f"No figure of the same table gives it; {implied}, not {format_count(base.exact)}."


def _chain_checks(chain: Replication) -> Iterator[Finding]:
    """The steps of Tables 4 and 5 and the thesis comparison (see :mod:`dnamodel.replicate`)."""
    for step in chain.steps:
        yield Finding(
            id=f"arithmetic:{step.id}",
            category="arithmetic",
            where=step.where,
            quantity=step.label,
            printed=step.printed.text,
            recomputed=step.shown() if step.matches else format_exact(step.exact, step.printed.style),
            arithmetic=f"{step.arithmetic} = {format_exact(step.exact, step.printed.style)}",
            status="agrees" if step.matches else "disagrees",
            rule=step.rounding if step.matches else "",
            cause="" if step.matches else "The printed figure does not follow from its inputs as the report cuts them.",
        )


# Other derived figures in the report's text: (figure id, label, numerator ids, denominator ids).
_RATIOS = (
    ("lhasa_han_share", "Lhasa's Han share", ("lhasa_han_population",), ("lhasa_population",)),
    ("nyingchi_han_share", "Nyingchi's Han share", ("nyingchi_han_population",), ("nyingchi_population",)),
    (
        "lhasa_nyingchi_han_share_of_tibet",
        "Lhasa's and Nyingchi's share of Tibet's Han",
        ("lhasa_han_population", "nyingchi_han_population"),
        ("tibet_han_population",),
    ),
)


def _figure_checks(data: Dataset) -> Iterator[Finding]:
    """Derived figures of the text outside the estimation chain."""
    for figure_id, label, numerator_ids, denominator_ids in _RATIOS:
        data.require(observation_ids=numerator_ids + denominator_ids, figure_ids=(figure_id,))
        numerator = [data.observations[oid].exact for oid in numerator_ids]
        denominator = [data.observations[oid].exact for oid in denominator_ids]
        yield _figure_ratio(data, figure_id, label, numerator, denominator)
    data.require(figure_ids=("henan_samples", "henan_population", "henan_share"))
    figures = data.report_figures
    yield _figure_ratio(
        data,
        "henan_share",
        "Henan's male DNA database, share of population",
        [figures["henan_samples"].printed.value],
        [figures["henan_population"].printed.value],
    )


def _figure_ratio(
    data: Dataset, figure_id: str, label: str, numerator: list[Fraction], denominator: list[Fraction]
) -> Finding:
    figure = data.report_figures[figure_id]
    return _ratio_finding(
        f"arithmetic:{figure_id}",
        figure.where,
        label,
        figure.printed,
        numerator,
        denominator,
        lambda: "The printed share does not follow from the figures beside it.",
    )


def _ratio_finding(
    finding_id: str,
    where: str,
    quantity: str,
    printed: Printed,
    numerator: list[Fraction],
    denominator: list[Fraction],
    explain: Callable[[], str],
) -> Finding:
    """A printed share against the sum of ``numerator`` over the sum of ``denominator``.

    ``explain`` is called only when the share disagrees, to find its likely cause.
    """
    exact = sum(numerator, Fraction(0)) / sum(denominator, Fraction(0))
    rule = rounding_rule(exact, printed)

    def terms(values: list[Fraction]) -> str:
        shown = " + ".join(format_count(v) for v in values)
        return f"({shown})" if len(values) > 1 else shown

    return Finding(
        id=finding_id,
        category="arithmetic",
        where=where,
        quantity=quantity,
        printed=printed.text,
        recomputed=format_exact(exact, "percent"),
        arithmetic=f"{terms(numerator)} ÷ {terms(denominator)} = {format_exact(exact, 'percent')}",
        status="agrees" if rule else "disagrees",
        rule=rule or "",
        cause="" if rule else explain(),
    )


# --- sums ----------------------------------------------------------------------------------


def _sum_checks(data: Dataset) -> Iterator[Finding]:
    """Totals against their parts (``part_of``), and two totals printed for one quantity."""
    observations = data.observations
    for total in observations.values():
        parts = [obs for obs in observations.values() if obs.part_of == total.id]
        if not parts:
            continue
        exact = sum((part.exact for part in parts), Fraction(0))
        agrees = exact == total.exact
        yield Finding(
            id=f"sum:{total.id}",
            category="sum",
            where=_where(total),
            quantity=f"{_quantity(data, total)}: total of {len(parts)} rows",
            printed=_printed_of(total).text,
            recomputed=format_count(exact),
            arithmetic=" + ".join(format_count(part.exact) for part in parts) + f" = {format_count(exact)}",
            status="agrees" if agrees else "disagrees",
            rule="exact" if agrees else "",
            cause="" if agrees else f"The rows sum to {format_count(exact - total.exact)} more than the printed total.",
        )

    totals = [obs for obs in observations.values() if obs.kind in SAMPLE_KINDS and obs.part_of is None]
    for first, second in itertools.combinations(totals, 2):
        same = (first.unit, first.kind, first.date, first.period_start) == (
            second.unit,
            second.kind,
            second.date,
            second.period_start,
        )
        if not same or first.value == second.value:
            continue
        summed = [obs for obs in (first, second) if any(o.part_of == obs.id for o in observations.values())]
        reference = summed[0] if summed else first
        other = second if reference is first else first
        yield Finding(
            id=f"sum:{other.id}",
            category="sum",
            where=f"{_where(other)}; {_where(reference)}",
            quantity=f"{_quantity(data, other)}, {other.date}",
            printed=_printed_of(other).text,
            recomputed=format_count(reference.exact),
            arithmetic=(
                f"{_where(reference)}: {format_count(reference.exact)} for the same place, kind and period; "
                f"{format_count(other.exact)} − {format_count(reference.exact)} = "
                f"{format_count(other.exact - reference.exact)}"
            ),
            status="disagrees",
            rule="",
            cause=(
                f"Two totals for one quantity. {format_count(reference.exact)} is the sum of the table's rows; "
                f"{format_count(other.exact)} matches no sum of them, so it likely comes from another tally of "
                "the same reports."
                if summed
                else "Two totals for one quantity; the report does not say which is right."
            ),
        )


# --- sources -------------------------------------------------------------------------------

_TABLE1 = ("sources_wechat", "sources_government", "sources_news")
_TABLE2 = tuple(f"sources_{year}" for year in range(2016, 2023))


def _source_checks(data: Dataset) -> Iterator[Finding]:
    """The report's counts of its sources (Tables 1 and 2 and the text)."""
    figure_ids = (
        *_TABLE1,
        *_TABLE2,
        "sources_total",
        "sources_2020_2022_share",
        "sources_qamdo_2016_2017",
        "sources_lhorong_located",
        "sources_lhorong_unlocated",
    )
    data.require(figure_ids=figure_ids)
    count = {fid: data.report_figures[fid].printed.value for fid in figure_ids}
    total = count["sources_total"]

    for table, ids in (("Table 1", _TABLE1), ("Table 2", _TABLE2)):
        exact = sum((count[fid] for fid in ids), Fraction(0))
        yield Finding(
            id=f"sources:{table.lower().replace(' ', '')}_total",
            category="sources",
            where=table,
            quantity=f"{table}: total sources",
            printed=format_count(total),
            recomputed=format_count(exact),
            arithmetic=" + ".join(format_count(count[fid]) for fid in ids) + f" = {format_count(exact)}",
            status="agrees" if exact == total else "disagrees",
            rule="exact" if exact == total else "",
            cause="" if exact == total else f"{table}'s rows do not add up to its total.",
        )

    share = data.report_figures["sources_2020_2022_share"].printed
    recent = count["sources_2020"] + count["sources_2021"] + count["sources_2022"]
    exact = recent / total
    rule = rounding_rule(exact, share)
    runs = []
    for start, end in itertools.combinations_with_replacement(range(len(_TABLE2)), 2):
        run_share = sum((count[_TABLE2[i]] for i in range(start, end + 1)), Fraction(0)) / total
        if rounding_rule(run_share, share):
            runs.append(f"{2016 + start}–{2016 + end}")
    yield Finding(
        id="sources:sources_2020_2022_share",
        category="sources",
        where=data.report_figures["sources_2020_2022_share"].where,
        quantity="Share of sources from 2020 to 2022",
        printed=share.text,
        recomputed=format_exact(exact, "percent"),
        arithmetic=(
            f"({format_count(count['sources_2020'])} + {format_count(count['sources_2021'])} + "
            f"{format_count(count['sources_2022'])}) ÷ {format_count(total)} = {format_exact(exact, 'percent')}"
        ),
        status="agrees" if rule else "disagrees",
        rule=rule or "",
        cause=""
        if rule
        else (
            f"Table 2 gives {format_like(round(exact * 100) / Fraction(100), share)} for 2020–2022; "
            + (
                f"the years {', '.join(runs)} give {share.text}."
                if runs
                else f"no run of consecutive years in Table 2 gives {share.text}: likely a typo or an earlier count."
            )
        ),
    )

    lhorong = count["sources_lhorong_located"] + count["sources_lhorong_unlocated"]
    qamdo = count["sources_qamdo_2016_2017"]
    agrees = lhorong <= qamdo and lhorong <= count["sources_2016"]
    yield Finding(
        id="sources:sources_qamdo_2016_2017",
        category="sources",
        where=f"{data.report_figures['sources_qamdo_2016_2017'].where}; "
        f"{data.report_figures['sources_lhorong_located'].where}; Table 2",
        quantity="Sources on Lhorong and Zhagyab, Jun 2016–Feb 2017",
        printed=data.report_figures["sources_qamdo_2016_2017"].printed.text,
        recomputed=f"at least {format_count(lhorong)}",
        arithmetic=(
            f"Lhorong alone, Jun–Oct 2016: {format_count(count['sources_lhorong_located'])} reports with a place "
            f"+ {format_count(count['sources_lhorong_unlocated'])} without = {format_count(lhorong)} "
            f"> {format_count(qamdo)} sources on Lhorong and Zhagyab, and > "
            f"{format_count(count['sources_2016'])} sources in all of 2016 (Table 2)"
        ),
        status="agrees" if agrees else "disagrees",
        rule="exact" if agrees else "",
        cause=""
        if agrees
        else (
            "The Lhorong paragraph counts more reports than the Findings and Table 2 count sources for the same "
            "period: one source may carry several reports, or the counts come from different stages of the research."
        ),
    )


# --- the census ----------------------------------------------------------------------------

_CENSUS_DATE = "2020-11-01"


def _census_checks(data: Dataset, chain: Replication) -> Iterator[Finding]:
    """Quoted populations and ethnic figures against the 2020 census."""
    for obs in data.observations.values():
        if obs.subarea or data.census_population(obs.unit) is None:
            continue
        if obs.kind == "population":
            yield _census_population(data, obs)
        elif obs.kind == "population_with_temporary":
            census = data.census_population(obs.unit) or 0
            yield _basis_note(data, obs.id, _where(obs), _quantity(data, obs), _printed_of(obs), obs.exact, census)
        elif obs.kind in ("han_population", "tibetan_population", "other_minority_population"):
            yield _census_ethnic(data, obs)
        elif obs.kind == "han_share":
            yield _census_han_share(data, obs)

    qushui = chain.step("qushui_population_with_temporary")
    yield _basis_note(
        data,
        qushui.id,
        qushui.where,
        qushui.label,
        qushui.printed,
        qushui.value,
        data.census_population(data.observations["qushui_population"].unit) or 0,
    )
    yield _rest_population(data, chain)


def _census_finding(data: Dataset, obs: Observation, **fields: Any) -> Finding:
    """A census finding about one observation: its id, category, place and quantity, and ``fields``."""
    return Finding(id=f"census:{obs.id}", category="census", where=_where(obs), quantity=_quantity(data, obs), **fields)


def _census_population(data: Dataset, obs: Observation) -> Finding:
    census = data.census_population(obs.unit) or 0
    printed = _printed_of(obs)
    step = printed.significant_step
    rule = rounding_rule(Fraction(census), printed, step)
    precision = "" if step == 1 else f" (printed to the nearest {format_count(step)})"
    cause = ""
    if not rule:
        cause = _explain_population(data, obs, census, printed)
    return _census_finding(
        data,
        obs,
        printed=printed.text,
        recomputed=format_count(census),
        arithmetic=f"2020 census, {data.place_name(obs.unit)}: {format_count(census)}{precision}; "
        f"difference {format_count(obs.exact - census)} ({float(obs.exact / census - 1):+.2%})",
        status="agrees" if rule else "disagrees",
        rule=rule or "",
        cause=cause,
    )


def _explain_population(data: Dataset, obs: Observation, census: int, printed: Printed) -> str:
    parts = []
    if obs.date and not obs.date.startswith("2020"):
        parts.append(f"the figure is dated {obs.date}; the census counts residents on {_CENSUS_DATE}")
    elif not obs.date:
        parts.append("the report gives no date or source for the figure")
    step = printed.significant_step
    for place, count in _census_counts(data):
        if place != obs.unit and rounding_rule(Fraction(count), printed, step):
            parts.append(f"it matches the census population of {data.place_name(place)} ({format_count(count)})")
    unit = data.units.get(obs.unit)
    if unit is not None and unit.population_2010 is not None:
        parts.append(f"the 2010 census gives {format_count(unit.population_2010)}")
    others = [
        other
        for other in data.observations.values()
        if other.unit == obs.unit and other.kind == "population" and not other.subarea and other.id != obs.id
    ]
    for other in others:
        parts.append(f"the report uses {format_count(other.exact)} for the same place in {_where(other)}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _census_counts(data: Dataset) -> Iterator[tuple[str, int]]:
    for uid, unit in data.units.items():
        yield uid, unit.population
    for aid, area in data.areas.items():
        yield aid, area.population


def _census_ethnic(data: Dataset, obs: Observation) -> Finding:
    """An ethnic count against the census: the published count, or the range the rounded share allows."""
    printed = _printed_of(obs)
    place = data.units.get(obs.unit) or data.areas[obs.unit]
    published = {
        "han_population": getattr(place, "han_population_2020", None),
        "tibetan_population": getattr(place, "tibetan_population_2020", None),
        "other_minority_population": getattr(place, "other_minority_population_2020", None),
    }[obs.kind]
    step = printed.significant_step
    if published is not None:
        rule = rounding_rule(Fraction(published), printed, step)
        recomputed = format_count(published)
        arithmetic = f"2020 census, published count: {recomputed}"
    elif obs.kind == "han_population":
        half = Fraction(1, 20000)  # the share is published to 0.01 percentage points
        low = place.population * (Fraction(place.han_share_2020) - half)
        high = place.population * (Fraction(place.han_share_2020) + half)
        inside = low - step <= printed.value <= high + step
        rule = "within the census share's rounding" if inside else None
        recomputed = f"{format_count(round(low))}–{format_count(round(high))}"
        arithmetic = (
            f"{format_count(place.population)} × ({float(place.han_share_2020) * 100:.2f}% ± 0.005 points) "
            f"= {recomputed}"
        )
    else:
        return _no_census(data, obs)
    if step != 1:
        arithmetic += f" (printed to the nearest {format_count(step)})"
    return _census_finding(
        data,
        obs,
        printed=printed.text,
        recomputed=recomputed,
        arithmetic=arithmetic,
        status="agrees" if rule else "disagrees",
        rule=rule or "",
        cause="" if rule else f"Outside what the 2020 census allows for {data.place_name(obs.unit)}.",
    )


def _census_han_share(data: Dataset, obs: Observation) -> Finding:
    printed = _printed_of(obs)
    place = data.units.get(obs.unit) or data.areas[obs.unit]
    share = Fraction(place.han_share_2020)
    if printed.qualifier == "below":
        agrees, rule = share < printed.value, "below"
    else:
        found = rounding_rule(share, printed)
        agrees, rule = found is not None, found or ""
    earlier = getattr(place, "han_share_2010", None)
    history = f"; 2010 census: {float(earlier) * 100:.2f}%" if earlier is not None else ""
    return _census_finding(
        data,
        obs,
        printed=printed.text,
        recomputed=f"{float(share) * 100:.2f}%",
        arithmetic=f"2020 census, {data.place_name(obs.unit)}: {float(share) * 100:.2f}%{history}",
        status="agrees" if agrees else "disagrees",
        rule=rule if agrees else "",
        cause=""
        if agrees
        else "The census shares are above the printed figure; the report's source for it is older or local.",
    )


def _no_census(data: Dataset, obs: Observation) -> Finding:
    return _census_finding(
        data,
        obs,
        printed=_printed_of(obs).text,
        recomputed="",
        arithmetic="The census tables bundled here publish no such count for this place.",
        status="note",
        rule="",
        cause="Not checked.",
    )


def _basis_note(
    data: Dataset, fid: str, where: str, quantity: str, printed: Printed, value: Fraction, census: int
) -> Finding:
    return Finding(
        id=f"census:{fid}",
        category="census",
        where=where,
        quantity=quantity,
        printed=printed.text,
        recomputed=format_count(census),
        arithmetic=f"{format_count(value)} ÷ {format_count(census)} (census) = ×{float(value / census):.4f}",
        status="note",
        rule="",
        cause=(
            "Another basis: permanent plus temporary residents, which the census does not count; "
            f"the uplift over the census is {float(value / census - 1):+.1%}."
        ),
    )


def _rest_population(data: Dataset, chain: Replication) -> Finding:
    """The 2.48 M outside Lhasa and Nyingchi against the same subtraction on the census."""
    rest = chain.step("rest_population")
    with_temporary = data.observations["lhasa_population_with_temporary"]
    region_total = data.observations["tibet_population_2021"]
    region = next(aid for aid, area in data.areas.items() if area.level == "region")
    census = {place: data.census_population(place) or 0 for place in (region, "lhasa", "nyingchi")}
    census_rest = census[region] - census["lhasa"] - census["nyingchi"]
    low, high = chain.step("lhorong_rate").value, chain.step("zhagyab_rate").value
    return Finding(
        id="census:rest_population",
        category="census",
        where=rest.where,
        quantity=rest.label,
        printed=rest.printed.text,
        recomputed=format_count(census_rest),
        arithmetic=(
            f"census: {format_count(census[region])} − {format_count(census['lhasa'])} − "
            f"{format_count(census['nyingchi'])} = {format_count(census_rest)}; report: {rest.arithmetic}"
        ),
        status="disagrees",
        rule="",
        cause=(
            f"The report subtracts Lhasa's permanent-plus-temporary {_printed_of(with_temporary).text} from a "
            f"permanent-resident total ({_printed_of(region_total).text}, dated {region_total.date}) and truncates "
            f"the sum to {chain.step('lhasa_nyingchi_population').shown()}. On the census basis the population outside "
            f"Lhasa and Nyingchi is {format_count(census_rest - rest.value)} higher, which at the report's two rates "
            f"adds {format_count(truncate((census_rest - rest.value) * low, ONE))} and "
            f"{format_count(truncate((census_rest - rest.value) * high, ONE))} samples."
        ),
    )


# --- method --------------------------------------------------------------------------------


def _method_notes(data: Dataset, chain: Replication) -> Iterator[Finding]:
    """Choices in the report's method that move a figure, with the figure they move."""
    observations = data.observations
    # Shares whose numerator counts samples that have no place in the base.
    for obs in observations.values():
        if obs.kind != "coverage_share" or obs.samples_ref is None or obs.base_ref is None:
            continue
        parts = [o for o in observations.values() if o.part_of == obs.samples_ref]
        unplaced = [p for p in parts if p.base_ref is None]
        if not parts or not unplaced:
            continue
        numerator, base = observations[obs.samples_ref], observations[obs.base_ref]
        placed = numerator.exact - sum((p.exact for p in unplaced), Fraction(0))
        yield Finding(
            id=f"method:{obs.id}",
            category="method",
            where=_where(obs),
            quantity=_quantity(data, obs),
            printed=_printed_of(obs).text,
            recomputed=format_exact(placed / base.exact, "percent"),
            arithmetic=(
                f"({format_count(numerator.exact)} − {' − '.join(format_count(p.exact) for p in unplaced)}) ÷ "
                f"{format_count(base.exact)} = {format_exact(placed / base.exact, 'percent')}"
            ),
            status="note",
            rule="",
            cause=(
                f"The numerator includes {format_count(sum((p.exact for p in unplaced), Fraction(0)))} samples "
                "with no place, whose population is not in the base."
            ),
        )

    lhasa_rate = chain.step("lhasa_rate")
    nyingchi = observations["nyingchi_population"]
    lhasa_permanent = observations["lhasa_population"]
    lhasa_total = chain.step("lhasa_database_total").value
    permanent_rate = lhasa_total / lhasa_permanent.exact
    yield Finding(
        id="method:nyingchi_samples",
        category="method",
        where=chain.step("nyingchi_samples").where,
        quantity="Nyingchi at Lhasa's rate",
        printed=chain.step("nyingchi_samples").printed.text,
        recomputed=format_count(truncate(nyingchi.exact * permanent_rate, ONE)),
        arithmetic=(
            f"{format_count(lhasa_total)} ÷ {format_count(lhasa_permanent.exact)} = "
            f"{format_exact(permanent_rate, 'percent')}; × {format_count(nyingchi.exact)} = "
            f"{format_exact(nyingchi.exact * permanent_rate, 'count')}"
        ),
        status="note",
        rule="",
        cause=(
            f"Lhasa's rate ({lhasa_rate.shown()}) is per permanent and temporary resident, but it is applied to "
            "Nyingchi's permanent population; on the permanent basis of both, Nyingchi's figure is this one."
        ),
    )

    later = observations["zhagyab_samples_added_2018"]
    zhagyab = observations["zhagyab_samples_2017"]
    base = observations["zhagyab_population_table4"]
    with_later = (zhagyab.exact + later.exact) / base.exact
    yield Finding(
        id="method:zhagyab_rate",
        category="method",
        where=chain.step("zhagyab_rate").where,
        quantity="Zhagyab's rate with the 2018 collection",
        printed=chain.step("zhagyab_rate").printed.text,
        recomputed=format_exact(with_later, "percent"),
        arithmetic=(
            f"({format_count(zhagyab.exact)} + {format_count(later.exact)}) ÷ {format_count(base.exact)} = "
            f"{format_exact(with_later, 'percent')}"
        ),
        status="note",
        rule="",
        cause=(
            f"The report's rate leaves out the further {format_count(later.exact)} samples of {later.date}, "
            "which it reports itself."
        ),
    )

    dated = [observations[oid] for oid in ("lhorong_samples_2016", "zhagyab_samples_2017", "qushui_samples_2021")]
    yield Finding(
        id="method:dates",
        category="method",
        where="Table 4; Table 5",
        quantity="Dates of the rates behind a July 2022 total",
        printed=chain.step("total_low").printed.text + " / " + chain.step("total_high").printed.text,
        recomputed="",
        arithmetic="; ".join(f"{_label(obs)}: {format_count(obs.exact)} by {obs.date}" for obs in dated),
        status="note",
        rule="",
        cause=(
            "The totals are for July 2022 but rest on rates observed between 2016 and January 2021; collection "
            "that went on later (the report cites Lhasa reports from 2022) is not in them."
        ),
    )


# --- helpers -------------------------------------------------------------------------------


def _printed_of(obs: Observation) -> Printed:
    """The figure as printed, or, for a row without printed text, its value at its own precision."""
    if obs.printed is not None:
        return obs.printed
    text = f"{obs.value * 100}%" if obs.kind in SHARE_KINDS else f"{int(obs.value):,}"
    return parse_printed(text)


def _label(obs: Observation) -> str:
    return obs.subarea or obs.id


def _where(obs: Observation) -> str:
    return obs.source.removeprefix("Report, ")


def _quantity(data: Dataset, obs: Observation) -> str:
    place = data.place_name(obs.unit)
    return f"{place}, {obs.subarea}: {obs.kind}" if obs.subarea else f"{place}: {obs.kind}"
