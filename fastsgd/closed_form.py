"""Exact (weighted, L2-regularised) least squares in closed form.

The reference solution that the gradient methods are checked against: a Cholesky
factorisation of the regularised Gram matrix, with a minimum-norm SVD fallback when
the normal equations are singular or too ill-conditioned to be trusted.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from sklearn.utils import check_X_y
from sklearn.utils.validation import _check_sample_weight

from ._sparse_check import check_sparse_structure

__all__ = ["IllConditionedWarning", "closed_form"]

_EPS = np.finfo(np.float64).eps

# Smallest accepted estimate of the reciprocal condition number of the diagonally
# equilibrated Gram matrix before we stop trusting Cholesky. The forward error of
# the normal-equations solve is about eps / rcond, so 1e-10 still guarantees ~6
# correct digits (eps / 1e-10 ~ 2e-6). A rank-deficient X yields rcond near the
# rounding floor of forming the Gram matrix (~sqrt(n) * eps, 2e-13 at n = 1e6),
# far below 1e-10, so exact singularity is reliably caught.
_RCOND_TOL = 1e-10

# Safety factor on the perturbation bound of the computed Gram matrix: we require
# rcond >= _PERTURB_SAFETY * n_features * cancellation * eps (see `_solve`).
_PERTURB_SAFETY = 10.0

# Iterative-refinement steps after the Cholesky solve (residuals are computed from
# the data, not from the Gram matrix, so they undo the cancellation of the
# uncentered sparse Gram formula).
_MAX_REFINE = 5

# Sparse fallback: densify the centered data (exact SVD solution) when it has at
# most this many elements (2**22 float64 = 32 MiB); otherwise use LSQR.
_DENSIFY_MAX = 2**22


class IllConditionedWarning(UserWarning):
    """The normal equations were singular or ill-conditioned.

    Emitted by `closed_form` when it returns the minimum-norm least-squares solution
    (computed from an SVD of the data, or by LSQR for large sparse input) instead of
    the Cholesky solution of the normal equations.
    """


def closed_form(X, y, alpha=0.0, fit_intercept=True, sample_weight=None):
    r"""Solve weighted ridge / ordinary least squares exactly.

    Minimises, over ``coef`` (``w``) and ``intercept`` (``b``),

    .. math::

        \sum_i s_i (y_i - x_i \cdot w - b)^2 + \alpha \lVert w \rVert_2^2,

    the objective of :class:`sklearn.linear_model.Ridge` with the same ``alpha``
    (:class:`~sklearn.linear_model.LinearRegression` for ``alpha=0``). It is twice
    ``(1/2) sum_i s_i (y_i - x_i.w - b)^2 + (alpha/2) ||w||^2``, so ``alpha`` is
    *not* divided by the number of samples or by the sum of the weights: it is
    the ridge added to the weighted Gram matrix. The intercept is never penalised.

    With ``fit_intercept=True``, ``X`` and ``y`` are centered by their
    sample-weighted means ``x_mean``, ``y_mean`` and the solver computes

    .. math::

        (X_c^T S X_c + \alpha I)\, w = X_c^T S y_c,
        \qquad b = \bar y - \bar x \cdot w,

    with ``S = diag(sample_weight)``. The symmetric positive (semi-)definite
    system is equilibrated by its diagonal, factorised by Cholesky, and the
    solution polished by iterative refinement with residuals computed from the
    data.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data, ``n_samples >= 1`` and ``n_features >= 1``, all finite.
        Sparse input is converted to CSR and never densified on the Cholesky
        path. float32 input gives float32 output, anything else float64; the
        computation is always done in float64 (a solution beyond the float32
        range raises instead of overflowing to inf).
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Finite targets. A 2-D y (``n_targets >= 1``) solves for every target
        with one factorisation of the Gram matrix.
    alpha : float, default=0.0
        L2 penalty strength, a finite real in ``[0, inf)``, with the scaling of
        ``sklearn.linear_model.Ridge(alpha=alpha)`` (see above).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept. If False, the data are not centered and the
        returned intercept is 0. Must be a ``bool`` or ``numpy.bool_``.
    sample_weight : array-like of shape (n_samples,) or float, default=None
        Non-negative finite weights ``s_i``, not all zero. None means all ones.

    Returns
    -------
    coef : ndarray of shape (n_features,) or (n_targets, n_features)
        The coefficients ``w``, of X's dtype (float32 or float64); for a 2-D
        y one row per target (as ``Ridge.coef_``).
    intercept : numpy.float32, numpy.float64 or ndarray of shape (n_targets,)
        The intercept ``b`` as a scalar of X's dtype (0 if not
        ``fit_intercept``); for a 2-D y one per target.

    Raises
    ------
    ValueError
        If X or y are empty, non-finite or of mismatched length, if y is 2-D
        with no column or has more than two dimensions, if ``alpha`` is not a
        finite real ``>= 0``, if ``sample_weight``
        is negative, non-finite, all zero or of the wrong length, if a sparse X
        is malformed (``indptr``/``indices`` or ``row``/``col`` that do not
        describe a matrix of its shape), or if the solution is not finite in
        the output dtype (float32 input whose coefficients exceed the float32
        range: pass float64).
    TypeError
        If ``fit_intercept`` is not a bool.

    Warns
    -----
    IllConditionedWarning
        If the regularised Gram matrix is singular or its estimated reciprocal
        condition number (after diagonal equilibration) is below ``1e-10`` (or
        below the rounding floor of the sparse Gram formula, whichever is
        larger). The minimum-norm least-squares solution is then returned: from
        an SVD of the centered, weighted data (``scipy.linalg.lstsq`` with the
        ``gelsd`` driver and NumPy's default rank cutoff
        ``eps * max(n_samples, n_features)``); for sparse input with more than
        ``2**22`` elements, from ``scipy.sparse.linalg.lsqr`` with tight
        tolerances instead of densifying. The norm minimised excludes the
        intercept.

    Notes
    -----
    Memory: dense input is copied once (a centered, weighted float64 copy);
    sparse input costs one float64 copy of its nonzeros plus the dense
    ``(n_features, n_features)`` Gram matrix, computed as
    ``X^T S X - (sum s) x_mean x_mean^T``. That formula cancels badly when the
    column means are large against their spread; the cancellation is measured,
    included in the conditioning test, and undone by iterative refinement.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.closed_form import closed_form
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> y = 1.0 + X @ np.array([2.0, -1.0])
    >>> coef, intercept = closed_form(X, y)
    >>> np.round(coef, 6).tolist(), round(float(intercept), 6)
    ([2.0, -1.0], 1.0)
    >>> coef, intercept = closed_form(X, y, alpha=1.0)  # == Ridge(alpha=1.0)
    >>> coef.dtype, type(intercept)
    (dtype('float64'), <class 'numpy.float64'>)
    """
    # Cheap checks first: nothing below runs on a bad argument.
    if not isinstance(fit_intercept, (bool, np.bool_)):
        # a truthy string such as "no" would otherwise silently fit an intercept
        raise TypeError(
            "fit_intercept must be a bool (True or False), got "
            f"{fit_intercept!r} of type {type(fit_intercept).__name__}."
        )
    fit_intercept = bool(fit_intercept)
    if (
        isinstance(alpha, (bool, np.bool_))
        or not isinstance(alpha, numbers.Real)
        or not np.isfinite(alpha)
        or alpha < 0
    ):
        raise ValueError(f"alpha must be a finite real number >= 0, got {alpha!r}.")
    y_shape = np.shape(y)
    if len(y_shape) == 2 and y_shape[1] == 0:
        raise ValueError(
            "y must be of shape (n_samples,) or (n_samples, n_targets) with "
            f"n_targets >= 1, got an array of shape {y_shape}."
        )
    if scipy.sparse.issparse(X):
        # before check_X_y: its conversion to CSR already trusts the indices
        check_sparse_structure(X)
    X, y = check_X_y(
        X,
        y,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        y_numeric=True,
        ensure_all_finite=True,
        multi_output=True,
    )
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] == 0):
        raise ValueError(
            "y must be of shape (n_samples,) or (n_samples, n_targets) with "
            f"n_targets >= 1, got an array of shape {y.shape}."
        )
    s = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    out_dtype = X.dtype
    alpha = float(alpha)
    y = np.asarray(y, dtype=np.float64)

    sqrt_s = np.sqrt(s)
    s_sum = float(s.sum())
    if scipy.sparse.issparse(X):
        op = _SparseCentered(X, s, sqrt_s, s_sum, fit_intercept)
    else:
        op = _DenseCentered(X, s, sqrt_s, s_sum, fit_intercept)
    if y.ndim == 2:
        return _closed_form_targets(op, y, s, sqrt_s, s_sum, alpha, out_dtype)
    if fit_intercept:
        y_mean = float(s @ y) / s_sum
        yc = y - y_mean
        y_mean += float(s @ yc) / s_sum  # second pass: exact weighted mean
        yc = y - y_mean
    else:
        y_mean = 0.0
        yc = y
    b = sqrt_s * yc

    w = _solve(op, b, alpha)

    intercept64 = y_mean - float(op.x_mean @ w) if fit_intercept else 0.0
    # The overflow is reported below as an error, not as numpy's cast warning.
    with np.errstate(over="ignore", invalid="ignore"):
        coef = w.astype(out_dtype, copy=False)
        intercept = out_dtype.type(intercept64)
    if not (np.all(np.isfinite(coef)) and np.isfinite(intercept)):
        _raise_not_finite(w, intercept64, out_dtype)
    return coef, intercept


def _closed_form_targets(op, y, s, sqrt_s, s_sum, alpha, out_dtype):
    """Solve for every column of a 2-D ``y`` with one factorisation."""
    if op.fit_intercept:
        y_mean = (s @ y) / s_sum
        yc = y - y_mean
        y_mean += (s @ yc) / s_sum  # second pass: exact weighted mean
        yc = y - y_mean
    else:
        y_mean = np.zeros(y.shape[1])
        yc = y
    b = sqrt_s[:, None] * yc
    w = _solve(op, b, alpha)  # (n_features, n_targets)
    intercept64 = y_mean - op.x_mean @ w if op.fit_intercept else y_mean
    with np.errstate(over="ignore", invalid="ignore"):
        coef = np.ascontiguousarray(w.T.astype(out_dtype))
        intercept = intercept64.astype(out_dtype)
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        _raise_not_finite(w, float(np.max(np.abs(intercept64))), out_dtype)
    return coef, intercept


def _raise_not_finite(w, intercept, out_dtype):
    """Raise ValueError: the solution overflows the output dtype."""
    if out_dtype == np.float32 and np.all(np.isfinite(w)) and np.isfinite(intercept):
        largest = max(float(np.max(np.abs(w))), abs(intercept))
        raise ValueError(
            "closed_form: the least-squares solution does not fit in float32 "
            f"(largest |coefficient or intercept| {largest:.3g} > float32 max "
            f"{float(np.finfo(np.float32).max):.3g}). Pass X as float64 (e.g. "
            "X.astype(np.float64)) to get float64 coefficients, or rescale X or y."
        )
    raise ValueError(
        "closed_form: the least-squares solution is not finite (it overflows "
        "float64); rescale X or y."
    )


class _DenseCentered:
    """``A = S^(1/2) (X - 1 x_mean^T)`` stored as one float64 copy of X."""

    def __init__(self, X, s, sqrt_s, s_sum, fit_intercept):
        A = np.array(X, dtype=np.float64, order="C", copy=True)
        n_features = A.shape[1]
        if fit_intercept:
            x_mean = (s @ A) / s_sum
            A -= x_mean
            correction = (s @ A) / s_sum  # second pass removes rounding of the mean
            A -= correction
            x_mean += correction
        else:
            x_mean = np.zeros(n_features)
        A *= sqrt_s[:, None]
        self.A = A
        self.x_mean = x_mean
        self.fit_intercept = fit_intercept
        self.shape = A.shape
        # Entries of A^T A carry no cancellation: rounding is relative to the diagonal.
        self.cancellation = 1.0

    def gram(self):
        G = self.A.T @ self.A
        return G, np.diag(G).copy()

    def matvec(self, v):
        return self.A @ v

    def rmatvec(self, u):
        return self.A.T @ u

    def dense(self):
        return self.A


class _SparseCentered:
    """``A = S^(1/2) (X - 1 x_mean^T)`` applied implicitly to a CSR matrix."""

    def __init__(self, X, s, sqrt_s, s_sum, fit_intercept):
        # S^(1/2) X: one float64 copy of the nonzeros, no densification.
        row_scale = np.repeat(sqrt_s, np.diff(X.indptr))
        A0 = scipy.sparse.csr_matrix(
            (X.data.astype(np.float64) * row_scale, X.indices.copy(), X.indptr.copy()),
            shape=X.shape,
        )
        self.A0 = A0
        self.sqrt_s = sqrt_s
        self.s_sum = s_sum
        self.fit_intercept = fit_intercept
        self.shape = A0.shape
        if fit_intercept:
            self.x_mean = np.asarray(A0.T @ sqrt_s).ravel() / s_sum
        else:
            self.x_mean = np.zeros(A0.shape[1])
        self.cancellation = 1.0

    def gram(self):
        G0 = np.asarray((self.A0.T @ self.A0).toarray(), dtype=np.float64)
        diag0 = np.diag(G0).copy()
        if self.fit_intercept:
            G = G0 - self.s_sum * np.outer(self.x_mean, self.x_mean)
        else:
            G = G0
        return G, diag0

    def matvec(self, v):
        if np.ndim(v) == 2:  # several targets
            out = np.asarray(self.A0 @ v)
            if self.fit_intercept:
                out -= np.outer(self.sqrt_s, self.x_mean @ v)
            return out
        v = np.ravel(v)
        out = np.asarray(self.A0 @ v).ravel()
        if self.fit_intercept:
            out -= self.sqrt_s * float(self.x_mean @ v)
        return out

    def rmatvec(self, u):
        if np.ndim(u) == 2:  # several targets
            out = np.asarray(self.A0.T @ u)
            if self.fit_intercept:
                out -= np.outer(self.x_mean, self.sqrt_s @ u)
            return out
        u = np.ravel(u)
        out = np.asarray(self.A0.T @ u).ravel()
        if self.fit_intercept:
            out -= self.x_mean * float(self.sqrt_s @ u)
        return out

    def dense(self):
        A = self.A0.toarray()
        if self.fit_intercept:
            A -= np.outer(self.sqrt_s, self.x_mean)
        return A


def _solve(op, b, alpha):
    """Solve ``(A^T A + alpha I) w = A^T b``; min-norm fallback if ill-posed."""
    n_features = op.shape[1]
    c = op.rmatvec(b)
    G, diag_uncentered = op.gram()
    G[np.diag_indices_from(G)] += alpha
    diag = np.diag(G).copy()

    reason = None
    with np.errstate(divide="ignore", invalid="ignore"):
        # Ratio of the uncentered to the centered diagonal: how many digits the
        # formula X^T S X - (sum s) x_mean x_mean^T cancelled (1 when centered).
        cancellation = np.max((diag_uncentered + alpha) / diag)
    if not np.all(np.isfinite(G)):
        reason = "the Gram matrix overflows"
    elif not np.all(diag > 0) or not np.isfinite(cancellation):
        reason = "a column is constant (zero after centering) and alpha is 0"
    if reason is None:
        tol = max(_RCOND_TOL, _PERTURB_SAFETY * n_features * cancellation * _EPS)
        factor, d, reason = _scaled_cholesky(G, diag, tol)
    if reason is None:
        if c.ndim == 2:  # several targets: scale each column
            d = d[:, None]
        w = d * scipy.linalg.cho_solve(factor, d * c, check_finite=False)
        w = _refine(op, b, alpha, w, factor, d)
        if np.all(np.isfinite(w)):
            return w
        reason = "the Cholesky solution is not finite"

    warnings.warn(
        "closed_form: the normal equations (X^T S X + alpha I) w = X^T S y are "
        f"singular or ill-conditioned ({reason}); returned the minimum-norm "
        "least-squares solution instead.",
        IllConditionedWarning,
        stacklevel=3,
    )
    return _min_norm(op, b, alpha)


def _scaled_cholesky(G, diag, tol):
    """Cholesky of ``G`` scaled to a unit diagonal, with a condition check.

    Returns ``(factor, d, reason)``: ``G = D^-1 R^T R D^-1`` with ``d`` the
    scaling, or ``reason`` (a string) when the factorisation failed or the
    estimated reciprocal condition number is below ``tol``.
    """
    d = 1.0 / np.sqrt(diag)
    G_hat = G * d[:, None] * d[None, :]
    G_hat[np.diag_indices_from(G_hat)] = 1.0
    try:
        factor = scipy.linalg.cho_factor(G_hat, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        return (
            None,
            d,
            "the Cholesky factorisation failed (matrix not positive definite)",
        )
    anorm = float(np.abs(G_hat).sum(axis=0).max())
    rcond, info = scipy.linalg.lapack.dpocon(factor[0], anorm, uplo="U")
    if info != 0 or not rcond >= tol:
        return (
            None,
            d,
            (
                f"estimated reciprocal condition number {rcond:.2g} "
                f"< tolerance {tol:.2g}"
            ),
        )
    return factor, d, None


def solve_gram(G, c, ridge=0.0):
    """Solve ``(G + ridge I) w = c`` for a precomputed Gram matrix.

    The same Cholesky and condition check as :func:`closed_form`; when the
    system is singular or ill-conditioned, warns with
    :class:`IllConditionedWarning` and returns the minimum-norm least-squares
    solution (``lstsq`` on the Gram system).  Used by reductions that never
    hold the data, such as the Dask ``"normal"`` strategy.

    Parameters
    ----------
    G : ndarray of shape (d, d)
        Symmetric positive semi-definite Gram matrix (e.g. ``X_c^T X_c``).
    c : ndarray of shape (d,) or (d, K)
        Right-hand side (e.g. ``X_c^T y_c``), one column per target.
    ridge : float, default=0.0
        Added to the diagonal, in [0, inf).

    Returns
    -------
    ndarray of shape (d,)
        The solution, float64.
    """
    A = np.array(G, dtype=np.float64)
    A[np.diag_indices_from(A)] += ridge
    n = A.shape[0]
    diag = np.diag(A).copy()
    if not np.all(np.isfinite(A)):
        reason = "the Gram matrix is not finite"
    elif not np.all(diag > 0):
        reason = "a column is constant (zero after centering) and alpha is 0"
    else:
        factor, d, reason = _scaled_cholesky(
            A, diag, max(_RCOND_TOL, _PERTURB_SAFETY * n * _EPS)
        )
        if reason is None:
            if np.ndim(c) == 2:  # several right-hand sides: scale each column
                d = d[:, None]
            return d * scipy.linalg.cho_solve(factor, d * c, check_finite=False)
    warnings.warn(
        f"The normal equations are singular or ill-conditioned ({reason}); "
        "returned the minimum-norm least-squares solution instead.",
        IllConditionedWarning,
        stacklevel=2,
    )
    cond = _PERTURB_SAFETY * n * _EPS
    return scipy.linalg.lstsq(A, c, cond=cond, lapack_driver="gelsd")[0]


def _refine(op, b, alpha, w, factor, d):
    """Refine w iteratively, with residuals computed from the data."""
    prev = np.inf
    for _ in range(_MAX_REFINE):
        r = op.rmatvec(b - op.matvec(w)) - alpha * w
        dw = d * scipy.linalg.cho_solve(factor, d * r, check_finite=False)
        step = np.linalg.norm(dw)
        if not step < prev:  # stagnated at the rounding floor (or diverging)
            break
        w = w + dw
        prev = 0.5 * step
        if step <= 4 * _EPS * np.linalg.norm(w):
            break
    return w


def _min_norm(op, b, alpha):
    """Minimum-norm minimiser of ``||b - A w||^2 + alpha ||w||^2``."""
    n_samples, n_features = op.shape
    if b.ndim == 2 and isinstance(op, _SparseCentered):
        if n_samples * n_features > _DENSIFY_MAX:  # lsqr: one target at a time
            return np.column_stack(
                [_min_norm(op, b[:, k], alpha) for k in range(b.shape[1])]
            )
    if isinstance(op, _SparseCentered) and n_samples * n_features > _DENSIFY_MAX:
        A = scipy.sparse.linalg.LinearOperator(
            op.shape, matvec=op.matvec, rmatvec=op.rmatvec, dtype=np.float64
        )
        result = scipy.sparse.linalg.lsqr(
            A,
            b,
            damp=np.sqrt(alpha),
            atol=1e-14,
            btol=1e-14,
            conlim=1e16,
            iter_lim=max(1000, 10 * n_features),
        )
        return result[0]
    A = op.dense()
    if alpha > 0:
        # Ridge as least squares on [A; sqrt(alpha) I], [b; 0] (full column rank
        # in exact arithmetic; the SVD cutoff still guards absurd scales).
        A = np.vstack([A, np.sqrt(alpha) * np.eye(n_features)])
        b = np.concatenate([b, np.zeros((n_features, *b.shape[1:]))])
    cond = _EPS * max(A.shape)  # numpy.linalg.lstsq's default rcond
    w = scipy.linalg.lstsq(
        A, b, cond=cond, lapack_driver="gelsd", check_finite=False, overwrite_a=True
    )[0]
    return w
