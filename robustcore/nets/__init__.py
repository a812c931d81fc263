"""Small architectures, training loops, checkpoints and the on-disk model cache."""
from .cache import cache_dir, cached_model, config_hash
from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .defaults import DEFAULT_MODELS, build_seeded, default_model, load_model_file, train_from_config
from .models import DigitsCNN, DigitsMLP, ToyReluNet, build_model
from .training import evaluate_accuracy, predict, train_classifier

__all__ = [
    "cache_dir",
    "cached_model",
    "config_hash",
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
