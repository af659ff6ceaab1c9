"""The applications on top of the engine, chosen for the data; and the public report, which passes them in.

The engine knows no region. An application is a study built on it that adds its own parts to the
outputs through the hook they expose (:class:`dnamodel.outputs.html.ReportExtension`): the bundled
case study (:mod:`dnamodel.casestudy`) adds the audit of the report it replicates to the HTML
report, and the report's figures by prefecture to the forest plot. :data:`APPLICATIONS` lists them,
explicitly; :func:`extensions_for` chooses them for a data folder, and the command line and
:func:`report` pass them in. Nothing in the engine imports an application.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from dnamodel.casestudy import tibet2022
from dnamodel.data import Dataset
from dnamodel.data.study import STUDY_FILE
from dnamodel.deprecation import keyword_only_since
from dnamodel.errors import DataError, Problem, UsageError, did_you_mean
from dnamodel.files import make_folder
from dnamodel.outputs.html import ReportExtension, ReportResult
from dnamodel.workflows.checkfit import write_fit
from dnamodel.workflows.report import draw_report

if TYPE_CHECKING:
    import arviz as az

APPLICATIONS: Mapping[str, ReportExtension] = {tibet2022.NAME: tibet2022.CASE_STUDY}
"""Every application shipped, by the name a data folder's ``study.toml`` gives it (``[study] application``)."""


def extensions_for(data: Dataset) -> list[ReportExtension]:
    """The applications whose parts the outputs of ``data`` add.

    The one the data's ``study.toml`` names (``[study] application``); without one, the case study's
    when the data hold its report's figures (the bundled data, or a copy of them), and none otherwise.

    Raises
    ------
    DataError
        If ``study.toml`` names an application there is not, naming the file and the key.

    Examples
    --------
    >>> import dnamodel
    >>> [type(e).__name__ for e in extensions_for(dnamodel.load_data())]
    ['CaseStudyReport']
    >>> extensions_for(dnamodel.load_data(dnamodel.example_path("quillmoor") / "data"))
    []
    """
    named = data.study.words.application
    if named is not None:
        if named not in APPLICATIONS:
            file = STUDY_FILE if data.location == "bundled" else str(Path(data.location) / STUDY_FILE)
            hint = did_you_mean(named, list(APPLICATIONS))
            message = f"unknown application {named!r}{hint}; applications: {', '.join(APPLICATIONS)}"
            raise DataError([Problem(file, None, "study.application", message)])
        return [APPLICATIONS[named]]
    return [tibet2022.CASE_STUDY] if tibet2022.report_gap(data) is None else []


@keyword_only_since("data")
def report(
    fit: az.InferenceData | str | Path,
    out: str | Path,
    *,
    data: Dataset | None = None,
    sweeps_dir: str | Path | None = None,
) -> ReportResult:
    """The HTML report of a fit: one self-contained file to read, check and cite.

    Parameters
    ----------
    fit : arviz.InferenceData, str or Path
        A fit, or its saved NetCDF. A fit not yet saved is written beside the report first
        (``out`` with the suffix ``.nc``), so that the report's "how to reproduce" names a file
        that exists.
    out : str or Path
        The HTML file to write (its name ends in ``.html``).
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.
    sweeps_dir : str or Path, optional
        Where the shipped sweeps' results are (``make sweeps``); by default none are shown.

    Returns
    -------
    ReportResult
        The file written, the summary, the figures' ids, the sweeps shown and the parts missing.

    Raises
    ------
    UsageError
        If ``out`` is not an HTML file name, the fit is not a dnamodel fit, or its data are not ``data``.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=200, tune=200, chains=2, prior_draws=200)
    >>> result = dnamodel.report(idata, "quillmoor.html")
    >>> result.path.name, result.path.with_suffix(".nc").is_file()
    ('quillmoor.html', True)
    """
    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{target}: a report is an HTML file; give a name ending in .html")
    if isinstance(fit, str | Path):
        source = Path(fit)
    else:
        make_folder(target.parent, "the report's folder")
        source = write_fit(fit, target.with_suffix(".nc"))
    return draw_report(source, target, data=data, sweeps_dir=sweeps_dir, extensions=extensions_for)
