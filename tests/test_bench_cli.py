"""Smoke tests of `fastsgd bench` (fastsgd.bench): tiny sizes, no timing checks.

The JSON schema (the dataclasses of ``fastsgd.bench.schema``) is read and
compared with what a run returns and writes, so the schema and the output
cannot drift apart.
"""

import argparse
import dataclasses
import json
import re
import typing
import warnings
from types import UnionType

import numpy as np
import pytest

from fastsgd import bench as fb
from fastsgd.bench import report, schema, timing

TYPES = {
    str: (str,),
    int: (int,),
    float: (int, float),
    bool: (bool,),
    dict: (dict,),
    list: (list,),
}


def _key_spec(hint):
    """Return ((JSON types), nullable, nested dataclass or None) of a field type."""
    nullable = False
    if typing.get_origin(hint) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(hint))
        (hint,) = args
    nested = None
    if dataclasses.is_dataclass(hint):
        nested, base = hint, dict
    else:
        base = typing.get_origin(hint) or hint
        items = typing.get_args(hint)
        if items and dataclasses.is_dataclass(items[-1]):
            nested = items[-1]  # list[Row], dict[str, Competitor]
    return TYPES[base], nullable, nested


def documented_keys():
    """Return {section: {key: (types, nullable)}} from the schema dataclasses.

    A section is named after the field that holds it (``top``: the document).
    """
    sections = {}
    todo = [("top", schema.BenchResults)]
    while todo:
        name, cls = todo.pop()
        hints = typing.get_type_hints(cls)
        keys = {}
        for field in dataclasses.fields(cls):
            types_, nullable, nested = _key_spec(hints[field.name])
            keys[field.name] = (types_, nullable)
            if nested is not None:
                todo.append((field.name, nested))
        sections[name] = keys
    return sections


def check(obj, spec, where):
    assert isinstance(obj, dict), where
    assert set(obj) == set(spec), f"{where}: {sorted(set(obj) ^ set(spec))}"
    for key, (types, nullable) in spec.items():
        value = obj[key]
        if value is None:
            assert nullable, f"{where}.{key} is null"
            continue
        assert isinstance(value, types), f"{where}.{key}: {value!r}"
        if bool not in types:
            assert not isinstance(value, bool), f"{where}.{key}: {value!r}"
        if isinstance(value, float):
            assert np.isfinite(value), f"{where}.{key}"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    paths = {"json": out / "bench.json", "png": out / "bench.png"}
    results = fb.run(
        scale=0.002, repeats=1, json_path=paths["json"], png_path=paths["png"]
    )
    return results, paths


def test_documented_sections_are_complete():
    sections = documented_keys()
    expected = {
        "top",
        "machine",
        "versions",
        "rows",
        "competitors",
        "time_to_accuracy",
        "raw",
        "sparse_adaptive",
        "memory",
        "cold_start",
        "orders",
        "targets",
    }
    assert set(sections) == expected
    assert "rows" in sections["top"] and "speedup" in sections["competitors"]


def test_every_schema_field_is_documented():
    classes = {schema.BenchResults}
    for cls in list(vars(schema).values()):
        if dataclasses.is_dataclass(cls):
            classes.add(cls)
    assert len(classes) == 12
    for cls in classes:
        doc = cls.__doc__.split("Attributes\n    ----------\n", 1)[1]
        names = set()
        for line in doc.splitlines():
            m = re.match(r"    (\w+(?:, \w+)*) : \S", line)
            if m:
                names.update(m.group(1).split(", "))
        assert names == {f.name for f in dataclasses.fields(cls)}, cls.__name__


def test_results_match_the_documented_schema(tiny):
    results, _ = tiny
    spec = documented_keys()
    check(results, spec["top"], "top")
    assert results["schema"] == fb.SCHEMA and results["mode"] == "quick"
    check(results["machine"], spec["machine"], "machine")
    check(results["versions"], spec["versions"], "versions")
    check(results["cold_start"], spec["cold_start"], "cold_start")
    groups = {r["group"] for r in results["rows"]}
    assert groups == {"sgd", "sparse", "optim", "multi"}
    for r in results["rows"]:
        check(r, spec["rows"], r["name"])
        assert "sklearn" in r["competitors"]
        for label, comp in r["competitors"].items():
            assert label in ("sklearn", "torch", "single_target")
            check(comp, spec["competitors"], f"{r['name']} {label}")
            assert comp["speedup"] == pytest.approx(comp["seconds"] / r["fit_seconds"])
            # epoch times (fit of E epochs minus fit of 1) for per-example rows
            per_example = r["group"] in ("sgd", "sparse") and label == "sklearn"
            assert (comp["epoch_speedup"] is not None) == per_example
            if per_example:
                assert 0 < comp["epoch_seconds"] <= comp["seconds"]
                assert comp["epoch_speedup"] > 0
        assert r["sampling"] in ("default", "permutation", "blocks", "inorder")
        for comp in r["competitors"].values():
            # a speed-up is claimed only at equal accuracy
            assert comp["less_accurate"] == (
                r["accuracy_ratio"] > comp["accuracy_ratio"] * fb.MATCH_TOLERANCE
            )
        assert r["bandwidth_fraction"] == pytest.approx(
            r["gb_per_s"] / r["sum_gb_per_s"]
        )
        assert r["accuracy_ratio"] > 0.5 and not r["diverged"]
    for o in results["orders"]:
        check(o, spec["orders"], f"orders {o['kind']}")
        low = min(o["permutation"]) - o["tolerance"]
        high = max(o["permutation"]) + o["tolerance"]
        assert o["within"] == all(low <= a <= high for a in o["default"])
    assert {o["kind"] for o in results["orders"]} == set(fb.orders.KINDS)
    for t in results["time_to_accuracy"]:
        check(t, spec["time_to_accuracy"], f"tta {t['method']}")
        assert (t["seconds"] is not None) == t["reached"]
    assert {t["method"] for t in results["time_to_accuracy"]} == {
        "closed_form",
        "sgd",
        "minibatch",
    }
    for r in results["raw"]:
        check(r, spec["raw"], f"raw {r['problem']}")
        assert not r["diverged"] and not r["zero_model"]
        assert r["accuracy_ratio"] <= r["worst_ratio"]
    assert [(r["problem"], r["batch_size"]) for r in results["raw"]] == [
        ("diabetes", 1),
        ("wide_scales", 1),
        ("wide_scales", 32),
        ("text_like", 1),
    ]
    assert {r["input"] for r in results["raw"]} == {"dense", "csr"}
    for e in results["sparse_adaptive"]:
        check(e, spec["sparse_adaptive"], f"sparse_adaptive {e['optimizer']}")
    widths = {(e["optimizer"], e["n_features"]) for e in results["sparse_adaptive"]}
    assert widths == {(o, w) for o in ("adagrad", "rmsprop") for w in (2**10, 2**20)}
    for e in results["memory"]:
        check(e, spec["memory"], f"memory {e['contender']}")
    by_name = {(e["dtype"], e["contender"]): e for e in results["memory"]}
    assert len(by_name) == 6
    for dtype in ("float32", "float64"):
        # the shuffled working copy of sampling='blocks' is one copy of the data
        assert by_name[dtype, "fastsgd blocks"]["peak_over_data"] > 0.8
        assert by_name[dtype, "fastsgd epoch"]["peak_over_data"] < 0.8
    for t in results["targets"]:
        check(t, spec["targets"], t["target"])
        if t["value"] is None:
            assert t["met"] is None
        else:
            higher = t["higher_is_better"]
            assert t["met"] == (
                t["value"] >= t["goal"] if higher else t["value"] <= t["goal"]
            )


def test_json_file_is_strict_json_of_the_results(tiny):
    results, paths = tiny

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    loaded = json.loads(paths["json"].read_text(), parse_constant=no_constants)
    assert loaded == results


def test_png_is_written(tiny):
    _, paths = tiny
    data = paths["png"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_table_lists_every_row_and_section(tiny):
    results, _ = tiny
    text = fb.format_table(results)
    assert "x sklearn" in text and "%BW" in text
    table = [line for line in text.splitlines() if line.startswith("sgd default ")]
    assert len(table) == sum(r["name"] == "sgd default" for r in results["rows"])
    less = [
        line
        for line, r in zip(table, _named(results, "sgd default"), strict=True)
        if r["competitors"]["sklearn"]["less_accurate"]
    ]
    assert all("less acc" in line for line in less)
    assert "default order vs a full permutation" in text
    assert "time to a training MSE within 1%" in text
    assert "peak memory" in text and "cold start" in text and "targets:" in text
    assert "raw data without tuning" in text and "AdaGrad/RMSProp on CSR" in text


def _named(results, name):
    return [r for r in results["rows"] if r["name"] == name]


def test_race_alternates_and_warms():
    calls = []
    out = fb.race({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]
    assert set(out) == {"a", "b"} and all(len(v) == 3 for v in out.values())


def test_epoch_clock_times_each_epoch():
    X = np.random.default_rng(0).standard_normal((300, 4))
    y = X.sum(axis=1)
    clock = fb.epoch_clock()
    fb.make_fastsgd(max_iter=3).fit(X, y, on_epoch=clock)
    assert len(clock.times) == 3 and all(t > 0 for t in clock.times)


def test_problem_reference_is_the_optimum():
    p = fb.make_problem(2000, 5, dtype="float32")
    assert p.X.dtype == np.float32 and p.X.flags.c_contiguous
    assert p.train_ratio(p.coef, [p.intercept]) == pytest.approx(1.0)
    assert p.train_ratio(p.coef * 0.9, [p.intercept]) > 1.0
    s = fb.make_problem(2000, 50, density=0.1)
    assert s.input == "csr" and s.X.indices.dtype == np.int32
    assert s.x_bytes == s.X.data.nbytes + s.X.indices.nbytes + s.X.indptr.nbytes


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"scale": 0}, ValueError),
        ({"scale": "1"}, TypeError),
        ({"repeats": 0}, ValueError),
        ({"repeats": 1.5}, TypeError),
        ({"sections": ["nope"]}, ValueError),
        ({"sections": "sgd"}, TypeError),
        ({"full": "yes"}, TypeError),
        ({"torch_threads": 0}, ValueError),
        ({"sections": ["sgd"], "png_path": "x.png"}, ValueError),
    ],
)
def test_run_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        fb.run(**kwargs)


def test_make_problem_rejects_bad_arguments():
    with pytest.raises(ValueError, match="dtype"):
        fb.make_problem(10, 2, dtype="int64")
    with pytest.raises(ValueError, match="density"):
        fb.make_problem(10, 2, density=0.0)
    with pytest.raises(ValueError, match="n_samples"):
        fb.make_problem(1, 2)


def test_add_parser_registers_bench():
    parser = argparse.ArgumentParser(prog="fastsgd")
    sub = parser.add_subparsers(dest="command")
    fb.add_parser(sub)
    args = parser.parse_args(["bench", "--full", "--json", "a.json", "--png", "b.png"])
    assert args.full and args.json == "a.json" and args.png == "b.png"
    assert not args.quiet and callable(args.func)
    assert parser.parse_args(["bench", "--quiet"]).quiet


def test_bad_output_folder_fails_before_any_work(tmp_path, capsys):
    target = tmp_path / "missing" / "out.json"
    assert fb.main(["--json", str(target), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1
    assert not target.exists()


def test_torch_fit_matches_fastsgd_when_installed():
    pytest.importorskip("torch")
    p = fb.make_problem(640, 6, reference=False)
    ours = fb.make_fastsgd(
        max_iter=1,
        optimizer="adam",
        batch_size=32,
        eta0=1e-2,
        learning_rate="constant",
        penalty=None,
        shuffle=False,
    ).fit(p.X, p.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coef, intercept = fb.torch_fit(p.X, p.y, lr=1e-2, batch_size=32)
    np.testing.assert_allclose(ours.coef_, coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_[0], intercept, rtol=1e-6, atol=1e-9)


def test_epoch_time_is_the_difference_of_two_fits():
    assert timing.epoch_time(5.0, 1.0, 5) == pytest.approx(1.0)
    # timing noise can make the difference tiny or negative: floored
    assert timing.epoch_time(1.0, 1.2, 5) == pytest.approx(0.01 * 1.0 / 5)


def test_crossover_of_time_to_accuracy():
    def series(method, secs):
        return [
            {"method": method, "n_features": d, "seconds": s, "reached": True}
            for d, s in zip((10, 100, 1000), secs, strict=True)
        ]

    cf = series("closed_form", [0.001, 0.01, 1.0])
    by = {"closed_form": cf, "sgd": series("sgd", [0.01, 0.01, 0.1])}
    where, d = report.crossover(by)
    assert where == "between" and d == pytest.approx(100.0)
    by["sgd"] = series("sgd", [0.01, 0.1, 0.1])
    where, d = report.crossover(by)
    assert where == "between" and 100 < d < 1000
    by["sgd"] = series("sgd", [0.0001, 0.001, 0.1])
    assert report.crossover(by) == ("everywhere", 10.0)
    by["sgd"] = series("sgd", [0.1, 0.1, 2.0])
    assert report.crossover(by) == ("nowhere", None)
    assert report.crossover({"sgd": by["sgd"]}) == (None, None)
