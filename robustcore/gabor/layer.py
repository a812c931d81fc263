"""The paper's Gabor layer: a learnable Gabor bank (depthwise), ReLU, then 1 x 1 mixing.

Pérez et al., "Gabor Layers Enhance Network Robustness", ECCV 2020, Sec. 3: per family the
parameters sigma, gamma, lambda, psi are learnt (initialised from a standard normal); theta is
fixed at R orientations ``2 pi r / R``; every family is instantiated at every orientation, giving
F = families x R kernels, each with its own learnt scale alpha. Each input channel is convolved
with all F kernels (a depthwise convolution), a ReLU follows, and a 1 x 1 convolution maps the
``in_channels * F`` responses to ``out_channels``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .kernel import orientations_for, paper_gabor_kernels
from .validate import MAX_CHANNELS, MAX_FAMILIES, MAX_KERNEL_SIZE, MAX_ORIENTATIONS, check_choice, check_int

__all__ = ["GaborConv2d"]


class GaborConv2d(nn.Module):
    """Learnable Gabor layer of the paper, a drop-in first convolution.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output (after the 1 x 1 mixing).
    kernel_size : int
        Side k of every Gabor kernel.
    orientations : int
        R, the number of fixed orientations ``theta_r = 2 pi r / R`` (paper default 8).
    families : int
        P, the number of learnt parameter families; F = P * R kernels.
    stride : int
        Stride of the depthwise Gabor convolution.
    padding : int or None
        Zero padding of the Gabor convolution; ``None`` keeps the spatial size for odd k
        (``k // 2``).
    padding_mode : str
        ``"zeros"`` or ``"circular"`` (the exact constant of :mod:`.spectral` is for circular).
    bias : bool
        Bias of the 1 x 1 mixing (a bias never changes the Lipschitz constant).
    relu : bool
        ReLU between the bank and the mixing (the paper's layer has it).
    seed : int or None
        Seed for the standard-normal initialisation of the Gabor parameters and, from a generator of
        its own, of the 1 x 1 mixing (``None``: the mixing draws from torch's global RNG).
    alpha_init : {"ones", "randn"}
        Initial scale of every kernel: ones (ours, every kernel starts at unit scale) or a
        standard normal draw (the official code).

    The kernel, the closed-form bound and the regulariser depend on sigma (and gamma) only
    through sigma^2 (gamma^2), so sigma and -sigma give the same filter: the raw parameter is
    kept as in the official code (no reparametrisation that would change the optimisation), and
    :attr:`effective_sigma` = |sigma| is what reports and pages show.

    Shapes: input (n, in_channels, H, W) -> output (n, out_channels, H', W').
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        orientations: int = 8,
        families: int = 2,
        stride: int = 1,
        padding: int | None = None,
        padding_mode: str = "zeros",
        bias: bool = True,
        relu: bool = True,
        seed: int | None = 0,
        alpha_init: str = "ones",
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, 1, MAX_CHANNELS)
        out_channels = check_int("out_channels", out_channels, 1, MAX_CHANNELS)
        kernel_size = check_int("kernel_size", kernel_size, 1, MAX_KERNEL_SIZE)
        orientations = check_int("orientations", orientations, 1, MAX_ORIENTATIONS)
        families = check_int("families", families, 1, MAX_FAMILIES)
        stride = check_int("stride", stride, 1, 64)
        if padding is not None:
            padding = check_int("padding", padding, 0, MAX_KERNEL_SIZE)
        if seed is not None:
            seed = check_int("seed", seed, 0, 2**63 - 1)
        if in_channels * families * orientations * out_channels > 5 * 10**7:
            raise ValueError("the 1 x 1 mixing would hold over 5 * 10**7 weights; use fewer channels or kernels.")
        check_choice("alpha_init", alpha_init, ("ones", "randn"))
        check_choice("padding_mode", padding_mode, ("zeros", "circular"))
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = int(kernel_size)
        self.orientations = int(orientations)
        self.families = int(families)
        self.stride = int(stride)
        self.padding = self.kernel_size // 2 if padding is None else int(padding)
        self.padding_mode = padding_mode
        self.use_relu = bool(relu)
        gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
        p = self.families
        # Standard-normal initialisation, as the paper's code does.
        self.sigma = nn.Parameter(torch.randn(p, generator=gen))
        self.gamma = nn.Parameter(torch.randn(p, generator=gen))
        self.lambd = nn.Parameter(torch.randn(p, generator=gen))
        self.psi = nn.Parameter(torch.randn(p, generator=gen))
        if alpha_init == "randn":
            self.alpha = nn.Parameter(torch.randn(p * self.orientations, generator=gen))
        else:
            self.alpha = nn.Parameter(torch.ones(p * self.orientations))
        self.alpha_init = alpha_init
        self.register_buffer("thetas", torch.as_tensor(orientations_for(self.orientations), dtype=torch.float32))
        self.mix = nn.Conv2d(self.in_channels * self.num_kernels, self.out_channels, 1, bias=bias)
        if seed is not None:
            self._seeded_mix_init(int(seed))

    def _seeded_mix_init(self, seed: int) -> None:
        """Redraw the 1 x 1 mixing from a generator of its own, seeded with ``seed``.

        Why: ``nn.Conv2d`` draws from torch's global RNG, so a seeded layer's mixing depended on whatever
        ran before it. The redraw repeats torch's default initialisation (Kaiming-uniform with a = sqrt 5,
        bias uniform in +-1/sqrt(fan_in)) on a fresh generator, so the layer built right after
        ``torch.manual_seed(seed)`` (as ``training.build_variant`` does) keeps exactly its old weights; the
        construction above still consumes the global stream as before, so the layers built after this one
        (and the saved results) are unchanged too.
        """
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            nn.init.kaiming_uniform_(self.mix.weight, a=math.sqrt(5), generator=gen)
            if self.mix.bias is not None:
                bound = 1.0 / math.sqrt(self.mix.weight.shape[1]) if self.mix.weight.shape[1] > 0 else 0.0
                nn.init.uniform_(self.mix.bias, -bound, bound, generator=gen)

    @property
    def num_kernels(self) -> int:
        """F = families x orientations, the kernels per input channel."""
        return self.families * self.orientations

    @property
    def effective_sigma(self) -> torch.Tensor:
        """|sigma|, (P,): the kernel depends on sigma only through sigma^2, so this is the width."""
        return self.sigma.detach().abs()

    def kernels(self) -> torch.Tensor:
        """The bank computed from the current parameters, (F, 1, k, k), alpha included."""
        return paper_gabor_kernels(
            self.sigma, self.gamma, self.lambd, self.psi, self.thetas, self.kernel_size, self.alpha
        )

    def parameters_numpy(self) -> dict[str, np.ndarray]:
        """Current Gabor parameters as float64 arrays (sigma, gamma, lambd, psi: (P,); alpha: (F,);
        thetas: (R,)); the mixing weight as ``mix`` (out_channels, in_channels * F)."""
        with torch.no_grad():
            d = {k: getattr(self, k).detach().cpu().double().numpy().copy()
                 for k in ("sigma", "gamma", "lambd", "psi", "alpha", "thetas")}
            d["mix"] = self.mix.weight.detach().cpu().double().numpy()[:, :, 0, 0].copy()
        return d

    def bank_response(self, x: torch.Tensor) -> torch.Tensor:
        """Depthwise Gabor responses before the ReLU, (n, in_channels * F, H', W')."""
        if not isinstance(x, torch.Tensor) or x.is_complex():
            raise TypeError("the input must be a real torch tensor.")
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected input of shape (n, {self.in_channels}, H, W), got {tuple(x.shape)}."
            )
        w = self.kernels().to(x.dtype).repeat(self.in_channels, 1, 1, 1)  # (C*F, 1, k, k)
        if self.padding_mode == "circular" and self.padding > 0:
            x = F.pad(x, (self.padding,) * 4, mode="circular")
            pad = 0
        else:
            pad = self.padding
        return F.conv2d(x, w, stride=self.stride, padding=pad, groups=self.in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, in_channels, H, W) -> (n, out_channels, H', W'): bank, ReLU, 1 x 1 mixing."""
        z = self.bank_response(x)
        if self.use_relu:
            z = torch.relu(z)
        # The 1 x 1 mixing as one contraction: on the CPU, Conv2d with a 1 x 1 kernel runs about 4x
        # slower than this einsum (same weights, same result up to float rounding).
        out = torch.einsum("oc,nchw->nohw", self.mix.weight[:, :, 0, 0].to(z.dtype), z)
        if self.mix.bias is not None:
            out = out + self.mix.bias.to(z.dtype).view(1, -1, 1, 1)
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"families={self.families}, orientations={self.orientations}, "
                f"padding={self.padding}, padding_mode={self.padding_mode!r}")
