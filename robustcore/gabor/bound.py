"""The paper's closed-form Lipschitz bound of a Gabor kernel, derived with sympy.

Pérez et al. (ECCV 2020) bound the Lipschitz constant of one Gabor kernel of the layer by

    L <= |alpha| (1 + |X'| exp(-sigma^2 m*^2)) (1 + |Y'| exp(-sigma^2 gamma^2 n*^2)),

with X', Y' the sets of rotated grid coordinates x', y' of the kernel and m*, n* their smallest
non-zero absolute values. The reference we work from recalls the definitions of |X'|, m*, n*
without the paper's theorem at hand, so this module fixes the sound reading and proves it:

Proof (for every input size, padding and stride >= 1).
1. A single-channel convolution has spectral norm ``max_omega |K^(omega)| <= sum_{a,b} |g[a,b]|``
   (triangle inequality on the DFT; zero padding is a compression of a circular convolution on a
   larger grid, and striding is a sub-sampling of norm 1, so neither raises the norm).
2. ``|g| <= |alpha| exp(-sigma^2 x'^2) exp(-sigma^2 gamma^2 y'^2)`` because ``|cos| <= 1``.
3. Grid points map injectively to pairs (x', y') (a rotation), so the sum over the grid is at most
   ``(sum_{x' in X'} e^{-sigma^2 x'^2}) (sum_{y' in Y'} e^{-sigma^2 gamma^2 y'^2})`` with X', Y' the
   sets of *distinct* values.
4. In each factor the term at 0 (if present) is 1 and every other term is at most
   ``e^{-sigma^2 m*^2}`` (resp. ``e^{-sigma^2 gamma^2 n*^2}``), since the exponentials decrease
   in |x'|; there are at most |X'| such terms. Hence the bound, with |X'| the number of distinct
   x' values (zero included, as the paper writes it; the bound is then loose by one term).

Floating point: coordinates within 1e-7 grid units of each other form one cluster, counted once
in |X'|; every term of a cluster is at most the cluster's largest, the cluster at zero is bounded
by 1 and every other cluster by ``e^{-sigma^2 m*^2}`` with m* the smallest |x'| outside the zero
cluster, so the proof goes through with clusters in place of values. Step 3 stays injective
because cluster spreads are checked to be below a quarter of the grid step. (Without the
clustering, the float32 orientations of the layer, e.g. cos(float32(pi/2)) = -4.4e-8, would turn
k distinct coordinates into k^2 and inflate the bound for nothing.) When a coordinate takes no
non-zero value (k = 1) its factor is exactly 1.

Layer (the paper's depthwise bank, ReLU, 1 x 1 mixing W): the bank on one channel has norm
``max_omega sqrt(sum_f |K^_f|^2) <= sqrt(sum_f L_f^2)``; depthwise over channels is block
diagonal (same norm); ReLU is 1-Lipschitz; a 1 x 1 convolution has norm ``||W||_2``. So the layer
is Lipschitz (l2) with constant at most ``||W||_2 sqrt(sum_f L_f^2)``.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import sympy as sp
import torch

from .kernel import rotated_grid
from .validate import MAX_KERNEL_SIZE, MAX_PARAM_ELEMENTS, check_array, check_int

__all__ = [
    "SYMBOLS",
    "GABOR_EXPR",
    "ENVELOPE_EXPR",
    "BOUND_EXPR",
    "bound_latex",
    "layer_bound_latex",
    "grid_constants",
    "closed_form_bound",
    "filter_lipschitz_bounds",
    "filter_lipschitz_bounds_torch",
    "lipschitz_upper_bound",
    "lipschitz_upper_bound_torch",
    "mixing_norm",
    "lipschitz_report",
]

# ---------------------------------------------------------------- symbolic derivation (sympy)
_x, _y = sp.symbols("x' y'", real=True)
_sigma, _gamma, _alpha, _lam, _psi = sp.symbols("sigma gamma alpha lambda psi", real=True)
_NX, _NY = sp.symbols("|X'| |Y'|", nonnegative=True)
_m, _n = sp.symbols("m_* n_*", positive=True)
SYMBOLS = {"sigma": _sigma, "gamma": _gamma, "alpha": _alpha, "NX": _NX, "NY": _NY, "m": _m, "n": _n}

#: The paper's kernel, eq. (1), with its scale alpha.
GABOR_EXPR = _alpha * sp.exp(-_sigma**2 * (_x**2 + _gamma**2 * _y**2)) * sp.cos(_lam * _x + _psi)


def _derive_bound() -> tuple[sp.Expr, sp.Expr]:
    """Steps 2-4 of the module proof, carried out (and checked) symbolically."""
    # Step 2: |cos| <= 1 leaves the envelope.
    envelope = sp.Abs(_alpha) * GABOR_EXPR.subs(sp.cos(_lam * _x + _psi), 1) / _alpha
    envelope = sp.expand_power_exp(sp.expand(envelope))  # exp(a + b) -> exp(a) exp(b)
    # Step 3: it factorises into a function of x' times a function of y'.
    fx = envelope.subs(_y, 0) / sp.Abs(_alpha)
    fy = envelope.subs(_x, 0) / sp.Abs(_alpha)
    assert sp.simplify(envelope - sp.Abs(_alpha) * fx * fy) == 0
    # Step 4: each factor decreases in |coordinate| (x f'(x) <= 0), so off-zero terms are at most
    # its value at the smallest non-zero coordinate.
    assert sp.simplify(_x * sp.diff(fx, _x) + 2 * _sigma**2 * _x**2 * fx) == 0
    assert sp.simplify(_y * sp.diff(fy, _y) + 2 * _sigma**2 * _gamma**2 * _y**2 * fy) == 0
    bound = sp.Abs(_alpha) * (fx.subs(_x, 0) + _NX * fx.subs(_x, _m)) * (fy.subs(_y, 0) + _NY * fy.subs(_y, _n))
    return envelope, bound


ENVELOPE_EXPR, BOUND_EXPR = _derive_bound()
_ARGS = (_sigma, _gamma, _alpha, _NX, _m, _NY, _n)
_bound_np = sp.lambdify(_ARGS, BOUND_EXPR, modules="numpy")
# The same expression evaluated by torch, so the regulariser differentiates the formula shown.
_bound_torch = sp.lambdify(_ARGS, BOUND_EXPR, modules=[{"exp": torch.exp, "Abs": torch.abs}])


def bound_latex() -> str:
    """LaTeX of the per-kernel bound, printed from the sympy expression the code evaluates."""
    return r"L_f \le " + sp.latex(BOUND_EXPR)


def layer_bound_latex() -> str:
    """LaTeX of the whole-layer bound (depthwise bank, ReLU, 1 x 1 mixing W)."""
    return r"\mathrm{Lip}(\text{layer}) \le \|W\|_2 \sqrt{\sum_{f=1}^{F} L_f^2}"


# ---------------------------------------------------------------- grid constants
# Grid units. Coordinates closer than this are one cluster. It must exceed float32 rounding of the
# layer's orientations (cos(float32(pi/2)) = -4.4e-8), or a rotation by pi/2 would split k values
# into k^2 and loosen the bound for nothing; and cluster spreads must stay far below the grid step.
_TOL = 1e-7


def _distinct(values: np.ndarray, step: float) -> tuple[int, float]:
    """(|V|, smallest non-zero |v|) for the coordinates ``values`` (see the module note)."""
    v = np.sort(values.ravel())
    if v.size == 0:
        return 0, 1.0
    breaks = np.flatnonzero(np.diff(v) > _TOL)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [v.size - 1]])
    # Step 3 needs injectivity: two grid points in the same x'-cluster and the same y'-cluster are
    # within sqrt(2) * spread of each other, hence the same point while spread < step / sqrt(2).
    spread = float((v[ends] - v[starts]).max())
    if spread > 0.25 * step:
        raise ValueError("the rotated grid coordinates do not separate into clusters at this angle, so the "
                         "distinct-value count (and the bound) would not be reliable.")
    count = len(starts)
    zero_cluster = np.zeros(v.size, dtype=bool)
    for s, e in zip(starts, ends):
        if np.abs(v[s : e + 1]).min() <= _TOL:
            zero_cluster[s : e + 1] = True
    rest = np.abs(v[~zero_cluster])
    if rest.size == 0:  # only zero: the factor is exactly 1
        return 0, 1.0
    return count, float(rest.min())


@functools.lru_cache(maxsize=256)
def _grid_constants_cached(kernel_size: int, thetas: tuple[float, ...]) -> np.ndarray:
    xr, yr = rotated_grid(kernel_size, np.asarray(thetas))
    step = 2.0 / (kernel_size - 1) if kernel_size > 1 else 1.0
    out = np.empty((len(thetas), 4))
    for r in range(len(thetas)):
        nx, m = _distinct(xr[r], step)
        ny, n = _distinct(yr[r], step)
        out[r] = (nx, m, ny, n)
    out.setflags(write=False)
    return out


def grid_constants(kernel_size: int, thetas) -> dict[str, np.ndarray]:
    """|X'|, m*, |Y'|, n* of the paper's grid ``linspace(-1, 1, k)`` rotated by each theta.

    Returns a dict of four (R,) arrays: ``NX``, ``m``, ``NY``, ``n`` (counts of distinct rotated
    coordinates and the smallest non-zero absolute coordinates, grid units).
    """
    kernel_size = check_int("kernel_size", kernel_size, 1, MAX_KERNEL_SIZE)
    th = check_array("thetas", thetas, max_size=4096).ravel()
    if th.size * kernel_size**2 > 4 * 10**6:
        raise ValueError(f"{th.size} orientations of a {kernel_size}x{kernel_size} grid is over the cap of "
                         "4 million grid points.")
    t = tuple(float(v) for v in th)
    c = _grid_constants_cached(kernel_size, t)
    return {"NX": c[:, 0], "m": c[:, 1], "NY": c[:, 2], "n": c[:, 3]}


def closed_form_bound(sigma, gamma, alpha, theta, kernel_size: int) -> np.ndarray:
    """The per-kernel bound for arrays of parameters (broadcast together), paper convention.

    sigma (inverse width), gamma, alpha and theta (radians) broadcast to a common shape S;
    returns float64 of shape S (at most 10**6 values). Independent of lambda and psi, and of the sign
    of sigma and gamma (only their squares enter).
    """
    arrs = [check_array(n, v, ndim=None) for n, v in
            zip(("sigma", "gamma", "alpha", "theta"), (sigma, gamma, alpha, theta))]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrs))
    except ValueError:
        raise ValueError("sigma, gamma, alpha and theta do not broadcast to one shape.") from None
    if math.prod(shape) > MAX_PARAM_ELEMENTS:
        raise ValueError(f"the parameters broadcast to {math.prod(shape)} values; at most {MAX_PARAM_ELEMENTS}.")
    sigma, gamma, alpha, theta = np.broadcast_arrays(*arrs)
    uniq, inv = np.unique(theta.ravel(), return_inverse=True)
    c = grid_constants(kernel_size, uniq)
    pick = lambda k: c[k][inv].reshape(theta.shape)  # noqa: E731
    return np.asarray(_bound_np(sigma, gamma, alpha, pick("NX"), pick("m"), pick("NY"), pick("n")), dtype=np.float64)


def _layer_params(layer: Any) -> dict[str, np.ndarray]:
    if hasattr(layer, "parameters_numpy"):
        p = layer.parameters_numpy()
        p["kernel_size"] = layer.kernel_size
        return p
    if isinstance(layer, dict):
        missing = [k for k in ("sigma", "gamma", "thetas", "kernel_size") if k not in layer]
        if missing:
            raise ValueError(f"the layer dict lacks {missing}.")
        out = dict(layer)
        for k in ("sigma", "gamma", "thetas", "alpha", "mix"):
            if k in out:
                out[k] = check_array(k, out[k])
        out["kernel_size"] = check_int("kernel_size", out["kernel_size"], 1, MAX_KERNEL_SIZE)
        if out["sigma"].ndim != 1 or out["gamma"].shape != out["sigma"].shape:
            raise ValueError("sigma and gamma must be 1-D arrays of the same length (one per family).")
        F_ = out["sigma"].size * out["thetas"].size
        if "alpha" in out and out["alpha"].size != F_:
            raise ValueError(f"alpha must hold one scale per kernel ({F_}), got {out['alpha'].size}.")
        if "mix" in out and out["mix"].ndim != 2:
            raise ValueError(f"mix must be a 2-D matrix (out_channels, in_channels * F), got shape {out['mix'].shape}.")
        return out
    raise TypeError(f"expected a GaborConv2d or a dict of its parameters, got {type(layer).__name__}.")


def _per_kernel(p: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per-kernel (F,) sigma, gamma, theta, alpha in the layer's family-major order."""
    R = len(p["thetas"])
    sig = np.repeat(np.asarray(p["sigma"], float), R)
    gam = np.repeat(np.asarray(p["gamma"], float), R)
    th = np.tile(np.asarray(p["thetas"], float), len(p["sigma"]))
    al = np.asarray(p.get("alpha", np.ones_like(sig)), float)
    return sig, gam, th, al


def filter_lipschitz_bounds(layer: Any) -> np.ndarray:
    """The closed-form bound of every kernel of a Gabor layer, (F,), each >= its exact norm.

    ``L_f = |alpha_f| (1 + |X'_f| e^{-sigma_f^2 m*_f^2}) (1 + |Y'_f| e^{-sigma_f^2 gamma_f^2 n*_f^2})``
    (proof in the module docstring). ``layer``: a :class:`GaborConv2d` or a dict with sigma,
    gamma, alpha, thetas, kernel_size.
    """
    p = _layer_params(layer)
    sig, gam, th, al = _per_kernel(p)
    return closed_form_bound(sig, gam, al, th, int(p["kernel_size"]))


def mixing_norm(layer: Any) -> float:
    """``||W||_2`` of the 1 x 1 mixing, (out_channels, in_channels * F) -> largest singular value."""
    p = _layer_params(layer)
    w = np.asarray(p.get("mix", np.eye(1)), float)
    if not np.all(np.isfinite(w)):
        raise ValueError("the mixing weights contain NaN or infinite values.")
    return float(np.linalg.norm(w, ord=2))


def lipschitz_upper_bound(layer: Any) -> float:
    """Upper bound on the l2 Lipschitz constant of the whole layer: ``||W||_2 sqrt(sum_f L_f^2)``."""
    lf = filter_lipschitz_bounds(layer)
    return mixing_norm(layer) * float(np.sqrt(np.sum(lf**2)))


def filter_lipschitz_bounds_torch(layer) -> torch.Tensor:
    """The same bound as :func:`filter_lipschitz_bounds`, differentiable in sigma, gamma, alpha. (F,)."""
    R = layer.orientations
    c = grid_constants(layer.kernel_size, layer.thetas.detach().cpu().double().numpy())
    dev, dt = layer.sigma.device, layer.sigma.dtype
    t = lambda k: torch.as_tensor(np.tile(c[k], layer.families), device=dev, dtype=dt)  # noqa: E731
    sig = layer.sigma.repeat_interleave(R)
    gam = layer.gamma.repeat_interleave(R)
    return _bound_torch(sig, gam, layer.alpha, t("NX"), t("m"), t("NY"), t("n"))


def lipschitz_upper_bound_torch(layer, include_mixing: bool = True) -> torch.Tensor:
    """Differentiable ``||W||_2 sqrt(sum_f L_f^2)`` (scalar tensor); without W when asked."""
    lf = filter_lipschitz_bounds_torch(layer)
    b = torch.sqrt(torch.sum(lf**2))
    if include_mixing:
        b = b * torch.linalg.matrix_norm(layer.mix.weight[:, :, 0, 0], ord=2)
    return b


def lipschitz_report(layer, input_hw) -> dict[str, Any]:
    """Bounds beside the exact constants of a Gabor layer for circular padding on ``input_hw``.

    Returns a dict:
    ``filter_bound`` (F,) closed form; ``filter_exact`` (F,) exact FFT norms;
    ``bank_bound`` sqrt(sum L_f^2); ``bank_exact`` exact norm of the depthwise bank;
    ``mixing_norm`` ||W||_2; ``layer_bound`` the closed-form layer bound;
    ``layer_exact_product`` ||W||_2 * bank_exact (a valid, tighter upper bound on the layer with
    its ReLU); ``linear_exact`` exact norm of the linear part W o bank (no ReLU; not itself a
    bound on the layer, but every bound above must exceed it).
    """
    from .spectral import _check_hw, conv_spectral_norm, per_filter_spectral_norms

    p = _layer_params(layer)
    _check_hw(input_hw)
    if not hasattr(layer, "kernels") and "bank" not in p:
        raise ValueError("the layer dict needs its kernels as 'bank' (F, 1, k, k) for the exact constants.")
    bank = layer.kernels().detach().cpu().double().numpy() if hasattr(layer, "kernels") else np.asarray(p["bank"], float)
    lf = filter_lipschitz_bounds(p)
    exact_f = per_filter_spectral_norms(bank, input_hw)
    bank_exact = conv_spectral_norm(bank, input_hw)
    mn = mixing_norm(p)
    w = np.asarray(p["mix"], float)
    F_ = bank.shape[0]
    C = w.shape[1] // F_
    # Linear part: w_lin[o, c] = sum_f W[o, c F + f] k_f  (a c_out x C convolution).
    w_lin = np.einsum("ocf,fab->ocab", w.reshape(w.shape[0], C, F_), bank[:, 0])
    return {
        "filter_bound": lf,
        "filter_exact": exact_f,
        "bank_bound": float(np.sqrt(np.sum(lf**2))),
        "bank_exact": bank_exact,
        "mixing_norm": mn,
        "layer_bound": mn * float(np.sqrt(np.sum(lf**2))),
        "layer_exact_product": mn * bank_exact,
        "linear_exact": conv_spectral_norm(w_lin, input_hw),
    }
