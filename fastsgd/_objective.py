"""Vectorised NumPy twins of the kernel losses, for the Python-side checks.

Used between epochs (divergence baseline, objective of a model on data) and by
the diagnostics; never inside an epoch.
"""

from __future__ import annotations

import numpy as np

from ._kernels._codes import (
    LOSS_EPS_INSENSITIVE,
    LOSS_HUBER,
    LOSS_SQ_EPS_INSENSITIVE,
    PEN_ELASTICNET,
    PEN_L1,
    PEN_L2,
)


def losses(code: int, p: np.ndarray, y: np.ndarray, epsilon: float) -> np.ndarray:
    """Return the per-example loss of predictions ``p`` for targets ``y``."""
    r = np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    if code == LOSS_HUBER:
        a = np.abs(r)
        return np.where(a <= epsilon, 0.5 * r * r, epsilon * (a - 0.5 * epsilon))
    if code == LOSS_EPS_INSENSITIVE:
        return np.maximum(np.abs(r) - epsilon, 0.0)
    if code == LOSS_SQ_EPS_INSENSITIVE:
        return np.maximum(np.abs(r) - epsilon, 0.0) ** 2
    return 0.5 * r * r


def penalty_value(code: int, coef: np.ndarray, alpha: float, l1_ratio: float) -> float:
    """Return the penalty term of scikit-learn's SGD objective at ``coef``."""
    if code == PEN_L2:
        return 0.5 * alpha * float(np.dot(coef, coef))
    if code == PEN_L1:
        return alpha * float(np.abs(coef).sum())
    if code == PEN_ELASTICNET:
        return alpha * (
            (1.0 - l1_ratio) * 0.5 * float(np.dot(coef, coef))
            + l1_ratio * float(np.abs(coef).sum())
        )
    return 0.0


def weighted_mean(values: np.ndarray, sample_weight: np.ndarray) -> float:
    """Return the sample-weighted mean (0 when every weight is 0).

    ``values`` of shape (n, K) (K targets): the mean over the targets of each
    target's weighted mean.
    """
    total = float(np.sum(sample_weight, dtype=np.float64))
    if total <= 0.0:
        return 0.0
    if np.ndim(values) == 2:
        weighted = np.sum(values * sample_weight[:, None], dtype=np.float64)
        return float(weighted) / (total * values.shape[1])
    # not np.dot: a BLAS call spins up its threads, 100x slower on a busy machine
    return float(np.sum(values * sample_weight, dtype=np.float64)) / total
