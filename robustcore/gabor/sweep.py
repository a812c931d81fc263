"""Bound and exact constant of one Gabor kernel as a parameter sweeps (for the page's curves)."""
from __future__ import annotations

import numpy as np
import torch

from .bound import closed_form_bound
from .kernel import paper_gabor_kernels
from .spectral import per_filter_spectral_norms

__all__ = ["single_kernel", "bound_sweep", "SWEEPABLE"]

SWEEPABLE = ("sigma", "gamma", "lambd", "psi", "theta", "alpha")


def single_kernel(kernel_size: int, sigma: float, gamma: float, lambd: float, psi: float, theta: float,
                  alpha: float = 1.0) -> np.ndarray:
    """One kernel of the paper's eq. (1) on ``linspace(-1, 1, k)``; (k, k) float64."""
    t = lambda v: torch.tensor([float(v)], dtype=torch.float64)  # noqa: E731
    bank = paper_gabor_kernels(t(sigma), t(gamma), t(lambd), t(psi), t(theta), int(kernel_size), t(alpha))
    return bank[0, 0].numpy()


def bound_sweep(param: str, values, base: dict[str, float], kernel_size: int, input_hw: int) -> dict[str, np.ndarray]:
    """Closed-form bound, exact circular spectral norm and l1 norm of one kernel as ``param`` varies.

    Parameters
    ----------
    param : one of ``SWEEPABLE``.
    values : (V,) values of that parameter.
    base : the other parameters (sigma, gamma, lambd, psi, theta, alpha), paper convention.
    kernel_size, input_hw : k and the input side n of the circular convolution.

    Returns
    -------
    dict with ``values``, ``bound``, ``exact``, ``l1``, each (V,); ``exact <= l1 <= bound``.
    """
    if param not in SWEEPABLE:
        raise ValueError(f"cannot sweep {param!r}; choose one of {SWEEPABLE}.")
    vals = np.asarray(values, dtype=np.float64).ravel()
    if vals.size == 0 or vals.size > 2000 or not np.all(np.isfinite(vals)):
        raise ValueError("the sweep needs 1 to 2000 finite values.")
    p = {k: np.full(vals.size, float(base.get(k, 1.0 if k == "alpha" else 0.0))) for k in SWEEPABLE}
    p[param] = vals
    k = int(kernel_size)
    t = np.linspace(-1, 1, k) if k > 1 else np.zeros(1)
    x, y = np.meshgrid(t, t, indexing="xy")
    e = lambda v: v[:, None, None]  # noqa: E731
    c, s = np.cos(e(p["theta"])), np.sin(e(p["theta"]))
    xr, yr = x * c - y * s, x * s + y * c
    bank = e(p["alpha"]) * np.exp(-e(p["sigma"]) ** 2 * (xr**2 + e(p["gamma"]) ** 2 * yr**2)) * np.cos(
        e(p["lambd"]) * xr + e(p["psi"]))
    return {
        "values": vals,
        "bound": closed_form_bound(p["sigma"], p["gamma"], p["alpha"], p["theta"], k),
        "exact": per_filter_spectral_norms(bank, input_hw),
        "l1": np.abs(bank).sum(axis=(1, 2)),
    }
