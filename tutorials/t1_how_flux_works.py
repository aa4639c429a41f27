"""Tutorial 1 -- How Flux works: gradients and layers (source 002, the Flux manual), in Python.

Run it with ``python -m tutorials 1``, or open it as a notebook (jupytext, VS Code and PyCharm read the ``# %%``
cells) and run the cells top to bottom. Every cell prints what it teaches; the numbers are the ones the
Julia manual shows: ``df(2) = 14.0``, ``d2f(2) = 6.0``, ``([0.0, 2.0], [-0.0, -2.0])``, ``26``.

The story: a gradient is something you *ask for* of ordinary code; a model is ordinary code holding arrays
(its parameters); a layer is a model you can stack; a Chain is the stacking. Nothing here is magic.
"""
import functools
import warnings

import numpy as np

import nn
from dualnum import tracker
from dualnum.tracker import param, params, update

# %% [markdown]
# # How Flux works: gradients and layers
#
# A gradient is something you *ask for* of ordinary code; a model is ordinary code holding arrays (its
# parameters); a layer is a model you can stack; a `Chain` is the stacking. Nothing here is magic.
#
# This is the Flux manual's page "How Flux Works" (the source), line by line in Python. Every cell prints what
# the manual shows: `df(2) = 14.0`, `d2f(2) = 6.0`, `([0.0, 2.0], [-0.0, -2.0])`, `m(5) = 26`.

# %%
# `python -m tutorials --fast` sets FAST before this cell runs; in a notebook (or as a script) it is False.
# FAST changes nothing here: every cell is already instantaneous.
FAST = globals().get("FAST", False)
rng = np.random.default_rng(2)  # the dummy data below, the same on every run
nn.seed(2)                      # the layers' initial weights, the same on every run


def step(title):
    """Print a cell's heading, so the output reads like the tutorial."""
    print(f"\n## {title}")


def as_lists(grads):
    """A tuple of gradient arrays printed the way Julia prints them: ([0.0, 2.0], [-0.0, -2.0])."""
    return tuple(np.asarray(g, dtype=float).tolist() for g in grads)


# %% [markdown]
# ## Taking gradients
# `tracker.gradient(f, x)` runs `f` on `x` while recording what happens, then replays the record backwards
# (reverse mode: the Tracker). It returns one gradient per argument -- a tuple, even for one argument, as Flux
# does, hence the `[0]`.

# %%
step("Taking gradients")
f = lambda x: 3 * x**2 + 2 * x + 1          # noqa: E731
df = lambda x: tracker.gradient(f, x)[0]    # noqa: E731   df/dx = 6x + 2
print(f"df(2) = {df(2.0)}")

# %% [markdown]
# ## A gradient of a gradient
# `df` is ordinary code too, so we can ask for *its* gradient, exactly as the manual does:
# `d2f(x) = gradient(df, x)[1]`. Nothing extra is needed. Inside the outer `gradient`, `x` is already a
# tracked number, so every operation of the inner backward pass (which is ordinary arithmetic on `x`) is
# recorded, and the outer pass differentiates through it: reverse over reverse.
#
# (`gradient(f, x, nest=True)` is something else: it makes the *result* a tracked value even when no outer
# gradient is running, so that it prints as `14.0 (tracked)` the way Flux's old Tracker did; tutorial 2 shows
# it. A second derivative does not need it.)

# %%
step("Second derivative: differentiate the derivative")
d2f = lambda x: tracker.gradient(df, x)[0]   # noqa: E731   d²f/dx² = 6
print(f"d2f(2) = {d2f(2.0)}")

# %% [markdown]
# ## Many arguments at once
# `f(x, y) = Σ (x - y)²`: `∂f/∂x = 2(x - y)` and `∂f/∂y = -2(x - y)`. The first entry of `∂f/∂y` is
# `-2·0 = -0.0`: IEEE floats have a signed zero, and reverse mode computes it as the product `-2 × 0`, exactly
# as Julia did.

# %%
step("Gradients with respect to several arguments")
f2 = lambda x, y: np.sum((x - y) ** 2)  # noqa: E731
print("gradient(f, [2, 1], [2, 0]) =", as_lists(tracker.gradient(f2, [2, 1], [2, 0])))

# %% [markdown]
# ## Implicit parameters: `params` and `Grads`
# Instead of passing arguments, mark arrays as parameters and name them in `params`; the function to
# differentiate then takes no arguments. The result `gs` is looked up by the parameter object itself.

# %%
step("Implicit parameters: gradient(() -> f(x, y), params(x, y))")
x, y = param([2, 1]), param([2, 0])
gs = tracker.gradient(lambda: f2(x, y), params(x, y))
print("gs[x] =", gs[x].tolist())
print("gs[y] =", gs[y].tolist())

# %% [markdown]
# ## A linear regression, one step of gradient descent
# `predict(x) = W·x + b` with `W` of shape (2, 5): two outputs from five inputs. The loss is the squared error.

# %%
step("Building a simple model: linear regression")
W = param(rng.random((2, 5)))
b = param(rng.random(2))
predict = lambda x: W @ x + b                        # noqa: E731
loss = lambda x, y: np.sum((y - predict(x)) ** 2)    # noqa: E731
xs, ys = rng.random(5), rng.random(2)                # dummy data
before = float(tracker.value(loss(xs, ys)))
print(f"loss(x, y) = {before:.4f}    (before)")

# %% [markdown]
# Take the gradient with respect to `W` and `b`, and move `W` a little against it: `W -= 0.1·W̄`.
# The tracker's `update(x, Δ)` is `x += Δ`, in place (Flux's `update!`).

# %%
gs = tracker.gradient(lambda: loss(xs, ys), params(W, b))
W_bar = gs[W]
update(W, -0.1 * W_bar)
after = float(tracker.value(loss(xs, ys)))
print(f"loss(x, y) = {after:.4f}    (after one step: the loss fell by {before - after:.4f})")

# %% [markdown]
# ## Layers by hand
# Two linear maps with a sigmoid in between. It works, but every layer repeats the same three lines.

# %%
step("Building layers by hand")
W1, b1 = param(rng.random((3, 5))), param(rng.random(3))
W2, b2 = param(rng.random((2, 3))), param(rng.random(2))
layer1 = lambda x: W1 @ x + b1                 # noqa: E731
layer2 = lambda x: W2 @ x + b2                 # noqa: E731
model = lambda x: layer2(nn.σ(layer1(x)))      # noqa: E731
print("model(rand(5)) has shape", np.shape(tracker.value(model(rng.random(5)))), "(a 2-element vector)")

# %% [markdown]
# ## A function that makes layers
# `linear` returns a closure holding its own `W` and `b`. In Python we can pin them on the function too, so
# that `linear1.W` works as the manual says.

# %%
step("A function that returns linear layers")

def linear(n_in, n_out):
    W, b = param(rng.standard_normal((n_out, n_in))), param(rng.standard_normal(n_out))
    layer = lambda x: W @ x + b   # noqa: E731
    layer.W, layer.b = W, b
    return layer

linear1, linear2 = linear(5, 3), linear(3, 2)
model = lambda x: linear2(nn.σ(linear1(x)))   # noqa: E731
print("linear1.W has shape", np.shape(tracker.value(linear1.W)))
print("model(rand(5)) has shape", np.shape(tracker.value(model(rng.random(5)))))

# %% [markdown]
# ## A class that is a layer
# The same thing as an object: fields `W` and `b`, and `__call__` so that the object can be used as a function
# (Julia's `(m::Affine)(x) = ...`). That is `nn.Affine`, and `nn.Dense` is the same plus an activation
# applied to the result.

# %%
step("A struct (class) for the affine layer")

class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        return self.W @ x + self.b

def affine(n_in, n_out):
    return Affine(param(rng.standard_normal((n_out, n_in))), param(rng.standard_normal(n_out)))

a = affine(10, 5)
print("a(rand(10)) has shape", np.shape(tracker.value(a(rng.random(10)))), "(a 5-element vector)")
print("nn.Affine(10, 5) ->", nn.Affine(10, 5), "  nn.Dense(10, 5, σ) ->", nn.Dense(10, 5, nn.σ))

# %% [markdown]
# ## Stacking it up: a fold over a list of layers
# Julia's `foldl((x, m) -> m(x), layers, init = x)` is Python's `functools.reduce`: the output of each layer
# becomes the input of the next.

# %%
step("Stacking layers: a fold over a list")
layers = [nn.Dense(10, 5, nn.σ), nn.Dense(5, 2), nn.softmax]
model = lambda x: functools.reduce(lambda x, m: m(x), layers, x)   # noqa: E731
out = tracker.value(model(rng.random(10)))
print(f"model(rand(10)) = {np.round(out, 4).tolist()}  (2 probabilities, sum = {out.sum():.1f})")

# %% [markdown]
# ## `Chain` does the fold for you

# %%
step("Chain")
model2 = nn.Chain(nn.Dense(10, 5, nn.σ), nn.Dense(5, 2), nn.softmax)
print(model2)
print("model2(rand(10)) has shape", np.shape(tracker.value(model2(rng.random(10)))))

# %% [markdown]
# ## Models are functions: composition
# `m = Dense(5 => 2) ∘ Dense(10 => 5, σ)`: `nn.compose` writes the layers in mathematical order (the last one
# runs first) and gives back the equivalent `Chain`.

# %%
step("Composition: Dense(5, 2) ∘ Dense(10, 5, σ)")
m = nn.compose(nn.Dense(5, 2), nn.Dense(10, 5, nn.σ))
print("m(rand(10)) has shape", np.shape(tracker.value(m(rng.random(10)))))

# %% [markdown]
# ## `Chain` works with any function

# %%
step("Chain(x -> x^2, x -> x + 1)")
m = nn.Chain(lambda x: x**2, lambda x: x + 1)
print("m(5) =", m(5))

# %% [markdown]
# ## `functor`: telling nn to look inside your own class
# nn does not look inside a class it does not know, so `params` (and training) would miss its arrays; it warns
# instead of training nothing. Marking the class with `nn.functor` (Flux's `@functor`) lets `params`, `fmap`
# and `train` see its fields. (A dataclass needs no marking.)

# %%
step("Layer helpers: functor")
a = affine(3, 2)
with warnings.catch_warnings(record=True) as caught:   # nn says why it found nothing; shown here on purpose
    warnings.simplefilter("always")
    print("params(a) before functor:", len(nn.params(a)), "arrays")
print("nn warns:", caught[0].message if caught else "(nothing)")
nn.functor(Affine)
print("params(a) after  functor:", len(nn.params(a)), "arrays")
children, rebuild = nn.functor(a)    # Functors.functor(a): the children, and a way to put new ones back
print("children shapes:", [np.shape(tracker.value(c)) for c in children])
tenfold = nn.fmap(lambda w: 10 * tracker.value(w), a)     # a new Affine with every array multiplied by 10
print("fmap(x -> 10x, a).b / a.b =", np.round(tenfold.b / tracker.value(a.b), 6).tolist())

# %% [markdown]
# ## Optional bias and a chosen initialiser
# `nn.Affine` takes the sizes as a pair (Flux's `3 => 1`), `bias=False` and `init`: a function of the weight's
# shape.

# %%
step("Affine((3, 1), bias=False, init=np.ones)")
a = nn.Affine((3, 1), bias=False, init=np.ones)
print(a, " W =", tracker.value(a.W).tolist(), " b =", a.b)
print("a([1, 2, 3]) =", tracker.value(a(np.array([1.0, 2.0, 3.0]))).tolist())

# %% [markdown]
# ## On the GPU: `a |> gpu`
# The manual ends by moving the layer to the GPU. `nn.gpu(a)` copies every array of `a` to the GPU as a device
# array, and the very same call `a(x)` then runs there: numpy's `@`, `+` and the activations launch CUDA kernels
# that dualnum generates from its rules table. `nn.cpu` brings the numbers back. Without an NVIDIA GPU (and
# without numba's simulator, which runs the same kernels slowly in Python when `NUMBA_ENABLE_CUDASIM=1` is set
# before numba is imported) there is nothing to move to, so the step says why and is skipped.

# %%
step("gpu(a)")
from dualnum.backends import cuda  # noqa: E402

if cuda.available():
    where = "numba's CUDA simulator" if cuda.simulating() else "the GPU"
    a_gpu = nn.gpu(a)
    y_gpu = a_gpu(nn.gpu(np.array([1.0, 2.0, 3.0])))
    print(f"on {where}: W is a {type(tracker.value(a_gpu.W)).__name__}, a([1, 2, 3]) =", nn.cpu(y_gpu).tolist())
else:
    print("skipped: no CUDA GPU here (and numba's simulator is off), so gpu(a) would return a unchanged")
