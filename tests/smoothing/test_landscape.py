"""Sigma landscape against closed forms (reference §7.6-§7.8).

Ball classifier: class 0 iff ||z|| <= r0. At ||x|| = a the smoothed probability of class 0 is
    p_A(sigma) = ncx2.cdf(r0^2 / sigma^2, D, a^2 / sigma^2)          (non-central chi-square).
Linear classifier: class 0 iff w.z + b > 0, p_A = Phi(|w.x + b| / (sigma ||w||)).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from robustcore.smoothing.streams import stream_seed
from scipy.stats import ncx2, norm
from torch import nn

from robustcore.smoothing.landscape import landscape_from_counts, sigma_landscape

torch.set_num_threads(1)


class Ball(nn.Module):
    def __init__(self, r0: float):
        super().__init__()
        self.r0 = r0

    def forward(self, z):
        margin = self.r0 - z.flatten(1).norm(dim=1)
        return torch.stack([50 * margin, torch.zeros_like(margin)], dim=1)


class Linear(nn.Module):
    def __init__(self, w, b):
        super().__init__()
        self.w, self.b = torch.as_tensor(w, dtype=torch.float32), float(b)

    def forward(self, z):
        m = z.flatten(1) @ self.w + self.b
        return torch.stack([m, -m], dim=1)


def test_reference_fixture_peak_near_0525():
    # §7.8: D=3072, r0=60, a=50, N=1e5, alpha=1e-3, nA = floor(N pA).
    s = np.array([0.40, 0.45, 0.50, 0.525, 0.55, 0.575, 0.60, 0.65])
    N = 100_000
    n_a = np.floor(N * ncx2.cdf(60**2 / s**2, 3072, 50**2 / s**2)).astype(np.int64)
    out = landscape_from_counts(s, np.stack([n_a, N - n_a], 1), 1e-3, label=0)
    assert np.allclose(out["radius"][:6], [1.525, 1.715, 1.870, 1.963, 1.514, 0.757], atol=1.5e-3)
    assert np.all(out["radius"][6:] == 0)
    assert s[np.argmax(out["radius"])] == 0.525
    # The rising part follows the cap sigma Phi^-1(alpha^(1/n)) from below.
    assert np.all(out["radius"] <= out["cap"] + 1e-12)
    assert out["cap"][0] == pytest.approx(0.40 * 3.81146, rel=1e-4)


def test_ball_landscape_within_confidence_bands():
    D, r0, a = 8, 3.0, 1.0
    x = torch.zeros(D)
    x[0] = a
    sigmas = np.linspace(0.3, 2.5, 23)
    alpha = 1e-4  # per side and per sigma: all 2 * 23 bounds hold with prob >= 1 - 0.0046 (union bound)
    land = sigma_landscape(Ball(r0), x, sigmas, n=4000, alpha=alpha, label=0, seed=11)
    p_true = ncx2.cdf(r0**2 / sigmas**2, D, a**2 / sigmas**2)
    assert np.all(land.p_lower <= p_true) and np.all(p_true <= land.p_upper)
    # The radius never exceeds the exact Cohen radius of the true probability (p_lower <= p_A).
    exact = np.where(p_true >= 0.5, sigmas * norm.isf(ncx2.sf(r0**2 / sigmas**2, D, a**2 / sigmas**2)), 0.0)
    assert np.all(land.radius <= exact + 1e-12)
    # The band is informative: no wider than about two normal-approximation half-widths at p = 1/2.
    assert np.max(land.p_upper - land.p_lower) < 1.1 * 2 * norm.isf(alpha) * 0.5 / np.sqrt(4000)
    # The curve rises then falls (interior peak), as the closed form does.
    i = int(np.argmax(land.radius))
    assert 0 < i < len(sigmas) - 1 and land.radius[-1] == 0


def test_common_random_numbers_make_ball_counts_monotone():
    # At a = 0, f(sigma eps) = A iff ||eps|| <= r0 / sigma: with shared eps the count is exactly
    # non-increasing in sigma (independent draws at 2000 samples would break this almost surely).
    D, r0 = 8, 3.0
    sigmas = np.linspace(0.5, 2.0, 40)
    land = sigma_landscape(Ball(r0), torch.zeros(D), sigmas, n=2000, alpha=1e-3, label=0, seed=2)
    assert np.all(np.diff(land.counts[:, 0]) <= 0)
    # And it equals the count of ||eps|| <= r0/sigma for the very same draw.
    # (the landscape's own stream, never the seed itself: see robustcore.smoothing.streams)
    assert land.purpose == "landscape" and land.stream_seed == stream_seed(2, "landscape")
    eps = torch.randn((2000, D), generator=torch.Generator().manual_seed(stream_seed(2, "landscape")))
    expected = [(eps.norm(dim=1) <= r0 / s).sum().item() for s in sigmas]
    assert np.array_equal(land.counts[:, 0], expected)


def test_linear_landscape_is_flat_and_below_distance():
    w = np.array([3.0, -4.0, 0.0, 0.0])
    b = -0.2
    x = torch.tensor([0.5, 0.1, 0.3, 0.0])
    dist = abs(w @ x.numpy() + b) / np.linalg.norm(w)  # 0.1 / 5 ... = true distance to the boundary
    sigmas = np.linspace(0.01, 0.2, 12)
    land = sigma_landscape(Linear(w, b), x, sigmas, n=5000, alpha=1e-3, seed=4)
    assert np.all(land.radius <= dist + 1e-9)
    p_true = norm.cdf(abs(w @ x.numpy() + b) / (sigmas * np.linalg.norm(w)))
    assert np.all(land.p_lower <= p_true + 1e-12) and np.all(p_true <= land.p_upper + 1e-12)


def test_surrogate_matches_closed_form_for_probit_model():
    # Probit linear model: softmax of (m, -m)/1 is not closed form, so use probabilities output
    # p_A(z) = Phi(w.z + b): smoothed psi_A = Phi((w.x + b) / sqrt(1 + sigma^2 ||w||^2)).
    class Probit(nn.Module):
        def forward(self, z):
            p = 0.5 * (1 + torch.erf((z.flatten(1) @ torch.tensor([1.0, 2.0]) + 0.5) / np.sqrt(2)))
            return torch.stack([p, 1 - p], 1)

    x = torch.tensor([0.2, 0.1])
    sigmas = np.array([0.1, 0.5, 1.0])
    land = sigma_landscape(Probit(), x, sigmas, n=20000, alpha=1e-3, seed=5, probabilities=True,
                           clip=(0.001, 0.999))
    psi = norm.cdf(0.9 / np.sqrt(1 + 5 * sigmas**2))
    expected = sigmas / 2 * (norm.ppf(psi) - norm.ppf(1 - psi))
    assert np.allclose(land.surrogate, expected, rtol=0.03)


def test_bad_input():
    with pytest.raises(ValueError, match="positive"):
        sigma_landscape(Ball(1.0), torch.zeros(3), [0.1, -0.2], n=10)
    with pytest.raises(ValueError, match="alpha"):
        sigma_landscape(Ball(1.0), torch.zeros(3), [0.1], n=10, alpha=2.0)
    with pytest.raises(ValueError, match="label"):
        sigma_landscape(Ball(1.0), torch.zeros(3), [0.1], n=10, label=7)


def test_monte_carlo_landscape_of_the_reference_ball_peaks_near_0525():
    # §7.8 geometry sampled for real (D=3072, r0=60, a=50): with n=2000 the radius follows the cap
    # sigma Phi^-1(alpha^(1/n)) until p_A(sigma) collapses between 0.525 and 0.6, so the grid
    # maximum sits at 0.525-0.55, where the closed form puts it.
    D = 3072
    x = torch.zeros(D)
    x[0] = 50.0
    sigmas = np.round(np.arange(0.45, 0.6001, 0.0125), 4)
    land = sigma_landscape(Ball(60.0), x, sigmas, n=2000, alpha=1e-3, label=0, seed=0, batch_size=4000)
    best = sigmas[np.argmax(land.radius)]
    assert 0.5 <= best <= 0.55, best
    p_true = ncx2.cdf(60.0**2 / sigmas**2, D, 50.0**2 / sigmas**2)
    assert np.all(land.p_lower <= p_true + 1e-12) and np.all(p_true <= land.p_upper + 1e-12)
