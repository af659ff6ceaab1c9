"""Figures as the report prints them: parsing, precision and rounding.

Sources print figures such as ``32.3%``, ``1.18 million``, ``roughly 54,388``,
``1,500 (est.)``, ``at least 17,335``, ``nearly 20,000`` or ``2 million to 3 million``.
This module turns such a text into an exact value, the step of its last printed digit,
and a qualifier (what the words around the number say: :data:`QUALIFIERS`, and
:attr:`Printed.bound`, what a model reads from it), and rounds exact values to that step
the way the report does (truncation toward zero) or the conventional way (half up), so
that each printed figure can be matched to its recomputation.

All arithmetic is exact (:class:`fractions.Fraction`); no float is involved.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

Qualifier = Literal["exact", "approx", "at_least", "over", "at_most", "below", "nearly", "range"]
Style = Literal["count", "percent", "millions"]

QUALIFIERS: dict[str, tuple[tuple[str, ...], str]] = {
    "exact": ((), "none"),
    "approx": (("roughly", "about", "approximately", "around", "some", "(est.) after the figure"), "none"),
    "at_least": (("at least",), "lower"),
    "over": (("over", "more than", "above"), "lower"),
    "at_most": (("at most", "up to"), "upper"),
    "below": (("less than", "fewer than", "under", "below"), "upper"),
    "nearly": (("nearly", "almost"), "upper"),
    "range": (("A to B", "between A and B", "A-B"), "range"),
}
"""Each qualifier: the words that print it, and the bound a model reads from it (``none``: a value;
``lower``: the true figure is at least the number; ``upper``: at most; ``range``: between the two)."""

_PREFIXES: dict[str, Qualifier] = {
    f"{words} ": qualifier
    for qualifier, (phrases, _) in QUALIFIERS.items()
    for words in phrases
    if qualifier != "range" and not words.startswith("(")
}
_RANGE = re.compile(r"^(?:between (?P<a>.+?) and (?P<b>.+)|(?P<c>.+?)(?: to |\s?[-–]\s?)(?P<d>.+))$")
_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUMBER = re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?(?P<unit>%| million)?$")


@dataclass(frozen=True)
class Printed:
    """A figure as printed.

    Attributes
    ----------
    text : str
        The text as printed, for example ``"roughly 2.48 million"``.
    value : Fraction
        The exact value the text states; percentages as fractions of one
        (``"9.9%"`` is ``99/1000``), millions as whole counts.
    step : Fraction
        The value of one unit in the last printed digit (``1/1000`` for
        ``"9.9%"``, ``10000`` for ``"1.18 million"``, ``1`` for ``"94,588"``).
    qualifier : {"exact", "approx", "at_least", "over", "at_most", "below", "nearly", "range"}
        What the words around the number say about it (:data:`QUALIFIERS`).
    style : {"count", "percent", "millions"}
        How the number was written, used to print recomputed values alike.
    high : Fraction or None
        A range's upper end (``value`` is its lower end); ``None`` for a single figure.
    """

    text: str
    value: Fraction
    step: Fraction
    qualifier: Qualifier
    style: Style
    high: Fraction | None = None

    @property
    def bound(self) -> str:
        """What a model reads from the words: ``"none"`` (a value), ``"lower"``, ``"upper"`` or ``"range"``.

        Examples
        --------
        >>> [parse_printed(t).bound for t in ("about 5,000", "over 5,000", "nearly 5,000", "4,000 to 6,000")]
        ['none', 'lower', 'upper', 'range']
        """
        return QUALIFIERS[self.qualifier][1]

    @property
    def significant_step(self) -> Fraction:
        """Step of the last significant digit, reading trailing zeros of a count as rounding.

        ``"354,000"`` quoted as a population is read as rounded to the thousand;
        used only where a quoted figure is set against a census count.
        """
        if self.style != "count" or self.step != 1 or self.value == 0:
            return self.step
        zeros = len(str(int(self.value))) - len(str(int(self.value)).rstrip("0"))
        return Fraction(10**zeros)


def parse_printed(text: str) -> Printed:
    """Parse a figure as the report prints it.

    Parameters
    ----------
    text : str
        For example ``"32.3%"``, ``"roughly 2.48 million"``, ``"1,500 (est.)"``,
        ``"at least 17,335"``, ``"less than 1%"``, ``"eight"``, ``"nearly 20,000"``,
        ``"up to 4,000"`` or ``"2 million to 3 million"`` (a range; ``"2 to 3 million"``
        and ``"between 2 and 3 million"`` too).

    Returns
    -------
    Printed

    Raises
    ------
    ValueError
        If the text is not a figure in one of these forms.

    Examples
    --------
    >>> parse_printed("9.9%").value
    Fraction(99, 1000)
    >>> parse_printed("1.18 million").step
    Fraction(10000, 1)
    >>> r = parse_printed("2 million to 3 million")
    >>> r.value, r.high, r.qualifier
    (Fraction(2000000, 1), Fraction(3000000, 1), 'range')
    """
    rest = text.strip()
    ranged = _RANGE.match(rest)
    if ranged is not None and not rest.lower().startswith(tuple(_PREFIXES)):
        low_text, high_text = (ranged["a"], ranged["b"]) if ranged["a"] else (ranged["c"], ranged["d"])
        try:
            high = parse_printed(high_text)
            # "2 to 3 million": the low end takes the high end's unit when it prints none of its own
            bare = _NUMBER.match(low_text.strip())
            unit = {"percent": "%", "millions": " million"}.get(high.style, "") if bare and not bare["unit"] else ""
            low = parse_printed(low_text.strip() + unit)
        except ValueError:
            raise ValueError(f"not a printed figure: {text!r}") from None
        if low.qualifier != "exact" or high.qualifier != "exact" or not low.value < high.value:
            raise ValueError(f"not a printed figure: {text!r} (a range runs from a lower to a higher figure)")
        step = min(low.step, high.step)
        return Printed(text, low.value, step, "range", high.style, high.value)
    qualifier: Qualifier = "exact"
    for prefix, meaning in _PREFIXES.items():
        if rest.lower().startswith(prefix):
            qualifier, rest = meaning, rest[len(prefix) :]
            break
    if rest.endswith("(est.)"):
        qualifier, rest = "approx", rest.removesuffix("(est.)").strip()
    if rest.lower() in _WORDS:
        return Printed(text, Fraction(_WORDS[rest.lower()]), Fraction(1), qualifier, "count")
    match = _NUMBER.match(rest)
    if match is None:
        raise ValueError(f"not a printed figure: {text!r}")
    digits = Decimal(match["int"].replace(",", "") + (match["frac"] or ""))
    step = Fraction(1, 10 ** len(match["frac"][1:])) if match["frac"] else Fraction(1)
    value = Fraction(digits)
    style: Style = "count"
    if match["unit"] == "%":
        value, step, style = value / 100, step / 100, "percent"
    elif match["unit"] == " million":
        value, step, style = value * 10**6, step * 10**6, "millions"
    return Printed(text, value, step, qualifier, style)


def truncate(value: Fraction, step: Fraction) -> Fraction:
    """Cut ``value`` to a multiple of ``step`` toward zero, as the report does.

    Examples
    --------
    >>> truncate(Fraction(94588, 950000), Fraction(1, 1000))
    Fraction(99, 1000)
    """
    return math.trunc(value / step) * step


def round_half_up(value: Fraction, step: Fraction) -> Fraction:
    """Round ``value`` to the nearest multiple of ``step``, halves away from zero.

    Examples
    --------
    >>> round_half_up(Fraction(94588, 950000), Fraction(1, 1000))
    Fraction(1, 10)
    """
    sign = -1 if value < 0 else 1
    return sign * math.floor(abs(value) / step + Fraction(1, 2)) * step


def rounding_rule(exact: Fraction, printed: Printed, step: Fraction | None = None) -> str | None:
    """Say how ``printed`` follows from ``exact``, or ``None`` if it does not.

    Returns ``"exact"``, ``"truncated"``, ``"rounded"`` or ``"rounded or
    truncated"`` (both give the printed figure). ``step`` overrides the printed
    step, for example with :attr:`Printed.significant_step`.
    """
    step = printed.step if step is None else step
    if exact == printed.value:
        return "exact"
    by_truncation = truncate(exact, step) == printed.value
    by_rounding = round_half_up(exact, step) == printed.value
    if by_truncation and by_rounding:
        return "rounded or truncated"
    if by_truncation:
        return "truncated"
    if by_rounding:
        return "rounded"
    return None


def format_like(value: Fraction, printed: Printed) -> str:
    """Print ``value`` (already at ``printed``'s step) in ``printed``'s style.

    Examples
    --------
    >>> format_like(Fraction(99, 1000), parse_printed("9.9%"))
    '9.9%'
    >>> format_like(Fraction(2480000), parse_printed("2.48 million"))
    '2.48 million'
    """
    if printed.style == "percent":
        decimals = _decimals(printed.step * 100)
        return f"{float(value * 100):.{decimals}f}%"
    if printed.style == "millions":
        decimals = _decimals(printed.step / 10**6)
        return f"{float(value / 10**6):.{decimals}f} million"
    decimals = _decimals(printed.step)
    return f"{float(value):,.{decimals}f}" if decimals else f"{round(value):,}"


def format_exact(value: Fraction, style: Style) -> str:
    """Print an exact value with enough digits to show where rounding bites.

    Examples
    --------
    >>> format_exact(Fraction(94588, 950000), "percent")
    '9.9566%'
    >>> format_exact(Fraction(40200 * 1000, 425), "count")
    '94,588.235'
    """
    if style == "percent":
        return f"{float(value * 100):.4f}%"
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return f"{float(value):,.3f}"


def format_count(value: Fraction | int) -> str:
    """Print a count with thousands separators, or with three decimals if not whole."""
    return format_exact(Fraction(value), "count")


def _decimals(step: Fraction) -> int:
    """Number of decimals a step of ``10**-k`` shows (0 for steps of 1 or more)."""
    decimals = 0
    while step < 1:
        step *= 10
        decimals += 1
    return decimals
