"""Exercise 07 -- reading the tape (follows tutorial 6, "Inside backprop": the tape shown before and after back).

Every operation on a tracked value is recorded; ``dualnum.tracker.show(y)`` prints the graph behind ``y``, one
line per node, inputs first: index, operation, shape, value, the nodes it came from (``c`` = a constant) and the
rule's math. ``tracker.back(y)`` sweeps it from ``y`` back to the parameters; ``show(y)`` afterwards prints, in
its ``gradient`` column, the gradient ∂y/∂node that reached every node. Try it::

    w, b = tracker.param(0.8, name="w"), tracker.param(0.1, name="b")
    L = (np.tanh(w * 1.5 + b) - 0.3) ** 2
    tracker.show(L); tracker.back(L); tracker.show(L)

Two rules to remember: take the tape *before* the sweep (the sweep frees the graph as it goes, so ``show`` or
``tape`` after a bare ``back`` has nothing left to read), and a graph can be swept only once.

The same table, as Python objects: ``dualnum.tape.tape(y)`` returns the ``Tape`` that ``show`` prints. Its
``lines`` (inputs first, ``y`` last) each have ``.op`` (the operation, or the name of a parameter), ``.leaf``
(True for a parameter), ``.node.data`` (the value), ``.sources`` and, after ``back(y)``, ``.grad`` (the gradient
that reached the node; an array of the node's shape for an array). Take ``t = tape(y)`` before ``back(y)`` and read
``t.lines`` afterwards.

Write:
1. ``neuron_loss()``: the graph above, L = (tanh(w·x + b) - t)² with x = X, t = T, and two parameters made with
   ``tracker.param`` and named "w" (value W0) and "b" (value B0); return ``(L, w, b)``.
Then answer questions about *any* graph ``y`` (a tracked number not swept yet) -- the checker asks them about
graphs of its own, so read the answers off the tape rather than writing down numbers:
2. ``count_nodes(y)``: how many nodes the tape of ``y`` has (the lines ``show(y)`` prints);
3. ``input_names(y)``: the names of its parameters, in the order ``show`` lists them;
4. ``grad_at(y, op)``: sweep ``y`` (``back``) and return the gradient that reached the first node whose operation
   is ``op`` (say "tanh": ∂L/∂a where a = tanh(z)); raise ``ValueError`` if there is no such node;
5. ``most_sensitive(y)``: sweep ``y`` and return the name of the parameter whose gradient is largest in size
   (the largest |entry|, for an array): the one a small change of which moves ``y`` most.

Grade it with ``python -m tutorials.exercises check 7``.
"""
import numpy as np

from dualnum import tracker
from dualnum.tape import tape

X, T = 1.5, 0.3      # the input and the target: constants
W0, B0 = 0.8, 0.1    # the parameters' starting values


def neuron_loss():
    """(L, w, b) with L = (tanh(w·X + b) - T)² and w, b tracked parameters named "w" and "b"."""
    # BEGIN SOLUTION: two named parameters, then the loss computed from them
    w = tracker.param(W0, name="w")
    b = tracker.param(B0, name="b")
    L = (np.tanh(w * X + b) - T) ** 2
    # END SOLUTION
    return L, w, b


def count_nodes(y):
    """The number of nodes in the tape behind y."""
    # BEGIN SOLUTION: one line of the tape per node
    return len(tape(y).lines)
    # END SOLUTION


def input_names(y):
    """The names of the parameters y depends on, inputs first as show prints them."""
    # BEGIN SOLUTION: the operation column of the leaf lines
    return [line.op for line in tape(y).lines if line.leaf]
    # END SOLUTION


def grad_at(y, op):
    """Sweep y; the gradient that reached the first node whose operation is op."""
    # BEGIN SOLUTION: take the tape, sweep, then find the line
    t = tape(y)
    tracker.back(y)
    for line in t.lines:
        if line.op == op:
            return line.grad
    raise ValueError(f"no node with operation {op!r} in this tape")
    # END SOLUTION


def most_sensitive(y):
    """Sweep y; the name of the parameter with the largest |gradient| entry."""
    # BEGIN SOLUTION: take the tape, sweep, then compare the leaves' largest |gradient|
    t = tape(y)
    tracker.back(y)
    leaves = [line for line in t.lines if line.leaf]
    return max(leaves, key=lambda line: np.max(np.abs(line.grad))).op
    # END SOLUTION
