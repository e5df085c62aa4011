"""learning_rate="auto" for K targets: one epoch steps the K models on each row.

Output k's state is the single-target layout of ``_auto`` (``params[k]``,
``opt[k]``: its records, ``carry[k]``: its ``W`` and ``S``), and its step is
the single-target step on those views, in the same order of operations, so
each target's model is the one a single-target fit on the same rows gives (up
to where the compiler fuses a multiply-add: a float32 rounding apart).
The records' means and scales (and ``W`` and ``S``) depend on X alone and are
the same in every output's state; the accumulators, rates and steps are the
output's own.  The outputs share the visiting order and the step counter; the
loss sum is over rows of ``sw`` times the mean loss over the outputs (see
``_multi``).

Arguments as in ``_multi``, except ``grad``: ``(K, AUTO_SCRATCH_ROWS, d + 1)``,
each output's scratch of ``_auto``.

- :func:`epoch_multi_auto`: dense rows, per example or by mini-batches
  (``_auto.epoch_auto``);
- :func:`epoch_multi_auto_csr`: CSR rows per example at O(nnz) a step and
  output (``_auto.epoch_auto_csr``), without averaging;
- :func:`epoch_multi_auto_csr_batch`: CSR rows by mini-batches, or per example
  with averaging, O(d) a step and output (``_auto.epoch_auto_csr_batch``).
"""

from __future__ import annotations

import math

import numpy as np

from ._auto import (
    auto_update,
    catch_up,
    clear_rows,
    csr_auto_step,
    csr_clear,
    csr_prediction,
    csr_sums,
    dense_prediction,
    dense_sums,
    weights_into_records,
    weights_out_of_records,
)
from ._codes import (
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
from ._prefetch import PREFETCH_DISTANCE, prefetch_item, prefetch_row, prefetch_span
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

# rows in a block of the per-example CSR epoch (see epoch_multi_auto_csr)
MULTI_AUTO_BLOCK = 32768


@kernel(inline=True)
def outputs_step(params, opt, grad, carry, avg, q, hh, gams, nrows, eta, center,
                 sparse, cfg, t):  # fmt: skip
    """Take every output's "auto" step from its batch sums, then its averaging.

    ``_auto.auto_update`` on output k's views, with ``gams[k]`` its ``sum h g``;
    ``hh`` and ``nrows`` are the batch's, shared.
    """
    avg_code, avg_start, ema = cfg[4], cfg[5], cfg[13]
    for k in range(params.shape[0]):
        auto_update(params[k], opt[k], grad[k], carry[k], hh, gams[k], nrows, eta,
                    center, sparse, cfg)  # fmt: skip
        if avg_code != AVG_NONE:
            after_step(params[k], avg[k], q[k], carry[k], avg_code, avg_start, ema,
                       0.0, eta, t)  # fmt: skip


@kernel(entry=True)
def epoch_multi_auto(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry, hp,
    codes, stats, rec,
):  # fmt: skip
    """Run one "auto" epoch for K outputs over dense rows (per example or batches)."""
    m = order.shape[0]
    d = X.shape[1]
    n_out = y.shape[1]
    X, y, sw, grad = unowned(X), unowned(y), unowned(sw), unowned(grad)
    params, opt, avg, q = unowned(params), unowned(opt), unowned(avg), unowned(q)
    st = unowned(opt.reshape((n_out, opt.shape[1] * opt.shape[2])))
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    fit_b = cfg[0]
    T = params.dtype.type
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    inv_out = 1.0 / n_out
    # per output: the current row's h g, and the step's sum of them
    hgs = np.empty(n_out)
    gams = np.empty(n_out)
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
        for k in range(n_out):
            clear_rows(grad[k], d, False)
            gams[k] = 0.0
        hh = 0.0
        ls = 0.0
        ws = 0.0
        for r in range(pos, end):
            i = seq[r]
            if random_rows and r + PREFETCH_DISTANCE < m:
                prefetch_row(X, seq[r + PREFETCH_DISTANCE])
            swi = float(sw[i])
            li = 0.0
            for k in range(n_out):
                p = dense_prediction(X, i, params[k])
                li += loss_value(loss, p, y[i, k], eps)
                hgs[k] = swi * loss_derivative(loss, p, y[i, k], eps)
            li *= inv_out
            if check and not math.isfinite(li) and row_is_bad(X, i, 0.0):
                stats[S_BAD_ROW] = i
                break
            ls += swi * li
            ws += swi
            for k in range(n_out):
                dense_sums(X, i, st[k], grad[k], T(hgs[k]), T(swi))
                gams[k] += hgs[k]
            hh += swi
        if stats[S_BAD_ROW] >= 0.0:
            t -= 1  # the step is not taken: the fit stops with an error
            break
        steps += 1
        eta_sum += eta
        loss_sum += ls
        w_sum += ws
        r_acc += ls
        r_w += ws
        outputs_step(params, opt, grad, carry, avg, q, hh, gams, end - pos, eta,
                     fit_b, False, cfg, t)  # fmt: skip
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_multi_auto_csr_batch(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """Run one "auto" epoch for K outputs over CSR rows by mini-batches: O(d K) a step.

    Also the per-example CSR epoch with averaging.  No centering.
    """
    m = order.shape[0]
    n_out = y.shape[1]
    d = params.shape[1] - 1
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
    T = params.dtype.type
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    inv_out = 1.0 / n_out
    hgs = np.empty(n_out)
    gams = np.empty(n_out)
    for k in range(n_out):
        clear_rows(grad[k], d, True)
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
        for k in range(n_out):
            gams[k] = 0.0
        hh = 0.0
        ls = 0.0
        ws = 0.0
        for r in range(pos, end):
            i = seq[r]
            lo = indptr[i]
            hi = indptr[i + 1]
            swi = float(sw[i])
            li = 0.0
            for k in range(n_out):
                p = csr_prediction(data, indices, lo, hi, params[k])
                li += loss_value(loss, p, y[i, k], eps)
                hgs[k] = swi * loss_derivative(loss, p, y[i, k], eps)
            li *= inv_out
            if check and not math.isfinite(li) and csr_row_is_bad(data, lo, hi, 0.0):
                stats[S_BAD_ROW] = i
                break
            ls += swi * li
            ws += swi
            for k in range(n_out):
                csr_sums(data, indices, lo, hi, grad[k], T(hgs[k]), T(swi))
                gams[k] += hgs[k]
            hh += swi
        if stats[S_BAD_ROW] >= 0.0:
            t -= 1  # the step is not taken: the fit stops with an error
            break
        steps += 1
        eta_sum += eta
        loss_sum += ls
        w_sum += ws
        r_acc += ls
        r_w += ws
        outputs_step(params, opt, grad, carry, avg, q, hh, gams, end - pos, eta,
                     False, True, cfg, t)  # fmt: skip
        for k in range(n_out):
            csr_clear(indices, indptr, seq, pos, end, grad[k])
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_multi_auto_csr(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """Run one per-example "auto" epoch for K outputs over CSR rows: O(nnz K) a step.

    ``_auto.epoch_auto_csr`` for each output in turn over blocks of
    ``MULTI_AUTO_BLOCK`` rows (see the loop): while the epoch runs, output k's
    weights live in its records and its scratch is ``grad[k]`` (clock, room
    for the row, the saved ``mu`` slots).  A bad row (``C_CHECK``) is found
    before any output steps on its block, so every output stops there.  No
    averaging (the estimator routes averaged runs to
    :func:`epoch_multi_auto_csr_batch`).
    """
    m = order.shape[0]
    n_out = y.shape[1]
    d = params.shape[1] - 1
    data, indices, indptr = unowned(data), unowned(indices), unowned(indptr)
    y, sw, grad = unowned(y), unowned(sw), unowned(grad)
    params, opt = unowned(params), unowned(opt)
    rcs = unowned(opt.reshape((n_out, d + 1, AUTO_SLOTS)))
    st = unowned(opt.reshape((n_out, (d + 1) * AUTO_SLOTS)))
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
    lossopt = (loss, eps, fit_b)
    penopt = (pen, a2, a1, lam)
    T = params.dtype.type
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    inv_out = 1.0 / n_out
    lazy = not pen and indices.shape[0] < d
    # per output: intercept, epoch clock, W and S (in registers in _auto)
    sc = np.empty((n_out, 4))
    for k in range(n_out):
        weights_into_records(params[k], rcs[k], grad[k, 4], indices, d, lazy)
        if pen:
            for j in range(d):
                grad[k, 0, j] = 0.0
        sc[k, 0] = float(params[k, d])
        sc[k, 1] = 0.0
        sc[k, 2] = carry[k, K_AUTO_W]
        sc[k, 3] = carry[k, K_AUTO_S]
    t0 = counters[0]
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    # the rows in blocks, each output in turn over a block: K outputs' records
    # at once outgrow the caches on wide data, one output's stay in them for
    # a block's steps (hashed text, 2^18 columns, K = 3, 3 epochs: a row at a
    # time 4.1 s, blocks of 1024 rows 3.3 s, 32768 rows 2.7 s; three
    # single-target fits 2.5-3.2 s).  Each output takes its steps in the same
    # order as row by row, so the models are the same.
    losses = np.zeros(min(m, MULTI_AUTO_BLOCK))
    stop = m
    for start in range(0, m, MULTI_AUTO_BLOCK):
        end = min(start + MULTI_AUTO_BLOCK, m)
        if check:
            # the first bad row: no output steps on it, nor after it
            for pos in range(start, end):
                i = seq[pos]
                if csr_row_is_bad(data, indptr[i], indptr[i + 1], 0.0):
                    stats[S_BAD_ROW] = i
                    end = pos
                    stop = pos
                    break
        for pos in range(start, end):
            losses[pos - start] = 0.0
        for k in range(n_out):
            b, clock, w_tot, s_tot = sc[k, 0], sc[k, 1], sc[k, 2], sc[k, 3]
            for pos in range(start, end):
                if random_rows:
                    # as epoch_csr_lazy: the row pointer first, then the row
                    if pos + 2 * PREFETCH_DISTANCE < end:
                        prefetch_item(indptr, seq[pos + 2 * PREFETCH_DISTANCE])
                    if pos + PREFETCH_DISTANCE < end:
                        ahead = seq[pos + PREFETCH_DISTANCE]
                        prefetch_span(data, indptr[ahead], indptr[ahead + 1])
                        prefetch_span(indices, indptr[ahead], indptr[ahead + 1])
                        prefetch_row(y, ahead)
                        prefetch_item(sw, ahead)
                i = seq[pos]
                lo = indptr[i]
                hi = indptr[i + 1]
                eta = rate(sched, float(t0 + pos + 1), epoch, sp)
                lk, b, clock, w_tot, s_tot = csr_auto_step(
                    data[lo:hi], indices[lo:hi], y[i, k], float(sw[i]), rcs[k],
                    st[k], grad[k, 0], grad[k, 1:4], b, clock, w_tot, s_tot, eta,
                    lossopt, penopt,
                )  # fmt: skip
                losses[pos - start] += lk
            sc[k, 0], sc[k, 1], sc[k, 2], sc[k, 3] = b, clock, w_tot, s_tot
        for pos in range(start, end):
            swi = float(sw[seq[pos]])
            li = losses[pos - start] * inv_out
            eta_sum += rate(sched, float(t0 + pos + 1), epoch, sp)
            loss_sum += swi * li
            w_sum += swi
            r_acc += swi * li
            r_w += swi
            r_n += 1
            r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        if stop < m:
            break
    t = t0 + stop
    if stop > 0:
        eta = rate(sched, float(t), epoch, sp)
    for k in range(n_out):
        if pen:
            catch_up(rcs[k], st[k], grad[k, 0], sc[k, 1], penopt)
        weights_out_of_records(params[k], rcs[k], grad[k, 4], indices, d, lazy)
        params[k, d] = T(sc[k, 0])
        carry[k, K_AUTO_W] = sc[k, 2]
        carry[k, K_AUTO_S] = sc[k, 3]
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, stop, eta_sum, eta, loss_sum, w_sum)
