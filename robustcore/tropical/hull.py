"""The convex hull of the two zonotopes of a class pair, with tagged vertices and bridging edges.

conv(Z_G1 u Z_G2) is the Newton polygon of R = H_i Q_j (+) H_j Q_i (the paper's Theorem 2, bias-free
form: delta(R) = ConvexHull(Z_G1, Z_G2)). A hull vertex is tagged 1 (a vertex of Z_G1), 2 (of Z_G2)
or 3 (both); a hull edge whose end points carry different tags is a *bridging* edge: for the
bias-free net the decision boundary is the union of the rays along the outward normals of the
bridging edges (reference §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .zonotope import zonotope_vertices

__all__ = ["PairHull", "zonotope_pair_hull"]


@dataclass
class PairHull:
    """conv(Z_1 u Z_2) in 2-D: counter-clockwise ``vertices`` (h, 2), ``tags`` (h,) in {1, 2, 3},
    ``edges`` (h, 2) index pairs (i, i+1), ``bridging`` (b,) indices of the bridging edges and
    ``normals`` (h, 2) the outward unit normal of each edge."""

    vertices: np.ndarray
    tags: np.ndarray
    edges: np.ndarray
    bridging: np.ndarray
    normals: np.ndarray


def zonotope_pair_hull(G1: Any, G2: Any, shift: Any = None) -> PairHull:
    """Hull of the 2-D zonotopes shift + sum [0,1] G1_l and shift + sum [0,1] G2_l, tagged.

    Parameters
    ----------
    G1, G2 : (p, 2) generator matrices (e.g. ``net.zonotope_generators(i, j)``).
    shift : (2,) common shift s, or None.

    Returns
    -------
    PairHull. A segment or a point (all generators parallel or zero) gives 2 or 1 vertices and
    no normals that matter; nothing raises on degenerate input. Every tolerance is relative to the
    points' own scale (shared with ``subdivision``), so G -> a G gives the same hull for any a > 0.
    """
    from ._checks import as_array
    from .subdivision import _convex_polygon_order, _dedupe_tagged

    G1 = as_array("G1", G1)
    G2 = as_array("G2", G2)
    if G1.ndim != 2 or G2.ndim != 2 or G1.shape[1] != 2 or G2.shape[1] != 2:
        raise ValueError(f"zonotope_pair_hull needs two (p, 2) generator matrices; got {G1.shape} and {G2.shape}.")
    Z1, Z2 = zonotope_vertices(G1, shift), zonotope_vertices(G2, shift)
    pts, tags = _dedupe_tagged([Z1, Z2])
    if len(pts) >= 3:
        order = _convex_polygon_order(pts)
    else:
        order = np.arange(len(pts))
    if len(order) < 3 and len(pts) >= 2:
        # collinear: the two extreme points along the common direction
        u = pts[-1] - pts[0] if len(pts) >= 2 else np.zeros(2)
        t = pts @ u
        order = np.unique([int(np.argmin(t)), int(np.argmax(t))])
    V, T = pts[order], tags[order]
    h = len(V)
    edges = np.column_stack([np.arange(h), (np.arange(h) + 1) % h]) if h >= 2 else np.zeros((0, 2), dtype=int)
    d = V[edges[:, 1]] - V[edges[:, 0]] if len(edges) else np.zeros((0, 2))
    nrm = np.column_stack([d[:, 1], -d[:, 0]])  # outward for a counter-clockwise polygon
    nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-300)
    bridging = np.flatnonzero(T[edges[:, 0]] != T[edges[:, 1]]) if len(edges) else np.zeros(0, dtype=int)
    return PairHull(V, T, edges, bridging, nrm)
