"""The default shuffled order: interleaved streams over random segments (issue 13).

``sampling="auto"`` (the default) reads data larger than 4 MiB through
``_rows.stream_sequence`` and smaller data through a full permutation.  These
tests check the order itself and that it trains as well as the permutation on
the row orders that break weak shuffles.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fastsgd import SGDRegressor
from fastsgd._kernels import _codes as K
from fastsgd._kernels import _rows
from fastsgd._training.options import KernelOptions, stream_layout
from fastsgd.bench.orders import KINDS, ORDER_CONFIGS, compare_orders, ordered

SEEDS = range(5)


def stream_sequence(order, size, streams, seed):
    m = len(order)
    out = np.full(m + -(-m // size) + 2 * streams, -7, dtype=np.int64)
    _rows.stream_sequence(np.asarray(order, dtype=np.int64), out, size, streams, seed)
    return out[:m]


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    m=st.integers(1, 700),
    size=st.integers(1, 40),
    streams=st.integers(1, 70),
    seed=st.integers(0, 2**40),
)
def test_stream_sequence_visits_each_row_once_in_segment_order(m, size, streams, seed):
    order = np.arange(m) * 3 + 5  # any increasing training rows
    seq = stream_sequence(order, size, streams, seed)
    np.testing.assert_array_equal(np.sort(seq), order)
    # each segment is read in order, by one stream
    pos = (seq - 5) // 3
    seg = pos // size
    for g in np.unique(seg):
        assert np.all(np.diff(pos[seg == g]) == 1)
    # consecutive steps come from different segments while streams remain
    nseg = -(-m // size)
    if nseg >= 2 * streams and streams > 1:
        head = seg[: streams * min(size, m // nseg)]
        assert len(np.unique(head[:streams])) == streams


def round_robin(order, size, streams, seed):
    """The order by its definition: one row from each live stream in turn."""
    from fastsgd._kernels._rng import permute

    m = len(order)
    segs = np.arange(-(-m // size), dtype=np.int64)
    permute(segs, seed)
    queues = [
        [r for g in segs[s::streams] for r in range(g * size, min(g * size + size, m))]
        for s in range(streams)
    ]
    seq = []
    while any(queues):
        for q in queues:
            if q:
                seq.append(order[q.pop(0)])
    return np.array(seq, dtype=np.int64)


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(
    m=st.integers(1, 500),
    size=st.integers(1, 40),
    streams=st.integers(1, 40),
    seed=st.integers(0, 2**40),
)
def test_stream_sequence_is_the_round_robin_of_its_streams(m, size, streams, seed):
    # the kernel writes the turns in runs; the definition takes one at a time
    order = np.arange(m) * 2 + 1
    np.testing.assert_array_equal(
        stream_sequence(order, size, streams, seed),
        round_robin(order, size, streams, seed),
    )


def test_stream_sequence_is_a_new_order_each_epoch():
    seqs = [stream_sequence(np.arange(5000), 32, 16, seed) for seed in range(4)]
    assert all(not np.array_equal(a, b) for a, b in zip(seqs, seqs[1:], strict=False))


def chosen(model, m, row_bytes):
    """The visiting order a fit of ``m`` rows of ``row_bytes`` takes."""
    options = KernelOptions.from_params(model.get_params(), m, m, row_bytes)
    codes, _ = options.arrays()
    return int(codes[K.C_SAMPLING]), int(codes[K.C_STREAMS]), int(codes[K.C_BLOCK])


def test_default_order_streams_large_data_and_permutes_small_data():
    default = SGDRegressor()
    assert default.sampling == "auto"
    assert chosen(default, 100_000, 800)[0] == K.SAMPLE_STREAMS  # 80 MB
    assert chosen(default, 442, 80)[0] == K.SAMPLE_SHUFFLE  # diabetes
    assert chosen(SGDRegressor(sampling="permutation"), 10**6, 800)[0] == (
        K.SAMPLE_SHUFFLE
    )
    assert chosen(SGDRegressor(sampling="epoch"), 10**6, 800)[0] == K.SAMPLE_SHUFFLE
    assert chosen(SGDRegressor(sampling="streams"), 442, 80)[0] == K.SAMPLE_STREAMS
    assert chosen(SGDRegressor(shuffle=False), 10**6, 800)[0] == K.SAMPLE_INORDER
    # 16 streams of 32 rows; a batch of 32 reads 32 streams; wide rows: 8 rows
    assert chosen(default, 100_000, 800)[1:] == (16, 32)
    assert chosen(SGDRegressor(batch_size=32), 100_000, 800)[1:] == (32, 32)
    assert chosen(default, 100_000, 8000)[1:] == (16, 8)


def test_permutation_and_streams_need_shuffle():
    X = np.ones((10, 2))
    for sampling in ("permutation", "streams"):
        with pytest.raises(ValueError, match="needs shuffle=True"):
            SGDRegressor(shuffle=False, sampling=sampling).fit(X, np.ones(10))
    SGDRegressor(shuffle=False, max_iter=2, tol=None).fit(X, np.arange(10.0))


# --------------------------------------------------- orders that break weak shuffles
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("config", list(ORDER_CONFIGS))
def test_default_order_trains_as_well_as_a_permutation(kind, config):
    Xtr, ytr, _, _ = ordered(kind)
    model = SGDRegressor(**ORDER_CONFIGS[config])
    assert chosen(model, len(ytr), Xtr[0].nbytes)[0] == K.SAMPLE_STREAMS
    for entry in compare_orders(kind, config, epochs=(1, 3, 10), seeds=len(SEEDS)):
        assert entry["within"], entry


def test_minibatches_and_csr_take_the_same_order():
    Xtr, ytr, _, _ = ordered("target", n=40_000)
    params = dict(max_iter=2, tol=None, random_state=3, sampling="streams")
    dense = SGDRegressor(**params).fit(Xtr, ytr)
    sparse = SGDRegressor(**params).fit(sp.csr_matrix(Xtr), ytr)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    # a mini-batch epoch over CSR and dense rows: the same batches
    params.update(batch_size=16, optimizer="momentum", eta0=1e-3)
    dense = SGDRegressor(**params).fit(Xtr, ytr)
    sparse = SGDRegressor(**params).fit(sp.csr_matrix(Xtr), ytr)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    # and not the permutation's
    perm = SGDRegressor(**dict(params, sampling="permutation")).fit(Xtr, ytr)
    assert not np.allclose(perm.coef_, dense.coef_, rtol=1e-8, atol=0)


def test_stream_layout_keeps_four_segments_per_stream():
    for m in (1, 10, 100, 1000, 10**6):
        for row_bytes in (8.0, 80.0, 800.0, 8e3, 8e4):
            for batch in (1, 32, 10**4):
                streams, size = stream_layout(m, row_bytes, batch)
                assert 16 <= streams <= 64 and 1 <= size <= 32
                assert size == 1 or -(-m // size) >= 4 * streams
