"""load_dataset: one entry point for digits, mnist-5k and the folder datasets."""
import numpy as np
import pytest
import torch

from robustcore.data import (
    DATASET_SHAPES,
    DATASETS,
    DatasetNotFoundError,
    load_dataset,
    load_digits,
    load_mnist5k,
)

from .test_vision import make_tiny_cifar, make_tiny_mnist


@pytest.mark.parametrize("name", ["digits", "mnist-5k"])
def test_bundled_sets_match_their_loaders_and_metadata(name):
    ref = load_digits if name == "digits" else load_mnist5k
    info = DATASETS[name]
    for split, size in (("train", info.train_size), ("test", info.test_size)):
        X, y = load_dataset(name, split)
        Xr, yr = ref(split)
        assert torch.equal(X, Xr) and torch.equal(y, yr)
        assert X.dtype == torch.float32 and y.dtype == torch.int64
        assert tuple(X.shape) == (size, *DATASET_SHAPES[name])
        assert 0.0 <= float(X.min()) and float(X.max()) <= 1.0
        assert int(y.max()) < info.classes


def test_mnist_folder(tmp_path):
    ref = make_tiny_mnist(tmp_path)
    X, y = load_dataset("mnist", "train", root=tmp_path)
    assert X.shape == (12, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    np.testing.assert_allclose(X[:, 0].numpy(), ref["train"][0] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), ref["train"][1])
    Xa, _ = load_dataset("mnist", "all", root=tmp_path)
    assert len(Xa) == 17


def test_cifar_folder_matches_torchvision_channel_order(tmp_path):
    _, (dtest, ltest) = make_tiny_cifar(tmp_path)
    X, y = load_dataset("cifar10", "test", root=str(tmp_path))
    # CIFAR's pickled rows are channel-major (R plane, G plane, B plane), i.e. already (3, 32, 32).
    np.testing.assert_allclose(X.numpy(), dtest.reshape(4, 3, 32, 32) / 255.0, atol=1e-6)
    assert y.tolist() == ltest


def test_folder_sets_need_a_root(tmp_path, monkeypatch):
    monkeypatch.delenv("ROBUSTCORE_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError, match="root"):
        load_dataset("mnist")
    with pytest.raises(DatasetNotFoundError):
        load_dataset("cifar10", root=tmp_path / "nowhere")
    make_tiny_mnist(tmp_path)
    monkeypatch.setenv("ROBUSTCORE_DATA", str(tmp_path))
    assert load_dataset("mnist", "test")[0].shape == (5, 1, 28, 28)


@pytest.mark.parametrize("name,split", [("imagenet", "train"), ("digits", "val"), (None, "train"), ("mnist-5k", 3)])
def test_bad_names(name, split):
    with pytest.raises(ValueError):
        load_dataset(name, split)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_any = st.none() | st.integers() | st.floats() | st.text(max_size=12) | st.binary(max_size=8) | st.lists(st.integers(), max_size=2)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(list(DATASETS)) | _any, split=st.sampled_from(["train", "test", "all"]) | _any,
       root=st.none() | st.text(max_size=12) | st.integers())
def test_any_arguments_give_data_or_one_sentence(name, split, root):
    import os

    os.environ.pop("ROBUSTCORE_DATA", None)
    if isinstance(root, str) and root.strip(". /") == "":
        root = None  # the current folder or / could hold real data; keep the property about bad input
    try:
        X, y = load_dataset(name, split, root)
    except (ValueError, TypeError) as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    assert X.dtype == torch.float32 and y.dtype == torch.int64 and X.ndim == 4 and len(X) == len(y)
