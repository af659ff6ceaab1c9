"""The dated model's log density and its gradient, in numba, compiled once per machine.

Everything the density reads is one float64 vector, the *packed* inputs (built by
:func:`dnamodel.spec.dated.pack`): a header of sizes and offsets, then the data and the prior
parameters. The compiled code holds no region, no size and no data, so one compile (cached on
disk by numba) serves every data set, spec, leave-one-out refit, forecast, SBC data set and sweep
point. nutpie calls :data:`logp_cfunc` directly from its sampling threads, without the GIL.

The mathematics is ``docs/model.md``, section 5; the names below follow it:

- ``alpha`` α, ``group_effect`` a_j = σ_p w_j, ``unit effect`` σ_u z_u, ``reported`` δ R_u;
- ``eta`` η_u = α + a_j(u) + δ R_u + o_u + σ_u z_u (+ θ x_u in the linear form);
- ``fraction`` π_u = (1 − h_u) σ(η_u) + h_u σ(η_u + θ) (composition form) or σ(η_u) (linear form);
- ``progress`` F_j(t) = 1 − exp(−r_j · ε · softplus((t − t0_j) / ε)), the campaign curve;
- ``collected`` C_u(t) = π_u F_j(u)(t) N_u exp(c e_u) λ_g(u);
- a database's stock D_d(t) = b N_d + κ Σ_{u ∈ d} C_u(t).

The gradient is written out by hand (reverse mode). ``tests/test_dated_kernel.py`` checks it
against finite differences, and the density against an independent NumPy/SciPy implementation.
"""

import math

import numba
import numpy as np

# --- layout of the packed vector -----------------------------------------------------------------
# Header slots hold sizes, switches and the offsets of the blocks that follow.
(
    H_LEN,
    H_NDIM,
    H_U,
    H_J,
    H_K,
    H_D,
    H_L,
    H_FORM,
    H_CE,
    H_EPS,
    # offsets of the data blocks
    B_N,
    B_X,
    B_GROUP,
    B_UPLIFT,
    B_OFFSET,
    B_REPORTED,
    B_T0KIND,
    B_T0ANCHOR,
    B_T0SCALE,
    B_RATE_MU,
    B_RATE_SD,
    B_PRIOR,
    B_LAM_MU,
    B_LAM_SD,
    B_KIND,
    B_CENSOR,
    B_Y,
    B_S,
    B_T1,
    B_T2,
    B_DB,
    B_BASE,
    B_ACTIVE,
    B_OPTR,
    B_OIDX,
    B_OW,
    B_GPTR,
    B_GIDX,
    B_DPTR,
    B_DIDX,
    B_ND,
    B_WHOLE,
    B_DGPTR,
    B_DGIDX,
    B_DWHOLE,
    # index of each parameter block in the unconstrained vector (-1 when absent)
    P_ALPHA,
    P_LSP,
    P_W,
    P_LSU,
    P_Z,
    P_THETA,
    P_V,
    P_RHO,
    P_KAPPA,
    P_LB,
    P_LAM,
    P_E,
    P_DELTA,
    HEADER,
) = range(59)

# prior parameters, in the B_PRIOR block
(
    PR_ALPHA_MU,
    PR_ALPHA_SD,
    PR_THETA_MU,
    PR_THETA_SD,
    PR_SP_KIND,
    PR_SP_A,
    PR_SP_B,
    PR_SU_KIND,
    PR_SU_A,
    PR_SU_B,
    PR_KAPPA_A,
    PR_KAPPA_B,
    PR_LB_MU,
    PR_LB_SD,
    PR_DELTA_MU,
    PR_DELTA_SD,
    N_PRIOR,
) = range(17)

# the fraction's form
COMPOSITION, LINEAR = 0, 1
# kinds of scale prior: HalfNormal(a), Gamma(shape a, rate b), LogNormal(a, b)
SCALE_HALFNORMAL, SCALE_GAMMA, SCALE_LOGNORMAL = 0, 1, 2
# kinds of start-date prior: Normal(anchor, scale), anchor − HalfNormal(scale), anchor + HalfNormal(scale)
START_AROUND, START_BEFORE, START_AFTER = 0, 1, 2
# kinds of observation
COUNT, DATABASE, DATABASE_SHARE, COVERAGE = 0, 1, 2, 3
# what an observed value says: the value itself, or a lower or an upper bound
POINT, LOWER, UPPER = 0, 1, 2

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
LOG_HALFNORMAL = 0.5 * math.log(2.0 / math.pi)


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


@numba.njit(cache=True)
def scale_prior(log_scale, kind, a, b):
    """Log density of a scale parameter on the log scale (Jacobian included), and its derivative."""
    s = math.exp(log_scale)
    if kind == SCALE_HALFNORMAL:
        return LOG_HALFNORMAL - math.log(a) - 0.5 * (s / a) ** 2 + log_scale, 1.0 - (s / a) ** 2
    if kind == SCALE_GAMMA:
        return a * math.log(b) - math.lgamma(a) + a * log_scale - b * s, a - b * s
    z = (log_scale - a) / b
    return -0.5 * z * z - math.log(b) - LOG_SQRT_2PI, -z / b


@numba.njit(cache=True, inline="always")
def _normal(x, mu, sd):
    z = (x - mu) / sd
    return -0.5 * z * z - math.log(sd) - LOG_SQRT_2PI, -z / sd


@numba.njit(cache=True, error_model="numpy")
def logp_grad(x, p, grad):
    """The log density at the unconstrained point ``x``; its gradient is written into ``grad``."""
    U = int(p[H_U])
    J = int(p[H_J])
    K = int(p[H_K])
    L = int(p[H_L])
    form = int(p[H_FORM])
    ce = p[H_CE]
    eps = p[H_EPS]
    bN, bX, bG, bUP = int(p[B_N]), int(p[B_X]), int(p[B_GROUP]), int(p[B_UPLIFT])
    bOFF, bREP = int(p[B_OFFSET]), int(p[B_REPORTED])
    bT0K, bT0A, bT0S = int(p[B_T0KIND]), int(p[B_T0ANCHOR]), int(p[B_T0SCALE])
    bRMU, bRSD, bPR = int(p[B_RATE_MU]), int(p[B_RATE_SD]), int(p[B_PRIOR])
    bLMU, bLSD = int(p[B_LAM_MU]), int(p[B_LAM_SD])
    bKIND, bCEN, bY, bS = int(p[B_KIND]), int(p[B_CENSOR]), int(p[B_Y]), int(p[B_S])
    bT1, bT2, bDB, bBASE, bACT = int(p[B_T1]), int(p[B_T2]), int(p[B_DB]), int(p[B_BASE]), int(p[B_ACTIVE])
    bOPTR, bOIDX, bOW = int(p[B_OPTR]), int(p[B_OIDX]), int(p[B_OW])
    bGPTR, bGIDX = int(p[B_GPTR]), int(p[B_GIDX])
    bDPTR, bDIDX, bND = int(p[B_DPTR]), int(p[B_DIDX]), int(p[B_ND])
    bWHOLE, bDGPTR, bDGIDX, bDWHOLE = int(p[B_WHOLE]), int(p[B_DGPTR]), int(p[B_DGIDX]), int(p[B_DWHOLE])
    iA, iLSP, iW, iLSU, iZ = int(p[P_ALPHA]), int(p[P_LSP]), int(p[P_W]), int(p[P_LSU]), int(p[P_Z])
    iTH, iV, iRHO, iK, iLB = int(p[P_THETA]), int(p[P_V]), int(p[P_RHO]), int(p[P_KAPPA]), int(p[P_LB])
    iLAM, iE, iDEL = int(p[P_LAM]), int(p[P_E]), int(p[P_DELTA])

    for i in range(grad.shape[0]):
        grad[i] = 0.0

    # --- priors, and the transforms to the model's quantities ----------------------------------
    alpha = x[iA]
    lp, g = _normal(alpha, p[bPR + PR_ALPHA_MU], p[bPR + PR_ALPHA_SD])
    grad[iA] += g

    theta = 0.0
    if iTH >= 0:  # a spec without a covariate has no covariate term (form LINEAR, x = 0)
        theta = x[iTH]
        v_, g = _normal(theta, p[bPR + PR_THETA_MU], p[bPR + PR_THETA_SD])
        lp += v_
        grad[iTH] += g

    delta = 0.0
    if iDEL >= 0:
        delta = x[iDEL]
        v_, g = _normal(delta, p[bPR + PR_DELTA_MU], p[bPR + PR_DELTA_SD])
        lp += v_
        grad[iDEL] += g

    a = np.zeros(J)
    sigma_p = 0.0
    if iLSP >= 0:
        lsp = x[iLSP]
        sigma_p = math.exp(lsp)
        v_, g = scale_prior(lsp, int(p[bPR + PR_SP_KIND]), p[bPR + PR_SP_A], p[bPR + PR_SP_B])
        lp += v_
        grad[iLSP] += g
        for j in range(J):
            w = x[iW + j]
            lp += -0.5 * w * w - LOG_SQRT_2PI
            grad[iW + j] -= w
            a[j] = sigma_p * w

    lsu = x[iLSU]
    sigma_u = math.exp(lsu)
    v_, g = scale_prior(lsu, int(p[bPR + PR_SU_KIND]), p[bPR + PR_SU_A], p[bPR + PR_SU_B])
    lp += v_
    grad[iLSU] += g

    # unit effects, non-centred: eta = mu + sigma_u z, z ~ N(0, 1)
    eta = np.empty(U)
    for u in range(U):
        z = x[iZ + u]
        lp += -0.5 * z * z - LOG_SQRT_2PI
        grad[iZ + u] -= z
        m = alpha + a[int(p[bG + u])] + p[bOFF + u] + delta * p[bREP + u]
        if form == LINEAR:
            m += theta * p[bX + u]
        eta[u] = m + sigma_u * z

    # campaign start and pace of each group
    t0 = np.empty(J)
    dt0 = np.empty(J)
    rate = np.empty(J)
    for j in range(J):
        kind = int(p[bT0K + j])
        anchor = p[bT0A + j]
        scale = p[bT0S + j]
        v = x[iV + j]
        if kind == START_AROUND:
            t0[j] = anchor + scale * v
            dt0[j] = scale
            lp += -0.5 * v * v - LOG_SQRT_2PI
            grad[iV + j] -= v
        else:
            # the delay or lead is HalfNormal(scale), sampled on the log scale
            lead = math.exp(v)
            v_, g = scale_prior(v, SCALE_HALFNORMAL, scale, 0.0)
            lp += v_
            grad[iV + j] += g
            sign = -1.0 if kind == START_BEFORE else 1.0
            t0[j] = anchor + sign * lead
            dt0[j] = sign * lead
        rho = x[iRHO + j]
        v_, g = _normal(rho, p[bRMU + j], p[bRSD + j])
        lp += v_
        grad[iRHO + j] += g
        rate[j] = math.exp(rho)

    kappa = 1.0
    baseline = 0.0
    if iK >= 0:
        k = x[iK]
        kappa = _sigmoid(k)
        ka, kb = p[bPR + PR_KAPPA_A], p[bPR + PR_KAPPA_B]
        # Beta(ka, kb) on kappa, with the logit's Jacobian kappa (1 − kappa)
        lp += -ka * _softplus(-k) - kb * _softplus(k) - (math.lgamma(ka) + math.lgamma(kb) - math.lgamma(ka + kb))
        grad[iK] += ka * (1.0 - kappa) - kb * kappa
        lb = x[iLB]
        baseline = math.exp(lb)
        v_, g = _normal(lb, p[bPR + PR_LB_MU], p[bPR + PR_LB_SD])
        lp += v_
        grad[iLB] += g

    lam = np.ones(max(L, 1))
    for ell in range(L):
        v_, g = _normal(x[iLAM + ell], p[bLMU + ell], p[bLSD + ell])
        lp += v_
        grad[iLAM + ell] += g
        lam[ell] = math.exp(x[iLAM + ell])

    pop = np.empty(U)
    for u in range(U):
        value = p[bN + u]
        if iE >= 0:
            e = x[iE + u]
            lp += -0.5 * e * e - LOG_SQRT_2PI
            grad[iE + u] -= e
            value *= math.exp(ce * e)
        ell = int(p[bUP + u])
        if ell >= 0:
            value *= lam[ell]
        pop[u] = value

    # fractions at saturation, and their derivatives in eta and theta
    pi = np.empty(U)
    dpi_deta = np.empty(U)
    dpi_dtheta = np.zeros(U)
    for u in range(U):
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

    # Observations over whole groups (a database of prefectures, a prefecture's count) sum over
    # groups: Σ_u π_u G_j(u) N_u = Σ_j G_j S_j with S_j = Σ_{u in j} π_u N_u; their adjoints collect
    # in g_S and are spread over the units once, at the end.
    S = np.zeros(J)
    for u in range(U):
        S[int(p[bG + u])] += pi[u] * pop[u]
    g_S = np.zeros(J)

    # --- observations ---------------------------------------------------------------------------
    g_pi = np.zeros(U)
    g_pop = np.zeros(U)
    g_rate = np.zeros(J)
    g_t0 = np.zeros(J)
    g_kappa = 0.0
    g_baseline = 0.0
    G = np.zeros(J)
    dG_dr = np.zeros(J)
    dG_dt0 = np.zeros(J)
    F2 = np.zeros(J)
    dF2_dr = np.zeros(J)
    dF2_dt0 = np.zeros(J)
    for k in range(K):
        if p[bACT + k] == 0.0:
            continue
        kind = int(p[bKIND + k])
        censor = int(p[bCEN + k])
        y = p[bY + k]
        s = p[bS + k]
        t1 = p[bT1 + k]
        t2 = p[bT2 + k]
        increment = not math.isnan(t1)
        base = p[bBASE + k]
        d = int(p[bDB + k])
        # the campaign's progress at t2 (and its gain since t1) in the groups this observation touches
        for gi in range(int(p[bGPTR + k]), int(p[bGPTR + k + 1])):
            j = int(p[bGIDX + gi])
            tau2 = (t2 - t0[j]) / eps
            ramp2 = eps * _softplus(tau2)
            e2 = math.exp(-rate[j] * ramp2)
            F2[j] = -math.expm1(-rate[j] * ramp2)
            dF2_dr[j] = ramp2 * e2
            dF2_dt0[j] = -rate[j] * e2 * _sigmoid(tau2)
            if increment:
                tau1 = (t1 - t0[j]) / eps
                ramp1 = eps * _softplus(tau1)
                e1 = math.exp(-rate[j] * ramp1)
                G[j] = e1 * -math.expm1(-rate[j] * (ramp2 - ramp1))  # e1 − e2, without cancellation
                dG_dr[j] = -ramp1 * e1 + ramp2 * e2
                dG_dt0[j] = rate[j] * e1 * _sigmoid(tau1) + dF2_dt0[j]
            else:
                G[j] = F2[j]
                dG_dr[j] = dF2_dr[j]
                dG_dt0[j] = dF2_dt0[j]

        o0, o1 = int(p[bOPTR + k]), int(p[bOPTR + k + 1])
        whole = p[bWHOLE + k] != 0.0
        num = 0.0
        if whole:
            for gi in range(int(p[bGPTR + k]), int(p[bGPTR + k + 1])):
                j = int(p[bGIDX + gi])
                num += G[j] * S[j]
        else:
            for oi in range(o0, o1):
                u = int(p[bOIDX + oi])
                num += p[bOW + oi] * pi[u] * G[int(p[bG + u])] * (base if base > 0.0 else pop[u])
        stock = 0.0
        if kind == COUNT:
            mu = num
        elif kind == DATABASE:
            mu = kappa * num + (0.0 if increment else baseline * p[bND + d])
        elif kind == DATABASE_SHARE:
            if p[bDWHOLE + d] != 0.0:
                for gi in range(int(p[bDGPTR + d]), int(p[bDGPTR + d + 1])):
                    j = int(p[bDGIDX + gi])
                    stock += F2[j] * S[j]
            else:
                for di in range(int(p[bDPTR + d]), int(p[bDPTR + d + 1])):
                    u = int(p[bDIDX + di])
                    stock += pi[u] * F2[int(p[bG + u])] * pop[u]
            denominator = baseline * p[bND + d] + kappa * stock
            mu = num / denominator
        else:  # COVERAGE: collected over the base population
            denominator = 0.0
            for oi in range(o0, o1):
                denominator += p[bOW + oi] * (base if base > 0.0 else pop[int(p[bOIDX + oi])])
            mu = num / denominator

        # the likelihood of this observation, and its derivative in mu
        if kind == COVERAGE:
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
            lp += -0.5 * zz * zz - math.log(s) - LOG_SQRT_2PI + log_jacobian
            g_mu = zz / s * dlin_dmu
        elif censor == LOWER:
            log_cdf, ratio = log_ndtr_ratio((linear_mu - linear_y) / s)
            lp += log_cdf
            g_mu = ratio / s * dlin_dmu
        else:
            log_cdf, ratio = log_ndtr_ratio((linear_y - linear_mu) / s)
            lp += log_cdf
            g_mu = -ratio / s * dlin_dmu

        # back through mu
        if kind == COUNT:
            g_num = g_mu
        elif kind == DATABASE:
            g_num = g_mu * kappa
            g_kappa += g_mu * num
            if not increment:
                g_baseline += g_mu * p[bND + d]
        elif kind == DATABASE_SHARE:
            g_num = g_mu / denominator
            g_den = -g_mu * num / (denominator * denominator)
            g_baseline += g_den * p[bND + d]
            g_kappa += g_den * stock
            gs = g_den * kappa
            if p[bDWHOLE + d] != 0.0:
                for gi in range(int(p[bDGPTR + d]), int(p[bDGPTR + d + 1])):
                    j = int(p[bDGIDX + gi])
                    g_S[j] += gs * F2[j]
                    g_rate[j] += gs * S[j] * dF2_dr[j]
                    g_t0[j] += gs * S[j] * dF2_dt0[j]
            else:
                for di in range(int(p[bDPTR + d]), int(p[bDPTR + d + 1])):
                    u = int(p[bDIDX + di])
                    j = int(p[bG + u])
                    g_pi[u] += gs * F2[j] * pop[u]
                    g_pop[u] += gs * pi[u] * F2[j]
                    g_rate[j] += gs * pi[u] * pop[u] * dF2_dr[j]
                    g_t0[j] += gs * pi[u] * pop[u] * dF2_dt0[j]
        else:
            g_num = g_mu / denominator
            g_den = -g_mu * num / (denominator * denominator)
            if base <= 0.0:
                for oi in range(o0, o1):
                    g_pop[int(p[bOIDX + oi])] += g_den * p[bOW + oi]
        if whole:
            for gi in range(int(p[bGPTR + k]), int(p[bGPTR + k + 1])):
                j = int(p[bGIDX + gi])
                g_S[j] += g_num * G[j]
                g_rate[j] += g_num * S[j] * dG_dr[j]
                g_t0[j] += g_num * S[j] * dG_dt0[j]
            continue
        for oi in range(o0, o1):
            u = int(p[bOIDX + oi])
            j = int(p[bG + u])
            people = base if base > 0.0 else pop[u]
            gn = g_num * p[bOW + oi]
            g_pi[u] += gn * G[j] * people
            if base <= 0.0:
                g_pop[u] += gn * pi[u] * G[j]
            g_rate[j] += gn * pi[u] * people * dG_dr[j]
            g_t0[j] += gn * pi[u] * people * dG_dt0[j]

    # --- back through the transforms ------------------------------------------------------------
    if iK >= 0:
        grad[iK] += g_kappa * kappa * (1.0 - kappa)
        grad[iLB] += g_baseline * baseline
    for j in range(J):
        grad[iRHO + j] += g_rate[j] * rate[j]
        grad[iV + j] += g_t0[j] * dt0[j]
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
    return lp


LOGP_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)
"""nutpie's signature for a log density: (dim, x, gradient out, logp out, user data) -> status."""


@numba.cfunc(LOGP_SIGNATURE, cache=True)
def logp_cfunc(dim, x_, grad_, logp_, user_data_):
    """The log density for nutpie; ``user_data_`` points at the packed inputs."""
    header = numba.carray(user_data_, (HEADER,), np.float64)
    if dim != int(header[H_NDIM]):
        return -1
    packed = numba.carray(user_data_, (int(header[H_LEN]),), np.float64)
    x = numba.carray(x_, (dim,))
    grad = numba.carray(grad_, (dim,))
    out = numba.carray(logp_, (1,))
    value = logp_grad(x, packed, grad)
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


@numba.cfunc(EXPAND_SIGNATURE, cache=True)
def store_cfunc(dim, stored, x_, out_, user_data_):
    """Store the unconstrained draw as it is; everything derived from it is computed in NumPy."""
    if dim != stored:
        return -1
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    for i in range(dim):
        out[i] = x[i]
    return 0
