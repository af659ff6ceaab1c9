"""The parameter registries: consistent with what reads them, and the one place a parameter is added.

The last test is the registry's purpose: a scalar parameter added to a copy of the dated model's
registry, and its prior to a copy of the spec, is packed, drawn from its prior, sampled, gated,
power-scaled, SBC-ranked and named, with no other edit. It carries no data (the density does not
read it), so its posterior is its prior, which the test checks too.
"""

from __future__ import annotations

import ast
import math
import tomllib
from dataclasses import replace
from pathlib import Path

import arviz as az
import numpy as np
import pytest
from scipy import stats

import dnamodel
from dnamodel.checks.dated import dated_sbc
from dnamodel.checks.gates import diagnose
from dnamodel.checks.scaled_priors import dated_log_prior, scaled_dated_inputs
from dnamodel.data import load_data
from dnamodel.data.study import Study, StudyWords
from dnamodel.families import Fit, family_named, load_model, parse_model
from dnamodel.inference import dated as D
from dnamodel.inference import dated_kernel as K
from dnamodel.inference import dated_packing
from dnamodel.inference.dated_quantities import derive_draws
from dnamodel.outputs import dated as dated_outputs
from dnamodel.outputs import plots
from dnamodel.spec import parameters
from dnamodel.spec.base import MODELS_DIR
from dnamodel.spec.dated import PRIOR_FAMILIES, resolve_dated
from dnamodel.spec.hierarchical import PACE_PRIORS, POSITIVE_PRIORS, REAL_PRIORS, NormalPrior
from dnamodel.spec.parameters import DATED, HIERARCHICAL, Parameter


@pytest.fixture(scope="module")
def data():
    return load_data()


@pytest.fixture(scope="module")
def inputs(data):
    return resolve_dated(load_model("dated"), data)


# --- the registries against what reads them ----------------------------------------------------------


def test_the_dated_registry_orders_the_vector_and_the_density_sum():
    vector = sorted(p.vector for p in DATED)
    assert vector == list(range(len(DATED)))  # each block once, no gap
    by_sum: dict[int, set[str]] = {}
    for p in DATED:
        by_sum.setdefault(p.summed, set()).add(p.shape)
    assert all(len(shapes) == 1 for shapes in by_sum.values())  # a tie interleaves elements of one shape
    assert {p.slot for p in DATED} <= set(dated_packing.HEADER_SLOTS)
    assert len({p.block for p in DATED}) == len(DATED)
    assert parameters.prior_terms(parameters.DATED) == D.PRIOR_TERMS


def test_the_registries_admit_what_the_specs_admit():
    dated = {p.name: p.families for p in parameters.spec_priors(parameters.DATED)}
    assert {name: tuple(families) for name, families in PRIOR_FAMILIES.items()} == dated
    spec_families = {"alpha": REAL_PRIORS, "beta": REAL_PRIORS, "log_uplift": REAL_PRIORS, "row_centre": REAL_PRIORS}
    spec_families |= {"sigma": POSITIVE_PRIORS, "tau": POSITIVE_PRIORS, "pace": PACE_PRIORS}
    assert {p.name: set(p.families) for p in HIERARCHICAL} == {k: set(v) for k, v in spec_families.items()}
    # every family a dated prior admits has a kind the compiled density evaluates
    for p in DATED:
        for family in p.families:
            scale = p.transform if p.prior_on_value else "identity"
            assert (family, scale) in parameters.PRIOR_KINDS, (p.name, family)


def test_the_kernels_transforms_are_the_registrys(inputs):
    """Each coordinate's value, its inverse and its log-Jacobian: the registry's NumPy against the kernel."""
    x = D.draw_prior(inputs, 30, np.random.default_rng(4))
    packed = D.pack(inputs)
    start, runs = int(packed[dated_packing.B_TRANSFORM]), int(packed[dated_packing.H_NTRANSFORM])
    table = packed[start : start + dated_packing.TRANSFORM_COLUMNS * runs].reshape(runs, -1)
    # the table's runs (first, count, code, a, b), element by element
    count = table[:, 1].astype(int)
    assert (np.cumsum(count) - count == table[:, 0]).all()
    assert count.sum() == x.shape[1]
    code, a, b = (np.repeat(table[:, c], count) for c in (2, 3, 4))
    code = code.astype(int)
    value = derive_draws(x, inputs, packed)["value"]
    np.testing.assert_allclose(parameters.to_value(code, x, a, b), value, rtol=1e-14)
    np.testing.assert_allclose(parameters.to_coordinate(code, value, a, b), x, rtol=1e-9, atol=1e-12)
    h = 1e-4
    slope = (parameters.to_value(code, x + h, a, b) - parameters.to_value(code, x - h, a, b)) / (2 * h)
    # central differences err by h²/6 relative (2e-9) and by the rounding of a date near 2018, 2e-13 / 2h,
    # 1e-9, over a slope as small as a lead of e^-4: 6e-8 on the log scale
    np.testing.assert_allclose(parameters.log_jacobian(code, value, a, b), np.log(np.abs(slope)), atol=1e-6)
    assert set(code) == {parameters.IDENTITY, parameters.LOG, parameters.LOGIT, parameters.SHIFT, parameters.LEAD}


def test_meanings_are_in_the_studys_words():
    study = Study(words=StudyWords(region="r", place="p", counted="c", unit="records", claim="c", group="district"))
    study = study.model_copy(update={"columns": {"urban_share": "urban share of residents"}})
    group_sd = parameters.find("group_sd", parameters.DATED)
    assert group_sd.meaning_in(study) == "spread between districts' logit fractions"
    assert group_sd.axis_in(study) == "spread between districts' logit fractions (logit scale, sd)"
    assert "(urban share of residents)" in parameters.find("contrast", parameters.DATED).meaning_in(
        study, "urban_share"
    )
    assert "records" in parameters.find("typed_share", parameters.DATED).meaning_in(study)
    for entry in (*DATED, *HIERARCHICAL, *parameters.ESTIMAND):
        assert "{" not in entry.axis_in(study, "urban_share"), entry.name  # every placeholder is a study word


# --- a parameter the registry alone adds ---------------------------------------------------------------

DUMMY = Parameter(
    "dummy",
    "ψ",
    "a {group}-free test parameter that only the registry and the spec know",
    "logit scale",
    block="dummy",
    prior="fraction.dummy",
    families=("normal",),
    when="dummy",
    gated=True,
    sbc=True,
    power_scaled=True,
    term="dummy",
    optional=True,
    vector=len(DATED),
    summed=max(p.summed for p in DATED) + 1,
)
MU, SIGMA = 1.0, 0.5


@pytest.fixture
def extended(monkeypatch, data):
    """The dated model with ``dummy`` in a copy of its registry and its prior in a copy of its spec."""
    monkeypatch.setattr(parameters, "DATED", (*DATED, DUMMY))
    text = (MODELS_DIR / "dated.toml").read_text(encoding="utf-8")
    text = text.replace("[campaign]\n", f'dummy = {{ dist = "normal", mu = {MU}, sigma = {SIGMA} }}\n\n[campaign]\n', 1)
    spec = parse_model(tomllib.loads(text), text, "dummy.toml")
    return spec, resolve_dated(spec, data)


def test_a_parameter_added_to_the_registry_alone_is_packed_and_has_its_prior(extended, inputs):
    spec, with_dummy = extended
    assert spec.priors["dummy"] == NormalPrior(dist="normal", mu=MU, sigma=SIGMA)
    layout = D.layout_of(with_dummy)
    assert layout.ndim == D.layout_of(inputs).ndim + 1
    assert layout.blocks["dummy"] == slice(layout.ndim - 1, layout.ndim)
    # drawn last: every other coordinate's draws are the model's own
    x = D.draw_prior(with_dummy, 400, np.random.default_rng(7))
    np.testing.assert_array_equal(x[:, :-1], D.draw_prior(inputs, 400, np.random.default_rng(7)))
    assert stats.kstest(x[:, -1], stats.norm(MU, SIGMA).cdf).pvalue > 1e-3  # fails 1 run in 1,000
    assert D.initial_point(with_dummy)[-1] == MU
    # the density gains the dummy's prior, with its gradient, and nothing else
    packed, base = D.pack(with_dummy), D.pack(inputs)
    for xi in x[:5]:
        grad, base_grad = np.zeros(layout.ndim), np.zeros(layout.ndim - 1)
        gained = K.logp_grad(xi, packed, grad) - K.logp_grad(xi[:-1], base, base_grad)
        assert gained == pytest.approx(stats.norm(MU, SIGMA).logpdf(xi[-1]), rel=1e-9, abs=1e-9)
        assert grad[-1] == pytest.approx(-(xi[-1] - MU) / SIGMA**2, rel=1e-12)
        np.testing.assert_array_equal(grad[:-1], base_grad)
    # the saved log prior has its term, and power-scaling a prior can name it
    terms = D.log_prior(x[:5], with_dummy)
    np.testing.assert_allclose(terms["dummy"], stats.norm(MU, SIGMA).logpdf(x[:5, -1]), rtol=1e-12)
    assert scaled_dated_inputs(with_dummy, "dummy", 2.0).priors["dummy"].sigma == pytest.approx(SIGMA / math.sqrt(2))


def test_a_parameter_added_to_the_registry_alone_is_sampled_gated_power_scaled_ranked_and_named(
    extended, data, monkeypatch, tmp_path
):
    spec, with_dummy = extended
    idata = D.fit_dated(spec, data, draws=400, tune=300, chains=2, seed=5, prior_draws=200).idata
    # sampled: the data do not touch it, so its posterior is its prior N(1, 0.5)
    dummy = idata.posterior["dummy"]
    assert dummy.dims == ("chain", "draw")
    mcse = float(az.mcse(idata, var_names=["dummy"])["dummy"])
    assert abs(float(dummy.mean()) - MU) < 4 * mcse  # fails 6 runs in 100,000
    # gated
    assert "dummy" in [row.name for row in diagnose(idata).rows]
    # power-scaled: its term on its own scale (an identity transform: no Jacobian), and a psens row
    np.testing.assert_allclose(
        dated_log_prior(idata)["dummy"].values, stats.norm(MU, SIGMA).logpdf(dummy.values), rtol=1e-12
    )
    table = dnamodel.power_scaling(idata)  # the public verb: the fit's family, from its provenance
    assert "dummy" in table.prior_terms
    assert "dummy" in table.quantities
    # SBC-ranked
    calibration = dated_sbc(with_dummy, 2, seed=3, posterior_draws=9, draws=40, tune=40, chains=2)
    assert "dummy" in calibration.quantities
    # named, in the study's words, for the tables, figures and the report
    entry = parameters.find("dummy", parameters.DATED)
    assert (entry.symbol, entry.axis_in(data.study)) == (
        "ψ",
        "a prefecture-free test parameter that only the registry and the spec know (logit scale)",
    )
    axes = family_named("dated").parameter_axes(Fit(spec, idata, with_dummy), data.study)
    assert axes["dummy"] == entry.axis_in(data.study)
    drawn = panels(monkeypatch, lambda path: plots.parameter_plot(idata, path, axis_labels=axes), tmp_path)
    assert ("ψ (dummy)", entry.axis_in(data.study)) in drawn
    ranked = panels(monkeypatch, lambda path: plots.rank_plot(idata, path), tmp_path)
    assert any(title.startswith("ψ (dummy), R-hat") for title, _ in ranked)
    section = dated_outputs.model_section(spec, with_dummy, idata, data, tmp_path / "report.html")
    assert "<code>dummy</code>" in section
    assert entry.meaning_in(data.study) in section


def panels(monkeypatch, draw, folder):
    """Each panel of the figure ``draw`` makes, ``(title's first line, x label unwrapped)``."""
    seen = []
    save = plots._save

    def keep(figure, path, title, caption):
        for axis in figure.axes:
            seen.append((axis.get_title().split("\n")[0], " ".join(axis.get_xlabel().split("\n"))))
        return save(figure, path, title, caption)

    monkeypatch.setattr(plots, "_save", keep)
    draw(folder / "figure.png")
    monkeypatch.setattr(plots, "_save", save)
    return seen


def test_a_model_without_the_parameters_prior_has_no_such_parameter(monkeypatch, inputs):
    monkeypatch.setattr(parameters, "DATED", (*DATED, DUMMY))
    assert not D.layout_of(inputs).has("dummy")
    without = replace(inputs, priors={k: v for k, v in inputs.priors.items() if k != "group_sd"})
    assert not D.layout_of(without).has("log_group_sd")
    assert not D.layout_of(without).has("group_z")


# --- one parameter list per model ---------------------------------------------------------------------

PACKAGE = Path(__file__).parent.parent / "dnamodel"
OWN_LISTS_ALLOWED = {
    "dnamodel/inference/dated_pymc.py:TWIN_BLOCKS": "the PyMC twin states the model again on purpose: it is the "
    "independent cross-check of the kernel (tests/test_dated_pymc.py maps each of its variables to a registry block)",
    "dnamodel/data/synthetic.py:TRUTH": "the true values a synthetic programme is simulated from: data a fit is "
    "checked against, not a description of the parameters; the data stage simulates the model in NumPy on "
    "purpose (it cannot import inference), and tests/test_synthetic.py checks it against the kernel",
}
"""Module-level tables of parameter names outside the registry, each with why it is not a registry lookup."""


def parameter_lists(tree, names):
    """``(line, target)`` of each module- or class-level assignment of a literal naming two or more of ``names``.

    A tuple, list or set of them, or a dict keyed by them (``PARAMETERS = ("alpha", ...)``,
    ``_SYMBOLS = {"alpha": "α", ...}``): a list of a model's parameters kept beside the registry.
    """
    found = []
    bodies = [tree.body] + [node.body for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    for body in bodies:
        for node in body:
            if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for literal in ast.walk(node.value):
                if isinstance(literal, ast.Tuple | ast.List | ast.Set):
                    elements = literal.elts
                elif isinstance(literal, ast.Dict):
                    elements = [k for k in literal.keys if k is not None]
                else:
                    continue
                strings = {e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                if len(strings & names) >= 2:
                    found.extend((node.lineno, ast.unparse(target)) for target in targets)
                    break
    return found


def registry_names():
    """Every parameter's name a registry gives, and the dated model's blocks (not the estimand's: a Monte Carlo
    model has its total and share too)."""
    entries = (*DATED, *HIERARCHICAL)
    return {p.name for p in entries} | {p.block for p in entries if p.block}


def test_the_detector_sees_a_parameter_list():
    code = """
PARAMETERS = ("alpha", "beta", "sigma")
_SYMBOLS = {"alpha": "α", "contrast": "θ"}
GATED: tuple[str, ...] = ("total", "unit_sd", "group_sd")
class Table:
    AXES = {"group_sd": "spread", "unit_sd": "spread"}
ok = ("alpha", "x")  # one name is not a list of them

def f():
    inside = ("alpha", "beta")  # a function's own values (a synthetic truth) are not a table
"""
    assert [line for line, _ in parameter_lists(ast.parse(code), registry_names())] == [2, 3, 4, 6]


def test_no_module_keeps_its_own_list_of_a_models_parameters():
    """Meanings, symbols, axes, the gated, SBC and power-scaled names are read from the registries."""
    names = registry_names()
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        if relative == "dnamodel/spec/parameters.py":
            continue
        for line, target in parameter_lists(ast.parse(path.read_text(encoding="utf-8")), names):
            found[f"{relative}:{target}"] = line
    assert sorted(set(found) - set(OWN_LISTS_ALLOWED)) == []
    assert sorted(set(OWN_LISTS_ALLOWED) - set(found)) == []  # an allowance for a list that went
