"""The K-output epochs (``_kernels/_multi.py``) against the NumPy reference.

The reference for K outputs is K independent single-output reference epochs
(tests/_reference.py) over the same visiting order: output k's state after the
epoch is the reference epoch run on ``y[:, k]`` from output k's state.  The
statistics combine as the kernels document: the loss sum and the loss record
are means over the outputs, the gradient norm is the largest output's.
"""

from __future__ import annotations

import itertools

import _reference as R
import numpy as np
import pytest
import scipy.sparse as sp
import test_kernels as TK
from hypothesis import given, settings
from hypothesis import strategies as st

from fastsgd._kernels import _codes as K
from fastsgd._kernels import _select
from fastsgd._kernels._jit import JIT_DISABLED
from fastsgd._training.runner import _iscratch_size

F64, F32 = np.float64, np.float32
DTYPES = (F64, F32)


def make_multi_data(rng, n, d, n_out, dtype, zeros=0.0):
    X = rng.normal(size=(n, d))
    if zeros:
        X[rng.random((n, d)) < zeros] = 0.0
    Y = X @ rng.normal(size=(d, n_out)) + 0.5 * rng.normal(size=(n, n_out))
    Y += rng.normal(size=n_out)
    sw = rng.uniform(0.5, 2.0, size=n)
    return TK.readonly(X.astype(dtype)), TK.readonly(Y.astype(dtype)), sw.astype(dtype)


def make_multi_state(rng, d, n_out, opt_code, dtype, t0=0):
    parts = [TK.make_state(rng, d, opt_code, dtype, t0=t0) for _ in range(n_out)]
    state = {key: np.stack([p[key] for p in parts]) for key in TK.STATE_KEYS}
    state["counters"] = parts[0]["counters"].copy()
    return state  # carry: (K, N_CARRY), each output's own


def run_multi_kernel(X, Y, sw, order, state, hp, codes, *, sparse=False, rec_len=16):
    d = X.shape[1]
    n_out = Y.shape[1]
    s = {k: np.array(state[k], copy=True) for k in TK.STATE_KEYS}
    order = np.array(order, dtype=np.int64)
    size = max(2 * len(order) + 2, _iscratch_size(codes, len(order)))
    iscratch = np.full(size, -1, dtype=np.int64)
    grad = np.zeros((n_out, d + 3), dtype=X.dtype)
    stats = np.zeros(K.N_STATS)
    rec = np.full(rec_len, np.nan)
    data = TK.csr_parts(X) if sparse else (TK.readonly(X),)
    fn = _select.epoch_for(codes, hp, len(order), sparse, outputs=n_out)
    fn(
        *data, TK.readonly(Y), TK.readonly(sw), order, iscratch, s["params"],
        s["opt"], s["avg"], s["q"], grad, s["counters"], s["carry"], hp, codes,
        stats, rec,
    )  # fmt: skip
    s.update(t=int(s["counters"][0]), stats=stats, rec=rec, order=order)
    s["iscratch"] = iscratch
    return s


def run_multi_reference(X, Y, sw, seq, state, hp, codes, rec_len=16):
    outs = [
        R.reference_epoch(
            X,
            Y[:, k],
            sw,
            seq,
            state["params"][k],
            state["opt"][k],
            state["avg"][k],
            state["q"][k],
            state["counters"][0],
            state["carry"][k, 0],
            hp,
            codes,
            rec_len=rec_len,
        )  # fmt: skip
        for k in range(Y.shape[1])
    ]
    stats = outs[0]["stats"].copy()
    stats[K.S_LOSS_SUM] = np.mean([o["stats"][K.S_LOSS_SUM] for o in outs])
    stats[K.S_GRAD_NORM] = max(o["stats"][K.S_GRAD_NORM] for o in outs)
    return {
        "params": np.stack([o["params"] for o in outs]),
        "opt": np.stack([o["opt"] for o in outs]),
        "avg": np.stack([o["avg"] for o in outs]),
        "q": np.stack([o["q"] for o in outs]),
        "t": outs[0]["t"],
        "u": np.array([o["u"] for o in outs]),
        "stats": stats,
        "rec": np.mean([o["rec"] for o in outs], axis=0),
    }


def check_multi(X, Y, sw, order, state, hp, codes, *, sparse=False, context=""):
    got = run_multi_kernel(X, Y, sw, order, state, hp, codes, sparse=sparse)
    got["u"] = got["carry"][:, 0]
    seq = TK.visited(got, order, codes)
    ref = run_multi_reference(X, Y, sw, seq, state, hp, codes)
    TK.compare(got, ref, X.dtype, context)
    return got


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("opt_code", TK.OPTIMIZERS, ids=list(K.OPTIMIZERS))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_multi_epoch_matches_reference_matrix(opt_code, dtype, sparse):
    """optimizer x penalty x loss x batch x clip x averaging, K = 3."""
    rng = np.random.default_rng(200 + opt_code)
    n, d, n_out = 7, 4, 3
    X, Y, sw = make_multi_data(rng, n, d, n_out, dtype, zeros=0.4 if sparse else 0)
    combos = itertools.product(
        TK.PENALTIES, TK.LOSSES, (1, 3, n), (0.0, 0.8), TK.AVERAGES
    )
    for k, (pen, loss, batch, clip, avg) in enumerate(combos):
        t0 = (0, 1, 6)[k % 3]
        kw = dict(
            optimizer=opt_code,
            penalty=pen,
            loss=loss,
            batch=batch,
            average=avg,
            fit_intercept=(k // 2) % 2,
            schedule=TK.MATRIX_SCHEDULES[k % len(TK.MATRIX_SCHEDULES)],
            avg_start=1 + (k % 5),
            record_every=1 + k % 3,
            epoch=k % 4,
        )
        hk = dict(clip=clip, weight_decay=(0.0, 0.3)[k % 2])
        state = make_multi_state(rng, d, n_out, opt_code, dtype, t0=t0)
        check_multi(
            X, Y, sw, np.arange(n), state, TK.make_hp(**hk), TK.make_codes(**kw),
            sparse=sparse, context=TK.describe(**kw, **hk, t0=t0),
        )  # fmt: skip


@settings(TK.HSET, max_examples=80)
@given(
    cfg=TK.configurations(),
    dtype=st.sampled_from(DTYPES),
    n_out=st.integers(2, 5),
    sparse=st.booleans(),
    sampling=st.sampled_from(
        (K.SAMPLE_INORDER, K.SAMPLE_SHUFFLE, K.SAMPLE_REPLACEMENT, K.SAMPLE_STREAMS)
    ),
)
def test_multi_epoch_matches_reference_random(cfg, dtype, n_out, sparse, sampling):
    n, d, kw, hk, t0, seed = cfg
    rng = np.random.default_rng(seed)
    X, Y, sw = make_multi_data(rng, n, d, n_out, dtype, zeros=0.3 if sparse else 0)
    state = make_multi_state(rng, d, n_out, kw["optimizer"], dtype, t0=t0)
    kw = dict(kw, sampling=sampling, seed=seed % 1000, block=2, streams=2)
    check_multi(
        X, Y, sw, np.arange(n), state, TK.make_hp(**hk), TK.make_codes(**kw),
        sparse=sparse, context=TK.describe(**kw, **hk, t0=t0, n=n, d=d, K=n_out),
    )  # fmt: skip


@pytest.mark.parametrize("sched", [K.LR_PA1, K.LR_PA2], ids=["pa1", "pa2"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_multi_passive_aggressive(sched, sparse, dtype):
    rng = np.random.default_rng(5)
    n, d, n_out = 9, 3, 2
    X, Y, sw = make_multi_data(rng, n, d, n_out, dtype, zeros=0.3 if sparse else 0)
    kw = dict(schedule=sched, loss=K.LOSS_EPS_INSENSITIVE, penalty=K.PEN_L2)
    state = make_multi_state(rng, d, n_out, K.OPT_SGD, dtype)
    check_multi(
        X, Y, sw, np.arange(n), state, TK.make_hp(eta0=0.5), TK.make_codes(**kw),
        sparse=sparse,
    )  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_plain_kernel_is_chosen_and_matches(dtype):
    """The default configuration runs the fused plain kernel (one pass a row)."""
    rng = np.random.default_rng(3)
    n, d, n_out = 30, 5, 4
    X, Y, sw = make_multi_data(rng, n, d, n_out, dtype)
    codes = TK.make_codes(schedule=K.LR_INVSCALING, penalty=K.PEN_L2)
    hp = TK.make_hp(weight_decay=0.01)
    assert _select.family(codes, hp, n, False, outputs=n_out) == "multi_plain"
    for loss in TK.LOSSES:
        codes = TK.make_codes(
            schedule=K.LR_INVSCALING, penalty=K.PEN_L2, loss=loss, record_every=4
        )
        state = make_multi_state(rng, d, n_out, K.OPT_SGD, dtype, t0=3)
        check_multi(X, Y, sw, np.arange(n), state, hp, codes)


def test_multi_families():
    codes = TK.make_codes(optimizer=K.OPT_ADAM)
    hp = TK.make_hp()
    assert _select.family(codes, hp, 10, False, outputs=2) == "multi_example"
    assert _select.family(codes, hp, 10, True, outputs=2) == "multi_csr"
    codes = TK.make_codes(batch=4)
    assert _select.family(codes, hp, 10, False, 4, outputs=3) == "multi_batch"
    assert _select.family(codes, hp, 10, False, 4, outputs=1) == "parallel"


def test_multi_check_stops_at_a_bad_row():
    rng = np.random.default_rng(0)
    n, d = 6, 3
    X, Y, sw = make_multi_data(rng, n, d, 2, F64)
    X = np.array(X)
    X[4, 1] = np.nan
    state = make_multi_state(rng, d, 2, K.OPT_SGD, F64)
    for batch in (1, 2):
        for sparse in (False, True):
            codes = TK.make_codes(check=1, batch=batch)
            got = run_multi_kernel(
                X, Y, sw, np.arange(n), state, TK.make_hp(), codes, sparse=sparse
            )
            assert got["stats"][K.S_BAD_ROW] == 4


# ------------------------------------------------- learning_rate="auto", K outputs
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize(
    "sparse, batch, average",
    [
        (False, 1, 0),
        (False, 4, K.AVG_POLYAK),
        (True, 1, 0),
        (True, 4, 0),
        (True, 1, K.AVG_POLYAK),
    ],  # fmt: skip
    ids=["dense", "dense-batch-avg", "csr-lazy", "csr-batch", "csr-avg"],
)
@pytest.mark.parametrize("penalty", [K.PEN_NONE, K.PEN_ELASTICNET])
def test_multi_auto_epoch_is_each_outputs_single_epoch(
    sparse, batch, average, penalty, dtype
):
    """Output k's state after a K-output "auto" epoch: the single-target epoch's."""
    import test_auto_kernels as TA

    rng = np.random.default_rng(11)
    n, d, n_out = 24, 5, 3
    X, Y, sw = make_multi_data(rng, n, d, n_out, dtype, zeros=0.4 if sparse else 0.0)
    X = TK.readonly(np.asarray(X) * np.array([1e-2, 1.0, 10.0, 1e3, 3.0], dtype))
    kw = dict(batch=batch, average=average, avg_start=2, penalty=penalty,
              sampling=K.SAMPLE_SHUFFLE, seed=5, record_every=2)  # fmt: skip
    codes = TA.auto_codes(**kw)
    hp = TA.auto_hp(alpha=0.05, l1_ratio=0.3, weight_decay=0.01)
    single = _select.family(codes, hp, n, sparse)
    assert _select.family(codes, hp, n, sparse, outputs=n_out) == f"multi_{single}"
    parts = [TA.auto_state(rng, d, dtype, resumed=True) for _ in range(n_out)]
    # the means, scales and W, S depend on X alone: the same in every output
    for p in parts[1:]:
        recs, first = p["opt"].reshape(d + 1, 4), parts[0]["opt"].reshape(d + 1, 4)
        recs[:, 1:] = first[:, 1:]
        p["carry"][:] = parts[0]["carry"]
        p["counters"][:] = parts[0]["counters"]
    state = {k: np.stack([p[k] for p in parts]) for k in TA.AUTO_KEYS}
    order = np.arange(n, dtype=np.int64)
    iscratch = np.full(2 * n + 2 * max(1, codes[K.C_STREAMS]) + 2, -1)
    rows = _select.scratch_rows(f"multi_{single}")
    grad = np.full((n_out, rows, d + 1), np.nan, dtype=dtype)  # contents don't matter
    s = {k: np.array(v, copy=True) for k, v in state.items()}
    stats = np.zeros(K.N_STATS)
    rec = np.full(16, np.nan)
    data = TK.csr_parts(X) if sparse else (TK.readonly(X),)
    _select.epoch_for(codes, hp, n, sparse, outputs=n_out)(
        *data, TK.readonly(Y), TK.readonly(sw), order, iscratch, s["params"],
        s["opt"], s["avg"], np.zeros((n_out, d), dtype), grad, s["counters"][0],
        s["carry"], hp, codes, stats, rec,
    )  # fmt: skip
    # the same operations per output, up to the compiler's choice of fused
    # multiply-adds in each kernel (float32: roundings apart, carried on)
    rtol, atol = (1e-12, 0.0) if dtype == F64 else (1e-5, 1e-7)
    losses = []
    for k in range(n_out):
        one = TA.run(single, X, Y[:, k].copy(), sw, np.arange(n), parts[k], hp, codes,
                     sparse)  # fmt: skip
        np.testing.assert_array_equal(one["order"], order)  # the same visiting order
        for key in ("params", "opt", "avg", "carry"):
            np.testing.assert_allclose(
                s[key][k], one[key], rtol=rtol, atol=atol, err_msg=f"{key}, output {k}"
            )
        assert s["counters"][0][0] == one["t"]
        losses.append(one)
    # the loss sum and the loss record: means over the outputs
    mean = np.mean([o["stats"][K.S_LOSS_SUM] for o in losses])
    assert stats[K.S_LOSS_SUM] == pytest.approx(mean, rel=rtol)
    for key in (K.S_STEPS, K.S_ETA_SUM, K.S_ETA_LAST, K.S_WEIGHT_SUM, K.S_NREC):
        assert stats[key] == pytest.approx(losses[0]["stats"][key], rel=1e-12)
    np.testing.assert_allclose(
        rec, np.mean([o["rec"] for o in losses], axis=0), rtol=rtol, equal_nan=True
    )


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch", [1, 4])
def test_multi_auto_check_stops_at_a_bad_row(sparse, batch):
    import test_auto_kernels as TA

    rng = np.random.default_rng(0)
    n, d, n_out = 8, 3, 2
    X, Y, sw = make_multi_data(rng, n, d, n_out, F64)
    X = np.array(X)
    X[5, 1] = np.nan
    codes = TA.auto_codes(batch=batch, check=1)
    hp = TA.auto_hp()
    state = {
        k: np.stack([p[k] for p in [TA.auto_state(rng, d, F64)] * n_out])
        for k in TA.AUTO_KEYS
    }
    rows = _select.scratch_rows("multi_auto")
    stats = np.zeros(K.N_STATS)
    data = TK.csr_parts(TK.readonly(X)) if sparse else (TK.readonly(X),)
    _select.epoch_for(codes, hp, n, sparse, outputs=n_out)(
        *data, TK.readonly(Y), TK.readonly(sw), np.arange(n), np.zeros(4 * n, np.int64),
        state["params"], state["opt"], state["avg"], np.zeros((n_out, d)),
        np.zeros((n_out, rows, d + 1)), state["counters"][0], state["carry"], hp,
        codes, stats, np.zeros(4),
    )  # fmt: skip
    assert stats[K.S_BAD_ROW] == 5
    assert state["counters"][0][0] == 5 // batch  # the step holding it not taken


def run_multi_auto_csr(X, Y, sw, codes, hp, state):
    n, d = X.shape
    n_out = Y.shape[1]
    rows = _select.scratch_rows("multi_auto_csr")
    s = {k: np.array(v, copy=True) for k, v in state.items()}
    stats = np.zeros(K.N_STATS)
    rec = np.full(64, np.nan)
    iscratch = np.full(2 * n + 2 * max(1, codes[K.C_STREAMS]) + 2, -1)
    _select.epoch_for(codes, hp, n, True, outputs=n_out)(
        *TK.csr_parts(X), TK.readonly(Y), TK.readonly(sw), np.arange(n), iscratch,
        s["params"], s["opt"], s["avg"], np.zeros((n_out, d)),
        np.zeros((n_out, rows, d + 1)), s["counters"][0], s["carry"], hp, codes,
        stats, rec,
    )  # fmt: skip
    return s, stats, rec


@pytest.mark.parametrize("bad", [None, 11])
def test_multi_auto_csr_blocks_are_the_single_epochs(monkeypatch, bad):
    """The per-example CSR epoch steps each output over blocks of rows in turn.

    With blocks of 5 rows (the module's block size is read at call time only
    without the JIT; compiled, this is one block) the K models, the loss
    record and a bad row's position are still those of K single epochs.
    """
    import test_auto_kernels as TA

    from fastsgd._kernels import _multi_auto

    monkeypatch.setattr(_multi_auto, "MULTI_AUTO_BLOCK", 5)
    rng = np.random.default_rng(2)
    n, d, n_out = 23, 4, 2
    X, Y, sw = make_multi_data(rng, n, d, n_out, F64, zeros=0.4)
    if bad is not None:
        X = np.array(X)
        X[bad, np.flatnonzero(X[bad])[0]] = np.nan
    codes = TA.auto_codes(penalty=K.PEN_L2, sampling=K.SAMPLE_SHUFFLE, seed=1,
                          record_every=3, check=int(bad is not None))  # fmt: skip
    hp = TA.auto_hp(alpha=0.05)
    parts = [TA.auto_state(rng, d, F64) for _ in range(n_out)]
    state = {k: np.stack([p[k] for p in parts]) for k in TA.AUTO_KEYS}
    s, stats, rec = run_multi_auto_csr(TK.readonly(X), Y, sw, codes, hp, state)
    ones = [
        TA.run(
            "auto_csr",
            TK.readonly(X),
            Y[:, k].copy(),
            sw,
            np.arange(n),
            parts[k],
            hp,
            codes,
            True,
            rec_len=64,
        )  # fmt: skip
        for k in range(n_out)
    ]
    for k, one in enumerate(ones):
        np.testing.assert_allclose(s["params"][k], one["params"], rtol=1e-12)
        np.testing.assert_allclose(s["opt"][k], one["opt"], rtol=1e-12)
    assert stats[K.S_BAD_ROW] == ones[0]["stats"][K.S_BAD_ROW]
    assert s["counters"][0][0] == ones[0]["t"]
    np.testing.assert_allclose(
        rec, np.mean([o["rec"] for o in ones], axis=0), rtol=1e-12, equal_nan=True
    )


@pytest.mark.skipif(JIT_DISABLED, reason="70 000 rows: compiled code only")
def test_multi_auto_csr_compiled_blocks_are_the_single_epochs():
    """Three compiled blocks (32 768 rows each), a bad row in the last one."""
    import test_auto_kernels as TA

    rng = np.random.default_rng(3)
    n, d, n_out = 70_000, 6, 2
    X = sp.random(n, d, density=0.5, format="csr", random_state=3)
    X.data[X.indptr[69_001]] = np.nan
    Y = TK.readonly(np.asarray(X.toarray() @ rng.normal(size=(d, n_out))))
    Y = np.nan_to_num(Y)
    sw = TK.readonly(np.ones(n))
    for check in (0, 1):
        codes = TA.auto_codes(sampling=K.SAMPLE_STREAMS, block=32, streams=16,
                              seed=4, check=check)  # fmt: skip
        hp = TA.auto_hp()
        parts = [TA.auto_state(rng, d, F64) for _ in range(n_out)]
        state = {k: np.stack([p[k] for p in parts]) for k in TA.AUTO_KEYS}
        s, stats, _ = run_multi_auto_csr(X, Y, sw, codes, hp, state)
        for k in range(n_out):
            one = TA.run("auto_csr", X, Y[:, k].copy(), sw, np.arange(n), parts[k],
                         hp, codes, True)  # fmt: skip
            assert stats[K.S_BAD_ROW] == one["stats"][K.S_BAD_ROW]
            assert s["counters"][0][0] == one["t"]
            np.testing.assert_allclose(s["params"][k], one["params"], rtol=1e-12)
