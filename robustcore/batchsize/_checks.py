"""Argument checks shared by the batch-size line: one sentence naming the argument, before any work."""
from __future__ import annotations

import math
import numbers

import numpy as np

#: Most entries a vectorised ``tau`` argument may hold (the curves of the page use a few hundred).
MAX_TAUS = 1_000_000
#: Largest n the closed-form functions accept: beyond 2**53 integers are not exact in float64.
MAX_N_FORMULA = 2**53


def check_int(name: str, v, lo: int | None = None, hi: int | None = None) -> int:
    """``v`` as an int in ``[lo, hi]``; integral floats (3.0) are accepted, 7.5 and bools are not."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got a bool.")
    if isinstance(v, numbers.Integral):
        iv = int(v)
    elif isinstance(v, numbers.Real):
        fv = float(v)
        if not math.isfinite(fv) or fv != math.floor(fv):
            raise ValueError(f"{name} must be an integer, got {v!r}.")
        iv = int(fv)
    else:
        raise TypeError(f"{name} must be an integer, got {type(v).__name__}.")
    if (lo is not None and iv < lo) or (hi is not None and iv > hi):
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {iv}.")
    return iv


def check_real(name: str, v, lo: float | None = None, hi: float | None = None, *,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """``v`` as a finite float in the interval (bounds closed unless ``*_open``)."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got a bool.")
    if not isinstance(v, numbers.Real):
        if isinstance(v, np.ndarray) and v.ndim == 0 and np.issubdtype(v.dtype, np.floating):
            v = float(v)
        else:
            raise TypeError(f"{name} must be a real number, got {type(v).__name__}.")
    fv = float(v)
    if not math.isfinite(fv):
        raise ValueError(f"{name} must be finite, got {v!r}.")
    bad = ((lo is not None and (fv <= lo if lo_open else fv < lo))
           or (hi is not None and (fv >= hi if hi_open else fv > hi)))
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise ValueError(f"{name} must lie in {lb}{lo}, {hi}{rb}, got {fv:g}.")
    return fv


def check_choice(name: str, v, choices) -> str:
    """``v`` must be one of ``choices`` (compared as given)."""
    if not isinstance(v, str) or v not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {v!r}.")
    return v


def real_array(name: str, v, max_size: int = MAX_TAUS) -> np.ndarray:
    """A finite float64 array of at most ``max_size`` entries (scalars allowed)."""
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(v).__name__}.")
    try:
        a = np.asarray(v)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a number or an array of numbers.") from exc
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}.")
    if a.size > max_size:
        raise ValueError(f"{name} has {a.size:,} entries, more than the limit of {max_size:,}.")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite (no NaN or inf).")
    return a
