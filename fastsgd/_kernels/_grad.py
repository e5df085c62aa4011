"""Block reductions for full-batch and distributed training.

Two compiled reductions over one block of rows, both accumulating in float64
whatever the data's dtype (float32 or float64, read-only and memory-mapped
arrays accepted):

- :func:`block_loss_grad`: the loss sum and its gradient in ``(w, b)`` at a
  given point (unit sample weights).  Summed over blocks in a fixed order, they
  give the exact full-data objective and gradient that L-BFGS needs.
- :func:`block_moments`: the row count, the mean of ``[x, y]`` and the
  co-moment matrix ``sum (z - mean)(z - mean)^T`` of ``z = [x, y]`` (or the
  raw moments about zero).  Merged over blocks with Chan's pairwise update,
  they give ``X_c^T X_c`` and ``X_c^T y_c`` of the whole data in one pass,
  without the cancellation of the uncentered formula.

Arguments: ``X`` (n, d) and ``y`` (n,) in the same dtype; ``w`` is float64 of
length d + 1, the intercept last; ``codes`` is int64 ``[loss code,
fit_intercept]``; ``hp`` is float64 ``[epsilon]``.  Outputs are float64 arrays
the caller allocates.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from ._losses import loss_derivative, loss_value

# slots of the int64 codes and float64 hparams of block_loss_grad
G_LOSS = 0
G_FIT_INTERCEPT = 1
N_GCODES = 2
G_EPSILON = 0
N_GHPARAMS = 1

# rows per tile of the co-moment product (a (256, d + 1) float64 scratch)
TILE_ROWS = 256


@kernel(entry=True)
def block_loss_grad(X, y, w, codes, hp, grad):
    """Return ``sum_i loss_i`` and write ``sum_i dloss_i [x_i, 1]`` into ``grad``.

    The prediction is ``x_i . w[:d] + w[d]``; ``grad[d]`` (the intercept's
    gradient) is 0 when ``codes[G_FIT_INTERCEPT]`` is 0.  No penalty, no mean:
    the caller sums blocks and divides by the total row count.
    """
    n = X.shape[0]
    d = X.shape[1]
    loss = codes[G_LOSS]
    fit_b = codes[G_FIT_INTERCEPT] != 0
    eps = hp[G_EPSILON]
    for j in range(d + 1):
        grad[j] = 0.0
    total = 0.0
    gb = 0.0
    for i in range(n):
        xi = X[i]
        p = w[d]
        for j in range(d):
            p += xi[j] * w[j]
        total += loss_value(loss, p, y[i], eps)
        g = loss_derivative(loss, p, y[i], eps)
        for j in range(d):
            grad[j] += g * xi[j]
        gb += g
    grad[d] = gb if fit_b else 0.0
    return total


@kernel(entry=True)
def block_moments(X, y, center, mean, com):
    """Return the row count; write the mean and co-moments of ``z = [x, y]``.

    With ``center`` the moments are about the block mean (written to
    ``mean``); without, about zero (``mean`` is set to 0).  ``com`` receives
    the full symmetric ``(d + 1, d + 1)`` matrix, the target last.  Rows are
    centered into a float64 tile of ``TILE_ROWS`` rows and accumulated with one
    matrix product per tile (BLAS).
    """
    n = X.shape[0]
    d = X.shape[1]
    for j in range(d + 1):
        mean[j] = 0.0
    if center and n > 0:
        # two passes: the mean, then its correction (removes its rounding)
        for i in range(n):
            xi = X[i]
            for j in range(d):
                mean[j] += xi[j]
            mean[d] += y[i]
        for j in range(d + 1):
            mean[j] /= n
        corr = np.zeros(d + 1)
        for i in range(n):
            xi = X[i]
            for j in range(d):
                corr[j] += xi[j] - mean[j]
            corr[d] += y[i] - mean[d]
        for j in range(d + 1):
            mean[j] += corr[j] / n
    for j in range(d + 1):
        for k in range(d + 1):
            com[j, k] = 0.0
    tile = np.zeros((min(TILE_ROWS, max(n, 1)), d + 1))
    prod = np.zeros((d + 1, d + 1))
    start = 0
    while start < n:
        stop = min(start + TILE_ROWS, n)
        rows = stop - start
        if rows < tile.shape[0]:
            tile[rows:, :] = 0.0
        for r in range(rows):
            xi = X[start + r]
            for j in range(d):
                tile[r, j] = xi[j] - mean[j]
            tile[r, d] = y[start + r] - mean[d]
        np.dot(tile.T, tile, prod)
        for j in range(d + 1):
            for k in range(d + 1):
                com[j, k] += prod[j, k]
        start = stop
    return float(n)
