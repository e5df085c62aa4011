"""Problems and a temporary estimator for learning_rate="auto" (issue 15).

``AutoSGDRegressor`` is ``fastsgd.SGDRegressor`` with ``learning_rate="auto"``
wired the way the estimator is meant to wire it (state rows, scratch rows,
codes and ``hp``): the real training loop, stopping rules and divergence
guard run unchanged.  It lives here, not in the package, until the estimator
exposes the option.

Problems (each returns ``X_train, X_test, y_train, y_test``):

- :func:`diabetes`: scikit-learn's diabetes data, unscaled, a 75/25 split;
- :func:`wide_scales`: correlated columns (AR(1), rho 0.8) of scales 1e-3 to
  1e4, most with offsets of 1 to 100 times their scale;
- :func:`text_like`: a hashed bag of words: 8192 tokens of Zipf popularity
  hashed into 2^18 columns, ~18 stored values a row, tf-idf values.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import StrOptions

from fastsgd import SGDRegressor, closed_form
from fastsgd._kernels import _codes as K
from fastsgd._kernels import _select


class AutoSGDRegressor(SGDRegressor):
    """SGDRegressor that also accepts ``learning_rate="auto"`` (temporary)."""

    _parameter_constraints = {
        **SGDRegressor._parameter_constraints,
        "learning_rate": [StrOptions({*K.SCHEDULES, "auto"})],
    }

    def _auto(self):
        return self.learning_rate == "auto"

    def _init_state(self, n_features, dtype, coef_init, intercept_init):
        super()._init_state(n_features, dtype, coef_init, intercept_init)
        if self._auto():
            rows = K.state_rows(K.OPTIMIZERS[self.optimizer], K.LR_AUTO)
            opt = np.zeros((rows, n_features + 1), dtype=dtype)
            self._state = self._state._replace(opt=opt)
            self._eta = self._eta0_seen = K.AUTO_ETA0

    def _codes_and_hparams(self, m, steps_per_epoch, fitting):
        if not self._auto():
            return super()._codes_and_hparams(m, steps_per_epoch, fitting)
        self.learning_rate = "constant"
        try:
            codes, hp = super()._codes_and_hparams(m, steps_per_epoch, fitting)
        finally:
            self.learning_rate = "auto"
        codes[K.C_SCHEDULE] = K.LR_AUTO
        return codes, hp

    def _scratch_shape(self, X, key):
        rows = _select.scratch_rows(key)
        if rows:
            return (rows, X.shape[1] + 1)
        return super()._scratch_shape(X, key)


def diabetes(seed):
    """Return scikit-learn's diabetes data, unscaled, split 75/25 by ``seed``."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True, scaled=False)
    return train_test_split(X, y, test_size=0.25, random_state=seed)


def wide_scales(seed, n_train=20_000, n_test=10_000, d=20, rho=0.8):
    """Return correlated columns of scales 1e-3..1e4 with offsets."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    Z = np.empty((n, d))
    Z[:, 0] = rng.standard_normal(n)
    for j in range(1, d):
        Z[:, j] = rho * Z[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    scale = 10.0 ** rng.uniform(-3, 4, d)
    offset = scale * np.where(rng.random(d) < 0.3, 0.0, 10.0 ** rng.uniform(0, 2, d))
    offset *= rng.choice([-1.0, 1.0], d)
    X = offset + scale * Z
    y = Z @ rng.standard_normal(d) + 3.0 + rng.standard_normal(n)
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def text_like(
    seed, n_train=200_000, n_test=50_000, n_cols=2**18, vocab=8192, nnz=20, noise=1.0
):
    """Return a hashed bag of words (Zipf popularity, tf-idf values), CSR."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    pop = 1.0 / np.arange(1, vocab + 1)
    pop /= pop.sum()
    idf = np.log(1.0 / pop)
    idf /= idf.mean()
    cols = rng.choice(n_cols, size=vocab, replace=False)
    lens = np.clip(rng.poisson(nnz, n), 1, None)
    tok = rng.choice(vocab, size=int(lens.sum()), p=pop)
    row = np.repeat(np.arange(n), lens)
    A = sp.coo_matrix((np.ones(tok.size), (row, tok)), shape=(n, vocab)).tocsr()
    A.sum_duplicates()
    A.data = (1.0 + np.log(A.data)) * idf[A.indices]
    y = A @ (0.5 * rng.standard_normal(vocab)) + 1.0 + noise * rng.standard_normal(n)
    A = A.tocoo()
    X = sp.csr_matrix((A.data, (A.row, cols[A.col])), shape=(n, n_cols))
    X.sort_indices()
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def optimum(X, y, alpha=0.0):
    """Return ``closed_form`` on the columns used in training (others 0)."""
    if sp.issparse(X):
        used = np.unique(X.indices)
        coef = np.zeros(X.shape[1])
        c, b = closed_form(X[:, used], y, alpha=alpha)
        coef[used] = c
        return coef, float(b)
    c, b = closed_form(X, y, alpha=alpha)
    return np.asarray(c, dtype=float), float(b)


def mse(X, y, coef, intercept):
    """Return the mean squared error of ``X coef + intercept``."""
    pred = np.asarray(X @ np.asarray(coef, dtype=float)).ravel() + float(intercept)
    return float(np.mean((pred - y) ** 2))


# ------------------------------------------------------------- Vowpal Wabbit
def vw_lines(X, y=None):
    """Return VW text lines (one namespace ``f``, column numbers as features)."""
    X = X.tocsr()
    ip, ix, dv = X.indptr, X.indices, X.data
    out = []
    for i in range(X.shape[0]):
        feats = " ".join(f"{ix[k]}:{dv[k]:.9g}" for k in range(ip[i], ip[i + 1]))
        label = "" if y is None else f"{y[i]:.9g} "
        out.append(f"{label}|f {feats}")
    return out


def vw_args(data, cache, passes, lr, bits=18, noop=False):
    """Return VW's arguments: squared loss, defaults otherwise, no holdout."""
    args = [
        "--quiet", "--data", str(data), "--cache_file", str(cache),
        "--passes", str(passes), "--holdout_off", "-l", str(lr),
        "--loss_function", "squared", "-b", str(bits),
    ]  # fmt: skip
    if noop:
        args.append("--noop")
    return args
