"""scikit-learn's handwritten digits (1,797 real 8x8 images) as the embedded default dataset."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import TensorDataset

DIGITS_SHAPE = (1, 8, 8)
DIGITS_CLASSES = 10
_SPLIT_SEED = 0
_TEST_FRACTION = 0.25


@lru_cache(maxsize=1)
def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = _sk_load_digits()
    # Pixel intensities are integers 0..16 in the bundled data; scale to [0, 1].
    X = (bunch.images.astype(np.float32) / 16.0).reshape(-1, *DIGITS_SHAPE)
    y = bunch.target.astype(np.int64)
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=_TEST_FRACTION, random_state=_SPLIT_SEED, stratify=y)
    tr.sort()
    te.sort()
    return X[tr], y[tr], X[te], y[te]


def load_digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed train/test split of scikit-learn's digits.

    Parameters
    ----------
    split : {"train", "test", "all"}
        Which part; the split is stratified and fixed (seed 0): 1,347 train and 450 test images.

    Returns
    -------
    X : torch.Tensor, float32, shape (N, 1, 8, 8)
        Pixel values in [0, 1].
    y : torch.Tensor, int64, shape (N,)
        Labels 0..9.
    """
    Xtr, ytr, Xte, yte = _digits_split()
    if split == "train":
        X, y = Xtr, ytr
    elif split == "test":
        X, y = Xte, yte
    elif split == "all":
        X, y = np.concatenate([Xtr, Xte]), np.concatenate([ytr, yte])
    else:
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}.")
    return torch.from_numpy(X.copy()), torch.from_numpy(y.copy())


def digits_dataset(split: str = "train") -> TensorDataset:
    """`load_digits(split)` wrapped as a :class:`torch.utils.data.TensorDataset`."""
    return TensorDataset(*load_digits(split))
