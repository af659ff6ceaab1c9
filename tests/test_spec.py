"""Model specs: the shipped ones load; bad ones get one error naming file, input and parameter."""

from pathlib import Path

import pytest

from dnamodel.cli import main
from dnamodel.errors import DataError, UsageError
from dnamodel.families import load_model
from dnamodel.spec import available_models
from dnamodel.spec.montecarlo import DISTRIBUTIONS, resolve

GOOD = """
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


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_models_load_and_resolve(data):
    assert available_models() == [
        "dated",
        "dated_exchangeable",
        "dated_linear",
        "dated_no_groups",
        "hierarchical_han",
        "hierarchical_pooled",
        "hierarchical_two_stratum",
        "report_mc",
        "report_uniform",
    ]
    for name in ("report_mc", "report_uniform"):
        spec = load_model(name)
        assert spec.name == name
        assert spec.hash.startswith("sha256:")
        resolved = resolve(spec, data)
        assert set(resolved) == set(spec.inputs)


def test_references_resolve_to_the_data(data):
    resolved = resolve(load_model("report_mc"), data)
    assert resolved["population"].params["values"] == [3_648_100.0, 3_660_000.0]
    assert resolved["lhasa_base"].params["values"] == [867_891.0, 950_000.0]
    assert resolved["zhagyab_later"].labels == ("Feb 2017 count only (report)", "with the further 7,952 of Jan 2018")
    uniform = resolve(load_model("report_uniform"), data)
    assert (uniform["rest_rate"].params["low"], uniform["rest_rate"].params["high"]) == (0.323, 0.439)


def test_load_by_path_and_hash_follows_the_text(tmp_path):
    spec = load_model(write(tmp_path, GOOD))
    assert spec.name == "toy"
    other = load_model(write(tmp_path, GOOD.replace("a toy", "another toy")))
    assert other.hash != spec.hash


def test_every_distribution_is_documented_in_the_model_card():
    card = (Path(__file__).parent.parent / "docs" / "model.md").read_text(encoding="utf-8")
    for name in DISTRIBUTIONS:
        assert f"`{name}`" in card, name


def problem(tmp_path, data, capsys, text, key, words, *, resolve_needed=False):
    """The spec fails with this problem (key and words), and `dnamodel mc` exits 2 naming it."""
    path = write(tmp_path, text)

    def load_and_resolve() -> None:
        spec = load_model(path)
        if resolve_needed:
            resolve(spec, data)

    with pytest.raises(DataError) as caught:
        load_and_resolve()
    located = [p for p in caught.value.problems if p.field == key and p.file == str(path)]
    assert located, caught.value
    assert words in located[0].message
    assert main(["mc", str(path), "--draws", "100"]) == 2
    err = capsys.readouterr().err
    assert f"{path}, field {key!r}" in err
    assert words in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        (
            'dist = "uniform"',
            'dist = "unifrom"',
            "inputs.rate.dist",
            "unknown distribution 'unifrom'; did you mean 'uniform'?",
        ),
        ("low = 0.2", "lwo = 0.2", "inputs.rate.lwo", "unknown key; did you mean 'low'?"),
        (
            'kind = "share"\nlow',
            'kind = "rate"\nlow',
            "inputs.rate.kind",
            "Input should be 'share', 'count' or 'number'",
        ),
        (
            'total = "population * rate"',
            'total = "populaton * rate"',
            "quantities.total",
            "unknown name 'populaton'; did you mean 'population'?",
        ),
        (
            'total = "population * rate"',
            "total = \"__import__('os')\"",
            "quantities.total",
            "only where, minimum, maximum may be called",
        ),
        ('total = "population * rate"', 'total = "population.real"', "quantities.total", "Attribute is not allowed"),
        ('total = "population * rate"', 'total = "population *"', "quantities.total", "not an expression"),
        ('share = "total / population"', "", "quantities.share", "missing: every model defines total and share"),
        ("[model]", "[modle]", "modle", "unknown table; did you mean 'model'?"),
    ],
)
def test_bad_spec(tmp_path, data, capsys, old, new, key, words):
    problem(tmp_path, data, capsys, GOOD.replace(old, new), key, words)


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ("low = 0.2", "low = 0.5", "inputs.rate.low", "must be below high (0.4), got 0.5"),
        (
            "high = 0.4",
            "high = 1.4",
            "inputs.rate.low",
            "a share's values must lie in [0, 1]; this input reaches [0.2, 1.4]",
        ),
        (
            'value = { observation = "tibet_population_2021" }',
            "value = -5",
            "inputs.population.value",
            "a count cannot be negative",
        ),
        (
            'value = { observation = "tibet_population_2021" }',
            'value = { observation = "tibet_populaton_2021" }',
            "inputs.population.value",
            "no observation 'tibet_populaton_2021'; did you mean 'tibet_population_2021'?",
        ),
        (
            'value = { observation = "tibet_population_2021" }',
            'value = { census = "lhorng" }',
            "inputs.population.value",
            "no census unit or area 'lhorng'; did you mean 'lhorong'?",
        ),
        (
            'dist = "uniform"\nkind = "share"\nlow = 0.2\nhigh = 0.4',
            'dist = "choice"\nkind = "share"\nvalues = [0.2, 0.4]\nweights = [0.5, 0.6]',
            "inputs.rate.weights",
            "must sum to 1, sum to 1.1",
        ),
        (
            'dist = "uniform"\nkind = "share"\nlow = 0.2\nhigh = 0.4',
            'dist = "normal"\nkind = "share"\nmean = 0.3\nsd = -0.1\nlower = 0\nupper = 1',
            "inputs.rate.sd",
            "must be above 0, got -0.1",
        ),
        (
            'dist = "uniform"\nkind = "share"\nlow = 0.2\nhigh = 0.4',
            'dist = "normal"\nkind = "share"\nmean = 0.3\nsd = 0.1',
            "inputs.rate.lower",
            "a share's values must lie in [0, 1]; this input reaches [-inf, inf]",
        ),
        (
            'dist = "uniform"\nkind = "share"\nlow = 0.2\nhigh = 0.4',
            'dist = "pert"\nkind = "share"\nlow = 0.2\nmode = 0.5\nhigh = 0.4',
            "inputs.rate.mode",
            "must lie in [low, high] = [0.2, 0.4], got 0.5",
        ),
    ],
)
def test_impossible_parameters(tmp_path, data, capsys, old, new, key, words):
    assert old in GOOD
    problem(tmp_path, data, capsys, GOOD.replace(old, new), key, words, resolve_needed=True)


def test_every_problem_at_once(tmp_path):
    text = GOOD.replace('dist = "uniform"', 'dist = "unifrom"').replace('total = "population * rate"', 'total = "x"')
    with pytest.raises(DataError) as caught:
        load_model(write(tmp_path, text))
    assert [p.field for p in caught.value.problems] == ["inputs.rate.dist", "quantities.total"]


def test_not_toml_and_unknown_model(tmp_path, capsys):
    with pytest.raises(DataError, match="not valid TOML"):
        load_model(write(tmp_path, "[model\nname="))
    with pytest.raises(UsageError, match="did you mean 'report_mc'"):
        load_model("report_mcc")
    assert main(["mc", "no_such_model"]) == 2
    assert "no model file or model named 'no_such_model'" in capsys.readouterr().err


# --- the dated spec: switching an observation off -------------------------------------------------


def _dated_with(tmp_path: Path, **use: bool) -> Path:
    text = (Path(__file__).parent.parent / "dnamodel" / "models" / "dated.toml").read_text(encoding="utf-8")
    for name, value in use.items():
        text = text.replace(f"[observations.{name}]\n", f"[observations.{name}]\nuse = {str(value).lower()}\n")
    return write(tmp_path, text)


def test_a_dated_observation_with_use_false_is_left_out(tmp_path, data):
    from dnamodel.spec.dated import resolve_dated

    full = resolve_dated(load_model("dated"), data)
    kept = resolve_dated(load_model(_dated_with(tmp_path, thesis_stock=False, thesis_added=False)), data)
    assert set(full.observation) - set(kept.observation) == {"thesis_stock", "thesis_added"}
    keep = [full.observation.index(n) for n in kept.observation]
    assert kept.value.tolist() == full.value[keep].tolist()
    assert kept.database == full.database  # the databases stay: Lhasa's share still reads one
    # `use = true` is the default: stating it changes nothing but the spec's text
    same = resolve_dated(load_model(_dated_with(tmp_path, thesis_stock=True)), data)
    assert same.observation == full.observation


def test_an_observation_switched_off_no_longer_marks_its_unit_as_reported(tmp_path, data):
    from dnamodel.spec.dated import resolve_dated

    full = resolve_dated(load_model("dated"), data)
    kept = resolve_dated(load_model(_dated_with(tmp_path, lhorong=False)), data)
    lhorong = full.unit.index("lhorong")
    assert full.reported[lhorong] == 1.0
    assert kept.reported[lhorong] == 0.0


def test_use_must_be_a_boolean(tmp_path):
    text = _dated_with(tmp_path).read_text(encoding="utf-8")
    path = write(tmp_path, text.replace("[observations.zhagyab]\n", '[observations.zhagyab]\nuse = "no"\n'))
    with pytest.raises(DataError) as caught:
        load_model(path)
    assert [p.field for p in caught.value.problems] == ["observations.zhagyab.use"]
