"""A view of an array that carries no reference count.

Numba reference-counts every array variable.  Passing arrays into an inlined
helper (``apply_step``, ``accumulate_rows``, ``_record``) binds new variables,
and the increments and decrements that the compiler cannot prove redundant stay
in the step loop: each is an atomic instruction, a full memory barrier that
also stalls the stream of rows.  An epoch kernel therefore takes ``unowned``
views of its arrays once, on entry: same data, shape and strides, no memory
info, so the reference-count calls return at once.  The caller's arrays keep
the memory alive for the whole call; the views never leave the kernel.
Measured on mini-batches of 32 rows at 100 features, per step: Adam +362 ->
+209 ns, momentum +84 -> +54 ns over a hand-written SGD step.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import JIT_DISABLED


@intrinsic
def unowned(typingctx, arr):
    """Return ``arr`` (same type) without its reference-counted memory info."""
    if not isinstance(arr, types.Array):
        return None
    sig = arr(arr)

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        src = context.make_array(aty)(context, builder, args[0])
        dst = context.make_array(aty)(context, builder)
        dst.meminfo = cgutils.get_null_value(dst.meminfo.type)
        dst.parent = cgutils.get_null_value(dst.parent.type)
        dst.nitems = src.nitems
        dst.itemsize = src.itemsize
        dst.data = src.data
        dst.shape = src.shape
        dst.strides = src.strides
        return dst._getvalue()

    return sig, codegen


if JIT_DISABLED:  # the interpreter counts no references: the array itself

    def unowned(arr):  # noqa: D103 - twin of the intrinsic above
        return arr
