"""``fastsgd compare`` and ``fastsgd sweep``: run an experiment, print, draw.

Each scenario of ``compare`` has three functions here, side by side:
``_run_<scenario>`` calls its experiment in :mod:`fastsgd.experiments` with
the options, ``_text_<scenario>`` formats its table and ``_figure_<scenario>``
draws its figure with :mod:`fastsgd.plotting`; ``SCENARIO`` ties them to the
scenario's name and defaults.

Tables and figures show one loss, the training MSE (mean of (p − y)², what
the experiments return), and name it in every column header, axis label and
legend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import experiments as ex
from .. import plotting
from .._util import format_rate
from .common import (
    CLIError,
    check_figure,
    check_output,
    load_problem,
    progress,
    ratio,
    table,
)

#: the loss every table and figure shows (the experiments return it)
MSE = "MSE"


@dataclass(frozen=True)
class Settings:
    """The options of one ``compare`` run, defaults filled in."""

    epochs: int
    batch_size: object
    seed: int
    methods: list | None


@dataclass(frozen=True)
class Scenario:
    """How ``compare`` runs, prints and draws one scenario."""

    data: str | None  # the embedded problem it runs on (None: its own)
    epochs: int
    batch_size: object
    run: Callable  # (problem, settings, progress) -> result
    text: Callable  # (result, problem, settings) -> str
    figure: Callable  # (result, problem, settings) -> Figure


# -------------------------------------------------------------- optimizers
def _run_optimizers(problem, s, report):
    return ex.run_optimizers(
        problem,
        methods=s.methods or ex.METHODS,
        epochs=s.epochs,
        batch_size=s.batch_size,
        seed=s.seed,
        progress=report,
    )


def _text_optimizers(result, problem, s):
    rows = []
    if result.show_closed_form:
        rows.append(
            [
                "closed form",
                f"{result.closed_form_mse:.5g}",
                "1.000",
                "-",
                f"{result.closed_form_seconds * 1e3:.1f} ms",
                format_rate(result.closed_form_samples_per_s),
                "(exact)",
            ]
        )
    for run in result.runs:
        rows.append(
            [
                run.label,
                f"{run.mse:.5g}",
                ratio(run.mse, result.closed_form_mse, result.floor, 3),
                str(run.epochs),
                f"{run.seconds * 1e3:.1f} ms",
                format_rate(run.samples_per_s),
                run.diagnosis.verdict,
            ]
        )
    header = ["method", "final MSE", "/ closed", "epochs", "wall time", "samples/s"]
    lines = [table(header + ["diagnosis"], rows)]
    for run in result.runs:
        d = run.diagnosis
        if d.verdict != "healthy":
            lines.append(f"{run.label}: {d.verdict} - {d.summary}; try: {d.fixes[0]}")
    return "\n".join(lines)


def _figure_optimizers(result, problem, s):
    return plotting.plot_convergence(
        {run.label: run.curve for run in result.runs},
        result.closed_form_mse,
        quantity=MSE,
        styles=[plotting.method_style(run.method) for run in result.runs],
        step_curves={
            run.label: (run.step_curve, run.record_every)
            for run in result.runs
            if run.record_every
        },
        title=f"training MSE per epoch ({problem.note})",
        excess_title="distance to the closed-form optimum",
        suptitle="GD is calm, SGD jitters at a noise floor, momentum and Adam "
        "get there fast",
    )


# ----------------------------------------------------------------- endings
def _run_endings(problem, s, report):
    return ex.run_endings(problem, epochs=s.epochs, seed=s.seed, progress=report)


def _text_endings(result, problem, s):
    rows = [
        [
            run.label,
            f"{run.final:.5g}",
            ratio(run.final, result.optimum, result.floor, 4),
            str(run.curve.size),
            f"{run.seconds * 1e3:.0f} ms",
            run.verdict,
        ]
        for run in result.runs
    ]
    return table(
        ["run", "final MSE", "/ closed", "epochs", "wall time", "diagnosis"], rows
    )


def _figure_endings(result, problem, s):
    colors = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
    return plotting.plot_convergence(
        {run.label: run.curve for run in result.runs},
        result.optimum,
        quantity=MSE,
        styles=[{"color": c, "linewidth": 2.0} for c in colors],
        title="MSE of the reported model after each epoch",
        excess_title="distance to the optimum",
        suptitle="How runs end: GD glides, constant-eta SGD hovers at a noise "
        "floor, decay or averaging settle",
    )


# ------------------------------------------------------------------ ravine
def _run_ravine(problem, s, report):
    return ex.run_ravine(problem, batch_size=s.batch_size, seed=s.seed, progress=report)


def _text_ravine(result, problem, s):
    rows = [
        [
            run.label,
            str(run.path.shape[0] - 1),
            f"{run.distance:.3g}",
            "-" if np.isnan(run.mse_ratio) else f"{run.mse_ratio:.4f}",
            f"{run.seconds * 1e3:.0f} ms",
        ]
        for run in result.runs
    ]
    header = ["method", "steps", "distance to optimum", "MSE / optimum"]
    return (
        table(header + ["wall time"], rows)
        + f"\ncondition number of X'X/n: {result.condition:.3g}; "
        f"batch size {result.batch_size}"
    )


def _figure_ravine(result, problem, s):
    if problem.name == "ravine":
        title = (
            f"{problem.note}\nSGD zig-zags across the valley, momentum and Adam "
            "go down it"
        )
    else:
        title = f"parameter paths ({problem.note})"
    return plotting.plot_trajectories(
        [run.path for run in result.runs],
        problem.X,
        problem.y - result.intercept,
        labels=[run.label for run in result.runs],
        optimum=result.coef,
        title=title,
    )


# ------------------------------------------------------------- batch-noise
def _run_batch_noise(problem, s, report):
    return ex.run_batch_noise(problem, epochs=s.epochs, seed=s.seed)


def _text_batch_noise(result, problem, s):
    rows = [
        [str(b), f"{m:.4g}", f"{m * b:.4g}", f"{p:.4g}"]
        for b, m, p in zip(result.sizes, result.measured, result.predicted, strict=True)
    ]
    return table(["batch size B", "E|g_B - g|^2", "x B", "theory tr(S)/B"], rows)


def _figure_batch_noise(result, problem, s):
    fig, axes = plotting.subplots(ncols=2, figsize=(13.0, 5.0))
    plotting.plot_gradient_noise(
        result.sizes,
        result.measured,
        result.predicted,
        trials=result.trials,
        ax=axes[0],
    )
    positive = result.optimum > 0
    plotting.plot_loss_curves(
        result.curves,
        optimum=result.optimum if positive else None,
        ax=axes[1],
        excess=positive,
        title="same eta: the noise floor falls with B",
        quantity=MSE,
    )
    return fig


# ----------------------------------------------------------------- lr-test
def _run_lr_test(problem, s, report):
    return ex.run_lr_test(
        problem,
        epochs=s.epochs,
        batch_size=s.batch_size,
        seed=s.seed,
        progress=report,
    )


def _text_lr_test(result, problem, s):
    sw = result.sweep
    rows = [
        [f"{e:.3g}", name, v, f"{f:.5g}", str(len(c))]
        for e, name, v, f, c in zip(
            sw.etas, result.names, sw.verdicts, sw.final, sw.curves, strict=True
        )
    ]
    lines = [table(["eta", "eta x L", "verdict", "final MSE", "epochs"], rows)]
    lines += [
        f"{name}: {fix}"
        for name, fix in zip(result.names, sw.fixes, strict=True)
        if fix
    ]
    return "\n".join(lines)


def _figure_lr_test(result, problem, s):
    sw = result.sweep
    return plotting.plot_rate_test(
        sw.etas,
        result.names,
        sw.curves,
        sw.verdicts,
        sw.diverged,
        quantity=MSE,
        title="the three-curve test: too small is flat, too large explodes\n"
        f"({problem.note}, batch {result.batch_size}, L = largest curvature "
        f"{result.L:.3g})",
    )


# ------------------------------------------------------------- adamw-vs-l2
def _run_adamw(problem, s, report):
    try:
        return ex.run_adamw_vs_l2(
            problem,
            epochs=s.epochs,
            batch_size=s.batch_size,
            seed=s.seed,
            progress=report,
        )
    except ex.ExperimentError as exc:
        raise CLIError(str(exc)) from None


def _text_adamw(result, problem, s):
    r = result
    rows = [
        [
            r.feature_names[j],
            f"{r.scales[j]:.3g}",
            f"{r.sqrt_v[j]:.3g}",
            f"{r.shrink_l2[j]:.2e}",
            f"{r.shrink_w[j]:.2e}",
            f"{r.ratio_l2[j]:.3f}",
            f"{r.ratio_w[j]:.3f}",
        ]
        for j in range(len(r.feature_names))
    ]
    header = ["feature", "scale", "sqrt(v)", "L2 shrink/step", "AdamW shrink/step"]
    return (
        table(header + ["Adam+L2 / Adam", "AdamW / Adam"], rows)
        + f"\nshrink per step, largest / smallest weight: Adam + L2 "
        f"{r.spread_l2:.3g}x, AdamW {r.spread_w:.3g}x (exactly 1 - eta "
        f"lambda = {1 - r.eta * r.lam:g} for every weight)"
        + f"\nafter {r.epochs} epochs, weight / unregularised weight ranges "
        f"{np.nanmin(r.ratio_l2):.3f}-{np.nanmax(r.ratio_l2):.3f} under Adam + L2, "
        f"{np.nanmin(r.ratio_w):.3f}-{np.nanmax(r.ratio_w):.3f} under AdamW"
    )


def _figure_adamw(result, problem, s):
    r = result
    return plotting.plot_decay_shrink(
        r.scales,
        (r.shrink_l2, r.shrink_w),
        (r.ratio_l2, r.ratio_w),
        labels=r.labels[1:],
        epochs=r.epochs,
        suptitle="Adam + L2: weights with large gradients barely shrink; AdamW "
        "shrinks every weight by the same factor per step",
    )


# ---------------------------------------------------------------- registry
#: each scenario: its default problem, epochs and batch size, and functions.
#: optimizers runs on the ill-conditioned ravine on purpose: on well-
#: conditioned data full-batch GD wins every race, and the lecture's picture
#: (GD calm and slow, SGD jittery, momentum and Adam fast) needs a valley.
SCENARIO = {
    "optimizers": Scenario(
        "ravine", 30, 32, _run_optimizers, _text_optimizers, _figure_optimizers
    ),
    "endings": Scenario("well", 30, 32, _run_endings, _text_endings, _figure_endings),
    "ravine": Scenario("ravine", 30, 16, _run_ravine, _text_ravine, _figure_ravine),
    "batch-noise": Scenario(
        "well", 30, 32, _run_batch_noise, _text_batch_noise, _figure_batch_noise
    ),
    "lr-test": Scenario(
        "well", 30, "full", _run_lr_test, _text_lr_test, _figure_lr_test
    ),
    # its own problem: features on spread scales
    "adamw-vs-l2": Scenario(None, 100, 32, _run_adamw, _text_adamw, _figure_adamw),
}
SCENARIOS = tuple(SCENARIO)


# ---------------------------------------------------------------- commands
def cmd_compare(args):
    """Run one scenario of the lecture, print its table, write its figure."""
    if args.optimizers is not None and args.scenario != "optimizers":
        raise CLIError("--optimizers only applies to --scenario optimizers")
    scenario = SCENARIO[args.scenario]
    default_png = (
        "fastsgd-compare.png"
        if args.scenario == "optimizers"
        else f"fastsgd-compare-{args.scenario}.png"
    )
    output = check_output(args.output or default_png, "figure")
    if scenario.data is None and args.data is None:
        problem = ex.spread_problem(seed=args.seed)
    else:
        problem = load_problem(
            args, default=scenario.data, need_two=args.scenario == "ravine"
        )
    settings = Settings(
        epochs=scenario.epochs if args.epochs is None else args.epochs,
        batch_size=scenario.batch_size if args.batch_size is None else args.batch_size,
        seed=args.seed,
        methods=args.optimizers,
    )
    if args.scenario == "lr-test" and settings.epochs < 2:
        raise CLIError(
            f"--scenario lr-test needs --epochs >= 2 (the sweep judges curves); "
            f"got {settings.epochs}"
        )
    check_figure(output)
    with progress(args, "training") as report:
        result = scenario.run(problem, settings, report)
    fig = scenario.figure(result, problem, settings)
    plotting.save_figure(fig, output)
    print(f"fastsgd compare --scenario {args.scenario}: {problem.note}")
    print(scenario.text(result, problem, settings))
    print(f"figure written to {output}")
    return 0


def cmd_sweep(args):
    """Sweep the learning rate by factors of 10; print the table, write the figure."""
    output = check_output(args.output, "figure")
    problem = load_problem(args)
    check_figure(output)
    with progress(args, "sweep") as report:
        result = ex.run_sweep(
            problem,
            optimizer=args.optimizer,
            batch_size=args.batch_size,
            epochs=args.epochs,
            etas=args.etas,
            seed=args.seed,
            progress=report,
        )
    fig = plotting.plot_sweep_curves(
        result.etas,
        result.curves,
        result.verdicts,
        result.final,
        result.best_eta,
        optimum=result.optimum,
        quantity=MSE,
    )
    fig.suptitle(
        f"learning-rate sweep: {args.optimizer}, B={args.batch_size}, {problem.note}"
    )
    plotting.save_figure(fig, output)
    print(
        f"fastsgd sweep: {args.optimizer}, batch size {args.batch_size}, "
        f"{args.epochs} epochs per rate on {problem.note}"
    )
    print(_text_sweep(result))
    print(f"figure written to {output}")
    return 0


def _text_sweep(result):
    """Return the sweep's table in MSE: a run per rate, the optimum, the best rate.

    The same report as :class:`fastsgd.SweepResult`'s text (which is in the
    units of ``loss_curve_``, the objective), in the command line's MSE.
    """
    r = result
    exact = r.optimum is not None and len(r.final_mse) == len(r.etas)
    head = f"{'eta':>10}  {'verdict':<9} {'final MSE':>12} {'epochs':>7}"
    lines = [head + ("  vs optimum" if exact else "")]
    for i, eta in enumerate(r.etas):
        best = r.best_eta is not None and eta == r.best_eta
        gap = f"  {_above(r.final_mse[i], r.optimum):>10}" if exact else ""
        lines.append(
            f"{eta:>10.3g}  {r.verdicts[i]:<9} {r.final[i]:>12.5g} "
            f"{len(r.curves[i]):>7d}{gap}" + ("  <- best" if best else "")
        )
    if exact:
        lines.append(
            f"optimum: MSE {r.optimum:.5g} (closed_form; vs optimum: each run's "
            "final model on the training data)"
        )
    lines.append(_best_line(r))
    if r.advice:
        lines.append("advice:")
        lines += [f"  {i}. {a}" for i, a in enumerate(r.advice, 1)]
    if r.warnings:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in r.warnings]
    return "\n".join(lines)


def _best_line(r):
    if r.best_eta is None:
        if all(v == "explodes" for v in r.verdicts):
            if r.scale_first:
                return (
                    "best eta: none - every rate exploded; the features are badly "
                    "scaled: scale them first (advice 1), else try smaller rates"
                )
            return "best eta: none - every rate exploded; try smaller rates"
        return "best eta: none - " + _none_near(r)
    i = int(np.flatnonzero(r.etas == r.best_eta)[0])
    if r.verdicts[i] == "healthy":
        where = "the runs near the optimum" if r.optimum is not None else "the runs"
        return (
            f"best eta: {r.best_eta:g} (the largest healthy rate within "
            f"{r.best_rtol:.0%} of the lowest final MSE of {where})"
        )
    return f"best eta: {r.best_eta:g} (the lowest final MSE; no run was healthy)"


def _none_near(r):
    """Say that no rate got near the optimum, and how close the closest got."""
    mse = np.where(np.isfinite(r.final_mse), r.final_mse, np.inf)
    j = int(np.argmin(mse)) if mse.size else 0
    if not mse.size or not np.isfinite(mse[j]):
        return "no rate got near the optimum"
    above = _above(mse[j], r.optimum)
    above = (
        f"at {above} the optimum" if above.endswith("x") else f"{above[1:]} above it"
    )
    return (
        f"no rate got near the optimum (MSE {r.optimum:.5g}); the closest, eta "
        f"{r.etas[j]:g}, ended {above}"
    )


def _above(value, optimum):
    """Format how far ``value`` ends above ``optimum``: +31.0% or 292x."""
    if not np.isfinite(value):
        return "-"
    if optimum <= 0:
        return f"+{value:.3g}"
    ratio = value / optimum
    return f"{ratio:.3g}x" if ratio >= 10 else f"{ratio - 1.0:+.1%}"
