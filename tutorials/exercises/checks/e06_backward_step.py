"""Checks for exercise 06: the VJP (backward step) of multiply, divide, sin, matmul and a bias add, then a sweep.

The reference for each VJP is the tracker's own gradient of Σ op(inputs) · z̄ (which is the VJP at z̄), and
central differences of the same sum; every input and z̄ is random, of random shapes (some square, so that a
missing transpose does not hide behind a shape error).
"""
import numpy as np

from dualnum import tracker
from dualnum.testing import numeric_gradient
from tutorials.exercises import grader

NAME = "the backward step of one operation"
TASK = "write the VJPs (x̄ from z̄) of *, /, sin, matmul and a bias add, then backprop a small graph with them"
FOLLOWS = "tutorial 6 (inside backprop)"
TIME_LIMIT = 60


def _vjp_ref(op, zbar, *xs):
    """The VJP of op at xs against zbar, from the tracker: ∇ of Σ op(xs) · z̄."""
    return tracker.gradient(lambda *a: np.sum(op(*a) * zbar), *xs)


def _vjp_fd(op, zbar, *xs):
    """The same by central differences."""
    return numeric_gradient(lambda *a: np.sum(op(*a) * zbar), *xs)


def _part(fn, i):
    """Item i of the pair the student's function returns, as given (the grader refuses non-numbers)."""
    def get():
        out = fn()
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"expected a pair (x̄, ȳ), got {type(out).__name__}"
                            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
        return out[i]
    return get


def checks(student):
    rng = np.random.default_rng(6)

    def shape():
        return tuple(int(k) for k in rng.integers(1, 5, size=rng.integers(1, 3)))

    mul = lambda x, y: x * y                  # noqa: E731
    div = lambda x, y: x / y                  # noqa: E731

    # ---- multiply ---------------------------------------------------------------------------------------------
    for s in [(3,), shape(), (2, 3)]:
        x, y, zb = rng.standard_normal(s), rng.standard_normal(s), rng.standard_normal(s)
        ref = _vjp_ref(mul, zb, x, y)
        fn = lambda x=x, y=y, zb=zb: student.mul_vjp(x.copy(), y.copy(), zb.copy())   # noqa: E731
        yield grader.close(f"z = x·y, shape {s}: x̄", _part(fn, 0), ref[0],
                           hint="x̄ = z̄ · y: the gradient reaching x is multiplied by the OTHER factor")
        yield grader.close(f"z = x·y, shape {s}: ȳ", _part(fn, 1), ref[1],
                           hint="ȳ = z̄ · x: the gradient reaching y is multiplied by the OTHER factor")
    x, y, zb = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)
    yield grader.close("z = x·y: (x̄, ȳ) against central differences",
                       lambda: tuple(student.mul_vjp(x.copy(), y.copy(), zb.copy())), _vjp_fd(mul, zb, x, y),
                       rtol=1e-6, atol=1e-8, hint="d(xy) = y dx + x dy, each part times z̄")

    # ---- divide -------------------------------------------------------------------------------------------------
    for s in [(3,), shape()]:
        x, zb = rng.standard_normal(s), rng.standard_normal(s)
        y = rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s)
        ref = _vjp_ref(div, zb, x, y)
        fn = lambda x=x, y=y, zb=zb: student.div_vjp(x.copy(), y.copy(), zb.copy())   # noqa: E731
        yield grader.close(f"z = x/y, shape {s}: x̄", _part(fn, 0), ref[0],
                           hint="x̄ = z̄ / y (divide by y, do not multiply)")
        yield grader.close(f"z = x/y, shape {s}: ȳ", _part(fn, 1), ref[1],
                           hint="ȳ = -z̄ · x / y²: check the minus sign and the square")
    fn = lambda: student.div_vjp(x.copy(), y.copy(), zb.copy())   # noqa: E731
    yield grader.close("z = x/y: (x̄, ȳ) against central differences", lambda: tuple(fn()),
                       _vjp_fd(div, zb, x, y), rtol=1e-6, atol=1e-8, hint="d(x/y) = dx/y - x dy/y², times z̄")

    # ---- sin ----------------------------------------------------------------------------------------------------
    for s in [(5,), shape(), (3, 2)]:
        x, zb = rng.uniform(-3, 3, s), rng.standard_normal(s)
        yield grader.close(f"z = sin x, shape {s}: x̄", lambda x=x, zb=zb: student.sin_vjp(x.copy(), zb.copy()),
                           _vjp_ref(np.sin, zb, x)[0],
                           hint="x̄ = z̄ · cos x: the derivative of sin is +cos, times the arriving z̄")
    yield grader.close("z = sin x: x̄ against central differences", lambda: student.sin_vjp(x.copy(), zb.copy()),
                       _vjp_fd(np.sin, zb, x)[0], rtol=1e-6, atol=1e-8, hint="x̄ = z̄ · cos x")

    # ---- matmul -------------------------------------------------------------------------------------------------
    mm = lambda A, B: A @ B   # noqa: E731
    sizes = [(2, 3, 4), (3, 3, 3), tuple(int(k) for k in rng.integers(1, 6, 3)), (4, 1, 2)]
    for m, p, n in sizes:
        A, B, Cb = rng.standard_normal((m, p)), rng.standard_normal((p, n)), rng.standard_normal((m, n))
        ref = _vjp_ref(mm, Cb, A, B)
        fn = lambda A=A, B=B, Cb=Cb: student.matmul_vjp(A.copy(), B.copy(), Cb.copy())   # noqa: E731
        yield grader.close(f"C = A B, A {A.shape}, B {B.shape}: Ā", _part(fn, 0), ref[0],
                           hint="Ā = C̄ Bᵀ: (m, n)·(n, p) gives (m, p), A's shape; C̄ on the left, B transposed")
        yield grader.close(f"C = A B, A {A.shape}, B {B.shape}: B̄", _part(fn, 1), ref[1],
                           hint="B̄ = Aᵀ C̄: (p, m)·(m, n) gives (p, n), B's shape; A transposed on the left, "
                                "C̄ on the right")
    fn = lambda: student.matmul_vjp(A.copy(), B.copy(), Cb.copy())   # noqa: E731
    yield grader.close("C = A B: (Ā, B̄) against central differences", lambda: tuple(fn()), _vjp_fd(mm, Cb, A, B),
                       rtol=1e-6, atol=1e-8, hint="dC = dA B + A dB; read backwards: Ā = C̄ Bᵀ, B̄ = Aᵀ C̄")

    # ---- bias add -----------------------------------------------------------------------------------------------
    badd = lambda X, b: X + b[:, None]   # noqa: E731
    for n, batch in [(3, 5), (4, 4), (2, 1)]:
        X, b, Zb = rng.standard_normal((n, batch)), rng.standard_normal(n), rng.standard_normal((n, batch))
        ref = _vjp_ref(badd, Zb, X, b)
        fn = lambda X=X, b=b, Zb=Zb: student.bias_add_vjp(X.copy(), b.copy(), Zb.copy())   # noqa: E731
        yield grader.close(f"Z = X + b (X {X.shape}, b {b.shape}): X̄", _part(fn, 0), ref[0],
                           hint="X̄ = Z̄: adding passes the gradient through unchanged")
        yield grader.close(f"Z = X + b (X {X.shape}, b {b.shape}): b̄", _part(fn, 1), ref[1],
                           hint="b̄ = Z̄ summed over the columns (axis=1), shape (n,): b was added to every column, "
                                "so the gradients of all columns add up")
    fn = lambda: student.bias_add_vjp(X.copy(), b.copy(), Zb.copy())   # noqa: E731
    yield grader.close("Z = X + b: (X̄, b̄) against central differences", lambda: tuple(fn()),
                       _vjp_fd(badd, Zb, X, b), rtol=1e-6, atol=1e-8, hint="b̄ = Σ over the columns of Z̄")

    # ---- the whole sweep: L = Σ W·sin(C)·C, C = A B ------------------------------------------------------------
    loss = lambda A, B, W: np.sum(W * np.sin(A @ B) * (A @ B))   # noqa: E731
    for m, p, n in [(2, 3, 4), (3, 3, 3)]:
        A, B, W = rng.standard_normal((m, p)), rng.standard_normal((p, n)), rng.standard_normal((m, n))
        ref = tracker.gradient(lambda A, B: loss(A, B, W), A, B)
        fn = lambda A=A, B=B, W=W: student.backprop_by_hand(A.copy(), B.copy(), W.copy())   # noqa: E731
        yield grader.close(f"backprop of L = Σ W·sin(C)·C, C = A B, A {A.shape}, B {B.shape}: Ā", _part(fn, 0),
                           ref[0], hint="forward: C = A B, S = sin C; back: mul_vjp(S, C, W) gives S̄ = W·C and a "
                                        "direct C̄ = W·S; C̄ = S̄ · cos C + W·S (the two uses of C add up); "
                                        "then Ā = C̄ Bᵀ")
        yield grader.close(f"backprop of L = Σ W·sin(C)·C, C = A B, A {A.shape}, B {B.shape}: B̄", _part(fn, 1),
                           ref[1], hint="… then B̄ = Aᵀ C̄, with C̄ = W·(C·cos C + sin C)")
    yield grader.close("backprop of L = Σ W·sin(C)·C against central differences", lambda: tuple(fn()),
                       numeric_gradient(lambda A, B: loss(A, B, W), A, B), rtol=1e-6, atol=1e-8,
                       hint="your sweep does not give the slope of L: compare it step by step with the tracker "
                            "(tracker.show before and after tracker.back)")
