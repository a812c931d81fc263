"""Bound and exact constant of one Gabor kernel as a parameter sweeps (for the page's curves)."""
from __future__ import annotations

import numpy as np
import torch

from .bound import closed_form_bound
from .kernel import paper_gabor_kernels
from .spectral import _check_hw, per_filter_spectral_norms
from .validate import MAX_KERNEL_SIZE, check_array, check_choice, check_int, check_real

__all__ = ["single_kernel", "bound_sweep", "SWEEPABLE"]

SWEEPABLE = ("sigma", "gamma", "lambd", "psi", "theta", "alpha")


def single_kernel(kernel_size: int, sigma: float, gamma: float, lambd: float, psi: float, theta: float,
                  alpha: float = 1.0) -> np.ndarray:
    """One kernel of the paper's eq. (1) on ``linspace(-1, 1, k)``; (k, k) float64, k <= 255."""
    kernel_size = check_int("kernel_size", kernel_size, 1, MAX_KERNEL_SIZE)
    sigma, gamma, lambd, psi, theta, alpha = (check_real(n, v) for n, v in zip(
        ("sigma", "gamma", "lambd", "psi", "theta", "alpha"), (sigma, gamma, lambd, psi, theta, alpha)))
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
    check_choice("param", param, SWEEPABLE)
    vals = check_array("values", values, max_size=2000).ravel()
    if vals.size == 0:
        raise ValueError("the sweep needs 1 to 2000 finite values.")
    if not isinstance(base, dict):
        raise TypeError(f"base must be a dict of parameters, got {type(base).__name__}.")
    k = check_int("kernel_size", kernel_size, 1, MAX_KERNEL_SIZE)
    n, m = _check_hw(input_hw)
    if vals.size * n * (m // 2 + 1) > 2**24 or vals.size * k * k > 10**7:
        raise ValueError("the sweep is too large (values x input pixels over 2**24); use fewer values or a smaller input.")
    p = {key: np.full(vals.size, check_real(key, base.get(key, 1.0 if key == "alpha" else 0.0))) for key in SWEEPABLE}
    p[param] = vals
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
