"""``compare --scenario adamw-vs-l2``: coupled L2 against decoupled decay under Adam.

Adam divides the L2 term of the gradient by ``sqrt(v)``, so weights with
large gradients barely shrink; AdamW shrinks every weight by the same factor
``1 - eta lambda`` per step. On features whose scales span two decades, the
shrink per step and the final weights (relative to plain Adam's) show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .runs import ExperimentError, fit_timed, tell, warm_up

__all__ = ["AdamWResult", "run_adamw_vs_l2"]


@dataclass
class AdamWResult:
    """What :func:`run_adamw_vs_l2` found, feature by feature (by scale).

    Attributes
    ----------
    labels : list of str
        The three runs: plain Adam, Adam + L2, AdamW.
    eta, lam : float
        The learning rate and the L2 strength / weight decay.
    epochs : int
        Epochs of each run.
    feature_names : list of str
        The features, from the smallest scale to the largest.
    scales : ndarray
        Standard deviation of each feature's column.
    sqrt_v : ndarray
        What Adam divides by at the end of the Adam + L2 run: the root of
        the second moment of a mini-batch gradient coordinate.
    shrink_l2, shrink_w : ndarray
        Fraction of each weight removed per step by Adam + L2 and by AdamW.
    ratio_l2, ratio_w : ndarray
        Final weight over plain Adam's, under Adam + L2 and under AdamW (NaN
        where Adam's weight is 0).
    """

    labels: list
    eta: float
    lam: float
    epochs: int
    feature_names: list
    scales: np.ndarray
    sqrt_v: np.ndarray
    shrink_l2: np.ndarray
    shrink_w: np.ndarray
    ratio_l2: np.ndarray
    ratio_w: np.ndarray

    @staticmethod
    def _spread(r):
        r = np.abs(r[np.isfinite(r)])
        return float(r.max() / max(r.min(), 1e-300)) if r.size else math.nan

    @property
    def spread_l2(self):
        """Largest over smallest shrink per step under Adam + L2."""
        return self._spread(self.shrink_l2)

    @property
    def spread_w(self):
        """Largest over smallest shrink per step under AdamW (1: the same)."""
        return self._spread(self.shrink_w)


def decay_models(problem, batch_size, epochs, seed, eta=0.01, lam=0.01):
    """Return ``{label: SGDRegressor}``: Adam, Adam + L2 and AdamW."""
    from ..linear_model import SGDRegressor

    base = dict(
        learning_rate="constant",
        eta0=eta,
        batch_size=batch_size,
        max_iter=epochs,
        tol=None,
        random_state=seed,
        fit_intercept=problem.fit_intercept,
    )
    return {
        "Adam": SGDRegressor(optimizer="adam", penalty=None, **base),
        f"Adam + L2 (alpha={lam:g})": SGDRegressor(
            optimizer="adam", penalty="l2", alpha=lam, **base
        ),
        f"AdamW (weight_decay={lam:g})": SGDRegressor(
            optimizer="adamw", penalty=None, weight_decay=lam, **base
        ),
    }


def run_adamw_vs_l2(problem, *, epochs=100, batch_size=32, seed=0, progress=None):
    """Train Adam, Adam + L2 and AdamW; compare how each shrinks each weight.

    Parameters
    ----------
    problem : Problem
        The data (by default :func:`~.problems.spread_problem`).
    epochs : int, default=100
        Epochs per run, >= 1.
    batch_size : int or 'full', default=32
        Rows per step.
    seed : int, default=0
        Seed of every run.
    progress : callable or None, default=None
        Called as ``progress(done, total, text)`` after each run.

    Returns
    -------
    AdamWResult

    Raises
    ------
    ExperimentError
        When a run diverged (the comparison needs all three).
    """
    warm_up(problem.fit_intercept)
    X, y = problem.X, problem.y
    eta, lam = 0.01, 0.01
    b = X.shape[0] if batch_size == "full" else min(batch_size, X.shape[0])
    runs = decay_models(problem, b, epochs, seed, eta, lam)
    for i, (label, model) in enumerate(runs.items()):
        fit_timed(model, X, y, repeats=1)
        tell(progress, i + 1, len(runs), label)
    for label, model in runs.items():
        if model.diverged_:
            raise ExperimentError(
                f"{label} diverged on {problem.name}; standardize or lower eta"
            )
    plain, l2, adamw = runs.values()
    w0 = plain.coef_
    safe = np.where(np.abs(w0) > 1e-12, w0, np.nan)
    # what Adam divides by: sqrt of the second moment of a mini-batch
    # gradient coordinate at the end of the Adam + L2 run (mean^2 + var / B)
    resid = X @ l2.coef_ + l2.intercept_[0] - y
    G = resid[:, None] * X + lam * l2.coef_
    v = G.mean(axis=0) ** 2 + G.var(axis=0) / b
    step_l2 = eta * lam / (np.sqrt(v) + 1e-8)  # relative shrink of w_j per step
    scales = X.std(axis=0)
    order = np.argsort(scales)
    return AdamWResult(
        labels=list(runs),
        eta=eta,
        lam=lam,
        epochs=epochs,
        feature_names=[problem.feature_names[j] for j in order],
        scales=scales[order],
        sqrt_v=np.sqrt(v)[order],
        shrink_l2=step_l2[order],
        shrink_w=np.full_like(step_l2, eta * lam)[order],
        ratio_l2=(l2.coef_ / safe)[order],
        ratio_w=(adamw.coef_ / safe)[order],
    )
