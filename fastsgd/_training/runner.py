"""Where an epoch is run: :class:`EpochRunner`, one compiled call per epoch.

The runner picks the compiled epoch for the options (``_kernels._select``),
allocates its scratch buffers once, and then each :meth:`EpochRunner.run` is
one call of the kernel over the training rows, returning the epoch's
statistics.  Nothing here decides anything about the run: the loop does.
"""

from __future__ import annotations

import os
import threading
import time
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._kernels import _codes as K
from .._kernels import _select
from .options import BLOCK_ROWS, KernelOptions

__all__ = [
    "EpochRunner",
    "EpochStats",
    "NonFiniteRow",
    "row_bytes",
    "steps_per_epoch",
    "take_rows",
    "threads_for",
]

# bytes of random rows copied at a time by a shuffled epoch
GATHER_BYTES = 64 * 1024
# ... and only from data larger than this: smaller data sits in the caches,
# where the copy is pure cost (measured, AMD EPYC, default fit, ns a row
# without/with the copy: 442 x 10 (diabetes) 23/33, 5000 x 10 25/34, 60000 x 4
# 23/34, 2500 x 100 49/70, 40000 x 10 (3 MiB) 32/34; from 4.6 MiB of 10
# features on, the copy wins: 40/126 at 60000 x 10)
GATHER_MIN_DATA_BYTES = 2 * 2**20
# ... and, for mini-batches, only rows up to this size (wider rows: no gain)
GATHER_MAX_BATCH_ROW_BYTES = 4096
# threads pay for themselves only on large batches: below this many rows per
# batch the parallel region's start-up costs more than it saves (measured on 2
# cores, 100 and 1000 features: 1.06-1.29x at 64 rows, 1.33-1.42x at 256,
# 1.8-2.0x from 1024 on; when the other core is busy, slower at any size)
PARALLEL_MIN_BATCH = 256
PARALLEL_MIN_ROWS_PER_THREAD = 128
# Numba's default "workqueue" threading layer aborts the process when two Python
# threads enter a parallel kernel at once: parallel epochs take turns
_PARALLEL_LOCK = threading.Lock()


class NonFiniteRow(Exception):
    """A checked epoch stopped at a row of X holding NaN or infinity.

    ``row`` is the row of the X the runner was given.
    """

    def __init__(self, row: int):
        super().__init__(row)
        self.row = row


class EpochStats(NamedTuple):
    """What one compiled epoch reports.

    Attributes
    ----------
    mean_loss : float
        Weighted mean loss of the rows as visited (each before its step).
    eta : float
        Mean learning rate of the epoch's steps.
    steps : int
        Steps taken in the epoch.
    grad_norm : float
        Norm of the last step's gradient (full batch: the full gradient).
    seconds : float
        Wall time of the compiled call.
    step_losses : ndarray or None
        Mean loss of every ``record_every`` steps (None when off).
    """

    mean_loss: float
    eta: float
    steps: int
    grad_norm: float
    seconds: float
    step_losses: np.ndarray | None


def steps_per_epoch(batch_size, rows: int) -> int:
    """Return the steps of an epoch over ``rows`` rows in batches of ``batch_size``."""
    batch = rows if batch_size == "full" else min(int(batch_size), rows)
    return -(-rows // batch)


def threads_for(n_jobs, batch: int, X=None) -> int:
    """Return the thread count for a batch gradient of ``batch`` rows (1: serial)."""
    if n_jobs is None or n_jobs == 1 or sp.issparse(X):
        return 1
    if batch < PARALLEL_MIN_BATCH:
        return 1
    wanted = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    import numba  # only for a threaded fit

    limit = min(numba.config.NUMBA_NUM_THREADS, batch // PARALLEL_MIN_ROWS_PER_THREAD)
    return max(1, min(wanted, limit))


class EpochRunner:
    """One compiled epoch per :meth:`run` over fixed training rows.

    Parameters
    ----------
    options : KernelOptions
        The epoch's options (see :class:`KernelOptions`).
    X : ndarray or scipy.sparse.csr_matrix
        Training data as the kernels take it (C order, or CSR with int32
        indices); read, never written.
    y, sw : ndarray
        Targets (n_samples,) or (n_samples, K) and sample weights, X's dtype.
    order : ndarray of int64
        The training rows; a shuffled epoch permutes it in place.
    state : TrainState
        The arrays the kernel updates in place.
    threads : int
        Threads for a mini-batch gradient (1: the serial kernels).
    check : bool
        Let the first epoch check the rows it reads for NaN and infinity (for
        X validated without scikit-learn's pass over it): it then stops at
        the first such row and :meth:`run` raises :class:`NonFiniteRow`.
    """

    def __init__(
        self, options: KernelOptions, X, y, sw, order, state, threads=1, check=False
    ):
        self._check = check
        codes, hp = options.arrays()
        m = order.shape[0]
        sparse = sp.issparse(X)
        # y of shape (n, K): the K-output kernels (_kernels/_multi.py)
        self._outputs = y.shape[1] if y.ndim == 2 else 1
        # per-example AdaGrad/RMSProp on CSR input at O(nnz) a step
        self.family = _select.family(
            codes, hp, m, sparse, threads, lazy_adaptive=True, outputs=self._outputs
        )
        sampling = codes[K.C_SAMPLING]
        iscratch = np.zeros(_iscratch_size(codes, m), dtype=np.int64)
        every = int(codes[K.C_RECORD_EVERY])
        batch = max(1, min(int(codes[K.C_BATCH]), m))
        self._rec = np.zeros(-(-m // batch) // every + 1 if every else 1)
        self._every = every
        self._stats = np.zeros(K.N_STATS, dtype=np.float64)
        grad = np.zeros(self._scratch_shape(X, sampling), dtype=X.dtype)
        ro = _select.readonly  # the kernels take the data as read-only views
        data = (ro(X.data), ro(X.indices), ro(X.indptr)) if sparse else (ro(X),)
        extra = ()
        if self.family == "parallel":
            extra = (
                np.zeros((threads, X.shape[1] + 1), dtype=X.dtype),
                np.zeros((threads, 4), dtype=np.float64),
            )
        self._codes, self._hp = codes, hp
        # read-only views: they see the per-epoch options written into the arrays
        self._args = (
            *data,
            ro(y),
            ro(sw),
            order,
            iscratch,
            state.params,
            state.opt,
            state.avg,
            state.q,
            grad,
            state.counters,
            state.carry,
            ro(hp),
            ro(codes),
            self._stats,
            self._rec,
            *extra,
        )
        # looked up on the module at each fit: a benchmark may wrap it
        fn = _select.compiled(_select.epoch_kernel(self.family), self._args)
        self._fn = _locked(fn) if self.family == "parallel" else fn

    def _scratch_shape(self, X, sampling):
        """Shape of the kernels' ``grad`` scratch.

        One row (the mini-batch gradient), or, for a shuffled epoch of the
        plain or mini-batch kernels, about ``GATHER_BYTES`` of rows with two
        spare columns: the kernel copies random rows (and their y and sample
        weight) there in chunks before stepping through them (see
        ``_rows.gather_rows``; a mini-batch keeps its gradient in row 0).
        Mini-batches of wide rows gain nothing from the copy (measured at 1000
        float64 features), so they skip it.
        """
        d = X.shape[1]
        rows = _select.scratch_rows(self.family)
        if self._outputs > 1:
            # see _kernels/_multi.py; "auto": each output's scratch of _auto
            return (self._outputs, rows, d + 1) if rows else (self._outputs, d + 3)
        if rows:  # the auto and O(nnz) adaptive families: their own scratch
            return (rows, d + 1)
        row_bytes = (d + 2) * X.dtype.itemsize
        family = self.family
        small = X.shape[0] * row_bytes <= GATHER_MIN_DATA_BYTES
        if (
            not small
            and sampling in (K.SAMPLE_SHUFFLE, K.SAMPLE_REPLACEMENT)
            and (
                family == "plain"
                or (family == "batch" and row_bytes <= GATHER_MAX_BATCH_ROW_BYTES)
            )
        ):
            return (max(3, GATHER_BYTES // row_bytes), d + 2)
        return (1, d + 1)

    def run(self, epoch: int, seed: int, eta: float) -> EpochStats:
        """Run the 0-based ``epoch`` of a run seeded ``seed`` at base rate ``eta``."""
        KernelOptions.start_epoch(self._codes, self._hp, epoch, seed, eta)
        stats = self._stats
        stats[:] = 0.0
        self._codes[K.C_CHECK] = self._check
        started = time.perf_counter()
        self._fn(*self._args)
        seconds = time.perf_counter() - started
        if self._check:
            self._check = False  # the first epoch read every row once
            self._codes[K.C_CHECK] = 0
            if stats[K.S_BAD_ROW] >= 0.0:
                raise NonFiniteRow(int(stats[K.S_BAD_ROW]))
        s = stats.tolist()  # Python floats: cheaper than NumPy scalars
        rec = self._rec[: int(s[K.S_NREC])].copy() if self._every else None
        return EpochStats(
            s[K.S_LOSS_SUM] / max(s[K.S_WEIGHT_SUM], 1e-300),
            s[K.S_ETA_SUM] / max(s[K.S_STEPS], 1.0),
            int(s[K.S_STEPS]),
            s[K.S_GRAD_NORM],
            seconds,
            rec,
        )


def row_bytes(X) -> float:
    """Return the mean bytes of a row of X (what one step reads from memory)."""
    n = max(X.shape[0], 1)
    if sp.issparse(X):
        per_entry = X.data.itemsize + X.indices.itemsize
        return (X.nnz * per_entry + X.indptr.nbytes) / n
    return float(X.shape[1] * X.dtype.itemsize)


def _iscratch_size(codes, m: int) -> int:
    """Return the int64 scratch the visiting order needs (see ``_rows``)."""
    sampling = codes[K.C_SAMPLING]
    if sampling == K.SAMPLE_STREAMS:
        size = int(codes[K.C_BLOCK])
        return m + -(-m // size) + 2 * int(codes[K.C_STREAMS])
    if sampling in (K.SAMPLE_BLOCKS, K.SAMPLE_REPLACEMENT):
        return m + m // BLOCK_ROWS + 1
    return 1


def _locked(fn):
    """Wrap a parallel kernel so concurrent Python threads take turns."""

    def call(*args):
        with _PARALLEL_LOCK:
            fn(*args)

    return call


def take_rows(X, rows):
    """Return ``X[rows]`` (``rows``: valid int64 row indices), dense in a kernel."""
    if sp.issparse(X):
        return X[rows]
    # loaded on first use: only sampling="blocks" needs it
    from .._kernels._take import take_rows as kernel

    out = np.empty((rows.shape[0], X.shape[1]), dtype=X.dtype)
    if not X.flags.c_contiguous:
        # Fortran-order or strided input is gathered straight into the working
        # copy, not converted to C order first (two copies of X); in slices,
        # because np.take buffers a whole output of another layout (a third)
        step = max(1, (1 << 20) // max(X.shape[1] * X.itemsize, 1))
        for lo in range(0, rows.shape[0], step):
            out[lo : lo + step] = X[rows[lo : lo + step]]
        return out
    args = (
        _select.readonly(X),
        _select.readonly(np.ascontiguousarray(rows, dtype=np.int64)),
        out,
    )
    _select.compiled(kernel, args)(*args)
    return out
