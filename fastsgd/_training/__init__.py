"""The trainer, as parts a maintainer can change one at a time.

===================  ============================================================
``state.py``         :class:`RunState`: where a run stands (the kernels' arrays,
                     epoch, seed, rate, divergence baseline, planned steps)
``options.py``       :class:`KernelOptions`: the one writer of the kernels'
                     ``codes`` and ``hparams`` (from the optimizer and schedule
                     specs of ``optim.py`` and ``schedules.py``); the checks
``runner.py``        :class:`EpochRunner`: where an epoch is run (kernel choice,
                     scratch buffers, one compiled call per epoch)
``guard.py``         :class:`DivergenceGuard` and :class:`Verdict`: where
                     divergence is decided, and what is rolled back
``stopping.py``      the stopping rules: tolerance / early stopping, adaptive
                     rate, gradient norm, best weights
``history.py``       :class:`History` and :class:`EpochInfo`: what is recorded,
                     and what ``on_epoch`` callbacks receive
``loop.py``          :func:`run_loop`: the parts joined, a screenful
``trainer.py``       :func:`train`: a run set up from validated data
``report.py``        verbose lines, the divergence warning and where it points
===================  ============================================================

Imports go one way: ``linear_model`` / ``dask`` -> ``_training`` -> ``optim``,
``schedules`` -> ``_kernels``.  No scikit-learn here.
"""

from .guard import DivergenceGuard, Verdict
from .history import EpochInfo, History
from .loop import Divergence, Outcome, run_loop
from .options import KernelOptions, check_params
from .report import DivergenceWarning, user_stacklevel, warn_diverged
from .runner import EpochRunner, EpochStats, threads_for
from .state import RunResult, RunState
from .trainer import Curves, r2_score, reported_params, train

__all__ = [
    "Curves",
    "Divergence",
    "DivergenceGuard",
    "DivergenceWarning",
    "EpochInfo",
    "EpochRunner",
    "EpochStats",
    "History",
    "KernelOptions",
    "Outcome",
    "RunResult",
    "RunState",
    "Verdict",
    "check_params",
    "r2_score",
    "reported_params",
    "run_loop",
    "threads_for",
    "train",
    "user_stacklevel",
    "warn_diverged",
]
