"""Randomized smoothing: Cohen certification, bounds, metrics, training and batch certification."""
from .bounds import (
    clopper_pearson_lower,
    clopper_pearson_lower_tail,
    clopper_pearson_upper,
    cohen_radius,
    gap_radius,
    hoeffding_lower,
    radius_cap,
)
from .certify import ABSTAIN, Certificate, Smooth, fresh_seed

__all__ = [
    "ABSTAIN",
    "Certificate",
    "Smooth",
    "clopper_pearson_lower",
    "clopper_pearson_lower_tail",
    "clopper_pearson_upper",
    "cohen_radius",
    "fresh_seed",
    "gap_radius",
    "hoeffding_lower",
    "radius_cap",
]
