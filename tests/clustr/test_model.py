"""ClusterClassifier: centres, decision rules, and the input-space certificate under PGD."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from robustcore.attacks import pgd_attack
from robustcore.clustr import ClusterClassifier, certify_image, l2_pgd_path, make_embedding, nearest_center_predict
from robustcore.clustr.training import build_model, model_config, train_model
from robustcore.data import load_digits


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    cfg = model_config("clustr", epochs=4, hidden=[32, 32], feature_dim=8)
    model = build_model(cfg)
    metrics = train_model(model, cfg)
    return model, metrics


def test_training_learns_and_centres_are_cluster_means(trained):
    model, metrics = trained
    assert metrics["test_acc"] > 0.6  # chance is 0.1
    X, y = load_digits("train")
    assign = model.refresh_centers(X, y, seed=0)
    feats = model.embed_all(X).double().numpy()
    C = model.centers.double().numpy()
    for k in range(C.shape[0]):
        np.testing.assert_allclose(C[k], feats[assign == k].mean(0), rtol=1e-4, atol=1e-5)  # k-means fixed point
        assert model.center_labels[k] == y[assign == k][0] and torch.all(y[assign == k] == model.center_labels[k])
    var = ((feats - C[assign]) ** 2).sum() / (len(y) - 1)
    assert float(model.variance) == pytest.approx(var, rel=1e-4)


def test_decision_rules_match_direct_computation(trained):
    model, _ = trained
    X, _ = load_digits("test")
    X = X[:100]
    feats = model.embed_all(X).double().numpy()
    C, lab = model.centers.double().numpy(), model.center_labels.numpy()
    np.testing.assert_array_equal(model.predict(X).numpy(), nearest_center_predict(feats, C, lab))
    # soft rule over all centres: log sum_{m in c} exp(-d_m / (2 s^2))
    d2 = ((feats[:, None] - C[None]) ** 2).sum(2)
    s2 = float(model.variance)
    want = np.stack([np.logaddexp.reduce(-d2[:, lab == c] / (2 * s2), axis=1) for c in range(10)], 1)
    got = model.soft_logits(X, L=C.shape[0]).detach().double().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
    # with L = 1 the soft rule is the nearest-centre rule
    np.testing.assert_array_equal(model.predict(X, rule="soft", L=1).numpy(), model.predict(X).numpy())


def test_input_radius_is_never_broken_by_pgd(trained):
    model, _ = trained
    X, y = load_digits("test")
    cert = model.certify(X)
    # the guarantee is in exact arithmetic: leave out images whose feature radius is within float32
    # rounding of a tie (none are expected; the count is checked to stay tiny)
    keep = torch.as_tensor(cert["feature_radius"] > 1e-5)
    assert int(keep.sum()) >= 440
    X = X[keep]
    pred = torch.as_tensor(cert["label"])[keep]
    R = torch.as_tensor(cert["input_radius"], dtype=torch.float32)[keep] * (1 - 1e-4)
    L = cert["lipschitz_bound"]
    gen = torch.Generator().manual_seed(0)
    for start, loss in [(False, "margin"), (True, "margin"), (True, "ce")]:
        path = l2_pgd_path(model, X, pred, R, steps=25, random_start=start, loss=loss, generator=gen)
        with torch.no_grad():
            out = model(path.flatten(0, 1)).argmax(1).view(path.shape[0], -1)
            assert torch.all(out == pred[None])  # no iterate of any attack flips the decision
            f0 = model.embed(X).double()
            for t in (1, path.shape[0] - 1):
                dx = (path[t] - X).flatten(1).double().norm(dim=1)
                assert torch.all(dx <= R.double() * (1 + 1e-5) + 1e-7)
                df = (model.embed(path[t]).double() - f0).norm(dim=1)
                assert torch.all(df <= L * dx * (1 + 1e-4) + 1e-6)  # the Lipschitz bound holds
    # the shared attack module, with one scalar budget per image, agrees
    for i in range(0, X.shape[0], 90):
        xa = pgd_attack(model, X[i : i + 1], pred[i : i + 1], float(R[i]), norm="l2", steps=20, generator=gen)
        assert int(model(xa).argmax(1)) == int(pred[i])


def test_attack_beyond_a_few_radii_does_flip_some(trained):
    # the certificate is not vacuous relative to attacks: large budgets do flip decisions
    model, _ = trained
    X, y = load_digits("test")
    X = X[:60]
    cert = model.certify(X)
    pred = torch.as_tensor(cert["label"])
    big = torch.full((60,), 3.0)
    path = l2_pgd_path(model, X, pred, big, steps=30)
    assert (model(path[-1]).argmax(1) != pred).float().mean() > 0.5


def test_certify_image_fields_and_validation(trained):
    model, _ = trained
    X, _ = load_digits("test")
    out = certify_image(X[0], model)
    out2 = certify_image(X[0:1], model)
    assert out == out2
    assert out["sound"] is True and out["label"] == int(model.predict(X[0:1])[0])
    assert out["feature_radius"] >= out["closed_form_radius"] - 1e-12
    assert out["input_radius"] == pytest.approx(out["feature_radius"] / out["lipschitz_bound"])
    with pytest.raises(ValueError, match="shape"):
        certify_image(torch.zeros(3, 8, 8), model)
    with pytest.raises(ValueError, match="NaN"):
        certify_image(torch.full((1, 8, 8), float("nan")), model)


def test_cnn_embedding_classifier_certifies():
    torch.manual_seed(0)
    model = ClusterClassifier(make_embedding((1, 8, 8), 4, (4,), kind="cnn"), 3, 2, 4)
    X = torch.rand(30, 1, 8, 8)
    y = torch.arange(3).repeat(10)
    model.refresh_centers(X, y)
    cert = model.certify(X, exact=True)
    assert np.all(cert["feature_radius"] >= cert["closed_form_radius"] - 1e-12)
    assert cert["lipschitz_bound"] > 0
