"""Checkpoints saved with their config and loaded with ``torch.load(weights_only=True)``."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

FORMAT = "robustcore-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, foreign or does not fit the architecture."""


def save_checkpoint(path: str | Path, model: nn.Module, config: dict) -> Path:
    """Write ``model``'s weights and ``config`` (plain JSON-like values) atomically to ``path``.

    The file is written to a temporary name and renamed, so a reader never sees half a file and
    an interrupted save leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_checkpoint(source: str | Path | bytes) -> dict:
    """Read and validate a checkpoint file (or its bytes) without building a model.

    Returns the payload dict with "config" and "state_dict". Raises :class:`CheckpointError`
    with one sentence saying what is wrong.
    """
    import io

    name = "the uploaded file" if isinstance(source, (bytes, bytearray)) else f"{str(source)!r}"
    if not isinstance(source, (bytes, bytearray)) and not Path(source).is_file():
        raise CheckpointError(f"No checkpoint file at {name}.")
    try:
        handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        payload = torch.load(handle, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds on foreign bytes
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{name} is not a readable weights-only torch checkpoint ({first}); "
            "load only files saved by robustcore (`robustcore train`) or plain state_dicts."
        ) from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"{name} holds a {type(payload).__name__}, not a robustcore checkpoint.")
    if payload.get("format") != FORMAT:
        # A bare state_dict is accepted as such, with an empty config.
        if payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": {}, "state_dict": payload}
        else:
            raise CheckpointError(f"{name} is not a robustcore checkpoint (no 'format' marker, not a state_dict).")
    if int(payload.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer robustcore (format {payload['format_version']}); upgrade robustcore."
        )
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{name} has no valid state_dict.")
    for key, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{name} contains NaN or infinite weights in {key!r}.")
    return payload


def load_checkpoint(
    source: str | Path | bytes, build: Callable[[dict], nn.Module]
) -> tuple[nn.Module, dict]:
    """Load a checkpoint into the architecture that ``build(config)`` returns.

    Parameters
    ----------
    source : a path, or the raw bytes of an upload.
    build : makes the untrained module from the checkpoint's config.

    Returns
    -------
    (model in eval mode, config)

    Raises
    ------
    CheckpointError
        Missing, corrupt, foreign, from a newer format, with NaN weights, or not matching the
        architecture.
    """
    payload = read_checkpoint(source)
    config = payload["config"]
    try:
        model = build(config)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"The checkpoint's config does not describe a known model ({exc}).") from None
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise CheckpointError(f"The checkpoint does not fit the architecture: {first}") from None
    return model.eval(), config

