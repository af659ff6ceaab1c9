"""Hostile input: every bad file, spec, argument and value gets one clear error, before any long work.

Each class of issue 15 has a parametrised test. Every case asserts the exit code (2, or 3 for failed
gates), words of the one message on stderr (which names the file and row and field, the spec key or
the argument), that there is no traceback, and that the output folder is unchanged. No test here
fits a model: the fit and the sweep's points are replaced by a guard that fails the test if reached,
so the point of each test, that the error comes before any fit, keeps them fast.
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from dnamodel.cli import common as cli_common
from dnamodel.cli import main
from dnamodel.cli import montecarlo as mc_command
from dnamodel.data import bundled_dir, load_data
from dnamodel.errors import DataError
from dnamodel.spec import MODELS_DIR
from dnamodel.spec.expressions import MAX_DEPTH, ExpressionError, evaluate_expression, parse_expression

HIERARCHICAL = (MODELS_DIR / "hierarchical_han.toml").read_text(encoding="utf-8")

MONTE_CARLO = """
[model]
name = "toy"
description = "a toy"

[inputs.rate]
dist = "uniform"
kind = "share"
low = 0.2
high = 0.4

[inputs.population]
dist = "point"
kind = "count"
value = { observation = "tibet_population_2021" }

[quantities]
total = "population * rate"
share = "total / population"
"""


@pytest.fixture(autouse=True)
def no_fit(monkeypatch):
    """Fail the test if a model is compiled or sampled, or a sweep point runs: errors must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("a fit started: the error must come before any fit")

    monkeypatch.setattr("dnamodel.inference.sampling.compiled_for", refuse)
    monkeypatch.setattr("dnamodel.inference.sampling.sample", refuse)
    monkeypatch.setattr("dnamodel.workflows.sweep.run_point", refuse)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A working folder holding an output folder with one file, as a user's would."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "earlier.txt").write_text("an earlier result", encoding="utf-8")
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "a_folder").mkdir()
    return tmp_path


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def refused(capsys, home: Path, argv: list[str], *words: str, code: int = 2) -> str:
    """Run the command; it exits ``code`` with one message holding ``words``, and writes nothing."""
    before = snapshot(home)
    assert main(argv) == code
    captured = capsys.readouterr()
    assert captured.out == ""  # no table of inf, no JSON: the message alone
    assert captured.err.startswith("dnamodel: error:"), captured.err
    assert "Traceback" not in captured.err
    for word in words:
        assert word in captured.err, (word, captured.err)
    assert snapshot(home) == before
    return captured.err


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def set_cell(folder: Path, file: str, row_id: str, column: str, value: str) -> int:
    """Set one cell of a data file; return the row's line number (the header is line 1)."""
    path = folder / file
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    index = next(i for i, row in enumerate(rows) if row["id"] == row_id)
    rows[index][column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return index + 2


def data_folder(home: Path) -> Path:
    folder = home / "data"
    shutil.copytree(bundled_dir(), folder)
    return folder


# --- 1. a folder, a loop, Latin-1 or an over-long field where a file should be ----------------------


@pytest.mark.parametrize("how", ["folder", "symlink loop", "dangling symlink"])
@pytest.mark.parametrize("file", ["units.csv", "observations.csv"])
def test_data_file_that_is_not_a_file(home, capsys, how, file):
    folder = data_folder(home)
    (folder / file).unlink()
    if how == "folder":
        (folder / file).mkdir()
    elif how == "symlink loop":
        (folder / file).symlink_to(file)
    else:
        (folder / file).symlink_to("nowhere.csv")
    message = {"folder": "is a folder", "symlink loop": "loops", "dangling symlink": "does not exist"}[how]
    refused(capsys, home, ["data", "check", "--data", str(folder)], f"{folder / file}: ", message)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda home: str(home / "a_folder"), "a_folder: is a folder"),
        (lambda home: (home / "loop.toml").symlink_to("loop.toml") or str(home / "loop.toml"), "loops back"),
        (lambda home: (home / "latin.toml").write_bytes(b'[model]\nname = "caf\xe9"\n') and str(home / "latin.toml"),
         "is not UTF-8 text (byte 19)"),
        (lambda home: write(home, "deep.toml", "x = " + "[" * 100_000 + "]" * 100_000), "not valid TOML"),
    ],
    ids=["folder", "symlink loop", "latin-1", "nested arrays"],
)  # fmt: skip
@pytest.mark.parametrize("command", ["mc", "estimate"])
def test_spec_that_cannot_be_read(home, capsys, make, words, command):
    refused(capsys, home, [command, make(home)], words)


def test_csv_field_over_the_limit(home, capsys):
    folder = data_folder(home)
    line = set_cell(folder, "observations.csv", "qushui_samples_2021", "note", "x" * 200_000)
    refused(capsys, home, ["data", "check", "--data", str(folder)], f"observations.csv, row {line}:", "field larger")


# --- 2. division by zero and overflow, in the data and in spec expressions -------------------------


def test_a_share_of_zero_is_refused_by_data_check(home, capsys):
    folder = data_folder(home)
    line = set_cell(folder, "observations.csv", "qushui_lhasa_database_share", "value", "0")
    where = f"observations.csv, row {line}, field 'value'"
    refused(capsys, home, ["data", "check", "--data", str(folder)], where, "a share of 0 cannot be made of 40,200")
    refused(capsys, home, ["estimate", "hierarchical_han", "--data", str(folder)], where)


@pytest.mark.parametrize(
    ("samples", "words"),
    [
        ("qushui_samples_2021 / 0", "divides by zero"),
        ("qushui_samples_2021 * 1e308 * 10", "overflows"),
        ("qushui_samples_2021 * 1e999", "1e999 is not a finite number"),
        ("qushui_samples_2021 * 1e300", "more than 10 times the 41,851 people"),
        ("qushui_samples_2021 - qushui_samples_2021", "must be a positive count"),
    ],
)
def test_observation_expression_that_divides_by_zero_or_overflows(home, capsys, samples, words):
    spec = write(home, "bad.toml", HIERARCHICAL.replace('samples = "qushui_samples_2021"', f'samples = "{samples}"'))
    refused(capsys, home, ["estimate", spec], "field 'observations.qushui.samples'", words)


# --- 3. expressions too long or too deeply nested ---------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        (" + ".join(["rate"] * 100_000), "an expression may have at most 10,000"),
        (" + ".join(["rate"] * (MAX_DEPTH + 5)), f"nested more than {MAX_DEPTH} levels"),
        # Python's parser refuses this or not depending on the recursion limit, which PyTensor raises;
        # either way the message gives the limit
        ("-" * 5_000 + "rate", f"{MAX_DEPTH} levels"),
        ("(" * 3_000 + "rate" + ")" * 3_000, "not an expression: too many nested parentheses"),
    ],
    ids=["100,000 terms", "205 terms", "5,000 unary minus", "3,000 parentheses"],
)
def test_expression_too_long_or_deep(home, capsys, expression, words):
    spec = write(home, "long.toml", MONTE_CARLO.replace('"population * rate"', f'"population * ({expression})"'))
    refused(capsys, home, ["mc", spec], "field 'quantities.total'", words)


def test_an_observation_sum_too_long_for_a_hierarchical_spec(home, capsys):
    terms = " + ".join(["qushui_samples_2021"] * 1_000)
    spec = write(home, "long.toml", HIERARCHICAL.replace('samples = "qushui_samples_2021"', f'samples = "{terms}"'))
    refused(capsys, home, ["estimate", spec], "field 'observations.qushui.samples'", "at most 10,000")


def test_evaluate_expression_refuses_what_arithmetic_cannot_give():
    values = {"a": 1.0, "b": 0.0, "big": 1e308}
    for text, words in [("a / b", "divides by zero: b is 0"), ("big * 10", "overflows"), ("big + big", "overflows")]:
        with pytest.raises(ExpressionError, match=words):
            evaluate_expression(parse_expression(text, names=values), values)
    with pytest.raises(ExpressionError, match="a is nan"):
        evaluate_expression(parse_expression("a + 1"), {"a": float("nan")})


# --- 4. arguments checked before the fit, not after it -----------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["estimate", "hierarchical_han", "--seed", "-1"], "argument --seed: must be a whole number from 0"),
        (["estimate", "hierarchical_han", "--seed", str(2**64)], "argument --seed: must be a whole number from 0"),
        (["mc", "report_mc", "--seed", "-1"], "argument --seed"),
        (["estimate", "hierarchical_han", "--out", "a_file"], "--out a_file: is a file, not a folder"),
        (["estimate", "hierarchical_han", "--out", "a_file/sub"], "because a_file is a file"),
        (["estimate", "hierarchical_han", "--out", "x" * 5_000], "not a usable path (File name too long)"),
        (["report", "hierarchical_han", "--out", "a_folder"], "a report is an HTML file"),
        (
            ["report", "hierarchical_han", "--out", "a_file/x.html"],
            "--out a_file/x.html: cannot be created, because a_file is a file",
        ),
        (["report", "hierarchical_han", "--results", "a_file"], "--results a_file: is a file, not a folder"),
        (["report", "--from", "a_folder"], "--from a_folder: no such fit"),
        (["sweep", "thesis", "--out", "a_folder"], "--out a_folder: is a folder; give a file name"),
        (["sweep", "thesis", "--out", "a_file/x.nc"], "because a_file is a file"),
        (["sweep", "--shipped", "--out", "a_file"], "--out a_file: is a file, not a folder"),
        (["sweep", "thesis", "--scheduler", "not-a-url"], "--scheduler 'not-a-url': not a scheduler address"),
        (["mc", "report_mc", "--tornado", "a_folder"], "a tornado plot is a PNG file"),
        (["mc", "report_mc", "--tornado", "nowhere/t.png"], "nowhere: no such folder"),
    ],
)
def test_arguments_checked_before_any_work(home, capsys, argv, words):
    refused(capsys, home, argv, words)


def test_a_bad_sobol_size_is_refused_before_the_main_run(home, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the main run started before --sensitivity-draws was checked")

    monkeypatch.setattr(mc_command, "summarize", refuse)
    refused(capsys, home, ["mc", "report_mc", "--sensitivity", "--sensitivity-draws", str(2**40)], "model evaluations")


# --- 5. draws that would exhaust memory or run for days ----------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["estimate", "hierarchical_han", "--draws", "1000000000000"], "is more than the"),
        (["estimate", "hierarchical_han", "--draws", "100000000"], "this machine can hold"),
        (["estimate", "hierarchical_han", "--draws", "1000", "--chains", "65"], "chains must be at most 64"),
        (["report", "hierarchical_han", "--draws", "100000000"], "this machine can hold"),
        (["sweep", "thesis", "--draws", "100000000"], "this machine can hold"),
        (["mc", "report_mc", "--draws", str(10**12)], "draws must be at most 1,000,000,000"),
        (["mc", "report_mc", "--chunk-size", str(10**12)], "chunk size must be at most 16,777,216"),
        (["sweep", "report_mc", "--set", "inputs.rest_position.high=1", "--draws", str(10**12)], "at most"),
    ],
)
def test_draws_beyond_the_caps(home, capsys, argv, words):
    refused(capsys, home, argv, words)


# --- 6. data validation: linear, and the rewritten check means what it meant ------------------------


@pytest.mark.parametrize(("value", "ok"), [("900000", True), ("960000", False)])
def test_a_sample_count_is_set_against_the_largest_population_known(home, capsys, value, ok):
    """Lhasa's census is 867,891, its population with temporary residents 950,000 (one pass finds it)."""
    folder = data_folder(home)
    with (folder / "observations.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            ["lhasa_test_samples", "lhasa", "", "samples_cumulative", value, "", "2021", "", "", "", "", "source",
             "a test", "", ""]
        )  # fmt: skip
    if ok:
        assert main(["data", "check", "--data", str(folder)]) == 0
        capsys.readouterr()
    else:
        refused(
            capsys, home, ["data", "check", "--data", str(folder)], "exceed the largest population known", "950,000"
        )


# --- 7. failed gates exit 3, sweeps included ---------------------------------------------------------


def fake_point(settings, overrides):
    prefectures = ["lhasa", "shigatse", "qamdo", "nyingchi", "shannan", "nagqu", "ngari"]
    total = {name: 1e6 for name in ("q05", "q25", "median", "q75", "q95", "mean")}
    return {
        "total": total,
        "share_median": 0.3,
        "group_median": dict.fromkeys(prefectures, 1e5),
        "divergences": 12,
        "max_rhat": 1.2,
        "min_ess": 40.0,
        "passed": False,
        "spec_hash": "sha256:0",
    }


@pytest.mark.parametrize(("extra", "code"), [([], 3), (["--allow-bad-fit"], 0)])
def test_a_sweep_whose_points_fail_their_gates_exits_3(home, capsys, monkeypatch, extra, code):
    monkeypatch.setattr("dnamodel.workflows.sweep.run_point", fake_point)
    argv = ["sweep", "hierarchical_han", "--set", "fraction.beta.sigma=0.5,1", "--out", "results/s.nc"]
    assert main([*argv, "--processes", "1", "--json", *extra]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert ("2 of 2 points of Sweep of hierarchical_han failed their convergence gates" in err) == (code == 3)
    assert (home / "results" / "s.nc").exists()  # written for inspection, as estimate writes a failed fit


# --- 8. Monte Carlo results that are not finite; standard JSON ---------------------------------------


@pytest.mark.parametrize(
    ("total", "extra", "key", "words"),
    [
        ("population / 0", "", "quantities.total", "divides by zero"),
        ("population * 1e999", "", "quantities.total", "1e999 is not a finite number"),
        ("population * 1e308 * 10", "", "quantities.total", "overflows"),
        ("population / c", '[inputs.c]\ndist = "choice"\nvalues = [0, 1]\n', "quantities.total", "draws"),
        ("population * x", '[inputs.x]\ndist = "lognormal"\nmedian = 1\nsigma = 300\n', "inputs.x", "draws"),
        ("population * rate * 1e300", "", "quantities.total", "too large to summarise"),
    ],
    ids=["divide by 0", "1e999", "overflow", "choice of 0", "lognormal overflow", "moments overflow"],
)
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_monte_carlo_result_that_is_not_finite(home, capsys, total, extra, key, words, json_flag):
    spec = write(home, "mc.toml", MONTE_CARLO.replace('"population * rate"', f'"{total}"') + extra)
    refused(capsys, home, ["mc", spec, "--draws", "100000", *json_flag], f"field {key!r}", words)


def strict_json(text: str):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_json_output_is_standard(home, capsys):
    assert main(["mc", "report_uniform", "--draws", "10000", "--json"]) == 0
    assert strict_json(capsys.readouterr().out)["variables"]["total"]["mean"]["value"] > 0
    # unwrapped: not a command's payload, so not one its schema (tests/conftest.py) would take
    inspect.unwrap(cli_common.print_json)({"rhat": float("nan"), "nested": [float("inf"), np.float64(1.5)]}, "mc")
    assert strict_json(capsys.readouterr().out) == {"schema": "dnamodel.mc/1", "rhat": None, "nested": [None, 1.5]}


# --- 9. data references that make no sense -----------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "row_id", "column", "value", "words"),
    [
        ("observations.csv", "lhorong_atoka_samples", "part_of", "lhorong_atoka_samples", "cannot be part of itself"),
        ("observations.csv", "lhorong_samples_2016", "part_of", "lhorong_atoka_samples", "go round in a loop"),
        ("observations.csv", "zhagyab_samples_2017", "period_start", "2017-03", "is after the row's date, 2017-02"),
        ("areas.csv", "tibet", "parent", "lhasa", "the region is part of no other area"),
        ("units.csv", "lhasa-culture-park", "folded_into", "lhasa-culture-park", "names the unit itself"),
    ],
)
def test_data_references_that_make_no_sense(home, capsys, file, row_id, column, value, words):
    folder = data_folder(home)
    line = set_cell(folder, file, row_id, column, value)
    if column == "part_of" and row_id == "lhorong_samples_2016":  # a loop is reported at its first row in the file
        line = set_cell(folder, file, "lhorong_atoka_samples", "part_of", "lhorong_samples_2016")
    refused(capsys, home, ["data", "check", "--data", str(folder)], f"{file}, row {line}, field {column!r}", words)


@pytest.mark.parametrize("file", ["units.csv", "areas.csv", "observations.csv", "report_figures.csv"])
@pytest.mark.parametrize(("keep", "words"), [(1, "has a header but no rows"), (0, "is empty")])
def test_a_file_without_rows(home, capsys, file, keep, words):
    folder = data_folder(home)
    path = folder / file
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:keep]), encoding="utf-8")
    refused(capsys, home, ["data", "check", "--data", str(folder)], f"{path}: {words}")


# --- 10. one way to write a number --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["40_200", "40,200", "40 200", "４０２００", "٤٠٢٠٠", "4.02e4", "NaN", "1" * 16])
def test_numbers_have_one_way_to_be_written(home, capsys, value):
    folder = data_folder(home)
    line = set_cell(folder, "observations.csv", "qushui_samples_2021", "value", value)
    words = "smaller than 10^15" if value == "1" * 16 else "written with the digits 0-9"
    refused(capsys, home, ["data", "check", "--data", str(folder)], f"row {line}, field 'value'", words)


def test_the_number_rule_is_documented():
    readme = (bundled_dir() / "README.md").read_text(encoding="utf-8")
    assert "**How numbers are written.**" in readme
    assert "`40_200`" in readme


# --- 11. values a prior or a grid cannot take ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ("sigma = 1.0 }\n# σ", "sigma = 1e308 }\n# σ", "fraction.beta.sigma", "less than or equal to 50"),
        ("mu = -1.0, sigma = 1.5 }\n# β", "mu = -1e308, sigma = 1.5 }\n# β", "fraction.alpha.mu", "greater than"),
        ("error = 0.05\nnote", "error = 1e308\nnote", "observations.lhorong.error", "less than or equal to 10"),
        ("years = 2.0", "years = 1e308", "thesis.years", "less than or equal to 100"),
        ("seed = 20220913", "seed = 100000000000000000000", "sampler.seed", "less than or equal to"),
        ("draws = 2500", "draws = 100000000", "", "this machine can hold"),
    ],
)
def test_spec_values_out_of_range(home, capsys, old, new, key, words):
    assert old in HIERARCHICAL
    spec = write(home, "bad.toml", HIERARCHICAL.replace(old, new))
    refused(capsys, home, ["estimate", spec], f"field {key!r}" if key else "draws", words)


def test_a_path_set_twice_is_refused(home, capsys):
    argv = ["sweep", "hierarchical_han", "--set", "fraction.beta.sigma=1", "--set", "fraction.beta.sigma=2"]
    refused(capsys, home, argv, "--set fraction.beta.sigma is given twice")
    refused(capsys, home, ["sweep", "thesis", "--set", "thesis.use=true"], "thesis.toml [grid] already sets it")


# --- 12. messages that say where -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["sweep", "no_such_sweep"], "no shipped sweep, sweep file or model named 'no_such_sweep'"),
        (["sweep", "thesi"], "did you mean 'thesis'?"),
        (["sweep", "hierarchical_han", "--set", "fraction.beta.sigma="], "--set 'fraction.beta.sigma=': no values"),
        (["sweep", "hierarchical_han", "--set", "fraction.beta.sigma=1,,2"], "--set 'fraction.beta.sigma=1,,2'"),
        (
            ["sweep", "hierarchical_han", "--set", "fraction.beta.sigma=-1"],
            "--set fraction.beta.sigma=-1, field 'fraction.beta.sigma': Input should be greater than 0",
        ),
        (["mc", "x" * 5_000], "no model file or model named 'xxx"),
    ],
)
def test_messages_name_the_argument(home, capsys, argv, words):
    err = refused(capsys, home, argv, words)
    assert "hierarchical_han.toml" not in err  # a --set value is the command line's, not the spec file's


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        (
            "low = 0.2",
            'low = "abc"',
            "inputs.rate.low",
            'must be a number or a reference such as { observation = "id" }',
        ),
        ("low = 0.2", 'low = { observatio = "x" }', "inputs.rate.low.observatio", "did you mean 'observation'?"),
        ("low = 0.2", "low = [1, 2]", "inputs.rate.low", "must be a number or a reference"),
    ],
)
def test_spec_keys_are_the_specs_own(home, capsys, old, new, key, words):
    spec = write(home, "mc.toml", MONTE_CARLO.replace(old, new))
    err = refused(capsys, home, ["mc", spec], f"field {key!r}", words)
    assert ".float" not in err
    assert ".Ref" not in err


def test_a_data_error_lists_at_most_a_hundred_problems(home):
    folder = data_folder(home)
    with (folder / "observations.csv").open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for k in range(500):
            writer.writerow([f"bad{k}", "lhasa", "", "population", "many", *[""] * 6, "source", "x", "", ""])
    with pytest.raises(DataError) as caught:
        load_data(folder)
    assert len(caught.value.problems) == 500
    assert str(caught.value).startswith("500 problems")
    assert str(caught.value).endswith("… and 400 more")


def test_the_readme_states_the_guarantee_and_the_hash():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "recomputed hash is not detected" in readme


def test_no_output_file_is_left_by_a_refused_command(home, capsys):
    """The checks above write nothing; neither does a data error in the middle of a command's inputs."""
    folder = data_folder(home)
    set_cell(folder, "units.csv", "lhorong", "population", "many")
    refused(capsys, home, ["estimate", "hierarchical_han", "--data", str(folder), "--out", "results/new"], "units.csv")
    assert not os.path.exists(home / "results" / "new")
