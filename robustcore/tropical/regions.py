"""Linear regions of a 2-D-input ShallowReluNet: the cells of its neuron-line arrangement.

The net is affine on each cell of the arrangement {A_j x + c1_j = 0} (one cell per activation
pattern). We build the cells inside a box exactly, by splitting convex polygons line by line
(half-plane intersection), vectorised over polygons. At most 1 + p + C(p, 2) cells for p
lines in the plane (reference §1.3, I15).
"""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np

__all__ = [
    "RegionMap",
    "check_box",
    "linear_regions_2d",
    "region_bound",
    "clip_piece",
    "clip_segment",
    "clip_many",
]


#: Most hidden units (neuron lines) the exact 2-D region map accepts: up to 1 + p + C(p, 2) cells.
MAX_REGION_UNITS = 1024


def check_box(box: Any) -> tuple[float, float, float, float]:
    """Validate a box (xmin, xmax, ymin, ymax) with finite, increasing bounds (|values| <= 1e12)."""
    from ._checks import as_box

    return as_box(box)


def region_bound(p: int, d: int = 2) -> int:
    """Zaslavsky's bound on the cells of p hyperplanes in R^d: sum_{j <= d} C(p, j).

    For d = 2 this is 1 + p + C(p, 2), the bound shown on the page. p <= 10^6, d <= 64.
    """
    from ._checks import as_int

    p, d = as_int("p", p, 0, 1_000_000), as_int("d", d, 0, 64)
    return int(sum(comb(p, j) for j in range(d + 1)))


def clip_segment(p0: np.ndarray, p1: np.ndarray, box: Any, t0: float = 0.0, t1: float = 1.0) -> Any:
    """Liang-Barsky clip of {p0 + t (p1 - p0) : t0 <= t <= t1} to box; None when it misses.

    t0 / t1 may be -inf / +inf (rays and lines). Returns ((x0, y0), (x1, y1)) as an array (2, 2).
    """
    xmin, xmax, ymin, ymax = box
    dx = p1 - p0
    for q, r in ((-dx[0], p0[0] - xmin), (dx[0], xmax - p0[0]), (-dx[1], p0[1] - ymin), (dx[1], ymax - p0[1])):
        if q == 0.0:
            if r < 0:
                return None
            continue
        t = r / q
        if q < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    if t0 > t1 or not np.isfinite(t0) or not np.isfinite(t1):
        return None
    return np.array([p0 + t0 * dx, p0 + t1 * dx])


def clip_many(start: np.ndarray, vec: np.ndarray, t0: np.ndarray, t1: np.ndarray, box: Any) -> np.ndarray:
    """Vectorised Liang-Barsky: clip {start + t vec : t0 <= t <= t1} (n rows) to a box.

    Returns the (m, 2, 2) end points of the pieces that meet the box with positive length.
    """
    xmin, xmax, ymin, ymax = box
    start = np.asarray(start, dtype=float).reshape(-1, 2)
    vec = np.asarray(vec, dtype=float).reshape(-1, 2)
    lo = np.array(t0, dtype=float).reshape(-1)
    hi = np.array(t1, dtype=float).reshape(-1)
    ok = np.ones(len(start), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for q, r in ((-vec[:, 0], start[:, 0] - xmin), (vec[:, 0], xmax - start[:, 0]),
                     (-vec[:, 1], start[:, 1] - ymin), (vec[:, 1], ymax - start[:, 1])):
            zero = q == 0.0
            ok &= ~(zero & (r < 0))
            t = np.where(zero, 0.0, r / np.where(zero, 1.0, q))
            lo = np.where(~zero & (q < 0), np.maximum(lo, t), lo)
            hi = np.where(~zero & (q > 0), np.minimum(hi, t), hi)
    ok &= np.isfinite(lo) & np.isfinite(hi) & (hi > lo)
    P0 = start[ok] + lo[ok, None] * vec[ok]
    P1 = start[ok] + hi[ok, None] * vec[ok]
    seg = np.stack([P0, P1], axis=1)
    L = np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1)
    return seg[L > 1e-12 * max(xmax - xmin, ymax - ymin)]


def clip_piece(piece: dict, box: Any) -> Any:
    """Clip a T(R) piece (segment, ray or line; see ``DualSubdivision.pieces``) to a box."""
    if piece["kind"] == "segment":
        return clip_segment(np.asarray(piece["start"]), np.asarray(piece["end"]), box)
    start = np.asarray(piece["start"], dtype=float)
    d = np.asarray(piece["direction"], dtype=float)
    t0 = 0.0 if piece["kind"] == "ray" else -np.inf
    return clip_segment(start, start + d, box, t0, np.inf)


class RegionMap:
    """The linear regions of a net inside a box, stored flat for vectorised work.

    Attributes
    ----------
    vertices : (N, 2) all polygon vertices, region after region (each counter-clockwise).
    starts, counts : (C,) where each region's vertices start in ``vertices`` and how many.
    patterns : (C, p) bool activation patterns sigma_j = [A_j x + c1_j > 0].
    box : the clipping box.
    """

    def __init__(self, vertices: np.ndarray, counts: np.ndarray, patterns: np.ndarray, box: tuple) -> None:
        self.vertices = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64) if len(self.counts) else np.zeros(0, dtype=np.int64)
        self.patterns = np.asarray(patterns, dtype=bool)
        self.box = box
        owner = np.repeat(np.arange(len(self.counts)), self.counts)
        idx = np.arange(len(self.vertices))
        nxt = idx + 1
        if len(self.counts):
            ends = self.starts + self.counts - 1
            nxt[ends] = self.starts
        self.owner, self._next = owner, nxt
        # shoelace sums relative to each polygon's first vertex: no cancellation for tiny cells
        C = len(self.counts)
        ref = self.vertices[self.starts][owner] if C else np.zeros((0, 2))
        rel = self.vertices - ref
        x, y = rel[:, 0], rel[:, 1]
        xn, yn = x[nxt], y[nxt]
        cr = x * yn - xn * y
        a = np.bincount(owner, cr, minlength=C) / 2
        cx = np.bincount(owner, (x + xn) * cr, minlength=C)
        cy = np.bincount(owner, (y + yn) * cr, minlength=C)
        safe = np.where(np.abs(a) > 1e-300, a, 1.0)
        self.areas = np.abs(a)
        cen = np.column_stack([cx, cy]) / (6 * safe[:, None])
        first = self.vertices[self.starts] if C else np.zeros((0, 2))
        # degenerate (zero-area) polygons fall back to the vertex mean
        vmean = np.column_stack([np.bincount(owner, x, minlength=C), np.bincount(owner, y, minlength=C)]) / np.maximum(self.counts, 1)[:, None]
        self.centroids = first + np.where((np.abs(a) > 1e-300)[:, None], cen, vmean)

    def __len__(self) -> int:
        return len(self.counts)

    def polygon(self, c: int) -> np.ndarray:
        """Vertices (v, 2) of region c, counter-clockwise."""
        return self.vertices[self.starts[c] : self.starts[c] + self.counts[c]]

    @property
    def polygons(self) -> list:
        """All region polygons as a list of (v, 2) arrays."""
        return [self.polygon(c) for c in range(len(self))]

    def index_of_patterns(self, patterns: Any) -> np.ndarray:
        """Region index for each activation pattern row (n, p) (-1 when no region in the box has it).

        Use with ``net.activation_patterns(X)`` to find the region of each point X.
        """
        lookup = {row.tobytes(): c for c, row in enumerate(self.patterns)}
        P = np.atleast_2d(np.asarray(patterns, dtype=bool))
        return np.array([lookup.get(r.tobytes(), -1) for r in P], dtype=np.int64)


def linear_regions_2d(net: Any, box: Any) -> RegionMap:
    """Cells of the neuron-line arrangement of a 2-D-input net inside ``box`` (exact), in O(p^2 log p).

    Parameters
    ----------
    net : ShallowReluNet with d = 2 (p <= 1024 hidden units).
    box : (xmin, xmax, ymin, ymax).

    Returns
    -------
    RegionMap with convex polygons and activation patterns sigma_j = [A_j x + c1_j > 0] (the net is affine
    on each; at most 1 + p + C(p, 2) of them), built as a planar graph (``arrangement.arrangement_regions``).
    ``_linear_regions_split`` is the independent polygon-splitting construction the tests compare with.
    """
    from .arrangement import arrangement_regions

    box = _check_region_args(net, box)
    V, counts, pats = arrangement_regions(net.A, net.c1, box)
    return RegionMap(V, counts, pats, box)


def _check_region_args(net: Any, box: Any) -> tuple[float, float, float, float]:
    """Both region constructions take the same arguments: a 2-D-input net within the unit cap, and a box."""
    from ._checks import check_net

    check_net(net, "linear_regions_2d")
    if net.d != 2:
        raise ValueError(f"Linear regions are drawn for 2-D inputs (d = 2); this net has d = {net.d}.")
    if net.p > MAX_REGION_UNITS:
        raise ValueError(f"The exact region map is limited to {MAX_REGION_UNITS} hidden units; this net has {net.p}.")
    return check_box(box)


def _linear_regions_split(net: Any, box: Any) -> RegionMap:
    """Cells of the neuron-line arrangement of a 2-D-input net inside ``box`` (exact).

    Parameters
    ----------
    net : ShallowReluNet with d = 2.
    box : (xmin, xmax, ymin, ymax).

    Returns
    -------
    RegionMap with convex polygons and activation patterns sigma_j = [A_j x + c1_j > 0] (the net
    is affine on each; at most 1 + p + C(p, 2) of them). Lines are added one at a time; all the
    polygons a line crosses are split in one vectorised step (Sutherland-Hodgman on flat arrays).
    """
    box = _check_region_args(net, box)
    xmin, xmax, ymin, ymax = box
    p = net.p
    scale = max(xmax - xmin, ymax - ymin)
    eps = 1e-12 * scale
    # flat storage: vertices V (N, 2) polygon after polygon (counter-clockwise), owner (N,)
    V = np.array([[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax]], dtype=np.float64)
    owner = np.zeros(4, dtype=np.int64)
    pats = np.zeros((1, p), dtype=bool)
    A, c = net.A, net.c1
    for l in range(p):
        a = A[l]
        na = np.linalg.norm(a)
        if na == 0.0:
            pats[:, l] = c[l] > 0
            continue
        C = len(pats)
        vals = (V @ a + c[l]) / na  # signed distances
        vals[np.abs(vals) <= eps] = 0.0
        # owner is sorted and every polygon is non-empty, so reduceat over the group starts works
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        vmin = np.minimum.reduceat(vals, starts)
        vmax = np.maximum.reduceat(vals, starts)
        pats[vmin >= 0, l] = True
        crossed = (vmin < 0) & (vmax > 0)
        if not crossed.any():
            continue
        # split every crossed polygon at once: walk its vertices in order and emit, per vertex a,
        # [v_a if on the side] + [the crossing point of edge (a, a+1) if the edge changes sign]
        vc = crossed[owner]
        idx = np.flatnonzero(vc)
        own_c = owner[idx]
        # next vertex within the same polygon (cyclic)
        nxt = idx + 1
        last = np.ones(len(idx), dtype=bool)
        last[:-1] = own_c[1:] != own_c[:-1]
        first_of = np.empty(C, dtype=np.int64)
        first_of[own_c[::-1]] = idx[::-1]
        nxt[last] = first_of[own_c[last]]
        va, vb = vals[idx], vals[nxt]
        cross_e = ((va > 0) & (vb < 0)) | ((va < 0) & (vb > 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(cross_e, va / np.where(cross_e, va - vb, 1.0), 0.0)
        X = V[idx] + t[:, None] * (V[nxt] - V[idx])
        items = np.stack([V[idx], X], axis=1).reshape(-1, 2)
        item_owner = np.repeat(own_c, 2)
        pos_m = np.stack([va >= 0, cross_e], axis=1).reshape(-1)
        neg_m = np.stack([va <= 0, cross_e], axis=1).reshape(-1)
        keep_v = ~vc
        cross_ids = np.flatnonzero(crossed)
        kept_ids = np.flatnonzero(~crossed)
        # new polygon order: untouched polygons, then negative parts, then positive parts
        remap_keep = np.empty(C, dtype=np.int64)
        remap_keep[kept_ids] = np.arange(len(kept_ids))
        remap_neg = np.empty(C, dtype=np.int64)
        remap_neg[cross_ids] = len(kept_ids) + np.arange(len(cross_ids))
        remap_pos = np.empty(C, dtype=np.int64)
        remap_pos[cross_ids] = len(kept_ids) + len(cross_ids) + np.arange(len(cross_ids))
        V = np.concatenate([V[keep_v], items[neg_m], items[pos_m]], axis=0)
        owner = np.concatenate([remap_keep[owner[keep_v]], remap_neg[item_owner[neg_m]], remap_pos[item_owner[pos_m]]])
        on = pats[cross_ids].copy()
        on[:, l] = True
        pats = np.concatenate([pats[kept_ids], pats[cross_ids], on], axis=0)
        # the new ids are monotone within each of the three blocks (kept, negative, positive parts)
        # and the blocks come in id order, so V stays grouped by polygon without sorting
    counts = np.bincount(owner, minlength=len(pats))
    rm = RegionMap(V, counts, pats, box)
    keep = (counts >= 3) & (rm.areas > 1e-14 * scale * scale)
    if not keep.all():
        vk = keep[owner]
        rm = RegionMap(V[vk], counts[keep], pats[keep], box)
    return rm
