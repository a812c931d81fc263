"""Training loops for the small models (with optional Gaussian-noise augmentation)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

ProgressFn = Callable[[float, str], None]


def _as_tensors(X, y) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y, dtype=torch.int64)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels.")
    if X.shape[0] == 0:
        raise ValueError("Cannot train on an empty dataset.")
    if not torch.isfinite(X).all():
        raise ValueError("The training inputs contain NaN or infinite values.")
    return X, y


def train_classifier(
    model: nn.Module,
    X,
    y,
    epochs: int = 30,
    lr: float = 1e-2,
    batch_size: int = 64,
    noise_sigma: float = 0.0,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    regularizer: Callable[[nn.Module], torch.Tensor] | None = None,
    progress: ProgressFn | None = None,
    snapshot_every: int | None = None,
) -> list[dict]:
    """Train ``model`` in place with Adam on (X, y) and return the history.

    Parameters
    ----------
    model : the network, logits out.
    X : (N, ...) inputs (tensor or array); y : (N,) integer labels.
    epochs, lr, batch_size, weight_decay : the optimiser's settings.
    noise_sigma : if > 0, each batch is augmented with N(0, noise_sigma^2 I) noise in input space
        (Cohen et al.'s Gaussian augmentation for randomized smoothing).
    seed : seeds the shuffling, the noise and nothing else (initialise the model before).
    loss_fn : defaults to cross-entropy on logits.
    regularizer : ``regularizer(model)`` -> scalar added to every batch loss.
    progress : ``progress(fraction, message)`` callback, called once per epoch.
    snapshot_every : if set, every that many epochs the history row carries a ``state`` copy of the
        weights (for pages that replay training).

    Returns
    -------
    list of dicts, one per epoch: epoch, loss, train_acc (and state when snapshotting).
    """
    if epochs < 0 or batch_size < 1 or not (lr > 0):
        raise ValueError(f"need epochs >= 0, batch_size >= 1 and lr > 0, not {epochs}, {batch_size}, {lr}.")
    if noise_sigma < 0:
        raise ValueError(f"noise_sigma must be >= 0, not {noise_sigma}.")
    X, y = _as_tensors(X, y)
    model.to(device)
    X, y = X.to(device), y.to(device)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = loss_fn or nn.functional.cross_entropy
    history: list[dict] = []
    n = X.shape[0]
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        total, correct, seen = 0.0, 0, 0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            xb, yb = X[idx], y[idx]
            if noise_sigma > 0:
                xb = xb + noise_sigma * torch.randn(xb.shape, generator=gen).to(device)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            if regularizer is not None:
                loss = loss + regularizer(model)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
        row = {"epoch": epoch, "loss": total / seen, "train_acc": correct / seen}
        if snapshot_every and epoch % snapshot_every == 0:
            row["state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        history.append(row)
        if progress is not None:
            progress(epoch / epochs, f"epoch {epoch}/{epochs}: loss {row['loss']:.3f}")
    model.eval()
    return history


@torch.inference_mode()
def predict(model: nn.Module, X, batch_size: int = 1024, device: str = "cpu") -> torch.Tensor:
    """Arg-max predictions of ``model`` on X, (N,) int64 on the CPU."""
    X = torch.as_tensor(X, dtype=torch.float32)
    model.eval().to(device)
    out = [model(X[i : i + batch_size].to(device)).argmax(1).cpu() for i in range(0, X.shape[0], batch_size)]
    return torch.cat(out) if out else torch.empty(0, dtype=torch.int64)


def evaluate_accuracy(model: nn.Module, X, y, batch_size: int = 1024, device: str = "cpu") -> float:
    """Fraction of X that ``model`` classifies as y."""
    y = torch.as_tensor(y, dtype=torch.int64)
    if len(y) == 0:
        raise ValueError("Cannot evaluate on an empty dataset.")
    return float((predict(model, X, batch_size, device) == y).float().mean())
