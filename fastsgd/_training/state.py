"""Where a training run stands: :class:`RunState`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ..optim import TrainState, state_rows

__all__ = ["RunResult", "RunState"]


@dataclass
class RunState:
    """Everything the next epoch starts from, besides the data and options.

    A fitted :class:`~fastsgd.SGDRegressor` keeps one (``get_run_state`` /
    ``set_run_state``); ``run_epochs`` advances one.  It holds no loop state:
    what a loop needs while it runs (the divergence guard's snapshots, the
    stopping rules' counters) lives in the loop's parts and ends with it.

    Attributes
    ----------
    train : fastsgd.optim.TrainState
        Parameters (intercept last), optimizer moments, average, L1 record and
        the int64 step counter: what the compiled epochs read and write.
    epoch : int
        Epochs completed and kept (the schedule's 0-based position: the next
        epoch is ``epoch + 1``), >= 0.
    seed : int
        The run's seed; each epoch's generator is seeded from it and the epoch.
    eta : float
        The base learning rate of the next epoch (``'adaptive'`` divides it by
        5 when the stopping rule fires).
    eta0 : float
        The ``eta0`` the rate was last set from (``partial_fit`` restarts the
        rate when the estimator's ``eta0`` changes).
    loss_ref : float or None
        The divergence baseline: the loss of the starting model (None: measured
        on the first epoch's data).
    planned_steps : int or None
        Steps the schedule plans over (cosine, onecycle, warmup fractions);
        None: ``max_iter`` epochs of the first data trained on.
    """

    train: TrainState
    epoch: int = 0
    seed: int = 0
    eta: float = 0.01
    eta0: float = 0.01
    loss_ref: float | None = None
    planned_steps: int | None = None

    @classmethod
    def start(
        cls,
        n_features,
        dtype,
        optimizer,
        *,
        eta0,
        seed,
        coef=None,
        intercept=None,
        outputs=None,
        learning_rate=None,
    ):
        """Return the state of a new run from ``coef``/``intercept`` (default 0).

        Parameters
        ----------
        n_features : int
            Number of features.
        dtype : numpy dtype
            float32 or float64.
        optimizer : str
            The optimizer whose moments the state holds.
        eta0 : float
            The base learning rate.
        seed : int
            The run's seed.
        coef : array-like of shape (n_features,), default=None
            Starting coefficients (finite).
        intercept : float or array-like of shape (1,), default=None
            Starting intercept (finite).
        learning_rate : str, default=None
            The schedule, when it keeps state of its own (``'auto'``).
        outputs : int or None, default=None
            Number of targets K >= 2 of a multi-output model (None: one);
            then ``coef`` has shape (K, n_features) and ``intercept`` (K,).
        """
        train = TrainState.zeros(
            n_features, dtype, optimizer, learning_rate, outputs=outputs
        )
        if outputs is not None:
            _start_outputs(train, n_features, dtype, coef, intercept)
            eta0 = float(eta0)
            return cls(train=train, seed=int(seed), eta=eta0, eta0=eta0)
        if coef is not None:
            coef = np.asarray(coef, dtype=dtype).ravel()
            if coef.shape != (n_features,):
                raise ValueError(
                    f"coef_init has {coef.shape[0]} values; expected "
                    f"{n_features}, one per feature."
                )
            if not np.all(np.isfinite(coef)):
                raise ValueError("coef_init contains NaN or infinity.")
            train.params[:n_features] = coef
        if intercept is not None:
            intercept = np.asarray(intercept, dtype=dtype)
            if intercept.shape not in ((), (1,)):
                raise ValueError(
                    "intercept_init must be a scalar or have shape (1,); got shape "
                    f"{intercept.shape}."
                )
            if not np.all(np.isfinite(intercept)):
                raise ValueError("intercept_init contains NaN or infinity.")
            train.params[n_features] = intercept.reshape(())
        train.avg[:] = train.params  # EMA starts at the initial point
        eta0 = float(eta0)
        return cls(train=train, seed=int(seed), eta=eta0, eta0=eta0)

    @property
    def steps(self) -> int:
        """Steps taken so far (the kernels' step counter)."""
        return self.train.steps

    @property
    def n_features(self) -> int:
        """Number of features the state is laid out for."""
        return self.train.q.shape[-1]

    @property
    def outputs(self):
        """Number of targets K of a multi-output run (None: one target)."""
        return self.train.outputs

    @property
    def dtype(self):
        """The dtype of the parameters (float32 or float64)."""
        return self.train.params.dtype

    def check_layout(self, optimizer: str, learning_rate: str | None = None) -> None:
        """Raise ``ValueError`` if the state cannot train with ``optimizer``.

        ``learning_rate='auto'`` keeps state rows of its own.
        """
        rows = state_rows(optimizer, learning_rate)
        if self.train.opt.shape[-2] != rows:
            what = (
                "learning_rate='auto'"
                if learning_rate == "auto"
                else f"optimizer={optimizer!r}"
            )
            raise ValueError(
                f"The state holds {self.train.opt.shape[-2]} rows of optimizer "
                f"moments; {what} keeps {rows}. Start a state for this "
                "configuration (RunState.start)."
            )
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(
                f"The state's dtype must be float32 or float64: {self.dtype}."
            )

    def copy(self) -> RunState:
        """Return a deep copy."""
        return replace(self, train=self.train.copy())


def _start_outputs(train, n_features, dtype, coef, intercept):
    """Write a multi-output state's starting ``coef`` (K, d) and ``intercept`` (K,)."""
    n_out = train.params.shape[0]
    if coef is not None:
        coef = np.asarray(coef, dtype=dtype)
        if coef.shape != (n_out, n_features):
            raise ValueError(
                f"coef_init has shape {coef.shape}; expected {(n_out, n_features)} "
                "(one row of coefficients per target)."
            )
        if not np.all(np.isfinite(coef)):
            raise ValueError("coef_init contains NaN or infinity.")
        train.params[:, :n_features] = coef
    if intercept is not None:
        intercept = np.asarray(intercept, dtype=dtype)
        if intercept.shape not in ((), (n_out,)):
            raise ValueError(
                f"intercept_init must be a scalar or have shape ({n_out},), one "
                f"per target; got shape {intercept.shape}."
            )
        if not np.all(np.isfinite(intercept)):
            raise ValueError("intercept_init contains NaN or infinity.")
        train.params[:, n_features] = intercept
    train.avg[:] = train.params  # EMA starts at the initial point


class RunResult(NamedTuple):
    """What ``SGDRegressor.run_epochs`` returns.

    Attributes
    ----------
    state : RunState
        The state after the run (a new object; the one given is unchanged).
    n_iter : int
        Epochs run, including epochs a divergence rolled back.
    stop_reason : str
        ``'max_iter'`` (all epochs ran), ``'tol'``, ``'grad_tol'`` or
        ``'diverged'``.
    divergence : Divergence or None
        How the run diverged (None: it did not); the state is then the one
        from before the blow-up.
    loss_curve, eta_curve : list of float
        Objective and mean learning rate of each epoch kept.
    step_loss_curve : ndarray
        Mean loss of every ``record_every`` steps of the epochs kept.
    diverged_epochs : list of int
        Epochs that ran and were rolled back (numbered as ``RunState.epoch``).
    diverged_loss_curve : list of float
        Their objectives.
    """

    state: RunState
    n_iter: int
    stop_reason: str
    divergence: object
    loss_curve: list
    eta_curve: list
    step_loss_curve: np.ndarray
    diverged_epochs: list
    diverged_loss_curve: list
