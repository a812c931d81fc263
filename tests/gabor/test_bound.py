"""The closed-form bound: hand counts, independence of lambda/psi, and soundness over many draws."""
import numpy as np
import pytest
import sympy as sp
import torch

from robustcore.gabor import (
    BOUND_EXPR,
    GaborConv2d,
    bound_latex,
    closed_form_bound,
    filter_lipschitz_bounds,
    filter_lipschitz_bounds_torch,
    grid_constants,
    lipschitz_report,
    lipschitz_upper_bound,
    per_filter_spectral_norms,
)


def _paper_kernels_np(k, sigma, gamma, lam, psi, theta, alpha):
    """Direct numpy evaluation of the paper's eq. (1) for arrays of draws (D,) -> (D, k, k)."""
    t = np.linspace(-1, 1, k) if k > 1 else np.zeros(1)
    x, y = np.meshgrid(t, t, indexing="xy")
    c, s = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    xr, yr = x * c - y * s, x * s + y * c
    e = lambda v: v[:, None, None]  # noqa: E731
    return e(alpha) * np.exp(-e(sigma) ** 2 * (xr**2 + e(gamma) ** 2 * yr**2)) * np.cos(e(lam) * xr + e(psi))


def test_grid_constants_by_hand():
    c = grid_constants(3, [0.0, np.pi / 4])
    # theta = 0: x' in {-1, 0, 1}; theta = pi/4: x' = (x - y)/sqrt2 in {0, +-1/sqrt2, +-sqrt2}.
    np.testing.assert_allclose(c["NX"], [3, 5])
    np.testing.assert_allclose(c["m"], [1.0, 1 / np.sqrt(2)])
    np.testing.assert_allclose(c["NY"], [3, 5])
    np.testing.assert_allclose(c["n"], [1.0, 1 / np.sqrt(2)])
    one = grid_constants(1, [0.3])  # one pixel: both factors are exactly 1
    assert closed_form_bound(2.0, 1.0, -1.5, 0.3, 1) == pytest.approx(1.5)
    assert one["NX"][0] == 0


def test_bound_formula_is_the_sympy_expression():
    s = {str(v): v for v in BOUND_EXPR.free_symbols}
    val = float(BOUND_EXPR.subs({s["sigma"]: 1.3, s["gamma"]: 0.7, s["alpha"]: -2.0, s["|X'|"]: 5,
                                 s["m_*"]: 0.5, s["|Y'|"]: 5, s["n_*"]: 0.5}))
    ref = 2.0 * (1 + 5 * np.exp(-1.3**2 * 0.25)) * (1 + 5 * np.exp(-1.3**2 * 0.49 * 0.25))
    assert val == pytest.approx(ref)
    assert closed_form_bound(1.3, 0.7, -2.0, 0.0, 5) == pytest.approx(ref)  # k=5: step 0.5
    assert "alpha" in bound_latex() and "sigma" in bound_latex()


def test_bound_ignores_lambda_and_psi():
    a, b = GaborConv2d(1, 4, 5, families=3, seed=0), GaborConv2d(1, 4, 5, families=3, seed=0)
    with torch.no_grad():
        b.lambd.mul_(-7.0).add_(3.0)
        b.psi.add_(1.234)
    assert not torch.allclose(a.kernels(), b.kernels())
    np.testing.assert_array_equal(filter_lipschitz_bounds(a), filter_lipschitz_bounds(b))


def test_bound_above_exact_norm_over_thousands_of_draws():
    rng = np.random.default_rng(2026)
    worst = np.inf
    total = 0
    for k in (1, 2, 3, 4, 5, 7, 9):
        D = 600
        # Mix tiny, typical and large inverse widths: loose, middle and nearly tight regimes.
        sigma = rng.normal(size=D) * rng.choice([0.05, 1.0, 4.0, 20.0], size=D)
        gamma = rng.normal(size=D) * 1.5
        lam = rng.normal(size=D) * 6.0
        psi = rng.uniform(-np.pi, np.pi, size=D)
        theta = rng.uniform(0, 2 * np.pi, size=D)
        theta[: D // 4] = 2 * np.pi * rng.integers(0, 8, size=D // 4) / 8  # the layer's own angles
        alpha = rng.normal(size=D) * 2.0
        bank = _paper_kernels_np(k, sigma, gamma, lam, psi, theta, alpha)
        bound = closed_form_bound(sigma, gamma, alpha, theta, k)
        for n in (8, 16, 32, 64):
            exact = per_filter_spectral_norms(bank, n)
            assert np.all(exact <= bound * (1 + 1e-12) + 1e-12), (k, n)
            worst = min(worst, float(np.min((bound + 1e-300) / np.maximum(exact, 1e-300))))
        # The l1 norm sits between the two (step 1 of the proof).
        l1 = np.abs(bank).sum((1, 2))
        assert np.all(l1 <= bound * (1 + 1e-12) + 1e-12)
        total += D
    assert total >= 4000
    assert worst >= 1.0


def test_layer_bound_above_exact_quantities():
    for seed, (cin, cout, k) in enumerate([(1, 16, 5), (3, 8, 3), (2, 5, 7)]):
        layer = GaborConv2d(cin, cout, k, families=2, orientations=4, seed=seed)
        with torch.no_grad():
            layer.sigma.mul_(3.0)  # a tighter regime as well as the default one
        rep = lipschitz_report(layer, 16)
        assert rep["linear_exact"] <= rep["layer_exact_product"] * (1 + 1e-9)
        assert rep["layer_exact_product"] <= rep["layer_bound"] * (1 + 1e-9)
        assert rep["bank_exact"] <= rep["bank_bound"] * (1 + 1e-9)
        assert np.all(rep["filter_exact"] <= rep["filter_bound"] * (1 + 1e-9))
        assert rep["layer_bound"] == pytest.approx(lipschitz_upper_bound(layer))


def test_layer_bound_holds_for_the_nonlinear_layer():
    # Empirical Lipschitz ratios of the actual layer (with its ReLU, zero padding) on random pairs
    # and along gradient-ascent directions never exceed ||W|| * exact bank norm <= the closed form.
    torch.manual_seed(0)
    layer = GaborConv2d(1, 8, 5, families=2, orientations=4, seed=3).double()
    rep = lipschitz_report(layer, 8 + 4)  # zero-padded 8x8 is a compression of circular 12x12
    x = torch.rand(64, 1, 8, 8, dtype=torch.float64)
    d = torch.randn(64, 1, 8, 8, dtype=torch.float64) * 1e-3
    with torch.no_grad():
        ratio = ((layer(x + d) - layer(x)).flatten(1).norm(dim=1) / d.flatten(1).norm(dim=1)).max().item()
    assert ratio <= rep["layer_exact_product"] * (1 + 1e-9) <= rep["layer_bound"] * (1 + 1e-9)


def test_torch_bound_equals_numpy_bound():
    layer = GaborConv2d(1, 16, 5, families=2, seed=1)
    np.testing.assert_allclose(filter_lipschitz_bounds_torch(layer).detach().numpy(),
                               filter_lipschitz_bounds(layer), rtol=1e-5)


def test_bad_parameters():
    with pytest.raises(ValueError):
        closed_form_bound(np.nan, 1.0, 1.0, 0.0, 5)
    with pytest.raises(TypeError):
        filter_lipschitz_bounds("not a layer")


def test_float32_orientations_keep_the_axis_aligned_counts():
    # The layer stores theta in float32: pi/2 must still give k distinct coordinates, not k^2.
    th = np.array([0.0, np.pi / 2, np.pi, 3 * np.pi / 2], dtype=np.float32).astype(np.float64)
    c = grid_constants(5, th)
    np.testing.assert_allclose(c["NX"], 5)
    np.testing.assert_allclose(c["m"], 0.5, rtol=1e-6)
    layer = GaborConv2d(1, 4, 5, families=1, orientations=4, seed=0)
    lf = filter_lipschitz_bounds(layer)
    np.testing.assert_allclose(lf, lf[0], rtol=1e-5)  # all four axis-aligned kernels: the same bound
    rep = lipschitz_report(layer, 16)
    assert np.all(rep["filter_exact"] <= lf * (1 + 1e-6))


def test_bound_holds_for_float32_layers_over_many_seeds():
    for seed in range(40):
        layer = GaborConv2d(1, 8, int(3 + 2 * (seed % 4)), families=2, orientations=int(1 + seed % 12), seed=seed)
        with torch.no_grad():
            layer.sigma.mul_(float(1 + seed % 5))
            layer.alpha.normal_(generator=torch.Generator().manual_seed(seed))
        exact = per_filter_spectral_norms(layer.kernels().detach().double().numpy(), 32)
        assert np.all(exact <= filter_lipschitz_bounds(layer) * (1 + 1e-6) + 1e-6)
