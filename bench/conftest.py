"""Shared fixtures of the benchmark suites (`make bench`, i.e. `pytest bench`).

Every benchmark times fastsgd with pytest-benchmark's ``benchmark.pedantic`` and
its competitors in the ``setup`` hook of the same rounds, so the contenders run
alternately (competitors, fastsgd, competitors, fastsgd, ...) and each keeps its
best time. The ratios and the accuracies (test MSE over the closed form's) go to
``benchmark.extra_info`` (in ``--benchmark-json``) and to a summary table
printed at the end of the session. No test asserts a wall-clock time.
"""

from __future__ import annotations

import gc
import inspect
import time
import warnings

import numpy as np
import pytest

from fastsgd import bench as fb

_PROBLEMS: dict = {}
_MAX_CACHED = 3
_SUMMARY: list = []


@pytest.fixture(scope="session", autouse=True)
def warm_kernels():
    """Load (or compile) both dtypes of the dense and CSR kernels once."""
    fb.warm_kernels()


@pytest.fixture(scope="session")
def problem():
    """Return a function making (and caching) a benchmark problem."""

    def get(n_samples, n_features, dtype="float64", density=None):
        key = (n_samples, n_features, dtype, density)
        if key not in _PROBLEMS:
            while len(_PROBLEMS) >= _MAX_CACHED:
                _PROBLEMS.pop(next(iter(_PROBLEMS)))
            gc.collect()
            _PROBLEMS[key] = fb.make_problem(
                n_samples, n_features, dtype=dtype, density=density
            )
        return _PROBLEMS[key]

    return get


@pytest.fixture
def summary(request):
    """Return a function adding ``info`` to the end-of-session summary table."""

    def add(info):
        _SUMMARY.append((request.node.nodeid.split("::")[-1], dict(info)))

    return add


def _coef(result):
    if hasattr(result, "coef_"):
        return result.coef_, result.intercept_
    coef, intercept = result
    return coef, np.atleast_1d(intercept)


@pytest.fixture
def side_by_side(benchmark, request):
    """Time fastsgd (the benchmark) and competitors alternately; record ratios.

    ``measure(target, competitors, problem, rounds=3, warmup=1, epochs=None)``:
    ``target`` fits fastsgd and returns the fitted estimator (given one
    argument, an ``on_epoch`` clock, its epochs are timed one by one as
    well); ``competitors`` maps a label to a function that returns a fitted
    estimator or ``(coef, intercept)``. A NumPy sum over the
    bytes of X runs in the same rounds as the bandwidth reference. Returns the
    ``extra_info`` dict.
    """

    def measure(target, competitors, problem, rounds=3, warmup=1):
        own = []
        epochs = []
        results = {}
        comp_times = {k: [] for k in competitors}
        comp_times["numpy-sum"] = []
        contenders = dict(competitors)
        contenders["numpy-sum"] = problem.numpy_sum
        turn = [0]

        def setup():
            names = list(contenders)
            if turn[0] % 2:
                names.reverse()
            turn[0] += 1
            for name in names:
                t0 = time.perf_counter()
                out = contenders[name]()
                comp_times[name].append(time.perf_counter() - t0)
                results[name] = out

        def timed():
            clock = fb.epoch_clock()
            takes_clock = bool(inspect.signature(target).parameters)
            t0 = time.perf_counter()
            model = target(clock) if takes_clock else target()
            own.append(time.perf_counter() - t0)
            if clock.times:
                epochs.append(min(clock.times))
            results["fastsgd"] = model
            return model

        with warnings.catch_warnings(), fb.gc_paused():
            warnings.simplefilter("ignore")  # divergence is recorded below
            benchmark.pedantic(
                timed, setup=setup, rounds=rounds, warmup_rounds=warmup, iterations=1
            )
        skip = min(warmup, len(own) - 1)
        best = min(own[skip:])
        model = results["fastsgd"]
        info = benchmark.extra_info
        info["fastsgd_s"] = best
        info["accuracy_ratio"] = problem.test_ratio(*_coef(model))
        info["diverged"] = bool(getattr(model, "diverged_", False))
        sum_s = min(comp_times["numpy-sum"][skip:])
        info["sum_gb_per_s"] = problem.x_bytes / sum_s / 1e9
        if epochs:
            epoch_s = min(epochs)
            info["epoch_s"] = epoch_s
            info["samples_per_s"] = problem.X.shape[0] / epoch_s
            info["gb_per_s"] = problem.x_bytes / epoch_s / 1e9
            info["bandwidth_fraction"] = info["gb_per_s"] / info["sum_gb_per_s"]
        for name in competitors:
            t = min(comp_times[name][skip:])
            info[f"{name}_s"] = t
            info[f"speedup_vs_{name}"] = t / best
            info[f"{name}_accuracy_ratio"] = problem.test_ratio(*_coef(results[name]))
        _SUMMARY.append((request.node.nodeid.split("::")[-1], dict(info)))
        return info

    return measure


def pytest_terminal_summary(terminalreporter):
    if not _SUMMARY:
        return
    tr = terminalreporter
    tr.write_sep("=", "fastsgd: speed-ups (best of alternating rounds) and accuracy")
    tr.write_line(
        "speedup = competitor time / fastsgd time for the same work; acc = test MSE "
        "/ closed-form test MSE; bw = epoch read rate / NumPy X.sum() rate"
    )
    for name, info in _SUMMARY:
        parts = []
        for key, value in info.items():
            if key.startswith("speedup_vs_"):
                parts.append(f"x{value:.1f} vs {key[len('speedup_vs_') :]}")
        if "accuracy_ratio" in info:
            acc = f"acc {info['accuracy_ratio']:.3f}"
            others = [
                f"{k[: -len('_accuracy_ratio')]} {v:.3f}"
                for k, v in info.items()
                if k.endswith("_accuracy_ratio")
            ]
            if others:
                acc += " (" + ", ".join(others) + ")"
            parts.append(acc)
        if "bandwidth_fraction" in info:
            bw = 100 * info["bandwidth_fraction"]
            parts.append(f"{info['gb_per_s']:.1f} GB/s = {bw:.0f}% bw")
        for key in ("peak_over_data", "warm_s", "cold_s", "import_s"):
            if key in info:
                parts.append(f"{key} {info[key]:.3g}")
        tr.write_line(f"{name:<58} " + "; ".join(parts))
