"""The k-class argmax boundary next to tie regions, against a brute-force grid.

Visual QA once suspected that ``argmax_boundary_cells`` drops the edge where a class meets a region on which two
classes tie exactly (f_a = f_b on a whole cell). Reference: classify a fine grid by its set of winning classes
(ties included) and require a returned segment within one grid step of every place the set changes.
"""
from __future__ import annotations

import numpy as np
import pytest

from robustcore.tropical import ShallowReluNet
from robustcore.tropical.boundary import _point_segment_distance, argmax_boundary_cells

BOX = (-3.0, 3.0, -3.0, 3.0)
H = 0.02


def _winner_sets(net: ShallowReluNet, G: np.ndarray) -> np.ndarray:
    F = np.maximum(G @ net.A.T + net.c1, 0.0) @ net.B.T + net.c2
    tol = 1e-9 * (1.0 + np.abs(F).max())
    win = F >= F.max(-1, keepdims=True) - tol
    return (win * (1 << np.arange(net.k))).sum(-1)


@pytest.mark.parametrize("seed", range(12))
def test_every_change_of_the_winning_classes_is_on_a_returned_segment(seed):
    rng = np.random.default_rng(seed)
    p, k = 6, 2 + seed % 2
    A, c1 = rng.normal(size=(p, 2)), rng.normal(size=p)
    B, c2 = rng.normal(size=(k, p)), rng.normal(size=k)
    # classes 0 and 1 tie exactly wherever units 0-2 are off (same outgoing weights elsewhere, same bias)
    B[1, 3:], c2[1] = B[0, 3:], c2[0]
    net = ShallowReluNet(A, c1, B, c2)
    xs = np.arange(BOX[0], BOX[1], H) + H / 2
    G = np.stack(np.meshgrid(xs, xs, indexing="xy"), -1)
    lab = _winner_sets(net, G)
    mids = np.concatenate([((G[:, 1:] + G[:, :-1]) / 2)[lab[:, 1:] != lab[:, :-1]],
                           ((G[1:, :] + G[:-1, :]) / 2)[lab[1:, :] != lab[:-1, :]]])
    S = argmax_boundary_cells(net, BOX)
    if len(mids) == 0:
        return
    assert len(S), "the winning classes change in the box but no boundary segment was returned"
    assert _point_segment_distance(mids, S).max() <= H  # a grid change lies within half a step of the boundary


def test_the_seeds_above_do_contain_tie_regions():
    """Half of the nets above have a tie region of classes 0 and 1 covering 3-41 % of the box (else the test
    would not test ties)."""
    with_ties = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        p, k = 6, 2 + seed % 2
        A, c1 = rng.normal(size=(p, 2)), rng.normal(size=p)
        B, c2 = rng.normal(size=(k, p)), rng.normal(size=k)
        B[1, 3:], c2[1] = B[0, 3:], c2[0]
        xs = np.arange(BOX[0], BOX[1], H) + H / 2
        G = np.stack(np.meshgrid(xs, xs, indexing="xy"), -1)
        with_ties += bool((_winner_sets(ShallowReluNet(A, c1, B, c2), G) == 3).mean() > 0.02)
    assert with_ties >= 6


def _inside_convex(P: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points of P (n, 2) inside the convex polygon (either orientation), boundary included."""
    e = np.roll(poly, -1, axis=0) - poly
    cross = e[None, :, 0] * (P[:, None, 1] - poly[None, :, 1]) - e[None, :, 1] * (P[:, None, 0] - poly[None, :, 0])
    tol = 1e-12 * (1.0 + np.abs(poly).max()) ** 2
    return (cross >= -tol).all(1) | (cross <= tol).all(1)


def _tie_net(seed: int) -> ShallowReluNet:
    rng = np.random.default_rng(seed)
    p, k = 6, 2 + seed % 3
    A, c1 = rng.normal(size=(p, 2)), rng.normal(size=p)
    B, c2 = rng.normal(size=(k, p)), rng.normal(size=k)
    B[1, 3:], c2[1] = B[0, 3:], c2[0]
    if seed % 4 == 3:  # a pruned, bias-free output layer: every class ties at 0 where units 3-5 are off
        B[:, :3], c2[:] = 0.0, 0.0
    return ShallowReluNet(A, c1, B, c2)


@pytest.mark.parametrize("seed", range(12))
def test_argmax_tie_regions_are_where_a_grid_finds_tied_winners(seed):
    from robustcore.tropical import argmax_tie_regions

    net = _tie_net(seed)
    xs = np.arange(BOX[0], BOX[1], H) + H / 2
    G = np.stack(np.meshgrid(xs, xs, indexing="xy"), -1).reshape(-1, 2)
    F = np.maximum(G @ net.A.T + net.c1, 0.0) @ net.B.T + net.c2
    win = F >= F.max(-1, keepdims=True) - 1e-9 * (1.0 + np.abs(F).max())
    tied = win.sum(1) >= 2
    ties = argmax_tie_regions(net, BOX)
    inside = np.zeros(len(G), dtype=bool)
    for poly, classes in ties:
        hit = _inside_convex(G, poly)
        inside |= hit
        # every grid point in a returned polygon has exactly those classes as its (tied) winners
        assert hit.sum() == 0 or (win[hit][:, list(classes)].all() and win[hit].sum(1).min() == len(classes))
    # every tied grid point is in a returned polygon, except within a grid step of a boundary line
    # (where two classes cross and a point can be tied within the grid's tolerance)
    S = argmax_boundary_cells(net, BOX)
    far = _point_segment_distance(G, S) > H if len(S) else np.ones(len(G), dtype=bool)
    assert not (tied & far & ~inside).any()
    if tied.mean() > 0.02:
        assert ties, "the grid finds a tie region but none was returned"


def test_the_nets_above_do_contain_two_three_and_four_way_ties():
    """(else the test above would not test ties): 5 of the 12 nets have tie regions, with groups of 2 to 4 classes."""
    from robustcore.tropical import argmax_tie_regions

    found = [argmax_tie_regions(_tie_net(s), BOX) for s in range(12)]
    assert sum(bool(t) for t in found) >= 5
    assert {len(c) for t in found for _, c in t} >= {2, 3, 4}
