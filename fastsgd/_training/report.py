"""What a run tells the user: verbose lines, the divergence warning."""

from __future__ import annotations

import inspect
import math
import os
import time
import warnings

import numpy as np

__all__ = ["DivergenceWarning", "VerbosePrinter", "user_stacklevel", "warn_diverged"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class DivergenceWarning(RuntimeWarning):
    """Training diverged; the estimator kept the last finite coefficients."""


DivergenceWarning.__module__ = "fastsgd"  # its public home (and pickle's)


class VerbosePrinter:
    """Print each epoch as scikit-learn's verbose output does (an ``on_epoch``)."""

    def __init__(self):
        self.started = time.perf_counter()

    def __call__(self, info):
        """Print the epoch's lines."""
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            norm = np.linalg.norm(info.coef)
        print(f"-- Epoch {info.epoch}")
        line = (
            f"Norm: {norm:.2f}, NNZs: {np.count_nonzero(info.coef)}, "
            f"Bias: {info.intercept:.6f}, T: {info.steps}, "
            f"Avg. loss: {info.mean_loss:.6f}, Objective: {info.objective:.6f}"
        )
        if info.validation_score is not None:
            line += f", Validation score: {info.validation_score:.6f}"
        print(line)
        if info.diverged:
            print(f"Diverged in epoch {info.epoch}.")
        print(f"Total training time: {time.perf_counter() - self.started:.2f} seconds.")

    def finish(self, outcome):
        """Print how the run ended (convergence, or the roll-back)."""
        div = outcome.divergence
        if div is not None:
            print(
                f"Training diverged in epoch {div.epoch}; rolled back to "
                f"{_kept(div)} (epochs {_span(div)} are in diverged_epochs_)."
            )
        elif outcome.stop_reason in ("tol", "early_stopping"):
            print(
                f"Convergence after {outcome.n_iter} epochs took "
                f"{time.perf_counter() - self.started:.2f} seconds"
            )


def _kept(div):
    return "the start" if div.kept == 0 else f"the model after epoch {div.kept}"


def _span(div):
    first = div.kept + 1
    return str(first) if first == div.epoch else f"{first}-{div.epoch}"


def divergence_message(div, learning_rate, eta0):
    """Return the warning text for a :class:`Divergence`."""
    how = (
        f"loss {div.loss:.3g}" if math.isfinite(div.loss) else "the loss is not finite"
    )
    began = ""
    if div.kept + 1 < div.epoch:
        began = f"; the blow-up began in epoch {div.kept + 1}"
    what = "did not recover; stopped" if div.recovering else "stopped"
    if learning_rate == "optimal":
        fix = (
            "learning_rate='optimal' is meant for classification losses; "
            "use 'invscaling' or 'constant' with a small eta0, or a larger "
            "alpha"
        )
    elif learning_rate == "auto":
        # its steps never overshoot a row's target: a blow-up is the data's
        fix = (
            "learning_rate='auto' takes no eta0: check the data for extreme "
            "outliers or targets; try a robust loss ('huber')"
        )
    else:
        fix = f"Lower eta0 (now {eta0:g})"
    return (
        f"Training diverged in epoch {div.epoch} ({how}, against "
        f"{div.loss_ref:.3g} at the start{began}) and {what}; the coefficients "
        f"are those of {_kept(div)}, before the blow-up (epochs {_span(div)} "
        f"are rolled back: diverged_epochs_). {fix}, or scale the features, "
        "e.g. with sklearn.preprocessing.StandardScaler."
    )


def warn_diverged(div, learning_rate, eta0):
    """Warn with a :class:`DivergenceWarning` at the user's line."""
    warnings.warn(
        divergence_message(div, learning_rate, eta0),
        DivergenceWarning,
        stacklevel=user_stacklevel(),
    )


def user_stacklevel() -> int:
    """Return the ``stacklevel`` of the first frame outside fastsgd.

    Counted from the caller of this function (``warnings.warn`` there with
    the result points at the user's line), skipping fastsgd's own frames and
    scikit-learn's ``_fit_context`` wrapper around ``fit``: through
    ``fit_stream`` or ``lr_sweep`` too, the warning names the user's call.
    """
    frame = inspect.currentframe().f_back
    level = 1
    while frame is not None and _internal(frame):
        frame = frame.f_back
        level += 1
    return level


def _internal(frame):
    path = frame.f_code.co_filename
    if path.startswith(_PACKAGE + os.sep):
        return True
    # scikit-learn's decorator around fit / partial_fit
    return frame.f_code.co_name == "wrapper" and path.endswith(
        os.path.join("sklearn", "base.py")
    )
