"""The bundled data, and how bad data is reported."""

import csv
import os
import stat
from pathlib import Path

import pytest

from dnamodel.cli import main
from dnamodel.data import FILES, KINDS, bundled_dir, example_path, examples, export_data, load_data
from dnamodel.data.printed import parse_printed
from dnamodel.errors import DataError, UsageError

# --- the bundled data ----------------------------------------------------------------------


def test_units_cover_the_census(data):
    assert len(data.units) == 77
    assert sum(unit.level == "zone" for unit in data.units.values()) == 3
    assert sum(unit.population for unit in data.units.values()) == 3_648_100
    assert data.areas["tibet"].population == 3_648_100
    prefectures = [area for area in data.areas.values() if area.level == "group"]
    assert len(prefectures) == 7
    for prefecture in prefectures:
        members = [u.population for u in data.units.values() if u.group == prefecture.id]
        assert sum(members) == prefecture.population


@pytest.mark.parametrize(
    ("unit", "population", "han_share"),
    [("lhorong", 53_185, "0.0287"), ("zhagyab", 57_065, "0.0346"), ("qushui", 41_851, "0.1395")],
)
def test_report_counties_equal_the_census(data, unit, population, han_share):
    assert data.units[unit].population == population
    assert str(data.units[unit].han_share_2020) == han_share


def test_non_formal_zones_are_kept_and_say_where_others_fold_them(data):
    folded = {uid: unit.folded_into for uid, unit in data.units.items() if unit.level == "zone"}
    assert folded == {
        "lhasa-development-zone": "doilungdeqen",
        "lhasa-culture-park": "chengguan",
        "dagze-industrial-park": "dagze",
    }
    assert data.units["dagze-industrial-park"].code is None


def test_region_totals_both_ways(data):
    assert data.areas["tibet"].population == 3_648_100
    estimate = data.observations["tibet_population_2021"]
    assert (estimate.value, estimate.date) == (3_660_000, "2021-12-31")


@pytest.mark.parametrize(
    ("oid", "value"),
    [
        ("lhorong_samples_2016", 17_194),
        ("lhorong_population_table4", 53_185),
        ("zhagyab_samples_2017", 25_055),
        ("zhagyab_population_table4", 57_065),
        ("zhagyab_population_findings", 50_294),
        ("zhagyab_samples_added_2018", 7_952),
        ("qushui_samples_2021", 40_200),
        ("qushui_coverage_2021", "0.75"),
        ("qushui_lhasa_database_share", "0.425"),
        ("lhasa_population", 867_891),
        ("lhasa_population_with_temporary", 950_000),
        ("lhasa_lhunzhub_samples_2022", 2_000),
        ("lhasa_gyaidar_samples_2022", 218),
        ("qushui_samples_2022", 1_438),
        ("nyingchi_population", 238_936),
        ("nyingchi_han_population", 58_983),
        ("tibet_database_2020", 631_460),
        ("tibet_database_added_2020h1", 134_306),
        ("tibet_database_growth_2020h1", "0.2127"),
    ],
)
def test_observations_the_issue_names(data, oid, value):
    assert str(data.observations[oid].value) == str(value)


def test_table3_rows_carry_their_printed_percentages(data):
    rows = [o for o in data.observations.values() if o.part_of == "lhorong_samples_2016"]
    assert len(rows) == 10  # nine places and one report with no place
    placed = [o for o in rows if o.base_ref]
    shares = {o.samples_ref: o for o in data.observations.values() if o.kind == "coverage_share"}
    assert len(placed) == 9
    assert all(shares[o.id].printed.text.endswith("%") for o in placed)


def test_every_bundled_row_is_sourced_and_matches_its_printed_text(data):
    for obs in data.observations.values():
        assert obs.source.startswith("Report, "), obs.id
        if obs.printed is not None:
            assert obs.printed.value == obs.exact, obs.id
    for figure in data.report_figures.values():
        assert figure.where, figure.id
        assert figure.statement, figure.id


def test_every_kind_is_documented():
    readme = (bundled_dir() / "README.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"`{kind}`" in readme, kind


def test_data_version_is_a_content_hash(data, data_copy):
    assert data.version.startswith("sha256:")
    assert load_data(data_copy).version == data.version
    _set(data_copy / "observations.csv", "qushui_samples_2021", "note", "edited")
    assert load_data(data_copy).version != data.version


def test_package_does_not_read_shared():
    package = Path(__file__).parent.parent / "dnamodel"
    for source in package.rglob("*.py"):
        assert "../shared" not in source.read_text(encoding="utf-8"), source


# --- bad data: one message naming file, row and field; exit 2 ------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _set(path: Path, row_id: str, column: str, value: str) -> int:
    """Set one cell; return the row's line number in the file (the header is line 1)."""
    rows = _rows(path)
    index = next(i for i, row in enumerate(rows) if row["id"] == row_id)
    rows[index][column] = value
    _write(path, rows)
    return index + 2


def _problem(folder: Path, capsys, file: str, row: int | None, field: str | None, words: str) -> None:
    """Loading fails with this problem, and the CLI exits 2 naming it, with no traceback."""
    with pytest.raises(DataError) as caught:
        load_data(folder)
    located = [p for p in caught.value.problems if (p.file, p.row, p.field) == (str(folder / file), row, field)]
    assert located, caught.value
    assert words in located[0].message
    assert main(["replicate", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    where = f"{folder / file}" + (f", row {row}" if row else "") + (f", field {field!r}" if field else "")
    assert where in err
    assert words in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("row_id", "column", "value", "words"),
    [
        ("qushui_samples_2021", "value", "40200.5", "must be a whole number ≥ 0"),
        ("qushui_samples_2021", "value", "-40200", "must be a whole number ≥ 0"),
        ("qushui_samples_2021", "value", "forty", "must be a number"),
        ("qushui_samples_2021", "value", "NaN", "must be a number"),
        ("qushui_coverage_2021", "value", "75", "(a percentage? write 75% as 0.75)"),
        ("qushui_coverage_2021", "value", "-0.1", "must be a share between 0 and 1"),
        ("zhagyab_samples_2017", "unit", "zhagyb", "unknown unit 'zhagyb'; did you mean 'zhagyab'?"),
        ("zhagyab_samples_2017", "kind", "samples_cumulativ", "did you mean 'samples_cumulative'?"),
        ("zhagyab_samples_2017", "origin", "rumour", "unknown value 'rumour'"),
        ("zhagyab_samples_2017", "date", "2017-13", "is not a calendar date"),
        ("zhagyab_samples_2017", "date", "Feb 2017", "must be a date as YYYY"),
        (
            "zhagyab_samples_2017",
            "base_ref",
            "zhagyab_population_findngs",
            "did you mean 'zhagyab_population_findings'?",
        ),
        ("zhagyab_samples_2017", "base_ref", "qushui_samples_2021", "is of kind 'samples_cumulative'"),
        ("lhorong_atoka_samples", "value", "1501", "exceed their base 'lhorong_atoka_population' (1,500)"),
        ("qushui_samples_2021", "value", "60000", "exceed the largest population known for 'qushui'"),
        ("lhasa_population", "value", "0", "a population of 0 cannot be a base"),
        ("lhasa_population", "source", "", "must not be empty"),
        ("lhasa_population", "printed", "about eight hundred", "must be a figure as printed"),
        ("lhasa_population", "samples_ref", "qushui_samples_2021", "takes no samples_ref"),
    ],
)
def test_bad_observation(data_copy, capsys, row_id, column, value, words):
    line = _set(data_copy / "observations.csv", row_id, column, value)
    _problem(data_copy, capsys, "observations.csv", line, column, words)


@pytest.mark.parametrize(
    ("row_id", "column", "value", "words"),
    [
        ("lhorong", "han_share_2020", "2.87", "(a percentage? write 2.87% as 0.0287)"),
        ("lhorong", "han_share_2020", "1.01", "must be a share between 0 and 1"),
        ("lhorong", "han_share_2020", "NaN", "must be a share between 0 and 1"),
        ("lhorong", "population", "Infinity", "must be a whole number"),
        ("lhorong", "population", "53185.0001", "must be a whole number"),
        ("lhorong", "group", "qamd", "unknown group 'qamd'; did you mean 'qamdo'?"),
        ("lhorong", "code", "54 03", "must be an administrative code"),
        ("lhorong", "level", "township", "unknown value 'township'"),
    ],
)
def test_bad_unit(data_copy, capsys, row_id, column, value, words):
    line = _set(data_copy / "units.csv", row_id, column, value)
    _problem(data_copy, capsys, "units.csv", line, column, words)


def test_units_that_do_not_add_up_to_their_prefecture(data_copy, capsys):
    _set(data_copy / "units.csv", "lhorong", "population", "53186")
    line = next(i for i, row in enumerate(_rows(data_copy / "areas.csv"), start=2) if row["id"] == "qamdo")
    _problem(data_copy, capsys, "areas.csv", line, "population", "760,966 but its 11 units in units.csv sum to")


def test_duplicate_id(data_copy, capsys):
    path = data_copy / "observations.csv"
    rows = _rows(path)
    rows.append(dict(rows[3]))
    _write(path, rows)
    _problem(
        data_copy, capsys, "observations.csv", len(rows) + 1, "id", f"duplicate id {rows[3]['id']!r} (first on row 5)"
    )


def test_missing_and_unknown_columns(data_copy, capsys):
    path = data_copy / "observations.csv"
    rows = _rows(path)
    for row in rows:
        row["basis"] = row.pop("origin")
    _write(path, rows)
    _problem(data_copy, capsys, "observations.csv", 1, "origin", "missing column")
    _problem(data_copy, capsys, "observations.csv", 1, "basis", "unknown column")


def test_row_with_too_many_fields(data_copy, capsys):
    path = data_copy / "report_figures.csv"
    path.write_text(path.read_text(encoding="utf-8") + "extra,1%,somewhere,text,surplus\n", encoding="utf-8")
    line = len(_rows(data_copy / "report_figures.csv")) + 1
    _problem(data_copy, capsys, "report_figures.csv", line, None, "has more fields than the header's 4")


def test_missing_file_and_folder(data_copy, capsys, tmp_path):
    (data_copy / "areas.csv").unlink()
    _problem(data_copy, capsys, "areas.csv", None, None, "file not found")
    with pytest.raises(DataError, match="no such folder"):
        load_data(tmp_path / "nowhere")


def test_not_utf8(data_copy, capsys):
    (data_copy / "units.csv").write_bytes("id,name\nlhünzhub,x\n".encode("latin-1"))
    _problem(data_copy, capsys, "units.csv", None, None, "is not UTF-8 text")


def test_every_problem_is_reported_at_once(data_copy):
    path = data_copy / "observations.csv"
    _set(path, "qushui_samples_2021", "value", "-1")
    _set(path, "lhasa_population", "kind", "populaton")
    _set(path, "zhagyab_samples_2017", "unit", "nowhere")
    with pytest.raises(DataError) as caught:
        load_data(data_copy)
    assert [p.field for p in caught.value.problems] == ["unit", "value", "kind"]  # in row order
    assert str(caught.value).startswith("3 problems in the input data:")


def test_a_row_that_fails_is_reported_once(data_copy):
    """A bad row is not also reported through the sums and references that need it."""
    _set(data_copy / "units.csv", "lhorong", "population", "many")
    _set(data_copy / "observations.csv", "lhorong_atoka_population", "value", "x")
    with pytest.raises(DataError) as caught:
        load_data(data_copy)
    assert len(caught.value.problems) == 2


def test_a_missing_input_names_the_id(data_copy, capsys):
    path = data_copy / "observations.csv"
    _write(path, [row for row in _rows(path) if row["id"] != "nyingchi_population"])
    assert main(["replicate", "--data", str(data_copy)]) == 2
    assert "no row with id 'nyingchi_population', which is needed here" in capsys.readouterr().err


# --- export --------------------------------------------------------------------------------


def test_export_writes_the_bundled_bytes(tmp_path, data):
    written = export_data(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted([*FILES, "README.md"])
    assert load_data(tmp_path / "out").version == data.version
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_export_refuses_to_overwrite_unless_forced(tmp_path):
    export_data(tmp_path)
    edited = tmp_path / "units.csv"
    edited.write_text("edited", encoding="utf-8")
    with pytest.raises(UsageError, match="pass --force"):
        export_data(tmp_path)
    assert edited.read_text(encoding="utf-8") == "edited"
    export_data(tmp_path, overwrite=True)
    assert edited.read_text(encoding="utf-8") != "edited"


def test_printed_text_of_observations_parses():
    # The bundled printed texts are all in forms parse_printed knows (load_data checks it too).
    with (bundled_dir() / "observations.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["printed"]:
                parse_printed(row["printed"])


def test_exported_files_get_the_usual_mode(tmp_path):
    written = export_data(tmp_path)
    current = os.umask(0o022)
    os.umask(current)
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o666 & ~current


# --- the columns renamed to generic names (issue 23) --------------------------------------------------


def _rename_header(path: Path, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    lines[0] = ",".join(new if column == old else column for column in header)
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("units.csv", "prefecture", "group"),
        ("units.csv", "population_2020", "population"),
        ("areas.csv", "population_2020", "population"),
    ],
)
def test_a_column_under_its_old_name_is_named_with_its_new_one(data_copy, capsys, file, old, new):
    """Files written for dnamodel 0.1 fail once, naming the column and its new name, not as unknown and missing."""
    _rename_header(data_copy / file, new, old)
    with pytest.raises(DataError) as caught:
        load_data(data_copy)
    assert len(caught.value.problems) == 1
    _problem(
        data_copy, capsys, file, 1, old, f"renamed to {new!r} after dnamodel 0.1.0: rename the column in the header"
    )


def test_both_old_columns_of_units_are_named_in_one_error(data_copy):
    _rename_header(data_copy / "units.csv", "group", "prefecture")
    _rename_header(data_copy / "units.csv", "population", "population_2020")
    with pytest.raises(DataError) as caught:
        load_data(data_copy)
    assert [(p.field, "renamed" in p.message) for p in caught.value.problems] == [
        ("prefecture", True),
        ("population_2020", True),
    ]


def test_a_group_row_under_its_old_level_is_named_with_its_new_one(data_copy, capsys):
    line = _set(data_copy / "areas.csv", "qamdo", "level", "prefecture")
    _problem(
        data_copy, capsys, "areas.csv", line, "level", "'prefecture' is now 'group' (renamed after dnamodel 0.1.0)"
    )


def test_the_bundled_and_example_data_use_the_generic_names():
    for folder in (bundled_dir(), *(example_path(name) / "data" for name in examples())):
        units, areas = _rows(folder / "units.csv"), _rows(folder / "areas.csv")
        assert {"group", "population"} <= set(units[0])
        assert "population" in areas[0]
        assert not {"prefecture", "population_2020"} & (set(units[0]) | set(areas[0]))
        assert {row["level"] for row in areas} == {"region", "group"}
