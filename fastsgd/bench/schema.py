"""The JSON document of ``fastsgd bench``, as dataclasses.

:func:`fastsgd.bench.run` returns (and ``--json`` writes) one object: a
:class:`BenchResults` turned into plain JSON. Each class below is one
section of it, named after the field that holds it (``top`` for the
document itself); each field is one key, with its type (``X | None`` may be
null; a nested class is an object, ``list[...]`` an array). Every entry of
the document is built through these classes, and the tests read them, so
the documentation and the output cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

__all__ = [
    "SCHEMA",
    "BenchResults",
    "ColdStart",
    "Competitor",
    "Machine",
    "Memory",
    "OrderCheck",
    "RawAccuracy",
    "Row",
    "SparseAdaptiveCost",
    "Target",
    "TimeToAccuracy",
    "Versions",
    "to_json",
]

SCHEMA = "fastsgd-bench/1"

#: accuracies are equal when fastsgd's test MSE is at most this times the
#: competitor's: issue 13's accuracy target (test MSE over the optimum's within
#: 3% of scikit-learn's on the same data and epochs). Runs of per-example SGD
#: that differ only in their seed spread by about 1% at 100 000 rows and 3
#: epochs, so a tighter rule would flag noise.
MATCH_TOLERANCE = 1.03


@dataclasses.dataclass(kw_only=True)
class Machine:
    """Section ``machine``: where the benchmark ran.

    Attributes
    ----------
    cpu : str
        CPU model (``/proc/cpuinfo``, else ``platform``).
    cores : int
        Logical CPUs of the machine.
    usable_cores : int
        CPUs this process may run on.
    platform : str
        ``platform.platform()``.
    memory_bytes : int or None
        Physical memory.
    load_average : list of float or None
        1, 5 and 15-minute load before the run.
    """

    cpu: str
    cores: int
    usable_cores: int
    platform: str
    memory_bytes: int | None
    load_average: list[float] | None


@dataclasses.dataclass(kw_only=True)
class Versions:
    """Section ``versions``: the versions of Python and the libraries measured.

    Attributes
    ----------
    python, numpy, scipy, numba, sklearn, fastsgd : str
        Versions.
    torch : str or None
        torch's version, None when it is not installed.
    """

    python: str
    numpy: str
    scipy: str
    numba: str
    sklearn: str
    fastsgd: str
    torch: str | None


@dataclasses.dataclass(kw_only=True)
class Competitor:
    """Section ``competitors``: one competitor of a row, by label.

    Attributes
    ----------
    seconds : float
        The competitor's best whole-fit time.
    speedup : float
        ``seconds`` over fastsgd's ``fit_seconds``.
    accuracy_ratio : float
        The competitor model's test MSE over the closed form's.
    epoch_seconds : float or None
        The competitor's epoch time, ``(fit of E epochs - fit of 1 epoch) /
        (E - 1)``, which leaves out what a fit pays once (input validation,
        set-up); None except for per-example rows.
    epoch_speedup : float or None
        ``epoch_seconds`` over fastsgd's epoch time measured the same way;
        None except for per-example rows.
    less_accurate : bool
        fastsgd's test MSE exceeds the competitor's by more than
        ``MATCH_TOLERANCE`` (3%): the speed-up is not at equal accuracy, and
        the report does not print it.
    """

    seconds: float
    speedup: float
    accuracy_ratio: float
    epoch_seconds: float | None = None
    epoch_speedup: float | None = None
    less_accurate: bool = False


@dataclasses.dataclass(kw_only=True)
class Row:
    """Section ``rows``: one fastsgd configuration raced against competitors.

    Attributes
    ----------
    group : str
        ``"sgd"`` (per-example), ``"sparse"``, ``"optim"`` or ``"multi"``
        (several targets in one fit; ``accuracy_ratio`` is then the mean test
        MSE over the targets over the closed form's).
    name : str
        Short label of the configuration.
    n_samples, n_features : int
        Training data shape.
    dtype : str
        ``"float64"`` or ``"float32"``.
    input : str
        ``"dense"`` or ``"csr"``.
    density : float or None
        Fraction of non-zeros (CSR only).
    optimizer : str
        fastsgd's ``optimizer``.
    batch_size : int
        fastsgd's ``batch_size``.
    sampling : str
        ``"default"`` (``SGDRegressor()``'s order), ``"permutation"``,
        ``"blocks"`` or ``"inorder"``.
    epochs : int
        Epochs per fit.
    fit_seconds : float
        Best time of a whole ``fit``.
    epoch_seconds : float
        Best time of one compiled epoch.
    samples_per_s : float
        Rows per second of an epoch.
    gb_per_s : float
        Bytes of X read per second in an epoch, 1e9 bytes.
    sum_gb_per_s : float
        The same bytes read by NumPy's sum, 1e9 bytes/s.
    bandwidth_fraction : float
        ``gb_per_s / sum_gb_per_s``.
    accuracy_ratio : float
        Test MSE over the closed form's test MSE.
    diverged : bool
        fastsgd stopped the fit as diverged.
    competitors : dict of str to Competitor
        By competitor label: ``"sklearn"`` (scikit-learn's per-example
        ``SGDRegressor``; for ``"multi"`` rows, ``MultiOutputRegressor`` of
        it), ``"torch"`` (the same optimizer in ``torch.optim``),
        ``"single_target"`` (``"multi"`` rows: fastsgd's fit of the first
        target alone).
    """

    group: str
    name: str
    n_samples: int
    n_features: int
    dtype: str
    input: str
    density: float | None
    optimizer: str
    batch_size: int
    sampling: str
    epochs: int
    fit_seconds: float
    epoch_seconds: float
    samples_per_s: float
    gb_per_s: float
    sum_gb_per_s: float
    bandwidth_fraction: float
    accuracy_ratio: float
    diverged: bool
    competitors: dict[str, Competitor]


@dataclasses.dataclass(kw_only=True)
class TimeToAccuracy:
    """Section ``time_to_accuracy``: one method on one problem size.

    Attributes
    ----------
    method : str
        ``"closed_form"``, ``"sgd"``, ``"minibatch"`` or ``"sklearn"``.
    n_samples, n_features : int
        Data shape.
    seconds : float or None
        Time of the shortest fit whose training MSE is within 1% of the
        closed form's (None when not reached).
    epochs : int or None
        Epochs of that fit (None for the closed form or when not reached).
    mse_ratio : float
        Training MSE over the closed form's, for the last fit tried.
    reached : bool
        Whether the method got within 1% of the optimum.
    """

    method: str
    n_samples: int
    n_features: int
    seconds: float | None
    epochs: int | None
    mse_ratio: float
    reached: bool


@dataclasses.dataclass(kw_only=True)
class RawAccuracy:
    """Section ``raw``: ``learning_rate="auto"`` on one raw-data problem.

    Attributes
    ----------
    problem : str
        ``"diabetes"``, ``"wide_scales"`` or ``"text_like"`` (see
        :mod:`fastsgd.bench.raw`).
    input : str
        ``"dense"`` or ``"csr"``.
    n_samples, n_features : int
        Training data shape (of the first seed's split).
    batch_size : int
        Rows per step.
    epochs : int or None
        Epochs (None: the estimator's defaults, ``max_iter=1000`` with
        ``tol=1e-3``).
    seeds : int
        Data splits and fits measured.
    accuracy_ratio : float
        Median test MSE over the closed form's test MSE (1.0 is the optimum).
    worst_ratio : float
        The largest of them.
    default_ratio : float or None
        The same for the estimator's defaults (``'invscaling'``, ``eta0=0.01``)
        on the same raw data (None: not finite).
    fit_seconds : float
        Median wall time of an ``"auto"`` fit.
    diverged, zero_model : bool
        Whether any ``"auto"`` fit diverged, or ended with all coefficients 0.
    vw_ratio : float or None
        Vowpal Wabbit's median ratio at its best ``-l`` (None: not run).
    vw_best_l : float or None
        That ``-l`` (median over seeds).
    """

    problem: str
    input: str
    n_samples: int
    n_features: int
    batch_size: int
    epochs: int | None
    seeds: int
    accuracy_ratio: float
    worst_ratio: float
    default_ratio: float | None
    fit_seconds: float
    diverged: bool
    zero_model: bool
    vw_ratio: float | None
    vw_best_l: float | None


@dataclasses.dataclass(kw_only=True)
class SparseAdaptiveCost:
    """Section ``sparse_adaptive``: one per-example CSR epoch of an optimizer.

    Attributes
    ----------
    optimizer : str
        ``"adagrad"`` or ``"rmsprop"``.
    n_samples, n_features : int
        Data shape (the same rows at every width).
    nnz_per_row : float
        Mean stored values a row.
    epoch_seconds : float
        Best compiled-call time of the epoch.
    """

    optimizer: str
    n_samples: int
    n_features: int
    nnz_per_row: float
    epoch_seconds: float


@dataclasses.dataclass(kw_only=True)
class Memory:
    """Section ``memory``: the peak memory one contender's fit allocates.

    Attributes
    ----------
    contender : str
        ``"fastsgd epoch"``, ``"fastsgd blocks"`` or ``"sklearn"``.
    dtype : str
        Dtype of the data.
    n_samples, n_features : int
        Data shape.
    data_bytes : int
        Bytes of X and y.
    peak_bytes : int
        Peak of the memory allocated during ``fit``.
    peak_over_data : float
        ``peak_bytes / data_bytes``.
    """

    contender: str
    dtype: str
    n_samples: int
    n_features: int
    data_bytes: int
    peak_bytes: int
    peak_over_data: float


@dataclasses.dataclass(kw_only=True)
class ColdStart:
    """Section ``cold_start``: fresh processes, warm and (``--full``) cold.

    Attributes
    ----------
    warm_seconds : float
        Best wall time of a fresh process that imports fastsgd and fits a
        small model, compile cache warm.
    warm_import_seconds, warm_fit_seconds : float
        Its parts.
    sklearn_seconds : float
        The same for scikit-learn's ``SGDRegressor``, alternating with
        fastsgd's runs.
    warm_over_sklearn : float
        ``warm_seconds / sklearn_seconds``.
    cold_import_seconds : float or None
        Best wall time of a fresh process that only imports fastsgd, with an
        empty ``NUMBA_CACHE_DIR`` (``--full``).
    sklearn_import_seconds : float or None
        The same for ``sklearn.linear_model``.
    cold_import_over_sklearn : float or None
        Their ratio.
    cold_seconds : float or None
        The first default fit of a fresh process on an empty
        ``NUMBA_CACHE_DIR`` (the import excluded).
    compile_seconds : dict of str to float, or None
        That first fit for each configuration of ``COMPILE_CONFIGS``, run one
        after the other on one cache (each compiles what the ones before it
        did not).
    second_process_compiles : int or None
        Kernels compiled by a second process on that cache (0 is a cache
        hit).
    cache_dir : str
        Where the compiled kernels are cached by default.
    """

    warm_seconds: float
    warm_import_seconds: float
    warm_fit_seconds: float
    sklearn_seconds: float
    warm_over_sklearn: float
    cold_import_seconds: float | None = None
    sklearn_import_seconds: float | None = None
    cold_import_over_sklearn: float | None = None
    cold_seconds: float | None = None
    compile_seconds: dict[str, float] | None = None
    second_process_compiles: int | None = None
    cache_dir: str


@dataclasses.dataclass(kw_only=True)
class OrderCheck:
    """Section ``orders``: the default order against a full permutation.

    On training rows stored in an adversarial order (see
    :mod:`fastsgd.bench.orders`), the test MSE over the optimum's of fits
    with the default shuffle and with ``sampling="permutation"``, one per
    seed.

    Attributes
    ----------
    kind : str
        The order of the rows: ``"target"`` (sorted by the target),
        ``"feature"`` (sorted by one feature), ``"clusters"`` (near-duplicates
        grouped) or ``"drift"`` (features drifting along the rows).
    config : str
        ``"per-example"`` or ``"adam-batch-32"``.
    epochs : int
        Epochs of each fit.
    permutation : list of float
        The permutation's test MSE over the optimum's, by seed.
    default : list of float
        The default order's, by seed.
    tolerance : float
        How far the default may lie outside the permutation's range.
    within : bool
        Every default fit lies in the permutation's range, widened by
        ``tolerance``.
    """

    kind: str
    config: str
    epochs: int
    permutation: list[float]
    default: list[float]
    tolerance: float
    within: bool


@dataclasses.dataclass(kw_only=True)
class Target:
    """Section ``targets``: one of the package's performance targets.

    Attributes
    ----------
    target : str
        What is measured.
    goal : float
        The threshold.
    value : float or None
        The measurement, None when not measured.
    met : bool or None
        None when not measured.
    higher_is_better : bool
        Whether ``value`` must reach ``goal`` from above (else from below).
    """

    target: str
    goal: float
    value: float | None
    met: bool | None
    higher_is_better: bool


@dataclasses.dataclass(kw_only=True)
class BenchResults:
    """Section ``top``: the whole document.

    Attributes
    ----------
    schema : str
        ``"fastsgd-bench/1"``.
    mode : str
        ``"quick"`` or ``"full"``.
    created : str
        UTC time of the run, ISO 8601.
    seconds : float
        Wall time of the whole run.
    scale : float
        Multiplier applied to the numbers of rows.
    repeats : int
        Timed rounds per problem.
    machine : Machine
        Where it ran.
    versions : Versions
        What it ran.
    rows : list of Row
        One entry per fastsgd configuration.
    time_to_accuracy : list of TimeToAccuracy
        Time to 1% of the optimum, by method and size.
    raw : list of RawAccuracy
        ``learning_rate="auto"`` on raw (unscaled) data.
    sparse_adaptive : list of SparseAdaptiveCost
        Per-example AdaGrad/RMSProp CSR epochs against the number of columns.
    memory : list of Memory
        Peak memory of a fit, by contender and dtype.
    cold_start : ColdStart or None
        Fresh processes (None when skipped).
    orders : list of OrderCheck
        The default order's accuracy against the permutation's.
    targets : list of Target
        The package's performance targets.
    notes : list of str
        Free-text remarks (skipped contenders, machine load).
    """

    schema: str = SCHEMA
    mode: str
    created: str
    seconds: float
    scale: float
    repeats: int
    machine: Machine
    versions: Versions
    rows: list[Row]
    time_to_accuracy: list[TimeToAccuracy]
    raw: list[RawAccuracy]
    sparse_adaptive: list[SparseAdaptiveCost]
    memory: list[Memory]
    cold_start: ColdStart | None
    orders: list[OrderCheck] = dataclasses.field(default_factory=list)
    targets: list[Target]
    notes: list[str]


def to_json(obj):
    """Return ``obj`` as strict JSON data: dataclasses as dicts, plain types.

    Dataclasses become dicts (recursively), NumPy scalars Python numbers and
    non-finite floats None.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj
