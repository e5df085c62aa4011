"""Compiled kernels: imports only numpy, numba and each other."""

from ._epoch import epoch_csr, epoch_dense
from ._parallel import epoch_dense_parallel

__all__ = ["epoch_csr", "epoch_dense", "epoch_dense_parallel"]
