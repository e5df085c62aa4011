"""Speed at equal accuracy: fastsgd's configurations raced against competitors.

- **per-example SGD** against scikit-learn's ``SGDRegressor`` (same epochs,
  same data, same schedule; scikit-learn reshuffles every epoch) for each of
  fastsgd's ways to visit the rows: ``default`` (what ``SGDRegressor()``
  does: interleaved streams over random segments on data over 4 MiB),
  ``permutation`` (a new permutation each epoch, as scikit-learn),
  ``blocks`` (shuffled blocks of rows) and ``inorder`` (``shuffle=False``),
  on dense float64/float32 and sparse CSR data;
- **mini-batch optimizers** (SGD, momentum, Adam, AdamW at several batch
  sizes) against ``torch.optim`` on CPU doing the same epochs with the rows
  read the same way (in order; or, for the ``default`` rows, fastsgd's
  default shuffle against torch's batches of a new ``randperm`` each epoch)
  when torch is installed, and against scikit-learn's per-example
  ``SGDRegressor``.

A speed-up is a claim only at equal accuracy: a competitor entry whose test
MSE is lower than fastsgd's by more than ``MATCH_TOLERANCE`` is marked
``less_accurate`` (the report prints no speed-up there).

Speed-ups are ratios of whole ``fit`` calls measured side by side in the same
run (:func:`~fastsgd.bench.timing.race`). Epoch throughput comes from timing
each compiled epoch call (:func:`~fastsgd.bench.timing.epoch_clock`), and the
fraction of the memory bandwidth compares it with a plain NumPy ``X.sum()``
over the same bytes, timed in the same rounds. (NumPy's pairwise sum is
itself partly compute-bound, more so in float32, so a fraction above 1 is
possible; for CSR the reference sums ``data`` and ``indices``.) Every fitted
model's test MSE is divided by the closed form's (1.0 is the optimum).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

from .contenders import (
    make_fastsgd,
    make_sklearn,
    minibatch_params,
    per_example_eta0,
    sampling_params,
    torch_fit,
)
from .schema import MATCH_TOLERANCE, Competitor, Row
from .timing import epoch_clock, epoch_time, race

__all__ = ["optimizer_rows", "per_example_rows"]

#: fastsgd's ways to visit the rows, raced in the per-example sections:
#: ``default`` is ``SGDRegressor()``'s (streams on large data)
MODES = ("default", "permutation", "blocks", "inorder")


@dataclasses.dataclass
class Variant:
    """One fastsgd configuration of a race.

    Attributes
    ----------
    name : str
        Its label (``Row.name``).
    sampling : str
        How it visits the rows (``Row.sampling``).
    params : dict
        Its ``SGDRegressor`` parameters (``max_iter`` is the race's).
    vs : dict of str to str
        Competitor label (``"sklearn"``, ``"torch"``) to competitor key.
    """

    name: str
    sampling: str
    params: dict
    vs: dict


def per_example_rows(problem, group, epochs, repeats, modes=MODES):
    """Race per-example fastsgd in each sampling mode against scikit-learn.

    Both sides also race a one-epoch fit, so that the rows get epoch times
    free of what a fit pays once (``Competitor.epoch_seconds``).

    Returns
    -------
    list of Row
    """
    d = problem.X.shape[1]
    eta0 = per_example_eta0(d, problem.density)
    X, y = problem.X, problem.y

    def sk(max_iter=epochs):
        m = make_sklearn(max_iter=max_iter, eta0=eta0).fit(X, y)
        return m.coef_, float(m.intercept_[0])

    variants = [
        Variant(
            f"sgd {mode}",
            mode,
            {"eta0": eta0, **sampling_params(mode)},
            {"sklearn": "sk"},
        )
        for mode in modes
    ]
    return _race_rows(
        problem,
        group,
        variants,
        {"sk": sk},
        epochs,
        repeats,
        one_epoch={"sk": lambda: sk(1)},
    )


def optimizer_rows(problem, configs, epochs, repeats, with_torch, torch_threads):
    """Race fastsgd's mini-batch optimizers against scikit-learn (and torch).

    ``configs`` lists ``(optimizer, batch_size)`` pairs, or ``(optimizer,
    batch_size, "default")`` for the default shuffle on both sides; fastsgd
    takes a constant rate and no penalty, as the torch loop.

    Returns
    -------
    list of Row
    """
    d = problem.X.shape[1]
    X, y = problem.X, problem.y
    eta_sk = per_example_eta0(d)

    def sk():
        m = make_sklearn(max_iter=epochs, eta0=eta_sk).fit(X, y)
        return m.coef_, float(m.intercept_[0])

    competitors = {"sk": sk}
    variants = []
    for opt, batch, *how in configs:
        mode = how[0] if how else "inorder"
        shuffled = mode == "default"
        eta, extra = minibatch_params(opt, batch, d)
        params = {
            "optimizer": opt,
            "batch_size": batch,
            "eta0": eta,
            "learning_rate": "constant",
            "penalty": None,
            **sampling_params(mode),
            **extra,
        }
        vs = {"sklearn": "sk"}
        suffix = " default" if shuffled else ""
        if with_torch:
            key = f"torch {opt} B={batch}{suffix}"
            competitors[key] = _torch_closure(
                X, y, opt, eta, batch, epochs, torch_threads, shuffled
            )
            vs["torch"] = key
        variants.append(Variant(f"{opt} B={batch}{suffix}", mode, params, vs))
    return _race_rows(problem, "optim", variants, competitors, epochs, repeats)


def _torch_closure(X, y, opt, eta, batch, epochs, threads, shuffle):
    def fit():
        return torch_fit(
            X,
            y,
            optimizer=opt,
            lr=eta,
            batch_size=batch,
            epochs=epochs,
            threads=threads,
            shuffle=shuffle,
        )

    return fit


def _race_rows(problem, group, variants, competitors, epochs, repeats, one_epoch=None):
    """Race fastsgd ``variants`` and ``competitors`` on one problem; return rows.

    ``competitors``: competitor key -> fit function returning ``(coef,
    intercept)``. ``one_epoch``: None, or competitor key -> the same fit with
    one epoch; then every contender also races a one-epoch fit, and the rows
    get the epoch time of both sides as the difference of the two fits (see
    :func:`~fastsgd.bench.timing.epoch_time`).
    """
    X, y = problem.X, problem.y
    models, clocks, results = {}, {}, {}

    def fastsgd_fit(name, params):
        def fit():
            clock = epoch_clock()
            model = make_fastsgd(max_iter=epochs, **params)
            models[name] = model.fit(X, y, on_epoch=clock)
            if clock.times:
                clocks[name] = min(clocks.get(name, math.inf), min(clock.times))

        return fit

    def competitor_fit(key, fn):
        def fit():
            results[key] = fn()

        return fit

    def one_fit(params):
        return lambda: make_fastsgd(**{**params, "max_iter": 1}).fit(X, y)

    contenders = {}
    for v in variants:
        contenders[v.name] = fastsgd_fit(v.name, v.params)
        if one_epoch is not None:
            contenders[v.name + " @1"] = one_fit(v.params)
    for key, fn in competitors.items():
        contenders[key] = competitor_fit(key, fn)
        if one_epoch is not None and key in one_epoch:
            contenders[key + " @1"] = one_epoch[key]
    contenders["numpy-sum"] = problem.numpy_sum
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence is recorded, not printed
        times = race(contenders, repeats)
    best = {k: min(v) for k, v in times.items()}
    return [
        _row(problem, group, v, models[v.name], clocks, results, best, epochs)
        for v in variants
    ]


def _row(problem, group, variant, model, clocks, results, best, epochs):
    """Return the Row of one raced variant from the race's best times."""
    name = variant.name
    n, d = problem.X.shape
    fit_s = best[name]
    epoch_s = clocks.get(name, fit_s / epochs)
    gbs = problem.x_bytes / epoch_s / 1e9
    sum_gbs = problem.x_bytes / best["numpy-sum"] / 1e9
    competitors = {}
    ours_acc = problem.test_ratio(model.coef_, model.intercept_)
    for label, key in variant.vs.items():
        coef, intercept = results[key]
        theirs_acc = problem.test_ratio(coef, [intercept])
        comp = Competitor(
            seconds=best[key],
            speedup=best[key] / fit_s,
            accuracy_ratio=theirs_acc,
            less_accurate=bool(ours_acc > theirs_acc * MATCH_TOLERANCE),
        )
        if name + " @1" in best and key + " @1" in best and epochs > 1:
            ours = epoch_time(best[name], best[name + " @1"], epochs)
            theirs = epoch_time(best[key], best[key + " @1"], epochs)
            comp.epoch_seconds = theirs
            comp.epoch_speedup = theirs / ours
        competitors[label] = comp
    params = variant.params
    return Row(
        group=group,
        name=name,
        n_samples=int(n),
        n_features=int(d),
        dtype=problem.dtype,
        input=problem.input,
        density=problem.density,
        optimizer=params.get("optimizer", "sgd"),
        batch_size=int(params.get("batch_size", 1)),
        sampling=variant.sampling,
        epochs=int(epochs),
        fit_seconds=fit_s,
        epoch_seconds=epoch_s,
        samples_per_s=n / epoch_s,
        gb_per_s=gbs,
        sum_gb_per_s=sum_gbs,
        bandwidth_fraction=gbs / sum_gbs,
        accuracy_ratio=ours_acc,
        diverged=bool(getattr(model, "diverged_", False)),
        competitors=competitors,
    )
