"""Tests for fastsgd.closed_form: exact weighted ridge / least squares."""

import importlib
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, Ridge

from fastsgd.closed_form import IllConditionedWarning, closed_form


def _problem(n=80, d=6, seed=0, mean=0.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + mean
    w = rng.normal(size=d)
    y = X @ w + 0.5 + 0.1 * rng.normal(size=n)
    s = rng.uniform(0.1, 3.0, size=n)
    return X.astype(dtype), y, s


def _sklearn_reference(X, y, alpha, fit_intercept, sample_weight):
    if alpha == 0:
        model = LinearRegression(fit_intercept=fit_intercept)
    else:
        model = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd")
    model.fit(np.asarray(X, dtype=np.float64), y, sample_weight=sample_weight)
    return model.coef_, float(model.intercept_)


def _lstsq_min_norm(X, y, fit_intercept):
    if fit_intercept:
        x_mean, y_mean = X.mean(axis=0), y.mean()
        coef = np.linalg.lstsq(X - x_mean, y - y_mean)[0]
        return coef, y_mean - x_mean @ coef
    return np.linalg.lstsq(X, y)[0], 0.0


@pytest.mark.parametrize("alpha", [0.0, 0.3, 10.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_sklearn_float64(alpha, fit_intercept, weighted, sparse):
    X, y, s = _problem()
    s = s if weighted else None
    ref_coef, ref_intercept = _sklearn_reference(X, y, alpha, fit_intercept, s)
    Xin = sp.csr_matrix(X) if sparse else X
    coef, intercept = closed_form(
        Xin, y, alpha=alpha, fit_intercept=fit_intercept, sample_weight=s
    )
    assert coef.shape == (X.shape[1],)
    assert coef.dtype == np.float64
    assert isinstance(intercept, np.float64)
    assert_allclose(coef, ref_coef, rtol=1e-8, atol=1e-12)
    assert_allclose(float(intercept), ref_intercept, rtol=1e-8, atol=1e-12)
    if not fit_intercept:
        assert intercept == 0.0


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_float32_preserved(alpha, sparse):
    X, y, s = _problem(dtype=np.float32)
    ref_coef, ref_intercept = _sklearn_reference(X, y, alpha, True, s)
    Xin = sp.csr_matrix(X) if sparse else X
    coef, intercept = closed_form(Xin, y.astype(np.float32), alpha, True, s)
    assert coef.dtype == np.float32
    assert isinstance(intercept, np.float32)
    assert_allclose(coef, ref_coef, rtol=1e-4, atol=1e-5)
    assert_allclose(float(intercept), ref_intercept, rtol=1e-4, atol=1e-5)


def test_integer_input_gives_float64():
    rng = np.random.default_rng(1)
    X = rng.integers(-5, 6, size=(30, 3))
    y = rng.integers(-5, 6, size=30)
    coef, intercept = closed_form(X, y)
    ref_coef, ref_intercept = _sklearn_reference(X, y.astype(float), 0.0, True, None)
    assert coef.dtype == np.float64
    assert isinstance(intercept, np.float64)
    assert_allclose(coef, ref_coef, rtol=1e-8)
    assert_allclose(intercept, ref_intercept, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_dense_and_sparse_agree(fmt):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 10))
    X[rng.uniform(size=X.shape) < 0.7] = 0.0
    y = rng.normal(size=120)
    s = rng.uniform(0.0, 2.0, size=120)
    Xs = sp.csr_matrix(X).asformat(fmt)
    for alpha, fit_intercept in [(0.0, True), (2.0, True), (0.5, False)]:
        dense = closed_form(X, y, alpha, fit_intercept, s)
        sparse = closed_form(Xs, y, alpha, fit_intercept, s)
        assert_allclose(sparse[0], dense[0], rtol=1e-10, atol=1e-13)
        assert_allclose(sparse[1], dense[1], rtol=1e-10, atol=1e-13)


def test_inputs_not_modified():
    X, y, s = _problem(n=40, d=4)
    Xs = sp.csr_matrix(X)
    copies = (X.copy(), y.copy(), s.copy(), Xs.data.copy(), Xs.indices.copy())
    closed_form(X, y, 1.0, True, s)
    closed_form(Xs, y, 1.0, True, s)
    for before, after in zip(copies, (X, y, s, Xs.data, Xs.indices), strict=True):
        assert_allclose(after, before, rtol=0, atol=0)


def test_zero_weight_equals_dropping_rows():
    X, y, s = _problem(n=50, d=4)
    s[::3] = 0.0
    keep = s > 0
    full = closed_form(X, y, 0.5, True, s)
    dropped = closed_form(X[keep], y[keep], 0.5, True, s[keep])
    assert_allclose(full[0], dropped[0], rtol=1e-10)
    assert_allclose(full[1], dropped[1], rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("case", ["duplicate_column", "wide"])
def test_singular_returns_min_norm(case, fit_intercept, sparse):
    rng = np.random.default_rng(3)
    if case == "duplicate_column":
        X = rng.normal(size=(40, 4))
        X = np.column_stack([X, X[:, 1]])
    else:
        X = rng.normal(size=(6, 15))
    y = rng.normal(size=X.shape[0])
    Xin = sp.csr_matrix(X) if sparse else X
    with pytest.warns(IllConditionedWarning, match="minimum-norm"):
        coef, intercept = closed_form(Xin, y, fit_intercept=fit_intercept)
    ref_coef, ref_intercept = _lstsq_min_norm(X, y, fit_intercept)
    assert_allclose(coef, ref_coef, rtol=1e-9, atol=1e-12)
    assert_allclose(intercept, ref_intercept, rtol=1e-9, atol=1e-12)
    if case == "duplicate_column":
        assert_allclose(coef[1], coef[-1], rtol=1e-10)


def test_singular_sparse_lsqr_path(monkeypatch):
    cf_module = importlib.import_module("fastsgd.closed_form")
    monkeypatch.setattr(cf_module, "_DENSIFY_MAX", 0)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 5))
    X[rng.uniform(size=X.shape) < 0.5] = 0.0
    X = np.column_stack([X, 2.0 * X[:, 0]])
    y = rng.normal(size=30)
    with pytest.warns(IllConditionedWarning, match="singular or ill-conditioned"):
        coef, intercept = closed_form(sp.csr_matrix(X), y)
    ref_coef, ref_intercept = _lstsq_min_norm(X, y, True)
    assert_allclose(coef, ref_coef, rtol=1e-6, atol=1e-9)
    assert_allclose(intercept, ref_intercept, rtol=1e-6, atol=1e-9)


def test_constant_column_and_single_sample():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20, 3))
    X[:, 2] = 7.0
    y = rng.normal(size=20)
    with pytest.warns(IllConditionedWarning):
        coef, _ = closed_form(X, y)
    assert coef[2] == 0.0
    assert_allclose(coef[:2], _lstsq_min_norm(X[:, :2], y, True)[0], rtol=1e-9)
    with pytest.warns(IllConditionedWarning):
        coef, intercept = closed_form([[1.0, 2.0]], [3.0])
    assert_allclose(coef, 0.0, atol=0)
    assert intercept == 3.0


def test_singular_but_regularised_is_well_posed():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(5, 12))
    y = rng.normal(size=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coef, intercept = closed_form(X, y, alpha=0.1)
    ref_coef, ref_intercept = _sklearn_reference(X, y, 0.1, True, None)
    assert_allclose(coef, ref_coef, rtol=1e-8)
    assert_allclose(intercept, ref_intercept, rtol=1e-8)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_large_mean_columns(sparse, alpha):
    # Columns with mean 1e4 and unit variance: the uncentered Gram cancels 8 digits.
    rng = np.random.default_rng(7)
    n, d = 200, 5
    X = 1e4 + rng.normal(size=(n, d))
    Z = X - 1e4  # exact (Sterbenz), so Z is the data relative to the shift
    w_true = rng.normal(size=d)
    y = Z @ w_true + 3.0 + 0.1 * rng.normal(size=n)
    s = rng.uniform(0.5, 1.5, size=n)
    # Reference on the small-magnitude data: same coef, intercept shifted.
    ref_coef, ref_intercept = _sklearn_reference(Z, y, alpha, True, s)
    ref_intercept -= 1e4 * ref_coef.sum()
    Xin = sp.csr_matrix(X) if sparse else X
    coef, intercept = closed_form(Xin, y, alpha=alpha, sample_weight=s)
    assert_allclose(coef, ref_coef, rtol=1e-9)
    assert_allclose(intercept, ref_intercept, rtol=1e-9)


_X_OK = np.arange(12.0).reshape(6, 2) ** 1.5
_Y_OK = np.arange(6.0)


def _with(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"X": _with(_X_OK, (1, 1), np.nan)}, "NaN"),
        ({"X": _with(_X_OK, (2, 0), np.inf)}, "infinity"),
        ({"y": _with(_Y_OK, 3, np.nan)}, "NaN"),
        ({"y": _with(_Y_OK, 3, -np.inf)}, "infinity"),
        ({"y": _Y_OK[:5]}, "inconsistent numbers of samples"),
        # a 2-D y is several targets (issue 16): see test_multi_output.py
        ({"y": np.zeros((6, 0))}, "n_targets >= 1"),
        ({"y": np.zeros((6, 2, 2))}, "dim 3"),
        ({"X": np.empty((0, 2)), "y": np.empty(0)}, "0 sample"),
        ({"X": np.empty((6, 0))}, "0 feature"),
        ({"alpha": -1e-3}, "alpha"),
        ({"alpha": np.nan}, "alpha"),
        ({"alpha": np.inf}, "alpha"),
        ({"alpha": "1.0"}, "alpha"),
        ({"alpha": None}, "alpha"),
        ({"sample_weight": _with(np.ones(6), 2, -1.0)}, "Negative"),
        ({"sample_weight": _with(np.ones(6), 2, np.nan)}, "NaN"),
        ({"sample_weight": np.ones(5)}, "shape"),
        ({"sample_weight": np.zeros(6)}, "non-zero"),
    ],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_bad_inputs_raise(kwargs, match, sparse):
    args = {"X": _X_OK, "y": _Y_OK, "alpha": 0.0, "sample_weight": None}
    args.update(kwargs)
    if sparse and np.all(np.isfinite(args["X"])):
        args["X"] = sp.csr_matrix(args["X"])
    with pytest.raises(ValueError, match=match):
        closed_form(**args)


def _centered_system(X, y, alpha, fit_intercept):
    if fit_intercept:
        X = X - X.mean(axis=0)
        y = y - y.mean()
    G = X.T @ X + alpha * np.eye(X.shape[1])
    return G, X.T @ y


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@example(
    n=1,
    d=1,
    alpha=6.059800576284747e-145,
    fit_intercept=True,
    duplicate=False,
    sparse=True,
    seed=2,
)
@given(
    n=st.integers(1, 60),
    d=st.integers(1, 8),
    alpha=st.floats(0.0, 10.0),
    fit_intercept=st.booleans(),
    duplicate=st.booleans(),
    sparse=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_normal_equations_residual(n, d, alpha, fit_intercept, duplicate, sparse, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=d)
    if duplicate and d > 1:
        X[:, -1] = X[:, 0]
    if sparse:
        X[rng.uniform(size=X.shape) < 0.3] = 0.0
    y = rng.normal(size=n)
    Xin = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coef, intercept = closed_form(Xin, y, alpha, fit_intercept)
    assert all(w.category is IllConditionedWarning for w in caught), caught
    assert np.all(np.isfinite(coef)) and np.isfinite(intercept)

    G, c = _centered_system(X, y, alpha, fit_intercept)
    diag = np.diag(G)
    if alpha == 0.0 and np.any(diag <= 1e-12 * max(diag.max(), 1.0)):
        cond = np.inf
    elif np.any(diag <= 1e-8 * (np.sum(X * X, axis=0) + alpha)):
        # a column constant after centering, held up only by a tiny alpha: the
        # centering cancelled most digits, so a warning and a plain solve are
        # both right (neither is asserted)
        cond = np.nan
    else:
        scale = 1.0 / np.sqrt(diag)
        cond = np.linalg.cond(G * scale[:, None] * scale[None, :])
    if cond < 1e8:
        assert not caught
        residual = np.linalg.norm(G @ coef - c)
        bound = 1e-11 * (np.linalg.norm(G) * np.linalg.norm(coef) + np.linalg.norm(c))
        assert residual <= bound
        y_mean = y.mean() if fit_intercept else 0.0
        x_mean = X.mean(axis=0) if fit_intercept else np.zeros(d)
        assert_allclose(intercept, y_mean - x_mean @ coef, rtol=1e-9, atol=1e-10)
    elif cond > 1e14:
        assert caught


@pytest.mark.parametrize("value", ["no", "False", None, 0, 1, 1.0, np.array(True)])
def test_fit_intercept_must_be_bool(value):
    # "no" is truthy: it used to fit an intercept; None used to mean False
    X, y, _ = _problem(n=20, d=3)
    with pytest.raises(TypeError, match="fit_intercept must be a bool"):
        closed_form(X, y, fit_intercept=value)


def test_fit_intercept_numpy_bool_accepted():
    X, y, _ = _problem(n=20, d=3)
    for flag in (True, False):
        expected = closed_form(X, y, fit_intercept=flag)
        got = closed_form(X, y, fit_intercept=np.bool_(flag))
        assert_allclose(got[0], expected[0], rtol=0, atol=0)
        assert got[1] == expected[1]


def _corrupt(fmt, attr, fn):
    A = sp.csr_matrix(_problem(n=50, d=3)[0]).asformat(fmt)
    setattr(A, attr, fn(getattr(A, attr).copy()))
    return A


def _set(index, value):
    def fn(a):
        a[index] = value
        return a

    return fn


_MALFORMED = {
    # the audit reproducer: scipy's product read out of bounds (segfault)
    "csr-index-huge": (
        "csr",
        "indices",
        _set(0, 10**8),
        r"range over \[0, 100000000\]",
    ),
    "csr-index-negative": ("csr", "indices", _set(3, -1), "indices range over"),
    "csr-index-n_features": ("csr", "indices", _set(3, 3), r"\[0, 3\) for 3 columns"),
    "csr-indptr-short": ("csr", "indptr", lambda a: a[:-1], "indptr has length 50"),
    "csr-indptr-start": ("csr", "indptr", _set(0, 1), r"indptr\[0\] is 1"),
    "csr-indptr-decreasing": ("csr", "indptr", _set(10, 0), "indptr decreases"),
    "csr-indptr-end": ("csr", "indptr", _set(-1, 149), r"indptr\[-1\] is 149"),
    "csr-data-short": ("csr", "data", lambda a: a[:-1], "data 149"),
    "csr-indices-float": ("csr", "indices", lambda a: a * 1.0, "integer array"),
    # scipy's conversion to CSR wrote out of bounds (segfault) for these
    "csc-index-huge": ("csc", "indices", _set(0, 10**8), r"\[0, 50\) for 50 rows"),
    "coo-row-huge": ("coo", "row", _set(0, 10**8), r"row ranges .* \[0, 50\)"),
    "coo-col-negative": ("coo", "col", _set(0, -5), r"col ranges .* \[0, 3\)"),
    "coo-data-short": ("coo", "data", lambda a: a[:-1], "lengths 150, 150 and 149"),
}


@pytest.mark.parametrize(
    "fmt, attr, fn, match", list(_MALFORMED.values()), ids=list(_MALFORMED)
)
def test_malformed_sparse_raises(fmt, attr, fn, match):
    A = _corrupt(fmt, attr, fn)
    with pytest.raises(ValueError, match=f"The {fmt.upper()} matrix is malformed") as e:
        closed_form(A, np.arange(50.0))
    e.match(match)  # names the malformed part


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("overflow", ["coef", "intercept"])
def test_float32_solution_beyond_range_raises(overflow, sparse):
    X, y, _ = _problem(n=40, d=3, dtype=np.float32)
    if overflow == "coef":
        X = X * np.float32(1e-30)  # coefficients ~1e30 * 1e10, past float32 max
        y = y * 1e10
    else:
        y = y + 1e39  # coefficients fine, the intercept is past float32 max
    Xin = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "overflow encountered in cast" either
        with pytest.raises(ValueError, match="does not fit in float32.*float64"):
            closed_form(Xin, y)
        # the same data in float64 is representable and solved
        coef, intercept = closed_form(Xin.astype(np.float64), y)
    assert np.all(np.isfinite(coef)) and np.isfinite(intercept)


def test_non_finite_float64_solution_raises(monkeypatch):
    cf_module = importlib.import_module("fastsgd.closed_form")
    monkeypatch.setattr(cf_module, "_solve", lambda op, b, alpha: np.full(2, np.inf))
    with pytest.raises(ValueError, match="not finite"):
        closed_form(_X_OK, _Y_OK)
