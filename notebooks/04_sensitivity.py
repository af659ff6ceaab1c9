# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
"""
# 04 · Sensitivity: how far the priors and the judgement calls move the total.

Four observations carry the hierarchical model of notebook 03, and it has three hyperparameters
(α, β, σ) plus several fixed judgement calls: Lhasa's resident uplift, Zhagyab's base, the thesis
bound. A reviewer's next question is how much of the answer comes from those choices rather than
from the data. This notebook asks it in two complementary ways.

1. **Power-scaling** (Kallioinen et al. 2024): a *local* check. Raise the prior, or the
   likelihood, to a power close to 1 and measure how far each posterior moves, by reweighting the
   draws already in hand (no refit). Which component the posterior is sensitive to is the
   diagnosis.
2. **The shipped sweeps** (`dnamodel/models/sweeps/`): a *global* check. Refit the model with one
   assumption set to each of a few named alternatives (a prior's scale, the thesis on or off,
   another base for Zhagyab) and compare the totals. Every point uses the same seed (common random
   numbers), so differences between points are the assumption's, not the draws'.

The sweeps write their points to files as they finish, keyed by everything that determines them,
so rerunning this notebook resumes instead of refitting (`DNAMODEL_NOTEBOOK_OUT`).
"""

# %% tags=["parameters"]
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Image, display

import dnamodel
from dnamodel.checks.gates import diagnose
from dnamodel.checks.powerscale import add_log_densities, power_scaling, scaled_estimate
from dnamodel.inference.sampling import fit_model
from dnamodel.outputs import plots
from dnamodel.outputs.sweep import reference_interval, tornado_rows
from dnamodel.spec.sweep import load_sweep, shipped_sweeps
from dnamodel.workflows.sweep import sweep

# Parameters. `make notebooks` passes reduced settings through the environment; 0 or unset means
# the spec's own `[sampler]` setting (4 chains × 2,500 draws after 1,000 tuning steps, seed 20220913),
# for the fit and for every sweep point alike.
DRAWS = int(os.environ.get("DNAMODEL_DRAWS", 0)) or None
TUNE = int(os.environ.get("DNAMODEL_TUNE", 0)) or None
CHAINS = int(os.environ.get("DNAMODEL_CHAINS", 0)) or None
SEED = int(os.environ.get("DNAMODEL_SEED", 0)) or None
OUT = Path(os.environ.get("DNAMODEL_NOTEBOOK_OUT", "results/notebooks")) / "04_sensitivity"

# %%
# PyTensor compiles the log densities for power-scaling in C; without a BLAS library it says so.
# That costs speed only, on arrays this small nothing.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS installation")
SWEEPS = OUT / "sweeps"
SWEEPS.mkdir(parents=True, exist_ok=True)
MODEL = "hierarchical_han"
print(f"dnamodel {dnamodel.__version__}; writing to {OUT}")

# %% [markdown]
# ## 1. The fit
#
# The default model, as in notebook 03. The gates matter here too: power-scaling reweights the
# posterior draws, and a sensitivity computed from draws that have not converged measures the
# sampler, not the model. At reduced draws, read the numbers below as a demonstration.

# %%
idata, fitted = fit_model(MODEL, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED)
gates = diagnose(idata)
a = idata.attrs
print(f"{a['chains']} chains × {a['draws']:,} draws after {a['tune']:,}; seed {a['seed']}")
print("gates passed" if gates.passed else "gates FAILED: " + "; ".join(gates.failures))

# %% [markdown]
# ## 2. Power-scaling sensitivity
#
# For each quantity, psens reports two numbers: how far its posterior moves (a cumulative
# Jensen-Shannon distance per unit of log₂ of the power) when the **prior** is scaled, and when
# the **likelihood** is. What is scaled (module `dnamodel.checks.powerscale`): the top-level priors only
# (α, β, σ, ℓ, τ, the rows' centre), not the unit-level structure; and as likelihood every observed
# count *and* the thesis bound, which is data about the total.
#
# How to read the diagnosis (priorsense's rules, threshold 0.05):
#
# - **likelihood-sensitive only** (`-`): the healthy case. The data decide.
# - **strong prior / weak likelihood**: the prior moves the posterior and the data barely do.
#   The posterior largely restates the prior; report it as such, and show the prior.
# - **prior-data conflict**: both move it. Prior and data pull in different directions, and the
#   answer depends on which is scaled harder.
#
# With four observations and three hyperparameters, expect flags on α, β and σ (model card 4.11).
# The values carry Monte Carlo error: at reduced draws, a value near 0.05 can flip either way.

# %%
start = time.perf_counter()
idata = add_log_densities(idata, fitted)  # computed once, used by both calls below
scaling = power_scaling(idata, fitted)
print(f"scaled priors: {', '.join(scaling.prior_terms)}; likelihood terms: {', '.join(scaling.likelihood_terms)}")
print(f"({time.perf_counter() - start:.1f} s)")
pd.DataFrame([row.__dict__ for row in scaling.rows]).set_index("quantity").round(3)

# %% [markdown]
# **How far, in the units people cite?** psens says *whether* the total is prior-sensitive; a
# finite power says *how much*. `scaled_estimate` reweights the same draws as if β's prior had been
# raised to the power 0.5 (a prior √2 times wider) or 2 (√2 times narrower), and gives the posterior
# mean of the total under each, with a Pareto k that says whether the reweighting can be trusted
# (reliable below the threshold; Vehtari et al. 2024). The sweep over β's scale below does the same
# by refitting, over a wider range.

# %%
baseline_mean = float(idata.posterior["total"].mean())
print(f"posterior mean of the total: {baseline_mean:,.0f}")
for prior_name in ("beta", "sigma"):
    for power in (0.5, 2.0):
        e = scaled_estimate(idata, fitted, prior_name, power, "total")
        flag = "reliable" if e.reliable else f"UNRELIABLE (k ≥ {e.k_threshold:.2f})"
        print(
            f"{prior_name} prior ^ {power}: mean total {e.mean:,.0f} ± {e.mcse:,.0f} "
            f"({e.mean / baseline_mean - 1:+.1%}); Pareto k {e.pareto_k:.2f}, {flag}"
        )

# %% [markdown]
# ## 3. The shipped sweeps
#
# Each file in `dnamodel/models/sweeps/` names a model, a description and a grid of spec paths with the
# values each takes. The sweep runs every point of the grid's Cartesian product. Read the grids
# first: the default value of each path is one of its points, so each sweep contains the default
# fit, and the other points are the alternatives.

# %%
jobs = [load_sweep(name) for name in shipped_sweeps(MODEL)]  # the hierarchical model's; the dated model's are its own
for job in jobs:
    print(f"{job.name}: {job.description} ({job.model})")
    for path, values in job.grid.items():
        print(f"    {path} = {values}")

# %% [markdown]
# **Cost.** Points that change only values (a prior's scale, which counts add up) reuse the compiled
# model; a point that changes the model's structure (the thesis off, no uplift areas, a fixed
# Zhagyab base) compiles a model of its own once, about half a minute. The fit above already
# compiled the default structure in this process. Each sweep's wall time is printed as it finishes;
# a sweep found complete on disk takes well under a second.

# %%
results, timings = {}, {}
for job in jobs:
    start = time.perf_counter()
    results[job.name] = sweep(
        job.model, job.grid, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED, out=SWEEPS / f"{job.name}.nc"
    )
    timings[job.name] = time.perf_counter() - start
    points = int(np.prod([len(values) for values in job.grid.values()]))
    print(f"{job.name}: {points} points in {timings[job.name]:.1f} s", flush=True)
print(f"all sweeps: {sum(timings.values()):.1f} s")

# %% [markdown]
# ### Each sweep's points
#
# For every point: the total's median and 90% interval, the share, and the gates. **Read only the
# points that pass their gates** (with a few hundred draws per chain expect failures on ESS).
# A failed gate at one setting and not at the others can also be a finding: a prior scale that
# lets σ approach zero brings back the funnel of model card 4.10, item 10.

# %%
COLUMNS = ["total_median", "total_q05", "total_q95", "share_median", "divergences", "max_rhat", "min_ess", "passed"]


def point_table(result) -> pd.DataFrame:
    """One row per grid point, the totals rounded to whole samples."""
    table = result[COLUMNS].to_dataframe()
    return table.round(
        {"total_median": 0, "total_q05": 0, "total_q95": 0, "share_median": 3, "max_rhat": 3, "min_ess": 0}
    )


for job in jobs:
    print(f"\n{job.description}")
    display(point_table(results[job.name]))

# %% [markdown]
# A one-dimensional sweep reads best as a line: the total's median and its 50% and 90% intervals
# at each setting, the report's estimates dashed.

# %%
for job in jobs:
    result = results[job.name]
    if len(job.grid) == 1:
        path = plots.sweep_line_plot(result, SWEEPS / f"{job.name}_line.png", title=job.description)
        display(Image(filename=path))

# %% [markdown]
# **A consistency check.** Each sweep contains the point where every swept path has the spec's own
# value, and that point is run with the fit's seed, so it *is* the fit above under another name.
# Its interval should equal the fit's (the same draws): a difference would mean the sweep is not
# running the model you think it is.

# %%
fit_q = np.quantile(idata.posterior["total"].values, [0.05, 0.5, 0.95])
print(f"the fit:            {fit_q[0]:>12,.0f} {fit_q[1]:>12,.0f} {fit_q[2]:>12,.0f}")
for job in jobs:
    reference = reference_interval(results[job.name])
    if reference is not None:
        print(f"{job.name + ' default':<20}{reference[0]:>12,.0f} {reference[1]:>12,.0f} {reference[2]:>12,.0f}")

# %% [markdown]
# ## 4. All the sweeps in one picture
#
# The tornado puts every swept assumption side by side: for each, the total's median and 90%
# interval at its first and last setting (others at their first), against the default model's 90%
# interval as a grey band. What to look at:
#
# - **Which bar leaves the grey band.** An assumption whose alternatives move the median outside
#   the default's interval matters more than the sampling uncertainty the interval expresses; it
#   should be stated next to any figure quoted.
# - **Direction.** Whether each alternative raises or lowers the total, and whether the report's
#   two estimates (dashed) stay inside the spread.

# %%
rows, reference = [], None
for job in jobs:
    rows += tornado_rows(results[job.name], label=job.description)
    reference = reference or reference_interval(results[job.name])
path = plots.sweep_tornado_plot(rows, reference, SWEEPS / "tornado.png", title="What the total depends on")
display(Image(filename=path))

# %%
swings = pd.DataFrame(
    [
        {
            "assumption": row.label,
            "first setting": row.low_label,
            "median": round(row.low[1]),
            "last setting": row.high_label,
            "median ": round(row.high[1]),
            "change of median": round(row.high[1] - row.low[1]),
            "outside default 90%": not all(reference[0] <= r[1] <= reference[2] for r in (row.low, row.high)),
        }
        for row in rows
    ]
).set_index("assumption")
swings.sort_values("change of median", key=abs, ascending=False)

# %% [markdown]
# ## What to take away
#
# Power-scaling and the sweeps should tell one story: where psens flags a prior, the sweep over
# that prior's scale should move the total, and by roughly the amount the finite-power reweighting
# suggested. If they disagree, trust the refits (the sweeps): importance weights extrapolate, and
# Pareto k says how far they can be trusted.
#
# The figure to cite (notebook 03, or `dnamodel estimate`) should travel with this table: the
# assumptions that move its median by more than its own interval's half-width are part of the
# result, not a footnote.
#
# **What would be alarming.** A sweep point that fails its gates at full settings; a swing larger
# than the default interval from a prior scale you would defend as reasonable; a Pareto k above its
# threshold for a power as mild as 0.5 or 2, which would mean the posterior is so concentrated that
# a slightly different prior leaves almost no draws in common.
