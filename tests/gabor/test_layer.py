"""GaborConv2d: structure against an independent scipy reference, drop-in use, gradients."""
import numpy as np
import pytest
import torch
from scipy.signal import correlate2d

from robustcore.gabor import GaborConv2d, orientations_for
from robustcore.nets import DigitsCNN


def test_bank_shape_and_orientations():
    layer = GaborConv2d(1, 16, 5, families=3, orientations=8)
    assert layer.kernels().shape == (24, 1, 5, 5)
    np.testing.assert_allclose(layer.thetas.numpy(), 2 * np.pi * np.arange(8) / 8, rtol=1e-6)
    np.testing.assert_allclose(orientations_for(4), [0, np.pi / 2, np.pi, 3 * np.pi / 2])
    # Orientation r and r + R/2 differ by pi: x' -> -x', so with psi = 0 the kernels coincide.
    with torch.no_grad():
        layer.psi.zero_()
    k = layer.kernels().detach()
    torch.testing.assert_close(k[0], k[4], atol=1e-6, rtol=0)


@pytest.mark.parametrize("padding_mode", ["zeros", "circular"])
def test_forward_matches_scipy_reference(padding_mode):
    torch.manual_seed(0)
    layer = GaborConv2d(2, 3, 3, families=1, orientations=4, padding_mode=padding_mode, seed=5).double()
    x = torch.rand(2, 2, 6, 7, dtype=torch.float64)
    out = layer(x).detach().numpy()
    bank = layer.kernels().detach().numpy()[:, 0]
    W = layer.mix.weight.detach().numpy()[:, :, 0, 0]
    b = layer.mix.bias.detach().numpy()
    boundary = "fill" if padding_mode == "zeros" else "wrap"
    for i in range(2):
        resp = np.stack([correlate2d(x[i, c].numpy(), bank[f], mode="same", boundary=boundary)
                         for c in range(2) for f in range(4)])  # channel-major, as in the paper
        ref = np.einsum("oc,chw->ohw", W, np.maximum(resp, 0)) + b[:, None, None]
        np.testing.assert_allclose(out[i], ref, atol=1e-10)


def test_drop_in_first_layer_and_gradients():
    model = DigitsCNN(first_layer=GaborConv2d(1, 16, 5))
    x = torch.rand(4, 1, 8, 8)
    out = model(x)
    assert out.shape == (4, 10)
    out.sum().backward()
    for name in ("sigma", "gamma", "lambd", "psi", "alpha"):
        g = getattr(model.first, name).grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0, name


def test_bad_construction_and_input():
    with pytest.raises(ValueError):
        GaborConv2d(0, 4, 3)
    with pytest.raises(ValueError):
        GaborConv2d(1, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError):
        GaborConv2d(1, 4, 3)(torch.rand(2, 3, 8, 8))


def test_forward_equals_conv_bank_relu_and_1x1_conv():
    # Reference: the layer written as two torch convolutions (its definition), with and without bias.
    import torch.nn.functional as Fn

    for bias in (True, False):
        layer = GaborConv2d(2, 5, 5, orientations=4, families=2, bias=bias, alpha_init="randn", seed=3)
        x = torch.rand(3, 2, 12, 12)
        z = torch.relu(Fn.conv2d(x, layer.kernels().repeat(2, 1, 1, 1), padding=2, groups=2))
        ref = Fn.conv2d(z, layer.mix.weight, layer.mix.bias)
        torch.testing.assert_close(layer(x), ref, rtol=1e-5, atol=1e-5)


def test_seeded_layer_ignores_global_rng_and_matches_torch_default_init():
    import torch
    from torch import nn

    from robustcore.gabor import GaborConv2d

    torch.manual_seed(123)
    a = GaborConv2d(2, 5, 5, families=2, orientations=4, seed=11)
    torch.rand(1000)  # the global stream moves on between the two constructions
    b = GaborConv2d(2, 5, 5, families=2, orientations=4, seed=11)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.mix.weight, GaborConv2d(2, 5, 5, families=2, orientations=4, seed=12).mix.weight)
    # Independent reference: torch's own Conv2d initialisation right after manual_seed(seed) (what the
    # saved reproduction's build_variant gets), and the global stream is consumed as by a plain Conv2d.
    torch.manual_seed(11)
    ref = nn.Conv2d(2 * 8, 5, 1)
    after_ref = torch.rand(4)
    torch.manual_seed(11)
    c = GaborConv2d(2, 5, 5, families=2, orientations=4, seed=11)
    assert torch.equal(c.mix.weight, ref.weight) and torch.equal(c.mix.bias, ref.bias)
    assert torch.equal(torch.rand(4), after_ref)
