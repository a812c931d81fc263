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

__all__ = ["SAMPLINGS", "expected_smoothness", "gradient_noise", "check_constants"]

SAMPLINGS = ("nice", "independent", "replacement", "distributed")


def check_constants(n: int, L: float, L_max, mu: float | None = None) -> None:
    """Raise ``ValueError`` with one sentence if the problem constants are inconsistent."""
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n}.")
    lm = np.max(np.asarray(L_max, dtype=float))
    if not (np.isfinite(L) and L > 0):
        raise ValueError(f"L must be positive and finite, got {L}.")
    if not np.isfinite(lm) or lm < L * (1 - 1e-12):
        raise ValueError(f"L_max must be finite and at least L = {L}, got {lm}.")
    if mu is not None and not (np.isfinite(mu) and 0 < mu <= L * (1 + 1e-12)):
        raise ValueError(f"mu must lie in (0, L = {L}], got {mu}.")


def _tau(tau, n: int) -> np.ndarray:
    t = np.asarray(tau, dtype=np.float64)
    if np.any(~np.isfinite(t)) or np.any(t < 1) or np.any(t > n):
        raise ValueError(f"tau must lie in [1, n = {n}].")
    return t


def _shard_c(t: np.ndarray, n: int, nodes: int) -> np.ndarray:
    if nodes < 1 or n % nodes:
        raise ValueError(f"nodes must be a positive divisor of n = {n}, got {nodes}.")
    nj, tj = n / nodes, t / nodes
    if np.any(tj < 1):
        raise ValueError(f"The distributed sampling needs tau >= nodes = {nodes}.")
    return (nj - tj) / (tj * max(nj - 1.0, 1.0))


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
    check_constants(n, L, L_max)
    t = _tau(tau, n)
    if sampling == "nice":
        if n == 1:
            return np.full_like(t, L)
        return n * (t - 1) / (t * (n - 1)) * L + (n - t) / (t * (n - 1)) * float(L_max)
    if sampling == "independent":
        return L + (n - t) / (n * t) * float(L_max)
    if sampling == "replacement":
        return ((t - 1) * L + float(L_max)) / t
    if sampling == "distributed":
        c = _shard_c(t, n, nodes)
        return L + c / nodes * float(np.max(L_max))
    raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}.")


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
    h = np.asarray(h_star, dtype=np.float64)
    if np.any(~np.isfinite(h)) or np.any(h < 0):
        raise ValueError("h_star must be finite and non-negative.")
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
    raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}.")
