"""A sweep's result presented: tornado rows, the spec's own point, table rows, plots; saved sweeps read back.

:func:`tornado_rows` takes each grid path at its first and last value; :func:`reference_interval`
finds the point where every path has the spec's own value; :func:`table_rows` lays every point out
for a table; :func:`write_plots` draws a sweep's tornado and, for a one-dimensional sweep, its line
plot; :func:`read_sweeps` reads the shipped sweeps' results for a report. The sweep itself runs in
:func:`dnamodel.workflows.sweep.sweep`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnamodel.outputs.sweep_plots import SweepRow, grid_labels, sweep_line_plot, sweep_tornado_plot
from dnamodel.spec import available_models
from dnamodel.spec.sweep import read_sweep, shipped_sweeps

if TYPE_CHECKING:
    import xarray as xr

OWN_VALUES = "own_values"
"""The attr of a sweep's result holding, as JSON, each grid path's value in the swept spec (its coordinate)."""


def _interval_at(result: Any, selection: Mapping[str, Any]) -> tuple[float, float, float]:
    point = result.isel(selection)
    return (float(point["total_q05"]), float(point["total_median"]), float(point["total_q95"]))


def _grid_paths(result: Any) -> list[str]:
    return [d for d in result["total_median"].dims]


def tornado_rows(result: xr.Dataset, label: str | None = None) -> list[SweepRow]:
    """One row per grid path: its first and last value, every other path at its first value.

    The rows :func:`dnamodel.plots.sweep_tornado_plot` draws; rows of several sweeps can be drawn
    together.

    Parameters
    ----------
    result : xarray.Dataset
        A sweep's result (:func:`dnamodel.sweep`).
    label : str, optional
        The row's label when the grid has one path (a sweep's description, say); by default the path.

    Returns
    -------
    list of SweepRow
        For each path: its label, first and last value (``low_label``, ``high_label``), and the
        total's ``(q05, median, q95)`` at each (``low``, ``high``).

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> result = dnamodel.sweep(str(folder / "models" / "dated.toml"), {"fraction.unreported_offset": [-1.0, 0.0]},
    ...                         data=dnamodel.load_data(folder / "data"), draws=100, tune=100, chains=2)
    >>> [(row.label, row.low_label, row.high_label) for row in tornado_rows(result)]
    [('fraction.unreported_offset', '-1.0', '0.0')]
    """
    rows = []
    paths = _grid_paths(result)
    for path in paths:
        others = {p: 0 for p in paths if p != path}
        values = grid_labels(result[path].values)
        rows.append(
            SweepRow(
                label if label and len(paths) == 1 else path,
                values[0],
                values[-1],
                _interval_at(result, others | {path: 0}),
                _interval_at(result, others | {path: result.sizes[path] - 1}),
            )
        )
    return rows


def reference_interval(result: xr.Dataset) -> tuple[float, float, float] | None:
    """The point where every path has the spec's own value, if the grid contains it.

    A value the spec leaves to its schema's default (``fraction.unreported_offset``,
    ``observations.NAME.use``) counts as the spec's own (:func:`dnamodel.spec.sweep.current_value`); the
    sweep records each path's in its result (``attrs["own_values"]``) when it runs.
    Run with the fit's seed and settings, that point is the default fit under another name.

    Parameters
    ----------
    result : xarray.Dataset
        A sweep's result (:func:`dnamodel.sweep`).

    Returns
    -------
    tuple of float, or None
        The total's ``(q05, median, q95)`` at that point; ``None`` if the grid does not contain it.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> result = dnamodel.sweep(str(folder / "models" / "dated.toml"), {"fraction.unreported_offset": [-1.0, 0.0]},
    ...                         data=dnamodel.load_data(folder / "data"), draws=100, tune=100, chains=2)
    >>> low, median, high = reference_interval(result)
    >>> low < median < high
    True
    """
    own = result.attrs.get(OWN_VALUES)
    if not own:  # a sweep written before its result recorded the spec's own values: no reference point
        return None
    values = json.loads(own)
    selection = {}
    for path in _grid_paths(result):
        value = values.get(path)
        if value is None:
            return None
        matches = [i for i, v in enumerate(result[path].values) if v == value]
        if not matches:
            return None
        selection[path] = matches[0]
    return _interval_at(result, selection)


def write_plots(result: Any, out: str | Path, title: str, study: Any = None) -> list[Path]:
    """Write a sweep's tornado plot, and for a one-dimensional sweep its line plot, next to ``out``.

    ``study`` (``Dataset.study``) gives the axes' words and the comparison figures drawn dashed.
    """
    stem = Path(out).with_suffix("")
    reference = reference_interval(result)
    tornado = f"{stem}_tornado.png"
    written = [sweep_tornado_plot(tornado_rows(result), reference, tornado, title=title, study=study)]
    if len(_grid_paths(result)) == 1:
        written.append(sweep_line_plot(result, f"{stem}_line.png", title=title, study=study))
    return written


def table_rows(result: Any) -> list[list[str]]:
    """One row per grid point: the settings, the total's median and 90% interval, share, diagnostics."""
    paths = _grid_paths(result)
    rows = []
    for index in itertools.product(*(range(result.sizes[p]) for p in paths)):
        point = result.isel(dict(zip(paths, index, strict=True)))
        row = [str(point[p].values) for p in paths]
        row += [
            f"{float(point['total_median']):,.0f}",
            f"{float(point['total_q05']):,.0f} to {float(point['total_q95']):,.0f}",
            f"{float(point['share_median']):.1%}",
        ]
        if "passed" in point:
            row += [
                str(point["start"].values) if "start" in point else "cold",
                str(int(point["divergences"])),
                f"{float(point['max_rhat']):.3f}",
                f"{float(point['min_ess']):,.0f}",
                "ok" if bool(point["passed"]) else "FAIL",
            ]
        rows.append(row)
    return rows


@dataclass(frozen=True)
class SweepSummary:
    """One sweep result read back from its NetCDF file: a shipped sweep's, or one of the user's own."""

    name: str
    title: str
    path: Path
    result: Any
    stale: str | None


def read_sweeps(folder: str | Path, attrs: Mapping[str, Any]) -> tuple[list[SweepSummary], list[str]]:
    """Every sweep result in ``folder`` of the fit's model (``attrs``, a fit's), and the shipped ones missing.

    A sweep result is any NetCDF file ``dnamodel sweep`` wrote there (``--out FOLDER/NAME.nc``; ``make
    sweeps`` writes the shipped ones): the user's own sweeps as the shipped ones. Those of the fit's
    spec (its hash) and data (their version) are its sweeps; those of the same model but another spec,
    data or dnamodel version, and those of another model under the name of a shipped sweep of the fit's,
    are marked stale (``SweepSummary.stale``); other models' results, and files that are not sweep
    results, are passed over. The missing are the shipped sweeps of the fit's model (a shipped model's)
    not found.

    Examples
    --------
    >>> found, missing = read_sweeps("no/such/folder", {"model": "hierarchical_han"})
    >>> found, "thesis" in missing
    ([], True)
    """
    import xarray as xr  # deferred: start-up time

    model = attrs.get("model")
    # a model of the user's own has no shipped sweeps (shipped_sweeps refuses a name it does not ship)
    shipped = shipped_sweeps(model) if model in available_models() else []
    found: list[SweepSummary] = []
    paths = sorted(Path(folder).glob("*.nc")) if Path(folder).is_dir() else []
    for path in paths:
        try:
            result = xr.load_dataset(path, engine="h5netcdf")
        except (OSError, ValueError):  # not a NetCDF file dnamodel can read: not a sweep's result
            continue
        if "grid" not in result.attrs or "total_median" not in result:
            continue
        if result.attrs.get("model") != model and path.stem not in shipped:
            continue
        stale = None
        if result.attrs.get("model") != model:
            stale = f"a sweep of {result.attrs.get('model')}, not of the fit's {model}"
        elif result.attrs.get("spec_hash") != attrs.get("spec_hash"):
            stale = f"a sweep of spec {result.attrs.get('spec_hash')}, the fit's is {attrs.get('spec_hash')}"
        elif result.attrs.get("data_version") != attrs.get("data_version"):
            stale = f"data {result.attrs.get('data_version')}, the fit's is {attrs.get('data_version')}"
        elif str(result.attrs.get("dnamodel_version")) != str(attrs.get("dnamodel_version")):
            stale = (
                f"run by dnamodel {result.attrs.get('dnamodel_version')}, the fit by {attrs.get('dnamodel_version')}"
            )
        found.append(SweepSummary(path.stem, _title(path.stem, result, shipped), path, result, stale))
    missing = [name for name in shipped if name not in {s.name for s in found}]
    return found, missing


def _title(name: str, result: Any, shipped: Sequence[str]) -> str:
    """A sweep's title: its shipped sweep file's description, the one it was run with, or its grid's paths."""
    if name in shipped:
        return read_sweep(name).description
    return str(result.attrs.get("description") or "Sweep of " + ", ".join(_grid_paths(result)))


def of_model(sweeps: Sequence[SweepSummary], model: str | None) -> list[SweepSummary]:
    """The sweeps of ``model``'s fit, none stale: only they are set beside its interval in the tornado chart."""
    return [s for s in sweeps if s.result.attrs.get("model") == model and s.stale is None]
