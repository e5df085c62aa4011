"""Peak memory of a fit relative to the data, fastsgd against scikit-learn.

The fits run in a fresh process (``fastsgd.bench.peak_memory``): the data is
made first, then every fit runs under ``tracemalloc`` and the peak of the
memory allocated during the fit, above what was held before, is recorded as a
fraction of the bytes of X and y. Expected: fastsgd's default epoch reads X in
place (float32 stays float32: no upcast copy), ``sampling='blocks'`` pays one
shuffled copy of the training data, as documented.
"""

import pytest

from fastsgd import bench as fb

N_SAMPLES = 100_000
N_FEATURES = 100
_CACHE = {}


def _measure(dtype):
    if not _CACHE:
        for e in fb.peak_memory(N_SAMPLES, N_FEATURES):
            _CACHE[e["dtype"], e["contender"]] = e
    return {c: e for (t, c), e in _CACHE.items() if t == dtype}


@pytest.mark.parametrize("contender", ["fastsgd epoch", "fastsgd blocks", "sklearn"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_peak_memory(summary, dtype, contender):
    # a measurement of bytes, not of time: no `benchmark` fixture
    entry = _measure(dtype)[contender]
    summary(entry)
    if contender == "fastsgd epoch":
        assert entry["peak_over_data"] < 0.25  # no copy of X, no upcast
    elif contender == "fastsgd blocks":
        assert 0.9 < entry["peak_over_data"] < 1.5  # one shuffled copy
