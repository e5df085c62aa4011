"""Training data as the kernels take it: dtypes, CSR structure, the rows.

Checks that need no scikit-learn, used by the estimator after
``validate_data``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._sparse_check import check_sparse_structure

__all__ = [
    "check_cast",
    "check_finite_rows",
    "kernel_csr",
    "native_float32",
    "needs_canonical_csr",
    "non_finite_error",
    "weighted_rows",
]


def weighted_rows(sw):
    """Return the rows of positive weight (all of them, without a copy of sw)."""
    if np.any(sw == 0):
        return np.flatnonzero(sw > 0)
    return np.arange(sw.shape[0])


def non_finite_error(X, name="X"):
    """Return the ``ValueError`` for X holding NaN or infinity, naming its first row.

    scikit-learn's wording (``Input X contains NaN.`` / ``... infinity or a
    value too large for dtype(...)``), with the row: the error path scans X,
    so a fit's first epoch can check the rows it reads instead of a separate
    pass over X.
    """
    values = X.data if sp.issparse(X) else X
    bad = ~np.isfinite(values)
    if sp.issparse(X):
        first = int(np.flatnonzero(bad)[0])
        row = int(np.searchsorted(X.indptr, first, side="right") - 1)
        nan = bool(np.isnan(values[first]))
    else:
        flat = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
        row = int(flat[0])
        nan = bool(np.isnan(values[row]).any())
    what = "NaN" if nan else f"infinity or a value too large for {values.dtype!r}"
    return ValueError(f"Input {name} contains {what} (the first in row {row}).")


def check_finite_rows(X, rows):
    """Raise :func:`non_finite_error` if any of the ``rows`` of X is not finite."""
    if rows.shape[0] == 0:
        return
    part = X[rows]
    values = part.data if sp.issparse(part) else part
    if not np.isfinite(values).all():
        raise non_finite_error(X)


def native_float32(X):
    """Return big-endian float32 arrays as native float32 (not float64)."""
    dtype = getattr(X, "dtype", None)
    if (
        isinstance(X, np.ndarray)
        and dtype is not None
        and dtype.kind == "f"
        and dtype.itemsize == 4
        and not dtype.isnative
    ):
        return X.astype(np.float32)
    return X


def check_cast(name, a, before=None):
    """Raise if casting ``name`` to float32 overflowed (it was finite before).

    ``before``: the array before the cast, when it was not checked for NaN and
    infinity (those are then named as such, see :func:`non_finite_error`).
    """
    if not np.isfinite(a).all():
        if before is not None:
            values = before.data if sp.issparse(before) else before
            if not np.isfinite(values).all():
                raise non_finite_error(before, name)
        raise ValueError(
            f"{name} has values too large for {a.dtype} (the model's dtype); scale "
            "the data or train in float64."
        )


def kernel_csr(X):
    """Return a CSR matrix the kernel can read safely (int32 indices, checked)."""
    X = sp.csr_matrix(X) if not isinstance(X, sp.csr_matrix) else X
    if X.indices.dtype != np.int32 or X.indptr.dtype != np.int32:
        if X.nnz >= np.iinfo(np.int32).max:
            raise ValueError(
                "Sparse input with 2**31 or more stored values is not supported."
            )
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
            shape=X.shape,
        )
    # the kernel does no bounds checks: make sure every index is in range
    check_sparse_structure(X)
    if not X.data.flags.c_contiguous:
        # a new matrix object: the user's keeps its own arrays
        X = sp.csr_matrix(
            (np.ascontiguousarray(X.data), X.indices, X.indptr), shape=X.shape
        )
    return X


def needs_canonical_csr(params) -> bool:
    """Tell whether CSR input must hold one entry per row and column.

    The passive-aggressive step reads ``|x|^2``; the per-coordinate rules
    (``learning_rate='auto'``, AdaGrad, RMSProp) update a column once per
    row, from its summed value, as the dense rule does.
    """
    return params["learning_rate"] in ("pa1", "pa2", "auto") or params["optimizer"] in (
        "adagrad",
        "rmsprop",
    )
