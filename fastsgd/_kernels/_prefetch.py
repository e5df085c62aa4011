"""Software prefetch: a row of a 2-D array, an item or a span of a 1-D array.

A shuffled epoch reads rows through a random index: the hardware prefetcher
cannot guess the next row, and the out-of-order window of one SGD step does
not reach it.  Asking for the row a few steps ahead hides part of the memory
latency (measured here: 30 -> 22 ms for 200k random rows of 100 float64).
Rows read in order gain too, when they are short: the hardware prefetcher
alone kept an in-order epoch at 100 float64 features to ~60% of the bandwidth
a NumPy sum reaches; asking 4 KiB ahead doubles it.
Rows go to L2, items and spans (CSR rows) to L1: each was measured faster
that way, see the functions.  ``llvm.prefetch`` is a hint: it never faults,
even on an address past the end.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import JIT_DISABLED

# rows prefetched ahead of the one being used
PREFETCH_DISTANCE = 4
# rows prefetched ahead by a copy loop (nothing else waits on memory there)
GATHER_AHEAD = 8
# rows read in sequence (in order, or within blocks) of at most STREAM_ROW_BYTES
# are prefetched STREAM_AHEAD_BYTES ahead (see ``_epoch.stream_ahead``)
STREAM_AHEAD_BYTES = 4096
# ... and interleaved streams (the default order) twice as far: each step of a
# stream is ``streams`` rows apart, and a new segment starts on a cold page
# (100k x 100 float64, default order, old/new alternated: 82-96 -> 72-78 ns a
# row at 8 KiB; 12 KiB 82-87, 16 KiB 108-119)
STREAMS_AHEAD_BYTES = 8192
# ... and never fewer than two rows ahead, however long the rows: 16 streams
# of 8 KB rows outrun the hardware prefetcher (AMD EPYC family 25 model 17,
# 20k x 1000 float64, 3-epoch default fits, alternated: none 56-62 ms, one row
# 44-50, two rows 41-45, four rows 45-47; in order 27-33)
STREAMS_AHEAD_ROWS = 2
STREAM_ROW_BYTES = 4096
_LINE = 64


def _prefetch_line(builder, address, locality):
    """Emit one ``llvm.prefetch`` of the line holding the i64 ``address``.

    Read, ``locality`` (3: into L1, 2: into L2), data cache.
    """
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
    flags = [ir.Constant(i32, 0), ir.Constant(i32, locality), ir.Constant(i32, 1)]
    builder.call(fn, [builder.inttoptr(address, i8p), *flags])


def _prefetch_bytes(context, builder, start, nbytes, locality):
    """Emit a prefetch of every cache line of ``nbytes`` bytes from ``start``."""
    i64 = ir.IntType(64)
    # from the line holding the first byte to the one holding the last
    base = builder.and_(start, ir.Constant(i64, -_LINE))
    stop = builder.sub(builder.add(start, nbytes), base)
    zero = ir.Constant(i64, 0)
    step = ir.Constant(i64, _LINE)
    with cgutils.for_range_slice(builder, zero, stop, step, inc=True) as (off, _):
        _prefetch_line(builder, builder.add(base, off), locality)


def _prefetch_short(context, builder, start, nbytes, locality):
    """Like ``_prefetch_bytes``, for short spans of varying length.

    The two first and the two last lines are asked for unconditionally and only
    the lines between them in a loop: a span of up to four lines (a sparse row
    of a few tens of non-zeros) then takes no data-dependent branch, where the
    loop over its lines mispredicted whenever the line count changed from row
    to row (reshuffled CSR epochs, 1000 features: 45 -> 40 ns a row at 5
    non-zeros, 79 -> 73 at 20).
    """
    i64 = ir.IntType(64)
    mask = ir.Constant(i64, -_LINE)
    base = builder.and_(start, mask)
    last = builder.and_(
        builder.sub(builder.add(start, nbytes), ir.Constant(i64, 1)), mask
    )
    step = ir.Constant(i64, _LINE)
    # the two first and the two last lines (the same ones for a short span)
    several = builder.icmp_unsigned("<", base, last)
    second = builder.select(several, builder.add(base, step), base)
    before_last = builder.select(several, builder.sub(last, step), last)
    for line in (base, second, before_last, last):
        _prefetch_line(builder, line, locality)
    two = ir.Constant(i64, 2 * _LINE)
    with cgutils.for_range_slice(
        builder, two, builder.sub(before_last, base), step, inc=True
    ) as (off, _):
        _prefetch_line(builder, builder.add(base, off), locality)


def _address(context, builder, aty, arr, index, itype):
    """Return (address of ``arr[index]`` as i64, item size in bytes as i64)."""
    i64 = ir.IntType(64)
    a = context.make_array(aty)(context, builder, arr)
    idx = context.cast(builder, index, itype, types.int64)
    size = ir.Constant(i64, aty.dtype.bitwidth // 8)
    return builder.add(builder.ptrtoint(a.data, i64), builder.mul(idx, size)), size


@intrinsic
def prefetch_row(typingctx, arr, row):
    """Prefetch every cache line of ``arr[row]`` into L2 (a hint; no bounds needed).

    L2, not L1: whole rows fetched ahead into L1 evicted the weights and the
    row in use (a shuffled epoch at 100 features: 13.1 -> 9.8 ms per 100k rows).
    """
    if not isinstance(arr, types.Array) or arr.ndim != 2 or arr.layout != "C":
        return None
    sig = types.void(arr, row)

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        a = context.make_array(aty)(context, builder, args[0])
        ncols = builder.extract_value(a.shape, 1)
        row = context.cast(builder, args[1], signature.args[1], types.int64)
        first, size = _address(
            context, builder, aty, args[0], builder.mul(row, ncols), types.int64
        )
        _prefetch_bytes(context, builder, first, builder.mul(ncols, size), 2)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefetch_item(typingctx, arr, index):
    """Prefetch the cache line holding ``arr[index]`` of a 1-D array into L1."""
    if not isinstance(arr, types.Array) or arr.ndim != 1:
        return None
    sig = types.void(arr, index)

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        at, size = _address(context, builder, aty, args[0], args[1], signature.args[1])
        _prefetch_bytes(context, builder, at, size, 3)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefetch_span(typingctx, arr, lo, hi):
    """Prefetch the cache lines of ``arr[lo:hi]`` of a 1-D array into L1."""
    if not isinstance(arr, types.Array) or arr.ndim != 1:
        return None
    sig = types.void(arr, lo, hi)

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        at, size = _address(context, builder, aty, args[0], args[1], signature.args[1])
        lo = context.cast(builder, args[1], signature.args[1], types.int64)
        hi = context.cast(builder, args[2], signature.args[2], types.int64)
        nbytes = builder.mul(builder.sub(hi, lo), size)
        _prefetch_short(context, builder, at, nbytes, 3)
        return context.get_dummy_value()

    return sig, codegen


if JIT_DISABLED:  # the interpreter has no prefetch: the hints do nothing

    def prefetch_row(arr, row):  # noqa: D103 - twin of the intrinsic above
        pass

    def prefetch_item(arr, index):  # noqa: D103
        pass

    def prefetch_span(arr, lo, hi):  # noqa: D103
        pass
