"""A fit's files: NetCDF written and read back, the CSV summary, and the figures.

:func:`write_netcdf` writes an ``InferenceData`` (or any dataset) atomically and
:func:`read_netcdf` reads a saved fit back; :func:`summary_csv` lays a summary out as a long CSV;
:func:`write_outputs` writes the NetCDF, the CSV and the three figures of ``dnamodel estimate``
into one folder.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnamodel.checks.dated import prior_check as dated_prior_check
from dnamodel.checks.predictive import prior_check
from dnamodel.checks.summary import Summary
from dnamodel.files import atomic_write_text
from dnamodel.inference.sampling import quiet_arviz
from dnamodel.outputs import plots
from dnamodel.spec.dated import DatedInputs

if TYPE_CHECKING:
    import arviz as az


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
    for p in summary.prefectures:
        writer.writerow([f"prefecture_total[{p.prefecture}]", "median", "", "", repr(p.median)])
        writer.writerow([f"prefecture_total[{p.prefecture}]", "low", "equal-tailed", 0.9, repr(p.low)])
        writer.writerow([f"prefecture_total[{p.prefecture}]", "high", "equal-tailed", 0.9, repr(p.high)])
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


def write_outputs(idata: az.InferenceData, summary: Summary, out: str | Path, inputs: Any) -> list[Path]:
    """Write the NetCDF, the CSV summary and the figures into ``out``; return the paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    stem = summary.model or "fit"
    paths = [write_netcdf(idata, folder / f"{stem}.nc")]
    csv_path = folder / f"{stem}_summary.csv"
    atomic_write_text(csv_path, summary_csv(summary))
    paths.append(csv_path)
    paths.append(plots.total_posterior_plot(idata, summary, folder / f"{stem}_total.png"))
    if isinstance(inputs, DatedInputs):
        paths.append(plots.campaign_plot(idata, inputs, folder / f"{stem}_campaign.png"))
        paths.append(plots.covariate_plot(idata, inputs, folder / f"{stem}_fraction.png"))
        check = dated_prior_check(idata, inputs)
    else:
        paths.append(plots.fraction_plot(idata, inputs, folder / f"{stem}_fraction_han.png"))
        check = prior_check(idata, inputs)
    target = folder / f"{stem}_prior_predictive.png"
    paths.append(plots.prior_predictive_plot(idata, check, target, study=summary.study, stocks=plots.stocks(inputs)))
    return paths
