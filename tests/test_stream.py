"""Out-of-core training: fit_stream equals partial_fit on the same chunks."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from fastsgd import SGDRegressor
from fastsgd.stream import ChunkSource, fit_stream

N, D = 1003, 4  # chunk sizes below do not divide N: the last chunk is partial


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.3 + 0.1 * rng.standard_normal(N)
    return X, y


def make_est(**kw):
    params = dict(random_state=0, learning_rate="constant", eta0=0.01)
    params.update(kw)
    return SGDRegressor(**params)


def replay(chunks, **kw):
    est = make_est(**kw)
    for chunk in chunks:
        if len(chunk) == 3:
            est.partial_fit(chunk[0], chunk[1], sample_weight=chunk[2])
        else:
            est.partial_fit(chunk[0], chunk[1])
    return est


def assert_same(a, b):
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert a.t_ == b.t_
    assert a.loss_curve_ == b.loss_curve_


def shuffled_slices(n, rows, epochs, seed):
    """The documented chunk order: successive permutations of the chunks."""
    n_chunks = -(-n // rows)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        for k in rng.permutation(n_chunks):
            out.append(slice(k * rows, min((k + 1) * rows, n)))
    return out


@pytest.mark.parametrize("shuffle_chunks", [True, False])
def test_memmap_pair_equals_partial_fit(tmp_path, data, shuffle_chunks):
    X, y = data
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    est = fit_stream(
        make_est(optimizer="adam", batch_size=8, eta0=0.05),
        (tmp_path / "X.npy", str(tmp_path / "y.npy")),
        chunk_rows=100,
        epochs=3,
        shuffle_chunks=shuffle_chunks,
        random_state=7,
    )
    if shuffle_chunks:
        slices = shuffled_slices(N, 100, 3, 7)
    else:
        slices = [slice(lo, lo + 100) for lo in range(0, N, 100)] * 3
    ref = replay(
        [(X[s], y[s]) for s in slices], optimizer="adam", batch_size=8, eta0=0.05
    )
    assert_same(est, ref)
    assert len(est.loss_curve_) == 3 * 11  # partial_fit counts chunks as epochs
    # and it learned the model
    np.testing.assert_allclose(est.coef_, [1.0, -2.0, 0.5, 3.0], atol=0.1)


def test_float32_arrays(data):
    X, y = (a.astype(np.float32) for a in data)
    est = fit_stream(make_est(), (X, y), chunk_rows=300, random_state=1)
    ref = replay([(X[s], y[s]) for s in shuffled_slices(N, 300, 1, 1)])
    assert est.coef_.dtype == np.float32
    assert_same(est, ref)


@pytest.mark.parametrize("target", [0, -1])
def test_single_npy_with_target_column(tmp_path, data, target):
    X, y = data
    table = np.column_stack([y, X]) if target == 0 else np.column_stack([X, y])
    np.save(tmp_path / "data.npy", table)
    est = fit_stream(
        make_est(),
        tmp_path / "data.npy",
        target=target,
        chunk_rows=250,
        epochs=2,
        random_state=3,
    )
    ref = replay([(X[s], y[s]) for s in shuffled_slices(N, 250, 2, 3)])
    assert_same(est, ref)


def test_factory_is_called_once_per_epoch_in_its_order(data):
    X, y = data
    calls = []

    def factory():
        calls.append(1)
        for lo in range(0, N, 200):
            yield X[lo : lo + 200], y[lo : lo + 200]

    est = fit_stream(make_est(), factory, epochs=2, random_state=0)
    assert len(calls) == 2
    ref = replay(list(factory()) * 2)
    assert_same(est, ref)


def test_list_of_chunks_is_shuffled_and_weights_pass_through(data):
    X, y = data
    sw = np.linspace(0.5, 1.5, N)
    chunks = [
        (X[lo : lo + 300], y[lo : lo + 300], sw[lo : lo + 300])
        for lo in range(0, N, 300)
    ]
    est = fit_stream(make_est(), chunks, epochs=2, random_state=5)
    rng = np.random.default_rng(5)
    order = [k for _ in range(2) for k in rng.permutation(len(chunks))]
    assert_same(est, replay([chunks[k] for k in order]))


def test_iterator_reads_once(data):
    X, y = data
    chunks = [(X[:500], y[:500]), (X[500:], y[500:])]
    est = fit_stream(make_est(), iter(chunks))
    assert_same(est, replay(chunks))
    with pytest.raises(ValueError, match="read only once"):
        fit_stream(make_est(), iter(chunks), epochs=2)


def test_parquet_row_groups_in_record_batches(tmp_path, data):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    X, y = data
    cols = {f"x{j}": X[:, j] for j in range(D)}
    cols["target"] = y
    cols["ignored"] = np.arange(N)
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table(cols), path, row_group_size=100)
    feats = [f"x{j}" for j in range(D)]
    est = fit_stream(
        make_est(),
        path,
        target="target",
        features=feats,
        chunk_rows=40,
        epochs=2,
        random_state=11,
    )
    # each row group (100 rows, the last 3) is read in batches of 40 rows
    n_groups = -(-N // 100)
    rng = np.random.default_rng(11)
    chunks = []
    for _ in range(2):
        for g in rng.permutation(n_groups):
            lo, hi = 100 * g, min(100 * g + 100, N)
            for b in range(lo, hi, 40):
                e = min(b + 40, hi)
                chunks.append((X[b:e], y[b:e]))
    assert_same(est, replay(chunks))
    src = ChunkSource(path, target="target", features=feats)
    assert src.n_units == n_groups and src.n_rows == N


def test_parquet_errors(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0], "s": ["u", "v"], "y": [0.0, 1.0]}), path)
    with pytest.raises(ValueError, match="name of a column"):
        ChunkSource(path, target="nope")
    with pytest.raises(TypeError, match="non-numeric"):
        ChunkSource(path, target="y")
    with pytest.raises(ValueError, match="not in"):
        ChunkSource(path, target="y", features=["a", "b"])
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"fastsgd\[parquet\]"):
        ChunkSource(path, target="y")


def test_progress_bar(data, capsys):
    X, y = data
    fit_stream(make_est(), (X, y), chunk_rows=500, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "chunks" in err and "row/s" in err
    fit_stream(make_est(), (X, y), chunk_rows=500, progress=False)
    assert capsys.readouterr().err == ""


def test_bad_input(tmp_path, data):
    X, y = data
    with pytest.raises(TypeError, match="partial_fit"):
        fit_stream(object(), (X, y))
    with pytest.raises(ValueError, match="epochs"):
        fit_stream(make_est(), (X, y), epochs=0)
    with pytest.raises(ValueError, match="chunk_rows"):
        fit_stream(make_est(), (X, y), chunk_rows=0)
    with pytest.raises(ValueError, match="rows but y has"):
        fit_stream(make_est(), (X, y[:-1]))
    with pytest.raises(ValueError, match="1-D"):
        fit_stream(make_est(), (X, X))
    with pytest.raises(ValueError, match="target column"):
        fit_stream(make_est(), np.column_stack([X, y]))
    with pytest.raises(ValueError, match="not used"):
        fit_stream(make_est(), (X, y), target=0)
    with pytest.raises(ValueError, match=".npy"):
        fit_stream(make_est(), str(tmp_path / "data.txt"), target=0)
    with pytest.raises(TypeError, match=r"\(X, y\)"):
        fit_stream(make_est(), [X, y, y])
    with pytest.raises(ValueError, match="no chunk"):
        fit_stream(make_est(), [])
    with pytest.raises(TypeError, match="source must be"):
        fit_stream(make_est(), 3)


def test_errors_name_the_chunk_and_the_model_keeps_the_earlier_chunks(data):
    X, y = data
    chunks = [(X[i : i + 100], y[i : i + 100]) for i in range(0, 500, 100)]
    bad = chunks[3][0].copy()
    bad[5, 1] = np.nan
    est = make_est()
    with pytest.raises(ValueError, match=r"^chunk 4 of epoch 1: .*NaN"):
        fit_stream(est, chunks[:3] + [(bad, chunks[3][1])], shuffle_chunks=False)
    # trained on the three chunks before it, as manual partial_fit would be
    assert_same(est, replay(chunks[:3]))
    narrow = chunks[:2] + [(X[:100, :3], y[:100])]  # 3 columns, not 4
    with pytest.raises(ValueError, match=r"^chunk 3 of epoch 1: .*3 features"):
        fit_stream(make_est(), narrow, shuffle_chunks=False)
    with pytest.raises(TypeError, match=r"^chunk 2 of epoch 1: Each chunk"):
        fit_stream(make_est(), lambda: iter([chunks[0], "oops"]))
    # a reordered source also names the unit of the source
    with pytest.raises(ValueError, match=r"\(unit 3 of the source, 0-based\)"):
        fit_stream(make_est(), chunks[:3] + [(bad, chunks[3][1])], random_state=0)


def test_a_pair_of_lists_is_a_pair_of_arrays(data):
    X, y = data
    from_lists = fit_stream(
        make_est(), (X.tolist(), y.tolist()), chunk_rows=100, random_state=0
    )
    from_arrays = fit_stream(make_est(), (X, y), chunk_rows=100, random_state=0)
    assert_same(from_lists, from_arrays)
    # two chunks stay two chunks
    two = [(X[:250], y[:250]), (X[250:].tolist(), y[250:].tolist())]
    fit_stream(make_est(), two)
    pd = pytest.importorskip("pandas")
    from_frames = fit_stream(
        make_est(), (pd.DataFrame(X), pd.Series(y)), chunk_rows=100, random_state=0
    )
    assert_same(from_frames, from_arrays)


def test_a_sparse_pair_or_a_mapping_is_streamed_like_partial_fit():
    rng = np.random.default_rng(3)
    X = sp.random(300, 8, density=0.3, format="csr", random_state=3)
    y = X @ rng.standard_normal(8) + 1.0
    ref = SGDRegressor(random_state=0)
    for lo in range(0, 300, 100):
        ref.partial_fit(X[lo : lo + 100], y[lo : lo + 100])
    for source in ((X.tocsc(), y), {"X": X, "y": y}):
        model = fit_stream(
            SGDRegressor(random_state=0), source, chunk_rows=100, shuffle_chunks=False
        )
        np.testing.assert_array_equal(model.coef_, ref.coef_)
    with pytest.raises(ValueError, match="keys 'X' and 'y'"):
        fit_stream(SGDRegressor(), {"X": X, "target": y})


def test_arguments_a_user_can_get_wrong():
    X = np.ones((10, 2))
    y = np.ones(10)
    with pytest.raises(TypeError, match="instance"):
        fit_stream(SGDRegressor, (X, y))
    with pytest.raises(TypeError, match="shuffle_chunks must be a bool"):
        fit_stream(SGDRegressor(), (X, y), shuffle_chunks="no")
    source = ChunkSource((X, y), chunk_rows=5)
    for bad, exc in (([0, 2], ValueError), ([-1], ValueError), ([0.5], TypeError)):
        with pytest.raises(exc):
            list(source.iter_chunks(bad))


# ------------------------------------------------- raw tables: CSV, names
def write_csv(path, X, y, names=None, blank_every=None, extra=None):
    names = names or [f"f{j}" for j in range(X.shape[1])]
    header = ",".join(f'"{n}"' for n in names) + ',"price"'
    if extra:
        header += "," + extra
    lines = [header]
    for i, (row, t) in enumerate(zip(X, y, strict=True)):
        lines.append(",".join(repr(float(v)) for v in row) + f",{float(t)!r}")
        if extra:
            lines[-1] += ',"a, b"'
        if blank_every and i % blank_every == 0:
            lines.append("")
    path.write_text("\n".join(lines) + "\n")


def test_csv_is_streamed_in_shuffled_chunks_with_its_names(tmp_path, data):
    X, y = data
    write_csv(tmp_path / "d.csv", X, y, blank_every=97)
    est = fit_stream(
        make_est(),
        tmp_path / "d.csv",
        target="price",
        chunk_rows=100,
        epochs=2,
        random_state=4,
    )
    ref = replay([(X[s], y[s]) for s in shuffled_slices(N, 100, 2, 4)])
    assert_same(est, ref)
    assert est.feature_names_in_.tolist() == [f"f{j}" for j in range(D)]
    assert est.feature_names_in_.dtype == object
    src = ChunkSource(tmp_path / "d.csv", target="price", chunk_rows=100)
    assert src.n_units == 11 and src.n_rows == N
    assert src.feature_names == [f"f{j}" for j in range(D)]
    # features picks and orders the columns; a text column is left out
    write_csv(tmp_path / "t.csv", X, y, extra="note")
    est = fit_stream(
        make_est(),
        tmp_path / "t.csv",
        target="price",
        features=["f2", "f0"],
        chunk_rows=300,
        shuffle_chunks=False,
    )
    chunks = [
        (X[lo : lo + 300][:, [2, 0]], y[lo : lo + 300]) for lo in range(0, N, 300)
    ]
    assert_same(est, replay(chunks))
    assert est.feature_names_in_.tolist() == ["f2", "f0"]


def test_csv_needs_no_pandas_nor_pyarrow(tmp_path, data):
    import subprocess

    X, y = data
    write_csv(tmp_path / "d.csv", X, y)
    script = f"""
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pandas", "pyarrow"):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
from fastsgd import SGDRegressor, fit_stream
est = fit_stream(SGDRegressor(), {str(tmp_path / "d.csv")!r}, target="price")
assert list(est.feature_names_in_) == {[f"f{j}" for j in range(D)]!r}
assert "pandas" not in sys.modules and "pyarrow" not in sys.modules
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_csv_problems_name_the_column_row_and_line(tmp_path, data):
    X, y = data
    write_csv(tmp_path / "t.csv", X, y, extra="note")
    # a text column fails when the source is opened, before any training
    est = make_est()
    with pytest.raises(
        ValueError,
        match=r"non-numeric value 'a, b' in column 'note' "
        r"at data row 1 \(line 2\).*features=\[",
    ):
        fit_stream(est, tmp_path / "t.csv", target="price")
    assert not hasattr(est, "coef_")
    write_csv(tmp_path / "m.csv", X, y)
    lines = (tmp_path / "m.csv").read_text().splitlines()
    values = lines[501].split(",")
    values[1] = ""  # data row 501, column f1: an empty field
    lines[501] = ",".join(values)
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ValueError,
        match=r"^chunk 6 of epoch 1: cannot read .*m\.csv: "
        r"missing value in column 'f1' at data row 501 \(line 502\); "
        "fit_stream reads complete rows only",
    ):
        fit_stream(
            make_est(),
            tmp_path / "m.csv",
            target="price",
            chunk_rows=100,
            shuffle_chunks=False,
        )
    with pytest.raises(ValueError, match="With a CSV source, target must be"):
        fit_stream(make_est(), tmp_path / "m.csv", target=0)
    with pytest.raises(ValueError, match=r"Feature columns \['zz'\] are not in"):
        fit_stream(make_est(), tmp_path / "m.csv", target="price", features=["zz"])
    with pytest.raises(TypeError, match="wrap one name in a list"):
        fit_stream(make_est(), tmp_path / "m.csv", target="price", features="f0")
    with pytest.raises(FileNotFoundError):
        fit_stream(make_est(), tmp_path / "nope.csv", target="price")


def test_parquet_keeps_names_and_names_a_missing_row(tmp_path, data):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    X, y = data
    cols = {f"x{j}": X[:, j] for j in range(D)}
    cols["target"] = y
    pq.write_table(pa.table(cols), tmp_path / "d.parquet", row_group_size=100)
    est = fit_stream(make_est(), tmp_path / "d.parquet", target="target")
    assert est.feature_names_in_.tolist() == [f"x{j}" for j in range(D)]
    with_null = dict(cols)
    with_null["x1"] = pa.array([None if i == 250 else v for i, v in enumerate(X[:, 1])])
    pq.write_table(pa.table(with_null), tmp_path / "n.parquet", row_group_size=100)
    with pytest.raises(
        ValueError,
        match=r"^chunk 8 of epoch 1: cannot read .*: "
        r"missing value in column 'x1' at data row 251 \(a null\)",
    ):
        fit_stream(
            make_est(),
            tmp_path / "n.parquet",
            target="target",
            chunk_rows=40,
            shuffle_chunks=False,
        )
    nan = dict(cols)
    nan["x2"] = np.where(np.arange(N) == 7, np.nan, X[:, 2])
    pq.write_table(pa.table(nan), tmp_path / "nan.parquet", row_group_size=100)
    with pytest.raises(
        ValueError, match=r"missing value in column 'x2' at data row 8;"
    ):
        fit_stream(make_est(), tmp_path / "nan.parquet", target="target")


def test_names_of_a_dataframe_and_of_a_model_fitted_before(tmp_path, data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = fit_stream(make_est(), (frame, pd.Series(y)), chunk_rows=100)
    assert est.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    # streaming on: the same names again, no warning at any chunk (pytest
    # turns warnings into errors), the names kept
    fit_stream(est, (frame, y), chunk_rows=100)
    assert est.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    est.predict(frame)  # a DataFrame with those names is accepted quietly
    with pytest.raises(ValueError, match=r"fitted with the features \['a', 'b'"):
        fit_stream(est, (frame.rename(columns={"a": "z"}), y), chunk_rows=100)
    assert est.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    # a model fitted on plain arrays is not given names afterwards
    plain = make_est().fit(X, y)
    fit_stream(plain, (frame, y), chunk_rows=500)
    assert not hasattr(plain, "feature_names_in_")


def test_each_warning_is_shown_once_per_call(data):
    from fastsgd import DivergenceWarning

    X, y = data
    big = X * [1.0, 1e4, 1.0, 1.0]  # every chunk diverges at eta0=0.01
    with pytest.warns(DivergenceWarning) as record:
        fit_stream(make_est(), (big, y), chunk_rows=100, epochs=2, shuffle_chunks=False)
    assert len(record) == 1
    msg = str(record[0].message)
    assert msg.startswith("chunk 1 of epoch 1: Training diverged")
    assert "shows each warning once" in msg
    assert record[0].filename == __file__  # points at the caller


# ---------------------------------------------------------------- Pipelines
def test_pipeline_steps_are_updated_then_transform_in_order(data):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    Xs = X * [1.0, 100.0, 0.01, 1.0] + [0.0, 50.0, 0.0, -3.0]
    sw = np.linspace(0.5, 1.5, N)
    chunks = [
        (Xs[lo : lo + 200], y[lo : lo + 200], sw[lo : lo + 200])
        for lo in range(0, N, 200)
    ]
    pipe = fit_stream(
        make_pipeline(StandardScaler(), make_est()),
        chunks,
        epochs=2,
        shuffle_chunks=False,
    )
    scaler, ref = StandardScaler(), make_est()
    for Xc, yc, wc in chunks * 2:
        scaler.partial_fit(Xc, yc, sample_weight=wc)  # updated first, weighted
        ref.partial_fit(scaler.transform(Xc), yc, sample_weight=wc)
    np.testing.assert_array_equal(pipe[0].mean_, scaler.mean_)
    assert_same(pipe[-1], ref)
    assert pipe.score(Xs, y) > 0.99


def test_pipeline_steps_without_partial_fit(data, tmp_path):
    from sklearn.exceptions import NotFittedError  # noqa: F401
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        PolynomialFeatures,
        StandardScaler,
    )

    X, y = data
    calls = []

    def factory():
        calls.append(1)
        yield X, y

    # not fitted and no partial_fit: refused before reading anything
    with pytest.raises(TypeError, match=r"'polynomialfeatures'.*not fitted.*fit it"):
        fit_stream(make_pipeline(PolynomialFeatures(), make_est()), factory)
    assert calls == []
    with pytest.raises(TypeError, match=r"last step 'ridge'.*no partial_fit"):
        fit_stream(make_pipeline(StandardScaler(), Ridge()), factory)
    # stateless, fitted, or frozen: used as they are
    pipe = make_pipeline(FunctionTransformer(np.tanh), make_est())
    fit_stream(pipe, factory)
    ref = make_est().partial_fit(np.tanh(X), y)
    assert_same(pipe[-1], ref)
    poly = PolynomialFeatures(degree=2).fit(X[:10])
    pipe = fit_stream(make_pipeline(poly, make_est()), factory)
    assert pipe[-1].n_features_in_ == poly.n_output_features_
    # the recipe for whole-data statistics: stream the scaler alone, freeze it
    write_csv(tmp_path / "d.csv", X * 10 + 5, y)
    scaler = fit_stream(StandardScaler(), tmp_path / "d.csv", target="price")
    assert scaler.feature_names_in_.tolist() == [f"f{j}" for j in range(D)]
    mean = scaler.mean_.copy()
    pipe = make_pipeline(FrozenEstimator(scaler), make_est())
    fit_stream(pipe, tmp_path / "d.csv", target="price", chunk_rows=100, epochs=2)
    np.testing.assert_array_equal(scaler.mean_, mean)  # not updated
    assert scaler.n_samples_seen_ == N
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X * 10 + 5, columns=[f"f{j}" for j in range(D)])
    assert pipe.score(frame, y) > 0.99


def test_pipeline_gets_the_feature_names_on_its_first_step(tmp_path, data):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    write_csv(tmp_path / "d.csv", X, y)
    pipe = fit_stream(
        make_pipeline(StandardScaler(), make_est()),
        tmp_path / "d.csv",
        target="price",
        chunk_rows=250,
        epochs=2,
    )
    assert pipe.feature_names_in_.tolist() == [f"f{j}" for j in range(D)]
    assert not hasattr(pipe[-1], "feature_names_in_")  # as sklearn's fit does
