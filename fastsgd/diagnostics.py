"""Read a loss curve: ``diagnose`` it, sweep the learning rate, trace the path.

Optimization is mostly reading the loss curve. :func:`diagnose` turns the
history a fitted :class:`~fastsgd.SGDRegressor` keeps (``loss_curve_``,
``validation_scores_``, ``diverged_``) or raw curves into one of five verdicts,
the numbers behind it and the lecture's three fixes:

========== ============================================ ========================
verdict    what the curve does                          fixes
========== ============================================ ========================
explodes   diverges, or climbs back above its best       lower eta, scale the
                                                        features, clip gradients
flat       still falls at its first pace: has not bent, raise eta, normalise the
           or still falls steadily at its end           features, start closer
overfits   validation loss rises while training falls   weight decay, early
                                                        stopping, more data
noisy      jitters around a floor instead of settling   bigger batch, momentum,
                                                        decay eta
healthy    falls, bends and settles (or reaches zero)   nothing (fine tuning)
========== ============================================ ========================

The rules are checked in that order; their thresholds are the module constants
below (each one documented with the runs that ground it, see
``tests/test_diagnostics.py``). :func:`lr_sweep` (in ``_sweep``, importable
from here) is the "three-curve test" as a x10 sweep of the learning rate,
each run classified by :func:`diagnose`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from .linear_model import SGDRegressor

__all__ = [
    "Diagnosis",
    "diagnose",
    "feature_scale_warnings",
]

VERDICTS = ("explodes", "flat", "overfits", "noisy", "healthy")

#: explodes: the last epoch's loss is above this multiple of the best epoch's
#: (or the model diverged, or a loss is NaN/inf). Noisy runs at the edge of
#: stability (SGD, B=1, constant eta) rise at most ~1.1x above their best
#: epoch; Adam at eta=1 on standardized data ends 2x above it.
EXPLODE_RISE = 1.5
#: flat: the drop over the second half of the epochs is at least this fraction
#: of the drop over the first half (the curve has not bent: it still falls at
#: its first pace, the signature of a too small eta) ...
FLAT_PACE = 0.5
#: ... and at least this fraction of the epochs decreased (a plateau of noise
#: is not flat in this sense). eta 100x too small gives pace ~0.95 and 100%
#: decreasing epochs; a good eta gives pace < 0.1.
FLAT_MONOTONE = 0.8
#: noisy: the jitter of the last half of the epochs exceeds this fraction of
#: its level. The jitter is ``sqrt(mean(diff(tail, 2)**2) / 6)``, the standard
#: deviation of white noise measured through second differences, so a smooth
#: bend does not count. Measured on 1000 x 20 standardized data with unit
#: noise (20-30 epochs): SGD B=1 at constant eta 0.03-0.05 gives 1.6-5%,
#: Adam or momentum B=32 at eta 0.1 gives 3-5%; GD, decaying schedules and
#: well-tuned mini-batch runs (SGD 0.01-0.1, Adam 0.01-0.03) stay below 0.7%.
NOISY_STD = 0.01
#: ... and at least this fraction of the tail's epochs went up (a smooth,
#: still-bending descent is not noise).
NOISY_UPS = 0.2
#: noisy (when ``optimum`` is given): the final loss sits more than this
#: fraction above the best achievable loss while the tail is not monotone.
NOISY_EXCESS = 0.1
#: overfits: the last validation loss is this fraction above its best, while
#: the training loss kept falling after the best validation epoch. A model
#: with more features than training rows and no penalty reaches 0.5-2.
OVERFIT_RISE = 0.1
#: overfits (raw curves with a validation *loss*): final validation loss
#: above this multiple of the final training loss.
OVERFIT_GAP = 2.0
#: below this many epochs the verdict is marked tentative and the noise rule
#: is skipped (its tail would have fewer than 4 points).
MIN_EPOCHS = 8
#: unscaled features: the largest column standard deviation is more than this
#: multiple of the smallest (the Hessian's condition number grows as its
#: square: at 10 the slowest coordinate learns 100x slower than the fastest).
SCALE_RATIO = 10.0
#: uncentred features: |mean| / std of a column above this (with an
#: intercept, the offset couples it to the weight and stretches the valley).
OFFSET_RATIO = 10.0
#: flat (a curve that bent but has not settled): the last epochs all
#: decreased and, extrapolating their geometric slow-down, the loss would
#: still fall by more than this fraction of its final value. Measured on the
#: 1000 x 20 data: GD at eta 0.1 (ends 6% above the optimum) projects 6%, GD
#: at eta 0.03 (ends 4.7x above it) 77%; SGD on standardized diabetes at eta
#: 1e-4 projects 71% after 10 epochs (4.7x above), 21% after 40 (1.27x) and
#: 0.8% after 80 (1.02x). Jittering runs never have a monotone tail.
FLAT_REMAINING = 0.1
#: ... and that fall is more than this fraction of the whole descent (done
#: plus projected). A run converging geometrically to a zero loss (noise-free
#: data) always projects a fall comparable to its final value; this keeps
#: momentum at a loss of 1e-14 from reading as flat. GD at eta 0.1 projects
#: 0.3% of its descent, the diabetes runs above 40% (10 epochs) and 3% (40).
FLAT_DESCENT = 0.01
#: machine precision: losses below this multiple of the loss scale (by
#: default the largest loss of the curve; ``0.5 * mean(y**2)`` is the natural
#: one for squared error) are rounding noise, i.e. zero. Rounding the
#: residuals to float64 leaves losses near 1e-32 times the scale; 1e-20 is
#: residuals of 1e-10 of the targets, far below any fit worth judging.
LOSS_FLOOR = 1e-20
#: lr_sweep: candidates for best_eta reach a final loss within this fraction
#: of the lowest final loss of the sweep.
BEST_RTOL = 0.05

#: the fix that comes first when the features' scales are the cause: the
#: verdict is one badly scaled features produce (explodes, flat, noisy) and
#: feature_scale_warnings reports unscaled or uncentred columns.
SCALE_FIX = (
    "Scale the features (e.g. sklearn.preprocessing.StandardScaler in a "
    'Pipeline), or use learning_rate="auto": one large column caps the stable '
    "rate of all of them and the smallest barely learns."
)
#: the verdicts badly scaled features cause: the largest column blows up at a
#: rate the smallest one needs, the smallest crawls at a rate the largest
#: stands, and a rate in between jitters along the steep directions.
_SCALING_VERDICTS = ("explodes", "flat", "noisy")

_SUMMARIES = {
    "explodes": "the loss blows up: the learning rate is too large for this data",
    "flat": "the loss still falls at its first, slow pace: the learning rate is "
    "too small",
    "overfits": "the validation loss rises while the training loss keeps falling",
    "noisy": "the loss jitters around a floor instead of settling: gradient noise",
    "healthy": "the loss falls, bends and settles",
}
#: summaries for the second flat rule and for a loss at machine precision
_STILL_FALLING = (
    "the loss is still falling steadily at the end: it has not converged "
    "(the learning rate is too small, or there were too few epochs)"
)
_AT_ZERO = "the loss reached zero (machine precision): a perfect fit"


@dataclass(frozen=True)
class Diagnosis:
    """What a loss curve says, and what to do about it.

    Attributes
    ----------
    verdict : str
        One of ``'explodes'``, ``'flat'``, ``'noisy'``, ``'overfits'``,
        ``'healthy'``.
    evidence : dict of str to float
        The numbers behind the verdict (see :func:`diagnose`).
    fixes : tuple of str
        The fixes for this verdict, most promising first.
    warnings : tuple of str
        Problems seen outside the curve (unscaled features, too few epochs).
    summary : str
        One sentence: what the curve does.
    """

    verdict: str
    evidence: dict = field(default_factory=dict)
    fixes: tuple = ()
    warnings: tuple = ()
    summary: str = ""

    def __str__(self) -> str:
        ev = self.evidence
        lines = [f"verdict: {self.verdict} - {self.summary}"]
        shown = []
        for key, fmt in (
            ("epochs", "{:.0f} epochs"),
            ("diverged_epoch", "diverged in epoch {:.0f}"),
            ("rolled_back", "{:.0f} epochs rolled back"),
            ("rolled_back_loss", "rolled-back loss {:.3g}"),
            ("final_loss", "final loss {:.4g}"),
            ("decrease", "decrease {:.1%}"),
            ("pace", "pace {:.2f}"),
            ("tail_std", "tail jitter {:.2%}"),
            ("rise", "final/best {:.2f}"),
            ("remaining", "still to fall ~{:.0%}"),
            ("excess", "above optimum {:.1%}"),
            ("val_rise", "validation rise {:.1%}"),
            ("best_epoch", "best validation epoch {:.0f}"),
        ):
            value = ev.get(key)
            if value is not None and np.isfinite(value):
                shown.append(fmt.format(value))
        if shown:
            lines.append("evidence: " + ", ".join(shown))
        if self.verdict == "healthy":
            lines.append("fix: " + " ".join(self.fixes))
        else:
            lines.append(f"{len(self.fixes)}-step fix:")
            lines += [f"  {i}. {fix}" for i, fix in enumerate(self.fixes, 1)]
        if self.warnings:
            lines.append("warnings:")
            lines += [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


# ---------------------------------------------------------------- the curves
def _as_curve(values, name, loss=True):
    """Return ``values`` as a 1-D float array; a loss must not be negative."""
    if (
        isinstance(values, Iterable)
        and not isinstance(values, np.ndarray)
        and any(v is None or isinstance(v, (bool, np.bool_)) for v in values)
    ):
        # np.asarray turns None into NaN, which would read as an explosion
        raise TypeError(
            f"{name} must be a sequence of numbers; it holds None or a bool."
        )
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers.") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}.")
    if loss and np.any(arr < 0):
        # NaN compares False: a NaN loss is an explosion, not bad input
        first = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(
            f"{name} has a negative value ({arr[first]:g} at epoch {first + 1}); "
            "losses are >= 0."
        )
    return arr


def _extract(obj):
    """Return (loss, val_loss, val_is_loss, diverged, model) from the input."""
    if hasattr(obj, "get_params") and hasattr(obj, "fit"):
        if not isinstance(obj, SGDRegressor):
            raise TypeError(
                f"diagnose reads the history that fastsgd.SGDRegressor records; "
                f"{type(obj).__module__}.{type(obj).__name__} keeps none. Pass its "
                "loss curve instead."
            )
        if not hasattr(obj, "loss_curve_"):
            raise NotFittedError(
                f"This {type(obj).__name__} is not fitted yet: call fit first, or "
                "pass the curves."
            )
        loss = _as_curve(obj.loss_curve_, "loss_curve_")
        scores = getattr(obj, "validation_scores_", None)
        val = None
        if scores is not None and len(scores):
            val = 1.0 - _as_curve(scores, "validation_scores_", loss=False)
        return loss, val, False, bool(getattr(obj, "diverged_", False)), obj
    if isinstance(obj, Mapping):
        unknown = set(obj) - {"loss", "validation", "validation_score", "diverged"}
        if unknown:
            raise ValueError(
                f"unknown curve keys {sorted(unknown)}; expected 'loss' and "
                "optionally 'validation', 'validation_score', 'diverged'."
            )
        if "loss" not in obj:
            raise ValueError("the curves need a 'loss' entry.")
        if "validation" in obj and "validation_score" in obj:
            raise ValueError("give 'validation' (a loss) or 'validation_score'.")
        loss = _as_curve(obj["loss"], "loss")
        val, val_is_loss = None, False
        if obj.get("validation") is not None:
            val, val_is_loss = _as_curve(obj["validation"], "validation"), True
        elif obj.get("validation_score") is not None:
            val = 1.0 - _as_curve(obj["validation_score"], "validation_score", False)
        if val is not None and val.shape != loss.shape:
            raise ValueError(
                f"the validation curve has {val.shape[0]} epochs, the loss "
                f"{loss.shape[0]}."
            )
        diverged = obj.get("diverged", False)
        # bool("no") is True: only a real bool can say whether a run diverged
        if not isinstance(diverged, (bool, np.bool_)):
            raise TypeError(
                f"'diverged' must be a bool; got {type(diverged).__name__} "
                f"{diverged!r}."
            )
        return loss, val, val_is_loss, bool(diverged), None
    if isinstance(obj, (str, bytes)) or not isinstance(obj, Iterable):
        raise TypeError(
            "diagnose needs a fitted SGDRegressor, a sequence of losses or a "
            f"dict with 'loss'; got {type(obj).__name__}."
        )
    if not hasattr(obj, "__array__") and not hasattr(obj, "__len__"):
        obj = list(obj)  # a generator or other one-shot iterable
    return _as_curve(obj, "the loss curve"), None, False, False, None


def _tail_std(tail):
    """Jitter of ``tail`` relative to its level, from its second differences.

    For white noise of standard deviation s on any straight line,
    ``mean(diff(tail, 2)**2) = 6 s**2``; a smooth bend adds little.
    """
    level = float(np.mean(np.abs(tail)))
    if level == 0.0:
        return 0.0
    return float(np.sqrt(np.mean(np.diff(tail, 2) ** 2) / 6.0) / level)


def _remaining(loss):
    """How far the loss still falls if the last epochs' trend goes on.

    Only for a tail whose last ``max(4, n // 4)`` epochs all decreased: the
    drops shrink by a factor ``q`` per epoch (measured from the two halves of
    that tail), so the loss is heading ``drop * q / (1 - q)`` further down.
    Returns that fall as fractions of the final loss and of the whole descent
    (``first - final`` plus the fall), or None when the tail is too short or
    not monotone (noise, a plateau).
    """
    drops = -np.diff(loss)
    k = max(4, loss.shape[0] // 4)
    if drops.shape[0] < k or not np.all(drops[-k:] > 0) or loss[-1] <= 0:
        return None
    h = k // 2
    q = (drops[-h:].sum() / drops[-2 * h : -h].sum()) ** (1.0 / h)
    if q >= 1.0:
        return np.inf, 1.0
    fall = drops[-1] * q / (1.0 - q)
    return float(fall / loss[-1]), float(fall / (loss[0] - loss[-1] + fall))


def _evidence(loss, val, val_is_loss, optimum, floor):
    n = loss.shape[0]
    ev = {"epochs": float(n)}
    if n == 0:
        return ev
    first, final = float(loss[0]), float(loss[-1])
    best_i = int(np.argmin(loss)) if np.all(np.isfinite(loss)) else 0
    best = float(loss[best_i])
    ev.update(
        first_loss=first,
        final_loss=final,
        best_loss=best,
        best_loss_epoch=float(best_i + 1),
    )
    if not np.all(np.isfinite(loss)):
        return ev
    ev["floor"] = floor
    # losses below the floor are rounding noise: no ratio to them means much
    ev["rise"] = max(final, floor) / max(best, floor) if final > floor else 1.0
    ev["decrease"] = 1.0 - final / first if first != 0 else 0.0
    if n >= 2:
        ev["monotone"] = float(np.mean(np.diff(loss) < 0))
    if n >= 3:
        h = n // 2
        d1, d2 = float(loss[0] - loss[h]), float(loss[h] - loss[-1])
        ev["pace"] = d2 / d1 if d1 > 0 else np.nan
    if n >= MIN_EPOCHS:
        tail = loss[n // 2 :]
        ev["tail_std"] = _tail_std(tail)
        ev["tail_ups"] = float(np.mean(np.diff(tail) > 0))
    remaining = _remaining(loss)
    if remaining is not None:
        ev["remaining"], ev["unfinished"] = remaining
    if optimum is not None and optimum > 0:
        ev["excess"] = max(final, floor) / max(optimum, floor) - 1.0
    if val is not None and val.shape[0] and np.all(np.isfinite(val)):
        b = int(np.argmin(val))
        vbest, vfinal = float(val[b]), float(val[-1])
        ev["best_epoch"] = float(b + 1)
        ev["val_best"] = vbest
        ev["val_final"] = vfinal
        ev["val_rise"] = (vfinal - vbest) / abs(vbest) if vbest != 0 else np.inf
        ev["train_after_best"] = float(loss[-1] - loss[b])
        if val_is_loss and final > 0:
            ev["gap"] = vfinal / final
    return ev


def _verdict(ev, diverged, finite):
    """Apply the rules in order; return the verdict."""
    if diverged or not finite or ev.get("rise", 1.0) > EXPLODE_RISE:
        return "explodes"
    n = ev["epochs"]
    if n < 2 or ev["final_loss"] <= ev["floor"]:
        return "healthy"  # one epoch is tentative; a zero loss is a perfect fit
    excess = ev.get("excess")
    no_move = abs(ev["decrease"]) < 1e-9
    if no_move and (excess is None or excess > NOISY_EXCESS):
        return "flat"
    pace = ev.get("pace", np.nan)
    if (
        np.isfinite(pace)
        and pace >= FLAT_PACE
        and ev.get("monotone", 0.0) >= FLAT_MONOTONE
        and (excess is None or excess > NOISY_EXCESS)
    ):
        return "flat"
    if "val_rise" in ev:
        rising = ev["val_rise"] > OVERFIT_RISE and ev["train_after_best"] < 0
        if rising or ev.get("gap", 0.0) > OVERFIT_GAP:
            return "overfits"
    if ev.get("tail_std", 0.0) > NOISY_STD and ev["tail_ups"] >= NOISY_UPS:
        return "noisy"
    # bent but not settled: still falling steadily at the end ("remaining" is
    # only measured on a monotone tail), or well above the optimum while it is
    if (
        "remaining" in ev
        and ev["unfinished"] > FLAT_DESCENT
        and (
            ev["remaining"] > FLAT_REMAINING
            or (excess is not None and excess > NOISY_EXCESS)
        )
    ):
        return "flat"
    if (
        excess is not None
        and excess > NOISY_EXCESS
        and n >= MIN_EPOCHS
        and ev.get("monotone", 1.0) < FLAT_MONOTONE
    ):
        return "noisy"
    return "healthy"


def _fixes(verdict, model, ev):
    p = model.get_params() if model is not None else {}
    # learning_rate='auto' reads no eta0: do not suggest changing it
    eta = None if p.get("learning_rate") == "auto" else p.get("eta0")
    if verdict == "explodes":
        lower = "Lower the learning rate 10x"
        if eta is not None:
            lower += f": eta0={eta:g} -> {eta / 10:g}"
        return (
            lower + " (lr_sweep finds the largest stable rate).",
            SCALE_FIX,
            "Clip the gradients: clip_norm=1.0 bounds every step."
            if p.get("clip_norm") is None
            else f"Clip harder: clip_norm={p['clip_norm']:g} -> "
            f"{p['clip_norm'] / 10:g}.",
        )
    if verdict == "flat":
        raise_ = "Raise the learning rate 10x"
        if eta is not None:
            raise_ += f": eta0={eta:g} -> {eta * 10:g}"
        if ev.get("pace", np.nan) < FLAT_PACE:  # bent but still falling
            raise_ += " (or run lr_sweep), or train for more epochs"
        else:
            raise_ += " (or run lr_sweep)"
        return (
            raise_ + ".",
            "Normalise the features (sklearn.preprocessing.StandardScaler) so "
            "one rate suits every coordinate.",
            "Start closer: a better initialisation (coef_init, e.g. closed_form "
            "on a subsample, or warm_start from a previous fit).",
        )
    if verdict == "noisy":
        bs = p.get("batch_size")
        bigger = "Use a bigger batch (the gradient variance falls as 1/B)"
        if isinstance(bs, int) and not isinstance(bs, bool):
            bigger += f": batch_size={bs} -> {max(32, 8 * bs)}"
        bigger += "."
        momentum = "Add momentum: optimizer='momentum' averages the noise of ~10 steps."
        if p.get("optimizer") in ("momentum", "nesterov", "adam", "adamw"):
            momentum = (
                "Average the iterates: average=True or ema_decay=0.999 keeps the "
                "mean of the jittering weights."
            )
        return (
            bigger,
            momentum,
            "Decay the learning rate: learning_rate='invscaling' (or 'cosine'), "
            "so the steps shrink as the noise floor is reached.",
        )
    if verdict == "overfits":
        alpha = p.get("alpha")
        decay = "Add weight decay"
        if alpha and p.get("penalty") is not None:
            decay += f": alpha={alpha:g} -> {alpha * 10:g}"
        else:
            decay += ": penalty='l2', alpha=0.1"
        decay += " (tune it by factors of 10 on the validation score)."
        best = ev.get("best_epoch")
        if p.get("early_stopping") and p.get("tol", 0) is None:
            stop = (
                "Let early stopping fire: tol=1e-3 (tol=None never stops), "
                "restore_best_weights=True"
            )
        else:
            stop = "Stop early: early_stopping=True, restore_best_weights=True"
        if best is not None:
            stop += f" (the validation loss was best at epoch {best:.0f})"
        return (
            decay,
            stop + ".",
            "Get more data (or use fewer features): the model has room to fit "
            "the noise of the training rows.",
        )
    return (
        "Nothing to fix.",
        "For fine tuning, lr_sweep picks the largest healthy rate, and a decaying "
        "schedule or average=True polishes the last digits.",
    )


def feature_scale_warnings(X, feature_names=None):
    """Return warnings about columns of very different scales or offsets.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The features a model is (to be) trained on.
    feature_names : sequence of str, default=None
        Column names for the messages (default ``column j``).

    Returns
    -------
    list of str
        Empty when the columns are on comparable scales: standard deviations
        within a factor :data:`SCALE_RATIO` of each other and means within
        :data:`OFFSET_RATIO` standard deviations of zero. Constant columns are
        reported too.
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        mean = np.asarray(X.mean(axis=0)).ravel()
        sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    else:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D; got shape {X.shape}.")
        mean = X.mean(axis=0)
        std = X.std(axis=0)
    d = std.shape[0]
    if feature_names is None:
        names = [f"column {j}" for j in range(d)]
    else:
        names = [f"'{n}'" for n in feature_names]
        if len(names) != d:
            raise ValueError(f"{len(names)} feature_names for {d} columns.")
    out = []
    const = np.flatnonzero(std == 0)
    if const.size:
        listed = ", ".join(names[j] for j in const[:3])
        more = ", ..." if const.size > 3 else ""
        out.append(
            f"{const.size} constant column(s) ({listed}{more}): they carry no "
            "information; drop them."
        )
    live = np.flatnonzero(std > 0)
    if live.size >= 2:
        hi, lo = live[np.argmax(std[live])], live[np.argmin(std[live])]
        ratio = std[hi] / std[lo]
        if ratio > SCALE_RATIO:
            out.append(
                f"unscaled features: standard deviations differ by {ratio:.3g}x "
                f"({names[hi]}: {std[hi]:.3g}, {names[lo]}: {std[lo]:.3g}); "
                "standardize them (sklearn.preprocessing.StandardScaler) or the "
                "largest column caps the stable learning rate and the smallest "
                "barely learns."
            )
    if live.size:
        off = np.abs(mean[live]) / std[live]
        j = live[np.argmax(off)]
        if off.max() > OFFSET_RATIO:
            out.append(
                f"uncentred feature: {names[j]} has mean {mean[j]:.3g} = "
                f"{off.max():.3g} standard deviations; center the features "
                "(StandardScaler) to decouple the intercept."
            )
    return out


def diagnose(model_or_curves, X=None, *, optimum=None, feature_names=None, scale=None):
    """Diagnose a training run from its loss curve.

    Parameters
    ----------
    model_or_curves : SGDRegressor, Pipeline, array-like of float or dict
        A fitted :class:`~fastsgd.SGDRegressor` (its ``loss_curve_``,
        ``validation_scores_`` and ``diverged_`` are read) or a fitted
        scikit-learn Pipeline ending with one (``X`` then goes through the
        other steps first); or the training
        loss per epoch (any 1-D array-like, e.g. a list, an ndarray or a
        pandas Series; a generator is read into a list); or a dict with
        ``'loss'`` and optionally
        ``'validation'`` (validation loss per epoch, same units),
        ``'validation_score'`` (validation R^2 per epoch) and ``'diverged'``
        (a bool). Losses must be >= 0 (NaN and inf mean an explosion). A
        validation curve with NaN or inf cannot be judged: with a finite
        training loss, diagnose then warns (RuntimeWarning, repeated in
        ``warnings``) and skips the overfitting rule.
    X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        The training features; when given their scales are checked (see
        :func:`feature_scale_warnings`). They must be finite and, with a
        model, have its ``n_features_in_`` columns; a DataFrame's column
        names are used in the warnings. When they are unscaled or uncentred
        and the verdict is one that scaling causes (``explodes``, ``flat``,
        ``noisy``), the first fix is :data:`SCALE_FIX`: scale the features
        (a ``StandardScaler`` in a Pipeline) or use ``learning_rate="auto"``.
    optimum : float, default=None
        The best achievable training loss in the units of the curve (for
        squared error, half the mean squared error of the closed-form
        solution), in (0, inf). Adds the ``excess`` evidence and lets a run
        that hovers above the optimum be called noisy.
    feature_names : sequence of str, default=None
        Names of the columns of ``X`` for the warnings.
    scale : float, default=None
        The size of the loss before any learning, in (0, inf): for squared
        error ``0.5 * mean(y**2)``, the loss of predicting zero. A loss below
        ``LOSS_FLOOR * scale`` (1e-20) is rounding noise: a run that ends
        there is ``healthy`` (a perfect fit), and ratios to such losses are
        not read. Default: the largest loss of the curve.

    Returns
    -------
    Diagnosis
        ``verdict`` is decided by the first rule that holds:

        1. ``explodes``: the model diverged, a loss is not finite, or
           ``rise = final / best > EXPLODE_RISE`` (1.5); a run that ends at
           zero (below the floor, see ``scale``) is then ``healthy``;
        2. ``flat``: the loss does not move at all, or the second half of the
           epochs falls by at least ``FLAT_PACE`` (0.5) of the drop of the
           first half with at least ``FLAT_MONOTONE`` (80%) of the epochs
           decreasing (and, with ``optimum``, the run ends more than
           ``NOISY_EXCESS`` above it);
        3. ``overfits``: the validation loss (``1 - R^2`` for scores) ends
           more than ``OVERFIT_RISE`` (10%) above its best while the training
           loss kept falling, or a validation loss ends above ``OVERFIT_GAP``
           (2x) the training loss;
        4. ``noisy``: the last half of the epochs jitters by more than
           ``NOISY_STD`` (1%) of its level (measured through second
           differences) and goes up in at least ``NOISY_UPS`` (20%) of its
           epochs, or (with ``optimum``) the run ends more than
           ``NOISY_EXCESS`` (10%) above it without settling;
        5. ``flat`` too: the last ``max(4, epochs // 4)`` epochs all
           decreased, the loss is heading further down by more than
           ``FLAT_DESCENT`` (1%) of its whole descent (``unfinished``,
           extrapolated from how fast the drops shrink), and that fall is
           more than ``FLAT_REMAINING`` (10%) of the final loss
           (``remaining``) or, with ``optimum``, the run ends more than
           ``NOISY_EXCESS`` above it: the curve bent but has not converged
           (this rule comes after the noise rule; the optimum part of rule 4
           is checked after it);
        6. ``healthy`` otherwise.

        ``evidence`` holds ``epochs``, ``first_loss``, ``final_loss``,
        ``best_loss``, ``best_loss_epoch``, ``rise``, ``decrease``
        (``1 - final / first``), ``monotone`` (fraction of decreasing epochs),
        ``pace``, ``tail_std``, ``tail_ups``, ``remaining``, ``unfinished``, ``floor``,
        ``excess`` (with ``optimum``) and, with a
        validation curve, ``best_epoch``, ``val_best``, ``val_final``,
        ``val_rise``, ``train_after_best`` and ``gap`` (validation loss only).
        For a model whose divergence rolled epochs back (its
        ``diverged_epochs_``), ``diverged_epoch`` (the epoch it diverged in,
        the last one run), ``rolled_back`` (how many) and ``rolled_back_loss``
        (the first one's objective): the curve holds only the epochs kept.
        Entries that need more epochs than were run are left out.
    """
    if X is not None:
        X = _check_X(model_or_curves, X)
        if feature_names is None and hasattr(X, "columns"):
            feature_names = [str(c) for c in X.columns]
    if final_step(model_or_curves)[0] is not None:
        # a Pipeline: diagnose its final estimator on the data it was fed
        if X is not None:
            X, feature_names = through_steps(model_or_curves, X, feature_names)
        model_or_curves = final_step(model_or_curves)[1]
    loss, val, val_is_loss, diverged, model = _extract(model_or_curves)
    if optimum is not None:
        if isinstance(optimum, (bool, np.bool_)):
            raise TypeError("optimum must be a number (the lowest loss), not a bool.")
        optimum = float(optimum)
        if not (np.isfinite(optimum) and optimum > 0):
            raise ValueError(f"optimum must be a positive number; got {optimum}.")
    if scale is not None:
        scale = float(scale)
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive number; got {scale}.")
    if loss.shape[0] == 0 and not diverged:
        raise ValueError("the loss curve is empty: nothing to diagnose.")
    finite = bool(np.all(np.isfinite(loss)))
    notes = []
    if val is not None and finite and not np.all(np.isfinite(val)):
        bad = np.flatnonzero(~np.isfinite(val))
        msg = (
            f"the validation curve has {bad.size} NaN/inf value(s) (first at "
            f"epoch {bad[0] + 1}): the overfitting check was skipped."
        )
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        notes.append(msg)
    if scale is None:
        scale = float(np.max(loss)) if finite and loss.size else 0.0
    ev = _evidence(loss, val, val_is_loss, optimum, LOSS_FLOOR * scale)
    ev["diverged"] = float(diverged)
    rolled_back = getattr(model, "diverged_epochs_", None)
    if rolled_back:
        # the epochs a divergence rolled back: evidence, outside the curve
        ev["diverged_epoch"] = float(rolled_back[-1])
        ev["rolled_back"] = float(len(rolled_back))
        ev["rolled_back_loss"] = float(model.diverged_loss_curve_[0])
    verdict = _verdict(ev, diverged, finite)
    if X is not None:
        notes += feature_scale_warnings(X, feature_names)
    n = loss.shape[0]
    if n < MIN_EPOCHS and verdict != "explodes":
        notes.append(
            f"only {n} epoch(s): the verdict is tentative; train for at least "
            f"{MIN_EPOCHS} epochs (tol=None) to judge the curve."
        )
    fixes = _fixes(verdict, model, ev)
    if verdict in _SCALING_VERDICTS and scaling_is_a_cause(notes):
        fixes = _scaling_first(fixes)
    return Diagnosis(
        verdict=verdict,
        evidence=ev,
        fixes=fixes,
        warnings=tuple(notes),
        summary=_summary(verdict, ev),
    )


def scaling_is_a_cause(notes):
    """Tell whether feature_scale_warnings found unscaled or uncentred columns."""
    return any(n.startswith(("unscaled", "uncentred")) for n in notes)


def _scaling_first(fixes):
    """Return ``fixes`` led by :data:`SCALE_FIX`, without another scaling fix."""
    rest = [
        f
        for f in fixes
        if f != SCALE_FIX and not f.startswith("Normalise the features")
    ]
    return (SCALE_FIX, *rest)


def _summary(verdict, ev):
    if verdict == "healthy" and ev.get("final_loss", 1.0) <= ev.get("floor", -1.0):
        return _AT_ZERO
    if verdict == "flat" and ev.get("pace", np.nan) < FLAT_PACE:
        return _STILL_FALLING  # rule 5: it bent, but is not done
    return _SUMMARIES[verdict]


def final_step(estimator):
    """Return ``(name, final estimator)`` of a Pipeline, else ``(None, estimator)``.

    A Pipeline is told by its ``steps`` (a non-empty list of ``(name,
    estimator)`` pairs) and ``fit``, so a Pipeline subclass or look-alike works.
    """
    steps = getattr(estimator, "steps", None)
    if (
        isinstance(estimator, type)
        or not hasattr(estimator, "fit")
        or not isinstance(steps, list)
        or not steps
    ):
        return None, estimator
    name, last = steps[-1]
    return name, last


def through_steps(pipeline, X, feature_names=None):
    """Return ``X`` as a fitted Pipeline's final step sees it, and its names.

    The steps before the last transform ``X``; DataFrame output names the
    columns, otherwise names given for the raw columns are kept only while
    the steps keep the number of columns.
    """
    if len(pipeline.steps) == 1:
        return X, feature_names
    X = pipeline[:-1].transform(X)
    if hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    elif feature_names is not None and len(feature_names) != X.shape[1]:
        feature_names = None  # the steps changed the columns
    return X, feature_names


def _check_X(model, X):
    """Check the features given to :func:`diagnose`: finite, the model's width."""
    if sp.issparse(X):
        values, shape = X.data, X.shape
    else:
        try:
            values = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("X must be numeric features.") from None
        shape = values.shape
    if len(shape) != 2:
        raise ValueError(f"X must be 2-D; got shape {shape}.")
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and shape[1] != expected:
        raise ValueError(
            f"X has {shape[1]} features but the model was fitted on {expected}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("X contains NaN or inf; pass the finite training features.")
    return X


# lr_sweep and parameter_path live in _sweep (which imports this module);
# loaded on first use from here, as they always were importable
_MOVED = (
    "SweepResult",
    "lr_sweep",
    "parameter_path",
    "EXACT_MAX_VALUES",
    "EXACT_MAX_FEATURES",
    "NEAR_OPTIMUM",
    "NEAR_FLOOR",
)


def __getattr__(name):
    if name in _MOVED:
        from . import _sweep

        return getattr(_sweep, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
