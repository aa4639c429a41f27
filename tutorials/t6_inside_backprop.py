"""Tutorial 6 -- inside backprop: the tape a loss records, the chain rule at each node, forward vs reverse mode.

A neuron's loss is computed from named parameters; ``tracker.show`` prints the graph the tracker recorded
behind it (every node: its operation, value and the rule's math line), ``tracker.back`` sweeps it backwards,
and ``show`` again prints the gradient that reached each node. We redo that sweep by hand, one rule at a time,
draw the tape, and compute the same gradient in forward mode (one pass per input direction) to see both modes
agree -- and why reverse mode needs one pass where forward mode needs one per parameter.

Run it with ``python -m tutorials 6``, or open it as a notebook: the ``# %%`` cells run top to bottom.
"""
import numpy as np

import dualnum
from dualnum import tracker
from dualnum.rules import RULES
from dualnum.tape import tape

from tutorials import common

# %% [markdown]
# # Inside backprop: the tape, the chain rule, and forward vs reverse mode
#
# When you call `tracker.gradient` or `back(loss)`, two things happen. On the way forward, every operation on a
# tracked value is *recorded*: the tracker keeps a graph (the "tape") of which value came from which. On the way
# back, the tape is swept from the loss to the parameters, and at every node one rule of the rules table
# (`dualnum/rules.py`) turns the gradient arriving at the node's output into gradients for its inputs. That
# sweep is backpropagation. Here we watch it happen on a graph small enough to check by hand.

# %%
FAST = globals().get("FAST", False)   # set by `python -m tutorials --fast`; nothing here is slow, so it changes nothing
np.set_printoptions(precision=6, suppress=True)

# %% [markdown]
# ## A neuron and its loss
# One neuron with two inputs: `z = w1·x1 + w2·x2 + b`, `a = tanh(z)`, and the squared error against a target,
# `L = (a - t)²`. The inputs and target are plain numbers (data); the weights `w1`, `w2` and the bias `b` are
# parameters, made with `tracker.param(value, name=...)` so that the tape can call them by name.

# %%
x1, x2, target = 1.5, -0.5, 0.3
w1_0, w2_0, b_0 = 0.8, -0.4, 0.1


def neuron_loss(w1, w2, b):
    """L = (tanh(w1·x1 + w2·x2 + b) - t)²: ordinary numpy code, run by both modes below."""
    z = w1 * x1 + w2 * x2 + b
    a = np.tanh(z)
    return (a - target) ** 2


w1, w2, b = tracker.param(w1_0, name="w1"), tracker.param(w2_0, name="w2"), tracker.param(b_0, name="b")
L = neuron_loss(w1, w2, b)
print("## the tape before the backward pass")
tracker.show(L)

# %% [markdown]
# Each line is one node, inputs first (a node is always made after its arguments, so this order is also an
# order in which the graph can be computed). `from` names the nodes an operation read (`c` is a constant: data
# such as `x1`), and `math` is the rule's derivative in one line, read from `dualnum.rules.RULES`. No gradient
# yet: nothing has been swept.
#
# ## The backward pass
# `back(L)` seeds `L̄ = dL/dL = 1` at the output and walks the tape from the last line to the first. Showing
# the tape again prints, in the `gradient` column, the gradient `∂L/∂node` that reached every node.

# %%
print("## the tape after back(L): the gradient that reached every node")
lines = tape(L).lines          # the same tape show(L) printed, kept (the sweep frees the graph itself)
tracker.back(L)
tracker.show(L)
print(f"w1.grad = {w1.grad:.10f}   w2.grad = {w2.grad:.10f}   b.grad = {b.grad:.10f}")

# %% [markdown]
# ## The chain rule, one node at a time
# Redo the sweep by hand. At a node `y = op(u, v)`, the rule's `math` line `dy = (∂y/∂u) du + (∂y/∂v) dv`
# says how a change of the inputs changes the output; read backwards, it says that the gradient arriving at
# `y` reaches `u` multiplied by `∂y/∂u` (and `v` by `∂y/∂v`). When a node feeds several others, the gradients
# it receives add up. Below, each step is printed beside the rule it uses, and checked against the tape.

# %%
z = w1_0 * x1 + w2_0 * x2 + b_0
a = np.tanh(z)
r = a - target
grad_L = 1.0
grad_r = grad_L * 2 * r                  # power, y = 2: d(r²) = 2r dr
grad_a = grad_r * 1.0                    # subtract: d(a - t) = da
grad_z = grad_a * (1 - a ** 2)           # tanh
grad_s = grad_b = grad_z                 # add: z = s + b passes the gradient to both
grad_u1 = grad_u2 = grad_s               # add: s = u1 + u2
grad_w1, grad_w2 = grad_u1 * x1, grad_u2 * x2   # multiply: d(w·x) = x dw (x is a constant)

steps = [   # (tape operation, what the step computes, the value by hand), from the output back to the inputs
    ("power", "L̄ = 1;  r̄ = L̄ · 2r", grad_L),
    ("subtract", "r = a - t:  ā = r̄ · 1", grad_r),
    ("tanh", "a = tanh z:  z̄ = ā · (1 - a²)", grad_a),
    ("add", "z = s + b:  s̄ = z̄,  b̄ = z̄", grad_z),
    ("add", "s = u1 + u2:  ū1 = ū2 = s̄", grad_s),
    ("multiply", "u2 = w2·x2:  w̄2 = ū2 · x2", grad_u2),
    ("multiply", "u1 = w1·x1:  w̄1 = ū1 · x1", grad_u1),
]
print("## backprop by hand: the gradient arriving at each node, and the rule that passes it on")
print(f"{'node':>9}  {'by hand':>13}  {'tape':>13}  {'rule (dualnum.rules.RULES[op].math)':<40} the step")
inner = [line for line in lines if not line.leaf]
worst = 0.0
for line, (op, step, mine) in zip(reversed(inner), steps):
    assert line.op == op, (line.op, op)
    worst = max(worst, abs(mine - line.grad))
    print(f"{op:>9}  {mine:>13.10f}  {line.grad:>13.10f}  {RULES[op].math:<40} {step}")
for line, mine in zip([ln for ln in lines if ln.leaf], [grad_w1, grad_w2, grad_b]):
    worst = max(worst, abs(mine - line.grad))
    print(f"{line.op:>9}  {mine:>13.10f}  {line.grad:>13.10f}  {'(a parameter: its gradient ends here)':<40}")
print(f"largest difference between the hand sweep and the tape: {worst:.1e}")
print(f"closed form: ∂L/∂w1 = 2(a - t)(1 - a²)·x1 = {2 * r * (1 - a ** 2) * x1:.10f}")

# %% [markdown]
# ## The tape, drawn
# `tracker.draw(L)` lays the same graph out in layers with matplotlib (no graphviz needed): parameters on the
# left in blue, the loss on the right in yellow, and in every box the value, the gradient and the rule.

# %%
fig = tracker.draw(L)
common.save(fig, "backprop_tape.png")

# %% [markdown]
# ## Forward vs reverse mode on the same graph
# Forward mode pushes a *direction* through the graph alongside the values: seeding `w1` with 1 and the others
# with 0 gives `∂L/∂w1` at the output, and nothing else. So a gradient of three parameters takes three forward
# passes, one per basis direction (`dualnum.jvp` along e1, e2, e3); `dualnum.gradient` carries the three
# directions in one pass of three partials each, which is the same work. Reverse mode ran the graph forward once
# and swept it back once, and got all three.

# %%
print("## forward mode, one pass per direction (dualnum.jvp), vs reverse mode, one backward pass (tracker)")
p0 = np.array([w1_0, w2_0, b_0])
names = ["w1", "w2", "b"]
forward = np.array([dualnum.jvp(lambda p: neuron_loss(p[0], p[1], p[2]), p0, e)[1] for e in np.eye(3)])
chunked = np.array(dualnum.gradient(neuron_loss, w1_0, w2_0, b_0))
reverse = np.array(tracker.gradient(neuron_loss, w1_0, w2_0, b_0))
print(f"{'':>4} {'jvp along eᵢ':>15} {'dualnum.gradient':>17} {'tracker (back)':>15}")
for name, f_i, c_i, r_i in zip(names, forward, chunked, reverse):
    print(f"{name:>4} {f_i:>15.10f} {c_i:>17.10f} {r_i:>15.10f}")
print(f"the modes agree to {np.max(np.abs(forward - reverse)):.1e}; "
      f"back(L) above gave the same: {np.allclose(reverse, [w1.grad, w2.grad, b.grad], rtol=0, atol=1e-15)}")
print(f"forward mode: {len(p0)} passes, one per parameter; reverse mode: 1 forward pass + 1 backward pass")

# %% [markdown]
# ## A tiny MLP: where the count of passes starts to matter
# A network 2 → 3 → 1 with tanh has 13 parameters. Forward mode needs 13 directions (13 `jvp` passes, or one
# pass carrying 13 partials); reverse mode still needs one sweep. A real network has millions of parameters
# and one loss, which is why it is trained with backpropagation. The tape now holds arrays and structural
# operations (`getitem` and `reshape` unpacking the vector of parameters, `matmul`, and `np.mean` recorded as a
# `sum` and a division), each with its own adjoint.

# %%
rng = np.random.default_rng(6)
X = rng.standard_normal((2, 4))              # a batch of 4 samples, one per column
Y = np.tanh(X[:1] - 0.5 * X[1:])             # targets, shape (1, 4)
shapes = [(3, 2), (3, 1), (1, 3), (1, 1)]    # W1, b1, W2, b2
sizes = [int(np.prod(s)) for s in shapes]
offsets = np.cumsum([0] + sizes)


def mlp_loss(p):
    """mean((W2 tanh(W1 X + b1) + b2 - Y)²), all 13 parameters in one vector p."""
    W1, b1, W2, b2 = (p[i:j].reshape(s) for i, j, s in zip(offsets[:-1], offsets[1:], shapes))
    return np.mean((W2 @ np.tanh(W1 @ X + b1) + b2 - Y) ** 2)


theta = rng.standard_normal(offsets[-1]) * 0.7
print(f"## the MLP: {theta.size} parameters")
forward_mlp = np.array([dualnum.jvp(mlp_loss, theta, e)[1] for e in np.eye(theta.size)])
reverse_mlp = tracker.gradient(mlp_loss, theta)[0]
print(f"forward mode, {theta.size} jvp passes:     {forward_mlp}")
print(f"reverse mode, 1 backward pass:  {reverse_mlp}")
print(f"largest difference between the modes: {np.max(np.abs(forward_mlp - reverse_mlp)):.1e}")
P = tracker.param(theta, name="θ")
loss_mlp = mlp_loss(P)
t_mlp = tape(loss_mlp)
tracker.back(loss_mlp)
print(f"its tape: {len(t_mlp)} nodes: " + ", ".join(line.op for line in t_mlp.lines))

# %% [markdown]
# ## The forward-mode counterpart: the chain rule as one loop
# Forward mode records nothing: each operation on a `DualArray` computes its value and its derivative at once.
# For an elementwise chain dualnum goes further and writes the whole chain as one loop, from the same rules
# table: per element, each rule's value and local derivative, then the chain rule pushing the tangent forward.
# Here is that loop for the neuron's loss as `w1` varies over a grid, with `w2` and `b` fixed: the tangent
# pushed forward is `∂L/∂w1` at each grid point, and at `w1 = 0.8` it is the gradient the tape swept back.

# %%
print("## the loop forward mode runs for L(w1) on a grid of w1 (dualnum.backends.fusion.loop_source)")
w_grid = np.array([-0.4, 0.0, 0.4, 0.8, 1.2, 1.6])
W = dualnum.DualArray(w_grid, np.ones((1, w_grid.size)))      # seed: d w1 / d w1 = 1 at every point
L_grid = neuron_loss(W, w2_0, b_0)
if dualnum.backends.fusion.ENABLED:
    print(dualnum.backends.fusion.loop_source(L_grid, one_direction=True))
    print("(x0, z: values; e: each rule's local derivative; g, u: the tangent pushed forward, which ends as "
          "out[1].\n ** 2 runs as the square rule here; the tape above recorded it as power.)")
else:   # DUALNUM_NUMBA=0 or DUALNUM_FUSE=0: each operation runs on its own
    print("(fusion is off here, DUALNUM_NUMBA=0 or DUALNUM_FUSE=0: each operation ran on its own, numpy's way)")
at = int(np.flatnonzero(w_grid == w1_0)[0])
print(f"∂L/∂w1 on the grid: {L_grid.partials[0]}")
print(f"at w1 = {w1_0}: forward {L_grid.partials[0][at]:.10f}, reverse (the tape) {w1.grad:.10f}")
