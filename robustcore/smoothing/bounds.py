"""Confidence bounds on a binomial proportion and the radii built from them.

Everything here is float64 numpy/scipy. The Clopper-Pearson bounds are exact (conservative)
one-sided bounds; radii are computed from the *tail* ``1 - p`` so that they stay accurate when
``p`` is within a few ulps of 1 (Cohen et al. 2019 compute ``norm.ppf(p)`` directly, which loses
digits there).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import beta, norm

__all__ = [
    "clopper_pearson_lower",
    "clopper_pearson_lower_tail",
    "clopper_pearson_upper",
    "hoeffding_lower",
    "cohen_radius",
    "cohen_radius_from_tail",
    "gap_radius",
    "radius_cap",
]


def _check_counts(k, n, alpha) -> tuple[np.ndarray, np.ndarray, float]:
    k_arr = np.asarray(k)
    n_arr = np.asarray(n)
    if not (np.all(np.isfinite(k_arr)) and np.all(np.isfinite(n_arr))):
        raise ValueError("Counts k and n must be finite numbers.")
    if np.any(k_arr != np.round(k_arr)) or np.any(n_arr != np.round(n_arr)):
        raise ValueError("Counts k and n must be whole numbers.")
    if np.any(n_arr < 1):
        raise ValueError(f"The number of samples n must be at least 1, got {n!r}.")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError(f"The count k must lie in [0, n], got k={k!r}, n={n!r}.")
    alpha = float(alpha)
    if not (0.0 < alpha < 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    return k_arr.astype(np.float64), n_arr.astype(np.float64), alpha


def _as_output(x: np.ndarray):
    return float(x) if np.ndim(x) == 0 else x


def clopper_pearson_lower(k, n, alpha: float):
    """One-sided (1 - alpha) Clopper-Pearson lower bound on a binomial proportion.

    ``p_lower = BetaInv(alpha; k, n - k + 1)`` and 0 when ``k = 0`` (Clopper & Pearson 1934;
    Cohen et al. 2019, CERTIFY step 3, which writes it as the lower end of a two-sided interval
    at level 1 - 2 alpha). ``P(p_lower > p) <= alpha`` for every true proportion ``p``.

    Parameters
    ----------
    k : int or array of int
        Successes, ``0 <= k <= n``.
    n : int or array of int
        Trials, ``n >= 1``.
    alpha : float
        Failure probability in (0, 1).

    Returns
    -------
    float or ndarray
        The lower bound, same shape as the broadcast of ``k`` and ``n``.
    """
    k_arr, n_arr, alpha = _check_counts(k, n, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(k_arr > 0, beta.ppf(alpha, np.maximum(k_arr, 1), n_arr - k_arr + 1), 0.0)
    return _as_output(out)


def clopper_pearson_lower_tail(k, n, alpha: float):
    """``1 - clopper_pearson_lower(k, n, alpha)`` computed without cancellation.

    Uses the symmetry ``1 - Beta(a, b) ~ Beta(b, a)``:
    ``1 - BetaInv(alpha; k, n-k+1) = BetaInv(1 - alpha; n-k+1, k) = beta.isf(alpha, n-k+1, k)``,
    which is accurate to full relative precision even when ``p_lower`` rounds to 1 in float64.

    Parameters
    ----------
    k, n, alpha : as in :func:`clopper_pearson_lower`.

    Returns
    -------
    float or ndarray
        ``1 - p_lower`` in (0, 1]; exactly 1 when ``k = 0``.
    """
    k_arr, n_arr, alpha = _check_counts(k, n, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(k_arr > 0, beta.isf(alpha, n_arr - k_arr + 1, np.maximum(k_arr, 1)), 1.0)
    return _as_output(out)


def clopper_pearson_upper(k, n, alpha: float):
    """One-sided (1 - alpha) Clopper-Pearson upper bound: ``BetaInv(1 - alpha; k + 1, n - k)``, 1 when k = n.

    Computed as ``1 - lower(n - k)`` through the accurate tail, so it is exact for small ``p``.

    Parameters
    ----------
    k, n, alpha : as in :func:`clopper_pearson_lower`.

    Returns
    -------
    float or ndarray
        Upper bound ``p_upper`` with ``P(p_upper < p) <= alpha``.
    """
    k_arr, n_arr, alpha = _check_counts(k, n, alpha)
    return clopper_pearson_lower_tail(n_arr - k_arr, n_arr, alpha)


def hoeffding_lower(k, n, alpha: float):
    """Hoeffding one-sided lower bound ``k/n - sqrt(ln(1/alpha) / (2n))``, clipped at 0.

    Looser than Clopper-Pearson near ``p = 1``; shown for comparison only.

    Parameters
    ----------
    k, n, alpha : as in :func:`clopper_pearson_lower`.

    Returns
    -------
    float or ndarray
    """
    k_arr, n_arr, alpha = _check_counts(k, n, alpha)
    return _as_output(np.maximum(k_arr / n_arr - np.sqrt(np.log(1.0 / alpha) / (2.0 * n_arr)), 0.0))


def cohen_radius_from_tail(tail, sigma: float):
    """Cohen radius ``sigma * Phi^-1(1 - tail)`` evaluated as ``sigma * norm.isf(tail)``.

    Parameters
    ----------
    tail : float or ndarray
        ``1 - p_lower`` (accurately computed).
    sigma : float
        Noise standard deviation (l2, pixel units).

    Returns
    -------
    float or ndarray
        The l2 radius; negative when ``p_lower < 0.5`` (callers abstain there).
    """
    return _as_output(float(sigma) * norm.isf(np.asarray(tail, dtype=np.float64)))


def cohen_radius(p_lower, sigma: float):
    """Cohen et al. (2019) Thm. 1 with ``p_B = 1 - p_A``: ``R = sigma * Phi^-1(p_lower)``.

    Prefer :func:`cohen_radius_from_tail` when the tail is available (accurate near 1).

    Parameters
    ----------
    p_lower : float or ndarray
        Lower bound on the top-class probability.
    sigma : float
        Noise standard deviation.

    Returns
    -------
    float or ndarray
    """
    return cohen_radius_from_tail(1.0 - np.asarray(p_lower, dtype=np.float64), sigma)


def gap_radius(tail_a, p_upper_b, sigma: float):
    """Cohen et al. (2019) Thm. 1 in full: ``R = sigma/2 * (Phi^-1(p_A_lower) - Phi^-1(p_B_upper))``.

    Parameters
    ----------
    tail_a : float
        ``1 - p_A_lower`` (accurate tail).
    p_upper_b : float
        Upper bound on every runner-up class probability.
    sigma : float
        Noise standard deviation.

    Returns
    -------
    float
        The radius (negative or zero when ``p_A_lower <= p_B_upper``; callers abstain there).
    """
    return float(sigma) / 2.0 * (norm.isf(tail_a) + norm.isf(p_upper_b))


def radius_cap(n: int, alpha: float, sigma: float = 1.0) -> float:
    """Largest radius CERTIFY can return: ``sigma * Phi^-1(alpha^(1/n))`` (all n votes for one class).

    The tail ``1 - alpha^(1/n) = -expm1(ln(alpha)/n)`` is evaluated without cancellation.

    Parameters
    ----------
    n : int
        Estimation samples.
    alpha : float
        Failure probability.
    sigma : float
        Noise standard deviation.

    Returns
    -------
    float
        3.8115 sigma at n = 1e5, alpha = 1e-3.
    """
    _check_counts(0, n, alpha)
    return float(sigma) * float(norm.isf(-math.expm1(math.log(alpha) / n)))
