"""The value of information (issue 21, item 5): candidates, their rows, the reweighting, and refits by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dnamodel
from dnamodel.checks.dated import refit, refits
from dnamodel.checks.voi import (
    BOTH,
    IMPORTANCE,
    KAPPA_ONLY,
    candidate_rng,
    dated_value_of_information,
    importance_widths,
    linear_predictions,
    simulate,
)
from dnamodel.cli import main
from dnamodel.errors import DataError
from dnamodel.families import load_model
from dnamodel.inference.dated_packing import draw_prior, pack
from dnamodel.inference.dated_quantities import derive_draws, named, totals
from dnamodel.spec.dated import resolve_dated
from dnamodel.spec.voi import default_candidates, resolve_candidates, with_candidates

QUILLMOOR = dnamodel.example_path("quillmoor")


def _with_voi(tmp_path, table: str):
    """The bundled default spec with a ``[voi]`` table appended, as a file."""
    text = load_model("dated").text + "\n" + table
    path = tmp_path / "dated.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the candidates -------------------------------------------------------------------------------------


def test_the_default_candidates_are_each_group_the_region_each_database_and_kappa(data):
    spec = load_model("dated")
    names = list(default_candidates(spec, data))
    assert names == [
        *(f"{g}_count" for g in data.groups),
        f"{data.region}_count",
        *(f"{d}_database" for d in spec.databases.areas),
        "typed_share_measured",
        "typed_share_known",
    ]


def test_a_declared_candidate_replaces_the_defaults_and_is_resolved_in_the_study_s_words(tmp_path, data):
    path = _with_voi(tmp_path, '[voi.two]\nkind = "count"\nplaces = ["lhasa", "qamdo"]\ndate = "2021"\nerror = 0.2\n')
    spec = load_model(str(path))
    (candidate,) = resolve_candidates(spec, data, resolve_dated(spec, data))
    inputs = resolve_dated(spec, data)
    expected = {i for i, u in enumerate(inputs.unit) if data.units[u].group in ("lhasa", "qamdo")}
    assert set(candidate.members) == expected
    assert (candidate.date_label, candidate.error, candidate.kind) == ("2021", 0.2, "count")
    assert data.place_name("lhasa") in candidate.words


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('[voi.a]\nkind = "count"\nplace = ["lhasa"]\n', "voi.a.place", "did you mean 'places'"),
        ('[voi.a]\nkind = "counts"\nplaces = ["lhasa"]\n', "voi.a.kind", "count"),
        ('[voi.a]\nkind = "count"\n', "voi.a.places", "needs the places"),
        ('[voi.a]\nkind = "database"\n', "voi.a.database", "needs the database"),
        ('[voi.a]\nkind = "count"\nplaces = ["lhasa"]\nerror = -1\n', "voi.a.error", ""),
        ('[voi.a]\nkind = "count"\nplaces = ["lhasa"]\ndate = "2022-13"\n', "voi.a.date", "calendar date"),
    ],
)
def test_a_bad_voi_table_is_one_error_naming_the_file_and_key(tmp_path, table, key, words):
    path = _with_voi(tmp_path, table)
    with pytest.raises(DataError) as caught:
        load_model(str(path))
    text = str(caught.value)
    assert str(path) in text
    assert key in text
    assert words in text


def test_an_unknown_place_or_database_is_named_at_its_key(tmp_path, data):
    path = _with_voi(
        tmp_path, '[voi.a]\nkind = "count"\nplaces = ["lhasaa"]\n[voi.b]\nkind = "database"\ndatabase = "x"\n'
    )
    spec = load_model(str(path))
    with pytest.raises(DataError) as caught:
        resolve_candidates(spec, data, resolve_dated(spec, data))
    text = str(caught.value)
    assert "voi.a.places" in text
    assert "did you mean 'lhasa'" in text
    assert "voi.b.database" in text


def test_the_command_refuses_a_bad_voi_table_with_exit_2_and_no_traceback(tmp_path, capsys):
    path = _with_voi(tmp_path, '[voi.a]\nkind = "counts"\nplaces = ["lhasa"]\n')
    assert main(["voi", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "voi.a.kind" in err


# --- the rows appended to the inputs ----------------------------------------------------------------------


def test_appended_rows_leave_the_fit_s_density_alone_and_predict_what_the_model_says(data):
    spec = load_model("dated")
    inputs = resolve_dated(spec, data)
    candidates = resolve_candidates(spec, data, inputs)
    augmented = with_candidates(inputs, candidates)
    x = draw_prior(inputs, 50, np.random.default_rng(4))
    active = np.arange(len(augmented.observation)) < len(inputs.observation)
    before = derive_draws(x, inputs)
    after = derive_draws(x, augmented, pack(augmented, active))
    k = len(inputs.observation)
    np.testing.assert_array_equal(after["log_likelihood"][:, :k], before["log_likelihood"])
    np.testing.assert_array_equal(after["log_prior"], before["log_prior"])
    # a count over the whole region at the estimand's date is the total; the groups' counts add up to it
    total = totals(named(before, inputs), inputs)["total"]
    region = augmented.observation.index(f"{data.region}_count")
    np.testing.assert_allclose(after["expected"][:, region], total, rtol=1e-12)
    groups = [augmented.observation.index(f"{g}_count") for g in data.groups]
    np.testing.assert_allclose(after["expected"][:, groups].sum(axis=1), total, rtol=1e-10)
    # the linear predictions: the log of a count, the logit of κ
    kappa = named(before, inputs)["typed_share"]
    linear = linear_predictions(x, inputs, candidates, kappa)
    names = [c.name for c in candidates]
    np.testing.assert_allclose(linear[:, names.index(f"{data.region}_count")], np.log(total), rtol=1e-12)
    np.testing.assert_allclose(linear[:, names.index("typed_share_known")], np.log(kappa / (1 - kappa)))


def test_the_reweighting_s_likelihood_is_the_kernel_s_up_to_a_constant_in_the_parameters(data):
    spec = load_model("dated")
    inputs = resolve_dated(spec, data)
    candidates = [c for c in resolve_candidates(spec, data, inputs) if c.kind != "typed_share"]
    augmented = with_candidates(inputs, tuple(candidates))
    x = draw_prior(inputs, 40, np.random.default_rng(5))
    linear = linear_predictions(x, inputs, candidates, np.full(40, 0.5))
    value = augmented.value.copy()
    value[len(inputs.observation) :] = np.exp(linear[0])  # each candidate's value: its prediction at draw 0
    kernel = derive_draws(x, augmented, pack(augmented, value=value))["log_likelihood"][:, len(inputs.observation) :]
    ours = -0.5 * ((np.log(value[len(inputs.observation) :]) - linear) / [c.error for c in candidates]) ** 2
    difference = kernel - ours  # a constant per candidate: the same at every draw
    np.testing.assert_allclose(difference, np.broadcast_to(difference[0], difference.shape), atol=1e-9)


# --- the reweighting against analytic truth ----------------------------------------------------------------


def test_the_reweighted_spread_is_the_conjugate_normal_posterior_s():
    """θ ~ N(0, 1), y ~ N(θ, σ): the posterior's sd is σ/√(1 + σ²) whatever y (the total here is exp θ)."""
    rng = np.random.default_rng(20260101)
    draws, sigma = 40_000, 0.5
    theta = rng.standard_normal(draws)
    values, _ = simulate(theta, sigma, 40, rng)
    widths, sds, k_hat = importance_widths(theta, values, sigma, np.exp(theta))
    truth = sigma / math.sqrt(1 + sigma**2)
    # the effective sample size of one value's weights (Kish), and the standard error of an sd from it
    log_w = -0.5 * ((values[0] - theta) / sigma) ** 2
    w = np.exp(log_w - log_w.max())
    ess = w.sum() ** 2 / (w**2).sum()
    assert abs(sds.mean() - truth) < 4 * truth / math.sqrt(2 * ess)
    assert (k_hat < 0.7).mean() > 0.9
    # the 90% interval of exp θ given y: exp(m ± 1.645 s), m = y / (1 + σ²)
    m = values / (1 + sigma**2)
    exact = np.exp(m + 1.6449 * truth) - np.exp(m - 1.6449 * truth)
    assert np.median(np.abs(widths / exact - 1)) < 4 * 1.6449 / math.sqrt(ess)


# --- on a fit ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quillmoor_fit():
    data = dnamodel.load_data(QUILLMOOR / "data")
    idata = dnamodel.fit(QUILLMOOR / "models" / "dated.toml", data=data, draws=300, tune=300, chains=2, prior_draws=50)
    return idata, data


def test_voi_ranks_every_default_candidate_best_first_with_the_same_numbers_for_the_same_seed(quillmoor_fit):
    idata, data = quillmoor_fit
    first = dnamodel.voi(idata, data=data, simulations=30, seed=3)
    again = dnamodel.voi(idata, data=data, simulations=30, seed=3)
    assert first == again
    ratios = [n.ratio for n in first.narrowings]
    assert ratios == sorted(ratios)
    assert all(0 < r <= 1.05 for r in ratios)
    assert {n.candidate.name for n in first.narrowings} == set(
        default_candidates(load_model(str(QUILLMOOR / "models" / "dated.toml")), data)
    )
    payload = first.as_dict()
    assert payload["candidates"][0]["width_ratio"] == ratios[0]


def test_refits_validate_each_candidate_that_has_a_row_and_replace_the_unreliable_values(quillmoor_fit):
    idata, data = quillmoor_fit
    ranked = dnamodel.voi(idata, data=data, simulations=20, refits=1, draws=100, tune=100, chains=2, seed=3)
    for n in ranked.narrowings:
        if n.candidate.kind == "typed_share":  # no observation kind: reweighted only
            assert (n.refitted, n.refit_ratio, n.method) == (0, None, KAPPA_ONLY)
            continue
        # the first simulated value, and the first whose k̂ exceeds 0.7 (the same value, or one more)
        assert n.refitted == 1 if not n.high_k else 1 <= n.refitted <= 2
        assert n.refit_ratio is not None
        assert n.refit_ratio > 0
        assert n.importance_at_refits is not None
        assert n.unreliable == max(n.high_k - 1, 0)
        assert n.method == (BOTH if n.high_k > n.unreliable else IMPORTANCE)


@pytest.mark.slow
def test_refits_give_the_same_ranking_in_threads_a_process_pool_and_on_a_dask_cluster(quillmoor_fit):
    """The refits validating the reweighting run where sweeps' points run (issue 22 item 5): the same numbers."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    distributed = pytest.importorskip("distributed")
    idata, data = quillmoor_fit
    settings = {"data": data, "simulations": 20, "refits": 1, "draws": 100, "tune": 100, "chains": 2, "seed": 3}
    threaded = dnamodel.voi(idata, **settings)
    assert sum(n.refitted for n in threaded.narrowings) > 0  # refits ran, so the executors had work
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        pooled = dnamodel.voi(idata, executor=pool, **settings)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = dnamodel.voi(idata, executor=client, **settings)
    assert pooled == threaded
    assert remote == threaded


def test_the_command_prints_the_table_and_draws_the_figure(quillmoor_fit, tmp_path, capsys):
    idata, _data = quillmoor_fit
    path = dnamodel.write_fit(idata, tmp_path / "fit.nc")
    status = main(
        ["voi", "--from", str(path), "--data", str(QUILLMOOR / "data"), "--out", str(tmp_path), "--simulations", "20"]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "width ratio" in out
    assert "k̂ max" in out
    assert [p.name for p in tmp_path.glob("*_voi.png")] == ["quillmoor_dated_voi.png"]


def test_a_hierarchical_model_has_no_value_of_information(capsys):
    assert main(["voi", "hierarchical_han"]) == 2
    err = capsys.readouterr().err
    assert "hierarchical_han is a hierarchical model, which has no value of information" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_the_top_candidates_order_agrees_with_refits_done_by_hand(data):
    """On the bundled data: the importance sampling's top three, in order, are the refits' (issue 21, item 5).

    The fit and every refit are :func:`refit` at the same reduced settings and seed; a candidate is its
    observation row appended to the inputs, active, at values simulated from the fit's predictive.
    """
    spec = load_model("dated")
    inputs = resolve_dated(spec, data)
    settings = {"draws": 400, "tune": 500, "chains": 4, "seed": 11}
    base = refit(inputs, np.ones(len(inputs.observation), bool), **settings)
    candidates = resolve_candidates(spec, data, inputs)
    kappa = base.quantities["typed_share"]
    ranked = dated_value_of_information(base.x, base.total, kappa, inputs, candidates, simulations=200, seed=11)
    top = [n for n in ranked.narrowings if n.candidate.kind != "typed_share"][:3]
    width = np.subtract(*np.quantile(base.total, [0.95, 0.05]))
    augmented = with_candidates(inputs, tuple(n.candidate for n in top))
    jobs, owner = [], []
    for n in top:
        rng = candidate_rng(11, n.candidate)
        linear = linear_predictions(base.x, inputs, [n.candidate], kappa)[:, 0]
        values, _ = simulate(linear, n.candidate.error, 200, rng)  # the same values the ranking drew first
        k = augmented.observation.index(n.candidate.name)
        for y in values[:6]:
            active = np.arange(len(augmented.observation)) < len(inputs.observation)
            active[k] = True
            value = augmented.value.copy()
            value[k] = math.exp(y)
            jobs.append({"active": active, "value": value, "seed": settings["seed"]})
            owner.append(n.candidate.name)
    fitted = refits(augmented, jobs, draws=400, tune=500, chains=4)
    ratios: dict[str, list[float]] = {n.candidate.name: [] for n in top}
    for name, fit in zip(owner, fitted, strict=True):
        ratios[name].append(np.subtract(*np.quantile(fit.total, [0.95, 0.05])) / width)
    by_hand = {name: float(np.mean(r)) for name, r in ratios.items()}
    assert sorted(by_hand, key=by_hand.get) == [n.candidate.name for n in top], (
        by_hand,
        [(n.candidate.name, n.ratio) for n in top],
    )
