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


#: Largest number of values one call accepts (arrays of counts or probabilities).
MAX_VALUES = 10**7


def _real_array(name: str, v) -> np.ndarray:
    """``v`` as a float64 array; TypeError for non-numeric or complex input, ValueError when too large."""
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"{name} must be a real number or an array of them, got {type(v).__name__}.")
    try:
        arr = np.asarray(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of them.") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
    if arr.size > MAX_VALUES:
        raise ValueError(f"{name} holds {arr.size:,} values; at most {MAX_VALUES:,} are accepted.")
    return arr.astype(np.float64)


def _check_sigma(sigma) -> float:
    s = _real_array("sigma", sigma)
    if s.ndim != 0:
        raise ValueError(f"sigma must be one number, got an array of shape {s.shape}.")
    s = float(s)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"sigma must be a positive finite number, got {sigma!r}.")
    return s


def _check_probability(name: str, p) -> np.ndarray:
    arr = _real_array(name, p)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}.")
    return arr


def _check_counts(k, n, alpha) -> tuple[np.ndarray, np.ndarray, float]:
    k_arr = _real_array("k", k)
    n_arr = _real_array("n", n)
    try:
        np.broadcast_shapes(k_arr.shape, n_arr.shape)
    except ValueError:
        raise ValueError(f"k and n must have broadcastable shapes, got {k_arr.shape} and {n_arr.shape}.") from None
    if not (np.all(np.isfinite(k_arr)) and np.all(np.isfinite(n_arr))):
        raise ValueError("Counts k and n must be finite numbers.")
    if np.any(k_arr != np.round(k_arr)) or np.any(n_arr != np.round(n_arr)):
        raise ValueError("Counts k and n must be whole numbers.")
    if np.any(n_arr < 1):
        raise ValueError(f"The number of samples n must be at least 1, got {n!r}.")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError(f"The count k must lie in [0, n], got k={k!r}, n={n!r}.")
    a = _real_array("alpha", alpha)
    if a.ndim != 0:
        raise ValueError(f"alpha must be one number, got an array of shape {a.shape}.")
    if not (0.0 < float(a) < 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    return k_arr, n_arr, float(a)


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
    tail = _check_probability("tail", tail)
    return _as_output(_check_sigma(sigma) * norm.isf(tail))


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
        Negative where ``p_lower < 1/2`` (callers abstain there).

    Raises
    ------
    ValueError
        ``p_lower`` outside [0, 1] or NaN, ``sigma`` not a positive finite number.
    """
    p = _check_probability("p_lower", p_lower)
    return cohen_radius_from_tail(1.0 - p, _check_sigma(sigma))


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
    ta = _check_probability("tail_a", tail_a)
    pb = _check_probability("p_upper_b", p_upper_b)
    return _as_output(_check_sigma(sigma) / 2.0 * (norm.isf(ta) + norm.isf(pb)))


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
    _, n_arr, alpha = _check_counts(0, n, alpha)
    if n_arr.ndim != 0:
        raise ValueError(f"n must be one number, got an array of shape {n_arr.shape}.")
    return _check_sigma(sigma) * float(norm.isf(-math.expm1(math.log(alpha) / float(n_arr))))
