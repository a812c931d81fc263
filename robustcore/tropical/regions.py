"""Linear regions of a 2-D-input ShallowReluNet: the cells of its neuron-line arrangement.

The net is affine on each cell of the arrangement {A_j x + c1_j = 0} (one cell per activation
pattern). We build the cells inside a box exactly, by splitting convex polygons line by line
(half-plane intersection), vectorised over polygons. At most 1 + p + C(p, 2) cells for p
lines in the plane (reference §1.3, I15).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np

__all__ = [
    "Region",
    "RegionMap",
    "check_box",
    "linear_regions_2d",
    "region_bound",
    "clip_piece",
    "clip_segment",
]


def check_box(box: Any) -> tuple[float, float, float, float]:
    """Validate a box (xmin, xmax, ymin, ymax) with finite, increasing bounds."""
    try:
        b = tuple(float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise ValueError("box must be four numbers (xmin, xmax, ymin, ymax).") from exc
    if len(b) != 4 or not all(np.isfinite(b)):
        raise ValueError("box must be four finite numbers (xmin, xmax, ymin, ymax).")
    if not (b[0] < b[1] and b[2] < b[3]):
        raise ValueError(f"box needs xmin < xmax and ymin < ymax; got {b}.")
    return b  # type: ignore[return-value]


def region_bound(p: int, d: int = 2) -> int:
    """Zaslavsky's bound on the cells of p hyperplanes in R^d: sum_{j <= d} C(p, j).

    For d = 2 this is 1 + p + C(p, 2), the bound shown on the page.
    """
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


def clip_piece(piece: dict, box: Any) -> Any:
    """Clip a T(R) piece (segment, ray or line; see ``DualSubdivision.pieces``) to a box."""
    if piece["kind"] == "segment":
        return clip_segment(np.asarray(piece["start"]), np.asarray(piece["end"]), box)
    start = np.asarray(piece["start"], dtype=float)
    d = np.asarray(piece["direction"], dtype=float)
    t0 = 0.0 if piece["kind"] == "ray" else -np.inf
    return clip_segment(start, start + d, box, t0, np.inf)


@dataclass
class Region:
    """One linear region: a convex polygon (counter-clockwise) and its activation pattern."""

    polygon: np.ndarray  # (v, 2)
    pattern: np.ndarray  # (p,) bool

    @property
    def centroid(self) -> np.ndarray:
        """Area centroid (2,) of the polygon (an interior point)."""
        P = self.polygon
        x, y = P[:, 0], P[:, 1]
        xn, yn = np.roll(x, -1), np.roll(y, -1)
        cr = x * yn - xn * y
        a = cr.sum() / 2
        if abs(a) < 1e-300:
            return P.mean(axis=0)
        return np.array([((x + xn) * cr).sum(), ((y + yn) * cr).sum()]) / (6 * a)

    @property
    def area(self) -> float:
        """Area of the polygon."""
        P = self.polygon
        return float(0.5 * abs(np.dot(P[:, 0], np.roll(P[:, 1], -1)) - np.dot(P[:, 1], np.roll(P[:, 0], -1))))


@dataclass
class RegionMap:
    """The linear regions of a net inside a box."""

    regions: list
    box: tuple

    def __len__(self) -> int:
        return len(self.regions)

    @property
    def patterns(self) -> np.ndarray:
        """(C, p) bool activation patterns, one row per region."""
        return np.array([r.pattern for r in self.regions])

    @property
    def centroids(self) -> np.ndarray:
        """(C, 2) interior points, one per region."""
        return np.array([r.centroid for r in self.regions])


def _split(poly: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a convex polygon by the line vals = 0 (vals at its vertices) into (>= 0, <= 0) parts."""
    nxt = np.roll(np.arange(len(poly)), -1)
    pos, neg = [], []
    for a in range(len(poly)):
        b = nxt[a]
        va, vb = vals[a], vals[b]
        if va >= 0:
            pos.append(poly[a])
        if va <= 0:
            neg.append(poly[a])
        if (va > 0 and vb < 0) or (va < 0 and vb > 0):
            t = va / (va - vb)
            q = poly[a] + t * (poly[b] - poly[a])
            pos.append(q)
            neg.append(q)
    return np.array(pos), np.array(neg)


def linear_regions_2d(net: Any, box: Any) -> RegionMap:
    """Cells of the neuron-line arrangement of a 2-D-input net inside ``box`` (exact).

    Parameters
    ----------
    net : ShallowReluNet with d = 2.
    box : (xmin, xmax, ymin, ymax).

    Returns
    -------
    RegionMap whose regions carry convex polygons and activation patterns
    sigma_j = [A_j x + c1_j > 0] (the net is affine on each; at most 1 + p + C(p, 2) of them).
    """
    if net.d != 2:
        raise ValueError(f"Linear regions are drawn for 2-D inputs (d = 2); this net has d = {net.d}.")
    box = check_box(box)
    xmin, xmax, ymin, ymax = box
    p = net.p
    scale = max(xmax - xmin, ymax - ymin)
    polys = [np.array([[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax]], dtype=np.float64)]
    pats = [np.zeros(p, dtype=bool)]
    A, c = net.A, net.c1
    for l in range(p):
        a = A[l]
        na = np.linalg.norm(a)
        if na == 0.0:
            on = c[l] > 0
            for pat in pats:
                pat[l] = on
            continue
        counts = np.array([len(q) for q in polys])
        V = np.concatenate(polys, axis=0)
        vals = (V @ a + c[l]) / na  # signed distances
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        vmin = np.minimum.reduceat(vals, starts)
        vmax = np.maximum.reduceat(vals, starts)
        eps = 1e-12 * scale
        new_polys, new_pats = [], []
        for q, (poly, pat) in enumerate(zip(polys, pats)):
            if vmin[q] >= -eps:
                pat[l] = True
                new_polys.append(poly)
                new_pats.append(pat)
            elif vmax[q] <= eps:
                new_polys.append(poly)
                new_pats.append(pat)
            else:
                v = vals[starts[q] : starts[q] + counts[q]]
                v = np.where(np.abs(v) <= eps, 0.0, v)
                P_pos, P_neg = _split(poly, v)
                p_on = pat.copy()
                p_on[l] = True
                new_polys += [P_pos, P_neg]
                new_pats += [p_on, pat]
        polys, pats = new_polys, new_pats
    regions = [Region(P, s) for P, s in zip(polys, pats) if len(P) >= 3]
    regions = [r for r in regions if r.area > 1e-14 * scale * scale]
    return RegionMap(regions, box)
