"""Projected gradient descent (Madry et al.) and FGSM, shared by every research line."""
from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import torch
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


MAX_STEPS = 100_000  # a documented cap: more iterations than any published protocol (200 x 10 restarts)
MAX_RESTARTS = 1_000


def _check(x: torch.Tensor, y: torch.Tensor, eps: float, norm: str, steps: int = 1, restarts: int = 1,
           step_size: float | None = None, clamp: tuple[float, float] | None = None) -> None:
    """Refuse bad arguments with one sentence before any forward pass."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("x and y must be torch tensors.")
    if x.is_complex() or not x.is_floating_point():
        raise TypeError(f"x must be a real floating-point tensor, got {x.dtype}.")
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"y must hold integer class labels, got {y.dtype}.")
    if x.dim() < 2 or y.dim() != 1:
        raise ValueError(f"x must be (n, ...) with a batch dimension and y (n,), got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}.")
    if norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2', not {norm!r}.")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not (0 <= eps < float("inf")):
        raise ValueError(f"eps must be a finite number >= 0, not {eps!r}.")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in [0, {MAX_STEPS}], not {steps!r}.")
    if isinstance(restarts, bool) or not isinstance(restarts, numbers.Integral) or not 1 <= restarts <= MAX_RESTARTS:
        raise ValueError(f"restarts must be an integer in [1, {MAX_RESTARTS}], not {restarts!r}.")
    if step_size is not None and not (isinstance(step_size, numbers.Real) and 0 < step_size < float("inf")):
        raise ValueError(f"step_size must be a finite number > 0, not {step_size!r}.")
    if clamp is not None:
        lo, hi = clamp
        if not (float(lo) < float(hi)) or not all(abs(float(v)) < float("inf") for v in clamp):
            raise ValueError(f"clamp must be a finite (low, high) pair with low < high, not {clamp!r}.")
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
    restarts: int = 1,
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
    restarts : run PGD this many times (each from its own random start) and keep, per example, the first
        restart that changes the prediction, else the one with the highest loss (the strong protocol of
        published evaluations, e.g. 20 steps x 10 restarts).

    Returns
    -------
    x_adv : (n, ...) tensor with ||x_adv - x|| <= eps (up to float rounding) inside ``clamp``.

    Raises
    ------
    TypeError, ValueError
        One sentence naming the argument: non-tensor or complex input, NaN/inf, negative or infinite eps,
        steps outside [0, MAX_STEPS], restarts outside [1, MAX_RESTARTS], a bad clamp.
    """
    _check(x, y, eps, norm, steps, restarts, step_size, clamp)
    loss_fn = loss_fn or nn.functional.cross_entropy
    x = x.detach()
    if eps == 0 or steps == 0:
        return x.clone()
    if restarts > 1:
        return _best_of_restarts(model, x, y, eps, norm, steps, step_size, random_start, clamp, loss_fn,
                                 generator, restarts)
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


def _best_of_restarts(model, x, y, eps, norm, steps, step_size, random_start, clamp, loss_fn, generator,
                      restarts) -> torch.Tensor:
    per_example = lambda logits, t: nn.functional.cross_entropy(logits, t, reduction="none")  # noqa: E731
    best = x.clone()
    best_loss = torch.full((x.shape[0],), -float("inf"), device=x.device)
    fooled = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    was_training = model.training
    for _ in range(restarts):
        xa = pgd_attack(model, x, y, eps, norm, steps, step_size, random_start, clamp, loss_fn, generator)
        model.eval()
        with torch.no_grad():
            logits = model(xa)
            now_fooled = logits.argmax(1) != y
            loss = per_example(logits, y)
        take = ~fooled & (now_fooled | (loss > best_loss))
        best[take] = xa[take]
        best_loss = torch.where(take, loss, best_loss)
        fooled |= now_fooled
        if bool(fooled.all()):
            break
    model.train(was_training)
    return best


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
    restarts: int = 1,
) -> dict[float, float]:
    """Accuracy under PGD at each eps (eps = 0 is clean accuracy); an upper bound on true robust accuracy.

    ``restarts`` > 1 keeps, per example, the first restart that fools the model (see :func:`pgd_attack`).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}.")
    for eps in eps_list:
        _check(X[:1], y[:1], eps, norm, steps, restarts,
               clamp=clamp)
    out: dict[float, float] = {}
    gen = torch.Generator().manual_seed(int(seed))
    for eps in eps_list:
        correct = 0
        for i in range(0, X.shape[0], batch_size):
            xb, yb = X[i : i + batch_size], y[i : i + batch_size]
            xa = (pgd_attack(model, xb, yb, float(eps), norm, steps, clamp=clamp, generator=gen, restarts=restarts)
                  if eps > 0 else xb)
            with torch.no_grad():
                correct += int((model(xa).argmax(1) == yb).sum())
        out[float(eps)] = correct / max(1, X.shape[0])
    return out
