"""The vectorised Monte Carlo engine: sample a spec's inputs, evaluate its quantities.

Every random input is the inverse CDF of one column of uniform numbers, so a draw
is a row of a ``(draws, inputs)`` matrix of uniforms:

- **pseudo-random** draws fill each column from a generator of its own, spawned
  from ``numpy.random.SeedSequence(seed)`` and read in order, so the same seed gives
  the same draws whatever the chunk size, and each column is contiguous in memory;
- **quasi-random** draws (``qmc=True``) take it from scrambled Sobol points
  (``scipy.stats.qmc.Sobol``).

The array kernels (:func:`inverse_cdf`, :func:`evaluate`) take and return NumPy
arrays with the draw axis first; they are the reference, one NumPy operation at a time.
:class:`Engine` ties a spec resolved against the data to its register program
(:mod:`dnamodel.montecarlo.program`), which the compiled interpreter
(:mod:`dnamodel.montecarlo.kernels`) runs over blocks of draws in cache, with the same
operations in the same order, so it gives the reference's draws bit for bit. Labels are
added later, by :mod:`dnamodel.montecarlo.run`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnamodel.data import Dataset, load_data
from dnamodel.errors import DataError, Problem
from dnamodel.montecarlo.kernels import compiled
from dnamodel.montecarlo.program import Program, compile_program
from dnamodel.spec.expressions import ExpressionError, evaluate_expression
from dnamodel.spec.montecarlo import ModelSpec, Resolved, resolve

# SciPy is imported where it is used: `dnamodel replicate` and `audit` import this module through
# the package and need none of it (with xarray, it costs about 1.5 s of start-up).

DEFAULT_SEED = 20220913  # the report's publication date: any fixed default keeps runs reproducible


DEFAULT_CHUNK = 2**20
BLOCK_DRAWS = 2**14
"""Draws per block of a stream: six inputs' uniforms take 0.8 MB, which stays in a core's cache."""


# --- array kernels -------------------------------------------------------------------------


def inverse_cdf(spec_input: Resolved, uniforms: np.ndarray) -> np.ndarray:
    """Map uniform numbers in (0, 1) to draws of one input.

    Parameters
    ----------
    spec_input : Resolved
        The input, with numeric parameters.
    uniforms : ndarray, shape (n,)
        Numbers in [0, 1).

    Returns
    -------
    ndarray, shape (n,)
        The input's draws, in the input's own units.

    Examples
    --------
    >>> from dnamodel.spec.montecarlo import Resolved
    >>> inverse_cdf(Resolved("x", "uniform", "share", {"low": 0.2, "high": 0.4}), np.array([0.0, 0.5]))
    array([0.2, 0.3])
    """
    p = spec_input.params
    u = uniforms
    match spec_input.dist:
        case "point":
            return np.full(u.shape, p["value"])
        case "uniform":
            return p["low"] + u * (p["high"] - p["low"])
        case "triangular":
            low, mode, high = p["low"], p["mode"], p["high"]
            split = (mode - low) / (high - low)
            left = low + np.sqrt(u * (high - low) * (mode - low))
            right = high - np.sqrt((1 - u) * (high - low) * (high - mode))
            return np.where(u < split, left, right)
        case "pert":
            from scipy import special  # deferred: start-up time

            low, mode, high, shape = p["low"], p["mode"], p["high"], p["shape"]
            a = 1 + shape * (mode - low) / (high - low)
            b = 1 + shape * (high - mode) / (high - low)
            return low + special.betaincinv(a, b, u) * (high - low)
        case "normal":
            return _truncated(u, p["mean"], p["sd"], p.get("lower"), p.get("upper"), log=False)
        case "lognormal":
            return _truncated(u, math.log(p["median"]), p["sigma"], p.get("lower"), p.get("upper"), log=True)
        case "beta":
            from scipy import special  # deferred: start-up time

            return special.betaincinv(p["alpha"], p["beta"], u)
        case "choice":
            values = np.asarray(p["values"], dtype=float)
            weights = np.asarray(p.get("weights") or [1 / len(values)] * len(values))
            # A few alternatives: one comparison per edge, then an index into the values, which is
            # both bit-exact and faster than a binary search or np.where per draw.
            edges = np.cumsum(weights)[:-1]
            if len(edges) == 1:  # the common either/or
                return values[(u >= edges[0]).view(np.uint8)]
            index = np.zeros(u.shape, dtype=np.uint8 if len(values) < 256 else np.intp)
            for edge in edges:
                index += u >= edge
            return values[index]
        case "empirical":
            values = np.asarray(p["values"], dtype=float)
            return values[np.minimum((u * len(values)).astype(np.intp), len(values) - 1)]
    raise ValueError(f"no inverse CDF for {spec_input.dist!r}")  # the registry and this match move together


def _truncated(
    u: np.ndarray, location: float, scale: float, lower: float | None, upper: float | None, *, log: bool
) -> np.ndarray:
    """Normal (or lognormal) inverse CDF restricted to [lower, upper]."""
    from scipy import special  # deferred: start-up time

    def standard(bound: float | None, default: float) -> float:
        if bound is None:
            return default
        if log:
            return -math.inf if bound <= 0 else (math.log(bound) - location) / scale
        return (bound - location) / scale

    low_cdf = special.ndtr(standard(lower, -math.inf))
    high_cdf = special.ndtr(standard(upper, math.inf))
    z = special.ndtri(low_cdf + u * (high_cdf - low_cdf)) if (low_cdf, high_cdf) != (0.0, 1.0) else special.ndtri(u)
    values = location + scale * z
    return np.exp(values) if log else values


_FUNCTIONS = {"where": lambda c, a, b: np.where(c != 0, a, b), "minimum": np.minimum, "maximum": np.maximum}


_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}


def evaluate(spec: ModelSpec, inputs: dict[str, Any], size: int | None = None) -> dict[str, np.ndarray]:
    """Evaluate the spec's quantities, in order, on arrays of input draws.

    Parameters
    ----------
    spec : ModelSpec
    inputs : dict of str to ndarray of shape (n,) or float
        A float for an input known exactly (a point).
    size : int, optional
        ``n``; taken from the arrays in ``inputs`` when omitted.

    Returns
    -------
    dict of str to ndarray, each shape (n,)
        Every quantity, ``total`` and ``share`` among them.
    """
    scope: dict[str, Any] = dict(inputs)
    size = size if size is not None else max((np.size(value) for value in inputs.values()), default=1)
    # A division by zero or an overflow gives inf or nan here rather than a warning per chunk;
    # require_finite then names the quantity where it first happens.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for name, tree in spec.compiled.items():
            scope[name] = _eval(tree.body, scope)  # point inputs stay scalars, so constant terms fold
    return {name: np.broadcast_to(np.asarray(scope[name], dtype=float), (size,)) for name in spec.compiled}


RESULTS = ("total", "share")
"""The quantities every result is made of; each must be finite, and not negative, in every draw."""

NEGATIVE = "a total counts what was collected and cannot be below 0; an input's range or a subtraction reaches there"
"""Why a negative total or share is refused (its share is the total over a population)."""


def require_finite(spec: ModelSpec, values: dict[str, Any]) -> None:
    """Raise :class:`DataError` unless ``total`` and ``share`` are finite in every draw of ``values``.

    The error names the first input or quantity, in spec order, that is not finite in those draws
    (where a division by zero or an overflow happens), with how many draws it spoils.
    """
    bad = None
    for name in RESULTS:
        finite = np.isfinite(values[name])
        if not finite.all():
            bad = ~finite if bad is None else bad | ~finite
    if bad is None:
        return
    for name in (*spec.inputs, *spec.compiled):
        column = np.broadcast_to(np.asarray(values[name], dtype=float), bad.shape)[bad]
        if not np.isfinite(column).all():
            key = f"inputs.{name}" if name in spec.inputs else f"quantities.{name}"
            example = column[~np.isfinite(column)][0]
            count = f"is {example} in {int((~np.isfinite(column)).sum()):,} of {bad.size:,} draws"
            if name in spec.inputs:
                cause = "its parameters give draws beyond the largest float"
            else:
                cause = f"{_short(ast.unparse(spec.compiled[name]))} divides by zero or overflows there"
            message = f"{count}: {cause}, so total and share are not finite numbers"
            raise DataError([Problem(spec.path, None, key, message)])
    raise DataError([Problem(spec.path, None, "quantities", "total or share is not a finite number in some draws")])


def require_not_negative(spec: ModelSpec, values: dict[str, Any]) -> None:
    """Raise :class:`DataError` if ``total`` or ``share`` is below 0 in any draw of ``values``, naming it."""
    for name in RESULTS:
        column = np.asarray(values[name], dtype=float)
        negative = column < 0
        if negative.any():
            count = f"{int(negative.sum()):,} of {negative.size:,} draws"
            message = f"is negative in {count} (as low as {float(column.min()):,.6g}): {NEGATIVE}"
            raise DataError([Problem(spec.path, None, f"quantities.{name}", message)])


def check_quantities(spec: ModelSpec, inputs: dict[str, Resolved]) -> None:
    """Evaluate every quantity once, each input at its median, before anything is drawn.

    Raises
    ------
    DataError
        Naming the quantity where a division by zero or an overflow happens
        (:func:`dnamodel.spec.expressions.evaluate_expression`).
    """
    values: dict[str, float] = {}
    for name, spec_input in inputs.items():
        median = inverse_cdf(spec_input, np.array([0.5]))[0] if spec_input.is_random else spec_input.params["value"]
        values[name] = float(median)
    for name, tree in spec.compiled.items():
        try:
            values[name] = evaluate_expression(tree, values)
        except ExpressionError as error:
            message = f"{error}, with every input at its median"
            raise DataError([Problem(spec.path, None, f"quantities.{name}", message)]) from None
    for name in RESULTS:
        if name in values and values[name] < 0:
            message = f"is {values[name]:,.6g} with every input at its median: {NEGATIVE}"
            raise DataError([Problem(spec.path, None, f"quantities.{name}", message)])


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _eval(node: ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, scope), _eval(node.right, scope))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, scope)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Name):
        return scope[node.id]
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _FUNCTIONS[node.func.id](*(_eval(arg, scope) for arg in node.args))
    raise ValueError(f"unexpected {type(node).__name__}")  # spec._compile admits nothing else


# --- the engine ----------------------------------------------------------------------------


class UniformSource:
    """The uniforms of one run, handed out in order, a block at a time.

    Pseudo-random: each input's column has a PCG64 generator of its own, spawned from
    ``SeedSequence(seed)`` and read in order, so the draws do not depend on how many are taken at a
    time. Quasi-random: one scrambled Sobol sequence, continued (its first block must be a power of 2).
    """

    def __init__(self, dimension: int, seed: int, *, qmc: bool = False):
        children = np.random.SeedSequence(seed).spawn(dimension + 1)
        self.generators = [np.random.default_rng(child) for child in children[:dimension]]
        self.sobol = None
        if qmc and dimension:
            from scipy.stats import qmc as quasi_random  # deferred: start-up time

            self.sobol = quasi_random.Sobol(dimension, scramble=True, seed=np.random.default_rng(children[-1]))

    def fill(self, uniforms: np.ndarray) -> None:
        """Fill ``uniforms``, shape (n, inputs) in Fortran order, with the next ``n`` of each input's."""
        if self.sobol is not None:
            uniforms[...] = self.sobol.random(uniforms.shape[0])
            return
        for column, generator in enumerate(self.generators):
            generator.random(out=uniforms[:, column])


@dataclass(frozen=True)
class Engine:
    """A spec resolved against data, ready to turn uniforms into draws.

    Attributes
    ----------
    spec : ModelSpec
    inputs : dict of str to Resolved
    random : tuple of str
        The inputs that consume a uniform column, in spec order (column order).
    program : Program
        The inverse CDFs and quantities as the interpreter runs them.
    """

    spec: ModelSpec
    inputs: dict[str, Resolved]
    random: tuple[str, ...] = field(init=False)
    program: Program = field(init=False, repr=False)

    def __post_init__(self) -> None:
        random = tuple(name for name, i in self.inputs.items() if i.is_random)
        object.__setattr__(self, "random", random)
        object.__setattr__(self, "program", compile_program(self.spec, self.inputs, random))

    @classmethod
    def build(cls, spec: ModelSpec, data: Dataset | None = None) -> Engine:
        """Resolve ``spec`` against ``data`` (the bundled data when omitted), and evaluate its quantities once.

        Raises
        ------
        DataError
            For an impossible parameter, or a quantity that divides by zero or overflows with
            every input at its median (:func:`check_quantities`).
        """
        inputs = resolve(spec, load_data() if data is None else data)
        check_quantities(spec, inputs)
        return cls(spec, inputs)

    def draws(self, uniforms: np.ndarray) -> dict[str, Any]:
        """Every input and quantity for a ``(n, len(random))`` matrix of uniforms, by the NumPy reference.

        Point inputs come back as floats, everything else with shape ``(n,)``. A
        Fortran-ordered matrix (as :meth:`uniforms` yields) keeps each column contiguous.
        :meth:`interpret` gives the same numbers, bit for bit, without an array per operation.
        """
        columns = {name: uniforms[:, j] for j, name in enumerate(self.random)}
        with np.errstate(over="ignore"):  # a lognormal's exp can overflow: require_finite names the input
            values = {
                name: inverse_cdf(spec_input, columns[name]) if spec_input.is_random else spec_input.params["value"]
                for name, spec_input in self.inputs.items()
            }
        result = values | evaluate(self.spec, values, size=uniforms.shape[0])
        require_finite(self.spec, result)
        require_not_negative(self.spec, result)
        return result

    def interpret(self, uniforms: np.ndarray, names: tuple[str, ...], out: np.ndarray | None = None) -> np.ndarray:
        """The variables ``names`` for a ``(n, len(random))`` matrix of uniforms, by the compiled interpreter.

        Parameters
        ----------
        uniforms : ndarray of float64, shape (n, len(random))
            Read in place if Fortran-ordered (as :meth:`uniforms` yields) and no input is drawn
            by SciPy first (normal, lognormal, beta, PERT), else copied.
        names : tuple of str
            Random inputs or quantities.
        out : ndarray of float64, shape (n, len(names)), Fortran order, optional

        Returns
        -------
        ndarray, shape (n, len(names)), Fortran order
            What :meth:`draws` gives for the same uniforms, bit for bit.
        """
        # a copy where the draws of SciPy's inputs will replace their uniforms
        uniforms = np.array(uniforms, dtype=float, order="F", copy=True if self.program.drawn_before else None)
        out = np.empty((uniforms.shape[0], len(names)), order="F") if out is None else out
        if not out.flags.f_contiguous:
            raise ValueError("out must be a Fortran-ordered array")
        self._run(uniforms, self.program.outputs(names), out)
        return out

    def _run(self, uniforms: np.ndarray, outputs: np.ndarray, out: np.ndarray) -> None:
        for column, spec_input in self.program.drawn_before:
            uniforms[:, column] = inverse_cdf(spec_input, uniforms[:, column])
        program, n = self.program, uniforms.shape[0]
        flat_uniforms, flat_out = uniforms.ravel(order="F"), out.ravel(order="F")  # views: both are Fortran-ordered
        compiled().run_program(program.code, program.numbers, flat_uniforms, n, program.rows, outputs, flat_out)

    def blocks(self, source: UniformSource, draws: int, names: tuple[str, ...]) -> Iterator[np.ndarray]:
        """The variables ``names`` for the next ``draws`` draws of ``source``, :data:`BLOCK_DRAWS` at a time.

        Each block is a Fortran-ordered array of shape ``(n, len(names))`` that the next block
        overwrites: the uniforms and the outputs stay in the processor's cache, and memory does not
        grow with ``draws``.
        """
        dimension, outputs = len(self.random), self.program.outputs(names)
        uniforms_buffer = np.empty(dimension * min(draws, BLOCK_DRAWS))
        out_buffer = np.empty(len(names) * min(draws, BLOCK_DRAWS))
        done = 0
        while done < draws:
            size = min(BLOCK_DRAWS, draws - done)
            uniforms = uniforms_buffer[: size * dimension].reshape((size, dimension), order="F")
            out = out_buffer[: size * len(names)].reshape((size, len(names)), order="F")
            source.fill(uniforms)
            self._run(uniforms, outputs, out)
            yield out
            done += size

    def uniforms(
        self, draws: int, seed: int, *, qmc: bool = False, chunk_size: int = DEFAULT_CHUNK
    ) -> Iterator[np.ndarray]:
        """Fortran-ordered uniform matrices of at most ``chunk_size`` rows, ``draws`` rows in all.

        The uniforms of :class:`UniformSource` (``seed``, ``qmc``), so the draws do not depend on
        ``chunk_size``.
        """
        source = UniformSource(len(self.random), seed, qmc=qmc)
        remaining = draws
        while remaining > 0:
            size = min(chunk_size, remaining)
            block = np.empty((size, len(self.random)), order="F")
            source.fill(block)
            yield block
            remaining -= size
