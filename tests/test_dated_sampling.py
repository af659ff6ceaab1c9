"""Fitting the dated model: by either sampler, through ``dnamodel.fit``, and without compiling twice.

The numba kernel is compiled once per machine (numba's on-disk cache) and loaded once per process;
nutpie calls it through a C pointer, so a second fit in a process compiles nothing. PyMC's NUTS on
the model's twin returns the same ``InferenceData`` as nutpie's, variable for variable.
"""

import subprocess
import sys

import numpy as np
import pytest

import dnamodel
from dnamodel.errors import UsageError
from dnamodel.families import load_model
from dnamodel.inference import dated_kernel
from dnamodel.inference.dated import fit_dated

SMALL = {"draws": 20, "tune": 20, "chains": 2, "prior_draws": 20}


@pytest.fixture(scope="module")
def spec():
    return load_model("dated")


def test_fit_dispatches_on_the_specs_kind(spec):
    idata = dnamodel.fit(spec, seed=1, **SMALL)
    assert idata.attrs["model_kind"] == "dated"
    assert idata.posterior["total"].shape == (SMALL["chains"], SMALL["draws"])
    with pytest.raises(UsageError, match="Monte Carlo"):
        dnamodel.fit("report_mc")
    with pytest.raises(UsageError, match="unknown sampler"):
        dnamodel.fit(spec, sampler="emcee", **SMALL)


def test_pymc_on_the_twin_gives_the_same_inference_data(spec):
    one_chain = SMALL | {"chains": 1}  # PyMC compiles again in each process it samples chains in
    nutpie = fit_dated(spec, seed=2, **one_chain).idata
    pymc = fit_dated(spec, seed=2, sampler="pymc", **one_chain).idata
    assert (pymc.attrs["sampler"], nutpie.attrs["sampler"]) == ("pymc", "nutpie")
    assert set(pymc.groups()) == set(nutpie.groups())
    for group in nutpie.groups():
        ours, theirs = getattr(pymc, group), getattr(nutpie, group)
        assert set(ours.data_vars) == set(theirs.data_vars), group
        assert {k: v.dims for k, v in ours.data_vars.items()} == {k: v.dims for k, v in theirs.data_vars.items()}
    # the draws are the kernel's unconstrained vector: the posterior's log density is PyMC's own
    assert np.isfinite(pymc.sample_stats["lp"]).all()


def test_a_second_fit_in_a_process_compiles_nothing(spec):
    fit_dated(spec, seed=3, **SMALL)
    kernel = sys.modules["dnamodel.inference.dated_kernel"]
    compiled = (dict(dated_kernel.logp_grad.stats.cache_misses), len(dated_kernel.logp_grad.signatures))
    fit_dated(spec, seed=4, **SMALL)
    assert sys.modules["dnamodel.inference.dated_kernel"] is kernel  # not imported again
    assert (dict(dated_kernel.logp_grad.stats.cache_misses), len(dated_kernel.logp_grad.signatures)) == compiled


def test_a_new_process_loads_the_kernel_from_numbas_cache():
    probe = "from dnamodel.inference import dated_kernel as K; print(K.logp_cfunc.cache_hits, K.store_cfunc.cache_hits)"
    subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)  # fills the cache if empty
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert done.stdout.split() == ["1", "1"]  # both callbacks loaded, neither compiled
