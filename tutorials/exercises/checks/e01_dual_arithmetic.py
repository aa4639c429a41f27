"""Checks for exercise 01: division and powers of a hand-written Dual, and derivative(f, x).

Every reference is a number worked out by hand from the rule (its derivation in the label or beside it) or a
closed-form derivative; derivative(f, x) is also compared with central differences of f on plain floats.
"""
import math

from tutorials.exercises import grader

NAME = "dual arithmetic by hand"
TASK = "write / and ** (and c / x, c ** x) for a 30-line Dual, then derivative(f, x)"
FOLLOWS = "tutorial 5 (dual numbers from scratch)"
TIME_LIMIT = 20

LN2, LN3 = math.log(2.0), math.log(3.0)


def checks(student):
    Dual = student.Dual

    def vd(make):
        """(value, ε-part) of the Dual that make() returns; anything else is a failed check, said plainly."""
        def get():
            d = make()
            if not isinstance(d, Dual):
                raise grader.Mismatch(f"expected a Dual, got {grader._type_name(d)}: {grader.fmt(d)} "
                                      f"(return Dual(value, deriv))")
            return (d.value, d.deriv)
        return get

    # ---- division --------------------------------------------------------------------------------------------
    q = "the quotient rule: (a'b - ab')/b², the value a/b"
    yield grader.close("Dual(3, 1) / Dual(2, 0) = 1.5 + (1·2 - 3·0)/4 ε = (1.5, 0.5)",
                       vd(lambda: Dual(3.0, 1.0) / Dual(2.0, 0.0)), (1.5, 0.5), hint=q)
    yield grader.close("Dual(3, 0) / Dual(2, 1) = 1.5 + (0·2 - 3·1)/4 ε = (1.5, -0.75)",
                       vd(lambda: Dual(3.0, 0.0) / Dual(2.0, 1.0)), (1.5, -0.75),
                       hint="the second term of the quotient rule, -ab'/b², has a minus sign and b² below")
    yield grader.close("Dual(3, 2) / Dual(2, 5) = 1.5 + (2·2 - 3·5)/4 ε = (1.5, -2.75)",
                       vd(lambda: Dual(3.0, 2.0) / Dual(2.0, 5.0)), (1.5, -2.75),
                       hint="(a'b - ab')/b²: a' times b, minus a times b', all over b squared")
    yield grader.close("Dual(-1, 3) / Dual(4, -2) = -0.25 + (3·4 - (-1)(-2))/16 ε = (-0.25, 0.625)",
                       vd(lambda: Dual(-1.0, 3.0) / Dual(4.0, -2.0)), (-0.25, 0.625), hint=q)
    yield grader.close("Dual(3, 1) / 4 = (0.75, 0.25): a number divisor is a constant",
                       vd(lambda: Dual(3.0, 1.0) / 4.0), (0.75, 0.25),
                       hint="lift the number to Dual(4, 0) (the lift function) before the quotient rule")
    yield grader.close("6 / Dual(2, 1) = 3 + (0·2 - 6·1)/4 ε = (3, -1.5)",
                       vd(lambda: 6.0 / Dual(2.0, 1.0)), (3.0, -1.5),
                       hint="__rtruediv__ computes other / self (not self / other): lift(other) / self")
    yield grader.close("1 / Dual(4, 1) = (0.25, -1/16)", vd(lambda: 1.0 / Dual(4.0, 1.0)), (0.25, -0.0625),
                       hint="d(1/x) = -x'/x²")

    # ---- powers with a number exponent ----------------------------------------------------------------------
    p = "the power rule: (a + a'ε)ⁿ = aⁿ + n·aⁿ⁻¹·a' ε"
    yield grader.close("Dual(2, 1) ** 3 = 8 + 3·4·1 ε = (8, 12)", vd(lambda: Dual(2.0, 1.0) ** 3), (8.0, 12.0),
                       hint=p)
    yield grader.close("Dual(3, 0.5) ** 2 = 9 + 2·3·0.5 ε = (9, 3)", vd(lambda: Dual(3.0, 0.5) ** 2), (9.0, 3.0),
                       hint=p + ": times a', the ε-part of the base")
    yield grader.close("Dual(4, 1) ** 0.5 = 2 + 0.5·4^(-0.5) ε = (2, 0.25)", vd(lambda: Dual(4.0, 1.0) ** 0.5),
                       (2.0, 0.25), hint=p + " for a fractional n too: the exponent of a is n - 1")
    yield grader.close("Dual(2, 1) ** -1 = 0.5 + (-1)·2^(-2) ε = (0.5, -0.25)", vd(lambda: Dual(2.0, 1.0) ** -1),
                       (0.5, -0.25), hint=p + " for a negative n")
    yield grader.close("Dual(0, 1) ** 1 = (0, 1)", vd(lambda: Dual(0.0, 1.0) ** 1), (0.0, 1.0),
                       hint="n·aⁿ⁻¹·a' with n = 1 is a': 0.0 ** 0 is 1")
    yield grader.close("Dual(0, 1) ** 0 = (1, 0): x⁰ is the constant 1, even at x = 0",
                       vd(lambda: Dual(0.0, 1.0) ** 0), (1.0, 0.0),
                       hint="treat n == 0 apart: the value is 1 and the derivative 0 (0 ** -1 would divide by zero)")
    yield grader.close("Dual(5, 2) ** 0 = (1, 0)", vd(lambda: Dual(5.0, 2.0) ** 0), (1.0, 0.0),
                       hint="x⁰ = 1 for every x: derivative 0")

    # ---- powers with a Dual exponent, and a number base ----------------------------------------------------
    yield grader.close("Dual(2, 1) ** Dual(3, 0) = (8, 3·2²·1) = (8, 12)",
                       vd(lambda: Dual(2.0, 1.0) ** Dual(3.0, 0.0)), (8.0, 12.0),
                       hint="a Dual exponent: b·aᵇ⁻¹·a' is the part from the base (the power rule)")
    yield grader.close("Dual(2, 0) ** Dual(3, 1) = (8, 8·ln 2)",
                       vd(lambda: Dual(2.0, 0.0) ** Dual(3.0, 1.0)), (8.0, 8.0 * LN2),
                       hint="the exponent's part: aᵇ·ln(a)·b' (from aᵇ = exp(b ln a))")
    yield grader.close("Dual(3, 2) ** Dual(2, -1) = (9, 2·3·2 - 9·ln 3)",
                       vd(lambda: Dual(3.0, 2.0) ** Dual(2.0, -1.0)), (9.0, 12.0 - 9.0 * LN3),
                       hint="both parts added: b·aᵇ⁻¹·a' + aᵇ·ln(a)·b'")
    yield grader.close("Dual(4, 1) ** Dual(0.5, 2) = (2, 0.5·4^(-0.5)·1 + 2·ln 4·2) = (2, 0.25 + 4 ln 4)",
                       vd(lambda: Dual(4.0, 1.0) ** Dual(0.5, 2.0)), (2.0, 0.25 + 4.0 * math.log(4.0)),
                       hint="b·aᵇ⁻¹·a': the base to the power b - 1 (a square root's slope is 1/(2√a))")
    yield grader.close("2 ** Dual(3, 1) = (8, 8·ln 2)", vd(lambda: 2.0 ** Dual(3.0, 1.0)), (8.0, 8.0 * LN2),
                       hint="__rpow__ computes other ** self: cᵇ + cᵇ·ln(c)·b' ε (c is the base)")
    yield grader.close("3 ** Dual(2, 0.5) = (9, 9·ln 3·0.5)", vd(lambda: 3.0 ** Dual(2.0, 0.5)),
                       (9.0, 4.5 * LN3), hint="cᵇ·ln(c) times b', the ε-part of the exponent")

    # ---- derivative(f, x) ----------------------------------------------------------------------------------
    def f1(x):
        return (x ** 3 - 2.0) / (1.0 + x ** 2)

    def df1(x):  # quotient rule by hand: (3x²(1 + x²) - (x³ - 2)·2x) / (1 + x²)²
        return (3 * x ** 2 * (1 + x ** 2) - (x ** 3 - 2) * 2 * x) / (1 + x ** 2) ** 2

    for x0 in (-1.5, 0.0, 0.7, 2.0):
        yield grader.close(f"derivative((x³ - 2)/(1 + x²), {x0}) vs the quotient rule by hand",
                           lambda x0=x0: student.derivative(f1, x0), df1(x0), rtol=1e-10,
                           hint="derivative seeds Dual(x, 1.0) and returns the .deriv of f's result")

    def f2(x):
        return 2.0 ** x / x + 1.0 / x ** 0.5

    for x0 in (0.5, 1.3, 3.0):
        yield grader.close(f"derivative(2ˣ/x + 1/√x, {x0}) vs central differences",
                           lambda x0=x0: student.derivative(f2, x0), grader.fd_derivative(f2, x0), rtol=1e-6,
                           hint="c ** x (__rpow__), division by x and x ** -0.5 together")

    def f3(x):
        return x ** x

    yield grader.close("derivative(xˣ, 2) = 2²·(ln 2 + 1)", lambda: student.derivative(f3, 2.0),
                       4.0 * (LN2 + 1.0), rtol=1e-10, hint="a Dual raised to a Dual: both parts of the rule")
    yield grader.close("derivative(x -> 5, 1) = 0 (a constant: f returns a plain number)",
                       lambda: student.derivative(lambda x: 5.0, 1.0), 0.0,
                       hint="f may return a plain number: its derivative is 0")
    yield grader.close("derivative(x -> 3x, 2) = 3", lambda: student.derivative(lambda x: 3.0 * x, 2.0), 3.0,
                       hint="seed the ε-part with 1: Dual(x, 1.0)")
