"""dnamodel: uncertainty for a hidden total from scattered local reports.

The engine knows no region: a data folder (``units.csv``, ``areas.csv``, ``observations.csv``
and ``study.toml``) and model specs describe a collection programme. The bundled data are the
first application's, a case study of police DNA collection, 2016 to 2022 (Citizen Lab Research
Report No. 158), which :mod:`dnamodel.casestudy` replicates and audits.

The public API:

- :func:`load_data` and :func:`export_data`: the bundled, sourced data, or a folder of your own;
  :func:`examples` and :func:`example_path`: the example programmes shipped with the package;
  :func:`synthetic`: a synthetic programme of any size, simulated from the dated model at a known
  truth (a data folder, its spec and the truth);
- :func:`replicate`: the report's own estimate, step by step, exactly;
- :func:`audit`: where the report disagrees with itself and with the 2020 census;
- :func:`load_model`: a model spec of any kind (Monte Carlo, hierarchical, dated);
- :func:`monte_carlo`: a Monte Carlo model's draws; :func:`sobol` and :func:`tornado`: which
  uncertain inputs drive its total;
- :func:`fit` and :func:`diagnose`: the Bayesian models (dated or hierarchical) and their
  convergence gates (PyMC, nutpie and numba are imported on first use);
- :func:`summarize`: a model's total with its Monte Carlo errors, of a fit (for citation) or of a
  Monte Carlo model (streamed);
- :func:`read_fit` and :func:`write_fit`: a fit saved to NetCDF and read back, provenance and all;
- checks of a fit, from the ``InferenceData`` alone (each rebuilds what it needs from the fit's
  provenance, and its model family says whether it has the check): :func:`predictive_checks`,
  :func:`leave_one_out`, :func:`leave_one_source_out`, :func:`forecast_checks`, :func:`prior_check`,
  :func:`power_scaling`, :func:`scaled_estimate` (a posterior mean with one prior raised to a power, by reweighting the
  fit's draws) and :func:`scaled_refit` (the refit it stands in for), :func:`sbc` (of a fit's
  model, or a spec's), and what the data can see beside it: :func:`contraction` (prior to posterior)
  and :func:`fixed_truth` (coverage at fixed campaigns, fitted with the spec's priors);
  :func:`report`, the HTML report of a fit;
- :func:`sweep`: a model refitted over a grid of spec values; :func:`shipped_sweeps` and
  :func:`load_sweep`: the grids shipped with the package;
- :func:`compare`: models side by side, scored by exact leave-one-out, and stacked;
- :func:`voi`: the value of information of a fit: which figure, if found, would narrow the total's
  90% interval most.

Every function that reads data takes them as the keyword argument ``data=`` (the bundled data, or
for a fit the data it records, when omitted). Renamed in this release, and kept one release as
aliases that warn: ``loo`` (now :func:`leave_one_out`; ``arviz.loo`` returns an ELPD),
``forecasts`` (:func:`forecast_checks`), ``psens`` (:func:`power_scaling`; ``arviz.psens`` returns
the sensitivities alone) and ``summarize_fit`` (:func:`summarize`); ``data`` given by position
still works, with a warning.

The package is laid out along the path a figure takes (``ARCHITECTURE.md``): ``data``, ``spec``,
``montecarlo``, ``inference``, ``checks``, ``outputs``, the model ``families``, ``workflows``; the
case study (``casestudy``) is an application on top. The figures are the public module
:mod:`dnamodel.plots` (``from dnamodel import plots``).
"""

import warnings
from typing import Any

from dnamodel.applications import report
from dnamodel.casestudy.audit import audit
from dnamodel.casestudy.replicate import replicate
from dnamodel.checks.gates import diagnose
from dnamodel.checks.summary import Summary
from dnamodel.data import Dataset, example_path, examples, export_data, load_data, synthetic
from dnamodel.deprecation import REMOVAL, deprecated_alias
from dnamodel.errors import DataError, Problem, UsageError
from dnamodel.families import load_model, load_sweep
from dnamodel.montecarlo.run import monte_carlo
from dnamodel.montecarlo.sensitivity import sobol, tornado
from dnamodel.provenance import package_version
from dnamodel.spec.sweep import shipped_sweeps
from dnamodel.workflows.checkfit import (
    contraction,
    fixed_truth,
    forecast_checks,
    leave_one_out,
    leave_one_source_out,
    power_scaling,
    predictive_checks,
    prior_check,
    read_fit,
    sbc,
    scaled_estimate,
    scaled_refit,
    write_fit,
)
from dnamodel.workflows.compare import compare
from dnamodel.workflows.fit import fit, summarize
from dnamodel.workflows.sweep import sweep
from dnamodel.workflows.voi import voi

__version__ = package_version()

__all__ = [
    "DataError",
    "Dataset",
    "Problem",
    "UsageError",
    "__version__",
    "audit",
    "compare",
    "contraction",
    "diagnose",
    "example_path",
    "examples",
    "export_data",
    "fit",
    "fixed_truth",
    "forecast_checks",
    "leave_one_out",
    "leave_one_source_out",
    "load_data",
    "load_model",
    "load_sweep",
    "monte_carlo",
    "power_scaling",
    "predictive_checks",
    "prior_check",
    "read_fit",
    "replicate",
    "report",
    "sbc",
    "scaled_estimate",
    "scaled_refit",
    "shipped_sweeps",
    "sobol",
    "summarize",
    "sweep",
    "synthetic",
    "tornado",
    "voi",
    "write_fit",
]

# --- renamed; kept one release, each warning at every call -------------------------------------------

loo = deprecated_alias(leave_one_out, "loo")
forecasts = deprecated_alias(forecast_checks, "forecasts")
psens = deprecated_alias(power_scaling, "psens")


def summarize_fit(idata: Any, data: Dataset | None = None) -> Summary:
    """Deprecated: use :func:`dnamodel.summarize`, of which this is the old name for a fit's summary."""
    warnings.warn(
        f"dnamodel.summarize_fit is deprecated and will be removed in {REMOVAL}; use dnamodel.summarize",
        DeprecationWarning,
        stacklevel=2,
    )
    summary: Summary = summarize(idata, data=data)
    return summary


DEPRECATED = {
    "loo": "leave_one_out",
    "forecasts": "forecast_checks",
    "psens": "power_scaling",
    "summarize_fit": "summarize",
}
"""Old public names, kept one release, and the names that replace them."""
