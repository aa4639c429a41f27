"""dualnum: automatic differentiation for teaching -- dual numbers (forward mode) and the Flux Tracker (reverse
mode), both drawing every derivative from one table of rules.

    >>> from dualnum import derivative, gradient
    >>> derivative(lambda x: 3*x**2 + 2*x + 1, 2.0)
    14.0

Reading order, with the lines of each file. The lesson:

    rules.py                 the calculus: each function beside its partial derivatives          474
    forward/dual.py          a dual number a + bε, and the chain rule that reads the table       511
    forward/__init__.py      derivative, gradient, jacobian, jvp: push directions through f      463
    forward/taylor.py        Taylor mode: derivatives(f, x, n), every order from the same table  597
    reverse/tracked.py       tracked values: each operation recorded with its adjoint           1568
    reverse/backward.py      the backward sweep                                                  135
    tracker.py               Flux's API: param, gradient, Params, Grads, update, back            533
    tape.py                  see the tape: show and draw the graph the tracker recorded          379
    nested.py                modes inside modes: hessian, hvp                                     81

Whole numpy functions, written once for both modes:

    linear.py                maps that move elements (flip, tile, triu, ...), adjoints from them   69
    primitive.py             hand-written derivatives: value, jvp and vjp side by side             97
    linalg.py                det, inv, solve, cholesky, eigh, svd, qr, norms, ...                752
    contractions.py          einsum, tensordot, kron, cross, dot, ...                             382

Arrays, helpers, checks:

    forward/dualarray.py     DualArray: numpy arrays of duals, through numpy's protocols        1263
    functions.py             a rule as a function of any number type (sigmoid, relu)               60
    tags.py                  perturbation tags                                                     19
    testing.py               gradcheck: derivatives against central differences                  119

Plumbing a student may skip (_numpy/: protocol.py 96, arraymethods.py 109, composites.py 715) and speed
only (backends/: __init__.py 122, elementwise.py 48, kernels.py 678, blocks.py 85, fusion.py 569, allocator.py 37), the GPU
among it, imported on first use (backends/cuda/: __init__.py 63, formulas.py 318, kernels.py 635, pool.py 84,
array.py 239, ops.py 835, duals.py 125, fusion.py 310).
"""
from .backends import allocator
from . import rules
from .forward.dual import Dual, primal
from .forward.dualarray import DualArray
from .forward import derivative, derivatives, gradient, jacobian, jvp, chunk_size
from .functions import sigmoid, relu
from .reverse.tracked import value  # the plain number/array inside any dual or tracked value, every level stripped
from . import tracker
from .nested import hessian, hvp
from . import testing  # gradcheck & co., there with import dualnum

tracker.hvp = hvp  # (forward over reverse: the tracker's gradient on dual numbers; defined with the mixed modes)

__version__ = "0.1.0"

allocator.keep_freed_memory()  # only with DUALNUM_MALLOPT=1: the host process's allocator is not ours to change


__all__ = ["Dual", "DualArray", "derivative", "derivatives", "gradient", "jacobian", "hessian", "jvp", "value",
           "rules", "sigmoid", "relu", "chunk_size", "tracker", "primal", "testing"]


# the modules' paths from before the package had folders keep working: import dualnum.dualarray, ...
def _old_paths():
    import importlib
    import sys
    for old, new in {'dual': 'forward.dual',
                     'dualarray': 'forward.dualarray',
                     'tracked': 'reverse.tracked',
                     'protocol': '_numpy.protocol',
                     'arraymethods': '_numpy.arraymethods',
                     'composites': '_numpy.composites',
                     'kernels': 'backends.kernels',
                     'fusion': 'backends.fusion',
                     'allocator': 'backends.allocator'}.items():
        sys.modules.setdefault(f"{__name__}.{old}", importlib.import_module(f".{new}", __name__))


_old_paths()
