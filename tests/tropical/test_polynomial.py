"""Tropical decomposition f_i = H_i - Q_i (I1), Newton polytope = zonotope (I3), multi-class (I14)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tropical._tropical_helpers import random_net
from robustcore.tropical import (
    common_denominator_polynomials,
    common_denominator_weights,
    pair_polynomials,
    support_function,
    tropical_decomposition,
)


def test_decomposition_reproduces_logits_I1() -> None:
    """Explicit monomials: max_m(c_m + <a_m, x>) of H_i minus that of Q_i equals f_i at random x."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        k = int(rng.integers(2, 4))
        net = random_net(rng, int(rng.integers(1, 7)), k=k)
        X = rng.normal(size=(25, 2)) * 3
        F = net.logits(X)
        for i, (H, Q) in enumerate(tropical_decomposition(net)):
            # explicit expansion (independent of the factored evaluation)
            assert np.allclose(H.evaluate_explicit(X) - Q.evaluate_explicit(X), F[:, i], atol=1e-9)
            assert np.allclose(H(X) - Q(X), F[:, i], atol=1e-9)
            assert H.exponents.shape[1] == 2 and len(H.coefficients) <= 2 ** net.p


def test_closed_forms_match_expansion_I1() -> None:
    """H_1 + Q_2 = <s, x> + c2_1 + sum_j w1_j ReLU(A_j x + c1_j) and the analogue for H_2 + Q_1."""
    rng = np.random.default_rng(1)
    for _ in range(100):
        net = random_net(rng, int(rng.integers(1, 7)), d=int(rng.integers(1, 4)))
        X = rng.normal(size=(20, net.d)) * 2
        T1, T2 = pair_polynomials(net)
        w1, w2 = net.pair_weights()
        s = (np.abs(net.B[0]) + np.abs(net.B[1])) @ np.maximum(-net.A, 0)
        relu = np.maximum(X @ net.A.T + net.c1, 0)
        assert np.allclose(T1.evaluate_explicit(X), X @ s + net.c2[0] + relu @ w1, atol=1e-9)
        assert np.allclose(T2.evaluate_explicit(X), X @ s + net.c2[1] + relu @ w2, atol=1e-9)
        assert np.allclose(T1(X) - T2(X), net.logits(X) @ [1.0, -1.0], atol=1e-9)


def test_newton_polytope_is_the_zonotope_I3() -> None:
    """Support function of the exponents of H_1 (.) Q_2 = that of Z_G1 = s + sum [0,1] G1 rows; lifted
    version in upward directions (u, 1)."""
    rng = np.random.default_rng(2)
    for _ in range(40):
        net = random_net(rng, int(rng.integers(1, 8)))
        T1, T2 = pair_polynomials(net)
        G1, G2 = net.zonotope_generators()
        s = net.common_shift([0, 1])
        U = rng.normal(size=(100, 2))
        for T, G, c2, w in ((T1, G1, net.c2[0], net.pair_weights()[0]), (T2, G2, net.c2[1], net.pair_weights()[1])):
            E, c = T.expand()
            assert np.allclose((U @ E.T).max(axis=1), support_function(G, U, s), atol=1e-9)
            lifted_G = w[:, None] * np.column_stack([net.A, net.c1])
            U3 = np.column_stack([U, np.ones(len(U))])
            assert np.allclose((U @ E.T + c).max(axis=1), support_function(lifted_G, U3, np.append(s, c2)), atol=1e-9)


def test_common_denominator_I14() -> None:
    """argmax f = argmax P_i; P_i - f_i is the same for every i; k = 2 gives w1, w2 and the same s."""
    rng = np.random.default_rng(3)
    for _ in range(60):
        k = int(rng.integers(2, 6))
        net = random_net(rng, int(rng.integers(1, 9)), k=k)
        X = rng.normal(size=(60, 2)) * 3
        P = np.column_stack([Pi(X) for Pi in common_denominator_polynomials(net)])
        F = net.logits(X)
        diff = P - F
        assert np.allclose(diff, diff[:, :1], atol=1e-9)
        assert np.array_equal(P.argmax(axis=1), F.argmax(axis=1))
        W, s = common_denominator_weights(net)
        relu = np.maximum(X @ net.A.T + net.c1, 0)
        assert np.allclose(P, X @ s[:, None] + net.c2 + relu @ W.T, atol=1e-9)
        if k == 2:
            w1, w2 = net.pair_weights()
            assert np.allclose(W, [w1, w2]) and np.allclose(s, net.common_shift([0, 1]))


def test_explicit_expansion_refuses_huge_polynomials() -> None:
    net = random_net(np.random.default_rng(4), 40)
    H, _ = tropical_decomposition(net)[0]
    with pytest.raises(ValueError, match="at most"):
        _ = H.exponents
    assert np.isfinite(H(np.zeros((1, 2)))).all()  # the closed form still evaluates
