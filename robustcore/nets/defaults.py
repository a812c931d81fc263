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


def _data(config: dict, split: str):
    if config["data"] == "digits":
        from robustcore.data import load_digits

        return load_digits(split)
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


def default_model(
    name: str, progress: ProgressFn | None = None, retrain: bool = False, **overrides
) -> tuple[nn.Module, dict]:
    """A default model by name ("digits-mlp", "digits-cnn", "toy-moons"), cached on disk.

    ``overrides`` change config entries (e.g. ``noise_sigma=0.25`` for a Gaussian-augmented CNN);
    a different config is a different cache entry. Returns ``(model, info)`` as
    :func:`robustcore.nets.cached_model`.
    """
    if name not in DEFAULT_MODELS:
        raise ValueError(f"Unknown default model {name!r}; choose one of {', '.join(DEFAULT_MODELS)}.")
    config = {**DEFAULT_MODELS[name], **overrides}
    return cached_model(name, config, build_seeded, train_from_config, progress=progress, retrain=retrain)


def load_model_file(source) -> tuple[nn.Module, dict]:
    """Load a checkpoint written by robustcore (a path or an upload's bytes) into its architecture.

    The architecture comes from the checkpoint's own config (``arch`` and ``arch_kwargs``), so any
    model that ``default_model`` or ``robustcore train`` cached can be reloaded or shared. Loading is
    ``weights_only``; a foreign, corrupt or NaN-carrying file raises
    :class:`~robustcore.nets.CheckpointError` with one sentence saying what is wrong.
    """
    from .checkpoint import CheckpointError, load_checkpoint

    def build(cfg: dict) -> nn.Module:
        inner = cfg.get("config", cfg)
        if "arch" not in inner:
            raise CheckpointError(
                "The checkpoint carries no architecture (arch) in its config; robustcore cannot rebuild it."
            )
        return build_model(inner)

    model, cfg = load_checkpoint(source, build)
    return model, {"config": cfg.get("config", cfg), "metrics": cfg.get("metrics", {}), "cached": True}
