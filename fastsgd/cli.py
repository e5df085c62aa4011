"""The ``fastsgd`` command: ``compare``, ``sweep``, ``fit``, ``predict``.

``fastsgd compare`` is the lecture's running example: the same regression
solved by closed form, gradient descent, SGD, mini-batch SGD, momentum, Adam
and AdamW, with a table and a PNG of the loss curves. ``--scenario`` picks
the other experiments (``endings``, ``ravine``, ``batch-noise``, ``lr-test``,
``adamw-vs-l2``). ``fastsgd sweep`` runs the x10 learning-rate sweep;
``fastsgd fit`` / ``fastsgd predict`` train on a data file and predict into a
CSV, for shell pipelines.

Bad input (a missing file, a missing or non-numeric target column, an
unreadable format, an invalid option value) prints one line on stderr and
exits with status 2; nothing is written then: figures and models go to a
temporary file in the destination directory, renamed at the very end.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass

import numpy as np

EMBEDDED = ("well", "ravine", "diabetes")
SCENARIOS = ("optimizers", "endings", "ravine", "batch-noise", "lr-test", "adamw-vs-l2")
METHODS = ("closed", "gd", "sgd", "minibatch", "momentum", "adam", "adamw")
EXIT_USAGE = 2


class CLIError(Exception):
    """A problem with the command line or its input: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr, exit 2."""

    def error(self, message):
        """Print ``prog: error: message`` on one line and exit with 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


# ---------------------------------------------------------------- progress
class Progress:
    """A one-line progress bar on a terminal; silent everywhere else.

    Parameters
    ----------
    total : int
        Number of units of work, >= 1.
    label : str
        Text before the bar.
    stream : file-like, default=sys.stderr
        Where to draw.
    enabled : bool or None, default=None
        Force the bar on or off; None draws only when ``stream`` is a TTY.
    """

    def __init__(self, total, label, stream=None, enabled=None):
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total = max(int(total), 1)
        self.label = label
        self._last = 0.0
        self._drawn = False

    def update(self, done, text=""):
        """Redraw with ``done`` units finished and ``text`` after the bar."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < self.total and now - self._last < 0.05:
            return
        self._last = now
        width = 20
        filled = int(width * min(done, self.total) / self.total)
        line = f"{self.label} [{'#' * filled}{'-' * (width - filled)}] "
        line += f"{done}/{self.total} {text}".rstrip()
        cols = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + line[: max(cols - 1, 10)] + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self):
        """Erase the bar (it disappears once the work is done)."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


class _EpochTap(io.TextIOBase):
    """Stands in for stdout during a verbose fit; feeds a Progress per epoch.

    The estimator's ``verbose`` output (scikit-learn's format: ``-- Epoch k``
    then ``... Avg. loss: x ...``) is parsed, not printed.
    """

    _epoch = re.compile(r"-- Epoch (\d+)")
    _loss = re.compile(r"Avg\. loss: ([-+0-9.eEinfa]+)")

    def __init__(self, progress, n_rows):
        self.progress = progress
        self.n_rows = n_rows
        self.started = time.perf_counter()
        self.epoch = 0

    def writable(self):
        return True

    def write(self, s):
        m = self._epoch.search(s)
        if m:
            self.epoch = int(m.group(1))
        m = self._loss.search(s)
        if m:
            rate = (
                self.epoch * self.n_rows / max(time.perf_counter() - self.started, 1e-9)
            )
            self.progress.update(
                self.epoch, f"loss {float(m.group(1)):.4g}  {_rate(rate)} samples/s"
            )
        return len(s)


def _rate(x):
    """Format a per-second figure compactly: 1.23M, 456k."""
    if not math.isfinite(x):
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


# ------------------------------------------------------------ option types
def _number(cast, what, accept):
    """Return an argparse type: ``cast`` the text, keep it if ``accept(value)``."""

    def parse(text):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (math.isfinite(value) and accept(value)):
            shown = value if cast is int else repr(text)
            raise argparse.ArgumentTypeError(f"expected {what}, got {shown}")
        return value

    return parse


_positive_int = _number(int, "a positive integer", lambda v: v >= 1)
# a learning-rate sweep judges curves: it needs at least 2 epochs per rate
_sweep_epochs = _number(int, "an integer >= 2", lambda v: v >= 2)
_nonneg_int = _number(int, "an integer >= 0", lambda v: v >= 0)
_positive_float = _number(float, "a positive number", lambda v: v > 0)
_nonneg_float = _number(float, "a number >= 0", lambda v: v >= 0)


def _batch(text):
    if text == "full":
        return "full"
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'full', got {text!r}"
        ) from None


def _eta_list(text):
    values = []
    for part in text.split(","):
        values.append(_positive_float(part.strip()))
    return values


def _method_list(text):
    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [n for n in names if n not in METHODS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown method {', '.join(bad) or '(none)'}; choose from "
            f"{','.join(METHODS)}"
        )
    return list(dict.fromkeys(names))


# ----------------------------------------------------------------- outputs
def _check_output(path, what):
    """Fail early (exit 2) when ``path`` cannot be written."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise CLIError(f"{what} {path} is a directory")
    if not os.path.isdir(folder):
        raise CLIError(f"cannot write {what} {path}: no directory {folder}")
    if not os.access(folder, os.W_OK):
        raise CLIError(f"cannot write {what} {path}: {folder} is not writable")
    return path


def _umask():
    """Return the process umask (reading it means setting it: set it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _atomic(path):
    """Yield a temporary path beside ``path``; rename it over ``path`` on success."""
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


def _figure_format(path):
    """Return the image format matplotlib writes for ``path``'s extension.

    The temporary file ends in ``.part``, so the format must be explicit;
    an unknown extension is an error (exit 2) before any training.
    """
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if not ext:
        return "png"
    from matplotlib.figure import Figure

    supported = Figure().canvas.get_supported_filetypes()
    if ext not in supported:
        raise CLIError(
            f"cannot write figure {path}: matplotlib does not write .{ext} files "
            f"(use one of {', '.join('.' + e for e in sorted(supported))})"
        )
    return ext


def _save_figure(fig, path):
    fmt = _figure_format(path)
    with _atomic(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=110)


# ------------------------------------------------------------------- data
@dataclass
class Problem:
    """A regression problem as the commands see it."""

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list
    fit_intercept: bool = True
    note: str = ""


def _read_user_file(path, target):
    from .datasets import load_file

    if target is None:
        raise CLIError(f"--target is needed to read {path}: name the target column")
    try:
        X, y, names = load_file(path, target)
    except FileNotFoundError:
        raise CLIError(f"no such file: {path}") from None
    except (ValueError, ImportError, OSError) as exc:
        raise CLIError(str(exc)) from None
    if X.shape[0] < 2:
        raise CLIError(f"{path} has {X.shape[0]} data row(s); need at least 2")
    return X, y, names


def _standardize(X):
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    return (X - mean) / std


def _problem(args, default="well", need_two=False):
    data = args.data or default
    if data in EMBEDDED and args.target is not None:
        raise CLIError(f"--target only applies to a data file, not --data {data}")
    from . import datasets

    if data == "well":
        X, y = datasets.well_conditioned(random_state=args.seed)
        prob = Problem(
            "well",
            X,
            y,
            [f"x{j}" for j in range(X.shape[1])],
            note="well-conditioned, 2000 x 20, noise 0.5",
        )
    elif data == "ravine" and need_two:
        X, y = datasets.ravine(random_state=args.seed)
        prob = Problem(
            "ravine",
            X,
            y,
            ["x0", "x1"],
            fit_intercept=False,
            note="ravine, 500 x 2, condition number 50",
        )
    elif data == "ravine":
        X, y = datasets.ravine(
            n_samples=5000,
            n_features=20,
            condition=100.0,
            noise=0.5,
            random_state=args.seed,
        )
        prob = Problem(
            "ravine",
            X,
            y,
            [f"x{j}" for j in range(20)],
            fit_intercept=False,
            note="ravine, 5000 x 20, condition number 100",
        )
    elif data == "diabetes":
        X, y, names = datasets.diabetes()
        prob = Problem("diabetes", X, y, names, note="diabetes, 442 x 10, standardized")
    else:
        X, y, names = _read_user_file(data, args.target)
        note = f"{os.path.basename(data)}, {X.shape[0]} x {X.shape[1]}"
        if getattr(args, "no_standardize", False):
            note += ", raw features"
        else:
            X = _standardize(X)
            note += ", features standardized"
        prob = Problem(os.path.basename(data), X, y, names, note=note)
    if need_two and prob.X.shape[1] != 2:
        raise CLIError(
            f"this scenario needs exactly 2 features; {prob.name} has {prob.X.shape[1]}"
        )
    return prob


def _curvature(X, fit_intercept):
    """Return (L, R2): largest eigenvalue of the Gram/n, mean squared row norm."""
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


def _objective_of(X, y, coef, intercept):
    r = X @ coef + intercept - y
    return 0.5 * float(np.mean(r * r))


# ------------------------------------------------------------------ table
def _table(header, rows, aligns=None):
    cols = list(zip(*([header] + rows), strict=True))
    widths = [max(len(str(c)) for c in col) for col in cols]
    aligns = aligns or ["<"] + [">"] * (len(header) - 1)
    fmt = "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths, strict=True))
    lines = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*[str(c) for c in row]) for row in rows]
    return "\n".join(lines)


@dataclass
class Outcome:
    """What a scenario produced: text for stdout and a figure to save."""

    text: str
    figure: object


# ----------------------------------------------------------- the runners
def _fit_timed(model, X, y, budget=0.2, repeats=5):
    """Fit; return the wall time (best of a few identical fits when they are quick).

    The fits are seeded, so repeating one gives the same model; the minimum
    over repeats filters out a busy machine's noise on millisecond fits.
    """
    from .linear_model import DivergenceWarning

    best, spent = math.inf, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        for _ in range(repeats):
            start = time.perf_counter()
            model.fit(X, y)
            seconds = time.perf_counter() - start
            best, spent = min(best, seconds), spent + seconds
            if spent > budget:
                break
    return best


def _warm_up(fit_intercept):
    """Load the compiled epoch once, so the first timed run is not penalised."""
    from .linear_model import SGDRegressor

    X = np.zeros((4, 2)) + np.arange(4.0)[:, None]
    SGDRegressor(max_iter=2, tol=None, fit_intercept=fit_intercept).fit(X, X[:, 0])


def _method_models(names, prob, epochs, batch, seed):
    """Return {label: SGDRegressor} for the method names, tuned to the data."""
    from .linear_model import SGDRegressor

    L, R2 = _curvature(prob.X, prob.fit_intercept)
    m = prob.X.shape[0]
    b = m if batch == "full" else min(batch, m)
    eta_sgd = 0.25 / R2  # per-example SGD: stable, visibly noisy
    eta_mb = 0.25 / L  # mini-batch: a quarter of GD's step
    eta_mom = 0.05 / L  # momentum 0.9 multiplies the step by up to 10
    common = dict(
        penalty=None,
        learning_rate="constant",
        tol=None,
        max_iter=epochs,
        random_state=seed,
        fit_intercept=prob.fit_intercept,
    )
    specs = {
        "gd": ("GD (full batch)", dict(batch_size="full", eta0=1.0 / L)),
        "sgd": (
            "SGD (B=1)",
            # record the loss seen every m/50 steps: the jitter SGD lives with
            dict(batch_size=1, eta0=eta_sgd, record_every=max(1, m // 50)),
        ),
        "minibatch": (f"mini-batch SGD (B={b})", dict(batch_size=b, eta0=eta_mb)),
        "momentum": (
            f"momentum 0.9 (B={b})",
            dict(batch_size=b, optimizer="momentum", momentum=0.9, eta0=eta_mom),
        ),
        "adam": (f"Adam (B={b})", dict(batch_size=b, optimizer="adam", eta0=0.01)),
        "adamw": (
            f"AdamW (B={b}, wd 0.01)",
            dict(batch_size=b, optimizer="adamw", eta0=0.01, weight_decay=0.01),
        ),
    }
    out = {}
    for name in names:
        if name == "closed":
            continue
        label, params = specs[name]
        out[label] = SGDRegressor(**common, **params)
    return out


def _closed_form_row(prob):
    from .closed_form import IllConditionedWarning, closed_form

    seconds, spent = math.inf, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        for _ in range(5):  # best of a few when quick, as _fit_timed
            start = time.perf_counter()
            coef, intercept = closed_form(
                prob.X, prob.y, fit_intercept=prob.fit_intercept
            )
            took = time.perf_counter() - start
            seconds, spent = min(seconds, took), spent + took
            if spent > 0.2:
                break
    if not prob.fit_intercept:
        intercept = 0.0
    return coef, float(intercept), seconds


def _run_models(models, prob, args, optimum):
    """Fit each model; return rows of (label, model, seconds, diagnosis)."""
    from .diagnostics import diagnose

    bar = Progress(len(models), "training", enabled=_bar_enabled(args))
    out = []
    try:
        for i, (label, model) in enumerate(models.items()):
            seconds = _fit_timed(model, prob.X, prob.y)
            diag = diagnose(model, optimum=optimum, scale=0.5 * np.mean(prob.y**2))
            curve = model.loss_curve_
            loss = f"loss {curve[-1]:.4g}" if curve else "diverged"
            rate = model.n_iter_ * prob.X.shape[0] / max(seconds, 1e-9)
            bar.update(
                i + 1,
                f"{model.n_iter_} ep, {loss}, {_rate(rate)} samples/s - {label}",
            )
            out.append((label, model, seconds, diag))
    finally:
        bar.close()
    return out


def _bar_enabled(args):
    if getattr(args, "quiet", False):
        return False
    return None  # only when stderr is a terminal


def _loss_floor(y):
    """Losses (half MSE) below this are rounding noise for the target ``y``."""
    from .diagnostics import LOSS_FLOOR

    return LOSS_FLOOR * 0.5 * float(np.mean(np.square(y)))


def _ratio(value, ref, floor, digits):
    """``value / ref`` as text; ``-`` when ``ref`` is zero to rounding.

    On noise-free data the optimum is ~1e-32: a ratio to it is rounding
    noise (or 1e30), not a measure of the run.
    """
    if ref <= floor:
        return "-"
    return f"{value / ref:.{digits}f}"


def _mse(model, X, y):
    if getattr(model, "diverged_", False) and not model.loss_curve_:
        return math.inf
    pred = model.predict(X)
    return float(np.mean((pred - y) ** 2))


def _scenario_optimizers(args, prob):
    names = args.optimizers or list(METHODS)
    _warm_up(prob.fit_intercept)
    coef, intercept, cf_time = _closed_form_row(prob)
    optimum = _objective_of(prob.X, prob.y, coef, intercept)
    cf_mse = 2 * optimum
    models = _method_models(names, prob, args.epochs, args.batch_size, args.seed)
    runs = _run_models(models, prob, args, optimum if optimum > 0 else None)
    n = prob.X.shape[0]
    floor = 2 * _loss_floor(prob.y)  # in MSE
    rows = []
    if "closed" in names:
        rows.append(
            [
                "closed form",
                f"{cf_mse:.5g}",
                "1.000",
                "-",
                f"{cf_time * 1e3:.1f} ms",
                _rate(n / max(cf_time, 1e-9)),
                "(exact)",
            ]
        )
    for label, model, seconds, diag in runs:
        mse = _mse(model, prob.X, prob.y)
        rows.append(
            [
                label,
                f"{mse:.5g}",
                _ratio(mse, cf_mse, floor, 3),
                str(model.n_iter_),
                f"{seconds * 1e3:.1f} ms",
                _rate(model.n_iter_ * n / max(seconds, 1e-9)),
                diag.verdict,
            ]
        )
    table = _table(
        [
            "method",
            "final MSE",
            "/ closed",
            "epochs",
            "wall time",
            "samples/s",
            "diagnosis",
        ],
        rows,
    )
    fig = _optimizers_figure(runs, optimum, prob)
    lines = [table]
    for label, _, _, diag in runs:
        if diag.verdict != "healthy":
            lines.append(
                f"{label}: {diag.verdict} - {diag.summary}; try: {diag.fixes[0]}"
            )
    return Outcome("\n".join(lines), fig)


_PALETTE = {
    "GD": "#1f77b4",
    "SGD (B=1)": "#ff7f0e",
    "mini-batch": "#2ca02c",
    "momentum": "#d62728",
    "Adam": "#9467bd",
    "AdamW": "#8c564b",
}


def _style(label):
    for key in sorted(_PALETTE, key=len, reverse=True):
        if label.startswith(key):
            color = _PALETTE[key]
            break
    else:
        color = None
    style = {"color": color, "linewidth": 2.0}
    if label.startswith("SGD (B=1)"):
        style.update(linewidth=1.2, alpha=0.9)
    if label.startswith("GD"):
        style.update(linewidth=2.6)
    if label.startswith("AdamW"):
        style.update(linestyle="--")
    return style


def _optimizers_figure(runs, optimum, prob):
    from .plotting import _figure, plot_loss_curves

    fig, axes = _figure(None, (13.0, 5.0), ncols=2)
    models = {label: model for label, model, _, _ in runs}
    styles = [_style(label) for label in models]
    if not models:
        axes[0].text(0.5, 0.5, "closed form only", ha="center")
        return fig
    plot_loss_curves(
        models,
        optimum=optimum,
        ax=axes[0],
        styles=styles,
        title=f"training loss ({prob.note})",
    )
    for label, model in models.items():
        steps = np.asarray(getattr(model, "step_loss_curve_", ()), dtype=np.float64)
        every = model.get_params()["record_every"]
        if steps.size and every and model.loss_curve_:
            per_epoch = steps.size / len(model.loss_curve_)
            x = np.arange(1, steps.size + 1) / per_epoch
            axes[0].plot(
                x,
                steps,
                color=_style(label)["color"],
                alpha=0.3,
                linewidth=0.7,
                zorder=0,
                label=f"{label}: mean loss of every {every} steps",
            )
    axes[0].legend(fontsize="small", frameon=False)
    if optimum > 0:
        plot_loss_curves(
            models,
            optimum=optimum,
            ax=axes[1],
            excess=True,
            styles=styles,
            title="distance to the closed-form optimum",
        )
    fig.suptitle(
        "GD is calm, SGD jitters at a noise floor, momentum and Adam get there fast",
        fontsize="large",
    )
    return fig


def _per_epoch_objective(model, prob, epochs):
    """Train one epoch at a time; return the objective of the reported model."""
    from .linear_model import DivergenceWarning

    curve = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        for _ in range(epochs):
            model.partial_fit(prob.X, prob.y)
            if model.diverged_:
                break
            curve.append(
                _objective_of(prob.X, prob.y, model.coef_, model.intercept_[0])
            )
    return np.asarray(curve), time.perf_counter() - start


def _scenario_endings(args, prob):
    from .diagnostics import diagnose
    from .linear_model import SGDRegressor
    from .plotting import plot_loss_curves

    _warm_up(prob.fit_intercept)
    coef, intercept, _ = _closed_form_row(prob)
    optimum = _objective_of(prob.X, prob.y, coef, intercept)
    L, R2 = _curvature(prob.X, prob.fit_intercept)
    n = prob.X.shape[0]
    eta = 0.5 / R2
    common = dict(
        penalty=None,
        tol=None,
        random_state=args.seed,
        fit_intercept=prob.fit_intercept,
        max_iter=args.epochs,
    )
    runs = {
        "GD, small eta (0.3/L)": SGDRegressor(
            batch_size="full", learning_rate="constant", eta0=0.3 / L, **common
        ),
        "SGD, constant eta": SGDRegressor(
            batch_size=1, learning_rate="constant", eta0=eta, **common
        ),
        "SGD, decaying eta (1/sqrt t)": SGDRegressor(
            batch_size=1,
            learning_rate="invscaling",
            power_t=0.5,
            eta0=eta * 10,
            **common,
        ),
        "SGD, constant eta + averaging": SGDRegressor(
            batch_size=1, learning_rate="constant", eta0=eta, average=n, **common
        ),
    }
    bar = Progress(len(runs), "training", enabled=_bar_enabled(args))
    curves, rows = {}, []
    try:
        for i, (label, model) in enumerate(runs.items()):
            curve, seconds = _per_epoch_objective(model, prob, args.epochs)
            curves[label] = curve
            diag = (
                diagnose(curve, optimum=optimum, scale=0.5 * np.mean(prob.y**2))
                if curve.size
                else None
            )
            verdict = diag.verdict if diag else "explodes"
            final = curve[-1] if curve.size else math.inf
            rows.append(
                [
                    label,
                    f"{2 * final:.5g}",
                    _ratio(final, optimum, _loss_floor(prob.y), 4),
                    str(curve.size),
                    f"{seconds * 1e3:.0f} ms",
                    verdict,
                ]
            )
            bar.update(i + 1, f"{label}: loss {final:.4g}")
    finally:
        bar.close()
    table = _table(
        ["run", "final MSE", "/ closed", "epochs", "wall time", "diagnosis"], rows
    )
    from .plotting import _figure

    fig, axes = _figure(None, (13.0, 5.0), ncols=2)
    styles = [
        {"color": c, "linewidth": 2.0}
        for c in ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
    ]
    plot_loss_curves(
        curves,
        optimum=optimum,
        ax=axes[0],
        styles=styles,
        title="objective of the reported model after each epoch",
    )
    plot_loss_curves(
        curves,
        optimum=optimum,
        ax=axes[1],
        excess=True,
        styles=styles,
        title="distance to the optimum",
    )
    fig.suptitle(
        "How runs end: GD glides, constant-eta SGD hovers at a noise floor, "
        "decay or averaging settle"
    )
    return Outcome(table, fig)


def _scenario_ravine(args, prob):
    from .diagnostics import parameter_path
    from .linear_model import SGDRegressor
    from .plotting import plot_trajectories

    _warm_up(prob.fit_intercept)
    X, y = prob.X, prob.y
    coef, intercept, _ = _closed_form_row(prob)
    L, _ = _curvature(X, prob.fit_intercept)
    lam = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    kappa = lam[-1] / max(lam[0], 1e-300)
    b = args.batch_size
    steps = 60
    common = dict(
        penalty=None,
        learning_rate="constant",
        batch_size=b,
        fit_intercept=prob.fit_intercept,
        random_state=args.seed,
    )
    runs = {
        "SGD (eta 1.8/L)": SGDRegressor(eta0=1.8 / L, **common),
        "momentum 0.9 (eta 0.18/L)": SGDRegressor(
            optimizer="momentum", momentum=0.9, eta0=0.18 / L, **common
        ),
        "Adam (eta 0.25)": SGDRegressor(optimizer="adam", eta0=0.25, **common),
    }
    opt_loss = _objective_of(X, y, coef, intercept)
    start = np.zeros(X.shape[1])
    paths, rows = [], []
    bar = Progress(len(runs), "training", enabled=_bar_enabled(args))
    try:
        for i, (label, model) in enumerate(runs.items()):
            t0 = time.perf_counter()
            path = parameter_path(
                model, X, y, steps, start=start, random_state=args.seed
            )
            seconds = time.perf_counter() - t0
            paths.append(path)
            w = path[-1]
            loss = _objective_of(X, y, w, intercept if prob.fit_intercept else 0.0)
            rows.append(
                [
                    label,
                    str(path.shape[0] - 1),
                    f"{np.linalg.norm(w - coef):.3g}",
                    f"{loss / opt_loss:.4f}" if opt_loss > 0 else "-",
                    f"{seconds * 1e3:.0f} ms",
                ]
            )
            bar.update(i + 1, label)
    finally:
        bar.close()
    table = _table(
        ["method", "steps", "distance to optimum", "loss / optimum", "wall time"], rows
    )
    fig = plot_trajectories(
        paths,
        X,
        y - (intercept if prob.fit_intercept else 0.0),
        labels=list(runs),
        optimum=coef,
        title=f"{prob.note}\nSGD zig-zags across the valley, momentum and Adam go "
        "down it"
        if prob.name == "ravine"
        else f"parameter paths ({prob.note})",
    )
    text = table + f"\ncondition number of X'X/n: {kappa:.3g}; batch size {b}"
    return Outcome(text, fig)


def _scenario_batch_noise(args, prob):
    from .linear_model import SGDRegressor
    from .plotting import _figure, plot_loss_curves

    _warm_up(prob.fit_intercept)
    X, y = prob.X, prob.y
    n = X.shape[0]
    rng = np.random.default_rng(args.seed)
    coef, intercept, _ = _closed_form_row(prob)
    # per-example gradients at half way from zero to the optimum
    w, b0 = 0.5 * coef, 0.5 * intercept
    r = X @ w + b0 - y
    G = r[:, None] * (np.hstack([X, np.ones((n, 1))]) if prob.fit_intercept else X)
    g = G.mean(axis=0)
    total_var = float(np.mean(np.sum((G - g) ** 2, axis=1)))
    sizes = [s for s in (1, 2, 4, 8, 16, 32, 64, 128, 256) if s <= n // 2]
    trials = 400
    measured, predicted = [], []
    for s in sizes:
        devs = np.empty(trials)
        for t in range(trials):
            rows = rng.choice(n, size=s, replace=False)
            devs[t] = np.sum((G[rows].mean(axis=0) - g) ** 2)
        measured.append(float(devs.mean()))
        predicted.append(total_var / s * (n - s) / (n - 1))
    rows = [
        [str(s), f"{m:.4g}", f"{m * s:.4g}", f"{p:.4g}"]
        for s, m, p in zip(sizes, measured, predicted, strict=True)
    ]
    table = _table(["batch size B", "E|g_B - g|^2", "x B", "theory tr(S)/B"], rows)
    L, R2 = _curvature(X, prob.fit_intercept)
    eta = 0.5 / R2
    curves = {}
    for s in (1, 8, 64):
        if s > n:
            continue
        model = SGDRegressor(
            penalty=None,
            learning_rate="constant",
            eta0=eta,
            batch_size=s,
            tol=None,
            max_iter=args.epochs,
            random_state=args.seed,
            fit_intercept=prob.fit_intercept,
        )
        _fit_timed(model, X, y)
        curves[f"B={s}, eta={eta:.2g}"] = model
    fig, axes = _figure(None, (13.0, 5.0), ncols=2)
    ax = axes[0]
    ax.loglog(
        sizes, measured, "o", color="#d62728", label="measured (400 batches each)"
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
    optimum = _objective_of(X, y, coef, intercept)
    plot_loss_curves(
        curves,
        optimum=optimum,
        ax=axes[1],
        excess=optimum > 0,
        title="same eta: the noise floor falls with B",
    )
    return Outcome(table, fig)


def _scenario_lr_test(args, prob):
    from .linear_model import SGDRegressor
    from .plotting import _figure

    _warm_up(prob.fit_intercept)
    est = SGDRegressor(
        penalty=None,
        batch_size=args.batch_size,
        random_state=args.seed,
        fit_intercept=prob.fit_intercept,
    )
    L, _ = _curvature(prob.X, prob.fit_intercept)
    # too small, textbook (1/L) and just past GD's stability limit 2/L
    etas = np.array([0.01, 1.0, 2.2]) / L
    sweep = _sweep_with_bar(est, prob, etas, args.epochs, args)
    fig, axes = _figure(None, (8.0, 5.0))
    ax = axes[0]
    colors = ("#7f7f7f", "#2ca02c", "#d62728")
    names = ("0.01/L", "1/L", "2.2/L")
    for i, name in enumerate(names):
        curve = sweep.curves[i]
        if len(curve) == 0:
            continue
        x = np.arange(1, len(curve) + 1)
        ax.plot(
            x,
            curve,
            color=colors[i],
            linewidth=2.2,
            label=f"eta = {name} = {sweep.etas[i]:.3g}: {sweep.verdicts[i]}",
        )
        if sweep.diagnoses[i].evidence.get("diverged"):
            ax.plot(x[-1], curve[-1], "X", color=colors[i], markersize=12)
            ax.annotate(
                "diverged: stopped",
                (x[-1], curve[-1]),
                textcoords="offset points",
                xytext=(-100, 6),
                color=colors[i],
            )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(
        "the three-curve test: too small is flat, too large explodes\n"
        f"({prob.note}, batch {args.batch_size}, L = largest curvature "
        f"{L:.3g})",
        fontsize="medium",
    )
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    table = _table(
        ["eta", "eta x L", "verdict", "final loss", "epochs"],
        [
            [f"{e:.3g}", name, v, f"{f:.5g}", str(len(c))]
            for e, name, v, f, c in zip(
                sweep.etas,
                names,
                sweep.verdicts,
                sweep.final_loss,
                sweep.curves,
                strict=True,
            )
        ],
    )
    fixes = [
        f"{name}: {d.fixes[0]}"
        for name, d in zip(names, sweep.diagnoses, strict=True)
        if d.verdict != "healthy"
    ]
    return Outcome("\n".join([table] + fixes), fig)


def _scenario_adamw(args, prob):
    from .linear_model import SGDRegressor
    from .plotting import _figure

    if prob is None:
        from .datasets import spread_scales

        X, y = spread_scales(random_state=args.seed)
        prob = Problem(
            "spread",
            X,
            y,
            [f"x{j}" for j in range(X.shape[1])],
            note="8 features with scales 0.1 to 10",
        )
    _warm_up(prob.fit_intercept)
    X, y = prob.X, prob.y
    lam, eta = 0.01, 0.01
    b = X.shape[0] if args.batch_size == "full" else min(args.batch_size, X.shape[0])
    base = dict(
        learning_rate="constant",
        eta0=eta,
        batch_size=b,
        max_iter=args.epochs,
        tol=None,
        random_state=args.seed,
        fit_intercept=prob.fit_intercept,
    )
    runs = {
        "Adam": SGDRegressor(optimizer="adam", penalty=None, **base),
        f"Adam + L2 (alpha={lam:g})": SGDRegressor(
            optimizer="adam", penalty="l2", alpha=lam, **base
        ),
        f"AdamW (weight_decay={lam:g})": SGDRegressor(
            optimizer="adamw", penalty=None, weight_decay=lam, **base
        ),
    }
    bar = Progress(len(runs), "training", enabled=_bar_enabled(args))
    try:
        for i, (label, model) in enumerate(runs.items()):
            _fit_timed(model, X, y, repeats=1)
            bar.update(i + 1, label)
    finally:
        bar.close()
    for label, model in runs.items():
        if model.diverged_:
            raise CLIError(f"{label} diverged on {prob.name}; standardize or lower eta")
    plain, l2, adamw = runs.values()
    w0 = plain.coef_
    safe = np.where(np.abs(w0) > 1e-12, w0, np.nan)
    r_l2, r_w = l2.coef_ / safe, adamw.coef_ / safe
    # what Adam divides by: sqrt of the second moment of a mini-batch
    # gradient coordinate at the end of the Adam + L2 run (mean^2 + var / B)
    resid = X @ l2.coef_ + l2.intercept_[0] - y
    G = resid[:, None] * X + lam * l2.coef_
    v = G.mean(axis=0) ** 2 + G.var(axis=0) / b
    step_l2 = eta * lam / (np.sqrt(v) + 1e-8)  # relative shrink of w_j per step
    step_w = np.full_like(step_l2, eta * lam)
    scales = X.std(axis=0)
    order = np.argsort(scales)
    rows = [
        [
            prob.feature_names[j],
            f"{scales[j]:.3g}",
            f"{np.sqrt(v[j]):.3g}",
            f"{step_l2[j]:.2e}",
            f"{step_w[j]:.2e}",
            f"{r_l2[j]:.3f}",
            f"{r_w[j]:.3f}",
        ]
        for j in order
    ]
    table = _table(
        [
            "feature",
            "scale",
            "sqrt(v)",
            "L2 shrink/step",
            "AdamW shrink/step",
            "Adam+L2 / Adam",
            "AdamW / Adam",
        ],
        rows,
    )

    def spread(r):
        r = np.abs(r[np.isfinite(r)])
        return float(r.max() / max(r.min(), 1e-300)) if r.size else math.nan

    text = (
        table + f"\nshrink per step, largest / smallest weight: Adam + L2 "
        f"{spread(step_l2):.3g}x, AdamW {spread(step_w):.3g}x (exactly 1 - eta "
        f"lambda = {1 - eta * lam:g} for every weight)"
        + f"\nafter {args.epochs} epochs, weight / unregularised weight ranges "
        f"{np.nanmin(r_l2):.3f}-{np.nanmax(r_l2):.3f} under Adam + L2, "
        f"{np.nanmin(r_w):.3f}-{np.nanmax(r_w):.3f} under AdamW"
    )
    fig, axes = _figure(None, (13.0, 5.0), ncols=2)
    s = scales[order]
    red, blue = "#d62728", "#1f77b4"
    ax = axes[0]
    ax.loglog(s, step_l2[order], "o-", color=red, label=list(runs)[1])
    ax.loglog(s, step_w[order], "s-", color=blue, label=list(runs)[2])
    ax.set_xlabel("feature scale (standard deviation of the column)")
    ax.set_ylabel("fraction of the weight removed per step")
    ax.set_title("the decay step: Adam divides L2 by sqrt(v), AdamW does not")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(frameon=False)
    ax = axes[1]
    ax.semilogx(s, r_l2[order], "o-", color=red, label=list(runs)[1])
    ax.semilogx(s, r_w[order], "s-", color=blue, label=list(runs)[2])
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("feature scale (standard deviation of the column)")
    ax.set_ylabel("weight / weight of plain Adam")
    ax.set_title(f"after {args.epochs} epochs")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    fig.suptitle(
        "Adam + L2: weights with large gradients barely shrink; AdamW "
        "shrinks every weight by the same factor per step"
    )
    return Outcome(text, fig)


#: the embedded problem each scenario runs on unless --data says otherwise
_SCENARIO_DATA = {
    # ill-conditioned on purpose: on well-conditioned data full-batch GD
    # wins every race, and the lecture's picture (GD calm and slow, SGD
    # jittery, momentum and Adam fast) needs a valley
    "optimizers": "ravine",
    "endings": "well",
    "ravine": "ravine",
    "batch-noise": "well",
    "lr-test": "well",
    "adamw-vs-l2": None,  # its own problem: features on spread scales
}

_SCENARIO_FUNCS = {
    "optimizers": _scenario_optimizers,
    "endings": _scenario_endings,
    "ravine": _scenario_ravine,
    "batch-noise": _scenario_batch_noise,
    "lr-test": _scenario_lr_test,
    "adamw-vs-l2": _scenario_adamw,
}


def _sweep_with_bar(est, prob, etas, epochs, args):
    from .diagnostics import lr_sweep

    etas = np.unique(np.asarray(etas, dtype=np.float64))
    bar = Progress(len(etas), "sweep", enabled=_bar_enabled(args))
    n = prob.X.shape[0]

    def tick(i, eta, model, seconds):
        curve = model.loss_curve_
        loss = f"loss {curve[-1]:.4g}" if curve and not model.diverged_ else "diverged"
        bar.update(
            i + 1,
            f"eta {eta:.3g}: {len(curve)} ep, {loss}, "
            f"{_rate(len(curve) * n / max(seconds, 1e-9))} samples/s",
        )

    try:
        return lr_sweep(est, prob.X, prob.y, etas=etas, epochs=epochs, callback=tick)
    finally:
        bar.close()


# ---------------------------------------------------------------- commands
def cmd_compare(args):
    """Run one scenario of the lecture, print its table, write its figure."""
    if args.optimizers is not None and args.scenario != "optimizers":
        raise CLIError("--optimizers only applies to --scenario optimizers")
    default_png = (
        "fastsgd-compare.png"
        if args.scenario == "optimizers"
        else f"fastsgd-compare-{args.scenario}.png"
    )
    output = _check_output(args.output or default_png, "figure")
    default = _SCENARIO_DATA[args.scenario]
    if args.scenario == "adamw-vs-l2" and args.data is None:
        prob = None
    else:
        prob = _problem(args, default=default, need_two=args.scenario == "ravine")
    if args.epochs is None:
        args.epochs = {"adamw-vs-l2": 100}.get(args.scenario, 30)
    if args.scenario == "lr-test" and args.epochs < 2:
        raise CLIError(
            f"--scenario lr-test needs --epochs >= 2 (the sweep judges curves); "
            f"got {args.epochs}"
        )
    if args.batch_size is None:
        args.batch_size = {"ravine": 16, "lr-test": "full"}.get(args.scenario, 32)
    _need_matplotlib()
    _figure_format(output)
    outcome = _SCENARIO_FUNCS[args.scenario](args, prob)
    _save_figure(outcome.figure, output)
    title = prob.note if prob is not None else "8 features with scales 0.1 to 10"
    print(f"fastsgd compare --scenario {args.scenario}: {title}")
    print(outcome.text)
    print(f"figure written to {output}")
    return 0


def cmd_sweep(args):
    """Sweep the learning rate by factors of 10; print the table, write the figure."""
    from .linear_model import SGDRegressor
    from .plotting import plot_sweep

    output = _check_output(args.output, "figure")
    prob = _problem(args)
    _need_matplotlib()
    _figure_format(output)
    _warm_up(prob.fit_intercept)
    est = SGDRegressor(
        penalty=None,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        random_state=args.seed,
        fit_intercept=prob.fit_intercept,
        eta0=0.01,
    )
    etas = args.etas if args.etas is not None else 10.0 ** np.arange(-5, 2)
    sweep = _sweep_with_bar(est, prob, etas, args.epochs, args)
    fig = plot_sweep(sweep)
    fig.suptitle(
        f"learning-rate sweep: {args.optimizer}, B={args.batch_size}, {prob.note}"
    )
    _save_figure(fig, output)
    print(
        f"fastsgd sweep: {args.optimizer}, batch size {args.batch_size}, "
        f"{args.epochs} epochs per rate on {prob.note}"
    )
    print(sweep)
    print(f"figure written to {output}")
    return 0


def cmd_fit(args):
    """Train on a data file and save the model with joblib."""
    import joblib
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .diagnostics import diagnose
    from .linear_model import DivergenceWarning, SGDRegressor

    output = _check_output(args.output, "model")
    X, y, names = _read_user_file(args.data, args.target)
    reg = SGDRegressor(
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        eta0=args.eta0,
        batch_size=args.batch_size,
        max_iter=args.epochs,
        alpha=args.alpha,
        penalty=None if args.penalty == "none" else args.penalty,
        tol=args.tol,
        early_stopping=args.early_stopping,
        random_state=args.seed,
    )
    if args.learning_rate == "optimal" and args.alpha == 0:
        raise CLIError("--learning-rate optimal needs --alpha > 0")
    model = reg if args.no_standardize else make_pipeline(StandardScaler(), reg)
    bar = Progress(args.epochs, "fit", enabled=_bar_enabled(args))
    notes = []
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.simplefilter("always", DivergenceWarning)
            if bar.enabled:
                reg.set_params(verbose=1)
                with contextlib.redirect_stdout(_EpochTap(bar, X.shape[0])):
                    model.fit(X, y)
                reg.set_params(verbose=0)
            else:
                model.fit(X, y)
    except ValueError as exc:
        raise CLIError(f"cannot fit {args.data}: {exc}") from None
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(f"note: {w.message}")
        elif not issubclass(w.category, DivergenceWarning):  # reported below
            notes.append(f"warning: {w.category.__name__}: {w.message}")
    diag = diagnose(model, X, feature_names=names)
    r2 = model.score(X, y) if not reg.diverged_ else math.nan
    print(
        f"fastsgd fit: {args.data}: {X.shape[0]} rows x {X.shape[1]} features, "
        f"target {args.target!r}"
    )
    if reg.diverged_:
        # the blow-up is rolled back: the diagnosis counts the epochs kept
        ran = (
            f"diverged in epoch {reg.n_iter_}; the loss curve keeps "
            f"{len(reg.loss_curve_)} epochs from before the blow-up;"
        )
    else:
        ran = f"{reg.n_iter_} epochs (stopped: {reg.stop_reason_})"
    print(
        f"  {ran} in {seconds:.3g} s, training R^2 {r2:.4f}, diagnosis: {diag.verdict}"
    )
    for note in notes:
        print(note, file=sys.stderr)
    if reg.diverged_:
        print(str(diag), file=sys.stderr)
        print(
            f"fastsgd fit: error: training diverged; no model written to {output}",
            file=sys.stderr,
        )
        return 1
    if diag.verdict != "healthy":
        print(str(diag))
    elif diag.warnings:
        for w in diag.warnings:
            print(f"warning: {w}", file=sys.stderr)
    model.fastsgd_feature_names_ = list(names)
    model.fastsgd_target_ = args.target
    with _atomic(output) as tmp:
        joblib.dump(model, tmp)
    print(f"model written to {output}")
    return 0


def cmd_predict(args):
    """Predict with a saved model; write a CSV column of predictions."""
    import joblib

    from .datasets import load_file

    if args.output is not None:
        output = _check_output(args.output, "predictions")
    if not os.path.exists(args.model):
        raise CLIError(f"no such file: {args.model}")
    try:
        model = joblib.load(args.model)
    except Exception as exc:  # unpickling can raise almost anything
        raise CLIError(
            f"cannot read model {args.model}: not a model saved by 'fastsgd fit' "
            f"({type(exc).__name__})"
        ) from None
    if not hasattr(model, "predict"):
        raise CLIError(f"{args.model} does not hold a model (no predict method)")
    try:
        X, _, names = load_file(args.data, None)
    except FileNotFoundError:
        raise CLIError(f"no such file: {args.data}") from None
    except (ValueError, ImportError, OSError) as exc:
        raise CLIError(str(exc)) from None
    wanted = getattr(model, "fastsgd_feature_names_", None)
    if wanted is not None:
        missing = [c for c in wanted if c not in names]
        if missing:
            raise CLIError(
                f"{args.data} lacks column(s) {', '.join(map(repr, missing[:5]))} "
                "the model was trained on"
            )
        X = X[:, [names.index(c) for c in wanted]]
    expected = getattr(model, "n_features_in_", X.shape[1])
    if X.shape[1] != expected:
        raise CLIError(
            f"{args.data} has {X.shape[1]} feature columns; the model "
            f"expects {expected}"
        )
    pred = np.asarray(model.predict(X), dtype=np.float64)
    target = getattr(model, "fastsgd_target_", None) or "prediction"
    header = "prediction" if target == "prediction" else f"{target}_predicted"
    body = header + "\n" + "\n".join(repr(float(v)) for v in pred) + "\n"
    if args.output is None:
        sys.stdout.write(body)
        return 0
    with _atomic(output) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(body)
    print(f"{pred.shape[0]} predictions written to {output}", file=sys.stderr)
    return 0


def _need_matplotlib():
    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError("figures need matplotlib: pip install 'fastsgd[plot]'")


# ------------------------------------------------------------------ parser
def _add_data_options(p, default_help):
    p.add_argument(
        "--data",
        metavar="{well,ravine,diabetes,PATH}",
        help=f"embedded problem or a CSV/Parquet/.npy/.npz file ({default_help})",
    )
    p.add_argument("--target", metavar="COL", help="target column of a data file")
    p.add_argument(
        "--no-standardize",
        action="store_true",
        help="keep a data file's features as they are (default: standardize)",
    )
    p.add_argument(
        "--seed", type=_nonneg_int, default=0, help="random seed (default 0)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def build_parser():
    """Return the argument parser of the ``fastsgd`` command."""
    parser = _Parser(
        prog="fastsgd",
        description="Fast, trustworthy gradient-method training of linear models: "
        "compare optimizers, sweep learning rates, fit and predict from files.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "compare",
        help="the lecture's experiments: optimizers, endings, ravine, ...",
        description="Train the same regression with several methods, print a table "
        "(final MSE, its ratio to the closed form, epochs, wall time, samples/s, "
        "diagnosis) and write a PNG of the loss curves.",
    )
    p.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="optimizers",
        help="which experiment (default: optimizers)",
    )
    _add_data_options(
        p,
        "default: ravine (ill-conditioned: 5000 x 20, condition number 100; "
        "500 x 2 in the ravine scenario) for optimizers and ravine, features on "
        "scales 0.1-10 for adamw-vs-l2, well (2000 x 20) otherwise",
    )
    p.add_argument(
        "--optimizers",
        type=_method_list,
        metavar="LIST",
        help=f"comma-separated subset of {','.join(METHODS)}",
    )
    p.add_argument(
        "--epochs",
        type=_positive_int,
        help="epochs per run (default 30; 100 for adamw-vs-l2)",
    )
    p.add_argument(
        "--batch-size",
        type=_batch,
        metavar="B",
        help="mini-batch size or 'full' (default 32; 16 for ravine, full for lr-test)",
    )
    p.add_argument(
        "--output",
        "-o",
        metavar="PNG",
        help="figure path (default fastsgd-compare.png, or "
        "fastsgd-compare-SCENARIO.png)",
    )
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "sweep",
        help="learning-rate sweep by factors of 10, each run diagnosed",
        description="Train one configuration at learning rates 1e-5 ... 10 (or "
        "--etas), classify each loss curve, recommend a rate, write a PNG.",
    )
    _add_data_options(p, "default: well")
    p.add_argument(
        "--optimizer",
        default="sgd",
        choices=("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"),
        help="update rule (default sgd)",
    )
    p.add_argument(
        "--batch-size",
        type=_batch,
        default=32,
        metavar="B",
        help="mini-batch size or 'full' (default 32)",
    )
    p.add_argument(
        "--epochs",
        type=_sweep_epochs,
        default=20,
        help="epochs per rate, >= 2 (default 20)",
    )
    p.add_argument(
        "--etas",
        type=_eta_list,
        metavar="LIST",
        help="comma-separated rates (default 1e-5,...,10)",
    )
    p.add_argument(
        "--output",
        "-o",
        metavar="PNG",
        default="fastsgd-sweep.png",
        help="figure path (default fastsgd-sweep.png)",
    )
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "fit",
        help="train on a CSV/Parquet/.npy/.npz file and save the model (joblib)",
        description="Train an SGDRegressor on a data file; the model (with a "
        "StandardScaler in front unless --no-standardize) is saved with joblib.",
    )
    p.add_argument("data", metavar="DATA", help="CSV, Parquet, .npy or .npz file")
    p.add_argument("--target", required=True, metavar="COL", help="target column")
    p.add_argument(
        "--output",
        "-o",
        default="fastsgd-model.joblib",
        metavar="PATH",
        help="model path (default fastsgd-model.joblib)",
    )
    p.add_argument(
        "--optimizer",
        default="sgd",
        choices=("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"),
        help="update rule (default sgd)",
    )
    p.add_argument(
        "--learning-rate",
        default="invscaling",
        choices=(
            "constant",
            "optimal",
            "invscaling",
            "adaptive",
            "step",
            "cosine",
            "onecycle",
        ),
        help="schedule (default invscaling)",
    )
    p.add_argument(
        "--eta0",
        type=_positive_float,
        default=0.01,
        help="initial learning rate (default 0.01)",
    )
    p.add_argument(
        "--batch-size",
        type=_batch,
        default=1,
        metavar="B",
        help="mini-batch size or 'full' (default 1)",
    )
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=1000,
        help="maximum epochs (default 1000)",
    )
    p.add_argument(
        "--tol",
        type=_nonneg_float,
        default=1e-3,
        help="stopping tolerance (default 1e-3)",
    )
    p.add_argument(
        "--penalty",
        default="l2",
        choices=("l2", "l1", "elasticnet", "none"),
        help="penalty (default l2)",
    )
    p.add_argument(
        "--alpha",
        type=_nonneg_float,
        default=1e-4,
        help="penalty strength (default 1e-4)",
    )
    p.add_argument(
        "--early-stopping",
        action="store_true",
        help="hold out 10%% and stop when its R^2 stops improving",
    )
    p.add_argument(
        "--no-standardize",
        action="store_true",
        help="train on the raw features (no StandardScaler)",
    )
    p.add_argument("--seed", type=_nonneg_int, default=0, help="random seed")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser(
        "predict",
        help="predict with a saved model into a CSV",
        description="Load a model saved by 'fastsgd fit' and write one prediction "
        "per row of DATA as CSV (to --output, or stdout).",
    )
    p.add_argument("model", metavar="MODEL", help="model file from 'fastsgd fit'")
    p.add_argument("data", metavar="DATA", help="CSV, Parquet, .npy or .npz file")
    p.add_argument("--output", "-o", metavar="CSV", help="output file (default stdout)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "compile",
        help="compile the training kernels ahead of time (images, clusters)",
        description="Compile the kernels that fits use into fastsgd's cache, so "
        "that no fit waits on the compiler: the default configuration on dense "
        "and CSR input, or with --all every kernel. Run it in a Dockerfile "
        "(RUN fastsgd compile --all) or on each worker of a cluster.",
    )
    p.add_argument(
        "--all", action="store_true", help="every kernel (default: the default path)"
    )
    p.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        action="append",
        help="data type to compile for (repeatable; default both)",
    )
    p.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        help="processes compiling at once (default: every usable core)",
    )
    p.add_argument(
        "--clear",
        action="store_true",
        help="delete the compiled kernels in the cache instead",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_compile)

    if importlib.util.find_spec("fastsgd.bench") is not None:
        from . import bench

        bench.add_parser(sub)
    return parser


def cmd_compile(args):
    """``fastsgd compile``: compile kernels into the cache (or clear it)."""
    from ._kernels import _cache

    if args.clear:
        removed = _cache.clear()
        for folder in removed:
            print(f"removed {folder}")
        if not removed:
            print("no compiled kernels to remove")
        return 0
    from .warmup import compile_kernels

    started = time.perf_counter()
    done = compile_kernels(
        "all" if args.all else "default",
        dtypes=args.dtype or ("float64", "float32"),
        jobs=args.jobs,
        progress=False if args.quiet else None,
    )
    folder = _cache.cache_folder()
    where = f"kept in {folder}" if folder else "NOT kept: no writable cache folder"
    print(
        f"{len(done)} kernels ready in {time.perf_counter() - started:.1f} s, {where}"
    )
    return 0


class _StderrHandler(logging.StreamHandler):
    """Write log records to whatever ``sys.stderr`` is when they come."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


@contextlib.contextmanager
def _log_to_stderr(level=logging.INFO):
    """Show the library's log (compiles, cache problems) on stderr.

    Only while a command runs: ``main`` called from Python leaves the logging
    set-up as it found it.
    """
    from ._kernels import _select

    logger = logging.getLogger("fastsgd")
    saved = (logger.level, logger.propagate)
    handler = _StderrHandler()
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    _select.silence_notice()  # the INFO lines say it already
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.level, logger.propagate = saved


def main(argv=None):
    """Run the ``fastsgd`` command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        sub = next(
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        )
        print(
            f"fastsgd: error: choose a command: {', '.join(sub.choices)} "
            "(see fastsgd --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        # `fastsgd compile -q` prints only its summary, not a line per kernel
        quiet = args.command == "compile" and args.quiet
        with _log_to_stderr(logging.WARNING if quiet else logging.INFO):
            return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"fastsgd {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (fastsgd ... | head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
