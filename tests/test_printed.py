from fractions import Fraction

import pytest

from dnamodel.data.printed import format_like, parse_printed, reading, round_half_up, rounding_rule, truncate


@pytest.mark.parametrize(
    ("text", "value", "step", "qualifier", "style"),
    [
        ("32.3%", Fraction(323, 1000), Fraction(1, 1000), "exact", "percent"),
        ("21.27%", Fraction(2127, 10000), Fraction(1, 10000), "exact", "percent"),
        ("77%", Fraction(77, 100), Fraction(1, 100), "exact", "percent"),
        ("1.18 million", Fraction(1_180_000), Fraction(10_000), "exact", "millions"),
        ("roughly 2.48 million", Fraction(2_480_000), Fraction(10_000), "approx", "millions"),
        ("5.3 million", Fraction(5_300_000), Fraction(100_000), "exact", "millions"),
        ("1,206,962", Fraction(1_206_962), Fraction(1), "exact", "count"),
        ("roughly 54,388", Fraction(54_388), Fraction(1), "approx", "count"),
        ("1,500 (est.)", Fraction(1500), Fraction(1), "approx", "count"),
        ("at least 17,335", Fraction(17_335), Fraction(1), "at_least", "count"),
        ("less than 1%", Fraction(1, 100), Fraction(1, 100), "below", "percent"),
        ("eight", Fraction(8), Fraction(1), "exact", "count"),
        ("758", Fraction(758), Fraction(1), "exact", "count"),
        # as people write them (issue 23): per cent in words, one in N, millions, "just under"
        ("45 percent", Fraction(45, 100), Fraction(1, 100), "exact", "percent"),
        ("12.5 per cent", Fraction(125, 1000), Fraction(1, 1000), "exact", "percent"),
        ("about 30 Per Cent", Fraction(30, 100), Fraction(1, 100), "approx", "percent"),
        ("one in five", Fraction(1, 5), Fraction(1, 30), "exact", "one_in"),
        ("1 in 20", Fraction(1, 20), Fraction(1, 420), "exact", "one_in"),
        ("nearly one in a hundred", Fraction(1, 100), Fraction(1, 10100), "nearly", "one_in"),
        ("about one in 1,000", Fraction(1, 1000), Fraction(1, 1_001_000), "approx", "one_in"),
        ("3 millions", Fraction(3_000_000), Fraction(1_000_000), "exact", "millions"),
        ("2.5 Million", Fraction(2_500_000), Fraction(100_000), "exact", "millions"),
        ("just under 20,000", Fraction(20_000), Fraction(1), "nearly", "count"),
        ("almost 40%", Fraction(40, 100), Fraction(1, 100), "nearly", "percent"),
    ],
)
def test_parse_printed(text, value, step, qualifier, style):
    printed = parse_printed(text)
    assert (printed.value, printed.step, printed.qualifier, printed.style) == (value, step, qualifier, style)


@pytest.mark.parametrize(
    "text", ["", "12,34", "32.3 %", "lots", "1.2.3", "-5", "one in zero", "one in 0", "two in five", "3 billions"]
)
def test_parse_printed_rejects(text):
    with pytest.raises(ValueError, match="not a printed figure"):
        parse_printed(text)


def test_significant_step_reads_trailing_zeros_of_counts_only():
    assert parse_printed("354,000").significant_step == 1000
    assert parse_printed("798,100").significant_step == 100
    assert parse_printed("867,891").significant_step == 1
    assert parse_printed("3.66 million").significant_step == 10_000
    assert parse_printed("40.0%").significant_step == Fraction(1, 1000)


def test_truncate_and_round_differ_where_the_report_truncated():
    lhasa_rate = Fraction(94_588, 950_000)  # 9.9566%
    assert truncate(lhasa_rate, Fraction(1, 1000)) == Fraction(99, 1000)
    assert round_half_up(lhasa_rate, Fraction(1, 1000)) == Fraction(100, 1000)
    assert round_half_up(Fraction(5, 2), Fraction(1)) == 3
    assert round_half_up(Fraction(-5, 2), Fraction(1)) == -3
    assert truncate(Fraction(-7, 2), Fraction(1)) == -3


def test_rounding_rule():
    nine_nine = parse_printed("9.9%")
    assert rounding_rule(Fraction(94_588, 950_000), nine_nine) == "truncated"
    assert rounding_rule(Fraction(99, 1000), nine_nine) == "exact"
    assert rounding_rule(Fraction(9_940, 100_000), nine_nine) == "rounded or truncated"
    assert rounding_rule(Fraction(9_851, 100_000), nine_nine) == "rounded"
    assert rounding_rule(Fraction(8, 100), nine_nine) is None


def test_format_like_keeps_the_printed_style():
    assert format_like(Fraction(99, 1000), parse_printed("9.9%")) == "9.9%"
    assert format_like(Fraction(1, 10), parse_printed("9.9%")) == "10.0%"
    assert format_like(Fraction(1_190_000), parse_printed("1.18 million")) == "1.19 million"
    assert format_like(Fraction(23_655), parse_printed("23,654")) == "23,655"
    assert format_like(Fraction(71, 100), parse_printed("77%")) == "71%"


def test_a_range_in_millions_takes_its_unit_for_both_ends():
    printed = parse_printed("2 to 3 million")
    assert (printed.value, printed.high, printed.qualifier) == (2_000_000, 3_000_000, "range")
    assert parse_printed("between 2 and 3 millions").high == 3_000_000


@pytest.mark.parametrize(
    ("text", "meaning", "low", "high", "words"),
    [
        ("nearly 20,000", "under", Fraction(18_000), Fraction(20_000), "a little under 20,000: from 18,000 to 20,000"),
        ("almost 40%", "under", Fraction(36, 100), Fraction(40, 100), "from 36% to 40% (width 10%)"),
        ("nearly one in five", "under", Fraction(18, 100), Fraction(1, 5), "one in five (20%): from 18% to 20%"),
        ("about 13,000", "value", None, None, "a value, about 13,000, with its reporting error"),
        ("roughly 2 million", "value", None, None, "about 2 million"),
        ("one in five", "value", None, None, "a value, one in five (20%)"),
        ("at least 11,000", "lower", Fraction(11_000), None, "at least 11,000"),
        ("fewer than 500", "upper", None, Fraction(500), "at most 500"),
        ("2 to 3 million", "range", Fraction(2_000_000), Fraction(3_000_000), "the range as its 90% interval"),
    ],
)
def test_each_figure_is_read_as_its_words_say(text, meaning, low, high, words):
    read = reading(parse_printed(text))
    assert (read.meaning, read.low, read.high) == (meaning, low, high)
    assert words in read.text


def test_nearly_is_read_within_the_width_given():
    read = reading(parse_printed("nearly 20,000"), nearly_width=0.05)
    assert (read.low, read.high) == (Fraction(19_000), Fraction(20_000))
    assert "(width 5%)" in read.text


def test_one_in_n_prints_like_itself():
    assert format_like(Fraction(1, 4), parse_printed("one in five")) == "one in 4"
