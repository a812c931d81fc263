"""Lottery tickets: exact gradients, masks held fixed, ticket = original init, normalised distance."""

import numpy as np
import pytest
import torch

from robustcore.data import toy_dataset
from robustcore.tropical.lottery import (
    _loss_and_grads,
    init_params,
    lottery_experiment,
    magnitude_masks,
    normalised_hausdorff,
    train_masked,
)
from robustcore.tropical.net import ShallowReluNet


def test_gradients_match_torch_autograd():
    rng = np.random.default_rng(0)
    P = init_params(2, 7, 3, seed=1)
    X = rng.standard_normal((50, 2))
    y = rng.integers(0, 3, 50)
    loss, g = _loss_and_grads(P, X, (np.arange(50), y))
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    logits = torch.relu(torch.tensor(X) @ T["A"].T + T["c1"]) @ T["B"].T + T["c2"]
    ref = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
    ref.backward()
    assert loss == pytest.approx(float(ref.detach()), rel=1e-12)
    for k in P:
        np.testing.assert_allclose(g[k], T[k].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_adam_matches_torch_adam():
    rng = np.random.default_rng(1)
    P = init_params(2, 5, 2, seed=2)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    ours, _ = train_masked(P, X, y, None, epochs=25, lr=0.05)
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    opt = torch.optim.Adam(T.values(), lr=0.05)
    for _ in range(25):
        opt.zero_grad()
        logits = torch.relu(torch.tensor(X) @ T["A"].T + T["c1"]) @ T["B"].T + T["c2"]
        torch.nn.functional.cross_entropy(logits, torch.tensor(y)).backward()
        opt.step()
    for k in P:
        np.testing.assert_allclose(ours[k], T[k].detach().numpy(), rtol=1e-8, atol=1e-10)


def test_masks_prune_smallest_and_stay_zero_during_training():
    X, y = toy_dataset("moons", n=200, noise=0.15, seed=0)
    P = init_params(2, 12, 2, seed=0)
    dense, _ = train_masked(P, X, y, None, epochs=100)
    mA, mB = magnitude_masks(dense, 0.5)
    assert int((mA == 0).sum()) == 12 and int((mB == 0).sum()) == 12
    assert np.abs(dense["A"])[mA == 1].min() >= np.abs(dense["A"])[mA == 0].max()
    # epochs = 0: the ticket is exactly the masked original initialisation
    t0, _ = train_masked(P, X, y, (mA, mB), epochs=0)
    np.testing.assert_array_equal(t0["A"], P["A"] * mA)
    np.testing.assert_array_equal(t0["c1"], P["c1"])
    t, _ = train_masked(P, X, y, (mA, mB), epochs=50)
    assert np.all(t["A"][mA == 0] == 0) and np.all(t["B"][mB == 0] == 0)
    assert np.any(t["A"][mA == 1] != P["A"][mA == 1])


def test_normalised_hausdorff_ignores_scale_and_translation_but_sees_rotation():
    rng = np.random.default_rng(3)
    A, c1, B, c2 = rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal((2, 6)), rng.standard_normal(2)
    net = ShallowReluNet(A, c1, B, c2)
    # scaling B (and c2) by 3 scales both zonotopes by 3 and leaves the boundary unchanged (I12)
    assert normalised_hausdorff(net, ShallowReluNet(A, c1, 3 * B, 3 * c2)) == pytest.approx(0.0, abs=1e-12)
    # hidden-unit rescaling leaves the generators unchanged (I12)
    alpha = rng.uniform(0.5, 2.0, 6)
    assert normalised_hausdorff(net, ShallowReluNet(A * alpha[:, None], c1 * alpha, B / alpha, c2)) == pytest.approx(0.0, abs=1e-12)
    R = np.array([[0.0, -1.0], [1.0, 0.0]])
    rot = ShallowReluNet(A @ R.T, c1, B, c2)
    d = normalised_hausdorff(net, rot)
    assert 1e-3 < d <= 2.0  # a generic polygon is not symmetric under a quarter turn


def test_lottery_experiment_seeded_and_consistent():
    X, y = toy_dataset("moons", n=200, noise=0.15, seed=0)
    Xt, yt = toy_dataset("moons", n=200, noise=0.15, seed=1)
    a = lottery_experiment(X, y, ratios=(0.5,), hidden=12, epochs=150, seed=0, X_test=Xt, y_test=yt)
    b = lottery_experiment(X, y, ratios=(0.5,), hidden=12, epochs=150, seed=0, X_test=Xt, y_test=yt)
    np.testing.assert_array_equal(a.runs[0].ticket.A, b.runs[0].ticket.A)
    assert a.acc_dense >= 0.85
    run = a.runs[0]
    # the ticket and the random re-init share the mask
    np.testing.assert_array_equal(run.ticket.A == 0, run.random.A == 0)
    assert int((run.ticket.A == 0).sum()) >= 12
    assert run.dist_ticket == pytest.approx(normalised_hausdorff(a.dense, run.ticket))
    assert 0 <= run.dist_ticket <= 2 and 0 <= run.dist_random <= 2
    assert run.acc_ticket == pytest.approx(float((run.ticket.predict(X) == y).mean()))


@pytest.mark.parametrize(
    "kwargs",
    [{"ratios": (1.0,)}, {"ratios": ()}, {"hidden": 0}, {"epochs": 0}, {"lr": -1.0}],
)
def test_bad_settings_raise(kwargs):
    X, y = toy_dataset("moons", n=50, seed=0)
    with pytest.raises(ValueError):
        lottery_experiment(X, y, **kwargs)


def test_bad_data_raises():
    with pytest.raises(ValueError):
        lottery_experiment(np.zeros((10, 3)), np.zeros(10, dtype=int))
    X = np.zeros((10, 2))
    X[0, 0] = np.nan
    with pytest.raises(ValueError):
        lottery_experiment(X, np.arange(10) % 2)


def test_collapsed_polytope_is_detected():
    """All generators parallel: the decision polytope is a segment and the distance is flagged uninformative."""
    from robustcore.tropical import ShallowReluNet, polytope_collapsed

    seg = ShallowReluNet([[1.0, 2.0], [-0.5, -1.0], [2.0, 4.0]], [0.1, 0.2, -0.3], [[1.0, -1.0, 0.5], [-0.2, 0.3, 1.0]],
                         [0.0, 0.0])
    assert polytope_collapsed(seg)
    full = ShallowReluNet([[1.0, 0.2], [-0.3, 1.0]], [0.0, 0.0], [[1.0, -1.0], [-0.5, 1.2]], [0.0, 0.0])
    assert not polytope_collapsed(full)
