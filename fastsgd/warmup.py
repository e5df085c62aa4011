"""Compile kernels ahead of time: for Docker images, clusters and CI.

Every configuration of :class:`fastsgd.SGDRegressor` runs one small compiled
epoch kernel, compiled on its first use and kept in fastsgd's cache (see
``fastsgd/_kernels/_cache.py``).  :func:`compile_kernels` does that first use
ahead of time, so that no fit waits on the compiler: in a Dockerfile
(``RUN python -m fastsgd compile``), on every Dask worker (``client.run``), or
in a CI step before the tests.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping

import numpy as np

from ._kernels import _codes as K
from ._kernels import _select

DTYPES = ("float64", "float32")


def compile_kernels(
    configurations="default", *, dtypes=DTYPES, jobs=None, progress=None
):
    """Compile (or load) the kernels that configurations use, into the cache.

    Parameters
    ----------
    configurations : {"default", "all"} or iterable, default="default"
        ``"default"``: scikit-learn's default configuration on dense and CSR
        input.  ``"all"``: every kernel (every optimizer, per example and
        mini-batch, threaded mini-batches, dense and CSR, the working copy of
        ``sampling="blocks"`` and the Dask block reductions).  Or an iterable
        of configurations, each a dict of :class:`SGDRegressor` parameters
        (with ``"sparse": True`` for CSR input) or an ``SGDRegressor``.
    dtypes : iterable of {"float64", "float32"}, default=("float64", "float32")
        The data types to compile for.
    jobs : int or None, default=None
        Processes compiling at once; None uses every usable core when there is
        more than one kernel to compile.
    progress : bool or None, default=None
        Show a progress bar; None shows it on a terminal only.

    Returns
    -------
    list of dict
        One entry per kernel and dtype: ``kernel`` (its name), ``dtype`` and
        ``seconds`` (the time to compile it, or to load it from the cache).

    Examples
    --------
    >>> import fastsgd
    >>> done = fastsgd.compile_kernels([{"optimizer": "adam", "batch_size": 32}],
    ...                                dtypes=["float32"])
    >>> [d["kernel"] for d in done]
    ['batch']
    """
    tasks = _tasks(configurations, dtypes)
    if jobs is None:
        jobs = min(_usable_cores(), len(tasks))
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer or None; got {jobs!r}.")
    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(tasks),
        desc="fastsgd compile",
        unit="kernel",
        disable=(not progress) if progress is not None else None,
    )
    done = []
    with bar:
        if jobs == 1 or len(tasks) <= 1:
            for task in tasks:
                done.append(_compile_one(task))
                bar.update()
        else:
            import concurrent.futures as cf
            import multiprocessing

            # fresh interpreters: a forked child would share the parent's
            # compiler state; each worker keeps the helpers it compiled
            ctx = multiprocessing.get_context("spawn")
            level = _logged_level()
            with cf.ProcessPoolExecutor(
                jobs, mp_context=ctx, initializer=_log_like_parent, initargs=(level,)
            ) as pool:
                for result in pool.map(_compile_one, tasks):
                    done.append(result)
                    bar.update()
    return done


def _logged_level():
    """Return the level the caller shows fastsgd's log at (None: not set up)."""
    logger = logging.getLogger("fastsgd")
    return logger.getEffectiveLevel() if logger.handlers else None


def _log_like_parent(level):
    """Show a worker's compile log on stderr as its parent does (the CLI)."""
    if level is not None:
        logger = logging.getLogger("fastsgd")
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def _compile_one(task):
    key, dtype = task
    _select.silence_notice()  # compiling is what was asked for
    kernel = _select.epoch_kernel(key)
    start = time.perf_counter()
    _select.compiled(kernel, _select.sample_arguments(key, dtype))
    return {
        "kernel": key,
        "dtype": dtype,
        "seconds": time.perf_counter() - start,
    }


def _tasks(configurations, dtypes):
    """Return the ``(key, dtype)`` pairs to compile, without repeats."""
    dtypes = [dtypes] if isinstance(dtypes, str) else list(dtypes)
    for dtype in dtypes:
        if np.dtype(dtype).name not in DTYPES:
            raise ValueError(f"dtypes must be float64 or float32; got {dtype!r}.")
    if isinstance(configurations, str):
        if configurations == "all":
            keys = _select.all_keys()
        elif configurations == "default":
            keys = keys_of({}) + keys_of({"sparse": True})
        else:
            raise ValueError(
                "configurations must be 'default', 'all' or a list of "
                f"configurations; got {configurations!r}."
            )
    elif isinstance(configurations, Iterable):
        keys = [key for c in configurations for key in keys_of(c)]
    else:
        raise TypeError(
            "configurations must be 'default', 'all' or a list of dicts of "
            f"SGDRegressor parameters; got {type(configurations).__name__}."
        )
    tasks = []
    for key in keys:
        for dtype in dtypes:
            task = (key, np.dtype(dtype).name)
            if task not in tasks:
                tasks.append(task)
    return tasks


def keys_of(config):
    """Return the keys of the kernels a configuration runs (its epoch first).

    ``config`` is a dict of :class:`SGDRegressor` parameters (``"sparse"``:
    CSR input) or an ``SGDRegressor``; its parameters are checked as ``fit``
    checks them.
    """
    from ._training import KernelOptions, check_params, threads_for
    from .linear_model import SGDRegressor

    if isinstance(config, SGDRegressor):
        est, sparse = config, False
    elif isinstance(config, Mapping):
        params = dict(config)
        sparse = bool(params.pop("sparse", False))
        est = SGDRegressor(**params)
    else:
        raise TypeError(
            "a configuration is a dict of SGDRegressor parameters or an "
            f"SGDRegressor; got {type(config).__name__}."
        )
    est._validate_params()
    params = est.get_params()
    check_params(params)
    batch = est.batch_size
    # enough rows for several batches of the configured size
    m = 2 if batch == "full" else max(2 * int(batch), 2)
    steps = 1 if batch == "full" else -(-m // int(batch))
    options = KernelOptions.from_params(params, m, int(est.max_iter) * steps)
    codes, hp = options.arrays()
    threads = 1 if sparse else threads_for(est.n_jobs, int(codes[K.C_BATCH]))
    keys = [_select.family(codes, hp, m, sparse, threads)]
    if est.shuffle and est.sampling == "blocks" and not sparse:
        keys.append("take_rows")  # the shuffled working copy
    return keys


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
