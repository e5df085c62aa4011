"""``SGDRegressor``: scikit-learn's estimator, trained by compiled epochs.

This is the one module that speaks scikit-learn.  It validates once at the
boundary, then runs one compiled call per epoch (``_kernels.epoch_dense`` or
``_kernels.epoch_csr``) and does only per-epoch work in Python: the stopping
rules, the history, the divergence check and the validation score.
"""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from . import _objective
from ._kernels import _codes as K
from ._kernels import _select
from ._sparse_check import check_sparse_structure
from .optim import TrainState, optimizer_hparams
from .schedules import schedule_hparams

__all__ = ["SGDRegressor", "DivergenceWarning"]

MAX_INT = np.iinfo(np.int32).max
# rows per block for sampling="blocks" (a block of 256 rows of 100 float64
# features is 200 KiB: read in order, it streams like an in-order epoch)
BLOCK_ROWS = 256
# bytes of random rows copied at a time by a shuffled epoch
GATHER_BYTES = 64 * 1024
# ... and, for mini-batches, only rows up to this size (wider rows: no gain)
GATHER_MAX_BATCH_ROW_BYTES = 4096
# threads pay for themselves only on large batches: below this many rows per
# batch the parallel region's start-up costs more than it saves (measured on 2
# cores, 100 and 1000 features: 1.06-1.29x at 64 rows, 1.33-1.42x at 256,
# 1.8-2.0x from 1024 on; when the other core is busy, slower at any size)
PARALLEL_MIN_BATCH = 256
PARALLEL_MIN_ROWS_PER_THREAD = 128
# Numba's default "workqueue" threading layer aborts the process when two Python
# threads enter a parallel kernel at once: parallel epochs take turns
_PARALLEL_LOCK = threading.Lock()
# an epoch whose mean loss exceeds the loss of the starting model by this
# factor has diverged: residuals 100x those of the start, for a squared loss
DIVERGENCE_FACTOR = 1e4
# rows the end-of-epoch model is measured on (a blow-up is orders of
# magnitude: an even spread of a few hundred rows shows it)
PROBE_ROWS = 256
# the same residuals for the losses that grow linearly (huber,
# epsilon_insensitive): with 1e4 they went unflagged at R^2 = -2e5
LINEAR_FACTOR = 1e2
SQUARED_LOSSES = ("squared_error", "squared_epsilon_insensitive")


class DivergenceWarning(RuntimeWarning):
    """Training diverged; the estimator kept the last finite coefficients."""


class SGDRegressor(RegressorMixin, BaseEstimator):
    """Linear regression by stochastic gradient methods, in compiled epochs.

    A drop-in superset of :class:`sklearn.linear_model.SGDRegressor`: every
    parameter of scikit-learn's class has the same name, default and meaning
    here; the parameters after ``average`` are fastsgd's additions (mini-batches,
    full-batch gradient descent, momentum, Nesterov, AdaGrad, RMSProp, Adam and
    AdamW, more schedules, clipping, EMA averaging and training history).

    The model minimises ``mean_i sw_i loss(y_i, x_i w + b) + penalty(w)``; the
    intercept ``b`` is never penalised or decayed.

    Parameters
    ----------
    loss : {'squared_error', 'huber', 'epsilon_insensitive', \
'squared_epsilon_insensitive'}, default='squared_error'
        ``squared_error`` is ``(p - y)^2 / 2``; ``huber`` is quadratic within
        ``epsilon`` of the target and linear beyond; the epsilon-insensitive
        losses ignore errors below ``epsilon`` (linearly or squared beyond).
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
        L2 is the coupled gradient ``alpha w`` (for Adam this is the classic
        "Adam + L2"; use ``weight_decay`` for decoupled decay). L1 uses the
        cumulative truncated-gradient method (Tsuruoka et al., 2009) as
        scikit-learn does, for every optimizer.
    alpha : float, default=0.0001
        Penalty strength, in [0, inf). Also sets the rate of ``'optimal'``.
    l1_ratio : float, default=0.15
        Elastic-net mixing in [0, 1]: 0 is L2, 1 is L1.
    fit_intercept : bool, default=True
        Whether to fit the intercept.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data), >= 1. With
        ``batch_size='full'`` an epoch is one gradient-descent step.
    tol : float or None, default=1e-3
        Stop when the epoch objective (or, with early stopping, the validation
        score) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
        ``None`` disables the rule. In [0, inf).
    shuffle : bool, default=True
        Whether to visit the rows in a new random order each epoch. ``False``
        visits them in the order given.
    verbose : int, default=0
        Print a line per epoch when > 0.
    epsilon : float, default=0.1
        Width of the insensitive zone, or Huber's threshold, in [0, inf).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split.
    learning_rate : str, default='invscaling'
        Schedule of the step size ``eta`` at 1-based step ``t``:

        - ``'constant'``: ``eta0``;
        - ``'optimal'``: ``1 / (alpha (t0 + t - 1))`` (Bottou's heuristic t0);
        - ``'invscaling'``: ``eta0 / t ** power_t``;
        - ``'adaptive'``: ``eta0``, divided by 5 each time the stopping rule
          fires, until it falls below 1e-6;
        - ``'pa1'``, ``'pa2'``: passive-aggressive steps (epsilon-insensitive
          loss, per-example SGD only), as scikit-learn;
        - ``'step'``: ``eta0 * gamma ** floor(epoch / step_every)``;
        - ``'cosine'``: from ``eta0`` to ``eta_min`` along a half cosine over
          the planned ``max_iter`` epochs, then ``eta_min``;
        - ``'onecycle'``: up from ``eta0 / 25`` to ``eta0`` over the first
          ``pct_start`` of the run, then down to ``eta0 / 25e4`` (PyTorch's
          OneCycleLR with cosine annealing).
    eta0 : float, default=0.01
        Initial (or peak) learning rate, in (0, inf).
    power_t : float, default=0.25
        Exponent of ``'invscaling'``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its R^2
        stops improving (see ``tol``).
    validation_fraction : float, default=0.1
        Fraction held out for early stopping, in (0, 1).
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping, >= 1.
    warm_start : bool, default=False
        Start ``fit`` from the previous ``coef_`` and ``intercept_``. As in
        scikit-learn the step counter, the schedule and the optimizer state
        start afresh; ``partial_fit`` keeps all of them.
    average : bool or int, default=False
        Polyak averaging: ``coef_`` is the mean of the iterates from step
        ``average`` on (``True`` means 1).
    batch_size : int or 'full', default=1
        Rows per step, >= 1. The gradient is the (sample-weighted) mean over
        the batch; the last, partial batch of an epoch is used, not dropped.
        ``'full'`` (or any value >= the number of training rows) is full-batch
        gradient descent: one step per epoch.
    optimizer : {'sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', \
'adamw'}, default='sgd'
        Update rule, with ``g`` the gradient (loss + coupled L2, clipped):
        momentum ``v <- beta v + g, w <- w - eta v``; nesterov
        ``w <- w - eta (g + beta v)``; adagrad ``s <- s + g^2``; rmsprop
        ``s <- rho s + (1 - rho) g^2``, both ``w <- w - eta g / (sqrt(s) +
        eps)``; adam and adamw: bias-corrected moments, ``w <- w - eta m_hat /
        (sqrt(v_hat) + eps)``. These are torch.optim's conventions.
    momentum : float, default=0.9
        ``beta`` of momentum and Nesterov, in [0, 1).
    rho : float, default=0.99
        RMSProp's decay, in [0, 1).
    beta1 : float, default=0.9
        Adam's first-moment decay, in [0, 1).
    beta2 : float, default=0.999
        Adam's second-moment decay, in [0, 1).
    eps : float, default=1e-8
        Denominator guard of AdaGrad, RMSProp and Adam, in (0, inf).
    weight_decay : float or None, default=None
        Decoupled decay ``w <- (1 - eta lambda) w`` for every optimizer, in
        [0, inf). ``None`` means 0.01 for ``'adamw'`` (torch's default) and 0
        otherwise.
    clip_norm : float or None, default=None
        Clip each step's gradient to this global L2 norm, in (0, inf).
    ema_decay : float or None, default=None
        Report an exponential moving average of the iterates with this decay,
        in (0, 1). Cannot be combined with ``average``.
    sampling : {'epoch', 'blocks', 'replacement'}, default='epoch'
        How a shuffled epoch visits rows. ``'epoch'``: a new permutation each
        epoch (scikit-learn's). ``'blocks'``: the training rows are copied
        once in a random order, then each epoch visits blocks of 256 rows in a
        new random order, rows within a block in order — memory-friendly
        reads for one extra copy of the training data. ``'replacement'``:
        each step draws rows uniformly with replacement (the streaming view).
        Requires ``shuffle=True``.
    warmup : int or float, default=0
        Linear warmup composed with any schedule: the rate is multiplied by
        ``t / warmup`` during the first ``warmup`` steps. A float in (0, 1)
        is a fraction of the planned steps.
    gamma : float, default=0.1
        Factor of the ``'step'`` schedule, in (0, 1].
    step_every : int, default=10
        Epochs between the ``'step'`` schedule's reductions, >= 1.
    eta_min : float, default=0.0
        Floor of the ``'cosine'`` schedule, in [0, inf).
    pct_start : float, default=0.3
        Fraction of the run that ``'onecycle'`` spends warming up, in (0, 1).
    grad_tol : float or None, default=None
        With full-batch descent, stop when the gradient norm falls below this,
        in [0, inf). ``stop_reason_`` tells which rule stopped the run.
    record_every : int, default=0
        Record the mean loss of every ``record_every`` steps inside the
        compiled epoch (``step_loss_curve_``); 0 turns it off.
    restore_best_weights : bool, default=False
        With early stopping, end with the weights of the best validation
        score instead of the last ones (as MLPRegressor does).
    n_jobs : int or None, default=None
        Threads for the gradient of a mini-batch (dense input, batches of at
        least 256 rows; smaller batches run serially because starting the
        threads costs more than they save). ``None`` means 1, ``-1`` all
        cores. The threads used are also capped by Numba's
        ``NUMBA_NUM_THREADS``, which joblib sets to 1 in its worker
        processes (``GridSearchCV(n_jobs=...)``): there a fit runs serially.
        A given thread count always gives the same model; different counts
        differ by floating-point rounding (about 1e-16 relative).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights, in the dtype of the training data (float32 or float64).
    intercept_ : ndarray of shape (1,)
        Intercept.
    n_iter_ : int
        Epochs run by the last ``fit`` (1 for ``partial_fit``), including
        epochs a divergence rolled back.
    t_ : float
        Number of weight updates performed plus one (scikit-learn's counter).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    loss_curve_ : list of float
        Per epoch, the mean training loss of the rows as they were visited,
        plus the penalty at the end of the epoch.  After a divergence, only
        the epochs of the model kept (the rolled-back ones are dropped, as from
        ``eta_curve_``, ``validation_scores_`` and ``step_loss_curve_``).
        With ``batch_size='full'`` an epoch's loss is that of the model before
        its one step.
    validation_scores_ : list of float or None
        Per epoch R^2 on the held-out data (early stopping), else None.
    eta_curve_ : list of float
        Mean learning rate used in each epoch.
    step_loss_curve_ : ndarray
        Mean loss of every ``record_every`` steps (empty when off).
    stop_reason_ : str
        ``'max_iter'``, ``'tol'``, ``'grad_tol'``, ``'early_stopping'`` or
        ``'diverged'``.
    best_score_ : float or None
        Best validation R^2 with early stopping, among the epochs kept (None
        when a divergence discarded them all).
    diverged_ : bool
        Whether training diverged: it stopped, kept the coefficients from
        before the blow-up and warned with a ``DivergenceWarning``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd import SGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.1
    >>> model = SGDRegressor(random_state=0).fit(X, y)
    >>> np.round(model.coef_, 1)
    array([ 1. , -2. ,  0.5])
    """

    _parameter_constraints: dict = {
        "loss": [StrOptions(set(K.LOSSES))],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "learning_rate": [StrOptions(set(K.SCHEDULES))],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"full"}),
        ],
        "optimizer": [StrOptions(set(K.OPTIMIZERS))],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "beta1": [Interval(Real, 0, 1, closed="left")],
        "beta2": [Interval(Real, 0, 1, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "ema_decay": [Interval(Real, 0, 1, closed="neither"), None],
        "sampling": [StrOptions({"epoch", "blocks", "replacement"})],
        "warmup": [
            Interval(Integral, 0, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "step_every": [Interval(Integral, 1, None, closed="left")],
        "eta_min": [Interval(Real, 0, None, closed="left")],
        "pct_start": [Interval(Real, 0, 1, closed="neither")],
        "grad_tol": [Interval(Real, 0, None, closed="left"), None],
        "record_every": [Interval(Integral, 0, None, closed="left")],
        "restore_best_weights": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
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
        sampling="epoch",
        warmup=0,
        gamma=0.1,
        step_every=10,
        eta_min=0.0,
        pct_start=0.3,
        grad_tol=None,
        record_every=0,
        restore_best_weights=False,
        n_jobs=None,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
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
        self.sampling = sampling
        self.warmup = warmup
        self.gamma = gamma
        self.step_every = step_every
        self.eta_min = eta_min
        self.pct_start = pct_start
        self.grad_tol = grad_tol
        self.record_every = record_every
        self.restore_best_weights = restore_best_weights
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ checks
    def _check_params(self, for_partial_fit=False):
        """Cross-parameter rules that ``_parameter_constraints`` cannot say."""
        for name in ("max_iter", "batch_size", "average", "record_every", "warmup"):
            value = getattr(self, name)
            if isinstance(value, Integral) and value >= 2**62:
                # the kernels read counts as int64
                raise ValueError(f"{name}={value} is too large (at most 2**62 - 1).")
        if self.early_stopping and for_partial_fit:
            raise ValueError("early_stopping should be False with partial_fit")
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used "
                "to compute the optimal learning rate."
            )
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if self.learning_rate in ("pa1", "pa2"):
            if self.loss != "epsilon_insensitive":
                raise ValueError(
                    f"Learning rate '{self.learning_rate}' only works with loss "
                    "'epsilon_insensitive'."
                )
            if self.optimizer != "sgd" or self.batch_size != 1:
                raise ValueError(
                    f"Learning rate '{self.learning_rate}' only works with "
                    "optimizer='sgd' and batch_size=1."
                )
        if self.average and self.ema_decay is not None:
            raise ValueError(
                "average and ema_decay are two ways to average the iterates; "
                "set only one of them."
            )
        if self.n_jobs == 0:
            raise ValueError("n_jobs == 0 has no meaning; use None, -1 or >= 1.")
        if not self.shuffle and self.sampling != "epoch":
            raise ValueError(
                f"sampling={self.sampling!r} needs shuffle=True; shuffle=False "
                "visits the rows in the order given."
            )

    def _validate_X_y(self, X, y, sample_weight, reset):
        if sp.issparse(X) and X.format != "csr":
            check_sparse_structure(X)  # before scipy converts it to CSR
        X = _native_float32(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            # blocks train on a shuffled working copy: gather it from the
            # input as it is laid out, rather than convert it to C order first
            order=None if self.shuffle and self.sampling == "blocks" else "C",
            copy=False,
            y_numeric=True,
            reset=reset,
        )
        if not reset and X.dtype != self._dtype:
            # partial_fit keeps the dtype of the first call
            with np.errstate(over="ignore"):
                X = X.astype(self._dtype)
            _check_cast("X", X.data if sp.issparse(X) else X)
        if sp.issparse(X):
            X = _kernel_csr(X)
            if self.learning_rate in ("pa1", "pa2") and not X.has_canonical_format:
                # the passive-aggressive step needs |x|^2: sum duplicate entries
                X = X.copy()
                X.sum_duplicates()
        else:
            X = np.asarray(X)  # a memmap reads in place as a plain array
        if y.dtype != X.dtype:
            with np.errstate(over="ignore"):
                y = y.astype(X.dtype)
            _check_cast("y", y)
        y = np.ascontiguousarray(y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        return X, y, np.ascontiguousarray(sample_weight)

    # --------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        coef_init=None,
        intercept_init=None,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data trains in float32, CSR trains sparse.
        y : array-like of shape (n_samples,)
            Targets.
        coef_init : array-like of shape (n_features,), default=None
            Initial coefficients.
        intercept_init : array-like of shape (1,), default=None
            Initial intercept.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows (1 for unweighted).
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            A validation set (as HistGradientBoosting's ``fit``): its R^2 is
            recorded each epoch in ``validation_scores_``, and with
            ``early_stopping=True`` it replaces the ``validation_fraction``
            split (all of X then trains).
        y_val : array-like of shape (n_val,), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows.

        Returns
        -------
        self : SGDRegressor
            The fitted estimator.
        """
        with self._unchanged_on_error():
            return self._fit(
                X,
                y,
                coef_init,
                intercept_init,
                sample_weight,
                X_val,
                y_val,
                sample_weight_val,
            )

    @contextmanager
    def _unchanged_on_error(self):
        """Leave the estimator as it was when the block raises.

        ``validate_data`` sets ``n_features_in_`` before later checks (sample
        weights, ``coef_init``) can fail; without the rollback a model that was
        never fitted would look fitted.
        """
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(
        self,
        X,
        y,
        coef_init,
        intercept_init,
        sample_weight,
        X_val,
        y_val,
        sample_weight_val,
    ):
        self._check_params()
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together.")
        if X_val is None and sample_weight_val is not None:
            raise ValueError("sample_weight_val needs X_val and y_val.")
        warm = self.warm_start and hasattr(self, "coef_")
        if warm:
            if coef_init is None:
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        X, y, sample_weight = self._validate_X_y(X, y, sample_weight, reset=True)
        if warm and coef_init is self.coef_ and X.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} features, but warm_start=True continues from "
                f"coefficients fitted on {self.coef_.shape[0]}; set "
                "warm_start=False to train a new model."
            )
        self._dtype = X.dtype
        val = None
        if X_val is not None:
            val = self._validate_X_y(X_val, y_val, sample_weight_val, reset=False)
            if val[1].shape[0] < 2 or np.ptp(val[1]) == 0.0:
                raise ValueError(
                    "y_val needs at least two different values: the validation "
                    "score (R^2) is undefined otherwise."
                )
        self._init_state(X.shape[1], X.dtype, coef_init, intercept_init)
        if val is not None:
            self.validation_scores_ = []
        self._run(X, y, sample_weight, self.max_iter, fitting=True, val=val)
        if (
            self.tol is not None
            and self.n_iter_ == self.max_iter
            and self.stop_reason_ == "max_iter"
        ):
            warnings.warn(
                "Maximum number of iteration reached before convergence. "
                "Consider increasing max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over the given rows, continuing the training.

        The step counter, the schedule, the optimizer state and the history
        carry over from earlier calls.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows.

        Returns
        -------
        self : SGDRegressor
            The updated estimator.
        """
        with self._unchanged_on_error():
            return self._partial_fit(X, y, sample_weight)

    def _partial_fit(self, X, y, sample_weight):
        first = not hasattr(self, "_state")
        # parameters may change between calls (set_params): check them each time
        self._check_params(for_partial_fit=True)
        if not first:
            shaped = self._state_shape()
            if shaped != self._shaped_by:
                names = ("optimizer", "average", "ema_decay")
                changed = [
                    f"{n}={old!r} -> {new!r}"
                    for n, old, new in zip(names, self._shaped_by, shaped, strict=True)
                    if old != new
                ]
                raise ValueError(
                    f"{', '.join(changed)} since the first partial_fit: the "
                    "optimizer state and the average cannot carry over. Call fit, "
                    "or start from a new estimator."
                )
            if float(self.eta0) != self._eta0_seen:
                # a new eta0 takes effect (scikit-learn's partial_fit reads it
                # at every call); 'adaptive' restarts its reductions from it
                self._eta = self._eta0_seen = float(self.eta0)
        X, y, sample_weight = self._validate_X_y(X, y, sample_weight, reset=first)
        if first:
            self._dtype = X.dtype
            self._init_state(X.shape[1], X.dtype, None, None)
        self._run(X, y, sample_weight, 1, fitting=False)
        return self

    def _state_shape(self):
        """Return the parameters the training state was laid out for."""
        return (self.optimizer, self.average, self.ema_decay)

    def _init_state(self, n_features, dtype, coef_init, intercept_init):
        state = TrainState.zeros(n_features, dtype, self.optimizer)
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=dtype).ravel()
            if coef_init.shape != (n_features,):
                raise ValueError(
                    f"coef_init has {coef_init.shape[0]} values; expected "
                    f"{n_features}, one per feature."
                )
            if not np.all(np.isfinite(coef_init)):
                raise ValueError("coef_init contains NaN or infinity.")
            state.params[:n_features] = coef_init
        if intercept_init is not None:
            intercept_init = np.asarray(intercept_init, dtype=dtype)
            if intercept_init.shape not in ((), (1,)):
                raise ValueError(
                    "intercept_init must be a scalar or have shape (1,); got shape "
                    f"{intercept_init.shape}."
                )
            if not np.all(np.isfinite(intercept_init)):
                raise ValueError("intercept_init contains NaN or infinity.")
            state.params[n_features] = intercept_init.reshape(())
        state.avg[:] = state.params  # EMA starts at the initial point
        self._state = state
        self._epochs = 0
        self._eta = self._eta0_seen = float(self.eta0)
        self._shaped_by = self._state_shape()
        self._loss_ref = None
        self._rng = check_random_state(self.random_state)
        self._seed = int(self._rng.randint(0, MAX_INT))
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.eta_curve_ = []
        self.step_loss_curve_ = np.zeros(0)
        self.best_score_ = None
        self.diverged_ = False

    def _codes_and_hparams(self, m, steps_per_epoch, fitting):
        codes = np.zeros(K.N_CODES, dtype=np.int64)
        codes[K.C_LOSS] = K.LOSSES[self.loss]
        codes[K.C_PENALTY] = K.PENALTIES[self.penalty]
        codes[K.C_OPTIMIZER] = K.OPTIMIZERS[self.optimizer]
        codes[K.C_SCHEDULE] = K.SCHEDULES[self.learning_rate]
        if not self.shuffle:
            sampling = K.SAMPLE_INORDER
        else:
            sampling = {
                "epoch": K.SAMPLE_SHUFFLE,
                "blocks": K.SAMPLE_BLOCKS,
                "replacement": K.SAMPLE_REPLACEMENT,
            }[self.sampling]
        codes[K.C_SAMPLING] = sampling
        if self.ema_decay is not None:
            codes[K.C_AVERAGE] = K.AVG_EMA
        elif self.average:
            codes[K.C_AVERAGE] = K.AVG_POLYAK
            codes[K.C_AVG_START] = int(self.average)
        codes[K.C_FIT_INTERCEPT] = int(self.fit_intercept)
        codes[K.C_BATCH] = m if self.batch_size == "full" else int(self.batch_size)
        codes[K.C_RECORD_EVERY] = int(self.record_every)
        codes[K.C_BLOCK] = BLOCK_ROWS

        hp = np.zeros(K.N_HPARAMS, dtype=np.float64)
        hp[K.H_ALPHA] = self.alpha
        hp[K.H_L1_RATIO] = 0.0 if self.l1_ratio is None else self.l1_ratio
        hp[K.H_EPSILON] = self.epsilon
        optimizer_hparams(self, hp)
        # cosine / onecycle / warmup fractions plan over max_iter epochs of the
        # data of the first call (partial_fit keeps counting past the plan)
        if not hasattr(self, "_planned_steps") or fitting:
            self._planned_steps = int(self.max_iter) * steps_per_epoch
        schedule_hparams(self, hp, self._planned_steps)
        return codes, hp

    def _run(self, X, y, sw, max_epochs, fitting, val=None):
        """Train for up to ``max_epochs`` epochs; the heart of fit/partial_fit."""
        state = self._state
        train_idx, val_idx = self._split(y, sw, fitting and val is None)
        if train_idx.shape[0] == 0:
            raise ValueError("No training rows with positive sample weight.")
        if self._loss_ref is None:
            ref = self._reference_loss(X, y, sw, train_idx)
        else:
            # each partial_fit call brings new rows: the baseline grows to their
            # scale (a first chunk of zeros must not flag every later one)
            ref = max(self._loss_ref, self._zero_loss(y, sw, train_idx))
        if not math.isfinite(ref):
            raise ValueError(
                "The loss of the starting model overflows on this data (X or y "
                "is too large in magnitude); scale it, e.g. with "
                "sklearn.preprocessing.StandardScaler."
            )
        self._loss_ref = ref
        X_val = y_val = sw_val = None
        if val is not None:
            X_val, y_val, sw_val = val
        elif val_idx is not None:
            X_val, y_val, sw_val = X[val_idx], y[val_idx], sw[val_idx]
        # the validation score stops training only with early stopping
        stop_on_val = X_val is not None and self.early_stopping
        if self.shuffle and self.sampling == "blocks":
            # one shuffled working copy; epochs then read blocks in order
            perm = self._rng.permutation(train_idx)
            X, y, sw = _take_rows(X, perm), y[perm], sw[perm]
            train_idx = np.arange(perm.shape[0], dtype=np.int64)
        order = np.ascontiguousarray(train_idx, dtype=np.int64)
        m = order.shape[0]
        batch = m if self.batch_size == "full" else min(int(self.batch_size), m)
        steps_per_epoch = -(-m // batch)
        codes, hp = self._codes_and_hparams(m, steps_per_epoch, fitting)
        if self.sampling in ("blocks", "replacement") and self.shuffle:
            iscratch = np.zeros(m + m // BLOCK_ROWS + 1, dtype=np.int64)
        else:
            iscratch = np.zeros(1, dtype=np.int64)
        every = int(self.record_every)
        rec = np.zeros(steps_per_epoch // every + 1 if every else 1)
        stats = np.zeros(K.N_STATS, dtype=np.float64)
        threads = self._threads(batch, X)
        key = _select.family(codes, hp, m, sp.issparse(X), threads)
        grad = np.zeros(self._scratch_shape(X, key), dtype=X.dtype)
        ro = _select.readonly  # the kernels take the data as read-only views
        if sp.issparse(X):
            data_args = (ro(X.data), ro(X.indices), ro(X.indptr))
        else:
            data_args = (ro(X),)
        extra = ()
        if key[0] == "parallel":
            extra = (
                np.zeros((threads, X.shape[1] + 1), dtype=X.dtype),
                np.zeros((threads, 3), dtype=np.float64),
            )
        hp_ro = ro(hp)
        codes_ro = ro(codes)  # a view: it sees the per-epoch codes below
        args = (
            *data_args,
            ro(y),
            ro(sw),
            order,
            iscratch,
            state.params,
            state.opt,
            state.avg,
            state.q,
            grad,
            state.counters,
            state.carry,
            hp_ro,
            codes_ro,
            stats,
            rec,
            *extra,
        )
        epoch_fn = _select.compiled(_select.epoch_kernel(key), args)
        if key[0] == "parallel":
            epoch_fn = _locked(epoch_fn)

        pen_code = K.PENALTIES[self.penalty]
        l1_ratio = 0.0 if self.l1_ratio is None else self.l1_ratio
        tol = -np.inf if self.tol is None else self.tol
        best_obj = np.inf
        best_score = -np.inf
        no_improve = 0
        best_state = None
        step_losses = [self.step_loss_curve_] if every else []
        self.stop_reason_ = "max_iter"
        started = time.perf_counter()
        n_run = 0
        # a blow-up being watched: its latest end-of-epoch loss, and the state
        # and history lengths from before it
        watch = None
        good = None
        good_marks = None
        good_run = 0
        # the state before the epoch, to roll back to if it diverges (one copy
        # per fit, refreshed in place: small data runs many short epochs)
        snapshot = state.copy()
        best_run = 0  # the epoch (1-based) whose state best_state holds
        # rows on which the model at the end of every epoch is measured: an
        # epoch's loss is taken before each step, so the last steps' (and a
        # full batch's only step's) damage would otherwise go unseen
        probe = self._probe_rows(X, y, sw, order)
        self._healthy_norm2 = 0.0  # see _health
        # the last state a measurement passed (the start is the baseline)
        trusted = state.copy()
        for _ in range(max_epochs):
            snapshot.restore(state)
            hp[K.H_ETA0] = self._eta
            codes[K.C_EPOCH] = self._epochs
            codes[K.C_SEED] = (self._seed * 1_000_003 + self._epochs) % (2**62)
            stats[:] = 0.0
            epoch_fn(*args)
            n_run += 1
            mean_loss = stats[K.S_LOSS_SUM] / max(stats[K.S_WEIGHT_SUM], 1e-300)
            health, measured = self._health(
                state, mean_loss, (X, y, sw, order), watch, probe
            )
            if health is None:
                if watch is not None:
                    # roll back past the whole blow-up
                    self._roll_back(state, good, good_marks, step_losses)
                    if best_run >= good_run:
                        best_state = None  # a state the roll-back discarded
                    watch = None
                else:
                    state.restore(
                        snapshot if self._passes(snapshot, probe) else trusted
                    )
                self._warn_diverged(mean_loss, "stopped")
                break
            if health > 0.0 and watch is None:
                # a blow-up that may still recover (see _health): watch it,
                # keeping the model from before it
                good = (snapshot if self._passes(snapshot, probe) else trusted).copy()
                good_marks = self._history_marks(step_losses)
                good_run = n_run
            watch = health if health > 0.0 else None
            if watch is None and measured:
                trusted.restore(state)  # the last state a measurement passed
            self._epochs += 1
            w_now = state.params[:-1]
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                objective = mean_loss + _objective.penalty_value(
                    pen_code, w_now, self.alpha, l1_ratio
                )
            self.loss_curve_.append(float(objective))
            self.eta_curve_.append(stats[K.S_ETA_SUM] / max(stats[K.S_STEPS], 1.0))
            if every:
                step_losses.append(rec[: int(stats[K.S_NREC])].copy())

            score = None
            if X_val is not None:
                coef, intercept = self._reported(state)
                pred = safe_sparse_dot(X_val, coef, dense_output=True) + intercept
                score = _r2(y_val, pred, sw_val)
                self.validation_scores_.append(score)
            if stop_on_val:
                if score < best_score + tol:
                    no_improve += 1
                else:
                    no_improve = 0
                if score > best_score:
                    best_score = score
                    if self.restore_best_weights:
                        best_state = state.copy()
                        best_run = n_run
            else:
                if objective > best_obj - tol:
                    no_improve += 1
                else:
                    no_improve = 0
                best_obj = min(best_obj, objective)
            if self.verbose:
                self._print_epoch(state, mean_loss, objective, started, score)

            if (
                self.grad_tol is not None
                and batch >= m
                and 0.0 <= stats[K.S_GRAD_NORM] < self.grad_tol
            ):
                self.stop_reason_ = "grad_tol"
                break
            if no_improve >= self.n_iter_no_change and fitting:
                if self.learning_rate == "adaptive" and self._eta > 1e-6:
                    self._eta /= 5.0
                    no_improve = 0
                else:
                    self.stop_reason_ = "early_stopping" if stop_on_val else "tol"
                    if self.verbose:
                        print(
                            f"Convergence after {n_run} epochs took "
                            f"{time.perf_counter() - started:.2f} seconds"
                        )
                    break

        if watch is not None:
            # training ended before the blow-up recovered
            self._roll_back(state, good, good_marks, step_losses)
            if best_run >= good_run:
                best_state = None
            self._warn_diverged(watch, "did not recover; stopped")
        if best_state is not None and self._passes(best_state, probe):
            # not a state over the limit: with a constant validation target
            # every R^2 ties at 0 and the first epoch's state would be "best"
            state.restore(best_state)
        if stop_on_val:
            # of the epochs kept (a roll-back may have discarded the best)
            kept = self.validation_scores_
            self.best_score_ = float(max(kept)) if kept else None
        if every:
            self.step_loss_curve_ = np.concatenate(step_losses)
        self.n_iter_ = n_run
        self.t_ = float(state.steps + 1)
        coef, intercept = self._reported(state)
        self.coef_ = coef.copy()
        self.intercept_ = np.array([intercept], dtype=coef.dtype)

    def _threads(self, batch, X):
        """Return the thread count for the batch gradient (1: serial kernel)."""
        if self.n_jobs is None or self.n_jobs == 1 or sp.issparse(X):
            return 1
        if batch < PARALLEL_MIN_BATCH:
            return 1
        wanted = (os.cpu_count() or 1) if self.n_jobs < 0 else self.n_jobs
        import numba  # only for a threaded fit

        limit = min(
            numba.config.NUMBA_NUM_THREADS, batch // PARALLEL_MIN_ROWS_PER_THREAD
        )
        return max(1, min(wanted, limit))

    def _reported(self, state):
        """Return the (coef, intercept) the model reports: averaged or not."""
        src = self._reported_params(state)
        d = src.shape[0] - 1
        return src[:d], src[d]

    def _reported_params(self, state):
        """Return the parameters (intercept last) the model reports."""
        if self.ema_decay is not None:
            return state.avg
        if self.average and state.steps >= int(self.average):
            return state.avg
        return state.params

    def _split(self, y, sw, fitting):
        """Return the training rows and the held-out rows (or None)."""
        n = y.shape[0]
        if not (self.early_stopping and fitting):
            train = np.flatnonzero(sw > 0) if np.any(sw == 0) else np.arange(n)
            return train, None
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val == 0 or n - n_val == 0:
            raise ValueError(
                f"Splitting {n} samples into a train set and a validation set with "
                f"validation_fraction={self.validation_fraction!r} led to an empty "
                f"set ({n - n_val} and {n_val} samples). Please either change "
                "validation_fraction, increase number of samples, or disable "
                "early_stopping."
            )
        # imported here: sklearn.model_selection costs ~0.1 s at import time
        from sklearn.model_selection import ShuffleSplit

        cv = ShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        idx_train, idx_val = next(cv.split(np.zeros((n, 1)), y))
        if not np.any(sw[idx_val] > 0):
            raise ValueError(
                "The sample weights for validation set are all zero, consider "
                "using a different random state."
            )
        idx_train = np.sort(idx_train[sw[idx_train] > 0])
        return idx_train, np.sort(idx_val)

    def _scratch_shape(self, X, key):
        """Shape of the kernels' ``grad`` scratch.

        One row (the mini-batch gradient), or, for a shuffled epoch of the
        plain or mini-batch kernels, about ``GATHER_BYTES`` of rows with two
        spare columns: the kernel copies random rows (and their y and sample
        weight) there in chunks before stepping through them (see
        ``_rows.gather_rows``; a mini-batch keeps its gradient in row 0).
        Mini-batches of wide rows gain nothing from the copy (measured at 1000
        float64 features), so they skip it.
        """
        d = X.shape[1]
        row_bytes = (d + 2) * X.dtype.itemsize
        if (
            self.shuffle
            and self.sampling in ("epoch", "replacement")
            and (
                key[0] == "plain"
                or (key[0] == "batch" and row_bytes <= GATHER_MAX_BATCH_ROW_BYTES)
            )
        ):
            rows = max(3, GATHER_BYTES // row_bytes)
            return (rows, d + 2)
        return (1, d + 1)

    def _reference_loss(self, X, y, sw, order):
        """Return the mean loss of the starting model (the divergence baseline).

        The larger of the starting model's loss and the zero model's, so that a
        good warm start does not make the baseline tiny.
        """
        params = self._state.params
        scale = self._zero_loss(y, sw, order)
        if not np.any(params):  # the usual zero start needs no pass over X
            return max(scale, 1e-12)
        return max(self._model_loss(params, X, y, sw, order), scale, 1e-12)

    def _zero_loss(self, y, sw, order):
        """Return the weighted mean loss of the zero model on the rows ``order``."""
        if order.shape[0] != y.shape[0]:
            y, sw = y[order], sw[order]
        with np.errstate(over="ignore", invalid="ignore"):
            return _objective.weighted_mean(
                _objective.losses(K.LOSSES[self.loss], 0.0, y, self.epsilon), sw
            )

    def _model_loss(self, params, X, y, sw, order):
        """Return the weighted mean loss of ``params`` on the rows ``order``."""
        with np.errstate(over="ignore", invalid="ignore"):
            if np.any(params[:-1]):
                pred = safe_sparse_dot(X, params[:-1], dense_output=True)
                pred = pred + params[-1]
            else:
                pred = np.full(y.shape[0], params[-1], dtype=np.float64)
            if order.shape[0] != y.shape[0]:
                pred, y, sw = pred[order], y[order], sw[order]
            return _objective.weighted_mean(
                _objective.losses(K.LOSSES[self.loss], pred, y, self.epsilon), sw
            )

    def _probe_rows(self, X, y, sw, order):
        """Return ``(X, y, sw)`` of up to PROBE_ROWS training rows, evenly spread."""
        m = order.shape[0]
        step = max(1, -(-m // PROBE_ROWS))
        if m == y.shape[0]:
            # every row trains: a strided view, no copy of dense X
            X_p, y_p, sw_p = X[::step], y[::step], sw[::step]
        else:
            pick = np.sort(order)[::step]
            X_p, y_p, sw_p = X[pick], y[pick], sw[pick]
        return X_p, y_p.astype(np.float64), sw_p, max(float(sw_p.sum()), 1e-300)

    def _passes(self, state, probe):
        """Tell whether the model of ``state`` is within the limit on the probe.

        A roll-back target, or the best state, was judged by its own epoch,
        perhaps without the probe (see ``_health``).
        """
        return self._probe_loss(self._reported_params(state), probe) <= self._limit()

    def _probe_loss(self, params, probe):
        """Return the weighted mean loss of ``params`` on the probe rows.

        Lean on purpose: it runs after every epoch, and small data runs
        thousands of short epochs (a few microseconds here, not 30).
        """
        X_p, y_p, sw_p, total = probe
        with np.errstate(over="ignore", invalid="ignore"):
            p = X_p @ params[:-1]
            losses = _objective.losses(
                K.LOSSES[self.loss], p + params[-1], y_p, self.epsilon
            )
            return float(np.sum(losses * sw_p)) / total

    def _health(self, state, mean_loss, data, watch, probe):
        """Judge the epoch just run; return ``(verdict, measured)``.

        The verdict is ``None`` (diverged), 0 (healthy) or > 0 (watched);
        ``measured`` tells whether the end-of-epoch model was measured (on the
        probe or on every row) rather than passed on its norm alone.

        Non-finite numbers have diverged.  A mean loss ``DIVERGENCE_FACTOR``
        times the baseline (``LINEAR_FACTOR`` for the losses linear in the
        residual), or such a loss of the model at the end of the epoch on the
        ``probe`` rows (which sees the epoch's last steps, which its mean loss,
        taken before each step, does not), is suspect, and so is every epoch
        while a blow-up is watched: then the loss of the model at the end of
        the epoch decides.
        Below the limit, the run is healthy again; above it, the run is watched
        (the returned end-of-epoch loss) as long as that loss keeps falling
        from one epoch to the next, and has diverged as soon as it does not.
        scikit-learn's ``'optimal'`` rate with a squared loss, for one, blows
        up in the first steps of a well-scaled problem and recovers within an
        epoch or over several; an eta0 that is too large grows the loss from
        every epoch to the next.  ``data`` is ``(X, y, sw, order)`` for the end
        loss: one pass over the rows, only for a suspect epoch.
        """
        # a sum is not finite when a term is not (or when it overflows, which
        # is divergence too): no temporary array, unlike np.isfinite
        if not math.isfinite(mean_loss) or not math.isfinite(state.params.sum()):
            return None, False
        if self.average or self.ema_decay is not None:
            if not math.isfinite(state.avg.sum()):
                return None, False
        limit = self._limit()
        # the model the user gets: with averaging, an average of blown-up
        # iterates can be far off while the last iterate looks fine
        reported = self._reported_params(state)
        # a blow-up grows the weights by orders of magnitude: while their norm
        # stays within twice the largest one judged healthy, skip the probe
        # (a few microseconds an epoch that tiny data, run for thousands of
        # epochs, would notice)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            norm2 = float(np.dot(reported, reported))
        measured = not norm2 <= 4.0 * self._healthy_norm2
        probed = self._probe_loss(reported, probe) if measured else 0.0
        if mean_loss <= limit and probed <= limit and watch is None:
            self._healthy_norm2 = max(self._healthy_norm2, norm2)
            return 0.0, measured
        end = self._model_loss(reported, *data)
        if end <= limit:
            self._healthy_norm2 = max(self._healthy_norm2, norm2)
            return 0.0, True
        if not math.isfinite(end) or (watch is not None and not end < watch):
            return None, True
        return end, True

    def _history_marks(self, step_losses):
        """Return the epoch count and history lengths (see ``_roll_back``)."""
        val = self.validation_scores_
        return (
            self._epochs,
            len(self.loss_curve_),
            len(self.eta_curve_),
            None if val is None else len(val),
            len(step_losses),
        )

    def _roll_back(self, state, good, marks, step_losses):
        """Restore ``good`` and cut the history back to ``marks``."""
        state.restore(good)
        self._epochs, n_loss, n_eta, n_val, n_steps = marks
        del self.loss_curve_[n_loss:]
        del self.eta_curve_[n_eta:]
        if n_val is not None:
            del self.validation_scores_[n_val:]
        del step_losses[n_steps:]

    def _limit(self):
        """Return the loss above which an epoch is suspect (see ``_health``)."""
        factor = DIVERGENCE_FACTOR if self.loss in SQUARED_LOSSES else LINEAR_FACTOR
        return self._loss_ref * factor

    def _warn_diverged(self, loss, what):
        """Flag the divergence and warn with the fix."""
        epoch = self._epochs + 1
        how = f"loss {loss:.3g}" if math.isfinite(loss) else "the loss is not finite"
        self.diverged_ = True
        self.stop_reason_ = "diverged"
        if self.learning_rate == "optimal":
            fix = (
                "learning_rate='optimal' is meant for classification losses; "
                "use 'invscaling' or 'constant' with a small eta0, or a larger "
                "alpha"
            )
        else:
            fix = f"Lower eta0 (now {self.eta0:g})"
        warnings.warn(
            f"Training diverged in epoch {epoch} ({how}, against "
            f"{self._loss_ref:.3g} at the start) and {what}; "
            "the coefficients are those from before it. "
            f"{fix}, or scale the features, e.g. with "
            "sklearn.preprocessing.StandardScaler.",
            DivergenceWarning,
            stacklevel=4,
        )

    def _print_epoch(self, state, mean_loss, objective, started, score):
        """Print an epoch as scikit-learn's verbose output does."""
        coef, intercept = self._reported(state)
        with np.errstate(over="ignore", under="ignore"):
            norm = np.linalg.norm(coef)
        print(f"-- Epoch {self._epochs}")
        line = (
            f"Norm: {norm:.2f}, NNZs: {np.count_nonzero(coef)}, "
            f"Bias: {float(intercept):.6f}, T: {state.steps}, "
            f"Avg. loss: {mean_loss:.6f}, Objective: {objective:.6f}"
        )
        if score is not None:
            line += f", Validation score: {score:.6f}"
        print(line)
        print(f"Total training time: {time.perf_counter() - started:.2f} seconds.")

    # ------------------------------------------------------------- predicting
    def predict(self, X):
        """Predict targets with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions, in the dtype of the model for matching input.
        """
        check_is_fitted(self)
        if sp.issparse(X) and X.format != "csr":
            check_sparse_structure(X)  # before scipy converts it to CSR
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        if sp.issparse(X):
            X = _kernel_csr(X)  # scipy's product reads bad indices unchecked
        if X.dtype != self.coef_.dtype and X.dtype.kind != "f":
            X = X.astype(self.coef_.dtype)
        pred = safe_sparse_dot(X, self.coef_, dense_output=True) + self.intercept_
        return np.asarray(pred).ravel()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _r2(y, pred, sw):
    """Sample-weighted R^2 (as sklearn.metrics.r2_score)."""
    w = sw.astype(np.float64)
    y = y.astype(np.float64)
    mean = np.average(y, weights=w) if w.sum() > 0 else y.mean()
    # a blown-up model's residuals overflow: its score is -inf, not an error
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ss_res = float(np.sum(w * (y - pred) ** 2))
        ss_tot = float(np.sum(w * (y - mean) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def _locked(fn):
    """Wrap a parallel kernel so concurrent Python threads take turns."""

    def call(*args):
        with _PARALLEL_LOCK:
            fn(*args)

    return call


def _take_rows(X, rows):
    """Return ``X[rows]`` (``rows``: valid int64 row indices), dense in a kernel."""
    if sp.issparse(X):
        return X[rows]
    # loaded on first use: only sampling="blocks" needs it
    from ._kernels._take import take_rows

    out = np.empty((rows.shape[0], X.shape[1]), dtype=X.dtype)
    if not X.flags.c_contiguous:
        # Fortran-order or strided input is gathered straight into the working
        # copy, not converted to C order first (two copies of X); in slices,
        # because np.take buffers a whole output of another layout (a third)
        step = max(1, (1 << 20) // max(X.shape[1] * X.itemsize, 1))
        for lo in range(0, rows.shape[0], step):
            out[lo : lo + step] = X[rows[lo : lo + step]]
        return out
    args = (
        _select.readonly(X),
        _select.readonly(np.ascontiguousarray(rows, dtype=np.int64)),
        out,
    )
    _select.compiled(take_rows, args)(*args)
    return out


def _native_float32(X):
    """Return big-endian float32 arrays as native float32 (not float64)."""
    dtype = getattr(X, "dtype", None)
    if (
        isinstance(X, np.ndarray)
        and dtype is not None
        and dtype.kind == "f"
        and dtype.itemsize == 4
        and not dtype.isnative
    ):
        return X.astype(np.float32)
    return X


def _check_cast(name, a):
    """Raise if casting ``name`` to float32 overflowed (it was finite before)."""
    if not np.isfinite(a).all():
        raise ValueError(
            f"{name} has values too large for {a.dtype} (the model's dtype); scale "
            "the data or train in float64."
        )


def _kernel_csr(X):
    """Return a CSR matrix the kernel can read safely (int32 indices, checked)."""
    X = sp.csr_matrix(X) if not isinstance(X, sp.csr_matrix) else X
    if X.indices.dtype != np.int32 or X.indptr.dtype != np.int32:
        if X.nnz >= np.iinfo(np.int32).max:
            raise ValueError(
                "Sparse input with 2**31 or more stored values is not supported."
            )
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
            shape=X.shape,
        )
    # the kernel does no bounds checks: make sure every index is in range
    check_sparse_structure(X)
    if not X.data.flags.c_contiguous:
        # a new matrix object: the user's keeps its own arrays
        X = sp.csr_matrix(
            (np.ascontiguousarray(X.data), X.indices, X.indptr), shape=X.shape
        )
    return X
