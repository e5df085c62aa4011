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
    "check_targets",
    "kernel_csr",
    "n_models",
    "n_targets",
    "native_float32",
    "needs_canonical_csr",
    "non_finite_error",
    "target_outputs",
    "validation_split",
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


def check_targets(y) -> bool:
    """Check y's shape and values; tell whether it holds K >= 2 targets.

    A 2-D y with no column, or with NaN or infinity in a column (named), raises
    ``ValueError``; a single column is left to scikit-learn, which ravels it
    with a ``DataConversionWarning``.
    """
    shape = getattr(y, "shape", None)
    if shape is None:
        y = np.asarray(y)
        shape = y.shape
    if len(shape) != 2 or shape[1] == 1:
        return False
    if shape[1] == 0:
        raise ValueError(
            f"y has shape {tuple(shape)}: no target column; give y of shape "
            "(n_samples,) or (n_samples, n_targets) with n_targets >= 1."
        )
    if sp.issparse(y):
        return True  # scikit-learn rejects it
    values = np.asarray(y)
    if values.dtype.kind not in "fc":
        return True
    # the sum is finite when every value is (one pass, no temporary: 100k x
    # 10 float64, 3.0 -> 0.4 ms); the columns are searched only when it is not
    # (NaN, infinity, or finite values whose sum overflows)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(values)
    if np.isfinite(total):
        return True
    finite = np.isfinite(values).all(axis=0)
    if not finite.all():
        k = int(np.flatnonzero(~finite)[0])
        column = values[:, k]
        what = "NaN" if np.isnan(column).any() else "infinity"
        names = getattr(y, "columns", None)
        name = f" ({names[k]!r})" if names is not None else ""
        raise ValueError(
            f"Input y contains {what} in target column {k}{name} of {shape[1]}."
        )
    return True


def target_outputs(y):
    """Return K for y of shape (n, K), None for one target."""
    return y.shape[1] if y.ndim == 2 else None


def n_targets(y) -> int:
    """Return the number of targets of y: K for (n, K), 1 for (n,)."""
    return y.shape[1] if y.ndim == 2 else 1


def n_models(coef) -> int:
    """Return the number of targets of coefficients: K for (K, d), 1 for (d,)."""
    return coef.shape[0] if coef.ndim == 2 else 1


def validation_split(X, y, sw, val, early_stopping, fraction, random_state):
    """Return the training rows and the validation data (or None).

    With ``early_stopping`` and no ``X_val``, the rows scikit-learn's
    ``SGDRegressor`` holds out for the same ``random_state`` (its
    ``_make_validation_split``: a ``ShuffleSplit`` over every row, drawn
    before the training seed); rows of zero weight then stay out of
    training here (they only advance scikit-learn's schedule).
    """
    n = y.shape[0]
    if not early_stopping or val is not None:
        return weighted_rows(sw), val
    n_val = int(np.ceil(fraction * n))
    if n_val == 0 or n - n_val == 0:
        raise ValueError(
            f"Splitting {n} samples into a train set and a validation set with "
            f"validation_fraction={fraction!r} led to an empty "
            f"set ({n - n_val} and {n_val} samples). Please either change "
            "validation_fraction, increase number of samples, or disable "
            "early_stopping."
        )
    # imported here: sklearn.model_selection costs ~0.1 s at import time
    from sklearn.model_selection import ShuffleSplit

    cv = ShuffleSplit(test_size=fraction, random_state=random_state)
    idx_train, idx_val = next(cv.split(np.zeros((n, 1)), y))
    if not np.any(sw[idx_val] > 0):
        raise ValueError(
            "The sample weights for validation set are all zero, consider "
            "using a different random state."
        )
    idx_train = np.sort(idx_train[sw[idx_train] > 0])
    idx_val = np.sort(idx_val)
    return idx_train, (X[idx_val], y[idx_val], sw[idx_val])
