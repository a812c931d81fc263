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
