"""The Monte Carlo family (``docs/model.md``, section 3): a total drawn from distributions of its inputs.

Its spec is :class:`~dnamodel.spec.montecarlo.ModelSpec` (a ``[model]`` table without ``kind``, or
``kind = "monte_carlo"``), resolved by :func:`~dnamodel.spec.montecarlo.resolve`. It has no posterior
and so none of a fit's checks: its "fit" is a run (:func:`~dnamodel.montecarlo.run.monte_carlo`), it is
summarised by streaming (:func:`~dnamodel.montecarlo.run.stream_summary`), and its inputs are ranked by Sobol
indices and a tornado (:mod:`dnamodel.montecarlo.sensitivity`). A sweep's point takes a fraction of a
second and always runs in the sweeping process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from dnamodel import dims
from dnamodel.families.base import (
    QUANTILE_NAMES,
    SWEEP_PROBABILITIES,
    Capability,
    Family,
    Fit,
    FitSettings,
    SweepSettings,
)
from dnamodel.montecarlo.engine import DEFAULT_SEED, Engine
from dnamodel.montecarlo.run import monte_carlo, stream_summary
from dnamodel.montecarlo.sensitivity import sobol
from dnamodel.spec.montecarlo import ModelSpec, Resolved, parse_montecarlo, resolve

if TYPE_CHECKING:
    from dnamodel.data import Dataset

RUN_DRAWS = 100_000
"""Draws of a run when the settings give none (:func:`~dnamodel.montecarlo.run.monte_carlo`'s default)."""
SWEEP_DRAWS = 2**18
"""Default draws per point of a Monte Carlo sweep."""
SOBOL_N = 2**12
"""Sobol base sample size per point of a Monte Carlo sweep."""


class MonteCarloFamily(Family):
    """Monte Carlo models: the report's method, its inputs drawn from the alternatives it offers."""

    kind: ClassVar[str] = "monte_carlo"
    noun: ClassVar[str] = "a Monte Carlo model"
    spec_class: ClassVar[type] = ModelSpec
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.DRAWS, Capability.SWEEP})
    hints: ClassVar[Mapping[Capability, str]] = {
        capability: "draw it with `dnamodel mc {what}` (dnamodel.monte_carlo from Python)"
        for capability in Capability
        if capability not in (Capability.DRAWS, Capability.SWEEP)
    }

    def parse(self, raw: dict[str, Any], text: str, file: str) -> ModelSpec:
        """:func:`~dnamodel.spec.montecarlo.parse_montecarlo`."""
        return parse_montecarlo(raw, text, file)

    def resolve(self, spec: ModelSpec, data: Dataset) -> dict[str, Resolved]:
        """:func:`~dnamodel.spec.montecarlo.resolve`: each input's parameters from the data."""
        return resolve(spec, data)

    def fit(self, spec: ModelSpec, data: Dataset, settings: FitSettings) -> Fit:
        """A run: every draw of the model (``idata`` is its ``xarray.Dataset`` over ``draw``)."""
        draws = RUN_DRAWS if settings.draws is None else settings.draws
        seed = DEFAULT_SEED if settings.seed is None else settings.seed
        result = monte_carlo(spec, draws, seed, data=data)
        return Fit(spec, result, resolve(spec, data))

    def sweep_defaults(self) -> tuple[int, int]:
        """A point's draws and seed when the sweep gives none."""
        return SWEEP_DRAWS, DEFAULT_SEED

    def sweep_point(self, spec: ModelSpec, data: Dataset, settings: SweepSettings) -> dict[str, Any]:
        """The total streamed at the point, with its Monte Carlo error, and each random input's Sobol index."""
        summary = stream_summary(spec, settings.draws, settings.seed, data=data)
        total = summary.variables["total"]
        random_inputs = [name for name, d in spec.inputs.items() if d.dist != "point"]
        indices = sobol(spec, n=SOBOL_N, seed=settings.seed, data=data, n_resamples=99) if random_inputs else None
        return {
            "total": {
                name: total.quantiles[p].value for name, p in zip(QUANTILE_NAMES, SWEEP_PROBABILITIES, strict=True)
            }
            | {"mean": total.mean.value},
            "share_median": summary.variables["share"].quantiles[0.5].value,
            "mcse_median": total.quantiles[0.5].mcse,
            "sobol_total_order": {}
            if indices is None
            else {
                str(k): float(v) for k, v in zip(indices[dims.INPUT].values, indices["total_order"].values, strict=True)
            },
            "spec_hash": spec.hash,
        }

    def check_point(self, spec: ModelSpec, data: Dataset, settings: SweepSettings) -> None:
        """The point's inputs resolve and its quantities evaluate on the data."""
        Engine.build(spec, data)
