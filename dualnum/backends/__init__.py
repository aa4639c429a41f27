"""Speed only: numba kernels per rule (kernels.py), the blocks they write into (blocks.py), fused elementwise
loops (fusion.py), the allocator setting (allocator.py), and the choice between them: ``with use("numpy"):``. Every
backend gives the same numbers.

The backends for host (numpy) arrays:

* ``"numpy"``: no compiled code at all, every result computed by numpy (what ``DUALNUM_NUMBA=0`` starts with);
* ``"kernels"``: a numba kernel per operation on big arrays, no fusion (what ``DUALNUM_FUSE=0`` starts with);
* ``"numba"``: the per-rule kernels and fused loops of whole elementwise chains (the default).

Each rule takes numpy's path where numpy was measured faster than its kernel (``Rule.numpy_faster``);
``use(name, always=True)`` ignores those facts, so every compiled rule goes through its kernel (tests).
Device arrays pick their backend by their type (``nn.gpu``, ``dualnum.backends.cuda.to_device``): ``use``
governs host arrays only.

The choice is process-wide (it sets module state: ``kernels.ENABLED``, ``fusion.ENABLED``, ``kernels.ALWAYS``,
which the number types read), not per thread. While a ``rules.override`` block is open everything stays on
numpy, whatever a ``use`` inside it asks. Without numba, "kernels" and "numba" compute with numpy too (one
warning says so).
"""
from __future__ import annotations

import threading

from . import fusion, kernels

#: the names use() takes; "cuda" is not one of them (device arrays choose it by their type)
NAMES = ("numpy", "kernels", "numba")

_lock = threading.Lock()
_open: list = []  # the open holds, oldest first
_base = None  # the module state before the first hold opened: restored when the last one closes


def current() -> str:
    """The backend host arrays use now: "numpy", "kernels" or "numba"."""
    if not kernels.ENABLED:
        return "numpy"
    return "numba" if fusion.ENABLED else "kernels"


def _check(name, always):
    if name == "cuda":
        raise ValueError("use('cuda'): device arrays pick the GPU by themselves (move them with nn.gpu or "
                         "dualnum.backends.cuda.to_device); use chooses among the host backends "
                         f"{', '.join(map(repr, NAMES))}")
    if name not in NAMES:
        raise ValueError(f"use({name!r}): unknown backend; the backends are {', '.join(map(repr, NAMES))}")
    if always and name == "numpy":
        raise ValueError("use('numpy', always=True): the numpy backend has no kernels to force; always=True goes "
                         "with 'kernels' or 'numba'")


class _Hold:
    """One open request for a backend; release() closes it, in any order."""

    __slots__ = ("name", "always", "above_use")

    def __init__(self, name, always, above_use):
        self.name, self.always, self.above_use = name, always, above_use

    def release(self):
        global _base
        with _lock:
            if self not in _open:
                return  # released already
            _open.remove(self)
            if _open:
                _apply()
            else:
                kernels.ENABLED, fusion.ENABLED, kernels.ALWAYS = _base
                _base = None


def _hold(name, always=False, above_use=False) -> _Hold:
    """Open a request for ``name`` (``above_use``: it wins over every use() block, as rules.override's does)."""
    global _base
    _check(name, always)
    h = _Hold(name, always, above_use)
    with _lock:
        if not _open:
            _base = (kernels.ENABLED, fusion.ENABLED, kernels.ALWAYS)
        _open.append(h)
        _apply()
    return h


def _apply():
    # the state is computed from the open holds, not saved and restored per block: blocks closed out of order
    # (two threads, an override closed inside a use) still leave the state of the ones still open
    top = next((h for h in reversed(_open) if h.above_use), None) or _open[-1]
    kernels.ENABLED = top.name != "numpy"
    fusion.ENABLED = top.name == "numba"
    kernels.ALWAYS = top.always


class use:
    """``with use("numpy"):`` host arrays are computed by that backend inside the block ("numpy", "kernels",
    "numba"); on exit the previous choice is back, even after an exception. Blocks nest; process-wide.

    ``always=True`` sends every compiled rule through its kernel (and into fused loops) even where numpy was
    measured faster (``Rule.numpy_faster``): for tests of the kernels themselves.
    """

    def __init__(self, name: str, *, always: bool = False):
        _check(name, always)
        self.name, self.always = name, bool(always)
        self._held = None

    def __enter__(self):
        if self._held is not None:
            raise RuntimeError(f"use({self.name!r}): this block is already open (make a new use(...) to nest)")
        self._held = _hold(self.name, self.always)
        return self

    def __exit__(self, *exc):
        self._held, held = None, self._held
        held.release()
        return False

    def __repr__(self):
        return f"use({self.name!r}{', always=True' if self.always else ''})"
