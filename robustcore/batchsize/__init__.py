"""Optimal and adaptive mini-batch size of SGD (Gower et al. 2019; Alfarra et al. 2020).

Finite-sum problems (``problems``), expected smoothness and gradient noise per sampling
(``smoothness``), step size / complexity / tau* (``complexity``), fixed and adaptive SGD
(``sgd``), and comparison batch-size rules (``estimators``). See ``shared/reference/batchsize.md``.
"""
from .complexity import (
    TauStarRule,
    absolute_eps,
    batch_size_crossing,
    complexity_curves,
    iteration_complexity,
    optimal_batch_size,
    step_size,
    total_complexity,
)
from .estimators import estimators_along, noise_scale, norm_test_batch_size, two_batch_noise_scale
from .problems import (
    SKLEARN_SETS,
    FiniteSumProblem,
    libsvm_problem,
    logistic_problem,
    ridge_problem,
    sklearn_problem,
)
from .sgd import Trajectory, adaptive_sgd, compare_methods, sgd, tau_bracket
from .smoothness import SAMPLINGS, expected_smoothness, gradient_noise

__all__ = [
    "FiniteSumProblem", "ridge_problem", "logistic_problem", "sklearn_problem", "libsvm_problem",
    "SKLEARN_SETS", "SAMPLINGS", "expected_smoothness", "gradient_noise", "step_size",
    "iteration_complexity", "total_complexity", "batch_size_crossing", "optimal_batch_size",
    "complexity_curves", "absolute_eps", "TauStarRule", "Trajectory", "sgd", "adaptive_sgd",
    "compare_methods", "tau_bracket", "noise_scale", "norm_test_batch_size",
    "two_batch_noise_scale", "estimators_along",
]
