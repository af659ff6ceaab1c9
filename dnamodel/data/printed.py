"""Figures as the report prints them: parsing, precision and rounding.

Sources print figures such as ``32.3%``, ``45 per cent``, ``one in five``, ``1.18 million``,
``roughly 54,388``, ``1,500 (est.)``, ``at least 17,335``, ``nearly 20,000`` or ``2 to 3 million``.
This module turns such a text into an exact value, the step of its last printed digit,
and a qualifier (what the words around the number say: :data:`QUALIFIERS`, and
:attr:`Printed.bound`, what a model reads from it), says in words how a model reads it
(:func:`reading`), and rounds exact values to that step the way the report does (truncation
toward zero) or the conventional way (half up), so that each printed figure can be matched to
its recomputation.

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
Style = Literal["count", "percent", "millions", "one_in"]

QUALIFIERS: dict[str, tuple[tuple[str, ...], str]] = {
    "exact": ((), "none"),
    "approx": (("roughly", "about", "approximately", "around", "some", "(est.) after the figure"), "none"),
    "at_least": (("at least",), "lower"),
    "over": (("over", "more than", "above"), "lower"),
    "at_most": (("at most", "up to"), "upper"),
    "below": (("less than", "fewer than", "under", "below"), "upper"),
    "nearly": (("nearly", "almost", "just under"), "under"),
    "range": (("A to B", "between A and B", "A-B"), "range"),
}
"""Each qualifier: the words that print it, and what a model reads from it (``none``: a value;
``lower``: the true figure is at least the number; ``upper``: at most; ``under``: a value a little
under the number, within the study's or the spec's width; ``range``: between the two)."""

NEARLY_WIDTH = 0.10
"""How far under its number "nearly X" may lie, as a fraction of X, unless the study (``study.toml``'s
``[readings] nearly``) or the spec (an observation's ``nearly``) says otherwise: "nearly 20,000" is read
as a value between 18,000 and 20,000."""

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
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "a hundred": 100,
    "one hundred": 100,
    "a thousand": 1000,
    "one thousand": 1000,
}
_NUMBER = re.compile(
    r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?(?P<unit>%| percent| per cent| millions?)?$", re.IGNORECASE
)
_ONE_IN = re.compile(r"^(?:one|1) in (?P<n>\d{1,3}(?:,\d{3})+|\d+|[a-z]+(?: [a-z]+)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Printed:
    """A figure as printed.

    Attributes
    ----------
    text : str
        The text as printed, for example ``"roughly 2.48 million"``.
    value : Fraction
        The exact value the text states; percentages as fractions of one
        (``"9.9%"`` and ``"9.9 per cent"`` are ``99/1000``, ``"one in five"`` is ``1/5``),
        millions as whole counts.
    step : Fraction
        The value of one unit in the last printed digit (``1/1000`` for
        ``"9.9%"``, ``10000`` for ``"1.18 million"``, ``1`` for ``"94,588"``); for "one in N",
        the gap to the next figure printed the same way, one in N + 1: ``1/(N(N + 1))``.
    qualifier : {"exact", "approx", "at_least", "over", "at_most", "below", "nearly", "range"}
        What the words around the number say about it (:data:`QUALIFIERS`).
    style : {"count", "percent", "millions", "one_in"}
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
        """What a model reads from the words: ``"none"`` (a value), ``"lower"``, ``"upper"``, ``"under"``, ``"range"``.

        Examples
        --------
        >>> [parse_printed(t).bound for t in ("about 5,000", "over 5,000", "nearly 5,000", "4,000 to 6,000")]
        ['none', 'lower', 'under', 'range']
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
        For example ``"32.3%"``, ``"32.3 percent"``, ``"32.3 per cent"``, ``"one in five"``
        (or ``"1 in 5"``), ``"roughly 2.48 million"`` (or ``"millions"``), ``"1,500 (est.)"``,
        ``"at least 17,335"``, ``"less than 1%"``, ``"eight"``, ``"nearly 20,000"`` (``"almost"``,
        ``"just under"``), ``"up to 4,000"`` or ``"2 million to 3 million"`` (a range;
        ``"2 to 3 million"`` and ``"between 2 and 3 million"`` too).

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
    >>> parse_printed("nearly one in five").value, parse_printed("45 per cent").value
    (Fraction(1, 5), Fraction(9, 20))
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
    one_in = _ONE_IN.match(rest)
    if one_in is not None:
        word = one_in["n"].lower()
        n = _WORDS.get(word) or (int(word.replace(",", "")) if word.replace(",", "").isdigit() else 0)
        if n < 1:
            raise ValueError(f"not a printed figure: {text!r}")
        return Printed(text, Fraction(1, n), Fraction(1, n * (n + 1)), qualifier, "one_in")
    match = _NUMBER.match(rest)
    if match is None:
        raise ValueError(f"not a printed figure: {text!r}")
    digits = Decimal(match["int"].replace(",", "") + (match["frac"] or ""))
    step = Fraction(1, 10 ** len(match["frac"][1:])) if match["frac"] else Fraction(1)
    value = Fraction(digits)
    style: Style = "count"
    unit = (match["unit"] or "").strip().lower()
    if unit in ("%", "percent", "per cent"):
        value, step, style = value / 100, step / 100, "percent"
    elif unit in ("million", "millions"):
        value, step, style = value * 10**6, step * 10**6, "millions"
    return Printed(text, value, step, qualifier, style)


@dataclass(frozen=True)
class Reading:
    """How a model reads a printed figure: what it is, and the values it allows.

    Attributes
    ----------
    meaning : {"value", "lower", "upper", "under", "range"}
        A value (with the reporting error its model gives it), a lower or an upper bound, a value a
        little under the number (within ``low`` to ``high``), or a value within a range.
    low, high : Fraction or None
        The values it allows: a bound's number on its side, the ends of a range, or of "nearly X"'s
        ``X·(1 − width)`` to ``X``; ``None`` where it has no end on that side.
    text : str
        The reading in words, as ``dnamodel data check --verbose`` prints it.
    """

    meaning: str
    low: Fraction | None
    high: Fraction | None
    text: str


def reading(printed: Printed, nearly_width: float = NEARLY_WIDTH) -> Reading:
    """How a model reads a printed figure, in words: a value, a bound, a value a little under, a range.

    Parameters
    ----------
    printed : Printed
        The figure (:func:`parse_printed`).
    nearly_width : float
        How far under its number "nearly X" may lie, as a fraction of X (:data:`NEARLY_WIDTH`).

    Returns
    -------
    Reading

    Examples
    --------
    >>> reading(parse_printed("nearly 20,000")).text
    'a value a little under 20,000: from 18,000 to 20,000 (width 10%)'
    >>> reading(parse_printed("about one in five")).text
    'a value, about one in five (20%), with its reporting error'
    >>> reading(parse_printed("at least 11,000")).meaning
    'lower'
    """
    shown = _number_text(printed)
    as_share = f" ({_percent(printed.value)})" if printed.style == "one_in" else ""
    bound = printed.bound
    if bound == "lower":
        return Reading("lower", printed.value, None, f"a lower bound: the true figure is at least {shown}{as_share}")
    if bound == "upper":
        return Reading("upper", None, printed.value, f"an upper bound: the true figure is at most {shown}{as_share}")
    if bound == "range" and printed.high is not None:
        low, high = format_like(printed.value, printed), format_like(printed.high, printed)
        text = f"a value from {low} to {high}, the range as its 90% interval"
        return Reading("range", printed.value, printed.high, text)
    if bound == "under":
        low = printed.value * (1 - Fraction(str(nearly_width)))
        low_text = {
            "percent": _percent(low),
            "one_in": _percent(low),
            "millions": f"{float(low) / 10**6:.3g} million",
        }.get(printed.style, f"{float(low):,.0f}")
        high_text = _percent(printed.value) if printed.style in ("percent", "one_in") else shown
        text = f"a value a little under {shown}{as_share}: from {low_text} to {high_text} (width {nearly_width:.0%})"
        return Reading("under", low, printed.value, text)
    if printed.qualifier == "approx":
        return Reading("value", None, None, f"a value, about {shown}{as_share}, with its reporting error")
    return Reading("value", None, None, f"a value, {shown}{as_share}, with its reporting error")


def _number_text(printed: Printed) -> str:
    """The printed figure without its qualifier's words: ``"nearly one in five"`` is ``"one in five"``."""
    rest = printed.text.strip()
    for prefix in _PREFIXES:
        if rest.lower().startswith(prefix):
            return rest[len(prefix) :].strip()
    return rest.removesuffix("(est.)").strip()


def _percent(value: Fraction) -> str:
    return f"{float(value) * 100:.3g}%"


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
    if printed.style == "one_in":
        return f"one in {round(1 / value):,}" if value else "none"
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
    if style in ("percent", "one_in"):
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
