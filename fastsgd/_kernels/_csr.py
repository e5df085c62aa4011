"""Epochs over CSR rows: the O(nnz) per-example kernel and the batched family.

Arguments: see ``_rows``, with ``data, indices, indptr`` in place of X.

- :func:`epoch_csr_lazy`: plain per-example SGD (no clipping, no EMA) at
  O(nnz) per step: the L2 shrink lives in a scalar weight scale and Polyak
  averaging in scalar accumulators (Bottou's trick, as scikit-learn's
  WeightVector), and the cumulative L1 truncation reaches a feature when a row
  uses it: before the row's dot product, after its step, and for every feature
  at the end of the epoch (scikit-learn's sparse SGD only truncates after the
  step, so its model differs from its dense one).  Without averaging or a
  shrink (an L2 part or weight decay) this gives the dense model; with them, a
  truncation a feature has not caught up on yet is missing from the shrink and
  the average.
- :func:`epoch_csr_batch`: every other configuration accumulates the batch gradient
  over the non-zeros and takes the same dense step as dense input, so both
  inputs give the same model; every update rule in one kernel.
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import AVG_POLYAK, C_CHECK, K_L1_U, S_BAD_ROW, S_GRAD_NORM
from ._jit import kernel
from ._losses import loss_derivative, loss_value
from ._prefetch import PREFETCH_DISTANCE, prefetch_item, prefetch_span
from ._rows import (
    csr_row_is_bad,
    epoch_options,
    finish,
    pa_update,
    record,
    visit_sequence,
)
from ._schedule import rate, schedule_params
from ._step import apply_step, step_config
from ._unowned import unowned

# the lazy path folds its weight scale into the weights below these: the
# average's representation (avg + aa v) / ab cancels digits in proportion to
# 1 / scale, so the error is about eps / fold (float32 with 1e-9: 237% on an
# audit's case with weight decay; 1e-2 gives 6e-7; float64 1e-6 gives 1e-10)
FOLD_F64 = 1e-6
FOLD_F32 = 1e-2


@kernel(inline=True)
def csr_dot(data, indices, lo, hi, v):
    """Return the dot product of the CSR row ``data[lo:hi]`` with ``v``.

    Four running sums: one would chain every product's addition onto the
    last, and that chain is the per-example step's critical path (the next
    row's dot waits for this row's update).  100k x 1000 CSR, 20 non-zeros a
    row, 5-epoch default fits alternated (AMD EPYC family 25 model 17), with
    the division below: 57-60 -> 50-54 ms, in order 50 -> 44 ms.
    """
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    k = lo
    while k + 3 < hi:
        s0 += data[k] * v[indices[k]]
        s1 += data[k + 1] * v[indices[k + 1]]
        s2 += data[k + 2] * v[indices[k + 2]]
        s3 += data[k + 3] * v[indices[k + 3]]
        k += 4
    while k < hi:
        s0 += data[k] * v[indices[k]]
        k += 1
    return (s0 + s1) + (s2 + s3)


@kernel(inline=True)
def truncate_lazy(v, q, avg, ws, aa, u, j, polyak):
    """Bring feature ``j`` of ``w = ws * v`` to the cumulative L1 penalty ``u``.

    scikit-learn's ``l1penalty`` in the scaled representation.  Applying it
    again with the same or a larger ``u`` gives what applying it at every step
    in between would have (without a gradient on ``j``), so a feature can lag
    until a row uses it.  With Polyak averaging the truncation must not move
    the running average ``(avg + aa * v) / ab``.
    """
    z = v[j]
    if ws * z > 0.0:
        v[j] = max(0.0, z - (u + q[j]) / ws)
    elif ws * z < 0.0:
        v[j] = min(0.0, z + (u - q[j]) / ws)
    q[j] += ws * (v[j] - z)
    if polyak:
        avg[j] -= avg.dtype.type(aa * (v[j] - z))


@kernel(entry=True)
def epoch_csr_lazy(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """Run one epoch of per-example SGD over CSR rows at O(nnz) a step."""
    m = order.shape[0]
    d = params.shape[0] - 1
    T = params.dtype.type
    # the step loop works on views without reference counts (see _unowned)
    data, indices, indptr = unowned(data), unowned(indices), unowned(indptr)
    y, sw = unowned(y), unowned(sw)
    params, avg, q = unowned(params), unowned(avg), unowned(q)
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    fit_b, a2, a1, opt_code, avg_code, start, clip, lam = cfg[:8]
    v = params[:d]
    polyak = avg_code == AVG_POLYAK
    # weight scale and averaging accumulators: w = ws * v, avg = (aw + aa * v) / ab
    ws = 1.0
    aa = 0.0
    ab = 1.0
    # the intercept lives in a register (as in the dense hot loop)
    b = params[d]
    fold_at = FOLD_F64 if params.itemsize == 8 else FOLD_F32
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
    for pos in range(m):
        t += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        if random_rows:
            # the row pointer first, further ahead: the row's address needs it
            if pos + 2 * PREFETCH_DISTANCE < m:
                prefetch_item(indptr, seq[pos + 2 * PREFETCH_DISTANCE])
            if pos + PREFETCH_DISTANCE < m:
                ahead = seq[pos + PREFETCH_DISTANCE]
                a_lo = indptr[ahead]
                a_hi = indptr[ahead + 1]
                prefetch_span(data, a_lo, a_hi)
                prefetch_span(indices, a_lo, a_hi)
                prefetch_item(y, ahead)
                prefetch_item(sw, ahead)
        i = seq[pos]
        lo = indptr[i]
        hi = indptr[i + 1]
        if a1 > 0.0:
            # the row's features catch up on the truncation they missed
            u = carry[K_L1_U]
            for k in range(lo, hi):
                truncate_lazy(v, q, avg, ws, aa, u, indices[k], polyak)
        p = ws * csr_dot(data, indices, lo, hi, v) + b
        swi = float(sw[i])
        li = loss_value(loss, p, y[i], eps)
        if check and not math.isfinite(li) and csr_row_is_bad(data, lo, hi, y[i]):
            stats[S_BAD_ROW] = i
            t -= 1
            break
        loss_sum += swi * li
        w_sum += swi
        r_acc += swi * li
        r_w += swi
        if pa:
            xx = 0.0
            for k in range(lo, hi):
                xx += float(data[k]) * data[k]
            upd = pa_update(sched, li, xx, eta0, y[i] - p) * swi
        else:
            upd = -eta * loss_derivative(loss, p, y[i], eps) * swi
        shrink = max(0.0, 1.0 - eta * (a2 + lam))
        ws *= shrink
        if ws < fold_at:
            # fold the scale into v (and the average's representation)
            if polyak:
                for j in range(d):
                    avg[j] = (avg[j] + aa * v[j]) / ab
                aa = 0.0
                ab = 1.0
            for j in range(d):
                v[j] = v[j] * ws
            ws = 1.0
        # divide by the scale off the critical path (ws does not wait for the dot)
        inv_ws = 1.0 / ws
        c = upd * inv_ws
        for k in range(lo, hi):
            v[indices[k]] += T(c * data[k])
        if fit_b:
            b = T(b + upd)
        do_avg = False
        if polyak:
            kk = float(t) - start + 1.0
            if kk >= 1.0:
                do_avg = True
                mu = 1.0 / kk
                if kk == 1.0:
                    # the first averaged step: the average restarts at w
                    for j in range(d):
                        avg[j] = 0.0
                    aa = 0.0
                    ab = 1.0
                ca = -aa * c
                for k in range(lo, hi):
                    avg[indices[k]] += T(ca * data[k])
                if kk > 1.0:
                    ab /= 1.0 - mu
                aa += mu * ab * ws
                avg[d] += (b - avg[d]) * mu
        if a1 > 0.0:
            carry[K_L1_U] += a1 * eta
            u = carry[K_L1_U]
            for k in range(lo, hi):
                truncate_lazy(v, q, avg, ws, aa, u, indices[k], do_avg)
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
    params[d] = b
    if a1 > 0.0:
        u = carry[K_L1_U]
        for j in range(d):
            truncate_lazy(v, q, avg, ws, aa, u, j, polyak)
    if polyak:
        for j in range(d):
            avg[j] = (avg[j] + aa * v[j]) / ab
    if ws != 1.0:
        for j in range(d):
            v[j] = v[j] * ws
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, t - counters[0], eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_csr_batch(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """Every other CSR configuration: batch gradients over the non-zeros."""
    m = order.shape[0]
    d = params.shape[0] - 1
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
    v = params[:d]
    row0 = np.int64(0)  # an int64, not a literal (see _dense.epoch_dense_batch)
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    # gradients are added over the non-zeros and cleared after each step:
    # start from a clean scratch whatever a dense epoch left there
    for j in range(d + 1):
        grad[0, j] = 0.0
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
    pos = np.int64(0)  # not a literal: see row0 in _dense.epoch_dense_batch
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        steps += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        gb = 0.0
        for r in range(pos, end):
            i = seq[r]
            lo = indptr[i]
            hi = indptr[i + 1]
            p = csr_dot(data, indices, lo, hi, v) + params[d]
            swi = float(sw[i])
            li = loss_value(loss, p, y[i], eps)
            if check and not math.isfinite(li):
                if csr_row_is_bad(data, lo, hi, y[i]):
                    stats[S_BAD_ROW] = i
                    break
            loss_sum += swi * li
            w_sum += swi
            r_acc += swi * li
            r_w += swi
            if pa:
                xx = 0.0
                for k in range(lo, hi):
                    xx += float(data[k]) * data[k]
                coef = -pa_update(sched, li, xx, eta0, y[i] - p) * swi / eta
            else:
                coef = loss_derivative(loss, p, y[i], eps) * swi
            for k in range(lo, hi):
                grad[0, indices[k]] += T(coef * data[k])
            gb += coef
        if stats[S_BAD_ROW] >= 0.0:
            t -= 1
            steps -= 1
            break
        inv = 1.0 / (end - pos)
        norm = apply_step(
            params, grad, row0, inv, gb * inv, opt, avg, q, cfg,
            float(t), eta, carry, full,
        )  # fmt: skip
        for r in range(pos, end):
            i = seq[r]
            for k in range(indptr[i], indptr[i + 1]):
                grad[0, indices[k]] = 0.0
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = norm
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)
