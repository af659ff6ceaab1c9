"""``fit``: any Bayesian spec, hierarchical or dated, fitted to an ``arviz.InferenceData``.

The two kinds are sampled differently (:func:`dnamodel.inference.sampling.fit` compiles a PyMC
model; :func:`dnamodel.inference.dated.fit_dated` samples a numba density, or its PyMC twin), and
this module dispatches on the spec's kind so that the public :func:`dnamodel.fit` takes either.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dnamodel.data import Dataset
from dnamodel.errors import UsageError
from dnamodel.inference import sampling
from dnamodel.inference.dated import fit_dated
from dnamodel.spec import load_model
from dnamodel.spec.dated import DatedSpec
from dnamodel.spec.hierarchical import HierarchicalSpec

if TYPE_CHECKING:
    import arviz as az


def fit(
    spec: HierarchicalSpec | DatedSpec | str | Path,
    data: Dataset | None = None,
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    sampler: str = "nutpie",
    progress: bool = False,
    prior_draws: int = 2000,
) -> az.InferenceData:
    """Fit a Bayesian model (hierarchical or dated) and return everything a reviewer needs in one object.

    Parameters
    ----------
    spec : HierarchicalSpec, DatedSpec, str or Path
        A spec, or a name or path for :func:`dnamodel.load_model`.
    data : Dataset, optional
        Defaults to the bundled data.
    draws, tune, chains, seed : int, optional
        Draws and tuning steps per chain, chains, and the seed; default to the spec's ``[sampler]``.
    sampler : {"nutpie", "pymc"}
        nutpie's NUTS (default), or PyMC's own. For a dated spec, nutpie samples the numba kernel
        and PyMC the model's PyMC twin (:mod:`dnamodel.inference.dated_pymc`).
    progress : bool
        Show progress bars while sampling.
    prior_draws : int
        Draws from the prior and prior predictive.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior`` (with the total ``total`` and its population share ``share``),
        ``sample_stats``, ``posterior_predictive``, ``prior``, ``prior_predictive``,
        ``observed_data`` and ``constant_data`` (a dated fit also ``log_likelihood`` and
        ``log_prior``); ``attrs`` carry provenance (spec, spec hash, data version, seed,
        sampler, package versions) and the timings.

    Raises
    ------
    UsageError
        For a Monte Carlo spec, or an unknown sampler.

    Examples
    --------
    >>> idata = fit("dated", draws=100, tune=100, chains=2, prior_draws=100)
    >>> idata.posterior["total"].shape, idata.attrs["model_kind"], idata.attrs["sampler"]
    ((2, 100), 'dated', 'nutpie')
    """
    if isinstance(spec, str | Path):
        spec = load_model(spec)
    settings = {"draws": draws, "tune": tune, "chains": chains, "seed": seed, "progress": progress}
    if isinstance(spec, DatedSpec):
        return fit_dated(spec, data, sampler=sampler, prior_draws=prior_draws, **settings).idata
    if isinstance(spec, HierarchicalSpec):
        return sampling.fit(spec, data, sampler=sampler, prior_draws=prior_draws, **settings)
    raise UsageError(f"{spec.name!r} is a Monte Carlo model; `fit` takes a hierarchical or dated one (use monte_carlo)")
