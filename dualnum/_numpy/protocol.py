"""Plumbing shared by the array types that speak numpy's protocols (DualArray, Tracked): shapes, axes, names."""
import numpy as np


def registrar(table):
    """``@implements(np.f, np.g)``: a decorator that files the function under each numpy function in ``table``."""
    def implements(*funcs):
        def register(h):
            for f in funcs:
                table[f] = h
            return h
        return register
    return implements


def shape_of(x):
    """x.shape, or () for scalars (floats, Duals)."""
    s = getattr(x, "shape", None)
    return () if s is None else s


def ndim_of(x):
    return len(shape_of(x))


def fname(func):
    """A numpy function's name as a student writes it: np.linalg.svd, np.sum."""
    mod = getattr(func, "__module__", None) or "numpy"
    mod = "np" if mod == "numpy" or mod.startswith(("numpy._core", "numpy.core")) else mod.replace("numpy", "np")
    return f"{mod}.{getattr(func, '__name__', repr(func))}"


def normalize_axes(axis, nd):
    """axis (None, an int or a tuple, negatives allowed) as a tuple of non-negative axes of an nd-array."""
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    out = []
    for ax in axis:
        ax = int(ax)
        if not -nd <= ax < nd:
            raise np.exceptions.AxisError(ax, nd)
        out.append(ax % nd)
    return tuple(out)


def no_out(name, out):
    if out is not None:
        raise TypeError(f"{name}(..., out=...) is not supported with derivatives: it would write into a plain "
                        "array and drop them; assign the result instead")


def ufunc_extra(kwargs):
    """A ufunc call's keywords beyond ``out=`` and numpy's defaults: the ones a handler would have to honour."""
    return {k: v for k, v in kwargs.items() if k != "out" and not (k == "where" and v is True)
            and not (k in ("dtype", "casting", "order", "subok") and v in (None, "same_kind", "K", True))}


def ufunc_reduce(ufunc, table, inputs, kwargs, unsupported):
    """``np.add.reduce(x, axis=...)`` and the like, by the reduction ``table`` names for the ufunc.

    A ufunc's reduce reduces axis 0 unless told otherwise (np.sum reduces everything): that default is given
    explicitly, and every other keyword is passed on or refused, never dropped."""
    red = table.get(ufunc)
    name = f"np.{ufunc.__name__}.reduce"
    if red is None:
        raise unsupported(name)
    kw = {"axis": 0}
    for k, v in kwargs.items():
        if k == "dtype":
            if v is not None and np.dtype(v).kind != "f":
                raise TypeError(f"{name}(..., dtype={np.dtype(v)}) would drop the derivatives (not a float type)")
        elif k in ("axis", "keepdims", "initial", "where"):
            kw[k] = v
        elif k != "out":  # (out= is checked by the caller)
            raise TypeError(f"{name} with derivatives does not take {k}=")
    return red(*inputs, **kw)


def index_trick(depth=2):
    """' ...' naming np.r_ / np.c_ when they called np.array() on a differentiable piece, else ''.

    np.r_[a, b] and np.c_[a, b] are not numpy functions that dispatch: they turn every piece into a plain array
    with np.array() first, which no differentiable array can become; only scalars (kept as objects) pass."""
    import sys
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return ""
    if not frame.f_code.co_filename.endswith(("_index_tricks_impl.py", "index_tricks.py")):
        return ""
    name = "np.c_" if type(frame.f_locals.get("self")).__name__ == "CClass" else "np.r_"
    instead = "np.column_stack([a, b])" if name == "np.c_" else "np.concatenate([a, b]) (or np.hstack)"
    return (f" {name}[...] converts each piece with np.array(), which drops derivatives, so it is not supported "
            f"with derivatives: write {instead} instead.")
