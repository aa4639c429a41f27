"""numpy's operations on device arrays, each one kernel launch (or a view, with no launch at all).

The seam between numpy's protocols and the kernels: shapes, broadcasting, views and result types are worked out
here on the host, from shapes and strides alone; the kernels see flat buffers with offsets and strides.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import kernels
from .array import DeviceArray, HANDLED, _check_dtype, _c_strides, empty, implements, to_device

D = kernels.D
_ONE = (1,) * D
_ZERO = (0,) * D


# ---- operands ----------------------------------------------------------------------------------------------------

def _pad(shape, strides):
    if len(shape) > D:
        raise ValueError(f"device arrays support at most {D} dimensions, got shape {tuple(shape)}")
    k = D - len(shape)
    return (1,) * k + tuple(shape), (0,) * k + tuple(strides)


def desc(a, shape):
    """(buffer, offset, shape, strides) of ``a`` broadcast to ``shape``, padded to D dimensions."""
    nd = len(shape)
    st = [0] * nd
    for i in range(1, a.ndim + 1):
        if a.shape[-i] != 1:
            st[-i] = a._strides[-i]
    sh, st = _pad(shape, st)
    return a.data, a.offset, sh, st


def _dummy(dtype):
    d = _DUMMIES.get(dtype)
    if d is None:
        d = _DUMMIES[dtype] = empty((1,), dtype)
    return d


_DUMMIES: dict = {}


def _fast(shape, *arrays):
    """Every array operand is contiguous with the result's shape: element i lies at offset + i."""
    return all(a.shape == tuple(shape) and a.is_contiguous() for a in arrays)


def _launch(kern, n, *args):
    if n:
        blocks, threads = kernels.launch(n)
        kernels.run(kern, blocks, threads, (n, *args))


def _is_scalar(x):
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, (np.ndarray, DeviceArray))


def _as_device(x, where):
    if isinstance(x, DeviceArray):
        return x
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return None  # a number
        raise TypeError(f"{where}: a device array met a host array of shape {x.shape}; move it with nn.gpu(x) "
                        f"(or dualnum.backends.cuda.to_device) first, so nothing is copied behind your back")
    if hasattr(type(x), "__array_ufunc__") and type(x).__array_ufunc__ is not None:
        return NotImplemented  # a DualArray, a tracked value, a dual number: theirs to compute
    if isinstance(x, (list, tuple)):
        raise TypeError(f"{where}: a device array met a Python list; make it an array and move it with nn.gpu")
    if _is_scalar(x):
        return None
    raise TypeError(f"{where}: cannot compute with {type(x).__name__} on the device")


# ---- ufuncs ------------------------------------------------------------------------------------------------------

_result_types: dict = {}


def _result_dtype(ufunc, operands):
    """numpy's result dtype for these operands (weak Python scalars included), from tiny host arrays."""
    key = (ufunc,) + tuple(o.dtype if isinstance(o, DeviceArray) else type(o) for o in operands)
    dt = _result_types.get(key)
    if dt is None:
        dummies = [np.zeros(1, o.dtype) if isinstance(o, DeviceArray) else o for o in operands]
        with np.errstate(all="ignore"):
            dt = ufunc(*dummies).dtype
        if dt == np.float16:
            dt = np.dtype(np.float32)
        _result_types[key] = dt = _check_dtype(dt, f"np.{ufunc.__name__}")
    return dt


def ufunc(uf, method, inputs, kwargs):
    out = kwargs.pop("out", None)
    if out is not None:
        out = out[0] if isinstance(out, tuple) else out
    for key in ("where", "casting", "order", "subok", "signature", "axes", "axis"):
        if key in kwargs and method == "__call__":
            raise TypeError(f"np.{uf.__name__}(..., {key}=) is not supported on device arrays")
    dtype = kwargs.pop("dtype", None)
    if method == "at" and uf is np.add:
        a, index = inputs[0], inputs[1]
        add_at(a, index, inputs[2] if len(inputs) > 2 else 1.0)
        return None
    if method == "reduce":
        op = {"add": "sum", "maximum": "max", "minimum": "min"}.get(uf.__name__)
        if op is None:
            raise TypeError(f"np.{uf.__name__}.reduce is not supported on device arrays (add, maximum and "
                            "minimum are)")
        axis = kwargs.pop("axis", 0)
        return reduce(op, inputs[0], axis, kwargs.pop("keepdims", False), out=out, dtype=dtype)
    if method != "__call__":
        raise TypeError(f"np.{uf.__name__}.{method} is not supported on device arrays")
    for x in inputs:
        if _as_device(x, f"np.{uf.__name__}") is NotImplemented:
            return NotImplemented  # a DualArray or tracked value of device arrays: theirs to compute
    if uf is np.matmul:
        return _out(matmul(*inputs), out)
    name = uf.__name__
    if name in ("divide",):
        name = "true_divide"
    if uf.nout != 1 or name not in _value_ufuncs():
        raise TypeError(f"np.{uf.__name__} is not supported on device arrays (no kernel computes it); copy on "
                        "purpose with nn.cpu(x) and use numpy there")
    if name in _BITWISE and any(isinstance(x, DeviceArray) and x.dtype.kind != "b" for x in inputs):
        raise TypeError(f"np.{uf.__name__} on device arrays takes bool arrays (masks) only, not integers")
    res = _elementwise(uf, name, inputs, dtype)
    return _out(res, out)


_BITWISE = frozenset(["invert", "bitwise_and", "bitwise_or", "bitwise_xor"])
_VALUE_UFUNCS: dict = {}


def _value_ufuncs():
    if not _VALUE_UFUNCS:
        _VALUE_UFUNCS.update(kernels.value_ufuncs())
    return _VALUE_UFUNCS


def _elementwise(uf, name, inputs, dtype=None):
    operands = list(inputs)
    arrays = [o for o in operands if isinstance(o, DeviceArray)]
    shape = np.broadcast_shapes(*[o.shape for o in arrays]) if arrays else ()
    rdt = _result_dtype(uf, operands)
    if dtype is not None:
        rdt = _check_dtype(dtype, f"np.{uf.__name__}")
    # compute in the floating type of the result (a comparison computes in its inputs' common type)
    cdt = rdt if rdt.kind == "f" else np.result_type(*[o.dtype for o in arrays])
    if cdt.kind != "f" and uf.nin == 2 and any(_is_scalar(o) and isinstance(o, float) for o in operands):
        cdt = np.dtype(np.float64)
    arrays_c = [a if a.dtype == cdt else astype(a, cdt) for a in arrays]
    it = iter(arrays_c)
    operands = [next(it) if isinstance(o, DeviceArray) else o for o in operands]
    out = empty(shape, rdt)
    n = out.size
    dense = [o for o in operands if isinstance(o, DeviceArray)]
    fast = _fast(shape, *dense)
    if uf.nin == 1:
        a = operands[0]
        if fast:
            _launch(kernels.get(f"map1c_{name}"), n, out.data, a.data, a.offset)
        else:
            _launch(kernels.get(f"map1_{name}"), n, False, out.data, *desc(a, shape))
        return out
    if uf.nin != 2:
        raise TypeError(f"np.{uf.__name__} is not supported on device arrays")
    if fast:  # contiguous operands of the result's shape, or numbers: the short launch
        args = []
        for o in operands:
            if isinstance(o, DeviceArray):
                args += [o.data, o.offset, 0, cdt.type(0)]
            else:
                args += [_dummy(cdt).data, 0, 1, cdt.type(o)]
        _launch(kernels.get(f"map2c_{name}"), n, out.data, *args)
        return out
    kern = kernels.get(f"map2_{name}")
    args = []
    for o in operands:
        if isinstance(o, DeviceArray):
            args += [*desc(o, shape), 0, cdt.type(0)]
        else:
            d = _dummy(cdt)
            args += [d.data, 0, _ONE, _ZERO, 1, cdt.type(o)]
    _launch(kern, n, False, out.data, *args)
    return out


def _out(res, out):
    if out is None:
        return res
    if not isinstance(out, DeviceArray):
        raise TypeError("out= must be a device array when computing on the device")
    if np.broadcast_shapes(out.shape, res.shape) != out.shape:
        raise ValueError(f"out= has shape {out.shape}, the result has shape {res.shape}")
    copy_into(out, res)
    return out


def copy_into(dst, src):
    """dst[...] = src (broadcast, cast to dst's dtype), through both arrays' strides."""
    from . import fusion
    if fusion._pending:  # a pending fused tree may read dst's old contents: compute those first
        fusion.force_all()
    shape = dst.shape
    kern = kernels.get("copy")
    src = src if src.dtype == dst.dtype else astype(src, dst.dtype)
    _launch(kern, dst.size, dst.data, dst.offset, *_pad(shape, dst._strides), *desc(src, shape))


def astype(a, dtype, copy=True):
    dtype = _check_dtype(dtype, "astype")
    if dtype == a.dtype and not copy:
        return a
    out = empty(a.shape, dtype)
    kern = kernels.get("copy")
    src = a
    if a.dtype != dtype:  # the copy kernel converts on assignment; both operands must share one type there
        src = _convert(a, dtype)
        if src is not a:
            return src
    _launch(kern, out.size, out.data, 0, *_pad(out.shape, out._strides), *desc(src, out.shape))
    return out


def _convert(a, dtype):
    # a cast is a map of the identity ufunc: np.positive on floats, != 0 to bool, a float conversion from bool/int
    if dtype.kind == "b":
        return _elementwise(np.not_equal, "not_equal", [a, 0])
    out = empty(a.shape, dtype)
    if a.is_contiguous():
        _launch(kernels.get("map1c_positive"), out.size, out.data, a.data, a.offset)
    else:
        _launch(kernels.get("map1_positive"), out.size, False, out.data, *desc(a, a.shape))
    return out


def contiguous(a, force=False):
    if a.is_contiguous() and not force:
        return a
    out = empty(a.shape, a.dtype)
    kern = kernels.get("copy")
    _launch(kern, out.size, out.data, 0, *_pad(out.shape, out._strides), *desc(a, a.shape))
    return out


# ---- views -------------------------------------------------------------------------------------------------------

def view(a, shape, strides, offset):
    return DeviceArray(a._buf, a.dtype, shape, strides, offset)


def reshape(a, shape):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    shape = list(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape[shape.index(-1)] = a.size // known if known else 0
    shape = tuple(shape)
    if math.prod(shape) != a.size:
        raise ValueError(f"cannot reshape a device array of size {a.size} into shape {shape}")
    if not a.is_contiguous():
        a = contiguous(a)
    return view(a, shape, _c_strides(shape), a.offset)


def transpose(a, axes=None):
    axes = tuple(range(a.ndim))[::-1] if axes is None else tuple(ax % a.ndim for ax in axes)
    return view(a, tuple(a.shape[i] for i in axes), tuple(a._strides[i] for i in axes), a.offset)


def broadcast_to(a, shape):
    shape = tuple(shape)
    if np.broadcast_shapes(a.shape, shape) != shape:
        raise ValueError(f"cannot broadcast a device array of shape {a.shape} to {shape}")
    _, _, _, st = desc(a, shape)
    return view(a, shape, st[D - len(shape):], a.offset)


def getitem(a, index):
    if not isinstance(index, tuple):
        index = (index,)
    fancy = [j for j, i in enumerate(index) if isinstance(i, (DeviceArray, np.ndarray, list))]
    if fancy:
        return _gather(a, index, fancy)
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    if Ellipsis in index:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (a.ndim - n_real) + index[k + 1:]
    else:
        index = index + (slice(None),) * (a.ndim - n_real)
    shape, strides, offset, d = [], [], a.offset, 0
    for i in index:
        if i is None:
            shape.append(1)
            strides.append(0)
            continue
        if d >= a.ndim:
            raise IndexError(f"too many indices for a device array of shape {a.shape}")
        n, s = a.shape[d], a._strides[d]
        if isinstance(i, slice):
            start, stop, step = i.indices(n)
            m = len(range(start, stop, step))
            offset += start * s if m else 0
            shape.append(m)
            strides.append(s * step)
        elif isinstance(i, (numbers.Integral, np.integer)):
            j = int(i)
            if not -n <= j < n:
                raise IndexError(f"index {j} is out of bounds for axis {d} with size {n}")
            offset += (j % n) * s
        else:
            raise TypeError(f"device arrays cannot be indexed with {type(i).__name__}")
        d += 1
    return view(a, tuple(shape), tuple(strides), offset)


def _gather(a, index, fancy):
    """a[..., idx, ...] with one integer (or host boolean) index array among basic indices: a gather launch."""
    if len(fancy) > 1:
        raise TypeError("device arrays take one index array per indexing (x[:, idx]); index in two steps")
    j = fancy[0]
    idx = index[j]
    if isinstance(idx, DeviceArray):
        raise TypeError("an index array on the device would need its values on the host to size the result: "
                        "index with a host array (numpy) of positions, or use np.where for a mask")
    idx = np.asarray(idx)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise TypeError(f"device arrays take a 1-D array of integer positions as an index, got dtype {idx.dtype} "
                        f"and shape {idx.shape}")
    if any(i is None or i is Ellipsis for i in index[:j]) and Ellipsis not in index[:j]:
        raise TypeError("device arrays: put None after the index array, not before it")
    # the axis the array indexes: counted from the left, or from the right after an Ellipsis
    if Ellipsis in index[:j]:
        axis = a.ndim - (len(index) - j)
    else:
        axis = sum(1 for i in index[:j] if i is not None)
    basic = index[:j] + (slice(None),) + index[j + 1:]
    v = getitem(a, basic)
    # where that axis lies in the view: integer indices before it removed their axes
    vaxis = axis - sum(1 for i in index[:j] if isinstance(i, (numbers.Integral, np.integer)))
    n_ax = a.shape[axis]
    if idx.size and (idx.min() < -n_ax or idx.max() >= n_ax):
        raise IndexError(f"index {int(idx.max() if idx.max() >= n_ax else idx.min())} is out of bounds for axis "
                         f"{axis} with size {n_ax}")
    pos = to_device((idx % n_ax).astype(np.int64))
    shape = v.shape[:vaxis] + (idx.size,) + v.shape[vaxis + 1:]
    out = empty(shape, a.dtype)
    sh, st = _pad(shape, v._strides)
    _launch(kernels.get("gather"), out.size, out.data, v.data, v.offset, sh, st, pos.data, D - len(shape) + vaxis)
    # numpy's rule: an integer and the index array are both advanced indices; separated by a slice, their
    # result's axis goes first
    advanced = [p for p, i in enumerate(index) if p == j or isinstance(i, (numbers.Integral, np.integer))]
    if advanced[-1] - advanced[0] != len(advanced) - 1 and vaxis != 0:
        out = transpose(out, (vaxis,) + tuple(d for d in range(out.ndim) if d != vaxis))
    return out


def add_at(z, index, g):
    """np.add.at(z, index, g) for one host index array among basic indices: repeated positions add up, in a
    fixed order (the adjoint of a gather, an embedding lookup's gradient)."""
    if not isinstance(index, tuple):
        index = (index,)
    fancy = [j for j, i in enumerate(index) if isinstance(i, (DeviceArray, np.ndarray, list))]
    if len(fancy) != 1 or any(isinstance(i, (numbers.Integral, np.integer)) for i in index):
        raise TypeError("np.add.at on device arrays takes one host index array among slices (z[:, idx])")
    j = fancy[0]
    idx = np.asarray(index[j]) if not isinstance(index[j], DeviceArray) else None
    if idx is None or idx.ndim != 1:
        raise TypeError("np.add.at on device arrays takes a 1-D host array of positions")
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    v = getitem(z, index[:j] + (slice(None),) + index[j + 1:])
    axis = v.ndim - (len(index) - j) + sum(1 for i in index[j + 1:] if i is None) if Ellipsis in index[:j] \
        else sum(1 for i in index[:j] if i is not None)
    n_ax = v.shape[axis]
    pos = idx.astype(np.int64) % n_ax
    order = np.argsort(pos, kind="stable")
    starts = np.searchsorted(pos[order], np.arange(n_ax + 1))
    if not isinstance(g, DeviceArray):
        g = full(v.shape[:axis] + (idx.size,) + v.shape[axis + 1:], g, z.dtype)
    g = broadcast_to(g if g.dtype == z.dtype else astype(g, z.dtype), v.shape[:axis] + (idx.size,) + v.shape[axis + 1:])
    zsh, zst = _pad(v.shape, v._strides)
    _, gst = _pad(g.shape, g._strides)
    ax = D - v.ndim + axis
    starts, order = to_device(starts.astype(np.int64)), to_device(order.astype(np.int64))  # (held: a freed
    # buffer goes back to the pool at once, and the next array would be written into it before the launch)
    _launch(kernels.get("scatter_add"), v.size, v.data, v.offset, zsh, zst, g.data, g.offset, gst, starts.data,
            order.data, ax)
    return z


def setitem(a, index, value):
    target = getitem(a, index) if index != () else a
    if isinstance(value, DeviceArray):
        copy_into(target, value)
    elif _is_scalar(value) or (isinstance(value, np.ndarray) and value.ndim == 0):
        copy_into(target, to_device(np.asarray(value, dtype=a.dtype)))
    else:
        _as_device(value, "x[...] = value")


# ---- reductions ------------------------------------------------------------------------------------------------

def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, numbers.Integral):
        axis = (axis,)
    out = []
    for ax in axis:
        if not -ndim <= ax < max(ndim, 1):
            raise np.exceptions.AxisError(f"axis {ax} is out of bounds for array of dimension {ndim}")
        out.append(ax % max(ndim, 1))
    return tuple(sorted(set(out)))


def reduce(op, a, axis=None, keepdims=False, out=None, dtype=None):
    """sum, max or min over ``axis``: one block per chunk of each output, a tree inside it, a second pass if a
    reduced length spans several chunks. Deterministic: the launch fixes the order of every addition."""
    if not isinstance(a, DeviceArray):
        a = _as_device(a, f"np.{op}")
    axes = _axes(axis, a.ndim)
    kept = [d for d in range(a.ndim) if d not in axes]
    m = math.prod(a.shape[d] for d in kept)
    length = math.prod(a.shape[d] for d in axes)
    if op == "sum":
        rdt = np.dtype(dtype) if dtype is not None else (a.dtype if a.dtype.kind == "f" else np.dtype(np.int64))
    else:
        if length == 0:
            raise ValueError(f"zero-size array to reduction operation {op}imum which has no identity")
        rdt = a.dtype
    perm = kept + list(axes)
    shape = tuple(a.shape[d] for d in perm)
    strides = tuple(a._strides[d] for d in perm)
    res = _reduce_flat(op, a.data, a.offset, shape, strides, m, length)
    out_shape = tuple(1 if d in axes else a.shape[d] for d in range(a.ndim)) if keepdims else \
        tuple(a.shape[d] for d in kept)
    res = reshape(res, out_shape)
    if rdt != res.dtype:
        res = astype(res, rdt)
    return _out(res, out)


def _reduce_flat(op, data, offset, shape, strides, m, length):
    c = kernels.config()
    kern = kernels.get(f"reduce_{op}")
    nchunks = max(1, -(-length // c.chunk))
    part = empty((m * nchunks,), np.float64)
    if m:
        blocks = (max(1, min(m, c.max_blocks)), nchunks)
        sh, st = _pad(shape, strides)
        kernels.run(kern, blocks, c.reduce_threads, (m, length, c.chunk, part.data, data, offset, sh, st))
    if nchunks == 1:
        return part
    return _reduce_flat(op, part.data, 0, (m, nchunks), (nchunks, 1), m, nchunks)


def mean(a, axis=None, keepdims=False, out=None, dtype=None):
    axes = _axes(axis, a.ndim)
    count = math.prod(a.shape[d] for d in axes)
    s = reduce("sum", a, axis, keepdims, dtype=dtype if dtype is not None else
               (a.dtype if a.dtype.kind == "f" else np.float64))
    return _out(_elementwise(np.true_divide, "true_divide", [s, float(count)]) if count else
                _elementwise(np.multiply, "multiply", [s, math.nan]), out)


# ---- matrix products ---------------------------------------------------------------------------------------------

def _mat3(a, name):
    """a as a batch of matrices: (shape (batch, m, k), batch stride, row stride, column stride)."""
    if a.ndim == 2:
        return (1,) + a.shape, 0, a._strides[0], a._strides[1]
    if a.ndim == 3:
        return a.shape, (a._strides[0] if a.shape[0] != 1 else 0), a._strides[1], a._strides[2]
    raise ValueError(f"{name}: device matmul takes 1-, 2- or 3-dimensional operands, got shape {a.shape}")


def matmul(a, b, da=None, db=None):
    """a @ b, and with partials (k, ...) of a and/or b, also every direction dA_j·B + A·dB_j: one launch.

    Returns the product, or (product, partials) when partials are given."""
    for x in (a, b):
        if not isinstance(x, DeviceArray):
            x2 = _as_device(x, "@")
            if x2 is NotImplemented:
                return NotImplemented
            raise TypeError("@ with a device array needs two arrays")
    va, vb = a.ndim == 1, b.ndim == 1
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: an operand is a scalar; use * for that")
    A = a[None, :] if va else a
    B = b[:, None] if vb else b
    if da is not None:
        da = da[:, None, :] if va else da
    if db is not None:
        db = db[:, :, None] if vb else db
    (ba, M, K), sab, sa0, sa1 = _mat3(A, "matmul")
    (bb, K2, N), sbb, sb0, sb1 = _mat3(B, "matmul")
    if K != K2:
        raise ValueError(f"matmul: the inner sizes differ: {a.shape} @ {b.shape} ({K} != {K2})")
    if ba != bb and 1 not in (ba, bb):
        raise ValueError(f"matmul: batch sizes {ba} and {bb} do not broadcast")
    batch = max(ba, bb)
    dt = np.result_type(A.dtype, B.dtype)
    if dt.kind != "f":
        dt = np.dtype(np.float64)
    A, B = (A if A.dtype == dt else astype(A, dt)), (B if B.dtype == dt else astype(B, dt))
    if A.ndim == 2:
        sab = 0
    else:
        sab = A._strides[0] if A.shape[0] != 1 else 0
    sa0, sa1 = A._strides[-2], A._strides[-1]
    sb0, sb1 = B._strides[-2], B._strides[-1]
    sbb = 0 if B.ndim == 2 or B.shape[0] == 1 else B._strides[0]
    k = 0
    dargs = []
    for p, nd in ((da, A.ndim), (db, B.ndim)):
        if p is None:
            dargs.append((_dummy(dt).data, 0, 0, 0, 0, 0, 0))
            continue
        k = p.shape[0]
        p = p if p.dtype == dt else astype(p, dt)
        pb = p._strides[1] if (p.ndim == 4 and p.shape[1] != 1) else 0
        dargs.append((p.data, p.offset, pb, p._strides[0], p._strides[-2], p._strides[-1], 1))
    nz = k + 1
    out = empty((batch * nz, M, N), dt)
    c = kernels.config()
    bm, bn = c.ty * c.rm, c.tx * c.rn
    name = "matmul"
    if -(-M // bm) * -(-N // bn) * batch * nz < c.sms:  # too few big tiles to fill the device: smaller ones
        ty, tx, rm, rn, _ = c.small
        bm, bn, name = ty * rm, tx * rn, "matmulsmall"
    grid = (max(1, -(-N // bn)), max(1, -(-M // bm)), batch * nz)
    if M and N and batch:
        if K == 0:
            out.fill(0.0)
        else:
            kern = kernels.get(f"{name}_{dt.name}")
            threads = (c.small[1], c.small[0]) if name == "matmulsmall" else (c.tx, c.ty)
            kernels.run(kern, grid, threads, (M, N, K, nz, out.data, A.data, A.offset, sab, sa0, sa1, *dargs[0],
                                              B.data, B.offset, sbb, sb0, sb1, *dargs[1]))
    # out is (batch, nz, M, N) in memory: the value is z = 0, direction j is z = j
    full = view(out, (batch, nz, M, N), (nz * M * N, M * N, N, 1), 0)
    value = full[:, 0]
    parts = transpose(full[:, 1:], (1, 0, 2, 3))
    if A.ndim == 2 and B.ndim == 2:
        value, parts = value[0], parts[:, 0]
    if va:
        value, parts = value[..., 0, :], parts[..., 0, :]
    if vb:
        value, parts = value[..., 0], parts[..., 0]
    if da is None and db is None:
        return value
    return value, parts


@implements(np.matmul)
def _matmul(a, b, out=None):
    return _out(matmul(a, b), out)


@implements(np.dot)
def _dot(a, b, out=None):
    if getattr(a, "ndim", 0) == 0 or getattr(b, "ndim", 0) == 0:
        return _out(_elementwise(np.multiply, "multiply", [a, b]), out)
    if a.ndim > 2 or b.ndim > 2:
        raise TypeError("np.dot of arrays over 2 dimensions is not supported on device arrays; use np.matmul")
    return _out(matmul(a, b), out)


# ---- numpy functions ---------------------------------------------------------------------------------------------

@implements(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return reduce("sum", a, axis, keepdims, out=out, dtype=dtype)


@implements(np.mean)
def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return mean(a, axis, keepdims, out=out, dtype=dtype)


@implements(np.max, np.amax)
def _max(a, axis=None, out=None, keepdims=False, **kw):
    return reduce("max", a, axis, keepdims, out=out)


@implements(np.min, np.amin)
def _min(a, axis=None, out=None, keepdims=False, **kw):
    return reduce("min", a, axis, keepdims, out=out)


@implements(np.all)
def _all(a, axis=None, out=None, keepdims=False, **kw):
    return _out(reduce("min", astype(_elementwise(np.not_equal, "not_equal", [a, 0]), np.float64), axis,
                       keepdims) != 0, out)


@implements(np.any)
def _any(a, axis=None, out=None, keepdims=False, **kw):
    return _out(reduce("max", astype(_elementwise(np.not_equal, "not_equal", [a, 0]), np.float64), axis,
                       keepdims) != 0, out)


@implements(np.reshape)
def _reshape(a, newshape=None, order="C", shape=None, **kw):
    return reshape(a, shape if shape is not None else newshape)


@implements(np.transpose)
def _transpose(a, axes=None):
    return transpose(a, axes)


@implements(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    axes = list(range(a.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(a, axes)


@implements(np.broadcast_to)
def _broadcast_to(a, shape, subok=False):
    return broadcast_to(a, (shape,) if isinstance(shape, numbers.Integral) else shape)


@implements(np.expand_dims)
def _expand_dims(a, axis):
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    nd = a.ndim + len(axes)
    axes = sorted(ax % nd for ax in axes)
    shape = list(a.shape)
    strides = list(a._strides)
    for ax in axes:
        shape.insert(ax, 1)
        strides.insert(ax, 0)
    return view(a, tuple(shape), tuple(strides), a.offset)


@implements(np.squeeze)
def _squeeze(a, axis=None):
    axes = tuple(d for d in range(a.ndim) if a.shape[d] == 1) if axis is None else _axes(axis, a.ndim)
    for d in axes:
        if a.shape[d] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    keep = [d for d in range(a.ndim) if d not in axes]
    return view(a, tuple(a.shape[d] for d in keep), tuple(a._strides[d] for d in keep), a.offset)


@implements(np.ravel)
def _ravel(a, order="C"):
    return reshape(a, (-1,))


@implements(np.copy)
def _copy(a, order="K", subok=False):
    return contiguous(a, force=True)


def _like(a, dtype, shape):
    dt = a.dtype if dtype is None else _check_dtype(dtype, "*_like")
    return dt, (a.shape if shape is None else ((shape,) if isinstance(shape, numbers.Integral) else tuple(shape)))


def full(shape, value, dtype=np.float64):
    out = empty(shape, dtype)
    _launch(kernels.get("fill"), out.size, out.data, out.dtype.type(value))
    return out


@implements(np.zeros_like)
def _zeros_like(a, dtype=None, order="K", subok=True, shape=None, **kw):
    dt, sh = _like(a, dtype, shape)
    return full(sh, 0, dt)


@implements(np.ones_like)
def _ones_like(a, dtype=None, order="K", subok=True, shape=None, **kw):
    dt, sh = _like(a, dtype, shape)
    return full(sh, 1, dt)


@implements(np.full_like)
def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kw):
    dt, sh = _like(a, dtype, shape)
    return full(sh, fill_value, dt)


@implements(np.empty_like)
def _empty_like(a, dtype=None, order="K", subok=True, shape=None, **kw):
    dt, sh = _like(a, dtype, shape)
    return empty(sh, dt)


@implements(np.where)
def _where(c, x=None, y=None):
    if x is None or y is None:
        raise TypeError("np.where(condition) (the indices) is not supported on device arrays")
    arrays = [o for o in (c, x, y) if isinstance(o, DeviceArray)]
    for o in (c, x, y):
        if _as_device(o, "np.where") is NotImplemented:
            return NotImplemented
    shape = np.broadcast_shapes(*[o.shape for o in arrays])
    vals = [o for o in (x, y)]
    dt = np.result_type(*[o.dtype if isinstance(o, DeviceArray) else o for o in vals])
    dt = _check_dtype(dt if dt.kind == "f" or dt.kind == "b" else np.float64, "np.where")
    if not isinstance(c, DeviceArray):
        c = to_device(np.asarray(c, dtype=bool))
    args = [*desc(c, shape)]
    for o in vals:
        if isinstance(o, DeviceArray):
            o = o if o.dtype == dt else astype(o, dt)
            args += [*desc(o, shape), 0, dt.type(0)]
        else:
            args += [_dummy(dt).data, 0, _ONE, _ZERO, 1, dt.type(o)]
    out = empty(shape, dt)
    _launch(kernels.get("where"), out.size, out.data, *args)
    return out


@implements(np.clip)
def _clip(a, a_min=None, a_max=None, out=None, **kw):
    r = a
    if a_min is not None:
        r = _elementwise(np.maximum, "maximum", [r, a_min])
    if a_max is not None:
        r = _elementwise(np.minimum, "minimum", [r, a_max])
    return _out(r, out)


@implements(np.concatenate)
def _concatenate(arrays, axis=0, out=None, **kw):
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [reshape(a, (-1,)) for a in arrays], 0
    first = arrays[0]
    ax = axis % first.ndim
    total = sum(a.shape[ax] for a in arrays)
    shape = first.shape[:ax] + (total,) + first.shape[ax + 1:]
    dt = np.result_type(*[a.dtype for a in arrays])
    res = empty(shape, dt)
    at = 0
    for a in arrays:
        if not isinstance(a, DeviceArray):
            _as_device(a, "np.concatenate")
        idx = (slice(None),) * ax + (slice(at, at + a.shape[ax]),)
        copy_into(getitem(res, idx), a)
        at += a.shape[ax]
    return _out(res, out)


@implements(np.stack)
def _stack(arrays, axis=0, out=None, **kw):
    arrays = list(arrays)
    ax = axis % (arrays[0].ndim + 1)
    return _concatenate([_expand_dims(a, ax) for a in arrays], axis=ax, out=out)


@implements(np.shape)
def _shape(a):
    return a.shape


@implements(np.ndim)
def _ndim(a):
    return a.ndim


@implements(np.size)
def _size(a, axis=None):
    return a.size if axis is None else a.shape[axis]


@implements(np.result_type)
def _result_type(*args):
    return np.result_type(*[a.dtype if isinstance(a, DeviceArray) else a for a in args])


@implements(np.may_share_memory, np.shares_memory)
def _may_share(a, b, max_work=None):
    return isinstance(a, DeviceArray) and isinstance(b, DeviceArray) and a._buf is b._buf


@implements(np.isclose)
def _isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    diff = np.abs(a - b)
    return diff <= atol + rtol * np.abs(b)


@implements(np.allclose)
def _allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(_all(_isclose(a, b, rtol, atol)))


@implements(np.array_equal)
def _array_equal(a, b, equal_nan=False):
    return a.shape == b.shape and bool(_all(a == b))



@implements(np.moveaxis)
def _moveaxis(a, source, destination):
    src = [source] if isinstance(source, numbers.Integral) else list(source)
    dst = [destination] if isinstance(destination, numbers.Integral) else list(destination)
    src, dst = [s % a.ndim for s in src], [d % a.ndim for d in dst]
    order = [n for n in range(a.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


@implements(np.atleast_1d)
def _atleast_1d(*arys):
    res = [a if a.ndim else reshape(a, (1,)) for a in arys]
    return res[0] if len(res) == 1 else res


@implements(np.sinc)
def _sinc(x):  # a numpy function, not a ufunc: the table's sinc, elementwise
    return _elementwise(np.sin, "sinc", [x])
