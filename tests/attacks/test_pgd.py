"""PGD against a linear two-class model, where the smallest flipping perturbation is known:
the margin m = (w_1 - w_0) x + (b_1 - b_0) flips at l-inf radius |m| / ||w_1 - w_0||_1 and at l2
radius |m| / ||w_1 - w_0||_2 (Hoelder duality)."""
import numpy as np
import pytest
import torch

from robustcore.attacks import fgsm_attack, pgd_attack, robust_accuracy


def _linear(seed=0, d=6):
    g = torch.Generator().manual_seed(seed)
    lin = torch.nn.Linear(d, 2).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(2, d, generator=g, dtype=torch.float64))
        lin.bias.copy_(torch.randn(2, generator=g, dtype=torch.float64))
    return lin


@pytest.mark.parametrize("norm,dual", [("linf", 1), ("l2", 2)])
def test_pgd_flips_exactly_beyond_the_closed_form_radius(norm, dual):
    model = _linear()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40, 6, generator=g, dtype=torch.float64)
    y = model(x).argmax(1)
    w = (model.weight[1] - model.weight[0]).detach()
    margin = (model(x)[:, 1] - model(x)[:, 0]).abs().detach()
    radius = margin / torch.linalg.vector_norm(w, ord=dual)
    for scale, expect_flip in ((0.95, False), (1.05, True)):
        eps_each = (radius * scale)
        flipped = []
        for i in range(len(x)):
            xa = pgd_attack(model, x[i : i + 1], y[i : i + 1], float(eps_each[i]), norm, steps=40,
                            clamp=None, generator=g)
            delta = (xa - x[i : i + 1]).flatten()
            assert float(torch.linalg.vector_norm(delta, ord=float("inf") if norm == "linf" else 2)) <= \
                float(eps_each[i]) * (1 + 1e-9)
            flipped.append(int(model(xa).argmax(1)) != int(y[i]))
        if expect_flip:
            assert np.mean(flipped) == 1.0
        else:
            assert not any(flipped)


def test_pgd_respects_the_pixel_box():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    x = torch.rand(8, 1, 8, 8)
    y = torch.randint(0, 10, (8,))
    for norm in ("linf", "l2"):
        xa = pgd_attack(model, x, y, 0.3, norm, steps=5)
        assert float(xa.min()) >= 0.0 and float(xa.max()) <= 1.0


def test_fgsm_is_one_sign_step():
    model = _linear(3)
    x = torch.randn(10, 6, dtype=torch.float64)
    y = model(x).argmax(1)
    xa = fgsm_attack(model, x, y, 0.1, clamp=None)
    torch.testing.assert_close((xa - x).abs(), torch.full_like(x, 0.1))


def test_robust_accuracy_is_monotone_and_starts_clean():
    model = _linear(4)
    x = torch.randn(100, 6, dtype=torch.float64)
    y = model(x).argmax(1)
    acc = robust_accuracy(model, x, y, [0.0, 0.1, 0.5, 2.0], clamp=None, steps=20)
    vals = list(acc.values())
    assert vals[0] == 1.0
    assert all(a >= b for a, b in zip(vals, vals[1:]))


@pytest.mark.parametrize("kwargs", [{"eps": -1.0}, {"norm": "l1"}])
def test_bad_input(kwargs):
    model = _linear()
    args = {"eps": 0.1, "norm": "linf", **kwargs}
    with pytest.raises(ValueError):
        pgd_attack(model, torch.zeros(1, 6, dtype=torch.float64), torch.zeros(1, dtype=torch.long), **args)
