"""MNIST and CIFAR-10 through torchvision, from a folder the user names (never downloaded unless asked)."""
from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch.utils.data import Dataset

VISION_DATASETS = ("mnist", "cifar10")


class DatasetNotFoundError(ValueError):
    """A dataset folder is missing or incomplete; the message says how to get the data."""


_HOW_TO = {
    "mnist": (
        "MNIST is expected in torchvision's layout: <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte. "
        "Run `robustcore data mnist --root <root> --download` once on a machine with network access, "
        "or copy the four IDX files there."
    ),
    "cifar10": (
        "CIFAR-10 is expected in torchvision's layout: <root>/cifar-10-batches-py/ with data_batch_1..5, test_batch "
        "and batches.meta. Run `robustcore data cifar10 --root <root> --download` once on a machine with network "
        "access, or unpack cifar-10-python.tar.gz there."
    ),
}


def _cifar10_class(verify_checksums: bool):
    import torchvision

    if verify_checksums:
        return torchvision.datasets.CIFAR10

    class _CIFAR10(torchvision.datasets.CIFAR10):
        # torchvision hashes all 170 MB on every construction; by default we only require every
        # batch file to be present (its parsing then fails loudly if a file is truncated).
        def _check_integrity(self) -> bool:
            base = Path(self.root) / self.base_folder
            return all((base / name).is_file() for name, _ in self.train_list + self.test_list)

        def _load_meta(self) -> None:
            path = Path(self.root) / self.base_folder / self.meta["filename"]
            if not path.is_file():
                raise RuntimeError(f"Dataset metadata file {path.name} not found")
            with open(path, "rb") as fh:
                self.classes = pickle.load(fh, encoding="latin1")[self.meta["key"]]
            self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    return _CIFAR10


def load_vision_dataset(
    name: str, root: str | Path, train: bool = True, download: bool = False, verify_checksums: bool = False
) -> Dataset:
    """MNIST or CIFAR-10 as a torchvision dataset with pixel values in [0, 1].

    Parameters
    ----------
    name : {"mnist", "cifar10"}
    root : folder that holds (or will hold, with ``download=True``) torchvision's on-disk layout.
    train : the training split if True, else the test split.
    download : fetch the files if they are missing. Off by default: robustcore never reaches the
        network unless the user asks.
    verify_checksums : for CIFAR-10, check torchvision's MD5 sums of the batch files (slow); by
        default the files only have to be present and parse.

    Returns
    -------
    torchvision dataset whose items are ``(image, label)`` with image a float tensor
    (1, 28, 28) for MNIST or (3, 32, 32) for CIFAR-10, in [0, 1].

    Raises
    ------
    DatasetNotFoundError
        When the folder is missing or holds only part of the dataset.
    """
    import torchvision
    from torchvision import transforms

    key = name.lower().replace("-", "")
    if key not in VISION_DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(VISION_DATASETS)}.")
    root = Path(root).expanduser()
    if not download and not root.is_dir():
        raise DatasetNotFoundError(f"The dataset folder {str(root)!r} does not exist. {_HOW_TO[key]}")
    cls = torchvision.datasets.MNIST if key == "mnist" else _cifar10_class(verify_checksums or download)
    try:
        return cls(root=str(root), train=train, download=download, transform=transforms.ToTensor())
    except RuntimeError as exc:  # torchvision says "Dataset not found or corrupted"
        raise DatasetNotFoundError(
            f"{name} in {str(root)!r} is missing or incomplete ({exc}). {_HOW_TO[key]}"
        ) from None
    except (OSError, ValueError, EOFError, KeyError, TypeError, pickle.UnpicklingError) as exc:  # half-written or foreign files
        raise DatasetNotFoundError(
            f"{name} in {str(root)!r} could not be read ({type(exc).__name__}: {exc}). {_HOW_TO[key]}"
        ) from None


def dataset_to_tensors(ds: Dataset, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack a (small) map-style dataset into ``(X, y)`` tensors; ``limit`` takes the first items."""
    n = len(ds) if limit is None else min(int(limit), len(ds))
    xs, ys = zip(*(ds[i] for i in range(n))) if n else ((), ())
    if not xs:
        raise ValueError("The dataset is empty.")
    return torch.stack(list(xs)), torch.as_tensor(ys, dtype=torch.int64)
