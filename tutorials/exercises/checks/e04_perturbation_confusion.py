"""Checks for exercise 04: the numbers of perturbation confusion, and a tagged dual number that fixes it.

References: the numbers worked out by hand (beside each), closed forms of nested derivatives, and dualnum's own
tagged nested derivative on the same expression (dualnum.derivative inside dualnum.derivative).
"""
import dualnum
from tutorials.exercises import grader

NAME = "perturbation confusion"
TASK = "explain why a tag-less nested derivative gives 2 instead of 1; fix it with tagged dual numbers"
FOLLOWS = "tutorial 5 (dual numbers from scratch: perturbation confusion)"
TIME_LIMIT = 20


def checks(student):
    T = student.TDual

    # ---- part 1 ---------------------------------------------------------------------------------------------------
    # outer x = 1 + ε, inner y = 1 + ε (the same ε): x + y = 2 + 2ε, inner reads 2; x · 2 = 2 + 2ε: outer reads 2
    yield grader.close("NAIVE: the tag-less D's answer, (1 + ε)·2 → 2", lambda: student.confusion_numbers()[0],
                       2.0,
                       hint="run naive_D(lambda x: x * naive_D(lambda y: x + y, 1.0), 1.0)")
    yield grader.close("INNER_SUM: x + y inside the inner D = (1 + ε) + (1 + ε) = (2, 2)",
                       lambda: tuple(student.confusion_numbers()[1]), (2.0, 2.0),
                       hint="both seeds use the same ε: their ε-parts add up")
    yield grader.close("RIGHT: d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1", lambda: student.confusion_numbers()[2],
                       1.0,
                       hint="d/dy (x + y) = 1 for every x")

    # ---- part 2: the pieces ---------------------------------------------------------------------------------------
    yield grader.equal("top_tag(TDual(1, 1, 2), TDual(1, 1, 5)) = 5",
                       lambda: student.top_tag(T(1.0, 1.0, 2), T(1.0, 1.0, 5)), 5,
                       hint="the LARGEST tag: the innermost (newest) derivative works at its level")
    yield grader.equal("top_tag(TDual(1, 1, 7), TDual(1, 1, 3)) = 7",
                       lambda: student.top_tag(T(1.0, 1.0, 7), T(1.0, 1.0, 3)), 7, hint="the largest tag")
    yield grader.equal("top_tag(2.0, TDual(1, 1, 3)) = 3 (a number has no tag)",
                       lambda: student.top_tag(2.0, T(1.0, 1.0, 3)), 3,
                       hint="a number is not a TDual: only TDuals have tags")
    yield grader.equal("top_tag(TDual(1, 1, 4), 2.0) = 4", lambda: student.top_tag(T(1.0, 1.0, 4), 2.0), 4,
                       hint="look at both arguments")
    yield grader.equal("top_tag(2.0, 3.0) = -1", lambda: student.top_tag(2.0, 3.0), -1,
                       hint="-1 when neither argument is a TDual")
    yield grader.close("split(TDual(3, 4, 5), 5) = (3, 4)", lambda: tuple(student.split(T(3.0, 4.0, 5), 5)),
                       (3.0, 4.0), hint="a TDual of this very tag: its own value and ε-part")
    yield grader.close("split(7.0, 2) = (7, 0)", lambda: tuple(student.split(7.0, 2)), (7.0, 0.0),
                       hint="a number is a constant: ε-part 0")

    def other_level():
        inner = T(3.0, 4.0, 2)
        v, d = student.split(inner, 5)
        return v is inner and d == 0

    yield grader.true("split(TDual(3, 4, 2), 5) = (that TDual itself, 0)", other_level,
                      hint="a TDual of ANOTHER tag is a constant at this level: the whole of it is the value, "
                           "the ε-part is 0 (reading its deriv is the confusion)",
                      detail=lambda: f"got {student.split(T(3.0, 4.0, 2), 5)!r}")

    # ---- part 2: nested derivatives -------------------------------------------------------------------------------
    D = student.D
    fix = "D takes a NEW tag (next(_TAGS)) for each call and reads the ε-part at that tag only"
    yield grader.close("D(x -> x · D(y -> x + y, 1), 1) = 1 (not 2)", lambda: D(lambda x: x * D(lambda y: x + y, 1.0),
                                                                                1.0), 1.0, hint=fix)
    yield grader.close("D(x -> 3x, 2) = 3", lambda: D(lambda x: 3.0 * x, 2.0), 3.0,
                       hint="seed the ε-part with 1: TDual(x, 1.0, tag)")
    yield grader.close("D(x -> x·x, 3) = 6", lambda: D(lambda x: x * x, 3.0), 6.0, hint="the product rule, given")
    yield grader.close("D(x -> 5, 1) = 0 (f returns a number)", lambda: D(lambda x: 5.0, 1.0), 0.0,
                       hint="a result that is not a TDual of this call's tag has ε-part 0 (use split)")
    # d/dx [x · d/dy (x y)] = d/dx [x · x] = 2x = 6 at x = 3
    yield grader.close("D(x -> x · D(y -> x·y, 2), 3) = d/dx x² = 6",
                       lambda: D(lambda x: x * D(lambda y: x * y, 2.0), 3.0), 6.0, hint=fix)
    # d/dx [d/dy (x y²)] at y = 1 = d/dx [2xy] = 2
    yield grader.close("D(x -> D(y -> x·y·y, 1), 2) = d/dx (2x) = 2",
                       lambda: D(lambda x: D(lambda y: x * y * y, 1.0), 2.0), 2.0, hint=fix)
    # the second derivative by nesting: (t³)'' = 6t = 12 at 2
    yield grader.close("D(x -> D(t -> t³, x), 2) = 12 (a second derivative)",
                       lambda: D(lambda x: D(lambda t: t * t * t, x), 2.0), 12.0,
                       hint="the inner D's result is a TDual of the outer tag: return the ε-part itself, "
                            "whatever it holds")
    # three levels: d/dz (x y z²) at 1 = 2xy; d/dy at 1 = 2x; d/dx = 2
    yield grader.close("D(x -> D(y -> D(z -> x·y·z·z, 1), 1), 1) = 2 (three levels)",
                       lambda: D(lambda x: D(lambda y: D(lambda z: x * y * z * z, 1.0), 1.0), 1.0), 2.0, hint=fix)
    # y defined outside: D(y -> D(x -> x + y, 1) · y, 1) = d/dy (1 · y) = 1
    yield grader.close("D(y -> D(x -> x + y, 1) · y, 1) = 1 (the outer variable in the inner sum)",
                       lambda: D(lambda y: D(lambda x: x + y, 1.0) * y, 1.0), 1.0, hint=fix)

    def g(x, deriv):
        return x * deriv(lambda y: (x + y) * (x - y) / (1.0 + y), 0.5)

    for x0 in (1.3, -0.7):
        yield grader.close(f"x · D(y -> (x+y)(x-y)/(1+y), 0.5), differentiated at {x0}, vs dualnum's tags",
                           lambda x0=x0: D(lambda x: g(x, D), x0),
                           dualnum.derivative(lambda x: g(x, dualnum.derivative), x0), rtol=1e-12, hint=fix)
