"""Data-dependent sigma (Alfarra et al., "Data Dependent Randomized Smoothing", UAI 2022).

For each input ``x`` the noise level is chosen by stochastic gradient ascent on the *surrogate*
certified radius of the noise-averaged softmax (DDRS eq. for the isotropic case)::

    psi(sigma)     = 1/n sum_i softmax(f(x + sigma * eps_i)),   eps_i ~ N(0, I)   (reparameterised)
    R~(sigma)      = sigma / 2 * (Phi^-1(clip psi_(1)) - Phi^-1(clip psi_(2)))
    sigma <- sigma + lr * dR~/dsigma                                             (fresh eps each step)

``psi_(1)``, ``psi_(2)`` are the two largest entries of ``psi``: the label is never used, so the
method runs at test time. The probabilities are clipped to ``clip`` (DDRS training scripts use
[0.02, 0.98], the ``ddsmoothing`` package [0.001, 0.999]).

Differences from the official code, each a deliberate (sound) choice:
- sigma is kept in ``[sigma_min, sigma_max]`` after every step (the original has no floor, so a
  large step can make sigma negative);
- the caller's model is left untouched (parameters, ``requires_grad`` flags, train/eval mode,
  device): the ascent runs on a frozen copy (:func:`working_copy`), so no weight gradients are
  computed (about twice as fast on the CPU; we differentiate only in sigma);
- the whole path (sigma and surrogate per step) is returned so it can be plotted;
- every input has its own noise stream, ``stream_seed(image_seed(seed, j), "optimise")`` for row ``j``
  (or for its own id from ``seeds=``), so an input's sigma does not depend on which other inputs share
  the batch: a resumed dataset run picks the same sigma_x as an uninterrupted one (issue 13). With
  ``per_input=True`` each input also gets its own forward pass, which makes that bit-exact (a batched
  matrix product may round differently for different batch sizes).

Noise streams (issue 12): the ascent draws from the purpose "optimise" and the certificate of
:func:`certify_data_dependent` from "certify-dd" (``robustcore.smoothing.streams``), so the samples
that certify sigma_x were never seen by the step that chose it; both are recorded.

The sigma returned here is **not** a certificate. Certifying ``g_{sigma_x}`` at ``x`` with fresh
samples is a sound statement about that *fixed-sigma* classifier only; see
``robustcore.smoothing.memory`` and ``robustcore.smoothing.lipschitz_sigma`` for sound
certificates of a data-dependent classifier.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .streams import stream_seed

__all__ = [
    "SigmaPath",
    "DataDependentCertificate",
    "optimize_sigma",
    "certify_data_dependent",
    "surrogate_radius",
    "check_clip",
    "probabilities_of",
]

_SQRT2 = math.sqrt(2.0)


def _image_seed(seed: int, index: int) -> int:
    from .runner import image_seed

    return image_seed(seed, index)


def check_clip(clip: tuple[float, float]) -> tuple[float, float]:
    """Validate a probability clip interval ``(lo, hi)`` with ``0 < lo < 0.5 < hi < 1``."""
    try:
        if len(clip) != 2:
            raise ValueError
        lo, hi = float(clip[0]), float(clip[1])
    except (TypeError, IndexError, ValueError) as exc:
        raise ValueError(f"clip must be a pair (lo, hi) of probabilities, got {clip!r}.") from exc
    if not (0.0 < lo < 0.5 < hi < 1.0):
        raise ValueError(f"clip must satisfy 0 < lo < 0.5 < hi < 1, got {clip!r}.")
    return lo, hi


def _ndtri(p: torch.Tensor) -> torch.Tensor:
    # Phi^-1(p) = sqrt(2) erfinv(2p - 1); differentiable, and p is clipped away from 0 and 1.
    return _SQRT2 * torch.erfinv(2.0 * p - 1.0)


def surrogate_radius(psi: torch.Tensor, sigma: torch.Tensor, clip: tuple[float, float] = (0.02, 0.98)) -> torch.Tensor:
    """DDRS surrogate radius ``sigma/2 (Phi^-1(clip psi_(1)) - Phi^-1(clip psi_(2)))``.

    Parameters
    ----------
    psi : Tensor (B, K)
        Noise-averaged class probabilities (rows sum to 1), K >= 2.
    sigma : Tensor (B,)
        Noise level per row (l2, pixel units).
    clip : (lo, hi)
        Probabilities are clamped to ``[lo, hi]`` before ``Phi^-1`` (zero gradient outside).

    Returns
    -------
    Tensor (B,)
        The surrogate radius; differentiable in ``psi`` and ``sigma``.
    """
    lo, hi = check_clip(clip)
    if not isinstance(psi, torch.Tensor) or not isinstance(sigma, torch.Tensor):
        raise TypeError("psi and sigma must be torch tensors (psi (B, K), sigma (B,)).")
    if psi.is_complex() or sigma.is_complex() or not (psi.is_floating_point() and sigma.is_floating_point()):
        raise TypeError(f"psi and sigma must be real floating-point tensors, got {psi.dtype} and {sigma.dtype}.")
    if psi.ndim != 2 or psi.shape[1] < 2 or psi.shape[0] < 1:
        raise ValueError(f"psi must have shape (B, K) with K >= 2, got {tuple(psi.shape)}.")
    if sigma.shape != (psi.shape[0],):
        raise ValueError(f"sigma must have shape ({psi.shape[0]},), got {tuple(sigma.shape)}.")
    top2 = torch.topk(psi, 2, dim=1).values.clamp(lo, hi)
    return sigma / 2.0 * (_ndtri(top2[:, 0]) - _ndtri(top2[:, 1]))


def working_copy(model: nn.Module, device: str | torch.device = "cpu", channels_last: bool = False) -> nn.Module:
    """A private, frozen, eval-mode copy of ``model`` on ``device`` (optionally channels-last).

    The caller's model is never moved, re-laid-out or switched to eval mode. With ``channels_last``
    (used for inference-only sampling) a model with 2-D convolutions gets channels-last weights,
    which makes the digits CNN's forward pass about 25-50 % faster on the CPU (oneDNN kernels); its
    backward pass is slower that way, so the ascent keeps the default layout. Outputs agree with the
    original up to floating-point summation order. Falls back to the model itself when it cannot be
    deep-copied.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}.")
    device = check_device(device)
    try:
        work = copy.deepcopy(model)
    except Exception:  # noqa: BLE001 - e.g. a wrapper holding an unpicklable handle
        return model
    work = work.to(device).eval()
    if channels_last and any(isinstance(m, nn.Conv2d) for m in work.modules()):
        work = work.to(memory_format=torch.channels_last)
    for p in work.parameters():
        p.requires_grad_(False)
    return work


def probabilities_of(model: nn.Module, x: torch.Tensor, probabilities: bool, bf16: bool = False) -> torch.Tensor:
    """Class probabilities of ``model`` at ``x``: softmax of its logits unless it returns probabilities.

    With ``bf16`` the model runs under bfloat16 autocast and its output is cast back to float32
    before the soft-max (used only to *choose* sigma, never to certify).
    """
    if not isinstance(model, nn.Module) and not callable(model):
        raise TypeError(f"model must be a torch module, got {type(model).__name__}.")
    if not isinstance(x, torch.Tensor) or x.is_complex() or not x.is_floating_point():
        raise TypeError("x must be a real floating-point torch tensor (B, ...).")
    if x.ndim < 2 or x.numel() == 0:
        raise ValueError(f"x must be a non-empty batch (B, ...), got shape {tuple(x.shape)}.")
    # (no detach: the ascent differentiates through x + sigma * eps)
    try:
        with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
    except RuntimeError as exc:  # the model's own message is kept for the user
        raise ValueError(f"The model cannot take a batch of shape {tuple(x.shape)}: {exc}") from exc
    out = out.float()
    if out.ndim != 2 or out.shape[1] < 2:
        raise ValueError(f"The model must return (batch, classes) scores with at least 2 classes, got {tuple(out.shape)}.")
    return out if probabilities else torch.softmax(out, dim=1)


@dataclass
class SigmaPath:
    """Result of :func:`optimize_sigma`.

    Attributes
    ----------
    sigma : ndarray (B,)
        Final per-input sigma.
    sigma_history : ndarray (steps + 1, B)
        sigma before each step and after the last one (row 0 is ``sigma0``).
    surrogate_history : ndarray (steps, B)
        Surrogate radius R~ at the iterate of each step (with that step's noise draw).
    top_class : ndarray (B,)
        Top class of the noise-averaged softmax at the last step.
    config : dict
        steps, lr, n_samples, clip, sigma bounds, seed.
    """

    sigma: np.ndarray
    sigma_history: np.ndarray
    surrogate_history: np.ndarray
    top_class: np.ndarray
    config: dict = field(default_factory=dict)


#: Caps of :func:`optimize_sigma` (refused before any work): ascent steps, samples per input per step,
#: and noisy values held at once (``B * n_samples * x[0].numel()`` is processed in chunks, but one
#: input's ``n_samples`` copies must fit: 2**28 float32 values = 1 GiB).
MAX_STEPS = 100_000
MAX_N_SAMPLES = 1_000_000
MAX_CHUNK_ELEMENTS = 2**28


def _int_arg(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {value!r}.")
    if not (lo <= value <= hi):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi:,}], got {value!r}.")
    return int(value)


def _float_arg(name: str, value, positive: bool = True) -> float:
    if isinstance(value, (bool, complex, np.complexfloating)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0):
        raise ValueError(f"{name} must be a {'positive ' if positive else ''}finite number, got {value!r}.")
    return v


def check_device(device) -> torch.device:
    """``torch.device(device)``, or ValueError with one sentence (unknown name, CUDA without a GPU)."""
    from robustcore.devices import resolve_device

    return torch.device(resolve_device(device))


def as_batch(x, name: str = "x") -> torch.Tensor:
    """Validate a batch (B, ...) of real finite inputs and return it as float32 (TypeError/ValueError otherwise)."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got numpy dtype {x.dtype}.")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor or numpy array, got {type(x).__name__}.")
    if x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    if x.ndim < 2:
        raise ValueError(f"{name} must have a batch dimension, shape (B, ...), got shape {tuple(x.shape)}.")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}).")
    x = x.detach().to(torch.float32)
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def _check_inputs(x, sigma0, steps, lr, n_samples, sigma_min, sigma_max, batch_size) -> tuple[torch.Tensor, torch.Tensor]:
    x = as_batch(x)
    try:
        s0 = np.asarray(sigma0, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"sigma0 must be a number or an array of numbers, got {type(sigma0).__name__}.") from None
    if s0.size == 1:
        s0 = np.full(x.shape[0], float(s0[0]))
    if s0.size != x.shape[0]:
        raise ValueError(f"sigma0 must be a scalar or hold one value per input ({x.shape[0]}), got {s0.size}.")
    if not np.all(np.isfinite(s0)) or np.any(s0 <= 0):
        raise ValueError("sigma0 must be finite and positive.")
    _int_arg("steps", steps, 0, MAX_STEPS)
    _float_arg("lr", lr)
    n_samples = _int_arg("n_samples", n_samples, 1, MAX_N_SAMPLES)
    smin, smax = _float_arg("sigma_min", sigma_min), _float_arg("sigma_max", sigma_max)
    if not smax > smin:
        raise ValueError(f"Need 0 < sigma_min < sigma_max, got {sigma_min!r}, {sigma_max!r}.")
    _int_arg("batch_size", batch_size, 1, 2**31)
    if n_samples * x[0].numel() > MAX_CHUNK_ELEMENTS:
        raise ValueError(f"n_samples = {n_samples} noisy copies of a {x[0].numel()}-value input exceed the cap of "
                         f"{MAX_CHUNK_ELEMENTS:,} values (1 GiB).")
    return x, torch.as_tensor(np.clip(s0, smin, smax))


def optimize_sigma(
    model: nn.Module,
    x: torch.Tensor,
    sigma0: float | np.ndarray = 0.25,
    steps: int = 100,
    lr: float = 1e-3,
    n_samples: int = 64,
    clip: tuple[float, float] = (0.02, 0.98),
    sigma_min: float = 1e-3,
    sigma_max: float = 10.0,
    seed: int = 0,
    batch_size: int = 1024,
    device: str = "cpu",
    probabilities: bool = False,
    precision: str = "float32",
    progress=None,
    seeds=None,
    per_input: bool = False,
) -> SigmaPath:
    """Per-input sigma by stochastic gradient ascent on the DDRS surrogate radius (batched over inputs).

    Each step draws fresh ``eps`` of shape (B, n_samples, *x.shape[1:]), forms
    ``psi = mean_n softmax(f(x + sigma eps))``, evaluates
    ``R~ = sigma/2 (Phi^-1(clip psi_(1)) - Phi^-1(clip psi_(2)))`` and sets
    ``sigma <- clamp(sigma + lr * dR~/dsigma, sigma_min, sigma_max)``, one step size for all inputs
    (Alfarra et al. 2022, Alg. 1 / ``OptimzeSigma``). The inputs are independent: the gradient of
    the sum of radii is the per-input gradient.

    Parameters
    ----------
    model : nn.Module
        Base classifier mapping (m, *x.shape[1:]) to (m, K) logits (or probabilities when
        ``probabilities=True``). Its parameters and mode are not changed.
    x : Tensor (B, ...)
        Inputs in pixel space (noise is added there).
    sigma0 : float or array (B,)
        Starting sigma (> 0).
    steps, lr, n_samples : int, float, int
        Ascent steps, step size and Monte Carlo samples per input per step.
    clip : (lo, hi)
        Probability clipping of the surrogate.
    sigma_min, sigma_max : float
        sigma is projected onto this interval after each step (keeps it positive).
    seed : int
        User seed: input ``j`` draws from ``stream_seed(image_seed(seed, j), "optimise")``, its own
        stream (purpose "optimise", independent of every certificate's). Deterministic.
    seeds : array of int (B,), optional
        Per-input ids instead of ``image_seed(seed, j)`` (e.g. ``image_seed(run_seed, test_index)``):
        input ``j`` then draws from ``stream_seed(seeds[j], "optimise")``, so its sigma does not
        depend on which other inputs are in the batch.
    per_input : bool
        Give each input its own forward pass (bit-identical results whatever the batch holds;
        slower when ``n_samples`` is small).
    batch_size : int
        Largest number of noisy rows per forward pass (inputs are processed in chunks).
    device : str
        Torch device for the sampling and the model.
    probabilities : bool
        True if ``model`` already returns probabilities (as the DDRS ResNets do).
    precision : {"float32", "bfloat16"}
        "bfloat16" runs the model's forward and backward passes under bfloat16 autocast: about
        twice as fast on CPUs with AVX512-BF16, gradients within a few per cent. It only affects
        which sigma is chosen; certificates are computed afterwards in float32 with fresh samples,
        so they stay sound.
    progress : callable(fraction, message) or None
        Called after each step.

    Returns
    -------
    SigmaPath
        Final sigma (B,), the sigma history (steps + 1, B) and the surrogate history (steps, B).
    """
    x, sigma = _check_inputs(x, sigma0, steps, lr, n_samples, sigma_min, sigma_max, batch_size)
    check_clip(clip)
    if precision not in ("float32", "bfloat16"):
        raise ValueError(f"precision must be 'float32' or 'bfloat16', got {precision!r}.")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}.")
    B0 = x.shape[0]
    if seeds is None:
        _int_arg("seed", seed, 0, 2**63 - 1)
        ids = [_image_seed(int(seed), j) for j in range(B0)]
    else:
        ids = [_int_arg("seeds[j]", v, 0, 2**63 - 1) for v in np.asarray(seeds).reshape(-1).tolist()]
        if len(ids) != B0:
            raise ValueError(f"seeds must hold one id per input ({B0}), got {len(ids)}.")
    streams = [stream_seed(i, "optimise") for i in ids]
    bf16 = precision == "bfloat16"
    steps, n_samples = int(steps), int(n_samples)
    dev = check_device(device)
    # Work on a frozen copy: the caller's parameters, flags, mode and device stay as they are.
    original = model
    model = working_copy(original, dev)
    was_training = model.training
    flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    x = x.to(dev, torch.float32)
    B = x.shape[0]
    feat = tuple(x.shape[1:])
    per_chunk = 1 if per_input else max(1, int(batch_size) // n_samples)  # inputs per forward pass
    gens = [torch.Generator(device=dev).manual_seed(s_) for s_ in streams]
    sigma = sigma.to(dev, torch.float32)
    sig_hist = np.empty((steps + 1, B))
    sur_hist = np.empty((steps, B))
    sig_hist[0] = sigma.double().cpu().numpy()
    top_class = np.full(B, -1, dtype=np.int64)  # -1 when steps == 0
    try:
        for p in model.parameters():
            p.requires_grad_(False)
        for t in range(steps):
            grads = torch.empty(B, device=dev)
            for start in range(0, B, per_chunk):
                stop = min(B, start + per_chunk)
                b = stop - start
                # sigma is re-created from the current iterate every step (the 2021-03-26 fix in the
                # official code): the noise scale must follow the iterate.
                s = sigma[start:stop].detach().clone().requires_grad_(True)
                # each input's noise from its own stream: independent of the batch's composition
                eps = torch.stack([torch.randn((n_samples,) + feat, generator=gens[j], device=dev)
                                   for j in range(start, stop)])
                noisy = x[start:stop, None] + s.view((b, 1) + (1,) * len(feat)) * eps
                probs = probabilities_of(model, noisy.reshape((b * n_samples,) + feat), probabilities, bf16)
                psi = probs.reshape(b, n_samples, -1).mean(dim=1)
                radius = surrogate_radius(psi, s, clip)
                (g,) = torch.autograd.grad(radius.sum(), s)
                grads[start:stop] = g
                sur_hist[t, start:stop] = radius.detach().double().cpu().numpy()
                if t == steps - 1:
                    top_class[start:stop] = psi.argmax(dim=1).cpu().numpy()
            sigma = (sigma + lr * grads).clamp(sigma_min, sigma_max).detach()
            sig_hist[t + 1] = sigma.double().cpu().numpy()
            if progress is not None:
                progress((t + 1) / steps, f"sigma ascent step {t + 1}/{steps}")
    finally:
        model.train(was_training)
        for p, f in zip(model.parameters(), flags):
            p.requires_grad_(f)
    config = {
        "steps": steps, "lr": float(lr), "n_samples": n_samples, "clip": [float(c) for c in clip],
        "sigma_min": float(sigma_min), "sigma_max": float(sigma_max), "seed": None if seeds is not None else int(seed),
        "precision": precision, "purpose": "optimise", "ids": ids, "stream_seeds": streams, "per_input": bool(per_input),
    }
    return SigmaPath(sigma=sig_hist[-1].copy(), sigma_history=sig_hist, surrogate_history=sur_hist,
                     top_class=top_class, config=config)


@dataclass
class DataDependentCertificate:
    """A DDRS sigma for one input and the Cohen certificate at that sigma from fresh samples.

    ``certificate`` is a sound certificate of the **fixed-sigma** classifier ``g_{sigma_x}`` at x
    (failure probability alpha: the certification noise is independent of the noise used to pick
    sigma). It is **not** a certificate of the data-dependent classifier ``G(x') = g_{sigma_{x'}}(x')``,
    which uses another sigma at each point of the ball; ``note`` says so.
    """

    sigma: float
    path: SigmaPath
    certificate: object  # robustcore.smoothing.certify.Certificate
    note: str = (
        "Certificate of the fixed-sigma classifier g_sigma_x at x only; not a guarantee for the data-dependent "
        "classifier, whose sigma changes inside the ball (Súkeník et al. 2022). Use the memory or a Lipschitz sigma."
    )


def certify_data_dependent(model: nn.Module, x: torch.Tensor, num_classes: int, sigma0: float = 0.25,
                           steps: int = 100, lr: float = 0.01, n_samples: int = 32, n0: int = 100, n: int = 1000,
                           alpha: float = 0.001, seed: int = 0, batch_size: int = 1000, device: str = "cpu",
                           sigma_min: float = 0.02, sigma_max: float = 2.0, progress=None,
                           input_range: tuple[float, float] | None = (0.0, 1.0)) -> DataDependentCertificate:
    """Optimise sigma for one image (DDRS), then run Cohen's CERTIFY at that sigma with fresh samples.

    The ascent draws from the stream ``stream_seed(image_seed(seed, 0), "optimise")`` and CERTIFY
    from ``stream_seed(seed, "certify-dd")`` (recorded in the certificate's ``purpose``, ``base_seed``
    and ``seed``), so the certification samples never informed the choice of sigma (reference §3.6,
    item 4): the certificate of ``g_{sigma_x}`` at x holds with probability >= 1 - alpha.

    Parameters
    ----------
    model : nn.Module
        Base classifier (logits).
    x : Tensor
        One image without a batch dimension, values in [0, 1].
    num_classes : int
    sigma0, steps, lr, n_samples, sigma_min, sigma_max :
        As in :func:`optimize_sigma`.
    n0, n, alpha, batch_size, device :
        As in ``Smooth.certify``.
    seed : int
        User seed; the ascent and the certificate use independent streams derived from it.
    progress : callable(fraction, message) or None
    input_range : (lo, hi) or None
        As in ``Smooth`` (None for 2-D toy data or normalised inputs).

    Returns
    -------
    DataDependentCertificate
    """
    from .certify import Smooth, check_image

    x = check_image(x, "x")
    path = optimize_sigma(model, x.unsqueeze(0), sigma0=sigma0, steps=steps, lr=lr, n_samples=n_samples,
                          seed=seed, device=device, sigma_min=sigma_min, sigma_max=sigma_max,
                          progress=None if progress is None else (lambda f, m: progress(0.5 * f, m)))
    sigma_x = float(path.sigma[0])
    smooth = Smooth(model, num_classes, sigma_x, device=device, input_range=input_range)
    cert = smooth.certify(x, n0=n0, n=n, alpha=alpha, batch_size=batch_size, seed=seed, purpose="certify-dd",
                          progress=None if progress is None else (lambda f: progress(0.5 + 0.5 * f, "certifying")))
    return DataDependentCertificate(sigma=sigma_x, path=path, certificate=cert)
