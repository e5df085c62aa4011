"""Raw data without tuning: ``learning_rate="auto"`` on the problems of issue 15.

Accuracy is the test MSE over the closed form's on the same training rows
(1.0 is the optimum), the median over seeds, for ``SGDRegressor(
learning_rate="auto")`` with no scaler and no ``eta0``; beside it the
package's defaults (``'invscaling'``, ``eta0=0.01``) on the same raw data,
and Vowpal Wabbit at its best ``-l`` on the text-like problem when the
``vowpalwabbit`` package is importable (a benchmark competitor, never a
dependency). The problems:

- ``diabetes``: scikit-learn's diabetes data unscaled, a 75/25 split,
  the estimator's defaults otherwise (up to 1000 epochs, ``tol=1e-3``);
- ``wide_scales``: correlated columns (AR(1), rho 0.8) of scales 1e-3 to 1e4,
  most with offsets of 1 to 100 times their scale, 10 epochs, no penalty,
  per example and by batches of 32;
- ``text_like``: a hashed bag of words (Zipf popularity over 8192 tokens,
  hashed into 2^18 columns, ~20 stored tf-idf values a row), CSR, 3 passes,
  no penalty.

A second measurement, ``sparse_adaptive``: the epoch time of per-example
AdaGrad and RMSProp on CSR rows of the same non-zeros at 2^10 and 2^20
columns; their steps touch only a row's stored columns, so the times should
not grow with the width.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp

from .schema import RawAccuracy, SparseAdaptiveCost

__all__ = [
    "diabetes",
    "raw_accuracy_rows",
    "sparse_adaptive_rows",
    "text_like",
    "vw_available",
    "wide_scales",
]

VW_RATES = (0.25, 0.35, 0.5, 0.7, 1.0)


def diabetes(seed):
    """Return scikit-learn's diabetes data, unscaled, split 75/25 by ``seed``."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True, scaled=False)
    return train_test_split(X, y, test_size=0.25, random_state=seed)


def wide_scales(seed, n_train=20_000, n_test=10_000, d=20, rho=0.8):
    """Return correlated columns of scales 1e-3..1e4 with offsets (dense)."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    Z = np.empty((n, d))
    Z[:, 0] = rng.standard_normal(n)
    for j in range(1, d):
        Z[:, j] = rho * Z[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    scale = 10.0 ** rng.uniform(-3, 4, d)
    offset = scale * np.where(rng.random(d) < 0.3, 0.0, 10.0 ** rng.uniform(0, 2, d))
    offset *= rng.choice([-1.0, 1.0], d)
    X = offset + scale * Z
    y = Z @ rng.standard_normal(d) + 3.0 + rng.standard_normal(n)
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def text_like(
    seed, n_train=200_000, n_test=50_000, n_cols=2**18, vocab=8192, nnz=20, noise=1.0
):
    """Return a hashed bag of words (Zipf popularity, tf-idf values), CSR."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    pop = 1.0 / np.arange(1, vocab + 1)
    pop /= pop.sum()
    idf = np.log(1.0 / pop)
    idf /= idf.mean()
    cols = rng.choice(n_cols, size=vocab, replace=False)
    lens = np.clip(rng.poisson(nnz, n), 1, None)
    tok = rng.choice(vocab, size=int(lens.sum()), p=pop)
    row = np.repeat(np.arange(n), lens)
    A = sp.coo_matrix((np.ones(tok.size), (row, tok)), shape=(n, vocab)).tocsr()
    A.sum_duplicates()
    A.data = (1.0 + np.log(A.data)) * idf[A.indices]
    y = A @ (0.5 * rng.standard_normal(vocab)) + 1.0 + noise * rng.standard_normal(n)
    A = A.tocoo()
    X = sp.csr_matrix((A.data, (A.row, cols[A.col])), shape=(n, n_cols))
    X.sort_indices()
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def optimum_mse(Xtr, ytr, Xte, yte):
    """Return the test MSE of ``closed_form`` on the training rows.

    Sparse data: on the columns some training row stores (the others 0);
    with fewer rows than those columns, the minimum-norm solution.
    """
    from ..closed_form import closed_form

    with warnings.catch_warnings():
        # a small run (scale < 1) can have fewer rows than stored columns:
        # closed_form then warns and returns the minimum-norm solution
        warnings.simplefilter("ignore")
        if sp.issparse(Xtr):
            used = np.unique(Xtr.indices)
            coef = np.zeros(Xtr.shape[1])
            c, b = closed_form(Xtr[:, used], ytr)
            coef[used] = c
        else:
            coef, b = closed_form(Xtr, ytr)
    return _mse(Xte, yte, coef, b)


def _mse(X, y, coef, intercept):
    pred = np.asarray(X @ np.asarray(coef, dtype=float)).ravel() + float(intercept)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean((pred - y) ** 2))


def vw_available():
    """Tell whether Vowpal Wabbit's Python package can be imported."""
    try:
        import vowpalwabbit  # noqa: F401
    except ImportError:
        return False
    return True


def _fit(X, y, on_epoch=None, **params):
    from ..linear_model import SGDRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, DivergenceWarning
        model = SGDRegressor(**params)
        start = time.perf_counter()
        model.fit(X, y, on_epoch=on_epoch)
        return model, time.perf_counter() - start


def _problems(rows_for):
    """``(name, make(seed), params)`` of every configuration measured."""
    n_text = rows_for(200_000)
    n_wide = rows_for(20_000)
    return [
        ("diabetes", diabetes, {}),
        *(
            (
                "wide_scales",
                lambda s: wide_scales(s, n_train=n_wide, n_test=n_wide // 2),
                {"max_iter": 10, "tol": None, "penalty": None, "batch_size": b},
            )
            for b in (1, 32)
        ),
        (
            "text_like",
            lambda s: text_like(s, n_train=n_text, n_test=max(n_text // 4, 100)),
            {"max_iter": 3, "tol": None, "penalty": None},
        ),
    ]


def raw_accuracy_rows(rows_for, seeds=(0, 1, 2), with_vw=True):
    """Measure ``learning_rate="auto"`` on raw data; return :class:`RawAccuracy` rows.

    Parameters
    ----------
    rows_for : callable
        Maps the problem's nominal training rows to the rows of this run.
    seeds : tuple of int, default=(0, 1, 2)
        Data splits and fits (the median is reported).
    with_vw : bool, default=True
        Also run Vowpal Wabbit on the text-like problem when it is installed.
    """
    out = []
    for name, make, params in _problems(rows_for):
        ratios, seconds, diverged, zero, default_ratios = [], [], False, False, []
        vw_ratios, vw_best = [], []
        for seed in seeds:
            Xtr, Xte, ytr, yte = make(seed)
            opt = optimum_mse(Xtr, ytr, Xte, yte)
            model, secs = _fit(
                Xtr, ytr, learning_rate="auto", random_state=seed, **params
            )
            ratios.append(_mse(Xte, yte, model.coef_, model.intercept_[0]) / opt)
            seconds.append(secs)
            diverged |= bool(model.diverged_)
            zero |= not np.any(model.coef_)
            base, _ = _fit(Xtr, ytr, random_state=seed, **params)
            default_ratios.append(_mse(Xte, yte, base.coef_, base.intercept_[0]) / opt)
            if with_vw and name == "text_like" and vw_available():
                lr, ratio = _vw_best(Xtr, ytr, Xte, yte, params["max_iter"], opt)
                vw_ratios.append(ratio)
                vw_best.append(lr)
        Xtr = make(seeds[0])[0]
        out.append(
            RawAccuracy(
                problem=name,
                input="csr" if sp.issparse(Xtr) else "dense",
                n_samples=int(Xtr.shape[0]),
                n_features=int(Xtr.shape[1]),
                batch_size=int(params.get("batch_size", 1)),
                epochs=params.get("max_iter"),
                seeds=len(seeds),
                accuracy_ratio=float(np.median(ratios)),
                worst_ratio=float(np.max(ratios)),
                default_ratio=_finite_median(default_ratios),
                fit_seconds=float(np.median(seconds)),
                diverged=diverged,
                zero_model=zero,
                vw_ratio=float(np.median(vw_ratios)) if vw_ratios else None,
                vw_best_l=float(np.median(vw_best)) if vw_best else None,
            )
        )
    return out


def _finite_median(values):
    v = float(np.median(values))
    return v if math.isfinite(v) else None


def _vw_best(Xtr, ytr, Xte, yte, passes, opt):
    """Return VW's best ``-l`` of ``VW_RATES`` and its test MSE ratio."""
    import vowpalwabbit

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "train.vw")
        cache = os.path.join(tmp, "train.cache")
        with open(data, "w") as fh:
            fh.write("\n".join(vw_lines(Xtr, ytr)) + "\n")
        test = vw_lines(Xte)
        best = (None, math.inf)
        for lr in VW_RATES:
            ws = vowpalwabbit.Workspace(arg_list=vw_args(data, cache, passes, lr))
            pred = np.array([ws.predict(line) for line in test])
            ws.finish()
            ratio = float(np.mean((pred - yte) ** 2) / opt)
            if ratio < best[1]:
                best = (lr, ratio)
    return best


def vw_lines(X, y=None):
    """Return VW text lines (one namespace ``f``, column numbers as features)."""
    X = X.tocsr()
    ip, ix, dv = X.indptr, X.indices, X.data
    out = []
    for i in range(X.shape[0]):
        feats = " ".join(f"{ix[k]}:{dv[k]:.9g}" for k in range(ip[i], ip[i + 1]))
        label = "" if y is None else f"{y[i]:.9g} "
        out.append(f"{label}|f {feats}")
    return out


def vw_args(data, cache, passes, lr, bits=18, noop=False):
    """Return VW's arguments: squared loss, defaults otherwise, no holdout."""
    args = [
        "--quiet", "--data", str(data), "--cache_file", str(cache),
        "--passes", str(passes), "--holdout_off", "-l", str(lr),
        "--loss_function", "squared", "-b", str(bits),
    ]  # fmt: skip
    if noop:
        args.append("--noop")
    return args


def sparse_adaptive_rows(n_samples, repeats=3, nnz=20, widths=(2**10, 2**20)):
    """Time per-example AdaGrad/RMSProp CSR epochs at several widths.

    The same rows (``nnz`` stored values each, at random columns below the
    smallest width) are stored in matrices of each width: a step that costs
    O(non-zeros) takes as long at every width.
    """
    from .timing import epoch_clock

    rng = np.random.default_rng(0)
    n_cols = min(widths)
    cols = rng.integers(0, n_cols, size=(n_samples, nnz))
    data = rng.standard_normal((n_samples, nnz))
    indptr = np.arange(0, n_samples * nnz + 1, nnz)
    y = rng.standard_normal(n_samples)
    out = []
    for optimizer in ("adagrad", "rmsprop"):
        for width in widths:
            X = sp.csr_matrix(
                (data.ravel(), cols.ravel(), indptr), shape=(n_samples, width)
            )
            X.sum_duplicates()
            best = math.inf
            for _ in range(repeats + 1):  # the first compiles or loads
                clock = epoch_clock()
                _fit(X, y, clock, optimizer=optimizer, max_iter=1, tol=None)
                best = min(best, sum(clock.times))
            out.append(
                SparseAdaptiveCost(
                    optimizer=optimizer,
                    n_samples=n_samples,
                    n_features=width,
                    nnz_per_row=float(X.nnz / n_samples),
                    epoch_seconds=best,
                )
            )
    return out
