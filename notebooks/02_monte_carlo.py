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
# 02 · Monte Carlo: the report's method under its own uncertainty.

Notebook 01 reproduced the report's two estimates exactly. But the report hedges: it gives two
county rates, two populations for Zhagyab, two bases for Lhasa, samples it cites and then leaves
out. The model `report_mc` (model card, section 3) keeps the report's method and draws every input
the report itself gives two values for. The result is not yet an estimate of the true total; it
is the spread the report's own choices imply.

What a statistician should look at, in order:

1. **Is the engine right?** Check it against a case with a closed-form answer before trusting it
   on one without (`report_uniform`, model card "report_uniform").
2. **How precise is each quoted figure?** Every Monte Carlo estimate carries a Monte Carlo
   standard error (MCSE). Quote no digit that the MCSE makes noise.
3. **What does the distribution look like?** Binary choices make a lumpy distribution, not a bell.
4. **Which inputs drive the spread?** Sobol indices apportion the variance of the total between
   the inputs, interactions included; a tornado chart moves one input at a time. They answer
   different questions, and the difference between them is informative.
"""

# %% tags=["parameters"]
import inspect
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, display
from matplotlib.ticker import StrMethodFormatter

import dnamodel
from dnamodel import plots

# Parameters. `make notebooks` passes reduced settings through the environment (0 or unset means
# the full settings): MC_DRAWS Monte Carlo draws (the CLI's default, 1,000,000), SEED the seed
# (`summarize`'s default).
MC_DRAWS = int(os.environ.get("DNAMODEL_MC_DRAWS", 0)) or 1_000_000
SEED = int(os.environ.get("DNAMODEL_SEED", 0)) or inspect.signature(dnamodel.monte_carlo).parameters["seed"].default
OUT = Path(os.environ.get("DNAMODEL_NOTEBOOK_OUT", "results/notebooks")) / "02_monte_carlo"

# %%
OUT.mkdir(parents=True, exist_ok=True)
# the report's figures, as the bundled data's study.toml names them: Estimate One, one million, Estimate Two
REPORT = {figure.label: round(figure.total) for figure in dnamodel.load_data().study.comparisons.figures}
# the rounding steps of the last column of section 3 (model card 4.9), finest first
ROUNDING_STEPS = (1_000, 5_000, 10_000, 50_000, 100_000)
# summarize(qmc=True) draws 16 independent scrambled Sobol replicates (section 4)
QMC_REPLICATES = 16
print(f"dnamodel {dnamodel.__version__}; {MC_DRAWS:,} draws, seed {SEED}")

# %% [markdown]
# ## 1. The model is data
#
# A Monte Carlo model is a TOML file in `dnamodel/models/`: each uncertain input is a distribution with its
# source, and the outputs are arithmetic on the inputs. Read it before running it. Every `choice`
# has equal weights: the report gives no ground to prefer either alternative, and equal weights say
# exactly that (model card, `report_mc`).

# %%
spec = dnamodel.load_model("report_mc")
pd.DataFrame(
    [{"input": name, "dist": d.dist, "note": getattr(d, "note", "") or ""} for name, d in spec.inputs.items()]
).set_index("input")

# %%
for name, expression in spec.quantities.items():
    print(f"{name:>16} = {expression}")

# %% [markdown]
# ## 2. Check the engine where the answer is known
#
# `report_uniform` draws only the rest-of-Tibet rate, uniformly between Lhorong's and Zhagyab's.
# Its total is then uniform between Estimates One and Two, and its quantile at probability *p* is
# exactly `919,282 + p × 287,680`. Divide each error by its MCSE: the ratios (z-scores) should look
# like draws from a standard normal. Values of 2 happen; an |z| above about 4 would mean a bug in
# the sampler or in the MCSE, and everything after this point would be suspect.

# %%
uniform = dnamodel.summarize(dnamodel.load_model("report_uniform"), draws=MC_DRAWS, seed=SEED)
low, high = REPORT["Estimate One"], REPORT["Estimate Two"]
check = pd.DataFrame(
    [
        {
            "p": p,
            "exact": low + p * (high - low),
            "estimate": s.value,
            "MCSE": s.mcse,
            "z": (s.value - (low + p * (high - low))) / s.mcse,
        }
        for p, s in uniform.variables["total"].quantiles.items()
    ]
).set_index("p")
check.round(2)

# %% [markdown]
# ## 3. The report's method, every hedge drawn
#
# `summarize` streams the draws in chunks, so any number of draws fits in memory. It reports the
# mean and quantiles of the total, each with its MCSE, and P(total > t) for the report's figures.
# What to look at:
#
# - **MCSE against the digits.** The MCSE of the mean is sd/√n; of a quantile, half the spread of
#   the order statistics one standard error either side. With 10× fewer draws every MCSE grows by
#   about √10 ≈ 3.2. The last column applies the rule the hierarchical model's citation uses
#   (model card 4.9): round to the finest of 1,000, 5,000, 10,000, 50,000 or 100,000 samples that
#   is at least twice the MCSE. Rerun with fewer draws and watch that column coarsen.
# - **P(total > Estimate One).** Compare it with 1 and ask why: which of the report's hedges, if
#   any, could *lower* the total?

# %%
summary = dnamodel.summarize(spec, draws=MC_DRAWS, seed=SEED, thresholds=tuple(REPORT.values()))
total, share = summary.variables["total"], summary.variables["share"]
rows = [("mean", total.mean, share.mean)] + [
    (f"{p:.0%} quantile", total.quantiles[p], share.quantiles[p]) for p in total.quantiles
]
pd.DataFrame(
    [
        {
            "statistic": label,
            "total": f"{t.value:,.0f}",
            "MCSE": f"{t.mcse:,.0f}",
            "share of population": f"{s.value:.2%}",
            "round to": f"{next((step for step in ROUNDING_STEPS if step >= 2 * t.mcse), 'more draws'):,}",
        }
        for label, t, s in rows
    ]
).set_index("statistic")

# %%
for name, threshold in REPORT.items():
    e = total.exceedance[threshold]
    print(f"P(total > {threshold:>9,} = {name}) = {e.value:.4f}   MCSE {e.mcse:.4f}")
exact = total.resolution == 0
print("quantiles are exact sample quantiles" if exact else f"quantiles from a sketch, bin {total.resolution:,.1f}")

# %% [markdown]
# Every alternative the report offers raises the total above Estimate One (a larger rate, a later
# count, a smaller base, the census split), so no draw falls below it: its exceedance is 1, with an
# MCSE of 0, which is a statement about the model, not about precision. Estimate Two, by
# contrast, sits near the middle of the spread: the report's "high" estimate is a central value of
# its own hedges.
#
# ## 4. The shape of the distribution
#
# A histogram of the draws (`monte_carlo` keeps every draw in memory, so this uses at most
# 2²⁰ of them). Look for what the summary table cannot show: the uniform position between the two
# county rates is smeared by the binary choices into overlapping plateaus. A mean and an interval
# describe such a shape poorly; this is a reason to show the picture.

# %%
draws = dnamodel.monte_carlo(spec, draws=min(MC_DRAWS, 2**20), seed=SEED)
figure, axes = plt.subplots(figsize=(8.5, 3.8))
axes.hist(draws["total"].values, bins=150, color="#4c72b0", alpha=0.7, density=True)
for name, x in REPORT.items():
    axes.axvline(x, color="grey", linestyle="--", linewidth=1)
    axes.text(x, axes.get_ylim()[1] * 0.95, f" {name}", fontsize=8, rotation=90, va="top")
axes.axvline(total.quantiles[0.5].value, color="black", linewidth=1.2, label="median")
axes.set_xlabel("total samples collected, report's method (samples)")
axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
axes.set_yticks([])
axes.set_title(f"report_mc: {draws.sizes['draw']:,} draws")
axes.legend(loc="upper right")
plt.show()

# %% [markdown]
# Splitting the draws by one binary input shows where the plateaus come from. Here, whether
# Zhagyab's later 7,952 samples count: they stretch the upper tail. Every draw above the top of the
# blue histogram needs them; the share of such draws is printed below the chart.

# %%
figure, axes = plt.subplots(figsize=(8.5, 3.2))
later = draws["zhagyab_later"].values > 0
for mask, label, colour in ((~later, "Feb 2017 count only", "#4c72b0"), (later, "with the later 7,952", "#dd8452")):
    axes.hist(draws["total"].values[mask], bins=120, alpha=0.6, color=colour, label=label, density=True)
axes.set_xlabel("total (samples)")
axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
axes.set_yticks([])
axes.legend()
plt.show()
top_without = draws["total"].values[~later].max()
print(
    f"largest total without the later samples: {top_without:,.0f}; "
    f"draws above it: {(draws['total'].values > top_without).mean():.1%}"
)

# %% [markdown]
# ### Quasi-random draws
#
# With `qmc=True` the uniforms come from scrambled Sobol points, in 16 independent replicates whose
# spread gives the MCSE. For quantiles QMC is far more accurate per draw, which you can read off
# the MCSE column. Two cautions from the model card (section 3): for the *mean* of this model the
# replicate MCSE is only a lower bound, and below about 16 × 2¹⁰ draws QMC's tail quantiles can be
# worse than pseudo-random ones. The draws must be 16 times a power of 2.

# %%
qmc_draws = QMC_REPLICATES * 2 ** int(np.log2(MC_DRAWS / QMC_REPLICATES))
quasi = dnamodel.summarize(spec, draws=qmc_draws, seed=SEED, qmc=True).variables["total"]
pd.DataFrame(
    [
        {
            "quantile": f"{p:.0%}",
            f"pseudo-random MCSE ({MC_DRAWS:,})": round(total.quantiles[p].mcse, 1),
            f"QMC MCSE ({qmc_draws:,})": round(quasi.quantiles[p].mcse, 1),
            "difference of estimates": round(quasi.quantiles[p].value - total.quantiles[p].value, 1),
        }
        for p in total.quantiles
    ]
).set_index("quantile")

# %% [markdown]
# ## 5. Which inputs matter: Sobol indices
#
# The variance of the total can be split among the inputs (Sobol 2001; Saltelli et al. 2010,
# model card "Which inputs matter"):
#
# - the **first-order** index of an input is the share of the variance it explains alone;
# - the **total-order** index adds every interaction it takes part in.
#
# What to look at: the ranking by total-order index, and the gap between the two sums. First-order
# indices summing to well under 1, with total-order summing to over 1, mean the inputs interact:
# here, how much Zhagyab's later samples matter depends on how close to Zhagyab the rest's rate is.
# The intervals are percentile bootstraps; an index whose interval includes 0 has no detectable
# effect.

# %%
indices = dnamodel.sobol(spec, seed=SEED)
table = indices[["first_order", "first_order_low", "first_order_high", "total_order", "total_order_low"]]
table = table.assign(total_order_high=indices["total_order_high"]).to_dataframe()
table.sort_values("total_order", ascending=False).round(3)

# %%
print(f"n = {indices.attrs['n']:,} ({indices.attrs['evaluations']:,} model runs); {indices.attrs['method']}")
print(f"sum of first-order indices {float(indices['first_order'].sum()):.3f}; "
      f"sum of total-order indices {float(indices['total_order'].sum()):.3f}")  # fmt: skip
ranked = table.sort_values("total_order")
figure, axes = plt.subplots(figsize=(8, 3.4))
positions = np.arange(len(ranked))
for offset, index, colour in ((-0.18, "first_order", "#4c72b0"), (0.18, "total_order", "#dd8452")):
    values = ranked[index].clip(lower=0)
    errors = [values - ranked[f"{index}_low"].clip(lower=0), ranked[f"{index}_high"] - values]
    axes.barh(positions + offset, values, height=0.34, xerr=errors, color=colour, label=index.replace("_", "-"))
axes.set_yticks(positions, ranked.index)
axes.set_xlabel("share of the variance of the total")
axes.legend(loc="lower right")
plt.show()

# %% [markdown]
# ## 6. One at a time: the tornado
#
# The tornado sets every input to its median and moves one at a time to its 5% and 95% quantile
# (for a choice, to its smallest and largest alternative). It is easy to read, and it answers a
# narrower question than Sobol: *from this baseline*, what does one input do alone?
#
# Two things to notice. First, the **baseline is not the report's scenario**: the median of a
# two-way choice at u = ½ is its second alternative, so the baseline counts Zhagyab's later
# samples and gives Nyingchi the rest's rate (printed below). Second, a tornado cannot see
# interactions: compare its ranking with the total-order ranking above; where they agree, the
# simple picture is safe to show.

# %%
one_at_a_time = dnamodel.tornado(spec)
print(f"baseline total {one_at_a_time.baseline:,.0f}, with the inputs at:")
for name, value in one_at_a_time.baseline_inputs.items():
    print(f"  {name} = {value:,.4g}")
pd.DataFrame(
    [
        {
            "input": r.input,
            "low": r.low_label or f"{r.low_value:,.4g}",
            "total at low": f"{r.total_at_low:,.0f}",
            "high": r.high_label or f"{r.high_value:,.4g}",
            "total at high": f"{r.total_at_high:,.0f}",
            "swing": f"{r.swing:,.0f}",
        }
        for r in one_at_a_time.rows
    ]
).set_index("input")

# %%
path = plots.tornado_plot(one_at_a_time.rows, one_at_a_time.baseline, OUT / "report_mc_tornado.png", title="report_mc")
display(Image(filename=path))

# %%
order_sobol = list(table.sort_values("total_order", ascending=False).index)
order_tornado = [r.input for r in one_at_a_time.rows]
print("ranking by total-order Sobol index:", order_sobol)
print("ranking by tornado swing:          ", order_tornado)

# %%
q05, q95 = total.quantiles[0.05].value, total.quantiles[0.95].value
print(f"90% range of the report's method: {q05:,.0f} to {q95:,.0f}, width {q95 - q05:,.0f}")
print(f"gap between the report's two estimates: {high - low:,}")
print(f"share of draws below Estimate One: {1 - total.exceedance[low].value:.4f}")

# %% [markdown]
# ## What to take away
#
# - The report's own hedges span a range far wider than the gap between its two estimates, and
#   Estimate One sits at the very bottom of it.
# - Which county's rate stands for the rest of Tibet dominates the variance; Zhagyab's later count
#   comes second, largely through its interaction with that choice. The choices about Lhasa barely
#   matter, because Lhasa's samples are counted, not scaled.
# - None of this is an estimate of the true total: the method still assumes one rate for 2.5
#   million people, taken from one county. Notebook 03 replaces that with a model of how collection
#   varies between counties.
#
# **What would be alarming.** An |z| above 4 in the engine check; a quoted figure whose MCSE is
# comparable to its last digit; Sobol indices outside [0, 1] beyond their bootstrap intervals (the
# estimators can go slightly negative for an input with no effect, which is noise).
