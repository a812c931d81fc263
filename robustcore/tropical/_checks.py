"""Argument checks shared by every public function of ``robustcore.tropical``.

Each check raises ``ValueError`` (or ``TypeError`` for a wrong kind of object) with one sentence naming
the argument, *before* any heavy work. The size caps below are documented on the functions that use them;
they bound memory and time on a laptop (a few seconds at most per call).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

class ArgumentTypeError(TypeError, ValueError):
    """A wrong kind of argument. Both a TypeError and a ValueError, so callers (and the pages' ``guard``)
    that catch ValueError for bad input show its one sentence too."""


#: Most entries any single array argument may hold (about 160 MB of float64).
MAX_ARRAY_ENTRIES = 20_000_000
#: Most hidden units of a ShallowReluNet (p), input dimension (d) and classes (k).
MAX_UNITS = 100_000
MAX_INPUT_DIM = 1_000_000
MAX_CLASSES = 10_000
#: Most iterations any iterative solver accepts (pruning, ADMM, training).
MAX_ITERS = 100_000


def as_array(name: str, value: Any, ndim: int | tuple[int, ...] | None = None, *, finite: bool = True,
             max_entries: int = MAX_ARRAY_ENTRIES) -> np.ndarray:
    """``value`` as a float64 array, checked for kind, dimension, size and finiteness.

    Raises TypeError for non-numeric objects (strings, complex numbers, None, dicts) and ValueError
    for a wrong number of dimensions, more than ``max_entries`` entries or NaN/inf entries.
    """
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise ArgumentTypeError(f"{name} must be a numeric array; got {type(value).__name__}.")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    arr0 = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr0.dtype == object or arr0.dtype.kind in "USVMmc":
        if arr0.dtype.kind == "c":
            raise ArgumentTypeError(f"{name} must be real; got complex entries.")
        try:
            arr0 = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ArgumentTypeError(f"{name} must be a numeric array; got entries of type {type(value).__name__}.") from exc
    if arr0.size > max_entries:
        raise ValueError(f"{name} has {arr0.size:,} entries; the limit is {max_entries:,}.")
    try:
        arr = np.asarray(arr0, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArgumentTypeError(f"{name} must be a numeric array.") from exc
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            want = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{name} must be a {want} array; got shape {arr.shape}.")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries.")
    return arr


def as_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int in [lo, hi]; bools, floats with a fraction, strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise ArgumentTypeError(f"{name} must be an integer; got {type(value).__name__}.")
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or float(value) != int(value):
            raise ValueError(f"{name} must be a whole number; got {value}.")
    v = int(value)
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be at least {lo}; got {v}.")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be at most {hi:,}; got {v:,}.")
    return v


def as_float(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
             lo_open: bool = False) -> float:
    """``value`` as a finite float in [lo, hi] (or (lo, hi] with ``lo_open``)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ArgumentTypeError(f"{name} must be a real number; got {type(value).__name__}.")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number; got {v}.")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}; got {v}.")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}; got {v}.")
    return v


def as_box(box: Any) -> tuple[float, float, float, float]:
    """A view box (xmin, xmax, ymin, ymax): four finite increasing numbers."""
    if box is None or isinstance(box, (str, bytes, dict)):
        raise ArgumentTypeError(f"box must be four numbers (xmin, xmax, ymin, ymax); got {type(box).__name__}.")
    try:
        b = tuple(float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError("box must be four numbers (xmin, xmax, ymin, ymax).") from exc
    if len(b) != 4 or not all(np.isfinite(b)):
        raise ValueError("box must be four finite numbers (xmin, xmax, ymin, ymax).")
    if not (b[0] < b[1] and b[2] < b[3]):
        raise ValueError(f"box needs xmin < xmax and ymin < ymax; got {b}.")
    if max(abs(v) for v in b) > 1e12:
        raise ValueError("box coordinates must be at most 1e12 in size.")
    return b  # type: ignore[return-value]


def check_net(net: Any, what: str = "This function") -> None:
    """TypeError unless ``net`` is a ShallowReluNet."""
    from .net import ShallowReluNet

    if not isinstance(net, ShallowReluNet):
        raise ArgumentTypeError(f"{what} needs a ShallowReluNet; got {type(net).__name__}.")


def check_pair(net: Any, i: Any, j: Any) -> tuple[int, int]:
    """Two different class indices of ``net``."""
    i = as_int("i", i, 0, net.k - 1)
    j = as_int("j", j, 0, net.k - 1)
    if i == j:
        raise ValueError(f"A class pair needs two different classes; got ({i}, {j}).")
    return i, j


def check_data(net: Any, X: Any, y: Any, *, allow_none: bool = True) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Inputs X (n, d) finite and labels y (n,) integers in 0..k-1 (both None allowed)."""
    if X is None or y is None:
        if allow_none:
            return None, None
        raise ValueError("X and y are both needed.")
    X = as_array("X", X, 2)
    if X.shape[1] != net.d:
        raise ValueError(f"X must have {net.d} columns (the net's input dimension); got shape {X.shape}.")
    y_raw = np.asarray(y)
    if y_raw.dtype.kind not in "iub" and not (y_raw.dtype.kind == "f" and np.all(np.isfinite(y_raw))
                                             and np.all(y_raw == np.round(y_raw))):
        raise ArgumentTypeError("y must hold integer class labels.")
    y = y_raw.astype(np.int64)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must hold one label per row of X; got {y.shape} for {X.shape[0]} rows.")
    return X, y


def short(value: Any) -> str:
    """A one-line, short description of a value for an error message."""
    r = repr(value)
    return r if len(r) <= 40 and "\n" not in r else f"a {type(value).__name__}"
