"""Projected gradient descent (Madry et al.) and FGSM, shared by every research line."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check(x: torch.Tensor, y: torch.Tensor, eps: float, norm: str) -> None:
    if norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2', not {norm!r}.")
    if not (eps >= 0) or eps != eps:
        raise ValueError(f"eps must be >= 0, not {eps}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]} labels.")
    if not torch.isfinite(x).all():
        raise ValueError("The inputs contain NaN or infinite values.")


def _flat_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def _project(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    if norm == "linf":
        return delta.clamp(-eps, eps)
    return delta * (eps / _flat_norm(delta)).clamp(max=1.0)


def pgd_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    norm: str = "linf",
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
    clamp: tuple[float, float] | None = (0.0, 1.0),
    loss_fn: LossFn | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Untargeted PGD: maximise ``loss_fn(model(x + delta), y)`` over ||delta|| <= eps.

    Parameters
    ----------
    model : maps (n, ...) inputs to (n, k) logits.
    x : (n, ...) clean inputs; y : (n,) true labels.
    eps : radius of the threat model, in input units (pixel scale [0, 1] for images).
    norm : "linf" (sign-gradient steps) or "l2" (normalised-gradient steps).
    steps : number of iterations; step_size defaults to 2.5 eps / steps (Madry et al.).
    random_start : start uniformly in the l-inf ball, or on a random direction of the l2 ball.
    clamp : valid input range, or None for unbounded inputs (e.g. 2-D toy data).
    loss_fn : defaults to cross-entropy.
    generator : seeds the random start.

    Returns
    -------
    x_adv : (n, ...) tensor with ||x_adv - x|| <= eps (up to float rounding) inside ``clamp``.
    """
    _check(x, y, eps, norm)
    loss_fn = loss_fn or nn.functional.cross_entropy
    x = x.detach()
    if eps == 0 or steps <= 0:
        return x.clone()
    step_size = 2.5 * eps / steps if step_size is None else step_size
    was_training = model.training
    model.eval()
    if random_start:
        if norm == "linf":
            delta = (torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2 - 1).to(x.device) * eps
        else:
            d = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            r = torch.rand((x.shape[0],), generator=generator, dtype=x.dtype).to(x.device)
            delta = d / _flat_norm(d) * eps * r.view(-1, *([1] * (x.dim() - 1)))
    else:
        delta = torch.zeros_like(x)
    if clamp is not None:
        delta = (x + delta).clamp(*clamp) - x
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = loss_fn(model(x + delta), y)
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            if norm == "linf":
                delta = delta + step_size * grad.sign()
            else:
                delta = delta + step_size * grad / _flat_norm(grad)
            delta = _project(delta, eps, norm)
            if clamp is not None:
                delta = (x + delta).clamp(*clamp) - x
    model.train(was_training)
    return (x + delta).detach()


def fgsm_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    random_start: bool = False,
    alpha: float | None = None,
    clamp: tuple[float, float] | None = (0.0, 1.0),
    loss_fn: LossFn | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """FGSM (Goodfellow et al.), or with ``random_start`` the "fast adversarial training" step of
    Wong et al. (uniform start in the eps-ball, one sign step of size ``alpha`` = 1.25 eps, projected).

    Shapes as :func:`pgd_attack`; l-inf threat model.
    """
    if random_start:
        alpha = 1.25 * eps if alpha is None else alpha
        return pgd_attack(model, x, y, eps, "linf", 1, alpha, True, clamp, loss_fn, generator)
    return pgd_attack(model, x, y, eps, "linf", 1, eps, False, clamp, loss_fn, generator)


def robust_accuracy(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    eps_list: Sequence[float],
    norm: str = "linf",
    steps: int = 10,
    batch_size: int = 256,
    clamp: tuple[float, float] | None = (0.0, 1.0),
    seed: int = 0,
) -> dict[float, float]:
    """Accuracy under PGD at each eps (eps = 0 is clean accuracy); an upper bound on true robust accuracy."""
    out: dict[float, float] = {}
    gen = torch.Generator().manual_seed(int(seed))
    for eps in eps_list:
        correct = 0
        for i in range(0, X.shape[0], batch_size):
            xb, yb = X[i : i + batch_size], y[i : i + batch_size]
            xa = pgd_attack(model, xb, yb, float(eps), norm, steps, clamp=clamp, generator=gen) if eps > 0 else xb
            with torch.no_grad():
                correct += int((model(xa).argmax(1) == yb).sum())
        out[float(eps)] = correct / max(1, X.shape[0])
    return out
