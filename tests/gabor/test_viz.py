"""The page's figures carry the numbers they are given."""
import numpy as np
import pandas as pd

from robustcore.viz.gabor import (
    bank_gallery,
    bound_curve,
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
    np.testing.assert_allclose(kz[band:band + 5, :5], bank[0, 0])  # first tile is the first kernel
    assert np.isnan(kz[band + 5, 0])  # NaN gap between tiles
    labels = [a for a in fig.layout.annotations if a.xref == "x"]
    assert [a.text for a in labels] == [f"t{i}" for i in range(6)]
    # No label covers a tile: each sits in an all-NaN band of rows, inside the plot (below the title).
    for a in labels:
        row = int(round(a.y))
        assert 0 <= row and np.isnan(kz[row]).all(), a.y
    fk = kernel_and_spectrum(bank[2, 0], n_fft=16)
    np.testing.assert_allclose(np.array(fk.data[0].z, dtype=float), bank[2, 0])


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
    np.testing.assert_allclose(np.array(fi.data[0].z, dtype=float), img)
    mz = np.array(fi.data[1].z, dtype=float)
    band = 6
    np.testing.assert_allclose(mz[band:band + 10, :12], resp[0] / np.abs(resp[0]).max())
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
