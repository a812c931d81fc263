"""Adversaries for ClusTR: free adversarial training, QTRADES consistency, and the two evaluation attacks.

Training (as in the official code, ``utils/magnet_training.py``; re-implemented, not copied):

* **Free adversarial training** (Shafahi et al., NeurIPS 2019), ``free_replays``: each mini-batch is
  replayed m times; every replay takes ONE backward pass that gives both the weight gradient (an
  optimiser step on the magnet loss at x + delta) and the input gradient (delta <- clip(delta +
  eps * sign(grad_delta))). delta is carried over from one mini-batch to the next.
* **QTRADES** (the official README's main recipe), ``qtrades_consistency``: from cross-entropy
  weights, train with magnet loss + lambda * CE(p(x), scores(x')) where p is the L1-normalised soft
  scores of the clean input and x' one signed-gradient step (random start, step 10/255) that
  maximises that cross-entropy inside the l-inf ball; lambda = 8 in the README.

Evaluation, both l-inf PGD with random starts (``attack_accuracy``):

* ``"official"`` - the official evaluation (``utils/attacks.py``, after Wong et al.'s
  ``evaluate_cifar.py``): cross-entropy on the RAW soft exp-scores sum_{top-L m in c} exp(-d_m/2s^2)
  used as logits, fixed step 2/255, 20 steps x 10 restarts, examples stop moving once they are
  misclassified; judged by the soft rule. Those scores underflow towards 0 away from the centres, so
  the loss is flat there and the attack can stall: a weak attack, not a certificate.
* ``"ours"`` - the margin loss max_{j != y} z_j - z_y on the nearest-centre logits
  z_c = -min_{m in c} ||r - mu_m||^2 / (2 s^2), step 2.5 eps / steps (Madry et al.), same steps
  and restarts; judged by the nearest-centre rule (the rule the certificate covers).
* ``"soft-margin"`` - the margin loss on the soft LOG-scores (same decision rule as "official"),
  which separates a weak loss from a robust rule.

For linear-head (cross-entropy) models the official attack is cross-entropy on the logits and ours
the margin on the same logits. An example counts as robust only if no restart fools it (at least as
strong as the official keep-the-max-loss restart rule).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._checks import MAX_RESTARTS, MAX_STEPS, check_choice, check_float, check_int, check_labels, check_tensor
from .magnet import MagnetLoss
from .model import ClusterClassifier

__all__ = ["ATTACKS", "OFFICIAL_STEP", "attack_accuracy", "attack_fn", "free_replays", "qtrades_consistency",
           "soft_probs"]

ATTACKS = ("official", "ours", "soft-margin")
OFFICIAL_STEP = 2 / 255  # the official evaluation's fixed PGD step (ALPHA_STEP)


def _margin(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    true = z.gather(1, y[:, None]).squeeze(1)
    other = z.masked_fill(nn.functional.one_hot(y, z.shape[1]).bool(), -torch.inf).max(dim=1).values
    return other - true


def attack_fn(model: nn.Module, attack: str, L: int = 20) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
    """The function an attack differentiates (inputs -> (n, C) outputs whose argmax is the decision
    judged) and its loss ("ce" or "margin"). See the module docstring."""
    check_choice("attack", attack, ATTACKS)
    if isinstance(model, ClusterClassifier):
        if attack == "official":
            return (lambda x: model.soft_scores(x, L)), "ce"
        if attack == "soft-margin":
            return (lambda x: model.soft_logits(x, L)), "margin"
        return model, "margin"
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module; got {type(model).__name__}.")
    return model, ("ce" if attack == "official" else "margin")


def attack_accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, eps: float, attack: str = "official",
                    steps: int = 20, restarts: int = 10, step_size: float | None = None, L: int = 20,
                    seed: int = 0, batch: int = 500) -> float:
    """Accuracy under an l-inf PGD attack (an upper bound on robust accuracy, not a certificate).

    Parameters
    ----------
    model : ClusterClassifier or a logits model; X : (n, C, H, W) in [0, 1]; y : (n,) labels.
    eps : l-inf radius in pixel units; attack : "official", "ours" or "soft-margin" (module docstring).
    steps, restarts : PGD iterations and random restarts (official: 20 and 10).
    step_size : default 2/255 for "official", 2.5 * eps / steps otherwise.
    L : nearest centres in the soft scores (official evaluation: 20).
    seed : random starts; batch : rows attacked at once.

    Returns
    -------
    Fraction of X still classified correctly after every restart, by the attacked rule.
    """
    X = check_tensor("X", X, ndim_min=2)
    y = check_labels("y", y, X.shape[0])
    eps = check_float("eps", eps, 0.0, 1.0)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    restarts = check_int("restarts", restarts, 1, MAX_RESTARTS)
    L = check_int("L", L, 1, 4096)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    batch = check_int("batch", batch, 1, 100_000)
    if step_size is None:
        step = OFFICIAL_STEP if attack == "official" else 2.5 * eps / steps
    else:
        step = check_float("step_size", step_size, 0.0, 1.0, lo_open=True)
    f, loss = attack_fn(model, attack, L)
    if X.shape[0] == 0:
        return float("nan")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    ok_all = []
    try:
        for s in range(0, X.shape[0], batch):
            xb, yb = X[s : s + batch].to(dev), y[s : s + batch].to(dev)
            with torch.no_grad():
                ok = f(xb).argmax(1) == yb
            if eps > 0:
                for _ in range(restarts):
                    ok &= _pgd_restart(f, loss, xb, yb, eps, steps, step, gen)
            ok_all.append(ok.cpu())
    finally:
        model.train(was)
    return float(torch.cat(ok_all).float().mean())


def _pgd_restart(f, loss: str, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int, step: float,
                 gen: torch.Generator) -> torch.Tensor:
    """One random-start l-inf PGD run with per-example early stopping; True where x stays correct."""
    delta = ((torch.rand(x.shape, generator=gen) * 2 - 1) * eps).to(x.device)
    delta = (x + delta).clamp(0, 1) - x
    for _ in range(steps):
        delta.requires_grad_(True)
        out = f(x + delta)
        active = out.argmax(1) == y
        if not active.any():
            delta = delta.detach()
            break
        obj = nn.functional.cross_entropy(out, y, reduction="sum") if loss == "ce" else _margin(out, y).sum()
        (g,) = torch.autograd.grad(obj, delta)
        with torch.no_grad():
            new = (delta + step * g.sign()).clamp(-eps, eps)
            new = (x + new).clamp(0, 1) - x
            delta = torch.where(active.view(-1, *([1] * (x.dim() - 1))), new, delta.detach())
    with torch.no_grad():
        return f(x + delta).argmax(1) == y


def soft_probs(model: ClusterClassifier, x: torch.Tensor, L: int = 20) -> torch.Tensor:
    """L1-normalised soft scores (n, C) (the official ``get_softmax_probs``), 0/0 rows -> uniform."""
    s = model.soft_scores(x, L)
    tot = s.sum(dim=1, keepdim=True)
    return torch.where(tot > 0, s / tot.clamp_min(1e-300), torch.full_like(s, 1.0 / s.shape[1]))


def _soft_ce(target: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Cross-entropy between a target distribution and scores used as logits (the official cross_ent)."""
    return -(target * nn.functional.log_softmax(scores, dim=1)).sum(dim=1).mean()


def qtrades_consistency(model: ClusterClassifier, x: torch.Tensor, eps: float, step: float = 10 / 255,
                        L: int = 20, generator: torch.Generator | None = None) -> torch.Tensor:
    """QTRADES consistency term CE(p(x), scores(x')) (differentiable in the model's weights).

    x' = clip(x + u + step * sign(grad CE(p(x), scores(x + u)))), u ~ U[-eps, eps]: one signed step
    from a random start, as the official ``attack_instances_consistency(iterations=1, rand=True)``.
    The clean probabilities p(x) stay in the graph (as in the official code).
    """
    eps = check_float("eps", eps, 0.0, 1.0)
    step = check_float("step", step, 0.0, 1.0)
    probs = soft_probs(model, x, L)
    u = ((torch.rand(x.shape, generator=generator) * 2 - 1) * eps).to(x.device)
    xa = (x + u).clamp(0, 1).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(_soft_ce(probs.detach(), model.soft_scores(xa, L)), xa)
    with torch.no_grad():
        xa = x + (xa + step * g.sign() - x).clamp(-eps, eps)
        xa = xa.clamp(0, 1)
    return _soft_ce(probs, model.soft_scores(xa, L))


def free_replays(model: ClusterClassifier, opt: torch.optim.Optimizer, loss_fn: MagnetLoss, xb: torch.Tensor,
                 yb: torch.Tensor, clusters: torch.Tensor, delta: torch.Tensor | None, eps: float,
                 replays: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Free adversarial training on one magnet mini-batch: `replays` optimiser steps, each also an
    ascent step of size eps on delta (one backward pass for both), delta clipped to the eps-ball and
    to valid pixels. Returns (delta for the next mini-batch, per-example magnet losses at the end)."""
    if delta is None or delta.shape != xb.shape:
        delta = torch.zeros_like(xb)
    delta = delta.detach()
    for _ in range(replays):
        delta.requires_grad_(True)
        loss = loss_fn(model.embed(xb + delta), yb, clusters)
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():
            delta = (delta + eps * delta.grad.sign()).clamp(-eps, eps)
            delta = (xb + delta).clamp(0, 1) - xb
        opt.step()
    with torch.no_grad():
        per = loss_fn(model.embed(xb + delta), yb, clusters, reduction="none")
    return delta.detach(), per
