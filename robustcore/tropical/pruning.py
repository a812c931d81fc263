"""Tropical pruning (Alfarra et al., arXiv:2002.08838, reference §2(b)) against magnitude pruning.

The tropical objective over (A~, B~), summed over the ordered class pairs (i, j), i != j:

    F(A~, B~) = sum_(i,j) 1/2 ||G~_ij - G_ij||_F^2 + lam_ij ||G~_ij||_{2,1},
    G_ij = Diag[ReLU(B_i) + ReLU(-B_j)] A,

which for k = 2 is the reference's 1/2||G~1 - G1||^2 + 1/2||G~2 - G2||^2 + lam1||G~1||_{2,1} +
lam2||G~2||_{2,1} (the ordered pairs (0, 1) and (1, 0) give G1 and G2). ||X||_{2,1} sums the row
norms, so the penalty zeroes whole generators, i.e. whole hidden units.

The paper's solver is recalled only as "alternating / proximal gradient" ([R] in the reference).
Our sound reading is block-coordinate descent that provably never increases F:

* A~-step (B~ fixed): F separates over rows r into the convex problem
  1/2 S_r ||a||^2 - <T_r, a> + u_r ||a|| (S_r = sum w~^2, T_r = sum w~ G_r, u_r = sum lam w~),
  solved exactly by group soft-thresholding a = max(0, 1 - u_r / ||T_r||) T_r / S_r.
* B~-step (A~ fixed): B~ keeps the sign pattern of B (each unit stays a generator of the same
  zonotopes; entries may shrink to 0). In that orthant w~ is linear in B~ and F is a convex
  quadratic, so projected gradient steps of length 1/L (L = ||a||^2 * 2(k - 1) bounds the
  curvature) decrease F monotonically.

Every target row G_ij,r is a multiple of A_r, so A~_r stays a non-negative multiple alpha_r A_r.
Two read-outs of the solution (``refit``):

* ``refit=True`` (default): the group lasso *selects* the units; the survivors are then refit by
  the objective's own fit term without the penalty, whose minimiser on a fixed support is G~ = G,
  i.e. the survivors keep their original weights (the usual debiased group lasso). This removes
  the lasso's shrinkage, which otherwise moves the boundary because c2 is not shrunk with B.
* ``refit=False``: the shrunk solution itself. c1_r is rescaled by the same alpha_r, which keeps
  each surviving unit's hinge line A_r x + c1_r = 0 in place (c1 is not in the paper's
  objective, so this is our choice); c2 is kept.

Magnitude pruning (class-blind, See et al. 2016): zero the given fraction of the smallest |weights|
pooled over A and B (biases kept). The pruning ratio of both methods is the fraction of the
block's weights (entries of A and B) set to zero; removing one of p units zeroes d + k weights,
so tropical pruning at ratio rho removes round(rho * p) units.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._checks import short as _short

from ._apps_geometry import (
    decision_polygon,
    hausdorff_polygons,
    pca_plane,
    polygon_area,
)
from ._checks import MAX_ITERS, as_array, as_float, as_int, check_data, check_net
from .net import ShallowReluNet

#: Pruning works on the k (k - 1) ordered class pairs: k <= 100 classes and p * k^2 <= 20,000,000.
MAX_PAIR_WORK = 20_000_000

__all__ = [
    "PruneResult",
    "class_pairs",
    "tropical_objective",
    "tropical_prune_lambda",
    "tropical_prune",
    "magnitude_prune",
    "pruning_metrics",
    "pruning_curves",
    "refit_output_bias",
    "PRUNING_METHODS",
    "METHOD_REMOVES",
]

#: What each method of :func:`pruning_curves` removes (shown on the page beside the curves).
METHOD_REMOVES = {
    "tropical": "whole hidden units (rows of A, columns of B, their c1), chosen by the group lasso on the "
                "zonotope generators; survivors keep their weights",
    "tropical-shrunk": "whole hidden units as 'tropical', survivors keep the group lasso's shrunk weights",
    "magnitude-neuron": "whole hidden units with the smallest |A_r| |B_:r| (the same number of units as tropical)",
    "magnitude": "single weights: the smallest |entries| of A and B pooled (class-blind); biases kept",
    "magnitude-uniform": "single weights: the same fraction of the smallest |entries| in A and in B; biases kept",
}
PRUNING_METHODS = tuple(METHOD_REMOVES)

ProgressFn = Callable[[float, str], None]


def class_pairs(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Ordered class pairs (i, j), i != j, as two index arrays of length k (k - 1)."""
    I, J = np.nonzero(~np.eye(k, dtype=bool))
    return I, J


def _pair_weights(B: np.ndarray, I: np.ndarray, J: np.ndarray) -> np.ndarray:
    """w_(i,j),r = ReLU(B_ir) + ReLU(-B_jr) for every ordered pair: (P, p)."""
    return np.maximum(B[I], 0.0) + np.maximum(-B[J], 0.0)


def _lam_per_pair(lam: float, lam2: float | None, k: int, I: np.ndarray) -> np.ndarray:
    lam = as_float("lam", lam, 0.0)
    lams = np.full(len(I), float(lam))
    if lam2 is not None:
        lam2 = as_float("lam2", lam2, 0.0)
        if k != 2:
            raise ValueError("lam2 (a separate weight for ||G~2||_{2,1}) only applies to k = 2 classes.")
        lams[I == 1] = float(lam2)  # ordered pair (1, 0) is G2
    return lams


def tropical_objective(
    net: ShallowReluNet, A_t: np.ndarray, B_t: np.ndarray, lam: float, lam2: float | None = None
) -> float:
    """F(A~, B~) of the module docstring (sum over ordered class pairs).

    Parameters
    ----------
    net : the original net (gives the targets G_ij = Diag[ReLU(B_i) + ReLU(-B_j)] A).
    A_t : (p, d), B_t : (k, p) the candidate weights.
    lam, lam2 : group-lasso weights (lam2 for G2 when k = 2; default lam2 = lam).
    """
    _check_net(net)
    A_t = as_array("A_t", A_t, 2)
    B_t = as_array("B_t", B_t, 2)
    if A_t.shape != net.A.shape or B_t.shape != net.B.shape:
        raise ValueError(f"A_t and B_t must have the net's shapes {net.A.shape} and {net.B.shape}.")
    I, J = class_pairs(net.k)
    lams = _lam_per_pair(lam, lam2, net.k, I)
    W0 = _pair_weights(net.B, I, J)
    Wt = _pair_weights(B_t, I, J)
    G0 = W0[:, :, None] * net.A[None]
    Gt = Wt[:, :, None] * A_t[None]
    fit = 0.5 * ((Gt - G0) ** 2).sum()
    pen = (lams[:, None] * np.linalg.norm(Gt, axis=2)).sum()
    return float(fit + pen)


@dataclass
class PruneResult:
    """Outcome of one pruning run.

    net : the pruned ShallowReluNet; kept : (p,) bool, units with a nonzero generator;
    ratio : fraction of A and B entries that are zero; lam : the group-lasso weight used
    (nan for magnitude pruning); history : tropical objective after each half-step
    (non-increasing); forced : units zeroed by the exact-ratio rule rather than by the solver.
    """

    net: ShallowReluNet
    kept: np.ndarray
    ratio: float
    lam: float = float("nan")
    history: list[float] = field(default_factory=list)
    forced: int = 0
    method: str = "tropical"
    solution: tuple[np.ndarray, np.ndarray] | None = None


def _solve(
    net: ShallowReluNet,
    lam: float,
    lam2: float | None,
    iters: int,
    inner: int,
    A_t: np.ndarray | None = None,
    B_t: np.ndarray | None = None,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Block-coordinate descent on F; returns (A~, B~, objective history)."""
    k = net.k
    A, B = net.A, net.B
    I, J = class_pairs(k)
    lams = _lam_per_pair(lam, lam2, k, I)
    W0 = _pair_weights(B, I, J)  # (P, p)
    A_t = A.copy() if A_t is None else A_t.copy()
    B_t = B.copy() if B_t is None else B_t.copy()
    sign = np.sign(B)
    pos, neg = sign > 0, sign < 0
    nA2 = (A * A).sum(axis=1)  # ||A_r||^2
    # one-hot scatter matrices: pair P touches B~[I_P] through ReLU(B_i) and B~[J_P] through ReLU(-B_j)
    EI = (np.arange(k)[:, None] == I[None, :]).astype(np.float64)  # (k, P)
    EJ = (np.arange(k)[:, None] == J[None, :]).astype(np.float64)

    def objective(At: np.ndarray, Bt: np.ndarray) -> float:
        Wt = _pair_weights(Bt, I, J)
        a2 = (At * At).sum(axis=1)
        ga = (At * A).sum(axis=1)
        na = np.sqrt(a2)
        fit = 0.5 * (Wt**2 * a2 - 2 * Wt * W0 * ga + W0**2 * nA2).sum()
        return float(fit + (lams[:, None] * Wt * na).sum())

    hist = [objective(A_t, B_t)]
    for _ in range(iters):
        # --- A~-step: exact group soft-thresholding per row (G_ij,r = w0 A_r, so T_r = (sum w~ w0) A_r)
        Wt = _pair_weights(B_t, I, J)
        S = (Wt**2).sum(axis=0)
        coef = (Wt * W0).sum(axis=0)
        u = (lams[:, None] * Wt).sum(axis=0)
        Tn = coef * np.sqrt(nA2)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where((S > 0) & (Tn > 0), np.maximum(0.0, 1.0 - u / Tn) * coef / S, 0.0)
        A_t = scale[:, None] * A
        hist.append(objective(A_t, B_t))
        # --- B~-step: projected gradient in the sign orthant of B, step 1/L
        a2 = (A_t * A_t).sum(axis=1)
        ga = (A_t * A).sum(axis=1)
        na = np.sqrt(a2)
        C = W0 * ga[None, :] - lams[:, None] * na[None, :]  # (P, p)
        L = np.maximum(a2 * 2.0 * max(k - 1, 1), 1e-300)
        for _ in range(inner):
            Wt = _pair_weights(B_t, I, J)
            Gw = a2[None, :] * Wt - C  # dF/dw
            grad = (EI @ Gw) * pos - (EJ @ Gw) * neg
            B_new = B_t - grad / L[None, :]
            B_t = np.where(pos, np.maximum(B_new, 0.0), np.where(neg, np.minimum(B_new, 0.0), 0.0))
            B_t = np.where(a2[None, :] > 0, B_t, 0.0)  # a unit with A~_r = 0 is gone: drop its B column
        hist.append(objective(A_t, B_t))
        if hist[-3] - hist[-1] <= tol * max(1.0, abs(hist[-1])):
            break
    return A_t, B_t, hist


def _assemble(
    net: ShallowReluNet, A_t: np.ndarray, B_t: np.ndarray, zero: np.ndarray, refit: bool = True
) -> ShallowReluNet:
    """Pruned net: units in ``zero`` removed entirely; survivors refit (original weights) or shrunk.

    Shrunk survivors get c1_r rescaled by alpha_r = <A~_r, A_r>/|A_r|^2 (hinge line kept).
    """
    if refit:
        A_t, B_t = net.A, net.B
    nA2 = (net.A * net.A).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(nA2 > 0, (A_t * net.A).sum(axis=1) / nA2, 0.0)
    A_new = np.where(zero[:, None], 0.0, A_t)
    B_new = np.where(zero[None, :], 0.0, B_t)
    c1_new = np.where(zero, 0.0, alpha * net.c1)
    return ShallowReluNet(A_new, c1_new, B_new, net.c2.copy())


def _weight_ratio(net: ShallowReluNet) -> float:
    total = net.A.size + net.B.size
    return float(((net.A == 0).sum() + (net.B == 0).sum()) / total)


def _check_net(net: object) -> None:
    check_net(net, "Pruning")
    if net.k > 100 or net.p * net.k * net.k > MAX_PAIR_WORK:  # type: ignore[attr-defined]
        raise ValueError(f"Pruning is limited to k <= 100 classes and p k^2 <= {MAX_PAIR_WORK:,}; "
                         f"got p = {net.p}, k = {net.k}.")  # type: ignore[attr-defined]


def _check_data(net: ShallowReluNet, X: np.ndarray | None, y: np.ndarray | None) -> None:
    check_data(net, X, y)


def _check_ratio(ratio: float) -> float:
    ratio = as_float("ratio", ratio)
    if not (0.0 <= ratio < 1.0):
        raise ValueError(f"The pruning ratio must lie in [0, 1); got {ratio}.")
    return ratio


def tropical_prune_lambda(
    net: ShallowReluNet,
    lam: float,
    lam2: float | None = None,
    iters: int = 200,
    inner: int = 5,
    refit: bool = True,
) -> PruneResult:
    """Minimise the tropical objective for a fixed lam by block-coordinate descent.

    Parameters
    ----------
    net : the (Affine, ReLU, Affine) net, k >= 2 classes.
    lam, lam2 : group-lasso weights (lam2 for ||G~2||_{2,1} when k = 2; default lam).
    iters : outer iterations (each an exact A~-step and ``inner`` projected B~-steps).
    refit : keep the survivors' original weights (True) or the shrunk solution (False).

    Returns
    -------
    PruneResult whose ``history`` is the objective after every half-step: non-increasing.
    """
    _check_net(net)
    iters, inner = as_int("iters", iters, 0, MAX_ITERS), as_int("inner", inner, 0, 1000)
    A_t, B_t, hist = _solve(net, lam, lam2, iters, inner)
    gen_norm = np.linalg.norm(A_t, axis=1) * np.abs(B_t).sum(axis=0)
    zero = gen_norm == 0
    pruned = _assemble(net, A_t, B_t, zero, refit)
    res = PruneResult(pruned, ~zero, _weight_ratio(pruned), float(lam), hist, 0, "tropical")
    res.solution = (A_t, B_t)  # the solver's (A~, B~), for the exact-ratio rule
    return res


def tropical_prune(
    net: ShallowReluNet,
    ratio: float,
    iters: int = 150,
    inner: int = 5,
    bisect_steps: int = 18,
    refit: bool = True,
) -> PruneResult:
    """Tropical pruning to an exact ratio: remove round(ratio * p) whole units.

    lam is found by bisection (on log lam) so that the solver itself zeroes the target number of
    units. When the count jumps past the target (several units die at the same lam), the solution
    at the largest lam that stays below the target is taken and its remaining smallest generators
    (by their ||.||_{2,1} contribution sum_ij w~_ij,r ||A~_r||) are zeroed; ``forced`` counts them.
    ``refit`` as in :func:`tropical_prune_lambda`.
    """
    _check_net(net)
    ratio = _check_ratio(ratio)
    iters, inner = as_int("iters", iters, 0, MAX_ITERS), as_int("inner", inner, 0, 1000)
    bisect_steps = as_int("bisect_steps", bisect_steps, 0, 200)
    p = net.p
    target = int(round(ratio * p))
    if target == 0:
        res = tropical_prune_lambda(net, 0.0, iters=1, inner=1)
        return PruneResult(net, np.ones(p, bool), _weight_ratio(net), 0.0, res.history, 0, "tropical")
    # lam at which every unit is zeroed in the first A~-step: u_r / |T_r| >= 1 for all r
    I, J = class_pairs(net.k)
    W0 = _pair_weights(net.B, I, J)
    nA = np.linalg.norm(net.A, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        thr = np.where(W0.sum(0) > 0, (W0**2).sum(0) * nA / W0.sum(0), 0.0)
    hi = float(max(thr.max(), 1e-12)) * 1.01
    lo = hi * 1e-6
    best_below: PruneResult | None = None
    best_above: PruneResult | None = None

    def zeros(r: PruneResult) -> int:
        return int((~r.kept).sum())

    for _ in range(bisect_steps):
        mid = float(np.sqrt(lo * hi))
        r = tropical_prune_lambda(net, mid, iters=iters, inner=inner, refit=refit)
        z = zeros(r)
        if z == target:
            return r
        if z < target:
            lo, best_below = mid, r
        else:
            hi, best_above = mid, r
    base = best_below
    if base is None:  # even the smallest lam zeroed too many: start from the unpenalised fit (lam = 0)
        base = tropical_prune_lambda(net, 0.0, iters=1, inner=1, refit=refit)
    # zero the smallest surviving generators of the best solution below the target
    A_t, B_t = base.solution
    W = _pair_weights(B_t, I, J)
    contrib = W.sum(0) * np.linalg.norm(A_t, axis=1)
    zero = ~base.kept.copy()
    need = max(target - int(zero.sum()), 0)  # < 0 only if the net has more dead units than the target
    order = [r for r in np.argsort(contrib, kind="stable") if not zero[r]]
    for r in order[:need]:
        zero[r] = True
    pruned = _assemble(net, A_t, B_t, zero, refit)
    return PruneResult(pruned, ~zero, _weight_ratio(pruned), base.lam, base.history, max(need, 0), "tropical")


def magnitude_prune(net: ShallowReluNet, ratio: float, scope: str = "blind") -> PruneResult:
    """Magnitude pruning of the block's weights (See et al. 2016).

    Parameters
    ----------
    net : the net; ratio : fraction of the entries of A and B to zero (biases are kept).
    scope : "blind" (class-blind: one threshold over A and B pooled), "uniform" (the same
        fraction in A and in B separately) or "neuron" (structured: remove the round(ratio * p)
        units with the smallest ||A_r||_2 ||B_:r||_2, the same unit count as tropical pruning).

    Returns
    -------
    PruneResult; ``kept`` marks units with a nonzero generator (A_r != 0 and B_:r != 0).
    """
    _check_net(net)
    ratio = _check_ratio(ratio)
    if not isinstance(scope, str) or scope not in ("blind", "uniform", "neuron"):
        raise ValueError(f"scope must be 'blind', 'uniform' or 'neuron'; got {_short(scope)}.")

    def mask_smallest(vals: np.ndarray, n_zero: int) -> np.ndarray:
        keep = np.ones(vals.size, dtype=bool)
        if n_zero > 0:
            keep[np.argsort(np.abs(vals).ravel(), kind="stable")[:n_zero]] = False
        return keep

    A, B = net.A, net.B
    if scope == "neuron":
        score = np.linalg.norm(A, axis=1) * np.linalg.norm(B, axis=0)
        unit = mask_smallest(score, int(round(ratio * net.p)))
        pruned = ShallowReluNet(A * unit[:, None], net.c1 * unit, B * unit[None, :], net.c2.copy())
        return PruneResult(pruned, unit, _weight_ratio(pruned), method="magnitude-neuron")
    if scope == "blind":
        flat = np.concatenate([A.ravel(), B.ravel()])
        keep = mask_smallest(flat, int(round(ratio * flat.size)))
        mA, mB = keep[: A.size].reshape(A.shape), keep[A.size :].reshape(B.shape)
    else:
        mA = mask_smallest(A, int(round(ratio * A.size))).reshape(A.shape)
        mB = mask_smallest(B, int(round(ratio * B.size))).reshape(B.shape)
    pruned = ShallowReluNet(A * mA, net.c1.copy(), B * mB, net.c2.copy())
    kept = (np.abs(pruned.A).sum(1) > 0) & (np.abs(pruned.B).sum(0) > 0)
    return PruneResult(pruned, kept, _weight_ratio(pruned), method=f"magnitude-{scope}")


def refit_output_bias(net: ShallowReluNet, pruned: ShallowReluNet, X: np.ndarray) -> ShallowReluNet:
    """Correct the output bias of a pruned net for what it removed, on average over data X.

    c2' = c2~ + mean_x [B h(x)] - mean_x [B~ h~(x)], with h, h~ the hidden activations of the
    original and the pruned net. When whole units are removed and the survivors are unchanged this
    is exactly "each removed unit's mean activation times its B column, added to c2" (See et al.'s
    bias correction); for per-weight pruning it is the same first-order correction of the logits'
    mean. Use the training inputs for X (not the test set).

    Parameters
    ----------
    net, pruned : the original and the pruned net (same shapes).
    X : (n, d) inputs, n >= 1.

    Returns
    -------
    The pruned net with the corrected c2.
    """
    _check_net(net)
    _check_net(pruned)
    if pruned.A.shape != net.A.shape or pruned.B.shape != net.B.shape:
        raise ValueError(f"The pruned net must have the original's shapes {net.A.shape}, {net.B.shape}.")
    X = as_array("X", X, 2)
    if X.shape[0] == 0 or X.shape[1] != net.d:
        raise ValueError(f"X must be a non-empty (n, {net.d}) array; got shape {X.shape}.")
    shift = net.hidden(X).mean(axis=0) @ net.B.T - pruned.hidden(X).mean(axis=0) @ pruned.B.T
    return ShallowReluNet(pruned.A, pruned.c1, pruned.B, pruned.c2 + shift)


def _reference(net: ShallowReluNet, X: np.ndarray | None, plane: np.ndarray | None, n_dirs: int) -> dict:
    """Quantities of the unpruned net that every comparison reuses (polygon, support values, diameter)."""
    from ._apps_geometry import support_decision

    ref: dict = {}
    if net.d == 2:
        V0 = decision_polygon(net)
        ref["diam"] = float(np.max(np.linalg.norm(V0[:, None] - V0[None], axis=-1))) if len(V0) > 1 else 0.0
    else:
        plane = pca_plane(X, net.d) if plane is None else plane
        V0 = decision_polygon(net, plane)
        rng = np.random.default_rng(0)
        U = rng.standard_normal((n_dirs, net.d))
        U = np.vstack([U / np.linalg.norm(U, axis=1, keepdims=True), np.eye(net.d), -np.eye(net.d)])
        h = support_decision(net, U)
        ref["U"], ref["h0"] = U, h
        # width in direction u is h(u) + h(-u); the random set is not symmetric, so evaluate -U too
        ref["diam"] = float((h + support_decision(net, -U)).max())
    ref["V0"], ref["plane"], ref["a0"] = V0, plane, polygon_area(V0)
    return ref


def pruning_metrics(
    net: ShallowReluNet,
    pruned: ShallowReluNet,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    plane: np.ndarray | None = None,
    n_dirs: int = 4096,
    ref: dict | None = None,
) -> dict[str, float]:
    """Accuracy, Hausdorff distance and area ratio of a pruned net against the original.

    The polytope is the shift-free decision polytope conv(Z_1 u ... u Z_k) (conv(Z_G1, Z_G2) for
    k = 2). For d = 2 the Hausdorff distance and the area are exact. For d > 2 the Hausdorff
    distance is estimated in full dimension from support functions, d_H = sup_u |h_K(u) - h_L(u)|,
    over ``n_dirs`` seeded unit directions plus the +-axes (a lower bound), and the area ratio is
    that of the exact 2-D projections on ``plane`` (default: PCA plane of X).
    ``ref`` (from a previous call's reference computation) skips recomputing the original's side.

    Returns
    -------
    dict with accuracy (nan without data), hausdorff, hausdorff_rel (divided by the original
    polytope's diameter, measured the same way), area_ratio, hausdorff_exact (1.0 or 0.0).
    """
    from ._apps_geometry import support_decision

    _check_net(net)
    _check_net(pruned)
    _check_data(net, X, y)
    n_dirs = as_int("n_dirs", n_dirs, 1, 100_000)
    if plane is not None:
        plane = as_array("plane", plane, 2)
        if plane.shape != (2, net.d):
            raise ValueError(f"plane must have shape (2, {net.d}); got {plane.shape}.")
    if pruned.A.shape != net.A.shape or pruned.B.shape != net.B.shape:
        raise ValueError(f"The pruned net must have the original's shapes {net.A.shape}, {net.B.shape}.")
    ref = _reference(net, X, plane, n_dirs) if ref is None else ref
    out: dict[str, float] = {}
    if X is not None and y is not None:
        out["accuracy"] = float((pruned.predict(X) == np.asarray(y)).mean())
    else:
        out["accuracy"] = float("nan")
    V1 = decision_polygon(pruned, ref["plane"])
    if net.d == 2:
        hd = hausdorff_polygons(ref["V0"], V1)
        out["hausdorff_exact"] = 1.0
    else:
        hd = float(np.abs(support_decision(pruned, ref["U"]) - ref["h0"]).max())
        out["hausdorff_exact"] = 0.0
    diam, a0 = ref["diam"], ref["a0"]
    out["hausdorff"] = hd
    out["hausdorff_rel"] = hd / diam if diam > 0 else float("nan")
    out["area_ratio"] = polygon_area(V1) / a0 if a0 > 0 else float("nan")
    return out


def pruning_curves(
    net: ShallowReluNet,
    X: np.ndarray | None,
    y: np.ndarray | None,
    ratios: np.ndarray | list[float] = (0.0, 0.25, 0.5, 0.75, 0.9),
    methods: tuple[str, ...] = ("tropical", "magnitude"),
    iters: int = 150,
    refit: bool = True,
    progress: ProgressFn | None = None,
    bias_refit: bool = False,
    X_refit: np.ndarray | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Accuracy, Hausdorff distance and area ratio against the pruning ratio for several methods.

    Parameters
    ----------
    net, X, y : the net and the data its accuracy is measured on (X (n, d), y (n,); may be None).
    ratios : target pruning ratios in [0, 1) (fraction of the entries of A and B set to zero).
    methods : any of "tropical", "tropical-shrunk" (refit=False), "magnitude" (class-blind),
        "magnitude-uniform", "magnitude-neuron".
    iters, refit : solver settings of "tropical".
    bias_refit : apply :func:`refit_output_bias` to every method's pruned net (the same correction for all),
        averaging over ``X_refit`` (default: X; pass the training inputs when X is a test set).

    Returns
    -------
    {method: {...}}; each holds arrays over ``ratios``: target, ratio (the realised weight
    ratio), accuracy, hausdorff, hausdorff_rel, area_ratio, units_kept, and "seconds" (total
    time of that method's pruning, metrics excluded).
    """
    _check_net(net)
    _check_data(net, X, y)
    if isinstance(ratios, (str, bytes)) or not hasattr(ratios, "__iter__"):
        raise ValueError("ratios must be a list of pruning ratios in [0, 1).")
    ratios = [_check_ratio(r) for r in ratios]
    if not 1 <= len(ratios) <= 50:
        raise ValueError(f"ratios must hold 1 to 50 pruning ratios; got {len(ratios)}.")
    if isinstance(methods, str) or not hasattr(methods, "__iter__"):
        raise ValueError("methods must be a list of method names.")
    methods = tuple(methods)
    iters = as_int("iters", iters, 0, MAX_ITERS)
    known = ("tropical", "tropical-shrunk", "magnitude", "magnitude-uniform", "magnitude-neuron")
    for m in methods:
        if not isinstance(m, str) or m not in known:
            raise ValueError(f"Unknown pruning method {_short(m)}; choose from {', '.join(known)}.")
    if bias_refit:
        X_refit = X if X_refit is None else as_array("X_refit", X_refit, 2)
        if X_refit is None or X_refit.shape[1] != net.d or len(X_refit) == 0:
            raise ValueError(f"bias_refit needs inputs X_refit (n, {net.d}) to average the removed activations over.")
    plane = None if net.d == 2 else pca_plane(X, net.d)
    ref = _reference(net, X, plane, 4096)
    out: dict[str, dict[str, list]] = {m: {} for m in methods}
    times = {m: 0.0 for m in methods}
    n = len(ratios)

    def run(method: str, r: float) -> PruneResult:
        if method == "tropical":
            return tropical_prune(net, r, iters=iters, refit=refit)
        if method == "tropical-shrunk":
            return tropical_prune(net, r, iters=iters, refit=False)
        scope = {"magnitude": "blind", "magnitude-uniform": "uniform", "magnitude-neuron": "neuron"}[method]
        return magnitude_prune(net, r, scope)

    for idx, r in enumerate(ratios):
        for method in methods:
            t0 = time.perf_counter()
            res = run(method, r)
            pruned_net = refit_output_bias(net, res.net, X_refit) if bias_refit else res.net
            times[method] += time.perf_counter() - t0
            met = pruning_metrics(net, pruned_net, X, y, ref=ref)
            row = out[method]
            row.setdefault("target", []).append(r)
            row.setdefault("ratio", []).append(res.ratio)
            row.setdefault("units_kept", []).append(int(res.kept.sum()))
            for key in ("accuracy", "hausdorff", "hausdorff_rel", "area_ratio"):
                row.setdefault(key, []).append(met[key])
        if progress is not None:
            progress((idx + 1) / n, f"pruning ratio {r:.2f} done")
    res_out: dict[str, dict[str, np.ndarray]] = {}
    for method, row in out.items():
        res_out[method] = {key: np.asarray(v) for key, v in row.items()}
        res_out[method]["seconds"] = np.asarray(times[method])
    return res_out
