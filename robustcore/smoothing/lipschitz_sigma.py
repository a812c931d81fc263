"""Sound certificates for an input-dependent sigma whose logarithm is r-Lipschitz (IDRS).

Súkeník, Kuvshinov & Günnemann, "Intriguing Properties of Input-Dependent Randomized Smoothing"
(ICML 2022). If ``|ln sigma(x) - ln sigma(x')| <= r ||x - x'||``, then on the ball ``B(x0, d)``
the noise level of the data-dependent classifier ``G(x') = g_{sigma(x')}(x')`` lies in
``[sigma0 e^{-r d}, sigma0 e^{r d}]``. For a point ``x1`` at distance ``d`` with noise ``sigma1``,
the worst case (Neyman-Pearson) of the runner-up mass ``P_B`` given ``P_{x0}(B) <= p_B`` is:

- ``sigma1 < sigma0``: the worst set is a ball centred at ``x0 + delta sigma0^2/(sigma0^2 - sigma1^2)``::

      lambda0 = sigma0^2 d^2 / (sigma0^2 - sigma1^2)^2,   lambda1 = sigma1^2 d^2 / (sigma0^2 - sigma1^2)^2
      xi(d, sigma1) = F_{chi2'(N, lambda1)}( sigma0^2/sigma1^2 * F^{-1}_{chi2'(N, lambda0)}(p_B) )

- ``sigma1 > sigma0``: the worst *A*-set is that ball (with mass ``p_A = 1 - p_B``), so
  ``xi = 1 - F_{chi2'(N, lambda1)}(sigma0^2/sigma1^2 F^{-1}_{chi2'(N, lambda0)}(p_A))``, evaluated
  with survival functions for accuracy;
- ``sigma1 = sigma0``: Cohen's ``xi = Phi(Phi^-1(p_B) + d / sigma0)``.

``N`` is the input dimension (``scipy.stats.ncx2``). ``G`` is certified at ``x0`` up to ``R`` if
``xi(d, sigma1) < 1/2`` for every ``d <= R`` and every admissible ``sigma1``. With ``r -> 0`` the band
shrinks to ``{sigma0}`` and ``R`` tends to Cohen's ``sigma0 Phi^-1(p_A)``.

Provenance (reference §3.2): the formulas follow a third-party implementation
(buozyte/biased-idrs) and were re-derived and checked by Monte Carlo here; they were not checked
against the paper's theorem text. Numerical choices, each on the sound side:

- the supremum over ``sigma1`` in the band is taken over a grid that contains both endpoints and
  ``sigma0`` (``xi`` is quasi-convex in ``sigma1`` in our checks, so the endpoints carry the max;
  the grid guards against mild violations);
- ``d`` is scanned on a grid and the first failure is refined by bisection; pass/fail is assumed
  monotone in ``d`` between grid points (checked numerically in the tests);
- a NaN from scipy counts as a failure; when ``|ln(sigma1/sigma0)| < 1e-5`` (non-centrality beyond
  what scipy evaluates) Cohen's value plus a margin of 1e-3 is used.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import ncx2, norm

__all__ = [
    "worst_case_pb",
    "lipschitz_sigma_radius",
    "KnnSigma",
    "LipschitzSigmaCertificate",
    "certify_lipschitz_sigma",
]

_EQUAL_TOL = 1e-5  # |ln(sigma1/sigma0)| below this uses Cohen's formula (plus _EQUAL_MARGIN): scipy's ncx2
# fails (NaN) for the non-centralities ~1e11 that arise below it
_EQUAL_MARGIN = 1e-3  # covers |dxi/dln sigma1| up to 100 over that sliver (about 8 at N = 64)


def worst_case_pb(d: float, sigma0: float, sigma1, p_b: float, dim: int) -> np.ndarray:
    """Largest ``P(f(x1 + sigma1 eps) = B)`` over all classifiers with ``P(f(x0 + sigma0 eps) = B) <= p_b``.

    Parameters
    ----------
    d : float
        ``||x1 - x0||_2 >= 0`` (pixel units).
    sigma0 : float
        Noise level at ``x0``.
    sigma1 : float or array
        Noise level(s) at ``x1``.
    p_b : float
        Upper bound on the runner-up mass at ``x0`` (``1 - p_A_lower`` for two-class Cohen).
    dim : int
        Input dimension N.

    Returns
    -------
    ndarray
        Worst-case ``P_B`` at ``x1`` for each ``sigma1`` (NaN replaced by 1, the safe value).
    """
    if not (sigma0 > 0) or d < 0 or not (0.0 < p_b < 1.0) or dim < 1:
        raise ValueError(f"Need sigma0 > 0, d >= 0, 0 < p_b < 1 and dim >= 1, got {sigma0}, {d}, {p_b}, {dim}.")
    s1 = np.atleast_1d(np.asarray(sigma1, dtype=np.float64))
    if np.any(s1 <= 0):
        raise ValueError("sigma1 must be positive.")
    out = np.empty_like(s1)
    log_ratio = np.log(s1 / sigma0)
    eq = np.abs(log_ratio) < _EQUAL_TOL
    cohen = norm.cdf(norm.ppf(p_b) + d / sigma0)
    out[eq] = min(1.0, cohen + _EQUAL_MARGIN)  # beyond scipy's reach: Cohen plus a safety margin
    out[log_ratio == 0] = cohen  # exactly equal sigmas: Cohen's formula is exact
    with np.errstate(all="ignore"):
        lo = (~eq) & (s1 < sigma0)
        if np.any(lo):
            s = s1[lo]
            den = (sigma0**2 - s**2) ** 2
            lam0, lam1 = sigma0**2 * d**2 / den, s**2 * d**2 / den
            t = sigma0**2 / s**2 * ncx2.ppf(p_b, dim, lam0)
            out[lo] = ncx2.cdf(t, dim, lam1)
        hi = (~eq) & (s1 > sigma0)
        if np.any(hi):
            s = s1[hi]
            den = (sigma0**2 - s**2) ** 2
            lam0, lam1 = sigma0**2 * d**2 / den, s**2 * d**2 / den
            t = sigma0**2 / s**2 * ncx2.isf(p_b, dim, lam0)  # F^-1(p_A) through the tail
            out[hi] = ncx2.sf(t, dim, lam1)
    out[~np.isfinite(out)] = 1.0
    return np.clip(out, 0.0, 1.0)


def _band(d: float, sigma0: float, r: float, kind: str) -> tuple[float, float]:
    if kind == "log":
        return sigma0 * math.exp(-r * d), sigma0 * math.exp(r * d)
    lo = sigma0 - r * d
    return (lo if lo > 0 else 1e-12 * sigma0), sigma0 + r * d


def _sup_xi(d: float, sigma0: float, p_b: float, dim: int, r: float, kind: str, n_sigma: int) -> float:
    lo, hi = _band(d, sigma0, r, kind)
    if hi <= lo * (1 + 1e-15):
        grid = np.array([sigma0])
    else:
        grid = np.unique(np.concatenate([np.geomspace(lo, hi, n_sigma), [sigma0]]))
    return float(np.max(worst_case_pb(d, sigma0, grid, p_b, dim)))


def lipschitz_sigma_radius(
    sigma0: float,
    p_a_lower: float,
    dim: int,
    r: float,
    kind: str = "log",
    n_grid: int = 48,
    n_sigma: int = 9,
    bisect_steps: int = 30,
) -> float:
    """Certified l2 radius of ``G(x') = g_{sigma(x')}(x')`` when ``ln sigma`` is r-Lipschitz.

    The largest ``R`` (found on a grid, refined by bisection) such that
    ``sup_{sigma1 in band(d)} xi(d, sigma1) < 1/2`` for the scanned ``d <= R``, with
    ``p_B = 1 - p_a_lower`` and ``band(d) = [sigma0 e^{-r d}, sigma0 e^{r d}]`` (``kind="log"``,
    Súkeník et al.) or ``[sigma0 - r d, sigma0 + r d]`` (``kind="additive"``, an r-Lipschitz sigma).
    Never above Cohen's ``sigma0 Phi^-1(p_a_lower)``, equal to it at ``r = 0``.

    Parameters
    ----------
    sigma0 : float
        sigma(x0).
    p_a_lower : float
        Lower confidence bound on the top-class probability at x0 under ``N(x0, sigma0^2 I)``.
    dim : int
        Input dimension.
    r : float
        Lipschitz constant of ln sigma (``kind="log"``) or of sigma (``kind="additive"``), >= 0.
    kind : {"log", "additive"}
    n_grid, n_sigma, bisect_steps : int
        Distance grid size, sigma1 grid size per distance, bisection steps.

    Returns
    -------
    float
        The radius; 0.0 when ``p_a_lower <= 1/2``.
    """
    if kind not in ("log", "additive"):
        raise ValueError(f"kind must be 'log' or 'additive', got {kind!r}.")
    if not (math.isfinite(r) and r >= 0):
        raise ValueError(f"The Lipschitz constant r must be a non-negative number, got {r!r}.")
    if not (sigma0 > 0 and math.isfinite(sigma0)):
        raise ValueError(f"sigma0 must be positive, got {sigma0!r}.")
    if not (0.0 <= p_a_lower <= 1.0):
        raise ValueError(f"p_a_lower must be a probability, got {p_a_lower!r}.")
    if p_a_lower <= 0.5:
        return 0.0
    p_b = max(1.0 - p_a_lower, 1e-300)
    cohen = sigma0 * float(norm.isf(p_b))
    if r == 0:
        return cohen

    def passes(d: float) -> bool:
        return _sup_xi(d, sigma0, p_b, dim, r, kind, n_sigma) < 0.5

    grid = np.linspace(0.0, cohen, n_grid + 1)[1:]
    last_ok = 0.0
    for d in grid:
        if passes(float(d)):
            last_ok = float(d)
            continue
        lo, hi = last_ok, float(d)
        for _ in range(bisect_steps):
            mid = 0.5 * (lo + hi)
            if passes(mid):
                lo = mid
            else:
                hi = mid
        return lo
    return last_ok


class KnnSigma:
    """An input-dependent sigma with r-Lipschitz logarithm (Súkeník et al.'s variance function).

    ``sigma(x) = sigma_base * exp(r * (mean distance of x to its k nearest training points - m))``.
    The distance to the j-th nearest neighbour is 1-Lipschitz, so is their mean, hence
    ``|ln sigma(x) - ln sigma(x')| <= r ||x - x'||`` exactly: the bound of
    :func:`lipschitz_sigma_radius` applies to this sigma.

    Parameters
    ----------
    X_train : array (M, ...)
        Reference points (flattened to (M, D)).
    sigma_base : float
        sigma at kNN distance ``m``.
    r : float
        Semi-elasticity (Lipschitz constant of ln sigma), >= 0.
    k : int
        Neighbours.
    m : float or None
        Centre of the kNN distance; None uses the median over ``X_train`` (leave-one-out).
    """

    def __init__(self, X_train, sigma_base: float, r: float, k: int = 10, m: float | None = None):
        X = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)
        if X.shape[0] <= k or k < 1:
            raise ValueError(f"Need more than k={k} reference points, got {X.shape[0]}.")
        if not (sigma_base > 0) or not (r >= 0):
            raise ValueError("sigma_base must be positive and r non-negative.")
        self.X, self.sigma_base, self.r, self.k = X, float(sigma_base), float(r), int(k)
        if m is None:
            m = float(np.median(self.knn_distance(X, exclude_self=True)))
        self.m = float(m)

    def knn_distance(self, Z, exclude_self: bool = False) -> np.ndarray:
        """Mean Euclidean distance of each row of Z (n, ...) to its k nearest reference points."""
        Z = np.asarray(Z, dtype=np.float64).reshape(len(Z), -1)
        sq = (Z**2).sum(1)[:, None] - 2 * Z @ self.X.T + (self.X**2).sum(1)[None, :]
        dist = np.sqrt(np.maximum(sq, 0.0))
        kk = self.k + 1 if exclude_self else self.k
        part = np.partition(dist, kk - 1, axis=1)[:, :kk]
        part.sort(axis=1)
        return part[:, 1:].mean(1) if exclude_self else part.mean(1)

    def __call__(self, Z) -> np.ndarray:
        """sigma at each row of Z, shape (n,)."""
        return self.sigma_base * np.exp(self.r * (self.knn_distance(Z) - self.m))


@dataclass
class LipschitzSigmaCertificate:
    """A certificate of the input-dependent classifier ``G(x') = g_{sigma(x')}(x')`` at x.

    ``radius`` is sound for G (failure probability ``alpha``) given that ln sigma is r-Lipschitz;
    ``cohen_radius`` is the fixed-sigma radius of ``g_{sigma(x)}`` from the same samples.
    """

    label: int
    radius: float
    cohen_radius: float
    sigma: float
    p_lower: float
    r: float
    dim: int
    alpha: float
    n: int
    seed: int | None


def certify_lipschitz_sigma(model, x, sigma_fn, r: float, num_classes: int, n0: int = 100, n: int = 1000,
                            alpha: float = 0.001, seed: int | None = 0, batch_size: int = 1000,
                            device: str = "cpu", kind: str = "log") -> LipschitzSigmaCertificate:
    """Certify ``G`` at one image: sigma0 = sigma_fn(x), Cohen CERTIFY at sigma0, then the IDRS radius.

    Parameters
    ----------
    model : nn.Module
        Base classifier (logits).
    x : Tensor
        One image without batch dimension, values in [0, 1].
    sigma_fn : callable
        Maps a batch (1, ...) to sigma (1,); must have r-Lipschitz log (e.g. :class:`KnnSigma`).
    r : float
        Its Lipschitz constant.
    num_classes, n0, n, alpha, seed, batch_size, device :
        As in ``Smooth.certify``.

    Returns
    -------
    LipschitzSigmaCertificate
    """
    from .certify import ABSTAIN, Smooth  # local: the engine module is optional at import time

    xa = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    sigma0 = float(np.asarray(sigma_fn(xa[None]))[0])
    smooth = Smooth(model, num_classes, sigma0, device=device)
    cert = smooth.certify(x, n0=n0, n=n, alpha=alpha, batch_size=batch_size, seed=seed)
    dim = int(xa.size)
    if cert.label == ABSTAIN:
        radius = 0.0
    else:
        radius = lipschitz_sigma_radius(sigma0, cert.p_lower, dim, r, kind=kind)
    return LipschitzSigmaCertificate(label=int(cert.label), radius=float(radius), cohen_radius=float(cert.radius),
                                     sigma=sigma0, p_lower=float(cert.p_lower), r=float(r), dim=dim,
                                     alpha=float(alpha), n=int(n), seed=seed)
