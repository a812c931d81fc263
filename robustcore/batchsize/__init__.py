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
from .libsvm import (
    LIBSVM_DIR_ENV,
    MAX_LIBSVM_BYTES,
    libsvm_folder,
    libsvm_problem,
    libsvm_problem_from_bytes,
    list_libsvm_files,
    read_libsvm_bytes,
    resolve_libsvm_name,
)
from .problems import (
    MAX_D,
    MAX_ENTRIES,
    MAX_N,
    MNIST_TASKS,
    SKLEARN_SETS,
    FiniteSumProblem,
    logistic_problem,
    mnist_problem,
    ridge_problem,
    sklearn_problem,
)
from .experiments import (
    compare_over_seeds,
    cost_sweep,
    default_tau_grid,
    summarise_comparison,
    sweep_summary,
)
from .sgd import (
    BOUND_LABEL,
    FAIR_LABEL,
    METHODS,
    PLUGIN_LABEL,
    RULE_NAMES,
    Trajectory,
    adaptive_sgd,
    compare_methods,
    sgd,
    tau_bracket,
    tau_star_of,
)
from .smoothness import SAMPLINGS, expected_smoothness, gradient_noise

__all__ = [
    "FiniteSumProblem", "ridge_problem", "logistic_problem", "sklearn_problem", "libsvm_problem",
    "SKLEARN_SETS", "SAMPLINGS", "expected_smoothness", "gradient_noise", "step_size",
    "iteration_complexity", "total_complexity", "batch_size_crossing", "optimal_batch_size",
    "complexity_curves", "absolute_eps", "TauStarRule", "Trajectory", "sgd", "adaptive_sgd",
    "compare_methods", "tau_bracket", "noise_scale", "norm_test_batch_size",
    "two_batch_noise_scale", "estimators_along", "mnist_problem", "MNIST_TASKS", "MAX_N", "MAX_D",
    "MAX_ENTRIES", "LIBSVM_DIR_ENV", "MAX_LIBSVM_BYTES", "libsvm_folder", "libsvm_problem_from_bytes",
    "list_libsvm_files", "read_libsvm_bytes", "resolve_libsvm_name", "compare_over_seeds",
    "cost_sweep", "default_tau_grid", "summarise_comparison", "sweep_summary", "BOUND_LABEL",
    "FAIR_LABEL", "METHODS", "PLUGIN_LABEL", "RULE_NAMES", "tau_star_of",
]
