"""Gabor kernels: OpenCV's parameter convention (numpy) and the paper's parametrisation (torch).

Two conventions live here, and the page shows both:

* :func:`gabor_kernel` follows OpenCV's ``getGaborKernel(ksize, sigma, theta, lambd, gamma, psi)``
  on integer pixel coordinates (sigma = width in pixels, lambd = wavelength in pixels);
* :func:`paper_gabor_kernels` follows Pérez et al., "Gabor Layers Enhance Network Robustness"
  (ECCV 2020), eq. (1): sigma is an *inverse* width and lambda an angular frequency on the grid
  ``linspace(-1, 1, k)``; it is differentiable in torch and feeds :class:`GaborConv2d`.

:func:`paper_to_opencv` converts between them.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .validate import MAX_KERNEL_SIZE, MAX_ORIENTATIONS, check_array, check_int, check_real

__all__ = [
    "gabor_kernel",
    "paper_grid",
    "rotated_grid",
    "paper_gabor_kernels",
    "paper_to_opencv",
    "orientations_for",
]


def gabor_kernel(
    size: int,
    sigma: float,
    theta: float,
    lambd: float,
    psi: float = 0.0,
    gamma: float = 1.0,
) -> np.ndarray:
    """Real Gabor kernel in OpenCV's parameter convention.

    ``g(x, y) = exp(-(x'^2 + gamma^2 y'^2) / (2 sigma^2)) cos(2 pi x' / lambd + psi)`` with
    ``x' = x cos(theta) + y sin(theta)``, ``y' = -x sin(theta) + y cos(theta)`` at pixel
    coordinates centred on the kernel; rows are y (downwards), columns are x.

    Parameters
    ----------
    size : int
        Kernel side in pixels, 1 to ``MAX_KERNEL_SIZE`` (255). Odd sizes centre on a pixel; even sizes use half-integer
        coordinates (OpenCV itself returns ``size + 1`` pixels for an even ``ksize``).
    sigma : float
        Standard deviation of the Gaussian envelope, pixels (> 0).
    theta : float
        Orientation of the normal to the stripes, radians.
    lambd : float
        Wavelength of the cosine carrier, pixels (> 0).
    psi : float
        Phase offset, radians.
    gamma : float
        Spatial aspect ratio of the envelope (> 0).

    Returns
    -------
    np.ndarray
        (size, size) float64 kernel ``K[i, j] = g(x=j - c, y=i - c)``, ``c = (size - 1) / 2``.
        OpenCV's ``getGaborKernel`` fills the same values in reversed index order (its kernel is
        this one rotated by 180 degrees); scikit-image's ``gabor_kernel(1 / lambd, theta,
        sigma_x=sigma, sigma_y=sigma / gamma, offset=psi)`` has real part ``g / (2 pi sigma^2 /
        gamma)`` in the same order as this one.
    """
    size = check_int("size", size, 1, MAX_KERNEL_SIZE)
    sigma = check_real("sigma", sigma, 0.0, None, lo_open=True)
    lambd = check_real("lambd", lambd, 0.0, None, lo_open=True)
    gamma = check_real("gamma", gamma, 0.0, None, lo_open=True)
    theta = check_real("theta", theta)
    psi = check_real("psi", psi)
    c = (size - 1) / 2.0
    coords = np.arange(size, dtype=np.float64) - c
    x = coords[None, :]
    y = coords[:, None]
    ct, st = math.cos(theta), math.sin(theta)
    xr = x * ct + y * st
    yr = -x * st + y * ct
    return np.exp(-(xr**2 + gamma**2 * yr**2) / (2.0 * sigma**2)) * np.cos(2.0 * math.pi * xr / lambd + psi)


def paper_grid(kernel_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The paper's kernel grid ``linspace(-1, 1, k)``; returns ``(x, y)``, each (k, k), x along columns.

    ``kernel_size`` is 1 to ``MAX_KERNEL_SIZE`` (255).
    """
    kernel_size = check_int("kernel_size", kernel_size, 1, MAX_KERNEL_SIZE)
    t = np.linspace(-1.0, 1.0, int(kernel_size)) if kernel_size > 1 else np.zeros(1)
    x, y = np.meshgrid(t, t, indexing="xy")
    return x, y


def rotated_grid(kernel_size: int, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotated coordinates of the paper, ``x' = x cos t - y sin t``, ``y' = x sin t + y cos t``.

    Returns ``(xr, yr)``, each (R, k, k) for the R angles in ``thetas`` (radians), R <= 4096.
    """
    x, y = paper_grid(kernel_size)
    t = check_array("thetas", thetas, max_size=4096).reshape(-1, 1, 1)
    return x * np.cos(t) - y * np.sin(t), x * np.sin(t) + y * np.cos(t)


def orientations_for(n: int) -> np.ndarray:
    """The paper's fixed orientations ``theta_r = 2 pi r / R``, r = 0..R-1, radians, shape (R,); R <= 64."""
    n = check_int("the number of orientations", n, 1, MAX_ORIENTATIONS)
    return 2.0 * np.pi * np.arange(int(n)) / int(n)


def paper_gabor_kernels(
    sigma: torch.Tensor,
    gamma: torch.Tensor,
    lambd: torch.Tensor,
    psi: torch.Tensor,
    thetas: torch.Tensor,
    kernel_size: int,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """The paper's Gabor bank, eq. (1), differentiable in every parameter.

    ``G(x', y') = alpha * exp(-sigma^2 (x'^2 + gamma^2 y'^2)) cos(lambda x' + psi)`` on the grid
    ``linspace(-1, 1, k)``, every family at every orientation.

    Parameters
    ----------
    sigma, gamma, lambd, psi : torch.Tensor
        (P,) parameters of the P families (sigma inverse width, lambd angular frequency, radians
        per grid unit).
    thetas : torch.Tensor
        (R,) orientations, radians.
    kernel_size : int
        k, the kernel side.
    alpha : torch.Tensor, optional
        (P * R,) scale of each kernel (family-major order); 1 when omitted.

    Returns
    -------
    torch.Tensor
        (P * R, 1, k, k); kernel ``p * R + r`` is family p at orientation r.
    """
    kernel_size = check_int("kernel_size", kernel_size, 1, MAX_KERNEL_SIZE)
    tensors = {"sigma": sigma, "gamma": gamma, "lambd": lambd, "psi": psi, "thetas": thetas}
    if alpha is not None:
        tensors["alpha"] = alpha
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch tensor, got {type(t).__name__}.")
        if not (t.is_floating_point()):
            raise TypeError(f"{name} must be a real floating-point tensor, got dtype {t.dtype}.")
    P, R = sigma.numel(), thetas.numel()
    if not (gamma.numel() == lambd.numel() == psi.numel() == P) or P == 0 or R == 0:
        raise ValueError("sigma, gamma, lambd and psi must hold the same number (>= 1) of families, and thetas >= 1 angle.")
    if P * R * kernel_size**2 > 10**7:
        raise ValueError(f"the bank would hold {P * R} kernels of {kernel_size}x{kernel_size}: over 10**7 values.")
    if alpha is not None and alpha.numel() != P * R:
        raise ValueError(f"alpha must hold one scale per kernel ({P * R}), got {alpha.numel()}.")
    x, y = paper_grid(kernel_size)
    dev, dt = sigma.device, sigma.dtype
    x = torch.as_tensor(x, device=dev, dtype=dt)
    y = torch.as_tensor(y, device=dev, dtype=dt)
    t = thetas.to(device=dev, dtype=dt).reshape(1, -1, 1, 1)
    xr = x * torch.cos(t) - y * torch.sin(t)  # (1, R, k, k)
    yr = x * torch.sin(t) + y * torch.cos(t)
    s = sigma.reshape(-1, 1, 1, 1)
    g = gamma.reshape(-1, 1, 1, 1)
    lam = lambd.reshape(-1, 1, 1, 1)
    ph = psi.reshape(-1, 1, 1, 1)
    bank = torch.exp(-(s**2) * (xr**2 + g**2 * yr**2)) * torch.cos(lam * xr + ph)  # (P, R, k, k)
    bank = bank.reshape(-1, 1, kernel_size, kernel_size)
    if alpha is not None:
        bank = bank * alpha.reshape(-1, 1, 1, 1)
    return bank


def paper_to_opencv(
    sigma: float, gamma: float, lambd: float, psi: float, theta: float, kernel_size: int
) -> dict[str, float]:
    """OpenCV-convention parameters of one paper kernel (grid step h = 2 / (k - 1)).

    ``sigma_cv = 1 / (sqrt(2) |sigma| h)``, ``lambd_cv = 2 pi / (lambda h)``, ``theta_cv = -theta``,
    same gamma and psi; the pixel coordinate is u = x / h. Returns a dict for :func:`gabor_kernel`
    (``lambd`` may be negative or infinite when lambda <= 0; cos is even, so use ``abs``).
    """
    kernel_size = check_int("kernel_size", kernel_size, 2, MAX_KERNEL_SIZE)
    sigma, gamma, lambd, psi, theta = (check_real(n, v) for n, v in zip(
        ("sigma", "gamma", "lambd", "psi", "theta"), (sigma, gamma, lambd, psi, theta)))
    h = 2.0 / (kernel_size - 1)
    sig_cv = math.inf if sigma == 0 else 1.0 / (math.sqrt(2.0) * abs(sigma) * h)
    lam_cv = math.inf if lambd == 0 else 2.0 * math.pi / (lambd * h)
    return {"sigma": sig_cv, "theta": -theta, "lambd": lam_cv, "psi": psi, "gamma": abs(gamma)}
