"""The dated model's PyMC twin against the numba kernel, point for point.

Both state the same density on the same unconstrained vector (the twin's value variables are the
kernel's blocks), so at any point their log densities and gradients must agree to rounding. The
kernel is itself checked against SciPy and finite differences (``tests/test_dated_kernel.py``).
"""

from dataclasses import replace

import numpy as np
import pytest

from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated as D
from dnamodel.inference import dated_kernel as K
from dnamodel.inference.dated_pymc import build_dated_model, to_point, value_positions
from dnamodel.spec.dated import resolve_dated

# The kernel's log Φ below z = −20 is an asymptotic series, good to 1e-8 absolute (test_dated_kernel);
# log densities are of order 1e3, so 1e-9 relative leaves that room and catches any wrong term.
RTOL = 1e-9


@pytest.fixture(scope="module")
def inputs():
    return resolve_dated(load_model("dated"), load_data())


def agree(inputs, active, points):
    """Assert the twin's log density and gradient equal the kernel's at each point."""
    layout = D.layout_of(inputs)
    model = build_dated_model(inputs, active)
    positions = value_positions(model, layout, inputs)
    order = np.concatenate([positions[v.name] for v in model.value_vars])
    assert sorted(order) == list(range(layout.ndim))  # every kernel parameter is one twin value, once
    logp, dlogp = model.compile_logp(jacobian=True), model.compile_dlogp(jacobian=True)
    packed = D.pack(inputs, active)
    for x in points:
        kernel_grad = np.zeros(layout.ndim)
        kernel = K.logp_grad(x, packed, kernel_grad)
        point = to_point(x, model, layout, inputs)
        twin_grad = np.empty(layout.ndim)
        twin_grad[order] = dlogp(point)
        assert float(logp(point)) == pytest.approx(kernel, rel=RTOL)
        np.testing.assert_allclose(twin_grad, kernel_grad, rtol=RTOL, atol=RTOL * np.abs(kernel_grad).max())


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
