import numpy as np
import pytest
import torch

from robustcore.data import toy_dataset
from robustcore.nets import ToyReluNet, evaluate_accuracy, train_classifier


def _fit(seed, noise_sigma=0.0, epochs=5):
    torch.manual_seed(0)
    m = ToyReluNet(2, 16, 2)
    X, y = toy_dataset("blobs", n=200, noise=0.3, seed=0)
    hist = train_classifier(m, X, y, epochs=epochs, lr=0.05, noise_sigma=noise_sigma, seed=seed)
    return m, hist, X, y


def test_training_learns_separable_blobs():
    m, hist, X, y = _fit(0, epochs=30)
    assert evaluate_accuracy(m, X, y) > 0.97
    assert hist[-1]["loss"] < hist[0]["loss"]


def test_same_seed_same_weights_and_noise_changes_them():
    a, *_ = _fit(1, noise_sigma=0.2)
    b, *_ = _fit(1, noise_sigma=0.2)
    c, *_ = _fit(2, noise_sigma=0.2)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_progress_and_snapshots():
    calls = []
    m = ToyReluNet(2, 4, 2)
    X, y = toy_dataset("moons", n=64, seed=0)
    hist = train_classifier(m, X, y, epochs=4, progress=lambda f, msg: calls.append(f), snapshot_every=2)
    assert calls == [0.25, 0.5, 0.75, 1.0]
    assert "state" in hist[1] and "state" not in hist[0]


def test_regularizer_is_added():
    X, y = toy_dataset("moons", n=64, seed=0)
    norms = []
    for reg in (None, lambda mod: 10.0 * mod[0].weight.pow(2).sum()):
        torch.manual_seed(0)
        m = ToyReluNet(2, 4, 2)
        train_classifier(m, X, y, epochs=30, lr=0.01, regularizer=reg)
        norms.append(float(m[0].weight.detach().norm()))
    # A heavy weight penalty shrinks the first layer well below the unpenalised fit.
    assert norms[1] < 0.5 * norms[0]


@pytest.mark.parametrize("X,y", [(np.full((4, 2), np.nan), np.zeros(4)), (np.zeros((4, 2)), np.zeros(3))])
def test_bad_training_data(X, y):
    with pytest.raises(ValueError):
        train_classifier(ToyReluNet(), X, y, epochs=1)
