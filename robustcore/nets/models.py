"""Small architectures: an MLP and a CNN for 8x8 digits, and the Affine-ReLU-Affine net for 2-D data."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class DigitsMLP(nn.Module):
    """Flatten -> Linear -> ReLU -> Linear -> ReLU -> Linear on (n, 1, 8, 8) images in [0, 1].

    ``features(x)`` is the output of the first ReLU, and ``head`` the last Affine-ReLU-Affine
    block, so ``model(x) == model.head(model.features(x))``: the tropical pages study ``head``
    with the features as its input.
    """

    def __init__(self, hidden: Sequence[int] = (64, 32), num_classes: int = 10, in_features: int = 64):
        super().__init__()
        if len(hidden) != 2 or min(hidden) < 1:
            raise ValueError(f"hidden must be two positive layer widths, not {tuple(hidden)}.")
        h1, h2 = (int(h) for h in hidden)
        self.config = {"hidden": [h1, h2], "num_classes": int(num_classes), "in_features": int(in_features)}
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_features, h1), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Input of the last Affine-ReLU-Affine block, shape (n, hidden[0])."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class DigitsCNN(nn.Module):
    """A small CNN for (n, 1, 8, 8) digits.

    first_layer (default: 3x3 conv, ``first_channels`` maps, padding 1) -> ReLU -> 3x3 conv (32) ->
    ReLU -> 2x2 max-pool -> Linear(32*4*4, 64) -> ReLU -> Linear(64, num_classes).
    Any ``first_layer`` mapping (n, 1, 8, 8) to (n, first_channels, 8, 8), such as a Gabor layer,
    can replace the first convolution.
    """

    def __init__(self, num_classes: int = 10, first_layer: nn.Module | None = None, first_channels: int = 16):
        super().__init__()
        self.config = {"num_classes": int(num_classes), "first_channels": int(first_channels)}
        self.first = first_layer if first_layer is not None else nn.Conv2d(1, first_channels, 3, padding=1)
        self.rest = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(first_channels, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.first(x))


class ToyReluNet(nn.Sequential):
    """f(x) = B max(Ax + c1, 0) + c2 as ``nn.Sequential(Linear(d, p), ReLU, Linear(p, k))``."""

    def __init__(self, d: int = 2, hidden: int = 8, num_classes: int = 2):
        if d < 1 or hidden < 1 or num_classes < 2:
            raise ValueError(f"need d >= 1, hidden >= 1 and num_classes >= 2, not {d}, {hidden}, {num_classes}.")
        super().__init__(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
        self.config = {"d": int(d), "hidden": int(hidden), "num_classes": int(num_classes)}


def build_model(config: dict) -> nn.Module:
    """Build an untrained architecture from ``config["arch"]`` and its keyword arguments."""
    arch = config.get("arch")
    kwargs = {k: v for k, v in config.get("arch_kwargs", {}).items()}
    if arch == "digits-mlp":
        return DigitsMLP(**kwargs)
    if arch == "digits-cnn":
        return DigitsCNN(**kwargs)
    if arch == "toy-relu":
        return ToyReluNet(**kwargs)
    raise ValueError(f"Unknown architecture {arch!r}.")
