"""Magnet loss against a direct, loop-by-loop computation of the reference equation."""
from __future__ import annotations

import math

import pytest
import torch

from robustcore.clustr.magnet import MagnetLoss, magnet_loss


def _direct(feats, labels, clusters, alpha):
    """Reference: -log(exp(-d_n/(2 s^2) - alpha) / sum_{other-class clusters} exp(-d_nm/(2 s^2))),
    clipped at 0, with cluster means and s^2 = sum_n d_n / (N - 1), in plain Python floats."""
    N = len(feats)
    ids = sorted(set(clusters))
    mu = {m: [sum(f[k] for f, c in zip(feats, clusters) if c == m) / clusters.count(m) for k in range(len(feats[0]))]
          for m in ids}
    cls = {m: labels[clusters.index(m)] for m in ids}
    sq = lambda a, b: sum((x - y) ** 2 for x, y in zip(a, b))  # noqa: E731
    var = sum(sq(f, mu[c]) for f, c in zip(feats, clusters)) / (N - 1)
    total = 0.0
    for f, lab, c in zip(feats, labels, clusters):
        num = math.exp(-sq(f, mu[c]) / (2 * var) - alpha)
        den = sum(math.exp(-sq(f, mu[m]) / (2 * var)) for m in ids if cls[m] != lab)
        total += max(0.0, -math.log(num / den))
    return total / N


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.5])
def test_matches_direct_computation(alpha):
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(9, 3, generator=g, dtype=torch.float64)
    labels = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    clusters = [0, 0, 1, 2, 2, 3, 4, 4, 4]  # class 0 and 1 have two clusters, class 2 one
    want = _direct(feats.tolist(), labels, clusters, alpha)
    got = MagnetLoss(alpha)(feats, torch.tensor(labels), torch.tensor(clusters))
    assert float(got) == pytest.approx(want, rel=1e-10)
    assert float(got) > 0


def test_hand_made_two_clusters():
    # r = (0,0),(2,0) in class 0 (mean (1,0)); (10,0),(12,0) in class 1 (mean (11,0)).
    feats = torch.tensor([[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [12.0, 0.0]], dtype=torch.float64)
    labels, clusters = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 0, 1, 1])
    var = 4 * 1.0 / 3  # each point at distance 1 from its mean
    # point 0: own d = 1, other d = 121;  point 1: own 1, other 81;  symmetric for class 1
    alpha = 50.0
    per = [max(0, 1 / (2 * var) + alpha - d / (2 * var)) for d in (121, 81, 81, 121)]
    got = magnet_loss(feats, labels, clusters, alpha=alpha, reduction="none")
    assert got.tolist() == pytest.approx(per, rel=1e-12)


def test_zero_when_examples_sit_on_far_apart_centres():
    feats = torch.tensor([[0.0, 0.0]] * 3 + [[100.0, 0.0]] * 3 + [[0.0, 100.0]] * 2, dtype=torch.float64)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2])
    loss = MagnetLoss(alpha=1.0)(feats, labels, labels)
    assert float(loss) == 0.0


def test_fixed_centres_and_gradient():
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(6, 2, generator=g, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    centers = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]], dtype=torch.float64)
    center_labels = torch.tensor([0, 0, 1])
    clusters = torch.tensor([0, 1, 0, 2, 2, 2])
    loss = magnet_loss(feats, labels, clusters, 1.0, centers, center_labels)
    loss.backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0
    # direct value with those centres
    f = feats.detach()
    own = ((f - centers[clusters]) ** 2).sum(1)
    var = own.sum() / 5
    d2 = ((f[:, None] - centers[None]) ** 2).sum(2)
    other = center_labels[None] != labels[:, None]
    den = (torch.exp(-d2 / (2 * var)) * other).sum(1)
    want = torch.relu(own / (2 * var) + 1.0 + torch.log(den)).mean()
    assert float(loss.detach()) == pytest.approx(float(want), rel=1e-12)


def test_bad_inputs():
    f = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="single class"):
        magnet_loss(f, torch.tensor([0, 1, 1, 1]), torch.tensor([0, 0, 1, 1]))
    with pytest.raises(ValueError, match="alpha"):
        MagnetLoss(alpha=-1)
    with pytest.raises(ValueError, match="NaN"):
        magnet_loss(torch.full((2, 2), float("nan")), torch.tensor([0, 1]), torch.tensor([0, 1]))
