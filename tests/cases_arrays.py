"""Agreement cases for tests/test_numpy_agreement.py: arrays. ``register(m)`` adds them with the engine's own
``m.cases``, ``m.Case``, ``m.data``, ``m.unary``, ... (m is that test module)."""
import numpy as np


def register(m):
    S = m.SHAPES
    unary, Case, data = m.unary, m.Case, m.data

    # ---- gathers: copies of elements, their adjoints scatter back ------------------------------------------------
    m.cases(np.take)(unary(S, ("[0, 2, 2]", lambda f, x, nd: f(x, [0, 2, 2])),
                           ("axis=-1", lambda f, x, nd: f(x, [1, 0, 1], axis=-1) if nd else f(x, 0)),
                           ("mode=wrap", lambda f, x, nd: f(x, [5, -7, 2], mode="wrap")),
                           ("mode=clip", lambda f, x, nd: f(x, [5, -7, 2], mode="clip")),
                           ("keywords", lambda f, x, nd: f(a=x, indices=np.array([[0], [0]]))),
                           ("scalar index", lambda f, x, nd: f(x, 0)),
                           ("out of range", lambda f, x, nd: f(x, [99]))))
    m.cases(np.rollaxis)(unary(S[1:], ("-1", lambda f, x, nd: f(x, -1)),
                               ("1 start=0", lambda f, x, nd: f(x, nd - 1, 0)),
                               ("keywords", lambda f, x, nd: f(a=x, axis=0, start=nd)),
                               ("out of range", lambda f, x, nd: f(x, nd))))
    m.cases(np.matrix_transpose)(unary(S, ("", lambda f, x, nd: f(x))))
    m.cases(np.delete)(unary(S[1:], ("1", lambda f, x, nd: f(x, 1)),
                             ("[0, 1] axis=-1", lambda f, x, nd: f(x, [0, 1], axis=-1)),
                             ("slice axis=0", lambda f, x, nd: f(x, slice(0, 1), axis=0))))
    m.cases(np.resize)(unary(S, ("(3, 3)", lambda f, x, nd: f(x, (3, 3))), ("5", lambda f, x, nd: f(x, 5))))
    m.cases(np.flip, np.diag, np.tile)(unary(S[1:3], ("keywords", lambda f, x, nd: (
        f(m=x) if f is np.flip else f(v=x, k=1) if f is np.diag else f(A=x, reps=2)))))
    m.cases(np.diagflat)(unary(S, ("", lambda f, x, nd: f(x)), ("k=-1", lambda f, x, nd: f(x, k=-1))))
    m.cases(np.compress)(unary(S[1:], ("[True, False, True]", lambda f, x, nd: f([True, False, True], x)),
                               ("axis=-1", lambda f, x, nd: f([False, True], x, axis=-1)),
                               ("too long", lambda f, x, nd: f([True] * 30, x, axis=0))))
    m.cases(np.extract)(unary(S, ("all", lambda f, x, nd: f(np.ones(np.shape(x), bool), x)),
                              ("pattern", lambda f, x, nd: f(np.arange(np.size(x)).reshape(np.shape(x)) % 2 == 0, x))))

    @m.cases(np.block)
    def block(f):
        a, b, c = data((2, 2), 1), data((2, 1), 2), data((1, 3), 3)
        yield Case("2-d blocks", [a, b, c], lambda f, xs: f([[xs[0], xs[1]], [xs[2]]]))
        yield Case("1-d with a scalar", [data((3,)), 1.5], lambda f, xs: f([xs[0], xs[1], xs[0]]))
        yield Case("depth above ndim", [data((2,))], lambda f, xs: f([[[xs[0]]], [[xs[0]]]]))
        yield Case("one array", [a], lambda f, xs: f(xs[0]))
        yield Case("constant block", [a], lambda f, xs, b=b: f([[xs[0], b]]))
        yield Case("mismatched depths", [a, b], lambda f, xs: f([[xs[0]], xs[1]]))
        yield Case("a tuple", [a, b], lambda f, xs: f((xs[0], xs[1])))
        yield Case("empty list", [a], lambda f, xs: f([[xs[0]], []]))

    m.cases(np.unstack)(unary(S, ("", lambda f, x, nd: f(x)), ("axis=-1", lambda f, x, nd: f(x, axis=-1))))

    # ---- reordering by value ---------------------------------------------------------------------------------------
    m.cases(np.partition)(unary(S, ("1", lambda f, x, nd: f(x, 1)), ("0 axis=0", lambda f, x, nd: f(x, 0, axis=0)),
                                ("(0, 1) axis=None", lambda f, x, nd: f(x, (0, 1), axis=None)),
                                ("-1", lambda f, x, nd: f(x, -1))))
    for f in (np.argpartition,):
        m.cases(f)(unary(S, ("1", lambda f, x, nd: f(x, 1) if nd else f(x, 0, axis=None))))
    m.cases(np.searchsorted)(lambda f: (Case(f"{s}", [np.sort(np.ravel(data(s)))], lambda f, xs: f(xs[0], [0.0, 1.5]))
                                        for s in [(3,), (2, 3)]))
    m.cases(np.digitize)(unary(S, ("bins", lambda f, x, nd: f(x, [-1.0, 0.0, 1.0]))))

    # ---- padding, selecting ---------------------------------------------------------------------------------------
    pads = [("1", lambda f, x, nd: f(x, 1)), ("(1, 2)", lambda f, x, nd: f(x, (1, 2))),
            ("constant_values", lambda f, x, nd: f(x, (1, 2), constant_values=(0.5, -2.0))),
            ("edge", lambda f, x, nd: f(x, 2, mode="edge")), ("reflect", lambda f, x, nd: f(x, 2, mode="reflect")),
            ("symmetric", lambda f, x, nd: f(x, (3, 1), mode="symmetric")),
            ("wrap", lambda f, x, nd: f(x, 4, mode="wrap")), ("bad keyword", lambda f, x, nd: f(x, 1, bad=1)),
            ("bad mode", lambda f, x, nd: f(x, 1, mode="nope"))]
    m.cases(np.pad)(unary(S, *pads))
    m.cases(np.pad)(unary(S[1:], ("maximum", lambda f, x, nd: f(x, 1, mode="maximum")),
                          ("reflect odd", lambda f, x, nd: f(x, 1, mode="reflect", reflect_type="odd")),
                          may_refuse=True))

    @m.cases(np.select)
    def select(f):
        for shape in S:
            x, y = data(shape, 1), data(shape, 2)
            c1, c2 = data(shape, 3) > 0.5, data(shape, 4) < 0
            yield Case(f"{shape}", [x, y], lambda f, xs: f([c1, c2], [xs[0] * 2.0, xs[1]], default=xs[0]))
            yield Case(f"{shape} constant default", [x, y], lambda f, xs: f([c1, c2], [xs[0], xs[1]]))
            yield Case(f"{shape} one constant choice", [x], lambda f, xs, y=y: f([c1, c2], [y, xs[0]], -1.0))
            yield Case(f"{shape} broadcast default", [x, 0.5], lambda f, xs: f([c1], [xs[0]], xs[1]))
            yield Case(f"{shape} length mismatch", [x], lambda f, xs: f([c1, c2], [xs[0]]))
            yield Case(f"{shape} non-bool condition", [x], lambda f, xs: f([np.ones(shape)], [xs[0]]))

    @m.cases(np.piecewise)
    def piecewise(f):
        for shape in S:
            x = data(shape)
            yield Case(f"{shape} functions", [x], lambda f, xs: f(xs[0], [xs[0] > 1, xs[0] < 0],
                                                                   [np.square, np.negative, np.sin]))
            yield Case(f"{shape} constants", [x], lambda f, xs: f(xs[0], [xs[0] > 0.5], [np.exp, 2.0]))
            yield Case(f"{shape} last wins", [x], lambda f, xs: f(xs[0], [xs[0] > -1, xs[0] > 0], [np.cos, np.sin]))
            yield Case(f"{shape} wrong count", [x], lambda f, xs: f(xs[0], [xs[0] > 1], [np.cos, np.sin, np.exp]))

    # ---- grids, numerical gradients, interpolation ---------------------------------------------------------------
    @m.cases(np.linspace, np.logspace)
    def spaced(f):
        for shape in [(), (2,), (2, 3)]:
            a, b = data(shape, 1), data(shape, 2)
            for kw in [{}, {"num": 5}, {"num": 4, "endpoint": False}, {"num": 1}, {"num": 0}, {"num": 2},
                       {"num": 3, "axis": -1}, {"num": -1}]:
                yield Case(f"{shape} {kw}", [a, b], lambda f, xs, kw=kw: f(xs[0], xs[1], **kw))
                yield Case(f"{shape} {kw} constant stop", [a], lambda f, xs, kw=kw: f(xs[0], 2.5, **kw))
            if f is np.linspace:
                yield Case(f"{shape} retstep", [a, b], lambda f, xs: f(xs[0], xs[1], 5, retstep=True))
                yield Case(f"{shape} equal ends", [a], lambda f, xs: f(xs[0], xs[0] * 1.0, 3))

    @m.cases(np.gradient)
    def gradient(f):
        for shape in [(3,), (4,), (2, 3), (3, 4, 2), (1,)]:
            x = data(shape)
            yield Case(f"{shape}", [x], lambda f, xs: f(xs[0]))
            yield Case(f"{shape} edge_order=2", [x], lambda f, xs: f(xs[0], edge_order=2))
            yield Case(f"{shape} spacing 0.5", [x], lambda f, xs: f(xs[0], 0.5))
            yield Case(f"{shape} axis=0", [x], lambda f, xs: f(xs[0], axis=0))
            coords = np.cumsum(np.abs(data((shape[-1],), 7)) + 0.3)
            yield Case(f"{shape} coordinates axis=-1", [x], lambda f, xs, c=coords: f(xs[0], c, axis=-1))
            yield Case(f"{shape} coordinates edge_order=2", [x],
                       lambda f, xs, c=coords: f(xs[0], c, axis=-1, edge_order=2))
            yield Case(f"{shape} edge_order=3", [x], lambda f, xs: f(xs[0], edge_order=3))

    @m.cases(np.interp)
    def interp(f):
        xp, fp = np.array([-1.5, -0.2, 0.4, 1.1, 2.5]), np.array([0.3, -1.0, 2.0, 0.5, 1.5])
        for shape in S:
            x = data(shape) * 1.3
            yield Case(f"{shape} in x", [x], lambda f, xs: f(xs[0], xp, fp))
            yield Case(f"{shape} in x and fp", [x, fp], lambda f, xs: f(xs[0], xp, xs[1]))
            yield Case(f"{shape} in fp", [fp], lambda f, xs, x=x: f(x, xp, xs[0]))
            yield Case(f"{shape} left right", [x], lambda f, xs: f(xs[0] * 2.0, xp, fp, left=-3.0, right=4.0))
            yield Case(f"{shape} period", [x], lambda f, xs: f(xs[0], xp, fp, period=4.0))
            yield Case(f"{shape} list fp", [x], lambda f, xs: f(xs[0], list(xp), list(fp)))
        yield Case("lengths differ", [data((3,))], lambda f, xs: f(xs[0], xp, fp[:3]))
        yield Case("empty xp", [data((3,))], lambda f, xs: f(xs[0], [], []))

    # ---- var/std/nanvar/nanstd with every ddof: n - 1, and n or more (numpy's inf or NaN, a constant) -----------
    @m.cases(np.var, np.std, np.nanvar, np.nanstd)
    def dof(f):
        for shape in S[1:]:
            x = data(shape)
            n = x.shape[-1]
            for ddof in (n - 1, n, n + 1):
                yield Case(f"{shape} axis=-1 ddof={ddof}", [x], lambda f, xs, d=ddof: f(xs[0], axis=-1, ddof=d))
                yield Case(f"{shape} ddof={ddof} keepdims", [x],
                           lambda f, xs, d=ddof: f(xs[0], axis=-1, ddof=d, keepdims=True))
            yield Case(f"{shape} correction=n", [x], lambda f, xs, n=n: f(xs[0], axis=-1, correction=n))

