"""Another programme's data meet no trace of the case study (issue 23): defaults from the data, its words.

A command given no model fits the model the data's ``study.toml`` names (``[models] default``), and
with none says in one line which spec to name; every word a command prints about the data comes
from the study. The slow end-to-end runs of both shipped examples are ``tests/test_example.py``'s.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from dnamodel.cli import main
from dnamodel.data import example_path, load_data
from dnamodel.workflows.compare import compare

QUILLMOOR = example_path("quillmoor")
REDUCED = ["--draws", "100", "--tune", "100", "--chains", "2"]


def case_study_words() -> re.Pattern[str]:
    """The words no output on another programme's data may hold (``tests/test_example.py`` keeps the list)."""
    from tests.test_example import case_study_words as words

    return words()


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the Quillmoor example's folder (data/, models/, sweeps/), for a test to edit."""
    target = tmp_path / "quillmoor"
    shutil.copytree(QUILLMOOR, target)
    return target


def _without_models(folder: Path) -> Path:
    study = folder / "data" / "study.toml"
    text = study.read_text(encoding="utf-8")
    start = text.index("[models]")
    study.write_text(text[:start] + text[text.index("[columns]") :], encoding="utf-8")
    return folder / "data"


# --- defaults come from the data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["estimate"], "`dnamodel estimate SPEC --data DATA`"),
        (["report"], "`dnamodel report SPEC --data DATA`"),
        (["forecast-check"], "`dnamodel forecast-check SPEC --data DATA`"),
        (["sweep", "--shipped"], "`dnamodel sweep --shipped SPEC --data DATA`"),
        (["compare"], "`dnamodel compare SPEC [SPEC ...] --data DATA`"),
    ],
)
def test_without_a_default_a_command_says_which_spec_to_name_in_one_line(example, capsys, argv, named):
    data = _without_models(example)
    out = example / "results"
    extra = {"report": ["--results", str(out)], "forecast-check": []}.get(argv[0], ["--out", str(out)])
    assert main([*argv, "--data", str(data), *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "name a spec" in lines[0] or "name the specs" in lines[0]
    assert named.replace("DATA", str(data)) in lines[0]
    assert "Traceback" not in captured.err
    assert not case_study_words().search(captured.err + captured.out)
    assert not out.exists()


def test_a_command_without_a_model_fits_the_datas_default(example, capsys):
    data = example / "data"
    argv = ["estimate", "--data", str(data), "--out", str(example / "results"), *REDUCED, "--no-loo"]
    assert main([*argv, "--allow-bad-fit", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["summary"]["model"] == "quillmoor_dated"
    assert (example / "results" / "quillmoor_dated.nc").is_file()
    assert not case_study_words().search(captured.out + captured.err)


def test_the_models_a_study_names_are_relative_to_its_folder():
    data = load_data(QUILLMOOR / "data")
    assert data.study.models.default == "../models/dated.toml"
    assert Path(data.model(data.study.models.default)).resolve() == (QUILLMOOR / "models" / "dated.toml").resolve()
    bundled = load_data()
    assert (bundled.study.models.default, bundled.study.models.forecast_compare) == ("dated", "hierarchical_han")
    assert bundled.model("dated") == "dated"


def test_a_default_that_names_no_spec_is_named_with_its_key(example, capsys):
    study = example / "data" / "study.toml"
    study.write_text(study.read_text(encoding="utf-8").replace("../models/dated.toml", "../models/datd.toml", 1))
    assert main(["estimate", "--data", str(example / "data"), "--out", str(example / "results")]) == 2
    err = capsys.readouterr().err
    assert "study.toml, key 'models.default' ('../models/datd.toml')" in err
    assert "no such spec file" in err
    assert "did you mean 'dated.toml'" in err
    assert not case_study_words().search(err)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ('default = "Dated Model"', "must be a shipped model's name"),
        ("default = 3", "must be a string, got the number 3"),
        ('compare = "dated"', "models.compare"),
        ('defualt = "dated"', "did you mean 'default'"),
    ],
)
def test_a_studys_models_are_checked(example, entry, words):
    study = example / "data" / "study.toml"
    text = study.read_text(encoding="utf-8")
    start, end = text.index("[models]"), text.index("[columns]")
    study.write_text(text[:start] + f"[models]\n{entry}\n\n" + text[end:], encoding="utf-8")
    with pytest.raises(Exception, match=re.escape(words)) as caught:
        load_data(example / "data")
    assert "study.toml" in str(caught.value)


def test_forecast_check_without_a_comparison_model_says_so(example, capsys):
    code = main(["forecast-check", "--data", str(example / "data"), "--draws", "100"])
    captured = capsys.readouterr()
    assert code in (0, 3)  # 3: a forecast outside its interval at these draws
    assert "No comparison model: the data name none" in captured.out
    assert not case_study_words().search(captured.out + captured.err)


def test_compare_from_python_takes_the_studys_models(example):
    data = load_data(_without_models(example))
    with pytest.raises(Exception, match=re.escape("names no models to compare ([models] compare)")):
        compare(data=data)


def test_a_spec_file_that_is_not_there_suggests_its_folders_specs_not_the_shipped_ones(capsys):
    assert main(["estimate", str(QUILLMOOR / "models" / "datd.toml"), "--data", str(QUILLMOOR / "data")]) == 2
    err = capsys.readouterr().err
    assert "no such spec file" in err
    assert "did you mean 'dated.toml'" in err
    assert not case_study_words().search(err)


# --- gates behave as documented ----------------------------------------------------------------------------


def _noisy_fit(data, draws: int = 150):
    """A synthetic fit whose chains agree (every convergence gate passes) but whose total is too noisy to round."""
    import arviz as az

    from dnamodel import dims

    rng = np.random.default_rng(23)
    population = np.array([data.areas[g].population for g in data.groups], dtype=float)
    by_group = population * rng.lognormal(np.log(0.3), 0.6, size=(4, draws, len(population)))
    total = by_group.sum(axis=-1)
    return az.from_dict(
        posterior={"total": total, "share": total / population.sum(), "group_total": by_group},
        sample_stats={"diverging": np.zeros((4, draws), dtype=bool)},
        coords={dims.GROUP: list(data.groups)},
        dims={"group_total": [dims.GROUP]},
        attrs={"model": "synthetic", "target_accept": 0.9},
    )


def test_a_sentence_withheld_for_monte_carlo_error_exits_3_saying_how_many_draws_would_pass(capsys):
    from argparse import Namespace

    from dnamodel.checks.summary import MCSE_GATE, draws_to_pass, significant_step, summarize_fit
    from dnamodel.cli.fits import _gated

    data = load_data(QUILLMOOR / "data")
    summary = summarize_fit(_noisy_fit(data), data)
    assert summary.diagnostics.passed  # the convergence gates hold
    assert summary.sentence is None
    assert not summary.cited
    assert "Monte Carlo error" in summary.withheld
    ratio = summary.total.mcse_median / (MCSE_GATE * significant_step(summary.total.median))
    needed = re.search(r"about ([\d,]+) draws per chain", summary.advice)
    assert needed is not None, summary.advice
    assert int(needed[1].replace(",", "")) >= draws_to_pass(ratio, 150) >= 150
    assert _gated(summary, Namespace(allow_bad_fit=False)) == 3
    err = capsys.readouterr().err
    assert err.startswith("dnamodel: error: no sentence to cite: the Monte Carlo error of")
    assert "draws per chain (--draws, or the spec's [sampler] draws; now 150)" in err
    assert _gated(summary, Namespace(allow_bad_fit=True)) == 0


def test_draws_to_pass_grows_with_the_square_of_the_error():
    from dnamodel.checks.summary import draws_to_pass

    assert draws_to_pass(2.0, 1000) == 5000  # four times the draws, a fifth more, to 500
    assert draws_to_pass(1.0, 1000) == 1500
    assert draws_to_pass(1.01, 4000) % 500 == 0


def test_divergences_name_the_spec_key_and_the_model_cards_section():
    from dnamodel.checks.gates import Diagnostics
    from dnamodel.checks.summary import gate_advice
    from dnamodel.families.dated import DatedFamily
    from dnamodel.families.hierarchical import HierarchicalFamily

    diverged = Diagnostics(12, 1000, 4, 1.002, "alpha", 800.0, 900.0, (), ("12 divergent transitions (gate: 0)",))
    advice = gate_advice(diverged, {"target_accept": 0.95}, DatedFamily.sampling_section)
    assert "raise the spec's [sampler] target_accept from 0.95" in advice
    assert "model card 5.9" in advice
    assert HierarchicalFamily.sampling_section == "4.9"
    slow = Diagnostics(0, 300, 2, 1.05, "alpha", 120.0, 90.0, (), ("R-hat 1.050 for alpha (gate: ≤ 1.01)",))
    assert "draw more" in gate_advice(slow, {}, "5.9")
    assert "target_accept" not in gate_advice(slow, {}, "5.9")


# --- data check shows each figure's reading ------------------------------------------------------------------

MARAVEL = example_path("maravel")


def test_data_check_verbose_shows_how_each_printed_figure_is_read(capsys):
    assert main(["data", "check", "--data", str(MARAVEL / "data"), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "14 units in 5 counties of Maravel (an invented republic; id maravel), 1,307,300 residents" in out
    assert "How each printed figure is read" in out
    for words in (
        "a value a little under 110,000: from 99,000 to 110,000 (width 10%)",
        "a value, one in five (20%), with its reporting error",
        "a value, about 60,000, with its reporting error",
        "a lower bound: the true figure is at least 400,000",
        "a value from 80,000 to 110,000, the range as its 90% interval",
    ):
        assert words in out
    assert "default ../models/dated.toml" in out
    assert not case_study_words().search(out)
    assert main(["data", "check", "--data", str(MARAVEL / "data")]) == 0
    assert "8 printed figures: --verbose shows how each is read." in capsys.readouterr().out


def test_data_check_json_carries_each_reading(capsys):
    assert main(["data", "check", "--data", str(MARAVEL / "data"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    readings = {r["id"]: r for r in payload["readings"]}
    nearly = readings["ashford_scans_2021"]
    assert (nearly["meaning"], nearly["low"], nearly["high"]) == ("under", 99_000.0, 110_000.0)
    assert readings["calder_coverage_2019"]["meaning"] == "value"
    assert readings["nation_scans_2022"]["meaning"] == "lower"
    assert payload["groups"] == 5
    assert payload["region_population"] == 1_307_300
    assert payload["models"]["default"] == "../models/dated.toml"
    assert "prefectures" not in payload
    assert "region_population_2020" not in payload


def test_data_check_refuses_a_model_the_study_names_that_is_not_there(example, capsys):
    study = example / "data" / "study.toml"
    study.write_text(study.read_text(encoding="utf-8").replace('"../models/dated_no_groups.toml"', '"nothere.toml"'))
    assert main(["data", "check", "--data", str(example / "data")]) == 2
    err = capsys.readouterr().err
    assert "study.toml, field 'models.compare[1]'" in err
    assert f"no such spec file: '{example / 'data' / 'nothere.toml'}'" in err
    assert "Traceback" not in err


def test_the_readmes_readings_are_data_checks_own(capsys):
    """README's "Your own programme" shows Maravel's readings as `data check --verbose` prints them."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    shown = readme.split("the same as `readings`); for Maravel:", 1)[1].split("```")[1].strip().splitlines()
    assert main(["data", "check", "--data", str(MARAVEL / "data"), "--verbose"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(shown) == 10
    assert [line for line in shown if line.rstrip() not in [o.rstrip() for o in out]] == []


def test_ci_runs_both_examples_and_searches_their_outputs():
    """Issue 23: CI runs each shipped example end to end and searches every output for the case study's words."""
    root = Path(__file__).parent.parent
    script = (root / ".ci" / "examples").read_text(encoding="utf-8")
    assert ".ci/examples" in (root / ".ci" / "run").read_text(encoding="utf-8")
    assert "for example in quillmoor maravel" in script
    for command in ("data check", "estimate", "sweep", "report", "compare", "forecast-check"):
        assert f" {command} " in script, command
    for word in ("Tibet", "prefecture", "thesis", "Han", "Citizen Lab", "units.csv", "areas.csv"):
        assert word in script, word
