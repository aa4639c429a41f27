"""Exercise 09 -- loss functions that never overflow (follows tutorial 3, "A modern ML library": the loss, then its
gradient, then training; a batch is a matrix whose columns are samples).

A classifier outputs *logits* z, one row per class and one column per sample, and the cross-entropy against
one-hot (or probability) columns y is, for each column,

    -Σ_c y_c · log softmax(z)_c  =  logsumexp(z) - Σ_c y_c z_c,        logsumexp(z) = log Σ_c exp(z_c)

Written as it stands, logsumexp overflows: exp(1000) is inf in floating point, and then so is the loss and its
gradient. The log-sum-exp trick takes out the largest entry m of each column first,

    logsumexp(z) = m + log Σ_c exp(z_c - m),      m = max_c z_c

which is the same number (exp(z_c - m) = exp(z_c) / exp(m)) but every exp(z_c - m) lies in (0, 1], and one of them
is 1, so nothing overflows and the log never sees 0. Its gradient is softmax(z), whatever m is (m cancels).

The same trick gives the binary cross-entropy from one logit z per sample and labels y in [0, 1]:
log(1 + e^z) = logsumexp([0, z]), so   bce(z, y) = mean(logsumexp([0, z]) - y·z),   ∂/∂z = (σ(z) - y)/N.

The Huber loss of residuals r = ŷ - y is quadratic near 0 and linear beyond δ, so one outlier cannot dominate:

    huber(r) = ½ r²             where |r| ≤ δ
             = δ (|r| - ½ δ)     where |r| > δ          (both give ½δ² at |r| = δ: one smooth curve)
    ∂/∂ŷ mean(huber) = clip(r, -δ, δ) / N

Each loss is a mean, as nn's losses are: over the columns (the batch) for the cross-entropy, over every element
for the other two. Each takes ŷ and y of the SAME shape and raises ``ValueError`` naming both shapes otherwise
(numpy would broadcast (3,) against (3, 1) into a (3, 3) loss without a word). And each must run in both modes
of dualnum (the checker takes ``dualnum.gradient`` and ``dualnum.tracker.gradient`` of it): use numpy functions
only, and read a shape with ``np.shape(dualnum.value(z))``.

Write:
0. ``_same_shape(who, yhat, y)``: the ValueError above, naming the loss and both shapes (every loss calls it);
1. ``logsumexp(z)``: log Σ exp down each column (axis 0): shape (batch,) for z of shape (classes, batch), a number
   for a 1-D z; with the trick above;
2. ``logitcrossentropy(z, y)``: the mean over the columns of logsumexp(z) - Σ_c y_c z_c;
3. ``logitbinarycrossentropy(z, y)``: mean(logsumexp([0, z]) - y·z), stacking a zero row onto z with
   ``np.stack([np.zeros(shape), z])``;
4. ``huber(yhat, y, delta=1.0)``: the mean Huber loss (``np.minimum(np.abs(r), delta)`` is |r| clipped at δ).

Grade it with ``python -m tutorials.exercises check 9``.
"""
import numpy as np

import dualnum


def _same_shape(who, yhat, y):
    """Refuse ŷ and y of different shapes, naming both (a broadcast loss would be silently wrong)."""
    # BEGIN SOLUTION: compare the shapes of the values inside, and name both in the error
    s, t = np.shape(dualnum.value(yhat)), np.shape(dualnum.value(y))
    if s != t:
        raise ValueError(f"{who}: ŷ has shape {s} but y has shape {t}; they must be the same")
    # END SOLUTION


def logsumexp(z):
    """log Σ_c exp(z_c) down each column, computed as m + log Σ exp(z - m) with m the column's largest entry."""
    # BEGIN SOLUTION: take out each column's maximum, keeping its axis so it broadcasts against z
    m = np.max(z, axis=0, keepdims=True)
    return m[0] + np.log(np.sum(np.exp(z - m), axis=0))
    # END SOLUTION


def logitcrossentropy(z, y):
    """mean over the columns of logsumexp(z) - Σ_c y_c z_c, for logits z and target columns y of z's shape."""
    _same_shape("logitcrossentropy", z, y)
    # BEGIN SOLUTION: per column logsumexp(z) - Σ y z, then the mean over the batch
    return np.mean(logsumexp(z) - np.sum(y * z, axis=0))
    # END SOLUTION


def logitbinarycrossentropy(z, y):
    """mean(log(1 + e^z) - y·z), with log(1 + e^z) = logsumexp([0, z]) stable for every z."""
    _same_shape("logitbinarycrossentropy", z, y)
    # BEGIN SOLUTION: a row of zeros stacked on z, its logsumexp, minus y·z, averaged
    zeros = np.zeros(np.shape(dualnum.value(z)))  # no-mutate: y has z's shape (checked above): either gives it
    return np.mean(logsumexp(np.stack([zeros, z])) - y * z)
    # END SOLUTION


def huber(yhat, y, delta=1.0):
    """mean of ½r² where |r| ≤ δ and δ(|r| - ½δ) beyond, r = ŷ - y."""
    _same_shape("huber", yhat, y)
    # BEGIN SOLUTION: ½r² inside δ, δ(|r| - ½δ) beyond, without squaring a residual outside δ
    r = yhat - y  # no-mutate: the loss is even in r, so y - ŷ gives the same numbers (an equivalent mutant)
    # a = |r| clipped at δ: a·(|r| - ½a) is ½r² inside and δ(|r| - ½δ) outside
    a = np.minimum(np.abs(r), delta)
    return np.mean(a * (np.abs(r) - 0.5 * a))
    # END SOLUTION
