"""The one decorator every fastsgd kernel is compiled with.

``cache=True`` writes the machine code next to the source (or to
``NUMBA_CACHE_DIR``) so a second process compiles nothing; ``nogil=True`` lets
callers run epochs from several threads; ``error_model="numpy"`` makes a
division by zero give inf/NaN instead of raising.  The fastmath flags are the
safe subset: they let reductions vectorise but keep NaN and inf semantics, so
the divergence checks keep working (never ``fastmath=True``).
"""

from __future__ import annotations

import numba

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


def kernel(*args, **kwargs):
    """Compile a function with fastsgd's kernel options.

    Use as ``@kernel`` or ``@kernel(signature)``.
    """
    options = dict(cache=True, nogil=True, error_model="numpy", fastmath=set(FASTMATH))
    options.update(kwargs)
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)
