"""The dated model's PyMC twin against the numba kernel, point for point.

Both state the same density on the same unconstrained vector (the twin's value variables are the
kernel's blocks), so at any point their log densities and gradients must agree to rounding, and
so must each observation's expected value and log likelihood: the twin's graph against the
kernel's functions over draws (:func:`dnamodel.inference.dated_quantities.derive_draws`), which
compute every figure a fit reports. The kernel's gradient is also checked against finite
differences (``tests/test_dated_kernel.py``).
"""

from dataclasses import replace

import numpy as np
import pytest
from pytensor.compile.mode import Mode
from pytensor.graph.traversal import ancestors

from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.inference import dated_kernel as K
from dnamodel.inference.dated_pymc import EXPECTED, TWIN_BLOCKS, build_dated_model, to_point, value_positions
from dnamodel.inference.dated_quantities import derive_draws
from dnamodel.spec import parameters
from dnamodel.spec.dated import resolve_dated

# The kernel's log Φ below z = −20 is an asymptotic series, good to 1e-8 absolute (test_dated_kernel);
# log densities are of order 1e3, so 1e-9 relative leaves that room and catches any wrong term.
RTOL = 1e-9
# The twin is evaluated at a few points: PyTensor's Python implementations after its full rewrites
# (the stability ones included), not C code compiled for each graph. One variant's test took 16 s
# so against 95 s with an empty compile cache, as on a fresh machine.
POINTWISE = Mode(linker="py", optimizer="fast_run")


@pytest.fixture(scope="module")
def inputs():
    return resolve_dated(load_model("dated"), load_data())


def agree(inputs, active, points):
    """Assert the twin's log density and gradient, expected values and log likelihoods equal the kernel's."""
    layout = D.layout_of(inputs)
    model = build_dated_model(inputs, active)
    positions = value_positions(model, layout, inputs)
    order = np.concatenate([positions[v.name] for v in model.value_vars])
    assert sorted(order) == list(range(layout.ndim))  # every kernel parameter is one twin value, once
    logp, dlogp = model.compile_logp(jacobian=True, mode=POINTWISE), model.compile_dlogp(jacobian=True, mode=POINTWISE)
    terms = [model[name] for name in ("obs", "coverage_obs", "bounds") if name in model.named_vars]
    sources = [model[f"unverified_{n}"] for n in inputs.unverified_name if f"unverified_{n}" in model.named_vars]
    expected = next(v for v in ancestors([model.logp()]) if v.name == EXPECTED)
    each = model.compile_fn([expected, *model.logp(vars=terms, sum=False)], point_fn=True, mode=POINTWISE)
    joint = model.compile_fn([*model.logp(vars=sources, sum=False)], point_fn=True, mode=POINTWISE) if sources else None
    # each free variable's prior, Jacobian included, summed into the kernel's term for its block
    priors = model.compile_fn(model.logp(vars=model.free_RVs, sum=False), point_fn=True, mode=POINTWISE)
    term_of_block = {p.block: p.term for p in parameters.DATED}
    prior_terms = parameters.prior_terms(parameters.DATED)
    rows = np.flatnonzero(np.ones(len(inputs.observation), bool) if active is None else active)
    # the twin's terms list its active observations by kind: point values, coverages, then bounds
    kind, censor = inputs.kind[rows], inputs.censor[rows]
    if len(inputs.unverified_group) == len(inputs.observation):  # an unverified source's members: its own term
        censor = np.where(inputs.unverified_group[rows] >= 0, -1, censor)
    by_term = {
        "obs": rows[(censor == D.POINT) & (kind != D.COVERAGE)],
        "coverage_obs": rows[(censor == D.POINT) & (kind == D.COVERAGE)],
        "bounds": rows[(censor != D.POINT) & (censor >= 0)],
    }
    packed = D.pack(inputs, active)
    derived = derive_draws(points, inputs, packed)
    for i, (x, mu, log_likelihood, log_prior) in enumerate(
        zip(points, derived["expected"], derived["log_likelihood"], derived["log_prior"], strict=True)
    ):
        kernel_grad = np.zeros(layout.ndim)
        kernel = K.logp_grad(x, packed, kernel_grad)
        point = to_point(x, model, layout, inputs)
        twin_grad = np.empty(layout.ndim)
        twin_grad[order] = dlogp(point)
        assert float(logp(point)) == pytest.approx(kernel, rel=RTOL)
        np.testing.assert_allclose(twin_grad, kernel_grad, rtol=RTOL, atol=RTOL * np.abs(kernel_grad).max())
        twin_mu, *twin_terms = each(point)
        np.testing.assert_allclose(twin_mu, mu[rows], rtol=1e-12)
        for term, values in zip(terms, twin_terms, strict=True):
            # a bound's log Φ: the kernel's is SciPy's to 1e-9 (test_dated_kernel); the twin's (PyTensor's
            # normal log-CDF) was measured 2.1e-8 from it at a term of −1.65 (Zhagyab's increment, an upper bound here)
            atol = 5e-8 if term.name == "bounds" else 1e-8
            np.testing.assert_allclose(values, log_likelihood[by_term[term.name]], rtol=RTOL, atol=atol)
        if joint is not None:
            twin_sources = np.array([float(v) for v in joint(point)])
            kernel_sources = derived["source_log_likelihood"][i][: len(twin_sources)]
            np.testing.assert_allclose(twin_sources, kernel_sources, rtol=RTOL)
        twin_prior = np.zeros(len(prior_terms))
        for rv, values in zip(model.free_RVs, priors(point), strict=True):
            twin_prior[prior_terms.index(term_of_block[TWIN_BLOCKS[rv.name]])] += values.sum()
        np.testing.assert_allclose(twin_prior, log_prior, rtol=1e-12, atol=1e-10)


def test_the_twin_is_the_kernels_density(inputs):
    agree(inputs, None, D.draw_prior(inputs, 10, np.random.default_rng(20220913)))


def test_the_twin_agrees_on_a_variant_with_observations_left_out(inputs):
    """Linear covariate, upper bounds, no group level; a count, the coverage and a bound inactive.

    A term the twin kept for an inactive observation would show as a difference in the density.
    """
    variant = replace(
        inputs,
        form="linear",
        covariate=(inputs.covariate_raw - inputs.covariate_raw.mean()) / inputs.covariate_raw.std(),
        censor=np.where(inputs.censor == D.LOWER, D.UPPER, inputs.censor),
        group_effects=False,
        priors={k: v for k, v in inputs.priors.items() if k != "group_sd"},
    )
    active = np.ones(len(inputs.observation), bool)
    active[[0, 4, 9]] = False
    agree(variant, active, D.draw_prior(variant, 4, np.random.default_rng(1)))


@pytest.mark.parametrize(
    "name", ["logistic", "constant_after_2018", "constant_after_2020", "kappa_fixed", "certain_source"]
)
def test_the_twin_agrees_with_the_new_pieces(inputs, name):
    """Curve families, κ fixed, profiles over profiles, the thesis unverified (issue 20), some observations left out."""
    from tests.test_dated_kernel import VARIANTS, issue20_variant, usable

    variant = issue20_variant(inputs, **VARIANTS[name])
    active = usable(variant)
    active[[0, 4]] = False
    agree(variant, usable(variant), D.draw_prior(variant, 4, np.random.default_rng(11)))
    agree(variant, active, D.draw_prior(variant, 2, np.random.default_rng(12)))


def test_the_twin_agrees_without_a_covariate():
    """A spec without a covariate (the Maravel example): no θ in either, no database, a reported offset."""
    from dnamodel.data import example_path

    folder = example_path("maravel")
    inputs = resolve_dated(load_model(folder / "models" / "dated.toml"), load_data(folder / "data"))
    assert not inputs.covariate_effect
    agree(inputs, None, D.draw_prior(inputs, 4, np.random.default_rng(5)))
