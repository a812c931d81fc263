"""Smoothing-oriented training: MACER loss against an explicit computation, SmoothAdv's attack,
caching, and that Gaussian augmentation makes the base classifier robust to noise."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import norm

from robustcore.data import load_digits
from robustcore.smoothing.training import (
    macer_loss,
    noisy_accuracy,
    smoothadv_attack,
    smoothing_model,
    smoothing_model_config,
)


def _tiny_model(seed: int = 0, k: int = 4, d: int = 6) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d, 8), torch.nn.Tanh(), torch.nn.Linear(8, k))


def test_macer_loss_matches_explicit_formula():
    model = _tiny_model()
    torch.manual_seed(1)
    b, m, d, k = 12, 5, 6, 4
    x = torch.rand(b, d)
    y = torch.randint(0, k, (b,))
    sigma, lbd, gamma, beta = 0.5, 3.0, 2.0, 4.0
    noise = sigma * torch.randn(m, b, d)
    loss, parts = macer_loss(model, x, y, noise, sigma, lbd, gamma, beta)
    # explicit per-point computation in float64 with scipy's Phi^-1
    with torch.no_grad():
        logits = np.stack([model(x + noise[i]).double().numpy() for i in range(m)])  # (m, b, k)

    def softmax(z):
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    cls = rob = 0.0
    for j in range(b):
        psi = softmax(logits[:, j]).mean(0)
        cls += -np.log(psi[y[j]] + 1e-10)
        psib = softmax(beta * logits[:, j]).mean(0)
        order = np.argsort(-psib)
        if order[0] != int(y[j]):
            continue
        gap = norm.ppf(psib[order[0]]) - norm.ppf(psib[order[1]])
        if abs(gap) <= gamma:
            rob += max(gamma - gap, 0.0) * sigma / 2
    expected = (cls + lbd * rob) / b
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-4)
    assert parts["robustness"] == pytest.approx(rob / b, rel=1e-4, abs=1e-7)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_macer_loss_saturated_points_give_finite_gradients():
    model = _tiny_model(k=3)
    with torch.no_grad():
        model[2].weight.mul_(1e3)  # soft-max saturates: Phi^-1(1) = inf for some points
    x = torch.rand(8, 6)
    y = model(x).argmax(1)
    loss, _ = macer_loss(model, x, y, 0.1 * torch.randn(4, 8, 6), 0.1, 1.0, 8.0, 16.0)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_smoothadv_attack_stays_in_ball_and_increases_smoothed_loss():
    model = _tiny_model(seed=2)
    torch.manual_seed(3)
    b, m, d = 16, 4, 6
    x = torch.rand(b, d) * 0.6 + 0.2
    y = torch.randint(0, 4, (b,))
    noise = 0.25 * torch.randn(m, b, d)
    eps = 0.5
    x_adv = smoothadv_attack(model, x, y, noise, eps=eps, steps=5)
    assert torch.all((x_adv - x).flatten(1).norm(dim=1) <= eps + 1e-5)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert all(p.requires_grad for p in model.parameters())

    def smoothed_nll(z):
        with torch.no_grad():
            psi = torch.softmax(model((z.unsqueeze(0) + noise).flatten(0, 1)), 1).view(m, b, -1).mean(0)
            return -torch.log(psi[torch.arange(b), y])

    assert smoothed_nll(x_adv).mean() > smoothed_nll(x).mean()
    assert torch.equal(smoothadv_attack(model, x, y, noise, eps=0.0, steps=5), x)


def test_trained_models_are_cached_and_bad_names_rejected():
    a, info_a = smoothing_model("macer", 0.25, epochs=1, m=2)
    b, info_b = smoothing_model("macer", 0.25, epochs=1, m=2)
    assert info_b["cached"]
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert info_a["config"]["method"] == "macer" and info_a["config"]["sigma"] == 0.25
    s, info_s = smoothing_model("smoothadv", 0.25, epochs=1, eps=0.25)
    assert set(info_s["metrics"]) >= {"test_acc", "test_noisy_acc"}
    with pytest.raises(ValueError, match="Unknown smoothing model"):
        smoothing_model_config("bogus", 0.25)
    with pytest.raises(ValueError, match="sigma"):
        smoothing_model_config("macer", 0.0)


def test_gaussian_augmentation_makes_base_classifier_noise_robust():
    """Cohen et al.'s premise: a base classifier trained on noisy inputs classifies noisy inputs
    better than one trained on clean ones (8 noisy copies of 450 test images: standard error < 0.006)."""
    X, y = load_digits("test")
    plain, _ = smoothing_model("plain")
    cohen, info = smoothing_model("cohen", 0.25)
    assert info["config"]["noise_sigma"] == 0.25
    acc_plain = noisy_accuracy(plain, X, y, 0.25, seed=3, copies=8)
    acc_cohen = noisy_accuracy(cohen, X, y, 0.25, seed=3, copies=8)
    assert acc_cohen > acc_plain + 0.03
