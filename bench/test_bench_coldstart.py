"""Cold start: ``import fastsgd`` plus a first small fit in a fresh process.

fastsgd keeps compiled kernels in its own cache (``fastsgd/_kernels/_cache.py``:
``__pycache__`` beside the kernels' sources, or ``$NUMBA_CACHE_DIR/fastsgd``
when set).  These benchmarks start fresh interpreters, side by side with
scikit-learn's:

- with the cache warm (the normal case after the first run): the time to a
  first fitted model, against scikit-learn's import and first fit;
- with an empty cache: the import alone (nothing compiles at import), then
  the first fit of each of a few configurations, each compiling only its own
  kernel; then a second process on that cache must compile nothing.
"""

from fastsgd import bench as fb


def test_warm_cache(benchmark, summary):
    runs, sk = [], []

    def start():
        runs.append(fb.cold_start())
        sk.append(fb.cold_start(library="sklearn"))

    benchmark.pedantic(start, rounds=3, warmup_rounds=1, iterations=1)
    best = min(runs[1:], key=lambda r: r["wall"])
    sk_best = min(sk[1:], key=lambda r: r["wall"])
    info = benchmark.extra_info
    info.update(
        warm_s=best["wall"],
        import_s=best["import"],
        fit_s=best["fit"],
        sklearn_s=sk_best["wall"],
        ratio=best["wall"] / sk_best["wall"],
        cache_path=best["cache_path"],
    )
    summary(info)
    # the session warmed the default cache: a fresh process must only load it
    assert all(r["misses"] == 0 for r in runs), runs


def test_empty_cache_then_second_process(benchmark, summary, tmp_path):
    cache = tmp_path / "numba-cache"
    first = {}

    def cold():
        first["import"] = fb.cold_start(str(cache), config=None)
        for name, config in fb.COMPILE_CONFIGS.items():
            first[name] = fb.cold_start(str(cache), config=dict(config))

    benchmark.pedantic(cold, rounds=1, iterations=1)
    second = fb.cold_start(str(cache))
    sk_import = fb.cold_start(library="sklearn", config=None)
    info = benchmark.extra_info
    info.update(
        import_s=first["import"]["wall"],
        sklearn_import_s=sk_import["wall"],
        **{f"first fit, {name}": first[name]["fit"] for name in fb.COMPILE_CONFIGS},
        second_misses=second["misses"],
    )
    summary(info)
    assert first["import"]["misses"] == 0  # nothing compiles at import
    assert first["default, float64"]["misses"] > 0  # the cache really was empty
    assert second["misses"] == 0, second
