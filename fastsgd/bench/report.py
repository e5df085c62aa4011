"""The results of a run as text tables, JSON and a time-to-accuracy PNG."""

from __future__ import annotations

import json
import math

from .._util import write_atomic
from .schema import MATCH_TOLERANCE, to_json

__all__ = ["crossover", "format_table", "render_png", "write_json", "write_png"]


# -------------------------------------------------------------------- JSON
def write_json(results, path):
    """Write ``results`` to ``path`` as JSON (atomically: a complete file or none)."""
    text = json.dumps(to_json(results), indent=2, allow_nan=False)
    write_atomic(path, text.encode("utf-8") + b"\n")


# --------------------------------------------------------------------- PNG
def write_png(results, path):
    """Draw time to accuracy against the number of features into a PNG file.

    Parameters
    ----------
    results : dict
        The output of :func:`~fastsgd.bench.run` with a ``time_to_accuracy``
        section.
    path : str or path-like
        Where to write the PNG (written completely or not at all).
    """
    write_atomic(path, render_png(results))


_STYLES = {
    "closed_form": ("closed_form (Cholesky)", "k", "s", "-"),
    "sgd": ("fastsgd SGD, B=1, averaged", "tab:blue", "o", "-"),
    "minibatch": ("fastsgd mini-batch, B=32, averaged", "tab:green", "^", "-"),
    "sklearn": ("scikit-learn SGDRegressor, averaged", "tab:orange", "v", "--"),
}
_OFFSETS = {"sgd": (5, 3), "minibatch": (5, -10), "sklearn": (5, 3)}


def render_png(results):
    """Return the time-to-accuracy figure of ``results`` as PNG bytes.

    Time to reach a training MSE within 1% of the closed form's against the
    number of features (log-log), one line per method, with a marker where
    fastsgd's SGD overtakes the closed form.

    Parameters
    ----------
    results : dict
        The output of :func:`~fastsgd.bench.run` with a ``time_to_accuracy``
        section.

    Returns
    -------
    bytes
        The PNG file's content.
    """
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    tta = results.get("time_to_accuracy") or []
    if not tta:
        raise ValueError("The results have no time_to_accuracy entries to draw.")
    fig = Figure(figsize=(7.0, 4.6), dpi=110)
    ax = fig.add_subplot()
    by_method = {}
    for t in tta:
        by_method.setdefault(t["method"], []).append(t)
    for method, entries in by_method.items():
        _draw_method(ax, method, entries)
    _note_crossover(ax, by_method)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ns = sorted({t["n_samples"] for t in tta})
    n = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    ax.set_xlabel("number of features")
    ax.set_ylabel("seconds to training MSE within 1% of the optimum")
    cpu = results.get("machine", {}).get("cpu", "")
    ax.set_title(f"Time to accuracy, {n} rows, float64 ({cpu})", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _draw_method(ax, method, entries):
    """One line of seconds against features, each point labelled with its epochs."""
    label, color, marker, ls = _STYLES.get(method, (method, None, "o", "-"))
    entries = sorted(entries, key=lambda t: t["n_features"])
    xs = [t["n_features"] for t in entries if t["reached"]]
    ys = [t["seconds"] for t in entries if t["reached"]]
    ax.plot(xs, ys, ls, color=color, marker=marker, label=label)
    for t in entries:
        if t["epochs"]:
            ax.annotate(
                f"{t['epochs']} ep",
                (t["n_features"], t["seconds"]),
                textcoords="offset points",
                xytext=_OFFSETS.get(method, (5, 3)),
                fontsize=7,
                color=color,
            )


def _note_crossover(ax, by_method):
    """Mark and write where SGD overtakes the closed form, if it does."""
    where, cross = crossover(by_method)
    if where == "between":
        ax.axvline(cross, color="0.5", ls=":", lw=1)
        note = f"SGD overtakes closed_form at ~{cross:.0f} features"
    elif where == "everywhere":
        note = (
            "fastsgd reaches 1% of the optimum sooner than closed_form\n"
            f"at every size measured (from {cross:.0f} feature"
            + ("s)" if cross != 1 else ")")
        )
    elif where == "nowhere":
        note = "closed_form is faster at every size measured"
    else:
        return
    ax.text(
        0.98,
        0.03,
        note,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        color="0.25",
    )


def crossover(by_method):
    """Where fastsgd's SGD overtakes the closed form, by number of features.

    Parameters
    ----------
    by_method : dict of str to list of dict
        ``time_to_accuracy`` entries by method.

    Returns
    -------
    tuple
        ``("between", d)`` with ``d`` log-interpolated between the last size
        where the closed form is faster and the first where SGD is (and
        stays) faster, ``("everywhere", smallest size)``, ``("nowhere",
        None)`` or ``(None, None)`` without both series.
    """
    cf = {
        t["n_features"]: t["seconds"]
        for t in by_method.get("closed_form", [])
        if t["reached"]
    }
    best = {}
    for m in ("sgd", "minibatch"):
        for t in by_method.get(m, []):
            if t["reached"]:
                d = t["n_features"]
                best[d] = min(best.get(d, math.inf), t["seconds"])
    ds = sorted(set(cf) & set(best))
    if not ds:
        return None, None
    gaps = [math.log(cf[d]) - math.log(best[d]) for d in ds]  # > 0: SGD faster
    if all(g > 0 for g in gaps):
        return "everywhere", float(ds[0])
    if gaps[-1] <= 0:
        return "nowhere", None
    k = max(i for i, g in enumerate(gaps) if g <= 0)  # last size the closed form wins
    d0, d1, g0, g1 = ds[k], ds[k + 1], gaps[k], gaps[k + 1]
    frac = -g0 / (g1 - g0)
    return "between", float(math.exp(math.log(d0) + frac * math.log(d1 / d0)))


# -------------------------------------------------------------------- text
def format_table(results):
    """Return the results as readable text tables.

    Parameters
    ----------
    results : dict
        The output of :func:`~fastsgd.bench.run`.

    Returns
    -------
    str
        Throughput, speed-ups, accuracy, bandwidth, time to accuracy, memory,
        cold start and the targets.
    """
    lines = _header(results)
    lines += _speed_lines(results["rows"])
    lines += _order_lines(results.get("orders") or [])
    lines += _tta_lines(results["time_to_accuracy"])
    lines += _raw_lines(results.get("raw") or [])
    lines += _sparse_adaptive_lines(results.get("sparse_adaptive") or [])
    lines += _memory_lines(results["memory"])
    lines += _cold_start_lines(results["cold_start"])
    lines += _target_lines(results["targets"])
    for note in results["notes"]:
        lines.append(f"note: {note}")
    lines.append(f"({results['seconds']:.0f} s)")
    return "\n".join(lines)


def _header(results):
    m = results["machine"]
    v = results["versions"]
    return [
        f"fastsgd bench ({results['mode']}), {m['cpu']}, {m['usable_cores']} of "
        f"{m['cores']} cores, Python {v['python']}, numpy {v['numpy']}, numba "
        f"{v['numba']}, scikit-learn {v['sklearn']}, torch {v['torch'] or 'absent'}",
        "speed-up = competitor's fit time / fastsgd's (same data and epochs, "
        "timed alternately, best of "
        f"{results['repeats']}); acc = test MSE / closed form's test MSE; "
        "%BW = epoch's read rate / NumPy X.sum() rate; x sklearn = whole fits; "
        "epoch = epoch times, (fit of E epochs - fit of 1) / (E - 1) each side.",
    ]


def _speed_lines(rows):
    if not rows:
        return []
    head = (
        f"{'configuration':<22} {'data':<26} {'Msamp/s':>8} {'GB/s':>6} {'%BW':>5} "
        f"{'acc':>6} {'x sklearn':>9} {'epoch':>6} {'sk acc':>6} {'x torch':>8} "
        f"{'th acc':>6}"
    )
    lines = ["", head, "-" * len(head)]
    for r in rows:
        kind = "csr" if r["input"] == "csr" else ""
        data = f"{r['n_samples']}x{r['n_features']} {r['dtype'][-2:]} {kind}".strip()
        if r["density"]:
            data += f" {r['density']:g}"
        sk = r["competitors"].get("sklearn")
        th = r["competitors"].get("torch")
        name = r["name"] + (" DIVERGED" if r["diverged"] else "")
        lines.append(
            f"{name:<22} {data:<26} {r['samples_per_s'] / 1e6:>8.2f} "
            f"{r['gb_per_s']:>6.2f} {100 * r['bandwidth_fraction']:>4.0f}% "
            f"{_f(r['accuracy_ratio'], '.3f'):>6} "
            f"{_fair(sk, 'speedup'):>9} "
            f"{_fair(sk, 'epoch_speedup'):>6} "
            f"{_f(sk and sk['accuracy_ratio'], '.3f'):>6} "
            f"{_fair(th, 'speedup'):>8} "
            f"{_f(th and th['accuracy_ratio'], '.3f'):>6}"
        )
    if any(c.get("less_accurate") for r in rows for c in r["competitors"].values()):
        lines.append(
            "less acc = fastsgd's test MSE is more than "
            f"{100 * (MATCH_TOLERANCE - 1):.0f}% above the competitor's: no "
            "speed-up is claimed at unequal accuracy."
        )
    return lines


def _fair(comp, key):
    """Format a competitor's speed-up, or ``less acc`` when fastsgd is less accurate."""
    if comp and comp.get("less_accurate") and comp.get(key) is not None:
        return "less acc"
    return _f(comp and comp.get(key), ".1f", "x")


def _order_lines(orders):
    if not orders:
        return []
    tol = orders[0]["tolerance"]
    lines = [
        "",
        "default order vs a full permutation on adversarial row orders: test "
        "MSE / optimum's, range over seeds",
        f"{'rows':<10} {'config':<14} {'epochs':>6} {'permutation':>15} "
        f"{'default':>15}  within +-{tol:g}",
    ]
    for o in orders:
        perm, auto = o["permutation"], o["default"]
        lines.append(
            f"{o['kind']:<10} {o['config']:<14} {o['epochs']:>6} "
            f"{min(perm):>7.4f}-{max(perm):<7.4f} {min(auto):>7.4f}-{max(auto):<7.4f}"
            f"  {'yes' if o['within'] else 'NO'}"
        )
    return lines


def _tta_lines(tta):
    if not tta:
        return []
    lines = ["", "time to a training MSE within 1% of the closed form's (seconds):"]
    methods = list(dict.fromkeys(t["method"] for t in tta))
    head = f"{'features':>9} {'rows':>8} " + " ".join(f"{m:>16}" for m in methods)
    lines += [head, "-" * len(head)]
    for d in sorted({t["n_features"] for t in tta}):
        cells = []
        for m in methods:
            t = next(
                (t for t in tta if t["n_features"] == d and t["method"] == m), None
            )
            if t is None:
                cells.append(f"{'':>16}")
            elif t["reached"]:
                ep = f" ({t['epochs']} ep)" if t["epochs"] else ""
                cells.append(f"{t['seconds']:>10.3f}{ep:>6}")
            else:
                cells.append(f"{'not reached':>16}")
        rows_d = next(t["n_samples"] for t in tta if t["n_features"] == d)
        lines.append(f"{d:>9} {rows_d:>8} " + " ".join(cells))
    return lines


def _raw_lines(raw):
    if not raw:
        return []
    lines = [
        "",
        "raw data without tuning: SGDRegressor(learning_rate='auto'), no scaler, "
        "no eta0 (test MSE / closed form's, median of seeds):",
    ]
    head = (
        f"{'problem':<12} {'data':<22} {'batch':>5} {'epochs':>6} {'auto':>7} "
        f"{'worst':>7} {'defaults':>9} {'VW best -l':>14} {'fit s':>7}"
    )
    lines += [head, "-" * len(head)]
    for r in raw:
        data = f"{r['n_samples']}x{r['n_features']} {r['input']}"
        vw = (
            f"{r['vw_ratio']:.3f} (-l {r['vw_best_l']:g})"
            if r["vw_ratio"] is not None
            else "not run"
        )
        flag = " DIVERGED" if r["diverged"] else (" ZERO" if r["zero_model"] else "")
        epochs = "auto" if r["epochs"] is None else str(r["epochs"])
        lines.append(
            f"{r['problem']:<12} {data:<22} {r['batch_size']:>5} {epochs:>6} "
            f"{r['accuracy_ratio']:>7.3f} {r['worst_ratio']:>7.3f} "
            f"{_f(r['default_ratio'], '.3g'):>9} {vw:>14} {r['fit_seconds']:>7.3f}"
            f"{flag}"
        )
    return lines


def _sparse_adaptive_lines(rows):
    if not rows:
        return []
    lines = [
        "",
        "per-example AdaGrad/RMSProp on CSR, one epoch (the same rows at each "
        "width; O(non-zeros) steps):",
    ]
    for r in rows:
        lines.append(
            f"  {r['optimizer']:<8} {r['n_samples']} rows x {r['n_features']:>8} "
            f"columns, {r['nnz_per_row']:.1f} stored a row: "
            f"{1e3 * r['epoch_seconds']:8.2f} ms"
        )
    return lines


def _memory_lines(mem):
    if not mem:
        return []
    lines = ["", "peak memory allocated by fit, relative to the data (X and y):"]
    for e in mem:
        peak = e["peak_bytes"] / 2**20
        data = e["data_bytes"] / 2**20
        lines.append(
            f"  {e['contender']:<16} {e['dtype']}: {peak:8.1f} MiB "
            f"= {e['peak_over_data']:.3f} x data ({data:.1f} MiB, "
            f"{e['n_samples']}x{e['n_features']})"
        )
    return lines


def _cold_start_lines(cs):
    if not cs:
        return []
    lines = [
        "",
        "cold start (fresh process: import + first small fit): warm "
        f"cache {cs['warm_seconds']:.2f} s (import "
        f"{cs['warm_import_seconds']:.2f} s, fit {cs['warm_fit_seconds']:.2f} s)"
        f", scikit-learn {cs['sklearn_seconds']:.2f} s "
        f"({cs['warm_over_sklearn']:.2f}x); cache in {cs['cache_dir']}",
    ]
    if cs["cold_import_seconds"] is not None:
        lines.append(
            f"  empty cache: import {cs['cold_import_seconds']:.2f} s, "
            f"sklearn.linear_model {cs['sklearn_import_seconds']:.2f} s "
            f"({cs['cold_import_over_sklearn']:.2f}x); a second process on "
            f"that cache compiled {cs['second_process_compiles']} kernels"
        )
        for name, secs in cs["compile_seconds"].items():
            lines.append(f"  first fit, empty cache, {name}: {secs:.1f} s")
    return lines


def _target_lines(targets):
    if not targets:
        return []
    lines = ["", "targets:"]
    for t in targets:
        mark = {True: "met ", False: "MISS", None: "n/a "}[t["met"]]
        op = ">=" if t["higher_is_better"] else "<="
        value = _f(t["value"], ".4g")
        lines.append(f"  [{mark}] {t['target']}: {value} ({op} {t['goal']:g})")
    return lines


def _f(value, fmt, suffix=""):
    if value is None:
        return "-"
    return format(value, fmt) + suffix
