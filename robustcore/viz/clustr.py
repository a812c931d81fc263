"""Plotly figures for the clustering-certificates page (pure functions: arrays in, figure out).

One colour per class (shared by points, centres and cells); the nearest-centre decision boundary
(Voronoi edges between centres of different classes) is black, edges inside a class light grey;
the certified feature ball is a green circle; attack paths are orange. Centre labels are annotations
(drawn above every trace, on a white halo) so the points never hide them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "CLASS_COLORS",
    "embedding_figure",
    "digit_figure",
    "radius_histogram",
    "lipschitz_figure",
]

CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf"]
CERT_COLOR = "#00a651"
ATTACK_COLOR = "#ff6600"
# Okabe-Ito orange, blue, bluish green, reddish purple: told apart under the common colour-vision
# deficiencies and in greyscale (orange is light, blue dark)
HIST_COLORS = ["#E69F00", "#0072B2", "#009E73", "#CC79A7"]


def _color(c: int) -> str:
    return CLASS_COLORS[int(c) % len(CLASS_COLORS)]


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _box(points: np.ndarray, pad: float = 0.08) -> tuple[float, float, float, float]:
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    # a square box, so that equal axis scales (round circles) leave no unshaded margin
    mid, half = (lo + hi) / 2, (hi - lo).max() / 2
    lo, hi = mid - half, mid + half
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def embedding_figure(
    features: np.ndarray,
    labels: np.ndarray,
    centers: np.ndarray,
    center_labels: np.ndarray,
    predictions: np.ndarray | None = None,
    selected: int | None = None,
    radius: float | None = None,
    exact_radius: float | None = None,
    path: np.ndarray | None = None,
    path_flipped: bool = False,
    rival_point: np.ndarray | None = None,
    nearest_centers: tuple[int, int] | None = None,
    show_cells: bool = True,
    title: str = "2-D embedding: centres, Voronoi cells and test points",
) -> go.Figure:
    """The 2-D embedding with class regions, Voronoi edges, centres, points and one certificate.

    Parameters
    ----------
    features : (n, 2) embeddings phi(x) of the test points; labels : (n,) their true classes.
    centers : (M, 2) cluster centres; center_labels : (M,) their classes.
    predictions : (n,) nearest-centre classes (misclassified points are drawn with an x).
    selected : index of the image whose certificate is drawn.
    radius : closed-form feature radius R_f (circle, dashed); exact_radius : exact radius (solid).
    path : (T, 2) attack path in feature space (starting at the selected point).
    path_flipped : whether the path's end changed the decision (drawn red then).
    rival_point : (2,) nearest point of another class's region (where the exact circle touches it).
    nearest_centers : (i, j) indices of the nearest centre and of the rival centre of the closed form.
    show_cells : shade each point of the plane by its nearest-centre class.
    """
    F = np.asarray(features, dtype=np.float64)
    C = np.asarray(centers, dtype=np.float64)
    if F.ndim != 2 or F.shape[1] != 2 or C.ndim != 2 or C.shape[1] != 2:
        raise ValueError("embedding_figure draws 2-D features and centres only ((n, 2) and (M, 2)).")
    labels = np.asarray(labels)
    center_labels = np.asarray(center_labels)
    pts = [F, C] + ([np.asarray(path)] if path is not None else [])
    box = _box(np.concatenate(pts))
    fig = go.Figure()
    if show_cells:
        # 120 x 120 cells: the exact boundaries are drawn as lines on top, so the shading needs no finer grid
        xs = np.linspace(box[0], box[1], 120)
        ys = np.linspace(box[2], box[3], 120)
        P = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
        d = ((P[:, None, :] - C[None]) ** 2).sum(-1)
        cls = center_labels[np.argmin(d, axis=1)].reshape(len(ys), len(xs))
        k = max(int(center_labels.max()) + 1, 2)
        scale = []
        for c in range(k):
            scale += [[c / k, _rgba(_color(c), 0.13)], [(c + 1) / k, _rgba(_color(c), 0.13)]]
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=cls, zmin=-0.5, zmax=k - 0.5, colorscale=scale, showscale=False,
                                 hoverinfo="skip", name="class regions"))
        from robustcore.clustr.voronoi import voronoi_segments

        inner_x: list = []
        inner_y: list = []
        bd_x: list = []
        bd_y: list = []
        for p0, p1, i, j in voronoi_segments(C, box):
            tx, ty = (bd_x, bd_y) if center_labels[i] != center_labels[j] else (inner_x, inner_y)
            tx += [p0[0], p1[0], None]
            ty += [p0[1], p1[1], None]
        fig.add_trace(go.Scatter(x=inner_x, y=inner_y, mode="lines", line=dict(color="#bbbbbb", width=1),
                                 name="Voronoi edge (same class)", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=bd_x, y=bd_y, mode="lines", line=dict(color="black", width=2),
                                 name="decision boundary", hoverinfo="skip"))
    wrong = np.zeros(len(F), bool) if predictions is None else np.asarray(predictions) != labels
    F32 = F.astype(np.float32)  # drawn points: float32 is finer than a pixel and halves what is sent
    for c in np.unique(labels):
        m = (labels == c) & ~wrong
        fig.add_trace(go.Scatter(x=F32[m, 0], y=F32[m, 1], mode="markers", name=f"digit {c}", legendgroup=f"c{c}",
                                 marker=dict(color=_color(c), size=6, opacity=0.75),
                                 customdata=np.nonzero(m)[0], hovertemplate="image %{customdata}<extra>digit " + str(c) + "</extra>"))
    if wrong.any():
        fig.add_trace(go.Scatter(x=F32[wrong, 0], y=F32[wrong, 1], mode="markers", name="misclassified",
                                 marker=dict(color=[_color(c) for c in labels[wrong]], size=9, symbol="x"),
                                 customdata=np.nonzero(wrong)[0], hovertemplate="image %{customdata} (misclassified)<extra></extra>"))
    fig.add_trace(go.Scatter(x=C[:, 0], y=C[:, 1], mode="markers", name="centres",
                             customdata=[int(c) for c in center_labels],
                             marker=dict(color=[_color(c) for c in center_labels], size=15, symbol="star",
                                         line=dict(color="black", width=1)),
                             hovertemplate="centre of class %{customdata}<extra></extra>"))
    # class labels as annotations: plotly draws them above every trace (a text trace sits in the trace
    # order, under later points), on a white halo so they stay readable over points and shading
    for (cx, cy), c in zip(C, center_labels):
        fig.add_annotation(x=float(cx), y=float(cy), text=f"<b>{int(c)}</b>", showarrow=False, yshift=15,
                           font=dict(size=13, color="black"), bgcolor="rgba(255,255,255,0.85)",
                           bordercolor=_color(c), borderwidth=1.5, borderpad=1)
    if selected is not None:
        r0 = F[selected]
        theta = np.linspace(0, 2 * np.pi, 181)
        if radius is not None and radius > 0:
            fig.add_trace(go.Scatter(x=r0[0] + radius * np.cos(theta), y=r0[1] + radius * np.sin(theta), mode="lines",
                                     line=dict(color=CERT_COLOR, width=2, dash="dash"), name="closed-form radius R<sub>f</sub>"))
        if exact_radius is not None and exact_radius > 0 and (radius is None or abs(exact_radius - radius) > 1e-9 * max(radius, 1e-12)):
            fig.add_trace(go.Scatter(x=r0[0] + exact_radius * np.cos(theta), y=r0[1] + exact_radius * np.sin(theta),
                                     mode="lines", line=dict(color=CERT_COLOR, width=3), name="exact radius R*"))
        if rival_point is not None:
            fig.add_trace(go.Scatter(x=[r0[0], rival_point[0]], y=[r0[1], rival_point[1]], mode="lines+markers",
                                     line=dict(color=CERT_COLOR, width=1, dash="dot"), marker=dict(size=6, color=CERT_COLOR),
                                     name="nearest boundary point"))
        if nearest_centers is not None:
            for k, (cidx, name, dash) in enumerate(zip(nearest_centers, ("nearest centre μ<sub>i</sub>", "rival centre μ<sub>j</sub>"),
                                                      ("solid", "dash"))):
                mu = C[int(cidx)]
                fig.add_trace(go.Scatter(x=[r0[0], mu[0]], y=[r0[1], mu[1]], mode="lines", name=name,
                                         line=dict(color=_color(center_labels[int(cidx)]), width=2, dash=dash)))
        if path is not None:
            path = np.asarray(path)
            fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers",
                                     line=dict(color="#d62728" if path_flipped else ATTACK_COLOR, width=2),
                                     marker=dict(size=4), name="PGD path (feature space)"))
        fig.add_trace(go.Scatter(x=[r0[0]], y=[r0[1]], mode="markers", name=f"image {selected}",
                                 marker=dict(color="black", size=12, symbol="circle-open", line=dict(width=3))))
    fig.update_layout(title=title, xaxis_title="feature 1", yaxis_title="feature 2", height=820,
                      legend=dict(orientation="h", yanchor="top", y=-0.11, xanchor="left", x=0),
                      margin=dict(l=50, r=10, t=50, b=40), clickmode="event+select")
    # a square plot area with equal scales (circles look round), legend below so it never covers the axes
    fig.update_xaxes(range=[box[0], box[1]], constrain="domain")
    fig.update_yaxes(range=[box[2], box[3]], scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def digit_figure(image: np.ndarray, title: str = "", adversarial: np.ndarray | None = None) -> go.Figure:
    """The 8x8 image (and the attacked image beside it when given), grey scale, pixels in [0, 1]."""
    img = np.asarray(image, dtype=np.float64).reshape(-1, np.asarray(image).shape[-1])
    panels = [img] if adversarial is None else [img, np.asarray(adversarial, dtype=np.float64).reshape(img.shape)]
    z = np.concatenate([np.pad(p, ((0, 0), (0, 1)), constant_values=np.nan) for p in panels], axis=1)[:, :-1]
    # float32: pixels need no more digits, and the figure sent to the browser halves
    fig = go.Figure(go.Heatmap(z=z[::-1].astype(np.float32), colorscale="gray_r", zmin=0, zmax=1, showscale=False,
                               hovertemplate="pixel %{z:.3f}<extra></extra>"))
    fig.update_layout(title=dict(text=title, font=dict(size=13)), height=260, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    return fig


def radius_histogram(radii: dict[str, np.ndarray], title: str = "Certified input radius (ℓ2) over the test set",
                     xaxis: str = "certified input radius (ℓ2)", bins: int = 40) -> go.Figure:
    """Histograms of certified radii on shared bins, one per named model/rule.

    The first series is drawn as filled bars, the others as step outlines over them, each in its own
    colour-blind-safe colour: series that nearly coincide (a tight bound beside its exact value) stay
    visible both. Non-finite values are left out (the caller says how many).

    Parameters
    ----------
    radii : legend name -> (n,) radii; at most four series.
    title, xaxis : figure and x-axis titles.
    bins : number of equal-width bins over the common finite range.
    """
    if not radii or len(radii) > len(HIST_COLORS):
        raise ValueError(f"radius_histogram draws 1 to {len(HIST_COLORS)} series; got {len(radii)}.")
    arrays = {name: np.asarray(r, dtype=np.float64).ravel() for name, r in radii.items()}
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays.values()])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:  # all equal: one bin around the value
        hi = lo + max(abs(lo), 1.0) * 1e-3
    edges = np.linspace(lo, hi, int(bins) + 1)
    mids, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    fig = go.Figure()
    for k, (name, a) in enumerate(arrays.items()):
        counts, _ = np.histogram(a[np.isfinite(a)], bins=edges)
        hover = "%{customdata[0]:.4g} to %{customdata[1]:.4g}: %{y} images<extra>" + name + "</extra>"
        cd = np.stack([edges[:-1], edges[1:]], axis=1)
        if k == 0:
            fig.add_trace(go.Bar(x=mids, y=counts, width=width, name=name, customdata=cd, hovertemplate=hover,
                                 marker=dict(color=HIST_COLORS[0], line=dict(width=0)), opacity=0.85))
        else:
            # a closed step outline (down to 0 at both ends), so a bar hidden by the filled series still shows
            xs = np.concatenate([[edges[0]], edges, [edges[-1]]])
            ys = np.concatenate([[0], counts, [counts[-1], 0]])
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=HIST_COLORS[k], width=2.5, shape="hv",
                                                                           dash=("solid", "dash", "dot")[(k - 1) % 3]),
                                     name=name, hoverinfo="skip"))
    fig.update_layout(barmode="overlay", bargap=0, title=title, xaxis_title=xaxis, yaxis_title="images", height=380,
                      legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0),
                      margin=dict(l=60, r=20, t=50, b=90))
    fig.update_xaxes(range=[edges[0] - width, edges[-1] + width])
    return fig


def lipschitz_figure(names: Sequence[str], norms: Sequence[float], lower: float | None = None) -> go.Figure:
    """Per-layer spectral norms (log scale) and, as lines, their product and a Jacobian lower bound."""
    names = list(names)
    fig = go.Figure(go.Bar(x=names, y=list(norms), name="layer spectral norm"))
    prod = float(np.prod(norms))
    # the two reference levels as legend entries (annotations on lines collide when the levels are close)
    fig.add_trace(go.Scatter(x=names, y=[prod] * len(names), mode="lines", line=dict(color="#d62728", dash="dash"),
                             name=f"product of the norms (upper bound) {prod:.3g}"))
    if lower is not None:
        fig.add_trace(go.Scatter(x=names, y=[lower] * len(names), mode="lines", line=dict(color=CERT_COLOR, dash="dot"),
                                 name=f"max Jacobian norm (lower bound) {lower:.3g}"))
    vals = [v for v in [*norms, prod, lower] if v is not None and v > 0]
    # whole decades, so the axis always carries decade ticks at round values
    lo, hi = float(np.floor(np.log10(min(vals)))), float(np.ceil(np.log10(max(vals))))
    hi = hi + 1 if hi <= lo else hi
    fig.update_layout(title="Lipschitz constant of the embedding", yaxis_type="log", height=420,
                      yaxis_title="ℓ2 operator norm", yaxis_range=[lo, hi],
                      legend=dict(orientation="h", yanchor="top", y=-0.32, xanchor="left", x=0),
                      margin=dict(l=60, r=20, t=50, b=110))
    fig.update_xaxes(type="category", title="layer")  # layer names are categories, never numbers
    from robustcore.viz.style import decade_ticks

    ticks = decade_ticks(10**lo, 10**hi)
    fig.update_yaxes(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return fig
