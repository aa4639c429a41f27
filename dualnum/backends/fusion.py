"""Fusion: a chain of elementwise operations on a DualArray becomes one compiled loop.

``np.sin(x) * np.exp(-x) + x**2 / (1 + x**2)`` done one operation at a time reads and writes the value and
the k partials seven times and pays Python's dispatch seven times. Instead, an elementwise rule applied to
plain float64 DualArrays of one shape (and Python numbers) returns a *pending* DualArray that only records
``(rule, arguments)``. Reading its ``value`` or ``partials`` (which every other operation does) computes it:

* the first ``HOT - 1`` times a tree of that shape is computed: operation by operation, exactly as without
  fusion (a one-off expression never waits for a compiler);
* from the :data:`HOT`-th time on: by one numba loop written from the rules table for that tree -- per
  element, the values and the local partials of every node, then the chain rule for each of the k directions
  -- and only the root is stored. ``np.sum`` of a pending expression accumulates instead: no array at all.

The loop is the rules table's own formulas (:func:`dualnum.backends.kernels.compile_formula`), so a rule added to the
table fuses with no further code. Trees are keyed by structure only (rule names, where the inputs and numbers
go), never by values: one compiled loop serves every call; only the Rule objects the loops were written from
fuse (a rule registered again under its name is computed op by op until the table is taken again, refresh()),
and a tree never mixes operands of different k. Kernels are cached on disk like the per-rule ones, under a
name that hashes every rule's formulas. The chain rule is NaN-safe as in ``_chain``: an element whose tangent
comes out NaN is computed again with products that are 0 where either factor is 0 (``_times``).
``DUALNUM_FUSE=0`` turns fusion off; results are the same to rounding either way (tests compare them).

Writing into any DualArray (``x[i] = ...``) first computes every pending expression, so none can see the
new contents of an array it was built from. (Writing into the *numpy* array under an input, behind the
DualArray's back, is not seen: an expression still pending then reads the new numbers.) One difference
remains visible: a compiled loop computes ``log(-1)`` or ``1/0`` silently (NaN, inf), where numpy's path
would also print a RuntimeWarning. :func:`loop_source` shows the loop a pending expression would run as.
"""
from __future__ import annotations

import hashlib
import math
import os
import sys
import weakref

from time import perf_counter

import numpy as np

from . import elementwise, kernels
from .. import rules

ENABLED = kernels.ENABLED and os.environ.get("DUALNUM_FUSE", "1") != "0"  # set by backends.use()
HOT = int(os.environ.get("DUALNUM_FUSE_HOT", "16"))  # compile a tree the 16th time it is computed ...
#: ... and only once computing it operation by operation has taken this many seconds in all: a compile (1-3 s cold,
#: numba's import included) then costs at most what the tree already cost, so a class-sized loop, whose trees
#: take microseconds, never waits for a compiler and big or long-running work still gets its fused loops
#: (the rent-or-buy rule: never more than twice the time of the better choice made in hindsight)
PAYBACK = float(os.environ.get("DUALNUM_FUSE_PAYBACK", "2.0"))  # (a loop numba's disk cache holds: at once)
MAX_NODES = 32  # a bigger tree computes its arguments first: bounds the compiled loop and the key

#: rules that fuse, name -> Rule: the ones the per-rule kernels compile (one or two arguments, a derivative
#: formula). Callers check the Rule's identity, so a rule registered again under its name is not fused with
#: the loops of the old one; refresh() takes the new table when kernels.py regenerates its module.
FUSABLE = {r.name: r for r in kernels.kernel_rules()}
# ...except, on arrays of kernels.MIN_SIZE or more, the rules whose Rule.numpy_faster holds "fused" (unless
# kernels.ALWAYS): numba calls scalar libm for them, 3-13x slower than numpy's SIMD loops (benchmarks/b1's per-rule
# table), which costs more than fusing saves (measured: a fused tanh(x) * x at n = 1e5 took 8.9x numpy's time,
# unfused 2.5x); they are computed by numpy and become inputs

_DualArray = None  # bound by dualarray.py (which imports this module)
_eval_rule = None
_pending: list = []  # weak references to DualArrays that may hold an expression not yet computed
_limit = 4096  # _pending's length that triggers a clean-up
_seen: dict = {}  # tree key -> how many times it was computed operation by operation
_spent: dict = {}  # tree key -> seconds spent computing it operation by operation
_compiled: dict = {}  # tree key -> compiled kernel, or None if it failed to compile
_F64 = np.dtype(np.float64)  # numpy's arrays share this object; numba's outputs carry an equal one of their own
_ndarray = np.ndarray


def refresh():
    """The rules table changed: fuse its current rules, and forget every loop written from the old one."""
    global FUSABLE
    FUSABLE = {r.name: r for r in kernels.kernel_rules()}
    _compiled.clear()
    _seen.clear()
    _spent.clear()
    _disk.clear()


def bind(dualarray_cls, eval_rule):
    global _DualArray, _eval_rule
    _DualArray, _eval_rule = dualarray_cls, eval_rule


class Node:
    """A pending ``rule(*args)``: args are DualArrays (pending or computed) and Python floats."""

    __slots__ = ("rule", "args", "shape", "k", "key", "inputs", "consts", "size", "nops")


# An operand joins a tree as a pending expression (its key and inputs carry over), as a leaf ("L": a computed
# float64 DualArray, whose value and partials become kernel inputs), or as a number ("C"). unary and binary run
# for every elementwise operation, so they are written for speed: each operand spelled out, no helper calls.

def unary(rule, a):
    """A pending DualArray for ``rule(a)``, or None when the call is not fusable (then compute it now)."""
    if type(a) is not _DualArray:
        return None
    node = a._lazy
    if node is None:
        v, p = a._v, a._p
        if type(v) is not _ndarray or type(p) is not _ndarray or (v.dtype is not _F64 and v.dtype != _F64) or \
                (p.dtype is not _F64 and p.dtype != _F64):
            return None  # nested duals, float32, a non-native float64: the general path
        shape, k = v.shape, p.shape[0]
        if len(shape) != 1:
            v = v.reshape(-1)
            p = p.reshape(k, v.shape[0])  # (not -1: k may be 0)
        if "fused" in rule.numpy_faster and math.prod(shape) * (k + 1) >= kernels.MIN_SIZE and not kernels.ALWAYS:
            return None  # big: numpy's SIMD exp, tanh, ... beat numba's scalar libm by more than fusion saves
        return _pending_array(rule, (a,), a.tag, shape, k, rule.name + "(L)", (v, p), (), 2, 1)
    if type(node) is not Node:
        return None  # a pending expression on the GPU (backends/cuda/fusion.py) fuses there
    if "fused" in rule.numpy_faster and math.prod(node.shape) * (node.k + 1) >= kernels.MIN_SIZE and \
            not kernels.ALWAYS:
        return None
    if node.size >= MAX_NODES:
        force(a)
        return unary(rule, a)
    return _pending_array(rule, (a,), a.tag, node.shape, node.k, rule.name + "(" + node.key + ")", node.inputs,
                          node.consts, node.size + 1, node.nops + 1)


def binary(rule, a, b):
    """A pending DualArray for ``rule(a, b)``, or None when the call is not fusable (then compute it now)."""
    tag = None
    if type(a) is _DualArray:
        na = a._lazy
        if na is None:
            v, p = a._v, a._p
            if type(v) is not _ndarray or type(p) is not _ndarray or (v.dtype is not _F64 and v.dtype != _F64) or \
                    (p.dtype is not _F64 and p.dtype != _F64):
                return None
            shape, k = v.shape, p.shape[0]
            if len(shape) != 1:
                v = v.reshape(-1)
                p = p.reshape(k, v.shape[0])  # (not -1: k may be 0)
            ka, ia, ca, sa, oa = "L", (v, p), (), 1, 0
        elif type(na) is not Node:
            return None  # a pending expression on the GPU fuses there
        else:
            shape, k = na.shape, na.k
            ka, ia, ca, sa, oa = na.key, na.inputs, na.consts, na.size, na.nops
        tag = a.tag
    elif type(a) is float or (isinstance(a, _NUMBERS) and type(a) is not bool):
        ka, ia, ca, sa, oa = "C", (), (float(a),), 1, 0
    else:
        return None  # arrays of constants, scalar Duals, ...
    if type(b) is _DualArray:
        nb = b._lazy
        if nb is None:
            v, p = b._v, b._p
            if type(v) is not _ndarray or type(p) is not _ndarray or (v.dtype is not _F64 and v.dtype != _F64) or \
                    (p.dtype is not _F64 and p.dtype != _F64):
                return None
            s = v.shape
            if tag is None:
                shape, k, tag = s, p.shape[0], b.tag
            elif b.tag != tag or s != shape or p.shape[0] != k:
                return None  # nesting, broadcasting or a k = 0 constant beside k directions: the general path
            if len(s) != 1:
                v = v.reshape(-1)
                p = p.reshape(k, v.shape[0])  # (not -1: k may be 0)
            kb, ib, cb, sb, ob = "L", (v, p), (), 1, 0
        elif type(nb) is not Node:
            return None
        else:
            if tag is None:
                shape, k, tag = nb.shape, nb.k, b.tag
            elif b.tag != tag or nb.shape != shape or nb.k != k:
                return None  # a tree never mixes k: its loop reads k rows of every input
            kb, ib, cb, sb, ob = nb.key, nb.inputs, nb.consts, nb.size, nb.nops
    elif tag is not None and (type(b) is float or (isinstance(b, _NUMBERS) and type(b) is not bool)):
        kb, ib, cb, sb, ob = "C", (), (float(b),), 1, 0
    else:
        return None
    if "fused" in rule.numpy_faster and math.prod(shape) * (k + 1) >= kernels.MIN_SIZE and not kernels.ALWAYS:
        return None
    if sa + sb >= MAX_NODES:  # compute the bigger pending operand first; it becomes a leaf of this tree
        force(a if sa >= sb else b)
        return binary(rule, a, b)
    return _pending_array(rule, (a, b), tag, shape, k, f"{rule.name}({ka},{kb})", ia + ib, ca + cb, sa + sb + 1,
                          oa + ob + 1)


_NUMBERS = (float, int)


def _pending_array(rule, args, tag, shape, k, key, inputs, consts, size, nops):
    # the key is a string, "add(sin(L),C)": strings keep their hash, a nested tuple would be rehashed per lookup
    node = Node()
    node.rule, node.args, node.shape, node.k = rule, args, shape, k
    node.key, node.inputs, node.consts, node.size, node.nops = key, inputs, consts, size, nops
    d = object.__new__(_DualArray)
    d._v = d._p = None
    d.tag, d._lazy = tag, node
    _pending.append(weakref.ref(d))
    if len(_pending) > _limit:  # drop the computed and the collected; the limit grows with what stays
        _clean_up()
    return d


def _clean_up():
    global _limit
    _pending[:] = [r for r in _pending if (e := r()) is not None and e._lazy is not None]
    _limit = max(4096, 2 * len(_pending))


def force(d, count=True):
    """Compute a pending DualArray in place: by its compiled loop when its tree is hot, else op by op."""
    node = d._lazy
    if node is None:
        return d
    kern = (_compiled.get(node.key) or _kernel(node.key, "map", count)) if node.nops > 1 else None
    if kern is None:
        if node.nops > 1 and count:
            t = perf_counter()
            _eager(d)
            _spent[node.key] = _spent.get(node.key, 0.0) + perf_counter() - t
        else:
            _eager(d)
        return d
    try:
        out = kern(node.k, *node.inputs, *node.consts)
    except Exception as e:  # numba could not compile it: this tree stays on the operation-by-operation path
        _compiled[node.key] = None
        _forget(kern, e)
        _eager(d)
        return d
    _done(d, out[0].reshape(node.shape), out[1:].reshape((node.k,) + node.shape))
    return d


def force_all():
    """Compute every pending expression (before an array is written into)."""
    refs = _pending[:]
    _pending.clear()
    for r in refs:
        d = r()
        if d is not None and d._lazy is not None:
            force(d)


def sum_all(d):
    """np.sum(d) over every axis for a pending d, fused when its tree is hot; None: sum the computed array."""
    node = d._lazy
    skey = ("sum", node.key)  # a tuple of the key: hashing it reuses the string's cached hash
    kern = _compiled.get(skey) or _kernel(skey, "sum", True)
    if kern is None:
        t = perf_counter()
        force(d, count=False)  # counted as a sum, not as an array of its own
        _spent[skey] = _spent.get(skey, 0.0) + perf_counter() - t
        return None
    try:
        out = np.empty(node.k + 1)  # [value, k partials]: filled in place, nothing for numba to box
        kern(out, *node.inputs, *node.consts)
    except Exception as e:
        _compiled[skey] = None
        _forget(kern, e)
        force(d, count=False)
        return None
    if node.k and (m := np.minimum.reduce(out[1:])) != m:
        # a NaN in a sum: the loop sums plain products, so compute the array (NaN-safe per element) and sum that
        force(d, count=False)
        return None
    return _DualArray._new(np.asarray(out[0]), out[1:], d.tag)


def _forget(kern, e):
    """A loop that failed to load (numba's cache of it damaged, not a typing error): this process computes the
    tree op by op, and its cache is deleted so that later processes compile it afresh; warn once, naming it."""
    try:
        from numba.core.errors import NumbaError
        if isinstance(e, NumbaError):
            return
        path = sys.modules[kern.__module__].__file__
        kernels.forget_cache(path)
        kernels.warn_once(("fused-cache", os.path.dirname(path)), f"a fused loop's numba cache in "
                          f"{os.path.dirname(path)} could not be read ({e.__class__.__name__}); it was deleted")
    except Exception:
        pass


def _done(d, v, p):
    d._v, d._p, d._lazy = v, p, None


def _eager(d):
    """Operation by operation, exactly the unfused path (the per-rule kernels included)."""
    node = d._lazy
    args = [_eager(a) if type(a) is _DualArray and a._lazy is not None else a for a in node.args]
    r = _eval_rule(node.rule, args)
    _done(d, r._v, r._p)
    return d


def _kernel(key, kind, count):
    """The compiled loop for a tree, compiling it on the HOT-th request; None while it is not (yet) hot."""
    try:
        return _compiled[key]
    except KeyError:
        pass
    if not count:
        return None
    c = _seen.get(key, 0) + 1
    if len(_seen) > 100_000:  # generated expressions by the thousand (a hypothesis run): forget the counts
        _seen.clear()
        _spent.clear()
    _seen[key] = c
    if c < HOT or (_spent.get(key, 0.0) < PAYBACK and not _on_disk(key, kind)):
        return None
    _compiled[key] = kern = _compile(parse(key[1] if kind == "sum" else key), kind)
    return kern


# ---- writing the loop -------------------------------------------------------------------------------------

def loop_source(d, kind="map", one_direction=False):
    """The source of the loop that computes the pending DualArray ``d`` (``kind="sum"``: of ``np.sum(d)``),
    for reading: the rules' formulas per element, then the chain rule per direction. ``one_direction``: only
    the loop for k = 1 (a JVP), the shortest to read."""
    if not isinstance(d, _DualArray) or d._lazy is None:
        raise ValueError("loop_source needs a pending DualArray: the result of elementwise operations on "
                         "DualArrays, before anything reads its value or partials")
    if kind not in ("map", "sum"):
        raise ValueError(f"loop_source: kind is 'map' or 'sum', got {kind!r}")
    return source(parse(d._lazy.key), kind, one_direction)


def parse(key):
    """"add(sin(L),C)" -> ("add", ("sin", "L"), "C"): the tree a key spells. A leaf may carry its input's number
    ("L0", as the GPU's fused trees spell them: one number per distinct input)."""
    pos = 0

    def tree():
        nonlocal pos
        if key[pos] in "LC":
            end = pos + 1
            while end < len(key) and key[end] not in ",)":
                end += 1
            token = key[pos:end]
            if token == "C" or token == "L" or (token[0] == "L" and token[1:].isdigit()):
                pos = end
                return token
        start = pos
        pos = key.index("(", pos)
        name = key[start:pos]
        args = []
        while key[pos] != ")":
            pos += 1  # past "(" or ","
            args.append(tree())
        pos += 1
        return (name, *args)

    return tree()


#: the chain rule's product, NaN-safe (ForwardDiff's NaN-safe mode): a term d·p is 0 where p == 0 (this direction
#: does not pass through the input whose local derivative is inf or NaN) or d == 0 (the unselected branch of a
#: where, a zero derivative times an inf tangent). Otherwise the plain product, NaN or inf included. The text is
#: elementwise.TIMES, the one every compiled target uses (here without its decorator: loop_source shows it plain)
TIMES = [line for line in elementwise.TIMES.strip("\n").splitlines() if not line.startswith("@")]


BLOCK = 256  # elements per block in the blocked loop (k > 1, n > BLOCKED_FROM)
BLOCKED_FROM = 2048  # up to here the k partial rows sit close enough to be read across (measured: b3, b2)


def source(tree, kind, one_direction=False):
    """Python source of the fused loop for ``tree`` (nested (rule name, args...) with leaves "L", "C").

    k = 1 (a JVP): one pass computes each element's values, local partials and tangent. k > 1 and up to
    BLOCKED_FROM elements: per element, the values and local partials, then the k directions with those still
    in registers. More elements: the k partial rows lie far apart, so per block of elements the local partials
    are staged and the directions swept one by one along the rows (measured: the Hessian of Rosenbrock at
    n = 100, whose inner trees hold 50 × 99 elements, went from 4.6-4.9 to 3.8-3.9 ms; at n = 1000, k = 63,
    the per-element form was the faster, 28 against 33 µs).
    """
    head, vals, tans, coefs, used = [], [], [], [], {}
    tans_safe = []  # the same tangents with NaN-safe products, run only for an element whose result is NaN
    counter = {"L": 0, "C": 0, "t": 0}

    def new(prefix):
        counter["t"] += 1
        return f"{prefix}{counter['t']}"

    def walk(t):
        if t == "L":
            i = counter["L"]
            counter["L"] += 1
            vals.append(f"x{i} = a{i}[i]")
            tans.append(f"g{i} = p{i}[J, i]")
            tans_safe.append(tans[-1])
            return f"x{i}", f"g{i}"
        if t == "C":
            i = counter["C"]
            counter["C"] += 1
            return f"c{i}", None
        rule = rules.RULES[t[0]]
        subs = [walk(s) for s in t[1:]]
        used[rule.name] = rule
        z = new("z")
        args = ", ".join(v for v, _ in subs)
        vals.append(f"{z} = {elementwise.value(rule, *(v for v, _ in subs))}")
        terms, safe = [], []
        for i, (_, g) in enumerate(subs):
            if g is None:
                continue
            d = rule.partials[i]
            if callable(d):
                e = new("e")
                vals.append(f"{e} = _d{i}_{rule.name}({args}, {z})")
                coefs.append(e)
                terms.append(f"{e} * {g}")
                safe.append(f"_times({e}, {g})")  # NaN-safe: 0 where e or g is 0
                continue
            elif float(d) == 0.0:
                continue  # a zero local derivative contributes nothing, even times an inf tangent
            elif float(d) == 1.0:
                terms.append(g)
            elif float(d) == -1.0:
                terms.append(f"-{g}")
            else:
                terms.append(f"{float(d)!r} * {g}")
            safe.append(terms[-1])
        u = new("u")
        tans.append(f"{u} = " + (" + ".join(terms) if terms else "0.0"))
        tans_safe.append(f"{u} = " + (" + ".join(safe) if safe else "0.0"))
        return z, u

    root_v, root_g = walk(tree)

    def tangents(row):
        """The tangent lines for direction ``row``; a NaN at the root (and only a NaN there: a NaN never
        leaves a sum of products) sends that element through the NaN-safe products again. One compare per
        element and direction keeps the common case fast; a sum (np.sum of the tree) has none: sum_all looks
        at its k results once and, on a NaN, sums the computed array instead."""
        fast = [t.replace("[J, i]", row) for t in tans]
        if tans_safe == tans or total:  # a sum is checked once, at its end (sum_all): no test per element
            return fast
        return fast + [f"if {root_g} != {root_g}:", *["    " + t.replace("[J, i]", row) for t in tans_safe]]
    nl, nc = counter["L"], counter["C"]
    params = ", ".join(["out" if kind == "sum" else "k"] + [f"a{i}, p{i}" for i in range(nl)] +
                       [f"c{i}" for i in range(nc)])
    for name, rule in used.items():
        head.append(f"_f_{name} = _c(_R[{name!r}].f, {rule.arity})")
        for i, d in enumerate(rule.partials):
            if callable(d):
                head.append(f"_d{i}_{name} = _c(_R[{name!r}].partials[{i}], {rule.arity + 1})")
    total = kind == "sum"

    def block(lines, depth):
        return [" " * (4 * depth) + s for s in lines]

    def loop(rng, k1, depth):
        """The element loop (k1: the one-direction form), as statements at ``depth``."""
        if k1:
            inner = vals + tangents("[0, i]")
            inner += [f"sv += {root_v}", f"s0 += {root_g}"] if total else \
                [f"out[0, i] = {root_v}", f"out[1, i] = {root_g}"]
            return block([f"for i in {rng}(n):", *block(inner, 1)], depth)
        return block([f"for i in {rng}(n):",
                      *block(vals + [f"sv += {root_v}" if total else f"out[0, i] = {root_v}"], 1),
                      "    for j in range(k):",
                      *block(tangents("[j, i]"), 2),
                      "        " + (f"sp[j] += {root_g}" if total else f"out[j + 1, i] = {root_g}")], depth)

    def blocked(rng):
        """k > 1 over many elements: per block, values and local partials (staged in E), then direction by
        direction over the block, so the k partial rows are read along, not across (a row is n numbers apart)."""
        stage = [f"E[{m}, ii] = {e}" for m, e in enumerate(coefs)]
        unstage = [f"{e} = E[{m}, ii]" for m, e in enumerate(coefs)]
        return [f"for b in {rng}((n + {BLOCK - 1}) // {BLOCK}):",
                f"    lo = b * {BLOCK}",
                f"    m = min({BLOCK}, n - lo)",
                f"    E = np.empty(({max(len(coefs), 1)}, {BLOCK}))",
                "    for ii in range(m):",
                "        i = lo + ii",
                *block(vals + stage + [f"sv += {root_v}" if total else f"out[0, i] = {root_v}"], 2),
                "    for j in range(k):",
                *(["        acc = 0.0"] if total else []),
                "        for ii in range(m):",
                "            i = lo + ii",
                *block(unstage + tangents("[j, i]") +
                       [f"acc += {root_g}" if total else f"out[j + 1, i] = {root_g}"], 3),
                *(["        sp[j] += acc"] if total else [])]

    def either(k1, depth):
        """With DUALNUM_PARALLEL=1, big loops are split across threads (small ones would only pay the start-up),
        except where k > 1 partial sums would be shared: numba reduces scalars across threads, not arrays."""
        if not kernels.PARALLEL or (total and not k1):
            return loop("range", k1, depth)
        return block([f"if n * (k + 1) >= {kernels.MIN_SIZE}:", *loop("prange", k1, 1),
                      "else:", *loop("range", k1, 1)], depth)

    if one_direction:  # for reading (loop_source): the k = 1 loop alone
        body = ["n = a0.shape[0]", *(["s0 = 0.0", "sv = 0.0"] if total else ["out = np.empty((2, n))"]),
                *loop("range", True, 0), *(["out[0], out[1] = sv, s0"] if total else []),
                "return" + ("" if total else " out")]
        return "\n".join([*head, "", "", *TIMES, "", "", f"def kernel({params}):", *block(body, 1), ""])
    body = [
        "n = a0.shape[0]",
        *(["k = out.shape[0] - 1", "sv = 0.0", "sp = out[1:]", "sp[:] = 0.0"] if total
          else ["out = np.empty((k + 1, n))"]),
        "if k == 1:",
        *(["    s0 = 0.0"] if total else []),
        *either(True, 1),
        *(["    sp[0] = s0", "    out[0] = sv"] if total else []),
        "    return" + ("" if total else " out"),
        f"if n <= {BLOCKED_FROM}:",
        *either(False, 1),
        *(["    out[0] = sv"] if total else []),
        "    return" + ("" if total else " out"),
        *blocked("range" if total or not kernels.PARALLEL else "prange"),
        *(["out[0] = sv"] if total else []),
        "return" + ("" if total else " out"),
    ]
    lines = ["import numpy as np", "from numba import njit, prange",
             "from dualnum.backends.kernels import compile_formula as _c", "from dualnum.rules import RULES as _R", "",
             *head, "", "", '@njit(inline="always", error_model="numpy")', *TIMES, "", "",
             f'@njit(cache=True, nogil=True, error_model="numpy", parallel={kernels.PARALLEL})',
             f"def kernel({params}):", *block(body, 1), ""]
    return "\n".join(lines)


def _module_name(tree, kind):
    """(module name, source) of a tree's generated loop: named by its source and the table, so a file on disk
    is this tree's loop for this table."""
    src = source(tree, kind)
    return "dualnum_fused_" + hashlib.sha1((src + kernels._digest()).encode()).hexdigest()[:16], src


_disk: dict = {}  # key -> numba's disk cache holds this tree's compiled loop (loading it costs milliseconds)


def _on_disk(key, kind):
    hit = _disk.get(key)
    if hit is None:
        try:
            name, _ = _module_name(parse(key[1] if kind == "sum" else key), kind)
            hit = kernels.cached_on_disk("kernel", name)
        except Exception:
            hit = False
        _disk[key] = hit
    return hit


def _compile(tree, kind):
    try:
        names = _rule_names(tree)
        if any(FUSABLE.get(n) is not rules.RULES.get(n) for n in names):
            return None  # the table changed under this tree: its pending arrays are computed op by op
        name, src = _module_name(tree, kind)
        text = f"# Generated by dualnum/backends/fusion.py for one expression tree. Safe to delete.\n{src}"
        return kernels.load_generated(name, text, kernels._digest()).kernel
    except Exception:  # no numba, an unwritable disk: this tree stays on the operation-by-operation path
        return None


def _rule_names(tree):
    if isinstance(tree, str):
        return set()
    out = {tree[0]}
    for t in tree[1:]:
        out |= _rule_names(t)
    return out
