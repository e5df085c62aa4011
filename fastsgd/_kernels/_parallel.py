"""Mini-batch epochs whose batch gradient is split over several threads.

Only :func:`threaded_gradient` is compiled with ``parallel=True``: Numba's
parallel passes analyse every loop of the function they compile, and the
epoch around it compiled in 13 s (one dtype) when it was parallel as a whole.
Each batch is cut into ``n_threads`` contiguous slices; thread ``k``
accumulates its slice's gradient into ``gbuf[k]`` and its loss sums into
``lbuf[k]``; the slices are then added in a fixed order, so a given thread
count always gives the same model.  The optimizer step itself stays serial
(it is O(n_features) against O(batch x n_features) for the gradient).  The
thread count is the first dimension of ``gbuf`` (calling
``numba.get_num_threads()`` inside a kernel would tie its compiled code to
the thread count of one process).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from ._codes import C_CHECK, C_SAMPLING, S_BAD_ROW, S_GRAD_NORM
from ._jit import kernel
from ._prefetch import PREFETCH_DISTANCE, prefetch_row
from ._rows import (
    accumulate_rows,
    epoch_options,
    finish,
    record,
    stream_ahead,
    visit_sequence,
)
from ._schedule import rate, schedule_params
from ._step import apply_step, step_config

# Start Numba's threading layer now.  The epoch below is not itself parallel,
# so when it is loaded from the cache nothing else starts it, and its machine
# code (which holds threaded_gradient's) would not link ("Symbol not found:
# allocate_sched").  This module is imported only when a fit threads.
numba.get_num_threads()


@kernel
def slice_gradient(X, y, sw, seq, lo, hi, params, gbuf, k, lbuf, opts):
    """Thread ``k``'s share of a batch: rows ``seq[lo:hi]`` into ``gbuf[k]``.

    One call per thread slice, not inlined: numba's parfor lowering trips over
    names repeated by inlined bodies inside ``prange``.
    """
    loss, eps, pa, sched, eta0, eta, prefetch, ahead, check = opts
    for j in range(X.shape[1]):
        gbuf[k, j] = 0.0
    ls = 0.0
    ws = 0.0
    gb = 0.0
    bad = np.int64(-1)
    if lo < hi:
        if prefetch:
            for r in range(lo, min(lo + PREFETCH_DISTANCE, hi)):
                prefetch_row(X, seq[r])
        ls, ws, gb, bad = accumulate_rows(
            X, y, sw, seq, lo, hi, params, gbuf, k, (loss, eps, pa, sched, eta0),
            eta, np.int64(-1), ahead, check,
        )  # fmt: skip
    lbuf[k, 0] = ls
    lbuf[k, 1] = ws
    lbuf[k, 2] = gb
    lbuf[k, 3] = bad


@kernel(parallel=True)
def threaded_gradient(X, y, sw, seq, pos, end, params, gbuf, lbuf, opts):
    """Rows ``seq[pos:end]`` cut into one slice per row of ``gbuf``, in threads."""
    n_threads = gbuf.shape[0]
    chunk = (end - pos + n_threads - 1) // n_threads
    for k in prange(n_threads):
        lo = pos + k * chunk
        slice_gradient(
            X, y, sw, seq, lo, min(lo + chunk, end), params, gbuf, k, lbuf, opts
        )


@kernel(entry=True)
def epoch_dense_parallel(
    X, y, sw, order, iscratch, params, opt, avg, q, grad, counters, carry,
    hp, codes, stats, rec, gbuf, lbuf,
):  # fmt: skip
    """Run one mini-batch epoch over dense rows with a threaded gradient.

    Same arguments as the other epochs plus ``gbuf`` (n_threads, d + 1) and
    ``lbuf`` (n_threads, 4) float64 scratch.
    """
    m = order.shape[0]
    d = X.shape[1]
    n_threads = gbuf.shape[0]
    seq = visit_sequence(order, iscratch, codes)
    (batch, loss, sched, epoch, every, eps, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    ahead = stream_ahead(X, codes[C_SAMPLING], False)
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
        nb = end - pos
        opts = (
            loss, eps, pa, sched, eta0, eta, random_rows and ahead == 0, ahead,
            check,
        )  # fmt: skip
        threaded_gradient(X, y, sw, seq, pos, end, params, gbuf, lbuf, opts)
        bad = -1.0
        for k in range(n_threads):
            if bad < 0.0 and lbuf[k, 3] >= 0.0:
                bad = lbuf[k, 3]
        if bad >= 0.0:
            stats[S_BAD_ROW] = bad
            t -= 1
            steps -= 1
            break
        gb = 0.0
        for k in range(n_threads):
            loss_sum += lbuf[k, 0]
            w_sum += lbuf[k, 1]
            r_acc += lbuf[k, 0]
            r_w += lbuf[k, 1]
            gb += lbuf[k, 2]
        for j in range(d):
            acc = gbuf[0, j]
            for k in range(1, n_threads):
                acc += gbuf[k, j]
            grad[0, j] = acc
        inv = 1.0 / nb
        norm = apply_step(
            params, grad, np.int64(0), inv, gb * inv, opt, avg, q, cfg,
            float(t), eta, carry, full,
        )  # fmt: skip
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        pos = end
    stats[S_GRAD_NORM] = norm
    finish(counters, stats, t, steps, eta_sum, eta, loss_sum, w_sum)
