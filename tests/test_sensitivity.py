"""Sobol indices against analytic and exactly integrated truths, the tornado against closed forms, the plot, the CLI.

Sobol estimates are checked at Z bootstrap standard errors, with Z set so that a correct
estimator fails any of a test's checks with probability at most ALPHA (Bonferroni over
the checks). The bootstrap treats the Sobol points as independent draws, so its
standard error overstates the error of the points actually used: the checks are
conservative, and each test also shows that its tolerance is small enough to tell the
inputs apart.
"""

import json
import math
import textwrap

import matplotlib.colors
import matplotlib.image
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from dnamodel import dims
from dnamodel.cli import main
from dnamodel.errors import UsageError
from dnamodel.families import load_model
from dnamodel.montecarlo.engine import Engine
from dnamodel.montecarlo.run import MAX_IN_MEMORY
from dnamodel.montecarlo.sensitivity import sobol, sobol_to_dict, tornado, uniform_sobol_indices
from dnamodel.outputs.plots import HIGH_COLOUR, LOW_COLOUR
from dnamodel.outputs.sweep_plots import tornado_plot

ALPHA = 1e-3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def z_for(checks: int) -> float:
    """Standard errors at which ``checks`` two-sided checks all pass with probability 1 − ALPHA."""
    return float(stats.norm.isf(ALPHA / (2 * checks)))


def assert_within(estimate, truth, standard_error, z):
    estimate, truth, standard_error = (np.asarray(a, dtype=float) for a in (estimate, truth, standard_error))
    bad = np.abs(estimate - truth) > z * standard_error
    assert not bad.any(), f"estimate {estimate} against {truth}, allowed {z} × {standard_error}"


def smallest_gap(values) -> float:
    distinct = np.unique(np.round(values, 12))
    return float(np.diff(distinct).min()) if distinct.size > 1 else math.inf


def write_spec(folder, name, inputs, quantities):
    text = f'[model]\nname = "{name}"\ndescription = "test model"\n\n{textwrap.dedent(inputs)}\n[quantities]\n'
    text += "".join(f'{key} = "{expression}"\n' for key, expression in quantities.items())
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_model(path)


@pytest.fixture(scope="module")
def mc_spec():
    return load_model("report_mc")


@pytest.fixture(scope="module")
def mc_indices(mc_spec, data):
    return sobol(mc_spec, n=2**14, seed=7, data=data)


# --- Sobol indices: analytic truths --------------------------------------------------------

# total = Σ a_i x_i with x_i uniform of width w_i: S_i = ST_i = a_i² w_i² / Σ_j a_j² w_j² (no interactions)
COEFFICIENTS = {"x1": 2.0, "x2": 1.0, "x3": -0.5}
BOUNDS = {"x1": (0.0, 1.0), "x2": (-1.0, 3.0), "x3": (10.0, 26.0)}


@pytest.fixture(scope="module")
def linear_spec(tmp_path_factory):
    inputs = "".join(
        f'[inputs.{x}]\ndist = "uniform"\nlow = {low}\nhigh = {high}\n\n' for x, (low, high) in BOUNDS.items()
    )
    inputs += '[inputs.offset]\ndist = "point"\nvalue = 100\n'  # a point: no column, no index
    total = " + ".join(f"{a} * {name}" for name, a in COEFFICIENTS.items()) + " + offset"
    return write_spec(tmp_path_factory.mktemp("spec"), "linear", inputs, {"total": total, "share": "total / 1000"})


def linear_truth():
    parts = np.array([COEFFICIENTS[name] ** 2 * (high - low) ** 2 / 12 for name, (low, high) in BOUNDS.items()])
    return parts / parts.sum()


def test_linear_model_indices_match_their_closed_form(linear_spec, data):
    result = sobol(linear_spec, n=2**12, seed=3, data=data)
    truth = linear_truth()  # 1/21, 4/21, 16/21
    assert result[dims.INPUT].values.tolist() == ["x1", "x2", "x3"]
    z = z_for(2 * truth.size)
    assert_within(result["first_order"], truth, result["first_order_se"], z)
    assert_within(result["total_order"], truth, result["total_order_se"], z)
    # the tolerance is tight enough to tell the inputs apart
    assert z * float(max(result["first_order_se"].max(), result["total_order_se"].max())) < smallest_gap(truth) / 2


def test_bootstrap_error_bounds_the_spread_of_independent_scramblings(linear_spec, data):
    """The intervals err on the safe side: R independent scramblings vary by no more than the bootstrap says."""
    replicates = 8
    runs = [sobol(linear_spec, n=2**10, seed=seed, data=data, n_resamples=199) for seed in range(replicates)]
    spread = np.std([run["first_order"].values for run in runs], axis=0, ddof=1)
    bootstrap_se = np.mean([run["first_order_se"].values for run in runs], axis=0)
    # if the error's sd were bootstrap_se, the sample sd would exceed this bound with probability ALPHA / inputs
    bound = bootstrap_se * np.sqrt(stats.chi2.isf(ALPHA / spread.size, replicates - 1) / (replicates - 1))
    assert (spread <= bound).all()


def ishigami(x1, x2, x3, a=7.0, b=0.1):
    return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3**4 * np.sin(x1)


def test_ishigami_indices_match_their_closed_form():
    a, b = 7.0, 0.1  # Ishigami and Homma (1990); the variances as in Saltelli et al. (2008), section 4.1
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * np.pi**8 / 225
    variance = v1 + v2 + v13
    first_truth = np.array([v1, v2, 0.0]) / variance
    total_truth = np.array([v1 + v13, v2, v13]) / variance

    def func(u):
        x = -np.pi + 2 * np.pi * u
        return ishigami(x[:, 0], x[:, 1], x[:, 2], a, b)

    result = uniform_sobol_indices(func, 3, n=2**14, rng=np.random.default_rng(11))
    z = z_for(6)
    assert_within(result["first_order"], first_truth, result["first_order_se"], z)
    assert_within(result["total_order"], total_truth, result["total_order_se"], z)
    assert z * result["total_order_se"].max() < smallest_gap(total_truth) / 2


def test_a_single_input_accounts_for_all_the_variance(data):
    result = sobol(load_model("report_uniform"), n=2**10, seed=2, data=data)
    assert result[dims.INPUT].values.tolist() == ["rest_rate"]
    z = z_for(2)
    assert_within(result["first_order"], [1.0], result["first_order_se"], z)
    assert_within(result["total_order"], [1.0], result["total_order_se"], z)


# --- Sobol indices: report_mc against exact integration -----------------------------------


def exact_indices(engine):
    """Sobol indices of ``total`` by exact quadrature, for choices and uniforms whose total is linear in each uniform.

    A choice is integrated exactly by its alternatives and weights. Given the other inputs, the total is
    linear in a uniform input (checked below), so its square is quadratic, and 2-point Gauss–Legendre
    integrates both exactly. Then V_i = Var(E[Y | x_i]) and VT_i = E[Var(Y | x_~i)], over Var(Y).
    """
    gauss_nodes, gauss_weights = np.polynomial.legendre.leggauss(2)
    nodes, weights = [], []
    for name in engine.random:
        spec_input = engine.inputs[name]
        if spec_input.dist == "choice":
            count = len(spec_input.params["values"])
            w = np.asarray(spec_input.params.get("weights") or [1 / count] * count)
            edges = np.concatenate([[0.0], np.cumsum(w)])
            nodes.append((edges[:-1] + edges[1:]) / 2)  # a uniform that picks each alternative
            weights.append(w)
        else:
            assert spec_input.dist == "uniform", "exact_indices handles choices and uniforms only"
            nodes.append((gauss_nodes + 1) / 2)
            weights.append(gauss_weights / 2)
    grid = np.meshgrid(*nodes, indexing="ij")
    shape = grid[0].shape

    def total_at(columns):
        return engine.draws(np.column_stack([c.ravel() for c in columns]))["total"].reshape(shape)

    y = total_at(grid)
    for axis, name in enumerate(engine.random):
        if engine.inputs[name].dist == "uniform":  # linear in this input: the midpoint is the mean of the ends
            ends = [total_at([np.full(shape, u) if j == axis else g for j, g in enumerate(grid)]) for u in (0, 0.5, 1)]
            np.testing.assert_allclose(ends[1], (ends[0] + ends[2]) / 2, rtol=1e-12)
    w = np.ones(shape)
    for axis, axis_weights in enumerate(weights):
        w = w * axis_weights.reshape([-1 if j == axis else 1 for j in range(len(shape))])
    mean = (w * y).sum()
    variance = (w * (y - mean) ** 2).sum()
    first, total = [], []
    for axis, axis_weights in enumerate(weights):
        others = tuple(j for j in range(len(shape)) if j != axis)
        conditional_mean = (w * y).sum(axis=others) / axis_weights
        first.append((axis_weights * (conditional_mean - mean) ** 2).sum() / variance)
        mean_over_axis = (w * y).sum(axis=axis, keepdims=True) / w.sum(axis=axis, keepdims=True)
        total.append((w * (y - mean_over_axis) ** 2).sum() / variance)
    return np.array(first), np.array(total)


def test_report_mc_indices_match_exact_integration(mc_spec, mc_indices, data):
    first_truth, total_truth = exact_indices(Engine.build(mc_spec, data))
    z = z_for(2 * first_truth.size)
    assert_within(mc_indices["first_order"], first_truth, mc_indices["first_order_se"], z)
    assert_within(mc_indices["total_order"], total_truth, mc_indices["total_order_se"], z)
    # rest_position multiplies the Zhagyab inputs' effect: interactions, so Σ first < 1 < Σ total
    assert first_truth.sum() < 1 < total_truth.sum()


def test_report_mc_indices_are_shares_and_rest_position_leads(mc_indices):
    z = z_for(2 * mc_indices.sizes[dims.INPUT])
    for name in ("first_order", "total_order"):
        estimate, se = mc_indices[name].values, mc_indices[f"{name}_se"].values
        assert (estimate >= -z * se).all()
        assert (estimate <= 1 + z * se).all()
    # The rate between Lhorong's and Zhagyab's spans 2.5 million people times a 10-27 point spread of rates;
    # every other input moves a smaller population or only part of that spread. Its interval clears the rest.
    others = mc_indices.drop_sel({dims.INPUT: "rest_position"})
    for name in ("first_order", "total_order"):
        assert float(mc_indices[f"{name}_low"].sel({dims.INPUT: "rest_position"})) > float(others[f"{name}_high"].max())


# --- Sobol indices: reproducibility, provenance, usage errors ------------------------------


def test_sobol_is_reproducible_and_leaves_global_state_alone(linear_spec, data):
    # the legacy global state is read here, never seeded: sobol must neither use nor advance it
    before = np.random.get_state()  # noqa: NPY002
    first = sobol(linear_spec, n=2**8, seed=5, data=data, n_resamples=99)
    assert np.random.get_state()[1].tolist() == before[1].tolist()  # noqa: NPY002
    xr.testing.assert_identical(first, sobol(linear_spec, n=2**8, seed=5, data=data, n_resamples=99))
    other = sobol(linear_spec, n=2**8, seed=6, data=data, n_resamples=99)
    assert not np.array_equal(first["first_order"].values, other["first_order"].values)
    assert first.attrs["seed"] == 5
    assert first.attrs["n"] == 2**8
    assert first.attrs["evaluations"] == 2**8 * 5
    assert first.attrs["spec_hash"] == linear_spec.hash
    assert first.attrs["data_version"] == data.version


def test_sobol_takes_a_generator_and_records_its_starting_state(linear_spec, data):
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    result = sobol(linear_spec, n=2**8, seed=rng, data=data, n_resamples=99)
    assert "seed" not in result.attrs
    assert json.loads(result.attrs["rng_state"]) == state
    seeded = sobol(linear_spec, n=2**8, seed=5, data=data, n_resamples=99)
    xr.testing.assert_identical(result.drop_attrs(), seeded.drop_attrs())


def test_sobol_to_dict_ranks_by_total_order(mc_indices):
    payload = sobol_to_dict(mc_indices)
    totals = [row["total_order"] for row in payload["indices"]]
    assert totals == sorted(totals, reverse=True)
    assert "spec" not in payload["provenance"]
    json.dumps(payload)  # plain data


@pytest.mark.parametrize("n", [1000, 2**5, 0, True, 2.0**10])
def test_sobol_needs_a_power_of_two(linear_spec, data, n):
    with pytest.raises(UsageError, match="power of 2"):
        sobol(linear_spec, n=n, data=data)


def test_sobol_refuses_more_evaluations_than_fit_in_memory(mc_spec, data):
    n = 2**21  # × (6 inputs + 2) = 2^24 ... just fits; twice that does not
    assert n * 8 <= MAX_IN_MEMORY < 2 * n * 8
    with pytest.raises(UsageError, match="held in memory"):
        sobol(mc_spec, n=2 * n, data=data)


def test_sobol_needs_a_random_input(tmp_path, data):
    spec = write_spec(tmp_path, "fixed", '[inputs.x]\ndist = "point"\nvalue = 3\n', {"total": "x", "share": "x / 10"})
    with pytest.raises(UsageError, match="no random input"):
        sobol(spec, data=data)


def test_sobol_refuses_an_output_that_is_not_finite():
    with pytest.raises(UsageError, match="not finite"):
        uniform_sobol_indices(lambda u: np.where(u[:, 0] < 0.5, np.inf, 1.0), 1, n=2**6, rng=np.random.default_rng(0))


# --- tornado -------------------------------------------------------------------------------


def test_report_uniform_tornado_matches_its_closed_form(data):
    result = tornado(load_model("report_uniform"), data=data)
    (row,) = result.rows
    assert row.input == "rest_rate"
    # total = 2,480,000 × rate + 118,242 with rate = 0.323 + p × 0.116 (report Table 5). Each side rounds at most
    # five times (half an ulp each), and 0.439 − 0.323 carries their own roundings, about one ulp here: under 6 ulps.
    tolerance = 6 * np.finfo(float).eps
    expected = [2_480_000 * (0.323 + p * 0.116) + 118_242 for p in (0.05, 0.5, 0.95)]
    np.testing.assert_allclose([row.total_at_low, result.baseline, row.total_at_high], expected, rtol=tolerance, atol=0)
    rates = [0.323 + 0.05 * 0.116, 0.323 + 0.95 * 0.116]
    np.testing.assert_allclose([row.low_value, row.high_value], rates, rtol=tolerance)
    # the swing is a difference of two totals, so their absolute errors add
    swing_tolerance = tolerance * (expected[0] + expected[2])
    assert row.swing == pytest.approx(2_480_000 * 0.9 * 0.116, rel=0, abs=swing_tolerance)


def test_report_mc_tornado_is_sorted_and_consistent_with_the_engine(mc_spec, data):
    result = tornado(mc_spec, data=data)
    swings = [row.swing for row in result.rows]
    assert swings == sorted(swings, reverse=True)
    engine = Engine.build(mc_spec, data)
    assert sorted(row.input for row in result.rows) == sorted(engine.random)
    median = np.full((1, len(engine.random)), 0.5)
    assert result.baseline == float(engine.draws(median)["total"][0])
    rows = {row.input: row for row in result.rows}
    for column, name in enumerate(engine.random):
        spec_input, row = engine.inputs[name], rows[name]
        if spec_input.dist == "choice":
            values = spec_input.params["values"]
            assert (row.low_value, row.high_value) == (min(values), max(values))
            assert row.low_label == spec_input.labels[values.index(min(values))]
        else:  # moving the input's uniform to 0.05 and 0.95 must give the same totals
            moved = np.repeat(median, 2, axis=0)
            moved[:, column] = (0.05, 0.95)
            np.testing.assert_array_equal(engine.draws(moved)["total"], [row.total_at_low, row.total_at_high])
    assert rows["rest_position"] == result.rows[0]
    # Lhasa's base only matters when Nyingchi follows Lhasa's rate; at the median it follows the rest of Tibet
    assert rows["lhasa_base"].swing == 0


def test_tornado_takes_an_empirical_input_by_its_quantiles(tmp_path, data):
    inputs = '[inputs.x]\ndist = "empirical"\nvalues = [5, 1, 4, 2, 3]\n'
    spec = write_spec(tmp_path, "empirical", inputs, {"total": "x", "share": "x / 10"})
    result = tornado(spec, data=data, low=0.1, high=0.9)
    (row,) = result.rows
    assert (row.low_value, row.high_value) == (1.0, 5.0)  # the sorted values' first and last fifths, not file order


@pytest.mark.parametrize(("low", "high"), [(0.0, 0.9), (0.5, 0.5), (0.9, 0.1), (0.1, 1.0)])
def test_tornado_needs_probabilities_in_order(data, low, high):
    with pytest.raises(UsageError, match="0 < low < high < 1"):
        tornado(load_model("report_uniform"), data=data, low=low, high=high)


# --- the plot ------------------------------------------------------------------------------


def test_tornado_plot_writes_a_png_and_nothing_else(mc_spec, data, tmp_path):
    result = tornado(mc_spec, data=data)
    path = tmp_path / "tornado.png"
    assert tornado_plot(result.rows, result.baseline, path, title="report_mc") == path
    content = path.read_bytes()
    assert content.startswith(PNG_SIGNATURE)
    assert [p.name for p in tmp_path.iterdir()] == ["tornado.png"]
    pixels = np.round(matplotlib.image.imread(path)[..., :3] * 255).astype(int)
    for colour in (LOW_COLOUR, HIGH_COLOUR):  # both kinds of bar were drawn
        rgb = [round(c * 255) for c in matplotlib.colors.to_rgb(colour)]
        assert (pixels == rgb).all(axis=-1).sum() > 100


@pytest.mark.parametrize(("name", "words"), [("missing/t.png", "no such folder"), ("t.pdf", "ending in .png")])
def test_tornado_plot_refuses_bad_paths(mc_spec, data, tmp_path, name, words):
    result = tornado(mc_spec, data=data)
    with pytest.raises(UsageError, match=words):
        tornado_plot(result.rows, result.baseline, tmp_path / name, title="report_mc")
    assert list(tmp_path.iterdir()) == []


# --- the command line ----------------------------------------------------------------------


def test_cli_sensitivity_prints_the_ranking_and_the_tornado(capsys):
    code = main(["mc", "report_mc", "--draws", "4096", "--sensitivity"])
    out = capsys.readouterr().out
    assert code == 0
    ranking = out.split("Sobol indices, inputs ranked by total-order index", 1)[1].splitlines()
    assert ranking[3].startswith("rest_position")  # title, header, rule, then the first input
    assert "Tornado: the total with one input at its 5% and 95% quantiles" in out
    assert "Baseline, every input at its median: 1,353,407 samples." in out
    assert "Wrote the tornado plot" not in out


def test_cli_without_the_flags_prints_no_sensitivity(capsys):
    assert main(["mc", "report_uniform", "--draws", "4096"]) == 0
    assert "Sobol" not in capsys.readouterr().out
    assert main(["mc", "report_uniform", "--draws", "4096", "--json"]) == 0
    assert "sensitivity" not in json.loads(capsys.readouterr().out)


def test_cli_sensitivity_json(capsys):
    code = main(["mc", "report_mc", "--draws", "4096", "--sensitivity", "--sensitivity-draws", "1024", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["sensitivity"]["sobol"]["indices"][0]["input"] == "rest_position"
    assert payload["sensitivity"]["sobol"]["provenance"]["n"] == 1024
    assert payload["sensitivity"]["tornado"]["rows"][0]["input"] == "rest_position"


def test_cli_tornado_writes_the_plot(capsys, tmp_path):
    path = tmp_path / "tornado.png"
    assert main(["mc", "report_mc", "--draws", "4096", "--tornado", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Wrote the tornado plot to {path}." in out
    assert "Sobol" not in out
    assert path.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--sensitivity", "--sensitivity-draws", "1000"], "power of 2"),
        (["--tornado", "/nonexistent/folder/t.png"], "no such folder"),
    ],
)
def test_cli_sensitivity_usage_errors_exit_2(capsys, argv, words):
    code = main(["mc", "report_mc", "--draws", "4096", *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert words in captured.err
    assert "Traceback" not in captured.err
