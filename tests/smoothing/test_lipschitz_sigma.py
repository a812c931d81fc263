"""IDRS worst-case bound for an r-Lipschitz log-sigma (reference §3.2, §7.13)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.stats import ncx2, norm
from torch import nn

from robustcore.smoothing.lipschitz_sigma import (
    KnnSigma,
    certify_lipschitz_sigma,
    lipschitz_sigma_radius,
    worst_case_pb,
)

torch.set_num_threads(1)


def _worst_ball(d, s0, s1, p, N):
    """Centre offset (along delta) and squared radius of the Neyman-Pearson ball."""
    c = d * s0**2 / (s0**2 - s1**2)
    lam0 = s0**2 * d**2 / (s0**2 - s1**2) ** 2
    return c, s0**2 * ncx2.ppf(p, N, lam0)


@pytest.mark.parametrize("s1", [0.8, 1.25])
def test_worst_case_matches_monte_carlo_of_the_np_set(s1):
    # N=5, sigma0=1, d=0.7, p_B=0.05: reference value 0.1943 for sigma1 = 0.8 (MC 0.1940).
    N, s0, d, p_b = 5, 1.0, 0.7, 0.05
    xi = float(worst_case_pb(d, s0, s1, p_b, N)[0])
    if s1 == 0.8:
        assert xi == pytest.approx(0.1943, abs=2e-4)
    # Build the worst set explicitly and measure it by Monte Carlo (independent of the ncx2 algebra).
    # sigma1 < sigma0: the B-set is the ball; sigma1 > sigma0: the A-set (mass 1 - p_B) is the ball.
    p_ball = p_b if s1 < s0 else 1 - p_b
    c, t = _worst_ball(d, s0, s1, p_ball, N)
    g = torch.Generator().manual_seed(0)
    m = 400_000
    e0 = torch.randn(m, N, generator=g, dtype=torch.float64) * s0
    e1 = torch.randn(m, N, generator=g, dtype=torch.float64) * s1
    e1[:, 0] += d  # x1 = x0 + d e_1, x0 = 0
    centre = torch.zeros(N, dtype=torch.float64)
    centre[0] = c
    in0 = ((e0 - centre) ** 2).sum(1) <= t
    in1 = ((e1 - centre) ** 2).sum(1) <= t
    se = 0.5 / np.sqrt(m)
    assert in0.double().mean().item() == pytest.approx(p_ball, abs=5 * se)
    mass_b_at_x1 = in1.double().mean().item() if s1 < s0 else 1 - in1.double().mean().item()
    assert mass_b_at_x1 == pytest.approx(xi, abs=5 * se)


@pytest.mark.parametrize("s1", [0.7, 0.95, 1.0, 1.05, 1.4])
def test_worst_case_dominates_half_spaces(s1):
    # Any set with x0-mass p_B gives at most xi at x1; half-spaces along delta are Cohen's worst sets.
    N, s0, d, p_b = 64, 1.0, 0.5, 0.01
    xi = float(worst_case_pb(d, s0, s1, p_b, N)[0])
    half = norm.cdf((d - s0 * norm.isf(p_b)) / s1)
    assert xi >= half - 1e-12
    if s1 == 1.0:
        assert xi == pytest.approx(norm.cdf(norm.ppf(p_b) + d / s0), rel=1e-12)


def test_continuity_at_equal_sigmas():
    N, s0, d, p_b = 64, 0.5, 0.3, 0.01
    cohen = norm.cdf(norm.ppf(p_b) + d / s0)
    near = worst_case_pb(d, s0, s0 * np.array([1 - 1e-4, 1 + 1e-4]), p_b, N)
    assert np.allclose(near, cohen, atol=5e-5)


@pytest.mark.parametrize("N,p_b,band", [(3072, 1e-3, (0.9608, 1.0397)), (784, 1e-2, (0.942, 1.059))])
def test_curse_of_dimensionality_band_at_zero_distance(N, p_b, band):
    # Reference §3.2 table: at d -> 0, xi < 1/2 only for sigma1/sigma0 inside this band.
    f = lambda ratio: worst_case_pb(0.0, 1.0, ratio, p_b, N)[0] - 0.5
    lo = brentq(f, 0.5, 0.999999)
    hi = brentq(f, 1.000001, 2.0)
    assert lo == pytest.approx(band[0], abs=1.5e-3) and hi == pytest.approx(band[1], abs=1.5e-3)


def test_quasi_convex_in_sigma1_so_band_endpoints_carry_the_max():
    # Away from the sliver |ln(sigma1/sigma0)| < 1e-5 (where the safe fallback applies), xi first
    # falls then rises in sigma1: a single sign change of the slope, so the max is at an endpoint.
    N, s0, p_b = 64, 0.5, 0.01
    for d in [0.05, 0.3, 0.8]:
        for r in [0.1, 0.5]:
            lo, hi = s0 * np.exp(-r * d), s0 * np.exp(r * d)
            grid = np.concatenate([np.geomspace(lo, s0 * (1 - 1e-4), 200), np.geomspace(s0 * (1 + 1e-4), hi, 200)])
            fine = worst_case_pb(d, s0, grid, p_b, N)
            assert fine.max() <= max(fine[0], fine[-1]) + 1e-12
            changes = np.diff(np.sign(np.diff(fine)))
            assert np.all(changes[changes != 0] > 0) and np.count_nonzero(changes) <= 1


@pytest.mark.slow  # five radius scans, one with a band near sigma0 (slow ncx2 evaluations)
def test_radius_below_cohen_monotone_in_r_and_tends_to_cohen():
    s0, p_a, N = 0.5, 0.99, 64
    cohen = s0 * norm.ppf(p_a)
    rs = [1.0, 0.3, 0.1, 0.01, 0.001]
    radii = [lipschitz_sigma_radius(s0, p_a, N, r, n_grid=10, bisect_steps=12) for r in rs]
    assert all(R <= cohen + 1e-12 for R in radii)
    assert all(a <= b + 1e-9 for a, b in zip(radii, radii[1:]))
    assert radii[0] < 0.5 * cohen  # a large r costs most of the radius in 64 dimensions
    assert abs(radii[-1] - cohen) < 2e-3 * cohen
    assert lipschitz_sigma_radius(s0, p_a, N, 0.0) == pytest.approx(cohen, rel=1e-12)
    assert lipschitz_sigma_radius(s0, 0.4, N, 0.1) == 0.0


def test_radius_is_the_pass_fail_boundary_and_pass_is_monotone_in_d():
    from robustcore.smoothing.lipschitz_sigma import _sup_xi

    s0, p_a, N, r = 0.5, 0.99, 64, 0.3
    R = lipschitz_sigma_radius(s0, p_a, N, r)
    ds = np.linspace(1e-3, 1.2 * s0 * norm.ppf(p_a), 30)
    sup = np.array([_sup_xi(d, s0, 1 - p_a, N, r, "log") for d in ds])
    ok = sup < 0.5  # (a failing bound may stop early once it reaches 1/2; only pass/fail matters)
    assert not np.any(ok[1:] & ~ok[:-1]) and np.all(np.diff(sup[ok]) >= -1e-12)
    assert _sup_xi(R, s0, 1 - p_a, N, r, "log") < 0.5 <= _sup_xi(R * 1.001, s0, 1 - p_a, N, r, "log")


def test_additive_band_also_reduces_to_cohen():
    cohen = 0.25 * norm.ppf(0.999)
    kw = dict(kind="additive", n_grid=10, bisect_steps=14)
    assert lipschitz_sigma_radius(0.25, 0.999, 64, 1e-3, **kw) == pytest.approx(cohen, rel=1e-3)
    assert lipschitz_sigma_radius(0.25, 0.999, 64, 0.2, **kw) < cohen


def test_knn_sigma_log_is_r_lipschitz():
    rng = np.random.default_rng(0)
    X = rng.random((200, 64))
    fn = KnnSigma(X, sigma_base=0.3, r=0.7, k=5)
    A, B = rng.random((500, 64)), rng.random((500, 64)) * 0.3
    B = A + B * rng.choice([-1, 1], size=B.shape)
    lhs = np.abs(np.log(fn(A)) - np.log(fn(B)))
    rhs = 0.7 * np.linalg.norm(A - B, axis=1)
    assert np.all(lhs <= rhs + 1e-10)
    assert np.max(lhs / rhs) > 0.3  # not vacuous: the bound is approached


def test_certify_lipschitz_sigma_on_linear_model():
    class Lin(nn.Module):
        def forward(self, z):
            m = z.flatten(1)[:, 0] - 0.2
            return torch.stack([-m, m], 1)

    x = torch.full((1, 2, 2), 0.6)  # distance 0.4 to the boundary z_0 = 0.2
    X_ref = np.random.default_rng(1).random((50, 4))
    cert = certify_lipschitz_sigma(Lin(), x, KnnSigma(X_ref, 0.2, r=0.2, k=3), r=0.2, num_classes=2,
                                   n0=50, n=2000, alpha=1e-3, seed=0)
    assert cert.label == 1
    assert 0 < cert.radius <= cert.cohen_radius <= 0.4 + 1e-9


def test_bad_input():
    with pytest.raises(ValueError, match="r must"):
        lipschitz_sigma_radius(0.5, 0.9, 64, -1.0)
    with pytest.raises(ValueError, match="kind"):
        lipschitz_sigma_radius(0.5, 0.9, 64, 0.1, kind="cubic")
    with pytest.raises(ValueError):
        worst_case_pb(-1.0, 0.5, 0.4, 0.1, 10)


@pytest.mark.slow  # ~25 ncx2 radius scans (6-8 s each kind on a loaded 2-core machine)
@pytest.mark.parametrize("kind", ["log", "additive"])
def test_radius_non_increasing_in_r_on_a_fine_grid_including_midpoint_cases(kind):
    """Issue 12: pass/fail must not depend on whether a band's grid point rounds to sigma0. On a fine
    r grid (including r with r*d hitting grid boundaries and tiny r whose band lies inside the sliver)
    the radius never increases with r, stays below Cohen and tends to it."""
    s0, p_a, N = 0.5, 0.99, 64
    cohen = s0 * norm.ppf(p_a)
    rs = np.concatenate([[0.0, 1e-7, 3e-6], np.geomspace(0.02, 2.0, 9)])
    radii = [lipschitz_sigma_radius(s0, p_a, N, float(r), kind=kind, n_grid=8, bisect_steps=10) for r in rs]
    assert radii[0] == pytest.approx(cohen, rel=1e-12)
    assert all(R <= cohen + 1e-12 for R in radii)
    assert all(b <= a + 1e-12 for a, b in zip(radii, radii[1:])), radii
    assert radii[1] == pytest.approx(cohen, rel=1e-3)  # r -> 0 recovers Cohen (continuity at the sliver)


def test_pass_fail_monotone_in_d_and_in_the_band_around_grid_points():
    from robustcore.smoothing.lipschitz_sigma import _EQUAL_TOL, _log_grid, _sup_xi

    s0, p_b, N = 0.5, 0.01, 64
    T = _log_grid(8)
    # bands whose half-width sits just below, at and just above grid points, and around the sliver edge
    ws = np.sort(np.concatenate([T[:12] * (1 - 1e-9), T[:12], T[:12] * (1 + 1e-9),
                                 [_EQUAL_TOL * 0.5, _EQUAL_TOL * (1 - 1e-12)]]))
    d = 0.8
    sups = [_sup_xi(d, s0, p_b, N, w / d, "log") for w in ws]
    assert all(b >= a - 1e-15 for a, b in zip(sups, sups[1:]))  # (all < 1/2 here: exact bounds)
    assert max(sups) < 0.5
    for r in (1e-6, 0.3):
        ds = np.linspace(1e-4, s0 * norm.isf(p_b), 25)
        sup = np.array([_sup_xi(float(x), s0, p_b, N, r, "log") for x in ds])
        passed = sup < 0.5
        # once a distance fails, every larger distance fails
        assert not np.any(passed[1:] & ~passed[:-1])
        assert np.all(np.diff(sup[passed]) >= -1e-12)


def test_certificate_status_and_verdict():
    class Lin(nn.Module):
        def forward(self, z):
            m = z.flatten(1)[:, 0] - 0.2
            return torch.stack([-m, m], 1)

    x = torch.full((1, 2, 2), 0.6)
    X_ref = np.random.default_rng(1).random((50, 4))
    ok = certify_lipschitz_sigma(Lin(), x, KnnSigma(X_ref, 0.2, r=0.2, k=3), r=0.2, num_classes=2, n0=50, n=2000,
                                 alpha=1e-3, seed=0)
    assert ok.status == "certified" and ok.verdict.startswith("Certified") and ok.label == 1
    assert ok.purpose == "lipschitz" and ok.seed == 0 and ok.stream_seed not in (None, 0)
    # a huge r leaves almost nothing of the radius (only distances where r d is tiny survive)
    bad = certify_lipschitz_sigma(Lin(), x, KnnSigma(X_ref, 0.2, r=0.2, k=3), r=1e4, num_classes=2, n0=50,
                                  n=2000, alpha=1e-3, seed=0)
    assert bad.radius < 1e-3 * bad.cohen_radius and bad.cohen_label == 1
    # the Cohen test itself abstains on the boundary
    on = certify_lipschitz_sigma(Lin(), torch.full((1, 2, 2), 0.2), KnnSigma(X_ref, 0.2, r=0.2, k=3), r=0.2,
                                 num_classes=2, n0=50, n=200, alpha=1e-3, seed=0)
    assert on.status == "abstain" and on.cohen_label == -1 and "certified no class" in on.verdict
