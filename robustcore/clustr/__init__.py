"""ClusTR: nearest-centre classifiers over a learned embedding, magnet loss, and certificates.

Alfarra, Perez, Bibi, Thabet, Arbelaez, Ghanem, "Rethinking Clustering for Robustness" (BMVC 2021).
"""
from .certificate import (
    CenterCertificate,
    exact_center_radius,
    nearest_center_certificate,
    nearest_center_predict,
    nearest_center_radius,
)
from .attack import l2_pgd_path
from .image import certify_image
from .lipschitz import LipschitzBound, lipschitz_lower_bound, lipschitz_upper_bound
from .magnet import MagnetLoss, magnet_loss
from .model import ClusterClassifier, make_embedding

__all__ = [
    "CenterCertificate",
    "ClusterClassifier",
    "LipschitzBound",
    "MagnetLoss",
    "certify_image",
    "exact_center_radius",
    "l2_pgd_path",
    "lipschitz_lower_bound",
    "lipschitz_upper_bound",
    "magnet_loss",
    "make_embedding",
    "nearest_center_certificate",
    "nearest_center_predict",
    "nearest_center_radius",
]
