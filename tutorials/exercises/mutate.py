"""Mutation testing of the checks: plant one mistake in a solution block, run the checker, expect a failure.

The mistakes are the ones students make: a flipped sign (``+`` for ``-``, ``-x`` for ``x``, ``+=`` for ``-=``),
a ``*`` for a ``/`` (and ``**`` for ``*``), a changed numeric constant (c → c + 1), a dropped term or factor
(``a + b`` → ``a``, → ``b``), swapped arguments (``f(a, b)`` → ``f(b, a)``, ``a - b`` → ``b - a``), a flipped
comparison (``<`` → ``<=``, ``==`` → ``!=``), a flipped boolean, and a dropped statement (→ ``pass``). Only code
inside ``# BEGIN SOLUTION`` blocks is mutated. A mutant is *caught* when any check fails on it (a crash or a time
out counts). A line ending in ``# no-mutate: <reason>`` is left alone (an equivalent mutant, with its reason).
"""
from __future__ import annotations

import ast
import copy
import random
from dataclasses import dataclass

from .build import blocks

_FLIP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
         ast.FloorDiv: ast.Div, ast.MatMult: ast.Mult}
_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
        ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_COMMUTATIVE = (ast.Add, ast.Mult)
#: functions whose first two arguments commute: swapping them is an equivalent mutant
_SYMMETRIC = frozenset("logaddexp logaddexp2 maximum minimum fmax fmin hypot add multiply max min".split())
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//",
        ast.MatMult: "@", ast.Mod: "%"}


@dataclass
class Mutant:
    line: int  # 1-based line in the solution file
    what: str  # "a + b -> a - b"
    source: str  # the whole mutated file

    @property
    def kind(self) -> str:
        """"core" (a sign, an operator, a constant, a dropped term or statement, swapped arguments, a comparison)
        or "variable" (one variable or attribute read for another: often equivalent when both hold equal values)."""
        return "variable" if " instead of " in self.what else "core"


def _is_number(node):
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool)


def _unparse(node):
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover (every node we make unparses)
        return "?"


def _even(parent, node):
    """node's sign cannot matter: it is squared (x ** 2, np.square) or under abs: flipping it is equivalent."""
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow) and parent.left is node:
        return _is_number(parent.right) and parent.right.value % 2 == 0
    if isinstance(parent, ast.Call) and len(parent.args) == 1 and parent.args[0] is node:
        f = parent.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        return name in ("square", "abs", "absolute", "fabs")
    return False


def _candidates(node, parent=None, names=None, attrs=None):
    """(replacement node or None for 'pass', description) for each mutation of one node."""
    out = []
    even = _even(parent, node)
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        if op in _FLIP:
            # x * 1 and x / 1 (and x ** 1 vs x * 1) are the same number: an equivalent mutant
            one = _is_number(node.right) and node.right.value in (1, -1)
            if not one:
                new = copy.copy(node)
                new.op = _FLIP[op]()
                out.append((new, f"{_OPS[op]} -> {_OPS[_FLIP[op]]}"))
        # drop a term or a factor
        out.append((node.left, f"dropped the right operand of {_OPS.get(op, op.__name__)}"))
        if op in (ast.Add, ast.Mult, ast.Sub):
            if op is ast.Sub:
                out.append((ast.UnaryOp(ast.USub(), node.right), "dropped the left operand of -"))
            else:
                out.append((node.right, f"dropped the left operand of {_OPS[op]}"))
        if op not in _COMMUTATIVE and _unparse(node.left) != _unparse(node.right) and not (op is ast.Sub and even):
            new = copy.copy(node)
            new.left, new.right = node.right, node.left
            out.append((new, f"swapped the operands of {_OPS.get(op, op.__name__)}"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not even:
        out.append((node.operand, "dropped a minus sign"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append((node.operand, "dropped a not"))
    elif _is_number(node):
        v = node.value
        # under a minus sign, -c -> -(c - 1): toward 0 (-1 -> -2 often changes nothing a max() or sort sees)
        w = v - 1 if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub) else v + 1
        out.append((ast.Constant(w), f"constant {v!r} -> {w!r}"))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append((ast.Constant(not node.value), f"{node.value} -> {not node.value}"))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
        new = copy.copy(node)
        new.ops = [_CMP[type(node.ops[0])]()]
        out.append((new, f"comparison {_unparse(node)} -> {_unparse(new)}"))
    elif isinstance(node, ast.Call) and len(node.args) >= 2 and not any(isinstance(a, ast.Starred)
                                                                        for a in node.args[:2]):
        f = node.func
        fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        if _unparse(node.args[0]) != _unparse(node.args[1]) and fname not in _SYMMETRIC:
            new = copy.copy(node)
            new.args = [node.args[1], node.args[0], *node.args[2:]]
            out.append((new, "swapped the first two arguments"))
    elif isinstance(node, ast.AugAssign) and type(node.op) in _FLIP:
        new = copy.copy(node)
        new.op = _FLIP[type(node.op)]()
        out.append((new, f"{_OPS[type(node.op)]}= -> {_OPS[type(new.op)]}="))
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        out.append((node.value, "dropped a transpose (.T)"))
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and names:
        for other in names.get(node.id, ()):
            out.append((ast.Name(other, ast.Load()), f"used {other} instead of {node.id}"))
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and attrs:
        for other in attrs.get(node.attr, ()):
            new = copy.copy(node)
            new.attr = other
            out.append((new, f"used .{other} instead of .{node.attr}"))
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)) and \
            not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        out.append((None, "dropped the statement"))
    return out


def _skip_nodes(tree):
    """Nodes whose mutation no check can see: f-strings, messages of raise, calls to print, docstrings."""
    skip = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                                            and n.func.id == "print"):
            skip.update(id(m) for m in ast.walk(n))
        if isinstance(n, ast.Raise):
            skip.update(id(m) for m in ast.walk(n))
    return skip


def _swaps(tree, lo, hi, parents):
    """The wrong-variable mistakes of the block on lines lo..hi: ({name: [other names]}, {attr: [other attrs]}).

    Names are the enclosing function's parameters and local variables that the block reads; attributes are the
    data attributes the block reads (``.value`` for ``.deriv``), not methods. Each gets its neighbours in the order
    they first appear, at most two, so the number of mutants stays proportional to the block."""
    func = None
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and n.lineno <= lo and \
                n.end_lineno >= hi and (func is None or n.lineno >= func.lineno):
            func = n
    if func is None:
        return {}, {}
    local = {a.arg for a in func.args.args + func.args.kwonlyargs + func.args.posonlyargs}
    local |= {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    used, attrs = [], []
    for n in ast.walk(func):
        if not hasattr(n, "lineno") or not (lo <= n.lineno <= hi):
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in local and n.id not in used:
            used.append(n.id)
        p = parents.get(id(n))
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name) and \
                not (isinstance(p, ast.Call) and p.func is n) and n.attr not in attrs and n.attr != "T" and \
                n.value.id in local:
            attrs.append(n.attr)

    def neighbours(seq):
        return {x: [y for y in seq[max(0, i - 1):i + 2] if y != x] for i, x in enumerate(seq)}
    return neighbours(used), neighbours(attrs)


def mutants(source: str, path: str = "solution"):
    """Every mutant of the solution blocks of ``source`` (a Python file's text), in file order."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))
    ranges = [(b + 2, e) for b, e, _, _ in blocks(source, path)]  # 1-based lines strictly inside each block
    excluded = {i + 1 for i, ln in enumerate(lines) if "# no-mutate" in ln}

    def inside(n):
        return any(lo <= n.lineno and n.end_lineno <= hi for lo, hi in ranges) and \
            not any(k in excluded for k in range(n.lineno, n.end_lineno + 1))

    def offset(line, col):  # ast columns count UTF-8 bytes
        return starts[line - 1] + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", errors="replace"))

    tree = ast.parse(source)
    skip = _skip_nodes(tree)
    parents = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    swaps = [_swaps(tree, lo, hi, parents) for lo, hi in ranges]
    out = []
    seen = set()
    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or id(node) in skip or not inside(node):
            continue
        a, b = offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
        old = source[a:b]
        names, attrs = next((sw for (lo, hi), sw in zip(ranges, swaps) if lo <= node.lineno <= hi), ({}, {}))
        for new, what in _candidates(node, parents.get(id(node)), names, attrs):
            if new is None:
                text = "pass"
            else:
                text = _unparse(new)
                text = f"({text})" if isinstance(node, ast.expr) else text
            mutated = source[:a] + text + source[b:]
            try:
                ast.parse(mutated)
            except SyntaxError:
                continue
            if mutated in seen or mutated == source:
                continue
            seen.add(mutated)
            short = old if len(old) <= 60 else old[:57] + "..."
            out.append(Mutant(node.lineno, f"{what}: {short!r} -> {text if len(text) <= 60 else text[:57] + '...'!r}",
                              mutated))
    out.sort(key=lambda m: m.line)
    return out


def sample(ms, limit, fixed: int = 0):
    """At most ``limit`` mutants, spread over the file (a fixed random choice, so runs repeat)."""
    if limit is None or len(ms) <= limit:
        return list(ms)
    pick = sorted(random.Random(fixed).sample(range(len(ms)), limit))
    return [ms[i] for i in pick]
