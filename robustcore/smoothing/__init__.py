"""Randomized smoothing: Cohen certification and bounds, certified-accuracy metrics, smoothing-oriented
training, batch certification of a test set, and data-dependent sigma (DDRS) with its soundness tools.

The public names are imported lazily (PEP 562), so ``robustcore.smoothing.cli`` (the command line's
``register``, e.g. for ``robustcore certify --help``) loads no torch, numpy or scipy.
"""
from __future__ import annotations

import importlib
from typing import Any

# submodule -> the public names it defines (re-exported here on first use)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "bounds": ("clopper_pearson_lower", "clopper_pearson_lower_tail", "clopper_pearson_upper", "cohen_radius",
               "gap_radius", "hoeffding_lower", "radius_cap"),
    "certify": ("ABSTAIN", "MAX_SAMPLES", "Certificate", "Smooth", "check_image", "fresh_seed"),
    "metrics": ("average_certified_radius", "certified_accuracy", "certified_accuracy_table",
                "high_probability_certified_accuracy"),
    "runner": ("RUN_KIND", "CertifyJob", "RunSummary", "image_seed", "run_certification"),
    "training": ("SMOOTHING_METHODS", "macer_loss", "noisy_accuracy", "smoothadv_attack", "smoothing_model"),
    # data-dependent sigma (issue 6)
    "ddsigma": ("DataDependentCertificate", "SigmaPath", "certify_data_dependent", "optimize_sigma",
                "surrogate_radius"),
    "landscape": ("SigmaLandscape", "certify_best", "landscape_from_counts", "sigma_landscape"),
    "lipschitz_sigma": ("KnnSigma", "LipschitzSigmaCertificate", "certify_lipschitz_sigma",
                        "lipschitz_sigma_radius", "worst_case_pb"),
    "memory": ("CertificationMemory", "MemoryDecision", "memory_certify"),
    "dd_training": ("dd_smoothing_model", "run_dd_certification"),
    "streams": ("stream_seed", "stream_seeds"),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
