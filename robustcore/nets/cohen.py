"""The architectures of Cohen et al.'s randomized-smoothing checkpoints, written so that their
files load by key names (weights only).

Cohen, Rosenfeld and Kolter (2019) publish base classifiers as ``torch.save({'arch': ...,
'state_dict': ...})`` where the network is ``nn.Sequential(NormalizeLayer, net)``: the channel
standardisation sits *inside* the classifier (so the Gaussian noise is added in [0, 1] pixel
space), and it holds its mean / std as plain attributes, so it contributes no state-dict keys.
The keys therefore read ``1.conv1.weight``, ``1.layer1.0.bn1.running_mean``, ... and, for the
ImageNet ResNet-50 wrapped in ``DataParallel``, ``1.module.conv1.weight``.

- ``cifar_resnet20`` / ``cifar_resnet110``: the CIFAR ResNet of He et al. (2016, section 4.2) in
  the layout of Wei Yang's ``pytorch-classification`` that Cohen's code uses: 3x3 conv (16, no
  bias) -> BN -> ReLU -> three stages of n basic blocks (16, 32, 64 maps; the first block of
  stages 2 and 3 has stride 2 and a 1x1-conv + BN ``downsample``) -> 8x8 average pool -> fc,
  depth = 6n + 2. CIFAR-10 mean / std in front.
- ``resnet50``: torchvision's ResNet-50 with ImageNet mean / std in front.

Written here from the papers and the public key layout; no code is copied.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2023, 0.1994, 0.2010)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Cohen et al.'s architecture names with their defaults: classes, input shape, normalisation.
COHEN_ARCHS: dict[str, dict] = {
    "cifar_resnet20": {"depth": 20, "num_classes": 10, "input_shape": (3, 32, 32), "normalization": "cifar10"},
    "cifar_resnet110": {"depth": 110, "num_classes": 10, "input_shape": (3, 32, 32), "normalization": "cifar10"},
    "resnet50": {"depth": 50, "num_classes": 1000, "input_shape": (3, 224, 224), "normalization": "imagenet"},
}

NORMALIZATIONS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "cifar10": (CIFAR10_MEAN, CIFAR10_STD),
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
}


class NormalizeLayer(nn.Module):
    """(x - mean[c]) / std[c] per channel, as the first layer of a classifier.

    Mean and std are non-persistent buffers: they move with ``.to(device)`` but, as in Cohen et
    al.'s layer, add no keys to the state dict, so their checkpoints load unchanged.

    Shapes: (n, C, H, W) -> (n, C, H, W), C = len(mean).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        mean_t = torch.as_tensor(list(mean), dtype=torch.float32)
        std_t = torch.as_tensor(list(std), dtype=torch.float32)
        if mean_t.ndim != 1 or mean_t.shape != std_t.shape or not bool((std_t > 0).all()):
            raise ValueError("mean and std must be equal-length lists with std > 0.")
        self.register_buffer("mean", mean_t.view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", std_t.view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


class _BasicBlock(nn.Module):
    # Attribute names (conv1, bn1, conv2, bn2, downsample) are the checkpoint's key names.
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + skip)


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet of depth 6n + 2 with basic blocks (20 -> n = 3, 110 -> n = 18).

    Shapes: (batch, 3, 32, 32) standardised images -> (batch, num_classes) logits.
    """

    def __init__(self, depth: int = 110, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110), not {depth}.")
        n = (depth - 2) // 6
        self.depth = depth
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        cin = 16
        stages = []
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(_BasicBlock(cin, width, stride if i == 0 else 1))
                cin = width
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # He initialisation, fan-out, as in the original recipe
                nn.init.normal_(m.weight, 0.0, (2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels)) ** 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def cifar_resnet_parameter_count(depth: int, num_classes: int, in_channels: int = 3) -> int:
    """Parameters of :class:`CifarResNet` (weights, biases, BN affine; not BN running stats)."""
    n = (depth - 2) // 6
    bn = lambda c: 2 * c  # noqa: E731
    total = in_channels * 16 * 9 + bn(16)
    cin = 16
    for width, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(n):
            total += cin * width * 9 + bn(width) + width * width * 9 + bn(width)
            if (stride if i == 0 else 1) != 1 or cin != width:
                total += cin * width + bn(width)
            cin = width
    return total + 64 * num_classes + num_classes


_TORCHVISION_RESNETS = {
    # name: (blocks per stage, bottleneck?)
    "resnet18": ((2, 2, 2, 2), False),
    "resnet34": ((3, 4, 6, 3), False),
    "resnet50": ((3, 4, 6, 3), True),
    "resnet101": ((3, 4, 23, 3), True),
    "resnet152": ((3, 8, 36, 3), True),
}


def torchvision_resnet_parameter_count(name: str, num_classes: int) -> int:
    """Parameters of torchvision's ``name`` (resnet18 ... resnet152) with ``num_classes`` outputs."""
    blocks, bottleneck = _TORCHVISION_RESNETS[name]
    total = 3 * 64 * 49 + 2 * 64
    cin = 64
    for stage, nb in enumerate(blocks):
        width = 64 * 2**stage
        cout = width * 4 if bottleneck else width
        for i in range(nb):
            if bottleneck:
                total += cin * width + 2 * width + width * width * 9 + 2 * width + width * cout + 2 * cout
            else:
                total += cin * width * 9 + 2 * width + width * width * 9 + 2 * width
            if i == 0 and (stage > 0 or cin != cout):
                total += cin * cout + 2 * cout
            cin = cout
    return total + cin * num_classes + num_classes


def cohen_parameter_count(arch: str, num_classes: int) -> int:
    """Parameter count of Cohen et al.'s ``arch`` with ``num_classes`` outputs, without building it."""
    if arch == "resnet50":
        return torchvision_resnet_parameter_count("resnet50", num_classes)
    return cifar_resnet_parameter_count(COHEN_ARCHS[arch]["depth"], num_classes)


def torchvision_resnet(name: str, num_classes: int = 1000) -> nn.Module:
    """An untrained torchvision ResNet (no weights downloaded)."""
    import torchvision

    if name not in _TORCHVISION_RESNETS:
        raise ValueError(f"Unknown torchvision ResNet {name!r}; choose one of {', '.join(_TORCHVISION_RESNETS)}.")
    return getattr(torchvision.models, name)(weights=None, num_classes=num_classes)


def build_cohen(arch: str, num_classes: int | None = None) -> nn.Sequential:
    """Cohen et al.'s classifier ``nn.Sequential(NormalizeLayer, net)`` for ``arch``, untrained.

    Its state-dict keys are exactly those of their checkpoints after removing ``module.``
    (``1.conv1.weight``, ...). Input: (n, 3, H, W) images in [0, 1].
    """
    if arch not in COHEN_ARCHS:
        raise ValueError(f"Unknown Cohen et al. architecture {arch!r}; choose one of {', '.join(COHEN_ARCHS)}.")
    spec = COHEN_ARCHS[arch]
    k = spec["num_classes"] if num_classes is None else int(num_classes)
    net = torchvision_resnet("resnet50", k) if arch == "resnet50" else CifarResNet(spec["depth"], k)
    mean, std = NORMALIZATIONS[spec["normalization"]]
    return nn.Sequential(NormalizeLayer(mean, std), net)
