"""Checks of a SciPy sparse matrix's index arrays, before anything trusts them.

scipy trusts ``indptr``/``indices`` (COO: ``row``/``col``): an index out of
range makes its products and format conversions, and fastsgd's kernels (which
do no bounds checks), read or write out of bounds and crash the interpreter.
"""

from __future__ import annotations

import numpy as np


def check_sparse_structure(X):
    """Raise ValueError unless X's index arrays describe a valid matrix.

    scipy trusts ``indptr``/``indices`` (COO: ``row``/``col``): an index out of
    range makes its products and format conversions read or write out of bounds
    and crash the interpreter. Vectorised and O(nnz), unlike scipy's
    ``check_format(full_check=True)``.
    """
    fmt = X.format
    if fmt in ("csr", "csc", "bsr"):
        problem, what = _compressed_problem(X), "indptr/indices"
    elif fmt == "coo" and len(X.shape) == 2:
        problem, what = _coo_problem(X), "row/col"
    else:  # dia, lil, dok: converted to CSR by bounds-checked code
        return
    if problem is not None:
        raise ValueError(
            f"The {fmt.upper()} matrix is malformed: its {what} arrays do not "
            f"describe a {X.shape[0]} x {X.shape[1]} matrix ({problem})."
        )


def _compressed_problem(X):
    """Describe what is wrong with a CSR/CSC/BSR structure, or return None."""
    indptr, indices, data = X.indptr, X.indices, X.data
    if X.format == "csr":
        n_major, n_minor, major, minor = *X.shape, "n_rows", "columns"
    elif X.format == "csc":
        n_major, n_minor, major, minor = *X.shape[::-1], "n_cols", "rows"
    else:
        n_major, n_minor = X.shape[0] // X.blocksize[0], X.shape[1] // X.blocksize[1]
        major, minor = "n_block_rows", "block columns"
    for name, a in (("indptr", indptr), ("indices", indices)):
        if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
            return f"{name} is not a 1-D integer array ({a.ndim}-D {a.dtype})"
    if indptr.shape[0] != n_major + 1:
        return (
            f"indptr has length {indptr.shape[0]}, expected {major} + 1 = {n_major + 1}"
        )
    if indptr[0] != 0:
        return f"indptr[0] is {indptr[0]}, expected 0"
    if np.any(indptr[1:] < indptr[:-1]):
        return "indptr decreases"
    if not indptr[-1] == indices.shape[0] == data.shape[0]:
        return (
            f"indptr[-1] is {indptr[-1]}, indices has {indices.shape[0]} entries "
            f"and data {data.shape[0]}; all three must be equal"
        )
    if indices.shape[0] and (indices.min() < 0 or indices.max() >= n_minor):
        return (
            f"indices range over [{indices.min()}, {indices.max()}], outside "
            f"[0, {n_minor}) for {n_minor} {minor}"
        )
    return None


def _coo_problem(X):
    """Describe what is wrong with a 2-D COO structure, or return None."""
    (n_rows, n_cols), row, col, data = X.shape, X.row, X.col, X.data
    for name, a in (("row", row), ("col", col)):
        if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
            return f"{name} is not a 1-D integer array ({a.ndim}-D {a.dtype})"
    if not row.shape[0] == col.shape[0] == data.shape[0]:
        return (
            f"row, col and data have lengths {row.shape[0]}, {col.shape[0]} and "
            f"{data.shape[0]}; all three must be equal"
        )
    for name, a, n in (("row", row, n_rows), ("col", col, n_cols)):
        if a.shape[0] and (a.min() < 0 or a.max() >= n):
            return f"{name} ranges over [{a.min()}, {a.max()}], outside [0, {n})"
    return None
