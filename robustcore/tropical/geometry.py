"""Everything the page draws for a 2-D-input net and a class pair, computed in one call.

``pair_geometry(net, box, i, j)`` bundles the zonotopes Z_G1, Z_G2 and their hull, the dual
subdivision delta(R), T(R) and the decision boundary (both constructions, with their gap), the
linear regions, and the link region <-> dual vertex. ``benchmarks/tropical.py`` times it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .boundary import decision_boundary_cells, segment_set_distance, tie_regions
from .regions import RegionMap, check_box, linear_regions_2d, region_bound
from .subdivision import DualSubdivision, dual_subdivision
from .zonotope import zonogon_directions, zonotope_vertices

__all__ = ["PairGeometry", "pair_geometry", "region_dual_points"]


@dataclass
class PairGeometry:
    """The geometry of one class pair (i, j) of a 2-D-input net inside a box."""

    i: int
    j: int
    box: tuple
    G1: np.ndarray  # (p, 2) generators of Z_G1
    G2: np.ndarray  # (p, 2)
    shift: np.ndarray  # (2,) the common shift s
    Z1: np.ndarray  # (v1, 2) vertices of Z_G1 (counter-clockwise, shifted by s)
    Z2: np.ndarray  # (v2, 2)
    hull: np.ndarray  # (h, 2) vertices of conv(Z_G1 u Z_G2), counter-clockwise
    hull_tags: np.ndarray  # (h,) bit mask: 1 = Z_G1, 2 = Z_G2, 3 = both
    sub: DualSubdivision
    regions: RegionMap
    region_dual: np.ndarray  # (C,) index into sub.points of the dual vertex of each region
    region_side: np.ndarray  # (C,) +1 where f_i > f_j, -1 where f_j > f_i, 0 on a tie
    region_points: np.ndarray  # (C, 2, 2) exponents of H_i+Q_j (in Z_G1) and H_j+Q_i (in Z_G2) on each region
    T_segments: np.ndarray  # (n, 2, 2) T(R) clipped to the box
    B_dual: np.ndarray  # (n, 2, 2) decision boundary from the bridging edges
    B_cells: np.ndarray  # (n, 2, 2) decision boundary solved cell by cell
    B_gap: float  # segment_set_distance(B_dual, B_cells)
    ties: list  # polygons where f_i = f_j identically

    @property
    def counts(self) -> dict:
        """The counts shown beside the plots."""
        p = self.G1.shape[0]
        return {
            "hidden units p": p,
            "generators of Z_G1 (nonzero)": int((np.abs(self.G1).sum(axis=1) > 0).sum()),
            "generators of Z_G2 (nonzero)": int((np.abs(self.G2).sum(axis=1) > 0).sum()),
            "vertices of Z_G1": int(len(self.Z1)) if np.ptp(self.Z1, axis=0).max() > 0 else 1,
            "vertices of Z_G2": int(len(self.Z2)) if np.ptp(self.Z2, axis=0).max() > 0 else 1,
            "distinct directions (Z_G1, Z_G2)": (zonogon_directions(self.G1), zonogon_directions(self.G2)),
            "vertices of the hull": int(len(self.hull)),
            "linear regions of f in the box": len(self.regions),
            "bound 1 + p + C(p,2)": region_bound(p, 2),
            "linear regions of R (upper vertices)": self.sub.n_regions,
            "cells of delta(R)": len(self.sub.cells),
            "bridging edges": int(self.sub.bridging_edges().size),
        }


def region_dual_points(net: Any, patterns: np.ndarray, i: int = 0, j: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Dual points of activation patterns (C, p) in the lifted Z_G1 and Z_G2, each (C, 3).

    On the region with pattern sigma, H_i + Q_j = <(z1, h1), (x, 1)> with
    z1 = s + sum_l sigma_l w1_l A_l and h1 = c2_i + sum_l sigma_l w1_l c1_l (likewise z2, h2).
    """
    from ._checks import as_array, check_net

    check_net(net, "region_dual_points")
    w1, w2 = net.pair_weights(i, j)
    s = net.common_shift([i, j])
    S = as_array("patterns", patterns, 2)
    if S.shape[1] != net.p:
        raise ValueError(f"patterns must have {net.p} columns (one per hidden unit); got shape {S.shape}.")
    return _dual_points(net, S, w1, w2, s, i, j)


def _dual_points(net: Any, S: np.ndarray, w1: np.ndarray, w2: np.ndarray, s: np.ndarray, i: int, j: int) -> tuple:
    """``region_dual_points`` on checked (C, p) patterns (bool or 0/1 floats)."""
    L = np.hstack([net.A, net.c1[:, None]])
    WL = np.hstack([w1[:, None] * L, w2[:, None] * L])  # (p, 6): both zonotopes' generators
    out = np.empty((len(S), 6))
    # row blocks of the (C, p) pattern table as floats stay in cache (one big conversion is memory-bound)
    for r in range(0, len(S), 512):
        out[r : r + 512] = S[r : r + 512].astype(np.float64) @ WL
    P1 = np.append(s, net.c2[i]) + out[:, :3]
    P2 = np.append(s, net.c2[j]) + out[:, 3:]
    return P1, P2


def pair_geometry(net: Any, box: Any, i: int = 0, j: int = 1) -> PairGeometry:
    """Compute all of the page's geometry for the class pair (i, j) of a 2-D-input net.

    Raises ValueError for d != 2, a bad box or a bad pair, before any heavy work.
    """
    from ._checks import check_net

    check_net(net, "pair_geometry")
    if net.d != 2:
        raise ValueError(f"The 2-D view needs a 2-D input (d = 2); this net has d = {net.d}. Use a projection or a slice.")
    box = check_box(box)
    i, j = net._check_pair(i, j)
    G1, G2 = net.zonotope_generators(i, j)
    s = net.common_shift([i, j])
    Z1, Z2 = zonotope_vertices(G1, s), zonotope_vertices(G2, s)
    sub = dual_subdivision(net, i, j)
    regions = linear_regions_2d(net, box)
    # hull of the projected zonotopes with tags (exactly the Newton polygon of R)
    from scipy.spatial import cKDTree

    from .hull import zonotope_pair_hull

    ph = zonotope_pair_hull(G1, G2, s)
    hull, hull_tags = ph.vertices, ph.tags
    # region -> dual vertex
    if len(regions):
        w1, w2 = net.pair_weights(i, j)
        P1, P2 = _dual_points(net, regions.patterns, w1, w2, s, i, j)  # the region map's patterns: checked
        rpts = np.stack([P1[:, :2], P2[:, :2]], axis=1)
        X = regions.centroids
        val1 = (X * P1[:, :2]).sum(axis=1) + P1[:, 2]
        val2 = (X * P2[:, :2]).sum(axis=1) + P2[:, 2]
        # relative to the values' own scale: scaling the weights must not turn sides into ties
        tol = 1e-9 * (np.abs(val1).max() + np.abs(val2).max())
        side = np.where(val1 > val2 + tol, 1, np.where(val2 > val1 + tol, -1, 0))
        chosen = np.where((side >= 0)[:, None], P1, P2)
        tree = cKDTree(np.column_stack([sub.points, sub.heights]))
        _, idx = tree.query(chosen)
    else:
        side = np.zeros(0, dtype=int)
        idx = np.zeros(0, dtype=int)
        rpts = np.zeros((0, 2, 2))
    B_cells = decision_boundary_cells(net, box, i, j, regions=regions)
    T = sub.hypersurface_segments(box)
    B_dual = sub.hypersurface_segments(box, bridging_only=True)
    gap = segment_set_distance(B_dual, B_cells, samples_per_segment=5)
    ties = tie_regions(net, box, i, j, regions=regions)
    return PairGeometry(i, j, box, G1, G2, s, Z1, Z2, hull, hull_tags, sub, regions,
                        np.asarray(idx, dtype=int), side, rpts, T, B_dual, B_cells, gap, ties)
