"""Forward mode on the GPU: a rule of the table applied to dual arrays whose value and partials are device arrays.

``apply`` is what DualArray's chain rule calls when its values live on the device: one launch of the rule's dual
kernel computes the value and all k partials (``z = f(x)``, ``dz_j = f'(x, z)·dx_j``), from the table's own
formulas. Rules without a dual kernel (three arguments, ``where``, a zero derivative) are computed by numpy's
protocols on device arrays -- the same formulas, a few launches instead of one.
"""
from __future__ import annotations

import numpy as np

from ... import rules
from . import kernels, ops
from .array import DeviceArray, empty

_ONE, _ZERO = ops._ONE, ops._ZERO


def _value_dtype(rule, vals):
    ds = [v.dtype for v in vals if isinstance(v, DeviceArray)]
    dt = np.result_type(*ds) if ds else np.dtype(np.float64)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _has_kernel(rule):
    return rule.arity in (1, 2) and rule.compiled and not rule.zero and not rule.nondiff and \
        rules.RULES.get(rule.name) is rule


def apply(rule, vals, parts, k):
    """(value, partials) of ``rule(*vals)``: vals are device arrays or numbers, ``parts[i]`` the (k, ...) partials
    of argument i on the device, or None for a constant."""
    shapes = [v.shape for v in vals if isinstance(v, DeviceArray)]
    shape = np.broadcast_shapes(*shapes)
    if not _has_kernel(rule) or k == 0:
        return _generic(rule, vals, parts, k, shape)
    dt = _value_dtype(rule, vals)
    n = int(np.prod(shape))
    z = empty(shape, dt)
    pz = empty((k,) + shape, dt)
    ops_args, rows = [], []
    for v, p in zip(vals, parts):
        if isinstance(v, DeviceArray):
            v = v if v.dtype == dt else ops.astype(v, dt)
            ops_args.append((*ops.desc(v, shape), 0, dt.type(0)))
        elif isinstance(v, (int, float, np.number)):
            ops_args.append((ops._dummy(dt).data, 0, _ONE, _ZERO, 1, dt.type(v)))
        else:
            raise TypeError(f"{rule.name}: a device dual array met {type(v).__name__}; move it with nn.gpu")
        if p is not None:
            p = p if p.dtype == dt else ops.astype(p, dt)
            rows.append((ops.view(p, p.shape[1:], p._strides[1:], p.offset), p._strides[0]))
        else:
            rows.append(None)
    dense = [v for v in vals if isinstance(v, DeviceArray)] + [r[0] for r in rows if r is not None]
    fast = ops._fast(shape, *dense)
    if rule.arity == 1:
        (x, xo, xsh, xst, _, _), (row, pk) = ops_args[0], rows[0]
        kern = kernels.get(f"dual1_{rule.name}")
        ops._launch(kern, n, k, fast, z.data, pz.data, x, xo, xsh, xst, *ops.desc(row, shape), pk)
        return z, pz
    kargs = []
    for (x, xo, xsh, xst, xs, xv), pr in zip(ops_args, rows):
        if pr is None:
            kargs += [x, xo, xsh, xst, xs, xv, ops._dummy(dt).data, 0, _ONE, _ZERO, 0, 0]
        else:
            row, pk = pr
            kargs += [x, xo, xsh, xst, xs, xv, *ops.desc(row, shape), pk, 1]
    ops._launch(kernels.get(f"dual2_{rule.name}"), n, k, fast, z.data, pz.data, *kargs)
    return z, pz


def _generic(rule, vals, parts, k, shape):
    """The chain rule with numpy's protocols on device arrays: the table's formulas, one launch per operation."""
    f = rule.f
    with np.errstate(all="ignore"):
        z = f(*vals)
    if not isinstance(z, DeviceArray):
        raise TypeError(f"{rule.name} did not compute on the device")
    acc = None
    if k and not rule.zero:
        for i, p in enumerate(parts):
            if p is None or i in rule.nondiff:
                continue
            d = rule.partials[i]
            if callable(d):
                with np.errstate(all="ignore"):
                    d = d(*vals, z)
            elif d == 0.0:
                continue
            if p.ndim - 1 < len(shape):  # fewer dimensions than the result: line them up from the right
                p = p.reshape((k,) + (1,) * (len(shape) - p.ndim + 1) + p.shape[1:])
            term = p * d if not (isinstance(d, float) and d == 1.0) else p
            acc = term if acc is None else acc + term
    full = (k,) + z.shape
    if acc is None:
        acc = ops.full(full, 0, z.dtype)
    elif acc.shape != full:
        acc = ops.contiguous(ops.broadcast_to(acc, full), force=True)
    return z, acc


def matmul(va, pa, vb, pb, k):
    """(A @ B, its k directions dA_j·B + A·dB_j) in one launch; pa or pb None for a constant operand."""
    if pa is None and pb is None:
        z = ops.matmul(va, vb)
        return z, ops.full((k,) + z.shape, 0, z.dtype)
    return ops.matmul(va, vb, pa, pb)


def device_pair(value, partials):
    """A DualArray's value and partials on the device: both device arrays of one float dtype (k = 0 without
    partials); a host array beside a device one is refused, never copied silently."""
    for name, x in (("value", value), ("partials", partials)):
        if x is not None and not isinstance(x, DeviceArray):
            raise TypeError(f"DualArray: the {name} is a host {type(x).__name__} beside a device array; move both "
                            f"with nn.gpu (or dualnum.backends.cuda.to_device)")
    dt = value.dtype if value.dtype.kind == "f" else np.dtype(np.float64)
    if value.dtype != dt:
        value = ops.astype(value, dt)
    if partials is None:
        partials = empty((0,) + value.shape, dt)
    elif partials.dtype != dt:
        partials = ops.astype(partials, dt)
    return value, partials
