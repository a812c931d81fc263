"""Figures of the certificates page (robustcore.viz.smoothing): categorical axes keep every bar, titles and
markers do not overlap, uploads become images of the dataset's shape."""
from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from robustcore.viz.smoothing import (
    VOTE_ROLES,
    certified_accuracy_figure,
    digit_from_png,
    image_from_png,
    image_grid,
    landscape_figure,
    sigma_path_figure,
    vote_histogram,
)


def _bars(fig: go.Figure) -> dict[str, tuple[float, str]]:
    """class name -> (height, legend name) over every bar trace."""
    out = {}
    for tr in fig.data:
        assert tr.type == "bar"
        for x, y in zip(tr.x, tr.y):
            assert x not in out, f"class {x} drawn twice"
            out[x] = (float(y), tr.name)
    return out


def _assert_every_voted_class_visible(fig: go.Figure, counts: np.ndarray) -> None:
    xa, ya = fig.layout.xaxis, fig.layout.yaxis
    # a category axis: plotly never re-types the labels (the "1 (true)" label once made it numeric)
    assert xa.type == "category"
    names = [str(c) for c in range(len(counts))]
    assert list(xa.categoryarray) == names
    bars = _bars(fig)
    for c, v in enumerate(counts):
        if v > 0:
            h, _ = bars[str(c)]
            assert h == v
            assert ya.range[0] <= 0 and ya.range[1] >= v  # inside the visible range, not clipped
    assert fig.layout.barmode == "overlay"  # one bar per category: no slots left empty by other traces


@given(st.lists(st.integers(0, 10**5), min_size=2, max_size=12).filter(lambda v: sum(v) > 0),
       st.integers(0, 11), st.integers(0, 11))
@settings(max_examples=60, deadline=None)
def test_every_class_with_votes_has_a_visible_bar(votes, true_label, extra):
    counts = np.array(votes)
    K = len(counts)
    candidate = int(np.argmax(counts))
    true_label = true_label % K
    fig = vote_histogram(counts, candidate, true_label)
    _assert_every_voted_class_visible(fig, counts)
    roles = {name: legend for name, (_, legend) in _bars(fig).items()}
    if candidate == true_label:
        assert roles[str(candidate)] == VOTE_ROLES["both"][0]
    else:
        assert roles[str(candidate)] == VOTE_ROLES["predicted"][0]
        assert roles[str(true_label)] == VOTE_ROLES["true"][0]
    others = set(roles) - {str(candidate), str(true_label)}
    assert all(roles[o] == VOTE_ROLES["other"][0] for o in others)
    # the marks are colours named in the legend, never text inside a class label
    assert all(str(x).isdigit() for tr in fig.data for x in tr.x)
    assert all(tr.showlegend is not False for tr in fig.data)


def test_winning_class_one_is_drawn_when_it_is_the_true_class():
    # the exact case of issue 15: class 1 wins and is the true class
    counts = np.array([3, 950, 0, 0, 0, 0, 0, 47, 0, 0])
    fig = vote_histogram(counts, candidate=1, true_label=1)
    _assert_every_voted_class_visible(fig, counts)
    assert _bars(fig)["1"] == (950.0, VOTE_ROLES["both"][0])


def test_vote_histogram_without_true_label_and_bad_counts():
    fig = vote_histogram(np.array([0, 0, 5]), candidate=2, true_label=None)
    assert _bars(fig)["2"][1] == VOTE_ROLES["predicted"][0]
    for bad in (np.array([]), np.array([1, -1]), np.array([np.nan, 1.0])):
        with pytest.raises(ValueError, match="counts"):
            vote_histogram(bad)


@pytest.mark.parametrize("shape", [(12, 1, 8, 8), (12, 1, 28, 28), (7, 3, 32, 32), (5, 8, 8)])
def test_image_grid_is_one_mosaic_with_room_for_every_title(shape):
    rng = np.random.default_rng(0)
    imgs = rng.random(shape)
    titles = [f"#{i}<br>y=3 f=3<br>R=0.42" for i in range(shape[0])]
    size = 90
    fig = image_grid(imgs, titles, ncols=6, size=size)
    k, (H, W) = shape[0], shape[-2:]
    assert len(fig.data) == 1  # one trace, not one subplot per tile
    assert fig.data[0].type == ("image" if len(shape) == 4 and shape[1] == 3 else "heatmap")
    z = np.asarray(fig.data[0].z, dtype=float)
    unit = size / H  # the figure has a fixed pixel size, so data units map to pixels exactly
    plot_w = fig.layout.width - fig.layout.margin.l - fig.layout.margin.r
    plot_h = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    assert plot_w == pytest.approx(z.shape[1] * unit, abs=1) and plot_h == pytest.approx(z.shape[0] * unit, abs=1)
    # every tile is in the mosaic where its title says, and each title has a band of >= 13 px per line above it
    anns = list(fig.layout.annotations)
    assert len(anns) == k
    band_px = fig.layout.meta["band"] * unit
    assert band_px >= 13 * 3
    tiles = []
    for i, a in enumerate(anns):
        y0, x0 = int(a.y + 0.5), int(a.x - (W - 1) / 2)
        tile = z[y0:y0 + H, x0:x0 + W] if z.ndim == 2 else z[y0:y0 + H, x0:x0 + W].transpose(2, 0, 1) / 255
        ref = imgs[i] if len(shape) == 4 and shape[1] == 3 else np.asarray(imgs[i]).reshape(H, W)
        assert np.allclose(tile, ref, atol=1 / 255 if z.ndim == 3 else 1e-12)
        # the band above the tile is empty (no other tile's pixels under the title)
        above = z[max(0, y0 - fig.layout.meta["band"]):y0, x0:x0 + W]
        assert (np.isnan(above).all() if z.ndim == 2 else (above == 255).all())
        tiles.append((y0, x0))
    # neighbouring titles are at least a tile apart horizontally (a title line of <= 14 characters fits)
    rows = {}
    for y0, x0 in tiles:
        rows.setdefault(y0, []).append(x0)
    for xs in rows.values():
        assert all(b - a >= W for a, b in zip(sorted(xs), sorted(xs)[1:]))


def test_image_grid_refuses_bad_shapes():
    with pytest.raises(ValueError):
        image_grid(np.zeros((2, 2, 8, 8)))
    with pytest.raises(ValueError):
        image_grid(np.zeros((0, 8, 8)))
    with pytest.raises(ValueError):
        image_grid(np.zeros((2, 8, 8)), titles=["one"])


def test_landscape_markers_are_legend_lines_not_overlapping_text():
    s = np.round(np.arange(1, 21) * 0.05, 2)
    r = np.maximum(0, 1 - (s - 0.4) ** 2 * 4)
    fig = landscape_figure(s, r, r * 0.9, 3.2 * s, np.full(20, 0.9), np.full(20, 0.85), np.full(20, 0.95),
                           sigma_opt=0.301, path_sigma=np.array([0.25, 0.28, 0.301]), current_sigma=0.30)
    # two close sigmas: no text annotation on the plot, both named in the legend with their values
    assert not [a for a in fig.layout.annotations if a.text]
    legend = [tr.name for tr in fig.data if tr.showlegend is not False]
    assert "current σ = 0.30" in legend and "optimised σ_x = 0.30" in legend
    # round tick steps on every panel, one shared σ axis
    assert fig.layout.xaxis.dtick in (0.1, 0.2, 0.5)
    assert fig.layout.xaxis2.dtick == fig.layout.xaxis3.dtick == fig.layout.xaxis.dtick
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0  # below the axes


def test_landscape_legends_use_the_prose_symbols():
    s = np.linspace(0.1, 1.0, 10)
    fig = landscape_figure(s, s, s, s, s, s, s, sigma_opt=0.5, path_sigma=s[:3], current_sigma=0.2)
    text = " ".join(str(tr.name) for tr in fig.data) + " " + " ".join(
        str(ax.title.text) for ax in (fig.layout.xaxis3, fig.layout.yaxis, fig.layout.yaxis2))
    assert "σ" in text and "p̲_A" in text and "R̃(σ)" in text and "Φ⁻¹" in text
    for ascii_name in ("sigma", "p_lower", "p_hat", "Phi", "alpha", "R~"):
        assert ascii_name not in text, ascii_name


def _trace(fig: go.Figure, prefix: str):
    return next(tr for tr in fig.data if str(tr.name).startswith(prefix))


def test_ascent_path_has_its_own_strip_with_start_end_and_order():
    """The ascent never covers the landscape: it lives on the third row (x = σ_t on the shared σ axis,
    y = step t), with the start σ_0 and the end σ_x marked, and at most 21 marked steps in step order."""
    s = np.round(np.arange(1, 21) * 0.05, 2)
    rng = np.random.default_rng(0)
    path = 0.25 + np.cumsum(rng.normal(0.0005, 0.01, 201))  # a long, noisy ascent of 200 steps
    path[0] = 0.25
    fig = landscape_figure(s, s, s, s, s, s, s, sigma_opt=path[-1], path_sigma=path)
    for tr in fig.data:  # nothing of the ascent on the landscape rows
        if "ascent" in str(tr.name) or str(tr.name).startswith(("start", "end")):
            assert tr.yaxis == "y3" and tr.xaxis == "x3"
    line = _trace(fig, "ascent σ_t")
    steps = np.asarray(line.y)
    assert 2 <= len(steps) <= 21 and steps[0] == 0 and steps[-1] == 200 and np.all(np.diff(steps) > 0)
    assert np.allclose(line.x, path[steps])  # the path's own values at those steps, in step order
    assert len([tr for tr in fig.data if tr.yaxis == "y3" and tr.type == "scatter" and tr.x[0] != tr.x[-1]]) == 1
    start, end = _trace(fig, "start σ_0"), _trace(fig, "end σ_x")
    assert (start.x[0], start.y[0]) == (path[0], 0) and (end.x[0], end.y[0]) == (path[-1], 200)
    assert start.marker.symbol != end.marker.symbol
    rng_y = fig.layout.yaxis3.range
    assert rng_y[0] > 200 and rng_y[1] < 0  # step 0 at the top: read downwards
    # without a path: two rows, as before
    fig = landscape_figure(s, s, s, s, s, s, s)
    assert "yaxis3" not in fig.layout.to_plotly_json() and not any(tr.yaxis == "y3" for tr in fig.data)


def test_sigma_path_figure_marks_start_and_end_and_smooths_the_noisy_surrogate():
    sh = np.linspace(0.25, 0.35, 51)
    rh = np.where(np.arange(50) % 2 == 0, 1.0, 0.0)  # a surrogate that alternates 1, 0, 1, 0 ...
    rh[7] = np.nan  # a failed estimate is skipped by the mean, not spread to its neighbours
    fig = sigma_path_figure(sh, rh)
    mean = _trace(fig, "R̃_t, mean of the last")
    window = int(mean.name.split("last ")[1].split(" ")[0])
    assert window == 5
    # brute force: the mean of the finite values among the last `window` steps
    for t in range(50):
        vals = rh[max(0, t - window + 1):t + 1]
        assert mean.y[t] == pytest.approx(np.nanmean(vals))
    raw = _trace(fig, "R̃_t (one step")
    assert raw.mode == "markers" and np.allclose(raw.y, rh, equal_nan=True)
    start, end = _trace(fig, "start σ_0"), _trace(fig, "end σ_x")
    assert (start.x[0], end.x[0]) == (0, 50) and (start.y[0], end.y[0]) == (sh[0], sh[-1])


def test_other_figures_keep_legends_off_the_axes():
    fig = sigma_path_figure(np.linspace(0.25, 0.3, 10), np.linspace(0.4, 0.5, 10))
    assert fig.layout.legend.y < 0
    fig = certified_accuracy_figure({"a": (np.linspace(0, 1, 5), np.linspace(1, 0, 5)),
                                     "b": (np.linspace(0, 1, 5), np.linspace(0.9, 0, 5))}, dashed=["a"], dotted=["b"])
    assert [tr.line.dash for tr in fig.data] == ["dash", "dot"]
    assert fig.layout.legend.y < 0


def test_certified_accuracy_axis_ends_near_the_largest_certified_radius():
    r = np.linspace(0, 2, 201)
    fig = certified_accuracy_figure({"a": (r, np.where(r < 0.6, 0.8, 0.0)), "b": (r, np.where(r <= 0.85, 0.5, 0.0)),
                                     "none": (r, np.zeros_like(r))})
    lo, hi = fig.layout.xaxis.range
    assert lo == 0 and 0.85 < hi <= 0.85 * 1.1 + 1e-9  # every certified point visible, no long tail of zeros
    assert fig.layout.xaxis.title.text == "ℓ2 radius r"
    fig = certified_accuracy_figure({"none": (r, np.zeros_like(r))})
    assert fig.layout.xaxis.range is None  # nothing certified: plotly's own range


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_image_from_png_fits_every_dataset_shape():
    grey = np.full((56, 56), 255, dtype=np.uint8)
    grey[8:48, 26:30] = 0  # a dark "1" on white paper
    x = image_from_png(_png(grey), (1, 28, 28))
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and x.min() == 0 and x.max() == 1
    assert x[0, 6:22, 13:15].min() == 1 and x[0, :, :8].max() == 0  # inverted: bright stroke on black
    rgb = np.zeros((64, 64, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red photo
    c = image_from_png(_png(rgb), (3, 32, 32))
    assert c.shape == (3, 32, 32) and np.allclose(c[0], 200 / 255) and np.allclose(c[1:], 0)
    rgb[:32] = 0
    c = image_from_png(_png(rgb), (3, 32, 32))
    assert np.allclose(c[0, 16:], 200 / 255) and np.allclose(c[0, :16], 0) and np.allclose(c[1:], 0)
    with pytest.raises(ValueError, match="at least 32x32"):
        image_from_png(_png(np.zeros((16, 16, 3), dtype=np.uint8)), (3, 32, 32))
    with pytest.raises(ValueError, match="blank"):
        image_from_png(_png(np.full((40, 40, 3), 9, dtype=np.uint8)), (3, 32, 32))
    with pytest.raises(ValueError, match="shape"):
        image_from_png(_png(grey), (2, 8, 8))
    d = digit_from_png(_png(grey))
    assert d.shape == (1, 8, 8) and d.min() == 0 and d.max() == 1
    with pytest.raises(ValueError, match="not a readable PNG"):
        digit_from_png(b"not an image")
