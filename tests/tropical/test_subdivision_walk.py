"""The dual subdivision read off the line arrangement (``subdivision._arrangement_walk``, no Qhull) against an
independent construction: scipy's Qhull over every vertex of both lifted zonotopes (exact face enumeration).

For each net: the upper vertices are the same point set with the same zonotope tags; every upper triangle of
Qhull lies in exactly one cell and the triangles fill each cell's area; each cell's plane passes through its
corners and (small nets) lies above every lifted point; and the previous construction (Qhull over the upper
vertices, ``_subdivision_core`` without the walk) gives the same cells. Random nets up to p = 256 and degenerate
ones (parallel neurons, zero rows, dead neurons, duplicated neurons, a tie-prone integer net).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import ConvexHull, cKDTree

import robustcore.tropical.subdivision as S
from robustcore.tropical import ShallowReluNet, lifted_zonotopes, pair_geometry, subdivision_from_lifted
from tests.tropical._tropical_helpers import random_net


def _gauss(rng: np.random.Generator, p: int) -> ShallowReluNet:
    return ShallowReluNet(rng.normal(size=(p, 2)), rng.normal(size=p), rng.normal(size=(2, p)), rng.normal(size=2))


def _parallel(rng: np.random.Generator, p: int) -> ShallowReluNet:
    """Groups of neurons with parallel lines (A rows multiples of each other, different biases)."""
    net = _gauss(rng, p)
    A = net.A.copy()
    A[1::3] = 2.5 * A[0::3][: len(A[1::3])]
    A[2::3] = -0.7 * A[0::3][: len(A[2::3])]
    return ShallowReluNet(A, net.c1, net.B, net.c2)


def _zero_rows(rng: np.random.Generator, p: int) -> ShallowReluNet:
    """Neurons with A_l = 0 (constant, on or off), one all-zero neuron and dead ones (B column 0)."""
    net = _gauss(rng, p)
    A, c1, B = net.A.copy(), net.c1.copy(), net.B.copy()
    A[:3] = 0.0
    c1[:3] = [1.5, -0.5, 0.0]
    B[:, 3:5] = 0.0
    return ShallowReluNet(A, c1, B, net.c2)


def _duplicated(rng: np.random.Generator, p: int) -> ShallowReluNet:
    """Two copies of some neurons (coincident lines): the walk declines, Qhull answers."""
    net = _gauss(rng, p)
    A, c1 = net.A.copy(), net.c1.copy()
    A[-4:], c1[-4:] = A[:4], c1[:4]
    return ShallowReluNet(A, c1, net.B, net.c2)


def _integer(rng: np.random.Generator, p: int) -> ShallowReluNet:
    """Small integer weights: concurrent lines and ties f1 = f2 at vertices."""
    return ShallowReluNet(rng.integers(-2, 3, size=(p, 2)).astype(float), rng.integers(-2, 3, size=p) * 0.5,
                          rng.integers(-2, 3, size=(2, p)).astype(float), np.array([0.5, -0.5]))


def _scaled(rng: np.random.Generator, p: int) -> ShallowReluNet:
    """(A, c1, B, c2) -> (aA, a c1, aB, a^2 c2) with a = 1e-4: every tolerance must be relative."""
    net, a = _gauss(rng, p), 1e-4
    return ShallowReluNet(a * net.A, a * net.c1, a * net.B, a * a * net.c2)


def _three_classes(rng: np.random.Generator, p: int) -> ShallowReluNet:
    """A 3-class net; the pair is classes 0 and 1."""
    return random_net(rng, p, k=3)


CASES = [("gauss", _gauss, 6, None)] + [("gauss", _gauss, p, True) for p in (12, 40, 64, 128, 256)] + [
    ("parallel", _parallel, 30, True),
    ("parallel", _parallel, 90, True),
    ("zero rows", _zero_rows, 25, True),
    ("zero rows", _zero_rows, 100, True),
    ("duplicated", _duplicated, 30, False),
    ("integer", _integer, 10, None),
    ("scaled", _scaled, 64, True),
    ("three classes", _three_classes, 50, True),
]


def _check_against_qhull(net: ShallowReluNet, sub: S.DualSubdivision, supporting: bool) -> None:
    zonos = lifted_zonotopes(net)
    V = [z.vertices() for z in zonos]
    pts = np.concatenate(V)
    hull = ConvexHull(pts)
    up = hull.equations[:, 2] > 1e-7
    tri = hull.simplices[up]
    Q = np.column_stack([sub.points, sub.heights])
    scale = float(np.abs(Q).max())
    d, idx = cKDTree(Q).query(pts[tri.reshape(-1)])
    assert d.max() <= 1e-9 * scale
    idx = idx.reshape(-1, 3)
    # the same upper vertices, tagged with the zonotopes they are vertices of
    assert np.array_equal(np.unique(idx), np.sort(sub.upper))
    for k, Vk in enumerate(V):
        dk, _ = cKDTree(Vk).query(Q[sub.upper])
        assert np.array_equal((sub.tags[sub.upper] >> k) & 1 == 1, dk <= 1e-9 * scale)
    # each Qhull upper triangle lies in exactly one cell, and the triangles fill every cell's area
    cells_of: dict[int, set] = {}
    for c, cell in enumerate(sub.cells):
        for v in cell:
            cells_of.setdefault(int(v), set()).add(c)
    P = sub.points
    covered = np.zeros(len(sub.cells))
    for a, b, c in idx:
        owner = cells_of.get(int(a), set()) & cells_of.get(int(b), set()) & cells_of.get(int(c), set())
        assert len(owner) == 1, (a, b, c)
        e1, e2 = P[b] - P[a], P[c] - P[a]
        covered[owner.pop()] += 0.5 * abs(e1[0] * e2[1] - e1[1] * e2[0])
    for c, cell in enumerate(sub.cells):
        E = P[cell] - P[cell[0]]
        area = 0.5 * np.sum(E[:, 0] * np.roll(E[:, 1], -1) - np.roll(E[:, 0], -1) * E[:, 1])
        assert area > 0  # counter-clockwise
        assert abs(covered[c] - area) <= 1e-9 * scale**2 + 1e-7 * area, c
        # the plane h = <a, e> + b passes through the cell's lifted corners
        a1, a2, b0 = sub.planes[c]
        res = sub.heights[cell] - (P[cell] @ np.array([a1, a2]) + b0)
        assert np.abs(res).max() <= 1e-8 * (1.0 + np.abs(sub.heights).max() + np.abs(b0))
    if supporting:
        # ... and lies on or above every lifted point (an upper face)
        gap = pts[:, :2] @ sub.planes[:, :2].T + sub.planes[:, 2] - pts[:, 2:3]
        assert gap.min() >= -1e-8 * (1.0 + np.abs(pts).max() + np.abs(sub.planes).max())


@pytest.mark.parametrize("name,make,p,fast", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_walk_subdivision_equals_qhull(name: str, make, p: int, fast, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(p * 7 + len(name))
    net = make(rng, p)
    used = []
    real = S._faces_to_subdivision

    def spy(*args):
        ok = real(*args)
        used.append(ok)
        return ok

    monkeypatch.setattr(S, "_faces_to_subdivision", spy)
    zonos = lifted_zonotopes(net)
    sub = subdivision_from_lifted(zonos)
    if fast is not None:
        assert any(used) == fast, (name, p, used)
    _check_against_qhull(net, sub, supporting=p <= 64)
    # the previous construction: Qhull over the upper vertices of each lifted zonotope
    blocks = [z.upper_vertices() for z in zonos]
    unit = float(max(np.abs(b[:, :2]).max() for b in blocks))
    old = S._subdivision_core([b / unit for b in blocks], 2)
    assert old.kind == sub.kind
    Qn = np.column_stack([sub.points, sub.heights])
    Qo = np.column_stack([old.points, old.heights]) * unit
    assert Qn.shape == Qo.shape
    d, to_old = cKDTree(Qo).query(Qn)
    assert d.max() <= 1e-9 * np.abs(Qo).max() and len(np.unique(to_old)) == len(to_old)
    assert np.array_equal(sub.tags, old.tags[to_old])
    assert {frozenset(to_old[c].tolist()) for c in sub.cells} == {frozenset(c.tolist()) for c in old.cells}
    assert {frozenset(to_old[e].tolist()) for e in sub.edges} == {frozenset(e.tolist()) for e in old.edges}


def test_region_dual_vertices_still_attain_R_at_p_256() -> None:
    """pair_geometry at the page's largest size: each region's dual vertex attains R at the region's centroid
    (checked against R evaluated from the net's own logits) and is an upper vertex of delta(R)."""
    rng = np.random.default_rng(11)
    net = random_net(rng, 256)
    geo = pair_geometry(net, (-4.0, 4.0, -4.0, 4.0))
    pick = rng.choice(len(geo.regions), 400, replace=False)
    X = geo.regions.centroids[pick]
    e, h = geo.sub.points[geo.region_dual[pick]], geo.sub.heights[geo.region_dual[pick]]
    R = geo.sub.R(X)
    got = (X * e).sum(axis=1) + h
    assert np.abs(got - R).max() <= 1e-9 * (1.0 + np.abs(R).max())
    assert np.isin(geo.region_dual, geo.sub.upper).all()
    # R from the net: f_i - f_j = (H_i + Q_j) - (H_j + Q_i) changes sign exactly where the logits' difference does
    logit = net.logits(X)
    d = logit[:, 0] - logit[:, 1]
    side = np.where(np.abs(d) <= 1e-9 * (1.0 + np.abs(logit).max()), 0, np.sign(d))
    assert np.array_equal(side[side != 0], geo.region_side[pick][side != 0])
    # the public region_dual_points (blocked matmul) against the formula z = s + sum_l sigma_l w_l A_l, row by row
    from robustcore.tropical import region_dual_points

    S = geo.regions.patterns[pick[:20]]
    P1, P2 = region_dual_points(net, S)
    w1, w2 = net.pair_weights(0, 1)
    s = net.common_shift([0, 1])
    for r, sig in enumerate(S):
        for P, w, c in ((P1, w1, net.c2[0]), (P2, w2, net.c2[1])):
            ref = np.append(s, c) + sum(w[l] * np.append(net.A[l], net.c1[l]) for l in np.flatnonzero(sig))
            assert np.allclose(P[r], ref, rtol=1e-12, atol=1e-12)
