"""The history recorder and the per-epoch record, :class:`EpochInfo`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["EpochInfo", "History"]


class EpochInfo(NamedTuple):
    """What an ``on_epoch`` callback is told after each epoch.

    Attributes
    ----------
    epoch : int
        The epoch's number, 1-based, counted over the model's whole training
        (``loss_curve_[epoch - 1]`` is its objective, unless it diverged).
    objective : float
        Mean training loss of the rows as visited plus the penalty at the end
        of the epoch (the ``loss_curve_`` entry).
    mean_loss : float
        The mean training loss alone.
    eta : float
        Mean learning rate of the epoch's steps.
    steps : int
        Steps taken so far, over the whole training (scikit-learn's ``t_ - 1``).
    seconds : float
        Wall time of the epoch's compiled call.
    elapsed : float
        Seconds since the ``fit`` (or ``partial_fit``, ``run_epochs``) call began.
    validation_score : float or None
        R^2 on the validation rows, when there are any.
    grad_norm : float
        Norm of the last step's gradient (full batch: the full gradient).
    diverged : bool
        True for the epoch in which training was found to diverge: the run
        stops after it and rolls back (see ``SGDRegressor``'s
        ``diverged_epochs_``).
    coef : ndarray
        The coefficients the model reports after the epoch (averaged ones with
        averaging). A read-only view, valid during the call: copy it to keep it.
    intercept : float
        The intercept the model reports after the epoch.
    """

    epoch: int
    objective: float
    mean_loss: float
    eta: float
    steps: int
    seconds: float
    elapsed: float
    validation_score: float | None
    grad_norm: float
    diverged: bool
    coef: np.ndarray
    intercept: float


class History:
    """Records the kept epochs, and the diverged ones, into the given lists.

    The lists are the estimator's fitted attributes (they carry over between
    ``partial_fit`` calls); :meth:`cut_to` moves the epochs a roll-back
    dropped to the diverged record.

    Parameters
    ----------
    loss, eta : list of float
        ``loss_curve_`` and ``eta_curve_``.
    validation : list of float or None
        ``validation_scores_`` (None: no validation).
    steps : ndarray or None
        ``step_loss_curve_`` so far (None: the per-step record is off).
    diverged_epochs, diverged_losses : list
        ``diverged_epochs_`` and ``diverged_loss_curve_``.
    epoch : int
        The run's epoch count at the start (epochs are numbered from it).
    """

    def __init__(
        self, loss, eta, validation, steps, diverged_epochs, diverged_losses, epoch
    ):
        self.loss, self.eta, self.validation = loss, eta, validation
        self._steps = None if steps is None else [steps]
        self.diverged_epochs, self.diverged_losses = diverged_epochs, diverged_losses
        self._start = (epoch, len(loss))

    def record(self, info: EpochInfo, step_losses=None) -> None:
        """Append a kept epoch (and its per-step record)."""
        self.loss.append(info.objective)
        self.eta.append(info.eta)
        if self.validation is not None:
            self.validation.append(info.validation_score)
        if self._steps is not None:
            self._steps.append(step_losses)

    def record_diverged(self, info: EpochInfo) -> None:
        """Note an epoch that ran but is not kept (after :meth:`cut_to`)."""
        self.diverged_epochs.append(info.epoch)
        self.diverged_losses.append(info.objective)

    def cut_to(self, epoch: int) -> None:
        """Move the epochs after ``epoch`` to the diverged record (a roll-back)."""
        start_epoch, start_len = self._start
        kept = epoch - start_epoch  # epochs of this run that stay
        dropped = self.loss[start_len + kept :]
        self.diverged_epochs.extend(range(epoch + 1, epoch + 1 + len(dropped)))
        self.diverged_losses.extend(dropped)
        del self.loss[start_len + kept :]
        del self.eta[start_len + kept :]
        if self.validation is not None:
            del self.validation[start_len + kept :]
        if self._steps is not None:
            del self._steps[1 + kept :]

    def step_losses(self):
        """Return ``step_loss_curve_``: every kept epoch's per-step record."""
        if self._steps is None:
            return None
        return np.concatenate(self._steps)
