"""The dashboard shell: app.py navigation, the shared sidebar, the home page."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")

def test_home_renders_with_sidebar_and_links():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert not at.error
    labels = [s.label for s in at.sidebar.selectbox]
    assert labels == ["Dataset", "Model", "Device"]
    assert [n.label for n in at.sidebar.number_input] == ["Seed"]
    assert at.title[0].value == "robustcore"
    # One card per research line, each naming its equation.
    assert len(at.subheader) == 5 and len(at.latex) == 5


def _sidebar_script():
    import streamlit as st

    from ui.common import render_sidebar

    s = render_sidebar()
    st.write(f"{s.dataset}|{s.data_root}|{s.model}|{s.device}|{s.seed}")


def test_choosing_mnist_asks_for_a_folder():
    at = AppTest.from_function(_sidebar_script, default_timeout=60).run()
    assert not at.sidebar.text_input
    at.sidebar.selectbox[0].select("mnist").run()
    assert [t.label for t in at.sidebar.text_input] == ["Dataset folder"]
    at.sidebar.text_input[0].input("/data").run()
    at.sidebar.number_input[0].set_value(3).run()
    # digits models cannot take 28x28 images: choosing MNIST picks a model that can
    assert at.main.markdown[-1].value == "mnist|/data|mnist-5k-cnn|cpu|3"
    assert not at.exception


def _guard_script():
    import streamlit as st

    from ui.common import guard

    with guard("loading the model"):
        raise ValueError("the file is not a checkpoint.")
    with guard("drawing"):
        raise KeyError("boom")
    st.write("still running")


def test_guard_shows_errors_instead_of_tracebacks():
    at = AppTest.from_function(_guard_script).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Loading the model: the file is not a checkpoint.",
        "Something went wrong while drawing: KeyError: 'boom'",
    ]
    assert at.markdown[-1].value == "still running"


def _url_script():
    import streamlit as st

    from ui.common import url_state

    st.write(repr((url_state("sigma", 0.25), url_state("n", 100), url_state("mode", "a", choices=("a", "b")))))


def test_url_state_falls_back_on_bad_values():
    at = AppTest.from_function(_url_script)
    at.query_params["sigma"] = "0.5"
    at.query_params["n"] = "lots"
    at.query_params["mode"] = "zzz"
    at.run()
    assert at.markdown[-1].value == "(0.5, 100, 'a')"


def _model_script():
    import streamlit as st

    from ui.common import guard, render_sidebar, selected_model

    s = render_sidebar()
    with guard("loading the model"):
        model, info = selected_model(s)
        st.write(f"model {info['config']['arch']}")


def test_uploading_a_bad_checkpoint_gives_one_sentence(tmp_path):
    at = AppTest.from_function(_model_script, default_timeout=120).run()
    assert at.main.markdown[-1].value == "model digits-cnn"
    at.sidebar.selectbox[1].select("upload").run()
    assert not at.exception
    assert "choose a checkpoint file" in at.main.error[0].value


def test_home_shows_one_computed_picture_per_line():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and not at.error
    charts = at.get("plotly_chart")
    assert len(charts) == 5
    from robustcore.viz.home import THUMBNAILS

    assert len(THUMBNAILS) == 5


def test_a_shared_link_names_its_dataset():
    at = AppTest.from_function(_sidebar_script, default_timeout=60)
    at.query_params["dataset"] = "mnist-5k"
    at.run()
    assert at.main.markdown[-1].value.startswith("mnist-5k|")
    assert at.query_params["dataset"] == ["mnist-5k"] or at.query_params["dataset"] == "mnist-5k"
    bad = AppTest.from_function(_sidebar_script, default_timeout=60)
    bad.query_params["dataset"] = "/etc/passwd"
    bad.run()
    assert bad.main.markdown[-1].value.startswith("digits|") and not bad.exception


def test_server_torch_threads_follow_the_environment_or_half_the_cores(monkeypatch):
    import os

    import torch

    import ui.common as common

    before = torch.get_num_threads()
    try:
        for raw, want in (("1", 1), ("", max(1, (os.cpu_count() or 2) // 2)), ("abc", max(1, (os.cpu_count() or 2) // 2)),
                          ("-3", 1), ("100000", os.cpu_count())):
            monkeypatch.setattr(common, "_THREADS_SET", [])
            monkeypatch.setenv("ROBUSTCORE_TORCH_THREADS", raw)
            assert common.configure_torch_threads() == want
            assert torch.get_num_threads() == want
            # once per process: a second call keeps the first choice whatever the environment says now
            monkeypatch.setenv("ROBUSTCORE_TORCH_THREADS", "1" if want != 1 else "2")
            assert common.configure_torch_threads() == want
    finally:
        torch.set_num_threads(before)
