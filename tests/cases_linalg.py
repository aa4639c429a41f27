"""Agreement cases for tests/test_numpy_agreement.py: linear algebra. ``register(m)`` adds them with the engine's
own ``m.cases``, ``m.Case``, ``m.data``, ``m.unary``, ... (m is that test module)."""
import numpy as np


def well_conditioned(m, n, salt=0):
    """An n×n matrix (or a stack, shape + (n, n)) far from singular: the identity plus small distinct values."""
    return lambda shape: m.data(shape + (n, n), salt) * 0.3 + np.eye(n)


def register(m):
    m.cases(np.linalg.inv)(lambda f: (m.Case(f"{s}+(3, 3)", [well_conditioned(m, 3)(s)], lambda f, xs: f(xs[0]))
                                      for s in [(), (2,)]))
