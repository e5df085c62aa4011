"""``fastsgd bench``: speed at equal accuracy, against the libraries users know.

One command measures, on the machine it runs on, what the package claims:
speed of per-example SGD against scikit-learn and of the mini-batch
optimizers against ``torch.optim`` (:mod:`~fastsgd.bench.speed`), the time
to reach 1% of the optimum against the closed form
(:mod:`~fastsgd.bench.accuracy`), the peak memory of a fit and the cold start
of a fresh process (:mod:`~fastsgd.bench.probes`), each checked against the
package's targets (:mod:`~fastsgd.bench.targets`).

Method. Every contender runs once untimed first (JIT compilation, cache
loading, page faults), then the contenders of a problem are timed alternately,
round after round, and each keeps its best time (:mod:`~fastsgd.bench.timing`).
Speed is never reported without accuracy: every fitted model's test MSE is
divided by the test MSE of the closed-form least-squares solution on the same
training data (1.0 is the optimum; the problems are well-conditioned Gaussian
designs with noise standard deviation 0.5, :mod:`~fastsgd.bench.problems`).
The settings of each contender are in :mod:`~fastsgd.bench.contenders`.

Where things are:

- ``problems``: the data and its exact optimum;
- ``contenders``: fastsgd, scikit-learn and torch.optim with their settings;
- ``timing``: the side-by-side race and the per-epoch clock;
- ``speed``, ``accuracy``, ``probes``: the measurements, section by section;
- ``targets``: the performance targets;
- ``schema``: the JSON document, as dataclasses;
- ``report``: text tables, JSON file, time-to-accuracy PNG;
- ``runner``: the plan of a quick or full run, and :func:`run`;
- ``command``: the ``fastsgd bench`` options.
"""

from __future__ import annotations

from .accuracy import TTA_TOLERANCE, time_to_accuracy
from .command import add_parser, main
from .contenders import (
    make_fastsgd,
    make_sklearn,
    minibatch_params,
    per_example_eta0,
    sampling_params,
    torch_fit,
    warm_kernels,
)
from .environment import machine_info, versions
from .probes import COMPILE_CONFIGS, cold_start, peak_memory
from .problems import NOISE, Problem, make_problem
from .report import format_table, render_png, write_json, write_png
from .runner import SECTIONS, run
from .schema import MATCH_TOLERANCE, SCHEMA
from .targets import evaluate_targets
from .timing import epoch_clock, gc_paused, race

__all__ = [
    "COMPILE_CONFIGS",
    "MATCH_TOLERANCE",
    "NOISE",
    "SCHEMA",
    "SECTIONS",
    "TTA_TOLERANCE",
    "Problem",
    "add_parser",
    "cold_start",
    "epoch_clock",
    "evaluate_targets",
    "format_table",
    "gc_paused",
    "machine_info",
    "main",
    "make_fastsgd",
    "make_problem",
    "make_sklearn",
    "minibatch_params",
    "per_example_eta0",
    "peak_memory",
    "race",
    "render_png",
    "run",
    "sampling_params",
    "time_to_accuracy",
    "torch_fit",
    "versions",
    "warm_kernels",
    "write_json",
    "write_png",
]
