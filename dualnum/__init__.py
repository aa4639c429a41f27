"""dualnum: automatic differentiation for teaching -- dual numbers (forward mode) on one table of rules.

    >>> from dualnum import derivative, gradient
    >>> derivative(lambda x: 3*x**2 + 2*x + 1, 2.0)
    14.0
"""
from . import allocator, rules
from .dual import Dual, primal
from .dualarray import DualArray
from .forward import derivative, gradient, jacobian, jvp, chunk_size
from .functions import sigmoid, relu
from .tracked import value  # the plain number/array inside any dual or tracked value, every level stripped
from . import tracker
from .nested import hessian, hvp

tracker.hvp = hvp  # (forward over reverse: the tracker's gradient on dual numbers; defined with the mixed modes)

__version__ = "0.1.0"

allocator.keep_freed_memory()  # only with DUALNUM_MALLOPT=1: the host process's allocator is not ours to change


__all__ = ["Dual", "DualArray", "derivative", "gradient", "jacobian", "hessian", "jvp", "value", "rules",
           "sigmoid", "relu", "chunk_size", "tracker", "primal"]
