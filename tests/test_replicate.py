"""The report's Tables 4 and 5 and its thesis comparison, recomputed: every figure to the unit."""

from fractions import Fraction

import pytest

from dnamodel.casestudy.replicate import CHAIN, INPUT_IDS, replicate

# (step id, the report's printed figure, the exact value dnamodel must print)
REPORT = [
    ("lhorong_rate", "32.3%", Fraction(323, 1000)),
    ("zhagyab_rate", "43.9%", Fraction(439, 1000)),
    ("qushui_population_with_temporary", "roughly 53,600", Fraction(53_600)),
    ("lhasa_database_total", "roughly 94,588", Fraction(94_588)),
    ("lhasa_database_remainder", "roughly 54,388", Fraction(54_388)),
    ("lhasa_rate", "9.9%", Fraction(99, 1000)),
    ("nyingchi_samples", "23,654", Fraction(23_654)),
    ("lhasa_nyingchi_population", "1.18 million", Fraction(1_180_000)),
    ("rest_population", "roughly 2.48 million", Fraction(2_480_000)),
    ("rest_samples_low", "801,040", Fraction(801_040)),
    ("rest_samples_high", "1,088,720", Fraction(1_088_720)),
    ("lhasa_nyingchi_samples", "118,242", Fraction(118_242)),
    ("total_low", "919,282", Fraction(919_282)),
    ("total_high", "1,206,962", Fraction(1_206_962)),
    ("share_low", "25.1%", Fraction(251, 1000)),
    ("share_high", "32.9%", Fraction(329, 1000)),
    ("thesis_share_2020", "roughly 17.2%", Fraction(172, 1000)),
    ("thesis_added_share_2020h1", "roughly 3.6%", Fraction(36, 1000)),
    ("growth_low", "287,822", Fraction(287_822)),
    ("growth_low_share", "roughly 7.8%", Fraction(78, 1000)),
    ("growth_high", "575,502", Fraction(575_502)),
    ("growth_high_share", "roughly 15.7%", Fraction(157, 1000)),
]


@pytest.fixture(scope="module")
def result(data):
    return replicate(data=data)


def test_every_step_of_the_chain_is_checked():
    assert [step_id for step_id, _, _ in REPORT] == [spec.id for spec in CHAIN]


@pytest.mark.parametrize(("step_id", "printed", "value"), REPORT)
def test_figure_equals_the_report(result, step_id, printed, value):
    step = result.step(step_id)
    assert step.printed.text == printed
    assert step.value == value
    assert step.matches


def test_all_match(result):
    assert result.all_match
    assert len(result.steps) == 22


def test_exact_values_behind_the_printed_ones(result):
    assert result.step("lhorong_rate").exact == Fraction(17_194, 53_185)
    assert result.step("lhasa_database_total").exact == Fraction(40_200 * 1000, 425)
    # Nyingchi is 238,936 × the *printed* 9.9%, not × 94,588/950,000: the report carries cut figures.
    assert result.step("nyingchi_samples").exact == Fraction(238_936 * 99, 1000)
    assert result.step("lhasa_nyingchi_population").exact == 1_188_936


@pytest.mark.parametrize(
    ("step_id", "note"),
    [
        ("lhasa_rate", "truncated; rounding would print 10.0%"),
        ("nyingchi_samples", "truncated; rounding would print 23,655"),
        ("lhasa_nyingchi_population", "truncated; rounding would print 1.19 million"),
        ("share_high", "truncated; rounding would print 33.0%"),
        ("thesis_share_2020", "truncated; rounding would print 17.3%"),
        ("lhorong_rate", "truncated (rounding prints the same)"),
        ("total_low", "exact"),
        ("rest_samples_low", "exact"),
    ],
)
def test_rounding_notes(result, step_id, note):
    assert result.step(step_id).note == note


def test_unrounded_chain(result):
    # With no intermediate cutting: (3,660,000 − 1,188,936) × rate + 40,200/0.425 × (1 + 238,936/950,000).
    lhasa = Fraction(40_200 * 1000, 425)
    rest = 3_660_000 - 1_188_936
    low = rest * Fraction(17_194, 53_185) + lhasa + 238_936 * lhasa / 950_000
    high = rest * Fraction(25_055, 57_065) + lhasa + 238_936 * lhasa / 950_000
    assert result.step("total_low").unrounded == low
    assert result.step("total_high").unrounded == high
    assert (round(low), round(high)) == (917_240, 1_203_325)


def test_inputs_come_from_the_data(result, data):
    assert [obs.id for obs in result.inputs] == list(INPUT_IDS)
    assert all(obs is data.observations[obs.id] for obs in result.inputs)


def test_to_dict_is_json_ready(result):
    payload = result.to_dict()
    assert payload["all_match"] is True
    total = next(step for step in payload["steps"] if step["id"] == "total_high")
    assert (total["value"], total["shown"], total["printed"]) == (1_206_962, "1,206,962", "1,206,962")
    assert set(payload["provenance"]) == {"dnamodel_version", "data_version", "data_location"}
