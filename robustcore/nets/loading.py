"""Load a model file in the formats researchers already have, through one function.

Formats (tried in this order):

- ``"torchscript"``: an archive written by ``torch.jit.save`` (recognised by its ``code/`` and
  ``constants.pkl`` entries), loaded with ``torch.jit.load``.
- ``"robustcore"``: ``robustcore train`` / the model cache (``{"format": "robustcore-checkpoint",
  "config": {...}, "state_dict": {...}}``); the architecture comes from the config.
- ``"cohen"``: Cohen et al.'s ``{"arch": "cifar_resnet20" | "cifar_resnet110" | "resnet50",
  "state_dict": ...}`` (with ``module.`` prefixes from ``DataParallel`` and the normalisation layer
  in front); any other ``{"state_dict": ...}`` / ``{"model_state_dict": ...}`` wrapper is read as a
  plain state dict.
- ``"state_dict"``: a plain state dict of one of robustcore's architectures (MLP, CNN, toy net,
  LeNet), of a CIFAR ResNet (Cohen's layout) or of a torchvision ResNet (18/34/50/101/152),
  recognised by its key names and shapes.

Everything except TorchScript is read with ``torch.load(weights_only=True)``; the architecture's
parameter count is computed from the file's config or key shapes and checked against
:data:`robustcore.nets.models.MAX_PARAMETERS` before anything is built.
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import torch
from torch import nn

from .checkpoint import (
    FORMAT,
    CheckpointError,
    check_source,
    check_state_tensors,
    load_state_checked,
    load_weights_only,
    read_checkpoint,
    source_name,
)
from .cohen import (
    COHEN_ARCHS,
    NORMALIZATIONS,
    CifarResNet,
    NormalizeLayer,
    _TORCHVISION_RESNETS,
    cifar_resnet_parameter_count,
    torchvision_resnet,
    torchvision_resnet_parameter_count,
)
from .models import MAX_PARAMETERS, build_model, validate_arch_config

_STATE_KEYS = ("state_dict", "model_state_dict", "model", "net")


# ---------------------------------------------------------------------------------------------
# Reading


def _read_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return Path(source).read_bytes()


def is_torchscript(source: str | Path | bytes) -> bool:
    """Whether ``source`` is a TorchScript archive (a zip with ``code/`` and ``constants.pkl``)."""
    try:
        handle = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
        if not zipfile.is_zipfile(handle):
            return False
        if isinstance(handle, io.BytesIO):
            handle.seek(0)
        with zipfile.ZipFile(handle) as zf:
            names = zf.namelist()
    except Exception:  # noqa: BLE001 - a probe: a damaged archive can raise NotImplementedError, struct.error ...
        return False
    return any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names)


def _strip_prefixes(state: dict) -> tuple[dict, bool, dict]:
    """Drop ``module.`` (DataParallel) segments and a leading ``1.`` (the net behind a
    normalisation layer at index 0). Returns (state, had_normalize_wrapper, layer-0 tensors)."""
    out = {}
    for k, v in state.items():
        k2 = ".".join(p for p in k.split(".") if p != "module")
        out[k2] = v
    wrapped = bool(out) and all(k.startswith(("0.", "1.")) for k in out) and any(k.startswith("1.") for k in out)
    zero = {}
    if wrapped:
        zero = {k[2:]: v for k, v in out.items() if k.startswith("0.")}
        out = {k[2:]: v for k, v in out.items() if k.startswith("1.")}
    return out, wrapped, zero


def _dim(state: dict, key: str, axis: int, ndim: int) -> int:
    t = state.get(key)
    if t is None or t.ndim != ndim:
        raise CheckpointError(f"The state dict's {key!r} is missing or has the wrong number of dimensions.")
    return int(t.shape[axis])


def _pick_side(candidates: list[int], wanted: int | None) -> int:
    if not candidates:
        raise CheckpointError("The state dict's layer sizes match no square input size.")
    return wanted if wanted in candidates else candidates[0]


def _detect(state: dict, side: int | None) -> tuple[str, dict]:
    """(arch, arch_kwargs) of a state dict with prefixes already stripped, from key names and shapes."""
    keys = set(state)
    if keys == {"body.1.weight", "body.1.bias", "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias"}:
        return "mlp", {
            "in_features": _dim(state, "body.1.weight", 1, 2),
            "hidden": [_dim(state, "body.1.weight", 0, 2), _dim(state, "head.0.weight", 0, 2)],
            "num_classes": _dim(state, "head.2.weight", 0, 2),
        }
    if keys == {"0.weight", "0.bias", "2.weight", "2.bias"}:
        return "toy-relu", {
            "d": _dim(state, "0.weight", 1, 2), "hidden": _dim(state, "0.weight", 0, 2),
            "num_classes": _dim(state, "2.weight", 0, 2),
        }
    if "first.weight" in keys and any(k.startswith("rest.") for k in keys):
        early = "rest.2.weight" in keys
        lin = "rest.6.weight" if early else "rest.5.weight"
        flat = _dim(state, lin, 1, 2) // 32
        s2 = math.isqrt(max(flat, 0))
        if s2 * s2 != flat:
            raise CheckpointError("The CNN state dict's linear layer does not follow a square feature map.")
        cands = list(range(4 * s2, 4 * s2 + 4)) if early else [s for s in (2 * s2, 2 * s2 + 1) if s < 16]
        cands = [s for s in cands if (s >= 16) == early and s >= 2]
        return "cnn", {
            "first_channels": _dim(state, "first.weight", 0, 4), "in_channels": _dim(state, "first.weight", 1, 4),
            "num_classes": _dim(state, "rest.8.weight" if early else "rest.7.weight", 0, 2),
            "input_size": _pick_side(cands, side),
        }
    if {"conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight", "mean", "std"} <= keys:
        flat = _dim(state, "fc1.weight", 1, 2)
        cands = [s for s in range(16, 513) if 16 * (((s - 2) // 2 - 4) // 2) ** 2 == flat]
        if "conv1.bias" not in keys or _dim(state, "conv1.weight", 2, 4) != 5:
            raise CheckpointError("This LeNet state dict has a replaced first layer (e.g. Gabor); "
                                  "load it from a robustcore checkpoint, which records how to build it.")
        return "lenet", {
            "in_channels": _dim(state, "conv1.weight", 1, 4), "num_classes": _dim(state, "fc3.weight", 0, 2),
            "input_size": _pick_side(cands, side),
        }
    if {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "fc.weight"} <= keys:
        if "layer4.0.conv1.weight" in keys:
            bottleneck = "layer1.0.conv3.weight" in keys
            blocks = tuple(
                len({int(m.group(1)) for k in keys if (m := re.match(rf"layer{i}\.(\d+)\.", k))}) for i in range(1, 5)
            )
            for name, (spec, bn) in _TORCHVISION_RESNETS.items():
                if spec == blocks and bn == bottleneck:
                    return "torchvision-" + name, {"num_classes": _dim(state, "fc.weight", 0, 2)}
            raise CheckpointError(
                f"The state dict looks like a ResNet with {blocks} blocks per stage, which is none of torchvision's "
                f"{', '.join(_TORCHVISION_RESNETS)}."
            )
        n = len({int(m.group(1)) for k in keys if (m := re.match(r"layer1\.(\d+)\.", k))})
        return "cifar_resnet", {
            "depth": 6 * n + 2, "num_classes": _dim(state, "fc.weight", 0, 2),
            "in_channels": _dim(state, "conv1.weight", 1, 4),
        }
    sample = ", ".join(repr(k[:40]) for k in sorted(keys)[:3])
    raise CheckpointError(
        f"The state dict's keys ({sample}, ...) match none of the architectures robustcore knows "
        "(its MLP, CNN, toy net and LeNet, the CIFAR ResNets of Cohen et al., torchvision's ResNets)."
    )


def _count_and_build(arch: str, kwargs: dict) -> tuple[nn.Module, int, dict | None, tuple | None]:
    """Build ``arch`` after checking its parameter count; returns (bare net, count, normalisation, input shape)."""
    if arch.startswith("torchvision-"):
        name = arch.split("-", 1)[1]
        k = kwargs["num_classes"]
        if not 1 <= k <= 10_000:
            raise CheckpointError(f"The ResNet's classifier has {k} outputs; robustcore supports 1 to 10,000.")
        n = torchvision_resnet_parameter_count(name, k)
        _cap(n, name)
        return torchvision_resnet(name, k), n, _norm("imagenet"), (3, 224, 224)
    if arch == "cifar_resnet":
        depth, k, c = kwargs["depth"], kwargs["num_classes"], kwargs["in_channels"]
        if not (1 <= k <= 10_000 and 1 <= c <= 64 and 8 <= depth <= 10_000):
            raise CheckpointError(f"The CIFAR ResNet has depth {depth}, {c} input channels and {k} classes, "
                                  "outside what robustcore builds.")
        n = cifar_resnet_parameter_count(depth, k, c)
        _cap(n, f"cifar_resnet{depth}")
        return CifarResNet(depth, k, c), n, (_norm("cifar10") if c == 3 else None), (c, 32, 32)
    try:
        arch, clean, n = validate_arch_config({"arch": arch, "arch_kwargs": kwargs})
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"The checkpoint's architecture cannot be built: {exc}") from None
    model = build_model({"arch": arch, "arch_kwargs": clean})
    if arch in COHEN_ARCHS:  # build_model wraps these in their normalisation layer already
        spec = COHEN_ARCHS[arch]
        return model, n, _norm(spec["normalization"]), spec["input_shape"]
    return model, n, None, _input_shape(arch, clean)


def _cap(n: int, what: str) -> None:
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"{what} would have {n:,} parameters, more than robustcore's cap of {MAX_PARAMETERS:,}.")


def _norm(name: str) -> dict:
    mean, std = NORMALIZATIONS[name]
    return {"name": name, "mean": list(mean), "std": list(std)}


def _input_shape(arch: str, kw: dict) -> tuple | None:
    if arch in ("mlp", "digits-mlp"):
        return {64: (1, 8, 8), 784: (1, 28, 28), 3072: (3, 32, 32)}.get(kw["in_features"], (kw["in_features"],))
    if arch in ("cnn", "digits-cnn", "lenet"):
        return (kw["in_channels"], kw["input_size"], kw["input_size"])
    if arch == "toy-relu":
        return (kw["d"],)
    return None


def _check_dataset(info: dict, dataset: str | None) -> None:
    if dataset is None:
        return
    from robustcore.data import dataset_info

    ds = dataset_info(dataset)
    shape, k = info.get("input_shape"), info.get("num_classes")
    what = f"The model ({info.get('arch')})"
    flat = info.get("flat_inputs")
    if flat is not None:  # an MLP only knows C * H * W
        if flat != math.prod(ds.shape):
            raise CheckpointError(f"{what} takes {flat} input values, but a {dataset} image has {math.prod(ds.shape)}.")
        info["input_shape"] = ds.shape
    elif shape is not None:
        if len(shape) == 1:
            if shape[0] != math.prod(ds.shape):
                raise CheckpointError(f"{what} takes {shape[0]} input values, but a {dataset} image has "
                                      f"{math.prod(ds.shape)}.")
        elif shape[0] != ds.channels:
            raise CheckpointError(f"{what} takes {shape[0]}-channel images, but {dataset} images have {ds.channels}.")
        elif not info.get("any_size") and tuple(shape[1:]) != (ds.side, ds.side):
            raise CheckpointError(f"{what} takes {shape[1]}x{shape[2]} images, but {dataset} images are "
                                  f"{ds.side}x{ds.side}.")
    if k is not None and k != ds.classes:
        raise CheckpointError(f"{what} has {k} outputs, but {dataset} has {ds.classes} classes.")


# ---------------------------------------------------------------------------------------------
# The entry point


def load_model_file(
    source: str | Path | bytes, dataset: str | None = None, *, allow_torchscript: bool = True
) -> tuple[nn.Module, dict]:
    """Load a model from a file (path) or an upload's bytes, whatever its format, in eval mode.

    Parameters
    ----------
    source : path or bytes of a robustcore checkpoint, a Cohen et al. ``{'arch', 'state_dict'}``
        file, a plain state dict (robustcore's architectures, CIFAR ResNets, torchvision ResNets)
        or a TorchScript archive (see the module docstring for how each is recognised).
    dataset : if given ("digits", "mnist-5k", "mnist", "cifar10"), the model must take that
        dataset's images (channels, and size for fixed-size nets) and have as many outputs as it
        has classes; it also picks the input size where the keys leave it open.
    allow_torchscript : TorchScript files are not weights-only: ``torch.jit.load`` rebuilds the
        model's TorchScript code from the file, and that code runs when the model is called. It
        cannot import Python modules or run arbitrary Python, but it is the file author's
        program, and torch's deserialiser is not hardened against malicious archives. Load
        TorchScript only from sources you trust; pass False to refuse it.

    Returns
    -------
    (model, info): model takes (n, C, H, W) images in [0, 1] (any normalisation is inside it) and
    returns (n, num_classes) logits. info has "format" ("robustcore", "cohen", "state_dict",
    "torchscript"), "arch", "num_classes" and "input_shape" (None when unknown), "normalization"
    (None, or {"name", "mean", "std"} of the layer put in front; "normalization_assumed" is True
    when the file did not say so and the architecture's usual one was used), "parameters",
    "config" and "metrics" (robustcore files), "cached" (True).

    Raises
    ------
    CheckpointError
        (a ValueError) with one sentence: missing, larger than the file cap, corrupt, foreign,
        NaN or integer weights where floats belong, an architecture above
        :data:`~robustcore.nets.models.MAX_PARAMETERS` parameters, or not fitting ``dataset``.
    """
    name = check_source(source)
    if dataset is not None:
        from robustcore.data import dataset_info

        try:
            side = dataset_info(dataset).side
        except ValueError as exc:
            raise CheckpointError(str(exc)) from None
    else:
        side = None
    if is_torchscript(source):
        if not allow_torchscript:
            raise CheckpointError(f"{name} is a TorchScript file, which is not weights-only; it was refused.")
        model, info = _load_torchscript(source, name, dataset)
        return model, info
    payload = load_weights_only(source)
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        model, info = _load_robustcore(source)
    elif isinstance(payload, dict):
        model, info = _load_state_payload(payload, name, side)
    else:
        raise CheckpointError(f"{name} holds a {type(payload).__name__}, not a model checkpoint or state dict.")
    info.setdefault("config", {})
    info.setdefault("metrics", {})
    info["cached"] = True
    _check_dataset(info, dataset)
    return model.eval(), info


def _load_robustcore(source) -> tuple[nn.Module, dict]:
    from .checkpoint import load_checkpoint

    def build(cfg: dict) -> nn.Module:
        inner = cfg.get("config", cfg)
        if not isinstance(inner, dict) or "arch" not in inner:
            raise CheckpointError(
                "The checkpoint carries no architecture (arch) in its config; robustcore cannot rebuild it."
            )
        return build_model(inner)

    model, cfg = load_checkpoint(source, build)
    inner = cfg.get("config", cfg)
    arch, kw, n = validate_arch_config(inner)
    norm = _norm(COHEN_ARCHS[arch]["normalization"]) if arch in COHEN_ARCHS else None
    shape = COHEN_ARCHS[arch]["input_shape"] if arch in COHEN_ARCHS else _input_shape(arch, kw)
    return model, {
        "format": "robustcore", "arch": arch, "num_classes": kw.get("num_classes"), "input_shape": shape,
        "normalization": norm, "normalization_assumed": False, "parameters": n,
        "config": inner, "metrics": cfg.get("metrics", {}) if isinstance(cfg.get("metrics", {}), dict) else {},
        "any_size": arch == "resnet50", "flat_inputs": kw.get("in_features") if arch in ("mlp", "digits-mlp") else None,
    }


def _load_state_payload(payload: dict, name: str, side: int | None) -> tuple[nn.Module, dict]:
    fmt = "state_dict"
    arch_hint = payload.get("arch") if isinstance(payload.get("arch"), str) else None
    state = payload
    if not (payload and all(isinstance(v, torch.Tensor) for v in payload.values())):
        inner = next((payload[k] for k in _STATE_KEYS if isinstance(payload.get(k), dict)), None)
        if inner is None:
            raise CheckpointError(
                f"{name} is neither a state dict nor a checkpoint with one under 'state_dict' "
                f"(its top-level keys: {', '.join(repr(str(k)[:40]) for k in list(payload)[:5])})."
            )
        state = inner
        if arch_hint is not None:
            fmt = "cohen"
    if not state or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointError(f"{name} has no valid state dict (a dict of names to tensors).")
    check_state_tensors(state, name)
    stripped, wrapped, zero = _strip_prefixes(state)
    if arch_hint in COHEN_ARCHS:
        arch = arch_hint
        spec = COHEN_ARCHS[arch]
        k = _dim(stripped, "fc.weight", 0, 2) if "fc.weight" in stripped else spec["num_classes"]
        kw = {"num_classes": k}
        model, n, norm, shape = _count_and_build(arch, kw)
        net, assumed = model[1], False
    else:
        arch, kw = _detect(stripped, side)
        net, n, norm, shape = _count_and_build(arch, kw)
        k = kw.get("num_classes")
        assumed = norm is not None and not wrapped
        if norm is not None and zero:
            mean = zero.get("means", zero.get("mean"))
            std = zero.get("sds", zero.get("std"))
            if mean is not None and std is not None and mean.numel() == std.numel() == shape[0]:
                norm = {"name": "from the file", "mean": mean.flatten().tolist(), "std": std.flatten().tolist()}
                assumed = False
    load_state_checked(net, stripped, "The checkpoint")
    if arch not in COHEN_ARCHS:
        model = nn.Sequential(NormalizeLayer(norm["mean"], norm["std"]), net) if norm is not None else net
    return model, {
        "format": fmt, "arch": arch.replace("torchvision-", ""), "num_classes": k, "input_shape": shape,
        "normalization": norm, "normalization_assumed": assumed, "parameters": n,
        "any_size": arch.startswith("torchvision-") or arch == "resnet50",
        "flat_inputs": kw.get("in_features") if arch == "mlp" else None,
        "config": {"arch": arch},
    }


def _load_torchscript(source, name: str, dataset: str | None) -> tuple[nn.Module, dict]:
    try:
        model = torch.jit.load(io.BytesIO(_read_bytes(source)), map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds on a damaged archive
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{name} looks like a TorchScript file but could not be loaded ({first}).") from None
    n = sum(p.numel() for p in model.parameters())
    _cap(n, "The TorchScript model")
    info = {
        "format": "torchscript", "arch": getattr(model, "original_name", "TorchScript"), "num_classes": None,
        "input_shape": None, "normalization": None, "normalization_assumed": False, "parameters": n,
        "config": {}, "metrics": {}, "cached": True,
    }
    if dataset is not None:
        from robustcore.data import dataset_info

        ds = dataset_info(dataset)
        try:
            with torch.inference_mode():
                out = model.eval()(torch.zeros(1, *ds.shape))
        except Exception as exc:  # noqa: BLE001 - the scripted code decides what it raises
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"The TorchScript model does not run on a {dataset} image ({first}).") from None
        if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 1:
            raise CheckpointError(f"The TorchScript model does not return (batch, classes) logits on {dataset} images.")
        info["num_classes"], info["input_shape"] = int(out.shape[1]), ds.shape
        _check_dataset(info, dataset)
    return model.eval(), info


__all__ = ["load_model_file", "is_torchscript", "source_name", "read_checkpoint"]
