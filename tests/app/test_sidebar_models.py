"""The sidebar's dataset / model lists and the checkpoint upload (owned with ui.common's sidebar part)."""
import io

import torch
from streamlit.testing.v1 import AppTest
from torch import nn


def _script():
    import streamlit as st

    from ui.common import guard, render_sidebar, selected_model

    s = render_sidebar()
    st.write(f"{s.dataset}|{s.model}")
    if s.model == "upload":
        with guard("loading the model"):
            model, info = selected_model(s)
            st.write(f"loaded {info['arch']}")


def _options(at, label):
    return [sb for sb in at.sidebar.selectbox if sb.label == label][0]


def test_model_list_follows_the_dataset():
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert _options(at, "Dataset").value == "digits"
    assert _options(at, "Model").options == ["Small CNN (digits)", "Small MLP (digits)", "Upload a checkpoint..."]
    _options(at, "Dataset").select("mnist-5k").run()
    assert not at.sidebar.text_input  # bundled: no folder to name
    assert [o for o in _options(at, "Model").options][:3] == [
        "Small CNN (MNIST 5k)", "MLP (MNIST 5k)", "LeNet of the Gabor paper (MNIST 5k)"]
    assert at.main.markdown[-1].value == "mnist-5k|mnist-5k-cnn"
    _options(at, "Model").select("mnist-5k-lenet").run()
    _options(at, "Dataset").select("cifar10").run()
    assert _options(at, "Model").options == ["Upload a checkpoint..."]
    assert at.main.markdown[-1].value == "cifar10|upload"
    assert not at.exception


def _cohen_bytes():
    from robustcore.nets import build_cohen

    buf = io.BytesIO()
    torch.save({"arch": "cifar_resnet20", "state_dict": build_cohen("cifar_resnet20").state_dict()}, buf)
    return buf.getvalue()


def test_upload_new_formats_and_one_sentence_on_failure():
    at = AppTest.from_function(_script, default_timeout=120).run()
    _options(at, "Dataset").select("cifar10").run()
    at.sidebar.file_uploader[0].set_value(("checkpoint.pth.tar", _cohen_bytes(), "application/octet-stream")).run()
    assert not at.exception
    assert "Loaded cifar_resnet20 (cohen file" in at.sidebar.success[0].value
    assert at.main.markdown[-1].value == "loaded cifar_resnet20"
    # The same file under a 1-channel dataset: one sentence in the sidebar and on the page.
    _options(at, "Dataset").select("mnist-5k").run()
    _options(at, "Model").select("upload").run()
    assert "3-channel images, but mnist-5k images have 1" in at.sidebar.error[0].value
    assert not at.exception
    at.sidebar.file_uploader[0].set_value(("junk.pt", b"not a checkpoint at all", "application/octet-stream")).run()
    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1 and "not a readable weights-only torch checkpoint" in errors[0] and "\n" not in errors[0]
    assert "Traceback" not in "".join(e.value for e in at.error)
    assert not at.exception


def test_selected_model_refuses_a_model_of_another_dataset():
    import pytest

    from ui.common import Settings, selected_model

    with pytest.raises(ValueError, match="does not take mnist-5k images"):
        selected_model(Settings("mnist-5k", "", "digits-cnn", "cpu", 0))
    with pytest.raises(ValueError, match="upload a checkpoint"):
        selected_model(Settings("cifar10", "", "mnist-5k-mlp", "cpu", 0))
