"""The compiled epochs against the slow NumPy reference (tests/_reference.py).

Every kernel rule (loss, schedule, mini-batch gradient, coupled L2, clipping,
optimizer, intercept, averaging, cumulative L1, passive-aggressive, statistics,
loss record, sampling) is compared step by step with formulas written
independently of the kernel code: float64 at rtol 1e-10, float32 at rtol 1e-4.
The kernels are called directly with arrays built here.
"""

from __future__ import annotations

import itertools
import math

import _reference as R
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastsgd._kernels import _codes as K
from fastsgd._kernels import _select
from fastsgd._kernels._jit import JIT_DISABLED
from fastsgd._training import KernelOptions

F64, F32 = np.float64, np.float32
DTYPES = (F64, F32)
OPTIMIZERS = tuple(K.OPTIMIZERS.values())
PENALTIES = (K.PEN_NONE, K.PEN_L2, K.PEN_L1, K.PEN_ELASTICNET)
LOSSES = tuple(K.LOSSES.values())
AVERAGES = (0, K.AVG_POLYAK, K.AVG_EMA)
# every schedule whose gradient is the loss derivative (PA has its own tests)
SCHEDULES = (
    K.LR_CONSTANT,
    K.LR_OPTIMAL,
    K.LR_INVSCALING,
    K.LR_ADAPTIVE,
    K.LR_STEP,
    K.LR_COSINE,
    K.LR_ONECYCLE,
)
# the wide matrices cycle through these (total_steps * pct_start > 1 throughout,
# which the reference OneCycleLR needs)
MATRIX_SCHEDULES = SCHEDULES

STATE_KEYS = ("params", "opt", "avg", "q", "counters", "carry")

HSET = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HP_DEFAULTS = {
    "eta0": 0.05,
    "alpha": 0.02,
    "l1_ratio": 0.4,
    "epsilon": 0.3,
    "power_t": 0.25,
    "optimal_init": 1000.0,  # 1 / (alpha eta0): the optimal rate starts at eta0
    "momentum": 0.9,
    "rho": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "weight_decay": 0.0,
    "clip": 0.0,
    "ema": 0.8,
    "gamma": 0.5,
    "step_epochs": 2.0,
    "total_steps": 30.0,
    "eta_min": 0.002,
    "warmup": 0.0,
    "pct_start": 0.3,
    "div": 25.0,
    "final_div": 1e4,
}
CODE_DEFAULTS = {
    "loss": K.LOSS_SQUARED,
    "penalty": K.PEN_NONE,
    "optimizer": K.OPT_SGD,
    "schedule": K.LR_CONSTANT,
    "sampling": K.SAMPLE_INORDER,
    "average": 0,
    "fit_intercept": 1,
    "batch": 1,
    "record_every": 0,
    "seed": 0,
    "avg_start": 1,
    "epoch": 0,
    "block": 1,
    "streams": 1,
    "check": 0,
}


# --------------------------------------------------------------------- helpers
def make_options(codes=None, hparams=None):
    """The kernels' option arrays, filled by the package's one writer."""
    codes_arr, hp = KernelOptions(
        {**CODE_DEFAULTS, **(codes or {})}, {**HP_DEFAULTS, **(hparams or {})}
    ).arrays()
    codes_arr.setflags(write=False)
    hp.setflags(write=False)
    return codes_arr, hp


def make_hp(**kw):
    return make_options(hparams=kw)[1]


def make_codes(**kw):
    return make_options(codes=kw)[0]


def readonly(a):
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def make_data(rng, n, d, dtype, zeros=0.0):
    """Random regression data; ``zeros``: fraction of exact zeros in X."""
    X = rng.normal(size=(n, d))
    if zeros:
        X[rng.random((n, d)) < zeros] = 0.0
    y = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) + 0.3
    sw = rng.uniform(0.5, 2.0, size=n)
    return (
        readonly(X.astype(dtype)),
        readonly(y.astype(dtype)),
        readonly(sw.astype(dtype)),
    )


def make_state(rng, d, opt_code, dtype, t0=0, avg_zero=False):
    """A state after ``t0`` steps (fresh zeros for the moments when t0 == 0)."""
    slots = K.OPT_SLOTS[opt_code]
    opt = np.zeros((slots, d + 1))
    if t0 > 0:
        if opt_code in (K.OPT_MOMENTUM, K.OPT_NESTEROV):
            opt[0] = rng.normal(0.0, 0.1, d + 1)
        elif opt_code in (K.OPT_ADAGRAD, K.OPT_RMSPROP):
            opt[0] = rng.uniform(0.0, 0.05, d + 1)
        elif opt_code in (K.OPT_ADAM, K.OPT_ADAMW):
            opt[0] = rng.normal(0.0, 0.1, d + 1)
            opt[1] = rng.uniform(0.0, 0.05, d + 1)
    params = rng.normal(0.0, 0.5, d + 1)
    avg = np.zeros(d + 1) if avg_zero else rng.normal(0.0, 0.5, d + 1)
    q = rng.normal(0.0, 0.01, d) if t0 > 0 else np.zeros(d)
    u = rng.uniform(0.0, 0.02) if t0 > 0 else 0.0
    # as every epoch leaves it: the weights caught up on the cumulative L1
    # penalty (the sparse path truncates lazily and relies on it)
    R.truncate_l1(params[:d], q, u)
    return {
        "params": params.astype(dtype),
        "opt": opt.astype(dtype),
        "avg": avg.astype(dtype),
        "q": q.astype(dtype),
        "counters": np.array([t0], dtype=np.int64),
        "carry": np.array([u]),
    }


def grad_scratch(d, dtype, sparse=False):
    """A zero mini-batch scratch (one row: the batch gradient)."""
    return np.zeros((1, d + 1), dtype=dtype)


def epoch_fn(codes, hp, m, sparse):
    """The compiled epoch the estimator would run for these options."""
    return _select.epoch_for(codes, hp, m, sparse)


def csr_parts(X):
    A = sp.csr_matrix(X)
    return (
        readonly(A.data.astype(X.dtype)),
        readonly(A.indices.astype(np.int32)),
        readonly(A.indptr.astype(np.int32)),
    )


def run_kernel(
    X,
    y,
    sw,
    order,
    state,
    hp,
    codes,
    *,
    sparse=False,
    rec_len=16,
    grad=None,
    iscratch=None,
):
    """Call epoch_dense / epoch_csr on copies; return the new state and outputs."""
    d = X.shape[1]
    s = {k: np.array(state[k], copy=True) for k in STATE_KEYS}
    order = np.array(order, dtype=np.int64)
    if iscratch is None:
        iscratch = np.full(2 * len(order) + 2, -1, dtype=np.int64)
    if grad is None:
        grad = grad_scratch(d, X.dtype, sparse)
    stats = np.zeros(K.N_STATS)
    rec = np.full(rec_len, np.nan)
    data = csr_parts(X) if sparse else (readonly(X),)
    fn = epoch_fn(codes, hp, len(order), sparse)
    fn(
        *data,
        readonly(y),
        readonly(sw),
        order,
        iscratch,
        s["params"],
        s["opt"],
        s["avg"],
        s["q"],
        grad,
        s["counters"],
        s["carry"],
        hp,
        codes,
        stats,
        rec,
    )
    s.update(
        t=int(s["counters"][0]),
        u=float(s["carry"][0]),
        stats=stats,
        rec=rec,
        order=order,
        iscratch=iscratch,
        grad=grad,
    )
    return s


def visited(res, order, codes):
    """The rows the kernel visited (readable from its outputs)."""
    m = len(order)
    mode = codes[K.C_SAMPLING]
    if mode == K.SAMPLE_INORDER:
        return np.asarray(order)
    if mode == K.SAMPLE_SHUFFLE:
        return res["order"]
    # replacement, blocks and streams write the sequence to iscratch
    return res["iscratch"][:m]


def run_reference(X, y, sw, seq, state, hp, codes, *, rec_len=16, **kw):
    return R.reference_epoch(
        X,
        y,
        sw,
        seq,
        state["params"],
        state["opt"],
        state["avg"],
        state["q"],
        state["counters"][0],
        state["carry"][0],
        hp,
        codes,
        rec_len=rec_len,
        **kw,
    )


def tolerances(dtype):
    return (1e-10, 1e-12) if dtype == F64 else (1e-4, 2e-5)


def compare(got, ref, dtype, context="", rtol=None, atol=None):
    """Assert a kernel result equals a reference (or another kernel) result."""
    r, a = tolerances(dtype)
    rtol = r if rtol is None else rtol
    atol = a if atol is None else atol
    for key in ("params", "opt", "avg", "q"):
        np.testing.assert_allclose(
            np.asarray(got[key], dtype=F64),
            np.asarray(ref[key], dtype=F64),
            rtol=rtol,
            atol=atol,
            err_msg=f"{key} differs; {context}",
        )
    assert got["t"] == ref["t"], context
    np.testing.assert_allclose(
        got["u"], ref["u"], rtol=rtol, atol=atol, err_msg=f"u; {context}"
    )
    np.testing.assert_allclose(
        got["stats"], ref["stats"], rtol=rtol, atol=atol, err_msg=f"stats; {context}"
    )
    np.testing.assert_allclose(
        got["rec"],
        ref["rec"],
        rtol=rtol,
        atol=atol,
        equal_nan=True,
        err_msg=f"rec; {context}",
    )


def check_against_reference(
    X, y, sw, order, state, hp, codes, *, sparse=False, context="", **refkw
):
    got = run_kernel(X, y, sw, order, state, hp, codes, sparse=sparse)
    ref = run_reference(X, y, sw, visited(got, order, codes), state, hp, codes, **refkw)
    compare(got, ref, X.dtype, context)
    return got, ref


def describe(**kw):
    names = {
        "optimizer": {v: k for k, v in K.OPTIMIZERS.items()},
        "penalty": {v: k for k, v in K.PENALTIES.items()},
        "loss": {v: k for k, v in K.LOSSES.items()},
        "schedule": {v: k for k, v in K.SCHEDULES.items()},
        "average": {0: "none", K.AVG_POLYAK: "polyak", K.AVG_EMA: "ema"},
    }
    return ", ".join(f"{k}={names.get(k, {}).get(v, v)}" for k, v in kw.items())


def is_lazy(codes, hp, m):
    """Whether epoch_csr takes its O(nnz) plain-SGD path."""
    return (
        codes[K.C_BATCH] == 1
        and m > 1
        and codes[K.C_OPTIMIZER] == K.OPT_SGD
        and codes[K.C_AVERAGE] != K.AVG_EMA
        and hp[K.H_CLIP] <= 0.0
    )


# ------------------------------------------------- the wide deterministic matrix
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("opt_code", OPTIMIZERS, ids=list(K.OPTIMIZERS))
def test_epoch_matches_reference_full_matrix(opt_code, dtype):
    """optimizer x penalty x loss x batch x clip x averaging x fit_intercept."""
    rng = np.random.default_rng(100 + opt_code)
    n, d = 7, 4
    X, y, sw = make_data(rng, n, d, dtype)
    order = np.arange(n)
    combos = itertools.product(
        PENALTIES, LOSSES, (1, 3, 4, n), (0.0, 0.8), AVERAGES, (0, 1)
    )
    for k, (pen, loss, batch, clip, avg, fit_b) in enumerate(combos):
        t0 = (0, 1, 6)[k % 3]  # fresh (bias correction at t = 1, 2, 3) or resumed
        sched = MATRIX_SCHEDULES[k % len(MATRIX_SCHEDULES)]
        kw = dict(
            optimizer=opt_code,
            penalty=pen,
            loss=loss,
            batch=batch,
            average=avg,
            fit_intercept=fit_b,
            schedule=sched,
            avg_start=1 + (k % 5),
            record_every=1 + k % 3,
            epoch=k % 4,
        )
        hk = dict(clip=clip, weight_decay=(0.0, 0.3)[k % 2])
        state = make_state(rng, d, opt_code, dtype, t0=t0)
        check_against_reference(
            X,
            y,
            sw,
            order,
            state,
            make_hp(**hk),
            make_codes(**kw),
            context=describe(**kw, **hk, t0=t0),
        )


# ---------------------------------------------- random shapes and configurations
@st.composite
def configurations(draw, optimizers=OPTIMIZERS, schedules=MATRIX_SCHEDULES):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 12))
    batch = draw(st.one_of(st.just(1), st.just(3), st.just(n), st.integers(1, n + 2)))
    codes = dict(
        optimizer=draw(st.sampled_from(optimizers)),
        penalty=draw(st.sampled_from(PENALTIES)),
        loss=draw(st.sampled_from(LOSSES)),
        schedule=draw(st.sampled_from(schedules)),
        average=draw(st.sampled_from(AVERAGES)),
        fit_intercept=draw(st.sampled_from((0, 1))),
        batch=batch,
        record_every=draw(st.integers(0, 4)),
        avg_start=draw(st.integers(1, 12)),
        epoch=draw(st.integers(0, 5)),
    )
    hp = dict(
        eta0=draw(st.sampled_from((0.001, 0.02, 0.1))),
        alpha=draw(st.sampled_from((1e-4, 0.01, 0.1))),
        l1_ratio=draw(st.sampled_from((0.15, 0.5, 0.9))),
        epsilon=draw(st.sampled_from((0.0, 0.1, 1.0))),
        clip=draw(st.sampled_from((0.0, 0.0, 0.3, 3.0))),
        weight_decay=draw(st.sampled_from((0.0, 0.0, 0.05))),
        momentum=draw(st.sampled_from((0.0, 0.5, 0.9))),
        rho=draw(st.sampled_from((0.5, 0.9, 0.99))),
        beta1=draw(st.sampled_from((0.0, 0.9))),
        beta2=draw(st.sampled_from((0.9, 0.999))),
        ema=draw(st.sampled_from((0.5, 0.9))),
        warmup=draw(st.sampled_from((0.0, 0.0, 5.0, 30.0))),
        total_steps=draw(st.sampled_from((10.0, 50.0))),
    )
    hp["optimal_init"] = 1.0 / (hp["alpha"] * hp["eta0"])
    t0 = draw(st.sampled_from((0, 0, 1, 2, 17)))
    seed = draw(st.integers(0, 2**32 - 1))
    return n, d, codes, hp, t0, seed


@settings(HSET, max_examples=150)
@given(cfg=configurations(), dtype=st.sampled_from(DTYPES))
def test_epoch_matches_reference_random(cfg, dtype):
    n, d, kw, hk, t0, seed = cfg
    rng = np.random.default_rng(seed)
    X, y, sw = make_data(rng, n, d, dtype)
    state = make_state(rng, d, kw["optimizer"], dtype, t0=t0)
    check_against_reference(
        X,
        y,
        sw,
        np.arange(n),
        state,
        make_hp(**hk),
        make_codes(**kw),
        context=describe(**kw, **hk, t0=t0, n=n, d=d),
    )


@pytest.mark.parametrize("opt_code", OPTIMIZERS, ids=list(K.OPTIMIZERS))
@pytest.mark.parametrize("steps", [1, 2, 3])
def test_first_steps_bias_correction(opt_code, steps):
    """After 1, 2 and 3 steps of a fresh state (Adam's bias correction matters)."""
    rng = np.random.default_rng(7)
    X, y, sw = make_data(rng, 6, 3, F64)
    for batch, clip, pen in itertools.product((1, 2), (0.0, 0.5), PENALTIES):
        codes = make_codes(
            optimizer=opt_code, batch=batch, penalty=pen, average=K.AVG_POLYAK
        )
        hp = make_hp(clip=clip, beta1=0.8, beta2=0.95, eta0=0.1)
        state = make_state(rng, 3, opt_code, F64, t0=0)
        order = np.arange(steps * batch)
        check_against_reference(
            X, y, sw, order, state, hp, codes, context=f"steps={steps} batch={batch}"
        )


def test_consecutive_calls_continue_counters():
    """Two calls (like partial_fit) equal the reference run over both sequences."""
    rng = np.random.default_rng(3)
    n, d = 9, 5
    X, y, sw = make_data(rng, n, d, F64)
    for opt_code, pen, avg in itertools.product(OPTIMIZERS, PENALTIES, AVERAGES):
        codes = make_codes(
            optimizer=opt_code,
            penalty=pen,
            average=avg,
            batch=2,
            avg_start=4,
            schedule=K.LR_INVSCALING,
        )
        hp = make_hp()
        state = make_state(rng, d, opt_code, F64, t0=0)
        first = run_kernel(X, y, sw, np.arange(n), state, hp, codes)
        second = run_kernel(X, y, sw, np.arange(n)[::-1], first, hp, codes)
        ref1 = run_reference(X, y, sw, np.arange(n), state, hp, codes)
        state2 = {
            "params": ref1["params"],
            "opt": ref1["opt"],
            "avg": ref1["avg"],
            "q": ref1["q"],
            "counters": [ref1["t"]],
            "carry": [ref1["u"]],
        }
        ref2 = run_reference(X, y, sw, np.arange(n)[::-1], state2, hp, codes)
        compare(
            second, ref2, F64, describe(optimizer=opt_code, penalty=pen, average=avg)
        )
        assert second["t"] == 10  # ceil(9 / 2) steps per call


# --------------------------------------------------------------------- schedules
def per_step_eta(sched, hp, steps, epoch=0):
    """The kernel's learning rate of steps 1..steps, one single-row call per step."""
    rng = np.random.default_rng(0)
    X, y, sw = make_data(rng, 1, 2, F64)
    state = make_state(rng, 2, K.OPT_SGD, F64)
    codes = make_codes(schedule=sched, epoch=epoch)
    etas = []
    for _ in range(steps):
        state = run_kernel(X, y, sw, [0], state, hp, codes)
        etas.append(state["stats"][K.S_ETA_LAST])
    return np.array(etas)


@pytest.mark.parametrize("warmup", [0.0, 4.0], ids=["nowarm", "warm4"])
@pytest.mark.parametrize(
    "sched", SCHEDULES + (K.LR_PA1, K.LR_PA2), ids=list(K.SCHEDULES)[:9]
)
def test_schedule_per_step(sched, warmup):
    hp = make_hp(warmup=warmup, total_steps=20.0, pct_start=0.3, eta_min=0.001)
    steps = 24
    for epoch in (0, 1, 2, 5):
        got = per_step_eta(sched, hp, steps, epoch=epoch)
        want = [R.learning_rate(sched, t, epoch, hp) for t in range(1, steps + 1)]
        np.testing.assert_allclose(
            got,
            want,
            rtol=1e-12,
            atol=0,
            err_msg=f"schedule {describe(schedule=sched)} warmup={warmup} "
            f"epoch={epoch}",
        )


def test_onecycle_matches_torch_phases():
    """OneCycleLR (torch, cos, two phases): initial, peak and floor steps.

    total_steps=10, pct_start=0.3: torch's phase 1 ends at step_num
    0.3 * 10 - 1 = 2, so steps t = 1, 2, 3 get eta0 / div, the midpoint, eta0,
    and the last step t = 10 gets the floor eta0 / div / final_div.
    """
    eta0, div, fdiv = 1.0, 25.0, 1e4
    hp = make_hp(eta0=eta0, total_steps=10.0, pct_start=0.3, div=div, final_div=fdiv)
    got = per_step_eta(K.LR_ONECYCLE, hp, 10)
    start = eta0 / div
    assert got[0] == pytest.approx(start, rel=1e-12)
    assert got[1] == pytest.approx((start + eta0) / 2, rel=1e-12)
    assert got[2] == pytest.approx(eta0, rel=1e-12)
    assert got[9] == pytest.approx(start / fdiv, rel=1e-9)


@pytest.mark.parametrize("sched", SCHEDULES, ids=list(K.SCHEDULES)[:7])
@pytest.mark.parametrize("warmup", [0.0, 5.0])
def test_schedule_inside_epoch_matches_reference(sched, warmup):
    """Whole epochs under each schedule (mixed batch sizes, every optimizer)."""
    rng = np.random.default_rng(11)
    n, d = 13, 3
    X, y, sw = make_data(rng, n, d, F64)
    hp = make_hp(warmup=warmup, total_steps=12.0, pct_start=0.4)
    for opt_code, batch in itertools.product(OPTIMIZERS, (1, 4)):
        state = make_state(rng, d, opt_code, F64, t0=0)
        for epoch in range(3):  # the step schedule changes between epochs
            codes = make_codes(
                schedule=sched,
                optimizer=opt_code,
                batch=batch,
                epoch=epoch,
                penalty=K.PEN_ELASTICNET,
            )
            got, ref = check_against_reference(
                X,
                y,
                sw,
                np.arange(n),
                state,
                hp,
                codes,
                context=describe(
                    schedule=sched,
                    optimizer=opt_code,
                    batch=batch,
                    epoch=epoch,
                    warmup=warmup,
                ),
            )
            state = {
                k: got[k] for k in ("params", "opt", "avg", "q", "counters", "carry")
            }


# ------------------------------------------------------------------ equivalences
@pytest.mark.parametrize("nest", [K.OPT_MOMENTUM, K.OPT_NESTEROV])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_momentum_zero_equals_sgd(nest, dtype):
    rng = np.random.default_rng(5)
    n, d = 11, 4
    X, y, sw = make_data(rng, n, d, dtype)
    for pen, loss, batch, clip, avg, lam in itertools.product(
        PENALTIES, LOSSES, (1, 3, n), (0.0, 0.5), AVERAGES, (0.0, 0.2)
    ):
        # shrink 1 - eta (a2 + lam) stays positive: no clamp at 0
        hp = make_hp(momentum=0.0, clip=clip, weight_decay=lam, eta0=0.05)
        state = make_state(rng, d, K.OPT_SGD, dtype, t0=3)
        kw = dict(
            penalty=pen,
            loss=loss,
            batch=batch,
            average=avg,
            avg_start=2,
            record_every=2,
        )
        a = run_kernel(X, y, sw, np.arange(n), state, hp, make_codes(**kw))
        state_m = dict(state, opt=np.zeros((1, d + 1), dtype=dtype))
        b = run_kernel(
            X, y, sw, np.arange(n), state_m, hp, make_codes(optimizer=nest, **kw)
        )
        b["opt"] = a["opt"]
        compare(b, a, dtype, describe(**kw, clip=clip, lam=lam))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_sgd_shrink_is_floored_at_zero(sparse):
    """eta (a2 + lam) > 1: plain SGD zeroes the weights instead of flipping them.

    The other optimizers keep the torch form w (1 - eta lam) - eta g, unfloored.
    """
    rng = np.random.default_rng(10)
    n, d = 7, 3
    X, y, sw = make_data(rng, n, d, F64)
    for opt_code, pen, lam, batch, avg in itertools.product(
        (K.OPT_SGD, K.OPT_MOMENTUM),
        (K.PEN_NONE, K.PEN_L2, K.PEN_ELASTICNET),
        (0.0, 3.0),
        (1, 3, n),
        AVERAGES,
    ):
        hp = make_hp(eta0=0.5, alpha=4.0, l1_ratio=0.1, weight_decay=lam)
        codes = make_codes(
            optimizer=opt_code, penalty=pen, batch=batch, average=avg, avg_start=2
        )
        state = make_state(rng, d, opt_code, F64, t0=2, avg_zero=True)
        check_against_reference(
            X,
            y,
            sw,
            np.arange(n),
            state,
            hp,
            codes,
            sparse=sparse,
            context=describe(
                optimizer=opt_code, penalty=pen, lam=lam, batch=batch, average=avg
            ),
        )


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_loss_derivative_is_clipped_on_every_path(dtype, sparse):
    """Residuals past 1e12 step as if they were 1e12 (scikit-learn's MAX_DLOSS).

    The plain per-example squared loss computes its derivative inline; it
    must clip like the other losses and paths do.
    """
    rng = np.random.default_rng(12)
    n, d = 9, 4
    X, _, sw = make_data(rng, n, d, dtype)
    y = (np.where(np.arange(n) % 2 == 0, 1.0, -1.0) * 1e14).astype(dtype)
    hp = make_hp(eta0=1e-3)
    for loss, batch, avg, pen in itertools.product(
        (K.LOSS_SQUARED, K.LOSS_SQ_EPS_INSENSITIVE), (1, 3), AVERAGES, PENALTIES
    ):
        codes = make_codes(loss=loss, batch=batch, average=avg, penalty=pen)
        state = make_state(rng, d, K.OPT_SGD, dtype)
        got = run_kernel(X, y, sw, np.arange(n), state, hp, codes, sparse=sparse)
        ref = run_reference(X, y, sw, np.arange(n), state, hp, codes)
        # values near 1e9: absolute tolerances scale with them
        scale = np.max(np.abs(ref["params"]))
        rtol = tolerances(dtype)[0]
        context = describe(loss=loss, batch=batch, average=avg, penalty=pen)
        compare(got, ref, dtype, context, atol=rtol * scale)
        # each step moves the intercept by at most eta0 * 1e12 (unclipped: 1e11)
        assert abs(got["params"][d] - state["params"][d]) <= 1e-3 * 1e12 * n


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_adam_beta1_zero_is_bias_corrected_rmsprop(dtype):
    rng = np.random.default_rng(6)
    n, d = 10, 3
    X, y, sw = make_data(rng, n, d, dtype)
    for pen, batch, clip, lam, t0 in itertools.product(
        PENALTIES, (1, 3, n), (0.0, 0.5), (0.0, 0.1), (0, 4)
    ):
        hp = make_hp(beta1=0.0, beta2=0.9, clip=clip, weight_decay=lam)
        codes = make_codes(optimizer=K.OPT_ADAM, penalty=pen, batch=batch)
        state = make_state(rng, d, K.OPT_ADAM, dtype, t0=t0)
        got = run_kernel(X, y, sw, np.arange(n), state, hp, codes)
        ref_state = dict(state, opt=state["opt"][1:])  # only the second moment
        ref = run_reference(
            X,
            y,
            sw,
            np.arange(n),
            ref_state,
            hp,
            codes,
            optimizer=R.OPT_RMSPROP_BIAS_CORRECTED,
        )
        got["opt"] = got["opt"][1:]
        compare(got, ref, dtype, f"pen={pen} batch={batch} clip={clip} t0={t0}")


def test_adamw_without_decay_equals_adam():
    rng = np.random.default_rng(8)
    n, d = 10, 3
    X, y, sw = make_data(rng, n, d, F64)
    for pen, batch, avg in itertools.product(PENALTIES, (1, 4, n), AVERAGES):
        hp = make_hp(weight_decay=0.0)
        kw = dict(penalty=pen, batch=batch, average=avg)
        state = make_state(rng, d, K.OPT_ADAM, F64, t0=2)
        a = run_kernel(
            X, y, sw, np.arange(n), state, hp, make_codes(optimizer=K.OPT_ADAM, **kw)
        )
        w = run_kernel(
            X, y, sw, np.arange(n), state, hp, make_codes(optimizer=K.OPT_ADAMW, **kw)
        )
        compare(w, a, F64, describe(**kw), rtol=0, atol=0)
    # and with decay the two rules are the decoupled AdamW of the reference
    hp = make_hp(weight_decay=0.1)
    state = make_state(rng, d, K.OPT_ADAMW, F64, t0=0)
    check_against_reference(
        X, y, sw, np.arange(n), state, hp, make_codes(optimizer=K.OPT_ADAMW)
    )


def test_single_row_batches_take_either_path_consistently():
    """A one-row step is the same rule on the per-example and the batched path.

    The dense kernel takes the per-example path for a batch of one row unless
    the batch is the whole epoch (one row: the batched path); the CSR kernel
    takes its batched accumulate path for one row whenever the configuration
    is not lazy plain SGD (momentum, clipping, EMA).  All equal the reference.
    """
    rng = np.random.default_rng(9)
    d = 4
    X, y, sw = make_data(rng, 8, d, F64)
    for opt_code, clip, avg, pen in itertools.product(
        OPTIMIZERS, (0.0, 0.5), AVERAGES, PENALTIES
    ):
        hp = make_hp(clip=clip)
        codes = make_codes(optimizer=opt_code, average=avg, batch=1, penalty=pen)
        state = make_state(rng, d, opt_code, F64, t0=1)
        ctx = describe(optimizer=opt_code, clip=clip, average=avg, penalty=pen)
        # dense: one-row epoch (batched path) and eight-row epoch (per-example)
        check_against_reference(X, y, sw, [5], state, hp, codes, context=ctx)
        dense = check_against_reference(
            X, y, sw, np.arange(8), state, hp, codes, context=ctx
        )[0]
        # CSR: lazy or generic path depending on the configuration
        csr = run_kernel(X, y, sw, np.arange(8), state, hp, codes, sparse=True)
        compare(csr, dense, F64, ctx + f" lazy={is_lazy(codes, hp, 8)}", rtol=1e-9)


# ------------------------------------------------------------ passive-aggressive
@pytest.mark.parametrize("sched", [K.LR_PA1, K.LR_PA2], ids=["pa1", "pa2"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_passive_aggressive_per_example(sched, sparse):
    rng = np.random.default_rng(12)
    n, d = 9, 4
    X, y, sw = make_data(rng, n, d, F64)
    for loss, pen, avg, fit_b, eta0 in itertools.product(
        (K.LOSS_EPS_INSENSITIVE, K.LOSS_SQ_EPS_INSENSITIVE),
        (K.PEN_NONE, K.PEN_L2, K.PEN_L1),
        (0, K.AVG_POLYAK),
        (0, 1),
        (0.01, 0.1),  # C (large C with the squared loss diverges)
    ):
        codes = make_codes(
            schedule=sched,
            loss=loss,
            penalty=pen,
            average=avg,
            fit_intercept=fit_b,
            avg_start=3,
        )
        hp = make_hp(eta0=eta0, epsilon=0.1, alpha=0.01)
        state = make_state(rng, d, K.OPT_SGD, F64, t0=0, avg_zero=True)
        check_against_reference(
            X,
            y,
            sw,
            np.arange(n),
            state,
            hp,
            codes,
            sparse=sparse,
            context=describe(loss=loss, penalty=pen, average=avg, eta0=eta0),
        )


@pytest.mark.parametrize("sched", [K.LR_PA1, K.LR_PA2], ids=["pa1", "pa2"])
def test_passive_aggressive_single_row_epoch_dense(sched):
    """A one-row epoch is still a PA step (the dense kernel's full-batch path)."""
    rng = np.random.default_rng(13)
    X, y, sw = make_data(rng, 1, 3, F64)
    codes = make_codes(schedule=sched, loss=K.LOSS_EPS_INSENSITIVE)
    hp = make_hp(eta0=1.0, epsilon=0.1)  # C large: PA-I steps loss / ||x||^2
    state = make_state(rng, 3, K.OPT_SGD, F64)
    check_against_reference(X, y, sw, [0], state, hp, codes)


@pytest.mark.parametrize("sched", [K.LR_PA1, K.LR_PA2], ids=["pa1", "pa2"])
@pytest.mark.parametrize("batch", [2, 3, 5])
def test_passive_aggressive_dense_and_csr_agree_on_batches(sched, batch):
    rng = np.random.default_rng(14)
    X, y, sw = make_data(rng, 5, 3, F64)
    codes = make_codes(schedule=sched, loss=K.LOSS_EPS_INSENSITIVE, batch=batch)
    hp = make_hp(eta0=0.01, epsilon=0.1)
    state = make_state(rng, 3, K.OPT_SGD, F64)
    dense = run_kernel(X, y, sw, np.arange(5), state, hp, codes)
    csr = run_kernel(X, y, sw, np.arange(5), state, hp, codes, sparse=True)
    compare(csr, dense, F64, f"PA batch={batch}", rtol=1e-9)


# --------------------------------------------------------------------------- CSR
def csr_vs_dense(X, y, sw, order, state, hp, codes, context):
    dense = run_kernel(X, y, sw, order, state, hp, codes)
    csr = run_kernel(X, y, sw, order, state, hp, codes, sparse=True)
    r, a = tolerances(X.dtype)
    compare(
        csr,
        dense,
        X.dtype,
        context + f" lazy={is_lazy(codes, hp, len(order))}",
        rtol=max(r, 1e-9),
        atol=max(a, 1e-11),
    )
    return dense, csr


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("opt_code", OPTIMIZERS, ids=list(K.OPTIMIZERS))
def test_csr_equals_dense_full_matrix(opt_code, dtype):
    rng = np.random.default_rng(200 + opt_code)
    n, d = 8, 5
    Xz, yz, swz = make_data(rng, n, d, dtype, zeros=0.4)
    Xf, yf, swf = make_data(rng, n, d, dtype)
    combos = itertools.product(
        PENALTIES, LOSSES, (1, 3, n), (0.0, 0.8), AVERAGES, (0, 1)
    )
    for k, (pen, loss, batch, clip, avg, fit_b) in enumerate(combos):
        t0 = (0, 5)[k % 2]
        kw = dict(
            optimizer=opt_code,
            penalty=pen,
            loss=loss,
            batch=batch,
            average=avg,
            fit_intercept=fit_b,
            schedule=MATRIX_SCHEDULES[k % len(MATRIX_SCHEDULES)],
            avg_start=(1, 3, 7)[k % 3],
            record_every=k % 3,
        )
        hk = dict(clip=clip, weight_decay=(0.0, 0.3)[k % 2])
        codes, hp = make_codes(**kw), make_hp(**hk)
        # the lazy path truncates L1 only on the row's non-zeros (see below):
        # compare it on data without zeros
        lazy_l1 = is_lazy(codes, hp, n) and pen in (K.PEN_L1, K.PEN_ELASTICNET)
        X, y, sw = (Xf, yf, swf) if lazy_l1 else (Xz, yz, swz)
        # the average is zero until averaging starts (see the dedicated test)
        state = make_state(
            rng,
            d,
            opt_code,
            dtype,
            t0=t0,
            avg_zero=avg == K.AVG_POLYAK and kw["avg_start"] > t0,
        )
        csr_vs_dense(
            X, y, sw, np.arange(n), state, hp, codes, describe(**kw, **hk, t0=t0)
        )


@settings(HSET, max_examples=120)
@given(
    cfg=configurations(),
    dtype=st.sampled_from(DTYPES),
    zeros=st.sampled_from((0.0, 0.3, 0.8)),
)
def test_csr_equals_dense_random(cfg, dtype, zeros):
    n, d, kw, hk, t0, seed = cfg
    rng = np.random.default_rng(seed)
    codes, hp = make_codes(**kw), make_hp(**hk)
    if is_lazy(codes, hp, n) and kw["penalty"] in (K.PEN_L1, K.PEN_ELASTICNET):
        zeros = 0.0
    X, y, sw = make_data(rng, n, d, dtype, zeros=zeros)
    state = make_state(
        rng, d, kw["optimizer"], dtype, t0=t0, avg_zero=kw["avg_start"] > t0
    )
    csr_vs_dense(
        X, y, sw, np.arange(n), state, hp, codes, describe(**kw, **hk, t0=t0, n=n, d=d)
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_csr_lazy_path_matches_reference(dtype):
    """The O(nnz) plain-SGD path (weight scale, Bottou's averaging) vs the formulas.

    Difference from dense input, by design (scikit-learn's sparse SGD does the
    same): the cumulative L1 truncation only visits the step row's non-zero
    features, so on data with zeros it equals the reference with
    ``l1_touched_only=True``; without L1 it equals the dense reference.
    """
    rng = np.random.default_rng(21)
    n, d = 12, 6
    X, y, sw = make_data(rng, n, d, dtype, zeros=0.5)
    for pen, loss, avg, fit_b, lam, t0 in itertools.product(
        PENALTIES, LOSSES, (0, K.AVG_POLYAK), (0, 1), (0.0, 0.2), (0, 3)
    ):
        codes = make_codes(
            penalty=pen,
            loss=loss,
            average=avg,
            fit_intercept=fit_b,
            avg_start=4,
            record_every=3,
            schedule=K.LR_INVSCALING,
        )
        hp = make_hp(weight_decay=lam, eta0=0.1, alpha=0.05)
        state = make_state(
            rng, d, K.OPT_SGD, dtype, t0=t0, avg_zero=avg == K.AVG_POLYAK and t0 < 4
        )
        assert is_lazy(codes, hp, n)
        check_against_reference(
            X,
            y,
            sw,
            np.arange(n),
            state,
            hp,
            codes,
            sparse=True,
            context=describe(penalty=pen, loss=loss, average=avg, lam=lam),
            l1_touched_only=True,
        )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_csr_lazy_weight_scale_folds(dtype):
    """A strong L2 shrink drives the weight scale under its fold threshold."""
    rng = np.random.default_rng(22)
    n, d = 40, 3
    X, y, sw = make_data(rng, n, d, dtype, zeros=0.3)
    for avg in (0, K.AVG_POLYAK):
        # 1 - eta alpha = 0.5 per step: the scale passes the float64 threshold
        # (1e-6) after 20 steps, the float32 one (1e-2) after 7
        codes = make_codes(penalty=K.PEN_L2, average=avg, avg_start=2)
        hp = make_hp(eta0=0.5, alpha=1.0)
        state = make_state(rng, d, K.OPT_SGD, dtype, avg_zero=True)
        dense = check_against_reference(X, y, sw, np.arange(n), state, hp, codes)[0]
        csr = run_kernel(X, y, sw, np.arange(n), state, hp, codes, sparse=True)
        # Bottou's averaging representation (aw + aa v) / ab cancels digits as
        # the scale shrinks: about eps / threshold relative error (1e-10 in
        # float64, 1e-5 in float32; with scikit-learn's 1e-9 in float32 an
        # audit's case was off by 237%)
        rtol = 1e-9 if dtype == F64 else 3e-5
        compare(csr, dense, dtype, f"average={avg}", rtol=rtol, atol=rtol * 1e-3)
        if dtype == F64:
            # shrink clamped at 0 (eta alpha > 1): the scale collapses to 0
            # (the weights grow to ~5e3: float32 rounding is not the point)
            hp = make_hp(eta0=2.0, alpha=1.0)
            csr_vs_dense(X, y, sw, np.arange(n), state, hp, codes, "shrink 0")


def test_csr_polyak_start_ignores_previous_average():
    """At the first averaging step (k = 1) the average becomes w, whatever it was.

    avg += (w - avg) / 1 replaces the old average, so an average array that is
    not zero when averaging starts (the estimator sets avg = params at
    initialisation) must not leak into the result, on dense and CSR input.
    """
    rng = np.random.default_rng(23)
    n, d = 6, 3
    X, y, sw = make_data(rng, n, d, F64)
    codes = make_codes(average=K.AVG_POLYAK, avg_start=3)
    hp = make_hp()
    state = make_state(rng, d, K.OPT_SGD, F64)  # avg: random, non-zero
    check_against_reference(X, y, sw, np.arange(n), state, hp, codes)
    check_against_reference(X, y, sw, np.arange(n), state, hp, codes, sparse=True)


def test_csr_result_does_not_depend_on_grad_scratch_contents():
    """``grad`` is scratch: a dense epoch leaves its last batch gradient there.

    A dense then a CSR call sharing it (partial_fit with dense then sparse
    input) must give the same model as a fresh zero scratch.
    """
    rng = np.random.default_rng(24)
    n, d = 6, 3
    X, y, sw = make_data(rng, n, d, F64, zeros=0.3)
    codes = make_codes(optimizer=K.OPT_MOMENTUM, batch=3)
    hp = make_hp()
    state = make_state(rng, d, K.OPT_MOMENTUM, F64)
    dirty = grad_scratch(d, F64)
    run_kernel(X, y, sw, np.arange(n), state, hp, codes, grad=dirty)
    assert np.any(dirty != 0.0)  # the dense epoch left its gradient behind
    clean = run_kernel(X, y, sw, np.arange(n), state, hp, codes, sparse=True)
    got = run_kernel(X, y, sw, np.arange(n), state, hp, codes, sparse=True, grad=dirty)
    compare(got, clean, F64, "dirty grad scratch")


# --------------------------------------------------------------------- sampling
def test_shuffle_is_a_seeded_permutation_of_order():
    rng = np.random.default_rng(30)
    n, d = 25, 3
    X, y, sw = make_data(rng, n, d, F64)
    order = np.sort(rng.choice(n, size=17, replace=False))  # a training subset
    state = make_state(rng, d, K.OPT_ADAM, F64)
    hp = make_hp()
    perms = []
    for seed in (1, 2, 3, 1):
        codes = make_codes(
            optimizer=K.OPT_ADAM, sampling=K.SAMPLE_SHUFFLE, seed=seed, batch=2
        )
        got, _ = check_against_reference(X, y, sw, order, state, hp, codes)
        assert sorted(got["order"]) == sorted(order)  # each row once
        perms.append(got["order"].tolist())
        csr = run_kernel(X, y, sw, order, state, hp, codes, sparse=True)
        np.testing.assert_array_equal(csr["order"], got["order"])
    assert perms[0] == perms[3]  # deterministic for a seed
    assert len({tuple(p) for p in perms[:3]}) == 3  # different seeds differ
    assert perms[0] != sorted(order)


def test_shuffle_is_uniform():
    """Position of each element over many seeds: chi-square, 4 elements."""
    rng = np.random.default_rng(31)
    X, y, sw = make_data(rng, 4, 1, F64)
    state = make_state(rng, 1, K.OPT_SGD, F64)
    hp = make_hp()
    counts = np.zeros((4, 4))
    n_seeds = 2000
    for seed in range(n_seeds):
        codes = make_codes(sampling=K.SAMPLE_SHUFFLE, seed=seed)
        got = run_kernel(X, y, sw, np.arange(4), state, hp, codes)
        counts[np.arange(4), got["order"]] += 1
    expected = n_seeds / 4
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 40.0  # 9 dof: P(chi2 > 40) < 1e-5


def test_sampling_with_replacement():
    rng = np.random.default_rng(32)
    n, d = 30, 2
    X, y, sw = make_data(rng, n, d, F64)
    order = np.arange(5, 25)
    m = len(order)
    state = make_state(rng, d, K.OPT_RMSPROP, F64)
    hp = make_hp()
    seqs = []
    for seed in (4, 5, 4):
        codes = make_codes(
            optimizer=K.OPT_RMSPROP, sampling=K.SAMPLE_REPLACEMENT, seed=seed, batch=3
        )
        iscratch = np.full(m, -1, dtype=np.int64)  # exactly len(order) entries
        got = run_kernel(X, y, sw, order, state, hp, codes, iscratch=iscratch)
        np.testing.assert_array_equal(got["order"], order)  # order untouched
        seq = got["iscratch"][:m]
        assert np.isin(seq, order).all()
        seqs.append(seq.tolist())
        ref = run_reference(X, y, sw, seq, state, hp, codes)
        compare(got, ref, F64, f"seed={seed}")
        csr = run_kernel(X, y, sw, order, state, hp, codes, sparse=True)
        np.testing.assert_array_equal(csr["iscratch"][:m], seq)
    assert seqs[0] == seqs[2]
    assert seqs[0] != seqs[1]
    # draws cover `order` roughly uniformly and do repeat
    draws = []
    for seed in range(300):
        codes = make_codes(sampling=K.SAMPLE_REPLACEMENT, seed=seed)
        draws.extend(run_kernel(X, y, sw, order, state, hp, codes)["iscratch"][:m])
    freq = np.bincount(np.asarray(draws) - 5, minlength=m)
    assert freq.min() > 0.7 * len(draws) / m and freq.max() < 1.3 * len(draws) / m
    assert any(len(set(s)) < m for s in seqs)


@HSET
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 9),
    rows=st.integers(2, 45),
    batch=st.sampled_from([1, 1, 2, 3, 7, 50]),
    optimizer=st.sampled_from([K.OPT_SGD, K.OPT_ADAM]),
    sampling=st.sampled_from([K.SAMPLE_SHUFFLE, K.SAMPLE_REPLACEMENT]),
    loss=st.sampled_from(sorted(K.LOSSES.values())),
    penalty=st.sampled_from([K.PEN_NONE, K.PEN_L2]),
    schedule=st.sampled_from([K.LR_CONSTANT, K.LR_INVSCALING, K.LR_COSINE]),
    fit_intercept=st.booleans(),
    record_every=st.integers(0, 4),
    seed=st.integers(0, 2**20),
    dtype=st.sampled_from(DTYPES),
)
def test_gathered_rows_take_the_same_steps(
    n,
    d,
    rows,
    batch,
    optimizer,
    sampling,
    loss,
    penalty,
    schedule,
    fit_intercept,
    record_every,
    seed,
    dtype,
):
    """Random rows copied through a many-row `grad` in chunks (shuffled
    epochs; a mini-batch keeps its gradient in row 0) give the reference's
    steps, and the one-row run's."""
    rng = np.random.default_rng(seed)
    X, y, sw = make_data(rng, n, d, dtype)
    order = np.arange(n)
    state = make_state(rng, d, optimizer, dtype)
    hp = make_hp(total_steps=float(n))
    codes = make_codes(
        batch=batch,
        optimizer=optimizer,
        sampling=sampling,
        loss=loss,
        penalty=penalty,
        schedule=schedule,
        fit_intercept=int(fit_intercept),
        record_every=record_every,
        seed=seed,
    )
    grad = np.full((rows, d + 2), np.nan, dtype=dtype)  # contents must not matter
    got = run_kernel(X, y, sw, order, state, hp, codes, grad=grad)
    ref = run_reference(X, y, sw, visited(got, order, codes), state, hp, codes)
    compare(got, ref, dtype, f"rows={rows}")
    one = run_kernel(X, y, sw, order, state, hp, codes)
    compare(got, one, dtype, f"rows={rows}", rtol=1e-12 if dtype == F64 else 1e-6)
    np.testing.assert_array_equal(
        visited(got, order, codes), visited(one, order, codes)
    )


@pytest.mark.parametrize("block", [1, 3, 4, 20, 25])
def test_sampling_by_blocks(block):
    rng = np.random.default_rng(33)
    n, d = 22, 3
    X, y, sw = make_data(rng, n, d, F64)
    order = rng.permutation(n)[:20]
    m = len(order)
    nb = -(-m // block)
    state = make_state(rng, d, K.OPT_NESTEROV, F64)
    hp = make_hp()
    seen = set()
    for seed in (7, 8, 7):
        codes = make_codes(
            optimizer=K.OPT_NESTEROV,
            sampling=K.SAMPLE_BLOCKS,
            block=block,
            seed=seed,
            batch=2,
        )
        iscratch = np.full(m + nb, -1, dtype=np.int64)  # len(order) + n_blocks
        got = run_kernel(X, y, sw, order, state, hp, codes, iscratch=iscratch)
        seq = got["iscratch"][:m]
        assert sorted(seq) == sorted(order)  # each row exactly once
        # contiguous blocks of `order`, each block once
        blocks = [tuple(order[b * block : (b + 1) * block]) for b in range(nb)]
        pos, used = 0, []
        while pos < m:
            match = [
                b
                for b, blk in enumerate(blocks)
                if tuple(seq[pos : pos + len(blk)]) == blk
            ]
            assert match, f"no block of order starts at position {pos}: {seq}"
            used.append(match[0])
            pos += len(blocks[match[0]])
        assert sorted(used) == list(range(nb))
        seen.add(tuple(used))
        ref = run_reference(X, y, sw, seq, state, hp, codes)
        compare(got, ref, F64, f"block={block} seed={seed}")
    if nb >= 4:
        assert len(seen) == 2  # seeds 7 and 8 order the blocks differently


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize(
    "opt_code, batch", [(K.OPT_SGD, 1), (K.OPT_ADAM, 1), (K.OPT_MOMENTUM, 3)]
)
@pytest.mark.parametrize("size, streams", [(1, 1), (3, 2), (4, 5), (25, 3)])
def test_sampling_by_streams(size, streams, opt_code, batch, sparse):
    rng = np.random.default_rng(34)
    n, d = 22, 3
    X, y, sw = make_data(rng, n, d, F64)
    order = np.sort(rng.permutation(n)[:20])
    m = len(order)
    state = make_state(rng, d, opt_code, F64)
    hp = make_hp()
    seen = set()
    for seed in (7, 8, 7):
        codes = make_codes(
            optimizer=opt_code,
            sampling=K.SAMPLE_STREAMS,
            block=size,
            streams=streams,
            seed=seed,
            batch=batch,
        )
        iscratch = np.full(m + -(-m // size) + 2 * streams, -1, dtype=np.int64)
        got = run_kernel(
            X, y, sw, order, state, hp, codes, iscratch=iscratch, sparse=sparse
        )
        seq = got["iscratch"][:m]
        assert sorted(seq) == sorted(order)  # each row exactly once
        seen.add(tuple(seq))
        ref = run_reference(X, y, sw, seq, state, hp, codes)
        compare(got, ref, F64, f"size={size} streams={streams} seed={seed}")
    if m // size >= 2:
        assert len(seen) == 2  # seeds 7 and 8 give different orders


# ------------------------------------------------- non-finite rows in the first pass
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize(
    "opt_code, batch, sampling",
    [
        (K.OPT_SGD, 1, K.SAMPLE_INORDER),
        (K.OPT_SGD, 1, K.SAMPLE_SHUFFLE),
        (K.OPT_SGD, 1, K.SAMPLE_STREAMS),
        (K.OPT_ADAM, 1, K.SAMPLE_INORDER),
        (K.OPT_SGD, 4, K.SAMPLE_SHUFFLE),
        (K.OPT_MOMENTUM, 3, K.SAMPLE_STREAMS),
    ],
)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_check_reports_the_first_visited_row_that_is_not_finite(
    value, opt_code, batch, sampling, sparse
):
    rng = np.random.default_rng(35)
    n, d = 40, 3
    X, y, sw = make_data(rng, n, d, F64)
    X = np.array(X)
    bad_rows = [9, 23]
    for r in bad_rows:
        X[r, 1] = value
    state = make_state(rng, d, opt_code, F64)
    kw = dict(optimizer=opt_code, batch=batch, sampling=sampling, seed=5)
    kw.update(block=4, streams=3)
    iscratch = np.full(2 * n + 8, -1, dtype=np.int64)
    got = run_kernel(
        X, y, sw, np.arange(n), state, make_hp(), make_codes(check=1, **kw),
        iscratch=iscratch, sparse=sparse,
    )  # fmt: skip
    seq = list(visited(got, np.arange(n), make_codes(**kw)))
    first = min(bad_rows, key=seq.index)
    assert got["stats"][K.S_BAD_ROW] == first
    # no check: the epoch runs through (and reports nothing)
    got = run_kernel(
        X, y, sw, np.arange(n), state, make_hp(), make_codes(check=0, **kw),
        iscratch=iscratch, sparse=sparse,
    )  # fmt: skip
    assert got["stats"][K.S_BAD_ROW] == -1
    assert got["t"] == state["counters"][0] + -(-n // batch)
    # finite data, checked: nothing to report, same model as unchecked
    X = np.array(X)  # run_kernel made it read-only
    X[bad_rows, 1] = 0.5
    a = run_kernel(
        X, y, sw, np.arange(n), state, make_hp(), make_codes(check=1, **kw),
        sparse=sparse,
    )  # fmt: skip
    b = run_kernel(
        X, y, sw, np.arange(n), state, make_hp(), make_codes(check=0, **kw),
        sparse=sparse,
    )  # fmt: skip
    assert a["stats"][K.S_BAD_ROW] == -1
    np.testing.assert_array_equal(a["params"], b["params"])


def test_check_tells_overflow_from_bad_input():
    # a blown-up model overflows the prediction on finite rows: divergence,
    # which the Python layer handles, not bad input
    rng = np.random.default_rng(36)
    X, y, sw = make_data(rng, 20, 3, F64)
    state = make_state(rng, 3, K.OPT_SGD, F64)
    state["params"][:] = 1e308
    got = run_kernel(X, y, sw, np.arange(20), state, make_hp(), make_codes(check=1))
    assert got["stats"][K.S_BAD_ROW] == -1
    assert got["t"] == state["counters"][0] + 20


# ------------------------------------------------------------ stats and record
def test_statistics_and_record():
    rng = np.random.default_rng(40)
    n, d = 11, 3
    X, y, sw = make_data(rng, n, d, F64)
    sw = readonly(np.where(np.arange(n) < 2, 0.0, sw))  # zero-weight rows
    for batch, every, rec_len, clip in itertools.product(
        (1, 2, 4, n), (0, 1, 2, 3), (0, 2, 16), (0.0, 0.5)
    ):
        codes = make_codes(
            optimizer=K.OPT_MOMENTUM,
            batch=batch,
            record_every=every,
            loss=K.LOSS_HUBER,
            schedule=K.LR_INVSCALING,
        )
        hp = make_hp(clip=clip)
        state = make_state(rng, d, K.OPT_MOMENTUM, F64, t0=4)
        got = run_kernel(X, y, sw, np.arange(n), state, hp, codes, rec_len=rec_len)
        ref = run_reference(X, y, sw, np.arange(n), state, hp, codes, rec_len=rec_len)
        ctx = f"batch={batch} every={every} rec_len={rec_len} clip={clip}"
        compare(got, ref, F64, ctx)
        stats = got["stats"]
        steps = -(-n // batch)
        assert stats[K.S_STEPS] == steps
        assert stats[K.S_WEIGHT_SUM] == pytest.approx(sw.sum(), rel=1e-12)
        etas = [R.learning_rate(K.LR_INVSCALING, t, 0, hp) for t in range(5, 5 + steps)]
        assert stats[K.S_ETA_SUM] == pytest.approx(sum(etas), rel=1e-12)
        assert stats[K.S_ETA_LAST] == pytest.approx(etas[-1], rel=1e-12)
        n_rec = min(steps // every, rec_len) if every else 0
        assert stats[K.S_NREC] == n_rec
        assert np.isnan(got["rec"][n_rec:]).all()
        if batch < n and clip == 0.0:
            assert stats[K.S_GRAD_NORM] == -1.0
        if every == 1 and batch == 1 and rec_len == 16:
            # the first two rows weigh 0: their record is NaN
            assert np.isnan(got["rec"][:2]).all()
            assert not np.isnan(got["rec"][2:n]).any()


def test_loss_sum_uses_prediction_before_the_step():
    rng = np.random.default_rng(41)
    X, y, sw = make_data(rng, 5, 2, F64)
    state = make_state(rng, 2, K.OPT_SGD, F64)
    codes = make_codes(batch=1)
    got = run_kernel(X, y, sw, np.arange(5), state, make_hp(eta0=0.3), codes)
    # replay the parameters step by step from the reference
    s = state
    total = 0.0
    for i in range(5):
        w, b = np.asarray(s["params"][:2], F64), float(s["params"][2])
        total += sw[i] * 0.5 * (X[i] @ w + b - y[i]) ** 2
        r = run_reference(X, y, sw, [i], s, make_hp(eta0=0.3), codes)
        s = {
            "params": r["params"],
            "opt": r["opt"],
            "avg": r["avg"],
            "q": r["q"],
            "counters": [r["t"]],
            "carry": [r["u"]],
        }
    assert got["stats"][K.S_LOSS_SUM] == pytest.approx(total, rel=1e-12)


# ----------------------------------------------------- gradient vs differences
@pytest.mark.parametrize("pen", [K.PEN_NONE, K.PEN_L2], ids=["none", "l2"])
@pytest.mark.parametrize("rows", [3, 9], ids=["minibatch", "fullbatch"])
def test_full_batch_gradient_matches_finite_differences(pen, rows):
    """One full-batch step of plain SGD moves along minus the objective's gradient."""
    rng = np.random.default_rng(50)
    n, d = 9, 5
    X, y, sw = make_data(rng, n, d, F64)
    order = rng.permutation(n)[:rows]
    eta = 0.01
    codes = make_codes(loss=K.LOSS_SQUARED, penalty=pen, batch=rows)
    hp = make_hp(eta0=eta, alpha=0.1)
    state = make_state(rng, d, K.OPT_SGD, F64)
    got = run_kernel(X, y, sw, order, state, hp, codes)
    step = (np.asarray(state["params"]) - got["params"]) / eta

    Xb, yb, swb = X[order], y[order], sw[order]
    theta = np.asarray(state["params"], F64)

    def f(th):
        return R.objective(Xb, yb, swb, th[:d], th[d], codes, hp)

    h = 1e-6
    fd = np.array(
        [(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(d + 1)]
    )
    np.testing.assert_allclose(step, fd, rtol=1e-6, atol=1e-8)
    cosine = step @ fd / (np.linalg.norm(step) * np.linalg.norm(fd))
    assert cosine == pytest.approx(1.0, abs=1e-12)
    assert got["stats"][K.S_GRAD_NORM] == pytest.approx(np.linalg.norm(fd), rel=1e-6)


# ------------------------------------------------------------ compiled versions
def test_one_compiled_version_per_dtype_for_any_input_kind(tmp_path):
    """Writable, read-only and memory-mapped X share one compiled epoch per dtype."""
    from fastsgd import SGDRegressor

    rng = np.random.default_rng(60)
    n, d = 40, 3
    kernels = set()
    for dtype in DTYPES:
        X, y, _ = make_data(rng, n, d, dtype)
        mm = np.memmap(
            tmp_path / f"x{np.dtype(dtype).name}.dat", dtype=dtype, mode="w+",
            shape=X.shape,
        )  # fmt: skip
        mm[:] = X
        mm.flush()
        Xm = np.memmap(mm.filename, dtype=dtype, mode="r", shape=X.shape)
        coefs = []
        for data in (X, np.array(X), Xm):
            for kw in ({}, {"optimizer": "adam", "batch_size": 4}):
                model = SGDRegressor(max_iter=2, tol=None, random_state=0, **kw)
                coefs.append(model.fit(data, y).coef_)
        for k in range(2, len(coefs)):  # every input kind: the same models
            np.testing.assert_array_equal(coefs[k], coefs[k % 2])
        del Xm, mm
    for sampling, opt, batch in ((K.SAMPLE_SHUFFLE, K.OPT_SGD, 1),
                                 (K.SAMPLE_SHUFFLE, K.OPT_ADAM, 4)):  # fmt: skip
        codes = make_codes(optimizer=opt, batch=batch, sampling=sampling)
        kernels.add(epoch_fn(codes, make_hp(), n, False))
    for fn in kernels:
        if not JIT_DISABLED:  # NUMBA_DISABLE_JIT=1: plain Python, no versions
            assert len(fn.signatures) == 2, fn.signatures


def test_reference_sanity_checks():
    """The reference itself on cases worked out by hand."""
    hp = make_hp(epsilon=0.5)
    assert R.loss(K.LOSS_SQUARED, 3.0, 1.0, 0.5) == 2.0
    assert R.dloss(K.LOSS_SQUARED, 3.0, 1.0, 0.5) == 2.0
    assert R.loss(K.LOSS_HUBER, 3.0, 1.0, 0.5) == 0.5 * (2.0 - 0.25)
    assert R.dloss(K.LOSS_HUBER, 1.0, 3.0, 0.5) == -0.5
    assert R.loss(K.LOSS_EPS_INSENSITIVE, 1.2, 1.0, 0.5) == 0.0
    assert R.dloss(K.LOSS_EPS_INSENSITIVE, 0.0, 1.0, 0.5) == -1.0
    assert R.loss(K.LOSS_SQ_EPS_INSENSITIVE, 3.0, 1.0, 0.5) == 2.25
    assert R.dloss(K.LOSS_SQ_EPS_INSENSITIVE, 3.0, 1.0, 0.5) == 3.0
    assert R.dloss(K.LOSS_SQUARED, 1e20, 0.0, 0.5) == 1e12
    assert (
        R.learning_rate(K.LR_OPTIMAL, 1, 0, make_hp(alpha=0.1, optimal_init=10.0))
        == 1.0
    )
    assert (
        R.learning_rate(K.LR_STEP, 1, 5, make_hp(eta0=1.0, gamma=0.5, step_epochs=2.0))
        == 0.25
    )
    assert R.learning_rate(K.LR_CONSTANT, 2, 0, make_hp(eta0=1.0, warmup=4.0)) == 0.5
    c = make_hp(eta0=1.0, eta_min=0.0, total_steps=4.0)
    assert R.learning_rate(K.LR_COSINE, 3, 0, c) == pytest.approx(0.5)
    assert R.learning_rate(K.LR_COSINE, 99, 0, c) == pytest.approx(0.0)
    # L1 truncation: z = 0.5, u = 0.2, q = 0 -> 0.3; z = -0.1 -> 0 (clipped)
    w, q = np.array([0.5, -0.1]), np.zeros(2)
    R.truncate_l1(w, q, 0.2)
    np.testing.assert_allclose(w, [0.3, 0.0])
    np.testing.assert_allclose(q, [-0.2, 0.1])
    del hp
    assert math.isfinite(R.onecycle(0, 1.0, 10, 0.3, 25.0, 1e4))


@HSET
@given(
    n=st.integers(1, 30),
    d=st.integers(1, 12),
    m=st.integers(0, 40),
    seed=st.integers(0, 2**20),
    dtype=st.sampled_from(DTYPES),
)
def test_take_rows_copies_rows_in_the_given_order(n, d, m, seed, dtype):
    from fastsgd._kernels._take import take_rows

    rng = np.random.default_rng(seed)
    X = readonly(rng.normal(size=(n, d)).astype(dtype))
    idx = readonly(rng.integers(0, n, size=m).astype(np.int64))
    out = np.full((m, d), np.nan, dtype=dtype)
    take_rows(X, idx, out)
    np.testing.assert_array_equal(out, X[idx])
    if not JIT_DISABLED:
        assert len(take_rows.signatures) <= 2  # one compiled version per dtype


def test_epochs_leave_reference_counts_as_they_were():
    # the kernels step through unowned views (no reference counts); a leaked
    # or missing count would show on the caller's arrays
    import sys

    rng = np.random.default_rng(40)
    X, y, sw = make_data(rng, 30, 4, F64)
    order = np.arange(30)
    for opt_code, batch, sampling in [
        (K.OPT_SGD, 1, K.SAMPLE_SHUFFLE),
        (K.OPT_ADAM, 4, K.SAMPLE_INORDER),
        (K.OPT_MOMENTUM, 1, K.SAMPLE_REPLACEMENT),
    ]:
        state = make_state(rng, 4, opt_code, F64)
        codes = make_codes(optimizer=opt_code, batch=batch, sampling=sampling)
        hp = make_hp()
        for sparse in (False, True):
            data = csr_parts(X) if sparse else (X,)
            s = {k: np.array(state[k], copy=True) for k in STATE_KEYS}
            grad = grad_scratch(4, F64, sparse)
            extra = [
                np.array(order, dtype=np.int64),
                np.full(62, -1, dtype=np.int64),
                grad,
                np.zeros(K.N_STATS),
                np.full(8, np.nan),
            ]
            arrays = [*data, y, sw, hp, codes, *s.values(), *extra]
            before = [sys.getrefcount(a) for a in arrays]
            fn = epoch_fn(codes, hp, 30, sparse)
            for _ in range(3):
                fn(
                    *data,
                    y,
                    sw,
                    extra[0],
                    extra[1],
                    s["params"],
                    s["opt"],
                    s["avg"],
                    s["q"],
                    grad,
                    s["counters"],
                    s["carry"],
                    hp,
                    codes,
                    extra[3],
                    extra[4],
                )
            assert [sys.getrefcount(a) for a in arrays] == before
            assert np.all(np.isfinite(s["params"]))
