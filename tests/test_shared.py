"""The small shared modules: device names, the reproduce tables, figure style and export."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robustcore.devices import available_devices, resolve_device
from robustcore.reproduce import ReproduceResult, format_table, load_result, save_result, summarise
from robustcore.viz.style import apply_paper_style, decade_ticks, figure_data_frame


@settings(max_examples=80, deadline=None)
@given(name=st.one_of(st.text(max_size=40), st.integers(), st.none(), st.sampled_from(["cpu", "cuda", "cuda:7", "mps"])))
def test_device_names_resolve_or_are_one_sentence(name):
    try:
        out = resolve_device(name)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert out in available_devices() or out.startswith("cuda:")


def test_summarise_is_mean_and_sample_std_over_seeds(tmp_path):
    rng = np.random.default_rng(0)
    rec = pd.DataFrame([{"seed": s, "method": m, "ratio": r, "acc": rng.random()}
                        for s in range(4) for m in ("a", "b") for r in (0.5, 0.9)])
    table = summarise(rec, ["method", "ratio"], ["acc"])
    for _, row in table.iterrows():
        sub = rec[(rec.method == row["method"]) & (rec.ratio == row["ratio"])]["acc"].to_numpy()
        assert row["acc mean"] == pytest.approx(sub.mean())
        assert row["acc std"] == pytest.approx(sub.std(ddof=1))
        assert row["seeds"] == 4
    md = format_table(table)
    assert md.count("\n") == len(table) + 1 and "±" in md
    res = ReproduceResult("demo", rec, table, "protocol text", "robustcore reproduce demo", 12.0)
    save_result(res, tmp_path)
    loaded, text = load_result("demo", tmp_path)
    pd.testing.assert_frame_equal(loaded, table, check_dtype=False)
    assert "robustcore reproduce demo" in text and "protocol text" in text
    assert load_result("nothing", tmp_path) is None
    with pytest.raises(ValueError):
        summarise(rec.iloc[:0], ["method"], ["acc"])


def test_figure_data_frame_round_trips_every_point():
    fig = go.Figure([go.Scatter(x=[1, 2, None, 4], y=[5, 6, None, 8], name="line"),
                     go.Bar(x=["0", "1", "2"], y=[3, 0, 7], name="votes"),
                     go.Heatmap(z=np.arange(6).reshape(2, 3))])
    df = figure_data_frame(fig)
    line = df[df.trace == "line"]
    assert list(line.x.iloc[[0, 1, 3]]) == [1, 2, 4] and line.x.isna().iloc[2]
    assert list(df[df.trace == "votes"].y) == [3, 0, 7]
    heat = df[df.kind == "heatmap"]
    assert sorted(heat.z) == list(range(6)) and set(heat.columns) >= {"row", "col"}


def test_paper_style_keeps_data_and_is_a_copy():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    styled = apply_paper_style(fig)
    assert styled is not fig and fig.layout.paper_bgcolor is None  # the original is left as it was
    assert styled.layout.paper_bgcolor == "white" and styled.layout.font.size >= 14
    assert list(styled.data[0].x) == [1, 2]


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(1e-300, 1e300), hi=st.floats(1e-300, 1e300))
def test_decade_ticks_cover_the_range_with_powers_of_ten(lo, hi):
    ticks = decade_ticks(lo, hi)
    assert ticks[0] <= min(lo, hi) * (1 + 1e-12) and ticks[-1] >= max(lo, hi) * (1 - 1e-12)
    assert all(math.isclose(math.log10(t), round(math.log10(t)), abs_tol=1e-9) for t in ticks)


def test_decade_ticks_refuse_non_positive():
    for bad in ((0, 1), (-1, 10), (1, math.inf), (math.nan, 1)):
        with pytest.raises(ValueError):
            decade_ticks(*bad)


def test_paper_style_keeps_unstyled_reference_lines_visible():
    # simple_white alone gives shapes width 0: an add_vline without its own width would vanish in print
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 4, 9]))
    fig.add_vline(x=2)
    fig.add_hrect(y0=2, y1=3)
    fig.add_hline(y=5, line=dict(width=3, color="red"))
    styled = apply_paper_style(fig)
    d = styled.layout.template.layout.shapedefaults
    for shape in styled.layout.shapes:
        width = shape.line.width if shape.line.width is not None else d.line.width
        opacity = shape.opacity if shape.opacity is not None else d.opacity
        assert width > 0 and opacity is not None and opacity >= 0.99
    assert styled.layout.shapes[2].line.width == 3 and styled.layout.shapes[2].line.color == "red"  # own style kept
    import plotly.io as pio

    assert pio.templates["simple_white"].layout.shapedefaults.line.width == 0  # the global template is untouched


def test_paper_style_figures_do_not_share_one_template_object():
    # the template is built once and cached: a page that edits one styled figure's template must not restyle the next
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    first = apply_paper_style(fig)
    first.layout.template.layout.shapedefaults.line.width = 9
    first.layout.template.layout.font.size = 99
    second = apply_paper_style(fig)
    assert second.layout.template.layout.shapedefaults.line.width == 2
    assert second.layout.template.layout.font.size != 99
