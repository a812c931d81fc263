"""Comparison models: the linear-head certificate, PGD accuracy, the results store and the CLI."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from torch import nn

from robustcore.clustr import cli
from robustcore.clustr.training import (
    DATASETS,
    MODEL_KINDS,
    RECIPES,
    build_model,
    compare_models,
    linear_head_radius,
    model_config,
    pgd_accuracy,
    recipe_deviations,
)
from robustcore.store import ResultsStore


def test_linear_head_radius_against_direct_formula_and_sampling():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)), nn.Linear(3, 4))
    X = torch.rand(20, 1, 2, 2)
    out = linear_head_radius(model, X)
    emb, head = model[0], model[1]
    W, b = head.weight.detach().double().numpy(), head.bias.detach().double().numpy()
    r = emb(X).detach().double().numpy()
    rng = np.random.default_rng(0)
    for n in range(20):
        z = W @ r[n] + b
        c = int(np.argmax(z))
        want = min((z[c] - z[j]) / np.linalg.norm(W[c] - W[j]) for j in range(4) if j != c)
        assert out["feature_radius"][n] == pytest.approx(want, rel=1e-9)
        # sampled feature perturbations inside the radius never flip; the optimal one just beyond does
        u = rng.normal(size=(5000, 3))
        u *= (want * (1 - 1e-9) * rng.uniform(0, 1, (5000, 1))) / np.linalg.norm(u, axis=1, keepdims=True)
        assert np.all(np.argmax((r[n] + u) @ W.T + b, axis=1) == c)
        j = min((j for j in range(4) if j != c), key=lambda j: (z[c] - z[j]) / np.linalg.norm(W[c] - W[j]))
        d = (W[j] - W[c]) / np.linalg.norm(W[j] - W[c])
        assert np.argmax((r[n] + want * (1 + 1e-6) * d) @ W.T + b) != c
    L = np.linalg.svd(emb[1].weight.detach().double().numpy(), compute_uv=False)[0]
    np.testing.assert_allclose(out["input_radius"], out["feature_radius"] / L, rtol=1e-9)


def test_pgd_accuracy_is_at_most_clean_and_monotone_in_restarts():
    torch.manual_seed(0)
    cfg = model_config("ce", epochs=2)
    model = build_model(cfg)
    X, y = torch.rand(64, 1, 8, 8), torch.randint(0, 10, (64,))
    clean = pgd_accuracy(model, X, y, 0.0)
    a1 = pgd_accuracy(model, X, y, 0.3, "linf", steps=5, restarts=1)
    a3 = pgd_accuracy(model, X, y, 0.3, "linf", steps=5, restarts=3)
    assert a3 <= a1 <= clean


def test_compare_models_writes_both_attacks_and_configs_to_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path / "cache"))
    store = ResultsStore(tmp_path / "r.sqlite")
    rows = compare_models(eps_list=(0.1,), l2_eps_list=(0.5,), kinds=("clustr-fgsm", "pgd-at"), recipe="ours",
                          overrides={"epochs": 1, "pgd_train_steps": 2}, steps=3, restarts=1, store=store)
    assert [r["model"] for r in rows] == ["clustr-fgsm", "pgd-at"]
    df = store.metrics(kind="clustr-compare")
    for r in rows:
        assert r["config"].startswith(r["model"] + " [ours] on digits")
        assert any("FGSM" in d for d in r["deviations"]) == (r["model"] == "clustr-fgsm")
        sub = df[[e["model"] == r["model"] for e in df["extra"]]]
        got = dict(zip(sub["name"], sub["value"]))
        for attack in ("official", "ours"):
            clean = got["clean (nearest)"] if attack == "ours" else got["clean (soft)"]
            assert 0 <= got[f"{attack}@0.1"] <= clean
        assert 0 <= got["pgd_l2@0.5"] <= got["clean (nearest)"]
        assert got["mean_input_radius"] == pytest.approx(got["mean_feature_radius"] / got["lipschitz_bound"], rel=1e-9)
        assert got["mean_input_radius"] > 0
    with pytest.raises(ValueError, match="attack radius"):
        compare_models(eps_list=(-1.0,), store=store)
    with pytest.raises(ValueError, match="kind"):
        compare_models(kinds=("svm",), store=store)


def test_config_validation_recipes_and_cli_registration():
    with pytest.raises(ValueError, match="kind"):
        model_config("svm")
    with pytest.raises(ValueError, match="Unknown"):
        model_config("clustr", learning_rate=1)
    with pytest.raises(ValueError, match="data folder"):
        model_config("clustr", dataset="cifar10")
    with pytest.raises(ValueError, match="recipe"):
        model_config("clustr", "paper")
    with pytest.raises(ValueError, match="epochs"):
        model_config("clustr", epochs=-5)
    with pytest.raises(TypeError, match="epochs"):
        model_config("clustr", epochs=2.5)
    with pytest.raises(ValueError, match="alpha"):
        model_config("clustr", alpha=float("nan"))
    # the official recipe is the official code's settings; every change from it is listed
    off = model_config("clustr", "official")
    assert (off["alpha"], off["m_clusters"], off["d_per_cluster"], off["lr"], off["epochs"], off["milestones"],
            off["k_per_class"], off["L"]) == (12.5, 12, 20, 1e-4, 90, [30, 60], 2, 20)
    assert recipe_deviations(off) == []
    q = model_config("clustr-qtrades", "official")
    assert (q["epochs"], q["consistency_lambda"], q["train_eps"]) == (25, 8.0, 8 / 255)
    assert recipe_deviations(q) == ["starts from our cross-entropy weights of the same embedding (official: "
                                    "their pretrained ResNet-18)"]
    ours = model_config("clustr")
    devs = " | ".join(recipe_deviations(ours))
    for key in ("alpha 1 (official 12.5)", "m_clusters 8 (official 12)", "lr 0.003 (official 0.0001)"):
        assert key in devs
    short = model_config("clustr", "official", schedule_scale=1 / 3)
    assert (short["epochs"], short["milestones"]) == (30, [10, 20])
    assert any(d.startswith("epochs 30 (official 90)") for d in recipe_deviations(short))
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli.register(sub)
    args = parser.parse_args(["clustr-train", "--models", "clustr", "--epochs", "3", "--eps-linf", "0.1"])
    assert args.func is cli._cmd_clustr_train and args.epochs == 3 and args.eps_linf == [0.1]
    assert cli.KINDS == MODEL_KINDS and set(cli.DATASETS) == set(DATASETS) and set(cli.RECIPES) == set(RECIPES)


def test_model_cache_path_is_where_load_or_train_saves(tmp_path, monkeypatch):
    """The page asks `page_model_is_cached` before starting a background training: it must name the very file
    `load_or_train` writes, or the page would train twice (or never)."""
    from robustcore.clustr import training

    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path))
    cfg = model_config("clustr", dataset="digits", epochs=0, limit=200, feature_dim=2, hidden=[8])
    path = training.model_cache_path(cfg)
    assert not path.exists()
    _, info = training.load_or_train(cfg)
    assert info["path"] == str(path) and path.exists()
    page_cfg = training._page_config("digits")
    assert training.page_model_is_cached("digits") is False
    training.model_cache_path(page_cfg).write_bytes(b"")  # existence is all it checks
    assert training.page_model_is_cached("digits") is True
    with pytest.raises(ValueError):
        training.page_model_is_cached("cifar10")
