"""Comparison rules (McCandlish noise scale, Byrd norm test) against direct computation."""
from __future__ import annotations

import numpy as np
import pytest

from robustcore.batchsize import (
    estimators_along,
    noise_scale,
    norm_test_batch_size,
    optimal_batch_size,
    ridge_problem,
    two_batch_noise_scale,
)


@pytest.fixture(scope="module")
def prob():
    return ridge_problem(n=200, d=5, lam=1e-2, rows="uneven", seed=7)


def test_noise_scale_and_norm_test(prob):
    p = prob
    x = p.x_star + 0.3 * np.random.default_rng(0).standard_normal(p.d)
    G = np.array([p.per_example_grads(x, np.array([i]))[0] for i in range(p.n)])
    g = G.mean(0)
    V = np.mean(np.sum((G - g) ** 2, 1))
    assert noise_scale(p, x) == pytest.approx(V / (g @ g), rel=1e-10)
    theta = 0.5
    B = norm_test_batch_size(p, x, theta)
    # at B the without-replacement variance of the batch mean equals theta^2 ||g||^2
    assert (p.n - B) / (B * (p.n - 1)) * V == pytest.approx(theta**2 * (g @ g), rel=1e-10)
    assert 0 < B <= p.n
    with pytest.raises(ValueError, match="theta"):
        norm_test_batch_size(p, x, 0.0)


def test_two_batch_parts_are_unbiased(prob):
    # The two-batch estimator's numerator and denominator are unbiased for tr(Sigma) and
    # ||G||^2; check the ratio of Monte-Carlo means (4000 draws) against the exact B_simple.
    p = prob
    x = p.x_star + 0.3 * np.random.default_rng(1).standard_normal(p.d)
    rng = np.random.default_rng(2)
    b, B = 4, 32
    num, den = [], []
    for _ in range(4000):
        idx = rng.integers(p.n, size=B)
        G = p.per_example_grads(x, idx)
        nB, nb = np.sum(G.mean(0) ** 2), np.sum(G[:b].mean(0) ** 2)
        den.append((B * nB - b * nb) / (B - b))
        num.append((nb - nB) / (1 / b - 1 / B))
    assert np.mean(num) / np.mean(den) == pytest.approx(noise_scale(p, x), rel=0.1)
    v = two_batch_noise_scale(p, x, b, B, rng)
    assert np.isfinite(v)


def test_noise_rules_diverge_while_tau_star_stays(prob):
    p = prob
    v = np.random.default_rng(3).standard_normal(p.d)
    X = np.array([p.x_star + t * v for t in (1.0, 1e-2, 1e-4)])
    est = estimators_along(p, X, theta=0.5)
    assert np.all(np.diff(est["noise_scale"]) > 0) and est["noise_scale"][-1] > 1e6
    assert est["norm_test"][-1] == pytest.approx(p.n, rel=1e-3)
    assert optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, 1e-2) < p.n
