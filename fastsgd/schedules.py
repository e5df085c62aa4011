"""Learning-rate schedules: one spec each (code, slots, checks), and a reference.

The kernels evaluate the rate per step (``_kernels/_schedule.py``).  Each
:class:`ScheduleSpec` declares its code, the ``hparams`` slots it reads (and
how each is computed from the estimator's parameters and the planned steps)
and its checks; :class:`fastsgd._training.options.KernelOptions` reads these
specs and is the only writer of the kernels' option arrays.
:func:`learning_rate_at` is the same formula for plotting and tests.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np

from ._kernels import _codes as K

__all__ = [
    "AUTO_SUPPORTED",
    "SCHEDULES",
    "SCHEDULE_SPECS",
    "ScheduleSpec",
    "base_rate",
    "learning_rate_at",
    "optimal_init",
]

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


def _check_optimal(params: Mapping) -> None:
    if params["alpha"] == 0:
        raise ValueError(
            "alpha must be > 0 since learning_rate is 'optimal'. alpha is used "
            "to compute the optimal learning rate."
        )


def _check_passive_aggressive(params: Mapping) -> None:
    rate = params["learning_rate"]
    if params["loss"] != "epsilon_insensitive":
        raise ValueError(
            f"Learning rate '{rate}' only works with loss 'epsilon_insensitive'."
        )
    if params["optimizer"] != "sgd" or params["batch_size"] != 1:
        raise ValueError(
            f"Learning rate '{rate}' only works with optimizer='sgd' and batch_size=1."
        )


#: what learning_rate="auto" runs with (checked at fit time, before a kernel runs)
AUTO_SUPPORTED = (
    "optimizer='sgd' (auto is its own per-feature adaptive rule), any loss, "
    "penalty (l2, l1, elasticnet or None), weight_decay, batch_size (1, k or "
    "'full'), average or ema_decay, warmup, sampling, dense or CSR input; "
    "not clip_norm"
)


def _check_auto(params: Mapping) -> None:
    unsupported = []
    if params["optimizer"] != "sgd":
        unsupported.append(f"optimizer={params['optimizer']!r}")
    if params.get("clip_norm") is not None:
        unsupported.append(f"clip_norm={params['clip_norm']!r}")
    if unsupported:
        raise ValueError(
            f"learning_rate='auto' does not run with {', '.join(unsupported)}. "
            f"It supports {AUTO_SUPPORTED}."
        )


class ScheduleSpec(NamedTuple):
    """What the kernels need to know about one schedule.

    Attributes
    ----------
    name : str
        The estimator's ``learning_rate`` value.
    code : int
        Its ``_codes.LR_*`` code.
    slots : tuple of (str, callable)
        ``(hparams slot name, value(params, planned_steps))`` for each number
        it reads besides the base rate ``eta0`` and the warmup, which every
        schedule reads.
    check : callable or None
        ``check(params)`` raises ``ValueError`` for a combination it cannot run.
    """

    name: str
    code: int
    slots: tuple = ()
    check: Callable[[Mapping], None] | None = None


def _param(name):
    return lambda p, planned: float(p[name])


_TOTAL = ("total_steps", lambda p, planned: float(max(planned, 1)))
SCHEDULE_SPECS = {
    "constant": ScheduleSpec("constant", K.LR_CONSTANT),
    "optimal": ScheduleSpec(
        "optimal",
        K.LR_OPTIMAL,
        (
            ("alpha", _param("alpha")),
            ("optimal_init", lambda p, planned: optimal_init(p["alpha"])),
        ),
        _check_optimal,
    ),
    "invscaling": ScheduleSpec(
        "invscaling", K.LR_INVSCALING, (("power_t", _param("power_t")),)
    ),
    # constant within an epoch; the stopping rule divides eta by 5 between epochs
    "adaptive": ScheduleSpec("adaptive", K.LR_ADAPTIVE),
    "step": ScheduleSpec(
        "step",
        K.LR_STEP,
        (("gamma", _param("gamma")), ("step_epochs", _param("step_every"))),
    ),
    "cosine": ScheduleSpec(
        "cosine", K.LR_COSINE, (_TOTAL, ("eta_min", _param("eta_min")))
    ),
    "onecycle": ScheduleSpec(
        "onecycle",
        K.LR_ONECYCLE,
        (
            _TOTAL,
            ("pct_start", _param("pct_start")),
            ("div", lambda p, planned: ONECYCLE_DIV),
            ("final_div", lambda p, planned: ONECYCLE_FINAL_DIV),
        ),
    ),
    "pa1": ScheduleSpec("pa1", K.LR_PA1, (), _check_passive_aggressive),
    "pa2": ScheduleSpec("pa2", K.LR_PA2, (), _check_passive_aggressive),
    # its own scale-free steps (_kernels/_auto): eta0 is not read, the step
    # multiplier is the measured AUTO_ETA0 (see auto_eta0)
    "auto": ScheduleSpec(
        "auto", K.LR_AUTO, (("eta0", lambda p, planned: K.AUTO_ETA0),), _check_auto
    ),
}
SCHEDULES = tuple(SCHEDULE_SPECS)


def base_rate(learning_rate: str, eta0: float) -> float:
    """Return the base rate ``hparams[H_ETA0]`` a run starts from.

    ``eta0``, except for ``learning_rate='auto'``, which ignores ``eta0`` and
    steps with its own multiplier ``AUTO_ETA0`` (see ``_kernels/_auto``).
    """
    return K.AUTO_ETA0 if learning_rate == "auto" else float(eta0)


def warmup_steps(warmup, planned_steps: int) -> float:
    """Return the warmup length in steps: a real in (0, 1) is a fraction of the plan."""
    # any real in (0, 1), np.float32 included, is a fraction of the plan
    if not isinstance(warmup, numbers.Integral) and 0.0 < warmup < 1.0:
        return float(warmup * planned_steps)
    return float(warmup)


def schedule_values(params: Mapping, planned_steps: int) -> dict:
    """Return the ``hparams`` values (by slot name) of the schedule in ``params``.

    ``planned_steps`` is the length of the run the schedule plans over
    (cosine, onecycle and a fractional warmup).
    """
    spec = SCHEDULE_SPECS[params["learning_rate"]]
    values = {"eta0": float(params["eta0"])}
    values.update((slot, fn(params, planned_steps)) for slot, fn in spec.slots)
    values["warmup"] = warmup_steps(params["warmup"], planned_steps)
    return values


def learning_rate_at(schedule: str, t: int, epoch: int, hp: np.ndarray) -> float:
    """Return the rate of 1-based step ``t`` in 0-based ``epoch`` (for plots)."""
    from ._kernels._schedule import learning_rate  # compiles on first use

    return float(learning_rate(K.SCHEDULES[schedule], float(t), epoch, hp))
