"""``SGDRegressor``: scikit-learn's estimator over fastsgd's compiled epochs.

This is the one module that speaks scikit-learn.  It keeps the parameters,
validates once at the boundary and delegates the training to
``fastsgd._training``: the run state, the epoch runner (one compiled call per
epoch), the divergence guard, the stopping rules and the history, joined by a
loop of a screenful (``_training/loop.py``).
"""

from __future__ import annotations

import copy
import functools
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

from ._kernels import _codes as K
from ._sparse_check import check_sparse_structure
from ._training import (
    Curves,
    DivergenceWarning,
    RunResult,
    RunState,
    check_params,
    reported_params,
    train,
    user_stacklevel,
    warn_diverged,
)
from ._training.data import (
    check_cast,
    check_targets,
    kernel_csr,
    n_models,
    n_targets,
    native_float32,
    needs_canonical_csr,
    target_outputs,
    validation_split,
    weighted_rows,
)
from ._training.report import VerbosePrinter
from .schedules import base_rate

__all__ = ["SGDRegressor", "DivergenceWarning", "RunResult"]

MAX_INT = np.iinfo(np.int32).max
# eta0's default (scikit-learn's): learning_rate='auto' warns about any other
DEFAULT_ETA0 = 0.01


# learning_rate="auto" moves a coefficient by about eta in the target's units
# a step: a target whose root mean square is above this converges slowly
AUTO_TARGET_RMS = 10.0


def _auto_target_hint(learning_rate, y) -> str:
    """Return the advice a slow "auto" fit adds for a large-scaled target, or ''.

    "auto" adapts its steps to the scales of the columns, not yet to the
    target's (measured: a target of 3e5 +- 1e5 stays ~1000x the optimum's MSE
    after 1000 epochs; standardized, 1.02x after 6).
    """
    if learning_rate != "auto":
        return ""
    rms = float(np.sqrt(np.max(np.mean(np.square(y, dtype=np.float64), axis=0))))
    if not rms > AUTO_TARGET_RMS:
        return ""
    return (
        f" learning_rate='auto' adapts to the scales of the features but not yet "
        f"to the target's (root mean square {rms:.3g} here), so a large target "
        "converges slowly: scale y, for example with sklearn.compose."
        "TransformedTargetRegressor(SGDRegressor(learning_rate='auto'), "
        "transformer=StandardScaler())."
    )


@functools.cache
def _param_names(cls):
    """Return ``cls``'s parameter names, as scikit-learn reads them."""
    return BaseEstimator._get_param_names.__func__(cls)


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
          OneCycleLR with cosine annealing);
        - ``'auto'``: no rate to choose and no scaler needed. Each step is the
          step of a model of standardized features (each column centered on
          its running mean on dense input and divided by the largest deviation
          seen, as Vowpal Wabbit's normalized updates), with a per-feature
          AdaGrad rate that forgets early gradients, and a size that never
          moves a row's prediction past its target, whatever the features'
          scales. ``coef_`` and ``intercept_`` stay in the units of X (they
          predict raw X); penalties and ``weight_decay`` act on them, at each
          coordinate's own rate. Runs with ``optimizer='sgd'`` only (it is an
          adaptive rule itself) and without ``clip_norm`` (else a
          ``ValueError``); dense or CSR input, any ``batch_size``, loss,
          penalty, averaging and ``warmup``. On CSR input columns are not
          centered, and a per-example step costs O(non-zeros). ``eta0`` is not
          read (a value other than the default warns); ``eta_curve_`` shows the
          step multiplier 0.4 (times the warmup).
    eta0 : float, default=0.01
        Initial (or peak) learning rate, in (0, inf). Ignored by
        ``learning_rate='auto'``.
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
        (sqrt(v_hat) + eps)``. These are torch.optim's conventions. On CSR
        input, per-example adagrad and rmsprop without L1, averaging or
        clipping cost O(non-zeros) a step: a column the row does not store
        catches up on the L2 penalty and ``weight_decay`` (as an exact
        shrinking at its own rate) and RMSProp's decay when a row next stores
        it; without L2 and decay this is the dense rule exactly, with them
        the same penalized optimum. Momentum, nesterov, adam and adamw on CSR
        input update every coordinate each step (O(n_features)).
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
    sampling : {'auto', 'streams', 'permutation', 'epoch', 'blocks', \
'replacement'}, default='auto'
        How a shuffled epoch visits rows. ``'streams'``: each epoch cuts the
        rows into segments of 32 consecutive rows (fewer for rows over 1
        KiB), shuffles the segments, and interleaves 16 streams (at least one
        per row of a mini-batch, up to 64) that each read their share of
        segments in order, one row from each stream in turn — every row once
        per epoch, consecutive steps from unrelated parts of the data, and
        memory read as sequential streams (no copy of X). ``'permutation'``: a new
        full permutation each epoch, scikit-learn's exact order
        (``'epoch'`` is its old name). ``'auto'``: ``'streams'`` for data
        larger than 4 MiB, where the order decides the speed, else
        ``'permutation'``. ``'blocks'``: the training rows are copied once in
        a random order, then each epoch visits blocks of 256 rows in a new
        random order, rows within a block in order (one extra copy of the
        training data). ``'replacement'``: each step draws rows uniformly
        with replacement (the streaming view). Needs ``shuffle=True``
        (except ``'auto'`` and ``'epoch'``).
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
        Threads for the gradient of a mini-batch (dense input, one target,
        batches of at least 256 rows; smaller batches and several targets run
        serially because starting the threads costs more than they save).
        ``None`` means 1, ``-1`` all cores. The threads used are also capped by Numba's
        ``NUMBA_NUM_THREADS``, which joblib sets to 1 in its worker
        processes (``GridSearchCV(n_jobs=...)``): there a fit runs serially.
        A given thread count always gives the same model; different counts
        differ by floating-point rounding (about 1e-16 relative).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weights, in the dtype of the training data (float32 or float64); one
        row per target when y has several columns.
    intercept_ : ndarray of shape (1,) or (n_targets,)
        Intercept (one per target).
    n_iter_ : int
        Epochs run by the last ``fit`` (1 for ``partial_fit``), including
        epochs a divergence rolled back: after a divergence in ``fit``, the
        epoch it diverged in.
    t_ : float
        Number of weight updates performed plus one (scikit-learn's counter).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    loss_curve_ : list of float
        Per epoch, the mean training loss of the rows as they were visited,
        plus the penalty at the end of the epoch.  After a divergence, only
        the epochs of the model kept (the rolled-back ones move to
        ``diverged_epochs_``; ``eta_curve_``, ``validation_scores_`` and
        ``step_loss_curve_`` drop them too).
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
    diverged_epochs_ : list of int
        Numbers of the epochs that ran and were rolled back by a divergence,
        in order (empty when none was).  Epochs are numbered over the whole
        training, as ``loss_curve_`` counts them: ``fit`` keeps epochs 1 to
        ``len(loss_curve_)``, and after a divergence ``diverged_epochs_``
        holds the rest, up to ``n_iter_``, the epoch it diverged in.
    diverged_loss_curve_ : list of float
        The objective of each of those epochs (perhaps inf or NaN): the
        evidence ``diagnose`` reports.

    Notes
    -----
    A diverging run tells one story.  Say ``fit`` keeps epochs 1 to k and a
    blow-up starting in epoch k + 1 is judged, in epoch n, not to recover:
    the verbose output prints epochs 1 to n (the last marked ``Diverged in
    epoch n``), the ``DivergenceWarning`` (raised at the caller's line) says
    "diverged in epoch n", ``n_iter_ == n``, ``loss_curve_`` has k entries,
    ``diverged_epochs_ == [k + 1, ..., n]``, ``stop_reason_ == 'diverged'``
    and ``diagnose`` shows "diverged in epoch n" with the rolled-back epochs
    as evidence.  The coefficients are those after epoch k.

    Training can also be driven epoch by epoch: ``fit`` and ``partial_fit``
    take an ``on_epoch`` callback (given a :class:`fastsgd.EpochInfo` per
    epoch), and :meth:`run_epochs` runs epochs from an explicit
    :class:`fastsgd.RunState` without touching the estimator.

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
        "sampling": [
            StrOptions(
                {"auto", "streams", "permutation", "epoch", "blocks", "replacement"}
            )
        ],
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
        eta0=DEFAULT_ETA0,
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
        sampling="auto",
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

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature on every get_params (three
        # times a fit, 0.3 ms): a class's signature does not change
        return _param_names(cls)

    # ------------------------------------------------------------------ checks
    def _check_params(self, for_partial_fit=False):
        """Cross-parameter rules that ``_parameter_constraints`` cannot say."""
        check_params(self.get_params(), for_partial_fit)

    def _validate_X_y(self, X, y, sample_weight, reset, dtype=None, finite=True):
        """Return ``X, y, sample_weight`` as the kernels take them.

        ``dtype``: cast to it (``partial_fit`` keeps the dtype of its first
        call).  ``finite=False`` skips scikit-learn's pass over X for NaN and
        infinity: the first epoch checks the rows it reads instead (see
        ``_training.trainer.train``).
        """
        if sp.issparse(X) and X.format != "csr":
            check_sparse_structure(X)  # before scipy converts it to CSR
        X = native_float32(X)
        multi = check_targets(y)
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
            multi_output=multi,
            reset=reset,
            ensure_all_finite=finite,
        )
        if dtype is not None and X.dtype != dtype:
            before = X
            with np.errstate(over="ignore", invalid="ignore"):
                X = X.astype(dtype)
            check_cast("X", X.data if sp.issparse(X) else X, before)
        if sp.issparse(X):
            X = kernel_csr(X)
            if needs_canonical_csr(self.get_params()) and not X.has_canonical_format:
                # the passive-aggressive step needs |x|^2, the per-coordinate
                # steps (auto, AdaGrad, RMSProp) one entry per column and row:
                # sum duplicate entries
                X = X.copy()
                X.sum_duplicates()
        else:
            X = np.asarray(X)  # a memmap reads in place as a plain array
        if y.dtype != X.dtype:
            with np.errstate(over="ignore"):
                y = y.astype(X.dtype)
            check_cast("y", y)
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
        on_epoch=None,
    ):
        """Fit the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data trains in float32, CSR trains sparse.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets. Several columns train one linear model per target in the
            same pass over X (each row read updates all of them; the loss
            curve is the mean over the targets). A single column is raveled
            with a ``DataConversionWarning``, as scikit-learn does.
        coef_init : array-like of shape (n_features,) or (n_targets, \
n_features), default=None
            Initial coefficients.
        intercept_init : array-like of shape (1,) or (n_targets,), default=None
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
        on_epoch : callable, default=None
            Called as ``on_epoch(info)`` after every epoch, as it ends, with a
            :class:`fastsgd.EpochInfo` (epoch number, objective, learning
            rate, seconds of the compiled call, validation score, whether it
            diverged, ...); its return value is ignored.

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
                (X_val, y_val, sample_weight_val),
                on_epoch,
            )

    @contextmanager
    def _unchanged_on_error(self):
        """Leave the estimator as it was when the block raises.

        ``validate_data`` sets ``n_features_in_`` before later checks (sample
        weights, ``coef_init``) can fail; without the rollback a model that was
        never fitted would look fitted.
        """
        saved = dict(self.__dict__)
        # training mutates these in place (partial_fit continues them)
        if saved.get("_run_state") is not None:
            saved["_run_state"] = saved["_run_state"].copy()
        if saved.get("_rng") is not None:
            saved["_rng"] = copy.deepcopy(saved["_rng"])
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(self, X, y, coef_init, intercept_init, sample_weight, val, on_epoch):
        self._check_params()
        X_val, y_val, sample_weight_val = val
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
        X, y, sample_weight = self._validate_X_y(
            X, y, sample_weight, reset=True, finite=False
        )
        if warm and coef_init is self.coef_ and X.shape[1] != self.coef_.shape[-1]:
            raise ValueError(
                f"X has {X.shape[1]} features, but warm_start=True continues from "
                f"coefficients fitted on {self.coef_.shape[-1]}; set "
                "warm_start=False to train a new model."
            )
        if warm and coef_init is self.coef_ and self.coef_.shape[:-1] != y.shape[1:]:
            raise ValueError(
                f"y has {n_targets(y)} target(s), but warm_start=True continues "
                f"from a model of {n_models(self.coef_)}; set warm_start=False "
                "to train a new model."
            )
        val = None
        if X_val is not None:
            val = self._validate_X_y(
                X_val, y_val, sample_weight_val, reset=False, dtype=X.dtype
            )
            if val[1].shape[1:] != y.shape[1:]:
                raise ValueError(
                    f"y_val has {n_targets(val[1])} target(s); y has {n_targets(y)}."
                )
            if val[1].shape[0] < 2 or np.ptp(val[1]) == 0.0:
                raise ValueError(
                    "y_val needs at least two different values: the validation "
                    "score (R^2) is undefined otherwise."
                )
        # the split draws from random_state before the seed, as scikit-learn's
        rows, val = validation_split(
            X, y, sample_weight, val, self.early_stopping,
            self.validation_fraction, self.random_state,
        )  # fmt: skip
        self._start(X, coef_init, intercept_init, validation=val is not None, y=y)
        outcome = self._train(
            (X, y, sample_weight, rows), self.max_iter, True, val, on_epoch
        )
        if outcome.divergence is not None:
            warn_diverged(outcome.divergence, self.learning_rate, self.eta0)
        elif (
            self.tol is not None
            and self.n_iter_ == self.max_iter
            and self.stop_reason_ == "max_iter"
        ):
            warnings.warn(
                "Maximum number of iteration reached before convergence. "
                "Consider increasing max_iter to improve the fit."
                + _auto_target_hint(self.learning_rate, y),
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )
        if self.power_t < 0:
            # scikit-learn's deprecation, word for word (and, as there, in fit)
            warnings.warn(
                "Negative values for `power_t` are deprecated in version 1.8 "
                "and will raise an error in 1.10. "
                "Use values in the range [0.0, inf) instead.",
                FutureWarning,
                stacklevel=user_stacklevel(),
            )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, *, on_epoch=None):
        """Run one epoch over the given rows, continuing the training.

        The step counter, the schedule, the optimizer state and the history
        carry over from earlier calls.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets (the same number of targets at every call).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows.
        on_epoch : callable, default=None
            Called as ``on_epoch(info)`` with the epoch's
            :class:`fastsgd.EpochInfo` (see :meth:`fit`).

        Returns
        -------
        self : SGDRegressor
            The updated estimator.
        """
        with self._unchanged_on_error():
            return self._partial_fit(X, y, sample_weight, on_epoch)

    def _partial_fit(self, X, y, sample_weight, on_epoch):
        first = not hasattr(self, "_run_state")
        # parameters may change between calls (set_params): check them each time
        self._check_params(for_partial_fit=True)
        if not first:
            self._check_shape_unchanged()
        dtype = None if first else self._run_state.dtype
        X, y, sample_weight = self._validate_X_y(
            X, y, sample_weight, reset=first, dtype=dtype, finite=False
        )
        if not first and self._run_state.outputs != target_outputs(y):
            raise ValueError(
                f"y has {n_targets(y)} target(s), but the model was trained on "
                f"{n_models(self._run_state.train.params)} by the "
                "first partial_fit; every call must give the same targets."
            )
        if first:
            self._start(X, None, None, validation=False, y=y)
        elif base_rate(self.learning_rate, self.eta0) != self._run_state.eta0:
            # a new eta0 takes effect (scikit-learn's partial_fit reads it at
            # every call); 'adaptive' restarts its reductions from it
            eta0 = base_rate(self.learning_rate, self.eta0)
            self._run_state.eta = self._run_state.eta0 = eta0
        rows = weighted_rows(sample_weight)
        outcome = self._train((X, y, sample_weight, rows), 1, False, None, on_epoch)
        if outcome.divergence is not None:
            warn_diverged(outcome.divergence, self.learning_rate, self.eta0)
        return self

    def run_epochs(self, X, y, state, *, epochs=1, sample_weight=None, on_epoch=None):
        """Run epochs from an explicit training state; the estimator is unchanged.

        The engine under :meth:`fit` and :meth:`partial_fit`, for callers that
        keep the state themselves (Dask's local SGD runs one epoch per block
        with it): the rows of X train for up to ``epochs`` epochs with this
        estimator's parameters, starting from ``state``.  ``tol`` (with
        ``n_iter_no_change``, lowering an ``'adaptive'`` rate first) and
        ``grad_tol`` can stop the run early; there is no early stopping (no
        validation split).  A divergence is rolled back and reported in the
        result, not warned about.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (cast to the state's dtype).
        y : array-like of shape (n_samples,)
            Targets.
        state : fastsgd.RunState
            Where to start from (not modified): from :meth:`get_run_state`, or
            ``RunState.start(...)`` for a new run.
        epochs : int, default=1
            Epochs at most, >= 1.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows.
        on_epoch : callable, default=None
            Called as ``on_epoch(info)`` with each epoch's
            :class:`fastsgd.EpochInfo`, as it ends.

        Returns
        -------
        RunResult
            The new state and the run's history.

        Examples
        --------
        >>> import numpy as np
        >>> from fastsgd import RunState, SGDRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((200, 3))
        >>> y = X @ [1.0, -2.0, 0.5]
        >>> est = SGDRegressor(learning_rate="constant", eta0=0.05)
        >>> state = RunState.start(3, X.dtype, "sgd", eta0=0.05, seed=0)
        >>> seen = []
        >>> result = est.run_epochs(X, y, state, epochs=3, on_epoch=seen.append)
        >>> [info.epoch for info in seen], result.state.epoch
        ([1, 2, 3], 3)
        >>> np.round(result.state.train.params[:3], 1)
        array([ 1. , -2. ,  0.5])
        """
        if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 1:
            raise ValueError(f"epochs must be an int >= 1; got {epochs!r}.")
        if not isinstance(state, RunState):
            raise TypeError(
                f"state must be a fastsgd.RunState; got {type(state).__name__}."
            )
        self._validate_params()
        self._check_params(for_partial_fit=True)
        state.check_layout(self.optimizer, self.learning_rate)
        saved = dict(self.__dict__)
        try:  # validate_data notes the features it saw: leave self unchanged
            fitted = hasattr(self, "n_features_in_")
            X, y, sw = self._validate_X_y(
                X, y, sample_weight, reset=not fitted, dtype=state.dtype, finite=False
            )
        finally:
            self.__dict__.clear()
            self.__dict__.update(saved)
        if X.shape[1] != state.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features; the state has {state.n_features}."
            )
        if target_outputs(y) != state.outputs:
            raise ValueError(
                f"y has {n_targets(y)} target(s); the state is laid out for "
                f"{n_models(state.train.params)} (RunState.start's "
                "outputs)."
            )
        run = state.copy()
        curves = Curves([], [], None, np.zeros(0), [], [])
        printer = VerbosePrinter() if self.verbose else None
        notify = [fn for fn in (printer, on_epoch) if fn is not None]
        outcome, steps = train(
            self.get_params(),
            (X, y, sw, weighted_rows(sw)),
            run,
            curves,
            max_epochs=int(epochs),
            fitting=False,
            stopping=True,
            rng=np.random.RandomState((run.seed * 1_000_003 + run.epoch) % 2**32),
            notify=notify,
            unchecked=True,
        )
        if printer is not None:
            printer.finish(outcome)
        return RunResult(
            state=run,
            n_iter=outcome.n_iter,
            stop_reason=outcome.stop_reason,
            divergence=outcome.divergence,
            loss_curve=curves.loss,
            eta_curve=curves.eta,
            step_loss_curve=np.zeros(0) if steps is None else steps,
            diverged_epochs=curves.diverged_epochs,
            diverged_loss_curve=curves.diverged_losses,
        )

    def get_run_state(self):
        """Return a copy of the state training continues from.

        Returns
        -------
        fastsgd.RunState
            Parameters, optimizer state, step counter, epoch, seed, rate and
            divergence baseline of the fitted model.
        """
        check_is_fitted(self)
        return self._run_state.copy()

    def set_run_state(self, state):
        """Make this estimator the model at ``state``; training continues from it.

        ``coef_``, ``intercept_``, ``t_`` and ``n_features_in_`` are set from
        the state (``feature_names_in_`` is left as it is), the history starts
        empty, and :meth:`partial_fit` continues from the state's step
        counter, schedule and optimizer moments.

        Parameters
        ----------
        state : fastsgd.RunState
            Laid out for this estimator's ``optimizer`` (copied).

        Returns
        -------
        self : SGDRegressor
            The estimator, fitted.
        """
        if not isinstance(state, RunState):
            raise TypeError(
                f"state must be a fastsgd.RunState; got {type(state).__name__}."
            )
        state.check_layout(self.optimizer, self.learning_rate)
        run = state.copy()
        self._rng = check_random_state(self.random_state)
        self._init_history(validation=False)
        self._run_state = run
        self._shaped_by = self._state_shape()
        self.n_features_in_ = run.n_features
        self.n_iter_ = 0
        self.stop_reason_ = None
        self._adopt_model(run)
        return self

    # ----------------------------------------------------- training, joined
    def _state_shape(self):
        """Return the parameters the training state was laid out for."""
        auto = self.learning_rate == "auto"
        return (self.optimizer, self.average, self.ema_decay, auto)

    def _check_shape_unchanged(self):
        shaped = self._state_shape()
        # a model pickled before 'auto' existed recorded three parameters
        by = tuple(self._shaped_by) + (False,) * (len(shaped) - len(self._shaped_by))
        if shaped != by:
            names = ("optimizer", "average", "ema_decay", "learning_rate == 'auto'")
            changed = [
                f"{n}={old!r} -> {new!r}"
                for n, old, new in zip(names, by, shaped, strict=True)
                if old != new
            ]
            raise ValueError(
                f"{', '.join(changed)} since the first partial_fit: the "
                "optimizer state and the average cannot carry over. Call fit, "
                "or start from a new estimator."
            )

    def _start(self, X, coef_init, intercept_init, validation, y=None):
        """Start a new run (fit, or the first partial_fit) and an empty history."""
        if self.learning_rate == "auto" and self.eta0 != DEFAULT_ETA0:
            warnings.warn(
                f"eta0={self.eta0!r} is ignored: learning_rate='auto' chooses "
                "its own steps. Leave eta0 at its default, or choose another "
                "learning_rate to set the rate yourself.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        self._rng = check_random_state(self.random_state)
        self._run_state = RunState.start(
            X.shape[1],
            X.dtype,
            self.optimizer,
            eta0=base_rate(self.learning_rate, self.eta0),
            seed=int(self._rng.randint(0, MAX_INT)),
            coef=coef_init,
            intercept=intercept_init,
            outputs=None if y is None else target_outputs(y),
            learning_rate=self.learning_rate,
        )
        self._shaped_by = self._state_shape()
        self._init_history(validation or self.early_stopping)

    def _init_history(self, validation):
        self.loss_curve_ = []
        self.validation_scores_ = [] if validation else None
        self.eta_curve_ = []
        self.step_loss_curve_ = np.zeros(0)
        self.diverged_epochs_ = []
        self.diverged_loss_curve_ = []
        self.best_score_ = None
        self.diverged_ = False

    def _train(self, data, max_epochs, fitting, val, on_epoch):
        """Train the run state on ``data``; set the fitted attributes."""
        run = self._run_state
        curves = Curves(
            self.loss_curve_,
            self.eta_curve_,
            self.validation_scores_,
            self.step_loss_curve_,
            self.diverged_epochs_,
            self.diverged_loss_curve_,
        )
        printer = VerbosePrinter() if self.verbose else None
        notify = [fn for fn in (printer, on_epoch) if fn is not None]
        outcome, steps = train(
            self.get_params(),
            data,
            run,
            curves,
            max_epochs=int(max_epochs),
            fitting=fitting,
            stopping=fitting,
            validation=val,
            rng=self._rng,
            notify=notify,
            unchecked=True,
        )
        if printer is not None:
            printer.finish(outcome)
        if steps is not None:
            self.step_loss_curve_ = steps
        self.n_iter_ = outcome.n_iter
        self.stop_reason_ = outcome.stop_reason
        if outcome.divergence is not None:
            self.diverged_ = True
        if val is not None and self.early_stopping:
            # of the epochs kept (a roll-back may have discarded the best)
            kept = self.validation_scores_
            self.best_score_ = float(max(kept)) if kept else None
        self._adopt_model(run)
        return outcome

    def _adopt_model(self, run):
        src = reported_params(run.train, self.average, self.ema_decay)
        self.t_ = float(run.steps + 1)
        self.coef_ = src[..., :-1].copy()
        if src.ndim == 2:  # K targets
            self.intercept_ = src[:, -1].copy()
        else:
            self.intercept_ = np.array([src[-1]], dtype=src.dtype)

    # ------------------------------------------------------------- predicting
    def predict(self, X):
        """Predict targets with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in the dtype of the model for matching input.
        """
        check_is_fitted(self)
        if sp.issparse(X) and X.format != "csr":
            check_sparse_structure(X)  # before scipy converts it to CSR
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        if sp.issparse(X):
            X = kernel_csr(X)  # scipy's product reads bad indices unchecked
        if X.dtype != self.coef_.dtype and X.dtype.kind != "f":
            X = X.astype(self.coef_.dtype)
        pred = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        pred = np.asarray(pred)
        return pred if self.coef_.ndim == 2 else pred.ravel()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True  # y of shape (n, K), any options
        return tags
