"""Per-layer operator norms against dense matrices / scipy, and the bound against Jacobians."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from robustcore.clustr.lipschitz import (
    _conv_fft_bound,
    layer_operator_norm,
    lipschitz_lower_bound,
    lipschitz_upper_bound,
)


def _conv_matrix_by_hand(conv: nn.Conv2d, shape):
    """The conv's matrix, column by column, from impulse inputs through nn.functional.conv2d."""
    n = int(np.prod(shape))
    cols = []
    for k in range(n):
        e = torch.zeros(n, dtype=torch.float64)
        e[k] = 1
        out = nn.functional.conv2d(e.view(1, *shape), conv.weight.detach().double(), None, conv.stride, conv.padding)
        cols.append(out.flatten().numpy())
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (1, 0)])
def test_conv_norm_exact_against_dense_svd(stride, padding):
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, stride=stride, padding=padding)
    norm, out_shape, method = layer_operator_norm(conv, (2, 6, 6))
    M = _conv_matrix_by_hand(conv, (2, 6, 6))
    assert norm == pytest.approx(scipy.linalg.svdvals(M)[0], rel=1e-10)
    assert method.startswith("exact")
    # the FFT bound used for large inputs is an upper bound of the exact value
    fft, fft_shape = _conv_fft_bound(conv, (2, 6, 6))
    assert fft >= norm * (1 - 1e-10) and fft_shape == out_shape


def test_linear_and_product_bound_dominate_jacobians():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3))
    lb = lipschitz_upper_bound(net, (1, 4, 4))
    want = np.prod([scipy.linalg.svdvals(m.weight.detach().double().numpy())[0] for m in (net[1], net[3])])
    assert lb.bound == pytest.approx(want, rel=1e-10) and lb.all_exact
    X = torch.rand(64, 1, 4, 4)
    low = lipschitz_lower_bound(net, X)
    assert 0 < low <= lb.bound * (1 + 1e-6)
    # finite differences never beat the upper bound
    d = 1e-3 * torch.randn(64, 1, 4, 4)
    with torch.no_grad():
        ratio = (net(X + d) - net(X)).norm(dim=1) / d.flatten(1).norm(dim=1)
    assert float(ratio.max()) <= lb.bound * (1 + 1e-5)


def test_cnn_bound_and_unsupported_layer():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 5))
    lb = lipschitz_upper_bound(net, (1, 8, 8))
    assert lb.bound >= lipschitz_lower_bound(net, torch.rand(32, 1, 8, 8))
    with pytest.raises(ValueError, match="Cannot bound"):
        lipschitz_upper_bound(nn.Sequential(nn.Softmax(dim=1)), (3,))
