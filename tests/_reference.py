"""Slow, obvious NumPy references for the compiled kernels, written from the formulas.

Nothing here is transcribed from ``fastsgd._kernels``: every rule below is the
textbook / scikit-learn / torch.optim formula, applied one step at a time in
float64 with plain Python loops.  Only the integer codes and slot numbers are
shared with the kernels (they are the interface, not the implementation).

Conventions (``t`` is the 1-based global step, ``eta`` the rate of the step):

losses (r = p - y; derivative clipped to +-1e12)
    squared_error                ½ r²                    r
    huber                        ½ r² if |r| <= ε        r
                                 ε (|r| - ε/2) else      ε sign(r)
    epsilon_insensitive          max(0, |r| - ε)         sign(r) if |r| > ε else 0
    squared_epsilon_insensitive  max(0, |r| - ε)²        2 (|r| - ε) sign(r) if |r| > ε

learning rate
    constant / adaptive / pa*   eta0
    optimal                     1 / (alpha (optimal_init + t - 1))
    invscaling                  eta0 / t^power_t
    step                        eta0 gamma^floor(epoch / k)
    cosine                      eta_min + (eta0 - eta_min)
                                * (1 + cos(pi min((t - 1) / T, 1))) / 2
    onecycle                    torch.optim.lr_scheduler.OneCycleLR, cos annealing,
                                two phases, evaluated at step_num = t - 1
    warmup                      eta *= t / warmup while t < warmup

step on a batch of B rows (the last batch of an epoch may be shorter)
    g_loss = (1/B) sum_i sw_i dloss_i x_i,   g_b = (1/B) sum_i sw_i dloss_i
    g      = g_loss + a2 w                   a2 = alpha (1 - l1_ratio) (l2: alpha)
    clip:  c = min(1, clip / ||(g, g_b if fit_intercept)||),  g <- c g, g_b <- c g_b
    sgd       w <- max(0, 1 - eta (c a2 + lam)) w - eta c g_loss
    momentum  v <- beta v + g;  w <- w (1 - eta lam) - eta v
    nesterov  v <- beta v + g;  w <- w (1 - eta lam) - eta (g + beta v)
    adagrad   s <- s + g²;      w <- w (1 - eta lam) - eta g / (sqrt(s) + eps)
    rmsprop   s <- rho s + (1 - rho) g²;  same step as adagrad
    adam(w)   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g²
              w <- w (1 - eta lam) - eta m̂ / (sqrt(v̂) + eps)
              with m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t)
    intercept: the same rule on g_b, never penalised (no a2) nor decayed (no lam),
               left alone when fit_intercept = 0
    averaging (after the step, before L1; over all d + 1 entries)
        polyak: k = t - avg_start + 1; if k >= 1: avg += (w - avg) / k
        ema:    avg <- decay avg + (1 - decay) w
    L1 (Tsuruoka et al. 2009, scikit-learn's l1penalty), a1 = alpha l1_ratio (l1: alpha)
        u += a1 eta; for each feature z = w_j:
            z > 0: w_j = max(0, z - (u + q_j));  z < 0: w_j = min(0, z + (u - q_j))
            q_j += w_j - z

passive-aggressive (schedules pa1 / pa2, one row per step, plain SGD only)
    C = eta0; l = loss(p, y); n2 = ||x||²
    pa1: tau = min(C, l / n2) (0 if n2 == 0);  pa2: tau = l / (n2 + 1 / (2 C))
    tau <- -tau if y - p < 0;  tau <- tau sw
    w <- max(0, 1 - eta (a2 + lam)) w + tau x;  b <- b + tau (fit_intercept)

stats and record
    loss sum = sum over visited rows of sw loss(p) with p the prediction before
    the step; weight sum = sum sw; steps; eta of the last step and sum of etas;
    gradient norm of the last step = ||(g, g_b)|| (unclipped) when the step is a
    full batch (B >= rows of the epoch) or clipping is on, else -1; the record
    holds, every ``every`` steps, sum(sw loss) / sum(sw) over the rows of those
    steps (NaN if that weight is 0).
"""

from __future__ import annotations

import math

import numpy as np

from fastsgd._kernels import _codes as K

MAX_DLOSS = 1e12

# an optimizer only the reference knows: RMSProp with Adam's bias correction
# (s <- b2 s + (1 - b2) g², w <- w (1 - eta lam) - eta g / (sqrt(s / (1 - b2^t)) + eps))
OPT_RMSPROP_BIAS_CORRECTED = "rmsprop_bias_corrected"


# ---------------------------------------------------------------------- losses
def loss(code, p, y, eps):
    """Loss of predicting ``p`` for ``y`` (scikit-learn's regression losses)."""
    r = float(p) - float(y)
    a = abs(r)
    if code == K.LOSS_SQUARED:
        return 0.5 * r * r
    if code == K.LOSS_HUBER:
        return 0.5 * r * r if a <= eps else eps * (a - 0.5 * eps)
    if code == K.LOSS_EPS_INSENSITIVE:
        return max(0.0, a - eps)
    if code == K.LOSS_SQ_EPS_INSENSITIVE:
        return max(0.0, a - eps) ** 2
    raise ValueError(code)


def dloss(code, p, y, eps):
    """d loss / d p, clipped to +-1e12 (scikit-learn's MAX_DLOSS)."""
    r = float(p) - float(y)
    a = abs(r)
    s = math.copysign(1.0, r)
    if code == K.LOSS_SQUARED:
        g = r
    elif code == K.LOSS_HUBER:
        g = r if a <= eps else eps * s
    elif code == K.LOSS_EPS_INSENSITIVE:
        g = s if a > eps else 0.0
    elif code == K.LOSS_SQ_EPS_INSENSITIVE:
        g = 2.0 * (a - eps) * s if a > eps else 0.0
    else:
        raise ValueError(code)
    return min(max(g, -MAX_DLOSS), MAX_DLOSS)


# ------------------------------------------------------------------- schedules
def _cos_anneal(start, end, pct):
    """torch's OneCycleLR._annealing_cos: start -> end as pct goes 0 -> 1."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)


def onecycle(step_num, max_lr, total, pct_start, div, final_div):
    """torch.optim.lr_scheduler.OneCycleLR (anneal 'cos', three_phase=False).

    ``step_num`` is torch's 0-based ``last_epoch``.  Phase 1 ends at step
    ``pct_start * total - 1`` (rate ``max_lr``), phase 2 at ``total - 1`` (rate
    ``max_lr / div / final_div``).  Past the end the rate stays at the floor
    (torch raises instead).
    """
    initial = max_lr / div
    min_lr = initial / final_div
    end1 = float(pct_start * total) - 1.0
    end2 = float(total) - 1.0
    if end1 <= 0.0:
        raise ValueError("the reference needs pct_start * total_steps > 1")
    if step_num <= end1:
        return _cos_anneal(initial, max_lr, step_num / end1)
    pct = min((step_num - end1) / (end2 - end1), 1.0)
    return _cos_anneal(max_lr, min_lr, pct)


def learning_rate(code, t, epoch, hp):
    """Learning rate of global step ``t`` (1-based) in ``epoch`` (0-based)."""
    eta0 = hp[K.H_ETA0]
    if code in (K.LR_CONSTANT, K.LR_ADAPTIVE, K.LR_PA1, K.LR_PA2):
        eta = eta0
    elif code == K.LR_OPTIMAL:
        eta = 1.0 / (hp[K.H_ALPHA] * (hp[K.H_OPTIMAL_INIT] + t - 1))
    elif code == K.LR_INVSCALING:
        eta = eta0 / t ** hp[K.H_POWER_T]
    elif code == K.LR_STEP:
        eta = eta0 * hp[K.H_GAMMA] ** math.floor(epoch / hp[K.H_STEP_EPOCHS])
    elif code == K.LR_COSINE:
        big_t = hp[K.H_TOTAL_STEPS]
        frac = min((t - 1) / big_t, 1.0)
        lo = hp[K.H_ETA_MIN]
        eta = lo + (eta0 - lo) * (1.0 + math.cos(math.pi * frac)) / 2.0
    elif code == K.LR_ONECYCLE:
        eta = onecycle(
            t - 1,
            eta0,
            hp[K.H_TOTAL_STEPS],
            hp[K.H_PCT_START],
            hp[K.H_DIV],
            hp[K.H_FINAL_DIV],
        )
    else:
        raise ValueError(code)
    warm = hp[K.H_WARMUP]
    if warm > 0 and t < warm:
        eta *= t / warm
    return eta


# ------------------------------------------------------------------ penalties
def l2_coef(codes, hp):
    """Coupled L2 coefficient of alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||²)."""
    pen = codes[K.C_PENALTY]
    if pen == K.PEN_L2:
        return hp[K.H_ALPHA]
    if pen == K.PEN_ELASTICNET:
        return hp[K.H_ALPHA] * (1.0 - hp[K.H_L1_RATIO])
    return 0.0


def l1_coef(codes, hp):
    """L1 coefficient of the same penalty."""
    pen = codes[K.C_PENALTY]
    if pen == K.PEN_L1:
        return hp[K.H_ALPHA]
    if pen == K.PEN_ELASTICNET:
        return hp[K.H_ALPHA] * hp[K.H_L1_RATIO]
    return 0.0


def truncate_l1(w, q, u, touched=None):
    """Cumulative L1 penalty (scikit-learn's l1penalty) on ``touched`` features."""
    for j in range(w.shape[0]) if touched is None else touched:
        z = w[j]
        if z > 0.0:
            w[j] = max(0.0, z - (u + q[j]))
        elif z < 0.0:
            w[j] = min(0.0, z + (u - q[j]))
        q[j] += w[j] - z


# ----------------------------------------------------------------- optimizers
def optimizer_step(name, x, g, state, eta, t, hp, decay):
    """One torch.optim-style step of ``x`` (1-D) on gradient ``g``; returns new x.

    ``decay`` is the decoupled decay lambda for these coordinates (0 for the
    intercept).  Plain SGD is handled by the caller (scikit-learn's form).
    """
    keep = 1.0 - eta * decay
    if name in (K.OPT_MOMENTUM, K.OPT_NESTEROV):
        beta = hp[K.H_MOMENTUM]
        v = state[0]
        v[:] = beta * v + g
        direction = g + beta * v if name == K.OPT_NESTEROV else v
        return x * keep - eta * direction
    if name == K.OPT_ADAGRAD:
        s = state[0]
        s[:] = s + g * g
        return x * keep - eta * g / (np.sqrt(s) + hp[K.H_EPS])
    if name == K.OPT_RMSPROP:
        rho = hp[K.H_RHO]
        s = state[0]
        s[:] = rho * s + (1.0 - rho) * g * g
        return x * keep - eta * g / (np.sqrt(s) + hp[K.H_EPS])
    if name in (K.OPT_ADAM, K.OPT_ADAMW):
        b1, b2 = hp[K.H_BETA1], hp[K.H_BETA2]
        m, v = state[0], state[1]
        m[:] = b1 * m + (1.0 - b1) * g
        v[:] = b2 * v + (1.0 - b2) * g * g
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        return x * keep - eta * m_hat / (np.sqrt(v_hat) + hp[K.H_EPS])
    if name == OPT_RMSPROP_BIAS_CORRECTED:
        b2 = hp[K.H_BETA2]
        s = state[0]
        s[:] = b2 * s + (1.0 - b2) * g * g
        return x * keep - eta * g / (np.sqrt(s / (1.0 - b2**t)) + hp[K.H_EPS])
    raise ValueError(name)


# ---------------------------------------------------------------------- epoch
def reference_epoch(
    X,
    y,
    sw,
    seq,
    params,
    opt,
    avg,
    q,
    t,
    u,
    hp,
    codes,
    *,
    rec_len=0,
    optimizer=None,
    l1_touched_only=False,
):
    """Run the epoch that visits rows ``seq`` of ``X`` in that order.

    Parameters mirror ``epoch_dense``: ``params`` has the intercept last,
    ``opt`` is (n_slots, d + 1), ``avg`` (d + 1), ``q`` (d), ``t`` the steps
    done so far, ``u`` the cumulative L1 penalty.  Inputs are not modified.
    ``optimizer`` overrides ``codes[C_OPTIMIZER]`` (e.g. with
    ``OPT_RMSPROP_BIAS_CORRECTED``).  ``l1_touched_only`` applies the L1
    truncation lazily, as the O(nnz) sparse path does: to the non-zero
    features of the step's single row, before its prediction and after its
    step, and to every feature at the end of the epoch.

    Returns a dict with params, opt, avg, q, t, u, stats (``N_STATS`` floats)
    and rec (``rec_len`` floats, NaN where nothing was recorded).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sw = np.asarray(sw, dtype=np.float64)
    seq = np.asarray(seq, dtype=np.int64)
    params = np.array(params, dtype=np.float64)
    opt = np.array(opt, dtype=np.float64)
    avg = np.array(avg, dtype=np.float64)
    q = np.array(q, dtype=np.float64)
    t = int(t)
    u = float(u)
    n_feat = X.shape[1]
    w = params[:n_feat]  # views: updated in place below
    opt_w = opt[:, :n_feat]
    opt_b = opt[:, n_feat:]

    lossc = int(codes[K.C_LOSS])
    sched = int(codes[K.C_SCHEDULE])
    name = int(codes[K.C_OPTIMIZER]) if optimizer is None else optimizer
    average = int(codes[K.C_AVERAGE])
    fit_b = bool(codes[K.C_FIT_INTERCEPT])
    batch = max(int(codes[K.C_BATCH]), 1)
    every = int(codes[K.C_RECORD_EVERY])
    epoch = int(codes[K.C_EPOCH])
    avg_start = int(codes[K.C_AVG_START])
    eps = hp[K.H_EPSILON]
    lam = hp[K.H_WEIGHT_DECAY]
    clip = hp[K.H_CLIP]
    a2 = l2_coef(codes, hp)
    a1 = l1_coef(codes, hp)
    pa = sched in (K.LR_PA1, K.LR_PA2)
    m = seq.shape[0]
    full = batch >= m

    stats = np.zeros(K.N_STATS)
    stats[K.S_BAD_ROW] = -1.0  # finite data: no row stopped the epoch
    rec = np.full(rec_len, np.nan)
    r_loss = r_w = 0.0
    r_steps = 0
    for start in range(0, m, batch):
        rows = seq[start : start + batch]
        nb = len(rows)
        t += 1
        eta = learning_rate(sched, t, epoch, hp)
        touched = None
        if l1_touched_only:
            (touched,) = np.nonzero(X[rows[0]])
            if a1 > 0:
                truncate_l1(w, q, u, touched)  # catch up before the prediction
        preds = [float(X[i] @ w) + params[n_feat] for i in rows]
        for i, p in zip(rows, preds, strict=True):
            li = sw[i] * loss(lossc, p, y[i], eps)
            stats[K.S_LOSS_SUM] += li
            stats[K.S_WEIGHT_SUM] += sw[i]
            r_loss += li
            r_w += sw[i]

        if pa:
            if nb != 1 or name != K.OPT_SGD or clip > 0:
                raise NotImplementedError("PA: one row per step, plain SGD, no clip")
            i, p = rows[0], preds[0]
            x = X[i]
            big_c = hp[K.H_ETA0]
            li = loss(lossc, p, y[i], eps)
            n2 = float(x @ x)
            if sched == K.LR_PA1:
                tau = min(big_c, li / n2) if n2 > 0 else 0.0
            else:
                tau = li / (n2 + 0.5 / big_c)
            if y[i] - p < 0:
                tau = -tau
            tau *= sw[i]
            g_loss = -tau / eta * x  # so that -eta g_loss = tau x
            g_b = -tau / eta
        else:
            g_loss = np.zeros(n_feat)
            g_b = 0.0
            for i, p in zip(rows, preds, strict=True):
                coef = sw[i] * dloss(lossc, p, y[i], eps)
                g_loss += coef * X[i]
                g_b += coef
            g_loss /= nb
            g_b /= nb

        g = g_loss + a2 * w
        norm = math.sqrt(float(g @ g) + (g_b * g_b if fit_b else 0.0))
        c = min(1.0, clip / norm) if clip > 0 and norm > 0 else 1.0
        stats[K.S_GRAD_NORM] = norm if (full or clip > 0) else -1.0

        if name == K.OPT_SGD:
            w[:] = max(0.0, 1.0 - eta * (c * a2 + lam)) * w - eta * c * g_loss
            if fit_b:
                params[n_feat] -= eta * c * g_b
        else:
            w[:] = optimizer_step(name, w, c * g, opt_w, eta, t, hp, lam)
            if fit_b:
                params[n_feat:] = optimizer_step(
                    name, params[n_feat:], np.array([c * g_b]), opt_b, eta, t, hp, 0.0
                )

        if average == K.AVG_POLYAK:
            k = t - avg_start + 1
            if k >= 1:
                avg += (params - avg) / k
        elif average == K.AVG_EMA:
            decay = hp[K.H_EMA]
            avg[:] = decay * avg + (1.0 - decay) * params

        if a1 > 0:
            u += a1 * eta
            truncate_l1(w, q, u, touched)

        stats[K.S_STEPS] += 1
        stats[K.S_ETA_SUM] += eta
        stats[K.S_ETA_LAST] = eta
        r_steps += 1
        if every > 0 and r_steps >= every:
            k = int(stats[K.S_NREC])
            if k < rec_len:
                rec[k] = r_loss / r_w if r_w > 0 else np.nan
                stats[K.S_NREC] = k + 1
            r_loss = r_w = 0.0
            r_steps = 0
    if l1_touched_only and a1 > 0:
        truncate_l1(w, q, u)  # every feature catches up at the end
    return {
        "params": params,
        "opt": opt,
        "avg": avg,
        "q": q,
        "t": t,
        "u": u,
        "stats": stats,
        "rec": rec,
    }


def objective(X, y, sw, w, b, codes, hp):
    """Mean weighted loss plus the L2 and L1 penalty (scikit-learn's objective)."""
    X = np.asarray(X, dtype=np.float64)
    lossc = int(codes[K.C_LOSS])
    eps = hp[K.H_EPSILON]
    p = X @ w + b
    losses = [s * loss(lossc, pi, yi, eps) for s, pi, yi in zip(sw, p, y, strict=True)]
    data = np.mean(losses)
    return (
        data
        + 0.5 * l2_coef(codes, hp) * float(w @ w)
        + l1_coef(codes, hp) * float(np.abs(w).sum())
    )


# ------------------------------------------------------ learning_rate = "auto"
def penalty_flow(w, r, l1, dt):
    """``w`` after time ``dt`` of dw/dE = -r w - l1 sign(w), absorbed at 0 (vector)."""
    w = np.asarray(w, dtype=np.float64)
    r = np.broadcast_to(np.asarray(r, dtype=np.float64), w.shape)
    l1 = np.broadcast_to(np.asarray(l1, dtype=np.float64), w.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.exp(-r * dt)
        cut = np.where(r > 0, l1 * (1.0 - keep) / np.where(r > 0, r, 1.0), l1 * dt)
    a = np.abs(w) * keep - cut
    return np.where(a > 0, np.sign(w) * a, 0.0)


def auto_reference_epoch(
    X, y, sw, seq, params, opt, avg, t, carry, hp, codes, *, sparse=False,
    dtype=np.float64, rec_len=16,
):  # fmt: skip
    """The learning_rate="auto" rule (see ``fastsgd._kernels._auto``), step by step.

    ``opt`` is (4, d + 1) read as d + 1 records ``(P, n, mu, s)``: P = sum over
    the coordinate's updates k of k gz_k^2 (so G = P / n), n its update count,
    mu the running mean, s the largest |x - mu| seen.  ``carry`` holds
    ``(u, W, S)``.  ``sparse``: CSR semantics (no centering; a coordinate is
    updated only by rows that store it, i.e. hold a non-zero).  Written with
    z = (x - mu) / s directly, from the formulas:

        W += sum h;  mu += sum h (x - mu) / W;  s = max(s, |x - mu_new|)
        gz = sum h g z / B;  n += 1;  P += n gz^2;  rate = sqrt(n / P)
        S += sum h ||z||^2 (+ sum h);  M = sqrt(W / S)
        a = eta M sum h (rate . z^2 + rate_b) / B;  step = eta M (1 - e^-a) / a
        w -= step rate gz / s;  b -= step rate_b gz_b + dw . mu
        penalty flow of every coordinate over step (c = rate / s^2), b -= dw . mu
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sw = np.asarray(sw, dtype=np.float64)
    seq = np.asarray(seq, dtype=np.int64)
    params = np.array(params, dtype=np.float64)
    opt = np.array(opt, dtype=np.float64)
    avg = np.array(avg, dtype=np.float64)
    carry = np.array(carry, dtype=np.float64)
    d = X.shape[1]
    rec_ = opt.reshape(d + 1, 4)  # a view: records (P, n, mu, s)
    P, n, mu, s = rec_[:, 0], rec_[:, 1], rec_[:, 2], rec_[:, 3]
    w = params[:d]
    tol = 32 * np.finfo(dtype).eps
    lossc = int(codes[K.C_LOSS])
    eps = hp[K.H_EPSILON]
    fit_b = bool(codes[K.C_FIT_INTERCEPT])
    center = fit_b and not sparse
    batch = max(int(codes[K.C_BATCH]), 1)
    sched = int(codes[K.C_SCHEDULE])
    epoch = int(codes[K.C_EPOCH])
    every = int(codes[K.C_RECORD_EVERY])
    average = int(codes[K.C_AVERAGE])
    avg_start = int(codes[K.C_AVG_START])
    a2, a1 = l2_coef(codes, hp), l1_coef(codes, hp)
    lam = hp[K.H_WEIGHT_DECAY]
    stats = np.zeros(K.N_STATS)
    stats[K.S_BAD_ROW] = -1.0  # finite data: no row stopped the epoch
    rec = np.full(rec_len, np.nan)
    r_loss = r_w = 0.0
    r_steps = 0
    for start in range(0, len(seq), batch):
        rows = seq[start : start + batch]
        nb = len(rows)
        t += 1
        # "auto" reads hp[H_ETA0] as the constant schedule does
        eta = learning_rate(
            K.LR_CONSTANT if sched == K.LR_AUTO else sched, t, epoch, hp
        )
        Xr = X[rows]
        h = sw[rows]
        preds = Xr @ w + params[d]
        g = np.array(
            [dloss(lossc, p, yi, eps) for p, yi in zip(preds, y[rows], strict=True)]
        )
        for p, yi, hi in zip(preds, y[rows], h, strict=True):
            li = hi * loss(lossc, p, yi, eps)
            stats[K.S_LOSS_SUM] += li
            stats[K.S_WEIGHT_SUM] += hi
            r_loss += li
            r_w += hi
        stored = (Xr != 0) if sparse else np.ones_like(Xr, dtype=bool)
        touched = stored.any(axis=0)
        big_h = h.sum()
        carry[K.K_AUTO_W] += big_h
        w_tot = carry[K.K_AUTO_W]
        # CSR input is never centered: its means are 0 whatever the state holds
        mu_new = np.zeros(d) if sparse else mu[:d].copy()
        if center and w_tot > 0:
            mu_new += h @ (Xr - mu[:d]) / w_tot
        dev = np.where(stored, Xr - mu_new, 0.0)
        s_new = np.maximum(s[:d], np.abs(dev).max(axis=0))
        if not sparse:
            mu[:d] = mu_new
        s[:d] = np.where(touched, s_new, s[:d])
        n[:d] += touched
        active = (s[:d] > 0) & (s[:d] > tol * np.abs(mu_new))
        safe_s = np.where(active, s[:d], 1.0)
        z = np.where(stored & active, dev / safe_s, 0.0)
        gz = ((h * g) @ z) / nb
        qz = h @ (z * z)
        P[:d] += np.where(touched, n[:d] * gz * gz, 0.0)
        safe_p = np.where(P[:d] > 0, P[:d], 1.0)
        rate = np.where(P[:d] > 0, np.sqrt(n[:d] / safe_p), 0.0)
        gb = float(h @ g) / nb
        rb = 0.0
        if fit_b:
            n[d] += 1
            P[d] += n[d] * gb * gb
            rb = math.sqrt(n[d] / P[d]) if P[d] > 0 else 0.0
        carry[K.K_AUTO_S] += qz.sum() + (big_h if fit_b else 0.0)
        s_tot = carry[K.K_AUTO_S]
        m_norm = math.sqrt(w_tot / s_tot) if s_tot > 0 else 1.0
        ppu = (rate @ qz + (rb * big_h if fit_b else 0.0)) / nb
        a = eta * m_norm * ppu
        step = eta * m_norm * ((1.0 - math.exp(-a)) / a if a > 1e-12 else 1.0)
        dw = np.where(touched & active, -step * rate * gz / safe_s, 0.0)
        before = w.copy()
        w += dw
        c = np.where(active, rate / (safe_s * safe_s), 0.0)
        w[:] = penalty_flow(w, a2 * c + lam, a1 * c, step)
        if fit_b:
            params[d] -= step * rb * gb
            if center:
                params[d] -= (w - before) @ mu_new
        if average == K.AVG_POLYAK:
            k = t - avg_start + 1
            if k >= 1:
                avg += (params - avg) / k
        elif average == K.AVG_EMA:
            decay = hp[K.H_EMA]
            avg[:] = decay * avg + (1.0 - decay) * params
        stats[K.S_STEPS] += 1
        stats[K.S_ETA_SUM] += eta
        stats[K.S_ETA_LAST] = eta
        r_steps += 1
        if every > 0 and r_steps >= every:
            k = int(stats[K.S_NREC])
            if k < rec_len:
                rec[k] = r_loss / r_w if r_w > 0 else np.nan
                stats[K.S_NREC] = k + 1
            r_loss = r_w = 0.0
            r_steps = 0
    stats[K.S_GRAD_NORM] = -1.0
    return {
        "params": params, "opt": opt, "avg": avg, "t": t, "carry": carry,
        "stats": stats, "rec": rec,
    }  # fmt: skip


def csr_adaptive_reference_epoch(
    X, y, sw, seq, params, opt, t, hp, codes, *, rec_len=16
):  # fmt: skip
    """Per-example AdaGrad/RMSProp with the sparse rule of ``_csr_adaptive``.

    A row updates the accumulators and takes the loss step only on the
    columns it stores (non-zeros of X); RMSProp decays every accumulator each
    step; then every column takes the penalty flow ``w *= exp(-(a2 c + lam)
    eta)`` with ``c = 1 / (sqrt(s_last) + eps)``, ``s_last`` the accumulator
    after the column's last update.  The intercept takes the dense rule.
    """
    X = np.asarray(X, dtype=np.float64)
    params = np.array(params, dtype=np.float64)
    opt = np.array(opt, dtype=np.float64)
    d = X.shape[1]
    w = params[:d]
    s = opt[0]
    s_last = s.copy()
    code = int(codes[K.C_OPTIMIZER])
    adagrad = code == K.OPT_ADAGRAD
    rho = 1.0 if adagrad else hp[K.H_RHO]
    one_m = 1.0 if adagrad else 1.0 - hp[K.H_RHO]
    eps_o = hp[K.H_EPS]
    lossc = int(codes[K.C_LOSS])
    eps = hp[K.H_EPSILON]
    a2 = l2_coef(codes, hp)
    lam = hp[K.H_WEIGHT_DECAY]
    fit_b = bool(codes[K.C_FIT_INTERCEPT])
    sched = int(codes[K.C_SCHEDULE])
    epoch = int(codes[K.C_EPOCH])
    every = int(codes[K.C_RECORD_EVERY])
    stats = np.zeros(K.N_STATS)
    stats[K.S_BAD_ROW] = -1.0  # finite data: no row stopped the epoch
    rec = np.full(rec_len, np.nan)
    r_loss = r_w = 0.0
    r_steps = 0
    for i in np.asarray(seq, dtype=np.int64):
        t += 1
        eta = learning_rate(sched, t, epoch, hp)
        x = X[i]
        p = float(x @ w) + params[d]
        li = sw[i] * loss(lossc, p, y[i], eps)
        stats[K.S_LOSS_SUM] += li
        stats[K.S_WEIGHT_SUM] += sw[i]
        r_loss += li
        r_w += sw[i]
        gl = sw[i] * dloss(lossc, p, y[i], eps)
        stored = x != 0
        g = gl * x
        s[:d] = rho * s[:d] + one_m * g * g
        s_last[:d] = np.where(stored, s[:d], s_last[:d])
        w -= np.where(stored, eta * g / (np.sqrt(s[:d]) + eps_o), 0.0)
        c = 1.0 / (np.sqrt(s_last[:d]) + eps_o)
        w *= np.exp(-(a2 * c + lam) * eta)
        if fit_b:
            s[d] = rho * s[d] + one_m * gl * gl
            params[d] -= eta * gl / (math.sqrt(s[d]) + eps_o)
        stats[K.S_STEPS] += 1
        stats[K.S_ETA_SUM] += eta
        stats[K.S_ETA_LAST] = eta
        r_steps += 1
        if every > 0 and r_steps >= every:
            k = int(stats[K.S_NREC])
            if k < rec_len:
                rec[k] = r_loss / r_w if r_w > 0 else np.nan
                stats[K.S_NREC] = k + 1
            r_loss = r_w = 0.0
            r_steps = 0
    stats[K.S_GRAD_NORM] = -1.0
    return {"params": params, "opt": opt, "t": t, "stats": stats, "rec": rec}
