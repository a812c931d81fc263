"""Data-dependent training and certification (small settings: a few seconds on one core)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import norm
from torch import nn

from robustcore.smoothing import dd_training
from robustcore.smoothing.dd_training import (
    DD_KIND,
    MEMORY_KIND,
    dataset_curves,
    dd_macer_loss,
    dd_model_config,
    run_dd_certification,
)
from robustcore.smoothing.ddsigma import certify_data_dependent
from robustcore.smoothing.memory import CertificationMemory, memory_postprocess_run
from robustcore.store import ResultsStore

torch.set_num_threads(1)


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))

    def forward(self, x):
        return self.net(x)


def test_dd_macer_loss_matches_a_per_example_loop():
    model = TinyNet()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(5, 1, 8, 8, generator=g), torch.randint(0, 10, (5,), generator=g)
    eps = torch.randn(16, 5, 1, 8, 8, generator=g)
    sigma = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5])
    loss = dd_macer_loss(model, x, y, eps, sigma, lbd=4.0, gamma=8.0, beta=1.0)
    # Independent loop: one example at a time, scipy's Phi^-1.
    total = 0.0
    with torch.no_grad():
        for j in range(5):
            p = torch.softmax(model(x[j] + sigma[j] * eps[:, j]), 1).mean(0).double().numpy()
            total += -np.log(p[y[j]] + 1e-10)
            top = np.argsort(-p)[:2]
            gap = norm.ppf(p[top[0]]) - norm.ppf(p[top[1]])
            if top[0] == y[j] and abs(gap) <= 8.0:
                total += 4.0 * max(0.0, 8.0 - gap) * float(sigma[j]) / 2
    assert loss.item() == pytest.approx(total / 5, rel=1e-4)


@pytest.mark.slow
def test_per_example_sigma_training_refreshes_sigmas():
    # _train on a tiny model for one epoch: every example's sigma moved from sigma0 by the ascent.
    cfg = dd_model_config("cohen", 0.25, epochs=1, iter_sig=2, lr_sigma=0.05, m_sigma=4, batch_size=256)
    model = TinyNet()
    before = [p.detach().clone() for p in model.parameters()]
    metrics = dd_training._train(model, cfg)
    assert metrics["history"][0]["sigma_min"] < 0.25 or metrics["history"][0]["sigma_max"] > 0.25
    assert metrics["train_sigma_q05"] >= cfg["sigma_min"] and metrics["train_sigma_q95"] <= cfg["sigma_max"]
    assert metrics["train_sigma_q05"] < metrics["train_sigma_q95"]  # sigmas differ between examples
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # the model trained
    with pytest.raises(ValueError, match="method"):
        dd_model_config("ddpm", 0.25)


def test_certify_data_dependent_uses_fresh_samples_and_certifies_g_at_sigma_x():
    class Lin(nn.Module):
        def forward(self, z):
            m = z.flatten(1)[:, 0] - 0.2
            return torch.stack([-m, m], 1)

    x = torch.full((1, 2, 2), 0.6)  # distance 0.4 to the boundary
    a = certify_data_dependent(Lin(), x, 2, sigma0=0.2, steps=20, lr=0.01, n_samples=64, n=2000, seed=3)
    b = certify_data_dependent(Lin(), x, 2, sigma0=0.2, steps=20, lr=0.01, n_samples=64, n=2000, seed=3)
    assert a.sigma == b.sigma and a.certificate.radius == b.certificate.radius  # reproducible
    assert a.certificate.sigma == pytest.approx(a.sigma)
    assert a.certificate.seed != 3  # certification stream differs from the ascent's
    assert a.certificate.label == 1 and a.certificate.radius <= 0.4 + 1e-9
    assert "not a guarantee" in a.note


def test_dd_certification_run_memory_and_curves(tmp_path):
    store = ResultsStore(tmp_path / "s.sqlite")
    model = TinyNet()
    run = run_dd_certification(model, {"model": "tiny"}, sigma0=0.3, n0=20, n=100, skip=45, steps=3,
                               n_samples=8, store=store)
    df = store.results(run)
    assert len(df) == 10 and set(df["index"]) == set(range(0, 450, 45))
    assert np.all(df["sigma"] > 0) and np.all(df["radius"] >= 0)
    # Resume: a second call with the same config adds nothing and returns the same run.
    assert run_dd_certification(model, {"model": "tiny"}, sigma0=0.3, n0=20, n=100, skip=45, steps=3,
                                n_samples=8, store=store) == run
    from robustcore.data import load_digits

    X, y = load_digits("test")
    mem_run = memory_postprocess_run(store, run, X.numpy(), y.numpy())
    mem = CertificationMemory(64, store=store, name=f"run{run}/ddrs")
    assert mem.min_separation() >= -1e-9
    curves, dashed, summary = dataset_curves(np.linspace(0, 1, 11), store=store)
    assert len(curves) == 2 and len(dashed) == 1 and "memory" not in dashed[0]
    kinds = set(store.runs()["kind"])
    assert {DD_KIND, MEMORY_KIND} <= kinds
    row = summary[summary["run"] == mem_run].iloc[0]
    assert row["status"] == "sound via memory" and row["images"] == 10


def test_resumed_dd_run_picks_the_same_sigma_as_an_uninterrupted_one(tmp_path):
    """Issue 13: sigma_x of each image must not depend on which images share its batch."""
    model = TinyNet()
    kw = dict(sigma0=0.3, n0=10, n=60, skip=50, steps=4, lr=0.05, n_samples=8, seed=3)
    whole_store = ResultsStore(tmp_path / "a.sqlite")
    whole = whole_store.results(run_dd_certification(model, {"model": "tiny"}, store=whole_store, **kw))
    parts_store = ResultsStore(tmp_path / "b.sqlite")
    run_dd_certification(model, {"model": "tiny"}, store=parts_store, max_images=3, **kw)  # "interrupted"
    resumed = parts_store.results(run_dd_certification(model, {"model": "tiny"}, store=parts_store, **kw))
    assert len(whole) == len(resumed) == 9
    assert resumed["sigma"].tolist() == whole["sigma"].tolist()  # bit-identical sigma_x per image
    assert resumed["radius"].tolist() == whole["radius"].tolist()
    assert whole["sigma"].nunique() > 1  # the ascent really moved sigma, per image
    e = whole["extra"].iloc[0]
    assert e["purpose"] == "certify-dd" and e["seed"] != e["optimise_seed"]
