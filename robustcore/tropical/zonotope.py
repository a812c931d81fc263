"""Zonotopes Z = shift + sum_j [0, 1] g_j: vertices, area, volume, support function.

The zonotopes of the paper (Theorem 2) are Z_G1 and Z_G2 with generators the rows of G1, G2
(see ``ShallowReluNet.zonotope_generators``). Everything here is exact up to float64
round-off: two generators are merged as parallel when their directions differ by less than
``ANGLE_TOL`` radians (a vertex that close to an edge is indistinguishable in float64 drawing).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

__all__ = [
    "ANGLE_TOL",
    "zonotope_vertices",
    "zonogon_directions",
    "zonotope_area",
    "zonotope_volume",
    "zonotope_perimeter",
    "support_function",
    "subset_sums",
]

#: Angular tolerance (radians) under which two generator directions count as parallel.
ANGLE_TOL = 1e-11
#: Relative tolerance (to the largest generator norm) under which a generator counts as zero.
ZERO_TOL = 1e-13
#: Size caps (checked before any heavy work). 2-D: O(m log m), so only memory limits m. 3-D: exact face
#: enumeration is O(m^3) in the number m of *distinct* directions (300 take about 1 s). d > 3: the 2^m
#: subset sums are hulled, m <= 16 distinct directions. Raw generator rows are capped for d >= 3 because
#: merging parallel ones is O(m log m) but still allocates per row.
MAX_GENERATORS_2D = 5_000_000
MAX_GENERATORS_ND = 100_000
MAX_DISTINCT_3D = 300
MAX_DISTINCT_ND = 16


def _check_G(G: Any, shift: Any = None) -> tuple[np.ndarray, np.ndarray]:
    from ._checks import as_array

    G = as_array("G (generators)", G, (1, 2))
    if G.ndim == 1:
        G = G[:, None]
    d = G.shape[1]
    if d == 0:
        raise ValueError("Generators must have at least one coordinate (d >= 1).")
    cap = MAX_GENERATORS_2D if d <= 2 else MAX_GENERATORS_ND
    if G.shape[0] > cap:
        raise ValueError(f"G has {G.shape[0]:,} generators; the limit for d = {d} is {cap:,}.")
    if shift is None:
        s = np.zeros(d)
    else:
        s = as_array("shift", shift).reshape(-1)
        if s.shape != (d,):
            raise ValueError(f"shift must have shape ({d},) to match generators (m, {d}); got {s.shape}.")
    return G, s


def _drop_zero(G: np.ndarray) -> np.ndarray:
    if G.shape[0] == 0:
        return G
    sq = np.einsum("ij,ij->i", G, G)  # squared norms (cheaper than np.linalg.norm on many rows)
    scale = sq.max()
    if scale == 0.0:
        return G[:0]
    keep = sq > (ZERO_TOL**2) * scale
    return G if keep.all() else G[keep]


def _canonical_2d(G: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orient nonzero 2-D generators into angles [0, pi), sort, and merge parallel ones.

    Returns (H, theta, flip_sum): merged generators sorted by angle (k, 2), their angles (k,),
    and the sum of the generators that were flipped (to add to the base point, because
    [0, 1] g = g + [0, 1] (-g)).
    """
    # flip into the upper half-plane by signs alone (no trig for the orientation)
    flip = (G[:, 1] < 0) | ((G[:, 1] == 0) & (G[:, 0] < 0))
    Gc = np.where(flip[:, None], -G, G)
    th = np.arctan2(Gc[:, 1], Gc[:, 0])  # in [0, pi]
    # angles within ANGLE_TOL of pi are parallel to angle 0: flip them back so they sort (and merge) first
    wrap = th >= np.pi - ANGLE_TOL
    if wrap.any():
        Gc[wrap] = -Gc[wrap]
        flip = flip ^ wrap
        th = np.where(wrap, th - np.pi, th)
    flip_sum = G[flip].sum(axis=0)
    order = np.argsort(th)  # ties are merged below, so stability is not needed
    th, Gc = th[order], Gc[order]
    if th.size == 0:
        return Gc, th, flip_sum
    new_group = np.empty(th.size, dtype=bool)
    new_group[0] = True
    new_group[1:] = np.diff(th) > ANGLE_TOL
    if new_group.all():  # no parallel pair: nothing to merge
        return Gc, th, flip_sum
    starts = np.flatnonzero(new_group)
    H = np.add.reduceat(Gc, starts, axis=0)
    return H, th[starts], flip_sum


def zonogon_directions(G: Any) -> int:
    """Number of distinct directions among the nonzero rows of a 2-D generator matrix (m, 2).

    Parallel and antiparallel generators count once; the zonogon has twice this many vertices
    (reference I6).
    """
    G, _ = _check_G(G)
    if G.shape[1] != 2:
        raise ValueError(f"zonogon_directions needs 2-D generators; got d = {G.shape[1]}.")
    H, _, _ = _canonical_2d(_drop_zero(G))
    return int(H.shape[0])


def _zonogon_vertices(G: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Counter-clockwise vertices of shift + sum [0,1] g_j in 2-D, O(m log m)."""
    G = _drop_zero(G)
    H, _, flip_sum = _canonical_2d(G)
    base = shift + flip_sum
    k = H.shape[0]
    if k == 0:
        return base[None, :].copy()
    # lower chain: add the generators in increasing angle (angles in [0, pi) walk counter-clockwise)
    lower = base + np.concatenate([np.zeros((1, 2)), np.cumsum(H, axis=0)], axis=0)  # k + 1 points
    top = lower[-1]
    # upper chain: subtract in the same order, all but the last (that one closes at base)
    upper = top - np.cumsum(H[:-1], axis=0)  # k - 1 points
    return np.concatenate([lower, upper], axis=0)


def _orthonormal_basis(G: np.ndarray, rank: int) -> np.ndarray:
    _, _, vt = np.linalg.svd(G, full_matrices=False)
    return vt[:rank]


def _numerical_rank(G: np.ndarray) -> int:
    if G.shape[0] == 0:
        return 0
    sv = np.linalg.svd(G, compute_uv=False)
    return int(np.sum(sv > 1e-12 * sv[0])) if sv[0] > 0 else 0


def _merge_parallel_nd(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge parallel generators in any dimension; returns (H, flip_sum) as in _canonical_2d.

    O(m log m): unit directions (oriented so the first clearly nonzero coordinate is positive) that
    lie within 1e-9 of each other are joined (k-d tree pairs, then connected components).
    """
    from scipy.spatial import cKDTree

    if G.shape[0] == 0:
        return G, np.zeros(G.shape[1])
    U = G / np.linalg.norm(G, axis=1, keepdims=True)
    idx = np.argmax(np.abs(U) > 1e-6, axis=1)
    sgn = np.sign(U[np.arange(len(U)), idx])
    flip = sgn < 0
    U = U * np.where(flip, -1.0, 1.0)[:, None]
    Gc = np.where(flip[:, None], -G, G)
    flip_sum = G[flip].sum(axis=0)
    pairs = cKDTree(U).query_pairs(r=1e-9, output_type="ndarray")
    if len(pairs) == 0:
        return Gc, flip_sum
    inv, _ = close_pair_clusters(len(U), pairs)
    H = np.zeros((inv.max() + 1, G.shape[1]))
    np.add.at(H, inv, Gc)
    return H, flip_sum


def close_pair_clusters(n: int, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clusters of the graph on ``n`` points whose edges are ``pairs`` (e.g. k-d tree close pairs).

    Returns
    -------
    labels : (n,) int
        Cluster of each point, numbered in the order of each cluster's first (lowest-index) point.
    first : (k,) int
        The lowest point index of each cluster (a representative).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels], first[order]


def _dedupe(V: np.ndarray, scale: float) -> np.ndarray:
    from scipy.spatial import cKDTree

    if len(V) <= 1:
        return V
    tree = cKDTree(V)
    pairs = tree.query_pairs(r=1e-9 * scale, output_type="ndarray") if scale > 0 else np.zeros((0, 2), int)
    keep = np.ones(len(V), dtype=bool)
    if len(pairs):
        # drop the later index of every close pair (a representative of each cluster stays)
        keep[np.unique(pairs.max(axis=1))] = False
    out = V[keep]
    return out[np.lexsort(out.T[::-1])]


def _zonohedron_vertices(G: np.ndarray, shift: np.ndarray, upper_only: bool = False) -> np.ndarray:
    """Vertices of a full-rank 3-D zonotope, exact, O(m^3) (face-normal enumeration, §1.5.4).

    With ``upper_only`` only the faces whose normal has a positive last coordinate (and the
    vertical ones) are enumerated: their corners include every upper vertex.
    """
    H, flip_sum = _merge_parallel_nd(G)
    base = shift + flip_sum
    m = H.shape[0]
    if m > MAX_DISTINCT_3D:
        raise ValueError(f"Exact 3-D zonotope vertices are limited to {MAX_DISTINCT_3D} distinct generator directions "
                         f"(O(m^3) work); got {m}.")
    # relative to the zonotope's own size: the same answer for G and a * G at any scale a > 0
    scale = float(np.abs(H).sum() + np.abs(base).max())
    norms = np.linalg.norm(H, axis=1)
    verts: list[np.ndarray] = []
    seen_planes: set[tuple[int, ...]] = set()
    I, J = np.triu_indices(m, k=1)
    chunk = max(1, 2_000_000 // max(m, 1))
    for start in range(0, len(I), chunk):
        ii, jj = I[start : start + chunk], J[start : start + chunk]
        N = np.cross(H[ii], H[jj])  # face normals, nonzero since H has no parallel pairs
        nN = np.linalg.norm(N, axis=1)
        # orient each normal upward; the face at +n is then an upper (or vertical) face
        N = np.where((N[:, 2] < 0)[:, None], -N, N)
        vertical = np.abs(N[:, 2]) <= 1e-12 * nN
        D = N @ H.T  # (P, m)
        zero = np.abs(D) <= 1e-10 * nN[:, None] * norms[None, :]
        pos = (D > 0) & ~zero
        neg = (D < 0) & ~zero
        top = base + pos.astype(float) @ H  # sum of generators on the +n side
        bot = base + neg.astype(float) @ H
        nz = zero.sum(axis=1)
        generic = nz == 2
        # generic pair: the two faces at +n and -n are parallelograms
        gi, gj = H[ii[generic]], H[jj[generic]]
        if upper_only:
            T0 = top[generic]
            vg = vertical[generic]  # vertical faces: keep both sides (they may hold upper vertices)
            B0, gi_b, gj_b = bot[generic][vg], gi[vg], gj[vg]
            verts += [T0, T0 + gi, T0 + gj, T0 + gi + gj, B0, B0 + gi_b, B0 + gj_b, B0 + gi_b + gj_b]
        else:
            for B0 in (top[generic], bot[generic]):
                verts += [B0, B0 + gi, B0 + gj, B0 + gi + gj]
        # several coplanar generators: each face is a zonogon in that plane
        for r in np.flatnonzero(~generic):
            key = tuple(np.flatnonzero(zero[r]))
            if key in seen_planes:
                continue
            seen_planes.add(key)
            Hp = H[list(key)]
            E = _orthonormal_basis(Hp, 2)  # (2, 3)
            poly2 = _zonogon_vertices(Hp @ E.T, np.zeros(2))
            face = poly2 @ E
            verts.append(top[r] + face)
            if not upper_only or vertical[r]:
                verts.append(bot[r] + face)
    return _dedupe(np.concatenate(verts, axis=0), scale)


def subset_sums(G: Any, shift: Any = None, max_m: int = 20) -> np.ndarray:
    """All 2^m subset sums shift + sum_{j in S} g_j (2^m, d): the brute-force reference.

    Raises ValueError when m > max_m (memory grows as 2^m); max_m itself is capped at 22.
    """
    from ._checks import as_int

    max_m = as_int("max_m", max_m, 0, 22)
    G, s = _check_G(G, shift)
    m = G.shape[0]
    if m > max_m:
        raise ValueError(f"Subset-sum enumeration needs m <= {max_m} generators; got {m}.")
    bits = ((np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1).astype(np.float64)
    return s + bits @ G


def zonotope_vertices(G: Any, shift: Any = None, upper_only: bool = False) -> np.ndarray:
    """Vertices of the zonotope shift + sum_j [0, 1] G_j.

    Parameters
    ----------
    G : (m, d) array, one generator per row (zero rows are ignored).
    shift : (d,) array or None (origin).

    Returns
    -------
    (v, d) array. For d = 2, counter-clockwise, v = 2 x (number of distinct directions),
    computed by sorting generator angles in O(m log m) (a segment when all are parallel, one
    point when all are zero). For d = 3, exact (face-normal enumeration, O(m^3)), sorted
    lexicographically; generic generators give m^2 - m + 2 vertices. d = 1 gives the two
    end points. For d > 3 the 2^m subset sums are enumerated and hulled (m <= 16).
    ``upper_only`` (d = 3, full rank): only the corners of the upper and vertical faces, a
    superset of the upper vertices (used by the dual subdivision).
    """
    G, s = _check_G(G, shift)
    d = G.shape[1]
    if d == 2:
        return _zonogon_vertices(G, s)
    Gz = _drop_zero(G)
    if Gz.shape[0] == 0:
        return s[None, :].copy()
    if d == 1:
        lo = s + np.minimum(Gz, 0).sum(axis=0)
        hi = s + np.maximum(Gz, 0).sum(axis=0)
        return np.array([lo, hi])
    rank = _numerical_rank(Gz)
    if rank < d:
        # flat zonotope: compute in the span, map back (exact; Qhull would fail here)
        E = _orthonormal_basis(Gz, rank)
        low = zonotope_vertices(Gz @ E.T, None)
        return _dedupe(s + low @ E, float(np.abs(Gz).sum() + np.abs(s).max()))
    if d == 3:
        return _zonohedron_vertices(Gz, s, upper_only=upper_only)
    H, flip_sum = _merge_parallel_nd(Gz)
    if H.shape[0] > MAX_DISTINCT_ND:
        raise ValueError(f"Exact zonotope vertices for d = {d} > 3 are limited to {MAX_DISTINCT_ND} distinct generators; "
                         f"got {H.shape[0]}.")
    from scipy.spatial import ConvexHull

    pts = subset_sums(H, s + flip_sum, max_m=16)
    hull = ConvexHull(pts)
    return pts[np.sort(hull.vertices)]


def zonotope_area(G: Any) -> float:
    """Area of the 2-D zonotope sum_j [0,1] g_j: sum_{i<j} |det(g_i, g_j)| (reference §1.5).

    Computed in O(m log m) by the shoelace formula on the vertices (equal to the pairwise sum).
    """
    G, _ = _check_G(G)
    if G.shape[1] != 2:
        raise ValueError(f"zonotope_area needs 2-D generators; got d = {G.shape[1]}.")
    V = _zonogon_vertices(G, np.zeros(2))
    if len(V) < 3:
        return 0.0
    x, y = V[:, 0], V[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def zonotope_perimeter(G: Any) -> float:
    """Perimeter of the 2-D zonotope: 2 sum_j ||g_j|| (a segment counts both sides)."""
    G, _ = _check_G(G)
    if G.shape[1] != 2:
        raise ValueError(f"zonotope_perimeter needs 2-D generators; got d = {G.shape[1]}.")
    return float(2.0 * np.linalg.norm(G, axis=1).sum())


def zonotope_volume(G: Any) -> float:
    """Volume of the 3-D zonotope: sum_{i<j<k} |det(g_i, g_j, g_k)| (reference §1.5), O(m^3).

    At most 1,000 nonzero generators (about a second)."""
    G, _ = _check_G(G)
    if G.shape[1] != 3:
        raise ValueError(f"zonotope_volume needs 3-D generators; got d = {G.shape[1]}.")
    G = _drop_zero(G)
    m = G.shape[0]
    if m > 1000:
        raise ValueError(f"zonotope_volume is O(m^3) and limited to 1,000 nonzero generators; got {m}.")
    if m < 3:
        return 0.0
    total = 0.0
    for i, j in combinations(range(m - 1), 2):
        c = np.cross(G[i], G[j])
        total += float(np.abs(G[j + 1 :] @ c).sum()) if j + 1 < m else 0.0
    return total


def support_function(G: Any, directions: Any, shift: Any = None) -> np.ndarray:
    """Support function h_Z(u) = <shift, u> + sum_j max(0, <g_j, u>) (reference §1.5).

    Parameters
    ----------
    G : (m, d) generators; directions : (n, d) or (d,); shift : (d,) or None.

    Returns
    -------
    (n,) array (a scalar array for a single direction).
    """
    from ._checks import as_array

    G, s = _check_G(G, shift)
    U = as_array("directions", directions, (1, 2))
    single = U.ndim == 1
    U = np.atleast_2d(U)
    if U.shape[1] != G.shape[1]:
        raise ValueError(f"directions must have {G.shape[1]} columns; got shape {U.shape}.")
    if U.shape[0] * G.shape[0] > 50_000_000:
        raise ValueError("directions x generators exceeds 50,000,000 products; pass fewer directions.")
    h = U @ s + np.maximum(U @ G.T, 0.0).sum(axis=1)
    return h[0] if single else h
