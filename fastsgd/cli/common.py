"""What the commands share: the one-line error, output checks, progress, tables."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os

from .._util import progress_reports, unwritable

EXIT_USAGE = 2


class CLIError(Exception):
    """A problem with the command line or its input: one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr, exit 2."""

    def error(self, message):
        """Print ``prog: error: message`` on one line and exit with 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


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


positive_int = _number(int, "a positive integer", lambda v: v >= 1)
# a learning-rate sweep judges curves: it needs at least 2 epochs per rate
sweep_epochs = _number(int, "an integer >= 2", lambda v: v >= 2)
nonneg_int = _number(int, "an integer >= 0", lambda v: v >= 0)
positive_float = _number(float, "a positive number", lambda v: v > 0)
nonneg_float = _number(float, "a number >= 0", lambda v: v >= 0)


def batch_size(text):
    """Parse a mini-batch size: a positive integer or ``'full'``."""
    if text == "full":
        return "full"
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'full', got {text!r}"
        ) from None


def eta_list(text):
    """Parse comma-separated positive learning rates."""
    return [positive_float(part.strip()) for part in text.split(",")]


# ----------------------------------------------------------------- outputs
def check_output(path, what):
    """Return ``path`` made absolute; fail early (exit 2) when it cannot be written."""
    path = os.path.abspath(path)
    found = unwritable(path)
    if found is None:
        return path
    reason, folder = found
    if reason == "directory":
        raise CLIError(f"{what} {path} is a directory")
    if reason == "no folder":
        raise CLIError(f"cannot write {what} {path}: no directory {folder}")
    raise CLIError(f"cannot write {what} {path}: {folder} is not writable")


def check_figure(path):
    """Fail early (exit 2) without matplotlib or for an unknown image format."""
    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError("figures need matplotlib: pip install 'fastsgd[plot]'")
    from ..plotting import figure_format

    try:
        figure_format(path)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


# ---------------------------------------------------------------- progress
@contextlib.contextmanager
def progress(args, desc):
    """Yield ``report(done, total, text)`` drawing a bar on a terminal.

    No bar with ``--quiet`` or when stderr is not a terminal.
    """
    with progress_reports(desc, quiet=getattr(args, "quiet", False)) as report:
        yield report


# ------------------------------------------------------------------ tables
def table(header, rows, aligns=None):
    """Return ``rows`` under ``header`` as aligned text columns."""
    cols = list(zip(*([header] + rows), strict=True))
    widths = [max(len(str(c)) for c in col) for col in cols]
    aligns = aligns or ["<"] + [">"] * (len(header) - 1)
    fmt = "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths, strict=True))
    lines = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*[str(c) for c in row]) for row in rows]
    return "\n".join(lines)


def ratio(value, ref, floor, digits):
    """``value / ref`` as text; ``-`` when ``ref`` is zero to rounding.

    On noise-free data the optimum is ~1e-32: a ratio to it is rounding
    noise (or 1e30), not a measure of the run.
    """
    if ref <= floor:
        return "-"
    return f"{value / ref:.{digits}f}"


# -------------------------------------------------------------------- data
def read_user_file(path, target, *, ignore=None, missing="error"):
    """Return the :class:`fastsgd.datasets.Table` of a data file.

    ``ignore``: columns to leave out; ``missing``: ``'error'``, ``'drop'``
    or ``'mean'`` (see :func:`fastsgd.tables.load_table`).  A problem with
    the file exits with status 2 and a message in the command's words.
    """
    from ..tables import load_table

    if target is None:
        raise CLIError(f"--target is needed to read {path}: name the target column")
    try:
        table = load_table(path, target, ignore=ignore or None, missing=missing)
    except FileNotFoundError:
        raise CLIError(f"no such file: {path}") from None
    except (ValueError, ImportError, OSError) as exc:
        raise CLIError(cli_words(str(exc))) from None
    if table.X.shape[0] < 2:
        raise CLIError(f"{path} has {table.X.shape[0]} data row(s); need at least 2")
    return table


def cli_words(message):
    """Return a library message in the command's words (its options, not kwargs)."""
    for kwarg, option in (
        ("missing='drop'", "--missing drop"),
        ("missing='mean'", "--missing mean"),
        ("missing='error'", "--missing error"),
        ("ignore=", "--ignore "),
    ):
        message = message.replace(kwarg, option)
    return message


def load_problem(args, default="well", need_two=False):
    """Return the experiment's problem named by ``--data`` (or ``default``)."""
    from ..experiments import EMBEDDED, embedded_problem, table_problem

    data = args.data or default
    if data in EMBEDDED and args.target is not None:
        raise CLIError(f"--target only applies to a data file, not --data {data}")
    if data in EMBEDDED:
        problem = embedded_problem(data, seed=args.seed, two_features=need_two)
    else:
        table = read_user_file(data, args.target)
        problem = table_problem(
            data,
            table.X,
            table.y,
            table.feature_names,
            standardize=not getattr(args, "no_standardize", False),
        )
    if need_two and problem.X.shape[1] != 2:
        raise CLIError(
            f"this scenario needs exactly 2 features; {problem.name} has "
            f"{problem.X.shape[1]}"
        )
    return problem
