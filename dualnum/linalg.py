"""Linear algebra -- ``np.linalg.inv``, ``det``, ``solve``, ... -- each with its value, jvp and vjp side by side
(the format of dualnum/primitive.py), for both modes and every order.
"""
import numpy as np

from .primitive import define


def _T(a):
    return np.swapaxes(a, -1, -2)


# inv: Y = A⁻¹  ->  dY = -Y dA Y,  Ā = -Yᵀ Ȳ Yᵀ
define(np.linalg.inv,
       jvp=lambda dx, Y, A: -(Y @ dx[0] @ Y),
       vjp=lambda g, Y, A: (-(_T(Y) @ g @ _T(Y)),))
