"""The dated model's compiled density against an independent NumPy/SciPy implementation.

The numba kernel (written out by hand, gradient included) must equal the sum of
:func:`dnamodel.inference.dated.log_prior` and :func:`~dnamodel.inference.dated.log_likelihood`
(SciPy's densities, another code path), and its gradient must equal finite differences.
"""

import ctypes
import math

import numpy as np
import pytest
from scipy.special import log_ndtr

from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.inference import dated_kernel as K
from dnamodel.spec.dated import resolve_dated


@pytest.fixture(scope="module")
def inputs():
    return resolve_dated(load_model("dated"), load_data())


@pytest.fixture(scope="module")
def points(inputs):
    return D.draw_prior(inputs, 12, np.random.default_rng(20220913))


def numpy_density(x, inputs, active=None):
    q = D.constrain(x, inputs)
    ll = D.log_likelihood(D.expected(q, inputs), inputs)
    if active is not None:
        ll = ll[:, active]
    return ll.sum(axis=1) + sum(D.log_prior(x, inputs).values())


def test_the_packed_layout_is_the_kernels():
    for name, index in D.SLOT.items():
        assert getattr(K, name) == index, name
    for name, index in D.PRIOR_SLOT.items():
        assert getattr(K, "PR_" + name) == index, name
    assert len(D.PRIOR_SLOT) == K.N_PRIOR


def test_kernel_density_equals_the_numpy_one(inputs, points):
    packed = D.pack(inputs)
    grad = np.zeros(points.shape[1])
    kernel = np.array([K.logp_grad(x, packed, grad) for x in points])
    reference = numpy_density(points, inputs)
    # both are sums of ~200 terms of size ≤ 1e4 in float64: agreement to 1e-12 relative
    np.testing.assert_allclose(kernel, reference, rtol=1e-12, atol=1e-9)


def test_leaving_observations_out_drops_exactly_their_terms(inputs, points):
    active = np.ones(len(inputs.observation), bool)
    active[[0, 5, 7]] = False
    packed = D.pack(inputs, active)
    grad = np.zeros(points.shape[1])
    kernel = np.array([K.logp_grad(x, packed, grad) for x in points])
    np.testing.assert_allclose(kernel, numpy_density(points, inputs, active), rtol=1e-12, atol=1e-9)


def test_gradient_equals_finite_differences(inputs, points):
    packed = D.pack(inputs)
    n = points.shape[1]
    grad = np.zeros(n)
    scratch = np.zeros(n)
    h = 1e-6
    for x in points[:4]:
        K.logp_grad(x, packed, grad)
        numeric = np.empty(n)
        for i in range(n):
            step = np.zeros(n)
            step[i] = h
            numeric[i] = (K.logp_grad(x + step, packed, scratch) - K.logp_grad(x - step, packed, scratch)) / (2 * h)
        # central differences err by O(h² f''') plus rounding of order |logp|·1e-16/h ≈ 1e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


def test_bounds_and_the_linear_form_have_right_gradients(inputs, points):
    """The same check on a variant: linear covariate, upper bounds, no group level, no databases."""
    from dataclasses import replace

    variant = replace(
        inputs,
        form="linear",
        covariate=(inputs.covariate_raw - inputs.covariate_raw.mean()) / inputs.covariate_raw.std(),
        censor=np.where(inputs.censor == D.LOWER, D.UPPER, inputs.censor),
        group_effects=False,
        priors={k: v for k, v in inputs.priors.items() if k != "group_sd"},
    )
    layout = D.layout_of(variant)
    x = D.draw_prior(variant, 3, np.random.default_rng(1))
    packed = D.pack(variant)
    grad, scratch = np.zeros(layout.ndim), np.zeros(layout.ndim)
    np.testing.assert_allclose(
        [K.logp_grad(xi, packed, grad) for xi in x], numpy_density(x, variant), rtol=1e-12, atol=1e-9
    )
    K.logp_grad(x[0], packed, grad)
    numeric = np.empty(layout.ndim)
    for i in range(layout.ndim):
        step = np.zeros(layout.ndim)
        step[i] = 1e-6
        numeric[i] = (K.logp_grad(x[0] + step, packed, scratch) - K.logp_grad(x[0] - step, packed, scratch)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("z", [-60.0, -30.0, -20.000001, -19.999999, -8.0, -1.0, 0.0, 3.0, 9.0])
def test_log_ndtr_is_scipys_in_both_tails(z):
    value, ratio = K.log_ndtr_ratio(z)
    assert value == pytest.approx(float(log_ndtr(z)), rel=1e-9, abs=1e-14)
    expected_ratio = math.exp(-0.5 * z * z - 0.5 * math.log(2 * math.pi) - float(log_ndtr(z)))
    assert ratio == pytest.approx(expected_ratio, rel=1e-8)


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
