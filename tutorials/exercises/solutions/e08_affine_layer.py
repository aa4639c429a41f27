"""Exercise 08 -- an Affine layer of your own (follows tutorial 1, "How Flux works": a class that is a layer, and
``functor``; and tutorial 3, "A modern ML library": a batch is a matrix of columns, ``params`` and ``Grads``).

An affine layer maps n_in numbers to n_out numbers:

    y = W x + b,        W of shape (n_out, n_in),  b of shape (n_out,)

A batch is a matrix whose *columns* are samples, x of shape (n_in, batch), as in Flux; then y has shape
(n_out, batch) and b is added to every column (``b[:, None]`` turns b into one column that numpy broadcasts).
A single sample is a 1-D x of shape (n_in,), and then y has shape (n_out,).

W and b are the layer's parameters: make them with ``dualnum.tracker.param``, so that the tracker records what is
computed from them. W starts random with variance 1/n_in (so W x keeps the size of x): draw it with the ``rng``
you are given, ``rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)`` exactly; b starts at zero.

nn only looks inside classes it knows: until ``Affine`` is marked with ``nn.functor`` (Flux's ``@functor``),
``nn.params(layer)`` finds nothing (and warns), so ``nn.train`` could not train it. With the mark, ``nn.params``
collects W and b, and ``tracker.gradient(loss, nn.params(layer))`` gives their gradients. For the loss
L = Σ (W X + b - Y)² over a batch X:

    ∂L/∂W = 2 R Xᵀ,   ∂L/∂b = 2 Σ over the columns of R,   R = W X + b - Y

Write:
1. the line after the class that marks ``Affine`` for nn (it runs when the file is imported, so do it first);
2. ``Affine.__init__(n_in, n_out, rng)``: the two parameters ``self.W`` and ``self.b`` as above;
3. ``Affine.__call__(x)``: W x + b for one sample or a batch of columns; a number of rows other than n_in
   raises ``ValueError`` naming both sizes (nn's layers do the same).

Try it: ``layer = Affine(3, 2, np.random.default_rng(0)); layer(np.ones((3, 5))); nn.params(layer)``.
Grade it with ``python -m tutorials.exercises check 8``.
"""
import numpy as np

import nn
from dualnum import tracker


class Affine:
    """x ↦ W x + b, W of shape (n_out, n_in), b of shape (n_out,); x one column (n_in,) or a batch (n_in, batch)."""

    def __init__(self, n_in, n_out, rng):
        # BEGIN SOLUTION: W of shape (n_out, n_in) drawn from rng with variance 1/n_in, b zero; both tracked
        self.W = tracker.param(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in))
        self.b = tracker.param(np.zeros(n_out))
        # END SOLUTION

    def __call__(self, x):
        # BEGIN SOLUTION: refuse a wrong number of rows, then W x + b with b added to every column
        n_out, n_in = np.shape(tracker.value(self.W))
        shape = np.shape(tracker.value(x))
        if len(shape) == 0 or shape[0] != n_in:
            raise ValueError(f"Affine({n_in} => {n_out}) expects {n_in} rows, got input of shape {shape}")
        y = self.W @ x
        return y + (self.b if len(shape) == 1 else self.b[:, None])
        # END SOLUTION


# BEGIN SOLUTION: mark Affine so that nn.params, nn.fmap and nn.train look inside it
nn.functor(Affine)
# END SOLUTION
