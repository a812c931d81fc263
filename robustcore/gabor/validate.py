"""Argument checks shared by the public Gabor functions, and the documented size caps.

Every public function of :mod:`robustcore.gabor` checks the type, finiteness and range of its
arguments and the size of the work they imply *before* it allocates anything, and raises
``TypeError`` (wrong type) or ``ValueError`` (wrong value, or over a cap) with one sentence that
names the argument.

Size caps (why each is generous for the paper and still cheap):

* ``MAX_KERNEL_SIZE`` = 255: the paper's kernels are 3 to 11 pixels a side;
* ``MAX_ORIENTATIONS`` = 64 and ``MAX_FAMILIES`` = 64 (the paper uses R = 8 and a few families);
* ``MAX_CHANNELS`` = 4096 for the channels of a layer;
* ``MAX_INPUT_SIDE`` = 4096 for an input side n of the spectral computations;
* ``MAX_FFT_ELEMENTS`` = 2**24: kernels x input pixels of one FFT (about 270 MB of complex128);
* ``MAX_PARAM_ELEMENTS`` = 10**6 values in one parameter array.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["MAX_KERNEL_SIZE", "MAX_ORIENTATIONS", "MAX_FAMILIES", "MAX_CHANNELS", "MAX_INPUT_SIDE",
           "MAX_FFT_ELEMENTS", "MAX_PARAM_ELEMENTS", "check_int", "check_real", "check_array", "check_choice"]

MAX_KERNEL_SIZE = 255
MAX_ORIENTATIONS = 64
MAX_FAMILIES = 64
MAX_CHANNELS = 4096
MAX_INPUT_SIDE = 4096
MAX_FFT_ELEMENTS = 2**24
MAX_PARAM_ELEMENTS = 10**6


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int in ``[lo, hi]``; integral floats (5.0) are accepted, bools and strings are not."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, numbers.Real)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}.")
    if not isinstance(value, numbers.Integral):
        f = float(value)
        if not math.isfinite(f) or f != int(f):
            raise ValueError(f"{name} must be a whole number, got {value!r}.")
        value = int(f)
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must be between {lo} and {hi}, got {v}.")
    return v


def check_real(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float in the interval ``lo .. hi`` (open ends when asked)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if hasattr(value, "numel") and getattr(value, "numel")() == 1 and not value.is_complex():
            value = float(value)
        else:
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}.")
    low_bad = lo is not None and (v <= lo if lo_open else v < lo)
    high_bad = hi is not None and (v >= hi if hi_open else v > hi)
    if low_bad or high_bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise ValueError(f"{name} must lie in {lb}{lo}, {hi}{rb}, got {v}.")
    return v


def check_array(name: str, value: Any, max_size: int = MAX_PARAM_ELEMENTS, ndim: tuple[int, ...] | None = None,
                finite: bool = True) -> np.ndarray:
    """``value`` as a float64 array: real numbers only, at most ``max_size`` values, finite, given ndim."""
    if hasattr(value, "detach"):  # a torch tensor
        if value.is_complex():
            raise TypeError(f"{name} must be real, got a complex tensor.")
        if value.numel() > max_size:
            raise ValueError(f"{name} has {value.numel()} values; at most {max_size} are allowed.")
        value = value.detach().cpu().double().numpy()
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be numbers, got {type(value).__name__}.")
    size = getattr(value, "size", None)
    if isinstance(size, int) and size > max_size:
        raise ValueError(f"{name} has {size} values; at most {max_size} are allowed.")
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be an array of real numbers.") from exc
    if a.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex values.")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {a.dtype}.")
    if a.size > max_size:
        raise ValueError(f"{name} has {a.size} values; at most {max_size} are allowed.")
    if ndim is not None and a.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got shape {a.shape}.")
    a = a.astype(np.float64, copy=False)
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return a


def check_choice(name: str, value: Any, choices: tuple) -> Any:
    """``value`` if it is one of ``choices`` (compared as given), else one sentence naming the options."""
    try:
        ok = isinstance(value, (str, int, float, type(None))) and value in choices
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")
    return value
