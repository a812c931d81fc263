"""Plotly figures for tropical pruning, lottery tickets and the tropical attack (pure functions).

Colours: the dense / original net black, tropical pruning and the lottery ticket green, magnitude
pruning and the random re-init orange, the attacked net purple.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from robustcore.tropical._apps_geometry import decision_polygon, normalise_polygon
from robustcore.tropical.boundary import argmax_boundary_cells, argmax_tie_regions
from robustcore.tropical.net import ShallowReluNet
from robustcore.tropical.regions import linear_regions_2d

from .tropical import _polylines, _rgba, subscript

__all__ = [
    "METHOD_COLORS",
    "pruning_curves_figure",
    "polytopes_figure",
    "boundaries_figure",
    "lottery_figure",
    "attack_input_figure",
    "objective_figure",
    "digits_attack_figure",
]

METHOD_COLORS = {
    "original": "#222222",
    "dense": "#222222",
    "tropical": "#2ca02c",
    "tropical-shrunk": "#98df8a",
    "ticket": "#2ca02c",
    "magnitude": "#ff7f0e",
    "magnitude-uniform": "#ffbb78",
    "magnitude-neuron": "#d62728",
    "random": "#ff7f0e",
    "attacked": "#9467bd",
}
LABELS = {
    "tropical": "tropical (group lasso)",
    "tropical-shrunk": "tropical, shrunk weights",
    "magnitude": "magnitude, per weight (class-blind)",
    "magnitude-uniform": "magnitude, per layer",
    "magnitude-neuron": "magnitude, whole units",
}
# Methods that tie draw exactly on top of each other: a wide solid line under narrower dashed ones keeps
# every method visible where the curves coincide.
METHOD_DASH = {"tropical": None, "ticket": None, "magnitude-neuron": "dash", "magnitude": "dot",
               "magnitude-uniform": "dashdot", "tropical-shrunk": "longdash", "random": "dot"}
METHOD_WIDTH = {"tropical": 5, "ticket": 5}


def _line(name: str) -> dict:
    key = name.split(" ")[0]
    return {"color": METHOD_COLORS.get(key), "dash": METHOD_DASH.get(key), "width": METHOD_WIDTH.get(key, 2)}


DATA_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _closed(V: np.ndarray) -> tuple[list, list]:
    V = np.asarray(V)
    if len(V) == 0:
        return [], []
    return list(V[:, 0]) + [V[0, 0]], list(V[:, 1]) + [V[0, 1]]


def _segments_xy(S: np.ndarray) -> tuple[list, list]:
    xs: list = []
    ys: list = []
    for (x0, y0), (x1, y1) in np.asarray(S).reshape(-1, 2, 2):
        xs += [float(x0), float(x1), None]
        ys += [float(y0), float(y1), None]
    return xs, ys


def pruning_curves_figure(curves: dict[str, dict[str, np.ndarray]], title: str | None = None) -> go.Figure:
    """Accuracy, Hausdorff distance (relative) and area ratio against the pruning ratio, one line per method.

    ``curves`` is the output of :func:`robustcore.tropical.pruning.pruning_curves`.
    """
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, subplot_titles=(
        "accuracy", "Hausdorff distance / diameter", "area ratio of the polytopes"))
    for method, c in curves.items():
        color = METHOD_COLORS.get(method, "#555555")
        for col, key in enumerate(("accuracy", "hausdorff_rel", "area_ratio"), start=1):
            fig.add_trace(
                go.Scatter(x=c["target"], y=c[key], mode="lines+markers", name=LABELS.get(method, method),
                           legendgroup=method, showlegend=col == 1, line={**_line(method), "color": color},
                           customdata=np.column_stack([c["ratio"], c["units_kept"]]),
                           hovertemplate="target ratio %{x:.2f}<br>realised %{customdata[0]:.3f}<br>"
                                         "units kept %{customdata[1]}<br>" + key + " %{y:.4f}<extra></extra>"),
                row=1, col=col,
            )
            fig.update_xaxes(title_text="pruning ratio", row=1, col=col)
    fig.update_layout(title=title, height=420, margin={"t": 60, "b": 40, "l": 40, "r": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0.0})
    fig.update_xaxes(tickvals=[0, 0.25, 0.5, 0.75, 0.9])
    return fig


def polytopes_figure(
    nets: dict[str, ShallowReluNet], plane: np.ndarray | None = None, title: str | None = None, normalise: bool = False
) -> go.Figure:
    """Shift-free decision polytopes conv(Z_1 u ... u Z_k) of several nets overlaid (dual space).

    For d > 2 each polytope is projected exactly on ``plane`` (2, d). With ``normalise`` each
    polygon is centred and scaled to unit circumradius (the boundary-invariant comparison).
    """
    fig = go.Figure()
    for name, net in nets.items():
        V = decision_polygon(net, plane)
        if normalise and len(V):
            V = normalise_polygon(V)
        xs, ys = _closed(V)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"{name} ({len(V)} vertices)",
                                 line=_line(name), marker={"size": 4}))
    fig.update_layout(title=title, height=460, margin={"t": 50, "b": 30, "l": 30, "r": 10},
                      xaxis_title="dual x", yaxis_title="dual y",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0.0})
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def _tie_trace(net: ShallowReluNet, box: tuple[float, float, float, float], name: str,
               showlegend: bool = True, regions: Any = None) -> go.Scatter | None:
    """The net's tie regions (argmax not unique on a 2-D set, e.g. every class at 0 where a pruned, bias-free
    net has all units off) filled in the net's colour: they are part of the decision boundary, and a line
    alone would leave them looking like a gap. None when the net has none in the box."""
    ties = argmax_tie_regions(net, box, regions)
    if not ties:
        return None
    xs, ys = _polylines([poly for poly, _ in ties])
    groups = sorted({classes for _, classes in ties})
    what = "; ".join(" = ".join(f"f{subscript(c)}" for c in g) for g in groups)
    color = METHOD_COLORS.get(name.split(" ")[0]) or "#222222"
    return go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=_rgba(color, 0.18),
                      line={"color": color, "width": 1}, name=f"{name}: tie region ({what})",
                      legendgroup=f"tie-{name}", showlegend=showlegend, hoverinfo="name")


def _data_traces(X: np.ndarray | None, y: np.ndarray | None, showlegend: bool) -> list[go.Scatter]:
    if X is None or y is None:
        return []
    out = []
    for c in np.unique(y):
        sel = y == c
        out.append(go.Scatter(x=X[sel, 0], y=X[sel, 1], mode="markers", name=f"class {int(c)}",
                              legendgroup=f"class{int(c)}", showlegend=showlegend,
                              marker={"size": 4, "color": DATA_COLORS[int(c) % 10], "opacity": 0.45}))
    return out


def boundaries_figure(
    nets: dict[str, ShallowReluNet], box: tuple[float, float, float, float], X: np.ndarray | None = None,
    y: np.ndarray | None = None, title: str | None = None,
) -> go.Figure:
    """Exact decision boundaries {argmax changes} of several 2-D nets overlaid on the data, each net's tie
    regions (argmax not unique on a 2-D set) filled in its colour."""
    fig = go.Figure(_data_traces(X, y, True))
    for name, net in nets.items():
        regions = linear_regions_2d(net, box)  # shared by the tie regions and the boundary
        tie = _tie_trace(net, box, name, regions=regions)
        if tie is not None:
            fig.add_trace(tie)
        xs, ys = _segments_xy(argmax_boundary_cells(net, box, regions))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=_line(name)))
    fig.update_layout(title=title, height=460, margin={"t": 50, "b": 30, "l": 30, "r": 10},
                      xaxis={"range": [box[0], box[1]], "title": "x₁"}, yaxis={"range": [box[2], box[3]], "title": "x₂"},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0.0})
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def lottery_figure(exp: Any, run_index: int, box: tuple[float, float, float, float], X: np.ndarray | None = None,
                   y: np.ndarray | None = None) -> go.Figure:
    """Dense / ticket / random re-init side by side: decision polytopes (top) and boundaries (bottom).

    ``exp`` is a :class:`robustcore.tropical.lottery.LotteryExperiment`.
    """
    run = exp.runs[run_index]
    nets = {"dense": exp.dense, "ticket": run.ticket, "random": run.random}
    titles = (
        "dense: conv(Z₁ ∪ Z₂)",
        "ticket (original init): " + ("d_H not informative (collapsed)"
                                      if getattr(run, "collapsed_ticket", False) else f"d_H = {run.dist_ticket:.3f}"),
        "random re-init: " + ("d_H not informative (collapsed)"
                              if getattr(run, "collapsed_random", False) else f"d_H = {run.dist_random:.3f}"),
        f"dense boundary (acc {exp.acc_dense:.3f})",
        f"ticket boundary (acc {run.acc_ticket:.3f})",
        f"random boundary (acc {run.acc_random:.3f})",
    )
    fig = make_subplots(rows=2, cols=3, subplot_titles=titles, vertical_spacing=0.12, horizontal_spacing=0.06)
    dense_V = normalise_polygon(decision_polygon(exp.dense))
    for col, (name, net) in enumerate(nets.items(), start=1):
        V = normalise_polygon(decision_polygon(net))
        if col > 1:  # the dense polytope as a faint reference under each pruned one
            xs, ys = _closed(dense_V)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#bbbbbb", "dash": "dot"},
                                     name="dense (normalised)", showlegend=col == 2), row=1, col=col)
        xs, ys = _closed(V)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", marker={"size": 4},
                                 line={"color": METHOD_COLORS[name], "width": 2}, name=f"{name} polytope ({len(V)} vertices)"),
                      row=1, col=col)
        fig.update_yaxes(scaleanchor=f"x{col if col > 1 else ''}", scaleratio=1, row=1, col=col)
        for tr in _data_traces(X, y, col == 1):
            fig.add_trace(tr, row=2, col=col)
        regions = linear_regions_2d(net, box)
        tie = _tie_trace(net, box, name, regions=regions)
        if tie is not None:
            fig.add_trace(tie, row=2, col=col)
        xs, ys = _segments_xy(argmax_boundary_cells(net, box, regions))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": METHOD_COLORS[name], "width": 2.5},
                                 name=f"{name} boundary", showlegend=False), row=2, col=col)
        fig.update_xaxes(range=[box[0], box[1]], row=2, col=col)
        fig.update_yaxes(range=[box[2], box[3]], row=2, col=col)
    fig.update_layout(height=720, margin={"t": 60, "b": 30, "l": 30, "r": 10},
                      title=f"Pruning ratio {run.ratio:.2f}: polytopes normalised (centred, unit circumradius)",
                      legend={"orientation": "h", "y": -0.08})
    return fig


def attack_input_figure(
    net: ShallowReluNet, net_tilde: ShallowReluNet | None, x0: np.ndarray, x_adv: np.ndarray | None,
    box: tuple[float, float, float, float], X: np.ndarray | None = None, y: np.ndarray | None = None,
    x_pgd: np.ndarray | None = None, title: str | None = None,
) -> go.Figure:
    """Input space before and after the tropical attack.

    Black: the original boundary; purple: the boundary of the net with the perturbed weights A~
    (moved across x0); x0, x0 + eta and, if given, the PGD point.
    """
    nets = {"original": net}
    if net_tilde is not None:
        nets["attacked (A~) boundary"] = net_tilde
    fig = boundaries_figure(nets, box, X, y, title=title)
    fig.data[-1].line.dash = "dash" if net_tilde is not None else None
    fig.add_trace(go.Scatter(x=[x0[0]], y=[x0[1]], mode="markers", name="x₀",
                             marker={"size": 14, "color": "black", "symbol": "x"}))
    if x_adv is not None:
        fig.add_trace(go.Scatter(x=[x0[0], x_adv[0]], y=[x0[1], x_adv[1]], mode="lines+markers", name="x₀ + η (tropical)",
                                 marker={"size": [1, 12], "color": METHOD_COLORS["attacked"], "symbol": "star"},
                                 line={"color": METHOD_COLORS["attacked"]}))
    if x_pgd is not None:
        fig.add_trace(go.Scatter(x=[x0[0], x_pgd[0]], y=[x0[1], x_pgd[1]], mode="lines+markers", name="PGD point",
                                 marker={"size": [1, 11], "color": "#8c564b", "symbol": "diamond"},
                                 line={"color": "#8c564b", "dash": "dot"}))
    return fig


def objective_figure(history: list[float] | np.ndarray, title: str = "Tropical objective per half-step") -> go.Figure:
    """The pruning objective F(A~, B~) after every half-step (it never increases)."""
    h = np.asarray(history, dtype=float)
    fig = go.Figure(go.Scatter(x=np.arange(len(h)) / 2, y=h, mode="lines+markers", marker={"size": 3},
                               line={"color": METHOD_COLORS["tropical"]}))
    fig.update_layout(title=title, height=260, margin={"t": 40, "b": 30, "l": 40, "r": 10},
                      xaxis_title="iteration", yaxis_title="F(A~, B~)")
    return fig


def digits_attack_figure(x0: np.ndarray, x_adv: np.ndarray | None, x_pgd: np.ndarray | None,
                         labels: dict[str, int | None], side: int = 8) -> go.Figure:
    """An 8 x 8 digit, the tropical perturbation η, the tropical adversarial image and the PGD image.

    ``labels`` gives the network's class for "x0", "tropical" and "pgd" (None if that attack failed).
    """
    panels = [("x₀", x0)]
    if x_adv is not None:
        panels += [("η = x_adv − x₀", x_adv - x0), ("x₀ + η (tropical)", x_adv)]
    if x_pgd is not None:
        panels.append(("PGD image", x_pgd))
    titles = []
    for name, _ in panels:
        key = "x0" if name == "x₀" else ("tropical" if "tropical" in name else ("pgd" if "PGD" in name else None))
        lab = labels.get(key) if key else None
        titles.append(f"{name}" + (f": class {lab}" if lab is not None else ""))
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=titles, horizontal_spacing=0.05)
    for col, (name, img) in enumerate(panels, start=1):
        im = np.asarray(img).reshape(side, side)
        signed = name.startswith("η")
        lim = float(np.abs(im).max()) or 1.0
        fig.add_trace(go.Heatmap(z=im[::-1], colorscale="RdBu" if signed else "Greys",
                                 zmin=-lim if signed else 0.0, zmax=lim if signed else 1.0,
                                 reversescale=not signed, showscale=False), row=1, col=col)
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    fig.update_layout(height=420, margin={"t": 50, "b": 10, "l": 10, "r": 10})
    return fig
