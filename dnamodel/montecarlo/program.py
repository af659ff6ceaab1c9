"""A spec's inverse CDFs and quantities flattened to a register program for the compiled interpreter.

A spec's expressions are data, so they are not compiled to machine code one spec at a time: they
become rows of an integer array (:class:`Program`) that one interpreter,
:func:`dnamodel.montecarlo.kernels.run_program`, executes over blocks of draws. That interpreter is
compiled once per machine (numba's on-disk cache) and serves every spec.

The program works on a *slab* of registers, one row of a few hundred draws each:

- every random input has a row, filled from its uniform column by its inverse CDF (``UNIFORM``,
  ``TRIANGULAR``, ``CHOICE``, ``EMPIRICAL``); distributions the interpreter cannot draw (normal,
  lognormal, beta and PERT need SciPy's special functions) are drawn by
  :func:`~dnamodel.montecarlo.engine.inverse_cdf` first, in place of their uniform column, and
  ``COPY`` moves them in;
- an input known exactly (a point) and a number in an expression stay Python floats while they
  meet only other such values, so constant terms fold, in the order and with the NumPy operations
  :func:`~dnamodel.montecarlo.engine.evaluate` uses; a constant that meets a random value gets a
  row of its own, filled once (``CONSTANT``);
- every quantity that depends on a random input has a row; intermediate results take temporary
  rows, freed as soon as they are used.

Each instruction is ``(opcode, destination, x, y, z)``: rows, a uniform column, a count, or an
offset into :attr:`Program.numbers`, as each opcode's comment in :mod:`~dnamodel.montecarlo.kernels`
says. Each operation is the one
:func:`~dnamodel.montecarlo.engine.evaluate` applies, in the same order, so the interpreter's draws
equal the NumPy reference's bit for bit (tested).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from dnamodel.montecarlo.kernels import (
    ADD,
    CHOICE,
    CONSTANT,
    COPY,
    DIVIDE,
    EMPIRICAL,
    MAXIMUM,
    MINIMUM,
    MULTIPLY,
    NEGATE,
    SUBTRACT,
    TRIANGULAR,
    UNIFORM,
    WHERE,
)
from dnamodel.spec.montecarlo import ModelSpec, Resolved

DRAWN_BEFORE = frozenset({"normal", "lognormal", "beta", "pert"})
"""Distributions whose inverse CDF needs SciPy: drawn by ``inverse_cdf`` before the interpreter runs."""

_BINARY: dict[type, tuple[int, Callable[[float, float], float]]] = {
    ast.Add: (ADD, np.add),
    ast.Sub: (SUBTRACT, np.subtract),
    ast.Mult: (MULTIPLY, np.multiply),
    ast.Div: (DIVIDE, np.divide),
}
_FUNCTIONS: dict[str, tuple[int, Callable[..., float]]] = {
    "minimum": (MINIMUM, np.minimum),
    "maximum": (MAXIMUM, np.maximum),
}


@dataclass(frozen=True)
class Register:
    """A value that varies by draw: its row in the slab."""

    row: int


Value = Register | float
"""What an input or quantity is in a program: a register, or a number known exactly."""


@dataclass(frozen=True)
class Program:
    """The register program of one spec resolved against data.

    Attributes
    ----------
    code : ndarray of int64, shape (instructions, 5)
        ``(opcode, destination, x, y, z)`` per instruction, constants first.
    numbers : ndarray of float64
        Constants and distribution parameters, addressed by the instructions.
    rows : int
        Registers the code uses.
    values : dict of str to Register or float
        Every input and quantity, in spec order: its register, or its value if it is known exactly.
    registers : dict of str to int
        The row of every random input and every quantity, a quantity known exactly included (in a
        constant row), for the outputs.
    drawn_before : tuple of (int, Resolved)
        Uniform columns to replace by ``inverse_cdf`` before the interpreter runs, with their input.
    """

    code: np.ndarray
    numbers: np.ndarray
    rows: int
    values: dict[str, Value]
    registers: dict[str, int]
    drawn_before: tuple[tuple[int, Resolved], ...]

    def outputs(self, names: tuple[str, ...]) -> np.ndarray:
        """The rows holding ``names``, as the interpreter's ``outputs`` argument."""
        return np.array([self.registers[name] for name in names], dtype=np.int64)


def compile_program(spec: ModelSpec, inputs: Mapping[str, Resolved], random: tuple[str, ...]) -> Program:
    """Flatten ``spec``'s inverse CDFs and quantities into a :class:`Program`.

    Parameters
    ----------
    spec : ModelSpec
        Its ``compiled`` expressions (checked by the spec's parser: arithmetic, names, numbers and the
        whitelisted functions only).
    inputs : dict of str to Resolved
        Every input with numeric parameters.
    random : tuple of str
        The random inputs in uniform-column order.

    Returns
    -------
    Program

    Examples
    --------
    >>> from dnamodel.data import load_data
    >>> from dnamodel.families import load_model
    >>> from dnamodel.spec.montecarlo import resolve
    >>> spec = load_model("report_uniform")  # total = rest_population * rest_rate + high_han_samples
    >>> program = compile_program(spec, resolve(spec, load_data()), ("rest_rate",))
    >>> program.values["rest_population"], isinstance(program.values["total"], Register)
    (2480000.0, True)
    >>> from dnamodel.montecarlo.kernels import OPCODES
    >>> [OPCODES[op] for op in program.code[:, 0]]
    ['CONSTANT', 'CONSTANT', 'CONSTANT', 'UNIFORM', 'MULTIPLY', 'ADD', 'DIVIDE']
    """
    builder = _Builder()
    values: dict[str, Value] = {}
    drawn_before = []
    for column, name in enumerate(random):
        spec_input = inputs[name]
        if spec_input.dist in DRAWN_BEFORE:
            drawn_before.append((column, spec_input))
        values[name] = builder.inverse_cdf(spec_input, column)
    for name, spec_input in inputs.items():
        if not spec_input.is_random:
            values[name] = float(spec_input.params["value"])
    for name, tree in spec.compiled.items():
        values[name] = builder.keep(builder.expression(tree.body, values))
    registers = {name: builder.register(values[name]).row for name in (*random, *spec.compiled)}
    return builder.program(values, registers, tuple(drawn_before))


class _Builder:
    """Instructions and numbers as they are emitted, with a free list of temporary rows."""

    def __init__(self) -> None:
        self.constants: list[tuple[int, int, int, int, int]] = []
        self.code: list[tuple[int, int, int, int, int]] = []
        self.numbers: list[float] = []
        self.rows = 0
        self.free: list[int] = []
        self.temporary: set[int] = set()
        self.constant_rows: dict[str, Register] = {}  # by float.hex(), which tells 0.0 from -0.0

    def program(
        self, values: dict[str, Value], registers: dict[str, int], drawn_before: tuple[tuple[int, Resolved], ...]
    ) -> Program:
        code = np.array(self.constants + self.code, dtype=np.int64).reshape(-1, 5)
        return Program(code, np.array(self.numbers, dtype=float), self.rows, values, registers, drawn_before)

    def number(self, *values: float) -> int:
        """Offset of ``values`` appended to the numbers."""
        self.numbers.extend(float(v) for v in values)
        return len(self.numbers) - len(values)

    def row(self, *, temporary: bool = False) -> Register:
        row = self.free.pop() if temporary and self.free else self.rows
        if row == self.rows:
            self.rows += 1
        if temporary:
            self.temporary.add(row)
        return Register(row)

    def release(self, *values: Value) -> None:
        """Return temporary rows to the free list once their value has been read."""
        for value in values:
            if isinstance(value, Register) and value.row in self.temporary:
                self.temporary.discard(value.row)
                self.free.append(value.row)

    def keep(self, value: Value) -> Value:
        """A quantity's value: its row is never freed, as later quantities and the outputs read it."""
        if isinstance(value, Register):
            self.temporary.discard(value.row)
        return value

    def register(self, value: Value) -> Register:
        """A register for ``value``: itself, or a constant row (one per distinct number)."""
        if isinstance(value, Register):
            return value
        key = value.hex()
        if key not in self.constant_rows:
            row = self.row()
            self.constants.append((CONSTANT, row.row, 0, 0, self.number(value)))
            self.constant_rows[key] = row
        return self.constant_rows[key]

    def inverse_cdf(self, spec_input: Resolved, column: int) -> Register:
        p = spec_input.params
        destination = self.row()
        match spec_input.dist:
            case "uniform":
                self.code.append((UNIFORM, destination.row, column, 0, self.number(p["low"], p["high"] - p["low"])))
            case "triangular":
                low, mode, high = p["low"], p["mode"], p["high"]
                numbers = (low, high, (mode - low) / (high - low), high - low, mode - low, high - mode)
                self.code.append((TRIANGULAR, destination.row, column, 0, self.number(*numbers)))
            case "choice":
                values = [float(v) for v in p["values"]]
                weights = np.asarray(p.get("weights") or [1 / len(values)] * len(values))
                edges = np.cumsum(weights)[:-1]  # as inverse_cdf computes them
                offset = self.number(*edges, *values)
                self.code.append((CHOICE, destination.row, column, len(values), offset))
            case "empirical":
                values = [float(v) for v in p["values"]]
                self.code.append((EMPIRICAL, destination.row, column, len(values), self.number(*values)))
            case dist if dist in DRAWN_BEFORE:
                self.code.append((COPY, destination.row, column, 0, 0))
            case dist:
                raise ValueError(f"no inverse CDF for {dist!r}")  # the registry and this match move together
        return destination

    def emit(self, opcode: int, *operands: Value) -> Register:
        registers = [self.register(value) for value in operands]
        # The destination is never an operand's row: the compiler vectorises a loop only when it
        # can check at run time that what it writes does not overlap what it reads.
        destination = self.row(temporary=True)
        self.release(*operands)
        rows = [r.row for r in registers] + [0] * (3 - len(registers))
        self.code.append((opcode, destination.row, *rows))
        return destination

    def expression(self, node: ast.AST, scope: dict[str, Value]) -> Value:
        """The value of ``node``: folded to a float when no random input reaches it (as ``evaluate`` folds)."""
        if isinstance(node, ast.BinOp):
            opcode, fold = _BINARY[type(node.op)]
            left, right = self.expression(node.left, scope), self.expression(node.right, scope)
            if isinstance(left, float) and isinstance(right, float):
                return float(fold(left, right))
            return self.emit(opcode, left, right)
        if isinstance(node, ast.UnaryOp):
            operand = self.expression(node.operand, scope)
            if isinstance(node.op, ast.UAdd):
                return operand
            return -operand if isinstance(operand, float) else self.emit(NEGATE, operand)
        if isinstance(node, ast.Name):
            return scope[node.id]
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            arguments = [self.expression(argument, scope) for argument in node.args]
            if node.func.id == "where":
                condition, if_true, if_false = arguments
                if isinstance(condition, float):
                    return if_true if condition != 0 else if_false
                return self.emit(WHERE, condition, if_true, if_false)
            opcode, fold = _FUNCTIONS[node.func.id]
            if all(isinstance(a, float) for a in arguments):
                return float(fold(*arguments))
            return self.emit(opcode, *arguments)
        raise ValueError(f"unexpected {type(node).__name__}")  # spec._compile admits nothing else
