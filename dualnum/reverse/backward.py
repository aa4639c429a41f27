"""The backward sweep: ȳ = seed, then for every recorded node z, newest first, x̄ᵢ += z̄ · ∂z/∂xᵢ.

Each node's adjoint function comes from where it was recorded (dualnum/reverse/tracked.py: a rule's partials,
a structural adjoint, a primitive's vjp). The sweep is a loop, not a recursion, so a chain of 100 000
operations is fine; it visits each node once, so a value used twice gets the sum of both contributions; and it
frees the graph as it goes, so a second sweep through it raises, as in Flux's Tracker and PyTorch.

To show the gradient that reached each node (dualnum/tape.py: ``tracker.show``/``draw``), a node on a tape has
its operation wrapped in a :class:`~dualnum.reverse.tracked.Watch`, which this loop calls as any adjoint; inside
``tracker.recording()`` the tape is taken here, just before the sweep frees the graph. Nothing else is
watched, so the ordinary sweep does no extra work per node.
"""
from __future__ import annotations

import operator

from ..rules import Rule
from .tracked import CONSUMED, Tracked, _PREPARED, _rule_vjp


def _topo(root, tag):
    """The nodes of level ``tag`` that ``root`` depends on, every node before its arguments, and the leaves.

    A node is always created after its arguments, so newest-first creation order is a topological order:
    collect what is reachable (breadth-first over the growing list itself), then sort by creation number.
    Interior nodes are made by the computation being differentiated, so a mark on them is this sweep's own;
    leaves (parameters) may be shared with sweeps in other threads, so they are collected in a set of this
    sweep and never marked.
    """
    if root._op is None:
        return [], [root]
    mark = object()  # this sweep's stamp: a node carrying it has been collected
    root._mark = mark
    nodes = [root]
    leaves, seen = [], set()
    for node in nodes:
        if node._op is CONSUMED:
            raise RuntimeError(
                "this value's graph was already used by a backward pass and has been freed (as in Flux's "
                "Tracker and PyTorch). Recompute the forward pass inside the function you differentiate, "
                "once per gradient.")
        for p in node._parents:
            if type(p) is Tracked and p._tag == tag:
                if p._op is None:
                    if id(p) not in seen:
                        seen.add(id(p))
                        leaves.append(p)
                elif p._mark is not mark:
                    p._mark = mark
                    nodes.append(p)
    nodes.sort(key=_SEQ, reverse=True)
    return nodes, leaves


_SEQ = operator.attrgetter("_seq")

#: ``recorder(y, tag)`` while ``tracker.recording()`` is on: keeps a tape of y's graph before the sweep frees it
RECORDER = None


def backprop(y, seed, tag):
    """Sweep from ``y`` (adjoint ``seed``) at level ``tag``: (the leaves reached, {id(leaf): its adjoint}).

    Interior nodes hold their adjoint in ``_g`` until it is passed on; a leaf's adjoint goes into a dict of
    this call, so two threads differentiating through the same parameter never add into each other's.
    """
    if RECORDER is not None:  # (once per sweep, not per node)
        RECORDER(y, tag)
    order, leaves = _topo(y, tag)
    lg = {}  # id(leaf) -> adjoint: this call's, not the shared parameter's
    if not order:
        lg[id(y)] = seed
        return leaves, lg
    try:
        y._g = seed
        for node in order:
            g = node._g
            op = node._op
            if g is not None:
                node._g = None
                parents = node._parents
                if type(op) is Rule:
                    info = _PREPARED.get(id(op))
                    gs = info[1](node, g) if info is not None else _rule_vjp(op, node, g)
                else:
                    gs = op(g)
                n = len(parents)
                if n == 1:  # most nodes have one or two arguments: no zip
                    gp = gs[0]
                    if gp is not None:
                        p = parents[0]
                        if p._op is None:
                            k = id(p)
                            pg = lg.get(k)
                            lg[k] = gp if pg is None else pg + gp
                        else:
                            pg = p._g
                            p._g = gp if pg is None else pg + gp
                elif n == 2:
                    ga, gb = gs
                    if ga is not None:
                        p = parents[0]
                        if p._op is None:
                            k = id(p)
                            pg = lg.get(k)
                            lg[k] = ga if pg is None else pg + ga
                        else:
                            pg = p._g
                            p._g = ga if pg is None else pg + ga
                    if gb is not None:
                        p = parents[1]
                        if p._op is None:
                            k = id(p)
                            pg = lg.get(k)
                            lg[k] = gb if pg is None else pg + gb
                        else:
                            pg = p._g
                            p._g = gb if pg is None else pg + gb
                else:
                    for p, gp in zip(parents, gs):
                        if gp is not None:
                            if p._op is None:
                                k = id(p)
                                pg = lg.get(k)
                                lg[k] = gp if pg is None else pg + gp
                            else:
                                pg = p._g
                                p._g = gp if pg is None else pg + gp
            node._op = CONSUMED  # free the graph as we go: each node is used once
            node._parents = ()
    except BaseException:
        for node in order:  # leave no half-accumulated adjoint behind
            node._g = None
        raise
    return leaves, lg
