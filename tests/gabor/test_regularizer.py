"""A gradient step on either regulariser lowers the closed-form bound (evaluated independently in numpy)."""
import numpy as np
import pytest
import torch

from robustcore.gabor import GaborConv2d, filter_lipschitz_bounds, lipschitz_upper_bound, make_regularizer
from robustcore.nets import DigitsCNN


@pytest.mark.parametrize("kind", ["paper", "bound"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_step_lowers_bound(kind, seed):
    layer = GaborConv2d(1, 16, 5, families=2, seed=seed)
    model = DigitsCNN(first_layer=layer)
    reg = make_regularizer(kind, beta=1.0)
    before_f, before = filter_lipschitz_bounds(layer), lipschitz_upper_bound(layer)
    loss = reg(model)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    gnorm = float(torch.sqrt(sum((g**2).sum() for g in grads)))
    step = 1e-4 / gnorm  # a small step of fixed length along the negative gradient
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= step * p.grad
    after_f, after = filter_lipschitz_bounds(layer), lipschitz_upper_bound(layer)
    assert after < before
    if kind == "paper":  # sigma^2 grows for every family, so every kernel's bound drops (or stays)
        assert np.all(after_f <= before_f + 1e-12) and np.any(after_f < before_f)
    # First order: the change matches the directional derivative -step * ||grad||^2 < 0 ("bound"
    # differentiates the very quantity that numpy evaluates).
    if kind == "bound":
        assert (after - before) == pytest.approx(-step * gnorm**2, rel=0.05)


def test_regulariser_only_touches_gabor_parameters():
    model = DigitsCNN(first_layer=GaborConv2d(1, 16, 5))
    make_regularizer("paper", 0.1)(model).backward()
    assert model.first.sigma.grad is not None and model.first.sigma.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.rest.parameters())


def test_bad_regulariser():
    with pytest.raises(ValueError):
        make_regularizer("nope")
    with pytest.raises(ValueError):
        make_regularizer("paper", beta=-1)
    with pytest.raises(ValueError):
        make_regularizer("paper")(DigitsCNN())


@pytest.mark.parametrize("kind", ["paper", "bound"])
def test_regularizer_path_lowers_the_bound_and_leaves_the_layer_alone(kind):
    from robustcore.gabor import regularizer_path

    layer = GaborConv2d(1, 8, 5, families=1, orientations=4, seed=2)
    before = [p.detach().clone() for p in layer.parameters()]
    path = regularizer_path(layer, kind, steps=20, lr=0.05, input_hw=16)
    assert path["layer_bound"].shape == (21,) and path["sigma"].shape == (21, 1)
    assert path["layer_bound"][-1] < path["layer_bound"][0]
    assert np.all(path["bank_exact"] <= path["bank_bound"] * (1 + 1e-9))
    if kind == "paper":
        assert np.all(np.diff(path["sigma"][:, 0] ** 2) > 0)  # sigma^2 grows monotonically
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))  # works on a copy
    with pytest.raises(ValueError):
        regularizer_path(layer, kind, steps=0)
