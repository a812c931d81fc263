"""Plotly figures for the tropical geometry page (pure functions: data in, figure out).

Colours are shared across panels: class i / Z_G1 red, class j / Z_G2 blue, points shared by
both zonotopes purple, 𝒯(R) black, the decision boundary B green.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "CLASS_COLORS",
    "subscript",
    "input_space_figure",
    "dual_space_figure",
    "lifted_figure",
    "projection_figure",
    "training_figure",
    "training_replay_figure",
    "MAX_REGION_MARKERS",
    "MAX_DATA_POINTS",
]

#: Above this many linear regions the input view draws no per-region polygons and markers (the neuron
#: lines already show the cells): the figure stays small enough to send and draw quickly.
MAX_REGION_MARKERS = 3000
#: Data points drawn per figure (a seeded subsample beyond this; the eye cannot tell more apart).
MAX_DATA_POINTS = 1500


def _decimate(X: np.ndarray, y: np.ndarray | None, limit: int = MAX_DATA_POINTS) -> tuple:
    if len(X) <= limit:
        return X, y
    idx = np.sort(np.random.default_rng(0).choice(len(X), limit, replace=False))
    return X[idx], (None if y is None else np.asarray(y)[idx])

CLASS_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
TAG_COLORS = {1: "#d62728", 2: "#1f77b4", 3: "#9467bd"}
BOUNDARY_COLOR = "#00a651"


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _polylines(polys: list) -> tuple[np.ndarray, np.ndarray]:
    """x, y arrays of closed polygons separated by NaN (one trace for many polygons).

    Numpy arrays (not lists) because plotly validates lists element by element (slow).
    """
    parts = []
    gap = np.full((1, 2), np.nan)
    for P in polys:
        P = np.asarray(P, dtype=float)
        if len(P) == 0:
            continue
        parts += [P, P[:1], gap]
    if not parts:
        return np.zeros(0), np.zeros(0)
    Q = np.concatenate(parts, axis=0)
    return Q[:, 0], Q[:, 1]


def subscript(n: int) -> str:
    """An index as Unicode subscript digits (f₀, f₁₂), as the page's prose writes them."""
    return str(int(n)).translate(str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋"))


def _segments_xy(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x, y arrays of segments (n, 2, 2) separated by NaN."""
    S = np.asarray(S, dtype=float).reshape(-1, 2, 2)
    n = len(S)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    xs = np.column_stack([S[:, 0, 0], S[:, 1, 0], np.full(n, np.nan)]).reshape(-1)
    ys = np.column_stack([S[:, 0, 1], S[:, 1, 1], np.full(n, np.nan)]).reshape(-1)
    return xs, ys


def _pattern_str(row: np.ndarray, limit: int = 24) -> str:
    s = "".join("1" if b else "0" for b in row[:limit])
    return s + ("…" if len(row) > limit else "")


def input_space_figure(
    geo: Any,
    net: Any,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    highlight_region: Any = None,
    show_regions: bool = True,
    show_neurons: bool = True,
    show_T: bool = True,
    show_boundary: bool = True,
    title: str | None = None,
) -> go.Figure:
    """Input space: data, neuron lines, linear regions coloured by class, 𝒯(R) and B.

    ``geo`` is a ``robustcore.tropical.PairGeometry``; ``net`` the ShallowReluNet it came from.
    Region centroids carry the hover text (activation pattern, dual vertex) and customdata =
    region index, so a page can link a selected region to its dual vertex. ``highlight_region``
    is one region index or a list of them.
    """
    xmin, xmax, ymin, ymax = geo.box
    fig = go.Figure()
    R = geo.regions
    if show_regions and len(R) > MAX_REGION_MARKERS:
        show_regions = False
        fig.add_annotation(text=f"{len(R):,} linear regions: drawn by their neuron lines only", showarrow=False,
                           xref="paper", yref="paper", x=0.0, y=1.0, xanchor="left", yanchor="bottom",
                           font=dict(size=11, color="#555"))
    if show_regions and len(R):
        cls = net.predict(R.centroids)
        for c in range(net.k):
            sel = np.flatnonzero(cls == c)
            if sel.size == 0:
                continue
            xs, ys = _polylines([R.polygon(r) for r in sel])
            many = net.k > 4  # one legend entry for all classes: a 10-class legend would dwarf the plot
            fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", line=dict(width=0.5, color="rgba(80,80,80,0.35)"),
                                     fillcolor=_rgba(CLASS_COLORS[c % 10], 0.13),
                                     name="regions (colour = argmax class)" if many else f"regions: argmax = class {c}",
                                     showlegend=bool(not many or c == int(cls.min())),
                                     hoverinfo="skip", legendgroup="regions"))
        dual = geo.sub.points[geo.region_dual]
        side = geo.region_side
        who = np.where(side > 0, f"H{geo.i}+Q{geo.j} (Z₁)", np.where(side < 0, f"H{geo.j}+Q{geo.i} (Z₂)", "tie"))
        pats = np.array([_pattern_str(row) for row in R.patterns], dtype=object)
        custom = np.column_stack([np.arange(len(R)), dual, geo.region_dual])
        fig.add_trace(go.Scatter(
            x=R.centroids[:, 0], y=R.centroids[:, 1], mode="markers", marker=dict(size=6, color="rgba(60,60,60,0.25)"),
            customdata=custom, text=pats, hovertext=who.astype(object),
            hovertemplate="region %{customdata[0]:.0f}<br>pattern σ = %{text}<br>R attained by %{hovertext}"
                          "<br>dual vertex (%{customdata[1]:.3g}, %{customdata[2]:.3g})<extra></extra>",
            name="region (hover / select)"))
    if show_neurons:
        segs = []
        for a, c in zip(net.A, net.c1):
            if np.linalg.norm(a) == 0:
                continue
            # the line a.x + c = 0, drawn long enough to cross the box
            x0 = -c * a / (a @ a)
            u = np.array([-a[1], a[0]]) / np.linalg.norm(a)
            L = 4 * max(xmax - xmin, ymax - ymin) + np.linalg.norm(x0)
            segs.append([x0 - L * u, x0 + L * u])
        xs, ys = _segments_xy(np.array(segs))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="gray", dash="dash", width=1),
                                 name="neuron lines Aₗx + c₁,ₗ = 0", hoverinfo="skip"))
    if show_T and len(geo.T_segments):
        xs, ys = _segments_xy(geo.T_segments)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=1.6),
                                 name="𝒯(R): tropical hypersurface", hoverinfo="skip"))
    if show_boundary and len(geo.B_dual):
        xs, ys = _segments_xy(geo.B_dual)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=BOUNDARY_COLOR, width=4),
                                 name=f"decision boundary f{subscript(geo.i)} = f{subscript(geo.j)}", hoverinfo="skip"))
    for P in geo.ties:
        xs, ys = _polylines([P])
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", fillcolor=_rgba(BOUNDARY_COLOR, 0.3),
                                 line=dict(color=BOUNDARY_COLOR), name=f"tie region f{subscript(geo.i)} = f{subscript(geo.j)}", hoverinfo="skip"))
    if X is not None and len(X):
        X, y = _decimate(np.asarray(X), y)
        yy = np.zeros(len(X), dtype=int) if y is None else np.asarray(y, dtype=int)
        labels = np.unique(yy)
        many = len(labels) > 4
        for c in labels:
            m = yy == c
            fig.add_trace(go.Scatter(x=X[m, 0], y=X[m, 1], mode="markers",
                                     name="data (colour = class)" if many else f"data: class {c}",
                                     legendgroup="data", showlegend=bool(not many or c == labels[0]),
                                     marker=dict(size=5, color=CLASS_COLORS[c % 10], line=dict(width=0.5, color="white")),
                                     hovertemplate=f"class {c}<extra></extra>"))
    hl = [] if highlight_region is None else [int(r) for r in np.atleast_1d(highlight_region) if 0 <= int(r) < len(R)]
    if hl:
        xs, ys = _polylines([R.polygon(r) for r in hl])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor="rgba(255,215,0,0.45)",
                                 line=dict(color="goldenrod", width=3),
                                 name=f"selected region{'s' if len(hl) > 1 else ''} {', '.join(map(str, hl[:6]))}",
                                 hoverinfo="skip"))
    fig.update_layout(
        title=title or f"Input space: regions, 𝒯(R) and 𝒟 = {{f{subscript(geo.i)} = f{subscript(geo.j)}}}",
        xaxis=dict(range=[xmin, xmax], title="x₁", constrain="domain"),
        yaxis=dict(range=[ymin, ymax], title="x₂", scaleanchor="x", scaleratio=1),
        height=560, margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0.0),
        clickmode="event+select",
    )
    return fig


def dual_space_figure(geo: Any, highlight_vertex: int | None = None, show_subdivision: bool = True,
                      title: str | None = None, highlight_region: int | None = None) -> go.Figure:
    """Dual space: Z_G1 (red), Z_G2 (blue), their hull, delta(R) and the bridging edges.

    Markers on the upper vertices (one per linear region of R) carry customdata = point index
    into ``geo.sub.points``. ``highlight_region`` also marks that region's two exponents (the
    monomials of H_i + Q_j in Z_G1 and of H_j + Q_i in Z_G2 there; R takes the larger).
    """
    fig = go.Figure()
    sub = geo.sub
    for Z, name, col in ((geo.Z1, "Z₁", TAG_COLORS[1]), (geo.Z2, "Z₂", TAG_COLORS[2])):
        xs, ys = _polylines([Z])
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=_rgba(col, 0.12), mode="lines+markers",
                                 line=dict(color=col, width=2), marker=dict(size=4), name=f"{name} ({len(Z)} vertices)",
                                 hoverinfo="skip"))
    xs, ys = _polylines([geo.hull])
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=1, dash="dot"),
                             name="conv(Z₁ ∪ Z₂)", hoverinfo="skip"))
    if show_subdivision and len(sub.edges):
        E = sub.points[sub.edges]
        xs, ys = _segments_xy(E)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="rgba(90,90,90,0.6)", width=1),
                                 name="δ(R): dual subdivision", hoverinfo="skip"))
    br = sub.bridging_edges()
    if br.size:
        xs, ys = _segments_xy(sub.points[sub.edges[br]])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=BOUNDARY_COLOR, width=4),
                                 name="bridging edges (dual to 𝒟)", hoverinfo="skip"))
    up = sub.upper
    if up.size > MAX_REGION_MARKERS:
        fig.add_annotation(text=f"{up.size:,} upper vertices: markers omitted", showarrow=False, xref="paper",
                           yref="paper", x=0.0, y=1.0, xanchor="left", yanchor="bottom", font=dict(size=11, color="#555"))
        up = up[:0]
    if up.size:
        tags = sub.tags[up]
        names = np.array(["", "Z₁", "Z₂", "both"], dtype=object)
        tagname = names[np.clip(tags, 0, 3)]
        custom = np.column_stack([up, sub.heights[up]])
        cols = np.array([TAG_COLORS.get(int(t), "#444") for t in (1, 2, 3)], dtype=object)[np.clip(tags, 1, 3) - 1]
        fig.add_trace(go.Scatter(x=sub.points[up, 0], y=sub.points[up, 1], mode="markers",
                                 marker=dict(size=6, color=cols, line=dict(width=0.5, color="white")),
                                 customdata=custom, text=tagname,
                                 hovertemplate="point %{customdata[0]:.0f}<br>exponent (%{x:.3g}, %{y:.3g})"
                                               "<br>height (coefficient) %{customdata[1]:.3g}<br>vertex of %{text}<extra></extra>",
                                 name="upper vertices (linear regions of R)"))
    if highlight_region is not None and 0 <= highlight_region < len(geo.region_points):
        pr = geo.region_points[highlight_region]
        for q, (nm, col) in enumerate((("Z₁", TAG_COLORS[1]), ("Z₂", TAG_COLORS[2]))):
            fig.add_trace(go.Scatter(x=[pr[q, 0]], y=[pr[q, 1]], mode="markers", hoverinfo="skip",
                                     name=f"region {highlight_region}: its exponent in {nm}",
                                     marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(width=2.5, color=col))))
    if highlight_vertex is not None and 0 <= highlight_vertex < len(sub.points):
        v = sub.points[highlight_vertex]
        fig.add_trace(go.Scatter(x=[v[0]], y=[v[1]], mode="markers", name=f"selected dual vertex {highlight_vertex}",
                                 marker=dict(size=18, color="rgba(255,215,0,0.6)", line=dict(width=3, color="goldenrod")),
                                 hoverinfo="skip"))
    fig.update_layout(
        title=title or "Dual space: δ(R) = π(upper faces of conv(P₁ ∪ P₂))",
        xaxis=dict(title="exponent e₁"), yaxis=dict(title="exponent e₂", scaleanchor="x", scaleratio=1),
        height=560, margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0.0),
        clickmode="event+select",
    )
    return fig


def lifted_figure(geo: Any, zonos: list | None = None, title: str | None = None) -> go.Figure:
    """3-D lifted view: the points (e, h) of the lifted zonotopes and the upper hull (Mesh3d).

    h is the monomial coefficient; the upper faces projected down are delta(R).
    """
    sub = geo.sub
    P = np.column_stack([sub.points, sub.heights])
    fig = go.Figure()
    if sub.cells:
        tri = []
        for cell in sub.cells:
            for t in range(1, len(cell) - 1):
                tri.append((cell[0], cell[t], cell[t + 1]))
        T = np.array(tri)
        fig.add_trace(go.Mesh3d(x=P[:, 0], y=P[:, 1], z=P[:, 2], i=T[:, 0], j=T[:, 1], k=T[:, 2], opacity=0.55,
                                color="lightsteelblue", flatshading=True, name="upper hull", hoverinfo="skip"))
        E = P[sub.edges]
        n = len(E)
        xs = np.column_stack([E[:, 0, 0], E[:, 1, 0], np.full(n, np.nan)]).reshape(-1)
        ys = np.column_stack([E[:, 0, 1], E[:, 1, 1], np.full(n, np.nan)]).reshape(-1)
        zs = np.column_stack([E[:, 0, 2], E[:, 1, 2], np.full(n, np.nan)]).reshape(-1)
        fig.add_trace(go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", line=dict(color="#333", width=2),
                                   name="upper edges", hoverinfo="skip"))
    for t, name in ((1, "P₁ (lifted Z₁)"), (2, "P₂ (lifted Z₂)"), (3, "shared")):
        m = sub.tags == t
        if m.any():
            fig.add_trace(go.Scatter3d(x=P[m, 0], y=P[m, 1], z=P[m, 2], mode="markers", name=name,
                                       marker=dict(size=3, color=TAG_COLORS[t])))
    fig.update_layout(title=title or "Lifted zonotopes P₁, P₂ ⊂ ℝ³ and their upper hull",
                      scene=dict(xaxis_title="e₁", yaxis_title="e₂", zaxis_title="height c"),
                      height=520, margin=dict(l=0, r=0, t=50, b=0))
    return fig


def projection_figure(Z1: np.ndarray, Z2: np.ndarray, labels: tuple = ("Z₁", "Z₂"), title: str | None = None) -> go.Figure:
    """Projected zonotopes (vertices already projected): 2-D polygons, or 3-D point clouds + hull."""
    fig = go.Figure()
    dim = Z1.shape[1]
    for Z, name, col in ((Z1, labels[0], TAG_COLORS[1]), (Z2, labels[1], TAG_COLORS[2])):
        if dim == 2:
            xs, ys = _polylines([Z])
            fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=_rgba(col, 0.15), line=dict(color=col),
                                     name=f"{name} ({len(Z)} vertices)"))
        else:
            fig.add_trace(go.Mesh3d(x=Z[:, 0], y=Z[:, 1], z=Z[:, 2], alphahull=0, opacity=0.3, color=col, name=name))
            fig.add_trace(go.Scatter3d(x=Z[:, 0], y=Z[:, 1], z=Z[:, 2], mode="markers", marker=dict(size=2, color=col),
                                       name=f"{name} ({len(Z)} vertices)"))
    if dim == 2:
        fig.update_layout(yaxis=dict(scaleanchor="x", scaleratio=1), xaxis_title="u₁", yaxis_title="u₂")
    fig.update_layout(title=title or "Projected zonotopes", height=480, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def training_figure(history: list, current_epoch: int | None = None) -> go.Figure:
    """Loss and training accuracy per epoch, with the selected epoch marked."""
    ep = [h.get("epoch", k + 1) for k, h in enumerate(history)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ep, y=[h.get("loss") for h in history], name="loss", mode="lines"))
    fig.add_trace(go.Scatter(x=ep, y=[h.get("train_acc") for h in history], name="train accuracy", mode="lines",
                             yaxis="y2"))
    if current_epoch is not None:
        fig.add_vline(x=current_epoch, line=dict(color="goldenrod", width=2))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="epoch",
                      yaxis=dict(title="loss"), yaxis2=dict(title="accuracy", overlaying="y", side="right", range=[0, 1],
                                                            tickvals=[0, 0.25, 0.5, 0.75, 1.0]),
                      legend=dict(orientation="h", yanchor="top", y=-0.18, x=0.0))
    return fig


def training_replay_figure(boundaries: list, epochs: list, X: np.ndarray, y: np.ndarray | None,
                           box: tuple) -> go.Figure:
    """The decision boundary after each stored epoch as an animation with a play button (client side).

    ``boundaries`` holds one (n_e, 2, 2) segment array per snapshot, ``epochs`` the epoch of each.
    """
    X, y = _decimate(np.asarray(X), y)
    yy = np.zeros(len(X), dtype=int) if y is None else np.asarray(y, dtype=int)
    fig = go.Figure()
    for c in np.unique(yy):
        m = yy == c
        fig.add_trace(go.Scatter(x=X[m, 0], y=X[m, 1], mode="markers", name=f"class {c}", hoverinfo="skip",
                                 marker=dict(size=5, color=CLASS_COLORS[c % 10], line=dict(width=0.5, color="white"))))
    n_data = len(fig.data)
    xs, ys = _segments_xy(boundaries[-1])
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=BOUNDARY_COLOR, width=3),
                             name="decision boundary", hoverinfo="skip"))
    if len(epochs) > 21:  # the eye needs no more frames; each frame is sent to the browser
        keep = np.unique(np.linspace(0, len(epochs) - 1, 21).round().astype(int))
        epochs, boundaries = [epochs[k] for k in keep], [boundaries[k] for k in keep]
    # One epoch control on the page: the Streamlit slider above chooses the snapshot the geometry shows; this
    # figure only plays the stored epochs client side, naming the epoch in its title (no second slider).
    title = "Replay of training: epoch {}"
    frames = []
    for e, S in zip(epochs, boundaries):
        xs, ys = _segments_xy(np.round(np.asarray(S, dtype=float), 4))
        frames.append(go.Frame(data=[go.Scatter(x=xs, y=ys)], traces=[n_data], name=str(e),
                               layout=dict(title=dict(text=title.format(e)))))
    fig.frames = frames
    fig.update_layout(
        title=dict(text=title.format(epochs[-1]), y=0.98, yanchor="top"),
        xaxis=dict(range=[box[0], box[1]], title="x₁", constrain="domain"),
        yaxis=dict(range=[box[2], box[3]], title="x₂", scaleanchor="x", scaleratio=1),
        height=400, margin=dict(l=10, r=10, t=80, b=10), showlegend=False,
        # the buttons sit in the top margin, right of the title's line, clear of the axes and their titles
        updatemenus=[dict(type="buttons", direction="left", x=1.0, y=1.0, xanchor="right", yanchor="bottom",
                          pad=dict(b=4), showactive=False,
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=300, redraw=True), fromcurrent=False,
                                                         transition=dict(duration=0))]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])],
    )
    return fig
