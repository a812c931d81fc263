"""Lipschitz bounds (l2 -> l2) of an embedding network, for the input-space ClusTR certificate.

If phi is L-Lipschitz, ||phi(x + delta) - phi(x)|| <= L ||delta||, so the nearest-centre decision is
unchanged for every ||delta|| < R_f / L (R_f the feature radius). An upper bound on L is the
product of the per-layer operator norms (ReLU, Tanh and Flatten are 1-Lipschitz). The per-layer
norms are computed as follows (each is exact or an upper bound, so the product is sound):

* Linear: exact largest singular value (SVD, `torch.linalg.matrix_norm(ord=2)`).
* Conv2d on small inputs (C*H*W <= `DENSE_LIMIT`): EXACT operator norm for the given input size
  and the layer's own padding/stride, from the dense matrix obtained by applying the convolution
  (without bias) to the standard basis.
* Conv2d on larger inputs (stride/dilation any, groups = 1): an UPPER bound, the exact norm of the
  circular convolution on a grid of size H + k_h - 1 by W + k_w - 1 (the max over 2-D DFT
  frequencies of the spectral norm of the C_out x C_in kernel matrix, Sedghi et al. 2019); the
  zero-padded strided layer is a coordinate restriction of it, hence no larger.
* BatchNorm (eval mode): exact, max_k |gamma_k| / sqrt(var_k + eps).
* AvgPool2d: exact via the dense matrix; MaxPool2d with stride >= kernel (disjoint windows): 1.

The bound is usually loose for deep nets; `lipschitz_lower_bound` gives a certified LOWER bound
(the largest Jacobian spectral norm at given points: a ReLU net's local slope never exceeds its
global Lipschitz constant), so upper / lower measures how loose the certificate can be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._checks import check_int, check_shape, check_tensor

__all__ = [
    "LipschitzBound",
    "layer_operator_norm",
    "lipschitz_upper_bound",
    "lipschitz_lower_bound",
    "DENSE_LIMIT",
]

DENSE_LIMIT = 4096


@dataclass
class LipschitzBound:
    """Product-of-norms Lipschitz upper bound with its per-layer factors.

    Attributes
    ----------
    bound : float, prod of `norms` (an upper bound of the network's l2 Lipschitz constant).
    layers : names of the layers, in order.
    norms : per-layer operator norms (or upper bounds).
    methods : how each norm was computed ("exact SVD", "exact dense", "FFT upper bound", ...).
    """

    bound: float
    layers: list[str] = field(default_factory=list)
    norms: list[float] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)

    @property
    def all_exact(self) -> bool:
        """True when every per-layer factor is an exact operator norm (not an upper bound)."""
        return all(m.startswith("exact") or m.startswith("1-Lipschitz") for m in self.methods)


def _flatten_modules(net: nn.Module) -> list[tuple[str, nn.Module]]:
    if isinstance(net, nn.Sequential):
        out: list[tuple[str, nn.Module]] = []
        for name, m in net.named_children():
            out.extend((f"{name}.{n}" if n else name, mm) for n, mm in _flatten_modules(m))
        return out
    return [("", net)]


def _dense_norm(fn, in_shape: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
    n_in = int(np.prod(in_shape))
    basis = torch.eye(n_in, dtype=torch.float64).reshape(n_in, *in_shape)
    with torch.no_grad():
        out = fn(basis)
    mat = out.reshape(n_in, -1).T  # (n_out, n_in)
    return float(torch.linalg.matrix_norm(mat, ord=2)), tuple(out.shape[1:])


def _conv_fft_bound(conv: nn.Conv2d, in_shape: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
    if conv.groups != 1:
        raise ValueError("The FFT bound for large inputs supports only groups=1 convolutions.")
    w = conv.weight.detach().to(torch.float64)  # (Co, Ci, kh, kw)
    kh = (w.shape[2] - 1) * conv.dilation[0] + 1
    kw = (w.shape[3] - 1) * conv.dilation[1] + 1
    _, H, W = in_shape
    nh, nw = H + kh - 1, W + kw - 1
    wd = torch.zeros(w.shape[0], w.shape[1], kh, kw, dtype=torch.float64)
    wd[:, :, :: conv.dilation[0], :: conv.dilation[1]] = w
    spec = torch.fft.fft2(wd, s=(nh, nw))  # (Co, Ci, nh, nw)
    mats = spec.permute(2, 3, 0, 1).reshape(-1, w.shape[0], w.shape[1])
    bound = float(torch.linalg.matrix_norm(mats, ord=2).max())
    with torch.no_grad():
        out_shape = tuple(conv(torch.zeros(1, *in_shape, dtype=conv.weight.dtype)).shape[1:])
    return bound, out_shape


def layer_operator_norm(module: nn.Module, in_shape: tuple[int, ...]) -> tuple[float, tuple[int, ...], str]:
    """l2 operator norm (or a stated upper bound) of one layer's linear part.

    Parameters
    ----------
    module : the layer (biases are ignored: they do not change a Lipschitz constant).
    in_shape : input shape without the batch dimension, e.g. (1, 8, 8) or (64,).

    Returns
    -------
    (norm, out_shape, method); raises ValueError for layers it cannot bound soundly.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch nn.Module; got {type(module).__name__}.")
    in_shape = check_shape("in_shape", in_shape)
    if isinstance(module, nn.Linear):
        w = module.weight.detach().to(torch.float64)
        if not torch.isfinite(w).all():
            raise ValueError("A Linear layer has NaN or infinite weights.")
        return float(torch.linalg.matrix_norm(w, ord=2)), (*in_shape[:-1], w.shape[0]), "exact SVD"
    if isinstance(module, (nn.ReLU, nn.Tanh, nn.Identity, nn.Dropout, nn.Sigmoid)):
        name = "1-Lipschitz" if not isinstance(module, nn.Sigmoid) else "1-Lipschitz (1/4 for sigmoid, 1 used)"
        return 1.0, in_shape, name
    if isinstance(module, nn.LeakyReLU):
        return max(1.0, abs(module.negative_slope)), in_shape, "1-Lipschitz (max(1, |slope|))"
    if isinstance(module, nn.Flatten):
        n = int(np.prod(in_shape[module.start_dim - 1 :])) if module.start_dim >= 1 else int(np.prod(in_shape))
        return 1.0, (*in_shape[: module.start_dim - 1], n), "1-Lipschitz (reshape)"
    if isinstance(module, nn.Conv2d):
        w = module.weight.detach()
        if not torch.isfinite(w).all():
            raise ValueError("A Conv2d layer has NaN or infinite weights.")
        if len(in_shape) != 3:
            raise ValueError(f"Conv2d expects a (C, H, W) input shape; got {in_shape}.")
        if int(np.prod(in_shape)) <= DENSE_LIMIT:
            w64 = w.to(torch.float64)
            fn = lambda b: module._conv_forward(b, w64, None)  # noqa: E731
            norm, out = _dense_norm(fn, in_shape)
            return norm, out, "exact dense (this input size and padding)"
        norm, out = _conv_fft_bound(module, in_shape)
        return norm, out, "FFT upper bound (circular conv on padded grid)"
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if module.training:
            raise ValueError("BatchNorm must be in eval mode to bound its Lipschitz constant.")
        scale = torch.ones_like(module.running_var) if module.weight is None else module.weight.detach()
        factor = (scale.abs() / torch.sqrt(module.running_var + module.eps)).max()
        return float(factor), in_shape, "exact (diagonal)"
    if isinstance(module, nn.AvgPool2d):
        fn = lambda b: module(b)  # noqa: E731
        norm, out = _dense_norm(fn, in_shape)
        return norm, out, "exact dense"
    if isinstance(module, nn.MaxPool2d):
        k = module.kernel_size if isinstance(module.kernel_size, tuple) else (module.kernel_size,) * 2
        s = module.stride if isinstance(module.stride, tuple) else (module.stride,) * 2
        if s[0] < k[0] or s[1] < k[1]:
            raise ValueError("Overlapping MaxPool2d windows are not supported by the Lipschitz bound.")
        with torch.no_grad():
            out = tuple(module(torch.zeros(1, *in_shape)).shape[1:])
        return 1.0, out, "1-Lipschitz (disjoint max-pool windows)"
    raise ValueError(
        f"Cannot bound the Lipschitz constant of a {type(module).__name__} layer; "
        "use Linear/Conv2d/ReLU/Flatten/BatchNorm/pooling layers in an nn.Sequential embedding."
    )


def lipschitz_upper_bound(net: nn.Module, input_shape: tuple[int, ...]) -> LipschitzBound:
    """Upper bound of the l2 Lipschitz constant of a sequential network: prod of layer norms.

    Parameters
    ----------
    net : an nn.Sequential (nested Sequentials are flattened) of supported layers.
    input_shape : one input's shape without batch dimension, e.g. (1, 8, 8).

    Returns
    -------
    LipschitzBound with L_upper = prod_l ||W_l||_2 and the per-layer factors and methods.
    """
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch nn.Module; got {type(net).__name__}.")
    shape = check_shape("input_shape", input_shape)
    result = LipschitzBound(bound=1.0)
    for name, module in _flatten_modules(net):
        norm, shape, method = layer_operator_norm(module, shape)
        result.layers.append(f"{name} ({type(module).__name__})")
        result.norms.append(norm)
        result.methods.append(method)
        result.bound *= norm
    return result


def lipschitz_lower_bound(net: nn.Module, X: torch.Tensor, batch: int = 256) -> float:
    """Certified lower bound of the global l2 Lipschitz constant: max_x ||J_phi(x)||_2 over rows of X.

    For piecewise-linear (ReLU) networks the Jacobian at a point is the slope of phi on a
    neighbourhood, so the global constant is at least its spectral norm.

    Parameters
    ----------
    net : the embedding; X : (n, ...) points at which to evaluate the Jacobian.
    """
    from torch.func import jacrev, vmap

    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch nn.Module; got {type(net).__name__}.")
    X = check_tensor("X", X, ndim_min=2, max_rows=100_000)
    if X.shape[0] == 0:
        raise ValueError("X must hold at least one point.")
    batch = check_int("batch", batch, 1, 100_000)
    params = list(net.parameters())
    if not params:
        raise ValueError("net has no parameters; its Lipschitz constant is that of a fixed map.")
    params_dtype = params[0].dtype
    try:
        with torch.no_grad():
            out = net(X[:1].to(params_dtype))
    except RuntimeError as exc:
        raise ValueError(f"net cannot take inputs of shape {tuple(X.shape[1:])}: {str(exc).splitlines()[0]}") from None
    if out.ndim != 2:
        raise ValueError(f"net must map a batch to (n, D) features; got output shape {tuple(out.shape)}.")
    # the Jacobian batch is (batch, D, inputs): keep it below ~5e7 numbers
    batch = max(1, min(batch, 50_000_000 // max(1, out.shape[1] * X[0].numel())))
    best = 0.0
    for s in range(0, X.shape[0], batch):
        xb = X[s : s + batch].to(params_dtype)
        jac = vmap(jacrev(lambda x: net(x.unsqueeze(0)).squeeze(0)))(xb)  # (b, D, *in)
        jac = jac.detach().reshape(jac.shape[0], jac.shape[1], -1).to(torch.float64)
        best = max(best, float(torch.linalg.matrix_norm(jac, ord=2).max()))
    return best
