"""dualnum: automatic differentiation for teaching -- dual numbers (forward mode) on one table of rules.

    >>> from dualnum import derivative, gradient
    >>> derivative(lambda x: 3*x**2 + 2*x + 1, 2.0)
    14.0
"""
from . import rules
from .dual import Dual, primal
from .dualarray import DualArray
from .forward import derivative, gradient, jacobian, hessian, jvp, chunk_size
from .functions import sigmoid, relu

__version__ = "0.1.0"


def value(x):
    """The plain number or array inside a dual (or nested dual): the value without its derivatives."""
    return primal(x)


__all__ = ["Dual", "DualArray", "derivative", "gradient", "jacobian", "hessian", "jvp", "value", "rules",
           "sigmoid", "relu", "chunk_size"]
