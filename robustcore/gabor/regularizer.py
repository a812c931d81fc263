"""Regularisers that lower the Gabor layer's Lipschitz bound, as loss terms with a weight.

* ``"paper"``: Pérez et al. (ECCV 2020) add ``-beta sum_i sigma_i^2`` to the cross-entropy; a
  larger sigma^2 (inverse width) narrows the envelope and lowers every factor of the bound.
  The term is unbounded below: the cross-entropy is what keeps sigma finite.
* ``"bound"``: ``beta * ||W||_2 sqrt(sum_f L_f^2)``, the closed-form layer bound itself,
  differentiated through the same sympy expression that :mod:`.bound` evaluates (it also acts
  on the scales alpha and on the 1 x 1 mixing).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .bound import lipschitz_upper_bound_torch
from .layer import GaborConv2d
from .validate import check_choice, check_int, check_real

__all__ = ["sigma_regularizer", "bound_regularizer", "gabor_layers", "make_regularizer", "regularizer_path",
           "REGULARIZERS"]

REGULARIZERS = ("paper", "bound")


def gabor_layers(model: nn.Module) -> list[GaborConv2d]:
    """Every :class:`GaborConv2d` inside ``model`` (itself included)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    return [m for m in model.modules() if isinstance(m, GaborConv2d)]


def _check_layer(layer) -> None:
    if not isinstance(layer, GaborConv2d):
        raise TypeError(f"layer must be a GaborConv2d, got {type(layer).__name__}.")


def sigma_regularizer(layer: GaborConv2d, beta: float, reduction: str = "sum") -> torch.Tensor:
    """The paper's term ``-beta sum_i sigma_i^2`` (``reduction="sum"``, ours) or ``-beta mean_i sigma_i^2``
    (``"mean"``, the official code's ``-lambda * mean(sigma^2)``) over the layer's families (scalar tensor)."""
    _check_layer(layer)
    beta = check_real("beta", beta, 0.0, 1e3)
    check_choice("reduction", reduction, ("sum", "mean"))
    s2 = layer.sigma**2
    return -beta * (torch.sum(s2) if reduction == "sum" else torch.mean(s2))


def bound_regularizer(layer: GaborConv2d, beta: float, include_mixing: bool = True) -> torch.Tensor:
    """``beta`` times the closed-form layer bound ``||W||_2 sqrt(sum_f L_f^2)`` (scalar tensor)."""
    _check_layer(layer)
    beta = check_real("beta", beta, 0.0, 1e3)
    return beta * lipschitz_upper_bound_torch(layer, include_mixing=include_mixing)


def make_regularizer(kind: str = "paper", beta: float = 1e-2,
                     reduction: str = "sum") -> Callable[[nn.Module], torch.Tensor]:
    """A ``regularizer(model) -> scalar`` for ``robustcore.nets.train_classifier``.

    Sums the chosen term over every Gabor layer in the model; ``reduction`` ("sum" or "mean") is
    how the paper's term combines the families' sigma^2. Raises ``ValueError`` for an unknown kind
    or a weight outside [0, 1000], and (when called) for a model with no Gabor layer.
    """
    check_choice("kind", kind, REGULARIZERS)
    check_choice("reduction", reduction, ("sum", "mean"))
    beta = check_real("the regulariser weight beta", beta, 0.0, 1e3)

    def term(layer: GaborConv2d, b: float) -> torch.Tensor:
        if kind == "paper":
            return sigma_regularizer(layer, b, reduction)
        return bound_regularizer(layer, b)

    def regularizer(model: nn.Module) -> torch.Tensor:
        layers = gabor_layers(model)
        if not layers:
            raise ValueError("the model has no Gabor layer to regularise.")
        return sum(term(layer, beta) for layer in layers)

    return regularizer


def regularizer_path(
    layer: GaborConv2d,
    kind: str = "paper",
    steps: int = 50,
    lr: float = 0.05,
    input_hw: int = 32,
) -> dict[str, "np.ndarray"]:
    """Descend the regulariser alone (Adam, on a copy of ``layer``) and record the constants.

    Shows what the loss term does without the data term: the paper's term grows sigma^2, the bound
    term shrinks the closed-form bound directly (also through alpha and the 1 x 1 mixing).

    Returns
    -------
    dict of (steps + 1,) arrays: ``step``, ``bank_bound`` (sqrt(sum L_f^2)), ``bank_exact`` (exact
    circular norm of the bank on ``input_hw``), ``layer_bound``, ``layer_exact_product``, and
    ``sigma`` (steps + 1, P).
    """
    import copy

    import numpy as np

    from .bound import lipschitz_report

    _check_layer(layer)
    check_choice("kind", kind, REGULARIZERS)
    steps = check_int("steps", steps, 1, 2000)
    lr = check_real("lr", lr, 0.0, 10.0, lo_open=True, hi_open=True)
    input_hw = check_int("input_hw", input_hw, 1, 256)
    work = copy.deepcopy(layer).double()
    reg = make_regularizer(kind, 1.0)
    opt = torch.optim.Adam(work.parameters(), lr=float(lr))
    rows = []
    for i in range(int(steps) + 1):
        rep = lipschitz_report(work, input_hw)
        rows.append((i, rep["bank_bound"], rep["bank_exact"], rep["layer_bound"], rep["layer_exact_product"],
                     work.sigma.detach().cpu().numpy().copy()))
        if i == steps:
            break
        opt.zero_grad()
        reg(work).backward()
        opt.step()
    keys = ("step", "bank_bound", "bank_exact", "layer_bound", "layer_exact_product")
    out = {k: np.array([r[j] for r in rows], dtype=float) for j, k in enumerate(keys)}
    out["sigma"] = np.stack([r[5] for r in rows])
    return out
