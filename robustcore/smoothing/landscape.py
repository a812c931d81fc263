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
``Smooth(model, K, sigma).certify(..., seed=seed, purpose="certify-fixed")`` with fresh samples;
:func:`certify_best` does exactly that for the landscape's best grid point.

Noise streams (issue 12): the landscape draws from ``stream_seed(seed, "landscape")``, never from
``seed`` itself nor from any certificate's stream, so a sigma chosen by looking at the landscape
and then certified with another purpose's stream (or another seed) gets a certificate whose noise
the choice has not seen. ``SigmaLandscape.purpose`` and ``.stream_seed`` record the stream.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

from .bounds import clopper_pearson_lower, clopper_pearson_lower_tail, clopper_pearson_upper, radius_cap
from .ddsigma import check_clip, check_device, working_copy
from .streams import stream_seed as _stream_seed

__all__ = ["SigmaLandscape", "sigma_landscape", "landscape_from_counts", "surrogate_from_psi", "certify_best",
           "MAX_LANDSCAPE_ROWS"]

#: Largest ``len(sigmas) * n`` (noisy forward rows) that :func:`sigma_landscape` accepts.
MAX_LANDSCAPE_ROWS = 10**8
#: Largest ``n * x.numel()`` (the shared noise draw held in memory, float32): 1 GiB.
MAX_NOISE_ELEMENTS = 2**28


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
        ``seed`` is the user seed; the noise came from ``stream_seed(seed, purpose)``.
    time_s : float
        Wall-clock seconds.
    note : str
        Why these numbers are not a certificate.
    purpose : str
        Noise stream purpose ("landscape").
    stream_seed : int or None
        Seed of the generator that drew the noise (``stream_seed(seed, purpose)``).
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
    purpose: str = "landscape"
    stream_seed: int | None = None

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


def _sigma_grid(sigmas) -> np.ndarray:
    try:
        sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError("sigmas must be a list of positive numbers.") from None
    if sig.size < 1 or not np.all(np.isfinite(sig)) or np.any(sig <= 0):
        raise ValueError("sigmas must be a non-empty list of positive finite numbers.")
    if sig.size > 10_000:
        raise ValueError(f"sigmas holds {sig.size} values; at most 10,000 are accepted.")
    return sig


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
    sigmas = _sigma_grid(sigmas)
    try:
        counts = np.asarray(counts)
    except (TypeError, ValueError):
        raise TypeError("counts must be an array of whole numbers.") from None
    if counts.dtype.kind not in "biuf":
        raise TypeError(f"counts must hold whole numbers, got dtype {counts.dtype}.")
    if counts.ndim != 2 or counts.shape[0] != sigmas.shape[0] or counts.shape[1] < 1:
        raise ValueError(f"counts must have shape (len(sigmas), K), got {counts.shape} for {sigmas.shape[0]} sigmas.")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("counts must be non-negative whole numbers.")
    counts = counts.astype(np.int64)
    n_per = counts.sum(axis=1)
    if np.any(n_per != n_per[0]) or n_per[0] < 1:
        raise ValueError("Every sigma must have the same positive number of samples.")
    n = int(n_per[0])
    if label is None:
        lab = np.argmax(counts, axis=1)
    else:
        try:
            lab = np.broadcast_to(np.asarray(label), sigmas.shape).copy()
        except ValueError:
            raise ValueError(f"label must be a class index or one per sigma, got {label!r}.") from None
        if lab.dtype.kind not in "iu" or np.any(lab < 0) or np.any(lab >= counts.shape[1]):
            raise ValueError(f"label must hold class indices in [0, {counts.shape[1]}), got {label!r}.")
    k = counts[np.arange(len(sigmas)), lab]
    p_lower = np.asarray(clopper_pearson_lower(k, np.full_like(k, n), alpha), dtype=np.float64).reshape(-1)
    tail = np.asarray(clopper_pearson_lower_tail(k, np.full_like(k, n), alpha), dtype=np.float64).reshape(-1)
    p_upper = np.asarray(clopper_pearson_upper(k, np.full_like(k, n), alpha), dtype=np.float64).reshape(-1)
    radius = np.where(p_lower >= 0.5, sigmas * norm.isf(tail), 0.0)
    cap = sigmas * radius_cap(n, alpha, 1.0)  # the cap is linear in sigma
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
    from .certify import _check_alpha, _check_positive_int, check_image

    sig = _sigma_grid(sigmas)
    n = _check_positive_int("n", n)
    alpha = _check_alpha(alpha)
    batch_size = _check_positive_int("batch_size", batch_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}.")
    check_clip(clip)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}.")
    if label is not None and (isinstance(label, bool) or not isinstance(label, (int, np.integer))):
        raise TypeError(f"label must be a class index or None, got {label!r}.")
    x = check_image(x, "x")
    if sig.size * n > MAX_LANDSCAPE_ROWS:
        raise ValueError(f"len(sigmas) * n = {sig.size * n:,} noisy rows exceed the cap of {MAX_LANDSCAPE_ROWS:,}.")
    if n * x.numel() > MAX_NOISE_ELEMENTS:
        raise ValueError(f"n = {n:,} noise draws of a {x.numel()}-value input exceed the cap of "
                         f"{MAX_NOISE_ELEMENTS:,} values (1 GiB).")
    stream = _stream_seed(int(seed), "landscape")  # never the certificate's stream
    dev = check_device(device)
    t0 = time.perf_counter()
    model = working_copy(model, dev, channels_last=True)  # frozen eval copy; the caller's model is untouched
    x = x.to(dev, torch.float32)
    gen = torch.Generator(device=dev).manual_seed(stream)
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
        purpose="landscape", stream_seed=stream,
    )


def certify_best(landscape: SigmaLandscape, model: nn.Module, x: torch.Tensor, num_classes: int, n0: int = 100,
                 n: int = 10_000, alpha: float = 0.001, seed: int | None = None, batch_size: int = 1000,
                 device: str = "cpu", input_range: tuple[float, float] | None = (0.0, 1.0)):
    """Certify the landscape's best grid sigma with fresh samples (the sound way to use the landscape).

    The certificate draws from ``stream_seed(seed, "certify-best")`` (``seed`` defaults to the
    landscape's own seed), a stream the landscape never saw, so the choice of sigma and the
    Clopper-Pearson bound are independent and the certificate of ``g_sigma`` holds with probability
    >= 1 - alpha even though sigma was chosen by looking at the landscape.

    Parameters
    ----------
    landscape : SigmaLandscape
        From :func:`sigma_landscape` on the same ``x``.
    model, x, num_classes, n0, n, alpha, batch_size, device, input_range :
        As in ``Smooth`` / ``Smooth.certify``.
    seed : int or None
        User seed of the certificate's stream (default: the landscape's seed).

    Returns
    -------
    robustcore.smoothing.certify.Certificate
        Records ``purpose="certify-best"`` and ``base_seed``.
    """
    from .certify import Smooth

    if not isinstance(landscape, SigmaLandscape):
        raise TypeError(f"landscape must be a SigmaLandscape, got {type(landscape).__name__}.")
    sigma, _ = landscape.best()
    smooth = Smooth(model, num_classes, sigma, device=device, input_range=input_range)
    return smooth.certify(x, n0=n0, n=n, alpha=alpha, batch_size=batch_size,
                          seed=landscape.seed if seed is None else seed, purpose="certify-best")
