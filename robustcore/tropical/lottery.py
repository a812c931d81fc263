"""The lottery ticket hypothesis seen through the decision polytope (reference §2(a)).

Procedure (Frankle & Carbin's one-shot version, as the paper's experiment is recalled [R]):

1. initialise an (Affine, ReLU, Affine) net with weights theta_0 and train it: the dense net;
2. prune by magnitude: in each weight matrix (A and B separately, biases kept) zero the fraction
   ``ratio`` of entries with the smallest |trained weight|, giving a mask m;
3. re-initialise the survivors in two ways: the *ticket* m * theta_0 (the original
   initialisation, biases too) and the *random re-init* m * theta_0' with a fresh draw theta_0'
   from the same initialiser (PyTorch's default Linear init);
4. retrain both with the mask held fixed (masked gradients, weights re-masked after each step);
5. compare each net's decision polytope conv(Z_1 u ... u Z_k) (conv(Z_G1, Z_G2) for k = 2) and
   decision boundary with the dense net's.

The comparison is a number as well as a picture: the Hausdorff distance between the polytopes
after normalisation (translated to the vertex centroid, scaled to unit circumradius). Translation
and positive scaling of the whole polytope leave the decision boundary unchanged (reference I4,
I12), so the normalised distance measures shape and orientation only; it lies in [0, 2].
The paper's finding is qualitative (figures, no numbers [R]); we report what we measure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._apps_geometry import decision_polygon, hausdorff_polygons, normalise_polygon
from .net import ShallowReluNet

__all__ = ["LotteryRun", "LotteryExperiment", "train_masked", "magnitude_masks", "lottery_experiment",
           "normalised_hausdorff", "init_params", "polytope_collapsed"]


def polytope_collapsed(net: ShallowReluNet, rel: float = 1e-6) -> bool:
    """True when the 2-D decision polytope has collapsed to a point or a segment (area <= rel x diameter^2).

    Then its normalised shape is a segment for every orientation-preserving change of the weights, and the
    normalised Hausdorff distance to it measures only the segment's direction: not informative.
    """
    from ._apps_geometry import polygon_area
    from ._checks import check_net

    check_net(net, "polytope_collapsed")
    if net.d != 2:
        raise ValueError("polytope_collapsed looks at 2-D-input nets (d = 2).")
    V = decision_polygon(net)
    if len(V) < 3:
        return True
    diam = float(np.max(np.linalg.norm(V[:, None] - V[None], axis=-1)))
    return diam == 0.0 or polygon_area(V) <= rel * diam * diam

ProgressFn = Callable[[float, str], None]


Params = dict[str, np.ndarray]


def init_params(d: int, hidden: int, k: int, seed: int) -> Params:
    """PyTorch's default nn.Linear initialisation, drawn from a seeded numpy generator.

    nn.Linear uses kaiming_uniform(a = sqrt(5)) on W and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on b,
    which are both uniform with bound 1/sqrt(fan_in).
    """
    rng = np.random.default_rng(int(seed))
    b1, b2 = 1.0 / np.sqrt(d), 1.0 / np.sqrt(hidden)
    return {
        "A": rng.uniform(-b1, b1, (hidden, d)),
        "c1": rng.uniform(-b1, b1, hidden),
        "B": rng.uniform(-b2, b2, (k, hidden)),
        "c2": rng.uniform(-b2, b2, k),
    }


def _loss_and_grads(P: Params, X: np.ndarray, Y1: np.ndarray) -> tuple[float, Params]:
    """Mean cross-entropy of f(x) = B relu(Ax + c1) + c2 and its exact gradients (backprop by hand)."""
    Z = X @ P["A"].T + P["c1"]
    H = np.maximum(Z, 0.0)
    L = H @ P["B"].T + P["c2"]
    L = L - L.max(axis=1, keepdims=True)
    E = np.exp(L)
    S = E / E.sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = float(-(L[Y1] - np.log(E.sum(axis=1))).mean())
    dL = S.copy()
    dL[Y1] -= 1.0
    dL /= n
    dH = dL @ P["B"]
    dZ = dH * (Z > 0)
    return loss, {"A": dZ.T @ X, "c1": dZ.sum(0), "B": dL.T @ H, "c2": dL.sum(0)}


def train_masked(
    P: Params,
    X: np.ndarray,
    y: np.ndarray,
    masks: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 300,
    lr: float = 0.02,
) -> tuple[Params, float]:
    """Full-batch Adam (PyTorch's defaults: betas 0.9, 0.999, eps 1e-8) with the weight masks held fixed.

    Parameters
    ----------
    P : dict with A (p, d), c1 (p,), B (k, p), c2 (k,); not modified.
    masks : (mask_A, mask_B) 0/1 arrays, or None (dense).

    Returns
    -------
    (trained parameters, final mean cross-entropy). Full-batch training is deterministic, so the
    seed of the initialisation fixes the whole experiment. Masked entries get zero gradient and
    are re-masked after every step, so they stay exactly zero.
    """
    X = np.asarray(X, dtype=np.float64)
    rows = (np.arange(len(y)), np.asarray(y, dtype=np.int64))
    P = {k_: v.copy() for k_, v in P.items()}
    if masks is not None:
        P["A"] *= masks[0]
        P["B"] *= masks[1]
    m = {k_: np.zeros_like(v) for k_, v in P.items()}
    v2 = {k_: np.zeros_like(v) for k_, v in P.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    loss = float("nan")
    for t in range(1, int(epochs) + 1):
        loss, g = _loss_and_grads(P, X, rows)
        if masks is not None:
            g["A"] *= masks[0]
            g["B"] *= masks[1]
        for k_ in P:
            m[k_] = b1 * m[k_] + (1 - b1) * g[k_]
            v2[k_] = b2 * v2[k_] + (1 - b2) * g[k_] ** 2
            P[k_] -= lr * (m[k_] / (1 - b1**t)) / (np.sqrt(v2[k_] / (1 - b2**t)) + eps)
        if masks is not None:
            P["A"] *= masks[0]
            P["B"] *= masks[1]
    return P, loss


def magnitude_masks(P: Params, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Layer-wise magnitude masks: in A and in B, zero the ``ratio`` fraction of smallest |w|."""
    out = []
    for W in (P["A"], P["B"]):
        w = np.abs(W).ravel()
        keep = np.ones(w.size)
        n_zero = int(round(ratio * w.size))
        if n_zero > 0:
            keep[np.argsort(w, kind="stable")[:n_zero]] = 0.0
        out.append(keep.reshape(W.shape))
    return out[0], out[1]


def _to_net(P: Params) -> ShallowReluNet:
    return ShallowReluNet(P["A"], P["c1"], P["B"], P["c2"])


def normalised_hausdorff(a: ShallowReluNet, b: ShallowReluNet) -> float:
    """Hausdorff distance between the normalised 2-D decision polygons of two nets (in [0, 2])."""
    from ._checks import check_net

    check_net(a, "normalised_hausdorff")
    check_net(b, "normalised_hausdorff")
    if a.d != 2 or b.d != 2:
        raise ValueError("normalised_hausdorff compares 2-D-input nets (d = 2).")
    return hausdorff_polygons(normalise_polygon(decision_polygon(a)), normalise_polygon(decision_polygon(b)))


@dataclass
class LotteryRun:
    """One pruning ratio: the ticket and the random re-init after retraining, with their scores."""

    ratio: float
    ticket: ShallowReluNet
    random: ShallowReluNet
    acc_ticket: float
    acc_random: float
    test_acc_ticket: float
    test_acc_random: float
    dist_ticket: float
    dist_random: float
    collapsed_ticket: bool = False
    collapsed_random: bool = False

    @property
    def informative(self) -> bool:
        """False when a polytope of this run (or the dense one) collapsed to a segment or a point."""
        return not (self.collapsed_ticket or self.collapsed_random)


@dataclass
class LotteryExperiment:
    """The dense net and one :class:`LotteryRun` per ratio."""

    dense: ShallowReluNet
    acc_dense: float
    test_acc_dense: float
    runs: list[LotteryRun] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    collapsed_dense: bool = False


def lottery_experiment(
    X: np.ndarray,
    y: np.ndarray,
    ratios: tuple[float, ...] | list[float] = (0.5, 0.8),
    hidden: int = 16,
    epochs: int = 300,
    lr: float = 0.02,
    seed: int = 0,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    progress: ProgressFn | None = None,
) -> LotteryExperiment:
    """Train, prune by magnitude, re-initialise (original / fresh random), retrain, compare polytopes.

    Parameters
    ----------
    X : (n, 2) inputs; y : (n,) labels 0..k-1 (k >= 2).
    ratios : pruning ratios in (0, 1), the fraction of each weight matrix zeroed.
    hidden : p, the hidden width; epochs, lr : full-batch Adam settings (the same for every net).
    seed : seeds the original initialisation (seed) and the fresh one (seed + 1 + index of ratio).
    X_test, y_test : optional held-out data for the test accuracies (nan without).

    Returns
    -------
    LotteryExperiment: ``dense`` and per ratio the retrained ``ticket`` and ``random`` nets,
    their accuracies and their normalised Hausdorff distances to the dense polytope. A run whose polytope
    (or the dense one) collapsed to a segment is flagged (``collapsed_*``, ``informative``): its distance
    compares directions of segments only.
    """
    from ._checks import ArgumentTypeError, as_array, as_float, as_int

    X = as_array("X", X, 2, max_entries=200_000)
    if X.shape[1] != 2:
        raise ValueError(f"The lottery-ticket view needs 2-D inputs X (n, 2); got shape {X.shape}.")
    y_raw = np.asarray(y)
    if y_raw.dtype.kind not in "iu":
        raise ArgumentTypeError("y must hold integer class labels.")
    y = y_raw.astype(np.int64)
    if y.shape != (X.shape[0],) or X.shape[0] < 4:
        raise ValueError(f"y must hold one label per row of X (at least 4 rows); got {y.shape} for {X.shape[0]} rows.")
    if y.min() < 0 or y.max() >= 100:
        raise ValueError("y must hold integer labels 0..k-1 with 2 <= k <= 100.")
    k = int(y.max()) + 1
    if k < 2:
        raise ValueError("y must hold integer labels 0..k-1 with at least two classes.")
    if isinstance(ratios, (str, bytes)) or not hasattr(ratios, "__iter__"):
        raise ValueError("ratios must be a list of pruning ratios in (0, 1).")
    ratios = [as_float("ratio", r) for r in ratios]
    if not ratios or len(ratios) > 10 or any(not (0.0 < r < 1.0) for r in ratios):
        raise ValueError(f"Pruning ratios must be 1 to 10 numbers in (0, 1); got {ratios}.")
    hidden = as_int("hidden", hidden, 1, 256)
    epochs = as_int("epochs", epochs, 1, 5000)
    lr = as_float("lr", lr, 0.0, 10.0, lo_open=True)
    seed = as_int("seed", seed, 0, 2**31 - 1)
    if X_test is not None or y_test is not None:
        if X_test is None or y_test is None:
            raise ValueError("Pass both X_test and y_test, or neither.")
        X_test = as_array("X_test", X_test, 2, max_entries=200_000)
        y_test = np.asarray(y_test)
        if X_test.shape[1] != 2 or y_test.shape != (X_test.shape[0],):
            raise ValueError("X_test must be (n, 2) with one label per row in y_test.")

    def acc(net: ShallowReluNet, XX, yy) -> float:
        if XX is None or yy is None:
            return float("nan")
        return float((net.predict(XX) == np.asarray(yy)).mean())

    steps = 1 + 2 * len(ratios)
    done = 0

    def tick(msg: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / steps, msg)

    theta0 = init_params(2, hidden, k, seed)
    dense_P, _ = train_masked(theta0, X, y, None, epochs, lr)
    dense = _to_net(dense_P)
    tick("dense net trained")
    exp = LotteryExperiment(dense, acc(dense, X, y), acc(dense, X_test, y_test),
                            config={"ratios": ratios, "hidden": hidden, "epochs": epochs, "lr": lr, "seed": seed},
                            collapsed_dense=polytope_collapsed(dense))
    for idx, r in enumerate(ratios):
        masks = magnitude_masks(dense_P, r)
        ticket = _to_net(train_masked(theta0, X, y, masks, epochs, lr)[0])
        tick(f"ticket at ratio {r:.2f} retrained")
        rand = _to_net(train_masked(init_params(2, hidden, k, seed + 1 + idx), X, y, masks, epochs, lr)[0])
        tick(f"random re-init at ratio {r:.2f} retrained")
        exp.runs.append(
            LotteryRun(
                r, ticket, rand, acc(ticket, X, y), acc(rand, X, y), acc(ticket, X_test, y_test),
                acc(rand, X_test, y_test), normalised_hausdorff(dense, ticket), normalised_hausdorff(dense, rand),
                polytope_collapsed(ticket) or exp.collapsed_dense, polytope_collapsed(rand) or exp.collapsed_dense,
            )
        )
    return exp
