"""Epochs over dense rows: one small kernel per family of configurations.

- :func:`epoch_plain`: per-example SGD with an L2 shrink (and decoupled decay)
  and nothing else, any loss and schedule: scikit-learn's default, the hot
  path.  Compiling it compiles nothing else.
- :func:`epoch_dense_example`: per-example steps with an optimizer,
  averaging, L1, clipping or passive-aggressive steps.
- :func:`epoch_dense_batch`: mini-batch and full-batch steps.

Each of the last two holds every update rule and picks one per step from the
codes (``_step.apply_step``): the rules are a small part of an epoch's code,
and compiling an epoch's skeleton once per rule cost four times the compile
time of one kernel holding all of them (see ``_select``).  Arguments: see
``_rows``.
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
from ._prefetch import PREFETCH_DISTANCE, prefetch_row
from ._rows import (
    accumulate_rows,
    epoch_options,
    finish,
    gather_rows,
    gathering,
    pa_update,
    prefetch_example,
    record,
    row_is_bad,
    stream_ahead,
    visit_sequence,
)
from ._schedule import rate, schedule_params
from ._step import apply_step, step_config
from ._unowned import unowned


@kernel(entry=True)
def epoch_plain(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry, hp,
    codes, stats, rec,
):  # fmt: skip
    """Run one epoch of plain per-example SGD over dense rows.

    The configuration (see ``_select.family``): one row per step, plain SGD,
    no averaging, no L1, no clipping, no passive-aggressive step.  ``opt``,
    ``avg`` and ``q`` are not used.
    """
    m = order.shape[0]
    d = X.shape[1]
    # the step loop works on views without reference counts (see _unowned)
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
    w = params[:d]
    # random rows go through `grad` in chunks (see `gather_rows`)
    chunked = gathering(grad, d, random_rows, codes)
    ahead = stream_ahead(X, codes[C_SAMPLING], chunked)
    T = params.dtype.type
    NO = np.int64(0)  # an int64, not a literal (see epoch_dense_batch)
    # the intercept and the step counter live in registers: reading them
    # back from memory every step measurably slowed the loop
    b = params[d]
    t = counters[0]
    tf = float(t)
    squared = loss == LOSS_SQUARED
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    done = 0
    size = grad.shape[0] if chunked else m
    for lo in range(0, m, size):
        hi = min(lo + size, m)
        if chunked:
            gather_rows(X, y, sw, seq, lo, hi, grad, NO)
            src = grad
            i = 0
        else:
            src = X
            i = seq[lo]
        # a row's dot product with w is summed in the loop that updates w for
        # the row before it: one pass over w per step instead of two, and no
        # separate dot-product loop on the path from one step to the next (100
        # float64 features: ~10% faster per epoch, 1000 features from cache:
        # ~20%).  Here the first row's.
        pn = T(0.0)
        for j in range(d):
            pn += src[i, j] * w[j]
        for pos in range(lo, hi):
            tf += 1.0
            if ahead > 0 and pos + ahead < m:
                prefetch_example(X, y, sw, seq[pos + ahead])
            eta = rate(sched, tf, epoch, sp)
            eta_sum += eta
            if chunked:
                i = pos - lo
                yi = grad[i, d]
                swi = float(grad[i, d + 1])
            else:
                i = seq[pos]
                yi = y[i]
                swi = float(sw[i])
            if squared:
                dl = pn + (float(b) - float(yi))
                li = 0.5 * dl * dl
                dl = clip_dloss(dl)  # as loss_derivative does
            else:
                p = pn + b
                li = loss_value(loss, p, yi, eps)
                dl = loss_derivative(loss, p, yi, eps)
            if check and not math.isfinite(li) and row_is_bad(src, i, yi):
                stats[S_BAD_ROW] = seq[pos]
                break
            done += 1
            loss_sum += swi * li
            w_sum += swi
            gl = dl * swi
            shrink = T(max(0.0, 1.0 - eta * a2lam))
            stp = T((eta * swi) * dl)
            if pos + 1 < hi:
                nxt = pos + 1 - lo if chunked else seq[pos + 1]
                pn = T(0.0)
                for j in range(d):
                    wj = w[j] * shrink - stp * src[i, j]
                    w[j] = wj
                    pn += src[nxt, j] * wj
            else:
                for j in range(d):
                    w[j] = w[j] * shrink - stp * src[i, j]
            if fit_b:
                b = T(b - eta * gl)
            if every > 0:
                r_acc += swi * li
                r_w += swi
                r_n += 1
                r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        if stats[S_BAD_ROW] >= 0.0:
            break
    params[d] = b
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t + done, done, eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_dense_example(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry,
    hp, codes, stats, rec,
):  # fmt: skip
    """Per-example steps with any optimizer, averaging, L1, clipping or PA steps."""
    m = order.shape[0]
    d = X.shape[1]
    X, y, sw = unowned(X), unowned(y), unowned(sw)
    params, opt, avg, q = unowned(params), unowned(opt), unowned(avg), unowned(q)
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    w = params[:d]
    ahead = stream_ahead(X, codes[C_SAMPLING], False)
    far = random_rows and ahead == 0
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
            prefetch_example(X, y, sw, seq[pos + ahead])
        i = seq[pos]
        p = 0.0
        xx = 0.0
        if pa:
            for j in range(d):
                p += X[i, j] * w[j]
                xx += X[i, j] * X[i, j]
        else:
            for j in range(d):
                p += X[i, j] * w[j]
        p += params[d]
        swi = float(sw[i])
        li = loss_value(loss, p, y[i], eps)
        if check and not math.isfinite(li) and row_is_bad(X, i, y[i]):
            stats[S_BAD_ROW] = i
            t -= 1
            break
        loss_sum += swi * li
        w_sum += swi
        r_acc += swi * li
        r_w += swi
        if pa:
            gl = -pa_update(sched, li, xx, eta0, y[i] - p) * swi / eta
        else:
            gl = loss_derivative(loss, p, y[i], eps) * swi
        norm = apply_step(
            params, X, i, gl, gl, opt, avg, q, cfg, float(t), eta,
            carry, False,
        )  # fmt: skip
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
    stats[S_GRAD_NORM] = norm
    finish(counters, stats, t, t - counters[0], eta_sum, eta, loss_sum, w_sum)


@kernel(entry=True)
def epoch_dense_batch(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry,
    hp, codes, stats, rec,
):  # fmt: skip
    """Mini-batch and full-batch steps with any optimizer and option."""
    m = order.shape[0]
    d = X.shape[1]
    X, y, sw, grad = unowned(X), unowned(y), unowned(sw), unowned(grad)
    params, opt, avg, q = unowned(params), unowned(opt), unowned(avg), unowned(q)
    carry, stats, rec = unowned(carry), unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    lossopt = (loss, eps, pa, sched, eta0)
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    # random rows go through grad[1:] in chunks (see `gather_rows`)
    chunked = gathering(grad, d, random_rows, codes)
    ahead = stream_ahead(X, codes[C_SAMPLING], chunked)
    far = random_rows and not chunked and ahead == 0
    # integers passed to compiled helpers as int64, not as literals:
    # Numba would compile a helper once per literal value
    row0, first = np.int64(0), np.int64(1 if chunked else -1)
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
    pos = np.int64(0)  # not a literal: see row0 in _dense.epoch_dense_batch
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        steps += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        if far:
            for r in range(pos + PREFETCH_DISTANCE, min(end + PREFETCH_DISTANCE, m)):
                prefetch_row(X, seq[r])
        for j in range(d):
            grad[0, j] = 0.0
        if chunked:
            size = grad.shape[0] - 1
            ls = 0.0
            ws = 0.0
            gb = 0.0
            bad = np.int64(-1)
            for lo in range(pos, end, size):
                hi = min(lo + size, end)
                gather_rows(X, y, sw, seq, lo, hi, grad, first)
                a, c, e, bad = accumulate_rows(
                    grad, y, sw, seq, lo, hi, params, grad, row0, lossopt, eta,
                    first, row0, check,
                )  # fmt: skip
                ls += a
                ws += c
                gb += e
                if bad >= 0:
                    break
        else:
            ls, ws, gb, bad = accumulate_rows(
                X, y, sw, seq, pos, end, params, grad, row0, lossopt, eta, first,
                ahead, check,
            )  # fmt: skip
        if bad >= 0:
            stats[S_BAD_ROW] = bad
            t -= 1
            steps -= 1
            break
        loss_sum += ls
        w_sum += ws
        r_acc += ls
        r_w += ws
        inv = 1.0 / (end - pos)
        norm = apply_step(
            params, grad, row0, inv, gb * inv, opt, avg, q, cfg,
            float(t), eta, carry, full,
        )  # fmt: skip
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = norm
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)
