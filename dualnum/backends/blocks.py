"""Big output blocks of the numba kernels, kept and handed out again once nothing refers to them.

An array of more than 128 KiB is mapped fresh from the operating system by glibc and unmapped when freed, so every
new one faults in its pages again (a dual array with k directions is k + 1 times a plain one). The kernels here
write every number of their output, so an old block serves as well as a new one. A block is free again when no
array refers to it: every view of a block (the value, the partials, slices of them) holds a reference to it, so
its reference count falls back to what this module's own list gives it. Only dualnum's own outputs are kept this
way (numpy allocates the results of its operations itself), at most :data:`LIMIT` bytes, and a block that has not
been handed out for :data:`STALE` big allocations is given back. ``clear()`` gives every free block back.
"""
from __future__ import annotations

import math
import sys
import threading

import numpy as np

MIN_BYTES = 1 << 20  # smaller blocks: malloc's own free lists reuse them without faults
LIMIT = 128 << 20  # bytes of blocks kept, in use or free
STALE = 256  # a free block not handed out for this many big allocations is given back

_blocks: list = []  # [raw float64 array, allocation count when last handed out]
_count = [0]  # big allocations so far
_lock = threading.Lock()


def _refs(raw):
    return sys.getrefcount(raw)


def _baseline():
    """What ``_refs`` reads for a block that only this module's list refers to (measured, not assumed)."""
    entry = [np.empty(1), 0]
    kept = [entry]
    for e in kept:
        return _refs(e[0])


_FREE = _baseline()


def empty(shape) -> np.ndarray:
    """An uninitialised float64 array of ``shape``: a kept block when one of that size is free."""
    n = math.prod(shape)
    if n * 8 < MIN_BYTES:
        return np.empty(shape)
    with _lock:
        _count[0] += 1
        now = _count[0]
        found = None
        for e in _blocks:
            if e[0].size == n and _refs(e[0]) == _FREE:
                found = e
                break
        if found is None:
            found = [np.empty(n), now]
            _blocks.append(found)
        found[1] = now
        _trim(now)
        return found[0].reshape(shape)


def _trim(now):
    """Forget free blocks not handed out for STALE allocations, and the oldest ones beyond LIMIT."""
    keep = []
    total = 0
    for e in reversed(_blocks):  # newest first
        if _refs(e[0]) == _FREE and (now - e[1] > STALE or total + e[0].nbytes > LIMIT):  # (as _baseline asks)
            continue
        keep.append(e)
        total += e[0].nbytes
    keep.reverse()
    _blocks[:] = keep


def clear():
    """Give every free block back (blocks still in use stay with their arrays, and are forgotten here)."""
    with _lock:
        _blocks.clear()


def held() -> int:
    """Bytes of blocks this module keeps, in use or free."""
    return sum(e[0].nbytes for e in _blocks)
