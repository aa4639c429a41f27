"""Tutorial 2 -- A gentle introduction (source 001): why gradients, the loss landscape, dual numbers, the tracker.

Run it with ``python -m tutorials 2``, or open it as a notebook (the ``# %%`` cells, run top to bottom). It
prints what the source shows -- ``14.0 (tracked)``, ``6.0 (tracked)``, ``(4.0 (tracked), 1.0 (tracked), 2.0
(tracked))``, ``2.0 (tracked)``, ``grads[W] = 4.0``, ``m(5) = 26`` -- and draws figures/polynomial_landscape.png:
the loss of a polynomial fit as a landscape over two of its coefficients, with the path gradient descent takes
down it. Where the output differs from the source's (``grads[W]`` is a plain 4.0 here), the text says why.

One correction to the source, made in the text below: Flux's *tracked* numbers are not dual numbers. Dual numbers
carry a derivative forward through the computation (forward mode, ``dualnum.Dual``); tracked numbers record the
computation and then run it backwards (reverse mode, ``dualnum.tracker``). Both give exact derivatives; they
differ in what they cost, which tutorial 5 measures.
"""
import functools

import numpy as np

import dualnum
import nn
from dualnum import Dual
from dualnum import tracker
from dualnum.tracker import param, params, update

from tutorials import common

# %% [markdown]
# # A gentle introduction: gradients, the loss landscape, dual numbers and the tracker
#
# The source is a beginner's walk through Flux: why machine learning needs gradients, what a loss landscape is,
# how automatic differentiation gets exact gradients, and then the Flux manual's first examples. This notebook
# follows it, prints what it shows, and draws the landscape it describes.

# %%
# `python -m tutorials --fast` sets FAST before this cell runs (a coarser landscape grid); in a notebook it is
# False.
FAST = globals().get("FAST", False)
rng = np.random.default_rng(1)  # the "measurements" and the dummy data, the same on every run
nn.seed(1)                      # the layers' initial weights


def step(title):
    """Print a cell's heading, so the output reads like the tutorial."""
    print(f"\n## {title}")


# %% [markdown]
# ## Why gradients? The slope of a function
# The derivative `f'(x)` is the slope of `f` at `x`. Numerically we could estimate it from two nearby values,
# `(f(x + h) - f(x)) / h`, but the answer depends on `h` and is never exact: too big an `h` measures the
# curve's bend, too small an `h` drowns in rounding. Automatic differentiation gives the exact slope from one
# evaluation on special numbers.

# %%
step("Why gradients: the slope, estimated and exact")
f = lambda x: 3 * x**2 + 2 * x + 1   # noqa: E731   f'(x) = 6x + 2, so f'(2) = 14
for h in (1e-1, 1e-5, 1e-12):
    estimate = (f(2 + h) - f(2)) / h
    print(f"  finite difference, h = {h:.0e}: {estimate:.12f}")
print(f"  automatic differentiation:     {dualnum.derivative(f, 2.0):.12f}")

# %% [markdown]
# ## The polynomial and its data
# We observe some quantity `f(t)` at 25 times and want a law `P(t) = a t² + b t + c` that explains it. The
# coefficients `a`, `b`, `c` are the "weights"; the loss says how wrong a choice of them is.
#
# The source sums `|P(t) - f(t)|`; we average the *squared* error instead: it is smooth at its minimum, so its
# gradient shrinks as we approach the bottom instead of jumping from -1 to +1.

# %%
step("Fitting P(t) = a t² + b t + c to measurements")
t = np.linspace(0.0, 2.0, 25)
truth = (1.5, -2.0, 1.0)
f_t = truth[0] * t**2 + truth[1] * t + truth[2] + 0.15 * rng.standard_normal(t.size)


def P(t, a, b, c):
    return a * t**2 + b * t + c


def loss(a, b, c):
    return np.mean((P(t, a, b, c) - f_t) ** 2, axis=-1)   # axis=-1: over the data, see the landscape below


best = np.linalg.lstsq(np.stack([t**2, t, np.ones_like(t)], axis=1), f_t, rcond=None)[0]
print(f"  loss at (a, b, c) = (0, 0, 0): {loss(0.0, 0.0, 0.0):.3f}")
print(f"  loss at the best fit ({best[0]:.3f}, {best[1]:.3f}, {best[2]:.3f}): {loss(*best):.4f}")

# %% [markdown]
# ## Gradient descent: walk downhill
# Fix `c` at its best value so that the loss is a landscape over two coefficients, `loss(a, b)`, which we can
# draw. From a bad start, step against the gradient: `(a, b) -= η ∇loss(a, b)`.

# %%
step("Gradient descent over (a, b)")
c = best[2]
loss_ab = lambda a, b: loss(a, b, c)   # noqa: E731
a, b, eta = 3.0, 2.0, 0.15
path, losses = [(a, b)], [loss_ab(a, b)]
for _ in range(300):
    ga, gb = dualnum.gradient(loss_ab, a, b)   # forward mode: exact ∂loss/∂a and ∂loss/∂b
    a, b = a - eta * ga, b - eta * gb
    path.append((a, b))
    losses.append(loss_ab(a, b))
print(f"  start (a, b) = ({path[0][0]:.2f}, {path[0][1]:.2f}), loss {losses[0]:.3f}")
print(f"  after {len(path) - 1} steps (a, b) = ({a:.3f}, {b:.3f}), loss {losses[-1]:.4f}"
      f"  (best: {best[0]:.3f}, {best[1]:.3f})")

# %% [markdown]
# ## The loss landscape
# `nn.landscape` evaluates the loss at every grid point with ONE call: `a` and `b` arrive as arrays of shape
# (rows, columns, 1) that broadcast against the 25 data points, and the mean runs over the data axis only. (A
# loss written for single numbers works too; it is then evaluated point by point.)
#
# The valley is long and narrow (`t²` and `t` rise together on [0, 2], so `a` and `b` can trade one for the
# other): the path first zig-zags down across the valley, where the slope is steep, then creeps along its
# gentle floor to the minimum. The arrows show `-∇loss`: mostly across the valley, hardly ever along it.

# %%
step("The loss as a landscape over (a, b)")
from nn import landscape
n = 41 if FAST else 101
grid = landscape.loss_grid(loss_ab, np.linspace(-1.5, 3.5, n), np.linspace(-4.5, 2.5, n), labels=("a", "b"))
amin, bmin, lmin = grid.argmin()
print(f"  lowest grid point: a = {amin:.2f}, b = {bmin:.2f}, loss {lmin:.4f}")
fig = landscape.surface_and_contour(grid, path=path, path_loss=losses, gradient=True, log=True,
                                    zlabel="mean squared error",
                                    title="P(t) = a t² + b t + c: loss over (a, b) with the gradient-descent "
                                          "path (c fixed at its best value)")
common.save(fig, "polynomial_landscape.png")

# %% [markdown]
# ## Dual numbers, explained
# A dual number `a + a'ε` carries a value and a derivative, with the rule `ε² = 0`. Then
# `(a + a'ε)(b + b'ε) = ab + (a b' + a' b)ε` -- the product rule, done by arithmetic. Start from `x = 2 + 1ε`
# ("x, and dx/dx = 1"); whatever `f` does to `x`, the ε-part of the result is `f'(2)`.

# %%
step("Dual numbers")
x = Dual(2.0, 1.0)
print(f"  x = {x!r}   (value 2, derivative 1)")
print(f"  x * x = {x * x!r}   (4 and d(x²)/dx = 4)")
y = f(x)
print(f"  f(x) = {y!r}   -> f(2) = {y.value}, f'(2) = {y.partials[0]}")

# %% [markdown]
# ## The tracker: `14.0 (tracked)` and `6.0 (tracked)`
# The source's `Tracker.gradient(f, x; nest = true)`. With `nest=True` the gradient comes back as a tracked
# value (the backward pass was recorded), which is why it prints `(tracked)`; differentiating it again gives
# `d²f/dx²`. (The second derivative itself does not need `nest=True`: inside an outer `gradient` the inner one
# is recorded anyway -- tutorial 1 does it without.)
#
# The source says tracked numbers are what Flux calls dual numbers. They are not: tracked values remember the
# operations done on them and are differentiated by running that record backwards (reverse mode), while dual
# numbers carry the derivative forwards. `dualnum.derivative` does the same job with dual numbers.

# %%
step("Tracker.gradient(f, x; nest = true)")
df = lambda x: tracker.gradient(f, x, nest=True)[0]    # noqa: E731   df/dx = 6x + 2
d2f = lambda x: tracker.gradient(df, x, nest=True)[0]  # noqa: E731   d²f/dx² = 6
print(f"df(2) = {df(2.0)!r}")
print(f"d2f(2) = {d2f(2.0)!r}")
print(f"  (forward mode agrees: {dualnum.derivative(f, 2.0)}, {dualnum.derivative(f, 2.0, order=2)})")

# %% [markdown]
# ## Several arguments
# `f(W, b, x) = W * x + b` has `∂f/∂W = x = 4`, `∂f/∂b = 1` and `∂f/∂x = W = 2`. The source's Tracker returned
# tracked gradients from this call; here `gradient` returns plain numbers unless asked with `nest=True`, which
# gives the source's line.

# %%
step("gradient(f, 2, 3, 4) for f(W, b, x) = W * x + b")
g = lambda W, b, x: W * x + b   # noqa: E731
print(f"gradient(f, 2, 3, 4, nest=True) = {tracker.gradient(g, 2, 3, 4, nest=True)!r}")
print(f"gradient(f, 2, 3, 4)            = {tracker.gradient(g, 2, 3, 4)!r}")

# %% [markdown]
# ## `param`: numbers that record what is done to them
# `param(2)` is a tracked number: it behaves like 2.0 and keeps a record of everything done with it.
# `params(W, b)` collects such parameters, and `gradient` of a zero-argument function returns their gradients,
# looked up by the parameter itself: `grads[W]`.
#
# The source prints `grads[W]` as `4.0 (tracked)`, because its Tracker returned tracked gradients here as well.
# This implicit form returns plain numbers (it has no `nest=True`; for a gradient you want to differentiate
# again, use the explicit form above), so it prints `grads[W] = 4.0`.

# %%
step("param and implicit gradients")
W = param(2)
b = param(3)
print(f"W = {W!r}")
print(f"b = {b!r}")
f_Wb = lambda x: W * x + b   # noqa: E731
grads = tracker.gradient(lambda: f_Wb(4), params(W, b))
print(f"grads[W] = {grads[W]!r}")
print(f"grads[b] = {grads[b]!r}")

# %% [markdown]
# ## `update`: one step of gradient descent on a linear regression
# `predict(x) = W x + b`: two outputs from five inputs. `update(W, Δ)` adds `Δ` to `W` in place, so a step
# downhill is `update(W, -0.1 Δ)` with `Δ` the gradient. The data are random, in the source too (it shows
# `~ 3` before and `~ 2.5` after): the loss falls, by an amount that depends on the draw.

# %%
step("A linear regression and update(W, -0.1Δ)")
W = param(rng.random((2, 5)))
b = param(rng.random(2))
predict = lambda x: W @ x + b                            # noqa: E731
loss_lr = lambda x, y: np.sum((y - predict(x)) ** 2)     # noqa: E731
x, y = rng.random(5), rng.random(2)
before = float(tracker.value(loss_lr(x, y)))
gs = tracker.gradient(lambda: loss_lr(x, y), params(W, b))
update(W, -0.1 * gs[W])
after = float(tracker.value(loss_lr(x, y)))
print(f"loss(x, y) = {before:.4f} before, {after:.4f} after one step")

# %% [markdown]
# ## Layers
# A layer is `σ(W x + b)`. Two of them by hand, then with a function that makes layers (`linear`), then as a
# class (the source's `struct Affine`), then with `nn.Dense`, which holds `W`, `b` and `σ`.

# %%
step("Layers: by hand, a function, a class, then Dense")
W1, b1 = param(rng.random((3, 5))), param(rng.random(3))
W2, b2 = param(rng.random((2, 3))), param(rng.random(2))
model = lambda x: W2 @ nn.σ(W1 @ x + b1) + b2   # noqa: E731
print("  by hand: model(rand(5)) has shape", np.shape(tracker.value(model(rng.random(5)))))
layer = nn.Dense(10, 5, nn.σ)
print(f"  {layer}: W has shape {np.shape(tracker.value(layer.W))}, b has shape {np.shape(tracker.value(layer.b))}")

# %%
def linear(n_in, n_out):
    W, b = param(rng.standard_normal((n_out, n_in))), param(rng.standard_normal(n_out))
    layer = lambda x: W @ x + b   # noqa: E731
    layer.W, layer.b = W, b       # so that linear1.W works, as in the source
    return layer


linear1, linear2 = linear(5, 3), linear(3, 2)
model = lambda x: linear2(nn.σ(linear1(x)))   # noqa: E731
print("  linear: model(rand(5)) has shape", np.shape(tracker.value(model(rng.random(5)))))


class Affine:
    def __init__(self, n_in, n_out):
        self.W, self.b = param(rng.standard_normal((n_out, n_in))), param(rng.standard_normal(n_out))

    def __call__(self, x):          # the source's (m::Affine)(x) = m.W * x .+ m.b
        return self.W @ x + self.b


a = Affine(10, 5)
print("  Affine: a(rand(10)) has shape", np.shape(tracker.value(a(rng.random(10)))))

# %% [markdown]
# ## Stacking it up
# A list of layers and a fold (Julia's `foldl`, Python's `functools.reduce`), then `Chain`, which does the fold
# for you. `softmax` turns the last layer's two numbers into probabilities: positive, summing to 1.

# %%
step("Chain(Dense(10, 5, σ), Dense(5, 2), softmax)")
layers = [nn.Dense(10, 5, nn.σ), nn.Dense(5, 2), nn.softmax]
folded = lambda x: functools.reduce(lambda x, m: m(x), layers, x)   # noqa: E731
print("  foldl: model(rand(10)) has shape", np.shape(tracker.value(folded(rng.random(10)))))
model2 = nn.Chain(nn.Dense(10, 5, nn.σ), nn.Dense(5, 2), nn.softmax)
p = tracker.value(model2(rng.random(10)))
print(f"  model2(rand(10)) = {np.round(p, 4).tolist()}, sum = {p.sum():.1f}")
batch = tracker.value(model2(rng.random((10, 3))))       # three samples, one per column
print(f"  on a batch of 3 columns: shape {batch.shape}, column sums {np.round(batch.sum(axis=0), 6).tolist()}")

# %% [markdown]
# ## Models are functions
# `Dense(5, 2) ∘ Dense(10, 5, σ)` is function composition (`nn.compose`, the last layer runs first), and
# `Chain` takes any function, not only layers.

# %%
step("Composition, and Chain(x -> x^2, x -> x + 1)")
m = nn.compose(nn.Dense(5, 2), nn.Dense(10, 5, nn.σ))
print("  (Dense(5, 2) ∘ Dense(10, 5, σ))(rand(10)) has shape", np.shape(tracker.value(m(rng.random(10)))))
m = nn.Chain(lambda x: x**2, lambda x: x + 1)
print("m(5) =", m(5))
