"""The dated model's density in numba, compiled once per machine: the sampler's and every draw's.

Everything the density reads is one float64 vector, the *packed* inputs
(:func:`dnamodel.inference.dated_packing.pack`): a header of sizes and offsets, then the data, each
unconstrained coordinate's transform and the prior table. The compiled code holds no region, no
size and no data, so one compile (cached on disk by numba) serves every data set, spec,
leave-one-out refit, forecast, SBC data set and sweep point. nutpie calls :data:`logp_cfunc`
directly from its sampling threads, without the GIL.

The forward pass is a set of functions, each written once and used both by :func:`logp_grad` (the
log density and its gradient, written out by hand in reverse mode) and by :func:`derive` and the
other functions over draws, which compute every quantity the fit reports:

- :func:`prior_density`: a coordinate's prior, by its kind (:data:`dnamodel.spec.parameters.PRIOR_KINDS`),
  summed over the prior table's rows in one loop (:func:`prior_sum`, :func:`prior_by_term`);
- :func:`constrain_into`: every coordinate's value through its transform; the model's own code
  reads values by index, and :func:`chain` takes a gradient back through a transform;
- :func:`unit_fractions`: η_u = α + a_j(u) + δ R_u + o_u + σ_u z_u (+ θ x_u in the linear form), and
  π_u = (1 − h_u) σ(η_u) + h_u σ(η_u + θ) (composition form) or σ(η_u) (linear form);
- :func:`populations`: N_u = P_u exp(c e_u) λ_g(u);
- :func:`campaign`: the campaign curve, its increments and derivatives, by the packed curve family;
- :func:`expected_value`: each observation's μ_k (and the curve at its dates); :func:`database_level`:
  D_d = b N_d + κ Σ C_u;
- :func:`observation_density`: each observation's log likelihood, by its likelihood code.

The mathematics is ``docs/model.md``, section 5. ``tests/test_dated_kernel.py`` checks the gradient
against finite differences, and ``tests/test_dated_pymc.py`` the density, its gradient, each
observation's expected value and log likelihood against the independent PyMC twin.

The floating-point order of :func:`logp_grad` is the sampler's: nutpie's draws depend on every bit
of the log density and its gradient, so a term is summed, and a gradient accumulated, in the order
the prior table and the code below give it. Its pieces are inlined and take few arrays (each array
an inlined function takes costs an atomic reference count): written as pieces, the density costs
the sampler 4 to 8% more time than written in one (``benchmarks/README.md``).
"""

import functools
import math

import numba
import numpy as np

from dnamodel.inference.dated_packing import (
    B_ACTIVE,
    B_BASE,
    B_CENSOR,
    B_DB,
    B_DGIDX,
    B_DGPTR,
    B_DIDX,
    B_DPTR,
    B_DWHOLE,
    B_GIDX,
    B_GPTR,
    B_GROUP,
    B_KIND,
    B_LIKELIHOOD,
    B_N,
    B_ND,
    B_OFFSET,
    B_OIDX,
    B_OPTR,
    B_OW,
    B_PRIOR,
    B_REPORTED,
    B_S,
    B_T1,
    B_T2,
    B_TRANSFORM,
    B_TYPED,
    B_UERROR,
    B_UGROUP,
    B_UPLIFT,
    B_UWRONG,
    B_WHOLE,
    B_X,
    B_Y,
    COMPOSITION,
    CONSTANT_AFTER,
    COUNT,
    DATABASE_KIND,
    DATABASE_SHARE,
    H_AFFINE,
    H_CE,
    H_CURVE,
    H_D,
    H_EPS,
    H_FORM,
    H_J,
    H_K,
    H_LEN,
    H_NDIM,
    H_NPRIOR,
    H_NTRANSFORM,
    H_NU,
    H_TC,
    H_U,
    H_WIDTH,
    HEADER,
    LAYOUT_KEY,
    LINEAR,
    LOGISTIC,
    LOGIT_NORMAL_ERROR,
    LOWER,
    P_ALPHA,
    P_DELTA,
    P_E,
    P_KAPPA,
    P_LAM,
    P_LB,
    P_LSP,
    P_LSU,
    P_RHO,
    P_THETA,
    P_V,
    P_W,
    P_Z,
    POINT,
    PRIOR_COLUMNS,
    SATURATING,
    TRANSFORM_COLUMNS,
)
from dnamodel.spec.parameters import (
    FIXED,
    GAMMA,
    HALFNORMAL,
    IDENTITY,
    LOG,
    LOGIT,
    LOGNORMAL,
    NORMAL,
    SHIFT,
    STANDARD_NORMAL,
)

compiled = numba.njit(cache=True, error_model="numpy")
"""An entry point: a division by zero gives inf or NaN, as in NumPy, and the sampler is told so by the
non-finite density, not by an exception (which a C callback cannot raise)."""
inlined = numba.njit(cache=True, error_model="numpy", inline="always")
"""A piece of the forward pass, inlined where it is used: as fast as the density written in one piece."""

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
LOG_HALFNORMAL = 0.5 * math.log(2.0 / math.pi)
LOGISTIC_L = math.log(19.0)
"""The logistic curve's offset L = ln 19: it starts at 0 exactly and is 5% of the way at the start of its ramp."""
_E = math.exp(-LOGISTIC_L)
LOGISTIC_FLOOR = _E / (1.0 + _E)
"""σ(−L), computed as the kernel's sigmoid computes it, so that F = 0 exactly at τ = 0."""
LOGISTIC_SCALE = 1.0 - LOGISTIC_FLOOR


@numba.njit(cache=True)
def layout_key():
    """The layout key this compiled code was built with (:data:`~dnamodel.inference.dated_packing.LAYOUT_KEY`)."""
    return LAYOUT_KEY


@numba.njit(cache=True, inline="always")
def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@numba.njit(cache=True, inline="always")
def _softplus(x):
    if x > 30.0:
        return x
    if x < -30.0:
        return math.exp(x)
    return math.log1p(math.exp(x))


@numba.njit(cache=True)
def log_ndtr_ratio(z):
    """``log Φ(z)`` and ``φ(z) / Φ(z)``, accurate in both tails."""
    if z > -20.0:
        cdf = 0.5 * math.erfc(-z / math.sqrt(2.0))
        return math.log(cdf), math.exp(-0.5 * z * z - LOG_SQRT_2PI) / cdf
    # Φ(z) = φ(z) / (−z) · (1 − 1/z² + 3/z⁴ − 15/z⁶ + …), to 1e-8 at z = −20
    z2 = z * z
    series = 1.0 - 1.0 / z2 + 3.0 / (z2 * z2) - 15.0 / (z2 * z2 * z2)
    return -0.5 * z2 - LOG_SQRT_2PI - math.log(-z) + math.log(series), -z / series


# --- priors and transforms: generic over the packed tables -------------------------------------------


@inlined
def prior_density(kind, x, a, b):
    """Log density of a coordinate ``x`` under a prior kind with numbers ``a``, ``b`` (Jacobian included), and d/dx."""
    if kind == STANDARD_NORMAL:
        return -0.5 * x * x - LOG_SQRT_2PI, -x
    if kind in (NORMAL, LOGNORMAL):  # a log-normal value's coordinate is its log
        z = (x - a) / b
        return -0.5 * z * z - math.log(b) - LOG_SQRT_2PI, -z / b
    if kind == HALFNORMAL:
        s = math.exp(x)
        return LOG_HALFNORMAL - math.log(a) - 0.5 * (s / a) ** 2 + x, 1.0 - (s / a) ** 2
    if kind == GAMMA:
        s = math.exp(x)
        return a * math.log(b) - math.lgamma(a) + a * x - b * s, a - b * s
    # BETA on the logit, with the logit's Jacobian share · (1 − share)
    share = _sigmoid(x)
    return (
        -a * _softplus(-x) - b * _softplus(x) - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)),
        a * (1.0 - share) - b * share,
    )


@inlined
def constrain_into(x, p, value, slope, codes):
    """Each coordinate's value through its transform, dvalue/dx, and the transform's code."""
    bT = int(p[B_TRANSFORM])
    for r in range(int(p[H_NTRANSFORM])):
        row = bT + TRANSFORM_COLUMNS * r
        first, count, code, a, b = int(p[row]), int(p[row + 1]), int(p[row + 2]), p[row + 3], p[row + 4]
        codes[first : first + count] = code
        if code == IDENTITY:  # most coordinates: copied as a block
            value[first : first + count] = x[first : first + count]
            slope[first : first + count] = 1.0
            continue
        if code == FIXED:  # held at its value, after the sampled coordinates: x does not reach it
            value[first : first + count] = a
            slope[first : first + count] = 0.0
            continue
        for i in range(first, first + count):
            if code == LOG:
                value[i] = math.exp(x[i])
                slope[i] = value[i]
            elif code == LOGIT:
                value[i] = _sigmoid(x[i])
                slope[i] = value[i] * (1.0 - value[i])
            elif code == SHIFT:
                value[i] = a + b * x[i]
                slope[i] = b
            else:  # LEAD: a date and a lead before (b = −1) or after it, on the log scale
                lead = math.exp(x[i])
                value[i] = a + b * lead
                slope[i] = b * lead


@inlined
def chain(code, g, value, slope):
    """The gradient in a coordinate of a term whose gradient in the coordinate's value is ``g``."""
    if code == LOGIT:
        return g * value * (1.0 - value)
    return g * slope


@inlined
def prior_sum(x, p, grad):
    """Every coordinate's prior, in the prior table's order: their sum, each one's gradient added to ``grad``."""
    bPR = int(p[B_PRIOR])
    lp = 0.0
    for r in range(int(p[H_NPRIOR])):
        row = bPR + PRIOR_COLUMNS * r
        first, count, kind, a, b = int(p[row]), int(p[row + 1]), int(p[row + 2]), p[row + 3], p[row + 4]
        if kind == STANDARD_NORMAL:  # most coordinates (the effects): a loop the compiler specialises
            for i in range(first, first + count):
                v, g = prior_density(STANDARD_NORMAL, x[i], a, b)
                lp += v
                grad[i] += g
        else:
            for i in range(first, first + count):
                v, g = prior_density(kind, x[i], a, b)
                lp += v
                grad[i] += g
    return lp


@inlined
def prior_by_term(x, p, terms):
    """Every coordinate's prior, each added into its term of ``terms``."""
    bPR = int(p[B_PRIOR])
    for r in range(int(p[H_NPRIOR])):
        row = bPR + PRIOR_COLUMNS * r
        first, count, kind, a, b = int(p[row]), int(p[row + 1]), int(p[row + 2]), p[row + 3], p[row + 4]
        term = int(p[row + 5])
        for i in range(first, first + count):
            terms[term] += prior_density(kind, x[i], a, b)[0]


# --- the model --------------------------------------------------------------------------------------


@inlined
def group_effects(x, p, value, a):
    """a_j = σ_p w_j, zero without a group level; returns σ_p."""
    iLSP, iW = int(p[P_LSP]), int(p[P_W])
    if iLSP < 0:
        return 0.0
    sigma_p = value[iLSP]
    for j in range(a.shape[0]):
        a[j] = sigma_p * x[iW + j]
    return sigma_p


@inlined
def unit_fractions(x, p, value, a, eta, pi, dpi_deta, dpi_dtheta):
    """η_u and the fraction at saturation π_u of every unit, with dπ/dη and dπ/dθ."""
    iDEL = int(p[P_DELTA])
    iTH = int(p[P_THETA])
    alpha, sigma_u = value[int(p[P_ALPHA])], value[int(p[P_LSU])]
    theta = value[iTH] if iTH >= 0 else 0.0  # a spec without a covariate has no covariate term (LINEAR, x = 0)
    delta = value[iDEL] if iDEL >= 0 else 0.0
    iZ, form = int(p[P_Z]), int(p[H_FORM])
    bX, bG, bOFF, bREP = int(p[B_X]), int(p[B_GROUP]), int(p[B_OFFSET]), int(p[B_REPORTED])
    for u in range(eta.shape[0]):
        m = alpha + a[int(p[bG + u])] + p[bOFF + u] + delta * p[bREP + u]
        if form == LINEAR:
            m += theta * p[bX + u]
        eta[u] = m + sigma_u * x[iZ + u]
    for u in range(eta.shape[0]):
        q = _sigmoid(eta[u])
        if form == COMPOSITION:
            h = p[bX + u]
            qh = _sigmoid(eta[u] + theta)
            pi[u] = (1.0 - h) * q + h * qh
            dpi_deta[u] = (1.0 - h) * q * (1.0 - q) + h * qh * (1.0 - qh)
            dpi_dtheta[u] = h * qh * (1.0 - qh)
        else:
            pi[u] = q
            dpi_deta[u] = q * (1.0 - q)
            dpi_dtheta[u] = 0.0


@inlined
def populations(x, p, value, pop):
    """N_u = P_u exp(c e_u) λ_g(u): the census population with its error and the uplift."""
    iE, iLAM, ce = int(p[P_E]), int(p[P_LAM]), p[H_CE]
    bN, bUP = int(p[B_N]), int(p[B_UPLIFT])
    for u in range(pop.shape[0]):
        people = p[bN + u]
        if iE >= 0:
            people *= math.exp(ce * x[iE + u])
        ell = int(p[bUP + u])
        if ell >= 0:
            people *= value[iLAM + ell]
        pop[u] = people


@inlined
def group_sums(p, pi, pop, S):
    """S_j = Σ_{u in j} π_u N_u: observations over whole groups sum over groups."""
    bG = int(p[B_GROUP])
    for j in range(S.shape[0]):
        S[j] = 0.0
    for u in range(pi.shape[0]):
        S[int(p[bG + u])] += pi[u] * pop[u]


@inlined
def curve_at(family, t, t0, rate, eps, tc):
    """One family's F(t), dF/dr, dF/dt0 (the logistic, or the constant-after curve after ``tc``; else saturating)."""
    z = (t - t0) / eps
    if family == LOGISTIC:
        tau = eps * _softplus(z)
        q = _sigmoid(rate * tau - LOGISTIC_L)
        dq = q * (1.0 - q) / LOGISTIC_SCALE
        return (q - LOGISTIC_FLOOR) / LOGISTIC_SCALE, tau * dq, -rate * dq * _sigmoid(z)
    if family == CONSTANT_AFTER and t > tc:
        # F(t_c) + F'(t_c)·Δ: the rate at t_c, kept
        zc = (tc - t0) / eps
        tau = eps * _softplus(zc)
        sc = _sigmoid(zc)
        e = math.exp(-rate * tau)
        delta = t - tc
        rate_c = rate * e * sc
        F = -math.expm1(-rate * tau) + rate_c * delta
        dF_dr = tau * e + delta * sc * e * (1.0 - rate * tau)
        dF_dt0 = -rate_c + delta * rate_c * (rate * sc - (1.0 - sc) / eps)
        return F, dF_dr, dF_dt0
    tau = eps * _softplus(z)
    e = math.exp(-rate * tau)
    return -math.expm1(-rate * tau), tau * e, -rate * e * _sigmoid(z)


@inlined
def campaign(family, t1, t2, t0, rate, eps, tc):
    """The campaign curve of one group: ``(G, dG/dr, dG/dt0, F(t2), dF(t2)/dr, dF(t2)/dt0)``.

    G = F(t2) − F(t1), or F(t2) when ``t1`` is NaN. The saturating family, F(t) = 1 −
    exp(−r·ε·softplus((t − t0)/ε)), writes G without cancellation (both near 1 late in a
    campaign), and so does the constant-after family up to its date ``tc``; the other families
    and dates take the difference of :func:`curve_at`. Another family is another branch there,
    with its code in the packed header.
    """
    if family != SATURATING and not (family == CONSTANT_AFTER and t2 <= tc):
        F2, dF2_dr, dF2_dt0 = curve_at(family, t2, t0, rate, eps, tc)
        if math.isnan(t1):
            return F2, dF2_dr, dF2_dt0, F2, dF2_dr, dF2_dt0
        F1, dF1_dr, dF1_dt0 = curve_at(family, t1, t0, rate, eps, tc)
        return F2 - F1, dF2_dr - dF1_dr, dF2_dt0 - dF1_dt0, F2, dF2_dr, dF2_dt0
    tau2 = (t2 - t0) / eps
    ramp2 = eps * _softplus(tau2)
    e2 = math.exp(-rate * ramp2)
    F2 = -math.expm1(-rate * ramp2)
    dF2_dr = ramp2 * e2
    dF2_dt0 = -rate * e2 * _sigmoid(tau2)
    if math.isnan(t1):
        return F2, dF2_dr, dF2_dt0, F2, dF2_dr, dF2_dt0
    tau1 = (t1 - t0) / eps
    ramp1 = eps * _softplus(tau1)
    e1 = math.exp(-rate * ramp1)
    G = e1 * -math.expm1(-rate * (ramp2 - ramp1))  # e1 − e2, without cancellation
    dG_dr = -ramp1 * e1 + ramp2 * e2
    dG_dt0 = rate * e1 * _sigmoid(tau1) + dF2_dt0
    return G, dG_dr, dG_dt0, F2, dF2_dr, dF2_dt0


@inlined
def database_level(baseline, residents, kappa, held):
    """D = b·N_d + κ·held: profiles from before the campaign and the typed share of what was collected."""
    return baseline * residents + kappa * held


@inlined
def stock(d, p, pi, pop, F, S):
    """Σ_{u in d} π_u F_j(u) N_u: what database ``d``'s area has collected, by whole groups when it can."""
    held = 0.0
    if p[int(p[B_DWHOLE]) + d] != 0.0:
        bDGPTR, bDGIDX = int(p[B_DGPTR]), int(p[B_DGIDX])
        for gi in range(int(p[bDGPTR + d]), int(p[bDGPTR + d + 1])):
            j = int(p[bDGIDX + gi])
            held += F[j] * S[j]
    else:
        bDPTR, bDIDX, bG = int(p[B_DPTR]), int(p[B_DIDX]), int(p[B_GROUP])
        for di in range(int(p[bDPTR + d]), int(p[bDPTR + d + 1])):
            u = int(p[bDIDX + di])
            held += pi[u] * F[int(p[bG + u])] * pop[u]
    return held


CURVE_G, CURVE_G_RATE, CURVE_G_START, CURVE_F, CURVE_F_RATE, CURVE_F_START = range(6)
"""Rows of the ``curve`` array (6, group): :func:`campaign`'s outputs at an observation's dates."""


@inlined
def expected_value(k, p, value, pi, pop, S, curve, kappa, baseline):
    """What the model expects of observation ``k``: ``(μ_k, its numerator, its denominator, the database's stock)``.

    Fills ``curve`` with the campaign's gain since ``since`` and its progress at the date, with their
    derivatives, in the groups the observation touches (one array, not six: each array an
    inlined function takes costs a reference count).
    """
    family, eps, tc = int(p[H_CURVE]), p[H_EPS], p[H_TC]
    iV, iRHO = int(p[P_V]), int(p[P_RHO])
    t1, t2 = p[int(p[B_T1]) + k], p[int(p[B_T2]) + k]
    bGPTR, bGIDX = int(p[B_GPTR]), int(p[B_GIDX])
    for gi in range(int(p[bGPTR + k]), int(p[bGPTR + k + 1])):
        j = int(p[bGIDX + gi])
        (
            curve[CURVE_G, j],
            curve[CURVE_G_RATE, j],
            curve[CURVE_G_START, j],
            curve[CURVE_F, j],
            curve[CURVE_F_RATE, j],
            curve[CURVE_F_START, j],
        ) = campaign(family, t1, t2, value[iV + j], value[iRHO + j], eps, tc)
    kind = int(p[int(p[B_KIND]) + k])
    increment = not math.isnan(t1)
    base = p[int(p[B_BASE]) + k]
    d = int(p[int(p[B_DB]) + k])
    residents = p[int(p[B_ND]) + d] if int(p[H_D]) > 0 else 0.0
    bOPTR, bOIDX, bOW, bG = int(p[B_OPTR]), int(p[B_OIDX]), int(p[B_OW]), int(p[B_GROUP])
    o0, o1 = int(p[bOPTR + k]), int(p[bOPTR + k + 1])
    num = 0.0
    if p[int(p[B_WHOLE]) + k] != 0.0:
        for gi in range(int(p[bGPTR + k]), int(p[bGPTR + k + 1])):
            j = int(p[bGIDX + gi])
            num += curve[CURVE_G, j] * S[j]
    else:
        for oi in range(o0, o1):
            u = int(p[bOIDX + oi])
            num += p[bOW + oi] * pi[u] * curve[CURVE_G, int(p[bG + u])] * (base if base > 0.0 else pop[u])
    denominator = 1.0
    held = 0.0
    if kind == COUNT:
        mu = num
    elif kind == DATABASE_KIND:
        mu = kappa * num + (0.0 if increment else baseline * residents)
    elif kind == DATABASE_SHARE:
        held = stock(d, p, pi, pop, curve[CURVE_F], S)
        denominator = database_level(baseline, residents, kappa, held)
        typed = p[int(p[B_TYPED]) + k] != 0.0  # profiles over profiles: the places' typed share κ·C
        mu = kappa * num / denominator if typed else num / denominator
    else:  # COVERAGE: collected over the base population
        denominator = 0.0
        for oi in range(o0, o1):
            denominator += p[bOW + oi] * (base if base > 0.0 else pop[int(p[bOIDX + oi])])
        mu = num / denominator
    return mu, num, denominator, held


@inlined
def observation_density(likelihood, censor, y, mu, s):
    """The log likelihood of an observed ``y`` (a value, or a bound on one) given μ, and its derivative in μ.

    A value is log-normal about μ (``LOG_NORMAL_ERROR``) or logit-normal (``LOGIT_NORMAL_ERROR``, a
    coverage) with scale ``s``, its density that of the value as printed (the link's Jacobian); a
    bound contributes the probability that the value falls on its side. Another likelihood is
    another code here.
    """
    if likelihood == LOGIT_NORMAL_ERROR:
        linear_mu = math.log(mu) - math.log1p(-mu)
        linear_y = math.log(y) - math.log1p(-y)
        dlin_dmu = 1.0 / (mu * (1.0 - mu))
        log_jacobian = -math.log(y) - math.log1p(-y)
    else:
        linear_mu = math.log(mu)
        linear_y = math.log(y)
        dlin_dmu = 1.0 / mu
        log_jacobian = -linear_y
    if censor == POINT:
        zz = (linear_y - linear_mu) / s
        return -0.5 * zz * zz - math.log(s) - LOG_SQRT_2PI + log_jacobian, zz / s * dlin_dmu
    if censor == LOWER:
        log_cdf, ratio = log_ndtr_ratio((linear_mu - linear_y) / s)
        return log_cdf, ratio / s * dlin_dmu
    log_cdf, ratio = log_ndtr_ratio((linear_y - linear_mu) / s)
    return log_cdf, -ratio / s * dlin_dmu


@inlined
def observation_draw(likelihood, mu, s, z):
    """A replicated value: μ on the likelihood's link scale plus ``s`` times a standard normal ``z``."""
    if likelihood == LOGIT_NORMAL_ERROR:
        return _sigmoid(math.log(mu) - math.log1p(-mu) + s * z)
    return math.exp(math.log(mu) + s * z)


# --- the log density and its gradient ---------------------------------------------------------------


@inlined
def log_mixture(wrong, right_ll, wrong_ll):
    """log((1 − w)·e^right + w·e^wrong) and the weight of the first: a source right, or wrong together."""
    a = math.log1p(-wrong) + right_ll
    b = math.log(wrong) + wrong_ll if wrong > 0.0 else -math.inf
    m = max(a, b)
    total = m + math.log(math.exp(a - m) + math.exp(b - m))
    return total, math.exp(a - total)


@compiled
def logp_grad(x, p, grad_):
    """The log density at the unconstrained point ``x``; its gradient is written into ``grad_``."""
    U, J, K = int(p[H_U]), int(p[H_J]), int(p[H_K])
    form = int(p[H_FORM])
    ce = p[H_CE]
    n = x.shape[0]
    width = int(p[H_WIDTH])
    # a fixed parameter's value sits after the sampled ones: its gradient is collected and dropped
    grad = grad_ if width == n else np.zeros(width)
    bG, bUP, bX, bREP = int(p[B_GROUP]), int(p[B_UPLIFT]), int(p[B_X]), int(p[B_REPORTED])
    bACT = int(p[B_ACTIVE])
    iA, iLSP, iW, iLSU, iZ = int(p[P_ALPHA]), int(p[P_LSP]), int(p[P_W]), int(p[P_LSU]), int(p[P_Z])
    iTH, iV, iRHO, iK, iLB = int(p[P_THETA]), int(p[P_V]), int(p[P_RHO]), int(p[P_KAPPA]), int(p[P_LB])
    iLAM, iE, iDEL = int(p[P_LAM]), int(p[P_E]), int(p[P_DELTA])

    for i in range(n):
        grad[i] = 0.0
    lp = prior_sum(x, p, grad)

    # --- the model's quantities ---------------------------------------------------------------------
    value, slope, codes = np.empty(width), np.empty(width), np.empty(width, np.int64)
    constrain_into(x, p, value, slope, codes)
    a = np.zeros(J)
    sigma_p = group_effects(x, p, value, a)
    sigma_u = value[iLSU]
    eta, pi, dpi_deta, dpi_dtheta = np.empty(U), np.empty(U), np.empty(U), np.empty(U)
    unit_fractions(x, p, value, a, eta, pi, dpi_deta, dpi_dtheta)
    pop = np.empty(U)
    populations(x, p, value, pop)
    kappa = value[iK] if iK >= 0 else 1.0
    baseline = value[iLB] if iK >= 0 else 0.0
    S = np.zeros(J)
    group_sums(p, pi, pop, S)

    # --- the observations; adjoints of groups' sums collect in g_S, spread over units at the end --------
    g_pi, g_pop = np.zeros(U), np.zeros(U)
    g_S, g_rate, g_t0 = np.zeros(J), np.zeros(J), np.zeros(J)
    g_kappa = 0.0
    g_baseline = 0.0
    curve = np.zeros((6, J))
    bKIND, bLIK, bCEN, bY, bS = int(p[B_KIND]), int(p[B_LIKELIHOOD]), int(p[B_CENSOR]), int(p[B_Y]), int(p[B_S])
    bT1, bBASE, bDB, bND = int(p[B_T1]), int(p[B_BASE]), int(p[B_DB]), int(p[B_ND])
    bOPTR, bOIDX, bOW = int(p[B_OPTR]), int(p[B_OIDX]), int(p[B_OW])
    bGPTR, bGIDX, bWHOLE = int(p[B_GPTR]), int(p[B_GIDX]), int(p[B_WHOLE])
    bDPTR, bDIDX, bDGPTR, bDGIDX, bDWHOLE = (
        int(p[B_DPTR]),
        int(p[B_DIDX]),
        int(p[B_DGPTR]),
        int(p[B_DGIDX]),
        int(p[B_DWHOLE]),
    )
    # a source whose figures may be wrong together: its members' likelihood is a mixture, summed first
    NU, bUG, bUW, bUE = int(p[H_NU]), int(p[B_UGROUP]), int(p[B_UWRONG]), int(p[B_UERROR])
    right = np.zeros(NU)
    wrong = np.zeros(NU)
    d_right = np.zeros(K if NU > 0 else 0)
    d_wrong = np.zeros(K if NU > 0 else 0)
    weight = np.zeros(NU)
    if NU > 0:
        for k in range(K):
            g = int(p[bUG + k])
            if g < 0 or p[bACT + k] == 0.0:
                continue
            mu = expected_value(k, p, value, pi, pop, S, curve, kappa, baseline)[0]
            lik, cen, y = int(p[bLIK + k]), int(p[bCEN + k]), p[bY + k]
            ll_right, d_right[k] = observation_density(lik, cen, y, mu, p[bS + k])
            ll_wrong, d_wrong[k] = observation_density(lik, cen, y, mu, p[bUE + g])
            right[g] += ll_right
            wrong[g] += ll_wrong
        for g in range(NU):
            ll, weight[g] = log_mixture(p[bUW + g], right[g], wrong[g])
            lp += ll
    bTY = int(p[B_TYPED])
    for k in range(K):
        if p[bACT + k] == 0.0:
            continue
        kind = int(p[bKIND + k])
        mu, num, denominator, held = expected_value(k, p, value, pi, pop, S, curve, kappa, baseline)
        g = int(p[bUG + k])
        if g >= 0:  # its term was summed with its source's
            g_mu = weight[g] * d_right[k] + (1.0 - weight[g]) * d_wrong[k]
        else:
            ll, g_mu = observation_density(int(p[bLIK + k]), int(p[bCEN + k]), p[bY + k], mu, p[bS + k])
            lp += ll

        # back through mu
        increment = not math.isnan(p[bT1 + k])
        base = p[bBASE + k]
        d = int(p[bDB + k])
        o0, o1 = int(p[bOPTR + k]), int(p[bOPTR + k + 1])
        if kind == COUNT:
            g_num = g_mu
        elif kind == DATABASE_KIND:
            g_num = g_mu * kappa
            g_kappa += g_mu * num
            if not increment:
                g_baseline += g_mu * p[bND + d]
        elif kind == DATABASE_SHARE:
            if p[bTY + k] != 0.0:  # μ = κ·num / D
                g_num = g_mu * kappa / denominator
                g_den = -g_mu * kappa * num / (denominator * denominator)
                g_kappa += g_mu * num / denominator
            else:
                g_num = g_mu / denominator
                g_den = -g_mu * num / (denominator * denominator)
            g_baseline += g_den * p[bND + d]
            g_kappa += g_den * held
            gs = g_den * kappa
            if p[bDWHOLE + d] != 0.0:
                for gi in range(int(p[bDGPTR + d]), int(p[bDGPTR + d + 1])):
                    j = int(p[bDGIDX + gi])
                    g_S[j] += gs * curve[CURVE_F, j]
                    g_rate[j] += gs * S[j] * curve[CURVE_F_RATE, j]
                    g_t0[j] += gs * S[j] * curve[CURVE_F_START, j]
            else:
                for di in range(int(p[bDPTR + d]), int(p[bDPTR + d + 1])):
                    u = int(p[bDIDX + di])
                    j = int(p[bG + u])
                    g_pi[u] += gs * curve[CURVE_F, j] * pop[u]
                    g_pop[u] += gs * pi[u] * curve[CURVE_F, j]
                    g_rate[j] += gs * pi[u] * pop[u] * curve[CURVE_F_RATE, j]
                    g_t0[j] += gs * pi[u] * pop[u] * curve[CURVE_F_START, j]
        else:  # COVERAGE
            g_num = g_mu / denominator
            g_den = -g_mu * num / (denominator * denominator)
            if base <= 0.0:
                for oi in range(o0, o1):
                    g_pop[int(p[bOIDX + oi])] += g_den * p[bOW + oi]
        if p[bWHOLE + k] != 0.0:
            for gi in range(int(p[bGPTR + k]), int(p[bGPTR + k + 1])):
                j = int(p[bGIDX + gi])
                g_S[j] += g_num * curve[CURVE_G, j]
                g_rate[j] += g_num * S[j] * curve[CURVE_G_RATE, j]
                g_t0[j] += g_num * S[j] * curve[CURVE_G_START, j]
            continue
        for oi in range(o0, o1):
            u = int(p[bOIDX + oi])
            j = int(p[bG + u])
            people = base if base > 0.0 else pop[u]
            gn = g_num * p[bOW + oi]
            g_pi[u] += gn * curve[CURVE_G, j] * people
            if base <= 0.0:
                g_pop[u] += gn * pi[u] * curve[CURVE_G, j]
            g_rate[j] += gn * pi[u] * people * curve[CURVE_G_RATE, j]
            g_t0[j] += gn * pi[u] * people * curve[CURVE_G_START, j]

    # --- back through the transforms: the values the observations reached, then the units' ----------
    if iK >= 0:
        grad[iK] += chain(codes[iK], g_kappa, value[iK], slope[iK])
        grad[iLB] += chain(codes[iLB], g_baseline, value[iLB], slope[iLB])
    for j in range(J):
        grad[iRHO + j] += chain(codes[iRHO + j], g_rate[j], value[iRHO + j], slope[iRHO + j])
        grad[iV + j] += chain(codes[iV + j], g_t0[j], value[iV + j], slope[iV + j])
    # σ_u, σ_p, λ, e and the effects collect their gradient in the coordinate directly, unit by unit
    for u in range(U):
        gs = g_S[int(p[bG + u])]
        g_pi[u] += gs * pop[u]
        g_pop[u] += gs * pi[u]
        gp = g_pop[u] * pop[u]
        if iE >= 0:
            grad[iE + u] += gp * ce
        ell = int(p[bUP + u])
        if ell >= 0:
            grad[iLAM + ell] += gp
        g_eta = g_pi[u] * dpi_deta[u]
        if iTH < 0:
            pass
        elif form == COMPOSITION:
            grad[iTH] += g_pi[u] * dpi_dtheta[u]
        else:
            grad[iTH] += g_eta * p[bX + u]
        grad[iZ + u] += g_eta * sigma_u
        grad[iLSU] += g_eta * sigma_u * x[iZ + u]
        grad[iA] += g_eta
        if iDEL >= 0:
            grad[iDEL] += g_eta * p[bREP + u]
        if iLSP >= 0:
            j = int(p[bG + u])
            grad[iW + j] += g_eta * sigma_p
            grad[iLSP] += g_eta * a[j]
    if width != n:
        grad_[:] = grad[:n]
    return lp


LOGP_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)
"""nutpie's signature for a log density: (dim, x, gradient out, logp out, user data) -> status."""


def _logp_callback(dim, x_, grad_, logp_, user_data_):
    """The log density for nutpie; ``user_data_`` points at the packed inputs.

    When the packed vector carries an affine map (:func:`~dnamodel.inference.dated_packing.precondition`),
    the sampler's point is y and the density's x = centre + scale ⊙ y: the log density is the
    same number (a constant Jacobian) and the gradient is scaled by ``scale``.
    """
    header = numba.carray(user_data_, (HEADER,), np.float64)
    if dim != int(header[H_NDIM]):
        return -1
    packed = numba.carray(user_data_, (int(header[H_LEN]),), np.float64)
    x = numba.carray(x_, (dim,))
    grad = numba.carray(grad_, (dim,))
    out = numba.carray(logp_, (1,))
    affine = int(header[H_AFFINE])
    if affine == 0:
        value = logp_grad(x, packed, grad)
    else:
        moved = np.empty(dim)
        for i in range(dim):
            moved[i] = packed[affine + i] + packed[affine + dim + i] * x[i]
        value = logp_grad(moved, packed, grad)
        for i in range(dim):
            grad[i] *= packed[affine + dim + i]
    out[0] = value
    for i in range(dim):
        if not math.isfinite(grad[i]):
            return 3
    if not math.isfinite(value):
        return 4
    return 0


EXPAND_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)
"""nutpie's signature for storing a draw: (dim, stored size, x, stored out, user data) -> status."""


def _store_callback(dim, stored, x_, out_, user_data_):
    """Store the unconstrained draw x (through the affine map, when there is one); :func:`derive` computes the rest."""
    if dim != stored:
        return -1
    header = numba.carray(user_data_, (HEADER,), np.float64)
    affine = int(header[H_AFFINE])
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    if affine == 0:
        for i in range(dim):
            out[i] = x[i]
    else:
        packed = numba.carray(user_data_, (int(header[H_LEN]),), np.float64)
        for i in range(dim):
            out[i] = packed[affine + i] + packed[affine + dim + i] * x[i]
    return 0


@functools.cache
def _callbacks():
    """The two C callbacks, compiled (or loaded from numba's cache) on first use, not at import."""
    return {
        "logp_cfunc": numba.cfunc(LOGP_SIGNATURE, cache=True)(_logp_callback),
        "store_cfunc": numba.cfunc(EXPAND_SIGNATURE, cache=True)(_store_callback),
    }


def __getattr__(name):
    """``logp_cfunc`` and ``store_cfunc``, nutpie's log density and draw store (numba ``cfunc`` objects).

    Built on first use rather than at import, so that a process can ask numba's cache what it holds
    before the density compiles (:mod:`dnamodel.inference.dated_compile`).
    """
    if name in ("logp_cfunc", "store_cfunc"):
        return _callbacks()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- over draws: what the fit reports ---------------------------------------------------------------


@compiled
def derive(
    X, p, t, value, group_effect, eta, fraction, population, expected, log_lik, log_prior, progress, stocks, sources
):
    """Every quantity of each draw ``X[n]``, written into the arrays given (the draw axis first).

    The values of the coordinates (a fixed parameter's after the sampled ones), each group's
    effect, each unit's η, π and N, each observation's μ and log likelihood (active or not: a
    left-out observation is the one predicted), each prior term, at the date ``t`` each group's
    progress F_j(t) and each database's stock D_d(t), and each unverified source's joint log
    likelihood over its active members (``sources``).

    A member of an unverified source has the log likelihood of its value given the draw and the
    source's other active members: log p(y_k, y_others) − log p(y_others), both mixtures (the
    predictive density leave-one-out needs when a source's figures are not independent).
    """
    U, J, K, D = int(p[H_U]), int(p[H_J]), int(p[H_K]), int(p[H_D])
    n = int(p[H_WIDTH])
    iV, iRHO, iK, iLB = int(p[P_V]), int(p[P_RHO]), int(p[P_KAPPA]), int(p[P_LB])
    bLIK, bCEN, bY, bS, bND = int(p[B_LIKELIHOOD]), int(p[B_CENSOR]), int(p[B_Y]), int(p[B_S]), int(p[B_ND])
    NU, bUG, bUW, bUE, bACT = int(p[H_NU]), int(p[B_UGROUP]), int(p[B_UWRONG]), int(p[B_UERROR]), int(p[B_ACTIVE])
    ll_wrong = np.zeros(K)
    right, wrong = np.zeros(NU), np.zeros(NU)
    family, eps, tc = int(p[H_CURVE]), p[H_EPS], p[H_TC]
    slope, codes = np.empty(n), np.empty(n, np.int64)
    dpi_deta, dpi_dtheta = np.empty(U), np.empty(U)
    S = np.zeros(J)
    curve = np.zeros((6, J))
    for s in range(X.shape[0]):
        x = X[s]
        prior_by_term(x, p, log_prior[s])
        constrain_into(x, p, value[s], slope, codes)
        group_effects(x, p, value[s], group_effect[s])
        unit_fractions(x, p, value[s], group_effect[s], eta[s], fraction[s], dpi_deta, dpi_dtheta)
        populations(x, p, value[s], population[s])
        group_sums(p, fraction[s], population[s], S)
        t0, rate = value[s, iV : iV + J], value[s, iRHO : iRHO + J]
        kappa = value[s, iK] if iK >= 0 else 1.0
        baseline = value[s, iLB] if iK >= 0 else 0.0
        for k in range(K):
            mu = expected_value(k, p, value[s], fraction[s], population[s], S, curve, kappa, baseline)[0]
            expected[s, k] = mu
            log_lik[s, k] = observation_density(int(p[bLIK + k]), int(p[bCEN + k]), p[bY + k], mu, p[bS + k])[0]
        if NU > 0:
            right[:] = 0.0
            wrong[:] = 0.0
            for k in range(K):
                g = int(p[bUG + k])
                if g >= 0:
                    ll_wrong[k] = observation_density(int(p[bLIK + k]), int(p[bCEN + k]), p[bY + k], expected[s, k],
                                                      p[bUE + g])[0]  # fmt: skip
                    if p[bACT + k] != 0.0:
                        right[g] += log_lik[s, k]
                        wrong[g] += ll_wrong[k]
            for g in range(NU):
                sources[s, g] = log_mixture(p[bUW + g], right[g], wrong[g])[0]
            for k in range(K):
                g = int(p[bUG + k])
                if g >= 0:  # given the source's other active members
                    active = p[bACT + k] != 0.0
                    others_right = right[g] - (log_lik[s, k] if active else 0.0)
                    others_wrong = wrong[g] - (ll_wrong[k] if active else 0.0)
                    with_k = log_mixture(p[bUW + g], others_right + log_lik[s, k], others_wrong + ll_wrong[k])[0]
                    log_lik[s, k] = with_k - log_mixture(p[bUW + g], others_right, others_wrong)[0]
        for j in range(J):
            progress[s, j] = campaign(family, math.nan, t, t0[j], rate[j], eps, tc)[0]
        for d in range(D):
            held = stock(d, p, fraction[s], population[s], progress[s], S)
            stocks[s, d] = database_level(baseline, p[bND + d], kappa, held)


@compiled
def log_likelihoods(mu, p, out):
    """Each observation's log likelihood at expected values ``mu`` (draws, observation), against the packed data."""
    bLIK, bCEN, bY, bS = int(p[B_LIKELIHOOD]), int(p[B_CENSOR]), int(p[B_Y]), int(p[B_S])
    for s in range(mu.shape[0]):
        for k in range(mu.shape[1]):
            out[s, k] = observation_density(int(p[bLIK + k]), int(p[bCEN + k]), p[bY + k], mu[s, k], p[bS + k])[0]


@compiled
def replicates(mu, likelihood, error, z, out):
    """A replicated value of each observation and draw, from standard normals ``z`` (draws, observation)."""
    for s in range(mu.shape[0]):
        for k in range(mu.shape[1]):
            out[s, k] = observation_draw(likelihood[k], mu[s, k], error[k], z[s, k])


@compiled
def progress_at(family, eps, tc, t, start, pace, out):
    """F_j(t) for each draw and group, from starts and paces (draws, group)."""
    for s in range(start.shape[0]):
        for j in range(start.shape[1]):
            out[s, j] = campaign(family, math.nan, t, start[s, j], pace[s, j], eps, tc)[0]


@compiled
def collected_at(family, eps, tc, t, fraction, start, pace, population, unit_group, out):
    """C_u(t) = π_u F_j(u)(t) N_u for each draw and unit."""
    progress = np.empty(start.shape[1])
    for s in range(fraction.shape[0]):
        for j in range(start.shape[1]):
            progress[j] = campaign(family, math.nan, t, start[s, j], pace[s, j], eps, tc)[0]
        for u in range(fraction.shape[1]):
            out[s, u] = fraction[s, u] * progress[unit_group[u]] * population[s, u]


@compiled
def stock_at(
    family, eps, tc, t, fraction, start, pace, population, unit_group, members, residents, kappa, baseline, out
):
    """D_d(t) = b·N_d + κ·Σ_{u in d} C_u(t) for each draw, over a database's ``members``."""
    progress = np.empty(start.shape[1])
    for s in range(fraction.shape[0]):
        for j in range(start.shape[1]):
            progress[j] = campaign(family, math.nan, t, start[s, j], pace[s, j], eps, tc)[0]
        held = 0.0
        for u in members:
            held += fraction[s, u] * progress[unit_group[u]] * population[s, u]
        out[s] = database_level(baseline[s], residents, kappa[s], held)
