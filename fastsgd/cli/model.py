"""``fastsgd fit`` and ``fastsgd predict``: a model from a data file, and back."""

from __future__ import annotations

import math
import os
import sys
import time
import warnings

import numpy as np

from .._util import atomic_path, format_rate, progress_bar
from .common import CLIError, check_output, cli_words, read_user_file


class EpochBar:
    """An ``on_epoch`` callback that advances a bar over the epochs of a fit.

    ``bar`` is a ``tqdm`` bar; each epoch's :class:`fastsgd.EpochInfo` sets its
    count, the epoch's mean loss and the rows read per second so far.
    """

    def __init__(self, bar, n_rows):
        self.bar = bar
        self.n_rows = n_rows
        self.epoch = 0

    def __call__(self, info):
        """Show the epoch just run."""
        self.epoch = info.epoch
        rate = info.epoch * self.n_rows / max(info.elapsed, 1e-9)
        self.bar.set_postfix_str(
            f"loss {info.mean_loss:.4g}  {format_rate(rate)} samples/s", refresh=False
        )
        self.bar.update(info.epoch - self.bar.n)


def _regressor(args):
    from ..linear_model import SGDRegressor

    if args.learning_rate == "optimal" and args.alpha == 0:
        raise CLIError("--learning-rate optimal needs --alpha > 0")
    schedule = args.learning_rate
    if schedule is None:
        # 'auto' is an adaptive rule of its own: the other optimizers keep
        # the library's default schedule
        schedule = "auto" if args.optimizer == "sgd" else "invscaling"
    if schedule == "auto" and args.optimizer != "sgd":
        raise CLIError(
            f"--learning-rate auto runs with --optimizer sgd only (it adapts "
            f"each feature's step itself); for --optimizer {args.optimizer} "
            "choose another schedule, e.g. --learning-rate invscaling"
        )
    return SGDRegressor(
        optimizer=args.optimizer,
        learning_rate=schedule,
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
    fit_params = {}
    if not bar.disable:
        # the estimator's per-epoch callback, routed to a Pipeline's last step
        name = "on_epoch" if model is reg else f"{model.steps[-1][0]}__on_epoch"
        fit_params[name] = EpochBar(bar, X.shape[0])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.simplefilter("always", DivergenceWarning)
            model.fit(X, y, **fit_params)
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
    table = read_user_file(
        args.data, args.target, ignore=args.ignore, missing=args.missing
    )
    X, y, names = table.X, table.y, table.feature_names
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
    if table.n_dropped:
        print(f"  left out {table.n_dropped} rows with missing values (--missing drop)")
    if table.fill_values:
        print(
            "  filled missing values with the column means (--missing mean; "
            "predict fills them the same way)"
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
    _save_model(model, names, args.target, table.fill_values, output)
    return 0


def _show_diagnosis(diag):
    if diag.verdict != "healthy":
        print(str(diag))
    elif diag.warnings:
        for w in diag.warnings:
            print(f"warning: {w}", file=sys.stderr)


def _save_model(model, names, target, fill_values, output):
    import joblib

    model.fastsgd_feature_names_ = list(names)
    model.fastsgd_target_ = target
    model.fastsgd_fill_values_ = dict(fill_values)
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
    """Return the columns of ``path`` the model was trained on, in its order.

    Only those columns are read (a text column the model never used is not
    parsed); missing values are filled as ``fit --missing mean`` filled them,
    else refused.
    """
    from ..tables import load_table

    wanted = getattr(model, "fastsgd_feature_names_", None)
    fill = getattr(model, "fastsgd_fill_values_", None) or "error"
    try:
        X = load_table(path, None, columns=wanted, missing=fill).X
    except FileNotFoundError:
        raise CLIError(f"no such file: {path}") from None
    except (ValueError, ImportError, OSError) as exc:
        raise CLIError(cli_words(str(exc))) from None
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
