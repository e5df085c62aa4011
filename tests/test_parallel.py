"""The threaded mini-batch gradient (n_jobs): same model, deterministic, safe."""

import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose

from fastsgd import SGDRegressor
from fastsgd._kernels import _select


def _data(dtype=np.float64, n=3000, d=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)).astype(dtype)
    return X, y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_parallel_batches_match_serial(dtype, optimizer):
    X, y = _data(dtype)
    kw = dict(
        batch_size=1024,
        optimizer=optimizer,
        learning_rate="constant",
        eta0=0.01,
        max_iter=4,
        tol=None,
        random_state=0,
    )
    serial = SGDRegressor(**kw).fit(X, y)
    par = SGDRegressor(n_jobs=2, **kw).fit(X, y)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    assert_allclose(par.coef_, serial.coef_, rtol=rtol, atol=rtol)
    assert_allclose(par.intercept_, serial.intercept_, rtol=rtol, atol=rtol)
    assert_allclose(par.loss_curve_, serial.loss_curve_, rtol=rtol)
    assert par.coef_.dtype == dtype


def test_parallel_is_deterministic_and_used(monkeypatch):
    X, y = _data()
    kw = dict(batch_size=1500, n_jobs=2, max_iter=3, tol=None, random_state=1)
    used = []
    real = _select.compiled

    def spy(kernel, args):
        used.append(kernel)
        return real(kernel, args)

    monkeypatch.setattr(_select, "compiled", spy)
    a = SGDRegressor(**kw).fit(X, y)
    b = SGDRegressor(**kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    kernel = _select.epoch_kernel("parallel")
    assert used == [kernel, kernel]  # the threaded kernel ran
    assert len(kernel.signatures) <= 2  # one compiled version per dtype


def test_small_batches_and_sparse_stay_serial():
    import scipy.sparse as sp

    X, y = _data(n=400)
    kw = dict(batch_size=32, max_iter=2, tol=None, random_state=0)
    a = SGDRegressor(n_jobs=2, **kw).fit(X, y)
    b = SGDRegressor(**kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = SGDRegressor(
        n_jobs=-1, batch_size=2048, max_iter=2, tol=None, random_state=0
    ).fit(sp.csr_matrix(X), y)
    assert np.all(np.isfinite(c.coef_))


def test_concurrent_fits_from_python_threads():
    X, y = _data(n=4000)
    results = {}

    def work(k):
        m = SGDRegressor(
            batch_size=2000, n_jobs=2, max_iter=3, tol=None, random_state=k
        )
        results[k] = m.fit(X, y).coef_

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2, 3]
    for k, coef in results.items():
        ref = (
            SGDRegressor(
                batch_size=2000, n_jobs=2, max_iter=3, tol=None, random_state=k
            )
            .fit(X, y)
            .coef_
        )
        np.testing.assert_array_equal(coef, ref)


def test_n_jobs_zero_is_rejected():
    X, y = _data(n=50)
    with pytest.raises(ValueError, match="n_jobs"):
        SGDRegressor(n_jobs=0).fit(X, y)
