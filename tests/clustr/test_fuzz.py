"""Fuzz every public ClusTR function: any input gives a result or a one-sentence ValueError/TypeError, quickly."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from robustcore import clustr
from robustcore.clustr.adversarial import attack_accuracy, qtrades_consistency
from robustcore.clustr.training import config_summary, model_config, recipe_deviations

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.text(max_size=12),
                    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(max_magnitude=1e3))


@st.composite
def arrays(draw, max_dims: int = 3):
    ndim = draw(st.integers(0, max_dims))
    shape = tuple(draw(st.integers(0, 4)) for _ in range(ndim))
    kind = draw(st.sampled_from(["f8", "f4", "i8", "c16", "b1", "O"]))
    n = int(np.prod(shape)) if shape else 1
    vals = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=n, max_size=n))
    arr = np.asarray(vals, dtype=np.float64).reshape(shape) if shape else np.float64(vals[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = np.asarray(arr).astype(kind) if kind != "O" else np.asarray(arr, dtype=object)
    if draw(st.booleans()) and kind in ("f8", "f4", "i8"):
        return torch.as_tensor(arr)
    return arr


garbage = st.one_of(scalars, arrays(), st.lists(st.integers(-3, 3), max_size=4))


def _ok(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert msg and "\n" not in msg, msg
    # anything else (RuntimeError, IndexError, ZeroDivisionError ...) fails the test


@FUZZ
@given(z=garbage, centers=garbage, labels=garbage)
def test_certificates(z, centers, labels):
    for fn in (clustr.nearest_center_radius, clustr.nearest_center_predict, clustr.nearest_center_certificate,
               clustr.exact_center_radius):
        _ok(fn, z, centers, labels)


@FUZZ
@given(n=st.integers(1, 6), d=st.integers(1, 3), m=st.integers(1, 5),
       bad=st.sampled_from(["none", "nan", "inf", "huge", "labels", "dup"]))
def test_certificates_near_valid(n, d, m, bad):
    rng = np.random.default_rng(n * 31 + d * 7 + m)
    z, c, lab = rng.normal(size=(n, d)), rng.normal(size=(m, d)), rng.integers(0, 3, m)
    if bad == "nan":
        z[0, 0] = np.nan
    elif bad == "inf":
        c[0, 0] = np.inf
    elif bad == "huge":
        z *= 1e200
    elif bad == "labels":
        lab = lab + 0.5
    elif bad == "dup":
        c[:] = c[0]
    for fn in (clustr.nearest_center_radius, clustr.exact_center_radius):
        try:
            r = fn(z, c, lab)
            assert np.all(np.isfinite(r)) and np.all(r >= 0)
        except (ValueError, TypeError) as exc:
            assert "\n" not in str(exc)


@FUZZ
@given(features=garbage, labels=garbage, clusters=garbage, alpha=scalars)
def test_magnet_loss(features, labels, clusters, alpha):
    _ok(clustr.magnet_loss, features, labels, clusters, alpha)
    _ok(clustr.MagnetLoss, alpha)


@FUZZ
@given(n=st.integers(0, 5), alpha=st.floats(allow_nan=True, allow_infinity=True),
       scale=st.sampled_from([0.0, 1.0, 1e30, float("nan")]))
def test_magnet_loss_near_valid(n, alpha, scale):
    f = torch.randn(n, 2, dtype=torch.float64) * scale
    lab = torch.arange(n) % 2
    _ok(clustr.magnet_loss, f, lab, lab, alpha)


@FUZZ
@given(input_shape=garbage, feature_dim=scalars, hidden=garbage, kind=scalars)
def test_make_embedding_and_classifier(input_shape, feature_dim, hidden, kind):
    _ok(clustr.make_embedding, input_shape, feature_dim, hidden, kind)
    _ok(clustr.ClusterClassifier, nn.Flatten(), feature_dim, feature_dim, 2, input_shape)


@FUZZ
@given(shape=st.lists(st.integers(-2, 10**6), min_size=0, max_size=5), dim=st.integers(-1, 10**6),
       hidden=st.lists(st.integers(-1, 10**5), max_size=3))
def test_make_embedding_caps(shape, dim, hidden):
    _ok(clustr.make_embedding, tuple(shape), dim, tuple(hidden))


@FUZZ
@given(centers=garbage, box=st.one_of(garbage, st.tuples(scalars, scalars, scalars, scalars)))
def test_voronoi(centers, box):
    from robustcore.clustr.voronoi import voronoi_segments

    _ok(voronoi_segments, centers, box)


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    m = clustr.ClusterClassifier(clustr.make_embedding((1, 4, 4), 3, (5,)), 3, 2, 3, (1, 4, 4))
    m.centers.copy_(torch.randn(6, 3))  # fixed centres: no k-means (sklearn) in a fuzz test
    return m.eval()


@FUZZ
@given(x=garbage, eps=scalars, steps=scalars, loss=scalars)
def test_attacks(small_model, x, eps, steps, loss):
    y = torch.zeros(1, dtype=torch.long)
    _ok(clustr.l2_pgd_path, small_model, x, y, eps, steps=steps if isinstance(steps, int) and steps < 50 else 2,
        loss=loss)
    _ok(attack_accuracy, small_model, x, y, eps, loss, steps=2, restarts=1)
    _ok(clustr.certify_image, x, small_model)
    _ok(qtrades_consistency, small_model, x, eps)


@FUZZ
@given(eps=st.floats(allow_nan=True, allow_infinity=True), steps=st.integers(-5, 10**6),
       restarts=st.integers(-5, 10**4), attack=st.sampled_from(["official", "ours", "soft-margin", "x"]),
       L=st.integers(-2, 10**5))
def test_attack_accuracy_numbers(small_model, eps, steps, restarts, attack, L):
    X = torch.rand(3, 1, 4, 4)
    y = torch.tensor([0, 1, 2])
    if steps > 5 or restarts > 2:  # in range but slow: only check the refusal path quickly
        steps, restarts = (steps if steps <= 0 else 2), (restarts if restarts <= 0 else 1)
    _ok(attack_accuracy, small_model, X, y, eps, attack, steps=steps, restarts=restarts, L=L)
    _ok(clustr.lipschitz_upper_bound, small_model.embedding, (1, 4, 4))


@FUZZ
@given(net=st.sampled_from([nn.Linear(3, 2), nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), "net", None]),
       shape=garbage, X=garbage)
def test_lipschitz(net, shape, X):
    _ok(clustr.lipschitz_upper_bound, net, shape)
    _ok(clustr.lipschitz_lower_bound, net, X)


@FUZZ
@given(kind=st.one_of(scalars, st.sampled_from(["clustr", "ce", "clustr-free"])),
       recipe=st.one_of(scalars, st.sampled_from(["official", "ours"])),
       key=st.sampled_from(["epochs", "lr", "alpha", "k_per_class", "hidden", "milestones", "seed", "dataset",
                            "schedule_scale", "nonsense"]), value=st.one_of(scalars, garbage))
def test_model_config(kind, recipe, key, value):
    try:
        cfg = model_config(kind, recipe, **{key: value})
    except (ValueError, TypeError) as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(config_summary(cfg), str) and isinstance(recipe_deviations(cfg), list)
