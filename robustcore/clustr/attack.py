"""PGD that records its path, with one l2 budget per example (for testing certified radii).

`robustcore.attacks.pgd_attack` takes one scalar eps and returns only the end point; the page
draws the whole path in feature space and the tests attack every image at its own certified
radius, hence this small variant.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._checks import MAX_ELEMENTS, MAX_STEPS, check_choice, check_float, check_int, check_labels, check_tensor

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
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module; got {type(model).__name__}.")
    x = check_tensor("x", x, ndim_min=2)
    n = x.shape[0]
    if n == 0:
        raise ValueError("x must hold at least one input.")
    y = check_labels("y", y, n)
    steps = check_int("steps", steps, 0, MAX_STEPS)
    step_frac = check_float("step_frac", step_frac, lo=0.0, hi=10.0, lo_open=True)
    if not isinstance(random_start, (bool, np.bool_)):
        raise TypeError(f"random_start must be a bool; got {type(random_start).__name__}.")
    check_choice("loss", loss, ("margin", "ce"))
    if clamp is not None:
        if not isinstance(clamp, (tuple, list)) or len(clamp) != 2:
            raise TypeError("clamp must be None or a (low, high) pair.")
        lo_c, hi_c = check_float("clamp[0]", clamp[0]), check_float("clamp[1]", clamp[1])
        if lo_c > hi_c:
            raise ValueError(f"clamp must satisfy low <= high; got {clamp}.")
        clamp = (lo_c, hi_c)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None; got {type(generator).__name__}.")
    if (steps + 1) * x.numel() > MAX_ELEMENTS:
        raise ValueError(f"the stored path would hold {(steps + 1) * x.numel()} numbers, above the cap of "
                         f"{MAX_ELEMENTS}; attack fewer inputs or use fewer steps.")
    if isinstance(eps, (str, bytes)) or eps is None:
        raise TypeError(f"eps must be a number or a tensor; got {type(eps).__name__}.")
    try:
        eps_t = torch.as_tensor(eps, dtype=x.dtype)
    except (TypeError, RuntimeError, ValueError):
        raise TypeError(f"eps must be a real number or a tensor of reals; got {type(eps).__name__}.") from None
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
    try:
        with torch.no_grad():
            z0 = model(x[:1])
    except RuntimeError as exc:
        model.train(was)
        raise ValueError(f"model cannot take inputs of shape {tuple(x.shape[1:])}: {str(exc).splitlines()[0]}") from None
    if z0.ndim != 2 or int(y.max()) >= z0.shape[1]:
        model.train(was)
        raise ValueError(f"y must index the model's {z0.shape[-1]} outputs; got labels up to {int(y.max())}.")
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
