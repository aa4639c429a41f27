"""Keep freed memory for reuse, so a new array does not pay a page fault for every 4 KiB it touches.

Dual numbers allocate several times the arrays of plain numpy (a value and k partials per operation, and
nested partials for Hessians). With glibc's defaults, an array over 128 KiB is mapped fresh from the kernel
and unmapped when freed, so the next one faults in every page again: a forward-over-forward Hessian at
n = 100 took 19 ms that way and 4-6 ms with the settings below (benchmarks/b3_hessian.py), and plain numpy
code speeds up too. Freed blocks up to 32 MiB are kept in the process's heap instead (up to 128 MiB of them).
Set ``DUALNUM_MALLOPT=0`` to leave the allocator alone. Other C libraries: nothing happens.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_done = None


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 128 << 20) -> bool:
    """Ask glibc to serve blocks up to ``mmap_threshold`` bytes from the heap and keep freed ones; True if done."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("DUALNUM_MALLOPT", "1") == "0" or not sys.platform.startswith("linux"):
        return _done
    try:
        libc = ctypes.CDLL("libc.so.6")
        _done = bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and \
            bool(libc.mallopt(M_TRIM_THRESHOLD, trim_threshold))
    except (OSError, AttributeError):  # musl, or no libc.so.6: keep the defaults
        _done = False
    return _done
