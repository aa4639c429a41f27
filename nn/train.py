"""Training: for each batch (x, y), the gradient of loss(x, y) with respect to the parameters, then a step.

    for d in data:                       # Flux's train!, as in the seeds
        gs = gradient(lambda: loss(*d), ps)
        update(opt, ps, gs)
        cb()

Reverse mode (the tracker) is the default: one backward pass gives every parameter's gradient. With
``mode="forward"`` the same gradients come from dual numbers, seeded a chunk of parameters at a time -- about
n / chunk passes for n parameters, which is why nobody trains networks in forward mode (the lesson).
For each pass, every parameter's dual array stands in for it: nn's layers read their weights through
``live(W)``, which returns the stand-in, and a tracked parameter used directly (a closure, as in the seeds)
carries the stand-in as its ``data`` until the pass ends.
"""
from __future__ import annotations

import math
import time

import numpy as np

import dualnum

from . import _backend
from ._backend import STAND_INS, READ, is_tracked, value
from .functor import params
from .optimisers import update


class StopTraining(Exception):
    """Raised by ``stop()`` inside a callback: ``train`` ends quietly and returns the losses so far."""


def stop():
    """Call from a callback to end training after the current batch (Flux's ``Flux.stop()``)."""
    raise StopTraining()


class NonFiniteLoss(FloatingPointError, ValueError):
    """The loss was NaN or infinite: training stops before that batch's update is applied."""


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


def _reverse(loss, ps, d):
    out = []

    def fn():
        out.append(loss(*d))
        return out[-1]
    try:
        gs = _backend.tracker.gradient(fn, ps)
    except FloatingPointError:
        if out and not np.all(np.isfinite(value(out[-1]))):
            return _float(out[-1]), None  # the tracker refuses a NaN loss; train names the batch
        raise
    return _float(out[-1]), gs


def _forward(loss, ps, d, chunk=None):
    ps = list(ps)
    xs = [np.asarray(value(p), dtype=float) for p in ps]
    out = []
    READ.clear()

    def f(*duals):
        # each parameter's dual array stands in for it: layers read it through `live`, and code that uses a
        # tracked parameter directly (a closure, as in the seeds) finds it inside the parameter's `data`
        saved = [(p, p.data) for p in ps if is_tracked(p)]
        STAND_INS.update((id(p), s) for p, s in zip(ps, duals))
        for p, s in zip(ps, duals):
            if is_tracked(p):
                p.data = s
        try:
            y = loss(*d)
        finally:
            STAND_INS.clear()
            for p, data in saved:
                p.data = data
        while is_tracked(y):  # the tracker recorded operations on dual data: the duals are inside
            y = y.data
        out.append(y)
        return y
    gs = dualnum.gradient(f, *xs, chunk=chunk) if xs else ()
    read = set(READ)
    READ.clear()
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
    if mode == "reverse":
        return _reverse(loss, ps, d)
    if mode == "forward":
        return _forward(loss, ps, d)
    raise ValueError(f"mode must be 'reverse' (the tracker) or 'forward' (dual numbers), got {mode!r}")


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
    if type(ps).__name__ != "Params":
        ps = params(ps)  # a model, a list of arrays...: collect its parameters
    _check_epochs(epochs, data)
    cb = runall(cb)
    losses = []
    try:
        for epoch in range(epochs):
            start = len(losses)
            for i, d in enumerate(data):
                d = d if isinstance(d, tuple) else (d,)
                l, gs = loss_and_gradient(loss, ps, d, mode)
                if not math.isfinite(l):
                    raise NonFiniteLoss(f"the loss is {l} on batch {i} of epoch {epoch} (both counted from 0); "
                                        "training stopped before updating with it. A learning rate too large, "
                                        "or a log/division of 0 in the loss, are the usual causes.")
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
