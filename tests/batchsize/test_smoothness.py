"""Expected smoothness and gradient noise against enumeration of every batch (reference §6.1-6)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg

from robustcore.batchsize import expected_smoothness, gradient_noise, ridge_problem


def _exact_es(p, batches):
    """Exact expected-smoothness constant of a quadratic finite sum for a list of
    (probability, multiset-of-indices, weight) batches: lam_max(M^{-1/2} E[M_S^2] M^{-1/2})."""
    Mi = np.einsum("ij,ik->ijk", p.A, p.A) + p.lam * np.eye(p.d)
    M = Mi.mean(axis=0)
    EM2 = np.zeros((p.d, p.d))
    for prob, S, w in batches:
        MS = w * Mi[list(S)].sum(axis=0) if len(S) else np.zeros((p.d, p.d))
        EM2 += prob * MS @ MS
    R = np.linalg.inv(scipy.linalg.sqrtm(M).real)
    return float(np.linalg.eigvalsh(R @ EM2 @ R)[-1])


def _exact_noise(p, batches):
    G = p.per_example_grads(p.x_star)
    tot = 0.0
    for prob, S, w in batches:
        g = w * G[list(S)].sum(axis=0) if len(S) else np.zeros(p.d)
        tot += prob * g @ g
    return tot


def _nice(n, tau):
    subs = list(itertools.combinations(range(n), tau))
    return [(1.0 / len(subs), S, 1.0 / tau) for S in subs]


def _independent(n, tau):
    q = tau / n
    out = []
    for m in range(n + 1):
        for S in itertools.combinations(range(n), m):
            out.append((q**m * (1 - q) ** (n - m), S, 1.0 / tau))
    return out


def _replacement(n, tau):
    return [(n ** -tau, S, 1.0 / tau) for S in itertools.product(range(n), repeat=tau)]


def test_edge_values():
    n, L, Lm, h = 50, 2.0, 9.0, 3.0
    assert expected_smoothness(1, n, L, Lm) == pytest.approx(Lm, rel=1e-14)
    assert expected_smoothness(n, n, L, Lm) == pytest.approx(L, rel=1e-14)
    assert expected_smoothness(1, n, L, Lm, "replacement") == pytest.approx(Lm, rel=1e-14)
    assert expected_smoothness(n, n, L, Lm, "independent") == pytest.approx(L, rel=1e-14)
    assert gradient_noise(n, n, h) == 0.0
    assert gradient_noise(n, n, h, "independent") == 0.0
    assert gradient_noise(1, n, h) == pytest.approx(h, rel=1e-14)
    assert gradient_noise(n, n, np.array([1.0, 2.0]), "distributed", nodes=2) == 0.0


@pytest.mark.parametrize("sampling", ["nice", "independent", "replacement"])
def test_monotone_and_affine(sampling):
    n, L, Lm, h = 40, 1.5, 20.0, 2.0
    t = np.arange(1, n + 1, dtype=float)
    Lt = expected_smoothness(t, n, L, Lm, sampling)
    st = gradient_noise(t, n, h, sampling)
    assert np.all(np.diff(Lt) <= 1e-12) and np.all(np.diff(st) < 0)
    # tau L(tau) affine increasing, tau sigma^2(tau) affine non-increasing (reference §1.4)
    assert np.allclose(np.diff(t * Lt, 2), 0, atol=1e-10) and np.all(np.diff(t * Lt) > 0)
    assert np.allclose(np.diff(t * st, 2), 0, atol=1e-10) and np.all(np.diff(t * st) <= 1e-12)


@pytest.mark.parametrize("sampling,make", [("nice", _nice), ("independent", _independent)])
def test_enumeration_nice_and_independent(tiny_ridge, sampling, make):
    p = tiny_ridge
    for tau in range(1, p.n + 1):
        batches = make(p.n, tau)
        assert sum(b[0] for b in batches) == pytest.approx(1.0)
        sig = float(gradient_noise(tau, p.n, p.h_star, sampling))
        assert _exact_noise(p, batches) == pytest.approx(sig, rel=1e-9, abs=1e-12)
        Lt = float(expected_smoothness(tau, p.n, p.L, p.L_max, sampling))
        assert _exact_es(p, batches) <= Lt * (1 + 1e-9)
    # the formula is the exact constant when the batch is the whole data set
    assert _exact_es(p, _nice(p.n, p.n)) == pytest.approx(p.L, rel=1e-9)


def test_enumeration_with_replacement():
    p = ridge_problem(n=5, d=2, lam=0.1, noise=0.5, rows="uneven", seed=4)
    for tau in (1, 2, 3):
        batches = _replacement(p.n, tau)
        assert _exact_noise(p, batches) == pytest.approx(
            float(gradient_noise(tau, p.n, p.h_star, "replacement")), rel=1e-9)
        assert _exact_es(p, batches) <= float(
            expected_smoothness(tau, p.n, p.L, p.L_max, "replacement")) * (1 + 1e-9)


def test_enumeration_distributed():
    p = ridge_problem(n=8, d=2, lam=0.1, noise=0.5, rows="uneven", seed=5)
    m, nj = 2, 4
    s2, lmax = p.shard_stats(m)
    for tau in (2, 4, 6, 8):
        tj = tau // m
        per = [list(itertools.combinations(range(j * nj, (j + 1) * nj), tj)) for j in range(m)]
        prob = 1.0 / (len(per[0]) * len(per[1]))
        batches = [(prob, S0 + S1, 1.0 / tau) for S0 in per[0] for S1 in per[1]]
        assert _exact_noise(p, batches) == pytest.approx(
            float(gradient_noise(tau, p.n, s2, "distributed", nodes=m)), rel=1e-9, abs=1e-13)
        assert _exact_es(p, batches) <= float(
            expected_smoothness(tau, p.n, p.L, lmax, "distributed", nodes=m)) * (1 + 1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="tau"):
        expected_smoothness(0, 10, 1.0, 2.0)
    with pytest.raises(ValueError, match="tau"):
        gradient_noise(11, 10, 1.0)
    with pytest.raises(ValueError, match="L_max"):
        expected_smoothness(2, 10, 3.0, 2.0)
    with pytest.raises(ValueError, match="h_star"):
        gradient_noise(2, 10, math.nan)
    with pytest.raises(ValueError, match="sampling"):
        gradient_noise(2, 10, 1.0, "bogus")
    with pytest.raises(ValueError, match="nodes"):
        gradient_noise(2, 10, 1.0, "distributed", nodes=3)
