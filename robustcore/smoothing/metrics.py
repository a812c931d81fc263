"""Dataset-level summaries of per-image certificates: certified accuracy and ACR.

A results table has one row per image with a ``radius`` (0 when abstaining) and a boolean
``correct`` (the certified class equals the true label; False when abstaining), as written by
:mod:`robustcore.smoothing.runner` and returned by ``ResultsStore.results``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "certified_accuracy",
    "average_certified_radius",
    "high_probability_certified_accuracy",
    "default_radii",
    "certified_accuracy_table",
]


def _columns(results) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(results, pd.DataFrame) or isinstance(results, Mapping):
        for col in ("radius", "correct"):
            if col not in results:
                raise ValueError(f"The results table needs a '{col}' column.")
        radius = np.asarray(results["radius"], dtype=np.float64)
        correct = np.asarray(pd.Series(results["correct"]).fillna(False), dtype=bool)
    else:
        raise ValueError("results must be a DataFrame or a mapping with 'radius' and 'correct' columns.")
    if radius.shape != correct.shape or radius.ndim != 1:
        raise ValueError("The 'radius' and 'correct' columns must be 1-D and of equal length.")
    if radius.size == 0:
        raise ValueError("The results table is empty.")
    if not np.all(np.isfinite(radius)) or np.any(radius < 0):
        raise ValueError("Radii must be finite and non-negative (0 for an abstention).")
    return radius, correct


def certified_accuracy(results, radii: Sequence[float] | float) -> np.ndarray:
    """Certified accuracy at each radius: ``mean(correct & radius >= r)`` (Cohen et al. 2019, analyze.py).

    Parameters
    ----------
    results : DataFrame or mapping
        Columns ``radius`` (m,) and ``correct`` (m,).
    radii : float or sequence of float
        Radii r (l2, pixel units).

    Returns
    -------
    ndarray, shape (len(radii),)
        Fraction of the m images certified correctly at radius at least r.
    """
    radius, correct = _columns(results)
    r = np.atleast_1d(np.asarray(radii, dtype=np.float64))
    # (m, 1) >= (1, R) -> (m, R), vectorised over radii
    return ((radius[:, None] >= r[None, :]) & correct[:, None]).mean(axis=0)


def average_certified_radius(results) -> float:
    """ACR: ``mean(radius * correct)`` over all images (abstentions and errors count as 0).

    As used by MACER (Zhai et al. 2020) and later work.

    Parameters
    ----------
    results : DataFrame or mapping with ``radius`` and ``correct``.

    Returns
    -------
    float
    """
    radius, correct = _columns(results)
    return float(np.mean(radius * correct))


def high_probability_certified_accuracy(results, radii, alpha: float, rho: float = 0.001) -> np.ndarray:
    """Cohen's high-probability lower bound on the true certified accuracy (analyze.py, HighProbAccuracy).

    ``acc - alpha - sqrt(alpha (1 - alpha) ln(1/rho) / m) - ln(1/rho) / (3 m)``: with probability
    at least 1 - rho over the certification noise, the fraction of the m images for which the
    *smoothed* classifier is correct and robust at r is at least this (Bernstein's inequality on
    the alpha-probability certificate failures).

    Parameters
    ----------
    results : DataFrame or mapping with ``radius`` and ``correct``.
    radii : float or sequence of float
    alpha : float
        The per-image failure probability used by CERTIFY.
    rho : float
        Failure probability of this bound.

    Returns
    -------
    ndarray, shape (len(radii),)
    """
    if not (0 < alpha < 1 and 0 < rho < 1):
        raise ValueError(f"alpha and rho must lie in (0, 1), got alpha={alpha!r}, rho={rho!r}.")
    acc = certified_accuracy(results, radii)
    m = len(np.asarray(results["radius"]))
    log = math.log(1 / rho)
    return acc - alpha - math.sqrt(alpha * (1 - alpha) * log / m) - log / (3 * m)


def default_radii(results, step: float = 0.25) -> np.ndarray:
    """Radii 0, step, 2 step, ... up to the first multiple of ``step`` at or above the largest radius."""
    if not (step > 0):
        raise ValueError(f"step must be positive, got {step!r}.")
    radius, _ = _columns(results)
    top = math.ceil(float(radius.max()) / step + 1e-12)
    return np.round(np.arange(max(top, 1) + 1) * step, 10)


def certified_accuracy_table(results, radii: Sequence[float] | None = None, step: float = 0.25) -> pd.DataFrame:
    """The certified-accuracy table: one row per radius, plus the ACR in ``table.attrs["acr"]``.

    Parameters
    ----------
    results : DataFrame or mapping with ``radius`` and ``correct``.
    radii : sequence of float, optional
        Defaults to :func:`default_radii` with ``step``.
    step : float
        Spacing of the default radii.

    Returns
    -------
    DataFrame with columns ``radius``, ``certified_accuracy``, ``certified`` (image count) and
    attrs ``acr`` and ``n_images``.
    """
    r = default_radii(results, step) if radii is None else np.asarray(radii, dtype=np.float64)
    acc = certified_accuracy(results, r)
    m = len(np.asarray(results["radius"]))
    table = pd.DataFrame({"radius": r, "certified_accuracy": acc, "certified": np.rint(acc * m).astype(int)})
    table.attrs["acr"] = average_certified_radius(results)
    table.attrs["n_images"] = m
    return table
