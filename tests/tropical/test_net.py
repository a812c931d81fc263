"""ShallowReluNet: validation, torch round trip, generators (I2) and symmetries (I12)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.tropical._tropical_helpers import random_net, same_point_sets
from robustcore.nets import ToyReluNet
from robustcore.tropical import ShallowReluNet, decision_boundary_cells, segment_set_distance, zonotope_vertices

BOX = (-3.0, 3.0, -3.0, 3.0)


def test_logits_match_formula_and_torch_round_trip() -> None:
    torch.manual_seed(0)
    model = ToyReluNet(d=2, hidden=7, num_classes=3).double()
    net = ShallowReluNet.from_torch(model)
    X = np.random.default_rng(0).normal(size=(50, 2))
    ref = model(torch.tensor(X)).detach().numpy()
    assert np.allclose(net.logits(X), ref, atol=1e-12)
    assert np.array_equal(net.predict(X), ref.argmax(axis=1))
    back = net.to_torch(torch.float64)
    assert np.allclose(back(torch.tensor(X)).detach().numpy(), ref, atol=1e-12)
    # the formula itself, written out independently
    h = np.maximum(X @ net.A.T + net.c1, 0)
    assert np.allclose(net.logits(X), h @ net.B.T + net.c2)


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(A=np.zeros((0, 2)), c1=np.zeros(0), B=np.zeros((2, 0))), "p = 0"),
        (dict(c1=[0.0, np.nan]), "NaN"),
        (dict(B=[[1.0, np.inf], [0.0, 1.0]]), "NaN or infinite"),
        (dict(c1=[0.0, 0.0, 0.0]), "c1 must have shape"),
        (dict(B=np.ones((2, 3))), "B must have 2 columns"),
        (dict(B=np.ones((1, 2)), c2=[0.0]), "at least 2 rows"),
        (dict(c2=[0.0, 0.0, 0.0]), "c2 must have shape"),
        (dict(A=[1.0, 2.0]), "2-D array"),
    ],
)
def test_bad_input_is_a_clear_value_error(kw: dict, msg: str) -> None:
    base = dict(A=np.eye(2), c1=np.zeros(2), B=np.eye(2), c2=np.zeros(2))
    base.update(kw)
    with pytest.raises(ValueError, match=msg):
        ShallowReluNet(**base)


def test_from_torch_rejects_other_architectures() -> None:
    with pytest.raises(ValueError, match="Linear -> ReLU -> Linear"):
        ShallowReluNet.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)))
    net = random_net(np.random.default_rng(0), 3)
    with pytest.raises(ValueError, match="different classes"):
        net.zonotope_generators(1, 1)
    with pytest.raises(ValueError, match="X must have shape"):
        net.logits(np.zeros((3, 5)))


def test_generator_identities_I2() -> None:
    """G1 - G2 = Diag(B1 - B2) A, G1 + G2 = Diag(|B1| + |B2|) A; swapping classes swaps Z1, Z2 and keeps B."""
    rng = np.random.default_rng(1)
    for _ in range(100):
        net = random_net(rng, int(rng.integers(1, 10)), k=int(rng.integers(2, 5)))
        i, j = rng.choice(net.k, 2, replace=False)
        G1, G2 = net.zonotope_generators(i, j)
        assert np.allclose(G1 - G2, (net.B[i] - net.B[j])[:, None] * net.A)
        assert np.allclose(G1 + G2, (np.abs(net.B[i]) + np.abs(net.B[j]))[:, None] * net.A)
        H1, H2 = net.zonotope_generators(j, i)
        assert np.array_equal(H1, G2) and np.array_equal(H2, G1)
    for _ in range(10):
        net = random_net(rng, 5)
        swapped = ShallowReluNet(net.A, net.c1, net.B[::-1], net.c2[::-1])
        assert segment_set_distance(decision_boundary_cells(net, BOX), decision_boundary_cells(swapped, BOX)) < 1e-9


def test_symmetries_I12() -> None:
    """Rescaling a hidden unit by alpha > 0 (A_j, c1_j, B_:j) -> (a A_j, a c1_j, B_:j / a) changes nothing;
    permuting units permutes generator rows; scaling B, c2 by alpha scales the zonotopes and keeps B."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2)) * 2
    for _ in range(60):
        net = random_net(rng, int(rng.integers(2, 8)))
        alpha = rng.uniform(0.2, 5.0, size=net.p)
        scaled = ShallowReluNet(net.A * alpha[:, None], net.c1 * alpha, net.B / alpha, net.c2)
        assert np.allclose(scaled.logits(X), net.logits(X))
        for G, H in zip(net.zonotope_generators(), scaled.zonotope_generators()):
            assert np.allclose(G, H)
        perm = rng.permutation(net.p)
        permuted = ShallowReluNet(net.A[perm], net.c1[perm], net.B[:, perm], net.c2)
        for G, H in zip(net.zonotope_generators(), permuted.zonotope_generators()):
            assert np.allclose(G[perm], H)
            assert same_point_sets(zonotope_vertices(G), zonotope_vertices(H), 1e-9)
        a = rng.uniform(0.3, 3.0)
        big = ShallowReluNet(net.A, net.c1, a * net.B, a * net.c2)
        for G, H in zip(net.zonotope_generators(), big.zonotope_generators()):
            assert same_point_sets(a * zonotope_vertices(G), zonotope_vertices(H), 1e-9)
        assert segment_set_distance(decision_boundary_cells(net, BOX), decision_boundary_cells(big, BOX)) < 1e-9
