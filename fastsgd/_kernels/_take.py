"""Copy the rows of a dense array in a given order, fast.

``sampling="blocks"`` trains on one shuffled working copy of the rows.  NumPy's
``X[perm]`` copies each row with a generic strided loop and waits on memory
row after row; this loop (``_rows.copy_row``, as shuffled epochs use)
prefetches the rows a few ahead, so many are fetched at once (100k x 100
float64: 22 ms with ``X[perm]``, 15 ms with this, of which 7 ms is the first
touch of the new array's pages).  Imported on first use, so a process that
never asks for blocks never loads it.
"""

from __future__ import annotations

from ._jit import kernel
from ._rows import copy_row


@kernel(entry=True)
def take_rows(X, idx, out):
    """``out[r] = X[idx[r]]`` for every r; the caller checks the indices."""
    for r in range(idx.shape[0]):
        copy_row(X, idx, r, out, r)
