"""``compare --scenario lr-test``: the three-curve test of a learning rate.

Three rates around full-batch GD's stability limit ``2 / L``: too small
(0.01/L) is flat, the textbook 1/L falls and settles, just past the limit
(2.2/L) explodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problems import curvature
from .runs import warm_up
from .sweep import LrSweepResult, sweep_rates

__all__ = ["LrTestResult", "RATES", "run_lr_test"]

#: the three rates, as multiples of 1 / L, with their names
RATES = {"0.01/L": 0.01, "1/L": 1.0, "2.2/L": 2.2}


@dataclass
class LrTestResult:
    """What :func:`run_lr_test` found.

    Attributes
    ----------
    names : list of str
        The rates' names (``'0.01/L'``, ``'1/L'``, ``'2.2/L'``).
    L : float
        Largest curvature of the loss (eigenvalue of the Gram matrix / n).
    batch_size : int or 'full'
        Rows per step.
    sweep : LrSweepResult
        The three runs, in the order of ``names``.
    """

    names: list
    L: float
    batch_size: object
    sweep: LrSweepResult


def run_lr_test(problem, *, epochs=30, batch_size="full", seed=0, progress=None):
    """Train at 0.01/L, 1/L and 2.2/L and diagnose each curve.

    Parameters
    ----------
    problem : Problem
        The data.
    epochs : int, default=30
        Epochs per rate, >= 2 (the diagnosis judges curves).
    batch_size : int or 'full', default='full'
        Rows per step.
    seed : int, default=0
        Seed of every run.
    progress : callable or None, default=None
        Called as ``progress(done, total, text)`` after each rate.

    Returns
    -------
    LrTestResult
    """
    from ..linear_model import SGDRegressor

    warm_up(problem.fit_intercept)
    est = SGDRegressor(
        penalty=None,
        batch_size=batch_size,
        random_state=seed,
        fit_intercept=problem.fit_intercept,
    )
    L, _ = curvature(problem.X, problem.fit_intercept)
    etas = np.array(list(RATES.values())) / L
    sweep = sweep_rates(est, problem, etas, epochs, progress)
    return LrTestResult(names=list(RATES), L=L, batch_size=batch_size, sweep=sweep)
