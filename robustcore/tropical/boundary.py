"""The decision boundary of a 2-D-input ShallowReluNet, computed two independent ways.

1. *Cells* (``decision_boundary_cells``): on the activation cell with pattern sigma the net is
   affine, so {f_i = f_j} there is the line
   (sum_l sigma_l (B_il - B_jl) A_l) x + sum_l sigma_l (B_il - B_jl) c1_l + c2_i - c2_j = 0,
   clipped to the cell polygon (reference §1.5, step 7).
2. *Dual* (``decision_boundary_dual``): the pieces of T(R) dual to the bridging edges of
   delta(R), i.e. edges joining a vertex of the lifted Z_G1 to one of Z_G2 (§1.3).

They must give the same set (invariant I8); ``segment_set_distance`` measures the gap.
The k-class argmax boundary has the same two constructions (``argmax_boundary_cells`` and
``argmax_boundary_dual``, the latter through the common-denominator zonotopes of §1.4).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import ArgumentTypeError

from .regions import RegionMap, check_box, linear_regions_2d

__all__ = [
    "decision_boundary_cells",
    "decision_boundary_dual",
    "argmax_boundary_cells",
    "argmax_boundary_dual",
    "tie_regions",
    "argmax_tie_regions",
    "segment_set_distance",
    "segments_length",
]


def _clip_line_to_polygon(g: np.ndarray, c: float, poly: np.ndarray) -> Any:
    """Segment {x in poly : g.x + c = 0} for a convex polygon, or None."""
    vals = poly @ g + c
    ng = np.linalg.norm(g)
    if ng == 0.0:
        return None
    scale = 1e-12 * (1.0 + np.abs(poly).max()) * ng
    vals = np.where(np.abs(vals) <= scale, 0.0, vals)
    if vals.min() > 0 or vals.max() < 0:
        return None
    pts = []
    n = len(poly)
    for a in range(n):
        b = (a + 1) % n
        va, vb = vals[a], vals[b]
        if va == 0.0:
            pts.append(poly[a])
        if (va > 0 > vb) or (va < 0 < vb):
            t = va / (va - vb)
            pts.append(poly[a] + t * (poly[b] - poly[a]))
    if len(pts) < 2:
        return None
    P = np.array(pts)
    u = np.array([-g[1], g[0]])
    t = P @ u
    s = np.array([P[np.argmin(t)], P[np.argmax(t)]])
    if np.linalg.norm(s[1] - s[0]) <= 1e-12 * (1.0 + np.abs(poly).max()):
        return None
    return s


def _regions(net: Any, box: Any, regions: RegionMap | None) -> RegionMap:
    if regions is not None and not isinstance(regions, RegionMap):
        raise ArgumentTypeError(f"regions must be a RegionMap (from linear_regions_2d) or None; got {type(regions).__name__}.")
    return regions if regions is not None else linear_regions_2d(net, box)


def _check(net: Any, what: str) -> None:
    from ._checks import check_net

    check_net(net, what)
    if net.d != 2:
        raise ValueError(f"The decision boundary is drawn for 2-D inputs (d = 2); this net has d = {net.d}.")


def decision_boundary_cells(net: Any, box: Any, i: int = 0, j: int = 1, regions: RegionMap | None = None) -> np.ndarray:
    """{x in box : f_i(x) = f_j(x)} solved cell by cell; (n, 2, 2) segments.

    Cells where f_i = f_j identically (tie regions) contribute no segment; see ``tie_regions``.
    """
    _check(net, "decision_boundary_cells")
    i, j = net._check_pair(i, j)
    box = check_box(box)
    R = _regions(net, box, regions)
    dB = net.B[i] - net.B[j]
    dc = float(net.c2[i] - net.c2[j])
    if len(R) == 0:
        return np.zeros((0, 2, 2))
    S = R.patterns.astype(np.float64) * dB  # (C, p)
    G = S @ net.A  # (C, 2): gradient of f_i - f_j on each cell
    C = S @ net.c1 + dc
    # only cells whose vertex values change sign can meet the line (vectorised pre-filter)
    vals = np.einsum("ij,ij->i", R.vertices, G[R.owner]) + C[R.owner]
    vmin = np.minimum.reduceat(vals, R.starts)
    vmax = np.maximum.reduceat(vals, R.starts)
    cand = (vmin <= 0) & (vmax >= 0) & (np.abs(G).max(axis=1) > 0)
    return _clip_lines_to_cells(R, G, C, vals, cand)


def _clip_lines_to_cells(R: RegionMap, G: np.ndarray, C: np.ndarray, vals: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """{x in cell c : G_c x + C_c = 0} for every candidate cell at once (vectorised over the flat vertices).

    The same rule as ``_clip_line_to_polygon``: values within round-off of 0 count as on the line; the
    segment runs between the extreme crossing points along the line; zero-length pieces are dropped.
    """
    own = R.owner
    vk = cand[own]
    if not vk.any():
        return np.zeros((0, 2, 2))
    idx = np.flatnonzero(vk)
    nxt = R._next[idx]
    o = own[idx]
    ng = np.linalg.norm(G[o], axis=1)
    span = 1.0 + np.abs(R.vertices).max()
    tol = 1e-12 * span * ng
    va = np.where(np.abs(vals[idx]) <= tol, 0.0, vals[idx])
    vb = np.where(np.abs(vals[nxt]) <= tol, 0.0, vals[nxt])
    on_vertex = va == 0.0
    cross = ((va > 0) & (vb < 0)) | ((va < 0) & (vb > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(cross, va / np.where(cross, va - vb, 1.0), 0.0)
    P = R.vertices[idx] + t[:, None] * (R.vertices[nxt] - R.vertices[idx])
    keep = on_vertex | cross
    P, o = P[keep], o[keep]
    if len(P) == 0:
        return np.zeros((0, 2, 2))
    u = np.column_stack([-G[o, 1], G[o, 0]])
    tt = (P * u).sum(axis=1)
    order = np.lexsort((tt, o))
    P, o = P[order], o[order]
    starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
    ends = np.r_[starts[1:], len(o)] - 1
    seg = np.stack([P[starts], P[ends]], axis=1)
    L = np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1)
    return seg[L > 1e-12 * span]


def _tie_size(net: Any, box: tuple) -> tuple[float, float]:
    """(largest |coordinate| of the box, the net's own scale |B| (|A| |box| + |c1|) p + |c2|): two logits' affine
    pieces count as equal within 1e-12 times that scale, so scaling the weights changes nothing."""
    ext = max(abs(v) for v in box)
    size = np.abs(net.B).max() * (np.abs(net.A).max() * ext + np.abs(net.c1).max()) * net.p + np.abs(net.c2).max()
    return ext, size


def tie_regions(net: Any, box: Any, i: int = 0, j: int = 1, regions: RegionMap | None = None) -> list:
    """Polygons of the cells where f_i = f_j identically (full-dimensional parts of the boundary).

    Example: the bias-free net's all-off cone {Ax <= 0} when c2_i = c2_j. The tolerance is relative to
    the net's own scale (|B| (|A| |box| + |c1|) p + |c2|), so scaling the weights changes nothing.
    """
    _check(net, "tie_regions")
    i, j = net._check_pair(i, j)
    box = check_box(box)
    R = _regions(net, box, regions)
    dB = net.B[i] - net.B[j]
    S = R.patterns.astype(np.float64) * dB
    G = S @ net.A
    C = S @ net.c1 + float(net.c2[i] - net.c2[j])
    ext, size = _tie_size(net, box)
    if size == 0.0:
        return [R.polygon(r) for r in range(len(R))]
    scale = 1e-12 * size
    tie = (np.abs(G).max(axis=1) * ext <= scale) & (np.abs(C) <= scale)
    return [R.polygon(r) for r in np.flatnonzero(tie)]


def decision_boundary_dual(net: Any, box: Any, i: int = 0, j: int = 1) -> np.ndarray:
    """{f_i = f_j} as the T(R) pieces dual to bridging edges of delta(R); (n, 2, 2) segments."""
    from .subdivision import dual_subdivision

    _check(net, "decision_boundary_dual")
    net._check_pair(i, j)
    box = check_box(box)
    return dual_subdivision(net, i, j).hypersurface_segments(box, bridging_only=True)


def _clip_polygon_halfplane(poly: np.ndarray, g: np.ndarray, c: float) -> np.ndarray:
    """Part of a convex polygon where g.x + c >= 0 (Sutherland-Hodgman, one plane)."""
    if len(poly) == 0:
        return poly
    vals = poly @ g + c
    out = []
    n = len(poly)
    for a in range(n):
        b = (a + 1) % n
        va, vb = vals[a], vals[b]
        if va >= 0:
            out.append(poly[a])
        if (va > 0 > vb) or (va < 0 < vb):
            t = va / (va - vb)
            out.append(poly[a] + t * (poly[b] - poly[a]))
    return np.array(out).reshape(-1, 2)


def argmax_boundary_cells(net: Any, box: Any, regions: RegionMap | None = None) -> np.ndarray:
    """Boundary of the k-class decision regions {argmax_i f_i} in the box; (n, 2, 2) segments.

    On each cell the logits are affine, f(x) = M x + m; the boundary there is the union over
    pairs (a, b) of {f_a = f_b >= f_c for all c}, a line clipped to a convex polygon.
    """
    _check(net, "argmax_boundary_cells")
    if net.k > 50:
        raise ValueError(f"The k-class argmax boundary is limited to 50 classes (O(k^3) per cell); this net has {net.k}.")
    box = check_box(box)
    R = _regions(net, box, regions)
    segs = []
    for r in range(len(R)):
        s = R.patterns[r].astype(np.float64)
        M = (net.B * s) @ net.A  # (k, 2)
        m = (net.B * s) @ net.c1 + net.c2  # (k,)
        for a in range(net.k):
            for b in range(a + 1, net.k):
                poly = R.polygon(r)
                for c in range(net.k):
                    if c in (a, b) or len(poly) < 3:
                        continue
                    poly = _clip_polygon_halfplane(poly, M[a] - M[c], float(m[a] - m[c]))
                if len(poly) < 2:
                    continue
                seg = _clip_line_to_polygon(M[a] - M[b], float(m[a] - m[b]), poly) if len(poly) >= 3 else None
                if seg is not None:
                    segs.append(seg)
    return np.array(segs).reshape(-1, 2, 2)


def argmax_tie_regions(net: Any, box: Any, regions: RegionMap | None = None) -> list[tuple[np.ndarray, tuple[int, ...]]]:
    """Where the k-class argmax is not unique on a whole 2-D set: polygons and the classes tied there.

    On a cell the logits are affine, f = M x + m; classes a and b tie identically on it when rows a of (M, m)
    and b coincide (up to a tolerance relative to the net's scale, as in :func:`tie_regions`). The tie is part
    of the decision boundary where the tied group also wins, {f_a >= f_c for all c}: that convex piece of the
    cell is returned (when it has positive area). Example: a bias-free output layer on the cell where every
    unit is off, where all classes tie at 0 (pruning makes such cells common).

    Returns
    -------
    list of (polygon (v, 2), classes)
        One entry per cell and tied group; ``classes`` is the sorted tuple of the tied winners there.
    """
    _check(net, "argmax_tie_regions")
    box = check_box(box)
    R = _regions(net, box, regions)
    ext, size = _tie_size(net, box)
    scale = 1e-12 * size
    # every cell's affine logits at once, M (r, k, 2) and m (r, k); only cells with a tie are clipped
    S = R.patterns.astype(np.float64)
    M = np.einsum("kp,rp,pd->rkd", net.B, S, net.A)
    m = np.einsum("kp,rp,p->rk", net.B, S, net.c1) + net.c2
    same = (np.abs(M[:, :, None] - M[:, None]).max(-1) * ext <= scale) & (np.abs(m[:, :, None] - m[:, None]) <= scale)
    out = []
    for r in np.flatnonzero(same.sum(-1).max(-1) >= 2):
        seen = np.zeros(net.k, dtype=bool)
        for a in range(net.k):
            group = np.flatnonzero(same[r, a])
            if seen[a] or len(group) < 2:
                continue
            seen[group] = True
            poly = R.polygon(r)
            for c in range(net.k):
                if same[r, a, c] or len(poly) < 3:
                    continue
                poly = _clip_polygon_halfplane(poly, M[r, a] - M[r, c], float(m[r, a] - m[r, c]))
            if len(poly) >= 3:
                x, y = poly[:, 0], poly[:, 1]
                area = 0.5 * abs(float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))
                if area > 1e-12 * max(1.0, ext) ** 2:
                    out.append((poly, tuple(int(c) for c in group)))
    return out


def argmax_boundary_dual(net: Any, box: Any) -> np.ndarray:
    """k-class boundary from the common-denominator dual subdivision (bridging edges, §1.4)."""
    from .subdivision import dual_subdivision

    _check(net, "argmax_boundary_dual")
    box = check_box(box)
    return dual_subdivision(net, mode="common").hypersurface_segments(box, bridging_only=True)


def _segs(name: str, S: Any) -> np.ndarray:
    from ._checks import as_array

    S = as_array(name, S)
    if S.size % 4:
        raise ValueError(f"{name} must hold segments (n, 2, 2); got shape {S.shape}.")
    return S.reshape(-1, 2, 2)


def segments_length(S: np.ndarray) -> float:
    """Total length of segments (n, 2, 2)."""
    S = _segs("S", S)
    return float(np.linalg.norm(S[:, 1] - S[:, 0], axis=1).sum())


def _point_segment_distance(P: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Distance from each point (n, 2) to the union of segments (m, 2, 2) -> (n,)."""
    if len(S) == 0:
        return np.full(len(P), np.inf)
    a, b = S[:, 0], S[:, 1]
    ab = b - a
    L2 = np.maximum((ab**2).sum(axis=1), 1e-300)
    out = np.empty(len(P))
    step = max(1, 2_000_000 // len(S))  # bounded memory: (step, m) blocks
    for k in range(0, len(P), step):
        Pk = P[k : k + step]
        t = np.clip(((Pk[:, None, :] - a[None]) * ab[None]).sum(axis=2) / L2[None], 0.0, 1.0)
        Q = a[None] + t[:, :, None] * ab[None]
        out[k : k + step] = np.sqrt(((Pk[:, None, :] - Q) ** 2).sum(axis=2)).min(axis=1)
    return out


def segment_set_distance(S1: Any, S2: Any, samples_per_segment: int = 9) -> float:
    """Symmetric Hausdorff-type gap between two segment sets (n, 2, 2), by dense sampling.

    Points at ``samples_per_segment`` evenly spaced positions (end points included) on every
    segment of one set are measured against the other set, and vice versa; returns the largest
    distance (0 for two empty sets, inf when exactly one is empty).
    """
    from ._checks import as_int

    S1, S2 = _segs("S1", S1), _segs("S2", S2)
    samples_per_segment = as_int("samples_per_segment", samples_per_segment, 2, 1000)
    if len(S1) * len(S2) * samples_per_segment > 200_000_000:
        raise ValueError("segment_set_distance is limited to n1 * n2 * samples_per_segment <= 200,000,000.")
    if len(S1) == 0 and len(S2) == 0:
        return 0.0
    if len(S1) == 0 or len(S2) == 0:
        return float("inf")
    t = np.linspace(0.0, 1.0, samples_per_segment)

    def pts(S: np.ndarray) -> np.ndarray:
        return (S[:, None, 0] + t[None, :, None] * (S[:, None, 1] - S[:, None, 0])).reshape(-1, 2)

    return float(max(_point_segment_distance(pts(S1), S2).max(), _point_segment_distance(pts(S2), S1).max()))
