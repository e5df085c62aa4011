"""Optimizers: one spec each (code, slots, state rows, checks), and their state.

State is plain arrays (no classes inside the kernels): the parameters (the
intercept last), the optimizer's moment slots, the averaged parameters, the
cumulative L1 record, an int64 step counter and a float64 carry.  It persists
across ``partial_fit`` calls.

Each :class:`OptimizerSpec` declares what the kernels need to know about an
optimizer: its code, the ``hparams`` slots it reads (and the estimator
parameter each comes from), the rows of state it keeps and its checks.
:class:`fastsgd._training.options.KernelOptions` reads these specs; it is the
only writer of the kernels' option arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np

from ._kernels import _codes as K

__all__ = [
    "OPTIMIZERS",
    "OPTIMIZER_SPECS",
    "UPDATE_SLOTS",
    "OptimizerSpec",
    "TrainState",
    "effective_weight_decay",
    "state_rows",
]


class OptimizerSpec(NamedTuple):
    """What the kernels need to know about one optimizer.

    Attributes
    ----------
    name : str
        The estimator's ``optimizer`` value.
    code : int
        Its ``_codes.OPT_*`` code.
    state_rows : int
        Rows of optimizer state (each ``n_features + 1`` long) it keeps.
    slots : tuple of (str, str)
        ``(hparams slot name, estimator parameter)`` for each number it reads.
    check : callable or None
        ``check(params)`` raises ``ValueError`` for a parameter combination it
        cannot run.
    """

    name: str
    code: int
    state_rows: int
    slots: tuple = ()
    check: Callable[[Mapping], None] | None = None


_MOMENTUM = (("momentum", "momentum"),)
OPTIMIZER_SPECS = {
    "sgd": OptimizerSpec("sgd", K.OPT_SGD, 0),
    "momentum": OptimizerSpec("momentum", K.OPT_MOMENTUM, 1, _MOMENTUM),
    "nesterov": OptimizerSpec("nesterov", K.OPT_NESTEROV, 1, _MOMENTUM),
    "adagrad": OptimizerSpec("adagrad", K.OPT_ADAGRAD, 1, (("eps", "eps"),)),
    "rmsprop": OptimizerSpec(
        "rmsprop", K.OPT_RMSPROP, 1, (("rho", "rho"), ("eps", "eps"))
    ),
    "adam": OptimizerSpec(
        "adam", K.OPT_ADAM, 2, (("beta1", "beta1"), ("beta2", "beta2"), ("eps", "eps"))
    ),
    "adamw": OptimizerSpec(
        "adamw",
        K.OPT_ADAMW,
        2,
        (("beta1", "beta1"), ("beta2", "beta2"), ("eps", "eps")),
    ),
}
OPTIMIZERS = tuple(OPTIMIZER_SPECS)

# options of the update that every optimizer applies: hparams slot -> a
# function of the estimator's parameters
UPDATE_SLOTS = {
    "weight_decay": lambda p: effective_weight_decay(p["optimizer"], p["weight_decay"]),
    "clip": lambda p: 0.0 if p["clip_norm"] is None else float(p["clip_norm"]),
    "ema": lambda p: 0.0 if p["ema_decay"] is None else float(p["ema_decay"]),
}


def optimizer_values(params: Mapping) -> dict:
    """Return the ``hparams`` values (by slot name) of the optimizer in ``params``."""
    spec = OPTIMIZER_SPECS[params["optimizer"]]
    values = {slot: float(params[name]) for slot, name in spec.slots}
    values.update((slot, fn(params)) for slot, fn in UPDATE_SLOTS.items())
    return values


class TrainState(NamedTuple):
    """Everything an epoch reads and writes besides the data."""

    params: np.ndarray  # (d + 1,), intercept last
    opt: np.ndarray  # (n_slots, d + 1)
    avg: np.ndarray  # (d + 1,), Polyak or EMA average
    q: np.ndarray  # (d,), L1 penalty actually applied per coordinate
    counters: np.ndarray  # int64 (1,): steps taken so far
    carry: np.ndarray  # float64 (N_CARRY,): cumulative L1 penalty u

    @classmethod
    def zeros(
        cls,
        n_features: int,
        dtype,
        optimizer: str,
        learning_rate: str | None = None,
        outputs=None,
    ) -> TrainState:
        """Return a fresh state for ``n_features`` features.

        ``learning_rate='auto'`` keeps its own state rows whatever the optimizer.
        ``outputs`` (K >= 2 targets): every array but the step counter gets a
        leading axis of K, each output's state laid out as a single output's
        (``params`` (K, d + 1), ``opt`` (K, n_slots, d + 1), ``carry``
        (K, N_CARRY), ...; see ``_kernels/_multi.py``).
        """
        rows = state_rows(optimizer, learning_rate)
        if outputs is not None:
            n_out = int(outputs)
            return cls(
                params=np.zeros((n_out, n_features + 1), dtype=dtype),
                opt=np.zeros((n_out, rows, n_features + 1), dtype=dtype),
                avg=np.zeros((n_out, n_features + 1), dtype=dtype),
                q=np.zeros((n_out, n_features), dtype=dtype),
                counters=np.zeros(1, dtype=np.int64),
                carry=np.zeros((n_out, K.N_CARRY), dtype=np.float64),
            )
        return cls(
            params=np.zeros(n_features + 1, dtype=dtype),
            opt=np.zeros((rows, n_features + 1), dtype=dtype),
            avg=np.zeros(n_features + 1, dtype=dtype),
            q=np.zeros(n_features, dtype=dtype),
            counters=np.zeros(1, dtype=np.int64),
            carry=np.zeros(K.N_CARRY, dtype=np.float64),
        )

    def copy(self) -> TrainState:
        """Return a deep copy (a snapshot to roll back to)."""
        return TrainState(*(a.copy() for a in self))

    def restore(self, other: TrainState) -> None:
        """Overwrite this state in place with ``other``."""
        for dst, src in zip(self, other, strict=True):
            np.copyto(dst, src)

    @property
    def steps(self) -> int:
        """Steps taken so far."""
        return int(self.counters[0])

    @property
    def outputs(self):
        """Number of targets K of a multi-output state (None: one target)."""
        return self.params.shape[0] if self.params.ndim == 2 else None


def state_rows(optimizer: str, learning_rate: str | None = None) -> int:
    """Return the rows of optimizer state a configuration keeps (``opt.shape[0]``)."""
    if learning_rate == "auto":
        return K.AUTO_SLOTS
    return OPTIMIZER_SPECS[optimizer].state_rows


def effective_weight_decay(optimizer: str, weight_decay: float | None) -> float:
    """Return the decoupled decay: ``weight_decay``, or 0.01 for AdamW when None.

    0.01 is torch.optim.AdamW's default; every other optimizer defaults to 0.
    """
    if weight_decay is None:
        return 0.01 if optimizer == "adamw" else 0.0
    return float(weight_decay)
