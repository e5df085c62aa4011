"""The benchmark problems: Gaussian regression data with its exact optimum."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._util import check_int, mse

__all__ = ["NOISE", "Problem", "make_problem"]

NOISE = 0.5


@dataclass
class Problem:
    """A regression problem with its exact least-squares reference.

    Attributes
    ----------
    X, y : training data (dense C-contiguous array or CSR matrix) and targets,
        in the problem's dtype.
    X_test, y_test : held-out data from the same distribution.
    coef, intercept : the closed-form least-squares solution (float64).
    train_mse, test_mse : its training and test mean squared errors.
    density : fraction of non-zeros for CSR input, else None.
    """

    X: Any  # ndarray or CSR matrix
    y: np.ndarray
    X_test: Any
    y_test: np.ndarray
    coef: np.ndarray
    intercept: float
    train_mse: float
    test_mse: float
    density: float | None = None

    @property
    def dtype(self) -> str:
        """Name of the data's dtype."""
        return np.dtype(self.y.dtype).name

    @property
    def input(self) -> str:
        """``'csr'`` or ``'dense'``."""
        return "csr" if sp.issparse(self.X) else "dense"

    @property
    def x_bytes(self) -> int:
        """Bytes an epoch reads from X (values, and indices for CSR)."""
        if sp.issparse(self.X):
            return int(
                self.X.data.nbytes + self.X.indices.nbytes + self.X.indptr.nbytes
            )
        return int(self.X.nbytes)

    def numpy_sum(self) -> float:
        """Read the bytes of X once with NumPy's sum (the bandwidth reference)."""
        if sp.issparse(self.X):
            return float(self.X.data.sum()) + float(self.X.indices.sum())
        return float(self.X.sum())

    def test_ratio(self, coef, intercept) -> float:
        """Return the test MSE of ``(coef, intercept)`` over the closed form's."""
        return mse(self.X_test, self.y_test, coef, intercept) / self.test_mse

    def train_ratio(self, coef, intercept) -> float:
        """Return the training MSE of ``(coef, intercept)`` over the closed form's."""
        return mse(self.X, self.y, coef, intercept) / self.train_mse


def make_problem(
    n_samples,
    n_features,
    *,
    dtype="float64",
    density=None,
    n_test=None,
    seed=0,
    reference=True,
):
    """Return a well-conditioned linear regression problem and its optimum.

    Rows are independent standard normal vectors (for CSR, standard normal
    values at uniformly random positions), the true coefficients are scaled
    so that the signal has unit variance, the intercept is 0.5 and the noise
    has standard deviation 0.5.

    Parameters
    ----------
    n_samples : int
        Training rows, >= 2.
    n_features : int
        Features, >= 1.
    dtype : {'float64', 'float32'}, default='float64'
        Dtype of X and y.
    density : float or None, default=None
        Fraction of non-zeros in (0, 1] for CSR input; None makes dense input.
    n_test : int or None, default=None
        Held-out rows, >= 1; None means ``min(n_samples, 20000)``.
    seed : int, default=0
        Seed of the generator.
    reference : bool, default=True
        Compute the closed-form solution (skip it only when the problem's
        accuracy is not needed; the MSE fields are then NaN).

    Returns
    -------
    Problem
        The data and the closed-form reference.
    """
    n = check_int("n_samples", n_samples, 2)
    d = check_int("n_features", n_features, 1)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}.")
    if density is not None and not (0.0 < float(density) <= 1.0):
        raise ValueError(f"density must be in (0, 1] or None; got {density!r}.")
    n_test = min(n, 20_000) if n_test is None else check_int("n_test", n_test, 1)
    rng = np.random.default_rng(seed)
    X, w = _design(rng, n + n_test, d, dtype, density)
    y = X @ w + 0.5 + NOISE * rng.standard_normal(n + n_test)
    y = np.ascontiguousarray(y, dtype=dtype)
    X_train, X_test = X[:n], X[n:]
    y_train, y_test = y[:n], y[n:]
    if density is None:
        X_train = np.ascontiguousarray(X_train)
        X_test = np.ascontiguousarray(X_test)
    problem = Problem(
        X_train,
        y_train,
        X_test,
        y_test,
        np.zeros(d),
        0.0,
        math.nan,
        math.nan,
        None if density is None else float(density),
    )
    if reference:
        _solve(problem)
    return problem


def _design(rng, rows, d, dtype, density):
    """Return the rows (dense, or CSR with int32 indices) and the true weights."""
    if density is None:
        X = rng.standard_normal((rows, d), dtype=dtype)
        scale = 1.0 / math.sqrt(d)
    else:
        X = sp.csr_matrix(
            sp.random_array(
                (rows, d),
                density=float(density),
                format="csr",
                dtype=dtype,
                rng=rng,
                data_sampler=rng.standard_normal,
            )
        )
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
        scale = 1.0 / math.sqrt(max(d * float(density), 1.0))
    return X, rng.standard_normal(d) * scale


def _solve(problem):
    """Fill in the closed-form solution of ``problem`` and its MSEs."""
    from ..closed_form import closed_form

    X, y = problem.X, problem.y
    Xr = X.astype(np.float64) if X.dtype != np.float64 else X
    coef, intercept = closed_form(Xr, y.astype(np.float64))
    problem.coef = np.asarray(coef, dtype=np.float64)
    problem.intercept = float(intercept)
    problem.train_mse = mse(X, y, problem.coef, [problem.intercept])
    problem.test_mse = mse(
        problem.X_test, problem.y_test, problem.coef, [problem.intercept]
    )
