"""Agreement cases for tests/test_numpy_agreement.py: linear algebra. ``register(m)`` adds them with the engine's
own ``m.cases``, ``m.Case``, ``m.data``, ``m.unary``, ... (m is that test module)."""
import numpy as np

STACKS = [(), (2,)]


def well_conditioned(m, n, salt=0):
    """An n×n matrix (or a stack, shape + (n, n)) far from singular: the identity plus small distinct values."""
    return lambda shape: m.data(shape + (n, n), salt) * 0.3 + np.eye(n)


def positive_definite(m, n, shape=(), salt=0):
    """X Xᵀ + n I: symmetric, well inside the positive definite matrices, distinct eigenvalues."""
    x = m.data(shape + (n, n), salt)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def register(m):
    Case, data, cases = m.Case, m.data, m.cases

    def one(label, x, call, may_refuse=False):
        return Case(label, [x], lambda f, xs: call(f, xs[0]), may_refuse=may_refuse)

    cases(np.linalg.inv)(lambda f: (m.Case(f"{s}+(3, 3)", [well_conditioned(m, 3)(s)], lambda f, xs: f(xs[0]))
                                    for s in [(), (2,)]))

    @cases(np.linalg.det, np.linalg.slogdet)
    def determinants(f):
        for s in STACKS + [(2, 2)]:
            yield one(f"{s}+(3, 3)", data(s + (3, 3)), lambda f, x: f(x))
        yield one("(1, 1)", data((1, 1)), lambda f, x: f(x))
        yield one("(2, 2) negative determinant", np.array([[0.5, 2.0], [1.5, 0.3]]), lambda f, x: f(x))
        singular = data((3, 3))
        singular[2] = singular[0] + singular[1]  # rank 2: det = 0, its derivative the adjugate (not 0)
        yield one("(3, 3) singular", singular, lambda f, x: f(x))
        yield one("(2, 3, 3) one singular", np.stack([singular, data((3, 3), 1)]), lambda f, x: f(x))
        yield one("(2, 3) not square", data((2, 3)), lambda f, x: f(x))
        yield one("(3,) 1-d", data((3,)), lambda f, x: f(x))

    @cases(np.linalg.solve)
    def solve(f):
        for sa, sb in [((), (3,)), ((), (3, 2)), ((2,), (3,)), ((2,), (2, 3, 2)), ((2,), (3, 1)), ((), (2, 3, 1)),
                       ((2,), (2, 3)), ((), (4,))]:
            a, b = well_conditioned(m, 3)(sa), data(sb, 1)
            yield Case(f"{sa}+(3, 3) {sb}", [a, b], lambda f, xs: f(xs[0], xs[1]))
            yield Case(f"{sa}+(3, 3) {sb}, b constant", [a], lambda f, xs, b=b: f(xs[0], b))
            yield Case(f"{sa}+(3, 3) {sb}, a constant", [b], lambda f, xs, a=a: f(a, xs[0]))

    @cases(np.linalg.cholesky)
    def cholesky(f):
        for s in STACKS:
            a = positive_definite(m, 3, s)
            yield one(f"{s}+(3, 3)", a, lambda f, x: f(x))
            yield one(f"{s}+(3, 3) upper=True", a, lambda f, x: f(x, upper=True))
        yield one("not positive definite", -positive_definite(m, 3), lambda f, x: f(x))
        yield one("(2, 3)", data((2, 3)), lambda f, x: f(x))

    @cases(np.linalg.eigh, np.linalg.eigvalsh)
    def symmetric_eigen(f):
        for s in STACKS:
            x = data(s + (3, 3))  # not symmetric: numpy reads one triangle, so does the derivative
            yield one(f"{s}+(3, 3)", x, lambda f, x: f(x))
            yield one(f"{s}+(3, 3) UPLO='U'", x, lambda f, x: f(x, UPLO="U"))
            yield one(f"{s}+(3, 3) 'U' positional", x, lambda f, x: f(x, "U"))
            yield one(f"{s}+(3, 3) symmetric", positive_definite(m, 3, s), lambda f, x: f(x))
        yield one("(4, 4)", data((4, 4), 2), lambda f, x: f(x))
        yield one("(2, 3)", data((2, 3)), lambda f, x: f(x))
        yield one("UPLO='X'", data((3, 3)), lambda f, x: f(x, UPLO="X"))

    @cases(np.linalg.svd)
    def svd(f):
        for shape in [(3, 3), (4, 3), (3, 4), (2, 4, 3), (2, 3, 4), (2, 2, 2)]:
            x = data(shape)
            square = shape[-1] == shape[-2]
            yield one(f"{shape}", x, lambda f, x: f(x), may_refuse=not square)
            yield one(f"{shape} full_matrices=False", x, lambda f, x: f(x, full_matrices=False))
            yield one(f"{shape} compute_uv=False", x, lambda f, x: f(x, compute_uv=False))
            yield one(f"{shape} positional False", x, lambda f, x: f(x, False))
        for s in STACKS:
            x = data(s + (3, 3), 1)
            yield one(f"{s}+(3, 3) hermitian=True", x, lambda f, x: f(x, hermitian=True))
            yield one(f"{s}+(3, 3) hermitian=True compute_uv=False", x,
                      lambda f, x: f(x, compute_uv=False, hermitian=True))
        yield one("(3,)", data((3,)), lambda f, x: f(x))

    @cases(np.linalg.svdvals)
    def svdvals(f):
        for shape in [(3, 3), (4, 3), (3, 4), (2, 4, 3)]:
            yield one(f"{shape}", data(shape), lambda f, x: f(x))
        yield one("(3,)", data((3,)), lambda f, x: f(x))

    @cases(np.linalg.qr)
    def qr(f):
        for shape in [(3, 3), (4, 3), (3, 4), (2, 4, 3), (2, 3, 4)]:
            x = data(shape)
            tall = shape[-2] > shape[-1]
            yield one(f"{shape}", x, lambda f, x: f(x))
            yield one(f"{shape} mode='r'", x, lambda f, x: f(x, mode="r"))
            yield one(f"{shape} mode='complete'", x, lambda f, x: f(x, mode="complete"), may_refuse=tall)
            yield one(f"{shape} 'complete' positional", x, lambda f, x: f(x, "complete"), may_refuse=tall)
        yield one("(4, 3) mode='raw'", data((4, 3)), lambda f, x: f(x, mode="raw"), may_refuse=True)
        yield one("mode='wrong'", data((3, 3)), lambda f, x: f(x, mode="wrong"))
        yield one("(3,)", data((3,)), lambda f, x: f(x))

    @cases(np.linalg.pinv)
    def pinv(f):
        for shape in [(3, 3), (4, 3), (3, 4), (2, 4, 3)]:
            x = data(shape)
            yield one(f"{shape}", x, lambda f, x: f(x))
            yield one(f"{shape} rcond=1e-10", x, lambda f, x: f(x, rcond=1e-10))
            yield one(f"{shape} rtol=1e-10", x, lambda f, x: f(x, rtol=1e-10))
        yield one("(3, 3) hermitian=True", data((3, 3), 1), lambda f, x: f(x, hermitian=True))
        yield one("(3, 3) symmetric hermitian=True", positive_definite(m, 3), lambda f, x: f(x, hermitian=True))

    @cases(np.linalg.norm)
    def norm(f):
        for shape in [(4,), (2, 4), (3, 3), (2, 3, 4)]:
            x = data(shape, 1)
            nd = len(shape)
            for ord in (None, 2, 1, np.inf, -np.inf, 0, -1, -2, 3, 0.5, -0.5):
                for axis in [None, -1] + ([(0, 1), (-1, -2)] if nd >= 2 else []):
                    yield one(f"{shape} ord={ord} axis={axis}", x, lambda f, x, o=ord, a=axis: f(x, o, a))
                    yield one(f"{shape} ord={ord} axis={axis} keepdims", x,
                              lambda f, x, o=ord, a=axis: f(x, ord=o, axis=a, keepdims=True))
            for ord in ("fro", "nuc", "f"):
                yield one(f"{shape} ord={ord}", x, lambda f, x, o=ord: f(x, o))
                yield one(f"{shape} ord={ord} axis=(-1, 0)", x, lambda f, x, o=ord: f(x, o, (-1, 0)))
        zero = np.zeros(3)
        for ord in (None, 2, 1, np.inf, 3):  # the subgradient 0 at the zero vector (central differences: 0)
            yield one(f"zero vector ord={ord}", zero, lambda f, x, o=ord: f(x, o))
        yield one("zero (2, 3) fro", np.zeros((2, 3)), lambda f, x: f(x, "fro"))
        yield one("axis=1.5", data((3,)), lambda f, x: f(x, axis=1.5))
        yield one("axis=(0, 0)", data((2, 3)), lambda f, x: f(x, axis=(0, 0)))
        yield one("axis=(0, 1, 2)", data((2, 3, 4)), lambda f, x: f(x, axis=(0, 1, 2)))
        yield one("ord='bad' matrix", data((2, 3)), lambda f, x: f(x, "bad"))
        yield one("ord=3 matrix", data((2, 3)), lambda f, x: f(x, 3))
        yield one("ord='fro' vector", data((3,)), lambda f, x: f(x, "fro"))

    @cases(np.linalg.vector_norm)
    def vector_norm(f):
        for shape in [(), (4,), (2, 4), (2, 3, 4)]:
            x = data(shape, 2)
            nd = len(shape)
            for ord in (2, 1, np.inf, -np.inf, 0, 3, -1):
                for axis in [None] + ([-1, (0,)] if nd else []) + ([(0, -1), (-1, 0)] if nd >= 2 else []):
                    yield one(f"{shape} ord={ord} axis={axis}", x, lambda f, x, o=ord, a=axis: f(x, ord=o, axis=a))
                    yield one(f"{shape} ord={ord} axis={axis} keepdims", x,
                              lambda f, x, o=ord, a=axis: f(x, ord=o, axis=a, keepdims=True))

    @cases(np.linalg.matrix_norm)
    def matrix_norm(f):
        for shape in [(3, 3), (2, 4), (2, 3, 4)]:
            x = data(shape, 3)
            for ord in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
                yield one(f"{shape} ord={ord}", x, lambda f, x, o=ord: f(x, ord=o))
                yield one(f"{shape} ord={ord} keepdims", x, lambda f, x, o=ord: f(x, ord=o, keepdims=True))
        yield one("(3,)", data((3,)), lambda f, x: f(x))

    @cases(np.linalg.matrix_power)
    def matrix_power(f):
        for s in STACKS:
            x = well_conditioned(m, 3)(s)
            for n in (0, 1, 2, 3, 5, 6, -1, -2, -3):
                yield one(f"{s}+(3, 3) n={n}", x, lambda f, x, n=n: f(x, n))
        yield one("n=1.5", well_conditioned(m, 3)(()), lambda f, x: f(x, 1.5))
        yield one("(2, 3)", data((2, 3)), lambda f, x: f(x, 2))
        yield one("(3,)", data((3,)), lambda f, x: f(x, 2))

    @cases(np.linalg.multi_dot)
    def multi_dot(f):
        for shapes in [[(2, 3), (3, 4)], [(2, 3), (3, 4), (4, 2)], [(3,), (3, 4), (4, 2)], [(2, 3), (3, 4), (4,)],
                       [(3,), (3, 4), (4,)], [(5, 2), (2, 3), (3, 4), (4, 1)], [(3,), (3,)], [(2, 3, 3), (3, 3), (3, 3)],
                       [(2, 3)]]:
            arrays = [data(s, i) for i, s in enumerate(shapes)]
            yield Case(f"{shapes}", arrays, lambda f, xs: f(list(xs)))
            if len(arrays) > 1:
                yield Case(f"{shapes} first constant", arrays[1:], lambda f, xs, a=arrays[0]: f([a] + list(xs)))

    @cases(np.linalg.cond)
    def cond(f):
        for s in STACKS:
            x = well_conditioned(m, 3)(s)
            for p in (None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"):
                yield one(f"{s}+(3, 3) p={p}", x, lambda f, x, p=p: f(x, p))
        yield one("(4, 3)", data((4, 3)), lambda f, x: f(x))
        yield one("(4, 3) p=1", data((4, 3)), lambda f, x: f(x, 1))
        singular = np.array([[1.0, 2.0], [2.0, 4.0]])
        for p in (1, "fro", np.inf):  # numpy: inf, no derivative (the values are compared)
            yield one(f"singular p={p}", singular, lambda f, x, p=p: f(x, p))
            yield one(f"a stack with a singular matrix p={p}", np.stack([singular, np.eye(2) + 0.1]),
                      lambda f, x, p=p: f(x, p))

    @cases(np.linalg.matrix_rank)
    def matrix_rank(f):
        low = data((3, 3))
        low[2] = low[0] - low[1]
        for label, x in [("(3, 3)", data((3, 3))), ("rank 2", low), ("(2, 4, 3)", data((2, 4, 3))), ("(3,)", data((3,))),
                         ("()", data(()))]:
            yield one(label, x, lambda f, x: f(x))
        yield one("tol=0.5", data((3, 3)), lambda f, x: f(x, tol=0.5))
        yield one("hermitian", positive_definite(m, 3), lambda f, x: f(x, hermitian=True))

    @cases(np.linalg.lstsq)
    def lstsq(f):
        for sa, sb in [((4, 3), (4,)), ((4, 3), (4, 2)), ((3, 3), (3,)), ((3, 4), (3,)), ((4, 3), (3,))]:
            a, b = data(sa), data(sb, 1)
            yield Case(f"{sa} {sb}", [a, b], lambda f, xs: f(xs[0], xs[1]))
            yield Case(f"{sa} {sb} b constant", [a], lambda f, xs, b=b: f(xs[0], b, rcond=None))
            yield Case(f"{sa} {sb} a constant", [b], lambda f, xs, a=a: f(a, xs[0]))
        yield Case("(2, 4, 3)", [data((2, 4, 3)), data((4,))], lambda f, xs: f(xs[0], xs[1]))

    @cases(np.linalg.eig, np.linalg.eigvals)
    def general_eigen(f):
        yield one("(3, 3)", data((3, 3)), lambda f, x: f(x), may_refuse=True)
        yield one("(3, 3) symmetric", positive_definite(m, 3), lambda f, x: f(x), may_refuse=True)

    @cases(np.linalg.diagonal, np.linalg.trace, np.linalg.matrix_transpose)
    def array_api_views(f):
        for shape in [(3, 3), (2, 3, 4), (3,), ()]:
            x = data(shape)
            yield one(f"{shape}", x, lambda f, x: f(x))
            if f is not np.linalg.matrix_transpose:
                yield one(f"{shape} offset=1", x, lambda f, x: f(x, offset=1))
                yield one(f"{shape} offset=-1", x, lambda f, x: f(x, offset=-1))

    @cases(np.linalg.tensorinv)
    def tensorinv(f):
        a = well_conditioned(m, 6)(()).reshape(6, 2, 3)
        yield one("(6, 2, 3) ind=1", a, lambda f, x: f(x, ind=1))
        b = well_conditioned(m, 6)(()).reshape(2, 3, 6)
        yield one("(2, 3, 6)", b, lambda f, x: f(x))
        yield one("ind=0", b, lambda f, x: f(x, 0))
        yield one("(2, 3, 5) not square", data((2, 3, 5)), lambda f, x: f(x))

    @cases(np.linalg.tensorsolve)
    def tensorsolve(f):
        a = well_conditioned(m, 6)(()).reshape(2, 3, 6)
        b = data((2, 3), 1)
        yield Case("(2, 3, 6) (2, 3)", [a, b], lambda f, xs: f(xs[0], xs[1]))
        yield Case("(2, 3, 6) (2, 3) b constant", [a], lambda f, xs: f(xs[0], b))
        yield Case("(2, 3, 6) (2, 3) a constant", [b], lambda f, xs: f(a, xs[0]))
        a2 = well_conditioned(m, 6)(()).reshape(6, 2, 3)
        yield Case("axes=(0,)", [a2, data((2, 3), 2)], lambda f, xs: f(xs[0], xs[1], axes=(0,)))
        yield Case("(2, 3, 5) wrong", [data((2, 3, 5)), b], lambda f, xs: f(xs[0], xs[1]))
