"""Comparison batch-size rules from the literature, evaluated along an SGD run.

Reference ``batchsize.md`` §5. At an iterate x, with per-example gradients ``grad f_i(x)``,
``g = grad f(x)`` and ``V(x) = (1/n) sum_i ||grad f_i(x) - g||^2`` (trace of the per-example
covariance):

- McCandlish et al. 2018, simple gradient noise scale ``B_simple = tr(Sigma)/||G||^2 = V/||g||^2``;
  their estimator from two batch sizes b < B (as in k-diffusion's ``gns.py``):
  ``||G||^2 ~ (B||g_B||^2 - b||g_b||^2)/(B - b)``, ``tr Sigma ~ (||g_b||^2 - ||g_B||^2)/(1/b - 1/B)``.
- Byrd, Chin, Nocedal, Wu 2012, norm test ``Var(g_B) <= theta^2 ||g||^2``; with the
  without-replacement variance ``(n - B)/(B(n - 1)) V`` the smallest passing batch is
  ``B_norm = n V/(V + theta^2 (n - 1) ||g||^2)`` (always <= n).

Both scale like ``V/||g||^2`` and grow without bound as x -> x* (``B_simple``) or tend to n
(``B_norm``), while tau* stays finite because its accuracy is fixed by eps.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_int, check_real
from .problems import FiniteSumProblem

__all__ = ["noise_scale", "norm_test_batch_size", "two_batch_noise_scale", "estimators_along"]


def _point(problem, x) -> np.ndarray:
    if not isinstance(problem, FiniteSumProblem):
        raise TypeError(f"problem must be a FiniteSumProblem, got {type(problem).__name__}.")
    return problem.check_point(x)


def _stats(problem: FiniteSumProblem, x: np.ndarray) -> tuple[float, float]:
    G = problem.per_example_grads(_point(problem, x))
    g = G.mean(axis=0)
    V = float(np.mean(np.sum((G - g) ** 2, axis=1)))
    return V, float(g @ g)


def noise_scale(problem: FiniteSumProblem, x: np.ndarray) -> float:
    """McCandlish et al.'s simple noise scale ``B_simple = V(x)/||grad f(x)||^2`` (exact, all n)."""
    V, g2 = _stats(problem, x)
    return V / g2 if g2 > 0 else np.inf


def norm_test_batch_size(problem: FiniteSumProblem, x: np.ndarray, theta: float = 0.5) -> float:
    """Smallest batch passing Byrd et al.'s norm test at x, without-replacement form (§5).

    ``B_norm = n V/(V + theta^2 (n - 1) ||g||^2)`` in [0, n]; exact (uses all n gradients).
    """
    theta = check_real("theta", theta, 0.0, 1e6, lo_open=True)
    V, g2 = _stats(problem, x)
    n = problem.n
    return n * V / (V + theta**2 * (n - 1) * g2) if V > 0 else 0.0


def two_batch_noise_scale(problem: FiniteSumProblem, x: np.ndarray, b: int, B: int,
                          rng: np.random.Generator) -> float:
    """McCandlish's unbiased two-batch estimate of ``B_simple`` from fresh batches b < B.

    Batches are drawn with replacement so that ``E||g_b||^2 = ||G||^2 + tr(Sigma)/b`` holds
    exactly (the estimator's model). Returns ``tr Sigma_hat / ||G||^2_hat`` (can be negative or
    huge when the gradient estimate is noise, as in practice; the k-diffusion code smooths
    both parts with an EMA for that reason).
    """
    b = check_int("b", b, 1, 10**6)
    B = check_int("B", B, 2, 10**6)
    if not b < B:
        raise ValueError(f"Need 1 <= b < B, got b={b}, B={B}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator.")
    idx = rng.integers(problem.n, size=B)
    G = problem.per_example_grads(_point(problem, x), idx)
    gB, gb = G.mean(axis=0), G[:b].mean(axis=0)
    nB, nb = float(gB @ gB), float(gb @ gb)
    g2 = (B * nB - b * nb) / (B - b)
    tr = (nb - nB) / (1.0 / b - 1.0 / B)
    return tr / g2 if g2 != 0 else np.inf


def estimators_along(problem: FiniteSumProblem, X: np.ndarray, theta: float = 0.5,
                     b: int = 8, B: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    """Evaluate the comparison rules at the iterates X (m, d) of a run (its snapshots).

    Returns arrays (m,): ``"noise_scale"`` (exact B_simple), ``"noise_scale_2batch"`` (two fresh
    batches, b and B), ``"norm_test"`` (exact B_norm with ``theta``), plus ``"V"`` and ``"g2"``.
    """
    if not isinstance(problem, FiniteSumProblem):
        raise TypeError(f"problem must be a FiniteSumProblem, got {type(problem).__name__}.")
    X = np.atleast_2d(np.asarray(X))
    if X.dtype.kind not in "iuf":
        raise TypeError("X must be an array of real numbers.")
    X = X.astype(np.float64)
    if X.ndim != 2 or X.shape[1] != problem.d or X.shape[0] > 10_000 or not np.all(np.isfinite(X)):
        raise ValueError(f"X must be a finite (m, d = {problem.d}) array with m <= 10000.")
    theta = check_real("theta", theta, 0.0, 1e6, lo_open=True)
    b = check_int("b", b, 1, 10**6)
    B = check_int("B", B, 2, 10**6)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    rng = np.random.default_rng(seed)
    V, g2 = np.array([_stats(problem, x) for x in X]).T
    n = problem.n
    with np.errstate(divide="ignore", invalid="ignore"):
        bs = np.where(g2 > 0, V / g2, np.inf)
        nt = np.where(V > 0, n * V / (V + theta**2 * (n - 1) * g2), 0.0)
    two = np.array([two_batch_noise_scale(problem, x, b, min(B, max(b + 1, n)), rng) for x in X])
    return {"noise_scale": bs, "noise_scale_2batch": two, "norm_test": nt, "V": V, "g2": g2}
