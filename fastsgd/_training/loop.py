"""The training loop: the parts joined, one compiled epoch per turn."""

from __future__ import annotations

import time
from typing import NamedTuple

from .runner import NonFiniteRow

__all__ = ["Divergence", "Outcome", "run_loop"]


class Divergence(NamedTuple):
    """How a run diverged: one story for the warning, the history and verbose.

    Attributes
    ----------
    epoch : int
        The epoch in which the run was found to diverge: the last one run (for
        ``fit``, ``n_iter_``).
    kept : int
        The epoch count of the model kept (0: the start); epochs ``kept + 1``
        to ``epoch`` ran and were rolled back (``diverged_epochs_``).
    loss : float
        The loss that showed it (the epoch's mean loss, or, for a blow-up
        that did not recover, the end-of-epoch loss).
    loss_ref : float
        The divergence baseline (the loss of the starting model).
    recovering : bool
        True when training ended while a blow-up was still watched.
    """

    epoch: int
    kept: int
    loss: float
    loss_ref: float
    recovering: bool


class Outcome(NamedTuple):
    """How a loop ended: epochs run, why it stopped, the divergence if any."""

    n_iter: int
    stop_reason: str
    divergence: Divergence | None


def run_loop(runner, run, guard, rules, history, describe, *, max_epochs, notify=()):
    """Run up to ``max_epochs`` epochs; return the :class:`Outcome`.

    Each turn: the guard remembers the state, the runner runs one compiled
    epoch and the guard judges it.  A kept epoch is described (``describe``:
    objective, validation score...), recorded, reported to the ``notify``
    callbacks and shown to the stopping ``rules`` in order: the first reason
    ends the run.  A diverged epoch (or a blow-up still watched at the end)
    is reported, then rolled back by the guard, the history cut to the model
    kept.
    """
    state, started = run.train, time.perf_counter()
    n_run, reason, bad = 0, None, None
    while reason is None and n_run < max_epochs:
        n_run += 1
        guard.begin(state, run.epoch)
        try:
            stats = runner.run(run.epoch, run.seed, run.eta)
        except NonFiniteRow:
            guard.undo(state)  # the rows before the bad one trained
            raise
        diverged = guard.judge(state, stats.mean_loss, run.epoch + 1).diverged
        info = describe(run, stats, started, diverged)
        if diverged:
            bad, reason = info, "diverged"
        else:
            run.epoch += 1
            history.record(info, stats.step_losses)
        for fn in notify:
            fn(info)
        for rule in rules if bad is None else ():
            reason = rule.update(info, run)
            if reason is not None:
                break
    divergence = None
    if bad is not None or guard.watching:
        last, loss = run.epoch, guard.watch  # a blow-up that did not recover
        if bad is not None:
            last, loss = bad.epoch, bad.mean_loss
        run.epoch = guard.roll_back(state)
        history.cut_to(run.epoch)
        if bad is not None:
            history.record_diverged(bad)
        divergence = Divergence(last, run.epoch, loss, guard.loss_ref, bad is None)
        reason = "diverged"
    return Outcome(n_run, reason or "max_iter", divergence)
