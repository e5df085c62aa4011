"""Measurements in fresh Python processes: peak memory and cold start.

- **memory**: the peak memory a fit allocates (``tracemalloc`` in a fresh
  process) relative to the size of the data, fastsgd against scikit-learn;
- **cold start**: ``import fastsgd`` plus a first small fit in a fresh process
  with the compile cache warm (and, with ``--full``, cold, plus a check that a
  second process compiles nothing).

Each probe is a small script run with ``python -c``; it prints one line
``RESULT <json>`` that the parent reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .._util import check_int
from .schema import ColdStart, Memory

__all__ = ["COMPILE_CONFIGS", "cold_start", "cold_start_section", "peak_memory"]

_MEMORY_PROBE = r"""
import gc, json, sys, tracemalloc, warnings
from fastsgd.bench import make_problem, make_fastsgd, make_sklearn, per_example_eta0
spec = json.loads(sys.argv[1])
eta0 = per_example_eta0(spec["d"])
makers = {
    "fastsgd epoch": lambda: make_fastsgd(max_iter=1, eta0=eta0),
    "fastsgd blocks": lambda: make_fastsgd(max_iter=1, eta0=eta0, sampling="blocks"),
    "sklearn": lambda: make_sklearn(max_iter=1, eta0=eta0),
}
out = []
warnings.simplefilter("ignore")
for dtype in spec["dtypes"]:
    p = make_problem(spec["n"], spec["d"], dtype=dtype, reference=False, n_test=1)
    X, y = p.X, p.y
    del p
    tracemalloc.start()
    for name in spec["contenders"]:
        makers[name]().fit(X[:200], y[:200])
        gc.collect()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        model = makers[name]().fit(X, y)
        peak = tracemalloc.get_traced_memory()[1] - base
        del model
        gc.collect()
        out.append({"contender": name, "dtype": dtype, "peak_bytes": int(peak)})
    tracemalloc.stop()
    del X, y
    gc.collect()
print("RESULT " + json.dumps(out))
"""

MEMORY_CONTENDERS = ("fastsgd epoch", "fastsgd blocks", "sklearn")


def peak_memory(n_samples, n_features, dtypes=("float32", "float64"), contenders=None):
    """Measure the peak memory each contender allocates while fitting.

    Runs in one fresh Python process: for each dtype the data is made first,
    then each fit runs under ``tracemalloc`` (NumPy reports its buffers to it)
    after an unmeasured small fit, and the peak above the memory held before
    the fit is recorded. The data's own bytes are not counted, so
    ``peak_over_data`` is the extra memory a fit costs relative to the data.

    Parameters
    ----------
    n_samples, n_features : int
        Data shape, n_samples >= 2 (>= 200 is sensible), n_features >= 1.
    dtypes : sequence of {'float32', 'float64'}, default=('float32', 'float64')
        Dtypes of the data to measure.
    contenders : list of str or None, default=None
        From ``'fastsgd epoch'``, ``'fastsgd blocks'``, ``'sklearn'``; None
        means all three.

    Returns
    -------
    list of dict
        Entries of the ``memory`` list (see
        :class:`~fastsgd.bench.schema.Memory`).
    """
    known = MEMORY_CONTENDERS
    contenders = list(known) if contenders is None else list(contenders)
    bad = [c for c in contenders if c not in known]
    if bad:
        raise ValueError(f"Unknown memory contenders {bad}; choose from {known}.")
    if isinstance(dtypes, str):
        dtypes = (dtypes,)
    dtypes = [np.dtype(t).name for t in dtypes]
    bad = [t for t in dtypes if t not in ("float32", "float64")]
    if bad or not dtypes:
        raise ValueError(f"dtypes must be float32 and/or float64; got {dtypes}.")
    n = check_int("n_samples", n_samples, 2)
    d = check_int("n_features", n_features, 1)
    spec = {"n": n, "d": d, "dtypes": dtypes, "contenders": contenders}
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = []
    for e in _result_line(proc, "memory probe"):
        size = np.dtype(e["dtype"]).itemsize
        data_bytes = n * d * size + n * size
        entry = Memory(
            contender=e["contender"],
            dtype=e["dtype"],
            n_samples=n,
            n_features=d,
            data_bytes=int(data_bytes),
            peak_bytes=e["peak_bytes"],
            peak_over_data=e["peak_bytes"] / data_bytes,
        )
        out.append(dataclasses.asdict(entry))
    return out


_COLD_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
if sys.argv[1] == "sklearn":
    from sklearn.linear_model import SGDRegressor
else:
    from fastsgd import SGDRegressor
t1 = time.perf_counter()
config = json.loads(sys.argv[2])
result = {"import": t1 - t0, "fit": None}
if config is not None:
    dtype = np.dtype(config.pop("dtype", "float64"))
    sparse = config.pop("sparse", False)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)).astype(dtype)
    y = X @ np.arange(5.0, dtype=dtype) + 1.0
    if sparse:
        import scipy.sparse
        X = scipy.sparse.csr_matrix(X)
    SGDRegressor(max_iter=5, tol=None, random_state=0, **config).fit(X, y)
    result["fit"] = time.perf_counter() - t1
if sys.argv[1] != "sklearn":
    from fastsgd._kernels import _cache, _jit
    stats = [k.stats for k in _jit.REGISTRY.values() if hasattr(k, "stats")]
    result["misses"] = sum(sum(s.cache_misses.values()) for s in stats)
    result["compiled"] = sorted(
        name.rsplit(".", 1)[1] for name, k in _jit.REGISTRY.items()
        if hasattr(k, "stats") and sum(k.stats.cache_misses.values())
    )
    result["cache_path"] = str(_cache.cache_folder())
print("RESULT " + json.dumps(result))
"""

# configurations whose first fit on an empty cache the full bench times
COMPILE_CONFIGS = {
    "default, float64": {},
    "default, float32": {"dtype": "float32"},
    "default, CSR": {"sparse": True},
    "Adam batch 32, float32": {
        "optimizer": "adam",
        "batch_size": 32,
        "dtype": "float32",
    },
    "momentum batch 32": {"optimizer": "momentum", "batch_size": 32},
    "averaged SGD": {"average": True},
}


def cold_start(cache_dir=None, library="fastsgd", config=None):
    """Start a fresh process that imports a library and fits a small model.

    Parameters
    ----------
    cache_dir : str or None, default=None
        ``NUMBA_CACHE_DIR`` for the process; None keeps the default location
        (``__pycache__`` beside the kernels' sources, or a user-wide cache
        directory when that is not writable).
    library : {"fastsgd", "sklearn"}, default="fastsgd"
        Whose ``SGDRegressor`` the process imports and fits.
    config : dict or None, default={}
        ``SGDRegressor`` parameters of the fit (plus ``"dtype"`` and
        ``"sparse"``); None imports only.

    Returns
    -------
    dict
        ``wall`` (seconds from process start to exit), ``import`` and ``fit``
        (seconds measured inside, ``fit`` None without one) and, for fastsgd,
        ``misses`` (kernel signatures compiled because the cache had none),
        ``compiled`` (their kernels' names) and ``cache_path``.
    """
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    config = {} if config is None and library == "sklearn" else config
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _COLD_PROBE, library, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - t0
    found = _result_line(proc, "cold-start probe")
    return {"wall": wall, **found}


def _result_line(proc, what):
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"The {what} failed (exit status {proc.returncode}):\n{proc.stderr[-2000:]}"
    )


def cold_start_section(full, runs):
    """Return the ``cold_start`` section: best of ``runs`` fresh processes.

    fastsgd and scikit-learn alternate, so that both see the same machine;
    ``full`` adds the empty-cache import, the first fit of each of
    ``COMPILE_CONFIGS`` and the second-process check.

    Returns
    -------
    ColdStart
    """
    warm, sk = [], []
    for _ in range(runs):
        warm.append(cold_start(config={}))
        sk.append(cold_start(library="sklearn", config={}))
    best = min(warm, key=lambda r: r["wall"])
    sk_best = min(sk, key=lambda r: r["wall"])
    section = ColdStart(
        warm_seconds=best["wall"],
        warm_import_seconds=best["import"],
        warm_fit_seconds=best["fit"],
        sklearn_seconds=sk_best["wall"],
        warm_over_sklearn=best["wall"] / sk_best["wall"],
        cache_dir=best["cache_path"],
    )
    if full:
        _cold_cache(section, runs)
    return section


def _cold_cache(section, runs):
    """Fill in the empty-cache fields of ``section`` (``--full``)."""
    imports, sk_imports = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="fastsgd-numba-") as tmp:
            imports.append(cold_start(tmp, config=None)["wall"])
        sk_imports.append(cold_start(library="sklearn", config=None)["wall"])
    section.cold_import_seconds = min(imports)
    section.sklearn_import_seconds = min(sk_imports)
    section.cold_import_over_sklearn = min(imports) / min(sk_imports)
    compile_seconds = {}
    with tempfile.TemporaryDirectory(prefix="fastsgd-numba-") as tmp:
        for name, config in COMPILE_CONFIGS.items():
            # each on a cache holding only the configurations before it
            compile_seconds[name] = cold_start(tmp, config=dict(config))["fit"]
        second = cold_start(tmp, config={})
    section.cold_seconds = compile_seconds["default, float64"]
    section.compile_seconds = compile_seconds
    section.second_process_compiles = second["misses"]
