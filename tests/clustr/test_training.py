"""Comparison models: the linear-head certificate, PGD accuracy, the results store and the CLI."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from torch import nn

from robustcore.clustr import cli
from robustcore.clustr.training import (
    build_model,
    compare_models,
    linear_head_radius,
    model_config,
    pgd_accuracy,
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


def test_compare_models_writes_metrics_to_the_store(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    rows = compare_models(eps_list=(0.1,), l2_eps_list=(0.5,), kinds=("clustr-fgsm", "pgd-at"),
                          overrides={"epochs": 1, "pgd_train_steps": 2}, steps=3, restarts=1, store=store)
    assert [r["model"] for r in rows] == ["clustr-fgsm", "pgd-at"]
    df = store.metrics(kind="clustr-compare")
    for r in rows:
        sub = df[[e["model"] == r["model"] for e in df["extra"]]]
        got = dict(zip(sub["name"], sub["value"]))
        assert got["clean_acc"] == pytest.approx(r["clean_acc"])
        assert 0 <= got["pgd_linf@0.1"] <= got["clean_acc"] and 0 <= got["pgd_l2@0.5"] <= got["clean_acc"]
        assert got["mean_input_radius"] == pytest.approx(got["mean_feature_radius"] / got["lipschitz_bound"], rel=1e-9)
        assert got["mean_input_radius"] > 0
    with pytest.raises(ValueError, match="non-negative"):
        compare_models(eps_list=(-1.0,), store=store)


def test_config_validation_and_cli_registration():
    with pytest.raises(ValueError, match="kind"):
        model_config("svm")
    with pytest.raises(ValueError, match="Unknown"):
        model_config("clustr", learning_rate=1)
    with pytest.raises(ValueError, match="data folder"):
        model_config("clustr", dataset="cifar10")
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli.register(sub)
    args = parser.parse_args(["clustr-train", "--models", "clustr", "--epochs", "3", "--eps-linf", "0.1"])
    assert args.func is cli._cmd_clustr_train and args.epochs == 3 and args.eps_linf == [0.1]
