"""A memory pool for device buffers: a freed buffer is kept, by size class, for the next allocation of that class.

cudaMalloc and cudaFree synchronise the device and cost microseconds each; a training step allocates the same
sizes every time, so after the first step every allocation is served from here. Sizes are rounded up to a
class (a power of two, or a quarter step between powers above 1 MiB) so near sizes share buffers. The pool keeps
at most :data:`LIMIT` bytes of free buffers; an allocation that fails empties it and tries again.
"""
from __future__ import annotations

import threading

LIMIT = 1 << 30
_free: dict = {}  # (size class in bytes) -> [device buffers]
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
    """A flat device buffer of ``size_class(nbytes)`` bytes; returned to the pool when no array uses it."""

    __slots__ = ("data", "nbytes", "_views", "__weakref__")

    def __init__(self, nbytes):
        from numba import cuda
        import numpy as np
        self.nbytes = size_class(nbytes)
        self._views = {}
        with _lock:
            free = _free.get(self.nbytes)
            if free:
                self.data = free.pop()
                _held[0] -= self.nbytes
                return
        try:
            self.data = cuda.device_array(self.nbytes, dtype=np.uint8)
        except Exception:  # out of memory: give the pool's buffers back to the device, and try once more
            clear()
            self.data = cuda.device_array(self.nbytes, dtype=np.uint8)

    def view(self, dtype, count):
        """The first ``count`` elements as a flat device array of ``dtype`` (no copy)."""
        key = (dtype, count)
        v = self._views.get(key)
        if v is None:
            v = self._views[key] = self.data[:count * dtype.itemsize].view(dtype)
        return v

    def __del__(self):
        data = getattr(self, "data", None)
        if data is None:
            return
        with _lock:
            if _held[0] + self.nbytes <= LIMIT:
                _free.setdefault(self.nbytes, []).append(data)
                _held[0] += self.nbytes


def clear():
    """Give every free buffer back to the device."""
    with _lock:
        _free.clear()
        _held[0] = 0


def held() -> int:
    """Bytes of free buffers the pool keeps."""
    return _held[0]
