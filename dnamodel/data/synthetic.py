"""A synthetic programme of any size with a known truth: a data folder, a dated spec and the truth.

:func:`synthetic` invents a region of ``units`` units in ``groups`` groups, fixes the dated model's
parameters (``docs/model.md``, section 5), and simulates from the model at them the kinds of figure
real sources print: counts of single units at dates, increments since an earlier count, a coverage,
lower and upper bounds ("at least", "at most"), and the region-wide database's stock and growth. It
writes what a user would have (``data/`` for ``--data``, ``models/dated.toml``) and what only a
simulation knows (``truth.json``: the parameters, each observation's expected value and the total
at the estimand date), so that a fit can be checked against its truth at any scale, and timed.

The model is computed here in NumPy, independently of the inference stage, which the data stage may
not import (``ARCHITECTURE.md``); ``tests/test_synthetic.py`` checks that the two agree.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dnamodel.errors import UsageError
from dnamodel.files import atomic_write_text

TRUTH = {
    "alpha": -0.3,
    "contrast": -0.8,
    "group_sd": 0.6,
    "unit_sd": 0.5,
    "reported": 0.0,
    "typed_share": 0.85,
    "baseline_per_resident": 0.008,
}
"""The scalar parameters every synthetic programme is made from (``reported`` is 0: its reporting
units are a random sample of its units, so they differ from the others by nothing)."""

CENSUS_ERROR = 0.03
RAMP_YEARS = 0.25
ESTIMAND = "2023-06"
FIRST_DATE, LAST_DATE = (2017, 7), (2023, 6)
"""The months between which sources report counts (inclusive)."""
DATABASE_DATE, DATABASE_SINCE = "2022-06", "2022-01"
ERRORS = {"count": 0.10, "added": 0.15, "coverage": 0.25, "bound": 0.10, "stock": 0.05, "stock_added": 0.10}
"""Each kind of figure's reporting error (log scale; the coverage's on the logit scale)."""
REGION = "region"
COVARIATE = "urban_share_2020"

SAMPLER = {"draws": 2000, "tune": 1000, "chains": 4, "target_accept": 0.95}
"""The spec's sampler settings: what ``benchmarks/bench_scale.py`` fits every size with."""


@dataclass(frozen=True)
class Synthetic:
    """What :func:`synthetic` wrote, and the truth it simulated from.

    Attributes
    ----------
    folder : Path
        The folder written.
    data : Path
        ``folder / "data"``: ``units.csv``, ``areas.csv``, ``observations.csv``, ``study.toml``.
    spec : Path
        ``folder / "models" / "dated.toml"``: the dated model of these data.
    truth_path : Path
        ``folder / "truth.json"``.
    truth : dict
        The contents of ``truth.json``: ``total`` and ``share`` at the estimand date, the scalar
        ``parameters``, each ``group``'s start, pace and standardised effect, each ``unit``'s
        standardised effect, census error and fraction at saturation, the ``expected`` value each
        observation was drawn around, and how many draws were ``redrawn`` (Notes).
    """

    folder: Path
    data: Path
    spec: Path
    truth_path: Path
    truth: dict[str, Any]


def synthetic(
    folder: str | Path,
    *,
    units: int = 77,
    groups: int = 7,
    observations: int | None = None,
    reported_effect: bool = True,
    seed: int,
) -> Synthetic:
    """Write a synthetic programme with a known truth: a data folder, a dated spec and ``truth.json``.

    Parameters
    ----------
    folder : str or Path
        Where to write; created if missing. Files already there are replaced.
    units : int
        Units of the region (at least 4), spread over the groups in sizes that differ.
    groups : int
        Groups of units, each with its own campaign start and pace; at least 2 and at
        most ``units // 2``.
    observations : int, optional
        Figures to simulate (at least 8): two for the region's database (its stock and its growth
        over half a year), a coverage and the count of the same source, a tenth lower and upper
        bounds, a tenth increments since a count, the rest counts of single units at dates; each
        count, bound and the coverage is of a different unit. Defaults to ``max(12, units // 10)``.
    reported_effect : bool
        Whether the spec has the offset δ of the units a source counts on their own (``[fraction]
        reported``), as the bundled case study's does. Here those units are a random sample of the
        units, so δ is 0 in truth and a spec without it is also the model the data come from; with
        it, the level of the units no source counts rests on the database's figures alone.
    seed : int
        Seeds everything drawn: populations, covariate, effects, starts, paces, dates, which units
        report, and the reporting errors. The same seed gives the same files, byte for byte.

    Returns
    -------
    Synthetic
        The paths written and the truth.

    Raises
    ------
    UsageError
        For sizes the programme cannot have.

    Notes
    -----
    The parameters are :data:`TRUTH`, with census error 0.03, a three-month ramp, group effects
    and unit effects standard normal (non-centred, as the model is), campaign starts uniform between
    mid-2016 and mid-2018 and paces log-normal (median 0.8 a year). Each figure is drawn from the
    model's own likelihood around its expected value (``docs/model.md``, 5.7): log-normal, the
    coverage logit-normal; a bound is the value the source would have printed, rounded down ("at
    least") or up ("at most") to two significant figures. A count, or a bound, above its unit's
    census population is drawn again, since the data check refuses it; ``truth["redrawn"]`` counts
    these draws. Counts are rounded to whole numbers and the coverage to a tenth of a percent.

    Examples
    --------
    >>> import tempfile
    >>> from dnamodel import load_data
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     made = synthetic(folder, units=30, groups=3, observations=10, seed=1)
    ...     data = load_data(made.data)
    ...     len(data.units), len(data.groups), len(data.observations), made.spec.name
    (30, 3, 10, 'dated.toml')
    >>> made.truth["total"] > 0, sorted(made.truth["parameters"])[:2]
    (True, ['alpha', 'baseline_per_resident'])
    """
    n_obs = max(12, units // 10) if observations is None else observations
    if units < 4:
        raise UsageError(f"a synthetic programme needs at least 4 units, not {units}")
    if not 2 <= groups <= units // 2:
        raise UsageError(f"groups must be between 2 and units // 2 = {units // 2}, not {groups}")
    if n_obs < 8:
        raise UsageError(f"a synthetic programme needs at least 8 observations, not {n_obs}")
    bounds = max(2, n_obs // 10)
    increments = max(1, n_obs // 10)
    counts = n_obs - 4 - bounds - increments  # the coverage comes with a count of its own
    if counts + bounds + 1 > units:
        raise UsageError(f"{n_obs} observations need {counts + bounds + 1} units to report, more than the {units}")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    programme = _programme(units, groups, rng)
    rows, spec_tables, expected, redrawn = _observations(programme, counts, increments, bounds, rng)
    root = Path(folder)
    data, models = root / "data", root / "models"
    for path in (data, models):
        path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(data / "units.csv", _csv(_unit_rows(programme)))
    atomic_write_text(data / "areas.csv", _csv(_area_rows(programme)))
    atomic_write_text(data / "observations.csv", _csv(rows))
    atomic_write_text(data / "study.toml", STUDY)
    spec_path = models / "dated.toml"
    atomic_write_text(spec_path, _spec(programme, spec_tables, seed, reported_effect))
    collected = _collected(programme, _decimal_month(ESTIMAND))
    truth = {
        "seed": seed,
        "units": units,
        "groups": groups,
        "observations": n_obs,
        "reported_effect": reported_effect,
        "estimand_date": ESTIMAND,
        "total": float(collected.sum()),
        "share": float(collected.sum() / programme["people"].sum()),
        "parameters": {name: value for name, value in TRUTH.items() if reported_effect or name != "reported"},
        "group": {
            "id": programme["group_id"],
            "start": programme["start"].tolist(),
            "pace": programme["pace"].tolist(),
            "group_z": programme["group_z"].tolist(),
        },
        "unit": {
            "id": programme["unit_id"],
            "unit_z": programme["unit_z"].tolist(),
            "census_z": programme["census_z"].tolist(),
            "fraction": programme["fraction"].tolist(),
        },
        "expected": expected,
        "redrawn": redrawn,
    }
    truth_path = root / "truth.json"
    atomic_write_text(truth_path, json.dumps(truth, indent=1) + "\n")
    return Synthetic(root, data, spec_path, truth_path, truth)


# --- the programme and its truth -------------------------------------------------------------------


def _programme(units: int, groups: int, rng: np.random.Generator) -> dict[str, Any]:
    """Units, groups and every parameter: the truth, as arrays over units and groups."""
    group_id = [f"group_{j + 1:0{len(str(groups))}d}" for j in range(groups)]
    unit_id = [f"unit_{u + 1:0{len(str(units))}d}" for u in range(units)]
    # groups of different sizes: each unit in a group with probability ∝ a Dirichlet weight, every group non-empty
    weights = rng.dirichlet(np.full(groups, 2.0))
    unit_group = np.concatenate([np.arange(groups), rng.choice(groups, units - groups, p=weights)])
    unit_group = np.sort(unit_group)
    population = np.maximum(1000, np.round(25_000 * np.exp(0.7 * rng.standard_normal(units)))).astype(int)
    covariate = np.round(rng.beta(2.0, 5.0, units), 3)
    group_z = rng.standard_normal(groups)
    unit_z = rng.standard_normal(units)
    census_z = rng.standard_normal(units)
    start = rng.uniform(2016.5, 2018.5, groups)
    pace = np.exp(math.log(0.8) + 0.3 * rng.standard_normal(groups))
    eta = TRUTH["alpha"] + TRUTH["group_sd"] * group_z[unit_group] + TRUTH["unit_sd"] * unit_z
    fraction = (1 - covariate) * _sigmoid(eta) + covariate * _sigmoid(eta + TRUTH["contrast"])
    people = population * np.exp(CENSUS_ERROR * census_z)
    return {
        "group_id": group_id,
        "unit_id": unit_id,
        "unit_group": unit_group,
        "population": population,
        "covariate": covariate,
        "group_z": group_z,
        "unit_z": unit_z,
        "census_z": census_z,
        "start": start,
        "pace": pace,
        "fraction": fraction,
        "people": people,
    }


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _ramp(t: float, start: np.ndarray) -> np.ndarray:
    """ε·softplus((t − t0) / ε), the campaign's elapsed time with its start smoothed."""
    return RAMP_YEARS * np.logaddexp(0.0, (t - start) / RAMP_YEARS)


def _collected(programme: dict[str, Any], t: float, since: float | None = None) -> np.ndarray:
    """C_u(t) for every unit, or C_u(t) − C_u(since): π_u N_u [F_j(t) − F_j(since)]."""
    pace, start = programme["pace"], programme["start"]
    if since is None:
        gain = -np.expm1(-pace * _ramp(t, start))
    else:
        before = _ramp(since, start)
        gain = np.exp(-pace * before) * -np.expm1(-pace * (_ramp(t, start) - before))
    return programme["fraction"] * gain[programme["unit_group"]] * programme["people"]


def _decimal_month(month: str) -> float:
    """A month ``YYYY-MM`` as a decimal year, at its middle (as the dated spec reads dates)."""
    year, number = (int(part) for part in month.split("-"))
    return year + (number - 0.5) / 12


def _month(rng: np.random.Generator, first: tuple[int, int], last: tuple[int, int]) -> str:
    """A month drawn uniformly between two (inclusive)."""
    start, stop = first[0] * 12 + first[1] - 1, last[0] * 12 + last[1] - 1
    index = int(rng.integers(start, stop + 1))
    return f"{index // 12}-{index % 12 + 1:02d}"


def _later(month: str, rng: np.random.Generator) -> str | None:
    """A month 6 to 24 months after ``month`` and not after the last, or ``None``."""
    year, number = (int(part) for part in month.split("-"))
    first = year * 12 + number - 1 + 6
    last = LAST_DATE[0] * 12 + LAST_DATE[1] - 1
    if first > last:
        return None
    index = int(rng.integers(first, min(first + 18, last) + 1))
    return f"{index // 12}-{index % 12 + 1:02d}"


# --- the observations ----------------------------------------------------------------------------


def _observations(
    programme: dict[str, Any], counts: int, increments: int, bounds: int, rng: np.random.Generator
) -> tuple[list[dict[str, str]], list[str], dict[str, float], int]:
    """The rows of ``observations.csv``, the spec's tables, each one's expected value, and the draws made again.

    A draw is made again when it exceeds its unit's census population (the data check refuses it).
    """
    units = len(programme["unit_id"])
    reporting = rng.permutation(units)[: counts + bounds + 1]
    counted, bounded, covered = reporting[:counts], reporting[counts : counts + bounds], int(reporting[-1])
    rows: list[dict[str, str]] = []
    tables: list[str] = []
    expected: dict[str, float] = {}
    source = iter(range(1, 10**9))

    def add(row_id: str, unit: str, kind: str, value: str, printed: str, date: str, **extra: str) -> None:
        number = next(source)
        rows.append(
            {
                "id": row_id,
                "unit": unit,
                "subarea": "",
                "kind": kind,
                "value": value,
                "printed": printed,
                "date": date,
                "period_start": extra.get("period_start", ""),
                "samples_ref": extra.get("samples_ref", ""),
                "base_ref": "",
                "part_of": "",
                "origin": "source",
                "source": f"Synthetic source No. {number}",
                "source_date": date,
                "note": "Simulated from the dated model at the truth in truth.json.",
            }
        )

    def table(name: str, kind: str, error: float, units_: str | None = None, database: str | None = None) -> None:
        lines = [f"[observations.{name}]", f'kind = "{kind}"', f'value = "{name}"']
        if units_ is not None:
            lines.append(f'units = ["{units_}"]')
        if database is not None:
            lines.append(f'database = "{database}"')
        lines.append(f"error = {error}")
        tables.append("\n".join(lines))

    def draw_count(mu: float, error: float, ceiling: float, round_to=None) -> int:
        """A count around ``mu``, drawn again while it (rounded as printed) exceeds ``ceiling``."""
        while True:
            value = mu * math.exp(error * rng.standard_normal())
            shown = max(1, round(value)) if round_to is None else round_to(value)
            if shown <= ceiling:
                return shown
            redrawn[0] += 1

    redrawn = [0]

    count_dates: dict[int, str] = {}
    for u in counted:
        unit = programme["unit_id"][u]
        date = _month(rng, FIRST_DATE, LAST_DATE)
        mu = float(_collected(programme, _decimal_month(date))[u])
        value = draw_count(mu, ERRORS["count"], programme["population"][u])
        name = f"{unit}_count"
        add(name, unit, "samples_cumulative", str(value), f"{value:,}", date)
        table(name, "count", ERRORS["count"], units_=unit)
        expected[name] = mu
        count_dates[int(u)] = date
    made = 0
    for u in counted:
        if made == increments:
            break
        unit = programme["unit_id"][u]
        later = _later(count_dates[int(u)], rng)
        if later is None:
            continue
        since = count_dates[int(u)]
        mu = float(_collected(programme, _decimal_month(later), _decimal_month(since))[u])
        value = draw_count(mu, ERRORS["added"], programme["population"][u])
        name = f"{unit}_added"
        add(name, unit, "samples_added", str(value), f"{value:,}", later, period_start=since)
        table(name, "count", ERRORS["added"], units_=unit)
        expected[name] = mu
        made += 1
    if made < increments:
        raise UsageError("too few counts early enough to be followed by an increment; ask for more observations")
    for i, u in enumerate(bounded):
        unit = programme["unit_id"][u]
        date = _month(rng, FIRST_DATE, LAST_DATE)
        mu = float(_collected(programme, _decimal_month(date))[u])
        lower = i % 2 == 0
        value = draw_count(
            mu, ERRORS["bound"], programme["population"][u], _two_figures_down if lower else _two_figures_up
        )
        name = f"{unit}_{'at_least' if lower else 'at_most'}"
        add(name, unit, "samples_cumulative", str(value), f"{'at least' if lower else 'at most'} {value:,}", date)
        table(name, "count", ERRORS["bound"], units_=unit)
        expected[name] = mu
    # a coverage: one unit's collected over its people, with its count at the same date
    unit = programme["unit_id"][covered]
    date = _month(rng, FIRST_DATE, LAST_DATE)
    collected = float(_collected(programme, _decimal_month(date))[covered])
    mu = collected / float(programme["people"][covered])
    logit = math.log(mu / (1 - mu)) + ERRORS["coverage"] * rng.standard_normal()
    share = min(max(round(1 / (1 + math.exp(-logit)), 3), 0.001), 0.999)
    count = draw_count(collected, ERRORS["count"], programme["population"][covered])
    add(f"{unit}_count", unit, "samples_cumulative", str(count), f"{count:,}", date)
    table(f"{unit}_count", "count", ERRORS["count"], units_=unit)
    expected[f"{unit}_count"] = collected
    add(
        f"{unit}_coverage",
        unit,
        "coverage_share",
        f"{share:.3f}",
        f"{share * 100:.1f}%",
        date,
        samples_ref=f"{unit}_count",
    )
    table(f"{unit}_coverage", "coverage", ERRORS["coverage"], units_=unit)
    expected[f"{unit}_coverage"] = mu
    # the region's database: its stock, and what was added over half a year
    held = TRUTH["baseline_per_resident"] * float(programme["population"].sum())
    stock = held + TRUTH["typed_share"] * float(_collected(programme, _decimal_month(DATABASE_DATE)).sum())
    added = TRUTH["typed_share"] * float(
        _collected(programme, _decimal_month(DATABASE_DATE), _decimal_month(DATABASE_SINCE)).sum()
    )
    for name, mu, error, extra in (
        ("database_stock", stock, ERRORS["stock"], {}),
        ("database_added", added, ERRORS["stock_added"], {"period_start": DATABASE_SINCE}),
    ):
        value = max(1, round(mu * math.exp(error * rng.standard_normal())))
        kind = "samples_added" if extra else "samples_cumulative"
        add(name, REGION, kind, str(value), f"{value:,}", DATABASE_DATE, **extra)
        table(name, "database", error, database=REGION)
        expected[name] = mu
    # the file lists them by place (the region's first); the spec in the order they were drawn
    rows.sort(key=lambda r: (r["unit"] != REGION, r["unit"], r["id"]))
    return rows, tables, expected, redrawn[0]


def _two_figures_down(value: float) -> int:
    """``value`` rounded down to two significant figures (at least 1)."""
    if value < 10:
        return max(1, math.floor(value))
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return int(math.floor(value / step) * step)


def _two_figures_up(value: float) -> int:
    """``value`` rounded up to two significant figures."""
    if value < 10:
        return math.ceil(value)
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return int(math.ceil(value / step) * step)


# --- the files -------------------------------------------------------------------------------------


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _unit_rows(programme: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": unit,
            "group": programme["group_id"][programme["unit_group"][u]],
            "name": f"Unit {u + 1}",
            "population": int(programme["population"][u]),
            COVARIATE: f"{programme['covariate'][u]:.3f}",
        }
        for u, unit in enumerate(programme["unit_id"])
    ]


def _area_rows(programme: dict[str, Any]) -> list[dict[str, Any]]:
    population = programme["population"]
    by_group = np.bincount(programme["unit_group"], weights=population, minlength=len(programme["group_id"]))
    rows = [
        {
            "id": REGION,
            "level": "region",
            "parent": "",
            "name": "The synthetic region",
            "population": int(population.sum()),
        }
    ]
    rows += [
        {"id": group, "level": "group", "parent": REGION, "name": f"Group {j + 1}", "population": int(total)}
        for j, (group, total) in enumerate(zip(programme["group_id"], by_group, strict=True))
    ]
    return rows


REPORTED = """\
# δ, the offset of the units a source counts on their own (here a random sample of the units: 0)
reported = { dist = "normal", mu = 0.0, sigma = 1.0 }
"""

STUDY = """\
# A synthetic programme, written by dnamodel.synthetic: every unit, figure and source is simulated
# from the dated model at a known truth (../truth.json).

[study]
region = "the synthetic region"
place = "the synthetic region"
counted = "Samples collected"
unit = "samples"
claim = "the synthetic programme had collected samples from"
persons = "people"
counting_note = "each sample is counted as one person"
start = "2016"
end = "2023-06"
group = "group"

[columns]
urban_share_2020 = "urban share of residents (synthetic)"

# The model a command fits when none is named: the one these data were simulated from.
[models]
default = "../models/dated.toml"
"""


def _spec(programme: dict[str, Any], tables: list[str], seed: int, reported_effect: bool) -> str:
    """The dated spec of a synthetic programme: the model it was simulated from, with weakly informative priors."""
    head = f"""\
# The dated model of a synthetic programme (dnamodel.synthetic, seed {seed}): {len(programme["unit_id"])} units in
# {len(programme["group_id"])} groups, the figures in ../data simulated from this model at ../truth.json.

[model]
name = "synthetic_dated"
kind = "dated"
description = "A synthetic programme of {len(programme["unit_id"])} units, simulated from the model at a known truth"

[estimand]
date = "{ESTIMAND}"

[fraction]
covariate = "{COVARIATE}"
form = "composition"
alpha = {{ dist = "normal", mu = 0.0, sigma = 1.5 }}
contrast = {{ dist = "normal", mu = 0.0, sigma = 1.5 }}
group_sd = {{ dist = "gamma", alpha = 3.0, beta = 4.0 }}
unit_sd = {{ dist = "gamma", alpha = 3.0, beta = 4.0 }}
{REPORTED if reported_effect else ""}
[campaign]
ramp_years = {RAMP_YEARS}
pace = {{ dist = "lognormal", mu = 0.0, sigma = 0.75 }}

[campaign.start]
default = {{ around = "2017-07", sd_years = 1.0 }}

[population]
census_error = {CENSUS_ERROR}

[databases]
typed_share = {{ dist = "beta", alpha = 8.0, beta = 2.0 }}
baseline_per_resident = {{ dist = "lognormal", mu = -4.6052, sigma = 1.0 }}

[databases.areas]
{REGION} = ["{REGION}"]
"""
    sampler = f"""\
[sampler]
draws = {SAMPLER["draws"]}
tune = {SAMPLER["tune"]}
chains = {SAMPLER["chains"]}
seed = {seed}
target_accept = {SAMPLER["target_accept"]}
"""
    return head + "\n" + "\n\n".join(tables) + "\n\n" + sampler
