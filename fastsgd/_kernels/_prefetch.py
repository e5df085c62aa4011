"""Software prefetch of a row of a 2-D C-contiguous array.

A shuffled epoch reads rows through a random index: the hardware prefetcher
cannot guess the next row, and the out-of-order window of one SGD step does
not reach it.  Asking for the row a few steps ahead hides part of the memory
latency (measured here: 30 -> 22 ms for 200k random rows of 100 float64).
``llvm.prefetch`` is a hint: it never faults, even on an address past the end.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# rows prefetched ahead of the one being used
PREFETCH_DISTANCE = 4
_LINE = 64


@intrinsic
def prefetch_row(typingctx, arr, row):
    """Prefetch every cache line of ``arr[row]`` (a hint; no bounds needed)."""
    if not isinstance(arr, types.Array) or arr.ndim != 2 or arr.layout != "C":
        return None
    sig = types.void(arr, row)

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        a = context.make_array(aty)(context, builder, args[0])
        i64 = ir.IntType(64)
        row_v = context.cast(builder, args[1], signature.args[1], types.int64)
        ncols = builder.extract_value(a.shape, 1)
        rowbytes = builder.mul(ncols, ir.Constant(i64, aty.dtype.bitwidth // 8))
        start = builder.add(builder.ptrtoint(a.data, i64), builder.mul(row_v, rowbytes))
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        zero = ir.Constant(i64, 0)
        step = ir.Constant(i64, _LINE)
        with cgutils.for_range_slice(builder, zero, rowbytes, step, inc=True) as (
            off,
            _,
        ):
            ptr = builder.inttoptr(builder.add(start, off), i8p)
            # read, high temporal locality, data cache
            builder.call(
                fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
            )
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefetch_item(typingctx, arr, index):
    """Prefetch the cache line holding ``arr[index]`` of a 1-D array (a hint)."""
    if not isinstance(arr, types.Array) or arr.ndim != 1:
        return None
    sig = types.void(arr, index)

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        a = context.make_array(aty)(context, builder, args[0])
        i64 = ir.IntType(64)
        idx = context.cast(builder, args[1], signature.args[1], types.int64)
        off = builder.mul(idx, ir.Constant(i64, aty.dtype.bitwidth // 8))
        i8p = ir.IntType(8).as_pointer()
        ptr = builder.inttoptr(builder.add(builder.ptrtoint(a.data, i64), off), i8p)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(
            fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        )
        return context.get_dummy_value()

    return sig, codegen
