"""Private geometry helpers shared by pruning, lottery tickets and the tropical attack.

The *decision polytope* of a k-class net is conv(Z_1 u ... u Z_k) with the common-denominator
zonotopes of reference §1.4: Z_i = sum_j [0, 1] W_ij A_j with W_ij = ReLU(B_ij) + sum_{l != i} ReLU(-B_lj).
For k = 2 these are exactly the paper's Z_G1, Z_G2 (G1 = Diag[ReLU(B_1) + ReLU(-B_2)] A, ...).
The common shift s is dropped: it adds <s, x> to every P_i and so never moves the decision
boundary (reference §1.3, invariant I4); comparing shift-free polytopes compares what matters.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from .net import ShallowReluNet
from .zonotope import zonotope_vertices

__all__: list[str] = []


def class_weights(B: np.ndarray) -> np.ndarray:
    """W (k, p) with W_ij = ReLU(B_ij) + sum_{l != i} ReLU(-B_lj) (reference §1.4), all >= 0."""
    neg = np.maximum(-B, 0.0)
    return np.maximum(B, 0.0) + (neg.sum(axis=0, keepdims=True) - neg)


def class_generators(net: ShallowReluNet) -> np.ndarray:
    """Generators (k, p, d) of the k common-denominator zonotopes; row j of slab i is W_ij A_j."""
    W = class_weights(net.B)
    return W[:, :, None] * net.A[None, :, :]


def polygon_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise vertices of the convex hull of 2-D points (m, 2).

    Degenerate input (all points on a line or one point) returns the segment's two end points
    or the single point, so callers never see a Qhull error.
    """
    P = np.unique(np.round(np.asarray(points, dtype=np.float64), 12), axis=0)
    if len(P) <= 2:
        return P
    try:
        hull = ConvexHull(P)
    except QhullError:
        # collinear: keep the two extreme points along the principal direction
        c = P.mean(axis=0)
        u = np.linalg.svd(P - c)[2][0]
        t = (P - c) @ u
        return P[[int(np.argmin(t)), int(np.argmax(t))]]
    return P[hull.vertices]  # Qhull lists 2-D hull vertices counter-clockwise


def decision_polygon(net: ShallowReluNet, plane: np.ndarray | None = None) -> np.ndarray:
    """Vertices (v, 2) of the shift-free decision polytope conv(Z_1 u ... u Z_k) in 2-D.

    For d = 2, ``plane`` is ignored. For d > 2, the generators are projected on ``plane``
    (2, d) (rows orthonormal); the projection of a zonotope is the zonotope of the projected
    generators, so the polygon is the exact projection of the d-dimensional polytope.
    """
    G = class_generators(net)
    if net.d != 2:
        if plane is None:
            raise ValueError(f"A 2-D view of a d = {net.d} polytope needs a (2, {net.d}) projection plane.")
        G = G @ np.asarray(plane, dtype=np.float64).T
    verts = [zonotope_vertices(G[i]) for i in range(G.shape[0])]
    return polygon_hull(np.vstack(verts))


def polygon_area(V: np.ndarray) -> float:
    """Shoelace area of a counter-clockwise polygon (v, 2); 0 for fewer than 3 vertices."""
    if len(V) < 3:
        return 0.0
    x, y = V[:, 0], V[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _point_to_segments(P: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point (n, 2) to the nearest of the segments [a_e, b_e] (e, 2)."""
    ab = b - a
    L2 = np.maximum((ab * ab).sum(axis=1), 1e-300)
    t = np.clip(((P[:, None, :] - a[None]) * ab[None]).sum(-1) / L2[None], 0.0, 1.0)
    proj = a[None] + t[..., None] * ab[None]
    return np.sqrt(((P[:, None, :] - proj) ** 2).sum(-1)).min(axis=1)


def point_polygon_distance(P: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Euclidean distance from points (n, 2) to the convex polygon with ccw vertices V (v, 2).

    Zero inside. Degenerate polygons (a point or a segment) are handled as such.
    """
    P = np.atleast_2d(P)
    if len(V) == 1:
        return np.linalg.norm(P - V[0], axis=1)
    a, b = V, np.roll(V, -1, axis=0)
    dist = _point_to_segments(P, a, b)
    if len(V) >= 3:
        e = b - a
        cross = e[None, :, 0] * (P[:, None, 1] - a[None, :, 1]) - e[None, :, 1] * (P[:, None, 0] - a[None, :, 0])
        inside = (cross >= -1e-12 * (1.0 + np.abs(V).max())).all(axis=1)
        dist = np.where(inside, 0.0, dist)
    return dist


def hausdorff_polygons(V: np.ndarray, W: np.ndarray) -> float:
    """Exact Hausdorff distance between two convex polygons given by their vertices.

    For convex K, L the distance to L is convex, so sup_{x in K} d(x, L) is attained at a
    vertex of K: d_H = max(max_v d(v, L), max_w d(w, K)).
    """
    return float(max(point_polygon_distance(V, W).max(), point_polygon_distance(W, V).max()))


def support_decision(net: ShallowReluNet, U: np.ndarray) -> np.ndarray:
    """Support function of the shift-free decision polytope in directions U (n, d) -> (n,).

    h(u) = max_i sum_j W_ij max(0, <A_j, u>) (W_ij >= 0, so max(0, <W_ij A_j, u>) factors).
    """
    return (class_weights(net.B) @ np.maximum(net.A @ U.T, 0.0)).max(axis=0)


def hausdorff_support(net1: ShallowReluNet, net2: ShallowReluNet, n_dirs: int = 4096, seed: int = 0) -> float:
    """Hausdorff distance between two decision polytopes estimated from support functions.

    For convex bodies d_H(K, L) = sup_{|u| = 1} |h_K(u) - h_L(u)|; this evaluates the sup over
    ``n_dirs`` seeded random unit directions plus the +-coordinate directions, so it is a
    *lower bound* of the true distance (exact in the limit of many directions).
    """
    d = net1.d
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((n_dirs, d))
    U = np.vstack([U / np.linalg.norm(U, axis=1, keepdims=True), np.eye(d), -np.eye(d)])
    return float(np.abs(support_decision(net1, U) - support_decision(net2, U)).max())


def pca_plane(X: np.ndarray | None, d: int) -> np.ndarray:
    """Orthonormal (2, d) plane: the top two principal directions of X, or the first two axes."""
    if X is not None and len(X) >= 3:
        Xc = np.asarray(X, dtype=np.float64) - np.mean(X, axis=0)
        Vt = np.linalg.svd(Xc, full_matrices=False)[2]
        if Vt.shape[0] >= 2:
            return Vt[:2]
    return np.eye(d)[:2]


def normalise_polygon(V: np.ndarray) -> np.ndarray:
    """Translate a polygon to its vertex centroid and scale it to unit circumradius.

    Translation (adding <t, x> to every class) and positive scaling (of B and c2) of the whole
    polytope leave the decision boundary unchanged (reference I4, I12), so a distance between
    *normalised* polytopes compares only what moves the boundary: shape and orientation.
    """
    c = V.mean(axis=0)
    r = np.linalg.norm(V - c, axis=1).max()
    return (V - c) / (r if r > 0 else 1.0)
