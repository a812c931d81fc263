"""LeNet of the Gabor paper: layer sizes of the official code, same-size Gabor variant."""
import pytest
import torch
from torch import nn

from robustcore.gabor import GaborConv2d
from robustcore.gabor.lenet import LeNet, gabor_lenet, standard_lenet


def _n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_standard_lenet_sizes_match_official_architecture():
    m = standard_lenet()
    # conv1 1->6 5x5 (156), conv2 6->16 5x5 (2416), fc 256-256-256-10.
    expected = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (256 * 256 + 256) * 2 + (256 * 10 + 10)
    assert _n_params(m) == expected
    assert m.fc1.in_features == 256
    out = m(torch.rand(3, 1, 28, 28))
    assert out.shape == (3, 10)


def test_gabor_lenet_same_shapes_and_differs_only_in_first_layer():
    g, s = gabor_lenet(seed=1), standard_lenet()
    assert isinstance(g.conv1, GaborConv2d)
    assert g.conv1.mix.bias is None and g.conv1.alpha_init == "randn"
    names_g = {k: v.shape for k, v in g.state_dict().items() if not k.startswith("conv1.")}
    names_s = {k: v.shape for k, v in s.state_dict().items() if not k.startswith("conv1.")}
    assert names_g == names_s
    x = torch.rand(2, 1, 28, 28)
    assert g.conv1(x).shape == s.conv1(x).shape == (2, 6, 26, 26)
    assert g(x).shape == (2, 10)


def test_other_input_sizes_and_bad_first_layer():
    assert LeNet(3, 10, input_size=32)(torch.rand(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(ValueError, match="first_layer"):
        LeNet(first_layer=nn.Conv2d(1, 6, 3, padding=1))
    with pytest.raises(TypeError, match="in_channels"):
        LeNet(in_channels=1.5)
    with pytest.raises(ValueError, match="input_size"):
        LeNet(input_size=10**6)
