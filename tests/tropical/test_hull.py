"""Hull of the two zonotopes (tags, bridging edges), lifted upper-vertex counts (I7), n-D bound (I15),
and the DESIGN.md wrappers on ShallowReluNet."""

from __future__ import annotations

from math import comb

import numpy as np
from scipy.spatial import ConvexHull

from tests.tropical._tropical_helpers import random_net, same_point_sets
from robustcore.tropical import (
    LiftedZonotope,
    region_bound,
    subdivision_from_lifted,
    subset_sums,
    zonotope_pair_hull,
    zonotope_vertices,
)


def test_pair_hull_is_qhull_of_both_with_correct_tags_and_bridges() -> None:
    """Hull vertices = Qhull of the union of all subset sums; each tag says which zonotope has the vertex;
    bias-free: the bridging-edge normals are exactly the directions where f1 - f2 changes sign."""
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(60):
        net = random_net(rng, int(rng.integers(2, 8)), bias=False)
        G1, G2 = net.zonotope_generators()
        s = net.common_shift([0, 1])
        H = zonotope_pair_hull(G1, G2, s)
        P1, P2 = subset_sums(G1, s), subset_sums(G2, s)
        allp = np.vstack([P1, P2])
        assert same_point_sets(H.vertices, allp[ConvexHull(allp).vertices], 1e-9)
        V1, V2 = zonotope_vertices(G1, s), zonotope_vertices(G2, s)
        for v, t in zip(H.vertices, H.tags):
            in1 = np.linalg.norm(V1 - v, axis=1).min() < 1e-9
            in2 = np.linalg.norm(V2 - v, axis=1).min() < 1e-9
            assert t == (1 if in1 else 0) + (2 if in2 else 0)
        if (H.tags == 3).any():
            continue  # s on the hull: a tie cone, see the subdivision tests
        checked += 1
        ang = np.linspace(0, 2 * np.pi, 20001)[:-1]
        d = net.logits(np.column_stack([np.cos(ang), np.sin(ang)])) @ [1.0, -1.0]
        changes = np.flatnonzero(np.sign(d) != np.sign(np.roll(d, -1)))
        nb = H.normals[H.bridging]
        assert len(changes) == len(nb)
        assert np.allclose(np.sort(np.mod(np.arctan2(nb[:, 1], nb[:, 0]), 2 * np.pi)), np.sort(ang[changes]),
                           atol=2 * np.pi / 20000 * 1.01)
    assert checked > 20


def test_lifted_zonotope_upper_vertices_I7() -> None:
    """A lifted zonotope in R^3 with m generic generators has 1 + m + C(m, 2) upper vertices (and
    m^2 - m + 2 vertices in all); the upper ones match Qhull's upper facets of the subset sums."""
    rng = np.random.default_rng(1)
    for m in range(1, 9):
        G = rng.normal(size=(m, 3))
        sub = subdivision_from_lifted([LiftedZonotope(G, np.zeros(3))])
        assert sub.n_regions == 1 + m + comb(m, 2)
        if m >= 3:
            P = subset_sums(G)
            hull = ConvexHull(P)
            up = np.unique(hull.simplices[hull.equations[:, 2] > 1e-9])
            assert len(up) == sub.n_regions
            assert len(zonotope_vertices(G)) == m * m - m + 2


def test_counting_bound_in_n_dimensions_I15() -> None:
    """Distinct activation patterns of p neurons in R^n at many random points <= sum_{j<=n} C(p, j)."""
    rng = np.random.default_rng(2)
    for n in (2, 3, 4):
        for p in (3, 6, 10):
            net = random_net(rng, p, d=n)
            X = rng.normal(size=(40_000, n)) * 4
            pats = np.unique(net.activation_patterns(X), axis=0)
            assert len(pats) <= min(region_bound(p, n), 2**p)
            assert len(pats) >= min(p + 1, 2**p)  # not vacuous: the sample sees many cells


def test_design_api_wrappers() -> None:
    """net.tropical_polynomials(), decision_boundary_2d, tropical_hypersurface_2d, dual_subdivision_2d."""
    rng = np.random.default_rng(3)
    net = random_net(rng, 5)
    box = (-3.0, 3.0, -3.0, 3.0)
    pairs = net.tropical_polynomials()
    X = rng.normal(size=(10, 2))
    assert np.allclose(np.column_stack([H(X) - Q(X) for H, Q in pairs]), net.logits(X))
    B = np.array(net.decision_boundary_2d(box))
    T = np.array(net.tropical_hypersurface_2d(box))
    assert B.ndim == 3 and B.shape[1:] == (2, 2) and T.shape[1:] == (2, 2)
    # every boundary segment's midpoint has f0 = f1 and lies on T(R)
    mids = B.mean(axis=1)
    assert np.allclose(net.logits(mids) @ [1.0, -1.0], 0.0, atol=1e-9)
    from robustcore.tropical.boundary import _point_segment_distance

    assert _point_segment_distance(mids, T).max() < 1e-9
    assert len(net.dual_subdivision_2d().cells) >= 1
