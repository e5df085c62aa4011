"""Set up a run from validated data and join the parts: :func:`train`.

Called by ``SGDRegressor.fit``, ``partial_fit`` and ``run_epochs``: the
training rows, the divergence baseline, the kernel options, the epoch runner,
the guard, the stopping rules and the history, then :func:`run_loop`.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from .. import _objective
from .._kernels import _codes as K
from .data import check_finite_rows, non_finite_error
from .guard import DivergenceGuard, baseline_loss
from .history import EpochInfo, History
from .loop import run_loop
from .options import KernelOptions
from .runner import (
    EpochRunner,
    NonFiniteRow,
    row_bytes,
    steps_per_epoch,
    take_rows,
    threads_for,
)
from .stopping import AdaptiveRate, BestWeights, GradientNorm, NoImprovement

__all__ = ["Curves", "r2_score", "reported_params", "train"]


class Curves(NamedTuple):
    """The history lists a run records into (the estimator's attributes)."""

    loss: list
    eta: list
    validation: list | None
    steps: np.ndarray | None
    diverged_epochs: list
    diverged_losses: list


def reported_params(train_state, average, ema_decay):
    """Return the parameters (intercept last) the model reports: averaged or not."""
    if ema_decay is not None:
        return train_state.avg
    if average and train_state.steps >= int(average):
        return train_state.avg
    return train_state.params


def r2_score(y, pred, sw):
    """Sample-weighted R^2 (as sklearn.metrics.r2_score).

    ``y`` of shape (n, K): the uniform average of the targets' R^2.
    """
    if y.ndim == 2:
        return float(
            np.mean([r2_score(y[:, k], pred[:, k], sw) for k in range(y.shape[1])])
        )
    w = sw.astype(np.float64)
    y = y.astype(np.float64)
    mean = np.average(y, weights=w) if w.sum() > 0 else y.mean()
    # a blown-up model's residuals overflow: its score is -inf, not an error
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ss_res = float(np.sum(w * (y - pred) ** 2))
        ss_tot = float(np.sum(w * (y - mean) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def train(
    params,
    data,
    run,
    curves,
    *,
    max_epochs,
    fitting,
    stopping,
    validation=None,
    rng=None,
    notify=(),
    unchecked=False,
):
    """Train ``run`` on ``data`` for up to ``max_epochs`` epochs.

    Parameters
    ----------
    params : dict
        ``SGDRegressor`` parameters.
    data : tuple
        ``(X, y, sw, rows)``: validated data and the rows that train.
    run : RunState
        Advanced in place.
    curves : Curves
        The history lists, appended to in place.
    max_epochs : int
        Epochs at most.
    fitting : bool
        Plan the schedule anew (``fit``), rather than keep ``run``'s plan.
    stopping : bool
        Let ``tol`` (or early stopping on ``validation``) stop the run and
        lower an ``'adaptive'`` rate.
    validation : tuple or None
        ``(X_val, y_val, sw_val)``: scored after every kept epoch.
    rng : numpy.random.RandomState or None
        Draws the working copy's order for ``sampling='blocks'``.
    notify : sequence of callable
        Called with each epoch's :class:`EpochInfo` as it ends.
    unchecked : bool
        X was validated without a pass over it for NaN and infinity: the first
        epoch checks every row it reads (no separate pass over X) and the
        rows it does not read are checked here; a bad value raises
        ``ValueError`` naming the first bad row, with ``run`` as it was.

    Returns
    -------
    outcome : Outcome
        Epochs run, the stop reason and the divergence, if any.
    step_loss_curve : ndarray or None
        The per-step record of every kept epoch (None when off).
    """
    X, y, sw, rows = data
    if rows.shape[0] == 0:
        raise ValueError("No training rows with positive sample weight.")
    given = X  # for the message of a bad value
    check = unchecked and _check_unread_rows(params, X, rows, run)
    loss_code, epsilon = K.LOSSES[params["loss"]], float(params["epsilon"])
    run.loss_ref = baseline_loss(
        loss_code, epsilon, run.train.params, X, y, sw, rows, run.loss_ref
    )
    if params["shuffle"] and params["sampling"] == "blocks":
        # one shuffled working copy; epochs then read blocks in order
        perm = rng.permutation(rows)
        X, y, sw = take_rows(X, perm), y[perm], sw[perm]
        rows = np.arange(perm.shape[0], dtype=np.int64)
    order = np.ascontiguousarray(rows, dtype=np.int64)
    m = order.shape[0]
    if run.planned_steps is None or fitting:
        # cosine / onecycle / warmup fractions plan over max_iter epochs of the
        # data of the first call (partial_fit keeps counting past the plan)
        run.planned_steps = int(params["max_iter"]) * steps_per_epoch(
            params["batch_size"], m
        )
    options = KernelOptions.from_params(params, m, run.planned_steps, row_bytes(X))
    batch = options.codes["batch"]
    threads = threads_for(params["n_jobs"], min(batch, m), X)
    runner = EpochRunner(options, X, y, sw, order, run.train, threads, check)

    reported = _reporter(params["average"], params["ema_decay"])
    averaged = bool(params["average"]) or params["ema_decay"] is not None
    data = (X, y, sw, order)
    guard = DivergenceGuard(
        loss_code, epsilon, run.loss_ref, reported, averaged, data, run.train, run.epoch
    )
    on_val = validation is not None and params["early_stopping"]
    rules, best = [], None
    if on_val and params["restore_best_weights"]:
        best = BestWeights()
        rules.append(best)
    if params["grad_tol"] is not None and batch >= m:
        rules.append(GradientNorm(params["grad_tol"]))
    if stopping:
        patience = NoImprovement(params["tol"], params["n_iter_no_change"], on_val)
        adaptive = params["learning_rate"] == "adaptive"
        rules.append(AdaptiveRate(patience) if adaptive else patience)
    history = History(
        curves.loss,
        curves.eta,
        curves.validation if validation is not None else None,
        curves.steps if options.codes["record_every"] else None,
        curves.diverged_epochs,
        curves.diverged_losses,
        run.epoch,
    )
    describe = _describer(params, reported, validation)
    try:
        outcome = run_loop(
            runner, run, guard, rules, history, describe, max_epochs=max_epochs,
            notify=notify,
        )  # fmt: skip
    except NonFiniteRow:
        raise non_finite_error(given) from None
    if best is not None:
        if outcome.divergence is not None:
            best.discard_after(outcome.divergence.kept)
        best.restore(run.train, guard)
    steps = history.step_losses()
    return outcome, steps


def _check_unread_rows(params, X, rows, run):
    """Check the rows the first epoch will not read; tell whether it checks the rest.

    The first epoch reads every training row once, except when it samples
    with replacement; rows of zero weight and held-out rows it never reads.
    A warm start's baseline reads all of X before the first epoch: then X is
    checked here.
    """
    if (params["shuffle"] and params["sampling"] == "replacement") or (
        run.loss_ref is None and np.any(run.train.params)
    ):
        check_finite_rows(X, np.arange(X.shape[0]))
        return False
    if rows.shape[0] < X.shape[0]:
        unread = np.ones(X.shape[0], dtype=bool)
        unread[rows] = False
        check_finite_rows(X, np.flatnonzero(unread))
    return True


def _reporter(average, ema_decay):
    """Return ``reported(train_state)``: :func:`reported_params`, specialised."""
    if ema_decay is not None:
        return lambda state: state.avg
    if average:
        start = int(average)
        return lambda state: state.avg if state.counters[0] >= start else state.params
    return lambda state: state.params


def _describer(params, reported, validation):
    """Return ``describe(run, stats, started, diverged)`` -> :class:`EpochInfo`."""
    pen_code = K.PENALTIES[params["penalty"]]
    alpha = float(params["alpha"])
    l1_ratio = 0.0 if params["l1_ratio"] is None else float(params["l1_ratio"])

    views = {}  # read-only views of the reported coefficients, made once

    def describe(run, stats, started, diverged):
        state = run.train
        w = state.params[:-1]
        if state.params.ndim == 2:  # K targets: the mean of their penalties
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                objective = stats.mean_loss + _penalty(
                    pen_code, state.params, alpha, l1_ratio
                )
        elif pen_code == K.PEN_L2 and not diverged:
            # its np.dot warns of nothing: no errstate (microseconds an epoch)
            objective = stats.mean_loss + _objective.penalty_value(
                pen_code, w, alpha, l1_ratio
            )
        else:
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                objective = stats.mean_loss + _objective.penalty_value(
                    pen_code, w, alpha, l1_ratio
                )
        src = reported(state)
        coef = views.get(id(src))
        if coef is None:
            coef = views[id(src)] = src[..., :-1].view()
            coef.flags.writeable = False
        intercept = float(src[-1]) if src.ndim == 1 else src[:, -1].copy()
        score = None
        if validation is not None and not diverged:
            X_val, y_val, sw_val = validation
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                pred = np.asarray(X_val @ coef.T).reshape(y_val.shape) + intercept
            score = r2_score(y_val, pred, sw_val)
        return EpochInfo(  # epoch, objective, mean_loss, eta, steps, seconds,
            run.epoch + 1,  # elapsed, validation_score, grad_norm, diverged,
            float(objective),  # coef, intercept
            float(stats.mean_loss),
            float(stats.eta),
            int(state.counters[0]),
            stats.seconds,
            time.perf_counter() - started,
            score,
            stats.grad_norm,
            diverged,
            coef,
            intercept,
        )

    return describe


def _penalty(pen_code, params, alpha, l1_ratio):
    """Return the penalty at ``params``: K targets, the mean over them."""
    if params.ndim == 1:
        return _objective.penalty_value(pen_code, params[:-1], alpha, l1_ratio)
    coef = params[:, :-1].ravel()
    return _objective.penalty_value(pen_code, coef, alpha, l1_ratio) / params.shape[0]
