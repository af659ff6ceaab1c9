"""The report's figures: each writes a PNG whose embedded title and caption are the ones it drew.

A small synthetic fit stands in for a real one: the figures' job is to draw whatever
posterior they are given, and a synthetic one keeps these tests to a second or two.
"""

import arviz as az
import numpy as np
import pytest
from PIL import Image

from dnamodel import dims
from dnamodel.casestudy.tibet2022 import report_by_prefecture
from dnamodel.checks.predictive import Check
from dnamodel.checks.summary import summarize_fit
from dnamodel.errors import UsageError
from dnamodel.outputs import plots
from dnamodel.outputs.check_plots import predictive_plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHAINS, DRAWS = 2, 150


@pytest.fixture(scope="module")
def idata(data):
    """Posterior, prior and sample stats over the seven real prefectures, drawn from fixed lognormals."""
    rng = np.random.default_rng(20220913)
    prefectures = list(data.groups)
    population = np.array([data.areas[p].population for p in prefectures], dtype=float)
    by_prefecture = population * rng.lognormal(np.log(0.3), 0.2, size=(CHAINS, DRAWS, len(prefectures)))
    total = by_prefecture.sum(axis=-1)
    shape = (CHAINS, DRAWS)
    posterior = {
        "alpha": rng.normal(-1.2, 0.4, shape),
        "beta": rng.normal(-1.0, 0.5, shape),
        "sigma": np.abs(rng.normal(1.5, 0.3, shape)),
        "total": total,
        "share": total / data.areas["tibet"].population,
        "group_total": by_prefecture,
    }
    prior = {
        "alpha": rng.normal(-1, 1.5, (1, 400)),
        "beta": rng.normal(0, 1, (1, 400)),
        "sigma": np.abs(rng.normal(0, 1, (1, 400))),
    }
    return az.from_dict(
        posterior=posterior,
        prior=prior,
        sample_stats={"diverging": np.zeros(shape, dtype=bool)},
        coords={dims.GROUP: prefectures},
        dims={"group_total": [dims.GROUP]},
        attrs={"model": "synthetic"},
    )


@pytest.fixture(scope="module")
def summary(idata, data):
    return summarize_fit(idata, data)


CHECKS = [
    Check("lhorong", 17_194, 17_217, 15_316, 19_355, 0.49),
    Check("qushui", 40_200, 38_846, 30_993, 48_438, 0.60),
    Check("lhorong_atoka_samples", 281, 282, 251, 317, 0.48),
]
LOO = [
    Check("lhorong", 17_194, 20_438, 1_077, 50_002, 0.44, 1_126_975),
    Check("qushui", 40_200, 5_994, 1_762, 18_789, 1.00, 919_223),
]


@pytest.fixture
def captured(monkeypatch):
    """Every title and caption a figure hands to ``_save``, in order."""
    calls = []
    save = plots._save

    def recording_save(figure, path, title, caption):
        calls.append((title, caption))
        return save(figure, path, title, caption)

    monkeypatch.setattr(plots, "_save", recording_save)
    return calls


def draw(name, idata, summary, path, loo=LOO):
    if name == "rank":
        return plots.rank_plot(idata, path)
    if name == "parameters":
        return plots.parameter_plot(idata, path)
    if name == "forest":
        return plots.forest_plot(idata, summary, path)
    return predictive_plot(CHECKS, loo, path)


FIGURES = ["rank", "parameters", "forest", "predictive"]


def text_chunks(path):
    with Image.open(path) as image:
        return dict(image.text)


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_writes_a_png_carrying_its_title_and_caption(name, idata, summary, tmp_path, captured):
    path = tmp_path / f"{name}.png"
    written = draw(name, idata, summary, path)
    assert written == path
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    [(title, caption)] = captured
    assert title
    assert caption
    chunks = text_chunks(path)
    assert chunks["Title"] == title
    assert chunks["Description"] == caption


BAD_PATHS = [("figure.pdf", "ending in .png"), ("missing/f.png", "no such folder")]


@pytest.mark.parametrize("name", FIGURES)
@pytest.mark.parametrize(("file_name", "words"), BAD_PATHS)
def test_a_bad_path_is_refused_before_anything_is_drawn(name, file_name, words, idata, summary, tmp_path, captured):
    with pytest.raises(UsageError, match=words):
        draw(name, idata, summary, tmp_path / file_name)
    assert captured == []
    assert list(tmp_path.iterdir()) == []


def test_rank_plot_has_one_panel_per_gated_scalar_and_explains_uniform_ranks(idata, tmp_path, captured):
    plots.rank_plot(idata, tmp_path / "rank.png")
    [(_, caption)] = captured
    assert f"{CHAINS * DRAWS:,} draws" in caption
    assert "uniform" in caption


def test_parameter_plot_draws_the_prior_where_the_fit_kept_one(idata, tmp_path, captured):
    plots.parameter_plot(idata, tmp_path / "with_prior.png")
    without = az.from_dict(posterior={name: idata.posterior[name].values for name in ("alpha", "sigma")})
    plots.parameter_plot(without, tmp_path / "without_prior.png")
    (_, with_caption), (_, without_caption) = captured
    assert "Grey: the prior" in with_caption
    assert "no prior draws" in without_caption


def test_parameter_plot_needs_a_parameter(tmp_path):
    only_total = az.from_dict(posterior={"total": np.ones((1, 10))})
    with pytest.raises(UsageError, match="none of the parameters"):
        plots.parameter_plot(only_total, tmp_path / "p.png")


def test_forest_plot_marks_the_reports_own_prefecture_figures(idata, summary, data, tmp_path, captured):
    plots.forest_plot(idata, summary, tmp_path / "forest.png", marks=report_by_prefecture(data=data))
    [(title, caption)] = captured
    assert "synthetic" in title
    assert "Lhasa and Nyingchi" in caption
    # the report's figures for the other five prefectures together, from `dnamodel replicate`
    assert "801,040" in caption
    assert "1,088,720" in caption
    assert "highest-density" in caption


def test_predictive_plot_explains_leave_one_out_only_when_given(tmp_path, captured):
    predictive_plot(CHECKS, LOO, tmp_path / "with_loo.png")
    predictive_plot(CHECKS, [], tmp_path / "without_loo.png")
    (_, with_loo), (_, without_loo) = captured
    assert "PIT" in with_loo
    assert "leave-one-out" in with_loo
    assert "outside its red interval" in with_loo
    assert "No leave-one-out refits" in without_loo


def test_predictive_plot_draws_shares_bounds_and_forecasts_of_a_dated_fit(tmp_path, captured):
    checks = [
        *CHECKS,
        Check("qushui_coverage", 0.75, 0.768, 0.66, 0.85, 0.38),
        Check("gyaidar_2022", 218, 8_865, 4_128, 17_891, 0.50, bound="lower"),
    ]
    ahead = [Check("qushui_coverage", 0.75, 0.288, 0.003, 0.854, 0.89, 1_169_369)]
    predictive_plot(checks, LOO, tmp_path / "dated.png", ahead)
    predictive_plot(CHECKS, LOO, tmp_path / "counts.png")
    (_, dated), (_, counts) = captured
    assert "panel of their own" in dated
    assert "An arrowhead marks a bound" in dated
    assert "Green, below: the forecast" in dated
    for words in ("panel of their own", "arrowhead", "Green"):
        assert words not in counts


def test_predictive_plot_needs_a_check(tmp_path):
    with pytest.raises(UsageError, match="no predictive checks"):
        predictive_plot([], [], tmp_path / "p.png")
