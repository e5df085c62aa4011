"""Per-example SGD: fastsgd against scikit-learn's SGDRegressor.

Same data, same epochs, same schedule (``invscaling`` with
``eta0 = min(0.01, 1 / n_features)``, the default L2 penalty); scikit-learn
reshuffles every epoch. fastsgd runs each of its ways to visit the rows:
``default`` (``SGDRegressor()``'s: interleaved streams over random segments on
data over 4 MiB), ``permutation`` (a new permutation each epoch, as
scikit-learn), ``blocks`` (shuffled blocks of a shuffled copy) and
``inorder`` (``shuffle=False``).
Dense float64 and float32 at 10, 100 and 1000 features, and sparse CSR.
"""

import pytest

from fastsgd import bench as fb

EPOCHS = 3
SAMPLING = ["default", "permutation", "blocks", "inorder"]
DENSE = [(100_000, 10), (100_000, 100), (20_000, 1000)]
SPARSE = [(100_000, 1000, 0.02), (200_000, 1000, 0.005)]


def _fits(p, sampling):
    d = p.X.shape[1]
    eta0 = fb.per_example_eta0(d, p.density)

    def ours(clock):
        return fb.make_fastsgd(
            max_iter=EPOCHS, eta0=eta0, **fb.sampling_params(sampling)
        ).fit(p.X, p.y, on_epoch=clock)

    def sklearn():
        return fb.make_sklearn(max_iter=EPOCHS, eta0=eta0).fit(p.X, p.y)

    return ours, sklearn


@pytest.mark.parametrize("sampling", SAMPLING)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n_samples,n_features", DENSE, ids=lambda v: str(v))
def test_per_example_dense(
    benchmark, side_by_side, problem, n_samples, n_features, dtype, sampling
):
    p = problem(n_samples, n_features, dtype)
    ours, sklearn = _fits(p, sampling)
    benchmark.group = f"sgd dense {n_features} features {dtype}"
    info = side_by_side(ours, {"sklearn": sklearn}, p)
    assert not info["diverged"]
    assert info["accuracy_ratio"] < 2.0  # a sane model, so the speed means something


@pytest.mark.parametrize("sampling", SAMPLING)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n_samples,n_features,density", SPARSE, ids=lambda v: str(v))
def test_per_example_csr(
    benchmark, side_by_side, problem, n_samples, n_features, density, dtype, sampling
):
    p = problem(n_samples, n_features, dtype, density)
    ours, sklearn = _fits(p, sampling)
    benchmark.group = f"sgd csr {n_features} features density {density} {dtype}"
    info = side_by_side(ours, {"sklearn": sklearn}, p)
    assert not info["diverged"]
    assert info["accuracy_ratio"] < 2.0
