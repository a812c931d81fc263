"""Gabor kernels and layers, their closed-form Lipschitz bound and exact constants.

Pérez et al., "Gabor Layers Enhance Network Robustness", ECCV 2020 (arXiv:1912.05661).
"""
from .bound import (
    BOUND_EXPR,
    bound_latex,
    closed_form_bound,
    filter_lipschitz_bounds,
    filter_lipschitz_bounds_torch,
    grid_constants,
    layer_bound_latex,
    lipschitz_report,
    lipschitz_upper_bound,
    lipschitz_upper_bound_torch,
    mixing_norm,
)
from .kernel import gabor_kernel, orientations_for, paper_gabor_kernels, paper_grid, paper_to_opencv, rotated_grid
from .layer import GaborConv2d
from .regularizer import (
    REGULARIZERS,
    bound_regularizer,
    gabor_layers,
    make_regularizer,
    regularizer_path,
    sigma_regularizer,
)
from .spectral import (
    bank_spectral_norm,
    circular_conv_matrix,
    conv_spectral_norm,
    conv_spectral_norm_power,
    kernel_spectrum,
    per_filter_spectral_norms,
    zero_pad_spectral_norm,
)

__all__ = [
    "BOUND_EXPR", "bound_latex", "closed_form_bound", "filter_lipschitz_bounds",
    "filter_lipschitz_bounds_torch", "grid_constants", "layer_bound_latex", "lipschitz_report",
    "lipschitz_upper_bound", "lipschitz_upper_bound_torch", "mixing_norm",
    "gabor_kernel", "orientations_for", "paper_gabor_kernels", "paper_grid", "paper_to_opencv",
    "rotated_grid", "GaborConv2d",
    "REGULARIZERS", "bound_regularizer", "gabor_layers", "make_regularizer", "regularizer_path",
    "sigma_regularizer",
    "bank_spectral_norm", "circular_conv_matrix", "conv_spectral_norm", "conv_spectral_norm_power",
    "kernel_spectrum", "per_filter_spectral_norms", "zero_pad_spectral_norm",
]
