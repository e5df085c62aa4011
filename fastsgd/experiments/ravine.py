"""``compare --scenario ravine``: parameter paths down an ill-conditioned valley.

On two features whose loss has a long narrow valley, SGD zig-zags across it
while momentum and Adam go down it: each method's weights after every step,
to draw over the loss contours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .problems import curvature
from .runs import closed_form_fit, mse, tell, warm_up

__all__ = ["PathRun", "RavineResult", "run_ravine"]


@dataclass
class PathRun:
    """One method's path.

    Attributes
    ----------
    label : str
        Its label in the table and the legend.
    path : ndarray of shape (n_steps + 1, n_features)
        The weights before the first step and after every step.
    distance : float
        Euclidean distance of the last weights to the least-squares weights.
    mse_ratio : float
        Training MSE of the last weights over the least-squares weights'
        (NaN when that is 0).
    seconds : float
        Wall time of the steps.
    """

    label: str
    path: np.ndarray
    distance: float
    mse_ratio: float
    seconds: float


@dataclass
class RavineResult:
    """What :func:`run_ravine` found.

    Attributes
    ----------
    coef : ndarray of shape (n_features,)
        The least-squares weights.
    intercept : float
        The least-squares intercept (0 without ``fit_intercept``).
    condition : float
        Condition number of ``X'X / n``.
    batch_size : int or 'full'
        Rows per step.
    runs : list of PathRun
        SGD, momentum and Adam.
    """

    coef: np.ndarray
    intercept: float
    condition: float
    batch_size: object
    runs: list


def path_models(problem, batch_size, seed):
    """Return ``{label: SGDRegressor}``: SGD, momentum and Adam, constant rates."""
    from ..linear_model import SGDRegressor

    L, _ = curvature(problem.X, problem.fit_intercept)
    common = dict(
        penalty=None,
        learning_rate="constant",
        batch_size=batch_size,
        fit_intercept=problem.fit_intercept,
        random_state=seed,
    )
    return {
        "SGD (eta 1.8/L)": SGDRegressor(eta0=1.8 / L, **common),
        "momentum 0.9 (eta 0.18/L)": SGDRegressor(
            optimizer="momentum", momentum=0.9, eta0=0.18 / L, **common
        ),
        "Adam (eta 0.25)": SGDRegressor(optimizer="adam", eta0=0.25, **common),
    }


def run_ravine(problem, *, batch_size=16, steps=60, seed=0, progress=None):
    """Follow each method's weights for ``steps`` steps from zero.

    Parameters
    ----------
    problem : Problem
        The data (two features to draw the paths over the contours).
    batch_size : int or 'full', default=16
        Rows per step.
    steps : int, default=60
        Steps per method, >= 1.
    seed : int, default=0
        Seed of the batch order.
    progress : callable or None, default=None
        Called as ``progress(done, total, text)`` after each method.

    Returns
    -------
    RavineResult
    """
    from ..diagnostics import parameter_path

    warm_up(problem.fit_intercept)
    X, y = problem.X, problem.y
    coef, intercept, _ = closed_form_fit(problem)
    lam = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    opt_mse = mse(X, y, coef, intercept)
    start = np.zeros(X.shape[1])
    models = path_models(problem, batch_size, seed)
    runs = []
    for i, (label, model) in enumerate(models.items()):
        t0 = time.perf_counter()
        path = parameter_path(model, X, y, steps, start=start, random_state=seed)
        seconds = time.perf_counter() - t0
        w = path[-1]
        found = mse(X, y, w, intercept if problem.fit_intercept else 0.0)
        ratio = found / opt_mse if opt_mse > 0 else float("nan")
        runs.append(
            PathRun(label, path, float(np.linalg.norm(w - coef)), ratio, seconds)
        )
        tell(progress, i + 1, len(models), label)
    return RavineResult(
        coef=coef,
        intercept=intercept,
        condition=lam[-1] / max(lam[0], 1e-300),
        batch_size=batch_size,
        runs=runs,
    )
