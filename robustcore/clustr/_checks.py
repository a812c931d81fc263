"""Argument checks shared by the public ClusTR functions: one sentence naming the argument, raised
before any heavy work (type -> TypeError, value/finiteness/shape/size cap -> ValueError).

Documented size caps (all public functions of ``robustcore.clustr``):

* ``MAX_ROWS`` feature rows or images per call (certificates, attacks, magnet loss);
* ``MAX_CENTERS`` cluster centres, ``MAX_DIM`` feature dimension, and
  ``MAX_CENTER_PAIRS`` = M * M * D (the closed form builds the (M, M) centre-distance table);
* ``MAX_INPUT_SIZE`` elements of one input (C * H * W), ``MAX_PARAMS`` parameters of an embedding;
* ``MAX_STEPS`` attack iterations, ``MAX_RESTARTS`` restarts, ``MAX_ELEMENTS`` elements of any
  intermediate tensor we allocate (e.g. a stored attack path).
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

MAX_ROWS = 1_000_000
MAX_CENTERS = 4096
MAX_DIM = 65_536
MAX_CENTER_PAIRS = 50_000_000
MAX_INPUT_SIZE = 10_000_000
MAX_PARAMS = 50_000_000
MAX_STEPS = 10_000
MAX_RESTARTS = 100
MAX_ELEMENTS = 100_000_000
MAX_CLASSES = 10_000


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (Python or numpy; not bool, not float) within [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}.")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must lie in [{lo}, {hi}]; got {v}.")
    return v


def check_float(name: str, value: Any, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False) -> float:
    """A finite real number within [lo, hi] (or (lo, hi] with ``lo_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 and not isinstance(value, (str, bytes)):
            return check_float(name, value.item(), lo, hi, lo_open)
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}.")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite; got {v}.")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}; got {v}.")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}; got {v}.")
    return v


def check_choice(name: str, value: Any, choices: tuple | list) -> Any:
    """One of ``choices`` (compared with ==, strings only when the choices are strings)."""
    if not isinstance(value, str) and all(isinstance(c, str) for c in choices):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, choices))}; got {type(value).__name__}.")
    if value not in choices:
        shown = value if not isinstance(value, str) or len(value) <= 40 else value[:37] + "..."
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {shown!r}.")
    return value


def check_shape(name: str, shape: Any, max_size: int = MAX_INPUT_SIZE) -> tuple[int, ...]:
    """A shape: a non-empty tuple/list of positive integers whose product is at most ``max_size``."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of positive integers; got {type(shape).__name__}.")
    if not 1 <= len(shape) <= 4:
        raise ValueError(f"{name} must have 1 to 4 entries; got {len(shape)}.")
    out = tuple(check_int(f"{name}[{i}]", s, 1, max_size) for i, s in enumerate(shape))
    if math.prod(out) > max_size:
        raise ValueError(f"{name} has {math.prod(out)} elements, above the cap of {max_size}.")
    return out


def check_tensor(name: str, x: Any, ndim_min: int = 1, max_rows: int = MAX_ROWS,
                 max_elements: int = MAX_ELEMENTS):
    """A finite real torch tensor (numpy arrays are converted) with at least ``ndim_min`` dims and
    at most ``max_rows`` rows and ``max_elements`` elements; returned as a floating tensor."""
    import torch

    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype}.")
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor; got {type(x).__name__}.")
    if x.is_complex():
        raise TypeError(f"{name} must be real; got a complex tensor.")
    if x.dtype == torch.bool or not (x.is_floating_point() or x.dtype in (torch.int8, torch.int16, torch.int32,
                                                                           torch.int64, torch.uint8)):
        raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype}.")
    if x.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimension(s); got shape {tuple(x.shape)}.")
    if x.ndim and x.shape[0] > max_rows:
        raise ValueError(f"{name} has {x.shape[0]} rows, above the cap of {max_rows}.")
    if x.numel() > max_elements:
        raise ValueError(f"{name} has {x.numel()} elements, above the cap of {max_elements}.")
    if not x.is_floating_point():
        x = x.float()
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def check_labels(name: str, y: Any, n: int, num_classes: int | None = None):
    """Integer class labels (n,) as an int64 tensor, each in [0, num_classes)."""
    import torch

    if isinstance(y, np.ndarray):
        if y.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer class labels; got dtype {y.dtype}.")
        y = torch.as_tensor(y.astype(np.int64))
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of integer labels; got {type(y).__name__}.")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class labels; got dtype {y.dtype}.")
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},); got {tuple(y.shape)}.")
    y = y.long()
    if n and (int(y.min()) < 0 or (num_classes is not None and int(y.max()) >= num_classes)):
        raise ValueError(f"{name} must lie in [0, {num_classes}); got values in [{int(y.min())}, {int(y.max())}].")
    return y


def check_model(name: str, model: Any, cls: type | tuple[type, ...]) -> Any:
    """An instance of ``cls`` (a module type) with finite parameters."""
    import torch

    if not isinstance(model, cls):
        want = cls.__name__ if isinstance(cls, type) else " or ".join(c.__name__ for c in cls)
        raise TypeError(f"{name} must be a {want}; got {type(model).__name__}.")
    for p in model.parameters():
        if not torch.isfinite(p).all():
            raise ValueError(f"{name} has NaN or infinite weights.")
    return model
