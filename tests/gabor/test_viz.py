"""The page's figures carry the numbers they are given."""
import numpy as np
import pandas as pd

from robustcore.viz.gabor import (
    bank_gallery,
    block_factor,
    bound_curve,
    bound_curves,
    bound_vs_exact_bars,
    frequency_response,
    image_responses,
    kernel_and_spectrum,
    robustness_curves,
)


def test_frequency_response_peak_is_the_exact_norm():
    from robustcore.gabor import per_filter_spectral_norms

    k = np.random.default_rng(0).normal(size=(5, 5))
    mag, f = frequency_response(k, 16)
    assert mag.shape == (16, 16) and f[8] == 0.0
    assert np.isclose(mag.max(), per_filter_spectral_norms(k[None], 16)[0])
    assert np.isclose(mag[8, 8], abs(k.sum()))  # zero frequency at the centre after fftshift


def test_gallery_and_kernel_figures():
    bank = np.random.default_rng(1).normal(size=(6, 1, 5, 5))
    fig = bank_gallery(bank, [f"t{i}" for i in range(6)], n_fft=16, cols=3)
    assert len(fig.data) == 2
    kz = np.array(fig.data[0].z, dtype=float)
    band = 2  # label band above each tile row (k = 5)
    np.testing.assert_allclose(kz[band:band + 5, :5], bank[0, 0], rtol=1e-6)  # first tile is the first kernel
    assert np.isnan(kz[band + 5, 0])  # NaN gap between tiles
    labels = [a for a in fig.layout.annotations if a.xref == "x"]
    assert [a.text for a in labels] == [f"t{i}" for i in range(6)]
    # No label covers a tile: each sits in an all-NaN band of rows, inside the plot (below the title).
    for a in labels:
        row = int(round(a.y))
        assert 0 <= row and np.isnan(kz[row]).all(), a.y
    fk = kernel_and_spectrum(bank[2, 0], n_fft=16)
    np.testing.assert_allclose(np.array(fk.data[0].z, dtype=float), bank[2, 0], rtol=1e-6)


def test_bars_curves_and_image():
    fb = bound_vs_exact_bars(np.array([3.0, 40.0]), np.array([1.0, 2.0]), ["a", "b"], l1=np.array([2.0, 3.0]))
    assert [list(d.y) for d in fb.data] == [[1.0, 2.0], [2.0, 3.0], [3.0, 40.0]]
    # log axis with decade ticks only, covering the data; categorical x
    assert fb.layout.yaxis.type == "log" and list(fb.layout.yaxis.tickvals) == [1.0, 10.0, 100.0]
    assert fb.layout.xaxis.type == "category" and fb.layout.legend.y < 0
    fc = bound_curve(np.arange(3.0), np.ones(3) * 5, np.ones(3), "sigma", current=1.0)
    assert len(fc.data) == 2
    img = np.random.default_rng(2).random((10, 12))
    resp = np.random.default_rng(3).normal(size=(4, 10, 12))
    fi = image_responses(img, resp, cols=2)
    np.testing.assert_allclose(np.array(fi.data[0].z, dtype=float), img, rtol=1e-6)
    mz = np.array(fi.data[1].z, dtype=float)
    band = 8
    np.testing.assert_allclose(mz[band:band + 10, :12], resp[0] / np.abs(resp[0]).max(), rtol=1e-6)
    for a in [a for a in fi.layout.annotations if a.xref == "x2"]:
        assert np.isnan(mz[int(round(a.y))]).all()


def test_robustness_curves():
    long = pd.DataFrame([
        {"variant": v, "norm": n, "eps": e, "accuracy": a}
        for v in ("standard", "gabor") for n, e, a in (("clean", 0.0, 0.9), ("linf", 0.1, 0.5), ("l2", 0.5, 0.6))
    ])
    fig = robustness_curves(long)
    assert len(fig.data) == 4
    assert list(fig.data[0].x) == [0.0, 0.1] and list(fig.data[0].y) == [0.9, 0.5]


def test_regularizer_path_figure():
    from robustcore.viz.gabor import regularizer_path_figure

    path = {k: np.array([3.0, 2.0, 1.0]) for k in ("step", "bank_bound", "bank_exact", "layer_bound",
                                                      "layer_exact_product")}
    fig = regularizer_path_figure(path)
    assert len(fig.data) == 4 and list(fig.data[0].y) == [3.0, 2.0, 1.0]


def test_reproduction_figure_shows_means_with_std_bars():
    from robustcore.viz.gabor import reproduction_figure

    t = pd.DataFrame({"method": ["standard LeNet", "standard LeNet", "Gabor LeNet", "Gabor LeNet"],
                      "setting": ["clean", "PGD l-inf 0.1"] * 2, "accuracy mean": [0.9, 0.5, 0.92, 0.6],
                      "accuracy std": [0.01, 0.02, 0.01, 0.03], "seeds": [3] * 4})
    fig = reproduction_figure(t)
    assert len(fig.data) == 2 and list(fig.data[1].y) == [0.92, 0.6] and list(fig.data[1].error_y.array) == [0.01, 0.03]
    assert fig.layout.xaxis.type == "category"


def test_kernel_figure_has_colour_bars_and_grid_ticks():
    k = np.random.default_rng(4).normal(size=(7, 7))
    fig = kernel_and_spectrum(k, n_fft=16)
    kern, spec = fig.data[0], fig.data[1]
    # colour carries a value in both panels: both show a colour bar, and the two bars do not overlap
    assert kern.showscale is not False and spec.showscale is not False
    assert kern.colorbar.title.text == "g" and kern.colorbar.x < fig.layout.xaxis2.domain[0]
    # the kernel's axes are the page's grid linspace(-1, 1, k), with tick numbers shown
    np.testing.assert_allclose(kern.x, np.linspace(-1, 1, 7))
    np.testing.assert_allclose(kern.y, np.linspace(-1, 1, 7))
    assert fig.layout.xaxis.showticklabels is not False and fig.layout.yaxis.showticklabels is not False
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    # symmetric colour scale: zero is the neutral colour
    assert kern.zmin == -kern.zmax == -np.abs(k).max()


def test_image_tiles_are_block_means_and_the_figure_shrinks():
    rng = np.random.default_rng(5)
    img = rng.random((150, 190))
    resp = rng.normal(size=(3, 150, 190))
    fig = image_responses(img, resp, cols=3, max_side=96)
    f = block_factor(resp.shape[1:], 96)
    assert f == 2
    # reference: explicit loops over 2 x 2 blocks of the response / its full-resolution peak
    r0 = resp[0] / np.abs(resp[0]).max()
    ref = np.array([[r0[2 * i:2 * i + 2, 2 * j:2 * j + 2].mean() for j in range(95)] for i in range(75)])
    mz = np.array(fig.data[1].z, dtype=float)
    band = max(8, 75 // 5)
    np.testing.assert_allclose(mz[band:band + 75, :95], ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.array(fig.data[0].z, dtype=float)[0, 0], img[:2, :2].mean(), rtol=1e-6)
    full = image_responses(img, resp, cols=3, max_side=10**4)
    assert len(fig.to_json()) < 0.4 * len(full.to_json())


def test_regularizer_path_keeps_coincident_series_apart():
    from robustcore.viz.gabor import regularizer_path_figure

    bank = np.array([30.0, 20.0, 10.0])
    path = {"step": np.arange(3), "bank_bound": bank, "bank_exact": bank / 5, "layer_bound": 1.01 * bank,
            "layer_exact_product": 1.01 * bank / 5}
    fig = regularizer_path_figure(path)
    layer_b, layer_e, bank_b, bank_e = fig.data
    # same quantity, same colour; layer vs bank told apart by dash and markers
    assert layer_b.line.color == bank_b.line.color and layer_e.line.color == bank_e.line.color
    assert layer_b.line.dash in (None, "solid") and bank_b.line.dash == "dash" and "markers" in bank_b.mode
    assert "‖W‖₂ = 1.01" in bank_b.name  # the factor between the pairs, read from the data


def test_bound_curves_puts_the_panels_side_by_side_with_one_legend():
    rng = np.random.default_rng(4)
    a = dict(values=np.linspace(0.1, 8, 5), bound=rng.uniform(2, 30, 5), exact=rng.uniform(0.5, 1.5, 5),
             xlabel="σ (inverse width)", l1=rng.uniform(1, 2, 5), current=1.5)
    b = dict(values=np.linspace(0.1, 4, 5), bound=rng.uniform(200, 900, 5), exact=rng.uniform(0.5, 1.5, 5),
             xlabel="γ (aspect ratio)", l1=rng.uniform(1, 2, 5), current=1.0)
    fig = bound_curves([a, b])
    one, two = bound_curve(**a), bound_curve(**b)
    assert len(fig.data) == len(one.data) + len(two.data)
    for tr, ref in zip(fig.data, list(one.data) + list(two.data)):
        assert tr.name == ref.name and list(tr.y) == list(ref.y)
    assert [tr.xaxis for tr in fig.data] == ["x"] * 3 + ["x2"] * 3
    assert sum(bool(tr.showlegend) for tr in fig.data) == 3  # one legend entry per quantity
    # each panel keeps its own decade axis (the γ panel reaches 1000, the σ panel does not)
    assert fig.layout.yaxis.type == fig.layout.yaxis2.type == "log"
    assert list(fig.layout.yaxis.tickvals) == list(one.layout.yaxis.tickvals)
    assert list(fig.layout.yaxis2.tickvals) == list(two.layout.yaxis.tickvals) and 1000 in fig.layout.yaxis2.tickvals
    assert {s.x0 for s in fig.layout.shapes} == {1.5, 1.0}
    assert fig.layout.xaxis.title.text == "σ (inverse width)" and fig.layout.xaxis2.title.text == "γ (aspect ratio)"


def test_figure_text_uses_the_page_notation():
    import re

    from robustcore.viz.gabor import regularizer_path_figure

    k = np.random.default_rng(6).normal(size=(2, 5, 5))
    long = pd.DataFrame([{"variant": "gabor", "norm": n, "eps": e, "accuracy": 0.5}
                         for n, e in (("clean", 0.0), ("linf", 0.1), ("l2", 0.5))])
    path = {x: np.array([3.0, 2.0]) for x in ("step", "bank_bound", "bank_exact", "layer_bound",
                                              "layer_exact_product")}
    figs = [kernel_and_spectrum(k[0]), bank_gallery(k), bound_vs_exact_bars(np.ones(2), np.ones(2), l1=np.ones(2)),
            bound_curve(np.arange(2.0), np.ones(2), np.ones(2), "σ", l1=np.ones(2)), regularizer_path_figure(path),
            bound_curves([dict(values=np.arange(2.0), bound=np.ones(2), exact=np.ones(2), xlabel="γ")]),
            robustness_curves(long), image_responses(k[0], k)]
    for fig in figs:
        text = " ".join(str(v) for v in _texts(fig.to_plotly_json()))
        pattern = r"\b(sigma|gamma|lambda|lambd|psi|theta|omega|eps|sqrt|sum|l-inf)\b|\|\||K\^|L_bound|\bl[12]\b"
        bad = [m.group(0) for m in re.finditer(pattern, text)]
        assert not bad, (bad, text[:300])


def _texts(obj):
    """Every string under a 'text' or 'name' key of a figure's JSON (titles, legend names, annotations)."""
    if isinstance(obj, dict):
        for key, v in obj.items():
            if key in ("text", "name") and isinstance(v, str):
                yield v
            else:
                yield from _texts(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _texts(v)
