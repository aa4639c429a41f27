"""Hypothesis runs derandomized, so CI sees the same examples every time (a red CI must be reproducible).

The whole run uses numba's CUDA simulator (set before anything imports numba: ``import dualnum, nn`` does not),
so the GPU backend's tests run in CI without a GPU. The ``strict_device`` fixture strips the simulator's device
array down to what a real numba ``DeviceNDArray`` offers, so code that leans on the simulator's conveniences
fails here rather than on a GPU.
"""
import os
import sys

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("dualnum", derandomize=True, print_blob=True)
settings.load_profile("dualnum")

# Attributes a real DeviceNDArray has that the simulator's FakeCUDAArray forwards to its numpy array (the
# others it defines itself): anything else (sum, astype, item, __array_interface__...) exists only in the simulator.
_REAL_FORWARDED = frozenset({"dtype", "size", "ndim", "strides", "flags", "squeeze"})
# Operators the simulator's array defines and a real one does not (a real one compares by identity).
_SIM_OPERATORS = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__add__", "__sub__", "__mul__",
                  "__floordiv__", "__truediv__", "__mod__", "__pow__")


class SimulatorOnly(TypeError):
    """Something only the simulator's device array does: it would fail, or copy to the host, on a GPU."""


@pytest.fixture
def strict_device(monkeypatch):
    """The simulator's device array, outside kernels, with only a real device array's surface: no ``__array__``
    (a silent host copy on a GPU), no ufuncs, no arithmetic, no numpy methods, no element reads (one host copy
    each), and no host array passed to a kernel launch (numba would copy it there and back behind our back).
    Inside a simulated kernel every array keeps working as the simulator needs."""
    from dualnum.backends import cuda as dcuda
    if not dcuda.available() or not dcuda.simulating():
        yield None  # a real GPU: its arrays are the real thing already
        return
    import numpy as np
    from numba.cuda.simulator import kernel as simkernel
    from numba.cuda.simulator.cudadrv import devicearray as simarray

    Fake = simarray.FakeCUDAArray

    def in_kernel():
        return simkernel._kernel_context is not None

    def refuse(what):
        raise SimulatorOnly(f"{what} on a device buffer outside a kernel: a real numba DeviceNDArray "
                            f"{'copies it to the host silently' if 'array' in what else 'has no such thing'}")

    orig_getattr = Fake.__getattr__

    def __getattr__(self, name):
        if in_kernel() or name in _REAL_FORWARDED:
            return orig_getattr(self, name)
        # an AttributeError, as on a real array (hasattr stays False); numpy then tries __array__, which refuses
        raise AttributeError(f"{name!r}: only the simulator's device array has it (a real numba DeviceNDArray "
                             f"does not)")

    def __array__(self, dtype=None, copy=None):
        if in_kernel():
            return self._ary if dtype is None else self._ary.astype(dtype)
        refuse("np.asarray (__array__)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if in_kernel():
            inputs = [i._ary if isinstance(i, Fake) else i for i in inputs]
            return getattr(ufunc, method)(*inputs, **kwargs)
        refuse(f"np.{ufunc.__name__} (a ufunc)")

    def __array_function__(self, func, types, args, kwargs):
        if in_kernel():
            return NotImplemented
        refuse(f"np.{func.__name__}")

    orig_getitem = Fake.__getitem__

    def __getitem__(self, idx):
        r = orig_getitem(self, idx)
        if not in_kernel() and not isinstance(r, Fake):
            refuse("reading one element (a host copy per element)")
        return r

    monkeypatch.setattr(Fake, "__getattr__", __getattr__)
    monkeypatch.setattr(Fake, "__array__", __array__, raising=False)
    monkeypatch.setattr(Fake, "__array_ufunc__", __array_ufunc__, raising=False)
    monkeypatch.setattr(Fake, "__array_function__", __array_function__, raising=False)
    monkeypatch.setattr(Fake, "__getitem__", __getitem__)
    for op in _SIM_OPERATORS:
        orig = getattr(Fake, op)

        def guarded(self, other, _orig=orig, _op=op):
            if in_kernel():
                return _orig(self, other)
            refuse(f"the operator {_op}")
        monkeypatch.setattr(Fake, op, guarded)

    orig_call = simkernel.FakeCUDAKernel.__call__

    def __call__(self, *args):
        if not (self._device or in_kernel()):
            for a in args:
                if isinstance(a, np.ndarray) and a.ndim > 0:
                    raise SimulatorOnly(f"kernel {self.fn.__name__} launched with a host array of shape {a.shape}: "
                                        "numba copies it to the device and back behind the caller's back")
        return orig_call(self, *args)

    monkeypatch.setattr(simkernel.FakeCUDAKernel, "__call__", __call__)

    # The simulator gives a block's threads one shared array per source line, made by whichever thread asks
    # first; asking is not locked, so two threads can each make their own and a block tree then sums half its
    # partials (seen under load as wrong column sums). On a GPU the array is one per block by construction.
    from numba.cuda.simulator import kernelapi
    import threading
    import traceback
    lock = threading.Lock()

    def shared_array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:
            return orig_shared(self, shape, dtype, alignment)
        caller = traceback.extract_stack(sys._getframe(1), limit=1)[-1][0:2]
        with lock:
            res = self._allocations.get(caller)
            if res is None:
                dt = np.dtype(dtype) if not isinstance(dtype, kernelapi.types.Type) else \
                    kernelapi.numpy_support.as_dtype(dtype)
                res = self._allocations[caller] = np.empty(shape, dt)
        return res

    orig_shared = kernelapi.FakeCUDAShared.array
    monkeypatch.setattr(kernelapi.FakeCUDAShared, "array", shared_array)
    # The simulator's block manager polls its threads with the GIL held: at Python's default 5 ms switch
    # interval every syncthreads() waits out several intervals; a short one makes reductions and matmul ~8x faster
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        yield Fake
    finally:
        sys.setswitchinterval(interval)


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: a run without the PTX tests starts no compiling
def pytest_collection_modifyitems(session, config, items):
    """The PTX check (tests/test_cuda_kernels.py) compiles every CUDA kernel in a child process for a minute or
    two: start it now, so it works while the other tests run, and read its report at the end of the run."""
    ptx = [item for item in items if item.name.startswith("test_ptx") and hasattr(item.module, "start_ptx")]
    if not ptx:
        return
    rest = [item for item in items if item not in ptx]
    items[:] = rest + ptx
    if getattr(ptx[0].module, "AVAILABLE", False):
        ptx[0].module.start_ptx(config)
