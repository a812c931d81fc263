"""Tropical attack: a reported success flips the class and meets every constraint; exact sub-steps."""

import numpy as np
import pytest
from scipy.optimize import minimize

from robustcore.tropical.attack import (
    _exact_delta,
    _row_delta,
    pgd_min_radius,
    tropical_attack,
)
from robustcore.tropical.net import ShallowReluNet


def random_net(seed: int, p: int = 8, d: int = 2, k: int = 2) -> ShallowReluNet:
    rng = np.random.default_rng(seed)
    return ShallowReluNet(
        rng.standard_normal((p, d)), rng.standard_normal(p), rng.standard_normal((k, p)), rng.standard_normal(k)
    )


def check_success_claim(net, res, x0, eps1, eps2, box, target=None):
    """Independent check of a success claim: evaluate the nets, check every constraint."""
    label0 = int(np.argmax(net.logits(x0)[0]))
    x_adv = x0 + res.eta
    lab_adv = int(np.argmax(net.logits(x_adv)[0]))
    tilde = ShallowReluNet(res.A_tilde, net.c1, net.B, net.c2)
    lab_tilde = int(np.argmax(tilde.logits(x0)[0]))
    if target is None:
        assert lab_adv != label0 and lab_tilde != label0
    else:
        assert lab_adv == target and lab_tilde == target
    assert np.abs(res.eta).max() <= eps1 + 1e-12
    assert np.abs(res.A_tilde - net.A).max() <= eps2 + 1e-12
    if box is not None:
        assert x_adv.min() >= box[0] - 1e-12 and x_adv.max() <= box[1] + 1e-12
    np.testing.assert_allclose(net.A @ x_adv, res.A_tilde @ x0, atol=1e-9)
    # the A~-net at x0 is the original net at x0 + eta (same pre-activations)
    np.testing.assert_allclose(tilde.logits(x0), net.logits(x_adv), atol=1e-9)


def test_reported_successes_flip_the_class_and_meet_constraints():
    rng = np.random.default_rng(0)
    successes = 0
    for seed in range(6):
        net = random_net(seed, p=6)
        for _ in range(2):
            x0 = rng.uniform(-1.5, 1.5, size=2)
            box = (-3.0, 3.0)
            res = tropical_attack(net, x0, eps1=1.0, eps2=1.0, box=box, iters=60, inner=5)
            if res.success:
                successes += 1
                check_success_claim(net, res, x0, 1.0, 1.0, box)
                assert res.norm_l2 == pytest.approx(np.linalg.norm(res.eta))
            else:
                assert res.message
    assert successes >= 4  # the attack is not vacuous


def test_targeted_multiclass_success_reaches_target():
    successes = 0
    for seed in range(4):
        net = random_net(seed + 10, p=10, d=3, k=3)
        x0 = np.random.default_rng(seed).uniform(0.2, 0.8, size=3)
        lab = int(net.predict(x0)[0])
        target = (lab + 1) % 3
        res = tropical_attack(net, x0, target=target, eps1=0.5, eps2=2.0, box=(0.0, 1.0), iters=60, inner=5)
        if res.success:
            successes += 1
            check_success_claim(net, res, x0, 0.5, 2.0, (0.0, 1.0), target=target)
    assert successes >= 1


def test_tiny_budget_is_reported_as_failure():
    net = random_net(3)
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(400, 2))
    m = net.logits(X)
    x0 = X[np.argmax(np.abs(m[:, 0] - m[:, 1]))]  # the point deepest inside its class
    res = tropical_attack(net, x0, eps1=1e-4, eps2=1e-4, box=None, iters=30, inner=3)
    assert not res.success
    # and indeed nothing within eps1 flips it: check the corners of the tiny box (f is piecewise linear,
    # and the box is far inside one linear region, so the corners decide)
    corners = x0 + 1e-4 * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])
    assert np.all(net.predict(corners) == net.predict(x0)[0])


def test_row_delta_matches_scipy():
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal(4)
    v = rng.standard_normal(5) * 3
    lam, rho, eps2 = 0.7, 1.3, 0.4
    D = _row_delta(v, x0, eps2, lam, rho)
    for r in range(5):
        f = lambda dl: 0.5 * lam * dl @ dl + 0.5 * rho * (dl @ x0 - v[r]) ** 2  # noqa: E731
        ref = minimize(f, np.zeros(4), bounds=[(-eps2, eps2)] * 4, method="L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-12})
        assert f(D[r]) <= ref.fun + 1e-8
        assert np.abs(D[r]).max() <= eps2 + 1e-12


def test_exact_delta_min_norm_and_feasibility():
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal(3)
    v = rng.standard_normal(4) * 0.1
    # box inactive: the closed-form minimum-norm solution v x0^T / |x0|^2
    D, ok = _exact_delta(v, x0, eps2=10.0)
    assert ok
    np.testing.assert_allclose(D, np.outer(v, x0) / (x0 @ x0), atol=1e-12)
    # box active: compare with SLSQP on min |delta|^2 s.t. delta.x0 = v_r, |delta|_inf <= eps2
    feas = np.abs(v).max() / np.abs(x0).sum()  # below this no Delta exists
    free = np.abs(v).max() * np.abs(x0).max() / (x0 @ x0)  # above this the box is inactive
    assert free > feas * 1.01
    eps2 = np.sqrt(feas * free)
    D, ok = _exact_delta(v, x0, eps2)
    assert ok
    assert np.abs(D).max() == pytest.approx(eps2)  # the box is active
    np.testing.assert_allclose(D @ x0, v, atol=1e-10)
    for r in range(4):
        ref = minimize(lambda dl: dl @ dl, np.zeros(3), method="SLSQP", bounds=[(-eps2, eps2)] * 3,
                       constraints=[{"type": "eq", "fun": lambda dl, r=r: dl @ x0 - v[r]}],
                       options={"ftol": 1e-14, "maxiter": 500})
        assert D[r] @ D[r] <= ref.fun + 1e-8
    # infeasible: |v_r| > eps2 |x0|_1
    _, ok = _exact_delta(np.array([1.0]), np.array([0.5, 0.5]), eps2=0.5)
    assert not ok


def test_pgd_min_radius_success_is_verified():
    net = random_net(4)
    x0 = np.array([0.3, -0.2])
    out = pgd_min_radius(net, x0, eps_max=3.0, box=None, steps=30, bisect_steps=8)
    if out["success"]:
        assert net.predict(out["x_adv"])[0] != net.predict(x0)[0]
        assert out["norm_linf"] <= out["eps"] + 1e-9


def test_attack_is_deterministic():
    net = random_net(5)
    x0 = np.array([0.1, 0.4])
    a = tropical_attack(net, x0, eps1=1.0, eps2=1.0, box=None, iters=30, inner=3)
    b = tropical_attack(net, x0, eps1=1.0, eps2=1.0, box=None, iters=30, inner=3)
    np.testing.assert_array_equal(a.eta, b.eta)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"x0": np.zeros(3)},
        {"x0": np.array([np.nan, 0.0])},
        {"x0": np.array([5.0, 0.0]), "box": (0.0, 1.0)},
        {"x0": np.array([0.5, 0.5]), "eps1": 0.0},
        {"x0": np.array([0.5, 0.5]), "eps2": -1.0},
        {"x0": np.array([0.5, 0.5]), "target": 7},
    ],
)
def test_bad_input_raises(kwargs):
    with pytest.raises(ValueError):
        tropical_attack(random_net(0), **kwargs)


def test_target_equal_to_prediction_raises():
    net = random_net(0)
    x0 = np.array([0.5, 0.5])
    with pytest.raises(ValueError):
        tropical_attack(net, x0, target=int(net.predict(x0)[0]))


def test_digits_mlp_first_layer_attack_is_verified_on_the_torch_model():
    """Head path: attack a (small, seeded) DigitsMLP through its first layer; check with the model itself."""
    import torch

    from robustcore.nets import DigitsMLP
    from robustcore.tropical.attack import split_first_layer

    torch.manual_seed(0)
    model = DigitsMLP(hidden=(16, 8), num_classes=10).double().eval()
    A, head = split_first_layer(model)
    rng = np.random.default_rng(0)
    Xr = rng.uniform(0, 1, size=(5, 64))
    with torch.no_grad():  # the split reproduces the model
        np.testing.assert_allclose(head(torch.tensor(Xr @ A.T)).numpy(), model(torch.tensor(Xr)).numpy(), atol=1e-12)
    successes = 0
    for x0 in Xr[:3]:
        res = tropical_attack(None, x0, head=head, A=A, eps1=0.3, eps2=0.2, box=(0.0, 1.0), iters=80, inner=5)
        if res.success:
            successes += 1
            with torch.no_grad():
                lab0 = int(model(torch.tensor(x0)[None]).argmax())
                lab1 = int(model(torch.tensor(res.x_adv)[None]).argmax())
            assert lab1 != lab0
            assert np.abs(res.eta).max() <= 0.3 + 1e-12 and res.x_adv.min() >= 0 and res.x_adv.max() <= 1
            assert np.abs(res.A_tilde - A).max() <= 0.2 + 1e-12
            np.testing.assert_allclose(A @ res.x_adv, res.A_tilde @ x0, atol=1e-9)
        pg = pgd_min_radius(model, x0, 0.3, steps=10, bisect_steps=4)
        if pg["success"]:
            with torch.no_grad():
                assert int(model(torch.tensor(pg["x_adv"])[None]).argmax()) != int(model(torch.tensor(x0)[None]).argmax())
    assert successes >= 1
    with pytest.raises(ValueError):
        split_first_layer(torch.nn.Linear(3, 2))


@pytest.mark.slow
def test_default_point_of_the_default_preset_gives_a_verified_attack():
    """The page's attack section opens on the default preset with 200 seeded uniform points; the default point
    must show the attack working (issue 13: presets opened on 'no verified success')."""
    from robustcore.tropical import ShallowReluNet, default_attack_point
    from ui.tropical_network import PRESETS, preset_weights

    for name in PRESETS:  # every preset, not only the default one
        net = ShallowReluNet(*preset_weights(name, 0))
        Xs = np.random.default_rng(0).uniform(-2, 2, size=(200, 2))
        box = (-2.5, 2.5)
        idx = default_attack_point(net, Xs, 1.0, 1.0, box)
        res = tropical_attack(net, Xs[idx], eps1=1.0, eps2=1.0, box=box, iters=200)
        assert res.success, name
        # independent of the attack's own verification: evaluate the network
        assert net.predict(res.x_adv)[0] != net.predict(Xs[idx])[0]
        assert np.abs(res.eta).max() <= 1.0 + 1e-12
