"""Errors a user can cause, each naming where the problem is.

User mistakes (bad data, bad arguments) raise :class:`DataError` or
:class:`UsageError`; the command line prints them without a traceback and exits
with status 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


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
