"""Exercise 13 -- a CUDA kernel for one rule: the dual tanh (follows tutorial 5's last section, "the chain rule as
one loop", and the rules table, dualnum/rules.py, from which dualnum/backends/ writes its numba loops).

A dual number x + ẋε goes through tanh as tanh(x) + (1 - tanh²x)·ẋ ε: the table's rule
``rule("tanh", np.tanh, lambda x, z: 1.0 - z * z)`` says exactly this, with z = tanh x the value already computed.
On a GPU one thread handles one element; with a *grid-stride loop* a fixed number of threads covers an array of
any length n: thread t (its global index, ``cuda.grid(1)``) does the elements t, t + T, t + 2T, ... below n, where
T = ``cuda.gridsize(1)`` is the number of threads launched.

Write:
1. the kernel ``dual_tanh_kernel(x, dx, y, dy)``: for every element i it handles, y[i] = tanh(x[i]) and
   dy[i] = (1 - y[i]²)·dx[i] (``math.tanh`` works on the device);
2. ``dual_tanh(x, dx, blocks, threads)``: copy x and dx to the device (``cuda.to_device``), make the two outputs
   there (``cuda.device_array_like``), launch ``dual_tanh_kernel[blocks, threads](...)``, and return (y, dy) copied
   back to the host (``.copy_to_host()``).

No GPU? numba simulates one: run with ``NUMBA_ENABLE_CUDASIM=1`` set before numba is first imported, e.g.
``NUMBA_ENABLE_CUDASIM=1 python tutorials/exercises/e13_cuda_tanh.py``. The simulator runs each thread in Python,
so launch few threads (2 blocks of 16) and let the grid-stride loop do the rest. The checker runs it there.
Check it with ``python -m tutorials.exercises check 13``.
"""
import math

import numpy as np
from numba import cuda


@cuda.jit
def dual_tanh_kernel(x, dx, y, dy):
    """y = tanh(x), dy = (1 - y²)·dx, elementwise, in a grid-stride loop."""
    # BEGIN SOLUTION: a grid-stride loop over i = start, start + stride, ... < n
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.shape[0], stride):
        z = math.tanh(x[i])
        y[i] = z
        dy[i] = (1.0 - z * z) * dx[i]
    # END SOLUTION


def dual_tanh(x, dx, blocks=2, threads=16):
    """(tanh x, (1 - tanh²x)·dx) computed on the device by dual_tanh_kernel, returned as host arrays."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    dx = np.ascontiguousarray(dx, dtype=np.float64)
    # BEGIN SOLUTION: copy in, make the outputs, launch blocks × threads, copy out
    d_x, d_dx = cuda.to_device(x), cuda.to_device(dx)
    d_y, d_dy = cuda.device_array_like(x), cuda.device_array_like(x)
    dual_tanh_kernel[blocks, threads](d_x, d_dx, d_y, d_dy)
    return d_y.copy_to_host(), d_dy.copy_to_host()
    # END SOLUTION


if __name__ == "__main__":
    import dualnum
    x = np.linspace(-3.0, 3.0, 1000)
    dx = np.cos(x)
    y, dy = dual_tanh(x, dx)
    _, ref = dualnum.jvp(np.tanh, x, dx)
    print(f"n = {x.size}: max |y - tanh x| = {np.abs(y - np.tanh(x)).max():.2e}, "
          f"max |dy - jvp| = {np.abs(dy - ref).max():.2e}")
