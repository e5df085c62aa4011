"""``compare --scenario batch-noise``: gradient noise falls as 1/B.

The variance of a mini-batch gradient, measured over many random batches at
a point half way to the optimum, against the batch size B and the theory
``tr(Sigma) / B`` (sampling without replacement); then the same rate with
B = 1, 8, 64, whose noise floors fall with B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problems import curvature
from .runs import closed_form_fit, fit_timed, mse, mse_curve, warm_up

__all__ = ["BatchNoiseResult", "run_batch_noise"]


@dataclass
class BatchNoiseResult:
    """What :func:`run_batch_noise` found.

    Attributes
    ----------
    sizes : list of int
        Batch sizes B measured (powers of 2 up to 256 and half the rows).
    measured : list of float
        ``E|g_B - g|^2``: mean squared distance of a batch gradient to the
        full gradient, over ``trials`` random batches.
    predicted : list of float
        ``tr(Sigma) / B * (n - B) / (n - 1)``.
    trials : int
        Random batches per size.
    curves : dict of str to ndarray
        Training MSE per epoch of a run per batch size, same rate, by label.
    optimum : float
        The closed form's training MSE.
    """

    sizes: list
    measured: list
    predicted: list
    trials: int
    curves: dict
    optimum: float


def gradient_noise(problem, point, *, trials=400, seed=0):
    """Measure the mini-batch gradient's variance at ``point`` for each size.

    Parameters
    ----------
    problem : Problem
        The data.
    point : tuple of (ndarray, float)
        Weights and intercept where the per-example gradients are taken.
    trials : int, default=400
        Random batches (without replacement) per size.
    seed : int, default=0
        Seed of the batches.

    Returns
    -------
    sizes, measured, predicted : lists
        See :class:`BatchNoiseResult`.
    """
    X, y = problem.X, problem.y
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    w, b0 = point
    r = X @ w + b0 - y
    G = r[:, None] * (np.hstack([X, np.ones((n, 1))]) if problem.fit_intercept else X)
    g = G.mean(axis=0)
    total_var = float(np.mean(np.sum((G - g) ** 2, axis=1)))
    sizes = [s for s in (1, 2, 4, 8, 16, 32, 64, 128, 256) if s <= n // 2]
    measured, predicted = [], []
    for s in sizes:
        devs = np.empty(trials)
        for t in range(trials):
            rows = rng.choice(n, size=s, replace=False)
            devs[t] = np.sum((G[rows].mean(axis=0) - g) ** 2)
        measured.append(float(devs.mean()))
        predicted.append(total_var / s * (n - s) / (n - 1))
    return sizes, measured, predicted


def run_batch_noise(problem, *, epochs=30, seed=0, trials=400):
    """Measure gradient noise against B, then train with B = 1, 8 and 64.

    Parameters
    ----------
    problem : Problem
        The data.
    epochs : int, default=30
        Epochs of each training run, >= 1.
    seed : int, default=0
        Seed of the batches and the runs.
    trials : int, default=400
        Random batches per size.

    Returns
    -------
    BatchNoiseResult
    """
    from ..linear_model import SGDRegressor

    warm_up(problem.fit_intercept)
    X, y = problem.X, problem.y
    coef, intercept, _ = closed_form_fit(problem)
    # per-example gradients at half way from zero to the optimum
    sizes, measured, predicted = gradient_noise(
        problem, (0.5 * coef, 0.5 * intercept), trials=trials, seed=seed
    )
    _, R2 = curvature(X, problem.fit_intercept)
    eta = 0.5 / R2
    curves = {}
    for s in (1, 8, 64):
        if s > X.shape[0]:
            continue
        model = SGDRegressor(
            penalty=None,
            learning_rate="constant",
            eta0=eta,
            batch_size=s,
            tol=None,
            max_iter=epochs,
            random_state=seed,
            fit_intercept=problem.fit_intercept,
        )
        fit_timed(model, X, y, repeats=1)
        curves[f"B={s}, eta={eta:.2g}"] = mse_curve(model.loss_curve_)
    return BatchNoiseResult(
        sizes=sizes,
        measured=measured,
        predicted=predicted,
        trials=trials,
        curves=curves,
        optimum=mse(X, y, coef, intercept),
    )
