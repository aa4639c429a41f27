"""Fused elementwise chains on the GPU: ``np.sum(np.sin(x) * np.exp(-x) + x**2 / (1 + x**2))`` in one launch.

An elementwise operation on device dual arrays returns a *pending* DualArray: the operation is recorded in a
tree, nothing is launched. Reading its value or partials compiles the tree into one kernel (each element: every
node's value and local partials from the table's formulas, then the chain rule per direction) and runs it;
``np.sum`` of a pending array runs the tree's *sum* kernel instead, which accumulates value and partials per
thread and reduces them per block (deterministic, as :func:`ops.reduce`), so the arrays in between never touch
memory. A launch reads each input once: that is what makes a JVP as fast as copying its inputs.

The tree's key spells it (``"multiply(sin(L),C)"``, as the CPU's fused loops do); one kernel per key and k.
"""
from __future__ import annotations

import os
import weakref

import numpy as np

from ... import rules
from .. import elementwise
from ..fusion import parse  # the CPU's fused loops spell their trees the same way
from . import kernels, ops
from .array import DeviceArray, empty

ENABLED = os.environ.get("DUALNUM_FUSE", "1") != "0"  # off: one dual kernel per operation (tests compare)
MAX_NODES = 40  # a bigger tree computes its arguments first: bounds a kernel's registers and source
MAX_K_SUM = 8  # the sum kernel keeps k + 1 running sums per thread; more directions sum a computed array

_pending: list = []  # weak references to pending device DualArrays (forced before an in-place write)
_DualArray = None  # forward mode's DualArray, handed over by bind: the backend never imports forward mode


def bind(dualarray_cls):
    global _DualArray
    _DualArray = dualarray_cls


class Node:
    """A pending ``rule(*args)`` on the device: args are pending or computed device DualArrays and numbers."""

    __slots__ = ("rule", "args", "shape", "k", "dtype", "key", "leaves", "consts", "size")

    def force(self, d):
        force(d)

    def sum_all(self, d):
        return sum_all(d)


def _leaf(a, k, shape, dtype):
    """(key, leaves, consts, size) of an operand, or None if it cannot join a tree. A computed operand is leaf
    "L0" of its own; ``pending`` renumbers the leaves, one number per distinct input in the tree, so an input
    used four times is read once."""
    if type(a) is _DualArray:
        node = a._lazy
        if node is not None:
            if type(node) is not Node or node.k != k or node.shape != shape or node.dtype != dtype:
                return None
            return node.key, node.leaves, node.consts, node.size
        v, p = a._v, a._p
        if type(v) is not DeviceArray or type(p) is not DeviceArray or v.shape != shape or p.shape[0] != k or \
                v.dtype != dtype or p.dtype != dtype or not v.is_contiguous() or not p.is_contiguous():
            return None
        return "L0", ((v, p),), (), 1
    if type(a) in (float, int) or isinstance(a, (np.floating, np.integer)) and not isinstance(a, np.bool_):
        return "C", (), (float(a),), 1
    return None


def fusable(rule):
    return rule.arity in (1, 2) and rule.compiled and not rule.zero and not rule.nondiff and \
        rules.RULES.get(rule.name) is rule


def pending(rule, args, tag, k):
    """A pending DualArray for ``rule(*args)``, or None when it cannot be fused (then it is computed now)."""
    DualArray = _DualArray
    if not k or not ENABLED or not fusable(rule):
        return None
    shape = dtype = None
    for a in args:
        if type(a) is DualArray:
            if a.tag != tag:
                return None
            node = a._lazy
            s, dt = (node.shape, node.dtype) if type(node) is Node else (a._v.shape, a._v.dtype) \
                if node is None else (None, None)
            if s is None or (shape is not None and (s != shape or dt != dtype)):
                return None
            shape, dtype = s, dt
    if shape is None:
        return None
    parts = [_leaf(a, k, shape, dtype) for a in args]
    if any(p is None for p in parts):
        return None
    if sum(p[3] for p in parts) >= MAX_NODES:
        for a in args:  # compute the biggest operand first; it becomes a leaf of this tree
            if type(a) is DualArray and type(a._lazy) is Node and a._lazy.size >= MAX_NODES // 2:
                force(a)
        parts = [_leaf(a, k, shape, dtype) for a in args]
    node = Node()
    node.rule, node.args, node.shape, node.k, node.dtype = rule, tuple(args), shape, k, dtype
    leaves, keys = [], []
    for key, ls, _, _ in parts:
        if ls:  # renumber this operand's leaves after the ones already in the tree, sharing repeated inputs
            index = {}
            for j, leaf in enumerate(ls):
                at = next((i for i, old in enumerate(leaves) if old[0] is leaf[0] and old[1] is leaf[1]), None)
                if at is None:
                    at = len(leaves)
                    leaves.append(leaf)
                index[j] = at
            key = _renumber(key, index)
        keys.append(key)
    node.key = f"{rule.name}({','.join(keys)})"
    node.leaves = tuple(leaves)
    node.consts = tuple(x for p in parts for x in p[2])
    node.size = sum(p[3] for p in parts) + 1
    d = object.__new__(DualArray)
    d._v = d._p = None
    d.tag, d._lazy = tag, node
    _pending.append(weakref.ref(d))
    if len(_pending) > 4096:
        _pending[:] = [r for r in _pending if (e := r()) is not None and e._lazy is not None]
    return d


def _renumber(key, index):
    """The operand key with each leaf token "L<j>" (its j-th leaf) renamed "L<index[j]>"."""
    out, pos = [], 0
    while pos < len(key):
        if key[pos] == "L" and (pos == 0 or key[pos - 1] in "(,"):
            end = pos + 1
            while end < len(key) and key[end] not in ",)":
                end += 1
            out.append(f"L{index[int(key[pos + 1:end])]}")
            pos = end
        else:
            out.append(key[pos])
            pos += 1
    return "".join(out)


def force(d):
    """Compute a pending device DualArray in place: one launch of its tree's kernel."""
    node = d._lazy
    n = int(np.prod(node.shape))
    z = empty(node.shape, node.dtype)
    pz = empty((node.k,) + node.shape, node.dtype)
    kern = _kernel(node.key, "map", node.k)
    args = [a for v, p in node.leaves for a in (v.data, v.offset, p.data, p.offset)]
    consts = [node.dtype.type(c) for c in node.consts]
    ops._launch(kern, n, node.k, z.data, pz.data, *args, *consts)
    d._v, d._p, d._lazy = z, pz, None
    return d


def force_all():
    """Compute every pending device expression (before an array is written into in place)."""
    refs = _pending[:]
    _pending.clear()
    for r in refs:
        d = r()
        if d is not None and type(d._lazy) is Node:
            force(d)


def sum_all(d):
    """np.sum of a pending device DualArray in one launch (value and k partials), then a pass over the blocks."""
    node = d._lazy
    if node.k > MAX_K_SUM:
        force(d)
        return None
    n = int(np.prod(node.shape))
    c = kernels.config()
    blocks = max(1, min(c.max_blocks, -(-n // c.reduce_threads)))
    part = empty(((node.k + 1) * blocks,), np.float64)
    kern = _kernel(node.key, "sum", node.k)
    args = [a for v, p in node.leaves for a in (v.data, v.offset, p.data, p.offset)]
    consts = [node.dtype.type(x) for x in node.consts]
    if n:
        kernels.run(kern, blocks, c.reduce_threads, (n, part.data, *args, *consts))
    else:
        part = ops.full(((node.k + 1) * blocks,), 0.0)
    tot = ops._reduce_flat("sum", part.data, 0, (node.k + 1, blocks), (blocks, 1), node.k + 1, blocks)
    if node.dtype != tot.dtype:
        tot = ops.astype(tot, node.dtype)
    return _DualArray._new(tot[0], tot[1:], d.tag)


# ---- writing the kernel ---------------------------------------------------------------------------------------

def source(key, kind, k):
    """The kernel's source: per element, the values and local partials of every node, then the tangents.

    ``kind="map"`` writes value and partials (any k, a loop over directions); ``kind="sum"`` (k <= 8, unrolled)
    keeps running sums per thread and writes one partial sum per block and output row."""
    tree = parse(key)
    lines, tangent_lines = [], []
    names = {"C": 0}
    used = {}
    counter = [0]

    loaded = set()

    def walk(t):
        if isinstance(t, str) and t.startswith("L"):
            i = int(t[1:])
            if i not in loaded:  # each input read once per element, its tangent once per direction
                loaded.add(i)
                lines.append(f"x{i} = L{i}[L{i}o + i]")
                tangent_lines.append(f"p{i} = P{i}[P{i}o + j * n + i]")
            return f"x{i}", (f"p{i}", True)
        if t == "C":
            i = names["C"]
            names["C"] += 1
            return f"C{i}", None
        rule = rules.RULES[t[0]]
        used[rule.name] = rule
        subs = [walk(a) for a in t[1:]]
        m = counter[0]
        counter[0] += 1
        xs = [s[0] for s in subs]
        v = f"v{m}"
        lines.append(f"{v} = {elementwise.value(rule, *xs)}")
        terms = []
        for w, (x, tan) in enumerate(subs):
            if tan is None:
                continue
            d = f"d{m}_{w}"
            lines.append(f"{d} = " + elementwise.partial(rule, w, xs[0], xs[1] if len(xs) > 1 else None, v))
            terms.append(elementwise.chain(d, tan[0]))
        t_name = f"t{m}"
        tangent_lines.append(f"{t_name} = " + (" + ".join(terms) if terms else "0.0"))
        return v, (t_name, False)

    top, top_tan = walk(tree)
    top_t = top_tan[0] if top_tan is not None else "0.0"
    leaves = len(loaded)
    params = [f"L{i}, L{i}o, P{i}, P{i}o" for i in range(leaves)] + [f"C{i}" for i in range(names["C"])]
    head = "".join(elementwise.formulas(r) for r in used.values())
    if kind == "map":
        body = "\n".join("        " + ln for ln in lines)
        tang = "\n".join("            " + ln for ln in tangent_lines)
        return head + f'''

@cuda.jit
def fused(n, k, z, pz, {", ".join(params)}):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
{body}
        z[i] = {top}
        for j in range(k):
{tang}
            pz[j * n + i] = {top_t}
'''
    rows = k + 1
    body = "\n".join("        " + ln for ln in lines)
    acc_init = "\n".join(f"    a{r} = 0.0" for r in range(rows))
    tang = []
    for j in range(k):
        for ln in tangent_lines:
            tang.append("        " + ln.replace("j * n", f"{j} * n"))
        tang.append(f"        a{j + 1} += {top_t}")
    store = "\n".join(f"    buf[{r}, t] = a{r}" for r in range(rows))
    tree_step = "\n".join(f"            buf[{r}, t] += buf[{r}, t + s]" for r in range(rows))
    write = "\n".join(f"        out[{r} * cuda.gridDim.x + cuda.blockIdx.x] = buf[{r}, 0]" for r in range(rows))
    return head + f'''

_RT = {kernels.config().reduce_threads}


@cuda.jit
def fused(n, out, {", ".join(params)}):
    buf = cuda.shared.array(({rows}, _RT), dtype=float64)
    t = cuda.threadIdx.x
{acc_init}
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
{body}
        a0 += {top}
{chr(10).join(tang)}
{store}
    cuda.syncthreads()
    s = _RT // 2
    while s > 0:
        if t < s:
{tree_step}
        cuda.syncthreads()
        s //= 2
    if t == 0:
{write}
'''


_compiled: dict = {}


def _kernel(key, kind, k):
    ck = (key, kind, k if kind == "sum" else None)
    kern = _compiled.get(ck)
    if kern is None:
        ns = dict(kernels._ns())
        exec(compile(source(key, kind, k), f"<dualnum fused {kind} {key}>", "exec"), ns)
        kern = _compiled[ck] = ns["fused"]
    return kern


def loop_source(d, kind="map"):
    """The CUDA kernel a pending device DualArray runs (for reading)."""
    node = d._lazy
    return source(node.key, kind, node.k)
