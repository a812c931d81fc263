"""Zonotope vertices, area, volume and support function against Qhull on the 2^m subset sums (I6, I7)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from tests.tropical._tropical_helpers import same_point_sets
from robustcore.tropical import (
    subset_sums,
    support_function,
    zonogon_directions,
    zonotope_area,
    zonotope_perimeter,
    zonotope_vertices,
    zonotope_volume,
)


def test_zonogon_matches_qhull_of_subset_sums() -> None:
    """I6: angle-sort vertices = Qhull vertices of all 2^m subset sums; count = 2 x directions; CCW."""
    rng = np.random.default_rng(0)
    for trial in range(150):
        m = int(rng.integers(2, 13))
        G = rng.normal(size=(m, 2))
        if trial % 3 == 0 and m >= 4:  # parallel, antiparallel and zero generators
            G[1] = -2.5 * G[0]
            G[-1] = 0.0
        s = rng.normal(size=2)
        V = zonotope_vertices(G, s)
        P = subset_sums(G, s)
        ref = P[ConvexHull(P).vertices]
        assert same_point_sets(V, ref, 1e-9)
        assert len(V) == 2 * zonogon_directions(G)
        # counter-clockwise: every consecutive turn is a left turn
        e = np.roll(V, -1, axis=0) - V
        cross = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
        assert np.all(cross > 0)
        # central symmetry about s + sum(g)/2
        c = s + G.sum(axis=0) / 2
        assert same_point_sets(V, 2 * c - V, 1e-9)
        # area = sum_{i<j} |det(g_i, g_j)| (independent closed form) = Qhull area
        pair = sum(abs(np.linalg.det(np.array([G[a], G[b]]))) for a in range(m) for b in range(a + 1, m))
        assert zonotope_area(G) == pytest.approx(pair, rel=1e-9, abs=1e-12)
        assert zonotope_area(G) == pytest.approx(ConvexHull(P).volume, rel=1e-9)


def test_zonogon_degenerate_cases() -> None:
    """All parallel -> a segment (2 vertices); all zero -> one point; perimeter = 2 sum |g|."""
    G = np.array([[1.0, 2.0], [-2.0, -4.0], [0.5, 1.0]])
    V = zonotope_vertices(G, [1.0, 1.0])
    assert len(V) == 2
    assert same_point_sets(V, np.array([[1 - 2.0, 1 - 4.0], [1 + 1.5, 1 + 3.0]]))
    assert zonotope_area(G) == 0.0
    Z = zonotope_vertices(np.zeros((4, 2)), [3.0, -1.0])
    assert Z.shape == (1, 2) and np.allclose(Z, [[3.0, -1.0]])
    rng = np.random.default_rng(1)
    G = rng.normal(size=(7, 2))
    V = zonotope_vertices(G)
    assert zonotope_perimeter(G) == pytest.approx(np.linalg.norm(np.roll(V, -1, 0) - V, axis=1).sum(), rel=1e-12)


def test_zonohedron_matches_qhull_and_generic_count() -> None:
    """I7: 3-D vertices = Qhull of subset sums; generic count m^2 - m + 2; volume = sum |det|."""
    rng = np.random.default_rng(2)
    for trial in range(40):
        m = int(rng.integers(3, 10))
        G = rng.normal(size=(m, 3))
        degenerate = trial % 4 == 1 and m >= 5
        if degenerate:  # a coplanar triple and a parallel pair
            G[2] = G[0] + 0.7 * G[1]
            G[3] = -1.3 * G[0]
        s = rng.normal(size=3)
        V = zonotope_vertices(G, s)
        P = subset_sums(G, s)
        hull = ConvexHull(P)
        assert same_point_sets(V, P[hull.vertices], 1e-8)
        if not degenerate:
            assert len(V) == m * m - m + 2
        assert zonotope_volume(G) == pytest.approx(hull.volume, rel=1e-8)


def test_flat_3d_zonotope_is_handled() -> None:
    """Generators in a plane (Qhull would fail): the exact zonogon, embedded in 3-D."""
    rng = np.random.default_rng(3)
    G2 = rng.normal(size=(5, 2))
    E = np.linalg.qr(rng.normal(size=(3, 2)))[0].T  # (2, 3) orthonormal rows
    V3 = zonotope_vertices(G2 @ E)
    V2 = zonotope_vertices(G2)
    assert same_point_sets(V3, V2 @ E, 1e-9)


def test_support_function_matches_vertices() -> None:
    """h_Z(u) = <s,u> + sum max(0, <g,u>) equals the max over the exact vertices (2-D and 3-D)."""
    rng = np.random.default_rng(4)
    for d in (2, 3):
        G = rng.normal(size=(8, d))
        s = rng.normal(size=d)
        U = rng.normal(size=(200, d))
        V = zonotope_vertices(G, s)
        assert np.allclose(support_function(G, U, s), (U @ V.T).max(axis=1), atol=1e-10)


def test_speed_scale_runs_and_bad_input() -> None:
    """100,000 generators work (the speed figure is in benchmarks/tropical.py); bad input is a ValueError."""
    rng = np.random.default_rng(5)
    V = zonotope_vertices(rng.normal(size=(100_000, 2)))
    assert len(V) % 2 == 0 and len(V) > 100_000 // 2  # a few near-parallel pairs may merge
    with pytest.raises(ValueError, match="NaN"):
        zonotope_vertices(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="shift"):
        zonotope_vertices(np.ones((2, 2)), shift=[1.0, 2.0, 3.0])


def test_close_pair_clusters_match_a_breadth_first_search():
    from robustcore.tropical.zonotope import close_pair_clusters

    rng = np.random.default_rng(5)
    n = 60
    pairs = rng.integers(0, n, size=(40, 2))
    labels, first = close_pair_clusters(n, pairs)
    adj = {i: set() for i in range(n)}
    for a, b in pairs:
        adj[int(a)].add(int(b))
        adj[int(b)].add(int(a))
    seen, comps = set(), []
    for start in range(n):  # components in the order of their lowest index
        if start in seen:
            continue
        comp, todo = set(), [start]
        while todo:
            v = todo.pop()
            if v not in comp:
                comp.add(v)
                todo.extend(adj[v] - comp)
        seen |= comp
        comps.append(comp)
    assert list(first) == [min(c) for c in comps]
    for k, comp in enumerate(comps):
        assert set(np.nonzero(labels == k)[0]) == comp
