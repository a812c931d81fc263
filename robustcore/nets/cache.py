"""On-disk cache of trained models: trained on first use, loaded in milliseconds after."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from torch import nn

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint

ProgressFn = Callable[[float, str], None]


def cache_dir() -> Path:
    """The cache folder: ``$ROBUSTCORE_CACHE`` or ``~/.cache/robustcore`` (created on demand)."""
    root = Path(os.environ.get("ROBUSTCORE_CACHE") or Path.home() / ".cache" / "robustcore").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def config_hash(config: dict) -> str:
    """A short stable hash of a JSON-serialisable config (sorted keys)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # Two processes (xdist workers, the CLI and the dashboard) asking for the same model: the
    # second waits for the first to finish training instead of training it again.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cached_model_path(name: str, config: dict) -> Path:
    """The file where :func:`cached_model` keeps model ``name`` trained with ``config`` (it may not exist yet)."""
    return cache_dir() / "models" / f"{name}-{config_hash(config)}.pt"


def cached_model(
    name: str,
    config: dict,
    build: Callable[[dict], nn.Module],
    train: Callable[[nn.Module, dict, ProgressFn | None], dict | None],
    progress: ProgressFn | None = None,
    retrain: bool = False,
) -> tuple[nn.Module, dict]:
    """Return the trained model ``name`` for ``config``, training and caching it on first use.

    Parameters
    ----------
    name : a short model name, used in the file name.
    config : everything that determines the model (architecture, data, seed, epochs...); JSON-like.
    build : ``build(config)`` -> untrained module.
    train : ``train(model, config, progress)`` trains in place and returns metrics (or None).
    progress : forwarded to ``train``.
    retrain : ignore a cached file and train again.

    Returns
    -------
    (model in eval mode, info) where info has "config", "metrics", "path", "cached" (bool) and
    "seconds" (load or train time).
    """
    path = cached_model_path(name, config)
    t0 = time.perf_counter()
    with _file_lock(path.with_suffix(".lock")):
        if path.exists() and not retrain:
            try:
                model, stored = load_checkpoint(path, lambda c: build(c["config"]))
                return model, {
                    "config": stored["config"],
                    "metrics": stored.get("metrics", {}),
                    "path": str(path),
                    "cached": True,
                    "seconds": time.perf_counter() - t0,
                }
            except CheckpointError:
                pass  # a corrupt cache entry is rebuilt below, then overwritten atomically
        model = build(config)
        metrics = train(model, config, progress) or {}
        model.eval()
        save_checkpoint(path, model, {"name": name, "config": config, "metrics": metrics})
    return model, {
        "config": config,
        "metrics": metrics,
        "path": str(path),
        "cached": False,
        "seconds": time.perf_counter() - t0,
    }
