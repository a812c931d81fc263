"""Gabor kernels and layers, their closed-form Lipschitz bound and exact constants.

Pérez et al., "Gabor Layers Enhance Network Robustness", ECCV 2020 (arXiv:1912.05661).

The public names are imported lazily (PEP 562), so ``import robustcore.gabor.cli`` (the command
line's ``register``) loads no torch, numpy or sympy.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "bound": ("BOUND_EXPR", "bound_latex", "closed_form_bound", "filter_lipschitz_bounds",
              "filter_lipschitz_bounds_torch", "grid_constants", "layer_bound_latex", "lipschitz_report",
              "lipschitz_upper_bound", "lipschitz_upper_bound_torch", "mixing_norm"),
    "kernel": ("gabor_kernel", "orientations_for", "paper_gabor_kernels", "paper_grid", "paper_to_opencv",
               "rotated_grid"),
    "layer": ("GaborConv2d",),
    "lenet": ("LeNet", "gabor_lenet", "standard_lenet"),
    "regularizer": ("REGULARIZERS", "bound_regularizer", "gabor_layers", "make_regularizer", "regularizer_path",
                    "sigma_regularizer"),
    "spectral": ("bank_spectral_norm", "circular_conv_matrix", "conv_spectral_norm", "conv_spectral_norm_power",
                 "kernel_spectrum", "per_filter_spectral_norms", "zero_pad_spectral_norm"),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'robustcore.gabor' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
