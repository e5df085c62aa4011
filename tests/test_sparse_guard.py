"""Malformed CSR input is refused before the kernel (which does no bounds checks)."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastsgd import SGDRegressor


def _csr():
    return sp.csr_matrix(np.arange(1.0, 10.0).reshape(3, 3))


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda X: X.indices.__setitem__(1, 7),  # column out of range
        lambda X: X.indices.__setitem__(0, -1),  # negative column
    ],
)
def test_malformed_csr_is_refused(corrupt):
    X = _csr()
    corrupt(X)
    with pytest.raises(ValueError, match="malformed"):
        SGDRegressor(max_iter=1, tol=None).fit(X, np.ones(3))


def test_well_formed_csr_with_unsorted_indices_trains():
    dense = np.arange(1.0, 10.0).reshape(3, 3)
    X = _csr()
    # reverse the column order inside each row: still a valid CSR matrix
    for r in range(3):
        lo, hi = X.indptr[r], X.indptr[r + 1]
        X.indices[lo:hi] = X.indices[lo:hi][::-1].copy()
        X.data[lo:hi] = X.data[lo:hi][::-1].copy()
    X.has_sorted_indices = False
    kw = dict(max_iter=3, tol=None, shuffle=False, eta0=1e-3, learning_rate="constant")
    a = SGDRegressor(**kw).fit(X, np.ones(3))
    b = SGDRegressor(**kw).fit(dense, np.ones(3))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
