import numpy as np
import pytest

from robustcore.data import TOY_DATASETS, toy_dataset


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_shapes_and_seeding(name):
    X, y = toy_dataset(name, n=300, seed=3, n_classes=3)
    assert X.shape == (300, 2) and y.shape == (300,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    X2, y2 = toy_dataset(name, n=300, seed=3, n_classes=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = toy_dataset(name, n=300, seed=4, n_classes=3)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("name,k", [("blobs", 4), ("spirals", 3), ("moons", 2), ("xor", 2), ("circles", 2)])
def test_classes_balanced(name, k):
    _, y = toy_dataset(name, n=400, seed=0, n_classes=k)
    counts = np.bincount(y)
    assert len(counts) == k and counts.min() >= 400 // k - 60


def test_xor_labels_follow_quadrants_without_noise():
    X, y = toy_dataset("xor", n=500, noise=0.0, seed=1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))


def test_blobs_are_separable_with_small_noise():
    # Nearest centre recovers the label when noise << distance between centres (2 * 2 sin(pi/k)).
    X, y = toy_dataset("blobs", n=400, noise=0.1, seed=0, n_classes=4)
    centres = np.stack([X[y == c].mean(0) for c in range(4)])
    pred = np.argmin(((X[:, None] - centres[None]) ** 2).sum(-1), 1)
    assert (pred == y).mean() > 0.99


@pytest.mark.parametrize("kwargs", [{"name": "nope"}, {"name": "moons", "n": 1}, {"name": "moons", "noise": -1},
                                    {"name": "blobs", "n_classes": 11}, {"name": "moons", "noise": float("nan")}])
def test_bad_input(kwargs):
    with pytest.raises(ValueError):
        toy_dataset(**kwargs)
