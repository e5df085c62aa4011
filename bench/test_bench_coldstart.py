"""Cold start: ``import fastsgd`` plus a first small fit in a fresh process.

Numba caches the compiled kernels (``cache=True``) in ``__pycache__`` beside the
kernels' sources, or in ``NUMBA_CACHE_DIR`` when set (a read-only installed
package falls back to a user-wide cache directory). These benchmarks start
fresh interpreters:

- with the cache warm (the normal case after the first run): the time to a
  first fitted model;
- with an empty cache (a temporary ``NUMBA_CACHE_DIR``): everything compiles;
  then a second process on that cache must compile nothing — no cache misses
  and no cache file saved (``NUMBA_DEBUG_CACHE=1`` prints a ``saved`` line per
  written file).
"""

from fastsgd import bench as fb


def test_warm_cache(benchmark, summary):
    runs = []

    def start():
        runs.append(fb.cold_start())

    benchmark.pedantic(start, rounds=3, warmup_rounds=1, iterations=1)
    best = min(runs[1:], key=lambda r: r["wall"])
    info = benchmark.extra_info
    info.update(
        warm_s=best["wall"],
        import_s=best["import"],
        fit_s=best["fit"],
        cache_path=best["cache_path"],
    )
    summary(info)
    # the session warmed the default cache: a fresh process must only load it
    assert all(r["misses"] == 0 and r["saves"] == 0 for r in runs), runs


def test_empty_cache_then_second_process(benchmark, summary, tmp_path):
    cache = tmp_path / "numba-cache"
    first = {}

    def cold():
        first.update(fb.cold_start(str(cache)))

    benchmark.pedantic(cold, rounds=1, iterations=1)
    second = fb.cold_start(str(cache))
    info = benchmark.extra_info
    info.update(
        cold_s=first["wall"],
        cold_saves=first["saves"],
        second_s=second["wall"],
        second_misses=second["misses"],
        second_saves=second["saves"],
    )
    summary(info)
    assert first["saves"] > 0  # the empty cache really was empty
    assert second["misses"] == 0, second
    assert second["saves"] == 0, second
