"""The blocks of a Dask fit and its three strategies (for :mod:`fastsgd.dask`).

What runs on the workers (one epoch of local SGD on a block, a block's loss
and gradient, a block's moments) and the drivers that join them:
``_fit_local_sgd`` (per-epoch model averaging), ``_fit_lbfgs`` (exact
L-BFGS over compiled block gradients) and ``_fit_normal`` (one pass of
normal equations). :class:`fastsgd.dask.DaskSGDRegressor` validates its
parameters and data and calls one of them.
"""

from __future__ import annotations

import uuid
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize
from sklearn.utils import check_random_state

from . import _objective
from ._kernels import _codes as K
from .closed_form import solve_gram
from .linear_model import DivergenceWarning

try:
    import dask
    import dask.array as da
    import distributed
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "fastsgd.dask needs Dask: install it with `pip install 'fastsgd[dask]'` "
        "(dask[array,dataframe,distributed])."
    ) from exc


# fastsgd.SGDRegressor parameters that DaskSGDRegressor passes to the block
# epochs of 'local_sgd' (and, for the objective, to the other strategies)
SGD_PARAMS = (
    "loss",
    "penalty",
    "alpha",
    "l1_ratio",
    "fit_intercept",
    "shuffle",
    "epsilon",
    "learning_rate",
    "eta0",
    "power_t",
    "average",
    "batch_size",
    "optimizer",
    "momentum",
    "rho",
    "beta1",
    "beta2",
    "eps",
    "weight_decay",
    "clip_norm",
    "ema_decay",
    "warmup",
    "gamma",
    "step_every",
    "eta_min",
    "pct_start",
)
MAX_SEED = np.iinfo(np.int32).max


# ---------------------------------------------------------------------- data
class _Blocks:
    """Row blocks of (X, y) as lists of delayed objects, with their sizes."""

    def __init__(self, X, y, feature_names):
        self.n_features = int(X.shape[1])
        # K for y of shape (n, K), None for one target
        self.outputs = int(y.shape[1]) if y.ndim == 2 else None
        self.dtype = X.dtype
        self.feature_names = feature_names
        xs = X.to_delayed().ravel().tolist()
        ys = y.to_delayed().ravel().tolist()
        sizes = [int(s) for s in X.chunks[0]]
        keep = [i for i, s in enumerate(sizes) if s > 0]
        if not keep:
            raise ValueError("X has no rows.")
        self.X = [xs[i] for i in keep]
        self.y = [ys[i] for i in keep]
        self.sizes = np.array([sizes[i] for i in keep], dtype=np.int64)
        self.n_rows = int(self.sizes.sum())

    @classmethod
    def from_inputs(cls, X, y):
        names = None
        if _is_dask_frame(X):
            if not _is_dask_frame(y):
                raise TypeError(
                    "X is a dask DataFrame: y must be a dask Series or one-column "
                    f"DataFrame split the same way, got {type(y).__name__}."
                )
            if X.npartitions != y.npartitions:
                raise ValueError(
                    f"X has {X.npartitions} partitions but y has {y.npartitions}; "
                    "they must be split into the same row partitions."
                )
            cols = np.asarray(X.columns, dtype=object)
            if all(isinstance(c, str) for c in cols):
                names = cols
        X = _features(X, "X", lengths=True)
        y = _target(y, lengths=True)
        if not isinstance(y, da.Array):
            raise TypeError(
                f"y must be a dask array or dask Series, got {type(y).__name__} "
                "(wrap in-memory data with dask.array.from_array)."
            )
        for name, arr in (("X", X), ("y", y)):
            if any(np.isnan(c) for c in arr.chunks[0]):
                raise ValueError(
                    f"{name} has unknown chunk sizes (e.g. after boolean indexing "
                    f"or from a dataframe): call `{name} = "
                    f"{name}.compute_chunk_sizes()` first."
                )
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {y.shape[0]}; they must match."
            )
        if tuple(X.chunks[0]) != tuple(y.chunks[0]):
            raise ValueError(
                "X and y are split into different row blocks "
                f"({len(X.chunks[0])} and {len(y.chunks[0])} blocks, or different "
                "sizes); give them the same partitions, e.g. "
                "`y = y.rechunk({0: X.chunks[0]})`."
            )
        if X.shape[1] < 1:
            raise ValueError("X has no feature column.")
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if y.dtype != X.dtype:
            y = y.astype(X.dtype)
        return cls(X, y, names)


def _is_dask_frame(obj):
    return hasattr(obj, "npartitions") and hasattr(obj, "to_dask_array")


def _features(X, name, lengths=False):
    """Return X as a 2-D dask array (dataframes converted)."""
    if _is_dask_frame(X):
        X = X.to_dask_array(lengths=True if lengths else None)
    if not isinstance(X, da.Array):
        raise TypeError(
            f"{name} must be a dask array or dask DataFrame, got "
            f"{type(X).__name__}; for in-memory data use fastsgd.SGDRegressor "
            "(or wrap it with dask.array.from_array)."
        )
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got {X.ndim} dimension(s).")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {X.dtype}.")
    return X


def _target(y, lengths=False):
    """Return y as a 1-D dask array; reject several target columns."""
    if _is_dask_frame(y):
        y = y.to_dask_array(lengths=True if lengths else None)
    if isinstance(y, (da.Array, np.ndarray)):
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError(
                f"y has shape {y.shape}: no target column; give y of shape "
                "(n_samples,) or (n_samples, n_targets)."
            )
        if y.ndim not in (1, 2):
            raise ValueError(
                "y must be of shape (n_samples,) or (n_samples, n_targets); got "
                f"shape {y.shape}."
            )
        if y.ndim == 2 and isinstance(y, da.Array) and len(y.chunks[1]) > 1:
            y = y.rechunk({1: -1})  # a block holds every target of its rows
    return y


def _default_client():
    try:
        return distributed.default_client()
    except ValueError as exc:
        raise RuntimeError(
            "DaskSGDRegressor.fit needs a running dask.distributed Client and found "
            "none. Start one first, e.g. `from distributed import Client, "
            "LocalCluster; client = Client(LocalCluster())`, or connect to a "
            "cluster with `Client('tcp://scheduler:8786')`."
        ) from exc


def _run_round(client, tasks, what):
    """Compute one round of block tasks; results in block order."""
    futures = client.compute(tasks)
    try:
        return client.gather(futures)
    except distributed.KilledWorker as exc:
        raise RuntimeError(
            f"A Dask worker died while computing {what} and the scheduler gave up "
            "retrying it (distributed.scheduler.allowed-failures). The fit was "
            "abandoned; the estimator keeps no partial model."
        ) from exc
    finally:
        for f in futures:
            f.release()


def _sgd_params(est):
    return {k: getattr(est, k) for k in SGD_PARAMS}


def block_seed(base, epoch, block):
    """Return the seed of ``block`` in ``epoch`` for a fit seeded with ``base``.

    Parameters
    ----------
    base : int
        The fit's seed, drawn once from ``random_state``, in [0, 2**31).
    epoch : int
        0-based epoch (round), >= 0.
    block : int
        0-based block index, >= 0.

    Returns
    -------
    int
        A seed in [0, 2**31).
    """
    state = np.random.SeedSequence([int(base), int(epoch), int(block)])
    return int(state.generate_state(1, np.uint32)[0] % MAX_SEED)


# ----------------------------------------------------------------- local SGD
def local_sgd_block(X, y, sgd_params, state, epoch, seed, eta, planned_steps, ref):
    """Run one compiled epoch over one block, from ``state``.

    The task function of ``strategy='local_sgd'`` (and of the in-process
    replay in the tests): ``SGDRegressor.run_epochs`` for one epoch on the
    block, started from the broadcast state (exactly what ``partial_fit``
    runs).

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The block's rows (float32 or float64).
    y : ndarray of shape (n_rows,)
        Its targets.
    sgd_params : dict
        ``SGDRegressor`` parameters.
    state : tuple of ndarray
        The ``fastsgd.optim.TrainState`` fields to start from.
    epoch : int
        0-based epoch (for epoch-based schedules and the seed).
    seed : int
        Seed of the in-block shuffle.
    eta : float
        Current base learning rate (``'adaptive'`` divides it on the driver).
    planned_steps : int
        Steps planned for the run (cosine, onecycle, fractional warmup).
    ref : float or None
        The block's divergence baseline (None: computed here, first epoch).

    Returns
    -------
    tuple
        ``(state, objective, ref, diverged)``: the new state fields, the
        block's epoch objective (None if it diverged), its divergence
        baseline and whether it diverged.
    """
    import fastsgd  # the installed package: workers load its cached kernels
    from fastsgd.optim import TrainState

    start = fastsgd.RunState(
        train=TrainState(*state),
        epoch=int(epoch),
        seed=int(seed),
        eta=float(eta),
        eta0=float(sgd_params["eta0"]),
        loss_ref=ref,
        planned_steps=int(planned_steps),
    )
    est = fastsgd.SGDRegressor(**sgd_params, tol=None)
    result = est.run_epochs(np.asarray(X), np.asarray(y), start, epochs=1)
    diverged = result.divergence is not None
    objective = None if diverged else float(result.loss_curve[-1])
    return tuple(result.state.train), objective, float(result.state.loss_ref), diverged


def average_states(states, sizes):
    """Return the row-weighted mean of block states, in block order.

    Parameters
    ----------
    states : list of tuple of ndarray
        ``TrainState`` fields per block (same shapes and dtypes).
    sizes : array-like of int
        Rows per block, > 0.

    Returns
    -------
    tuple of ndarray
        The averaged fields; the int64 step counter is rounded.
    """
    weights = np.asarray(sizes, dtype=np.float64)
    weights = weights / weights.sum()
    out = []
    for fields in zip(*states, strict=True):
        acc = np.zeros(fields[0].shape, dtype=np.float64)
        for wb, f in zip(weights, fields, strict=True):
            acc += wb * f
        if fields[0].dtype.kind == "i":
            out.append(np.rint(acc).astype(fields[0].dtype))
        else:
            out.append(acc.astype(fields[0].dtype))
    return tuple(out)


def _fit_local_sgd(est, client, data, sgd):
    from .optim import TrainState

    rng = check_random_state(est.random_state)
    base = int(rng.randint(0, MAX_SEED))
    state = tuple(
        TrainState.zeros(
            data.n_features, data.dtype, est.optimizer, outputs=data.outputs
        )
    )
    nb = len(data.sizes)
    mean_rows = data.n_rows / nb
    batch = mean_rows if est.batch_size == "full" else min(est.batch_size, mean_rows)
    planned = int(est.max_iter) * int(np.ceil(mean_rows / batch))
    refs = [None] * nb
    eta = float(est.eta0)
    tol = -np.inf if est.tol is None else est.tol
    best, no_improve = np.inf, 0
    loss_curve, eta_curve = [], []
    stop, diverged = "max_iter", False
    tag = uuid.uuid4().hex[:8]
    n_run = 0
    for epoch in range(int(est.max_iter)):
        tasks = [
            dask.delayed(local_sgd_block, pure=True)(
                data.X[b],
                data.y[b],
                sgd,
                state,
                epoch,
                block_seed(base, epoch, b),
                eta,
                planned,
                refs[b],
                dask_key_name=f"fastsgd-local-sgd-{tag}-{epoch}-{b}",
            )
            for b in range(nb)
        ]
        results = _run_round(client, tasks, f"epoch {epoch + 1} of local SGD")
        n_run += 1
        refs = [r[2] for r in results]
        if any(r[3] for r in results):
            bad = [b for b, r in enumerate(results) if r[3]]
            diverged, stop = True, "diverged"
            warnings.warn(
                f"Local SGD diverged in epoch {epoch + 1} (blocks {bad}): stopped "
                "and kept the model from before that epoch. Lower eta0 (now "
                f"{est.eta0:g}) or scale the features.",
                DivergenceWarning,
                stacklevel=3,
            )
            break
        state = average_states([r[0] for r in results], data.sizes)
        objective = float(np.dot(data.sizes, [r[1] for r in results]) / data.n_rows)
        loss_curve.append(objective)
        eta_curve.append(eta)
        if est.verbose:
            print(f"-- Epoch {epoch + 1}: objective {objective:.6g}, eta {eta:.3g}")
        if objective > best - tol:
            no_improve += 1
        else:
            no_improve = 0
        best = min(best, objective)
        if no_improve >= est.n_iter_no_change:
            if est.learning_rate == "adaptive" and eta > 1e-6:
                eta /= 5.0
                no_improve = 0
            else:
                stop = "tol"
                break
    st = TrainState(*state)
    d = data.n_features
    if est.ema_decay is not None or (est.average and st.steps >= int(est.average)):
        src = st.avg
    else:
        src = st.params
    return {
        "coef_": src[..., :d].copy(),
        "intercept_": np.array(src[..., d], dtype=data.dtype).reshape(-1),
        "n_iter_": n_run if not diverged else n_run - 1,
        "t_": float(st.steps + 1),
        "loss_curve_": loss_curve,
        "eta_curve_": eta_curve,
        "stop_reason_": stop,
        "diverged_": diverged,
        "_train_state": st,
        "_planned_steps": planned,
        "_eta": eta,
    }


# --------------------------------------------------------------------- L-BFGS
def loss_grad_block(X, y, w, codes, hp):
    """Return ``(loss_sum, grad_sum)`` of one block at ``w`` (compiled kernel).

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The block's rows (float32 or float64).
    y : ndarray of shape (n_rows,)
        Its targets.
    w : ndarray of shape (n_features + 1,)
        float64 coefficients, the intercept last.
    codes : ndarray of int64
        ``[loss code, fit_intercept]``.
    hp : ndarray of float64
        ``[epsilon]``.

    Returns
    -------
    tuple
        The block's loss sum (float) and gradient sum (float64, n_features + 1).
    """
    from fastsgd._kernels import _grad, _select  # the installed package's kernel

    X, y = _block_arrays(X, y)
    ro = _select.readonly
    if y.ndim == 2:  # K targets: w (K, n_features + 1); a pass over X each
        totals = np.zeros(y.shape[1])
        grads = np.zeros((y.shape[1], X.shape[1] + 1))
        for k in range(y.shape[1]):
            wk = ro(np.ascontiguousarray(w[k], dtype=np.float64))
            yk = ro(np.ascontiguousarray(y[:, k]))
            args = (X, yk, wk, ro(codes), ro(hp), grads[k])
            totals[k] = _select.call(_grad.block_loss_grad, *args)
        return totals, grads
    grad = np.zeros(X.shape[1] + 1)
    args = (X, y, ro(np.ascontiguousarray(w, dtype=np.float64)), ro(codes), ro(hp))
    total = _select.call(_grad.block_loss_grad, *args, grad)
    return float(total), grad


def _block_arrays(X, y):
    """Return a block as the kernels take it: C order, read-only views."""
    from fastsgd._kernels._select import readonly

    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = np.ascontiguousarray(X)
    y = np.asarray(y)
    y = y if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    y = np.ascontiguousarray(y, dtype=X.dtype)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"A block of X has {X.shape[0]} rows but its block of y has "
            f"{y.shape[0]}; X and y must be split into the same row blocks."
        )
    return readonly(X), readonly(y)


def _fit_lbfgs(est, client, data):
    d = data.n_features
    fit_b = bool(est.fit_intercept)
    codes = np.array([K.LOSSES[est.loss], int(fit_b)], dtype=np.int64)
    hp = np.array([est.epsilon], dtype=np.float64)
    alpha = est.alpha if est.penalty == "l2" else 0.0
    n = data.n_rows
    tag = uuid.uuid4().hex[:8]
    evals = [0]
    cache = {}

    n_out = data.outputs or 1
    width = d + fit_b

    def objective(theta):
        key = theta.tobytes()
        if key in cache:
            return cache[key]
        if data.outputs is not None:
            return _multi_objective(theta, key)
        w = np.zeros(d + 1)
        w[: d + fit_b] = theta
        evals[0] += 1
        total, grad = _gradient_round(client, data, w, codes, hp, tag, evals[0])
        f = total / n + 0.5 * alpha * float(w[:d] @ w[:d])
        g = grad / n
        g[:d] += alpha * w[:d]
        cache.clear()
        cache[key] = (f, g[: d + fit_b].copy())
        return cache[key]

    def _multi_objective(theta, key):
        # K targets: the mean over them of each target's objective (separable:
        # each target's minimiser is its own single-target one)
        W = np.zeros((n_out, d + 1))
        W[:, :width] = theta.reshape(n_out, width)
        evals[0] += 1
        totals, grads = _gradient_round(client, data, W, codes, hp, tag, evals[0])
        coef = W[:, :d]
        f = float(np.mean(totals / n + 0.5 * alpha * np.sum(coef * coef, axis=1)))
        g = grads / n
        g[:, :d] += alpha * coef
        cache.clear()
        cache[key] = (f, (g[:, :width] / n_out).ravel())
        return cache[key]

    curve = []

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if est.verbose:
            print(f"-- L-BFGS iteration {len(curve)}: objective {curve[-1]:.6g}")

    res = scipy.optimize.minimize(
        objective,
        np.zeros(n_out * width),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={
            "maxiter": int(est.max_iter),
            "gtol": 0.0 if est.tol is None else float(est.tol),
            "ftol": 0.0 if est.tol is None else 64 * np.finfo(float).eps,
        },
    )
    theta = res.x
    if data.outputs is not None:
        theta = theta.reshape(n_out, width).T  # (d + fit_b, K)
    if res.status == 0:
        stop = "converged"
    elif res.status == 1:
        stop = "max_iter"
    else:
        stop = f"lbfgs: {res.message}"
    return _exact_result(
        data, theta[:d], theta[d] if fit_b else 0.0, int(res.nit), curve, stop
    )


def _gradient_round(client, data, w, codes, hp, tag, k):
    """Return the summed loss and gradient of every block at ``w`` (round ``k``).

    ``w``: ``(d + 1,)``, or ``(K, d + 1)`` for K targets (then the loss is
    ``(K,)`` and the gradient ``(K, d + 1)``).  The blocks are summed in a
    fixed order, so the result does not depend on which worker ends first.
    """
    tasks = [
        dask.delayed(loss_grad_block, pure=True)(
            data.X[b],
            data.y[b],
            w,
            codes,
            hp,
            dask_key_name=f"fastsgd-lbfgs-{tag}-{k - 1}-{b}",
        )
        for b in range(len(data.sizes))
    ]
    results = _run_round(client, tasks, f"gradient evaluation {k}")
    total = np.zeros(w.shape[:-1]) if w.ndim == 2 else 0.0
    grad = np.zeros(w.shape)
    for loss_b, grad_b in results:  # fixed block order
        total += loss_b
        grad += grad_b
    return total, grad


def _exact_result(data, coef, intercept, n_iter, curve, stop):
    coef = np.asarray(coef, dtype=data.dtype)
    if data.outputs is not None:  # coef (d, K) -> (K, d), one intercept each
        coef = coef.T
        intercept = np.broadcast_to(intercept, (data.outputs,))
    return {
        "coef_": np.ascontiguousarray(coef).copy(),
        "intercept_": np.array(intercept, dtype=data.dtype).reshape(-1),
        "n_iter_": n_iter,
        "t_": 1.0,
        "loss_curve_": curve,
        "eta_curve_": [],
        "stop_reason_": stop,
        "diverged_": False,
        "_train_state": None,
        "_planned_steps": 1,
        "_eta": None,
    }


# ----------------------------------------------------------- normal equations
def moments_block(X, y, center):
    """Return ``(n, mean, com)`` of ``z = [x, y]`` over one block (compiled).

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The block's rows.
    y : ndarray of shape (n_rows,)
        Its targets.
    center : bool
        Moments about the block mean (True) or about zero (False).

    Returns
    -------
    tuple
        Row count (float), mean (float64, n_features + 1) and co-moment matrix
        (float64, (n_features + 1, n_features + 1)), the target last.
    """
    from fastsgd._kernels import _grad, _select  # the installed package's kernel

    X, y = _block_arrays(X, y)
    if y.ndim == 2:
        # K targets: the moments of z = [x, y_1 .. y_K], the last target as the
        # kernel's y and the others as extra columns: (d + K) square
        X = _select.readonly(np.ascontiguousarray(np.hstack([X, y[:, :-1]])))
        y = _select.readonly(np.ascontiguousarray(y[:, -1]))
    d = X.shape[1]
    mean = np.zeros(d + 1)
    com = np.zeros((d + 1, d + 1))
    n = _select.call(_grad.block_moments, X, y, bool(center), mean, com)
    return n, mean, com


def merge_moments(parts, center):
    """Merge per-block ``(n, mean, com)`` in order (Chan et al.'s update).

    Parameters
    ----------
    parts : list of tuple
        ``moments_block`` results, in block order.
    center : bool
        Whether the moments are centered (else they are summed as they are).

    Returns
    -------
    tuple
        ``(n, mean, com)`` of the whole data.
    """
    n, mean, com = parts[0][0], parts[0][1].copy(), parts[0][2].copy()
    for nb, mb, cb in parts[1:]:
        if not center:
            n += nb
            com += cb
            continue
        total = n + nb
        delta = mb - mean
        com += cb + np.outer(delta, delta) * (n * nb / total)
        mean += delta * (nb / total)
        n = total
    return n, mean, com


def _fit_normal(est, client, data):
    d = data.n_features
    center = bool(est.fit_intercept)
    tag = uuid.uuid4().hex[:8]
    tasks = [
        dask.delayed(moments_block, pure=True)(
            data.X[b], data.y[b], center, dask_key_name=f"fastsgd-normal-{tag}-{b}"
        )
        for b in range(len(data.sizes))
    ]
    parts = _run_round(client, tasks, "the normal equations")
    n, mean, com = merge_moments(parts, center)
    if data.outputs is not None:
        return _solve_normal_targets(est, data, n, mean, com, center)
    # NaN/inf reach the moments of their own column only: the target's are
    # last, so a bad y shows there and a bad X everywhere else (checked here,
    # not in an extra pass, so that SciPy's solver never sees them)
    if not (np.isfinite(mean[d]) and np.isfinite(com[d, d])):
        raise ValueError("y contains NaN or inf; strategy='normal' needs finite data.")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(com))):
        raise ValueError(
            "X contains NaN or inf (or values whose squares overflow); "
            "strategy='normal' needs finite data."
        )
    alpha = est.alpha if est.penalty == "l2" else 0.0
    w = solve_gram(com[:d, :d], com[:d, d], n * alpha)
    intercept = mean[d] - float(mean[:d] @ w) if center else 0.0
    # objective at the solution from the moments: mean 1/2 r^2 + alpha/2 |w|^2
    rss = com[d, d] - 2.0 * float(w @ com[:d, d]) + float(w @ com[:d, :d] @ w)
    objective = 0.5 * max(rss, 0.0) / n + _objective.penalty_value(
        K.PEN_L2, w, alpha, 0.0
    )
    return _exact_result(data, w, intercept, 1, [float(objective)], "solved")


def _solve_normal_targets(est, data, n, mean, com, center):
    """Solve the normal equations of K targets with one factorisation."""
    d = data.n_features
    if not (np.all(np.isfinite(mean[d:])) and np.all(np.isfinite(np.diag(com)[d:]))):
        raise ValueError("y contains NaN or inf; strategy='normal' needs finite data.")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(com))):
        raise ValueError(
            "X contains NaN or inf (or values whose squares overflow); "
            "strategy='normal' needs finite data."
        )
    alpha = est.alpha if est.penalty == "l2" else 0.0
    G, C = com[:d, :d], com[:d, d:]
    W = solve_gram(G, C, n * alpha)  # (d, K)
    intercept = mean[d:] - mean[:d] @ W if center else np.zeros(W.shape[1])
    rss = np.diag(com)[d:] - 2.0 * np.sum(W * C, axis=0) + np.sum(W * (G @ W), axis=0)
    objective = float(
        np.mean(0.5 * np.maximum(rss, 0.0) / n + 0.5 * alpha * np.sum(W * W, axis=0))
    )
    return _exact_result(data, W, intercept, 1, [objective], "solved")


def _predict_block(X, coef, intercept):
    X = np.asarray(X)
    if X.dtype != coef.dtype:
        X = X.astype(coef.dtype)
    return X @ coef.T + intercept
