"""Where the stopping rules live: small objects with their own state.

Each rule is told about every kept epoch through ``update(info, run)`` and
answers None (go on) or the reason to stop (``stop_reason_``), as
scikit-learn's ``_ValidationScoreCallback`` does for its epoch loop.  The loop
asks them in order and stops at the first reason.
"""

from __future__ import annotations

import math

__all__ = ["AdaptiveRate", "BestWeights", "GradientNorm", "NoImprovement"]

# 'adaptive' divides eta by this when the tolerance rule fires ...
ADAPTIVE_FACTOR = 5.0
# ... until it falls below this (scikit-learn's rule)
ADAPTIVE_MIN_ETA = 1e-6


class NoImprovement:
    """Stop when a value has not improved by ``tol`` for ``patience`` epochs.

    The tolerance rule (the epoch objective, minimised) or early stopping (the
    validation score, maximised): scikit-learn's ``tol`` and
    ``n_iter_no_change``.

    Parameters
    ----------
    tol : float or None
        Required improvement; None never stops.
    patience : int
        Epochs without improvement before stopping, >= 1.
    on_validation : bool
        Watch ``info.validation_score`` (maximised) instead of
        ``info.objective`` (minimised).
    """

    def __init__(self, tol, patience, on_validation=False):
        self.tol = -math.inf if tol is None else float(tol)
        self.patience = int(patience)
        self.on_validation = on_validation
        self.reason = "early_stopping" if on_validation else "tol"
        self.best = -math.inf if on_validation else math.inf
        self.no_improve = 0

    def update(self, info, run):
        """Count the epoch; return the reason to stop, or None."""
        if self.on_validation:
            score = info.validation_score
            worse = score < self.best + self.tol
            self.best = max(self.best, score)
        else:
            worse = info.objective > self.best - self.tol
            self.best = min(self.best, info.objective)
        self.no_improve = self.no_improve + 1 if worse else 0
        return self.reason if self.no_improve >= self.patience else None

    def reset(self):
        """Start counting again (after the rate was lowered)."""
        self.no_improve = 0


class AdaptiveRate:
    """``learning_rate='adaptive'``: lower the rate where ``rule`` would stop.

    When ``rule`` fires and the rate is above ``ADAPTIVE_MIN_ETA``, divide
    ``run.eta`` by ``ADAPTIVE_FACTOR`` and reset the rule; below it, stop.
    """

    def __init__(self, rule):
        self.rule = rule

    def update(self, info, run):
        """Pass the epoch to the rule; lower the rate instead of stopping."""
        reason = self.rule.update(info, run)
        if reason is not None and run.eta > ADAPTIVE_MIN_ETA:
            run.eta /= ADAPTIVE_FACTOR
            self.rule.reset()
            return None
        return reason


class GradientNorm:
    """Stop a full-batch run when the gradient norm falls below ``grad_tol``."""

    reason = "grad_tol"

    def __init__(self, grad_tol):
        self.grad_tol = float(grad_tol)

    def update(self, info, run):
        """Return ``'grad_tol'`` once the epoch's gradient is small enough."""
        if 0.0 <= info.grad_norm < self.grad_tol:
            return self.reason
        return None


class BestWeights:
    """Keep the state of the best validation score (``restore_best_weights``).

    Never stops the run: it only remembers, so that the loop can end with the
    best weights (:meth:`restore`).
    """

    def __init__(self):
        self.best = -math.inf
        self.state = None
        self.epoch = None

    def update(self, info, run):
        """Copy the state when the epoch's score is the best so far."""
        if info.validation_score > self.best:
            self.best = info.validation_score
            self.state = run.train.copy()
            self.epoch = info.epoch
        return None

    def discard_after(self, epoch):
        """Forget a best state from after ``epoch`` (a roll-back dropped it)."""
        if self.epoch is not None and self.epoch > epoch:
            self.state = self.epoch = None

    def restore(self, state, guard):
        """Restore the best state into ``state`` unless it is over the limit.

        With a constant validation target every R^2 ties at 0 and the first
        epoch's state, maybe still blown up, would be "best".
        """
        if self.state is not None and guard.passes(self.state):
            state.restore(self.state)
