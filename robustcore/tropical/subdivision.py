"""Lifted zonotopes, the dual subdivision delta(R) and the tropical curve T(R) in 2-D.

For the class pair (i, j) (reference §1.3): H_i + Q_j is the support function, in direction
(x, 1), of the lifted zonotope P1 = (s, c2_i) + sum_l [0, 1] w1_l (A_l, c1_l) in R^{d+1}, and
H_j + Q_i likewise of P2 with (s, c2_j) and w2. R = max(H_i + Q_j, H_j + Q_i) is then the support
function of conv(P1 u P2), and

    delta(R) = pi(upper faces of conv(P1 u P2))        (the paper's Theorem 2, general form)

where pi drops the height. For the bias-free net (c1 = 0, c2 = 0) every lifted point has
height 0 and delta(R) = conv(Z_G1 u Z_G2) with no interior edge (Theorem 2 as stated).
The same machinery handles the k-class common-denominator construction (§1.4) with k lifted
zonotopes. Each point is tagged with a bit mask of the zonotopes it belongs to.

Duality (2-D input): an upper face F with height function h(e) = <a_F, e> + b_F is dual to the
vertex x_F = -a_F of T(R); an interior edge shared by faces F, F' is dual to the segment
[x_F, x_F']; a boundary edge of face F is dual to the ray from x_F along the edge's outward
normal; an upper vertex is dual to a linear region of R.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import short as _short

from ._checks import ArgumentTypeError

from .zonotope import close_pair_clusters, zonotope_vertices

__all__ = [
    "LiftedZonotope",
    "DualSubdivision",
    "lifted_zonotopes",
    "dual_subdivision",
    "subdivision_from_lifted",
    "upper_hull_2d",
]

_TOL = 1e-9


@dataclass
class LiftedZonotope:
    """shift + sum_l [0, 1] generators_l in R^{d+1} (last coordinate = height)."""

    generators: np.ndarray  # (p, d + 1)
    shift: np.ndarray  # (d + 1,)
    label: str = ""

    def vertices(self) -> np.ndarray:
        """Exact vertices (v, d + 1) of the lifted zonotope."""
        return zonotope_vertices(self.generators, self.shift)

    def upper_vertices(self, fast: bool = True) -> np.ndarray:
        """The vertices on its upper faces (a superset of the upper vertices; all for flat ones).

        Only these can be vertices of the upper hull of a union, so the dual subdivision needs
        no more. With ``fast`` (2-D inputs, lines in general position) they come from the line
        arrangement in O(p^3 / 2) cheap vectorised work (``_upper_vertices_by_arrangement``); otherwise
        (or when lines are concurrent) from the exact face enumeration of the zonohedron.
        """
        if fast:
            V = _upper_vertices_by_arrangement(self.generators, self.shift)
            if V is not None:
                return V
        return zonotope_vertices(self.generators, self.shift, upper_only=True)

    @property
    def projected_generators(self) -> np.ndarray:
        """Generators with the height dropped (p, d): the paper's G rows."""
        return self.generators[:, :-1]


def _upper_vertices_by_arrangement(G: np.ndarray, shift: np.ndarray) -> np.ndarray | None:
    """Upper vertices of shift + sum_l [0, 1] g_l in R^3, g_l = w_l (A_l, c_l), from the arrangement of lines.

    The upper vertex maximising <(e, h), (x, 1)> is shift + sum_l [<g_l, (x, 1)> > 0] g_l: one per cell of the
    arrangement {<g_l, (x, 1)> = 0}. Every cell has a vertex of the arrangement on its boundary (when two lines
    are not parallel), and around a simple vertex (two lines i, j) the four cells have the other lines' signs at
    the vertex and the four sign choices of (i, j). Returns None (caller falls back to face enumeration) when the
    arrangement is degenerate (three or more lines through one vertex, all lines parallel) or tiny.
    """
    G = np.asarray(G, dtype=np.float64)
    live = np.linalg.norm(G[:, :2], axis=1) > 0
    const = ~live & (np.abs(G[:, 2]) > 0)  # vertical generators: a constant sign (the height c_l w_l)
    L = G[live]
    m = len(L)
    if m < 3 or m > 400:
        return None
    n = L[:, :2] / np.linalg.norm(L[:, :2], axis=1, keepdims=True)
    b = L[:, 2] / np.linalg.norm(L[:, :2], axis=1)
    I, J = np.triu_indices(m, 1)
    det = n[I, 0] * n[J, 1] - n[I, 1] * n[J, 0]
    ok = np.abs(det) > 1e-9
    if not ok.any():
        return None
    I, J, det = I[ok], J[ok], det[ok]
    x = (-b[I] * n[J, 1] + b[J] * n[I, 1]) / det
    y = (-n[I, 0] * b[J] + n[J, 0] * b[I]) / det
    val = np.column_stack([x, y]) @ n.T + b  # signed distances of every line from every vertex (P, m)
    scale = 1.0 + np.abs(np.column_stack([x, y])).max(axis=1, keepdims=True)
    near = np.abs(val) <= 1e-9 * scale
    near[np.arange(len(I)), I] = False
    near[np.arange(len(I)), J] = False
    if near.any():
        return None  # concurrent lines: the four-cell rule does not hold there
    S = val > 0
    pats = []
    for si in (False, True):
        for sj in (False, True):
            T = S.copy()
            T[np.arange(len(I)), I] = si
            T[np.arange(len(I)), J] = sj
            pats.append(T)
    Pm = np.concatenate(pats, axis=0)
    packed = np.packbits(Pm, axis=1)
    pad = (-packed.shape[1]) % 8
    words = np.ascontiguousarray(np.pad(packed, ((0, 0), (0, pad)))).view(np.uint64)  # (n, w) integer keys
    order = np.lexsort(words.T[::-1])
    w_sorted = words[order]
    new_row = np.r_[True, (w_sorted[1:] != w_sorted[:-1]).any(axis=1)]
    Pm = Pm[np.sort(order[new_row])]
    base = shift + G[const & (G[:, 2] > 0)].sum(axis=0)
    return base + Pm.astype(np.float64) @ L


def lifted_zonotopes(net: Any, i: int = 0, j: int | None = 1, mode: str = "pair") -> list[LiftedZonotope]:
    """Lifted zonotopes of a net: two for a class pair (mode "pair"), k for "common" (§1.4).

    Pair (i, j): P1 = (s, c2_i) + sum_l [0,1] w1_l (A_l, c1_l), P2 with (s, c2_j) and w2, where
    w1 = ReLU(B_i) + ReLU(-B_j), w2 = ReLU(B_j) + ReLU(-B_i), s = sum_l (|B_il| + |B_jl|) A_l^-.
    Common: P_i = (s, c2_i) + sum_l [0,1] W_il (A_l, c1_l) with W of
    ``polynomial.common_denominator_weights``.
    """
    from ._checks import check_net

    check_net(net, "lifted_zonotopes")
    if not isinstance(mode, str) or mode not in ("pair", "common"):
        raise ValueError(f"mode must be 'pair' or 'common'; got {_short(mode)}.")
    lifted_rows = np.hstack([net.A, net.c1[:, None]])  # (p, d + 1)
    if mode == "pair":
        if j is None:
            raise ValueError("A class pair needs j.")
        i, j = net._check_pair(i, j)
        w1, w2 = net.pair_weights(i, j)
        s = net.common_shift([i, j])
        return [
            LiftedZonotope(w1[:, None] * lifted_rows, np.append(s, net.c2[i]), f"Z{i}"),
            LiftedZonotope(w2[:, None] * lifted_rows, np.append(s, net.c2[j]), f"Z{j}"),
        ]
    if mode == "common":
        from .polynomial import common_denominator_weights

        W, s = common_denominator_weights(net)
        return [LiftedZonotope(W[c][:, None] * lifted_rows, np.append(s, net.c2[c]), f"Z{c}") for c in range(net.k)]
    raise ValueError(f"mode must be 'pair' or 'common'; got {_short(mode)}.")


def upper_hull_2d(points: np.ndarray) -> np.ndarray:
    """Indices of the strict upper hull of 2-D points (t, h), ordered by increasing t."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    hull: list[int] = []
    for idx in order:
        while len(hull) >= 2:
            o, a = points[hull[-2]], points[hull[-1]]
            b = points[idx]
            cross = (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
            if cross >= -_TOL * (1 + abs(a[1]) + abs(b[1])):  # keep only right turns (upper chain)
                hull.pop()
            else:
                break
        if hull and abs(points[hull[-1], 0] - points[idx, 0]) <= _TOL * (1 + abs(points[idx, 0])):
            hull.pop()  # same t: keep the higher point (it comes later in the order)
        hull.append(int(idx))
    return np.array(hull, dtype=int)


def _convex_polygon_order(P: np.ndarray) -> np.ndarray:
    """Indices of the strictly convex hull of 2-D points, counter-clockwise (monotone chain)."""
    order = np.lexsort((P[:, 1], P[:, 0]))

    def chain(idx: np.ndarray) -> list[int]:
        out: list[int] = []
        for t in idx:
            while len(out) >= 2:
                o, a, b = P[out[-2]], P[out[-1]], P[t]
                cross = (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
                scale = 1e-12 * np.abs(P).max() ** 2  # relative to the polygon's own size
                if cross <= scale:
                    out.pop()
                else:
                    break
            out.append(int(t))
        return out

    lower = chain(order)
    upper = chain(order[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=int)


@dataclass
class DualSubdivision:
    """The dual subdivision delta(R) of R = max_c (support function of lifted zonotope c).

    Attributes
    ----------
    points : (n, d) projected points (deduplicated union of all lifted-zonotope vertices).
    heights : (n,) their heights (the monomial coefficients).
    tags : (n,) int bit mask: bit c set when the point is a vertex of lifted zonotope c.
    cells : list of int arrays, each an upper face, counter-clockwise (2-D), coplanar merged.
    planes : (F, 3) for 2-D: (a1, a2, b) with height = <a, e> + b on each cell.
    upper : sorted int array of upper-vertex indices (one per linear region of R).
    edges : (E, 2) int array of subdivision edges (vertex indices, a < b).
    edge_cells : (E, 2) int array of the cells on each side (-1 = outside the Newton polygon).
    kind : "full" (2-D cells), "flat" (all lifted points coplanar: one cell, Theorem 2's
        bias-free case), "segment" (Newton polytope is a segment), "point".
    direction : for "segment", the unit direction u of the Newton segment; else None.
    """

    points: np.ndarray
    heights: np.ndarray
    tags: np.ndarray
    cells: list = field(default_factory=list)
    planes: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    upper: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    edges: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=int))
    edge_cells: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=int))
    kind: str = "full"
    direction: Any = None
    n_zonotopes: int = 2
    _pieces: Any = field(default=None, repr=False)
    _cell_centroids: Any = field(default=None, repr=False)

    # ----------------------------------------------------------------- queries
    @property
    def n_regions(self) -> int:
        """Number of linear regions of R (= number of upper vertices)."""
        return int(self.upper.size)

    def R(self, X: Any) -> np.ndarray:
        """R(x) = max_e (<e, x> + h_e) over the stored points, X (n, d) -> (n,)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        return (X @ self.points.T + self.heights).max(axis=1)

    def bridging_edges(self) -> np.ndarray:
        """Indices into ``edges`` of the edges joining points of different zonotopes.

        Their dual pieces of T(R) form the decision boundary (reference §1.3). An edge between a
        point of one zonotope and a point shared by both bounds a tie region and counts too.
        """
        if self.edges.size == 0:
            return np.zeros(0, dtype=int)
        ta, tb = self.tags[self.edges[:, 0]], self.tags[self.edges[:, 1]]
        return np.flatnonzero(ta != tb)

    def tie_vertices(self) -> np.ndarray:
        """Upper vertices shared by more than one zonotope: open regions where two classes tie."""
        t = self.tags[self.upper]
        return self.upper[(t & (t - 1)) != 0]

    def hull_vertices(self) -> np.ndarray:
        """Vertices of the Newton polygon conv(Z_1 u Z_2 ...) (counter-clockwise for 2-D)."""
        if self.points.shape[1] != 2:
            raise ValueError("hull_vertices is for 2-D subdivisions.")
        if self.kind == "point":
            return np.array([0])
        if self.kind == "segment":
            t = self.points @ self.direction
            return np.array([int(np.argmin(t)), int(np.argmax(t))])
        return _convex_polygon_order(self.points)

    # ------------------------------------------------------- T(R) in 2-D input
    def tropical_vertices(self) -> np.ndarray:
        """Vertices x_F = -a_F of T(R), one per cell (F, 2) (2-D, kind 'full' or 'flat')."""
        return -self.planes[:, :2]

    def piece_arrays(self) -> dict:
        """T(R) pieces as arrays (2-D): one row per piece.

        Keys: ``start`` (n, 2); ``vec`` (n, 2) (end - start for segments, the unit direction for
        rays and lines); ``t0``, ``t1`` (n,) the parameter range of start + t vec (0..1 for a
        segment, 0..inf for a ray, -inf..inf for a line); ``kind`` (n,) "segment" / "ray" /
        "line"; ``bridging`` (n,) bool; ``dual`` (n, 2) the point indices of the dual edge.
        """
        if getattr(self, "_pieces", None) is not None:
            return self._pieces
        if self.points.shape[1] != 2:
            raise ValueError("T(R) pieces are computed for 2-D inputs only.")
        empty = dict(start=np.zeros((0, 2)), vec=np.zeros((0, 2)), t0=np.zeros(0), t1=np.zeros(0),
                     kind=np.zeros(0, dtype="<U7"), bridging=np.zeros(0, bool), dual=np.zeros((0, 2), int))
        if self.kind == "point":
            out = empty
        elif self.kind == "segment":
            # R depends on z = <u, x> only: each edge of the 1-D upper hull gives a whole line
            u = self.direction
            t = self.points @ u
            a, b = self.edges[:, 0], self.edges[:, 1]
            z = -(self.heights[b] - self.heights[a]) / (t[b] - t[a])
            n = len(a)
            out = dict(start=z[:, None] * u[None], vec=np.tile([-u[1], u[0]], (n, 1)), t0=np.full(n, -np.inf),
                       t1=np.full(n, np.inf), kind=np.full(n, "line"), bridging=self.tags[a] != self.tags[b],
                       dual=self.edges.copy())
        else:
            xF = self.tropical_vertices()
            a, b = self.edges[:, 0], self.edges[:, 1]
            f, g = self.edge_cells[:, 0], self.edge_cells[:, 1]
            inner = (f >= 0) & (g >= 0)
            start = xF[np.maximum(f, 0)]
            end = xF[np.maximum(g, 0)]
            # boundary edges: ray along the outward normal of the Newton polygon's edge
            t = self.points[b] - self.points[a]
            nrm = np.column_stack([t[:, 1], -t[:, 0]])
            cell_cen = self._cell_centroids
            mid = 0.5 * (self.points[a] + self.points[b])
            flip = np.einsum("ij,ij->i", nrm, mid - cell_cen[np.maximum(f, 0)]) < 0
            nrm = np.where(flip[:, None], -nrm, nrm)
            nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-300)
            vec = np.where(inner[:, None], end - start, nrm)
            keep = ~inner | (np.linalg.norm(end - start, axis=1) > _TOL * (1 + np.abs(start).max(axis=1)))
            n = len(a)
            out = dict(start=start[keep], vec=vec[keep], t0=np.zeros(n)[keep],
                       t1=np.where(inner, 1.0, np.inf)[keep], kind=np.where(inner, "segment", "ray")[keep],
                       bridging=(self.tags[a] != self.tags[b])[keep], dual=self.edges[keep])
        self._pieces = out
        return out

    def pieces(self) -> list[dict]:
        """Pieces of T(R) in input space as dicts (2-D); see ``piece_arrays`` for the fields.

        Each dict: ``kind``, ``start``, ``end`` (segments) or ``direction`` (rays, lines),
        ``bridging``, ``dual``.
        """
        pa = self.piece_arrays()
        out = []
        for r in range(len(pa["start"])):
            d = dict(kind=str(pa["kind"][r]), start=pa["start"][r], bridging=bool(pa["bridging"][r]),
                     dual=tuple(int(v) for v in pa["dual"][r]))
            if d["kind"] == "segment":
                d["end"] = pa["start"][r] + pa["vec"][r]
            else:
                d["direction"] = pa["vec"][r]
            out.append(d)
        return out

    def hypersurface_segments(self, box: Any, bridging_only: bool = False) -> np.ndarray:
        """T(R) (or, with ``bridging_only``, the decision boundary) clipped to ``box``.

        box = (xmin, xmax, ymin, ymax). Returns (n, 2, 2) segment end points.
        """
        from .regions import check_box, clip_many

        pa = self.piece_arrays()
        sel = pa["bridging"] if bridging_only else np.ones(len(pa["start"]), dtype=bool)
        return clip_many(pa["start"][sel], pa["vec"][sel], pa["t0"][sel], pa["t1"][sel], check_box(box))


def _dedupe_tagged(blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Union of point blocks with a bit-mask tag per distinct point."""
    from scipy.spatial import cKDTree

    pts = np.concatenate(blocks, axis=0)
    owner = np.concatenate([np.full(len(b), c, dtype=np.int64) for c, b in enumerate(blocks)])
    scale = np.abs(pts).max() if len(pts) else 0.0  # relative: the same merge at every scale
    tree = cKDTree(pts)
    # the same point computed along two routes differs by round-off only (~1e-15 relative)
    pairs = tree.query_pairs(r=1e-12 * scale, output_type="ndarray") if scale > 0 else np.zeros((0, 2), int)
    if scale == 0.0 and len(pts) > 1:
        pairs = np.column_stack([np.zeros(len(pts) - 1, int), np.arange(1, len(pts))])  # all the same point
    # a point shared by a few zonotopes is one cluster of close pairs
    inv, uniq = close_pair_clusters(len(pts), pairs)
    tags = np.zeros(len(uniq), dtype=np.int64)
    np.bitwise_or.at(tags, inv, np.left_shift(1, owner))
    return pts[uniq], tags


def _keep_highest(pts3: np.ndarray, tags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tropical sum of monomials with the same exponent: keep the highest point above each exponent.

    A lower point with the same projection can never be an upper vertex, and leaving it in gives
    Qhull near-vertical facets (ill-conditioned for tiny biases). Points within round-off of the top
    height share its tag (both zonotopes attain R there: a tie).
    """
    from scipy.spatial import cKDTree

    if len(pts3) <= 1:
        return pts3, tags
    P = pts3[:, :2]
    scale = 1.0 + np.abs(P).max()
    pairs = cKDTree(P).query_pairs(r=1e-12 * scale, output_type="ndarray")
    if len(pairs) == 0:
        return pts3, tags
    h = pts3[:, 2]
    htol = 1e-12 * (1.0 + np.abs(h).max())
    keep = np.ones(len(pts3), dtype=bool)
    tags = tags.copy()
    for a, b in pairs:
        hi, lo = (a, b) if h[a] >= h[b] else (b, a)
        if h[hi] - h[lo] <= htol:
            tags[hi] |= tags[lo]
        keep[lo] = False
    return pts3[keep], tags[keep]


def subdivision_from_lifted(zonos: list[LiftedZonotope]) -> DualSubdivision:
    """Dual subdivision pi(upper faces of conv(union of the lifted zonotopes)), 2-D inputs.

    Scale-free: the lifted points are divided by their largest exponent before any tolerance is
    applied, and the answer is mapped back (so (A, c1, B, c2) -> (aA, a c1, aB, a^2 c2) leaves the
    subdivision's combinatorics and T(R) unchanged for any a > 0).

    Handles the degenerate cases without Qhull errors: all lifted points coplanar (the bias-free
    case: one cell, the whole Newton polygon), a Newton segment (all generators parallel), a
    single point (all generators zero), duplicates and zero generators.
    """
    if isinstance(zonos, LiftedZonotope) or not isinstance(zonos, (list, tuple)) or not zonos:
        raise ArgumentTypeError("subdivision_from_lifted needs a non-empty list of LiftedZonotope.")
    if not all(isinstance(z, LiftedZonotope) for z in zonos):
        raise ArgumentTypeError("subdivision_from_lifted needs a list of LiftedZonotope.")
    if len(zonos) > 62:
        raise ValueError(f"At most 62 lifted zonotopes (one tag bit each); got {len(zonos)}.")
    d1 = np.asarray(zonos[0].generators).shape[-1]
    if d1 != 3 or any(np.asarray(z.generators).ndim != 2 or np.asarray(z.generators).shape[1] != 3 for z in zonos):
        raise ValueError(f"The dual subdivision is drawn for 2-D inputs (d = 2); got d = {d1 - 1}.")
    blocks = [z.upper_vertices() for z in zonos]
    # Work in the configuration's own units: dividing every lifted point by one positive number maps
    # upper faces to upper faces, so scaling the weights (A, c1, B, c2) -> (aA, a c1, aB, a^2 c2), which
    # scales every lifted point by a^2, gives the same subdivision at any a (every tolerance below is
    # then relative to the data's scale).
    unit = float(max(np.abs(b[:, :2]).max(initial=0.0) for b in blocks))
    if not unit > 0:
        unit = float(max(np.abs(b).max(initial=0.0) for b in blocks)) or 1.0
    sub = _subdivision_core([b / unit for b in blocks], len(zonos))
    sub.points = sub.points * unit
    sub.heights = sub.heights * unit
    if sub.planes.size:
        sub.planes = sub.planes.copy()
        sub.planes[:, 2] *= unit  # h = <a, e> + b: a is scale-free, b scales with the points
    if sub._cell_centroids is not None:
        sub._cell_centroids = np.asarray(sub._cell_centroids) * unit
    return sub


def _subdivision_core(blocks: list, n_zonotopes: int) -> DualSubdivision:
    """The subdivision of the union of point blocks (v_c, 3), in units where the exponents are O(1)."""
    from scipy.spatial import ConvexHull

    pts3, tags = _dedupe_tagged(blocks)
    pts3, tags = _keep_highest(pts3, tags)
    P, h = pts3[:, :2], pts3[:, 2]
    sub = DualSubdivision(points=P, heights=h, tags=tags, n_zonotopes=n_zonotopes)
    scale = 1.0 + np.abs(P).max()
    # affine rank of the projected points decides the case
    Pc = P - P.mean(axis=0)
    sv = np.linalg.svd(Pc, compute_uv=False) if len(P) > 1 else np.zeros(2)
    rank2 = int(np.sum(sv > 1e-10 * scale))
    if rank2 == 0:
        sub.kind = "point"
        sub.upper = np.array([int(np.argmax(h))])
        return sub
    if rank2 == 1:
        u = np.linalg.svd(Pc)[2][0]
        u = u / np.linalg.norm(u)
        sub.kind, sub.direction = "segment", u
        t = P @ u
        uh = upper_hull_2d(np.column_stack([t, h]))
        sub.upper = np.sort(uh)
        sub.edges = np.sort(np.column_stack([uh[:-1], uh[1:]]), axis=1)
        sub.edge_cells = -np.ones_like(sub.edges)
        return sub
    # is everything coplanar in R^3? (fit h = <a, e> + b and check residuals)
    M = np.column_stack([P, np.ones(len(P))])
    coef, *_ = np.linalg.lstsq(M, h, rcond=None)
    hscale = 1.0 + np.abs(h).max()
    resid = h - M @ coef
    sigma = float(np.abs(resid).max())
    flat = sigma <= 1e-12 * (scale + hscale)
    hull = None
    if not flat:
        from scipy.spatial import QhullError

        # Qhull on the residual heights, rescaled to the exponents' range: h' = (h - <a0, e> - b0) / sigma
        # is an affine map that keeps "up" up, so the upper faces are the same, but the point set is
        # well conditioned even for tiny biases (heights ~1e-8 next to exponents ~1 give Qhull sliver
        # facets). The planes are then solved from the original heights.
        try:
            hull = ConvexHull(np.column_stack([P, resid * (scale / sigma)]))
        except QhullError:
            # thinner than Qhull's precision: the lifted points are coplanar up to round-off, and the
            # best-fit plane is the (numerically exact) answer
            flat = True
    if flat:
        poly = _convex_polygon_order(P)
        sub.kind = "flat"
        sub.cells = [poly]
        sub._cell_centroids = P[poly].mean(axis=0)[None]
        sub.planes = coef[None, :].copy()
        sub.upper = np.sort(poly)
        e = np.column_stack([poly, np.roll(poly, -1)])
        sub.edges = np.sort(e, axis=1)
        sub.edge_cells = np.column_stack([np.zeros(len(e), dtype=int), -np.ones(len(e), dtype=int)])
        return sub
    eq = hull.equations  # (nf, 4): outward unit normal and offset
    # upper facets (in the rescaled heights); a facet steeper than ~1e9 there is vertical up to round-off
    up = np.flatnonzero(eq[:, 2] > 1e-9)
    # height = <a, e> + b on the plane of each upper triangle, a = -n_xy / n_z
    key = np.column_stack([-eq[up, :2] / eq[up, 2:3], -eq[up, 3] / eq[up, 2]])
    # merge coplanar triangles: the same supporting plane <=> the same face of a convex polytope
    # (Qhull gives the triangles of one merged facet identical equations; the tolerance only
    # catches near-coplanar facets it left unmerged)
    order = np.lexsort(key.T[::-1])
    ko = key[order]
    # a new face starts where consecutive (sorted) planes differ beyond round-off, row-relative so that
    # a steep facet elsewhere (huge a) does not blur the comparison of the others
    step = (np.abs(np.diff(ko, axis=0)) > 1e-12 * (1.0 + np.abs(ko[:-1]))).any(axis=1) if len(order) > 1 else np.zeros(0, bool)
    gid = np.empty(len(up), dtype=np.int64)
    gid[order] = np.concatenate([[0], np.cumsum(step)])
    n_cells = int(gid.max()) + 1
    # each cell's plane h = <a, e> + b solved from its best-conditioned triangle's exact lifted
    # points, not from Qhull's unit normal: a = -n_xy / n_z loses all accuracy for steep facets
    # (n_z small), whose dual vertices x_F = -a lie far away but whose pieces can cross the view
    tri0 = hull.simplices[up]
    Mt = np.concatenate([P[tri0], np.ones((len(up), 3, 1))], axis=2)  # (T, 3, 3)
    det = np.abs(np.linalg.det(Mt))
    best = np.full(n_cells, -1)
    o2 = np.lexsort((-det, gid))
    firsts = np.flatnonzero(np.r_[True, gid[o2][1:] != gid[o2][:-1]])
    best[gid[o2][firsts]] = o2[firsts]
    # back from the rescaled heights: h = h' sigma / scale + <a0, e> + b0
    planes = key[best] * (sigma / scale) + coef[None, :]
    ok = det[best] > 1e-14 * (1.0 + np.abs(P).max()) ** 2
    if ok.any():
        planes[ok] = np.linalg.solve(Mt[best[ok]], h[tri0[best[ok]]][..., None])[..., 0]
    # vertices of each cell, counter-clockwise by angle about the cell's centroid
    tri = hull.simplices[up]
    pairkey = np.unique(np.repeat(gid, 3) * len(P) + tri.reshape(-1))
    cg, cv = pairkey // len(P), pairkey % len(P)
    cnt = np.bincount(cg, minlength=n_cells)
    cen = np.column_stack([np.bincount(cg, P[cv, 0], n_cells), np.bincount(cg, P[cv, 1], n_cells)]) / cnt[:, None]
    ang = np.arctan2(P[cv, 1] - cen[cg, 1], P[cv, 0] - cen[cg, 0])
    o = np.lexsort((ang, cg))
    cg, cv = cg[o], cv[o]
    bounds = np.cumsum(cnt)[:-1]
    sub.cells = np.split(cv, bounds)
    sub._cell_centroids = cen
    sub.planes = planes
    sub.upper = np.unique(cv)
    # edges (consecutive vertices of each cell) and the cells on each side
    starts = np.concatenate([[0], bounds])
    nxt = np.arange(len(cv)) + 1
    nxt[starts + cnt - 1] = starts
    ea, eb = cv, cv[nxt]
    lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
    ekey = lo * len(P) + hi
    uk, inv, ecount = np.unique(ekey, return_inverse=True, return_counts=True)
    oi = np.argsort(inv, kind="stable")
    firsts = np.concatenate([[0], np.cumsum(ecount)[:-1]])
    c1 = cg[oi[firsts]]
    c2 = np.where(ecount >= 2, cg[oi[np.minimum(firsts + 1, len(oi) - 1)]], -1)
    sub.edges = np.column_stack([uk // len(P), uk % len(P)])
    sub.edge_cells = np.column_stack([c1, c2])
    return sub


def dual_subdivision(net: Any, i: int = 0, j: int = 1, mode: str = "pair") -> DualSubdivision:
    """delta(R) for a 2-D-input net: class pair (i, j) (mode "pair") or all k classes ("common").

    See the module docstring for the duality with T(R) and the linear regions of R. Limited to
    p <= 300 hidden units (the lifted zonotopes' face enumeration is O(p^3)).
    """
    from ._checks import check_net

    check_net(net, "dual_subdivision")
    if not isinstance(mode, str) or mode not in ("pair", "common"):
        raise ValueError(f"mode must be 'pair' or 'common'; got {_short(mode)}.")
    if mode == "pair":
        net._check_pair(i, j)
    if net.d != 2:
        raise ValueError(f"The dual subdivision view needs a 2-D input (d = 2); this net has d = {net.d}.")
    return subdivision_from_lifted(lifted_zonotopes(net, i, j, mode=mode))
