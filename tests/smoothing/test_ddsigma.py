"""Tests of the DDRS sigma optimiser against closed forms.

Fixture: a soft "Gaussian bump" classifier on R^D with p_A(z) = exp(-||z||^2 / (2 tau^2)),
p_B = 1 - p_A. Its Gaussian smoothing is a Gaussian integral in closed form:
    psi_A(sigma) = (tau^2 / (tau^2 + sigma^2))^(D/2) exp(-||x||^2 / (2 (tau^2 + sigma^2))),
so the expected surrogate sigma * Phi^-1(clip psi_A) has an interior maximum that scipy finds
independently of the stochastic ascent.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from torch import nn

from robustcore.smoothing.ddsigma import optimize_sigma, surrogate_radius

torch.set_num_threads(1)


class GaussianBump(nn.Module):
    """Two-class soft classifier whose log-probabilities are its logits."""

    def __init__(self, tau: float = 1.0):
        super().__init__()
        self.tau = tau
        self.dummy = nn.Parameter(torch.zeros(1))  # a parameter, to check it is left alone

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        sq = (z.flatten(1) ** 2).sum(1)
        log_pa = -sq / (2 * self.tau**2) + 0 * self.dummy
        log_pb = torch.log(-torch.expm1(log_pa).clamp(max=-1e-12))
        return torch.stack([log_pa, log_pb], dim=1)


def psi_a(sigma, a, D, tau=1.0):
    s2 = tau**2 + np.asarray(sigma) ** 2
    return (tau**2 / s2) ** (D / 2) * np.exp(-(a**2) / (2 * s2))


def analytic_optimum(a, D, tau=1.0, clip=(0.02, 0.98)):
    def neg(s):
        p = np.clip(psi_a(s, a, D, tau), *clip)
        q = np.clip(1 - psi_a(s, a, D, tau), *clip)
        return -s / 2 * (norm.ppf(p) - norm.ppf(q))

    res = minimize_scalar(neg, bounds=(1e-3, 2.0), method="bounded", options={"xatol": 1e-6})
    return res.x


def test_closed_form_fixture_matches_monte_carlo():
    # Independent check of the fixture: mean softmax over 2e5 draws vs the Gaussian integral.
    D, a, sigma = 4, 0.3, 0.4
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(D)
    x[0] = a
    z = x + sigma * torch.randn(200_000, D, generator=g)
    p = torch.softmax(GaussianBump()(z), 1)[:, 0].double()
    se = p.std().item() / np.sqrt(len(p))
    assert abs(p.mean().item() - psi_a(sigma, a, D)) < 5 * se


def test_optimize_sigma_lands_near_analytic_optimum_batched():
    D = 4
    radii = [0.0, 0.3, 0.6]
    x = torch.zeros(len(radii), D)
    x[:, 0] = torch.tensor(radii)
    path = optimize_sigma(GaussianBump(), x, sigma0=0.1, steps=300, lr=0.01, n_samples=512, seed=0)
    target = np.array([analytic_optimum(a, D) for a in radii])
    # Average the last 100 iterates (Polyak averaging of the path) against the noise of SGA.
    est = path.sigma_history[-100:].mean(0)
    assert np.all(np.abs(est - target) < 0.01), (est, target)
    assert np.all(np.abs(path.sigma - target) < 0.02), (path.sigma, target)
    assert path.sigma_history.shape == (301, 3) and path.surrogate_history.shape == (300, 3)
    # The surrogate climbed: the last iterates beat the first ones.
    assert np.all(path.surrogate_history[-50:].mean(0) > path.surrogate_history[:5].mean(0))
    assert np.all(path.top_class == 0)


def test_gradient_matches_finite_differences_under_common_random_numbers():
    D, a = 4, 0.3
    model = GaussianBump()
    x = torch.zeros(1, D, dtype=torch.float64)
    x[0, 0] = a
    eps = torch.randn(4096, D, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    def R(s):
        probs = torch.softmax(model.double()(x + s * eps), 1).mean(0, keepdim=True)
        return surrogate_radius(probs, s.reshape(1))[0]

    s = torch.tensor(0.35, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(R(s), s)
    h = 1e-5
    with torch.no_grad():
        fd = (R(torch.tensor(0.35 + h, dtype=torch.float64)) - R(torch.tensor(0.35 - h, dtype=torch.float64))) / (2 * h)
    assert g.item() == pytest.approx(fd.item(), rel=1e-5)


class Saturated(nn.Module):
    """Returns the constant probabilities (0.999, 0.001): saturated, psi-gradient is zero."""

    def forward(self, z):
        p = torch.tensor([0.999, 0.001]).expand(z.shape[0], 2)
        return p + 0 * z.flatten(1).sum(1, keepdim=True)


@pytest.mark.parametrize("clip", [(0.02, 0.98), (0.001, 0.999)])
def test_saturated_step_is_gap_over_two(clip):
    # dR~/dsigma = (Phi^-1(hi) - Phi^-1(lo)) / 2 = Phi^-1(hi): 2.0537 and 3.0902 (reference §7.9).
    gap_half = norm.ppf(clip[1])
    lr = 0.01
    path = optimize_sigma(Saturated(), torch.zeros(2, 1, 8, 8), sigma0=0.5, steps=3, lr=lr, n_samples=4,
                          clip=clip, probabilities=True)
    expected = 0.5 + lr * gap_half * np.arange(4)
    assert np.allclose(path.sigma_history[:, 0], expected, atol=1e-6)
    assert np.allclose(path.surrogate_history[:, 0], expected[:-1] * gap_half, atol=1e-5)


def test_model_untouched_deterministic_and_sigma_floor():
    model = GaussianBump()
    model.train()
    model.dummy.requires_grad_(True)
    before = model.dummy.detach().clone()
    x = torch.zeros(2, 4)
    x[1, 0] = 1.0
    # A huge step size throws sigma far below zero without the projection.
    p1 = optimize_sigma(model, x, sigma0=1.5, steps=5, lr=50.0, n_samples=32, seed=7, sigma_min=1e-3)
    p2 = optimize_sigma(model, x, sigma0=1.5, steps=5, lr=50.0, n_samples=32, seed=7, sigma_min=1e-3)
    assert np.array_equal(p1.sigma_history, p2.sigma_history)
    assert np.all(p1.sigma_history >= 1e-3)
    assert model.training and model.dummy.requires_grad
    assert model.dummy.grad is None and torch.equal(model.dummy.detach(), before)


def test_bad_input_raises_value_error():
    m = GaussianBump()
    with pytest.raises(ValueError, match="batch"):
        optimize_sigma(m, torch.zeros(4), sigma0=0.2, steps=1)
    with pytest.raises(ValueError, match="positive"):
        optimize_sigma(m, torch.zeros(2, 4), sigma0=-0.2, steps=1)
    with pytest.raises(ValueError, match="NaN"):
        optimize_sigma(m, torch.full((2, 4), float("nan")), sigma0=0.2, steps=1)
    with pytest.raises(ValueError, match="clip"):
        optimize_sigma(m, torch.zeros(2, 4), sigma0=0.2, steps=1, clip=(0.6, 0.9))
    with pytest.raises(ValueError, match="one value per input"):
        optimize_sigma(m, torch.zeros(2, 4), sigma0=[0.1, 0.2, 0.3], steps=1)


def test_bfloat16_ascent_tracks_float32():
    # Reduced precision only steers the choice of sigma; it should land close to the float32 path.
    # The bump behind an identity Linear layer: autocast runs that matmul in bfloat16.
    D = 4
    model = nn.Sequential(nn.Linear(D, D, bias=False), GaussianBump())
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(D))
    x = torch.zeros(2, D)
    x[1, 0] = 0.3
    a = optimize_sigma(model, x, sigma0=0.1, steps=200, lr=0.01, n_samples=256, seed=0)
    b = optimize_sigma(model, x, sigma0=0.1, steps=200, lr=0.01, n_samples=256, seed=0, precision="bfloat16")
    assert not np.array_equal(a.sigma_history, b.sigma_history)  # bfloat16 really was used
    target = np.array([analytic_optimum(0.0, D), analytic_optimum(0.3, D)])
    assert np.all(np.abs(b.sigma_history[-50:].mean(0) - target) < 0.02)
    with pytest.raises(ValueError, match="precision"):
        optimize_sigma(GaussianBump(), x, sigma0=0.1, steps=1, precision="int8")


def test_working_copy_matches_the_model_and_leaves_it_alone():
    from robustcore.nets import DigitsCNN
    from robustcore.smoothing.ddsigma import working_copy

    torch.manual_seed(0)
    model = DigitsCNN().train()
    x = torch.rand(64, 1, 8, 8, requires_grad=True)
    for cl in (False, True):
        work = working_copy(model, channels_last=cl)
        assert not any(p.requires_grad for p in work.parameters())
        assert model.training and all(p.requires_grad for p in model.parameters())
        model.eval()
        ref = model(x)
        out = work(x)
        assert torch.allclose(out, ref, atol=1e-5)
        (g_ref,) = torch.autograd.grad(ref[:, 3].sum(), x)
        (g_out,) = torch.autograd.grad(out[:, 3].sum(), x)
        assert torch.allclose(g_out, g_ref, atol=1e-5)  # same input gradients
        model.train()


def test_each_input_has_its_own_stream_whatever_the_batch():
    """Issue 13: an input's sigma depends on its own id, not on the other inputs of the batch."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    X = torch.rand(5, 1, 4, 4)
    ids = [11, 22, 33, 44, 55]
    kw = dict(sigma0=0.3, steps=4, lr=0.05, n_samples=8)
    full = optimize_sigma(model, X, seeds=ids, per_input=True, **kw)
    sub = optimize_sigma(model, X[[3, 1]], seeds=[44, 22], per_input=True, **kw)
    assert sub.sigma.tolist() == [full.sigma[3], full.sigma[1]]
    batched = optimize_sigma(model, X, seeds=ids, **kw)  # one forward pass for all: equal up to rounding
    np.testing.assert_allclose(batched.sigma, full.sigma, rtol=1e-5)
    assert full.config["purpose"] == "optimise" and len(set(full.config["stream_seeds"])) == 5
    with pytest.raises(ValueError, match="seeds"):
        optimize_sigma(model, X, seeds=[1, 2], **kw)
