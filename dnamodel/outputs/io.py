"""A fit's files: NetCDF written and read back, the CSV summary, and the figures.

:func:`write_netcdf` writes an ``InferenceData`` (or any dataset) atomically and
:func:`read_netcdf` reads a saved fit back; :func:`summary_csv` lays a summary out as a long CSV;
:func:`write_outputs` writes the NetCDF, the CSV and the figures of ``dnamodel estimate`` (those
its model family chooses) into one folder.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dnamodel.checks.summary import Summary
from dnamodel.files import atomic_write_text
from dnamodel.inference.sampling import quiet_arviz

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


def write_netcdf(idata: az.InferenceData, path: str | Path) -> Path:
    """Write the InferenceData to NetCDF atomically (temporary file, then rename)."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        idata.to_netcdf(temporary, engine="h5netcdf")
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_netcdf(path: str | Path) -> az.InferenceData:
    """Read a saved fit back."""
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    return az.from_netcdf(path, engine="h5netcdf")


def write_outputs(
    idata: az.InferenceData, summary: Summary, out: str | Path, figures: Sequence[tuple[str, Drawer]]
) -> list[Path]:
    """Write the NetCDF, the CSV summary and the figures into ``out``; return the paths.

    ``figures`` are ``(suffix, drawer)``: each is drawn into ``MODEL_SUFFIX.png``, in order (the model
    family chooses them: the total's posterior, its own figures, the prior predictive).
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    stem = summary.model or "fit"
    paths = [write_netcdf(idata, folder / f"{stem}.nc")]
    csv_path = folder / f"{stem}_summary.csv"
    atomic_write_text(csv_path, summary_csv(summary))
    paths.append(csv_path)
    paths += [draw(folder / f"{stem}_{suffix}.png") for suffix, draw in figures]
    return paths
