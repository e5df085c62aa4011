"""Per-example regression losses and their derivatives in the prediction.

scikit-learn's conventions: ``squared_error`` is 1/2 (p - y)^2, ``huber`` is
quadratic within ``epsilon`` of the target and linear outside, the
epsilon-insensitive losses ignore errors smaller than ``epsilon``.
"""

from __future__ import annotations

from ._codes import LOSS_EPS_INSENSITIVE, LOSS_HUBER, LOSS_SQ_EPS_INSENSITIVE
from ._jit import kernel

# scikit-learn clips |dloss| to this to keep one wild example from overflowing
MAX_DLOSS = 1e12


@kernel(inline=True)
def loss_value(code, p, y, eps):
    """Return the loss of predicting ``p`` for target ``y`` (as float64)."""
    r = float(p) - float(y)
    if code == LOSS_HUBER:
        a = abs(r)
        if a <= eps:
            return 0.5 * r * r
        return eps * (a - 0.5 * eps)
    if code == LOSS_EPS_INSENSITIVE:
        a = abs(r) - eps
        return a if a > 0.0 else 0.0
    if code == LOSS_SQ_EPS_INSENSITIVE:
        a = abs(r) - eps
        return a * a if a > 0.0 else 0.0
    return 0.5 * r * r


@kernel(inline=True)
def loss_derivative(code, p, y, eps):
    """Return d loss / d p, clipped to +-MAX_DLOSS (as float64)."""
    r = float(p) - float(y)
    if code == LOSS_HUBER:
        if r > eps:
            g = eps
        elif r < -eps:
            g = -eps
        else:
            g = r
    elif code == LOSS_EPS_INSENSITIVE:
        if r > eps:
            g = 1.0
        elif r < -eps:
            g = -1.0
        else:
            g = 0.0
    elif code == LOSS_SQ_EPS_INSENSITIVE:
        if r > eps:
            g = 2.0 * (r - eps)
        elif r < -eps:
            g = 2.0 * (r + eps)
        else:
            g = 0.0
    else:
        g = r
    return clip_dloss(g)


@kernel(inline=True)
def clip_dloss(g):
    """Return ``g`` clipped to +-MAX_DLOSS (scikit-learn's rule); NaN stays NaN."""
    if g > MAX_DLOSS:
        return MAX_DLOSS
    if g < -MAX_DLOSS:
        return -MAX_DLOSS
    return g
