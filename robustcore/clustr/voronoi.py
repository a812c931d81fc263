"""Voronoi cells of 2-D cluster centres, clipped to a box (for drawing the decision regions)."""

from __future__ import annotations

import numpy as np

from robustcore.tropical.regions import clip_segment as _clip

from ._checks import check_float

__all__ = ["voronoi_segments"]


def voronoi_segments(
    centers: np.ndarray, box: tuple[float, float, float, float]
) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """Edges of the Voronoi diagram of 2-D centres inside a box.

    Parameters
    ----------
    centers : (M, 2) points (M >= 2, not all on one line for M >= 3 is not required).
    box : (xmin, xmax, ymin, ymax).

    Returns
    -------
    list of (p0, p1, i, j): the segment p0-p1 (each (2,)) of the bisector of centres i and j that
    bounds both of their cells. Infinite edges are extended to the box. Edges between centres of
    different classes form the nearest-centre decision boundary.
    """
    from scipy.spatial import QhullError, Voronoi

    from .certificate import _to_numpy

    C = _to_numpy("centers", centers, 2)
    if C.shape[1] != 2 or C.shape[0] < 2:
        raise ValueError(f"centers must be (M, 2) with M >= 2; got shape {C.shape}.")
    if not np.all(np.isfinite(C)):
        raise ValueError("centers contain NaN or infinite values.")
    if C.shape[0] > 100_000:
        raise ValueError(f"centers has {C.shape[0]} rows, above the cap of 100000.")
    if isinstance(box, (str, bytes)) or not isinstance(box, (tuple, list, np.ndarray)) or len(box) != 4:
        raise TypeError("box must be a (xmin, xmax, ymin, ymax) tuple of four numbers.")
    xmin, xmax, ymin, ymax = (check_float(f"box[{k}]", v) for k, v in enumerate(box))
    if not (xmin < xmax and ymin < ymax):
        raise ValueError(f"box must satisfy xmin < xmax and ymin < ymax; got {tuple(box)}.")
    if max(np.abs(C).max(), abs(xmin), abs(xmax), abs(ymin), abs(ymax)) > 1e100:
        raise ValueError("centers and box must have magnitudes below 1e100.")
    box = (xmin, xmax, ymin, ymax)
    far = 4.0 * max(xmax - xmin, ymax - ymin, np.ptp(C, axis=0).max(), 1e-9)
    segs: list[tuple[np.ndarray, np.ndarray, int, int]] = []
    try:
        vor = Voronoi(C)
    except QhullError:
        # collinear (or two) centres: the edges are the parallel bisectors of consecutive points
        order = np.argsort(C @ (C[-1] - C[0]) if np.ptp(C, axis=0).max() > 0 else np.arange(len(C)))
        for a, b in zip(order[:-1], order[1:]):
            mid = (C[a] + C[b]) / 2
            n = C[b] - C[a]
            t = np.array([-n[1], n[0]]) / max(np.linalg.norm(n), 1e-300)
            seg = _clip(mid - far * t, mid + far * t, box)
            if seg is not None:
                segs.append((seg[0], seg[1], int(a), int(b)))
        return segs
    center = C.mean(axis=0)
    for (i, j), verts in zip(vor.ridge_points, vor.ridge_vertices):
        verts = np.asarray(verts)
        if np.all(verts >= 0):
            p0, p1 = vor.vertices[verts[0]], vor.vertices[verts[1]]
        else:
            v = vor.vertices[verts[verts >= 0][0]]
            t = C[j] - C[i]
            n = np.array([-t[1], t[0]]) / np.linalg.norm(t)
            mid = (C[i] + C[j]) / 2
            if np.dot(mid - center, n) < 0:
                n = -n
            p0, p1 = v, v + far * n
        seg = _clip(p0, p1, box)
        if seg is not None:
            segs.append((seg[0], seg[1], int(i), int(j)))
    return segs
