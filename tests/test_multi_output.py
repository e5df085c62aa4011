"""Several targets through the public API (issue 16).

A K-target fit is K single-target models trained on the same visiting order:
with a fixed number of epochs it gives each target's single-target model
(the kernels are compared step by step with the reference in
test_multi_kernels.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import r2_score

from fastsgd import RunState, SGDRegressor
from fastsgd.closed_form import closed_form

HSET = settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def make_problem(n=400, d=6, n_out=3, seed=0, dtype=np.float64, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, n_out))
    Y = X @ W + rng.standard_normal(n_out) + noise * rng.standard_normal((n, n_out))
    return X.astype(dtype), Y.astype(dtype)


def tol(dtype):
    return 1e-10 if dtype == np.float64 else 2e-4


def test_shapes_predict_and_score():
    X, Y = make_problem()
    model = SGDRegressor(random_state=0, max_iter=30).fit(X, Y)
    assert model.coef_.shape == (3, 6) and model.intercept_.shape == (3,)
    pred = model.predict(X)
    assert pred.shape == (400, 3)
    np.testing.assert_allclose(pred, X @ model.coef_.T + model.intercept_)
    assert model.score(X, Y) == pytest.approx(r2_score(Y, pred))
    assert model.score(X, Y) > 0.99
    assert len(model.loss_curve_) == model.n_iter_
    assert model.__sklearn_tags__().target_tags.multi_output


configs = st.fixed_dictionaries(
    {
        "optimizer": st.sampled_from(
            ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
        ),
        "batch_size": st.sampled_from([1, 1, 4, "full"]),
        "loss": st.sampled_from(
            [
                "squared_error",
                "huber",
                "epsilon_insensitive",
                "squared_epsilon_insensitive",
            ]
        ),
        "penalty": st.sampled_from(["l2", "l1", "elasticnet", None]),
        "learning_rate": st.sampled_from(["invscaling", "constant", "cosine"]),
        "average": st.sampled_from([False, 5]),
        "shuffle": st.booleans(),
        "clip_norm": st.sampled_from([None, 1.0]),
    }
)


@HSET
@given(
    cfg=configs,
    n=st.integers(2, 60),
    d=st.integers(1, 7),
    n_out=st.integers(2, 4),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 1000),
)
def test_each_target_is_its_single_target_model(cfg, n, d, n_out, dtype, seed):
    X, Y = make_problem(n, d, n_out, seed, dtype)
    kw = dict(cfg, max_iter=3, tol=None, random_state=seed, eta0=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence / convergence notes
        multi = SGDRegressor(**kw).fit(X, Y)
        for k in range(n_out):
            single = SGDRegressor(**kw).fit(X, Y[:, k])
            np.testing.assert_allclose(
                multi.coef_[k], single.coef_, rtol=tol(dtype), atol=tol(dtype)
            )
            np.testing.assert_allclose(
                multi.intercept_[k], single.intercept_[0], rtol=tol(dtype),
                atol=tol(dtype),
            )  # fmt: skip
    assert multi.coef_.dtype == dtype


@HSET
@given(cfg=configs, n=st.integers(2, 50), d=st.integers(1, 8), seed=st.integers(0, 99))
def test_csr_equals_dense(cfg, n, d, seed):
    X, Y = make_problem(n, d, 3, seed)
    X[np.random.default_rng(seed).random(X.shape) < 0.5] = 0.0
    kw = dict(cfg, max_iter=3, tol=None, random_state=seed, eta0=0.01, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = SGDRegressor(**kw).fit(X, Y)
        csr = SGDRegressor(**kw).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-6, atol=1e-9)


def test_csr_equals_dense_default_config():
    X, Y = make_problem(2000, 20, 4)
    X[np.random.default_rng(1).random(X.shape) < 0.7] = 0.0
    kw = dict(max_iter=5, tol=None, shuffle=False)
    dense = SGDRegressor(**kw).fit(X, Y)
    csr = SGDRegressor(**kw).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-6, atol=1e-12)


def test_single_column_is_raveled_with_sklearn_warning():
    X, Y = make_problem(n_out=1)
    kw = dict(random_state=0, max_iter=5, tol=None)
    with pytest.warns(DataConversionWarning):
        col = SGDRegressor(**kw).fit(X, Y)
    flat = SGDRegressor(**kw).fit(X, Y[:, 0])
    assert col.coef_.shape == (6,) and col.intercept_.shape == (1,)
    np.testing.assert_array_equal(col.coef_, flat.coef_)
    assert col.predict(X).shape == (400,)


def test_one_d_y_unchanged():
    X, Y = make_problem()
    model = SGDRegressor(random_state=0, max_iter=5, tol=None).fit(X, Y[:, 0])
    assert model.coef_.shape == (6,) and model.intercept_.shape == (1,)
    assert model.predict(X).shape == (400,)


def test_loss_curve_is_the_mean_over_targets():
    X, Y = make_problem()
    kw = dict(random_state=0, max_iter=4, tol=None, penalty=None)
    multi = SGDRegressor(**kw).fit(X, Y)
    singles = [SGDRegressor(**kw).fit(X, Y[:, k]).loss_curve_ for k in range(3)]
    np.testing.assert_allclose(multi.loss_curve_, np.mean(singles, axis=0), rtol=1e-12)
    kw["penalty"] = "l2"
    multi = SGDRegressor(**kw).fit(X, Y)
    singles = [SGDRegressor(**kw).fit(X, Y[:, k]).loss_curve_ for k in range(3)]
    np.testing.assert_allclose(multi.loss_curve_, np.mean(singles, axis=0), rtol=1e-12)


def test_early_stopping_and_validation_scores():
    X, Y = make_problem(n=1000)
    model = SGDRegressor(random_state=0, early_stopping=True, max_iter=100).fit(X, Y)
    assert model.stop_reason_ == "early_stopping"
    assert model.best_score_ > 0.99
    assert len(model.validation_scores_) == len(model.loss_curve_)
    Xv, Yv = make_problem(n=100, seed=0)
    m2 = SGDRegressor(random_state=0, max_iter=3, tol=None).fit(
        X, Y, X_val=Xv, y_val=Yv
    )
    assert m2.validation_scores_[-1] == pytest.approx(m2.score(Xv, Yv), rel=1e-9)
    with pytest.raises(ValueError, match="y_val has 2 target"):
        SGDRegressor().fit(X, Y, X_val=Xv, y_val=Yv[:, :2])


def test_divergence_is_guarded():
    X, Y = make_problem()
    X = X * 100
    with pytest.warns(Warning, match="diverged"):
        model = SGDRegressor(
            learning_rate="constant", eta0=1.0, max_iter=20, random_state=0
        ).fit(X, Y)
    assert model.diverged_ and model.stop_reason_ == "diverged"
    assert np.all(np.isfinite(model.coef_))
    assert model.diverged_epochs_


def test_partial_fit_continues_and_matches_fit_epochs():
    X, Y = make_problem()
    kw = dict(random_state=0, shuffle=False, learning_rate="constant", eta0=0.01)
    model = SGDRegressor(**kw)
    for _ in range(3):
        model.partial_fit(X, Y)
    full = SGDRegressor(**kw, max_iter=3, tol=None).fit(X, Y)
    np.testing.assert_allclose(model.coef_, full.coef_, rtol=1e-12)
    assert model.t_ == full.t_


def test_warm_start_and_init():
    X, Y = make_problem()
    coef0 = np.ones((3, 6))
    model = SGDRegressor(max_iter=1, tol=None, eta0=1e-12, learning_rate="constant")
    model.fit(X, Y, coef_init=coef0, intercept_init=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(model.coef_, coef0, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, [1, 2, 3], atol=1e-6)
    with pytest.raises(ValueError, match="coef_init has shape"):
        SGDRegressor().fit(X, Y, coef_init=np.ones(6))
    warm = SGDRegressor(warm_start=True, max_iter=2, tol=None).fit(X, Y)
    with pytest.raises(ValueError, match="y has 2 target"):
        warm.fit(X, Y[:, :2])


def test_run_epochs_with_a_multi_output_state():
    X, Y = make_problem()
    est = SGDRegressor(learning_rate="constant", eta0=0.02)
    state = RunState.start(6, X.dtype, "sgd", eta0=0.02, seed=0, outputs=3)
    result = est.run_epochs(X, Y, state, epochs=5)
    assert result.state.train.params.shape == (3, 7)
    with pytest.raises(ValueError, match="laid out for 3"):
        est.run_epochs(X, Y[:, :2], state)


# ------------------------------------------------------------------ bad input
def _bad_inputs(X, Y):
    Yn = Y.copy()
    Yn[7, 2] = np.nan
    Yi = Y.copy()
    Yi[3, 1] = np.inf
    return [
        (X, Y[:, :0], "no target column"),
        (X, Y[:-1], "inconsistent numbers of samples"),
        (X, Yn, "NaN in target column 2"),
        (X, Yi, "infinity in target column 1"),
    ]


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_targets_raise_and_leave_the_model_unchanged(method):
    X, Y = make_problem()
    model = SGDRegressor(max_iter=3, tol=None, random_state=0).fit(X, Y)
    before = (model.coef_.copy(), model.intercept_.copy(), model.t_)
    for Xb, Yb, match in _bad_inputs(X, Y):
        with pytest.raises(ValueError, match=match):
            getattr(model, method)(Xb, Yb)
        np.testing.assert_array_equal(model.coef_, before[0])
        np.testing.assert_array_equal(model.intercept_, before[1])
        assert model.t_ == before[2]


def test_nan_column_is_named_for_dataframes():
    pd = pytest.importorskip("pandas")
    X, Y = make_problem()
    df = pd.DataFrame(Y, columns=["a", "b", "c"])
    df.iloc[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"column 1 \('b'\)"):
        SGDRegressor().fit(X, df)


def test_partial_fit_with_other_targets_raises_unchanged():
    X, Y = make_problem()
    model = SGDRegressor(random_state=0).partial_fit(X, Y)
    before = model.coef_.copy()
    for other in (Y[:, :2], Y[:, 0], np.column_stack([Y, Y])):
        with pytest.raises(ValueError, match="same targets"):
            model.partial_fit(X, other)
        np.testing.assert_array_equal(model.coef_, before)
    single = SGDRegressor(random_state=0).partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="same targets"):
        single.partial_fit(X, Y)


# ------------------------------------------------------------- closed form
@HSET
@given(
    n=st.integers(12, 80),
    d=st.integers(1, 8),
    n_out=st.integers(1, 5),
    sparse=st.booleans(),
    fit_intercept=st.booleans(),
    seed=st.integers(0, 99),
)
def test_closed_form_matches_lstsq_column_by_column(
    n, d, n_out, sparse, fit_intercept, seed
):
    X, Y = make_problem(n, d, n_out, seed)
    A = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    ref = np.linalg.lstsq(A, Y, rcond=None)[0]
    coef, intercept = closed_form(
        sp.csr_matrix(X) if sparse else X, Y, fit_intercept=fit_intercept
    )
    assert coef.shape == (n_out, d) and intercept.shape == (n_out,)
    for k in range(n_out):
        np.testing.assert_allclose(coef[k], ref[:d, k], rtol=1e-8, atol=1e-10)
        if fit_intercept:
            np.testing.assert_allclose(intercept[k], ref[d, k], rtol=1e-8, atol=1e-10)
        one = closed_form(X, Y[:, k], fit_intercept=fit_intercept)
        np.testing.assert_allclose(coef[k], one[0], rtol=1e-10, atol=1e-12)


def test_closed_form_ridge_and_weights_per_target():
    X, Y = make_problem(200, 5, 3)
    sw = np.random.default_rng(0).uniform(0.1, 2.0, 200)
    coef, intercept = closed_form(X, Y, alpha=3.0, sample_weight=sw)
    for k in range(3):
        c1, b1 = closed_form(X, Y[:, k], alpha=3.0, sample_weight=sw)
        np.testing.assert_allclose(coef[k], c1, rtol=1e-10)
        np.testing.assert_allclose(intercept[k], b1, rtol=1e-10)
    with pytest.raises(ValueError, match="n_targets >= 1"):
        closed_form(X, Y[:, :0])


# ------------------------------------------------------------- accuracy
def test_adam_minibatch_reaches_the_optimum_with_ten_targets():
    rng = np.random.default_rng(0)
    n, d = 5000, 20
    X = rng.standard_normal((n, d))
    Y = X @ rng.standard_normal((d, 10)) + rng.standard_normal((n, 10))
    coef, intercept = closed_form(X, Y)
    best = np.mean((X @ coef.T + intercept - Y) ** 2)
    model = SGDRegressor(
        optimizer="adam", batch_size=32, learning_rate="constant", eta0=0.01,
        penalty=None, max_iter=5, tol=None, random_state=0,
    ).fit(X, Y)  # fmt: skip
    mse = np.mean((model.predict(X) - Y) ** 2)
    assert mse <= 1.05 * best


# ------------------------------------------------------------- streaming
def test_fit_stream_equals_partial_fit_on_the_same_chunks():
    from fastsgd.stream import fit_stream

    X, Y = make_problem(n=900, n_out=4)
    chunks = [(X[i : i + 200], Y[i : i + 200]) for i in range(0, 900, 200)]
    kw = dict(random_state=0, learning_rate="constant", eta0=0.01)
    streamed = fit_stream(SGDRegressor(**kw), chunks, epochs=2, shuffle_chunks=False)
    manual = SGDRegressor(**kw)
    for _ in range(2):
        for Xc, Yc in chunks:
            manual.partial_fit(Xc, Yc)
    np.testing.assert_array_equal(streamed.coef_, manual.coef_)
    np.testing.assert_array_equal(streamed.intercept_, manual.intercept_)
    assert streamed.coef_.shape == (4, 6)
    pair = fit_stream(
        SGDRegressor(**kw), (X, Y), chunk_rows=200, epochs=2, shuffle_chunks=False
    )
    np.testing.assert_array_equal(pair.coef_, manual.coef_)


def test_fit_stream_with_a_chunk_of_other_targets_raises():
    from fastsgd.stream import fit_stream

    X, Y = make_problem(n=400)
    chunks = [(X[:200], Y[:200]), (X[200:], Y[200:, :2])]
    with pytest.raises(ValueError, match="same targets"):
        fit_stream(SGDRegressor(), chunks, shuffle_chunks=False)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.array")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.mark.parametrize("strategy", ["local_sgd", "lbfgs", "normal"])
def test_dask_several_targets(dask_client, strategy):
    import dask.array as da

    from fastsgd.dask import DaskSGDRegressor

    X, Y = make_problem(n=2000, n_out=3)
    dX, dY = da.from_array(X, chunks=(500, 6)), da.from_array(Y, chunks=(500, 2))
    kw = dict(max_iter=5, random_state=0, tol=None)
    if strategy == "local_sgd":
        kw.update(learning_rate="constant", eta0=0.01)
    model = DaskSGDRegressor(strategy, **kw).fit(dX, dY)
    assert model.coef_.shape == (3, 6) and model.intercept_.shape == (3,)
    pred = model.predict(dX).compute()
    assert pred.shape == (2000, 3)
    np.testing.assert_allclose(pred, model.to_local().predict(X), rtol=1e-12)
    assert model.score(dX, dY) == pytest.approx(r2_score(Y, pred), rel=1e-10)
    if strategy == "local_sgd":  # each target is its single-target model
        for k in range(3):
            one = DaskSGDRegressor(strategy, **kw).fit(dX, dY[:, k])
            np.testing.assert_allclose(model.coef_[k], one.coef_, rtol=1e-10)
            np.testing.assert_allclose(model.intercept_[k], one.intercept_[0])
        np.testing.assert_allclose(
            model.loss_curve_,
            np.mean(
                [
                    DaskSGDRegressor(strategy, **kw).fit(dX, dY[:, k]).loss_curve_
                    for k in range(3)
                ],
                axis=0,
            ),
            rtol=1e-10,
        )
    else:
        coef, intercept = closed_form(X, Y, alpha=2000 * 1e-4)
        rtol = 1e-8 if strategy == "normal" else 1e-3
        np.testing.assert_allclose(model.coef_, coef, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(model.intercept_, intercept, rtol=rtol, atol=rtol)
        if strategy == "lbfgs":
            return
        for k in range(3):
            one = DaskSGDRegressor(strategy, **kw).fit(dX, dY[:, k])
            np.testing.assert_allclose(model.coef_[k], one.coef_, rtol=1e-10)
            assert model.loss_curve_[0] == pytest.approx(
                np.mean(
                    [
                        DaskSGDRegressor(strategy, **kw)
                        .fit(dX, dY[:, j])
                        .loss_curve_[0]
                        for j in range(3)
                    ]
                ),
                rel=1e-10,
            )


AUTO_CONFIGS = {
    "dense-example": dict(sparse=False, batch_size=1),
    "dense-batch": dict(sparse=False, batch_size=8),
    "dense-averaged": dict(sparse=False, batch_size=1, average=3),
    "csr-example": dict(sparse=True, batch_size=1),  # O(nnz) a step
    "csr-batch": dict(sparse=True, batch_size=8),
    "csr-averaged": dict(sparse=True, batch_size=1, average=3),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("penalty", ["l2", "elasticnet", None])
@pytest.mark.parametrize("config", sorted(AUTO_CONFIGS))
def test_auto_each_target_is_its_single_target_model(config, penalty, dtype):
    # learning_rate="auto" on raw columns of very different scales: each
    # target's model is the single-target fit on the same rows
    cfg = dict(AUTO_CONFIGS[config])
    sparse = cfg.pop("sparse")
    X, Y = make_problem(n=300, d=6, n_out=3, dtype=dtype)
    X = X * np.array([1e-3, 1.0, 30.0, 1e3, 5.0, 1e4], dtype=dtype)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.3 * np.abs(X).mean(0), X, 0))
    kw = dict(
        cfg, learning_rate="auto", penalty=penalty, max_iter=3, tol=None,
        random_state=4,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes
        multi = SGDRegressor(**kw).fit(X, Y)
        singles = [SGDRegressor(**kw).fit(X, Y[:, k]) for k in range(3)]
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for k, single in enumerate(singles):
        np.testing.assert_allclose(multi.coef_[k], single.coef_, rtol=tol, atol=tol)
        np.testing.assert_allclose(
            multi.intercept_[k], single.intercept_[0], rtol=tol, atol=tol
        )
    np.testing.assert_allclose(
        multi.loss_curve_, np.mean([m.loss_curve_ for m in singles], axis=0),
        rtol=10 * tol,
    )  # fmt: skip
    assert multi.coef_.dtype == dtype and not multi.diverged_
    assert multi.__sklearn_tags__().target_tags.multi_output


@pytest.mark.parametrize("sparse", [False, True])
def test_auto_partial_fit_chunks_are_the_single_target_chunks(sparse):
    X, Y = make_problem(n=240, d=5, n_out=2)
    X = X * np.array([1e-2, 1.0, 1e2, 1e3, 3.0])
    if sparse:
        X = sp.csr_matrix(np.where(X > 0, X, 0))
    multi = SGDRegressor(learning_rate="auto", random_state=0)
    singles = [SGDRegressor(learning_rate="auto", random_state=0) for _ in range(2)]
    for lo in range(0, 240, 80):
        multi.partial_fit(X[lo : lo + 80], Y[lo : lo + 80])
        for k, single in enumerate(singles):
            single.partial_fit(X[lo : lo + 80], Y[lo : lo + 80, k])
    for k, single in enumerate(singles):
        np.testing.assert_allclose(multi.coef_[k], single.coef_, rtol=1e-10)
        np.testing.assert_allclose(
            multi.intercept_[k], single.intercept_[0], rtol=1e-10
        )


def test_auto_several_targets_reach_the_optimum_on_raw_scales():
    # no scaler and no eta0: the point of "auto", for every target at once
    X, Y = make_problem(n=4000, d=6, n_out=4, noise=0.5)
    X = X * np.array([1e-3, 1e-1, 1.0, 1e2, 1e3, 1e4]) + 50.0
    Xt, Yt = X[3000:], Y[3000:]
    model = SGDRegressor(learning_rate="auto", penalty=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        model.fit(X[:3000], Y[:3000])
    coef, intercept = closed_form(X[:3000], Y[:3000])
    best = np.mean((Xt @ coef.T + intercept - Yt) ** 2)
    got = np.mean((model.predict(Xt) - Yt) ** 2)
    assert got <= 1.05 * best
