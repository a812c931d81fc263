"""Randomized smoothing: Cohen, Rosenfeld & Kolter (ICML 2019) PREDICT and CERTIFY.

The smoothed classifier of a base classifier ``f`` is

    g(x) = argmax_c P_{eps ~ N(0, sigma^2 I)} [ f(x + eps) = c ].

:class:`Smooth` estimates it by Monte Carlo. Noise is added in [0, 1] pixel space, so a model that
normalises its input must do so in its first layer, and radii are l2 distances in pixel units.

Sampling is vectorised and batched on any torch device, and driven by a seeded
:class:`torch.Generator`, so every certificate can be reproduced exactly from the seed it records
(on the same device, torch version and batch size).

Floating point: the guarantee is about the smoothed classifier of the base classifier *as it is
evaluated* here (float32 arithmetic, batched). Voráček & Hein (ICLR 2023) show that rounding of
the noise can in principle be exploited; we do not implement their sound sampler, so a
certificate is sound up to that floating-point caveat, as are Cohen's.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
from scipy.stats import binomtest
from torch import nn

from .bounds import (
    clopper_pearson_lower,
    clopper_pearson_lower_tail,
    clopper_pearson_upper,
    cohen_radius_from_tail,
    gap_radius,
    radius_cap,
)

__all__ = ["ABSTAIN", "Certificate", "Smooth", "clopper_pearson_lower", "radius_cap", "fresh_seed"]

#: Returned as the label when the smoothed classifier declines to answer.
ABSTAIN: int = -1

_METHODS = ("cohen", "pb")


def fresh_seed() -> int:
    """A new random 63-bit seed from the operating system's entropy (recorded in certificates)."""
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class Certificate:
    """Everything needed to audit one CERTIFY call.

    Attributes
    ----------
    label : int
        Certified class, or ``ABSTAIN`` (-1).
    radius : float
        Certified l2 radius in [0, 1]-pixel units (0.0 when abstaining).
    p_lower : float
        One-sided lower confidence bound on P(f(x + eps) = candidate).
    counts : ndarray of int64, shape (num_classes,)
        Class votes of the ``n`` estimation samples.
    sigma : float
        Noise standard deviation.
    counts0 : ndarray of int64, shape (num_classes,)
        Class votes of the ``n0`` selection samples (never mixed into ``counts``).
    n0, n : int
        Selection and estimation sample sizes.
    alpha : float
        Failure probability: with probability >= 1 - alpha the certificate is correct.
    seed : int or None
        Seed of the torch generator (None when the caller passed their own generator).
    batch_size : int
        Forward batch size (part of what makes the noise stream reproducible).
    candidate : int
        The class picked by selection (also recorded when abstaining).
    method : str
        "cohen" (p_B = 1 - p_A) or "pb" (p_B bounded separately, Bonferroni split of alpha).
    p_upper_b : float or None
        Upper bound on every runner-up probability ("pb" only).
    time_s : float
        Wall-clock time of the call, seconds.
    device : str
        Torch device the samples were drawn on.
    """

    label: int
    radius: float
    p_lower: float
    counts: np.ndarray
    sigma: float
    counts0: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n0: int = 0
    n: int = 0
    alpha: float = 0.0
    seed: int | None = None
    batch_size: int = 0
    candidate: int = ABSTAIN
    method: str = "cohen"
    p_upper_b: float | None = None
    time_s: float = 0.0
    device: str = "cpu"

    @property
    def abstained(self) -> bool:
        """True when CERTIFY declined to certify."""
        return self.label == ABSTAIN

    def to_dict(self) -> dict:
        """JSON-safe dict (numpy arrays become lists)."""
        d = asdict(self)
        d["counts"] = [int(c) for c in self.counts]
        d["counts0"] = [int(c) for c in self.counts0]
        return d


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}.") from None
    if not (0.0 < a < 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    return a


class Smooth:
    """Gaussian randomized smoothing of a base classifier (Cohen et al. 2019).

    Parameters
    ----------
    base_classifier : nn.Module or callable
        Maps a batch (b, *input_shape) of [0, 1] images to logits (b, num_classes). An
        ``nn.Module`` is moved to ``device`` and put in eval mode (the smoothed classifier needs a
        deterministic base classifier, so batch-norm statistics must not depend on the batch).
    num_classes : int
        Number of classes K >= 2.
    sigma : float
        Noise standard deviation, > 0, in [0, 1]-pixel units.
    device : str or torch.device
        Where the samples are drawn and the forward passes run.
    input_shape : tuple of int, optional
        Expected shape of one image; when given, inputs of another shape are rejected at once.
    channels_last : bool
        Convert an ``nn.Module`` to the channels-last memory format (in place) before sampling:
        faster convolutions on CPU (about 1.7x on the digits CNN, ``benchmarks/certify.py``).
    compile : bool
        Run the forward passes through ``torch.compile`` (``dynamic=False``). Every batch is
        then padded to ``batch_size`` with clean copies of ``x`` whose votes are discarded, so a
        single shape is compiled; the noise stream is unchanged. Pays off over many images (the
        first call compiles for ~10-20 s); about 3x on the digits CNN.

    Notes
    -----
    ``channels_last`` and ``compile`` change the floating-point evaluation of the base classifier
    (and so, very rarely, a vote); the certificate is still exact for the classifier as evaluated.
    """

    def __init__(
        self,
        base_classifier: nn.Module | Callable[[torch.Tensor], torch.Tensor],
        num_classes: int,
        sigma: float,
        device: str | torch.device = "cpu",
        input_shape: tuple[int, ...] | None = None,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
        try:
            sigma_f = float(sigma)
        except (TypeError, ValueError):
            raise ValueError(f"sigma must be a positive number, got {sigma!r}.") from None
        if not (math.isfinite(sigma_f) and sigma_f > 0):
            raise ValueError(f"sigma must be a positive finite number, got {sigma!r}.")
        self.device = torch.device(device)
        if isinstance(base_classifier, nn.Module):
            for name, p in base_classifier.named_parameters():
                if not torch.isfinite(p).all():
                    raise ValueError(f"The base classifier has non-finite values in parameter '{name}'.")
            base_classifier = base_classifier.to(self.device).eval()
        elif not callable(base_classifier):
            raise ValueError("base_classifier must be a torch module or a callable mapping a batch to logits.")
        self.base_classifier = base_classifier
        self.num_classes = int(num_classes)
        self.sigma = sigma_f
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self._checked_shapes: set[tuple[int, ...]] = set()
        self.channels_last = bool(channels_last)
        self.compiled = bool(compile)
        if self.channels_last and isinstance(base_classifier, nn.Module):
            base_classifier.to(memory_format=torch.channels_last)
        # the clean shape check uses the eager model; sampling may use the compiled one
        self._forward = torch.compile(base_classifier, dynamic=False) if self.compiled else base_classifier

    # ------------------------------------------------------------------ validation
    def _prepare_input(self, x) -> torch.Tensor:
        """Validate one image and move it to the device (float32). Runs one clean forward pass
        the first time a shape is seen to check that the model accepts it and outputs K logits."""
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"The input must be a torch tensor or numpy array, got {type(x).__name__}.")
        if x.ndim == 0:
            raise ValueError("The input must be one image (without a batch dimension), got a scalar.")
        if self.input_shape is not None and tuple(x.shape) != self.input_shape:
            raise ValueError(f"The input has shape {tuple(x.shape)} but this model expects {self.input_shape}.")
        x = x.detach().to(device=self.device, dtype=torch.float32)
        if not torch.isfinite(x).all():
            raise ValueError("The input image contains NaN or infinite values.")
        lo, hi = float(x.min()), float(x.max())
        if lo < -1e-6 or hi > 1.0 + 1e-6:
            raise ValueError(
                f"The input image must have pixel values in [0, 1] (noise is added in pixel space), "
                f"got values in [{lo:.4g}, {hi:.4g}]."
            )
        shape = tuple(x.shape)
        if shape not in self._checked_shapes:
            try:
                with torch.inference_mode():
                    out = self.base_classifier(x.unsqueeze(0))
            except Exception as exc:  # the model's own message is appended for the user
                raise ValueError(f"The base classifier cannot take an image of shape {shape}: {exc}") from exc
            if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape != (1, self.num_classes):
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise ValueError(
                    f"The base classifier returns output of shape {got} for one image, "
                    f"but num_classes={self.num_classes} needs (1, {self.num_classes})."
                )
            self._checked_shapes.add(shape)
        return x

    def _generator(self, seed: int | None, generator: torch.Generator | None) -> tuple[torch.Generator, int | None]:
        if generator is not None:
            if seed is not None:
                raise ValueError("Pass either seed or generator, not both.")
            return generator, None
        if seed is None:
            seed = fresh_seed()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
        g = torch.Generator(device=self.device)
        g.manual_seed(int(seed))
        return g, int(seed)

    # ------------------------------------------------------------------ sampling
    def sample_counts(
        self,
        x: torch.Tensor,
        num: int,
        batch_size: int,
        generator: torch.Generator,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Class votes of ``num`` noisy copies ``x + sigma * eps`` under the base classifier.

        Vectorised: each batch draws (b, *x.shape) Gaussian noise in one call, runs one forward
        pass and counts the argmax with ``bincount``; the counts stay on the device until the end
        (no per-batch host synchronisation). The last batch has ``num mod batch_size`` samples.

        Parameters
        ----------
        x : Tensor, shape input_shape
            A validated image on ``self.device`` (see :meth:`certify`).
        num : int
            Number of noisy samples.
        batch_size : int
            Samples per forward pass.
        generator : torch.Generator
            Noise source (on ``self.device``).
        progress : callable, optional
            Called with the number of samples done after each batch.

        Returns
        -------
        ndarray of int64, shape (num_classes,)
        """
        k = self.num_classes
        counts = torch.zeros(k, dtype=torch.int64, device=self.device)
        done = 0
        pad = self.compiled  # one batch shape for the compiled graph
        with torch.inference_mode():
            # one buffer, refilled in place: the same noise stream as torch.randn per batch
            # (randn is empty + normal_), without a fresh allocation for every batch
            buf = torch.empty((min(batch_size, num), *x.shape), device=self.device, dtype=x.dtype)
            while done < num:
                b = min(batch_size, num - done)
                batch = buf[:b]
                batch.normal_(0.0, 1.0, generator=generator).mul_(self.sigma).add_(x)
                if pad and b < batch_size:
                    batch = torch.cat([batch, x.expand(batch_size - b, *x.shape)])
                preds = self._forward(batch).argmax(dim=1)[:b]
                counts += torch.bincount(preds, minlength=k)[:k]
                done += b
                if progress is not None:
                    progress(done)
        return counts.cpu().numpy().astype(np.int64)

    # ------------------------------------------------------------------ PREDICT
    def predict(
        self,
        x: torch.Tensor,
        n: int,
        alpha: float,
        batch_size: int = 1000,
        generator: torch.Generator | None = None,
        seed: int | None = None,
    ) -> int:
        """Cohen's PREDICT: the smoothed class, or ``ABSTAIN``.

        Draws ``n`` samples, takes the two largest counts nA >= nB, and abstains when the
        two-sided binomial test of nA out of nA + nB against p = 1/2 has p-value > alpha
        (Hung & Fithian 2019). With probability >= 1 - alpha a returned class equals g(x).

        Parameters
        ----------
        x : Tensor, shape input_shape
            One image with values in [0, 1] (no batch dimension).
        n : int
            Number of noisy samples.
        alpha : float
            Failure probability in (0, 1).
        batch_size : int
            Samples per forward pass.
        generator, seed :
            Noise source; a fresh seed is drawn when neither is given.

        Returns
        -------
        int
            Class index or ``ABSTAIN`` (-1).
        """
        n = _check_positive_int("n", n)
        alpha = _check_alpha(alpha)
        batch_size = _check_positive_int("batch_size", batch_size)
        x = self._prepare_input(x)
        gen, _ = self._generator(seed, generator)
        counts = self.sample_counts(x, n, batch_size, gen)
        order = np.argsort(-counts, kind="stable")
        n_a, n_b = int(counts[order[0]]), int(counts[order[1]])
        if binomtest(n_a, n_a + n_b, p=0.5).pvalue > alpha:
            return ABSTAIN
        return int(order[0])

    # ------------------------------------------------------------------ CERTIFY
    def certify(
        self,
        x: torch.Tensor,
        n0: int,
        n: int,
        alpha: float,
        batch_size: int = 1000,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        method: str = "cohen",
        progress: Callable[[float], None] | None = None,
    ) -> Certificate:
        """Cohen's CERTIFY: a class and an l2 radius, or ``ABSTAIN``.

        1. Selection: ``n0`` samples, candidate ``cA = argmax counts0`` (no test).
        2. Estimation: ``n`` *fresh* samples, ``nA = counts[cA]``.
        3. ``p_lower = BetaInv(alpha; nA, n - nA + 1)`` (one-sided Clopper-Pearson).
        4. ``method="cohen"``: abstain iff ``p_lower < 0.5``, else radius ``sigma * Phi^-1(p_lower)``,
           computed as ``sigma * norm.isf(1 - p_lower)`` with the tail taken from the beta
           distribution directly, so it is accurate near 1 (at most ``radius_cap(n, alpha, sigma)``).
           ``method="pb"``: bound p_A below at alpha/2 and every other class above at
           alpha / (2 (K - 1)) (Bonferroni), ``p_B_upper = min(max_c upper_c, 1 - p_A_lower)``;
           abstain iff ``p_A_lower <= p_B_upper``, else radius
           ``sigma/2 * (Phi^-1(p_A_lower) - Phi^-1(p_B_upper))`` (Cohen et al. Thm. 1).

        Guarantee: with probability at least 1 - alpha over the noise, the returned class is
        ABSTAIN or equals g(x') for every ``||x' - x||_2 < radius``.

        Parameters
        ----------
        x : Tensor, shape input_shape
            One image with values in [0, 1] (no batch dimension).
        n0 : int
            Selection samples (Cohen default 100).
        n : int
            Estimation samples (Cohen default 100,000), ``n >= n0``.
        alpha : float
            Failure probability in (0, 1) (Cohen default 0.001).
        batch_size : int
            Samples per forward pass.
        seed : int, optional
            Seed of the noise generator; a fresh one is drawn (and recorded) when omitted.
        generator : torch.Generator, optional
            Use this generator instead of a seed.
        method : {"cohen", "pb"}
            How the runner-up probability is bounded.
        progress : callable, optional
            Called with the fraction of samples done (0..1).

        Returns
        -------
        Certificate
        """
        n0 = _check_positive_int("n0", n0)
        n = _check_positive_int("n", n)
        if n < n0:
            raise ValueError(f"n (estimation samples) must be at least n0 (selection samples), got n={n}, n0={n0}.")
        alpha = _check_alpha(alpha)
        batch_size = _check_positive_int("batch_size", batch_size)
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
        x = self._prepare_input(x)
        gen, used_seed = self._generator(seed, generator)
        t0 = time.perf_counter()
        total = n0 + n
        report = None if progress is None else (lambda done, off: progress(min(1.0, (off + done) / total)))
        counts0 = self.sample_counts(x, n0, batch_size, gen, None if report is None else (lambda d: report(d, 0)))
        c_a = int(np.argmax(counts0))  # ties -> lowest index, deterministic
        counts = self.sample_counts(x, n, batch_size, gen, None if report is None else (lambda d: report(d, n0)))
        n_a = int(counts[c_a])
        p_upper_b = None
        if method == "cohen":
            p_lower = float(clopper_pearson_lower(n_a, n, alpha))
            if p_lower < 0.5:
                label, radius = ABSTAIN, 0.0
            else:
                tail = float(clopper_pearson_lower_tail(n_a, n, alpha))
                label, radius = c_a, max(0.0, float(cohen_radius_from_tail(tail, self.sigma)))
        else:
            p_lower = float(clopper_pearson_lower(n_a, n, alpha / 2))
            tail = float(clopper_pearson_lower_tail(n_a, n, alpha / 2))
            others = np.delete(counts, c_a)
            uppers = clopper_pearson_upper(others, np.full_like(others, n), alpha / (2 * (self.num_classes - 1)))
            p_upper_b = float(min(float(np.max(uppers)), tail))
            if p_lower <= p_upper_b:
                label, radius = ABSTAIN, 0.0
            else:
                label, radius = c_a, max(0.0, float(gap_radius(tail, p_upper_b, self.sigma)))
        return Certificate(
            label=label,
            radius=radius,
            p_lower=p_lower,
            counts=counts,
            sigma=self.sigma,
            counts0=counts0,
            n0=n0,
            n=n,
            alpha=alpha,
            seed=used_seed,
            batch_size=batch_size,
            candidate=c_a,
            method=method,
            p_upper_b=p_upper_b,
            time_s=time.perf_counter() - t0,
            device=str(self.device),
        )
