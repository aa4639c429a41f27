"""The table of linear maps (dualnum/linear.py) that both modes read, and the parity of the two modes."""
import numpy as np
import pytest

import dualnum as dn
from dualnum.forward import dualarray
from dualnum import linear, tracker
from dualnum.reverse import tracked
from dualnum._numpy.protocol import fname
from dualnum.testing import numeric_gradient


def test_forward_mode_and_the_tracker_support_the_same_numpy_functions():
    fwd, rev = set(dualarray.HANDLED), set(tracked.HANDLED)
    assert fwd == rev, (f"forward only: {sorted(map(fname, fwd - rev))}; "
                        f"reverse only: {sorted(map(fname, rev - fwd))}")


CASES = [(np.flip, (), {}), (np.flip, (0,), {}), (np.fliplr, (), {}), (np.flipud, (), {}), (np.roll, (2,), {}),
         (np.roll, (1,), {"axis": 1}), (np.rot90, (), {}), (np.rot90, (3,), {}), (np.tile, ((2, 1),), {}),
         (np.repeat, (2,), {"axis": 0}), (np.repeat, (3,), {}), (np.diag, (), {}), (np.diag, (1,), {}),
         (np.diagonal, (), {}), (np.triu, (), {}), (np.tril, (-1,), {}),
         (np.take_along_axis, (np.array([[2, 0, 0, 1], [1, 1, 3, 0], [0, 2, 1, 3]]),), {"axis": 1})]


@pytest.mark.parametrize("func, args, kwargs", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_every_gather_in_both_modes_against_central_differences(func, args, kwargs):
    x = np.random.default_rng(1).random((3, 4))
    w = np.random.default_rng(2).random(np.shape(func(x, *args, **kwargs)))
    f = lambda x: np.sum(func(x, *args, **kwargs) * w)  # noqa: E731
    ref = numeric_gradient(f, x)[0]
    np.testing.assert_allclose(dn.gradient(f, x)[0], ref, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tracker.gradient(f, x)[0], ref, rtol=1e-6, atol=1e-8)
    # the adjoint is recorded too (nest=True), so reverse over reverse differentiates through it
    g = lambda x: np.sum(tracker.gradient(lambda z: np.sum(func(z, *args, **kwargs) ** 2 * w), x, nest=True)[0])  # noqa: E731
    ref2 = numeric_gradient(lambda x: tracker.value(g(x)), x)[0]
    np.testing.assert_allclose(tracker.gradient(g, x)[0], ref2, rtol=1e-5, atol=1e-6)


def test_the_sources_of_a_gather_say_where_each_element_came_from():
    src = linear.sources(np.triu, (2, 2))
    np.testing.assert_array_equal(src, [[0, 1], [-1, 3]])  # below the diagonal: from nowhere
    np.testing.assert_array_equal(linear.sources(np.tile, (2,), ((2,),)), [0, 1, 0, 1])


@pytest.mark.parametrize("f", [lambda x: np.sum(np.diff(x, n=2, axis=0) ** 2),
                               lambda x: np.sum(np.diff(x, prepend=0.5) ** 2),
                               lambda x: np.trace(x @ x.T),
                               lambda x: np.sum(np.sort(x, axis=None) * np.arange(12.0)),
                               lambda x: np.sum(np.sort(x, axis=0)[0] ** 3)])
def test_diff_trace_and_sort_written_once_for_both_modes(f):
    x = np.random.default_rng(4).random((3, 4))
    ref = numeric_gradient(f, x)[0]
    np.testing.assert_allclose(dn.gradient(f, x)[0], ref, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tracker.gradient(f, x)[0], ref, rtol=1e-6, atol=1e-8)
