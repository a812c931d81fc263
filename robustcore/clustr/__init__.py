"""ClusTR: nearest-centre classifiers over a learned embedding, magnet loss, and certificates.

Alfarra, Perez, Bibi, Thabet, Arbelaez, Ghanem, "Rethinking Clustering for Robustness" (BMVC 2021).

The public names are imported lazily (PEP 562), so ``robustcore.clustr.cli`` can be imported for the
command line's help without importing torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "CenterCertificate": "certificate",
    "exact_center_radius": "certificate",
    "nearest_center_certificate": "certificate",
    "nearest_center_predict": "certificate",
    "nearest_center_radius": "certificate",
    "l2_pgd_path": "attack",
    "certify_image": "image",
    "LipschitzBound": "lipschitz",
    "lipschitz_lower_bound": "lipschitz",
    "lipschitz_upper_bound": "lipschitz",
    "MagnetLoss": "magnet",
    "magnet_loss": "magnet",
    "ClusterClassifier": "model",
    "make_embedding": "model",
    "ATTACKS": "adversarial",
    "attack_accuracy": "adversarial",
    "free_replays": "adversarial",
    "qtrades_consistency": "adversarial",
    "soft_probs": "adversarial",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
