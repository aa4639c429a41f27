"""Checks for exercise 09: logsumexp, softmax and binary cross-entropy from logits, and the Huber loss.

References are numpy's own stable functions (``np.logaddexp.reduce``, ``np.logaddexp(0, z)``), closed-form
gradients (softmax(z) - y, σ(z) - y, clip(r, -δ, δ), each over the count the mean divides by), hand-computed values
at extreme inputs (logsumexp([1000, 0, -1000]) = 1000), and central differences. Both modes of dualnum run the
student's losses.
"""
import re

import numpy as np

import dualnum
from dualnum import tracker
from tutorials.exercises import grader

NAME = "a numerically stable loss"
TASK = "write logsumexp, softmax and binary cross-entropy from logits, and Huber: no overflow, both modes"
FOLLOWS = "tutorial 3 (a modern ML library)"
TIME_LIMIT = 60


def lse_ref(z):
    return np.logaddexp.reduce(np.asarray(z, dtype=float), axis=0)


def softmax_ref(z):
    return np.exp(z - lse_ref(z))


def sigmoid_ref(z):
    return 0.5 * (1.0 + np.tanh(np.asarray(z, dtype=float) / 2))


def huber_ref(r, delta):
    a = np.abs(r)
    with np.errstate(over="ignore"):
        return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _num(f):
    """The student's value as a float (array): a tracked or dual result is refused by the grader."""
    return lambda: np.asarray(f(), dtype=float)


def _shape_error(s, t):
    """A regular expression matching a message that names both shapes (as Python prints them), in either order."""
    a, b = re.escape(str(tuple(s))), re.escape(str(tuple(t)))
    return f"(?s)({a}.*{b}|{b}.*{a})"


def checks(student):
    rng = np.random.default_rng(9)
    fwd = lambda f, *a: dualnum.gradient(f, *a)   # noqa: E731
    rev = lambda f, *a: tracker.gradient(f, *a)   # noqa: E731
    modes = [("forward", fwd), ("reverse", rev)]

    # ---- 1. logsumexp -------------------------------------------------------------------------------------------
    z1 = np.array([1.0, 2.0, 3.0])
    yield grader.close("logsumexp([1, 2, 3]) = log(e + e² + e³)", _num(lambda: student.logsumexp(z1.copy())),
                       float(np.log(np.e + np.e ** 2 + np.e ** 3)),
                       hint="m + log Σ exp(z - m) with m = max z: check the sign of z - m and that m is added back")
    Z = rng.standard_normal((4, 5)) * 3
    yield grader.close("logsumexp of a (4, 5) batch: one value per column, shape (5,)",
                       _num(lambda: student.logsumexp(Z.copy())), lse_ref(Z),
                       hint="reduce down each column: np.max(z, axis=0, keepdims=True) and np.sum(..., axis=0)")
    Zx = np.array([[1000.0, -1000.0, 3.0], [0.0, -1001.0, 3.0], [-1000.0, -1002.0, 3.0]])
    yield grader.close("logsumexp at extreme logits: [1000, 0, -1000] gives 1000 exactly; a tie of 3s gives 3 + log 3",
                       _num(lambda: student.logsumexp(Zx.copy())), lse_ref(Zx),
                       hint="exp(1000) overflows to inf: subtract each column's maximum before exp, add it after")
    w = rng.standard_normal(5)
    for name, grad in modes:
        yield grader.close(f"∂/∂z Σ w·logsumexp(z) = w·softmax(z), {name} mode",
                           lambda grad=grad: grad(lambda z: np.sum(student.logsumexp(z) * w), Z.copy())[0],
                           softmax_ref(Z) * w, hint="the gradient of logsumexp is softmax down each column; "
                                                    "use numpy functions only, so that dualnum can run them")
        yield grader.close(f"the gradient of logsumexp at extreme logits is softmax (no NaN), {name} mode",
                           lambda grad=grad: grad(lambda z: np.sum(student.logsumexp(z)), Zx.copy())[0],
                           softmax_ref(Zx), atol=1e-12,
                           hint="exp(z - m) never overflows; exp(z) does, and inf - inf gives NaN in the gradient")

    zh = np.array([0.3, -1.2, 2.0, 0.5])
    ph = softmax_ref(zh)
    for method in ("forward-over-forward", "forward-over-reverse"):
        yield grader.close(f"second order: the Hessian of logsumexp is diag(p) - p pᵀ, p = softmax ({method})",
                           lambda m=method: dualnum.hessian(student.logsumexp, zh.copy(), method=m),
                           np.diag(ph) - np.outer(ph, ph), atol=1e-12,
                           hint="dualnum nests its modes through your logsumexp: use numpy functions only")

    # ---- 2. softmax cross-entropy from logits ---------------------------------------------------------------------
    labels = rng.integers(0, 4, 5)
    Y = np.eye(4)[:, labels]
    P = rng.dirichlet(np.ones(4), 5).T   # probability columns
    ce = lambda z, y: float(np.mean(lse_ref(z) - np.sum(y * z, axis=0)))   # noqa: E731
    yield grader.close("logitcrossentropy(z, one-hot y): the mean over 5 columns of logsumexp(z) - z[label]",
                       _num(lambda: student.logitcrossentropy(Z.copy(), Y.copy())), ce(Z, Y),
                       hint="per column logsumexp(z) - Σ_c y_c z_c (sum down axis 0), then np.mean over the batch")
    yield grader.close("logitcrossentropy(z, probability columns y)",
                       _num(lambda: student.logitcrossentropy(Z.copy(), P.copy())), ce(Z, P),
                       hint="y need not be one-hot: Σ_c y_c z_c, with y's own weights")
    yx = np.eye(3)[:, [1, 0, 2]]
    yield grader.close("logitcrossentropy at extreme logits: finite and exact",
                       _num(lambda: student.logitcrossentropy(Zx.copy(), yx.copy())), ce(Zx, yx),
                       hint="use your stable logsumexp, not np.log(np.sum(np.exp(z)))")
    for name, grad in modes:
        yield grader.close(f"∂/∂z logitcrossentropy = (softmax(z) - y) / batch, {name} mode",
                           lambda grad=grad: grad(student.logitcrossentropy, Z.copy(), Y.copy())[0],
                           (softmax_ref(Z) - Y) / 5, hint="a mean over 5 columns divides the gradient by 5")
        yield grader.close(f"∂/∂z logitcrossentropy at extreme logits, {name} mode",
                           lambda grad=grad: grad(student.logitcrossentropy, Zx.copy(), yx.copy())[0],
                           (softmax_ref(Zx) - yx) / 3, atol=1e-12, hint="no inf or NaN: the log-sum-exp trick")
    yield grader.close("∂/∂z logitcrossentropy against central differences",
                       lambda: fwd(student.logitcrossentropy, Z.copy(), P.copy())[0],
                       lambda: grader.fd_gradient(lambda z: ce(z, P), Z), rtol=1e-5, atol=1e-7,
                       hint="the slope of the loss: logsumexp(z) - Σ y z, averaged over the columns")
    z1d, y1d = np.array([0.5, -1.0, 2.0]), np.array([0.0, 0.0, 1.0])
    yield grader.close("logitcrossentropy of one sample (1-D z and y): logsumexp(z) - z[2]",
                       _num(lambda: student.logitcrossentropy(z1d.copy(), y1d.copy())),
                       float(lse_ref(z1d) - z1d[2]), hint="a 1-D z is one column: logsumexp gives a number")
    for s, t in [((4, 5), (4, 6)), ((4, 5), (5, 4)), ((3,), (3, 1))]:
        yield grader.raises(f"logitcrossentropy(z of shape {s}, y of shape {t}): ValueError naming both shapes",
                            lambda s=s, t=t: student.logitcrossentropy(np.ones(s), np.ones(t)), ValueError,
                            match=_shape_error(s, t),
                            hint="compare np.shape of both (dualnum.value first) and name both shapes in the "
                                 "message; numpy would broadcast some of these into a wrong loss")

    # ---- 3. binary cross-entropy from logits ---------------------------------------------------------------------
    zb = rng.standard_normal(6) * 3
    yb = rng.uniform(0, 1, 6)
    bce = lambda z, y: float(np.mean(np.logaddexp(0.0, z) - y * z))   # noqa: E731
    yield grader.close("logitbinarycrossentropy(z, y) = mean(log(1 + e^z) - y·z)",
                       _num(lambda: student.logitbinarycrossentropy(zb.copy(), yb.copy())), bce(zb, yb),
                       hint="log(1 + e^z) = logsumexp([0, z]): stack a zero row on z, then subtract y·z; mean")
    zbx, ybx = np.array([800.0, -800.0, 0.0, 30.0]), np.array([0.0, 1.0, 0.5, 1.0])
    yield grader.close("logitbinarycrossentropy at z = ±800: finite and exact (log(1 + e^800) = 800)",
                       _num(lambda: student.logitbinarycrossentropy(zbx.copy(), ybx.copy())), bce(zbx, ybx),
                       hint="np.log(1 + np.exp(z)) overflows at z = 800: use logsumexp([0, z])")
    zb2, yb2 = zb.reshape(1, 6), yb.reshape(1, 6)
    yield grader.close("logitbinarycrossentropy of a (1, 6) batch (one output row)",
                       _num(lambda: student.logitbinarycrossentropy(zb2.copy(), yb2.copy())), bce(zb, yb),
                       hint="stack the zeros along a NEW first axis (np.stack), so logsumexp's axis 0 pairs "
                            "each z with its 0")
    for name, grad in modes:
        yield grader.close(f"∂/∂z logitbinarycrossentropy = (σ(z) - y) / N, {name} mode",
                           lambda grad=grad: grad(student.logitbinarycrossentropy, zb.copy(), yb.copy())[0],
                           (sigmoid_ref(zb) - yb) / 6, hint="d log(1 + e^z) / dz = σ(z); the mean divides by N")
        yield grader.close(f"∂/∂z logitbinarycrossentropy at z = ±800 and at 0 (σ(0) = ½), {name} mode",
                           lambda grad=grad: grad(student.logitbinarycrossentropy, zbx.copy(), ybx.copy())[0],
                           (sigmoid_ref(zbx) - ybx) / 4, atol=1e-12,
                           hint="no inf or NaN at ±800, and ½ at 0 (a max(z, 0) with abs can give 0 or 1 there)")
        yield grader.close(f"∂/∂y logitbinarycrossentropy = -z / N, {name} mode",
                           lambda grad=grad: grad(student.logitbinarycrossentropy, zb.copy(), yb.copy())[1],
                           -zb / 6, hint="the loss is linear in y: -y·z")
    sx = sigmoid_ref(zbx)
    yield grader.close("second order: the Hessian of logitbinarycrossentropy is diag(σ(1 - σ)) / N, finite at ±800",
                       lambda: dualnum.hessian(lambda z: student.logitbinarycrossentropy(z, ybx), zbx.copy()),
                       np.diag(sx * (1 - sx)) / 4, atol=1e-12,
                       hint="d²/dz² log(1 + e^z) = σ(z)(1 - σ(z)); no NaN at ±800 with the log-sum-exp trick")
    for s, t in [((6,), (1, 6)), ((2, 3), (3, 2))]:
        yield grader.raises(f"logitbinarycrossentropy(z {s}, y {t}): ValueError naming both shapes",
                            lambda s=s, t=t: student.logitbinarycrossentropy(np.ones(s), np.ones(t)), ValueError,
                            match=_shape_error(s, t),
                            hint="(6,) against (1, 6) broadcasts into (1, 6) silently: refuse it, naming both")

    # ---- 4. Huber -----------------------------------------------------------------------------------------------
    yh = np.array([0.0, 0.5, -0.3, 2.0, -3.0, 1.0, 0.9, -1.0])
    yt = np.array([0.2, 0.0, 0.1, 0.0, 0.5, 0.0, 2.4, 0.0])
    r = yh - yt     # [-0.2, 0.5, -0.4, 2, -3.5, 1, -1.5, -1]: inside, outside, and at |r| = δ = 1
    yield grader.close("huber(ŷ, y) with δ = 1 (the default): residuals inside, outside and at δ",
                       _num(lambda: student.huber(yh.copy(), yt.copy())), float(np.mean(huber_ref(r, 1.0))),
                       hint="½r² where |r| ≤ δ, δ(|r| - ½δ) beyond: check the ½s and the |·| (negative residuals)")
    for delta in (0.5, 2.0):
        yield grader.close(f"huber(ŷ, y, delta={delta})",
                           _num(lambda delta=delta: student.huber(yh.copy(), yt.copy(), delta)),
                           float(np.mean(huber_ref(r, delta))),
                           hint="use the delta given (the linear part is δ·(|r| - ½δ), continuous at |r| = δ)")
    small = np.array([0.1, -0.2, 0.3])
    yield grader.close("huber of small residuals is ½ mean(r²)", _num(lambda: student.huber(small.copy(),
                                                                                            np.zeros(3))),
                       float(0.5 * np.mean(small ** 2)), hint="inside δ the loss is ½r²")
    for name, grad in modes:
        yield grader.close(f"∂/∂ŷ huber = clip(r, -δ, δ) / N, {name} mode",
                           lambda grad=grad: grad(student.huber, yh.copy(), yt.copy())[0],
                           np.clip(r, -1.0, 1.0) / 8, hint="the slope is r inside and ±δ outside; the sign follows r")
        yield grader.close(f"∂/∂y huber = -clip(r, -δ, δ) / N, {name} mode",
                           lambda grad=grad: grad(student.huber, yh.copy(), yt.copy())[1],
                           -np.clip(r, -1.0, 1.0) / 8, hint="r = ŷ - y: y enters with a minus sign")
        yield grader.close(f"∂/∂ŷ huber with delta = 0.5, {name} mode",
                           lambda grad=grad: grad(lambda a, b: student.huber(a, b, 0.5), yh.copy(), yt.copy())[0],
                           np.clip(r, -0.5, 0.5) / 8, hint="outside δ the slope is ±δ")
    off = np.abs(r) != 1.0   # the residuals off the kink |r| = δ, where the second derivative jumps
    for method in ("forward-over-forward", "forward-over-reverse"):
        yield grader.close(f"second order: the Hessian of huber is diag(1 where |r| < δ, else 0) / N ({method})",
                           lambda m=method: dualnum.hessian(lambda a: student.huber(a, yt[off]), yh[off].copy(),
                                                            method=m),
                           np.diag((np.abs(r[off]) < 1.0) * 1.0) / off.sum(), atol=1e-12,
                           hint="½r² has curvature 1, the linear part δ(|r| - ½δ) curvature 0; the mean divides by N")
    big = np.array([1e200, -1e200, 0.0])
    yield grader.close("huber at residuals ±1e200: finite, δ(|r| - ½δ)",
                       _num(lambda: student.huber(big.copy(), np.zeros(3))), float(np.mean(huber_ref(big, 1.0))),
                       rtol=1e-12, hint="never square a residual outside δ: (1e200)² overflows to inf")
    for name, grad in modes:
        yield grader.close(f"∂/∂ŷ huber at ±1e200 and 0: (1, -1, 0) / 3, {name} mode",
                           lambda grad=grad: grad(student.huber, big.copy(), np.zeros(3))[0],
                           np.array([1.0, -1.0, 0.0]) / 3, hint="no inf or NaN: the linear part has slope ±δ")
    yield grader.close("∂/∂ŷ huber against central differences",
                       lambda: fwd(lambda a: student.huber(a, yt), yh + 0.01)[0],
                       lambda: grader.fd_gradient(lambda a: float(np.mean(huber_ref(a - yt, 1.0))), yh + 0.01),
                       rtol=1e-5, atol=1e-7, hint="the slope of the mean Huber loss")
    yield grader.raises("huber(ŷ of shape (3,), y of shape (3, 1)): ValueError naming both shapes",
                        lambda: student.huber(np.ones(3), np.ones((3, 1))), ValueError,
                        match=_shape_error((3,), (3, 1)),
                        hint="(3,) - (3, 1) broadcasts to (3, 3): nine residuals where there are three")

