"""The figures, as PNG files: dnamodel's public figure module (``from dnamodel import plots``).

Each function draws one figure and returns the path it wrote (atomically: a temporary file, then
a rename). The figures of a fit take the ``InferenceData`` of :func:`dnamodel.fit` (or
:func:`dnamodel.read_fit`), and those that need the model's inputs or the study's words rebuild
them from the fit's provenance through its model family, as the checks of
:mod:`dnamodel.workflows.checkfit` do:

- a fit: :func:`prior_predictive_plot`, :func:`rank_plot`, :func:`parameter_plot`,
  :func:`total_posterior_plot` and :func:`forest_plot` (with :func:`dnamodel.summarize`'s
  summary), :func:`predictive_plot` (of :func:`dnamodel.predictive_checks`,
  :func:`dnamodel.leave_one_out` and :func:`dnamodel.forecast_checks`); a fit whose family draws
  them (the dated model's): :func:`campaign_plot` and :func:`covariate_plot`;
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
>>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
...                      draws=100, tune=100, chains=2, prior_draws=100)
>>> plots.campaign_plot(idata, "campaign.png").name
'campaign.png'
>>> one_at_a_time = dnamodel.tornado(dnamodel.load_model("report_mc"))
>>> plots.tornado_plot(one_at_a_time.rows, one_at_a_time.baseline, "tornado.png", title="report_mc").name
'tornado.png'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dnamodel.casestudy.tibet2022 import report_by_prefecture
from dnamodel.deprecation import keyword_only_since
from dnamodel.errors import UsageError
from dnamodel.families import Capability, fit_of
from dnamodel.outputs import plots as figures
from dnamodel.outputs.check_plots import predictive_plot
from dnamodel.outputs.plots import forest_plot, rank_plot, total_posterior_plot
from dnamodel.outputs.sweep import reference_interval, tornado_rows
from dnamodel.outputs.sweep_plots import sweep_line_plot, sweep_tornado_plot, tornado_plot

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


@keyword_only_since("data")
def prior_predictive_plot(idata: az.InferenceData, path: str | Path, *, data: Dataset | None = None) -> Path:
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
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> prior_predictive_plot(idata, "prior.png").name
    'prior.png'
    """
    family, fit, data = fit_of(idata, data)
    family.require(Capability.PRIOR_CHECK, fit.spec.name)
    if "prior" not in idata.groups():
        raise UsageError("the fit has no prior draws: fit it with prior_draws above 0")
    check = family.prior_check(fit)
    return figures.prior_predictive_plot(idata, check, path, study=data.study, stocks=family.stocks(fit))


@keyword_only_since("data")
def campaign_plot(idata: az.InferenceData, path: str | Path, *, data: Dataset | None = None) -> Path:
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
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> campaign_plot(idata, "campaign.png").name
    'campaign.png'
    """
    return _family_figure(idata, data, "campaign", "no campaign over time")(Path(path))


@keyword_only_since("data")
def covariate_plot(idata: az.InferenceData, path: str | Path, *, data: Dataset | None = None) -> Path:
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
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> covariate_plot(idata, "fraction.png").name
    'fraction.png'
    """
    return _family_figure(idata, data, "fraction", "fraction at saturation by covariate")(Path(path))


def _family_figure(idata: az.InferenceData, data: Dataset | None, figure: str, lacking: str) -> Callable[[Path], Path]:
    """The drawer of one of a fit's own figures, as its model family gives them; refused when it has none."""
    family, fit, recorded = fit_of(idata, data)
    own: dict[str, Callable[[Path], Path]] = dict(family.figures(fit, recorded.study))
    if figure not in own:
        raise UsageError(f"the fit of {fit.spec.name} is {family.noun}, which has {lacking}")
    return own[figure]


@keyword_only_since("data")
def parameter_plot(idata: az.InferenceData, path: str | Path, *, data: Dataset | None = None) -> Path:
    r"""Each scalar parameter's posterior over its prior, each labelled in its own units.

    A fit's model family gives its parameters' labels; an ``InferenceData`` without a fit's
    provenance (no spec in its ``attrs``) is drawn with each in "model units".

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with a ``posterior`` group, and best a ``prior`` group (drawn behind in grey).
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
    >>> import arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"alpha": rng.normal(-1, 0.3, (2, 200))},
    ...                      prior={"alpha": rng.normal(-1, 1.5, (1, 400))})
    >>> parameter_plot(idata, "parameters.png").name
    'parameters.png'
    """
    axes = None
    if "spec" in idata.attrs:
        family, fit, fit_data = fit_of(idata, data)
        axes = family.parameter_axes(fit, fit_data.study)
    return figures.parameter_plot(idata, path, axis_labels=axes)
