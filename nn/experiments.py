"""The digits experiment: a small MLP learns the UCI 8×8 handwritten digits (a real data set).

    Chain(Dense(64, 32, relu), Dense(32, 10)) + logitcrossentropy + Adam, mini-batches of 64 columns, 40 epochs.

Used by the tests (accuracy) and by ``benchmarks/b6_digits.py`` (time). Needs ``pip install -e ".[digits]"``.
"""
from __future__ import annotations

import time

from .data import DataLoader, accuracy, digits, onehot
from .layers import Chain, Dense, seed as seed_layers
from .activations import relu
from .losses import logitcrossentropy
from .optimisers import Adam
from .functor import params
from .train import train


def digits_experiment(epochs=40, batchsize=64, eta=0.005, seed=0, mode="reverse", progress=False):
    """Train on 75 % of the digits, test on the held-out 25 %.

    Returns a dict: ``accuracy`` (held-out), ``train_accuracy``, ``seconds`` (training only, not loading),
    ``losses`` (one per batch) and ``model``."""
    xtr, ytr, xte, yte = digits(seed=seed)
    seed_layers(seed)
    model = Chain(Dense(64, 32, relu), Dense(32, 10))
    loss = lambda x, y: logitcrossentropy(model(x), y)  # noqa: E731
    data = DataLoader((xtr, onehot(ytr, 10)), batchsize=batchsize, shuffle=True, seed=seed)
    t0 = time.perf_counter()
    losses = train(loss, params(model), data, Adam(eta), epochs=epochs, mode=mode, progress=progress)
    seconds = time.perf_counter() - t0
    from ._backend import value
    return {"accuracy": accuracy(value(model(xte)), yte), "train_accuracy": accuracy(value(model(xtr)), ytr),
            "seconds": seconds, "losses": losses, "model": model, "epochs": epochs}


__all__ = ["digits_experiment"]
