"""The ``fastsgd`` command, end to end.

Sub-commands run in a subprocess (``python -m fastsgd ...``, cwd=tmp_path) as
a user runs them; the many small failure cases and the remaining scenarios
run in-process through ``fastsgd.cli.main`` to keep the file fast.
"""

import io
import os
import subprocess
import sys

import joblib
import numpy as np
import pytest

from fastsgd import cli
from fastsgd._util import atomic_path, progress_bar, progress_reports
from fastsgd.cli.model import EpochBar
from fastsgd.datasets import load_file

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def run(tmp_path, *args, timeout=120):
    env = dict(os.environ, PYTHONWARNINGS="error::DeprecationWarning")
    return subprocess.run(
        [sys.executable, "-m", "fastsgd", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def without_compile_lines(err):
    """stderr without the log lines of kernels compiled on first use."""
    return "".join(
        line
        for line in err.splitlines(keepends=True)
        if not line.startswith("fastsgd: compiling ")
    )


def check_png(path, min_bytes=10_000):
    data = path.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > min_bytes
    return data


def only_files(folder):
    return sorted(p.name for p in folder.iterdir())


def write_csv(path, X, y, names=None, target="target"):
    names = names or [f"f{j}" for j in range(X.shape[1])]
    header = ",".join(names + [target])
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="")


@pytest.fixture(scope="module")
def table_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4)) * [1.0, 10.0, 0.5, 3.0] + [0.0, 5.0, 0.0, -2.0]
    y = X @ [1.0, 0.2, -2.0, 0.5] + 3.0 + 0.05 * rng.standard_normal(300)
    return X, y


def one_error_line(result_or_err):
    err = getattr(result_or_err, "stderr", result_or_err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert ": error: " in lines[0]
    return lines[0]


# ----------------------------------------------------------- end to end
def test_compare_default_prints_table_and_writes_png(tmp_path):
    result = run(tmp_path, "compare")
    assert result.returncode == 0, result.stderr
    # no progress bar when stderr is not a TTY (a first run logs its compiles)
    assert without_compile_lines(result.stderr) == ""
    out = result.stdout
    lines = out.splitlines()
    assert lines[0].startswith("fastsgd compare --scenario optimizers: ravine")
    header = lines[1].split()
    assert header[:3] == ["method", "final", "MSE"]
    for col in ("/ closed", "epochs", "wall time", "samples/s", "diagnosis"):
        assert col in lines[1]
    rows = {ln.split("  ")[0].strip(): ln for ln in lines[3:10]}
    expected = [
        "closed form",
        "GD (full batch)",
        "SGD (B=1)",
        "mini-batch SGD (B=32)",
        "momentum 0.9 (B=32)",
        "Adam (B=32)",
        "AdamW (B=32, wd 0.01)",
    ]
    assert list(rows) == expected
    assert rows["closed form"].split()[3] == "1.000"
    ratios = {k: float(v.split()[-6]) for k, v in rows.items() if k != "closed form"}
    assert all(1.0 <= r < 1.3 for r in ratios.values()), ratios
    # the picture the default is tuned for: SGD jitters at the highest floor,
    # Adam ends closest to the closed form, GD is calm but not there yet
    assert rows["SGD (B=1)"].endswith("noisy")
    assert rows["GD (full batch)"].endswith("healthy")
    assert ratios["SGD (B=1)"] == max(ratios.values())
    assert ratios["Adam (B=32)"] < ratios["GD (full batch)"]
    assert f"figure written to {tmp_path / 'fastsgd-compare.png'}" in out
    check_png(tmp_path / "fastsgd-compare.png", 40_000)
    assert only_files(tmp_path) == ["fastsgd-compare.png"]


def test_compare_ravine_scenario_to_a_chosen_path(tmp_path):
    (tmp_path / "figs").mkdir()
    result = run(tmp_path, "compare", "--scenario", "ravine", "-o", "figs/r.png")
    assert result.returncode == 0, result.stderr
    assert "condition number of X'X/n: 50" in result.stdout
    for name in ("SGD (eta 1.8/L)", "momentum 0.9", "Adam (eta 0.25)"):
        assert name in result.stdout
    check_png(tmp_path / "figs" / "r.png")
    assert only_files(tmp_path / "figs") == ["r.png"]


def test_sweep_end_to_end(tmp_path):
    result = run(
        tmp_path, "sweep", "--data", "diabetes", "--epochs", "8",
        "--etas", "1e-5,0.01,30",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "eta  verdict" in lines[1]
    verdicts = [ln.split()[1] for ln in lines[2:5]]
    assert verdicts == ["flat", "healthy", "explodes"]
    assert "best eta: 0.01" in result.stdout
    assert "<- best" in lines[3]
    check_png(tmp_path / "fastsgd-sweep.png")


def test_fit_and_predict_end_to_end(tmp_path, table_data):
    X, y = table_data
    write_csv(tmp_path / "train.csv", X, y)
    result = run(
        tmp_path, "fit", "train.csv", "--target", "target", "-o", "model.joblib",
        "--optimizer", "adam", "--eta0", "0.05", "--batch-size", "16",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "300 rows x 4 features" in result.stdout
    assert "diagnosis: healthy" in result.stdout
    assert f"model written to {tmp_path / 'model.joblib'}" in result.stdout
    model = joblib.load(tmp_path / "model.joblib")
    assert model.fastsgd_feature_names_ == ["f0", "f1", "f2", "f3"]
    assert model.fastsgd_target_ == "target"
    pred = model.predict(X)
    assert 1 - np.mean((pred - y) ** 2) / np.var(y) > 0.99

    # the prediction file may hold the target and its columns in any order
    shuffled = np.column_stack([y, X[:, ::-1]])
    np.savetxt(tmp_path / "new.csv", shuffled, delimiter=",", comments="",
               header="target,f3,f2,f1,f0")  # fmt: skip
    result = run(tmp_path, "predict", "model.joblib", "new.csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "target_predicted"
    np.testing.assert_allclose(np.array(lines[1:], dtype=float), pred, rtol=1e-12)

    result = run(tmp_path, "predict", "model.joblib", "new.csv", "-o", "pred.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    got = np.loadtxt(tmp_path / "pred.csv", skiprows=1)
    np.testing.assert_allclose(got, pred, rtol=1e-12)
    assert only_files(tmp_path) == [
        "model.joblib", "new.csv", "pred.csv", "train.csv",
    ]  # fmt: skip


def _messy_csv(path, X, y):
    """The table with an id, a text column and missing values in rows 3 and 7."""
    lines = ["id,city,f0,f1,f2,f3,target"]
    for i, (row, t) in enumerate(zip(X, y, strict=True)):
        cells = [repr(float(v)) for v in row]
        if i == 2:
            cells[1] = ""  # f1 missing in data row 3
        if i == 6:
            cells[3] = "NA"  # f3 missing in data row 7
        lines.append(
            ",".join([str(1000 + i), f'"town {i % 5}"', *cells, repr(float(t))])
        )
    path.write_text("\n".join(lines) + "\n")


def test_fit_names_a_missing_value_and_drops_or_imputes(tmp_path, table_data):
    X, y = table_data
    _messy_csv(tmp_path / "messy.csv", X, y)
    base = ["fit", "messy.csv", "--target", "target", "-q", "--optimizer", "adam"]
    base += ["--eta0", "0.05", "--batch-size", "16"]
    # a text column: named, and --ignore leaves it out
    result = run(tmp_path, *base)
    assert result.returncode == 2 and "city" in result.stderr, result.stderr
    result = run(tmp_path, *base, "--ignore", "id", "city")
    assert result.returncode == 2, result.stdout
    assert "f1" in result.stderr and "row 3" in result.stderr, result.stderr
    assert "--missing drop" in result.stderr  # the command's words
    result = run(tmp_path, *base, "--ignore", "id", "city", "--missing", "drop")
    assert result.returncode == 0, result.stderr
    assert "298 rows x 4 features" in result.stdout
    assert "left out 2 rows" in result.stdout
    result = run(
        tmp_path, *base, "--ignore", "id", "city", "--missing", "mean",
        "-o", "mean.joblib",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "300 rows x 4 features" in result.stdout
    model = joblib.load(tmp_path / "mean.joblib")
    assert model.fastsgd_feature_names_ == ["f0", "f1", "f2", "f3"]
    # every column's training mean: a new file may miss values anywhere
    assert set(model.fastsgd_fill_values_) == {"f0", "f1", "f2", "f3"}
    # predict reads only the model's columns (the text one is never parsed)
    # and fills missing values as the fit did
    result = run(tmp_path, "predict", "mean.joblib", "messy.csv")
    assert result.returncode == 0, result.stderr
    pred = np.array(result.stdout.splitlines()[1:], dtype=float)
    assert pred.shape == (300,) and np.all(np.isfinite(pred))
    filled = X.copy()
    filled[2, 1] = model.fastsgd_fill_values_["f1"]
    filled[6, 3] = model.fastsgd_fill_values_["f3"]
    np.testing.assert_allclose(pred, model.predict(filled), rtol=1e-12)


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "missing.csv", "--target", "y"], "no such file: missing.csv"),
        (["fit", "bad.csv", "--target", "target"], "non-numeric value 'high'"),
        (["compare", "--epochs", "0"], "expected a positive integer, got 0"),
    ],
)
def test_bad_input_subprocess(tmp_path, args, message):
    (tmp_path / "bad.csv").write_text("a,target\n1,2\n3,high\n")
    before = only_files(tmp_path)
    result = run(tmp_path, *args)
    assert result.returncode == 2
    assert message in one_error_line(result)
    assert result.stdout == ""
    assert only_files(tmp_path) == before


# ------------------------------------------------------------- in-process
@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def main(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, without_compile_lines(err)


def test_scenario_endings(in_tmp, capsys):
    code, out, err = main(capsys, "compare", "--scenario", "endings", "--epochs", "12")
    assert code == 0 and err == ""
    rows = {ln[:29].strip(): ln.split() for ln in out.splitlines()[3:7]}
    assert rows["GD, small eta (0.3/L)"][-1] == "healthy"
    assert rows["SGD, constant eta"][-1] == "noisy"
    ratio = {k: float(v[-5]) for k, v in rows.items()}  # "/ closed"
    assert ratio["GD, small eta (0.3/L)"] > 1.0
    # decay and averaging settle far below the constant-eta noise floor
    assert ratio["SGD, constant eta + averaging"] < ratio["SGD, constant eta"]
    assert ratio["SGD, decaying eta (1/sqrt t)"] < ratio["SGD, constant eta"]
    check_png(in_tmp / "fastsgd-compare-endings.png")


def test_scenario_batch_noise(in_tmp, capsys):
    code, out, _ = main(capsys, "compare", "--scenario", "batch-noise", "--epochs", "5")
    assert code == 0
    rows = [ln.split() for ln in out.splitlines()[3:12]]
    sizes = np.array([float(r[0]) for r in rows])
    var = np.array([float(r[1]) for r in rows])
    np.testing.assert_array_equal(sizes, 2.0 ** np.arange(9))
    # variance x B is constant: the slope of log variance on log B is -1
    slope = np.polyfit(np.log(sizes), np.log(var), 1)[0]
    assert -1.1 < slope < -0.9
    check_png(in_tmp / "fastsgd-compare-batch-noise.png")


def test_scenario_lr_test(in_tmp, capsys):
    code, out, _ = main(capsys, "compare", "--scenario", "lr-test", "--epochs", "20")
    assert code == 0
    verdicts = [ln.split()[2] for ln in out.splitlines()[3:6]]
    assert verdicts == ["flat", "healthy", "explodes"]
    assert "Raise the learning rate" in out and "Lower the learning rate" in out
    check_png(in_tmp / "fastsgd-compare-lr-test.png")


def test_scenario_adamw_vs_l2(in_tmp, capsys):
    code, out, _ = main(
        capsys, "compare", "--scenario", "adamw-vs-l2", "--epochs", "40", "-o", "a.png"
    )
    assert code == 0
    rows = [ln.split() for ln in out.splitlines()[3:11]]
    l2_step = np.array([float(r[3]) for r in rows])
    w_step = np.array([float(r[4]) for r in rows])
    # AdamW: the same decay for every weight; Adam + L2: it falls with the
    # gradient scale, so the large-gradient weights barely shrink
    np.testing.assert_allclose(w_step, 1e-4)
    assert np.all(np.diff(l2_step) < 0) and l2_step[0] / l2_step[-1] > 50
    assert "AdamW 1x (exactly 1 - eta lambda" in out
    check_png(in_tmp / "a.png")


def test_compare_subset_of_optimizers_on_a_user_file(in_tmp, capsys, table_data):
    X, y = table_data
    write_csv(in_tmp / "t.csv", X, y)
    code, out, _ = main(
        capsys, "compare", "--data", "t.csv", "--target", "target",
        "--optimizers", "closed,gd,adam", "--epochs", "10",
    )  # fmt: skip
    assert code == 0
    assert "t.csv, 300 x 4, features standardized" in out.splitlines()[0]
    names = [ln.split("  ")[0] for ln in out.splitlines()[3:6]]
    assert names == ["closed form", "GD (full batch)", "Adam (B=32)"]
    check_png(in_tmp / "fastsgd-compare.png")


def test_fit_refuses_to_save_a_diverged_model(in_tmp, capsys, table_data):
    X, y = table_data
    write_csv(in_tmp / "t.csv", X, y)
    code, out, err = main(
        capsys, "fit", "t.csv", "--target", "target", "--no-standardize",
        "--learning-rate", "constant", "--eta0", "0.1",
    )  # fmt: skip
    assert code == 1
    assert "diagnosis: explodes" in out
    assert "unscaled features" in err
    assert "no model written" in err.splitlines()[-1]
    assert only_files(in_tmp) == ["t.csv"]


def test_fit_trains_raw_features_by_default(in_tmp, capsys):
    """--learning-rate auto is the default: raw columns of scales 1e-3..1e4."""
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((400, 5))
    X = Z * np.logspace(-3, 4, 5) + np.logspace(-2, 5, 5)
    y = Z @ [1.0, -0.5, 2.0, 0.3, -1.0] + 4.0 + 0.1 * rng.standard_normal(400)
    write_csv(in_tmp / "raw.csv", X, y)
    code, out, err = main(
        capsys, "fit", "raw.csv", "--target", "target", "--no-standardize",
        "--penalty", "none", "-o", "m.joblib", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    model = joblib.load("m.joblib")
    assert model.learning_rate == "auto"
    assert model.score(X, y) > 0.99
    # another optimizer keeps the library's default schedule ...
    code, out, err = main(
        capsys, "fit", "raw.csv", "--target", "target", "--optimizer", "adam",
        "-o", "adam.joblib", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert joblib.load("adam.joblib")[-1].learning_rate == "invscaling"
    # ... and asking for auto with it is refused before any training
    code, out, err = main(
        capsys, "fit", "raw.csv", "--target", "target", "--optimizer", "adam",
        "--learning-rate", "auto",
    )  # fmt: skip
    assert code != 0
    assert "--learning-rate auto runs with --optimizer sgd only" in err


def test_fit_reads_npz_npy_and_parquet(in_tmp, capsys, table_data):
    X, y = table_data
    np.savez(in_tmp / "d.npz", X=X, y=y)
    np.save(in_tmp / "d.npy", np.column_stack([X, y]))
    for data, target in (("d.npz", "y"), ("d.npy", "-1"), ("d.npy", "x4")):
        code, out, _ = main(
            capsys, "fit", data, "--target", target, "-o", "m.joblib", "--quiet"
        )
        assert code == 0, out
        model = joblib.load("m.joblib")
        assert model.fastsgd_feature_names_ == ["x0", "x1", "x2", "x3"]
        assert model.score(X, y) > 0.99
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "d": X[:, 3], "t": y})
    pq.write_table(table, in_tmp / "d.parquet")
    code, out, _ = main(capsys, "fit", "d.parquet", "--target", "t", "-o", "p.joblib")
    assert code == 0
    code, out, _ = main(capsys, "predict", "p.joblib", "d.parquet")
    assert code == 0
    pred = np.array(out.splitlines()[1:], dtype=float)
    np.testing.assert_allclose(pred, joblib.load("p.joblib").predict(X))


@pytest.mark.parametrize(
    "args, files, message",
    [
        (["fit", "t.csv", "--target", "nope"], {}, "no column 'nope' in t.csv"),
        (["fit", "t.txt", "--target", "a"], {"t.txt": "a\n1\n"}, "unknown extension"),
        (["fit", "e.csv", "--target", "a"], {"e.csv": ""}, "empty or has no header"),
        (["fit", "n.csv", "--target", "a"], {"n.csv": "a,b\n1,\n"}, "cannot read"),
        (["fit", "x.npy", "--target", "-1"], {"x.npy": "garbage"}, "cannot read x.npy"),
        (["fit", "x.parquet", "--target", "a"], {"x.parquet": "no"}, "as Parquet"),
        (["fit", "t.csv"], {}, "--target"),
        (["fit", "t.csv", "--target", "target", "-o", "no/m.joblib"], {},
         "no directory"),
        (["fit", "t.csv", "--target", "target", "--batch-size", "x"], {},
         "positive integer or 'full'"),
        (["compare", "--data", "t.csv"], {}, "--target is needed"),
        (["compare", "--data", "well", "--target", "y"], {}, "only applies to a data"),
        (["compare", "--scenario", "ravine", "--data", "diabetes"], {},
         "needs exactly 2 features"),
        (["compare", "--scenario", "endings", "--optimizers", "gd"], {},
         "--optimizers only applies"),
        (["compare", "--optimizers", "gd,lbfgs"], {}, "unknown method lbfgs"),
        (["compare", "--scenario", "other"], {}, "invalid choice: 'other'"),
        (["sweep", "--etas", "0.1,zero"], {}, "expected a positive number"),
        (["sweep", "-o", "d"], {"d/keep": ""}, "is a directory"),
        (["predict", "t.csv", "t.csv"], {}, "cannot read model t.csv"),
        (["predict", "m.joblib", "missing.csv"], {"m.joblib": None},
         "no such file: missing.csv"),
        (["predict", "m.joblib", "few.csv"], {"m.joblib": None,
         "few.csv": "f0,f1\n1,2\n"}, "lacks column(s) 'f2', 'f3'"),
        ([], {}, "choose a command"),
    ],
)  # fmt: skip
def test_bad_input_one_line_exit_2_nothing_written(
    in_tmp, capsys, table_data, args, files, message
):
    X, y = table_data
    write_csv(in_tmp / "t.csv", X, y)
    for name, text in files.items():
        path = in_tmp / name
        path.parent.mkdir(exist_ok=True)
        if text is None:  # a real model
            from fastsgd import SGDRegressor

            model = SGDRegressor(max_iter=5, tol=None).fit(X, y)
            model.fastsgd_feature_names_ = ["f0", "f1", "f2", "f3"]
            joblib.dump(model, path)
        else:
            path.write_text(text)
    before = only_files(in_tmp)
    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2
    assert message in one_error_line(err)
    assert out == ""
    assert only_files(in_tmp) == before


def test_help_for_every_command(capsys):
    for args in ([], ["compare"], ["sweep"], ["fit"], ["predict"]):
        with pytest.raises(SystemExit) as exc:
            cli.main([*args, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: fastsgd")
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    out = capsys.readouterr().out
    for scenario in cli.SCENARIOS:
        assert scenario in out


def test_bench_is_registered_only_when_present(monkeypatch):
    import importlib.util

    names = lambda p: set(p._subparsers._group_actions[0].choices)  # noqa: E731
    present = importlib.util.find_spec("fastsgd.bench") is not None
    assert ("bench" in names(cli.build_parser())) == present
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "fastsgd.bench" else real(name, *a),
    )
    assert "bench" not in names(cli.build_parser())


# ------------------------------------------------- writing and the progress bar
def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"half")
            raise RuntimeError("boom")
    assert only_files(tmp_path) == []
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(b"whole")
    assert target.read_bytes() == b"whole"
    assert only_files(tmp_path) == ["out.png"]


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_tty_and_disappears():
    stream = FakeTTY()
    bar = progress_bar(4, "fit", file=stream, mininterval=0)
    assert not bar.disable
    bar.set_postfix_str("loss 0.5  1.2M samples/s", refresh=False)
    bar.update(4)
    drawn = stream.getvalue().split("\r")[-1]
    assert drawn.startswith("fit: 100%")
    assert "| 4/4 [" in drawn and drawn.endswith("loss 0.5  1.2M samples/s]")
    bar.close()
    assert stream.getvalue().split("\r")[-2].strip() == ""  # erased
    silent = io.StringIO()
    bar = progress_bar(4, "fit", file=silent)
    bar.update(4)
    bar.close()
    assert silent.getvalue() == ""
    forced_off = FakeTTY()
    bar = progress_bar(4, "fit", file=forced_off, quiet=True)
    bar.update(4)
    bar.close()
    assert forced_off.getvalue() == ""


def test_progress_reports_draw_each_finished_run():
    stream = FakeTTY()
    with progress_reports("training", file=stream) as report:
        report(1, 3, "first")
        assert stream.getvalue().split("\r")[-1].startswith("training:  33%")
        assert "1/3" in stream.getvalue() and "first]" in stream.getvalue()
        report(3, 3, "last")
        assert "3/3" in stream.getvalue() and "last]" in stream.getvalue()
    assert stream.getvalue().split("\r")[-2].strip() == ""  # erased
    silent = io.StringIO()
    with progress_reports("training", file=silent) as report:
        report(1, 1, "x")
    assert silent.getvalue() == ""


def test_quiet_turns_the_bar_off():
    ns = cli.build_parser().parse_args(["compare", "--quiet"])
    assert progress_bar(3, "x", quiet=ns.quiet, file=FakeTTY()).disable is True
    ns = cli.build_parser().parse_args(["compare"])
    # decided by isatty
    assert not progress_bar(3, "x", quiet=ns.quiet, file=FakeTTY()).disable
    assert progress_bar(3, "x", quiet=ns.quiet, file=io.StringIO()).disable is True


def test_epoch_bar_follows_the_fit_through_on_epoch(table_data, capsys):
    from fastsgd import SGDRegressor

    X, y = table_data
    stream = FakeTTY()
    bar = progress_bar(6, "fit", file=stream, mininterval=0)
    tap = EpochBar(bar, X.shape[0])
    model = SGDRegressor(max_iter=6, tol=None, eta0=1e-4)
    model.fit(X, y, on_epoch=tap)
    assert capsys.readouterr().out == ""  # no verbose output parsed any more
    assert tap.epoch == 6
    drawn = stream.getvalue().split("\r")[-1]
    assert "6/6 [" in drawn and ", loss " in drawn and "samples/s" in drawn


def test_load_file_errors(tmp_path):
    (tmp_path / "ok.csv").write_text('"a","b"\n1,2\n3,4\n')
    X, y, names = load_file(tmp_path / "ok.csv", "b")
    assert names == ["a"] and y.tolist() == [2.0, 4.0] and X.shape == (2, 1)
    X, y, names = load_file(tmp_path / "ok.csv")
    assert y is None and names == ["a", "b"]
    (tmp_path / "inf.csv").write_text("a,b\n1,inf\n")
    with pytest.raises(ValueError, match="target column 'b'.*NaN or infinity"):
        load_file(tmp_path / "inf.csv", "b")
    (tmp_path / "dup.csv").write_text("a,a\n1,2\n")
    with pytest.raises(ValueError, match="duplicate"):
        load_file(tmp_path / "dup.csv")
    (tmp_path / "head.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match="no data rows"):
        load_file(tmp_path / "head.csv")
    np.save(tmp_path / "s.npy", np.array(["x", "y"]).reshape(1, 2))
    with pytest.raises(ValueError, match="not numeric"):
        load_file(tmp_path / "s.npy")
    rec = np.zeros(3, dtype=[("u", "f8"), ("v", "i4")])
    np.save(tmp_path / "rec.npy", rec)
    X, y, names = load_file(tmp_path / "rec.npy", "v")
    assert names == ["u"] and X.shape == (3, 1)
    np.savez(tmp_path / "cols.npz", p=np.ones(3), q=np.arange(3.0))
    X, y, names = load_file(tmp_path / "cols.npz", "q")
    assert names == ["p"] and y.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="no column 'x9'"):
        load_file(tmp_path / "cols.npz", "x9")
    with pytest.raises(FileNotFoundError):
        load_file(tmp_path / "missing.csv")


# ------------------------------------------------------------ audit fixes
@pytest.mark.parametrize(
    "args, message",
    [
        (["sweep", "--epochs", "1", "-q"], "expected an integer >= 2, got 1"),
        (["compare", "--scenario", "lr-test", "--epochs", "1", "-q"],
         "lr-test needs --epochs >= 2"),
        (["compare", "-q", "-o", "out.xyz"], "does not write .xyz files"),
    ],
)  # fmt: skip
def test_more_bad_input_is_one_line_exit_2(in_tmp, capsys, args, message):
    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2
    assert message in one_error_line(err)
    assert only_files(in_tmp) == []


def test_no_command_lists_every_command(capsys):
    code = cli.main([])
    err = capsys.readouterr().err
    assert code == 2
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if hasattr(a, "choices") and a.choices
              and "fit" in a.choices]  # fmt: skip
    for name in sub.choices:  # bench too, when it is installed
        assert name in err


def test_written_files_get_the_umask_permissions(in_tmp, capsys, table_data):
    X, y = table_data
    write_csv(in_tmp / "t.csv", X, y)
    old = os.umask(0o022)
    try:
        code, _, _ = main(
            capsys, "fit", "t.csv", "--target", "target", "-o", "m.joblib", "-q",
            "--epochs", "5",
        )  # fmt: skip
        assert code == 0
        code, _, _ = main(capsys, "predict", "m.joblib", "t.csv", "-o", "p.csv")
        assert code == 0
        os.umask(0o027)
        code, _, _ = main(
            capsys, "compare", "--optimizers", "closed,gd", "--epochs", "3", "-q"
        )
        assert code == 0
    finally:
        os.umask(old)
    mode = {p.name: p.stat().st_mode & 0o777 for p in in_tmp.iterdir()}
    assert mode["m.joblib"] == mode["p.csv"] == 0o644
    assert mode["fastsgd-compare.png"] == 0o640


def test_figure_format_follows_the_extension(in_tmp, capsys):
    code, _, _ = main(
        capsys, "compare", "--optimizers", "closed,gd", "--epochs", "3", "-q",
        "-o", "out.jpg",
    )  # fmt: skip
    assert code == 0
    assert (in_tmp / "out.jpg").read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG
    code, _, _ = main(capsys, "compare", "--optimizers", "closed,gd", "--epochs",
                      "3", "-q", "-o", "out.svg")  # fmt: skip
    assert code == 0
    assert b"<svg" in (in_tmp / "out.svg").read_bytes()[:2000]


def test_noise_free_data_is_healthy_and_ratios_to_zero_are_not_printed(in_tmp, capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 1))
    write_csv(in_tmp / "one.csv", x, 2 * x[:, 0] + 1, names=["a"], target="y")
    code, out, _ = main(
        capsys, "compare", "--data", "one.csv", "--target", "y",
        "--optimizers", "closed,gd,sgd,minibatch", "-q",
    )  # fmt: skip
    assert code == 0
    rows = out.splitlines()[3:7]
    assert [r.split()[-1] for r in rows[1:]] == ["healthy"] * 3
    # the closed form's MSE is ~1e-32: no ratio to it is printed
    assert all(r.split()[-6] == "-" for r in rows[1:]), out  # "0.9 ms" is 2
    assert "e+" not in out


def test_fit_reports_divergence_in_the_first_epoch_consistently(
    in_tmp, capsys, table_data
):
    X, y = table_data
    write_csv(in_tmp / "t.csv", X, y)
    code, out, err = main(
        capsys, "fit", "t.csv", "--target", "target", "--no-standardize",
        "--learning-rate", "constant", "--eta0", "10",
    )  # fmt: skip
    assert code == 1
    assert "the loss curve keeps 0 epochs from before the blow-up" in out
    assert " 1 epochs" not in out
    assert "evidence: 0 epochs" in err


# ------------------------------------------- one loss in tables and figures
@pytest.fixture
def drawn(monkeypatch):
    """Keep the figures the commands save (and save them as usual)."""
    from fastsgd import plotting

    figures = []
    real = plotting.save_figure

    def keep(fig, path, **kw):
        figures.append(fig)
        real(fig, path, **kw)

    monkeypatch.setattr(plotting, "save_figure", keep)
    return figures


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_compare_table_and_figure_show_the_same_mse(in_tmp, capsys, drawn):
    code, out, _ = main(
        capsys, "compare", "--optimizers", "closed,gd,adam", "--epochs", "5", "-q"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["method", "final", "MSE"]
    closed = float(lines[3].split()[2])  # "closed form  0.25124 ..."
    (fig,) = drawn
    left, right = fig.axes
    assert left.get_ylabel() == "training MSE"
    assert right.get_ylabel() == "training MSE - closed-form optimum"
    assert "MSE" in left.get_title()
    (reference,) = [t for t in legend_texts(left) if t.startswith("closed form")]
    assert reference == f"closed form (MSE {closed:.4g})"
    optimum = [ln for ln in left.get_lines() if ln.get_label() == reference][0]
    assert optimum.get_ydata()[0] == pytest.approx(closed, rel=1e-4)


def test_lr_test_table_and_figure_show_the_same_mse(in_tmp, capsys, drawn):
    code, out, _ = main(
        capsys, "compare", "--scenario", "lr-test", "--epochs", "6", "-q"
    )
    assert code == 0
    lines = out.splitlines()
    assert "final MSE" in lines[1]
    finals = [float(ln.split()[3]) for ln in lines[3:6]]
    (fig,) = drawn
    (ax,) = fig.axes
    assert ax.get_ylabel() == "training MSE"
    ends = [ln.get_ydata()[-1] for ln in ax.get_lines() if ln.get_label()[0] != "_"]
    np.testing.assert_allclose(ends, finals, rtol=1e-4)


def test_sweep_table_and_figure_show_the_same_mse(in_tmp, capsys, drawn):
    code, out, _ = main(capsys, "sweep", "--epochs", "4", "--etas", "0.001,0.01", "-q")
    assert code == 0
    lines = out.splitlines()
    assert "final MSE" in lines[1]
    finals = [float(ln.split()[2]) for ln in lines[2:4]]
    (optimum,) = [ln for ln in lines if ln.startswith("optimum: MSE ")]
    optimum = float(optimum.split()[2])
    assert "(MSE " in next(ln for ln in lines if ln.startswith("best eta: "))
    (fig,) = drawn
    left, right = fig.axes
    assert left.get_ylabel() == "training MSE"
    assert right.get_ylabel() == "final training MSE (diverged: top)"
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), finals, rtol=1e-4)
    for ax in (left, right):
        assert f"closed form (MSE {optimum:.4g})" in legend_texts(ax)
