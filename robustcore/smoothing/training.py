"""Training base classifiers for randomized smoothing on the embedded digits data.

Three methods, each cached on disk with :func:`robustcore.nets.cached_model`:

- ``"cohen"``: Gaussian data augmentation (Cohen et al. 2019): cross-entropy of
  ``f(x + eps)``, ``eps ~ N(0, sigma^2 I)``.
- ``"smoothadv"``: SmoothAdv (Salman et al. 2019): an l2 PGD attack on the *smoothed soft*
  classifier, maximising ``-log( (1/m) sum_i softmax(f(x' + eps_i))_y )`` over
  ``||x' - x||_2 <= eps``, then cross-entropy of ``f(x' + eps_i)`` on the same noise draws.
- ``"macer"``: MACER (Zhai et al. 2020): the soft smoothed classifier
  ``psi = (1/m) sum_i softmax(f(x + eps_i))`` trained with ``-log psi_y`` plus
  ``lambda * sigma/2 * relu(gamma - (Phi^-1(psi_y) - Phi^-1(psi_(2))))`` on correctly classified
  points (an inverse temperature ``beta`` sharpens the soft-max in the robustness term).

``"plain"`` is the undefended digits CNN (no noise), for comparison. All models are
:class:`robustcore.nets.DigitsCNN` taking (n, 1, 8, 8) images in [0, 1].
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from robustcore.nets import DigitsCNN, cached_model, default_model, evaluate_accuracy

__all__ = [
    "SMOOTHING_METHODS",
    "smoothing_model",
    "smoothing_model_config",
    "macer_loss",
    "smoothadv_attack",
    "noisy_accuracy",
    "check_training_batch",
]

ProgressFn = Callable[[float, str], None]

SMOOTHING_METHODS = ("plain", "cohen", "smoothadv", "macer")

_DEFAULTS: dict[str, dict] = {
    "smoothadv": {"epochs": 30, "lr": 2e-3, "batch_size": 64, "m": 2, "eps": 0.5, "steps": 2, "warmup": 5},
    "macer": {"epochs": 30, "lr": 2e-3, "batch_size": 64, "m": 8, "lbd": 4.0, "gamma": 8.0, "beta": 16.0},
}


def check_training_batch(model, x, y=None, noise=None, name: str = "x") -> None:
    """Refuse a bad training/attack batch with one sentence (TypeError / ValueError) before any forward pass.

    ``model`` a torch module; ``x`` a real finite tensor (b, ...); ``y`` int64 labels (b,);
    ``noise`` a real finite tensor (m, b, ...).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}.")
    for nm, t in ((name, x), ("noise", noise)):
        if t is None and nm == "noise":
            continue
        if not isinstance(t, torch.Tensor) or t.is_complex() or not t.is_floating_point():
            raise TypeError(f"{nm} must be a real floating-point torch tensor.")
        if t.numel() == 0 or t.ndim < 2:
            raise ValueError(f"{nm} must be a non-empty batch, got shape {tuple(t.shape)}.")
        if not torch.isfinite(t).all():
            raise ValueError(f"{nm} contains NaN or infinite values.")
    if y is not None:
        if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.shape != (x.shape[0],):
            raise TypeError(f"y must be an int64 tensor of shape ({x.shape[0]},).")
    if noise is not None and tuple(noise.shape[1:]) != tuple(x.shape):
        raise ValueError(f"noise must have shape (m, *x.shape) = (m, {', '.join(map(str, x.shape))}), "
                         f"got {tuple(noise.shape)}.")


def _pos(name: str, v, allow_zero: bool = False) -> float:
    if isinstance(v, (bool, complex)) or not isinstance(v, (int, float, np.number)):
        raise TypeError(f"{name} must be a real number, got {v!r}.")
    f = float(v)
    if not math.isfinite(f) or f < 0 or (f == 0 and not allow_zero):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} finite number, got {v!r}.")
    return f


def smoothing_model_config(method: str, sigma: float, **overrides) -> dict:
    """The full training config of a smoothing model (what its cache entry is keyed on).

    Parameters
    ----------
    method : {"plain", "cohen", "smoothadv", "macer"}
    sigma : float
        Training noise level (ignored for "plain").
    **overrides
        Replace entries such as ``epochs``, ``m``, ``eps``.

    Returns
    -------
    dict
    """
    if not isinstance(method, str) or method not in SMOOTHING_METHODS:
        raise ValueError(f"Unknown smoothing model {method!r}; choose one of {', '.join(SMOOTHING_METHODS)}.")
    if isinstance(sigma, (bool, complex)) or not isinstance(sigma, (int, float, np.number)):
        raise TypeError(f"The training noise sigma must be a real number, got {sigma!r}.")
    sigma = float(sigma)
    if method != "plain" and not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"The training noise sigma must be positive, got {sigma!r}.")
    if method in ("plain", "cohen"):
        return {"noise_sigma": 0.0 if method == "plain" else sigma, **overrides}
    return {
        "arch": "digits-cnn",
        "arch_kwargs": {"num_classes": 10, "first_channels": 16},
        "data": "digits",
        "method": method,
        "sigma": sigma,
        "seed": 0,
        **_DEFAULTS[method],
        **overrides,
    }


def smoothing_model(
    method: str,
    sigma: float = 0.25,
    progress: ProgressFn | None = None,
    retrain: bool = False,
    **overrides,
) -> tuple[nn.Module, dict]:
    """A digits CNN trained for randomized smoothing, cached on disk.

    "plain" and "cohen" are the foundation's ``default_model("digits-cnn", noise_sigma=...)``
    (so the cache entry is shared with other pages); "smoothadv" and "macer" are trained here.
    Training takes about 10 s ("cohen") to ~1-2 min ("smoothadv", "macer") on one CPU core.

    Parameters
    ----------
    method : {"plain", "cohen", "smoothadv", "macer"}
    sigma : float
        Training noise level.
    progress : callable(fraction, message), optional
    retrain : bool
        Ignore a cached file.
    **overrides
        Config entries to change (e.g. ``epochs=2`` in tests).

    Returns
    -------
    (model in eval mode, info) as :func:`robustcore.nets.cached_model`; ``info["config"]`` holds
    the method and sigma.
    """
    config = smoothing_model_config(method, sigma, **overrides)
    if method in ("plain", "cohen"):
        return default_model("digits-cnn", progress=progress, retrain=retrain, **config)
    return cached_model(f"digits-cnn-{method}", config, _build, _train, progress=progress, retrain=retrain)


def _build(config: dict) -> nn.Module:
    torch.manual_seed(config["seed"])
    return DigitsCNN(**config["arch_kwargs"])


# --------------------------------------------------------------------------- losses and attacks
def _soft_smoothed(model: nn.Module, x: torch.Tensor, noise: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """``(1/m) sum_i softmax(beta f(x + noise_i))``: x (b, ...), noise (m, b, ...) -> (b, K)."""
    m, b = noise.shape[0], noise.shape[1]
    logits = model((x.unsqueeze(0) + noise).flatten(0, 1))
    return F.softmax(beta * logits, dim=1).view(m, b, -1).mean(0)


def macer_loss(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    noise: torch.Tensor,
    sigma: float,
    lbd: float,
    gamma: float,
    beta: float,
) -> tuple[torch.Tensor, dict]:
    """MACER's loss (Zhai et al. 2020, Alg. 1) for one batch.

    ``L = (1/b) sum_j [ -log psi_y(x_j) + lbd * sigma/2 * relu(gamma - (Phi^-1(psi^beta_(1)) - Phi^-1(psi^beta_(2))))
    * 1[correct_j and |gap_j| <= gamma] ]`` with ``psi`` the mean soft-max over the noise draws
    (``psi^beta`` at inverse temperature beta). As in MACER, the hinge only acts on points that
    the soft classifier gets right and whose gap lies within gamma (the rest contribute 0, which
    also drops the infinite gaps of saturated probabilities).

    Parameters
    ----------
    model : nn.Module
        Logits out.
    x : Tensor (b, ...)
    y : Tensor (b,) int64
    noise : Tensor (m, b, ...)
        Draws of N(0, sigma^2 I).
    sigma, lbd, gamma, beta : float

    Returns
    -------
    (loss scalar, parts) with parts "classification" and "robustness" (floats).
    """
    check_training_batch(model, x, y, noise)
    for nm, v in (("sigma", sigma), ("lbd", lbd), ("gamma", gamma), ("beta", beta)):
        _pos(nm, v, allow_zero=nm == "lbd")
    b = x.shape[0]
    m = noise.shape[0]
    logits = model((x.unsqueeze(0) + noise).flatten(0, 1)).view(m, b, -1)
    psi = F.softmax(logits, dim=2).mean(0)
    cls = F.nll_loss(torch.log(psi + 1e-10), y, reduction="sum")
    psi_b = F.softmax(beta * logits, dim=2).mean(0)
    top, idx = psi_b.topk(2, dim=1)
    with torch.no_grad():
        gap0 = torch.special.ndtri(top[:, 0]) - torch.special.ndtri(top[:, 1])
        keep = (idx[:, 0] == y) & torch.isfinite(gap0) & (gap0.abs() <= gamma)
    # select before Phi^-1 so that saturated points (infinite gap) send no 0 * inf = NaN gradient
    sel = top[keep]
    gap = torch.special.ndtri(sel[:, 0]) - torch.special.ndtri(sel[:, 1])
    rob = F.relu(gamma - gap).sum() * sigma / 2
    loss = (cls + lbd * rob) / b
    return loss, {"classification": float(cls.detach()) / b, "robustness": float(rob.detach()) / b}


def smoothadv_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    noise: torch.Tensor,
    eps: float,
    steps: int,
    step_size: float | None = None,
) -> torch.Tensor:
    """SmoothAdv's l2 PGD on the smoothed soft classifier (Salman et al. 2019, Eq. 6 / SmoothAdv_PGD).

    Maximises ``-log( (1/m) sum_i softmax(f(x' + noise_i))_y )`` over ``||x' - x||_2 <= eps``
    with normalised-gradient steps from ``x``, projecting back on the ball and on [0, 1].

    Parameters
    ----------
    model : nn.Module
    x : Tensor (b, ...) in [0, 1]
    y : Tensor (b,)
    noise : Tensor (m, b, ...)
        Fixed noise draws (reused for training, as in SmoothAdv).
    eps : float
        l2 radius in pixel units.
    steps : int
    step_size : float, optional
        Defaults to ``2 eps / steps``.

    Returns
    -------
    Tensor (b, ...), detached adversarial inputs.
    """
    check_training_batch(model, x, y, noise)
    eps = _pos("eps", eps, allow_zero=True)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not (0 <= steps <= 10_000):
        raise ValueError(f"steps must be an integer in [0, 10000], got {steps!r}.")
    if step_size is not None:
        step_size = _pos("step_size", step_size)
    if eps <= 0 or steps <= 0:
        return x.detach().clone()
    step = 2.0 * eps / steps if step_size is None else step_size
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        delta = torch.zeros_like(x, requires_grad=True)
        for _ in range(steps):
            psi = _soft_smoothed(model, x + delta, noise)
            loss = F.nll_loss(torch.log(psi + 1e-10), y)
            (grad,) = torch.autograd.grad(loss, delta)
            norm = grad.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (x.dim() - 1)))
            d = delta.detach() + step * grad / norm
            d_norm = d.flatten(1).norm(dim=1).clamp_min(1e-12).view_as(norm)
            d = d * (eps / d_norm).clamp(max=1.0)
            d = (x + d).clamp(0.0, 1.0) - x
            delta = d.requires_grad_(True)
    finally:
        for p, f in zip(model.parameters(), flags):
            p.requires_grad_(f)
    return (x + delta).detach()


def _train(model: nn.Module, config: dict, progress: ProgressFn | None = None) -> dict:
    from robustcore.data import load_digits

    method, sigma = config["method"], float(config["sigma"])
    Xtr, ytr = load_digits("train")
    Xte, yte = load_digits("test")
    gen = torch.Generator().manual_seed(int(config["seed"]))
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    epochs, bs, m = int(config["epochs"]), int(config["batch_size"]), int(config["m"])
    n = Xtr.shape[0]
    last = float("nan")
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            xb, yb = Xtr[idx], ytr[idx]
            noise = sigma * torch.randn((m, *xb.shape), generator=gen)
            if method == "macer":
                loss, _ = macer_loss(model, xb, yb, noise, sigma, config["lbd"], config["gamma"], config["beta"])
            else:  # smoothadv; eps ramps up linearly over the warm-up epochs
                eps = float(config["eps"]) * min(1.0, epoch / max(1, int(config["warmup"])))
                model.eval()  # attack the deterministic classifier (no train-mode layers)
                x_adv = smoothadv_attack(model, xb, yb, noise, eps, int(config["steps"]))
                model.train()
                logits = model((x_adv.unsqueeze(0) + noise).flatten(0, 1))
                loss = F.cross_entropy(logits, yb.repeat(m))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        last = total / n
        if progress is not None:
            progress(epoch / epochs, f"{method} epoch {epoch}/{epochs}: loss {last:.3f}")
    model.eval()
    return {
        "train_acc": evaluate_accuracy(model, Xtr, ytr),
        "test_acc": evaluate_accuracy(model, Xte, yte),
        "test_noisy_acc": noisy_accuracy(model, Xte, yte, sigma, seed=1),
        "final_loss": last,
    }


@torch.inference_mode()
def noisy_accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, sigma: float, seed: int = 0, copies: int = 4) -> float:
    """Accuracy of the base classifier on ``copies`` Gaussian-noisy copies of each input.

    Parameters
    ----------
    model : nn.Module
    X : Tensor (N, ...) in [0, 1]; y : Tensor (N,)
    sigma : float
        Noise level.
    seed : int
    copies : int

    Returns
    -------
    float in [0, 1]
    """
    check_training_batch(model, X, y, name="X")
    sigma = _pos("sigma", sigma, allow_zero=True)
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or not (1 <= copies <= 1000):
        raise ValueError(f"copies must be an integer in [1, 1000], got {copies!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    if copies * X.numel() > 2**28:
        raise ValueError(f"copies * X.numel() = {copies * X.numel():,} exceeds the cap of {2**28:,} values (1 GiB).")
    model.eval()
    gen = torch.Generator().manual_seed(int(seed))
    noisy = X.unsqueeze(0) + sigma * torch.randn((copies, *X.shape), generator=gen)
    preds = model(noisy.flatten(0, 1)).argmax(1)
    return float((preds == y.repeat(copies)).float().mean())
