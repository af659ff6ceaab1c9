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
# 01 · Replicating the report: Tables 3 to 5, and the audit.

Citizen Lab report No. 158 (Dirks 2022) estimates that police collected **919,282 to 1,206,962**
DNA samples in the Tibet Autonomous Region between 2016 and July 2022. Before putting uncertainty
on that estimate, a statistician should be able to *reproduce it exactly* from its stated inputs.
A replication that fails tells you that either the data or your reading of the method is wrong,
and every later analysis would inherit the mistake.

This notebook works through three things, each with what to look at and why:

1. **Table 3**: Lhorong's village and township counts, the only within-county data in the report.
2. **Tables 4 and 5**: the report's chain of arithmetic from four local counts to a Tibet-wide
   total, recomputed in exact rational arithmetic (`dnamodel.replicate`).
3. **The audit** (`dnamodel.audit`): every derived figure the report prints, recomputed, and its
   quoted figures set against the 2020 census.

The model card, `docs/model.md`, states the estimator (section 1) and the audit's conventions
(section 2). Nothing here is random: every number below is exact, and the notebook takes no draws.
"""

# %% tags=["parameters"]
import json
import math
import os
from fractions import Fraction
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import dnamodel

# Parameters. `make notebooks` runs this notebook with the same environment as the others; this one
# takes no draws, so the only setting is where it writes its JSON records.
OUT = Path(os.environ.get("DNAMODEL_NOTEBOOK_OUT", "results/notebooks")) / "01_replicate_report"

# %% [markdown]
# ## 0. Which data, which code
#
# Every result in dnamodel carries a *provenance* record: the package version and a content hash
# of the four bundled CSV files. Quote both next to any figure you take from here; if someone edits
# the data (`dnamodel data export`, then `--data DIR`), the hash changes and so does every figure.

# %%
data = dnamodel.load_data()
print(f"dnamodel {dnamodel.__version__}; data {data.location} ({data.version})")
print(
    f"{len(data.units)} county-level units, {len(data.observations)} observations, "
    f"{len(data.report_figures)} printed figures"
)

# %% [markdown]
# ## 1. Table 3: Lhorong's villages and townships
#
# Table 3 lists nine places in Lhorong County with the samples police reported there between June
# and October 2016, each place's population, and the report's own percentage. The county total,
# 17,194, adds a further 758 samples that no report places. Two things to look at:
#
# - **Does each printed percentage follow from its row?** Recompute samples ÷ population and
#   compare with what the report prints. A disagreement is a transcription question, not a
#   statistical one, but it tells you how much to trust the digits.
# - **How much do the rows differ?** This is the only direct evidence in the report of how
#   collection varies *within* one county. The report uses one county's rate for 2.48 million
#   people; a wide spread between villages of the same county is a warning that a single rate
#   hides a lot. The hierarchical model (notebook 03, model card 4.5) uses these rows for exactly
#   this: the within-county spread τ.

# %%
audit = dnamodel.audit(data=data)
rows = [
    obs
    for obs in data.observations.values()
    if obs.part_of == "lhorong_samples_2016" and obs.kind == "samples_cumulative" and obs.base_ref
]
table3 = []
for obs in rows:
    population = data.observations[obs.base_ref]
    finding = audit.finding("arithmetic:" + obs.id.removesuffix("_samples") + "_share")
    table3.append(
        {
            "place": obs.subarea,
            "finding": finding.id,
            "samples": int(obs.exact),
            "population": int(population.exact),
            "population as printed": population.printed.text,
            "recomputed": float(obs.exact / population.exact),
            "printed": finding.printed,
            "audit": finding.status,
            "how the digits follow": finding.rule or "-",
        }
    )
table3 = pd.DataFrame(table3).set_index("place")
table3.assign(recomputed=table3["recomputed"].map("{:.2%}".format))

# %% [markdown]
# The rows sum to less than the county total: the difference is the unplaced samples. The audit
# checks the sum, and the share printed for the nine places together.

# %%
unplaced = data.observations["lhorong_unlocated_samples"]
county = data.observations["lhorong_samples_2016"]
placed = int(table3["samples"].sum())
print(
    f"rows sum to {placed:,}; + {int(unplaced.exact):,} unplaced = {placed + int(unplaced.exact):,}; "
    f"the report's total is {int(county.exact):,}"
)
for fid in ("sum:lhorong_samples_2016", "sum:lhorong_samples_text", "arithmetic:lhorong_villages_share_text"):
    f = audit.finding(fid)
    print(f"\n{fid}: {f.status}\n  printed {f.printed}, recomputed {f.recomputed}\n  {f.arithmetic}")
    if f.cause:
        print(f"  likely cause: {f.cause}")

# %% [markdown]
# A picture makes both points at once. Each bar is a row's recomputed share; the diamond is what the
# report prints. Where the two part, the audit searched the table for the base that *does* give the
# printed figure: see the causes printed below the chart. Look also at the spread of the bars: the
# ratio of the highest to the lowest row is printed under the figure.

# %%
figure, axes = plt.subplots(figsize=(8, 3.8))
order = table3.sort_values("recomputed")
colours = ["#dd8452" if status == "disagrees" else "#4c72b0" for status in order["audit"]]
axes.barh(order.index, order["recomputed"] * 100, color=colours)
printed = [float(Fraction(text.rstrip("%")) / 100) for text in order["printed"]]
axes.scatter([p * 100 for p in printed], order.index, marker="D", color="black", zorder=3, label="printed")
axes.set_xlabel("samples ÷ population (%)")
axes.set_title("Table 3: Lhorong, June–October 2016 (orange: printed share disagrees)")
axes.legend(loc="lower right")
plt.show()
for place, row in table3[table3["audit"] == "disagrees"].iterrows():
    print(f"{place}: {audit.finding(row['finding']).cause}")
print(f"\nhighest ÷ lowest row share: {table3['recomputed'].max() / table3['recomputed'].min():.1f}×")

# %% [markdown]
# ## 2. Tables 4 and 5: the report's estimate, step by step
#
# The report's estimator (model card, section 1) is a chain of binary operations: two county rates
# (Lhorong, Zhagyab) for the low-Han part of Tibet, Lhasa's rate for Lhasa and Nyingchi, and a sum.
# `replicate` computes each step exactly (Python `Fraction`s) and then cuts it to the precision
# the report prints it at, carrying the cut figure into the next step.
#
# What to look at:
#
# - the **`=`** column: does the recomputed figure equal the printed one to the last digit? If every
#   step matches, the chain *is* the report's method, and we can vary its inputs honestly later.
# - the **rounding** column: the report truncates rather than rounds. The convention matters only
#   where rounding would print something else, and the table says where.

# %%
replication = dnamodel.replicate(data=data)


def step_table(section: str) -> pd.DataFrame:
    """The steps of one part of the report, as a table."""
    return pd.DataFrame(
        [
            {
                "step": s.label,
                "arithmetic": s.arithmetic,
                "exact": s.exact_text,
                "dnamodel": s.shown(),
                "report": s.printed.text,
                "=": "✓" if s.matches else "✗",
                "rounding": s.note,
            }
            for s in replication.steps
            if s.section == section
        ]
    ).set_index("step")


sections = list(dict.fromkeys(s.section for s in replication.steps))
print(sections)
step_table(sections[0])

# %%
step_table(sections[1])

# %%
matched = sum(s.matches for s in replication.steps)
print(
    f"{matched} of {len(replication.steps)} recomputed figures equal the report's; all match: {replication.all_match}"
)
print(f"convention: {replication.convention}")

# %% [markdown]
# **What the truncation did.** `replicate` also carries every step with no cutting at all
# (`Step.unrounded`). The difference between the two is the effect of the report's habit of
# truncating and reusing truncated figures. Compare it with the width of the range between
# Estimates One and Two, printed on the last line: only if the two were of the same order would the
# convention matter for the conclusion.

# %%
for step_id in ("total_low", "total_high"):
    s = replication.step(step_id)
    print(
        f"{s.label}: report {int(s.value):,}; carried exactly {float(s.unrounded):,.0f}; "
        f"truncation added {float(s.value - s.unrounded):,.0f}"
    )
low, high = replication.step("total_low").value, replication.step("total_high").value
print(f"width of the report's range: {int(high - low):,}")

# %% [markdown]
# ### Against the 2020 police thesis
#
# The report sets its totals against a police thesis that counts 631,460 profiles in Tibet's DNA
# database by mid-2020. The subtraction is what growth from mid-2020 to July 2022 each estimate
# implies. A statistician should ask whether those growths are plausible against the thesis's own
# pace (134,306 added in the first half of 2020): the hierarchical model turns exactly this into a
# lower bound on the total (model card 4.6).

# %%
step_table(sections[2])

# %%
added = data.observations["tibet_database_added_2020h1"].exact
half_years = 4  # mid-2020 to mid-2022
for step_id in ("growth_low", "growth_high"):
    growth = replication.step(step_id).value
    pace = growth / (added * half_years)
    print(f"{replication.step(step_id).label}: {int(growth):,} = {float(pace):.2f}× the pace of Jan–Jun 2020")

# %% [markdown]
# ## 3. The audit: where the report disagrees with itself and with the census
#
# `audit` recomputes every derived figure (arithmetic, sums, counts of sources) and sets every
# figure the report quotes against the 2020 census. A printed figure *agrees* when it equals its
# recomputation exactly, or after truncating or rounding to its printed precision (model card,
# section 2). When it disagrees, the audit searches the same table for the number that *does*
# produce it; that search, not a list typed in by hand, names the likely cause.
#
# How to read it as a statistician: most disagreements are typos that change nothing downstream.
# The ones to weigh are those that touch an **input of the estimate**, because each one is a
# choice the report made silently and that a model should make explicitly.

# %%
print(audit.counts())
disagreements = pd.DataFrame(
    [
        {"id": f.id, "printed": f.printed, "recomputed": f.recomputed, "likely cause": f.cause}
        for f in audit.findings
        if f.status != "agrees"
    ]
).set_index("id")
with pd.option_context("display.max_colwidth", 140):
    display(disagreements)

# %% [markdown]
# ### Which findings feed the later models
#
# Four findings become explicit modelling choices in notebooks 02 and 03:
#
# - `census:zhagyab_population_findings`: the report gives Zhagyab two bases, 50,294 and 57,065.
#   `report_mc` draws one of them; the hierarchical model takes any base between them (card 4.4).
# - `method:zhagyab_rate`: the report leaves out Zhagyab's later 7,952 samples. `report_mc` draws
#   whether they count; a shipped sweep adds them to the hierarchical model (notebook 04).
# - `census:rest_population`: the report subtracts a permanent-plus-temporary figure from a
#   permanent-resident total. `report_mc` splits Tibet at the census boundaries instead.
# - `census:lhasa_population_with_temporary` and `census:qushui_population_with_temporary` (notes):
#   Lhasa's 950,000 and Qushui's 53,600 against the census. They set the prior of the hierarchical
#   model's resident uplift ℓ (card 4.3).
#
# The last item is worth computing: the two uplifts, on the log scale, are the two figures the prior
# of ℓ is centred between. If these numbers changed (edited data), the prior in
# `dnamodel/models/hierarchical_han.toml` should be revisited by hand: the spec states them in a comment.

# %%
with_temporary = {
    "lhasa": data.observations["lhasa_population_with_temporary"].exact,
    "qushui": replication.step("qushui_population_with_temporary").value,
}
log_ratios = []
for place, residents in with_temporary.items():
    census = data.census_population(place)
    log_ratios.append(math.log(residents / census))
    print(
        f"{place}: {float(residents):,.0f} with temporary residents ÷ census {census:,} "
        f"= ×{float(residents / census):.4f}; log ratio {log_ratios[-1]:.3f}"
    )
print(f"midpoint {sum(log_ratios) / 2:.3f}; each lies {abs(log_ratios[0] - log_ratios[1]) / 2:.3f} from it")
print(f"the spec's prior: log_uplift ~ {dnamodel.load_model('hierarchical_han').priors['log_uplift']}")

# %%
f = audit.finding("census:rest_population")
print(f"{f.id}\n  printed {f.printed}; census basis {f.recomputed}\n  {f.cause}")

# %% [markdown]
# ### The report's rounding habits
#
# Among the figures that agree, some follow from their inputs only by truncation and some only by
# rounding. A consistent habit (here, truncation) is what lets `replicate` reproduce every figure;
# the few figures that follow only by rounding are quoted from other sources, not computed by the
# author. Figures that agree either way carry no information about the habit.

# %%
for rule, ids in audit.conventions().items():
    print(f"{rule} ({len(ids)}): {', '.join(i.split(':', 1)[1] for i in ids)}")

# %% [markdown]
# ## 4. Keep the record
#
# Both results serialise to plain JSON with their provenance (`to_dict()`), which is what
# `dnamodel replicate --json` and `dnamodel audit --json` print. Saving them next to anything you
# publish lets a reader check which data and which version produced each figure.

# %%
OUT.mkdir(parents=True, exist_ok=True)
for name, result in (("replication", replication), ("audit", audit)):
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {path}")

# %% [markdown]
# **What would be alarming here.** Any ✗ in the `=` column of Tables 4 and 5 (the chain no longer
# reproduces the report: edited data or a bug), or a disagreement in the audit that the model card's
# table (section 2) does not list. Neither is a matter of sampling error: this notebook is exact.
#
# Next: notebook 02 puts Monte Carlo uncertainty on this very chain, with every input the report
# hedges drawn between its alternatives.
