"""The work of ``dnamodel report``: a saved fit, read back and checked, drawn as one HTML file.

:func:`draw_report` reads a fit's NetCDF (as ``dnamodel estimate`` writes it), rebuilds its spec,
data and inputs through its model family (:func:`dnamodel.families.fit_of`, which refuses a fit whose
spec text no longer matches its hash, or whose data are not ``data``), recomputes its summary and
checks, reads its saved leave-one-out and forecasts, power-scales it from its saved log densities,
reads the shipped sweeps' results, and has :func:`dnamodel.outputs.html.render_report` draw it with
the family's own sections and any application's extensions. :func:`write_report_documents` writes
beside it the tables and citation authors paste, and the page as PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dnamodel.data import Dataset
from dnamodel.errors import UsageError
from dnamodel.families import Capability, fit_of
from dnamodel.files import atomic_write_files
from dnamodel.outputs.formats import summary_documents
from dnamodel.outputs.html import ReportExtension, ReportResult, ReportView, render_report
from dnamodel.outputs.io import read_netcdf
from dnamodel.outputs.pdf import page_pdf
from dnamodel.outputs.sweep import read_sweeps
from dnamodel.workflows.said import what_decides
from dnamodel.workflows.voi import DEFAULT_SIMULATIONS


def draw_report(
    fit_path: str | Path,
    out: str | Path,
    *,
    data: Dataset | None = None,
    sweeps_dir: str | Path | None = "results/sweeps",
    extensions: Callable[[Dataset], Sequence[ReportExtension]] | None = None,
) -> ReportResult:
    """Draw the HTML report of a saved fit and write it atomically.

    Parameters
    ----------
    fit_path : str or Path
        A fit's NetCDF, as ``dnamodel estimate`` writes it (``results/MODEL.nc``).
    out : str or Path
        The HTML file to create or replace; its folder is created if needed.
    data : Dataset, optional
        The data the fit was made from; by default, read again from the location the fit
        records. Its version must be the fit's.
    sweeps_dir : str or Path, optional
        Where the shipped sweeps' NetCDF files are (``make sweeps``); ``None`` leaves the
        sweep section out.
    extensions : callable, optional
        Given the fit's data, the extensions of the applications on top of the engine to draw with
        it (the interface's choice: the case study's audit and marks on the case study's data).

    Returns
    -------
    ReportResult
        The file written, the summary, the figures' ids, the sweeps shown and the parts
        missing (no leave-one-out, no power-scaling, no sweeps).

    Raises
    ------
    UsageError
        If the file is not a fit of a model with a report, its spec text does not hash to the
        recorded hash, or its data version is not ``data``'s.

    Examples
    --------
    A fit takes a compile; :func:`dnamodel.report` draws one, and ``tests/test_report.py`` opens it in Chromium:

    >>> draw_report("results/dated.nc", "results/report.html")  # doctest: +SKIP
    """
    source = Path(fit_path)
    if not source.is_file():
        raise UsageError(f"{source}: no such fit; make one with `dnamodel estimate` (it writes results/MODEL.nc)")
    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{target}: a report is an HTML file; give a name ending in .html")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name ending in .html")
    idata = read_netcdf(source)
    family, fit, data = fit_of(idata, data, str(source))
    family.require(Capability.REPORT, fit.spec.name)
    saved = family.saved_checks(idata)
    prior = family.prior_check(fit)
    groups = idata.groups()
    # from the saved groups, no refit; a fit saved without them is drawn without power-scaling
    scaling = family.power_scaling(fit, None) if "log_prior" in groups and "log_likelihood" in groups else None
    sweeps, missing_sweeps = read_sweeps(sweeps_dir, idata.attrs) if sweeps_dir is not None else ([], [])
    summary = family.summarize(fit, data)
    # the refits are read from the fit's folder, where estimate cached them: the report refits nothing
    said = what_decides(family, fit, data, summary, source.parent, assumptions="cached", scaling=scaling)
    # the value of information by reweighting the fit's draws (seconds; its refits are `dnamodel voi --refits`)
    voi = (
        family.value_of_information(fit, data, DEFAULT_SIMULATIONS, 0, family.refit_settings(idata.attrs))
        if (family.supports(Capability.VALUE_OF_INFORMATION))
        else None
    )
    view = ReportView(
        idata=idata,
        data=data,
        summary=summary,
        said=said,
        model=family.report_model(fit, data, prior, target),
        checks=family.predictive_checks(fit),
        loo=None if saved.loo is None else list(saved.loo),
        loo_draws=saved.loo_draws,
        forecasts=None if saved.forecasts is None else list(saved.forecasts),
        sources=None if saved.sources is None else list(saved.sources),
        prior=prior,
        scaling=scaling,
        source=source,
        sweeps=sweeps,
        missing_sweeps=missing_sweeps,
        sweeps_dir=sweeps_dir,
        voi=voi,
    )
    return render_report(view, target, extensions=extensions(data) if extensions is not None else ())


def write_report_documents(report: ReportResult, *, chromium: str | None = None) -> list[Path]:
    """Beside a report's page, its tables and citation as Markdown and LaTeX, and with ``chromium`` the page as PDF.

    ``REPORT_tables.md`` and ``REPORT_tables.tex`` (:func:`dnamodel.outputs.formats.summary_documents`),
    and ``REPORT.pdf`` printed by that Chromium (:func:`dnamodel.outputs.pdf.page_pdf`), are written
    together, all or none, after the page.

    Raises
    ------
    UsageError
        If the browser cannot print the page, or the operating system refuses a write.
    """
    page = Path(report.path)
    contents: dict[str | Path, bytes] = {
        page.with_name(f"{page.stem}_{suffix}"): text.encode("utf-8")
        for suffix, text in summary_documents(report.summary).items()
    }
    if chromium is not None:
        contents[page.with_suffix(".pdf")] = page_pdf(page, chromium)
    return atomic_write_files(contents)
