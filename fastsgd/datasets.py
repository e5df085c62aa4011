"""The embedded demo problems, and a loader for a user's data file.

Every problem is generated deterministically from ``random_state`` (nothing is
downloaded) and returned as float64 arrays:

- :func:`well_conditioned`: Gaussian features, a linear target plus noise; the
  problem on which every method should converge, and the default of
  ``fastsgd compare``;
- :func:`ravine`: correlated features whose Hessian has a chosen condition
  number: GD crawls, momentum and Adam shine; with two features, for
  parameter trajectories drawn over the loss contours;
- :func:`spread_scales`: features whose scales span two decades, for the
  Adam + L2 against AdamW experiment (and the "unscaled features" warning);
- :func:`diabetes`: scikit-learn's bundled diabetes data, standardized.

:func:`load_table`, :func:`load_file` and :class:`CsvFile`, which read a
user's data file, live in :mod:`fastsgd.tables` and are importable from here
too.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from ._util import check_int
from .tables import (  # noqa: F401  (importable from here, as before)
    FILE_FORMATS,
    MISSING_POLICIES,
    MISSING_TOKENS,
    CsvFile,
    Table,
    load_file,
    load_table,
    missing_message,
)

__all__ = [
    "CsvFile",
    "Table",
    "diabetes",
    "load_file",
    "load_table",
    "missing_message",
    "ravine",
    "spread_scales",
    "well_conditioned",
]


def _check_real(name, value, low, strict=True):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}.")
    value = float(value)
    if not np.isfinite(value) or value < low or (strict and value == low):
        op = ">" if strict else ">="
        raise ValueError(f"{name} must be finite and {op} {low}; got {value}.")
    return value


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, bool):
        raise TypeError("random_state must be an int or a numpy Generator.")
    return np.random.default_rng(check_int("random_state", random_state, 0))


def well_conditioned(
    n_samples=2000,
    n_features=20,
    noise=0.5,
    intercept=1.0,
    random_state=0,
    return_coef=False,
):
    """Return a well-conditioned linear regression problem.

    Features are independent standard normal, so the Hessian of the squared
    loss is close to the identity (condition number about
    ``((1 + sqrt(d/n)) / (1 - sqrt(d/n)))**2``, 1.5 at the defaults). The
    target is ``X @ coef + intercept + noise * N(0, 1)`` with ``coef`` drawn
    from N(0, 1).

    Parameters
    ----------
    n_samples : int, default=2000
        Number of rows, >= 2.
    n_features : int, default=20
        Number of features, >= 1.
    noise : float, default=0.5
        Standard deviation of the Gaussian noise, in [0, inf).
    intercept : float, default=1.0
        The true intercept.
    random_state : int or numpy.random.Generator, default=0
        Seed (>= 0) of the generator; the same seed gives the same problem.
    return_coef : bool, default=False
        Also return the true coefficients.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features, float64.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    coef : ndarray of shape (n_features,)
        The true coefficients (only with ``return_coef=True``).
    """
    n = check_int("n_samples", n_samples, 2)
    d = check_int("n_features", n_features, 1)
    noise = _check_real("noise", noise, 0.0)
    intercept = _check_real("intercept", intercept, -np.inf)
    rng = _rng(random_state)
    X = rng.standard_normal((n, d))
    coef = rng.standard_normal(d)
    y = X @ coef + intercept + noise * rng.standard_normal(n)
    return (X, y, coef) if return_coef else (X, y)


def ravine(
    n_samples=500,
    n_features=2,
    condition=50.0,
    noise=0.3,
    coef=None,
    angle=45.0,
    random_state=0,
    return_coef=False,
):
    """Return an ill-conditioned problem: a long, narrow valley.

    The features are centered and exactly whitened, then scaled and rotated
    so that the Hessian ``X.T @ X / n_samples`` has eigenvalues log-spaced
    from 1 down to exactly ``1 / condition``. With two features the steep
    axis points at ``angle`` degrees and the loss surface over
    ``(coef[0], coef[1])`` is the family of ellipses drawn by
    :func:`fastsgd.plotting.plot_trajectories`; with more, the directions are
    a random rotation. The target ``X @ coef + noise`` is centered too, so the
    intercept decouples from the weights: fit with ``fit_intercept=False``.

    Parameters
    ----------
    n_samples : int, default=500
        Number of rows, >= n_features + 1.
    n_features : int, default=2
        Number of features, >= 2.
    condition : float, default=50.0
        Condition number of the Hessian ``X.T X / n``, in [1, inf).
    noise : float, default=0.3
        Standard deviation of the noise, in [0, inf).
    coef : array-like of shape (n_features,), default=None
        The true coefficients: ``(2, -1)`` for two features (the valley runs
        from the origin to them at the default angle), else drawn from N(0, 1).
    angle : float, default=45.0
        Direction of the steep axis in degrees (two features only).
    random_state : int or numpy.random.Generator, default=0
        Seed (>= 0).
    return_coef : bool, default=False
        Also return the true coefficients.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features, float64, centered.
    y : ndarray of shape (n_samples,)
        Targets, float64, centered.
    coef : ndarray of shape (n_features,)
        The true coefficients (only with ``return_coef=True``).
    """
    d = check_int("n_features", n_features, 2)
    n = check_int("n_samples", n_samples, d + 1)
    condition = _check_real("condition", condition, 1.0)
    noise = _check_real("noise", noise, 0.0)
    angle = _check_real("angle", angle, -np.inf)
    rng = _rng(random_state)
    if coef is None:
        coef = np.array([2.0, -1.0]) if d == 2 else rng.standard_normal(d)
    coef = np.asarray(coef, dtype=np.float64)
    if coef.shape != (d,) or not np.all(np.isfinite(coef)):
        raise ValueError(f"coef must be {d} finite numbers.")
    Z = rng.standard_normal((n, d))
    Z -= Z.mean(axis=0)
    # whiten exactly: Z.T Z / n = I, so the Hessian below is exactly as asked
    chol = np.linalg.cholesky(Z.T @ Z / n)
    Z = np.linalg.solve(chol, Z.T).T
    if d == 2:
        theta = np.deg2rad(angle)
        rot = np.array(
            [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
        )
    else:
        rot, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = Z * np.sqrt(np.geomspace(1.0, 1.0 / condition, d)) @ rot.T
    e = rng.standard_normal(n)
    y = X @ coef + noise * (e - e.mean())
    return (X, y, coef.copy()) if return_coef else (X, y)


def spread_scales(
    n_samples=1000,
    n_features=8,
    low=0.1,
    high=10.0,
    noise=0.5,
    random_state=0,
    return_coef=False,
):
    """Return a problem whose feature scales span ``low`` to ``high``.

    Column ``j`` has standard deviation ``s_j``, log-spaced from ``low`` to
    ``high``, and true coefficient ``1 / s_j`` so that every feature moves the
    target by the same amount. Unscaled features like these are the most
    common reason for a learning rate that explodes on one coordinate and
    crawls on another; under Adam they also make coupled L2 and decoupled
    weight decay differ.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows, >= 2.
    n_features : int, default=8
        Number of features, >= 2.
    low, high : float, default=0.1, 10.0
        Smallest and largest column scale, 0 < low <= high.
    noise : float, default=0.5
        Standard deviation of the noise, in [0, inf).
    random_state : int or numpy.random.Generator, default=0
        Seed (>= 0).
    return_coef : bool, default=False
        Also return the true coefficients.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features, float64.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    coef : ndarray of shape (n_features,)
        The true coefficients (only with ``return_coef=True``).
    """
    n = check_int("n_samples", n_samples, 2)
    d = check_int("n_features", n_features, 2)
    low = _check_real("low", low, 0.0, strict=True)
    high = _check_real("high", high, low)
    noise = _check_real("noise", noise, 0.0)
    rng = _rng(random_state)
    scales = np.geomspace(low, high, d)
    X = rng.standard_normal((n, d)) * scales
    coef = 1.0 / scales
    y = X @ coef + noise * rng.standard_normal(n)
    return (X, y, coef) if return_coef else (X, y)


def diabetes(standardize_target=True):
    """Return scikit-learn's bundled diabetes data, standardized.

    442 patients, 10 baseline variables (age, sex, body mass index, blood
    pressure and six serum measurements), target a measure of disease
    progression one year later. Each feature is shifted and scaled to mean 0
    and standard deviation 1; so is the target unless ``standardize_target``
    is False. The data ship with scikit-learn: nothing is downloaded.

    Parameters
    ----------
    standardize_target : bool, default=True
        Also standardize the target (its raw scale is 25 to 346).

    Returns
    -------
    X : ndarray of shape (442, 10)
        Standardized features, float64.
    y : ndarray of shape (442,)
        Targets, float64.
    feature_names : list of str
        The column names.
    """
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    X = np.asarray(data.data, dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.asarray(data.target, dtype=np.float64)
    if standardize_target:
        y = (y - y.mean()) / y.std()
    return X, y, list(data.feature_names)
