"""Exact Lipschitz constants (spectral norms) of convolutions.

Circular padding (Sedghi, Gupta & Long, "The Singular Values of Convolutional Layers", ICLR 2019):
on an n x m input the 2-D DFT block-diagonalises the convolution, so its singular values are
those of the c_out x c_in matrices ``K^(u, v) = sum_{a,b} w[:, :, a, b] exp(-2 pi i (a u / n + b v / m))``
and the spectral norm is ``max_{u,v} sigma_max(K^(u, v))``. Zero padding has no such
diagonalisation: :func:`conv_spectral_norm_power` runs power iteration on ``A^T A``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .validate import MAX_FFT_ELEMENTS, MAX_INPUT_SIDE, MAX_KERNEL_SIZE, check_array, check_choice, check_int, check_real

__all__ = [
    "kernel_spectrum",
    "conv_spectral_norm",
    "per_filter_spectral_norms",
    "bank_spectral_norm",
    "conv_spectral_norm_power",
    "zero_pad_spectral_norm",
    "circular_conv_matrix",
]


def _as_weight(weight, name: str = "weight") -> np.ndarray:
    w = check_array(name, weight, max_size=10**7, ndim=(2, 4))
    if w.ndim == 2:
        w = w[None, None]
    if min(w.shape) < 1:
        raise ValueError(f"{name} must not be empty, got shape {w.shape}.")
    if max(w.shape[-2:]) > MAX_KERNEL_SIZE:
        raise ValueError(f"{name}'s kernel is {w.shape[-2]}x{w.shape[-1]}; at most {MAX_KERNEL_SIZE} a side.")
    return w


def _check_hw(input_hw) -> tuple[int, int]:
    """(n, m) from an int or a pair, each 1 to ``MAX_INPUT_SIDE`` (4096)."""
    if isinstance(input_hw, (tuple, list)):
        if len(input_hw) != 2:
            raise ValueError(f"input_hw must be an int or a pair (n, m), got {input_hw!r}.")
        n, m = (check_int("input_hw", v, 1, MAX_INPUT_SIDE) for v in input_hw)
    else:
        n = m = check_int("input_hw", input_hw, 1, MAX_INPUT_SIDE)
    return n, m


def _check_fft_size(w: np.ndarray, n: int, m: int) -> None:
    cells = w.shape[0] * w.shape[1] * n * (m // 2 + 1)
    if cells > MAX_FFT_ELEMENTS:
        raise ValueError(f"the spectrum would hold {cells} complex values ({w.shape[0]}x{w.shape[1]} channels on "
                         f"{n}x{m}); the cap is {MAX_FFT_ELEMENTS}: use a smaller input_hw.")


def _fold(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """Wrap a kernel larger than the input onto the n x m torus (circular convolution aliases taps)."""
    kh, kw = w.shape[-2:]
    if kh <= n and kw <= m:
        return w
    out = np.zeros(w.shape[:-2] + (n, m), dtype=w.dtype)
    for a in range(kh):
        for b in range(kw):
            out[..., a % n, b % m] += w[..., a, b]
    return out


def kernel_spectrum(weight, input_hw) -> np.ndarray:
    """Per-frequency channel matrices ``K^(u, v)`` on the half-plane that real kernels need.

    Parameters
    ----------
    weight : array or tensor
        (c_out, c_in, kh, kw) real kernel (or (kh, kw)).
    input_hw : int or (int, int)
        Input size (n, m) of the circular convolution.

    Returns
    -------
    np.ndarray
        complex (n, m // 2 + 1, c_out, c_in). For real kernels ``K^(-u, -v)`` is the complex
        conjugate of ``K^(u, v)`` (same singular values), so the half-plane ``rfft2`` covers
        every singular value of the operator.
    """
    w = _as_weight(weight)
    n, m = _check_hw(input_hw)
    _check_fft_size(w, n, m)
    spec = np.fft.rfft2(_fold(w, n, m), s=(n, m))  # (c_out, c_in, n, m//2+1)
    return np.moveaxis(spec, (0, 1), (2, 3))


def conv_spectral_norm(weight, input_hw) -> float:
    """Exact spectral norm (Lipschitz constant in l2) of a circularly padded convolution.

    ``||A||_2 = max_{u,v} sigma_max(K^(u, v))`` (Sedghi et al. 2019, Thm. 6); stride 1; the
    shift implied by any padding offset does not change singular values.

    Parameters
    ----------
    weight : array or tensor
        (c_out, c_in, kh, kw) real kernel (or (kh, kw) for one channel).
    input_hw : int or (int, int)
        Input size (n, m).

    Returns
    -------
    float
    """
    spec = kernel_spectrum(weight, input_hw)
    c_out, c_in = spec.shape[-2:]
    if c_out == 1 or c_in == 1:  # a rank-one-shaped matrix: sigma_max is the vector norm
        return float(np.sqrt((np.abs(spec) ** 2).sum(axis=(-2, -1))).max())
    return float(np.linalg.norm(spec.reshape(-1, c_out, c_in), ord=2, axis=(-2, -1)).max())


def _bank_weight(bank) -> np.ndarray:
    b = check_array("bank", bank, max_size=10**7, ndim=(3, 4))
    if b.ndim == 4 and b.shape[1] != 1:
        raise ValueError(f"bank must have shape (F, 1, k, k) or (F, k, k), got {b.shape}.")
    return _as_weight(b.reshape(-1, 1, *b.shape[-2:]), "bank")


def per_filter_spectral_norms(bank, input_hw) -> np.ndarray:
    """Exact circular spectral norm of each single-channel kernel of a bank.

    bank: (F, 1, k, k) or (F, k, k). Returns (F,) ``max_{u,v} |K^_f(u, v)|``.
    """
    w = _bank_weight(bank)
    n, m = _check_hw(input_hw)
    _check_fft_size(w, n, m)
    spec = np.fft.rfft2(_fold(w[:, 0], n, m), s=(n, m))  # (F, n, m//2+1)
    return np.abs(spec).reshape(spec.shape[0], -1).max(axis=1)


def bank_spectral_norm(bank, input_hw) -> float:
    """Exact circular spectral norm of the one-channel-in, F-out bank (the depthwise block).

    ``max_{u,v} sqrt(sum_f |K^_f(u, v)|^2)``; (F, 1, k, k) or (F, k, k) in, float out.
    """
    return conv_spectral_norm(_bank_weight(bank), input_hw)


def conv_spectral_norm_power(
    weight,
    input_hw,
    padding: str = "zeros",
    iters: int = 500,
    tol: float = 1e-10,
    seed: int = 0,
    device: str = "cpu",
) -> float:
    """Spectral norm of a stride-1 'same' convolution by power iteration on ``A^T A``.

    Parameters
    ----------
    weight : array or tensor
        (c_out, c_in, k, k) real kernel, k odd (so 'same' padding is k // 2 on each side).
    input_hw : int or (int, int)
        Input size (n, m).
    padding : {"zeros", "circular"}
        Boundary handling of the operator.
    iters, tol : int, float
        At most ``iters`` iterations; stop when the estimate changes by less than ``tol``
        (relative).
    seed : int
        Seed of the random start.
    device : str
        Torch device.

    Returns
    -------
    float
        The estimate ``||A v||`` for the final unit vector v: a lower bound on the true norm that
        converges to it (geometrically, at the rate of the squared gap to the next distinct
        singular value).
    """
    w_np = _as_weight(weight)
    n, m = _check_hw(input_hw)
    check_choice("padding", padding, ("zeros", "circular"))
    iters = check_int("iters", iters, 1, 100_000)
    tol = check_real("tol", tol, 0.0, 1.0)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    if w_np.shape[0] * w_np.shape[1] * n * m > MAX_FFT_ELEMENTS:
        raise ValueError(f"the operator is too large ({w_np.shape[0]}x{w_np.shape[1]} channels on {n}x{m}) for "
                         "power iteration here; use a smaller input_hw.")
    c_out, c_in, kh, kw = w_np.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError("power iteration here needs an odd kernel size ('same' padding).")
    w = torch.as_tensor(w_np, dtype=torch.float64, device=device)
    ph, pw = kh // 2, kw // 2
    if padding == "circular" and (ph > n or pw > m):
        raise ValueError("circular padding wider than the input; use conv_spectral_norm instead.")

    def op(x: torch.Tensor) -> torch.Tensor:
        if padding == "circular":
            return F.conv2d(F.pad(x, (pw, pw, ph, ph), mode="circular"), w)
        return F.conv2d(x, w, padding=(ph, pw))

    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    v = torch.randn(1, c_in, n, m, generator=gen, dtype=torch.float64).to(device)
    v = v / v.norm()
    est = 0.0
    for _ in range(int(iters)):
        v.requires_grad_(True)
        y = op(v)
        # A^T y by autograd: the gradient of <A v, y> with respect to v (y held fixed).
        (g,) = torch.autograd.grad(y, v, grad_outputs=y.detach())
        v = g.detach()
        nrm = v.norm()
        if nrm == 0:
            return 0.0
        v = v / nrm
        new = float(op(v).norm())
        if abs(new - est) <= tol * max(new, 1e-300):
            est = new
            break
        est = new
    return est


def zero_pad_spectral_norm(weight, input_hw, iters: int = 1000, tol: float = 1e-10, seed: int = 0) -> float:
    """Spectral norm of the zero-padded stride-1 'same' convolution by power iteration, FFT-fast.

    The zero-padded operator on n x m equals the circular correlation on N x M = (n + kh - 1) x
    (m + kw - 1) applied to the input embedded at offset (kh // 2, kw // 2), cropped to the first
    n x m outputs; so both it and its adjoint cost a few FFTs of size N x M, and power iteration on
    ``A^T A`` runs in milliseconds where direct convolution with a wide kernel takes seconds.

    Parameters
    ----------
    weight : (c_out, c_in, kh, kw) or (kh, kw) real kernel, odd sizes.
    input_hw : int or (n, m).
    iters, tol : iteration cap and relative stopping tolerance.
    seed : seed of the random start.

    Returns
    -------
    float
        ``||A v||`` for the final unit vector: never above the true norm, converging to it; at most
        the circular norm on N x M (the operator is a compression of that one).
    """
    w = _as_weight(weight)
    n, m = _check_hw(input_hw)
    iters = check_int("iters", iters, 1, 100_000)
    tol = check_real("tol", tol, 0.0, 1.0)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    c_out, c_in, kh, kw = w.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError("'same' zero padding needs an odd kernel size.")
    _check_fft_size(w, n + kh - 1, m + kw - 1)
    N, M = n + kh - 1, m + kw - 1
    p, q = kh // 2, kw // 2
    W = np.fft.rfft2(w, s=(N, M))  # (c_out, c_in, N, M//2+1)
    Wc = np.conj(W)

    def op(x: np.ndarray) -> np.ndarray:  # (c_in, n, m) -> (c_out, n, m)
        big = np.zeros((c_in, N, M))
        big[:, p : p + n, q : q + m] = x
        z = np.fft.irfft2(np.einsum("ocuv,cuv->ouv", Wc, np.fft.rfft2(big)), s=(N, M))
        return z[:, :n, :m]

    def adj(y: np.ndarray) -> np.ndarray:  # (c_out, n, m) -> (c_in, n, m)
        big = np.zeros((c_out, N, M))
        big[:, :n, :m] = y
        z = np.fft.irfft2(np.einsum("ocuv,ouv->cuv", W, np.fft.rfft2(big)), s=(N, M))
        return z[:, p : p + n, q : q + m]

    v = np.random.default_rng(int(seed)).normal(size=(c_in, n, m))
    v /= np.linalg.norm(v)
    est = 0.0
    for _ in range(int(iters)):
        g = adj(op(v))
        nrm = np.linalg.norm(g)
        if nrm == 0:
            return 0.0
        v = g / nrm
        new = float(np.linalg.norm(op(v)))
        done = abs(new - est) <= tol * max(new, 1e-300)
        est = new
        if done:
            break
    return est


def circular_conv_matrix(weight, input_hw) -> np.ndarray:
    """Explicit matrix of the circular cross-correlation ``y[o,i,j] = sum w[o,c,a,b] x[c,i+a,j+b]``.

    Built entry by entry from the definition (indices mod n, m), independent of the FFT; for
    small inputs only. Returns (c_out * n * m, c_in * n * m).
    """
    w = _as_weight(weight)
    n, m = _check_hw(input_hw)
    c_out, c_in, kh, kw = w.shape
    if c_out * c_in * n * n * m * m > 5e7:
        raise ValueError("the explicit convolution matrix would be too large; use a smaller input.")
    mat = np.zeros((c_out, n, m, c_in, n, m))
    ii, jj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    for a in range(kh):
        for b in range(kw):
            # add w[o, c, a, b] at (o, i, j) <- (c, (i + a) mod n, (j + b) mod m); np.add.at
            # accumulates taps that alias onto the same input pixel.
            src_i, src_j = (ii + a) % n, (jj + b) % m
            for o in range(c_out):
                for c in range(c_in):
                    np.add.at(mat[o, :, :, c], (ii, jj, src_i, src_j), w[o, c, a, b])
    return mat.reshape(c_out * n * m, c_in * n * m)
