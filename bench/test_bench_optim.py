"""Mini-batch optimizers: fastsgd against torch.optim (CPU) and scikit-learn.

fastsgd's SGD, momentum, Adam and AdamW at batch sizes 32, 256 and 4096, 100
and 1000 features, float32 and float64, with the rows read in order
(``shuffle=False``), a constant rate and no penalty. Competitors, measured in
the same rounds:

- ``torch``: the same optimizer from ``torch.optim`` on CPU, reading the same
  rows in the same order (``0.5 * mean((x w + b - y) ** 2)``, ``backward``,
  ``step``), on one thread like fastsgd (skipped when torch is not installed);
- ``sklearn``: scikit-learn's per-example ``SGDRegressor`` for the same epochs
  (what a scikit-learn user would run instead).
"""

import importlib.util

import pytest

from fastsgd import bench as fb

EPOCHS = 2
HAVE_TORCH = importlib.util.find_spec("torch") is not None
SHAPES = [(100_000, 100), (20_000, 1000)]


@pytest.mark.parametrize("batch_size", [32, 256, 4096])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_samples,n_features", SHAPES, ids=lambda v: str(v))
def test_minibatch(
    benchmark,
    side_by_side,
    problem,
    n_samples,
    n_features,
    dtype,
    optimizer,
    batch_size,
):
    p = problem(n_samples, n_features, dtype)
    eta, extra = fb.minibatch_params(optimizer, batch_size, n_features)

    def ours(clock):
        return fb.make_fastsgd(
            max_iter=EPOCHS,
            optimizer=optimizer,
            batch_size=batch_size,
            eta0=eta,
            learning_rate="constant",
            penalty=None,
            shuffle=False,
            **extra,
        ).fit(p.X, p.y, on_epoch=clock)

    eta_sk = fb.per_example_eta0(n_features)

    def sklearn():
        return fb.make_sklearn(max_iter=EPOCHS, eta0=eta_sk).fit(p.X, p.y)

    competitors = {"sklearn": sklearn}
    if HAVE_TORCH:

        def torch():
            return fb.torch_fit(
                p.X,
                p.y,
                optimizer=optimizer,
                lr=eta,
                batch_size=batch_size,
                epochs=EPOCHS,
            )

        competitors["torch"] = torch
    benchmark.group = f"optim {optimizer} {n_features} features {dtype}"
    info = side_by_side(ours, competitors, p)
    info["torch_installed"] = HAVE_TORCH
    assert not info["diverged"]
    if HAVE_TORCH:
        # the same optimizer on the same rows lands in the same place
        assert info["accuracy_ratio"] == pytest.approx(
            info["torch_accuracy_ratio"], rel=0.05
        )


@pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed (optional)")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
def test_same_steps_as_torch(problem, optimizer):
    """Not a timing: one epoch of each optimizer agrees with torch's coefficients."""
    import numpy as np

    p = problem(100_000, 100, "float64")
    X, y = p.X[:5000], p.y[:5000]
    eta, extra = fb.minibatch_params(optimizer, 32, 100)
    ours = fb.make_fastsgd(
        max_iter=1,
        optimizer=optimizer,
        batch_size=32,
        eta0=eta,
        learning_rate="constant",
        penalty=None,
        shuffle=False,
        **extra,
    ).fit(X, y)
    coef, intercept = fb.torch_fit(
        X, y, optimizer=optimizer, lr=eta, batch_size=32, epochs=1
    )
    np.testing.assert_allclose(ours.coef_, coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_[0], intercept, rtol=1e-6, atol=1e-9)
