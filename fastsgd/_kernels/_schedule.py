"""Learning rate as a pure function of the step (and epoch).

``t`` is scikit-learn's 1-based step counter: the first update of a fresh model
uses ``t = 1``.  The counter persists across ``partial_fit`` calls, so every
schedule keeps counting where it stopped.
"""

from __future__ import annotations

import math

from ._codes import (
    H_ALPHA,
    H_DIV,
    H_ETA0,
    H_ETA_MIN,
    H_FINAL_DIV,
    H_GAMMA,
    H_OPTIMAL_INIT,
    H_PCT_START,
    H_POWER_T,
    H_STEP_EPOCHS,
    H_TOTAL_STEPS,
    H_WARMUP,
    LR_COSINE,
    LR_INVSCALING,
    LR_ONECYCLE,
    LR_OPTIMAL,
    LR_STEP,
)
from ._jit import kernel


@kernel
def learning_rate(code, t, epoch, hp):
    """Return the learning rate of step ``t`` (1-based) in ``epoch`` (0-based)."""
    eta0 = hp[H_ETA0]
    if code == LR_OPTIMAL:
        eta = 1.0 / (hp[H_ALPHA] * (hp[H_OPTIMAL_INIT] + t - 1.0))
    elif code == LR_INVSCALING:
        eta = eta0 / math.pow(t, hp[H_POWER_T])
    elif code == LR_STEP:
        eta = eta0 * math.pow(hp[H_GAMMA], math.floor(epoch / hp[H_STEP_EPOCHS]))
    elif code == LR_COSINE:
        frac = min((t - 1.0) / max(hp[H_TOTAL_STEPS], 1.0), 1.0)
        lo = hp[H_ETA_MIN]
        eta = lo + (eta0 - lo) * 0.5 * (1.0 + math.cos(math.pi * frac))
    elif code == LR_ONECYCLE:
        total = max(hp[H_TOTAL_STEPS], 1.0)
        up = max(hp[H_PCT_START] * total, 1.0)
        start = eta0 / hp[H_DIV]
        end = start / hp[H_FINAL_DIV]
        s = t - 1.0
        if s < up:
            frac = s / up
            eta = start + (eta0 - start) * 0.5 * (1.0 - math.cos(math.pi * frac))
        else:
            frac = min((s - up) / max(total - up, 1.0), 1.0)
            eta = end + (eta0 - end) * 0.5 * (1.0 + math.cos(math.pi * frac))
    else:  # constant, adaptive (Python lowers eta0 between epochs), pa1, pa2
        eta = eta0
    warm = hp[H_WARMUP]
    if warm > 0.0 and t < warm:
        eta *= t / warm
    return eta
