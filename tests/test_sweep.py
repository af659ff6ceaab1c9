"""Sweeps: paths, values, shipped sweep files, Monte Carlo and hierarchical grids, resuming, parallel runs."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dnamodel import families
from dnamodel.checks import gates
from dnamodel.checks.gates import diagnose
from dnamodel.cli import main
from dnamodel.data import load_data
from dnamodel.errors import DataError, UsageError
from dnamodel.families import load_model
from dnamodel.families.base import QUANTILE_NAMES, SWEEP_PROBABILITIES
from dnamodel.inference.dated import fit_dated
from dnamodel.outputs.sweep import reference_interval, tornado_rows
from dnamodel.spec import sweep as sweep_spec
from dnamodel.spec.dated import resolve_dated
from dnamodel.spec.resolve import resolve_hierarchical
from dnamodel.workflows import sweep as sweeps

SMALL = {"draws": 300, "tune": 300, "chains": 2}
GRID = {"fraction.beta.sigma": [0.5, 1.0]}
DATED_SMALL = {"draws": 200, "tune": 200, "chains": 2}
"""A dated point at these settings samples in about a second: no compile, only a new packed vector."""
THESIS = "observations.thesis_stock.use+observations.thesis_added.use"


def test_unknown_path_gets_did_you_mean():
    with pytest.raises(UsageError, match=re.escape("did you mean 'fraction.beta.sigma'")):
        sweeps.sweep("hierarchical_han", {"fraction.beta.sigmaa": [1.0]})
    with pytest.raises(UsageError, match="is a table"):
        sweeps.sweep("hierarchical_han", {"fraction.beta": [1.0]})


def test_paths_include_optional_schema_keys():
    paths = families.known_paths(load_model("hierarchical_han"))
    assert "observations.qushui.base" in paths  # not in the file: it defaults to the census
    assert "population.uplift_areas" in paths


def test_a_bad_value_fails_before_anything_runs(monkeypatch):
    monkeypatch.setattr(sweeps, "run_point", lambda *a: pytest.fail("no point may run"))
    with pytest.raises(DataError, match="greater than 0"):
        sweeps.sweep("hierarchical_han", {"fraction.beta.sigma": [1.0, -1.0]})


def test_parse_values_keeps_lists_and_expressions_whole():
    assert sweep_spec.parse_values('["lhasa"],[]') == [["lhasa"], []]
    assert sweep_spec.parse_values("zhagyab_samples_2017,zhagyab_samples_2017 + zhagyab_samples_added_2018") == [
        "zhagyab_samples_2017",
        "zhagyab_samples_2017 + zhagyab_samples_added_2018",
    ]
    with pytest.raises(UsageError, match="empty value"):
        sweep_spec.parse_values("1,,2")


def test_shipped_sweeps_load_and_address_real_paths(data):
    assert sweep_spec.shipped_sweeps("dated") == [
        "dated_baseline",
        "dated_campaign_start",
        "dated_curve",
        "dated_database_share",
        "dated_event_reports",
        "dated_lhunzhub",
        "dated_qushui_statement",
        "dated_selection",
        "dated_thesis",
        "dated_thesis_doubt",
        "dated_typed_share",
        "dated_typed_share_fixed",
    ]
    assert sweep_spec.shipped_sweeps("hierarchical_han") == [
        "han_scale",
        "lhasa_base",
        "sigma_scale",
        "thesis",
        "zhagyab_base",
    ]
    assert len(sweep_spec.shipped_sweeps()) == 17
    for name in sweep_spec.shipped_sweeps():
        job = families.load_sweep(name)
        spec = load_model(job.model)
        known = families.known_paths(spec)
        for key, values in job.grid.items():
            sweep_spec.check_path(key, known)
            # each grid holds the spec's own value, so each sweep contains the default fit
            own = sweep_spec.coordinate(families.current_value(spec, key))
            assert own in [sweep_spec.coordinate(v) for v in values], (name, key)
        for combo in itertools.product(*job.grid.values()):
            point = families.point_spec(spec.path, spec.text, dict(zip(job.grid, combo, strict=True)))
            (resolve_dated if job.model == "dated" else resolve_hierarchical)(point, data)


def test_bad_sweep_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmodel = "hierarchical_han"\n[grid]\n"thesis.use" = []\n[extra]\n', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        families.load_sweep(path)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"extra", "sweep.description", 'grid."thesis.use"'}  # the key as TOML writes it
    with pytest.raises(UsageError, match="did you mean 'thesis'"):
        families.load_sweep("thesys")


def test_monte_carlo_sweep_values_and_sobol(tmp_path):
    result = sweeps.sweep("report_mc", {"inputs.rest_position.high": [0.5, 1.0]}, draws=2**16, out=tmp_path / "mc.nc")
    assert result["total_median"].dims == ("inputs.rest_position.high",)
    # moving the upper end of Lhorong-to-Zhagyab towards Zhagyab raises the total
    assert float(result["total_median"][0]) < float(result["total_median"][1])
    assert result["sobol_total_order"].sel(input="rest_position").values.tolist() == pytest.approx(
        [0.67, 0.71], abs=0.05
    )
    assert (tmp_path / "mc.nc").exists()
    assert len(list((tmp_path / "mc.nc.points").glob("*.json"))) == 2


def test_hierarchical_sweep_resumes_from_its_point_files(tmp_path, monkeypatch):
    out = tmp_path / "s.nc"
    first = sweeps.sweep("hierarchical_han", GRID, out=out, processes=1, **SMALL)
    assert first["total_median"].dims == ("fraction.beta.sigma",)
    assert first["group_median"].sizes["group"] == 7
    assert first.attrs["spec_hash"] == load_model("hierarchical_han").hash
    files = sorted((tmp_path / "s.nc.points").glob("*.json"))
    assert len(files) == 2
    record = json.loads(files[0].read_text())
    assert set(record) == {"format", "overrides", "key", "result"}
    # a rerun reads every point and runs none
    monkeypatch.setattr(sweeps, "run_point", lambda *a: pytest.fail("a finished point ran again"))
    again = sweeps.sweep("hierarchical_han", GRID, out=out, processes=1, **SMALL)
    assert again.equals(first)
    # a tighter β prior shrinks the Han-share slope's effect on Lhasa: both points differ
    assert float(first["total_median"][0]) != float(first["total_median"][1])


def test_changing_the_settings_does_not_reuse_points(tmp_path):
    out = tmp_path / "s.nc"
    sweeps.sweep("hierarchical_han", {"fraction.beta.sigma": [1.0]}, out=out, processes=1, **SMALL)
    sweeps.sweep("hierarchical_han", {"fraction.beta.sigma": [1.0]}, out=out, processes=1, seed=5, **SMALL)
    assert len(list((tmp_path / "s.nc.points").glob("*.json"))) == 2


def test_cli_sweep_table_and_files(tmp_path, capsys):
    out = tmp_path / "cli.nc"
    args = ["sweep", "hierarchical_han", "--set", "fraction.beta.sigma=0.5,1", "--out", str(out), "--json"]
    # 2 × 300 draws are too few for the ESS gate, which would exit 3; the table and files are the point here
    settings = ["--draws", "300", "--tune", "300", "--chains", "2", "--processes", "1", "--allow-bad-fit"]
    assert main([*args, *settings]) == 0
    payload = json.loads(capsys.readouterr().out)
    (only,) = payload["sweeps"]
    assert [p["fraction.beta.sigma"] for p in only["points"]] == [0.5, 1.0]
    assert {Path(p).name for p in only["plots"]} == {"cli_tornado.png", "cli_line.png"}
    assert out.exists()


def test_cli_sweep_usage_errors(capsys):
    assert main(["sweep", "hierarchical_han"]) == 2
    assert "--set" in capsys.readouterr().err
    assert main(["sweep", "hierarchical_han", "--set", "fraction.beta.sigma"]) == 2
    assert "PATH=V1,V2" in capsys.readouterr().err


# --- the dated model ---------------------------------------------------------------------------------


def test_every_key_of_the_dated_spec_is_a_path():
    spec = load_model("dated")
    known = families.known_paths(spec)
    for path in ("fraction.reported.sigma", "campaign.start.default.sd_years", "databases.typed_share.alpha"):
        assert path in known
    # keys the spec leaves to its schema's defaults
    assert {"fraction.unreported_offset", "observations.thesis_stock.use", "campaign.start.qamdo.around"} <= set(known)
    with pytest.raises(UsageError, match=re.escape("did you mean 'fraction.reported.sigma'")):
        sweeps.sweep(spec, {"fraction.reported.sigmaa": [1.0]})
    with pytest.raises(UsageError, match=re.escape("did you mean 'observations.thesis_added.use'")):
        sweeps.sweep(spec, {"observations.thesis_stock.use+observations.thesis_adds.use": [False]})


def test_a_table_takes_a_table_or_false_and_linked_paths_move_together(data):
    spec = load_model("dated")
    off = families.point_spec(spec.path, spec.text, {"fraction.reported": False, "fraction.group_sd": False})
    assert "reported" not in off.priors
    assert "group_sd" not in off.priors
    inputs = resolve_dated(off, data)
    assert not inputs.reported_effect
    assert not inputs.group_effects
    wider = families.point_spec(spec.path, spec.text, {"fraction.reported": {"dist": "normal", "sigma": 3.0}})
    assert wider.priors["reported"].sigma == 3.0
    both = families.point_spec(spec.path, spec.text, {THESIS: False})
    assert not both.observations["thesis_stock"].use
    assert not both.observations["thesis_added"].use
    assert both.hash != spec.hash
    with pytest.raises(UsageError, match="is a table"):
        families.point_spec(spec.path, spec.text, {"databases.typed_share": 8.0})


def test_a_bad_dated_value_fails_before_anything_runs(monkeypatch):
    monkeypatch.setattr(sweeps, "run_point", lambda *a: pytest.fail("no point may run"))
    with pytest.raises(DataError, match=re.escape("campaign.start.default")):
        sweeps.sweep("dated", {"campaign.start.default.around": ["2018-10", "2018-13"]})
    with pytest.raises(DataError, match=re.escape("observations.thesis_stock.use")):
        sweeps.sweep("dated", {"observations.thesis_stock.use": [True, "no"]})
    with pytest.raises(UsageError, match="nutpie only"):
        sweeps.sweep("dated", {"fraction.unreported_offset": [0.0]}, sampler="pymc")


def test_a_dated_point_at_the_specs_values_is_its_fit(data, monkeypatch):
    # a cold point's first round is its fit's draws; at these small draws both fail the gates, and the
    # point would be extended (a fit of fixed draws is not): held to its first round here
    from dnamodel.families import dated as dated_family

    monkeypatch.setattr(dated_family, "EXTENSIONS", 0)
    # fraction.unreported_offset is not in the spec's file: 0.0 is its schema's default
    swept = sweeps.sweep("dated", {"fraction.unreported_offset": [0.0]}, data=data, threads=1, **DATED_SMALL)
    point = swept.isel({"fraction.unreported_offset": 0})
    fit = fit_dated(load_model("dated"), data, **DATED_SMALL)
    post = fit.idata.posterior
    total = post["total"].values.ravel()
    for name, q in zip(QUANTILE_NAMES, SWEEP_PROBABILITIES, strict=True):
        assert float(point[f"total_{name}"]) == float(np.quantile(total, q))
    assert float(point["total_mean"]) == float(total.mean())
    assert float(point["share_median"]) == float(np.median(post["share"].values))
    np.testing.assert_array_equal(point["group_median"], post["group_total"].median(("chain", "draw")))
    gates = diagnose(fit.idata)
    assert int(point["divergences"]) == gates.divergences
    assert float(point["min_ess"]) == min(gates.min_ess_bulk, gates.min_ess_tail)
    assert float(point["max_rhat"]) <= gates.max_rhat  # the fit's also covers every derived vector
    assert swept.attrs["kind"] == "dated"
    assert swept.attrs["spec_hash"] == load_model("dated").hash


def test_a_dated_sweep_resumes_and_its_threads_match_the_serial_run(tmp_path, data, monkeypatch):
    grid = {"fraction.unreported_offset": [0.0, -1.0]}
    out = tmp_path / "dated.nc"
    serial = sweeps.sweep("dated", grid, data=data, out=out, threads=1, **DATED_SMALL)
    assert len(list((tmp_path / "dated.nc.points").glob("*.json"))) == 2
    # units nobody reported on, collected at lower odds: a lower total
    assert float(serial["total_median"][1]) < float(serial["total_median"][0])
    threaded = sweeps.sweep("dated", grid, data=data, threads=2, **DATED_SMALL)
    for name in ("total_median", "total_q05", "total_q95", "share_median", "min_ess", "max_rhat"):
        np.testing.assert_array_equal(threaded[name], serial[name])
    monkeypatch.setattr(sweeps, "run_point", lambda *a: pytest.fail("a finished point ran again"))
    assert sweeps.sweep("dated", grid, data=data, out=out, threads=1, **DATED_SMALL).equals(serial)


def test_cli_sweeps_a_dated_model_with_linked_paths(tmp_path, capsys):
    out = tmp_path / "thesis.nc"
    args = ["sweep", "dated", "--set", f"{THESIS}=true,false", "--out", str(out), "--json", "--threads", "1"]
    # 200 draws of 2 chains need not pass the gates: --allow-bad-fit keeps the exit at 0 (the table marks them)
    assert main([*args, "--draws", "200", "--tune", "200", "--chains", "2", "--allow-bad-fit"]) == 0
    (only,) = json.loads(capsys.readouterr().out)["sweeps"]
    assert [p[THESIS] for p in only["points"]] == ["true", "false"]
    import xarray as xr

    with xr.open_dataset(out, engine="h5netcdf") as saved:  # a '+' in a dimension's name is written and read
        assert saved["total_median"].dims == (THESIS,)
        assert saved.attrs["kind"] == "dated"


def test_the_vectorised_rhat_is_arviz_s():
    import arviz as az
    from scipy import stats

    rng = np.random.default_rng(20220913)
    draws = rng.normal(size=(4, 301, 6))
    draws[:, :, 1] += np.arange(4)[:, None] * 0.2  # chains that disagree
    draws[:, :, 2] = np.round(draws[:, :, 2])  # ties, as repeated NUTS draws make
    draws[:, :, 3] = np.exp(3 * draws[:, :, 3])  # skewed: the folded R-hat differs from the bulk one
    draws[:, :, 4] = 1.0  # constant: NaN, as ArviZ gives
    draws[0, 5, 5] = np.nan
    with np.errstate(invalid="ignore"):  # ArviZ's 0/0 on the constant column
        expected = [float(az.rhat(draws[:, :, k])) for k in range(6)]
    # the same arithmetic as ArviZ's on the same ranks: equal, not merely close
    np.testing.assert_array_equal(gates.rhat_columns(draws), expected)
    np.testing.assert_array_equal(gates.average_ranks(draws[:, :, 2]), stats.rankdata(draws[:, :, 2], axis=1))


PREFECTURES = list(load_data().groups)


def _fake_point(settings, overrides):
    """What run_point returns, made up: for testing what runs, not what it finds."""
    shift = sum(float(v) for v in overrides.values() if isinstance(v, int | float) and not isinstance(v, bool))
    total = 1.0e6 * (1 + shift / 100)
    return {
        "total": {name: total for name in QUANTILE_NAMES} | {"mean": total},
        "share_median": 0.3,
        "group_median": dict.fromkeys(PREFECTURES, 1.0),
        "divergences": 0,
        "max_rhat": 1.0,
        "min_ess": 1000.0,
        "passed": True,
        "spec_hash": "sha256:0",
    }


def _fake_points(monkeypatch):
    """Every point made up by :func:`_fake_point`, and no base fit for them to start from."""
    monkeypatch.setattr(sweeps, "run_point", _fake_point)
    monkeypatch.setattr(sweeps, "run_base", lambda settings: None)


def test_make_sweeps_runs_the_dated_sweeps_and_the_hierarchical_ones_on_request(tmp_path, capsys, monkeypatch):
    _fake_points(monkeypatch)
    assert main(["sweep", "--shipped", "--out", str(tmp_path), "--json", "--threads", "1"]) == 0
    ran = {Path(s["file"]).stem for s in json.loads(capsys.readouterr().out)["sweeps"]}
    assert ran == set(sweep_spec.shipped_sweeps("dated"))
    assert (tmp_path / "tornado_dated.png").exists()
    assert main(["sweep", "--shipped", "hierarchical_han", "--out", str(tmp_path), "--json", "--processes", "1"]) == 0
    ran = {Path(s["file"]).stem for s in json.loads(capsys.readouterr().out)["sweeps"]}
    assert ran == set(sweep_spec.shipped_sweeps("hierarchical_han"))
    assert main(["sweep", "--shipped", "report_mc"]) == 2
    assert "no shipped sweep of 'report_mc'" in capsys.readouterr().err


def test_a_dated_sweeps_reference_point_takes_schema_defaults(monkeypatch):
    _fake_points(monkeypatch)
    result = sweeps.sweep("dated", {"fraction.unreported_offset": [0.0, -1.0], THESIS: [True, False]}, threads=1)
    assert reference_interval(result) == (1.0e6, 1.0e6, 1.0e6)  # offset 0 (the default), thesis used
    rows = tornado_rows(result)
    assert [(r.label, r.low_label, r.high_label) for r in rows] == [
        ("fraction.unreported_offset", "0.0", "-1.0"),
        (THESIS, "true", "false"),
    ]
    assert rows[0].high[1] == pytest.approx(0.99e6)


# --- slow: parallel runs and a real interruption ---------------------------------------------------


@pytest.mark.slow
def test_process_pool_matches_the_serial_run(tmp_path):
    serial = sweeps.sweep("hierarchical_han", GRID, processes=1, **SMALL)
    pooled = sweeps.sweep("hierarchical_han", GRID, processes=2, **SMALL)
    for name in ("total_median", "total_q05", "total_q95", "share_median"):
        np.testing.assert_array_equal(pooled[name], serial[name])


@pytest.mark.slow
def test_dask_local_cluster_matches_the_serial_run():
    distributed = pytest.importorskip("distributed")
    serial = sweeps.sweep("hierarchical_han", GRID, processes=1, **SMALL)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        remote = sweeps.sweep("hierarchical_han", GRID, client=client, **SMALL)
    for name in ("total_median", "total_q05", "total_q95", "share_median", "min_ess"):
        np.testing.assert_array_equal(remote[name], serial[name])


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_losing_finished_points(tmp_path):
    out = tmp_path / "killed.nc"
    points = tmp_path / "killed.nc.points"
    command = [
        sys.executable, "-m", "dnamodel", "sweep", "hierarchical_han",
        "--set", "fraction.beta.sigma=0.25,0.5,1,2", "--out", str(out),
        "--draws", "300", "--tune", "300", "--chains", "2", "--processes", "1",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not list(points.glob("*.json")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    assert 1 <= len(finished) < 4, "the sweep should be killed midway"
    assert not out.exists()
    assert not list(points.glob(".*.tmp")), "a half-written point file was left"
    # Resume in this process (whose compiled model other tests may already hold): the point files
    # are keyed by what determines them, so the API run picks up what the killed CLI run finished.
    resumed = sweeps.sweep(
        "hierarchical_han", {"fraction.beta.sigma": [0.25, 0.5, 1, 2]}, out=out, processes=1, **SMALL
    )
    after = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    assert len(after) == 4
    assert all(after[name] == mtime for name, mtime in finished.items()), "a finished point was run again"
    fresh = sweeps.sweep("hierarchical_han", {"fraction.beta.sigma": [0.25, 0.5, 1, 2]}, processes=1, **SMALL)
    np.testing.assert_array_equal(resumed["total_median"].values, fresh["total_median"].values)
    import xarray as xr

    with xr.open_dataset(out, engine="h5netcdf") as saved:
        np.testing.assert_array_equal(saved["total_median"].values, fresh["total_median"].values)


@pytest.mark.slow
def test_dated_points_on_a_dask_local_cluster_match_the_serial_run(data):
    distributed = pytest.importorskip("distributed")
    grid = {"databases.typed_share.alpha": [4.0, 18.0]}
    serial = sweeps.sweep("dated", grid, data=data, threads=1, **DATED_SMALL)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = sweeps.sweep("dated", grid, data=data, client=client, **DATED_SMALL)
    for name in ("total_median", "total_q05", "total_q95", "share_median", "min_ess", "max_rhat"):
        np.testing.assert_array_equal(remote[name], serial[name])


@pytest.mark.slow
def test_dated_points_in_a_process_pool_match_the_serial_run(data):
    grid = {"campaign.start.default.around": ["2017-10", "2019-10"]}
    serial = sweeps.sweep("dated", grid, data=data, threads=1, **DATED_SMALL)
    pooled = sweeps.sweep("dated", grid, data=data, processes=2, **DATED_SMALL)
    for name in ("total_median", "total_q05", "total_q95", "share_median"):
        np.testing.assert_array_equal(pooled[name], serial[name])


def _sweep_result(model: str, spec_hash: str, *, description: str | None = None):
    """A sweep's result as ``dnamodel sweep`` writes it, with only what a report reads back."""
    import xarray as xr

    from dnamodel import __version__

    result = xr.Dataset({"total_median": (("fraction.unreported_offset",), [1.0e5, 0.9e5])})
    result = result.assign_coords({"fraction.unreported_offset": [0.0, -1.0]})
    result.attrs.update(
        {
            "model": model,
            "spec_hash": spec_hash,
            "data_version": "d1",
            "dnamodel_version": __version__,
            "grid": json.dumps({"fraction.unreported_offset": [0.0, -1.0]}),
            **({"description": description} if description else {}),
        }
    )
    return result


def test_a_report_reads_the_users_own_sweeps_of_its_fit_and_marks_the_rest_stale(tmp_path):
    """Issue 23: `report --sweeps DIR` took only the shipped sweeps' names and suggested `make sweeps`."""
    from dnamodel import __version__
    from dnamodel.outputs.sweep import of_model, read_sweeps

    write = sweeps.write_sweep
    write(_sweep_result("quillmoor_dated", "h1", description="The lag of the others"), tmp_path / "lag.nc")
    write(_sweep_result("quillmoor_dated", "h1"), tmp_path / "untitled.nc")
    write(_sweep_result("quillmoor_dated", "h0"), tmp_path / "old_spec.nc")
    write(_sweep_result("another_model", "h1"), tmp_path / "other.nc")  # another model's: passed over
    (tmp_path / "notes.nc").write_text("not a NetCDF file")
    attrs = {"model": "quillmoor_dated", "spec_hash": "h1", "data_version": "d1", "dnamodel_version": __version__}
    found, missing = read_sweeps(tmp_path, attrs)
    assert missing == []  # no shipped sweep of a user's model to miss
    by_name = {s.name: s for s in found}
    assert sorted(by_name) == ["lag", "old_spec", "untitled"]
    assert by_name["lag"].title == "The lag of the others"
    assert by_name["untitled"].title == "Sweep of fraction.unreported_offset"
    assert by_name["lag"].stale is None
    assert by_name["old_spec"].stale == "a sweep of spec h0, the fit's is h1"
    assert [s.name for s in of_model(found, "quillmoor_dated")] == ["lag", "untitled"]


def test_a_sweep_keeps_the_description_it_was_run_with(tmp_path):
    folder = Path(__file__).parent.parent / "dnamodel" / "examples" / "maravel"
    data = load_data(folder / "data")
    result = sweeps.sweep(
        str(folder / "models" / "dated.toml"),
        {"fraction.unreported_offset": [0.0, -1.0]},
        data=data,
        description="How much the towns without reports lag",
        **DATED_SMALL,
    )
    assert result.attrs["description"] == "How much the towns without reports lag"


def test_a_sweep_tornado_without_the_models_own_interval_draws_without_a_warning(tmp_path):
    """A sweep whose grid leaves out the spec's own values has no reference interval: no empty legend (issue 23)."""
    from dnamodel.outputs.sweep_plots import SweepRow, sweep_tornado_plot

    row = SweepRow("lag of the others", "-1", "0", (80_000.0, 90_000.0, 100_000.0), (90_000.0, 1.0e5, 1.1e5))
    assert sweep_tornado_plot([row], None, tmp_path / "t.png", title="A sweep").is_file()  # warnings are errors
