"""Small architectures, training loops, checkpoints and the on-disk model cache."""
from .cache import cache_dir, cached_model, cached_model_path, config_hash
from .checkpoint import MAX_CHECKPOINT_BYTES, CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .cohen import COHEN_ARCHS, CifarResNet, NormalizeLayer, build_cohen
from .defaults import (
    DEFAULT_MODELS,
    MODELS_BY_DATASET,
    build_seeded,
    default_model,
    default_model_path,
    is_default_model_cached,
    train_from_config,
)
from .loading import is_torchscript, load_model_file
from .models import MAX_PARAMETERS, DigitsCNN, arch_config_for, DigitsMLP, ToyReluNet, build_model, validate_arch_config
from .training import evaluate_accuracy, predict, train_classifier

__all__ = [
    "cache_dir",
    "cached_model",
    "cached_model_path",
    "config_hash",
    "MAX_CHECKPOINT_BYTES",
    "MAX_PARAMETERS",
    "COHEN_ARCHS",
    "CifarResNet",
    "NormalizeLayer",
    "build_cohen",
    "MODELS_BY_DATASET",
    "default_model_path",
    "is_default_model_cached",
    "is_torchscript",
    "validate_arch_config",
    "arch_config_for",
    "CheckpointError",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "DEFAULT_MODELS",
    "build_seeded",
    "default_model",
    "load_model_file",
    "train_from_config",
    "DigitsCNN",
    "DigitsMLP",
    "ToyReluNet",
    "build_model",
    "evaluate_accuracy",
    "predict",
    "train_classifier",
]
