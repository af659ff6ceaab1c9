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
- :func:`load_model`, :func:`monte_carlo` and :func:`summarize`: Monte Carlo models;
- :func:`sobol` and :func:`tornado`: which uncertain inputs drive a model's total;
- :func:`fit`, :func:`diagnose` and :func:`summarize_fit`: the Bayesian models (dated or
  hierarchical), their convergence gates and a summary to cite (PyMC, nutpie and numba are
  imported on first use);
- :func:`read_fit` and :func:`write_fit`: a fit saved to NetCDF and read back, provenance and all;
- checks of a fit, from the ``InferenceData`` alone (each rebuilds what it needs from the fit's
  provenance): :func:`predictive_checks`, :func:`loo`, :func:`forecasts`, :func:`psens`, and
  :func:`sbc` (of a fit's model, or a spec's); :func:`report`, the HTML report of a fit;
- :func:`prior_check`: what a fit's priors alone say about the total;
  :func:`scaled_estimate`: a posterior mean with one prior raised to a power, by reweighting the
  fit's draws, and :func:`scaled_refit`, the refit it stands in for;
- :func:`sweep`: a model refitted over a grid of spec values; :func:`shipped_sweeps` and
  :func:`load_sweep`: the grids shipped with the package;
- :func:`compare`: models side by side, scored by exact leave-one-out, and stacked.

The package is laid out along the path a figure takes (``ARCHITECTURE.md``): ``data``, then
``casestudy``, ``spec``, ``montecarlo``, ``inference``, ``checks``, ``outputs`` and ``workflows``.
The figures are the public module :mod:`dnamodel.plots` (``from dnamodel import plots``).
"""

from dnamodel.casestudy.audit import audit
from dnamodel.casestudy.replicate import replicate
from dnamodel.checks.gates import diagnose
from dnamodel.checks.summary import summarize_fit
from dnamodel.data import Dataset, example_path, examples, export_data, load_data, synthetic
from dnamodel.errors import DataError, Problem, UsageError
from dnamodel.inference.fit import fit
from dnamodel.montecarlo.run import monte_carlo, summarize
from dnamodel.montecarlo.sensitivity import sobol, tornado
from dnamodel.provenance import package_version
from dnamodel.spec import load_model
from dnamodel.spec.sweep import load_sweep, shipped_sweeps
from dnamodel.workflows.checkfit import (
    forecasts,
    loo,
    predictive_checks,
    prior_check,
    psens,
    read_fit,
    report,
    sbc,
    scaled_estimate,
    scaled_refit,
    write_fit,
)
from dnamodel.workflows.compare import compare
from dnamodel.workflows.sweep import sweep

__version__ = package_version()

__all__ = [
    "DataError",
    "Dataset",
    "Problem",
    "UsageError",
    "__version__",
    "audit",
    "compare",
    "diagnose",
    "example_path",
    "examples",
    "export_data",
    "fit",
    "forecasts",
    "load_data",
    "load_model",
    "load_sweep",
    "loo",
    "monte_carlo",
    "predictive_checks",
    "prior_check",
    "psens",
    "read_fit",
    "replicate",
    "report",
    "sbc",
    "scaled_estimate",
    "scaled_refit",
    "shipped_sweeps",
    "sobol",
    "summarize",
    "summarize_fit",
    "sweep",
    "synthetic",
    "tornado",
    "write_fit",
]
