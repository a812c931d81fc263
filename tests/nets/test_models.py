import pytest
import torch

from robustcore.data import load_digits
from robustcore.nets import DigitsCNN, DigitsMLP, ToyReluNet, build_model, default_model, evaluate_accuracy


def test_mlp_head_and_features_compose_to_the_model():
    torch.manual_seed(0)
    m = DigitsMLP()
    x = torch.rand(5, 1, 8, 8)
    assert m.features(x).shape == (5, 64)
    assert isinstance(m.head[0], torch.nn.Linear) and isinstance(m.head[1], torch.nn.ReLU)
    torch.testing.assert_close(m(x), m.head(m.features(x)))


def test_cnn_accepts_a_replacement_first_layer():
    first = torch.nn.Conv2d(1, 8, 5, padding=2)
    m = DigitsCNN(first_layer=first, first_channels=8)
    assert m(torch.rand(3, 1, 8, 8)).shape == (3, 10)
    assert m.first is first


def test_toy_net_is_affine_relu_affine():
    m = ToyReluNet(2, 5, 3)
    assert [type(l) for l in m] == [torch.nn.Linear, torch.nn.ReLU, torch.nn.Linear]
    assert m(torch.rand(4, 2)).shape == (4, 3)
    with pytest.raises(ValueError):
        ToyReluNet(2, 0, 2)


def test_build_model_rejects_unknown_arch():
    with pytest.raises(ValueError, match="Unknown architecture"):
        build_model({"arch": "resnet"})


@pytest.mark.slow
def test_digits_cnn_reaches_95_percent():
    model, info = default_model("digits-cnn")
    X, y = load_digits("test")
    acc = evaluate_accuracy(model, X, y)
    assert acc >= 0.95
    assert abs(acc - info["metrics"]["test_acc"]) < 1e-6


def test_toy_moons_default_separates_the_moons():
    from robustcore.data import toy_dataset

    model, info = default_model("toy-moons")
    X, y = toy_dataset("moons", n=400, noise=0.15, seed=10_000)  # the held-out draw
    acc = evaluate_accuracy(model, torch.from_numpy(X).float(), torch.from_numpy(y))
    assert acc >= 0.95 and abs(acc - info["metrics"]["test_acc"]) < 1e-6
