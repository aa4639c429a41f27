"""Loss landscapes: a loss evaluated over a grid of two parameters, drawn as a surface and a contour map.

Two situations, two tools:

* **Two parameters** (a line's ``m`` and ``b``, a polynomial's coefficients): evaluate the loss on the whole grid
  at once, then draw it. ``loss_grid(f, xs, ys)`` calls ``f`` **once**, with the grid broadcast through ordinary
  numpy code; ``model_grid(loss, model, ("m", "b"), xs, ys)`` does the same for two fields of a model.
  ``grid_gradient`` gives the gradient field (one reverse-mode pass for the whole grid), and
  ``surface_and_contour`` draws surface + contour side by side, with a gradient-descent path and the arrows of
  the negative gradient on top.

* **Many parameters** (an MLP): pick two random directions δ, η in parameter space, *filter-normalise* them and
  plot ``L(θ* + α δ + β η)`` around the trained weights θ* -- ``slice_2d`` (Li, Xu, Taylor, Studer, Goldstein,
  "Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018). Filter normalisation rescales each filter of
  a direction (for a dense layer's weight matrix ``W`` of shape ``(out, in)``: each output row, the weights of one
  neuron) to the norm of the same filter of θ*, so that a step of α = 1 changes every neuron by about as much as
  its own weights: the picture no longer depends on the scale of each layer, which ReLU networks are invariant to.

    >>> import numpy as np, nn
    >>> x = np.arange(1.0, 101.0); y = 3 * x + 150
    >>> mse_per_point = lambda m, b: np.mean((m * x + b - y) ** 2, axis=-1)   # reduce over the data axis only
    >>> g = nn.loss_grid(mse_per_point, np.linspace(0, 6, 61), np.linspace(0, 300, 41))
    >>> g.Z.shape                                                             # (len(ys), len(xs))
    (41, 61)
    >>> fig = nn.surface_and_contour(g, path=[(0.5, 10.0), (3.1, 20.0)], gradient=True)   # doctest: +SKIP
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Callable, Sequence

import numpy as np

from ._backend import value
from .functor import fmap, trainables

__all__ = ["Grid", "loss_grid", "model_grid", "grid_gradient", "filter_normalize", "random_directions",
           "slice_2d", "surface_and_contour"]


@dataclasses.dataclass
class Grid:
    """A loss sampled on a rectangular grid: ``Z[i, j]`` is the loss at ``(xs[j], ys[i])`` (rows follow y,
    as ``np.meshgrid`` and matplotlib expect). ``labels`` names the two axes; ``center`` (optional) marks a
    point of interest, e.g. the trained weights of a slice (α, β) = (0, 0)."""
    xs: np.ndarray
    ys: np.ndarray
    Z: np.ndarray
    labels: tuple = ("x", "y")
    f: Callable | None = None          # the vectorised loss (a, b) -> loss, if known: used for gradient arrows
    center: tuple | None = None
    directions: list | None = None     # slice_2d: the two directions, one list of arrays per direction

    @property
    def mesh(self):
        """(X, Y) = np.meshgrid(xs, ys), both of shape (len(ys), len(xs))."""
        return np.meshgrid(self.xs, self.ys)

    def argmin(self):
        """(x, y, loss) at the grid point with the smallest loss."""
        i, j = np.unravel_index(np.nanargmin(self.Z), self.Z.shape)
        return float(self.xs[j]), float(self.ys[i]), float(self.Z[i, j])


# =============================================================================================================
# two parameters: the whole grid in one call
# =============================================================================================================

def _grid_args(xs, ys):
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if xs.ndim != 1 or ys.ndim != 1 or not xs.size or not ys.size:
        raise ValueError("loss_grid: xs and ys must be non-empty 1-D arrays (the values along each axis)")
    X, Y = np.meshgrid(xs, ys)
    # a trailing axis of length 1: the grid broadcasts against 1-D data (x of shape (n,)) to (ny, nx, n)
    return xs, ys, X[..., None], Y[..., None]


def _check_Z(Z, shape, who):
    Z = np.asarray(value(Z), dtype=float)
    if Z.shape == shape + (1,):
        Z = Z[..., 0]
    if Z.shape != shape:
        raise ValueError(
            f"{who}: the loss returned shape {Z.shape}, expected one number per grid point, {shape}. The two "
            "parameters arrive as arrays of shape (len(ys), len(xs), 1) -- the grid, then one axis that "
            "broadcasts against the data -- so reduce over the data axis only, e.g. "
            "np.mean((m * x + b - y) ** 2, axis=-1) or nn.mse(ŷ, y, agg=lambda l: np.mean(l, axis=-1)), "
            "rather than np.mean(...), which averages over everything, the grid included.")
    return Z


def loss_grid(f: Callable, xs, ys, labels=("x", "y")) -> Grid:
    """The loss ``f(a, b)`` at every point of the grid ``xs × ys``, computed by **one** call of ``f``.

    ``f`` receives ``a`` and ``b`` as arrays of shape ``(len(ys), len(xs), 1)``: the grid on the first two axes
    and a trailing axis of length 1, so that ordinary numpy code against 1-D data of shape ``(n,)`` broadcasts
    to ``(len(ys), len(xs), n)``. ``f`` must reduce over the last (data) axis only and return one loss per
    grid point (``np.mean(..., axis=-1)``). No Python loop runs over the grid: numpy does all points at once.
    Returns a :class:`Grid` with ``Z[i, j] = f(xs[j], ys[i])``.
    """
    xs, ys, A, B = _grid_args(xs, ys)
    Z = _check_Z(f(A, B), (ys.size, xs.size), "loss_grid")
    return Grid(xs, ys, Z, tuple(labels), f=f)


def _with_fields(model, names, values):
    """A shallow copy of ``model`` with the named fields (attributes, or keys of a dict) replaced."""
    if isinstance(model, dict):
        out = dict(model)
        out.update(zip(names, values))
        return out
    out = copy.copy(model)
    for n, v in zip(names, values):
        object.__setattr__(out, n, v)  # works on frozen dataclasses too
    return out


def model_grid(loss: Callable, model, fields: Sequence[str], xs, ys, labels=None) -> Grid:
    """``loss(model)`` over a grid of two of the model's fields, e.g. ``fields=("m", "b")`` for a Line.

    The model is copied with both fields set to grid-shaped arrays (shape ``(len(ys), len(xs), 1)``, as in
    :func:`loss_grid`) and ``loss`` is called once on that copy: the model's own numpy code carries the grid.
    So ``loss`` must reduce over the data axis only, e.g. ``lambda l: np.mean((l(x) - y) ** 2, axis=-1)``.
    The fields must be scalars (or length-1 arrays) in the model; the model itself is not changed.
    """
    names = tuple(fields)
    if len(names) != 2:
        raise ValueError(f"model_grid: name exactly two fields, got {names!r}")
    for n in names:
        v = model[n] if isinstance(model, dict) else getattr(model, n)
        if np.size(value(v)) != 1:
            raise ValueError(f"model_grid: field {n!r} holds {np.size(value(v))} numbers; a grid needs two scalar "
                             "fields (for many parameters, use slice_2d)")

    def f(a, b):
        return loss(_with_fields(model, names, (a, b)))

    g = loss_grid(f, xs, ys, labels=labels or names)
    return g


def grid_gradient(f: Callable, xs, ys):
    """(∂f/∂a, ∂f/∂b) at every grid point, each of shape ``(len(ys), len(xs))``, for ``f`` as in :func:`loss_grid`.

    One reverse-mode pass for the whole grid: the grid points do not interact, so the gradient of the *sum*
    of all the grid's losses with respect to the grid array ``a`` holds ∂f/∂a of every point, and likewise
    for ``b`` (``dualnum.tracker.gradient``; exact, no finite differences).
    """
    from dualnum.tracker import gradient
    xs, ys, A, B = _grid_args(xs, ys)
    shape = (ys.size, xs.size)
    ga, gb = gradient(lambda a, b: np.sum(f(a, b)), A, B)
    return _check_Z(ga, shape, "grid_gradient"), _check_Z(gb, shape, "grid_gradient")


# =============================================================================================================
# many parameters: a 2-D slice along filter-normalised random directions (Li et al. 2018)
# =============================================================================================================

def _plain(x):
    return np.array(value(x), dtype=float)


def filter_normalize(direction, weights, bias="zero"):
    """Li et al.'s filter normalisation of one random direction, array by array (returns new arrays).

    For an array with 2 or more dimensions (a weight matrix ``(out, in)``; a conv kernel ``(out, ...)``) each
    *filter* -- each slice along the first axis, i.e. each output row / neuron -- is rescaled so that its norm
    equals the norm of the same filter of the weights: ``d_i ← d_i / ‖d_i‖ · ‖θ_i‖``.
    For 1-D arrays and scalars (biases; batch-norm parameters) ``bias`` says what to do:
    ``"zero"`` (default) sets the direction to 0 there, so biases stay at their trained values, as in the paper's
    figures (its code's ``--xignore biasbn``); ``"copy"`` uses the weights themselves as the direction, as its
    code does otherwise; ``"filter"`` treats the whole vector as one filter, ``d ← d / ‖d‖ · ‖θ‖``.
    """
    if bias not in ("zero", "copy", "filter"):
        raise ValueError(f"filter_normalize: bias must be 'zero', 'copy' or 'filter', got {bias!r}")
    out = []
    for d, w in zip(direction, weights):
        d, w = _plain(d), _plain(w)
        if d.shape != w.shape:
            raise ValueError(f"filter_normalize: direction of shape {d.shape} for weights of shape {w.shape}")
        if d.ndim >= 2:
            axes = tuple(range(1, d.ndim))
            dn = np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
            wn = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
            out.append(d * (wn / np.where(dn > 0, dn, 1.0)))
        elif bias == "zero":
            out.append(np.zeros_like(d))
        elif bias == "copy":
            out.append(w.copy())
        else:
            dn = np.linalg.norm(d)
            out.append(d * (np.linalg.norm(w) / dn if dn > 0 else 0.0))
    return out


def random_directions(model, n=2, seed=0, bias="zero", normalize=True):
    """``n`` random Gaussian directions in the space of ``model``'s trainable arrays, filter-normalised.

    Each direction is a list of arrays, one per array of ``nn.trainables(model)``, in that order. Fixed ``seed``,
    same directions.
    """
    rng = np.random.default_rng(seed)
    weights = [_plain(p) for p in trainables(model)]
    if not weights:
        raise ValueError("random_directions: the model has no trainable arrays")
    dirs = []
    for _ in range(n):
        d = [rng.standard_normal(w.shape) for w in weights]
        dirs.append(filter_normalize(d, weights, bias) if normalize else d)
    return dirs


def _shifted(model, weights, dirs, coeffs):
    """A copy of ``model`` whose k-th trainable array is the plain array weights[k] + Σ c·dir[k] (no tracking)."""
    index = {}
    for k, p in enumerate(trainables(model)):
        index[id(p)] = k

    def move(leaf):
        k = index.get(id(leaf))
        if k is None:
            return leaf
        w = weights[k].copy()
        for c, d in zip(coeffs, dirs):
            if c:
                w += c * d[k]
        return w

    return fmap(move, model)


def slice_2d(loss_fn: Callable, model, *, span=1.0, n=21, seed=0, bias="zero", directions=None) -> Grid:
    """The loss around trained weights θ* on the plane θ* + α·δ + β·η, δ and η random filter-normalised directions.

    ``loss_fn(m)`` takes a model (a copy of ``model`` with plain arrays for weights) and returns a scalar loss;
    it is evaluated at each of the ``n × n`` points α, β ∈ linspace(-span, span, n): a loop over grid points,
    each evaluation vectorised over the whole data set, and with plain numpy arrays so nothing is tracked.
    With ``n`` odd, the centre point is exactly (0, 0), the trained model, so ``Z[n//2, n//2] ==
    loss_fn(model)``. ``directions`` (two lists of arrays) replaces the random ones; ``bias`` is passed to
    :func:`filter_normalize`. The returned :class:`Grid` has ``labels=("α", "β")``, ``center=(0, 0)`` and keeps
    the directions in ``.directions``.
    """
    weights = [_plain(p) for p in trainables(model)]
    dirs = directions if directions is not None else random_directions(model, 2, seed=seed, bias=bias)
    if len(dirs) != 2:
        raise ValueError("slice_2d: give two directions")
    dirs = [[_plain(a) for a in d] for d in dirs]
    for d in dirs:
        if [a.shape for a in d] != [w.shape for w in weights]:
            raise ValueError("slice_2d: each direction must hold one array per trainable array of the model, "
                             "with the same shapes")
    alphas = np.linspace(-span, span, n)
    betas = np.linspace(-span, span, n)
    Z = np.empty((n, n))
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            Z[i, j] = float(value(loss_fn(_shifted(model, weights, dirs, (a, b)))))
    return Grid(alphas, betas, Z, ("α", "β"), center=(0.0, 0.0), directions=dirs)


# =============================================================================================================
# drawing
# =============================================================================================================

def surface_and_contour(grid: Grid, *, path=None, path_loss=None, path_label="gradient descent", gradient=False,
                        log=False, title=None, zlabel="loss", levels=30, arrows=15, cmap="viridis", figsize=(13, 5.2)):
    """A figure with the 3-D surface (left) and the contour map (right) of ``grid``, returned (not saved).

    ``path``: a gradient-descent trajectory, a sequence of (x, y) points (first = start); drawn as a line with
    a start marker and an end marker on both panels, labelled ``path_label`` in the legend. On the surface it is lifted to ``path_loss`` (the losses
    along the path), or to ``grid.f`` at those points if the grid knows its loss, else drawn at the floor.
    ``gradient``: draw the negative gradient field ``-∇L`` on the contour as arrows on an ``arrows × arrows``
    sub-grid. ``True`` computes it exactly with :func:`grid_gradient` (needs ``grid.f``) or, for a slice,
    by finite differences of ``Z``; or pass ``(GX, GY)`` arrays on the grid. Arrows are scaled to equal length
    (the direction is the information; the magnitudes of a loss landscape span many orders).
    ``log``: colour and contour by log10 of the loss (for losses that span orders of magnitude).
    """
    import matplotlib.pyplot as plt

    X, Y = grid.mesh
    Z = np.asarray(grid.Z, dtype=float)
    lx, ly = grid.labels
    if log:
        pos = Z[Z > 0]
        floor = pos.min() if pos.size else 1e-12
        Zc = np.log10(np.maximum(Z, floor))
        zname = f"log10 {zlabel}"
    else:
        Zc, zname = Z, zlabel

    fig = plt.figure(figsize=figsize)
    ax3 = fig.add_subplot(1, 2, 1, projection="3d")
    ax2 = fig.add_subplot(1, 2, 2)
    ax3.plot_surface(X, Y, Zc, cmap=cmap, linewidth=0, antialiased=True, alpha=0.85,
                     rstride=1, cstride=1)
    ax3.set_xlabel(lx)
    ax3.set_ylabel(ly)
    ax3.set_zlabel(zname)
    ax3.set_title("surface")
    cs = ax2.contourf(X, Y, Zc, levels=levels, cmap=cmap)
    ax2.contour(X, Y, Zc, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    fig.colorbar(cs, ax=ax2, label=zname)
    ax2.set_xlabel(lx)
    ax2.set_ylabel(ly)
    ax2.set_title("contour" + (", arrows: -∇loss" if gradient is not False and gradient is not None else ""))

    if gradient is not False and gradient is not None:
        if gradient is True:
            if grid.f is not None:
                GX, GY = grid_gradient(grid.f, grid.xs, grid.ys)
            else:
                GY, GX = np.gradient(Z, grid.ys, grid.xs)
        else:
            GX, GY = (np.asarray(g, dtype=float) for g in gradient)
        si = max(1, len(grid.ys) // arrows)
        sj = max(1, len(grid.xs) // arrows)
        sl = (slice(si // 2, None, si), slice(sj // 2, None, sj))
        # the true direction of -∇L (the way gradient descent steps, in data units), drawn with equal
        # on-screen length: normalise in axis-fraction units, then map back to data units
        rx = np.ptp(grid.xs) or 1.0
        ry = np.ptp(grid.ys) or 1.0
        fx, fy = -GX[sl] / rx, -GY[sl] / ry
        norm = np.hypot(fx, fy)
        norm = np.where(norm > 0, norm, np.inf)
        L = 0.6 / max(arrows, 1)
        ax2.quiver(X[sl], Y[sl], fx / norm * L * rx, fy / norm * L * ry, color="white", alpha=0.85,
                   angles="xy", scale_units="xy", scale=1, width=0.003)

    if path is not None:
        P = np.asarray([[float(value(a)), float(value(b))] for a, b in path])
        ax2.plot(P[:, 0], P[:, 1], "-", color="red", lw=1.5, label=path_label)
        ax2.plot(P[0, 0], P[0, 1], "o", color="red", ms=7, label="start")
        ax2.plot(P[-1, 0], P[-1, 1], "*", color="yellow", mec="k", ms=14, label="end")
        ax2.legend(loc="best", fontsize=8)
        if path_loss is not None:
            pz = np.asarray([float(value(l)) for l in path_loss])
        elif grid.f is not None:
            pz = _check_Z(grid.f(P[:, 0][:, None, None], P[:, 1][:, None, None]), (len(P), 1),
                          "surface_and_contour")[:, 0]
        else:
            pz = np.full(len(P), np.nanmin(Z))
        if log:
            pz = np.log10(np.maximum(pz, 10 ** np.nanmin(Zc)))
        ax3.plot(P[:, 0], P[:, 1], pz, "-", color="red", lw=2, zorder=10)
        ax3.scatter([P[-1, 0]], [P[-1, 1]], [pz[-1]], color="yellow", edgecolor="k", s=60, zorder=11)
    if grid.center is not None:
        ax2.plot(*grid.center, "+", color="red", ms=12, mew=2)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
