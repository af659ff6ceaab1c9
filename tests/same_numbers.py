"""Figures a refactor must not change: fits, checks and Monte Carlo runs at reduced settings.

``python tests/same_numbers.py`` writes ``tests/data/same_numbers.json`` from the code as it is;
``tests/test_same_numbers.py`` recomputes every figure and compares. Written before the model-family
refactor (issue 19), so that the refactor is shown to change structure and not numbers: the same
seed gives the same draws, and every figure derived from them agrees to rounding error.

Reduced settings keep it to seconds: these fits are too short for the gates, which is beside the
point here (the figures are compared, not judged).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import dnamodel

SNAPSHOT = Path(__file__).parent / "data" / "same_numbers.json"
BEFORE_ISSUE_20 = Path(__file__).parent / "data" / "dated_before_issue20.toml"
"""The default spec as it was before issue 20 changed its readings of the sources (issue 20 keeps its draws)."""
QUILLMOOR_BEFORE_ISSUE_20 = Path(__file__).parent / "data" / "quillmoor_dated_before_issue20.toml"
"""The Quillmoor example's spec before issue 20 added the reported-units offset to it."""
FIT = {"draws": 300, "tune": 300, "chains": 2, "seed": 20220913, "prior_draws": 500}
REFIT = {"draws": 100, "tune": 100}
QUANTILES = (0.05, 0.5, 0.95)


def _checks(checks: Any) -> list[list[Any]]:
    return [[c.observation, c.observed, c.median, c.low, c.high, c.pit, c.total_median, c.bound, c.lpd] for c in checks]


def _fit_figures(idata: Any) -> dict[str, Any]:
    post = idata.posterior
    total = post["total"].values.ravel()
    scalars = {
        name: float(post[name].values.mean())
        for name in post.data_vars
        if post[name].ndim == 2 and name not in ("total", "share")
    }
    groups = {
        name: post[name].values.reshape(-1, *post[name].shape[2:]).mean(axis=0).tolist()
        for name in ("group_total", "start", "pace", "fraction")
        if name in post
    }
    diagnostics = dnamodel.diagnose(idata)
    return {
        "total_quantiles": np.quantile(total, QUANTILES).tolist(),
        "total_mean": float(total.mean()),
        "share_median": float(np.median(post["share"].values)),
        "scalar_means": scalars,
        "group_means": groups,
        "divergences": int(diagnostics.divergences),
        "max_rhat": float(diagnostics.max_rhat),
        "log_likelihood_sum": (
            float(idata.log_likelihood["obs"].values.sum()) if "log_likelihood" in idata.groups() else None
        ),
        "prior_total_quantiles": np.quantile(idata.prior["total"].values.ravel(), QUANTILES).tolist(),
    }


def dated_figures(spec: str | Path, data: Any) -> dict[str, Any]:
    """A dated fit at reduced settings, its checks, leave-one-out and forecasts."""
    idata = dnamodel.fit(spec, data=data, **FIT)
    out = _fit_figures(idata)
    summary = dnamodel.summarize(idata)
    out["summary_90"] = [summary.total.interval(0.9).low, summary.total.interval(0.9).high]
    out["exceedance"] = [e.probability for e in summary.exceedance]
    out["predictive"] = _checks(dnamodel.predictive_checks(idata))
    out["loo"] = _checks(dnamodel.leave_one_out(idata, **REFIT))
    out["forecasts"] = [[f.data_to, _checks(f.checks)] for f in dnamodel.forecast_checks(idata, **REFIT)]
    out["prior_check"] = list(dnamodel.prior_check(idata).forward)
    out["psens"] = dnamodel.power_scaling(idata).to_dict()["rows"]
    return out


def montecarlo_figures() -> dict[str, Any]:
    """``report_mc`` drawn and streamed."""
    spec = dnamodel.load_model("report_mc")
    draws = dnamodel.monte_carlo(spec, draws=100_000, seed=1)
    summary = dnamodel.summarize(spec, 2_000_000, seed=1, chunk_size=2**20).to_dict()
    # the data's hash names the data files, not a figure: issue 20 added a row (Qushui's 53,600) and
    # notes, and issue 23 renamed the CSV headers, which report_mc does not read: the hash changed and
    # every number stayed
    summary.get("provenance", {}).pop("data_version", None)
    return {
        "draws_total_quantiles": np.quantile(draws["total"].values, QUANTILES).tolist(),
        "summary": summary,
    }


def hierarchical_figures(data: Any) -> dict[str, Any]:
    """``hierarchical_han`` at reduced settings (it compiles: a slow test)."""
    idata = dnamodel.fit("hierarchical_han", data=data, **FIT)
    out = _fit_figures(idata)
    out["predictive"] = _checks(dnamodel.predictive_checks(idata))
    return out


def compute(slow: bool) -> dict[str, Any]:
    """Every figure; the hierarchical model's only when ``slow``."""
    data = dnamodel.load_data()
    folder = dnamodel.example_path("quillmoor")
    out = {
        "dated": dated_figures(BEFORE_ISSUE_20, data),
        "quillmoor": dated_figures(QUILLMOOR_BEFORE_ISSUE_20, dnamodel.load_data(folder / "data")),
        "montecarlo": montecarlo_figures(),
    }
    if slow:
        out["hierarchical_han"] = hierarchical_figures(data)
    return out


if __name__ == "__main__":
    figures = compute(slow=True)
    SNAPSHOT.parent.mkdir(exist_ok=True)
    SNAPSHOT.write_text(json.dumps(figures, indent=1, sort_keys=True, default=float) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
