"""Epochs that train K targets at once: each row read updates all K models.

Per-example SGD over rows is bound by reading X from memory, so updating K
weight vectors for a row already in cache costs far less than K epochs.

Arguments as in ``_rows``, except for the per-output layout:

- ``y`` is (n_rows, K), C-contiguous;
- ``params`` (K, d + 1), ``opt`` (K, n_slots, d + 1), ``avg`` (K, d + 1),
  ``q`` (K, d) and ``carry`` (K, N_CARRY): output k's state is the
  single-output layout, so its step is ``_step.apply_step`` on its own views
  (``params[k]``, ``opt[k]``, ...) and every update rule, averaging mode and
  L1 truncation is the single-output one, unchanged;
- ``grad`` (K, d + 3): row k holds output k's mini-batch gradient in ``[:d]``
  and its intercept gradient in ``[d]``; ``[d + 1]`` and ``[d + 2]`` keep the
  per-output prediction and loss derivative of the current row.

The outputs share the visiting order, the step counter and the learning rate.
The loss sum is over rows of ``sw`` times the mean loss over the outputs (the
loss curve is the mean over targets), and the gradient norm is the largest of
the outputs' norms.  Clipping applies to each output's gradient on its own
(as K separate models would).

Families (``_select``): :func:`epoch_multi_plain` (per-example plain SGD, the
default configuration, one fused pass over each weight row),
:func:`epoch_multi_example` (per example, any rule),
:func:`epoch_multi_batch` (mini-batch and full batch) and
:func:`epoch_multi_csr` (CSR rows, any
configuration: the batch gradient over the non-zeros, then the dense step of
dense input, so both inputs give the same model).
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import (
    C_CHECK,
    C_SAMPLING,
    LOSS_SQUARED,
    S_BAD_ROW,
    S_GRAD_NORM,
)
from ._jit import kernel
from ._losses import clip_dloss, loss_derivative, loss_value
from ._prefetch import PREFETCH_DISTANCE, prefetch_item, prefetch_row
from ._rows import (
    csr_row_is_bad,
    epoch_options,
    finish,
    pa_update,
    record,
    row_is_bad,
    stream_ahead,
    visit_sequence,
)
from ._schedule import rate, schedule_params
from ._step import apply_step, step_config
from ._unowned import unowned


@kernel(inline=True)
def prefetch_outputs(X, y, sw, i):
    """Prefetch row ``i`` of X and of the (n, K) targets (into L2) and its weight.

    ``_rows.prefetch_example`` for K targets: each shuffled row's targets and
    weight were a cache miss of their own (100k x 100 float64, K = 10,
    default order, a 3-epoch fit: 135.7 -> 97.0 ms with the two hints).
    """
    prefetch_row(X, i)
    prefetch_row(y, i)
    prefetch_item(sw, i)


@kernel(inline=True)
def aligned_rows(params, d):
    """Return a copy of the weights ``params[:, :d]`` whose rows start on 64 bytes.

    The rows of ``params`` are ``d + 1`` items apart, so most of them start
    off a cache-line boundary and one vector store in two splits across two
    lines.  The epoch updates an aligned copy (rows padded to whole lines) and
    writes it back at the end (100k x 100 float64, K = 10, rows in order:
    239 -> 209 ns a row).  The copy is a new array, so it stays owned and
    alive for the whole epoch.
    """
    n_out = params.shape[0]
    lanes = 64 // params.itemsize
    ld = (d + lanes - 1) // lanes * lanes
    buf = np.empty(n_out * ld + lanes, dtype=params.dtype)
    off = ((64 - buf.ctypes.data % 64) % 64) // params.itemsize
    W = buf[off : off + n_out * ld].reshape((n_out, ld))
    for k in range(n_out):
        for j in range(d):
            W[k, j] = params[k, j]
    return W


@kernel(entry=True)
def epoch_multi_plain(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry, hp,
    codes, stats, rec,
):  # fmt: skip
    """Run one epoch of plain per-example SGD for K outputs over dense rows.

    The configuration of ``_dense.epoch_plain`` (one row per step, plain SGD,
    an L2 shrink and decoupled decay only).  The loop that updates the
    weights also sums the next row's predictions with them: one pass over
    the K weight rows per step.
    """
    m = order.shape[0]
    d = X.shape[1]
    n_out = y.shape[1]
    X, y, sw, grad = unowned(X), unowned(y), unowned(sw), unowned(grad)
    params, stats, rec = unowned(params), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    fit_b = cfg[0]
    a2lam = cfg[1] + cfg[7]
    ahead = stream_ahead(X, codes[C_SAMPLING], False)
    far = random_rows and ahead == 0
    T = params.dtype.type
    pred = d + 1
    deriv = d + 2
    inv_out = 1.0 / n_out
    squared = loss == LOSS_SQUARED
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    W = aligned_rows(params, d)
    t = counters[0]
    tf = float(t)
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    done = 0
    if m > 0:
        i0 = seq[0]
        for k in range(n_out):
            acc = T(0.0)
            for j in range(d):
                acc += X[i0, j] * W[k, j]
            grad[k, pred] = acc
    for pos in range(m):
        tf += 1.0
        if far and pos + PREFETCH_DISTANCE < m:
            prefetch_outputs(X, y, sw, seq[pos + PREFETCH_DISTANCE])
        elif ahead > 0 and pos + ahead < m:
            prefetch_outputs(X, y, sw, seq[pos + ahead])
        eta = rate(sched, tf, epoch, sp)
        eta_sum += eta
        i = seq[pos]
        swi = float(sw[i])
        li = 0.0
        for k in range(n_out):
            if squared:
                r = float(grad[k, pred]) + (float(params[k, d]) - float(y[i, k]))
                li += 0.5 * r * r
                dl = clip_dloss(r)
            else:
                p = float(grad[k, pred]) + float(params[k, d])
                li += loss_value(loss, p, y[i, k], eps)
                dl = loss_derivative(loss, p, y[i, k], eps)
            grad[k, deriv] = dl * swi
        li *= inv_out
        if check and not math.isfinite(li) and row_is_bad(X, i, 0.0):
            stats[S_BAD_ROW] = i
            break
        done += 1
        loss_sum += swi * li
        w_sum += swi
        shrink = T(max(0.0, 1.0 - eta * a2lam))
        nxt = seq[pos + 1] if pos + 1 < m else i
        # outputs four (then two, then one) at a time: the row's values are
        # loaded once for all four, and four independent sums hide the
        # latency of the dot product's additions (100k x 100 float64, K = 10,
        # rows in order, best of 7: 27.4 ms an epoch one output at a time,
        # 23.6 four at a time)
        k = 0
        while k + 3 < n_out:
            g0 = float(grad[k, deriv])
            g1 = float(grad[k + 1, deriv])
            g2 = float(grad[k + 2, deriv])
            g3 = float(grad[k + 3, deriv])
            s0 = T(eta * g0)
            s1 = T(eta * g1)
            s2 = T(eta * g2)
            s3 = T(eta * g3)
            p0 = T(0.0)
            p1 = T(0.0)
            p2 = T(0.0)
            p3 = T(0.0)
            for j in range(d):
                xj = X[i, j]
                xn = X[nxt, j]
                w0 = W[k, j] * shrink - s0 * xj
                w1 = W[k + 1, j] * shrink - s1 * xj
                w2 = W[k + 2, j] * shrink - s2 * xj
                w3 = W[k + 3, j] * shrink - s3 * xj
                W[k, j] = w0
                W[k + 1, j] = w1
                W[k + 2, j] = w2
                W[k + 3, j] = w3
                p0 += xn * w0
                p1 += xn * w1
                p2 += xn * w2
                p3 += xn * w3
            grad[k, pred] = p0
            grad[k + 1, pred] = p1
            grad[k + 2, pred] = p2
            grad[k + 3, pred] = p3
            if fit_b:
                params[k, d] = T(params[k, d] - eta * g0)
                params[k + 1, d] = T(params[k + 1, d] - eta * g1)
                params[k + 2, d] = T(params[k + 2, d] - eta * g2)
                params[k + 3, d] = T(params[k + 3, d] - eta * g3)
            k += 4
        while k + 1 < n_out:
            g0 = float(grad[k, deriv])
            g1 = float(grad[k + 1, deriv])
            s0 = T(eta * g0)
            s1 = T(eta * g1)
            p0 = T(0.0)
            p1 = T(0.0)
            for j in range(d):
                xj = X[i, j]
                xn = X[nxt, j]
                w0 = W[k, j] * shrink - s0 * xj
                w1 = W[k + 1, j] * shrink - s1 * xj
                W[k, j] = w0
                W[k + 1, j] = w1
                p0 += xn * w0
                p1 += xn * w1
            grad[k, pred] = p0
            grad[k + 1, pred] = p1
            if fit_b:
                params[k, d] = T(params[k, d] - eta * g0)
                params[k + 1, d] = T(params[k + 1, d] - eta * g1)
            k += 2
        if k < n_out:
            gl = float(grad[k, deriv])
            stp = T(eta * gl)
            pn = T(0.0)
            for j in range(d):
                wj = W[k, j] * shrink - stp * X[i, j]
                W[k, j] = wj
                pn += X[nxt, j] * wj
            grad[k, pred] = pn
            if fit_b:
                params[k, d] = T(params[k, d] - eta * gl)
        if every > 0:
            r_acc += swi * li
            r_w += swi
            r_n += 1
            r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
    for k in range(n_out):
        for j in range(d):
            params[k, j] = W[k, j]
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t + done, done, eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_multi_example(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry,
    hp, codes, stats, rec,
):  # fmt: skip
    """K outputs, per example, any update rule and option."""
    m = order.shape[0]
    d = X.shape[1]
    n_out = y.shape[1]
    X, y, sw, grad = unowned(X), unowned(y), unowned(sw), unowned(grad)
    params, opt, avg, q = unowned(params), unowned(opt), unowned(avg), unowned(q)
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    ahead = stream_ahead(X, codes[C_SAMPLING], False)
    far = random_rows and ahead == 0
    deriv = d + 2
    inv_out = 1.0 / n_out
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    t = counters[0]
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    norm = -1.0
    for pos in range(m):
        t += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        if far and pos + PREFETCH_DISTANCE < m:
            prefetch_row(X, seq[pos + PREFETCH_DISTANCE])
        elif ahead > 0 and pos + ahead < m:
            prefetch_outputs(X, y, sw, seq[pos + ahead])
        i = seq[pos]
        xx = 0.0
        if pa:
            for j in range(d):
                xx += X[i, j] * X[i, j]
        swi = float(sw[i])
        li = 0.0
        for k in range(n_out):
            p = 0.0
            for j in range(d):
                p += X[i, j] * params[k, j]
            p += params[k, d]
            lk = loss_value(loss, p, y[i, k], eps)
            li += lk
            if pa:
                res = y[i, k] - p
                grad[k, deriv] = -pa_update(sched, lk, xx, eta0, res) * swi / eta
            else:
                grad[k, deriv] = loss_derivative(loss, p, y[i, k], eps) * swi
        li *= inv_out
        if check and not math.isfinite(li) and row_is_bad(X, i, 0.0):
            stats[S_BAD_ROW] = i
            t -= 1
            break
        loss_sum += swi * li
        w_sum += swi
        r_acc += swi * li
        r_w += swi
        norm = -1.0
        for k in range(n_out):
            gl = float(grad[k, deriv])
            nk = apply_step(
                params[k], X, i, gl, gl, opt[k], avg[k], q[k], cfg,
                float(t), eta, carry[k], False,
            )  # fmt: skip
            norm = max(norm, nk)
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
    stats[S_GRAD_NORM] = norm
    finish(counters, stats, t, t - counters[0], eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_multi_batch(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry,
    hp, codes, stats, rec,
):  # fmt: skip
    """K outputs, mini-batch and full batch, any update rule and option."""
    m = order.shape[0]
    d = X.shape[1]
    n_out = y.shape[1]
    X, y, sw, grad = unowned(X), unowned(y), unowned(sw), unowned(grad)
    params, opt, avg, q = unowned(params), unowned(opt), unowned(avg), unowned(q)
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    ahead = stream_ahead(X, codes[C_SAMPLING], False)
    far = random_rows and ahead == 0
    T = params.dtype.type
    inv_out = 1.0 / n_out
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
    norm = -1.0
    pos = np.int64(0)
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        steps += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        if far:
            for r in range(pos + PREFETCH_DISTANCE, min(end + PREFETCH_DISTANCE, m)):
                prefetch_row(X, seq[r])
        for k in range(n_out):
            for j in range(d + 1):
                grad[k, j] = 0.0
        bad = np.int64(-1)
        for r in range(pos, end):
            i = seq[r]
            if ahead > 0 and r + ahead < m:
                prefetch_outputs(X, y, sw, seq[r + ahead])
            xx = 0.0
            if pa:
                for j in range(d):
                    xx += X[i, j] * X[i, j]
            swi = float(sw[i])
            li = 0.0
            for k in range(n_out):
                p = 0.0
                for j in range(d):
                    p += X[i, j] * params[k, j]
                p += params[k, d]
                lk = loss_value(loss, p, y[i, k], eps)
                li += lk
                if pa:
                    res = y[i, k] - p
                    coef = -pa_update(sched, lk, xx, eta0, res) * swi / eta
                else:
                    coef = loss_derivative(loss, p, y[i, k], eps) * swi
                tc = T(coef)
                for j in range(d):
                    grad[k, j] += tc * X[i, j]
                grad[k, d] += coef
            li *= inv_out
            if check and not math.isfinite(li) and row_is_bad(X, i, 0.0):
                bad = i
                break
            loss_sum += swi * li
            w_sum += swi
            r_acc += swi * li
            r_w += swi
        if bad >= 0:
            stats[S_BAD_ROW] = bad
            t -= 1
            steps -= 1
            break
        inv = 1.0 / (end - pos)
        norm = -1.0
        for k in range(n_out):
            nk = apply_step(
                params[k], grad, k, inv, float(grad[k, d]) * inv, opt[k],
                avg[k], q[k], cfg, float(t), eta, carry[k], full,
            )  # fmt: skip
            norm = max(norm, nk)
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = norm
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_multi_csr(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """K outputs on CSR rows, any configuration.

    Every configuration, per example or per batch: the batch gradient is
    accumulated over the non-zeros, then each output takes the dense step
    dense input takes (O(K d) a step, not O(K nnz)), so CSR and dense input
    give the same model.
    """
    m = order.shape[0]
    d = params.shape[1] - 1
    n_out = y.shape[1]
    T = params.dtype.type
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
    inv_out = 1.0 / n_out
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    # gradients are added over the non-zeros and cleared after each step:
    # start from a clean scratch
    for k in range(n_out):
        for j in range(d + 1):
            grad[k, j] = 0.0
    t = counters[0]
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    steps = 0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    norm = -1.0
    pos = np.int64(0)
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        steps += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        for k in range(n_out):
            grad[k, d] = 0.0
        bad = np.int64(-1)
        for r in range(pos, end):
            i = seq[r]
            lo = indptr[i]
            hi = indptr[i + 1]
            xx = 0.0
            if pa:
                for e in range(lo, hi):
                    xx += float(data[e]) * data[e]
            swi = float(sw[i])
            li = 0.0
            for k in range(n_out):
                p = 0.0
                for e in range(lo, hi):
                    p += data[e] * params[k, indices[e]]
                p += params[k, d]
                lk = loss_value(loss, p, y[i, k], eps)
                li += lk
                if pa:
                    res = y[i, k] - p
                    coef = -pa_update(sched, lk, xx, eta0, res) * swi / eta
                else:
                    coef = loss_derivative(loss, p, y[i, k], eps) * swi
                for e in range(lo, hi):
                    grad[k, indices[e]] += T(coef * data[e])
                grad[k, d] += coef
            li *= inv_out
            if check and not math.isfinite(li):
                if csr_row_is_bad(data, lo, hi, 0.0):
                    bad = i
                    break
            loss_sum += swi * li
            w_sum += swi
            r_acc += swi * li
            r_w += swi
        if bad >= 0:
            stats[S_BAD_ROW] = bad
            t -= 1
            steps -= 1
            break
        inv = 1.0 / (end - pos)
        norm = -1.0
        for k in range(n_out):
            nk = apply_step(
                params[k], grad, k, inv, float(grad[k, d]) * inv, opt[k],
                avg[k], q[k], cfg, float(t), eta, carry[k], full,
            )  # fmt: skip
            norm = max(norm, nk)
        for r in range(pos, end):
            i = seq[r]
            for e in range(indptr[i], indptr[i + 1]):
                for k in range(n_out):
                    grad[k, indices[e]] = 0.0
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = norm
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)
