"""The refits behind ``estimate``'s second sentence: each assumption no datum tests, and κ held at values.

:func:`candidates` lists the alternatives, from the fit's own spec: the settings of the model's
sweeps (a shipped model's shipped sweeps; a user's spec's ``[assumptions] sweeps``), one setting
away from the spec's own at a time, and the structural alternatives its schema admits (the
reported-units offset left out or added; the other campaign curves when the schema has
``campaign.curve``). :func:`run_assumptions` refits each as a sweep's point
(:func:`dnamodel.workflows.sweep.run_point`, so they inherit its speed), in threads, at
:data:`ASSUMPTION_DRAWS` per chain, with the default spec refitted at the same settings to compare
with, and :func:`dnamodel.checks.decisive.outcome` judges them. The κ table refits with the typed
share held at 0.5, 0.6, …, 1.0 (:func:`fixed_value`).

Cached in the output folder: each refit is a JSON file in ``<out>/assumptions.points/`` named by
the sweep's point key (package version, spec text, data version, overrides, draws, tuning, chains,
seed, sampler), so a second ``estimate`` of the same spec and data reads them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel.checks.decisive import STRUCTURAL, Assumptions, FixedRow, Outcome, outcome, refit_gates
from dnamodel.checks.gates import Diagnostics
from dnamodel.data import Dataset
from dnamodel.errors import DataError, UsageError
from dnamodel.families import current_value, family_of, known_paths, load_sweep
from dnamodel.families.base import Fit, SweepSettings
from dnamodel.files import atomic_write_text, make_folder
from dnamodel.inference.dated import collected, constrain
from dnamodel.spec import parameters
from dnamodel.spec.base import MODELS_DIR
from dnamodel.spec.sweep import check_path, coordinate, shipped_sweeps
from dnamodel.workflows.sweep import POINT_FORMAT, _point_key, at_own_values, run_points, start_from_base

if TYPE_CHECKING:
    from distributed import Client

ASSUMPTION_DRAWS = 2000
"""Draws per chain of each refit: at 4 × 2,000 after 1,000 tuning steps the bundled default passes its
gates (max R-hat 1.007), where 4 × 1,000 does not (1.027); an eighth of the fit's draws each."""
ASSUMPTION_TUNE = 1000
FIXED_VALUES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""The values at which the κ table holds the typed share."""
FIXED = "typed_share"
"""The parameter the κ table holds at values (its spec key and words are the registry's)."""
OFFSET = "reported"
"""The parameter of the structural alternative: the offset of the units a report counts alone."""


def prior_key(name: str) -> str:
    """The spec key of a dated parameter's prior, from the registry (``databases.typed_share``)."""
    entry = parameters.find(name, parameters.DATED)
    if not isinstance(entry, parameters.Parameter) or entry.prior is None:
        raise KeyError(name)
    return entry.prior


FIXED_PATH = prior_key(FIXED)
POINTS_FOLDER = "assumptions.points"


@dataclass(frozen=True)
class Candidate:
    """One alternative to refit: where it comes from, its setting, its words and its overrides."""

    name: str
    setting: str
    words: str
    overrides: dict[str, Any]


def fixed_value(path: str, value: float) -> dict[str, Any]:
    """The overrides that hold a parameter (``path``, its prior's key) at ``value``: ``{dist = "fixed"}``.

    The parameter leaves the sampled vector and its value is packed (model card 5.8); every
    κ-conditional refit is made through this one function.
    """
    return {path: {"dist": "fixed", "value": value}}


def _setting(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{path} = {json.dumps(value)}" for path, value in overrides.items())


def candidates(spec: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """The alternatives to refit, from the spec itself, and those not tried with the reason.

    Each sweep setting is one path at one value other than the spec's own, the rest at the spec's.
    """
    found: list[Candidate] = []
    skipped: list[tuple[str, str]] = []
    known = known_paths(spec)
    for sweep_file in _sweeps_of(spec, skipped):
        try:
            sweep = load_sweep(sweep_file)
        except (UsageError, DataError) as error:
            skipped.append((str(sweep_file), str(error).splitlines()[0]))
            continue
        for path, values in sweep.grid.items():
            try:
                check_path(path, known)
            except UsageError as error:
                skipped.append((f"{sweep.name}: {path}", str(error)))
                continue
            own = coordinate(current_value(spec, path))
            words = sweep.words.get(path)
            for i, value in enumerate(values):
                if coordinate(value) == own:
                    continue
                overrides = {path: value}
                said = words[i] if words else f"{sweep.description.rstrip('.')} were set as {_setting(overrides)}"
                found.append(Candidate(sweep.name, _setting(overrides), said, overrides))
    for extra in _structural(spec, skipped):
        if all(extra.overrides != c.overrides for c in found):
            found.append(extra)
    return found, skipped


def _sweeps_of(spec: Any, skipped: list[tuple[str, str]]) -> list[str]:
    """A shipped model's shipped sweeps; a user's spec's ``[assumptions] sweeps``."""
    declared = list(getattr(spec, "assumption_sweeps", ()))
    if declared:
        return declared
    shipped = Path(spec.path).resolve().parent == MODELS_DIR.resolve()
    if shipped:
        with contextlib.suppress(UsageError):
            return shipped_sweeps(spec.name)
    skipped.append(("sweeps", "the spec declares none ([assumptions] sweeps = [...], paths relative to the spec)"))
    return []


def _structural(spec: Any, skipped: list[tuple[str, str]]) -> list[Candidate]:
    """The structural alternatives the spec's schema admits."""
    out = []
    priors = getattr(spec, "priors", {})
    key = prior_key(OFFSET)
    if OFFSET in priors:
        out.append(
            Candidate(
                STRUCTURAL,
                f"{key} = false",
                "the places the reports name were assumed no different from the places they do not name",
                {key: False},
            )
        )
    elif hasattr(spec, "fraction"):
        table = {"dist": "normal", "mu": 0.0, "sigma": 1.5}
        out.append(
            Candidate(
                STRUCTURAL,
                f"{key} = {json.dumps(table)}",
                "the places the reports name were allowed to differ from the places they do not name",
                {key: table},
            )
        )
    curve = _curve_families(spec)
    if curve is None:
        skipped.append(("campaign.curve", "this dnamodel's spec schema has no campaign.curve: no other curve to try"))
    else:
        own = getattr(spec.campaign, "curve", None)
        for family in curve:
            if family != own:
                out.append(
                    Candidate(
                        STRUCTURAL,
                        f"campaign.curve = {json.dumps(family)}",
                        f"the campaign had followed a {family.replace('_', ' ')} curve",
                        {"campaign.curve": family},
                    )
                )
    return out


def _curve_families(spec: Any) -> list[str] | None:
    """The values ``campaign.curve`` admits, read from the spec's schema; None when it has no such key."""
    campaign = getattr(spec, "campaign", None)
    fields = getattr(type(campaign), "model_fields", {}) if campaign is not None else {}
    if "curve" not in fields:
        return None
    annotation = fields["curve"].annotation
    values = [a for a in typing.get_args(annotation) if isinstance(a, str)]
    return values or None


def fixed_parameter(spec: Any) -> str | None:
    """The parameter the κ table holds at values: the typed share, when the spec has a database."""
    return FIXED if getattr(spec, "databases", None) is not None and FIXED in spec.priors else None


def run_assumptions(
    spec: Any,
    data: Dataset,
    out: str | Path,
    *,
    compute: bool = True,
    draws: int = ASSUMPTION_DRAWS,
    tune: int = ASSUMPTION_TUNE,
    status: Callable[[str], None] | None = None,
    warm: bool = True,
    importance: bool = True,
    client: Client | None = None,
    processes: int | None = None,
    threads: int | None = None,
    fit: Fit | None = None,
    fit_gates: Diagnostics | None = None,
    one_left: Callable[[], None] | None = None,
) -> Assumptions:
    """Refit each candidate, the default and the κ table (or read them from the cache), and judge them.

    With ``compute`` false only cached refits are read; when any is missing, the result says what was
    not computed and the command that computes it.

    The default's refit is cold, at ``draws`` and ``tune``; with ``warm`` each candidate whose model
    has the default's structure (a prior, a data row, a value held fixed) starts from it, as a
    sweep's point does (:func:`dnamodel.workflows.sweep.sweep`'s ``warm``), and is gated on the total
    and extended if it fails; a structural alternative (a curve family, the offset left out or added)
    is a cold fit. With ``importance`` too, a candidate whose parameters are exactly the default's (a
    prior's numbers, a data row; not a value held fixed) is first the default's draws reweighted by
    Pareto-smoothed importance sampling, sampled only where k̂ or the weights' ESS say no
    (``sweep``'s ``importance``). The refits run on a dask ``client``, ``processes`` or ``threads`` of this process
    (the default), as a sweep's points; each refit's numbers are its own whatever runs it.

    With ``warm``, a structural alternative starts from the default's adaptation mapped onto its
    parameters (``start = "mapped"``: each one the default has takes its scale, step size and
    starting points, one it lacks its prior's; :func:`dnamodel.families.dated.mapped_for`) and is
    gated and extended as a warm refit is, instead of a cold fit.

    ``fit``, the spec's own fit that ``estimate`` has just made with the spec's sampler settings (and
    ``fit_gates``, its summary's gates), is the default's row and the base the others start from and
    reweight, instead of a cold refit at ``draws`` and ``tune``: each alternative is then set against
    the fit the sentence cites. The refits' cache key holds a hash of the fit's draws, so a fit with
    other settings or another seed refits them.

    ``one_left``, if given, is called once, in this thread, when at most one refit of two or more is
    left to finish: the refits run one per core, and from then on a core is idle (``estimate`` renders
    its files there).
    """
    begin = time.perf_counter()
    found, skipped = candidates(spec)
    parameter = fixed_parameter(spec)
    fixed = [fixed_value(FIXED_PATH, v) for v in FIXED_VALUES] if parameter else []
    points: list[dict[str, Any]] = [{}, *(c.overrides for c in found), *fixed]
    settings = SweepSettings(
        spec.path,
        spec.text,
        data.location,
        draws,
        tune,
        spec.sampler.chains,
        spec.sampler.seed,
        "nutpie",
        warm=bool(warm),
        importance=bool(warm) and bool(importance),
        mapped=bool(warm),
    )
    family = family_of(spec)
    fitted = family.fit_base(fit, fit_gates, settings) if fit is not None and warm else None
    if fitted is not None and fit is not None:
        settings = replace(settings, base=fitted[1], base_key=draws_key(fit))
    store = Path(out) / POINTS_FOLDER
    keys = [_point_key(settings, data.version, p) for p in points]
    results: dict[int, dict[str, Any]] = {}
    for i, key in enumerate(keys):
        with contextlib.suppress(OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            results[i] = json.loads((store / f"{key}.json").read_text(encoding="utf-8"))["result"]
    cached = len(results)
    if fitted is not None:  # the default is the fit itself, and so is any point at the spec's own values
        for i in range(len(points)):
            if i == 0 or at_own_values(spec, points[i]):
                cached -= i in results
                results[i] = fitted[0]
    # a setting that is both a sweep's and the κ table's is one refit (the same key)
    first = {key: keys.index(key) for key in keys}
    how = _refits_text(spec.sampler.chains, draws, warm, importance, fitted is not None)
    todo = [i for i in range(len(points)) if i not in results and first[keys[i]] == i]
    if todo and not compute:
        return Assumptions(
            skipped=tuple(skipped),
            fixed_parameter=parameter,
            draws=draws,
            tune=tune,
            chains=spec.sampler.chains,
            cached=cached,
            not_computed=(
                f"the {len(todo)} refits ({how}) that find "
                "the assumptions deciding this figure and the total by the typed share"
                if parameter
                else f"the {len(todo)} refits ({how}) that find the assumptions deciding this figure"
            ),
            command=_command(spec, data, out),
        )
    if todo:
        make_folder(store, "the folder of the assumptions' refits")
        if status is not None:
            status(f"Assumptions: {len(todo)} refits ({how})")

        def finish(i: int, result: dict[str, Any]) -> None:
            results[i] = result
            record = {"format": POINT_FORMAT, "overrides": points[i], "key": keys[i], "result": result}
            atomic_write_text(store / f"{keys[i]}.json", json.dumps(record, indent=1))

        # the default's refit is points[0], {}: the base every other refit starts from (unless the fit is)
        rest = todo
        if fitted is None:
            settings, rest = start_from_base(spec, settings, family, points, todo, finish)
        left = len(rest)

        def finish_counted(i: int, result: dict[str, Any]) -> None:
            nonlocal left
            finish(i, result)
            left -= 1
            if left == 1 and one_left is not None:
                one_left()

        run_points(
            settings,
            points,
            rest,
            finish_counted,
            threadable=True,
            sampled=True,
            client=client,
            processes=processes,
            threads=threads,
        )
    for i, key in enumerate(keys):
        if i not in results and first[key] in results:
            results[i] = results[first[key]]
    base = results[0]
    default = {
        "median": base["total"]["median"],
        "low": base["total"]["q05"],
        "high": base["total"]["q95"],
        "passed": bool(base["passed"]),
        "max_rhat": base["max_rhat"],
        "min_ess": base["min_ess"],
    }
    outcomes: list[Outcome] = [
        outcome(
            c.name,
            c.setting,
            c.words,
            results[i + 1]["total"],
            bool(results[i + 1]["passed"]),
            default,
            refit_gates(results[i + 1]),
        )
        for i, c in enumerate(found)
    ]
    offset = 1 + len(found)
    rows = [
        FixedRow(
            v,
            results[offset + j]["total"]["median"],
            results[offset + j]["total"]["q05"],
            results[offset + j]["total"]["q95"],
            bool(results[offset + j]["passed"]),
            refit_gates(results[offset + j]),
        )
        for j, v in enumerate(FIXED_VALUES if parameter else ())
    ]
    return Assumptions(
        default=default,
        outcomes=tuple(outcomes),
        skipped=tuple(skipped),
        fixed_parameter=parameter,
        fixed=tuple(rows),
        draws=draws,
        tune=tune,
        chains=spec.sampler.chains,
        cached=cached,
        seconds=round(time.perf_counter() - begin, 3),
    )


def draws_key(fit: Fit) -> str:
    """A hash of a fit's unconstrained draws: what its refits' cache key holds when it is their base.

    The draws are what the settings, the seed, the sampler, the data and dnamodel's version made, so
    any of those changed changes it; the same fit gives the same key.
    """
    x = np.ascontiguousarray(fit.idata.posterior["unconstrained"].values)
    return hashlib.sha256(x.tobytes()).hexdigest()[:20]


def _refits_text(chains: int, draws: int, warm: bool, importance: bool = False, from_fit: bool = False) -> str:
    """How the refits start: the default's own ``4 × 2,000 draws`` (or the fit), the others from it."""
    if not warm:
        return chains_text(chains, draws)
    base = "the fit's draws" if from_fit else f"the default's {chains_text(chains, draws)}"
    others = "the others" if not from_fit else "each"
    if importance:
        return (
            f"{base}; {others} its draws reweighted where the parameters are the same and k̂ allows, else "
            "warm-started from it, its adaptation mapped where the structure differs"
        )
    return f"{base}; {others} warm-started from it, its adaptation mapped where the structure differs"


def chains_text(chains: int, draws: int) -> str:
    """``4 × 2,000 draws``."""
    return f"{chains} × {draws:,} draws"


def _command(spec: Any, data: Dataset, out: str | Path) -> str:
    """The command that computes the refits into ``out``."""
    model = spec.name if Path(spec.path).resolve().parent == MODELS_DIR.resolve() else spec.path
    parts = ["dnamodel estimate", str(model)]
    if data.location not in (None, "bundled"):
        parts.append(f"--data {data.location}")
    if str(out) != "results":
        parts.append(f"--out {out}")
    return " ".join(parts)


# --- the campaign after the last region-wide figure; selection --------------------------------------


@dataclass(frozen=True)
class ShareAfter:
    """The share of the total collected after the last figure that covers the whole region."""

    date: float
    label: str
    observation: str
    median: float
    low: float
    high: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "date": self.label,
            "observation": self.observation,
            "median": self.median,
            "interval_90": [self.low, self.high],
        }


def share_after_last_regionwide(fit: Any) -> ShareAfter | None:
    """1 − C(last region-wide date) ÷ C(estimand date) per posterior draw; None without such a figure."""
    inputs = fit.inputs
    when = getattr(inputs, "last_regionwide_date", math.nan)
    if inputs is None or not math.isfinite(when) or when >= inputs.estimand_date:
        return None

    x = fit.idata.posterior["unconstrained"].values
    q = constrain(x.reshape(-1, x.shape[-1]), inputs)
    then = collected(q, inputs, when).sum(axis=1)
    now = collected(q, inputs, inputs.estimand_date).sum(axis=1)
    share = 1 - then / now
    lo, med, hi = np.quantile(share, [0.05, 0.5, 0.95])
    return ShareAfter(
        float(when),
        inputs.last_regionwide_label,
        inputs.last_regionwide_observation,
        float(med),
        float(lo),
        float(hi),
    )


def selection_warning(fit: Any, words: Any) -> str | None:
    """When the spec has no offset of the reported units and the units no count names hold most of the total."""
    inputs = fit.inputs
    if inputs is None or getattr(inputs, "reported_effect", True):
        return None
    # the units the model would give the offset: those a count or a coverage names alone
    named = {m[0] for k, m in zip(inputs.kind, inputs.members, strict=True) if k in (0, 3) and len(m) == 1}
    unnamed = [u for u in range(len(inputs.unit)) if u not in named]
    if not unnamed:
        return None
    collected_now = fit.idata.posterior["collected"].values
    total = collected_now.sum(axis=-1).ravel()
    held = collected_now[..., unnamed].sum(axis=-1).ravel()
    share = float(np.median(held / total))
    if share <= 0.5:
        return None
    table, key = prior_key(OFFSET).rsplit(".", 1)
    return (
        f"Places no report counts on their own hold {share:.0%} of the {words.counted.lower()}, and this model "
        "treats them as like the places that are reported on. Reported places are chosen, not sampled: add "
        f"[{table}] {key} = {{...}} (an offset of the reported places) to let them differ."
    )
