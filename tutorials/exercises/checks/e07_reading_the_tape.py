"""Checks for exercise 07: build a named graph, then answer questions about graphs the checker builds.

Every graph is rebuilt for each question (a graph can be swept once). The expected answers are worked out here
by hand: node counts from the operations written (parameters + one node per operation), parameter names in the
order they were made, and gradients from closed forms of the chain rule -- never from the student's code.
"""
import numpy as np

from dualnum import tracker
from tutorials.exercises import grader

NAME = "reading the tape"
TASK = "build a graph with named parameters, then read node counts, names and gradients off tracker.show's tape"
FOLLOWS = "tutorial 6 (inside backprop)"
TIME_LIMIT = 60


# ---- the checker's graphs, each with its answers by hand ----------------------------------------------------------
def neuron(w0, b0, x, t):
    """L = (tanh(w·x + b) - t)²: nodes w, b, multiply, add, tanh, subtract, power (7)."""
    w, b = tracker.param(w0, name="w"), tracker.param(b0, name="b")
    return (np.tanh(w * x + b) - t) ** 2


def neuron_grads(w0, b0, x, t):
    """Closed forms: ∂L/∂a = 2(a - t) at the tanh node, ∂L/∂z = 2(a - t)(1 - a²) at add, ∂L/∂w = ∂L/∂z · x."""
    a = np.tanh(w0 * x + b0)
    da = 2 * (a - t)
    dz = da * (1 - a ** 2)
    return dict(tanh=da, subtract=da, add=dz, multiply=dz, w=dz * x, b=dz, power=1.0)


U0, V0, C = np.array([0.1, -0.2]), np.array([1.5, 0.05]), np.array([2.0, 0.5])


def exp_graph():
    """y = Σ exp(u·c) - v²: nodes u, v, multiply, exp, power, subtract, sum (7).
    ∂y/∂u = c·exp(u·c) = [2.44, 0.45]; ∂y/∂v = -2v = [-3, -0.1]: v has the largest |entry| (3), but u has the
    largest entry (2.44 against -0.1), the largest |largest entry| (2.44 against 0.1) and the largest smallest
    |entry| (0.45 against 0.1): only max |entry| picks v."""
    u, v = tracker.param(U0, name="u"), tracker.param(V0, name="v")
    return np.sum(np.exp(u * C) - v ** 2)


P0 = np.array([[0.3, -0.5, 0.8], [0.1, 0.4, -0.9]])
Q0 = np.array([0.7, -0.2, 0.5])


def shared_graph():
    """y = Σ h·h + h with h = sin(P q): nodes P, q, matmul, sin, multiply, add, sum (7).
    h feeds three uses (twice in h·h, once in + h): ∂y/∂h = 2h + 1, the gradients adding up."""
    P, q = tracker.param(P0, name="P"), tracker.param(Q0, name="q")
    h = np.sin(P @ q)
    return np.sum(h * h + h)


def shared_grads():
    m = P0 @ Q0
    h = np.sin(m)
    dh = 2 * h + 1
    dm = dh * np.cos(m)
    return dict(sin=dh, matmul=dm, P=np.outer(dm, Q0), q=P0.T @ dm)


A0, B0_, C0 = -3.0, 0.2, 0.5


def three_graph():
    """y = 3·(a·b) + b·c + exp(c), parameters made in the order c, a, b: nodes c, a, b, multiply (a·b), multiply
    (3·…), multiply (b·c), add, exp, add (9); the three multiplies receive 3, 1 and 1.
    ∂y/∂a = 3b = 0.6, ∂y/∂b = 3a + c = -8.5, ∂y/∂c = b + eᶜ = 1.85: b is the most sensitive (by size)."""
    c = tracker.param(C0, name="c")
    a = tracker.param(A0, name="a")
    b = tracker.param(B0_, name="b")
    return 3 * (a * b) + b * c + np.exp(c)


def checks(student):
    # ---- 1. the neuron, built by the student ----------------------------------------------------------------
    X, T, W0, B0 = 1.5, 0.3, 0.8, 0.1
    a = np.tanh(W0 * X + B0)
    g = neuron_grads(W0, B0, X, T)

    def built():
        out = student.neuron_loss()
        if not isinstance(out, tuple) or len(out) != 3:
            raise TypeError(f"neuron_loss() should return (L, w, b), got {type(out).__name__}")
        for name, v in zip("Lwb", out):
            if not tracker.istracked(v):
                raise TypeError(f"neuron_loss(): {name} is {type(v).__name__}, not a tracked value "
                                "(make the parameters with tracker.param and compute L from them)")
        return out

    yield grader.close("neuron_loss(): L = (tanh(0.8·1.5 + 0.1) - 0.3)²", lambda: float(tracker.value(built()[0])),
                       (a - T) ** 2, hint="L = (np.tanh(w * X + b) - T) ** 2, with w = W0 and b = B0")
    yield grader.close("neuron_loss(): the parameters' values (w, b)",
                       lambda: tuple(float(tracker.value(p)) for p in built()[1:]), (W0, B0),
                       hint="w = tracker.param(W0, name=\"w\"), b = tracker.param(B0, name=\"b\")")
    from dualnum.tape import tape
    yield grader.equal("neuron_loss(): the tape's parameters are named w and b",
                       lambda: [line.op for line in tape(built()[0]).lines if line.leaf], ["w", "b"],
                       hint="name them: tracker.param(W0, name=\"w\"); and make w before b")
    yield grader.equal("neuron_loss(): the tape has 7 nodes (w, b, multiply, add, tanh, subtract, power)",
                       lambda: len(tape(built()[0]).lines), 7,
                       hint="compute L from the parameters in one expression, five operations in all")

    def swept():
        L, w, b = built()
        tracker.back(L)
        return float(w.grad), float(b.grad)
    yield grader.close("neuron_loss(): after back(L), (w.grad, b.grad) = 2(a - t)(1 - a²)·(x, 1)", swept,
                       (g["w"], g["b"]), hint="L must be computed from the tracked w and b (not from W0, B0)")

    # ---- 2. count_nodes -----------------------------------------------------------------------------------------
    yield grader.equal("count_nodes(neuron loss) = 2 parameters + 5 operations",
                       lambda: student.count_nodes(neuron(-0.6, 0.4, 0.5, 0.9)), 7,
                       hint="one node per line of show(y): parameters and operations; len(tape(y).lines)")
    yield grader.equal("count_nodes(Σ exp(u·c) - v²) = 2 + 5", lambda: student.count_nodes(exp_graph()), 7,
                       hint="count every line of the tape, parameters included: len(tape(y).lines)")
    yield grader.equal("count_nodes(3·(a·b) + b·c + exp(c)) = 3 + 6", lambda: student.count_nodes(three_graph()), 9,
                       hint="count every line of the tape, parameters included: len(tape(y).lines)")
    yield grader.true("count_nodes returns an int", lambda: isinstance(student.count_nodes(exp_graph()), int),
                      hint="return len(...), a plain int")

    # ---- 3. input_names -----------------------------------------------------------------------------------------
    yield grader.equal("input_names(neuron loss)", lambda: list(student.input_names(neuron(0.2, -0.1, 1.0, 0.0))),
                       ["w", "b"], hint="the lines whose .leaf is True, their .op is the parameter's name")
    yield grader.equal("input_names(Σ h·h + h, h = sin(P q))", lambda: list(student.input_names(shared_graph())),
                       ["P", "q"], hint="the leaf lines only (not matmul, sin, ...), in the tape's order")
    yield grader.equal("input_names(3·(a·b) + b·c + exp(c)), parameters made c, a, b",
                       lambda: list(student.input_names(three_graph())), ["c", "a", "b"],
                       hint="keep the tape's order (the order the parameters were made); do not sort")

    # ---- 4. grad_at -----------------------------------------------------------------------------------------------
    w0, b0, x, t = -0.6, 0.4, 0.5, 0.9
    gn = neuron_grads(w0, b0, x, t)
    for op in ("tanh", "add", "w", "power"):
        yield grader.close(f"grad_at(neuron loss, {op!r})", lambda op=op: student.grad_at(neuron(w0, b0, x, t), op),
                           gn[op], hint="take t = tape(y) BEFORE back(y), then read the .grad of the first line "
                                        "whose .op matches (∂L/∂a = 2(a - t) at tanh, times 1 - a² at add)")
    gs = shared_grads()
    yield grader.close("grad_at(Σ h·h + h, 'sin'): h feeds three uses, their gradients add up to 2h + 1",
                       lambda: student.grad_at(shared_graph(), "sin"), gs["sin"],
                       hint="read the tape's gradient after the sweep; it is an array of the node's shape")
    yield grader.close("grad_at(Σ h·h + h, 'matmul') = (2h + 1)·cos(P q)",
                       lambda: student.grad_at(shared_graph(), "matmul"), gs["matmul"],
                       hint="the first line whose .op is 'matmul'")
    yield grader.close("grad_at(Σ h·h + h, 'P') = the outer product of (2h + 1)·cos(P q) and q",
                       lambda: student.grad_at(shared_graph(), "P"), gs["P"],
                       hint="a parameter's line is found by its name, like an operation's")
    yield grader.close("grad_at(Σ exp(u·c) - v², 'exp') = 1 (a sum passes 1 to every term)",
                       lambda: student.grad_at(exp_graph(), "exp"), np.ones(2),
                       hint="the gradient reaching exp's output, not exp's local derivative")
    yield grader.close("grad_at(3·(a·b) + b·c + exp(c), 'multiply'): the first multiply, a·b, gets 3",
                       lambda: student.grad_at(three_graph(), "multiply"), 3.0,
                       hint="return at the FIRST line whose operation matches (the tape lists a·b before 3·(a·b) "
                            "and b·c, which get 1)")
    yield grader.raises("grad_at(y, 'cosh') with no cosh node raises ValueError",
                        lambda: student.grad_at(three_graph(), "cosh"), ValueError,
                        hint="after the loop finds nothing, raise ValueError(...) naming the operation")

    # ---- 5. most_sensitive ------------------------------------------------------------------------------------
    yield grader.equal("most_sensitive(neuron loss) with x = 1.5: w (∂L/∂w = ∂L/∂b · 1.5)",
                       lambda: student.most_sensitive(neuron(0.8, 0.1, 1.5, 0.3)), "w",
                       hint="sweep y, then compare the parameters' gradients by size")
    yield grader.equal("most_sensitive(neuron loss) with x = 0.5: b (∂L/∂w = ∂L/∂b · 0.5)",
                       lambda: student.most_sensitive(neuron(0.8, 0.1, 0.5, 0.3)), "b",
                       hint="sweep y, then compare the parameters' gradients by size")
    yield grader.equal("most_sensitive(3·(a·b) + b·c + exp(c)): b, whose gradient -8.5 is the largest in size",
                       lambda: student.most_sensitive(three_graph()), "b",
                       hint="compare |gradient|: a large negative gradient moves y as much as a positive one")
    yield grader.equal("most_sensitive(Σ exp(u·c) - v²): v, whose entry -3 is the largest in size",
                       lambda: student.most_sensitive(exp_graph()), "v",
                       hint="for arrays compare the largest |entry| (np.max(np.abs(grad))), not the largest entry")
    ps = shared_grads()
    expect = "P" if np.max(np.abs(ps["P"])) > np.max(np.abs(ps["q"])) else "q"
    yield grader.equal(f"most_sensitive(Σ h·h + h, h = sin(P q)): {expect}",
                       lambda: student.most_sensitive(shared_graph()), expect,
                       hint="return the parameter's name (its line's .op), compared by np.max(np.abs(grad))")
