"""The home page's pictures are real results of the library, checked against independent references."""
import numpy as np
import pytest
from scipy.spatial import ConvexHull
from scipy.stats import norm

from robustcore.viz.home import THUMBNAILS, thumbnail


def test_every_line_has_a_picture():
    for line in THUMBNAILS:
        fig = thumbnail(line)
        assert len(fig.data) >= 1 and fig.layout.height <= 250
    with pytest.raises(ValueError):
        thumbnail("nope")


def test_tropical_picture_is_the_hull_of_the_two_zonotopes():
    fig = thumbnail("tropical")
    hull, z1, z2 = (np.c_[t.x, t.y][:-1] for t in fig.data)
    both = np.vstack([z1, z2])
    ref = both[ConvexHull(both).vertices]
    assert ConvexHull(hull).volume == pytest.approx(ConvexHull(ref).volume, rel=1e-9)


def test_certificate_picture_is_cohens_radius():
    fig = thumbnail("certificates")
    for tr in fig.data:
        sigma = float(tr.name.split("=")[1])
        np.testing.assert_allclose(tr.y, sigma * norm.ppf(np.asarray(tr.x)), rtol=1e-12)


def test_clustering_ball_stays_in_the_class():
    fig = thumbnail("clustering")
    circle = np.c_[fig.data[2].x, fig.data[2].y]
    centres = np.c_[fig.data[1].x, fig.data[1].y]
    d = ((circle[:, None, :] - centres[None]) ** 2).sum(-1)
    # on the ball's boundary the nearest centre is still the point's own, or tied to within round-off
    own = d[:, 0]
    assert np.all(own <= d.min(1) + 1e-9)


def test_batchsize_marker_is_the_minimum_of_the_curve():
    fig = thumbnail("batch_size")
    curve, marker = fig.data[0], fig.data[1]
    assert marker.y[0] <= np.min(curve.y) * (1 + 1e-9)
