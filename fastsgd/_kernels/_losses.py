"""Per-example regression losses and their derivatives in the prediction.

scikit-learn's conventions: ``squared_error`` is 1/2 (p - y)^2, ``huber`` is
quadratic within ``epsilon`` of the target and linear outside, the
epsilon-insensitive losses ignore errors smaller than ``epsilon``.
"""

from __future__ import annotations

from ._codes import LOSS_EPS_INSENSITIVE, LOSS_HUBER, LOSS_SQUARED
from ._jit import kernel

# scikit-learn clips |dloss| to this to keep one wild example from overflowing
MAX_DLOSS = 1e12


@kernel(inline=True)
def loss_value(code, p, y, eps):
    """Return the loss of predicting ``p`` for target ``y`` (as float64).

    The squared loss (the default) in place, the others through a call: see
    :func:`loss_derivative`.
    """
    if code == LOSS_SQUARED:
        r = float(p) - float(y)
        return 0.5 * r * r
    return robust_loss_value(code, p, y, eps)


@kernel
def robust_loss_value(code, p, y, eps):
    """Return the Huber or epsilon-insensitive loss (see :func:`loss_value`)."""
    r = float(p) - float(y)
    if code == LOSS_HUBER:
        a = abs(r)
        if a <= eps:
            return 0.5 * r * r
        return eps * (a - 0.5 * eps)
    a = abs(r) - eps
    if code == LOSS_EPS_INSENSITIVE:
        return a if a > 0.0 else 0.0
    return a * a if a > 0.0 else 0.0


@kernel(inline=True)
def loss_derivative(code, p, y, eps):
    """Return d loss / d p, clipped to +-MAX_DLOSS (as float64).

    The squared loss in place; the others are a call (:func:`robust_derivative`):
    inlining every loss into every epoch kernel cost compile time, and the
    call a few per cent of a per-example step.
    """
    if code == LOSS_SQUARED:
        return clip_dloss(float(p) - float(y))
    return robust_derivative(code, p, y, eps)


@kernel
def robust_derivative(code, p, y, eps):
    """Return the Huber or epsilon-insensitive derivative, clipped."""
    r = float(p) - float(y)
    if code == LOSS_HUBER:
        g = eps if r > eps else -eps if r < -eps else r  # NaN stays NaN
    elif code == LOSS_EPS_INSENSITIVE:
        g = 1.0 if r > eps else -1.0 if r < -eps else 0.0
    elif r > eps:
        g = 2.0 * (r - eps)
    elif r < -eps:
        g = 2.0 * (r + eps)
    else:
        g = 0.0
    return clip_dloss(g)


@kernel(inline=True)
def clip_dloss(g):
    """Return ``g`` clipped to +-MAX_DLOSS (scikit-learn's rule); NaN stays NaN."""
    if g > MAX_DLOSS:
        return MAX_DLOSS
    if g < -MAX_DLOSS:
        return -MAX_DLOSS
    return g
