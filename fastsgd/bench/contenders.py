"""The contenders: fastsgd, scikit-learn and torch.optim, with their settings.

The per-example fastsgd and scikit-learn fits use scikit-learn's default
``learning_rate='invscaling'`` with ``eta0 = 1 / E||x||^2`` (see
:func:`per_example_eta0`), the default L2 penalty, ``tol=None`` and
``random_state=0``. The mini-batch fits use no penalty, a constant rate
(:func:`minibatch_params`) and ``shuffle=False``, exactly as the torch loop of
:func:`torch_fit`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp

from .._util import check_int

__all__ = [
    "make_fastsgd",
    "make_sklearn",
    "minibatch_params",
    "per_example_eta0",
    "sampling_params",
    "torch_fit",
    "torch_version",
    "warm_kernels",
]


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
    from ..linear_model import SGDRegressor

    return SGDRegressor(tol=None, random_state=0, **params)


def make_sklearn(**params):
    """Return scikit-learn's ``SGDRegressor(tol=None, random_state=0, **params)``."""
    from sklearn.linear_model import SGDRegressor

    return SGDRegressor(tol=None, random_state=0, **params)


#: how fastsgd can visit the rows: "default" is what ``SGDRegressor()`` does
SAMPLING_MODES = ("default", "permutation", "blocks", "inorder", "replacement")


def sampling_params(mode):
    """Return fastsgd's parameters for ``mode``, one of ``SAMPLING_MODES``.

    ``"default"`` leaves ``shuffle`` and ``sampling`` at their defaults (the
    streamed order on large data); ``"epoch"`` is accepted for
    ``"permutation"``.
    """
    if mode == "epoch":
        mode = "permutation"
    if mode not in SAMPLING_MODES:
        raise ValueError(f"mode must be one of {SAMPLING_MODES}; got {mode!r}.")
    if mode == "default":
        return {}
    if mode == "inorder":
        return {"shuffle": False}
    return {"shuffle": True, "sampling": mode}


def warm_kernels():
    """Load (or compile) both dtypes of the dense and CSR kernels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float32, np.float64):
            X = np.ones((8, 2), dtype=dtype)
            y = np.ones(8, dtype=dtype)
            make_fastsgd(max_iter=1).fit(X, y)
            make_fastsgd(max_iter=1).fit(sp.csr_matrix(X), y)


def torch_version():
    """Return torch's version, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


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
    shuffle=False,
    seed=0,
):
    """Train ``y ~ X w + b`` with ``torch.optim`` on CPU.

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
    shuffle : bool, default=False
        Rows in order (False), or batches of a new ``torch.randperm`` each
        epoch, gathered with ``index_select`` as a ``DataLoader`` with
        ``shuffle=True`` would.
    seed : int, default=0
        Seed of the permutations.

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
    batch_size = check_int("batch_size", batch_size, 1)
    epochs = check_int("epochs", epochs, 1)
    threads = check_int("threads", threads, 1)
    Xt = torch.from_numpy(np.ascontiguousarray(X))
    yt = torch.from_numpy(np.ascontiguousarray(y))
    n, d = X.shape
    w = torch.zeros(d, dtype=Xt.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=Xt.dtype, requires_grad=True)
    opt = _torch_optimizer(
        torch, optimizer, w, b, lr, momentum, betas, eps, weight_decay
    )
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(int(seed))
    try:
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen) if shuffle else None
            for start in range(0, n, batch_size):
                if perm is None:
                    xb = Xt[start : start + batch_size]
                    yb = yt[start : start + batch_size]
                else:
                    rows = perm[start : start + batch_size]
                    xb = Xt.index_select(0, rows)
                    yb = yt.index_select(0, rows)
                opt.zero_grad(set_to_none=True)
                r = xb @ w + b - yb
                loss = 0.5 * (r * r).mean()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(before)
    return w.detach().numpy().copy(), float(b.detach()[0])


def _torch_optimizer(torch, optimizer, w, b, lr, momentum, betas, eps, weight_decay):
    """Return the ``torch.optim`` optimizer; the intercept is never decayed."""
    groups = [{"params": [w]}, {"params": [b], "weight_decay": 0.0}]
    if optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr)
    if optimizer == "momentum":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum)
    if optimizer == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=betas, eps=eps)
    groups[0]["weight_decay"] = weight_decay
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
