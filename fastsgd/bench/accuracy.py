"""Time to accuracy: how long each method needs to get within 1% of the optimum.

The time to reach a training MSE within 1% of the closed form's, against the
number of features, for fastsgd's SGD and mini-batch SGD and for
:func:`fastsgd.closed_form` (where SGD overtakes the exact solution).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings

from .._util import check_int
from .contenders import make_fastsgd, make_sklearn
from .schema import TimeToAccuracy

__all__ = ["TTA_TOLERANCE", "time_to_accuracy"]

# a model "reaches" the optimum when its training MSE is within this factor
TTA_TOLERANCE = 1.01

METHODS = ("closed_form", "sgd", "minibatch", "sklearn")


def time_to_accuracy(problem, method, *, max_epochs=10, repeats=1):
    """Return the time a method needs to reach 1% of the optimal training MSE.

    For the gradient methods, fits of 1, 2, ... epochs are run from scratch
    (each deterministic, so the first ``k`` epochs are the same in every fit)
    until one reaches a training MSE within 1% of the closed form's; its
    whole-fit time (best of ``repeats``) is the time to accuracy.

    Parameters
    ----------
    problem : Problem
        The data and its optimum.
    method : {'closed_form', 'sgd', 'minibatch', 'sklearn'}
        ``'sgd'``: fastsgd per-example SGD with Polyak averaging and a constant
        rate ``0.5 / n_features``; ``'minibatch'``: batches of 32 rows,
        averaged, rate ``16 / n_features`` (capped at 0.1); ``'sklearn'``:
        scikit-learn's ``SGDRegressor`` with the same settings as ``'sgd'``;
        ``'closed_form'``: :func:`fastsgd.closed_form`.
    max_epochs : int, default=10
        Give up after this many epochs, >= 1.
    repeats : int, default=1
        Timed runs of the fit that reaches the target, >= 1 (best kept).

    Returns
    -------
    dict
        An entry of the ``time_to_accuracy`` list (see
        :class:`~fastsgd.bench.schema.TimeToAccuracy`).
    """
    max_epochs = check_int("max_epochs", max_epochs, 1)
    repeats = check_int("repeats", repeats, 1)
    if method not in METHODS:
        raise ValueError(
            "method must be 'closed_form', 'sgd', 'minibatch' or 'sklearn'; "
            f"got {method!r}."
        )
    if method == "closed_form":
        entry = _closed_form_entry(problem, repeats)
    else:
        entry = _gradient_entry(problem, method, max_epochs, repeats)
    return dataclasses.asdict(entry)


def _entry(problem, method, **found):
    n, d = problem.X.shape
    return TimeToAccuracy(method=method, n_samples=int(n), n_features=int(d), **found)


def _best_time(fit, repeats, first=None):
    """Return the best wall time of ``repeats`` calls (``first``: one done)."""
    times = [] if first is None else [first]
    while len(times) < repeats:
        t0 = time.perf_counter()
        fit()
        times.append(time.perf_counter() - t0)
    return min(times)


def _closed_form_entry(problem, repeats):
    from ..closed_form import closed_form

    X, y = problem.X, problem.y
    found = {}

    def solve():
        found["coef"], found["intercept"] = closed_form(X, y)

    seconds = _best_time(solve, repeats)
    ratio = problem.train_ratio(found["coef"], [found["intercept"]])
    reached = ratio <= TTA_TOLERANCE
    return _entry(
        problem,
        "closed_form",
        seconds=seconds if reached else None,
        epochs=None,
        mse_ratio=ratio,
        reached=bool(reached),
    )


def _gradient_setup(method, d):
    """Return ``(make, params)`` of a gradient method (no penalty)."""
    if method == "minibatch":
        params = {"eta0": min(0.1, 16.0 / d), "batch_size": 32}
    else:
        params = {"eta0": 0.5 / d}
    params.update(learning_rate="constant", average=True, penalty=None)
    return (make_sklearn if method == "sklearn" else make_fastsgd), params


def _gradient_entry(problem, method, max_epochs, repeats):
    X, y = problem.X, problem.y
    n, d = X.shape
    make, params = _gradient_setup(method, d)
    ratio = math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(max_iter=1, **params).fit(X[: min(n, 1000)], y[: min(n, 1000)])  # warm
        for k in range(1, max_epochs + 1):
            t0 = time.perf_counter()
            model = make(max_iter=k, **params).fit(X, y)
            first = time.perf_counter() - t0
            ratio = problem.train_ratio(model.coef_, model.intercept_)
            if ratio <= TTA_TOLERANCE:
                seconds = _best_time(
                    lambda k=k: make(max_iter=k, **params).fit(X, y), repeats, first
                )
                return _entry(
                    problem,
                    method,
                    seconds=seconds,
                    epochs=k,
                    mse_ratio=ratio,
                    reached=True,
                )
    return _entry(
        problem, method, seconds=None, epochs=None, mse_ratio=ratio, reached=False
    )
