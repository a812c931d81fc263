"""Tropical geometry of (Affine, ReLU, Affine) networks (Alfarra et al., arXiv:2002.08838).

Compute only (no streamlit). See ``../shared/reference/tropical.md`` for the mathematics.
"""

from .net import ShallowReluNet, relu_part
from .zonotope import (
    subset_sums,
    support_function,
    zonogon_directions,
    zonotope_area,
    zonotope_perimeter,
    zonotope_vertices,
    zonotope_volume,
)

__all__ = [
    "ShallowReluNet",
    "relu_part",
    "subset_sums",
    "support_function",
    "zonogon_directions",
    "zonotope_area",
    "zonotope_perimeter",
    "zonotope_vertices",
    "zonotope_volume",
]
