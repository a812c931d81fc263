"""AppTest of the Gabor page: it renders without exceptions, its figures exist, and widgets drive it."""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from robustcore.gabor import closed_form_bound, per_filter_spectral_norms
from robustcore.gabor.sweep import single_kernel


PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "gabor.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60)


def test_page_renders_and_sliders_update_bound_and_exact():
    at = _page().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) >= 5  # kernel+spectrum, gallery, bars, σ/γ curves, regulariser path
    assert not any(c.key == "g_image" for c in at.get("plotly_chart"))  # the photograph is on request
    assert len(at.latex) >= 2
    labels = [m.label for m in at.metric]
    assert "bound" in labels and "exact ‖K‖₂" in labels

    at.slider(key="g_sigma").set_value(4.0).run()
    at.slider(key="g_theta").set_value(30.0).run()
    assert not at.exception and not at.error
    m = {x.label: float(x.value) for x in at.metric if x.label != "bound/exact"}
    # Zero padding on n x n is a compression of circular padding on n + k - 1 pixels.
    kern = single_kernel(7, 4.0, 1.0, 6.0, 0.0, np.radians(30.0), 1.0)
    assert m["zero-pad ‖A‖₂"] <= float(per_filter_spectral_norms(kern[None], 32 + 6)[0]) * 1.001
    # The page shows what the library computes for the new settings (k = 7, n = 32 by default) ...
    assert m["bound"] == pytest.approx(float(closed_form_bound(4.0, 1.0, 1.0, np.radians(30.0), 7)), rel=1e-3)
    assert m["exact ‖K‖₂"] == pytest.approx(float(per_filter_spectral_norms(kern[None], 32)[0]), rel=1e-3)
    # ... and the bound sits above the exact value on the page too.
    assert m["bound"] >= m["exact ‖K‖₂"]
    at.selectbox(key="g_path_kind").set_value("bound").run()
    assert not at.exception and not at.error
    assert any("closed-form layer bound" in c.value and "→" in c.value for c in at.caption)
    assert at.query_params["sigma"] == ["4.0"] or at.query_params["sigma"] == "4.0"


def test_page_reads_state_from_url_and_handles_a_bad_upload():
    at = _page()
    at.query_params["k"] = "5"
    at.query_params["R"] = "4"
    at.query_params["img"] = "flower.jpg"
    at.run()
    assert not at.exception and not at.error
    assert at.select_slider(key="g_k").value == 5 and at.slider(key="g_R").value == 4
    at.radio(key="g_img").set_value("upload").run()
    assert not at.exception and not at.error
    assert any("Choose a file" in i.value for i in at.info)


def _has_image(at) -> bool:
    return any(c.key == "g_image" for c in at.get("plotly_chart"))


def test_the_photograph_opens_on_request_and_from_a_shared_link():
    at = _page().run()
    assert not _has_image(at) and "photo" not in at.query_params
    at.toggle(key="g_photo").set_value(True).run()
    assert not at.exception and not at.error and _has_image(at)
    assert at.query_params["photo"] in ("1", ["1"]) and at.query_params["img"] in ("china.jpg", ["china.jpg"])
    at.toggle(key="g_photo").set_value(False).run()
    assert not _has_image(at) and "photo" not in at.query_params and "img" not in at.query_params
    for params in ({"photo": "1"}, {"img": "flower.jpg"}):
        at = _page()
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception and not at.error and _has_image(at), params
        assert at.radio(key="g_img").value == params.get("img", "china.jpg")


GARBAGE = ["nan", "inf", "-inf", "1e308", "-1", "x" * 10_000, "nonsense"]


@pytest.mark.slow
def test_garbage_urls_render_without_exception_or_error_box():
    # issue 12: /gabor?lambd=inf, ?k=4, ?n=33, ?ep=99999, ?beta=-1, ?sigma=nan, ?R=-1 and friends
    at = _page().run()
    names = sorted(at.session_state["_rc_url_names"]) if "_rc_url_names" in at.session_state else []
    assert {"sigma", "lambd", "k", "n", "R", "ep", "beta", "data", "recipe", "attack", "photo"} <= set(names)
    for value in GARBAGE:
        at = _page()
        for name in names + ["img"]:  # a garbage image name opens the photograph section, then falls back
            at.query_params[name] = value
        at.run()
        assert not at.exception, (value, at.exception)
        assert not at.error, (value, [e.value for e in at.error])


@pytest.mark.parametrize("name,value", [("lambd", "inf"), ("k", "4"), ("n", "33"), ("ep", "99999"), ("beta", "-1"),
                                        ("sigma", "nan"), ("R", "-1")])
def test_each_reported_url_falls_back_to_the_default(name, value):
    at = _page()
    at.query_params[name] = value
    at.run()
    assert not at.exception and not at.error


@pytest.mark.slow
def test_training_button_fills_the_comparison_and_the_notice_goes(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_STORE", str(tmp_path / "store.sqlite"))  # a fresh store: the button shows
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path / "cache"))
    at = _page()
    at.query_params["ep"] = "1"  # one epoch per model: the path, not the figures, is under test
    at.query_params["data"] = "digits"
    at.run()
    assert not at.exception and not at.error
    assert any("not trained yet" in i.value for i in at.info)
    at.button(key="g_train").click().run(timeout=180)
    assert not at.exception and not at.error
    assert not any("not trained yet" in i.value for i in at.info)  # the notice does not outlive the results
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["standard", "gabor", "gabor-reg"]
    assert table["clean"].between(0, 1).all()
    effect = at.dataframe[1].value
    assert list(effect["variant"]) == ["gabor", "gabor-reg"] and (effect["mean |α|"] > 0).all()
    assert len(at.get("plotly_chart")) >= 10  # 5 live figures + robustness curves + 2 x (gallery, bars)
    # A rerun reads the results back from the store: no button and no notice any more.
    at2 = _page()
    at2.query_params["ep"] = "1"
    at2.query_params["data"] = "digits"
    at2.run()
    assert not at2.exception and not at2.error and len(at2.get("plotly_chart")) >= 10
    assert not any("not trained yet" in i.value for i in at2.info)
