"""Which compiled epoch a configuration runs; compiled on first use, once.

Importing this module loads no compiler: :func:`family` is plain Python over
the option codes, and :func:`epoch_kernel` imports a family's module (and
Numba) the first time one of its kernels is needed.

Families (the key is the family's name):

=================  =======================================================
``plain``          dense, per example, plain SGD with an L2 shrink only:
                   scikit-learn's default configuration
``example``        dense, per example, any other optimizer or option
``batch``          dense, mini-batch or full batch
``parallel``       dense, mini-batch with a threaded gradient (``n_jobs``)
``csr_lazy``       CSR, per-example plain SGD at O(nnz) a step
``csr_batch``      CSR, everything else
``multi_plain``    K >= 2 targets (``_multi``): dense, per example, plain SGD
``multi_example``  K targets, dense, per example, any other option
``multi_batch``    K targets, dense, mini-batch or full batch
``multi_csr``      K targets, CSR, every configuration
``csr_adaptive``   CSR, per-example AdaGrad/RMSProp at O(nnz) a step (no
                   L1, averaging or clipping), when the caller asks for it
                   (``lazy_adaptive=True``: it needs ``scratch_rows`` rows)
``auto``           dense, ``learning_rate="auto"``, per example or batches
``auto_csr``       CSR, ``learning_rate="auto"``, per example at O(nnz)
``auto_csr_batch`` CSR, ``learning_rate="auto"``, batches (or averaging)
``multi_auto*``    K targets, ``learning_rate="auto"``: the three above for
                   K models at once (``_multi_auto``)
=================  =======================================================

Every family but ``plain`` and ``csr_lazy`` holds every update rule and picks
one per step from the codes.  One kernel per rule (a closure constant each)
was tried: it made a configuration's first fit no faster (the epoch's skeleton,
which every rule shares, is most of the compile) and made compiling every
kernel take four times as long for those families.
"""

from __future__ import annotations

import importlib
import logging
import threading

import numpy as np

from . import _codes as K

# a fit that waits longer than this on the compiler says so (once a process)
NOTICE_AFTER = 1.0

_notice_lock = threading.Lock()
_noticed = False


def l1_part(codes, hp) -> float:
    """Return the L1 coefficient ``alpha l1_ratio`` the codes describe."""
    pen = codes[K.C_PENALTY]
    if pen == K.PEN_L1:
        return float(hp[K.H_ALPHA])
    if pen == K.PEN_ELASTICNET:
        return float(hp[K.H_ALPHA] * hp[K.H_L1_RATIO])
    return 0.0


def family(
    codes,
    hp,
    m: int,
    sparse: bool,
    threads: int = 1,
    lazy_adaptive: bool = False,
    outputs: int = 1,
):
    """Return the name of the family whose kernel runs this epoch.

    ``m`` is the number of rows the epoch visits and ``threads`` the number of
    threads for a mini-batch gradient (dense input only).  ``lazy_adaptive``
    runs per-example AdaGrad/RMSProp on CSR input at O(nnz) a step (see
    ``_csr_adaptive`` for its rule, which differs from the dense one only
    with an L2 penalty or weight decay).  ``outputs`` is the number of
    targets (K >= 2: the ``multi`` families, always serial).
    """
    if outputs > 1:
        return _multi_family(codes, hp, m, sparse)
    batch = max(int(codes[K.C_BATCH]), 1)
    opt = int(codes[K.C_OPTIMIZER])
    per_example = batch == 1 and m > 1
    avg = int(codes[K.C_AVERAGE])
    clip = float(hp[K.H_CLIP]) > 0.0
    if int(codes[K.C_SCHEDULE]) == K.LR_AUTO:
        if not sparse:
            return "auto"
        if per_example and avg == K.AVG_NONE:
            return "auto_csr"
        return "auto_csr_batch"
    if sparse:
        if per_example and opt == K.OPT_SGD and avg != K.AVG_EMA and not clip:
            return "csr_lazy"
        if (
            lazy_adaptive
            and per_example
            and opt in (K.OPT_ADAGRAD, K.OPT_RMSPROP)
            and avg == K.AVG_NONE
            and not clip
            and l1_part(codes, hp) == 0.0
        ):
            return "csr_adaptive"
        return "csr_batch"
    if threads > 1:
        return "parallel"
    if not per_example:
        return "batch"
    pa = codes[K.C_SCHEDULE] in (K.LR_PA1, K.LR_PA2)
    if (
        opt == K.OPT_SGD
        and avg == K.AVG_NONE
        and not clip
        and not pa
        and l1_part(codes, hp) == 0.0
    ):
        return "plain"
    return "example"


def _multi_family(codes, hp, m: int, sparse: bool):
    """Return the family of the K-output kernel (see :func:`family`)."""
    if int(codes[K.C_SCHEDULE]) == K.LR_AUTO:
        auto = family(codes, hp, m, sparse)  # the single-target family's twin
        return f"multi_{auto}"
    if sparse:
        return "multi_csr"
    if max(int(codes[K.C_BATCH]), 1) > 1 or m <= 1:
        return "multi_batch"
    if family(codes, hp, m, False) == "plain":
        return "multi_plain"
    return "multi_example"


# each kernel the Python layer calls: its module in this package and name
KERNELS = {
    "plain": ("_dense", "epoch_plain"),
    "example": ("_dense", "epoch_dense_example"),
    "batch": ("_dense", "epoch_dense_batch"),
    "parallel": ("_parallel", "epoch_dense_parallel"),
    "csr_lazy": ("_csr", "epoch_csr_lazy"),
    "csr_batch": ("_csr", "epoch_csr_batch"),
    "multi_plain": ("_multi", "epoch_multi_plain"),
    "multi_auto": ("_multi_auto", "epoch_multi_auto"),
    "multi_auto_csr": ("_multi_auto", "epoch_multi_auto_csr"),
    "multi_auto_csr_batch": ("_multi_auto", "epoch_multi_auto_csr_batch"),
    "multi_example": ("_multi", "epoch_multi_example"),
    "multi_batch": ("_multi", "epoch_multi_batch"),
    "multi_csr": ("_multi", "epoch_multi_csr"),
    "csr_adaptive": ("_csr_adaptive", "epoch_csr_adaptive"),
    "auto": ("_auto", "epoch_auto"),
    "auto_csr": ("_auto", "epoch_auto_csr"),
    "auto_csr_batch": ("_auto", "epoch_auto_csr_batch"),
    # besides the epochs: the working copy of sampling="blocks" and the block
    # reductions of the Dask strategies
    "take_rows": ("_take", "take_rows"),
    "block_loss_grad": ("_grad", "block_loss_grad"),
    "block_moments": ("_grad", "block_moments"),
}
HELPERS = ("take_rows", "block_loss_grad", "block_moments")
AUTO_FAMILIES = (
    "auto",
    "auto_csr",
    "auto_csr_batch",
    "multi_auto",
    "multi_auto_csr",
    "multi_auto_csr_batch",
)


def epoch_kernel(name):
    """Return the compiled (or lazily compiling) kernel of family ``name``.

    Its module (and Numba) is imported the first time one of its kernels is
    needed.
    """
    try:
        module, attr = KERNELS[name]
    except KeyError:
        raise ValueError(f"no kernel {name!r}") from None
    return getattr(importlib.import_module(f".{module}", __package__), attr)


def scratch_rows(name) -> int:
    """Return the rows of ``d + 1`` the ``grad`` scratch of family ``name`` needs.

    0 for the families whose scratch the caller sizes as before (one row, or
    the gathered rows of a shuffled dense epoch).
    """
    if name in AUTO_FAMILIES:
        return K.AUTO_SCRATCH_ROWS
    if name == "csr_adaptive":
        return K.CSR_ADAPTIVE_SCRATCH_ROWS
    return 0


def all_keys():
    """Return the name of every kernel the Python layer calls."""
    # the slowest to compile first: a pool of processes then ends together
    first = ["parallel", "multi_csr", "batch", "csr_batch", "multi_batch"]
    return first + [name for name in KERNELS if name not in first]


def compiled(kernel, args):
    """Return ``kernel`` compiled for ``args`` (compiling or loading it once).

    The returned callable skips Numba's type dispatch: call it with arguments
    of the same types (the epoch loop calls it once per epoch).  A compile that
    takes longer than ``NOTICE_AFTER`` seconds logs a one-line notice, once per
    process (see ``_cache`` for the details logged at INFO).
    """
    from ._jit import JIT_DISABLED

    if JIT_DISABLED:
        return kernel
    quick = _quick_key(kernel, args)
    done = _entry_points.get(quick)
    if done is not None:
        return done
    from numba.core.typing.typeof import Purpose, typeof

    sig = tuple(typeof(a, Purpose.argument) for a in args)
    done = kernel.overloads.get(sig)
    if done is not None:
        if quick is not None:
            _entry_points[quick] = done.entry_point
        return done.entry_point
    timer = None
    if not _noticed:
        timer = threading.Timer(NOTICE_AFTER, _notice, (kernel, sig))
        timer.daemon = True
        timer.start()
    try:
        entry = kernel.compile(sig)
        if quick is not None:
            _entry_points[quick] = entry
        return entry
    finally:
        if timer is not None:
            timer.cancel()


# (kernel, the arrays' types) -> entry point: Numba's typeof costs 0.3 ms
# for an epoch's 16 arguments, which a small fit (a grid search) notices
_entry_points = {}


def _quick_key(kernel, args):
    """Return what decides Numba's types of ``args`` (None: not only arrays).

    An array's Numba type is its dtype, its number of dimensions, its layout
    (C, F or any), whether it is read-only and whether it is aligned.
    """
    key = [id(kernel)]
    for a in args:
        if type(a) is not np.ndarray:
            return None
        f = a.flags
        layout = "C" if f.c_contiguous else "F" if f.f_contiguous else "A"
        key.append((a.dtype, a.ndim, layout, f.writeable, f.aligned))
    return tuple(key)


def silence_notice():
    """Do not log the compile notice in this process (``compile_kernels``)."""
    global _noticed
    _noticed = True


def _notice(kernel, sig):
    """Say, once a process, that a fit is waiting on the compiler."""
    global _noticed
    with _notice_lock:
        if _noticed:
            return
        _noticed = True
    from ._cache import cache_folder, describe

    where = cache_folder()
    kept = (
        f"the machine code is kept in {where} for later runs"
        if where
        else "no cache folder can be written, so it will not be kept"
    )
    logging.getLogger("fastsgd").warning(
        "fastsgd: compiling the %s training kernel for %s data; this happens "
        "once per configuration, and %s (`fastsgd compile` compiles ahead of "
        "time).",
        kernel.py_func.__qualname__,
        describe(sig),
        kept,
    )


def readonly(a):
    """Return a read-only view (the kernels take their inputs read-only).

    Numba compiles a separate version for writable and read-only arrays:
    passing every input as a read-only view keeps one version per dtype
    whether the caller's array is writable, read-only or memory-mapped.
    """
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def sample_arguments(name, dtype):
    """Return small arguments of the types a fit passes to ``name``'s kernel.

    ``compile_kernels`` compiles with them; a test checks that a fit then
    compiles nothing more.
    """
    dtype = np.dtype(dtype)
    m, d = 4, 2
    if name in HELPERS:
        return _helper_arguments(name, dtype, m, d)
    # the optimizer's state rows (Adam's two at most); their number is not
    # part of the compiled types
    n_slots = K.AUTO_SLOTS if name in AUTO_FAMILIES else 2
    if name.startswith("multi"):
        return _multi_arguments(name, dtype, n_slots, m, d)
    grad_rows = max(1, scratch_rows(name))
    if name.startswith("csr") or name.startswith("auto_csr"):
        data = (
            readonly(np.ones(m, dtype)),
            readonly(np.arange(m, dtype=np.int32) % d),
            readonly(np.arange(m + 1, dtype=np.int32)),
        )
    else:
        data = (readonly(np.zeros((m, d), dtype)),)
    args = (
        *data,
        readonly(np.zeros(m, dtype)),  # y
        readonly(np.ones(m, dtype)),  # sw
        np.arange(m, dtype=np.int64),  # order
        np.zeros(1, dtype=np.int64),  # iscratch
        np.zeros(d + 1, dtype),  # params
        np.zeros((n_slots, d + 1), dtype),  # opt
        np.zeros(d + 1, dtype),  # avg
        np.zeros(d, dtype),  # q
        np.zeros((grad_rows, d + 1), dtype),  # grad
        np.zeros(1, dtype=np.int64),  # counters
        np.zeros(K.N_CARRY),  # carry
        readonly(np.zeros(K.N_HPARAMS)),  # hp
        readonly(np.zeros(K.N_CODES, dtype=np.int64)),  # codes
        np.zeros(K.N_STATS),  # stats
        np.zeros(1),  # rec
    )
    if name == "parallel":
        args += (np.zeros((2, d + 1), dtype), np.zeros((2, 4)))
    return args


def _multi_arguments(name, dtype, slots, m, d, n_out=2):
    """Return sample arguments of a K-output kernel (see ``_multi``)."""
    rows = scratch_rows(name)
    grad = (n_out, rows, d + 1) if rows else (n_out, d + 3)
    if name in ("multi_csr", "multi_auto_csr", "multi_auto_csr_batch"):
        data = (
            readonly(np.ones(m, dtype)),
            readonly(np.arange(m, dtype=np.int32) % d),
            readonly(np.arange(m + 1, dtype=np.int32)),
        )
    else:
        data = (readonly(np.zeros((m, d), dtype)),)
    return (
        *data,
        readonly(np.zeros((m, n_out), dtype)),  # y
        readonly(np.ones(m, dtype)),  # sw
        np.arange(m, dtype=np.int64),  # order
        np.zeros(1, dtype=np.int64),  # iscratch
        np.zeros((n_out, d + 1), dtype),  # params
        np.zeros((n_out, slots, d + 1), dtype),  # opt
        np.zeros((n_out, d + 1), dtype),  # avg
        np.zeros((n_out, d), dtype),  # q
        np.zeros(grad, dtype),  # grad
        np.zeros(1, dtype=np.int64),  # counters
        np.zeros((n_out, K.N_CARRY)),  # carry
        readonly(np.zeros(K.N_HPARAMS)),  # hp
        readonly(np.zeros(K.N_CODES, dtype=np.int64)),  # codes
        np.zeros(K.N_STATS),  # stats
        np.zeros(1),  # rec
    )


def _helper_arguments(name, dtype, m, d):
    X, y = readonly(np.zeros((m, d), dtype)), readonly(np.zeros(m, dtype))
    if name == "take_rows":
        return (X, readonly(np.zeros(m, dtype=np.int64)), np.zeros((m, d), dtype))
    if name == "block_loss_grad":
        f64 = np.zeros(d + 1)
        codes = readonly(np.zeros(2, dtype=np.int64))
        return (X, y, readonly(f64), codes, readonly(np.zeros(1)), f64.copy())
    return (X, y, True, np.zeros(d + 1), np.zeros((d + 1, d + 1)))


def call(kernel, *args):
    """Run ``kernel`` on ``args`` through :func:`compiled` (for one-off calls)."""
    return compiled(kernel, args)(*args)


def epoch_for(
    codes,
    hp,
    m: int,
    sparse: bool,
    threads: int = 1,
    lazy_adaptive: bool = False,
    outputs: int = 1,
):
    """Return the epoch kernel that runs an epoch of ``m`` rows with these options."""
    return epoch_kernel(family(codes, hp, m, sparse, threads, lazy_adaptive, outputs))
