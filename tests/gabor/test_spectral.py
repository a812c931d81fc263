"""Exact spectral norms: FFT vs the explicitly built matrix, vs power iteration."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from robustcore.gabor import (
    bank_spectral_norm,
    circular_conv_matrix,
    conv_spectral_norm,
    conv_spectral_norm_power,
    per_filter_spectral_norms,
)


@pytest.mark.parametrize("c_out,c_in,k,n,m,seed", [
    (1, 1, 3, 5, 5, 0), (3, 2, 3, 5, 6, 1), (2, 3, 5, 6, 4, 2), (4, 1, 7, 4, 4, 3),  # 7 > 4: taps alias
    (1, 1, 5, 3, 3, 4), (2, 2, 2, 5, 5, 5),
])
def test_fft_equals_explicit_matrix_svd(c_out, c_in, k, n, m, seed):
    w = np.random.default_rng(seed).normal(size=(c_out, c_in, k, k))
    mat = circular_conv_matrix(w, (n, m))
    ref = np.linalg.svd(mat, compute_uv=False)[0]
    assert conv_spectral_norm(w, (n, m)) == pytest.approx(ref, rel=1e-10)


def test_explicit_matrix_is_the_circular_convolution():
    # The matrix is built from the definition; check it against torch's circular conv once.
    w = np.random.default_rng(7).normal(size=(2, 3, 3, 3))
    x = np.random.default_rng(8).normal(size=(3, 5, 6))
    y = circular_conv_matrix(w, (5, 6)) @ x.ravel()
    xt = F.pad(torch.tensor(x)[None], (0, 2, 0, 2), mode="circular")  # taps at +0..+2
    ref = F.conv2d(xt, torch.tensor(w))[0].numpy()
    np.testing.assert_allclose(y.reshape(2, 5, 6), ref, atol=1e-12)


@pytest.mark.parametrize("c_out,c_in,seed", [(1, 1, 0), (4, 1, 1), (3, 2, 2)])
def test_fft_equals_power_iteration_circular(c_out, c_in, seed):
    w = np.random.default_rng(seed).normal(size=(c_out, c_in, 3, 3))
    exact = conv_spectral_norm(w, (8, 8))
    est = conv_spectral_norm_power(w, (8, 8), padding="circular", iters=3000, tol=1e-13, seed=seed)
    assert est <= exact * (1 + 1e-9)  # power iteration never overshoots (Rayleigh quotient)
    assert est == pytest.approx(exact, rel=1e-4)


def test_zero_padding_power_iteration():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(2, 1, 5, 5))
    n, k = 6, 5
    est = conv_spectral_norm_power(w, (n, n), padding="zeros", iters=3000, tol=1e-13)
    # Reference: the zero-padded operator built column by column, then its SVD.
    eye = torch.eye(n * n, dtype=torch.float64).reshape(n * n, 1, n, n)
    cols = F.conv2d(eye, torch.tensor(w), padding=k // 2).reshape(n * n, -1).T
    ref = np.linalg.svd(cols.numpy(), compute_uv=False)[0]
    assert est == pytest.approx(ref, rel=1e-4)
    # A 'same' zero-padded conv is a compression of the circular conv on n + k - 1 pixels.
    assert ref <= conv_spectral_norm(w, (n + k - 1, n + k - 1)) * (1 + 1e-12)


def test_bank_norm_is_root_sum_square_of_spectra():
    bank = np.random.default_rng(4).normal(size=(6, 1, 5, 5))
    spec = np.fft.fft2(bank[:, 0], s=(16, 16))
    ref = np.sqrt((np.abs(spec) ** 2).sum(0)).max()
    assert bank_spectral_norm(bank, 16) == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(per_filter_spectral_norms(bank, 16), np.abs(spec).reshape(6, -1).max(1), rtol=1e-12)
    # Each single filter is bounded by its l1 norm (triangle inequality on the DFT).
    assert np.all(per_filter_spectral_norms(bank, 16) <= np.abs(bank).sum((1, 2, 3)) + 1e-12)


@pytest.mark.parametrize("bad", [np.full((1, 1, 3, 3), np.nan), np.zeros((3,)), np.zeros((1, 1, 1, 3, 3))])
def test_bad_weight(bad):
    with pytest.raises(ValueError):
        conv_spectral_norm(bad, 8)


def test_bad_size():
    with pytest.raises(ValueError):
        conv_spectral_norm(np.ones((1, 1, 3, 3)), (0, 4))


@pytest.mark.parametrize("c_out,c_in,k,n,m,seed", [(1, 1, 5, 6, 6, 0), (2, 3, 3, 5, 7, 1), (3, 1, 7, 4, 5, 2)])
def test_fft_zero_padding_power_iteration_equals_explicit_svd(c_out, c_in, k, n, m, seed):
    from robustcore.gabor import zero_pad_spectral_norm

    w = np.random.default_rng(seed).normal(size=(c_out, c_in, k, k))
    eye = torch.eye(c_in * n * m, dtype=torch.float64).reshape(-1, c_in, n, m)
    cols = F.conv2d(eye, torch.tensor(w), padding=k // 2).reshape(c_in * n * m, -1).T
    ref = np.linalg.svd(cols.numpy(), compute_uv=False)[0]
    est = zero_pad_spectral_norm(w, (n, m), iters=5000, tol=1e-14, seed=seed)
    assert est <= ref * (1 + 1e-9)
    assert est == pytest.approx(ref, rel=1e-4)
    assert est == pytest.approx(conv_spectral_norm_power(w, (n, m), padding="zeros", iters=5000, tol=1e-14),
                                rel=1e-4)
