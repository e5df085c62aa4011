"""DaskSGDRegressor on a LocalCluster: accuracy, replay oracle, pickling, errors.

Most tests share one module-scoped in-process cluster (threads); one test starts
a process-based cluster to exercise pickling, the worker environment, the
compile cache and the loss of a worker.
"""

import os
import pickle

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402

import fastsgd  # noqa: E402
from fastsgd import SGDRegressor, closed_form  # noqa: E402
from fastsgd import _dask_blocks as fdask  # noqa: E402
from fastsgd.dask import DaskSGDRegressor  # noqa: E402
from fastsgd.optim import TrainState  # noqa: E402

N, D, CHUNK = 8000, 5, 2000
ALPHA = 1e-4


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    y = X @ rng.standard_normal(D) + 0.5 + 0.3 * rng.standard_normal(N)
    return X, y


@pytest.fixture(scope="module")
def ddata(data):
    X, y = data
    return da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK)


def exact(X, y):
    # SGDRegressor's alpha/2 |w|^2 on the mean loss is Ridge's alpha * n
    return closed_form(X, y, alpha=ALPHA * X.shape[0])


# ------------------------------------------------------------- accuracy
# stated tolerances on iid data (max |coef - closed_form|, relative excess MSE)
ACCURACY = {
    "normal": (dict(), 1e-10, 1e-12),
    "lbfgs": (dict(tol=1e-9), 1e-6, 1e-9),
    "local_sgd": (dict(max_iter=10, tol=None), 1e-2, 1e-3),
}


@pytest.mark.parametrize("strategy", sorted(ACCURACY))
def test_strategy_reaches_closed_form(client, data, ddata, strategy):
    X, y = data
    kw, coef_tol, mse_tol = ACCURACY[strategy]
    model = DaskSGDRegressor(strategy, alpha=ALPHA, random_state=0, **kw)
    model.fit(*ddata)
    coef, intercept = exact(X, y)
    assert np.abs(model.coef_ - coef).max() < coef_tol
    assert abs(model.intercept_[0] - intercept) < 10 * coef_tol
    mse = np.mean((X @ model.coef_ + model.intercept_ - y) ** 2)
    mse0 = np.mean((X @ coef + intercept - y) ** 2)
    assert (mse - mse0) / mse0 < mse_tol
    assert model.n_blocks_ == N // CHUNK and model.n_features_in_ == D
    assert len(model.loss_curve_) == model.n_iter_ or strategy == "lbfgs"


def test_exact_strategies_robust_to_non_iid_blocks(client, data):
    # blocks sorted by target: each holds a different slice of the distribution
    X, y = data
    order = np.argsort(y)
    Xs, ys = X[order], y[order]
    dX, dy = da.from_array(Xs, chunks=(CHUNK, D)), da.from_array(ys, chunks=CHUNK)
    coef, _ = exact(Xs, ys)
    for strategy, kw in (("normal", {}), ("lbfgs", {"tol": 1e-9})):
        model = DaskSGDRegressor(strategy, alpha=ALPHA, **kw).fit(dX, dy)
        np.testing.assert_allclose(model.coef_, coef, atol=1e-6)


def test_float32_and_dataframe(client, data):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(D)])
    dX = dd.from_pandas(frame, npartitions=4)
    dy = dd.from_pandas(pd.Series(y, name="y"), npartitions=4)
    model = DaskSGDRegressor("normal", alpha=ALPHA).fit(dX, dy)
    np.testing.assert_allclose(model.coef_, exact(X, y)[0], atol=1e-10)
    assert list(model.feature_names_in_) == list(frame.columns)
    pred = model.predict(dX)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), X @ model.coef_ + model.intercept_)
    assert 0.9 < model.score(dX, dy) <= 1.0

    X32 = da.from_array(X.astype(np.float32), chunks=(CHUNK, D))
    y32 = da.from_array(y.astype(np.float32), chunks=CHUNK)
    for strategy in ("local_sgd", "lbfgs", "normal"):
        m = DaskSGDRegressor(strategy, max_iter=2, tol=None, random_state=0)
        m.fit(X32, y32)
        assert m.coef_.dtype == np.float32 and m.intercept_.dtype == np.float32
        assert m.predict(X32).dtype == np.float32


# ------------------------------------------------------- replay oracles
LOCAL_KW = dict(
    max_iter=3,
    tol=None,
    optimizer="adam",
    batch_size=4,
    eta0=0.01,
    learning_rate="constant",
    average=10,
    random_state=3,
)


def replay_local_sgd(X, y, chunk, **params):
    """The driver of strategy='local_sgd', in process, from the block functions."""
    est = DaskSGDRegressor(**params)
    sgd = fdask._sgd_params(est)
    blocks = [
        (X[lo : lo + chunk], y[lo : lo + chunk]) for lo in range(0, len(y), chunk)
    ]
    sizes = [len(b[1]) for b in blocks]
    base = int(check_random_state(est.random_state).randint(0, fdask.MAX_SEED))
    state = tuple(TrainState.zeros(X.shape[1], X.dtype, est.optimizer))
    planned = est.max_iter * int(np.ceil(np.mean(sizes) / est.batch_size))
    refs = [None] * len(blocks)
    curve = []
    for epoch in range(est.max_iter):
        out = [
            fdask.local_sgd_block(
                Xb,
                yb,
                sgd,
                state,
                epoch,
                fdask.block_seed(base, epoch, b),
                est.eta0,
                planned,
                refs[b],
            )
            for b, (Xb, yb) in enumerate(blocks)
        ]
        refs = [o[2] for o in out]
        state = fdask.average_states([o[0] for o in out], sizes)
        curve.append(float(np.dot(sizes, [o[1] for o in out]) / len(y)))
    return TrainState(*state), curve


def test_local_sgd_equals_in_process_replay(client, data, ddata):
    model = DaskSGDRegressor(**LOCAL_KW).fit(*ddata)
    state, curve = replay_local_sgd(*data, CHUNK, **LOCAL_KW)
    np.testing.assert_array_equal(model.coef_, state.avg[:D])  # average=10
    np.testing.assert_array_equal(model.intercept_, state.avg[D:])
    assert model.loss_curve_ == curve
    assert model.t_ == state.steps + 1 == LOCAL_KW["max_iter"] * CHUNK // 4 + 1


def test_lbfgs_and_normal_equal_in_process_replay(client, data, ddata):
    import scipy.optimize

    X, y = data
    blocks = [(X[lo : lo + CHUNK], y[lo : lo + CHUNK]) for lo in range(0, N, CHUNK)]
    codes = np.array([0, 1], dtype=np.int64)
    hp = np.array([0.1])

    def fun(theta):
        total, grad = 0.0, np.zeros(D + 1)
        for Xb, yb in blocks:
            lb, gb = fdask.loss_grad_block(Xb, yb, theta, codes, hp)
            total += lb
            grad += gb
        g = grad / N
        g[:D] += ALPHA * theta[:D]
        return total / N + 0.5 * ALPHA * theta[:D] @ theta[:D], g

    res = scipy.optimize.minimize(
        fun,
        np.zeros(D + 1),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 100, "gtol": 1e-9, "ftol": 64 * np.finfo(float).eps},
    )
    model = DaskSGDRegressor("lbfgs", alpha=ALPHA, tol=1e-9).fit(*ddata)
    np.testing.assert_array_equal(model.coef_, res.x[:D])
    assert model.n_iter_ == res.nit and model.stop_reason_ == "converged"

    parts = [fdask.moments_block(Xb, yb, True) for Xb, yb in blocks]
    n, mean, com = fdask.merge_moments(parts, True)
    w = fdask.solve_gram(com[:D, :D], com[:D, D], n * ALPHA)
    model = DaskSGDRegressor("normal", alpha=ALPHA).fit(*ddata)
    np.testing.assert_array_equal(model.coef_, w)
    assert model.intercept_[0] == mean[D] - mean[:D] @ w


def test_gradient_kernel_matches_numpy():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3)) + 2.0
    y = rng.standard_normal(50)
    w = rng.standard_normal(4)
    hp = np.array([0.5])
    r = X @ w[:3] + w[3] - y
    for code, dloss in ((0, r), (1, np.clip(r, -0.5, 0.5))):
        total, grad = fdask.loss_grad_block(X, y, w, np.array([code, 1]), hp)
        np.testing.assert_allclose(grad[:3], X.T @ dloss, rtol=1e-12)
        np.testing.assert_allclose(grad[3], dloss.sum(), rtol=1e-12)
    _, grad = fdask.loss_grad_block(X, y, w, np.array([0, 0]), hp)
    assert grad[3] == 0.0
    assert np.isclose(
        total, np.sum(np.where(abs(r) <= 0.5, r * r / 2, 0.5 * (abs(r) - 0.25)))
    )
    n, mean, com = fdask.moments_block(X, y, True)
    Z = np.column_stack([X, y])
    np.testing.assert_allclose(mean, Z.mean(0), rtol=1e-13)
    np.testing.assert_allclose(com, (Z - Z.mean(0)).T @ (Z - Z.mean(0)), rtol=1e-12)
    # merged in pieces == whole (Chan's update)
    parts = [fdask.moments_block(X[a:b], y[a:b], True) for a, b in ((0, 7), (7, 50))]
    n2, mean2, com2 = fdask.merge_moments(parts, True)
    assert n2 == n == 50
    np.testing.assert_allclose(com2, com, rtol=1e-12)


def test_solve_gram_singular_falls_back_with_warning():
    G = np.array([[1.0, 1.0], [1.0, 1.0]])
    with pytest.warns(fastsgd.IllConditionedWarning, match="minimum-norm"):
        w = fdask.solve_gram(G, np.array([2.0, 2.0]), 0.0)
    np.testing.assert_allclose(w, [1.0, 1.0])


# ------------------------------------------ determinism, clone, pickle, local
def test_determinism_clone_and_pickle(client, ddata, data):
    a = DaskSGDRegressor(**LOCAL_KW).fit(*ddata)
    b = clone(a).fit(*ddata)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.loss_curve_ == b.loss_curve_
    c = DaskSGDRegressor(**{**LOCAL_KW, "random_state": 4}).fit(*ddata)
    assert not np.array_equal(a.coef_, c.coef_)
    assert not hasattr(clone(a), "coef_")
    assert not any(isinstance(v, distributed.Client) for v in vars(a).values())

    loaded = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(loaded.coef_, a.coef_)
    X, _ = data
    np.testing.assert_array_equal(
        loaded.predict(ddata[0]).compute(), a.predict(ddata[0]).compute()
    )
    pickle.loads(pickle.dumps(DaskSGDRegressor()))  # unfitted too


def test_to_local_predicts_the_same_and_continues(client, data, ddata):
    X, y = data
    model = DaskSGDRegressor(**LOCAL_KW).fit(*ddata)
    local = model.to_local()
    assert type(local) is SGDRegressor
    np.testing.assert_allclose(local.predict(X), model.predict(ddata[0]).compute())
    assert local.get_params()["optimizer"] == "adam" and local.t_ == model.t_
    local.partial_fit(X[:100], y[:100])  # continues from the averaged state
    assert local.t_ == model.t_ + 25
    for strategy in ("lbfgs", "normal"):
        m = DaskSGDRegressor(strategy, alpha=ALPHA, tol=1e-9).fit(*ddata).to_local()
        np.testing.assert_allclose(m.coef_, exact(X, y)[0], atol=1e-5)


def test_dask_ml_incremental_wraps_fastsgd(client, data, ddata):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = data
    params = dict(random_state=0, learning_rate="constant", eta0=0.01)
    inc = wrappers.Incremental(SGDRegressor(**params), shuffle_blocks=False)
    inc.fit(*ddata)
    ref = SGDRegressor(**params)
    for lo in range(0, N, CHUNK):
        ref.partial_fit(X[lo : lo + CHUNK], y[lo : lo + CHUNK])
    np.testing.assert_array_equal(inc.estimator_.coef_, ref.coef_)
    pred = inc.predict(ddata[0])
    np.testing.assert_allclose(pred.compute(), ref.predict(X))


# ------------------------------------------------------------ bad input
def test_no_client_is_a_clear_error(ddata, monkeypatch):
    monkeypatch.setattr(distributed.client, "_global_clients", {})
    token = distributed.client._current_client.set(None)
    try:
        with pytest.raises(RuntimeError, match="running dask.distributed Client"):
            DaskSGDRegressor("normal").fit(*ddata)
    finally:
        distributed.client._current_client.reset(token)


def test_bad_input(client, data, ddata):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data
    dX, dy = ddata
    model = DaskSGDRegressor("normal")
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        mask = dy > 0
        model.fit(dX[mask], dy[mask])
    with pytest.raises(ValueError, match="no target column"):  # 2-D y: K targets
        model.fit(dX, da.stack([dy, dy], axis=1)[:, :0])
    with pytest.raises(ValueError, match="different row blocks"):
        model.fit(dX, dy.rechunk(CHUNK // 2))
    with pytest.raises(ValueError, match="rows but y has"):
        model.fit(dX, dy[:-1])
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=4)
    with pytest.raises(ValueError, match="partitions"):
        model.fit(frame, dd.from_pandas(pd.Series(y), npartitions=2))
    two = dd.from_pandas(pd.DataFrame({"a": y, "b": y}), npartitions=4)
    assert DaskSGDRegressor("normal").fit(frame, two).coef_.shape == (2, X.shape[1])
    with pytest.raises(TypeError, match="dask array"):
        model.fit(X, y)
    with pytest.raises(ValueError, match="differentiable"):
        DaskSGDRegressor("lbfgs", loss="epsilon_insensitive").fit(dX, dy)
    with pytest.raises(ValueError, match="penalty"):
        DaskSGDRegressor("lbfgs", penalty="l1").fit(dX, dy)
    with pytest.raises(ValueError, match="squared_error"):
        DaskSGDRegressor("normal", loss="huber").fit(dX, dy)
    with pytest.raises(ValueError, match="strategy"):
        DaskSGDRegressor("sgd").fit(dX, dy)
    with pytest.raises(NotFittedError):
        DaskSGDRegressor().predict(dX)
    fitted = DaskSGDRegressor("normal").fit(dX, dy)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(dX[:, :2])


def test_divergence_keeps_last_model(client, ddata):
    model = DaskSGDRegressor(learning_rate="constant", eta0=1e3, tol=None, max_iter=3)
    with pytest.warns(fastsgd.DivergenceWarning, match="diverged in epoch 1"):
        model.fit(*ddata)
    assert model.diverged_ and model.stop_reason_ == "diverged"
    assert np.all(model.coef_ == 0.0) and model.n_iter_ == 0


# -------------------------------------------------- process-based cluster
def test_process_cluster_env_cache_and_lost_worker(data, ddata, tmp_path):
    X, y = data
    with (
        distributed.LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        model = DaskSGDRegressor(**LOCAL_KW).fit(*ddata)
        # same model as the threaded replay: pickling and processes change nothing
        state, _ = replay_local_sgd(X, y, CHUNK, **LOCAL_KW)
        np.testing.assert_array_equal(model.coef_, state.avg[:D])

        def worker_facts():
            import numba

            from fastsgd._kernels import _jit

            stats = [k.stats for k in _jit.REGISTRY.values() if hasattr(k, "stats")]
            return (
                os.environ.get("NUMBA_NUM_THREADS"),
                numba.config.NUMBA_NUM_THREADS,
                sum(sum(s.cache_hits.values()) for s in stats),
                sum(sum(s.cache_misses.values()) for s in stats),
            )

        for env, n_threads, hits, misses in c.run(worker_facts).values():
            assert env == "1" and n_threads == 1
            assert hits >= 1 and misses == 0  # kernels loaded from the cache

        # a worker dies once while computing its block: Dask recomputes the task
        marker = str(tmp_path / "died")

        main_pid = os.getpid()

        def die_once(block):
            # only in a worker process (never in pytest's, e.g. for dask's meta)
            if os.getpid() == main_pid:
                return block
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                return block
            os.close(fd)
            os._exit(1)

        meta = np.empty((0, 0))
        dX = ddata[0].map_blocks(die_once, meta=meta)
        again = DaskSGDRegressor(**LOCAL_KW).fit(dX, ddata[1])
        assert os.path.exists(marker)
        np.testing.assert_array_equal(again.coef_, model.coef_)

        # a block that kills every worker it runs on: a clear error, no model
        def always_die(block):
            if os.getpid() != main_pid:
                os._exit(1)
            return block

        cluster.scheduler.allowed_failures = 0
        fresh = DaskSGDRegressor("normal")
        with pytest.raises(RuntimeError, match="worker died"):
            fresh.fit(ddata[0].map_blocks(always_die, meta=meta), ddata[1])
        with pytest.raises(NotFittedError):
            fresh.predict(ddata[0])


def test_fastsgd_import_leaves_dask_optional():
    import subprocess
    import sys

    code = (
        "import sys, fastsgd; "
        "print('dask' in sys.modules, 'distributed' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("bad", ["X", "y"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_normal_strategy_names_non_finite_input(client, data, bad, value):
    X, y = data[0].copy(), data[1].copy()
    (X if bad == "X" else y)[CHUNK + 3] = value  # in the second block
    dX, dy = da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK)
    with pytest.raises(ValueError, match=f"^{bad} contains NaN or inf"):
        DaskSGDRegressor("normal").fit(dX, dy)
