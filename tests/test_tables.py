"""Reading real tables: missing values, columns left out, prediction files."""

import numpy as np
import pytest

from fastsgd.tables import MISSING_TOKENS, CsvFile, load_file, load_table

RAW = (
    "id,city,age,income,price\n"
    "1,Paris,30,100,5\n"
    '2,"Lyon, FR",,200,6\n'
    "\n"  # a blank line: not a data row, but a line
    "3,Nice,50,NA,7\n"
    "4,Metz,60,400,\n"
    "5,Caen,70,500,9\n"
)


@pytest.fixture
def raw_csv(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text(RAW)
    return path


def test_a_missing_value_names_the_column_data_row_and_line(raw_csv):
    # the issue: "non-numeric value ''" for an empty field
    with pytest.raises(ValueError) as err:
        load_file(raw_csv, "price", ignore=["city"])
    msg = str(err.value)
    assert msg.startswith(f"cannot read {raw_csv}: missing value in column 'age'")
    assert "at data row 2 (line 3)" in msg
    assert "also in 'income', 'price'" in msg
    assert "missing='drop'" in msg and "missing='mean'" in msg
    assert "non-numeric" not in msg
    # a missing target alone: only dropping helps
    (raw_csv.parent / "t.csv").write_text("a,y\n1,2\n2,\n3,4\n")
    with pytest.raises(ValueError, match=r"missing value in target column 'y' at "):
        load_file(raw_csv.parent / "t.csv", "y")
    # after the blank line, rows and lines differ by two
    (raw_csv.parent / "b.csv").write_text("a,y\n1,2\n\n\n3,4\nNaN,5\n")
    with pytest.raises(ValueError, match=r"column 'a' at data row 3 \(line 6\)"):
        load_file(raw_csv.parent / "b.csv", "y")


def test_text_columns_are_named_and_can_be_ignored(raw_csv):
    with pytest.raises(ValueError) as err:
        load_file(raw_csv, "price")
    assert "non-numeric value 'Paris' in column 'city' at data row 1 (line 2)" in str(
        err.value
    )
    assert "ignore=['city']" in str(err.value)
    X, y, names = load_file(raw_csv, "price", ignore=["city", "id"], missing="drop")
    assert names == ["age", "income"]
    np.testing.assert_array_equal(X, [[30, 100], [70, 500]])
    np.testing.assert_array_equal(y, [5, 9])


def test_drop_and_mean(raw_csv):
    dropped = load_table(raw_csv, "price", ignore=["city"], missing="drop")
    assert dropped.n_dropped == 3 and dropped.rows.tolist() == [1, 5]
    assert dropped.fill_values == {}
    mean = load_table(raw_csv, "price", ignore=["city"], missing="mean")
    # the row with a missing target is left out (a target cannot be made up);
    # means are over the rows kept
    assert mean.rows.tolist() == [1, 2, 3, 5] and mean.n_dropped == 1
    assert mean.feature_names == ["id", "age", "income"]
    np.testing.assert_allclose(
        mean.X,
        [[1, 30, 100], [2, 50, 200], [3, 50, 800 / 3], [5, 70, 500]],
    )
    np.testing.assert_array_equal(mean.y, [5, 6, 7, 9])
    assert mean.fill_values == pytest.approx(
        {"id": 2.75, "age": 50.0, "income": 800 / 3}
    )
    assert mean.X.flags.c_contiguous and mean.X.dtype == np.float64


def test_every_missing_token_is_missing(tmp_path):
    tokens = sorted(MISSING_TOKENS) + [" NA ", "NULL", "N/A", '""']
    body = "".join(f"{t},{k}\n" for k, t in enumerate(tokens))
    (tmp_path / "m.csv").write_text("a,y\n" + body + "1.5,99\n")
    t = load_table(tmp_path / "m.csv", "y", missing="drop")
    assert t.n_dropped == len(tokens) and t.X.tolist() == [[1.5]]


def test_columns_read_a_prediction_file_as_the_model_saw_it(raw_csv, tmp_path):
    # the columns of training, in that order; text and other columns ignored
    X, y, names = load_file(
        raw_csv,
        columns=np.array(["income", "id"], dtype=object),
        missing={"income": -1.0},
    )
    assert y is None and names == ["income", "id"]
    np.testing.assert_array_equal(X[:, 1], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(X[:, 0], [100, 200, -1, 400, 500])
    with pytest.raises(
        ValueError, match=r"raw.csv lacks column\(s\) 'height' \(its columns: id, city"
    ):
        load_file(raw_csv, columns=["age", "height"])
    with pytest.raises(ValueError, match="no fill value is given"):
        load_file(raw_csv, columns=["age", "id"], missing={"id": 1.0})
    with pytest.raises(ValueError, match="fill values are given for 'zip'"):
        load_file(raw_csv, columns=["id"], missing={"zip": 0.0})
    # a fitted model's feature_names_in_ and the training fill values
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fastsgd import SGDRegressor

    pd = pytest.importorskip("pandas")
    train = load_table(raw_csv, "price", ignore=["city"], missing="mean")
    frame = pd.DataFrame(train.X, columns=train.feature_names)
    model = make_pipeline(StandardScaler(), SGDRegressor(random_state=0))
    model.fit(frame, train.y)
    (tmp_path / "new.csv").write_text(
        'note,income,age,id,extra\nhello,150,40,9,x\n"a, b",,35,8,y\n'
    )
    new = load_table(
        tmp_path / "new.csv",
        columns=model.feature_names_in_,
        missing=train.fill_values,
    )
    assert new.feature_names == ["id", "age", "income"]
    np.testing.assert_allclose(new.X, [[9, 40, 150], [8, 35, 800 / 3]])
    model.predict(pd.DataFrame(new.X, columns=new.feature_names))


@pytest.mark.parametrize("fmt", ["parquet", "npz", "npy"])
def test_other_formats_missing_columns_and_rows(tmp_path, fmt):
    a = np.array([1.0, np.nan, 3.0, 4.0])
    b = np.array([10.0, 20.0, 30.0, np.nan])
    y = np.array([1.0, 2.0, np.nan, 4.0])
    path = tmp_path / f"d.{fmt}"
    if fmt == "parquet":
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        table = pa.table(
            {
                "a": pa.array([1.0, None, 3.0, 4.0]),  # a null
                "text": ["u", "v", "w", "x"],
                "b": b,  # a NaN
                "y": pa.array([1, 2, None, 4], type=pa.int64()),
            }
        )
        pq.write_table(table, path)
        with pytest.raises(ValueError, match=r"'text'.*not numeric.*ignore=\['text'\]"):
            load_file(path, "y")
        kw = dict(ignore=["text"])
    elif fmt == "npz":
        np.savez(path, a=a, b=b, y=y)
        kw = {}
    else:
        rec = np.zeros(4, dtype=[("a", "f8"), ("text", "U3"), ("b", "f8"), ("y", "f8")])
        rec["a"], rec["b"], rec["y"], rec["text"] = a, b, y, "t"
        np.save(path, rec)
        with pytest.raises(ValueError, match="'text'.*not numeric"):
            load_file(path, "y")
        kw = dict(ignore=["text"])
    with pytest.raises(ValueError, match=r"missing value in column 'a' at data row 2;"):
        load_file(path, "y", **kw)
    t = load_table(path, "y", missing="drop", **kw)
    assert t.rows.tolist() == [1] and t.feature_names == ["a", "b"]
    t = load_table(path, "y", missing="mean", **kw)
    assert t.rows.tolist() == [1, 2, 4]
    np.testing.assert_allclose(t.X, [[1, 10], [2.5, 20], [4, 15]])
    X, _, names = load_file(path, columns=["b"], missing="drop")
    assert names == ["b"] and X.ravel().tolist() == [10, 20, 30]


def test_bad_arguments_are_named(raw_csv):
    with pytest.raises(ValueError, match="missing must be one of"):
        load_file(raw_csv, "price", missing="zero")
    with pytest.raises(TypeError, match="missing must be"):
        load_file(raw_csv, "price", missing=0)
    with pytest.raises(ValueError, match="fill value of column 'age'"):
        load_file(raw_csv, columns=["age"], missing={"age": np.nan})
    with pytest.raises(TypeError, match="list of column names.*wrap"):
        load_file(raw_csv, "price", ignore="city")
    with pytest.raises(TypeError, match="column names"):
        load_file(raw_csv, "price", ignore=[3])
    with pytest.raises(ValueError, match="more than once"):
        load_file(raw_csv, columns=["age", "age"])
    with pytest.raises(ValueError, match="not both"):
        load_file(raw_csv, columns=["age"], ignore=["city"])
    with pytest.raises(ValueError, match="cannot ignore 'town'"):
        load_file(raw_csv, "price", ignore=["town"])
    with pytest.raises(ValueError, match="target 'price' is also listed in ignore"):
        load_file(raw_csv, "price", ignore=["price"])
    with pytest.raises(ValueError, match="target 'price' is also listed in columns"):
        load_file(raw_csv, "price", columns=["price", "age"])
    with pytest.raises(ValueError, match="no feature columns besides 'price'"):
        load_file(raw_csv, "price", ignore=["id", "city", "age", "income"])
    (raw_csv.parent / "all.csv").write_text("a,y\n,1\n,2\n")
    with pytest.raises(ValueError, match="'a'.*no value to take the mean of"):
        load_file(raw_csv.parent / "all.csv", "y", missing="mean")
    with pytest.raises(ValueError, match="no row of .* is left"):
        load_file(raw_csv.parent / "all.csv", "y", missing="drop")


def test_ragged_lines_and_encodings(tmp_path):
    (tmp_path / "r.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(ValueError, match=r"data row 2 \(line 3\) has 3 value\(s\)"):
        load_file(tmp_path / "r.csv")
    (tmp_path / "q.csv").write_text('a,b\n1,"2"\n"3,5",4\n')
    with pytest.raises(ValueError, match="non-numeric value '3,5' in column 'a'"):
        load_file(tmp_path / "q.csv")
    (tmp_path / "bom.csv").write_bytes("\ufeffa,b\r\n1,2\r\n3,4\r\n".encode())
    X, y, names = load_file(tmp_path / "bom.csv", "b")
    assert names == ["a"] and y.tolist() == [2, 4]
    (tmp_path / "latin.csv").write_bytes(b"a,b\n1,2\n\xe9,3\n")
    with pytest.raises(ValueError, match="line 3 is not UTF-8"):
        load_file(tmp_path / "latin.csv")


def test_csv_file_blocks_and_index(tmp_path):
    lines = ["a,b"] + [f"{i},{2 * i}" for i in range(10)]
    lines.insert(4, "")
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    f = CsvFile(tmp_path / "c.csv")
    starts, n = f.index(4)
    assert n == 10 and [s[1:] for s in starts] == [(1, 2), (5, 7), (9, 11)]
    got, numbers = f.read_lines(starts[1][0], 4, starts[1][2])
    assert numbers.tolist() == [7, 8, 9, 10]
    table = f.parse(got, numbers, 5, [1, 0])
    np.testing.assert_array_equal(table, [[8, 4], [10, 5], [12, 6], [14, 7]])
