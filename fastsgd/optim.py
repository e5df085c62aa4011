"""Optimizer names, their state and the hyper-parameter vector of the kernels.

State is plain arrays (no classes inside the kernels): the parameters (the
intercept last), the optimizer's moment slots, the averaged parameters, the
cumulative L1 record, an int64 step counter and a float64 carry.  It persists
across ``partial_fit`` calls.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._kernels import _codes as K

OPTIMIZERS = tuple(K.OPTIMIZERS)


class TrainState(NamedTuple):
    """Everything an epoch reads and writes besides the data."""

    params: np.ndarray  # (d + 1,), intercept last
    opt: np.ndarray  # (n_slots, d + 1)
    avg: np.ndarray  # (d + 1,), Polyak or EMA average
    q: np.ndarray  # (d,), L1 penalty actually applied per coordinate
    counters: np.ndarray  # int64 (1,): steps taken so far
    carry: np.ndarray  # float64 (N_CARRY,): cumulative L1 penalty u

    @classmethod
    def zeros(cls, n_features: int, dtype, optimizer: str) -> TrainState:
        """Return a fresh state for ``n_features`` features."""
        slots = K.OPT_SLOTS[K.OPTIMIZERS[optimizer]]
        return cls(
            params=np.zeros(n_features + 1, dtype=dtype),
            opt=np.zeros((slots, n_features + 1), dtype=dtype),
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


def optimizer_hparams(est, hp: np.ndarray) -> None:
    """Write the optimizer's hyper-parameters of estimator ``est`` into ``hp``."""
    hp[K.H_MOMENTUM] = est.momentum
    hp[K.H_RHO] = est.rho
    hp[K.H_BETA1] = est.beta1
    hp[K.H_BETA2] = est.beta2
    hp[K.H_EPS] = est.eps
    hp[K.H_WEIGHT_DECAY] = effective_weight_decay(est.optimizer, est.weight_decay)
    hp[K.H_CLIP] = 0.0 if est.clip_norm is None else est.clip_norm
    hp[K.H_EMA] = 0.0 if est.ema_decay is None else est.ema_decay


def effective_weight_decay(optimizer: str, weight_decay: float | None) -> float:
    """Return the decoupled decay: ``weight_decay``, or 0.01 for AdamW when None.

    0.01 is torch.optim.AdamW's default; every other optimizer defaults to 0.
    """
    if weight_decay is None:
        return 0.01 if optimizer == "adamw" else 0.0
    return float(weight_decay)
