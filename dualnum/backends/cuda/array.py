"""DeviceArray: an array in GPU memory that ordinary numpy code runs on.

A DeviceArray is a flat device buffer plus a shape, strides and an offset (in elements), as numpy's own arrays
are: a transpose, a slice or a broadcast is a new view of the same buffer, never a copy. numpy's protocols send
every operation to a kernel of :mod:`.kernels` -- ``__array_ufunc__`` the ufuncs of the rules table and the
comparisons, ``__array_function__`` sums, ``@``, reshaping and the rest -- so ``np.tanh(W @ x + b)`` runs on the
GPU unchanged, and a DualArray or a tracked value holding DeviceArrays runs forward or reverse mode there.

Nothing crosses to the host except on purpose: :meth:`get` (``nn.cpu``), ``float()``, ``bool()`` of one element,
and printing. ``np.asarray(d)`` raises instead of copying silently, so a host round-trip in the middle of a
computation is found, not paid for.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..._numpy.protocol import registrar
from . import kernels, pool

DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.bool_), np.dtype(np.int64))
HANDLED: dict = {}


implements = registrar(HANDLED)


def _check_dtype(dtype, what):
    dtype = np.dtype(dtype)
    if dtype not in DTYPES:
        raise TypeError(f"{what}: device arrays hold float64, float32, bool or int64, not {dtype}; convert on "
                        f"the host first (x.astype(np.float32))")
    return dtype


def _c_strides(shape):
    st, s = [], 1
    for n in reversed(shape):
        st.append(s)
        s *= n
    return tuple(reversed(st))


class DeviceArray(NDArrayOperatorsMixin):
    """``shape`` elements of ``dtype`` in a device buffer, at ``offset + Σ index·stride`` (strides in elements)."""

    __slots__ = ("_buf", "offset", "shape", "_strides", "dtype", "__weakref__")
    _is_device = True
    __array_priority__ = 100

    def __init__(self, buf, dtype, shape, strides=None, offset=0):
        self._buf = buf
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(n) for n in shape)
        self._strides = _c_strides(self.shape) if strides is None else tuple(int(s) for s in strides)
        self.offset = int(offset)

    # ---- attributes ------------------------------------------------------------------------------------------
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))
    itemsize = property(lambda self: self.dtype.itemsize)
    nbytes = property(lambda self: self.size * self.dtype.itemsize)
    strides = property(lambda self: tuple(s * self.dtype.itemsize for s in self._strides),
                       doc="strides in bytes, as numpy's")
    T = property(lambda self: self.transpose())
    device = "cuda"

    @property
    def data(self):
        """The flat device buffer this array's elements lie in (from ``offset``, through ``strides``)."""
        return self._buf.data

    def is_contiguous(self):
        return all(n == 1 or s == c for n, s, c in zip(self.shape, self._strides, _c_strides(self.shape)))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d device array")
        return self.shape[0]

    # ---- crossing to the host: on purpose only ----------------------------------------------------------------
    def get(self) -> np.ndarray:
        """A numpy copy on the host (``nn.cpu`` calls this)."""
        a = self if self.is_contiguous() else self.copy()
        n = a.size
        if n == 0:
            return np.empty(a.shape, a.dtype)
        host = a.data[a.offset:a.offset + n].copy_to_host()
        return host.reshape(a.shape)

    copy_to_host = get

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"a device array (shape {self.shape}, {self.dtype}) does not become a numpy array implicitly: that "
            "would copy it to the host in the middle of a computation. Keep the computation on the device, or "
            "copy on purpose with nn.cpu(x) (or x.get()).")

    def item(self):
        if self.size != 1:
            raise ValueError(f"can only convert a device array of size 1 to a Python scalar, not shape "
                             f"{self.shape}")
        return self.get().reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.size != 1:
            raise ValueError("the truth value of a device array with more than one element is ambiguous; use "
                             "np.any(x) or np.all(x)")
        return bool(self.item())

    def __index__(self):
        raise TypeError("a device array cannot be used as an index")

    def __repr__(self):
        return "DeviceArray(" + np.array2string(self.get(), separator=", ", prefix="DeviceArray(") + \
            f", dtype={self.dtype})"

    def __str__(self):
        return str(self.get())

    def __hash__(self):
        raise TypeError("unhashable type: 'DeviceArray'")

    def __reduce__(self):
        return to_device, (self.get(),)

    # ---- numpy's protocols ---------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from . import ops
        return ops.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from . import ops  # noqa: F401  (registers the handlers)
        h = HANDLED.get(func)
        if h is None:
            raise TypeError(f"np.{getattr(func, '__name__', func)} is not supported on device arrays (nothing was "
                            "copied to the host); copy on purpose with nn.cpu(x) or x.get() and use numpy there, "
                            "or write it with supported functions")
        return h(*args, **kwargs)

    # ---- methods that numpy code calls ------------------------------------------------------------------------
    def reshape(self, *shape, order="C"):
        from . import ops
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def transpose(self, *axes):
        from . import ops
        if len(axes) == 1 and not isinstance(axes[0], numbers.Integral) and axes[0] is not None:
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    def copy(self, order="C"):
        from . import ops
        return ops.contiguous(self, force=True)

    def astype(self, dtype, copy=True):
        from . import ops
        return ops.astype(self, dtype, copy)

    def ravel(self, order="C"):
        return self.reshape(-1)

    def flatten(self, order="C"):
        return self.copy().reshape(-1)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        from . import ops
        return ops.reduce("sum", self, axis, keepdims, out=out, dtype=dtype)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        from . import ops
        return ops.mean(self, axis, keepdims, out=out, dtype=dtype)

    def max(self, axis=None, out=None, keepdims=False):
        from . import ops
        return ops.reduce("max", self, axis, keepdims, out=out)

    def min(self, axis=None, out=None, keepdims=False):
        from . import ops
        return ops.reduce("min", self, axis, keepdims, out=out)

    def fill(self, value):
        from . import ops
        ops.setitem(self, (), value)

    def __getitem__(self, index):
        from . import ops
        return ops.getitem(self, index)

    def __setitem__(self, index, value):
        from . import ops
        ops.setitem(self, index, value)

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d device array")
        return (self[i] for i in range(self.shape[0]))


def empty(shape, dtype=np.float64) -> DeviceArray:
    """An uninitialised contiguous device array (from the pool)."""
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    dtype = _check_dtype(dtype, "empty")
    n = math.prod(shape)
    return DeviceArray(pool.Buffer(n * dtype.itemsize, dtype), dtype, shape)


def to_device(a, dtype=None) -> DeviceArray:
    """A device copy of a host array (or number); a device array is returned as it is."""
    if isinstance(a, DeviceArray):
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    if getattr(a, "_is_dualarray", False) or getattr(a, "_is_tracked", False):
        raise TypeError("to_device takes plain arrays; move a model or a tracked value with nn.gpu")
    h = np.asarray(a, dtype=dtype)
    if h.dtype.kind in "iu":
        h = h.astype(np.int64)
    elif h.dtype == np.float16:
        h = h.astype(np.float32)
    dtype = _check_dtype(h.dtype, "to_device")
    d = empty(h.shape, dtype)
    if h.size:
        d.data[:h.size].copy_to_device(np.ascontiguousarray(h).reshape(-1))
    return d


def is_device(x) -> bool:
    return type(x) is DeviceArray
