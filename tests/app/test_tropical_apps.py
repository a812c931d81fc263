"""AppTest of the tropical page's pruning, lottery-ticket and attack sections (ui/tropical_apps.py)."""

import pytest
from streamlit.testing.v1 import AppTest


def _app(section: str) -> None:
    import numpy as np

    from robustcore.data import toy_dataset
    from robustcore.tropical.lottery import init_params, train_masked
    from robustcore.tropical.net import ShallowReluNet
    from ui.tropical_apps import render_attack, render_lottery, render_pruning

    X, y = toy_dataset("moons", n=200, noise=0.15, seed=0)
    P, _ = train_masked(init_params(2, 8, 2, seed=0), X, y, epochs=150)
    net = ShallowReluNet(P["A"], P["c1"], P["B"], P["c2"])
    if section == "pruning":
        render_pruning(net, X, y, 0)
    elif section == "pruning-nodata":
        render_pruning(net, None, None, 0)
    elif section == "lottery":
        render_lottery("moons", X, y, 0)
    elif section == "attack":
        render_attack(net, X, y, 0)
    elif section in ("pruning-3class", "attack-3class", "lottery-3class"):
        rng = np.random.default_rng(0)
        net3 = ShallowReluNet(rng.normal(size=(6, 2)), rng.normal(size=6), rng.normal(size=(3, 6)), rng.normal(size=3))
        X3 = rng.uniform(-2, 2, size=(150, 2))
        y3 = net3.predict(X3)
        if section == "pruning-3class":
            render_pruning(net3, X3, y3, 0)
        elif section == "attack-3class":
            render_attack(net3, X3, y3, 0)
        else:
            render_lottery("blobs", X3, y3, 0)
    else:
        render_attack(ShallowReluNet(np.ones((3, 4)), np.zeros(3), np.ones((2, 3)), np.zeros(2)), None, None, 0)


def _run(section: str) -> AppTest:
    at = AppTest.from_function(_app, args=(section,), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_pruning_section_renders_and_reacts():
    at = _run("pruning")
    assert len(at.get("plotly_chart")) >= 2
    assert len(at.dataframe) == 1
    assert at.latex
    at.select_slider(key="trop_prune_ratio").set_value(0.75).run()
    assert not at.exception
    assert "acc magnitude-neuron" in at.dataframe[0].value.columns.tolist()
    at.checkbox(key="trop_prune_bias").check().run()
    assert not at.exception and not at.error
    assert any("whole hidden units" in m.value for m in at.markdown)


def test_pruning_without_data_uses_agreement():
    at = _run("pruning-nodata")
    assert any("agreement" in i.value for i in at.info)


def test_lottery_section_renders_and_reacts():
    at = _run("lottery")
    assert len(at.get("plotly_chart")) == 1
    assert len(at.dataframe[0].value) == 2  # default ratios 0.5 and 0.8
    at.select_slider(key="trop_lottery_show").set_value(0.8).run()
    assert not at.exception


def test_attack_section_renders_and_reports_verified_result():
    at = _run("attack")
    assert len(at.get("plotly_chart")) == 2
    assert at.success or at.warning  # verified success or an honest failure, never silent
    at.slider(key="trop_attack_eps1").set_value(0.5).run()
    assert not at.exception


def test_attack_on_non_2d_net_explains_itself():
    at = _run("attack-3d")
    assert any("2-D" in i.value for i in at.info)


def test_three_class_sections_render():
    for section in ("pruning-3class", "attack-3class", "lottery-3class"):
        at = _run(section)
        assert len(at.get("plotly_chart")) >= 1
        assert not at.error


@pytest.mark.slow
def test_pruning_digits_block():
    """The digits MLP's last Affine-ReLU-Affine block (trains the cached default model on first use)."""
    at = _run("pruning")
    at.radio(key="trop_prune_source").set_value("MLP head (last Affine-ReLU-Affine block)").run(timeout=180)
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) >= 2
    acc = at.dataframe[0].value
    assert set(acc["ratio"]) == {0.5, 0.75, 0.9}


@pytest.mark.slow
def test_attack_digits_image():
    at = _run("attack")
    at.radio(key="trop_attack_source").set_value("an image (MLP, through its first layer)").run(timeout=180)
    assert not at.exception and not at.error
    assert at.success or at.warning
    assert len(at.get("plotly_chart")) == 1


def test_attack_table_never_prints_none_or_nan():
    from types import SimpleNamespace

    from ui.tropical_apps import attack_table

    failed = SimpleNamespace(success=False, norm_l2=None, norm_linf=None, weight_change=None)
    won = SimpleNamespace(success=True, norm_l2=0.123456, norm_linf=0.05, weight_change=0.01)
    pgd_fail = {"success": False, "norm_l2": None, "norm_linf": float("nan")}
    pgd_ok = {"success": True, "norm_l2": 1.5, "norm_linf": float("inf")}
    for res in (failed, won):
        table = attack_table(res, [("PGD a", pgd_fail), ("PGD b", pgd_ok)])
        text = table.astype(str).to_numpy().ravel()
        assert not any(t in ("None", "nan", "inf", "NaN") for t in text)
        assert all(isinstance(t, str) and t for t in text)
    table = attack_table(won, [("PGD b", pgd_ok)])
    assert table.loc[0, "‖η‖₂"] == "0.1235" and table.loc[1, "‖η‖₂"] == "1.5"
    assert table.loc[1, "‖η‖∞"].startswith("—") and table.loc[1, "max |Ã − A|"] == "— (inputs only)"
    assert attack_table(failed, [])["‖η‖₂"][0] == "— (no verified success)"
