"""Checks for exercise 08: an Affine layer marked with nn.functor.

References: the initial W redrawn here from a generator with the same seed; outputs computed with numpy from
weights the checker puts into the layer; gradients of L = Σ (W X + b - Y)² from the closed form 2 R Xᵀ, 2 R 1;
and training on data that a known W, b fit exactly.
"""
import warnings

import numpy as np

import nn
from dualnum import tracker
from tutorials.exercises import grader

NAME = "an Affine layer with functor"
TASK = "write Affine (W x + b, columns are samples) with tracked W and b, marked with nn.functor"
FOLLOWS = "tutorial 1 (how Flux works) and tutorial 3 (a modern ML library)"
TIME_LIMIT = 60


def _value(v):
    return np.asarray(tracker.value(v), dtype=float)


def checks(student):
    rng = np.random.default_rng(8)

    def layer(n_in, n_out, W=None, b=None, seed=0):
        """The student's layer; with W and b given, those values put into its fields as tracked parameters."""
        out = student.Affine(n_in, n_out, np.random.default_rng(seed))
        if W is not None:
            out.W, out.b = tracker.param(W), tracker.param(b)
        return out

    # ---- 1. the parameters ------------------------------------------------------------------------------------
    for n_in, n_out, seed in [(3, 2, 1), (1, 4, 2), (5, 5, 3)]:
        drawn = np.random.default_rng(seed).standard_normal((n_out, n_in)) / np.sqrt(n_in)
        yield grader.true(f"Affine({n_in}, {n_out}): W and b are tracked parameters",
                          lambda n_in=n_in, n_out=n_out, s=seed: all(
                              tracker.istracked(getattr(layer(n_in, n_out, seed=s), f)) for f in ("W", "b")),
                          hint="self.W = tracker.param(...), self.b = tracker.param(...): the tracker records "
                               "only what is computed from tracked values")
        yield grader.close(f"Affine({n_in}, {n_out}, rng): W = rng.standard_normal(({n_out}, {n_in})) / √{n_in}",
                           lambda n_in=n_in, n_out=n_out, s=seed: _value(layer(n_in, n_out, seed=s).W), drawn,
                           hint="W has shape (n_out, n_in) -- one row per output -- drawn with the rng given, "
                                "divided by the square root of n_in")
        yield grader.close(f"Affine({n_in}, {n_out}): b = 0 of shape ({n_out},)",
                           lambda n_in=n_in, n_out=n_out, s=seed: _value(layer(n_in, n_out, seed=s).b),
                           np.zeros(n_out), hint="the bias starts at zero, one number per output: np.zeros(n_out)")

    # ---- 2. the forward pass ----------------------------------------------------------------------------------
    W, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    x, X = rng.standard_normal(3), rng.standard_normal((3, 5))
    yield grader.close("one sample x of shape (3,): W x + b, shape (2,)", lambda: _value(layer(3, 2, W, b)(x)),
                       W @ x + b, hint="for a 1-D x add b as it is: W @ x + b has shape (n_out,)")
    yield grader.close("a batch X of shape (3, 5): W X + b in every column, shape (2, 5)",
                       lambda: _value(layer(3, 2, W, b)(X)), W @ X + b[:, None],
                       hint="a batch is columns: add b to every column with b[:, None] (shape (n_out, 1))")
    yield grader.close("a batch of one column, shape (3, 1) -> (2, 1)", lambda: _value(layer(3, 2, W, b)(X[:, :1])),
                       W @ X[:, :1] + b[:, None], hint="a 2-D input is a batch even with one column")
    W4, b4, X4 = rng.standard_normal((4, 4)), rng.standard_normal(4), rng.standard_normal((4, 4))
    yield grader.close("a square case, 4 inputs, 4 outputs, batch of 4: b goes down the columns",
                       lambda: _value(layer(4, 4, W4, b4)(X4)), W4 @ X4 + b4[:, None],
                       hint="b[:, None] adds b[i] to row i; b[None, :] would add it to column i (the batch "
                            "axis), which numpy accepts silently when the batch size equals n_out")
    yield grader.raises("input of shape (4, 5) into Affine(3, 2): ValueError naming 3 and the shape (4, 5)",
                        lambda: layer(3, 2, W, b)(np.ones((4, 5))), ValueError,
                        match=r"3[\s\S]*\(4, 5\)|\(4, 5\)[\s\S]*3",
                        hint="compare x's number of rows (np.shape(x)[0]) with n_in before multiplying, and raise "
                             "ValueError naming n_in and x's shape (numpy's own matmul error names neither clearly)")
    yield grader.raises("a 1-D x of shape (2,) into Affine(3, 2): ValueError naming 3 and (2,)",
                        lambda: layer(3, 2, W, b)(np.ones(2)), ValueError,
                        match=r"3[\s\S]*\(2,\)|\(2,\)[\s\S]*3", hint="one sample must have n_in numbers")
    yield grader.raises("a scalar into Affine(3, 2): ValueError", lambda: layer(3, 2, W, b)(1.0), ValueError,
                        hint="a number has no rows: refuse it with ValueError too")
    yield grader.close("a batch of 3 columns into Affine(3, 2) (rows, not columns, must match n_in)",
                       lambda: _value(layer(3, 2, W, b)(X[:, :3])), W @ X[:, :3] + b[:, None],
                       hint="compare the number of ROWS of x with n_in")

    # ---- 3. nn.params finds W and b -----------------------------------------------------------------------------
    def params_of(L):
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # nn warns when it cannot look inside a class
            return list(nn.params(L))

    def exactly_w_b():
        L = layer(3, 2, seed=4)
        ps = params_of(L)
        return len(ps) == 2 and ps[0] is L.W and ps[1] is L.b
    yield grader.true("nn.params(layer) collects exactly layer.W and layer.b (in that order), without a warning",
                      exactly_w_b, hint="mark the class after it is defined: nn.functor(Affine); "
                                        "make W before b in __init__",
                      detail=lambda: f"nn.params found {len(params_of(layer(3, 2, seed=4)))} arrays")
    yield grader.equal("nn.params of a Chain of two of your layers: 4 arrays",
                       lambda: len(params_of(nn.Chain(layer(3, 4, seed=5), layer(4, 2, seed=6)))), 4,
                       hint="nn.functor(Affine) lets params look inside every Affine of a Chain")

    # ---- 4. gradients: closed forms -----------------------------------------------------------------------------
    Y = rng.standard_normal((2, 5))
    R = W @ X + b[:, None] - Y
    dW, db = 2 * R @ X.T, 2 * R.sum(axis=1)

    def implicit(which):
        L = layer(3, 2, W, b)
        gs = tracker.gradient(lambda: np.sum((L(X) - Y) ** 2), nn.params(L))
        return gs[L.W] if which == "W" else gs[L.b]
    yield grader.close("tracker.gradient(() -> Σ (layer(X) - Y)², nn.params(layer))[W] = 2 R Xᵀ",
                       lambda: implicit("W"), dW, hint="W must be used as it is (W @ x), not a copy of its value: "
                                                       "the gradient reaches only what the output is computed from")
    yield grader.close("… and [b] = 2 R summed over the columns", lambda: implicit("b"), db,
                       hint="b added to every column collects the gradient of every column")
    yield grader.close("tracker.gradient(m -> Σ (m(X) - Y)², layer): the fields' gradients (W, b)",
                       lambda: (lambda g: (g["W"], g["b"]))(tracker.gradient(
                           lambda m: np.sum((m(X) - Y) ** 2), layer(3, 2, W, b))[0]), (dW, db),
                       hint="the explicit gradient of a model is a dict of its fields' gradients")
    def implicit_one(L):
        return tracker.gradient(lambda: np.sum((L(x) - Y[:, 0]) ** 2), nn.params(L))[L.W]
    r1 = W @ x + b - Y[:, 0]
    yield grader.close("one sample: ∂/∂W Σ (W x + b - y)² = 2 r xᵀ (an outer product)",
                       lambda: implicit_one(layer(3, 2, W, b)), 2 * np.outer(r1, x),
                       hint="for a 1-D x the bias is added as it is, and W @ x is a matrix-vector product")

    def forward_mode():
        L = layer(3, 2, W, b)
        ps = nn.params(L)
        _, gs = nn.loss_and_gradient(lambda x, y: np.sum((L(x) - y) ** 2), ps, (X, Y), mode="forward")
        return gs[L.W], gs[L.b]
    yield grader.close("forward mode (dual numbers through your layer): (∂L/∂W, ∂L/∂b)", forward_mode, (dW, db),
                       hint="use only numpy operations on W, b and x (no np.array(...) or float() of them)")

    # ---- 5. it trains ----------------------------------------------------------------------------------------------
    W_true, b_true = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]]), np.array([0.3, -0.7])
    Xd = rng.standard_normal((3, 40))
    Yd = W_true @ Xd + b_true[:, None]

    def trained():
        L = layer(3, 2, seed=9)
        nn.train(lambda x, y: np.mean((L(x) - y) ** 2), nn.params(L), nn.DataLoader((Xd, Yd), batchsize=10),
                 nn.Descent(0.1), epochs=60)
        return _value(L.W), _value(L.b)
    yield grader.close("nn.train with Descent(0.1) recovers W and b of data they fit exactly", trained,
                       (W_true, b_true), rtol=1e-5, atol=1e-6,
                       hint="train needs nn.params to find W and b (nn.functor), and their gradients to be right")
