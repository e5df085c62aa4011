"""``compare``: the same regression solved by each method of the lecture.

Closed form, gradient descent, SGD, mini-batch SGD, momentum, Adam and AdamW
on one problem, each tuned to the data's curvature, with the final training
MSE, its ratio to the closed form's, the time and the diagnosis of each run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._util import format_rate
from .problems import curvature
from .runs import (
    closed_form_fit,
    fit_timed,
    model_mse,
    mse,
    mse_curve,
    mse_floor,
    tell,
    warm_up,
)

__all__ = ["METHODS", "MethodRun", "OptimizersResult", "run_optimizers"]

#: the methods, in the order of the table
METHODS = ("closed", "gd", "sgd", "minibatch", "momentum", "adam", "adamw")


@dataclass
class MethodRun:
    """One method's run.

    Attributes
    ----------
    method : str
        Its name in ``METHODS``.
    label : str
        Its label in tables and legends (with the batch size).
    mse : float
        Training MSE of the final model (``inf`` if it kept no epoch).
    epochs : int
        Epochs run.
    seconds : float
        Wall time of the fit (best of a few when quick).
    samples_per_s : float
        Rows per second over all epochs.
    diagnosis : Diagnosis
        :func:`fastsgd.diagnose` of the run.
    curve : ndarray
        Training MSE of each epoch, over the rows as they were visited
        (twice the model's ``loss_curve_``).
    step_curve : ndarray
        Training MSE of every ``record_every`` steps (twice its
        ``step_loss_curve_``), empty when not recorded.
    record_every : int or None
        Steps per point of ``step_curve``.
    """

    method: str
    label: str
    mse: float
    epochs: int
    seconds: float
    samples_per_s: float
    diagnosis: object
    curve: np.ndarray
    step_curve: np.ndarray
    record_every: int | None


@dataclass
class OptimizersResult:
    """What :func:`run_optimizers` found.

    Attributes
    ----------
    note : str
        The problem's description.
    n_samples : int
        Rows of the problem.
    closed_form_mse : float
        The closed form's training MSE: the optimum.
    closed_form_seconds : float
        Its wall time.
    closed_form_samples_per_s : float
        Rows per second of the closed form.
    show_closed_form : bool
        Whether ``'closed'`` was among the methods asked for.
    floor : float
        MSEs below this are rounding noise: no ratio to them means anything.
    runs : list of MethodRun
        The gradient methods, in the order asked for.
    """

    note: str
    n_samples: int
    closed_form_mse: float
    closed_form_seconds: float
    closed_form_samples_per_s: float
    show_closed_form: bool
    floor: float
    runs: list


def method_models(methods, problem, epochs, batch_size, seed):
    """Return ``{method: (label, SGDRegressor)}``, each tuned to the data.

    Constant rates from the curvature (:func:`~.problems.curvature`): GD
    ``1 / L``, per-example SGD ``0.25 / R2`` (stable, visibly noisy),
    mini-batches a quarter of GD's step, momentum 0.9 a twentieth (it
    multiplies the step by up to 10), Adam and AdamW 0.01; no penalty.
    ``'closed'`` is left out.
    """
    from ..linear_model import SGDRegressor

    L, R2 = curvature(problem.X, problem.fit_intercept)
    m = problem.X.shape[0]
    b = m if batch_size == "full" else min(batch_size, m)
    common = dict(
        penalty=None,
        learning_rate="constant",
        tol=None,
        max_iter=epochs,
        random_state=seed,
        fit_intercept=problem.fit_intercept,
    )
    mom = dict(optimizer="momentum", momentum=0.9, eta0=0.05 / L)
    specs = {
        "gd": ("GD (full batch)", dict(batch_size="full", eta0=1.0 / L)),
        # record the loss seen every m/50 steps: the jitter SGD lives with
        "sgd": (
            "SGD (B=1)",
            dict(batch_size=1, eta0=0.25 / R2, record_every=max(1, m // 50)),
        ),
        "minibatch": (f"mini-batch SGD (B={b})", dict(batch_size=b, eta0=0.25 / L)),
        "momentum": (f"momentum 0.9 (B={b})", dict(batch_size=b, **mom)),
        "adam": (f"Adam (B={b})", dict(batch_size=b, optimizer="adam", eta0=0.01)),
        "adamw": (
            f"AdamW (B={b}, wd 0.01)",
            dict(batch_size=b, optimizer="adamw", eta0=0.01, weight_decay=0.01),
        ),
    }
    return {
        name: (specs[name][0], SGDRegressor(**common, **specs[name][1]))
        for name in methods
        if name != "closed"
    }


def run_optimizers(
    problem, *, methods=METHODS, epochs=30, batch_size=32, seed=0, progress=None
):
    """Train ``problem`` with each method; return the table's rows and curves.

    Parameters
    ----------
    problem : Problem
        The data (see :mod:`fastsgd.experiments.problems`).
    methods : sequence of str, default=METHODS
        Which methods, from ``METHODS``, in the order of the table.
    epochs : int, default=30
        Epochs per run, >= 1.
    batch_size : int or 'full', default=32
        Mini-batch size of the mini-batch methods.
    seed : int, default=0
        Seed of every run.
    progress : callable or None, default=None
        Called as ``progress(done, total, text)`` after each run.

    Returns
    -------
    OptimizersResult
    """
    from ..diagnostics import diagnose

    X, y = problem.X, problem.y
    warm_up(problem.fit_intercept)
    coef, intercept, cf_seconds = closed_form_fit(problem)
    cf_mse = mse(X, y, coef, intercept)
    optimum = cf_mse / 2  # diagnose reads the objective, mean of ½(p − y)²
    models = method_models(methods, problem, epochs, batch_size, seed)
    runs = []
    for i, (method, (label, model)) in enumerate(models.items()):
        seconds = fit_timed(model, X, y)
        diag = diagnose(
            model,
            optimum=optimum if optimum > 0 else None,
            scale=0.5 * np.mean(y**2),
        )
        run = _method_run(method, label, model, seconds, diag, X, y)
        runs.append(run)
        loss = f"MSE {run.curve[-1]:.4g}" if run.curve.size else "diverged"
        status = f"{run.epochs} ep, {loss}, {format_rate(run.samples_per_s)} samples/s"
        tell(progress, i + 1, len(models), f"{status} - {label}")
    return OptimizersResult(
        note=problem.note,
        n_samples=X.shape[0],
        closed_form_mse=cf_mse,
        closed_form_seconds=cf_seconds,
        closed_form_samples_per_s=X.shape[0] / max(cf_seconds, 1e-9),
        show_closed_form="closed" in methods,
        floor=mse_floor(y),
        runs=runs,
    )


def _method_run(method, label, model, seconds, diag, X, y):
    every = model.get_params()["record_every"]
    return MethodRun(
        method=method,
        label=label,
        mse=model_mse(model, X, y),
        epochs=model.n_iter_,
        seconds=seconds,
        samples_per_s=model.n_iter_ * X.shape[0] / max(seconds, 1e-9),
        diagnosis=diag,
        curve=mse_curve(model.loss_curve_),
        step_curve=mse_curve(getattr(model, "step_loss_curve_", ())),
        record_every=every or None,
    )
