"""See the tape: the graph the tracker recorded behind a value, as text (``show``) or as a picture (``draw``).

    >>> import numpy as np
    >>> from dualnum.tracker import param, back
    >>> from dualnum.tape import tape
    >>> W, x = param(2.0, name="W"), param(3.0, name="x")
    >>> y = np.sin(W * x)
    >>> [line.op for line in tape(y).lines]      # show(y) prints these, with values, arguments and math
    ['W', 'x', 'multiply', 'sin']
    >>> back(y)
    >>> bool(np.isclose(tape(y).lines[0].grad, 3 * np.cos(6.0)))    # the gradient that reached W
    True

One line per node, inputs first (creation order is a topological order: a node is made after its arguments):
its index, operation (the rule's name in :mod:`dualnum.rules`, or the structural operation's: sum, reshape,
getitem, matmul, einsum, ...), shape, value, the nodes it came from (``c``: a constant), the gradient that
reached it once a backward pass has run, and the one-line math of its rule -- the rules table at work.

How the gradients are seen: the backward sweep frees the graph as it goes and keeps a parameter's adjoint in a
dict of its own, so ``show``/``draw`` take the tape *before* the sweep: they wrap each node's operation in a
:class:`~dualnum.reverse.tracked.Watch` that notes the gradient passing through (only the nodes of a tape pay
for it). So call ``show(y)`` before ``back(y)`` -- or run the forward and backward passes inside
``with tracker.recording():``, which takes the tape of every graph a sweep is about to free; ``show()`` with no
argument shows the latest tape (the loss inside ``gradient``). The last 32 tapes are kept.

The forward-mode counterpart: ``dualnum.backends.fusion.loop_source(d)`` prints the loop that computes a pending
DualArray -- each rule's formula per element, then the chain rule per direction.
"""
from __future__ import annotations

import collections
import contextlib
import operator

import numpy as np

from . import linear
from .primitive import Primitive
from .reverse import backward
from .reverse.tracked import CONSUMED, Tracked, Watch, value
from .rules import Rule

KEEP = 32  # tapes kept, newest last: show() after back(y) finds y's
_TAPES: collections.OrderedDict = collections.OrderedDict()  # id(root) -> Tape (which holds the root)

# the math of the operations that are not rules of the table (a rule brings its own ``math``)
_MATH = {
    "sum": "z = Σ x  →  x̄ = z̄ spread over the summed axes",
    "cumsum": "z = cumsum x  →  x̄ = reversed cumsum of z̄",
    "max": "z = max x  →  x̄ = z̄ where x attains it (ties share)",
    "min": "z = min x  →  x̄ = z̄ where x attains it (ties share)",
    "matmul": "C = A B  →  Ā = C̄ Bᵀ,  B̄ = Aᵀ C̄",
    "getitem": "z = x[i]  →  x̄ = z̄ put back at i, 0 elsewhere",
    "scatter": "z = 0 with g at i  →  ḡ = z̄[i]",
    "setitem": "y[i] = v  →  ȳ_old = ȳ with 0 at i,  v̄ = ȳ[i]",
    "concatenate": "z = [x₁ x₂ …]  →  x̄ᵢ = z̄'s piece of xᵢ",
    "stack": "z = stack(x₁, x₂, …)  →  x̄ᵢ = z̄[i]",
    "reshape": "z = x reshaped  →  x̄ = z̄ reshaped back",
    "squeeze": "z = x reshaped  →  x̄ = z̄ reshaped back",
    "expand_dims": "z = x reshaped  →  x̄ = z̄ reshaped back",
    "transpose": "z = xᵀ  →  x̄ = z̄ᵀ",
    "swapaxes": "z = x, axes swapped  →  x̄ = z̄, axes swapped back",
    "moveaxis": "z = x, axes moved  →  x̄ = z̄, axes moved back",
    "broadcast_to": "z = x stretched  →  x̄ = Σ z̄ over the stretched axes",
    "flip": "z = x flipped  →  x̄ = z̄ flipped back",
    "roll": "z = x rolled  →  x̄ = z̄ rolled back",
    "copy": "z = x  →  x̄ = z̄",
    "astype": "z = x in another precision  →  x̄ = z̄ in x's",
    "constant": "derivative 0: nothing flows back",
    "det": "d det A = det A · tr(A⁻¹ dA)",
    "slogdet": "d log|det A| = tr(A⁻¹ dA)  (the sign is a constant)",
    "inv": "d A⁻¹ = −A⁻¹ dA A⁻¹",
    "solve": "X = A⁻¹ b  →  dX = A⁻¹ (db − dA X)",
    "einsum": "linear in each operand: d f = Σᵢ f(…, dxᵢ, …)",
    "cholesky": "A = L Lᵀ  →  dA = dL Lᵀ + L dLᵀ",
    "eigh": "A = V Λ Vᵀ  →  dλᵢ = vᵢᵀ dA vᵢ",
    "eigvalsh": "dλᵢ = vᵢᵀ dA vᵢ",
    "svd": "A = U S Vᵀ  →  dsᵢ = uᵢᵀ dA vᵢ",
    "qr": "A = Q R  →  dA = dQ R + Q dR",
    "pinv": "d A⁺ from dA (Golub–Pereyra)",
}
_GATHER_MATH = "z takes elements of x  →  x̄ = z̄ sent back to the elements it took"
_GATHERS = frozenset(f.__name__ for f in linear.GATHERS)
# functions that wrap another's adjoint: the operation's name is found inside them (in their closure)
_WRAPPERS = frozenset(["_linear", "_record", "_join", "_from_primitive", "_gather", "handler", "<lambda>"])
_RENAMED = {"_write": "setitem", "_no_grad": "constant", "_zero_derivative": "constant"}


def _describe(op, depth=0):
    """(name, math) of a recorded operation: a rule, a primitive, or a structural adjoint (named by the function
    that recorded it); None when nothing says."""
    if type(op) is Rule:
        return op.name, op.math
    if isinstance(op, Primitive):
        name = op.func.__name__
        return name, getattr(op, "math", "") or _MATH.get(name, "")
    qual = getattr(op, "__qualname__", None)
    if not isinstance(qual, str):
        return None
    outer = qual.split(".")[0]
    if outer not in _WRAPPERS:
        name = _RENAMED.get(outer, outer.lstrip("_"))
        return name, _MATH.get(name, _GATHER_MATH if name in _GATHERS else "")
    if depth < 3:
        for cell in getattr(op, "__closure__", None) or ():
            try:
                v = cell.cell_contents
            except ValueError:  # (a cell not filled yet)
                continue
            if callable(v) or isinstance(v, Primitive):
                found = _describe(v, depth + 1)
                if found is not None:
                    return found
    return None


class Line:
    """One node of a tape: the node, its operation's name and math, the lines it came from, its gradient."""

    __slots__ = ("node", "op", "math", "sources", "grad", "leaf")

    def __init__(self, node, op, math, sources, leaf):
        self.node, self.op, self.math, self.sources, self.grad, self.leaf = node, op, math, sources, None, leaf


class Tape:
    """The lines of a graph, inputs first, the output last; ``str(tape)`` is what ``show`` prints."""

    def __init__(self, lines, tag):
        self.lines, self.tag = lines, tag
        self._at = {id(line): k for k, line in enumerate(lines)}
        self._nodes = {id(line.node): k for k, line in enumerate(lines)}

    @property
    def root(self):
        return self.lines[-1].node

    def __len__(self):
        return len(self.lines)

    def swept(self):
        """Has a backward pass gone through this graph (so the gradients are filled in)?"""
        return any(line.grad is not None for line in self.lines) or self.root._op is CONSUMED

    def sources(self, k):
        """The indices (in this tape) of the nodes line k came from; None for each constant."""
        return [None if s is None else self._at[id(s)] for s in self.lines[k].sources]

    def below(self, node):
        """The tape of the part of this graph that ``node`` depends on, or None if node is not in it."""
        k = self._nodes.get(id(node))
        if k is None or self.lines[k].node is not node:
            return None
        keep, stack = {k}, [k]
        while stack:
            for s in self.sources(stack.pop()):
                if s is not None and s not in keep:
                    keep.add(s)
                    stack.append(s)
        return Tape([self.lines[i] for i in sorted(keep)], self.tag)

    def rows(self):
        """Per line: index, operation, shape, value, from, gradient (None before a backward pass), math."""
        swept = self.swept()
        out = []
        for k, line in enumerate(self.lines):
            src = self.sources(k)
            frm = ", ".join("c" if s is None else str(s) for s in src) if src else "·"
            grad = (_short(line.grad) if line.grad is not None else "·") if swept else None
            out.append((str(k), line.op, str(np.shape(value(line.node.data))), _short(line.node.data), frm,
                        grad, line.math))
        return out

    def __str__(self):
        swept = self.swept()
        head = ("#", "operation", "shape", "value", "from", "gradient", "math")
        rows = [r if swept else r[:5] + r[6:] for r in self.rows()]
        if not swept:
            head = head[:5] + head[6:]
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        fmt = "  ".join(f"{{:>{w}}}" if i == 0 else f"{{:<{w}}}" for i, w in enumerate(widths))
        n = len(self.lines)
        title = (f"tape of {_short(self.root.data)} (tracked, level {self.tag}): {n} node{'s' * (n != 1)}, inputs "
                 "first; c = a constant; " + ("gradients from the backward pass" if swept else
                                             "no backward pass yet (back(y) or a gradient, then show again)"))
        return "\n".join([title, fmt.format(*head).rstrip()] + [fmt.format(*r).rstrip() for r in rows])

    __repr__ = __str__


def _short(v, width=26):
    """A value in a few characters: 0.8415, [0.1 0.2 0.3], [[1. … 2.] …]."""
    try:
        v = np.asarray(value(v))
        if v.ndim == 0:
            return f"{float(v):.4g}"
        s = np.array2string(v, precision=3, threshold=4, edgeitems=1, suppress_small=True)
    except (TypeError, ValueError):
        s = type(v).__name__
    s = " ".join(s.split())
    return s if len(s) <= width else s[:width - 1] + "…"


def _leaf_label(node):
    """(operation, math) of a leaf: its name (or param/input), and what it is."""
    if node._tag == 0:
        return node.name or "param", "parameter"
    return node.name or "input", "input"


def _build(y, fname):
    """Take the tape of y's graph (y not yet swept): every node once, watched for the gradient that reaches it."""
    tag = y._tag
    found, stack = {id(y): y}, [y]
    while stack:
        node = stack.pop()
        if node._op is CONSUMED:
            raise RuntimeError(
                f"{fname}: part of this graph was already swept by a backward pass, which freed it, and no tape "
                f"was taken before. Call {fname}(y) before back(y), or compute and differentiate inside "
                "`with tracker.recording():`.")
        for p in node._parents:
            if type(p) is Tracked and p._tag == tag and id(p) not in found:
                found[id(p)] = p
                stack.append(p)
    lines, at = [], {}
    for node in sorted(found.values(), key=_SEQ):
        op = node._op
        if op is None:
            line = Line(node, *_leaf_label(node), [], True)
        else:
            watch = op if type(op) is Watch else Watch(op, node)
            described = _describe(watch.op) or ("operation", "")
            sources = [at[id(p)] if type(p) is Tracked and p._tag == tag else None for p in node._parents]
            line = Line(node, described[0], described[1], sources, False)
            watch.lines.append(line)
            watch.sinks.extend((i, s) for i, s in enumerate(sources) if s is not None and s.leaf)
            node._op = watch
        at[id(node)] = line
        lines.append(line)
    return _keep(Tape(lines, tag))


_SEQ = operator.attrgetter("_seq")


def _keep(tape):
    _TAPES[id(tape.root)] = tape
    _TAPES.move_to_end(id(tape.root))
    while len(_TAPES) > KEEP:
        _TAPES.popitem(last=False)
    return tape


def tape(y=None, fname="tape"):
    """The :class:`Tape` of tracked ``y`` (taken now, or the one taken before its backward pass); ``y=None``:
    the latest."""
    if y is None:
        if not _TAPES:
            raise ValueError(f"{fname}(): no tape has been taken yet; pass the tracked value: {fname}(y)")
        return next(reversed(_TAPES.values()))
    if type(y) is not Tracked:
        raise TypeError(f"{fname}: expected a tracked value (a param, or a result computed from one), got "
                        f"{type(y).__name__}; only the tracker (reverse mode) records a tape. For forward mode, "
                        "dualnum.backends.fusion.loop_source(d) shows the loop a DualArray runs.")
    t = _TAPES.get(id(y))
    if t is not None and t.root is y and (y._op is CONSUMED or y._op is None or
                                          type(y._op) is Watch and t.lines[-1] in y._op.lines):
        _TAPES.move_to_end(id(y))
        return t
    if y._op is CONSUMED:
        for t in reversed(_TAPES.values()):
            part = t.below(y)
            if part is not None:
                return part
    return _build(y, fname)


def show(y=None) -> str:
    """Print (and return) the graph behind tracked ``y``: one line per node, inputs first -- index, operation,
    shape, value, the nodes it came from, the gradient that reached it (after a backward pass), the rule's math.

    Take it before ``back(y)`` (or inside ``with tracker.recording():``) to see the gradients afterwards:
    ``show(y); back(y); show(y)``. ``show()`` shows the latest tape.
    """
    text = str(tape(y, "show"))
    print(text)
    return text


def _layers(t):
    """Each line's layer: the longest path to it from an input; an input sits just before its first user, so
    no arrow from it crosses a layer of boxes (b in tanh(w·x + b) enters beside the sum it joins)."""
    layer = []
    for k in range(len(t)):
        src = [s for s in t.sources(k) if s is not None]
        layer.append(1 + max(layer[s] for s in src) if src else 0)
    first_use = {}
    for k in range(len(t)):
        for s in t.sources(k):
            if s is not None and not [q for q in t.sources(s) if q is not None]:
                first_use[s] = min(first_use.get(s, layer[k]), layer[k])
    for s, used in first_use.items():
        layer[s] = max(0, used - 1)
    return layer


MAX_DRAWN = 300


def draw(y=None, ax=None):
    """The graph behind tracked ``y`` drawn with matplotlib: one box per node, in layers from the inputs (left) to
    ``y`` (right), arrows from each node's arguments; labels as in :func:`show`. Returns the Figure."""
    t = tape(y, "draw")
    if len(t) > MAX_DRAWN:
        raise ValueError(f"draw: the graph has {len(t)} nodes, too many to read in a picture (at most "
                         f"{MAX_DRAWN}); use show(y) for the text, or draw a smaller example")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    layer = _layers(t)
    columns = collections.defaultdict(list)
    for k, n in enumerate(layer):
        columns[n].append(k)
    tall = max(len(c) for c in columns.values())
    dx, dy, w, h = 3.4, 1.6, 2.9, 1.25
    pos = {}
    for n, ks in columns.items():
        for j, k in enumerate(ks):
            pos[k] = (n * dx, (tall - 1) / 2 * dy - (j - (len(ks) - 1) / 2) * dy)
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4.0, 2.6 * (max(layer) + 1)), max(2.0, 1.25 * tall)))
    rows = t.rows()
    for k, (i, op, shape, val, _, grad, math) in enumerate(rows):
        x, yy = pos[k]
        line = t.lines[k]
        colour = "#cfe8ff" if line.leaf else ("#ffe8a8" if k == len(rows) - 1 else "#f4f4f4")
        ax.add_patch(FancyBboxPatch((x - w / 2, yy - h / 2), w, h, boxstyle="round,pad=0.05", fc=colour,
                                    ec="#555555", lw=0.8))
        label = [f"{i}  {op}  {shape}", f"value {val}"]
        if grad is not None:
            label.append(f"grad {grad}")
        for part in math.split("  →  ") if math else ():  # (a structural op's math: the value, then the adjoint)
            label.append(part if len(part) <= 30 else part[:29] + "…")
        ax.text(x, yy, "\n".join(label), ha="center", va="center", fontsize=6.5, family="monospace")
    for k in range(len(t)):
        for s in dict.fromkeys(s for s in t.sources(k) if s is not None):
            (x0, y0), (x1, y1) = pos[s], pos[k]
            ax.annotate("", xy=(x1 - w / 2 - 0.05, y1), xytext=(x0 + w / 2 + 0.05, y0),
                        arrowprops=dict(arrowstyle="->", color="#555555", lw=0.8))
    ax.set_xlim(-w / 2 - 0.3, max(layer) * dx + w / 2 + 0.3)
    ax.set_ylim(-h / 2 - 0.3, (tall - 1) * dy + h / 2 + 0.3)
    ax.set_axis_off()
    ax.set_title(f"the tape: {len(t)} nodes, inputs left, output right" +
                 ("; gradients after the backward pass" if t.swept() else ""), fontsize=8)
    return ax.figure


def _record_sweep(y, tag):
    if type(y) is Tracked and y._op is not None and y._op is not CONSUMED and y._tag == tag:
        try:
            tape(y, "recording")
        except RuntimeError:
            pass  # a graph already freed: the sweep itself says so


@contextlib.contextmanager
def recording():
    """``with recording():`` every backward pass (``back``, ``gradient``) first takes the tape of its graph, so
    ``show(y)`` / ``draw(y)`` afterwards show the gradients -- no need to call show before back."""
    before = backward.RECORDER
    backward.RECORDER = _record_sweep
    try:
        yield
    finally:
        backward.RECORDER = before


__all__ = ["show", "draw", "recording", "tape", "Tape"]
