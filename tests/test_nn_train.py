"""train: the source's loop, forward vs reverse mode, callbacks, stopping, non-finite losses, and the digits."""
import numpy as np
import pytest

import nn
from nn import Chain, Dense, value
from nn.train import NonFiniteLoss, loss_and_gradient

RNG = np.random.default_rng(0)


def make_model(seed=5):
    nn.seed(seed)
    return Chain(Dense(4, 6, np.tanh), Dense(6, 5, nn.relu), Dense(5, 3))


def classification_data(n=12, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(4, n)), nn.onehot(rng.integers(0, 3, n), 3)


def test_forward_and_reverse_mode_give_the_same_gradients():
    m = make_model()
    x, y = classification_data()
    loss = lambda x, y: nn.logitcrossentropy(m(x), y)  # noqa: E731
    ps = nn.params(m)
    lf, gf = loss_and_gradient(loss, ps, (x, y), mode="forward")
    lr, gr = loss_and_gradient(loss, ps, (x, y), mode="reverse")
    assert lf == pytest.approx(lr, rel=1e-14)
    for p in ps:
        np.testing.assert_allclose(gf[p], gr[p], rtol=1e-10, atol=1e-14)


def test_forward_and_reverse_training_end_at_the_same_parameters():
    x, y = classification_data(20)
    data = nn.DataLoader((x, y), batchsize=5)
    ends = {}
    for mode in ("forward", "reverse"):
        m = make_model()
        loss = lambda x, y, m=m: nn.logitcrossentropy(m(x), y)  # noqa: E731
        losses = nn.train(loss, nn.params(m), data, nn.Momentum(0.1), epochs=2, mode=mode)
        ends[mode] = ([value(p).copy() for p in nn.params(m)], losses)
    for a, b in zip(ends["forward"][0], ends["reverse"][0]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ends["forward"][1], ends["reverse"][1], rtol=1e-10)


def test_forward_mode_sees_parameters_used_directly_by_a_closure():
    W, b, unused = nn.param(RNG.normal(size=(2, 5))), nn.param(np.zeros(2)), nn.param(np.ones(3))
    loss = lambda x, y: np.sum((y - (W @ x + b[:, None])) ** 2)  # noqa: E731  (the source's predict/loss)
    x, y = RNG.normal(size=(5, 4)), np.ones((2, 4))
    ps = nn.params(W, b, unused)
    _, gf = loss_and_gradient(loss, ps, (x, y), mode="forward")
    _, gr = loss_and_gradient(loss, ps, (x, y), mode="reverse")
    np.testing.assert_allclose(gf[W], gr[W], atol=1e-12)
    np.testing.assert_allclose(gf[b], gr[b], atol=1e-12)
    assert gf[unused] is None and gr[unused] is None
    assert type(value(W)) is np.ndarray  # the parameters got their numbers back


def test_train_is_the_sources_loop():
    # train!(loss, ps, data, opt) == for d in data: gs = gradient(() -> loss(d...), ps); update!(opt, ps, gs)
    x, y = classification_data(9)
    data = list(nn.DataLoader((x, y), batchsize=4))
    m1, m2 = make_model(), make_model()
    loss1 = lambda x, y: nn.logitcrossentropy(m1(x), y)  # noqa: E731
    loss2 = lambda x, y: nn.logitcrossentropy(m2(x), y)  # noqa: E731
    ps1, ps2 = nn.params(m1), nn.params(m2)
    opt1, opt2 = nn.Adam(0.01), nn.Adam(0.01)
    expected = []
    for d in data:
        expected.append(float(value(loss1(*d))))
        nn.update(opt1, ps1, nn.gradient(lambda: loss1(*d), ps1))
    got = nn.train(loss2, ps2, data, opt2)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    for a, b in zip(ps1, ps2):
        np.testing.assert_array_equal(value(a), value(b))


def test_linear_regression_converges_and_losses_are_returned_per_batch():
    W_true, b_true = np.array([[2.0, -1.0]]), np.array([0.5])
    x = RNG.normal(size=(2, 64))
    y = W_true @ x + b_true[:, None]
    model = Dense(2, 1)
    loss = lambda x, y: nn.mse(model(x), y)  # noqa: E731
    losses = nn.train(loss, model, nn.DataLoader((x, y), 16), nn.Descent(0.1), epochs=40)
    assert len(losses) == 40 * 4 and all(isinstance(l, float) for l in losses)
    assert losses[-1] < 1e-6 < losses[0]
    np.testing.assert_allclose(value(model.W), W_true, atol=1e-3)
    np.testing.assert_allclose(value(model.b), b_true, atol=1e-3)


def test_callbacks_one_or_a_list_and_stopping_early():
    model = Dense(2, 1)
    loss = lambda x, y: nn.mse(model(x), y)  # noqa: E731
    data = [(RNG.normal(size=(2, 3)), RNG.normal(size=(1, 3)))] * 10
    calls = []
    nn.train(loss, nn.params(model), data, nn.Descent(0.01), cb=lambda: calls.append("a"))
    assert calls == ["a"] * 10
    calls.clear()

    def stopper():
        calls.append("b")
        if len(calls) >= 6:
            nn.stop()
    losses = nn.train(loss, nn.params(model), data, nn.Descent(0.01), cb=[lambda: calls.append("a"), stopper])
    assert calls == ["a", "b"] * 3 and len(losses) == 3


def test_throttle():
    n = []
    once = nn.throttle(lambda: n.append(1), 1e9)
    for _ in range(5):
        once()
    assert n == [1]
    always = nn.throttle(lambda: n.append(2), 0)
    for _ in range(3):
        always()
    assert n == [1, 2, 2, 2]


def test_non_finite_loss_names_the_batch_and_changes_nothing():
    model = Dense(2, 1)
    loss = lambda x, y: nn.mse(model(x), y)  # noqa: E731
    good = (np.ones((2, 3)), np.ones((1, 3)))
    bad = (np.array([[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]]), np.ones((1, 3)))
    data = [good, good, bad, good]
    with pytest.raises(NonFiniteLoss, match="batch 2") as e:
        nn.train(loss, nn.params(model), data, nn.Descent(0.1))
    assert isinstance(e.value, FloatingPointError) and isinstance(e.value, ValueError)
    assert np.all(np.isfinite(value(model.W))) and np.all(np.isfinite(value(model.b)))


def test_progress_prints_epoch_and_loss(capsys):
    model = Dense(2, 1)
    loss = lambda x, y: nn.mse(model(x), y)  # noqa: E731
    nn.train(loss, nn.params(model), [(np.ones((2, 1)), np.ones((1, 1)))], nn.Descent(0.1), epochs=2, progress=True)
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out and "loss" in out


def test_unknown_mode_is_an_error():
    model = Dense(2, 1)
    with pytest.raises(ValueError, match="mode"):
        nn.train(lambda x: nn.mse(model(x), 0.0), nn.params(model), [np.ones(2)], nn.Descent(), mode="sideways")


def test_digits_reach_95_percent_held_out():
    # the time it takes (target < 10 s; 0.2 s measured) is recorded by benchmarks/b6_digits.py
    pytest.importorskip("sklearn")
    from nn.experiments import digits_experiment
    r = digits_experiment()
    assert r["accuracy"] >= 0.95, r["accuracy"]
    assert r["losses"][-1] < r["losses"][0] / 5
