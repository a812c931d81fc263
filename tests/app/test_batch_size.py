"""AppTest for the batch-size page: opens on the example, widgets drive it, state goes in the URL."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "batch_size.py")


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_batch_size_page_opens_and_reacts():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    # the four figures: complexity, suboptimality, tau_k, step size, estimators
    assert len(at.get("plotly_chart")) == 5
    assert len(at.latex) >= 6
    labels = {s.label for s in at.select_slider}
    assert {"n (examples)", "regularisation λ (sets μ)"} <= labels
    assert any(s.label == "seed" for s in at.slider)
    # the constants table names tau*, and the runs table has the four methods
    tables = [df.value for df in at.dataframe]
    assert "τ*" in tables[0].columns
    methods = list(tables[1]["method"])
    assert methods[0] == "tau = 1" and methods[-1] == "adaptive" and len(methods) == 4

    at.select_slider(key="bs_eps").set_value(1e-3).run()
    _ok(at)
    assert at.query_params["eps"] == ["0.001"] or at.query_params["eps"] == "0.001"
    # a smaller target moves tau* up (tau* is non-increasing in eps)
    ts_small = int(at.dataframe[0].value["τ*"].iloc[0])
    assert ts_small >= int(tables[0]["τ*"].iloc[0])

    at.radio(key="bs_sched").set_value("plain").run()
    _ok(at)
    at.selectbox(key="bs_samp").set_value("replacement").run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 5


def test_batch_size_page_bad_input_is_an_error_not_a_traceback():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="bs_prob").set_value("LIBSVM file").run()
    _ok(at)
    at.text_input(key="bs_path").set_value("/no/such/file.svm").run()
    _ok(at)
    assert any("No LIBSVM file" in e.value for e in at.error)
