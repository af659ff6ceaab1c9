"""Errors a user can cause, each naming where the problem is.

User mistakes (bad data, bad arguments) raise :class:`DataError` or
:class:`UsageError`; the command line prints them without a traceback and exits
with status 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem in one place of one input file.

    Attributes
    ----------
    file : str
        The file's path as the user gave it (or the bundled file's name).
    row : int or None
        The line number in the file (the header is line 1), or ``None`` for a
        problem of the file as a whole.
    field : str or None
        The column (or key) at fault, if one is.
    message : str
        What is wrong, in words a user can act on.
    """

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field is not None:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


class UsageError(Exception):
    """A command or argument that cannot be acted on."""


class DataError(Exception):
    """Input data that fails validation; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__(str(self))

    SHOWN = 100
    """At most this many problems are listed in the message; all are in :attr:`problems`."""

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{count:,} problem{'s' if count != 1 else ''} in the input data"
        lines = [f"  {problem}" for problem in self.problems[: self.SHOWN]]
        if count > self.SHOWN:
            lines.append(f"  … and {count - self.SHOWN:,} more")
        return head + ":\n" + "\n".join(lines)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""`` if none is close.

    Examples
    --------
    >>> did_you_mean("popualtion", ["population", "kind"])
    "; did you mean 'population'?"
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}
"""What a value of the wrong type should have been, by pydantic's error type (strict tables)."""


def given(value: Any) -> str:
    """A value as a TOML file writes it, with its type, for a message: ``the string "1.5"``.

    Examples
    --------
    >>> given("1.5"), given(True), given(1500.0)
    ('the string "1.5"', 'the boolean true', 'the number 1500.0')
    """
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:59] + "…"
        return f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, dt.date | dt.time):  # TOML's dates and times, written without quotes
        return f"the date {value.isoformat()}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def wrong_type(expected: str, value: Any) -> str:
    """The message for ``value`` where ``expected`` (``"a number"``, ``"a string"``, ...) is wanted.

    It says what was given, and how to write it when only the quotes are wrong.

    Examples
    --------
    >>> wrong_type("a number", "1.5")
    'must be a number, got the string "1.5"; write it without quotes: 1.5'
    >>> wrong_type("a number", True)
    'must be a number, got the boolean true'
    >>> wrong_type("a string", 2020)
    'must be a string, got the number 2020; put it in quotes: "2020"'
    """
    message = f"must be {expected}, got {given(value)}"
    numeric = "number" in expected
    if numeric and isinstance(value, str) and _number(value) is not None:
        whole = expected.startswith("a whole number") and not float(_number(value) or 0).is_integer()
        if not whole:
            message += f"; write it without quotes: {value.strip()}"
    elif "string" in expected and not isinstance(value, str | list | tuple | dict):
        text = value.isoformat() if isinstance(value, dt.date | dt.time) else json.dumps(value)
        message += f'; put it in quotes: "{text}"'
    elif expected.startswith("a whole number") and isinstance(value, float) and value.is_integer():
        message += f"; write it without a decimal point: {int(value)}"
    return message


def _number(text: str) -> float | None:
    """``text`` as a finite number, if it is one (as a TOML number is written), else ``None``."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# --- the public API's arguments, checked at the door -------------------------------------------------


def python_value(value: Any) -> str:
    """A value as a message names it from Python: its type and, where short, its repr.

    Examples
    --------
    >>> python_value(123), python_value(None), python_value("x")
    ('the int 123', 'None', "the str 'x'")
    """
    if value is None:
        return "None"
    shown = repr(value)
    name = type(value).__name__
    return f"the {name} {shown}" if len(shown) <= 60 else f"a {name}"


def check_type(value: Any, types: type | tuple[type, ...], where: str, expected: str) -> None:
    """Raise :class:`TypeError` unless ``value`` is of ``types`` (a ``bool`` is never a number here).

    ``where`` names the function and argument (``"fit: spec"``), ``expected`` what it takes.

    Examples
    --------
    >>> check_type(3, str, "shipped_sweeps: model", "a model's name")
    Traceback (most recent call last):
    ...
    TypeError: shipped_sweeps: model must be a model's name, got the int 3
    """
    wanted = types if isinstance(types, tuple) else (types,)
    numeric = any(t in (int, float) for t in wanted)
    if not isinstance(value, wanted) or (numeric and isinstance(value, bool) and bool not in wanted):
        raise TypeError(f"{where} must be {expected}, got {python_value(value)}")


def check_whole(value: Any, where: str, low: int, high: int | None = None) -> int:
    """A whole number from ``low`` to ``high``, as the command line bounds its options; return it as ``int``.

    Raises
    ------
    TypeError
        If ``value`` is not a whole number (a ``bool``, a ``float`` or a string is not one).
    UsageError
        If it lies outside its bounds, naming them.

    Examples
    --------
    >>> check_whole(-5, "leave_one_out: draws", 1)
    Traceback (most recent call last):
    ...
    dnamodel.errors.UsageError: leave_one_out: draws must be at least 1, got -5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where} must be a whole number, got {python_value(value)}")
    number = int(value)  # numpy's integers are Integral too
    if number < low:
        raise UsageError(f"{where} must be at least {low:,}, got {number:,}")
    if high is not None and number > high:
        raise UsageError(f"{where} must be at most {high:,}, got {number:,}")
    return number
