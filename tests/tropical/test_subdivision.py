"""Dual subdivision, T(R) and the decision boundary (I4, I5, I8, I9, I10, I11, I13)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from tests.tropical._tropical_helpers import bisect_sign_changes, maximisers, random_net, same_point_sets
from robustcore.tropical import (
    LiftedZonotope,
    ShallowReluNet,
    argmax_boundary_cells,
    argmax_boundary_dual,
    decision_boundary_cells,
    decision_boundary_dual,
    dual_subdivision,
    lifted_zonotopes,
    pair_polynomials,
    segment_set_distance,
    subdivision_from_lifted,
    zonogon_directions,
)
from robustcore.tropical.boundary import _point_segment_distance

BOX = (-3.0, 3.0, -3.0, 3.0)


def _R_monomials(net: ShallowReluNet) -> tuple[np.ndarray, np.ndarray]:
    """Explicit monomials of R = H1 Q2 (+) H2 Q1 (independent of the zonotope code)."""
    T1, T2 = pair_polynomials(net)
    E1, c1 = T1.expand()
    E2, c2 = T2.expand()
    return np.vstack([E1, E2]), np.concatenate([c1, c2])


def test_boundary_two_ways_agree_I8() -> None:
    """B from the bridging edges of delta(R) = B solved in each activation cell, over 250 random nets."""
    rng = np.random.default_rng(0)
    for t in range(250):
        net = random_net(rng, int(rng.integers(1, 11)))
        S_cells = decision_boundary_cells(net, BOX)
        S_dual = decision_boundary_dual(net, BOX)
        assert segment_set_distance(S_cells, S_dual) < 1e-7, t
    for t in range(40):
        net = random_net(rng, int(rng.integers(1, 8)), k=int(rng.integers(3, 5)))
        assert segment_set_distance(argmax_boundary_cells(net, BOX), argmax_boundary_dual(net, BOX)) < 1e-7, t


def test_boundary_points_lie_on_T_and_on_B_I5_I9() -> None:
    """Bisected sign changes of f1 - f2 have >= 2 maximising monomials of R with distinct exponents and lie
    on a computed piece of B and of T(R); T(R) pieces are orthogonal to their dual edges; argmax switches of R
    lie on T(R)."""
    rng = np.random.default_rng(1)
    n_points = 0
    for _ in range(60):
        net = random_net(rng, int(rng.integers(1, 7)))
        E, c = _R_monomials(net)
        sub = dual_subdivision(net)
        T = sub.hypersurface_segments(BOX)
        B = sub.hypersurface_segments(BOX, bridging_only=True)
        pts = bisect_sign_changes(lambda X: net.logits(X) @ [1.0, -1.0], BOX, rng, n_lines=4)
        for x in pts:
            assert len(maximisers(E, c, x, 1e-7)) >= 2
        if len(pts):
            assert _point_segment_distance(pts, B).max() < 1e-6
            assert _point_segment_distance(pts, T).max() < 1e-6
        n_points += len(pts)
        # points on every computed T piece have two maximisers
        pa = sub.piece_arrays()
        for s in T:
            mid = 0.5 * (s[0] + s[1])
            assert len(maximisers(E, c, mid, 1e-7)) >= 2
        # orthogonality: each piece is orthogonal to its dual edge
        dual_vec = sub.points[pa["dual"][:, 1]] - sub.points[pa["dual"][:, 0]]
        cosang = np.abs(np.einsum("ij,ij->i", pa["vec"], dual_vec)) / (
            np.linalg.norm(pa["vec"], axis=1) * np.linalg.norm(dual_vec, axis=1))
        assert np.all(cosang < 1e-7)
        # argmax switches of R (explicit monomials) lie on T(R)
        for _ in range(3):
            a, b = rng.uniform(-3, 3, 2), rng.uniform(-3, 3, 2)
            tt = np.linspace(0, 1, 300)
            P = a + tt[:, None] * (b - a)
            g = E[(P @ E.T + c).argmax(axis=1)]
            for q in np.flatnonzero(np.abs(g[1:] - g[:-1]).max(axis=1) > 1e-9):
                lo, hi = tt[q], tt[q + 1]
                g_lo = g[q]
                for _ in range(50):
                    mid = 0.5 * (lo + hi)
                    gm = E[(((a + mid * (b - a)) @ E.T) + c).argmax()]
                    if np.allclose(gm, g_lo, atol=1e-9):
                        lo = mid
                    else:
                        hi = mid
                x = a + 0.5 * (lo + hi) * (b - a)
                assert _point_segment_distance(x[None], T)[0] < 1e-6
    assert n_points > 50  # the check is not vacuous


def test_upper_vertices_are_the_linear_regions_of_R_I8() -> None:
    """Each upper vertex has an open region where its monomial strictly wins (LP) and the gradient of R there
    is that vertex; every explicit monomial with such a region is an upper vertex."""
    rng = np.random.default_rng(2)
    for _ in range(15):
        net = random_net(rng, int(rng.integers(1, 5)))
        E, c = _R_monomials(net)
        sub = dual_subdivision(net)
        upper = {tuple(np.round(sub.points[v], 8)) for v in sub.upper}
        has_region = set()
        for m in range(len(E)):
            # maximise t s.t. <E_m - E_u, x> + c_m - c_u >= t for all u with E_u != E_m; |x| <= 1e3, t <= 1
            other = np.abs(E - E[m]).max(axis=1) > 1e-12
            if not other.any():
                has_region.add(tuple(np.round(E[m], 8)))
                continue
            A_ub = np.column_stack([-(E[m] - E[other]), np.ones(other.sum())])
            b_ub = c[m] - c[other]
            res = linprog([0, 0, -1], A_ub=A_ub, b_ub=b_ub, bounds=[(-1e3, 1e3), (-1e3, 1e3), (None, 1)])
            if res.status == 0 and -res.fun > 1e-9:
                x = res.x[:2]
                # gradient of R at x by central differences = E_m
                h = 1e-6 * min(1.0, -res.fun)
                R = lambda y: (E @ y + c).max()  # noqa: E731
                grad = np.array([(R(x + h * e) - R(x - h * e)) / (2 * h) for e in np.eye(2)])
                assert np.allclose(grad, E[m], atol=1e-5)
                has_region.add(tuple(np.round(E[m], 8)))
        assert has_region == upper
        assert sub.n_regions == len(has_region)


def test_T_is_B_plus_neuron_lines_I10() -> None:
    """T(R) = B u {A_j x + c1_j = 0 : w1_j > 0, f1 > f2} u {A_j x + c1_j = 0 : w2_j > 0, f2 > f1}."""
    rng = np.random.default_rng(3)
    for _ in range(40):
        net = random_net(rng, int(rng.integers(1, 8)))
        w1, w2 = net.pair_weights()
        sub = dual_subdivision(net)
        T = sub.hypersurface_segments(BOX)
        t = np.linspace(0.05, 0.95, 7)
        P = (T[:, None, 0] + t[None, :, None] * (T[:, None, 1] - T[:, None, 0])).reshape(-1, 2)
        diff = net.logits(P) @ [1.0, -1.0]
        on_line = np.abs(P @ net.A.T + net.c1) / np.linalg.norm(net.A, axis=1) < 1e-7  # (n, p)
        explained = (np.abs(diff) < 1e-7) | ((on_line & (w1 > 0)).any(axis=1) & (diff > 0)) | (
            (on_line & (w2 > 0)).any(axis=1) & (diff < 0))
        assert explained.all()
        # the reverse inclusion: points on such neuron lines are on T(R)
        for l in range(net.p):
            a, c0 = net.A[l], net.c1[l]
            x0 = -c0 * a / (a @ a)
            u = np.array([-a[1], a[0]]) / np.linalg.norm(a)
            Q = x0 + np.linspace(-6, 6, 61)[:, None] * u
            Q = Q[(np.abs(Q) < 2.9).all(axis=1)]
            if not len(Q):
                continue
            d = net.logits(Q) @ [1.0, -1.0]
            keep = ((w1[l] > 0) & (d > 1e-6)) | ((w2[l] > 0) & (d < -1e-6))
            if keep.any():
                assert _point_segment_distance(Q[keep], T).max() < 1e-7


def test_bias_free_theorem_I11() -> None:
    """c1 = c2 = 0: delta(R) = conv(Z_G1 u Z_G2) with no interior edge, T(R) = rays from 0 orthogonal to the
    hull edges, B = the rays of the bridging edges (checked against sign changes of f1 - f2 on a circle)."""
    rng = np.random.default_rng(4)
    tested = 0
    for _ in range(80):
        net = random_net(rng, int(rng.integers(2, 9)), bias=False)
        sub = dual_subdivision(net)
        assert sub.kind == "flat" and len(sub.cells) == 1
        assert np.all(sub.edge_cells[:, 1] == -1)  # no interior edge
        pa = sub.piece_arrays()
        assert np.allclose(pa["start"], 0.0, atol=1e-12) and set(pa["kind"]) == {"ray"}
        if len(sub.tie_vertices()):
            continue  # s is a hull vertex: a full-dimensional tie cone (reference §1.3)
        tested += 1
        ang = np.linspace(0, 2 * np.pi, 20001)[:-1]
        circ = np.column_stack([np.cos(ang), np.sin(ang)])
        d = net.logits(circ) @ [1.0, -1.0]
        changes = np.flatnonzero(np.sign(d) != np.sign(np.roll(d, -1)))
        br = pa["vec"][pa["bridging"]]
        assert len(changes) == len(br)
        br_ang = np.sort(np.mod(np.arctan2(br[:, 1], br[:, 0]), 2 * np.pi))
        assert np.allclose(br_ang, np.sort(ang[changes]), atol=2 * np.pi / 20000 * 1.01)
    assert tested > 20


def test_shift_is_irrelevant_I4() -> None:
    """Translating both lifted zonotopes by -s (keeping heights) changes neither T(R) nor B."""
    rng = np.random.default_rng(5)
    for _ in range(40):
        net = random_net(rng, int(rng.integers(1, 8)))
        Z = lifted_zonotopes(net)
        s = net.common_shift([0, 1])
        moved = [LiftedZonotope(z.generators, z.shift - np.append(s, 0.0)) for z in Z]
        a, b = subdivision_from_lifted(Z), subdivision_from_lifted(moved)
        # R changes by <s, x> only; its hypersurface does not
        assert segment_set_distance(a.hypersurface_segments(BOX), b.hypersurface_segments(BOX)) < 1e-8
        assert segment_set_distance(a.hypersurface_segments(BOX, True), b.hypersurface_segments(BOX, True)) < 1e-8


def test_pruning_a_neuron_I13() -> None:
    """Zeroing unit j deletes generator j from both zonotopes (vertex count -2 for a unique direction); if
    B1j = B2j the unit does not enter f1 - f2 and removing it leaves B unchanged."""
    rng = np.random.default_rng(6)
    for _ in range(40):
        net = random_net(rng, int(rng.integers(2, 9)))
        j = int(rng.integers(net.p))
        A = net.A.copy()
        A[j] = 0.0
        pruned = ShallowReluNet(A, net.c1, net.B, net.c2)
        for G, H in zip(net.zonotope_generators(), pruned.zonotope_generators()):
            assert np.allclose(H[j], 0) and np.allclose(np.delete(G, j, 0), np.delete(H, j, 0))
            if np.any(G[j]):
                assert zonogon_directions(H) == zonogon_directions(G) - 1
        B = net.B.copy()
        B[1, j] = B[0, j]  # same output weight for both classes
        tied = ShallowReluNet(net.A, net.c1, B, net.c2)
        keep = np.arange(net.p) != j
        removed = ShallowReluNet(net.A[keep], net.c1[keep], B[:, keep], net.c2)
        assert segment_set_distance(decision_boundary_cells(tied, BOX), decision_boundary_cells(removed, BOX)) < 1e-9
        assert segment_set_distance(decision_boundary_dual(tied, BOX), decision_boundary_dual(removed, BOX)) < 1e-7


def test_degenerate_nets_do_not_break() -> None:
    """Zero A, zero B, parallel neurons, duplicate units, a lone zero unit: no Qhull error, both ways agree."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=2)
    cases = [
        ShallowReluNet(np.zeros((3, 2)), [0.5, -1.0, 0.2], rng.normal(size=(2, 3)), [0.1, -0.2]),
        ShallowReluNet(rng.normal(size=(3, 2)), rng.normal(size=3), np.zeros((2, 3)), [0.3, 0.1]),
        ShallowReluNet(np.array([a, -2 * a, 0.5 * a]), [0.1, 0.3, -0.4], rng.normal(size=(2, 3)), [0.0, 0.2]),
        ShallowReluNet(np.array([a, a, [1.0, 0.0]]), [0.2, 0.2, 0.0], [[1.0, 1.0, -0.5], [-0.3, -0.3, 0.8]], [0, 0.1]),
        ShallowReluNet(np.array([a, [0.0, 0.0]]), [0.2, 1.0], rng.normal(size=(2, 2)), [0.0, 0.0]),
    ]
    for net in cases:
        sub = dual_subdivision(net)
        assert sub.kind in ("full", "flat", "segment", "point")
        assert segment_set_distance(decision_boundary_cells(net, BOX), decision_boundary_dual(net, BOX)) < 1e-7
    assert dual_subdivision(cases[0]).kind == "point"
    assert dual_subdivision(cases[2]).kind == "segment"


def test_boundary_two_ways_agree_for_small_biases() -> None:
    """Biases down to 1e-7 of the weights (near the bias-free limit, where steep sliver facets and
    stacked points appear): the two constructions of B agree to 1e-5 (sub-pixel in a box of width 6:
    cells of size ~1e-6 near the origin may be dropped by the cell method). Much smaller biases make the
    problem ill-conditioned (|f1 - f2| ~ 1e-10 on whole cones) and the page reports the gap instead."""
    rng = np.random.default_rng(8)
    for eps in (1e-2, 1e-4, 1e-6, 1e-7):
        for t in range(30):
            p = int(rng.integers(2, 9))
            net = ShallowReluNet(rng.normal(size=(p, 2)), eps * rng.normal(size=p), rng.normal(size=(2, p)),
                                 eps * rng.normal(size=2))
            assert segment_set_distance(decision_boundary_cells(net, BOX), decision_boundary_dual(net, BOX)) < 1e-5, (eps, t)


def test_upper_vertices_from_the_arrangement_equal_the_face_enumeration() -> None:
    """The fast path (cells of the line arrangement -> upper vertices) gives the same dual subdivision as the
    exact zonohedron face enumeration, and falls back to it for concurrent lines (bias-free nets)."""
    import robustcore.tropical.subdivision as S

    rng = np.random.default_rng(5)
    for p, bias in ((4, True), (12, True), (40, True), (6, False)):
        net = random_net(rng, p, bias=bias)
        zonos = S.lifted_zonotopes(net)
        fast = S.subdivision_from_lifted(zonos)
        blocks = [z.upper_vertices(fast=False) for z in zonos]
        unit = float(max(np.abs(b[:, :2]).max() for b in blocks))
        slow = S._subdivision_core([b / unit for b in blocks], 2)
        assert fast.kind == slow.kind and len(fast.cells) == len(slow.cells) and fast.n_regions == slow.n_regions
        assert same_point_sets(fast.points[fast.upper], slow.points[slow.upper] * unit, tol=1e-9 * unit)
    bias_free = random_net(rng, 6, bias=False)
    assert S._upper_vertices_by_arrangement(S.lifted_zonotopes(bias_free)[0].generators, np.zeros(3)) is None


def test_fast_upper_vertices_on_degenerate_integer_nets() -> None:
    """Integer weights (parallel, concurrent and duplicate neuron lines): the arrangement path either declines
    (None) or gives the same dual subdivision as the face enumeration."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    import robustcore.tropical.subdivision as S
    from robustcore.tropical import ShallowReluNet

    ints = st.integers(-2, 2)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.lists(st.tuples(ints, ints, ints, ints, ints), min_size=3, max_size=7), st.tuples(ints, ints))
    def check(rows, c2):
        R = np.array(rows, dtype=float)
        net = ShallowReluNet(R[:, :2], R[:, 2] * 0.5, R[:, 3:].T + 0.1 * np.arange(len(rows)), np.array(c2, float))
        zonos = S.lifted_zonotopes(net)
        fast = S.subdivision_from_lifted(zonos)
        blocks = [z.upper_vertices(fast=False) for z in zonos]
        unit = float(max(np.abs(b[:, :2]).max() for b in blocks)) or 1.0
        slow = S._subdivision_core([b / unit for b in blocks], 2)
        assert fast.kind == slow.kind and fast.n_regions == slow.n_regions and len(fast.cells) == len(slow.cells), rows
        assert same_point_sets(fast.points[fast.upper], slow.points[slow.upper] * unit, tol=1e-9 * unit), rows

    check()
