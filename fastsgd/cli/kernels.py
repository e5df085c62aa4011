"""``fastsgd compile``: compile the training kernels ahead of time, or clear them."""

from __future__ import annotations

import time


def cmd_compile(args):
    """``fastsgd compile``: compile kernels into the cache (or clear it)."""
    from .._kernels import _cache

    if args.clear:
        removed = _cache.clear()
        for folder in removed:
            print(f"removed {folder}")
        if not removed:
            print("no compiled kernels to remove")
        return 0
    from ..warmup import compile_kernels

    started = time.perf_counter()
    done = compile_kernels(
        "all" if args.all else "default",
        dtypes=args.dtype or ("float64", "float32"),
        jobs=args.jobs,
        progress=False if args.quiet else None,
    )
    folder = _cache.cache_folder()
    where = f"kept in {folder}" if folder else "NOT kept: no writable cache folder"
    print(
        f"{len(done)} kernels ready in {time.perf_counter() - started:.1f} s, {where}"
    )
    return 0
