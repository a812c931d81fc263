"""The nearest-centre certificates against brute force, an independent QP solver and sampling."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from robustcore.clustr.certificate import (
    exact_center_radius,
    nearest_center_certificate,
    nearest_center_predict,
    nearest_center_radius,
)


def _predict(points: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Independent nearest-centre rule on (..., D) points (plain numpy, no shared code)."""
    d = np.linalg.norm(points[..., None, :] - centers, axis=-1)
    return labels[np.argmin(d, axis=-1)]


def _directions(D: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if D == 2:
        a = np.linspace(0, 2 * np.pi, n, endpoint=False)
        return np.stack([np.cos(a), np.sin(a)], axis=1)
    # Fibonacci sphere: near-uniform directions in 3-D
    k = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * k / n)
    theta = np.pi * (1 + 5**0.5) * k
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)


def _first_exit(r, dirs, centers, labels, tmax, n_t=200):
    """Smallest t with a changed decision along each ray r + t u (grid scan + bisection)."""
    c = _predict(r, centers, labels)
    ts = np.linspace(0.0, tmax, n_t)
    flip = _predict(r + ts[:, None, None] * dirs[None], centers, labels) != c  # (T, U)
    has = flip.any(axis=0)
    k = np.argmax(flip, axis=0)
    lo = ts[np.maximum(k - 1, 0)]
    hi = ts[k]
    for _ in range(40):
        mid = (lo + hi) / 2
        f = _predict(r + mid[:, None] * dirs, centers, labels) != c
        hi = np.where(f, mid, hi)
        lo = np.where(f, lo, mid)
    return np.where(has, hi, np.inf)


def brute_force_radius(r, centers, labels, rng, n_dirs=None, rounds=5):
    """Smallest flipping perturbation found by scanning rays in many directions, then refining the
    best direction by random search in shrinking caps. Every value it returns is a real flip, so
    it can only over-estimate the exact radius."""
    D = r.shape[0]
    n_dirs = n_dirs or (720 if D == 2 else 1500)
    tmax = 2.5 * np.linalg.norm(centers - r, axis=1).max()
    dirs = _directions(D, n_dirs, rng)
    t = _first_exit(r, dirs, centers, labels, tmax)
    best_u, best_t = dirs[np.argmin(t)], t.min()
    cap = 2 * np.pi / n_dirs**(1 / (D - 1)) * 2
    for _ in range(rounds):
        cand = best_u + cap * rng.normal(size=(300, D))
        cand /= np.linalg.norm(cand, axis=1, keepdims=True)
        tc = _first_exit(r, cand, centers, labels, tmax)
        if tc.min() < best_t:
            best_t, best_u = tc.min(), cand[np.argmin(tc)]
        cap /= 3
    return best_t


def _config(rng, D, n_classes, K):
    centers = rng.normal(size=(n_classes * K, D)) * 2.0
    labels = np.repeat(np.arange(n_classes), K)
    z = rng.normal(size=(4, D)) * 1.5
    return z, centers, labels


@pytest.mark.parametrize("D", [2, 3])
def test_one_center_per_class_closed_form_is_exact(D):
    rng = np.random.default_rng(10 + D)
    for _ in range(2):
        z, C, lab = _config(rng, D, n_classes=4, K=1)
        closed = nearest_center_radius(z, C, lab)
        exact = exact_center_radius(z, C, lab)
        np.testing.assert_allclose(closed, exact, rtol=1e-10, atol=1e-12)
        for r, R in zip(z, closed):
            bf = brute_force_radius(r, C, lab, rng)
            assert bf >= R * (1 - 1e-9) - 1e-12  # no flip inside the certified ball
            assert bf <= R * (1 + 1e-4) + 1e-9  # and the bound is tight


@pytest.mark.parametrize("D", [2, 3])
def test_multi_center_exact_radius_matches_brute_force(D):
    rng = np.random.default_rng(20 + D)
    for _ in range(2):
        z, C, lab = _config(rng, D, n_classes=3, K=3)
        exact = exact_center_radius(z, C, lab)
        for r, R in zip(z, exact):
            bf = brute_force_radius(r, C, lab, rng)
            assert bf >= R * (1 - 1e-9) - 1e-12
            assert bf <= R * (1 + 3e-3) + 1e-9


@pytest.mark.parametrize("D", [2, 3, 6])
def test_closed_form_is_a_lower_bound_and_sometimes_loose(D):
    rng = np.random.default_rng(60 + D)
    n_loose = 0
    for _ in range(40):
        z, C, lab = _config(rng, D, n_classes=3, K=3)
        cert = nearest_center_certificate(z, C, lab)
        exact = exact_center_radius(z, C, lab)
        assert np.all(cert.radius <= exact + 1e-10)
        for n in range(z.shape[0]):
            # when the nearest own centre alone determines the boundary (the bisector point is a
            # tie or flip: the rival is at least as close there as every own-class centre), the
            # closed form and the exact QP agree
            y = z[n] + cert.radius[n] * cert.direction[n]
            d = np.linalg.norm(C - y, axis=1)
            if d[cert.rival[n]] <= d[lab == cert.label[n]].min() * (1 + 1e-12):
                assert exact[n] == pytest.approx(cert.radius[n], rel=1e-9, abs=1e-12)
        for n in np.nonzero(cert.radius < exact - 1e-6)[0]:
            # where the closed form is loose, its bisector point does not flip the decision
            y = z[n] + cert.radius[n] * cert.direction[n]
            assert _predict(y, C, lab) == cert.label[n]
            n_loose += 1
    assert n_loose > 0  # the configurations do exercise loose cases


def test_exact_radius_matches_scipy_qp():
    rng = np.random.default_rng(3)
    z, C, lab = _config(rng, 4, n_classes=3, K=3)
    exact = exact_center_radius(z, C, lab)
    pred = _predict(z, C, lab)
    for r, c, R in zip(z, pred, exact):
        own = C[lab == c]
        best = np.inf
        for mj in C[lab != c]:
            A = 2 * (own - mj)
            b = (own**2).sum(1) - mj @ mj
            res = minimize(lambda y: ((y - r) ** 2).sum(), x0=mj, jac=lambda y: 2 * (y - r),
                           constraints=[{"type": "ineq", "fun": lambda y, A=A, b=b: b - A @ y,
                                         "jac": lambda y, A=A: -A}],
                           method="SLSQP", options={"ftol": 1e-12, "maxiter": 500})
            assert np.max(A @ res.x - b) <= 1e-7 * (1 + np.abs(b).max())  # SLSQP's point is feasible
            best = min(best, np.linalg.norm(res.x - r))
        assert R == pytest.approx(best, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("D", [2, 3])
def test_optimal_direction_reaches_boundary_one_center(D):
    rng = np.random.default_rng(30 + D)
    z, C, lab = _config(rng, D, n_classes=5, K=1)
    cert = nearest_center_certificate(z, C, lab)
    for n in range(z.shape[0]):
        R, u = cert.radius[n], cert.direction[n]
        y = z[n] + R * u
        di, dj = np.linalg.norm(y - C[cert.nearest[n]]), np.linalg.norm(y - C[cert.rival[n]])
        assert di == pytest.approx(dj, rel=1e-9)  # on the bisector: the decision boundary
        assert _predict(z[n] + (R + 1e-6) * u, C, lab) != cert.label[n]
        assert _predict(z[n] + (R - 1e-6) * u, C, lab) == cert.label[n]


@pytest.mark.parametrize("D", [2, 3])
def test_exact_boundary_point_is_a_tie_and_flips_beyond(D):
    rng = np.random.default_rng(40 + D)
    z, C, lab = _config(rng, D, n_classes=3, K=3)
    R, Y = exact_center_radius(z, C, lab, return_points=True)
    pred = _predict(z, C, lab)
    for r, c, rad, y in zip(z, pred, R, Y):
        assert np.linalg.norm(y - r) == pytest.approx(rad, rel=1e-9)
        d = np.linalg.norm(C - y, axis=1)
        assert d[lab == c].min() == pytest.approx(d[lab != c].min(), rel=1e-7)  # a tie
        j = np.argmin(np.where(lab != c, d, np.inf))
        eps = 1e-6
        y_out = y + eps * (C[j] - y)  # into the interior of the rival's region
        assert _predict(y_out, C, lab) != c
        assert np.linalg.norm(y_out - r) <= rad + eps * np.linalg.norm(C[j] - y) + 1e-12


@pytest.mark.parametrize("K", [1, 3])
def test_no_random_perturbation_inside_radius_flips(K):
    rng = np.random.default_rng(50 + K)
    for D in (2, 3, 8):
        z, C, lab = _config(rng, D, n_classes=4, K=K)
        R = exact_center_radius(z, C, lab)
        for r, rad in zip(z, R):
            u = rng.normal(size=(20000, D))
            u /= np.linalg.norm(u, axis=1, keepdims=True)
            # half uniform in the ball's radius, half just inside its surface
            t = np.concatenate([rng.uniform(0, rad, 10000), rad * (1 - 1e-7) * np.ones(10000)])
            assert np.all(_predict(r + t[:, None] * u, C, lab) == _predict(r, C, lab))


def test_batched_matches_single_and_accepts_torch():
    import torch

    rng = np.random.default_rng(0)
    z, C, lab = _config(rng, 5, n_classes=3, K=2)
    batched = nearest_center_radius(z, C, lab)
    single = np.array([nearest_center_radius(row, C, lab)[0] for row in z])
    np.testing.assert_allclose(batched, single)
    np.testing.assert_allclose(nearest_center_radius(torch.tensor(z), torch.tensor(C), torch.tensor(lab)), batched)
    np.testing.assert_array_equal(nearest_center_predict(z, C, lab), _predict(z, C, lab))


def test_bad_inputs_raise_value_error():
    C = np.array([[0.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="dimension"):
        nearest_center_radius(np.zeros((2, 3)), C, [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        nearest_center_radius(np.array([[np.nan, 0.0]]), C, [0, 1])
    with pytest.raises(ValueError, match="two classes"):
        nearest_center_radius(np.zeros((1, 2)), C, [0, 0])
    with pytest.raises(ValueError, match="center_labels"):
        nearest_center_radius(np.zeros((1, 2)), C, [0, 1, 2])


def test_coincident_rival_centre_gives_zero_radius():
    C = np.array([[1.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    assert nearest_center_radius(np.array([[0.0, 0.0]]), C, [0, 1, 2])[0] == 0.0
