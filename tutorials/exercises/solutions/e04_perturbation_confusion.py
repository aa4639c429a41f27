"""Exercise 04 -- perturbation confusion: a nested derivative that goes wrong, and tags that fix it (follows
tutorial 5, "Dual numbers from scratch": nesting and perturbation confusion).

Take    d/dx [ x · d/dy (x + y) ]   at x = 1, y = 1.
The inner derivative d/dy (x + y) is 1 whatever x is, so the whole thing is d/dx [x · 1] = 1.

The tag-less ``Dual`` and ``D`` below (tutorial 5's) answer 2. The outer D seeds x = 1 + 1ε; the inner D seeds
y = 1 + 1ε with the *same* ε, so x + y = 2 + 2ε and the inner D reads 2 where the truth is 1: it counted the outer
x's ε as its own. Part 1 asks you to confirm this with numbers; part 2 fixes it.

Part 1 (explain it, with numbers you can get by running the code or by hand): ``confusion_numbers()`` returns
  NAIVE: what ``naive_D(lambda x: x * naive_D(lambda y: x + y, 1.0), 1.0)`` returns;
  INNER_SUM: (value, ε-part) of x + y as the inner naive_D sees it;
  RIGHT: the true value of the nested derivative.

Part 2 (fix it with tags, as dualnum and ForwardDiff.jl do): every call of ``D`` makes its own ε, named by a new
tag (a number from a counter: an inner call, made later, gets a larger tag). A ``TDual(value, deriv, tag)`` is
value + deriv·ε_tag; its value and deriv may themselves be TDuals of smaller tags. An operation on two arguments
works at the level of the *largest* tag among them; an argument of another level (a number, or a TDual with a
smaller tag) is a constant there: its whole self is the value and its ε-part is 0. Write:
  ``top_tag(a, b)``: the largest tag among the TDual arguments (-1 when neither is one);
  ``split(x, tag)``: (value, ε-part) of x at level tag: (x.value, x.deriv) if x is a TDual of that tag, else (x, 0.0);
  ``D(f, x)``: take a new tag, evaluate f on TDual(x, 1.0, tag), return the ε-part at that tag of the result.
The arithmetic of TDual is given: it is written with these three.

Check your work with ``python -m tutorials.exercises check 4``.
"""
import itertools


# ---- the tag-less Dual of tutorial 5 (given; do not change) ------------------------------------------------------
class Dual:
    def __init__(self, value, deriv=0.0):
        self.value, self.deriv = value, deriv

    def __add__(self, o):
        o = lift(o)
        return Dual(self.value + o.value, self.deriv + o.deriv)

    def __mul__(self, o):
        o = lift(o)
        return Dual(self.value * o.value, self.deriv * o.value + self.value * o.deriv)

    __radd__, __rmul__ = __add__, __mul__

    def __repr__(self):
        return f"Dual({self.value!r}, {self.deriv!r})"


def lift(x):
    return x if isinstance(x, Dual) else Dual(x, 0.0)


def naive_D(f, x):
    """The tag-less derivative: seed ε-part 1, read the ε-part."""
    return lift(f(Dual(x, 1.0))).deriv


# ---- part 1: the numbers ------------------------------------------------------------------------------------------
def confusion_numbers():
    """(NAIVE, INNER_SUM, RIGHT): the tag-less answer, x + y as the inner D sees it (value, ε-part), the truth."""
    # BEGIN SOLUTION: the three numbers, by running naive_D or by hand
    naive = 2.0  # x · (inner) = (1 + ε) · 2 = 2 + 2ε: the outer D reads 2
    inner_sum = (2.0, 2.0)  # (1 + ε) + (1 + ε) = 2 + 2ε: one ε for two derivatives
    right = 1.0  # d/dx [x · 1] = 1
    return naive, inner_sum, right
    # END SOLUTION


# ---- part 2: tags ------------------------------------------------------------------------------------------------
class TDual:
    """value + deriv·ε_tag; value and deriv may be TDuals of smaller tags (or numbers)."""

    def __init__(self, value, deriv, tag):
        self.value, self.deriv, self.tag = value, deriv, tag

    def __add__(self, o):
        t = top_tag(self, o)
        (a, da), (b, db) = split(self, t), split(o, t)
        return TDual(a + b, da + db, t)

    def __sub__(self, o):
        t = top_tag(self, o)
        (a, da), (b, db) = split(self, t), split(o, t)
        return TDual(a - b, da - db, t)

    def __mul__(self, o):
        t = top_tag(self, o)
        (a, da), (b, db) = split(self, t), split(o, t)
        return TDual(a * b, da * b + a * db, t)

    def __truediv__(self, o):
        t = top_tag(self, o)
        (a, da), (b, db) = split(self, t), split(o, t)
        return TDual(a / b, (da * b - a * db) / (b * b), t)

    def __neg__(self):
        return TDual(-self.value, -self.deriv, self.tag)

    __radd__, __rmul__ = __add__, __mul__

    def __rsub__(self, o):
        return TDual(o, 0.0, self.tag) - self

    def __rtruediv__(self, o):
        return TDual(o, 0.0, self.tag) / self

    def __repr__(self):
        return f"TDual({self.value!r}, {self.deriv!r}, tag={self.tag})"


_TAGS = itertools.count(1)  # next(_TAGS) is a new tag, larger than every one before


def top_tag(a, b):
    """The largest tag among the TDual arguments; -1 when neither is a TDual."""
    # BEGIN SOLUTION: the larger of the TDuals' tags
    return max(a.tag if isinstance(a, TDual) else -1, b.tag if isinstance(b, TDual) else -1)
    # END SOLUTION


def split(x, tag):
    """(value, ε-part) of x at level tag: a number or a TDual of another tag is a constant there."""
    # BEGIN SOLUTION: x's own parts if it is a TDual of this tag, else x whole with ε-part 0
    if isinstance(x, TDual) and x.tag == tag:
        return x.value, x.deriv
    return x, 0.0
    # END SOLUTION


def D(f, x):
    """f'(x), with an ε of this call's own."""
    # BEGIN SOLUTION: a new tag, seed ε-part 1 at it, read the ε-part at it
    tag = next(_TAGS)
    return split(f(TDual(x, 1.0, tag)), tag)[1]
    # END SOLUTION
