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


@kernel(inline=True)
def schedule_params(hp):
    """Return the schedule's numbers as a tuple of scalars (read once per epoch)."""
    return (
        hp[H_ETA0],
        hp[H_ALPHA],
        hp[H_OPTIMAL_INIT],
        hp[H_POWER_T],
        hp[H_GAMMA],
        hp[H_STEP_EPOCHS],
        hp[H_TOTAL_STEPS],
        hp[H_ETA_MIN],
        hp[H_PCT_START],
        hp[H_DIV],
        hp[H_FINAL_DIV],
        hp[H_WARMUP],
    )


@kernel(inline=True)
def rate(code, t, epoch, sp):
    """Return the learning rate of step ``t`` (1-based) in ``epoch`` (0-based).

    ``sp`` is :func:`schedule_params`'s tuple.  scikit-learn's schedules are
    computed in place; the epoch-wise and annealed ones (step, cosine,
    one-cycle) are a call to :func:`annealed_rate`.  Inlining all of them into
    every epoch kernel made each kernel compile 0.3-0.5 s longer, while the
    call costs the default path 5-10% (measured with every branch a call).
    """
    eta0 = sp[0]
    if code == LR_OPTIMAL:
        eta = 1.0 / (sp[1] * (sp[2] + t - 1.0))
    elif code == LR_INVSCALING:
        # pow costs ~10 ns a step; scikit-learn's defaults have exact roots
        power_t = sp[3]
        if power_t == 0.25:
            eta = eta0 / math.sqrt(math.sqrt(t))
        elif power_t == 0.5:
            eta = eta0 / math.sqrt(t)
        else:
            eta = eta0 / math.pow(t, power_t)
    elif code == LR_STEP or code == LR_COSINE or code == LR_ONECYCLE:
        eta = annealed_rate(code, t, epoch, sp)
    else:  # constant, adaptive (Python lowers eta0 between epochs), pa1, pa2
        eta = eta0
    warm = sp[11]
    if warm > 0.0 and t < warm:
        eta *= t / warm
    return eta


@kernel
def annealed_rate(code, t, epoch, sp):
    """Return the step, cosine or one-cycle rate of step ``t`` (see :func:`rate`)."""
    (eta0, _, _, _, gamma, step_epochs, total, eta_min, pct, div, final_div, _) = sp
    if code == LR_STEP:
        return eta0 * math.pow(gamma, math.floor(epoch / step_epochs))
    if code == LR_COSINE:
        frac = min((t - 1.0) / max(total, 1.0), 1.0)
        return eta_min + (eta0 - eta_min) * 0.5 * (1.0 + math.cos(math.pi * frac))
    # torch.optim.lr_scheduler.OneCycleLR (cos annealing, two phases) at its
    # 0-based step s: phase 1 ends at pct * total - 1, phase 2 at total - 1
    start = eta0 / div
    end = start / final_div
    s = t - 1.0
    end1 = pct * total - 1.0
    end2 = total - 1.0
    if end1 > 0.0 and s <= end1:
        frac = s / end1
        return start + (eta0 - start) * 0.5 * (1.0 - math.cos(math.pi * frac))
    e1 = max(end1, 0.0)
    frac = min((s - e1) / max(end2 - e1, 1.0), 1.0)
    return end + (eta0 - end) * 0.5 * (1.0 + math.cos(math.pi * frac))


@kernel(entry=True)
def learning_rate(code, t, epoch, hp):
    """Return the learning rate of step ``t`` in ``epoch`` from the ``hp`` vector."""
    return rate(code, t, epoch, schedule_params(hp))
