"""A fit's files: NetCDF written and read back, the CSV summary, and the figures.

:func:`write_netcdf` writes an ``InferenceData`` (or any dataset) atomically: the file is built in
memory (:func:`netcdf_bytes`) and handed to :func:`dnamodel.files.atomic_write_bytes`, so that a
full disk or a refused write is one :class:`~dnamodel.errors.UsageError` (h5py writing to a full
disk itself can crash the process). :func:`read_netcdf` reads a saved fit back, and refuses a file
that is not a readable NetCDF with one message; :func:`summary_csv` lays a summary out as a long
CSV; :func:`write_outputs` writes the NetCDF, the CSV, the tables authors paste and the figures of
``dnamodel estimate`` (those its model family chooses) into one folder, all or none.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnamodel.checks.summary import Summary
from dnamodel.errors import UsageError
from dnamodel.files import atomic_write_bytes, atomic_write_files, make_folder, remove_folders
from dnamodel.inference.sampling import quiet_arviz
from dnamodel.outputs.plots import figures_held

if TYPE_CHECKING:
    import arviz as az

Drawer = Callable[[Path], Path]
"""Draws one figure into the PNG file it is given and returns its path."""


def summary_csv(summary: Summary) -> str:
    """The summary as a long CSV: one row per quantity, statistic and interval."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["quantity", "statistic", "kind", "probability", "value"])
    for q in (summary.total, summary.share):
        for stat in ("median", "mean", "sd", "mcse_mean", "mcse_median"):
            writer.writerow([q.name, stat, "", "", repr(getattr(q, stat))])
        for i in q.intervals:
            writer.writerow([q.name, "low", i.kind, i.prob, repr(i.low)])
            writer.writerow([q.name, "high", i.kind, i.prob, repr(i.high)])
    for e in summary.exceedance:
        writer.writerow(["total", f"P(total > {e.threshold:.0f})", "", "", repr(e.probability)])
        writer.writerow(["total", f"mcse P(total > {e.threshold:.0f})", "", "", repr(e.mcse)])
    for g in summary.groups:
        writer.writerow([f"group_total[{g.group}]", "median", "", "", repr(g.median)])
        writer.writerow([f"group_total[{g.group}]", "low", "equal-tailed", 0.9, repr(g.low)])
        writer.writerow([f"group_total[{g.group}]", "high", "equal-tailed", 0.9, repr(g.high)])
    for key, value in summary.provenance.items():
        writer.writerow(["provenance", key, "", "", value])
    return out.getvalue()


def netcdf_bytes(dataset: Any) -> bytes:
    """An ``InferenceData``, or an ``xarray.Dataset``, as the bytes of a NetCDF-4 file, built in memory.

    Each group is a NetCDF group, and its numeric variables are compressed (zlib), as
    ``InferenceData.to_netcdf`` writes them; ``attrs`` are the file's (an ``InferenceData``'s at its root).
    """
    if hasattr(dataset, "to_datatree"):  # an InferenceData: one group per NetCDF group
        tree = dataset.to_datatree()
        encoding = {node.path: _compressed(node.dataset) for node in tree.subtree if node.path != "/"}
        return bytes(tree.to_netcdf(engine="h5netcdf", encoding=encoding))
    return bytes(dataset.to_netcdf(engine="h5netcdf", encoding=_compressed(dataset)))


def _compressed(dataset: Any) -> dict[str, dict[str, bool]]:
    return {name: {"zlib": True} for name, values in dataset.variables.items() if values.dtype.kind in "biufcS"}


def write_netcdf(idata: Any, path: str | Path) -> Path:
    """Write an ``InferenceData`` (or a dataset) to NetCDF atomically: built in memory, then written and renamed.

    Raises
    ------
    UsageError
        If the operating system refuses the write (:func:`dnamodel.files.atomic_write_bytes`).
    """
    target = Path(path)
    atomic_write_bytes(target, netcdf_bytes(idata))
    return target


def read_netcdf(path: str | Path) -> az.InferenceData:
    """Read a saved fit back.

    Raises
    ------
    UsageError
        If the file cannot be read or is not a NetCDF file (a pickle renamed ``.nc``, a truncated
        or damaged file), naming it and the reason.
    """
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    try:
        return az.from_netcdf(path, engine="h5netcdf")
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"{path}: not a readable NetCDF fit ({reason})") from None


def render_outputs(
    idata: az.InferenceData,
    summary: Summary,
    out: str | Path,
    figures: Sequence[tuple[str, Drawer]],
    tables: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
) -> dict[str | Path, bytes]:
    """The files :func:`write_outputs` writes, rendered in memory: ``{path in out: bytes}``; nothing is written.

    ``out`` need not exist yet (the write creates it). ``stop``, if given and set, ends the rendering
    before its next file with :class:`RenderingStopped`: ``estimate`` renders in a thread while its
    assumptions refit, and a failure or Ctrl-C there should not wait for every figure.
    """
    folder = Path(out)
    stem = summary.model or "fit"

    def going_on() -> None:
        if stop is not None and stop.is_set():
            raise RenderingStopped

    going_on()
    contents: dict[str | Path, bytes] = {folder / f"{stem}.nc": netcdf_bytes(idata)}
    contents[folder / f"{stem}_summary.csv"] = summary_csv(summary).encode("utf-8")
    with figures_held() as held:
        drawn = []
        for suffix, draw in figures:
            going_on()
            drawn.append(draw(folder / f"{stem}_{suffix}.png"))
    contents.update((path, held[path]) for path in drawn)
    for suffix, text in (tables or {}).items():
        contents[folder / f"{stem}_{suffix}"] = text.encode("utf-8")
    return contents


class RenderingStopped(Exception):
    """:func:`render_outputs` was asked to stop (its caller failed or was interrupted); nothing was rendered."""


def write_outputs(
    idata: az.InferenceData,
    summary: Summary,
    out: str | Path,
    figures: Sequence[tuple[str, Drawer]],
    tables: Mapping[str, str] | None = None,
    rendered: Mapping[str | Path, bytes] | None = None,
) -> list[Path]:
    """Write the NetCDF, the CSV summary, the tables and the figures into ``out``, all or none; return the paths.

    ``figures`` are ``(suffix, drawer)``: each is drawn into ``MODEL_SUFFIX.png``, in order (the model
    family chooses them: the total's posterior, its own figures, the prior predictive). ``tables``
    are ``{suffix: text}``, each written to ``MODEL_SUFFIX`` (the Markdown and LaTeX tables).
    Everything is rendered in memory first (:func:`render_outputs`; or given as ``rendered``, its
    result, and then ``idata``, ``summary``, ``figures`` and ``tables`` are not used) and then written
    with :func:`dnamodel.files.atomic_write_files`: a refused write leaves no file of the set, and a
    folder created for them is removed again.

    Raises
    ------
    UsageError
        If the folder cannot be created or a file cannot be written, naming it and the reason.
    """
    folder = Path(out)
    created = make_folder(folder)
    try:
        contents = render_outputs(idata, summary, folder, figures, tables) if rendered is None else rendered
        return atomic_write_files(contents)
    except BaseException:
        remove_folders(created)
        raise
