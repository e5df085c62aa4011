"""The learning-rate sweep (the lecture's "three-curve test") and parameter paths.

:func:`lr_sweep` fits clones of an estimator at learning rates a factor of 10
apart, classifies each run with :func:`fastsgd.diagnose` and judges it
against the exact optimum (or, on data too large for it, the best run): it
recommends the largest healthy rate that reaches the optimum, and says first
when badly scaled features are the cause. :func:`parameter_path` records the
parameters step by step, for drawing trajectories over loss contours.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from .diagnostics import (
    BEST_RTOL,
    LOSS_FLOOR,
    SCALE_FIX,
    diagnose,
    feature_scale_warnings,
    final_step,
    scaling_is_a_cause,
    through_steps,
)
from .linear_model import DivergenceWarning, SGDRegressor

__all__ = ["SweepResult", "lr_sweep", "parameter_path"]

#: lr_sweep computes the exact optimum (:func:`fastsgd.closed_form`) as the
#: reference of its runs when the loss is squared error with no penalty or L2
#: (no ``weight_decay``), and the features the final estimator sees hold at
#: most this many values (rows x columns) ...
EXACT_MAX_VALUES = 20_000_000
#: ... in at most this many columns (the Gram matrix costs columns**2 memory
#: and its Cholesky factor columns**3 / 3 flops: 2000 columns take ~1 s).
EXACT_MAX_FEATURES = 2000
#: a run reaches the optimum when the objective of its final model on the
#: training data is at most ``NEAR_OPTIMUM * max(optimum, NEAR_FLOOR *
#: baseline)`` above the optimum (``baseline``: the objective of the best
#: constant prediction). Measured with 20 epochs at constant rates: the
#: healthy runs on standardized data end 0.05-8% above the optimum (1000 x 20,
#: unit noise: SGD at eta 1e-3 0.07%, at 1e-2 8%; batch 32 at 0.01-0.1,
#: 0.05-3%; standardized diabetes at 1e-4..1e-2, 0.7-8%; scikit-learn's
#: scaled diabetes at 0.1, 6%), while the best runs on unscaled data stay
#: 31% (raw diabetes), 3.6x (spread_scales) and 290x (columns of scale 1e3)
#: above it.
NEAR_OPTIMUM = 0.2
#: ... an optimum below this fraction of the baseline (R^2 above 0.99, e.g.
#: noise-free data) counts as this fraction: the runs must then explain all
#: but 0.2% of the baseline, not reach a loss of exactly zero.
NEAR_FLOOR = 0.01


@dataclass(frozen=True)
class SweepResult:
    """The runs of :func:`lr_sweep`, one per learning rate (ascending).

    Attributes
    ----------
    etas : ndarray of shape (n_rates,)
        The learning rates, ascending.
    curves : tuple of ndarray
        ``loss_curve_`` of each run (cut short where a run diverged).
    verdicts : tuple of str
        :func:`diagnose` verdict of each run.
    final_loss : ndarray of shape (n_rates,)
        Last training loss of each run; ``inf`` for a run that diverged.
    best_eta : float or None
        The recommended rate (see :func:`lr_sweep`); None when every run
        exploded or no run got near the optimum.
    diagnoses : tuple of Diagnosis
        The full diagnosis of each run.
    fit_times : ndarray of shape (n_rates,)
        Wall time of each fit in seconds.
    optimum : float or None
        The training objective of the exact solution (from
        :func:`fastsgd.closed_form`) in the units of ``loss_curve_`` (the
        weighted mean loss plus the penalty), or None when it was not
        computed (see :func:`lr_sweep`).
    objective : ndarray of shape (n_rates,)
        The training objective of each run's final model on the whole
        training data (the units of ``optimum``); NaN where ``optimum`` is
        None or the run diverged.
    near_optimum : ndarray of bool of shape (n_rates,)
        Whether each run got near the optimum (see :func:`lr_sweep`).
    warnings : tuple of str
        Problems with the data (:func:`feature_scale_warnings` of the
        features the final estimator sees).
    advice : tuple of str
        What to do when the sweep found no good rate, most promising first
        (scaling the features first when they are badly scaled).
    """

    etas: np.ndarray
    curves: tuple
    verdicts: tuple
    final_loss: np.ndarray
    best_eta: float | None
    diagnoses: tuple = ()
    fit_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    optimum: float | None = None
    objective: np.ndarray = field(default_factory=lambda: np.zeros(0))
    near_optimum: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    warnings: tuple = ()
    advice: tuple = ()

    def __str__(self) -> str:
        exact = self.optimum is not None and len(self.objective) == len(self.etas)
        head = f"{'eta':>10}  {'verdict':<9} {'final loss':>12} {'epochs':>7}"
        lines = [head + ("  vs optimum" if exact else "")]
        for i, eta in enumerate(self.etas):
            mark = (
                "  <- best"
                if self.best_eta is not None and eta == self.best_eta
                else ""
            )
            gap = f"  {_above(self.objective[i], self.optimum):>10}" if exact else ""
            lines.append(
                f"{eta:>10.3g}  {self.verdicts[i]:<9} {self.final_loss[i]:>12.5g} "
                f"{len(self.curves[i]):>7d}{gap}{mark}"
            )
        if exact:
            lines.append(
                f"optimum: {self.optimum:.5g} (closed_form; vs optimum: each "
                "run's final model on the training data)"
            )
        lines.append(self._best_line())
        if self.advice:
            lines.append("advice:")
            lines += [f"  {i}. {a}" for i, a in enumerate(self.advice, 1)]
        if self.warnings:
            lines.append("warnings:")
            lines += [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def _best_line(self):
        scaling = bool(self.advice) and self.advice[0] == SCALE_FIX
        if self.best_eta is None:
            if all(v == "explodes" for v in self.verdicts):
                if scaling:
                    return (
                        "best eta: none - every rate exploded; the features are "
                        "badly scaled: scale them first (advice 1), else try "
                        "smaller rates"
                    )
                return "best eta: none - every rate exploded; try smaller rates"
            return "best eta: none - " + _none_near(self)
        i = int(np.flatnonzero(self.etas == self.best_eta)[0])
        if self.verdicts[i] == "healthy":
            where = (
                "the runs near the optimum"
                if self.optimum is not None
                else ("the runs")
            )
            return (
                f"best eta: {self.best_eta:g} (the largest healthy rate within "
                f"{BEST_RTOL:.0%} of the lowest final loss of {where})"
            )
        return (
            f"best eta: {self.best_eta:g} (the lowest final loss; no run was healthy)"
        )


def _above(objective, optimum):
    """Format how far ``objective`` ends above ``optimum``: +31.0% or 292x."""
    if not np.isfinite(objective):
        return "-"
    if optimum <= 0:
        return f"+{objective:.3g}"
    ratio = objective / optimum
    return f"{ratio:.3g}x" if ratio >= 10 else f"{ratio - 1.0:+.1%}"


def _none_near(sweep):
    """Say that no rate got near the optimum, and how close the closest got."""
    obj = np.where(np.isfinite(sweep.objective), sweep.objective, np.inf)
    j = int(np.argmin(obj))
    if not np.isfinite(obj[j]):
        return "no rate got near the optimum"
    above = _above(obj[j], sweep.optimum)
    above = (
        f"at {above} the optimum" if above.endswith("x") else f"{above[1:]} above it"
    )
    return (
        f"no rate got near the optimum ({sweep.optimum:.5g}); the closest, eta "
        f"{sweep.etas[j]:g}, ended {above}"
    )


def _best_eta(etas, verdicts, final, near=None):
    ok = [
        i
        for i, v in enumerate(verdicts)
        if v != "explodes" and np.isfinite(final[i]) and (near is None or near[i])
    ]
    if not ok:
        return None
    lowest = min(final[i] for i in ok)
    healthy = [
        i
        for i in ok
        if verdicts[i] == "healthy" and final[i] <= lowest + BEST_RTOL * abs(lowest)
    ]
    if healthy:
        return float(etas[max(healthy, key=lambda i: etas[i])])
    return float(etas[min(ok, key=lambda i: final[i])])


@dataclass(frozen=True)
class _Reference:
    """What a sweep compares its runs with: the data's optimum and scales."""

    optimum: float | None = None  # the exact optimum of the objective
    baseline: float | None = None  # the objective of the best constant
    notes: tuple = ()  # feature_scale_warnings of the features seen


def _sweep_reference(model, X, y, sample_weight):
    """Measure the reference of a sweep from its first fitted run.

    ``model`` is the first run (a fitted SGDRegressor or Pipeline ending with
    one): its preprocessing steps give the features the final estimator sees,
    whose scales are checked and, when :func:`_exact_eligible`, whose
    closed-form optimum is computed (a failure there only drops it).
    """
    from .closed_form import IllConditionedWarning, closed_form

    final = final_step(model)[1]
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    Xt, names = through_steps(model, X, names) if model is not final else (X, names)
    try:
        notes = tuple(feature_scale_warnings(Xt, names))
    except (TypeError, ValueError):
        notes = ()  # features the check cannot read: the fit took them
    if not _exact_eligible(final, Xt):
        return _Reference(notes=notes)
    p = final.get_params()
    yv = np.asarray(y, dtype=np.float64).ravel()
    sw = (
        np.ones_like(yv)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64).ravel()
    )
    alpha = float(p["alpha"]) if p["penalty"] == "l2" else 0.0
    # the estimator minimises sum(sw * loss) / n + alpha * penalty over the n
    # rows it trains on (weight 0 leaves a row out): ridge alpha * n
    n_active = int(np.count_nonzero(sw))
    try:
        with warnings.catch_warnings():
            # the min-norm fallback is still the optimum of the objective
            warnings.simplefilter("ignore", IllConditionedWarning)
            coef, intercept = closed_form(
                Xt,
                yv,
                alpha=alpha * n_active,
                fit_intercept=p["fit_intercept"],
                sample_weight=sw,
            )
        pred = np.asarray(Xt @ coef).ravel() + intercept
    except (ValueError, TypeError, np.linalg.LinAlgError):
        return _Reference(notes=notes)
    optimum = _objective_value(pred, yv, sw, coef, alpha)
    centre = _weighted_mean(yv, sw) if p["fit_intercept"] else 0.0
    baseline = 0.5 * _weighted_mean((yv - centre) ** 2, sw)
    if not (np.isfinite(optimum) and np.isfinite(baseline)):
        return _Reference(notes=notes)
    return _Reference(optimum=optimum, baseline=baseline, notes=notes)


def _exact_eligible(final, Xt):
    """Tell whether the sweep's optimum is exact and cheap: see lr_sweep."""
    p = final.get_params()
    shape = getattr(Xt, "shape", None)
    if shape is None or len(shape) != 2:
        return False
    n, d = int(shape[0]), int(shape[1])
    return (
        p["loss"] == "squared_error"
        and p["penalty"] in (None, "l2")
        and not p.get("weight_decay")
        and n * d <= EXACT_MAX_VALUES
        and d <= EXACT_MAX_FEATURES
    )


def _weighted_mean(values, sw):
    total = float(sw.sum())
    return float(np.sum(values * sw)) / total if total > 0 else float(np.mean(values))


def _objective_value(pred, y, sw, coef, alpha):
    """Return the SGD objective: weighted mean half squared error + L2."""
    with np.errstate(over="ignore", invalid="ignore"):
        loss = 0.5 * _weighted_mean((pred - y) ** 2, sw)
        coef = np.asarray(coef, dtype=np.float64).ravel()
        return float(loss + 0.5 * alpha * float(np.dot(coef, coef)))


def _run_objective(model, X, y, sample_weight):
    """Return the objective of a fitted run's final model on all of X, y."""
    final = final_step(model)[1]
    yv = np.asarray(y, dtype=np.float64).ravel()
    sw = (
        np.ones_like(yv)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64).ravel()
    )
    p = final.get_params()
    alpha = float(p["alpha"]) if p["penalty"] == "l2" else 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        pred = np.asarray(model.predict(X), dtype=np.float64).ravel()
    value = _objective_value(pred, yv, sw, final.coef_, alpha)
    return value if np.isfinite(value) else np.nan


def _near_optimum(ref, objective, final, verdicts):
    """Which runs got near the reference (see lr_sweep)."""
    ok = np.array([v != "explodes" for v in verdicts]) & np.isfinite(final)
    if ref.optimum is None:
        if not ok.any():
            return ok
        lowest = final[ok].min()
        return ok & (final <= lowest + BEST_RTOL * abs(lowest))
    tol = NEAR_OPTIMUM * max(ref.optimum, NEAR_FLOOR * ref.baseline)
    with np.errstate(invalid="ignore"):
        return ok & np.isfinite(objective) & (objective - ref.optimum <= tol)


def _sweep_advice(ref, best_eta, verdicts, epochs):
    """Return what to do after a sweep, most promising first."""
    scaling = scaling_is_a_cause(ref.notes)
    advice = []
    if scaling and (best_eta is None or ref.optimum is None):
        advice.append(SCALE_FIX)
    if best_eta is not None:
        return tuple(advice)
    if all(v == "explodes" for v in verdicts):
        advice.append(
            "Try smaller rates (etas 10x to 1000x below the smallest tried); "
            "clip_norm=1.0 also tames a blow-up."
        )
    elif scaling:
        advice.append("Then sweep again: on scaled features one rate suits all.")
    else:
        advice.append(
            f"Train longer (epochs={2 * epochs} or more) or try optimizer='adam', "
            "then sweep again: no run got near the optimum."
        )
    return tuple(advice)


def lr_sweep(
    estimator,
    X,
    y,
    etas=None,
    epochs=20,
    *,
    sample_weight=None,
    callback=None,
):
    """Sweep the learning rate by factors of 10 and classify each run.

    The "three-curve test": too small a rate is flat, too large explodes,
    the right one falls and settles. Each rate trains a clone of
    ``estimator`` with ``learning_rate='constant'``, ``eta0=eta``,
    ``max_iter=epochs`` and ``tol=None`` (every run does all its epochs, so
    their curves compare); every other parameter, including the optimizer,
    the batch size and the seed, is kept. The runs share the process and the
    compiled kernel. A run that diverges is expected here: its
    :class:`~fastsgd.DivergenceWarning` is silenced and the run recorded as
    ``'explodes'``.

    Each run is compared with a reference, so that a rate is never
    recommended only because it did not explode:

    - the training objective (weighted mean loss plus penalty, as in
      ``loss_curve_``) of the exact solution, from :func:`fastsgd.closed_form`
      on the features the final estimator sees,
      when the loss is ``'squared_error'`` with ``penalty`` None or ``'l2'``
      (no ``weight_decay``) and those features hold at most
      ``EXACT_MAX_VALUES`` (2e7) values in at most ``EXACT_MAX_FEATURES``
      (2000) columns. A run is *near the optimum* when the objective of its
      final model on the training data exceeds the optimum by at most
      ``NEAR_OPTIMUM`` (20%) of ``max(optimum, NEAR_FLOOR * baseline)``
      (``baseline``: the objective of the best constant prediction;
      ``NEAR_FLOOR`` = 1%, for data a linear model fits exactly). Each run
      is also diagnosed with this ``optimum``;
    - otherwise the lowest final loss of the runs: a run is near it within
      ``BEST_RTOL`` (5%).

    The features' scales are checked too (:func:`feature_scale_warnings`):
    when they are unscaled or uncentred and no rate got near the optimum
    (or there is no exact optimum), the advice is to scale them first.

    Parameters
    ----------
    estimator : SGDRegressor or Pipeline
        The configuration to sweep: a :class:`fastsgd.SGDRegressor` instance,
        or a scikit-learn ``Pipeline`` whose last step is one (its ``eta0``
        and the other swept parameters are set through
        ``set_params(<last step>__eta0=...)``; the other steps are fitted
        with each run). Fitted or not; it is not modified. Other estimators
        keep no ``loss_curve_`` to diagnose and are rejected before any fit.
    X : array-like of shape (n_samples, n_features)
        Training features.
    y : array-like of shape (n_samples,)
        Targets.
    etas : sequence of float, default=None
        Rates to try, each in (0, inf). Default: ``eta0 * 10**k`` for ``k``
        in -3..2 around the estimator's ``eta0`` (1e-5 to 1 at the default
        0.01).
    epochs : int, default=20
        Epochs per run, >= 2.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights passed to every fit (to the last step of a Pipeline).
    callback : callable, default=None
        Called as ``callback(i, eta, model, seconds)`` after each run (the
        command line draws its progress bar with it).

    Returns
    -------
    SweepResult
        ``best_eta`` is the largest rate whose run is ``'healthy'`` and ends
        within ``BEST_RTOL`` (5%) of the lowest final loss of the runs that
        did not explode and got near the optimum; when none of those is
        healthy, the rate of their lowest final loss; None when every run
        exploded or no run got near the optimum (its text then says so, and
        ``advice`` what to do).
    """
    # every check before the first fit: a sweep can take minutes
    prefix, etas = _check_sweep(estimator, etas, epochs, callback)
    # the loss of predicting zero: below LOSS_FLOOR of it a loss is rounding
    try:
        scale = 0.5 * float(np.mean(np.asarray(y, dtype=np.float64) ** 2))
    except (TypeError, ValueError):
        scale = np.nan  # fit reports the bad target
    scale = scale if np.isfinite(scale) and scale > 0 else None
    fit_params = (
        {} if sample_weight is None else {prefix + "sample_weight": sample_weight}
    )
    ref, runs = None, []
    for i, eta in enumerate(etas):
        model = clone(estimator).set_params(
            **{
                prefix + "learning_rate": "constant",
                prefix + "eta0": float(eta),
                prefix + "max_iter": int(epochs),
                prefix + "tol": None,
            }
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            model.fit(X, y, **fit_params)
        seconds = time.perf_counter() - start
        if ref is None:  # the first fit has checked the data
            ref = _sweep_reference(model, X, y, sample_weight)
        runs.append(_judge_run(model, ref, scale, X, y, sample_weight, seconds))
        if callback is not None:
            callback(i, float(eta), model, seconds)
    curves, verdicts, finals, objective, diags, times = zip(*runs, strict=True)
    finals = np.asarray(finals)
    objective = np.asarray(objective, dtype=np.float64)
    near = _near_optimum(ref, objective, finals, verdicts)
    best = _best_eta(etas, verdicts, finals, near)
    return SweepResult(
        etas=etas,
        curves=curves,
        verdicts=verdicts,
        final_loss=finals,
        best_eta=best,
        diagnoses=diags,
        fit_times=np.asarray(times),
        optimum=ref.optimum,
        objective=objective,
        near_optimum=near,
        warnings=ref.notes,
        advice=_sweep_advice(ref, best, verdicts, epochs),
    )


def _check_sweep(estimator, etas, epochs, callback):
    """Check :func:`lr_sweep`'s arguments; return the parameter prefix and rates."""
    last_name, final = final_step(estimator)
    if isinstance(final, type):
        raise TypeError(
            f"lr_sweep needs an estimator instance, not the class "
            f"{final.__name__}: pass {final.__name__}(...)."
        )
    if not isinstance(final, SGDRegressor):
        # sklearn's SGDRegressor has eta0 too, but no loss_curve_ to diagnose
        what = "the last step of the Pipeline is" if last_name is not None else "got"
        raise TypeError(
            "lr_sweep needs a fastsgd SGDRegressor, or a Pipeline ending with one "
            f"(it diagnoses each run's loss_curve_); {what} "
            f"{type(final).__name__}."
        )
    prefix = "" if last_name is None else f"{last_name}__"
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
        raise TypeError(f"epochs must be an int; got {type(epochs).__name__}.")
    if epochs < 2:
        raise ValueError(f"epochs must be >= 2; got {epochs}.")
    if callback is not None and not callable(callback):
        raise TypeError(
            f"callback must be callable (i, eta, model, seconds); got "
            f"{type(callback).__name__}."
        )
    if etas is None:
        eta0 = float(final.get_params()["eta0"])
        etas = eta0 * 10.0 ** np.arange(-3, 3)
    if isinstance(etas, (str, bytes)) or (
        not isinstance(etas, np.ndarray)
        and any(isinstance(e, (bool, np.bool_)) for e in np.ravel(etas))
    ):
        raise TypeError(f"etas must be a sequence of positive numbers; got {etas!r}.")
    try:
        etas = np.asarray(etas, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("etas must be a sequence of positive numbers.") from None
    if etas.ndim > 1:
        raise ValueError(f"etas must be one-dimensional; got shape {etas.shape}.")
    etas = etas.ravel()
    if etas.size == 0 or not np.all(np.isfinite(etas)) or np.any(etas <= 0):
        raise ValueError("etas must be a non-empty sequence of positive numbers.")
    return prefix, np.unique(etas)


def _judge_run(model, ref, scale, X, y, sample_weight, seconds):
    """Return one run's curve, verdict, final loss, objective, diagnosis, time."""
    fitted = final_step(model)[1]
    optimum = ref.optimum
    if optimum is not None and optimum <= LOSS_FLOOR * (scale or 0.0):
        optimum = None  # diagnose needs a positive optimum
    diag = diagnose(model, scale=scale, optimum=optimum)
    curve = np.asarray(fitted.loss_curve_, dtype=np.float64)
    final_loss = curve[-1] if curve.size and not fitted.diverged_ else np.inf
    objective = (
        _run_objective(model, X, y, sample_weight)
        if ref.optimum is not None and not fitted.diverged_
        else np.nan
    )
    return curve, diag.verdict, float(final_loss), objective, diag, seconds


# -------------------------------------------------------- parameter paths
def parameter_path(estimator, X, y, n_steps, start=None, random_state=0):
    """Return the weights after each optimizer step: a path to draw.

    Takes one step per call of ``partial_fit`` on the next batch of a
    shuffled pass over the rows (``batch_size`` rows, all of them for
    ``'full'``), so the optimizer state and the step counter carry over as in
    one long ``fit``. Meant for small demos (a few hundred steps); use
    ``learning_rate='constant'`` or another schedule that does not plan over
    ``max_iter``.

    Parameters
    ----------
    estimator : SGDRegressor
        The configuration (not modified). ``early_stopping`` is turned off.
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Targets.
    n_steps : int
        Number of steps, >= 1.
    start : array-like of shape (n_features,), default=None
        Starting weights (zeros by default); the intercept starts at 0.
    random_state : int, default=0
        Seed of the batch order.

    Returns
    -------
    ndarray of shape (n_steps + 1, n_features)
        The weights before the first step and after every step (the weights
        the model reports, so averaged ones with ``average``).
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)):
        raise TypeError("n_steps must be an int.")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1; got {n_steps}.")
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    n, d = X.shape
    bs = estimator.get_params()["batch_size"]
    b = n if bs == "full" else min(int(bs), n)
    model = clone(estimator).set_params(
        batch_size=b, max_iter=1, tol=None, early_stopping=False, shuffle=False
    )
    w0 = np.zeros(d) if start is None else np.asarray(start, dtype=np.float64)
    if w0.shape != (d,):
        raise ValueError(f"start must have {d} values; got shape {w0.shape}.")
    rng = np.random.default_rng(random_state)
    path = np.empty((n_steps + 1, d))
    path[0] = w0
    order = rng.permutation(n)
    pos = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        for k in range(n_steps):
            if pos + b > n:
                order, pos = rng.permutation(n), 0
            rows = order[pos : pos + b]
            pos += b
            if k == 0:
                model.fit(X[rows], y[rows], coef_init=w0, intercept_init=0.0)
            else:
                model.partial_fit(X[rows], y[rows])
            path[k + 1] = model.coef_
            if model.diverged_ or not np.all(np.isfinite(model.coef_)):
                return path[: k + 2]
    return path
