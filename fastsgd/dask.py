"""Distributed training on a Dask cluster: :class:`DaskSGDRegressor`.

Optional: needs the ``dask`` extra (``pip install 'fastsgd[dask]'``).  The
estimator trains on a ``dask.array`` or ``dask.dataframe`` split by rows, with
the default ``distributed.Client`` (never stored on the estimator, so ``clone``
and pickling work).  Three strategies:

``'local_sgd'`` (default)
    Each block runs one compiled epoch of :class:`fastsgd.SGDRegressor` from
    the current model (the same code as ``partial_fit``); the driver averages
    the blocks' models once per epoch, weighted by block rows.  One
    synchronisation per epoch.  Accurate when the blocks are identically
    distributed; degrades badly when they are not (each block pulls towards its
    own optimum) — use ``'lbfgs'`` or ``'normal'`` then.  Measured
    (``bench/test_bench_scale.py``, 400k x 20 in 8 blocks, relative excess
    MSE after 5 epochs): 5e-4 on shuffled blocks, 5.6 on blocks sorted by
    target, where ``'lbfgs'`` and ``'normal'`` stay exact (< 1e-11).
``'lbfgs'``
    The exact full-data objective and gradient, reduced over the blocks with a
    compiled kernel (``_kernels/_grad.py``), minimised by SciPy's L-BFGS-B on
    the driver.  One pass over the data per function evaluation; robust to
    any partitioning.  Smooth objectives only: loss ``'squared_error'``,
    ``'huber'`` or ``'squared_epsilon_insensitive'``; penalty ``'l2'`` or None.
``'normal'``
    One pass computing ``X_c^T X_c`` and ``X_c^T y_c`` (per-block centered
    co-moments merged with Chan's update), then a Cholesky solve on the
    driver: the exact ridge solution.  Squared error with ``'l2'`` or no
    penalty; costs ``O(n d^2)`` work and ``O(d^2)`` memory, for moderate
    widths.

Reproducibility: block seeds derive from ``random_state``, the round and the
block index, and the driver reduces the blocks' results in block order, so two
fits with the same ``random_state`` on the same data and chunking give the same
model bit for bit, whatever the number of workers.

Workers: the tasks import ``fastsgd`` from the installed package, so each worker
process loads the compiled kernels from Numba's cache instead of receiving
pickled dispatchers (which would recompile on every worker).  Importing this
module adds ``NUMBA_NUM_THREADS=1`` to the environment Dask's nannies give the
worker processes they start afterwards (``distributed.nanny.pre-spawn-environ``,
next to Dask's own ``OMP_NUM_THREADS=1``); on a real cluster, start the
workers with :data:`WORKER_ENV` in their environment.

Failures: if a worker dies mid-round, the scheduler recomputes its tasks on
another worker (up to ``distributed.scheduler.allowed-failures`` times); each
task is a pure function of its block, the broadcast model and its seed, so the
result is the same.  If the scheduler gives up, ``fit`` raises a
``RuntimeError`` and the estimator keeps no partial model.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._dask_blocks import (
    MAX_SEED,
    SGD_PARAMS,
    _Blocks,
    _default_client,
    _features,
    _fit_lbfgs,
    _fit_local_sgd,
    _fit_normal,
    _predict_block,
    _sgd_params,
    _target,
)
from ._training import RunState, check_params
from .linear_model import SGDRegressor
from .schedules import base_rate

try:
    import dask
    import dask.array as da
    import distributed  # noqa: F401  (the strategies need it: fail here)
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "fastsgd.dask needs Dask: install it with `pip install 'fastsgd[dask]'` "
        "(dask[array,dataframe,distributed])."
    ) from exc

__all__ = ["WORKER_ENV", "DaskSGDRegressor"]

#: Environment for Dask worker processes: one Numba thread per worker process,
#: the parallelism comes from Dask's worker threads and processes.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1"}

dask.config.update_defaults(
    {"distributed": {"nanny": {"pre-spawn-environ": dict(WORKER_ENV)}}}
)

STRATEGIES = ("local_sgd", "lbfgs", "normal")


class DaskSGDRegressor(RegressorMixin, BaseEstimator):
    """Linear regression by fastsgd on a Dask cluster, data split by rows.

    The model and its objective are :class:`fastsgd.SGDRegressor`'s:
    ``mean_i loss(y_i, x_i w + b) + penalty(w)`` (no sample weights).  The
    optimizer parameters below have ``SGDRegressor``'s names, defaults and
    meanings and are used by ``strategy='local_sgd'``; ``loss``, ``penalty``,
    ``alpha``, ``epsilon`` and ``fit_intercept`` define the objective for every
    strategy.

    Parameters
    ----------
    strategy : {'local_sgd', 'lbfgs', 'normal'}, default='local_sgd'
        ``'local_sgd'``: every block runs one compiled epoch from the current
        model and the driver averages the block models (weighted by rows)
        once per epoch.  ``'lbfgs'``: SciPy's L-BFGS-B on the exact gradient
        reduced over blocks.  ``'normal'``: one pass for the normal equations
        and a Cholesky solve.  See the module docstring for when to use which.
    loss : {'squared_error', 'huber', 'epsilon_insensitive', \
'squared_epsilon_insensitive'}, default='squared_error'
        As ``SGDRegressor``. ``'lbfgs'`` excludes ``'epsilon_insensitive'``
        (not differentiable); ``'normal'`` needs ``'squared_error'``.
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
        As ``SGDRegressor``; ``'lbfgs'`` and ``'normal'`` take ``'l2'`` or None.
    alpha : float, default=0.0001
        Penalty strength, in [0, inf): the objective adds ``alpha/2 ||w||^2``
        for ``'l2'``.
    l1_ratio : float, default=0.15
        Elastic-net mixing in [0, 1].
    fit_intercept : bool, default=True
        Whether to fit the (never penalised) intercept.
    max_iter : int, default=100
        Maximum epochs (``'local_sgd'``: one pass and one averaging each) or
        L-BFGS iterations (``'lbfgs'``), >= 1.  Unused by ``'normal'``.
    tol : float or None, default=1e-3
        ``'local_sgd'``: stop when the epoch objective has not improved by
        ``tol`` for ``n_iter_no_change`` epochs. ``'lbfgs'``: stop when the
        largest gradient component is below ``tol``.  None disables the rule.
        In [0, inf).
    n_iter_no_change : int, default=5
        Epochs without improvement before ``'local_sgd'`` stops, >= 1.
    shuffle : bool, default=True
        Shuffle the rows inside each block every epoch.
    verbose : int, default=0
        Print a line per epoch (or L-BFGS iteration) when > 0.
    epsilon : float, default=0.1
        Huber threshold or insensitive-zone width, in [0, inf).
    random_state : int, RandomState instance or None, default=None
        Seeds the block shuffles: block ``b`` in epoch ``r`` uses a seed
        derived from ``(random_state, r, b)``.
    learning_rate : str, default='invscaling'
        Schedule, as ``SGDRegressor`` (``'adaptive'`` divides by 5 on the
        driver when the stopping rule fires). ``'auto'`` is not supported by
        ``strategy='local_sgd'`` (a ``ValueError``).
    eta0 : float, default=0.01
        Initial learning rate, in (0, inf).
    power_t : float, default=0.25
        Exponent of ``'invscaling'``.
    average : bool or int, default=False
        Polyak averaging inside the block epochs (the averages are averaged).
    batch_size : int or 'full', default=1
        Rows per step inside a block, >= 1, or ``'full'`` (one step per block
        and epoch).
    optimizer : {'sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', \
'adamw'}, default='sgd'
        Update rule, as ``SGDRegressor``.
    momentum : float, default=0.9
        In [0, 1).
    rho : float, default=0.99
        In [0, 1).
    beta1 : float, default=0.9
        In [0, 1).
    beta2 : float, default=0.999
        In [0, 1).
    eps : float, default=1e-8
        In (0, inf).
    weight_decay : float or None, default=None
        Decoupled decay, in [0, inf); None is 0.01 for ``'adamw'``, else 0.
    clip_norm : float or None, default=None
        Global-norm clip of each step's gradient, in (0, inf).
    ema_decay : float or None, default=None
        EMA of the iterates, in (0, 1).
    warmup : int or float, default=0
        Linear warmup in steps (or a fraction in (0, 1) of the planned steps).
    gamma : float, default=0.1
        ``'step'`` schedule factor, in (0, 1].
    step_every : int, default=10
        ``'step'`` schedule period in epochs, >= 1.
    eta_min : float, default=0.0
        ``'cosine'`` floor, in [0, inf).
    pct_start : float, default=0.3
        ``'onecycle'`` warm-up fraction, in (0, 1).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weights, in the dtype of the training data (float32 or float64).
    intercept_ : ndarray of shape (1,) or (n_targets,)
        Intercept.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X is a dask DataFrame with string column names.
    n_iter_ : int
        Epochs (``'local_sgd'``), L-BFGS iterations, or 1 (``'normal'``).
    t_ : float
        ``'local_sgd'``: the (row-weighted mean) step counter plus one.
    loss_curve_ : list of float
        Objective per epoch (``'local_sgd'``: the row-weighted mean of the
        blocks' epoch objectives; ``'lbfgs'``: the exact objective after each
        iteration; ``'normal'``: the objective at the solution).
    eta_curve_ : list of float
        ``'local_sgd'``: the base learning rate of each epoch.
    n_blocks_ : int
        Row blocks the data was split into.
    stop_reason_ : str
        ``'max_iter'``, ``'tol'``, ``'diverged'``, ``'solved'`` (normal
        equations) or L-BFGS's ``'converged'`` / ``'lbfgs: <message>'``.
    diverged_ : bool
        Whether a ``'local_sgd'`` epoch diverged (the model of the epoch
        before is kept, with a :class:`fastsgd.DivergenceWarning`).

    Notes
    -----
    Optimizer state in ``'local_sgd'``: every block starts the epoch from the
    same averaged state — parameters, the optimizer's moment slots (momentum,
    AdaGrad / RMSProp / Adam moments), the Polyak / EMA average, the
    cumulative L1 record and the step counter — and after the epoch the driver
    replaces all of them by their row-weighted mean over the blocks (the step
    counter rounded to an integer).  So schedules advance by the steps of an
    average block per epoch, not by the steps of the whole data.

    Each epoch (and each L-BFGS function evaluation) computes X's blocks from
    their graph: persist ``X`` and ``y`` first when they fit in the cluster's
    memory; otherwise every epoch re-reads them from their source (files,
    Parquet, ...), which is how data larger than the cluster's memory trains.
    Arrays made with ``dask.array.from_array`` carry their data inside the
    graph: persist them, or each epoch sends the data again.

    ``predict`` returns a lazy ``dask.array``; :meth:`to_local` returns an
    equivalent, fitted :class:`fastsgd.SGDRegressor` for in-memory use.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from fastsgd.dask import DaskSGDRegressor
    >>> with LocalCluster(n_workers=2, threads_per_worker=1) as cluster:
    ...     with Client(cluster):
    ...         X = da.random.default_rng(0).standard_normal((100_000, 5),
    ...                                                      chunks=25_000)
    ...         y = X @ da.from_array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1
    ...         model = DaskSGDRegressor(strategy="normal").fit(X, y)
    ...         pred = model.predict(X)  # lazy
    >>> model.coef_.round(3)  # doctest: +SKIP
    array([ 1. , -2. ,  0.5,  0. ,  3. ])
    """

    _parameter_constraints: dict = {
        **{k: SGDRegressor._parameter_constraints[k] for k in SGD_PARAMS},
        "strategy": [StrOptions(set(STRATEGIES))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        strategy="local_sgd",
        *,
        loss="squared_error",
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=100,
        tol=1e-3,
        n_iter_no_change=5,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        average=False,
        batch_size=1,
        optimizer="sgd",
        momentum=0.9,
        rho=0.99,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        weight_decay=None,
        clip_norm=None,
        ema_decay=None,
        warmup=0,
        gamma=0.1,
        step_every=10,
        eta_min=0.0,
        pct_start=0.3,
    ):
        self.strategy = strategy
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.average = average
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.momentum = momentum
        self.rho = rho
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.clip_norm = clip_norm
        self.ema_decay = ema_decay
        self.warmup = warmup
        self.gamma = gamma
        self.step_every = step_every
        self.eta_min = eta_min
        self.pct_start = pct_start

    # ------------------------------------------------------------------ fit
    def fit(self, X, y):
        """Fit the linear model on Dask data, with the default client.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame of shape \
(n_samples, n_features)
            Training data split by rows (one block of columns; several are
            rechunked).  Array chunk sizes must be known.
        y : dask.array.Array, dask.dataframe.Series or one-column DataFrame \
of shape (n_samples,)
            Targets, split into the same row blocks as X.

        Returns
        -------
        self : DaskSGDRegressor
            The fitted estimator.

        Raises
        ------
        RuntimeError
            If no ``distributed.Client`` is running, or a worker was lost
            more often than the scheduler allows.
        ValueError
            Unknown chunk sizes, several target columns, X and y split
            differently, options the strategy does not support, or (with
            ``'normal'``) NaN or inf in X or y.
        """
        self._validate_params()
        self._check_strategy_options()
        client = _default_client()
        data = _Blocks.from_inputs(X, y)
        sgd = _sgd_params(self)
        if self.strategy == "local_sgd":
            result = _fit_local_sgd(self, client, data, sgd)
        elif self.strategy == "lbfgs":
            result = _fit_lbfgs(self, client, data)
        else:
            result = _fit_normal(self, client, data)
        # set the fitted attributes only once everything has succeeded
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, key)
        for key, value in result.items():
            setattr(self, key, value)
        self.n_features_in_ = data.n_features
        if data.feature_names is not None:
            self.feature_names_in_ = data.feature_names
        self.n_blocks_ = len(data.sizes)
        if self.tol is not None and self.stop_reason_ == "max_iter":
            warnings.warn(
                "Maximum number of iteration reached before convergence. "
                "Consider increasing max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _check_strategy_options(self):
        check_params(_sgd_params(self), for_partial_fit=True)
        if self.strategy == "local_sgd" and self.learning_rate == "auto":
            # its per-feature state (running means, scales, accumulators,
            # update counts) has no meaningful average across blocks
            raise ValueError(
                "learning_rate='auto' is not supported by strategy='local_sgd' "
                "(its per-feature state cannot be averaged across blocks). Use "
                "strategy='lbfgs' or 'normal' (they need no learning rate), or "
                "another learning_rate with scaled features."
            )
        if self.strategy == "lbfgs":
            if self.loss == "epsilon_insensitive":
                raise ValueError(
                    "strategy='lbfgs' needs a differentiable loss: 'squared_error', "
                    "'huber' or 'squared_epsilon_insensitive', not "
                    "'epsilon_insensitive'."
                )
            if self.penalty not in ("l2", None):
                raise ValueError(
                    f"strategy='lbfgs' supports penalty 'l2' or None, not "
                    f"{self.penalty!r} (use strategy='local_sgd' for L1)."
                )
        elif self.strategy == "normal":
            if self.loss != "squared_error":
                raise ValueError(
                    f"strategy='normal' solves least squares: loss must be "
                    f"'squared_error', not {self.loss!r}."
                )
            if self.penalty not in ("l2", None):
                raise ValueError(
                    f"strategy='normal' supports penalty 'l2' or None, not "
                    f"{self.penalty!r}."
                )

    # -------------------------------------------------------------- predict
    def predict(self, X):
        """Predict lazily.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame of shape \
(n_samples, n_features)
            Input data (unknown chunk sizes are fine here).

        Returns
        -------
        dask.array.Array of shape (n_samples,)
            Lazy predictions, one block per row block of X, in the model's
            dtype.
        """
        check_is_fitted(self)
        X = _features(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        dtype = self.coef_.dtype
        if self.coef_.ndim == 2:  # K targets: (n, K) blocks
            return X.map_blocks(
                _predict_block,
                self.coef_,
                self.intercept_,
                chunks=(X.chunks[0], (self.coef_.shape[0],)),
                dtype=dtype,
                meta=np.empty((0, 0), dtype=dtype),
            )
        return X.map_blocks(
            _predict_block,
            self.coef_,
            self.intercept_[0],
            drop_axis=1,
            dtype=dtype,
            meta=np.empty((0,), dtype=dtype),
        )

    def score(self, X, y):
        """Return R^2 of the predictions, computed on the cluster.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame of shape \
(n_samples, n_features)
            Test data.
        y : dask.array.Array or dask.dataframe.Series of shape (n_samples,)
            True targets.

        Returns
        -------
        float
            The coefficient of determination (1 is perfect).
        """
        X = _features(X, "X", lengths=True)
        y = _target(y, lengths=True)
        pred = self.predict(X).astype(np.float64)
        y = da.asarray(y).astype(np.float64)
        if y.shape != pred.shape:
            raise ValueError(
                f"y has shape {y.shape}; expected {pred.shape}, one target per row."
            )
        if y.chunks != pred.chunks:
            y = y.rechunk(pred.chunks)
        if y.ndim == 2:  # K targets: the uniform average of their R^2
            ss_res, ss_tot = dask.compute(
                ((y - pred) ** 2).sum(axis=0), ((y - y.mean(axis=0)) ** 2).sum(axis=0)
            )
            scores = [
                (1.0 if r == 0 else 0.0) if t <= 0 else 1.0 - r / t
                for r, t in zip(ss_res, ss_tot, strict=True)
            ]
            return float(np.mean(scores))
        ss_res, ss_tot = dask.compute(
            ((y - pred) ** 2).sum(), ((y - y.mean()) ** 2).sum()
        )
        if ss_tot <= 0:
            return 1.0 if ss_res == 0 else 0.0
        return float(1.0 - ss_res / ss_tot)

    def to_local(self):
        """Return an equivalent, fitted :class:`fastsgd.SGDRegressor`.

        Its ``predict`` gives the same numbers on NumPy data; its
        ``partial_fit`` continues from this model (and, for ``'local_sgd'``,
        from its averaged optimizer state and step counter).

        Returns
        -------
        SGDRegressor
            A plain in-memory estimator with the same parameters.
        """
        check_is_fitted(self)
        est = SGDRegressor(
            **_sgd_params(self),
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=self.verbose,
            random_state=self.random_state,
        )
        dtype = self.coef_.dtype
        d = self.coef_.shape[-1]
        # the seed a fit with this random_state would draw (as before)
        seed = int(check_random_state(self.random_state).randint(0, MAX_SEED))
        state = RunState.start(
            d,
            dtype,
            self.optimizer,
            eta0=base_rate(self.learning_rate, self.eta0),
            seed=seed,
            coef=self.coef_,
            intercept=self.intercept_,
            outputs=self.coef_.shape[0] if self.coef_.ndim == 2 else None,
            learning_rate=self.learning_rate,
        )
        if self._train_state is not None:
            state.train.restore(self._train_state)
        state.planned_steps = self._planned_steps
        state.eta = float(self.eta0) if self._eta is None else self._eta
        est.set_run_state(state)
        est.coef_ = self.coef_.copy()
        est.intercept_ = self.intercept_.copy()
        est.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            est.feature_names_in_ = self.feature_names_in_
        est.n_iter_ = self.n_iter_
        est.loss_curve_ = list(self.loss_curve_)
        est.eta_curve_ = list(self.eta_curve_)
        est.stop_reason_ = self.stop_reason_
        est.diverged_ = self.diverged_
        return est
