"""The sigma landscape of one image: Cohen radius, p_lower and the DDRS surrogate as functions of sigma.

For a grid ``sigma_1 < ... < sigma_S`` and one image ``x`` we draw ``eps_1..eps_n ~ N(0, I)``
**once** and evaluate the base classifier at ``x + sigma_s eps_i`` for every ``s`` (common random
numbers): the curves are then smooth in sigma, and differences between neighbouring sigmas are
not swamped by independent Monte Carlo noise. Per sigma we report

- the vote counts and the top class ``c_s``;
- the one-sided Clopper-Pearson bounds ``p_lower`` / ``p_upper`` on ``P(f(x + sigma eps) = c_s)``
  (each at level ``1 - alpha``);
- the Cohen radius ``sigma Phi^-1(p_lower)`` (0 where ``p_lower < 1/2``) and its cap
  ``sigma Phi^-1(alpha^(1/n))``;
- the DDRS surrogate ``sigma/2 (Phi^-1(clip psi_(1)) - Phi^-1(clip psi_(2)))`` of the averaged
  softmax ``psi``.

This is an **exploratory** picture, not a certificate: every point belongs to a *different*
smoothed classifier ``g_sigma``, the top class is chosen from the same samples that bound it, and
all points share one noise draw. Taking the best point of the grid as a certificate would be the
"best of many tries" error (reference §7.14). To certify a chosen sigma, call
``Smooth(model, K, sigma).certify`` with fresh samples (``recertify`` below does exactly that).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

from .bounds import clopper_pearson_lower, clopper_pearson_lower_tail, clopper_pearson_upper, radius_cap
from .ddsigma import check_clip, working_copy

__all__ = ["SigmaLandscape", "sigma_landscape", "landscape_from_counts", "surrogate_from_psi"]


@dataclass
class SigmaLandscape:
    """Result of :func:`sigma_landscape` (arrays of length S = number of sigmas unless stated).

    Attributes
    ----------
    sigmas : ndarray (S,)
    counts : ndarray (S, K) of int64
        Votes of the n shared noise draws at each sigma.
    label : ndarray (S,) of int64
        Class whose probability is bounded (the top class, or the fixed ``label``).
    p_hat, p_lower, p_upper : ndarray (S,)
        Empirical frequency of ``label`` and its one-sided (1 - alpha) Clopper-Pearson bounds.
    radius : ndarray (S,)
        ``sigma Phi^-1(p_lower)`` where ``p_lower >= 1/2``, else 0 (would abstain).
    cap : ndarray (S,)
        Largest radius n samples can give: ``sigma Phi^-1(alpha^(1/n))``.
    surrogate : ndarray (S,)
        DDRS surrogate radius of the averaged softmax (NaN when not computed).
    n, alpha, seed : int, float, int
    time_s : float
        Wall-clock seconds.
    note : str
        Why these numbers are not a certificate.
    """

    sigmas: np.ndarray
    counts: np.ndarray
    label: np.ndarray
    p_hat: np.ndarray
    p_lower: np.ndarray
    p_upper: np.ndarray
    radius: np.ndarray
    cap: np.ndarray
    surrogate: np.ndarray
    n: int
    alpha: float
    seed: int
    time_s: float = 0.0
    config: dict = field(default_factory=dict)
    note: str = (
        "Exploratory: each sigma is a different smoothed classifier, all share one noise draw and the "
        "class is chosen from the same samples; re-certify a chosen sigma with fresh samples."
    )

    def best(self) -> tuple[float, float]:
        """(sigma, radius) of the grid point with the largest radius (exploratory, not a certificate)."""
        i = int(np.argmax(self.radius))
        return float(self.sigmas[i]), float(self.radius[i])


def surrogate_from_psi(psi: np.ndarray, sigmas: np.ndarray, clip: tuple[float, float] = (0.02, 0.98)) -> np.ndarray:
    """DDRS surrogate ``sigma/2 (Phi^-1(clip psi_(1)) - Phi^-1(clip psi_(2)))`` in float64.

    Parameters
    ----------
    psi : ndarray (S, K)
        Averaged class probabilities per sigma.
    sigmas : ndarray (S,)
    clip : (lo, hi)

    Returns
    -------
    ndarray (S,)
    """
    lo, hi = check_clip(clip)
    top2 = -np.sort(-np.asarray(psi, dtype=np.float64), axis=1)[:, :2]
    top2 = np.clip(top2, lo, hi)
    return np.asarray(sigmas, dtype=np.float64) / 2.0 * (norm.ppf(top2[:, 0]) - norm.ppf(top2[:, 1]))


def landscape_from_counts(sigmas, counts, alpha: float, label=None) -> dict:
    """Bounds and Cohen radii per sigma from vote counts (no sampling).

    Parameters
    ----------
    sigmas : array (S,)
        Noise levels (> 0).
    counts : array (S, K) of int
        Votes per class per sigma (the same total n in every row).
    alpha : float
        Failure probability of each one-sided bound.
    label : int, array (S,) or None
        Class to bound; None takes the top class of each row (ties -> lowest index).

    Returns
    -------
    dict with label, p_hat, p_lower, p_upper, radius, cap (each (S,)) and n.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != sigmas.shape[0]:
        raise ValueError(f"counts must have shape (len(sigmas), K), got {counts.shape} for {sigmas.shape[0]} sigmas.")
    n_per = counts.sum(axis=1)
    if np.any(n_per != n_per[0]) or n_per[0] < 1:
        raise ValueError("Every sigma must have the same positive number of samples.")
    n = int(n_per[0])
    if label is None:
        lab = np.argmax(counts, axis=1)
    else:
        lab = np.broadcast_to(np.asarray(label, dtype=np.int64), sigmas.shape).copy()
    k = counts[np.arange(len(sigmas)), lab]
    p_lower = np.asarray(clopper_pearson_lower(k, np.full_like(k, n), alpha), dtype=np.float64).reshape(-1)
    tail = np.asarray(clopper_pearson_lower_tail(k, np.full_like(k, n), alpha), dtype=np.float64).reshape(-1)
    p_upper = np.asarray(clopper_pearson_upper(k, np.full_like(k, n), alpha), dtype=np.float64).reshape(-1)
    radius = np.where(p_lower >= 0.5, sigmas * norm.isf(tail), 0.0)
    cap = np.array([radius_cap(n, alpha, s) for s in sigmas])
    return {"label": lab.astype(np.int64), "p_hat": k / n, "p_lower": p_lower, "p_upper": p_upper,
            "radius": np.maximum(radius, 0.0), "cap": cap, "n": n}


def sigma_landscape(
    model: nn.Module,
    x: torch.Tensor,
    sigmas,
    n: int = 2000,
    alpha: float = 0.001,
    label: int | None = None,
    seed: int = 0,
    batch_size: int = 1024,
    clip: tuple[float, float] = (0.02, 0.98),
    device: str = "cpu",
    probabilities: bool = False,
    progress=None,
) -> SigmaLandscape:
    """Radius, p_lower and the DDRS surrogate of one image on a sigma grid, with common random numbers.

    One draw ``eps`` of shape (n, *x.shape) is reused for every sigma; the rows
    ``x + sigma_s eps_i`` for several sigmas are stacked into forward batches of at most
    ``batch_size`` rows under ``torch.inference_mode``.

    Parameters
    ----------
    model : nn.Module
        Base classifier, (m, *x.shape) -> (m, K) logits (probabilities if ``probabilities``).
    x : Tensor
        One image without a batch dimension (e.g. (1, 8, 8)), pixel space.
    sigmas : array (S,)
        Positive noise levels.
    n : int
        Noise draws shared by all sigmas.
    alpha : float
        Failure probability of each per-sigma bound (they are not simultaneous; a union bound
        gives S * alpha for all of them at once).
    label : int or None
        Class to bound at every sigma; None takes the top class at each sigma.
    seed : int
        Seed of the shared noise.
    batch_size : int
        Rows per forward pass (about 1,000 keeps the digits CNN's activations in cache: twice
        as fast on the CPU as 8,000).
    clip : (lo, hi)
        Clipping of the surrogate.
    device : str
    probabilities : bool
        True if the model returns probabilities rather than logits.
    progress : callable(fraction, message) or None

    Returns
    -------
    SigmaLandscape
        Exploratory; see the module docstring for why it is not a certificate.
    """
    sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if sig.size < 1 or not np.all(np.isfinite(sig)) or np.any(sig <= 0):
        raise ValueError("sigmas must be a non-empty list of positive finite numbers.")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    check_clip(clip)
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    if x.ndim < 1 or not torch.isfinite(x).all():
        raise ValueError("x must be one finite image without a batch dimension.")
    n = int(n)
    dev = torch.device(device)
    t0 = time.perf_counter()
    model = working_copy(model, dev, channels_last=True)  # frozen eval copy; the caller's model is untouched
    x = x.to(dev, torch.float32)
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    eps = torch.randn((n,) + tuple(x.shape), generator=gen, device=dev)
    S = sig.size
    counts = None
    psi = None
    # Sigmas per forward pass; if one sigma's n rows exceed batch_size, split the rows instead.
    per = max(1, int(batch_size) // n)
    row_chunk = min(n, int(batch_size))
    sig_t = torch.as_tensor(sig, dtype=torch.float32, device=dev)
    with torch.inference_mode():
        for start in range(0, S, per):
            stop = min(S, start + per)
            s_blk = sig_t[start:stop].view((-1, 1) + (1,) * x.ndim)
            for r0 in range(0, n, row_chunk):
                r1 = min(n, r0 + row_chunk)
                rows = (x + s_blk * eps[r0:r1]).reshape((-1,) + tuple(x.shape))
                out = model(rows)
                if out.ndim != 2 or out.shape[1] < 2:
                    raise ValueError(f"The model must return (batch, classes) scores, got {tuple(out.shape)}.")
                K = out.shape[1]
                if counts is None:
                    counts = torch.zeros(S, K, dtype=torch.int64, device=dev)
                    psi = torch.zeros(S, K, dtype=torch.float64, device=dev)
                probs = out if probabilities else torch.softmax(out, dim=1)
                b = stop - start
                pred = out.argmax(dim=1).view(b, r1 - r0)
                offs = (torch.arange(b, device=dev) * K).view(b, 1)
                counts[start:stop] += torch.bincount((pred + offs).reshape(-1), minlength=b * K).view(b, K)
                psi[start:stop] += probs.view(b, r1 - r0, K).sum(dim=1, dtype=torch.float64)
            if progress is not None:
                progress(stop / S, f"sigma {stop}/{S}")
    counts_np = counts.cpu().numpy().astype(np.int64)
    psi_np = psi.cpu().numpy() / n
    if label is not None and not (0 <= int(label) < counts_np.shape[1]):
        raise ValueError(f"label must be a class index in [0, {counts_np.shape[1]}), got {label!r}.")
    stats = landscape_from_counts(sig, counts_np, float(alpha), label)
    return SigmaLandscape(
        sigmas=sig, counts=counts_np, label=stats["label"], p_hat=stats["p_hat"], p_lower=stats["p_lower"],
        p_upper=stats["p_upper"], radius=stats["radius"], cap=stats["cap"],
        surrogate=surrogate_from_psi(psi_np, sig, clip), n=n, alpha=float(alpha), seed=int(seed),
        time_s=time.perf_counter() - t0,
        config={"clip": [float(c) for c in clip], "label": label, "batch_size": int(batch_size)},
    )
