"""The plan of a run (quick or full) and :func:`run`, which carries it out."""

from __future__ import annotations

import datetime
import numbers
import sys
import time

import numpy as np

from .._util import check_int, write_atomic
from .accuracy import time_to_accuracy
from .contenders import torch_version, warm_kernels
from .environment import machine_info, versions
from .multi import multi_output_rows
from .orders import KINDS, ORDER_CONFIGS, ORDER_TOLERANCE, compare_orders
from .probes import cold_start_section, peak_memory
from .problems import make_problem
from .raw import raw_accuracy_rows, sparse_adaptive_rows
from .report import render_png, write_json
from .schema import (
    BenchResults,
    Machine,
    Memory,
    OrderCheck,
    TimeToAccuracy,
    Versions,
    to_json,
)
from .speed import MODES, optimizer_rows, per_example_rows
from .targets import evaluate_targets

__all__ = ["SECTIONS", "run"]

SECTIONS = (
    "sgd",
    "sparse",
    "optim",
    "multi",
    "orders",
    "time_to_accuracy",
    "raw",
    "memory",
    "cold_start",
)


def _plan(full):
    """Return the problems and settings of a quick or a full run."""
    f64, f32 = "float64", "float32"
    if full:
        opts = [
            (o, b)
            for o in ("sgd", "momentum", "adam", "adamw")
            for b in (32, 256, 4096)
        ]
        return dict(
            sgd=[
                (n, d, t)
                for d, n in ((10, 200_000), (100, 100_000), (1000, 50_000))
                for t in (f64, f32)
            ],
            sparse=[
                (100_000, 1000, 0.02, f64),
                (100_000, 1000, 0.02, f32),
                (200_000, 1000, 0.005, f64),
            ],
            optim=[((100_000, 100, f32), [("adam", 32, "default"), *opts])]
            + [((100_000, 100, f64), opts)]
            + [((30_000, 1000, t), opts) for t in (f32, f64)],
            tta=(
                100_000,
                (1, 3, 10, 30, 100, 300, 1000),
                ("closed_form", "sgd", "minibatch", "sklearn"),
            ),
            memory=(100_000, 100),
            multi=[(100_000, 100, 10)],
            raw_seeds=(0, 1, 2),
            sparse_adaptive=200_000,
            sgd_epochs=3,
            epochs=2,
            repeats=5,
            tta_epochs=10,
            cold_runs=3,
            orders=((1, 3, 10), 5),
        )
    return dict(
        sgd=[(100_000, 100, f64), (100_000, 100, f32), (20_000, 1000, f64)],
        sparse=[(100_000, 1000, 0.02, f64)],
        optim=[
            (
                (100_000, 100, f32),
                [("adam", 32, "default"), ("adam", 32), ("adam", 256), ("sgd", 256)],
            ),
            ((100_000, 100, f64), [("sgd", 32), ("sgd", 256)]),
            ((20_000, 1000, f32), [("adam", 32)]),
        ],
        tta=(50_000, (2, 10, 100, 300, 1000), ("closed_form", "sgd", "minibatch")),
        memory=(100_000, 100),
        multi=[(100_000, 100, 10)],
        raw_seeds=(0,),
        sparse_adaptive=100_000,
        sgd_epochs=3,
        epochs=2,
        repeats=3,
        tta_epochs=6,
        cold_runs=2,
        orders=((1, 3), 3),
    )


def run(
    full=False,
    *,
    scale=1.0,
    repeats=None,
    sections=None,
    torch_threads=1,
    json_path=None,
    png_path=None,
    quiet=True,
):
    """Run the benchmarks and return the results (see :mod:`fastsgd.bench.schema`).

    Parameters
    ----------
    full : bool, default=False
        The full set of problems (several minutes) instead of the quick one
        (under a minute on 2 cores once the compile cache is warm).
    scale : float, default=1.0
        Multiplies every number of rows, in (0, 100]; small values make a
        smoke test (rows never drop below 4 per feature, 200 at least).
    repeats : int or None, default=None
        Timed rounds per problem, >= 1; None means 3 (quick) or 5 (full).
    sections : iterable of str or None, default=None
        Which parts to run, from ``SECTIONS``; None runs all.
    torch_threads : int, default=1
        Threads torch may use, >= 1 (fastsgd uses one core).
    json_path : str or path-like or None, default=None
        Write the results there as JSON.
    png_path : str or path-like or None, default=None
        Write the time-to-accuracy figure there (needs matplotlib).
    quiet : bool, default=True
        Print no progress lines (to stderr).

    Returns
    -------
    dict
        The results: a :class:`~fastsgd.bench.schema.BenchResults` as JSON
        data.
    """
    repeats, sections, torch_threads = _check_run(
        full, scale, repeats, sections, torch_threads, png_path
    )
    log = _progress(quiet)
    started = time.perf_counter()
    plan = _plan(full)
    plan["repeats"] = plan["repeats"] if repeats is None else repeats
    plan["torch_threads"] = torch_threads
    plan["scale"] = float(scale)
    doc = BenchResults(
        mode="full" if full else "quick",
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        seconds=0.0,
        scale=float(scale),
        repeats=plan["repeats"],
        machine=Machine(**machine_info()),
        versions=Versions(**versions()),
        rows=[],
        time_to_accuracy=[],
        raw=[],
        sparse_adaptive=[],
        memory=[],
        cold_start=None,
        targets=[],
        notes=[],
    )
    warm_kernels()
    _measure(doc, plan, sections, full, log)
    results = to_json(doc)
    results["targets"] = evaluate_targets(results)
    results["seconds"] = time.perf_counter() - started
    _note_load(results)
    results = to_json(results)
    # render the figure first: a failure then leaves no file half-written
    png = render_png(results) if png_path is not None else None
    if json_path is not None:
        write_json(results, json_path)
    if png is not None:
        write_atomic(png_path, png)
    return results


def _check_run(full, scale, repeats, sections, torch_threads, png_path):
    """Check the arguments of :func:`run`; return repeats, sections, threads."""
    if not isinstance(full, bool | np.bool_):
        raise TypeError(f"full must be a bool; got {type(full).__name__}.")
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a number; got {type(scale).__name__}.")
    if not (0.0 < float(scale) <= 100.0):
        raise ValueError(f"scale must be in (0, 100]; got {scale!r}.")
    if repeats is not None:
        repeats = check_int("repeats", repeats, 1)
    torch_threads = check_int("torch_threads", torch_threads, 1)
    if sections is None:
        sections = SECTIONS
    else:
        if isinstance(sections, str):
            raise TypeError("sections must be an iterable of section names, not a str.")
        sections = tuple(sections)
        bad = [s for s in sections if s not in SECTIONS]
        if bad:
            raise ValueError(f"Unknown sections {bad}; choose from {SECTIONS}.")
    if png_path is not None and "time_to_accuracy" not in sections:
        raise ValueError("png_path needs the 'time_to_accuracy' section.")
    return repeats, sections, torch_threads


def _measure(doc, plan, sections, full, log):
    """Run the ``sections`` of ``plan``, filling in ``doc``."""
    repeats = plan["repeats"]

    def rows_for(n, d):
        return max(int(round(n * plan["scale"])), 4 * d, 200)

    if "sgd" in sections:
        for n, d, dtype in plan["sgd"]:
            log(f"per-example SGD: {rows_for(n, d)} x {d} {dtype}")
            p = make_problem(rows_for(n, d), d, dtype=dtype)
            doc.rows += per_example_rows(p, "sgd", plan["sgd_epochs"], repeats, MODES)
    if "sparse" in sections:
        for n, d, density, dtype in plan["sparse"]:
            log(f"sparse CSR SGD: {rows_for(n, d)} x {d} density {density} {dtype}")
            p = make_problem(rows_for(n, d), d, dtype=dtype, density=density)
            doc.rows += per_example_rows(
                p, "sparse", plan["sgd_epochs"], repeats, MODES
            )
    if "optim" in sections:
        _measure_optimizers(doc, plan, rows_for, log)
    if "orders" in sections:
        epochs, seeds = plan["orders"]
        n = max(int(round(80_000 * plan["scale"])), 200)
        for kind in KINDS:
            for config in ORDER_CONFIGS:
                log(f"default order vs permutation: rows by {kind}, {config}")
                for e in compare_orders(kind, config, epochs, seeds, n=n):
                    doc.orders.append(OrderCheck(tolerance=ORDER_TOLERANCE, **e))
    if "multi" in sections:
        for n, d, n_targets in plan["multi"]:
            log(f"multi-output SGD: {rows_for(n, d)} x {d}, {n_targets} targets")
            p = make_problem(rows_for(n, d), d)
            doc.rows += multi_output_rows(p, n_targets, 3, repeats)
    if "time_to_accuracy" in sections:
        n, features, methods = plan["tta"]
        for d in features:
            log(f"time to accuracy: {rows_for(n, d)} x {d}")
            p = make_problem(rows_for(n, d), d)
            for method in methods:
                found = time_to_accuracy(
                    p, method, max_epochs=plan["tta_epochs"], repeats=min(repeats, 3)
                )
                doc.time_to_accuracy.append(TimeToAccuracy(**found))
            del p
    if "raw" in sections:
        log("raw data without tuning: learning_rate='auto' (and VW if installed)")
        doc.raw = raw_accuracy_rows(lambda n: rows_for(n, 50), seeds=plan["raw_seeds"])
        log("sparse AdaGrad/RMSProp epochs against the number of columns")
        doc.sparse_adaptive = sparse_adaptive_rows(
            rows_for(plan["sparse_adaptive"], 20), repeats=min(repeats, 3)
        )
    if "memory" in sections:
        n, d = plan["memory"]
        log(f"peak memory: {rows_for(n, d)} x {d}")
        doc.memory = [Memory(**e) for e in peak_memory(rows_for(n, d), d)]
    if "cold_start" in sections:
        log("cold start (fresh processes)")
        doc.cold_start = cold_start_section(full, min(repeats, plan["cold_runs"]))


def _measure_optimizers(doc, plan, rows_for, log):
    with_torch = torch_version() is not None
    if not with_torch:
        doc.notes.append(
            "torch is not installed: the torch.optim comparisons were skipped."
        )
    for (n, d, dtype), configs in plan["optim"]:
        log(f"mini-batch optimizers: {rows_for(n, d)} x {d} {dtype}")
        p = make_problem(rows_for(n, d), d, dtype=dtype)
        doc.rows += optimizer_rows(
            p,
            configs,
            plan["epochs"],
            plan["repeats"],
            with_torch,
            plan["torch_threads"],
        )


def _note_load(results):
    """Add a note when other processes loaded the machine before the run."""
    load = results["machine"]["load_average"]
    cores = results["machine"]["usable_cores"]
    if load is not None and load[0] >= 1.0:
        results["notes"].append(
            f"The 1-minute load average was {load[0]:.2f} on {cores} cores before "
            "the run: other processes shared the CPUs, so the times are noisier "
            "than usual (each contender keeps its best round)."
        )


def _progress(quiet):
    """Return a function printing a timestamped progress line on stderr."""
    start = time.perf_counter()

    def log(msg):
        if not quiet:
            elapsed = time.perf_counter() - start
            print(
                f"[fastsgd bench {elapsed:5.0f} s] {msg}", file=sys.stderr, flush=True
            )

    return log
