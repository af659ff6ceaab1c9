"""What the command line gives scripts and authors (issue 25, items 2 to 4): a versioned JSON, the page as
PDF, and progress on a terminal.

Every ``--json`` output any test prints is validated against its command's shipped JSON Schema
(``tests/conftest.py``); here each command runs once with ``--json`` on the example programme at
reduced draws, so that every schema is exercised, and each schema is shown to refuse what it should.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

import dnamodel
from dnamodel.cli import main
from dnamodel.cli.common import SCHEMAS, json_schema, schema_id

ROOT = Path(__file__).resolve().parent.parent
QUILLMOOR = Path(dnamodel.example_path("quillmoor"))
SPEC, DATA = str(QUILLMOOR / "models" / "dated.toml"), str(QUILLMOOR / "data")
REDUCED = ["--draws", "100", "--tune", "100", "--chains", "2"]


@pytest.fixture(scope="module")
def fit(tmp_path_factory) -> Path:
    """The example's dated model, estimated with its leave-one-out and forecasts at reduced draws."""
    out = tmp_path_factory.mktemp("fit")
    assert main(["estimate", SPEC, "--data", DATA, "--out", str(out), *REDUCED, "--allow-bad-fit", "--json"]) == 0
    return out / "quillmoor_dated.nc"


def run_json(capsys, *argv: str, code: int | None = 0) -> dict:
    """Run a command with --json; its exit status is ``code`` (any, for ``None``)."""
    status = main([*argv, "--json"])
    assert code is None or status == code
    captured = capsys.readouterr()
    return json.loads(captured.out)


# --- the schemas ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(SCHEMAS))
def test_each_schema_ships_with_the_package_and_is_a_schema(command):
    schema = json_schema(command)
    Draft202012Validator.check_schema(schema)
    branches = schema.get("oneOf", [schema])  # replicate and audit: their result, or `skipped` alone
    assert [b["properties"]["schema"]["const"] for b in branches] == [schema_id(command)] * len(branches)
    assert all("schema" in b["required"] for b in branches)
    assert resources.files("dnamodel.cli").joinpath("schemas", f"{command}.json").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"cli/schemas/*.json"' in pyproject  # package data, so a wheel carries them


def test_every_schema_is_listed_in_the_changelog():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    for command in SCHEMAS:
        assert f"`{schema_id(command)}`" in changelog, command


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["replicate"], "replicate"),
        (["audit"], "audit"),
        (["replicate", "--data", DATA], "replicate"),  # skipped: another programme's data
        (["audit", "--data", DATA], "audit"),
        (["mc", "report_uniform", "--draws", "10000", "--sensitivity", "--sensitivity-draws", "1024"], "mc"),
        (["data", "check"], "data-check"),
        (["data", "check", "--data", DATA], "data-check"),
    ],
)
def test_the_quick_commands_carry_their_schema(capsys, argv, command):
    assert run_json(capsys, *argv)["schema"] == schema_id(command)


def test_the_commands_that_fit_carry_their_schema(fit, tmp_path, capsys):
    """estimate (the fixture), report, compare, forecast-check and sweep: each validated as it prints."""
    report = run_json(
        capsys, "report", "--from", str(fit), "--data", DATA, "--out", str(tmp_path / "r.html"), "--no-sweeps",
        "--allow-bad-fit",
    )  # fmt: skip
    assert report["schema"] == "dnamodel.report/1"
    assert report["pdf"] is None
    assert sorted(Path(p).name for p in report["tables"]) == ["r_tables.md", "r_tables.tex"]
    compared = run_json(capsys, "compare", str(fit), "--data", DATA, "--out", str(tmp_path / "c"))
    assert compared["schema"] == "dnamodel.compare/2"
    assert sorted(Path(p).name for p in compared["files"]) == ["compare.csv", "compare.nc", "compare.png"]
    forecasts = run_json(capsys, "forecast-check", SPEC, "--data", DATA, "--no-compare", "--draws", "100", code=None)
    assert forecasts["schema"] == "dnamodel.forecast-check/2"
    swept = run_json(
        capsys, "sweep", SPEC, "--data", DATA, "--set", "fraction.unreported_offset=0,-1", *REDUCED,
        "--out", str(tmp_path / "s.nc"), "--allow-bad-fit", "--threads", "1",
    )  # fmt: skip
    assert swept["schema"] == "dnamodel.sweep/3"
    assert len(swept["sweeps"][0]["points"]) == 2
    ranked = run_json(
        capsys, "voi", "--from", str(fit), "--data", DATA, "--out", str(tmp_path), "--simulations", "20",
    )  # fmt: skip
    assert ranked["schema"] == "dnamodel.voi/1"
    assert ranked["fit"] == str(fit)


@pytest.mark.parametrize(
    ("command", "change", "words"),
    [
        ("data-check", lambda p: p.update(valid=False), "True was expected"),
        ("data-check", lambda p: p.pop("units"), "'units' is a required property"),
        ("data-check", lambda p: p.update(schema="dnamodel.data-check/1"), "'dnamodel.data-check/2' was expected"),
        ("replicate", lambda p: p.pop("steps"), "is not valid under any of the given schemas"),
        ("mc", lambda p: p["variables"]["total"].pop("quantiles"), "'quantiles' is a required property"),
    ],
)
def test_a_payload_of_another_shape_is_refused(capsys, command, change, words):
    argv = {"data-check": ["data", "check"], "replicate": ["replicate"], "mc": ["mc", "report_uniform"]}[command]
    payload = run_json(capsys, *argv, *(["--draws", "10000"] if command == "mc" else []))
    change(payload)
    with pytest.raises(ValidationError, match=re.escape(words)):
        Draft202012Validator(json_schema(command)).validate(payload)


# --- the page as PDF ------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_prints_the_page_as_pdf(fit, tmp_path, capsys):
    if CHROMIUM is None:
        if os.environ.get("DNAMODEL_REQUIRE_BROWSER") == "1":
            pytest.fail("DNAMODEL_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH: install Debian's chromium to print the report")
    target = tmp_path / "report.html"
    argv = ["report", "--from", str(fit), "--data", DATA, "--out", str(target), "--no-sweeps", "--pdf"]
    payload = run_json(capsys, *argv, "--allow-bad-fit")
    pdf = tmp_path / "report.pdf"
    assert payload["pdf"] == str(pdf)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page" in content or b"/Type/Page" in content


@pytest.mark.parametrize("missing", ["chromium", "playwright"])
def test_without_a_printer_it_says_how_to_install_one_before_any_work(tmp_path, capsys, monkeypatch, missing):
    if missing == "chromium":
        monkeypatch.setattr(shutil, "which", lambda name: None)
        words = "--pdf: no Chromium on the PATH; install Playwright (pip install playwright) and a Chromium"
    else:
        monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # an import of it fails
        words = "--pdf: Playwright is not installed; install Playwright (pip install playwright)"
    monkeypatch.delenv("DNAMODEL_CHROMIUM", raising=False)

    def no_fit(*args, **kwargs):
        raise AssertionError("a fit started: the error must come before it")

    monkeypatch.setattr("dnamodel.cli.fits.run_estimate", no_fit)
    assert main(["report", "--results", str(tmp_path / "r"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dnamodel: error: {words}"), err
    assert "apt-get install chromium" in err
    assert not (tmp_path / "r").exists()


# --- progress on a terminal -----------------------------------------------------------------------------


def on_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")  # each line whole, as a terminal that wide shows it


@pytest.mark.parametrize(
    ("terminal", "enabled", "shown"), [(True, True, True), (False, True, False), (True, False, False)]
)
def test_the_status_line_is_drawn_on_a_terminal_only(monkeypatch, capsys, terminal, enabled, shown):
    """A spinner on standard error when both streams are a terminal and --json is not given; else nothing."""
    from dnamodel.cli.fits import _status_line

    if terminal:
        on_a_terminal(monkeypatch)
    with _status_line(enabled=enabled) as status:
        assert (status is not None) == shown
        if status is not None:
            status("Fitting something")
    err = capsys.readouterr().err
    if not shown:
        assert err == ""  # piped, or --json: nothing on standard error


@pytest.mark.parametrize("cited", [True, False])
def test_the_status_line_shows_the_estimate_once_the_fit_is_summarised(cited):
    """While the checks and the refits run, a reader sees the figure, rounded as the sentence rounds it."""
    from types import SimpleNamespace

    from dnamodel.workflows.estimate import _with_estimate

    interval = SimpleNamespace(low=803_158.0, high=1_667_351.0)
    total = SimpleNamespace(median=1_105_709.0, interval=lambda prob: interval)
    summary = SimpleNamespace(total=total, sentence="To cite: ..." if cited else None)
    lines: list[str] = []
    _with_estimate(lines.append, summary, "checking it")("Leave-one-out: 12 refits")
    if cited:
        assert lines == ["Estimate 1,100,000 (90%: 800,000 to 1,700,000); checking it: Leave-one-out: 12 refits"]
    else:  # gates withhold the sentence: no figure to show
        assert lines == ["Leave-one-out: 12 refits"]


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("compare", ["Reading ", "(1 of 1)", "Writing the comparison"]),
        ("forecast-check", ["Forecasts of quillmoor_dated: 1 refit on what was published by a date"]),
        ("report", ["Drawing the report of "]),
    ],
)
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_long_commands_say_each_step_unless_json(fit, tmp_path, capsys, monkeypatch, command, words, json_flag):
    """What each long command hands its status line (a spinner draws only lines that outlast its refresh)."""
    argv = {
        "compare": ["compare", str(fit), "--data", DATA, "--out", str(tmp_path / "c")],
        "forecast-check": ["forecast-check", SPEC, "--data", DATA, "--no-compare", "--draws", "100"],
        "report": ["report", "--from", str(fit), "--data", DATA, "--out", str(tmp_path / "r.html"), "--no-sweeps"],
    }[command]
    lines: list[str] = []

    @contextlib.contextmanager
    def recorded(*, enabled):
        yield lines.append if enabled else None

    monkeypatch.setattr("dnamodel.cli.fits._status_line", recorded)
    main([*argv, *json_flag])
    capsys.readouterr()
    shown = [w for w in words if any(w in line for line in lines)]
    assert shown == ([] if json_flag else words), lines


def test_compare_and_forecast_check_say_each_step(fit):
    """The lines the spinner shows, in order (a spinner draws only the lines that last past its refresh)."""
    from dnamodel.workflows.estimate import run_forecast_check

    data = dnamodel.load_data(DATA)
    lines: list[str] = []
    dnamodel.compare([fit], data=data, status=lines.append)
    assert lines == [f"Reading {fit} (1 of 1)"]
    lines.clear()
    spec = dnamodel.load_model(SPEC)
    run_forecast_check(spec, data, draws=100, status=lines.append)
    assert lines == ["Forecasts of quillmoor_dated: 1 refit on what was published by a date"]


@pytest.mark.parametrize("where", ["terminal", "piped", "json"])
def test_a_sweep_counts_its_points_on_a_terminal_only(tmp_path, capsys, monkeypatch, where):
    from dnamodel.cli import sweeps

    calls: list[tuple[int, int]] = []
    drawn = sweeps._progress

    def recorded(title):
        bar = drawn(title)
        if bar is None:
            return None

        def update(done, total):
            calls.append((done, total))
            bar(done, total)

        return update

    monkeypatch.setattr(sweeps, "_progress", recorded)
    if where != "piped":
        on_a_terminal(monkeypatch)
    argv = ["sweep", SPEC, "--data", DATA, "--set", "fraction.unreported_offset=0,-1", *REDUCED]
    argv += ["--out", str(tmp_path / "s.nc"), "--allow-bad-fit", "--threads", "1"]
    assert main([*argv, *(["--json"] if where == "json" else [])]) == 0
    err = capsys.readouterr().err
    assert calls == ([(0, 2), (1, 2), (2, 2)] if where == "terminal" else [])
    if where != "terminal":
        assert err == ""


def test_a_long_cell_folds_in_plain_text_and_the_numbers_stay_on_its_first_line():
    """A parameter's meaning in the widths table is up to ~180 characters; printed plain, every row ran
    to the widest. A table that folds (the widths') folds it at WRAP, its numbers on its first line
    (where a grep finds the row); any other keeps its cells whole (data check's readings are grepped)."""
    import io

    from dnamodel.outputs.tables import WRAP, Table, console, render

    meaning = "log odds ratio of the covariate's group (Han share of residents, 2020 census) against the others"
    rows = [[meaning, "4.64", "0.84"], ["short", "3", "0.93"]]
    whole, stream = io.StringIO(), io.StringIO()
    render(console(whole), Table("Widths", ["", "prior>", "ratio>"], rows))  # a table that does not fold
    assert whole.getvalue().splitlines()[3].split()[-2:] == ["4.64", "0.84"]
    assert meaning in whole.getvalue()
    render(console(stream), Table("Widths", ["", "prior>", "ratio>"], rows, wrap=WRAP))
    _title, _header, rule, *body = stream.getvalue().splitlines()[:6]
    assert len(rule) == WRAP + 2 + len("prior") + 2 + len("ratio")
    assert body[0].split()[-2:] == ["4.64", "0.84"]
    assert body[1].rstrip() == body[1][:WRAP].rstrip()  # the fold carries no numbers
    assert " ".join(line[:WRAP].strip() for line in body[:2]) == meaning
    assert body[2].split() == ["short", "3", "0.93"]
