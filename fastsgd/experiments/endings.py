"""``compare --scenario endings``: how runs end.

GD with a small step glides to the optimum; SGD with a constant rate hovers
at a noise floor; a decaying rate or averaging the iterates settles. Each run
trains one epoch at a time and records the training MSE of the model it
reports.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .problems import curvature
from .runs import closed_form_fit, mse, mse_floor, tell, warm_up

__all__ = ["EndingRun", "EndingsResult", "run_endings"]


@dataclass
class EndingRun:
    """One way of ending a run.

    Attributes
    ----------
    label : str
        Its label in the table and the legends.
    curve : ndarray
        Training MSE of the reported model after each epoch; cut short where
        the run diverged.
    seconds : float
        Wall time of all its epochs.
    verdict : str
        :func:`fastsgd.diagnose`'s verdict on ``curve`` (``'explodes'`` when
        no epoch finished).
    """

    label: str
    curve: np.ndarray
    seconds: float
    verdict: str

    @property
    def final(self):
        """The last training MSE (``inf`` when no epoch finished)."""
        return self.curve[-1] if self.curve.size else math.inf


@dataclass
class EndingsResult:
    """What :func:`run_endings` found.

    Attributes
    ----------
    optimum : float
        The closed form's training MSE.
    floor : float
        MSEs below this are rounding noise.
    runs : list of EndingRun
        GD with a small step; SGD with a constant rate, a decaying rate, and
        a constant rate with averaging.
    """

    optimum: float
    floor: float
    runs: list


def ending_models(problem, epochs, seed):
    """Return ``{label: SGDRegressor}``: the four ways to end a run."""
    from ..linear_model import SGDRegressor

    L, R2 = curvature(problem.X, problem.fit_intercept)
    eta = 0.5 / R2
    common = dict(
        penalty=None,
        tol=None,
        random_state=seed,
        fit_intercept=problem.fit_intercept,
        max_iter=epochs,
    )
    constant = dict(batch_size=1, learning_rate="constant", eta0=eta)
    return {
        "GD, small eta (0.3/L)": SGDRegressor(
            batch_size="full", learning_rate="constant", eta0=0.3 / L, **common
        ),
        "SGD, constant eta": SGDRegressor(**constant, **common),
        "SGD, decaying eta (1/sqrt t)": SGDRegressor(
            batch_size=1,
            learning_rate="invscaling",
            power_t=0.5,
            eta0=eta * 10,
            **common,
        ),
        "SGD, constant eta + averaging": SGDRegressor(
            **constant, average=problem.X.shape[0], **common
        ),
    }


def run_endings(problem, *, epochs=30, seed=0, progress=None):
    """Train the four endings one epoch at a time; return their curves.

    Parameters
    ----------
    problem : Problem
        The data.
    epochs : int, default=30
        Epochs per run, >= 1.
    seed : int, default=0
        Seed of every run.
    progress : callable or None, default=None
        Called as ``progress(done, total, text)`` after each run.

    Returns
    -------
    EndingsResult
    """
    from ..diagnostics import diagnose

    warm_up(problem.fit_intercept)
    coef, intercept, _ = closed_form_fit(problem)
    optimum = mse(problem.X, problem.y, coef, intercept)
    models = ending_models(problem, epochs, seed)
    runs = []
    for i, (label, model) in enumerate(models.items()):
        curve, seconds = _per_epoch_mse(model, problem, epochs)
        verdict = "explodes"
        if curve.size:
            # diagnose reads the objective, mean of ½(p − y)²
            scale = 0.5 * np.mean(problem.y**2)
            verdict = diagnose(curve / 2, optimum=optimum / 2, scale=scale).verdict
        runs.append(EndingRun(label, curve, seconds, verdict))
        tell(progress, i + 1, len(models), f"{label}: MSE {runs[-1].final:.4g}")
    return EndingsResult(optimum=optimum, floor=mse_floor(problem.y), runs=runs)


def _per_epoch_mse(model, problem, epochs):
    """Train one epoch at a time; return the MSE of the reported model."""
    from ..linear_model import DivergenceWarning

    curve = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        for _ in range(epochs):
            model.partial_fit(problem.X, problem.y)
            if model.diverged_:
                break
            curve.append(mse(problem.X, problem.y, model.coef_, model.intercept_))
    return np.asarray(curve), time.perf_counter() - start
