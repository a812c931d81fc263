"""Expected smoothness L(tau) and gradient noise sigma^2(tau) per mini-batch sampling.

Formulas of reference ``batchsize.md`` §1.3 (Gower et al. 2019, Assumption 2.1 and
``sigma^2 = E||grad f_v(x*)||^2``). Every function is vectorised over ``tau``.

Samplings
---------
``"nice"``        tau-nice: a uniform subset of size tau, without replacement.
                  ``L(tau) = n(tau-1)/(tau(n-1)) L + (n-tau)/(tau(n-1)) L_max``,
                  ``sigma^2(tau) = (n-tau)/(tau(n-1)) h``  (exact finite-population variance).
``"independent"`` each i kept independently with ``p_i = tau/n`` (random size, mean tau).
                  ``L(tau) = L + (n-tau)/(n tau) L_max``, ``sigma^2(tau) = (n-tau)/(n tau) h``.
``"replacement"`` tau i.i.d. uniform indices.
                  ``L(tau) = ((tau-1) L + L_max)/tau``, ``sigma^2(tau) = h/tau``.
``"distributed"`` *our* stratified sampling (reference §1.5, not the paper's, which was not read):
                  ``nodes`` equal shards, each draws a (tau/nodes)-nice batch from its shard.
                  With ``c = (n_j - tau_j)/(tau_j (n_j - 1))``:
                  ``sigma^2 = (c/m^2) sum_j s_j^2`` (exact; ``s_j^2`` the within-shard variance
                  at x*) and ``L <= L + (c/m) max_j L_max^(j)`` (a bound, not the exact constant).
"""
from __future__ import annotations

import numpy as np

from ._checks import MAX_N_FORMULA, check_choice, check_int, check_real, real_array

__all__ = ["SAMPLINGS", "expected_smoothness", "gradient_noise", "check_constants"]

SAMPLINGS = ("nice", "independent", "replacement", "distributed")


def check_constants(n: int, L: float, L_max, mu: float | None = None) -> int:
    """Check the problem constants; return n as an int. ``ValueError``/``TypeError``, one sentence.

    ``n`` is a positive integer (at most 2**53), ``L`` positive and finite,
    ``L <= L_max <= n L`` (true for any sum of convex smooth f_i, since
    ``grad^2 f >= grad^2 f_i / n``) and, when given, ``0 < mu <= L``. ``L_max`` may be an
    array of per-shard maxima (its maximum is checked).
    """
    n = check_int("n", n, 1, MAX_N_FORMULA)
    L = check_real("L", L, 0.0, lo_open=True)
    lm_arr = real_array("L_max", L_max, max_size=100_000)
    if lm_arr.size == 0:
        raise ValueError("L_max must not be empty.")
    if np.any(lm_arr <= 0):
        raise ValueError("L_max must be positive.")
    lm = float(np.max(lm_arr))
    if lm < L * (1 - 1e-12):
        raise ValueError(f"L_max must be at least L = {L:g}, got {lm:g}.")
    if lm > n * L * (1 + 1e-9):
        raise ValueError(f"L_max = {lm:g} exceeds n L = {n * L:g}, impossible for convex f_i "
                         "(grad^2 f >= grad^2 f_i / n).")
    if mu is not None:
        check_real("mu", mu, 0.0, L * (1 + 1e-12), lo_open=True)
    return n


def _tau(tau, n: int) -> np.ndarray:
    t = real_array("tau", tau)
    if np.any(t < 1) or np.any(t > n):
        raise ValueError(f"tau must lie in [1, n = {n}].")
    return t


def _check_sampling(sampling, n: int, nodes) -> int:
    check_choice("sampling", sampling, SAMPLINGS)
    nodes = check_int("nodes", nodes, 1, n)
    if sampling == "distributed" and n % nodes:
        raise ValueError(f"nodes must be a positive divisor of n = {n}, got {nodes}.")
    return nodes


def _shard_c(t: np.ndarray, n: int, nodes: int) -> np.ndarray:
    if nodes < 1 or n % nodes:
        raise ValueError(f"nodes must be a positive divisor of n = {n}, got {nodes}.")
    nj, tj = n / nodes, t / nodes
    if np.any(tj < 1):
        raise ValueError(f"The distributed sampling needs tau >= nodes = {nodes}.")
    return (nj - tj) / (tj * max(nj - 1.0, 1.0))


def _smooth_raw(t, n: int, L: float, lm: float, sampling: str, nodes: int):
    """L(tau) without argument checks (callers have checked n, L, lm, tau, nodes)."""
    if sampling == "nice":
        return L if n == 1 else n * (t - 1) / (t * (n - 1)) * L + (n - t) / (t * (n - 1)) * lm
    if sampling == "independent":
        return L + (n - t) / (n * t) * lm
    if sampling == "replacement":
        return ((t - 1) * L + lm) / t
    nj, tj = n / nodes, t / nodes
    return L + (nj - tj) / (tj * max(nj - 1.0, 1.0)) / nodes * lm


def _noise_raw(t, n: int, h: float, sampling: str, nodes: int):
    """sigma^2(tau) for a scalar h without argument checks (for "distributed", h is the mean
    within-shard variance, so ``sum_j s_j^2 = nodes h``)."""
    if sampling == "nice":
        return 0.0 * t if n == 1 else (n - t) / (t * (n - 1)) * h
    if sampling == "independent":
        return (n - t) / (n * t) * h
    if sampling == "replacement":
        return h / t
    nj, tj = n / nodes, t / nodes
    return (nj - tj) / (tj * max(nj - 1.0, 1.0)) / nodes * h


def expected_smoothness(tau, n: int, L: float, L_max, sampling: str = "nice",
                        nodes: int = 1) -> np.ndarray:
    """Expected smoothness constant L(tau) (Gower et al. 2019, Assumption 2.1).

    Parameters
    ----------
    tau : scalar or array of batch sizes in [1, n] (for "independent", the mean batch size).
    n, L, L_max : number of examples, smoothness of f, max_i L_i. For "distributed", ``L_max``
        may be an array of per-shard maxima, shape (nodes,).
    sampling : one of ``SAMPLINGS``.
    nodes : number of shards (only for "distributed").

    Returns
    -------
    array shaped like ``tau``. For "distributed" this is an upper bound (reference §1.5).
    """
    n = check_constants(n, L, L_max)
    nodes = _check_sampling(sampling, n, nodes)
    t = _tau(tau, n)
    L = float(L)
    lm = float(np.max(np.asarray(L_max, dtype=np.float64)))
    if sampling == "nice":
        if n == 1:
            return np.full_like(t, L)
        return n * (t - 1) / (t * (n - 1)) * L + (n - t) / (t * (n - 1)) * lm
    if sampling == "independent":
        return L + (n - t) / (n * t) * lm
    if sampling == "replacement":
        return ((t - 1) * L + lm) / t
    if sampling == "distributed":
        c = _shard_c(t, n, nodes)
        return L + c / nodes * lm
    raise AssertionError(sampling)  # unreachable: checked above


def gradient_noise(tau, n: int, h_star, sampling: str = "nice", nodes: int = 1) -> np.ndarray:
    """Gradient noise at the optimum, ``sigma^2(tau) = E||grad f_v(x*)||^2``.

    Parameters
    ----------
    tau : scalar or array of batch sizes in [1, n].
    n : number of examples.
    h_star : ``h(x*) = (1/n) sum_i ||grad f_i(x*)||^2`` (>= 0). For "distributed", either the
        array of within-shard variances ``s_j^2`` (nodes,) or a scalar used for every shard.
    sampling, nodes : as in :func:`expected_smoothness`.

    Returns
    -------
    array shaped like ``tau``; exact for every sampling here (reference §1.3, §1.5).
    """
    n = check_int("n", n, 1, MAX_N_FORMULA)
    nodes = _check_sampling(sampling, n, nodes)
    h = real_array("h_star", h_star, max_size=100_000)
    if np.any(h < 0):
        raise ValueError("h_star must be non-negative.")
    if h.ndim > 1 or (h.ndim == 1 and (sampling != "distributed" or h.size != nodes)):
        raise ValueError("h_star must be a scalar (or, for the distributed sampling, one value "
                         "per node).")
    t = _tau(tau, n)
    if sampling == "nice":
        if n == 1:
            return np.zeros_like(t)
        return (n - t) / (t * (n - 1)) * float(h)
    if sampling == "independent":
        return (n - t) / (n * t) * float(h)
    if sampling == "replacement":
        return float(h) / t
    if sampling == "distributed":
        c = _shard_c(t, n, nodes)
        s2 = np.broadcast_to(h, (nodes,))
        return c / nodes**2 * float(np.sum(s2))
    raise AssertionError(sampling)  # unreachable: checked above
