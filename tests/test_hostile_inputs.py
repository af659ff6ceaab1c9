"""Hostile input, second round (issue 24): the trial's 636 inputs, by class.

Every refusal asserts exit 2, one message on
stderr naming the place (file and row and field, spec file and key, or the file being written), no
traceback, and no file written or left behind. No test fits a model: the fit and a sweep's points
are replaced by a guard that fails the test if reached, so the point of each test, that the error
comes before any fit, keeps them fast; the few that need a fit (the saved fit's file, a fit that is
not finite, Ctrl-C while sampling) use one of the example's at reduced draws, made once.

Classes: data, specs, sweeps, the command line (bounds, conflicting flags, one handler of OS errors
and of Ctrl-C in every command), the public API (its arguments checked at the door), fits (written
all or none, read back only if they are fits), faults (a full disk, a read-only file system,
temporary files left by a killed run, Ctrl-C sent to a process mid-sampling) and determinism.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import errno
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import dnamodel
from dnamodel import files
from dnamodel.cli import main
from dnamodel.data import bundled_dir, example_path, export_data, load_data
from dnamodel.errors import DataError, UsageError
from dnamodel.families import load_model, load_sweep
from dnamodel.files import STARTED, atomic_write_bytes, atomic_write_files, remove_stale_temporaries
from dnamodel.outputs import plots
from dnamodel.spec import MODELS_DIR, available_models
from dnamodel.spec.sweep import MAX_POINTS, check_grid_size, shipped_sweeps

HIERARCHICAL = (MODELS_DIR / "hierarchical_han.toml").read_text(encoding="utf-8")
DATED = (MODELS_DIR / "dated.toml").read_text(encoding="utf-8")
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
SPECS = {"mc": MONTE_CARLO, "hierarchical": HIERARCHICAL, "dated": DATED}
COMMAND = {"mc": "mc", "hierarchical": "estimate", "dated": "estimate"}
EXPORTED = ("units.csv", "areas.csv", "observations.csv", "study.toml", "report_figures.csv", "README.md")


@pytest.fixture(autouse=True)
def no_fit(monkeypatch):
    """Fail the test if a model is compiled or sampled, or a sweep point runs: errors must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("a fit started: the error must come before any fit")

    monkeypatch.setattr("dnamodel.inference.sampling.compiled_for", refuse)
    monkeypatch.setattr("dnamodel.inference.sampling.sample", refuse)
    monkeypatch.setattr("dnamodel.inference.dated.sample_packed", refuse)
    monkeypatch.setattr("dnamodel.workflows.sweep.run_point", refuse)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A working folder with an output folder holding one earlier result, as a user's would."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "earlier.txt").write_text("an earlier result", encoding="utf-8")
    return tmp_path


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` (hidden ones too) with its size and modification time."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def refused(capsys, home: Path, argv: list[str], *words: str) -> str:
    """Run the command: exit 2, one line of message holding ``words``, no traceback, nothing written."""
    before = snapshot(home)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("dnamodel: error:"), captured.err
    assert "Traceback" not in captured.err
    for word in words:
        assert word in captured.err, (word, captured.err)
    assert snapshot(home) == before
    return captured.err


def one_problem(err: str) -> str:
    """The one located problem of a data error's message (its header line says how many)."""
    lines = err.strip().splitlines()
    assert lines[0] == "dnamodel: error: 1 problem in the input data:", err
    assert len(lines) == 2, err
    return lines[1].strip()


def data_folder(home: Path) -> Path:
    folder = home / "data"
    shutil.copytree(bundled_dir(), folder)
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


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


def check(capsys, home: Path, folder: Path, *words: str) -> str:
    return one_problem(refused(capsys, home, ["data", "check", "--data", str(folder)], *words))


class TestData:
    """Items 11 and 14: the data checks that were missing, and messages at the right row."""

    @pytest.mark.parametrize("file", ["units.csv", "areas.csv", "observations.csv", "report_figures.csv"])
    def test_a_column_twice_in_the_header_is_refused(self, home, capsys, file):
        folder = data_folder(home)
        path = folder / file
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines = [
            line.replace(",", ",id,", 1) if i == 0 else line.replace(",", ",x,", 1) for i, line in enumerate(lines)
        ]
        path.write_text("".join(lines), encoding="utf-8")
        problem = check(capsys, home, folder, f"{path}, row 1, field 'id'", "in the header twice (columns 1 and 2)")
        assert problem.endswith("which one holds the values?")

    def test_an_unclosed_quote_is_reported_at_the_row_where_it_opens(self, home, capsys):
        folder = data_folder(home)
        path = folder / "units.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        assert '"' not in "".join(lines)  # so the quote runs on to the end of the file
        cells = lines[39].split(",")
        cells[3] = '"' + cells[3]
        lines[39] = ",".join(cells)
        path.write_text("".join(lines), encoding="utf-8")
        problem = check(capsys, home, folder, f"{path}, row 40: has fewer fields")
        assert f'it runs on to row {len(lines)}: is a quote (") opened on row 40 left unclosed?' in problem

    @pytest.mark.parametrize(
        "loop",
        [["lhasa-culture-park", "chengguan"], ["lhasa-culture-park", "chengguan", "doilungdeqen"]],
        ids=["a-b-a", "a-b-c-a"],
    )
    def test_a_folded_into_loop_is_refused(self, home, capsys, loop):
        folder = data_folder(home)
        lines = [
            set_cell(folder, "units.csv", a, "folded_into", b) for a, b in zip(loop, loop[1:] + loop[:1], strict=True)
        ]
        start = lines.index(min(lines))  # reported at its first row in the file, followed from there
        shown = " → ".join(loop[start:] + loop[:start] + [loop[start]])
        check(capsys, home, folder, f"units.csv, row {min(lines)}, field 'folded_into'", f"in a loop: {shown}")

    def test_a_study_that_starts_after_it_ends_is_refused(self, home, capsys):
        folder = data_folder(home)
        study = folder / "study.toml"
        study.write_text(study.read_text(encoding="utf-8").replace('start = "2016"', 'start = "2023"'), "utf-8")
        check(capsys, home, folder, f"{study}, field 'study.start': 2023 is after the period's end, 2022-07")

    @pytest.mark.parametrize(
        ("column", "value", "words"),
        [
            ("date", "2099", "2099 is in the future (today is"),
            ("date", "2023-01", "2023-01 is after the study's period, which ends 2022-07"),
            ("period_start", "2099-01", "2099-01 is in the future"),
            ("source_date", "2099", "a source cannot be published later than now"),
        ],
    )
    def test_a_date_in_the_future_or_after_the_period_is_refused(self, home, capsys, column, value, words):
        folder = data_folder(home)
        if column == "period_start":  # a period starting after its date would be refused for that first
            set_cell(folder, "observations.csv", "zhagyab_samples_added_2018", "date", "")
        line = set_cell(folder, "observations.csv", "zhagyab_samples_added_2018", column, value)
        check(capsys, home, folder, f"observations.csv, row {line}, field '{column}'", words)

    def test_a_source_published_after_the_period_but_before_today_is_accepted(self, home, capsys):
        folder = data_folder(home)
        set_cell(folder, "observations.csv", "zhagyab_samples_added_2018", "source_date", "2022-09")
        assert main(["data", "check", "--data", str(folder)]) == 0
        capsys.readouterr()

    def test_a_negative_share_is_not_told_to_write_a_percentage(self, home, capsys):
        folder = data_folder(home)
        line = set_cell(folder, "observations.csv", "qushui_coverage_2021", "value", "-0.1")
        problem = check(capsys, home, folder, f"row {line}, field 'value'", "(a share cannot be negative)")
        assert "percentage" not in problem
        line = set_cell(folder, "units.csv", "qushui", "han_share_2020", "-0.1")
        refused(capsys, home, ["data", "check", "--data", str(folder)], f"units.csv, row {line}", "cannot be negative")

    @pytest.mark.parametrize(
        ("old", "new", "key", "words"),
        [
            ("total = 919282", 'total = "919282"', "comparisons.figures.0.total", 'got the string "919282"'),
            ("marked = false", 'marked = "no"', "comparisons.figures.1.marked", 'true or false, got the string "no"'),
            ('start = "2016"', "start = 2016", "study.start", 'got the number 2016; put it in quotes: "2016"'),
            ('start = "2016"', "start = 2016-01-01", "study.start", "got the date 2016-01-01"),
        ],
    )
    def test_study_values_have_strict_types(self, home, capsys, old, new, key, words):
        folder = data_folder(home)
        study = folder / "study.toml"
        text = study.read_text(encoding="utf-8")
        assert old in text
        study.write_text(text.replace(old, new), encoding="utf-8")
        check(capsys, home, folder, f"{study}, field '{key}'", words)


NAMES = {  # a [model] name of each kind of trouble, as TOML writes it
    "traversal": '"../escaped"',
    "slash": '"a/b"',
    "backslash": '"a\\\\b"',
    "dot-dot": '".."',
    "hidden": '".hidden"',
    "nul": '"a\\u0000b"',
    "empty": '""',
    "capitals": '"Dated"',
    "device": '"con"',
    "too long": '"' + "x" * 101 + '"',
}


def spec_with(kind: str, old: str, new: str) -> str:
    text = SPECS[kind]
    assert old in text, (kind, old)
    return text.replace(old, new, 1)


class TestSpec:
    """Items 1, 10 and 12: names used in paths, strict types, and specs that ask for nonsense."""

    @pytest.mark.parametrize("kind", ["mc", "hierarchical", "dated"])
    @pytest.mark.parametrize("name", list(NAMES), ids=list(NAMES))
    def test_a_model_name_is_an_id(self, home, capsys, kind, name):
        header = {"mc": 'name = "toy"', "hierarchical": 'name = "hierarchical_han"', "dated": 'name = "dated"'}[kind]
        spec = write(home, "spec.toml", spec_with(kind, header, f"name = {NAMES[name]}"))
        words = "names a device on Windows" if name == "device" else "must be an id"
        argv = [COMMAND[kind], str(spec), *(["--out", "results/out"] if kind != "mc" else [])]
        one_problem(refused(capsys, home, argv, f"{spec}, field 'model.name'", words))

    @pytest.mark.parametrize(
        ("kind", "old", "new", "key", "words"),
        [
            (
                "hierarchical",
                'sigma = { dist = "halfnormal", sigma = 1.0 }',
                'sigma = { dist = "halfnormal", sigma = true }',
                "fraction.sigma.sigma",
                "must be a number, got the boolean true",
            ),
            (
                "hierarchical",
                'alpha = { dist = "normal", mu = -1.0, sigma = 1.5 }',
                'alpha = { dist = "normal", mu = -1.0, sigma = "1.5" }',
                "fraction.alpha.sigma",
                'must be a number, got the string "1.5"; write it without quotes: 1.5',
            ),
            ("hierarchical", "draws = 2500", 'draws = "1500"', "sampler.draws", 'whole number, got the string "1500"'),
            ("hierarchical", "chains = 4", "chains = 4.0", "sampler.chains", "write it without a decimal point: 4"),
            ("dated", 'draws = "auto"', 'draws = "1500"', "sampler.draws", 'got the string "1500"'),
            ("dated", "census_error = 0.03", "census_error = true", "population.census_error", "got the boolean true"),
            ("dated", 'date = "2022-07"', "date = 2022-07-01", "estimand.date", "got the date 2022-07-01"),
            ("dated", 'covariate = "han_share_2020"', "covariate = 1", "fraction.covariate", "must be a string"),
            ("mc", "low = 0.2", 'low = "0"', "inputs.rate.low", "must be a number or a reference such as"),
            ("mc", "high = 0.4", "high = false", "inputs.rate.high", "got the boolean false"),
            ("mc", 'name = "toy"', "name = 5", "model.name", "must be a string, got the number 5; put it in quotes"),
        ],
        ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
    )
    def test_no_value_of_the_wrong_type_is_converted(self, home, capsys, kind, old, new, key, words):
        spec = write(home, "spec.toml", spec_with(kind, old, new))
        one_problem(refused(capsys, home, [COMMAND[kind], str(spec)], f"{spec}, field '{key}'", words))

    def test_a_string_for_a_number_says_what_was_given(self, home, capsys):
        spec = write(home, "spec.toml", spec_with("mc", "low = 0.2", 'low = "0"'))
        problem = one_problem(refused(capsys, home, ["mc", str(spec)]))
        assert problem.endswith('got the string "0"; write it without quotes: 0'), problem

    def test_every_shipped_spec_sweep_and_example_still_loads(self):
        for name in available_models():
            load_model(name)
        example = example_path("quillmoor")
        for path in sorted((example / "models").glob("*.toml")):
            load_model(path)
        for name in shipped_sweeps():
            load_sweep(name)
        for path in sorted((example / "sweeps").glob("*.toml")):
            load_sweep(path)
        load_data(example / "data")

    @pytest.mark.parametrize(
        ("old", "new", "key", "words"),
        [
            (
                'date = "2022-07"',
                'date = "2016-06"',
                "estimand.date",
                "2016-06 is before every observation the model is fitted to (the first, 'lhorong', is dated 2016-10)",
            ),
            ('date = "2022-07"', 'date = "2015"', "estimand.date", "outside the study's period, 2016 to 2022-07"),
            ('date = "2022-07"', 'date = "2023-01"', "estimand.date", "outside the study's period, 2016 to 2022-07"),
            (
                'data_to = "2017-02"',
                'data_to = "1990"',
                "checks.forecast[0].data_to",
                "1990 is before every observation the model is fitted to",
            ),
        ],
    )
    def test_a_date_with_no_observation_to_stand_on_is_refused(self, home, capsys, old, new, key, words):
        spec = write(home, "spec.toml", spec_with("dated", old, new))
        err = refused(capsys, home, ["estimate", str(spec), "--out", "results/out"], f"{spec}, field '{key}'", words)
        assert err.count(f"field '{key}'") >= 1

    @pytest.mark.parametrize(
        ("options", "words"),
        [
            (["--draws", "100000"], "of 100,000 draws"),
            (["--draws", "300000", "--chunk-size", "65536"], "in some draws"),
        ],
        ids=["one chunk, NumPy", "streamed, compiled"],
    )
    def test_a_negative_monte_carlo_total_is_refused(self, home, capsys, options, words):
        text = spec_with("mc", '"population * rate"', '"population * rate - 800000"').replace("low = 0.2", "low = 0.1")
        spec = write(home, "neg.toml", text)
        problem = one_problem(refused(capsys, home, ["mc", str(spec), *options], f"{spec}, field 'quantities.total'"))
        assert words in problem
        assert problem.endswith("cannot be below 0; an input's range or a subtraction reaches there")

    def test_a_negative_total_at_the_medians_is_refused_before_any_draw(self, home, capsys, monkeypatch):
        monkeypatch.setattr("dnamodel.montecarlo.engine.Engine.draws", lambda *a: pytest.fail("drew"))
        spec = write(home, "neg.toml", spec_with("mc", '"population * rate"', '"population * rate - 2000000"'))
        refused(capsys, home, ["mc", str(spec)], "field 'quantities.total': is -902,000 with every input at its median")


def sweep_file(folder: Path, grid: str, model: str = '"hierarchical_han"') -> Path:
    return write(folder, "mine.toml", f'[sweep]\nmodel = {model}\ndescription = "mine"\n\n[grid]\n{grid}\n')


class TestSweeps:
    """Items 8 and 14: sweep files checked against their model, naming the sweep file; the grid's cap."""

    @pytest.mark.parametrize(
        ("grid", "model", "key", "words"),
        [
            ('"fraction.beta.sigmaa" = [1]', None, 'grid."fraction.beta.sigmaa"', "did you mean 'fraction.beta.sigma'"),
            ('"fraction.beta.sigma+fraction.no" = [1]', None, 'grid."fraction.beta.sigma+fraction.no"', "fraction.no'"),
            ('"fraction.beta" = [1, 2]', None, 'grid."fraction.beta"', "'fraction.beta' is a table"),
            ('"fraction.beta.sigma" = [1]', '"nosuch"', "sweep.model", "no model file or model named 'nosuch'"),
            ('"fraction.beta.sigma" = [1]', "5", "sweep.model", "must be a string, got the number 5"),
        ],
    )  # fmt: skip
    def test_a_sweep_files_errors_name_it(self, home, capsys, grid, model, key, words):
        path = sweep_file(home, grid, *([model] if model else []))
        one_problem(refused(capsys, home, ["sweep", str(path)], f"{path}, field '{key}'", words))

    @pytest.mark.parametrize(
        ("value", "words"),
        [('"1"', 'got the string "1"; write it without quotes: 1'), ("true", "must be a number, got the boolean true")],
    )
    def test_a_grid_value_of_the_wrong_type_is_blamed_on_the_sweep_file(self, home, capsys, value, words):
        path = sweep_file(home, f'"fraction.beta.sigma" = [1.0, {value}]')
        refused(
            capsys, home, ["sweep", str(path), "--out", "results/s.nc"], f"{path} [grid] fraction.beta.sigma", words
        )

    @pytest.mark.parametrize(
        ("values", "twice"), [("0,0", "0"), ("1,1.0", "1.0"), ('"a","b","a"', '"a"'), ("[1],[1]", "[1]")]
    )
    def test_a_value_given_twice_is_refused(self, home, capsys, values, twice):
        """Item 13's `--set ...=0,0`, and the same in a sweep file: each point is run once."""
        setting = f"fraction.beta.sigma={values}"
        refused(capsys, home, ["sweep", "hierarchical_han", "--set", setting], f"the value {twice} is given twice")
        path = sweep_file(home, f'"fraction.beta.sigma" = [{values}]')
        one_problem(refused(capsys, home, ["sweep", str(path)], f"{path}, field 'grid.\"fraction.beta.sigma\"'"))

    def test_a_grid_over_the_cap_is_refused_before_any_point(self, home, capsys):
        offsets = ", ".join(str(-i / 1000) for i in range(400))
        ramps = ", ".join(str(0.1 + i / 1000) for i in range(300))
        grid = f'"fraction.unreported_offset" = [{offsets}]\n"campaign.ramp_years" = [{ramps}]'
        path = sweep_file(home, grid, '"dated"')
        words = "120,000 points (400 × 300), more than the 1,000 a sweep may have"
        one_problem(refused(capsys, home, ["sweep", str(path)], f"{path}, field 'grid': {words}"))

    def test_the_cap_is_checked_on_any_grid(self):
        check_grid_size({"a": list(range(MAX_POINTS))})
        with pytest.raises(UsageError, match=r"--set: 1,001 points \(1,001\), more than the 1,000"):
            check_grid_size({"a": list(range(MAX_POINTS + 1))}, "--set")

    def test_the_readme_states_the_cap(self):
        readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
        assert f"a grid of at most {MAX_POINTS:,} points" in readme


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, where the machine lets this process mount one (root on Linux); skipped otherwise."""
    mount = tmp_path / "small"
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True, check=False
        )
    except OSError as error:
        pytest.skip(f"no mount command here ({error.strerror}); the patched write below stands in for a full disk")
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused ({done.stderr.strip()}); the patched write stands in for it")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` with a file of ours until about ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    (disk / "filler").write_bytes(b"\0" * max(free - leave, 0))


class TestFaults:
    """Items 2 and 9: the operating system's refusals become one message, all or none, no temporary left."""

    def test_data_export_onto_a_full_tmpfs(self, small_disk, capsys):
        """A real 1 MiB tmpfs: the free space is checked first, and nothing is created."""
        fill(small_disk, 16_384)
        before = snapshot(small_disk)
        refused(capsys, small_disk, ["data", "export", str(small_disk / "x")], "cannot write", "none of the 6 files")
        assert snapshot(small_disk) == before

    def test_the_device_saying_no_space_on_a_real_tmpfs(self, small_disk, capsys, monkeypatch):
        """With the check of free space switched off, the write itself meets ENOSPC on the tmpfs."""
        fill(small_disk, 16_384)
        monkeypatch.setattr(files, "_space", lambda folder: None)
        before = snapshot(small_disk)
        err = refused(capsys, small_disk, ["data", "export", str(small_disk / "x")], "no space left on the device")
        assert "none of the 6 files was written" in err
        assert snapshot(small_disk) == before
        with pytest.raises(UsageError, match=r"fit\.nc: no space left on the device; nothing was written"):
            atomic_write_bytes(small_disk / "fit.nc", b"\1" * 2**20)
        assert snapshot(small_disk) == before

    def test_a_read_only_tmpfs(self, small_disk, capsys):
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        before = snapshot(small_disk)
        refused(capsys, small_disk, ["data", "export", str(small_disk / "x")], "folder", "read-only")
        with pytest.raises(UsageError, match=r"fit\.nc: the file system is read-only; nothing was written"):
            atomic_write_bytes(small_disk / "fit.nc", b"x")
        assert snapshot(small_disk) == before

    @pytest.mark.parametrize(
        ("error", "words"),
        [
            (errno.ENOSPC, "no space left on the device"),
            (errno.EDQUOT, "the disk quota is used up"),
            (errno.EACCES, "permission denied"),
            (errno.EROFS, "the file system is read-only"),
        ],
    )
    def test_a_patched_write_that_fails_midway(self, home, capsys, monkeypatch, error, words):
        """Runs everywhere: the third file's write raises, as a full disk's would."""
        written = []
        fill_file = files._fill

        def failing(temporary, content):
            if len(written) == 2:
                raise OSError(error, os.strerror(error))
            written.append(temporary)
            fill_file(temporary, content)

        monkeypatch.setattr(files, "_fill", failing)
        err = refused(capsys, home, ["data", "export", "out"], f"cannot write out/{EXPORTED[2]}: {words}")
        assert err.rstrip().endswith("none of the 6 files was written")
        assert len(err.strip().splitlines()) == 1
        assert len(written) == 2
        assert not any(p.exists() for p in written)
        assert not (home / "out").exists()

    def test_a_failed_rename_puts_back_the_files_already_replaced(self, home, monkeypatch):
        export_data(home / "out")
        for name in EXPORTED:
            (home / "out" / name).write_text(f"my edits of {name}", encoding="utf-8")
        before = snapshot(home)
        replace = os.replace
        renamed = []

        def failing(source, target):
            if str(target).endswith(EXPORTED[3]):
                raise OSError(errno.EIO, "Input/output error")
            renamed.append(target)
            replace(source, target)

        monkeypatch.setattr(os, "replace", failing)
        with pytest.raises(UsageError, match=r"study\.toml: an input/output error of the device; none of the 6 files"):
            export_data(home / "out", overwrite=True)
        monkeypatch.setattr(os, "replace", replace)
        assert len(renamed) == 3 + 3  # three renamed, then each put back from its hard link
        for name in EXPORTED:
            assert (home / "out" / name).read_text(encoding="utf-8") == f"my edits of {name}"
        assert {p for p in snapshot(home) if "/." in p or p.startswith(".")} == set()
        assert set(snapshot(home)) == set(before)

    @pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc here, a folder that takes no new files")
    def test_a_folder_that_takes_no_files_is_not_called_full(self, home, capsys):
        """/proc has no blocks: its free space says nothing, and the write says why it failed (item 4)."""
        with pytest.raises(UsageError, match=r"cannot write /proc/t\.png: /proc takes no new files"):
            atomic_write_bytes("/proc/t.png", b"x")
        assert not os.path.exists("/proc/t.png")

    @pytest.mark.parametrize(
        "argv",
        [
            ["mc", "report_uniform", "--draws", "10000", "--tornado", "/proc/t.png"],
            ["estimate", "--out", "/proc/results"],
            ["report", "--results", "/proc/results"],
            ["report", "--from", "results/earlier.txt", "--out", "/proc/r.html"],
            ["compare", "--out", "/proc/results"],
            ["sweep", "dated", "--set", "fraction.unreported_offset=0,-1", "--out", "/proc/s.nc"],
        ],
    )
    def test_an_output_where_no_file_can_be_is_refused_before_any_work(self, home, capsys, argv):
        """Item 4: /proc's permissions say yes to the superuser; its file system's flags say no, before any fit."""
        if not os.path.isdir("/proc/self"):
            pytest.skip("no /proc here, a file system that takes no files")
        refused(capsys, home, argv, "cannot write in /proc (its file system takes no files)")

    def test_a_write_into_a_missing_folder(self, home):
        with pytest.raises(UsageError, match=r"cannot write .*gone/fit\.nc: its folder .*gone does not exist"):
            atomic_write_bytes(home / "gone" / "fit.nc", b"x")

    def test_ctrl_c_while_writing_leaves_no_temporary_file(self, home, monkeypatch):
        def interrupted(temporary, content):
            raise KeyboardInterrupt

        monkeypatch.setattr(files, "_fill", interrupted)
        with pytest.raises(KeyboardInterrupt):
            atomic_write_files({home / "results" / "a.csv": b"a", home / "results" / "b.csv": b"b"})
        assert os.listdir(home / "results") == ["earlier.txt"]

    def test_stale_temporary_files_of_ours_are_removed_by_the_next_write(self, home):
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(dead.stdout)
        folder = home / "results"
        old = STARTED - 3600
        ours_stale = [f".dated.nc.{dead_pid}.abcd_123.tmp", ".dated.nc.k2j4h5g6.tmp"]
        kept = [
            ".dated.nc.1.abcdefgh.tmp",  # its writer, process 1, is running
            f".dated.nc.{os.getpid()}.zyxwvuts.tmp",  # this process's own
            ".dated.nc.tmp",  # not our naming
            "notes.tmp",
            ".dated.nc.ABCDEFGH.tmp",
            f".other.csv.{dead_pid}.abcdefgh.tmp.bak",
        ]
        for name in ours_stale + kept:
            (folder / name).write_text("left behind", encoding="utf-8")
            os.utime(folder / name, (old, old))
        fresh = folder / f".fresh.nc.{dead_pid}.abcdefgh.tmp"  # written since this process started
        fresh.write_text("being written", encoding="utf-8")
        atomic_write_bytes(folder / "summary.csv", b"a,b\n")
        left = set(os.listdir(folder))
        assert not left & set(ours_stale)
        assert left >= {*kept, fresh.name, "summary.csv", "earlier.txt"}
        assert remove_stale_temporaries(folder) == []  # each folder once per process

    def test_a_temporary_file_is_named_for_its_writer(self, home, monkeypatch):
        names = []
        fill_file = files._fill
        monkeypatch.setattr(
            files, "_fill", lambda temporary, content: names.append(temporary.name) or fill_file(temporary, content)
        )
        atomic_write_bytes(home / "results" / "fit.csv", b"x")
        assert files.TEMPORARY.fullmatch(names[0]).group("pid") == str(os.getpid())


class TestDeterminism:
    """The same input gives the same message and the same files, and no temporary name leaks into either."""

    def test_a_refusal_is_the_same_every_time(self, home, capsys):
        spec = write(home, "spec.toml", spec_with("dated", 'date = "2022-07"', 'date = "2016-06"'))
        first = refused(capsys, home, ["estimate", str(spec)])
        assert refused(capsys, home, ["estimate", str(spec)]) == first

    def test_exported_files_are_the_bundled_bytes_with_a_plain_files_mode(self, home):
        written = export_data(home / "out")
        again = export_data(home / "out", overwrite=True)
        assert written == again == [home / "out" / name for name in EXPORTED]
        umask = os.umask(0o022)
        os.umask(umask)
        for path in written:
            assert path.read_bytes() == (bundled_dir() / path.name).read_bytes()
            assert path.stat().st_mode & 0o777 == 0o666 & ~umask
        assert sorted(os.listdir(home / "out")) == sorted(EXPORTED)

    def test_the_checks_change_no_data(self, data):
        # issue 23 renamed the CSV headers; issue 20 reworded two notes
        assert load_data().version == data.version == "sha256:712232db7a290560"


def test_a_data_error_for_each_problem_at_once(home):
    """The new checks add to the one error that lists every problem, in file and row order."""
    folder = data_folder(home)
    set_cell(folder, "units.csv", "lhasa-culture-park", "folded_into", "chengguan")
    set_cell(folder, "units.csv", "chengguan", "folded_into", "lhasa-culture-park")
    set_cell(folder, "observations.csv", "zhagyab_samples_added_2018", "date", "2099")
    with pytest.raises(DataError) as caught:
        load_data(folder)
    assert [(Path(p.file).name, p.field) for p in caught.value.problems] == [
        ("units.csv", "folded_into"),
        ("observations.csv", "date"),
    ]


# --- the command line: every command, one handler ----------------------------------------------------

EVERY_COMMAND = {
    "replicate": ["replicate"],
    "audit": ["audit"],
    "mc": ["mc", "report_uniform", "--draws", "10000"],
    "estimate": ["estimate", "--out", "results/out"],
    "report": ["report", "--results", "results/out", "--no-sweeps"],
    "forecast-check": ["forecast-check"],
    "compare": ["compare", "dated", "--out", "results/out"],
    "sweep": ["sweep", "dated", "--set", "fraction.unreported_offset=0,-1", "--out", "results/out/s.nc"],
    "data check": ["data", "check"],
    "data export": ["data", "export", "results/out"],
}
"""One invocation of each command, each of which reads the data first."""


class TestCommandLine:
    """Items 3, 4, 6, 13 and 14: bounds, conflicting flags, messages naming the flag, one handler for all."""

    @pytest.mark.parametrize("command", ["forecast-check", "compare", "estimate", "report", "sweep dated"])
    @pytest.mark.parametrize("seed", ["-1", str(2**63), str(2**64), "1.5", "x"])
    def test_every_seed_is_bounded(self, home, capsys, command, seed):
        refused(capsys, home, [*command.split(), "--seed", seed], "argument --seed")

    @pytest.mark.parametrize("command", ["estimate", "report", "compare", "sweep dated"])
    @pytest.mark.parametrize(("tune", "words"), [(str(2**70), "at most 1,000,000"), ("0", "at least 1")])
    def test_tuning_is_bounded(self, home, capsys, command, tune, words):
        refused(capsys, home, [*command.split(), "--tune", tune], "argument --tune", words)

    def test_tuning_is_bounded_in_a_spec_too(self, home, capsys):
        spec = write(home, "spec.toml", spec_with("dated", "tune = 1500", "tune = 10_000_000"))
        one_problem(refused(capsys, home, ["estimate", str(spec)], f"{spec}, field 'sampler.tune'", "1000000"))

    @pytest.mark.parametrize(
        ("argv", "words"),
        [
            (["report", "--sweeps", "x", "--no-sweeps"], "argument --no-sweeps: not allowed with argument --sweeps"),
            (["forecast-check", "--compare", "x", "--no-compare"], "--no-compare: not allowed with argument --compare"),
            (["sweep", "dated", "--threads", "2", "--processes", "2"], "--processes: not allowed with argument"),
        ],
    )  # fmt: skip
    def test_conflicting_flags_are_refused(self, home, capsys, argv, words):
        refused(capsys, home, argv, words)

    @pytest.mark.parametrize(("draws", "words"), [("3", "power of 2"), (str(2**40), "held in memory")])
    def test_the_sobol_size_error_names_its_flag(self, home, capsys, draws, words):
        argv = ["mc", "report_uniform", "--draws", "10000", "--sensitivity", "--sensitivity-draws", draws]
        refused(capsys, home, argv, f"--sensitivity-draws {int(draws):,}: ", words)

    @pytest.mark.parametrize("command", ["estimate", "sweep"])
    def test_a_specs_draws_over_the_memory_cap_name_its_file_and_key(self, home, capsys, command):
        spec = write(home, "spec.toml", spec_with("dated", "max_draws = 6000", "max_draws = 2_000_000_000"))
        argv = [command, str(spec), *(["--set", "fraction.unreported_offset=0,-1"] if command == "sweep" else [])]
        err = one_problem(refused(capsys, home, argv, f"{spec}, field 'sampler.draws'", "draws × chains"))
        assert "--draws" in err

    def test_the_memory_cap_of_a_flag_names_the_flag_not_the_spec(self, home, capsys):
        err = refused(capsys, home, ["estimate", "--draws", str(2**40), "--out", "results/out"], "draws × chains")
        assert "field 'sampler.draws'" not in err

    @pytest.mark.parametrize("command", list(EVERY_COMMAND))
    @pytest.mark.parametrize(
        ("error", "words"),
        [
            (PermissionError(errno.EACCES, "Permission denied", "/srv/units.csv"), "/srv/units.csv: permission denied"),
            (OSError(errno.EIO, "Input/output error", "/srv/units.csv"), "input/output error of the device"),
            (OSError(errno.ENOSPC, "No space left on device"), "the operating system: no space left on the device"),
        ],
    )  # fmt: skip
    def test_an_os_error_anywhere_is_one_line_and_exit_2(self, home, capsys, monkeypatch, command, error, words):
        """Item 4: the backstop of every command, for an OSError no check foresaw (here in reading the data)."""

        def failing(*args, **kwargs):
            raise error

        monkeypatch.setattr("dnamodel.cli.common.load_data", failing)
        monkeypatch.setattr("dnamodel.cli.export_data", failing)
        err = refused(capsys, home, EVERY_COMMAND[command], words)
        assert len(err.strip().splitlines()) == 1

    @pytest.mark.parametrize("command", list(EVERY_COMMAND))
    def test_ctrl_c_in_any_command_is_exit_130_in_one_line(self, home, capsys, monkeypatch, command):
        """Item 3, in every command: Ctrl-C while it works (here while it reads the data)."""

        def interrupted(*args, **kwargs):
            signal.raise_signal(signal.SIGINT)

        monkeypatch.setattr("dnamodel.cli.common.load_data", interrupted)
        monkeypatch.setattr("dnamodel.cli.export_data", interrupted)
        before = snapshot(home)
        # Python's default handler, or SIG_IGN where a shell started the tests in the background
        handler = signal.getsignal(signal.SIGINT)
        assert main(EVERY_COMMAND[command]) == 130
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == "dnamodel: interrupted (Ctrl-C); no partial result was written\n"
        assert snapshot(home) == before
        assert signal.getsignal(signal.SIGINT) is handler  # the handler is put back

    def test_a_damaged_comparison_in_the_output_folder_is_refused_before_the_fit(self, home, capsys):
        """estimate reads compare.nc in --out for its sentence on structural uncertainty: before the fit, not after."""
        (home / "results" / "compare.nc").write_bytes(b"not a comparison")
        refused(capsys, home, ["estimate", "--out", "results"], "results/compare.nc: not a readable comparison")

    def test_after_ctrl_c_nothing_is_written_or_printed_even_if_the_work_goes_on(self, home, capsys, monkeypatch):
        """A sampler that catches Ctrl-C and returns what it has (nutpie does) lets the command go on: it must not
        write or print that partial result."""

        def swallowed(*args, **kwargs):
            with contextlib.suppress(KeyboardInterrupt):  # as nutpie.sample does: it returns sampler.abort()
                signal.raise_signal(signal.SIGINT)
            atomic_write_bytes(home / "results" / "fit.nc", b"a partial fit")
            raise AssertionError("the write after Ctrl-C was not refused")

        monkeypatch.setattr("dnamodel.cli.fits.run_estimate", swallowed)
        before = snapshot(home)
        assert main(["estimate", "--out", "results"]) == 130
        assert capsys.readouterr().err == "dnamodel: interrupted (Ctrl-C); no partial result was written\n"
        assert snapshot(home) == before


OFFSET_PATH = "fraction.unreported_offset"
OFFSET = {OFFSET_PATH: [0.0]}
RATE = {"inputs.rest_rate.low.figure": ["lhorong_rate"]}


class TestApi:
    """Item 15: the public API checks its arguments at the door, with the command line's standard of message."""

    @pytest.mark.parametrize(
        ("call", "error", "words"),
        [
            (lambda: dnamodel.fit(None), TypeError, "fit: spec must be a spec, or a model's name or path, got None"),
            (lambda: dnamodel.fit(123), TypeError, "fit: spec must be a spec, or a model's name or path, got the int"),
            (lambda: dnamodel.fit("dated", data="str"), TypeError, "fit: data must be a Dataset"),
            (lambda: dnamodel.fit("report_mc"), UsageError, "report_mc"),
            (lambda: dnamodel.fit("dated", draws=-5), UsageError, "draws must be at least 1"),
            (lambda: dnamodel.fit("dated", tune=2**70), UsageError, "tune must be at most 1,000,000"),
            (lambda: dnamodel.fit("dated", seed=-1), UsageError, "seed must be a whole number from 0"),
            (lambda: dnamodel.compare(["dated"], data="data"), TypeError, "compare: data must be a Dataset"),
            (lambda: dnamodel.compare([]), ValueError, "models is empty; give at least one, or None"),
            (lambda: dnamodel.compare("dated"), TypeError, "compare: models must be a list of names or paths"),
            (lambda: dnamodel.compare([3]), TypeError, "compare: each model must be a model's name or path"),
            (lambda: dnamodel.compare(["dated"], seed=-1), UsageError, "compare: seed must be at least 0"),
            (lambda: dnamodel.sweep("dated", grid="str"), TypeError, "sweep: grid must be a mapping"),
            (lambda: dnamodel.sweep(42, {"a": [1]}), TypeError, "sweep: spec must be a spec, or a model's name"),
            (lambda: dnamodel.sweep("dated", {3: [1]}), TypeError, "sweep: each path of the grid must be a dotted"),
            (lambda: dnamodel.sweep("dated", OFFSET, threads=0), UsageError, "sweep: threads must be at least 1"),
            (lambda: dnamodel.sweep("dated", OFFSET, threads=2, processes=2), UsageError, "not both"),
            (lambda: dnamodel.sweep("dated", {OFFSET_PATH: list(range(1001))}), UsageError, "the grid: 1,001 points"),
            (lambda: dnamodel.sweep("report_uniform", RATE, seed=-1), UsageError, "sweep: seed must be at least 0"),
            (lambda: dnamodel.sweep("dated", OFFSET, seed=2**64), UsageError, "seed must be a whole number from 0"),
            (lambda: dnamodel.replicate(data="x"), TypeError, "replicate: data must be a Dataset"),
            (lambda: dnamodel.audit(data=5), TypeError, "audit: data must be a Dataset"),
            (lambda: dnamodel.summarize("x"), UsageError, "no model file or model named 'x'"),
            (lambda: dnamodel.summarize(3.5), TypeError, "summarize: model must be a fit, or a Monte Carlo spec"),
            (lambda: dnamodel.summarize("report_uniform", 10.5), TypeError, "draws must be a whole number"),
            (lambda: dnamodel.summarize("report_uniform", 1000, -1), UsageError, "summarize: seed must be at least 0"),
            (lambda: dnamodel.tornado("x"), TypeError, "tornado: spec must be a Monte Carlo spec: dnamodel.load_model"),
            (lambda: dnamodel.sobol("report_uniform"), TypeError, "sobol: spec must be a Monte Carlo spec"),
            (lambda: dnamodel.monte_carlo(load_model("dated")), TypeError, "one is fitted, got a DatedSpec"),
            (lambda: dnamodel.monte_carlo(load_model("report_uniform"), data=""), TypeError, "monte_carlo: data must"),
            (lambda: dnamodel.load_model(None), TypeError, "load_model: path_or_name must be a model's name"),
            (lambda: dnamodel.load_sweep(7), TypeError, "load_sweep: name_or_path must be a shipped sweep's name"),
            (lambda: dnamodel.shipped_sweeps("nope"), UsageError, "no shipped model named 'nope'"),
            (lambda: dnamodel.shipped_sweeps(3), TypeError, "shipped_sweeps: model must be a shipped model's name"),
            (lambda: dnamodel.diagnose("x"), TypeError, "diagnose: idata must be an arviz.InferenceData"),
            (lambda: dnamodel.write_fit("x", "fit.nc"), TypeError, "write_fit: idata must be an arviz.InferenceData"),
            (lambda: dnamodel.read_fit(5), TypeError, "read_fit: path must be a fit's path"),
            (lambda: dnamodel.sbc("dated", simulations=0), UsageError, "sbc: simulations must be at least 1"),
            (lambda: dnamodel.sbc("dated", simulations=2, draws=-1), UsageError, "draws must be at least 1"),
            (lambda: dnamodel.sbc(None, simulations=2), TypeError, "sbc: model must be a fit, a spec"),
            (lambda: dnamodel.predictive_checks("x"), TypeError, "the fit must be an arviz.InferenceData"),
        ],
    )  # fmt: skip
    def test_arguments_are_checked_at_the_door(self, home, call, error, words):
        before = snapshot(home)
        with pytest.raises(error) as caught:
            call()
        assert words in str(caught.value), str(caught.value)
        assert snapshot(home) == before

    @pytest.mark.parametrize(
        ("call", "words"),
        [
            (lambda: dnamodel.fit("dated", "str"), "fit: data must be a Dataset"),
            (lambda: dnamodel.compare(["dated"], "data"), "compare: data must be a Dataset"),
            (lambda: dnamodel.replicate("x"), "replicate: data must be a Dataset"),
            (lambda: dnamodel.audit(5), "audit: data must be a Dataset"),
        ],
    )
    def test_data_by_position_is_checked_too(self, call, words):
        """The trial's calls as it wrote them: data by position, deprecated (it warns) and checked all the same."""
        with pytest.warns(DeprecationWarning, match="give data= by keyword"), pytest.raises(TypeError, match=words):
            call()

    def test_a_grid_of_numpy_numbers_is_a_grid_of_numbers(self, monkeypatch):
        import numpy as np

        from dnamodel.workflows.sweep import plan_sweep

        plan = plan_sweep("dated", {"fraction.unreported_offset": np.linspace(-1, 0, 3)})
        assert plan.axes == [[-1.0, -0.5, 0.0]]
        assert all(type(v) is float for v in plan.axes[0])

    def test_an_interval_the_summary_has_not_is_a_value_error(self):
        from dnamodel.checks.summary import Interval, Quantity

        quantity = Quantity("total", 1.0, 1.0, 0.1, 0.01, 0.01, (Interval(0.9, "equal-tailed", 0.5, 1.5),))
        assert quantity.interval(0.9).low == 0.5
        with pytest.raises(ValueError, match=r"no 'equal-tailed' interval of probability 1\.5: the summary has 0\.9"):
            quantity.interval(1.5)


@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    """A real fit of the example's dated model at reduced draws (seconds), saved to NetCDF."""
    folder = example_path("quillmoor")
    data = load_data(folder / "data")
    idata = dnamodel.fit(folder / "models" / "dated.toml", data=data, draws=100, tune=100, chains=2, prior_draws=50)
    path = dnamodel.write_fit(idata, tmp_path_factory.mktemp("fit") / "quillmoor_dated.nc")
    return idata, path, data


def edited(idata, change):
    """A deep copy of a fit with ``change`` applied to it."""
    changed = copy.deepcopy(idata)
    change(changed)
    return changed


class TestFits:
    """Items 2, 5, 7 and 15: a saved fit's file written all or none, and read back only if it is a fit."""

    def test_the_netcdf_is_built_in_memory_and_reads_back_whole(self, small_fit, tmp_path):
        from dnamodel.outputs.io import netcdf_bytes, read_netcdf

        idata, path, _ = small_fit
        back = read_netcdf(path)
        assert back.groups() == idata.groups()
        assert dict(back.attrs) == {k: v for k, v in idata.attrs.items()}
        for group in idata.groups():
            assert back[group].equals(idata[group]), group
        assert netcdf_bytes(idata) == netcdf_bytes(idata)  # the same fit, the same bytes (no timestamps)

    @pytest.mark.parametrize("error", [errno.ENOSPC, errno.EACCES, errno.EROFS])
    def test_estimates_files_are_written_all_or_none(self, small_fit, home, monkeypatch, error):
        """Item 2, a patched write that fails on the third file, as a full disk's would (runs everywhere)."""
        from dnamodel.checks.summary import summarize_fit
        from dnamodel.outputs.formats import summary_documents
        from dnamodel.outputs.io import write_outputs

        idata, _, data = small_fit
        summary = summarize_fit(idata, data)
        written = []
        fill_file = files._fill

        def failing(temporary, content):
            if len(written) == 2:
                raise OSError(error, os.strerror(error))
            written.append(temporary)
            fill_file(temporary, content)

        monkeypatch.setattr(files, "_fill", failing)
        figures = [("total", lambda p: plots.total_posterior_plot(idata, summary, p))]
        with pytest.raises(UsageError, match="none of the 5 files was written"):
            write_outputs(idata, summary, home / "new" / "out", figures, tables=summary_documents(summary))
        assert not (home / "new").exists()  # the folders it made are gone again
        assert not any(p.exists() for p in written)

    def test_the_same_fit_writes_the_same_bytes(self, small_fit, home):
        """Determinism of the writer: every file of a result, written twice, byte for byte."""
        from dnamodel.checks.summary import summarize_fit
        from dnamodel.outputs.formats import summary_documents
        from dnamodel.outputs.io import write_outputs

        idata, _, data = small_fit
        summary = summarize_fit(idata, data)
        figures = [("total", lambda p: plots.total_posterior_plot(idata, summary, p))]
        first = write_outputs(idata, summary, home / "a", figures, tables=summary_documents(summary))
        second = write_outputs(idata, summary, home / "b", figures, tables=summary_documents(summary))
        assert [p.name for p in first] == [p.name for p in second] == [
            "quillmoor_dated.nc", "quillmoor_dated_summary.csv", "quillmoor_dated_total.png",
            "quillmoor_dated_tables.md", "quillmoor_dated_tables.tex",
        ]  # fmt: skip
        for a, b in zip(first, second, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name

    def test_outputs_rendered_beforehand_are_the_bytes_written_and_touch_no_disk(self, small_fit, home):
        """estimate renders its files while the assumptions refit (render_outputs) and writes them after: the same
        bytes as rendering them at the write, and nothing on disk before it, not even the folder."""
        from dnamodel.checks.summary import summarize_fit
        from dnamodel.outputs.formats import summary_documents
        from dnamodel.outputs.io import render_outputs, write_outputs

        idata, _, data = small_fit
        summary = summarize_fit(idata, data)
        figures = [("total", lambda p: plots.total_posterior_plot(idata, summary, p))]
        tables = summary_documents(summary)
        before = snapshot(home)
        rendered = render_outputs(idata, summary, home / "new" / "a", figures, tables)
        assert snapshot(home) == before
        first = write_outputs(idata, summary, home / "new" / "a", [], rendered=rendered)
        second = write_outputs(idata, summary, home / "b", figures, tables=tables)
        assert [p.name for p in first] == [p.name for p in second]
        for a, b in zip(first, second, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name

    def test_a_render_asked_to_stop_stops_before_its_next_file(self, small_fit, home):
        """A failure or Ctrl-C beside the rendering thread sets its stop: it does not go on to draw every figure."""
        from dnamodel.checks.summary import summarize_fit
        from dnamodel.outputs.io import RenderingStopped, render_outputs

        idata, _, data = small_fit
        summary = summarize_fit(idata, data)
        stop, drawn = threading.Event(), []

        def drawer(name):
            def draw(path):
                drawn.append(name)
                stop.set()  # as the command's thread does while this figure draws
                return plots.total_posterior_plot(idata, summary, path)

            return draw

        with pytest.raises(RenderingStopped):
            render_outputs(idata, summary, home / "out", [("one", drawer("one")), ("two", drawer("two"))], stop=stop)
        assert drawn == ["one"]
        with pytest.raises(RenderingStopped):  # set before it starts: not even the NetCDF
            render_outputs(idata, summary, home / "out", [("one", drawer("three"))], stop=stop)
        assert drawn == ["one"]
        assert not (home / "out").exists()

    def test_estimate_on_a_full_tmpfs_is_one_message(self, small_fit, small_disk, capsys):
        """Item 2 on a real 1 MiB tmpfs: h5py never writes to the disk, so it cannot crash on it."""
        from dnamodel.checks.summary import summarize_fit
        from dnamodel.outputs.io import write_outputs

        idata, _, data = small_fit
        fill(small_disk, 16_384)
        before = snapshot(small_disk)
        with pytest.raises(UsageError, match=r"quillmoor_dated\.nc: it needs [\d,]+ bytes|no space left"):
            write_outputs(idata, summarize_fit(idata, data), small_disk / "out", [])
        assert snapshot(small_disk) == before

    @pytest.mark.parametrize("how", ["pickle", "truncated", "text", "empty"])
    @pytest.mark.parametrize("command", ["compare", "report"])
    def test_a_corrupt_or_renamed_file_is_refused_in_one_line(self, small_fit, home, capsys, how, command):
        """Item 5: compare reads fits as report --from does."""
        _, path, _ = small_fit
        bad = home / "bad.nc"
        if how == "pickle":
            bad.write_bytes(pickle.dumps({"posterior": [1, 2, 3]}))
        elif how == "truncated":
            bad.write_bytes(path.read_bytes()[:4096])
        elif how == "text":
            bad.write_text("not a fit", encoding="utf-8")
        else:
            bad.write_bytes(b"")
        argv = ["compare", str(bad)] if command == "compare" else ["report", "--from", str(bad), "--no-sweeps"]
        err = refused(capsys, home, argv, f"{bad}: not a readable NetCDF fit")
        assert len(err.strip().splitlines()) == 1

    def test_a_renamed_fit_of_other_data_is_refused_by_compare(self, small_fit, home, capsys):
        _, path, _ = small_fit
        shutil.copy(path, home / "renamed.nc")
        refused(capsys, home, ["compare", "renamed.nc"], "renamed.nc was fitted to data", "must share their data")

    @pytest.mark.parametrize("value", [float("nan"), float("inf")])
    def test_a_fit_whose_total_is_not_finite_is_refused_everywhere(self, small_fit, home, capsys, value):
        """Item 7: `report --from`, `compare`, read_fit, write_fit and summarize refuse it, naming it."""
        from dnamodel.outputs.io import write_netcdf

        idata, _, data = small_fit
        broken = edited(idata, lambda i: i.posterior["total"].values.fill(value))
        write_netcdf(broken, home / "broken.nc")
        words = "of its 200 posterior draws of the total are not finite numbers"
        refused(capsys, home, ["report", "--from", "broken.nc", "--no-sweeps", "--data", str(data.location)], words)
        refused(capsys, home, ["compare", "broken.nc", "--data", str(data.location)], words)
        with pytest.raises(UsageError, match=words):
            dnamodel.read_fit(home / "broken.nc")
        with pytest.raises(UsageError, match=words):
            dnamodel.write_fit(broken, home / "again.nc")
        with pytest.raises(UsageError, match=words):
            dnamodel.summarize(broken, data=data)

    def test_a_plain_netcdf_or_a_foreign_inferencedata_is_no_fit(self, small_fit, home):
        """Item 15's silent acceptances: what the command line refuses, the API refuses."""
        import arviz as az
        import numpy as np
        import xarray as xr

        from dnamodel.outputs.io import write_netcdf

        xr.Dataset({"total": ("draw", np.arange(3.0))}).to_netcdf(home / "plain.nc", engine="h5netcdf")
        rng = np.random.default_rng(1)
        foreign = az.from_dict(posterior={"total": rng.normal(size=(2, 50))}, attrs={"model": "theirs"})
        write_netcdf(foreign, home / "foreign.nc")
        for name in ("plain.nc", "foreign.nc"):
            with pytest.raises(UsageError, match="not a fit of dnamodel estimate"):
                dnamodel.read_fit(home / name)
        with pytest.raises(UsageError, match="not a fit of dnamodel estimate"):
            dnamodel.write_fit(foreign, home / "out.nc")
        assert not (home / "out.nc").exists()
        for check in (dnamodel.summarize, dnamodel.predictive_checks, dnamodel.leave_one_out):
            with pytest.raises(UsageError, match="not a fit of dnamodel estimate"):
                check(foreign)
        with pytest.raises(UsageError, match="not a fit of dnamodel estimate"):
            dnamodel.summarize(az.InferenceData())
        with pytest.raises(UsageError, match="needs a posterior and sample_stats with 'diverging'"):
            dnamodel.diagnose(foreign)

    def test_summarize_checks_the_spec_hash(self, small_fit):
        idata, _, data = small_fit
        forged = edited(idata, lambda i: i.attrs.__setitem__("spec", i.attrs["spec"].replace("0.10", "0.20", 1)))
        with pytest.raises(UsageError, match=r"hashes to sha256:.*not the recorded"):
            dnamodel.summarize(forged, data=data)

    @pytest.mark.parametrize(
        ("settings", "words"), [({"draws": -5}, "draws must be at least 1"), ({"tune": 1.5}, "tune must be a whole")]
    )
    def test_a_refits_settings_are_bounded(self, small_fit, settings, words):
        idata, _, data = small_fit
        with pytest.raises((UsageError, TypeError), match=words):
            dnamodel.leave_one_out(idata, data=data, refit=True, **settings)


QUILLMOOR = example_path("quillmoor")


class TestCtrlC:
    """Item 3: Ctrl-C while sampling ends the command with exit 130 and one line, and nothing half-written.

    nutpie catches the interrupt and returns the draws it has (``nutpie.sample``: ``except
    KeyboardInterrupt: result = sampler.abort()``); the command must not go on to write them.
    """

    @pytest.fixture(autouse=True)
    def no_fit(self):
        """These tests sample, to be interrupted: the module's guard against fitting is lifted."""

    @pytest.fixture
    def interrupted_midway(self, monkeypatch):
        """nutpie.sample, with Ctrl-C once sampling runs, handled as nutpie.sample handles it when it blocks.

        Python's own SIGINT handler is installed for the test: a shell starts a background job (``make test &``)
        with SIGINT ignored, and Python then installs none, so the signal would be lost and the fit of
        100,000 draws would run to its end (41 s, then "DID NOT RAISE", on a fresh clone tested in the background).
        """
        import nutpie

        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        real = nutpie.sample

        def interrupted_midway(*args, **kwargs):
            sampler = real(*args, **{**kwargs, "blocking": False})
            try:
                signal.raise_signal(signal.SIGINT)
                return sampler.wait()
            except KeyboardInterrupt:
                return sampler.abort()

        monkeypatch.setattr(nutpie, "sample", interrupted_midway)
        yield
        signal.signal(signal.SIGINT, previous)

    @pytest.mark.parametrize("chains", ["1", "2"])
    def test_a_sampler_that_returns_what_it_has(self, home, capsys, interrupted_midway, chains):
        """With one chain the partial trace is whole-looking; with two its chains differ in length."""
        spec, data = QUILLMOOR / "models" / "dated.toml", QUILLMOOR / "data"
        argv = ["estimate", str(spec), "--data", str(data), "--out", "results/out", "--chains", chains]
        before = snapshot(home)
        assert main([*argv, "--draws", "100000", "--tune", "100", "--no-loo"]) == 130
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == "dnamodel: interrupted (Ctrl-C); no partial result was written\n"
        assert snapshot(home) == before

    def test_the_api_raises_keyboardinterrupt_rather_than_return_a_short_fit(self, interrupted_midway):
        data = load_data(QUILLMOOR / "data")
        with pytest.raises(KeyboardInterrupt):
            dnamodel.fit(QUILLMOOR / "models" / "dated.toml", data=data, draws=100_000, tune=100, chains=1)

    @pytest.mark.parametrize("failure", ["ctrl-c", "error"])
    def test_ctrl_c_or_an_error_while_figures_render_beside_the_assumptions(self, home, capsys, monkeypatch, failure):
        """estimate renders its files in a thread while what decides the figure is computed: Ctrl-C or an error
        there is one line, writes nothing, and leaves no thread behind."""
        drawing = threading.Event()
        total_posterior_plot = plots.total_posterior_plot

        def announced(*args, **kwargs):
            drawing.set()
            return total_posterior_plot(*args, **kwargs)

        def failing(*args, one_left, **kwargs):
            one_left()  # as run_assumptions calls it once one refit is left: the render starts
            assert drawing.wait(120), "the figures were not drawing beside the assumptions"
            if failure == "ctrl-c":
                signal.raise_signal(signal.SIGINT)
            raise UsageError("the assumptions failed")

        monkeypatch.setattr(plots, "total_posterior_plot", announced)
        monkeypatch.setattr("dnamodel.workflows.estimate.what_decides", failing)
        spec, data = QUILLMOOR / "models" / "dated.toml", QUILLMOOR / "data"
        argv = ["estimate", str(spec), "--data", str(data), "--out", "results/out", "--no-loo"]
        before = snapshot(home)
        code = main([*argv, "--draws", "100", "--tune", "100", "--chains", "2", "--allow-bad-fit"])
        captured = capsys.readouterr()
        if failure == "ctrl-c":
            assert (code, captured.err) == (130, "dnamodel: interrupted (Ctrl-C); no partial result was written\n")
        else:
            assert (code, captured.err) == (2, "dnamodel: error: the assumptions failed\n")
        assert captured.out == ""
        assert snapshot(home) == before
        assert not [t.name for t in threading.enumerate() if t.name.startswith("dnamodel-outputs")]

    def test_sigint_sent_to_a_process_mid_sampling(self, home):
        """A real SIGINT from outside, as a terminal sends it, once the process has started to sample."""
        script = (
            "import sys, nutpie\n"
            "real = nutpie.sample\n"
            "def announced(*args, **kwargs):\n"
            "    print('sampling', file=sys.stderr, flush=True)\n"
            "    return real(*args, **kwargs)\n"
            "nutpie.sample = announced\n"
            "from dnamodel.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n"
        )
        spec, data = QUILLMOOR / "models" / "dated.toml", QUILLMOOR / "data"
        argv = ["estimate", str(spec), "--data", str(data), "--out", "results/out", "--no-loo"]
        argv += ["--draws", "500000", "--chains", "2"]
        before = snapshot(home)
        process = subprocess.Popen(
            [sys.executable, "-c", script, *argv], cwd=home, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            assert line == "sampling\n", line + process.stderr.read()
            # 500,000 draws a chain take minutes: a second after it starts, the signal arrives while nutpie
            # samples (on a machine slow to start its chains, just before: Ctrl-C mid-command all the same)
            time.sleep(1)
            os.kill(process.pid, signal.SIGINT)
            out, err = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 130, err
        assert out == ""
        assert err == "dnamodel: interrupted (Ctrl-C); no partial result was written\n"
        assert snapshot(home) == before
