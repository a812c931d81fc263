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
from .lipschitz import LipschitzBound, lipschitz_lower_bound, lipschitz_upper_bound
from .magnet import MagnetLoss, magnet_loss
from .model import ClusterClassifier, make_embedding

__all__ = [
    "CenterCertificate",
    "ClusterClassifier",
    "LipschitzBound",
    "MagnetLoss",
    "exact_center_radius",
    "lipschitz_lower_bound",
    "lipschitz_upper_bound",
    "magnet_loss",
    "make_embedding",
    "nearest_center_certificate",
    "nearest_center_predict",
    "nearest_center_radius",
]
