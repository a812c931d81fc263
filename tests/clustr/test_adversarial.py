"""Free AT, QTRADES and the two evaluation attacks against closed forms and direct computations."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from robustcore.clustr import ClusterClassifier, MagnetLoss
from robustcore.clustr.adversarial import attack_accuracy, free_replays, qtrades_consistency, soft_probs


def _identity_model(centers, labels, variance, k=1, num_classes=2):
    emb = nn.Linear(2, 2)
    with torch.no_grad():
        emb.weight.copy_(torch.eye(2))
        emb.bias.zero_()
    m = ClusterClassifier(emb, num_classes, k, 2, (2,))
    m.centers.copy_(torch.as_tensor(centers, dtype=torch.float32))
    m.center_labels.copy_(torch.as_tensor(labels))
    m.variance.fill_(variance)
    return m.eval()


def test_soft_scores_match_direct_top_L_sum():
    g = torch.Generator().manual_seed(0)
    C = torch.randn(6, 2, generator=g)
    m = _identity_model(C, [0, 0, 1, 1, 2, 2], 0.7, k=2, num_classes=3)
    x = torch.randn(25, 2, generator=g)
    d2 = ((x[:, None].double() - C[None].double()) ** 2).sum(2).numpy()
    for L in (1, 3, 6):
        want = np.zeros((25, 3))
        for n in range(25):
            for j in np.argsort(d2[n])[:L]:
                want[n, [0, 0, 1, 1, 2, 2][j]] += np.exp(-d2[n, j] / (2 * 0.7))
        got = m.soft_scores(x, L).detach().double().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        assert torch.equal(m.soft_scores(x, L).argmax(1), m.soft_logits(x, L).argmax(1))
        p = soft_probs(m, x, L)
        np.testing.assert_allclose(p.sum(1).detach().numpy(), 1.0, rtol=1e-6)


def test_official_attack_is_masked_where_exp_scores_underflow():
    # centres far apart relative to s: every score of a point between them underflows to 0 in float32, the
    # official loss (CE on the raw scores) has zero gradient, and the attack cannot move; the margin on the
    # nearest-centre logits flips every point (the l-inf ball reaches the bisector x1 = 0.5).
    m = _identity_model([[0.0, 0.0], [1.0, 0.0]], [0, 1], variance=1e-4)
    x = torch.tensor([[0.35, 0.5], [0.40, 0.6], [0.30, 0.45]])
    y = torch.zeros(3, dtype=torch.long)
    xr = x.clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(m.soft_scores(xr, 2), y)
    (g,) = torch.autograd.grad(loss, xr)
    assert torch.all(m.soft_scores(x, 2) == 0) and torch.all(g == 0)
    assert attack_accuracy(m, x, y, 0.25, "official", steps=20, restarts=3) == 1.0
    assert attack_accuracy(m, x, y, 0.25, "ours", steps=20, restarts=3) == 0.0
    assert attack_accuracy(m, x, y, 0.25, "soft-margin", steps=20, restarts=3) == 0.0  # log-scores stay finite
    assert attack_accuracy(m, x, y, 0.0, "ours") == 1.0


def test_margin_attack_matches_the_linear_closed_form():
    # two-class linear logits: the l-inf robust radius is (z_y - z_other) / ||w_y - w_other||_1, and the margin
    # attack (sign steps) reaches the optimal corner; points stay inside [0, 1] (the clamp is inactive)
    g = torch.Generator().manual_seed(1)
    lin = nn.Linear(4, 2)
    X = 0.3 + 0.4 * torch.rand(200, 4, generator=g)
    with torch.no_grad():
        z = lin(X)
    y = z.argmax(1)
    w = lin.weight.detach()
    radius = (z.max(1).values - z.min(1).values) / (w[0] - w[1]).abs().sum()
    for eps in (0.02, 0.05, 0.1):
        want = float((radius > eps).float().mean())
        got = attack_accuracy(lin, X, y, eps, "ours", steps=30, restarts=1)
        assert got == pytest.approx(want, abs=1 / 200)


def test_free_replays_stay_in_the_ball_and_step_once_per_replay():
    torch.manual_seed(0)
    emb = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    m = ClusterClassifier(emb, 2, 1, 3, (1, 4, 4))
    x = torch.rand(8, 1, 4, 4)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    m.refresh_centers(x, y)
    opt = torch.optim.SGD(m.embedding.parameters(), lr=0.01)
    steps = []
    orig = opt.step
    opt.step = lambda *a, **k: (steps.append(1), orig(*a, **k))[1]
    before = [p.detach().clone() for p in m.embedding.parameters()]
    delta, per = free_replays(m, opt, MagnetLoss(1.0), x, y, y, None, 0.1, 3)
    assert len(steps) == 3 and per.shape == (8,)
    assert delta.abs().max() <= 0.1 + 1e-7 and delta.abs().max() > 0
    assert torch.all(x + delta >= -1e-7) and torch.all(x + delta <= 1 + 1e-7)
    assert any(not torch.equal(a, b) for a, b in zip(before, m.embedding.parameters()))
    # delta is carried over: the next mini-batch starts from it
    delta2, _ = free_replays(m, opt, MagnetLoss(1.0), x, y, y, delta, 0.1, 1)
    assert delta2.abs().max() <= 0.1 + 1e-7


def test_qtrades_consistency_equals_the_direct_formula_without_perturbation():
    g = torch.Generator().manual_seed(2)
    m = _identity_model(torch.randn(4, 2, generator=g), [0, 0, 1, 1], 0.5, k=2)
    x = torch.rand(10, 2, generator=g)
    got = qtrades_consistency(m, x, eps=0.0, step=0.0, L=4, generator=g)
    s = m.soft_scores(x, 4)
    p = s / s.sum(1, keepdim=True)
    want = -(p * torch.log_softmax(s, 1)).sum(1).mean()
    assert float(got) == pytest.approx(float(want), rel=1e-6)
    got.backward()
    assert m.embedding.weight.grad is not None and torch.isfinite(m.embedding.weight.grad).all()
    with pytest.raises(ValueError, match="eps"):
        qtrades_consistency(m, x, eps=-0.1)
