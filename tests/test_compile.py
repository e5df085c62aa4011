"""Compile on first use, kept across processes, never stale (issue 12).

Each test starts fresh interpreters on a cache folder of its own
(``NUMBA_CACHE_DIR``): what a process compiles is read from the dispatchers'
cache-miss counters.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastsgd
from fastsgd import SGDRegressor, compile_kernels
from fastsgd._kernels import _select

ROOT = Path(fastsgd.__file__).resolve().parent.parent

# prints a JSON line: what the process compiled, its models and its stderr
PROBE = r"""
import json, os, sys, time
import numpy as np
configs = json.loads(sys.argv[1])
if os.environ.get("PROBE_NOTICE_AFTER"):
    from fastsgd._kernels import _select
    _select.NOTICE_AFTER = float(os.environ["PROBE_NOTICE_AFTER"])
t0 = time.perf_counter()
import fastsgd
imported = time.perf_counter() - t0
out = {"numba_at_import": "numba" in sys.modules, "import": imported, "coefs": []}
for config in configs:
    config = dict(config)
    dtype = np.dtype(config.pop("dtype", "float64"))
    sparse = config.pop("sparse", False)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6)).astype(dtype)
    y = (X @ np.linspace(-1, 1, 6) + 0.5).astype(dtype)
    if sparse:
        import scipy.sparse
        X = scipy.sparse.csr_matrix(X)
    model = fastsgd.SGDRegressor(max_iter=3, tol=None, random_state=0, **config)
    out["coefs"].append(model.fit(X, y).coef_.astype(float).tolist())
out["modules"] = sorted(m for m in sys.modules if m.startswith("fastsgd._kernels"))
from fastsgd._kernels import _jit
misses = {
    name.rsplit(".", 1)[1]: sum(k.stats.cache_misses.values())
    for name, k in _jit.REGISTRY.items() if hasattr(k, "stats")
}
out["compiled"] = sorted(n for n, v in misses.items() if v)
out["misses"] = sum(misses.values())
print("RESULT " + json.dumps(out))
"""


def probe(configs, cache, *, pythonpath=None, extra_env=None, check=True):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env.pop("NUMBA_DISABLE_JIT", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    env.update(extra_env or {})
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(configs)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=pythonpath or ROOT,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(lines[-1][len("RESULT ") :]) if lines else {}
    result["stderr"] = proc.stderr
    return result


def in_process(configs):
    """The models ``probe`` fits, fitted in this process."""
    coefs = []
    for config in configs:
        config = dict(config)
        dtype = np.dtype(config.pop("dtype", "float64"))
        sparse = config.pop("sparse", False)
        rng = np.random.default_rng(0)
        X = rng.standard_normal((300, 6)).astype(dtype)
        y = (X @ np.linspace(-1, 1, 6) + 0.5).astype(dtype)
        if sparse:
            import scipy.sparse

            X = scipy.sparse.csr_matrix(X)
        model = SGDRegressor(max_iter=3, tol=None, random_state=0, **config)
        coefs.append(model.fit(X, y).coef_.astype(float).tolist())
    return coefs


def test_import_loads_no_compiler(tmp_path):
    got = probe([], tmp_path / "cache")
    assert got["numba_at_import"] is False
    assert got["misses"] == 0
    assert got["modules"] == [
        "fastsgd._kernels",
        "fastsgd._kernels._codes",
        "fastsgd._kernels._select",
    ]
    assert not (tmp_path / "cache").exists()  # nothing written either


def test_default_configuration_compiles_only_the_plain_path(tmp_path):
    got = probe([{}], tmp_path / "cache")
    # the epoch, its visiting orders, the gather of shuffled rows, and the
    # out-of-line schedules and losses (any loss and schedule run the default
    # kernel; the squared loss and scikit-learn's schedules are inlined)
    assert set(got["compiled"]) <= {
        "annealed_rate",
        "robust_loss_value",
        "robust_derivative",
        "epoch_plain",
        "visit_sequence",
        "stream_sequence",
        "permute",
        "below",
        "splitmix64",
        "gather_rows",
    }, got["compiled"]
    assert "epoch_plain" in got["compiled"]
    for module in ("_csr", "_parallel", "_grad", "_take"):
        assert f"fastsgd._kernels.{module}" not in got["modules"]


@pytest.mark.parametrize(
    "config, kernel, others",
    [
        (
            {"optimizer": "adam", "batch_size": 32, "dtype": "float32"},
            "epoch_dense_batch",
            ("slice_gradient", "take_rows", "epoch_plain"),
        ),
        (
            {"optimizer": "nesterov"},
            "epoch_dense_example",
            ("accumulate_rows", "gather_rows", "epoch_plain"),
        ),
        (
            {"sparse": True, "optimizer": "rmsprop", "batch_size": 8},
            "epoch_csr_batch",
            ("accumulate_rows", "catch_up_all", "epoch_plain"),
        ),
        (
            {"sparse": True, "optimizer": "adagrad"},
            "epoch_csr_adaptive",
            ("accumulate_rows", "epoch_csr_batch", "epoch_plain"),
        ),
        (
            {"learning_rate": "auto", "batch_size": 4},
            "epoch_auto",
            ("accumulate_rows", "epoch_plain", "epoch_auto_csr"),
        ),
        (
            {"learning_rate": "auto", "sparse": True},
            "epoch_auto_csr",
            ("accumulate_rows", "epoch_csr_lazy", "epoch_auto_csr_batch"),
        ),
    ],
)
def test_each_configuration_compiles_its_own_kernel(tmp_path, config, kernel, others):
    got = probe([config], tmp_path / "cache")
    assert kernel in got["compiled"]
    assert not set(others) & set(got["compiled"]), got["compiled"]
    epochs = [n for n in got["compiled"] if n.startswith("epoch_")]
    assert epochs == [kernel]


def test_second_process_hits_the_cache_for_every_variant():
    """Every kernel compile_kernels('all') makes loads in a second process.

    On the default cache folder, which ``make test`` fills first with
    ``fastsgd compile --all`` (else the first process compiles everything).
    """
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    code = (
        "import fastsgd; r = fastsgd.compile_kernels('all', progress=False); "
        "print(len(r))"
    )
    first = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    n_kernels = int(first.stdout.split()[-1])
    assert n_kernels == 2 * len(_select.all_keys())
    check = r"""
import numpy as np
from fastsgd._kernels import _jit, _select
for key in _select.all_keys():
    for dtype in (np.float64, np.float32):
        args = _select.sample_arguments(key, dtype)
        _select.compiled(_select.epoch_kernel(key), args)
stats = [k.stats for k in _jit.REGISTRY.values() if hasattr(k, "stats")]
print(sum(sum(s.cache_misses.values()) for s in stats),
      sum(sum(s.cache_hits.values()) for s in stats))
"""
    second = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True
    )
    assert second.returncode == 0, second.stderr
    misses, hits = map(int, second.stdout.split())
    assert misses == 0
    assert hits == n_kernels
    # and real fits of configurations compile nothing more
    configs = [
        {},
        {"dtype": "float32", "sparse": True},
        {"optimizer": "adamw", "batch_size": 16, "average": True},
        {"optimizer": "adagrad", "sparse": True},
        {"batch_size": "full", "clip_norm": 1.0, "dtype": "float32"},
        {"sampling": "blocks", "penalty": "l1"},
        {"batch_size": 512, "n_jobs": 2},
        {"learning_rate": "auto"},
        {"learning_rate": "auto", "sparse": True, "dtype": "float32"},
        {"learning_rate": "auto", "sparse": True, "batch_size": 8},
        {"optimizer": "rmsprop", "sparse": True, "dtype": "float32"},
    ]
    cache = os.environ.get("NUMBA_CACHE_DIR")
    got = probe(configs, cache, extra_env=None) if cache else probe_default(configs)
    assert got["misses"] == 0, got["compiled"]
    np.testing.assert_allclose(got["coefs"], in_process(configs), rtol=1e-6)


def probe_default(configs):
    """``probe`` on the default cache folder."""
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(configs)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1][len("RESULT ") :])


def test_editing_a_helper_module_never_runs_stale_code(tmp_path):
    """The cache is keyed on every kernel source, not one file's timestamp."""
    shutil.copytree(ROOT / "fastsgd", tmp_path / "fastsgd")
    cache = tmp_path / "cache"
    before = probe([{}], cache, pythonpath=tmp_path)
    assert before["misses"] > 0
    again = probe([{}], cache, pythonpath=tmp_path)
    assert again["misses"] == 0
    assert np.any(np.asarray(again["coefs"][0]) != 0.0)
    # a helper the plain epoch inlines: every loss derivative becomes 0
    losses = tmp_path / "fastsgd" / "_kernels" / "_losses.py"
    text = losses.read_text()
    assert text.count("    return g\n") == 1
    losses.write_text(text.replace("    return g\n", "    return 0.0 * g\n"))
    # keep the old timestamp: Numba's own check would see nothing
    st = os.stat(ROOT / "fastsgd" / "_kernels" / "_losses.py")
    os.utime(losses, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = probe([{}], cache, pythonpath=tmp_path)
    assert after["misses"] > 0
    np.testing.assert_array_equal(after["coefs"][0], 0.0)  # the edited code ran


def test_unwritable_cache_folder_still_trains(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    got = probe([{}], blocker / "cache")  # cannot be created, even by root
    np.testing.assert_allclose(got["coefs"], in_process([{}]), rtol=1e-12)
    lines = [x for x in got["stderr"].splitlines() if "kernel cache" in x]
    assert len(lines) == 1, got["stderr"]
    assert "will not be kept" in lines[0]


def test_corrupted_or_truncated_cache_files_are_recompiled(tmp_path):
    cache = tmp_path / "cache"
    first = probe([{}, {"dtype": "float32"}], cache)
    files = sorted(cache.rglob("*.nbk"))
    assert files
    for k, path in enumerate(files):
        data = path.read_bytes()
        # truncated, garbage after a valid key, or garbage
        key = data.split(b"\n", 1)[0]
        path.write_bytes([data[: len(data) // 2], key + b"\nxx", b"\0" * 9][k % 3])
    second = probe([{}, {"dtype": "float32"}], cache)
    assert second["misses"] > 0
    assert second["coefs"] == first["coefs"]
    third = probe([{}, {"dtype": "float32"}], cache)
    assert third["misses"] == 0  # rewritten


def test_two_processes_on_one_empty_cache(tmp_path):
    cache = tmp_path / "cache"
    a = [{}, {"optimizer": "adam", "batch_size": 8, "dtype": "float32"}]
    b = list(reversed(a)) + [{"sparse": True}]
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env.pop("NUMBA_DISABLE_JIT", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, json.dumps(c)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in (a, b)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    got = [json.loads(o.splitlines()[-1][len("RESULT ") :]) for o, _ in outs]
    np.testing.assert_allclose(got[0]["coefs"], in_process(a), rtol=1e-6)
    np.testing.assert_allclose(got[1]["coefs"], in_process(b), rtol=1e-6)
    third = probe(b, cache)
    assert third["misses"] == 0


def test_a_long_compile_says_so_once(tmp_path):
    # as if every compile took longer than the notice's threshold
    configs = [{}, {"optimizer": "adam", "batch_size": 4}]
    got = probe(configs, tmp_path / "cache", extra_env={"PROBE_NOTICE_AFTER": "0"})
    lines = [x for x in got["stderr"].splitlines() if x.strip()]
    # one line for the two compiles, naming the cache
    assert len(lines) == 1, got["stderr"]
    assert lines[0].startswith("fastsgd: compiling the epoch_plain training kernel")
    assert str(tmp_path / "cache") in lines[0]
    quiet = probe(configs, tmp_path / "cache")
    assert quiet["stderr"] == ""  # nothing compiles, nothing said


def test_cli_logs_compiles_and_compiles_ahead(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env.pop("NUMBA_DISABLE_JIT", None)
    run = subprocess.run(
        [sys.executable, "-m", "fastsgd", "compile", "--dtype", "float64"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "2 kernels ready" in run.stdout
    assert str(cache) in run.stdout
    # the per-kernel log lines go to stderr (INFO in the command)
    assert "fastsgd: compiling epoch_plain for float64" in run.stderr
    got = probe([{}, {"sparse": True}], cache)
    assert got["misses"] == 0
    quiet = subprocess.run(
        [sys.executable, "-m", "fastsgd", "compile", "--dtype", "float32", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert quiet.returncode == 0 and quiet.stderr == ""  # only the summary
    assert "2 kernels ready" in quiet.stdout
    cleared = subprocess.run(
        [sys.executable, "-m", "fastsgd", "compile", "--clear"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert cleared.returncode == 0 and "removed" in cleared.stdout
    assert not list(cache.rglob("*.nbk"))


def test_compile_kernels_names_what_it_compiled():
    done = compile_kernels(
        [{"optimizer": "adam", "batch_size": 32}, {"optimizer": "adamw"}],
        dtypes=["float32"],
        jobs=1,
        progress=False,
    )
    assert [d["kernel"] for d in done] == ["batch", "example"]
    assert all(d["dtype"] == "float32" and d["seconds"] >= 0 for d in done)
    blocks = compile_kernels([{"sampling": "blocks"}], dtypes="float64", jobs=1)
    assert [d["kernel"] for d in blocks] == ["plain", "take_rows"]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"configurations": "everything"}, ValueError),
        ({"configurations": 3}, TypeError),
        ({"configurations": [3]}, TypeError),
        ({"configurations": [{"optimizer": "lion"}]}, ValueError),
        ({"configurations": [{"learning_rate": "optimal", "alpha": 0}]}, ValueError),
        ({"dtypes": ["float16"]}, ValueError),
        ({"jobs": 0}, ValueError),
    ],
)
def test_compile_kernels_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error):
        compile_kernels(**kwargs)
