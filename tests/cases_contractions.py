"""Agreement cases for tests/test_numpy_agreement.py: contractions. ``register(m)`` adds them with the engine's own
``m.cases``, ``m.Case``, ``m.data``, ``m.unary``, ... (m is that test module)."""
import numpy as np

# (subscripts, operand shapes): every form numpy documents -- explicit and implicit output, repeated letters in
# one operand (diagonals, traces), letters summed out in one operand alone, ellipses that broadcast (size-1 axes
# and missing leading axes), size-1 letters that stretch, three operands, scalars
EINSUM_SPECS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
    ("ii->", [(3, 3)]), ("iij->j", [(2, 2, 3)]), ("iij->ij", [(2, 2, 3)]), ("iii->i", [(2, 2, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("i,j->ij", [(3,), (4,)]), ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]), ("ijk->kji", [(2, 3, 4)]), ("ij", [(2, 3)]), ("ji", [(2, 3)]), ("i", [(3,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]), ("...ij,...jk", [(2, 3), (4, 3, 2)]),
    ("...i,...i->...", [(2, 3), (3,)]), ("i...->...", [(3, 2)]), ("...ii->...i", [(2, 3, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("i,ij,j", [(3,), (3, 4), (4,)]), ("ij,ij->i", [(2, 3), (2, 3)]),
    ("ij,ij->", [(2, 3), (2, 3)]), ("i,i", [(3,), (3,)]), ("ij,k->i", [(2, 3), (4,)]), ("ii,i->i", [(3, 3), (3,)]),
    ("ij,j->i", [(2, 3), (1,)]), ("ij,ij->ij", [(1, 3), (2, 3)]), ("Ba,aC", [(2, 3), (3, 4)]),
    ("aB,Ba", [(2, 3), (3, 2)]), (",i->i", [(), (3,)]), ("", [()]), ("...,...", [(), (2, 3)]),
    ("ij,kl->ijkl", [(2, 2), (2, 3)]), ("i, j -> ij", [(2,), (3,)]), ("ij,jk,kl,lm->im", [(2, 2)] * 4),
    # numpy refuses these: so must both modes, clearly
    ("ij,jk", [(2, 3), (4, 2)]), ("ij->ii", [(2, 2)]), ("ij,jk", [(2, 3)]), ("ii", [(2, 3)]), ("...i->i", [(2, 3)]),
    ("ij->k", [(2, 3)]),
]


def register(m):
    @m.cases(np.einsum)
    def einsum(f):
        for spec, shapes in EINSUM_SPECS:
            arrays = [m.data(s, i) for i, s in enumerate(shapes)]
            yield m.Case(f"{spec!r} {shapes}", arrays, lambda f, xs, s=spec: f(s, *xs))
            if len(arrays) > 1:  # one operand a plain constant
                yield m.Case(f"{spec!r} {shapes}, first constant", arrays[1:],
                             lambda f, xs, s=spec, a=arrays[0]: f(s, a, *xs))
        x, a, b = m.data((3,)), m.data((3, 4), 1), m.data((4, 2), 2)
        yield m.Case("'i,i' the same operand twice", [x], lambda f, xs: f("i,i", xs[0], xs[0]))
        yield m.Case("'i,ij,j' x A x", [x, a[:, :3]], lambda f, xs: f("i,ij,j", xs[0], xs[1], xs[0]))
        yield m.Case("sublists, explicit output", [a, b], lambda f, xs: f(xs[0], [0, 1], xs[1], [1, 2], [0, 2]))
        yield m.Case("sublists, implicit output", [a, b], lambda f, xs: f(xs[0], [0, 1], xs[1], [1, 2]))
        yield m.Case("sublists, ellipsis", [a, b[:, 0]],
                     lambda f, xs: f(xs[0], [Ellipsis, 1], xs[1], [1], [Ellipsis]))
        yield m.Case("sublists, trace", [a[:, :3]], lambda f, xs: f(xs[0], [5, 5]))
        yield m.Case("sublists, out of range", [a], lambda f, xs: f(xs[0], [0, 60]))
        yield m.Case("sublists, numpy integers", [a, b], lambda f, xs: f(xs[0], np.array([0, 1]), xs[1],
                                                                        (np.int64(1), 2), [0, 2]))
        for opt in (True, False, "greedy", "optimal"):
            yield m.Case(f"optimize={opt!r}", [a, b, x], lambda f, xs, o=opt: f("ij,jk,i->k", *xs, optimize=o))
        yield m.Case("out=", [a, b], lambda f, xs: f("ij,jk->ik", *xs, out=np.zeros((3, 2))), may_refuse=True)
        yield m.Case("dtype=float64", [a, b], lambda f, xs: f("ij,jk->ik", *xs, dtype=np.float64))
        yield m.Case("list operand", [a], lambda f, xs: f("ij,j->i", xs[0], [1.0, 2.0, 3.0, 4.0]))

    @m.cases(np.einsum_path)
    def einsum_path(f):
        a, b, c = m.data((2, 3)), m.data((3, 4), 1), m.data((4, 5), 2)
        # (the path only: its second result is a printed report)
        yield m.Case("path", [a, b, c], lambda f, xs: tuple(f("ij,jk,kl->il", *xs, optimize="greedy")[0][1:]))

    @m.cases(np.tensordot, np.linalg.tensordot)
    def tensordot(f):
        linalg = f is np.linalg.tensordot
        for sa, sb, axes in [((2, 3, 4), (3, 4, 2), 2), ((2, 3), (3, 4), 1), ((2, 3), (4,), 0), ((), (3,), 0),
                             ((3, 2, 4), (2, 3), ([1, 0], [0, 1])), ((2, 3), (3, 4), (1, 0)),
                             ((2, 3), (4, 3), ([-1], [-1])), ((2, 3), (3, 4), [[1], [0]]), ((3, 3), (3, 3), 2),
                             ((2, 3), (3, 4), 2), ((2, 3), (2, 3), ([0], [1])), ((2, 3), (3,), 3),
                             ((2, 3), (3, 2), ([0, 1], [1]))]:
            arrays = [m.data(sa, 1), m.data(sb, 2)]
            yield m.Case(f"{sa} {sb} axes={axes}", arrays, lambda f, xs, ax=axes: f(xs[0], xs[1], axes=ax))
            yield m.Case(f"{sa} {sb} axes={axes}, second constant", arrays[:1],
                         lambda f, xs, ax=axes, b=arrays[1]: f(xs[0], b, axes=ax))
        if not linalg:
            yield m.Case("default axes=2", [m.data((2, 3, 4)), m.data((3, 4))], lambda f, xs: f(xs[0], xs[1]))
            yield m.Case("positional axes", [m.data((2, 3)), m.data((3, 4))], lambda f, xs: f(xs[0], xs[1], 1))

    @m.cases(np.kron)
    def kron(f):
        yield from m.binary(f, [((3,), (2,)), ((2, 3), (2, 2)), ((2, 3), (4,)), ((), (3,)), ((2, 1, 2), (3, 2)),
                                ((3,), (2, 2)), ((), ()), ((1, 3), (2, 1))])

    @m.cases(np.cross)
    def cross(f):
        pairs = [((3,), (3,)), ((2, 3), (3,)), ((2,), (3,)), ((3,), (2,)), ((2,), (2,)), ((4, 3), (4, 3)),
                 ((2, 1, 3), (4, 3)), ((2, 2), (2, 3)), ((4,), (3,)), ((), (3,))]
        yield from m.binary(f, pairs)
        a, b = m.data((3, 2), 1), m.data((2, 3), 2)
        yield m.Case("axisa=0", [a, b], lambda f, xs: f(xs[0], xs[1], axisa=0))
        yield m.Case("axisa=0 axisc=0", [a, b], lambda f, xs: f(xs[0], xs[1], axisa=0, axisc=0))
        yield m.Case("axisa axisb axisc positional", [a, b.T], lambda f, xs: f(xs[0], xs[1], 0, 0, 0))
        c, d = m.data((2, 3, 4), 1), m.data((3, 4), 2)
        yield m.Case("axis=-2", [c, d], lambda f, xs: f(xs[0], xs[1], axis=-2))
        yield m.Case("axisa out of range", [a, b], lambda f, xs: f(xs[0], xs[1], axisa=2))
        yield m.Case("axisc out of range", [a, b], lambda f, xs: f(xs[0], xs[1], axisa=0, axisc=3))

    # dot, inner, vdot, outer, matmul: the engine's pairs, and operands of more dimensions (numpy's rules: dot
    # sums a's last axis with b's second-to-last, matmul broadcasts its stacks)
    @m.cases(np.dot)
    def dot_nd(f):
        yield from m.binary(f, [((2, 3, 4), (5, 4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)), ((2, 2, 4), (4, 3)),
                                ((2, 3), (2, 3, 4)), ((2, 1, 3), (3,))])
        yield m.Case("list operand", [m.data((2, 3))], lambda f, xs: f(xs[0], [1.0, 2.0, 3.0]))
        yield m.Case("out=", [m.data((2, 3)), m.data((3,), 1)], lambda f, xs: f(xs[0], xs[1], np.zeros(2)),
                     may_refuse=True)

    @m.cases(np.inner)
    def inner_nd(f):
        yield from m.binary(f, [((2, 3, 4), (5, 4)), ((2, 3, 4), (2, 3, 4)), ((4,), (2, 3, 4)), ((2, 4), (3,))])
        yield m.Case("list operand", [m.data((2, 3))], lambda f, xs: f([1.0, 2.0, 3.0], xs[0]))

    @m.cases(np.vdot)
    def vdot_nd(f):
        yield from m.binary(f, [((2, 3), (3, 2)), ((2, 3, 4), (24,)), ((2, 3), (5,))])

    @m.cases(np.outer)
    def outer_nd(f):
        yield from m.binary(f, [((2, 3), (2, 2, 2)), ((), (3,)), ((0,), (3,))])
        yield m.Case("out=", [m.data((2,)), m.data((3,), 1)], lambda f, xs: f(xs[0], xs[1], np.zeros((2, 3))),
                     may_refuse=True)

    @m.cases(np.matmul)
    def matmul_nd(f):
        yield from m.binary(f, [((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 2)),
                                ((3, 2, 3), (3, 3)), ((2, 3, 4), (2, 4)), ((2, 2, 3), (3, 2, 2))])

    @m.cases(np.linalg.matmul)
    def linalg_matmul(f):
        yield from m.binary(f, [((2, 3), (3, 4)), ((3,), (3,)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3), (2, 3)),
                                ((), (3,))])

    @m.cases(np.linalg.outer)
    def linalg_outer(f):
        yield from m.binary(f, [((3,), (4,)), ((2, 2), (2,)), ((), (2,))])

    @m.cases(np.linalg.vecdot)
    def linalg_vecdot(f):
        yield from m.binary(f, [((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (4, 3)), ((2, 3), (2, 1)), ((3,), (4,)),
                                ((), (3,))])
        a, b = m.data((3, 2), 1), m.data((3, 2), 2)
        yield m.Case("axis=0", [a, b], lambda f, xs: f(xs[0], xs[1], axis=0))
        yield m.Case("axis=0, broadcast", [a, b[:, :1]], lambda f, xs: f(xs[0], xs[1], axis=0))
        yield m.Case("axis out of range", [a, b], lambda f, xs: f(xs[0], xs[1], axis=2))

    @m.cases(np.linalg.cross)
    def linalg_cross(f):
        yield from m.binary(f, [((3,), (3,)), ((2, 3), (3,)), ((2,), (2,)), ((2,), (3,)), ((4, 3), (1, 3))])
        a, b = m.data((3, 2), 1), m.data((3, 1), 2)
        yield m.Case("axis=0", [a, b], lambda f, xs: f(xs[0], xs[1], axis=0))
