"""AppTest of the clustering-certificates page: renders on digits and mnist-5k, its figures exist, widgets drive
it, the attack at the certified radius never flips the decision on the page, a clicked point becomes the selected
image, and the saved reproduction is shown."""
from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from ui.common import selected_point

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "clustering.py")


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_selected_point_reads_every_customdata_form():
    for cd, want in ((7, 7), ([12], 12), ({"0": 3}, 3), (None, None), ("x", None)):
        event = SimpleNamespace(selection=SimpleNamespace(points=[{"customdata": cd}]))
        assert selected_point(event) == want
    assert selected_point({"selection": {"points": [{"customdata": [5]}]}}) == 5
    assert selected_point(None) is None
    assert selected_point(SimpleNamespace(selection=SimpleNamespace(points=[]))) is None


@pytest.mark.slow
def test_clustering_page_renders_attacks_and_keeps_url_state():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params["data"] = "digits"
    at.query_params["img"] = "7"
    at.run()
    assert not at.exception and not at.error
    assert at.radio(key="cl_data").value == "digits"
    assert at.number_input(key="cl_img").value == 7
    assert len(at.get("plotly_chart")) >= 4  # embedding, digit, Lipschitz bars, radius histogram
    assert len(at.latex) >= 1
    m = _metrics(at)
    for label in ("closed-form $R_f$", "exact radius $R^*$", "Lipschitz bound $L$", "input radius $R^*/L$ (ℓ2)"):
        assert label in m
    assert float(m["exact radius $R^*$"]) >= float(m["closed-form $R_f$"]) * (1 - 1e-3)
    # the input radius on show is the exact feature radius over the Lipschitz bound, not the closed form's
    assert float(m["input radius $R^*/L$ (ℓ2)"]) == pytest.approx(
        float(m["exact radius $R^*$"]) / float(m["Lipschitz bound $L$"]), rel=2e-3)
    # at the certified radius the attack never flips, for several images
    for img in (0, 123, 449):
        at.number_input(key="cl_img").set_value(img).run()
        assert not at.exception and not at.error
        assert any("did not change the decision" in s.value for s in at.success)
        assert at.query_params["img"] in ([str(img)], str(img))
    # a budget far beyond the certificate: the page still renders (flip or not, no error)
    at.select_slider(key="cl_mult").set_value(50.0).run()
    assert not at.exception and not at.error
    assert at.query_params["mult"] in (["50.0"], "50.0")
    at.button(key="cl_flip").click().run()
    assert not at.exception and not at.error
    assert any("ε ≈" in i.value or "no flip" in i.value for i in at.info)
    # the page prepared mnist-5k in a background thread (model on disk, certificates cached): once it is done,
    # switching the data set draws no progress bar and leaves the page clean
    for th in threading.enumerate():
        if th.name == "clustr-page-model-mnist-5k":
            th.join(timeout=240)
    at.radio(key="cl_data").set_value("mnist-5k").run()
    assert not at.exception and not at.error
    assert at.number_input(key="cl_img").max == 999 and not at.get("progress")


@pytest.mark.slow
def test_clustering_page_embeds_mnist_5k_and_shows_the_comparison():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params["data"] = "mnist-5k"
    at.query_params["img"] = "999"
    at.run()
    assert not at.exception and not at.error
    assert at.radio(key="cl_data").value == "mnist-5k"
    assert at.number_input(key="cl_img").value == 999  # 1,000 test images
    assert any("did not change the decision" in s.value for s in at.success)
    text = " ".join(h.value for h in at.header) + " ".join(h.value for h in at.subheader)
    assert "official attack and ours" in text
    # the saved reproduction table, or the sentence saying how to make it
    assert at.dataframe or any("robustcore reproduce clustr" in i.value for i in at.info)
    # switching to digits clamps nothing out of range and keeps the page clean
    at.radio(key="cl_data").set_value("digits").run()
    assert not at.exception and not at.error
    assert at.number_input(key="cl_img").value <= 449


def test_the_background_threads_log_no_missing_context_warning():
    # the page fills caches from a daemon thread on purpose; Streamlit's "missing ScriptRunContext" warning for
    # it is dropped, and only for it (another thread without a context still warns)
    import logging

    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    AppTest.from_file(PAGE, default_timeout=300).run()  # installs the filter (once per server process)
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        for name in ("clustr-page-model-test", "some-other-thread"):
            th = threading.Thread(target=get_script_run_ctx, name=name)
            th.start()
            th.join()
    finally:
        logger.removeHandler(handler)
    assert [r.threadName for r in records if "missing ScriptRunContext" in r.getMessage()] == ["some-other-thread"]
