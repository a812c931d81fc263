"""PGD that records its path, with one l2 budget per example (for testing certified radii).

`robustcore.attacks.pgd_attack` takes one scalar eps and returns only the end point; the page
draws the whole path in feature space and the tests attack every image at its own certified
radius, hence this small variant.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["l2_pgd_path"]


def l2_pgd_path(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor | float,
    steps: int = 30,
    step_frac: float = 0.15,
    random_start: bool = False,
    clamp: tuple[float, float] | None = (0.0, 1.0),
    loss: str = "margin",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """l2 PGD maximising the margin (or cross-entropy) loss, returning every iterate.

    Parameters
    ----------
    model : (n, ...) -> (n, C) logits; x : (n, ...) inputs; y : (n,) labels to move away from.
    eps : scalar or (n,) l2 budgets (input units).
    steps : iterations; step_frac : step length as a fraction of eps (normalised gradient steps).
    random_start : start at a random point of the eps-sphere scaled by U(0, 1).
    clamp : valid input range or None. loss : "margin" (max_{j != y} z_j - z_y) or "ce".

    Returns
    -------
    (steps + 1, n, ...) iterates, the first the (possibly random) start; every iterate satisfies
    ||x_t - x|| <= eps (up to float rounding).
    """
    if loss not in ("margin", "ce"):
        raise ValueError(f"loss must be 'margin' or 'ce'; got {loss!r}.")
    n = x.shape[0]
    eps_t = torch.as_tensor(eps, dtype=x.dtype)
    if eps_t.ndim == 0:
        eps_t = eps_t.expand(n).clone()
    if eps_t.shape != (n,) or not torch.isfinite(eps_t).all() or (eps_t < 0).any():
        raise ValueError("eps must be a finite non-negative scalar or one value per example.")
    view = (-1, *([1] * (x.dim() - 1)))
    x = x.detach()
    if random_start:
        d = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        r = torch.rand((n,), generator=generator, dtype=x.dtype)
        delta = d / d.flatten(1).norm(dim=1).clamp_min(1e-12).view(view) * (eps_t * r).view(view)
    else:
        delta = torch.zeros_like(x)
    if clamp is not None:
        delta = (x + delta).clamp(*clamp) - x
    was = model.training
    model.eval()
    path = [(x + delta).detach()]
    for _ in range(steps):
        delta.requires_grad_(True)
        z = model(x + delta)
        if loss == "ce":
            obj = nn.functional.cross_entropy(z, y, reduction="sum")
        else:
            mask = nn.functional.one_hot(y, z.shape[1]).bool()
            obj = (z.masked_fill(mask, -torch.inf).max(1).values - z.gather(1, y[:, None]).squeeze(1)).sum()
        (g,) = torch.autograd.grad(obj, delta)
        with torch.no_grad():
            g = g / g.flatten(1).norm(dim=1).clamp_min(1e-12).view(view)
            delta = delta + (step_frac * eps_t).view(view) * g
            nrm = delta.flatten(1).norm(dim=1).clamp_min(1e-12)
            delta = delta * (eps_t / nrm).clamp(max=1.0).view(view)
            if clamp is not None:
                delta = (x + delta).clamp(*clamp) - x
        path.append((x + delta).detach())
    model.train(was)
    return torch.stack(path)
