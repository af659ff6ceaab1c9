"""The example programme (Quillmoor, an invented province) from the command line, end to end.

The engine is run on data and specs that are not the case study's: ``data check``, ``mc``,
``estimate``, ``report`` and a two-point ``sweep``, each as a user runs it (the ``dnamodel``
command, in a folder written by ``dnamodel data export --example``). Every gate must pass, and no
output (stdout, CSV, JSON, HTML, the figures' titles and captions) may name the case study's
region or places. Bad specs and data are refused before any fit, with exit 2 and nothing written.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dnamodel
from dnamodel.cli import main
from dnamodel.spec.dated import resolve_dated

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "dnamodel" / "examples" / "quillmoor"
COMMAND = Path(sys.executable).parent / "dnamodel"


def case_study_words() -> re.Pattern[str]:
    """Tibet and the ids and names of the bundled units and areas, as whole words."""
    names = {"Tibet"}
    for file in ("units.csv", "areas.csv"):
        with (ROOT / "dnamodel" / "data" / "bundled" / file).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                names |= {row["id"], row["name"].split(" (")[0]}
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, ordered)) + r")(?![A-Za-z0-9])", re.IGNORECASE)


def run(folder: Path, *args: str) -> tuple[int, str, str, float]:
    begin = time.perf_counter()
    done = subprocess.run([str(COMMAND), *args], cwd=folder, capture_output=True, text=True, timeout=900, check=False)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - begin


def png_text(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as image:
        return " ".join(str(v) for v in getattr(image, "text", {}).values())


@pytest.mark.slow
def test_the_example_runs_end_to_end_in_its_own_words(tmp_path):
    """About 150 s: the estimate's fit, its eleven refits and the twelve refits of its assumptions take most of it."""
    timings: dict[str, float] = {}
    code, out, err, timings["data export"] = run(tmp_path, "data", "export", "quillmoor", "--example", "quillmoor")
    assert code == 0, err
    folder = tmp_path / "quillmoor"
    assert (folder / "data" / "study.toml").is_file()
    outputs: list[str] = [out]

    code, out, err, timings["data check"] = run(folder, "data", "check", "--data", "data", "--json")
    assert code == 0, err
    checked = json.loads(out)
    assert checked["region"] == "quillmoor"
    assert checked["case_study"] is False
    assert "urban_share_2021" in checked["columns"]
    outputs.append(out)
    code, out, err, _ = run(folder, "data", "check", "--data", "data")
    outputs.append(out)

    code, out, err, timings["mc"] = run(folder, "mc", "models/mc.toml", "--data", "data", "--draws", "200000")
    assert code == 0, err
    assert "Biometric records taken in Quillmoor" in out
    assert "Against earlier estimates (invented)" in out
    outputs.append(out)

    argv = ["estimate", "models/dated.toml", "--data", "data", "--out", "results"]
    code, out, err, timings["estimate"] = run(folder, *argv, "--json")
    assert code == 0, err  # exit 3 if a gate failed
    estimate = json.loads(out)
    summary = estimate["summary"]
    assert summary["diagnostics"]["passed"]
    assert summary["sentence"].startswith("Under the Bayesian model quillmoor_dated")
    assert "the Quillmoor constabulary had taken biometric records from an estimated" in summary["sentence"]
    assert [e["label"] for e in summary["exceedance"]] == [
        "ministry, 2023",
        "one hundred thousand",
        "advocacy group, 2024",
    ]
    low, high = summary["total"]["intervals"][2]["low"], summary["total"]["intervals"][2]["high"]
    assert low < 115_505 < high  # the truth the figures were made from (README.md), inside the 90% interval
    assert len(estimate["leave_one_out"]) == 10
    # issue 20: what decides the figure, from the example's own spec and data, in its own words
    spec = dnamodel.load_model(str(folder / "models" / "dated.toml"))
    inputs = resolve_dated(spec, dnamodel.load_data(folder / "data"))
    assert estimate["assumptions"]["computed"]
    names = {c["name"] for c in estimate["assumptions"]["candidates"]}
    assert {Path(p).stem for p in spec.assumption_sweeps} <= names
    assert estimate["decisive_sentence"]
    assert [r["value"] for r in estimate["total_by_fixed"]["rows"]] == [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    robust = estimate["robust_range"]
    assert robust[0] <= low
    assert robust[1] >= high
    assert estimate["after_last_regionwide"]["date"] == inputs.last_regionwide_label
    assert {w["quantity"] for w in estimate["prior_widths"]} >= {"total", "typed_share"}
    outputs.append(out)

    fit = "results/quillmoor_dated.nc"
    code, out, err, timings["report"] = run(
        folder, "report", "--from", fit, "--data", "data", "--out", "results/report.html", "--no-sweeps", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["passed"]
    html = (folder / "results" / "report.html").read_text(encoding="utf-8")
    # the case study is an application on top: on other data the report has none of its parts, not even a note
    assert "Citizen Lab" not in html
    assert "Audit of the report" not in html
    assert "5. By district" in html
    assert "What decides it" in html  # the refits estimate cached in results/, read again
    outputs += [out, html]

    code, out, err, timings["sweep"] = run(
        folder, "sweep", "sweeps/rate.toml", "--data", "data", "--out", "results/rate.nc"
    )
    assert code == 0, err
    assert "0.6" in out
    assert "0.9" in out
    outputs.append(out)

    files = sorted((folder / "results").glob("*"))
    outputs += [p.read_text(encoding="utf-8") for p in files if p.suffix in (".csv", ".json", ".html")]
    outputs += [png_text(p) for p in files if p.suffix == ".png"]
    hits = sorted({m.group(0) for text in outputs for m in case_study_words().finditer(text)})
    assert hits == []
    print("example timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


def _spec_with(tmp_path: Path, old: str, new: str) -> Path:
    """The example's spec edited, in a copy of its folder layout (its [assumptions] sweeps are ../sweeps/)."""
    text = (EXAMPLE / "models" / "dated.toml").read_text(encoding="utf-8")
    assert old in text
    shutil.copytree(EXAMPLE / "sweeps", tmp_path / "sweeps")
    path = tmp_path / "models" / "dated.toml"
    path.parent.mkdir()
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (
            'value = "greyvale_records_2021"',
            'value = "greyvale_records_2012"',
            "no observation 'greyvale_records_2012'",
        ),
        ('units = ["greyvale"]', 'units = ["greyvail"]', "unknown unit or area 'greyvail'; did you mean 'greyvale'?"),
        (
            'covariate = "urban_share_2021"',
            'covariate = "name"',
            "'name' is not a numeric column of units.csv",
        ),
    ],
)
def test_a_dated_spec_that_does_not_fit_the_data_is_refused_at_once(tmp_path, capsys, monkeypatch, old, new, words):
    """Refused before any sampling: each sampler entry the estimate could reach raises if it is called."""
    from dnamodel.families import dated as dated_family
    from dnamodel.inference import dated as dated_inference

    def never(*args, **kwargs):
        raise AssertionError("estimate sampled a spec it should have refused first")

    monkeypatch.setattr(dated_inference, "sample_packed", never)  # fit_dated's nutpie sampler
    monkeypatch.setattr(dated_inference, "sample_twin", never)  # fit_dated's PyMC fallback
    monkeypatch.setattr(dated_family, "sample_packed", never)  # a sweep point's refit (the assumptions')
    spec = _spec_with(tmp_path, old, new)
    out = tmp_path / "results"
    code = main(["estimate", str(spec), "--data", str(EXAMPLE / "data"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert "Traceback" not in err
    assert "sampled a spec" not in err
    assert not out.exists()


def test_a_unit_of_the_study_without_a_label_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for path in (EXAMPLE / "data").iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    study = data / "study.toml"
    study.write_text(
        study.read_text(encoding="utf-8").replace('urban_share_2021 = "', 'urban_shares = "'), encoding="utf-8"
    )
    assert main(["mc", str(EXAMPLE / "models" / "mc.toml"), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "units.csv, row 1, field 'urban_share_2021': unknown column" in err
    assert "needs a label in study.toml's [columns]" in err


def test_the_example_ships_with_the_package_and_exports(tmp_path):
    from dnamodel.data import examples, export_data

    assert examples() == ["maravel", "quillmoor"]
    written = export_data(tmp_path, example="quillmoor")
    assert {p.relative_to(tmp_path).as_posix() for p in written} >= {
        "README.md",
        "data/units.csv",
        "data/areas.csv",
        "data/observations.csv",
        "data/study.toml",
        "models/dated.toml",
        "models/mc.toml",
        "sweeps/rate.toml",
    }
    assert os.path.realpath(ROOT / "examples" / "quillmoor") == os.path.realpath(EXAMPLE)


@pytest.mark.parametrize("command", ["replicate", "audit"])
def test_the_case_study_is_skipped_in_one_line_on_other_data(capsys, command):
    assert main([command, "--data", str(EXAMPLE / "data")]) == 0
    out, err = capsys.readouterr()
    assert out.strip().splitlines() == [
        "The replication and audit of Citizen Lab report No. 158 (Dirks 2022) are skipped: "
        "the data do not hold the report's figures."
    ]
    assert err == ""
    assert main([command, "--data", str(EXAMPLE / "data"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"].startswith("The replication and audit")


def test_a_spec_files_path_is_swept_as_a_model_with_set(tmp_path, capsys):
    """A spec's own file (not a sweep file) is a model to sweep, as a shipped model's name is."""
    spec = str(EXAMPLE / "models" / "dated.toml")
    out = tmp_path / "offset.nc"
    argv = ["sweep", spec, "--set", "fraction.unreported_offset=-1,0", "--data", str(EXAMPLE / "data")]
    code = main([*argv, "--out", str(out), "--draws", "100", "--tune", "100", "--chains", "2", "--allow-bad-fit"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "(quillmoor_dated)" in printed
    assert out.is_file()
    assert not case_study_words().search(printed)
