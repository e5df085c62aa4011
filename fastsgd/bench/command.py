"""The ``fastsgd bench`` command: its options, checks and output."""

from __future__ import annotations

import sys

from .._util import unwritable
from .report import format_table
from .runner import run

__all__ = ["add_parser", "main"]

DESCRIPTION = (
    "Benchmark fastsgd against scikit-learn's SGDRegressor, torch.optim "
    "(when installed) and the closed form on this machine: throughput, "
    "speed-ups measured side by side, accuracy, memory bandwidth, time "
    "to accuracy, peak memory and cold start."
)


def add_parser(subparsers):
    """Register the ``bench`` sub-command on an ``argparse`` sub-parser set.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``bench`` parser; its ``func`` default is the handler, which
        takes the parsed arguments and returns the exit status.
    """
    parser = subparsers.add_parser(
        "bench",
        help="measure speed at equal accuracy against scikit-learn, torch and "
        "the closed form",
        description=DESCRIPTION,
    )
    _add_arguments(parser)
    parser.set_defaults(func=_handle)
    return parser


def _add_arguments(parser):
    parser.add_argument(
        "--full",
        action="store_true",
        help="the full set of problems (several minutes) instead of the quick one",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--png", metavar="PATH", help="write the time-to-accuracy figure (PNG)"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress lines, only the tables"
    )


def _handle(args):
    """Run the sub-command for parsed ``args``; return the exit status."""
    problem = _check_paths(args.json, args.png)
    if problem is not None:
        print(f"fastsgd bench: error: {problem}", file=sys.stderr)
        return 2
    results = run(
        full=args.full, json_path=args.json, png_path=args.png, quiet=args.quiet
    )
    print(format_table(results))
    return 0


_WHY = {
    "no folder": "{opt} {path}: the folder {folder} does not exist.",
    "directory": "{opt} {path}: is a folder, not a file.",
    "read-only": "{opt} {path}: the folder {folder} is not writable.",
}


def _check_paths(json_path, png_path):
    """Return why the output paths cannot be written, or None (before any work)."""
    for opt, path in (("--json", json_path), ("--png", png_path)):
        if path is None:
            continue
        found = unwritable(path)
        if found is not None:
            reason, folder = found
            return _WHY[reason].format(opt=opt, path=path, folder=folder)
    if png_path is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return "--png needs matplotlib: pip install 'fastsgd[plot]'."
    return None


def main(argv=None):
    """Run ``fastsgd bench`` (also ``python -m fastsgd.bench``); return the status."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="fastsgd bench",
        description="``fastsgd bench``: speed at equal accuracy, against the "
        "libraries users know.",
    )
    _add_arguments(parser)
    return _handle(parser.parse_args(argv))
