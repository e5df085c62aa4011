"""The default shuffled order against a full permutation, on adversarial rows.

``sampling="auto"`` (the default) reads data larger than 4 MiB through
interleaved sequential streams over randomly chosen segments instead of a full
permutation (see ``_rows.stream_sequence``). A weak shuffle shows on rows
stored in an order that correlates with the target: this module builds such
data (rows sorted by the target, sorted by one feature, grouped in clusters of
near-duplicates, or drifting along the row index) and compares the test MSE
of the default order with the permutation's over several seeds.
``tests/test_visiting_order.py`` asserts the comparison; ``fastsgd bench``
reports it (section ``orders``).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["KINDS", "ORDER_CONFIGS", "ORDER_TOLERANCE", "compare_orders", "ordered"]

#: the row orders that break weak shuffles
KINDS = ("target", "feature", "clusters", "drift")

#: the configurations compared: per example, and Adam with batches of 32
ORDER_CONFIGS = {
    "per-example": {},
    "adam-batch-32": {"batch_size": 32, "optimizer": "adam", "eta0": 0.01},
}

#: the default order's test MSE (over the optimum's) may exceed the
#: permutation's seed range by this much; measured worst case 0.0098
#: (clusters of near-duplicates, per example, first epoch), usually under 0.002
ORDER_TOLERANCE = 0.015


def ordered(kind, n=80_000, d=10, seed=0):
    """Return ``(X_train, y_train, X_test, y_test)``, training rows in order ``kind``.

    80 000 rows of 10 float64 features are 6.4 MB: the default takes its
    streamed order there. The test rows are a random fifth of the data.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d)
    if kind == "clusters":  # near-duplicate rows, grouped
        centers = 2.0 * rng.standard_normal((200, d))
        X = centers[np.sort(rng.integers(0, 200, n))]
        X = X + 0.05 * rng.standard_normal((n, d))
    else:
        X = rng.standard_normal((n, d))
    if kind == "drift":  # the features drift along the row index
        X = X + 2.0 * np.linspace(0.0, 1.0, n)[:, None] * rng.standard_normal(d)
    y = X @ w + 0.3 + 0.5 * rng.standard_normal(n)
    test = rng.random(n) < 0.2
    Xtr, ytr = X[~test], y[~test]
    if kind == "target":
        o = np.argsort(ytr, kind="stable")
    elif kind == "feature":
        o = np.argsort(Xtr[:, 0], kind="stable")
    else:
        o = np.arange(len(ytr))
    return np.ascontiguousarray(Xtr[o]), ytr[o].copy(), X[test], y[test]


def compare_orders(kind, config, epochs=(1, 3, 10), seeds=5, n=80_000):
    """Compare the default order with a full permutation on data of ``kind``.

    Returns one dict per number of epochs: ``kind``, ``config``, ``epochs``,
    ``permutation`` and ``default`` (each the list of test MSE over the
    optimum's, one per seed), and ``within``: whether every default run lies
    in the permutation's range widened by ``ORDER_TOLERANCE``.
    """
    from ..closed_form import closed_form
    from ..linear_model import SGDRegressor

    params = ORDER_CONFIGS[config]
    Xtr, ytr, Xte, yte = ordered(kind, n=n)
    coef, intercept = closed_form(Xtr, ytr)
    optimum = float(np.mean((Xte @ coef + intercept - yte) ** 2))

    def ratio(sampling, max_iter, seed):
        model = SGDRegressor(
            max_iter=max_iter, tol=None, random_state=seed, sampling=sampling, **params
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning is not the point
            model.fit(Xtr, ytr)
        return float(np.mean((model.predict(Xte) - yte) ** 2)) / optimum

    out = []
    for e in epochs:
        perm = [ratio("permutation", e, s) for s in range(seeds)]
        auto = [ratio("auto", e, s) for s in range(seeds)]
        low, high = min(perm) - ORDER_TOLERANCE, max(perm) + ORDER_TOLERANCE
        out.append(
            dict(
                kind=kind,
                config=config,
                epochs=int(e),
                permutation=perm,
                default=auto,
                within=bool(all(low <= a <= high for a in auto)),
            )
        )
    return out
