"""The multi-output row: K targets in one pass against K scikit-learn models.

fastsgd fits every target in the same epochs (each row read updates the K
models); scikit-learn's answer is ``MultiOutputRegressor(SGDRegressor)``, K
separate fits that read X K times.  Both use scikit-learn's default
configuration for the same epochs; fastsgd's own fit of the first target alone
is raced beside them (label ``"single_target"``), so the row also tells what
the other K - 1 targets cost.
"""

from __future__ import annotations

import warnings

import numpy as np

from .contenders import make_fastsgd, make_sklearn
from .problems import NOISE
from .schema import MATCH_TOLERANCE, Competitor, Row
from .timing import epoch_clock, race

__all__ = ["multi_output_rows", "multi_targets"]


def multi_targets(problem, n_targets, seed=1):
    """Return ``(Y, Y_test, test_mse)``: ``n_targets`` targets on the problem's X.

    The first column is the problem's own target; the others are new linear
    targets of the same scale and noise.  ``test_mse`` is the closed form's
    test MSE, the mean over the targets.
    """
    from ..closed_form import closed_form

    rng = np.random.default_rng(seed)
    X, X_test = problem.X, problem.X_test
    d = X.shape[1]
    W = rng.standard_normal((d, n_targets - 1)) / np.sqrt(d)
    b = rng.standard_normal(n_targets - 1)
    cols = [problem.y[:, None]]
    test_cols = [problem.y_test[:, None]]
    for Z, out in ((X, cols), (X_test, test_cols)):
        noise = NOISE * rng.standard_normal((Z.shape[0], n_targets - 1))
        out.append(np.asarray(Z @ W) + b + noise)
    dtype = problem.y.dtype
    Y = np.ascontiguousarray(np.hstack(cols), dtype=dtype)
    Y_test = np.hstack(test_cols).astype(np.float64)
    coef, intercept = closed_form(X.astype(np.float64), Y.astype(np.float64))
    return Y, Y_test, _mse(X_test, Y_test, coef, intercept)


def _mse(X, Y, coef, intercept):
    with np.errstate(over="ignore", invalid="ignore"):
        pred = np.asarray(X.astype(np.float64) @ np.asarray(coef, np.float64).T)
        err = float(np.mean((pred + intercept - Y) ** 2))
    return err if np.isfinite(err) else float("inf")


def multi_output_rows(problem, n_targets, epochs, repeats):
    """Race fastsgd with ``n_targets`` targets against MultiOutputRegressor.

    Returns
    -------
    list of Row
        One row (group ``"multi"``), with competitors ``"sklearn"``
        (``MultiOutputRegressor(sklearn SGDRegressor)``) and
        ``"single_target"`` (fastsgd on the first target alone).
    """
    from sklearn.multioutput import MultiOutputRegressor

    X = problem.X
    Y, Y_test, best_mse = multi_targets(problem, n_targets)
    models, clocks = {}, []

    def ours():
        clock = epoch_clock()
        models["multi"] = make_fastsgd(max_iter=epochs).fit(X, Y, on_epoch=clock)
        clocks.extend(clock.times)

    def single():
        models["single"] = make_fastsgd(max_iter=epochs).fit(X, Y[:, 0])

    def sklearn():
        models["sk"] = MultiOutputRegressor(make_sklearn(max_iter=epochs)).fit(X, Y)

    contenders = {"multi": ours, "single": single, "sk": sklearn}
    contenders["numpy-sum"] = problem.numpy_sum
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence is recorded, not printed
        times = race(contenders, repeats)
    best = {k: min(v) for k, v in times.items()}
    model = models["multi"]
    sk = np.array([e.coef_ for e in models["sk"].estimators_])
    sk_b = np.array([e.intercept_[0] for e in models["sk"].estimators_])
    single_ratio = _mse(
        problem.X_test, Y_test[:, :1], models["single"].coef_[None, :],
        models["single"].intercept_,
    ) / problem.test_mse  # fmt: skip
    ours = _mse(problem.X_test, Y_test, model.coef_, model.intercept_) / best_mse
    sk_ratio = _mse(problem.X_test, Y_test, sk, sk_b) / best_mse
    n, d = X.shape
    fit_s = best["multi"]
    epoch_s = min(clocks) if clocks else fit_s / epochs
    gbs = problem.x_bytes / epoch_s / 1e9
    sum_gbs = problem.x_bytes / best["numpy-sum"] / 1e9
    return [
        Row(
            group="multi",
            name=f"sgd K={n_targets}",
            n_samples=int(n),
            n_features=int(d),
            dtype=problem.dtype,
            input=problem.input,
            density=problem.density,
            optimizer="sgd",
            batch_size=1,
            sampling="default",
            epochs=int(epochs),
            fit_seconds=fit_s,
            epoch_seconds=epoch_s,
            samples_per_s=n / epoch_s,
            gb_per_s=gbs,
            sum_gb_per_s=sum_gbs,
            bandwidth_fraction=gbs / sum_gbs,
            accuracy_ratio=ours,
            diverged=bool(model.diverged_),
            competitors={
                "sklearn": _competitor(best["sk"], fit_s, sk_ratio, ours),
                "single_target": _competitor(best["single"], fit_s, single_ratio, ours),
            },
        )
    ]


def _competitor(seconds, fit_s, accuracy, ours):
    """Return a Competitor; a speed-up counts only at equal accuracy."""
    return Competitor(
        seconds=seconds,
        speedup=seconds / fit_s,
        accuracy_ratio=accuracy,
        less_accurate=bool(ours > accuracy * MATCH_TOLERANCE),
    )
