"""The page's figures draw what they claim: the certificate circle has the certified radius and
the decision-boundary trace holds only edges between centres of different classes; the centre labels sit
above every trace; the radius histogram's counts match numpy's on shared bins, in distinct colours."""
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
    for name, R in (("closed-form radius R<sub>f</sub>", 0.2), ("exact radius R*", 0.3)):
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
    assert "PGD path (feature space)" in names and "nearest centre μ<sub>i</sub>" in names
    with pytest.raises(ValueError, match="2-D"):
        embedding_figure(np.zeros((3, 3)), y[:3], C, lab)


def test_other_figures_build():
    assert len(digit_figure(np.eye(8), adversarial=np.eye(8)).data) == 1
    assert len(radius_histogram({"a": np.ones(5), "b": np.zeros(5)}).data) == 2


def test_centre_labels_are_annotations_above_the_points():
    rng = np.random.default_rng(1)
    C = rng.normal(size=(4, 2))
    lab = np.array([3, 3, 7, 7])
    F = rng.normal(size=(20, 2))
    fig = embedding_figure(F, rng.integers(0, 2, 20), C, lab, selected=0, radius=0.1)
    # plotly draws layout annotations above all traces; a text trace would sit under later point traces
    assert all("text" not in (getattr(t, "mode", None) or "") for t in fig.data)
    ann = fig.layout.annotations
    assert len(ann) == len(C)
    for a, (cx, cy), c in zip(ann, C, lab):
        assert (a.x, a.y) == (cx, cy) and a.text == f"<b>{c}</b>" and a.bgcolor and a.bgcolor != "rgba(0,0,0,0)"


def test_radius_histogram_counts_on_shared_bins_in_distinct_colours():
    rng = np.random.default_rng(2)
    exact = rng.gamma(2.0, 0.01, 300)
    closed = exact * rng.uniform(0.6, 1.0, 300)
    fig = radius_histogram({"exact": exact, "closed": np.append(closed, np.inf)}, bins=25)
    bars, step = fig.data
    edges = np.linspace(min(exact.min(), closed.min()), max(exact.max(), closed.max()), 26)
    np.testing.assert_array_equal(bars.y, np.histogram(exact, bins=edges)[0])
    np.testing.assert_allclose(bars.x, (edges[:-1] + edges[1:]) / 2)
    # the step outline: closed at 0 on both ends, and its plateaus are numpy's counts (the inf left out)
    ys = np.asarray(step.y)
    assert ys[0] == 0 and ys[-1] == 0 and step.line.shape == "hv"
    np.testing.assert_array_equal(ys[1:-2], np.histogram(closed, bins=edges)[0])
    assert ys.sum() - ys[-2] == len(closed)
    assert bars.marker.color.lower() != step.line.color.lower()
    assert [t.name for t in fig.data] == ["exact", "closed"]
    # one value repeated: a single narrow bin, no division by zero
    flat = radius_histogram({"a": np.full(4, 0.5)})
    assert flat.data[0].y.sum() == 4
    with pytest.raises(ValueError, match="series"):
        radius_histogram({})
    assert lipschitz_figure(["a", "b"], [2.0, 3.0], lower=1.5).data[0].y == (2.0, 3.0)
