"""Kernel conventions against OpenCV and scikit-image (independent implementations)."""
import math

import numpy as np
import pytest
import torch

from robustcore.gabor import gabor_kernel, paper_gabor_kernels, paper_to_opencv

cv2 = pytest.importorskip("cv2")
skfilters = pytest.importorskip("skimage.filters")

RNG = np.random.default_rng(0)
DRAWS = [
    (int(RNG.choice([3, 5, 7, 11, 15])), float(RNG.uniform(0.5, 5)), float(RNG.uniform(-np.pi, np.pi)),
     float(RNG.uniform(2, 12)), float(RNG.uniform(-np.pi, np.pi)), float(RNG.uniform(0.3, 2.0)))
    for _ in range(25)
]


@pytest.mark.parametrize("size,sigma,theta,lambd,psi,gamma", DRAWS)
def test_matches_opencv_rotated_180(size, sigma, theta, lambd, psi, gamma):
    ours = gabor_kernel(size, sigma, theta, lambd, psi, gamma)
    ref = cv2.getGaborKernel((size, size), sigma, theta, lambd, gamma, psi, ktype=cv2.CV_64F)
    np.testing.assert_allclose(ours, ref[::-1, ::-1], atol=1e-12)


@pytest.mark.parametrize("size,sigma,theta,lambd,psi,gamma", DRAWS[:12])
def test_matches_skimage_real_part(size, sigma, theta, lambd, psi, gamma):
    ref = skfilters.gabor_kernel(1.0 / lambd, theta=theta, sigma_x=sigma, sigma_y=sigma / gamma, offset=psi, n_stds=2)
    h, w = ref.shape
    big = gabor_kernel(max(h, w), sigma, theta, lambd, psi, gamma)
    c = (max(h, w) - 1) // 2
    crop = big[c - (h - 1) // 2 : c + (h - 1) // 2 + 1, c - (w - 1) // 2 : c + (w - 1) // 2 + 1]
    np.testing.assert_allclose(crop / (2 * np.pi * sigma * sigma / gamma), ref.real, atol=1e-12)


def test_closed_form_at_known_points():
    # Centre pixel is cos(psi); along the carrier axis at one wavelength the phase returns.
    k = gabor_kernel(21, sigma=3.0, theta=0.0, lambd=5.0, psi=0.3, gamma=0.5)
    assert k[10, 10] == pytest.approx(math.cos(0.3))
    assert k[10, 15] == pytest.approx(math.exp(-25 / 18) * math.cos(2 * math.pi + 0.3))
    # y offset only touches the envelope (gamma^2 y^2), not the carrier.
    assert k[14, 10] == pytest.approx(math.exp(-0.25 * 16 / 18) * math.cos(0.3))


def test_paper_kernels_equal_opencv_convention():
    rng = np.random.default_rng(1)
    for k in (3, 5, 7, 9):
        sig, gam, lam, psi = rng.normal(size=4) * np.array([2.0, 1.0, 4.0, 1.0])
        thetas = np.array([0.0, 0.9, 2.5, 4.0])
        bank = paper_gabor_kernels(*(torch.tensor([v], dtype=torch.float64) for v in (sig, gam, lam, psi)),
                                   torch.tensor(thetas), k).numpy()
        for r, th in enumerate(thetas):
            cvp = paper_to_opencv(sig, gam, lam, psi, th, k)
            if lam < 0:  # cos(-a + psi) = cos(a - psi): flip the sign of the phase
                cvp["lambd"], cvp["psi"] = -cvp["lambd"], -psi
            ref = gabor_kernel(k, **cvp)
            np.testing.assert_allclose(bank[r, 0], ref, atol=1e-10)


@pytest.mark.parametrize("kwargs", [
    dict(size=0, sigma=1, theta=0, lambd=2), dict(size=5, sigma=-1, theta=0, lambd=2),
    dict(size=5, sigma=1, theta=float("nan"), lambd=2), dict(size=5, sigma=1, theta=0, lambd=0),
    dict(size=2.5, sigma=1, theta=0, lambd=2),
])
def test_bad_input(kwargs):
    with pytest.raises(ValueError):
        gabor_kernel(**kwargs)
