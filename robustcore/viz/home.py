"""Thumbnails for the home page: one small picture per research line, each computed by the library itself.

Every picture is a real result at a toy size (milliseconds), not a drawing: the zonotopes of a random
Affine-ReLU-Affine net, a Gabor kernel, Cohen's radius as a function of p_A, a nearest-centre certificate,
and the total complexity of SGD against the batch size with its minimiser.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from scipy.stats import norm

__all__ = ["THUMBNAILS", "thumbnail"]

_H = 190


def _frame(fig: go.Figure, x_title: str = "", y_title: str = "") -> go.Figure:
    fig.update_layout(height=_H, margin=dict(l=52, r=10, t=10, b=48), showlegend=False,
                      plot_bgcolor="white", font=dict(size=11))
    # automargin + standoff keep axis titles clear of the tick labels
    fig.update_xaxes(title=dict(text=x_title, standoff=6), showgrid=False, zeroline=False, ticks="outside",
                     automargin=True)
    fig.update_yaxes(title=dict(text=y_title, standoff=6), showgrid=False, zeroline=False, ticks="outside",
                     automargin=True)
    return fig


def _closed(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.r_[v[:, 0], v[0, 0]], np.r_[v[:, 1], v[0, 1]]


def tropical_thumbnail(seed: int = 3) -> go.Figure:
    """The zonotopes Z_G1, Z_G2 of a random 2-input, 5-unit, 2-class net and their convex hull."""
    from scipy.spatial import ConvexHull

    from robustcore.tropical import ShallowReluNet, zonotope_vertices

    rng = np.random.default_rng(seed)
    net = ShallowReluNet(rng.normal(size=(5, 2)), rng.normal(size=5), rng.normal(size=(2, 5)), rng.normal(size=2))
    g1, g2 = net.zonotope_generators(0, 1)
    z1, z2 = zonotope_vertices(g1), zonotope_vertices(g2)
    both = np.vstack([z1, z2])
    hull = both[ConvexHull(both).vertices]
    fig = go.Figure()
    for v, colour, name in ((hull, "#999999", "hull"), (z1, "#0072B2", "Z_G1"), (z2, "#D55E00", "Z_G2")):
        x, y = _closed(v)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", fill="toself", name=name, line=dict(color=colour),
                                 opacity=0.35 if name == "hull" else 0.8, hoverinfo="name"))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return _frame(fig, "exponent 1", "exponent 2")


def gabor_thumbnail() -> go.Figure:
    """A 21x21 Gabor kernel (OpenCV convention) at 30 degrees."""
    from robustcore.gabor import gabor_kernel

    k = gabor_kernel(21, sigma=4.0, theta=np.pi / 6, lambd=8.0, psi=0.0, gamma=0.7)
    fig = go.Figure(go.Heatmap(z=k, colorscale="RdBu", zmid=0, showscale=False, hoverinfo="skip"))
    fig = _frame(fig)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", scaleratio=1, showticklabels=False, ticks="",
                     showline=False)
    fig.update_xaxes(showticklabels=False, ticks="", showline=False)
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10))
    return fig


def certificate_thumbnail() -> go.Figure:
    """Cohen's certified radius sigma * Phi^-1(p_A) against the lower bound p_A, for three noise levels."""
    p = np.linspace(0.5, 0.9999, 200)
    fig = go.Figure()
    for sigma, colour in ((0.12, "#009E73"), (0.25, "#0072B2"), (0.5, "#D55E00")):
        fig.add_trace(go.Scatter(x=p, y=sigma * norm.ppf(p), mode="lines", line=dict(color=colour),
                                 name=f"σ = {sigma}", hovertemplate=f"σ = {sigma}: R = %{{y:.2f}}<extra></extra>"))
    fig.update_xaxes(tickvals=[0.5, 0.75, 1.0], range=[0.5, 1.0])
    fig = _frame(fig, "lower bound of p_A", "certified radius")
    fig.update_layout(showlegend=True, legend=dict(x=0.02, y=0.98, xanchor="left", yanchor="top",
                                                   bgcolor="rgba(255,255,255,0.8)", font=dict(size=10)))
    return fig


def clustering_thumbnail(seed: int = 1) -> go.Figure:
    """Three class centres in 2-D, a test point and its certified ball (the nearest-centre certificate)."""
    from robustcore.clustr import nearest_center_radius

    centres = np.array([[0.0, 0.0], [3.0, 0.5], [1.2, 2.6]])
    labels = np.array([0, 1, 2])
    z = np.array([[0.9, 0.7]])
    r = float(nearest_center_radius(z, centres, labels)[0])
    rng = np.random.default_rng(seed)
    pts = np.vstack([c + 0.45 * rng.normal(size=(15, 2)) for c in centres])
    cls = np.repeat(labels, 15)
    colours = np.array(["#0072B2", "#D55E00", "#009E73"])
    t = np.linspace(0, 2 * np.pi, 100)
    fig = go.Figure([
        go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", marker=dict(size=5, color=colours[cls], opacity=0.5),
                   hoverinfo="skip"),
        go.Scatter(x=centres[:, 0], y=centres[:, 1], mode="markers", marker=dict(size=12, symbol="x",
                   color=colours), hoverinfo="skip"),
        go.Scatter(x=z[0, 0] + r * np.cos(t), y=z[0, 1] + r * np.sin(t), mode="lines", line=dict(color="black"),
                   hovertemplate=f"certified radius {r:.2f}<extra></extra>"),
        go.Scatter(x=z[:, 0], y=z[:, 1], mode="markers", marker=dict(size=8, color="black"), hoverinfo="skip"),
    ])
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return _frame(fig, "feature 1", "feature 2")


def batchsize_thumbnail() -> go.Figure:
    """Total complexity T(tau) of SGD with tau-nice sampling on a toy problem, with its minimiser tau*."""
    from robustcore.batchsize.complexity import optimal_batch_size, total_complexity

    n, L, L_max, mu, h, eps = 1000, 1.0, 20.0, 0.01, 1.0, 1e-3
    taus = np.unique(np.round(np.logspace(0, np.log10(n), 80)).astype(int))
    T = total_complexity(taus, n, L, L_max, mu, h, eps, r0_sq=1.0) / n
    t_star = optimal_batch_size(n, L, L_max, mu, h, eps, r0_sq=1.0)
    T_star = float(total_complexity(np.array([t_star]), n, L, L_max, mu, h, eps, r0_sq=1.0)[0]) / n
    fig = go.Figure([
        go.Scatter(x=taus, y=T, mode="lines", line=dict(color="#0072B2"), hovertemplate="τ=%{x}: %{y:.2f} passes<extra></extra>"),
        go.Scatter(x=[t_star], y=[T_star], mode="markers", marker=dict(size=9, color="#D55E00"), hoverinfo="skip"),
    ])
    fig.add_annotation(x=np.log10(t_star), y=np.log10(T_star), text=f"τ* = {t_star}", showarrow=True, arrowhead=0,
                       ax=-40, ay=-30, font=dict(size=10, color="#D55E00"), bgcolor="rgba(255,255,255,0.8)")
    fig.update_xaxes(type="log", tickvals=[1, 10, 100, 1000], ticktext=["1", "10", "100", "1000"])
    fig.update_yaxes(type="log", dtick=1)
    return _frame(fig, "batch size τ", "data passes")


THUMBNAILS = {"tropical": tropical_thumbnail, "gabor": gabor_thumbnail, "certificates": certificate_thumbnail,
              "clustering": clustering_thumbnail, "batch_size": batchsize_thumbnail}


def thumbnail(line: str) -> go.Figure:
    """The home page's picture for one research line (a key of ``THUMBNAILS``)."""
    if line not in THUMBNAILS:
        raise ValueError(f"line must be one of {', '.join(THUMBNAILS)}, got {line!r}.")
    return THUMBNAILS[line]()
