"""Helpers shared by several modules: checks, errors, files, progress.

Private to the package (the command line, the benchmarks and the
experiments use them); nothing here is part of the public API.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import tempfile

import numpy as np


# ------------------------------------------------------------------ checks
def check_int(name, value, low):
    """Return ``value`` as an int after checking it is an integer >= ``low``.

    Raises
    ------
    TypeError
        When ``value`` is not an integer (a bool is not one).
    ValueError
        When ``value < low``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}.")
    return int(value)


# ------------------------------------------------------------------ errors
def mse(X, y, coef, intercept) -> float:
    """Return the mean squared error of ``X @ coef + intercept`` against ``y``.

    Computed in float64 for dense or sparse ``X``; ``intercept`` is a number
    or a one-element array. A non-finite residual (a diverged model) gives
    ``inf``.
    """
    import scipy.sparse as sp

    coef = np.asarray(coef, dtype=np.float64).ravel()
    if sp.issparse(X):
        pred = X.astype(np.float64) @ coef
    else:
        pred = np.asarray(X, dtype=np.float64) @ coef
    r = pred + float(np.asarray(intercept).ravel()[0]) - np.asarray(y, np.float64)
    if not np.all(np.isfinite(r)):
        return math.inf
    return float(np.mean(r * r))


def format_rate(x) -> str:
    """Format a per-second figure compactly: ``1.23M``, ``456k`` (``-``: not finite)."""
    if not math.isfinite(x):
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


# ------------------------------------------------------------------- files
def unwritable(path):
    """Say why a file cannot be written at ``path`` (before any work), or None.

    Returns
    -------
    tuple of (str, str) or None
        ``(reason, folder)`` with reason ``"directory"`` (``path`` is a
        folder), ``"no folder"`` (its folder does not exist) or ``"read-only"``
        (the folder is not writable); None when the file can be written.
    """
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        return "directory", folder
    if not os.path.isdir(folder):
        return "no folder", folder
    if not os.access(folder, os.W_OK):
        return "read-only", folder
    return None


def _umask():
    """Return the process umask (reading it means setting it: set it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    Whatever is written to the temporary path replaces ``path`` in one
    rename when the block ends without an exception, with the permissions
    ``open()`` would give a new file; on an exception the temporary file is
    removed and ``path`` is left as it was.
    """
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        yield tmp
        # mkstemp makes the file 0600; give it the permissions open() would
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path, payload: bytes) -> None:
    """Write ``payload`` to ``path``: a complete file or none (see atomic_path)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(payload)


# ---------------------------------------------------------------- progress
def progress_bar(total, desc, *, quiet=False, file=None, draw=None, **options):
    """Return a ``tqdm.auto`` progress bar that draws only where it helps.

    The bar goes to ``file`` (default ``sys.stderr``), only when that is a
    terminal (or a notebook) and not ``quiet`` (``draw=True``: always), and
    disappears when closed (unless ``leave=True``).

    Parameters
    ----------
    total : int
        Units of work.
    desc : str
        Text before the bar.
    quiet : bool, default=False
        Never draw.
    file : file-like or None, default=None
        Where to draw; None means ``sys.stderr`` at the time of the call.
    draw : bool or None, default=None
        True draws even when ``file`` is not a terminal; None decides by the
        terminal.
    **options
        More ``tqdm`` options (``unit``, ``mininterval``...).

    Returns
    -------
    tqdm.auto.tqdm
        Use ``update``, ``set_postfix_str`` and ``close`` (or ``with``);
        ``bar.disable`` says whether it draws.
    """
    from tqdm.auto import tqdm

    # disable=None: off when file is not a TTY
    disable = True if quiet or draw is False else (False if draw else None)
    kw = {"leave": False, "dynamic_ncols": True, **options}
    return tqdm(total=total, desc=desc, file=file, disable=disable, **kw)


@contextlib.contextmanager
def progress_reports(desc, *, quiet=False, file=None):
    """Yield ``report(done, total, text="")``, which draws a progress bar.

    The bar (see :func:`progress_bar`) is made at the first report, once the
    total is known, shows ``text`` after the counts and disappears at the
    end of the block. The experiments take such a ``report`` as their
    ``progress`` argument.
    """
    bar = None

    def report(done, total, text=""):
        nonlocal bar
        if bar is None:
            bar = progress_bar(total, desc, quiet=quiet, file=file)
        bar.set_postfix_str(text, refresh=False)
        bar.update(done - bar.n)
        bar.refresh()  # a report is a finished run: show it now

    try:
        yield report
    finally:
        if bar is not None:
            bar.close()
