"""What every epoch kernel shares: the visiting order, prefetch and row sums.

Every epoch kernel takes the same arguments (each array validated by the
Python layer before the call):

- ``X`` (dense, C-contiguous, read-only) or ``data, indices, indptr`` (CSR);
  ``y`` and ``sw`` (sample weights) of length n_rows, same dtype as X.
- ``order`` (int64): the training rows to visit; ``iscratch`` (int64): room for
  the visiting sequence when sampling with replacement or by blocks.
- ``params`` (d + 1, the intercept last), ``opt`` (n_slots, d + 1), ``avg``
  (d + 1), ``q`` (d, cumulative L1), ``grad`` (rows, d + 1 or d + 2: the
  mini-batch gradient in row 0, and room for gathered rows), all in X's dtype;
  ``counters`` (int64: steps done so far), ``carry`` (float64), ``hp``
  (float64 hyper-parameters), ``codes`` (int64 option codes), ``stats``
  (float64, written) and ``rec`` (float64, sampled per-step losses, written).

Helpers here are either small and inlined into the step loops (``inline``:
Numba copies them into each caller) or compiled once and called (the rest):
copying big helpers into every caller made the old monolithic epoch take
12 s to compile per dtype, most of it in Numba's front end.
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import (
    C_BATCH,
    C_BLOCK,
    C_EPOCH,
    C_LOSS,
    C_RECORD_EVERY,
    C_SAMPLING,
    C_SCHEDULE,
    C_SEED,
    C_STREAMS,
    H_EPSILON,
    H_ETA0,
    LR_PA1,
    LR_PA2,
    S_ETA_LAST,
    S_ETA_SUM,
    S_LOSS_SUM,
    S_NREC,
    S_STEPS,
    S_WEIGHT_SUM,
    SAMPLE_BLOCKS,
    SAMPLE_INORDER,
    SAMPLE_REPLACEMENT,
    SAMPLE_SHUFFLE,
    SAMPLE_STREAMS,
)
from ._jit import kernel
from ._losses import loss_derivative, loss_value
from ._prefetch import (
    GATHER_AHEAD,
    STREAM_AHEAD_BYTES,
    STREAM_ROW_BYTES,
    STREAMS_AHEAD_BYTES,
    STREAMS_AHEAD_ROWS,
    prefetch_item,
    prefetch_row,
)
from ._rng import below, permute


@kernel
def visit_sequence(order, iscratch, codes):
    """Return the array whose first ``len(order)`` entries are this epoch's rows."""
    m = order.shape[0]
    sampling = codes[C_SAMPLING]
    seed = codes[C_SEED]
    if sampling == SAMPLE_STREAMS:
        stream_sequence(order, iscratch, codes[C_BLOCK], codes[C_STREAMS], seed)
        return iscratch
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


@kernel
def stream_sequence(order, out, size, streams, seed):
    """Write an interleaving of sequential streams over random segments to ``out``.

    ``order`` is cut into segments of ``size`` consecutive entries (the last
    may be shorter), the segments are shuffled, and stream ``s`` takes
    segments ``s, s + streams, s + 2 streams, ...`` of the shuffled list,
    reading each in order.  The sequence takes one row from each stream in
    turn (a finished stream drops out), so consecutive steps come from
    ``streams`` unrelated parts of the data while memory is read as
    ``streams`` sequential streams, which the hardware and software
    prefetchers follow (a full permutation makes every row a new DRAM page).
    Every row appears exactly once.  ``out`` needs ``len(order)`` entries, then
    room for the segment list and ``2 * streams`` cursors.

    The turns are written in runs: until one of the live streams reaches the
    end of its segment, every turn takes the next row of each, so a run of
    turns is a plain double loop; only between runs do streams move to their
    next segment or drop out (the live ones stay in stream order).  Writing
    one turn at a time, with each stream's segment checked after every row,
    took 3.7 ns a row (100k rows, 16 streams of 32) out of a ~55 ns step.
    """
    m = order.shape[0]
    nseg = (m + size - 1) // size
    segs = out[m : m + nseg]
    for g in range(nseg):
        segs[g] = g
    permute(segs, seed)
    # the live streams, in stream order: the index of the current segment in
    # `segs`, and the position reached in the rows
    cur = out[m + nseg : m + nseg + streams]
    at = out[m + nseg + streams : m + nseg + 2 * streams]
    live = min(streams, nseg)
    for s in range(live):
        cur[s] = s
        at[s] = segs[s] * size
    k = 0
    while live > 0:
        run = m
        for s in range(live):
            end = min(segs[cur[s]] * size + size, m)
            run = min(run, end - at[s])
        for r in range(run):
            for s in range(live):
                out[k] = order[at[s] + r]
                k += 1
        kept = 0
        for s in range(live):
            g = cur[s]
            pos = at[s] + run
            if pos >= min(segs[g] * size + size, m):
                g += streams
                if g >= nseg:
                    continue  # the stream has read all its segments
                pos = segs[g] * size
            cur[kept] = g
            at[kept] = pos
            kept += 1
        live = kept


@kernel(inline=True)
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


@kernel(inline=True)
def stream_ahead(X, sampling, chunked):
    """Return how many rows ahead to prefetch rows read in sequence (0: none).

    Rows read in order or in order within blocks are prefetched
    ``STREAM_AHEAD_BYTES`` ahead when a row is at most ``STREAM_ROW_BYTES``:
    there the hardware prefetcher alone falls behind a step that is short
    (measured here, in-order epochs of 100 float64 features: 8 -> 4 ms per 100k
    rows, per example and per mini-batch alike).  Longer rows in order keep it
    busy on its own (1000 float64 features: 10-20% slower with the hint).
    Interleaved streams (the default order) are prefetched
    ``STREAMS_AHEAD_BYTES`` and at least ``STREAMS_AHEAD_ROWS`` rows ahead,
    however long the rows.  Random rows are prefetched by the gather or the
    batch loop instead.
    """
    row_bytes = X.shape[1] * X.itemsize
    if chunked or sampling == SAMPLE_SHUFFLE or sampling == SAMPLE_REPLACEMENT:
        return 0
    if sampling == SAMPLE_STREAMS:
        return max(STREAMS_AHEAD_ROWS, STREAMS_AHEAD_BYTES // row_bytes)
    if row_bytes > STREAM_ROW_BYTES:
        return 0
    return max(1, STREAM_AHEAD_BYTES // row_bytes)


@kernel
def pa_update(sched, loss, xx, eta0, residual):
    """Return the passive-aggressive step along x (Crammer et al. 2006).

    PA-I: ``min(C, loss / |x|^2)``; PA-II: ``loss / (|x|^2 + 1 / (2 C))``, with
    ``C = eta0``, signed by the residual ``y - p``.
    """
    if sched == LR_PA1:
        upd = min(eta0, loss / xx) if xx > 0.0 else 0.0
    else:
        upd = loss / (xx + 0.5 / eta0)
    return -upd if residual < 0.0 else upd


@kernel(inline=True)
def row_is_bad(X, k, target):
    """Tell whether row ``k`` of X, or its ``target``, holds NaN or infinity."""
    if not math.isfinite(target):
        return True
    for j in range(X.shape[1]):
        if not math.isfinite(X[k, j]):
            return True
    return False


@kernel(inline=True)
def csr_row_is_bad(data, lo, hi, target):
    """Tell whether the CSR row ``data[lo:hi]``, or its ``target``, is not finite."""
    if not math.isfinite(target):
        return True
    for k in range(lo, hi):
        if not math.isfinite(data[k]):
            return True
    return False


@kernel(inline=True)
def prefetch_example(X, y, sw, i):
    """Prefetch row ``i`` of X (into L2) and its target and weight (into L1).

    The default order reads ``streams`` sequential streams at once: X's rows
    are prefetched ahead, and without the hint every stream's next line of
    ``y`` and of ``sw`` was a cache miss too (the hardware prefetcher does not
    follow that many streams).  100k x 100 float64, default order, per
    example: X read at 52-60% of the NumPy-sum rate without, 68-72% with.
    """
    prefetch_row(X, i)
    prefetch_item(y, i)
    prefetch_item(sw, i)


@kernel
def accumulate_rows(
    X, y, sw, seq, lo, hi, params, G, row, lossopt, eta, first, ahead, check
):
    """Add the loss gradients of rows ``seq[lo:hi]`` into ``G[row, :d]``.

    ``lossopt`` is ``(loss, eps, pa, sched, eta0)`` from ``epoch_options``.

    Row ``seq[r]`` is read from ``X[seq[r]]``, or, with ``first >= 0``, from a
    copy at ``X[first + r - lo]`` (see ``gather_rows``); its target and weight
    always from ``y`` and ``sw``.  With ``ahead > 0`` row ``seq[r + ahead]`` is
    prefetched while row ``seq[r]`` is read, as long as it is in ``seq``
    (see ``stream_ahead``).  Returns ``(sum sw * loss, sum sw, sum sw *
    dloss, bad)`` (the third is the intercept's gradient); with ``check``,
    ``bad`` is the first row holding NaN or infinity (the sums then stop
    there), else -1.  Predictions use ``params`` before the step.
    """
    loss, eps, pa, sched, eta0 = lossopt
    d = params.shape[0] - 1
    stop = seq.shape[0]
    loss_sum = 0.0
    w_sum = 0.0
    gb = 0.0
    for r in range(lo, hi):
        i = seq[r]
        k = i if first < 0 else first + r - lo
        if ahead > 0 and r + ahead < stop:
            prefetch_example(X, y, sw, seq[r + ahead])
        p = 0.0
        for j in range(d):
            p += X[k, j] * params[j]
        p += params[d]
        swi = float(sw[i])
        li = loss_value(loss, p, y[i], eps)
        if check and not math.isfinite(li) and row_is_bad(X, k, y[i]):
            return loss_sum, w_sum, gb, i
        loss_sum += swi * li
        w_sum += swi
        if pa:
            xx = 0.0
            for j in range(d):
                xx += X[k, j] * X[k, j]
            coef = -pa_update(sched, li, xx, eta0, y[i] - p) * swi / eta
        else:
            coef = loss_derivative(loss, p, y[i], eps) * swi
        tc = G.dtype.type(coef)
        for j in range(d):
            G[row, j] += tc * X[k, j]
        gb += coef
    return loss_sum, w_sum, gb, np.int64(-1)


@kernel(inline=True)
def gathering(grad, d, random_rows, codes):
    """Tell whether the epoch reads its random rows through ``grad``.

    The Python layer gives ``grad`` more than one row, and room for ``y`` and
    ``sw`` after the features, when it wants this (a shuffled epoch); blocks
    of rows are contiguous already.
    """
    sampling = codes[C_SAMPLING]
    return (
        random_rows
        and sampling != SAMPLE_BLOCKS
        and sampling != SAMPLE_STREAMS
        and grad.shape[0] > 1
        and grad.shape[1] >= d + 2
    )


@kernel(inline=True)
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


@kernel
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


@kernel(inline=True)
def record(rec, stats, every, acc, wsum, count):
    """Store the mean loss of the last ``every`` steps when due; return counters."""
    if every > 0 and count >= every:
        k = int(stats[S_NREC])
        if k < rec.shape[0]:
            rec[k] = acc / wsum if wsum > 0.0 else np.nan
            stats[S_NREC] = k + 1
        return 0.0, 0.0, 0
    return acc, wsum, count


@kernel(inline=True)
def finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum):
    """Write the epoch's step counter and sums."""
    counters[0] = t
    stats[S_STEPS] += steps
    stats[S_ETA_SUM] += eta_sum
    stats[S_ETA_LAST] = eta
    stats[S_LOSS_SUM] += loss_sum
    stats[S_WEIGHT_SUM] += w_sum
