"""Exercise 01 -- dual-number arithmetic by hand: division and powers (follows tutorial 5, "Dual numbers from
scratch").

A dual number a + a'·ε, with ε² = 0, carries a value a and a derivative a'. Arithmetic on dual numbers is the
chain rule: the ε-part of a product is the product rule, (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε. The ``Dual``
below already has +, -, * and unary minus. Write the rest:

1. ``Dual.__truediv__`` (x / y, y a Dual or a number): the quotient rule,
       (a + a'ε) / (b + b'ε) = a/b + (a'b - ab')/b² ε
   and ``Dual.__rtruediv__`` (c / y for a number c): the same rule with c = c + 0ε.
2. ``Dual.__pow__`` (x ** y):
   * y a number n:     (a + a'ε)ⁿ = aⁿ + n·aⁿ⁻¹·a' ε           (the power rule; x ** 0 has derivative 0)
   * y a Dual b + b'ε: aᵇ + (b·aᵇ⁻¹·a' + aᵇ·ln(a)·b') ε          (a > 0; from aᵇ = exp(b ln a))
   and ``Dual.__rpow__`` (c ** y for a number c > 0): cᵇ + cᵇ·ln(c)·b' ε.
3. ``derivative(f, x)``: f'(x) for f built from these operations: seed the ε-part with 1, f(Dual(x, 1)), and
   read the ε-part of the result (a result that is a plain number is a constant: derivative 0).

Values are plain Python floats; use ``math.log`` for ln. Check your work with
``python -m tutorials.exercises check 1``.
"""
import math


class Dual:
    """value + deriv·ε with ε² = 0."""

    def __init__(self, value, deriv=0.0):
        self.value, self.deriv = value, deriv

    def __add__(self, other):
        o = lift(other)
        return Dual(self.value + o.value, self.deriv + o.deriv)

    def __sub__(self, other):
        o = lift(other)
        return Dual(self.value - o.value, self.deriv - o.deriv)

    def __mul__(self, other):
        o = lift(other)
        return Dual(self.value * o.value, self.deriv * o.value + self.value * o.deriv)  # product rule

    def __neg__(self):
        return Dual(-self.value, -self.deriv)

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        return lift(other) - self

    def __truediv__(self, other):
        o = lift(other)
        # BEGIN SOLUTION: the quotient rule, (a'b - ab')/b²
        return Dual(self.value / o.value, (self.deriv * o.value - self.value * o.deriv) / (o.value * o.value))
        # END SOLUTION

    def __rtruediv__(self, other):
        # BEGIN SOLUTION: other / self, with other lifted to a Dual (derivative 0)
        return lift(other) / self
        # END SOLUTION

    def __pow__(self, other):
        if not isinstance(other, Dual):
            n = other
            # BEGIN SOLUTION: the power rule for a number exponent n (the derivative is 0 when n == 0)
            if n == 0:
                return Dual(1.0, 0.0)
            return Dual(self.value ** n, n * self.value ** (n - 1) * self.deriv)
            # END SOLUTION
        # BEGIN SOLUTION: a Dual exponent: aᵇ + (b·aᵇ⁻¹·a' + aᵇ·ln(a)·b') ε
        a, b = self.value, other.value
        z = a ** b
        return Dual(z, b * a ** (b - 1) * self.deriv + z * math.log(a) * other.deriv)
        # END SOLUTION

    def __rpow__(self, other):
        # BEGIN SOLUTION: c ** self for a number c: cᵇ + cᵇ·ln(c)·b' ε
        z = other ** self.value
        return Dual(z, z * math.log(other) * self.deriv)
        # END SOLUTION

    def __repr__(self):
        return f"Dual({self.value!r}, {self.deriv!r})"


def lift(x):
    """x as a Dual: a number is a constant, derivative 0."""
    return x if isinstance(x, Dual) else Dual(x, 0.0)


def derivative(f, x):
    """f'(x) by one evaluation of f on a dual number."""
    # BEGIN SOLUTION: seed ε-part 1, evaluate, read the ε-part (0 for a constant result)
    y = f(Dual(x, 1.0))
    return y.deriv if isinstance(y, Dual) else 0.0
    # END SOLUTION
