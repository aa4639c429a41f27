"""Affine, Dense, Chain, compose, params over models: the manual's numbers, shapes, errors, reprs, gradients."""
from dataclasses import dataclass

import numpy as np
import pytest

import nn
from dualnum.testing import numeric_gradient
from dualnum.tracker import Params, istracked
from nn import Affine, Chain, Dense, compose, value

ONES_TWOS = np.hstack([np.ones((10, 1)), 2 * np.ones((10, 1))])


# ---- the manual's numbers -------------------------------------------------------------------------------------
def test_chain_of_lambdas_from_the_seed():
    assert Chain(lambda x: x**2, lambda x: x + 1)(5) == 26


def test_dense_all_ones_on_columns_of_ones_and_twos():
    d = Dense(10, 2, init=np.ones)
    np.testing.assert_array_equal(value(d.b), [0.0, 0.0])
    np.testing.assert_array_equal(value(d(ONES_TWOS)), [[10, 20], [10, 20]])


def test_affine_without_bias_and_with_init_from_the_seed():
    shapes = []

    def init(shape):
        shapes.append(shape)
        return np.ones(shape)

    a = Affine((3, 1), bias=False, init=init)
    assert shapes == [(1, 3)]  # init gets the weight's shape (out, in)
    assert a.b is False
    np.testing.assert_array_equal(value(a.W), np.ones((1, 3)))
    np.testing.assert_array_equal(value(a(np.array([1.0, 2.0, 3.0]))), [6.0])
    assert len(nn.params(a)) == 1
    b = Affine((3, 1), bias=False, init=np.ones)
    np.testing.assert_array_equal(value(b.W), np.ones((1, 3)))


def test_the_sources_broken_chain_names_the_failing_layer():
    m = Chain(Dense(784, 64, nn.relu), Dense(64, 64, nn.relu), Dense(32, 10))
    with pytest.raises(ValueError) as e:
        m(np.zeros((784, 3)))
    msg = str(e.value)
    assert "chain[2]" in msg and "Dense(32 => 10) got input with 64 rows" in msg
    assert "chain[0]" not in msg and "chain[1]" not in msg


# ---- layers --------------------------------------------------------------------------------------------------
def test_weights_and_biases_are_tracked_parameters():
    d = Dense(3, 2, nn.sigmoid)
    assert istracked(d.W) and istracked(d.b) and d.activation is nn.sigmoid
    assert value(d.W).shape == (2, 3) and value(d.b).shape == (2,)
    ps = nn.params(d)
    assert isinstance(ps, Params) and [id(p) for p in ps] == [id(d.W), id(d.b)]


def test_dense_computes_activation_of_affine_map_for_a_sample_and_a_batch():
    rng = np.random.default_rng(0)
    d = Dense(4, 3, np.tanh)
    W, b = value(d.W), value(d.b)
    b += rng.normal(size=3)  # a non-zero bias, so broadcasting along the columns is checked
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(value(d(x)), np.tanh(W @ x + b[:, None]))
    np.testing.assert_allclose(value(d(x[:, 1])), np.tanh(W @ x[:, 1] + b))
    assert value(d(x[:, 1])).shape == (3,)


def test_dense_forms_and_repr():
    assert repr(Dense(10, 5, nn.sigmoid)) == "Dense(10 => 5, sigmoid)"
    assert repr(Dense((10, 5), nn.σ)) == "Dense(10 => 5, sigmoid)"
    assert repr(Dense(10, 5)) == "Dense(10 => 5)"
    assert repr(Dense(3, 1, bias=False)) == "Dense(3 => 1; bias=False)"
    assert repr(Affine(10, 5)) == "Affine(10 => 5)"
    d = Dense(np.ones((2, 3)), np.zeros(2), nn.relu)  # from given arrays, as Flux's Dense(W, b, σ)
    assert repr(d) == "Dense(3 => 2, relu)" and istracked(d.W)
    with pytest.raises(TypeError):
        Dense(10)


def test_glorot_uniform_default_init():
    nn.seed(1)
    n_in, n_out = 300, 200
    W = value(Dense(n_in, n_out).W)
    s = np.sqrt(6 / (n_in + n_out))
    assert np.abs(W).max() <= s and np.abs(W).max() > 0.95 * s
    assert W.std() == pytest.approx(s / np.sqrt(3), rel=0.02)  # the std of U(-s, s)
    nn.seed(1)
    np.testing.assert_array_equal(value(Dense(n_in, n_out).W), W)  # seed makes it reproducible


def test_dense_wrong_size_alone_and_in_a_nested_chain():
    with pytest.raises(ValueError, match=r"Dense\(32 => 10\) got input with 64 rows"):
        Dense(32, 10)(np.zeros((64, 2)))
    m = Chain(Dense(4, 3), Chain(Dense(3, 2), Dense(5, 1)))
    with pytest.raises(ValueError, match=r"chain\[1\]\[1\]: Dense\(5 => 1\) got input with 2 rows"):
        m(np.zeros((4, 7)))
    with pytest.raises(ValueError, match=r"chain\[0\]: <lambda>"):
        Chain(lambda x: x @ np.ones((3, 3)), nn.relu)(np.ones(2))


# ---- Chain ---------------------------------------------------------------------------------------------------
def test_chain_len_indexing_slicing_iteration():
    a, b, c = Dense(5, 4), nn.relu, Dense(4, 2)
    m = Chain(a, b, c)
    assert len(m) == 3 and m[0] is a and m[-1] is c and list(m) == [a, b, c]
    s = m[1:]
    assert isinstance(s, Chain) and list(s) == [b, c]
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(value(m(x)), value(m[1:](m[0](x))))
    assert Chain([a, b])[0] is a  # a list of layers works too
    with pytest.raises(TypeError):
        Chain(a, 3)


def test_chain_repr_counts_parameters():
    m = Chain(Dense(64, 32, nn.relu), Dense(32, 10), nn.softmax)
    r = repr(m)
    assert "Dense(64 => 32, relu)" in r and "2_080 parameters" in r and "330 parameters" in r
    assert "softmax" in r and "Total: 4 arrays, 2_410 parameters" in r
    assert repr(Chain(nn.relu, nn.tanh)) == "Chain(relu, tanh)"


def test_compose_is_mathematical_order():
    f, g = Dense(5, 2), Dense(10, 5, nn.σ)
    m = compose(f, g)
    assert isinstance(m, Chain) and list(m) == [g, f]
    x = np.random.default_rng(0).normal(size=10)
    np.testing.assert_allclose(value(m(x)), value(f(g(x))))
    assert compose(lambda x: x + 1, lambda x: x**2)(5) == 26


# ---- params and gradients through models ---------------------------------------------------------------------
def test_params_of_a_chain_in_order_and_a_shared_layer_once():
    d1, d2 = Dense(3, 4), Dense(4, 3)
    m = Chain(d1, nn.relu, d2)
    assert [id(p) for p in nn.params(m)] == [id(d1.W), id(d1.b), id(d2.W), id(d2.b)]
    tied = Chain(d2, d1, d2, d1)
    assert len(nn.params(tied)) == 4
    assert len(nn.params(m, d1, [d2], {"again": m})) == 4


def test_params_walks_containers_dataclasses_functor_classes_and_plain_arrays():
    @dataclass
    class Head:
        layer: object
        scale: np.ndarray

    class MyAffine:  # the Flux manual's Affine, written by a user
        def __init__(self, n_in, n_out):
            self.W = nn.param(np.random.default_rng(0).normal(size=(n_out, n_in)))
            self.b = nn.param(np.zeros(n_out))

        def __call__(self, x):
            return self.W @ x + self.b

    a = MyAffine(3, 2)
    with pytest.warns(UserWarning, match="functor"):  # and says so, naming the class and its fields
        assert len(nn.params(a)) == 0  # Flux does not look inside a class until it is marked
    nn.functor(MyAffine)
    plain = np.ones(2)
    h = Head(Dense(2, 2), plain)
    ps = nn.params([a, {"head": h}], (plain,))
    assert [id(p) for p in ps] == [id(a.W), id(a.b), id(h.layer.W), id(h.layer.b), id(plain)]


def test_implicit_gradient_of_a_chain_matches_finite_differences():
    nn.seed(3)
    m = Chain(Dense(4, 5, np.tanh), Dense(5, 3, nn.relu), Dense(3, 2))
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(4, 6)), nn.onehot(rng.integers(0, 2, 6), 2)
    loss = lambda: nn.logitcrossentropy(m(x), y)  # noqa: E731
    ps = nn.params(m)
    gs = nn.gradient(loss, ps)
    for p in ps:
        def f(v, p=p):
            old = p.data
            p.data = v
            try:
                return float(value(loss()))
            finally:
                p.data = old
        (num,) = numeric_gradient(f, value(p).copy())
        np.testing.assert_allclose(gs[p], num, rtol=1e-5, atol=1e-8)


def test_fmap_over_a_model_keeps_shared_layers_and_tracking():
    d = Dense(3, 3)
    m = Chain(d, nn.relu, d)
    m2 = nn.fmap(lambda a: nn.param(value(a) * 0 + 1), m)
    assert isinstance(m2, Chain) and m2[0] is m2[2] and m2[0] is not d and m2[1] is nn.relu
    assert istracked(m2[0].W) and len(nn.params(m2)) == 2
    np.testing.assert_array_equal(value(m2(np.ones(3))), [13.0, 13.0, 13.0])  # W = 1, b = 1: 3 + 1 = 4, then 3·4 + 1
    assert not np.all(value(d.W) == 1)  # the original is untouched


def test_nn_gradient_is_the_trackers_in_both_forms():
    import dualnum.tracker
    assert nn.gradient is dualnum.tracker.gradient and nn.Params is dualnum.tracker.Params
    nn.seed(0)
    m = Chain(Dense(3, 2, nn.relu), Dense(2, 1))
    x, y = np.random.default_rng(0).normal(size=(3, 4)), np.zeros((1, 4))
    (explicit,) = nn.gradient(lambda m: nn.mse(m(x), y), m)  # a model argument: gradients of its shape
    implicit = nn.gradient(lambda: nn.mse(m(x), y), nn.params(m))
    np.testing.assert_allclose(explicit["layers"][0]["W"], implicit[m[0].W])
    np.testing.assert_allclose(explicit["layers"][1]["b"], implicit[m[1].b])


@pytest.mark.parametrize("bad,words", [(["a", "b", "c"], "non-numeric input"), (None, "NoneType"),
                                       ([[1, 2], [3]], "ragged list"), ("abc", "str")])
def test_non_numeric_input_names_the_layer_and_what_it_got(bad, words):
    chain = nn.Chain(nn.Dense(3, 2), nn.Dense(2, 1))
    with pytest.raises(ValueError, match=r"chain\[0\]: Dense\(3 => 2\) got .*" + words):
        chain(bad)
