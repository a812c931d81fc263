"""Certified radii of nearest-centre classifiers (ClusTR, Alfarra et al., BMVC 2021).

A nearest-centre classifier assigns a feature vector r (D,) the class of its nearest centre
among mu_1..mu_M (M, D) with labels (M,). Two radii are computed here, both in feature space
and in the Euclidean (l2) norm:

* `nearest_center_radius` - the paper's closed form: with mu_i the nearest centre (class c),

      R_f(r) = min_{j : class(j) != c} (||r - mu_j||^2 - ||r - mu_i||^2) / (2 ||mu_j - mu_i||),

  the distance from r to the nearest bisecting hyperplane between mu_i and a centre of another
  class. It is EXACT (tight) when every class has one centre: the class region is then the
  Voronoi cell of mu_i, a convex polyhedron bounded by those bisectors. With several centres per
  class it is a sound LOWER bound of the exact radius (to flip, r must at least cross the
  bisector between mu_i and the winning centre), possibly loose.

* `exact_center_radius` - the exact radius for any number of centres per class:
  min_j dist(r, P_j) with P_j = {y : ||y - mu_j|| <= ||y - mu_o|| for every own-class centre o},
  the set where the other-class centre mu_j beats all centres of class c. Each P_j is a
  polyhedron {y : A y <= b}; the distance is a small quadratic programme solved exactly here by
  enumerating active sets (K own-class constraints -> 2^K - 1 equality-constrained projections),
  vectorised over images and rival centres.

Both radii are strict guarantees: every feature perturbation with ||Delta|| < R leaves the
decision unchanged (at ||Delta|| = R a tie is possible).

The input-space certificate divides R_f by an upper bound of the embedding's l2 Lipschitz
constant (`robustcore.clustr.lipschitz`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from ._checks import MAX_CENTER_PAIRS, MAX_CENTERS, MAX_DIM, MAX_ROWS

__all__ = [
    "CenterCertificate",
    "nearest_center_certificate",
    "nearest_center_radius",
    "exact_center_radius",
    "nearest_center_predict",
]

# Largest number of own-class centres the exact active-set QP enumerates (2^K - 1 subsets).
_MAX_EXACT_K = 10


def _to_numpy(name: str, value: Any, ndim: int) -> np.ndarray:
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array; got {type(value).__name__}.")
    raw = np.asarray(value)
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {raw.dtype}.")
    arr = raw.astype(np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {arr.shape}.")
    return arr


def _validate(z: Any, centers: Any, center_labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check types, shapes, finiteness and size caps; returns float64 z (n, D), centers (M, D), labels (M,)."""
    if hasattr(z, "detach"):
        z = z.detach().cpu().numpy()
    z_arr = _to_numpy("z", z, 1)[None, :] if np.ndim(z) == 1 else _to_numpy("z", z, 2)
    c_arr = _to_numpy("centers", centers, 2)
    if hasattr(center_labels, "detach"):
        center_labels = center_labels.detach().cpu().numpy()
    if isinstance(center_labels, (str, bytes)) or center_labels is None:
        raise TypeError(f"center_labels must be an array of integer classes; got {type(center_labels).__name__}.")
    lab = np.asarray(center_labels)
    if lab.dtype.kind not in "iuf" or lab.dtype == bool:
        raise TypeError(f"center_labels must hold integer classes; got dtype {lab.dtype}.")
    if lab.ndim != 1 or lab.shape[0] != c_arr.shape[0]:
        raise ValueError(
            f"center_labels must have shape ({c_arr.shape[0]},) to match centers; got {lab.shape}."
        )
    if not np.issubdtype(lab.dtype, np.integer):
        if not np.all(np.isfinite(lab.astype(np.float64))) or np.any(lab != np.round(lab)):
            raise ValueError("center_labels must be integer class labels.")
        if np.any(np.abs(lab) > 2**53):
            raise ValueError("center_labels are too large to be class labels.")
        lab = lab.astype(np.int64)
    n, M, D = z_arr.shape[0], c_arr.shape[0], c_arr.shape[1]
    if n == 0:
        raise ValueError("z must hold at least one feature vector.")
    if D == 0:
        raise ValueError("centers must have at least one feature dimension.")
    if z_arr.shape[1] != D:
        raise ValueError(f"z has feature dimension {z_arr.shape[1]} but centers have {D}.")
    if n > MAX_ROWS:
        raise ValueError(f"z has {n} rows, above the cap of {MAX_ROWS}; certify in chunks.")
    if M > MAX_CENTERS or D > MAX_DIM or M * M * D > MAX_CENTER_PAIRS:
        raise ValueError(f"{M} centres of dimension {D} exceed the caps (M <= {MAX_CENTERS}, D <= {MAX_DIM}, "
                         f"M*M*D <= {MAX_CENTER_PAIRS}).")
    if not np.all(np.isfinite(z_arr)):
        raise ValueError("z contains NaN or infinite values.")
    if not np.all(np.isfinite(c_arr)):
        raise ValueError("centers contain NaN or infinite values.")
    if np.unique(lab).size < 2:
        raise ValueError("centers must cover at least two classes for a decision boundary to exist.")
    # squared distances must stay finite in float64
    scale = max(float(np.abs(z_arr).max()), float(np.abs(c_arr).max()))
    if scale > 1e150:
        raise ValueError("z and centers must have magnitudes below 1e150 (squared distances overflow).")
    return z_arr, c_arr, lab.astype(np.int64)


def _sq_dists(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distances (n, M), by explicit differences (no cancellation for nearby points)."""
    out = np.empty((z.shape[0], centers.shape[0]))
    # chunk rows so the (rows, M, D) difference tensor stays small
    step = max(1, int(4_000_000 // max(1, centers.size)))
    for s in range(0, z.shape[0], step):
        diff = z[s : s + step, None, :] - centers[None, :, :]
        out[s : s + step] = np.einsum("nmd,nmd->nm", diff, diff)
    return out


@dataclass
class CenterCertificate:
    """Closed-form certificate of a nearest-centre decision, batched over n feature vectors.

    Attributes
    ----------
    label : (n,) int, predicted class (class of the nearest centre).
    radius : (n,) float, the closed-form feature radius R_f (exact with one centre per class,
        a lower bound of `exact_center_radius` otherwise).
    nearest : (n,) int, index of the nearest centre mu_i.
    rival : (n,) int, index j of the other-class centre attaining the minimum.
    direction : (n, D) float, unit vector (mu_j - mu_i) / ||mu_j - mu_i||: moving r by `radius`
        along it lands on the bisector of mu_i and mu_j.
    """

    label: np.ndarray
    radius: np.ndarray
    nearest: np.ndarray
    rival: np.ndarray
    direction: np.ndarray


def nearest_center_predict(z: Any, centers: Any, center_labels: Any) -> np.ndarray:
    """Nearest-centre decision class(argmin_m ||z - mu_m||) for each row of z (n, D) -> (n,) int."""
    z_arr, c_arr, lab = _validate(z, centers, center_labels)
    return lab[np.argmin(_sq_dists(z_arr, c_arr), axis=1)]


def nearest_center_certificate(z: Any, centers: Any, center_labels: Any) -> CenterCertificate:
    """Closed-form ClusTR certificate with its minimising rival and direction.

    Parameters
    ----------
    z : (n, D) features r = phi(x) (a single (D,) vector is accepted as n = 1).
    centers : (M, D) cluster centres mu_m.
    center_labels : (M,) integer class of each centre.

    Returns
    -------
    CenterCertificate with radius
    R_f(r) = min_{j: class(j) != c} (||r - mu_j||^2 - ||r - mu_i||^2) / (2 ||mu_j - mu_i||).
    Coincident centres of different classes give radius 0 (the decision is a tie everywhere).
    """
    z_arr, c_arr, lab = _validate(z, centers, center_labels)
    d2 = _sq_dists(z_arr, c_arr)  # (n, M)
    n = z_arr.shape[0]
    rows = np.arange(n)
    i = np.argmin(d2, axis=1)
    c = lab[i]
    diff_c = c_arr[:, None, :] - c_arr[None, :, :]  # (M, M, D) mu_a - mu_b
    cdist = np.sqrt(np.einsum("abd,abd->ab", diff_c, diff_c))  # (M, M)
    num = d2 - d2[rows, i][:, None]  # (n, M) >= 0
    den = 2.0 * cdist[i]  # (n, M)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    ratio = np.where(lab[None, :] != c[:, None], ratio, np.inf)
    j = np.argmin(ratio, axis=1)
    radius = np.maximum(ratio[rows, j], 0.0)
    u = c_arr[j] - c_arr[i]
    norm = np.linalg.norm(u, axis=1, keepdims=True)
    u = np.where(norm > 0, u / np.where(norm > 0, norm, 1.0), 0.0)
    return CenterCertificate(label=c, radius=radius, nearest=i, rival=j, direction=u)


def nearest_center_radius(z: Any, centers: Any, center_labels: Any) -> np.ndarray:
    """Closed-form feature-space certified radius of the nearest-centre decision, batched.

    Parameters
    ----------
    z : (n, D) array or tensor of features r = phi(x).
    centers : (M, D) cluster centres.
    center_labels : (M,) integer class of each centre.

    Returns
    -------
    (n,) float64 radii R_f (feature units, l2):
    R_f(r) = min_{j: class(j) != c} (||r - mu_j||^2 - ||r - mu_i||^2) / (2 ||mu_j - mu_i||)
    with mu_i the nearest centre and c its class (the paper's certificate). It is the distance
    to the nearest bisecting hyperplane; TIGHT (equal to the exact radius) when each class has
    one centre, a sound lower bound of `exact_center_radius` with several centres per class.
    """
    return nearest_center_certificate(z, centers, center_labels).radius


def exact_center_radius(
    z: Any, centers: Any, center_labels: Any, return_points: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Exact feature-space radius of the nearest-centre decision (any number of centres/class).

    R(r) = min_{j: class(j) != c} dist(r, P_j),
    P_j = {y : ||y - mu_j||^2 <= ||y - mu_o||^2 for all o with class(o) = c}
        = {y : 2 (mu_o - mu_j) . y <= ||mu_o||^2 - ||mu_j||^2}.

    The union of the P_j is exactly the set where the decision is no longer c, so R is the
    smallest feature perturbation that flips (or ties) the decision: it is tight, and >= the
    closed form `nearest_center_radius` (equal with one centre per class). Each distance is the
    QP min ||y - r||^2 s.t. A y <= b, solved exactly by enumerating the active sets S of the
    K own-class constraints: the projection onto {A_S y = b_S} (pseudo-inverse, so rank
    deficient sets are handled) is a candidate when it satisfies all constraints; the true
    projection is one of the candidates, and every candidate is feasible, so the smallest
    candidate distance is the QP optimum.

    Parameters
    ----------
    z : (n, D) features; centers : (M, D); center_labels : (M,) int.
    return_points : also return the nearest flipping point y* (n, D) (on the decision boundary).

    Returns
    -------
    (n,) float64 exact radii, and optionally (n, D) boundary points attaining them.
    """
    z_arr, c_arr, lab = _validate(z, centers, center_labels)
    if not isinstance(return_points, (bool, np.bool_)):
        raise TypeError(f"return_points must be a bool; got {type(return_points).__name__}.")
    n, D = z_arr.shape
    _, counts = np.unique(lab, return_counts=True)
    if counts.max() > _MAX_EXACT_K:
        raise ValueError(
            f"exact_center_radius enumerates 2^K active sets; a class has K = {counts.max()} > "
            f"{_MAX_EXACT_K} centres (use nearest_center_radius, a sound lower bound)."
        )
    # rows in chunks so the (rows, rivals, D) work arrays stay below ~4e6 elements
    chunk = max(1, 4_000_000 // (c_arr.shape[0] * (D + counts.max())))
    if n > chunk:
        parts = [exact_center_radius(z_arr[s : s + chunk], c_arr, lab, return_points=True)
                 for s in range(0, n, chunk)]
        radius = np.concatenate([p[0] for p in parts])
        points = np.concatenate([p[1] for p in parts])
        return (radius, points) if return_points else radius
    d2 = _sq_dists(z_arr, c_arr)
    pred = lab[np.argmin(d2, axis=1)]
    sqn = np.einsum("md,md->m", c_arr, c_arr)
    radius = np.full(n, np.inf)
    points = np.zeros((n, D))
    for cls in np.unique(pred):
        rows = np.nonzero(pred == cls)[0]
        own = np.nonzero(lab == cls)[0]
        others = np.nonzero(lab != cls)[0]
        K = own.size
        if K > _MAX_EXACT_K:
            raise ValueError(
                f"exact_center_radius enumerates 2^K active sets; class {cls} has K = {K} > "
                f"{_MAX_EXACT_K} centres (use nearest_center_radius, a sound lower bound)."
            )
        r = z_arr[rows]  # (q, D)
        # constraints for each rival j: A[j] (K, D), b[j] (K,)
        A = 2.0 * (c_arr[own][None, :, :] - c_arr[others][:, None, :])  # (J, K, D)
        b = sqn[own][None, :] - sqn[others][:, None]  # (J, K)
        scale = np.maximum(np.linalg.norm(A, axis=2), 1e-300)  # row norms for a relative tol
        best = np.full((rows.size,), np.inf)
        best_pt = np.zeros((rows.size, D))
        viol_r = np.einsum("jkd,qd->qjk", A, r) - b[None]  # (q, J, K)
        # r itself inside some P_j (tie): radius 0
        inside = np.all(viol_r <= 1e-12 * scale[None] * (1 + np.abs(r).max()), axis=2)  # (q, J)
        for size in range(1, K + 1):
            for S in combinations(range(K), size):
                S = list(S)
                AS = A[:, S, :]  # (J, s, D)
                G = np.einsum("jsd,jtd->jst", AS, AS)  # (J, s, s)
                Gp = np.linalg.pinv(G, hermitian=True)  # (J, s, s)
                res = viol_r[:, :, S]  # (q, J, s) = A_S r - b_S
                lam = np.einsum("jst,qjt->qjs", Gp, res)  # (q, J, s)
                y = r[:, None, :] - np.einsum("jsd,qjs->qjd", AS, lam)  # (q, J, D)
                # consistency: A_S y = b_S must actually hold (pinv of an inconsistent system)
                eq = np.einsum("jsd,qjd->qjs", AS, y) - b[None][:, :, S]
                tol = 1e-9 * scale[None][:, :, S] * (1.0 + np.abs(y).max(axis=2, keepdims=True))
                ok = np.all(np.abs(eq) <= tol, axis=2)
                cons = np.einsum("jkd,qjd->qjk", A, y) - b[None]
                tolk = 1e-9 * scale[None] * (1.0 + np.abs(y).max(axis=2, keepdims=True))
                ok &= np.all(cons <= tolk, axis=2)
                dist = np.linalg.norm(y - r[:, None, :], axis=2)  # (q, J)
                dist = np.where(ok, dist, np.inf)
                jbest = np.argmin(dist, axis=1)
                dbest = dist[np.arange(rows.size), jbest]
                better = dbest < best
                best = np.where(better, dbest, best)
                best_pt[better] = y[np.arange(rows.size), jbest][better]
        zero = inside.any(axis=1)
        best[zero] = 0.0
        best_pt[zero] = r[zero]
        radius[rows] = best
        points[rows] = best_pt
    if return_points:
        return radius, points
    return radius
