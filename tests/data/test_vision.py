"""MNIST / CIFAR-10 loaders, tested on tiny datasets written in torchvision's own on-disk format."""
import pickle
import struct

import numpy as np
import pytest
import torch

from robustcore.data import DatasetNotFoundError, dataset_to_tensors, load_vision_dataset


def _write_idx_images(path, images):
    n, r, c = images.shape
    path.write_bytes(struct.pack(">IIII", 0x00000803, n, r, c) + images.astype(np.uint8).tobytes())


def _write_idx_labels(path, labels):
    path.write_bytes(struct.pack(">II", 0x00000801, len(labels)) + labels.astype(np.uint8).tobytes())


def make_tiny_mnist(root, n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, size=(n, 28, 28))
        labels = rng.integers(0, 10, size=n)
        _write_idx_images(raw / f"{prefix}-images-idx3-ubyte", imgs)
        _write_idx_labels(raw / f"{prefix}-labels-idx1-ubyte", labels)
        data[prefix] = (imgs, labels)
    return data


def make_tiny_cifar(root, per_batch=3, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    batches = []
    for i in range(1, 6):
        d = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        with open(base / f"data_batch_{i}", "wb") as fh:
            pickle.dump({"data": d, "labels": labels}, fh)
        batches.append((d, labels))
    d = rng.integers(0, 256, size=(n_test, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_test).tolist()
    with open(base / "test_batch", "wb") as fh:
        pickle.dump({"data": d, "labels": labels}, fh)
    with open(base / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, fh)
    return batches, (d, labels)


def test_mnist_through_torchvision(tmp_path):
    ref = make_tiny_mnist(tmp_path)
    train = load_vision_dataset("mnist", tmp_path, train=True)
    test = load_vision_dataset("mnist", tmp_path, train=False)
    assert len(train) == 12 and len(test) == 5
    X, y = dataset_to_tensors(train)
    assert X.shape == (12, 1, 28, 28) and X.dtype == torch.float32
    np.testing.assert_allclose(X[:, 0].numpy(), ref["train"][0] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), ref["train"][1])


def test_cifar10_through_torchvision(tmp_path):
    batches, (dtest, ltest) = make_tiny_cifar(tmp_path)
    train = load_vision_dataset("cifar10", tmp_path, train=True)
    test = load_vision_dataset("cifar10", tmp_path, train=False)
    assert len(train) == 15 and len(test) == 4
    X, y = dataset_to_tensors(test)
    assert X.shape == (4, 3, 32, 32)
    np.testing.assert_allclose(X.numpy(), dtest.reshape(4, 3, 32, 32) / 255.0, atol=1e-6)
    assert y.tolist() == ltest
    assert train.classes[3] == "class3"


def test_missing_folder_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist.*download"):
        load_vision_dataset("mnist", tmp_path / "nowhere")


def test_half_there_mnist(tmp_path):
    make_tiny_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetNotFoundError, match="missing or incomplete"):
        load_vision_dataset("mnist", tmp_path, train=False)


def test_half_there_cifar(tmp_path):
    make_tiny_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(DatasetNotFoundError):
        load_vision_dataset("cifar10", tmp_path, train=True)


def test_truncated_cifar_batch(tmp_path):
    make_tiny_cifar(tmp_path)
    p = tmp_path / "cifar-10-batches-py" / "test_batch"
    p.write_bytes(p.read_bytes()[:50])
    with pytest.raises(DatasetNotFoundError, match="could not be read"):
        load_vision_dataset("cifar10", tmp_path, train=False)


def test_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_vision_dataset("imagenet", tmp_path)
