"""load_model_file on checkpoints built here in each format people already have (random weights)."""
import io

import pytest
import torch
from torch import nn

from robustcore.nets import CheckpointError, CifarResNet, NormalizeLayer, build_model, load_model_file, save_checkpoint
from robustcore.nets.cohen import CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD, build_cohen


def _bytes(obj, legacy: bool = False) -> bytes:
    buf = io.BytesIO()
    # legacy: the pre-1.6 (non-zip) format, in which Cohen et al.'s 2019 checkpoints were written.
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def _randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    # Random BN statistics too, so a key mapped to the wrong layer would change the outputs.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) * 0.2 + (0.9 if name.endswith("running_var") else -0.1))
    return model.eval()


class _Wrapped(nn.Module):
    # The layout Cohen et al. save: Sequential(NormalizeLayer, DataParallel(net)) -> '1.module.*' keys.
    def __init__(self, net):
        super().__init__()
        self.module = net


def _cohen_reference(net: nn.Module, mean, std) -> nn.Module:
    # Independent reference: standardise by hand, then the very same network object.
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return lambda x: net((x - m) / s)


@pytest.mark.parametrize("data_parallel,legacy", [(False, False), (True, True)])
def test_cohen_cifar_resnet20_file(data_parallel, legacy):
    net = _randomise(CifarResNet(20, 10))
    seq = nn.Sequential(NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD), _Wrapped(net) if data_parallel else net)
    state = seq.state_dict()
    assert all(k.startswith("1.module." if data_parallel else "1.") for k in state)
    # Cohen's train.py also saves the epoch and the optimizer's state beside the weights.
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    blob = _bytes({"epoch": 90, "arch": "cifar_resnet20", "state_dict": state, "optimizer": opt.state_dict()}, legacy)
    model, info = load_model_file(blob, dataset="cifar10")
    assert info["format"] == "cohen" and info["arch"] == "cifar_resnet20"
    assert info["num_classes"] == 10 and info["input_shape"] == (3, 32, 32)
    assert info["normalization"]["mean"] == list(CIFAR10_MEAN) and not info["normalization_assumed"]
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), _cohen_reference(net, CIFAR10_MEAN, CIFAR10_STD)(x))


def test_cohen_cifar_resnet110_builds_and_loads(tmp_path):
    net = CifarResNet(110, 10)
    # Depth counts the weighted layers on the main path: 3x3 convs (stem + 2 per block) and the fc.
    convs3 = sum(1 for m in net.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3))
    assert convs3 + 1 == 110
    path = tmp_path / "checkpoint.pth.tar"
    torch.save({"arch": "cifar_resnet110", "state_dict": nn.Sequential(NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD), net).state_dict()}, path)
    model, info = load_model_file(path)
    assert info["arch"] == "cifar_resnet110" and info["parameters"] == sum(p.numel() for p in net.parameters())
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 10)


def test_cohen_resnet50_imagenet_keys_load():
    import torchvision

    net = torchvision.models.resnet50(weights=None).eval()
    seq = nn.Sequential(NormalizeLayer(IMAGENET_MEAN, IMAGENET_STD), _Wrapped(net))
    model, info = load_model_file(_bytes({"arch": "resnet50", "state_dict": seq.state_dict()}))
    assert info["arch"] == "resnet50" and info["num_classes"] == 1000
    assert info["normalization"]["std"] == list(IMAGENET_STD)
    for a, b in zip(model[1].state_dict().values(), net.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(CheckpointError, match="1000 outputs, but cifar10 has 10"):
        load_model_file(_bytes({"arch": "resnet50", "state_dict": seq.state_dict()}), dataset="cifar10")


def test_torchvision_resnet18_state_dict():
    import torchvision

    net = _randomise(torchvision.models.resnet18(weights=None, num_classes=10))
    model, info = load_model_file(_bytes(net.state_dict()), dataset="cifar10")
    assert (info["format"], info["arch"], info["num_classes"]) == ("state_dict", "resnet18", 10)
    assert info["normalization_assumed"] and info["normalization"]["name"] == "imagenet"
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), _cohen_reference(net, IMAGENET_MEAN, IMAGENET_STD)(x))


@pytest.mark.parametrize("dataset,arch", [("digits", "digits-cnn"), ("mnist-5k", "cnn"), ("mnist-5k", "lenet"), ("cifar10", "mlp")])
def test_plain_state_dicts_of_our_architectures(dataset, arch):
    from robustcore.data import DATASET_SHAPES

    c, s, _ = DATASET_SHAPES[dataset]
    kw = {"mlp": {"in_features": c * s * s}, "cnn": {"in_channels": c, "input_size": s},
          "lenet": {"in_channels": c, "input_size": s}, "digits-cnn": {}}[arch]
    torch.manual_seed(1)
    net = _randomise(build_model({"arch": arch, "arch_kwargs": kw}))
    model, info = load_model_file(_bytes({"model_state_dict": net.state_dict(), "epoch": 3}), dataset=dataset)
    assert info["input_shape"] == (c, s, s) and info["num_classes"] == 10
    x = torch.rand(2, c, s, s)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net(x))


def test_robustcore_checkpoint_info(tmp_path):
    from robustcore.nets import DEFAULT_MODELS

    net = build_model(DEFAULT_MODELS["mnist-5k-mlp"])
    p = save_checkpoint(tmp_path / "m.pt", net, {"name": "x", "config": DEFAULT_MODELS["mnist-5k-mlp"], "metrics": {"test_acc": 0.5}})
    model, info = load_model_file(p, dataset="mnist-5k")
    assert info["format"] == "robustcore" and info["input_shape"] == (1, 28, 28) and info["metrics"]["test_acc"] == 0.5
    with pytest.raises(CheckpointError, match="784 input values, but a digits image has 64"):
        load_model_file(p, dataset="digits")


def test_torchscript_file(tmp_path):
    net = _randomise(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)))
    p = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.trace(net, torch.rand(1, 1, 8, 8)), str(p))
    model, info = load_model_file(p, dataset="digits")
    assert info["format"] == "torchscript" and info["num_classes"] == 10
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(model(x), net(x))
    with pytest.raises(CheckpointError, match="TorchScript"):
        load_model_file(p, allow_torchscript=False)
    with pytest.raises(CheckpointError, match="does not run on a cifar10 image"):
        load_model_file(p, dataset="cifar10")


@pytest.mark.parametrize(
    "payload,match",
    [
        ({"arch": "cifar_resnet110", "state_dict": None}, "neither a state dict"),
        ([1, 2, 3], "holds a list"),
        ({"weights": {"a": 1}}, "neither a state dict"),
        ({"conv1.weight": torch.zeros(2, 2)}, "match none"),
    ],
)
def test_foreign_files_give_one_sentence(payload, match):
    with pytest.raises(CheckpointError, match=match):
        load_model_file(_bytes(payload))


def test_cohen_file_with_the_wrong_depth_says_it_does_not_fit():
    seq = build_cohen("cifar_resnet20")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_model_file(_bytes({"arch": "cifar_resnet110", "state_dict": seq.state_dict()}))


def test_integer_and_nan_weights_are_refused():
    net = CifarResNet(20, 10)
    state = nn.Sequential(NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD), net).state_dict()
    bad = dict(state)
    bad["1.fc.weight"] = torch.zeros(10, 64, dtype=torch.int64)
    with pytest.raises(CheckpointError, match="int64.*floating-point"):
        load_model_file(_bytes({"arch": "cifar_resnet20", "state_dict": bad}))
    bad["1.fc.weight"] = torch.full((10, 64), float("nan"))
    with pytest.raises(CheckpointError, match="NaN"):
        load_model_file(_bytes({"arch": "cifar_resnet20", "state_dict": bad}))


def test_too_many_parameters_refused_before_building():
    # A state dict that claims a ResNet-152 (60 M parameters): refused from its key names alone.
    import re

    import torchvision

    keys = torchvision.models.resnet152(weights=None).state_dict()
    tiny = {k: torch.zeros(1, 1, 1, 1) if k.endswith("conv1.weight") else torch.zeros(1) for k in keys}
    tiny["fc.weight"] = torch.zeros(1000, 2048)
    assert any(re.match(r"layer3\.35\.", k) for k in tiny)
    with pytest.raises(CheckpointError, match="cap"):
        load_model_file(_bytes(tiny))
