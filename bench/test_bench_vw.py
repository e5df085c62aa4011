"""learning_rate="auto" (issue 15): accuracy without tuning, and Vowpal Wabbit.

Accuracy is the test MSE over the closed form's (``fastsgd.closed_form`` on the
training rows; 1.0 is the optimum), for three seeds each:

- ``test_auto_diabetes``: scikit-learn's diabetes data unscaled, the
  estimator's defaults otherwise (goal: at most 1.05);
- ``test_auto_wide_scales``: correlated columns of scales 1e-3..1e4 with
  offsets, 10 epochs, per example and with batches of 32, no penalty (goal: at
  most 1.05);
- ``test_auto_vs_vw``: the hashed text-like CSR problem, 3 passes over the
  same rows: fastsgd's "auto" (no penalty, as VW) against VW's normalized,
  adaptive, invariant default at each ``-l`` of a grid (goal: at least as
  accurate as VW at its best ``-l``, and at least 3x faster than VW's own
  learning loop).

How VW is timed: its text file is parsed once into a cache file; then VW runs
``--passes 3`` from the cache (``Workspace(arg_list=[...])``, VW's own driver,
``--holdout_off`` so that it trains on every row) and, in the same rounds,
``--noop`` over the same cache (reading the examples, no learning).  VW's
learning loop is the difference; fastsgd's time is the sum of its three epoch
kernel calls, reading the rows in the order VW reads them (``shuffle=False``;
its whole ``fit``, with input validation, is reported too, and the epochs
of the default reshuffled fit).
The contenders run alternately, best of 5 rounds.  Skipped without the
``vowpalwabbit`` package (a benchmark competitor, never a dependency).
"""

from __future__ import annotations

import time
import warnings

import _auto_problems as P
import numpy as np
import pytest

from fastsgd import SGDRegressor
from fastsgd import bench as fb

SEEDS = (0, 1, 2)
VW_RATES = (0.25, 0.35, 0.5, 0.7, 1.0)
ROUNDS = 5
_OPTIMA: dict = {}


def ratio(X, y, coef, intercept, opt_mse):
    return P.mse(X, y, coef, intercept) / opt_mse


def fit_auto(X, y, seed, on_epoch=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        model = SGDRegressor(learning_rate="auto", random_state=seed, **kw)
        return model.fit(X, y, on_epoch=on_epoch)


@pytest.mark.parametrize("seed", SEEDS)
def test_auto_diabetes(seed, summary):
    Xtr, Xte, ytr, yte = P.diabetes(seed)
    opt = P.mse(Xte, yte, *P.optimum(Xtr, ytr))
    model = fit_auto(Xtr, ytr, seed)
    got = ratio(Xte, yte, model.coef_, model.intercept_[0], opt)
    summary({"accuracy_ratio": got, "epochs": model.n_iter_})
    assert not model.diverged_
    assert np.any(model.coef_ != 0.0)
    assert got <= 1.05


@pytest.mark.parametrize("batch_size", [1, 32])
@pytest.mark.parametrize("seed", SEEDS)
def test_auto_wide_scales(seed, batch_size, summary):
    Xtr, Xte, ytr, yte = P.wide_scales(seed)
    opt = P.mse(Xte, yte, *P.optimum(Xtr, ytr))
    model = fit_auto(
        Xtr, ytr, seed, max_iter=10, tol=None, penalty=None, batch_size=batch_size
    )
    got = ratio(Xte, yte, model.coef_, model.intercept_[0], opt)
    summary({"accuracy_ratio": got})
    assert not model.diverged_
    assert got <= 1.05


@pytest.fixture(scope="module")
def vw():
    return pytest.importorskip("vowpalwabbit")


def text_problem(seed):
    if seed not in _OPTIMA:
        Xtr, Xte, ytr, yte = P.text_like(seed)
        _OPTIMA.clear()  # one problem in memory at a time
        _OPTIMA[seed] = (Xtr, Xte, ytr, yte, P.mse(Xte, yte, *P.optimum(Xtr, ytr)))
    return _OPTIMA[seed]


@pytest.mark.parametrize("seed", SEEDS)
def test_auto_vs_vw(seed, vw, benchmark, summary, tmp_path):
    Xtr, Xte, ytr, yte, opt = text_problem(seed)
    data, cache = tmp_path / "train.vw", tmp_path / "train.cache"
    data.write_text("\n".join(P.vw_lines(Xtr, ytr)) + "\n")
    vw.Workspace(arg_list=P.vw_args(data, cache, 1, 0.5)).finish()  # the cache
    test_lines = P.vw_lines(Xte)

    vw_ratio = {}
    for lr in VW_RATES:
        ws = vw.Workspace(arg_list=P.vw_args(data, cache, 3, lr))
        pred = np.array([ws.predict(line) for line in test_lines])
        ws.finish()
        vw_ratio[lr] = float(np.mean((pred - yte) ** 2) / opt)
    best_lr = min(vw_ratio, key=vw_ratio.get)

    times = {"vw": [], "vw_noop": []}
    epochs = []
    shuffled = []
    turn = [0]

    def setup():
        names = ["vw", "vw_noop"][:: (-1) ** turn[0]]
        turn[0] += 1
        for name in names:
            args = P.vw_args(data, cache, 3, best_lr, noop=name == "vw_noop")
            t0 = time.perf_counter()
            ws = vw.Workspace(arg_list=args)
            times[name].append(time.perf_counter() - t0)
            ws.finish()

    def ours():
        clock = fb.epoch_clock()
        model = fit_auto(
            Xtr, ytr, seed, max_iter=3, tol=None, penalty=None, shuffle=False,
            on_epoch=clock,
        )  # fmt: skip
        epochs.append(sum(clock.times))
        clock = fb.epoch_clock()
        fit_auto(Xtr, ytr, seed, max_iter=3, tol=None, penalty=None, on_epoch=clock)
        shuffled.append(sum(clock.times))
        return model

    model = benchmark.pedantic(ours, setup=setup, rounds=ROUNDS, warmup_rounds=1)
    ours_ratio = ratio(Xte, yte, model.coef_, model.intercept_[0], opt)
    shuffled_model = fit_auto(Xtr, ytr, seed, max_iter=3, tol=None, penalty=None)
    shuffled_ratio = ratio(
        Xte, yte, shuffled_model.coef_, shuffled_model.intercept_[0], opt
    )
    fit_s = benchmark.stats.stats.min
    vw_s = min(times["vw"][1:])
    noop_s = min(times["vw_noop"][1:])
    learn_s = vw_s - noop_s
    epochs_s = min(epochs[1:])
    shuffled_s = min(shuffled[1:])
    info = benchmark.extra_info
    info.update(
        accuracy_ratio=ours_ratio,
        shuffled_accuracy_ratio=shuffled_ratio,
        fastsgd_shuffled_epochs_s=shuffled_s,
        speedup_vs_vw_learning_shuffled=learn_s / shuffled_s,
        vw_accuracy_ratio=vw_ratio[best_lr],
        vw_best_l=best_lr,
        vw_ratios={str(k): v for k, v in vw_ratio.items()},
        fastsgd_epochs_s=epochs_s,
        fastsgd_fit_s=fit_s,
        vw_from_cache_s=vw_s,
        vw_noop_s=noop_s,
        speedup_vs_vw_learning=learn_s / epochs_s,
        speedup_vs_vw_from_cache=vw_s / fit_s,
    )
    summary(info)
    assert not model.diverged_
    assert not shuffled_model.diverged_
    # as accurate as VW at its best rate, up to noise
    assert max(ours_ratio, shuffled_ratio) <= vw_ratio[best_lr] * 1.002
