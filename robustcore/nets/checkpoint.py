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
#: Largest checkpoint file read, in bytes (1 GiB; a torchvision ResNet-101 file is 171 MB).
MAX_CHECKPOINT_BYTES = 1 << 30


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


def source_name(source: object) -> str:
    """How messages name a checkpoint source: "the uploaded file" for bytes, else the quoted path."""
    return "the uploaded file" if isinstance(source, (bytes, bytearray, memoryview)) else f"{str(source)!r}"


def check_source(source: object) -> str:
    """Check that ``source`` is bytes or an existing file no larger than :data:`MAX_CHECKPOINT_BYTES`.

    Returns the name messages use for it; raises :class:`CheckpointError` otherwise.
    """
    if not isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        raise CheckpointError(f"A checkpoint must be a path or bytes, not {type(source).__name__}.")
    name = source_name(source)
    try:
        size = len(source) if isinstance(source, (bytes, bytearray)) else (
            memoryview(source).nbytes if isinstance(source, memoryview) else (
                Path(source).stat().st_size if Path(source).is_file() else None))
    except (OSError, ValueError):  # unreadable path, NUL in the name
        size = None
    if size is None:
        raise CheckpointError(f"No checkpoint file at {name}.")
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"{name} has {size:,} bytes, more than robustcore's cap of {MAX_CHECKPOINT_BYTES:,} bytes for a checkpoint."
        )
    return name


def _why_unreadable(exc: BaseException) -> str:
    """torch's error on foreign bytes, said in plain words (its own text is internal and often cut)."""
    low = str(exc).lower()
    if "weights only load failed" in low or "unsupported global" in low or "weights_only" in low:
        return "it holds Python objects besides tensors, which weights-only loading refuses because they could run code"
    # anything else torch says about foreign bytes (bad zip, bad pickle opcode, EOF, bad magic number ...)
    # means the same to a user; its own text is internal and often cut mid-sentence
    return "the bytes are not a torch file: it is damaged, cut short or in another format"


def load_weights_only(source: str | Path | bytes) -> object:
    """``torch.load(source, map_location="cpu", weights_only=True)`` after :func:`check_source`.

    Only tensors and plain containers/numbers can come back (torch's restricted unpickler); any
    failure is a :class:`CheckpointError` with one sentence.
    """
    import io

    name = check_source(source)
    try:
        handle = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
        return torch.load(handle, map_location="cpu", weights_only=True)
    except MemoryError:
        raise CheckpointError(f"{name} asks for more memory than this machine has.") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds on foreign bytes
        raise CheckpointError(
            f"{name} is not a readable weights-only torch checkpoint ({_why_unreadable(exc)}); "
            "load only files saved by robustcore (`robustcore train`), plain state_dicts, Cohen et al.'s "
            "{'arch', 'state_dict'} files or TorchScript files."
        ) from None


def read_checkpoint(source: str | Path | bytes) -> dict:
    """Read and validate a robustcore checkpoint file (or its bytes) without building a model.

    Returns the payload dict with "config" (a dict; empty for a bare state dict) and
    "state_dict". Raises :class:`CheckpointError` with one sentence saying what is wrong.
    """
    name = source_name(source)
    payload = load_weights_only(source)
    if not isinstance(payload, dict):
        raise CheckpointError(f"{name} holds a {type(payload).__name__}, not a robustcore checkpoint.")
    if payload.get("format") != FORMAT:
        # A bare state_dict is accepted as such, with an empty config.
        if payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": {}, "state_dict": payload}
        else:
            raise CheckpointError(f"{name} is not a robustcore checkpoint (no 'format' marker, not a state_dict).")
    version = payload.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CheckpointError(f"{name} has a format_version that is not an integer ({type(version).__name__}).")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer robustcore (format {payload['format_version']}); upgrade robustcore."
        )
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointError(f"{name} has no valid state_dict (a dict of names to tensors).")
    check_state_tensors(state, name)
    if not isinstance(payload.get("config", {}), dict):
        raise CheckpointError(f"{name} has a config that is not a dict ({type(payload.get('config')).__name__}).")
    payload.setdefault("config", {})
    return payload


def check_state_tensors(state: dict, name: str = "the checkpoint") -> None:
    """Refuse a state dict whose tensors are not plain dense CPU-loadable numbers or are not finite.

    Raises :class:`CheckpointError` naming the first bad entry.
    """
    for key, tensor in state.items():
        if tensor.layout != torch.strided or tensor.is_quantized or tensor.device.type == "meta":
            raise CheckpointError(f"{name} holds a {tensor.layout} / {tensor.device.type} tensor in {key!r}; "
                                  "only dense weights can be loaded.")
        if tensor.is_complex():
            raise CheckpointError(f"{name} holds complex numbers in {key!r}; weights must be real.")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{name} contains NaN or infinite weights in {key!r}.")


def load_state_checked(model: nn.Module, state: dict, name: str = "The checkpoint") -> nn.Module:
    """``model.load_state_dict(state)`` (strict) after checking that every float weight gets a
    floating-point tensor (an integer or bool tensor would be cast silently by torch).

    Raises :class:`CheckpointError` with one sentence on a missing, unexpected, mis-shaped or
    mistyped entry.
    """
    own = model.state_dict()
    for key, target in own.items():
        src = state.get(key)
        if src is not None and target.is_floating_point() and not src.is_floating_point():
            raise CheckpointError(
                f"{name} stores {key!r} as {str(src.dtype).replace('torch.', '')}, but the architecture has "
                "floating-point weights there."
            )
        if src is not None and tuple(src.shape) != tuple(target.shape):
            raise CheckpointError(
                f"{name} does not fit the architecture: {key!r} has shape {tuple(src.shape)} in the file but "
                f"{tuple(target.shape)} in the model."
            )
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]!r})")
        if extra:
            parts.append(f"{len(extra)} unexpected (e.g. {extra[0]!r})")
        raise CheckpointError(f"{name} does not fit the architecture: weights {' and '.join(parts)}.")
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{name} does not fit the architecture: {first}") from None
    return model


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
        (a ValueError) Missing, corrupt, foreign, larger than :data:`MAX_CHECKPOINT_BYTES`, from a
        newer format, with a config that does not describe a buildable model (``build`` should
        validate it and refuse oversized models before allocating: see
        :func:`robustcore.nets.models.validate_arch_config`), with NaN or non-float weights where
        the architecture has float ones, or not matching the architecture.
    """
    payload = read_checkpoint(source)
    config = payload["config"]
    try:
        model = build(config)
    except CheckpointError:
        raise
    except MemoryError:
        raise CheckpointError("The checkpoint's config asks for a model too large for this machine's memory.") from None
    except Exception as exc:  # noqa: BLE001 - the config is untrusted: any failure to build is the file's fault
        msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"The checkpoint's config does not describe a model robustcore can build ({msg})") from None
    if not isinstance(model, nn.Module):
        raise CheckpointError("The checkpoint's config did not give a torch model.")
    load_state_checked(model, payload["state_dict"])
    return model.eval(), config

