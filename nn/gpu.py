"""``gpu`` and ``cpu``: move a model (every array leaf) or an array between the host and an NVIDIA GPU.

On the GPU an array is a :class:`dualnum.backends.cuda.DeviceArray`: numpy code runs on it unchanged (the
protocols launch kernels generated from the rules table), so a model moved with ``gpu`` trains with the same
``train``, losses and optimisers; nothing crosses back to the host until ``cpu``, ``float()`` or printing.
Without a GPU (and without numba's simulator, ``NUMBA_ENABLE_CUDASIM=1``) ``gpu`` warns once and returns its
argument unchanged.
"""
from __future__ import annotations

import warnings

import numpy as np

from dualnum import tracker
from dualnum.backends import cuda

from ._backend import is_tracked
from .functor import fmap

_warned = []


def gpu(x):
    """x with every array moved to the GPU: a model's parameters stay parameters (trainable), plain float arrays
    become device arrays; numbers and everything else are kept. Without a GPU: x itself, and one warning."""
    if not cuda.available():
        if not _warned:
            _warned.append(True)
            warnings.warn("nn.gpu: no CUDA GPU found (and numba's simulator is off: NUMBA_ENABLE_CUDASIM=1 turns "
                          "it on); everything stays on the CPU", RuntimeWarning, stacklevel=2)
        return x
    return fmap(_to_gpu, x)


def cpu(x):
    """x with every device array copied back to the host as a numpy array (parameters stay parameters; a model's
    output, computed outside a gradient, becomes its numbers)."""
    if getattr(x, "_is_device", False):
        return x.get()
    if getattr(x, "_is_dualarray", False) and getattr(x.value, "_is_device", False):
        from dualnum import DualArray
        return DualArray(x.value.get(), x.partials.get(), x.tag)
    return fmap(_to_cpu, x)


def _computed(leaf, fname):
    """A computed tracked value's numbers when nobody differentiates it now (model(x) outside a gradient)."""
    from dualnum.reverse.tracked import peel_idle
    v = peel_idle(leaf)
    if is_tracked(v):
        raise TypeError(f"nn.{fname} inside a gradient would drop the derivatives of a computed value; move the "
                        "model and its inputs before computing, and the result after the gradient")
    return v


def _to_gpu(leaf):
    if is_tracked(leaf):
        if not leaf.is_leaf:
            return _to_gpu(_computed(leaf, "gpu"))
        return leaf if getattr(leaf.data, "_is_device", False) else _renamed(tracker.param(cuda.to_device(
            _host_float(leaf.data))), leaf)
    if isinstance(leaf, np.ndarray):
        return cuda.to_device(leaf)
    if getattr(leaf, "_is_dualarray", False):
        raise TypeError("nn.gpu moves models and arrays; seed dual numbers on the device instead "
                        "(dualnum.gradient(f, gpu(x)))")
    return leaf  # numbers, device arrays


def _to_cpu(leaf):
    if is_tracked(leaf):
        if not leaf.is_leaf:
            return _to_cpu(_computed(leaf, "cpu"))
        if getattr(leaf.data, "_is_device", False):
            return _renamed(tracker.param(leaf.data.get()), leaf)
        return leaf
    if getattr(leaf, "_is_device", False):
        return leaf.get()
    return leaf


def _host_float(d):
    d = np.asarray(d)
    return d if d.dtype.kind == "f" else d.astype(np.float64)


def _renamed(new, old):
    name = getattr(old, "_name", None)
    if name is not None:
        new._name = name
    return new

