"""The per-element body of a dual operation, as source text: one generator for every compiled target.

For a rule ``z = f(x)`` (or ``f(x, y)``) and one element, the body computes the value, the local partials and the
chain rule: ``z = f(x); d = f'(x, z); q_j = d · p_j`` for each direction j. The numba CPU loops
(:mod:`dualnum.backends.kernels`) and the CUDA kernels (:mod:`dualnum.backends.cuda.kernels`) wrap the same text
in their own loops and differ only in the decorator that compiles it; the formulas themselves are the table's
(``_c(_R[name].f, arity)``: the rule's own functions, compiled for the target), never a second copy.
"""
from __future__ import annotations

#: d · p, but 0 where d or p is 0: one input's inf or NaN derivative stays out of the other directions
TIMES = '''
@{decorator}
def _times(d, p):
    # d * p, but 0 where d or p is 0: one input's inf/NaN stays out of the other directions
    t = d * p
    if t != t and (d == 0.0 or p == 0.0):
        return 0.0
    return t
'''


def formulas(rule, compile_name="_c") -> str:
    """Lines binding the rule's compiled value function and partials: ``_f_<name>``, ``_d_<name>`` (one
    argument) or ``_dx_<name>``, ``_dy_<name>`` (two)."""
    n = rule.name
    c = compile_name
    if rule.arity == 1:
        return f"_f_{n} = {c}(_R[{n!r}].f, 1)\n_d_{n} = {c}(_R[{n!r}].partials[0], 2)\n"
    return (f"_f_{n} = {c}(_R[{n!r}].f, 2)\n_dx_{n} = {c}(_R[{n!r}].partials[0], 3)\n"
            f"_dy_{n} = {c}(_R[{n!r}].partials[1], 3)\n")


def value(rule, x, y=None) -> str:
    """The expression for the value at one element."""
    return f"_f_{rule.name}({x})" if y is None else f"_f_{rule.name}({x}, {y})"


def partial(rule, which, x, y, z) -> str:
    """The expression for the local partial in argument ``which`` (0 or 1) at one element, given its value z."""
    if rule.arity == 1:
        return f"_d_{rule.name}({x}, {z})"
    return f"_{'dx' if which == 0 else 'dy'}_{rule.name}({x}, {y}, {z})"


def chain(d, p) -> str:
    """The chain rule's term for one direction: the local partial times that direction's derivative."""
    return f"_times({d}, {p})"
