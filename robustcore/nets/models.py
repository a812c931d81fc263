"""Small architectures: an MLP and a CNN for grey or colour images (8x8 digits, 28x28 MNIST,
32x32 CIFAR), the Affine-ReLU-Affine net for 2-D data, and ``build_model`` from a JSON config.

``build_model`` validates the config (types, ranges) and estimates the parameter count BEFORE
allocating anything: a checkpoint's config is untrusted input, and a 3 KB file asking for
``hidden=[200000, 200000]`` must be refused in microseconds, not after a 160 GB allocation.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Largest model ``build_model`` builds, in parameters (50 M: a torchvision ResNet-50 has 25.6 M).
MAX_PARAMETERS = 50_000_000
_MAX_WIDTH = 1_000_000
_MAX_CLASSES = 10_000
_MAX_CHANNELS = 64
_MAX_SIDE = 512


class DigitsMLP(nn.Module):
    """Flatten -> Linear -> ReLU -> Linear -> ReLU -> Linear on (n, C, H, W) images in [0, 1].

    ``in_features`` is C * H * W (64 for 8x8 digits, 784 for 28x28 MNIST, 3072 for CIFAR-10).
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


def _cnn_early_pool(input_size: int) -> bool:
    # On 8x8 digits one pool is enough (and keeps the original layout of digits checkpoints); on
    # 28x28 / 32x32 images a pool after the first conv cuts the second conv's cost by 4.
    return input_size >= 16


class DigitsCNN(nn.Module):
    """A small CNN for (n, in_channels, s, s) images in [0, 1] (8x8 digits by default).

    first_layer (default: 3x3 conv, ``first_channels`` maps, padding 1) -> ReLU -> [2x2 max-pool
    when s >= 16] -> 3x3 conv (32) -> ReLU -> 2x2 max-pool -> Linear(32 * s' * s', 64) -> ReLU ->
    Linear(64, num_classes), with s' = s // 2 (s < 16) or (s // 2) // 2 (s >= 16): 4 for digits,
    7 for MNIST, 8 for CIFAR-10.
    Any ``first_layer`` mapping (n, in_channels, s, s) to (n, first_channels, s, s), such as a
    Gabor layer, can replace the first convolution.
    """

    def __init__(
        self,
        num_classes: int = 10,
        first_layer: nn.Module | None = None,
        first_channels: int = 16,
        in_channels: int = 1,
        input_size: int = 8,
    ):
        super().__init__()
        if input_size < 2:
            raise ValueError(f"input_size must be at least 2, not {input_size}.")
        self.config = {"num_classes": int(num_classes), "first_channels": int(first_channels)}
        if (in_channels, input_size) != (1, 8):
            self.config.update(in_channels=int(in_channels), input_size=int(input_size))
        self.first = first_layer if first_layer is not None else nn.Conv2d(in_channels, first_channels, 3, padding=1)
        early = _cnn_early_pool(input_size)
        side = (input_size // 2 if early else input_size) // 2
        self.rest = nn.Sequential(
            nn.ReLU(),
            *([nn.MaxPool2d(2)] if early else []),
            nn.Conv2d(first_channels, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * side * side, 64),
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


# ---------------------------------------------------------------------------------------------
# Config validation: every architecture's keyword arguments with their type and range.

def _int(arch: str, key: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{arch}: {key} must be an integer, not {type(value).__name__}.")
    if not lo <= value <= hi:
        raise ValueError(f"{arch}: {key} must be between {lo} and {hi}, not {value}.")
    return int(value)


def _float(arch: str, key: str, value: object, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{arch}: {key} must be a number, not {type(value).__name__}.")
    v = float(value)
    if not abs(v) < float("inf") or (positive and not v > 0):
        raise ValueError(f"{arch}: {key} must be {'positive and ' if positive else ''}finite, not {value}.")
    return v


def _hidden(arch: str, value: object, n: int | None) -> list[int]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{arch}: hidden must be a list of layer widths, not {type(value).__name__}.")
    if n is not None and len(value) != n:
        raise ValueError(f"{arch}: hidden must hold {n} layer widths, not {len(value)}.")
    return [_int(arch, "hidden", h, 1, _MAX_WIDTH) for h in value]


def _linear(i: int, o: int) -> int:
    return i * o + o


def _conv(i: int, o: int, k: int) -> int:
    return i * o * k * k + o


def _check_mlp(a: str, kw: dict) -> tuple[dict, int]:
    h1, h2 = _hidden(a, kw.get("hidden", [64, 32]), 2)
    k = _int(a, "num_classes", kw.get("num_classes", 10), 2, _MAX_CLASSES)
    d = _int(a, "in_features", kw.get("in_features", 64), 1, _MAX_CHANNELS * _MAX_SIDE * _MAX_SIDE)
    return {"hidden": [h1, h2], "num_classes": k, "in_features": d}, _linear(d, h1) + _linear(h1, h2) + _linear(h2, k)


def _check_cnn(a: str, kw: dict) -> tuple[dict, int]:
    k = _int(a, "num_classes", kw.get("num_classes", 10), 2, _MAX_CLASSES)
    c1 = _int(a, "first_channels", kw.get("first_channels", 16), 1, 4096)
    c = _int(a, "in_channels", kw.get("in_channels", 1), 1, _MAX_CHANNELS)
    s = _int(a, "input_size", kw.get("input_size", 8), 2, _MAX_SIDE)
    side = ((s // 2) if _cnn_early_pool(s) else s) // 2
    n = _conv(c, c1, 3) + _conv(c1, 32, 3) + _linear(32 * side * side, 64) + _linear(64, k)
    return {"num_classes": k, "first_channels": c1, "in_channels": c, "input_size": s}, n


def _check_toy(a: str, kw: dict) -> tuple[dict, int]:
    d = _int(a, "d", kw.get("d", 2), 1, _MAX_WIDTH)
    p = _int(a, "hidden", kw.get("hidden", 8), 1, _MAX_WIDTH)
    k = _int(a, "num_classes", kw.get("num_classes", 2), 2, _MAX_CLASSES)
    return {"d": d, "hidden": p, "num_classes": k}, _linear(d, p) + _linear(p, k)


def _check_lenet(a: str, kw: dict) -> tuple[dict, int]:
    c = _int(a, "in_channels", kw.get("in_channels", 1), 1, _MAX_CHANNELS)
    k = _int(a, "num_classes", kw.get("num_classes", 10), 2, _MAX_CLASSES)
    s = _int(a, "input_size", kw.get("input_size", 28), 16, _MAX_SIDE)
    out = {"in_channels": c, "num_classes": k, "input_size": s}
    for key in ("mean", "std"):
        if key in kw:
            out[key] = _float(a, key, kw[key], positive=key == "std")
    side = ((s + 2 - 4) // 2 - 4) // 2  # LeNet: 5x5 conv pad 1, pool, 5x5 conv, pool
    n = _conv(c, 6, 5) + _conv(6, 16, 5) + _linear(16 * side * side, 256) + _linear(256, 256) + _linear(256, k)
    return out, n


_CHECKS = {
    "digits-mlp": _check_mlp,
    "mlp": _check_mlp,
    "digits-cnn": _check_cnn,
    "cnn": _check_cnn,
    "toy-relu": _check_toy,
    "lenet": _check_lenet,
}

#: The architectures ``build_model`` knows (besides the Cohen / torchvision ones in ``robustcore.nets.cohen``).
ARCHITECTURES = tuple(_CHECKS)


def validate_arch_config(config: object) -> tuple[str, dict, int]:
    """Check ``config`` = ``{"arch": name, "arch_kwargs": {...}}`` without building anything.

    Returns
    -------
    (arch, kwargs with defaults filled in, estimated parameter count)

    Raises
    ------
    TypeError / ValueError
        One sentence naming the bad entry: unknown arch or keyword, a wrong type, a value out of
        range, or more than :data:`MAX_PARAMETERS` parameters.
    """
    if not isinstance(config, dict):
        raise TypeError(f"the model config must be a dict, not {type(config).__name__}.")
    arch = config.get("arch")
    kwargs = config.get("arch_kwargs", {})
    if not isinstance(kwargs, dict):
        raise TypeError(f"arch_kwargs must be a dict, not {type(kwargs).__name__}.")
    if isinstance(arch, str) and arch not in _CHECKS:
        from .cohen import COHEN_ARCHS, cohen_parameter_count

        if arch in COHEN_ARCHS:
            k = _int(arch, "num_classes", kwargs.get("num_classes", COHEN_ARCHS[arch]["num_classes"]), 2, _MAX_CLASSES)
            unknown = set(kwargs) - {"num_classes"}
            if unknown:
                raise ValueError(f"{arch} takes only num_classes, not {', '.join(sorted(map(str, unknown)))}.")
            return arch, {"num_classes": k}, cohen_parameter_count(arch, k)
    if not isinstance(arch, str) or arch not in _CHECKS:
        raise ValueError(f"Unknown architecture {arch!r}.")
    check = _CHECKS[arch]
    known = set(check(arch, {})[0]) | ({"mean", "std"} if arch == "lenet" else set())
    unknown = set(kwargs) - known
    if unknown:
        raise ValueError(f"{arch} does not take {', '.join(sorted(map(str, unknown)))}; it takes {', '.join(sorted(known))}.")
    clean, n_params = check(arch, kwargs)
    if n_params > MAX_PARAMETERS:
        raise ValueError(
            f"{arch} with these settings would have {n_params:,} parameters, more than robustcore's cap of "
            f"{MAX_PARAMETERS:,}."
        )
    return arch, clean, n_params


def build_model(config: dict) -> nn.Module:
    """Build an untrained architecture from ``config["arch"]`` and ``config["arch_kwargs"]``.

    Known archs: "digits-mlp" / "mlp" (:class:`DigitsMLP`), "digits-cnn" / "cnn"
    (:class:`DigitsCNN`), "toy-relu" (:class:`ToyReluNet`), "lenet" (the Gabor paper's LeNet,
    :class:`robustcore.gabor.lenet.LeNet`), and Cohen et al.'s "cifar_resnet20",
    "cifar_resnet110", "resnet50" (:mod:`robustcore.nets.cohen`). The config is validated first
    (:func:`validate_arch_config`), so a bad or oversized one fails with one sentence before any
    allocation.
    """
    arch, kwargs, _ = validate_arch_config(config)
    if arch in ("digits-mlp", "mlp"):
        return DigitsMLP(**kwargs)
    if arch in ("digits-cnn", "cnn"):
        return DigitsCNN(**kwargs)
    if arch == "toy-relu":
        return ToyReluNet(**kwargs)
    if arch == "lenet":
        from robustcore.gabor.lenet import LeNet

        return LeNet(**kwargs)
    from .cohen import build_cohen

    return build_cohen(arch, **kwargs)


def arch_config_for(arch: str, dataset: str, **kwargs) -> dict:
    """``{"arch": arch, "arch_kwargs": ...}`` with the input size and channels of ``dataset``'s images.

    Parameters
    ----------
    arch : "mlp", "cnn" or "lenet".
    dataset : a name of :data:`robustcore.data.DATASETS` ("digits", "mnist-5k", "mnist", "cifar10").
    kwargs : further architecture arguments (e.g. ``hidden=[128, 32]``), validated with the rest.

    Example: ``build_model(arch_config_for("cnn", "cifar10"))`` is a CNN for (n, 3, 32, 32) images.
    """
    from robustcore.data import dataset_info

    ds = dataset_info(dataset)
    if arch == "mlp":
        base = {"in_features": ds.channels * ds.side * ds.side}
    elif arch in ("cnn", "lenet"):
        base = {"in_channels": ds.channels, "input_size": ds.side}
    else:
        raise ValueError(f"arch must be 'mlp', 'cnn' or 'lenet' for a dataset's images, not {arch!r}.")
    config = {"arch": arch, "arch_kwargs": {**base, "num_classes": ds.classes, **kwargs}}
    validate_arch_config(config)
    return config
