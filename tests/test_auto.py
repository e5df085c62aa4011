"""learning_rate="auto" and the O(nnz) sparse AdaGrad/RMSProp through the estimator.

Raw data without a scaler or an eta0 reaches the exact optimum; dense and CSR,
per example and by mini-batches, float32 and float64, penalties, partial_fit,
pickling, warm starts, fit_stream; unsupported combinations fail before any
kernel runs. The kernels themselves are checked against NumPy references in
test_auto_kernels.py.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from fastsgd import SGDRegressor, closed_form
from fastsgd._kernels import _select

HSET = settings(deadline=None, derandomize=True)


def quiet_fit(model, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        return model.fit(X, y, **kw)


def test_mse(model, X, y):
    return float(np.mean((model.predict(X) - y) ** 2))


test_mse.__test__ = False  # a helper, not a test


def optimum_mse(Xtr, ytr, Xte, yte):
    coef, b = closed_form(Xtr, ytr)
    pred = np.asarray(Xte @ np.asarray(coef)).ravel() + float(b)
    return float(np.mean((pred - yte) ** 2))


def wide_scales(seed, n=3000, d=8, rho=0.8):
    """Correlated columns (AR(1)) of scales 1e-3..1e4 with offsets."""
    rng = np.random.default_rng(seed)
    Z = np.empty((n, d))
    Z[:, 0] = rng.standard_normal(n)
    for j in range(1, d):
        Z[:, j] = rho * Z[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    scale = np.logspace(-3, 4, d)
    offset = scale * np.linspace(-50.0, 80.0, d)
    X = offset + scale * Z
    y = Z @ rng.standard_normal(d) + 3.0 + rng.standard_normal(n)
    k = 2 * n // 3
    return X[:k], X[k:], y[:k], y[k:]


def hashed_text(seed, n=4000, n_cols=2**14, vocab=600, nnz=12):
    """A small hashed bag of words: Zipf popularity, tf-idf values, CSR."""
    rng = np.random.default_rng(seed)
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
    y = A @ (0.5 * rng.standard_normal(vocab)) + 1.0 + 0.5 * rng.standard_normal(n)
    A = A.tocoo()
    X = sp.csr_matrix((A.data, (A.row, cols[A.col])), shape=(n, n_cols))
    k = 3 * n // 4
    return X[:k], X[k:], y[:k], y[k:]


# ------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("seed", [0, 1])
def test_unscaled_diabetes_reaches_the_optimum(seed):
    """The issue's first failure: sklearn's defaults give R^2 -4.7e22 here."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True, scaled=False)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=seed)
    model = quiet_fit(SGDRegressor(learning_rate="auto", random_state=seed), Xtr, ytr)
    assert not model.diverged_
    assert np.all(model.coef_ != 0.0)
    ratio = test_mse(model, Xte, yte) / optimum_mse(Xtr, ytr, Xte, yte)
    assert ratio <= 1.08, ratio


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 32])
def test_columns_of_wildly_different_scales_and_offsets(batch_size, dtype):
    Xtr, Xte, ytr, yte = wide_scales(3)
    model = SGDRegressor(
        learning_rate="auto", max_iter=10, tol=None, penalty=None,
        batch_size=batch_size, random_state=0,
    )  # fmt: skip
    model.fit(Xtr.astype(dtype), ytr.astype(dtype))
    assert model.coef_.dtype == dtype
    ratio = test_mse(model, Xte, yte) / optimum_mse(Xtr, ytr, Xte, yte)
    assert ratio <= (1.05 if dtype == np.float64 else 1.10), ratio
    # the default schedule on the same raw data is far off (or diverges)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = SGDRegressor(max_iter=10, tol=None, penalty=None, random_state=0)
        base.fit(Xtr, ytr)
    assert test_mse(base, Xte, yte) > 2 * test_mse(model, Xte, yte)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_hashed_sparse_text(batch_size):
    Xtr, Xte, ytr, yte = hashed_text(4)
    used = np.unique(Xtr.indices)
    coef, b = closed_form(Xtr[:, used], ytr)
    full = np.zeros(Xtr.shape[1])
    full[used] = coef
    opt = float(np.mean((Xte @ full + b - yte) ** 2))
    model = SGDRegressor(
        learning_rate="auto", max_iter=5, tol=None, penalty=None,
        batch_size=batch_size, random_state=0,
    )  # fmt: skip
    model.fit(Xtr, ytr)
    ratio = test_mse(model, Xte, yte) / opt
    assert ratio <= (1.06 if batch_size == 1 else 1.25), ratio
    # columns no training row stores keep a zero weight
    assert np.all(np.delete(model.coef_, used) == 0.0)


def test_dense_and_csr_reach_the_same_optimum():
    """CSR columns advance only at the rows that store them (and are not
    centered): not the dense model step for step, but the same optimum."""
    rng = np.random.default_rng(7)
    scale = np.array([1e-2, 1.0, 10.0, 1e3, 1.0])
    X = rng.normal(size=(2000, 5)) * scale
    X[rng.random(X.shape) < 0.4] = 0.0
    y = X @ (rng.normal(size=5) / scale) + 0.3 * rng.normal(size=2000) + 2.0
    coef, b = closed_form(X, y)
    opt = float(np.mean((X @ coef + b - y) ** 2))
    for batch_size in (1, 4):
        kw = dict(learning_rate="auto", max_iter=10, tol=None, penalty=None,
                  batch_size=batch_size, random_state=0)  # fmt: skip
        for Xi in (X, sp.csr_matrix(X)):
            model = SGDRegressor(**kw).fit(Xi, y)
            assert test_mse(model, X, y) <= 1.02 * opt
            np.testing.assert_allclose(model.coef_ * scale, coef * scale, atol=0.02)


# ------------------------------------------------------------------ penalties
@pytest.mark.parametrize("sparse", [False, True])
def test_l2_reaches_ridge_in_the_users_units(sparse):
    rng = np.random.default_rng(8)
    n, d, alpha = 400, 3, 0.05
    X = rng.normal(size=(n, d)) * np.array([0.1, 1.0, 10.0])
    y = X @ np.array([3.0, -1.0, 0.2]) + 0.3 * rng.normal(size=n) + 1.0
    A = np.c_[X, np.ones(n)]
    ridge = np.linalg.solve(A.T @ A + np.diag([alpha * n] * d + [0.0]), A.T @ y)

    def objective(w, b):
        return 0.5 * np.mean((X @ w + b - y) ** 2) + 0.5 * alpha * w @ w

    model = SGDRegressor(learning_rate="auto", alpha=alpha, max_iter=40, tol=None,
                         random_state=0)  # fmt: skip
    model.fit(sp.csr_matrix(X) if sparse else X, y)
    best = objective(ridge[:d], ridge[d])
    assert objective(model.coef_, model.intercept_[0]) <= best * 1.005


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_and_elasticnet_reach_the_lasso_objective(penalty):
    """In the user's units, whatever the scales of the columns."""
    from sklearn.linear_model import ElasticNet

    rng = np.random.default_rng(9)
    n = 2000
    Z = rng.normal(size=(n, 6))
    y = Z[:, 0] - 2 * Z[:, 1] + 0.3 * rng.normal(size=n)
    X = Z * np.logspace(-1, 1, 6) + 5.0
    alpha, l1_ratio = 0.05, 1.0 if penalty == "l1" else 0.5

    def objective(w, b):
        pen = alpha * (l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * w @ w)
        return 0.5 * np.mean((X @ w + b - y) ** 2) + pen

    exact = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=100_000)
    exact.fit(X, y)
    model = SGDRegressor(learning_rate="auto", penalty=penalty, alpha=alpha,
                         l1_ratio=l1_ratio, max_iter=30, tol=None,
                         random_state=0).fit(X, y)  # fmt: skip
    best = objective(exact.coef_, exact.intercept_)
    assert objective(model.coef_, model.intercept_[0]) <= best * 1.01
    # far from the unpenalized model
    assert objective(closed_form(X, y)[0], closed_form(X, y)[1]) > best * 1.05


# ----------------------------------------------- partial_fit, pickling, warm start
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("batch_size", [1, 5])
def test_partial_fit_equals_fit_for_equal_epochs(batch_size, sparse):
    """shuffle=False: k partial_fit calls are fit's k epochs (same state carried)."""
    Xtr, _, ytr, _ = wide_scales(5, n=300)
    X = sp.csr_matrix(np.where(np.abs(Xtr) > np.median(np.abs(Xtr)), Xtr, 0.0)) if (
        sparse
    ) else Xtr  # fmt: skip
    kw = dict(learning_rate="auto", shuffle=False, batch_size=batch_size,
              penalty="elasticnet", alpha=1e-3)  # fmt: skip
    fitted = SGDRegressor(max_iter=3, tol=None, **kw).fit(X, ytr)
    partial = SGDRegressor(**kw)
    for _ in range(3):
        partial.partial_fit(X, ytr)
    np.testing.assert_allclose(partial.coef_, fitted.coef_, rtol=1e-12)
    np.testing.assert_allclose(partial.intercept_, fitted.intercept_, rtol=1e-12)
    assert partial.t_ == fitted.t_


def test_pickle_and_clone_mid_training():
    Xtr, _, ytr, _ = wide_scales(6, n=600)
    model = SGDRegressor(learning_rate="auto", batch_size=4, random_state=1)
    model.partial_fit(Xtr, ytr)
    copy = pickle.loads(pickle.dumps(model))
    model.partial_fit(Xtr, ytr)
    copy.partial_fit(Xtr, ytr)
    np.testing.assert_array_equal(model.coef_, copy.coef_)
    np.testing.assert_array_equal(model.intercept_, copy.intercept_)
    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    assert not hasattr(fresh, "coef_")


def test_state_layout_is_auto_and_cannot_switch_mid_training():
    Xtr, _, ytr, _ = wide_scales(6, n=200)
    model = SGDRegressor(learning_rate="auto").partial_fit(Xtr, ytr)
    state = model.get_run_state()
    assert state.train.opt.shape == (4, Xtr.shape[1] + 1)
    model.set_params(learning_rate="invscaling")
    with pytest.raises(ValueError, match="learning_rate == 'auto'"):
        model.partial_fit(Xtr, ytr)
    # a state of another layout is refused by name
    other = SGDRegressor(learning_rate="auto")
    plain = SGDRegressor().partial_fit(np.ones((5, Xtr.shape[1])), np.ones(5))
    with pytest.raises(ValueError, match="learning_rate='auto' keeps 4"):
        other.set_run_state(plain.get_run_state())


def test_warm_start_continues_from_the_previous_model():
    Xtr, _, ytr, _ = wide_scales(7, n=1500)
    kw = dict(learning_rate="auto", max_iter=5, tol=None, penalty=None,
              random_state=0)  # fmt: skip
    model = SGDRegressor(warm_start=True, **kw).fit(Xtr, ytr)
    first = model.loss_curve_[-1]
    cold_first_epoch = SGDRegressor(**kw).fit(Xtr, ytr).loss_curve_[0]
    assert first < 0.5 * cold_first_epoch
    model.fit(Xtr, ytr)
    # the second fit starts where the first ended (its own state restarts:
    # means, scales and rates are measured again), not from zero
    assert model.loss_curve_[0] < 1.1 * first


def test_fit_stream_trains_auto_chunk_by_chunk(tmp_path):
    from fastsgd.stream import fit_stream

    Xtr, Xte, ytr, yte = wide_scales(8, n=3000)
    chunks = [(Xtr[i : i + 250], ytr[i : i + 250]) for i in range(0, len(ytr), 250)]
    model = SGDRegressor(learning_rate="auto", penalty=None, random_state=0)
    fit_stream(model, chunks, epochs=10, random_state=0)
    ratio = test_mse(model, Xte, yte) / optimum_mse(Xtr, ytr, Xte, yte)
    assert ratio <= 1.05, ratio
    mine = SGDRegressor(learning_rate="auto", random_state=0, shuffle=False)
    fit_stream(mine, chunks, epochs=1, shuffle_chunks=False)
    again = SGDRegressor(learning_rate="auto", random_state=0, shuffle=False)
    for Xc, yc in chunks:
        again.partial_fit(Xc, yc)
    np.testing.assert_array_equal(mine.coef_, again.coef_)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "params, named",
    [
        ({"optimizer": "adam"}, "optimizer='adam'"),
        ({"optimizer": "adagrad"}, "optimizer='adagrad'"),
        ({"optimizer": "momentum", "clip_norm": 1.0}, "clip_norm=1.0"),
        ({"clip_norm": 2.0}, "clip_norm=2.0"),
    ],
)
def test_unsupported_combinations_fail_before_any_kernel_runs(
    params, named, monkeypatch
):
    def no_kernel(key):
        raise AssertionError(f"a kernel was asked for: {key}")

    monkeypatch.setattr(_select, "epoch_kernel", no_kernel)
    X, y = np.ones((10, 2)), np.arange(10.0)
    for call in ("fit", "partial_fit"):
        model = SGDRegressor(learning_rate="auto", **params)
        with pytest.raises(ValueError, match="learning_rate='auto'") as err:
            getattr(model, call)(X, y)
        assert named in str(err.value)
        assert "optimizer='sgd'" in str(err.value)  # what is supported
        assert not hasattr(model, "coef_")


def test_eta0_is_ignored_and_an_explicit_value_warns():
    Xtr, _, ytr, _ = wide_scales(9, n=300)
    kw = dict(learning_rate="auto", max_iter=2, tol=None, random_state=0)
    default = SGDRegressor(**kw).fit(Xtr, ytr)  # no warning (filterwarnings=error)
    with pytest.warns(UserWarning, match="eta0=5.0 is ignored"):
        other = SGDRegressor(eta0=5.0, **kw).fit(Xtr, ytr)
    np.testing.assert_array_equal(default.coef_, other.coef_)
    assert default.eta_curve_ == pytest.approx([0.4, 0.4])
    with pytest.warns(UserWarning, match="eta0=1e-06 is ignored"):
        SGDRegressor(learning_rate="auto", eta0=1e-6).partial_fit(Xtr, ytr)


def test_defaults_are_unchanged():
    assert SGDRegressor().learning_rate == "invscaling"
    assert SGDRegressor().eta0 == 0.01


def test_constant_and_zero_columns_and_nan():
    rng = np.random.default_rng(10)
    X = np.c_[rng.normal(size=200), np.zeros(200), np.full(200, 1234.5)]
    y = 2 * X[:, 0] + 1.0
    for Xi in (X, sp.csr_matrix(X)):
        model = SGDRegressor(learning_rate="auto", max_iter=5, tol=None).fit(Xi, y)
        assert np.all(np.isfinite(model.coef_))
        assert model.coef_[1] == 0.0
    X[17, 0] = np.nan
    for Xi in (X, sp.csr_matrix(X)):
        with pytest.raises(ValueError, match="NaN"):
            SGDRegressor(learning_rate="auto").fit(Xi, y)


def test_dask_local_sgd_refuses_auto():
    pytest.importorskip("dask")
    from fastsgd.dask import DaskSGDRegressor

    da = pytest.importorskip("dask.array")
    X = da.ones((20, 2), chunks=10)
    y = da.arange(20, chunks=10).astype(float)
    with pytest.raises(ValueError, match="strategy='local_sgd'"):
        DaskSGDRegressor(learning_rate="auto").fit(X, y)


@settings(HSET, max_examples=25)
@given(
    n=st.integers(2, 60),
    d=st.integers(1, 6),
    batch=st.sampled_from([1, 3, "full"]),
    sparse=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    log_scale=st.floats(-3, 4),
    seed=st.integers(0, 1000),
)
def test_any_shape_trains_finite_and_nonzero(
    n, d, batch, sparse, dtype, log_scale, seed
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 10.0**log_scale
    y = X @ rng.normal(size=d) / 10.0**log_scale + 1.0
    Xi = (sp.csr_matrix(X) if sparse else X).astype(dtype)
    model = SGDRegressor(learning_rate="auto", batch_size=batch, max_iter=3, tol=None,
                         random_state=seed).fit(Xi, y)  # fmt: skip
    assert model.coef_.dtype == dtype
    assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.intercept_[0])
    assert not model.diverged_
    assert np.any(model.coef_ != 0.0)


# ------------------------------------------------- sparse AdaGrad/RMSProp O(nnz)
@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_adagrad_rmsprop_match_the_dense_path(optimizer, dtype):
    """No L2 or decay: the O(nnz) CSR epochs give the dense model (shuffle=False)."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(400, 30))
    X[rng.random(X.shape) < 0.85] = 0.0
    y = X @ rng.normal(size=30) + 0.1 * rng.normal(size=400)
    X, y = X.astype(dtype), y.astype(dtype)
    kw = dict(optimizer=optimizer, penalty=None, eta0=0.05, max_iter=5, tol=None,
              shuffle=False)  # fmt: skip
    dense = SGDRegressor(**kw).fit(X, y)
    csr = SGDRegressor(**kw).fit(sp.csr_matrix(X), y)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=rtol)


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop"])
def test_sparse_adagrad_rmsprop_with_l2_reach_the_same_optimum(optimizer):
    rng = np.random.default_rng(12)
    X = rng.normal(size=(600, 20))
    X[rng.random(X.shape) < 0.7] = 0.0
    y = X @ rng.normal(size=20) + 0.1 * rng.normal(size=600)
    kw = dict(optimizer=optimizer, alpha=0.01, eta0=0.01, max_iter=200, tol=None,
              learning_rate="constant", random_state=0, rho=0.9)  # fmt: skip
    dense = SGDRegressor(**kw).fit(X, y)
    csr = SGDRegressor(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, atol=0.02)


def test_sparse_adagrad_takes_the_per_nonzero_kernel(monkeypatch):
    """The estimator routes CSR AdaGrad/RMSProp to the O(nnz) epoch.

    (How long a step takes against n_features is measured in ``fastsgd
    bench``; here: the kernel that runs.)
    """
    keys = []
    real = _select.epoch_kernel

    def spy(key):
        keys.append(key)
        return real(key)

    monkeypatch.setattr(_select, "epoch_kernel", spy)
    X = sp.random(50, 10_000, density=0.001, format="csr", random_state=0)
    y = np.arange(50.0)
    for opt in ("adagrad", "rmsprop"):
        SGDRegressor(optimizer=opt, max_iter=1, tol=None).fit(X, y)
    SGDRegressor(learning_rate="auto", max_iter=1, tol=None).fit(X, y)
    SGDRegressor(optimizer="adagrad", batch_size=4, max_iter=1, tol=None).fit(X, y)
    assert keys == ["csr_adaptive", "csr_adaptive", "auto_csr", "csr_batch"]


def test_slow_auto_fit_on_a_large_target_says_to_scale_it():
    # "auto" adapts to the columns' scales, not (yet) to the target's
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3)) * np.array([1.0, 10.0, 1e3])
    y = 3e5 + 1e5 * (X / X.std(0)) @ np.array([0.5, 0.3, -0.2])
    with pytest.warns(ConvergenceWarning, match="TransformedTargetRegressor"):
        SGDRegressor(learning_rate="auto", max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning) as got:
        SGDRegressor(learning_rate="auto", max_iter=1, random_state=0).fit(X, y / 1e5)
    assert all("TransformedTargetRegressor" not in str(w.message) for w in got)
    with pytest.warns(ConvergenceWarning) as got:  # not "auto": no advice
        SGDRegressor(max_iter=1, random_state=0).fit(X / X.std(0), y)
    assert all("TransformedTargetRegressor" not in str(w.message) for w in got)
