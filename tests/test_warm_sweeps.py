"""Sweep points and the decisive assumptions' refits warm-started from the spec's own fit (issue 22)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from dnamodel.families import load_model, point_spec
from dnamodel.families.base import SweepSettings
from dnamodel.families.dated import MAPPED, PRIOR_POINTS, DatedFamily, SweepBase, element_names, mapped_for, warm_for
from dnamodel.inference.dated import WARM_TUNE, Warm, layout_of
from dnamodel.inference.dated_packing import campaign_curve
from dnamodel.spec.dated import resolve_dated
from dnamodel.workflows import sweep as sweeps
from dnamodel.workflows.assumptions import FIXED_PATH, fixed_value

DATED_SMALL = {"draws": 200, "tune": 200, "chains": 2}


def _inputs(data, overrides):
    spec = load_model("dated")
    return resolve_dated(point_spec(spec.path, spec.text, overrides), data)


def _base(data) -> tuple[SweepBase, int]:
    """A made-up adaptation of the default spec: coordinate i has centre i and scale i + 1."""
    inputs = _inputs(data, {})
    layout = layout_of(inputs)
    n = layout.ndim
    points = np.arange(3 * n, dtype=float).reshape(3, n)
    warm = Warm(np.arange(n, dtype=float), np.arange(n, dtype=float) + 1, 0.25, points, 100)
    return SweepBase(warm, layout, campaign_curve(inputs), inputs.form), n


def test_a_point_of_the_specs_structure_starts_from_its_whole_adaptation(data):
    base, _ = _base(data)
    warm = warm_for(base, _inputs(data, {"campaign.start.default.around": "2017-10"}))
    assert warm is not None
    np.testing.assert_array_equal(warm.centre, base.warm.centre)
    np.testing.assert_array_equal(warm.points, base.warm.points)
    assert warm.step == base.warm.step
    assert warm.tune == base.warm.tune


def test_a_value_held_fixed_leaves_its_coordinate_out_of_the_warm_start(data):
    base, n = _base(data)
    held = warm_for(base, _inputs(data, fixed_value(FIXED_PATH, 0.7)))
    assert held is not None
    assert len(held.centre) == n - 1
    kept = np.setdiff1d(np.arange(n), np.arange(n)[base.layout.blocks["logit_typed_share"]])
    np.testing.assert_array_equal(held.centre, base.warm.centre[kept])
    np.testing.assert_array_equal(held.scale, base.warm.scale[kept])
    np.testing.assert_array_equal(held.points, base.warm.points[:, kept])


@pytest.mark.parametrize(
    "overrides",
    [{"campaign.curve": "logistic"}, {"campaign.curve": "constant_after"}, {"fraction.reported": False}],
    ids=["logistic curve", "constant after", "offset left out"],
)
def test_a_point_of_another_structure_is_a_cold_fit(data, overrides):
    base, _ = _base(data)
    assert warm_for(base, _inputs(data, overrides)) is None


def test_each_point_says_how_it_started_and_structural_points_are_cold(data):
    # the spec's own typed_share.alpha is 8: no point here is the spec itself
    grid = {"campaign.curve": ["saturating", "logistic"], "databases.typed_share.alpha": [4.0, 18.0]}
    warm = sweeps.sweep("dated", grid, data=data, threads=1, **DATED_SMALL)
    starts = warm["start"].values.tolist()
    assert starts == [["warm", "warm"], ["cold", "cold"]]  # a logistic curve: another structure
    tune = warm["tune"].values
    assert tune.tolist() == [[100, 100], [DATED_SMALL["tune"]] * 2]
    assert (warm["draws"].values >= DATED_SMALL["draws"]).all()
    assert warm.attrs["warm"] == 1
    cold = sweeps.sweep("dated", grid, data=data, threads=1, warm=False, **DATED_SMALL)
    assert set(cold["start"].values.ravel()) == {"cold"}
    # a structural point is the same cold fit either way
    np.testing.assert_array_equal(cold["total_median"].values[1], warm["total_median"].values[1])


def test_a_cold_point_that_fails_its_gates_draws_in_rounds_up_to_its_cap(data):
    # 2 × 50 draws cannot pass ESS ≥ 400: each extension doubles every chain, at most EXTENSIONS times
    from dnamodel.checks.dated import EXTENSIONS

    small = {"draws": 50, "tune": 100, "chains": 2}
    grid = {"databases.typed_share.alpha": [4.0]}
    first = sweeps.sweep("dated", grid, data=data, threads=1, warm=False, **small)
    assert first["start"].values.tolist() == ["cold"]
    assert first["extensions"].values.tolist() == [EXTENSIONS]
    assert first["draws"].values.tolist() == [small["draws"] * 2**EXTENSIONS]
    assert first["passed"].values.tolist() == [False]  # marked, never used silently
    again = sweeps.sweep("dated", grid, data=data, threads=1, warm=False, **small)
    np.testing.assert_array_equal(again["total_median"].values, first["total_median"].values)


STRUCTURAL = [
    {"campaign.curve": "logistic"},
    {"campaign.curve": "constant_after"},
    {"fraction.reported": False},
    {
        "population.uplift": {
            "lhasa": {"areas": ["lhasa"], "log_uplift": {"dist": "normal", "mu": 0.0904, "sigma": 0.05}}
        }
    },
]
"""The default's structural alternatives: two curves, δ left out, Qushui's uplift dropped."""


def _named_base(data, overrides=None) -> SweepBase:
    """:func:`_base`'s made-up adaptation, for the spec at ``overrides``, with its blocks' element names."""
    inputs = _inputs(data, overrides or {})
    n = layout_of(inputs).ndim
    points = np.arange(3 * n, dtype=float).reshape(3, n)
    warm = Warm(np.arange(n, dtype=float), np.arange(n, dtype=float) + 1, 0.25, points, 100)
    return SweepBase(warm, layout_of(inputs), campaign_curve(inputs), inputs.form, names=element_names(inputs))


def test_a_mapped_start_takes_each_shared_element_from_the_base_wherever_it_sits(data):
    base = _named_base(data)
    blocks = base.layout.blocks
    # Qushui's uplift dropped: Lhasa's keeps the base's, and every block after it moves up one place
    inputs = _inputs(data, STRUCTURAL[3])
    assert warm_for(base, inputs) is None
    mapped = mapped_for(base, inputs, seed=1)
    ours = layout_of(inputs).blocks
    lhasa = blocks["log_uplift"].start + base.names["log_uplift"].index("lhasa")
    assert mapped.centre[ours["log_uplift"].start] == base.warm.centre[lhasa]
    np.testing.assert_array_equal(mapped.centre[ours["census_z"]], base.warm.centre[blocks["census_z"]])
    np.testing.assert_array_equal(mapped.scale[ours["census_z"]], base.warm.scale[blocks["census_z"]])
    np.testing.assert_array_equal(mapped.points[:, ours["census_z"]], base.warm.points[:, blocks["census_z"]])
    assert (mapped.step, mapped.tune) == (base.warm.step, WARM_TUNE)
    # a curve of another family: every element is the base's
    curve = mapped_for(base, _inputs(data, STRUCTURAL[0]), seed=1)
    np.testing.assert_array_equal(curve.centre, base.warm.centre)
    np.testing.assert_array_equal(curve.points, base.warm.points)


def test_an_element_the_base_lacks_starts_from_its_prior(data):
    # δ added to a base without it: its centre is its prior's mean, its scale its prior's sd, Normal(0, 1.5)
    base = _named_base(data, {"fraction.reported": False})
    inputs = _inputs(data, {})
    mapped = mapped_for(base, inputs, seed=1)
    delta = layout_of(inputs).blocks["reported"].start
    assert mapped.centre[delta] == 0.0
    # the sd of PRIOR_POINTS normal draws has a standard error of sd / sqrt(2 n)
    assert abs(mapped.scale[delta] - 1.5) <= 4 * 1.5 / math.sqrt(2 * PRIOR_POINTS)
    assert len(np.unique(mapped.points[:, delta])) == len(mapped.points)  # each chain's start its own draw
    others = np.arange(layout_of(inputs).ndim) != delta
    np.testing.assert_array_equal(mapped.centre[others], base.warm.centre)
    np.testing.assert_array_equal(mapped_for(base, inputs, seed=1).points, mapped.points)  # same seed


def test_a_structural_point_of_the_assumptions_starts_mapped_and_says_so(data):
    spec = load_model("dated")
    small = SweepSettings(spec.path, spec.text, data.location, 200, 200, 2, spec.sampler.seed, "nutpie", warm=True)
    family = DatedFamily()
    _, base = family.sweep_base(spec, data, small)
    point = point_spec(spec.path, spec.text, STRUCTURAL[2])
    result = family.sweep_point(point, data, replace(small, base=base, mapped=True))
    assert result["start"] == MAPPED
    assert result["tune"] == WARM_TUNE
    assert family.sweep_point(point, data, replace(small, base=base))["start"] == "cold"  # a sweep's, unmapped
    keys = {sweeps._point_key(s, data.version, STRUCTURAL[2]) for s in (small, replace(small, mapped=True))}
    assert len(keys) == 2


@pytest.mark.slow
def test_mapped_structural_points_agree_with_cold_refits_within_monte_carlo_error(data):
    """Each structural alternative mapped from the default's fit against its cold fit: the total's 5%, 50%, 95%."""
    spec = load_model("dated")
    settings = SweepSettings(spec.path, spec.text, data.location, 2000, 1000, 4, spec.sampler.seed, "nutpie", warm=True)
    family = DatedFamily()
    _, base = family.sweep_base(spec, data, settings)
    for overrides in STRUCTURAL:
        point = point_spec(spec.path, spec.text, overrides)
        mapped = family.sweep_point(point, data, replace(settings, base=base, mapped=True))
        cold = family.sweep_point(point, data, replace(settings, warm=False))
        assert (mapped["start"], cold["start"]) == (MAPPED, "cold")
        assert mapped["passed"], (overrides, mapped)
        # on the log scale, where the right-skewed total is near normal (its q95 lies further from the median
        # than its q05): a quantile's log is the log's quantile, and a normal's density there is exact enough
        sd = (math.log(cold["total"]["q95"]) - math.log(cold["total"]["q05"])) / (2 * 1.645)
        for name, p in (("median", 0.5), ("q05", 0.05), ("q95", 0.95)):
            # the MCSE of a quantile: sqrt(p (1 - p) / ESS) over the density at it (a normal's, by sd)
            density = math.exp(-0.5 * 1.645**2 * (p != 0.5)) / (sd * math.sqrt(2 * math.pi))
            mcse = [math.sqrt(p * (1 - p) / r["min_ess"]) / density for r in (mapped, cold)]
            gap = abs(math.log(mapped["total"][name]) - math.log(cold["total"][name]))
            assert gap <= 4 * math.hypot(*mcse), (overrides, name, mapped["total"][name], cold["total"][name])


@pytest.mark.slow
def test_warm_points_agree_with_cold_refits_within_monte_carlo_error(data):
    """Each warm point's quantiles against the cold sweep's, within 4 MCSE of both (from their ESS)."""
    settings = {"draws": 1000, "tune": 1000, "chains": 4}
    grid = {"databases.baseline_per_resident.mu": [-5.8091, -3.5066], "campaign.start.default.around": ["2017-10"]}
    warm = sweeps.sweep("dated", grid, data=data, threads=1, **settings)
    cold = sweeps.sweep("dated", grid, data=data, threads=1, warm=False, **settings)
    assert set(warm["start"].values.ravel()) == {"warm"}
    assert bool(warm["passed"].all())  # gated on the total; the cold points, on every free parameter, may not
    saved = (cold["tune"].values - warm["tune"].values).sum() * settings["chains"]
    assert saved == 2 * (settings["tune"] - 100) * settings["chains"]
    for name, p in (("total_median", 0.5), ("total_q05", 0.05), ("total_q95", 0.95)):
        w, c = warm[name].values.ravel(), cold[name].values.ravel()
        sd = (cold["total_q95"].values.ravel() - cold["total_q05"].values.ravel()) / (2 * 1.645)
        # the MCSE of a quantile: sqrt(p (1 - p) / ESS) over the density at it (a normal's, by sd)
        density = np.exp(-0.5 * 1.645**2 * (p != 0.5)) / (sd * math.sqrt(2 * math.pi))
        mcse = [
            math.sqrt(p * (1 - p) / ess) / d for ess, d in zip(warm["min_ess"].values.ravel(), density, strict=True)
        ]
        mcse_cold = [
            math.sqrt(p * (1 - p) / ess) / d for ess, d in zip(cold["min_ess"].values.ravel(), density, strict=True)
        ]
        for i in range(len(w)):
            assert abs(w[i] - c[i]) <= 4 * math.hypot(mcse[i], mcse_cold[i]), (name, i, w[i], c[i])


# --- refits on the sweeps' executors (issue 22, item 5) ---------------------------------------------


def _example_fit():
    import dnamodel

    folder = dnamodel.example_path("quillmoor")
    data = dnamodel.load_data(folder / "data")
    fit = dnamodel.fit(folder / "models" / "dated.toml", data=data, draws=200, tune=200, chains=2, prior_draws=100)
    return fit, data


def _numbers(checks):
    return [(c.observation, c.pit, c.lpd, c.total_median, c.refit_rhat, c.refit_ess) for c in checks]


@pytest.mark.slow
def test_refits_give_the_same_numbers_serial_in_processes_and_on_a_dask_cluster():
    """Leave-one-out and SBC refits: this process's threads, a process pool and a dask LocalCluster agree exactly."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    import dnamodel

    distributed = pytest.importorskip("distributed")
    idata, data = _example_fit()
    small = {"draws": 100, "tune": 100}
    serial = dnamodel.leave_one_out(idata, data=data, refit=True, **small)
    spec = dnamodel.example_path("quillmoor") / "models" / "dated.toml"
    sbc_settings = {"data": data, "simulations": 2, "draws": 100, "tune": 100, "chains": 2, "seed": 3}
    calibration = dnamodel.sbc(spec, **sbc_settings)
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        pooled = dnamodel.leave_one_out(idata, data=data, refit=True, executor=pool, **small)
        pooled_sbc = dnamodel.sbc(spec, executor=pool, **sbc_settings)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = dnamodel.leave_one_out(idata, data=data, refit=True, executor=client, **small)
        remote_sbc = dnamodel.sbc(spec, executor=client, **sbc_settings)
    assert _numbers(pooled) == _numbers(serial)
    assert _numbers(remote) == _numbers(serial)
    for other in (pooled_sbc, remote_sbc):
        np.testing.assert_array_equal(other.ranks, calibration.ranks)
        np.testing.assert_array_equal(other.ess_bulk, calibration.ess_bulk)
