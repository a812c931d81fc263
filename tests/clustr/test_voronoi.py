"""Voronoi edges: each point of an edge is equidistant to its two centres and no centre is closer."""
from __future__ import annotations

import numpy as np
import pytest

from robustcore.clustr.voronoi import voronoi_segments


@pytest.mark.parametrize("M", [2, 3, 7, 20])
def test_edges_are_voronoi_edges(M):
    rng = np.random.default_rng(M)
    C = rng.normal(size=(M, 2))
    box = (-4.0, 4.0, -4.0, 4.0)
    segs = voronoi_segments(C, box)
    assert len(segs) >= 1
    for p0, p1, i, j in segs:
        for t in np.linspace(0, 1, 11):
            p = (1 - t) * p0 + t * p1
            assert box[0] - 1e-9 <= p[0] <= box[1] + 1e-9 and box[2] - 1e-9 <= p[1] <= box[3] + 1e-9
            d = np.linalg.norm(C - p, axis=1)
            assert d[i] == pytest.approx(d[j], rel=1e-7, abs=1e-9)
            assert d.min() >= d[i] - 1e-7
    # every grid point's nearest-centre label changes only across an edge: count of distinct
    # adjacent-cell pairs found on a fine grid is covered by the edges
    xs = np.linspace(-4, 4, 161)
    P = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    lab = np.argmin(np.linalg.norm(P[:, None] - C[None], axis=2), axis=1).reshape(161, 161)
    pairs = {tuple(sorted(p)) for p in zip(lab[:, :-1].ravel(), lab[:, 1:].ravel()) if p[0] != p[1]}
    pairs |= {tuple(sorted(p)) for p in zip(lab[:-1].ravel(), lab[1:].ravel()) if p[0] != p[1]}
    edge_pairs = {tuple(sorted((i, j))) for _, _, i, j in segs}
    assert pairs <= edge_pairs


def test_collinear_centres():
    C = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    segs = voronoi_segments(C, (-1.0, 4.0, -1.0, 1.0))
    xs = sorted(round(float(p0[0]), 9) for p0, _, _, _ in segs)
    assert xs == [0.5, 2.0]
