"""The hierarchical model compiled once and sampled: ``compile_model``, ``sample``, ``fit_hierarchical``.

:func:`compile_model` builds the PyMC model (:func:`dnamodel.inference.model.build_model`) and
compiles it once into a :class:`Fitted`; :func:`compiled_for` keeps compiled models per process,
by structure, and :func:`rebind` points one at other values. :func:`sample` samples it with nutpie
(or PyMC's own NUTS), optionally with other values in its data containers (refits without
recompiling). :func:`fit_hierarchical` returns an ``arviz.InferenceData`` with prior, posterior, posterior
predictive, observed data, constant data and provenance attrs. The mathematics is in
``docs/model.md``, section 4.

PyMC, PyTensor, nutpie and ArviZ are imported inside the functions: they take seconds to
import, and the commands that do not fit a model should not wait for them.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.data import Dataset, load_data
from dnamodel.errors import UsageError
from dnamodel.inference.model import CONSTANT_ARRAYS, DATA_DIMS, build_model, data_values, structure
from dnamodel.provenance import fit_provenance
from dnamodel.spec.hierarchical import MAX_SEED, MAX_TUNE, HierarchicalSpec
from dnamodel.spec.resolve import ModelInputs, resolve_hierarchical

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm

SAMPLERS = ("nutpie", "pymc")

MAX_CHAINS = 64
"""Most chains a fit runs, as a spec's ``[sampler]`` table allows."""

MEMORY_SAFETY = 10
"""Copies of the posterior a fit may hold at its peak, with room to spare: nutpie's trace, its
conversion to ``InferenceData``, the posterior predictive, the sorted copies the summary takes,
the power-scaling log densities and the NetCDF writer's buffers."""


def scalars_per_draw(inputs: ModelInputs) -> int:
    """Numbers a fit stores per draw of each chain (:func:`fit_hierarchical` and ``dnamodel estimate``).

    The posterior holds four vectors over ``unit`` (the logit or its standardised deviation, the
    census error, the fraction, the count collected), one over ``group``, two over
    ``observation`` (the expected count, a base) and two over ``row``, and about ten scalars; the
    posterior predictive and the log-likelihood add one per observation and row each, and the sample
    statistics and log prior about 30 more. Measured on a fit of ``hierarchical_han`` with its log
    densities: 396 (posterior 350, posterior predictive 13, log-likelihood 14, log prior 6, sample
    statistics 13), 3.2 KB a draw; this count gives 407.
    """
    units, rows = len(inputs.unit), len(inputs.row)
    observations, groups = len(inputs.observation), len(inputs.group)
    return 4 * units + groups + 4 * observations + 4 * rows + 40


def memory_bytes() -> int:
    """The memory this process may use: the machine's, or its control group's limit if lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        total = 8 * 2**30
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit:
            text = limit.read().strip()
        if text.isdigit():
            total = min(total, int(text))
    except OSError:
        pass
    return total


def max_posterior_draws(scalars: int) -> int:
    """Most draws, over all chains, a fit storing ``scalars`` numbers per draw may make on this machine.

    ``memory_bytes() / (MEMORY_SAFETY × 8 bytes × scalars)``: on the project's 24 GiB machine about
    776,000 for ``hierarchical_han`` (:func:`scalars_per_draw` 407; the spec's own 4 × 2,500 is 10,000).
    """
    return memory_bytes() // (MEMORY_SAFETY * 8 * max(scalars, 1))


class MemoryCapError(UsageError):
    """Draws × chains beyond what this machine can hold (:func:`check_sampler_settings`).

    A caller that took draws or chains from a spec's ``[sampler]`` table blames the spec's key
    (:func:`dnamodel.families.base.spec_settings_blamed`).
    """


def check_sampler_settings(scalars: int, *, draws: int, tune: int, chains: int, seed: int) -> None:
    """Raise :class:`UsageError` for settings a fit cannot run, before anything is compiled.

    ``scalars`` is how many numbers the fit stores per draw of each chain (:func:`scalars_per_draw`
    for the hierarchical model; every kind of model passes its own). Draws, tuning steps and chains
    are positive whole numbers, chains at most :data:`MAX_CHAINS`, tuning at most
    :data:`~dnamodel.spec.hierarchical.MAX_TUNE`, the seed between 0 and 2^63 − 1
    (it is stored with the fit as a 64-bit integer), and ``draws × chains`` at most
    :func:`max_posterior_draws`, so that the fit does not abort for want of memory after compiling.
    """
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise UsageError(f"{name} must be a whole number, got {value!r}")
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if value < 1:
            raise UsageError(f"{name} must be at least 1, got {value:,}")
    if chains > MAX_CHAINS:
        raise UsageError(f"chains must be at most {MAX_CHAINS}, got {chains:,}")
    if tune > MAX_TUNE:
        raise UsageError(f"tune must be at most {MAX_TUNE:,} tuning steps per chain, got {tune:,}")
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"seed must be a whole number from 0 to {MAX_SEED:,} (2^63 − 1), got {seed:,}")
    cap = max_posterior_draws(scalars)
    if draws * chains > cap:
        per_draw = 8 * scalars
        raise MemoryCapError(
            f"draws × chains = {draws:,} × {chains:,} = {draws * chains:,} is more than the {cap:,} this machine "
            f"can hold: each draw stores {per_draw:,} bytes, and a fit may hold {MEMORY_SAFETY} copies in "
            f"{memory_bytes() / 2**30:.1f} GiB of memory"
        )


def quiet_arviz() -> None:
    """Silence ArviZ 0.x's import-time notice about its 1.0 refactor, which is not ours to act on."""
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"arviz(\..*)?$")


COMPILED_CACHE_SIZE = 8
_COMPILED: dict[tuple[Any, ...], Fitted] = {}
"""Compiled models of this process, keyed by structure and sampler: a second fit of a model with the
same structure (the same spec, or one that changes only values), in a sweep, a notebook or a test
session, skips the compile (10-30 s)."""


def compiled_for(inputs: ModelInputs, sampler: str = "nutpie") -> Fitted:
    """A compiled model for ``inputs``: from this process's cache when one of its structure exists."""
    key = (structure(inputs), sampler)
    cached = _COMPILED.get(key)
    if cached is None:
        fitted = compile_model(inputs, sampler)
        _COMPILED[key] = fitted
        while len(_COMPILED) > COMPILED_CACHE_SIZE:
            _COMPILED.pop(next(iter(_COMPILED)))
        return fitted
    return rebind(cached, inputs)


@dataclass
class Timings:
    """Where a fit's time went, in seconds."""

    build: float = 0.0
    compile: float = 0.0
    sample: float = 0.0
    predictive: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The timings as a plain dict."""
        return {k: round(v, 3) for k, v in self.__dict__.items()}


@dataclass
class Fitted:
    """A compiled model kept for refits: the sampler refits it on new data without compiling."""

    inputs: ModelInputs
    model: Any
    compiled: Any
    sampler: str
    timings: Timings = field(default_factory=Timings)
    base: dict[str, np.ndarray] = field(default_factory=dict)
    """Data-container values to sample with, when they differ from those the model was built with."""


def seeds(seed: int) -> tuple[int, int, int]:
    """The sampler's, the prior draws' and the posterior predictive's seeds, derived from one seed.

    Examples
    --------
    >>> seeds(20220913) == seeds(20220913)
    True
    """
    a, b, c = np.random.SeedSequence(seed).generate_state(3)
    return int(a), int(b), int(c)


def compile_model(inputs: ModelInputs, sampler: str = "nutpie") -> Fitted:
    """Build and compile the model once, for :func:`sample` to use any number of times."""
    if sampler not in SAMPLERS:
        raise UsageError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
    timings = Timings()
    start = time.perf_counter()
    model = build_model(inputs)
    timings.build = time.perf_counter() - start
    compiled = None
    if sampler == "nutpie":
        import nutpie  # deferred: start-up time

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # numba's notes on its own caching
            compiled = nutpie.compile_pymc_model(model)
        timings.compile = time.perf_counter() - start
    return Fitted(inputs, model, compiled, sampler, timings)


@contextmanager
def holding(fitted: Fitted, values: Mapping[str, Any] | None = None) -> Iterator[pm.Model]:
    """The shared PyMC model, its containers holding ``fitted``'s values (then ``values``) in the block.

    A rebound :class:`Fitted` shares its PyMC model with the one it was compiled for; anything
    PyMC computes from that model (forward draws, log densities, PyMC's own sampler) must see
    the rebound values, and leave the model as it found it. Baked arrays are shared as they are.
    """
    import pymc as pm  # deferred: start-up time

    merged = {**fitted.base, **(values or {})}
    containers = {name: value for name, value in merged.items() if name not in CONSTANT_ARRAYS}
    model = fitted.model
    with model:
        original = {name: model[name].get_value() for name in containers}
        if containers:
            pm.set_data(containers)
        try:
            yield model
        finally:
            if original:
                pm.set_data(original)


def rebind(fitted: Fitted, inputs: ModelInputs) -> Fitted:
    """The compiled model of ``fitted``, sampling with the values of ``inputs`` instead.

    Raises
    ------
    ValueError
        If ``inputs`` has another :func:`structure`, which needs a model of its own.
    """
    if structure(inputs) != structure(fitted.inputs):
        raise ValueError("these inputs change the model's structure; compile a model for them")
    return Fitted(inputs, fitted.model, fitted.compiled, fitted.sampler, base=data_values(inputs))


def sample(
    fitted: Fitted,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float = 0.9,
    progress: bool = False,
    cores: int | None = None,
    data: dict[str, Any] | None = None,
    observed: np.ndarray | None = None,
    error: np.ndarray | None = None,
    row_observed: np.ndarray | None = None,
) -> az.InferenceData:
    """Sample the posterior, optionally with other values in the model's data containers.

    ``data`` maps container names (:func:`data_values`) to values; ``observed``, ``error``
    and ``row_observed`` are shorthands for three of them. Values the fitted model was
    rebound to (:func:`rebind`) apply first. Returns the posterior and sample stats only;
    :func:`fit_hierarchical` adds the rest.
    """
    import pymc as pm  # deferred: start-up time

    quiet_arviz()
    updates = dict(fitted.base)
    updates |= {name: np.asarray(value, dtype=float) for name, value in (data or {}).items()}
    updates |= {
        name: np.asarray(value, dtype=float)
        for name, value in (("observed", observed), ("error", error), ("row_observed", row_observed))
        if value is not None
    }
    cores = cores if cores is not None else min(chains, os.cpu_count() or 1)
    start = time.perf_counter()
    if fitted.sampler == "nutpie":
        import nutpie  # deferred: start-up time

        # nutpie keeps only the containers the graph uses (a switched-off thesis leaves pace__sigma out)
        used = {name: value for name, value in updates.items() if name in fitted.compiled.shared_data}
        compiled = fitted.compiled.with_data(**used) if used else fitted.compiled
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            target_accept=target_accept,
            save_warmup=False,
            progress_bar=progress,
        )
    else:
        with holding(fitted, updates):
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=seed,
                target_accept=target_accept,
                progressbar=progress,
                compute_convergence_checks=False,
                idata_kwargs={"log_likelihood": False},
            )
    fitted.timings.sample = time.perf_counter() - start
    return idata


def fit_hierarchical(
    spec: HierarchicalSpec,
    data: Dataset | None = None,
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    sampler: str = "nutpie",
    progress: bool = False,
    prior_draws: int = 2000,
) -> tuple[az.InferenceData, Fitted]:
    """Fit a hierarchical model: the fit and its compiled model, kept for refits.

    The public :func:`dnamodel.fit` takes any Bayesian spec through its model family
    (:mod:`dnamodel.families`); this is the hierarchical family's. ``draws``, ``tune``, ``chains``
    and ``seed`` default to the spec's ``[sampler]`` table; ``sampler`` is ``"nutpie"`` or PyMC's own
    NUTS (``"pymc"``), the fallback.

    Returns
    -------
    tuple of (arviz.InferenceData, Fitted)
        The fit: groups ``posterior`` (with the total ``total`` and its population share ``share``),
        ``sample_stats``, ``posterior_predictive``, ``prior``, ``prior_predictive``,
        ``observed_data`` and ``constant_data``, and ``attrs`` with its provenance
        (:func:`dnamodel.provenance.fit_provenance`); and the compiled model it was sampled from.
    """
    data = data if data is not None else load_data()
    settings = spec.sampler
    draws = settings.draws if draws is None else draws
    tune = settings.tune if tune is None else tune
    chains = settings.chains if chains is None else chains
    seed = settings.seed if seed is None else seed
    resolved = resolve_hierarchical(spec, data)
    check_sampler_settings(scalars_per_draw(resolved), draws=draws, tune=tune, chains=chains, seed=seed)
    import pymc as pm  # deferred, and after the checks: start-up time

    quiet_arviz()
    fitted = compiled_for(resolved, sampler)
    inputs = fitted.inputs
    sampler_seed, prior_seed, predictive_seed = seeds(seed)
    idata = sample(
        fitted,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=int(sampler_seed),
        target_accept=settings.target_accept,
        progress=progress,
    )
    start = time.perf_counter()
    idata = _complete(idata, fitted)
    with holding(fitted), warnings.catch_warnings():  # a rebound model draws its prior with its own values
        warnings.simplefilter("ignore", UserWarning)  # "The effect of Potentials on other parameters is ignored"
        # FAST_COMPILE: no C compile of the forward sampler (22 s from empty caches), and
        # prior_draws calls of a small graph take under a second either way.
        prior = pm.sample_prior_predictive(
            draws=prior_draws, random_seed=prior_seed, compile_kwargs={"mode": "FAST_COMPILE"}
        )
    predictive = posterior_predictive(idata, inputs, predictive_seed)
    idata.extend(prior)
    idata.add_groups(posterior_predictive=predictive)
    fitted.timings.predictive = time.perf_counter() - start
    idata.attrs.update(
        fit_provenance(
            spec,
            data,
            kind="hierarchical",
            seed=seed,
            sampler=sampler,
            draws=draws,
            tune=tune,
            chains=chains,
            timings=fitted.timings.as_dict(),
            packages=fitted_packages(sampler, "pymc"),
        )
    )
    for group in idata.groups():
        getattr(idata, group).attrs.pop("created_at", None)  # same seed, same file
    return idata, fitted


def fitted_packages(sampler: str, *model: str) -> list[str]:
    """The distributions a fit records the versions of: ArviZ, NumPy, the sampler's, and the model's own."""
    return ["arviz", "numpy", *(["nutpie"] if sampler == "nutpie" else []), *model]


def posterior_predictive(idata: az.InferenceData, inputs: ModelInputs, seed: int) -> Any:
    """Replicated observations, one per posterior draw: ``expected · exp(error · N(0, 1))``.

    This is the model's log-normal likelihood drawn directly from the posterior's
    ``expected`` and ``row_fraction``, in NumPy: PyMC's forward sampler would compile a C
    function for it (22 s from empty caches) to compute the same thing.
    """
    import xarray as xr  # deferred: start-up time

    rng = np.random.default_rng(seed)
    post = idata.posterior
    expected = post["expected"]
    variables = {"obs": expected * np.exp(inputs.error * rng.standard_normal(expected.shape))}
    if inputs.row:
        mean = post["row_fraction"] * inputs.row_population
        variables["row_obs"] = mean * np.exp(inputs.row_error * rng.standard_normal(mean.shape))
    return xr.Dataset(variables)


def _complete(idata: az.InferenceData, fitted: Fitted) -> az.InferenceData:
    """Add observed and constant data and drop warm-up groups.

    ``constant_data`` holds every data container's value as this fit used it. PyMC's
    posterior predictive compares the model's containers with it and resamples from the prior
    whatever depends on a container that differs, so it must hold the rebound values.
    """
    import xarray as xr  # deferred: start-up time

    inputs = fitted.inputs
    coords = {dims.OBSERVATION: list(inputs.observation), dims.UNIT: list(inputs.unit), dims.ROW: list(inputs.row)}

    def array(value: Any, names: tuple[str, ...]) -> xr.DataArray:
        return xr.DataArray(value, dims=list(names), coords={n: coords[n] for n in names})

    observed = {"obs": array(inputs.observed, (dims.OBSERVATION,))}
    if inputs.row:
        observed["row_obs"] = array(inputs.row_observed, (dims.ROW,))
    constant = {name: array(value, DATA_DIMS.get(name, ())) for name, value in data_values(inputs).items()}
    constant["han_share"] = array(inputs.han_share, (dims.UNIT,))
    constant["unit_group"] = array([inputs.group[i] for i in inputs.unit_group], (dims.UNIT,))
    for group in [g for g in idata.groups() if g.startswith("warmup") or g in ("observed_data", "constant_data")]:
        del idata[group]
    idata.add_groups(observed_data=xr.Dataset(observed), constant_data=xr.Dataset(constant))
    return idata
