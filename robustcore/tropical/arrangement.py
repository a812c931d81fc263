"""The cells of a line arrangement inside a box in O(p^2 log p): the linear regions of a 2-D-input net.

Instead of splitting every polygon by every line (O(p^3) work in total), the arrangement is built once as a
planar graph:

1. clip each neuron line A_l x + c1_l = 0 to the box (duplicate lines are drawn once);
2. intersect every pair of clipped lines (O(p^2) candidate vertices), merge coincident vertices (several
   lines through one point, e.g. every line of a bias-free net passes through 0);
3. sort the vertices along each line and along each box side (O(p^2 log p)): consecutive ones are edges;
4. around each vertex sort the outgoing half-edges by angle; the face to the left of half-edge u -> v
   continues with the half-edge leaving v that is next clockwise after v -> u;
5. the faces are the cycles of that permutation (connected components); the one with negative area is
   the outside of the box. Each face is convex, its activation pattern is read at its centroid.

The output is the same RegionMap as the polygon-splitting construction (``regions._linear_regions_split``),
which the tests keep as the independent reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["arrangement_regions", "line_crossings"]


def line_crossings(n: np.ndarray, b: np.ndarray, I: np.ndarray, J: np.ndarray, det: np.ndarray) -> np.ndarray:
    """Crossing points (P, 2) of the line pairs (I, J) of the lines {x : n_l . x + b_l = 0} (n_l (m, 2), b_l (m,)).

    ``det`` = n_I0 n_J1 - n_I1 n_J0, non-zero (the caller drops the parallel pairs with its own tolerance).
    Cramer's rule; the linear regions and the dual subdivision's arrangement walk share it.
    """
    return np.column_stack([(-b[I] * n[J, 1] + b[J] * n[I, 1]) / det, (-n[I, 0] * b[J] + n[J, 0] * b[I]) / det])


def _merge_points(P: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points closer than tol (transitively); returns (representatives (n, 2), label per point)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(P)
    if n == 0:
        return P, np.zeros(0, dtype=np.int64)
    pairs = cKDTree(P).query_pairs(r=tol, output_type="ndarray")
    if len(pairs) == 0:
        return P, np.arange(n)
    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    reps = np.zeros((lab.max() + 1, 2))
    cnt = np.bincount(lab)
    np.add.at(reps, lab, P)
    return reps / cnt[:, None], lab


def arrangement_regions(A: np.ndarray, c: np.ndarray, box: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of the arrangement {A_l x + c_l = 0} inside box = (xmin, xmax, ymin, ymax).

    Returns (V (N, 2) polygon vertices region after region, counter-clockwise; counts (C,); patterns (C, p)
    bool, sigma_l = [A_l x + c_l > 0] at each cell's interior).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    xmin, xmax, ymin, ymax = box
    scale = max(xmax - xmin, ymax - ymin)
    tol = 1e-10 * scale
    A = np.asarray(A, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    p = A.shape[0]
    corners = np.array([[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax]])

    # ---- 1. lines as (unit normal n, offset b): n.x + b = 0; drop zero rows, duplicates, misses
    nrm = np.linalg.norm(A, axis=1)
    live = nrm > 0
    N = A[live] / nrm[live, None]
    b = c[live] / nrm[live]
    flip = (N[:, 0] < 0) | ((N[:, 0] == 0) & (N[:, 1] < 0))
    N = np.where(flip[:, None], -N, N)
    b = np.where(flip, -b, b)
    if len(N):
        key = np.round(np.column_stack([N, b / scale]) / 1e-12).astype(np.int64)
        _, first = np.unique(key, axis=0, return_index=True)
        N, b = N[np.sort(first)], b[np.sort(first)]
    # clip to the box: parameterise x = x0 + t u with x0 the foot of the perpendicular from the box centre
    ctr = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2])
    U = np.column_stack([-N[:, 1], N[:, 0]])
    X0 = ctr - (N @ ctr + b)[:, None] * N
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lo = np.full(len(N), -np.inf)
        t_hi = np.full(len(N), np.inf)
        for dim, lo, hi in ((0, xmin, xmax), (1, ymin, ymax)):
            u = U[:, dim]
            ta, tb = (lo - X0[:, dim]) / u, (hi - X0[:, dim]) / u
            par = u == 0
            inside = (X0[:, dim] > lo) & (X0[:, dim] < hi)
            t_lo = np.where(par, np.where(inside, t_lo, np.inf), np.maximum(t_lo, np.minimum(ta, tb)))
            t_hi = np.where(par, np.where(inside, t_hi, -np.inf), np.minimum(t_hi, np.maximum(ta, tb)))
    keep = t_hi - t_lo > tol
    N, b, U, X0, t_lo, t_hi = N[keep], b[keep], U[keep], X0[keep], t_lo[keep], t_hi[keep]
    m = len(N)

    # ---- 2. points on each line: its two ends and its crossings with the other lines inside the box
    pts_line, pts_t, pts_xy = [np.arange(m), np.arange(m)], [t_lo, t_hi], [X0 + t_lo[:, None] * U, X0 + t_hi[:, None] * U]
    if m >= 2:
        I, J = np.triu_indices(m, 1)
        det = N[I, 0] * N[J, 1] - N[I, 1] * N[J, 0]
        ok = np.abs(det) > 1e-14
        I, J, det = I[ok], J[ok], det[ok]
        XY = line_crossings(N, b, I, J, det)
        x, y = XY[:, 0], XY[:, 1]
        inb = (x > xmin + tol) & (x < xmax - tol) & (y > ymin + tol) & (y < ymax - tol)
        I, J, XY = I[inb], J[inb], XY[inb]
        for L in (I, J):
            pts_line.append(L)
            pts_t.append(((XY - X0[L]) * U[L]).sum(axis=1))
            pts_xy.append(XY)
    # box sides as four more "lines" (index m .. m+3), counter-clockwise, t = arc length from the corner
    side_line, side_t, side_xy = [], [], []
    for s in range(4):
        a, z = corners[s], corners[(s + 1) % 4]
        side_line.append(np.array([m + s, m + s]))
        side_t.append(np.array([0.0, np.linalg.norm(z - a)]))
        side_xy.append(np.array([a, z]))
    ends = np.concatenate([X0 + t_lo[:, None] * U, X0 + t_hi[:, None] * U]) if m else np.zeros((0, 2))
    for s in range(4):
        a, z = corners[s], corners[(s + 1) % 4]
        d = (z - a) / np.linalg.norm(z - a)
        rel = ends - a
        on = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0]) <= 10 * tol
        tt = rel[on] @ d
        side_line.append(np.full(int(on.sum()), m + s))
        side_t.append(tt)
        side_xy.append(ends[on])
    line_id = np.concatenate(pts_line + side_line)
    tpar = np.concatenate(pts_t + side_t)
    XYall = np.concatenate(pts_xy + side_xy)

    # ---- merge coincident points into vertices
    V, vid = _merge_points(XYall, tol)

    # ---- 3. edges: consecutive distinct vertices along each line / side
    order = np.lexsort((tpar, line_id))
    lo_, vo = line_id[order], vid[order]
    same = lo_[1:] == lo_[:-1]
    ea, eb = vo[:-1][same], vo[1:][same]
    keep = ea != eb
    ea, eb = ea[keep], eb[keep]
    nv = np.int64(len(V))
    ek = np.unique(np.minimum(ea, eb).astype(np.int64) * nv + np.maximum(ea, eb))  # coincident lines: one edge
    ekey = np.column_stack([ek // nv, ek % nv])
    # ---- 4. half-edges, sorted by angle around their origin
    hs = np.concatenate([ekey[:, 0], ekey[:, 1]])
    ht = np.concatenate([ekey[:, 1], ekey[:, 0]])
    H = len(hs)
    twin = np.concatenate([np.arange(len(ekey)) + len(ekey), np.arange(len(ekey))])
    d = V[ht] - V[hs]
    ang = np.arctan2(d[:, 1], d[:, 0])
    srt = np.lexsort((ang, hs))  # per origin vertex, counter-clockwise
    pos = np.empty(H, dtype=np.int64)
    pos[srt] = np.arange(H)
    hs_sorted = hs[srt]
    first = np.searchsorted(hs_sorted, hs_sorted, side="left")
    cnt = np.bincount(hs, minlength=len(V))
    # next(e) for e = u -> v: at v, the outgoing half-edge just before twin(e) in counter-clockwise order
    tw = twin
    p_tw = pos[tw]
    base = first[p_tw]
    k = p_tw - base
    prev_k = (k - 1) % cnt[hs[tw]]
    nxt = srt[base + prev_k]
    # ---- 5. faces = cycles of next
    g = coo_matrix((np.ones(H), (np.arange(H), nxt)), shape=(H, H))
    n_f, face = connected_components(g, directed=True, connection="weak")
    # signed area per face (shoelace over its half-edges) -> drop the outer face(s)
    cr = V[hs, 0] * V[ht, 1] - V[ht, 0] * V[hs, 1]
    area = 0.5 * np.bincount(face, cr, minlength=n_f)
    inner = area > 1e-14 * scale * scale
    fid = np.full(n_f, -1)
    fid[inner] = np.arange(int(inner.sum()))
    hf = fid[face]
    sel = hf >= 0
    f_sel, v_sel = hf[sel], hs[sel]
    C = int(inner.sum())
    counts = np.bincount(f_sel, minlength=C)
    cen = np.column_stack([np.bincount(f_sel, V[v_sel, 0], C), np.bincount(f_sel, V[v_sel, 1], C)]) / counts[:, None]
    a2 = np.arctan2(V[v_sel, 1] - cen[f_sel, 1], V[v_sel, 0] - cen[f_sel, 0])
    o = np.lexsort((a2, f_sel))  # convex faces: counter-clockwise by angle about the vertex mean
    verts = V[v_sel[o]]
    # (C, p) in row blocks that stay in cache: one pass over a 2-D-input table is memory-bound otherwise
    pats = np.empty((C, p), dtype=bool)
    At = np.ascontiguousarray(A.T)
    for s in range(0, C, 512):
        np.greater(cen[s : s + 512] @ At + c, 0.0, out=pats[s : s + 512])
    return verts, counts, pats
