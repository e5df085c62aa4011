"""A small splitmix64 generator for in-kernel shuffling and sampling.

``np.random.shuffle`` inside Numba measured 4x slower than this on 5M indices.
The state is a ``uint64`` scalar threaded through the calls.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)


@kernel
def splitmix64(state):
    """Advance ``state``; return ``(new_state, random uint64)``."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return state, z ^ (z >> _S31)


@kernel
def below(state, n):
    """Return ``(new_state, r)`` with ``r`` uniform in ``[0, n)`` (n >= 1).

    Lemire's multiply-shift with rejection (ACM TOMACS 2019) for n < 2^32,
    exactly uniform like the modulo it replaces and without its 64-bit
    division (a shuffle of 200k indices here: 2.7 -> 1.5 ns an index).
    """
    un = np.uint64(n)
    state, z = splitmix64(state)
    if un > _LOW32:
        return state, np.int64(z % un)
    prod = (z >> _S32) * un
    low = prod & _LOW32
    if low < un:
        threshold = (_TWO32 - un) % un
        while low < threshold:
            state, z = splitmix64(state)
            prod = (z >> _S32) * un
            low = prod & _LOW32
    return state, np.int64(prod >> _S32)


@kernel
def permute(a, seed):
    """Shuffle ``a`` in place (Fisher-Yates) from ``seed``."""
    state = np.uint64(seed)
    for i in range(a.shape[0] - 1, 0, -1):
        state, j = below(state, i + 1)
        tmp = a[i]
        a[i] = a[j]
        a[j] = tmp
