"""Scale: out-of-core streaming and distributed training on Dask.

- ``test_stream_peak_memory``: ``fit_stream`` over a ~200 MB memory-mapped
  ``.npy`` in a fresh process under ``tracemalloc``; the peak of the memory
  allocated during training stays near one chunk.
- ``test_dask_scale``: epoch time and accuracy of each ``DaskSGDRegressor``
  strategy and of ``dask_ml.wrappers.Incremental`` (around scikit-learn's and
  fastsgd's ``SGDRegressor``) on 1.2 GB of data stored as a ``.npy`` stack,
  with process workers limited to 1 GB each, on 1 and then 2 workers.
- ``test_dask_non_iid``: accuracy when the row blocks are not identically
  distributed (rows sorted by target): local SGD against the exact strategies.

Accuracy is the relative excess population MSE against the exact least-squares
solution: features are iid N(0, 1) and the noise has unit variance, so it is
``(|w - w_exact|^2 + (b - b_exact)^2) / 1``.  Run with ``-s`` to see the
tables.  No test asserts a wall-clock time.
"""

import importlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

STREAM_ROWS, STREAM_COLS = 1_000_000, 25  # 200 MB of float64 features
STREAM_CHUNK = 16_384  # 3.3 MB chunks

DASK_ROWS, DASK_COLS, DASK_CHUNK = 3_000_000, 50, 100_000  # 1.2 GB, 30 blocks
WORKER_MEMORY = "1GB"


def _excess(coef, intercept, ref):
    w, b = ref
    return float(np.sum((coef - w) ** 2) + (float(intercept[0]) - b) ** 2)


# ------------------------------------------------------------------ streaming
STREAM_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, tracemalloc
    import numpy as np
    from fastsgd import SGDRegressor
    from fastsgd.stream import fit_stream

    xpath, ypath, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
    est = SGDRegressor(random_state=0, tol=None)
    tracemalloc.start()
    t0 = time.perf_counter()
    fit_stream(est, (xpath, ypath), chunk_rows=chunk, epochs=2, random_state=0)
    seconds = time.perf_counter() - t0
    current, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"peak": peak, "seconds": seconds, "coef": est.coef_.tolist()}))
    """
)


def test_stream_peak_memory(tmp_path, summary):
    from numpy.lib.format import open_memmap

    rng = np.random.default_rng(0)
    w = rng.standard_normal(STREAM_COLS)
    X = open_memmap(tmp_path / "X.npy", "w+", np.float64, (STREAM_ROWS, STREAM_COLS))
    y = open_memmap(tmp_path / "y.npy", "w+", np.float64, (STREAM_ROWS,))
    for lo in range(0, STREAM_ROWS, 100_000):
        block = rng.standard_normal((100_000, STREAM_COLS))
        X[lo : lo + 100_000] = block
        y[lo : lo + 100_000] = block @ w + 0.1 * rng.standard_normal(100_000)
    X.flush()
    y.flush()
    data_bytes = X.nbytes + y.nbytes
    del X, y
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            STREAM_SCRIPT,
            str(tmp_path / "X.npy"),
            str(tmp_path / "y.npy"),
            str(STREAM_CHUNK),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    chunk_bytes = STREAM_CHUNK * (STREAM_COLS + 1) * 8
    info = {
        "data_mb": data_bytes / 2**20,
        "chunk_mb": chunk_bytes / 2**20,
        "peak_mb": res["peak"] / 2**20,
        "peak_over_chunk": res["peak"] / chunk_bytes,
        "peak_over_data": res["peak"] / data_bytes,
        "epoch_s": res["seconds"] / 2,
    }
    summary(info)
    print("\nstream:", json.dumps({k: round(v, 3) for k, v in info.items()}))
    assert np.allclose(res["coef"], w, atol=0.05)
    # the chunk is read in place from the memmap; the allocations are the
    # shuffled row order, the divergence baseline and small state
    assert res["peak"] < 2 * chunk_bytes


# ----------------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def npy_stack(tmp_path_factory):
    da = pytest.importorskip("dask.array")
    root = tmp_path_factory.mktemp("scale")
    rng = da.random.default_rng(0)
    w = np.random.default_rng(1).standard_normal(DASK_COLS)
    X = rng.standard_normal((DASK_ROWS, DASK_COLS), chunks=(DASK_CHUNK, DASK_COLS))
    noise = rng.standard_normal(DASK_ROWS, chunks=DASK_CHUNK)
    da.to_npy_stack(root / "X", X, axis=0)
    Xl = da.from_npy_stack(root / "X", mmap_mode="r")
    da.to_npy_stack(root / "y", Xl @ w + 0.5 + noise, axis=0)
    yield root, w
    shutil.rmtree(root, ignore_errors=True)  # 1.2 GB


def _load(root):
    import dask.array as da

    X = da.from_npy_stack(root / "X", mmap_mode=None)
    y = da.from_npy_stack(root / "y", mmap_mode=None)
    return X, y


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _measure_cluster(root, n_workers, rows, ref):
    """Fit every contender on a cluster of ``n_workers``; return the reference."""
    import distributed
    from dask_ml.wrappers import Incremental
    from sklearn.linear_model import SGDRegressor as SkSGD

    from fastsgd import SGDRegressor
    from fastsgd.dask import DaskSGDRegressor

    with (
        distributed.LocalCluster(
            processes=True,
            n_workers=n_workers,
            threads_per_worker=1,
            memory_limit=WORKER_MEMORY,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        X, y = _load(root)
        # warm every worker (imports, kernels from the cache) outside the timings
        for module in (
            "fastsgd.dask",
            "fastsgd._kernels._grad",
            "sklearn.linear_model",
        ):
            client.run(importlib.import_module, module)
        model, t = _timed(lambda: DaskSGDRegressor("normal").fit(X, y))
        if ref is None:
            ref = (model.coef_.copy(), float(model.intercept_[0]))
        rows.append(
            ("normal", n_workers, t, 1, _excess(model.coef_, model.intercept_, ref))
        )
        for epochs in (1, 3):
            est = DaskSGDRegressor(max_iter=epochs, tol=None, random_state=0)
            model, t = _timed(lambda est=est: est.fit(X, y))
            excess = _excess(model.coef_, model.intercept_, ref)
            rows.append((f"local_sgd {epochs} ep", n_workers, t, epochs, excess))
        model, t = _timed(lambda: DaskSGDRegressor("lbfgs", tol=1e-6).fit(X, y))
        excess = _excess(model.coef_, model.intercept_, ref)
        rows.append(
            (f"lbfgs ({model.n_iter_} it)", n_workers, t, model.n_iter_, excess)
        )
        for name, base in (
            ("Incremental(sklearn)", SkSGD(random_state=0, tol=None)),
            ("Incremental(fastsgd)", SGDRegressor(random_state=0, tol=None)),
        ):
            inc = Incremental(base, shuffle_blocks=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, t = _timed(lambda inc=inc: inc.fit(X, y))
            est = inc.estimator_
            excess = _excess(est.coef_, np.atleast_1d(est.intercept_), ref)
            rows.append((name + " 1 ep", n_workers, t, 1, excess))
    return ref


def test_dask_scale(npy_stack, benchmark):
    pytest.importorskip("distributed")
    pytest.importorskip("dask_ml")
    root, _ = npy_stack
    rows = []

    def run_all():
        ref = _measure_cluster(root, 1, rows, None)
        _measure_cluster(root, 2, rows, ref)

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    lines = [
        "",
        f"Dask: {DASK_ROWS} x {DASK_COLS} float64 (1.2 GB) in 30 blocks, "
        f"process workers with memory_limit={WORKER_MEMORY}",
        f"{'method':<26}{'workers':>8}{'total s':>9}{'s/pass':>8}"
        f"{'rel. excess MSE':>17}",
    ]
    for name, k, t, passes, excess in rows:
        lines.append(f"{name:<26}{k:>8}{t:>9.2f}{t / passes:>8.2f}{excess:>17.2e}")
        benchmark.extra_info[f"{name} [{k}w] s"] = t
        benchmark.extra_info[f"{name} [{k}w] excess"] = excess
    print("\n".join(lines))


# the in-memory arrays travel inside the graph (8 x 8 MB blocks); fine here
@pytest.mark.filterwarnings("ignore:Sending large graph:UserWarning")
def test_dask_non_iid():
    distributed = pytest.importorskip("distributed")
    import dask.array as da

    from fastsgd import closed_form
    from fastsgd.dask import DaskSGDRegressor

    n, d, blocks = 400_000, 20, 8
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + rng.standard_normal(n)
    coef, intercept = closed_form(X, y, alpha=1e-4 * n)
    ref = (coef, float(intercept))
    order = np.argsort(y)
    lines = ["", f"non-iid blocks: {n} x {d}, {blocks} blocks, rel. excess MSE"]
    with (
        distributed.LocalCluster(
            processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        for label, idx in (("iid (shuffled)", np.arange(n)), ("sorted by y", order)):
            dX = da.from_array(X[idx], chunks=(n // blocks, d))
            dy = da.from_array(y[idx], chunks=n // blocks)
            for name, est in (
                (
                    "local_sgd 5 ep",
                    DaskSGDRegressor(max_iter=5, tol=None, random_state=0),
                ),
                ("lbfgs", DaskSGDRegressor("lbfgs", tol=1e-6)),
                ("normal", DaskSGDRegressor("normal")),
            ):
                est.fit(dX, dy)
                excess = _excess(est.coef_, est.intercept_, ref)
                lines.append(f"  {label:<16}{name:<16}{excess:.2e}")
    print("\n".join(lines))


def test_dask_scale_in_memory(benchmark):
    """Compute-bound scaling: the data persisted in the workers' memory."""
    distributed = pytest.importorskip("distributed")
    import dask.array as da

    from fastsgd.dask import DaskSGDRegressor

    n, d, chunk = 1_000_000, 50, 62_500  # 400 MB in 16 blocks
    rows = []

    def run_all():
        for n_workers in (1, 2):
            with (
                distributed.LocalCluster(
                    processes=True,
                    n_workers=n_workers,
                    threads_per_worker=1,
                    memory_limit="2GB",
                    dashboard_address=":0",
                ) as cluster,
                distributed.Client(cluster) as client,
            ):
                for module in ("fastsgd.dask", "fastsgd._kernels._grad"):
                    client.run(importlib.import_module, module)
                rng = da.random.default_rng(0)
                X = rng.standard_normal((n, d), chunks=(chunk, d))
                y = X @ da.linspace(-1, 1, d) + rng.standard_normal(n, chunks=chunk)
                X, y = X.persist(), y.persist()
                distributed.wait([X, y])
                for name, est, passes in (
                    ("normal", DaskSGDRegressor("normal"), 1),
                    ("local_sgd 3 ep", DaskSGDRegressor(max_iter=3, tol=None), 3),
                    (
                        "local_sgd adam b=1 3 ep",
                        DaskSGDRegressor(max_iter=3, tol=None, optimizer="adam"),
                        3,
                    ),
                    ("lbfgs", DaskSGDRegressor("lbfgs", tol=1e-6), None),
                ):
                    _, t = _timed(lambda est=est, X=X, y=y: est.fit(X, y))
                    rows.append((name, n_workers, t, passes or est.n_iter_))

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    lines = [
        "",
        f"Dask, persisted: {n} x {d} float64 (400 MB) in 16 blocks",
        f"{'method':<26}{'workers':>8}{'total s':>9}{'s/epoch|it':>11}",
    ]
    for name, k, t, passes in rows:
        lines.append(f"{name:<26}{k:>8}{t:>9.2f}{t / passes:>11.2f}")
        benchmark.extra_info[f"{name} [{k}w] s"] = t
    print("\n".join(lines))
