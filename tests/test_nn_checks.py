"""No silent wrong answers in nn: losses compare like with like, train refuses what it cannot do as asked,
forward and reverse mode see the same parameters, and bad inputs get errors that say what to do."""
import math

import numpy as np
import pytest

import dualnum
import nn
from dualnum import tracker

RNG = np.random.default_rng(10)


def central_differences(f, x, h=1e-6):
    """∂f/∂x by (f(x + h eᵢ) - f(x - h eᵢ)) / 2h, entry by entry, on a float copy of x."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = float(f(x))
        x[i] = old - h
        g[i] = (up - float(f(x))) / (2 * h)
        x[i] = old
    return g


LOSSES = [nn.mse, nn.crossentropy, nn.logitcrossentropy, nn.binarycrossentropy, nn.logitbinarycrossentropy]


# ==== losses: like with like ===================================================================================

def test_logitcrossentropy_of_class_labels_is_the_one_hot_loss():
    # equal logits over 3 classes: every class has probability 1/3, the loss is log 3 whatever the labels
    assert nn.logitcrossentropy(np.zeros((3, 4)), np.array([0, 1, 2, 1])) == pytest.approx(math.log(3), rel=1e-14)
    z, lab = RNG.normal(size=(5, 7)), RNG.integers(0, 5, 7)
    Y = np.eye(5)[:, lab]  # one-hot by hand, not by nn.onehot
    for loss in (nn.logitcrossentropy, lambda z, y: nn.crossentropy(nn.softmax(z), y)):
        assert loss(z, lab) == pytest.approx(loss(z, Y), rel=1e-14)
    # the closed form: mean over columns of -log softmax(z)[label]
    by_hand = -np.mean([z[l, j] - np.log(np.sum(np.exp(z[:, j]))) for j, l in enumerate(lab)])
    assert nn.logitcrossentropy(z, lab) == pytest.approx(by_hand, rel=1e-12)
    # one sample: a 1-D ŷ with one integer label
    assert nn.logitcrossentropy(z[:, 2], lab[2]) == pytest.approx(nn.logitcrossentropy(z[:, 2], Y[:, 2]), rel=1e-14)
    # and agg keeps working
    assert nn.crossentropy(nn.softmax(z), lab, agg=np.sum) == pytest.approx(7 * nn.crossentropy(nn.softmax(z), Y))


def test_class_label_gradients_equal_the_one_hot_gradients_in_both_modes():
    z, lab = RNG.normal(size=(4, 6)), RNG.integers(0, 4, 6)
    Y = np.eye(4)[:, lab]
    expect = (nn.softmax(z) - Y) / 6  # d/dz of mean logitcrossentropy
    for loss in (nn.logitcrossentropy, lambda z, y: nn.crossentropy(nn.softmax(z), y, eps=0.0)):
        (gf,) = dualnum.gradient(lambda z: loss(z, lab), z)
        (gr,) = tracker.gradient(lambda z: loss(z, lab), z)
        np.testing.assert_allclose(gf, expect, atol=1e-14)
        np.testing.assert_allclose(gr, expect, atol=1e-14)


def test_class_labels_out_of_range_or_as_floats_are_refused():
    for bad in ([0, 3], [-1, 0]):
        with pytest.raises(ValueError, match=r"0\.\.2"):
            nn.logitcrossentropy(np.zeros((3, 2)), np.array(bad))
    with pytest.raises(ValueError, match=r"class labels \(as integers: y.astype\(int\)\)"):
        nn.logitcrossentropy(np.zeros((3, 4)), np.array([0.0, 1.0, 2.0, 1.0]))


def _shape_pairs(n=4):
    a = RNG.random((1, n)) * 0.8 + 0.1  # probabilities, so every loss is defined
    return [(a, a.reshape(n, 1)), (a.reshape(n, 1), a), (a.ravel(), a.reshape(n, 1)), (a.reshape(n, 1), a.ravel()),
            (a.ravel(), a), (RNG.random((3, n)), RNG.random((3, 1))), (RNG.random((3, n)), RNG.random(3))]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("kind", ["plain", "tracked", "dual"])
def test_every_loss_refuses_targets_of_another_shape(loss, kind):
    wrap = {"plain": lambda a: a, "tracked": tracker.param,
            "dual": lambda a: dualnum.DualArray(a, np.ones((1,) + a.shape))}[kind]
    for yhat, y in _shape_pairs():
        with pytest.raises(ValueError) as e:
            loss(wrap(yhat), y)
        assert str(yhat.shape) in str(e.value) and str(y.shape) in str(e.value)


def test_mse_of_mismatched_shapes_used_to_average_a_matrix():
    # the numbers the broadcasting gave (an n×n matrix averaged; 10× the loss) are not what the loss means
    yhat, y = np.arange(3.0), np.array([1.0, 0.0, 2.0])
    assert nn.mse(yhat, y) == pytest.approx(np.mean((yhat - y) ** 2))
    assert nn.mse(yhat[None, :], y[None, :]) == pytest.approx(np.mean((yhat - y) ** 2))
    with pytest.raises(ValueError, match=r"\(1, 3\).*\(3, 1\)"):
        nn.mse(yhat[None, :], y[:, None])


def test_integer_labels_against_an_elementwise_loss_point_to_onehot():
    with pytest.raises(ValueError, match="onehot"):
        nn.mse(np.zeros((10, 5)), np.arange(5))


def test_a_number_is_a_target_for_every_element():
    yhat = RNG.normal(size=(2, 3))
    assert nn.mse(yhat, 0.0) == pytest.approx(np.mean(yhat ** 2))
    assert nn.binarycrossentropy(np.full(3, 0.25), 1.0) == pytest.approx(-math.log(0.25))


def test_leading_axes_with_agg_give_one_loss_per_model():
    # a grid of models: ŷ carries the grid on leading axes; agg reduces over the samples only
    x, y = RNG.normal(size=6), RNG.normal(size=6)
    m = np.linspace(-1, 1, 5)[:, None, None]
    b = np.linspace(0, 2, 3)[None, :, None]
    yhat = m * x + b  # (5, 3, 6)
    per = lambda l: np.mean(l, axis=-1)  # noqa: E731
    got = nn.mse(yhat, y, agg=per)
    assert got.shape == (5, 3)
    for i in range(5):
        for j in range(3):
            assert got[i, j] == pytest.approx(np.mean((m[i, 0, 0] * x + b[0, j, 0] - y) ** 2), rel=1e-14)
    np.testing.assert_allclose(nn.mse(y, yhat, agg=per), got, rtol=1e-14)  # either argument may carry them
    with pytest.raises(ValueError, match=r"\(5, 3, 6\)"):
        nn.mse(yhat, y)  # the default mean would average the whole grid into one number
    # the cross-entropies find the class axis behind the leading axes (labels or one-hot)
    z, lab = RNG.normal(size=(2, 4, 5)), RNG.integers(0, 4, 5)
    per_model = nn.logitcrossentropy(z, lab, agg=per)
    np.testing.assert_allclose(per_model, [nn.logitcrossentropy(z[k], lab) for k in range(2)], rtol=1e-14)
    np.testing.assert_allclose(nn.logitcrossentropy(z, np.eye(4)[:, lab], agg=per), per_model, rtol=1e-14)
    with pytest.raises(ValueError):
        nn.logitcrossentropy(z, lab)


def test_accuracy_compares_like_with_like():
    scores = RNG.normal(size=(3, 8))
    lab = RNG.integers(0, 3, 8)
    expect = np.mean(np.argmax(scores, axis=0) == lab)
    assert nn.accuracy(scores, lab) == expect == nn.accuracy(scores, np.eye(3)[:, lab])
    for bad in (lab[:, None], lab[None, :], lab[:5], np.eye(3)[:, lab].T):
        with pytest.raises(ValueError, match="accuracy"):
            nn.accuracy(scores, bad)
    with pytest.raises(ValueError, match=r"0\.\.2"):
        nn.accuracy(scores, lab + 1)


def test_digits_trained_on_integer_labels_learn_as_on_one_hot_labels():
    pytest.importorskip("sklearn")
    xtr, ytr, xte, yte = nn.digits()
    runs = []
    for y in (ytr, nn.onehot(ytr, 10)):
        nn.seed(0)
        model = nn.Chain(nn.Dense(64, 32, nn.relu), nn.Dense(32, 10))
        data = nn.DataLoader((xtr, y), batchsize=64, shuffle=True, seed=0)
        losses = nn.train(lambda x, y: nn.logitcrossentropy(model(x), y), nn.params(model), data, nn.Adam(0.005),
                          epochs=5)
        runs.append((losses, nn.accuracy(nn.value(model(xte)), yte)))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-10)
    assert runs[0][1] == runs[1][1] > 0.85


# ==== train: every epoch asked for, or an error before the first step ==========================================

def _line_problem(n=3):
    W = nn.param(np.zeros((1, 2)))
    batches = [(RNG.normal(size=(2, 4)), RNG.normal(size=(1, 4))) for _ in range(n)]
    return W, batches, (lambda x, y: nn.mse(W @ x, y))


def test_a_one_shot_iterable_with_several_epochs_is_refused_before_any_step():
    W, batches, loss = _line_problem()
    for once in ((b for b in batches), zip(*zip(*batches)), iter(batches), map(tuple, batches)):
        with pytest.raises(ValueError, match="only once"):
            nn.train(loss, nn.params(W), once, nn.Descent(0.1), epochs=3)
        assert not np.any(nn.value(W))  # nothing ran
    # one epoch of a generator is fine, and a list runs every epoch: 3 × 3 steps
    assert len(nn.train(loss, nn.params(W), (b for b in batches), nn.Descent(0.1))) == 3
    assert len(nn.train(loss, nn.params(W), batches, nn.Descent(0.1), epochs=3)) == 9


def test_an_iterable_that_cannot_restart_is_caught_at_the_empty_epoch():
    W, batches, loss = _line_problem()

    class Once:  # __iter__ always hands back the same iterator, so the second pass is empty
        def __init__(self):
            self.it = iter(batches)

        def __iter__(self):
            return self.it
    with pytest.raises(ValueError, match="only once"):
        nn.train(loss, nn.params(W), Once(), nn.Descent(0.1), epochs=2)


def test_epochs_must_be_a_whole_number():
    W, batches, loss = _line_problem()
    for bad in (2.5, -1, "2"):
        with pytest.raises(ValueError, match="epochs"):
            nn.train(loss, nn.params(W), batches, nn.Descent(0.1), epochs=bad)
    assert nn.train(loss, nn.params(W), batches, nn.Descent(0.1), epochs=0) == []


# ==== train: a model nn cannot see is an error, not a constant loss ===========================================

class Hidden:  # the Flux manual's Affine, not marked with functor
    def __init__(self):
        self.W = nn.param(RNG.normal(size=(1, 2)))
        self.b = nn.param(np.zeros(1))

    def __call__(self, x):
        return self.W @ x + self.b[:, None]


def test_params_of_an_unmarked_class_warns_with_the_functor_hint():
    m = Hidden()
    with pytest.warns(UserWarning, match=r"Hidden is not marked with nn.functor.*W, b.*@nn.functor"):
        assert len(nn.params(m)) == 0
    # also inside a Chain or a list, and naming the user's line (not nn's)
    with pytest.warns(UserWarning, match="Hidden") as w:
        assert len(nn.params(nn.Chain(nn.Dense(2, 2), Hidden()))) == 2
    assert w[0].filename == __file__
    with pytest.warns(UserWarning, match="Holder.*inner"):
        class Holder:
            def __init__(self):
                self.inner = [Hidden()]
        nn.params(Holder())


def test_objects_without_arrays_are_not_warned_about():
    import warnings

    class Act:  # a callable object as an activation: nothing trainable inside
        def __init__(self):
            self.slope = 0.1

        def __call__(self, x):
            return x * self.slope
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(nn.params(nn.Chain(nn.Dense(2, 2, Act()), np.tanh, lambda x: x), "label", 3)) == 2


def test_train_with_no_parameters_raises_before_any_step():
    m = Hidden()
    W0 = nn.value(m.W).copy()
    data = [(RNG.normal(size=(2, 3)), RNG.normal(size=(1, 3)))] * 3
    for mode in ("reverse", "forward"):
        with pytest.warns(UserWarning, match="functor"), pytest.raises(ValueError, match="no parameters.*functor"):
            nn.train(lambda x, y: nn.mse(m(x), y), m, data, nn.Descent(0.1), mode=mode)
        with pytest.raises(ValueError, match="no parameters"):
            nn.train(lambda x, y: nn.mse(m(x), y), nn.Params([]), data, nn.Descent(0.1), mode=mode)
    np.testing.assert_array_equal(nn.value(m.W), W0)


def test_train_with_a_loss_that_uses_none_of_the_parameters_raises():
    other, model = nn.Dense(2, 1), nn.Dense(2, 1)
    data = [(RNG.normal(size=(2, 3)), RNG.normal(size=(1, 3)))] * 3
    for mode in ("reverse", "forward"):
        with pytest.raises(ValueError, match="does not depend on any of the 2 parameters"):
            nn.train(lambda x, y: nn.mse(model(x), y), nn.params(other), data, nn.Descent(0.1), mode=mode)


# ==== forward and reverse mode see every parameter params collects ============================================

@nn.functor
class Mixed:
    """Plain float arrays and a tracked parameter, used directly (no nn.live), in fields, a tuple and a dict."""

    def __init__(self):
        self.W = RNG.normal(size=(3, 4))
        self.pair = (RNG.normal(size=3), "not an array")
        self.extra = {"s": nn.param(RNG.normal(size=(3, 1)))}
        self.scales = [RNG.normal(size=3)]

    def __call__(self, x):
        h = np.tanh(self.W @ x + self.pair[0][:, None])
        return h * self.extra["s"] + self.scales[0][:, None] ** 2


def _mixed_problem():
    m = Mixed()
    x, y = RNG.normal(size=(4, 5)), RNG.normal(size=(3, 5))
    return m, (x, y), (lambda x, y: nn.mse(m(x), y))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_both_modes_differentiate_plain_arrays_used_directly_in_a_functor_class(mode):
    m, d, loss = _mixed_problem()
    ps = nn.params(m)
    assert len(ps) == 4
    arrays = [m.W, m.pair[0], m.extra["s"], m.scales[0]]
    assert [id(p) for p in ps] == [id(a) for a in arrays]
    l, gs = nn.loss_and_gradient(loss, ps, d, mode=mode)
    assert l == pytest.approx(float(nn.value(loss(*d))), rel=1e-14)
    for p in ps:
        def f(v, p=p):  # the loss as a function of this one array, the others fixed
            old = nn.value(p).copy()
            nn.value(p)[...] = v
            try:
                return float(nn.value(loss(*d)))
            finally:
                nn.value(p)[...] = old
        np.testing.assert_allclose(gs[p], central_differences(f, nn.value(p)), rtol=1e-6, atol=1e-8)
    # the model holds its own arrays again
    assert [m.W, m.pair[0], m.extra["s"], m.scales[0]] == arrays and all(
        a is b for a, b in zip([m.W, m.pair[0], m.extra["s"], m.scales[0]], arrays))
    assert m.pair[1] == "not an array"


def test_training_plain_arrays_in_both_modes_ends_at_the_same_parameters():
    ends = []
    for mode in ("reverse", "forward"):
        global RNG
        RNG = np.random.default_rng(11)
        m, d, loss = _mixed_problem()
        W = m.W
        losses = nn.train(loss, m, [d] * 6, nn.Momentum(0.05), mode=mode)
        assert m.W is W and losses[-1] < losses[0]  # updated in place, where the model reads it
        ends.append(([nn.value(p).copy() for p in nn.params(m)], losses))
    for a, b in zip(ends[0][0], ends[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    np.testing.assert_allclose(ends[0][1], ends[1][1], rtol=1e-10)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_plain_array_nn_cannot_reach_is_refused_not_given_no_gradient(mode):
    W = RNG.normal(size=(1, 2))  # collected by itself: nothing tells nn where the loss reads it
    data = [(RNG.normal(size=(2, 3)), RNG.normal(size=(1, 3)))]
    with pytest.raises(TypeError, match=r"plain float array of shape \(1, 2\).*nn.param"):
        nn.train(lambda x, y: nn.mse(W @ x, y), nn.params(W), data, nn.Descent(0.1), mode=mode)
    # read through nn.live, the same array trains in both modes
    (x, y), = data
    l, gs = nn.loss_and_gradient(lambda x, y: nn.mse(nn.live(W) @ x, y), nn.params(W), (x, y), mode=mode)
    np.testing.assert_allclose(gs[W], 2 * (W @ x - y) @ x.T / 3, rtol=1e-12)


# ==== errors that say what to do =============================================================================

def test_dataloader_refuses_what_it_would_misread():
    x, y = RNG.normal(size=(2, 6)), np.arange(6)
    with pytest.raises(TypeError, match=r"list of 2 arrays.*tuple.*DataLoader\(\(x, y\)"):
        nn.DataLoader([x, y], batchsize=2)  # it stacked them into one (2, 2, 6) array
    for bad in (5.0, None, "abc", np.float64(2.0), np.array(3.0)):
        with pytest.raises(TypeError, match="DataLoader: data must be an array"):
            nn.DataLoader(bad)
    for bad in (2.5, 2.0, "2", True):
        with pytest.raises(TypeError, match="batchsize must be a whole number"):
            nn.DataLoader((x, y), batchsize=bad)  # 2.5 silently became 2
    with pytest.raises(ValueError, match="at least 1"):
        nn.DataLoader((x, y), batchsize=0)
    # what stays valid: a tuple, one array, a list of numbers, numpy integers
    assert [b[1].tolist() for b in nn.DataLoader((x, y), batchsize=np.int64(4))] == [[0, 1, 2, 3], [4, 5]]
    assert [b.tolist() for b in nn.DataLoader([1.0, 2.0, 3.0], batchsize=2)] == [[1.0, 2.0], [3.0]]


def test_train_refuses_one_unwrapped_batch_list_batches_and_a_bare_array():
    W, batches, loss = _line_problem()
    x, y = batches[0]
    with pytest.raises(TypeError, match=r"one batch \(x, y\) not wrapped in a list.*\[\(x, y\)\]"):
        nn.train(loss, nn.params(W), (x, y), nn.Descent(0.1))
    with pytest.raises(TypeError, match=r"batch 0 of data is a list.*tuple"):
        nn.train(loss, nn.params(W), [[x, y]], nn.Descent(0.1))
    with pytest.raises(TypeError, match="one array of shape"):
        nn.train(lambda x: np.sum((W @ x) ** 2), nn.params(W), x, nn.Descent(0.1))
    with pytest.raises(TypeError, match="iterable of batches"):
        nn.train(loss, nn.params(W), 3, nn.Descent(0.1))
    assert not np.any(nn.value(W))
    # the right forms train: [(x, y)] and a DataLoader of (x, y)
    assert len(nn.train(loss, nn.params(W), [(x, y)], nn.Descent(0.1))) == 1
    assert len(nn.train(loss, nn.params(W), nn.DataLoader((x, y), batchsize=2), nn.Descent(0.1))) == 2


def test_dense_refuses_a_3d_input_naming_layer_sizes_and_the_fix():
    d = nn.Dense(4, 3)
    for shape in ((4, 2, 5), (2, 4, 5)):
        with pytest.raises(ValueError, match=r"Dense\(4 => 3\) got a 3-D input of shape .*reshape\(4, -1\)"):
            d(np.ones(shape))
    with pytest.raises(ValueError, match=r"chain\[1\].*3-D"):
        nn.Chain(lambda x: x, nn.Affine(4, 3))(nn.param(np.ones((4, 1, 1))))
    # batches and single samples still work, and equal W @ x + b
    x = RNG.normal(size=(4, 5))
    np.testing.assert_allclose(nn.value(d(x)), nn.value(d.W) @ x + nn.value(d.b)[:, None], rtol=1e-14)


def test_update_refuses_gradients_as_a_list_or_of_another_shape():
    W, b = nn.param(np.ones((2, 3))), nn.param(np.zeros(2))
    ps = nn.params(W, b)
    with pytest.raises(TypeError, match=r"gs is a list.*gs\[W\]"):
        nn.update(nn.Descent(), ps, [np.ones((2, 3)), np.ones(2)])
    with pytest.raises(TypeError, match="gs is a tuple"):
        nn.update(nn.Descent(), ps, tracker.gradient(lambda W, b: np.sum(W) + np.sum(b), W, b))
    gs = nn.gradient(lambda: np.sum(W) + np.sum(b), ps)
    wrong = tracker.Grads(ps, {id(W): np.ones((1, 3)), id(b): np.ones(2)})  # (1, 3) broadcast into (2, 3)
    for opt in (nn.Descent(), nn.Momentum(), nn.Adam()):
        with pytest.raises(ValueError, match=r"parameter 0.*\(1, 3\).*\(2, 3\)"):
            nn.update(opt, ps, wrong)
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        nn.apply(nn.Descent(), W, np.ones((3, 2)))
    np.testing.assert_array_equal(nn.value(W), 1.0)
    nn.update(nn.Descent(0.5), ps, gs)  # the right form still steps
    np.testing.assert_array_equal(nn.value(W), 0.5)


def test_onehot_gives_a_matrix_or_an_error_never_a_3d_array():
    lab = np.array([2, 0, 1])
    expect = np.eye(3)[:, lab]
    np.testing.assert_array_equal(nn.onehot(lab[:, None], 3), expect)  # (3, 1): it gave shape (3, 3, 1)
    np.testing.assert_array_equal(nn.onehot(lab[None, :], 3), expect)
    with pytest.raises(ValueError, match=r"1-D.*\(2, 2\)"):
        nn.onehot([[0, 1], [1, 0]], 2)
    for bad in ([3], [-1]):
        with pytest.raises(ValueError, match=r"0\.\.2"):
            nn.onehot(bad, 3)
    for bad in (0, 2.5, -1):
        with pytest.raises(ValueError, match="nclasses"):
            nn.onehot([0], bad)


# ==== a non-finite loss or gradient stops training, whatever the tracker does with it =======================

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_loss_and_gradient_stop_before_the_update(monkeypatch):
    W = nn.param(np.ones((1, 2)))
    x = np.array([[1.0], [0.0]])
    for mode in ("reverse", "forward"):
        for loss in (lambda x: np.sum(np.log(W @ x - 1.0)),   # log 0: the loss is -inf
                     lambda x: np.sum(np.sqrt(W @ x - 1.0))):  # √0: the loss is 0, its gradient inf
            with pytest.raises(nn.NonFiniteLoss, match="batch 1 of epoch 0"):
                nn.train(loss, nn.params(W), [(x + 1,), (x,)], nn.Descent(0.0), mode=mode)
            np.testing.assert_array_equal(nn.value(W), 1.0)
    # a tracker that computes the gradient of a non-finite loss instead of raising: train still checks the loss

    def computes_anyway(fn, ps):
        fn()
        return tracker.Grads(ps, {id(p): np.full(np.shape(nn.value(p)), np.nan) for p in ps})
    monkeypatch.setattr(tracker, "gradient", computes_anyway)
    with pytest.raises(nn.NonFiniteLoss, match="the loss is -inf on batch 0"):
        nn.train(lambda x: np.sum(np.log(W @ x - 1.0)), nn.params(W), [(x,)], nn.Descent(0.1))
    np.testing.assert_array_equal(nn.value(W), 1.0)
