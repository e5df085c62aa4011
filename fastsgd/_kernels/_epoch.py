"""One whole training epoch per compiled call, for dense and CSR input.

Arguments (every array validated by the Python layer before the call):

- ``X`` (dense, C-contiguous, read-only is fine) or ``data, indices, indptr``
  (CSR); ``y`` and ``sw`` (sample weights) of length n_rows, same dtype as X.
- ``order`` (int64): the training rows to visit; ``iscratch`` (int64): room for
  the visiting sequence when sampling with replacement or by blocks.
- ``params`` (d + 1, the intercept last), ``opt`` (n_slots, d + 1), ``avg``
  (d + 1), ``q`` (d, cumulative L1), ``grad`` (1, d + 1: mini-batch scratch), all
  in X's dtype; ``counters`` (int64: steps done so far), ``carry`` (float64),
  ``hp`` (float64 hyper-parameters), ``codes`` (int64 option codes), ``stats``
  (float64, written) and ``rec`` (float64, sampled per-step losses, written).

The epoch visits ``order`` in batches of ``codes[C_BATCH]`` rows.  A batch of
one row takes the fused per-example step; a larger batch accumulates the mean
gradient into ``grad`` and then takes one step over the parameters.  Nothing
is allocated inside the epoch.
"""

from __future__ import annotations

import numpy as np
from numba import types

from ._codes import (
    AVG_EMA,
    AVG_NONE,
    AVG_POLYAK,
    C_BATCH,
    C_BLOCK,
    C_EPOCH,
    C_LOSS,
    C_RECORD_EVERY,
    C_SAMPLING,
    C_SCHEDULE,
    C_SEED,
    H_EPSILON,
    H_ETA0,
    K_L1_U,
    LOSS_SQUARED,
    LR_PA1,
    LR_PA2,
    OPT_SGD,
    S_ETA_LAST,
    S_ETA_SUM,
    S_GRAD_NORM,
    S_LOSS_SUM,
    S_NREC,
    S_STEPS,
    S_WEIGHT_SUM,
    SAMPLE_BLOCKS,
    SAMPLE_INORDER,
    SAMPLE_REPLACEMENT,
    SAMPLE_SHUFFLE,
)
from ._jit import kernel
from ._losses import clip_dloss, loss_derivative, loss_value
from ._prefetch import (
    GATHER_AHEAD,
    PREFETCH_DISTANCE,
    STREAM_AHEAD_BYTES,
    STREAM_ROW_BYTES,
    prefetch_item,
    prefetch_row,
    prefetch_span,
)
from ._rng import below, permute
from ._schedule import rate, schedule_params
from ._unowned import unowned
from ._update import apply_step, step_config

# the CSR lazy path folds its weight scale into the weights below these: the
# average's representation (avg + aa v) / ab cancels digits in proportion to
# 1 / scale, so the error is about eps / fold (float32 with 1e-9: 237% on an
# audit's case with weight decay; 1e-2 gives 6e-7; float64 1e-6 gives 1e-10)
FOLD_F64 = 1e-6
FOLD_F32 = 1e-2


def _array(dtype, ndim, readonly=False):
    return types.Array(dtype, ndim, "C", readonly=readonly)


def _signatures(sparse):
    sigs = []
    i64 = _array(types.int64, 1)
    f64 = _array(types.float64, 1)
    for t in (types.float32, types.float64):
        if sparse:
            data = (
                _array(t, 1, True),
                _array(types.int32, 1, True),
                _array(types.int32, 1, True),
            )
        else:
            data = (_array(t, 2, True),)
        sigs.append(
            types.void(
                *data,
                _array(t, 1, True),  # y
                _array(t, 1, True),  # sw
                i64,  # order
                i64,  # iscratch
                _array(t, 1),  # params
                _array(t, 2),  # opt
                _array(t, 1),  # avg
                _array(t, 1),  # q
                _array(t, 2),  # grad (1, d + 1)
                i64,  # counters
                f64,  # carry
                _array(types.float64, 1, True),  # hp
                _array(types.int64, 1, True),  # codes
                f64,  # stats
                f64,  # rec
            )
        )
    return sigs


@kernel
def visit_sequence(order, iscratch, codes):
    """Return the array whose first ``len(order)`` entries are this epoch's rows."""
    m = order.shape[0]
    sampling = codes[C_SAMPLING]
    seed = codes[C_SEED]
    if sampling == SAMPLE_SHUFFLE:
        permute(order, seed)
        return order
    if sampling == SAMPLE_REPLACEMENT:
        state = np.uint64(seed)
        for k in range(m):
            state, r = below(state, m)
            iscratch[k] = order[r]
        return iscratch
    if sampling == SAMPLE_BLOCKS:
        size = codes[C_BLOCK]
        nb = (m + size - 1) // size
        blocks = iscratch[m : m + nb]
        for b in range(nb):
            blocks[b] = b
        permute(blocks, seed)
        k = 0
        for b in range(nb):
            start = blocks[b] * size
            stop = min(start + size, m)
            for r in range(start, stop):
                iscratch[k] = order[r]
                k += 1
        return iscratch
    return order


@kernel(inline="always")
def epoch_options(codes, hp, m):
    """Return the epoch's options as scalars, read once (see ``step_config``).

    ``(batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows)``:
    ``pa`` tells a passive-aggressive schedule, ``full`` a batch covering the
    epoch, ``random_rows`` rows the hardware prefetcher cannot predict (blocks
    jump every block).
    """
    batch = max(codes[C_BATCH], 1)
    sched = codes[C_SCHEDULE]
    return (
        batch,
        codes[C_LOSS],
        sched,
        codes[C_EPOCH],
        codes[C_RECORD_EVERY],
        hp[H_EPSILON],
        sched == LR_PA1 or sched == LR_PA2,
        batch >= m,
        hp[H_ETA0],
        codes[C_SAMPLING] != SAMPLE_INORDER,
    )


@kernel(inline="always")
def stream_ahead(X, sampling, chunked):
    """Return how many rows ahead to prefetch rows read in sequence (0: none).

    Rows read in order, or in order within blocks, are prefetched
    ``STREAM_AHEAD_BYTES`` ahead when a row is at most ``STREAM_ROW_BYTES``:
    there the hardware prefetcher alone falls behind a step that is short
    (measured here, in-order epochs of 100 float64 features: 8 -> 4 ms per 100k
    rows, per example and per mini-batch alike).  Longer rows keep it busy on
    its own (1000 float64 features: 10-20% slower with the hint).  Random rows
    are prefetched by the gather or the batch loop instead.
    """
    row_bytes = X.shape[1] * X.itemsize
    if (
        chunked
        or sampling == SAMPLE_SHUFFLE
        or sampling == SAMPLE_REPLACEMENT
        or row_bytes > STREAM_ROW_BYTES
    ):
        return 0
    return max(1, STREAM_AHEAD_BYTES // row_bytes)


@kernel(inline="always")
def _pa_update(sched, loss, xx, eta0, residual):
    """Return the passive-aggressive step along x (Crammer et al. 2006).

    PA-I: ``min(C, loss / |x|^2)``; PA-II: ``loss / (|x|^2 + 1 / (2 C))``, with
    ``C = eta0``, signed by the residual ``y - p``.
    """
    if sched == LR_PA1:
        upd = min(eta0, loss / xx) if xx > 0.0 else 0.0
    else:
        upd = loss / (xx + 0.5 / eta0)
    return -upd if residual < 0.0 else upd


@kernel(inline="always")
def accumulate_rows(
    X,
    y,
    sw,
    seq,
    lo,
    hi,
    params,
    G,
    row,
    lossopt,
    eta,
    first,
    ahead,
    stop,
):
    """Add the loss gradients of rows ``seq[lo:hi]`` into ``G[row, :d]``.

    ``lossopt`` is ``(loss, eps, pa, sched, eta0)`` from ``epoch_options``.

    Row ``seq[r]`` is read from ``X[seq[r]]``, or, with ``first >= 0``, from a
    copy at ``X[first + r - lo]`` (see ``gather_rows``); its target and weight
    always from ``y`` and ``sw``.  With ``ahead > 0`` row ``seq[r + ahead]`` is
    prefetched while row ``seq[r]`` is read, as long as ``r + ahead < stop``
    (see ``stream_ahead``).  Returns ``(sum sw * loss, sum sw, sum sw *
    dloss)`` (the last is the intercept's gradient).  Predictions use
    ``params`` before the step.
    """
    loss, eps, pa, sched, eta0 = lossopt
    d = params.shape[0] - 1
    loss_sum = 0.0
    w_sum = 0.0
    gb = 0.0
    for r in range(lo, hi):
        i = seq[r]
        k = i if first < 0 else first + r - lo
        if ahead > 0 and r + ahead < stop:
            prefetch_row(X, seq[r + ahead])
        p = 0.0
        for j in range(d):
            p += X[k, j] * params[j]
        p += params[d]
        swi = float(sw[i])
        li = loss_value(loss, p, y[i], eps)
        loss_sum += swi * li
        w_sum += swi
        if pa:
            xx = 0.0
            for j in range(d):
                xx += X[k, j] * X[k, j]
            coef = -_pa_update(sched, li, xx, eta0, y[i] - p) * swi / eta
        else:
            coef = loss_derivative(loss, p, y[i], eps) * swi
        tc = G.dtype.type(coef)
        for j in range(d):
            G[row, j] += tc * X[k, j]
        gb += coef
    return loss_sum, w_sum, gb


@kernel(inline="always")
def gathering(grad, d, random_rows, codes):
    """Tell whether the epoch reads its random rows through ``grad``.

    The Python layer gives ``grad`` more than one row, and room for ``y`` and
    ``sw`` after the features, when it wants this (a shuffled epoch); blocks
    of rows are contiguous already.
    """
    return (
        random_rows
        and codes[C_SAMPLING] != SAMPLE_BLOCKS
        and grad.shape[0] > 1
        and grad.shape[1] >= d + 2
    )


@kernel(inline="always")
def copy_row(X, seq, r, out, k):
    """Copy row ``seq[r]`` of X into ``out[k, :d]``; return ``seq[r]``.

    Prefetches the row ``GATHER_AHEAD`` positions further along ``seq``: in a
    copy loop nothing waits on the copied values, so many rows are fetched
    from memory at once.
    """
    if r + GATHER_AHEAD < seq.shape[0]:
        prefetch_row(X, seq[r + GATHER_AHEAD])
    i = seq[r]
    for j in range(X.shape[1]):
        out[k, j] = X[i, j]
    return i


@kernel(inline="always")
def gather_rows(X, y, sw, seq, lo, hi, buf, first):
    """Copy rows ``seq[lo:hi]`` of X, y and sw into ``buf[first:first + hi - lo]``.

    Row r goes to ``buf[first + r - lo, :d]``, its target to ``buf[., d]`` and
    its weight to ``buf[., d + 1]``.  The SGD steps that follow then read a
    small block that stays in cache.  Measured on 100k random rows: 10.6 ->
    9.0 ms at 100 features, 8.9 -> 6.9 ms at 1000.
    """
    d = X.shape[1]
    m = seq.shape[0]
    for r in range(lo, hi):
        k = first + r - lo
        i = copy_row(X, seq, r, buf, k)
        if r + GATHER_AHEAD < m:
            prefetch_item(y, seq[r + GATHER_AHEAD])
            prefetch_item(sw, seq[r + GATHER_AHEAD])
        buf[k, d] = y[i]
        buf[k, d + 1] = sw[i]


@kernel(inline="always")
def _record(rec, stats, every, acc, wsum, count):
    """Store the mean loss of the last ``every`` steps when due; return counters."""
    if every > 0 and count >= every:
        k = int(stats[S_NREC])
        if k < rec.shape[0]:
            rec[k] = acc / wsum if wsum > 0.0 else np.nan
            stats[S_NREC] = k + 1
        return 0.0, 0.0, 0
    return acc, wsum, count


@kernel(inline="always")
def _finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum):
    counters[0] = t
    stats[S_STEPS] += steps
    stats[S_ETA_SUM] += eta_sum
    stats[S_ETA_LAST] = eta
    stats[S_LOSS_SUM] += loss_sum
    stats[S_WEIGHT_SUM] += w_sum


@kernel(_signatures(sparse=False))
def epoch_dense(
    X,
    y,
    sw,
    order,
    iscratch,
    params,
    opt,
    avg,
    q,
    grad,
    counters,
    carry,
    hp,
    codes,
    stats,
    rec,
):
    """Run one epoch over dense rows (see the module docstring)."""
    m = order.shape[0]
    d = X.shape[1]
    # the step loop works on views without reference counts (see _unowned)
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
    w = params[:d]
    # random rows go through `grad` in chunks (see `gather_rows`)
    chunked = gathering(grad, d, random_rows, codes)
    ahead = stream_ahead(X, codes[C_SAMPLING], chunked)

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
    pos = 0
    fit_b, a2, a1, opt_code, avg_code = cfg[0], cfg[1], cfg[2], cfg[3], cfg[4]
    plain = (
        batch == 1
        and not full
        and not pa
        and opt_code == OPT_SGD
        and avg_code == AVG_NONE
        and a1 == 0.0
        and cfg[6] <= 0.0
    )
    if plain:
        # the hot path (scikit-learn's default configuration): per-example SGD
        # with the L2 shrink and nothing else, in one tight loop
        T = params.dtype.type
        a2lam = a2 + cfg[7]
        # the intercept and the step counter live in registers: reading them
        # back from memory every step measurably slowed the loop
        b = params[d]
        tf = float(t)
        squared = loss == LOSS_SQUARED
        size = grad.shape[0] if chunked else m
        for lo in range(0, m, size):
            hi = min(lo + size, m)
            if chunked:
                gather_rows(X, y, sw, seq, lo, hi, grad, 0)
                src = grad
                i = 0
            else:
                src = X
                i = seq[lo]
            # a row's dot product with w is summed in the loop that updates w
            # for the row before it: one pass over w per step instead of two,
            # and no separate dot-product loop on the path from one step to
            # the next (100 float64 features: ~10% faster per epoch, 1000
            # features from cache: ~20%).  Here the first row's.
            pn = T(0.0)
            for j in range(d):
                pn += src[i, j] * w[j]
            for pos in range(lo, hi):
                tf += 1.0
                if ahead > 0 and pos + ahead < m:
                    prefetch_row(X, seq[pos + ahead])
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
                    r_acc, r_w, r_n = _record(rec, stats, every, r_acc, r_w, r_n)
        params[d] = b
        t += m
        steps = m
        pos = m
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        steps += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        if random_rows and not chunked and ahead == 0:
            for r in range(pos + PREFETCH_DISTANCE, min(end + PREFETCH_DISTANCE, m)):
                prefetch_row(X, seq[r])
        if end - pos == 1 and not full:
            i = seq[pos]
            if ahead > 0 and pos + ahead < m:
                prefetch_row(X, seq[pos + ahead])
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
            loss_sum += swi * li
            w_sum += swi
            r_acc += swi * li
            r_w += swi
            if pa:
                gl = -_pa_update(sched, li, xx, eta0, y[i] - p) * swi / eta
            else:
                gl = loss_derivative(loss, p, y[i], eps) * swi
            norm = apply_step(
                params,
                X,
                i,
                gl,
                gl,
                opt,
                avg,
                q,
                cfg,
                float(t),
                eta,
                carry,
                False,
            )
        else:
            for j in range(d):
                grad[0, j] = 0.0
            if chunked:
                # random rows through grad[1:] in chunks (see gather_rows)
                size = grad.shape[0] - 1
                ls = 0.0
                ws = 0.0
                gb = 0.0
                for lo in range(pos, end, size):
                    hi = min(lo + size, end)
                    gather_rows(X, y, sw, seq, lo, hi, grad, 1)
                    a, c, e = accumulate_rows(
                        grad,
                        y,
                        sw,
                        seq,
                        lo,
                        hi,
                        params,
                        grad,
                        0,
                        lossopt,
                        eta,
                        1,
                        0,
                        0,
                    )
                    ls += a
                    ws += c
                    gb += e
            else:
                ls, ws, gb = accumulate_rows(
                    X,
                    y,
                    sw,
                    seq,
                    pos,
                    end,
                    params,
                    grad,
                    0,
                    lossopt,
                    eta,
                    -1,
                    ahead,
                    m,
                )
            loss_sum += ls
            w_sum += ws
            r_acc += ls
            r_w += ws
            inv = 1.0 / (end - pos)
            norm = apply_step(
                params,
                grad,
                0,
                inv,
                gb * inv,
                opt,
                avg,
                q,
                cfg,
                float(t),
                eta,
                carry,
                full,
            )
        r_n += 1
        r_acc, r_w, r_n = _record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = norm
    _finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)


@kernel(inline="always")
def _csr_dot(data, indices, lo, hi, v):
    acc = 0.0
    for k in range(lo, hi):
        acc += data[k] * v[indices[k]]
    return acc


@kernel(inline="always")
def _truncate_lazy(v, q, avg, ws, aa, u, j, polyak):
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


@kernel(_signatures(sparse=True))
def epoch_csr(
    data,
    indices,
    indptr,
    y,
    sw,
    order,
    iscratch,
    params,
    opt,
    avg,
    q,
    grad,
    counters,
    carry,
    hp,
    codes,
    stats,
    rec,
):
    """Run one epoch over CSR rows (see the module docstring).

    Plain per-example SGD (no clipping, no EMA) costs O(nnz) per step: the L2
    shrink lives in a scalar weight scale and Polyak averaging in scalar
    accumulators (Bottou's trick, as scikit-learn's WeightVector), and the
    cumulative L1 truncation reaches a feature when a row uses it: before the
    row's dot product, after its step, and for every feature at the end of the
    epoch (scikit-learn's sparse SGD only truncates after the step, so its
    model differs from its dense one).  Without averaging or a shrink (an L2
    part or weight decay) this gives the dense model; with them, a truncation
    a feature has not caught up on yet is missing from the shrink and the
    average.  Every other
    configuration accumulates the batch gradient over the non-zeros and takes
    the same dense step as dense input, so both inputs give the same model.
    """
    m = order.shape[0]
    d = params.shape[0] - 1
    T = params.dtype.type
    # the step loop works on views without reference counts (see _unowned)
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
    fit_b, a2, a1, opt_code, avg_code, start, clip, lam = cfg[:8]
    lazy = (
        batch == 1
        and not full
        and opt_code == OPT_SGD
        and avg_code != AVG_EMA
        and clip <= 0.0
    )
    v = params[:d]
    polyak = avg_code == AVG_POLYAK
    # the batched path adds into `grad` over the non-zeros and clears them after
    # each step: start from a clean scratch whatever a dense epoch left there
    for j in range(d + 1):
        grad[0, j] = 0.0
    # weight scale and averaging accumulators: w = ws * v, avg = (aw + aa * v) / ab
    ws = 1.0
    aa = 0.0
    ab = 1.0
    # the lazy path keeps the intercept in a register (as the dense hot loop)
    b = params[d]
    fold_at = FOLD_F64 if params.itemsize == 8 else FOLD_F32

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
    pos = 0
    while pos < m:
        end = min(pos + batch, m)
        t += 1
        steps += 1
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        if lazy:
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
                    _truncate_lazy(v, q, avg, ws, aa, u, indices[k], polyak)
            p = ws * _csr_dot(data, indices, lo, hi, v) + b
            swi = float(sw[i])
            li = loss_value(loss, p, y[i], eps)
            loss_sum += swi * li
            w_sum += swi
            r_acc += swi * li
            r_w += swi
            if pa:
                xx = 0.0
                for k in range(lo, hi):
                    xx += float(data[k]) * data[k]
                upd = _pa_update(sched, li, xx, eta0, y[i] - p) * swi
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
            c = upd / ws
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
                    _truncate_lazy(v, q, avg, ws, aa, u, indices[k], do_avg)
        else:
            gb = 0.0
            for r in range(pos, end):
                i = seq[r]
                lo = indptr[i]
                hi = indptr[i + 1]
                p = _csr_dot(data, indices, lo, hi, v) + params[d]
                swi = float(sw[i])
                li = loss_value(loss, p, y[i], eps)
                loss_sum += swi * li
                w_sum += swi
                r_acc += swi * li
                r_w += swi
                if pa:
                    xx = 0.0
                    for k in range(lo, hi):
                        xx += float(data[k]) * data[k]
                    coef = -_pa_update(sched, li, xx, eta0, y[i] - p) * swi / eta
                else:
                    coef = loss_derivative(loss, p, y[i], eps) * swi
                for k in range(lo, hi):
                    grad[0, indices[k]] += T(coef * data[k])
                gb += coef
            inv = 1.0 / (end - pos)
            norm = apply_step(
                params,
                grad,
                0,
                inv,
                gb * inv,
                opt,
                avg,
                q,
                cfg,
                float(t),
                eta,
                carry,
                full,
            )
            for r in range(pos, end):
                i = seq[r]
                for k in range(indptr[i], indptr[i + 1]):
                    grad[0, indices[k]] = 0.0
        r_n += 1
        r_acc, r_w, r_n = _record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    if lazy:
        params[d] = b
        if a1 > 0.0:
            u = carry[K_L1_U]
            for j in range(d):
                _truncate_lazy(v, q, avg, ws, aa, u, j, polyak)
        if polyak:
            for j in range(d):
                avg[j] = (avg[j] + aa * v[j]) / ab
        if ws != 1.0:
            for j in range(d):
                v[j] = v[j] * ws
    stats[S_GRAD_NORM] = norm
    _finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)
