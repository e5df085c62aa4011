"""``fastsgd fit`` and ``fastsgd predict``: a model from a data file, and back."""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import sys
import time
import warnings

import numpy as np

from .._util import atomic_path, format_rate, progress_bar
from .common import CLIError, check_output, read_user_file


class EpochTap(io.TextIOBase):
    """Stands in for stdout during a verbose fit; advances a bar per epoch.

    The estimator's ``verbose`` output (scikit-learn's format: ``-- Epoch k``
    then ``... Avg. loss: x ...``) is parsed, not printed; ``bar`` is a
    ``tqdm`` bar over the epochs.
    """

    _epoch = re.compile(r"-- Epoch (\d+)")
    _loss = re.compile(r"Avg\. loss: ([-+0-9.eEinfa]+)")

    def __init__(self, bar, n_rows):
        self.bar = bar
        self.n_rows = n_rows
        self.started = time.perf_counter()
        self.epoch = 0

    def writable(self):
        """Return True: a fit writes its verbose lines here."""
        return True

    def write(self, s):
        """Read the epoch number and its loss from ``s``; advance the bar."""
        m = self._epoch.search(s)
        if m:
            self.epoch = int(m.group(1))
        m = self._loss.search(s)
        if m:
            rate = (
                self.epoch * self.n_rows / max(time.perf_counter() - self.started, 1e-9)
            )
            self.bar.set_postfix_str(
                f"loss {float(m.group(1)):.4g}  {format_rate(rate)} samples/s",
                refresh=False,
            )
            self.bar.update(self.epoch - self.bar.n)
        return len(s)


def _regressor(args):
    from ..linear_model import SGDRegressor

    if args.learning_rate == "optimal" and args.alpha == 0:
        raise CLIError("--learning-rate optimal needs --alpha > 0")
    return SGDRegressor(
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


def _fit_with_bar(model, reg, X, y, args):
    """Fit; on a terminal, an epoch bar fed by the estimator's verbose output.

    Returns the warnings the fit raised (recorded, not shown).
    """
    from sklearn.exceptions import ConvergenceWarning

    from ..linear_model import DivergenceWarning

    bar = progress_bar(args.epochs, "fit", quiet=args.quiet)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.simplefilter("always", DivergenceWarning)
            if not bar.disable:
                reg.set_params(verbose=1)
                with contextlib.redirect_stdout(EpochTap(bar, X.shape[0])):
                    model.fit(X, y)
                reg.set_params(verbose=0)
            else:
                model.fit(X, y)
    except ValueError as exc:
        raise CLIError(f"cannot fit {args.data}: {exc}") from None
    finally:
        bar.close()
    return caught


def _notes(caught):
    """Return the lines to show for warnings a fit raised (divergence aside)."""
    from sklearn.exceptions import ConvergenceWarning

    from ..linear_model import DivergenceWarning

    notes = []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(f"note: {w.message}")
        elif not issubclass(w.category, DivergenceWarning):  # reported below
            notes.append(f"warning: {w.category.__name__}: {w.message}")
    return notes


def cmd_fit(args):
    """Train on a data file and save the model with joblib."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..diagnostics import diagnose

    output = check_output(args.output, "model")
    X, y, names = read_user_file(args.data, args.target)
    reg = _regressor(args)
    model = reg if args.no_standardize else make_pipeline(StandardScaler(), reg)
    start = time.perf_counter()
    caught = _fit_with_bar(model, reg, X, y, args)
    seconds = time.perf_counter() - start
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
    for note in _notes(caught):
        print(note, file=sys.stderr)
    if reg.diverged_:
        print(str(diag), file=sys.stderr)
        print(
            f"fastsgd fit: error: training diverged; no model written to {output}",
            file=sys.stderr,
        )
        return 1
    _show_diagnosis(diag)
    _save_model(model, names, args.target, output)
    return 0


def _show_diagnosis(diag):
    if diag.verdict != "healthy":
        print(str(diag))
    elif diag.warnings:
        for w in diag.warnings:
            print(f"warning: {w}", file=sys.stderr)


def _save_model(model, names, target, output):
    import joblib

    model.fastsgd_feature_names_ = list(names)
    model.fastsgd_target_ = target
    with atomic_path(output) as tmp:
        joblib.dump(model, tmp)
    print(f"model written to {output}")


def _load_model(path):
    import joblib

    if not os.path.exists(path):
        raise CLIError(f"no such file: {path}")
    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling can raise almost anything
        raise CLIError(
            f"cannot read model {path}: not a model saved by 'fastsgd fit' "
            f"({type(exc).__name__})"
        ) from None
    if not hasattr(model, "predict"):
        raise CLIError(f"{path} does not hold a model (no predict method)")
    return model


def _features_for(model, path):
    """Return the columns of ``path`` the model was trained on, in its order."""
    from ..datasets import load_file

    try:
        X, _, names = load_file(path, None)
    except FileNotFoundError:
        raise CLIError(f"no such file: {path}") from None
    except (ValueError, ImportError, OSError) as exc:
        raise CLIError(str(exc)) from None
    wanted = getattr(model, "fastsgd_feature_names_", None)
    if wanted is not None:
        missing = [c for c in wanted if c not in names]
        if missing:
            raise CLIError(
                f"{path} lacks column(s) {', '.join(map(repr, missing[:5]))} "
                "the model was trained on"
            )
        X = X[:, [names.index(c) for c in wanted]]
    expected = getattr(model, "n_features_in_", X.shape[1])
    if X.shape[1] != expected:
        raise CLIError(
            f"{path} has {X.shape[1]} feature columns; the model expects {expected}"
        )
    return X


def cmd_predict(args):
    """Predict with a saved model; write a CSV column of predictions."""
    if args.output is not None:
        output = check_output(args.output, "predictions")
    model = _load_model(args.model)
    X = _features_for(model, args.data)
    pred = np.asarray(model.predict(X), dtype=np.float64)
    target = getattr(model, "fastsgd_target_", None) or "prediction"
    header = "prediction" if target == "prediction" else f"{target}_predicted"
    body = header + "\n" + "\n".join(repr(float(v)) for v in pred) + "\n"
    if args.output is None:
        sys.stdout.write(body)
        return 0
    with atomic_path(output) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(body)
    print(f"{pred.shape[0]} predictions written to {output}", file=sys.stderr)
    return 0
