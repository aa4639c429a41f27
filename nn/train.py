"""Training: for each batch (x, y), the gradient of loss(x, y) with respect to the parameters, then a step.

    for d in data:                       # Flux's train!, as in the sources
        gs = gradient(lambda: loss(*d), ps)
        update(opt, ps, gs)
        cb()

Reverse mode (the tracker) is the default: one backward pass gives every parameter's gradient. With
``mode="forward"`` the same gradients come from dual numbers, seeded a chunk of parameters at a time -- about
n / chunk passes for n parameters, which is why nobody trains networks in forward mode (the lesson).
For each pass, every parameter's dual array stands in for it: nn's layers read their weights through
``live(W)``, which returns the stand-in, and a tracked parameter used directly (a closure, as in the sources)
carries the stand-in as its ``data`` until the pass ends. A plain float array that ``params`` found in a
model's field is replaced in that field for the pass (by its dual array, or in reverse mode a tracked copy),
so both modes see the same parameters; one nn cannot reach is refused rather than left without a gradient.

Before any step, train refuses what it could not do as asked (no parameters, data in a form it would misread,
more epochs than the data can give); during training, a non-finite loss or gradient stops it before the update.
"""
from __future__ import annotations

import math
import time

import numpy as np

import dualnum

from . import _backend
from ._backend import STAND_INS, READ, is_float_array, is_tracked, value
from .data import InputError, _is_array
from .functor import params
from dualnum.tracker import Grads, Params
from .optimisers import update


class StopTraining(Exception):
    """Raised by ``stop()`` inside a callback: ``train`` ends quietly and returns the losses so far."""


def stop():
    """Call from a callback to end training after the current batch (Flux's ``Flux.stop()``)."""
    raise StopTraining()


class NonFiniteLoss(FloatingPointError, ValueError):
    """The loss, or a gradient, was NaN or infinite: training stops before that batch's update is applied."""


def throttle(f, seconds):
    """A version of f that runs at most once every ``seconds`` (the first call runs at once); for callbacks."""
    last = [-math.inf]

    def throttled(*args, **kwargs):
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            return f(*args, **kwargs)
    throttled.__name__ = f"throttle({getattr(f, '__name__', 'f')}, {seconds})"
    return throttled


def runall(cb):
    """One function that calls every callback in turn (cb: None, a function, or a list of functions)."""
    if cb is None:
        return lambda: None
    if callable(cb):
        return cb
    cbs = list(cb)

    def run():
        for f in cbs:
            f()
    return run


class ForwardGrads:
    """Gradients from forward mode, looked up by parameter identity like the tracker's Grads: ``gs[W]``."""

    def __init__(self, pairs):
        self._g = {id(p): (p, g) for p, g in pairs}

    def __iter__(self):
        return (p for p, _ in self._g.values())

    def __len__(self):
        return len(self._g)

    def __getitem__(self, p):
        hit = self._g.get(id(p))
        return hit[1] if hit is not None and hit[0] is p else None

    def __contains__(self, p):
        return self[p] is not None

    def __repr__(self):
        return f"ForwardGrads({len(self._g)} parameters)"


class _StandIns:
    """While active, each parameter's stand-in takes its place wherever the loss may read it.

    Three places: ``live(W)`` (nn's layers read their arrays through it), the ``data`` of a tracked parameter
    (forward mode only: code that uses the parameter directly, a closure as in the Flux manual, computes on the
    duals inside it), and the model fields where ``params`` found a plain float array (an array cannot hold
    duals or record operations, so the field itself holds the stand-in for the moment)."""

    def __init__(self, ps, subs, into_tracked):
        self.ps, self.subs, self.into_tracked = ps, subs, into_tracked
        self.saved, self.moved = [], []

    def __enter__(self):
        STAND_INS.update(self.subs)
        try:
            if self.into_tracked:
                for p in self.ps:
                    if is_tracked(p):
                        self.saved.append((p, p.data))
                        p.data = self.subs[id(p)]
            for owner, key in getattr(self.ps, "slots", ()):
                old = _get(owner, key)
                new = _replace(old, self.subs)
                if new is not old:
                    _set(owner, key, new)
                    self.moved.append((owner, key, old))
        except BaseException:
            self.__exit__()  # put back what was already moved: the model is never left holding stand-ins
            raise
        return self

    def __exit__(self, *exc):
        STAND_INS.clear()
        for p, data in self.saved:
            p.data = data
        for owner, key, old in reversed(self.moved):
            _set(owner, key, old)


def _get(owner, key):
    return owner[key] if isinstance(owner, (list, dict)) else getattr(owner, key)


def _set(owner, key, v):
    if isinstance(owner, (list, dict)):
        owner[key] = v
    else:
        object.__setattr__(owner, key, v)  # works on frozen dataclasses too


def _replace(v, subs):
    """v with its plain float arrays replaced by their stand-ins (through tuples, which cannot be changed)."""
    if is_float_array(v):
        return subs.get(id(v), v)
    if isinstance(v, tuple):
        new = [_replace(e, subs) for e in v]
        if any(a is not b for a, b in zip(new, v)):
            return type(v)(*new) if hasattr(v, "_fields") else type(v)(new)
    return v


def _check_seen(ps, read):
    """A plain array that nn could put no stand-in for would get no gradient, silently: refuse it instead."""
    located = getattr(ps, "located", ())
    for i, p in enumerate(ps):
        if not is_tracked(p) and id(p) not in located and id(p) not in read:
            raise TypeError(
                f"train: parameter {i} (counted from 0), a plain float array of shape {np.shape(p)}, was not found "
                "inside a model by nn.params, and no layer read it through nn.live, so nothing differentiable "
                "can take its place where the loss reads it: its gradient would be missing. Make it a tracked "
                "parameter (W = nn.param(W)), or keep it in a field of a model (a dataclass or a class marked "
                "with nn.functor) and pass nn.params(model).")


def _reverse(loss, ps, d):
    out = []
    plain = [p for p in ps if not is_tracked(p)]
    subs = {id(p): _backend.tracker.param(p) for p in plain}  # tracked copies of the plain arrays

    def fn():
        if subs:
            with _StandIns(ps, subs, into_tracked=False):
                out.append(loss(*d))
        else:  # the usual case: every parameter is tracked already
            out.append(loss(*d))
        return out[-1]
    READ.clear()
    try:
        gs = _backend.tracker.gradient(fn, ps if not subs else Params([subs.get(id(p), p) for p in ps]))
    except FloatingPointError:
        if out and not np.all(np.isfinite(value(out[-1]))):
            return _float(out[-1]), None  # a tracker that refuses a non-finite loss; train names the batch
        raise
    if subs:
        _check_seen(ps, READ)
        found = {id(p): gs[subs.get(id(p), p)] for p in ps}
        gs = Grads(ps, {k: g for k, g in found.items() if g is not None})
    READ.clear()
    return _float(out[-1]), gs


def _forward(loss, ps, d, chunk=None):
    xs = [np.asarray(value(p), dtype=float) for p in ps]
    out = []
    READ.clear()

    def f(*duals):
        with _StandIns(ps, {id(p): s for p, s in zip(ps, duals)}, into_tracked=True):
            y = loss(*d)
        while is_tracked(y):  # the tracker recorded operations on dual data: the duals are inside
            y = y.data
        out.append(y)
        return y
    gs = dualnum.gradient(f, *xs, chunk=chunk) if xs else ()
    read = set(READ)
    READ.clear()
    _check_seen(ps, read)
    # None for a parameter the loss did not use, as reverse mode says: one that no layer read and whose
    # gradient is exactly zero (forward mode cannot tell "unused" from "zero" for arrays read elsewhere)
    pairs = [(p, None if id(p) not in read and not np.any(g) else np.asarray(g, dtype=float))
             for p, g in zip(ps, gs)]
    return _float(out[-1] if out else loss(*d)), ForwardGrads(pairs)


def _float(l):
    l = value(l)
    try:
        return float(l)
    except TypeError:
        raise TypeError(f"the loss must be a number, got {type(l).__name__} of shape {np.shape(l)}") from None


def loss_and_gradient(loss, ps, d, mode="reverse"):
    """(loss(*d) as a float, gradients of it with respect to every parameter in ps)."""
    if not isinstance(ps, Params):
        ps = params(ps)
    if mode == "reverse":
        return _reverse(loss, ps, d)
    if mode == "forward":
        return _forward(loss, ps, d)
    raise ValueError(f"mode must be 'reverse' (the tracker) or 'forward' (dual numbers), got {mode!r}")


def _check_finite(ps, gs, i, epoch):
    """A finite loss can still have an infinite or NaN gradient (√x at 0): one step would poison the parameter."""
    for k, p in enumerate(ps):
        g = gs[p]
        if g is not None and not np.all(np.isfinite(value(g))):
            raise NonFiniteLoss(f"the gradient of parameter {k} (shape {np.shape(value(p))}) is not finite (NaN or "
                                f"inf) on batch {i} of epoch {epoch} (all counted from 0), though the loss is; "
                                "training stopped before updating with it. A function with an infinite slope "
                                "(√x or log x at 0, |x|^p with p < 1) in the loss is the usual cause.")


def _check_data(data):
    """Refuse, before any step, data that train would iterate over in a way nobody means."""
    if _is_array(data):
        raise InputError(f"train: data is one array of shape {np.shape(data)}; train iterates over data, which would "
                         "give its rows one by one as batches. Pass [x] (one batch), [(x, y)], or "
                         "nn.DataLoader((x, y), batchsize=...) for mini-batches.")
    if isinstance(data, tuple) and data and all(_is_array(d) for d in data):
        raise InputError(f"train: data is a tuple of {len(data)} arrays, one batch (x, y) not wrapped in a list: "
                         "iterating over it would give x, then y, as batches. Pass [(x, y)] for one batch, or "
                         "nn.DataLoader((x, y), batchsize=...) for mini-batches.")
    try:
        iter(data)
    except TypeError:
        raise InputError(f"train: data must be an iterable of batches (a list of (x, y) tuples, a DataLoader), "
                         f"got {type(data).__name__}") from None


def _batch(d, i):
    """The arguments of loss for batch d: a tuple is spread, loss(*d); anything else is one argument."""
    if isinstance(d, tuple):
        return d
    if isinstance(d, list):
        raise InputError(f"train: batch {i} of data is a list of {len(d)} items; train calls loss(*batch) only for "
                         "a tuple (loss(batch) otherwise), so write each batch as a tuple: data = [(x, y), ...]")
    return (d,)


def _check_epochs(epochs, data):
    """Refuse, before any step, an epoch count that train could not honour."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"train: epochs must be a whole number ≥ 0 (passes over data), got {epochs!r}")
    if epochs > 1 and iter(data) is data:
        # an iterator (a generator, zip, map, a file) is spent after one pass: later epochs would be empty
        raise ValueError(f"train: epochs={epochs}, but data is a {type(data).__name__}, which can be iterated only "
                         f"once, so only the first epoch would run. Pass a list (data = list(data)) or an "
                         f"nn.DataLoader, which restart every epoch.")


def train(loss, ps, data, opt, *, cb=None, epochs=1, mode="reverse", progress=False):
    """Fit the parameters ps: for each (x, y) in data, a step of opt down the gradient of loss(x, y).

    ``cb`` (a function or a list of functions, called with no arguments after every step) may call
    ``stop()`` to end early; ``throttle`` limits how often it runs. ``progress=True`` prints the mean loss
    after each epoch. A NaN or infinite loss raises ``NonFiniteLoss`` naming the batch, before that batch
    changes anything. Returns the list of losses, one per batch, computed before each step.
    """
    if not isinstance(ps, Params):
        ps = params(ps)  # a model, a list of arrays...: collect its parameters
    if not len(ps):
        raise ValueError(
            "train: there are no parameters to train: ps holds no trainable arrays, so every step would change "
            "nothing. nn's layers hold theirs as tracked params; a class of your own is looked inside only once "
            "it is marked with @nn.functor (or is a dataclass). Pass nn.params(model) or the model itself.")
    _check_data(data)
    _check_epochs(epochs, data)
    cb = runall(cb)
    losses = []
    try:
        for epoch in range(epochs):
            start = len(losses)
            for i, d in enumerate(data):
                d = _batch(d, i)
                l, gs = loss_and_gradient(loss, ps, d, mode)
                if not math.isfinite(l):
                    raise NonFiniteLoss(f"the loss is {l} on batch {i} of epoch {epoch} (both counted from 0); "
                                        "training stopped before updating with it. A learning rate too large, "
                                        "or a log/division of 0 in the loss, are the usual causes.")
                if not losses and all(gs[p] is None for p in ps):
                    raise ValueError(
                        f"train: the loss does not depend on any of the {len(ps)} parameters in ps (no gradient "
                        "reached them on the first batch), so training would change nothing. Does the loss use the "
                        "model whose parameters were collected, and are its arrays the tracked params themselves?")
                _check_finite(ps, gs, i, epoch)
                losses.append(l)
                update(opt, ps, gs)
                cb()
            if epoch and len(losses) == start and start:
                # an iterable that only pretends to restart (its __iter__ hands back a spent iterator)
                raise ValueError(f"train: data gave no batches in epoch {epoch} (counted from 0) after {start} in "
                                 f"the earlier epochs: it can be iterated only once. Pass a list "
                                 "(list(data)) or a DataLoader to train for several epochs.")
            if progress:
                print(f"epoch {epoch + 1}/{epochs}: mean loss {np.mean(losses[start:]):.4g}", flush=True)
    except StopTraining:
        pass
    return losses


__all__ = ["train", "stop", "throttle", "runall", "StopTraining", "NonFiniteLoss", "loss_and_gradient",
           "ForwardGrads"]
