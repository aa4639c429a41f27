"""nn: layers, losses, optimisers and training on top of dualnum (see ../shared/SPEC.md, "Package nn").

    >>> import numpy as np, nn
    >>> model = nn.Chain(nn.Dense(64, 32, nn.relu), nn.Dense(32, 10))
    >>> loss = lambda x, y: nn.logitcrossentropy(model(x), y)
    >>> losses = nn.train(loss, nn.params(model), nn.DataLoader((x, y), batchsize=32), nn.Adam(0.01))

One idea per module: ``layers`` (Affine, Dense, Chain), ``activations``, ``losses``, ``functor`` (params,
fmap), ``optimisers``, ``train``, ``data``. Gradients come from ``dualnum.tracker`` (reverse mode) or, for
the comparison, from dual numbers (``train(..., mode="forward")``).
"""
from .activations import identity, leakyrelu, logsoftmax, relu, sigmoid, softmax, tanh, σ
from .data import DataLoader, InputError, accuracy, digits, onecold, onehot
from .functor import children, fmap, functor, params, trainables
from .landscape import (Grid, filter_normalize, grid_gradient, loss_grid, model_grid, random_directions,
                        slice_2d, surface_and_contour)
from .layers import Affine, Chain, Dense, ShapeError, compose, glorot_normal, glorot_uniform, randn, seed
from .losses import binarycrossentropy, crossentropy, logitbinarycrossentropy, logitcrossentropy, mse
from .optimisers import Adam, Descent, Momentum, Nesterov, Optimiser, RMSProp, apply, update
from .train import NonFiniteLoss, StopTraining, loss_and_gradient, stop, throttle, train
from ._backend import live, value
from .gpu import cpu, gpu


from dualnum.tracker import Grads, Params, gradient, param  # reverse mode: what layers and train use


__all__ = [
    "Affine", "Dense", "Chain", "compose", "ShapeError", "glorot_uniform", "glorot_normal", "randn", "seed",
    "sigmoid", "σ", "relu", "tanh", "softmax", "logsoftmax", "leakyrelu", "identity",
    "mse", "crossentropy", "logitcrossentropy", "binarycrossentropy", "logitbinarycrossentropy",
    "params", "trainables", "functor", "fmap", "children", "gradient", "param", "Params", "Grads", "value", "live",
    "Descent", "Momentum", "Nesterov", "RMSProp", "Adam", "Optimiser", "apply", "update",
    "train", "stop", "throttle", "StopTraining", "NonFiniteLoss", "loss_and_gradient",
    "DataLoader", "InputError", "onehot", "onecold", "accuracy", "digits",
    "Grid", "loss_grid", "model_grid", "grid_gradient", "filter_normalize", "random_directions", "slice_2d",
    "surface_and_contour", "gpu", "cpu",
]
