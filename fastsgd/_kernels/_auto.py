"""learning_rate="auto": scale-free adaptive steps, dense and CSR, no eta0.

The model stays in the user's units (``w``, ``b``), but every step is the step
of a model of standardized features ``z_j = (x_j - mu_j) / s_j``, so it does
not depend on the scale (nor, on dense input, the offset) of any column:

- ``mu_j``: the running (sample-weighted) mean of feature j, on dense input
  with an intercept; 0 otherwise (CSR input is never centered: it would lose
  its sparsity, and a model without an intercept cannot absorb the shift);
- ``s_j``: the largest ``|x_j - mu_j|`` seen so far (``mu_j`` after the step's
  rows), Vowpal Wabbit's per-feature normalizer (Ross, Mineiro & Langford,
  "Normalized Online Learning", UAI 2013) measured around the mean.  A column
  with ``s_j <= AUTO_TOL * |mu_j|`` (constant so far, up to rounding) is
  inactive: z_j = 0, its weight takes no loss step (no division by zero);
- per coordinate, a recency-weighted AdaGrad accumulator of the squared
  standardized gradient ``G_j <- (1 - 1/n_j) G_j + gz_j^2`` (``n_j`` counts
  the coordinate's updates, so ``G_j = sum_k k gz_k^2 / n_j``; the state
  keeps ``P_j = n_j G_j``): plain AdaGrad
  freezes its rates after large early gradients (measured: test MSE 2.5x the
  optimum's after 10 epochs on correlated dense columns), this forgets them at
  the rate the coordinate is updated;
- the normalizer ``M = sqrt(W / S)`` of VW's ``average_update``: ``W`` the
  total sample weight seen, ``S`` the weighted sum of ``||z||^2`` (+1 for the
  intercept): the steps do not grow with the number of features;
- an invariant (safe) step size: with ``ppu`` the change of the prediction per
  unit step (``(1/B) sum_i sw_i sum_j rate_j z_ij^2``, ``rate_j = 1/sqrt(G_j)``)
  and ``a = eta M ppu``, the step is ``kappa = eta (1 - exp(-a)) / a``.  For one
  row and the squared loss this moves the prediction by ``(y - p)(1 -
  exp(-a))``: never past the target, whatever the scale of x (Karampatziakis
  & Langford's importance-invariant update, as VW).  For a batch the same
  ``kappa`` bounds the step by the batch's curvature along it (Cauchy-Schwarz:
  the curvature of the mean loss along the step is at most ``M ppu`` times
  its slope).

One step on rows R (B rows, weights ``h_i``, loss derivatives ``g_i`` at the
predictions before the step), in float64 from the state::

    W += sum h;  mu_j += sum h (x_ij - mu_j) / W               (centered only)
    s_j = max(s_j, max_i |x_ij - mu_j|)
    gz_j = sum_i h_i g_i z_ij / B;  qz_j = sum_i h_i z_ij^2     (z with the new mu, s)
    n_j += 1;  P_j += n_j gz_j^2;  rate_j = sqrt(n_j / P_j) (0 if P_j = 0)
    the intercept: gz_b = sum h g / B, qz_b = sum h, its own n_b, P_b, rate_b
    S += sum_j qz_j + qz_b;  M = sqrt(W / S);  ppu = sum_j rate_j qz_j / B (+ b)
    a = eta M ppu;  kappa = eta (1 - exp(-a)) / a;  step = kappa M
    w_j -= step rate_j gz_j / s_j;  b -= step rate_b gz_b + sum_j dw_j mu_j

(the last term keeps the centered model's prediction: the step is a step of
``b' = b + w . mu``).  Then penalties and weight decay, on every coordinate:
the exact flow of ``dw/dE = -(a2 c_j + lam) w - a1 c_j sign(w)`` (stopping at
0) over ``E = step``, with ``c_j = rate_j / s_j^2`` (the coordinate's own
rate in the user's units; 0 for an inactive column), ``a2``, ``a1`` the L2 and
L1 parts of the penalty and ``lam`` the weight decay.  This is a proximal step
of the penalty at the coordinate's rate: it leads to the penalized optimum
in the user's units (the objective ``loss_curve_`` reports) and, being a flow,
k steps with the same ``c_j`` compose into one of ``E = sum of steps``.  On
dense input the intercept again absorbs ``sum_j dw_j mu_j``.

A coordinate is updated ("touched") at every step on dense input, and on CSR
input when one of the step's rows stores it: then ``n_j``, ``G_j``, ``s_j``
and so ``c_j`` change only at its touches, and the O(nnz) per-example CSR
epoch (:func:`epoch_auto_csr`) applies the penalty flow of the steps a
coordinate missed when a row next uses it, and to every coordinate at the end
of the epoch, exactly.  Its model equals :func:`epoch_auto_csr_batch`'s (which
applies the flow to every coordinate at every step) with batches of one row.

State: ``opt`` of shape ``(AUTO_SLOTS, d + 1)`` read as ``d + 1`` records of
four values, ``(P_j, n_j, mu_j, s_j)`` at ``opt.reshape(-1)[4 j : 4 j + 4]``
(the intercept's record last; its ``mu`` and ``s`` unused), so that a CSR
step reads one cache line per column; ``P_j = sum_k k gz_k^2 = n_j G_j`` (the
rate is ``sqrt(n_j / P_j)``: one division and one root).  While the
per-example CSR epoch runs, ``mu_j`` (unused on CSR input) holds ``w_j``; it
puts both back before it returns.  ``carry`` holds ``W`` (``K_AUTO_W``) and
``S`` (``K_AUTO_S``).  ``hp[H_ETA0]`` is ``eta`` (``AUTO_ETA0``); a warmup
multiplies it as for the other schedules.

Measured (``bench/test_bench_vw.py``, median of 3 seeds; AMD EPYC, 2 cores
shared with other jobs): scikit-learn's diabetes data unscaled, the
estimator's defaults, test MSE 1.006x the optimum's (0.95-1.01); correlated
columns of scales 1e-3..1e4 with offsets, 10 epochs, 1.000x per example and
with batches of 32 (at most 1.004); hashed text-like CSR, 3 passes, 1.003x,
as accurate as Vowpal Wabbit at its best ``-l`` (1.004x).  Choice of ``eta``
(AUTO_ETA0 = 0.4): plain AdaGrad (no recency weighting) with 0.5 left 1.6x
(2.5x on one seed) on the correlated dense problem; recency-weighted, 0.35
to 0.5 pass everywhere, 0.7 loses on text (1.014x), 0.35 on dense (1.014x on
one seed).
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import (
    AUTO_G,
    AUTO_MU,
    AUTO_N,
    AUTO_SCALE,
    AUTO_SLOTS,
    AVG_NONE,
    C_CHECK,
    K_AUTO_S,
    K_AUTO_W,
    S_BAD_ROW,
    S_GRAD_NORM,
)
from ._jit import kernel
from ._losses import loss_derivative, loss_value
from ._prefetch import PREFETCH_DISTANCE, prefetch_item, prefetch_span
from ._rows import (
    csr_row_is_bad,
    epoch_options,
    finish,
    record,
    row_is_bad,
    visit_sequence,
)
from ._schedule import rate, schedule_params
from ._step import after_step, step_config
from ._unowned import unowned

# a column whose largest deviation from its mean is at most this times the
# mean is constant up to the rounding of the running mean: inactive
AUTO_TOL_F64 = 32 * 2.0**-52
AUTO_TOL_F32 = 32 * 2.0**-23


@kernel(inline=True)
def penalty_flow(w, r, l1, dt):
    """Return ``w`` after time ``dt`` of ``dw/dE = -r w - l1 sign(w)`` (0 stays 0)."""
    if dt <= 0.0 or (r <= 0.0 and l1 <= 0.0):
        return w
    if r > 0.0:
        keep = math.exp(-r * dt)
        cut = l1 * -math.expm1(-r * dt) / r
    else:
        keep = 1.0
        cut = l1 * dt
    a = abs(w) * keep - cut
    if a <= 0.0:
        return 0.0
    return math.copysign(a, w)


@kernel(inline=True)
def safe_factor(a):
    """Return ``(1 - exp(-a)) / a`` (1 at a = 0)."""
    if a > 1e-12:
        return -math.expm1(-a) / a
    return 1.0


@kernel(inline=True)
def coord_rate(n, p):
    """Return ``rate = 1 / sqrt(G) = sqrt(n / P)`` (0 for ``P <= 0``: no gradient)."""
    if p > 0.0:
        return math.sqrt(n / p)
    return 0.0


@kernel
def auto_update(params, opt, grad, carry, hh, gam, nrows, eta, center, sparse, cfg):
    """Take the "auto" step from a batch's sums (see the module docstring).

    ``grad`` holds, per coordinate (rows of ``d + 1``): 0: ``sum h g dev``,
    1: ``sum h dev`` (dense; CSR: the number of the batch's rows that store
    the coordinate), 2: ``sum h dev^2``, 3: ``max x`` (CSR: ``max |x|``), 4:
    ``min x`` (dense), with ``dev = x - mu`` (mu before the step).  ``hh`` is
    ``sum h``, ``gam`` ``sum h g``, ``nrows`` the batch's row count.  Returns
    ``step`` (the penalty flow's time).  Leaves ``grad`` dirty.
    """
    T = params.dtype.type
    d = params.shape[0] - 1
    st = opt.reshape(opt.size)
    fit_b, a2, a1 = cfg[0], cfg[1], cfg[2]
    lam = cfg[7]
    tol = AUTO_TOL_F64 if params.itemsize == 8 else AUTO_TOL_F32
    bf = float(nrows)
    w_tot = carry[K_AUTO_W] + hh
    carry[K_AUTO_W] = w_tot
    ppu = 0.0
    qsum = 0.0
    # pass 1: statistics, accumulators and rates; grad rows 0 and 1 then hold
    # gz_j and rate_j, row 2 qz_j (row 2 also flags the touched coordinates)
    for j in range(d):
        if sparse:
            touched = grad[1, j] > 0.0
        else:
            touched = True
        if not touched:
            continue
        # CSR input is never centered: its means are 0 whatever the state holds
        mu_old = 0.0 if sparse else float(st[j * AUTO_SLOTS + AUTO_MU])
        mu_new = mu_old
        if center and w_tot > 0.0:
            mu_new = mu_old + float(grad[1, j]) / w_tot
            st[j * AUTO_SLOTS + AUTO_MU] = T(mu_new)
            mu_new = float(st[j * AUTO_SLOTS + AUTO_MU])
        dm = mu_new - mu_old
        s = float(st[j * AUTO_SLOTS + AUTO_SCALE])
        if sparse:
            s = max(s, float(grad[3, j]))
        else:
            s = max(s, abs(float(grad[3, j]) - mu_new), abs(float(grad[4, j]) - mu_new))
        st[j * AUTO_SLOTS + AUTO_SCALE] = T(s)
        s = float(st[j * AUTO_SLOTS + AUTO_SCALE])
        n = float(st[j * AUTO_SLOTS + AUTO_N]) + 1.0
        st[j * AUTO_SLOTS + AUTO_N] = T(n)
        gz = 0.0
        qz = 0.0
        if s > 0.0 and s > tol * abs(mu_new):
            a = float(grad[0, j])
            q = float(grad[2, j])
            if not sparse:
                dd = float(grad[1, j])
                a -= dm * gam
                q += (hh * dm - 2.0 * dd) * dm
            gz = a / (s * bf)
            qz = q / (s * s)
        pj = T(float(st[j * AUTO_SLOTS + AUTO_G]) + n * gz * gz)
        st[j * AUTO_SLOTS + AUTO_G] = pj
        r = coord_rate(n, float(pj))
        ppu += r * qz
        qsum += qz
        grad[0, j] = T(gz)
        grad[1, j] = T(r)
        grad[2, j] = T(1.0)
    gb = 0.0
    rb = 0.0
    if fit_b:
        gb = gam / bf
        nb = float(st[d * AUTO_SLOTS + AUTO_N]) + 1.0
        st[d * AUTO_SLOTS + AUTO_N] = T(nb)
        pb = T(float(st[d * AUTO_SLOTS + AUTO_G]) + nb * gb * gb)
        st[d * AUTO_SLOTS + AUTO_G] = pb
        rb = coord_rate(nb, float(pb))
        ppu += rb * hh
        qsum += hh
    s_tot = carry[K_AUTO_S] + qsum
    carry[K_AUTO_S] = s_tot
    mm = math.sqrt(w_tot / s_tot) if s_tot > 0.0 else 1.0
    a = eta * mm * ppu / bf
    step = eta * safe_factor(a) * mm
    shift = 0.0
    pen = a2 > 0.0 or a1 > 0.0 or lam > 0.0
    # pass 2: the step, then the penalty flow of every coordinate
    for j in range(d):
        touched = (not sparse) or grad[2, j] > 0.0
        wj = float(params[j])
        s = float(st[j * AUTO_SLOTS + AUTO_SCALE])
        mu = 0.0 if sparse else float(st[j * AUTO_SLOTS + AUTO_MU])
        active = s > 0.0 and s > tol * abs(mu)
        if touched and active:
            wj -= step * float(grad[1, j]) * float(grad[0, j]) / s
        if pen:
            c = 0.0
            if active:
                c = auto_penalty_rate(st, j)
            wj = penalty_flow(wj, a2 * c + lam, a1 * c, step)
        new = T(wj)
        if center:
            shift += (float(new) - float(params[j])) * mu
        params[j] = new
    if fit_b:
        params[d] = T(float(params[d]) - step * rb * gb - shift)
    return step


@kernel(inline=True)
def clear_rows(grad, d, sparse):
    """Reset the batch sums of ``auto_update`` (dense: min/max to +-inf)."""
    for k in range(4):
        for j in range(d):
            grad[k, j] = 0.0
    if not sparse:
        for j in range(d):
            grad[3, j] = -np.inf
            grad[4, j] = np.inf


@kernel(inline=True)
def dense_prediction(X, i, params):
    """Return row ``i`` of X times the weights ``params[:d]``, plus the intercept."""
    d = X.shape[1]
    p = 0.0
    for j in range(d):
        p += X[i, j] * params[j]
    return p + params[d]


@kernel(inline=True)
def dense_sums(X, i, st, grad, thg, tsw):
    """Add dense row ``i`` to the batch sums of :func:`auto_update`.

    ``thg`` is the row's ``h g`` and ``tsw`` its ``h``, in X's dtype; the
    deviations are from the means of the state ``st`` (flat records).
    """
    for j in range(X.shape[1]):
        x = X[i, j]
        dev = x - st[j * AUTO_SLOTS + AUTO_MU]
        grad[0, j] += thg * dev
        grad[1, j] += tsw * dev
        grad[2, j] += tsw * dev * dev
        if x > grad[3, j]:
            grad[3, j] = x
        if x < grad[4, j]:
            grad[4, j] = x


@kernel(inline=True)
def csr_prediction(data, indices, lo, hi, params):
    """Return the CSR row ``data[lo:hi]`` times the weights, plus the intercept."""
    p = params[params.shape[0] - 1] + 0.0
    for k in range(lo, hi):
        p += data[k] * params[indices[k]]
    return p


@kernel(inline=True)
def csr_sums(data, indices, lo, hi, grad, thg, tsw):
    """Add the CSR row ``data[lo:hi]`` to the batch sums of :func:`auto_update`."""
    for k in range(lo, hi):
        j = indices[k]
        x = data[k]
        grad[0, j] += thg * x
        grad[1, j] += 1.0
        grad[2, j] += tsw * x * x
        ax = abs(x)
        if ax > grad[3, j]:
            grad[3, j] = ax


@kernel(inline=True)
def csr_clear(indices, indptr, seq, pos, end, grad):
    """Zero the batch sums of the columns rows ``seq[pos:end]`` store."""
    for r in range(pos, end):
        i = seq[r]
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            grad[0, j] = 0.0
            grad[1, j] = 0.0
            grad[2, j] = 0.0
            grad[3, j] = 0.0


@kernel(entry=True)
def epoch_auto(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry, hp,
    codes, stats, rec,
):  # fmt: skip
    """Run one "auto" epoch over dense rows, per example or by mini-batches.

    ``opt`` has ``AUTO_SLOTS`` rows, ``grad`` ``AUTO_SCRATCH_ROWS`` rows of
    ``d + 1``.  ``q`` is not used (the L1 part is in the penalty flow).
    """
    m = order.shape[0]
    d = X.shape[1]
    X, y, sw, grad = unowned(X), unowned(y), unowned(sw), unowned(grad)
    params, opt, avg, q = unowned(params), unowned(opt), unowned(avg), unowned(q)
    st = unowned(opt.reshape(opt.size))
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    fit_b = cfg[0]
    avg_code, avg_start, ema = cfg[4], cfg[5], cfg[13]
    T = params.dtype.type
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    t = counters[0]
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    steps = 0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    pos = np.int64(0)
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        eta = rate(sched, float(t), epoch, sp)
        clear_rows(grad, d, False)
        hh = 0.0
        gam = 0.0
        ls = 0.0
        ws = 0.0
        for r in range(pos, end):
            i = seq[r]
            p = dense_prediction(X, i, params)
            swi = float(sw[i])
            li = loss_value(loss, p, y[i], eps)
            if check and not math.isfinite(li) and row_is_bad(X, i, y[i]):
                stats[S_BAD_ROW] = i
                break
            ls += swi * li
            ws += swi
            hg = swi * loss_derivative(loss, p, y[i], eps)
            dense_sums(X, i, st, grad, T(hg), T(swi))
            hh += swi
            gam += hg
        if stats[S_BAD_ROW] >= 0.0:
            t -= 1  # the step is not taken: the fit stops with an error
            break
        steps += 1
        eta_sum += eta
        loss_sum += ls
        w_sum += ws
        r_acc += ls
        r_w += ws
        auto_update(
            params, opt, grad, carry, hh, gam, end - pos, eta, fit_b, False, cfg
        )
        if avg_code != AVG_NONE:
            after_step(params, avg, q, carry, avg_code, avg_start, ema, 0.0, eta, t)
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_auto_csr_batch(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """Run one "auto" epoch over CSR rows by mini-batches: O(d) per step.

    Also the per-example CSR epoch with averaging.  Same arrays as
    :func:`epoch_auto`; no centering.
    """
    m = order.shape[0]
    d = params.shape[0] - 1
    data, indices, indptr = unowned(data), unowned(indices), unowned(indptr)
    y, sw, grad = unowned(y), unowned(sw), unowned(grad)
    params, opt, avg, q = unowned(params), unowned(opt), unowned(avg), unowned(q)
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    avg_code, avg_start, ema = cfg[4], cfg[5], cfg[13]
    T = params.dtype.type
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    clear_rows(grad, d, True)
    t = counters[0]
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    steps = 0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    pos = np.int64(0)
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        eta = rate(sched, float(t), epoch, sp)
        hh = 0.0
        gam = 0.0
        ls = 0.0
        ws = 0.0
        for r in range(pos, end):
            i = seq[r]
            lo = indptr[i]
            hi = indptr[i + 1]
            p = csr_prediction(data, indices, lo, hi, params)
            swi = float(sw[i])
            li = loss_value(loss, p, y[i], eps)
            if check and not math.isfinite(li) and csr_row_is_bad(data, lo, hi, y[i]):
                stats[S_BAD_ROW] = i
                break
            ls += swi * li
            ws += swi
            hg = swi * loss_derivative(loss, p, y[i], eps)
            csr_sums(data, indices, lo, hi, grad, T(hg), T(swi))
            hh += swi
            gam += hg
        if stats[S_BAD_ROW] >= 0.0:
            t -= 1  # the step is not taken: the fit stops with an error
            break
        steps += 1
        eta_sum += eta
        loss_sum += ls
        w_sum += ws
        r_acc += ls
        r_w += ws
        auto_update(params, opt, grad, carry, hh, gam, end - pos, eta, False, True, cfg)
        csr_clear(indices, indptr, seq, pos, end, grad)
        if avg_code != AVG_NONE:
            after_step(params, avg, q, carry, avg_code, avg_start, ema, 0.0, eta, t)
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)


@kernel(inline=True)
def auto_penalty_rate(st, j):
    """Return ``c_j = rate_j / s_j^2`` (0 for an inactive CSR column)."""
    at = j * AUTO_SLOTS
    s = float(st[at + AUTO_SCALE])
    if s > 0.0:
        return coord_rate(float(st[at + AUTO_N]), float(st[at + AUTO_G])) / (s * s)
    return 0.0


@kernel(inline=True)
def catch_up(rc, st, clk, clock, penopt):
    """Apply to every column the penalty flow it missed since ``clk[j]``."""
    T = rc.dtype.type
    pen, a2, a1, lam = penopt
    for j in range(rc.shape[0] - 1):
        dt = clock - float(clk[j])
        if dt > 0.0:
            c = auto_penalty_rate(st, j)
            wj = penalty_flow(float(rc[j, AUTO_MU]), a2 * c + lam, a1 * c, dt)
            rc[j, AUTO_MU] = T(wj)


@kernel
def weights_into_records(params, rc, saved, indices, d, lazy):
    """Save the records' ``mu`` slots to ``saved`` and put ``w`` there instead.

    ``lazy``: only the columns some stored value of ``indices`` names (each
    pass is idempotent, so a column named twice is no matter): O(nnz) for
    data with fewer stored values than columns (a small ``partial_fit``
    chunk, say), where O(d) would dominate the epoch.
    """
    if lazy:
        for k in range(indices.shape[0]):
            j = indices[k]
            saved[j] = rc[j, AUTO_MU]
        for k in range(indices.shape[0]):
            j = indices[k]
            rc[j, AUTO_MU] = params[j]
    else:
        for j in range(d):
            saved[j] = rc[j, AUTO_MU]
            rc[j, AUTO_MU] = params[j]


@kernel
def weights_out_of_records(params, rc, saved, indices, d, lazy):
    """Undo :func:`weights_into_records`, the records' ``w`` back to ``params``."""
    if lazy:
        for k in range(indices.shape[0]):
            j = indices[k]
            params[j] = rc[j, AUTO_MU]
        for k in range(indices.shape[0]):
            j = indices[k]
            rc[j, AUTO_MU] = saved[j]
    else:
        for j in range(d):
            params[j] = rc[j, AUTO_MU]
            rc[j, AUTO_MU] = saved[j]


@kernel(inline=True)
def csr_auto_step(xs, js, target, swi, rc, st, clk, scratch, b, clock, w_tot, s_tot,
                  eta, lossopt, penopt):  # fmt: skip
    """Take one model's per-example "auto" step on a CSR row, at O(nnz).

    ``xs``/``js``: the row's stored values and columns; ``rc``/``st``: the
    model's records (w in the ``mu`` slots, see :func:`epoch_auto_csr`) as
    rows and flat; ``clk``: each column's clock at its last catch-up;
    ``scratch``: three rows of room for the row's s, n and P.  ``b``,
    ``clock``, ``w_tot`` and ``s_tot`` are the model's intercept, epoch
    clock and running sums; ``lossopt`` is ``(loss, eps, fit_b)`` and
    ``penopt`` ``(pen, a2, a1, lam)``.  Returns ``(loss, b, clock, w_tot,
    s_tot)`` after the step.

    Three passes over the row: the prediction, copying each column's s, n, P
    into contiguous scratch; the new accumulators, rates and step factors on
    the scratch, a loop LLVM vectorises (AVX2: four divisions or roots an
    instruction); the records' P and w.
    """
    T = rc.dtype.type
    d = rc.shape[0] - 1
    loss, eps, fit_b = lossopt
    pen, a2, a1, lam = penopt
    nk = xs.shape[0]
    sv, nv, pv = scratch[0], scratch[1], scratch[2]
    fv = sv  # the step factors replace s
    if pen:
        # the row's columns catch up on the steps they missed
        for k in range(nk):
            j = np.uint32(js[k])
            dt = clock - float(clk[j])
            if dt > 0.0:
                c = auto_penalty_rate(st, j)
                wj = penalty_flow(float(rc[j, AUTO_MU]), a2 * c + lam, a1 * c, dt)
                rc[j, AUTO_MU] = T(wj)
            clk[j] = T(clock)
    # pass 1: the prediction; s and n of the step, the row's scratch
    p = b
    for k in range(nk):
        j = np.uint32(js[k])
        x = xs[k]
        p += x * rc[j, AUTO_MU]
        s = max(rc[j, AUTO_SCALE], abs(x))
        n = rc[j, AUTO_N] + 1
        rc[j, AUTO_SCALE] = s
        rc[j, AUTO_N] = n
        sv[k] = s
        nv[k] = n
        pv[k] = rc[j, AUTO_G]
    li = loss_value(loss, p, target, eps)
    hg = swi * loss_derivative(loss, p, target, eps)
    w_tot += swi
    # pass 2, on the scratch only (vectorised): selects, not branches
    ppu = 0.0
    qsum = 0.0
    for k in range(nk):
        s = float(sv[k])
        n = float(nv[k])
        inv_s = 1.0 / s if s > 0.0 else 0.0
        z = float(xs[k]) * inv_s
        gz = hg * z
        qz = swi * z * z
        pj = float(T(float(pv[k]) + n * gz * gz))
        r = coord_rate(n, pj)
        pv[k] = T(pj)
        fv[k] = T(r * z * inv_s)  # the user-unit step per unit of step * hg
        ppu += r * qz
        qsum += qz
    gb = 0.0
    rb = 0.0
    if fit_b:
        gb = hg
        nb = float(rc[d, AUTO_N]) + 1.0
        rc[d, AUTO_N] = T(nb)
        pb = T(float(rc[d, AUTO_G]) + nb * gb * gb)
        rc[d, AUTO_G] = pb
        rb = coord_rate(nb, float(pb))
        ppu += rb * swi
        qsum += swi
    s_tot += qsum
    mm = math.sqrt(w_tot / s_tot) if s_tot > 0.0 else 1.0
    step = eta * safe_factor(eta * mm * ppu) * mm
    clock += step
    move = step * hg
    # pass 3: the records' P and w
    if pen:
        for k in range(nk):
            j = np.uint32(js[k])
            rc[j, AUTO_G] = pv[k]
            wj = float(rc[j, AUTO_MU]) - move * float(fv[k])
            c = auto_penalty_rate(st, j)
            rc[j, AUTO_MU] = T(penalty_flow(wj, a2 * c + lam, a1 * c, step))
            clk[j] = T(clock)
    else:
        tm = T(move)
        for k in range(nk):
            j = np.uint32(js[k])
            rc[j, AUTO_G] = pv[k]
            rc[j, AUTO_MU] -= tm * fv[k]
    if fit_b:
        b = float(T(b - step * rb * gb))
    return li, b, clock, w_tot, s_tot


@kernel(entry=True)
def epoch_auto_csr(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """Run one per-example "auto" epoch over CSR rows at O(nnz) a step.

    The step of :func:`auto_update` restricted to the row's stored columns;
    the penalty flow a column misses while no row stores it is applied when
    a row next stores it (before the prediction) and to every column at the
    end of the epoch: ``grad[0, j]`` keeps the epoch's clock (the sum of the
    steps) at column j's last catch-up.  No averaging (the estimator routes
    averaged runs to :func:`epoch_auto_csr_batch`).

    During the epoch the weight w_j lives in the unused ``mu`` slot of
    column j's record (CSR is never centered), so that a stored value reads
    and writes one 32-byte record instead of the record and ``params``; the
    slots are saved to ``grad[4]`` on entry, and ``params`` and the slots are
    restored before the kernel returns (also at a bad row): O(d) (measured:
    0.7 ms an epoch at 2^18 columns, under 1 ms of the ~35 ms epoch below),
    or O(nnz) for data with fewer stored values than columns.  A step makes
    three passes over the row: the prediction, copying each column's s, n, P
    into contiguous scratch (``grad[1:4]``); the new accumulators, rates and
    step factors on the scratch, a loop LLVM vectorises (AVX2: four
    divisions or roots an instruction); the records' P and w.

    Measured on the hashed text-like CSR problem (3.5M stored values, 8192
    used columns, 3 epochs, float64; AMD EPYC, 2 cores shared with other
    jobs; side by side): 20.8 -> 9.9 ns a stored value in order, 40.7 -> 18.1
    shuffled (float32: 33.5 -> 14.0, 38.6 -> 18.7), against passes reading
    ``params`` and the records apart, with a scalar division and root per
    value.  A perf profile then put ~45% of the time in pass 1, yet cutting
    the dependence of a row on the previous row's step changed nothing: the
    epoch is bound by instruction throughput.  Tried and dropped, within the
    noise or slower: prefetching the records of the row 1 or 2 ahead (12.8
    -> 13.7 ns), two or four accumulators for the prediction, the
    intercept's record in registers (slower), ``-expm1(-a) / ppu`` for the
    step (no division by ``a``) and ``1 - exp(-a)`` for large ``a``, a row
    prefetch distance of 2 or 8.
    """
    m = order.shape[0]
    d = params.shape[0] - 1
    T = params.dtype.type
    data, indices, indptr = unowned(data), unowned(indices), unowned(indptr)
    y, sw, grad = unowned(y), unowned(sw), unowned(grad)
    params, rc = unowned(params), unowned(opt.reshape((d + 1, AUTO_SLOTS)))
    st = unowned(opt.reshape(opt.size))  # the same records, flat
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    fit_b, a2, a1 = cfg[0], cfg[1], cfg[2]
    lam = cfg[7]
    pen = a2 > 0.0 or a1 > 0.0 or lam > 0.0
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    # the row's scratch: per column s, n, P before the step (the step factors
    # replace s, the new P the old)
    clk, saved = grad[0], grad[4]
    scratch = grad[1:4]
    lossopt = (loss, eps, fit_b)
    penopt = (pen, a2, a1, lam)
    # without a penalty only the stored columns' records are read: with fewer
    # stored values than columns, w goes in and out of them at O(nnz)
    lazy = not pen and indices.shape[0] < d
    weights_into_records(params, rc, saved, indices, d, lazy)
    if pen:
        for j in range(d):
            clk[j] = 0.0
    clock = 0.0
    b = float(params[d])
    w_tot = carry[K_AUTO_W]
    s_tot = carry[K_AUTO_S]
    t = counters[0]
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    for pos in range(m):
        if random_rows:
            # as epoch_csr_lazy: the row pointer first, then the row
            if pos + 2 * PREFETCH_DISTANCE < m:
                prefetch_item(indptr, seq[pos + 2 * PREFETCH_DISTANCE])
            if pos + PREFETCH_DISTANCE < m:
                ahead = seq[pos + PREFETCH_DISTANCE]
                prefetch_span(data, indptr[ahead], indptr[ahead + 1])
                prefetch_span(indices, indptr[ahead], indptr[ahead + 1])
                prefetch_item(y, ahead)
                prefetch_item(sw, ahead)
        i = seq[pos]
        lo = indptr[i]
        hi = indptr[i + 1]
        # a row holding NaN or inf (or its target) has a non-finite loss
        # whatever the weights: checked before the step writes s and n
        if check and csr_row_is_bad(data, lo, hi, y[i]):
            stats[S_BAD_ROW] = i
            break
        swi = float(sw[i])
        t += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        li, b, clock, w_tot, s_tot = csr_auto_step(
            data[lo:hi], indices[lo:hi], y[i], swi, rc, st, clk, scratch, b,
            clock, w_tot, s_tot, eta, lossopt, penopt,
        )  # fmt: skip
        loss_sum += swi * li
        w_sum += swi
        r_acc += swi * li
        r_w += swi
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
    if pen:
        catch_up(rc, st, clk, clock, penopt)
    weights_out_of_records(params, rc, saved, indices, d, lazy)
    params[d] = T(b)
    carry[K_AUTO_W] = w_tot
    carry[K_AUTO_S] = s_tot
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, t - counters[0], eta_sum, eta, loss_sum, w_sum)
