"""The one decorator every fastsgd kernel is compiled with, and its variants.

Kernels compile lazily, on their first call, for the types they are called
with; nothing compiles at import.  ``nogil=True`` lets callers run epochs from
several threads; ``error_model="numpy"`` makes a division by zero give inf/NaN
instead of raising.  The fastmath flags are the safe subset: they let
reductions vectorise but keep NaN and inf semantics, so the divergence checks
keep working (never ``fastmath=True``).

Compiled code is kept in fastsgd's own cache (:mod:`._cache`), keyed on every
source file of this package, so a second process compiles nothing and an
edited helper can never leave stale machine code in use.

With ``NUMBA_DISABLE_JIT=1`` the kernels run as plain Python (for pdb and
coverage): the intrinsics have Python twins, and NumPy's scalar overflow
warnings are silenced as the compiled code's wrapping arithmetic is.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba.core import config

from . import _cache

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
JIT_DISABLED = bool(config.DISABLE_JIT)

# every kernel made here, by name (tests and compile_kernels look them up)
REGISTRY: dict[str, object] = {}


def kernel(fn=None, *, inline=False, parallel=False, entry=False):
    """Compile ``fn`` with fastsgd's kernel options, on first use.

    Use as ``@kernel`` or ``@kernel(inline=True)``.  Inlined kernels are
    copied into their callers by Numba (worth it only for small helpers on a
    hot path: each copy is typed again) and are never compiled on their own.
    ``entry`` marks a kernel the Python layer calls (an epoch): its compiles
    are logged.
    """
    if fn is None:
        return functools.partial(kernel, inline=inline, parallel=parallel, entry=entry)
    if JIT_DISABLED:
        return _python(fn)
    options = dict(nogil=True, error_model="numpy", fastmath=set(FASTMATH))
    if inline:
        options["inline"] = "always"
    elif not entry:
        # called from other kernels (and tests): no C-callback wrapper; the
        # CPython one stays, without it a call from Python crashes
        options["no_cfunc_wrapper"] = True
    if parallel:
        options["parallel"] = True
    disp = numba.njit(**options)(fn)
    if not inline:
        _cache.attach(disp, entry)
    REGISTRY[f"{fn.__module__}.{fn.__qualname__}"] = disp
    return disp


def _python(fn):
    """Return ``fn`` for the interpreter, with NumPy's scalar warnings off.

    The compiled kernels wrap integer arithmetic (the shuffle's generator) and
    give inf/NaN for overflow and 0/0 silently; NumPy scalars warn instead.
    """

    @functools.wraps(fn)
    def run(*args):
        with np.errstate(all="ignore"):
            return fn(*args)

    run.py_func = fn
    return run
