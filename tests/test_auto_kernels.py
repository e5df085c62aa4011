"""learning_rate="auto" and the O(nnz) AdaGrad/RMSProp CSR epoch vs references.

The kernels (``_auto``, ``_csr_adaptive``) against the slow NumPy rules in
``_reference.py`` step by step (float64 rtol 1e-10, float32 1e-4), dense and
CSR, per example and by mini-batches, fresh and resumed (partial_fit) state;
then the properties the rule is for: scale and offset invariance, constant
columns, steps that never overshoot, and the lazy CSR epochs equal to their
every-coordinate twins.
"""

from __future__ import annotations

import itertools

import _reference as R
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kernels import (
    DTYPES,
    F32,
    F64,
    HSET,
    LOSSES,
    PENALTIES,
    csr_parts,
    make_codes,
    make_data,
    make_hp,
    readonly,
    tolerances,
    visited,
)

from fastsgd._kernels import _codes as K
from fastsgd._kernels import _select

AUTO_KEYS = ("params", "opt", "avg", "counters", "carry")


def auto_state(rng, d, dtype, resumed=False, slots=K.AUTO_SLOTS):
    """A fresh auto state, or one resumed from a plausible earlier run."""
    params = rng.normal(0.0, 0.5, d + 1) if resumed else np.zeros(d + 1)
    opt = np.zeros((slots, d + 1))
    carry = np.zeros(K.N_CARRY)
    if resumed and slots == K.AUTO_SLOTS:
        recs = opt.reshape(d + 1, 4)
        recs[:, 1] = rng.integers(1, 20, d + 1)  # n
        recs[:, 0] = recs[:, 1] * rng.uniform(0.05, 2.0, d + 1)  # P
        recs[:, 2] = rng.normal(0.0, 0.3, d + 1)  # mu
        recs[:, 3] = rng.uniform(0.5, 3.0, d + 1)  # s
        recs[d, 2:] = 0.0
        carry[K.K_AUTO_W] = 20.0
        carry[K.K_AUTO_S] = 20.0 * rng.uniform(1.0, d + 1.0)
    elif resumed:
        opt[0] = rng.uniform(0.0, 0.5, d + 1)
    return {
        "params": params.astype(dtype),
        "opt": opt.astype(dtype),
        "avg": np.zeros(d + 1, dtype=dtype),
        "counters": np.array([7 if resumed else 0], dtype=np.int64),
        "carry": carry,
    }


def run(key, X, y, sw, order, state, hp, codes, sparse, rec_len=16):
    """Call the kernel of ``key`` on copies, as the estimator would."""
    d = X.shape[1]
    s = {k: np.array(state[k], copy=True) for k in AUTO_KEYS}
    order = np.array(order, dtype=np.int64)
    iscratch = np.full(2 * len(order) + 2 * max(1, codes[K.C_STREAMS]) + 2, -1)
    rows = max(1, _select.scratch_rows(key))
    grad = np.full((rows, d + 1), np.nan, dtype=X.dtype)  # contents must not matter
    stats = np.zeros(K.N_STATS)
    rec = np.full(rec_len, np.nan)
    data = csr_parts(X) if sparse else (readonly(X),)
    fn = _select.epoch_kernel(key)
    fn(
        *data, readonly(y), readonly(sw), order, iscratch, s["params"], s["opt"],
        s["avg"], np.zeros(d, X.dtype), grad, s["counters"], s["carry"], hp,
        codes, stats, rec,
    )  # fmt: skip
    s.update(t=int(s["counters"][0]), stats=stats, rec=rec, order=order)
    s.update(iscratch=iscratch)
    return s


def auto_codes(**kw):
    return make_codes(schedule=K.LR_AUTO, **kw)


def auto_hp(**kw):
    return make_hp(**{"eta0": K.AUTO_ETA0, **kw})


def check(got, ref, dtype, context, keys=("params", "opt", "avg"), rtol=None):
    r, a = tolerances(dtype)
    r = r if rtol is None else rtol
    for key in keys:
        np.testing.assert_allclose(
            np.asarray(got[key], F64), np.asarray(ref[key], F64), rtol=r, atol=a,
            err_msg=f"{key}; {context}",
        )  # fmt: skip
    assert got["t"] == ref["t"], context
    for key in ("stats", "rec"):
        np.testing.assert_allclose(
            got[key], ref[key], rtol=r, atol=a, equal_nan=True,
            err_msg=f"{key}; {context}",
        )  # fmt: skip


def reference(X, y, sw, order, state, hp, codes, sparse, rec_len=16):
    return R.auto_reference_epoch(
        X, y, sw, order, state["params"], state["opt"], state["avg"],
        state["counters"][0], state["carry"], hp, codes, sparse=sparse,
        dtype=X.dtype, rec_len=rec_len,
    )  # fmt: skip


def family(codes, hp, m, sparse):
    return _select.family(codes, hp, m, sparse)


# ------------------------------------------------------------ kernel = reference
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_auto_matches_reference_matrix(sparse, dtype):
    """penalty x loss x batch x intercept x averaging x decay, fresh and resumed."""
    rng = np.random.default_rng(500 + sparse)
    n, d = 9, 4
    X, y, sw = make_data(rng, n, d, dtype, zeros=0.4 if sparse else 0.0)
    combos = itertools.product(
        PENALTIES, LOSSES, (1, 2, n), (0, 1), (0, K.AVG_POLYAK, K.AVG_EMA)
    )
    for k, (pen, loss, batch, fit_b, avg) in enumerate(combos):
        resumed = k % 2 == 1
        kw = dict(
            penalty=pen, loss=loss, batch=batch, fit_intercept=fit_b, average=avg,
            avg_start=1 + k % 4, record_every=k % 3,
        )  # fmt: skip
        hk = dict(weight_decay=(0.0, 0.2)[k % 2], alpha=(0.01, 0.3)[k % 3 == 0])
        codes, hp = auto_codes(**kw), auto_hp(**hk)
        key = family(codes, hp, n, sparse)
        assert key == ("auto_csr" if sparse and batch == 1 and avg == 0
                          else "auto_csr_batch" if sparse else "auto")  # fmt: skip
        state = auto_state(rng, d, dtype, resumed)
        got = run(key, X, y, sw, np.arange(n), state, hp, codes, sparse)
        ref = reference(X, y, sw, np.arange(n), state, hp, codes, sparse)
        check(got, ref, dtype, f"{key} {kw} {hk} resumed={resumed}")
        r, a = tolerances(dtype)
        np.testing.assert_allclose(
            got["carry"], ref["carry"], rtol=r, atol=a, err_msg=f"carry; {key} {kw}"
        )


@settings(HSET, max_examples=80)
@given(
    n=st.integers(1, 30),
    d=st.integers(1, 8),
    batch=st.sampled_from([1, 1, 2, 5, 100]),
    pen=st.sampled_from(PENALTIES),
    fit_b=st.booleans(),
    sparse=st.booleans(),
    zeros=st.sampled_from([0.0, 0.5, 0.9]),
    warmup=st.sampled_from([0.0, 4.0]),
    seed=st.integers(0, 2**20),
    dtype=st.sampled_from(DTYPES),
)
def test_auto_matches_reference_random(
    n, d, batch, pen, fit_b, sparse, zeros, warmup, seed, dtype
):
    rng = np.random.default_rng(seed)
    X, y, sw = make_data(rng, n, d, dtype, zeros=zeros)
    # columns of wildly different scales and offsets (dense)
    scale = 10.0 ** rng.uniform(-3, 4, d)
    offset = 0.0 if sparse else scale * rng.uniform(-50, 50, d)
    X = readonly((np.asarray(X, F64) * scale + offset * (X != 0)).astype(dtype))
    codes = auto_codes(penalty=pen, fit_intercept=int(fit_b), batch=batch,
                       sampling=K.SAMPLE_SHUFFLE, seed=seed)  # fmt: skip
    hp = auto_hp(alpha=0.01, warmup=warmup)
    key = family(codes, hp, n, sparse)
    state = auto_state(rng, d, dtype, resumed=seed % 2 == 1)
    got = run(key, X, y, sw, np.arange(n), state, hp, codes, sparse)
    # the rows in the order the kernel shuffled them
    ref = reference(X, y, sw, got["order"], state, hp, codes, sparse)
    # scaled data: compare relative to the model's prediction scale
    check(got, ref, dtype, f"{key} n={n} d={d} batch={batch}",
          rtol=1e-9 if dtype == F64 else 3e-4)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch", [1, 3])
def test_auto_partial_fit_continues(batch, sparse, dtype):
    """Three calls (partial_fit) equal the reference over the three sequences."""
    rng = np.random.default_rng(510)
    n, d = 10, 5
    X, y, sw = make_data(rng, n, d, dtype, zeros=0.5 if sparse else 0.0)
    codes, hp = auto_codes(batch=batch, penalty=K.PEN_ELASTICNET), auto_hp()
    key = family(codes, hp, n, sparse)
    got = ref = auto_state(rng, d, dtype)
    for order in (np.arange(n), np.arange(n)[::-1], np.arange(0, n, 2)):
        got = run(key, X, y, sw, order, got, hp, codes, sparse)
        ref = reference(X, y, sw, order, ref, hp, codes, sparse)
        ref["counters"] = [ref["t"]]
        check(got, ref, dtype, f"order {order}")
    assert got["t"] == 2 * -(-n // batch) + -(-(n // 2) // batch)


def test_lazy_csr_epoch_equals_every_coordinate_epoch():
    """auto_csr (lazy penalty) = auto_csr_batch with one-row batches."""
    rng = np.random.default_rng(520)
    n, d = 30, 12
    X, y, sw = make_data(rng, n, d, F64, zeros=0.8)
    for pen, lam in itertools.product(PENALTIES, (0.0, 0.3)):
        codes, hp = auto_codes(penalty=pen), auto_hp(alpha=0.05, weight_decay=lam)
        state = auto_state(rng, d, F64, resumed=True)
        lazy = run("auto_csr", X, y, sw, np.arange(n), state, hp, codes, True)
        full = run("auto_csr_batch", X, y, sw, np.arange(n), state, hp, codes, True)
        check(lazy, full, F64, f"pen={pen} lam={lam}", rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("pen", PENALTIES)
def test_auto_csr_epoch_puts_the_weights_and_means_back(pen, dtype):
    """auto_csr keeps w in the records' mu slots while it runs: never after.

    Fewer stored values than columns (the O(nnz) swap) and more (the O(d)
    one), with means in the records from an earlier dense fit; and at a bad
    row, the state equals that of an epoch over the rows before it.
    """
    rng = np.random.default_rng(522)
    d = 40
    codes, hp = auto_codes(penalty=pen), auto_hp(alpha=0.05)
    for n in (3, 60):
        X, y, sw = make_data(rng, n, d, dtype, zeros=0.9)
        assert (np.count_nonzero(X) < d) == (n == 3)
        state = auto_state(rng, d, dtype, resumed=True)
        got = run("auto_csr", X, y, sw, np.arange(n), state, hp, codes, True)
        ref = reference(X, y, sw, np.arange(n), state, hp, codes, True)
        check(got, ref, dtype, f"n={n} pen={pen}")
        mu = state["opt"].reshape(d + 1, 4)[:, K.AUTO_MU]
        np.testing.assert_array_equal(got["opt"].reshape(d + 1, 4)[:, K.AUTO_MU], mu)
    X, y = np.array(X), np.array(y)
    y[37] = np.nan
    bad = run("auto_csr", readonly(X), readonly(y), sw, np.arange(n), state,
              hp, auto_codes(penalty=pen, check=1), True)  # fmt: skip
    assert bad["stats"][K.S_BAD_ROW] == 37
    before = run("auto_csr", readonly(X), readonly(y), sw, np.arange(37),
                 state, hp, codes, True)  # fmt: skip
    for key in ("params", "opt", "carry"):
        np.testing.assert_array_equal(bad[key], before[key], err_msg=key)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(
    "sampling", [K.SAMPLE_SHUFFLE, K.SAMPLE_STREAMS, K.SAMPLE_BLOCKS]
)
def test_auto_visits_rows_through_the_shared_sequence(sampling, batch, sparse):
    """Every sampling mode: the kernel steps through _rows.visit_sequence's rows."""
    rng = np.random.default_rng(515)
    n, d = 37, 4
    X, y, sw = make_data(rng, n, d, F64, zeros=0.5 if sparse else 0.0)
    codes = auto_codes(batch=batch, sampling=sampling, seed=11, block=4, streams=3)
    hp = auto_hp(alpha=0.01)
    key = family(codes, hp, n, sparse)
    state = auto_state(rng, d, F64, resumed=True)
    got = run(key, X, y, sw, np.arange(n), state, hp, codes, sparse)
    seq = visited(got, np.arange(n), codes)
    assert sorted(seq) == list(range(n))
    assert list(seq) != list(range(n))
    ref = reference(X, y, sw, seq, state, hp, codes, sparse)
    check(got, ref, F64, f"{key} sampling={sampling}")


def bad_rows_data(rng, value, sparse):
    n, d = 40, 3
    X, y, sw = make_data(rng, n, d, F64, zeros=0.3 if sparse else 0.0)
    X = np.array(X)
    X[9, 1] = value
    y = np.array(y)
    y[23] = value
    return X, y, sw, [9, 23]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch, average", [(1, 0), (4, 0), (1, K.AVG_POLYAK)])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_auto_check_reports_the_first_visited_bad_row(value, batch, average, sparse):
    """C_CHECK: the epoch stops at the first visited row with NaN/inf (X or y)."""
    rng = np.random.default_rng(516)
    X, y, sw, bad = bad_rows_data(rng, value, sparse)
    n, d = X.shape
    kw = dict(batch=batch, average=average, sampling=K.SAMPLE_SHUFFLE, seed=3)
    hp = auto_hp(alpha=0.01)
    key = family(auto_codes(**kw), hp, n, sparse)
    state = auto_state(rng, d, F64)
    got = run(key, readonly(X), readonly(y), sw, np.arange(n), state, hp,
              auto_codes(check=1, **kw), sparse)  # fmt: skip
    seq = list(got["order"])
    first = min(bad, key=seq.index)
    assert got["stats"][K.S_BAD_ROW] == first
    # the step holding the bad row is not taken
    assert got["t"] == seq.index(first) // batch
    # unchecked: runs through and reports nothing
    got = run(key, readonly(X), readonly(y), sw, np.arange(n), state, hp,
              auto_codes(check=0, **kw), sparse)  # fmt: skip
    assert got["stats"][K.S_BAD_ROW] == -1
    # finite data: checked and unchecked give the same model
    X, y = X.copy(), y.copy()  # readonly() froze them
    X[9, 1], y[23] = 0.5, 0.5
    a = run(key, readonly(X), readonly(y), sw, np.arange(n), state, hp,
            auto_codes(check=1, **kw), sparse)  # fmt: skip
    b = run(key, readonly(X), readonly(y), sw, np.arange(n), state, hp,
            auto_codes(check=0, **kw), sparse)  # fmt: skip
    assert a["stats"][K.S_BAD_ROW] == -1
    np.testing.assert_array_equal(a["params"], b["params"])


@pytest.mark.parametrize("value", [np.nan, -np.inf])
def test_csr_adaptive_check_reports_the_first_visited_bad_row(value):
    rng = np.random.default_rng(517)
    X, y, sw, bad = bad_rows_data(rng, value, True)
    n, d = X.shape
    kw = dict(optimizer=K.OPT_ADAGRAD, penalty=K.PEN_L2, sampling=K.SAMPLE_SHUFFLE)
    state = auto_state(rng, d, F64, resumed=True, slots=1)
    got = run("csr_adaptive", readonly(X), readonly(y), sw, np.arange(n),
              state, make_hp(), make_codes(check=1, seed=4, **kw), True)  # fmt: skip
    seq = list(got["order"])
    first = min(bad, key=seq.index)
    assert got["stats"][K.S_BAD_ROW] == first
    assert got["t"] == state["counters"][0] + seq.index(first)


# ------------------------------------------------------------------ properties
def fit_auto(X, y, epochs, sparse, batch=1, dtype=F64, seed=0, penalty=0, **hk):
    n, d = X.shape
    codes = auto_codes(batch=batch, sampling=K.SAMPLE_SHUFFLE, penalty=penalty)
    hp = auto_hp(**hk)
    key = family(codes, hp, n, sparse)
    state = auto_state(np.random.default_rng(0), d, dtype)
    sw = np.ones(n, dtype=dtype)
    for e in range(epochs):
        codes = auto_codes(
            batch=batch, sampling=K.SAMPLE_SHUFFLE, seed=seed + e, penalty=penalty
        )
        state = run(key, X, y, sw, np.arange(n), state, hp, codes, sparse)
    return state["params"]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch", [1, 8])
def test_auto_is_invariant_to_column_scales_and_offsets(batch, sparse):
    """Columns times 1e-3..1e4 (plus offsets on dense data): same predictions."""
    rng = np.random.default_rng(530)
    n, d = 400, 6
    X, y, _ = make_data(rng, n, d, F64, zeros=0.6 if sparse else 0.0)
    X = np.asarray(X)
    scale = np.array([1e-3, 1e-1, 1.0, 30.0, 1e3, 1e4])
    offset = 0.0 if sparse else np.array([0.0, 5.0, -3.0, 1e3, 2e5, -1e6])
    Xs = X * scale + offset * (X != 0)
    a = fit_auto(readonly(X), y, 3, sparse, batch)
    b = fit_auto(readonly(Xs), y, 3, sparse, batch)
    np.testing.assert_allclose(X @ a[:d] + a[d], Xs @ b[:d] + b[d], rtol=1e-7)
    np.testing.assert_allclose(a[:d], b[:d] * scale, rtol=1e-6)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_auto_constant_and_zero_columns_stay_finite(dtype, sparse):
    rng = np.random.default_rng(540)
    n, d = 200, 4
    X, y, _ = make_data(rng, n, d, F64)
    X = np.array(X)
    X[:, 1] = 0.0  # all zero
    if not sparse:
        X[:, 2] = 12345.678  # constant with an offset
    for batch in (1, 7):
        w = fit_auto(readonly(X.astype(dtype)), y.astype(dtype), 2, sparse, batch,
                     dtype)  # fmt: skip
        assert np.all(np.isfinite(w))
        assert w[1] == 0.0
        if not sparse:
            assert w[2] == 0.0


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_auto_step_never_overshoots_the_target(sparse):
    """One squared-loss step moves the prediction toward y, never past it."""
    rng = np.random.default_rng(550)
    d = 5
    for _ in range(50):
        X = rng.normal(size=(1, d)) * 10.0 ** rng.uniform(-4, 5, d)
        y = rng.normal(size=1) * 10.0 ** rng.uniform(-2, 6)
        state = auto_state(rng, d, F64, resumed=True)
        codes, hp = auto_codes(), auto_hp(eta0=50.0)  # even with a huge eta
        key = "auto_csr" if sparse else "auto"
        got = run(key, readonly(X), y, np.ones(1), [0], state, hp, codes, sparse)
        before = X[0] @ state["params"][:d] + state["params"][d]
        after = X[0] @ got["params"][:d] + got["params"][d]
        assert abs(after - y[0]) <= abs(before - y[0]) * (1 + 1e-9)
        assert np.sign(after - y[0]) * np.sign(before - y[0]) >= 0 or abs(
            after - y[0]
        ) < 1e-9 * max(1.0, abs(y[0]))


def test_auto_penalty_reaches_the_penalized_optimum():
    """L2 in the user's units: the runs end at ridge's objective, not OLS's."""
    rng = np.random.default_rng(560)
    n, d, alpha = 300, 3, 0.05
    X, y, _ = make_data(rng, n, d, F64)
    X = np.asarray(X) * np.array([0.1, 1.0, 10.0])
    A = np.c_[X, np.ones(n)]

    def objective(v):
        return 0.5 * np.mean((A @ v - y) ** 2) + 0.5 * alpha * v[:d] @ v[:d]

    ridge = np.linalg.solve(A.T @ A + np.diag([alpha * n] * d + [0.0]), A.T @ y)
    ols = np.linalg.lstsq(A, y, rcond=None)[0]
    best = objective(ridge)
    assert objective(ols) > best * 1.05  # the penalty matters here
    for sparse, batch in ((False, 1), (False, 16), (True, 1), (True, 16)):
        w = fit_auto(readonly(X), y, 40, sparse, batch, penalty=K.PEN_L2, alpha=alpha)
        assert objective(w) < best * 1.005, (sparse, batch)


# -------------------------------------------------------- sparse AdaGrad/RMSProp
def adaptive_codes(opt_code, **kw):
    return make_codes(optimizer=opt_code, **kw)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("opt_code", [K.OPT_ADAGRAD, K.OPT_RMSPROP],
                         ids=["adagrad", "rmsprop"])  # fmt: skip
def test_csr_adaptive_matches_reference(opt_code, dtype):
    rng = np.random.default_rng(600 + opt_code)
    n, d = 14, 6
    X, y, sw = make_data(rng, n, d, dtype, zeros=0.6)
    for pen, lam, loss, fit_b, sched in itertools.product(
        (K.PEN_NONE, K.PEN_L2), (0.0, 0.2), LOSSES, (0, 1),
        (K.LR_CONSTANT, K.LR_INVSCALING),
    ):  # fmt: skip
        codes = adaptive_codes(opt_code, penalty=pen, loss=loss, fit_intercept=fit_b,
                               schedule=sched, record_every=2)  # fmt: skip
        hp = make_hp(weight_decay=lam, alpha=0.1, rho=0.8)
        assert _select.family(codes, hp, n, True) == "csr_batch"  # opt-in
        key = _select.family(codes, hp, n, True, lazy_adaptive=True)
        assert key == "csr_adaptive"
        state = auto_state(rng, d, dtype, resumed=True, slots=1)
        got = run(key, X, y, sw, np.arange(n), state, hp, codes, True)
        ref = R.csr_adaptive_reference_epoch(
            X, y, sw, np.arange(n), state["params"], state["opt"],
            state["counters"][0], hp, codes,
        )  # fmt: skip
        check(got, ref, dtype, f"pen={pen} lam={lam} loss={loss} fit_b={fit_b}",
              keys=("params", "opt"))  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("opt_code", [K.OPT_ADAGRAD, K.OPT_RMSPROP],
                         ids=["adagrad", "rmsprop"])  # fmt: skip
def test_csr_adaptive_without_penalty_is_the_dense_rule(opt_code, dtype):
    """No L2, no decay: the O(nnz) epoch gives the dense kernel's model."""
    rng = np.random.default_rng(610)
    n, d = 25, 8
    X, y, sw = make_data(rng, n, d, dtype, zeros=0.7)
    codes = adaptive_codes(opt_code, schedule=K.LR_INVSCALING)
    hp = make_hp(rho=0.7)
    state = auto_state(rng, d, dtype, resumed=True, slots=1)
    lazy = run("csr_adaptive", X, y, sw, np.arange(n), state, hp, codes, True)
    dense_key = _select.family(codes, hp, n, False)
    dense = run(dense_key, X, y, sw, np.arange(n), state, hp, codes, False)
    r = 1e-10 if dtype == F64 else 1e-4
    check(lazy, dense, dtype, "lazy vs dense", keys=("params", "opt"), rtol=r)


def test_csr_adaptive_routing():
    hp = make_hp()
    for opt_code, pen, avg, clip, batch, want in [
        (K.OPT_ADAGRAD, K.PEN_L2, 0, 0.0, 1, "csr_adaptive"),
        (K.OPT_RMSPROP, K.PEN_NONE, 0, 0.0, 1, "csr_adaptive"),
        (K.OPT_ADAGRAD, K.PEN_L1, 0, 0.0, 1, "csr_batch"),
        (K.OPT_ADAGRAD, K.PEN_ELASTICNET, 0, 0.0, 1, "csr_batch"),
        (K.OPT_ADAGRAD, K.PEN_NONE, K.AVG_POLYAK, 0.0, 1, "csr_batch"),
        (K.OPT_ADAGRAD, K.PEN_NONE, 0, 1.0, 1, "csr_batch"),
        (K.OPT_ADAGRAD, K.PEN_NONE, 0, 0.0, 4, "csr_batch"),
        (K.OPT_ADAM, K.PEN_NONE, 0, 0.0, 1, "csr_batch"),
    ]:
        codes = adaptive_codes(opt_code, penalty=pen, average=avg, batch=batch)
        key = _select.family(codes, make_hp(clip=clip), 50, True, lazy_adaptive=True)
        assert key == want, (opt_code, pen, avg, clip, batch)
    assert _select.scratch_rows("csr_adaptive") == 2
    assert _select.scratch_rows("auto") == K.AUTO_SCRATCH_ROWS
    assert _select.scratch_rows("csr_batch") == 0
    del hp


def test_reference_penalty_flow_by_hand():
    # pure L2: exp(-r t); pure L1: soft threshold; both: the ODE's solution
    np.testing.assert_allclose(R.penalty_flow([2.0], 0.5, 0.0, 2.0), [2 * np.exp(-1)])
    np.testing.assert_allclose(R.penalty_flow([2.0, -0.5], 0.0, 0.3, 2.0), [1.4, 0.0])
    got = R.penalty_flow([1.0], 1.0, 1.0, 0.1)
    np.testing.assert_allclose(got, [np.exp(-0.1) - (1 - np.exp(-0.1))])
    # composition: two flows of 0.05 = one of 0.1
    half = R.penalty_flow(R.penalty_flow([1.0], 1.0, 1.0, 0.05), 1.0, 1.0, 0.05)
    np.testing.assert_allclose(half, got)
    assert F32  # imported for the dtype ids
