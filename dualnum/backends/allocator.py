"""Opt-in (``DUALNUM_MALLOPT=1``): keep freed memory for reuse, so a new array does not pay a page fault per 4 KiB.

Dual numbers allocate several times the arrays of plain numpy (a value and k partials per operation, and
nested partials for Hessians). With glibc's defaults, an array over 128 KiB is mapped fresh from the kernel
and unmapped when freed, so the next one faults in every page again. With this setting, freed blocks up to
32 MiB are kept in the process's heap instead (up to 128 MiB of them), which is faster for dualnum's
temporaries -- but it is process-wide: the host process (and torch, and any other library in it) then keeps
freed memory too (after freeing 944 MiB of numpy arrays a process stayed at 995 MiB instead of 41 MiB). A
library must not change that for its host by default, so ``import dualnum`` leaves the allocator alone unless
``DUALNUM_MALLOPT=1`` is set (measured with and without: benchmarks/RESULTS.md, "The allocator setting").
Other C libraries: nothing happens.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_done = None


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 128 << 20) -> bool:
    """With DUALNUM_MALLOPT=1 only: ask glibc to serve blocks up to ``mmap_threshold`` bytes from the heap and
    keep freed ones; True if done."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("DUALNUM_MALLOPT", "0") != "1" or not sys.platform.startswith("linux"):
        return _done
    try:
        libc = ctypes.CDLL("libc.so.6")
        _done = bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and \
            bool(libc.mallopt(M_TRIM_THRESHOLD, trim_threshold))
    except (OSError, AttributeError):  # musl, or no libc.so.6: keep the defaults
        _done = False
    return _done
