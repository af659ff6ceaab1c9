"""The figures, as PNG files: dnamodel's public figure module (``from dnamodel import plots``).

Each function draws one figure and returns the path it wrote (atomically: a temporary file, then
a rename). The figures of a fit take the ``InferenceData`` of :func:`dnamodel.fit` (or
:func:`dnamodel.read_fit`), and those that need the model's inputs or the study's words rebuild
them from the fit's provenance, as the checks of :mod:`dnamodel.workflows.checkfit` do:

- a fit: :func:`prior_predictive_plot`, :func:`rank_plot`, :func:`parameter_plot`,
  :func:`total_posterior_plot` and :func:`forest_plot` (with :func:`dnamodel.summarize_fit`'s
  summary), :func:`predictive_plot` (of :func:`dnamodel.predictive_checks`, :func:`dnamodel.loo`
  and :func:`dnamodel.forecasts`); a dated fit: :func:`campaign_plot` and :func:`covariate_plot`;
- the case study's comparison figures: :func:`report_by_prefecture`, the report's own figure for
  each prefecture it estimates alone, to mark on :func:`forest_plot`;
- a Monte Carlo model: :func:`tornado_plot` (of :func:`dnamodel.tornado`);
- a sweep (:func:`dnamodel.sweep`): :func:`sweep_line_plot`, and :func:`sweep_tornado_plot` of
  every sweep's :func:`tornado_rows` against the default fit's :func:`reference_interval`.

Examples
--------
>>> import dnamodel
>>> from dnamodel import plots
>>> folder = dnamodel.example_path("quillmoor")
>>> idata = dnamodel.fit(folder / "models" / "dated.toml", dnamodel.load_data(folder / "data"),
...                      draws=100, tune=100, chains=2, prior_draws=100)
>>> plots.campaign_plot(idata, "campaign.png").name
'campaign.png'
>>> one_at_a_time = dnamodel.tornado(dnamodel.load_model("report_mc"))
>>> plots.tornado_plot(one_at_a_time.rows, one_at_a_time.baseline, "tornado.png", title="report_mc").name
'tornado.png'
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dnamodel.casestudy.tibet2022 import report_by_prefecture
from dnamodel.checks.powerscale import is_dated
from dnamodel.checks.rebuild import data_of_fit, inputs_of_fit
from dnamodel.outputs import plots as figures
from dnamodel.outputs.plots import (
    forest_plot,
    parameter_plot,
    predictive_plot,
    rank_plot,
    sweep_line_plot,
    sweep_tornado_plot,
    tornado_plot,
    total_posterior_plot,
)
from dnamodel.outputs.sweep import reference_interval, tornado_rows
from dnamodel.workflows.checkfit import prior_check

if TYPE_CHECKING:
    import arviz as az

    from dnamodel.data import Dataset

__all__ = [
    "campaign_plot",
    "covariate_plot",
    "forest_plot",
    "parameter_plot",
    "predictive_plot",
    "prior_predictive_plot",
    "rank_plot",
    "reference_interval",
    "report_by_prefecture",
    "sweep_line_plot",
    "sweep_tornado_plot",
    "tornado_plot",
    "tornado_rows",
    "total_posterior_plot",
]


def prior_predictive_plot(idata: az.InferenceData, path: str | Path, data: Dataset | None = None) -> Path:
    """The total under the priors alone (:func:`dnamodel.prior_check`), on a log scale.

    The census population and the database figures the data print are dotted lines; the study's
    comparison figures (``study.toml``) are dashed.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with prior draws.
    path : str or Path
        The PNG file to write.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> prior_predictive_plot(idata, "prior.png").name
    'prior.png'
    """
    data = data_of_fit(idata, data)
    inputs = inputs_of_fit(idata, data)
    check = prior_check(idata, data)
    stocks = figures.stocks(inputs) if is_dated(idata) else ()
    return figures.prior_predictive_plot(idata, check, path, study=data.study, stocks=stocks)


def campaign_plot(idata: az.InferenceData, path: str | Path, data: Dataset | None = None) -> Path:
    """A dated fit's campaign over time: everyone sampled by each date, and each database's stock.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit of a dated model.
    path : str or Path
        The PNG file to write.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> campaign_plot(idata, "campaign.png").name
    'campaign.png'
    """
    return figures.campaign_plot(idata, inputs_of_fit(idata, data), path)


def covariate_plot(idata: az.InferenceData, path: str | Path, data: Dataset | None = None) -> Path:
    """Each unit's fraction at saturation against its covariate, with its 90% interval.

    The units a local report counts are marked.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit of a dated model.
    path : str or Path
        The PNG file to write.
    data : Dataset, optional
        The data the fit was made from; by default read again from the location it records.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> covariate_plot(idata, "fraction.png").name
    'fraction.png'
    """
    return figures.covariate_plot(idata, inputs_of_fit(idata, data), path)
