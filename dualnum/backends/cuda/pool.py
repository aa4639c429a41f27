"""A memory pool for device buffers: a freed buffer is kept, by size class, for the next allocation of that class.

cudaMalloc and cudaFree synchronise the device and cost microseconds each; a training step allocates the same
sizes every time, so after the first step every allocation is served from here. Sizes are rounded up to a
class (a power of two, or a quarter step between powers above 1 MiB) so near sizes share buffers. The pool keeps
at most :data:`LIMIT` bytes of free buffers; an allocation that fails empties it and tries again.
"""
from __future__ import annotations

import threading

LIMIT = 8 << 30
_free: dict = {}  # (size class in bytes, dtype) -> [device arrays]
#: every device array the pool made, in use or free, held here until ``clear`` releases the free ones. Why: a
#: Buffer in a reference cycle is collected by Python's cycle collector, which runs the weak-reference callbacks
#: of everything unreachable -- numba's "free this memory" among them -- *before* Buffer.__del__ could hand the
#: array back to the pool. Held here, the array is never unreachable, so only the pool decides when it is freed.
_owned: dict = {}
_held = [0]  # bytes in _free
_lock = threading.Lock()


def size_class(nbytes: int) -> int:
    n = max(int(nbytes), 256)
    p = 1 << (n - 1).bit_length()
    if p > (1 << 20):
        q = p // 8  # quarter steps between p/2 and p
        return -(-n // q) * q
    return p


class Buffer:
    """A flat device array of ``dtype`` holding ``size_class(nbytes)`` bytes; back to the pool when unused.

    Each buffer is typed and never sliced into views of views: numba's device arrays keep a slice's memory
    alive only through a weak proxy to its parent, so every array here is one allocation, used whole."""

    __slots__ = ("data", "key", "__weakref__")

    def __init__(self, nbytes, dtype):
        from numba import cuda
        size = size_class(nbytes)
        self.key = (size, dtype.str)
        with _lock:
            free = _free.get(self.key)
            if free:
                self.data = free.pop()
                _held[0] -= size
                return
        try:
            data = cuda.device_array(size // dtype.itemsize, dtype=dtype)
        except Exception:  # out of memory: give the pool's buffers back to the device, and try once more
            clear()
            data = cuda.device_array(size // dtype.itemsize, dtype=dtype)
        with _lock:
            _owned[id(data)] = data
        self.data = data

    def __del__(self):
        data = getattr(self, "data", None)
        if data is None:
            return
        size = self.key[0]
        with _lock:
            if _held[0] + size <= LIMIT:
                _free.setdefault(self.key, []).append(data)
                _held[0] += size
            else:
                _owned.pop(id(data), None)  # the pool is full: this one goes back to the device


def clear():
    """Give every free buffer back to the device."""
    with _lock:
        for arrays in _free.values():
            for data in arrays:
                _owned.pop(id(data), None)
        _free.clear()
        _held[0] = 0


def held() -> int:
    """Bytes of free buffers the pool keeps."""
    return _held[0]
