"""Problems for learning_rate="auto" (issue 15), and Vowpal Wabbit's input.

The problems and VW's input format live in :mod:`fastsgd.bench.raw` (the
``raw`` section of ``fastsgd bench``); this suite adds the exact optimum's
coefficients and the timing against VW's own learning loop. Each problem
returns ``X_train, X_test, y_train, y_test``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fastsgd import closed_form
from fastsgd.bench.raw import diabetes, text_like, vw_args, vw_lines, wide_scales

__all__ = [
    "diabetes",
    "mse",
    "optimum",
    "text_like",
    "vw_args",
    "vw_lines",
    "wide_scales",
]


def optimum(X, y, alpha=0.0):
    """Return ``closed_form`` on the columns used in training (others 0)."""
    if sp.issparse(X):
        used = np.unique(X.indices)
        coef = np.zeros(X.shape[1])
        c, b = closed_form(X[:, used], y, alpha=alpha)
        coef[used] = c
        return coef, float(b)
    c, b = closed_form(X, y, alpha=alpha)
    return np.asarray(c, dtype=float), float(b)


def mse(X, y, coef, intercept):
    """Return the mean squared error of ``X coef + intercept``."""
    pred = np.asarray(X @ np.asarray(coef, dtype=float)).ravel() + float(intercept)
    return float(np.mean((pred - y) ** 2))
