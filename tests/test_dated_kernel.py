"""The dated model's compiled density: its gradient, its parts, and the C callback nutpie calls.

The density itself is checked against the independent PyMC twin (``tests/test_dated_pymc.py``);
here its hand-written gradient is checked against finite differences, and the log density is
checked to be the sum of the parts the functions over draws report (each prior term and each
active observation's log likelihood), which is what a fit saves and power-scaling reads.
"""

import ctypes
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import log_ndtr

from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.inference import dated_kernel as K
from dnamodel.inference.dated_packing import H_KEY, LAYOUT_KEY
from dnamodel.inference.dated_quantities import derive_draws
from dnamodel.spec.dated import resolve_dated


@pytest.fixture(scope="module")
def inputs():
    return resolve_dated(load_model("dated"), load_data())


@pytest.fixture(scope="module")
def points(inputs):
    return D.draw_prior(inputs, 12, np.random.default_rng(20220913))


def linear_variant(inputs):
    """Linear covariate, upper bounds, no group level."""
    return replace(
        inputs,
        form="linear",
        covariate=(inputs.covariate_raw - inputs.covariate_raw.mean()) / inputs.covariate_raw.std(),
        censor=np.where(inputs.censor == D.LOWER, D.UPPER, inputs.censor),
        group_effects=False,
        priors={k: v for k, v in inputs.priors.items() if k != "group_sd"},
    )


def test_the_compiled_kernel_reads_the_layout_it_is_packed_with(inputs):
    assert K.layout_key() == LAYOUT_KEY
    assert D.pack(inputs)[H_KEY] == LAYOUT_KEY


@pytest.mark.parametrize("variant", ["default", "linear"])
def test_the_density_is_the_sum_of_the_parts_a_fit_reports(inputs, points, variant):
    """Each prior term and each active observation's log likelihood, summed, is the sampler's density."""
    model = inputs if variant == "default" else linear_variant(inputs)
    x = points if variant == "default" else D.draw_prior(model, 6, np.random.default_rng(3))
    active = np.ones(len(model.observation), bool)
    active[[0, 5, 7]] = False
    grad = np.zeros(x.shape[1])
    for mask in (None, active):
        packed = D.pack(model, mask)
        parts = derive_draws(x, model, packed)
        chosen = np.ones(len(model.observation), bool) if mask is None else mask
        total = parts["log_prior"].sum(axis=1) + parts["log_likelihood"][:, chosen].sum(axis=1)
        kernel = np.array([K.logp_grad(xi, packed, grad) for xi in x])
        # both are sums of ~200 terms of size ≤ 1e4 in float64, in another order: 1e-12 relative
        np.testing.assert_allclose(kernel, total, rtol=1e-12, atol=1e-9)


def finite_difference_check(packed, x):
    n = x.shape[0]
    grad, scratch = np.zeros(n), np.zeros(n)
    K.logp_grad(x, packed, grad)
    numeric = np.empty(n)
    h = 1e-6
    for i in range(n):
        step = np.zeros(n)
        step[i] = h
        numeric[i] = (K.logp_grad(x + step, packed, scratch) - K.logp_grad(x - step, packed, scratch)) / (2 * h)
    # central differences err by O(h² f''') plus rounding of order |logp|·1e-16/h ≈ 1e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


def test_gradient_equals_finite_differences(inputs, points):
    packed = D.pack(inputs)
    for x in points[:4]:
        finite_difference_check(packed, x)


def test_bounds_and_the_linear_form_have_right_gradients(inputs):
    """The same check on a variant: linear covariate, upper bounds, no group level."""
    variant = linear_variant(inputs)
    finite_difference_check(D.pack(variant), D.draw_prior(variant, 1, np.random.default_rng(1))[0])


@pytest.mark.parametrize("z", [-60.0, -30.0, -20.000001, -19.999999, -8.0, -1.0, 0.0, 3.0, 9.0])
def test_log_ndtr_is_scipys_in_both_tails(z):
    value, ratio = K.log_ndtr_ratio(z)
    assert value == pytest.approx(float(log_ndtr(z)), rel=1e-9, abs=1e-14)
    expected_ratio = math.exp(-0.5 * z * z - 0.5 * math.log(2 * math.pi) - float(log_ndtr(z)))
    assert ratio == pytest.approx(expected_ratio, rel=1e-8)


def test_an_increment_is_a_difference_of_the_curve_without_cancellation():
    # late in a campaign F(t1) and F(t2) are both 1 - 1e-12: their difference in floating point
    # keeps 4 digits; the increment keeps the exact value e^{-r·ramp1}·(1 - e^{-r·(ramp2 - ramp1)})
    t0, rate, eps = 2000.0, 1.0, 0.25
    increment = K.campaign(0, 2027.0, 2028.0, t0, rate, eps)[0]
    assert increment == pytest.approx(math.exp(-27.0) * -math.expm1(-1.0), rel=1e-12)
    difference = K.campaign(0, math.nan, 2028.0, t0, rate, eps)[0] - K.campaign(0, math.nan, 2027.0, t0, rate, eps)[0]
    assert abs(difference / increment - 1) > 1e-6  # what the increment avoids: 3e-5 here
    # its derivatives in the pace and the start, by central differences: h = 1e-5 errs by O(h²) ≈ 1e-10
    # and by rounding, a date near 2018 being exact to 2e-13, 2e-13 / h = 2e-8 relative
    h = 1e-5
    _, d_rate, d_start, _, _, _ = K.campaign(0, 2018.5, 2019.0, 2018.2, 1.3, eps)
    plus, minus = (
        K.campaign(0, 2018.5, 2019.0, 2018.2, 1.3 + h, eps)[0],
        K.campaign(0, 2018.5, 2019.0, 2018.2, 1.3 - h, eps)[0],
    )
    assert d_rate == pytest.approx((plus - minus) / (2 * h), rel=1e-6)
    plus, minus = (
        K.campaign(0, 2018.5, 2019.0, 2018.2 + h, 1.3, eps)[0],
        K.campaign(0, 2018.5, 2019.0, 2018.2 - h, 1.3, eps)[0],
    )
    assert d_start == pytest.approx((plus - minus) / (2 * h), rel=1e-6)


def test_the_c_callback_returns_what_the_kernel_does(inputs, points):
    packed = np.ascontiguousarray(D.pack(inputs))
    n = points.shape[1]
    call = ctypes.CFUNCTYPE(
        ctypes.c_int64,
        ctypes.c_uint64,
        ctypes.POINTER(ctypes.c_double),
        ctypes.POINTER(ctypes.c_double),
        ctypes.POINTER(ctypes.c_double),
        ctypes.c_void_p,
    )(K.logp_cfunc.address)
    x = np.ascontiguousarray(points[0])
    grad, out = np.zeros(n), np.zeros(1)
    status = call(
        n,
        x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        grad.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        packed.ctypes.data,
    )
    expected_grad = np.zeros(n)
    assert status == 0
    assert out[0] == K.logp_grad(x, packed, expected_grad)
    np.testing.assert_array_equal(grad, expected_grad)
    assert call(n + 1, None, None, None, packed.ctypes.data) == -1  # a wrong dimension is refused


def test_a_spec_without_a_covariate_has_no_covariate_term():
    """No θ in the vector, the density or its gradient: the density as the sum of its parts, and finite differences."""
    from dnamodel.data import example_path

    folder = example_path("maravel")
    inputs = resolve_dated(load_model(folder / "models" / "dated.toml"), load_data(folder / "data"))
    assert (inputs.covariate_effect, inputs.form) == (False, "none")
    assert "contrast" not in inputs.priors
    layout = D.layout_of(inputs)
    assert not layout.has("contrast")
    x = D.draw_prior(inputs, 4, np.random.default_rng(3))
    assert "contrast" not in D.scalars(D.constrain(x, inputs), inputs)
    packed = D.pack(inputs)
    grad, scratch = np.zeros(layout.ndim), np.zeros(layout.ndim)
    parts = derive_draws(x, inputs, packed)
    assert np.isfinite(parts["log_prior"]).all()
    np.testing.assert_allclose(
        [K.logp_grad(xi, packed, grad) for xi in x],
        parts["log_prior"].sum(axis=1) + parts["log_likelihood"].sum(axis=1),
        rtol=1e-12,
        atol=1e-9,
    )
    K.logp_grad(x[0], packed, grad)
    numeric = np.empty(layout.ndim)
    for i in range(layout.ndim):
        step = np.zeros(layout.ndim)
        step[i] = 1e-6
        numeric[i] = (K.logp_grad(x[0] + step, packed, scratch) - K.logp_grad(x[0] - step, packed, scratch)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)
    # the fraction is the level alone: the same as a zero covariate in the linear form would give
    q = D.constrain(x, inputs)
    np.testing.assert_allclose(q["fraction"], 1 / (1 + np.exp(-q["logit_fraction"])), rtol=1e-12)
