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
# 03 · The dated model: from priors to a figure to cite.

Notebooks 01 and 02 kept the report's method: one county's rate stands for 2.5 million people.
The dated model (model card, section 5; `dnamodel/models/dated.toml`) instead follows each of the
77 county-level units over time. A unit's residents are sampled up to a fraction at saturation,
which depends on its Han share; each prefecture's campaign starts at its own date and approaches
saturation at its own pace; and every figure the sources print is fitted *at its own date*: the
local counts of 2016 to 2022, the increments since an earlier figure, Qushui's coverage and share
of Lhasa's database, and the 2020 police thesis's database stock, which enters as data about a
database rather than as a bound on the total.

This notebook follows the Bayesian workflow a reviewer would expect, and says at each step what
to look at and why:

1. **The model and its data**: what is observed, when, and how precisely.
2. **The fit**: nutpie's NUTS on the compiled density (numba, compiled once per machine).
3. **Prior predictive check**: what the priors alone say about the total.
4. **Convergence diagnostics**: divergences, R-hat, ESS, rank plots, energy, the curved geometry.
5. **Posterior predictive check**: does the fitted model reproduce the data it saw?
6. **Leave-one-out**: does it predict each observation it did *not* see?
7. **Forecasts forward in time**: fitted to what was published by a date, does it predict what
   came later?
8. **The campaign over time**: everyone sampled by each date, and the databases.
9. **Results**: intervals, exceedance probabilities, prefectures, the citation sentence (or why it
   is withheld), and what the data taught against the priors.

CI runs this at 1,000 draws per chain instead of the spec's own (see the parameters cell). The
dated model mixes more slowly than the hierarchical one along α (its target acceptance is 0.99), so
at 1,000 draws the bulk-ESS gate can fail: the notebook then shows the gate doing its job, and the
summary withholds the citation sentence. At the spec's own settings (printed after the fit) every
gate should pass; if one fails there, stop and read section 5 of the model card before using any
number.
"""

# %% tags=["parameters"]
import json
import os
import warnings
from pathlib import Path

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, display
from matplotlib import MatplotlibDeprecationWarning
from scipy import stats

import dnamodel
from dnamodel import plots

# Parameters. `make notebooks` passes reduced settings through the environment; 0 or unset means
# the spec's own `[sampler]` setting (`dnamodel/models/dated.toml`; printed after the fit).
DRAWS = int(os.environ.get("DNAMODEL_DRAWS", 0)) or None
TUNE = int(os.environ.get("DNAMODEL_TUNE", 0)) or None
CHAINS = int(os.environ.get("DNAMODEL_CHAINS", 0)) or None
SEED = int(os.environ.get("DNAMODEL_SEED", 0)) or None
OUT = Path(os.environ.get("DNAMODEL_NOTEBOOK_OUT", "results/notebooks")) / "03_dated_fit"

# %%
# ArviZ 0.23's KDE-based plots pass matplotlib 3.11 a deprecated argument: ArviZ's to fix, and harmless.
warnings.filterwarnings("ignore", category=MatplotlibDeprecationWarning, module="arviz")
OUT.mkdir(parents=True, exist_ok=True)
MODEL = "dated"
print(f"dnamodel {dnamodel.__version__}; model {MODEL}")

# %% [markdown]
# ## 1. The model and its data
#
# The spec is data: every prior and every observation is in `dnamodel/models/dated.toml`, with its
# reason in a comment. Before fitting, read three things.
#
# - **The priors.** Each should be defensible on its own scale: α on the logit fraction at
#   saturation, θ as a log odds ratio of Han residents against the others, the spreads σ_g and σ_u
#   between prefectures and between units, δ as the offset of the units a local report counts,
#   κ as the share of collected samples typed into the database, b as the profiles held before
#   the campaign per resident, and each prefecture's start and pace.
# - **The dates.** Each observation is predicted at its own date: a figure with a `since` date is
#   an increment, what was collected between the two dates.
# - **The bounds and the errors.** "At least 2,000 more" is a lower bound, which says only on
#   which side the true figure lies. The error is the sd of the reporting error on the log scale
#   (logit for the coverage): the thesis's stock carries the smallest.

# %%
spec = dnamodel.load_model(MODEL)
data = dnamodel.load_data()
pd.DataFrame([{"parameter": name, "prior": str(prior)} for name, prior in spec.priors.items()]).set_index("parameter")

# %%
pd.DataFrame(
    [
        {
            "observation": name,
            "kind": obs.kind,
            "value": obs.value,
            "date": obs.date or "(the data's)",
            "since": obs.since or "",
            "bound": obs.bound or "",
            "error": obs.error,
        }
        for name, obs in spec.observations.items()
    ]
).set_index("observation")

# %% [markdown]
# The `value` column names rows of the bundled `observations.csv`; a blank date is the rows' own
# date, and a blank bound is what the printed figure says ("at least" makes a lower bound). The
# fit resolves them against the data; the resolved values and dates are printed with the checks
# below.
#
# ## 2. The fit
#
# `dnamodel.fit` resolves the spec, packs every number the density reads into one vector, and runs
# nutpie on a log density and gradient written out in numba (compiled once per machine and cached
# on disk). Everything else (fractions, totals, campaign progress, the predictives, the prior draws
# and the log densities that power-scaling reads) is computed afterwards from the draws, in NumPy.

# %%
idata = dnamodel.fit(spec, data=data, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=SEED)
attrs = idata.attrs
print(f"{attrs['chains']} chains × {attrs['draws']:,} draws after {attrs['tune']:,} tuning steps, seed {attrs['seed']}")
print(f"spec {attrs['spec_hash']}, data {attrs['data_version']}, sampler {attrs['sampler']}")
print("seconds:", json.loads(attrs["timings_json"]))
full = spec.sampler
if (attrs["draws"], attrs["tune"], attrs["chains"]) != (full.draws, full.tune, full.chains):
    print(f"REDUCED settings: the spec's own are {full.chains} × {full.draws:,} after {full.tune:,}")

# %% [markdown]
# ## 3. Prior predictive check
#
# The fit also draws the parameters from their priors alone and pushes them forward to the total
# (`idata.prior`): nothing in them has seen an observation. The dated model has no separate bound
# to weigh them by (the thesis is data), so this is the whole prior.
#
# What to look at: the 1–99% range should run from a token campaign (thousands of samples) to
# about the whole population, and no further. A prior that already excluded plausible totals, or
# put real mass on more people sampled than live in Tibet, would be doing the data's work. The model
# calls the prior plausible when its 1% quantile is at least 1,000 and its 99% quantile at most 1.5×
# the census population. Where the report's two estimates sit in it says how much the prior alone
# already leans.

# %%
prior = dnamodel.prior_check(idata, data=data)
prior_total = idata.prior["total"].values.ravel()
pd.DataFrame(
    {"total under the prior": prior.forward},
    index=pd.Index([f"{q:.0%}" for q in prior.quantiles], name="prior quantile"),
).map("{:,.0f}".format)

# %%
print(f"plausible: {prior.plausible} (census population {prior.population:,.0f})")
for estimate in (919_282, 1_206_962):
    print(f"prior P(total > {estimate:,}) = {(prior_total > estimate).mean():.2f}")
path = plots.prior_predictive_plot(idata, OUT / f"{MODEL}_prior_predictive.png", data=data)
display(Image(filename=path))

# %% [markdown]
# ## 4. Convergence diagnostics
#
# Nothing downstream means anything unless the sampler explored the posterior. The gates
# (`dnamodel.diagnose`) are:
#
# - **no divergent transitions**. A divergence means the sampler met curvature it could not
#   follow; even one biases the fit where it matters.
# - **rank-normalised R-hat ≤ 1.01** for *every* element of every variable (Vehtari et al. 2021):
#   above 1.01 the chains have not yet agreed. The maximum is taken over hundreds of elements (77
#   unit fractions, 77 census errors, each prefecture's start and pace, …).
# - **bulk and tail ESS ≥ 400** for the scalar parameters, the total and the share. ESS is the
#   number of independent draws the autocorrelated chain is worth; tail ESS governs the interval
#   endpoints the citation quotes.

# %%
gates = dnamodel.diagnose(idata)
print(f"divergences: {gates.divergences}")
print(f"max R-hat: {gates.max_rhat:.4f} ({gates.max_rhat_variable})")
print(f"min bulk ESS {gates.min_ess_bulk:,.0f}, min tail ESS {gates.min_ess_tail:,.0f}")
print("PASSED" if gates.passed else "FAILED:\n  " + "\n  ".join(gates.failures))
pd.DataFrame([row.__dict__ for row in gates.rows]).set_index("name").round(4)

# %% [markdown]
# **Rank plots** (Vehtari et al. 2021) are the picture behind R-hat: pool the draws, rank them, and
# histogram each chain's ranks. If the chains sample the same distribution, every histogram is
# flat; a chain stuck in one region shows a slope or a hump.

# %%
display(Image(filename=plots.rank_plot(idata, OUT / f"{MODEL}_rank.png")))

# %% [markdown]
# **Energy.** NUTS moves along a level set of energy and resamples the momentum between
# trajectories. If the resampled energy (the marginal) is much narrower than the energy transitions
# it needs, the sampler struggles to reach the tails. The E-BFMI summarises this per chain: values
# below about 0.3 are a warning. Trajectories that hit the maximum tree depth say the step size had
# to be small for the curvature somewhere.

# %%
print("E-BFMI per chain:", np.round(az.bfmi(idata), 3))
print("trajectories that hit the maximum tree depth:", int(idata.sample_stats["maxdepth_reached"].sum()))
print(f"mean tree depth {float(idata.sample_stats['tree_depth'].mean()):.1f}")
az.plot_energy(idata, figsize=(6, 3.5))
plt.show()

# %% [markdown]
# **Where the difficulty is.** Two ridges run through this posterior, and the pair plot shows
# both, with any divergences marked.
#
# - Lhorong's and Zhagyab's counts pin how much Qamdo had collected by 2016 and 2017, not when its
#   campaign began: an earlier start with a slower pace fits the same counts as a later start with
#   a faster one. That curved ridge between Qamdo's start and pace is why the spec asks for a target
#   acceptance of 0.99 (model card, section 5).
# - The thesis counts database profiles, not people: it pins roughly κ × C, the typed share times
#   the people collected. A lower typed share with a higher total fits it as well, so κ and the
#   total trade against each other, and the total's interval is in part κ's prior (notebook 04).

# %%
az.plot_pair(
    idata,
    var_names=["start", "pace", "typed_share", "total"],
    coords={"group": ["qamdo"]},
    divergences=True,
    figsize=(8, 8),
    scatter_kwargs={"alpha": 0.2},
)
plt.show()
post = idata.posterior
qamdo = post.sel(group="qamdo")
ridge = np.corrcoef(qamdo["start"].values.ravel(), np.log(qamdo["pace"].values.ravel()))[0, 1]
thesis = np.corrcoef(post["typed_share"].values.ravel(), post["total"].values.ravel())[0, 1]
print(f"posterior correlation of Qamdo's start and log pace: {ridge:.2f}")
print(f"posterior correlation of the typed share κ and the total: {thesis:.2f}")

# %% [markdown]
# ## 5. Posterior predictive check
#
# For each observation, draw replicated data from the fitted model at the observation's date and
# see where the actual figure falls. The PIT is P(replicate ≤ observed); a bound's is its mid-PIT,
# the mean PIT over the values the bound allows, so it sits near 0.5 whenever the model puts the
# bound's side well inside its predictive.
#
# This check is **lenient**: the same data fitted the model, so an observation sits inside its
# interval almost by construction. A *failure* here would be damning. For a check that does not
# reuse the data, see leave-one-out and the forecasts.

# %%
ppc = dnamodel.predictive_checks(idata, data=data)
pd.DataFrame([c.__dict__ | {"inside 90%": c.inside} for c in ppc]).set_index("observation").drop(
    columns=["total_median", "lpd"]
).round(3)

# %% [markdown]
# ## 6. Leave-one-out
#
# Refit the model once without each observation (its flag in the packed vector turned off: the
# same compiled density), then ask where the held-out figure falls in the refit's predictive
# distribution, and what the refit estimates for the total. Each check also carries the exact
# leave-one-out log predictive density of the held-out figure.
#
# **What to look at.** A PIT near 0 or 1 means the other observations, through the model, predict
# this one badly. The thesis's two database figures are the ones to watch: the stock and the
# first half of 2020's additions pin the campaign's pace across Tibet, and without one of them the
# other has to carry it alone. The last column says how far the total moves without each figure:
# a figure whose absence moves it far is one the estimate leans on.
#
# `dnamodel.leave_one_out` takes the fit alone and rebuilds the spec and data from its provenance. Its refits
# use the fit's seed and chains and at most 400 draws per chain: a predictive 90% interval needs
# fewer draws than the citation does.

# %%
loo = dnamodel.leave_one_out(idata, data=data)
full_median = float(np.median(post["total"].values))
pd.DataFrame(
    [
        {
            "left out": c.observation + {"lower": " ≥", "upper": " ≤"}.get(c.bound, ""),
            "observed": f"{c.observed:,.3g}" if c.observed < 1 else f"{c.observed:,.0f}",
            "predicted median": f"{c.median:,.3g}" if c.observed < 1 else f"{c.median:,.0f}",
            "PIT": round(c.pit, 3),
            "log predictive density": round(c.lpd, 2),
            "total without it": f"{c.total_median:,.0f}",
            "vs full fit": f"{c.total_median / full_median - 1:+.0%}",
        }
        for c in loo
    ]
).set_index("left out")

# %%
extreme = [c.observation for c in loo if not c.pit_inside]
print(f"held-out observations with a PIT outside {loo[0].pit_limits}: {extreme or 'none'}")
print(f"elpd_loo, the sum of the log predictive densities: {sum(c.lpd for c in loo):.1f}")

# %% [markdown]
# ## 7. Forecasts forward in time
#
# Leave-one-out asks about one figure given all the others, including later ones. A forecast asks
# what a model fitted in the past would have said: the spec's `[checks]` table names dates, and
# each forecast refits on the figures published by that date and predicts those that came later.
#
# **What to look at.** The forecast from mid-2020 predicts Qushui's figures of January 2021 from
# Lhorong, Zhagyab and the thesis alone: a Lhasa county the model has never seen, whose collection
# the sources show far above what the thesis leaves for the rest of Tibet on average. Expect a
# wide interval there, and a PIT in its upper tail: the later figures are what teach the model
# that Qushui collected at a high rate.

# %%
forecasts = dnamodel.forecast_checks(idata, data=data)
rows = []
for forecast in forecasts:
    for c in forecast.checks:
        rows.append(
            {
                "data to": forecast.data_to,
                "fitted to": len(forecast.used),
                "predicted": c.observation,
                "observed": c.observed,
                "forecast median": c.median,
                "90% interval": f"{c.low:,.3g} to {c.high:,.3g}",
                "PIT": round(c.pit, 3),
                f"outside {c.pit_limits}": not c.pit_inside,
            }
        )
pd.DataFrame(rows).set_index(["data to", "predicted"]).round(3)

# %% [markdown]
# One figure draws the three checks together: each observation's posterior predictive interval
# (blue), its leave-one-out interval (red) and, for the figures a forecast predicts, the forecast
# (green). Counts share a log axis; the shares have a panel of their own.

# %%
ahead = [c for forecast in forecasts for c in forecast.checks]
display(Image(filename=plots.predictive_plot(ppc, loo, OUT / f"{MODEL}_predictive.png", ahead)))

# %% [markdown]
# ## 8. The campaign over time
#
# The model's answer is a curve, not a number: everyone sampled by each date, the sum over units
# of fraction × campaign progress × population, with each database's stock beside it. The total
# the report asks about is one point on it, at the estimand date. What to look at: where the
# thesis's stock of mid-2020 sits against the database curve it is fitted to, how much of the
# total was collected by then, and how wide the band is where no figure was published.

# %%
display(Image(filename=plots.campaign_plot(idata, OUT / f"{MODEL}_campaign.png", data=data)))
pd.DataFrame(
    {
        "start (median)": post["start"].median(("chain", "draw")).values,
        "pace per year (median)": post["pace"].median(("chain", "draw")).values,
        "progress by the estimand date (median)": post["progress"].median(("chain", "draw")).values,
    },
    index=pd.Index(post["group"].values, name="prefecture"),
).round(2)

# %% [markdown]
# ## 9. Results
#
# Only now look at the estimate. `dnamodel.summarize` gives the total and the share with
# equal-tailed and highest-density intervals, the Monte Carlo error of each, P(total > t) for the
# report's figures with their MCSE, and the prefecture table. It writes the citation sentence only
# when every gate passed and the Monte Carlo error of every quoted figure is below half its
# rounding step (two significant figures). Read the withheld reason if there is one: at reduced
# draws that is expected.

# %%
summary = dnamodel.summarize(idata, data=data)
pd.DataFrame(
    [
        {
            "interval": f"{i.prob:.0%} {i.kind}",
            "total": f"{i.low:,.0f} to {i.high:,.0f}",
            "share": f"{s.low:.1%} to {s.high:.1%}",
        }
        for i, s in zip(summary.total.intervals, summary.share.intervals, strict=True)
    ]
).set_index("interval")

# %%
t = summary.total
print(
    f"median {t.median:,.0f} (MCSE {t.mcse_median:,.0f}); mean {t.mean:,.0f} (MCSE {t.mcse_mean:,.0f}); sd {t.sd:,.0f}"
)
for e in summary.exceedance:
    print(f"P(total > {e.threshold:>11,.0f}) = {e.probability:.3f}  (MCSE {e.mcse:.3f})")
print()
print(summary.sentence or f"No sentence to cite. {summary.withheld}")

# %%
display(Image(filename=plots.total_posterior_plot(idata, summary, OUT / f"{MODEL}_total.png")))

# %% [markdown]
# **By prefecture.** Only Qamdo and Lhasa have local figures; the thesis counts Tibet as a whole.
# The other five prefectures' totals come from their Han shares, the spreads, their start priors
# and what the thesis leaves, so their intervals are wide: look at the ratio of the high to the
# low end.

# %%
pd.DataFrame(
    [
        {
            "prefecture": p.name,
            "population": f"{p.population:,}",
            "median": f"{p.median:,.0f}",
            "90% interval": f"{p.low:,.0f} to {p.high:,.0f}",
            "high ÷ low": round(p.high / p.low, 1),
            "median share": f"{p.share_median:.1%}",
        }
        for p in summary.groups
    ]
).set_index("prefecture")

# %%
# the report's own figures for the prefectures it estimates alone, marked (the case study's, from `replicate`)
marks = plots.report_by_prefecture(data=data)
display(Image(filename=plots.forest_plot(idata, summary, OUT / f"{MODEL}_forest.png", marks=marks)))

# %% [markdown]
# **Fractions against Han share.** Each unit's fraction at saturation with its 90% interval, the
# units a local report counts marked. Look at how few units the data reach directly, and how wide
# the intervals are everywhere else.

# %%
display(Image(filename=plots.covariate_plot(idata, OUT / f"{MODEL}_fraction.png", data=data)))

# %% [markdown]
# **What the data taught.** Each scalar parameter's posterior over its prior. Where the two nearly
# coincide, the data said little and the prior decides; where the posterior sits in a tail of its
# prior, prior and data pull apart. The printed prior quantile of each posterior median says which.
# Notebook 04 measures both formally with power-scaling.

# %%
display(Image(filename=plots.parameter_plot(idata, OUT / f"{MODEL}_parameters.png")))
for name in ("alpha", "contrast", "group_sd", "unit_sd", "reported", "typed_share", "baseline_per_resident"):
    prior_draws, posterior_draws = idata.prior[name].values.ravel(), post[name].values.ravel()
    ratio = posterior_draws.std() / prior_draws.std()
    where = stats.percentileofscore(prior_draws, np.median(posterior_draws))
    print(f"{name:>22}: posterior sd ÷ prior sd = {ratio:.2f}; posterior median at the prior's {where:.0f}% quantile")

# %% [markdown]
# ## Keep the record
#
# The `InferenceData` holds everything above (prior, posterior, both predictives, the log
# densities, data, and the spec's text with its hash and the seed in `attrs`), so this fit can be
# reloaded and checked without refitting, and drawn as a report (`dnamodel report --from`).

# %%
print(f"wrote {dnamodel.write_fit(idata, OUT / f'{MODEL}.nc')}")

# %% [markdown]
# **What would be alarming here**, in order of severity: any divergence, R-hat above 1.01, or ESS
# below 400 *at the spec's own settings*; an observation outside its 90% posterior predictive
# interval (the lenient check failing); a prior predictive range that excludes the report's
# estimates or exceeds the population. A leave-one-out or forecast PIT in a tail is a finding, not
# a bug: it says which figures the estimate leans on, and which the past did not predict. Any
# citation of the total should carry them with it.
