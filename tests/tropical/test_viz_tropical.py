"""Figures of robustcore.viz.tropical: the traces they promise, for generic and degenerate nets."""

from __future__ import annotations

import numpy as np

from robustcore.tropical import ShallowReluNet, pair_geometry, projected_zonotope
from robustcore.viz.tropical import (
    dual_space_figure,
    input_space_figure,
    lifted_figure,
    projection_figure,
    training_figure,
)
from tests.tropical._tropical_helpers import random_net

BOX = (-3.0, 3.0, -3.0, 3.0)


def _names(fig) -> list[str]:
    return [t.name or "" for t in fig.data]


def test_figures_carry_the_geometry() -> None:
    rng = np.random.default_rng(0)
    while True:  # a net whose boundary crosses the box (most do)
        net = random_net(rng, 6)
        geo = pair_geometry(net, BOX)
        if len(geo.B_dual):
            break
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    f_in = input_space_figure(geo, net, X, y, highlight_region=[0, 1])
    names = _names(f_in)
    assert any(n.startswith("𝒯(R)") for n in names) and any(n.startswith("decision boundary") for n in names)
    assert "selected regions 0, 1" in names and "data: class 0" in names
    # the 𝒯(R) trace draws exactly the computed segments (NaN-separated)
    t = next(tr for tr in f_in.data if (tr.name or "").startswith("𝒯(R)"))
    xs = np.asarray(t.x, dtype=float)
    assert np.isnan(xs).sum() == len(geo.T_segments)
    # centroid markers: one per region, customdata[0] = region index (the page's link)
    cen = next(tr for tr in f_in.data if (tr.name or "").startswith("region (hover"))
    assert np.array_equal(np.asarray(cen.customdata)[:, 0], np.arange(len(geo.regions)))
    f_du = dual_space_figure(geo, highlight_vertex=int(geo.sub.upper[0]), highlight_region=0)
    names = _names(f_du)
    assert any(n.startswith("Z₁") for n in names) and any(n.startswith("bridging") for n in names)
    up = next(tr for tr in f_du.data if (tr.name or "").startswith("upper vertices"))
    assert len(up.x) == geo.sub.n_regions
    f3 = lifted_figure(geo)
    mesh = next(tr for tr in f3.data if tr.type == "mesh3d")
    assert len(mesh.i) == sum(len(c) - 2 for c in geo.sub.cells)


def test_figures_for_degenerate_nets_and_other_views() -> None:
    cases = [
        ShallowReluNet(np.zeros((2, 2)), [0.5, -1.0], [[1.0, 2.0], [0.0, 1.0]], [0.0, 0.0]),  # a point
        ShallowReluNet([[1.0, 1.0], [-2.0, -2.0]], [0.1, 0.3], [[1.0, -1.0], [0.5, 1.0]], [0.0, 0.2]),  # a segment
        ShallowReluNet([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0], [[1.0, 1.0], [0.5, 2.0]], [0.0, 0.0]),  # flat, tie cone
    ]
    for net in cases:
        geo = pair_geometry(net, BOX)
        for fig in (input_space_figure(geo, net), dual_space_figure(geo), lifted_figure(geo)):
            fig.to_json()  # serialisable: what the page sends to the browser
    rng = np.random.default_rng(1)
    net = random_net(rng, 5, d=4)
    G1, G2 = net.zonotope_generators()
    U = np.linalg.qr(rng.normal(size=(4, 3)))[0]
    assert projection_figure(projected_zonotope(G1, U[:, :2]), projected_zonotope(G2, U[:, :2])).data
    assert projection_figure(projected_zonotope(G1, U), projected_zonotope(G2, U)).data
    hist = [{"epoch": e, "loss": 1.0 / e, "train_acc": 0.5 + e / 40} for e in range(1, 11)]
    assert len(training_figure(hist, 5).data) == 2


def test_ten_class_legend_stays_small_and_replay_has_a_play_button():
    """A 10-class head must not get a 20-entry legend (it dwarfed the plot); the epoch replay animates."""
    from robustcore.tropical import ShallowReluNet, decision_boundary_cells, pair_geometry
    from robustcore.viz.tropical import input_space_figure, training_replay_figure

    rng = np.random.default_rng(0)
    net = ShallowReluNet(rng.normal(size=(6, 2)), rng.normal(size=6), rng.normal(size=(10, 6)), rng.normal(size=10))
    X = rng.uniform(-2, 2, (300, 2))
    box = (-3.0, 3.0, -3.0, 3.0)
    fig = input_space_figure(pair_geometry(net, box), net, X, np.arange(300) % 10)
    shown = [t for t in fig.data if t.showlegend is not False]
    assert len(shown) <= 8
    snaps = [net, ShallowReluNet(net.A * 0.5, net.c1, net.B[:2], net.c2[:2])]
    bounds = [decision_boundary_cells(ShallowReluNet(s.A, s.c1, s.B[:2], s.c2[:2]), box) for s in snaps]
    rf = training_replay_figure(bounds, [0, 10], X, None, box)
    assert len(rf.frames) == 2 and rf.layout.updatemenus[0].buttons[0].label.startswith("▶")


def test_replay_has_one_epoch_control_and_buttons_clear_of_the_axes():
    """The page's Streamlit slider picks the epoch; the replay only plays (no second slider), names the epoch of
    every frame in its title, and keeps its buttons in the top margin (they overlapped the x₁ title)."""
    from robustcore.tropical import ShallowReluNet, decision_boundary_cells
    from robustcore.viz.tropical import training_replay_figure

    rng = np.random.default_rng(1)
    box = (-3.0, 3.0, -3.0, 3.0)
    nets = [ShallowReluNet(rng.normal(size=(5, 2)), rng.normal(size=5), rng.normal(size=(2, 5)), rng.normal(size=2))
            for _ in range(30)]
    bounds = [decision_boundary_cells(n, box) for n in nets]
    epochs = list(range(0, 60, 2))
    fig = training_replay_figure(bounds, epochs, rng.uniform(-2, 2, (50, 2)), None, box)
    assert not fig.layout.sliders
    assert 2 <= len(fig.frames) <= 21 and fig.frames[-1].name == str(epochs[-1])
    for fr in fig.frames:
        assert fr.layout.title.text.endswith(f"epoch {fr.name}")
    assert fig.layout.title.text.endswith(f"epoch {epochs[-1]}")
    menu = fig.layout.updatemenus[0]
    assert menu.y >= 1.0 and menu.yanchor == "bottom" and fig.layout.margin.t >= 60
    # the last frame draws the last snapshot's boundary
    n_last = len(bounds[-1])
    xs = [v for v in fig.frames[-1].data[0].x if v is not None and np.isfinite(v)]
    assert len(xs) == 2 * n_last


def test_subscript_writes_every_digit_of_an_index():
    from robustcore.viz.tropical import subscript

    assert subscript(0) == "₀" and subscript(12) == "₁₂" and subscript(9) == "₉"
    assert all(c in "₀₁₂₃₄₅₆₇₈₉" for c in subscript(1234567890))


def test_boundaries_figure_fills_the_tie_regions_of_each_net():
    # a pruned, bias-free output layer: every class is 0 where units 2-3 are off, a 2-D tie region the
    # boundary lines alone would show as a gap
    import numpy as np

    from robustcore.tropical import ShallowReluNet, argmax_tie_regions
    from robustcore.viz.tropical_apps import boundaries_figure

    rng = np.random.default_rng(3)
    A, c1 = rng.normal(size=(4, 2)), rng.normal(size=4)
    B = rng.normal(size=(3, 4))
    B[:, :2] = 0.0
    pruned = ShallowReluNet(A, c1, B, np.zeros(3))
    dense = ShallowReluNet(A, c1, rng.normal(size=(3, 4)), rng.normal(size=3))
    box = (-3.0, 3.0, -3.0, 3.0)
    ties = argmax_tie_regions(pruned, box)
    assert ties and not argmax_tie_regions(dense, box)
    fig = boundaries_figure({"dense": dense, "tropical": pruned}, box)
    filled = [t for t in fig.data if t.fill == "toself"]
    assert len(filled) == 1 and filled[0].name.startswith("tropical: tie region (f₀ = f₁ = f₂")
    # the trace holds every returned polygon, closed and NaN-separated
    x = np.asarray(filled[0].x, dtype=float)
    assert np.isnan(x).sum() == len(ties)
    assert fig.data[-1].name == "tropical" and fig.data[-1].fill is None  # the boundary line stays on top
