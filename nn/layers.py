"""Layers: Affine (W·x + b), Dense (σ(W·x + b)), Chain (layers applied left to right), and composition.

A layer is a callable object holding tracked parameters, so ``params(model)`` and both forms of
``gradient`` see its weights. Any callable is a layer in a Chain: a lambda, ``softmax``, another Chain.
A batch is a matrix whose columns are samples: ``W`` has shape ``(out, in)`` and maps ``(in, n)`` to ``(out, n)``.
"""
from __future__ import annotations

import numpy as np

from ._backend import is_tracked, live, param, value
from .activations import identity
from .functor import functor, trainables_quiet

#: the generator behind the default initialisers; ``seed(n)`` makes new layers reproducible
rng = np.random.default_rng()


def seed(n):
    """Reset the generator that initialises new layers' weights, so a script draws the same model every run."""
    global rng
    rng = np.random.default_rng(n)


# ---- initialisers: called with the weight's shape (out, in) ---------------------------------------------------
def glorot_uniform(shape):
    """Uniform on [-s, s] with s = √(6 / (fan_in + fan_out)): keeps the activations' variance layer to layer."""
    fan_out, fan_in = (shape[0], shape[1]) if len(shape) >= 2 else (shape[0], shape[0])
    s = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-s, s, size=shape)


def glorot_normal(shape):
    """Normal with standard deviation √(2 / (fan_in + fan_out))."""
    fan_out, fan_in = (shape[0], shape[1]) if len(shape) >= 2 else (shape[0], shape[0])
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def randn(shape):
    """Standard normal entries (the sources' ``randn(out, in)``)."""
    return rng.standard_normal(shape)


def _call_init(init, shape):
    # init is called with the shape tuple (np.ones, np.zeros, the initialisers above); Julia-style initialisers
    # that take the sizes one by one (np.random.randn, np.random.rand) are accepted too
    try:
        W = init(shape)
    except TypeError:
        W = init(*shape)
    W = np.asarray(value(W), dtype=float)
    if W.shape != shape:
        raise ValueError(f"init returned an array of shape {W.shape}, expected {shape}")
    return W


# ---- shape errors that know where they happened ----------------------------------------------------------------
class ShapeError(ValueError):
    """A layer got an input of the wrong size. ``path`` is the layer's position: chain[i][j]..."""

    def __init__(self, detail, path=()):
        self.detail, self.path = detail, tuple(path)
        where = "chain" + "".join(f"[{i}]" for i in self.path) + ": " if self.path else ""
        super().__init__(where + detail)

    def at(self, i):
        """The same error, one Chain further out, at position i."""
        return ShapeError(self.detail, (i,) + self.path)


def _sizes(io):
    """(in, out) from ``in, out`` or ``(in, out)`` (Flux writes in => out)."""
    if len(io) == 1 and isinstance(io[0], (tuple, list)):
        io = tuple(io[0])
    if len(io) != 2 or not all(isinstance(n, (int, np.integer)) and n > 0 for n in io):
        raise TypeError(f"expected the sizes as (in, out) -- two positive integers -- got {io!r}")
    return int(io[0]), int(io[1])


def _is_array(x):
    return isinstance(x, np.ndarray) or is_tracked(x)


def _as_param(x):
    return x if is_tracked(x) else param(x)


def _make_bias(bias, out):
    if bias is True:
        return param(np.zeros(out))
    if bias is False or bias is None:
        return False  # no bias, as Flux's bias=false
    b = _as_param(bias)
    if np.shape(value(b)) != (out,):
        raise ValueError(f"bias must have shape ({out},), got {np.shape(value(b))}")
    return b


# ---- layers ---------------------------------------------------------------------------------------------------
@functor
class Affine:
    """Affine(in, out): x ↦ W·x + b, with W of shape (out, in) and b of shape (out,).

    ``Affine((in, out), bias=False, init=np.ones)`` chooses the initialiser of W (called with the shape
    ``(out, in)``; the bias starts at zero) or drops the bias; ``Affine(W, b)`` wraps given arrays.
    """

    def __init__(self, *io, bias=True, init=randn):
        if io and _is_array(io[0]):
            W = _as_param(io[0])
            b = io[1] if len(io) > 1 else bias
            self.W, self.b = W, _make_bias(b, np.shape(value(W))[0])
            return
        n_in, n_out = _sizes(io)
        self.W = param(_call_init(init, (n_out, n_in)))
        self.b = _make_bias(bias, n_out)

    @property
    def sizes(self):
        """(in, out)."""
        out, n_in = np.shape(value(self.W))
        return n_in, out

    def check(self, x):
        n_in = self.sizes[0]
        want = f"(it expects {n_in} numbers: shape ({n_in},) or ({n_in}, batch))"
        data = value(x)
        if data is None or isinstance(data, (str, bytes)):
            raise ShapeError(f"{self!r} got {type(data).__name__} {data!r} {want}")
        on_gpu, w_on_gpu = getattr(data, "_is_device", False), getattr(value(self.W), "_is_device", False)
        if on_gpu != w_on_gpu:
            raise ShapeError(f"{self!r} has its weights on the {'GPU' if w_on_gpu else 'CPU'} but got an input on "
                             f"the {'GPU' if on_gpu else 'CPU'}: move both to one place, "
                             f"{'nn.gpu(x)' if w_on_gpu else 'nn.cpu(x) (or the model with nn.gpu(model))'}")
        try:
            kind = data.dtype.kind if on_gpu else np.asarray(data).dtype.kind
        except ValueError:  # a ragged list
            raise ShapeError(f"{self!r} got a ragged list (rows of different lengths) {want}") from None
        if kind not in "biuf":
            raise ShapeError(f"{self!r} got non-numeric input (dtype {np.asarray(data).dtype}) {want}")
        shape = np.shape(data)
        if len(shape) > 2:
            # W @ x would treat x as a stack of matrices: a wrong product, or an error about other sizes
            raise ShapeError(f"{self!r} got a {len(shape)}-D input of shape {shape} {want}; flatten it into "
                             f"columns first, e.g. x.reshape({n_in}, -1) if its first axis holds the {n_in} "
                             "features")
        if len(shape) == 0 or shape[0] != n_in:
            got = "a scalar" if len(shape) == 0 else f"input with {shape[0]} rows"
            raise ShapeError(f"{self!r} got {got} {want}")

    def affine(self, x):
        """W·x + b, reading the arrays through ``live`` (forward-mode training swaps in dual numbers there)."""
        self.check(x)
        y = live(self.W) @ x
        if self.b is not False:
            b = live(self.b)
            # b is one number per output row: broadcast it along the columns of a batch
            y = y + (b if np.ndim(value(y)) == 1 else b[:, None])
        return y

    __call__ = affine

    def _args(self):
        n_in, out = self.sizes
        return f"{n_in} => {out}" + ("; bias=False" if self.b is False else "")

    def __repr__(self):
        return f"{type(self).__name__}({self._args()})"


@functor
class Dense(Affine):
    """Dense(in, out, σ): x ↦ σ.(W·x + b). Default init Glorot-uniform; also ``Dense((in, out), σ)``."""

    def __init__(self, *args, bias=True, init=glorot_uniform):
        args = list(args)
        activation = identity
        if args and callable(args[-1]) and not _is_array(args[-1]):
            activation = args.pop()
        super().__init__(*args, bias=bias, init=init)
        self.activation = activation

    def __call__(self, x):
        return self.activation(self.affine(x))

    def _args(self):
        n_in, out = self.sizes
        s = f"{n_in} => {out}"
        if self.activation is not identity:
            s += f", {getattr(self.activation, '__name__', repr(self.activation))}"
        return s + ("; bias=False" if self.b is False else "")


def _name(f):
    if isinstance(f, (Affine, Chain)):
        return repr(f)
    return getattr(f, "__name__", None) or repr(f)


def _count(layer):
    """(number of trainable arrays, number of parameters) in a layer."""
    ps = trainables_quiet(layer)
    return len(ps), int(sum(np.size(value(p)) for p in ps))


def _group(n):
    return f"{n:_}"


@functor
class Chain:
    """Chain(f, g, h)(x) = h(g(f(x))): layers applied left to right. Any callable can be a layer.

    ``len``, indexing and iteration see the layers; a slice is again a Chain. A shape error inside names
    the failing layer's position as ``chain[i]`` (0-based, ``chain[i][j]`` inside a nested Chain).
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, f in enumerate(layers):
            if not callable(f):
                raise TypeError(f"Chain: layer {i} is {type(f).__name__} {f!r}, which is not callable")
        self.layers = tuple(layers)

    def __call__(self, x):
        for i, f in enumerate(self.layers):
            try:
                x = f(x)
            except ShapeError as e:
                raise e.at(i) from None
            except ValueError as e:
                # a layer nn does not know (a lambda, numpy itself): still say where it happened
                raise ShapeError(f"{_name(f)} raised ValueError: {e}").at(i) from e
        return x

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Chain(*self.layers[i])
        return self.layers[i]

    def __repr__(self):
        narrays, nparams = _count(self)
        if nparams == 0:
            return "Chain(" + ", ".join(_name(f) for f in self.layers) + ")"
        return "\n".join(self._lines("")) + f"  # Total: {narrays} arrays, {_group(nparams)} parameters"

    def _lines(self, indent):
        lines = [indent + "Chain("]
        for f in self.layers:
            if isinstance(f, Chain) and _count(f)[1]:
                sub = f._lines(indent + "  ")
                sub[-1] += ","
                lines += sub
                continue
            text = indent + "  " + _name(f) + ","
            n = _count(f)[1]
            if n:
                text = text.ljust(40) + f"  # {_group(n)} parameters"
            lines.append(text)
        lines.append(indent + ")")
        return lines


def compose(*fs):
    """compose(f, g)(x) = f(g(x)): mathematical order, the ∘ of the sources. Returns Chain(g, f)."""
    return Chain(*reversed(fs))


__all__ = ["Affine", "Dense", "Chain", "compose", "ShapeError", "glorot_uniform", "glorot_normal", "randn",
           "seed"]
