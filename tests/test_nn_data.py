"""DataLoader, onehot, onecold, accuracy, and the digits data set."""
import numpy as np
import pytest

from nn.data import DataLoader, accuracy, digits, onecold, onehot


def test_batches_are_columns_and_the_partial_last_batch_is_kept():
    x = np.arange(20.0).reshape(4, 5)
    y = np.arange(5)
    batches = list(DataLoader((x, y), batchsize=2))
    assert len(batches) == len(DataLoader((x, y), batchsize=2)) == 3
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (4, 1)]
    np.testing.assert_array_equal(batches[2][0], x[:, 4:])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    assert len(list(DataLoader((x, y), batchsize=2, partial=False))) == 2


def test_a_single_array_gives_arrays_not_tuples():
    b = list(DataLoader(np.arange(6.0), batchsize=4))
    assert isinstance(b[0], np.ndarray) and [len(e) for e in b] == [4, 2]


def test_shuffling_is_seeded_keeps_pairs_and_changes_each_epoch():
    x = np.arange(10.0)[None, :] * np.array([[1.0], [10.0]])
    y = np.arange(10)
    d1, d2 = DataLoader((x, y), 3, shuffle=True, seed=7), DataLoader((x, y), 3, shuffle=True, seed=7)
    e1, e2 = list(d1), list(d2)
    for (xa, ya), (xb, yb) in zip(e1, e2):
        np.testing.assert_array_equal(ya, yb)  # same seed, same order
        np.testing.assert_array_equal(xa[0], ya)  # x and y stay paired
        np.testing.assert_array_equal(xa[1], 10 * ya)
    order = np.concatenate([b[1] for b in e1])
    assert sorted(order) == list(range(10)) and list(order) != list(range(10))
    second = np.concatenate([b[1] for b in d1])
    assert list(second) != list(order)  # the next epoch draws a new order


def test_dataloader_rejects_mismatched_sample_counts():
    with pytest.raises(ValueError, match="same number of samples"):
        DataLoader((np.zeros((2, 5)), np.zeros(4)))


def test_onehot_onecold_accuracy():
    y = onehot([2, 0, 1], 3)
    np.testing.assert_array_equal(y, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert y.shape == (3, 3)
    np.testing.assert_array_equal(onecold(y), [2, 0, 1])
    assert onecold(np.array([0.1, 0.7, 0.2])) == 1
    scores = np.array([[0.9, 0.1, 0.3, 0.2], [0.1, 0.8, 0.3, 0.7], [0.0, 0.1, 0.4, 0.1]])
    assert accuracy(scores, np.array([0, 1, 2, 0])) == 0.75
    assert accuracy(scores, onehot([0, 1, 2, 0], 3)) == 0.75
    with pytest.raises(ValueError):
        onehot([3], 3)


def test_digits_split():
    pytest.importorskip("sklearn")
    xtr, ytr, xte, yte = digits()
    assert xtr.shape[0] == xte.shape[0] == 64
    assert xtr.shape[1] + xte.shape[1] == 1797 and xte.shape[1] == 449
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    assert set(np.unique(ytr)) == set(range(10))
