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

Eleven dated figures carry the dated model of notebook 03, and it has priors on a level, a
contrast, two spreads, an offset for the units the sources chose to report, each prefecture's
start and pace, the typed share of the database and the profiles it held before the campaign. A
reviewer's next question is how much of the answer comes from those choices rather than from the
data. This notebook asks it in two complementary ways.

1. **Power-scaling** (Kallioinen et al. 2024): a *local* check. Raise the priors, or the
   likelihood, to a power close to 1 and measure how far each posterior moves, by reweighting the
   draws already in hand, from the log densities the fit saved (no refit). Which component the
   posterior is sensitive to is the diagnosis; scaling each prior alone says which prior it leans
   on. A finite power, checked against an actual refit, says by how much.
2. **The shipped sweeps** (`dnamodel/models/sweeps/`): a *global* check. Refit the model with one
   assumption set to each of a few named alternatives and compare the totals. Every point uses the
   same seed (common random numbers), so differences between points are the assumption's, not the
   draws'. Only the sweeps of the dated model are run here; those of the comparison model,
   `hierarchical_han`, belong to it.

The sweeps write their points to files as they finish, keyed by everything that determines them,
so rerunning this notebook resumes instead of refitting (`DNAMODEL_NOTEBOOK_OUT`). They run at the
notebook's draws (the parameters cell), so a reduced run stays short.
"""

# %% tags=["parameters"]
import os
import time
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
from IPython.display import Image, display

import dnamodel
from dnamodel import plots

# Parameters. `make notebooks` passes reduced settings through the environment; 0 or unset means
# the spec's own `[sampler]` setting (`dnamodel/models/dated.toml`; printed after the fit),
# for the fit, the refit and every sweep point alike.
DRAWS = int(os.environ.get("DNAMODEL_DRAWS", 0)) or None
TUNE = int(os.environ.get("DNAMODEL_TUNE", 0)) or None
CHAINS = int(os.environ.get("DNAMODEL_CHAINS", 0)) or None
SEED = int(os.environ.get("DNAMODEL_SEED", 0)) or None
OUT = Path(os.environ.get("DNAMODEL_NOTEBOOK_OUT", "results/notebooks")) / "04_sensitivity"

# %%
SWEEPS = OUT / "sweeps"
SWEEPS.mkdir(parents=True, exist_ok=True)
MODEL = "dated"
print(f"dnamodel {dnamodel.__version__}; writing to {OUT}")

# %% [markdown]
# ## 1. The fit
#
# The default model, as in notebook 03. The gates matter here too: power-scaling reweights the
# posterior draws, and a sensitivity computed from draws that have not converged measures the
# sampler, not the model. At reduced draws, read the numbers below as a demonstration.

# %%
idata = dnamodel.fit(MODEL, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED)
gates = dnamodel.diagnose(idata)
a = idata.attrs
print(f"{a['chains']} chains × {a['draws']:,} draws after {a['tune']:,}; seed {a['seed']}")
print("gates passed" if gates.passed else "gates FAILED: " + "; ".join(gates.failures))

# %% [markdown]
# ## 2. Power-scaling sensitivity
#
# For each quantity, psens reports two numbers: how far its posterior moves (a cumulative
# Jensen-Shannon distance per unit of log₂ of the power) when the **priors** are scaled, and when
# the **likelihood** is. What is scaled (module `dnamodel.checks.powerscale`):
#
# - as prior, every prior the spec states, each on its parameter's own scale (the fit saves the
#   sampler's densities, with the Jacobians of its log and logit transforms; `dated_log_prior`
#   takes them off), but not the standard-normal effects of prefectures, units and census errors,
#   which are the model's structure;
# - as likelihood, every observation, the thesis's database figures among them.
#
# How to read the diagnosis (priorsense's rules, threshold 0.05):
#
# - **likelihood-sensitive only** (`-`): the healthy case. The data decide.
# - **strong prior / weak likelihood**: the priors move the posterior and the data barely do. The
#   posterior largely restates the prior; report it as such, and show the prior.
# - **prior-data conflict**: both move it. Prior and data pull in different directions.
#
# The values carry Monte Carlo error: at reduced draws, a value near 0.05 can flip either way.

# %%
start = time.perf_counter()
scaling = dnamodel.power_scaling(idata)  # from the fit's own log densities: no refit, no compiled model
print(f"scaled priors: {', '.join(scaling.prior_terms)}; likelihood terms: {', '.join(scaling.likelihood_terms)}")
print(f"({time.perf_counter() - start:.1f} s)")
pd.DataFrame(
    [
        {"quantity": r.quantity, "prior": r.prior, "likelihood": r.likelihood, "diagnosis": r.diagnosis}
        for r in scaling.rows
    ]
).set_index("quantity").round(3)

# %% [markdown]
# **Which prior?** The same sensitivity with one prior scaled at a time. Read the total's row: the
# thesis counts profiles, not people, so the total it implies is its database stock divided by the
# typed share κ (after the profiles held before the campaign). A prior on κ is therefore a prior
# on the total, and the data cannot separate the two: expect the total to lean on `typed_share`.

# %%
by_prior = pd.DataFrame([r.by_prior for r in scaling.rows], index=pd.Index(scaling.quantities, name="quantity"))
display(by_prior.round(3))
total_row = by_prior.loc["total"]
print(f"the total leans most on {total_row.idxmax()} ({total_row.max():.3f}), then {total_row.nlargest(2).index[1]}")

# %% [markdown]
# **How far, in the units people cite?** psens says *whether* the total is prior-sensitive; a
# finite power says *how much*. `dnamodel.scaled_estimate` reweights the same draws as if one prior had
# been raised to the power 0.5 (a wider prior) or 2 (a narrower one), and gives the posterior mean
# of the total under each, with a Pareto k that says whether the reweighting can be trusted
# (reliable below the threshold; Vehtari et al. 2024).

# %%
baseline_mean = float(idata.posterior["total"].mean())
print(f"posterior mean of the total: {baseline_mean:,.0f}")
for prior_name in ("typed_share", "reported", "unit_sd"):
    for power in (0.5, 2.0):
        e = dnamodel.scaled_estimate(idata, prior_name, power, var="total")
        flag = "reliable" if e.reliable else f"UNRELIABLE (k ≥ {e.k_threshold:.2f})"
        print(
            f"{prior_name} prior ^ {power}: mean total {e.mean:,.0f} ± {e.mcse:,.0f} "
            f"({e.mean / baseline_mean - 1:+.1%}); Pareto k {e.pareto_k:.2f}, {flag}"
        )

# %% [markdown]
# **Checked by a refit.** Every prior of the dated model raised to a power is a prior of the same
# family (Beta(8, 2) squared is Beta(15, 3)), and the compiled density reads every prior's
# parameters from the packed vector, so the refit the reweighting stands in for costs one more
# sampling run and no compile. The two should agree within their Monte Carlo errors; if they do
# not, trust the refit: importance weights extrapolate.

# %%
power = 2.0
start = time.perf_counter()
refit = dnamodel.scaled_refit(
    idata, "typed_share", power, draws=a["draws"], tune=a["tune"], chains=a["chains"], seed=a["seed"] + 1
)
estimate = dnamodel.scaled_estimate(idata, "typed_share", power, var="total")
refit_mean = float(refit.posterior["total"].mean())
refit_mcse = float(az.mcse(refit, var_names=["total"], method="mean")["total"])
print(f"refit in {time.perf_counter() - start:.1f} s, {refit.attrs['divergences']} divergences")
print(f"reweighted: {estimate.mean:,.0f} ± {estimate.mcse:,.0f}; refit: {refit_mean:,.0f} ± {refit_mcse:,.0f}")
print(f"difference in combined MCSEs: {(estimate.mean - refit_mean) / np.hypot(estimate.mcse, refit_mcse):+.1f}")

# %% [markdown]
# ## 3. The shipped sweeps
#
# Each file in `dnamodel/models/sweeps/` names a model, a description and a grid of spec paths with
# the values each takes. The sweep runs every point of the grid's Cartesian product. Read the grids
# first: the default value of each path is one of its points, so each sweep contains the default
# fit, and the other points are the alternatives.

# %%
# the dated model's sweeps only: the hierarchical model's are its own
jobs = [dnamodel.load_sweep(name) for name in dnamodel.shipped_sweeps(MODEL)]
for job in jobs:
    print(f"{job.name}: {job.description}")
    for path, values in job.grid.items():
        print(f"    {path} = {values}")

# %% [markdown]
# **Cost.** A point that changes only numbers (a prior's parameters, an observation's error)
# reuses the compiled density; every point is one fit at the notebook's draws. Each sweep's wall
# time is printed as it finishes; a sweep found complete on disk takes well under a second.

# %%
results, timings = {}, {}
for job in jobs:
    start = time.perf_counter()
    results[job.name] = dnamodel.sweep(
        job.model, job.grid, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED, out=SWEEPS / f"{job.name}.nc"
    )
    timings[job.name] = time.perf_counter() - start
    points = int(np.prod([len(values) for values in job.grid.values()]))
    print(f"{job.name}: {points} points in {timings[job.name]:.1f} s", flush=True)
print(f"all sweeps: {sum(timings.values()):.1f} s" if jobs else f"no sweep of {MODEL} ships yet: nothing to run")

# %% [markdown]
# ### Each sweep's points
#
# For every point: the total's median and 90% interval, the share, and the gates. **Read only the
# points that pass their gates** (at reduced draws expect failures on ESS).

# %%
COLUMNS = ["total_median", "total_q05", "total_q95", "share_median", "divergences", "max_rhat", "min_ess", "passed"]


def point_table(result) -> pd.DataFrame:
    """One row per grid point, the totals rounded to whole people."""
    table = result[[name for name in COLUMNS if name in result]].to_dataframe()
    return table.round(
        {"total_median": 0, "total_q05": 0, "total_q95": 0, "share_median": 3, "max_rhat": 3, "min_ess": 0}
    )


for job in jobs:
    print(f"\n{job.description}")
    display(point_table(results[job.name]))
    if len(job.grid) == 1:
        path = plots.sweep_line_plot(results[job.name], SWEEPS / f"{job.name}_line.png", title=job.description)
        display(Image(filename=path))

# %% [markdown]
# **A consistency check.** Each sweep contains the point where every swept path has the spec's own
# value, and that point is run with the fit's seed and settings, so it *is* the fit above under
# another name. Its interval should equal the fit's: a difference would mean the sweep is not
# running the model you think it is.

# %%
fit_q = np.quantile(idata.posterior["total"].values, [0.05, 0.5, 0.95])
print(f"the fit:            {fit_q[0]:>12,.0f} {fit_q[1]:>12,.0f} {fit_q[2]:>12,.0f}")
for job in jobs:
    reference = plots.reference_interval(results[job.name])
    if reference is not None:
        print(f"{job.name + ' default':<20}{reference[0]:>12,.0f} {reference[1]:>12,.0f} {reference[2]:>12,.0f}")

# %% [markdown]
# ## 4. All the sweeps in one picture
#
# The tornado puts every swept assumption side by side: for each, the total's median and 90%
# interval at its first and last setting, against the default fit's 90% interval as a grey band.
# What to look at: **which bar leaves the grey band** (an assumption that moves the median outside
# the default's interval matters more than the sampling uncertainty the interval expresses, and
# should be stated beside any figure quoted), and in which direction.

# %%
rows, reference = [], None
for job in jobs:
    rows += plots.tornado_rows(results[job.name], label=job.description)
    reference = reference or plots.reference_interval(results[job.name])
if rows:
    path = plots.sweep_tornado_plot(rows, reference, SWEEPS / "tornado.png", title="What the total depends on")
    display(Image(filename=path))
    swings = pd.DataFrame(
        [
            {
                "assumption": row.label,
                "first setting": row.low_label,
                "median": round(row.low[1]),
                "last setting": row.high_label,
                "median ": round(row.high[1]),
                "change of median": round(row.high[1] - row.low[1]),
            }
            for row in rows
        ]
    ).set_index("assumption")
    display(swings.sort_values("change of median", key=abs, ascending=False))
else:
    print("no sweep results to chart")

# %% [markdown]
# ## What to take away
#
# Power-scaling and the sweeps should tell one story: where psens flags a prior, a sweep over that
# prior should move the total, by roughly the amount the finite-power reweighting suggested. If
# they disagree, trust the refits: importance weights extrapolate, and Pareto k says how far they
# can be trusted.
#
# The figure to cite (notebook 03, or `dnamodel estimate`) should travel with this table: the
# assumptions that move its median by more than its own interval's half-width are part of the
# result, not a footnote. Section 2 says which prior the total leans on; at the spec's own settings
# it is the typed share: the thesis fixes profiles, and how many people those profiles stand for is
# largely the prior's to say.
#
# **What would be alarming.** A sweep point that fails its gates at full settings; a swing larger
# than the default interval from a prior you would defend as reasonable; a Pareto k above its
# threshold for a power as mild as 0.5 or 2; or a refit that disagrees with its reweighting by many
# Monte Carlo errors.
