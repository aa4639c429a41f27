"""The GPU backend: device arrays that numpy code runs on, with kernels generated from the rules table.

``import dualnum`` never imports numba.cuda (half a second); this package imports it on first use. It works on an
NVIDIA GPU, or on numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1`` set before numba is first imported), which
runs the same kernels in Python, slowly, where there is no GPU (CI does).

Reading order: formulas.py (the table's formulas as scalar device functions), kernels.py (the generated
kernels and launch sizes), pool.py (device memory), array.py (DeviceArray and numpy's protocols), ops.py
(each numpy operation as a launch or a view), duals.py (forward mode's dual kernels on device arrays).
"""
from __future__ import annotations

import os
import sys

_available = None


def available() -> bool:
    """True where kernels can run: an NVIDIA GPU with a driver, or numba's simulator."""
    global _available
    if _available is None:
        try:
            if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1" or "numba.cuda" in sys.modules or \
                    _has_driver():
                _shim_numpy()
                from numba import cuda
                _available = bool(cuda.is_available())
            else:
                _available = False
        except Exception:
            _available = False
    return _available


def _has_driver():
    import ctypes.util
    return ctypes.util.find_library("cuda") is not None or os.path.exists("/dev/nvidiactl")


def _shim_numpy():
    # numba-cuda's first compile reads np.row_stack, which numpy 2.5 removed (an alias of vstack)
    import numpy as np
    if not hasattr(np, "row_stack"):
        np.row_stack = np.vstack


_shim_numpy()  # before any kernel of this package is compiled


def simulating() -> bool:
    from numba.core import config
    return bool(config.ENABLE_CUDASIM)


def __getattr__(name):
    if name in ("DeviceArray", "to_device", "empty", "is_device"):
        from . import array
        return getattr(array, name)
    if name in ("full",):
        from . import ops
        return getattr(ops, name)
    raise AttributeError(name)
