"""Arithmetic in specs: parsed within limits, evaluated without surprises.

Specs write Monte Carlo quantities and observed counts as arithmetic on names
(``"total / population"``, ``"county_samples / county_database_share"``).
:func:`parse_expression` parses one and refuses, with a message a user can act on, anything
but the arithmetic a spec allows: other syntax, constants that are not finite numbers
(``1e999`` is infinity to Python), unknown names or functions, and expressions longer than
:data:`MAX_LENGTH` characters or nested deeper than :data:`MAX_DEPTH` levels, which would
exhaust Python's parser or its stack. :func:`evaluate_expression` evaluates a parsed
expression on numbers and refuses division by zero, overflow and any result that is not a
finite number.

Both raise :class:`ExpressionError` with the message only; callers add the spec file and key.
Every kind of spec parses and evaluates its expressions here, so that each gets the same
limits and the same errors.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Collection, Mapping

from dnamodel.errors import did_you_mean

MAX_LENGTH = 10_000
"""Longest expression, in characters: far beyond any spec's, far below what exhausts the parser."""

MAX_DEPTH = 200
"""Deepest nesting of operations and calls. A sum of n terms nests n deep, so 200 terms at most;
an evaluator that recurses once per level stays well inside Python's recursion limit (1,000)."""

_OPERATORS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}

SCALAR_FUNCTIONS: dict[str, Callable[..., float]] = {"minimum": min, "maximum": max}
"""How :func:`evaluate_expression` computes the functions a spec may call (``where`` is built in)."""


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated; the message says why."""


def parse_expression(
    text: str,
    *,
    names: Collection[str] | None = None,
    functions: Mapping[str, int] | None = None,
    unary: bool = True,
    allowed: str = "+ - * /, numbers and names",
) -> ast.Expression:
    """Parse an arithmetic expression, allowing only what a spec may write.

    Parameters
    ----------
    text : str
        The expression.
    names : collection of str, optional
        The names it may use; any name when omitted (the caller checks them later).
    functions : mapping of str to int, optional
        The functions it may call, with their number of arguments.
    unary : bool
        Whether ``-x`` and ``+x`` are allowed.
    allowed : str
        What is allowed, in words, for the message when something else is used.

    Returns
    -------
    ast.Expression

    Raises
    ------
    ExpressionError
        Saying what is wrong.

    Examples
    --------
    >>> tree = parse_expression("a / b", names={"a", "b"})
    >>> evaluate_expression(tree, {"a": 1.0, "b": 4.0})
    0.25
    >>> parse_expression("a * 1e999", names={"a"})
    Traceback (most recent call last):
    ...
    dnamodel.spec.expressions.ExpressionError: 1e999 is not a finite number
    """
    functions = functions or {}
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"is {len(text):,} characters long; an expression may have at most {MAX_LENGTH:,}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not an expression: {error.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"is nested too deeply to parse; at most {MAX_DEPTH} levels") from None
    node_types = (ast.Expression, ast.BinOp, ast.Name, ast.Load, ast.Constant, *_OPERATORS)
    node_types += (ast.UnaryOp, ast.USub, ast.UAdd) if unary else ()
    node_types += (ast.Call,) if functions else ()
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:  # iterative: a deep tree must not exhaust the stack of the check meant to refuse it
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"is nested more than {MAX_DEPTH} levels deep (a sum of n terms nests n deep)")
        if not isinstance(node, node_types):
            raise ExpressionError(f"{type(node).__name__} is not allowed; use {allowed}")
        if isinstance(node, ast.Constant):
            _check_constant(node, text)
        elif isinstance(node, ast.Call):
            _check_call(node, functions)
        elif isinstance(node, ast.Name) and names is not None and node.id not in names and node.id not in functions:
            raise ExpressionError(f"unknown name {node.id!r}{did_you_mean(node.id, names)}")
        nested = isinstance(node, ast.BinOp | ast.UnaryOp | ast.Call)
        stack.extend((child, depth + nested) for child in ast.iter_child_nodes(node))
    return tree


def _check_constant(node: ast.Constant, text: str) -> None:
    if type(node.value) not in (int, float):
        raise ExpressionError(f"only numbers may appear as constants, not {node.value!r}")
    written = ast.get_source_segment(text, node) or repr(node.value)
    try:
        finite = math.isfinite(float(node.value))
    except OverflowError:
        finite = False
    if not finite:
        raise ExpressionError(f"{_short(written)} is not a finite number")


def _check_call(node: ast.Call, functions: Mapping[str, int]) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in functions or node.keywords:
        raise ExpressionError(f"only {', '.join(functions)} may be called")
    arity = functions[node.func.id]
    if len(node.args) != arity:
        raise ExpressionError(f"{node.func.id} takes {arity} arguments")


def evaluate_expression(tree: ast.Expression, values: Mapping[str, float]) -> float:
    """The value of a parsed expression, on numbers.

    ``where(c, a, b)`` is ``a`` when ``c`` is not 0 and ``b`` otherwise, and evaluates only
    the branch it takes; ``minimum`` and ``maximum`` are as :data:`SCALAR_FUNCTIONS`.

    Raises
    ------
    ExpressionError
        If a name has no value or a value that is not finite, a division is by zero, or a
        step overflows (its result is not a finite number), naming the part at fault.
    """

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ExpressionError(f"{node.id!r} has no value here")
            number = float(values[node.id])
            if not math.isfinite(number):
                raise ExpressionError(f"{node.id} is {number}, not a finite number")
            return number
        if isinstance(node, ast.UnaryOp):
            operand = value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                if isinstance(node.right, ast.Constant):
                    raise ExpressionError(f"divides by zero: {_short(ast.unparse(node))}")
                raise ExpressionError(f"divides by zero: {_short(ast.unparse(node.right))} is 0")
            try:
                result = _OPERATORS[type(node.op)](left, right)
            except OverflowError:
                result = math.inf
            if not math.isfinite(result):
                raise ExpressionError(f"overflows: {_short(ast.unparse(node))} is not a finite number")
            return result
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "where":
                condition, if_true, if_false = node.args
                return value(if_true) if value(condition) != 0 else value(if_false)
            return float(SCALAR_FUNCTIONS[node.func.id](*(value(arg) for arg in node.args)))
        raise ExpressionError(f"{type(node).__name__} cannot be evaluated")  # parse_expression admits nothing else

    return value(tree.body)


def _short(text: str, limit: int = 60) -> str:
    """``text``, cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
