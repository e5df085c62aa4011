"""fastsgd: fast, trustworthy gradient-method training of linear models.

Numba-compiled epochs under a scikit-learn estimator: :class:`SGDRegressor` is
a drop-in superset of scikit-learn's, :func:`closed_form` the exact
least-squares answer to compare with.
"""

from ._sweep import SweepResult, lr_sweep
from ._training import EpochInfo, RunResult, RunState
from .closed_form import IllConditionedWarning, closed_form
from .diagnostics import Diagnosis, diagnose
from .linear_model import DivergenceWarning, SGDRegressor
from .stream import ChunkSource, fit_stream
from .warmup import compile_kernels

__all__ = [
    "ChunkSource",
    "Diagnosis",
    "DivergenceWarning",
    "EpochInfo",
    "IllConditionedWarning",
    "RunResult",
    "RunState",
    "SGDRegressor",
    "SweepResult",
    "closed_form",
    "compile_kernels",
    "diagnose",
    "fit_stream",
    "lr_sweep",
]
__version__ = "0.1.0.dev0"
