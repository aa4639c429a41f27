"""Tutorial 4 -- "Teaching myself ML" (source 003): a model is a struct plus a call, and gradients come for free.

We fit a straight line ``Line(m, b)`` to noisy data with nothing but: a loss (``mse``), the gradient *of the
model* (a structure with one entry per field, from ``dualnum.tracker.gradient``), a ten-line gradient-descent
step that walks over the model's fields, and a training loop that stops when the loss stops falling. Then we
see why the learning rate matters so much (one rate diverges), look at the cost surface over (m, b) to see
*why*, and fit a ``Parabola`` with exactly the same code.

Run it with ``python -m tutorials 4`` (figures go to figures/; ``--fast`` takes fewer steps), or open it as a
notebook: the ``# %%`` cells run top to bottom.
"""
import dataclasses

import matplotlib.pyplot as plt
import numpy as np

import dualnum
import nn
from dualnum.tracker import gradient

from tutorials import common

# %% [markdown]
# # Teaching myself ML: a line, a parabola, and the learning rate

# %%
FAST = globals().get("FAST", False)   # `python -m tutorials --fast` sets it (fewer steps); in a notebook it is False
SEED = 3  # every random number below comes from this one generator
rng = np.random.default_rng(SEED)


def np_str(v, digits=6):
    return f"{v:.{digits}g}"


# %% [markdown]
# ## The model: a struct and a call
# The source writes `struct Line; m; b; end` and `(l::Line)(x) = l.m[1]*x + l.b[1]`. In Python a dataclass is
# the struct and `__call__` is the functor. (The source keeps `m` and `b` in 1-element vectors because Julia
# structs are immutable; a Python dataclass is mutable, so plain floats will do.) Because `__call__` is plain
# numpy arithmetic, `model(x)` works on the whole data array at once -- the source's `model.(x)` broadcast.

# %%
@dataclasses.dataclass
class Line:
    m: float
    b: float

    def __call__(self, x):
        return self.m * x + self.b


def make_line_data(rng):
    """x = 1..100, y = 3x + 100 + 100·rand (so the best line has slope ≈ 3 and intercept ≈ 150)."""
    x = np.arange(1.0, 101.0)
    y = 3 * x + 100 + 100 * rng.random(x.size)
    return x, y


# %% [markdown]
# ## The cost, the gradient of a model, and one step of gradient descent

# %%
def mse(ŷ, y):
    """Mean squared error: (1/n) Σ (ŷ - y)². (nn.mse is the same function.)"""
    return np.mean((ŷ - y) ** 2)


def model_gradient(model, x, y, cost=mse):
    """The gradient of cost(model(x), y) *with respect to the model*: a dict field -> ∂cost/∂field.

    This is the source's `gradient(model -> mse(model.(x), y), model)`. The tracker copies the model with every
    number replaced by a tracked leaf, runs the lambda, sweeps back once, and hands back a structure that
    mirrors the model's fields.
    """
    return gradient(lambda mdl: cost(mdl(x), y), model)[0]


def gradient_descent(model, g, α=1e-4):
    """One step, over every field of the model: field -= α · g[field].

    ``α`` is one number for all fields, or a dict with a learning rate per field. Nothing here knows that the
    model is a Line: it walks `dataclasses.fields`, the source's `fieldnames(typeof(model))`.
    """
    for field in dataclasses.fields(model):
        rate = α[field.name] if isinstance(α, dict) else α
        setattr(model, field.name, getattr(model, field.name) - rate * g[field.name])


def train(model, inputs, outputs, N, cost, optim, conv, *, blowup=1e12, record=None, **kwargs):
    """The source's `train!`: up to N iterations of `optim`, stopping early once the cost falls by ≤ conv.

    Returns the list of costs (the first is the untrained model's). Training also stops -- and says so -- if
    the cost passes ``blowup`` or stops being a number: that is divergence, not convergence.
    ``record``: a list to append (m, b, ...) field values to after every step (the path on the cost surface).
    """
    costs = [cost(model(inputs), outputs)]
    for step in range(1, N):
        g = gradient(lambda mdl: cost(mdl(inputs), outputs), model)[0]
        optim(model, g, **kwargs)
        costs.append(cost(model(inputs), outputs))
        if record is not None:
            record.append(tuple(getattr(model, f.name) for f in dataclasses.fields(model)))
        if not np.isfinite(costs[-1]) or costs[-1] > blowup:
            break  # diverged: the caller sees costs[-1] > blowup
        if costs[-2] - costs[-1] <= conv:
            break
    return costs


# %% [markdown]
# ## A second model, and the curvature along each field (used further down)

# %%
@dataclasses.dataclass
class Parabola:
    a: float
    b: float
    c: float

    def __call__(self, x):
        return self.a * x ** 2 + self.b * x + self.c


def curvatures(model, x, y, cost=mse):
    """d²cost/dfield² for every field, each by nested dual numbers (dualnum.derivative with order=2)."""
    out = {}
    for f in dataclasses.fields(model):
        def along(t, name=f.name):
            return cost(dataclasses.replace(model, **{name: t})(x), y)
        out[f.name] = float(dualnum.derivative(along, getattr(model, f.name), order=2))
    return out


# %% [markdown]
# ## Data and a random model
# %%
print("## Data: y = 3x + 100 + 100·rand(), x = 1..100")
x, y = make_line_data(rng)
m_ols, b_ols = np.polyfit(x, y, 1)
print(f"first points: {[(int(a), round(float(b), 2)) for a, b in zip(x[:3], y[:3])]}")
print(f"least squares (np.polyfit, the exact answer to aim for): m = {m_ols:.4f}, b = {b_ols:.4f}")
model = Line(float(rng.random()), float(rng.random()))  # the source's Line() = Line([rand()], [rand()])
start = dataclasses.replace(model)
print(f"random model: {model}")
print(f"total cost of the random model: mse = {mse(model(x), y):.1f}   (the source got about 86000)")

# %% [markdown]
# ## The gradient of a model is a structure
# %%
print("\n## gradient(model -> mse(model(x), y), model)")
g = model_gradient(model, x, y)
print(f"g = {g}")
print(f"gradient fields: {sorted(g)}; g['m'] = {g['m']:.6f}, g['b'] = {g['b']:.6f}")
h = 1e-6
fd_m = (mse(dataclasses.replace(model, m=model.m + h)(x), y) - mse(dataclasses.replace(model, m=model.m - h)(x), y)) / (2 * h)
fd_b = (mse(dataclasses.replace(model, b=model.b + h)(x), y) - mse(dataclasses.replace(model, b=model.b - h)(x), y)) / (2 * h)
print(f"finite differences: dm = {fd_m:.6f}, db = {fd_b:.6f}")
print("(the source printed ((m = [-32761.03...], b = [-566.56...]),): same size, its data were different)")
print("d/dm is ~60 times d/db: x goes up to 100, so m moves every prediction far more than b does.")

# %% [markdown]
# ## Train as the source did: α = 1e-4 for both fields, 10 000 iterations, conv = eps
# %%
N_source = 2_000 if FAST else 10_000
print(f"\n## train!(model, x, y, {N_source}, mse, gradientDescent, eps; α=1e-4)")
path_source = [(model.m, model.b)]
costs_source = train(model, x, y, N_source, mse, gradient_descent, np.finfo(float).eps, α=1e-4,
                   record=path_source)
print(f"after {len(costs_source) - 1} gradient steps: m = {model.m:.4f}, b = {model.b:.4f}, mse = {costs_source[-1]:.2f}")
print(f"mse after 10 steps {costs_source[10]:.1f}, after 100 {costs_source[100]:.1f}, after {len(costs_source) - 1} "
      f"{costs_source[-1]:.1f}")
print(f"the line looks right, but b is still {b_ols - model.b:.1f} below the least-squares {b_ols:.1f}: "
      "fast at first, then a crawl (the source noticed this too)")
source_model = dataclasses.replace(model)

# %% [markdown]
# ## Why: the curvature along m and along b
# The second derivative of the cost along each field says how sharply the cost curves that way. Nested dual
# numbers give it (dualnum.derivative(..., order=2)), and the full 2×2 Hessian's largest eigenvalue λmax
# sets the largest learning rate for which plain gradient descent does not blow up: α < 2/λmax.
# %%
print("\n## curvature: why one learning rate cannot suit both fields")
curv = curvatures(start, x, y)
print("second derivatives: " + ", ".join(f"d²mse/d{k}² = {v:.1f}" for k, v in curv.items()))
H = dualnum.hessian(lambda p: mse(p[0] * x + p[1], y), np.array([start.m, start.b]))
lam = np.linalg.eigvalsh(H)
alpha_max = 2 / lam[-1]
print(f"Hessian eigenvalues: {lam[0]:.4f} and {lam[-1]:.1f}   (ratio {lam[-1] / lam[0]:.0f})")
print(f"largest stable learning rate 2/λmax = {alpha_max:.4e}")
print(f"along the flat direction (mostly b) one step of α = 1e-4 removes only {1e-4 * lam[0]:.1e} of the "
      f"error: ~{1 / (1e-4 * lam[0]):.0f} steps per factor e.")

# %% [markdown]
# ## Several learning rates, one of them too large
# %%
print("\n## learning rates")
rates = [1e-5, 5e-5, 1e-4, 2.5e-4, 3.2e-4]
n_lr = 200 if FAST else 500
curves = {}
for α in rates:
    mdl = dataclasses.replace(start)
    c = train(mdl, x, y, n_lr, mse, gradient_descent, -np.inf, α=α)  # conv = -inf: never stop early
    curves[α] = c
    if c[-1] > 1e12 or not np.isfinite(c[-1]):
        print(f"α = {α:.1e}: DIVERGED -- mse {c[-1]:.3g} after {len(c) - 1} steps "
              f"(α > 2/λmax = {alpha_max:.3e})")
    else:
        print(f"α = {α:.1e}: mse after {len(c) - 1} steps = {c[-1]:.2f}")
fig, (ax, az) = plt.subplots(1, 2, figsize=(13, 5))
for k, (α, c) in enumerate(curves.items()):
    diverged = c[-1] > 1e12 or not np.isfinite(c[-1])
    label = f"α = {α:.1e}" + ("  (diverged: α > 2/λmax)" if diverged else "")
    style = dict(color=f"C{k}", lw=2 if diverged else 1.5, ls="--" if diverged else "-", label=label)
    ax.plot(np.arange(len(c)), np.minimum(c, 1e12), **style)
    if diverged:
        ax.plot(len(c) - 1, 1e12, "x", color="k", ms=10, mew=2)
        ax.annotate(f"diverged at step {len(c) - 1}\n(curve cut at 1e12)", (len(c) - 1, 1e12),
                    xytext=(len(c) + 15, 1e10), fontsize=9, arrowprops=dict(arrowstyle="->"))
    else:
        az.plot(np.arange(len(c)), c, **style)
ax.set_yscale("log")
ax.set_ylim(top=1e13)
ax.set_xlabel("iteration")
ax.set_ylabel("mse (log scale)")
ax.set_title(f"all rates, log scale (2/λmax = {alpha_max:.2e})")
ax.legend()
ax.grid(True, which="major", alpha=0.3)
stable = [c for c in curves.values() if np.isfinite(c[-1]) and c[-1] < 1e12]
lo = min(min(c) for c in stable)
az.set_ylim(lo - 200, max(c[min(30, len(c) - 1)] for c in stable) + 300)
az.set_xlabel("iteration")
az.set_ylabel("mse")
az.set_title("the stable rates, zoomed in: after the first drop, a slow crawl")
az.axhline(mse(np.polyval([m_ols, b_ols], x), y), color="k", ls=":", label="least-squares minimum")
az.legend(fontsize=8)
az.grid(True, alpha=0.3)
fig.suptitle("Line: gradient descent with several learning rates")
common.save(fig, "learning_rates.png")

# %% [markdown]
# ## The fix the source hints at: a learning rate per parameter
# Divide each field's step by its own curvature, α_f = 0.9 / (d²mse/df²). Same `gradient_descent`, same
# `train`, now with a dict of rates -- and the convergence test ends training early.
# %%
print("\n## per-field learning rates α_f = 0.9 / curvature_f")
α_field = {k: 0.9 / v for k, v in curv.items()}
print("α = {" + ", ".join(f"'{k}': {v:.4e}" for k, v in α_field.items()) + "}")
model = dataclasses.replace(start)
path_field = [(model.m, model.b)]
costs = train(model, x, y, 10_000, mse, gradient_descent, 1e-10, α=α_field, record=path_field)
print(f"converged after {len(costs) - 1} steps (cost fell by ≤ 1e-10): mse = {costs[-1]:.4f}")
print(f"fitted Line: m = {model.m:.4f}, b = {model.b:.4f}   (least squares m = {m_ols:.4f}, b = {b_ols:.4f})")
fitted = model

# %% [markdown]
# ## Fits before and after
# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for ax, mdl, title in [(axes[0], start, "before training (random Line)"),
                       (axes[1], fitted, "after training")]:
    ax.scatter(x, y, s=10, color="gray", label="data: y = 3x + 100 + 100·rand")
    ax.plot(x, mdl(x), color="C0", lw=2, label=f"m = {mdl.m:.3f}, b = {mdl.b:.2f}")
    ax.set_title(title)
    ax.set_xlabel("x")
axes[1].plot(x, source_model(x), color="C3", ls="--",
             label=f"α = 1e-4, {len(costs_source) - 1} steps: m = {source_model.m:.3f}, b = {source_model.b:.1f}")
axes[0].set_ylabel("y")
for ax in axes:
    ax.legend(fontsize=8, loc="upper left")
fig.suptitle("Line fit")
common.save(fig, "line_fit.png")

# %% [markdown]
# ## The cost surface over (m, b), with both descent paths
# nn.model_grid evaluates the loss on the whole grid in one call: the model's fields become grid arrays and
# `Line.__call__` broadcasts them against x. The loss must average over the data axis only.
# %%
print("\n## cost surface")
n_m, n_b = (31, 25) if FAST else (81, 65)
grid = nn.model_grid(lambda l: np.mean((l(x) - y) ** 2, axis=-1), start, ("m", "b"),
                     np.linspace(-1, 7, n_m), np.linspace(-60, 260, n_b))
gm, gb, gz = grid.argmin()
print(f"grid {n_m}×{n_b}: lowest point m = {gm:.2f}, b = {gb:.1f}, mse = {gz:.1f}")
P = np.asarray(path_source)[:: max(1, len(path_source) // 400)]
fig = nn.surface_and_contour(grid, path=P, path_label="α = 1e-4 for both", gradient=True, log=True, zlabel="mse",
                             title=f"Line cost surface: red = α 1e-4 for both ({len(path_source) - 1} steps), "
                                   f"cyan = per-field α ({len(path_field) - 1} steps)")
ax2 = fig.axes[1]
F = np.asarray(path_field)
ax2.plot(F[:, 0], F[:, 1], ".-", color="cyan", lw=1.2, ms=3, label="per-field α")
ax2.plot(m_ols, b_ols, "x", color="k", ms=9, mew=2, label="least squares")
ax2.legend(loc="upper left", fontsize=8)
common.save(fig, "line_cost_surface.png")
print("the valley is long and narrow; in (m, b) units it runs almost along b (a change of 1 in m costs as "
      "much as ~60 in b).\nThe arrows (-gradient) point almost straight along m, across the valley, so one "
      "global α crawls along it.")

# %% [markdown]
# ## Generic code: a Parabola with the same gradient, descent and train
# %%
print("\n## Parabola: same code, new struct")
xp = np.arange(-100, 101) / 10  # -10:0.1:10
yp = 5 * xp ** 2 + 10 * xp + 3 + 100 * rng.random(xp.size)
a_ls, b_ls, c_ls = np.polyfit(xp, yp, 2)
para = Parabola(float(rng.random()), float(rng.random()), float(rng.random()))
para0 = dataclasses.replace(para)
print(f"random model: {para}, mse = {mse(para(xp), yp):.1f}")
print(f"gradient: {model_gradient(para, xp, yp)}")
curv_p = curvatures(para, xp, yp)
α_p = {k: 0.9 / v for k, v in curv_p.items()}
costs_p = train(para, xp, yp, 10_000, mse, gradient_descent, 1e-10, α=α_p)
print(f"converged after {len(costs_p) - 1} steps: mse = {costs_p[-1]:.4f}")
print(f"fitted Parabola: a = {para.a:.4f}, b = {para.b:.4f}, c = {para.c:.4f}   "
      f"(least squares a = {a_ls:.4f}, b = {b_ls:.4f}, c = {c_ls:.4f})")
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for ax, mdl, title in [(axes[0], para0, "before training (random Parabola)"), (axes[1], para, "after training")]:
    ax.scatter(xp, yp, s=8, color="gray", label="data: 5x² + 10x + 3 + 100·rand")
    ax.plot(xp, mdl(xp), color="C1", lw=2, label=f"a = {mdl.a:.3f}, b = {mdl.b:.3f}, c = {mdl.c:.2f}")
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.legend(fontsize=8, loc="upper center")
axes[0].set_ylabel("y")
fig.suptitle("Parabola fit")
common.save(fig, "parabola_fit.png")

