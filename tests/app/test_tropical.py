"""AppTest for the tropical geometry page: it opens on a preset, the linked figures exist, widgets work,
bad input gives a clear message (never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "tropical.py")


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_opens_on_a_preset_with_both_views() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert not _errors(at)
    assert at.radio(key="trop_section").options == ["Geometry", "Pruning", "Lottery tickets", "Attack"]
    assert len(at.get("plotly_chart")) == 2  # input space and dual space; the 3-D view only on request
    at.toggle(key="trop_show_lifted3d").set_value(True).run()
    assert not at.exception and len(at.get("plotly_chart")) == 3
    assert at.query_params.get("lifted") in ("1", ["1"])
    at.toggle(key="trop_show_lifted3d").set_value(False).run()
    assert len(at.get("plotly_chart")) == 2 and "lifted" not in at.query_params
    labels = [m.label for m in at.metric]
    assert "bound 1 + p + C(p,2)" in labels and "hull vertices" in labels
    assert any("\\delta(R)" in l.value for l in at.latex)
    # the bias-free preset explains itself and says the subdivision is flat
    assert any("Theorem 2" in i.value for i in at.info)
    # switching presets redraws; the 3-unit preset reaches 1 + 3 + 3 = 7 regions
    at.selectbox(key="trop_preset").set_value("3 units: 7 regions").run()
    assert not at.exception and not _errors(at)
    bound = [m.value for m in at.metric if m.label == "bound 1 + p + C(p,2)"][0]
    assert str(bound) == "7"
    assert str([m.value for m in at.metric if m.label == "linear regions of f"][0]) == "7"
    assert any("agree" in c.value for c in at.caption)


def test_seven_region_preset_frames_every_region_visibly() -> None:
    """All 7 cells lie in the view box and none is a sliver: each covers at least 0.5 % of the box."""
    from robustcore.tropical import linear_regions_2d
    from ui.tropical_network import auto_box, preset_weights

    from robustcore.tropical import ShallowReluNet

    net = ShallowReluNet(*preset_weights("3 units: 7 regions", 0))
    box = auto_box(None, net)
    R = linear_regions_2d(net, box)
    assert len(R) == 7
    area = (box[1] - box[0]) * (box[3] - box[2])
    assert R.areas.min() / area > 0.005


def test_every_section_renders_and_only_the_chosen_one_computes() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    n_geo = len(at.get("plotly_chart"))
    for section in ("Pruning", "Lottery tickets", "Attack"):
        at.radio(key="trop_section").set_value(section).run()
        assert not at.exception and not _errors(at), section
        assert at.query_params["section"] == [section] or at.query_params["section"] == section
    # the attack opens on a point where it is shown working (a verified success)
    assert at.success, "the default preset's default point must give a verified attack"
    at.radio(key="trop_section").set_value("Geometry").run()
    assert len(at.get("plotly_chart")) == n_geo


@pytest.mark.parametrize("params", [
    {"section": "Attack", "attack_idx": "99999"},
    {"section": "Attack", "attack_idx": "nan", "attack_src": "zzz"},
    {"section": "Pruning", "prune_ratio": "inf", "prune_src": "/etc/passwd", "prune_bias": "maybe"},
    {"section": "Lottery tickets", "lottery_p": "-1"},
    {"src": "Train on a toy set", "hidden": "1e308", "epochs": "-5", "ncls": "99", "data": "x" * 10_000},
    {"src": "Edit weights", "d": "nan"},
    {"preset": "3 classes, 6 units", "pi": "-1", "pj": "7"},
    {"section": "nope", "src": "nope"},
])
def test_garbage_urls_render_without_error(params) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update(params)
    at.run()
    assert not at.exception and not _errors(at), params


def test_class_pairs_for_three_classes() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="trop_preset").set_value("3 classes, 6 units").run()
    assert not at.exception and not _errors(at)
    at.selectbox(key="trop_pair_i").set_value(2).run()
    assert not at.exception and not _errors(at)
    assert at.selectbox(key="trop_pair_j").value in (0, 1)


def test_bad_input_gives_clear_messages() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="trop_src").set_value("Edit weights").run()
    assert not at.exception and not _errors(at)
    # p = 0 from the random start
    at.selectbox(key="trop_edit_start").set_value("random").run()
    at.number_input(key="trop_edit_p").set_value(0).run()
    assert not at.exception
    assert any("p = 0" in e for e in _errors(at))
    # d = 3: projections and a slice instead of a traceback
    at.number_input(key="trop_edit_p").set_value(4).run()
    at.number_input(key="trop_d").set_value(3).run()
    assert not at.exception and not _errors(at)
    assert any("d = 2" in w.value for w in at.warning)


def test_training_with_epoch_replay() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="trop_src").set_value("Train on a toy set").run()
    at.select_slider(key="trop_epochs").set_value(10).run()
    at.select_slider(key="trop_hidden").set_value(3).run()
    assert not at.exception and not _errors(at)
    sliders = [s for s in at.slider if s.key and s.key.startswith("trop_epoch_")]
    assert sliders, "the epoch slider over stored snapshots is missing"
    sliders[0].set_value(0).run()  # replay the initial weights
    assert not at.exception and not _errors(at)
    assert any("after epoch 0" in c.value for c in at.caption)
    import json

    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    replay = [f for f in specs if f.get("frames")]
    assert replay and any(b["label"].startswith("▶") for b in replay[0]["layout"]["updatemenus"][0]["buttons"])


def test_training_that_does_not_fit_is_flagged() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="trop_src").set_value("Train on a toy set").run()
    at.selectbox(key="trop_data").set_value("spirals").run()
    at.select_slider(key="trop_hidden").set_value(3).run()
    at.select_slider(key="trop_epochs").set_value(10).run()
    assert not at.exception and not _errors(at)
    assert any("did not fit" in w.value for w in at.warning)


@pytest.mark.slow
def test_digits_head_projection_and_slice() -> None:
    """d = 64 (the digits MLP head): projections on the PCA plane and the exact slice, no errors."""
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    at.radio(key="trop_src").set_value("MLP head (d = 64)").run()
    assert not at.exception and not _errors(at)
    assert any("d = 64" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) >= 3  # projection, slice, dual of the slice
    at.radio(key="trop_frame").set_value("two input axes").run()
    assert not at.exception and not _errors(at)


def test_selected_region_lights_up_its_dual_vertex() -> None:
    """The link region -> dual vertex (the state a click on a region centroid sets), and the reverse."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["_trop_sel"] = {"region": 2}
    at.run()
    assert not at.exception and not _errors(at)
    import json

    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    names = [[t.get("name", "") for t in f["data"]] for f in figs]
    assert any("selected region 2" in n for n in names[0])
    assert any(n.startswith("selected dual vertex") for n in names[1])
    at.session_state["_trop_sel"] = {"vertex": int(next(n for n in names[1] if n.startswith("selected dual vertex")).split()[-1])}
    at.run()
    names = [[t.get("name", "") for t in json.loads(c.proto.spec)["data"]] for c in at.get("plotly_chart")]
    assert any(n.startswith("selected region") for n in names[0])
    assert any(b.label == "clear selection" for b in at.button)


def test_edit_weights_with_sliders_moves_the_geometry() -> None:
    """Editing one unit with the sliders changes the counts; a NaN-free edit never errors."""
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="trop_src").set_value("Edit weights").run()
    at.selectbox(key="trop_edit_start").set_value("3 units: 7 regions").run()
    assert not at.exception and not _errors(at)
    before = {m.label: m.value for m in at.metric}
    assert str(before["linear regions of f"]) == "7"
    # make unit 0 parallel to unit 1 (A[1] = (-0.3, 1.0)): two neuron lines become parallel
    sl = {s.label: s for s in at.slider}
    sl["A[j, 0]"].set_value(-0.3)
    sl["A[j, 1]"].set_value(1.0)
    at.run()
    assert not at.exception and not _errors(at)
    after = {m.label: m.value for m in at.metric}
    assert str(after["linear regions of f"]) == "6"  # parallel lines: 1 + 3 + 3 - 1 regions
