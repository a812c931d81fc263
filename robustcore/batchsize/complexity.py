"""Step size, iteration and total complexity of SGD as functions of tau; the optimal tau*.

Reference ``batchsize.md`` §1.4, from Gower et al. 2019, Theorem 3.1: with
``gamma(tau) = min{1/(2 L(tau)), eps mu/(4 sigma^2(tau))}`` and
``K(tau) = max{2 L(tau)/mu, 4 sigma^2(tau)/(eps mu^2)} log(2 ||x0 - x*||^2 / eps)`` iterations,
``E||x^K - x*||^2 <= eps``. The total complexity (gradients computed) is ``T(tau) = tau K(tau)``.

For every sampling here ``tau L(tau)`` is affine increasing and ``tau sigma^2(tau)`` affine
non-increasing in tau, so T is a maximum of two lines: convex and piecewise linear. Its integer
minimiser is therefore an integer neighbour of the crossing tau_c of the two lines or an end
point, which gives tau* in closed form (``optimal_batch_size``). Ties (the flat range of sampling
with replacement) are broken towards the larger tau, which needs fewer iterations.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import check_real
from .smoothness import _check_sampling, _tau, check_constants, expected_smoothness, gradient_noise

__all__ = [
    "step_size",
    "iteration_complexity",
    "total_complexity",
    "batch_size_crossing",
    "optimal_batch_size",
    "complexity_curves",
    "absolute_eps",
    "TauStarRule",
]


def absolute_eps(eps: float, r0_sq: float | None) -> float:
    """Turn a target into absolute units of ``||x - x*||^2``.

    ``eps`` is absolute when ``r0_sq`` is None, else the fraction of ``r0_sq = ||x0 - x*||^2``.
    """
    eps = check_real("eps", eps, 0.0, lo_open=True)
    if r0_sq is None:
        return eps
    r0_sq = check_real("r0_sq", r0_sq, 0.0, lo_open=True)
    out = eps * r0_sq
    if not (math.isfinite(out) and out > 0):
        raise ValueError("eps * r0_sq must be a positive finite number.")
    return out


def _branches(tau, n, L, L_max, mu, h_star, eps, sampling, nodes):
    check_constants(n, L, L_max, mu)
    Lt = expected_smoothness(tau, n, L, L_max, sampling, nodes)
    st = gradient_noise(tau, n, h_star, sampling, nodes)
    return Lt, st, 2.0 * Lt / mu, 4.0 * st / (eps * mu * mu)


def step_size(tau, n: int, L: float, L_max, mu: float, h_star, eps: float,
              sampling: str = "nice", nodes: int = 1, r0_sq: float | None = None) -> np.ndarray:
    """Theorem 3.1's step size ``gamma(tau) = min{1/(2 L(tau)), eps mu/(4 sigma^2(tau))}``.

    ``eps`` is the target for ``E||x - x*||^2`` (absolute, or relative to ``r0_sq`` when given).
    Returns an array shaped like ``tau`` (units: 1/smoothness).
    """
    eps = absolute_eps(eps, r0_sq)
    Lt, st, _, _ = _branches(tau, n, L, L_max, mu, h_star, eps, sampling, nodes)
    with np.errstate(divide="ignore"):
        noise_cap = np.where(st > 0, eps * mu / (4.0 * np.where(st > 0, st, 1.0)), np.inf)
    return np.minimum(1.0 / (2.0 * Lt), noise_cap)


def iteration_complexity(tau, n: int, L: float, L_max, mu: float, h_star, eps: float,
                         r0_sq: float, sampling: str = "nice", nodes: int = 1,
                         relative: bool = False) -> np.ndarray:
    """Iterations ``K(tau) = max{2L(tau)/mu, 4 sigma^2(tau)/(eps mu^2)} log(2 r0_sq/eps)``.

    ``r0_sq = ||x0 - x*||^2``; ``eps`` is absolute unless ``relative`` (then a fraction of
    ``r0_sq``). The log factor is clipped at 0 (a target above ``2 r0_sq`` needs no iteration).
    """
    r0_sq = check_real("r0_sq", r0_sq, 0.0, lo_open=True)
    eps_abs = absolute_eps(eps, r0_sq if relative else None)
    _, _, a, b = _branches(tau, n, L, L_max, mu, h_star, eps_abs, sampling, nodes)
    return np.maximum(a, b) * max(math.log(2.0 * r0_sq / eps_abs), 0.0)


def total_complexity(tau, n: int, L: float, L_max, mu: float, h_star, eps: float,
                     r0_sq: float, sampling: str = "nice", nodes: int = 1,
                     relative: bool = False) -> np.ndarray:
    """Total complexity ``T(tau) = tau K(tau)`` in gradients; ``T/n`` is data passes."""
    t = np.asarray(tau, dtype=np.float64)
    return t * iteration_complexity(tau, n, L, L_max, mu, h_star, eps, r0_sq, sampling, nodes,
                                    relative)


def _lines(n, L, L_max, mu, h_star, eps, sampling, nodes):
    n = check_constants(n, L, L_max, mu)
    nodes = _check_sampling(sampling, n, nodes)
    # tau * max{a(tau), b(tau)} = max{alpha0 + alpha1 tau, beta0 + beta1 tau}: read the two
    # affine functions off two evaluation points (exact, since both are affine).
    lo = float(nodes if sampling == "distributed" else 1)
    hi = float(n)
    if hi == lo:
        return lo, hi, 0.0, 0.0, 0.0, 0.0
    _, _, a, b = _branches(np.array([lo, hi]), n, L, L_max, mu, h_star, eps, sampling, nodes)
    ta, tb = np.array([lo, hi]) * a, np.array([lo, hi]) * b
    a1, b1 = (ta[1] - ta[0]) / (hi - lo), (tb[1] - tb[0]) / (hi - lo)
    if not np.all(np.isfinite([ta[0], tb[0], a1, b1])):
        raise ValueError("The complexity overflows float64 (h_star / (eps mu^2) too large); "
                         "choose a larger eps.")
    return lo, hi, ta[0] - a1 * lo, a1, tb[0] - b1 * lo, b1


def batch_size_crossing(n: int, L: float, L_max, mu: float, h_star, eps: float,
                        sampling: str = "nice", nodes: int = 1,
                        r0_sq: float | None = None) -> float:
    """Real crossing tau_c where ``2 L(tau)/mu = 4 sigma^2(tau)/(eps mu^2)`` (may lie outside [1, n]).

    tau-nice closed form: ``tau_c = n (c + L - L_max)/(c + n L - L_max)``, ``c = 2 h/(eps mu)``.
    Returns ``-inf`` when the lines are parallel and the smoothness branch dominates everywhere
    and ``+inf`` when the noise branch does.
    """
    eps = absolute_eps(eps, r0_sq)
    _, _, a0, a1, b0, b1 = _lines(n, L, L_max, mu, h_star, eps, sampling, nodes)
    if a1 - b1 == 0:
        return -math.inf if a0 >= b0 else math.inf
    return float((b0 - a0) / (a1 - b1))


def optimal_batch_size(n: int, L: float, L_max, mu: float, h_star, eps: float,
                       sampling: str = "nice", nodes: int = 1,
                       r0_sq: float | None = None) -> int:
    """Optimal mini-batch size tau* minimising the total complexity ``T(tau)`` over integers.

    Parameters
    ----------
    n, L, L_max, mu : problem constants (``L <= L_max``, ``0 < mu <= L``).
    h_star : gradient noise ``h(x*)`` (array of shard variances allowed for "distributed").
    eps : target ``E||x - x*||^2 <= eps``; absolute, or a fraction of ``r0_sq`` when given.
    sampling : "nice" (default), "independent", "replacement" or "distributed" (tau restricted
        to multiples of ``nodes``).

    Returns
    -------
    int tau* in [1, n]. Closed form: the better integer neighbour of the crossing tau_c of the
    two affine branches of ``tau max{2L(tau)/mu, 4 sigma^2(tau)/(eps mu^2)}`` (reference §1.4).
    Larger tau wins ties (fewer iterations for the same total work).
    """
    eps = absolute_eps(eps, r0_sq)
    lo, hi, a0, a1, b0, b1 = _lines(n, L, L_max, mu, h_star, eps, sampling, nodes)
    step = nodes if sampling == "distributed" else 1
    cands = {lo, hi}
    if a1 != b1:
        tc = (b0 - a0) / (a1 - b1)
        if np.isfinite(tc):
            tc = min(max(tc, lo), hi)
            for t in (math.floor(tc / step) * step, math.ceil(tc / step) * step):
                cands.add(float(min(max(t, lo), hi)))
    if b1 == 0 and a1 > 0 and b0 >= a0:  # flat range [lo, t_max] (with replacement)
        tmax = min(lo + (b0 - (a0 + a1 * lo)) / a1, hi)
        cands.add(float(min(max(math.floor(tmax / step) * step, lo), hi)))
    c = np.array(sorted(cands))
    T = np.maximum(a0 + a1 * c, b0 + b1 * c)
    best = T.min()
    ok = c[T <= best * (1 + 1e-12) + 1e-300]
    return int(round(ok.max()))


class TauStarRule:
    """Fast closed-form tau*(h, eps) for a fixed problem and sampling (used inside SGD loops).

    The smoothness line ``tau 2L(tau)/mu`` does not depend on (h, eps) and the noise line
    ``tau 4 sigma^2(tau)/(eps mu^2)`` is proportional to ``h/eps``, so both are read off once
    and each call costs a few float operations. ``rule(h, eps)`` equals
    ``optimal_batch_size(n, L, L_max, mu, h, eps, sampling, nodes)`` (scalar h).
    """

    def __init__(self, n: int, L: float, L_max, mu: float, sampling: str = "nice",
                 nodes: int = 1) -> None:
        n = check_constants(n, L, L_max, mu)
        nodes = _check_sampling(sampling, n, nodes)
        self.n, self.L, self.L_max, self.mu = n, L, L_max, mu
        self.sampling, self.nodes = sampling, nodes
        self.lo, self.hi, self.a0, self.a1, self.b0, self.b1 = _lines(
            n, L, L_max, mu, 1.0, 1.0, sampling, nodes)
        self.step = nodes if sampling == "distributed" else 1

    def __call__(self, h: float, eps: float) -> int:
        """tau* for gradient noise ``h >= 0`` and absolute target ``eps > 0`` (finite floats)."""
        if isinstance(h, bool) or isinstance(eps, bool):
            raise TypeError("h and eps must be numbers, not bools.")
        if not (isinstance(h, (int, float, np.floating, np.integer)) and math.isfinite(h) and h >= 0):
            raise ValueError(f"h must be a finite non-negative number, got {h!r}.")
        if not (isinstance(eps, (int, float, np.floating, np.integer)) and math.isfinite(eps)
                and eps > 0):
            raise ValueError(f"eps must be a finite positive number, got {eps!r}.")
        r = float(h) / float(eps)
        if not math.isfinite(r):  # noise branch dominates everywhere: full batch
            return int(self.hi)
        a0, a1, b0, b1, lo, hi, st = self.a0, self.a1, r * self.b0, r * self.b1, self.lo, self.hi, self.step
        cands = [lo, hi]
        if a1 != b1:
            tc = (b0 - a0) / (a1 - b1)
            if math.isfinite(tc):
                tc = min(max(tc, lo), hi)
                cands.append(min(max(math.floor(tc / st) * st, lo), hi))
                cands.append(min(max(math.ceil(tc / st) * st, lo), hi))
        if b1 == 0 and a1 > 0 and b0 >= a0:
            tmax = min(lo + (b0 - (a0 + a1 * lo)) / a1, hi)
            cands.append(min(max(math.floor(tmax / st) * st, lo), hi))
        best_t, best_T = hi, math.inf
        for t in sorted(set(cands), reverse=True):
            T = max(a0 + a1 * t, b0 + b1 * t)
            if T < best_T * (1 - 1e-12):
                best_t, best_T = t, T
        return int(best_t)


def complexity_curves(taus, n: int, L: float, L_max, mu: float, h_star, eps: float,
                      r0_sq: float, sampling: str = "nice", nodes: int = 1,
                      relative: bool = True) -> dict[str, np.ndarray]:
    """Curves for the page: tau, L(tau), sigma^2(tau), gamma(tau), K(tau), T(tau) (gradients),
    the two branches of T, and the data passes T/n. ``eps`` is relative to ``r0_sq`` by default."""
    eps_abs = absolute_eps(eps, r0_sq if relative else None)
    t = _tau(taus, n)
    Lt, st, a, b = _branches(t, n, L, L_max, mu, h_star, eps_abs, sampling, nodes)
    logf = max(math.log(2.0 * r0_sq / eps_abs), 0.0)
    K = np.maximum(a, b) * logf
    return {"tau": t, "L": Lt, "sigma2": st,
            "gamma": step_size(t, n, L, L_max, mu, h_star, eps_abs, sampling, nodes),
            "K": K, "T": t * K, "T_smooth": t * a * logf, "T_noise": t * b * logf,
            "passes": t * K / n}
