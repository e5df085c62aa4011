"""Compiled kernels: imports only numpy, numba and each other.

Nothing here compiles, or even loads Numba, at import: ``_select`` picks the
epoch kernel of a configuration and compiles it on first use (see ``_cache``
for where the machine code is kept).
"""
