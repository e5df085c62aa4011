"""``fastsgd bench``: speed at equal accuracy, against the libraries users know.

One command measures, on the machine it runs on, what the package claims:

- **per-example SGD** against scikit-learn's ``SGDRegressor`` (same epochs,
  same data, same schedule; scikit-learn reshuffles every epoch) for each of
  fastsgd's ways to visit the rows: ``epoch`` (a new permutation each epoch,
  as scikit-learn), ``blocks`` (shuffled blocks of rows) and ``inorder``
  (``shuffle=False``), on dense float64/float32 and sparse CSR data;
- **mini-batch optimizers** (SGD, momentum, Adam, AdamW at several batch
  sizes) against ``torch.optim`` on CPU doing the same epochs with the rows
  read the same way (in order) when torch is installed, and against
  scikit-learn's per-example ``SGDRegressor``;
- **time to accuracy**: the time to reach a training MSE within 1% of the
  closed form's, against the number of features, for fastsgd's SGD and
  mini-batch SGD and for :func:`fastsgd.closed_form` (where SGD overtakes the
  exact solution);
- **memory**: the peak memory a fit allocates (``tracemalloc`` in a fresh
  process) relative to the size of the data, fastsgd against scikit-learn;
- **cold start**: ``import fastsgd`` plus a first small fit in a fresh process
  with the compile cache warm (and, with ``--full``, cold, plus a check that a
  second process compiles nothing).

Method. Every contender runs once untimed first (JIT compilation, cache
loading, page faults), then the contenders of a problem are timed alternately,
round after round (the order reversed every other round), and each keeps its
best time: the machine may be shared and noisy, and the minimum is the least
disturbed run. Speed-ups are ratios of whole ``fit`` calls measured side by
side in the same run; no absolute time is compared with a constant. Epoch
throughput (samples/s, GB/s of X read) comes from timing each compiled epoch
call (a thin timing wrapper around the estimator's epoch kernels during the
measurement), and the fraction of the memory bandwidth compares it with a plain
NumPy ``X.sum()`` over the same bytes, timed in the same rounds. (NumPy's
pairwise sum is itself partly compute-bound, more so in float32, so a fraction
above 1 is possible; for CSR the reference sums ``data`` and ``indices``.)
Speed is never reported without accuracy: every fitted model's test MSE is
divided by the test MSE of the closed-form least-squares solution on the same
training data (1.0 is the optimum; the problems are well-conditioned Gaussian
designs with noise standard deviation 0.5).

The per-example fastsgd and scikit-learn fits (5 epochs) use scikit-learn's
default ``learning_rate='invscaling'`` with ``eta0 = 1 / E||x||^2``
(``1 / n_features`` dense, ``1 / nnz per row`` CSR; scikit-learn's default
``eta0=0.01`` at 100 features, where its default diverges at 1000), the
default L2 penalty, ``tol=None`` and ``random_state=0``. The mini-batch fits
(2 epochs) use no penalty, a constant rate and ``shuffle=False``, exactly as
the torch loop (``0.5 * mean((x w + b - y)^2)``, ``backward``, ``step``;
``torch`` runs on ``torch_threads`` threads, 1 by default like fastsgd).

JSON document
-------------
``run`` returns (and ``--json`` writes) one object. Keys, by section (a type
ending in ``?`` may be null):

Section ``top``:

- ``schema`` (str): ``"fastsgd-bench/1"``.
- ``mode`` (str): ``"quick"`` or ``"full"``.
- ``created`` (str): UTC time of the run, ISO 8601.
- ``seconds`` (float): wall time of the whole run.
- ``scale`` (float): multiplier applied to the numbers of rows.
- ``repeats`` (int): timed rounds per problem.
- ``machine`` (dict): see section ``machine``.
- ``versions`` (dict): see section ``versions``.
- ``rows`` (list): one entry per fastsgd configuration; see section ``rows``.
- ``time_to_accuracy`` (list): see section ``time_to_accuracy``.
- ``memory`` (list): see section ``memory``.
- ``cold_start`` (dict?): see section ``cold_start`` (null when skipped).
- ``targets`` (list): the package's performance targets; see section ``targets``.
- ``notes`` (list): free-text remarks (skipped contenders, machine load).

Section ``machine``:

- ``cpu`` (str): CPU model (``/proc/cpuinfo``, else ``platform``).
- ``cores`` (int): logical CPUs of the machine.
- ``usable_cores`` (int): CPUs this process may run on.
- ``platform`` (str): ``platform.platform()``.
- ``memory_bytes`` (int?): physical memory.
- ``load_average`` (list?): 1, 5 and 15-minute load before the run.

Section ``versions``:

- ``python`` (str), ``numpy`` (str), ``scipy`` (str), ``numba`` (str),
  ``sklearn`` (str), ``fastsgd`` (str): versions.
- ``torch`` (str?): torch's version, null when it is not installed.

Section ``rows``:

- ``group`` (str): ``"sgd"`` (per-example), ``"sparse"`` or ``"optim"``.
- ``name`` (str): short label of the configuration.
- ``n_samples`` (int), ``n_features`` (int): training data shape.
- ``dtype`` (str): ``"float64"`` or ``"float32"``.
- ``input`` (str): ``"dense"`` or ``"csr"``.
- ``density`` (float?): fraction of non-zeros (CSR only).
- ``optimizer`` (str), ``batch_size`` (int).
- ``sampling`` (str): ``"epoch"``, ``"blocks"`` or ``"inorder"``.
- ``epochs`` (int): epochs per fit.
- ``fit_seconds`` (float): best time of a whole ``fit``.
- ``epoch_seconds`` (float): best time of one compiled epoch.
- ``samples_per_s`` (float): rows per second of an epoch.
- ``gb_per_s`` (float): bytes of X read per second in an epoch, 1e9 bytes.
- ``sum_gb_per_s`` (float): the same bytes read by NumPy's sum, 1e9 bytes/s.
- ``bandwidth_fraction`` (float): ``gb_per_s / sum_gb_per_s``.
- ``accuracy_ratio`` (float): test MSE over the closed form's test MSE.
- ``diverged`` (bool): fastsgd stopped the fit as diverged.
- ``competitors`` (dict): by competitor label (``"sklearn"``: scikit-learn's
  per-example ``SGDRegressor``; ``"torch"``: the same optimizer in
  ``torch.optim``), see section ``competitors``.

Section ``competitors``:

- ``seconds`` (float): the competitor's best whole-fit time.
- ``speedup`` (float): ``seconds`` over fastsgd's ``fit_seconds``.
- ``epoch_seconds`` (float?): the competitor's epoch time, ``(fit of E
  epochs - fit of 1 epoch) / (E - 1)``, which leaves out what a fit pays
  once (input validation, set-up); null except for per-example rows.
- ``epoch_speedup`` (float?): ``epoch_seconds`` over fastsgd's epoch time
  measured the same way; null except for per-example rows.
- ``accuracy_ratio`` (float): the competitor model's test MSE over the
  closed form's.

Section ``time_to_accuracy``:

- ``method`` (str): ``"closed_form"``, ``"sgd"``, ``"minibatch"`` or
  ``"sklearn"``.
- ``n_samples`` (int), ``n_features`` (int).
- ``seconds`` (float?): time of the shortest fit whose training MSE is within
  1% of the closed form's (null when not reached).
- ``epochs`` (int?): epochs of that fit (null for the closed form or when
  not reached).
- ``mse_ratio`` (float): training MSE over the closed form's, for the last fit
  tried.
- ``reached`` (bool).

Section ``memory``:

- ``contender`` (str): ``"fastsgd epoch"``, ``"fastsgd blocks"`` or
  ``"sklearn"``.
- ``dtype`` (str), ``n_samples`` (int), ``n_features`` (int).
- ``data_bytes`` (int): bytes of X and y.
- ``peak_bytes`` (int): peak of the memory allocated during ``fit``.
- ``peak_over_data`` (float): ``peak_bytes / data_bytes``.

Section ``cold_start``:

- ``warm_seconds`` (float): best wall time of a fresh process that imports
  fastsgd and fits a small model, compile cache warm.
- ``warm_import_seconds`` (float), ``warm_fit_seconds`` (float): its parts.
- ``sklearn_seconds`` (float): the same for scikit-learn's ``SGDRegressor``,
  alternating with fastsgd's runs.
- ``warm_over_sklearn`` (float): ``warm_seconds / sklearn_seconds``.
- ``cold_import_seconds`` (float?): best wall time of a fresh process that only
  imports fastsgd, with an empty ``NUMBA_CACHE_DIR`` (``--full``).
- ``sklearn_import_seconds`` (float?): the same for ``sklearn.linear_model``.
- ``cold_import_over_sklearn`` (float?): their ratio.
- ``cold_seconds`` (float?): the first default fit of a fresh process on an
  empty ``NUMBA_CACHE_DIR`` (the import excluded).
- ``compile_seconds`` (dict?): that first fit for each configuration of
  ``COMPILE_CONFIGS``, run one after the other on one cache (each compiles
  what the ones before it did not).
- ``second_process_compiles`` (int?): kernels compiled by a second process on
  that cache (0 is a cache hit).
- ``cache_dir`` (str): where the compiled kernels are cached by default.

Section ``targets``:

- ``target`` (str): what is measured.
- ``goal`` (float): the threshold.
- ``value`` (float?): the measurement, null when not measured.
- ``met`` (bool?): null when not measured.
- ``higher_is_better`` (bool): whether ``value`` must reach ``goal`` from
  above (else from below).
"""

from __future__ import annotations

import datetime
import gc
import json
import math
import numbers
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "SCHEMA",
    "SECTIONS",
    "Problem",
    "add_parser",
    "cold_start",
    "epoch_clock",
    "format_table",
    "main",
    "make_fastsgd",
    "make_problem",
    "make_sklearn",
    "minibatch_params",
    "per_example_eta0",
    "peak_memory",
    "race",
    "render_png",
    "run",
    "sampling_params",
    "time_to_accuracy",
    "torch_fit",
    "write_json",
    "write_png",
]

SCHEMA = "fastsgd-bench/1"
SECTIONS = ("sgd", "sparse", "optim", "time_to_accuracy", "memory", "cold_start")
NOISE = 0.5
# a model "reaches" the optimum when its training MSE is within this factor
TTA_TOLERANCE = 1.01
# a sampling mode "matches" the full shuffle when its test MSE is within this
MATCH_TOLERANCE = 1.01


# --------------------------------------------------------------------- data
@dataclass
class Problem:
    """A regression problem with its exact least-squares reference.

    Attributes
    ----------
    X, y : training data (dense C-contiguous array or CSR matrix) and targets,
        in the problem's dtype.
    X_test, y_test : held-out data from the same distribution.
    coef, intercept : the closed-form least-squares solution (float64).
    train_mse, test_mse : its training and test mean squared errors.
    density : fraction of non-zeros for CSR input, else None.
    """

    X: object
    y: np.ndarray
    X_test: object
    y_test: np.ndarray
    coef: np.ndarray
    intercept: float
    train_mse: float
    test_mse: float
    density: float | None = None

    @property
    def dtype(self) -> str:
        """Name of the data's dtype."""
        return np.dtype(self.y.dtype).name

    @property
    def input(self) -> str:
        """``'csr'`` or ``'dense'``."""
        return "csr" if sp.issparse(self.X) else "dense"

    @property
    def x_bytes(self) -> int:
        """Bytes an epoch reads from X (values, and indices for CSR)."""
        if sp.issparse(self.X):
            return int(
                self.X.data.nbytes + self.X.indices.nbytes + self.X.indptr.nbytes
            )
        return int(self.X.nbytes)

    def numpy_sum(self) -> float:
        """Read the bytes of X once with NumPy's sum (the bandwidth reference)."""
        if sp.issparse(self.X):
            return float(self.X.data.sum()) + float(self.X.indices.sum())
        return float(self.X.sum())

    def test_ratio(self, coef, intercept) -> float:
        """Return the test MSE of ``(coef, intercept)`` over the closed form's."""
        return _mse(self.X_test, self.y_test, coef, intercept) / self.test_mse

    def train_ratio(self, coef, intercept) -> float:
        """Return the training MSE of ``(coef, intercept)`` over the closed form's."""
        return _mse(self.X, self.y, coef, intercept) / self.train_mse


def _mse(X, y, coef, intercept) -> float:
    coef = np.asarray(coef, dtype=np.float64).ravel()
    if sp.issparse(X):
        pred = X.astype(np.float64) @ coef
    else:
        pred = np.asarray(X, dtype=np.float64) @ coef
    r = pred + float(np.asarray(intercept).ravel()[0]) - np.asarray(y, np.float64)
    if not np.all(np.isfinite(r)):
        return math.inf
    return float(np.mean(r * r))


def make_problem(
    n_samples,
    n_features,
    *,
    dtype="float64",
    density=None,
    n_test=None,
    seed=0,
    reference=True,
):
    """Return a well-conditioned linear regression problem and its optimum.

    Rows are independent standard normal vectors (for CSR, standard normal
    values at uniformly random positions), the true coefficients are scaled
    so that the signal has unit variance, the intercept is 0.5 and the noise
    has standard deviation 0.5.

    Parameters
    ----------
    n_samples : int
        Training rows, >= 2.
    n_features : int
        Features, >= 1.
    dtype : {'float64', 'float32'}, default='float64'
        Dtype of X and y.
    density : float or None, default=None
        Fraction of non-zeros in (0, 1] for CSR input; None makes dense input.
    n_test : int or None, default=None
        Held-out rows, >= 1; None means ``min(n_samples, 20000)``.
    seed : int, default=0
        Seed of the generator.
    reference : bool, default=True
        Compute the closed-form solution (skip it only when the problem's
        accuracy is not needed; the MSE fields are then NaN).

    Returns
    -------
    Problem
        The data and the closed-form reference.
    """
    from .closed_form import closed_form

    n = _check_int("n_samples", n_samples, 2)
    d = _check_int("n_features", n_features, 1)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}.")
    if density is not None and not (0.0 < float(density) <= 1.0):
        raise ValueError(f"density must be in (0, 1] or None; got {density!r}.")
    n_test = min(n, 20_000) if n_test is None else _check_int("n_test", n_test, 1)
    rng = np.random.default_rng(seed)
    total = n + n_test
    if density is None:
        X = rng.standard_normal((total, d), dtype=dtype)
        scale = 1.0 / math.sqrt(d)
    else:
        X = sp.csr_matrix(
            sp.random_array(
                (total, d),
                density=float(density),
                format="csr",
                dtype=dtype,
                rng=rng,
                data_sampler=rng.standard_normal,
            )
        )
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
        scale = 1.0 / math.sqrt(max(d * float(density), 1.0))
    w = rng.standard_normal(d) * scale
    y = X @ w + 0.5 + NOISE * rng.standard_normal(total)
    y = np.ascontiguousarray(y, dtype=dtype)
    X_train, X_test = X[:n], X[n:]
    y_train, y_test = y[:n], y[n:]
    if density is None:
        X_train = np.ascontiguousarray(X_train)
        X_test = np.ascontiguousarray(X_test)
    coef = np.zeros(d)
    intercept = 0.0
    train_mse = test_mse = math.nan
    if reference:
        Xr = X_train.astype(np.float64) if dtype != np.float64 else X_train
        coef, intercept = closed_form(Xr, y_train.astype(np.float64))
        coef = np.asarray(coef, dtype=np.float64)
        intercept = float(intercept)
        train_mse = _mse(X_train, y_train, coef, [intercept])
        test_mse = _mse(X_test, y_test, coef, [intercept])
    return Problem(
        X_train,
        y_train,
        X_test,
        y_test,
        coef,
        intercept,
        train_mse,
        test_mse,
        None if density is None else float(density),
    )


# ------------------------------------------------------------------- timing
def race(contenders, repeats, warmup=1):
    """Time callables side by side: alternately, round after round.

    Each callable runs ``warmup`` times untimed first. Then every round runs
    each callable once (the order reversed every other round, so no contender
    always follows the same one) and records its wall time. The cyclic garbage
    collector is paused during the timed rounds, as ``timeit`` does.

    Parameters
    ----------
    contenders : dict of str to callable
        Functions of no argument.
    repeats : int
        Timed rounds, >= 1.
    warmup : int, default=1
        Untimed runs of each contender first, >= 0.

    Returns
    -------
    dict of str to list of float
        The times of each contender, in seconds, one per round.
    """
    repeats = _check_int("repeats", repeats, 1)
    warmup = _check_int("warmup", warmup, 0)
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    times = {name: [] for name in names}
    with _gc_paused():
        for r in range(repeats):
            for name in names if r % 2 == 0 else names[::-1]:
                t0 = time.perf_counter()
                contenders[name]()
                times[name].append(time.perf_counter() - t0)
    return times


@contextmanager
def _gc_paused():
    """Collect once, then keep the cyclic garbage collector off (as timeit)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def epoch_clock():
    """Time each compiled epoch that ``SGDRegressor`` runs inside the block.

    Wraps the compiled kernels that fits obtain from ``_kernels._select``
    (each epoch is one call of one) in a timer for the duration of the block.
    Not thread-safe: meant for a benchmark's own process.

    Yields
    ------
    list of float
        Filled with the duration of each epoch call, in seconds.
    """
    from ._kernels import _select

    times: list[float] = []
    compiled = _select.compiled

    def timed_compiled(kernel, args):
        return _timed(compiled(kernel, args), times)

    _select.compiled = timed_compiled
    try:
        yield times
    finally:
        _select.compiled = compiled


def _timed(fn, times):
    perf = time.perf_counter

    def timed(*args):
        t0 = perf()
        out = fn(*args)
        times.append(perf() - t0)
        return out

    return timed


# -------------------------------------------------------------- contenders
def per_example_eta0(n_features, density=None):
    """Return the per-example SGD rate used for both libraries.

    ``1 / E||x||^2`` for the benchmark problems: ``1 / n_features`` for dense
    rows, ``1 / (n_features * density)`` for CSR rows (scikit-learn's default
    ``eta0=0.01`` at 100 dense features; its default diverges at 1000).
    """
    return 1.0 / max(n_features * (1.0 if density is None else density), 1.0)


def minibatch_params(optimizer, batch_size, n_features):
    """Return ``(eta0, extra)`` for the mini-batch benchmark of ``optimizer``.

    Stable, reasonably fast constant rates for standardized features: SGD
    ``min(0.1, 0.5 B / d)``, momentum a tenth of it (its steps are ~10x
    larger), Adam and AdamW ``1e-3 sqrt(B / 32)`` capped at 0.01.
    """
    if optimizer in ("adam", "adamw"):
        return min(0.01, 1e-3 * math.sqrt(batch_size / 32.0)), {}
    eta = min(0.1, 0.5 * batch_size / n_features)
    if optimizer in ("momentum", "nesterov"):
        return eta / 10.0, {"momentum": 0.9}
    return eta, {}


def make_fastsgd(**params):
    """Return ``fastsgd.SGDRegressor(tol=None, random_state=0, **params)``."""
    from .linear_model import SGDRegressor

    return SGDRegressor(tol=None, random_state=0, **params)


def make_sklearn(**params):
    """Return scikit-learn's ``SGDRegressor(tol=None, random_state=0, **params)``."""
    from sklearn.linear_model import SGDRegressor

    return SGDRegressor(tol=None, random_state=0, **params)


def sampling_params(mode):
    """Return fastsgd's parameters for ``mode``: 'epoch', 'blocks' or 'inorder'."""
    if mode not in ("epoch", "blocks", "inorder", "replacement"):
        raise ValueError(
            f"mode must be 'epoch', 'blocks', 'inorder' or 'replacement'; got {mode!r}."
        )
    if mode == "inorder":
        return {"shuffle": False}
    return {"shuffle": True, "sampling": mode}


def torch_fit(
    X,
    y,
    *,
    optimizer="adam",
    lr=1e-3,
    batch_size=32,
    epochs=1,
    momentum=0.9,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.01,
    threads=1,
):
    """Train ``y ~ X w + b`` with ``torch.optim`` on CPU, rows in order.

    The loss of a batch is ``0.5 * mean((X_b w + b - y_b) ** 2)``, fastsgd's
    squared error, so both libraries take the same steps. The intercept is in
    its own parameter group without weight decay (fastsgd never decays it).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Dense, C-contiguous, float32 or float64 (shared with torch, not
        copied).
    y : ndarray of shape (n_samples,)
        Targets, same dtype.
    optimizer : {'sgd', 'momentum', 'adam', 'adamw'}, default='adam'
        ``torch.optim.SGD`` (with ``momentum`` for 'momentum'), ``Adam`` or
        ``AdamW``.
    lr : float, default=1e-3
        Learning rate, > 0.
    batch_size : int, default=32
        Rows per step, >= 1; the last batch may be partial.
    epochs : int, default=1
        Passes over the rows, >= 1.
    momentum : float, default=0.9
        Momentum of 'momentum', in [0, 1).
    betas : tuple of float, default=(0.9, 0.999)
        Adam's decays, each in [0, 1).
    eps : float, default=1e-8
        Adam's denominator guard, > 0.
    weight_decay : float, default=0.01
        AdamW's decoupled decay, >= 0.
    threads : int, default=1
        Intra-op threads of torch during the fit, >= 1.

    Returns
    -------
    coef : ndarray of shape (n_features,)
    intercept : float
    """
    import torch

    if optimizer not in ("sgd", "momentum", "adam", "adamw"):
        raise ValueError(
            "optimizer must be 'sgd', 'momentum', 'adam' or 'adamw'; "
            f"got {optimizer!r}."
        )
    batch_size = _check_int("batch_size", batch_size, 1)
    epochs = _check_int("epochs", epochs, 1)
    threads = _check_int("threads", threads, 1)
    Xt = torch.from_numpy(np.ascontiguousarray(X))
    yt = torch.from_numpy(np.ascontiguousarray(y))
    n, d = X.shape
    w = torch.zeros(d, dtype=Xt.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=Xt.dtype, requires_grad=True)
    groups = [{"params": [w]}, {"params": [b], "weight_decay": 0.0}]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=lr)
    elif optimizer == "momentum":
        opt = torch.optim.SGD(groups, lr=lr, momentum=momentum)
    elif optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=lr, betas=betas, eps=eps)
    else:
        groups[0]["weight_decay"] = weight_decay
        opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for _ in range(epochs):
            for start in range(0, n, batch_size):
                xb = Xt[start : start + batch_size]
                yb = yt[start : start + batch_size]
                opt.zero_grad(set_to_none=True)
                r = xb @ w + b - yb
                loss = 0.5 * (r * r).mean()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(before)
    return w.detach().numpy().copy(), float(b.detach()[0])


def _torch_version():
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


# ---------------------------------------------------------- a speed problem
def _speed_rows(problem, group, variants, competitors, epochs, repeats, one_epoch=None):
    """Race fastsgd ``variants`` and ``competitors`` on one problem.

    ``variants``: list of (name, row fields, fastsgd params); ``competitors``:
    dict of key -> (label, fit function returning (coef, intercept)); each
    variant's row fields ``vs`` maps a competitor label to a key.
    ``one_epoch``: None, or dict of competitor key -> the same fit with one
    epoch; then every contender also races a one-epoch fit, and the rows get
    the epoch time of both sides as the difference of the two fits (see
    ``epoch_speedup``).
    """
    X, y = problem.X, problem.y
    models = {}
    clocks = {}

    def fastsgd_fit(name, params):
        def fit():
            with epoch_clock() as times:
                model = make_fastsgd(max_iter=epochs, **params).fit(X, y)
            models[name] = model
            if times:
                best = min(times)
                clocks[name] = min(clocks.get(name, math.inf), best)

        return fit

    results = {}

    def competitor_fit(key, fn):
        def fit():
            results[key] = fn()

        return fit

    def one_fit(params):
        def fit():
            make_fastsgd(**{**params, "max_iter": 1}).fit(X, y)

        return fit

    contenders = {}
    for name, _, params in variants:
        contenders[name] = fastsgd_fit(name, params)
        if one_epoch is not None:
            contenders[name + " @1"] = one_fit(params)
    for key, (_, fn) in competitors.items():
        contenders[key] = competitor_fit(key, fn)
        if one_epoch is not None and key in one_epoch:
            contenders[key + " @1"] = one_epoch[key]
    contenders["numpy-sum"] = problem.numpy_sum
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence is recorded, not printed
        times = race(contenders, repeats)
    best = {k: min(v) for k, v in times.items()}
    sum_gbs = problem.x_bytes / best["numpy-sum"] / 1e9
    n, d = problem.X.shape
    rows = []
    for name, fields, params in variants:
        model = models[name]
        fit_s = best[name]
        epoch_s = clocks.get(name, fit_s / epochs)
        gbs = problem.x_bytes / epoch_s / 1e9
        comp = {}
        for label, key in fields.get("vs", {}).items():
            coef, intercept = results[key]
            comp[label] = {
                "seconds": best[key],
                "speedup": best[key] / fit_s,
                "accuracy_ratio": problem.test_ratio(coef, [intercept]),
                "epoch_seconds": None,
                "epoch_speedup": None,
            }
            if name + " @1" in best and key + " @1" in best and epochs > 1:
                ours = _epoch_time(best[name], best[name + " @1"], epochs)
                theirs = _epoch_time(best[key], best[key + " @1"], epochs)
                comp[label]["epoch_seconds"] = theirs
                comp[label]["epoch_speedup"] = theirs / ours
        batch = params.get("batch_size", 1)
        rows.append(
            {
                "group": group,
                "name": name,
                "n_samples": int(n),
                "n_features": int(d),
                "dtype": problem.dtype,
                "input": problem.input,
                "density": problem.density,
                "optimizer": params.get("optimizer", "sgd"),
                "batch_size": int(batch),
                "sampling": fields["sampling"],
                "epochs": int(epochs),
                "fit_seconds": fit_s,
                "epoch_seconds": epoch_s,
                "samples_per_s": n / epoch_s,
                "gb_per_s": gbs,
                "sum_gb_per_s": sum_gbs,
                "bandwidth_fraction": gbs / sum_gbs,
                "accuracy_ratio": problem.test_ratio(model.coef_, model.intercept_),
                "diverged": bool(getattr(model, "diverged_", False)),
                "competitors": comp,
            }
        )
    return rows


def _epoch_time(fit_many, fit_one, epochs):
    """Time of one epoch: ``(fit_many - fit_one) / (epochs - 1)``.

    The difference of a fit of ``epochs`` epochs and a fit of one cancels what
    a fit pays once (input validation, set-up) on either side; floored at 1%
    of ``fit_many / epochs`` against timing noise.
    """
    return max((fit_many - fit_one) / (epochs - 1), 0.01 * fit_many / epochs)


def _per_example_rows(problem, group, epochs, repeats, modes):
    d = problem.X.shape[1]
    eta0 = per_example_eta0(d, problem.density)
    X, y = problem.X, problem.y

    def sk(max_iter=epochs):
        m = make_sklearn(max_iter=max_iter, eta0=eta0).fit(X, y)
        return m.coef_, float(m.intercept_[0])

    variants = []
    for mode in modes:
        params = {"eta0": eta0, **sampling_params(mode)}
        variants.append(
            (f"sgd {mode}", {"sampling": mode, "vs": {"sklearn": "sk"}}, params)
        )
    return _speed_rows(
        problem,
        group,
        variants,
        {"sk": ("sklearn", sk)},
        epochs,
        repeats,
        one_epoch={"sk": lambda: sk(1)},
    )


def _optim_rows(problem, configs, epochs, repeats, with_torch, torch_threads):
    d = problem.X.shape[1]
    X, y = problem.X, problem.y
    eta_sk = per_example_eta0(d)

    def sk():
        m = make_sklearn(max_iter=epochs, eta0=eta_sk).fit(X, y)
        return m.coef_, float(m.intercept_[0])

    competitors = {"sk": ("sklearn", sk)}
    variants = []
    for opt, batch in configs:
        eta, extra = minibatch_params(opt, batch, d)
        params = {
            "optimizer": opt,
            "batch_size": batch,
            "eta0": eta,
            "learning_rate": "constant",
            "penalty": None,
            "shuffle": False,
            **extra,
        }
        vs = {"sklearn": "sk"}
        if with_torch:
            key = f"torch {opt} B={batch}"
            competitors[key] = (
                "torch",
                _torch_closure(X, y, opt, eta, batch, epochs, torch_threads),
            )
            vs["torch"] = key
        variants.append((f"{opt} B={batch}", {"sampling": "inorder", "vs": vs}, params))
    return _speed_rows(problem, "optim", variants, competitors, epochs, repeats)


def _torch_closure(X, y, opt, eta, batch, epochs, threads):
    def fit():
        return torch_fit(
            X,
            y,
            optimizer=opt,
            lr=eta,
            batch_size=batch,
            epochs=epochs,
            threads=threads,
        )

    return fit


# -------------------------------------------------------- time to accuracy
def time_to_accuracy(problem, method, *, max_epochs=10, repeats=1):
    """Return the time a method needs to reach 1% of the optimal training MSE.

    For the gradient methods, fits of 1, 2, ... epochs are run from scratch
    (each deterministic, so the first ``k`` epochs are the same in every fit)
    until one reaches a training MSE within 1% of the closed form's; its
    whole-fit time (best of ``repeats``) is the time to accuracy.

    Parameters
    ----------
    problem : Problem
        The data and its optimum.
    method : {'closed_form', 'sgd', 'minibatch', 'sklearn'}
        ``'sgd'``: fastsgd per-example SGD with Polyak averaging and a constant
        rate ``0.5 / n_features``; ``'minibatch'``: batches of 32 rows,
        averaged, rate ``16 / n_features`` (capped at 0.1); ``'sklearn'``:
        scikit-learn's ``SGDRegressor`` with the same settings as ``'sgd'``;
        ``'closed_form'``: :func:`fastsgd.closed_form`.
    max_epochs : int, default=10
        Give up after this many epochs, >= 1.
    repeats : int, default=1
        Timed runs of the fit that reaches the target, >= 1 (best kept).

    Returns
    -------
    dict
        An entry of the ``time_to_accuracy`` list (see the module docstring).
    """
    from .closed_form import closed_form

    max_epochs = _check_int("max_epochs", max_epochs, 1)
    repeats = _check_int("repeats", repeats, 1)
    n, d = problem.X.shape
    entry = {"method": method, "n_samples": int(n), "n_features": int(d)}
    X, y = problem.X, problem.y
    if method == "closed_form":
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            coef, intercept = closed_form(X, y)
            times.append(time.perf_counter() - t0)
        ratio = problem.train_ratio(coef, [intercept])
        reached = ratio <= TTA_TOLERANCE
        entry.update(
            seconds=min(times) if reached else None,
            epochs=None,
            mse_ratio=ratio,
            reached=bool(reached),
        )
        return entry
    if method == "sgd":
        params = {"learning_rate": "constant", "eta0": 0.5 / d, "average": True}
        make = make_fastsgd
    elif method == "minibatch":
        params = {
            "learning_rate": "constant",
            "eta0": min(0.1, 16.0 / d),
            "average": True,
            "batch_size": 32,
        }
        make = make_fastsgd
    elif method == "sklearn":
        params = {"learning_rate": "constant", "eta0": 0.5 / d, "average": True}
        make = make_sklearn
    else:
        raise ValueError(
            "method must be 'closed_form', 'sgd', 'minibatch' or 'sklearn'; "
            f"got {method!r}."
        )
    params["penalty"] = None
    ratio = math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(max_iter=1, **params).fit(X[: min(n, 1000)], y[: min(n, 1000)])  # warm
        for k in range(1, max_epochs + 1):
            t0 = time.perf_counter()
            model = make(max_iter=k, **params).fit(X, y)
            first = time.perf_counter() - t0
            ratio = problem.train_ratio(model.coef_, model.intercept_)
            if ratio <= TTA_TOLERANCE:
                times = [first]
                for _ in range(repeats - 1):
                    t0 = time.perf_counter()
                    make(max_iter=k, **params).fit(X, y)
                    times.append(time.perf_counter() - t0)
                entry.update(
                    seconds=min(times), epochs=k, mse_ratio=ratio, reached=True
                )
                return entry
    entry.update(seconds=None, epochs=None, mse_ratio=ratio, reached=False)
    return entry


# ------------------------------------------------------- fresh processes
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
        Entries of the ``memory`` list (see the module docstring).
    """
    known = ("fastsgd epoch", "fastsgd blocks", "sklearn")
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
    n = _check_int("n_samples", n_samples, 2)
    d = _check_int("n_features", n_features, 1)
    spec = {"n": n, "d": d, "dtypes": dtypes, "contenders": contenders}
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = _result_line(proc, "memory probe")
    out = []
    for e in found:
        size = np.dtype(e["dtype"]).itemsize
        data_bytes = n * d * size + n * size
        out.append(
            {
                "contender": e["contender"],
                "dtype": e["dtype"],
                "n_samples": n,
                "n_features": d,
                "data_bytes": int(data_bytes),
                "peak_bytes": e["peak_bytes"],
                "peak_over_data": e["peak_bytes"] / data_bytes,
            }
        )
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


# --------------------------------------------------------------- the plan
def _plan(full):
    f64, f32 = "float64", "float32"
    if full:
        sgd = [
            (n, d, t)
            for d, n in ((10, 200_000), (100, 100_000), (1000, 50_000))
            for t in (f64, f32)
        ]
        sparse = [
            (100_000, 1000, 0.02, f64),
            (100_000, 1000, 0.02, f32),
            (200_000, 1000, 0.005, f64),
        ]
        opts = [
            (o, b)
            for o in ("sgd", "momentum", "adam", "adamw")
            for b in (32, 256, 4096)
        ]
        optim = [((100_000, 100, t), opts) for t in (f32, f64)] + [
            ((30_000, 1000, t), opts) for t in (f32, f64)
        ]
        tta = (
            100_000,
            (1, 3, 10, 30, 100, 300, 1000),
            ("closed_form", "sgd", "minibatch", "sklearn"),
        )
        memory = (100_000, 100)
        return dict(
            sgd=sgd,
            sparse=sparse,
            optim=optim,
            tta=tta,
            memory=memory,
            sgd_epochs=5,
            epochs=2,
            repeats=5,
            tta_epochs=10,
            cold_runs=3,
        )
    sgd = [(100_000, 100, f64), (100_000, 100, f32), (20_000, 1000, f64)]
    sparse = [(100_000, 1000, 0.02, f64)]
    optim = [
        ((100_000, 100, f32), [("adam", 32), ("adam", 256), ("sgd", 256)]),
        ((100_000, 100, f64), [("sgd", 32), ("sgd", 256)]),
        ((20_000, 1000, f32), [("adam", 32)]),
    ]
    tta = (50_000, (2, 10, 100, 300, 1000), ("closed_form", "sgd", "minibatch"))
    memory = (100_000, 100)
    return dict(
        sgd=sgd,
        sparse=sparse,
        optim=optim,
        tta=tta,
        memory=memory,
        sgd_epochs=5,
        epochs=2,
        repeats=3,
        tta_epochs=6,
        cold_runs=2,
    )


# ------------------------------------------------------------------- run
def run(
    full=False,
    *,
    scale=1.0,
    repeats=None,
    sections=None,
    torch_threads=1,
    json_path=None,
    png_path=None,
    quiet=True,
):
    """Run the benchmarks and return the results (see the module docstring).

    Parameters
    ----------
    full : bool, default=False
        The full set of problems (several minutes) instead of the quick one
        (under a minute on 2 cores once the compile cache is warm).
    scale : float, default=1.0
        Multiplies every number of rows, in (0, 100]; small values make a
        smoke test (rows never drop below 4 per feature, 200 at least).
    repeats : int or None, default=None
        Timed rounds per problem, >= 1; None means 3 (quick) or 5 (full).
    sections : iterable of str or None, default=None
        Which parts to run, from ``SECTIONS``; None runs all.
    torch_threads : int, default=1
        Threads torch may use, >= 1 (fastsgd uses one core).
    json_path : str or path-like or None, default=None
        Write the results there as JSON.
    png_path : str or path-like or None, default=None
        Write the time-to-accuracy figure there (needs matplotlib).
    quiet : bool, default=True
        Print no progress lines (to stderr).

    Returns
    -------
    dict
        The results, as documented in the module docstring.
    """
    if not isinstance(full, bool | np.bool_):
        raise TypeError(f"full must be a bool; got {type(full).__name__}.")
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a number; got {type(scale).__name__}.")
    if not (0.0 < float(scale) <= 100.0):
        raise ValueError(f"scale must be in (0, 100]; got {scale!r}.")
    if repeats is not None:
        repeats = _check_int("repeats", repeats, 1)
    torch_threads = _check_int("torch_threads", torch_threads, 1)
    if sections is None:
        sections = SECTIONS
    else:
        if isinstance(sections, str):
            raise TypeError("sections must be an iterable of section names, not a str.")
        sections = tuple(sections)
        bad = [s for s in sections if s not in SECTIONS]
        if bad:
            raise ValueError(f"Unknown sections {bad}; choose from {SECTIONS}.")
    if png_path is not None and "time_to_accuracy" not in sections:
        raise ValueError("png_path needs the 'time_to_accuracy' section.")
    log = _progress(quiet)
    started = time.perf_counter()
    plan = _plan(full)
    repeats = plan["repeats"] if repeats is None else repeats
    epochs = plan["epochs"]
    torch_version = _torch_version()
    notes = []
    results = {
        "schema": SCHEMA,
        "mode": "full" if full else "quick",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "seconds": 0.0,
        "scale": float(scale),
        "repeats": repeats,
        "machine": machine_info(),
        "versions": versions(),
        "rows": [],
        "time_to_accuracy": [],
        "memory": [],
        "cold_start": None,
        "targets": [],
        "notes": notes,
    }

    def rows_for(n, d):
        return max(int(round(n * scale)), 4 * d, 200)

    _warm_kernels()
    if "sgd" in sections:
        for n, d, dtype in plan["sgd"]:
            log(f"per-example SGD: {rows_for(n, d)} x {d} {dtype}")
            p = make_problem(rows_for(n, d), d, dtype=dtype)
            results["rows"] += _per_example_rows(
                p, "sgd", plan["sgd_epochs"], repeats, ("epoch", "blocks", "inorder")
            )
    if "sparse" in sections:
        for n, d, density, dtype in plan["sparse"]:
            log(f"sparse CSR SGD: {rows_for(n, d)} x {d} density {density} {dtype}")
            p = make_problem(rows_for(n, d), d, dtype=dtype, density=density)
            results["rows"] += _per_example_rows(
                p, "sparse", plan["sgd_epochs"], repeats, ("epoch", "blocks", "inorder")
            )
    if "optim" in sections:
        if torch_version is None:
            notes.append(
                "torch is not installed: the torch.optim comparisons were skipped."
            )
        for (n, d, dtype), configs in plan["optim"]:
            log(f"mini-batch optimizers: {rows_for(n, d)} x {d} {dtype}")
            p = make_problem(rows_for(n, d), d, dtype=dtype)
            results["rows"] += _optim_rows(
                p, configs, epochs, repeats, torch_version is not None, torch_threads
            )
    if "time_to_accuracy" in sections:
        n, features, methods = plan["tta"]
        for d in features:
            log(f"time to accuracy: {rows_for(n, d)} x {d}")
            p = make_problem(rows_for(n, d), d)
            for method in methods:
                results["time_to_accuracy"].append(
                    time_to_accuracy(
                        p,
                        method,
                        max_epochs=plan["tta_epochs"],
                        repeats=min(repeats, 3),
                    )
                )
            del p
    if "memory" in sections:
        n, d = plan["memory"]
        log(f"peak memory: {rows_for(n, d)} x {d}")
        results["memory"] = peak_memory(rows_for(n, d), d)
    if "cold_start" in sections:
        log("cold start (fresh processes)")
        results["cold_start"] = _cold_start_section(
            full, min(repeats, plan["cold_runs"])
        )
    results["targets"] = evaluate_targets(results)
    results["seconds"] = time.perf_counter() - started
    load = results["machine"]["load_average"]
    cores = results["machine"]["usable_cores"]
    if load is not None and load[0] >= 1.0:
        notes.append(
            f"The 1-minute load average was {load[0]:.2f} on {cores} cores before "
            "the run: other processes shared the CPUs, so the times are noisier "
            "than usual (each contender keeps its best round)."
        )
    results = _clean(results)
    # render the figure first: a failure then leaves no file half-written
    png = render_png(results) if png_path is not None else None
    if json_path is not None:
        write_json(results, json_path)
    if png is not None:
        _atomic_write(png_path, png)
    return results


def _cold_start_section(full, runs):
    # fastsgd and scikit-learn alternate, so that both see the same machine
    warm, sk = [], []
    for _ in range(runs):
        warm.append(cold_start(config={}))
        sk.append(cold_start(library="sklearn", config={}))
    best = min(warm, key=lambda r: r["wall"])
    sk_best = min(sk, key=lambda r: r["wall"])
    out = {
        "warm_seconds": best["wall"],
        "warm_import_seconds": best["import"],
        "warm_fit_seconds": best["fit"],
        "sklearn_seconds": sk_best["wall"],
        "warm_over_sklearn": best["wall"] / sk_best["wall"],
        "cold_import_seconds": None,
        "sklearn_import_seconds": None,
        "cold_import_over_sklearn": None,
        "cold_seconds": None,
        "compile_seconds": None,
        "second_process_compiles": None,
        "cache_dir": best["cache_path"],
    }
    if full:
        imports, sk_imports = [], []
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="fastsgd-numba-") as tmp:
                imports.append(cold_start(tmp, config=None)["wall"])
            sk_imports.append(cold_start(library="sklearn", config=None)["wall"])
        out["cold_import_seconds"] = min(imports)
        out["sklearn_import_seconds"] = min(sk_imports)
        out["cold_import_over_sklearn"] = min(imports) / min(sk_imports)
        compile_seconds = {}
        with tempfile.TemporaryDirectory(prefix="fastsgd-numba-") as tmp:
            for name, config in COMPILE_CONFIGS.items():
                # each on a cache holding only the configurations before it
                compile_seconds[name] = cold_start(tmp, config=dict(config))["fit"]
            second = cold_start(tmp, config={})
        out["cold_seconds"] = compile_seconds["default, float64"]
        out["compile_seconds"] = compile_seconds
        out["second_process_compiles"] = second["misses"]
    return out


def _warm_kernels():
    """Load (or compile) both dtypes of the dense and CSR kernels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float32, np.float64):
            X = np.ones((8, 2), dtype=dtype)
            y = np.ones(8, dtype=dtype)
            make_fastsgd(max_iter=1).fit(X, y)
            make_fastsgd(max_iter=1).fit(sp.csr_matrix(X), y)


def _progress(quiet):
    start = time.perf_counter()

    def log(msg):
        if not quiet:
            elapsed = time.perf_counter() - start
            print(
                f"[fastsgd bench {elapsed:5.0f} s] {msg}", file=sys.stderr, flush=True
            )

    return log


# ----------------------------------------------------------------- targets
def evaluate_targets(results):
    """Compare the measurements with the package's performance targets.

    Parameters
    ----------
    results : dict
        The output of :func:`run` (``targets`` is ignored).

    Returns
    -------
    list of dict
        Entries of the ``targets`` list (see the module docstring).
    """
    rows = results.get("rows", [])
    out = []

    def add(target, goal, value, higher=True):
        met = (
            None if value is None else bool(value >= goal if higher else value <= goal)
        )
        out.append(
            {
                "target": target,
                "goal": float(goal),
                "value": None if value is None else float(value),
                "met": met,
                "higher_is_better": higher,
            }
        )

    def pick(**want):
        return [r for r in rows if all(r.get(k) == v for k, v in want.items())]

    # the issue's per-example targets are on epoch time ("the same data and
    # epochs"): (fit of E epochs - fit of 1) / (E - 1) on both sides
    for d, goal in ((100, 10.0), (1000, 4.0)):
        value, mode = _best_matching(
            pick(group="sgd", n_features=d, dtype="float64"), "epoch_speedup"
        )
        add(
            f"per-example epoch speed-up vs sklearn, {d} features, float64, "
            f"fastest mode matching the full shuffle's accuracy ({mode})",
            goal,
            value,
        )
    r = pick(group="sgd", n_features=100, dtype="float64", sampling="epoch")
    add(
        "per-example epoch speed-up vs sklearn, 100 features, float64, full reshuffle",
        3.0,
        _speedup(r, "sklearn", "epoch_speedup"),
    )
    add(
        "sparse CSR per-example epoch speed-up vs sklearn, full reshuffle",
        2.0,
        _min_speedup(
            pick(group="sparse", sampling="epoch"), "sklearn", "epoch_speedup"
        ),
    )
    r = pick(group="sgd", n_features=100, dtype="float64", sampling="inorder")
    add(
        "in-order per-example epoch at 100 features: fraction of NumPy-sum bandwidth",
        0.6,
        r[0]["bandwidth_fraction"] if r else None,
    )
    r = pick(group="optim", n_features=100, dtype="float64", sampling="inorder")
    add(
        "in-order mini-batch epoch at 100 features, float64: fraction of NumPy-sum "
        "bandwidth (worst optimizer and batch size measured)",
        0.7,
        min((x["bandwidth_fraction"] for x in r), default=None),
    )
    for d, b, goal in ((100, 32, 30.0), (100, 256, 5.0), (1000, 32, 6.0)):
        add(
            f"Adam speed-up vs torch.optim.Adam, B={b}, {d} features, float32",
            goal,
            _speedup(
                pick(
                    group="optim",
                    optimizer="adam",
                    batch_size=b,
                    n_features=d,
                    dtype="float32",
                ),
                "torch",
            ),
        )
    tta = results.get("time_to_accuracy", [])
    cf = [t for t in tta if t["method"] == "closed_form" and t["n_features"] == 1000]
    sgd = [
        t
        for t in tta
        if t["method"] in ("sgd", "minibatch")
        and t["n_features"] == 1000
        and t["reached"]
    ]
    value = None
    if cf and cf[0]["reached"] and sgd:
        value = cf[0]["seconds"] / min(t["seconds"] for t in sgd)
    n_tta = cf[0]["n_samples"] if cf else None
    add(
        f"time to 1% of the optimum: closed_form / SGD at 1000 features ({n_tta} rows)",
        5.0,
        value,
    )
    cs = results.get("cold_start") or {}
    add(
        "warm-cache import + first fit, over scikit-learn's",
        1.25,
        cs.get("warm_over_sklearn"),
        higher=False,
    )
    add(
        "empty-cache import, over importing sklearn.linear_model",
        1.3,
        cs.get("cold_import_over_sklearn"),
        higher=False,
    )
    add(
        "empty-cache first default fit (compile included), seconds",
        10.0,
        cs.get("cold_seconds"),
        higher=False,
    )
    if cs.get("second_process_compiles") is not None:
        add(
            "kernels compiled by a second process on the same cache",
            0.0,
            cs["second_process_compiles"],
            higher=False,
        )
    return out


def _speedups(rows, label, key):
    return [
        r["competitors"][label][key]
        for r in rows
        if r["competitors"].get(label, {}).get(key) is not None
    ]


def _speedup(rows, label, key="speedup"):
    vals = _speedups(rows, label, key)
    return max(vals) if vals else None


def _min_speedup(rows, label, key="speedup"):
    vals = _speedups(rows, label, key)
    return min(vals) if vals else None


def _best_matching(rows, key="speedup"):
    """Return (speed-up, mode): the fastest mode matching the full shuffle's accuracy.

    A mode matches when its test MSE is within 1% of the full shuffle's (or
    better). ``key`` picks the speed-up (``"speedup"``: whole fits,
    ``"epoch_speedup"``: epochs). Returns ``(None, None)`` without a
    full-shuffle row.
    """
    full = [r for r in rows if r["sampling"] == "epoch"]
    if not full:
        return None, None
    ref = full[0]["accuracy_ratio"]
    ok = [
        (r["competitors"]["sklearn"][key], r["sampling"])
        for r in rows
        if r["competitors"].get("sklearn", {}).get(key) is not None
        and r["accuracy_ratio"] <= ref * MATCH_TOLERANCE
    ]
    return max(ok) if ok else (None, None)


# ------------------------------------------------------------ environment
def machine_info():
    """Return the CPU model, core counts, platform, memory and load."""
    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cpu = cpu or platform.processor() or platform.machine() or "unknown"
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        mem = None
    try:
        load = list(os.getloadavg())
    except (AttributeError, OSError):
        load = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 1,
        "usable_cores": usable,
        "platform": platform.platform(),
        "memory_bytes": mem,
        "load_average": load,
    }


def versions():
    """Return the versions of Python and of the libraries measured."""
    import numba
    import scipy
    import sklearn

    from . import __version__

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "sklearn": sklearn.__version__,
        "fastsgd": __version__,
        "torch": _torch_version(),
    }


def _clean(obj):
    """Make ``obj`` strict JSON: plain Python types, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


# ---------------------------------------------------------------- output
def write_json(results, path):
    """Write ``results`` to ``path`` as JSON (atomically: a complete file or none)."""
    text = json.dumps(_clean(results), indent=2, allow_nan=False)
    _atomic_write(path, text.encode("utf-8") + b"\n")


def _atomic_write(path, payload):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fastsgd-bench-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 -> an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_png(results, path):
    """Draw time to accuracy against the number of features into a PNG file.

    Parameters
    ----------
    results : dict
        The output of :func:`run` with a ``time_to_accuracy`` section.
    path : str or path-like
        Where to write the PNG (written completely or not at all).
    """
    _atomic_write(path, render_png(results))


def render_png(results):
    """Return the time-to-accuracy figure of ``results`` as PNG bytes.

    Time to reach a training MSE within 1% of the closed form's against the
    number of features (log-log), one line per method, with a marker where
    fastsgd's SGD overtakes the closed form.

    Parameters
    ----------
    results : dict
        The output of :func:`run` with a ``time_to_accuracy`` section.

    Returns
    -------
    bytes
        The PNG file's content.
    """
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    tta = results.get("time_to_accuracy") or []
    if not tta:
        raise ValueError("The results have no time_to_accuracy entries to draw.")
    fig = Figure(figsize=(7.0, 4.6), dpi=110)
    ax = fig.add_subplot()
    styles = {
        "closed_form": ("closed_form (Cholesky)", "k", "s", "-"),
        "sgd": ("fastsgd SGD, B=1, averaged", "tab:blue", "o", "-"),
        "minibatch": ("fastsgd mini-batch, B=32, averaged", "tab:green", "^", "-"),
        "sklearn": ("scikit-learn SGDRegressor, averaged", "tab:orange", "v", "--"),
    }
    by_method = {}
    for t in tta:
        by_method.setdefault(t["method"], []).append(t)
    offsets = {"sgd": (5, 3), "minibatch": (5, -10), "sklearn": (5, 3)}
    for method, entries in by_method.items():
        label, color, marker, ls = styles.get(method, (method, None, "o", "-"))
        entries = sorted(entries, key=lambda t: t["n_features"])
        xs = [t["n_features"] for t in entries if t["reached"]]
        ys = [t["seconds"] for t in entries if t["reached"]]
        ax.plot(xs, ys, ls, color=color, marker=marker, label=label)
        for t in entries:
            if t["epochs"]:
                ax.annotate(
                    f"{t['epochs']} ep",
                    (t["n_features"], t["seconds"]),
                    textcoords="offset points",
                    xytext=offsets.get(method, (5, 3)),
                    fontsize=7,
                    color=color,
                )
    where, cross = _crossover(by_method)
    if where == "between":
        ax.axvline(cross, color="0.5", ls=":", lw=1)
        note = f"SGD overtakes closed_form at ~{cross:.0f} features"
    elif where == "everywhere":
        note = (
            "fastsgd reaches 1% of the optimum sooner than closed_form\n"
            f"at every size measured (from {cross:.0f} feature"
            + ("s)" if cross != 1 else ")")
        )
    elif where == "nowhere":
        note = "closed_form is faster at every size measured"
    else:
        note = None
    if note:
        ax.text(
            0.98,
            0.03,
            note,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            color="0.25",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ns = sorted({t["n_samples"] for t in tta})
    n = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    ax.set_xlabel("number of features")
    ax.set_ylabel("seconds to training MSE within 1% of the optimum")
    cpu = results.get("machine", {}).get("cpu", "")
    ax.set_title(f"Time to accuracy, {n} rows, float64 ({cpu})", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _crossover(by_method):
    """Where fastsgd's SGD overtakes the closed form, by number of features.

    Returns ``("between", d)`` with ``d`` log-interpolated between the last
    size where the closed form is faster and the first where SGD is (and stays)
    faster, ``("everywhere", smallest size)``, ``("nowhere", None)`` or
    ``(None, None)`` without both series.
    """
    cf = {
        t["n_features"]: t["seconds"]
        for t in by_method.get("closed_form", [])
        if t["reached"]
    }
    best = {}
    for m in ("sgd", "minibatch"):
        for t in by_method.get(m, []):
            if t["reached"]:
                d = t["n_features"]
                best[d] = min(best.get(d, math.inf), t["seconds"])
    ds = sorted(set(cf) & set(best))
    if not ds:
        return None, None
    gaps = [math.log(cf[d]) - math.log(best[d]) for d in ds]  # > 0: SGD faster
    if all(g > 0 for g in gaps):
        return "everywhere", float(ds[0])
    if gaps[-1] <= 0:
        return "nowhere", None
    k = max(i for i, g in enumerate(gaps) if g <= 0)  # last size the closed form wins
    d0, d1, g0, g1 = ds[k], ds[k + 1], gaps[k], gaps[k + 1]
    frac = -g0 / (g1 - g0)
    return "between", float(math.exp(math.log(d0) + frac * math.log(d1 / d0)))


def format_table(results):
    """Return the results as readable text tables.

    Parameters
    ----------
    results : dict
        The output of :func:`run`.

    Returns
    -------
    str
        Throughput, speed-ups, accuracy, bandwidth, time to accuracy, memory,
        cold start and the targets.
    """
    m = results["machine"]
    v = results["versions"]
    lines = [
        f"fastsgd bench ({results['mode']}), {m['cpu']}, {m['usable_cores']} of "
        f"{m['cores']} cores, Python {v['python']}, numpy {v['numpy']}, numba "
        f"{v['numba']}, scikit-learn {v['sklearn']}, torch {v['torch'] or 'absent'}",
        "speed-up = competitor's fit time / fastsgd's (same data and epochs, "
        "timed alternately, best of "
        f"{results['repeats']}); acc = test MSE / closed form's test MSE; "
        "%BW = epoch's read rate / NumPy X.sum() rate; x sklearn = whole fits; "
        "epoch = epoch times, (fit of E epochs - fit of 1) / (E - 1) each side.",
    ]
    rows = results["rows"]
    if rows:
        head = (
            f"{'configuration':<22} {'data':<26} {'Msamp/s':>8} {'GB/s':>6} {'%BW':>5} "
            f"{'acc':>6} {'x sklearn':>9} {'epoch':>6} {'sk acc':>6} {'x torch':>8} "
            f"{'th acc':>6}"
        )
        lines += ["", head, "-" * len(head)]
        for r in rows:
            kind = "csr" if r["input"] == "csr" else ""
            data = (
                f"{r['n_samples']}x{r['n_features']} {r['dtype'][-2:]} {kind}".strip()
            )
            if r["density"]:
                data += f" {r['density']:g}"
            sk = r["competitors"].get("sklearn")
            th = r["competitors"].get("torch")
            name = r["name"] + (" DIVERGED" if r["diverged"] else "")
            lines.append(
                f"{name:<22} {data:<26} {r['samples_per_s'] / 1e6:>8.2f} "
                f"{r['gb_per_s']:>6.2f} {100 * r['bandwidth_fraction']:>4.0f}% "
                f"{_f(r['accuracy_ratio'], '.3f'):>6} "
                f"{_f(sk and sk['speedup'], '.1f', 'x'):>9} "
                f"{_f(sk and sk.get('epoch_speedup'), '.1f', 'x'):>6} "
                f"{_f(sk and sk['accuracy_ratio'], '.3f'):>6} "
                f"{_f(th and th['speedup'], '.1f', 'x'):>8} "
                f"{_f(th and th['accuracy_ratio'], '.3f'):>6}"
            )
    tta = results["time_to_accuracy"]
    if tta:
        lines += [
            "",
            "time to a training MSE within 1% of the closed form's (seconds):",
        ]
        methods = list(dict.fromkeys(t["method"] for t in tta))
        feats = sorted({t["n_features"] for t in tta})
        head = f"{'features':>9} {'rows':>8} " + " ".join(f"{m_:>16}" for m_ in methods)
        lines += [head, "-" * len(head)]
        for d in feats:
            cells = []
            for m_ in methods:
                t = next(
                    (t for t in tta if t["n_features"] == d and t["method"] == m_), None
                )
                if t is None:
                    cells.append(f"{'':>16}")
                elif t["reached"]:
                    ep = f" ({t['epochs']} ep)" if t["epochs"] else ""
                    cells.append(f"{t['seconds']:>10.3f}{ep:>6}")
                else:
                    cells.append(f"{'not reached':>16}")
            rows_d = next(t["n_samples"] for t in tta if t["n_features"] == d)
            lines.append(f"{d:>9} {rows_d:>8} " + " ".join(cells))
    mem = results["memory"]
    if mem:
        lines += ["", "peak memory allocated by fit, relative to the data (X and y):"]
        for e in mem:
            peak = e["peak_bytes"] / 2**20
            data = e["data_bytes"] / 2**20
            lines.append(
                f"  {e['contender']:<16} {e['dtype']}: {peak:8.1f} MiB "
                f"= {e['peak_over_data']:.3f} x data ({data:.1f} MiB, "
                f"{e['n_samples']}x{e['n_features']})"
            )
    cs = results["cold_start"]
    if cs:
        lines += [
            "",
            "cold start (fresh process: import + first small fit): warm "
            f"cache {cs['warm_seconds']:.2f} s (import "
            f"{cs['warm_import_seconds']:.2f} s, fit {cs['warm_fit_seconds']:.2f} s)"
            f", scikit-learn {cs['sklearn_seconds']:.2f} s "
            f"({cs['warm_over_sklearn']:.2f}x); cache in {cs['cache_dir']}",
        ]
        if cs["cold_import_seconds"] is not None:
            lines.append(
                f"  empty cache: import {cs['cold_import_seconds']:.2f} s, "
                f"sklearn.linear_model {cs['sklearn_import_seconds']:.2f} s "
                f"({cs['cold_import_over_sklearn']:.2f}x); a second process on "
                f"that cache compiled {cs['second_process_compiles']} kernels"
            )
            for name, secs in cs["compile_seconds"].items():
                lines.append(f"  first fit, empty cache, {name}: {secs:.1f} s")
    if results["targets"]:
        lines += ["", "targets:"]
        for t in results["targets"]:
            mark = {True: "met ", False: "MISS", None: "n/a "}[t["met"]]
            op = ">=" if t["higher_is_better"] else "<="
            value = _f(t["value"], ".4g")
            lines.append(f"  [{mark}] {t['target']}: {value} ({op} {t['goal']:g})")
    for note in results["notes"]:
        lines.append(f"note: {note}")
    lines.append(f"({results['seconds']:.0f} s)")
    return "\n".join(lines)


def _f(value, fmt, suffix=""):
    if value is None:
        return "-"
    return format(value, fmt) + suffix


# ------------------------------------------------------------ command line
def add_parser(subparsers):
    """Register the ``bench`` sub-command on an ``argparse`` sub-parser set.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``bench`` parser; its ``func`` default is the handler, which
        takes the parsed arguments and returns the exit status.
    """
    parser = subparsers.add_parser(
        "bench",
        help="measure speed at equal accuracy against scikit-learn, torch and "
        "the closed form",
        description=(
            "Benchmark fastsgd against scikit-learn's SGDRegressor, torch.optim "
            "(when installed) and the closed form on this machine: throughput, "
            "speed-ups measured side by side, accuracy, memory bandwidth, time "
            "to accuracy, peak memory and cold start."
        ),
    )
    _add_arguments(parser)
    parser.set_defaults(func=_handle)
    return parser


def _add_arguments(parser):
    parser.add_argument(
        "--full",
        action="store_true",
        help="the full set of problems (several minutes) instead of the quick one",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--png", metavar="PATH", help="write the time-to-accuracy figure (PNG)"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress lines, only the tables"
    )


def _handle(args):
    """Run the sub-command for parsed ``args``; return the exit status."""
    problem = _check_paths(args.json, args.png)
    if problem is not None:
        print(f"fastsgd bench: error: {problem}", file=sys.stderr)
        return 2
    results = run(
        full=args.full, json_path=args.json, png_path=args.png, quiet=args.quiet
    )
    print(format_table(results))
    return 0


def _check_paths(json_path, png_path):
    """Return why the output paths cannot be written, or None (before any work)."""
    for opt, path in (("--json", json_path), ("--png", png_path)):
        if path is None:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            return f"{opt} {path}: the folder {folder} does not exist."
        if os.path.isdir(path):
            return f"{opt} {path}: is a folder, not a file."
        if not os.access(folder, os.W_OK):
            return f"{opt} {path}: the folder {folder} is not writable."
    if png_path is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return "--png needs matplotlib: pip install 'fastsgd[plot]'."
    return None


def main(argv=None):
    """Run ``fastsgd bench`` (also ``python -m fastsgd.bench``); return the status."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="fastsgd bench", description=__doc__.split("\n\n")[0]
    )
    _add_arguments(parser)
    return _handle(parser.parse_args(argv))


# ------------------------------------------------------------------- misc
def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}.")
    return int(value)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
