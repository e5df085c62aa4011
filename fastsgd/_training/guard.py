"""Where divergence is decided: :class:`DivergenceGuard` and its :class:`Verdict`.

The guard watches the run from outside the compiled epochs, as optax's
``apply_if_finite`` wraps an optimizer: after each epoch it judges the model
(:meth:`DivergenceGuard.judge`), keeps the states it may roll back to, and on
a divergence restores the last one that passed a measurement
(:meth:`DivergenceGuard.roll_back`).  It holds its own state (snapshots, the
blow-up it watches, the largest healthy norm); nothing of it outlives the loop.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import _objective
from .._kernels import _codes as K

__all__ = ["DivergenceGuard", "Verdict", "baseline_loss", "split_params"]

# an epoch whose mean loss exceeds the loss of the starting model by this
# factor has diverged: residuals 100x those of the start, for a squared loss
DIVERGENCE_FACTOR = 1e4
# rows the end-of-epoch model is measured on (a blow-up is orders of
# magnitude: an even spread of a few hundred rows shows it)
PROBE_ROWS = 256
# the same residuals for the losses that grow linearly (huber,
# epsilon_insensitive): with 1e4 they went unflagged at R^2 = -2e5
LINEAR_FACTOR = 1e2
SQUARED_LOSSES = (K.LOSS_SQUARED, K.LOSS_SQ_EPS_INSENSITIVE)

HEALTHY = "healthy"
WATCHED = "watched"
DIVERGED = "diverged"


class Verdict(NamedTuple):
    """The guard's judgement of one epoch.

    Attributes
    ----------
    status : {'healthy', 'watched', 'diverged'}
        ``'watched'``: over the limit but still falling, maybe recovering.
    loss : float
        The loss that decided: the end-of-epoch model's when it was measured
        over every row, else the epoch's mean loss.
    measured : bool
        Whether the model at the end of the epoch was measured (on the probe
        rows or on every row) rather than passed on its norm alone.
    """

    status: str
    loss: float
    measured: bool

    @property
    def diverged(self) -> bool:
        """Whether the run has diverged."""
        return self.status == DIVERGED


def split_params(params):
    """Return ``(coef, intercept)`` views of ``params`` (intercept last).

    One target: ``(d,)`` and a scalar; K targets (``params`` of shape
    (K, d + 1)): ``(d, K)`` and ``(K,)``, so that ``X @ coef + intercept`` is
    the (n, K) prediction.
    """
    t = params.T
    return t[:-1], t[-1]


def mean_loss(loss_code, epsilon, params, X, y, sw, rows):
    """Return the weighted mean loss of ``params`` (intercept last) on ``rows``."""
    coef, intercept = split_params(params)
    with np.errstate(over="ignore", invalid="ignore"):
        if np.any(coef):
            pred = np.asarray(X @ coef).reshape(y.shape) + intercept
        else:
            pred = np.zeros(y.shape, dtype=np.float64) + intercept
        if rows.shape[0] != y.shape[0]:
            pred, y, sw = pred[rows], y[rows], sw[rows]
        return _objective.weighted_mean(
            _objective.losses(loss_code, pred, y, epsilon), sw
        )


def zero_loss(loss_code, epsilon, y, sw, rows):
    """Return the weighted mean loss of the zero model on ``rows``."""
    if rows.shape[0] != y.shape[0]:
        y, sw = y[rows], sw[rows]
    with np.errstate(over="ignore", invalid="ignore"):
        if loss_code == K.LOSS_SQUARED:
            # 0.5 y^2 summed over the targets without (n, K) temporaries (a
            # 100k x 10 float64 y: 4.4 -> 0.9 ms, as long as a 3-epoch fit's
            # whole overhead for one target)
            if y.ndim == 2:
                sq = np.einsum("ik,ik->i", y, y, dtype=np.float64)
                return 0.5 * _objective.weighted_mean(sq, sw) / y.shape[1]
            return 0.5 * _objective.weighted_mean(np.square(y, dtype=np.float64), sw)
        return _objective.weighted_mean(
            _objective.losses(loss_code, 0.0, y, epsilon), sw
        )


def baseline_loss(loss_code, epsilon, params, X, y, sw, rows, previous=None):
    """Return the divergence baseline of a run from ``params`` on ``rows``.

    The larger of the starting model's loss and the zero model's, so that a
    good warm start does not make the baseline tiny.  With a ``previous``
    baseline (``partial_fit``'s later calls bring new rows), the baseline grows
    to the new rows' scale: a first chunk of zeros must not flag every later
    one.  Raises ``ValueError`` when the loss overflows.
    """
    scale = zero_loss(loss_code, epsilon, y, sw, rows)
    if previous is not None:
        ref = max(previous, scale)
    elif not np.any(params):  # the usual zero start needs no pass over X
        ref = max(scale, 1e-12)
    else:
        start = mean_loss(loss_code, epsilon, params, X, y, sw, rows)
        ref = max(start, scale, 1e-12)
    if not math.isfinite(ref):
        raise ValueError(
            "The loss of the starting model overflows on this data (X or y "
            "is too large in magnitude); scale it, e.g. with "
            "sklearn.preprocessing.StandardScaler."
        )
    return ref


class DivergenceGuard:
    """Judge each epoch; keep the states to roll back to; roll back.

    Parameters
    ----------
    loss_code : int
        The loss (``_codes.LOSS_*``).
    epsilon : float
        The loss's epsilon.
    loss_ref : float
        The baseline (:func:`baseline_loss`): an epoch is suspect above
        ``DIVERGENCE_FACTOR`` times it (``LINEAR_FACTOR`` for the losses
        linear in the residual).
    reported : callable
        ``reported(train_state)`` returns the parameters the user gets (the
        average, with averaging): those are judged.
    averaged : bool
        Whether the run averages the iterates (then the average must stay
        finite too, even before it is reported).
    data : tuple
        ``(X, y, sw, rows)``: the training rows, for the end-of-epoch loss.
    state : TrainState
        The run's state at the start (the first roll-back target).
    epoch : int
        The run's epoch count at the start.
    """

    def __init__(
        self, loss_code, epsilon, loss_ref, reported, averaged, data, state, epoch
    ):
        self._loss = (loss_code, epsilon)
        factor = DIVERGENCE_FACTOR if loss_code in SQUARED_LOSSES else LINEAR_FACTOR
        self.loss_ref = loss_ref
        self.limit = loss_ref * factor
        self._reported = reported
        self._averaged = averaged
        self._data = data
        self._probe = _probe_rows(*data)
        # the largest squared norm judged healthy (see judge)
        self._healthy_norm2 = 0.0
        # the state before the epoch (one copy, refreshed in place: small data
        # runs many short epochs), the last state a measurement passed, and,
        # while a blow-up is watched, its latest end-of-epoch loss and the
        # state from before it; each with its epoch count
        self._snapshot = [state.copy(), epoch]
        # the parts an epoch can change (an average nobody keeps, or an
        # optimizer without state, is not copied before every epoch)
        avg = state._fields.index("avg")
        self._live = tuple(
            i for i, a in enumerate(state) if a.size and (averaged or i != avg)
        )
        self._trusted = [state.copy(), epoch]
        self._good = None
        self.watch = None

    @property
    def watching(self) -> bool:
        """Whether a blow-up is being watched (it may still recover)."""
        return self.watch is not None

    def begin(self, state, epoch: int) -> None:
        """Remember ``state`` (at ``epoch``) before the next epoch runs."""
        snapshot = self._snapshot[0]
        for i in self._live:
            np.copyto(snapshot[i], state[i])
        self._snapshot[1] = epoch

    def undo(self, state) -> None:
        """Put ``state`` back as :meth:`begin` remembered it."""
        state.restore(self._snapshot[0])

    def judge(self, state, mean_loss_: float, epoch: int) -> Verdict:
        """Judge the epoch just run, which brought the run to ``epoch``.

        Non-finite numbers have diverged.  A mean loss over the limit, or such
        a loss of the model at the end of the epoch on the probe rows (which
        sees the epoch's last steps, which its mean loss, taken before each
        step, does not), is suspect, and so is every epoch while a blow-up is
        watched: then the loss of the model at the end of the epoch over
        every row decides.  Below the limit, the run is healthy again; above
        it, the run is watched as long as that loss keeps falling from one
        epoch to the next, and has diverged as soon as it does not.
        scikit-learn's ``'optimal'`` rate with a squared loss, for one, blows
        up in the first steps of a well-scaled problem and recovers within an
        epoch or over several; an eta0 that is too large grows the loss from
        every epoch to the next.
        """
        verdict = self._verdict(state, mean_loss_)
        if verdict.status == WATCHED and self.watch is None:
            # a blow-up that may still recover: keep the model from before it
            target = self._last_passed()
            self._good = [target[0].copy(), target[1]]
        elif verdict.status == HEALTHY and verdict.measured:
            self._trusted[0].restore(state)  # the last state a measurement passed
            self._trusted[1] = epoch
        if verdict.status != DIVERGED:
            self.watch = verdict.loss if verdict.status == WATCHED else None
        return verdict

    def _verdict(self, state, mean_loss_):
        # one dot product tells both whether every weight is finite (a NaN or
        # an infinity, or an overflow, which is divergence too, makes it so)
        # and the norm the probe is skipped by; np.dot raises no floating-point
        # warning, so no errstate either (each costs microseconds, and small
        # data runs thousands of epochs)
        if not math.isfinite(mean_loss_):
            return Verdict(DIVERGED, mean_loss_, False)
        if self._averaged and not _all_finite(state.params):
            return Verdict(DIVERGED, mean_loss_, False)
        reported = self._reported(state)
        norm2 = _sum_squares(reported)
        if not math.isfinite(norm2) and not _all_finite(reported):
            return Verdict(DIVERGED, mean_loss_, False)
        limit = self.limit
        # a blow-up grows the weights by orders of magnitude: while their norm
        # stays within twice the largest one judged healthy, skip the probe
        # (a few microseconds an epoch that tiny data, run for thousands of
        # epochs, would notice)
        measured = not norm2 <= 4.0 * self._healthy_norm2
        probed = self._probe_loss(reported) if measured else 0.0
        if mean_loss_ <= limit and probed <= limit and self.watch is None:
            self._healthy_norm2 = max(self._healthy_norm2, norm2)
            return Verdict(HEALTHY, mean_loss_, measured)
        end = mean_loss(*self._loss, reported, *self._data)
        if end <= limit:
            self._healthy_norm2 = max(self._healthy_norm2, norm2)
            return Verdict(HEALTHY, end, True)
        if not math.isfinite(end) or (self.watch is not None and not end < self.watch):
            return Verdict(DIVERGED, end, True)
        return Verdict(WATCHED, end, True)

    def _last_passed(self):
        """Return the state before the epoch if it passes the probe, else trusted."""
        if self.passes(self._snapshot[0]):
            return self._snapshot
        return self._trusted

    def roll_back(self, state) -> int:
        """Restore the state to return to after a divergence; return its epoch.

        Past a watched blow-up, the state from before it; else the state
        before the epoch that diverged, or, if that does not pass the probe,
        the last state a measurement passed.
        """
        target = self._good if self.watch is not None else self._last_passed()
        state.restore(target[0])
        self.watch = self._good = None
        return target[1]

    def passes(self, state) -> bool:
        """Tell whether the model of ``state`` is within the limit on the probe.

        A roll-back target, or the best state, was judged by its own epoch,
        perhaps without the probe.
        """
        return self._probe_loss(self._reported(state)) <= self.limit

    def _probe_loss(self, params):
        """Return the weighted mean loss of ``params`` on the probe rows.

        Lean on purpose: it runs after every epoch, and small data runs
        thousands of short epochs (a few microseconds here, not 30).
        """
        X_p, y_p, sw_p, total = self._probe
        coef, intercept = split_params(params)
        with np.errstate(over="ignore", invalid="ignore"):
            p = X_p @ coef
            losses = _objective.losses(self._loss[0], p + intercept, y_p, self._loss[1])
            return float(np.sum(losses * sw_p)) / total


def _sum_squares(a) -> float:
    """Return the sum of the squares of ``a``: one dot (vdot flattens K targets)."""
    return float(np.dot(a, a) if a.ndim == 1 else np.vdot(a, a))


def _all_finite(a) -> bool:
    """Tell whether every value of ``a`` is finite, without a warning or a copy."""
    if math.isfinite(_sum_squares(a)):
        return True
    # the squares overflowed, or a value is not finite
    return bool(np.isfinite(a).all())


def _probe_rows(X, y, sw, rows):
    """Return ``(X, y, sw, total weight)`` of up to PROBE_ROWS rows, evenly spread.

    An epoch's loss is taken before each step, so the last steps' (and a full
    batch's only step's) damage would otherwise go unseen.
    """
    m = rows.shape[0]
    step = max(1, -(-m // PROBE_ROWS))
    if m == y.shape[0]:
        # every row trains: a strided view, no copy of dense X
        X_p, y_p, sw_p = X[::step], y[::step], sw[::step]
    else:
        pick = np.sort(rows)[::step]
        X_p, y_p, sw_p = X[pick], y[pick], sw[pick]
    total = max(float(sw_p.sum()), 1e-300)
    if y_p.ndim == 2:  # K targets: the mean over them
        sw_p, total = sw_p[:, None], total * y_p.shape[1]
    return X_p, y_p.astype(np.float64), sw_p, total
