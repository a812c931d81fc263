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


# --- generalised architectures and the mnist-5k defaults -----------------------------------

from robustcore.data import DATASET_SHAPES, load_dataset  # noqa: E402
from robustcore.nets import DEFAULT_MODELS, MAX_PARAMETERS, MODELS_BY_DATASET, validate_arch_config  # noqa: E402


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_cnn_and_mlp_take_each_dataset_shape(shape):
    c, s, _ = shape
    cnn = DigitsCNN(in_channels=c, input_size=s)
    mlp = DigitsMLP(in_features=c * s * s)
    x = torch.rand(2, *shape)
    assert cnn(x).shape == (2, 10) and mlp(x).shape == (2, 10)
    torch.testing.assert_close(mlp(x), mlp.head(mlp.features(x)))
    # The validator's parameter count equals what torch allocates (an independent count).
    for arch, model, kw in (("cnn", cnn, {"in_channels": c, "input_size": s}), ("mlp", mlp, {"in_features": c * s * s})):
        _, _, n = validate_arch_config({"arch": arch, "arch_kwargs": kw})
        assert n == sum(p.numel() for p in model.parameters())


def test_digits_cnn_keeps_its_original_layout():
    # Existing digits checkpoints must still load: same keys and shapes as before the generalisation.
    keys = {k: tuple(v.shape) for k, v in DigitsCNN().state_dict().items()}
    assert keys["rest.5.weight"] == (64, 512) and keys["rest.7.weight"] == (10, 64) and "rest.1.weight" in keys


def test_lenet_count_matches():
    _, kw, n = validate_arch_config(DEFAULT_MODELS["mnist-5k-lenet"])
    model = build_model(DEFAULT_MODELS["mnist-5k-lenet"])
    assert n == sum(p.numel() for p in model.parameters())
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize(
    "kwargs,arch,match",
    [
        ({"hidden": [200000, 200000]}, "mlp", "parameters"),
        ({"first_channels": 10**9}, "cnn", "between"),
        ({"hidden": "wide"}, "mlp", "list"),
        ({"hidden": [64.5, 3]}, "mlp", "integer"),
        ({"num_classes": True}, "cnn", "integer"),
        ({"bogus": 1}, "toy-relu", "does not take"),
        ({"in_channels": 1, "input_size": 8}, "lenet", "between"),
        ({"std": 0.0}, "lenet", "positive"),
    ],
)
def test_bad_configs_are_refused_before_building(kwargs, arch, match):
    with pytest.raises((TypeError, ValueError), match=match):
        build_model({"arch": arch, "arch_kwargs": kwargs})


def test_parameter_cap_is_the_documented_one():
    ok = {"arch": "mlp", "arch_kwargs": {"hidden": [6000, 1000], "in_features": 784}}
    assert validate_arch_config(ok)[2] <= MAX_PARAMETERS
    with pytest.raises(ValueError, match="cap"):
        validate_arch_config({"arch": "mlp", "arch_kwargs": {"hidden": [8000, 8000], "in_features": 784}})


def test_models_by_dataset_fit_their_dataset():
    for ds, names in MODELS_BY_DATASET.items():
        for name in names:
            assert DEFAULT_MODELS[name]["data"] == ds
            model = build_model(DEFAULT_MODELS[name])
            assert model(torch.rand(2, *DATASET_SHAPES[ds])).shape == (2, 10)


def test_mnist5k_mlp_default_learns_real_mnist():
    calls = []
    model, info = default_model("mnist-5k-mlp", progress=lambda f, m: calls.append(f))
    X, y = load_dataset("mnist-5k", "test")
    acc = evaluate_accuracy(model, X, y)
    assert acc >= 0.90 and abs(acc - info["metrics"]["test_acc"]) < 1e-6
    assert model.features(X[:3]).shape == (3, 64)
    assert info["cached"] or calls[-1] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mnist-5k-cnn", "mnist-5k-lenet"])
def test_mnist5k_conv_defaults_reach_95_percent(name):
    model, info = default_model(name)
    X, y = load_dataset("mnist-5k", "test")
    acc = evaluate_accuracy(model, X, y)
    assert acc >= 0.95 and abs(acc - info["metrics"]["test_acc"]) < 1e-6


def test_default_model_info_describes_the_model():
    model, info = default_model("toy-moons")
    assert (info["arch"], info["num_classes"], info["input_shape"]) == ("toy-relu", 2, (2,))
    assert info["parameters"] == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("arch", ["mlp", "cnn", "lenet"])
@pytest.mark.parametrize("dataset", ["digits", "mnist-5k", "cifar10"])
def test_arch_config_for_each_dataset(arch, dataset):
    from robustcore.nets import arch_config_for

    if arch == "lenet" and dataset == "digits":
        with pytest.raises(ValueError, match="input_size"):
            arch_config_for(arch, dataset)
        return
    model = build_model(arch_config_for(arch, dataset))
    assert model(torch.rand(2, *DATASET_SHAPES[dataset])).shape == (2, 10)
