"""What the experiments share: warm kernels, timed fits, the closed form.

Every experiment takes an optional ``progress`` callable, called as
``progress(done, total, text)`` after each of its runs (``text`` a short
status); the command line draws its progress bar with it.

Every loss an experiment returns is a training MSE, the mean of (p − y)²:
the closed form's, a model's, and the curves, which are twice the objective
``SGDRegressor.loss_curve_`` records (the mean of ½(p − y)², the squared
loss; the experiments' models have no penalty). :func:`fastsgd.diagnose`
still reads the objective.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable

import numpy as np

from .._util import mse

__all__ = [
    "ExperimentError",
    "Progress",
    "closed_form_fit",
    "fit_timed",
    "mse_floor",
    "model_mse",
    "mse",
    "mse_curve",
    "tell",
    "warm_up",
]

#: ``progress(done, total, text)``, called after each run of an experiment
Progress = Callable[[int, int, str], None]


class ExperimentError(ValueError):
    """An experiment cannot give its answer on this data (e.g. a run diverged)."""


def tell(progress, done, total, text=""):
    """Call ``progress(done, total, text)`` unless ``progress`` is None."""
    if progress is not None:
        progress(done, total, text)


def warm_up(fit_intercept):
    """Load the compiled epoch once, so the first timed run is not penalised."""
    from ..linear_model import SGDRegressor

    X = np.zeros((4, 2)) + np.arange(4.0)[:, None]
    SGDRegressor(max_iter=2, tol=None, fit_intercept=fit_intercept).fit(X, X[:, 0])


def fit_timed(model, X, y, budget=0.2, repeats=5):
    """Fit; return the wall time (best of a few identical fits when they are quick).

    The fits are seeded, so repeating one gives the same model; the minimum
    over repeats filters out a busy machine's noise on millisecond fits.
    """
    from ..linear_model import DivergenceWarning

    best, spent = math.inf, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        for _ in range(repeats):
            start = time.perf_counter()
            model.fit(X, y)
            seconds = time.perf_counter() - start
            best, spent = min(best, seconds), spent + seconds
            if spent > budget:
                break
    return best


def closed_form_fit(problem):
    """Return ``(coef, intercept, seconds)`` of the exact least-squares fit.

    The time is the best of a few solves when they are quick, as
    :func:`fit_timed`; without ``fit_intercept`` the intercept is 0.
    """
    from ..closed_form import IllConditionedWarning, closed_form

    seconds, spent = math.inf, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        for _ in range(5):
            start = time.perf_counter()
            coef, intercept = closed_form(
                problem.X, problem.y, fit_intercept=problem.fit_intercept
            )
            took = time.perf_counter() - start
            seconds, spent = min(seconds, took), spent + took
            if spent > 0.2:
                break
    if not problem.fit_intercept:
        intercept = 0.0
    return coef, float(intercept), seconds


def mse_curve(curve):
    """Return a ``loss_curve_`` as MSE: twice the objective, mean of ½(p − y)².

    Exact for the squared loss without penalty (every model of the
    experiments); AdamW's decoupled weight decay is no part of the
    objective.
    """
    return 2.0 * np.asarray(curve, dtype=np.float64)


def model_mse(model, X, y):
    """Return a fitted model's training MSE (``inf`` when it kept no epoch)."""
    if getattr(model, "diverged_", False) and not model.loss_curve_:
        return math.inf
    pred = model.predict(X)
    return float(np.mean((pred - y) ** 2))


def mse_floor(y):
    """MSEs below this are rounding noise for the target ``y``."""
    from ..diagnostics import LOSS_FLOOR

    return LOSS_FLOOR * float(np.mean(np.square(y)))
