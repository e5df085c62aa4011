"""Learning-rate schedules: names, parameters and the Python-side reference.

The kernels evaluate the rate per step (``_kernels/_schedule.py``); this
module maps the estimator's options to the hyper-parameter vector and offers
:func:`learning_rate_at`, the same formula for plotting and tests.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._kernels import _codes as K

SCHEDULES = tuple(K.SCHEDULES)

# torch.optim.lr_scheduler.OneCycleLR's defaults
ONECYCLE_DIV = 25.0
ONECYCLE_FINAL_DIV = 1e4


def optimal_init(alpha: float) -> float:
    """Return scikit-learn's ``optimal_init`` for ``learning_rate='optimal'``.

    For every regression loss scikit-learn's initial rate is ``typw =
    sqrt(1 / sqrt(alpha))`` (the loss gradient at the probe point is below 1),
    and ``t`` is offset so that the first step uses it.
    """
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    return 1.0 / (typw * alpha)


def schedule_hparams(est, hp: np.ndarray, total_steps: int) -> None:
    """Write the schedule parameters of estimator ``est`` into ``hp``."""
    hp[K.H_ETA0] = est.eta0
    hp[K.H_POWER_T] = est.power_t
    if est.learning_rate == "optimal":
        hp[K.H_OPTIMAL_INIT] = optimal_init(est.alpha)
    hp[K.H_GAMMA] = est.gamma
    hp[K.H_STEP_EPOCHS] = est.step_every
    hp[K.H_TOTAL_STEPS] = max(total_steps, 1)
    hp[K.H_ETA_MIN] = est.eta_min
    hp[K.H_PCT_START] = est.pct_start
    hp[K.H_DIV] = ONECYCLE_DIV
    hp[K.H_FINAL_DIV] = ONECYCLE_FINAL_DIV
    warmup = est.warmup
    # any real in (0, 1), np.float32 included, is a fraction of the plan
    if not isinstance(warmup, numbers.Integral) and 0.0 < warmup < 1.0:
        warmup = warmup * total_steps
    hp[K.H_WARMUP] = float(warmup)


def learning_rate_at(schedule: str, t: int, epoch: int, hp: np.ndarray) -> float:
    """Return the rate of 1-based step ``t`` in 0-based ``epoch`` (for plots)."""
    from ._kernels._schedule import learning_rate  # compiles on first use

    return float(learning_rate(K.SCHEDULES[schedule], float(t), epoch, hp))
