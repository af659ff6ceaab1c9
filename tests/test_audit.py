"""Every audit finding: where the report disagrees with itself and with the 2020 census."""

import csv

import pytest

from dnamodel.casestudy.audit import audit
from dnamodel.data import load_data

DISAGREEMENTS = {
    # id: (printed, recomputed, words in the likely cause)
    "arithmetic:lhorong_dalong_share": ("9.1%", "8.0643%", "502 ÷ 5,516 (the figure for Xobando Township) gives 9.1%"),
    "arithmetic:lhorong_exi_share": ("38.7%", "34.3305%", "2,410 ÷ 6,225 (the figure for Dalong Village) gives 38.7%"),
    "arithmetic:lhorong_villages_share_text": ("41.2%", "41.5817%", "17,194 (the figure for lhorong_samples_2016)"),
    "sum:lhorong_samples_text": ("at least 17,335", "17,194", "17,194 is the sum of the table's rows"),
    "sources:sources_2020_2022_share": ("77%", "71.0000%", "Table 2 gives 71% for 2020–2022"),
    "sources:sources_qamdo_2016_2017": ("eight", "at least 11", "counts more reports"),
    "census:zhagyab_population_findings": ("50,294", "57,065", "the report uses 57,065 for the same place"),
    "census:zhagyab_han_share": ("less than 1%", "3.46%", "census shares are above the printed figure"),
    "census:qamdo_population_2019": ("798,100", "760,966", "census population of Shigatse"),
    "census:tibet_population_2021": ("3.66 million", "3,648,100", "dated 2021-12-31"),
    "census:rest_population": ("roughly 2.48 million", "2,541,273", "adds 19,791 and 26,898 samples"),
}

NOTES = {
    "census:lhasa_population_with_temporary": ("950,000", "867,891", "uplift over the census is +9.5%"),
    "census:qushui_population_with_temporary": ("roughly 53,600", "41,851", "uplift over the census is +28.1%"),
    "method:lhorong_villages_share": ("41.2%", "39.4253%", "includes 758 samples with no place"),
    "method:nyingchi_samples": ("23,654", "26,040", "applied to Nyingchi's permanent population"),
    "method:zhagyab_rate": ("43.9%", "57.8411%", "leaves out the further 7,952 samples"),
    "method:dates": ("919,282 / 1,206,962", "", "rest on rates observed between 2016 and January 2021"),
}


@pytest.fixture(scope="module")
def result(data):
    return audit(data=data)


def test_the_disagreements_are_exactly_these(result):
    assert {f.id for f in result.disagreements()} == set(DISAGREEMENTS)


def test_the_notes_are_exactly_these(result):
    assert {f.id for f in result.findings if f.status == "note"} == set(NOTES)


@pytest.mark.parametrize("finding_id", sorted({**DISAGREEMENTS, **NOTES}))
def test_finding(result, finding_id):
    printed, recomputed, cause = {**DISAGREEMENTS, **NOTES}[finding_id]
    finding = result.finding(finding_id)
    assert (finding.printed, finding.recomputed) == (printed, recomputed)
    assert cause in finding.cause
    assert finding.arithmetic  # every finding shows its arithmetic


def test_counts(result):
    assert result.counts() == {"agrees": 50, "disagrees": 11, "note": 6}


@pytest.mark.parametrize(
    ("finding_id", "rule"),
    [
        ("arithmetic:lhorong_lajiu_share", "truncated"),  # 3,500 / 6,005 = 58.28%, printed 58.2%
        ("arithmetic:lhorong_zhongyi_share", "truncated"),  # 42.49%, printed 42.4%
        ("arithmetic:lhorong_xobando_share", "truncated"),  # 51.47%, printed 51.4%
        ("arithmetic:lhorong_atoka_share", "rounded or truncated"),
        ("arithmetic:lhasa_rate", "truncated"),
        ("arithmetic:lhasa_han_share", "truncated"),  # 233,082 / 867,891 = 26.857%, printed 26.8%
        ("arithmetic:nyingchi_han_share", "truncated"),
        ("arithmetic:lhasa_nyingchi_han_share_of_tibet", "rounded"),  # 65.93%, printed 66%
        ("arithmetic:tibet_database_growth_2020h1", "rounded"),  # the thesis's A1: 21.269%, printed 21.27%
        ("arithmetic:henan_share", "rounded"),
        ("sum:lhorong_samples_2016", "exact"),
        ("sum:lhorong_villages_population", "exact"),
        ("sources:table1_total", "exact"),
        ("sources:table2_total", "exact"),
        ("census:lhorong_population_table4", "exact"),
        ("census:shannan_population", "rounded or truncated"),  # 354,035 printed 354,000
        ("census:lhasa_han_population", "within the census share's rounding"),
        ("census:nyingchi_han_population", "within the census share's rounding"),
        ("census:tibet_tibetan_population", "truncated"),  # 3,137,901 printed 3.13 million
        ("census:tibet_han_population", "rounded or truncated"),
    ],
)
def test_agreeing_checks_say_how(result, finding_id, rule):
    finding = result.finding(finding_id)
    assert (finding.status, finding.rule) == ("agrees", rule)


def test_the_report_truncates_as_a_rule(result):
    conventions = result.conventions()
    assert len(conventions["truncated"]) == 14
    assert sorted(conventions["rounded"]) == [
        "arithmetic:henan_share",
        "arithmetic:lhasa_nyingchi_han_share_of_tibet",
        "arithmetic:tibet_database_growth_2020h1",
    ]


def test_the_chain_is_audited_too(result):
    chain = [f for f in result.findings if f.id == "arithmetic:total_high"]
    assert chain[0].status == "agrees"


def test_a_new_error_in_edited_data_is_found(data_copy):
    """The audit is recomputation, not a list: an error put into the data shows up."""
    path = data_copy / "observations.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["id"] == "lhorong_yuxi_population":
            row["value"], row["printed"] = "1351", "1,351"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    result = audit(data=load_data(data_copy))
    finding = result.finding("sum:lhorong_villages_population")
    assert (finding.status, finding.recomputed, finding.printed) == ("disagrees", "41,690", "41,689")
    assert "sum to 1 more than the printed total" in finding.cause
    assert result.finding("arithmetic:lhorong_yuxi_share").status == "agrees"  # 573 / 1,351 is still 42.4%


def test_to_dict(result):
    payload = result.to_dict()
    assert payload["counts"]["disagrees"] == 11
    assert len(payload["findings"]) == len(result.findings)
    assert set(payload["findings"][0]) == {
        "id",
        "category",
        "where",
        "quantity",
        "printed",
        "recomputed",
        "arithmetic",
        "status",
        "rule",
        "cause",
    }
