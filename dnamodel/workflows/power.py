"""What the checks can see on a model and its data (``make power``): the model card's figures of section 5.10.

SBC checks the computation: its ranks are uniform for a quantity the data do not inform. Beside each
quantity's rank uniformity this puts its prior-to-posterior contraction on the data, and the coverage
of data simulated from fixed "true" campaigns fitted with the spec's priors, which shows how far the
90% interval misses when a prior is wrong. Run as ``python -m dnamodel.workflows.power [OUT]``: it
prints Markdown tables and writes ``OUT/power.json`` (``results`` by default).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from dnamodel.checks.dated import CAMPAIGNS, SBC_DRAWS, SBC_TUNE
from dnamodel.data import Dataset, given_data
from dnamodel.families import Capability, FitSettings, RefitSettings, family_of, load_model
from dnamodel.files import atomic_write_text, check_output_folder, make_folder

SEED = 20220913
"""The seed of the model card's figures, the default fit's and the SBC test's."""
REPLICATES = 20
"""Data sets per fixed campaign: a 90% coverage to about ±0.07 (its binomial sd)."""
SIMULATIONS = 200
"""SBC's data sets: the SBC test's (tests/test_dated_calibration.py, where its power is stated)."""


def checks_power(
    model: str = "dated",
    *,
    data: Dataset | None = None,
    replicates: int = REPLICATES,
    simulations: int = SIMULATIONS,
    seed: int = SEED,
) -> dict[str, Any]:
    """Contraction on the data beside SBC's ranks, and coverage at fixed campaigns, as one JSON-ready dict.

    The fit is at the spec's settings and ``seed``; SBC's refits at the SBC test's 4 × 500 draws
    (:data:`~dnamodel.checks.dated.SBC_DRAWS`, :data:`~dnamodel.checks.dated.SBC_TUNE`) and the
    campaigns' at 4 × 400, each after 500 tuning steps. ``simulations = 0`` leaves SBC out.
    """
    spec = load_model(model)
    family = family_of(spec)
    family.require(Capability.FIXED_TRUTH, spec.name)
    data = given_data(data, "checks_power")
    timings: dict[str, float] = {}
    begin = time.perf_counter()
    fit = family.fit(spec, data, FitSettings(seed=seed))
    rows = {row.quantity: row for row in family.contraction(fit)}
    timings["fit"] = round(time.perf_counter() - begin, 1)
    uniformity: dict[str, float] = {}
    coverage: dict[str, dict[float, float]] = {}
    divergent = 0
    if simulations:
        begin = time.perf_counter()
        sbc_settings = RefitSettings(draws=SBC_DRAWS, tune=SBC_TUNE, chains=4, seed=seed)
        calibration = family.sbc(fit.inputs, simulations, sbc_settings)
        uniformity, coverage = calibration.uniformity(10), calibration.coverage()
        divergent = int((calibration.divergences > 0).sum())
        timings["sbc"] = round(time.perf_counter() - begin, 1)
    begin = time.perf_counter()
    settings = RefitSettings(draws=400, tune=500, chains=4, seed=seed)
    truths = family.fixed_truth(fit.inputs, CAMPAIGNS, replicates, settings)
    timings["fixed_truth"] = round(time.perf_counter() - begin, 1)
    return {
        "model": spec.name,
        "seed": seed,
        "quantities": [
            {
                "quantity": name,
                "contraction": row.contraction,
                "width_ratio": row.width_ratio,
                "sbc_uniformity_p": uniformity.get(name),
                "sbc_coverage_90": coverage.get(name, {}).get(0.9),
            }
            for name, row in rows.items()
        ],
        "sbc": {"simulations": simulations, "divergent_fits": divergent} if simulations else None,
        "fixed_truth": {
            "replicates": replicates,
            "campaigns": {c.name: {"words": c.words, "values": c.values} for c in CAMPAIGNS},
            "rows": [
                {
                    "campaign": r.campaign,
                    "quantity": r.quantity,
                    "truth": r.truth,
                    "coverage_90": r.coverage,
                    "mean_quantile": float(r.quantile.mean()),
                    "miss": r.miss,
                    "relative_error": r.relative_error,
                }
                for r in truths
            ],
        },
        "timings": timings,
    }


def markdown(result: dict[str, Any]) -> str:
    """The two tables of the model card, section 5.10, as Markdown."""
    lines = [
        "| quantity | contraction | 90% width ratio | SBC uniformity p | SBC 90% coverage |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for q in result["quantities"]:
        p = "–" if q["sbc_uniformity_p"] is None else f"{q['sbc_uniformity_p']:.3f}"
        c = "–" if q["sbc_coverage_90"] is None else f"{q['sbc_coverage_90']:.2f}"
        lines.append(f"| `{q['quantity']}` | {q['contraction']:.2f} | {q['width_ratio']:.2f} | {p} | {c} |")
    lines += [
        "",
        "| campaign | quantity | truth | 90% coverage | mean quantile of the truth | median error |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in result["fixed_truth"]["rows"]:
        truth = f"{r['truth']:,.0f}" if r["quantity"] == "total" else f"{r['truth']:.2f}"
        lines.append(
            f"| {r['campaign']} | `{r['quantity']}` | {truth} | {r['coverage_90']:.2f} | {r['mean_quantile']:.2f} | "
            f"{100 * r['relative_error']:+.0f}% |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m dnamodel.workflows.power [OUT]``: print the tables, write ``OUT/power.json``."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "results")
    check_output_folder(out, "output folder")
    result = checks_power()
    make_folder(out)
    atomic_write_text(out / "power.json", json.dumps(result, indent=1) + "\n")
    print(markdown(result))
    print(f"\nTimes (s): {result['timings']}. Wrote {out / 'power.json'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
