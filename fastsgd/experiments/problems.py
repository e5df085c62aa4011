"""The problems the lecture's experiments run on, and their curvature."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "EMBEDDED",
    "Problem",
    "curvature",
    "embedded_problem",
    "spread_problem",
    "table_problem",
]

#: the problems built into the package, by name
EMBEDDED = ("well", "ravine", "diabetes")


@dataclass
class Problem:
    """A regression problem as the experiments see it.

    Attributes
    ----------
    name : str
        Short name (an embedded problem's, or the data file's).
    X : ndarray of shape (n_samples, n_features)
        Features, float64.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    feature_names : list of str
        One name per column of ``X``.
    fit_intercept : bool, default=True
        Whether the models fit an intercept (the ravine problems have none).
    note : str, default=""
        One line describing the data, for titles and headers.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list = field(default_factory=list)
    fit_intercept: bool = True
    note: str = ""


def embedded_problem(name, *, seed=0, two_features=False):
    """Return one of the embedded problems.

    Parameters
    ----------
    name : {'well', 'ravine', 'diabetes'}
        ``'well'``: well-conditioned, 2000 x 20, noise 0.5; ``'ravine'``:
        5000 x 20 with condition number 100 and no intercept (500 x 2 with
        condition number 50 when ``two_features``); ``'diabetes'``:
        scikit-learn's diabetes data, 442 x 10, standardized.
    seed : int, default=0
        Seed of the generated problems, >= 0.
    two_features : bool, default=False
        The two-feature ravine (for trajectories over the loss contours).

    Returns
    -------
    Problem
    """
    from .. import datasets

    if name == "well":
        X, y = datasets.well_conditioned(random_state=seed)
        return Problem(
            "well",
            X,
            y,
            [f"x{j}" for j in range(X.shape[1])],
            note="well-conditioned, 2000 x 20, noise 0.5",
        )
    if name == "ravine" and two_features:
        X, y = datasets.ravine(random_state=seed)
        return Problem(
            "ravine",
            X,
            y,
            ["x0", "x1"],
            fit_intercept=False,
            note="ravine, 500 x 2, condition number 50",
        )
    if name == "ravine":
        X, y = datasets.ravine(
            n_samples=5000, n_features=20, condition=100.0, noise=0.5, random_state=seed
        )
        return Problem(
            "ravine",
            X,
            y,
            [f"x{j}" for j in range(20)],
            fit_intercept=False,
            note="ravine, 5000 x 20, condition number 100",
        )
    if name == "diabetes":
        X, y, names = datasets.diabetes()
        return Problem("diabetes", X, y, names, note="diabetes, 442 x 10, standardized")
    raise ValueError(f"unknown embedded problem {name!r}; choose from {EMBEDDED}")


def spread_problem(*, seed=0):
    """Return 8 features on scales 0.1 to 10 (``datasets.spread_scales``)."""
    from ..datasets import spread_scales

    X, y = spread_scales(random_state=seed)
    return Problem(
        "spread",
        X,
        y,
        [f"x{j}" for j in range(X.shape[1])],
        note="8 features with scales 0.1 to 10",
    )


def table_problem(path, X, y, feature_names, *, standardize=True):
    """Return the problem of a user's data table (read from ``path``).

    Parameters
    ----------
    path : str
        The file the table came from (its base name names the problem).
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Targets.
    feature_names : list of str
        Column names.
    standardize : bool, default=True
        Center and scale every feature to unit variance (constant columns
        are only centered).

    Returns
    -------
    Problem
    """
    name = os.path.basename(path)
    note = f"{name}, {X.shape[0]} x {X.shape[1]}"
    if standardize:
        X = _standardize(X)
        note += ", features standardized"
    else:
        note += ", raw features"
    return Problem(name, X, y, feature_names, note=note)


def _standardize(X):
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    return (X - mean) / std


def curvature(X, fit_intercept):
    """Return ``(L, R2)``: largest eigenvalue of the Gram/n, mean squared row norm.

    ``L`` sets full-batch gradient descent's stable step (below ``2 / L``),
    ``R2`` per-example SGD's (about ``1 / R2``); with ``fit_intercept`` a
    column of ones joins ``X``.
    """
    n = X.shape[0]
    Z = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
    if Z.shape[1] <= 2000:
        L = float(np.linalg.eigvalsh(Z.T @ Z / n)[-1])
    else:  # power iteration
        v = np.ones(Z.shape[1]) / math.sqrt(Z.shape[1])
        for _ in range(100):
            v = Z.T @ (Z @ v) / n
            L = float(np.linalg.norm(v))
            v /= max(L, 1e-300)
    R2 = float(np.mean(np.einsum("ij,ij->i", Z, Z)))
    return max(L, 1e-12), max(R2, 1e-12)
