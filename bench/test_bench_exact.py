"""The exact answer: closed_form against scikit-learn, and time to accuracy.

1. ``fastsgd.closed_form`` against scikit-learn's ``LinearRegression`` and
   ``Ridge`` (Cholesky) on the same data, side by side.
2. Time to accuracy: the time fastsgd's averaged SGD and mini-batch SGD need to
   reach a training MSE within 1% of the closed form's, against the time of
   ``closed_form`` itself, at 100 and 1000 features (100 000 rows). The number
   of epochs needed is found first (untimed); the benchmark then times a fit
   of that many epochs alternately with ``closed_form``.
"""

import pytest
from sklearn.linear_model import LinearRegression, Ridge

from fastsgd import bench as fb
from fastsgd import closed_form


@pytest.mark.parametrize(
    "n_samples,n_features", [(100_000, 100), (20_000, 1000)], ids=lambda v: str(v)
)
def test_closed_form(benchmark, side_by_side, problem, n_samples, n_features):
    p = problem(n_samples, n_features)

    def ours():
        return closed_form(p.X, p.y)

    competitors = {
        "LinearRegression": lambda: LinearRegression().fit(p.X, p.y),
        "Ridge": lambda: Ridge(alpha=1e-8, solver="cholesky").fit(p.X, p.y),
    }
    benchmark.group = f"exact {n_features} features"
    info = side_by_side(ours, competitors, p, rounds=2)
    assert info["accuracy_ratio"] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("method", ["sgd", "minibatch"])
@pytest.mark.parametrize("n_features", [100, 1000])
def test_time_to_accuracy(benchmark, side_by_side, problem, method, n_features):
    p = problem(100_000, n_features)
    found = fb.time_to_accuracy(p, method, max_epochs=10)
    assert found["reached"], found
    epochs = found["epochs"]
    d = n_features
    if method == "sgd":
        params = {"eta0": 0.5 / d}
    else:
        params = {"eta0": min(0.1, 16.0 / d), "batch_size": 32}

    def ours():
        return fb.make_fastsgd(
            max_iter=epochs,
            learning_rate="constant",
            average=True,
            penalty=None,
            **params,
        ).fit(p.X, p.y)

    benchmark.group = f"time to 1% of the optimum, {d} features"
    info = side_by_side(
        ours, {"closed_form": lambda: closed_form(p.X, p.y)}, p, rounds=2
    )
    info["epochs"] = epochs
    info["train_mse_ratio"] = p.train_ratio(*_coef(ours()))
    assert info["train_mse_ratio"] <= fb.TTA_TOLERANCE


def _coef(model):
    return model.coef_, model.intercept_
