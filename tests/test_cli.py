"""The dnamodel command: output forms, exit codes, and the export / --data round trip."""

import io
import json
import subprocess
import sys

import pytest
from rich.console import Console

from dnamodel import cli
from dnamodel.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_replicate_plain(capsys):
    code, out, err = run(capsys, "replicate")
    assert (code, err) == (0, "")
    for figure in ("32.3%", "43.9%", "94,588", "9.9%", "23,654", "1.18 million", "2.48 million", "801,040",
                   "1,088,720", "118,242", "919,282", "1,206,962", "25.1%", "32.9%"):  # fmt: skip
        assert figure in out
    assert "All 22 figures equal the report's to the last printed digit." in out
    assert "917,240 (25.06%) and 1,203,325 (32.88%)" in out
    assert "truncated; rounding would print 10.0%" in out
    assert "\x1b[" not in out  # plain text when piped: no terminal codes


def test_replicate_on_a_terminal_draws_rich_tables(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(cli, "console", lambda: Console(file=stream, force_terminal=True, width=220))
    assert main(["replicate"]) == 0
    assert "┃" in stream.getvalue() or "│" in stream.getvalue()
    assert "919,282" in stream.getvalue()


def test_replicate_json(capsys):
    code, out, _ = run(capsys, "replicate", "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["all_match"] is True
    assert {step["id"]: step["shown"] for step in payload["steps"]}["share_high"] == "32.9%"


def test_audit_lists_disagreements_and_notes(capsys):
    code, out, _ = run(capsys, "audit")
    assert code == 0
    assert "67 checks, 50 agree, 11 disagree, 6 notes" in out
    assert out.count("[DISAGREES]") == 11
    assert out.count("[NOTE]") == 6
    assert "[agrees]" not in out
    assert "502 ÷ 6,225 = 8.0643%" in out


def test_audit_all_and_category(capsys):
    _, out, _ = run(capsys, "audit", "--all")
    assert out.count("[agrees]") == 50
    _, out, _ = run(capsys, "audit", "--category", "sources")
    assert out.count("[DISAGREES]") == 2
    assert "census:" not in out.split("\n\n", 1)[1].rsplit("Rounding:", 1)[0]


def test_audit_json(capsys):
    _, out, _ = run(capsys, "audit", "--json")
    payload = json.loads(out)
    assert payload["counts"] == {"agrees": 50, "disagrees": 11, "note": 6}


def test_data_check(capsys):
    code, out, _ = run(capsys, "data", "check")
    assert code == 0
    assert "The bundled data are valid" in out
    assert "77 units in 7 prefectures of Tibet Autonomous Region (TAR; id tibet), 3,648,100 residents" in out
    _, out, _ = run(capsys, "data", "check", "--json")
    assert json.loads(out)["units"] == 77


def test_export_then_data_gives_identical_results(capsys, tmp_path):
    folder = tmp_path / "edit-me"
    code, out, _ = run(capsys, "data", "export", str(folder))
    assert code == 0
    assert "Wrote 6 files" in out
    for command in ("replicate", "audit"):
        _, bundled, _ = run(capsys, command, "--json")
        _, exported, _ = run(capsys, command, "--json", "--data", str(folder))
        bundled_payload, exported_payload = json.loads(bundled), json.loads(exported)
        assert exported_payload["provenance"]["data_location"] == str(folder)
        for payload in (bundled_payload, exported_payload):
            del payload["provenance"]["data_location"]
        assert exported_payload == bundled_payload


def test_export_refuses_to_overwrite(capsys, tmp_path):
    assert main(["data", "export", str(tmp_path)]) == 0
    code, _, err = run(capsys, "data", "export", str(tmp_path))
    assert code == 2
    assert "pass --force to replace them" in err
    assert run(capsys, "data", "export", str(tmp_path), "--force")[0] == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["estimat"], "invalid choice: 'estimat'"),
        (["audit", "--category", "bogus"], "invalid choice: 'bogus'"),
        (["replicate", "--draws", "10"], "unrecognized arguments: --draws 10"),
        (["replicate", "--data", "/nonexistent/folder"], "/nonexistent/folder: no such folder"),
        (["data"], "the following arguments are required: ACTION"),
    ],
)
def test_usage_errors_exit_2_without_traceback(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert words in err
    assert err.startswith("dnamodel: error:")
    assert "Traceback" not in err
    assert out == ""


def test_help_for_each_command(capsys):
    for argv in (["--help"], ["replicate", "--help"], ["audit", "--help"], ["data", "export", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
        assert "usage: dnamodel" in capsys.readouterr().out


def test_console_script_runs_as_a_module():
    completed = subprocess.run(
        [sys.executable, "-m", "dnamodel", "replicate"], capture_output=True, text=True, check=False, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert "1,206,962" in completed.stdout
    completed = subprocess.run(
        [sys.executable, "-m", "dnamodel", "replicate", "--data", "/nonexistent"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
