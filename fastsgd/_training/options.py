"""The kernels' options: the one place that fills ``codes`` and ``hparams``.

The compiled epochs read their options from two small arrays (see
``_kernels/_codes.py``): ``codes`` (int64: loss, penalty, optimizer,
schedule, sampling, ...) and ``hparams`` (float64: rates, penalties, decays).
:class:`KernelOptions` names every value by its slot, builds them from the
estimator's parameters through the optimizer and schedule specs
(:data:`fastsgd.optim.OPTIMIZER_SPECS`, :data:`fastsgd.schedules.SCHEDULE_SPECS`)
and writes the arrays; the estimator, Dask, ``compile_kernels`` and the
kernel tests all go through it.  :func:`check_params` runs the cross-parameter
checks, the specs' own included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from .._kernels import _codes as K
from ..optim import OPTIMIZER_SPECS, optimizer_values
from ..schedules import SCHEDULE_SPECS, schedule_values

__all__ = [
    "BLOCK_ROWS",
    "CODE_SLOTS",
    "HP_SLOTS",
    "KernelOptions",
    "check_params",
    "stream_layout",
    "use_streams",
]

# rows per block for sampling="blocks" (a block of 256 rows of 100 float64
# features is 200 KiB: read in order, it streams like an in-order epoch)
BLOCK_ROWS = 256

# the shuffled visiting order of sampling="streams" (see _rows.stream_sequence).
# Measured here (AMD EPYC, 100k x 100 float64, per-example epochs, best of 25
# interleaved runs): rows in order 68 ns a row, a full permutation 168, 16
# streams of 32-row segments 83, 16 of 64 rows 79, 32 of 32 rows 102.  Short
# segments matter for accuracy: on rows sorted by the target, 64-row segments
# left one epoch's test MSE up to 1.9% above the optimum where the permutation
# stays within 0.6%; 32 rows stay within it.  A mini-batch takes one row from
# each of its first B streams, so it reads at least min(B, 64) streams: with
# 16 streams a batch of 32 held two rows of each of 16 clusters of
# near-duplicates, and Adam's first epoch ended 1.3% above the permutation's.
STREAMS = 16
MAX_STREAMS = 64
SEGMENT_BYTES = 32 * 1024
MIN_SEGMENT_ROWS = 8
MAX_SEGMENT_ROWS = 32
# sampling="auto" reads data smaller than this through a full permutation:
# it sits in the caches, where the order costs nothing
AUTO_STREAM_BYTES = 4 * 2**20


def stream_layout(m: int, row_bytes: float, batch: int = 1):
    """Return ``(streams, segment rows)`` for ``m`` rows of ``row_bytes`` each.

    Segments of ``MAX_SEGMENT_ROWS`` rows, or about ``SEGMENT_BYTES`` of wide
    rows (at least ``MIN_SEGMENT_ROWS``), shortened when needed so that every
    stream gets at least four: small data then still interleaves unrelated
    parts of the rows.
    """
    streams = min(MAX_STREAMS, max(STREAMS, batch))
    size = max(MIN_SEGMENT_ROWS, int(SEGMENT_BYTES // max(row_bytes, 1.0)))
    size = min(size, MAX_SEGMENT_ROWS)
    size = max(1, min(size, m // (4 * streams)))
    return streams, size


def use_streams(sampling: str, m: int, row_bytes: float) -> bool:
    """Tell whether a shuffled epoch with ``sampling`` reads rows in streams."""
    if sampling == "streams":
        return True
    return sampling == "auto" and m * row_bytes > AUTO_STREAM_BYTES


#: name -> slot of the int64 ``codes`` array
CODE_SLOTS = {
    "loss": K.C_LOSS,
    "penalty": K.C_PENALTY,
    "optimizer": K.C_OPTIMIZER,
    "schedule": K.C_SCHEDULE,
    "sampling": K.C_SAMPLING,
    "average": K.C_AVERAGE,
    "fit_intercept": K.C_FIT_INTERCEPT,
    "batch": K.C_BATCH,
    "record_every": K.C_RECORD_EVERY,
    "seed": K.C_SEED,
    "avg_start": K.C_AVG_START,
    "epoch": K.C_EPOCH,
    "block": K.C_BLOCK,
    "streams": K.C_STREAMS,
    "check": K.C_CHECK,
}
#: name -> slot of the float64 ``hparams`` array
HP_SLOTS = {
    "eta0": K.H_ETA0,
    "alpha": K.H_ALPHA,
    "l1_ratio": K.H_L1_RATIO,
    "epsilon": K.H_EPSILON,
    "power_t": K.H_POWER_T,
    "optimal_init": K.H_OPTIMAL_INIT,
    "momentum": K.H_MOMENTUM,
    "rho": K.H_RHO,
    "beta1": K.H_BETA1,
    "beta2": K.H_BETA2,
    "eps": K.H_EPS,
    "weight_decay": K.H_WEIGHT_DECAY,
    "clip": K.H_CLIP,
    "ema": K.H_EMA,
    "gamma": K.H_GAMMA,
    "step_epochs": K.H_STEP_EPOCHS,
    "total_steps": K.H_TOTAL_STEPS,
    "eta_min": K.H_ETA_MIN,
    "warmup": K.H_WARMUP,
    "pct_start": K.H_PCT_START,
    "div": K.H_DIV,
    "final_div": K.H_FINAL_DIV,
}
_SAMPLING = {
    "auto": K.SAMPLE_SHUFFLE,  # small data (see use_streams)
    "streams": K.SAMPLE_STREAMS,
    "permutation": K.SAMPLE_SHUFFLE,
    "epoch": K.SAMPLE_SHUFFLE,
    "blocks": K.SAMPLE_BLOCKS,
    "replacement": K.SAMPLE_REPLACEMENT,
}


@dataclass(frozen=True)
class KernelOptions:
    """Every option of a compiled epoch, by slot name.

    Parameters
    ----------
    codes : mapping of str to int
        Values of the ``codes`` slots (names of :data:`CODE_SLOTS`); slots not
        given are 0.
    hparams : mapping of str to float
        Values of the ``hparams`` slots (names of :data:`HP_SLOTS`); slots not
        given are 0.
    """

    codes: Mapping = field(default_factory=dict)
    hparams: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for given, table, what in (
            (self.codes, CODE_SLOTS, "code"),
            (self.hparams, HP_SLOTS, "hparams"),
        ):
            unknown = set(given) - set(table)
            if unknown:
                raise KeyError(f"no {what} slot named {sorted(unknown)}")

    @classmethod
    def from_params(
        cls, params: Mapping, rows: int, planned_steps: int, row_bytes: float = 0.0
    ):
        """Return the options an estimator with ``params`` trains ``rows`` rows with.

        Parameters
        ----------
        params : mapping
            ``SGDRegressor`` parameters (``get_params()``).
        rows : int
            Rows an epoch visits (``batch_size='full'`` is one batch of them).
        planned_steps : int
            Steps the schedule plans over (cosine, onecycle, warmup fractions).
        row_bytes : float, default=0.0
            Mean bytes of a row of X: decide the visiting order of
            ``sampling='auto'`` and the segments of ``'streams'``.
        """
        shuffle = params["shuffle"]
        batch = rows if params["batch_size"] == "full" else params["batch_size"]
        codes = {
            "loss": K.LOSSES[params["loss"]],
            "penalty": K.PENALTIES[params["penalty"]],
            "optimizer": OPTIMIZER_SPECS[params["optimizer"]].code,
            "schedule": SCHEDULE_SPECS[params["learning_rate"]].code,
            "sampling": _SAMPLING[params["sampling"]] if shuffle else 0,
            "fit_intercept": int(params["fit_intercept"]),
            "batch": batch,
            "record_every": int(params["record_every"]),
            "block": BLOCK_ROWS,
        }
        if shuffle and use_streams(params["sampling"], rows, row_bytes):
            codes["sampling"] = K.SAMPLE_STREAMS
            codes["streams"], codes["block"] = stream_layout(rows, row_bytes, batch)
        if params["ema_decay"] is not None:
            codes["average"] = K.AVG_EMA
        elif params["average"]:
            codes["average"] = K.AVG_POLYAK
            codes["avg_start"] = int(params["average"])
        l1_ratio = params["l1_ratio"]
        hparams = {
            "alpha": float(params["alpha"]),
            "l1_ratio": 0.0 if l1_ratio is None else float(l1_ratio),
            "epsilon": float(params["epsilon"]),
            **optimizer_values(params),
            **schedule_values(params, planned_steps),
        }
        return cls({k: int(v) for k, v in codes.items()}, hparams)

    def arrays(self):
        """Return new ``(codes, hparams)`` arrays holding these options."""
        codes = np.zeros(K.N_CODES, dtype=np.int64)
        for name, value in self.codes.items():
            codes[CODE_SLOTS[name]] = value
        hp = np.zeros(K.N_HPARAMS, dtype=np.float64)
        for name, value in self.hparams.items():
            hp[HP_SLOTS[name]] = value
        return codes, hp

    @staticmethod
    def start_epoch(codes, hp, epoch: int, seed: int, eta: float) -> None:
        """Write the per-epoch options in place: epoch, its seed, the base rate.

        ``epoch`` is the 0-based schedule position, ``seed`` the run's seed
        (each epoch's generator is seeded from both), ``eta`` the base rate
        (``'adaptive'`` lowers it between epochs).  ``learning_rate='auto'``
        keeps the multiplier :meth:`from_params` wrote (it reads no ``eta0``).
        """
        if codes[K.C_SCHEDULE] != K.LR_AUTO:
            hp[K.H_ETA0] = eta
        codes[K.C_EPOCH] = epoch
        codes[K.C_SEED] = (seed * 1_000_003 + epoch) % (2**62)


def check_params(params: Mapping, for_partial_fit: bool = False) -> None:
    """Raise ``ValueError`` for parameters that cannot train together.

    The rules that ``_parameter_constraints`` cannot say, the optimizer's and
    the schedule's own checks (their specs) included.
    """
    for name in ("max_iter", "batch_size", "average", "record_every", "warmup"):
        value = params.get(name)
        if isinstance(value, Integral) and value >= 2**62:
            # the kernels read counts as int64
            raise ValueError(f"{name}={value} is too large (at most 2**62 - 1).")
    if params.get("early_stopping") and for_partial_fit:
        raise ValueError("early_stopping should be False with partial_fit")
    for spec in (
        SCHEDULE_SPECS[params["learning_rate"]],
        OPTIMIZER_SPECS[params["optimizer"]],
    ):
        if spec.check is not None:
            spec.check(params)
    if params["penalty"] == "elasticnet" and params["l1_ratio"] is None:
        raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
    if params["average"] and params["ema_decay"] is not None:
        raise ValueError(
            "average and ema_decay are two ways to average the iterates; "
            "set only one of them."
        )
    if params.get("n_jobs") == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, -1 or >= 1.")
    if not params["shuffle"] and params.get("sampling", "auto") not in (
        "auto",
        "epoch",
    ):
        raise ValueError(
            f"sampling={params['sampling']!r} needs shuffle=True; shuffle=False "
            "visits the rows in the order given."
        )
