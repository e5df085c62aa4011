"""``sweep``: the x10 learning-rate sweep of one configuration, each run diagnosed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._util import format_rate
from .runs import mse_curve, tell, warm_up

__all__ = ["DEFAULT_ETAS", "LrSweepResult", "run_sweep", "sweep_rates"]

#: the rates swept by default: 1e-5, 1e-4, ..., 10
DEFAULT_ETAS = 10.0 ** np.arange(-5, 2)


@dataclass
class LrSweepResult:
    """One run per learning rate, ascending (see :func:`fastsgd.lr_sweep`).

    Attributes
    ----------
    etas : ndarray of shape (n_rates,)
        The learning rates, ascending.
    curves : list of ndarray
        Training MSE per epoch of each run, over the rows as they were
        visited (twice its ``loss_curve_``), cut short where a run diverged.
    final : ndarray of shape (n_rates,)
        The last value of each curve; ``inf`` for a run that diverged.
    verdicts : list of str
        :func:`fastsgd.diagnose`'s verdict on each run.
    best_eta : float or None
        The recommended rate; None when every run exploded or none got near
        the optimum.
    best_rtol : float
        ``best_eta``'s rule: the largest healthy rate within this fraction
        of the lowest final value (of the runs near the optimum).
    diverged : list of bool
        Whether each run was stopped as diverged.
    fixes : list of str
        The first fix :func:`fastsgd.diagnose` proposes for each run that is
        not healthy ("" for a healthy one).
    optimum : float or None
        Training MSE of the exact least-squares solution; None when it was
        not computed.
    final_mse : ndarray of shape (n_rates,)
        Training MSE of each run's final model on the whole data (NaN
        without ``optimum`` or for a diverged run).
    near_optimum : ndarray of bool of shape (n_rates,)
        Whether each run got near the optimum.
    advice : tuple of str
        What to do when no rate was good, most promising first.
    warnings : tuple of str
        Problems with the data (badly scaled features).
    scale_first : bool
        Whether the first advice is to scale the features.
    """

    etas: np.ndarray
    curves: list
    final: np.ndarray
    verdicts: list
    best_eta: float | None
    best_rtol: float
    diverged: list
    fixes: list
    optimum: float | None = None
    final_mse: np.ndarray = field(default_factory=lambda: np.zeros(0))
    near_optimum: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    advice: tuple = ()
    warnings: tuple = ()
    scale_first: bool = False


def sweep_rates(estimator, problem, etas, epochs, progress=None):
    """Train ``estimator`` at each rate (:func:`fastsgd.lr_sweep`).

    Parameters
    ----------
    estimator : SGDRegressor
        The configuration (not modified).
    problem : Problem
        The data.
    etas : sequence of float
        The rates, each > 0 (sorted, repeats dropped).
    epochs : int
        Epochs per rate, >= 2.
    progress : callable or None, default=None
        Called as ``progress(done, total, text)`` after each rate.

    Returns
    -------
    LrSweepResult
    """
    from ..diagnostics import BEST_RTOL, SCALE_FIX, lr_sweep

    etas = np.unique(np.asarray(etas, dtype=np.float64))
    n = problem.X.shape[0]

    def tick(i, eta, model, seconds):
        curve = model.loss_curve_
        ok = curve and not model.diverged_
        loss = f"MSE {2 * curve[-1]:.4g}" if ok else "diverged"
        rate = format_rate(len(curve) * n / max(seconds, 1e-9))
        status = f"eta {eta:.3g}: {len(curve)} ep, {loss}, {rate} samples/s"
        tell(progress, i + 1, len(etas), status)

    found = lr_sweep(
        estimator, problem.X, problem.y, etas=etas, epochs=epochs, callback=tick
    )
    return LrSweepResult(
        etas=np.asarray(found.etas),
        curves=[mse_curve(c) for c in found.curves],
        final=mse_curve(found.final_loss),
        verdicts=list(found.verdicts),
        best_eta=found.best_eta,
        best_rtol=BEST_RTOL,
        diverged=[bool(d.evidence.get("diverged")) for d in found.diagnoses],
        fixes=[d.fixes[0] if d.verdict != "healthy" else "" for d in found.diagnoses],
        optimum=None if found.optimum is None else 2.0 * found.optimum,
        final_mse=mse_curve(found.objective),
        near_optimum=np.asarray(found.near_optimum, dtype=bool),
        advice=tuple(found.advice),
        warnings=tuple(found.warnings),
        scale_first=bool(found.advice) and found.advice[0] == SCALE_FIX,
    )


def run_sweep(
    problem,
    *,
    optimizer="sgd",
    batch_size=32,
    epochs=20,
    etas=None,
    seed=0,
    progress=None,
):
    """Sweep the learning rate of one configuration by factors of 10.

    Parameters
    ----------
    problem : Problem
        The data.
    optimizer : str, default='sgd'
        ``SGDRegressor``'s ``optimizer``.
    batch_size : int or 'full', default=32
        Rows per step.
    epochs : int, default=20
        Epochs per rate, >= 2.
    etas : sequence of float or None, default=None
        The rates; None means ``DEFAULT_ETAS`` (1e-5 to 10).
    seed : int, default=0
        Seed of every run.
    progress : callable or None, default=None
        Called as ``progress(done, total, text)`` after each rate.

    Returns
    -------
    LrSweepResult
    """
    from ..linear_model import SGDRegressor

    warm_up(problem.fit_intercept)
    est = SGDRegressor(
        penalty=None,
        optimizer=optimizer,
        batch_size=batch_size,
        random_state=seed,
        fit_intercept=problem.fit_intercept,
        eta0=0.01,
    )
    etas = DEFAULT_ETAS if etas is None else etas
    return sweep_rates(est, problem, etas, epochs, progress)
