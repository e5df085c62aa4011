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

:func:`load_file` reads a CSV, Parquet, ``.npy`` or ``.npz`` file with a named
target column for the command line.
"""

from __future__ import annotations

import csv
import os
import warnings
from numbers import Integral, Real

import numpy as np

__all__ = [
    "diabetes",
    "load_file",
    "ravine",
    "spread_scales",
    "well_conditioned",
]

FILE_FORMATS = (".csv", ".parquet", ".pq", ".npy", ".npz")


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}.")
    return int(value)


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
    return np.random.default_rng(_check_int("random_state", random_state, 0))


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
    n = _check_int("n_samples", n_samples, 2)
    d = _check_int("n_features", n_features, 1)
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
    d = _check_int("n_features", n_features, 2)
    n = _check_int("n_samples", n_samples, d + 1)
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
    n = _check_int("n_samples", n_samples, 2)
    d = _check_int("n_features", n_features, 2)
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


# ----------------------------------------------------------------- user files
def load_file(path, target=None):
    """Read a numeric table from a file and split off the target column.

    Formats, chosen by the file extension:

    - ``.csv``: a header line of column names, then one row per line, comma
      separated (double quotes allowed); every value must be a number;
    - ``.parquet`` / ``.pq``: read with pyarrow (``pip install
      'fastsgd[parquet]'``); every column must be numeric;
    - ``.npy``: a 2-D numeric array (columns named ``x0``, ``x1``, ...) or a
      1-D structured array (columns named by its fields);
    - ``.npz``: either arrays ``X`` (2-D) and ``y`` (1-D), with an optional
      ``feature_names`` array (the target is then ``y``, or the name given),
      or one 1-D array per column, named by its key.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    target : str or None, default=None
        Name of the target column. For unnamed ``.npy`` columns it may also
        be an integer index such as ``-1`` (the last column). ``None`` reads
        features only (for prediction).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The other columns, float64, C-contiguous.
    y : ndarray of shape (n_samples,) or None
        The target column, float64 (None when ``target`` is None).
    feature_names : list of str
        The names of the columns of ``X``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        For an unknown extension, an unreadable file, a missing target column,
        or a non-numeric or non-finite value.
    ImportError
        For Parquet without pyarrow.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory, not a data file")
    ext = os.path.splitext(path)[1].lower()
    if ext not in FILE_FORMATS:
        raise ValueError(
            f"cannot read {path}: unknown extension {ext or '(none)'!r}; "
            f"expected one of {', '.join(FILE_FORMATS)}"
        )
    if target is not None and not isinstance(target, str):
        target = str(target)
    if ext == ".csv":
        names, table = _read_csv(path)
    elif ext in (".parquet", ".pq"):
        names, table = _read_parquet(path)
    elif ext == ".npy":
        names, table = _read_npy(path)
    else:
        names, table, default_target = _read_npz(path)
        if target is None and default_target is not None:
            # an X/y archive: features are X whatever the target
            target_idx = names.index(default_target)
            names = names[:target_idx] + names[target_idx + 1 :]
            table = np.delete(table, target_idx, axis=1)
    if table.shape[0] == 0:
        raise ValueError(f"{path} has no data rows")
    y = None
    if target is not None:
        j = _target_index(names, target, path)
        y = np.ascontiguousarray(table[:, j])
        names = names[:j] + names[j + 1 :]
        table = np.delete(table, j, axis=1)
        if not names:
            raise ValueError(f"{path} has no feature columns besides {target!r}")
    bad = ~np.isfinite(table)
    if y is not None and not np.all(np.isfinite(y)):
        raise ValueError(f"target column {target!r} of {path} has NaN or infinity")
    if bad.any():
        col = names[int(np.flatnonzero(bad.any(axis=0))[0])]
        raise ValueError(f"column {col!r} of {path} has NaN or infinity")
    return np.ascontiguousarray(table, dtype=np.float64), y, names


def _target_index(names, target, path):
    if target in names:
        return names.index(target)
    try:
        j = int(target)
    except ValueError:
        j = None
    if j is not None and all(n == f"x{i}" for i, n in enumerate(names)):
        if -len(names) <= j < len(names):
            return j % len(names)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    raise ValueError(f"no column {target!r} in {path} (columns: {shown})")


def _read_csv(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
            if not header or not any(h.strip() for h in header):
                raise ValueError(f"{path} is empty or has no header line")
            names = [h.strip() for h in header]
            with warnings.catch_warnings():
                # a header without rows: reported below as "no data rows"
                warnings.filterwarnings("ignore", "loadtxt: input contained no data")
                table = np.loadtxt(
                    fh, delimiter=",", quotechar='"', dtype=np.float64, ndmin=2
                )
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {path}: not a UTF-8 text CSV file") from None
    except ValueError as exc:
        if "empty or has no header" in str(exc):
            raise
        raise ValueError(f"cannot read {path}: {_csv_problem(exc, names)}") from None
    if len(set(names)) != len(names):
        raise ValueError(f"{path} has duplicate column names")
    if table.size == 0:
        table = np.zeros((0, len(names)))
    if table.shape[1] != len(names):
        raise ValueError(
            f"{path} has {len(names)} column names but {table.shape[1]} values a row"
        )
    return names, table


def _csv_problem(exc, names):
    """Turn numpy's parse error into a message that names the column."""
    msg = str(exc)
    # numpy: "could not convert string 'abc' to float64 at row 2, column 3."
    if "column" in msg and "convert" in msg:
        try:
            col = int(msg.rsplit("column", 1)[1].strip(" .")) - 1
            value = msg.split("'")[1] if "'" in msg else "?"
            row = msg.split("row", 1)[1].split(",")[0].strip()
            name = names[col] if 0 <= col < len(names) else f"#{col + 1}"
            return (
                f"non-numeric value {value!r} in column {name!r} "
                f"(data row {int(row) + 1})"
            )
        except (IndexError, ValueError):
            pass
    return msg.rstrip(".")


def _read_parquet(path):
    try:
        import pyarrow.parquet as pq
        import pyarrow.types as pat
    except ImportError:
        raise ImportError(
            "reading Parquet needs pyarrow: pip install 'fastsgd[parquet]'"
        ) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid, OSError...
        raise ValueError(f"cannot read {path} as Parquet: {exc}") from None
    names = [str(n) for n in table.column_names]
    cols = []
    for name, column in zip(names, table.columns, strict=True):
        if not (
            pat.is_integer(column.type)
            or pat.is_floating(column.type)
            or pat.is_boolean(column.type)
            or pat.is_decimal(column.type)
        ):
            raise ValueError(
                f"column {name!r} of {path} is not numeric ({column.type})"
            )
        if column.null_count:
            raise ValueError(f"column {name!r} of {path} has missing values")
        cols.append(np.asarray(column.to_numpy(), dtype=np.float64))
    if not cols:
        raise ValueError(f"{path} has no columns")
    return names, np.column_stack(cols)


def _numeric(array, what, path):
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{what} of {path} is not numeric (dtype {array.dtype})")
    return np.asarray(array, dtype=np.float64)


def _read_npy(path):
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"cannot read {path} as .npy: {exc}") from None
    if array.dtype.names:
        names = list(array.dtype.names)
        cols = [_numeric(array[n], f"column {n!r}", path) for n in names]
        return names, np.column_stack(cols).reshape(len(array), len(names))
    if array.ndim != 2:
        raise ValueError(
            f"{path} holds an array of shape {array.shape}; expected a 2-D table"
        )
    table = _numeric(array, "the array", path)
    return [f"x{j}" for j in range(table.shape[1])], table


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except Exception as exc:
        raise ValueError(f"cannot read {path} as .npz: {exc}") from None
    if not arrays:
        raise ValueError(f"{path} holds no arrays")
    if "X" in arrays and "y" in arrays:
        X = arrays["X"]
        y = arrays["y"]
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise ValueError(
                f"{path}: X must be 2-D and y 1-D with as many rows; got "
                f"{X.shape} and {y.shape}"
            )
        if "feature_names" in arrays:
            names = [str(n) for n in arrays["feature_names"]]
            if len(names) != X.shape[1]:
                raise ValueError(
                    f"{path}: {len(names)} feature_names for {X.shape[1]} columns"
                )
        else:
            names = [f"x{j}" for j in range(X.shape[1])]
        if "y" in names:
            raise ValueError(f"{path}: a feature is named 'y', like the target")
        X = _numeric(X, "X", path)
        y = _numeric(y, "y", path)
        return names + ["y"], np.column_stack([X, y]), "y"
    names = list(arrays)
    n = {a.shape[0] if a.ndim == 1 else -1 for a in arrays.values()}
    if len(n) != 1 or -1 in n:
        raise ValueError(
            f"{path}: expected arrays 'X' and 'y', or one 1-D array per column "
            "with equal lengths"
        )
    cols = [_numeric(arrays[k], f"column {k!r}", path) for k in names]
    return names, np.column_stack(cols), None
