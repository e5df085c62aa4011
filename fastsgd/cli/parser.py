"""The options of every ``fastsgd`` command."""

from __future__ import annotations

import importlib.util

from ..experiments import METHODS
from .common import (
    Parser,
    batch_size,
    eta_list,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
    sweep_epochs,
)
from .compare import SCENARIOS, cmd_compare, cmd_sweep
from .kernels import cmd_compile
from .model import cmd_fit, cmd_predict

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = (
    "constant",
    "optimal",
    "invscaling",
    "adaptive",
    "step",
    "cosine",
    "onecycle",
    "auto",
)


def build_parser():
    """Return the argument parser of the ``fastsgd`` command.

    Its ``commands`` attribute lists the sub-commands (``bench`` too, when
    :mod:`fastsgd.bench` is installed).
    """
    parser = Parser(
        prog="fastsgd",
        description="Fast, trustworthy gradient-method training of linear models: "
        "compare optimizers, sweep learning rates, fit and predict from files.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add_compare(sub)
    _add_sweep(sub)
    _add_fit(sub)
    _add_predict(sub)
    _add_compile(sub)
    if importlib.util.find_spec("fastsgd.bench") is not None:
        from .. import bench

        bench.add_parser(sub)
    parser.commands = tuple(sub.choices)
    return parser


def _method_list(text):
    import argparse

    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [n for n in names if n not in METHODS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown method {', '.join(bad) or '(none)'}; choose from "
            f"{','.join(METHODS)}"
        )
    return list(dict.fromkeys(names))


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
    p.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _add_compare(sub):
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
        type=positive_int,
        help="epochs per run (default 30; 100 for adamw-vs-l2)",
    )
    p.add_argument(
        "--batch-size",
        type=batch_size,
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


def _add_sweep(sub):
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
        choices=OPTIMIZERS,
        help="update rule (default sgd)",
    )
    p.add_argument(
        "--batch-size",
        type=batch_size,
        default=32,
        metavar="B",
        help="mini-batch size or 'full' (default 32)",
    )
    p.add_argument(
        "--epochs",
        type=sweep_epochs,
        default=20,
        help="epochs per rate, >= 2 (default 20)",
    )
    p.add_argument(
        "--etas",
        type=eta_list,
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


def _add_fit(sub):
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
        choices=OPTIMIZERS,
        help="update rule (default sgd)",
    )
    p.add_argument(
        "--learning-rate",
        default=None,
        choices=SCHEDULES,
        help="schedule (default: auto with --optimizer sgd, per-feature "
        "scale-free steps, no --eta0 to choose, raw features welcome; "
        "invscaling with the other optimizers)",
    )
    p.add_argument(
        "--eta0",
        type=positive_float,
        default=0.01,
        help="initial learning rate (default 0.01; not read by --learning-rate auto)",
    )
    p.add_argument(
        "--batch-size",
        type=batch_size,
        default=1,
        metavar="B",
        help="mini-batch size or 'full' (default 1)",
    )
    _add_fit_stopping(p)
    p.add_argument(
        "--missing",
        choices=("error", "drop", "mean"),
        default="error",
        help="missing values: stop naming the column and row (default), drop "
        "their rows, or fill them with the column's mean (kept for predict)",
    )
    p.add_argument(
        "--ignore",
        nargs="+",
        default=None,
        metavar="COL",
        help="columns to leave out (e.g. ids or text)",
    )
    p.add_argument(
        "--no-standardize",
        action="store_true",
        help="train on the raw features (no StandardScaler)",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help="random seed")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fit)


def _add_fit_stopping(p):
    """Add the options of ``fit`` on how long to train and how to regularise."""
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=1000,
        help="maximum epochs (default 1000)",
    )
    p.add_argument(
        "--tol",
        type=nonneg_float,
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
        type=nonneg_float,
        default=1e-4,
        help="penalty strength (default 1e-4)",
    )
    p.add_argument(
        "--early-stopping",
        action="store_true",
        help="hold out 10%% and stop when its R^2 stops improving",
    )


def _add_predict(sub):
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


def _add_compile(sub):
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
        type=positive_int,
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
