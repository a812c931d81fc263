"""The LeNet of the Gabor-layers paper, for 28 x 28 MNIST (and any square input size).

Architecture as in the paper's official code (BCV-Uniandes/Gabor_Layers_for_Robustness,
``models/lenet.py``), written here from its description:

====================  ==============================================  =====================
layer                 operation                                       output on 1 x 28 x 28
====================  ==============================================  =====================
normalise             ``(x - 0.1307) / 0.3081`` (MNIST mean / std)    1 x 28 x 28
conv1 (first_layer)   5 x 5 conv, 6 maps, padding 1, + ReLU            6 x 26 x 26
pool                  2 x 2 max pool                                  6 x 13 x 13
conv2                 5 x 5 conv, 16 maps, padding 0, + ReLU           16 x 9 x 9
pool                  2 x 2 max pool (floor)                          16 x 4 x 4
fc1, fc2              Linear 256 -> 256, + ReLU each                  256
fc3                   Linear 256 -> 10                                logits
====================  ==============================================  =====================

The Gabor variant replaces ``conv1`` by a Gabor layer with the same output channels (6), kernel
size (5) and padding (1): :func:`gabor_lenet` builds it, :func:`standard_lenet` builds the
same-size baseline, so the two differ only in the first layer. The normalisation sits inside the
model so attacks and certificates work on images in [0, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LeNet", "gabor_lenet", "standard_lenet", "LENET_FIRST_CHANNELS", "LENET_KERNEL_SIZE",
           "LENET_FIRST_PADDING", "MNIST_MEAN", "MNIST_STD"]

LENET_FIRST_CHANNELS = 6
LENET_KERNEL_SIZE = 5
LENET_FIRST_PADDING = 1
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
_MAX_INPUT_SIZE = 512


def _check_positive_int(name: str, value: object, cap: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if not 1 <= value <= cap:
        raise ValueError(f"{name} must be between 1 and {cap}, got {value}.")
    return int(value)


def _flat_features(input_size: int) -> int:
    s = input_size + 2 * LENET_FIRST_PADDING - LENET_KERNEL_SIZE + 1
    s = s // 2 - LENET_KERNEL_SIZE + 1
    return 16 * (s // 2) ** 2


class LeNet(nn.Module):
    """The Gabor paper's LeNet (see the module docstring for the layer sizes and source).

    Parameters
    ----------
    in_channels : int
        Input channels (1 for MNIST; 3 for colour images). The normalisation uses the MNIST
        mean / std for every channel unless ``mean`` / ``std`` are given.
    num_classes : int
        Number of logits.
    first_layer : nn.Module, optional
        Replaces ``conv1``; must map (n, in_channels, s, s) to (n, 6, s - 2, s - 2), like a
        5 x 5 conv with padding 1 (e.g. ``GaborConv2d(in_channels, 6, 5, padding=1)``). The shape
        is checked at construction on one zero image.
    input_size : int
        Side s of the square input (28 for MNIST); fixes the width of fc1 (16 * 4 * 4 = 256 at 28).
    mean, std : float
        Normalisation applied inside the model, ``(x - mean) / std``.

    Shapes: (n, in_channels, s, s) in [0, 1] -> (n, num_classes) logits.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        first_layer: nn.Module | None = None,
        input_size: int = 28,
        mean: float = MNIST_MEAN,
        std: float = MNIST_STD,
    ) -> None:
        super().__init__()
        in_channels = _check_positive_int("in_channels", in_channels, 64)
        num_classes = _check_positive_int("num_classes", num_classes, 10_000)
        input_size = _check_positive_int("input_size", input_size, _MAX_INPUT_SIZE)
        if input_size < 16:
            raise ValueError(f"input_size must be at least 16 for LeNet's two 5 x 5 convs and pools, got {input_size}.")
        if first_layer is not None and not isinstance(first_layer, nn.Module):
            raise TypeError(f"first_layer must be a torch.nn.Module, got {type(first_layer).__name__}.")
        mean, std = float(mean), float(std)
        if not (abs(mean) < float("inf") and 0 < std < float("inf")):
            raise ValueError(f"std must be positive and finite and mean finite, got mean={mean}, std={std}.")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.input_size = input_size
        self.register_buffer("mean", torch.full((1, in_channels, 1, 1), mean))
        self.register_buffer("std", torch.full((1, in_channels, 1, 1), std))
        self.conv1 = first_layer if first_layer is not None else nn.Conv2d(
            in_channels, LENET_FIRST_CHANNELS, LENET_KERNEL_SIZE, padding=LENET_FIRST_PADDING)
        self.conv2 = nn.Conv2d(LENET_FIRST_CHANNELS, 16, LENET_KERNEL_SIZE, padding=0)
        flat = _flat_features(input_size)
        self.fc1 = nn.Linear(flat, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc3 = nn.Linear(256, num_classes)
        if first_layer is not None:
            expect = (1, LENET_FIRST_CHANNELS, input_size - 2, input_size - 2)
            with torch.no_grad():
                got = tuple(first_layer(torch.zeros(1, in_channels, input_size, input_size)).shape)
            if got != expect:
                raise ValueError(f"first_layer must map (1, {in_channels}, {input_size}, {input_size}) "
                                 f"to {expect} like a 5 x 5 conv with padding 1, got {got}.")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, in_channels, s, s) images in [0, 1] -> (n, num_classes) logits."""
        x = (x - self.mean) / self.std
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def standard_lenet(in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> LeNet:
    """The baseline: LeNet with its standard 5 x 5 first conv (6 maps, padding 1)."""
    return LeNet(in_channels, num_classes, None, input_size)


def gabor_lenet(
    in_channels: int = 1,
    num_classes: int = 10,
    input_size: int = 28,
    families: int = 2,
    orientations: int = 8,
    bias: bool = False,
    alpha_init: str = "randn",
    seed: int | None = 0,
) -> LeNet:
    """LeNet whose first conv is a Gabor layer of the same size (6 maps, 5 x 5, padding 1).

    The defaults follow the official code: no bias on the 1 x 1 mixing, alpha initialised from a
    standard normal, R = 8 orientations. ``families`` is the number of learnt Gabor families P.
    """
    from .layer import GaborConv2d

    layer = GaborConv2d(in_channels, LENET_FIRST_CHANNELS, LENET_KERNEL_SIZE, orientations=orientations,
                        families=families, padding=LENET_FIRST_PADDING, bias=bias,
                        alpha_init=alpha_init, seed=seed)
    return LeNet(in_channels, num_classes, layer, input_size)
