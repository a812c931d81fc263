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

- the supremum over ``sigma1`` in the band is taken over a *fixed* grid of log-ratios
  ``ln(sigma1/sigma0) = ±t`` (``t = 1e-5 4^k`` below 0.01, then ``0.01 * 2^(k/8)``), the band widened outward to the next grid point (so both
  widened endpoints are evaluated; ``xi`` is quasi-convex in ``sigma1`` in our checks, so the
  endpoints carry the max, and the interior points guard against mild violations). Because the
  grid never moves, a wider band (larger r or d) uses a superset of points: the radius is
  non-increasing in r exactly, and pass/fail cannot depend on whether a grid point happens to round
  to sigma0 (issue 12);
- ``d`` is scanned on a grid (independent of r) and the first failure is refined by bisection;
  pass/fail is monotone in ``d`` up to scipy's rounding (tested on a fine grid);
- a NaN from scipy counts as a failure; the sliver ``|ln(sigma1/sigma0)| < 1e-5`` (non-centrality
  beyond what scipy evaluates) is bounded by Cohen's value plus ``100 * min(w, 1e-5)`` for a band of
  log-half-width w (at most 1e-3), which tends to Cohen as ``r -> 0``.
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
    d, sigma0, p_b = _real("d", d), _real("sigma0", sigma0), _real("p_b", p_b)
    dim = _integer("dim", dim, 1, 10**9)
    if not (sigma0 > 0) or d < 0 or not (0.0 < p_b < 1.0):
        raise ValueError(f"Need sigma0 > 0, d >= 0, 0 < p_b < 1 and dim >= 1, got {sigma0}, {d}, {p_b}, {dim}.")
    try:
        s1 = np.atleast_1d(np.asarray(sigma1, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"sigma1 must be a positive number or an array of them, got {type(sigma1).__name__}.") from None
    if s1.ndim != 1 or s1.size > 10**6:
        raise ValueError("sigma1 must be a number or a 1-D array of at most 1,000,000 values.")
    if not np.all(np.isfinite(s1)) or np.any(s1 <= 0):
        raise ValueError("sigma1 must be positive and finite.")
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


_T_MAX = 60.0  # largest |ln(sigma1/sigma0)| on the grid (e^-60 sigma0 ~ 0: beyond any useful band)


def _log_grid(per_doubling: int) -> np.ndarray:
    """The fixed grid T of log-ratios ``t = ln(sigma1/sigma0) > 0``.

    ``1e-5 * 4^k`` below 0.01 (there xi is within ~t of Cohen's value and scipy is slow), then
    ``0.01 * 2^(k / per_doubling)`` up to ``_T_MAX``: a band is widened by at most a factor
    ``2^(1/per_doubling)`` (9 % at the default 8). Fixed (independent of d, r, sigma0), so the sigma1
    sets of nested bands are nested.
    """
    small = _EQUAL_TOL * 4.0 ** np.arange(5)  # 1e-5 ... 2.56e-3
    k = np.arange(0, int(math.ceil(per_doubling * math.log2(_T_MAX / 0.01))) + 1)
    return np.concatenate([small, 0.01 * 2.0 ** (k / per_doubling)])


def _band_logs(d: float, sigma0: float, r: float, kind: str) -> tuple[float, float]:
    """Half-widths ``(w_lo, w_hi)`` in log-ratio of the admissible band of sigma1 at distance d."""
    if kind == "log":
        return r * d, r * d
    rel = r * d / sigma0
    w_lo = -math.log(max(1.0 - rel, math.exp(-_T_MAX))) if rel < 1 else _T_MAX
    return w_lo, math.log1p(rel)


def _sup_xi(d: float, sigma0: float, p_b: float, dim: int, r: float, kind: str, per_doubling: int = 8) -> float:
    """Upper bound on ``sup_{sigma1 in band(d)} xi(d, sigma1)``, monotone in the band by construction.

    The band ``[sigma0 e^{-w_lo}, sigma0 e^{w_hi}]`` is widened outward to the fixed log-ratio grid
    (a wider band is conservative), xi is evaluated at every grid point inside it (both endpoints
    included), and the sliver ``|ln(sigma1/sigma0)| < _EQUAL_TOL`` that scipy cannot evaluate is
    bounded by Cohen's value plus ``100 * min(w, _EQUAL_TOL)`` (``|dxi/d ln sigma1| <= 100``). Two
    bands with ``w' >= w`` therefore use a superset of points and a larger sliver term: the bound
    never decreases when r or the band grows, whichever way a grid point rounds.
    """
    cohen = float(norm.cdf(norm.ppf(p_b) + d / sigma0))
    w_lo, w_hi = _band_logs(d, sigma0, r, kind)
    sliver = min(1.0, cohen + 100.0 * min(max(w_lo, w_hi), _EQUAL_TOL))
    T = _log_grid(per_doubling)
    if max(w_lo, w_hi) > T[-1]:
        return 1.0  # a band wider than the grid (sigma1 / sigma0 beyond e^60): fail, conservatively
    hi_idx = int(np.searchsorted(T, w_hi, side="left")) if w_hi > _EQUAL_TOL else -1
    lo_idx = int(np.searchsorted(T, w_lo, side="left")) if w_lo > _EQUAL_TOL else -1
    hi_t, lo_t = T[: min(hi_idx, len(T) - 1) + 1], T[: min(lo_idx, len(T) - 1) + 1]
    ts = np.concatenate([hi_t, -lo_t])
    best = sliver
    # the cheap outer points first, in one vectorised call (they carry the max when xi is quasi-convex);
    # stop once the bound reaches 1/2, since callers only compare it with 1/2
    for part in (ts[np.abs(ts) >= 0.01], ts[np.abs(ts) < 0.01]):
        if part.size:
            best = max(best, float(np.max(worst_case_pb(d, sigma0, sigma0 * np.exp(part), p_b, dim))))
            if best >= 0.5:
                break
    return best


def lipschitz_sigma_radius(
    sigma0: float,
    p_a_lower: float,
    dim: int,
    r: float,
    kind: str = "log",
    n_grid: int = 24,
    n_sigma: int = 8,
    bisect_steps: int = 20,
) -> float:
    """Certified l2 radius of ``G(x') = g_{sigma(x')}(x')`` when ``ln sigma`` is r-Lipschitz.

    The largest ``R`` (found on a grid, refined by bisection) such that
    ``sup_{sigma1 in band(d)} xi(d, sigma1) < 1/2`` for the scanned ``d <= R``, with
    ``p_B = 1 - p_a_lower`` and ``band(d) = [sigma0 e^{-r d}, sigma0 e^{r d}]`` (``kind="log"``,
    Súkeník et al.) or ``[sigma0 - r d, sigma0 + r d]`` (``kind="additive"``, an r-Lipschitz sigma).
    Never above Cohen's ``sigma0 Phi^-1(p_a_lower)``, equal to it at ``r = 0``.

    Monotone by construction (issue 12): the distance grid does not depend on r, and the bound on
    the sup over the band is evaluated on a fixed log-ratio grid (see :func:`_sup_xi`), so a larger
    r (or a larger band) never passes where a smaller one failed; the result is non-increasing in r
    exactly, whatever a grid midpoint rounds to. It is also non-decreasing in ``p_a_lower``.

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
    n_grid : int
        Distance grid size (1..10,000).
    n_sigma : int
        Log-ratio grid points per doubling of ``|ln(sigma1/sigma0)|`` above 0.01 (1..64): the band is
        widened outward by at most a factor ``2^(1/n_sigma)``.
    bisect_steps : int
        Bisection steps after the first failing grid distance (0..200).

    Returns
    -------
    float
        The radius; 0.0 when ``p_a_lower <= 1/2``.
    """
    if kind not in ("log", "additive"):
        raise ValueError(f"kind must be 'log' or 'additive', got {kind!r}.")
    sigma0 = _real("sigma0", sigma0)
    p_a_lower = _real("p_a_lower", p_a_lower)
    r = _real("r", r)
    dim = _integer("dim", dim, 1, 10**9)
    n_grid = _integer("n_grid", n_grid, 1, 10_000)
    n_sigma = _integer("n_sigma", n_sigma, 1, 64)
    bisect_steps = _integer("bisect_steps", bisect_steps, 0, 200)
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


def _real(name: str, v) -> float:
    if isinstance(v, (bool, complex, np.complexfloating)) or not isinstance(v, (int, float, np.number)):
        raise TypeError(f"{name} must be a real number, got {v!r}.")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {v!r}.")
    return f


def _integer(name: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {v!r}.")
    if not (lo <= v <= hi):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi:,}], got {v!r}.")
    return int(v)


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

    ``status`` is ``"certified"`` (``label`` >= 0 and ``radius`` > 0) or ``"abstain"`` (then
    ``label`` is -1 and ``radius`` 0, even when the fixed-sigma test alone certified ``cohen_label``);
    ``verdict`` says in one plain sentence what was shown or why nothing was. ``purpose`` and
    ``stream_seed`` record the noise stream (``stream_seed(seed, "lipschitz")``).
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
    status: str = "abstain"
    verdict: str = ""
    cohen_label: int = -1
    purpose: str = "lipschitz"
    stream_seed: int | None = None
    kind: str = "log"


def certify_lipschitz_sigma(model, x, sigma_fn, r: float, num_classes: int, n0: int = 100, n: int = 1000,
                            alpha: float = 0.001, seed: int | None = 0, batch_size: int = 1000,
                            device: str = "cpu", kind: str = "log",
                            input_range: tuple[float, float] | None = (0.0, 1.0)) -> LipschitzSigmaCertificate:
    """Certify ``G`` at one image: sigma0 = sigma_fn(x), Cohen CERTIFY at sigma0, then the IDRS radius.

    The samples come from the stream ``stream_seed(seed, "lipschitz")`` (recorded), never from a
    stream a selection step used.

    Parameters
    ----------
    model : nn.Module
        Base classifier (logits).
    x : Tensor
        One image without batch dimension, values in ``input_range``.
    sigma_fn : callable
        Maps a batch (1, ...) to sigma (1,); must have r-Lipschitz log (e.g. :class:`KnnSigma`).
    r : float
        Its Lipschitz constant.
    num_classes, n0, n, alpha, seed, batch_size, device, input_range :
        As in ``Smooth`` / ``Smooth.certify`` (``seed=None`` draws one from torch's generator).
    kind : {"log", "additive"}

    Returns
    -------
    LipschitzSigmaCertificate
        With ``status`` ("certified" / "abstain") and a plain-language ``verdict``.
    """
    from .certify import ABSTAIN, Smooth, check_image  # local: the engine module is optional at import time

    if kind not in ("log", "additive"):
        raise ValueError(f"kind must be 'log' or 'additive', got {kind!r}.")
    r = _real("r", r)
    if r < 0:
        raise ValueError(f"The Lipschitz constant r must be a non-negative number, got {r!r}.")
    if not callable(sigma_fn):
        raise TypeError("sigma_fn must be callable (a batch (1, ...) -> sigma (1,)).")
    xt = check_image(x, "x")
    xa = xt.cpu().numpy().astype(np.float64)
    sig = np.asarray(sigma_fn(xa[None]), dtype=np.float64).reshape(-1)
    if sig.size < 1 or not np.isfinite(sig[0]) or sig[0] <= 0:
        raise ValueError(f"sigma_fn returned {sig[:1]!r} for x; it must return a positive finite sigma.")
    sigma0 = float(sig[0])
    smooth = Smooth(model, num_classes, sigma0, device=device, input_range=input_range)
    cert = smooth.certify(xt, n0=n0, n=n, alpha=alpha, batch_size=batch_size, seed=seed, purpose="lipschitz")
    dim = int(xa.size)
    what = f"ln sigma is {r:g}-Lipschitz" if kind == "log" else f"sigma is {r:g}-Lipschitz"
    if cert.label == ABSTAIN:
        radius, label, status = 0.0, ABSTAIN, "abstain"
        verdict = (f"Abstains: the Cohen test at sigma(x) = {sigma0:.3g} certified no class "
                   f"(p_lower = {cert.p_lower:.3g} < 1/2).")
    else:
        radius = lipschitz_sigma_radius(sigma0, cert.p_lower, dim, r, kind=kind)
        if radius > 0:
            label, status = int(cert.label), "certified"
            verdict = (f"Certified: the input-dependent classifier answers {label} on the l2 ball of radius "
                       f"{radius:.3g} around x, with probability >= {1 - alpha:g}, given that {what}.")
        else:
            label, status = ABSTAIN, "abstain"
            verdict = (f"Abstains: at the fixed sigma(x) = {sigma0:.3g} class {int(cert.label)} is certified "
                       f"(radius {cert.radius:.3g}), but no distance survives the worst case over the sigmas that "
                       f"{what} allows in {dim} dimensions.")
    return LipschitzSigmaCertificate(label=int(label), radius=float(radius), cohen_radius=float(cert.radius),
                                     sigma=sigma0, p_lower=float(cert.p_lower), r=float(r), dim=dim,
                                     alpha=float(alpha), n=int(n), seed=cert.base_seed, status=status,
                                     verdict=verdict, cohen_label=int(cert.label), purpose="lipschitz",
                                     stream_seed=cert.seed, kind=kind)
