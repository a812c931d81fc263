"""Randomized smoothing: Cohen certification and bounds, certified-accuracy metrics, smoothing-oriented
training, batch certification of a test set, and data-dependent sigma (DDRS) with its soundness tools."""
from .bounds import (
    clopper_pearson_lower,
    clopper_pearson_lower_tail,
    clopper_pearson_upper,
    cohen_radius,
    gap_radius,
    hoeffding_lower,
    radius_cap,
)
from .certify import ABSTAIN, MAX_SAMPLES, Certificate, Smooth, check_image, fresh_seed
from .metrics import (
    average_certified_radius,
    certified_accuracy,
    certified_accuracy_table,
    high_probability_certified_accuracy,
)
from .runner import RUN_KIND, CertifyJob, RunSummary, image_seed, run_certification
from .training import SMOOTHING_METHODS, macer_loss, noisy_accuracy, smoothadv_attack, smoothing_model

# data-dependent sigma (issue 6)
from .ddsigma import DataDependentCertificate, SigmaPath, certify_data_dependent, optimize_sigma, surrogate_radius
from .landscape import SigmaLandscape, certify_best, landscape_from_counts, sigma_landscape
from .lipschitz_sigma import (
    KnnSigma,
    LipschitzSigmaCertificate,
    certify_lipschitz_sigma,
    lipschitz_sigma_radius,
    worst_case_pb,
)
from .memory import CertificationMemory, MemoryDecision, memory_certify
from .dd_training import dd_smoothing_model, run_dd_certification
from .streams import stream_seed, stream_seeds

__all__ = [
    "ABSTAIN",
    "Certificate",
    "Smooth",
    "fresh_seed",
    "check_image",
    "MAX_SAMPLES",
    "stream_seed",
    "stream_seeds",
    "certify_best",
    "clopper_pearson_lower",
    "clopper_pearson_lower_tail",
    "clopper_pearson_upper",
    "cohen_radius",
    "gap_radius",
    "hoeffding_lower",
    "radius_cap",
    "average_certified_radius",
    "certified_accuracy",
    "certified_accuracy_table",
    "high_probability_certified_accuracy",
    "RUN_KIND",
    "CertifyJob",
    "RunSummary",
    "image_seed",
    "run_certification",
    "SMOOTHING_METHODS",
    "macer_loss",
    "noisy_accuracy",
    "smoothadv_attack",
    "smoothing_model",
    "DataDependentCertificate",
    "SigmaPath",
    "certify_data_dependent",
    "optimize_sigma",
    "surrogate_radius",
    "SigmaLandscape",
    "landscape_from_counts",
    "sigma_landscape",
    "KnnSigma",
    "LipschitzSigmaCertificate",
    "certify_lipschitz_sigma",
    "lipschitz_sigma_radius",
    "worst_case_pb",
    "CertificationMemory",
    "MemoryDecision",
    "memory_certify",
    "dd_smoothing_model",
    "run_dd_certification",
]
