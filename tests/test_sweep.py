"""Sweeps: paths, values, shipped sweep files, Monte Carlo and hierarchical grids, resuming, parallel runs."""

from __future__ import annotations

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

from dnamodel.cli import main
from dnamodel.errors import DataError, UsageError
from dnamodel.spec import load_model
from dnamodel.spec import sweep as sweep_spec
from dnamodel.workflows import sweep as sweeps

SMALL = {"draws": 300, "tune": 300, "chains": 2}
GRID = {"fraction.beta.sigma": [0.5, 1.0]}


def test_unknown_path_gets_did_you_mean():
    with pytest.raises(UsageError, match=re.escape("did you mean 'fraction.beta.sigma'")):
        sweeps.sweep("hierarchical_han", {"fraction.beta.sigmaa": [1.0]})
    with pytest.raises(UsageError, match="is a table"):
        sweeps.sweep("hierarchical_han", {"fraction.beta": [1.0]})


def test_paths_include_optional_schema_keys():
    paths = sweep_spec.known_paths(load_model("hierarchical_han").raw)
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


def test_shipped_sweeps_load_and_address_real_paths():
    assert sweep_spec.shipped_sweeps() == ["han_scale", "lhasa_base", "sigma_scale", "thesis", "zhagyab_base"]
    for name in sweep_spec.shipped_sweeps():
        job = sweep_spec.load_sweep(name)
        known = sweep_spec.known_paths(load_model(job.model).raw)
        assert set(job.grid) <= set(known), name


def test_bad_sweep_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmodel = "hierarchical_han"\n[grid]\n"thesis.use" = []\n[extra]\n', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        sweep_spec.load_sweep(path)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"extra", "sweep.description", "grid.thesis.use"}
    with pytest.raises(UsageError, match="did you mean 'thesis'"):
        sweep_spec.load_sweep("thesys")


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
    assert first["prefecture_median"].sizes["prefecture"] == 7
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
