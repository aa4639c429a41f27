"""Loss landscapes: a loss evaluated over a grid of two parameters, drawn as a surface and a contour map.

Two situations, two tools:

* **Two parameters** (a line's ``m`` and ``b``, a polynomial's coefficients, one weight of a layer): evaluate the
  loss on the whole grid, then draw it. ``loss_grid(f, xs, ys)`` calls ``f`` **once**, with the grid broadcast
  through ordinary numpy code, when ``f`` is written for that (it reduces over the data axis only); any other
  loss -- ``nn.mse``, ``np.mean`` over everything, code with an ``if`` -- is evaluated point by point instead,
  with ordinary floats. ``model_grid(loss, model, ("m", "b"), xs, ys)`` does the same for two fields of a model,
  or two entries of its arrays: ``model_grid(loss, layer, ((layer.W, (0, 0)), (layer.W, (0, 1))), xs, ys)``.
  ``grid_gradient`` gives the gradient field (one reverse-mode pass for the whole grid, or one per point), and
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
    >>> g.Z.shape, g.vectorized                                               # (len(ys), len(xs)), one call
    ((41, 61), True)
    >>> g2 = nn.loss_grid(lambda m, b: nn.mse(m * x + b, y), np.linspace(0, 6, 61), np.linspace(0, 300, 41))
    >>> g2.vectorized, bool(np.allclose(g2.Z, g.Z))                           # an ordinary loss: point by point
    (False, True)
    >>> fig = nn.surface_and_contour(g, path=[(0.5, 10.0), (3.1, 20.0)], gradient=True)   # doctest: +SKIP
"""
from __future__ import annotations

import copy
import dataclasses
import warnings
from typing import Callable, Sequence

import numpy as np

from ._backend import is_tracked, value
from .functor import children, fmap, trainables

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
    f: Callable | None = None          # the loss (a, b) -> loss, if known: used for gradient arrows
    center: tuple | None = None
    directions: list | None = None     # slice_2d: the two directions, one list of arrays per direction
    vectorized: bool | None = None     # True: f took the whole grid in one call; False: f ran point by point

    @property
    def mesh(self):
        """(X, Y) = np.meshgrid(xs, ys), both of shape (len(ys), len(xs))."""
        return np.meshgrid(self.xs, self.ys)

    def argmin(self):
        """(x, y, loss) at the grid point with the smallest loss."""
        i, j = np.unravel_index(np.nanargmin(self.Z), self.Z.shape)
        return float(self.xs[j]), float(self.ys[i]), float(self.Z[i, j])


# =============================================================================================================
# two parameters: the whole grid in one call, or point by point
# =============================================================================================================

def _grid_args(xs, ys, who="loss_grid"):
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if xs.ndim != 1 or ys.ndim != 1 or not xs.size or not ys.size:
        raise ValueError(f"{who}: xs and ys must be non-empty 1-D arrays (the values along each axis)")
    X, Y = np.meshgrid(xs, ys)
    # a trailing axis of length 1: the grid broadcasts against 1-D data (x of shape (n,)) to (ny, nx, n)
    return xs, ys, X[..., None], Y[..., None]


_REDUCE_HINT = ("The two parameters arrive as arrays of shape (len(ys), len(xs), 1) -- the grid, then one axis that "
                "broadcasts against the data -- so reduce over the data axis only, e.g. "
                "np.mean((m * x + b - y) ** 2, axis=-1) or nn.mse(ŷ, y, agg=lambda l: np.mean(l, axis=-1)), "
                "rather than np.mean(...), which averages over everything, the grid included.")


def _check_Z(Z, shape, who):
    Z = np.asarray(value(Z), dtype=float)
    if Z.shape == shape + (1,):
        Z = Z[..., 0]
    if Z.shape != shape:
        raise ValueError(f"{who}: the loss returned shape {Z.shape}, expected one number per grid point, {shape}. "
                         + _REDUCE_HINT)
    return Z


class _NotVectorised(Exception):
    """f, called on the whole grid, did not return one loss per grid point."""


def _scalar(z, who, a, b):
    """One loss as a float, or a ValueError saying that f returned more than one number at a point."""
    z = np.asarray(value(z), dtype=float)
    if z.size != 1:
        raise ValueError(f"{who}: at the point ({a:g}, {b:g}) the loss returned shape {z.shape}; it must return "
                         "one number (reduce over the data: np.mean(...), nn.mse(ŷ, y))")
    return float(z.reshape(()))


def _probes(shape):
    """A few grid indices (first, middle, last) at which a whole-grid result is checked against single calls."""
    n = int(np.prod(shape))
    return [np.unravel_index(k, shape) for k in sorted({0, n // 2, n - 1})]


def _agrees(f, A, B, Z, shape, who):
    """Does the whole-grid result Z match f called with plain floats at a few points? (None: f refuses floats.)

    A loss can return the right shape from the whole grid and still mix its points (a reduction over the wrong
    axis): a single point cannot be mixed, so it is the reference."""
    for idx in _probes(shape):
        a, b = float(A[idx][0]), float(B[idx][0])
        try:
            z = _scalar(f(a, b), who, a, b)
        except Exception:
            return None   # written for arrays only: nothing to compare with, trust the whole-grid call
        if not np.isclose(Z[idx], z, rtol=1e-9, atol=1e-12 * (1.0 + abs(z)), equal_nan=True):
            return False
    return True


def _replay(caught):
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _evaluate(f, A, B, vectorized, who):
    """(Z, vectorized): f at every point of the grid arrays A, B (shape S + (1,)); Z has shape S.

    ``vectorized=True``: one call of f on the whole grid, which must return one loss per point. ``False``: one
    call per point with plain floats. ``None``: try the whole grid; if f raises, returns another shape, or
    disagrees with single calls at a few points, evaluate point by point."""
    shape = A.shape[:-1]
    if vectorized:
        return _check_Z(f(A, B), shape, who), True
    first_error = None
    if vectorized is None:
        with warnings.catch_warnings(record=True) as caught:   # warnings of a failed attempt are not the user's
            warnings.simplefilter("always")
            try:
                Z = np.asarray(value(f(A, B)), dtype=float)
            except Exception as e:   # a loss for single points: nn.mse's shape check, float(m), `if m > 0`, ...
                first_error, Z = e, None
        if Z is not None and Z.shape == shape + (1,):
            Z = Z[..., 0]
        if Z is not None and Z.shape == shape:
            agreed = _agrees(f, A, B, Z, shape, who)
            if agreed is not False:
                _replay(caught)
                return Z, True
            warnings.warn(f"{who}: the loss called on the whole grid gave other numbers than called at single "
                          "points (does it reduce over an axis of the grid?); evaluating it point by point. "
                          "Pass vectorized=False to go point by point directly.", stacklevel=3)
    Z = np.empty(shape)
    for idx in np.ndindex(*shape):
        a, b = float(A[idx][0]), float(B[idx][0])
        try:
            Z[idx] = _scalar(f(a, b), who, a, b)
        except Exception as e:
            if first_error is not None and hasattr(e, "add_note"):
                e.add_note(f"{who}: the loss failed at the grid point ({a:g}, {b:g}); called on the whole grid "
                           f"at once it had failed too, with {type(first_error).__name__}: {first_error}")
            raise
    return Z, False


def loss_grid(f: Callable, xs, ys, labels=("x", "y"), vectorized=None) -> Grid:
    """The loss ``f(a, b)`` at every point of the grid ``xs × ys``: ``Z[i, j] = f(xs[j], ys[i])``.

    A loss written for the grid is called **once**: ``a`` and ``b`` arrive as arrays of shape
    ``(len(ys), len(xs), 1)``, the grid on the first two axes and a trailing axis of length 1, so that ordinary
    numpy code against 1-D data of shape ``(n,)`` broadcasts to ``(len(ys), len(xs), n)``; ``f`` reduces over
    the last (data) axis only (``np.mean(..., axis=-1)``) and returns one loss per grid point. No Python loop
    runs over the grid: numpy does all points at once.

    Any other loss (``nn.mse``, which refuses to compare shapes that differ; a mean over everything; code
    with ``if``) is evaluated point by point with plain floats ``a``, ``b``. ``vectorized=None`` (the default)
    decides: it tries the whole grid, and goes point by point if ``f`` raises, returns another shape than one
    number per point, or gives other numbers than single calls at a few probe points (with a warning then).
    ``vectorized=True`` insists on one call (an error explains the shape), ``False`` goes point by point.
    Returns a :class:`Grid`; its ``vectorized`` says which way was taken.
    """
    xs, ys, A, B = _grid_args(xs, ys)
    Z, vec = _evaluate(f, A, B, vectorized, "loss_grid")
    return Grid(xs, ys, Z, tuple(labels), f=f, vectorized=vec)


# ---- model_grid: two fields of a model, or two entries of its arrays -----------------------------------------

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


def _field(model, name):
    if isinstance(model, dict):
        if name not in model:
            raise ValueError(f"model_grid: the model (a dict) has no key {name!r}; its keys are {list(model)}")
        return model[name]
    if not hasattr(model, name):
        raise ValueError(f"model_grid: {type(model).__name__} has no field {name!r}")
    return getattr(model, name)


def _path_to(model, target):
    """Where ``target`` sits inside ``model``, as code would reach it ("layers[0].W"), or None if it does not."""
    seen = set()

    def walk(x, path):
        if x is target:
            return path
        if id(x) in seen:
            return None
        seen.add(id(x))
        for k, c in children(x).items():
            step = f"[{k!r}]" if isinstance(x, dict) else f"[{k}]" if isinstance(k, int) else f".{k}"
            found = walk(c, path + step)
            if found is not None:
                return found
        return None

    found = walk(model, "")
    return None if found is None else found.lstrip(".")


def _entry(model, spec, k):
    """(array, index, label) for an entry spec ``(array, index)``; the array may also be named by its field."""
    arr, index = spec
    if isinstance(arr, str):
        arr = _field(model, arr)
    where = _path_to(model, arr)
    if where is None or not (isinstance(arr, np.ndarray) or is_tracked(arr)):
        raise ValueError(f"model_grid: fields[{k}] = (array, index) names an array that is not inside the model; "
                         "give the array object itself, e.g. (layer.W, (0, 0)) or (chain[1].b, 2)")
    shape = np.shape(value(arr))
    index = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    try:
        probe = np.zeros(shape)[index]
    except (IndexError, TypeError) as e:
        raise ValueError(f"model_grid: fields[{k}]: index {index} does not pick one entry of an array of shape "
                         f"{shape} ({e})") from None
    if np.ndim(probe) != 0:
        raise ValueError(f"model_grid: fields[{k}]: index {index} picks {np.size(probe)} entries of an array of "
                         f"shape {shape}; give one entry per axis, e.g. {(0,) * len(shape)}")
    label = f"{where}[{', '.join(str(i) for i in index)}]"
    return arr, index, label


def model_grid(loss: Callable, model, fields: Sequence, xs, ys, labels=None, vectorized=None) -> Grid:
    """``loss(model)`` over a grid of two of the model's numbers, each a field or one entry of an array.

    ``fields`` names two numbers of the model, each either a field name (``"m"``, for a scalar field) or a pair
    ``(array, index)`` -- one entry of one of the model's arrays, e.g. ``(layer.W, (0, 0))``, or
    ``("W", (0, 0))`` for a field of the model itself. At each grid point ``loss`` gets a copy of the model
    with those numbers set (the model itself is not changed). For two scalar fields the copy may hold the whole
    grid at once (arrays of shape ``(len(ys), len(xs), 1)``, as in :func:`loss_grid`), so that a loss that
    reduces over the data axis only, ``lambda l: np.mean((l(x) - y) ** 2, axis=-1)``, runs once; any other
    loss (``lambda l: nn.mse(l(x), y)``) runs point by point (``vectorized`` as in :func:`loss_grid`).
    With array entries it always runs point by point, on a copy whose arrays are plain (nothing is recorded).
    """
    specs = tuple(fields)
    if len(specs) != 2:
        raise ValueError(f"model_grid: name exactly two fields or array entries, got {specs!r}")
    names, entries, auto = [], [], []
    for k, s in enumerate(specs):
        if isinstance(s, str):
            v = _field(model, s)
            if np.size(value(v)) != 1:
                raise ValueError(f"model_grid: field {s!r} holds {np.size(value(v))} numbers; name one of them as "
                                 f"({s!r}, index), e.g. ({s!r}, {(0,) * np.ndim(value(v))}), or, for many "
                                 "parameters at once, use slice_2d")
            names.append((k, s))
            auto.append(s)
        elif isinstance(s, (tuple, list)) and len(s) == 2:
            arr, index, label = _entry(model, s, k)
            entries.append((k, arr, index))
            auto.append(label)
        else:
            raise ValueError(f"model_grid: fields[{k}] = {s!r}; give a field name or a pair (array, index)")

    def f(a, b):
        ab = (a, b)
        m = model
        if entries:
            targets = {}
            for k, arr, index in entries:
                mask = np.zeros(np.shape(value(arr)), dtype=bool)
                mask[index] = True
                base = targets[id(arr)][1] if id(arr) in targets else np.array(value(arr), dtype=float)
                # np.where, not a write: the entry may be a tracked or dual number (grid_gradient's)
                targets[id(arr)] = (arr, np.where(mask, ab[k], base))
            m = fmap(lambda leaf: targets[id(leaf)][1] if id(leaf) in targets and targets[id(leaf)][0] is leaf
                     else value(leaf) if is_tracked(leaf) else leaf, model)
        if names:
            m = _with_fields(m, [n for _, n in names], [ab[k] for k, _ in names])
        return loss(m)

    if entries:
        if vectorized:
            raise ValueError("model_grid: an array entry (array, index) is evaluated point by point; "
                             "vectorized=True needs two scalar fields")
        vectorized = False
    xs, ys, A, B = _grid_args(xs, ys, "model_grid")
    Z, vec = _evaluate(f, A, B, vectorized, "model_grid")
    return Grid(xs, ys, Z, tuple(labels or auto), f=f, vectorized=vec)


def grid_gradient(f: Callable, xs, ys, vectorized=None):
    """(∂f/∂a, ∂f/∂b) at every grid point, each of shape ``(len(ys), len(xs))``, for ``f`` as in :func:`loss_grid`.

    For a loss written for the grid, one reverse-mode pass does the whole grid: the grid points do not interact,
    so the gradient of the *sum* of all the grid's losses with respect to the grid array ``a`` holds ∂f/∂a of
    every point, and likewise for ``b`` (``dualnum.tracker.gradient``; exact, no finite differences). Any other
    loss gets one reverse pass per point; ``vectorized`` decides as in :func:`loss_grid` (the whole-grid pass is
    used only if its losses are one per point and agree with single calls).
    """
    from dualnum.tracker import gradient
    xs, ys, A, B = _grid_args(xs, ys, "grid_gradient")
    shape = (ys.size, xs.size)
    if vectorized is not False:
        seen = {}

        def total(a, b):
            z = f(a, b)
            zs = np.shape(value(z))
            if zs not in (shape, shape + (1,)):
                if vectorized:
                    _check_Z(value(z), shape, "grid_gradient")   # raises, explaining the shape
                raise _NotVectorised(zs)   # the sum below would mix the points: never differentiate it
            seen["Z"] = np.asarray(value(z), dtype=float).reshape(shape)
            return np.sum(z)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ga, gb = gradient(total, A, B)
            except Exception:
                if vectorized:
                    raise
                seen.clear()
        if "Z" in seen and (vectorized or _agrees(f, A, B, seen["Z"], shape, "grid_gradient") is not False):
            _replay(caught)
            return _check_Z(ga, shape, "grid_gradient"), _check_Z(gb, shape, "grid_gradient")
    GA, GB = np.empty(shape), np.empty(shape)
    for idx in np.ndindex(*shape):
        ga, gb = gradient(f, float(A[idx][0]), float(B[idx][0]))
        GA[idx], GB[idx] = float(value(ga)), float(value(gb))
    return GA, GB


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
        si = max(1, len(grid.ys) // arrows)
        sj = max(1, len(grid.xs) // arrows)
        sl = (slice(si // 2, None, si), slice(sj // 2, None, sj))
        if gradient is True:
            if grid.f is not None:   # exact, and only where an arrow is drawn (a loss may run point by point)
                GX, GY = np.full(Z.shape, np.nan), np.full(Z.shape, np.nan)
                GX[sl], GY[sl] = grid_gradient(grid.f, grid.xs[sl[1]], grid.ys[sl[0]], vectorized=grid.vectorized)
            else:
                GY, GX = np.gradient(Z, grid.ys, grid.xs)
        else:
            GX, GY = (np.asarray(g, dtype=float) for g in gradient)
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
            pz = _evaluate(grid.f, P[:, 0][:, None, None], P[:, 1][:, None, None], grid.vectorized,
                           "surface_and_contour")[0][:, 0]
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
