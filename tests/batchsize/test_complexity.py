"""Closed-form tau* against brute force, and the properties of reference §6.7-11."""
from __future__ import annotations

import math

import numpy as np
import pytest

from robustcore.batchsize import (
    TauStarRule,
    batch_size_crossing,
    complexity_curves,
    expected_smoothness,
    gradient_noise,
    optimal_batch_size,
    sklearn_problem,
    step_size,
    total_complexity,
)


def _random_setting(rng):
    n = int(rng.integers(2, 400))
    L = float(rng.uniform(0.1, 5.0))
    Lm = L * float(rng.uniform(1.0, min(n, 200.0)))
    mu = L * float(rng.uniform(1e-3, 1.0))
    h = float(10 ** rng.uniform(-3, 2))
    eps = float(10 ** rng.uniform(-6, 0))
    return n, L, Lm, mu, h, eps


@pytest.mark.parametrize("sampling", ["nice", "independent", "replacement"])
def test_tau_star_is_brute_force_minimiser(sampling):
    rng = np.random.default_rng(7)
    for _ in range(400):
        n, L, Lm, mu, h, eps = _random_setting(rng)
        t = np.arange(1, n + 1)
        T = total_complexity(t, n, L, Lm, mu, h, eps, r0_sq=1.0, sampling=sampling)
        ts = optimal_batch_size(n, L, Lm, mu, h, eps, sampling)
        assert 1 <= ts <= n
        # compare total complexities, not indices (ties are legitimate)
        assert T[ts - 1] <= T.min() * (1 + 1e-9) + 1e-300
        assert TauStarRule(n, L, Lm, mu, sampling)(h, eps) == ts


def test_tau_star_distributed_brute_force():
    rng = np.random.default_rng(8)
    for _ in range(200):
        m = int(rng.integers(1, 6))
        n = m * int(rng.integers(2, 60))
        L = float(rng.uniform(0.1, 5.0))
        lmax = L * rng.uniform(1.0, min(30.0, n), size=m)  # L_max <= n L for convex f_i
        mu = L * float(rng.uniform(1e-3, 1.0))
        s2 = 10 ** rng.uniform(-3, 1, size=m)
        eps = float(10 ** rng.uniform(-5, 0))
        t = np.arange(m, n + 1, m)
        T = total_complexity(t, n, L, lmax, mu, s2, eps, 1.0, "distributed", nodes=m)
        ts = optimal_batch_size(n, L, lmax, mu, s2, eps, "distributed", nodes=m)
        assert ts % m == 0
        assert T[ts // m - 1] <= T.min() * (1 + 1e-9)


def test_interpolation_and_tiny_eps():
    n, L, Lm, mu = 300, 1.0, 40.0, 0.1
    assert optimal_batch_size(n, L, Lm, mu, 0.0, 1e-3) == 1
    assert optimal_batch_size(n, L, Lm, mu, 2.0, 1e-14) == n


def test_monotone_in_eps_and_h():
    n, L, Lm, mu = 500, 2.2, 150.0, 0.97
    eps = np.logspace(-7, 1, 60)
    ts = [optimal_batch_size(n, L, Lm, mu, 6.4, e) for e in eps]
    assert np.all(np.diff(ts) <= 0)
    hs = np.logspace(-4, 3, 60)
    ts = [optimal_batch_size(n, L, Lm, mu, h, 1e-3) for h in hs]
    assert np.all(np.diff(ts) >= 0)


def test_branches_equal_at_crossing():
    rng = np.random.default_rng(9)
    hits = 0
    for _ in range(300):
        n, L, Lm, mu, h, eps = _random_setting(rng)
        tc = batch_size_crossing(n, L, Lm, mu, h, eps)
        if 1 <= tc <= n:
            hits += 1
            a = 2 * expected_smoothness(tc, n, L, Lm) / mu
            b = 4 * gradient_noise(tc, n, h) / (eps * mu**2)
            assert a == pytest.approx(b, rel=1e-8)
            # both parts of the step size agree there too
            g = step_size(tc, n, L, Lm, mu, h, eps)
            assert g == pytest.approx(1 / (2 * expected_smoothness(tc, n, L, Lm)), rel=1e-8)
            # tau-nice closed form of reference §1.4
            c = 2 * h / (eps * mu)
            assert tc == pytest.approx(n * (c + L - Lm) / (c + n * L - Lm), rel=1e-9)
    assert hits > 30


def test_with_replacement_flat_range():
    n, L, Lm, mu, h, eps = 400, 1.0, 30.0, 0.5, 2.0, 0.05
    c = 2 * h / (eps * mu)
    tmax = 1 + (c - Lm) / L
    assert 1 < tmax < n
    t = np.arange(1, n + 1)
    T = total_complexity(t, n, L, Lm, mu, h, eps, 1.0, "replacement")
    flat = t <= tmax
    assert np.allclose(T[flat], T[0], rtol=1e-12) and np.all(T[~flat] > T[0])
    assert optimal_batch_size(n, L, Lm, mu, h, eps, "replacement") == math.floor(tmax)


def test_breast_cancer_reference_values():
    # reference §3.3 table, computed independently: lam = 0.1 -> tau* = 73, 340, 534, 566
    p = sklearn_problem("breast_cancer", lam=0.1)
    assert p.L == pytest.approx(0.2008, abs=1e-4) and p.L_max == pytest.approx(0.35, abs=1e-4)
    assert p.h_star == pytest.approx(0.0849, abs=1e-4)
    got = [optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, e) for e in (1e-1, 1e-2, 1e-3, 1e-4)]
    assert got == [73, 340, 534, 566]


def test_relative_eps_and_curves():
    n, L, Lm, mu, h = 200, 1.0, 20.0, 0.2, 1.0
    assert optimal_batch_size(n, L, Lm, mu, h, 1e-2, r0_sq=4.0) == optimal_batch_size(
        n, L, Lm, mu, h, 4e-2)
    cur = complexity_curves(np.arange(1, n + 1), n, L, Lm, mu, h, 1e-2, r0_sq=4.0)
    assert np.allclose(cur["T"], np.maximum(cur["T_smooth"], cur["T_noise"]))
    ts = optimal_batch_size(n, L, Lm, mu, h, 1e-2, r0_sq=4.0)
    assert cur["T"][ts - 1] == pytest.approx(cur["T"].min())


def test_bad_input():
    with pytest.raises(ValueError, match="eps"):
        optimal_batch_size(10, 1.0, 2.0, 0.5, 1.0, 0.0)
    with pytest.raises(ValueError, match="mu"):
        optimal_batch_size(10, 1.0, 2.0, -0.5, 1.0, 0.1)
    with pytest.raises(ValueError, match="L_max"):
        optimal_batch_size(10, 1.0, 0.5, 0.5, 1.0, 0.1)
    with pytest.raises(ValueError, match="tau"):
        total_complexity(0, 10, 1.0, 2.0, 0.5, 1.0, 0.1, 1.0)
