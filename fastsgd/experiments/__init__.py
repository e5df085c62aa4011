"""The lecture's experiments, as functions that return data.

Each scenario of ``fastsgd compare`` (and ``fastsgd sweep``) is one function
here, taking a :class:`Problem` and plain arguments and returning a small
dataclass of results (rows, curves, the optimum...); none prints or draws.
The command line (:mod:`fastsgd.cli`) prints their tables and draws their
figures with :mod:`fastsgd.plotting`.

=================  ==========================  =======================
scenario           computed by                 returns
=================  ==========================  =======================
``optimizers``     :func:`run_optimizers`      :class:`OptimizersResult`
``endings``        :func:`run_endings`         :class:`EndingsResult`
``ravine``         :func:`run_ravine`          :class:`RavineResult`
``batch-noise``    :func:`run_batch_noise`     :class:`BatchNoiseResult`
``lr-test``        :func:`run_lr_test`         :class:`LrTestResult`
``adamw-vs-l2``    :func:`run_adamw_vs_l2`     :class:`AdamWResult`
``sweep``          :func:`run_sweep`           :class:`LrSweepResult`
=================  ==========================  =======================

Each lives in the module of the same name; :mod:`~.problems` holds the data
(:func:`embedded_problem`, :func:`table_problem`, :func:`spread_problem`) and
:mod:`~.runs` what the experiments share (timed fits, the closed form).
Every function takes ``progress``, called as ``progress(done, total, text)``
after each run.
"""

from .adamw_vs_l2 import AdamWResult, run_adamw_vs_l2
from .batch_noise import BatchNoiseResult, run_batch_noise
from .endings import EndingRun, EndingsResult, run_endings
from .lr_test import LrTestResult, run_lr_test
from .optimizers import METHODS, MethodRun, OptimizersResult, run_optimizers
from .problems import (
    EMBEDDED,
    Problem,
    curvature,
    embedded_problem,
    spread_problem,
    table_problem,
)
from .ravine import PathRun, RavineResult, run_ravine
from .runs import ExperimentError
from .sweep import DEFAULT_ETAS, LrSweepResult, run_sweep

__all__ = [
    "DEFAULT_ETAS",
    "EMBEDDED",
    "METHODS",
    "AdamWResult",
    "BatchNoiseResult",
    "EndingRun",
    "EndingsResult",
    "ExperimentError",
    "LrSweepResult",
    "LrTestResult",
    "MethodRun",
    "OptimizersResult",
    "PathRun",
    "Problem",
    "RavineResult",
    "curvature",
    "embedded_problem",
    "run_adamw_vs_l2",
    "run_batch_noise",
    "run_endings",
    "run_lr_test",
    "run_optimizers",
    "run_ravine",
    "run_sweep",
    "spread_problem",
    "table_problem",
]
