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

Construction: for a class pair whose neuron lines are in general position (the usual trained or random net)
both the points and the upper faces are read off the neuron-line arrangement in one walk along the lines
(``_arrangement_walk``: parallelograms at arrangement vertices, trapezoids where f1 - f2 changes sign along a
line), O(p^2 log p) with no convex hull; anything degenerate (concurrent or coincident lines, ties, flat or
lower-dimensional cases, k > 2 zonotopes) goes through Qhull over the upper vertices. The tests compare the
two against Qhull over every vertex of the lifted zonotopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import short as _short

from ._checks import ArgumentTypeError

from .arrangement import line_crossings
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
    XY = line_crossings(n, b, I, J, det)
    val = XY @ n.T + b  # signed distances of every line from every vertex (P, m)
    scale = 1.0 + np.abs(XY).max(axis=1, keepdims=True)
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


def _dedupe_tagged(blocks: list[np.ndarray], return_map: bool = False) -> tuple:
    """Union of point blocks with a bit-mask tag per distinct point (and, with ``return_map``, the
    index of each input row's point)."""
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
    if return_map:
        return pts[uniq], tags, inv
    return pts[uniq], tags


def _keep_highest(pts3: np.ndarray, tags: np.ndarray, return_map: bool = False) -> tuple:
    """Tropical sum of monomials with the same exponent: keep the highest point above each exponent.

    A lower point with the same projection can never be an upper vertex, and leaving it in gives
    Qhull near-vertical facets (ill-conditioned for tiny biases). Points within round-off of the top
    height share its tag (both zonotopes attain R there: a tie). With ``return_map``, also the index of
    each input point's kept point.
    """
    from scipy.spatial import cKDTree

    ident = np.arange(len(pts3))
    if len(pts3) <= 1:
        return (pts3, tags, ident) if return_map else (pts3, tags)
    P = pts3[:, :2]
    scale = 1.0 + np.abs(P).max()
    pairs = cKDTree(P).query_pairs(r=1e-12 * scale, output_type="ndarray")
    if len(pairs) == 0:
        return (pts3, tags, ident) if return_map else (pts3, tags)
    h = pts3[:, 2]
    htol = 1e-12 * (1.0 + np.abs(h).max())
    keep = np.ones(len(pts3), dtype=bool)
    tags = tags.copy()
    to = ident.copy()
    for a, b in pairs:
        hi, lo = (a, b) if h[a] >= h[b] else (b, a)
        if h[hi] - h[lo] <= htol:
            tags[hi] |= tags[lo]
        keep[lo] = False
        to[lo] = hi
    if not return_map:
        return pts3[keep], tags[keep]
    for _ in range(len(pairs)):  # follow chains of dropped points up to the kept one
        nxt = to[to]
        if np.array_equal(nxt, to):
            break
        to = nxt
    return pts3[keep], tags[keep], (np.cumsum(keep) - 1)[to]


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
    # two zonotopes on one line arrangement in general position (the class-pair case): the points and the
    # faces come from one walk along the lines, with no Qhull; anything else takes the general route
    lines = _shared_lines(zonos)
    walk = _arrangement_walk(*lines) if lines is not None else None
    blocks = walk["blocks"] if walk is not None else [z.upper_vertices() for z in zonos]
    # Work in the configuration's own units: dividing every lifted point by one positive number maps
    # upper faces to upper faces, so scaling the weights (A, c1, B, c2) -> (aA, a c1, aB, a^2 c2), which
    # scales every lifted point by a^2, gives the same subdivision at any a (every tolerance below is
    # then relative to the data's scale).
    unit = float(max(np.abs(b[:, :2]).max(initial=0.0) for b in blocks))
    if not unit > 0:
        unit = float(max(np.abs(b).max(initial=0.0) for b in blocks)) or 1.0
    sub = _subdivision_core([b / unit for b in blocks], len(zonos), walk, unit)
    sub.points = sub.points * unit
    sub.heights = sub.heights * unit
    if sub.planes.size:
        sub.planes = sub.planes.copy()
        sub.planes[:, 2] *= unit  # h = <a, e> + b: a is scale-free, b scales with the points
    if sub._cell_centroids is not None:
        sub._cell_centroids = np.asarray(sub._cell_centroids) * unit
    return sub



def _shared_lines(zonos: list) -> Any:
    """(rows (p, 3), W (K, p) >= 0, shifts (K, 3)) when lifted zonotope k is shift_k + sum_l [0, 1] W_kl rows_l.

    That is the pair / common construction (every zonotope is built on the same neuron rows (A_l, c1_l)); the
    arrangement path below needs it. None for anything else (the caller then uses Qhull).
    """
    G = [np.asarray(z.generators, dtype=np.float64) for z in zonos]
    if any(g.shape != G[0].shape for g in G):
        return None
    rows = np.sum(G, axis=0)
    nn = np.einsum("ij,ij->i", rows, rows)
    ok = nn > 0
    W = np.zeros((len(G), len(rows)))
    for k, g in enumerate(G):
        W[k, ok] = np.einsum("ij,ij->i", g[ok], rows[ok]) / nn[ok]
    gmax = max(float(np.abs(g).max(initial=0.0)) for g in G)
    resid = max(float(np.abs(g - W[k][:, None] * rows).max(initial=0.0)) for k, g in enumerate(G))
    if resid > 1e-12 * gmax or (W < 0).any():
        return None
    return rows, W, np.array([np.asarray(z.shift, dtype=np.float64) for z in zonos])


def _arrangement_walk(rows: np.ndarray, W: np.ndarray, shifts: np.ndarray) -> Any:
    """Upper vertices of P1, P2 and the upper faces of conv(P1 u P2), read off one line arrangement.

    P_k = shift_k + sum_l [0, 1] W_kl rows_l (two lifted zonotopes on the same neuron rows), f_k its support
    function in direction (x, 1) and R = max(f1, f2). With the lines {rows_l . (x, 1) = 0} in general position
    (no three through a point, no coincident or nearly parallel lines) and no tie f1 = f2 at a vertex of the
    arrangement:

    * the upper vertices of P_k are P_k's maximisers on the cells of its own lines' arrangement, four around
      each of its vertices (what ``_upper_vertices_by_arrangement`` enumerates);
    * an upper face of conv(P1 u P2) is dual to a vertex x_F of T(R), and those are exactly
      (a) the arrangement vertices x = l_I n l_J where the winning f_k bends along both lines (W_kI, W_kJ > 0):
          the face is the parallelogram of P_k's four maximisers around x;
      (b) the points of a line l where f1 - f2 (affine on each edge of the arrangement and on the two end
          rays) changes sign: the face is conv(P1's and P2's maximisers there), a trapezoid or a triangle.
      Its plane is h = <-x_F, e> + R(x_F).

    The maximisers are found by walking along each line (crossing a vertex flips one other line's sign), so
    the cost is O(p^2 log p) with no (vertices x lines) table. Each cell of P_k's arrangement is named by an
    exact 64-bit key, the XOR of random per-line keys over its positive lines, so a face's corners are found
    among the points without any geometric search. Returns None when the configuration is degenerate or
    outside this construction (the caller then uses the general Qhull path); else a dict with ``blocks``
    (list of (n_k, 3) upper vertices), ``keys`` (list of their sorted keys), and the faces: ``corner_k``,
    ``corner_key``, ``corner_pts`` ((F, 4) each; a triangle repeats one corner), ``x`` (F, 2), ``b`` (F,)
    and ``tri`` (F,) bool.
    """
    K, p = W.shape
    if K != 2:
        return None
    live = np.linalg.norm(rows[:, :2], axis=1) > 0
    vert = ~live & (rows[:, 2] != 0)
    # vertical generators (A_l = 0): a constant max(0, w c_l) on every point's height
    base = shifts + (W[:, vert] * (rows[vert, 2] > 0)) @ rows[vert]
    keep = live & (W.sum(axis=0) > 0)
    L = rows[keep]
    w = W[:, keep]
    m = len(L)
    on = w > 0  # (2, m): the lines each zonotope bends along
    if m > 400 or (on.sum(axis=1) < 3).any():
        return None
    lam = np.linalg.norm(L[:, :2], axis=1)
    n = L[:, :2] / lam[:, None]
    b = L[:, 2] / lam
    G = w[:, :, None] * L[None]  # (2, m, 3) generators of P1, P2
    U = np.column_stack([-n[:, 1], n[:, 0]])  # direction of each line
    Nu = n @ U.T  # Nu[l', l] = n_l' . u_l = det(n_l, n_l')
    I, J = np.triu_indices(m, 1)
    det = Nu[J, I]
    par = np.abs(det) <= 1e-9
    if (par & (np.abs(det) > 1e-14)).any():
        return None  # nearly parallel: a vertex so far away that the point enumeration treats it as absent
    if par.any():
        s = np.sign(np.einsum("ij,ij->i", n[I[par]], n[J[par]]))
        if (np.abs(b[I[par]] - s * b[J[par]]) <= 1e-9 * (1.0 + np.abs(b[I[par]]))).any():
            return None  # coincident lines
    I, J, det = I[~par], J[~par], det[~par]
    for k in range(2):
        if not (on[k, I] & on[k, J]).any():
            return None  # all of one zonotope's lines parallel
    P = len(I)
    X = line_crossings(n, b, I, J, det)
    # ---- the vertices along each line, in order
    inc_line = np.concatenate([I, J])
    inc_o = np.concatenate([J, I])  # the other line through the vertex
    inc_v = np.concatenate([np.arange(P), np.arange(P)])
    inc_t = np.einsum("ij,ij->i", X[inc_v], U[inc_line])
    o = np.lexsort((inc_t, inc_line))
    ln, oo, vv, tt = inc_line[o], inc_o[o], inc_v[o], inc_t[o]
    cnt = np.bincount(ln, minlength=m)
    if (cnt == 0).any():
        return None
    first = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    col = np.arange(len(ln)) - first[ln]
    same = ln[1:] == ln[:-1]
    vscale = 1.0 + np.abs(X).max(axis=1)[vv]  # relative to the vertices' own size, as in the point enumeration
    if (np.abs(np.diff(tt)) <= 1e-9 * np.maximum(vscale[1:], vscale[:-1]))[same].any():
        return None  # three or more lines through one point
    # ---- P_k's maximiser along each line: at t = -inf every other line l' is positive iff it decreases along
    # u_l (or, parallel, iff it is positive on l); passing a vertex flips the other line
    x0 = -b[:, None] * n
    par_m = np.abs(Nu) <= 1e-9
    S0 = np.where(par_m.T, (x0 @ n.T + b) > 0, Nu.T < 0)  # S0[l, l'] = sign of l' at t = -inf on l
    np.fill_diagonal(S0, False)
    zkey = np.random.default_rng(20240607).integers(1, 2**63, size=m, dtype=np.int64).view(np.uint64)
    zk = np.where(on, zkey[None], np.uint64(0))  # (2, m)
    GG = np.concatenate([G[0], G[1]], axis=1)  # (m, 6)
    Q0 = S0.astype(np.float64) @ GG + np.concatenate([base[0], base[1]])  # (m, 6) at t = -inf on each line
    H0 = [np.bitwise_xor.reduce(np.where(S0, zk[k][None], np.uint64(0)), axis=1) for k in range(2)]
    up = Nu[oo, ln] > 0  # the other line becomes positive as t grows
    step = np.where(up[:, None], GG[oo], -GG[oo])
    # prefix sums along each line in a padded (m, max count) table: no round-off carried between lines
    width = int(cnt.max())
    tab = np.zeros((m, width, 6))
    tab[ln, col] = step
    incl = np.cumsum(tab, axis=1)[ln, col] + Q0[ln]  # after passing the vertex
    at = incl - step - np.where(up, 0.0, 1.0)[:, None] * GG[oo]  # at the vertex, negative side of both lines
    Hincl, Hat = [], []
    for k in range(2):
        ht = np.zeros((m, width), dtype=np.uint64)
        ht[ln, col] = zk[k][oo]
        hi = np.bitwise_xor.accumulate(ht, axis=1)[ln, col] ^ H0[k][ln]
        Hincl.append(hi)
        Hat.append(hi ^ np.where(up, zk[k][oo], np.uint64(0)))
    # per vertex (read on its line I)
    fromI = o < P
    Qv = np.empty((P, 6))
    Qv[vv[fromI]] = at[fromI]
    Hv = [np.empty(P, dtype=np.uint64) for _ in range(2)]
    for k in range(2):
        Hv[k][vv[fromI]] = Hat[k][fromI]
    Qv = Qv.reshape(P, 2, 3)
    X1 = np.column_stack([X, np.ones(P)])
    f = np.einsum("pkc,pc->pk", Qv, X1)
    # round-off scale of f1 - f2: every term of both sums at full size
    gabs = np.abs(GG).sum(axis=0).reshape(2, 3).sum(axis=0) + np.abs(base).sum(axis=0)
    mag = np.abs(X1) @ gabs
    D = f[:, 0] - f[:, 1]
    if (np.abs(D) <= 1e-9 * mag).any():
        return None  # f1 = f2 at a vertex of the arrangement: a tie region or a degenerate face
    # ---- upper vertices of each P_k: its four maximisers around each of its own vertices, one per cell
    blocks, keys = [], []
    for k in range(2):
        vk = np.flatnonzero(on[k, I] & on[k, J])
        q, h0 = Qv[vk, k], Hv[k][vk]
        gI, gJ = G[k, I[vk]], G[k, J[vk]]
        zI, zJ = zk[k][I[vk]], zk[k][J[vk]]
        pts = np.concatenate([q, q + gI, q + gJ, q + gI + gJ])
        kk = np.concatenate([h0, h0 ^ zI, h0 ^ zJ, h0 ^ zI ^ zJ])
        uk, first_idx, inv = np.unique(kk, return_index=True, return_inverse=True)
        # one key, one cell: the same point from every vertex of the cell (a key collision, ~2^-63 per
        # pair, would show here)
        if np.abs(pts - pts[first_idx][inv]).max() > 1e-9 * (1.0 + np.abs(pts).max()):
            return None
        blocks.append(pts[first_idx])
        keys.append(uk)
    # ---- faces (a): arrangement vertices where the winner bends along both lines
    k = np.where(D > 0, 0, 1)
    va = np.flatnonzero(on[k, I] & on[k, J])
    ka = k[va]
    q0 = Qv[va, ka]
    h0 = np.where(ka == 0, Hv[0][va], Hv[1][va])
    gI, gJ = G[ka, I[va]], G[ka, J[va]]
    zI, zJ = zk[ka, I[va]], zk[ka, J[va]]
    ccw = (gI[:, 0] * gJ[:, 1] - gI[:, 1] * gJ[:, 0]) > 0
    g1, g2 = np.where(ccw[:, None], gI, gJ), np.where(ccw[:, None], gJ, gI)
    z1, z2 = np.where(ccw, zI, zJ), np.where(ccw, zJ, zI)
    a_pts = np.stack([q0, q0 + g1, q0 + g1 + g2, q0 + g2], axis=1)
    a_key = np.stack([h0, h0 ^ z1, h0 ^ z1 ^ z2, h0 ^ z2], axis=1)
    a_k = np.repeat(ka[:, None], 4, axis=1)
    a_b = f[va, ka]
    # ---- faces (b): sign changes of f1 - f2 along each line, between consecutive vertices and on the end
    # rays, where f1 - f2 = D(end vertex) + t * slope, slope = (base1 - base2) . u + sum of the lines that
    # increase along the ray
    dwl = lam * (w[0] - w[1])
    dbase = base[0, :2] - base[1, :2]
    smag = (np.abs(Nu) * (lam * (w[0] + w[1]))[:, None]).sum(axis=0) + np.abs(U) @ np.abs(dbase)
    slope_p = np.where(Nu > 0, Nu, 0.0).T @ dwl + U @ dbase
    slope_m = np.where(Nu < 0, -Nu, 0.0).T @ dwl - U @ dbase
    if (np.abs(slope_p) <= 1e-9 * smag).any() or (np.abs(slope_m) <= 1e-9 * smag).any():
        return None  # f1 - f2 (nearly) constant along a ray: a crossing at infinity
    last = first + cnt - 1
    Dv = D[vv]
    inner = np.flatnonzero(same & (Dv[:-1] * Dv[1:] < 0))  # edge from incidence r to r + 1
    rp = last[Dv[last] * slope_p < 0]
    rm = first[Dv[first] * slope_m < 0]
    # the maximisers on the negative side of l: after passing incidence r (edges, + ray), or at t = -inf
    e_line = np.concatenate([ln[inner], ln[rp], ln[rm]])
    Qe = np.concatenate([incl[inner], incl[rp], Q0[ln[rm]]]).reshape(-1, 2, 3)
    He = [np.concatenate([Hincl[k][inner], Hincl[k][rp], H0[k][ln[rm]]]) for k in range(2)]
    Q1, Q2 = Qe[:, 0], Qe[:, 1]
    dQ = Q1 - Q2
    # the crossing: n_l . x = -b_l and dQ . (x, 1) = 0
    a11, a12, a21, a22 = n[e_line, 0], n[e_line, 1], dQ[:, 0], dQ[:, 1]
    dd = a11 * a22 - a12 * a21
    if (np.abs(dd) <= 1e-12 * (np.abs(a21) + np.abs(a22))).any():
        return None
    r1, r2 = -b[e_line], -dQ[:, 2]
    xs = np.column_stack([(r1 * a22 - a12 * r2) / dd, (a11 * r2 - a21 * r1) / dd])
    xb = 0.5 * (((Q1[:, :2] + Q2[:, :2]) * xs).sum(axis=1) + Q1[:, 2] + Q2[:, 2])
    g1l, g2l = G[0, e_line], G[1, e_line]
    # Q1, Q1 + g1, Q2 + g2, Q2 (g1, g2 both along the line's row): counter-clockwise when Q2 lies to the left
    cr = -L[e_line, 0] * dQ[:, 1] + L[e_line, 1] * dQ[:, 0]
    if (np.abs(cr) <= 1e-12 * lam[e_line] * np.abs(dQ[:, :2]).sum(axis=1)).any():
        return None
    b_pts = np.stack([Q1, Q1 + g1l, Q2 + g2l, Q2], axis=1)
    b_key = np.stack([He[0], He[0] ^ zk[0, e_line], He[1] ^ zk[1, e_line], He[1]], axis=1)
    b_k = np.tile(np.array([0, 0, 1, 1]), (len(e_line), 1))
    rev = cr <= 0
    b_pts[rev], b_key[rev], b_k[rev] = b_pts[rev, ::-1], b_key[rev, ::-1], b_k[rev, ::-1]
    return dict(blocks=blocks, keys=keys,
                corner_k=np.concatenate([a_k, b_k]), corner_key=np.concatenate([a_key, b_key]),
                corner_pts=np.concatenate([a_pts, b_pts]), x=np.concatenate([X[va], xs]),
                b=np.concatenate([a_b, xb]), tri=np.concatenate([np.zeros(len(va), bool), ~(on[0, e_line] & on[1, e_line])]))


def _faces_to_subdivision(sub: "DualSubdivision", walk: dict, rowmap: np.ndarray, unit: float) -> bool:
    """Fill ``sub`` (points, heights, tags already set, in units) with ``_arrangement_walk``'s faces.

    ``rowmap`` maps each row of the concatenated blocks to its point. False when the faces do not check out
    (a corner that is not one of the points, a repeated corner, an edge in three faces, an Euler
    characteristic other than a disc's or a total area other than the Newton polygon's): the caller then
    uses Qhull.
    """
    from scipy.spatial import ConvexHull

    P, h = sub.points, sub.heights
    keys = walk["keys"]
    offsets = np.cumsum([0] + [len(kk) for kk in keys[:-1]])
    ck, ckey = walk["corner_k"].reshape(-1), walk["corner_key"].reshape(-1)
    row = np.empty(len(ck), dtype=np.int64)
    for k, kk in enumerate(keys):
        sel = ck == k
        pos = np.minimum(np.searchsorted(kk, ckey[sel]), len(kk) - 1)
        if (kk[pos] != ckey[sel]).any():
            return False
        row[sel] = offsets[k] + pos
    idx = rowmap[row]
    # the corners are the points themselves (same cells, another summation order): equal up to round-off
    C = walk["corner_pts"].reshape(-1, 3) / unit
    if len(C) == 0 or np.abs(P[idx] - C[:, :2]).max() > 1e-9 * (1.0 + np.abs(P).max()) \
            or np.abs(h[idx] - C[:, 2]).max() > 1e-9 * (1.0 + np.abs(h).max()):
        return False
    idx = idx.reshape(-1, 4)
    tri = walk["tri"]
    # a face where one zonotope is flat along the line is a triangle: its two equal corners are adjacent
    tr = idx[tri]
    dup = tr == np.roll(tr, -1, axis=1)
    if (dup.sum(axis=1) != 1).any():
        return False
    tris = tr[~np.roll(dup, 1, axis=1)].reshape(-1, 3)
    q4 = idx[~tri]
    s4 = np.sort(q4, axis=1)
    if (s4[:, 1:] == s4[:, :-1]).any():
        return False
    x, bb = walk["x"], walk["b"] / unit
    planes = np.concatenate([np.column_stack([-x[~tri], bb[~tri]]), np.column_stack([-x[tri], bb[tri]])])
    n_cells = len(q4) + len(tris)
    # edges (consecutive corners) and the faces on each side
    ea = np.concatenate([q4.reshape(-1), tris.reshape(-1)])
    eb = np.concatenate([np.roll(q4, -1, axis=1).reshape(-1), np.roll(tris, -1, axis=1).reshape(-1)])
    cg = np.concatenate([np.repeat(np.arange(len(q4)), 4), np.repeat(len(q4) + np.arange(len(tris)), 3)])
    nP = np.int64(len(P))
    ekey = np.minimum(ea, eb).astype(np.int64) * nP + np.maximum(ea, eb)
    uk, inv, ecount = np.unique(ekey, return_inverse=True, return_counts=True)
    if ecount.max() > 2:
        return False
    upper = np.unique(ea)
    if len(upper) - len(uk) + n_cells != 1:
        return False  # the faces do not tile a disc
    # the faces' areas add up to the Newton polygon's (nothing missing at its boundary)
    ref = P[ea[np.r_[0, np.cumsum(np.bincount(cg))[:-1]]]][cg]  # each face's first corner: no cancellation
    xa, ya = (P[ea] - ref).T
    xb, yb = (P[eb] - ref).T
    area = 0.5 * np.bincount(cg, xa * yb - xb * ya, minlength=n_cells)
    if (area <= 0).any() or abs(area.sum() - ConvexHull(P).volume) > 1e-8 * area.sum():
        return False
    oi = np.argsort(inv, kind="stable")
    firsts = np.concatenate([[0], np.cumsum(ecount)[:-1]])
    c1 = cg[oi[firsts]]
    c2 = np.where(ecount >= 2, cg[oi[np.minimum(firsts + 1, len(oi) - 1)]], -1)
    sub.cells = list(q4) + list(tris)
    sub._cell_centroids = np.concatenate([P[q4].mean(axis=1), P[tris].mean(axis=1)])
    sub.planes = planes
    sub.upper = upper
    sub.edges = np.column_stack([uk // nP, uk % nP])
    sub.edge_cells = np.column_stack([c1, c2])
    return True


def _subdivision_core(blocks: list, n_zonotopes: int, walk: Any = None, unit: float = 1.0) -> DualSubdivision:
    """The subdivision of the union of point blocks (v_c, 3), in units where the exponents are O(1).

    ``walk`` (``_arrangement_walk``'s answer, whose blocks divided by ``unit`` are ``blocks``) supplies the
    upper faces directly; without it, or when its faces do not check out, Qhull over all the points.
    """
    from scipy.spatial import ConvexHull

    pts3, tags, map1 = _dedupe_tagged(blocks, return_map=True)
    pts3, tags, map2 = _keep_highest(pts3, tags, return_map=True)
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
    if not flat and walk is not None and _faces_to_subdivision(sub, walk, map2[map1], unit):
        return sub
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

    See the module docstring for the duality with T(R) and the linear regions of R, and for the two
    constructions (line-arrangement walk, Qhull). Meant for p <= 300 hidden units (the Qhull route's face
    enumeration of degenerate nets is O(p^3)).
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
