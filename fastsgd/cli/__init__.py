"""The ``fastsgd`` command: ``compare``, ``sweep``, ``fit``, ``predict``, ``compile``.

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

Where things are: :mod:`~.parser` the options of every command;
:mod:`~.compare` ``compare`` and ``sweep`` (each scenario's experiment call,
table and figure side by side; the experiments themselves are in
:mod:`fastsgd.experiments`, the figures in :mod:`fastsgd.plotting`);
:mod:`~.model` ``fit`` and ``predict``; :mod:`~.kernels` ``compile``;
:mod:`~.common` what they share.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from ..experiments import EMBEDDED, METHODS
from .common import EXIT_USAGE, CLIError
from .compare import SCENARIOS, cmd_compare, cmd_sweep
from .kernels import cmd_compile
from .model import cmd_fit, cmd_predict
from .parser import build_parser

__all__ = [
    "EMBEDDED",
    "EXIT_USAGE",
    "METHODS",
    "SCENARIOS",
    "CLIError",
    "build_parser",
    "cmd_compare",
    "cmd_compile",
    "cmd_fit",
    "cmd_predict",
    "cmd_sweep",
    "main",
]


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
    from .._kernels import _select

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
        print(
            f"fastsgd: error: choose a command: {', '.join(parser.commands)} "
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
