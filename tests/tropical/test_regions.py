"""Linear regions of 2-D nets (I15) and slices / projections for d > 2."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from tests.tropical._tropical_helpers import random_net, same_point_sets
from robustcore.tropical import (
    ShallowReluNet,
    coordinate_frame,
    decision_boundary_cells,
    linear_regions_2d,
    pair_geometry,
    pca_frame,
    projected_zonotope,
    region_bound,
    slice_net,
    support_function,
)

BOX = (-3.0, 3.0, -3.0, 3.0)


def test_regions_tile_the_box_and_carry_their_patterns_I15() -> None:
    """Regions partition the box (areas sum to its area), each centroid has the region's activation pattern,
    patterns are distinct, every pattern seen on a fine grid is a region, and the count is <= 1 + p + C(p,2)."""
    rng = np.random.default_rng(0)
    g = np.linspace(-2.999, 2.999, 160)
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    for _ in range(60):
        net = random_net(rng, int(rng.integers(1, 13)))
        R = linear_regions_2d(net, BOX)
        assert R.areas.sum() == pytest.approx(36.0, rel=1e-9)
        assert np.array_equal(net.activation_patterns(R.centroids), R.patterns)
        assert len({r.tobytes() for r in R.patterns}) == len(R)
        assert len(R) <= 1 + net.p + comb(net.p, 2) == region_bound(net.p)
        seen = net.activation_patterns(grid)
        assert np.all(R.index_of_patterns(seen) >= 0)
        # the net is affine on each region: the value at the centroid is the average of the vertex values
        for c in range(min(len(R), 5)):
            P = R.polygon(c)
            Xs = P[:3].mean(axis=0)  # inside a convex polygon
            lin = net.logits(P[:3]).mean(axis=0)
            assert np.allclose(net.logits(Xs[None])[0], lin, atol=1e-9)


def test_generic_lines_reach_the_bound() -> None:
    """p generic lines through a big enough box give exactly 1 + p + C(p, 2) regions."""
    rng = np.random.default_rng(1)
    for p in (1, 2, 3, 5, 8):
        A = rng.normal(size=(p, 2))
        net = ShallowReluNet(A, rng.normal(size=p) * 0.3, rng.normal(size=(2, p)), np.zeros(2))
        assert len(linear_regions_2d(net, (-1e4, 1e4, -1e4, 1e4))) == region_bound(p)


def test_slice_and_projection_for_d_above_2() -> None:
    """The slice net equals f(x0 + U t); projected zonotope support = original support in direction U u."""
    rng = np.random.default_rng(2)
    for _ in range(20):
        d = int(rng.integers(3, 6))
        net = random_net(rng, int(rng.integers(2, 7)), d=d)
        U = np.linalg.qr(rng.normal(size=(d, 2)))[0]
        x0 = rng.normal(size=d)
        sn = slice_net(net, x0, U)
        T = rng.normal(size=(30, 2))
        assert np.allclose(sn.logits(T), net.logits(x0 + T @ U.T))
        G1, _ = net.zonotope_generators()
        s = net.common_shift([0, 1])
        Zp = projected_zonotope(G1, U, s)
        dirs = rng.normal(size=(50, 2))
        assert np.allclose((dirs @ Zp.T).max(axis=1), support_function(G1, dirs @ U.T, s), atol=1e-9)
        # the exact 2-D machinery runs on the slice
        geo = pair_geometry(sn, BOX)
        assert geo.B_gap < 1e-7
    X = rng.normal(size=(100, 4)) * [3.0, 1.0, 0.1, 0.1]
    Uq, mu = pca_frame(X, 2)
    assert np.allclose(Uq.T @ Uq, np.eye(2)) and abs(abs(Uq[0, 0]) - 1) < 0.05
    Uc = coordinate_frame(4, (0, 2))
    assert same_point_sets(projected_zonotope(np.eye(4), Uc), np.array([[0, 0], [1, 0], [0, 1], [1, 1.0]]))


def test_two_d_views_refuse_other_dimensions() -> None:
    net = random_net(np.random.default_rng(3), 3, d=3)
    for fn in (lambda: linear_regions_2d(net, BOX), lambda: decision_boundary_cells(net, BOX),
               lambda: pair_geometry(net, BOX)):
        with pytest.raises(ValueError, match="d = 2"):
            fn()
    net2 = random_net(np.random.default_rng(3), 3)
    with pytest.raises(ValueError, match="xmin < xmax"):
        linear_regions_2d(net2, (1.0, 0.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="axes"):
        coordinate_frame(3, (0, 0))


def test_region_to_dual_vertex_link() -> None:
    """pair_geometry links each region to the upper vertex whose monomial attains R there: R(centroid) =
    <e, x> + h_e, the vertex lies on the side (Z_G1 / Z_G2) of the winning class, and it is an upper vertex."""
    rng = np.random.default_rng(4)
    for _ in range(30):
        net = random_net(rng, int(rng.integers(1, 10)))
        geo = pair_geometry(net, BOX)
        X = geo.regions.centroids
        e = geo.sub.points[geo.region_dual]
        h = geo.sub.heights[geo.region_dual]
        assert np.allclose(geo.sub.R(X), (X * e).sum(axis=1) + h, atol=1e-9)
        diff = net.logits(X) @ [1.0, -1.0]
        assert np.array_equal(geo.region_side, np.sign(diff).astype(int))
        tag_needed = np.where(diff > 0, 1, 2)
        assert np.all(geo.sub.tags[geo.region_dual] & tag_needed)
        assert np.isin(geo.region_dual, geo.sub.upper).all()
        assert geo.counts["linear regions of f in the box"] <= geo.counts["bound 1 + p + C(p,2)"]


def test_planar_graph_arrangement_equals_polygon_splitting():
    """The O(p^2 log p) planar-graph construction and the polygon-splitting one give the same cells (same
    activation patterns, same areas), including degenerate arrangements: every line through one point
    (bias-free), duplicate and parallel lines, a zero row, lines along the box sides and through a corner."""
    from robustcore.tropical.regions import _linear_regions_split

    rng = np.random.default_rng(11)
    nets = [random_net(rng, p) for p in (1, 2, 3, 9, 40)]
    nets.append(random_net(rng, 7, bias=False))
    A = np.array([[1, 0], [1, 0], [2, 0], [0, 1], [0, 0], [1, 1], [1, -1]], float)
    nets.append(ShallowReluNet(A, [0.0, 0.0, 0.0, 0.5, 1.0, -9.0, 0.0], np.ones((2, 7)), np.zeros(2)))
    nets.append(ShallowReluNet([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], [4.0, 0.0, -4.0], np.ones((2, 3)), np.zeros(2)))
    box = (-4.0, 4.0, -4.0, 4.0)
    for net in nets:
        fast, ref = linear_regions_2d(net, box), _linear_regions_split(net, box)
        assert len(fast) == len(ref)
        a_fast = {r.tobytes(): a for r, a in zip(fast.patterns, fast.areas)}
        a_ref = {r.tobytes(): a for r, a in zip(ref.patterns, ref.areas)}
        assert a_fast.keys() == a_ref.keys()
        for key, a in a_ref.items():
            assert abs(a_fast[key] - a) <= 1e-9 * 64
        assert abs(fast.areas.sum() - 64.0) <= 1e-9
        # every cell is convex, counter-clockwise, and the net's pattern at its centroid is its own
        np.testing.assert_array_equal(net.activation_patterns(fast.centroids), fast.patterns)


def test_arrangement_on_degenerate_integer_nets_matches_polygon_splitting():
    """Small integer weights make every degeneracy common: parallel and duplicate lines, three or more lines
    through one point, lines along the box sides and through its corners. Both constructions must agree."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from robustcore.tropical.regions import _linear_regions_split

    ints = st.integers(-2, 2)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.lists(st.tuples(ints, ints, ints), min_size=1, max_size=7))
    def check(rows):
        A = np.array([[a, b] for a, b, _ in rows], dtype=float)
        c = np.array([cc for _, _, cc in rows], dtype=float)
        net = ShallowReluNet(A, c, np.ones((2, len(rows))), np.zeros(2))
        box = (-2.0, 2.0, -2.0, 2.0)
        fast, ref = linear_regions_2d(net, box), _linear_regions_split(net, box)
        a_fast = {r.tobytes(): a for r, a in zip(fast.patterns, fast.areas)}
        a_ref = {r.tobytes(): a for r, a in zip(ref.patterns, ref.areas)}
        assert a_fast.keys() == a_ref.keys(), rows
        for key, a in a_ref.items():
            assert abs(a_fast[key] - a) <= 1e-9, rows
        assert abs(fast.areas.sum() - 16.0) <= 1e-9, rows

    check()
