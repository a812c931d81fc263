"""Bad arguments to the attacks are refused with one sentence; restarts keep the best of independent runs."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from robustcore.attacks import fgsm_attack, pgd_attack, robust_accuracy


def _model(d: int = 4, k: int = 3) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, k))


MODEL = _model()
X = torch.rand(6, 4)
Y = torch.tensor([0, 1, 2, 0, 1, 2])

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20), st.none(),
                    st.text(max_size=3), st.booleans())


@settings(max_examples=120, deadline=None)
@given(eps=numbers, steps=numbers, restarts=numbers, step_size=numbers, norm=st.sampled_from(["linf", "l2", "l1", 3]))
def test_any_arguments_give_an_attack_or_one_sentence(eps, steps, restarts, step_size, norm):
    try:
        xa = pgd_attack(MODEL, X, Y, eps, norm=norm, steps=steps, restarts=restarts, step_size=step_size)
    except (ValueError, TypeError) as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    # accepted: the result lies in the threat model
    assert xa.shape == X.shape and torch.isfinite(xa).all()
    dist = (xa - X).abs().amax() if norm == "linf" else (xa - X).flatten(1).norm(dim=1).max()
    assert float(dist) <= float(eps) * (1 + 1e-5) + 1e-6
    assert steps <= 100_000 and restarts >= 1


@pytest.mark.parametrize("bad", [
    dict(x=torch.rand(6, 4, dtype=torch.complex64)), dict(x=torch.full((6, 4), float("nan"))),
    dict(x=[[0.0] * 4] * 6), dict(y=torch.zeros(6)), dict(y=torch.zeros(5, dtype=torch.long)),
    dict(x=torch.rand(4)), dict(clamp=(1.0, 0.0)), dict(clamp=(0.0, float("inf"))),
])
def test_bad_tensors_are_refused(bad):
    args = dict(x=X, y=Y, clamp=(0.0, 1.0))
    args.update(bad)
    with pytest.raises((ValueError, TypeError)):
        pgd_attack(MODEL, args["x"], args["y"], 0.1, clamp=args["clamp"])


def test_fgsm_and_robust_accuracy_refuse_too():
    with pytest.raises(ValueError):
        fgsm_attack(MODEL, X, Y, float("inf"))
    with pytest.raises(ValueError):
        robust_accuracy(MODEL, X, Y, [0.1, math.nan])
    with pytest.raises(ValueError):
        robust_accuracy(MODEL, X, Y, [0.1], batch_size=0)


def test_restarts_keep_every_success_of_the_independent_runs():
    torch.manual_seed(1)
    model = _model(8, 4)
    x = torch.rand(64, 8)
    y = model(x).argmax(1)
    eps, steps, r = 0.08, 5, 4
    best = pgd_attack(model, x, y, eps, steps=steps, restarts=r, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    singles = [pgd_attack(model, x, y, eps, steps=steps, generator=g) for _ in range(r)]
    with torch.no_grad():
        any_fooled = torch.stack([model(s).argmax(1) != y for s in singles]).any(0)
        best_fooled = model(best).argmax(1) != y
    assert any_fooled.any() and not any_fooled.all()  # the setting discriminates
    assert torch.equal(best_fooled, any_fooled)
    assert float((best - x).abs().amax()) <= eps + 1e-6
