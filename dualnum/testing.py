"""Check derivatives against central differences: (f(x + h) - f(x - h)) / 2h, one input element at a time.

    >>> from dualnum.testing import gradcheck
    >>> gradcheck(lambda x: np.sum(np.sin(x) * x), np.array([0.5, 1.0]))
    True

``check_grad`` returns a :class:`GradCheck` report (``.ok``, ``.max_abs_err``, ``str()`` shows the worst
elements); ``gradcheck`` returns True or raises ``AssertionError`` with that report. Both default to
dualnum's forward-mode gradient; pass ``grad=`` to check any other gradient (a hand-written one, the
tracker's, a student's).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .forward import as_input


def _eval(f, args):
    y = f(*args)
    y = np.asarray(y, dtype=float)
    if y.size != 1:
        raise ValueError(f"check_grad needs a scalar-valued f, but f returned shape {y.shape}")
    return float(y.reshape(()))


def numeric_gradient(f, *args, eps: float = 1e-6):
    """Central-difference gradient of scalar f w.r.t. every argument (a tuple, one entry per argument)."""
    xs = [as_input(a, "numeric_gradient", i + 1) for i, a in enumerate(args)]
    out = []
    for i, x in enumerate(xs):
        scalar = isinstance(x, float)
        base = np.atleast_1d(np.array(x, dtype=float))
        g = np.zeros_like(base)
        for j in range(base.size):
            h = eps * max(1.0, abs(base.flat[j]))
            vals = []
            for s in (+1, -1):
                xj = base.copy()
                xj.flat[j] += s * h
                a = list(xs)
                a[i] = float(xj[0]) if scalar else xj.reshape(np.shape(x))
                vals.append(_eval(f, a))
            g.flat[j] = (vals[0] - vals[1]) / (2 * h)
        out.append(float(g[0]) if scalar else g.reshape(np.shape(x)))
    return tuple(out)


@dataclass
class GradCheck:
    """The outcome of comparing an analytic gradient with central differences."""

    ok: bool
    max_abs_err: float
    max_rel_err: float
    analytic: tuple
    numeric: tuple
    rows: list = field(default_factory=list)  # (arg, index, analytic, numeric, abs err), worst first

    def __bool__(self):
        return self.ok

    def __str__(self):
        head = "gradient check " + ("passed" if self.ok else "FAILED") + \
            f": max abs error {self.max_abs_err:.3g}, max rel error {self.max_rel_err:.3g}"
        if not self.rows:
            return head
        lines = [head, f"  {'arg':>3} {'index':>10} {'analytic':>14} {'numeric':>14} {'abs err':>10}"]
        for arg, idx, a, n, e in self.rows:
            mark = "  <--" if not np.isclose(a, n, rtol=self._rtol, atol=self._atol, equal_nan=True) else ""
            lines.append(f"  {arg:>3} {str(idx):>10} {a:>14.6g} {n:>14.6g} {e:>10.3g}{mark}")
        return "\n".join(lines)

    _rtol: float = 1e-5
    _atol: float = 1e-8


def check_grad(f, *args, grad=None, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7,
               show: int = 5) -> GradCheck:
    """Compare ``grad`` (default: dualnum.gradient(f, *args)) with central differences of f."""
    if grad is None:
        from .forward import gradient
        analytic = gradient(f, *args)
    else:
        analytic = grad if isinstance(grad, tuple) else (grad,)
    numeric = numeric_gradient(f, *args, eps=eps)
    if len(analytic) != len(numeric):
        raise ValueError(f"check_grad: {len(numeric)} arguments but {len(analytic)} gradients")
    rows, ok, max_abs, max_rel = [], True, 0.0, 0.0
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        a = np.asarray(a, dtype=float)
        n = np.asarray(n, dtype=float)
        if a.shape != n.shape:
            raise ValueError(f"check_grad: gradient {i + 1} has shape {a.shape}, its argument has {n.shape}")
        err = np.abs(a - n)
        rel = err / np.maximum(np.abs(n), 1e-12)
        good = np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=True)
        ok = ok and bool(np.all(good))
        if err.size:
            max_abs = max(max_abs, float(np.nanmax(err)) if not np.all(np.isnan(err)) else 0.0)
            max_rel = max(max_rel, float(np.nanmax(np.where(good, 0.0, rel))) if not good.all() else max_rel)
        for j in range(a.size):
            idx = tuple(int(i) for i in np.unravel_index(j, a.shape)) if a.ndim else ()
            rows.append((i + 1, idx, float(a.flat[j]), float(n.flat[j]),
                         float(err.flat[j]) if not np.isnan(err.flat[j]) else np.inf))
    rows.sort(key=lambda r: -r[4])
    res = GradCheck(ok, max_abs, max_rel, tuple(analytic), numeric, rows[:show])
    res._rtol, res._atol = rtol, atol
    return res


def gradcheck(f, *args, **kwargs) -> bool:
    """True if the gradient matches central differences, else AssertionError with a readable report."""
    res = check_grad(f, *args, **kwargs)
    if not res.ok:
        raise AssertionError(str(res))
    return True
