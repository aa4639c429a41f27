"""Checks for exercise 03: f'' by nesting derivatives, the curvature of a graph, Newton's method for a minimum.

References are closed forms worked out by hand (written beside each), the curvature of a circle (1/r), and
Newton's iterates from the exact recurrence with f' and f'' typed in by hand. The tolerance (1e-10) is far below
what finite differences reach, so f'' must come from nested dual numbers.
"""
import math

import numpy as np

from tutorials.exercises import grader

NAME = "a second derivative by nesting"
TASK = "f'' as the derivative of the derivative; the curvature of y = f(x); Newton's method for a minimum"
FOLLOWS = "tutorial 5 (dual numbers from scratch: nesting) and tutorial 7 (Taylor and Newton)"
TIME_LIMIT = 30


def checks(student):
    nest = "the derivative of (t -> derivative(f, t)) at x: two calls of dualnum.derivative, one inside the other"

    # ---- f'' --------------------------------------------------------------------------------------------------
    yield grader.close("(x³)'' at 2 = 6·2 = 12", lambda: student.second_derivative(lambda x: x ** 3, 2.0), 12.0,
                       rtol=1e-10, hint=nest)
    yield grader.close("(x⁴)'' at -1.5 = 12·2.25 = 27", lambda: student.second_derivative(lambda x: x ** 4, -1.5),
                       27.0, rtol=1e-10, hint=nest)
    for x0 in (-1.0, 0.3, 2.2):
        # (e^{sin x})'' = (cos²x - sin x) e^{sin x}
        yield grader.close(f"(e^sin x)'' at {x0} = (cos²x - sin x)·e^sin x",
                           lambda x0=x0: student.second_derivative(lambda x: np.exp(np.sin(x)), x0),
                           (math.cos(x0) ** 2 - math.sin(x0)) * math.exp(math.sin(x0)), rtol=1e-10,
                           hint=nest + " (finite differences are not exact enough here)")
    for x0 in (0.0, 0.8):
        # (1/(1+x²))'' = (6x² - 2)/(1 + x²)³
        yield grader.close(f"(1/(1+x²))'' at {x0} = (6x² - 2)/(1 + x²)³",
                           lambda x0=x0: student.second_derivative(lambda x: 1.0 / (1.0 + x * x), x0),
                           (6 * x0 ** 2 - 2) / (1 + x0 ** 2) ** 3, rtol=1e-10, atol=1e-12, hint=nest)
    yield grader.close("(3x + 1)'' = 0 (a line does not bend)",
                       lambda: student.second_derivative(lambda x: 3.0 * x + 1.0, 0.5), 0.0, hint=nest)

    # ---- curvature ----------------------------------------------------------------------------------------------
    k = "κ = f''/(1 + f'²)^(3/2): f'' on top, f' squared plus one, to the power 3/2, below"
    yield grader.close("curvature of y = x² at 0 = 2/(1 + 0)^1.5 = 2", lambda: student.curvature(lambda x: x * x, 0.0),
                       2.0, rtol=1e-10, hint=k)
    yield grader.close("curvature of y = x² at 1 = 2/5^1.5", lambda: student.curvature(lambda x: x * x, 1.0),
                       2.0 / 5.0 ** 1.5, rtol=1e-10, hint=k + " (here f' = 2 is not 0)")
    yield grader.close("curvature of y = x³ at -1 = -6/10^1.5", lambda: student.curvature(lambda x: x ** 3, -1.0),
                       -6.0 / 10.0 ** 1.5, rtol=1e-10, hint=k + "; the sign is the sign of f''")
    for r, x0 in ((1.0, 0.3), (2.0, -1.2), (0.5, 0.1)):
        yield grader.close(f"curvature of the upper circle of radius {r} at x = {x0} = -1/{r}",
                           lambda r=r, x0=x0: student.curvature(lambda x: np.sqrt(r * r - x * x), x0), -1.0 / r,
                           rtol=1e-9, hint=k + " (a circle of radius r bends by 1/r everywhere)")
    yield grader.close("curvature of y = sin x at π/2 = -1 (f' = 0 there)",
                       lambda: student.curvature(np.sin, math.pi / 2), -1.0, rtol=1e-10, hint=k)

    # ---- Newton's method for a minimum ----------------------------------------------------------------------------
    def newton_ref(d1, d2, x, steps):
        out = [x]
        for _ in range(steps):
            x = x - d1(x) / d2(x)
            out.append(x)
        return out

    nt = "x ← x - f'(x)/f''(x), starting from x0, with x0 first in the list"
    # f = x⁴/4 - x: f' = x³ - 1, f'' = 3x²; the minimum is x = 1
    yield grader.close("newton_minimum(x⁴/4 - x, 2, 6): iterates of x - (x³ - 1)/(3x²)",
                       lambda: student.newton_minimum(lambda x: x ** 4 / 4 - x, 2.0, 6),
                       newton_ref(lambda x: x ** 3 - 1, lambda x: 3 * x * x, 2.0, 6), rtol=1e-10, hint=nt)
    # f = cosh x - x/2: f' = sinh x - 1/2, f'' = cosh x; the minimum is asinh(1/2)
    yield grader.close("newton_minimum(cosh x - x/2, -1, 5): iterates of x - (sinh x - 1/2)/cosh x",
                       lambda: student.newton_minimum(lambda x: np.cosh(x) - 0.5 * x, -1.0, 5),
                       newton_ref(lambda x: math.sinh(x) - 0.5, math.cosh, -1.0, 5), rtol=1e-10, hint=nt)
    yield grader.close("newton_minimum((x - 3)², 0, 2) = [0, 3, 3] (a quadratic: one step)",
                       lambda: student.newton_minimum(lambda x: (x - 3.0) ** 2, 0.0, 2), [0.0, 3.0, 3.0],
                       rtol=1e-12, hint=nt)
    yield grader.close("newton_minimum(cosh x - x/2, 0, 8) ends at the minimum asinh(1/2)",
                       lambda: student.newton_minimum(lambda x: np.cosh(x) - 0.5 * x, 0.0, 8)[-1],
                       math.asinh(0.5), rtol=1e-12, hint=nt)
