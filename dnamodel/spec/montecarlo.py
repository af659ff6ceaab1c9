"""Monte Carlo specs: TOML files in ``dnamodel/models/``, validated strictly.

A Monte Carlo spec declares its uncertain inputs as distributions and its outputs
as arithmetic on them::

    [model]
    name = "report_uniform"
    description = "..."

    [inputs.rest_rate]
    dist = "uniform"
    kind = "share"
    low = { figure = "low_rate" }          # a figure of report_figures.csv, as printed
    high = { observation = "high_rate" }   # or a row of observations.csv
    note = "why this input is uncertain, and how"

    [quantities]
    total = "rest_population * rest_rate + high_han_samples"
    share = "total / population"

A parameter is a number or a reference to the bundled data: ``{ observation = id }``,
``{ figure = id }`` (a figure as the report prints it), ``{ census = place }`` (a
2020 census population) or ``{ ratio = [id, id] }`` (one observation over
another). Quantities are evaluated in order and may use inputs, earlier
quantities, ``+ - * /``, parentheses, numbers, and the functions ``where(c, a, b)``,
``minimum(a, b)`` and ``maximum(a, b)``. ``total`` and ``share`` are required.

:func:`dnamodel.load_model` reads and validates a spec without data
(:func:`parse_montecarlo` validates its tables). :func:`resolve`
replaces references with numbers from a :class:`~dnamodel.data.Dataset` and checks
every parameter (low below high, weights summing to one, a share's support inside
[0, 1], ...). Every error names the file, the input and the parameter.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StrictStr

from dnamodel.data import Dataset
from dnamodel.errors import DataError, Problem, did_you_mean
from dnamodel.spec.base import ModelName, SpecIdentity, _Strict, _validate
from dnamodel.spec.expressions import ExpressionError, parse_expression

FUNCTIONS = ("where", "minimum", "maximum")
REQUIRED_QUANTITIES = ("total", "share")

Kind = Literal["share", "count", "number"]


class Ref(_Strict):
    """A reference to the bundled data; exactly one field is set."""

    observation: str | None = None
    figure: str | None = None
    census: str | None = None
    # a TOML list gives the pair (strict tuples take only a tuple); its two ids are strictly strings
    ratio: Annotated[tuple[StrictStr, StrictStr], Field(strict=False)] | None = None


Param = float | Ref


class _Dist(_Strict):
    kind: Kind = "number"
    note: str = ""
    if TYPE_CHECKING:  # for the type checker only: each distribution declares these fields itself
        dist: str
        labels: list[str] | None


class Point(_Dist):
    """A known value."""

    dist: Literal["point"]
    value: Param


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: Param
    high: Param


class Triangular(_Dist):
    """Triangular on [low, high] with its peak at ``mode``."""

    dist: Literal["triangular"]
    low: Param
    mode: Param
    high: Param


class Pert(_Dist):
    """PERT: a beta on [low, high] with mode ``mode`` and concentration ``shape`` (4 is the classic PERT)."""

    dist: Literal["pert"]
    low: Param
    mode: Param
    high: Param
    shape: float = 4.0


class Normal(_Dist):
    """Normal with ``mean`` and ``sd``, optionally truncated to [lower, upper]."""

    dist: Literal["normal"]
    mean: Param
    sd: Param
    lower: Param | None = None
    upper: Param | None = None


class Lognormal(_Dist):
    """Lognormal with ``median`` and log-scale ``sigma``, optionally truncated to [lower, upper]."""

    dist: Literal["lognormal"]
    median: Param
    sigma: Param
    lower: Param | None = None
    upper: Param | None = None


class Beta(_Dist):
    """Beta(alpha, beta) on [0, 1]."""

    dist: Literal["beta"]
    alpha: Param
    beta: Param


class Choice(_Dist):
    """One of several alternative figures, with weights (equal when omitted)."""

    dist: Literal["choice"]
    values: list[Param]
    weights: list[float] | None = None
    labels: list[str] | None = None


class Empirical(_Dist):
    """Resampling a list of values with equal weight."""

    dist: Literal["empirical"]
    values: list[float]


DISTRIBUTIONS: dict[str, type[_Dist]] = {
    "point": Point,
    "uniform": Uniform,
    "triangular": Triangular,
    "pert": Pert,
    "normal": Normal,
    "lognormal": Lognormal,
    "beta": Beta,
    "choice": Choice,
    "empirical": Empirical,
}
"""The registry of distributions a spec may name."""


class ModelHeader(_Strict):
    """The ``[model]`` table."""

    name: ModelName
    kind: Literal["monte_carlo"] = "monte_carlo"
    description: str


@dataclass(frozen=True)
class ModelSpec(SpecIdentity):
    """A validated spec, before its references are resolved against data.

    Attributes
    ----------
    header : ModelHeader
    inputs : dict of str to distribution
        In file order.
    quantities : dict of str to str
        Expressions in file order.
    path : str
        The file it was read from.
    text : str
        The file's text, kept for provenance.
    """

    header: ModelHeader
    inputs: dict[str, _Dist]
    quantities: dict[str, str]
    path: str
    text: str
    compiled: dict[str, ast.Expression] = field(repr=False, compare=False, default_factory=dict)
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


def parse_montecarlo(raw: dict[str, Any], text: str, file: str) -> ModelSpec:
    """Validate the tables of a Monte Carlo spec (``raw`` is the parsed TOML).

    ``text`` is kept for provenance and hashed; ``file`` names the spec in errors.

    Raises
    ------
    DataError
        Listing every problem, each naming the file and the dotted key.
    """
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(file, None, key, message))

    for key in raw:
        if key not in ("model", "inputs", "quantities"):
            report(key, f"unknown table{did_you_mean(key, ('model', 'inputs', 'quantities'))}")
    header = _validate(ModelHeader, raw.get("model"), "model", report)
    inputs: dict[str, _Dist] = {}
    for name, table in (raw.get("inputs") or {}).items():
        parsed = _parse_input(name, table, report)
        if parsed is not None:
            inputs[name] = parsed
    if "inputs" not in raw:
        report("inputs", "missing table [inputs]")

    quantities = raw.get("quantities")
    compiled: dict[str, ast.Expression] = {}
    if not isinstance(quantities, dict):
        report("quantities", "missing table [quantities]")
        quantities = {}
    known = set(raw.get("inputs") or {})
    for name, expression in quantities.items():
        key = f"quantities.{name}"
        if name in known:
            report(key, f"{name!r} is already an input")
        if not isinstance(expression, str):
            report(key, "must be an expression in quotes")
            continue
        tree = _compile(expression, known, key, report)
        if tree is not None:
            compiled[name] = tree
        known.add(name)
    for name in REQUIRED_QUANTITIES:
        if name not in quantities:
            report(f"quantities.{name}", "missing: every model defines total and share")
    if problems or header is None:
        raise DataError(problems)
    return ModelSpec(header, inputs, dict(quantities), file, text, compiled, raw)


def _parse_input(name: str, table: Any, report: Any) -> _Dist | None:
    key = f"inputs.{name}"
    if not isinstance(table, dict):
        report(key, "must be a table with a `dist` key")
        return None
    dist = table.get("dist")
    if dist not in DISTRIBUTIONS:
        listed = ", ".join(DISTRIBUTIONS)
        hint = did_you_mean(str(dist), DISTRIBUTIONS) if dist is not None else ""
        report(f"{key}.dist", f"unknown distribution {dist!r}{hint}; expected one of: {listed}")
        return None
    return _validate(DISTRIBUTIONS[dist], table, key, report)


_FUNCTION_ARITY = {"where": 3, "minimum": 2, "maximum": 2}


def _compile(expression: str, known: set[str], key: str, report: Any) -> ast.Expression | None:
    """Parse an expression, allowing only arithmetic on known names and the whitelisted functions."""
    try:
        return parse_expression(
            expression,
            names=known,
            functions=_FUNCTION_ARITY,
            allowed=f"+ - * /, numbers, names and {', '.join(FUNCTIONS)}",
        )
    except ExpressionError as error:
        report(key, str(error))
        return None


# --- resolution against data ------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """One input with every parameter a number.

    Attributes
    ----------
    name, dist, kind : str
    params : dict of str to float or list of float
    labels : list of str or None
        For a choice, what each alternative is (given, or the reference it came from).
    """

    name: str
    dist: str
    kind: str
    params: Mapping[str, Any]
    labels: tuple[str, ...] | None = None

    @property
    def is_random(self) -> bool:
        """Whether the input consumes a random number (a point does not)."""
        return self.dist != "point"


def resolve(spec: ModelSpec, data: Dataset) -> dict[str, Resolved]:
    """Replace data references with numbers and check every parameter.

    Raises
    ------
    DataError
        Listing every impossible parameter, naming the spec file, input and parameter.

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> resolve(load_model("report_uniform"), load_data())["rest_rate"].params["low"]
    0.323
    """
    problems: list[Problem] = []
    resolved = {}
    for name, declared in spec.inputs.items():
        key = f"inputs.{name}"

        def report(param: str, message: str, key: str = key) -> None:
            problems.append(Problem(spec.path, None, f"{key}.{param}", message))

        params: dict[str, Any] = {}
        labels: tuple[str, ...] | None = None
        problems_before = len(problems)
        for param, value in declared:
            if param in ("dist", "kind", "note", "labels"):
                continue
            if isinstance(value, list):
                params[param] = [_number(item, data, f"{param}[{i}]", report) for i, item in enumerate(value)]
            elif isinstance(value, Ref | int | float):
                params[param] = _number(value, data, param, report)
            else:
                params[param] = value
        if isinstance(declared, Choice):
            labels = tuple(declared.labels) if declared.labels else tuple(_label(v) for v in declared.values)
        if len(problems) == problems_before:  # every reference resolved: the numbers can be checked
            _check(declared, params, report)
        resolved[name] = Resolved(name, declared.dist, declared.kind, params, labels)
    if problems:
        raise DataError(problems)
    return resolved


def _number(value: Param, data: Dataset, param: str, report: Any) -> float | None:
    if not isinstance(value, Ref):
        if not math.isfinite(value):
            report(param, f"must be a finite number, got {value!r}")
            return None
        return float(value)
    set_fields = [name for name, v in value if v is not None]
    if len(set_fields) != 1:
        report(param, "a reference names exactly one of observation, figure, census or ratio")
        return None
    if value.observation is not None:
        return _observation(value.observation, data, param, report)
    if value.figure is not None:
        if value.figure not in data.report_figures:
            report(param, f"no report figure {value.figure!r}{did_you_mean(value.figure, data.report_figures)}")
            return None
        return float(data.report_figures[value.figure].printed.value)
    if value.census is not None:
        population = data.census_population(value.census)
        if population is None:
            places = [*data.units, *data.areas]
            report(param, f"no census unit or area {value.census!r}{did_you_mean(value.census, places)}")
            return None
        return float(population)
    numerator, denominator = value.ratio or ("", "")
    top, bottom = (_observation(i, data, param, report) for i in (numerator, denominator))
    if top is None or bottom is None:
        return None
    if bottom == 0:
        report(param, f"ratio over {denominator!r}, which is 0")
        return None
    return top / bottom


def _observation(oid: str, data: Dataset, param: str, report: Any) -> float | None:
    if oid not in data.observations:
        report(param, f"no observation {oid!r}{did_you_mean(oid, data.observations)}")
        return None
    return float(data.observations[oid].exact)


def _label(value: Param) -> str:
    if isinstance(value, Ref):
        name, target = next((n, v) for n, v in value if v is not None)
        return f"{name}:{'/'.join(target) if isinstance(target, tuple) else target}"
    return f"{value:g}"


def _check(declared: _Dist, p: dict[str, Any], report: Any) -> None:
    """Impossible parameters, and supports outside what the input's kind allows."""
    dist = declared.dist
    if dist in ("uniform", "triangular", "pert") and not p["low"] < p["high"]:
        report("low", f"must be below high ({p['high']:g}), got {p['low']:g}")
        return
    if dist in ("triangular", "pert") and not p["low"] <= p["mode"] <= p["high"]:
        report("mode", f"must lie in [low, high] = [{p['low']:g}, {p['high']:g}], got {p['mode']:g}")
    if dist == "pert" and not p["shape"] > 0:
        report("shape", f"must be above 0, got {p['shape']:g}")
    if dist in ("normal", "lognormal"):
        scale = "sd" if dist == "normal" else "sigma"
        if not p[scale] > 0:
            report(scale, f"must be above 0, got {p[scale]:g}")
        if p.get("lower") is not None and p.get("upper") is not None and not p["lower"] < p["upper"]:
            report("lower", f"must be below upper ({p['upper']:g}), got {p['lower']:g}")
        if dist == "lognormal" and not p["median"] > 0:
            report("median", f"must be above 0, got {p['median']:g}")
    if dist == "beta":
        for name in ("alpha", "beta"):
            if not p[name] > 0:
                report(name, f"must be above 0, got {p[name]:g}")
    if dist in ("choice", "empirical") and not p["values"]:
        report("values", "must list at least one value")
        return
    if dist == "choice":
        weights = p.get("weights")
        if weights is not None:
            if len(weights) != len(p["values"]):
                report("weights", f"has {len(weights)} weights for {len(p['values'])} values")
            elif any(w < 0 for w in weights):
                report("weights", "must not be negative")
            elif not math.isclose(sum(weights), 1.0, rel_tol=0, abs_tol=1e-9):
                report("weights", f"must sum to 1, sum to {sum(weights):g}")
        if declared.labels is not None and len(declared.labels) != len(p["values"]):
            report("labels", f"has {len(declared.labels)} labels for {len(p['values'])} values")
    low, high = _support(dist, p)
    if declared.kind == "share" and (low < 0 or high > 1):
        report(_support_param(dist), f"a share's values must lie in [0, 1]; this input reaches [{low:g}, {high:g}]")
    if declared.kind == "count" and low < 0:
        report(_support_param(dist), f"a count cannot be negative; this input reaches {low:g}")


def _support(dist: str, p: dict[str, Any]) -> tuple[float, float]:
    if dist == "point":
        return p["value"], p["value"]
    if dist in ("uniform", "triangular", "pert"):
        return p["low"], p["high"]
    if dist == "normal":
        low = p["lower"] if p.get("lower") is not None else -math.inf
        return low, p["upper"] if p.get("upper") is not None else math.inf
    if dist == "lognormal":
        low = max(0.0, p["lower"]) if p.get("lower") is not None else 0.0
        return low, p["upper"] if p.get("upper") is not None else math.inf
    if dist == "beta":
        return 0.0, 1.0
    values = [v for v in p["values"] if v is not None]
    return (min(values), max(values)) if values else (0.0, 0.0)


def _support_param(dist: str) -> str:
    return {"point": "value", "normal": "lower", "lognormal": "upper", "choice": "values", "empirical": "values"}.get(
        dist, "low"
    )
