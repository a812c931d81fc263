"""Page test of the certificates page: renders, selects an image, finds the certificate table."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from robustcore.viz.smoothing import digit_from_png

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "certificates.py")


@pytest.fixture(scope="module", autouse=True)
def trained_model():
    # Train (or load) the page's default model outside the page's timeout.
    from robustcore.smoothing.training import smoothing_model

    smoothing_model("cohen", 0.25)


def _table(at: AppTest):
    for df in at.dataframe:
        v = df.value
        if "certificate" in v.columns and "status" in v.columns:
            return v
    raise AssertionError("no certificate table on the page")


@pytest.mark.slow
def test_page_selects_an_image_and_shows_every_certificate():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["image"] = "3"
    at.query_params["n"] = "500"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    index = next(w for w in at.number_input if w.label == "Test image index")
    assert index.value == 3  # page state read from the URL
    table = _table(at)
    assert list(table["status"])[:4] == ["sound", "NOT a guarantee", "sound via memory",
                                        "sound via the Lipschitz bound"] or "abstains" in set(table["status"])
    assert table.iloc[0]["sigma"] == pytest.approx(0.25)
    assert len(at.get("plotly_chart")) >= 4  # gallery, noise, votes, landscape, path
    assert any("Cohen certificate" in s.value or "abstains" in s.value for s in list(at.success) + list(at.warning))

    # Select another image: the table follows and the URL records it.
    index.set_value(17).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["image"] == ["17"] or at.query_params["image"] == "17"
    assert len(_table(at)) == 5

    # Larger sigma through the slider: the fixed-sigma row uses it.
    next(s for s in at.slider if s.label == "Certification sigma").set_value(0.5).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _table(at).iloc[0]["sigma"] == pytest.approx(0.5)


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_uploaded_png_is_checked_and_resized():
    img = np.full((32, 32), 255, dtype=np.uint8)
    img[4:28, 14:18] = 0  # a dark "1" on white paper
    x = digit_from_png(_png(img))
    assert x.shape == (1, 8, 8) and x.dtype == np.float32 and x.min() == 0 and x.max() == 1
    assert x[0, 1:7, 3:5].min() == 1 and x[0, :, :3].max() == 0  # inverted: bright stroke on black
    with pytest.raises(ValueError, match="not a readable PNG"):
        digit_from_png(b"not an image")
    with pytest.raises(ValueError, match="at least 8x8"):
        digit_from_png(_png(np.zeros((4, 4), dtype=np.uint8)))
    with pytest.raises(ValueError, match="blank"):
        digit_from_png(_png(np.full((16, 16), 7, dtype=np.uint8)))
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG")
    with pytest.raises(ValueError, match="PNG"):
        digit_from_png(buf.getvalue())
