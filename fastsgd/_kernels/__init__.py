"""Compiled kernels: imports only numpy, numba and each other."""

from ._epoch import epoch_csr, epoch_dense

__all__ = ["epoch_csr", "epoch_dense"]
