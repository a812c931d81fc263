"""The three-model experiment end to end on a tiny budget, stored and read back from the results store."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from robustcore.gabor import GaborConv2d, lipschitz_upper_bound
from robustcore.gabor.training import (
    VARIANTS,
    build_variant,
    comparison_table,
    first_layer_lipschitz,
    regularizer_effect_table,
    run_comparison,
    stored_comparison,
    variant_config,
)
from robustcore.store import ResultsStore

TINY = dict(epochs=1, batch_size=128, data="digits")


def test_variants_differ_only_in_first_layer_and_have_the_same_size():
    nets = {v: build_variant(variant_config(v, data="digits")) for v in VARIANTS}
    assert isinstance(nets["standard"].first, nn.Conv2d)
    assert isinstance(nets["gabor"].first, GaborConv2d) and isinstance(nets["gabor-reg"].first, GaborConv2d)
    # same-size baseline: the standard first conv has the Gabor layer's kernel size and channels
    assert nets["standard"].first.kernel_size == (5, 5)
    assert nets["standard"].first.out_channels == nets["gabor"].first.out_channels
    x = torch.rand(3, 1, 8, 8)
    for net in nets.values():
        assert net(x).shape == (3, 10)
    assert variant_config("gabor-reg")["reg_kind"] == "paper"
    lenets = {v: build_variant(variant_config(v)) for v in VARIANTS}  # mnist-5k: the paper's LeNet
    assert lenets["standard"].conv1.kernel_size == (5, 5) and lenets["gabor"].conv1.kernel_size == 5
    assert lenets["gabor"](torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_official_recipe_settings_reach_the_model_and_optimiser():
    cfg = variant_config("gabor-reg", recipe="official")
    assert (cfg["optimizer"], cfg["lr"], cfg["momentum"], cfg["weight_decay"]) == ("sgd", 1e-2, 0.9, 5e-4)
    assert cfg["reg_reduction"] == "mean" and cfg["alpha_init"] == "randn" and cfg["mix_bias"] is False
    net = build_variant(cfg)
    layer = net.conv1
    assert layer.mix.bias is None
    # alpha drawn from N(0, 1): some negative, not all ones
    assert (layer.alpha < 0).any() and not torch.allclose(layer.alpha, torch.ones_like(layer.alpha))
    ours = build_variant(variant_config("gabor", recipe="ours"))
    assert ours.conv1.mix.bias is not None and torch.equal(ours.conv1.alpha, torch.ones_like(ours.conv1.alpha))


def test_fit_with_sgd_matches_a_hand_written_sgd_step():
    # One full-batch epoch of the official recipe equals torch.optim.SGD with its settings, applied by hand.
    from robustcore.gabor.training import fit

    cfg = variant_config("gabor-reg", data="digits", epochs=1, batch_size=32, seed=3)
    X, y = torch.rand(32, 1, 8, 8), torch.randint(0, 10, (32,))
    a, b = build_variant(cfg), build_variant(cfg)
    fit(a, X, y, cfg)
    opt = torch.optim.SGD(b.parameters(), lr=1e-2, momentum=0.9, weight_decay=5e-4)
    b.train()
    loss = nn.functional.cross_entropy(b(X), y) - 0.1 * (b.first.sigma**2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    for (na, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6, msg=na)


def test_pgd_restarts_never_raise_accuracy_and_reach_a_brute_force_adversary():
    from robustcore.gabor.training import pgd_accuracy

    torch.manual_seed(0)
    # A linear model on 2 pixels: l-inf robust accuracy has a closed form (margin / ||w||_1 > eps).
    model = nn.Sequential(nn.Flatten(), nn.Linear(2, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 1.0], [-1.0, -1.0]]))
        model[1].bias.copy_(torch.tensor([-1.0, 1.0]))
    X = torch.rand(400, 1, 1, 2) * 0.8 + 0.1
    y = (X.flatten(1).sum(1) < 1.0).long()  # class 0 exactly when x1 + x2 > 1
    eps = 0.1
    # an l-inf perturbation of eps moves x1 + x2 by at most 2 eps (reached at a corner, inside [0, 1])
    truth = float(((X.flatten(1).sum(1) - 1.0).abs() > 2 * eps).float().mean())
    one = pgd_accuracy(model, X, y, eps, steps=20, restarts=1)
    many = pgd_accuracy(model, X, y, eps, steps=20, restarts=4)
    assert many <= one + 1e-12
    assert abs(many - truth) <= 1 / 400  # PGD finds the corner on a linear model
    assert pgd_accuracy(model, X, y, 0.0) == pytest.approx(1.0)


def test_sigma_sign_is_irrelevant():
    # Only sigma^2 enters the kernel, the bound and the regulariser: -sigma is the same filter.
    from robustcore.gabor import closed_form_bound, make_regularizer

    layer = GaborConv2d(1, 3, 5, orientations=4, families=2, seed=1)
    flipped = GaborConv2d(1, 3, 5, orientations=4, families=2, seed=1)
    flipped.load_state_dict(layer.state_dict())
    with torch.no_grad():
        flipped.sigma.mul_(-1)
        flipped.gamma.mul_(-1)
    torch.testing.assert_close(layer.kernels(), flipped.kernels())
    np.testing.assert_allclose(lipschitz_upper_bound(layer), lipschitz_upper_bound(flipped))
    np.testing.assert_allclose(closed_form_bound(-1.3, 0.5, 1.0, 0.3, 5), closed_form_bound(1.3, -0.5, 1.0, 0.3, 5))
    reg = make_regularizer("paper", 0.1)
    assert reg(layer).item() == pytest.approx(reg(flipped).item())
    torch.testing.assert_close(flipped.effective_sigma, layer.sigma.detach().abs())


def test_first_layer_lipschitz_bounds_the_zero_padded_layer():
    torch.manual_seed(0)
    net = build_variant(variant_config("standard", data="digits"))
    _, lip = first_layer_lipschitz(net, 8)
    # Reference: the zero-padded 5x5 conv on 8x8 built column by column, then its SVD.
    eye = torch.eye(64).reshape(64, 1, 8, 8)
    w = net.first.weight.detach()
    cols = nn.functional.conv2d(eye, w, padding=2).reshape(64, -1).T.double().numpy()
    assert np.linalg.svd(cols, compute_uv=False)[0] <= lip * (1 + 1e-6)
    gnet = build_variant(variant_config("gabor", data="digits"))
    bound, glip = first_layer_lipschitz(gnet, 8)
    assert glip <= bound and bound == pytest.approx(lipschitz_upper_bound(gnet.first))


def test_run_comparison_stores_and_reads_back(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    seen = []
    eps = {"linf": [0.1], "l2": [0.5]}
    kw = dict(store=store, eps=eps, pgd_steps=3, n_eval=60, **TINY)
    assert stored_comparison(**kw) is None
    long = run_comparison(progress=lambda f, m: seen.append(f), **kw)
    assert seen and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    assert set(long["variant"]) == set(VARIANTS) and len(long) == 3 * 3
    assert long["accuracy"].between(0, 1).all()
    # PGD at a positive radius never beats clean accuracy by more than sampling noise of the random start.
    for v, d in long.groupby("variant"):
        clean = d.loc[d.norm == "clean", "accuracy"].item()
        assert (d.loc[d.norm != "clean", "accuracy"] <= clean + 1e-9).all()
    assert math.isnan(long.loc[long.variant == "standard", "layer_bound"].iloc[0])
    again = stored_comparison(**kw)
    assert again is not None
    np.testing.assert_allclose(again.sort_values(["variant", "norm"])["accuracy"].to_numpy(),
                               long.sort_values(["variant", "norm"])["accuracy"].to_numpy())
    m = store.metrics(kind="gabor-robustness")
    assert (m["name"] == "pgd_accuracy").sum() == 9
    wide = comparison_table(long)
    assert list(wide["variant"]) == list(VARIANTS) and "clean" in wide.columns and "linf@0.1" in wide.columns
    eff = regularizer_effect_table(long)
    assert list(eff["variant"]) == ["gabor", "gabor-reg"] and (eff["mean |α|"] > 0).all()
    # the stored mixing norm is the layer's ||W||_2, recomputed independently with numpy
    from robustcore.gabor.training import trained_variant

    model, _ = trained_variant("gabor", **TINY)
    w = model.first.mix.weight.detach().double().numpy()[:, :, 0, 0]
    assert eff.loc[0, "‖W‖₂ (1×1 mixing)"] == pytest.approx(np.linalg.svd(w, compute_uv=False)[0], rel=1e-6)


@pytest.mark.parametrize("kw", [dict(variant="nope"), dict(variant="gabor", data="cifar10"),
                                dict(variant="gabor", epochs=0), dict(variant="gabor-reg", reg_kind="x"),
                                dict(variant="gabor", recipe="paper"), dict(variant="gabor", beta=float("nan")),
                                dict(variant="gabor", kernel_size=3)])
def test_bad_config(kw):
    with pytest.raises(ValueError):
        variant_config(**kw)


@pytest.mark.parametrize("kw", [dict(pgd_steps=-3), dict(n_eval=0), dict(n_eval=10**6), dict(restarts=0),
                                dict(eps={"linf": [float("inf")], "l2": [1.0]}), dict(attack="nope"),
                                dict(device="nonsense")])
def test_bad_run_arguments_are_refused_before_training(kw, tmp_path, monkeypatch):
    import robustcore.gabor.training as T

    monkeypatch.setattr(T, "trained_variant", lambda *a, **k: pytest.fail("trained before checking"))
    with pytest.raises(ValueError):
        run_comparison(store=ResultsStore(tmp_path / "s.sqlite"), **{**TINY, **kw})


def test_cifar_network_takes_a_three_channel_gabor_layer():
    from robustcore.gabor.training import CifarCNN

    net = CifarCNN(first_layer=GaborConv2d(3, 16, 5, families=1, orientations=4))
    assert net(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    assert variant_config("gabor", data="cifar10", root="/nonexistent", limit=10)["limit"] == 10
    net = build_variant(variant_config("standard", data="cifar10", root="/x"))
    assert net.first.kernel_size == (5, 5) and net(torch.rand(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_comparison_on_cuda_matches_the_cpu_path(tmp_path):
    kw = dict(eps={"linf": [0.1], "l2": [0.5]}, pgd_steps=3, n_eval=50, variants=("gabor",), **TINY)
    long = run_comparison(store=ResultsStore(tmp_path / "gpu.sqlite"), device="cuda", **kw)
    assert long["accuracy"].between(0, 1).all() and len(long) == 3
