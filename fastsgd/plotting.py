"""Figures of training runs: loss curves, sweeps, validation, trajectories.

matplotlib is an optional dependency (``pip install 'fastsgd[plot]'``),
imported inside each function. The figures are built with
:class:`matplotlib.figure.Figure` directly, not through ``pyplot``: nothing is
registered with a GUI backend, no window ever opens, and the global backend of
the caller is left alone (``fig.savefig`` renders with Agg). Every function
returns the Figure; pass ``ax`` to draw into an existing Axes instead.

Every axis and legend names the loss it shows. A model's ``loss_curve_`` is
scikit-learn's objective (for the squared loss, the mean of ½(p − y)² plus
the penalty): the functions that take curves say ``training objective`` by
default, and ``quantity='MSE'`` labels curves of mean squared errors (the
command line's, from :mod:`fastsgd.experiments`).

The second half of the module draws the figures of the lecture's
experiments (``fastsgd compare``): :func:`plot_convergence`,
:func:`plot_gradient_noise`, :func:`plot_rate_test`,
:func:`plot_decay_shrink`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np

__all__ = [
    "figure_format",
    "method_style",
    "plot_convergence",
    "plot_decay_shrink",
    "plot_gradient_noise",
    "plot_loss_curves",
    "plot_rate_test",
    "plot_sweep",
    "plot_sweep_curves",
    "plot_trajectories",
    "plot_validation",
    "save_figure",
    "subplots",
]

#: the name of what a model's ``loss_curve_`` records
OBJECTIVE = "objective"

_VERDICT_STYLE = {
    "explodes": dict(color="#d62728", marker="x"),
    "flat": dict(color="#7f7f7f", marker="v"),
    "noisy": dict(color="#ff7f0e", marker="s"),
    "overfits": dict(color="#9467bd", marker="D"),
    "healthy": dict(color="#2ca02c", marker="o"),
}


def subplots(ncols=1, figsize=(7.0, 4.5)):
    """Return a new Figure with ``ncols`` Axes side by side.

    The Figure is rendered with Agg on ``savefig`` (no window, no pyplot
    state) and laid out with matplotlib's constrained layout; draw into the
    Axes with the ``ax`` argument of the functions here.

    Parameters
    ----------
    ncols : int, default=1
        Number of Axes, >= 1.
    figsize : tuple of float, default=(7.0, 4.5)
        Width and height in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
    """
    return _figure(None, figsize, ncols)


def _figure(ax, figsize, ncols=1):
    """Return (fig, axes): a fresh Agg-rendered Figure, or the given ax's."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'fastsgd[plot]'"
        ) from None
    if ax is not None:
        return ax.figure, [ax]
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def figure_format(path):
    """Return the image format matplotlib writes for ``path``'s extension.

    Parameters
    ----------
    path : str or path-like
        Where a figure is to be written; no extension means PNG.

    Returns
    -------
    str
        The format (``'png'``, ``'svg'``, ``'jpg'``...).

    Raises
    ------
    ValueError
        When matplotlib does not write files with that extension.
    """
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if not ext:
        return "png"
    from matplotlib.figure import Figure

    supported = Figure().canvas.get_supported_filetypes()
    if ext not in supported:
        raise ValueError(
            f"cannot write figure {path}: matplotlib does not write .{ext} files "
            f"(use one of {', '.join('.' + e for e in sorted(supported))})"
        )
    return ext


def save_figure(fig, path, *, dpi=110):
    """Write ``fig`` to ``path`` in the format of its extension, atomically.

    The figure goes to a temporary file beside ``path``, renamed over it once
    complete: ``path`` holds the whole figure or is left as it was.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or path-like
        Where to write it (see :func:`figure_format`).
    dpi : float, default=110
        Resolution of raster formats.
    """
    from ._util import atomic_path

    fmt = figure_format(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)


def _curve_of(item):
    """Return the per-epoch losses of a fitted model or a sequence."""
    if hasattr(item, "loss_curve_"):
        return np.asarray(item.loss_curve_, dtype=np.float64)
    if hasattr(item, "get_params"):
        raise ValueError(f"{type(item).__name__} is not fitted: no loss_curve_.")
    arr = np.asarray(item, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"a loss curve must be 1-D; got shape {arr.shape}.")
    return arr


def plot_loss_curves(
    models_or_curves,
    labels=None,
    optimum=None,
    ax=None,
    *,
    excess=False,
    title=None,
    styles=None,
    quantity=OBJECTIVE,
):
    """Plot the training loss per epoch of several runs on one log-scale axis.

    Parameters
    ----------
    models_or_curves : sequence or dict
        Fitted estimators (their ``loss_curve_``) or sequences of losses; a
        dict maps labels to them.
    labels : sequence of str, default=None
        Legend labels (default: the dict keys, else ``run 1``, ``run 2``...).
    optimum : float, default=None
        The closed-form optimum of the same quantity, drawn as a dashed
        reference line (or subtracted, with ``excess``), in (0, inf) unless
        ``excess``.
    ax : matplotlib Axes, default=None
        Draw into this Axes instead of a new figure.
    excess : bool, default=False
        Plot ``loss - optimum`` (needs ``optimum``): on a log scale this shows
        linear convergence as a straight line and a noise floor as a plateau.
    title : str, default=None
        Axes title.
    styles : sequence of dict, default=None
        Extra keyword arguments for each line (color, linewidth, alpha...).
    quantity : str, default='objective'
        What the curves measure, named in the axis label and the optimum's
        legend entry: ``'objective'`` is what ``loss_curve_`` records; with
        curves of mean squared errors pass ``'MSE'`` (fitted estimators
        need the default).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.
    """
    items, labels = _items_and_labels(models_or_curves, labels)
    _check_curves(items, labels, optimum, excess, styles, quantity)
    fig, (ax,) = _figure(ax, (7.0, 4.5))
    floor = np.inf
    for i, (item, label) in enumerate(zip(items, labels, strict=True)):
        curve = _curve_of(item)
        if excess:
            # a stochastic run can dip below the optimum of the epoch mean;
            # clip to a visible floor rather than drop the point
            curve = curve - optimum
        epochs = np.arange(1, curve.shape[0] + 1)
        style = dict(linewidth=1.8)
        if styles is not None:
            style.update(styles[i])
        finite = curve[np.isfinite(curve) & (curve > 0)]
        if finite.size:
            floor = min(floor, float(finite.min()))
        ax.plot(epochs, curve, label=label, **style)
    if excess:
        low = floor / 3 if np.isfinite(floor) else 1e-12
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=np.float64)
            line.set_ydata(np.where(y > 0, y, low))
        ax.set_ylabel(f"training {quantity} - closed-form optimum")
    else:
        ax.set_ylabel(f"training {quantity}")
        if optimum is not None:
            ax.axhline(
                optimum,
                color="black",
                linestyle="--",
                linewidth=1.0,
                label=f"closed form ({quantity} {optimum:.4g})",
            )
    ax.set_yscale("log")
    ax.set_xlabel("epoch (passes over the data)")
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", frameon=False)
    return fig


def _items_and_labels(models_or_curves, labels):
    """Return the list of models or curves to draw and their labels."""
    if isinstance(models_or_curves, Mapping):
        if labels is None:
            labels = [str(k) for k in models_or_curves]
        items = list(models_or_curves.values())
    elif isinstance(models_or_curves, Sequence) or isinstance(
        models_or_curves, np.ndarray
    ):
        items = list(models_or_curves)
        if items and isinstance(items[0], (Real, np.number)):
            items = [models_or_curves]  # one bare curve
    else:
        items = [models_or_curves]
    if not items:
        raise ValueError("nothing to plot: no models or curves given.")
    if labels is None:
        labels = [f"run {i + 1}" for i in range(len(items))]
    return items, list(labels)


def _check_curves(items, labels, optimum, excess, styles, quantity):
    if len(labels) != len(items):
        raise ValueError(f"{len(labels)} labels for {len(items)} curves.")
    if styles is not None and len(styles) != len(items):
        raise ValueError(f"{len(styles)} styles for {len(items)} curves.")
    if excess and optimum is None:
        raise ValueError("excess=True needs the optimum.")
    if optimum is not None and not np.isfinite(optimum):
        raise ValueError(f"optimum must be finite; got {optimum}.")
    if optimum is not None and not excess and optimum <= 0:
        # the reference line is drawn on a log axis: it must be positive
        raise ValueError(
            f"optimum must be in (0, inf) (or pass excess=True); got {optimum}."
        )
    if quantity != OBJECTIVE and any(hasattr(i, "get_params") for i in items):
        raise ValueError(
            f"a model's loss_curve_ is the objective, not the {quantity}: pass "
            "its curve converted, or quantity='objective'."
        )


def plot_sweep(sweep_result, ax=None):
    """Plot a learning-rate sweep: the curves, and final loss against eta.

    Parameters
    ----------
    sweep_result : SweepResult
        The output of :func:`fastsgd.lr_sweep`.
    ax : matplotlib Axes, default=None
        Draw only the curves panel into this Axes.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the loss curve (the objective) of every rate (log scale),
        colored by rate and marked by verdict; right: the final objective
        against the rate, the best rate circled (see
        :func:`plot_sweep_curves`).
    """
    for name in ("etas", "curves", "verdicts", "final_loss", "best_eta"):
        if not hasattr(sweep_result, name):
            raise TypeError("plot_sweep needs the SweepResult of lr_sweep.")
    return plot_sweep_curves(
        sweep_result.etas,
        sweep_result.curves,
        sweep_result.verdicts,
        sweep_result.final_loss,
        sweep_result.best_eta,
        ax=ax,
    )


def plot_sweep_curves(
    etas,
    curves,
    verdicts,
    final,
    best_eta,
    ax=None,
    *,
    optimum=None,
    quantity=OBJECTIVE,
):
    """Plot the runs of a learning-rate sweep given as arrays.

    Parameters
    ----------
    etas : array-like of shape (n_rates,)
        The learning rates, ascending.
    curves : sequence of array-like
        The loss per epoch of each run.
    verdicts : sequence of str
        :func:`fastsgd.diagnose`'s verdict on each run.
    final : array-like of shape (n_rates,)
        Final loss of each run (``inf``: diverged, drawn at the top).
    best_eta : float or None
        The recommended rate, circled (one of ``etas``), or None.
    ax : matplotlib Axes, default=None
        Draw only the curves panel into this Axes.
    optimum : float or None, default=None
        The closed-form optimum of the same quantity, drawn as a dashed line
        in both panels when it is > 0.
    quantity : str, default='objective'
        What the curves measure (``loss_curve_``: the objective), named in
        the axis labels; ``'MSE'`` for mean squared errors.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the loss curve of every rate (log scale), colored by rate and
        marked by verdict; right: the final loss against the rate.
    """
    single = ax is not None
    fig, axes = _figure(ax, (11.0, 4.5), ncols=2)
    etas = np.asarray(etas)
    _sweep_curves_panel(axes[0], etas, curves, verdicts, best_eta, quantity)
    if not single:
        _sweep_final_panel(axes[1], etas, final, verdicts, best_eta, quantity)
    if optimum is not None and np.isfinite(optimum) and optimum > 0:
        for panel in axes:
            panel.axhline(
                optimum,
                color="black",
                linestyle="--",
                linewidth=1.0,
                label=f"closed form ({quantity} {optimum:.4g})",
            )
            panel.legend(fontsize="small", frameon=False)
    return fig


def _sweep_curves_panel(ax, etas, curves, verdicts, best_eta, quantity):
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    k = max(len(etas) - 1, 1)
    for i, (eta, curve, verdict) in enumerate(zip(etas, curves, verdicts, strict=True)):
        curve = np.asarray(curve, dtype=np.float64)
        style = _VERDICT_STYLE.get(verdict, {})
        x = np.arange(1, curve.shape[0] + 1)
        ax.plot(
            x,
            np.where(np.isfinite(curve), curve, np.nan),
            color=cmap(0.9 * i / k),
            marker=style.get("marker"),
            markevery=max(curve.shape[0] // 6, 1),
            markersize=5,
            linewidth=2.2 if eta == best_eta else 1.4,
            label=f"eta={eta:.3g} ({verdict})",
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training {quantity}")
    ax.set_title(f"training {quantity} per learning rate")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", frameon=False)


def _sweep_final_panel(ax, etas, final, verdicts, best_eta, quantity):
    final = np.asarray(final, dtype=np.float64)
    finite = final[np.isfinite(final)]
    top = finite.max() * 3 if finite.size else 1.0
    ax.plot(etas, np.where(np.isfinite(final), final, top), color="0.6", zorder=1)
    for verdict in dict.fromkeys(verdicts):
        sel = np.array([v == verdict for v in verdicts])
        style = _VERDICT_STYLE.get(verdict, {"color": "black", "marker": "o"})
        ax.scatter(
            etas[sel],
            np.where(np.isfinite(final[sel]), final[sel], top),
            label=verdict,
            zorder=2,
            s=40,
            **style,
        )
    if best_eta is not None:
        i = int(np.flatnonzero(etas == best_eta)[0])
        ax.scatter(
            [etas[i]],
            [final[i]],
            s=220,
            facecolors="none",
            edgecolors="black",
            linewidths=1.5,
            zorder=3,
            label=f"best eta = {best_eta:.3g}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate eta (log scale)")
    ax.set_ylabel(f"final training {quantity} (diverged: top)")
    ax.set_title("the x10 sweep")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", frameon=False)


def plot_validation(model, ax=None):
    """Plot the training objective and the validation R^2 of one fitted model.

    Parameters
    ----------
    model : SGDRegressor
        Fitted with ``early_stopping=True`` (so it has ``validation_scores_``).
    ax : matplotlib Axes, default=None
        Draw into this Axes (the R^2 goes on a twin axis).

    Returns
    -------
    matplotlib.figure.Figure
        Training objective (``loss_curve_``, left axis, log scale) and
        validation R^2 (right axis) per epoch, the best validation epoch
        marked.
    """
    scores = getattr(model, "validation_scores_", None)
    if not hasattr(model, "loss_curve_"):
        raise ValueError("plot_validation needs a fitted model.")
    if scores is None or len(scores) == 0:
        if getattr(model, "diverged_", False) and getattr(model, "early_stopping", 0):
            # the blow-up was rolled back to before the first epoch
            raise ValueError(
                "the validation curve is empty because training diverged in its "
                "first epoch: lower eta0 or scale the features, then refit."
            )
        raise ValueError(
            "the model has no validation_scores_: fit it with early_stopping=True."
        )
    fig, (ax,) = _figure(ax, (7.0, 4.5))
    loss = np.asarray(model.loss_curve_, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    epochs = np.arange(1, loss.shape[0] + 1)
    ax.plot(epochs, loss, color="#1f77b4", label=f"training {OBJECTIVE}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training {OBJECTIVE}", color="#1f77b4")
    twin = ax.twinx()
    twin.plot(
        np.arange(1, scores.shape[0] + 1),
        scores,
        color="#d62728",
        label="validation R^2",
    )
    best = int(np.argmax(scores))
    twin.axvline(best + 1, color="0.4", linestyle=":", linewidth=1.0)
    twin.scatter([best + 1], [scores[best]], color="#d62728", zorder=3)
    twin.annotate(
        f"best R^2 {scores[best]:.3f}\nepoch {best + 1}",
        (best + 1, scores[best]),
        textcoords="offset points",
        xytext=(8, -28),
        fontsize="small",
    )
    twin.set_ylabel("validation R^2", color="#d62728")
    lines = ax.get_lines() + twin.get_lines()[:1]
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize="small", frameon=False)
    ax.set_title(f"training {OBJECTIVE} against validation score")
    ax.grid(True, alpha=0.3)
    return fig


def plot_trajectories(
    paths,
    X,
    y,
    labels=None,
    optimum=None,
    ax=None,
    *,
    title=None,
    levels=14,
):
    """Draw parameter paths over the contours of a two-feature loss.

    Parameters
    ----------
    paths : sequence of array-like of shape (n_points, 2)
        Weights along each run (see :func:`fastsgd.diagnostics.parameter_path`).
    X : ndarray of shape (n_samples, 2)
        The features (for the contours of ``mean((X w - y)**2) / 2``; fit
        without intercept, or center ``X`` and ``y``).
    y : ndarray of shape (n_samples,)
        The targets.
    labels : sequence of str, default=None
        Legend labels.
    optimum : array-like of shape (2,), default=None
        The minimiser, marked with a star (default: least squares on X, y).
    ax : matplotlib Axes, default=None
        Draw into this Axes.
    title : str, default=None
        Axes title.
    levels : int, default=14
        Number of contour levels (log-spaced), >= 2.

    Returns
    -------
    matplotlib.figure.Figure
        The contours and one line with markers per path.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_trajectories needs 2 features; X has shape {X.shape}.")
    if y.shape != (X.shape[0],):
        raise ValueError("y must have one value per row of X.")
    paths = [np.asarray(p, dtype=np.float64) for p in paths]
    if not paths:
        raise ValueError("no paths given: pass at least one (n, 2) path.")
    for p in paths:
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"each path must have shape (n, 2); got {p.shape}.")
    if labels is None:
        labels = [f"run {i + 1}" for i in range(len(paths))]
    if len(labels) != len(paths):
        raise ValueError(f"{len(labels)} labels for {len(paths)} paths.")
    if int(levels) < 2:
        raise ValueError("levels must be >= 2.")
    if optimum is None:
        optimum = np.linalg.lstsq(X, y, rcond=None)[0]
    optimum = np.asarray(optimum, dtype=np.float64)
    fig, (ax,) = _figure(ax, (7.0, 6.0))
    pts = np.vstack(
        [optimum[None, :]] + [p[np.all(np.isfinite(p), axis=1)] for p in paths]
    )
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.15 * np.maximum(hi - lo, 1e-3)
    lo, hi = lo - pad, hi + pad
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    # quadratic form of the loss: 0.5 (w' H w - 2 b' w + c), H = X'X / n
    n = X.shape[0]
    H = X.T @ X / n
    b = X.T @ y / n
    c = float(y @ y) / n
    Z = 0.5 * (
        H[0, 0] * g0**2
        + 2 * H[0, 1] * g0 * g1
        + H[1, 1] * g1**2
        - 2 * (b[0] * g0 + b[1] * g1)
        + c
    )
    zmin = max(float(Z.min()), 1e-12)
    lv = np.geomspace(zmin * 1.02, float(Z.max()), int(levels))
    ax.contour(g0, g1, Z, levels=lv, cmap="Greys_r", linewidths=0.8, alpha=0.8)
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    for i, (p, label) in enumerate(zip(paths, labels, strict=True)):
        color = colors[i % len(colors)]
        ax.plot(
            p[:, 0],
            p[:, 1],
            color=color,
            marker="o",
            markersize=2.5,
            linewidth=1.3,
            label=f"{label} ({p.shape[0] - 1} steps)",
        )
    ax.plot(
        *paths[0][0],
        marker="s",
        color="black",
        markersize=7,
        linestyle="none",
        label="start",
    )
    ax.plot(
        *optimum,
        marker="*",
        color="gold",
        markeredgecolor="black",
        markersize=16,
        linestyle="none",
        label="least squares",
    )
    ax.set_xlabel("w[0]")
    ax.set_ylabel("w[1]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title or "parameter paths over the loss contours")
    ax.legend(fontsize="small", loc="best")
    return fig


# ------------------------------------------------ the lecture's experiments
_METHOD_STYLE = {
    "gd": dict(color="#1f77b4", linewidth=2.6),
    "sgd": dict(color="#ff7f0e", linewidth=1.2, alpha=0.9),
    "minibatch": dict(color="#2ca02c", linewidth=2.0),
    "momentum": dict(color="#d62728", linewidth=2.0),
    "adam": dict(color="#9467bd", linewidth=2.0),
    "adamw": dict(color="#8c564b", linewidth=2.0, linestyle="--"),
}


def method_style(method):
    """Return the line style of a method of ``fastsgd compare``.

    Parameters
    ----------
    method : str
        ``'gd'``, ``'sgd'``, ``'minibatch'``, ``'momentum'``, ``'adam'`` or
        ``'adamw'`` (anything else gets a default color).

    Returns
    -------
    dict
        Keyword arguments of ``Axes.plot`` (color, linewidth...): GD thick,
        per-example SGD thin, AdamW dashed.
    """
    return dict(_METHOD_STYLE.get(method, {"color": None, "linewidth": 2.0}))


def plot_convergence(
    curves,
    optimum,
    *,
    styles=None,
    step_curves=None,
    title=None,
    excess_title="distance to the closed-form optimum",
    suptitle=None,
    quantity=OBJECTIVE,
):
    """Plot runs against the optimum: their curves, and their distance to it.

    Parameters
    ----------
    curves : dict of str to array-like
        The loss per epoch of each run, by label.
    optimum : float
        The closed-form optimum of the same loss. The right panel (the
        excess ``loss - optimum``, log scale) is drawn only when it is > 0.
    styles : sequence of dict, default=None
        Extra keyword arguments for each run's line (see
        :func:`method_style`).
    step_curves : dict of str to (array-like, int), default=None
        For some runs (by label), the loss of every ``k`` steps with ``k``,
        drawn faintly behind the epoch curve, spread evenly over its epochs.
    title : str, default=None
        Title of the left panel.
    excess_title : str, default="distance to the closed-form optimum"
        Title of the right panel.
    suptitle : str, default=None
        Title of the figure.
    quantity : str, default='objective'
        What the curves and the optimum measure, named in the axis labels
        and legends (see :func:`plot_loss_curves`).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels side by side (13 x 5 inches).
    """
    fig, axes = _figure(None, (13.0, 5.0), ncols=2)
    if not curves:
        axes[0].text(0.5, 0.5, "closed form only", ha="center")
        return fig
    styles = list(styles) if styles is not None else [{} for _ in curves]
    plot_loss_curves(
        curves,
        optimum=optimum if optimum > 0 else None,
        ax=axes[0],
        styles=styles,
        title=title,
        quantity=quantity,
    )
    colors = dict(zip(curves, (st.get("color") for st in styles), strict=True))
    for label, (steps, every) in (step_curves or {}).items():
        n_epochs = len(curves[label])
        color = colors[label]
        _draw_steps(axes[0], label, n_epochs, steps, every, color, quantity)
    axes[0].legend(fontsize="small", frameon=False)
    if optimum > 0:
        plot_loss_curves(
            curves,
            optimum=optimum,
            ax=axes[1],
            excess=True,
            styles=styles,
            title=excess_title,
            quantity=quantity,
        )
    if suptitle:
        fig.suptitle(suptitle, fontsize="large")
    return fig


def _draw_steps(ax, label, n_epochs, steps, every, color, quantity):
    """Draw the loss of every ``every`` steps of one run behind its curve."""
    steps = np.asarray(steps, dtype=np.float64)
    if not (steps.size and every and n_epochs):
        return
    x = np.arange(1, steps.size + 1) / (steps.size / n_epochs)
    ax.plot(
        x,
        steps,
        color=color,
        alpha=0.3,
        linewidth=0.7,
        zorder=0,
        label=f"{label}: {quantity} of every {every} steps",
    )


def plot_gradient_noise(sizes, measured, predicted, *, trials=400, ax=None):
    """Plot the variance of mini-batch gradients against the batch size.

    Parameters
    ----------
    sizes : sequence of int
        Batch sizes B.
    measured : sequence of float
        ``E|g_B - g|^2`` measured at each size.
    predicted : sequence of float
        ``tr(Sigma) / B`` (sampling without replacement) at each size.
    trials : int, default=400
        Batches measured per size (for the legend).
    ax : matplotlib Axes, default=None
        Draw into this Axes.

    Returns
    -------
    matplotlib.figure.Figure
        Measured points and the theory line, log-log.
    """
    fig, (ax,) = _figure(ax, (7.0, 5.0))
    ax.loglog(
        sizes, measured, "o", color="#d62728", label=f"measured ({trials} batches each)"
    )
    ax.loglog(
        sizes,
        predicted,
        "-",
        color="black",
        linewidth=1.0,
        label="tr(Sigma) / B  (sampling without replacement)",
    )
    ax.set_xlabel("batch size B")
    ax.set_ylabel("variance of the mini-batch gradient")
    ax.set_title("gradient noise falls as 1/B")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", frameon=False)
    return fig


def plot_rate_test(
    etas, names, curves, verdicts, diverged, *, title=None, ax=None, quantity=OBJECTIVE
):
    """Plot the three-curve test: too small, right, too large a rate.

    Parameters
    ----------
    etas : sequence of float
        The rates.
    names : sequence of str
        Their names (e.g. ``'1/L'``).
    curves : sequence of array-like
        The loss per epoch of each run.
    verdicts : sequence of str
        :func:`fastsgd.diagnose`'s verdict on each run.
    diverged : sequence of bool
        Whether each run was stopped as diverged (marked with an X).
    title : str, default=None
        Axes title.
    ax : matplotlib Axes, default=None
        Draw into this Axes.
    quantity : str, default='objective'
        What the curves measure, named in the axis label.

    Returns
    -------
    matplotlib.figure.Figure
        The curves on a log scale (8 x 5 inches), grey, green and red.
    """
    fig, (ax,) = _figure(ax, (8.0, 5.0))
    colors = ("#7f7f7f", "#2ca02c", "#d62728")
    for i, (eta, name, curve) in enumerate(zip(etas, names, curves, strict=True)):
        curve = np.asarray(curve, dtype=np.float64)
        if curve.size == 0:
            continue
        color = colors[i % len(colors)]
        x = np.arange(1, curve.size + 1)
        ax.plot(
            x,
            curve,
            color=color,
            linewidth=2.2,
            label=f"eta = {name} = {eta:.3g}: {verdicts[i]}",
        )
        if diverged[i]:
            ax.plot(x[-1], curve[-1], "X", color=color, markersize=12)
            ax.annotate(
                "diverged: stopped",
                (x[-1], curve[-1]),
                textcoords="offset points",
                xytext=(-100, 6),
                color=color,
            )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training {quantity}")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    return fig


def plot_decay_shrink(scales, shrink, ratio, *, labels, epochs=None, suptitle=None):
    """Plot how Adam + L2 and AdamW shrink the weights of features of each scale.

    Parameters
    ----------
    scales : array-like of shape (n_features,)
        Each feature's standard deviation, ascending.
    shrink : pair of array-like of shape (n_features,)
        Fraction of each weight removed per step, under each run.
    ratio : pair of array-like of shape (n_features,)
        Final weight over plain Adam's, under each run.
    labels : pair of str
        The two runs (Adam + L2 first, then AdamW), for the legends.
    epochs : int, default=None
        Epochs of the runs (for the right panel's title).
    suptitle : str, default=None
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        Left: shrink per step against the scale (log-log); right: final
        weight ratio against the scale.
    """
    fig, (left, right) = _figure(None, (13.0, 5.0), ncols=2)
    marks = (("o-", "#d62728"), ("s-", "#1f77b4"))
    for (mark, color), label, s_k, r_k in zip(
        marks, labels, shrink, ratio, strict=True
    ):
        left.loglog(scales, s_k, mark, color=color, label=label)
        right.semilogx(scales, r_k, mark, color=color, label=label)
    left.set_xlabel("feature scale (standard deviation of the column)")
    left.set_ylabel("fraction of the weight removed per step")
    left.set_title("the decay step: Adam divides L2 by sqrt(v), AdamW does not")
    left.grid(True, which="both", alpha=0.3)
    left.legend(frameon=False)
    right.axhline(1.0, color="black", linewidth=0.8)
    right.set_ylim(0, 1.1)
    right.set_xlabel("feature scale (standard deviation of the column)")
    right.set_ylabel("weight / weight of plain Adam")
    if epochs is not None:
        right.set_title(f"after {epochs} epochs")
    right.grid(True, alpha=0.3)
    right.legend(frameon=False, loc="lower right")
    if suptitle:
        fig.suptitle(suptitle)
    return fig
