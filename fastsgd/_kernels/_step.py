"""The optimizer step: gradient, penalty, clipping, moments, step, averaging.

One call updates every parameter in one loop.  The loss gradient of the step is
``gl * G[r, j]`` for feature ``j`` (per example: ``G`` is X and ``r`` the row,
``gl`` the derivative of the loss times the sample weight; per mini-batch: ``G``
is the accumulated gradient, ``r = 0`` and ``gl = 1 / B``) and ``gb`` for the
intercept.  Rows are indexed in place, never sliced: an array view per step
costs two atomic reference-count updates, more than the step itself at small
widths.  The intercept (``params[d]``) takes the same optimizer rule but is
never penalised or decayed.

Rules (g includes the coupled L2 gradient ``alpha (1 - l1_ratio) w`` and the clip
scale; ``lam`` is the decoupled ``weight_decay``; all as in torch.optim):

- sgd:       w <- w (1 - eta lam) - eta g   (scikit-learn floors the shrink at 0)
- momentum:  v <- beta v + g;               w <- w (1 - eta lam) - eta v
- nesterov:  v <- beta v + g;               w <- w (1 - eta lam) - eta (g + beta v)
- adagrad:   s <- s + g^2;                w <- w (1 - eta lam) - eta g / (sqrt s + eps)
- rmsprop:   s <- rho s + (1 - rho) g^2;  w <- w (1 - eta lam) - eta g / (sqrt s + eps)
- adam(w):   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
             w <- w (1 - eta lam) - eta m_hat / (sqrt v_hat + eps)

After the step: Polyak averaging (scikit-learn's ``average``) or an exponential
moving average, then the cumulative L1 penalty by truncated gradient
(Tsuruoka et al. 2009, scikit-learn's ``l1penalty``).

Each rule is its own function, inlined, and :func:`apply_step` picks one per
step from the optimizer's code (a branch the processor predicts: the code is
the same for a whole fit).
"""

from __future__ import annotations

import math

from ._codes import (
    AVG_EMA,
    AVG_NONE,
    AVG_POLYAK,
    C_AVERAGE,
    C_AVG_START,
    C_FIT_INTERCEPT,
    C_OPTIMIZER,
    C_PENALTY,
    H_ALPHA,
    H_BETA1,
    H_BETA2,
    H_CLIP,
    H_EMA,
    H_EPS,
    H_L1_RATIO,
    H_MOMENTUM,
    H_RHO,
    H_WEIGHT_DECAY,
    K_L1_U,
    OPT_ADAGRAD,
    OPT_MOMENTUM,
    OPT_NESTEROV,
    OPT_RMSPROP,
    OPT_SGD,
    PEN_ELASTICNET,
    PEN_L1,
    PEN_L2,
)
from ._jit import kernel


@kernel(inline=True)
def l2_coefficient(codes, hp):
    """Return the coupled L2 coefficient alpha (1 - l1_ratio) (0 without L2)."""
    pen = codes[C_PENALTY]
    if pen == PEN_L2:
        return hp[H_ALPHA]
    if pen == PEN_ELASTICNET:
        return hp[H_ALPHA] * (1.0 - hp[H_L1_RATIO])
    return 0.0


@kernel(inline=True)
def l1_coefficient(codes, hp):
    """Return alpha l1_ratio (0 without L1)."""
    pen = codes[C_PENALTY]
    if pen == PEN_L1:
        return hp[H_ALPHA]
    if pen == PEN_ELASTICNET:
        return hp[H_ALPHA] * hp[H_L1_RATIO]
    return 0.0


@kernel(inline=True)
def truncate_l1(w, q, j, z, u):
    """Apply the cumulative L1 penalty to ``w[j]`` whose value before it is ``z``."""
    if z > 0.0:
        w[j] = max(0.0, z - (u + q[j]))
    elif z < 0.0:
        w[j] = min(0.0, z + (u - q[j]))
    q[j] += w[j] - z


@kernel
def gradient_norm(params, G, r, gl, gb, a2, fit_intercept):
    """Return the L2 norm of the full step gradient (loss + coupled L2)."""
    d = params.shape[0] - 1
    acc = 0.0
    for j in range(d):
        g = gl * G[r, j] + a2 * params[j]
        acc += g * g
    if fit_intercept:
        acc += gb * gb
    return math.sqrt(acc)


@kernel(inline=True)
def step_config(codes, hp):
    """Return the step's options as a tuple of scalars, read once per epoch.

    Reading ``codes``/``hp`` inside the step loop costs ~10 ns per option per
    step: the compiler must assume the parameter stores may alias them and
    reload.  A tuple of scalars lives in registers.
    """
    return (
        codes[C_FIT_INTERCEPT] != 0,
        l2_coefficient(codes, hp),
        l1_coefficient(codes, hp),
        codes[C_OPTIMIZER],
        codes[C_AVERAGE],
        float(codes[C_AVG_START]),
        hp[H_CLIP],
        hp[H_WEIGHT_DECAY],
        hp[H_MOMENTUM],
        hp[H_RHO],
        hp[H_BETA1],
        hp[H_BETA2],
        hp[H_EPS],
        hp[H_EMA],
    )


@kernel(inline=True)
def sgd_update(params, G, r, gl, gb, fit_b, a2, lam, eta, c):
    """Plain SGD, scikit-learn's form: shrink (floored at 0), then step."""
    T = params.dtype.type
    d = params.shape[0] - 1
    shrink = T(max(0.0, 1.0 - eta * (c * a2 + lam)))
    step = T(eta * c * gl)
    for j in range(d):
        params[j] = params[j] * shrink - step * G[r, j]
    if fit_b:
        params[d] = params[d] - eta * (c * gb)


@kernel(inline=True)
def momentum_update(params, G, r, gl, gb, opt, fit_b, a2, lam, eta, c, beta_m, nest):
    """Heavy-ball momentum, or Nesterov's with ``nest`` (torch.optim's form)."""
    T = params.dtype.type
    d = params.shape[0] - 1
    cg = T(c * gl)
    ca2 = T(c * a2)
    ceta = T(eta)
    keep = T(1.0 - eta * lam)
    beta = T(beta_m)
    for j in range(d):
        g = cg * G[r, j] + ca2 * params[j]
        vj = beta * opt[0, j] + g
        opt[0, j] = vj
        step = g + beta * vj if nest else vj
        params[j] = params[j] * keep - ceta * step
    if fit_b:
        gbc = c * gb
        vb = beta_m * opt[0, d] + gbc
        opt[0, d] = vb
        sb = gbc + beta_m * vb if nest else vb
        params[d] = params[d] - eta * sb


@kernel(inline=True)
def adaptive_update(
    params, G, r, gl, gb, opt, fit_b, a2, lam, eta, c, rho_, sum_, eps_
):
    """AdaGrad (``sum_``: a running sum of g^2) or RMSProp (decay ``rho_``)."""
    T = params.dtype.type
    d = params.shape[0] - 1
    cg = T(c * gl)
    ca2 = T(c * a2)
    ceta = T(eta)
    keep = T(1.0 - eta * lam)
    rho = T(1.0) if sum_ else T(rho_)
    one_m = T(1.0) if sum_ else T(1.0 - rho_)
    eps = T(eps_)
    for j in range(d):
        g = cg * G[r, j] + ca2 * params[j]
        sj = rho * opt[0, j] + one_m * g * g
        opt[0, j] = sj
        params[j] = params[j] * keep - ceta * g / (math.sqrt(sj) + eps)
    if fit_b:
        gbc = c * gb
        sb = rho * opt[0, d] + one_m * gbc * gbc
        opt[0, d] = sb
        params[d] = params[d] - eta * gbc / (math.sqrt(sb) + eps_)


@kernel(inline=True)
def adam_update(params, G, r, gl, gb, opt, fit_b, a2, lam, eta, c, b1, b2, eps_, t):
    """Adam with bias correction; AdamW through the decoupled ``lam``."""
    T = params.dtype.type
    d = params.shape[0] - 1
    cg = T(c * gl)
    ca2 = T(c * a2)
    keep = T(1.0 - eta * lam)
    bc1 = 1.0 - math.pow(b1, t)
    bc2 = 1.0 - math.pow(b2, t)
    step_size = T(eta / bc1)
    inv_sqrt_bc2 = T(1.0 / math.sqrt(bc2))
    tb1 = T(b1)
    tb2 = T(b2)
    one_b1 = T(1.0 - b1)
    one_b2 = T(1.0 - b2)
    eps = T(eps_)
    for j in range(d):
        g = cg * G[r, j] + ca2 * params[j]
        mj = tb1 * opt[0, j] + one_b1 * g
        vj = tb2 * opt[1, j] + one_b2 * g * g
        opt[0, j] = mj
        opt[1, j] = vj
        params[j] = params[j] * keep - step_size * mj / (
            math.sqrt(vj) * inv_sqrt_bc2 + eps
        )
    if fit_b:
        gbc = c * gb
        mb = b1 * opt[0, d] + (1.0 - b1) * gbc
        vb = b2 * opt[1, d] + (1.0 - b2) * gbc * gbc
        opt[0, d] = mb
        opt[1, d] = vb
        params[d] = params[d] - (eta / bc1) * mb / (
            math.sqrt(vb) / math.sqrt(bc2) + eps_
        )


@kernel
def after_step(params, avg, q, carry, avg_code, avg_start, ema, a1, eta, t):
    """Average the iterate, then apply the cumulative L1 penalty.

    Averaging sees the iterate after the step and before the L1 truncation
    (scikit-learn's order); separate passes keep the update loops branch-free.
    """
    T = params.dtype.type
    d = params.shape[0] - 1
    mu = T(0.0)
    do_avg = False
    if avg_code == AVG_POLYAK:
        k = t - avg_start + 1.0
        if k >= 1.0:
            do_avg = True
            mu = T(1.0 / k)
    elif avg_code == AVG_EMA:
        do_avg = True
        mu = T(1.0 - ema)
    if do_avg:
        for j in range(d + 1):
            avg[j] += (params[j] - avg[j]) * mu
    if a1 > 0.0:
        # scikit-learn adds to the cumulative penalty, then truncates
        carry[K_L1_U] += a1 * eta
        u = T(carry[K_L1_U])
        for j in range(d):
            truncate_l1(params, q, j, params[j], u)


@kernel(inline=True)
def apply_step(params, G, r, gl, gb, opt, avg, q, cfg, t, eta, carry, need_norm):
    """Take one optimizer step; return the unclipped gradient norm (or -1).

    ``cfg`` is :func:`step_config`'s tuple; its optimizer code picks the rule.
    """
    (
        fit_b,
        a2,
        a1,
        code,
        avg_code,
        avg_start,
        clip,
        lam,
        beta_m,
        rho_,
        b1,
        b2,
        eps_,
        ema,
    ) = cfg
    norm = -1.0
    c = 1.0
    if clip > 0.0 or need_norm:
        norm = gradient_norm(params, G, r, gl, gb, a2, fit_b)
        if clip > 0.0 and norm > clip:
            c = clip / norm
    if code == OPT_SGD:
        sgd_update(params, G, r, gl, gb, fit_b, a2, lam, eta, c)
    elif code == OPT_MOMENTUM or code == OPT_NESTEROV:
        momentum_update(
            params, G, r, gl, gb, opt, fit_b, a2, lam, eta, c, beta_m,
            code == OPT_NESTEROV,
        )  # fmt: skip
    elif code == OPT_ADAGRAD or code == OPT_RMSPROP:
        adaptive_update(
            params, G, r, gl, gb, opt, fit_b, a2, lam, eta, c, rho_,
            code == OPT_ADAGRAD, eps_,
        )  # fmt: skip
    else:
        adam_update(params, G, r, gl, gb, opt, fit_b, a2, lam, eta, c, b1, b2, eps_, t)
    if avg_code != AVG_NONE or a1 > 0.0:
        after_step(params, avg, q, carry, avg_code, avg_start, ema, a1, eta, t)
    return norm
