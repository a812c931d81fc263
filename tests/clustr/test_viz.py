"""The page's figures draw what they claim: the certificate circle has the certified radius and
the decision-boundary trace holds only edges between centres of different classes."""
from __future__ import annotations

import numpy as np
import pytest

from robustcore.viz.clustr import digit_figure, embedding_figure, lipschitz_figure, radius_histogram


def test_embedding_figure_circle_and_boundary():
    rng = np.random.default_rng(0)
    C = rng.normal(size=(6, 2))
    lab = np.array([0, 0, 1, 1, 2, 2])
    F = rng.normal(size=(30, 2))
    y = rng.integers(0, 3, 30)
    fig = embedding_figure(F, y, C, lab, predictions=y, selected=3, radius=0.2, exact_radius=0.3,
                           path=F[3] + np.array([[0, 0], [0.05, 0.01]]), nearest_centers=(0, 2))
    names = {t.name: t for t in fig.data}
    for name, R in (("closed-form radius R_f", 0.2), ("exact radius", 0.3)):
        t = names[name]
        d = np.hypot(np.asarray(t.x) - F[3, 0], np.asarray(t.y) - F[3, 1])
        np.testing.assert_allclose(d, R, rtol=1e-12)
    bd = names["decision boundary"]
    xs, ys = np.asarray(bd.x, dtype=float), np.asarray(bd.y, dtype=float)
    pts = np.stack([xs, ys], 1)[~np.isnan(xs)]
    for p in pts:  # on a boundary the two nearest centres belong to different classes
        d = np.linalg.norm(C - p, axis=1)
        tied = np.abs(d - d.min()) <= 1e-7 * (1 + d.min())
        assert len(set(lab[tied])) >= 2
    assert "PGD path (feature space)" in names and "nearest centre μ_i" in names
    with pytest.raises(ValueError, match="2-D"):
        embedding_figure(np.zeros((3, 3)), y[:3], C, lab)


def test_other_figures_build():
    assert len(digit_figure(np.eye(8), adversarial=np.eye(8)).data) == 1
    assert len(radius_histogram({"a": np.ones(5), "b": np.zeros(5)}).data) == 2
    assert lipschitz_figure(["a", "b"], [2.0, 3.0], lower=1.5).data[0].y == (2.0, 3.0)
