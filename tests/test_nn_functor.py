"""Model trees: functor marking, children, fmap (shared arrays stay shared), trainables/params order and identity."""
from dataclasses import dataclass

import numpy as np
import pytest

from nn.functor import _FUNCTORS, children, fmap, functor, trainables


class Foo:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Foo({self.x}, {self.y})"


class TwoThirds:
    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c

    def __repr__(self):
        return f"TwoThirds({self.a}, {self.b}, {self.c})"


functor(Foo)
functor(TwoThirds, ("a", "c"))


class Unmarked:
    def __init__(self, W):
        self.W = W


@dataclass
class Pair:
    first: object
    second: object


def test_the_sources_functor_examples():
    assert children(Foo(1, 2)) == {"x": 1, "y": 2}
    kids, re = functor(Foo(1, 2))
    assert kids == (1, 2) and repr(re((10, 20))) == "Foo(10, 20)"
    kids, re3 = functor(TwoThirds(10, 20, 30))
    assert kids == (10, 30)
    assert repr(re3(("ten", "thirty"))) == "TwoThirds(ten, 20, thirty)"
    out = fmap(lambda x: 10 * x, TwoThirds(Foo(1, 2), Foo(3, 4), 56))
    assert repr(out) == "TwoThirds(Foo(10, 20), Foo(3, 4), 560)"


def test_functor_as_a_decorator_with_and_without_fields():
    @functor
    class A:
        def __init__(self):
            self.w, self.n = np.ones(2), np.zeros(1)

    @functor(fields=("w",))
    class B:
        def __init__(self):
            self.w, self.n = np.ones(2), np.zeros(1)

    assert list(children(A())) == ["w", "n"]
    assert list(children(B())) == ["w"]
    assert len(trainables(A())) == 2 and len(trainables(B())) == 1


def test_fmap_keeps_the_original_and_leaves_non_arrays_alone():
    f = Foo(np.array([1.0, 2.0]), np.tanh)
    g = fmap(lambda a: 2 * a, f)
    np.testing.assert_array_equal(g.x, [2.0, 4.0])
    np.testing.assert_array_equal(f.x, [1.0, 2.0])  # a new tree; the old one is unchanged
    assert g.y is np.tanh  # a function is a leaf fmap does not touch
    assert g is not f and type(g) is Foo


def test_fmap_keeps_shared_arrays_and_layers_shared():
    w = np.ones(3)
    inner = Foo(w, np.zeros(2))
    tree = [inner, {"tied": w}, (inner, Pair(w, 5.0))]
    calls = []

    def f(a):
        calls.append(a)
        return a + 1

    out = fmap(f, tree)
    assert out[1]["tied"] is out[0].x is out[2][1].first  # one array in, one array out
    assert out[2][0] is out[0]  # the shared sub-model is shared in the copy too
    assert sum(c is w for c in calls) == 1  # f ran once per distinct array
    assert out[2][1].second == 6.0 and isinstance(out[2], tuple) and isinstance(out[1], dict)


def test_unmarked_classes_are_opaque_as_in_flux():
    u = Unmarked(np.ones(2))
    with pytest.warns(UserWarning, match=r"Unmarked is not marked with nn.functor.*field\(s\) W"):
        assert trainables(u) == []
    assert fmap(lambda a: a * 0, u) is u
    functor(Unmarked)
    try:
        assert len(trainables(u)) == 1
    finally:
        del _FUNCTORS[Unmarked]


def test_trainables_order_identity_and_filtering():
    a, b, c = np.ones(2), np.ones(2), np.zeros((2, 2))  # a and b are equal but distinct
    labels = np.array([0, 1, 2])  # integer arrays are data, not parameters
    tree = {"first": [a, b], "again": (a, Foo(c, labels)), "pair": Pair(b, "text")}
    found = trainables(tree)
    assert [id(x) for x in found] == [id(a), id(b), id(c)]
    assert [id(x) for x in trainables(a, a, b)] == [id(a), id(b)]


def test_cycles_do_not_hang():
    x = [np.ones(1)]
    x.append(x)
    assert len(trainables(x)) == 1


@pytest.mark.parametrize("frozen", [False, True])
def test_dataclasses_are_walked_and_rebuilt(frozen):
    @dataclass(frozen=frozen)
    class Lin:
        W: np.ndarray
        name: str = "lin"

    m = Lin(np.ones((2, 2)))
    assert len(trainables(m)) == 1
    m2 = fmap(lambda a: a * 3, m)
    assert type(m2) is Lin and m2.name == "lin"
    np.testing.assert_array_equal(m2.W, 3 * np.ones((2, 2)))
