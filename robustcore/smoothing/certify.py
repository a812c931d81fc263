"""Randomized smoothing: Cohen, Rosenfeld & Kolter (ICML 2019) PREDICT and CERTIFY.

The smoothed classifier of a base classifier ``f`` is

    g(x) = argmax_c P_{eps ~ N(0, sigma^2 I)} [ f(x + eps) = c ].

:class:`Smooth` estimates it by Monte Carlo. Noise is added in [0, 1] pixel space, so a model that
normalises its input must do so in its first layer, and radii are l2 distances in pixel units.

Sampling is vectorised and batched on any torch device, and driven by a seeded
:class:`torch.Generator`, so every certificate can be reproduced exactly from the seed it records
(on the same device, torch version and batch size). Without ``seed=`` the seed is drawn from
torch's default generator, so ``torch.manual_seed(s)`` before the call reproduces it (as with
Cohen's code); it is recorded either way.

Independent noise per purpose (issue 12): ``certify(..., seed=s, purpose="certify-fixed")`` draws
from ``streams.stream_seed(s, purpose)`` instead of ``s`` itself, and records both. Every
multi-step routine of this package (landscape, optimiser, data-dependent, Lipschitz-sigma and
memory certificates) derives its own stream from the user's seed this way, so no certificate is
computed from noise that a selection step (landscape, optimiser, another row) has seen.

Floating point: the guarantee is about the smoothed classifier of the base classifier *as it is
evaluated* here (float32 arithmetic, batched). Voráček & Hein (ICLR 2023) show that rounding of
the noise can in principle be exploited; we do not implement their sound sampler, so a
certificate is sound up to that floating-point caveat, as are Cohen's.
"""
from __future__ import annotations

import copy
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
from .streams import stream_seed

__all__ = ["ABSTAIN", "Certificate", "Smooth", "clopper_pearson_lower", "radius_cap", "fresh_seed",
           "MAX_SAMPLES", "MAX_BATCH_ELEMENTS", "check_image"]

#: Returned as the label when the smoothed classifier declines to answer.
ABSTAIN: int = -1

_METHODS = ("cohen", "pb")

#: Largest ``n`` or ``n0`` that :meth:`Smooth.certify` / :meth:`Smooth.predict` accept (refused before sampling).
MAX_SAMPLES: int = 10**9
#: Largest number of float32 values in one noise batch (``min(batch_size, n) * x.numel()``): 1 GiB.
MAX_BATCH_ELEMENTS: int = 2**28


def fresh_seed() -> int:
    """A new 62-bit seed drawn from torch's default generator (recorded in certificates).

    ``torch.manual_seed(s)`` before the call makes it reproducible, which is what users of Cohen's
    code rely on (there the global generator drives the noise directly).
    """
    return int(torch.randint(0, 2**62, (1,), dtype=torch.int64).item())


def check_image(x, name: str = "x", shape: tuple[int, ...] | None = None) -> torch.Tensor:
    """Validate one input and return it as a detached float32 tensor (on its own device).

    Raises ``TypeError`` for a non-array, complex or non-numeric input and ``ValueError`` (one
    sentence naming ``name``) for a scalar, an empty array, a wrong shape or NaN/inf values.
    """
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got numpy dtype {x.dtype}.")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor or numpy array, got {type(x).__name__}.")
    if x.is_complex() or not (x.is_floating_point() or x.dtype in (torch.bool, torch.uint8, torch.int8,
                                                                     torch.int16, torch.int32, torch.int64)):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    if x.ndim == 0:
        raise ValueError(f"{name} must be one input (without a batch dimension), got a scalar.")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}).")
    if shape is not None and tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(x.shape)} but this model expects {tuple(shape)}.")
    x = x.detach().to(torch.float32)
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


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
    purpose : str or None
        Noise stream the samples came from (e.g. "certify-fixed"); None when ``seed`` was used as is.
    base_seed : int or None
        The user-facing seed the stream was derived from (``seed = stream_seed(base_seed, purpose)``).
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
    purpose: str | None = None
    base_seed: int | None = None

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


def _check_positive_int(name: str, value, cap: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if cap is not None and value > cap:
        raise ValueError(f"{name} = {value} is above the cap of {cap:,} samples (a run that large cannot finish).")
    return int(value)


def _check_alpha(alpha) -> float:
    if isinstance(alpha, (bool, complex, np.complexfloating)):
        raise TypeError(f"alpha must be a real number in (0, 1), got {alpha!r}.")
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
        Maps a batch (b, *input_shape) of inputs to logits (b, num_classes). An ``nn.Module`` is
        **copied** (a private, frozen, eval-mode copy on ``device``): the caller's model keeps its
        train/eval mode, device, memory format and ``requires_grad`` flags, and later changes to it
        are not seen by this ``Smooth`` (build a new one). Eval mode because the smoothed classifier
        needs a deterministic base classifier (batch-norm statistics must not depend on the batch).
        A module that cannot be deep-copied is used as is, switched to eval mode only during each
        call and restored afterwards.
    num_classes : int
        Number of classes K >= 2.
    sigma : float
        Noise standard deviation, > 0, in [0, 1]-pixel units.
    device : str or torch.device
        Where the samples are drawn and the forward passes run.
    input_shape : tuple of int, optional
        Expected shape of one image; when given, inputs of another shape are rejected at once.
    input_range : (lo, hi) or None
        Inputs must lie in ``[lo, hi]`` (default ``(0, 1)``: images in pixel space, where the noise
        and the radius live). ``None`` accepts any finite input (2-D toy data, normalised inputs;
        the radius is then in the units of the input).
    channels_last : bool
        Convert the (copied) ``nn.Module`` to the channels-last memory format before sampling:
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
        input_range: tuple[float, float] | None = (0.0, 1.0),
    ) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
            raise TypeError(f"num_classes must be an integer >= 2, got {type(num_classes).__name__}.")
        if num_classes < 2 or num_classes > 10**6:
            raise ValueError(f"num_classes must be an integer in [2, 1e6], got {num_classes!r}.")
        if isinstance(sigma, (bool, complex, np.complexfloating)):
            raise TypeError(f"sigma must be a real positive number, got {sigma!r}.")
        try:
            sigma_f = float(sigma)
        except (TypeError, ValueError):
            raise ValueError(f"sigma must be a positive number, got {sigma!r}.") from None
        if not (math.isfinite(sigma_f) and sigma_f > 0):
            raise ValueError(f"sigma must be a positive finite number, got {sigma!r}.")
        if input_range is not None:
            try:
                lo, hi = (float(v) for v in input_range)
            except (TypeError, ValueError):
                raise ValueError(f"input_range must be None or a pair (lo, hi), got {input_range!r}.") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"input_range must be finite with lo < hi, got {input_range!r}.")
            input_range = (lo, hi)
        if input_shape is not None:
            try:
                input_shape = tuple(int(v) for v in input_shape)
            except (TypeError, ValueError):
                raise ValueError(f"input_shape must be a tuple of positive integers, got {input_shape!r}.") from None
            if not input_shape or min(input_shape) < 1:
                raise ValueError(f"input_shape must be a tuple of positive integers, got {input_shape!r}.")
        from robustcore.devices import resolve_device

        self.device = torch.device(resolve_device(device))
        self._restore_modes: nn.Module | None = None
        if isinstance(base_classifier, nn.Module):
            for name, p in base_classifier.named_parameters():
                if not torch.isfinite(p).all():
                    raise ValueError(f"The base classifier has non-finite values in parameter '{name}'.")
            try:
                work = copy.deepcopy(base_classifier)
            except Exception:  # noqa: BLE001 - e.g. a wrapper holding an unpicklable handle
                work = None
            if work is not None:
                work = work.to(self.device).eval()
                for p in work.parameters():
                    p.requires_grad_(False)
                if channels_last:
                    work = work.to(memory_format=torch.channels_last)
                base_classifier = work
            else:  # cannot copy: use it in place, in eval mode only while sampling
                self._restore_modes = base_classifier
        elif not callable(base_classifier):
            raise TypeError("base_classifier must be a torch module or a callable mapping a batch to logits.")
        self.base_classifier = base_classifier
        self.num_classes = int(num_classes)
        self.sigma = sigma_f
        self.input_shape = input_shape
        self.input_range = input_range
        self._checked_shapes: set[tuple[int, ...]] = set()
        self.channels_last = bool(channels_last) and self._restore_modes is None
        self.compiled = bool(compile)
        # the clean shape check uses the eager model; sampling may use the compiled one
        self._forward = torch.compile(base_classifier, dynamic=False) if self.compiled else base_classifier

    def _eval_modes(self):
        """Context: the uncopyable caller's module in eval mode during a call, its modes restored after."""
        import contextlib

        @contextlib.contextmanager
        def ctx():
            mod = self._restore_modes
            if mod is None:
                yield
                return
            modes = [(m, m.training) for m in mod.modules()]
            mod.eval()
            try:
                yield
            finally:
                for m, t in modes:
                    m.training = t

        return ctx()

    # ------------------------------------------------------------------ validation
    def _prepare_input(self, x) -> torch.Tensor:
        """Validate one image and move it to the device (float32). Runs one clean forward pass
        the first time a shape is seen to check that the model accepts it and outputs K logits."""
        x = check_image(x, "x", self.input_shape).to(self.device)
        if self.input_range is not None:
            lo, hi = float(x.min()), float(x.max())
            a, b = self.input_range
            if lo < a - 1e-6 or hi > b + 1e-6:
                raise ValueError(
                    f"x must have values in [{a:g}, {b:g}] (noise is added in pixel space), got values in "
                    f"[{lo:.4g}, {hi:.4g}]; pass input_range=None to Smooth for other inputs."
                )
        shape = tuple(x.shape)
        if shape not in self._checked_shapes:
            try:
                with torch.inference_mode(), self._eval_modes():
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

    def _generator(
        self, seed: int | None, generator: torch.Generator | None, purpose: str | None = None
    ) -> tuple[torch.Generator, int | None, int | None]:
        """(generator, seed it was seeded with, user seed it was derived from)."""
        if purpose is not None and (not isinstance(purpose, str) or not purpose):
            raise ValueError(f"purpose must be a non-empty string or None, got {purpose!r}.")
        if generator is not None:
            if seed is not None:
                raise ValueError("Pass either seed or generator, not both.")
            if purpose is not None:
                raise ValueError("purpose derives a stream from seed; it cannot be used with generator.")
            if not isinstance(generator, torch.Generator):
                raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}.")
            return generator, None, None
        if seed is None:
            seed = fresh_seed()  # from torch's default generator: torch.manual_seed reproduces it
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be a non-negative integer, got {type(seed).__name__}.")
        if seed < 0 or seed >= 2**63:
            raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}.")
        base = int(seed)
        used = stream_seed(base, purpose) if purpose is not None else base
        g = torch.Generator(device=self.device)
        g.manual_seed(used)
        return g, used, (base if purpose is not None else None)

    @staticmethod
    def _check_batch(x: torch.Tensor, batch_size: int, n: int) -> None:
        if min(batch_size, n) * x.numel() > MAX_BATCH_ELEMENTS:
            raise ValueError(
                f"batch_size = {batch_size} noisy copies of a {x.numel()}-value input exceed the cap of "
                f"{MAX_BATCH_ELEMENTS:,} values per batch (1 GiB); use a smaller batch_size."
            )

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
        with torch.inference_mode(), self._eval_modes():
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
        purpose: str | None = None,
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
            Number of noisy samples, 1 <= n <= ``MAX_SAMPLES`` (refused before any sampling).
        alpha : float
            Failure probability in (0, 1).
        batch_size : int
            Samples per forward pass.
        generator, seed :
            Noise source; a seed is drawn from torch's default generator when neither is given.
        purpose : str, optional
            Draw from ``stream_seed(seed, purpose)`` instead of ``seed`` (independent streams).

        Returns
        -------
        int
            Class index or ``ABSTAIN`` (-1).
        """
        n = _check_positive_int("n", n, MAX_SAMPLES)
        alpha = _check_alpha(alpha)
        batch_size = _check_positive_int("batch_size", batch_size)
        x = self._prepare_input(x)
        self._check_batch(x, batch_size, n)
        gen, _, _ = self._generator(seed, generator, purpose)
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
        purpose: str | None = None,
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
            Selection samples (Cohen default 100), at most ``MAX_SAMPLES``.
        n : int
            Estimation samples (Cohen default 100,000), ``n0 <= n <= MAX_SAMPLES`` (10**9; refused
            before any sampling).
        alpha : float
            Failure probability in (0, 1) (Cohen default 0.001).
        batch_size : int
            Samples per forward pass.
        seed : int, optional
            Seed of the noise generator; when omitted one is drawn from torch's default generator
            (so ``torch.manual_seed`` reproduces it) and recorded.
        generator : torch.Generator, optional
            Use this generator instead of a seed.
        purpose : str, optional
            Draw from the independent stream ``streams.stream_seed(seed, purpose)``; the certificate
            records ``purpose``, ``base_seed = seed`` and ``seed`` = the stream's seed. Use a purpose
            different from every selection step's (e.g. "certify-fixed" vs the landscape's) so the
            certificate's noise has not been seen by whatever chose sigma.
        method : {"cohen", "pb"}
            How the runner-up probability is bounded.
        progress : callable, optional
            Called with the fraction of samples done (0..1).

        Returns
        -------
        Certificate
        """
        n0 = _check_positive_int("n0", n0, MAX_SAMPLES)
        n = _check_positive_int("n", n, MAX_SAMPLES)
        if n < n0:
            raise ValueError(f"n (estimation samples) must be at least n0 (selection samples), got n={n}, n0={n0}.")
        alpha = _check_alpha(alpha)
        batch_size = _check_positive_int("batch_size", batch_size)
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
        if progress is not None and not callable(progress):
            raise TypeError("progress must be callable or None.")
        x = self._prepare_input(x)
        self._check_batch(x, batch_size, n)
        gen, used_seed, base_seed = self._generator(seed, generator, purpose)
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
            purpose=purpose,
            base_seed=base_seed,
        )
