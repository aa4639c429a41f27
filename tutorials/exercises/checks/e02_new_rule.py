"""Checks for exercise 02: softplus as a new rule, in forward and reverse mode, first and second order.

References: the value ln(1 + eˣ) from math.log1p/math.exp (and x itself where eˣ overflows), its slope by central
differences of that reference and by the closed form σ(x) = (1 + tanh(x/2))/2, the second derivative by the closed
form σ(x)(1 - σ(x)). The student's rule goes into the table only inside ``dualnum.rules.override``; the checks also
make sure it leaves nothing behind (the table, the compiled kernels' switch).
"""
import math

import numpy as np

import dualnum
from dualnum import rules, tracker
from dualnum.backends import kernels
from tutorials.exercises import grader

NAME = "a new rule in the table"
TASK = "give dualnum softplus (value and slope) as a scoped rule; differentiate it in forward and reverse mode"
FOLLOWS = "tutorial 5 (dual numbers from scratch) and tutorial 1 (how Flux works)"
TIME_LIMIT = 30

POINTS = (-3.0, -0.4, 0.0, 0.8, 2.5)


def sp_ref(x):
    """ln(1 + eˣ) on one float (x itself, to double precision, once e⁻ˣ is below 1e-17)."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def sigma(x):
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def checks(student):
    def scoped(fn):
        """fn() with the student's rule in the table, as the exercise asks."""
        def run():
            with rules.override(student.SOFTPLUS):
                return fn()
        return run

    def number(fn):
        """fn()'s result as a float (a 1-tuple from tracker.gradient unpacked): a Dual or tracked value fails."""
        def get():
            r = fn()
            if isinstance(r, tuple) and len(r) == 1:
                r = r[0]
            if not isinstance(r, (float, int, np.floating, np.ndarray)) or np.ndim(r) != 0:
                raise grader.Mismatch(f"expected a number, got {grader._type_name(r)}: {grader.fmt(r)}")
            return float(r)
        return get

    # ---- the value --------------------------------------------------------------------------------------------
    for x0 in POINTS:
        yield grader.close(f"softplus_value({x0}) = ln(1 + e^{x0})", lambda x0=x0: student.softplus_value(x0),
                           sp_ref(x0), rtol=1e-12,
                           hint="softplus(x) = ln(1 + eˣ): np.logaddexp(0, x) computes ln(e⁰ + eˣ)")
    yield grader.close("softplus_value(1000) = 1000 (no overflow)", lambda: student.softplus_value(1000.0),
                       1000.0, rtol=1e-12, hint="ln(1 + e¹⁰⁰⁰): e¹⁰⁰⁰ overflows to inf, np.logaddexp(0, x) does not")
    yield grader.close("softplus_value(-50) = ln(1 + e⁻⁵⁰) ≈ e⁻⁵⁰", lambda: student.softplus_value(-50.0),
                       math.exp(-50.0), rtol=1e-9, atol=0.0,
                       hint="for very negative x the answer is tiny but not 0: np.logaddexp(0, x) keeps it")
    xs = np.array([-2.0, 0.0, 1.5, 4.0])
    yield grader.close("softplus_value on an array, element by element", lambda: student.softplus_value(xs),
                       np.array([sp_ref(v) for v in xs]), rtol=1e-12,
                       hint="use numpy functions so that an array works elementwise")

    # ---- the slope formula itself -----------------------------------------------------------------------------
    for x0 in (-2.0, 0.0, 1.1):
        yield grader.close(f"softplus_slope({x0}, z) = σ({x0})",
                           lambda x0=x0: student.softplus_slope(x0, sp_ref(x0)), sigma(x0), rtol=1e-12,
                           hint="d/dx ln(1 + eˣ) = eˣ/(1 + eˣ) = 1/(1 + e⁻ˣ): the logistic sigmoid")
    yield grader.close("softplus_slope(40, z) ≈ 1 and softplus_slope(-40, z) ≈ e⁻⁴⁰",
                       lambda: (student.softplus_slope(40.0, 40.0), student.softplus_slope(-40.0, sp_ref(-40.0))),
                       (1.0, math.exp(-40.0)), rtol=1e-9, atol=0.0, hint="σ(x) = 1/(1 + e⁻ˣ): mind the minus sign")

    # ---- forward mode -----------------------------------------------------------------------------------------
    for x0 in POINTS:
        yield grader.close(f"dualnum.derivative(softplus, {x0}) vs central differences",
                           number(scoped(lambda x0=x0: dualnum.derivative(student.softplus, x0))),
                           grader.fd_derivative(sp_ref, x0), rtol=1e-7, atol=1e-9,
                           hint="forward mode multiplies your slope by the seed: the slope must be σ(x)")
    for x0 in (-1.0, 0.0, 2.0):
        s = sigma(x0)
        yield grader.close(f"second derivative, forward over forward, at {x0} = σ(1 - σ)",
                           number(scoped(lambda x0=x0: dualnum.derivative(student.softplus, x0, order=2))),
                           s * (1.0 - s), rtol=1e-10,
                           hint="the slope formula is itself differentiated on a dual number: write it with "
                                "np.exp (math.exp cannot take a dual number), in terms of x")
    yield grader.close("dualnum.gradient of Σ softplus(xᵢ) over a large array (2000 points) = σ(xᵢ)",
                       scoped(lambda: dualnum.gradient(lambda x: np.sum(student.softplus(x)),
                                                       np.linspace(-4, 4, 2000))[0]),
                       np.array([sigma(v) for v in np.linspace(-4, 4, 2000)]), rtol=1e-10,
                       hint="the slope must work elementwise on arrays (numpy functions, no Python if on x)")

    # ---- reverse mode -----------------------------------------------------------------------------------------
    for x0 in POINTS:
        yield grader.close(f"tracker.gradient(softplus, {x0}) vs central differences",
                           number(scoped(lambda x0=x0: tracker.gradient(student.softplus, x0))),
                           grader.fd_derivative(sp_ref, x0), rtol=1e-7, atol=1e-9,
                           hint="reverse mode multiplies the incoming gradient by your slope: it must be σ(x)")
    for x0 in (-1.0, 0.5):
        s = sigma(x0)
        yield grader.close(f"second derivative, reverse over reverse, at {x0} = σ(1 - σ)",
                           number(scoped(lambda x0=x0: tracker.gradient(
                               lambda x: tracker.gradient(student.softplus, x, nest=True)[0], x0))),
                           s * (1.0 - s), rtol=1e-10,
                           hint="the slope formula is recorded on the tape too: numpy functions of x only")
        yield grader.close(f"second derivative, forward over reverse, at {x0} = σ(1 - σ)",
                           number(scoped(lambda x0=x0: dualnum.derivative(
                               lambda x: tracker.gradient(student.softplus, x)[0], x0))),
                           s * (1.0 - s), rtol=1e-10, hint="np.exp, not math.exp, in the slope")

    # ---- gradients(xs): the student's own override block ------------------------------------------------------
    g = np.array([-3.0, -0.5, 0.0, 0.7, 2.0])
    ref = np.array([sigma(v) for v in g])
    result = {}

    def both():
        if "r" not in result:
            before = (dict(rules.RULES), dict(rules.BY_FUNCTION), kernels.ENABLED)
            r = student.gradients(g.copy())
            after = (dict(rules.RULES), dict(rules.BY_FUNCTION), kernels.ENABLED)
            result["r"], result["leak"] = r, after != before
            result["left"] = "softplus" in rules.RULES
        r = result["r"]
        if not isinstance(r, tuple) or len(r) != 2:
            raise grader.Mismatch(f"expected a pair (forward, reverse), got {grader.fmt(r)}")
        return r

    yield grader.close("gradients(xs)[0]: forward mode = σ(xs)", lambda: both()[0], ref, rtol=1e-10,
                       hint="dualnum.gradient(lambda x: np.sum(softplus(x)), xs)[0], inside the override block")
    yield grader.close("gradients(xs)[1]: reverse mode = σ(xs)", lambda: both()[1], ref, rtol=1e-10,
                       hint="tracker.gradient(lambda x: np.sum(softplus(x)), xs)[0], inside the override block")
    yield grader.true("after gradients(xs), softplus is gone from the table and nothing else changed",
                      lambda: (both() is not None) and not result["left"] and not result["leak"],
                      hint="use `with dualnum.rules.override(SOFTPLUS):` -- never add to dualnum.rules.RULES "
                           "yourself", detail="the table (or the compiled kernels' switch) is not as it was")
