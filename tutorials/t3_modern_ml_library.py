"""Tutorial 3 -- Implementation of a modern ML library (source 000): Params, Grads, optimisers, train, a real MLP.

Run it with ``python -m tutorials 3``, or open it as a notebook (``# %%`` cells, top to bottom). A
machine-learning library does five jobs: hold a model and its parameters, define a loss, take the gradient of the
loss with respect to the parameters, turn gradients into steps (the optimiser), and loop over data doing that
(train). This tutorial opens each of those boxes in ``nn``, repairs the source's broken network, then trains a
working one on real handwritten digits and draws figures/mlp_training_curve.png and
figures/mlp_landscape_slice.png. (``python -m tutorials`` keeps numpy's BLAS on one thread: with matrices this
small, more threads only wait for each other on a busy machine.)
"""
import numpy as np

import nn
from dualnum import tracker
from dualnum.tracker import Params, param

from tutorials import common

# %% [markdown]
# # Implementation of a modern ML library
#
# A machine-learning library does five jobs: hold a model and its parameters, define a loss, take the gradient
# of the loss with respect to the parameters, turn gradients into steps (the optimiser), and loop over data
# doing that (`train`). The source builds each of them in a few lines of Julia; here we open each of those boxes
# in `nn`, repair the source's broken network, then train a working one on real handwritten digits.

# %%
# `python -m tutorials --fast` sets FAST before this cell runs (fewer epochs, a coarser landscape slice); in a
# notebook it is False.
FAST = globals().get("FAST", False)
rng = np.random.default_rng(0)   # every random number below, the same on every run
nn.seed(0)                       # the layers' initial weights


def step(title):
    """Print a cell's heading, so the output reads like the tutorial."""
    print(f"\n## {title}")


# %% [markdown]
# ## A model is a function of one input
# The input is a matrix whose rows are features and whose columns are samples: three samples at once are
# three columns, and the model answers with three columns. (Data from scikit-learn comes the other way round,
# one sample per row: pass `X.T`.)

# %%
step("A model: W·x + b on a batch of columns")
W = param(rng.random((2, 5)))
b = param(rng.random(2))
model = lambda x: W @ x + b[:, None]   # noqa: E731   b is added to every column
x3 = rng.random((5, 3))
print(f"model(x) maps a batch of shape {x3.shape} to shape {np.shape(tracker.value(model(x3)))}")

# %% [markdown]
# ## `Params`: an ordered list plus an identity set
# Flux's `Params` is two things: `order`, the parameters in the order they were added, and `params`, a set of
# object identities that stops the same array from being added twice. Ten lines of Python:

# %%
step("Params, implemented")

class MiniParams:
    def __init__(self, xs=()):
        self.order, self.ids = [], set()
        for x in xs:
            self.push(x)

    def push(self, x):
        if id(x) not in self.ids:   # identity, not equality: two equal arrays are two parameters
            self.order.append(x)
            self.ids.add(id(x))
        return self

W_twin = param(tracker.value(W))    # equal numbers, a different object
mine, theirs = MiniParams([W, b, W, W_twin]), Params([W, b, W, W_twin])
print(f"MiniParams([W, b, W, W_twin]) holds {len(mine.order)}; nn's Params holds {len(theirs)}")
print(f"order kept: {[p is q for p, q in zip(theirs, [W, b, W_twin])]}, W in ps: {W in theirs}, "
      f"a third equal copy in ps: {param(tracker.value(W)) in theirs}")
print(f"nn.params(model) of a Chain: {len(nn.params(nn.Chain(nn.Dense(5, 3), nn.Dense(3, 2))))} arrays "
      "(W and b of each layer)")

# %% [markdown]
# ## `Grads`: gradients looked up by the parameter itself
# `gradient(() -> loss, ps)` returns a `Grads`: index it with the parameter object. A parameter the loss never
# touched has the gradient `None` -- there is nothing to learn for it.

# %%
step("Grads")
x, y = rng.random(5), rng.random(2)
loss = lambda x, y: np.sum((W @ x + b - y) ** 2)   # noqa: E731
unused = param(np.zeros(3))
gs = tracker.gradient(lambda: loss(x, y), Params([W, b, unused]))
print(f"gs[W] has shape {gs[W].shape}, gs[b] = {np.round(gs[b], 4).tolist()}")
print(f"gs[unused] = {gs[unused]}   (the loss never touched it: nothing to learn)")

# %% [markdown]
# ## `Descent` and `apply`: the step an optimiser takes
# `update!(opt, x, x̄)` is `x .-= apply!(opt, x, x̄)`: the optimiser turns the gradient into a step and the
# parameter moves against it. For plain gradient descent the step is `η·x̄`.

# %%
step("Descent and apply")
opt = nn.Descent(0.1)
g = np.array([1.0, -2.0])
print(f"apply(Descent(0.1), x, {g.tolist()}) = {nn.apply(opt, b, g).tolist()}")

def update_one(opt, x, x_bar):        # the source's helper, on one parameter
    tracker.update(x, -nn.apply(opt, x, x_bar))

before = float(tracker.value(loss(x, y)))
for p in (W, b):
    if gs[p] is not None:             # the source's update!(opt, xs::Params, gs) loop
        update_one(opt, p, gs[p])
print(f"loss {before:.4f} -> {float(tracker.value(loss(x, y))):.4f} after one Descent step "
      "(nn.update(opt, ps, gs) is this loop)")

# %% [markdown]
# ## `Momentum`: why `apply` takes `x`
# Momentum remembers a velocity *per parameter*: `v ← ρv - ηΔ`, step `= -v`. The parameter `x` is the key of
# that memory (by identity), which is why `apply(opt, x, Δ)` gets `x` even though `Descent` ignores it.

# %%
step("Momentum uses x")
mom = nn.Momentum(0.01, 0.9)
ones = np.ones((2, 5))                # the same gradient, 1 everywhere, every time
steps = [float(nn.apply(mom, W, ones)[0, 0]) for _ in range(3)]
print(f"three steps for W with the same gradient 1: {[round(s, 4) for s in steps]}  (speeding up)")
print(f"first step for W_twin (equal values, other object): {float(nn.apply(mom, W_twin, ones)[0, 0]):.4f}")

# %% [markdown]
# ## `train`: the loop, with callbacks
# `train(loss, ps, data, opt, cb=...)` does, for each `(x, y)` in `data`: gradient, update, then the callbacks.
# Here a linear model learns `y = A x + c` from 40 noisy samples, fed as 10 batches of 4 columns. A callback
# that calls `nn.stop()` ends training early (Flux's `Flux.stop()`).

# %%
step("train with callbacks")
A_true, c_true = rng.standard_normal((2, 3)), rng.standard_normal(2)
X = rng.standard_normal((3, 40))
Y = A_true @ X + c_true[:, None] + 0.01 * rng.standard_normal((2, 40))
lin = nn.Dense(3, 2)
lin_loss = lambda x, y: nn.mse(lin(x), y)   # noqa: E731
data = nn.DataLoader((X, Y), batchsize=4)
full_loss = lambda: float(tracker.value(lin_loss(X, Y)))   # noqa: E731   the loss on all 40 samples
seen = []

def count():                      # callback 1: count the steps
    seen.append(1)

def report():                     # callback 2: print now and then
    if len(seen) % 50 == 0:
        print(f"  step {len(seen):3d}: loss on all data {full_loss():.5f}")

def stop_early():                 # callback 3: good enough? then nn.stop() ends train (Flux.stop())
    if full_loss() < 1e-3:
        nn.stop()

print(f"  before training: loss on all data {full_loss():.5f}")
losses = nn.train(lin_loss, nn.params(lin), data, nn.Momentum(0.05, 0.9), cb=[count, report, stop_early],
                  epochs=50)
print(f"  stopped after {len(losses)} steps, loss on all data {full_loss():.5f}; "
      f"largest error in A: {np.abs(tracker.value(lin.W) - A_true).max():.3f}")

# %% [markdown]
# ## The source's network, and the error it gives now
# `Chain(Dense(784, 64, relu), Dense(64, 64, relu), Dense(32, 10))`: the last layer expects 32 inputs but the
# layer before it gives 64. Julia reported a `DimensionMismatch` deep inside a matrix product; nn names the
# layer, its position in the chain, and both sizes.

# %%
step("The source's broken Chain")
broken = nn.Chain(nn.Dense(784, 64, nn.relu), nn.Dense(64, 64, nn.relu), nn.Dense(32, 10))
try:
    broken(rng.random((784, 2)))
except nn.ShapeError as e:
    print(f"{type(e).__name__}: {e}")
fixed = nn.Chain(nn.Dense(784, 64, nn.relu), nn.Dense(64, 64, nn.relu), nn.Dense(64, 10))
print(f"with Dense(64, 10) as the last layer: output shape {np.shape(tracker.value(fixed(rng.random((784, 2)))))}")

# %% [markdown]
# ## A working MLP on real handwritten digits
# The UCI digits (from scikit-learn): 1797 images of 8×8 pixels (64 features, not MNIST's 784), 75 % to train
# on, 25 % held out. Without scikit-learn this cell says so and the tutorial stops here.

# %%
step("An MLP learns handwritten digits")
try:
    xtr, ytr, xte, yte = nn.digits()
except ImportError as e:
    print(f"skipped: {e}")
    raise common.SkipRest(str(e)) from None   # the cells below need the digits; python -m tutorials goes on
# nn.digits hands back column-major (Fortran-order) arrays; numpy's matmul is many times slower on those
# than on row-major ones, so make them row-major once here
xtr, xte = np.ascontiguousarray(xtr), np.ascontiguousarray(xte)
print(f"train {xtr.shape[1]} images, test {xte.shape[1]}, each a column of {xtr.shape[0]} pixels")
nn.seed(0)
mlp = nn.Chain(nn.Dense(64, 64, nn.relu), nn.Dense(64, 64, nn.relu), nn.Dense(64, 10))
mlp_loss = lambda x, y: nn.logitcrossentropy(mlp(x), y)   # noqa: E731
Ytr = nn.onehot(ytr, 10)
loader = nn.DataLoader((xtr, Ytr), batchsize=64, shuffle=True, seed=0)
opt = nn.Adam(0.005)
epochs = 6 if FAST else 25
batch_losses, epoch_loss, test_acc = [], [], []
for epoch in range(epochs):
    batch_losses += nn.train(mlp_loss, nn.params(mlp), loader, opt)
    epoch_loss.append(float(tracker.value(mlp_loss(xtr, Ytr))))
    test_acc.append(nn.accuracy(tracker.value(mlp(xte)), yte))
print(f"after {epochs} epochs: training loss {epoch_loss[-1]:.4f}, "
      f"held-out accuracy {100 * test_acc[-1]:.1f} %")

# %% [markdown]
# ## The training curve
# Left, the loss (log scale): each mini-batch's, noisy, and the whole training set's after each epoch. Right,
# accuracy on the held-out images, which the network never trains on. An occasional bump is Adam taking a
# step too far on a lucky-looking batch; the next epochs recover.

# %%
import matplotlib.pyplot as plt
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
per_epoch = len(loader)
ax1.semilogy(np.arange(1, len(batch_losses) + 1) / per_epoch, batch_losses, color="tab:blue", alpha=0.35,
             lw=0.8, label="each mini-batch")
ax1.semilogy(np.arange(1, epochs + 1), epoch_loss, "o-", color="tab:blue", label="whole training set")
ax1.set_xlabel("epoch")
ax1.set_ylabel("cross-entropy loss (log scale)")
ax1.set_title("training loss")
ax1.legend()
ax2.plot(np.arange(1, epochs + 1), 100 * np.array(test_acc), "o-", color="tab:green")
ax2.set_xlabel("epoch")
ax2.set_ylabel("accuracy on held-out images (%)")
ax2.set_title(f"held-out accuracy (final {100 * test_acc[-1]:.1f} %)")
ax2.grid(alpha=0.3)
fig.suptitle("MLP 64-64-64-10 (ReLU, Adam) on the UCI 8×8 digits: training curve")
fig.tight_layout()
common.save(fig, "mlp_training_curve.png")

# %% [markdown]
# ## The loss landscape around the trained weights
# The MLP has 9 034 parameters; we cannot draw a function of 9 034 variables. Instead take two random
# directions `δ`, `η` in parameter space, rescale each neuron's part of them to the size of that neuron's
# weights (filter normalisation, Li et al. 2018), and draw `L(θ* + α δ + β η)` around the trained `θ*`.

# %%
step("The loss landscape: a 2-D slice around the trained weights")
from nn import landscape
slice_loss = lambda m: nn.logitcrossentropy(m(xtr), Ytr)   # noqa: E731   m: a copy with plain arrays
n = 9 if FAST else 21
grid = landscape.slice_2d(slice_loss, mlp, span=1.0, n=n, seed=0)
centre = grid.Z[n // 2, n // 2]
corners = grid.Z[[0, 0, -1, -1], [0, -1, 0, -1]]
print(f"loss at the trained weights (α, β) = (0, 0): {centre:.4f}; at the corners (α, β = ±1): "
      f"{corners.min():.2f} to {corners.max():.2f}")
print(f"lowest point on the grid: α = {grid.argmin()[0]:.2f}, β = {grid.argmin()[1]:.2f}")
fig = landscape.surface_and_contour(grid, log=True, zlabel="training loss",
                                    title="MLP on digits: loss on a random 2-D slice through the trained "
                                          "weights (filter-normalised directions, + = trained)")
common.save(fig, "mlp_landscape_slice.png")

